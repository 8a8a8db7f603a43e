// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vfio-mig-ls: the VFIO devices of this host and whether they can migrate,
 * in the manner of lsblk. Identity comes from sysfs; migration facts from
 * the device itself, when it can be opened without taking it from anyone
 * (a device in use is listed as busy). The device's state is only read.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli.h"
#include "common/closestream.h"
#include "common/exitcodes.h"
#include "common/log.h"
#include "vfio/device-cli.h"
#include "vfio/sysfs.h"

#include "columns.h"
#include "output.h"
#include "probe.h"

/* More DEVICE operands than this is a usage error (no host has that many). */
#define MAX_NAMES 4096

struct options {
	enum ls_column cols[LS_NCOLUMNS * 2];
	int ncols;
	bool json, raw, no_headings, bytes, no_open;
	const char *names[MAX_NAMES + 1]; /* DEVICE operands, NULL-terminated */
	size_t nnames;			  /* 0: every device */
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

enum {
	OPT_OUTPUT = 1,
	OPT_JSON,
	OPT_NOHEADINGS,
	OPT_RAW,
	OPT_BYTES,
	OPT_NO_OPEN,
};

static void parse_columns(struct options *o, const char *list)
{
	const char *bad;
	int bad_len;

	if (ls_parse_columns(list, o->cols, &o->ncols, LS_NCOLUMNS * 2, &bad, &bad_len) < 0)
		vmt_usage_error("invalid --output argument: '%s' (unknown column '%.*s')", list,
				bad_len, bad);
}

static void take_option(int opt, const char *arg, void *ctx)
{
	struct options *o = ctx;

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

static void parse_options(int argc, const char **argv, struct options *o)
{
	static const struct poptOption table[] = {
		VMT_POPT_COMMON_OPTIONS,
		{ "output", 'o', POPT_ARG_STRING, NULL, OPT_OUTPUT, NULL, NULL },
		{ "json", 'J', POPT_ARG_NONE, NULL, OPT_JSON, NULL, NULL },
		{ "noheadings", 'n', POPT_ARG_NONE, NULL, OPT_NOHEADINGS, NULL, NULL },
		{ "raw", 'r', POPT_ARG_NONE, NULL, OPT_RAW, NULL, NULL },
		{ "bytes", 'b', POPT_ARG_NONE, NULL, OPT_BYTES, NULL, NULL },
		{ "no-open", '\0', POPT_ARG_NONE, NULL, OPT_NO_OPEN, NULL, NULL },
		POPT_TABLEEND
	};
	const char *name;

	vmt_cli_parse(argc, argv, table, usage, take_option, o);
	while ((name = vmt_cli_operand())) {
		if (o->nnames == MAX_NAMES)
			vmt_usage_error("more than %d DEVICE arguments", MAX_NAMES);
		o->names[o->nnames++] = vmt_cli_device_or_usage(name, VMT_CLI_DEVICE_NAMED);
	}
	if (o->json && o->raw)
		vmt_usage_error("--json and --raw do not go together");
	if (!o->ncols) {
		memcpy(o->cols, ls_default_columns, ls_ndefault_columns * sizeof(o->cols[0]));
		o->ncols = ls_ndefault_columns;
	}
}

/* Whether name (as a user writes it) names this device. */
static bool names_device(const char *name, const struct vmt_sysfs_vfio_entry *e)
{
	char bdf[32], cdev[64];
	const char *base = strrchr(name, '/');

	if (strcasecmp(name, e->name) == 0)
		return true;
	if (vmt_sysfs_parse_pci_address(name, bdf, sizeof(bdf)) == 0)
		return !e->mdev && strcmp(bdf, e->name) == 0;
	if (vmt_sysfs_vfio_cdev(e->dir, cdev, sizeof(cdev)) < 0)
		return false;
	if (base)
		return strncmp(name, "/dev/vfio/devices/", 18) == 0 && strcmp(base + 1, cdev) == 0;
	return strcmp(name, cdev) == 0;
}

/* Keep the entries the names ask for, in the order found; each name must match one. */
static int select_named(const char *const *names, struct vmt_sysfs_vfio_entry *e, size_t *n)
{
	size_t kept = 0;
	int ret = 0;

	for (const char *const *name = names; *name; name++) {
		bool found = false;

		for (size_t i = 0; i < *n; i++)
			found |= names_device(*name, &e[i]);
		if (!found) {
			vmt_err("%s: not a VFIO device on this host", *name);
			ret = -ENOENT;
		}
	}
	for (size_t i = 0; i < *n; i++) {
		for (const char *const *name = names; *name; name++) {
			if (names_device(*name, &e[i])) {
				e[kept++] = e[i];
				break;
			}
		}
	}
	*n = kept;
	return ret;
}

static int list_devices(const struct options *o)
{
	struct ls_output_opts out = {
		.cols = o->cols,
		.ncols = o->ncols,
		.raw = o->raw,
		.no_headings = o->no_headings,
		.bytes = o->bytes,
	};
	struct vmt_sysfs_vfio_entry *entries = NULL;
	struct ls_device *devs = NULL;
	size_t n = 0;
	int ret = vmt_sysfs_list_vfio_devices(&entries, &n);

	if (ret < 0) {
		vmt_err("/sys/bus: cannot list devices: %s", strerror(-ret));
		return VMT_EXIT_FAILURE;
	}
	if (o->nnames && select_named(o->names, entries, &n) < 0) {
		free(entries);
		return VMT_EXIT_FAILURE;
	}
	if (n && !(devs = calloc(n, sizeof(*devs)))) {
		vmt_err("out of memory");
		free(entries);
		return VMT_EXIT_FAILURE;
	}
	for (size_t i = 0; i < n; i++)
		ls_probe_device(&entries[i], !o->no_open, &devs[i]);
	if (!n && !o->json)
		vmt_info("no VFIO devices found");
	else
		ret = o->json ? ls_print_json(stdout, devs, n, &out)
			      : ls_print_table(stdout, devs, n, &out);
	free(devs);
	free(entries);
	/* A write error is vmt_close_stdout()'s to report (or, for a listing's gone reader, not). */
	if (ret == -ENOMEM) {
		vmt_err("out of memory");
		return VMT_EXIT_FAILURE;
	}
	return VMT_EXIT_OK;
}

int main(int argc, const char **argv)
{
	struct options o = { 0 };
	int status, rc;

	vmt_log_init(argv[0]);
	parse_options(argc, argv, &o);
	/* A listing: `vfio-mig-ls | head -1` ends quietly, like lsblk. */
	vmt_stdout_is_listing();
	status = list_devices(&o);
	vmt_cli_end();
	rc = vmt_close_stdout();
	return status ? status : rc;
}
