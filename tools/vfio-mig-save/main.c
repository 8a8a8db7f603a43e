// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vfio-mig-save: save the migration state of VFIO devices as a migstream.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "common/cli.h"
#include "common/events.h"
#include "common/closestream.h"
#include "common/exitcodes.h"
#include "common/failure.h"
#include "common/json-doc.h"
#include "common/log.h"
#include "common/outcome-syslog.h"
#include "common/outfile.h"
#include "common/progress.h"
#include "common/signals.h"
#include "common/summary-file.h"
#include "common/thread-wait.h"
#include "net/address.h"
#include "net/dial.h"
#include "stream/record-alloc.h"
#include "vfio/device-cli.h"
#include "vfio/device.h"
#include "vfio/mig-events.h"
#include "vfio/mig.h"
#include "options.h"
#include "output.h"
#include "return-path.h"
#include "save.h"
#include "summary.h"

/* 0, or the exit code: a terminal refused is a usage matter. */
static int open_output(const struct save_options *opts, const char *name, struct vmt_outfile *out)
{
	int ret = vmt_outfile_open(out, name);

	if (ret < 0) {
		vmt_err("%s: cannot open for writing: %s", name, strerror(-ret));
		return VMT_EXIT_FAILURE;
	}
	if (!vmt_binary_output_ok(out->fd, opts->force)) {
		vmt_outfile_abort(out);
		vmt_outfile_free(out);
		return VMT_EXIT_USAGE;
	}
	return 0;
}

/* -o ADDRESS's connections, one per channel (static: messages name them to the end) */
static struct vmt_net_dial dial;
static char channel_labels[MIGSTREAM_MAX_CHANNELS][VMT_NET_HOST_MAX + 64];

/*
 * -o ADDRESS: the channels connected (before any device is touched, so a
 * destination that is not there costs the source nothing); each output is
 * the tool's end of its channel's pump, written in place.
 */
static int connect_outputs(struct save_options *opts, struct vmt_outfile *outs, unsigned int *nouts)
{
	unsigned int n = opts->channels ? opts->channels : 1;
	char err[1024];

	if (vmt_net_dial(&dial, opts->address, n, &opts->net, vmt_stop_signal, err, sizeof(err)) <
	    0) {
		vmt_err("%s", err);
		return VMT_EXIT_FAILURE;
	}
	for (unsigned int i = 0; i < n; i++) {
		if (n > 1)
			snprintf(channel_labels[i], sizeof(channel_labels[i]), "%s channel %u",
				 opts->address, i);
		else
			snprintf(channel_labels[i], sizeof(channel_labels[i]), "%s", opts->address);
		outs[i] = (struct vmt_outfile){ .name = channel_labels[i],
						.fd = fcntl(dial.fds[i], F_DUPFD_CLOEXEC, 3) };
		if (outs[i].fd < 0) {
			vmt_err("%s: %s", channel_labels[i], strerror(errno));
			for (unsigned int j = 0; j < i; j++)
				vmt_outfile_abort(&outs[j]);
			vmt_net_dial_free(&dial);
			return VMT_EXIT_FAILURE;
		}
	}
	/* The return path is implied: the replies come back on channel 0's connection. */
	opts->save.return_fd = dial.fds[0];
	*nouts = n;
	return 0;
}

/*
 * After the outputs are closed: with -o ADDRESS, a good save is good only
 * once every channel delivered its bytes and ended cleanly (a pump's
 * failure is the save's); after a failure, a broken connection's own
 * words say more than the broken pipe the writer met.
 */
static void finish_connections(struct save_ctx *ctx, const struct save_options *opts)
{
	char err[1024];
	int ret;

	if (!opts->address)
		return;
	if (!vmt_failed(&ctx->failure)) {
		ret = vmt_net_dial_finish(&dial, opts->save.return_timeout_ns, err, sizeof(err));
		if (ret < 0)
			save_destination_failure(ctx, &(struct vmt_where){ .file = opts->address },
						 ret, "%s", err);
	} else if (!(ctx->rp && return_path_result(ctx->rp)) &&
		   (ret = vmt_net_dial_error(&dial, err, sizeof(err))) < 0) {
		/*
		 * A broken connection, not the destination's word: its own
		 * words (a reset, a TLS record cut short) instead of the broken
		 * pipe or the closed return channel it caused. The source was
		 * recovered already; only the line changes.
		 */
		vmt_failure_free(&ctx->failure);
		ctx->failure = (struct vmt_failure){ 0 };
		save_destination_failure(ctx, &(struct vmt_where){ .file = opts->address }, ret,
					 "%s", err);
	}
	vmt_net_dial_free(&dial);
}

/* Every output (none given: standard output); on failure none stays open. */
static int open_outputs(struct save_options *opts, struct vmt_outfile *outs, unsigned int *nouts)
{
	unsigned int n = opts->noutputs ? opts->noutputs : 1;
	int ret;

	if (opts->address)
		return connect_outputs(opts, outs, nouts);
	*nouts = 0;
	for (unsigned int i = 0; i < n; i++) {
		ret = open_output(opts, opts->noutputs ? opts->outputs[i] : NULL, &outs[i]);
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
static int start_writers(struct save_ctx *ctx, const struct save_options *opts,
			 struct vmt_outfile *outs, struct migstream_channel *chans)
{
	struct migstream_writer_opts wopts = { 0 };
	uint8_t set_id[MIGSTREAM_SET_ID_LEN];
	int ret;

	if (ctx->nchannels > 1 && getrandom(set_id, sizeof(set_id), 0) != sizeof(set_id))
		return vmt_fail(&ctx->failure, &(struct vmt_where){ 0 }, -errno, 0,
				"choosing a set id");
	wopts.producer = "vfio-mig-save";
	wopts.zstd_level = opts->zstd_level;
	wopts.chunk_size = opts->save.chunk_size;
	/* A write blocked by a stalled reader gives up on a stop, not holding the devices. */
	wopts.cancelled = output_writer_cancelled;
	wopts.cancel_ctx = ctx;
	for (unsigned int i = 0; i < ctx->nchannels; i++) {
		struct save_channel *ch = &ctx->channels[i];

		if (ctx->nchannels > 1) {
			chans[i] = (struct migstream_channel){ .channel = i,
							       .channel_count = ctx->nchannels };
			memcpy(chans[i].set_id, set_id, sizeof(set_id));
			wopts.channel = &chans[i];
		}
		ret = migstream_writer_new(&ch->writer, outs[i].fd, &wopts);
		if (ret < 0)
			return vmt_fail(&ctx->failure, &(struct vmt_where){ .file = ch->name }, ret,
					0, "cannot start the stream");
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
		vmt_refuse(
			&ctx->failure, &at, ret, 0,
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
static char *write_summary_file(const struct save_options *opts, struct save_ctx *ctx,
				const char *error_line)
{
	if (!opts->summary_file || !vmt_summary_file_report(&ctx->failure, opts->summary_file,
							    summary_json(ctx, error_line),
							    opts->json, "stream complete, but "))
		return NULL;
	return summary_error_line(ctx);
}

/* The "exit" event (and the "failure" one before it) of --events, and --syslog's line. */
static void record_outcome(const struct save_options *opts, struct save_ctx *ctx, int code,
			   const char *line)
{
	char ok[128];

	snprintf(ok, sizeof(ok), "%s %u device%s, %llu stream bytes",
		 ctx->opts.describe ? "described" : "saved", ctx->ndevs, ctx->ndevs == 1 ? "" : "s",
		 (unsigned long long)ctx->result.stream_bytes);
	vmt_events_exit(ctx->events, code, &ctx->failure, line, ok);
	if (opts->syslog)
		vmt_syslog_outcome(code != VMT_EXIT_OK, code != VMT_EXIT_OK ? line : ok,
				   opts->events_file);
}

/*
 * --events: the recorder, and lib/vfio/mig's arcs into it, before any
 * device is touched. Returns the exit code (0 when it is open or not asked for).
 */
static int open_events(const struct save_options *opts, struct vmt_events **ev)
{
	int ret;

	*ev = NULL;
	if (!opts->events_file)
		return VMT_EXIT_OK;
	ret = vmt_events_open(ev, opts->events_file, vmt_progname(), 0);
	if (ret < 0) {
		vmt_err("%s: cannot open for writing: %s", opts->events_file, strerror(-ret));
		if (opts->syslog)
			vmt_syslog_outcome(true, "the events file cannot be opened for writing",
					   opts->events_file);
		return VMT_EXIT_FAILURE;
	}
	vmt_mig_record_events(*ev);
	return VMT_EXIT_OK;
}

/* The events file is closed last; events that could not be written are one more warning. */
static void close_events(struct vmt_events *ev)
{
	const char *name = ev ? vmt_events_path(ev) : NULL;
	char *copy = name ? strdup(name) : NULL;
	int ret;

	vmt_mig_record_events(NULL);
	ret = vmt_events_close(ev);
	if (ret < 0)
		vmt_warn("%s: events lost: %s", copy ? copy : "--events", strerror(-ret));
	free(copy);
}

/*
 * The one place a save's outcome is told: with --json the document (which
 * carries the error) is all that goes to stderr; otherwise the error line
 * or the text summary. The summary file gets the document either way.
 * Returns the exit code.
 */
static int report(const struct save_options *opts, struct save_ctx *ctx)
{
	bool failed = vmt_failed(&ctx->failure);
	char *line = failed ? summary_error_line(ctx) : NULL;
	char *summary_line;
	int code;

	/*
	 * Also after a complete stream ("stream complete, but ..."): the
	 * source failed to reach --then cleanly (a reset loses its state),
	 * which its owner must hear about; the file is kept for the load.
	 */
	if (failed && !opts->json)
		vmt_err("%s", line ? line : "out of memory");
	summary_line = write_summary_file(opts, ctx, line);
	if (!failed && vmt_failed(&ctx->failure)) {
		failed = true;
		line = summary_line;
		if (!opts->json)
			vmt_err("%s", line ? line : "out of memory");
	}
	if (opts->json)
		vmt_json_emit(stderr, summary_json(ctx, line));
	else if (!failed)
		summary_print_text(ctx);
	code = failed ? vmt_failure_exit_code(&ctx->failure) : VMT_EXIT_OK;
	record_outcome(opts, ctx, code, line);
	free(line);
	return code;
}

/* The context one save runs in, over the outputs opened. */
static void init_ctx(struct save_ctx *ctx, struct vmt_outfile *outs, unsigned int nouts)
{
	pthread_mutex_init(&ctx->lock, NULL);
	vmt_cond_init_monotonic(&ctx->changed);
	ctx->nchannels = nouts;
	ctx->output_name = vmt_outfile_label(&outs[0]);
	for (unsigned int i = 0; i < nouts; i++)
		ctx->channels[i].name = vmt_outfile_label(&outs[i]);
}

/* Every device, in stream order: 0, or -errno (recorded). */
static int open_devices(struct save_ctx *ctx, const struct save_options *opts)
{
	struct vmt_device_open_opts open_opts = { .force_group = opts->group };
	int ret;

	for (unsigned int i = 0; i < opts->ndevices; i++) {
		ret = vmt_device_open(opts->devices[i], &open_opts, &ctx->devs[i].dev);
		if (ret < 0)
			return vmt_fail_device_open(&ctx->failure, opts->devices[i], ret, 0);
		ctx->devs[i].index = i;
		ctx->devs[i].start_state = VMT_STATE_UNKNOWN;
		ctx->devs[i].final_state = VMT_STATE_UNKNOWN;
		ctx->ndevs = i + 1;
	}
	return 0;
}

/* The engine's options: the command line's, with the defaults that depend on the host. */
static void set_engine_options(struct save_ctx *ctx, const struct save_options *opts)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	ctx->opts = opts->save;
	ctx->opts.zstd_level = opts->zstd_level;
	if (!ctx->opts.threads)
		ctx->opts.threads = cpus > 0 ? (unsigned int)cpus : 1;
	/* With --json, stderr carries the JSON document: no progress unless asked for. */
	ctx->opts.progress = opts->progress || (!opts->json && vmt_progress_wanted(false));
}

/*
 * The devices opened, a writer per output, then the save (or the
 * description). What fails is recorded in ctx->failure.
 */
static void run(struct save_ctx *ctx, const struct save_options *opts, struct vmt_outfile *outs,
		struct migstream_channel *chans)
{
	int ret;

	if (open_devices(ctx, opts) < 0 || start_writers(ctx, opts, outs, chans) < 0)
		return;
	set_engine_options(ctx, opts);
	if (opts->save.return_fd >= 0 && (ret = return_path_open(&ctx->rp, opts->save.return_fd,
								 opts->save.return_timeout_ns)) < 0)
		vmt_fail(&ctx->failure, &(struct vmt_where){ 0 }, ret, 0, "return fd %d",
			 opts->save.return_fd);
	else if (opts->save.describe)
		save_describe(ctx);
	else
		save_run(ctx);
}

/* After the report: what the save held. */
static void release(struct save_ctx *ctx)
{
	for (unsigned int i = 0; i < ctx->nchannels; i++)
		migstream_writer_free(ctx->channels[i].writer);
	return_path_free(ctx->rp);
	for (unsigned int i = 0; i < ctx->ndevs; i++)
		vmt_device_close(ctx->devs[i].dev);
	vmt_failure_free(&ctx->failure);
	pthread_cond_destroy(&ctx->changed);
	pthread_mutex_destroy(&ctx->lock);
}

int main(int argc, const char **argv)
{
	/* static: large, and what they hold stays reachable at exit */
	static struct vmt_outfile outs[MIGSTREAM_MAX_CHANNELS];
	static struct save_channel channels[MIGSTREAM_MAX_CHANNELS];
	static struct migstream_channel chans[MIGSTREAM_MAX_CHANNELS];
	struct save_device devs[SAVE_MAX_DEVICES] = { 0 };
	struct save_ctx ctx = { .devs = devs, .channels = channels };
	struct save_options opts;
	unsigned int nouts;
	int code;

	vmt_log_init(argv[0]);
	vmt_record_alloc_init();
	save_options_parse(&opts, argc, argv);
	vmt_ignore_sigpipe();
	/* SIGINT/SIGTERM/SIGHUP stop the save, SIGUSR1 asks for the switchover. */
	vmt_signals_install(VMT_SIGUSR1_SWITCHOVER);

	code = open_events(&opts, &ctx.events);
	if (code == VMT_EXIT_OK && (code = open_outputs(&opts, outs, &nouts)) != VMT_EXIT_OK) {
		vmt_events_exit(ctx.events, code, NULL, NULL, "the output could not be opened");
		if (opts.syslog)
			vmt_syslog_outcome(true, "the output could not be opened",
					   opts.events_file);
	}
	if (code == VMT_EXIT_OK) {
		init_ctx(&ctx, outs, nouts);
		if (opts.address)
			ctx.return_name = channel_labels[0];
		run(&ctx, &opts, outs, chans);
		for (unsigned int i = 0; i < nouts; i++)
			finish_output(&outs[i], &ctx);
		finish_connections(&ctx, &opts);
		code = report(&opts, &ctx);
		release(&ctx);
	}
	close_events(ctx.events);
	save_options_free(&opts);
	return vmt_cli_exit(code);
}
