// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vfio-precopy-info's options, with lib/common/cli.
 */
#include <popt.h>
#include <stdio.h>
#include <string.h>

#include "common/c.h"
#include "common/cli.h"
#include "common/log.h"
#include "common/strutils.h"
#include "vfio/device-cli.h"
#include "options.h"

enum {
	OPT_DEVICE = 1,
	OPT_GROUP,
	OPT_WATCH,
	OPT_COUNT,
	OPT_DURATION,
	OPT_DRAIN,
	OPT_OUTPUT,
	OPT_STREAM,
	OPT_COMPRESS,
	OPT_NO_PRECOPY,
	OPT_PRECOPY,
	OPT_BANDWIDTH,
	OPT_DOWNTIME,
	OPT_JSON,
	OPT_FORCE,
	OPT_EVENTS,
};

static const struct poptOption options[] = {
	VMT_POPT_COMMON_OPTIONS,
	{ "device", 'd', POPT_ARG_STRING, NULL, OPT_DEVICE, NULL, NULL },
	{ "group", '\0', POPT_ARG_NONE, NULL, OPT_GROUP, NULL, NULL },
	{ "watch", 'w', POPT_ARG_STRING, NULL, OPT_WATCH, NULL, NULL },
	{ "count", 'c', POPT_ARG_STRING, NULL, OPT_COUNT, NULL, NULL },
	{ "duration", '\0', POPT_ARG_STRING, NULL, OPT_DURATION, NULL, NULL },
	{ "drain", '\0', POPT_ARG_NONE, NULL, OPT_DRAIN, NULL, NULL },
	{ "output", 'o', POPT_ARG_STRING, NULL, OPT_OUTPUT, NULL, NULL },
	{ "stream", '\0', POPT_ARG_NONE, NULL, OPT_STREAM, NULL, NULL },
	VMT_POPT_COMPRESS_OPTION(OPT_COMPRESS),
	{ "no-precopy", '\0', POPT_ARG_NONE, NULL, OPT_NO_PRECOPY, NULL, NULL },
	{ "precopy", '\0', POPT_ARG_NONE, NULL, OPT_PRECOPY, NULL, NULL },
	{ "bandwidth", 'b', POPT_ARG_STRING, NULL, OPT_BANDWIDTH, NULL, NULL },
	{ "downtime", '\0', POPT_ARG_STRING, NULL, OPT_DOWNTIME, NULL, NULL },
	{ "json", '\0', POPT_ARG_NONE, NULL, OPT_JSON, NULL, NULL },
	{ "force", 'f', POPT_ARG_NONE, NULL, OPT_FORCE, NULL, NULL },
	{ "events", '\0', POPT_ARG_STRING, NULL, OPT_EVENTS, NULL, NULL },
	POPT_TABLEEND
};

static void usage(void)
{
	printf(VMT_USAGE_HEADER
	       " %s [options] -d DEVICE\n"
	       "\n"
	       "Report what a VFIO device would send if it migrated now: migration flags,\n"
	       "state, stop-copy size and, with PRE_COPY, the pre-copy initial and dirty\n"
	       "bytes over time. The device is returned to the state it was found in.\n"
	       "\n"
	       "Device:\n"
	       " -d, --device DEV          /dev/vfio/devices/vfioN, a PCI address, an mdev\n"
	       "                           UUID, or fd:N (an inherited device fd)\n"
	       "     --group               use the legacy group/container interface\n"
	       "\n"
	       "Sampling:\n"
	       " -w, --watch INTERVAL      sample every INTERVAL (e.g. 500ms, 1s) until\n"
	       "                           --count, --duration or SIGINT/SIGTERM/SIGHUP\n"
	       " -c, --count N             take N samples (with --watch; default: no limit)\n"
	       "     --duration TIME       stop sampling after TIME\n"
	       "     --drain               read and discard the pre-copy data between samples,\n"
	       "                           so initial_bytes goes down and the dirty rate shows\n"
	       " -o, --output FILE         with --drain: write the drained data and the samples\n"
	       "                           as a migstream to FILE ('-': stdout)\n"
	       "     --stream              write the samples as migstream PRECOPY_INFO records\n"
	       "                           to stdout (for migstream-cat)\n"
	       " -z, --compress[=LEVEL]    zstd-compress stream records (default level 3)\n"
	       "     --no-precopy          only report flags, state and stop-copy size; do not\n"
	       "                           change the device state\n"
	       "     --precopy             fail (exit 3) unless pre-copy figures can be given\n"
	       "\n"
	       "Estimate:\n"
	       " -b, --bandwidth RATE      link bandwidth in bytes/s (e.g. 1G): estimate whether\n"
	       "                           pre-copy converges and the stop-copy time\n"
	       "     --downtime TIME       downtime target for the estimate (default 300ms)\n"
	       "\n"
	       "Output:\n"
	       "     --json                JSON lines: device, samples, estimate\n"
	       " -f, --force               write a stream to a terminal anyway\n"
	       "     --events FILE         record the arcs and samples as JSON lines in FILE\n"
	       "                           (vfio-mig-events(5))\n",
	       vmt_progname());
	printf(VMT_USAGE_COMMON_OPTIONS(27));
	printf(VMT_USAGE_TAIL);
}

static void set_device(struct precopy_options *o, const char *spec)
{
	if (o->device)
		vmt_usage_error("only one device (-d) at a time");
	o->device = vmt_cli_device_or_usage(spec, VMT_CLI_DEVICE_ANY);
}

static void parse_sampling(struct precopy_options *o, int opt, const char *arg)
{
	switch (opt) {
	case OPT_WATCH:
		o->watch = true;
		o->interval_ns = vmt_duration_ns_or_usage(arg, "--watch");
		if (o->interval_ns < NSEC_PER_MSEC)
			vmt_usage_error("invalid --watch argument: '%s' (at least 1ms)", arg);
		break;
	case OPT_COUNT:
		o->count = vmt_u64_or_usage(arg, "--count", 1, UINT32_MAX);
		break;
	case OPT_DURATION:
		o->duration_ns = vmt_duration_ns_or_usage(arg, "--duration");
		break;
	case OPT_BANDWIDTH:
		o->bandwidth = (double)vmt_size_or_usage(arg, "--bandwidth");
		if (o->bandwidth <= 0)
			vmt_usage_error("invalid --bandwidth argument: '%s' (must be > 0)", arg);
		break;
	case OPT_DOWNTIME:
		o->downtime_ns = vmt_duration_ns_or_usage(arg, "--downtime");
		if (!o->downtime_ns)
			vmt_usage_error("invalid --downtime argument: '%s' (must be > 0)", arg);
		break;
	}
}

/* One of the options; the checks that need them all come after. */
static void take_option(struct precopy_options *o, int opt, const char *arg)
{
	switch (opt) {
	case OPT_DEVICE:
		set_device(o, arg);
		break;
	case OPT_GROUP:
		o->force_group = true;
		break;
	case OPT_DRAIN:
		o->drain = true;
		break;
	case OPT_OUTPUT:
		o->output = arg;
		break;
	case OPT_STREAM:
		o->stream = true;
		break;
	case OPT_COMPRESS:
		o->zstd_level = vmt_cli_compress_level(arg);
		break;
	case OPT_NO_PRECOPY:
		o->no_precopy = true;
		break;
	case OPT_PRECOPY:
		o->precopy_asked = true;
		break;
	case OPT_JSON:
		o->json = true;
		break;
	case OPT_FORCE:
		o->force = true;
		break;
	case OPT_EVENTS:
		o->events_file = arg;
		break;
	default:
		parse_sampling(o, opt, arg);
	}
}

/* Options that make no sense together, and what some imply. */
static void check_combinations(struct precopy_options *o)
{
	if (!o->device)
		vmt_usage_error("no device given (-d DEVICE)");
	if (o->output && !o->drain)
		vmt_usage_error("--output writes drained data: it needs --drain");
	if (o->stream && o->output && strcmp(o->output, "-") == 0)
		vmt_usage_error("--stream and --output - both want stdout");
	if (o->no_precopy && (o->watch || o->drain || o->stream || o->precopy_asked || o->count))
		vmt_usage_error("--no-precopy does not go with --watch, --count, --drain, --stream "
				"or --precopy");
	if ((o->count || o->duration_ns) && !o->watch)
		o->watch = true; /* --count 5 alone samples every second */
	if (o->watch || o->drain || o->stream)
		o->precopy_asked = true;
}

void precopy_options_parse(struct precopy_options *o, int argc, const char **argv)
{
	const char *operand;
	int opt;

	*o = (struct precopy_options){
		.downtime_ns = 300 * NSEC_PER_MSEC,
		.interval_ns = NSEC_PER_SEC,
	};
	vmt_cli_begin(argc, argv, options);
	while ((opt = vmt_cli_next(usage)) > 0)
		take_option(o, opt, vmt_cli_arg());
	/* The device may come as an operand instead of -d. */
	if (!o->device && (operand = vmt_cli_operand()))
		set_device(o, operand);
	vmt_cli_no_operands();
	check_combinations(o);
}

void precopy_options_free(struct precopy_options *o)
{
	vmt_cli_end();
	*o = (struct precopy_options){ 0 };
}

bool precopy_options_stream_on_stdout(const struct precopy_options *o)
{
	return o->stream || (o->output && strcmp(o->output, "-") == 0);
}
