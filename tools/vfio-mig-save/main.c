// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vfio-mig-save: save the migration state of VFIO devices as a migstream.
 */
#include <errno.h>
#include <fcntl.h>
#include <popt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cli.h"
#include "common/closestream.h"
#include "common/exitcodes.h"
#include "common/failure.h"
#include "common/json-doc.h"
#include "common/log.h"
#include "common/outfile.h"
#include "common/progress.h"
#include "common/signals.h"
#include "common/strutils.h"
#include "common/summary-file.h"
#include "stream/record-alloc.h"
#include "vfio/device-cli.h"
#include "vfio/device.h"
#include "vfio/mig.h"
#include "output.h"
#include "return-path.h"
#include "save.h"
#include "summary.h"

#define MAX_DEVICES 64
#define DEFAULT_MAX_ROUNDS 32
/* How long the save waits for a reply it needs on the return path. */
#define DEFAULT_RETURN_TIMEOUT_NS (60ull * 1000000000ull)

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
	POPT_TABLEEND
};

/* The strings point into lib/common/cli's arguments, valid until vmt_cli_end(). */
struct cli {
	const char *devices[MAX_DEVICES];
	unsigned int ndevices;
	const char *outputs[MIGSTREAM_MAX_CHANNELS]; /* none: standard output */
	unsigned int noutputs;
	const char *summary_file;
	bool force, group, json, progress;
	int zstd_level;
	struct save_opts save;
};

static void usage(void)
{
	printf(VMT_USAGE_HEADER
	       " %1$s [options] -d DEVICE [-d DEVICE...] [-o FILE [-o FILE...]]\n"
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
	       " -f, --force                write binary data even to a terminal\n"
	       "     --group                open through the legacy group/container interface\n"
	       "     --precopy              pre-copy (every device must have PRE_COPY)\n"
	       "     --no-precopy           stop-copy only (default: pre-copy where supported)\n"
	       "     --threshold SIZE       switch over when initial + dirty bytes <= SIZE (0)\n"
	       "     --max-rounds N         switch over after N pre-copy rounds (default %2$d;\n"
	       "                            0: no limit)\n"
	       "     --max-precopy-time T   switch over after T of pre-copy (e.g. 2s, 500ms)\n"
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
	       "                            vfio-mig-load's dry run)\n",
	       vmt_progname(), DEFAULT_MAX_ROUNDS, VMT_CLI_MAX_ZSTD_LEVEL, VMT_CLI_DEFAULT_ZSTD_LEVEL);
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

static void add_output(struct cli *cli, const char *name)
{
	if (cli->noutputs == MIGSTREAM_MAX_CHANNELS)
		vmt_usage_error("too many outputs (at most %d channels)", MIGSTREAM_MAX_CHANNELS);
	if (strncmp(name, "fd:", 3) == 0)
		(void)vmt_cli_fd_or_usage(name + 3, "--output fd:N");
	for (unsigned int i = 0; i < cli->noutputs; i++)
		if (vmt_outfile_same(cli->outputs[i], name))
			vmt_usage_error("-o %s given twice (each channel needs its own output)", name);
	cli->outputs[cli->noutputs++] = name;
}

static void add_device(struct cli *cli, const char *spec)
{
	if (cli->ndevices == MAX_DEVICES)
		vmt_usage_error("too many devices (at most %d)", MAX_DEVICES);
	cli->devices[cli->ndevices++] = vmt_cli_device_or_usage(spec, VMT_CLI_DEVICE_ANY);
}

/* --describe moves no device and saves no state: the options for either make no sense with it. */
static void check_describe_options(const struct cli *cli)
{
	const struct save_opts *o = &cli->save;

	if (o->describe && (o->mode != SAVE_MODE_AUTO || o->threshold_set || o->max_rounds_set ||
			    o->max_precopy_time_set || o->control_fd >= 0 ||
			    o->then_state != VFIO_DEVICE_STATE_STOP ||
			    o->on_error_state != VMT_STATE_UNKNOWN))
		vmt_usage_error("--describe saves no state and moves no device: it does not go with "
				"pre-copy options, --then or --on-error");
}

static void parse_options(int argc, const char **argv, struct cli *cli)
{
	const char *arg;
	int rc;

	vmt_cli_begin(argc, argv, options);
	while ((rc = vmt_cli_next(usage)) > 0) {
		arg = vmt_cli_arg();
		switch (rc) {
		case OPT_DEVICE:
			add_device(cli, arg);
			break;
		case OPT_OUTPUT:
			add_output(cli, arg);
			break;
		case OPT_FORCE:
			cli->force = true;
			break;
		case OPT_GROUP:
			cli->group = true;
			break;
		case OPT_PRECOPY:
		case OPT_NO_PRECOPY:
			if (cli->save.mode != SAVE_MODE_AUTO)
				vmt_usage_error("--precopy and --no-precopy cannot be combined");
			cli->save.mode = rc == OPT_PRECOPY ? SAVE_MODE_PRECOPY : SAVE_MODE_STOP_COPY;
			break;
		case OPT_THRESHOLD:
			cli->save.threshold = vmt_size_or_usage(arg, "--threshold");
			cli->save.threshold_set = true;
			break;
		case OPT_MAX_ROUNDS:
			cli->save.max_rounds = vmt_u64_or_usage(arg, "--max-rounds", 0, UINT32_MAX);
			cli->save.max_rounds_set = true;
			break;
		case OPT_MAX_PRECOPY_TIME:
			cli->save.max_precopy_ns = vmt_duration_ns_or_usage(arg, "--max-precopy-time");
			cli->save.max_precopy_time_set = true;
			break;
		case OPT_CONTROL_FD:
			cli->save.control_fd = vmt_u64_or_usage(arg, "--control-fd", 0, INT32_MAX);
			break;
		case OPT_THEN:
			cli->save.then_state = state_or_usage(arg, "--then");
			break;
		case OPT_ON_ERROR:
			cli->save.on_error_state = state_or_usage(arg, "--on-error");
			break;
		case OPT_COMPRESS:
			cli->zstd_level = vmt_cli_compress_level(arg);
			break;
		case OPT_CHUNK_SIZE:
			cli->save.chunk_size = vmt_size_or_usage(arg, "--chunk-size");
			if (cli->save.chunk_size < 512 || cli->save.chunk_size > MIGSTREAM_MAX_CHUNK)
				vmt_usage_error("invalid --chunk-size argument: '%s' (512 to %u bytes)", arg,
						MIGSTREAM_MAX_CHUNK);
			break;
		case OPT_PROGRESS:
			cli->progress = true;
			break;
		case OPT_JSON:
			cli->json = true;
			break;
		case OPT_RETURN_FD:
			cli->save.return_fd = vmt_cli_fd_or_usage(arg, "--return-fd");
			break;
		case OPT_RETURN_TIMEOUT:
			cli->save.return_timeout_ns = vmt_duration_ns_or_usage(arg, "--return-timeout");
			if (!cli->save.return_timeout_ns)
				vmt_usage_error("invalid --return-timeout argument: '%s' (must be more than 0)", arg);
			break;
		case OPT_SUMMARY_FILE:
			cli->summary_file = arg;
			break;
		case OPT_DESCRIBE:
			cli->save.describe = true;
			break;
		case OPT_JOBS:
			cli->save.jobs = vmt_u64_or_usage(arg, "--jobs", 1, MAX_DEVICES);
			break;
		case OPT_THREADS:
			cli->save.threads = vmt_u64_or_usage(arg, "--threads", 1, 256);
			break;
		case OPT_QUEUE_SIZE:
			cli->save.queue_size = vmt_size_or_usage(arg, "--queue-size");
			break;
		}
	}
	while ((arg = vmt_cli_operand()))
		add_device(cli, arg);
	if (!cli->ndevices)
		vmt_usage_error("no device given (use -d DEVICE)");
	for (unsigned int i = 0; i < cli->ndevices; i++)
		for (unsigned int j = 0; j < i; j++)
			if (strcmp(cli->devices[i], cli->devices[j]) == 0)
				vmt_usage_error("device '%s' given twice", cli->devices[i]);
	if (cli->save.mode == SAVE_MODE_STOP_COPY &&
	    (cli->save.threshold_set || cli->save.max_rounds_set || cli->save.max_precopy_time_set ||
	     cli->save.control_fd >= 0))
		vmt_usage_error("--threshold, --max-rounds, --max-precopy-time and --control-fd are for pre-copy, not with --no-precopy");
	check_describe_options(cli);
	if (cli->save.describe && cli->save.return_fd >= 0)
		vmt_usage_error("--describe and --return-fd cannot be combined (a description is not loaded)");
	if (cli->save.queue_size < cli->save.chunk_size)
		vmt_usage_error("--queue-size %llu is less than the chunk size (%u): no chunk would fit",
				(unsigned long long)cli->save.queue_size, cli->save.chunk_size);
	if (cli->save.control_fd >= 0 && fcntl(cli->save.control_fd, F_GETFD) < 0)
		vmt_usage_error("invalid --control-fd argument: '%d' (not an open file descriptor)",
				cli->save.control_fd);
	for (unsigned int i = 0; i < (cli->noutputs ? cli->noutputs : 1); i++)
		if (cli->summary_file && vmt_outfile_same(cli->outputs[i], cli->summary_file))
			vmt_usage_error("--summary-file %s is the stream's output: it would overwrite the stream",
					cli->summary_file);
}

/* 0, or the exit code: a terminal refused is a usage matter. */
static int open_output(const struct cli *cli, const char *name, struct vmt_outfile *out)
{
	int ret = vmt_outfile_open(out, name);

	if (ret < 0) {
		vmt_err("%s: cannot open for writing: %s", name, strerror(-ret));
		return VMT_EXIT_FAILURE;
	}
	if (!vmt_binary_output_ok(out->fd, cli->force)) {
		vmt_outfile_abort(out);
		vmt_outfile_free(out);
		return VMT_EXIT_USAGE;
	}
	return 0;
}

/* Every output (none given: standard output); on failure none stays open. */
static int open_outputs(const struct cli *cli, struct vmt_outfile *outs, unsigned int *nouts)
{
	unsigned int n = cli->noutputs ? cli->noutputs : 1;
	int ret;

	*nouts = 0;
	for (unsigned int i = 0; i < n; i++) {
		ret = open_output(cli, cli->noutputs ? cli->outputs[i] : NULL, &outs[i]);
		if (ret) {
			for (unsigned int j = 0; j < i; j++) {
				vmt_outfile_abort(&outs[j]);
				vmt_outfile_free(&outs[j]);
			}
			return ret;
		}
	}
	*nouts = n;
	return 0;
}

/*
 * A writer per output; more than one: each is a channel of one set, under
 * a random set id. 0 or -errno (recorded).
 */
static int start_writers(struct save_ctx *ctx, const struct cli *cli, struct vmt_outfile *outs,
			 struct migstream_channel *chans)
{
	struct migstream_writer_opts wopts = { 0 };
	uint8_t set_id[MIGSTREAM_SET_ID_LEN];
	int ret;

	if (ctx->nchannels > 1 && getrandom(set_id, sizeof(set_id), 0) != sizeof(set_id))
		return vmt_fail(&ctx->failure, &(struct vmt_where){ 0 }, -errno, 0, "choosing a set id");
	wopts.producer = "vfio-mig-save";
	wopts.zstd_level = cli->zstd_level;
	wopts.chunk_size = cli->save.chunk_size;
	/* A write blocked by a stalled reader gives up on a stop, not holding the devices. */
	wopts.cancelled = output_writer_cancelled;
	wopts.cancel_ctx = ctx;
	for (unsigned int i = 0; i < ctx->nchannels; i++) {
		struct save_channel *ch = &ctx->channels[i];

		if (ctx->nchannels > 1) {
			chans[i] = (struct migstream_channel){ .channel = i, .channel_count = ctx->nchannels };
			memcpy(chans[i].set_id, set_id, sizeof(set_id));
			wopts.channel = &chans[i];
		}
		ret = migstream_writer_new(&ch->writer, outs[i].fd, &wopts);
		if (ret < 0)
			return vmt_fail(&ctx->failure, &(struct vmt_where){ .file = ch->name }, ret, 0,
					"cannot start the stream");
	}
	return 0;
}

/*
 * A complete stream takes the output's name (also after a late failure of
 * the source: the file is what the load needs); anything less leaves the
 * name as it was. A rename that fails after a good save is the save's
 * failure.
 */
static void finish_output(struct vmt_outfile *out, struct save_ctx *ctx)
{
	const struct vmt_where at = { .file = vmt_outfile_label(out) };
	int ret;

	if (!ctx->result.stream_complete) {
		vmt_outfile_abort(out);
	} else if ((ret = vmt_outfile_commit(out)) == -EEXIST) {
		vmt_refuse(&ctx->failure, &at, ret, 0,
			   "replaced by another program during the save; the complete stream is kept as %s",
			   out->tmp);
	} else if (ret < 0) {
		vmt_fail(&ctx->failure, &at, ret, 0, "write error");
	}
	vmt_outfile_free(out);
}

/*
 * --summary-file, before anything is said: a summary that cannot be
 * written (lib/common/summary-file) fails a save that succeeded, and the error
 * line and the document on stderr say so; after a failed save it is one
 * more warning. Returns that failure's error line (malloc'd), or NULL.
 */
static char *write_summary_file(const struct cli *cli, struct save_ctx *ctx, const char *error_line)
{
	if (!cli->summary_file ||
	    !vmt_summary_file_report(&ctx->failure, cli->summary_file, summary_json(ctx, error_line), cli->json,
				     "stream complete, but "))
		return NULL;
	return summary_error_line(ctx);
}

/*
 * The one place a save's outcome is told: with --json the document (which
 * carries the error) is all that goes to stderr; otherwise the error line
 * or the text summary. The summary file gets the document either way.
 * Returns the exit code.
 */
static int report(const struct cli *cli, struct save_ctx *ctx)
{
	bool failed = vmt_failed(&ctx->failure);
	char *line = failed ? summary_error_line(ctx) : NULL;
	char *summary_line;

	/*
	 * Also after a complete stream ("stream complete, but ..."): the
	 * source failed to reach --then cleanly (a reset loses its state),
	 * which its owner must hear about; the file is kept for the load.
	 */
	if (failed && !cli->json)
		vmt_err("%s", line ? line : "out of memory");
	summary_line = write_summary_file(cli, ctx, line);
	if (!failed && vmt_failed(&ctx->failure)) {
		failed = true;
		line = summary_line;
		if (!cli->json)
			vmt_err("%s", line ? line : "out of memory");
	}
	if (cli->json)
		vmt_json_emit(stderr, summary_json(ctx, line));
	else if (!failed)
		summary_print_text(ctx);
	free(line);
	return failed ? vmt_failure_exit_code(&ctx->failure) : VMT_EXIT_OK;
}

int main(int argc, const char **argv)
{
	/* static: what it owns stays reachable when a usage error exit()s. */
	static struct cli cli = {
		.zstd_level = 0,
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
	static struct vmt_outfile outs[MIGSTREAM_MAX_CHANNELS];
	static struct save_channel channels[MIGSTREAM_MAX_CHANNELS];
	static struct migstream_channel chans[MIGSTREAM_MAX_CHANNELS];
	struct vmt_device_open_opts open_opts = { 0 };
	struct save_ctx ctx = { 0 };
	struct save_device devs[MAX_DEVICES];
	unsigned int nouts;
	long cpus;
	int ret, exit_code = VMT_EXIT_FAILURE;

	vmt_log_init(argv[0]);
	vmt_record_alloc_init();
	parse_options(argc, argv, &cli);
	vmt_ignore_sigpipe();
	/* SIGINT/SIGTERM/SIGHUP stop the save, SIGUSR1 asks for the switchover. */
	vmt_signals_install(VMT_SIGUSR1_SWITCHOVER);

	exit_code = open_outputs(&cli, outs, &nouts);
	if (exit_code)
		goto out_cli;
	exit_code = VMT_EXIT_FAILURE;

	memset(devs, 0, sizeof(devs));
	pthread_mutex_init(&ctx.lock, NULL);
	vmt_cond_init_monotonic(&ctx.changed);
	ctx.devs = devs;
	ctx.channels = channels;
	ctx.nchannels = nouts;
	ctx.output_name = vmt_outfile_label(&outs[0]);
	for (unsigned int i = 0; i < nouts; i++)
		channels[i].name = vmt_outfile_label(&outs[i]);
	open_opts.force_group = cli.group;
	for (unsigned int i = 0; i < cli.ndevices; i++) {
		ret = vmt_device_open(cli.devices[i], &open_opts, &devs[i].dev);
		if (ret < 0) {
			vmt_fail_device_open(&ctx.failure, cli.devices[i], ret, 0);
			goto out_report;
		}
		devs[i].index = i;
		devs[i].start_state = VMT_STATE_UNKNOWN;
		devs[i].final_state = VMT_STATE_UNKNOWN;
		ctx.ndevs = i + 1;
	}

	if (start_writers(&ctx, &cli, outs, chans) < 0)
		goto out_report;

	ctx.opts = cli.save;
	ctx.opts.zstd_level = cli.zstd_level;
	cpus = sysconf(_SC_NPROCESSORS_ONLN);
	if (!ctx.opts.threads)
		ctx.opts.threads = cpus > 0 ? (unsigned int)cpus : 1;
	/* With --json, stderr carries the JSON document: no progress unless asked for. */
	ctx.opts.progress = cli.progress || (!cli.json && vmt_progress_wanted(false));
	if (cli.save.return_fd >= 0 &&
	    (ret = return_path_open(&ctx.rp, cli.save.return_fd, cli.save.return_timeout_ns)) < 0)
		vmt_fail(&ctx.failure, &(struct vmt_where){ 0 }, ret, 0, "return fd %d", cli.save.return_fd);
	else if (cli.save.describe)
		save_describe(&ctx);
	else
		save_run(&ctx);
out_report:
	for (unsigned int i = 0; i < nouts; i++)
		finish_output(&outs[i], &ctx);
	exit_code = report(&cli, &ctx);
	for (unsigned int i = 0; i < nouts; i++)
		migstream_writer_free(channels[i].writer);
	return_path_free(ctx.rp);
	for (unsigned int i = 0; i < ctx.ndevs; i++)
		vmt_device_close(devs[i].dev);
	vmt_failure_free(&ctx.failure);
	pthread_cond_destroy(&ctx.changed);
	pthread_mutex_destroy(&ctx.lock);
out_cli:
	vmt_cli_end();
	ret = vmt_close_stdout();
	return exit_code != VMT_EXIT_OK ? exit_code : ret;
}
