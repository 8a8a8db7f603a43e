// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vfio-mig-save's options, with lib/common/cli; see options.h.
 */
#include <fcntl.h>
#include <popt.h>
#include <stdio.h>
#include <string.h>

#include "common/c.h"
#include "common/cli.h"
#include "common/log.h"
#include "common/outfile.h"
#include "common/strutils.h"
#include "net/address.h"
#include "net/net-cli.h"
#include "vfio/device-cli.h"
#include "vfio/state.h"
#include "output.h"
#include "options.h"

#define DEFAULT_MAX_ROUNDS 32
/* How long the save waits for a reply it needs on the return path. */
#define DEFAULT_RETURN_TIMEOUT_NS (60 * NSEC_PER_SEC)

enum {
	OPT_DEVICE = 1,
	OPT_OUTPUT,
	OPT_FORCE,
	OPT_GROUP,
	OPT_PRECOPY,
	OPT_NO_PRECOPY,
	OPT_THRESHOLD,
	OPT_MAX_ROUNDS,
	OPT_MAX_PRECOPY_TIME,
	OPT_DOWNTIME_LIMIT,
	OPT_CONTROL_FD,
	OPT_THEN,
	OPT_ON_ERROR,
	OPT_COMPRESS,
	OPT_CHUNK_SIZE,
	OPT_PROGRESS,
	OPT_JSON,
	OPT_SUMMARY_FILE,
	OPT_DESCRIBE,
	OPT_RETURN_FD,
	OPT_RETURN_TIMEOUT,
	OPT_JOBS,
	OPT_THREADS,
	OPT_QUEUE_SIZE,
	OPT_CHANNELS,
	OPT_EVENTS,
	OPT_SYSLOG,
	OPT_NET, /* VMT_NET_OPTION_COUNT values from here */
};

static const struct poptOption options[] = {
	VMT_POPT_COMMON_OPTIONS,
	{ "device", 'd', POPT_ARG_STRING, NULL, OPT_DEVICE, NULL, NULL },
	{ "output", 'o', POPT_ARG_STRING, NULL, OPT_OUTPUT, NULL, NULL },
	{ "force", 'f', POPT_ARG_NONE, NULL, OPT_FORCE, NULL, NULL },
	{ "group", '\0', POPT_ARG_NONE, NULL, OPT_GROUP, NULL, NULL },
	{ "precopy", '\0', POPT_ARG_NONE, NULL, OPT_PRECOPY, NULL, NULL },
	{ "no-precopy", '\0', POPT_ARG_NONE, NULL, OPT_NO_PRECOPY, NULL, NULL },
	{ "threshold", '\0', POPT_ARG_STRING, NULL, OPT_THRESHOLD, NULL, NULL },
	{ "max-rounds", '\0', POPT_ARG_STRING, NULL, OPT_MAX_ROUNDS, NULL, NULL },
	{ "max-precopy-time", '\0', POPT_ARG_STRING, NULL, OPT_MAX_PRECOPY_TIME, NULL, NULL },
	{ "downtime-limit", '\0', POPT_ARG_STRING, NULL, OPT_DOWNTIME_LIMIT, NULL, NULL },
	{ "control-fd", '\0', POPT_ARG_STRING, NULL, OPT_CONTROL_FD, NULL, NULL },
	{ "then", '\0', POPT_ARG_STRING, NULL, OPT_THEN, NULL, NULL },
	{ "on-error", '\0', POPT_ARG_STRING, NULL, OPT_ON_ERROR, NULL, NULL },
	VMT_POPT_COMPRESS_OPTION(OPT_COMPRESS),
	{ "chunk-size", '\0', POPT_ARG_STRING, NULL, OPT_CHUNK_SIZE, NULL, NULL },
	{ "progress", '\0', POPT_ARG_NONE, NULL, OPT_PROGRESS, NULL, NULL },
	{ "json", '\0', POPT_ARG_NONE, NULL, OPT_JSON, NULL, NULL },
	{ "summary-file", '\0', POPT_ARG_STRING, NULL, OPT_SUMMARY_FILE, NULL, NULL },
	{ "describe", '\0', POPT_ARG_NONE, NULL, OPT_DESCRIBE, NULL, NULL },
	{ "return-fd", '\0', POPT_ARG_STRING, NULL, OPT_RETURN_FD, NULL, NULL },
	{ "return-timeout", '\0', POPT_ARG_STRING, NULL, OPT_RETURN_TIMEOUT, NULL, NULL },
	{ "jobs", 'j', POPT_ARG_STRING, NULL, OPT_JOBS, NULL, NULL },
	{ "threads", '\0', POPT_ARG_STRING, NULL, OPT_THREADS, NULL, NULL },
	{ "queue-size", '\0', POPT_ARG_STRING, NULL, OPT_QUEUE_SIZE, NULL, NULL },
	{ "channels", '\0', POPT_ARG_STRING, NULL, OPT_CHANNELS, NULL, NULL },
	{ "events", '\0', POPT_ARG_STRING, NULL, OPT_EVENTS, NULL, NULL },
	{ "syslog", '\0', POPT_ARG_NONE, NULL, OPT_SYSLOG, NULL, NULL },
	VMT_POPT_NET_OPTIONS(OPT_NET),
	POPT_TABLEEND
};

static void usage(void)
{
	printf(VMT_USAGE_HEADER
	       " %1$s [options] -d DEVICE [-d DEVICE...] [-o FILE [-o FILE...]]\n"
	       " %1$s [options] -d DEVICE... -o ADDRESS [--channels N]\n"
	       " %1$s [options] DEVICE... > FILE\n"
	       "\n"
	       "Save the migration state of VFIO devices as a migstream (on stdout or FILE).\n"
	       "\n"
	       "DEVICE is a cdev (/dev/vfio/devices/vfioN or vfioN), a PCI address\n"
	       "(0000:01:00.0 or 01:00.0), an mdev UUID, or fd:N (an open device fd).\n"
	       "\n"
	       "Options:\n"
	       " -d, --device DEVICE        a device to save (repeatable; stream order)\n"
	       " -o, --output FILE          write the stream to FILE instead of stdout; a file\n"
	       "                            is replaced only by a complete stream; repeated:\n"
	       "                            one channel of a set per FILE (a file, fd:N or -)\n"
	       " -o, --output ADDRESS       connect to a listening vfio-mig-load: tcp:HOST:PORT,\n"
	       "                            tcp:[IPv6]:PORT or unix:PATH; the replies come back\n"
	       "                            on channel 0's connection (no --return-fd)\n"
	       "     --channels N           N connections to ADDRESS, the channels of one set\n"
	       " -f, --force                write binary data even to a terminal\n"
	       "     --group                open through the legacy group/container interface\n"
	       "     --precopy              pre-copy (every device must have PRE_COPY)\n"
	       "     --no-precopy           stop-copy only (default: pre-copy where supported)\n"
	       "     --threshold SIZE       switch over when initial + dirty bytes <= SIZE (0)\n"
	       "     --max-rounds N         switch over after N pre-copy rounds (default %2$d;\n"
	       "                            0: no limit)\n"
	       "     --max-precopy-time T   switch over after T of pre-copy (e.g. 2s, 500ms)\n"
	       "     --downtime-limit T     switch over once the expected stop-copy time is\n"
	       "                            at most T; --threshold and --max-rounds then\n"
	       "                            apply only when given\n"
	       "     --control-fd N         switch over when a byte arrives on fd N; the\n"
	       "                            automatic triggers then apply only when given\n"
	       "     --then STATE           device state after a complete save: stop (default)\n"
	       "                            or running\n"
	       "     --on-error STATE       device state after a failure: running or stop\n"
	       "                            (default: the state it was in at the start)\n"
	       "     --return-fd N          read vfio-mig-load's replies (--return-fd) on fd N:\n"
	       "                            switch over after its acks, succeed only when it\n"
	       "                            says every device was loaded\n"
	       "     --return-timeout T     longest wait for a reply, and longest a write\n"
	       "                            may make no progress (default 60s)\n"
	       " -z, --compress[=LEVEL]     zstd-compress records (-zLEVEL: 1-%3$d, default %4$d)\n"
	       " -j, --jobs N               devices read at once (default: all of them)\n"
	       "     --threads N            compression threads with -z (default: CPU count)\n"
	       "     --queue-size SIZE      device data in flight at most (default 64M)\n"
	       "     --chunk-size SIZE      bytes of device data per DATA record (default 1M)\n"
	       "     --progress             show progress on stderr\n"
	       "     --json                 print the summary as JSON on stderr\n"
	       "     --summary-file FILE    also write the JSON summary to FILE\n"
	       "     --describe             write only the device records, no state, and\n"
	       "                            leave the devices as they are (for a target's\n"
	       "                            vfio-mig-load's dry run)\n"
	       "     --events FILE          record what happens, as it happens, as JSON lines\n"
	       "                            in FILE (vfio-mig-events(5))\n"
	       "     --syslog               the one-line outcome (and the events file's name)\n"
	       "                            to syslog(3), also on failure\n",
	       vmt_progname(), DEFAULT_MAX_ROUNDS, VMT_CLI_MAX_ZSTD_LEVEL,
	       VMT_CLI_DEFAULT_ZSTD_LEVEL);
	printf(VMT_NET_USAGE_OPTIONS VMT_NET_USAGE_CONNECT_TIMEOUT);
	printf(VMT_USAGE_COMMON_OPTIONS(28));
	printf("\nSIGUSR1 asks for the switchover to stop-copy; SIGINT/SIGTERM/SIGHUP stop the\n"
	       "save and put the devices back.\n");
	printf(VMT_USAGE_TAIL);
}

static uint32_t state_or_usage(const char *s, const char *option)
{
	uint32_t state;

	if (vmt_state_parse(s, &state) < 0 ||
	    (state != VFIO_DEVICE_STATE_STOP && state != VFIO_DEVICE_STATE_RUNNING))
		vmt_usage_error("invalid %s argument: '%s' (expected stop or running)", option, s);
	return state;
}

static void add_output(struct save_options *o, const char *name)
{
	if (vmt_net_is_address(name) || o->address) {
		if (o->noutputs || o->address)
			vmt_usage_error(
				"-o %s: an address is the only output (--channels N makes its channels)",
				name);
		o->address = name;
		return;
	}
	if (o->noutputs == MIGSTREAM_MAX_CHANNELS)
		vmt_usage_error("too many outputs (at most %d channels)", MIGSTREAM_MAX_CHANNELS);
	if (strncmp(name, "fd:", 3) == 0)
		(void)vmt_cli_fd_or_usage(name + 3, "--output fd:N");
	for (unsigned int i = 0; i < o->noutputs; i++)
		if (vmt_outfile_same(o->outputs[i], name))
			vmt_usage_error("-o %s given twice (each channel needs its own output)",
					name);
	o->outputs[o->noutputs++] = name;
}

static void add_device(struct save_options *o, const char *spec)
{
	if (o->ndevices == SAVE_MAX_DEVICES)
		vmt_usage_error("too many devices (at most %d)", SAVE_MAX_DEVICES);
	o->devices[o->ndevices++] = vmt_cli_device_or_usage(spec, VMT_CLI_DEVICE_ANY);
}

/* --describe moves no device and saves no state: the options for either make no sense with it. */
static void check_describe_options(const struct save_opts *o)
{
	if (o->describe &&
	    (o->mode != SAVE_MODE_AUTO || o->threshold_set || o->max_rounds_set ||
	     o->max_precopy_time_set || o->downtime_limit_set || o->control_fd >= 0 ||
	     o->then_state != VFIO_DEVICE_STATE_STOP || o->on_error_state != VMT_STATE_UNKNOWN))
		vmt_usage_error(
			"--describe saves no state and moves no device: it does not go with "
			"pre-copy options, --then or --on-error");
}

/* One of the options; the checks that need them all come after. */
static void take_option(struct save_options *o, int opt, const char *arg)
{
	switch (opt) {
	case OPT_DEVICE:
		add_device(o, arg);
		break;
	case OPT_OUTPUT:
		add_output(o, arg);
		break;
	case OPT_FORCE:
		o->force = true;
		break;
	case OPT_GROUP:
		o->group = true;
		break;
	case OPT_PRECOPY:
	case OPT_NO_PRECOPY:
		if (o->save.mode != SAVE_MODE_AUTO)
			vmt_usage_error("--precopy and --no-precopy cannot be combined");
		o->save.mode = opt == OPT_PRECOPY ? SAVE_MODE_PRECOPY : SAVE_MODE_STOP_COPY;
		break;
	case OPT_THRESHOLD:
		o->save.threshold = vmt_size_or_usage(arg, "--threshold");
		o->save.threshold_set = true;
		break;
	case OPT_MAX_ROUNDS:
		o->save.max_rounds = vmt_u64_or_usage(arg, "--max-rounds", 0, UINT32_MAX);
		o->save.max_rounds_set = true;
		break;
	case OPT_MAX_PRECOPY_TIME:
		o->save.max_precopy_ns = vmt_duration_ns_or_usage(arg, "--max-precopy-time");
		o->save.max_precopy_time_set = true;
		break;
	case OPT_DOWNTIME_LIMIT:
		o->save.downtime_limit_ns = vmt_duration_ns_or_usage(arg, "--downtime-limit");
		o->save.downtime_limit_set = true;
		break;
	case OPT_CONTROL_FD:
		o->save.control_fd = vmt_u64_or_usage(arg, "--control-fd", 0, INT32_MAX);
		break;
	case OPT_THEN:
		o->save.then_state = state_or_usage(arg, "--then");
		break;
	case OPT_ON_ERROR:
		o->save.on_error_state = state_or_usage(arg, "--on-error");
		break;
	case OPT_COMPRESS:
		o->zstd_level = vmt_cli_compress_level(arg);
		break;
	case OPT_CHUNK_SIZE:
		o->save.chunk_size = vmt_size_or_usage(arg, "--chunk-size");
		if (o->save.chunk_size < 512 || o->save.chunk_size > MIGSTREAM_MAX_CHUNK)
			vmt_usage_error("invalid --chunk-size argument: '%s' (512 to %u bytes)",
					arg, MIGSTREAM_MAX_CHUNK);
		break;
	case OPT_PROGRESS:
		o->progress = true;
		break;
	case OPT_JSON:
		o->json = true;
		break;
	case OPT_RETURN_FD:
		o->save.return_fd = vmt_cli_fd_or_usage(arg, "--return-fd");
		break;
	case OPT_RETURN_TIMEOUT:
		o->save.return_timeout_ns = vmt_duration_ns_or_usage(arg, "--return-timeout");
		if (!o->save.return_timeout_ns)
			vmt_usage_error(
				"invalid --return-timeout argument: '%s' (must be more than 0)",
				arg);
		break;
	case OPT_SUMMARY_FILE:
		o->summary_file = arg;
		break;
	case OPT_DESCRIBE:
		o->save.describe = true;
		break;
	case OPT_JOBS:
		o->save.jobs = vmt_u64_or_usage(arg, "--jobs", 1, SAVE_MAX_DEVICES);
		break;
	case OPT_THREADS:
		o->save.threads = vmt_u64_or_usage(arg, "--threads", 1, 256);
		break;
	case OPT_QUEUE_SIZE:
		o->save.queue_size = vmt_size_or_usage(arg, "--queue-size");
		break;
	case OPT_CHANNELS:
		o->channels = vmt_u64_or_usage(arg, "--channels", 1, MIGSTREAM_MAX_CHANNELS);
		break;
	case OPT_EVENTS:
		o->events_file = arg;
		break;
	case OPT_SYSLOG:
		o->syslog = true;
		break;
	default:
		vmt_net_cli_take(&o->net, OPT_NET, opt, arg);
		break;
	}
}

/* -o ADDRESS: the transport's options, and the return path it brings. */
static void check_address(const struct save_options *o)
{
	vmt_net_cli_check(&o->net, o->address, true);
	if (o->channels && !o->address)
		vmt_usage_error(
			"--channels is for -o ADDRESS (files are channels by repeating -o)");
	if (!o->address)
		return;
	if (o->save.return_fd >= 0)
		vmt_usage_error(
			"-o %s carries the return path on channel 0's connection: no --return-fd",
			o->address);
	if (o->save.describe)
		vmt_usage_error(
			"--describe and -o %s cannot be combined (a description is not loaded)",
			o->address);
}

/* What no single option can check: the devices, and the options that do not go together. */
static void check_combinations(const struct save_options *o)
{
	if (!o->ndevices)
		vmt_usage_error("no device given (use -d DEVICE)");
	for (unsigned int i = 0; i < o->ndevices; i++)
		for (unsigned int j = 0; j < i; j++)
			if (strcmp(o->devices[i], o->devices[j]) == 0)
				vmt_usage_error("device '%s' given twice", o->devices[i]);
	if (o->save.mode == SAVE_MODE_STOP_COPY &&
	    (o->save.threshold_set || o->save.max_rounds_set || o->save.max_precopy_time_set ||
	     o->save.downtime_limit_set || o->save.control_fd >= 0))
		vmt_usage_error(
			"--threshold, --max-rounds, --max-precopy-time, --downtime-limit and --control-fd are for pre-copy, not with --no-precopy");
	check_describe_options(&o->save);
	check_address(o);
	if (o->save.describe && o->save.return_fd >= 0)
		vmt_usage_error(
			"--describe and --return-fd cannot be combined (a description is not loaded)");
	if (o->save.queue_size < o->save.chunk_size)
		vmt_usage_error(
			"--queue-size %llu is less than the chunk size (%u): no chunk would fit",
			(unsigned long long)o->save.queue_size, o->save.chunk_size);
	if (o->save.control_fd >= 0 && fcntl(o->save.control_fd, F_GETFD) < 0)
		vmt_usage_error("invalid --control-fd argument: '%d' (not an open file descriptor)",
				o->save.control_fd);
	for (unsigned int i = 0; !o->address && i < (o->noutputs ? o->noutputs : 1); i++)
		if (o->summary_file && vmt_outfile_same(o->outputs[i], o->summary_file))
			vmt_usage_error(
				"--summary-file %s is the stream's output: it would overwrite the stream",
				o->summary_file);
	for (unsigned int i = 0; i < (o->noutputs ? o->noutputs : 1); i++)
		if (o->events_file && vmt_outfile_same(o->outputs[i], o->events_file))
			vmt_usage_error(
				"--events %s is the stream's output: it would overwrite the stream",
				o->events_file);
}

void save_options_parse(struct save_options *o, int argc, const char **argv)
{
	const char *arg;
	int opt;

	*o = (struct save_options){
		.save = {
			.control_fd = -1,
			.then_state = VFIO_DEVICE_STATE_STOP,
			.on_error_state = VMT_STATE_UNKNOWN,
			.chunk_size = MIGSTREAM_DEFAULT_CHUNK,
			.max_rounds = DEFAULT_MAX_ROUNDS,
			.return_fd = -1,
			.return_timeout_ns = DEFAULT_RETURN_TIMEOUT_NS,
			.queue_size = SAVE_DEFAULT_QUEUE_SIZE,
		},
	};
	vmt_net_cli_init(&o->net);
	vmt_cli_begin(argc, argv, options);
	while ((opt = vmt_cli_next(usage)) > 0)
		take_option(o, opt, vmt_cli_arg());
	while ((arg = vmt_cli_operand()))
		add_device(o, arg);
	check_combinations(o);
}

void save_options_free(struct save_options *o)
{
	*o = (struct save_options){ 0 };
	vmt_cli_end();
}
