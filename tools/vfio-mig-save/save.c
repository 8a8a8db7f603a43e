// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The save engine; see save.h.
 *
 * Order of events, as a VMM does it: DEVICE records; RUNNING -> PRE_COPY for
 * the devices that pre-copy, rounds of reading while they run; at the
 * switchover every device with P2P goes to RUNNING_P2P / PRE_COPY_P2P before
 * any goes further, so no device is stopped while a peer can still DMA into
 * it; then all go to STOP_COPY and each one's rest is read; DEVICE_END,
 * STREAM_END, then the state asked for with --then.
 *
 * Threads: the main thread keeps all of that (every transition, the
 * rounds, the switchover triggers, the return path); the reading is done
 * by one reader thread per device, --jobs of them at once (a round runs
 * each device's pass on its thread and waits for all), and the writing by
 * output.c's threads. The first failure anywhere cancels every thread;
 * once they are all idle the main thread puts every device back.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bridge/device-record.h"
#include "bridge/precopy-sample.h"
#include "common/closestream.h"
#include "common/failure.h"
#include "common/log.h"
#include "common/signals.h"
#include "common/strutils.h"
#include "common/timeutil.h"
#include "stream/reply.h"
#include "vfio/mig.h"
#include "vfio/precopy.h"
#include "downtime.h"
#include "output.h"
#include "return-path.h"
#include "save-events.h"
#include "save.h"

const char *save_switch_reason_name(enum save_switch_reason reason)
{
	switch (reason) {
	case SWITCH_THRESHOLD:
		return "threshold";
	case SWITCH_MAX_ROUNDS:
		return "max-rounds";
	case SWITCH_MAX_TIME:
		return "max-precopy-time";
	case SWITCH_SIGNAL:
		return "signal";
	case SWITCH_CONTROL_FD:
		return "control-fd";
	case SWITCH_DOWNTIME_LIMIT:
		return "downtime-limit";
	default:
		return "none";
	}
}

/*
 * The failure of the save: recorded once, in ctx->failure, with the device
 * it concerns (sd, or NULL); the message says what, then strerror(err).
 * From any thread; every other thread stops. Returns err.
 */
#define save_fail(ctx, sd, err, ...) save_failure((ctx), (sd), (err), false, __VA_ARGS__)
/* A failure the message says all about (err only picks the exit status). */
#define save_refuse(ctx, sd, err, ...) save_failure((ctx), (sd), (err), true, __VA_ARGS__)

/* A stop signal, or (in a reader) another thread's failure: time to stop. */
static int check_stop_signal(struct save_ctx *ctx)
{
	if (vmt_stop_signal())
		return save_refuse(ctx, NULL, -EINTR, "interrupted by %s", vmt_stop_signal_name());
	if (save_cancelled(ctx))
		return save_error(ctx);
	return 0;
}

static int set_state(struct save_ctx *ctx, struct save_device *sd, uint32_t state)
{
	uint32_t from = sd->dev->state;
	int ret;

	sd->touched = true;
	ret = vmt_mig_set_state(sd->dev, state);
	if (ret < 0)
		return save_fail(ctx, sd, ret, "%s -> %s failed", vmt_state_name(from),
				 vmt_state_name(state));
	return 0;
}

/* ---- progress on stderr ---- */

/* A device's bytes so far: its reader adds them while the main thread shows progress. */
static uint64_t sent(const struct save_device *sd, enum migstream_phase phase)
{
	return atomic_load_explicit(&sd->bytes[phase], memory_order_relaxed);
}

static uint64_t precopy_sent(const struct save_device *sd)
{
	return sent(sd, MIGSTREAM_PHASE_PRECOPY_INITIAL) + sent(sd, MIGSTREAM_PHASE_PRECOPY_DIRTY);
}

/* What a device has left by its last PRECOPY_INFO, less what was read since. */
static uint64_t precopy_left(const struct save_device *sd)
{
	uint64_t since = precopy_sent(sd) - sd->sent_at_sample;

	return sd->estimate > since ? sd->estimate - since : 0;
}

/*
 * Pre-copy: the bytes read against what was read plus what the devices
 * say is left (it moves: they keep dirtying). Stop-copy: against
 * MIG_DATA_SIZE, when every device reports it.
 */
static void progress(struct save_ctx *ctx, bool stop_copy, bool force)
{
	uint64_t done = 0, total = 0;
	bool total_known = true;
	char phase[48];

	if (!ctx->progress.on)
		return;
	for (unsigned int i = 0; i < ctx->ndevs; i++) {
		const struct save_device *sd = &ctx->devs[i];

		if (stop_copy) {
			done += sent(sd, MIGSTREAM_PHASE_STOP_COPY);
			total += sd->stop_copy_size;
			total_known &= sd->stop_copy_size != MIGSTREAM_SIZE_UNKNOWN;
		} else if (sd->precopy) {
			done += precopy_sent(sd);
			total += precopy_sent(sd) + precopy_left(sd);
		}
	}
	if (stop_copy)
		snprintf(phase, sizeof(phase), "stop-copy");
	else
		snprintf(phase, sizeof(phase), "pre-copy round %llu",
			 (unsigned long long)ctx->result.rounds + 1);
	vmt_progress_update(&ctx->progress, phase, done, total_known ? total : 0, force);
}

/* ---- reader threads ---- */

enum reader_job {
	JOB_NONE,
	JOB_PRECOPY_PASS,
	JOB_STOP_COPY,
	JOB_EXIT,
};

static int precopy_pass(struct save_ctx *ctx, struct save_device *sd);
static int read_stop_copy(struct save_ctx *ctx, struct save_device *sd);

static void *device_reader(void *arg)
{
	struct save_device *sd = arg;
	struct save_ctx *ctx = sd->ctx;

	pthread_mutex_lock(&ctx->lock);
	for (;;) {
		int job = sd->job, ret;

		if (job == JOB_NONE) {
			pthread_cond_wait(&ctx->changed, &ctx->lock);
			continue;
		}
		if (job == JOB_EXIT)
			break;
		pthread_mutex_unlock(&ctx->lock);
		ret = job == JOB_PRECOPY_PASS ? precopy_pass(ctx, sd) : read_stop_copy(ctx, sd);
		pthread_mutex_lock(&ctx->lock);
		sd->job = JOB_NONE;
		sd->job_result = ret;
		sd->job_done = true;
		pthread_cond_broadcast(&ctx->changed);
	}
	pthread_mutex_unlock(&ctx->lock);
	return NULL;
}

/* Each device's numbering and its idle reader thread. */
static int start_readers(struct save_ctx *ctx)
{
	int ret;

	for (unsigned int i = 0; i < ctx->ndevs; i++) {
		struct save_device *sd = &ctx->devs[i];

		sd->ctx = ctx;
		if ((ret = vmt_thread_start(&sd->reader, device_reader, sd)) < 0)
			return save_fail(ctx, NULL, ret, "starting a reader thread");
		sd->reader_started = true;
	}
	return 0;
}

/* Called when no job runs (run_jobs waits for all of them, also after a failure). */
static void stop_readers(struct save_ctx *ctx)
{
	pthread_mutex_lock(&ctx->lock);
	for (unsigned int i = 0; i < ctx->ndevs; i++)
		ctx->devs[i].job = JOB_EXIT;
	pthread_cond_broadcast(&ctx->changed);
	pthread_mutex_unlock(&ctx->lock);
	for (unsigned int i = 0; i < ctx->ndevs; i++) {
		if (ctx->devs[i].reader_started)
			pthread_join(ctx->devs[i].reader, NULL);
		ctx->devs[i].reader_started = false;
	}
}

static bool job_wanted(const struct save_device *sd, int job, const struct save_device *only)
{
	if (only)
		return sd == only;
	return job == JOB_STOP_COPY || sd->precopy;
}

/* The jobs done since the last look: fewer running; the first error kept. */
static void collect_jobs(struct save_ctx *ctx, unsigned int *running, int *err)
{
	for (unsigned int i = 0; i < ctx->ndevs; i++) {
		struct save_device *sd = &ctx->devs[i];

		if (!sd->job_done)
			continue;
		sd->job_done = false;
		(*running)--;
		if (sd->job_result < 0 && !*err)
			*err = sd->job_result;
	}
}

static void wake_readers(struct save_ctx *ctx)
{
	for (unsigned int i = 0; i < ctx->ndevs; i++)
		if (ctx->devs[i].job != JOB_NONE && ctx->devs[i].reader_started)
			vmt_thread_wake(ctx->devs[i].reader);
}

static int watch_destination(struct save_ctx *ctx, bool replies);

/*
 * Run job on the reader of each device that takes part (or only one), at
 * most --jobs at once, started in device order (so that --jobs 1 reads
 * them one after another, as the stream always had them). The main thread
 * waits here for all, and meanwhile shows progress, watches the
 * destination (in stop-copy also its replies: no marker is sent then, so
 * every ack read is of a section the readers are done with), turns a stop
 * signal into the save's failure, and wakes readers blocked in read() when
 * they must look at a flag (a stop, a failure, a switchover request).
 */
static int run_jobs(struct save_ctx *ctx, int job, const struct save_device *only)
{
	unsigned int jobs =
		ctx->opts.jobs && ctx->opts.jobs < ctx->ndevs ? ctx->opts.jobs : ctx->ndevs;
	unsigned int next = 0, running = 0;
	bool woke_for_switchover = false;
	int err = 0;

	pthread_mutex_lock(&ctx->lock);
	for (;;) {
		collect_jobs(ctx, &running, &err);
		while (!err && !save_cancelled(ctx) && running < jobs && next < ctx->ndevs) {
			struct save_device *sd = &ctx->devs[next++];

			if (!job_wanted(sd, job, only))
				continue;
			sd->job = job;
			running++;
			pthread_cond_broadcast(&ctx->changed);
		}
		if (!running)
			break;
		if (save_cancelled(ctx) || err) {
			wake_readers(ctx);
		} else if (vmt_stop_signal()) {
			pthread_mutex_unlock(&ctx->lock);
			check_stop_signal(ctx);
			pthread_mutex_lock(&ctx->lock);
			continue;
		} else if (job == JOB_PRECOPY_PASS && vmt_switchover_requested() &&
			   !woke_for_switchover) {
			wake_readers(ctx);
			woke_for_switchover = true;
		}
		pthread_mutex_unlock(&ctx->lock);
		progress(ctx, job == JOB_STOP_COPY, false);
		save_events_tick(ctx);
		watch_destination(ctx, job == JOB_STOP_COPY);
		pthread_mutex_lock(&ctx->lock);
		save_wait_changed(ctx, 20);
	}
	pthread_mutex_unlock(&ctx->lock);
	if (err)
		return err;
	return save_cancelled(ctx) ? save_error(ctx) : 0;
}

/* ---- preparation ---- */

static int prepare_device(struct save_ctx *ctx, struct save_device *sd)
{
	struct vmt_device *dev = sd->dev;
	struct migstream_device rec;
	char flags[64];
	int ret;

	ret = vmt_mig_query(dev);
	if (ret == -EOPNOTSUPP)
		return save_refuse(ctx, sd, ret, "device does not support migration");
	if (ret < 0)
		return save_fail(ctx, sd, ret, "reading the migration flags");
	ret = vmt_mig_get_state(dev, &sd->start_state);
	if (ret < 0)
		return save_fail(ctx, sd, ret, "reading the device state");
	sd->final_state = sd->start_state;
	if (sd->start_state != VFIO_DEVICE_STATE_RUNNING &&
	    sd->start_state != VFIO_DEVICE_STATE_RUNNING_P2P &&
	    sd->start_state != VFIO_DEVICE_STATE_STOP)
		return save_refuse(
			ctx, sd, -EBUSY,
			"device is in %s, not RUNNING or STOP (another migration in progress?)",
			vmt_state_name(sd->start_state));

	vmt_migration_flags_string(dev->mig_flags, flags, sizeof(flags));
	sd->precopy =
		ctx->opts.mode != SAVE_MODE_STOP_COPY && (dev->mig_flags & VFIO_MIGRATION_PRE_COPY);
	if (ctx->opts.mode == SAVE_MODE_PRECOPY && !sd->precopy)
		return save_refuse(ctx, sd, -EOPNOTSUPP,
				   "--precopy: device has no PRE_COPY (migration flags %s)", flags);
	/* Pre-copy from STOP would restart the device on the way (STOP -> RUNNING -> PRE_COPY). */
	if (sd->precopy && sd->start_state == VFIO_DEVICE_STATE_STOP) {
		if (ctx->opts.mode == SAVE_MODE_PRECOPY)
			return save_refuse(
				ctx, sd, -EINVAL,
				"--precopy: device is stopped (STOP); pre-copy needs it running");
		sd->precopy = false;
	}

	if (sd->precopy) {
		sd->precopy_v2 = vmt_mig_enable_precopy_info_v2(dev) == 0;
		vmt_dbg("%s: pre-copy info %s", dev->name,
			sd->precopy_v2 ? "v2 (REINIT reported)"
				       : "v1 (the kernel does not offer v2)");
	}

	ret = vmt_mig_stop_copy_size(dev, &sd->stop_copy_size);
	if (ret == -EOPNOTSUPP)
		sd->stop_copy_size = MIGSTREAM_SIZE_UNKNOWN;
	else if (ret < 0)
		return save_fail(ctx, sd, ret, "reading the stop-copy data size");

	vmt_dbg("%s: %s via %s, flags %s, state %s, stop-copy size %lld", dev->name, dev->node,
		vmt_device_access_name(dev->access), flags, vmt_state_name(sd->start_state),
		sd->stop_copy_size == MIGSTREAM_SIZE_UNKNOWN ? -1LL
							     : (long long)sd->stop_copy_size);
	vmt_device_fill_record(dev, sd->index, &rec);
	rec.stop_copy_size = sd->stop_copy_size;
	return output_device(ctx, &rec);
}

/* ---- pre-copy ---- */

/* len bytes of buf as sd's next DATA record; buf goes to the output either way. */
static int emit(struct save_ctx *ctx, struct save_device *sd, enum migstream_phase phase,
		struct chunk_buf *buf, size_t len)
{
	int ret;

	if (!len) {
		output_put_buf(ctx, buf);
		return 0;
	}
	ret = output_data(ctx, sd, phase, buf, (uint32_t)len);
	if (ret < 0)
		return ret;
	atomic_fetch_add_explicit(&sd->bytes[phase], len, memory_order_relaxed);
	return 0;
}

/*
 * INIT_DATA_SENT once all of a device's initial section is in the stream:
 * what the destination acks before the switchover.
 */
static int mark_initial_done(struct save_ctx *ctx, struct save_device *sd)
{
	uint64_t end = precopy_sent(sd);
	struct migstream_init_data_sent m = {
		.device = sd->index,
		.generation = sd->generation,
		.offset = end,
		.initial = end - sd->section_start,
	};
	uint8_t buf[MIGSTREAM_INIT_DATA_SENT_LEN];
	int ret;

	if (sd->marked >= sd->generation)
		return 0;
	migstream_encode_init_data_sent(&m, buf);
	ret = output_record(ctx, MIGSTREAM_REC_INIT_DATA_SENT, MIGSTREAM_RF_ANCILLARY, buf,
			    sizeof(buf));
	if (ret < 0)
		return ret;
	sd->marked = sd->generation;
	sd->marked_ns = vmt_monotonic_ns();
	vmt_dbg("%s: initial section %u sent (%llu bytes, ends at byte %llu)", sd->dev->name,
		sd->generation, (unsigned long long)m.initial, (unsigned long long)end);
	return 0;
}

/* REINIT: new initial data; it goes out as PRECOPY_INITIAL again and needs its own ack. */
static void begin_reinit(struct save_ctx *ctx, struct save_device *sd, uint64_t initial_bytes)
{
	sd->generation++;
	sd->split = (struct vmt_precopy_split){ .initial_left = initial_bytes };
	sd->section_start = precopy_sent(sd);
	vmt_dbg("%s: REINIT in %s: initial section %u, %llu bytes", sd->dev->name,
		vmt_state_name(sd->dev->state), sd->generation, (unsigned long long)initial_bytes);
}

/*
 * Pre-copy bytes: PRECOPY_INITIAL while the device's initial section lasts, then PRECOPY_DIRTY.
 * A read across the end of the section is two records, as before: the
 * dirty part moves to a buffer of its own, taken only once the first is
 * queued (holding two could wait on a pool that other readers hold).
 */
static int emit_precopy(struct save_ctx *ctx, struct save_device *sd, struct chunk_buf *buf,
			size_t len)
{
	size_t initial = vmt_precopy_split_take(&sd->split, len);
	unsigned char *rest = NULL;
	int ret;

	if (initial && initial < len) {
		rest = malloc(len - initial);
		if (!rest) {
			output_put_buf(ctx, buf);
			return save_fail(ctx, sd, -ENOMEM, "keeping pre-copy data");
		}
		memcpy(rest, output_buf_data(buf) + initial, len - initial);
	} else if (!initial) {
		return emit(ctx, sd, MIGSTREAM_PHASE_PRECOPY_DIRTY, buf, len);
	}
	ret = emit(ctx, sd, MIGSTREAM_PHASE_PRECOPY_INITIAL, buf, initial);
	if (ret == 0 && !sd->split.initial_left)
		ret = mark_initial_done(ctx, sd);
	if (ret == 0 && rest && (ret = output_get_buf(ctx, &buf)) == 0) {
		memcpy(output_buf_data(buf), rest, len - initial);
		ret = emit(ctx, sd, MIGSTREAM_PHASE_PRECOPY_DIRTY, buf, len - initial);
	}
	free(rest);
	return ret;
}

/* Sample GET_PRECOPY_INFO; with record, also write a PRECOPY_INFO record. */
static int sample_precopy(struct save_ctx *ctx, struct save_device *sd, bool record)
{
	struct migstream_precopy_info info;
	uint8_t payload[MIGSTREAM_PRECOPY_INFO_LEN];
	uint32_t flags = 0;
	bool reinit;
	int ret;

	ret = vmt_precopy_sample(sd->dev, sd->index, &info, &flags);
	if (ret < 0)
		return save_fail(ctx, sd, ret, "VFIO_MIG_GET_PRECOPY_INFO in %s",
				 vmt_state_name(sd->dev->state));
	sd->estimate = info.initial_bytes + info.dirty_bytes;
	sd->sent_at_sample = precopy_sent(sd);
	/* Before the opt-in the flags are not the kernel's word. */
	reinit = sd->precopy_v2 && (flags & VFIO_PRECOPY_INFO_REINIT);
	if (reinit) {
		begin_reinit(ctx, sd, info.initial_bytes);
		record = true;
	}
	save_events_round(ctx, sd, &info, reinit);
	vmt_precopy_split_sample(&sd->split, info.initial_bytes);
	if (!sd->split.initial_left && (ret = mark_initial_done(ctx, sd)) < 0)
		return ret;
	if (!record)
		return 0;
	vmt_dbg("%s: pre-copy round %llu: initial %llu, dirty %llu", sd->dev->name,
		(unsigned long long)ctx->result.rounds, (unsigned long long)info.initial_bytes,
		(unsigned long long)info.dirty_bytes);
	migstream_encode_precopy_info(&info, payload);
	return output_record(ctx, MIGSTREAM_REC_PRECOPY_INFO, MIGSTREAM_RF_ANCILLARY, payload,
			     sizeof(payload));
}

/*
 * The control fd: 1 when a byte asked for the switchover, 0 when nothing
 * came within timeout_ms, -errno when it failed or was closed (the
 * controlling VMM is gone: do not stop its devices).
 */
static int poll_control(struct save_ctx *ctx, int timeout_ms)
{
	struct pollfd pfd = { .fd = ctx->opts.control_fd, .events = POLLIN };
	unsigned char byte;
	ssize_t n;
	int ret;

	/* A stop signal ends the wait; the caller's check_stop_signal() says so. */
	ret = vmt_signal_poll(&pfd, pfd.fd < 0 ? 0 : 1, timeout_ms * 1000000ll);
	if (ret <= 0 || pfd.fd < 0)
		return 0;
	n = read(pfd.fd, &byte, 1);
	if (n == 1)
		return 1;
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n < 0)
		return save_fail(ctx, NULL, -errno, "control fd %d: reading", pfd.fd);
	return save_refuse(ctx, NULL, -EPIPE, "control fd %d was closed before the switchover",
			   pfd.fd);
}

/* Whether the user asked for the switchover (SIGUSR1, control fd); -errno on control failure. */
static int switch_asked(struct save_ctx *ctx, enum save_switch_reason *reason)
{
	int ret;

	if (vmt_switchover_requested()) {
		*reason = SWITCH_SIGNAL;
		return 1;
	}
	ret = poll_control(ctx, 0);
	if (ret > 0)
		*reason = SWITCH_CONTROL_FD;
	return ret;
}

/*
 * One pass over a device, on its reader thread: read until it has nothing
 * more for now. Its bytes go to sd->pass_bytes.
 */
static int precopy_pass(struct save_ctx *ctx, struct save_device *sd)
{
	uint64_t start = precopy_sent(sd);
	/* A device dirtying faster than we read would never pause: bound the pass. */
	uint64_t cap =
		2 * (sd->estimate > ctx->opts.chunk_size ? sd->estimate : ctx->opts.chunk_size);
	uint64_t done = 0, start_ns = vmt_monotonic_ns();
	struct chunk_buf *buf;
	size_t got;
	int ret;

	sd->pass_bytes = 0;
	sd->pass_ns = 0;
	for (;;) {
		ret = check_stop_signal(ctx);
		if (ret == 0)
			ret = output_get_buf(ctx, &buf);
		if (ret < 0)
			return ret;
		ret = vmt_mig_read_data(sd->dev->data_fd, output_buf_data(buf),
					ctx->opts.chunk_size, true, &got);
		if (emit_precopy(ctx, sd, buf, got) < 0)
			return save_error(ctx);
		done += got;
		/* A signal: look at the flags (top of the loop, below) before reading on. */
		if (ret == -EINTR)
			ret = VMT_DATA_FULL;
		if (ret < 0) {
			vmt_events_io_failed(ctx->events, sd->dev->name, "read",
					     vmt_state_name(sd->dev->state), start + done, ret);
			return save_fail(ctx, sd, ret, "reading pre-copy data at byte %llu",
					 (unsigned long long)(start + done));
		}
		if (ret == VMT_DATA_PAUSED || done >= cap || vmt_switchover_requested())
			break;
	}
	sd->pass_bytes = done;
	sd->pass_ns = vmt_monotonic_ns() - start_ns;
	/* A pass that found nothing measured a wait for dirt, not the path. */
	if (done) {
		sd->read_bytes += done;
		sd->read_ns += sd->pass_ns;
	}
	return 0;
}

static bool should_switch(struct save_ctx *ctx, uint64_t estimate, uint64_t start_ns,
			  enum save_switch_reason *reason)
{
	const struct save_opts *o = &ctx->opts;
	/* A controller or a downtime limit decides: the defaults step aside. */
	bool explicit_only = o->control_fd >= 0 || o->downtime_limit_set;

	if (downtime_fits(ctx, &ctx->result.estimate)) {
		*reason = SWITCH_DOWNTIME_LIMIT;
		return true;
	}
	if ((!explicit_only || o->threshold_set) && estimate <= o->threshold) {
		*reason = SWITCH_THRESHOLD;
		return true;
	}
	if ((!explicit_only || o->max_rounds_set) && o->max_rounds &&
	    ctx->result.rounds >= o->max_rounds) {
		*reason = SWITCH_MAX_ROUNDS;
		return true;
	}
	if (o->max_precopy_ns && vmt_monotonic_ns() - start_ns >= o->max_precopy_ns) {
		*reason = SWITCH_MAX_TIME;
		return true;
	}
	return false;
}

/* The return path failed: the destination said no, went silent, closed it or spoke nonsense. */
static int return_path_failed(struct save_ctx *ctx, int err)
{
	if (vmt_stop_signal())
		return check_stop_signal(ctx);
	return save_destination_failure(ctx, &(struct vmt_where){ .file = ctx->return_name }, err,
					"%s", return_path_error(ctx->rp));
}

/*
 * With a return path, what the main thread watches while the other
 * threads work: a destination that stopped reading the stream (a write
 * that moves no byte for --return-timeout) and, with replies, what it
 * said meanwhile (a LOAD_RESULT before STREAM_END is a failure). 0 or
 * -errno (recorded).
 */
static int watch_destination(struct save_ctx *ctx, bool replies)
{
	int ret;

	if (!ctx->rp || save_cancelled(ctx))
		return 0;
	ret = output_check_stalled(ctx, return_path_timeout(ctx->rp));
	if (ret == 0 && replies)
		ret = return_path_probe(ctx->rp, ctx);
	if (ret == 0 && replies &&
	    (ret = return_path_poll(ctx->rp, ctx, return_path_deadline(ctx->rp))) < 0)
		return return_path_failed(ctx, ret);
	return ret;
}

static int watch_finish(struct save_ctx *ctx)
{
	save_events_tick(ctx);
	return watch_destination(ctx, true);
}

/*
 * Whether a switchover trigger may act now. With a return path it waits
 * until every pre-copy device acked its initial data, --return-timeout
 * from the first trigger at most (which is kept: a control byte is read
 * only once); pre-copy goes on meanwhile.
 * 1: switch over, 0: not yet, <0: failure (no ack within the timeout).
 */
static int gate_switch(struct save_ctx *ctx, enum save_switch_reason *pending,
		       enum save_switch_reason reason, uint64_t *ack_deadline)
{
	int ret;

	if (*pending == SWITCH_NONE) {
		*pending = reason;
		if (ctx->rp)
			*ack_deadline = return_path_deadline(ctx->rp);
		if (ctx->rp && !return_path_all_acked(ctx))
			vmt_dbg("switchover by %s waits for the switchover-acks",
				save_switch_reason_name(reason));
	}
	if (!ctx->rp)
		return 1;
	ret = return_path_poll(ctx->rp, ctx, *ack_deadline);
	if (ret == -ETIMEDOUT)
		return return_path_failed(ctx, return_path_ack_timeout(ctx->rp, ctx));
	if (ret < 0)
		return return_path_failed(ctx, ret);
	if (return_path_all_acked(ctx))
		return 1;
	if (vmt_monotonic_ns() >= *ack_deadline)
		return return_path_failed(ctx, return_path_ack_timeout(ctx->rp, ctx));
	return 0;
}

static int run_precopy(struct save_ctx *ctx)
{
	enum save_switch_reason reason = SWITCH_NONE, pending = SWITCH_NONE;
	uint64_t start_ns = vmt_monotonic_ns(), ack_deadline = 0;
	bool any = false;
	int ret;

	ctx->result.estimate = (struct save_estimate){ .ns = SAVE_ESTIMATE_UNKNOWN };

	for (unsigned int i = 0; i < ctx->ndevs; i++) {
		struct save_device *sd = &ctx->devs[i];
		uint32_t target = vmt_state_precopy_for(sd->start_state);

		if (!sd->precopy)
			continue;
		if ((ret = set_state(ctx, sd, target)) < 0)
			return ret;
		if (sd->dev->data_fd < 0)
			return save_fail(ctx, sd, -EIO, "the device gave no data fd for %s",
					 vmt_state_name(target));
		sd->generation = 1;
		if ((ret = sample_precopy(ctx, sd, true)) < 0)
			return ret;
		any = true;
	}
	if (!any)
		return 0;

	for (;;) {
		uint64_t pass_bytes = 0, estimate = 0;

		if ((ret = check_stop_signal(ctx)) < 0)
			return ret;
		if (pending != SWITCH_NONE &&
		    (ret = gate_switch(ctx, &pending, pending, &ack_deadline)) != 0) {
			if (ret < 0)
				return ret;
			reason = pending;
			break;
		}
		if (ctx->rp &&
		    (ret = return_path_poll(ctx->rp, ctx, return_path_deadline(ctx->rp))) < 0)
			return return_path_failed(ctx, ret);
		ret = switch_asked(ctx, &reason);
		if (ret < 0)
			return ret;
		if (ret > 0 && (ret = gate_switch(ctx, &pending, reason, &ack_deadline)) != 0) {
			if (ret < 0)
				return ret;
			break;
		}
		if ((ret = run_jobs(ctx, JOB_PRECOPY_PASS, NULL)) < 0)
			return ret;
		for (unsigned int i = 0; i < ctx->ndevs; i++)
			if (ctx->devs[i].precopy)
				pass_bytes += ctx->devs[i].pass_bytes;
		/*
		 * An empty pass is a round too unless a controller decides: a device
		 * that claims data but gives none must not keep us here forever.
		 */
		if (pass_bytes || ctx->opts.control_fd < 0)
			ctx->result.rounds++;
		for (unsigned int i = 0; i < ctx->ndevs; i++) {
			if (!ctx->devs[i].precopy)
				continue;
			if ((ret = sample_precopy(ctx, &ctx->devs[i], pass_bytes > 0)) < 0)
				return ret;
			estimate += ctx->devs[i].estimate;
		}
		/* MIG_DATA_SIZE is asked each round only when someone looks at the answer. */
		if (ctx->opts.downtime_limit_set || ctx->events)
			downtime_estimate(ctx, &ctx->result.estimate);
		if (should_switch(ctx, estimate, start_ns, &reason) &&
		    (ret = gate_switch(ctx, &pending, reason, &ack_deadline)) != 0) {
			if (ret < 0)
				return ret;
			break;
		}
		/*
		 * Nothing new: wait a little (for dirt, a control byte or a signal)
		 * before the next pass; briefly when an ack is all that is missing.
		 */
		if (!pass_bytes) {
			ret = poll_control(ctx, pending != SWITCH_NONE ? 5 : 100);
			if (ret < 0)
				return ret;
			if (ret > 0 && (ret = gate_switch(ctx, &pending, SWITCH_CONTROL_FD,
							  &ack_deadline)) != 0) {
				if (ret < 0)
					return ret;
				reason = SWITCH_CONTROL_FD;
				break;
			}
		}
	}
	/* The trigger that came first is the one that switched over. */
	if (pending != SWITCH_NONE)
		reason = pending;
	ctx->result.reason = reason;
	vmt_dbg("switchover after %llu pre-copy rounds (%s)",
		(unsigned long long)ctx->result.rounds, save_switch_reason_name(reason));
	return 0;
}

/* ---- stop-copy ---- */

/* On the device's reader thread: the rest of its state, then its DEVICE_END. */
static int read_stop_copy(struct save_ctx *ctx, struct save_device *sd)
{
	uint64_t start_ns = vmt_monotonic_ns();
	struct chunk_buf *buf;
	size_t got;
	int ret;

	for (;;) {
		ret = check_stop_signal(ctx);
		if (ret == 0)
			ret = output_get_buf(ctx, &buf);
		if (ret < 0)
			return ret;
		ret = vmt_mig_read_data(sd->dev->data_fd, output_buf_data(buf),
					ctx->opts.chunk_size, false, &got);
		if (emit(ctx, sd, MIGSTREAM_PHASE_STOP_COPY, buf, got) < 0)
			return save_error(ctx);
		if (ret == -EINTR)
			continue; /* a signal: check_stop_signal() before reading on */
		if (ret < 0) {
			vmt_events_io_failed(ctx->events, sd->dev->name, "read", "STOP_COPY",
					     sent(sd, MIGSTREAM_PHASE_STOP_COPY), ret);
			return save_fail(ctx, sd, ret, "reading STOP_COPY data at byte %llu",
					 (unsigned long long)sent(sd, MIGSTREAM_PHASE_STOP_COPY));
		}
		if (ret == VMT_DATA_END) {
			save_events_device_data(ctx, sd, MIGSTREAM_PHASE_STOP_COPY,
						sent(sd, MIGSTREAM_PHASE_STOP_COPY), start_ns);
			return output_device_end(ctx, sd);
		}
	}
}

/* Read a device's new initial section to its end (its INIT_DATA_SENT marks that). */
static int drain_reinit(struct save_ctx *ctx, struct save_device *sd)
{
	int ret;

	while (sd->marked < sd->generation) {
		uint64_t got;

		if ((ret = run_jobs(ctx, JOB_PRECOPY_PASS, sd)) < 0)
			return ret;
		got = sd->pass_bytes;
		if ((ret = sample_precopy(ctx, sd, got > 0)) < 0)
			return ret;
		if (!got && sd->marked < sd->generation)
			return save_refuse(
				ctx, sd, -EIO,
				"REINIT announced %llu initial bytes, but the device gives none",
				(unsigned long long)sd->split.initial_left);
	}
	return 0;
}

/*
 * The vCPUs are stopped (the devices quiesced): a last look at the pre-copy
 * info, as QEMU takes one. New initial data now (REINIT) is read, marked
 * and, with a return path, acked before any device stops.
 */
static int final_precopy_check(struct save_ctx *ctx)
{
	bool reinit = false;
	int ret;

	for (unsigned int i = 0; i < ctx->ndevs; i++) {
		struct save_device *sd = &ctx->devs[i];
		uint32_t generation = sd->generation;

		if (!sd->precopy || !sd->precopy_v2 || !vmt_state_is_precopy(sd->dev->state))
			continue;
		if ((ret = sample_precopy(ctx, sd, false)) < 0)
			return ret;
		if (sd->generation == generation)
			continue;
		reinit = true;
		if ((ret = drain_reinit(ctx, sd)) < 0)
			return ret;
	}
	if (reinit && ctx->rp && (ret = return_path_wait_acks(ctx->rp, ctx)) < 0)
		return return_path_failed(ctx, ret);
	return 0;
}

static int run_stop_copy(struct save_ctx *ctx)
{
	int ret;

	ctx->result.switch_ns = vmt_monotonic_ns();
	save_events_switchover(ctx);
	vmt_progress_new_phase(&ctx->progress);
	/* Peer-to-peer quiesce everywhere before any device stops. */
	for (unsigned int i = 0; i < ctx->ndevs; i++) {
		struct save_device *sd = &ctx->devs[i];
		uint32_t q = vmt_state_quiesce(sd->dev->mig_flags, sd->dev->state);

		if (q != sd->dev->state && (ret = set_state(ctx, sd, q)) < 0)
			return ret;
	}
	if ((ret = final_precopy_check(ctx)) < 0)
		return ret;
	for (unsigned int i = 0; i < ctx->ndevs; i++) {
		struct save_device *sd = &ctx->devs[i];

		if ((ret = set_state(ctx, sd, VFIO_DEVICE_STATE_STOP_COPY)) < 0)
			return ret;
		if (sd->dev->data_fd < 0)
			return save_fail(ctx, sd, -EIO, "the device gave no data fd for STOP_COPY");
	}
	/* Every device's rest on its own thread; DEVICE_END of each as it ends. */
	if ((ret = run_jobs(ctx, JOB_STOP_COPY, NULL)) < 0)
		return ret;
	ctx->result.stop_copy_done_ns = vmt_monotonic_ns();
	save_events_stop_copy(ctx);
	return 0;
}

/*
 * The mirror of the quiesce before STOP_COPY: when devices are started
 * again, every P2P device waits in RUNNING_P2P until all of them are there,
 * so no device runs (and can DMA to a peer) while a peer is still stopped.
 */
static bool p2p_before_running(const struct save_device *sd, uint32_t wanted)
{
	uint32_t now = sd->dev->state;

	/* PRE_COPY* devices never stopped: they may go on to RUNNING directly. */
	return wanted == VFIO_DEVICE_STATE_RUNNING && (sd->dev->mig_flags & VFIO_MIGRATION_P2P) &&
	       (now == VFIO_DEVICE_STATE_STOP || now == VFIO_DEVICE_STATE_STOP_COPY);
}

/* ---- failure ---- */

static uint32_t recovery_wanted(const struct save_ctx *ctx, const struct save_device *sd)
{
	/* A complete stream may already be resuming elsewhere: never restart the source then. */
	if (ctx->result.stream_complete && !ctx->result.destination_failed)
		return ctx->opts.then_state;
	if (ctx->opts.on_error_state != VMT_STATE_UNKNOWN)
		return ctx->opts.on_error_state;
	return sd->start_state;
}

static void recover_all(struct save_ctx *ctx)
{
	/* A device that fails this step is left to vmt_device_recover below. */
	for (unsigned int i = 0; i < ctx->ndevs; i++) {
		struct save_device *sd = &ctx->devs[i];

		if (sd->touched && p2p_before_running(sd, recovery_wanted(ctx, sd)))
			vmt_mig_set_state(sd->dev, VFIO_DEVICE_STATE_RUNNING_P2P);
	}
	ctx->result.recovered = true;
	for (unsigned int i = 0; i < ctx->ndevs; i++) {
		struct save_device *sd = &ctx->devs[i];
		uint32_t wanted;

		if (!sd->touched) {
			sd->final_state = sd->dev->state;
			continue;
		}
		wanted = recovery_wanted(ctx, sd);
		if (vmt_device_recover(sd->dev, wanted, &sd->final_state) < 0) {
			sd->recovery_failed = true;
			ctx->result.recovered = false;
		}
	}
}

/* Each device's digest, for its DEVICE_END; 0 or -errno (recorded). */
static int start_numbering(struct save_ctx *ctx)
{
	for (unsigned int i = 0; i < ctx->ndevs; i++) {
		struct save_device *sd = &ctx->devs[i];

		sd->digest = XXH3_createState();
		if (!sd->digest)
			return save_fail(ctx, sd, -ENOMEM, "allocating the state digest");
		XXH3_64bits_reset(sd->digest);
	}
	return 0;
}

/* The end of every thread, whatever happened. */
static void stop_threads(struct save_ctx *ctx)
{
	output_stop(ctx);
	stop_readers(ctx);
	ctx->result.stream_bytes = output_bytes(ctx);
	for (unsigned int i = 0; i < ctx->ndevs; i++) {
		XXH3_freeState(ctx->devs[i].digest);
		ctx->devs[i].digest = NULL;
	}
}

/*
 * STREAM_END on every channel, written. A reply already waiting came
 * before it: looked at first, then while the writers drain the queue.
 */
static int finish_stream(struct save_ctx *ctx)
{
	int ret = watch_destination(ctx, true);

	if (ret == 0)
		ret = output_finish(ctx, watch_finish);
	/*
	 * Whole once STREAM_END went out on every channel, even when a failure
	 * of the destination is read while the last writer ends: it may have
	 * answered that very end (a load that failed at STREAM_END).
	 */
	ctx->result.stream_complete = ctx->finished;
	if (ret == 0)
		save_events_channels_done(ctx);
	return ret;
}

int save_describe(struct save_ctx *ctx)
{
	int ret;

	ctx->result.start_ns = vmt_monotonic_ns();
	ret = start_numbering(ctx);
	if (ret == 0)
		ret = output_start(ctx);
	for (unsigned int i = 0; i < ctx->ndevs && ret == 0; i++)
		ret = prepare_device(ctx, &ctx->devs[i]);
	for (unsigned int i = 0; i < ctx->ndevs && ret == 0; i++)
		ret = output_device_end(ctx, &ctx->devs[i]);
	if (ret == 0)
		ret = finish_stream(ctx);
	stop_threads(ctx);
	ctx->result.end_ns = vmt_monotonic_ns();
	return ret;
}

/*
 * With a return path the save succeeds only on the destination's word;
 * until then the source waits in STOP_COPY, and goes back (not to --then)
 * when that word is a failure, or never comes.
 */
static int await_load_result(struct save_ctx *ctx)
{
	int ret = return_path_wait_result(ctx->rp, ctx);

	if (ret < 0)
		return return_path_failed(ctx, ret);
	ctx->result.load_confirmed = true;
	vmt_dbg("the destination loaded every device");
	return 0;
}

/*
 * The stream broke (EPIPE) while a return path is open: the destination
 * most likely refused the state and closed its end, and its LOAD_RESULT,
 * on its way, says why: that is the failure to report, not the broken
 * pipe. Waited for as the result is (--return-timeout); a return channel
 * that closes or stays silent leaves the broken pipe as the failure.
 */
static int destination_word(struct save_ctx *ctx, int err)
{
	if (!ctx->rp || ctx->failure.err != -EPIPE || vmt_stop_signal())
		return err;
	if (return_path_wait_result(ctx->rp, ctx) == 0 || !return_path_result(ctx->rp))
		return err;
	vmt_failure_free(&ctx->failure);
	ctx->failure = (struct vmt_failure){ 0 };
	return return_path_failed(ctx, -EIO);
}

int save_run(struct save_ctx *ctx)
{
	int ret;

	ctx->result.start_ns = vmt_monotonic_ns();
	vmt_progress_init(&ctx->progress, ctx->opts.progress);
	ret = start_numbering(ctx);
	if (ret == 0)
		ret = output_start(ctx);
	if (ret == 0)
		ret = start_readers(ctx);
	for (unsigned int i = 0; i < ctx->ndevs && ret == 0; i++)
		ret = prepare_device(ctx, &ctx->devs[i]);
	if (ret == 0)
		ret = run_precopy(ctx);
	if (ret == 0)
		ret = run_stop_copy(ctx);
	if (ret == 0)
		ret = finish_stream(ctx);
	/* No thread runs from here on: every device is the main thread's again. */
	stop_threads(ctx);
	if (ret < 0)
		ret = destination_word(ctx, ret);
	if (ret == 0 && ctx->rp)
		ret = await_load_result(ctx);
	for (unsigned int i = 0; i < ctx->ndevs && ret == 0; i++) {
		if (p2p_before_running(&ctx->devs[i], ctx->opts.then_state))
			ret = set_state(ctx, &ctx->devs[i], VFIO_DEVICE_STATE_RUNNING_P2P);
	}
	for (unsigned int i = 0; i < ctx->ndevs && ret == 0; i++) {
		ret = set_state(ctx, &ctx->devs[i], ctx->opts.then_state);
		ctx->devs[i].final_state = ctx->devs[i].dev->state;
	}
	progress(ctx, true, true);
	vmt_progress_clear(&ctx->progress);
	ctx->result.end_ns = vmt_monotonic_ns();
	if (ret < 0) {
		/* A complete stream may be resuming elsewhere: the failure came after it. */
		if (ctx->result.stream_complete)
			vmt_failure_set_lead(&ctx->failure, "stream complete, but ");
		recover_all(ctx);
	}
	return ret;
}
