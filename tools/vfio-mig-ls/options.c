// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vfio-mig-ls's options, with lib/common/cli; see options.h.
 */
#include <popt.h>
#include <stdio.h>
#include <string.h>

#include "common/cli.h"
#include "common/log.h"
#include "vfio/device-cli.h"
#include "columns.h"
#include "options.h"

enum {
	OPT_OUTPUT = 1,
	OPT_JSON,
	OPT_NOHEADINGS,
	OPT_RAW,
	OPT_BYTES,
	OPT_NO_OPEN,
};

static const struct poptOption options[] = {
	VMT_POPT_COMMON_OPTIONS,
	{ "output", 'o', POPT_ARG_STRING, NULL, OPT_OUTPUT, NULL, NULL },
	{ "json", 'J', POPT_ARG_NONE, NULL, OPT_JSON, NULL, NULL },
	{ "noheadings", 'n', POPT_ARG_NONE, NULL, OPT_NOHEADINGS, NULL, NULL },
	{ "raw", 'r', POPT_ARG_NONE, NULL, OPT_RAW, NULL, NULL },
	{ "bytes", 'b', POPT_ARG_NONE, NULL, OPT_BYTES, NULL, NULL },
	{ "no-open", '\0', POPT_ARG_NONE, NULL, OPT_NO_OPEN, NULL, NULL },
	POPT_TABLEEND
};

static void usage(void)
{
	printf(VMT_USAGE_HEADER
	       " %s [options] [DEVICE...]\n"
	       "\n"
	       "List this host's VFIO devices (or the DEVICEs named: PCI address, mdev\n"
	       "UUID, vfioN or /dev/vfio/devices/vfioN) and what each can do for migration.\n"
	       "A device in use (e.g. by a VMM) is listed as busy, never taken.\n"
	       "\n"
	       "Options:\n"
	       " -o, --output LIST         columns to show (+LIST: the default and LIST)\n"
	       " -J, --json                JSON (schema \"vfio-mig-ls/1\")\n"
	       " -n, --noheadings          no heading line\n"
	       " -r, --raw                 raw output: one space between values, no alignment\n"
	       " -b, --bytes               sizes in bytes\n"
	       "     --no-open             sysfs facts only: do not open the devices\n",
	       vmt_progname());
	printf(VMT_USAGE_COMMON_OPTIONS(27));
	printf("\nColumns:\n");
	for (int c = 0; c < LS_NCOLUMNS; c++)
		printf(" %11s  %s\n", ls_columns[c].name, ls_columns[c].help);
	printf("\nBusy devices and devices that cannot be opened are listed, not failures.\n");
	printf(VMT_USAGE_TAIL);
}

static void parse_columns(struct ls_options *o, const char *list)
{
	const char *bad;
	int bad_len;

	if (ls_parse_columns(list, o->cols, &o->ncols, LS_NCOLUMNS * 2, &bad, &bad_len) < 0)
		vmt_usage_error("invalid --output argument: '%s' (unknown column '%.*s')", list,
				bad_len, bad);
}

/* One of the options; the checks that need them all come after. */
static void take_option(struct ls_options *o, int opt, const char *arg)
{
	switch (opt) {
	case OPT_OUTPUT:
		parse_columns(o, arg);
		break;
	case OPT_JSON:
		o->json = true;
		break;
	case OPT_NOHEADINGS:
		o->no_headings = true;
		break;
	case OPT_RAW:
		o->raw = true;
		break;
	case OPT_BYTES:
		o->bytes = true;
		break;
	case OPT_NO_OPEN:
		o->no_open = true;
		break;
	}
}

void ls_options_parse(struct ls_options *o, int argc, const char **argv)
{
	const char *name;
	int opt;

	*o = (struct ls_options){ 0 };
	vmt_cli_begin(argc, argv, options);
	while ((opt = vmt_cli_next(usage)) > 0)
		take_option(o, opt, vmt_cli_arg());
	while ((name = vmt_cli_operand())) {
		if (o->nnames == LS_MAX_NAMES)
			vmt_usage_error("more than %d DEVICE arguments", LS_MAX_NAMES);
		o->names[o->nnames++] = vmt_cli_device_or_usage(name, VMT_CLI_DEVICE_NAMED);
	}
	if (o->json && o->raw)
		vmt_usage_error("--json and --raw do not go together");
	if (!o->ncols) {
		memcpy(o->cols, ls_default_columns, ls_ndefault_columns * sizeof(o->cols[0]));
		o->ncols = ls_ndefault_columns;
	}
}

void ls_options_free(struct ls_options *o)
{
	*o = (struct ls_options){ 0 };
	vmt_cli_end();
}
