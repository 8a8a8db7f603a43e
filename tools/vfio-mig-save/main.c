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
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "closestream.h"
#include "exitcodes.h"
#include "log.h"
#include "progress.h"
#include "save.h"
#include "signals.h"
#include "strutils.h"
#include "summary.h"
#include "vfio-device.h"
#include "vfio-mig.h"

#define MAX_DEVICES 64
#define DEFAULT_ZSTD_LEVEL 3
#define DEFAULT_MAX_ROUNDS 32

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
	{ "compress", 'z', POPT_ARG_STRING | POPT_ARGFLAG_OPTIONAL, NULL, OPT_COMPRESS, NULL, NULL },
	{ "chunk-size", '\0', POPT_ARG_STRING, NULL, OPT_CHUNK_SIZE, NULL, NULL },
	{ "progress", '\0', POPT_ARG_NONE, NULL, OPT_PROGRESS, NULL, NULL },
	{ "json", '\0', POPT_ARG_NONE, NULL, OPT_JSON, NULL, NULL },
	{ "summary-file", '\0', POPT_ARG_STRING, NULL, OPT_SUMMARY_FILE, NULL, NULL },
	POPT_TABLEEND
};

struct cli {
	char *owned[MAX_DEVICES + 8]; /* option arguments popt allocated, freed at exit */
	unsigned int nowned;
	const char *devices[MAX_DEVICES];
	unsigned int ndevices;
	const char *output;
	const char *summary_file;
	bool force, group, json, progress;
	int zstd_level;
	struct save_opts save;
};

static void usage(void)
{
	printf("Usage:\n"
	       " %1$s [options] -d DEVICE [-d DEVICE...] [-o FILE]\n"
	       " %1$s [options] DEVICE... > FILE\n"
	       "\n"
	       "Save the migration state of VFIO devices as a migstream (on stdout or FILE).\n"
	       "\n"
	       "DEVICE is a cdev (/dev/vfio/devices/vfioN or vfioN), a PCI address\n"
	       "(0000:01:00.0 or 01:00.0), an mdev UUID, or fd:N (an open device fd).\n"
	       "\n"
	       "Options:\n"
	       " -d, --device DEVICE        a device to save (repeatable; stream order)\n"
	       " -o, --output FILE          write the stream to FILE instead of stdout\n"
	       " -f, --force                write binary data even to a terminal\n"
	       "     --group                open through the legacy group/container interface\n"
	       "     --precopy              pre-copy (every device must have PRE_COPY)\n"
	       "     --no-precopy           stop-copy only (default: pre-copy where supported)\n"
	       "     --threshold SIZE       switch over when initial + dirty bytes <= SIZE (0)\n"
	       "     --max-rounds N         switch over after N pre-copy rounds (%2$d; 0: no limit)\n"
	       "     --max-precopy-time T   switch over after T of pre-copy (e.g. 2s, 500ms)\n"
	       "     --control-fd N         switch over when a byte arrives on fd N; the\n"
	       "                            automatic triggers then apply only when given\n"
	       "     --then STATE           device state after a complete save: stop (default)\n"
	       "                            or running\n"
	       "     --on-error STATE       device state after a failure: running or stop\n"
	       "                            (default: the state it was in at the start)\n"
	       " -z, --compress[=LEVEL]     zstd-compress records (level 1-19, default %3$d)\n"
	       "     --chunk-size SIZE      bytes of device data per DATA record (default 1M)\n"
	       "     --progress             show progress on stderr\n"
	       "     --json                 print the summary as JSON on stderr\n"
	       "     --summary-file FILE    also write the JSON summary to FILE\n"
	       " -q, --quiet                print errors only\n"
	       " -v, --verbose              say more (twice: trace every ioctl)\n"
	       " -h, --help                 display this help\n"
	       " -V, --version              display version\n"
	       "\n"
	       "SIGUSR1 asks for the switchover to stop-copy; SIGINT/SIGTERM/SIGHUP stop the\n"
	       "save and put the devices back.\n"
	       "\nExit status: 0 ok, 1 failure (device, I/O), 2 usage, 3 unsupported,\n"
	       "4 bad data.\n"
	       "\nSee vfio-mig-save(1).\n",
	       vmt_progname(), DEFAULT_MAX_ROUNDS, DEFAULT_ZSTD_LEVEL);
}

static uint32_t state_or_usage(const char *s, const char *option)
{
	uint32_t state;

	if (vmt_mig_state_parse(s, &state) < 0 ||
	    (state != VFIO_DEVICE_STATE_STOP && state != VFIO_DEVICE_STATE_RUNNING))
		vmt_usage_error("invalid %s argument: '%s' (expected stop or running)", option, s);
	return state;
}

static void add_device(struct cli *cli, const char *spec)
{
	if (cli->ndevices == MAX_DEVICES)
		vmt_usage_error("too many devices (at most %d)", MAX_DEVICES);
	cli->devices[cli->ndevices++] = spec;
}

static void parse_options(int argc, const char **argv, struct cli *cli, poptContext *pctx)
{
	poptContext ctx = poptGetContext(NULL, argc, argv, options, 0);
	const char *arg;
	int rc;

	*pctx = ctx;
	while ((rc = poptGetNextOpt(ctx)) > 0) {
		if (vmt_cli_common_option(ctx, rc, usage))
			continue;

		/* popt hands out a malloc()ed copy: kept ones go into cli->owned. */
		char *owned = poptGetOptArg(ctx);
		bool keep = false;

		arg = owned;
		switch (rc) {
		case OPT_DEVICE:
			add_device(cli, arg);
			keep = true;
			break;
		case OPT_OUTPUT:
			cli->output = arg;
			keep = true;
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
			cli->zstd_level = arg ? (int)vmt_u64_or_usage(arg, "--compress", 1, 19) :
						DEFAULT_ZSTD_LEVEL;
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
		case OPT_SUMMARY_FILE:
			cli->summary_file = arg;
			keep = true;
			break;
		}
		if (keep && cli->nowned < sizeof(cli->owned) / sizeof(cli->owned[0]))
			cli->owned[cli->nowned++] = owned;
		else
			free(owned);
	}
	vmt_cli_check_popt_end(ctx, rc);
	while ((arg = poptGetArg(ctx)))
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
	if (cli->save.control_fd >= 0 && fcntl(cli->save.control_fd, F_GETFD) < 0)
		vmt_usage_error("invalid --control-fd argument: '%d' (not an open file descriptor)",
				cli->save.control_fd);
}

/* The output fd; -1 after an error (reported), -2 when a terminal was refused (a usage matter). */
static int open_output(const struct cli *cli, bool *created)
{
	struct stat st;
	int fd;

	*created = false;
	if (!cli->output || strcmp(cli->output, "-") == 0)
		return vmt_binary_output_ok(STDOUT_FILENO, cli->force) ? STDOUT_FILENO : -2;
	fd = open(cli->output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		vmt_err("%s: cannot open for writing: %s", cli->output, strerror(errno));
		return -1;
	}
	if (!vmt_binary_output_ok(fd, cli->force)) {
		close(fd);
		return -2;
	}
	/* Only a regular file is ours to remove after a failure (not /dev/full, a FIFO, ...). */
	*created = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
	return fd;
}

static const char *open_error_hint(int err)
{
	switch (-err) {
	case ENOENT:
		return "no such device";
	case EBUSY:
		return "device busy (open in another process, or group not viable)";
	case EINVAL:
		return "not a device path, PCI address, mdev UUID or fd:N";
	case EBADF:
		return "not an open file descriptor";
	case EACCES:
	case EPERM:
		return "permission denied";
	default:
		return strerror(-err);
	}
}

static void write_summary_file(const struct cli *cli, const struct save_ctx *ctx, bool ok,
			       const char *error)
{
	FILE *f;

	if (!cli->summary_file)
		return;
	f = fopen(cli->summary_file, "we");
	if (!f) {
		vmt_warn("%s: cannot write the summary: %s", cli->summary_file, strerror(errno));
		return;
	}
	summary_print_json(f, ctx, ok, error);
	if (fclose(f) != 0)
		vmt_warn("%s: cannot write the summary: %s", cli->summary_file, strerror(errno));
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
		},
	};
	struct vmt_device_open_opts open_opts = { 0 };
	struct migstream_writer_opts wopts = { 0 };
	struct save_ctx ctx = { 0 };
	struct save_device devs[MAX_DEVICES];
	poptContext pctx;
	bool created = false;
	int out_fd, ret, exit_code = VMT_EXIT_FAILURE;
	char error[1024], states[768];

	vmt_log_init(argv[0]);
	parse_options(argc, argv, &cli, &pctx);
	vmt_ignore_sigpipe();
	/* SIGINT/SIGTERM/SIGHUP stop the save, SIGUSR1 asks for the switchover. */
	vmt_signals_install(VMT_SIGUSR1_SWITCHOVER);

	out_fd = open_output(&cli, &created);
	if (out_fd < 0) {
		exit_code = out_fd == -2 ? VMT_EXIT_USAGE : VMT_EXIT_FAILURE;
		goto out_popt;
	}

	memset(devs, 0, sizeof(devs));
	open_opts.force_group = cli.group;
	for (unsigned int i = 0; i < cli.ndevices; i++) {
		ret = vmt_device_open(cli.devices[i], &open_opts, &devs[i].dev);
		if (ret < 0) {
			vmt_err("%s: cannot open the device: %s", cli.devices[i], open_error_hint(ret));
			exit_code = vmt_exit_code_for_error(ret);
			goto out_devices;
		}
		devs[i].index = i;
		devs[i].start_state = VMT_STATE_UNKNOWN;
		devs[i].final_state = VMT_STATE_UNKNOWN;
	}

	wopts.producer = "vfio-mig-save";
	wopts.zstd_level = cli.zstd_level;
	wopts.chunk_size = cli.save.chunk_size;
	/* A write blocked by a stalled reader gives up on a stop, not holding the devices. */
	wopts.cancelled = vmt_stop_requested;
	ret = migstream_writer_new(&ctx.writer, out_fd, &wopts);
	if (ret < 0) {
		vmt_err("%s: cannot start the stream: %s", cli.output ? cli.output : "<stdout>",
			strerror(-ret));
		goto out_devices;
	}

	ctx.opts = cli.save;
	ctx.opts.progress = vmt_progress_wanted(cli.progress);
	ctx.output_name = cli.output && strcmp(cli.output, "-") ? cli.output : "<stdout>";
	ctx.devs = devs;
	ctx.ndevs = cli.ndevices;
	ret = save_run(&ctx);
	if (ret < 0) {
		const char *reason = ctx.result.what_says_all ? "" : strerror(-ctx.result.error);

		snprintf(error, sizeof(error), "%s%s%s%s; %s",
			 ctx.result.stream_complete ? "stream complete, but " : "", ctx.result.what,
			 *reason ? ": " : "", reason, summary_device_states(&ctx, states, sizeof(states)));
		/*
		 * Also after a complete stream ("stream complete, but ..."): the
		 * source failed to reach --then cleanly (a reset loses its state),
		 * which its owner must hear about; the file is kept for the load.
		 */
		vmt_err("%s", error);
		exit_code = vmt_exit_code_for_error(ctx.result.error);
		if (cli.json)
			summary_print_json(stderr, &ctx, false, error);
		write_summary_file(&cli, &ctx, false, error);
	} else {
		if (cli.json)
			summary_print_json(stderr, &ctx, true, NULL);
		else
			summary_print_text(&ctx);
		write_summary_file(&cli, &ctx, true, NULL);
		exit_code = VMT_EXIT_OK;
	}
	migstream_writer_free(ctx.writer);
out_devices:
	for (unsigned int i = 0; i < cli.ndevices; i++)
		vmt_device_close(devs[i].dev);
	if (out_fd != STDOUT_FILENO && close(out_fd) < 0 && exit_code == VMT_EXIT_OK) {
		vmt_err("%s: write error: %s", cli.output, strerror(errno));
		exit_code = VMT_EXIT_FAILURE;
	}
	/* An incomplete stream in a file would only be found later, by the loader. */
	if (created && !ctx.result.stream_complete && unlink(cli.output) == 0)
		vmt_dbg("removed the incomplete %s", cli.output);
out_popt:
	poptFreeContext(pctx);
	for (unsigned int i = 0; i < cli.nowned; i++)
		free(cli.owned[i]);
	ret = vmt_close_stdout();
	return exit_code != VMT_EXIT_OK ? exit_code : ret;
}
