// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * migstream-cat's command line: the mode, its options, and the
 * combinations that make no sense, refused here (exit 2) before any input
 * is opened. -o is a column list in listings and the output file(s) of
 * --merge and --split, so it is placed once every mode option was seen.
 */
#include <ctype.h>
#include <errno.h>
#include <popt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/cli.h"
#include "common/exitcodes.h"
#include "common/log.h"
#include "common/strutils.h"
#include "net/address.h"
#include "net/net-cli.h"
#include "stream/migstream.h"
#include "stream/writer.h"
#include "options.h"

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
	OPT_MERGE,
	OPT_SPLIT,
	OPT_REORDER_BUFFER,
	OPT_FROM_QEMU,
	OPT_NET, /* VMT_NET_OPTION_COUNT values from here */
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
	VMT_POPT_COMPRESS_OPTION(OPT_COMPRESS),
	{ "name", '\0', POPT_ARG_STRING, NULL, OPT_NAME, NULL, NULL },
	{ "driver", '\0', POPT_ARG_STRING, NULL, OPT_DRIVER, NULL, NULL },
	{ "mig-flags", '\0', POPT_ARG_STRING, NULL, OPT_MIG_FLAGS, NULL, NULL },
	{ "phase", '\0', POPT_ARG_STRING, NULL, OPT_PHASE, NULL, NULL },
	{ "chunk-size", '\0', POPT_ARG_STRING, NULL, OPT_CHUNK_SIZE, NULL, NULL },
	{ "merge", '\0', POPT_ARG_NONE, NULL, OPT_MERGE, NULL, NULL },
	{ "split", '\0', POPT_ARG_STRING, NULL, OPT_SPLIT, NULL, NULL },
	{ "reorder-buffer", '\0', POPT_ARG_STRING, NULL, OPT_REORDER_BUFFER, NULL, NULL },
	{ "from-qemu", '\0', POPT_ARG_NONE, NULL, OPT_FROM_QEMU, NULL, NULL },
	VMT_POPT_NET_OPTIONS(OPT_NET),
	POPT_TABLEEND
};

static void usage(void)
{
	const char *p = vmt_progname();

	printf(VMT_USAGE_HEADER
	       " %1$s [options] [FILE...]\n"
	       " %1$s --verify [FILE...]\n"
	       " %1$s --passthrough [FILE...] > COPY\n"
	       " %1$s [options] ADDRESS\n"
	       " %1$s -o ADDRESS [FILE...]\n"
	       " %1$s --extract=DEV [FILE...] > STATE\n"
	       " %1$s --wrap [-z[LEVEL]] [wrap options] [RAWFILE] > STREAM\n"
	       " %1$s --recompress=LEVEL|none [FILE] > STREAM\n"
	       " %1$s --merge [-o OUT] CHANNEL...\n"
	       " %1$s --split=N -o OUT%%u [FILE]\n"
	       " %1$s --from-qemu [QEMUFILE [MULTIFD...]] > STREAM\n"
	       "\n"
	       "List, check and convert migstreams (FILE '-' or none: standard input).\n"
	       "QEMU's own migration streams are recognised by their magic and listed,\n"
	       "verified and extracted (--extract=IDSTR or a section id) as well.\n"
	       "\n"
	       "Modes (default: a listing of every record and a summary):\n"
	       "     --verify                check the whole stream; exit status only\n"
	       "     --passthrough           copy the stream to stdout, listing on stderr\n"
	       "     --extract=DEV           the raw state bytes of device DEV (its index,\n"
	       "                             or its name as the stream records it)\n"
	       "     --wrap                  raw bytes in, a one-device stream out\n"
	       "     --recompress=LEVEL|none the same stream, compressed with zstd LEVEL\n"
	       "     --merge                 the channels of a set in, one whole stream out\n"
	       "     --split=N               one stream in, N channels of a new set out\n"
	       "     --from-qemu             QEMU's stream (and its multifd channels) in,\n"
	       "                             a migstream of its VFIO devices out\n"
	       "\n"
	       "Listing:\n"
	       "     --json                  JSON lines: one object per record, then a summary\n"
	       " -o, --output=LIST           columns to show (see below)\n"
	       "     --dirty, --pages        only DIRTY_BITMAP records, with their dirty pages\n"
	       "\n"
	       "Wrap:\n"
	       " -z, --compress[=LEVEL]      compress records with zstd (-zLEVEL: 1-%2$d,\n"
	       "                             default %3$d)\n"
	       "     --name=NAME             device name in the DEVICE record (default: input)\n"
	       "     --driver=DRIVER         driver name in the DEVICE record\n"
	       "     --mig-flags=FLAGS       VFIO_MIGRATION_* flags of the device (default 0x1)\n"
	       "     --phase=PHASE           precopy-initial, precopy-dirty or stop-copy\n"
	       "                             (default)\n"
	       "     --chunk-size=SIZE       bytes per DATA record (default 1M)\n"
	       "\n"
	       "Merge and split:\n"
	       " -o, --output=OUT            the output file (--merge; default: standard\n"
	       "                             output); with --split one name with %%u (the\n"
	       "                             channel number) or N times -o\n"
	       "     --reorder-buffer=SIZE   memory per device for chunks that arrive early\n"
	       "                             (--merge; default 64M)\n"
	       "\n"
	       "Common:\n"
	       " -f, --force                 write binary data even to a terminal\n"
	       "     --progress              show progress on stderr\n",
	       p, VMT_CLI_MAX_ZSTD_LEVEL, VMT_CLI_DEFAULT_ZSTD_LEVEL);
	printf("\nAddresses: an input ADDRESS (tcp:HOST:PORT, tcp::PORT, unix:PATH) listens and\n"
	       "reads the set that connects; -o ADDRESS connects and sends the stream there.\n");
	printf(VMT_NET_USAGE_OPTIONS VMT_NET_USAGE_CONNECT_TIMEOUT);
	printf(VMT_USAGE_COMMON_OPTIONS(29));
	printf("\nColumns:\n");
	for (int c = 0; c < CAT_NCOLUMNS; c++)
		printf(" %12s  %s\n", cat_columns[c].name, cat_columns[c].help);
	printf(VMT_USAGE_TAIL);
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
	vmt_usage_error(
		"invalid --phase argument: '%s' (expected precopy-initial, precopy-dirty or stop-copy)",
		s);
}

/* A number is a device index (any u32, as migstream(5) allows); anything else a device's name. */
static void parse_extract(struct cat_opts *o, const char *arg)
{
	uint64_t index;
	int rc = vmt_parse_u64(arg, 0, UINT32_MAX, &index);

	/* out of range, or negative: a number that is no index */
	if (rc == -ERANGE || (arg[0] == '-' && isdigit((unsigned char)arg[1])))
		vmt_u64_or_usage(arg, "--extract", 0, UINT32_MAX); /* says so, exits */
	if (rc == 0) {
		o->extract_device = (uint32_t)index;
		return;
	}
	if (!*arg)
		vmt_usage_error("invalid --extract argument: '' (a device index or name)");
	if (strlen(arg) > MIGSTREAM_MAX_STRING)
		vmt_usage_error("invalid --extract argument: longer than %d bytes (a device name)",
				MIGSTREAM_MAX_STRING);
	o->extract_name = arg;
}

static int parse_level(const char *s, const char *option)
{
	if (strcasecmp(s, "none") == 0)
		return 0;
	return (int)vmt_u64_or_usage(s, option, 0, VMT_CLI_MAX_ZSTD_LEVEL);
}

/* Options that only make sense in some modes: refuse the rest. */
/*
 * An input ADDRESS is the only input (its set brings the channels);
 * -o ADDRESS sends the stream, as --passthrough would write it; not both.
 */
static void check_addresses(struct cat_opts *o)
{
	for (int i = 0; i < o->ninputs; i++) {
		if (!vmt_net_is_address(o->inputs[i]))
			continue;
		if (o->ninputs > 1)
			vmt_usage_error("%s: an address is the only input", o->inputs[i]);
		o->listen_address = o->inputs[i];
	}
	if (o->listen_address && o->connect_address)
		vmt_usage_error("an input address and -o ADDRESS cannot be combined");
	if (o->connect_address && o->mode == CAT_MODE_LIST)
		o->mode = CAT_MODE_PASSTHROUGH;
	if (o->connect_address && o->mode != CAT_MODE_PASSTHROUGH)
		vmt_usage_error("-o %s sends a stream as it is: it goes with no other mode",
				o->connect_address);
	vmt_net_cli_check(&o->net, o->listen_address ? o->listen_address : o->connect_address,
			  o->connect_address != NULL);
}

static void check_combinations(const struct cat_opts *o, bool wrap_opts, bool compress)
{
	bool listing = o->mode == CAT_MODE_LIST || o->mode == CAT_MODE_PASSTHROUGH;

	if (wrap_opts && o->mode != CAT_MODE_WRAP)
		vmt_usage_error(
			"--name, --driver, --mig-flags, --phase and --chunk-size need --wrap");
	if (compress && o->mode != CAT_MODE_WRAP)
		vmt_usage_error(
			"-z/--compress needs --wrap (use --recompress to convert a stream)");
	if (!listing && (o->json || o->dirty || o->ncolumns))
		vmt_usage_error("--json, --output and --dirty are for listings");
	if ((o->mode == CAT_MODE_WRAP || o->mode == CAT_MODE_RECOMPRESS) && o->ninputs > 1)
		vmt_usage_error("%s takes one input",
				o->mode == CAT_MODE_WRAP ? "--wrap" : "--recompress");
	if (o->mode == CAT_MODE_SPLIT && o->ninputs > 1)
		vmt_usage_error("--split takes one input");
	if (o->reorder_limit && o->mode != CAT_MODE_MERGE)
		vmt_usage_error("--reorder-buffer needs --merge");
	if (o->mode == CAT_MODE_MERGE && o->ninputs > MIGSTREAM_MAX_CHANNELS)
		vmt_usage_error("--merge takes at most %d channels", MIGSTREAM_MAX_CHANNELS);
	if (o->mode == CAT_MODE_MERGE && o->noutputs > 1)
		vmt_usage_error("--merge writes one output (-o once)");
	if (o->mode == CAT_MODE_SPLIT && o->noutputs != 1 && o->noutputs != (int)o->split_channels)
		vmt_usage_error("--split=%u needs one -o with %%u in it or %u times -o",
				o->split_channels, o->split_channels);
	if (o->mode == CAT_MODE_SPLIT && o->noutputs == 1 && o->split_channels > 1 &&
	    !strstr(o->outputs[0], "%u"))
		vmt_usage_error("--split=%u: -o '%s' has no %%u for the channel number",
				o->split_channels, o->outputs[0]);
}

/* -o is a column list in listings, the output file(s) in --merge and --split. */
static void assign_outputs(struct cat_opts *o, const char **args, int nargs)
{
	if (o->mode == CAT_MODE_MERGE || o->mode == CAT_MODE_SPLIT) {
		o->outputs = args;
		o->noutputs = nargs;
		return;
	}
	for (int i = 0; i < nargs; i++)
		if (cat_parse_columns(args[i], o->columns, &o->ncolumns))
			vmt_usage_error("invalid --output argument: '%s' (see --help for columns)",
					args[i]);
}

/* Room for every word of argv: there are no more operands or -o arguments than that. */
static void *alloc_args(int argc)
{
	void *args = calloc((size_t)argc, sizeof(const char *));

	if (!args) {
		vmt_err("out of memory");
		exit(VMT_EXIT_FAILURE);
	}
	return args;
}

/* Static: kept until cat_options_free(), also past a usage error (no leak to report). */
static const char **operands, **output_args;

void cat_options_parse(struct cat_opts *o, int argc, const char **argv)
{
	static const char *const stdin_only[] = { "-" };
	int noutput_args = 0;
	bool wrap_opts = false, compress = false;
	const char *arg;
	int rc;

	*o = (struct cat_opts){ .mode = CAT_MODE_LIST, .wrap_phase = MIGSTREAM_PHASE_STOP_COPY };
	vmt_net_cli_init(&o->net);
	vmt_cli_begin(argc, argv, options);
	output_args = alloc_args(argc);
	while ((rc = vmt_cli_next(usage)) > 0) {
		arg = vmt_cli_arg();
		switch (rc) {
		case OPT_FORCE:
			o->force = true;
			break;
		case OPT_PROGRESS:
			o->progress = true;
			break;
		case OPT_JSON:
			o->json = true;
			break;
		case OPT_OUTPUT:
			/* an address to connect to, else columns or a file: known once every mode option was seen */
			if (vmt_net_is_address(arg)) {
				if (o->connect_address)
					vmt_usage_error("-o %s: one address only", arg);
				o->connect_address = arg;
			} else {
				output_args[noutput_args++] = arg;
			}
			break;
		case OPT_DIRTY:
			o->dirty = true;
			break;
		case OPT_VERIFY:
			set_mode(o, CAT_MODE_VERIFY, "--verify");
			break;
		case OPT_PASSTHROUGH:
			set_mode(o, CAT_MODE_PASSTHROUGH, "--passthrough");
			break;
		case OPT_EXTRACT:
			set_mode(o, CAT_MODE_EXTRACT, "--extract");
			parse_extract(o, arg);
			break;
		case OPT_WRAP:
			set_mode(o, CAT_MODE_WRAP, "--wrap");
			break;
		case OPT_RECOMPRESS:
			set_mode(o, CAT_MODE_RECOMPRESS, "--recompress");
			o->zstd_level = parse_level(arg, "--recompress");
			break;
		case OPT_MERGE:
			set_mode(o, CAT_MODE_MERGE, "--merge");
			break;
		case OPT_SPLIT:
			set_mode(o, CAT_MODE_SPLIT, "--split");
			o->split_channels = (unsigned int)vmt_u64_or_usage(arg, "--split", 1,
									   MIGSTREAM_MAX_CHANNELS);
			break;
		case OPT_REORDER_BUFFER:
			o->reorder_limit = vmt_size_or_usage(arg, "--reorder-buffer");
			if (o->reorder_limit < MIGSTREAM_MAX_PAYLOAD)
				vmt_usage_error(
					"invalid --reorder-buffer argument: '%s' (at least %uM: one record)",
					arg, MIGSTREAM_MAX_PAYLOAD >> 20);
			break;
		case OPT_FROM_QEMU:
			set_mode(o, CAT_MODE_FROM_QEMU, "--from-qemu");
			break;
		case OPT_COMPRESS:
			compress = true;
			o->zstd_level = vmt_cli_compress_level(arg);
			break;
		case OPT_NAME:
			wrap_opts = true;
			if (strlen(arg) > MIGSTREAM_MAX_STRING)
				vmt_usage_error("invalid --name argument: longer than %d bytes",
						MIGSTREAM_MAX_STRING);
			o->wrap_name = arg;
			break;
		case OPT_DRIVER:
			wrap_opts = true;
			if (strlen(arg) > 255)
				vmt_usage_error("invalid --driver argument: longer than 255 bytes");
			o->wrap_driver = arg;
			break;
		case OPT_MIG_FLAGS:
			wrap_opts = true;
			o->wrap_mig_flags = vmt_u64_or_usage(arg, "--mig-flags", 0, UINT64_MAX);
			break;
		case OPT_PHASE:
			wrap_opts = true;
			o->wrap_phase = parse_phase(arg);
			break;
		case OPT_CHUNK_SIZE: {
			uint64_t v = vmt_size_or_usage(arg, "--chunk-size");

			wrap_opts = true;
			if (v < 1 || v > MIGSTREAM_MAX_CHUNK)
				vmt_usage_error(
					"invalid --chunk-size argument: '%s' (must be 1..%u bytes)",
					arg, MIGSTREAM_MAX_CHUNK);
			o->chunk_size = (uint32_t)v;
			break;
		}
		default:
			vmt_net_cli_take(&o->net, OPT_NET, rc, arg);
			break;
		}
	}
	o->quiet = vmt_log_level() < VMT_LOG_INFO;
	assign_outputs(o, output_args, noutput_args);

	operands = alloc_args(argc);
	while ((arg = vmt_cli_operand()))
		operands[o->ninputs++] = arg;
	o->inputs = o->ninputs ? operands : stdin_only;
	if (!o->ninputs)
		o->ninputs = 1;
	check_addresses(o);
	check_combinations(o, wrap_opts, compress);
}

void cat_options_free(struct cat_opts *o)
{
	free(operands);
	free(output_args);
	operands = output_args = NULL;
	*o = (struct cat_opts){ 0 };
	vmt_cli_end();
}
