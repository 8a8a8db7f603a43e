// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * migstream-cat: list, verify, extract, pass through, wrap and recompress
 * migstreams. This file is the command line; each mode is its own module.
 */
#include <popt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cat.h"
#include "cli.h"
#include "closestream.h"
#include "convert.h"
#include "exitcodes.h"
#include "extract.h"
#include "listing.h"
#include "log.h"
#include "stream-writer.h"
#include "strutils.h"

#define DEFAULT_ZSTD_LEVEL 3
#define MAX_ZSTD_LEVEL 19

enum {
	OPT_FORCE = 'f',
	OPT_OUTPUT = 'o',
	OPT_COMPRESS = 'z',
	OPT_PROGRESS = 1000,
	OPT_JSON,
	OPT_DIRTY,
	OPT_VERIFY,
	OPT_PASSTHROUGH,
	OPT_EXTRACT,
	OPT_WRAP,
	OPT_RECOMPRESS,
	OPT_NAME,
	OPT_DRIVER,
	OPT_MIG_FLAGS,
	OPT_PHASE,
	OPT_CHUNK_SIZE,
	OPT_COMPRESS_LEVEL,
};

static const struct poptOption options[] = {
	VMT_POPT_COMMON_OPTIONS,
	{ "force", 'f', POPT_ARG_NONE, NULL, OPT_FORCE, NULL, NULL },
	{ "progress", '\0', POPT_ARG_NONE, NULL, OPT_PROGRESS, NULL, NULL },
	{ "json", '\0', POPT_ARG_NONE, NULL, OPT_JSON, NULL, NULL },
	{ "output", 'o', POPT_ARG_STRING, NULL, OPT_OUTPUT, NULL, NULL },
	{ "dirty", '\0', POPT_ARG_NONE, NULL, OPT_DIRTY, NULL, NULL },
	{ "pages", '\0', POPT_ARG_NONE, NULL, OPT_DIRTY, NULL, NULL },
	{ "verify", '\0', POPT_ARG_NONE, NULL, OPT_VERIFY, NULL, NULL },
	{ "passthrough", '\0', POPT_ARG_NONE, NULL, OPT_PASSTHROUGH, NULL, NULL },
	{ "extract", '\0', POPT_ARG_STRING, NULL, OPT_EXTRACT, NULL, NULL },
	{ "wrap", '\0', POPT_ARG_NONE, NULL, OPT_WRAP, NULL, NULL },
	{ "recompress", '\0', POPT_ARG_STRING, NULL, OPT_RECOMPRESS, NULL, NULL },
	{ "compress", 'z', POPT_ARG_NONE, NULL, OPT_COMPRESS, NULL, NULL },
	/* -zLEVEL and --compress=LEVEL arrive here (see attach_compress_level) */
	{ "compress-level", '\0', POPT_ARG_STRING | POPT_ARGFLAG_DOC_HIDDEN, NULL, OPT_COMPRESS_LEVEL, NULL, NULL },
	{ "name", '\0', POPT_ARG_STRING, NULL, OPT_NAME, NULL, NULL },
	{ "driver", '\0', POPT_ARG_STRING, NULL, OPT_DRIVER, NULL, NULL },
	{ "mig-flags", '\0', POPT_ARG_STRING, NULL, OPT_MIG_FLAGS, NULL, NULL },
	{ "phase", '\0', POPT_ARG_STRING, NULL, OPT_PHASE, NULL, NULL },
	{ "chunk-size", '\0', POPT_ARG_STRING, NULL, OPT_CHUNK_SIZE, NULL, NULL },
	POPT_TABLEEND
};

static void usage(void)
{
	const char *p = vmt_progname();

	printf("Usage:\n"
	       " %s [options] [FILE...]\n"
	       " %s --verify [FILE...]\n"
	       " %s --passthrough [FILE...] > COPY\n"
	       " %s --extract=DEV [FILE...] > STATE\n"
	       " %s --wrap [-z[LEVEL]] [wrap options] [RAWFILE] > STREAM\n"
	       " %s --recompress=LEVEL|none [FILE] > STREAM\n"
	       "\n"
	       "List, check and convert migstreams (FILE '-' or none: standard input).\n"
	       "\n"
	       "Modes (default: a listing of every record and a summary):\n"
	       "     --verify              check the whole stream; exit status only\n"
	       "     --passthrough         copy the stream to stdout, listing on stderr\n"
	       "     --extract=DEV         the raw state bytes of device DEV\n"
	       "     --wrap                raw bytes in, a one-device stream out\n"
	       "     --recompress=LEVEL|none  the same stream, compressed with zstd LEVEL\n"
	       "\n"
	       "Listing:\n"
	       "     --json                JSON lines: one object per record, then a summary\n"
	       " -o, --output=LIST         columns to show (see below)\n"
	       "     --dirty, --pages      only DIRTY_BITMAP records, with their dirty page ranges\n"
	       "\n"
	       "Wrap:\n"
	       " -z, --compress[=LEVEL]    compress records with zstd (LEVEL 1-%d, default %d)\n"
	       "     --name=NAME           device name in the DEVICE record (default: input name)\n"
	       "     --driver=DRIVER       driver name in the DEVICE record\n"
	       "     --mig-flags=FLAGS     VFIO_MIGRATION_* flags of the device (default 0x1)\n"
	       "     --phase=PHASE         precopy-initial, precopy-dirty or stop-copy (default)\n"
	       "     --chunk-size=SIZE     bytes per DATA record (default 1M)\n"
	       "\n"
	       "Common:\n"
	       " -f, --force               write binary data even to a terminal\n"
	       "     --progress            show progress on stderr\n"
	       " -q, --quiet               less output (no summary)\n"
	       " -v, --verbose             more output (repeat for more)\n"
	       " -h, --help                display this help\n"
	       " -V, --version             display version\n"
	       "\n"
	       "Columns:\n",
	       p, p, p, p, p, p, MAX_ZSTD_LEVEL, DEFAULT_ZSTD_LEVEL);
	for (int c = 0; c < CAT_NCOLUMNS; c++)
		printf(" %12s  %s\n", cat_columns[c].name, cat_columns[c].help);
	printf("\nExit status: 0 ok, 1 failure (I/O), 2 usage, 3 unsupported, 4 bad stream data.\n"
	       "For more details see %s(1).\n", p);
}

static void set_mode(struct cat_opts *o, enum cat_mode mode, const char *option)
{
	if (o->mode != CAT_MODE_LIST && o->mode != mode)
		vmt_usage_error("%s cannot be combined with another mode", option);
	o->mode = mode;
}

static uint8_t parse_phase(const char *s)
{
	if (strcasecmp(s, "precopy-initial") == 0 || strcasecmp(s, "initial") == 0)
		return MIGSTREAM_PHASE_PRECOPY_INITIAL;
	if (strcasecmp(s, "precopy-dirty") == 0 || strcasecmp(s, "dirty") == 0)
		return MIGSTREAM_PHASE_PRECOPY_DIRTY;
	if (strcasecmp(s, "stop-copy") == 0 || strcasecmp(s, "stopcopy") == 0)
		return MIGSTREAM_PHASE_STOP_COPY;
	vmt_usage_error("invalid --phase argument: '%s' (expected precopy-initial, precopy-dirty or stop-copy)", s);
}

static int parse_level(const char *s, const char *option)
{
	if (strcasecmp(s, "none") == 0)
		return 0;
	return (int)vmt_u64_or_usage(s, option, 0, MAX_ZSTD_LEVEL);
}

/* Options that only make sense in some modes: refuse the rest. */
static void check_combinations(const struct cat_opts *o, bool wrap_opts, bool compress)
{
	bool listing = o->mode == CAT_MODE_LIST || o->mode == CAT_MODE_PASSTHROUGH;

	if (wrap_opts && o->mode != CAT_MODE_WRAP)
		vmt_usage_error("--name, --driver, --mig-flags, --phase and --chunk-size need --wrap");
	if (compress && o->mode != CAT_MODE_WRAP)
		vmt_usage_error("-z/--compress needs --wrap (use --recompress to convert a stream)");
	if (!listing && (o->json || o->dirty || o->ncolumns))
		vmt_usage_error("--json, --output and --dirty are for listings");
	if ((o->mode == CAT_MODE_WRAP || o->mode == CAT_MODE_RECOMPRESS) && o->ninputs > 1)
		vmt_usage_error("%s takes one input", o->mode == CAT_MODE_WRAP ? "--wrap" : "--recompress");
}

/* Static: --help, --version and usage errors exit() with these in use,
 * and a leak checker should not call that a leak. */
static poptContext popt_ctx;
static char *rewritten_buf;
static const char **rewritten_argv;

/*
 * zstd's -z19 style: the level is optional but must be attached. popt's
 * optional arguments would take the next word ("-z file"), so the attached
 * forms become the hidden --compress-level=LEVEL before popt sees them.
 */
static const char **attach_compress_level(int argc, const char **argv)
{
	const char **out = rewritten_argv = calloc((size_t)argc + 1, sizeof(*out));
	char *buf;
	size_t need = 0;

	if (!out) {
		vmt_err("out of memory");
		exit(VMT_EXIT_FAILURE);
	}
	for (int i = 0; i < argc; i++)
		need += strlen(argv[i]) + sizeof("--compress-level=");
	buf = rewritten_buf = malloc(need + 1);
	if (!buf) {
		vmt_err("out of memory");
		exit(VMT_EXIT_FAILURE);
	}
	char *p = buf;
	bool options_done = false;

	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		const char *level = NULL;

		if (i > 0 && !options_done && strcmp(a, "--") == 0)
			options_done = true;
		else if (i > 0 && !options_done && strncmp(a, "-z", 2) == 0 && a[2])
			level = a + 2;
		else if (i > 0 && !options_done && strncmp(a, "--compress=", 11) == 0)
			level = a + 11;
		if (level) {
			out[i] = p;
			p += sprintf(p, "--compress-level=%s", level) + 1;
		} else {
			out[i] = a;
		}
	}
	return out;
}

int main(int argc, const char **argv)
{
	struct cat_opts o = { .mode = CAT_MODE_LIST, .wrap_phase = MIGSTREAM_PHASE_STOP_COPY };
	static const char *const stdin_only[] = { "-" };
	bool wrap_opts = false, compress = false;
	char *wrap_name = NULL, *wrap_driver = NULL;
	char *arg;
	int rc, status;

	vmt_log_init(argv[0]);
	argv = attach_compress_level(argc, argv);
	popt_ctx = poptGetContext(NULL, argc, argv, options, 0);
	while ((rc = poptGetNextOpt(popt_ctx)) > 0) {
		if (vmt_cli_common_option(popt_ctx, rc, usage))
			continue;
		arg = poptGetOptArg(popt_ctx);
		switch (rc) {
		case OPT_FORCE:
			o.force = true;
			break;
		case OPT_PROGRESS:
			o.progress = true;
			break;
		case OPT_JSON:
			o.json = true;
			break;
		case OPT_OUTPUT:
			if (cat_parse_columns(arg, o.columns, &o.ncolumns))
				vmt_usage_error("invalid --output argument: '%s' (see --help for columns)", arg);
			break;
		case OPT_DIRTY:
			o.dirty = true;
			break;
		case OPT_VERIFY:
			set_mode(&o, CAT_MODE_VERIFY, "--verify");
			break;
		case OPT_PASSTHROUGH:
			set_mode(&o, CAT_MODE_PASSTHROUGH, "--passthrough");
			break;
		case OPT_EXTRACT:
			set_mode(&o, CAT_MODE_EXTRACT, "--extract");
			o.extract_device = (uint32_t)vmt_u64_or_usage(arg, "--extract", 0, UINT32_MAX);
			break;
		case OPT_WRAP:
			set_mode(&o, CAT_MODE_WRAP, "--wrap");
			break;
		case OPT_RECOMPRESS:
			set_mode(&o, CAT_MODE_RECOMPRESS, "--recompress");
			o.zstd_level = parse_level(arg, "--recompress");
			break;
		case OPT_COMPRESS:
			compress = true;
			o.zstd_level = DEFAULT_ZSTD_LEVEL;
			break;
		case OPT_COMPRESS_LEVEL:
			compress = true;
			o.zstd_level = parse_level(arg, "--compress");
			break;
		case OPT_NAME:
			wrap_opts = true;
			if (strlen(arg) > MIGSTREAM_MAX_STRING)
				vmt_usage_error("invalid --name argument: longer than %d bytes",
						MIGSTREAM_MAX_STRING);
			free(wrap_name);
			o.wrap_name = wrap_name = arg;
			arg = NULL; /* kept until the end */
			break;
		case OPT_DRIVER:
			wrap_opts = true;
			if (strlen(arg) > 255)
				vmt_usage_error("invalid --driver argument: longer than 255 bytes");
			free(wrap_driver);
			o.wrap_driver = wrap_driver = arg;
			arg = NULL;
			break;
		case OPT_MIG_FLAGS:
			wrap_opts = true;
			o.wrap_mig_flags = vmt_u64_or_usage(arg, "--mig-flags", 0, UINT64_MAX);
			break;
		case OPT_PHASE:
			wrap_opts = true;
			o.wrap_phase = parse_phase(arg);
			break;
		case OPT_CHUNK_SIZE: {
			uint64_t v = vmt_size_or_usage(arg, "--chunk-size");

			wrap_opts = true;
			if (v < 1 || v > MIGSTREAM_MAX_CHUNK)
				vmt_usage_error("invalid --chunk-size argument: '%s' (must be 1..%u bytes)", arg,
						MIGSTREAM_MAX_CHUNK);
			o.chunk_size = (uint32_t)v;
			break;
		}
		}
		free(arg);
	}
	vmt_cli_check_popt_end(popt_ctx, rc);
	o.quiet = vmt_log_level() < VMT_LOG_INFO;

	const char **args = poptGetArgs(popt_ctx);

	for (o.ninputs = 0; args && args[o.ninputs]; o.ninputs++)
		;
	o.inputs = o.ninputs ? args : stdin_only;
	if (!o.ninputs)
		o.ninputs = 1;
	check_combinations(&o, wrap_opts, compress);

	/* Stream writers report a closed pipe themselves, as EPIPE. */
	vmt_ignore_sigpipe();
	switch (o.mode) {
	case CAT_MODE_EXTRACT:
		status = cat_extract_inputs(&o);
		break;
	case CAT_MODE_WRAP:
		status = cat_wrap(&o);
		break;
	case CAT_MODE_RECOMPRESS:
		status = cat_recompress(&o);
		break;
	default:
		status = cat_list_inputs(&o);
	}
	rc = vmt_close_stdout();
	poptFreeContext(popt_ctx);
	free(wrap_name);
	free(wrap_driver);
	free(rewritten_argv);
	free(rewritten_buf);
	return status ? status : rc;
}
