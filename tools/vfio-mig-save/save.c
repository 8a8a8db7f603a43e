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
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "closestream.h"
#include "device-record.h"
#include "failure.h"
#include "log.h"
#include "precopy.h"
#include "migstream-reply.h"
#include "return-path.h"
#include "save.h"
#include "signals.h"
#include "strutils.h"
#include "timeutil.h"
#include "vfio-mig.h"

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
	default:
		return "none";
	}
}

/*
 * The failure of the save: recorded once, in ctx->failure, with the device
 * it concerns (sd, or NULL); the message says what, then strerror(err).
 * Returns err.
 */
#define save_fail(ctx, sd, err, ...)                                                  \
	vmt_fail(&(ctx)->failure, &(struct vmt_where){ .device = save_device_name(sd) }, \
		 (err), 0, __VA_ARGS__)
/* A failure the message says all about (err only picks the exit status). */
#define save_refuse(ctx, sd, err, ...)                                                  \
	vmt_refuse(&(ctx)->failure, &(struct vmt_where){ .device = save_device_name(sd) }, \
		   (err), 0, __VA_ARGS__)

static const char *save_device_name(const struct save_device *sd)
{
	return sd ? sd->dev->name : NULL;
}

static int check_stop_signal(struct save_ctx *ctx)
{
	if (!vmt_stop_signal())
		return 0;
	return save_refuse(ctx, NULL, -EINTR, "interrupted by %s", vmt_stop_signal_name());
}

static int write_failed(struct save_ctx *ctx, int err)
{
	/* The writer gave up a write blocked by a stalled reader: a stop signal. */
	if (err == -EINTR && vmt_stop_signal())
		return check_stop_signal(ctx);
	const struct vmt_where at = {
		.file = ctx->output_name,
		.has_offset = true,
		.offset = migstream_writer_offset(ctx->writer),
	};

	return vmt_fail(&ctx->failure, &at, err, 0, "writing the stream");
}

static int set_state(struct save_ctx *ctx, struct save_device *sd, uint32_t state)
{
	uint32_t from = sd->dev->state;
	int ret;

	sd->touched = true;
	ret = vmt_mig_set_state(sd->dev, state);
	if (ret < 0)
		return save_fail(ctx, sd, ret, "%s -> %s failed",
				 vmt_mig_state_name(from), vmt_mig_state_name(state));
	return 0;
}

/* ---- progress on stderr ---- */

static uint64_t precopy_sent(const struct save_device *sd)
{
	return sd->bytes[MIGSTREAM_PHASE_PRECOPY_INITIAL] + sd->bytes[MIGSTREAM_PHASE_PRECOPY_DIRTY];
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
			done += sd->bytes[MIGSTREAM_PHASE_STOP_COPY];
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
		return save_refuse(ctx, sd, -EBUSY,
				   "device is in %s, not RUNNING or STOP (another migration in progress?)",
				   vmt_mig_state_name(sd->start_state));

	vmt_mig_flags_string(dev->mig_flags, flags, sizeof(flags));
	sd->precopy = ctx->opts.mode != SAVE_MODE_STOP_COPY &&
		      (dev->mig_flags & VFIO_MIGRATION_PRE_COPY);
	if (ctx->opts.mode == SAVE_MODE_PRECOPY && !sd->precopy)
		return save_refuse(ctx, sd, -EOPNOTSUPP,
				   "--precopy: device has no PRE_COPY (migration flags %s)", flags);
	/* Pre-copy from STOP would restart the device on the way (STOP -> RUNNING -> PRE_COPY). */
	if (sd->precopy && sd->start_state == VFIO_DEVICE_STATE_STOP) {
		if (ctx->opts.mode == SAVE_MODE_PRECOPY)
			return save_refuse(ctx, sd, -EINVAL,
					   "--precopy: device is stopped (STOP); pre-copy needs it running");
		sd->precopy = false;
	}

	if (sd->precopy) {
		sd->precopy_v2 = vmt_mig_enable_precopy_info_v2(dev) == 0;
		vmt_dbg("%s: pre-copy info %s", dev->name,
			sd->precopy_v2 ? "v2 (REINIT reported)" : "v1 (the kernel does not offer v2)");
	}

	ret = vmt_mig_stop_copy_size(dev, &sd->stop_copy_size);
	if (ret == -EOPNOTSUPP)
		sd->stop_copy_size = MIGSTREAM_SIZE_UNKNOWN;
	else if (ret < 0)
		return save_fail(ctx, sd, ret, "reading the stop-copy data size");

	vmt_dbg("%s: %s via %s, flags %s, state %s, stop-copy size %lld", dev->name, dev->node,
		vmt_device_access_name(dev->access), flags, vmt_mig_state_name(sd->start_state),
		sd->stop_copy_size == MIGSTREAM_SIZE_UNKNOWN ? -1LL : (long long)sd->stop_copy_size);
	vmt_device_fill_record(dev, sd->index, &rec);
	rec.stop_copy_size = sd->stop_copy_size;
	ret = migstream_write_device(ctx->writer, &rec);
	if (ret < 0)
		return write_failed(ctx, ret);
	return 0;
}

/* ---- pre-copy ---- */

static int emit(struct save_ctx *ctx, struct save_device *sd, enum migstream_phase phase,
		const void *buf, size_t len)
{
	int ret;

	if (!len)
		return 0;
	ret = migstream_write_data(ctx->writer, sd->index, phase, buf, len);
	if (ret < 0)
		return write_failed(ctx, ret);
	sd->bytes[phase] += len;
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
	ret = migstream_write_record(ctx->writer, MIGSTREAM_REC_INIT_DATA_SENT, MIGSTREAM_RF_ANCILLARY, buf,
				     sizeof(buf));
	if (ret < 0)
		return write_failed(ctx, ret);
	sd->marked = sd->generation;
	sd->marked_ns = vmt_monotonic_ns();
	vmt_dbg("%s: initial section %u sent (%llu bytes, ends at byte %llu)", sd->dev->name, sd->generation,
		(unsigned long long)m.initial, (unsigned long long)end);
	return 0;
}

/* REINIT: new initial data; it goes out as PRECOPY_INITIAL again and needs its own ack. */
static void begin_reinit(struct save_ctx *ctx, struct save_device *sd, uint64_t initial_bytes)
{
	sd->generation++;
	sd->split = (struct vmt_precopy_split){ .initial_left = initial_bytes };
	sd->section_start = precopy_sent(sd);
	vmt_dbg("%s: REINIT in %s: initial section %u, %llu bytes", sd->dev->name,
		vmt_mig_state_name(sd->dev->state), sd->generation, (unsigned long long)initial_bytes);
}

/* Pre-copy bytes: PRECOPY_INITIAL while the device's initial section lasts, then PRECOPY_DIRTY. */
static int emit_precopy(struct save_ctx *ctx, struct save_device *sd, const unsigned char *buf,
			size_t len)
{
	size_t initial = vmt_precopy_split_take(&sd->split, len);
	int ret;

	ret = emit(ctx, sd, MIGSTREAM_PHASE_PRECOPY_INITIAL, buf, initial);
	if (ret < 0)
		return ret;
	if (!sd->split.initial_left && (ret = mark_initial_done(ctx, sd)) < 0)
		return ret;
	return emit(ctx, sd, MIGSTREAM_PHASE_PRECOPY_DIRTY, buf + initial, len - initial);
}

/* Sample GET_PRECOPY_INFO; with record, also write a PRECOPY_INFO record. */
static int sample_precopy(struct save_ctx *ctx, struct save_device *sd, bool record)
{
	struct migstream_precopy_info info;
	uint32_t flags = 0;
	int ret;

	ret = vmt_precopy_sample_flags(sd->dev, sd->index, &info, &flags);
	if (ret < 0)
		return save_fail(ctx, sd, ret, "VFIO_MIG_GET_PRECOPY_INFO in %s",
				 vmt_mig_state_name(sd->dev->state));
	sd->estimate = info.initial_bytes + info.dirty_bytes;
	sd->sent_at_sample = precopy_sent(sd);
	/* Before the opt-in the flags are not the kernel's word. */
	if (sd->precopy_v2 && (flags & VFIO_PRECOPY_INFO_REINIT)) {
		begin_reinit(ctx, sd, info.initial_bytes);
		record = true;
	}
	vmt_precopy_split_sample(&sd->split, info.initial_bytes);
	if (!sd->split.initial_left && (ret = mark_initial_done(ctx, sd)) < 0)
		return ret;
	if (!record)
		return 0;
	vmt_dbg("%s: pre-copy round %llu: initial %llu, dirty %llu", sd->dev->name,
		(unsigned long long)ctx->result.rounds, (unsigned long long)info.initial_bytes,
		(unsigned long long)info.dirty_bytes);
	ret = migstream_write_precopy_info(ctx->writer, &info);
	if (ret < 0)
		return write_failed(ctx, ret);
	return 0;
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
	return save_refuse(ctx, NULL, -EPIPE, "control fd %d was closed before the switchover", pfd.fd);
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

/* One pass over a device: read until it has nothing more for now. */
static int precopy_pass(struct save_ctx *ctx, struct save_device *sd, unsigned char *buf,
			uint64_t *pass_bytes)
{
	uint64_t start = sd->bytes[MIGSTREAM_PHASE_PRECOPY_INITIAL] +
			 sd->bytes[MIGSTREAM_PHASE_PRECOPY_DIRTY];
	/* A device dirtying faster than we read would never pause: bound the pass. */
	uint64_t cap = 2 * (sd->estimate > ctx->opts.chunk_size ? sd->estimate : ctx->opts.chunk_size);
	uint64_t done = 0;
	size_t got;
	int ret;

	for (;;) {
		ret = check_stop_signal(ctx);
		if (ret < 0)
			return ret;
		ret = vmt_mig_read_data(sd->dev->data_fd, buf, ctx->opts.chunk_size, true, &got);
		if (got && emit_precopy(ctx, sd, buf, got) < 0)
			return ctx->failure.err;
		done += got;
		/* A signal: look at the flags (top of the loop, below) before reading on. */
		if (ret == -EINTR)
			ret = VMT_DATA_FULL;
		if (ret < 0)
			return save_fail(ctx, sd, ret, "reading pre-copy data at byte %llu",
					 (unsigned long long)(start + done));
		progress(ctx, false, false);
		if (ret == VMT_DATA_PAUSED || done >= cap || vmt_switchover_requested())
			break;
	}
	*pass_bytes += done;
	return 0;
}

static bool should_switch(struct save_ctx *ctx, uint64_t estimate, uint64_t start_ns,
			  enum save_switch_reason *reason)
{
	const struct save_opts *o = &ctx->opts;
	bool control_mode = o->control_fd >= 0;

	if ((!control_mode || o->threshold_set) && estimate <= o->threshold) {
		*reason = SWITCH_THRESHOLD;
		return true;
	}
	if ((!control_mode || o->max_rounds_set) && o->max_rounds &&
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

/* The return path failed: the destination said no, went silent or closed it. */
static int return_path_failed(struct save_ctx *ctx, int err)
{
	if (vmt_stop_signal())
		return check_stop_signal(ctx);
	ctx->result.destination_failed = true;
	return save_refuse(ctx, NULL, err, "%s", return_path_error(ctx->rp));
}

/*
 * Whether a switchover trigger may act now. With a return path it waits
 * until every pre-copy device acked its initial data (the first trigger is
 * kept: a control byte is read only once); pre-copy goes on meanwhile.
 * 1: switch over, 0: not yet, <0: failure (no ack within the timeout).
 */
static int gate_switch(struct save_ctx *ctx, enum save_switch_reason *pending,
		       enum save_switch_reason reason, uint64_t *wait_start)
{
	int ret;

	if (*pending == SWITCH_NONE) {
		*pending = reason;
		*wait_start = vmt_monotonic_ns();
		if (ctx->rp && !return_path_all_acked(ctx))
			vmt_dbg("switchover by %s waits for the switchover-acks", save_switch_reason_name(reason));
	}
	if (!ctx->rp)
		return 1;
	ret = return_path_poll(ctx->rp, ctx);
	if (ret < 0)
		return return_path_failed(ctx, ret);
	if (return_path_all_acked(ctx))
		return 1;
	if (return_path_timed_out(ctx->rp, *wait_start))
		return return_path_failed(ctx, return_path_ack_timeout(ctx->rp, ctx));
	return 0;
}

static int run_precopy(struct save_ctx *ctx, unsigned char *buf)
{
	enum save_switch_reason reason = SWITCH_NONE, pending = SWITCH_NONE;
	uint64_t start_ns = vmt_monotonic_ns(), wait_start = 0;
	bool any = false;
	int ret;

	for (unsigned int i = 0; i < ctx->ndevs; i++) {
		struct save_device *sd = &ctx->devs[i];
		uint32_t target = vmt_precopy_state_for(sd->start_state);

		if (!sd->precopy)
			continue;
		if ((ret = set_state(ctx, sd, target)) < 0)
			return ret;
		if (sd->dev->data_fd < 0)
			return save_fail(ctx, sd, -EIO, "the device gave no data fd for %s",
					 vmt_mig_state_name(target));
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
		if (pending != SWITCH_NONE && (ret = gate_switch(ctx, &pending, pending, &wait_start)) != 0) {
			if (ret < 0)
				return ret;
			reason = pending;
			break;
		}
		if (ctx->rp && (ret = return_path_poll(ctx->rp, ctx)) < 0)
			return return_path_failed(ctx, ret);
		ret = switch_asked(ctx, &reason);
		if (ret < 0)
			return ret;
		if (ret > 0 && (ret = gate_switch(ctx, &pending, reason, &wait_start)) != 0) {
			if (ret < 0)
				return ret;
			break;
		}
		for (unsigned int i = 0; i < ctx->ndevs; i++)
			if (ctx->devs[i].precopy &&
			    (ret = precopy_pass(ctx, &ctx->devs[i], buf, &pass_bytes)) < 0)
				return ret;
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
		if (should_switch(ctx, estimate, start_ns, &reason) &&
		    (ret = gate_switch(ctx, &pending, reason, &wait_start)) != 0) {
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
			if (ret > 0 && (ret = gate_switch(ctx, &pending, SWITCH_CONTROL_FD, &wait_start)) != 0) {
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
	vmt_dbg("switchover after %llu pre-copy rounds (%s)", (unsigned long long)ctx->result.rounds,
		save_switch_reason_name(reason));
	return 0;
}

/* ---- stop-copy ---- */

static int read_stop_copy(struct save_ctx *ctx, struct save_device *sd, unsigned char *buf)
{
	size_t got;
	int ret;

	for (;;) {
		if ((ret = check_stop_signal(ctx)) < 0)
			return ret;
		ret = vmt_mig_read_data(sd->dev->data_fd, buf, ctx->opts.chunk_size, false, &got);
		if (got && emit(ctx, sd, MIGSTREAM_PHASE_STOP_COPY, buf, got) < 0)
			return ctx->failure.err;
		if (ret == -EINTR)
			continue; /* a signal: check_stop_signal() before reading on */
		if (ret < 0)
			return save_fail(ctx, sd, ret, "reading STOP_COPY data at byte %llu",
					 (unsigned long long)sd->bytes[MIGSTREAM_PHASE_STOP_COPY]);
		progress(ctx, true, false);
		if (ret == VMT_DATA_END)
			return 0;
	}
}

/* Read a device's new initial section to its end (its INIT_DATA_SENT marks that). */
static int drain_reinit(struct save_ctx *ctx, struct save_device *sd, unsigned char *buf)
{
	int ret;

	while (sd->marked < sd->generation) {
		uint64_t got = 0;

		if ((ret = precopy_pass(ctx, sd, buf, &got)) < 0)
			return ret;
		if ((ret = sample_precopy(ctx, sd, got > 0)) < 0)
			return ret;
		if (!got && sd->marked < sd->generation)
			return save_refuse(ctx, sd, -EIO, "REINIT announced %llu initial bytes, but the device gives none",
					   (unsigned long long)sd->split.initial_left);
	}
	return 0;
}

/*
 * The vCPUs are stopped (the devices quiesced): a last look at the pre-copy
 * info, as QEMU takes one. New initial data now (REINIT) is read, marked
 * and, with a return path, acked before any device stops.
 */
static int final_precopy_check(struct save_ctx *ctx, unsigned char *buf)
{
	bool reinit = false;
	int ret;

	for (unsigned int i = 0; i < ctx->ndevs; i++) {
		struct save_device *sd = &ctx->devs[i];
		uint32_t generation = sd->generation;

		if (!sd->precopy || !sd->precopy_v2 || !vmt_mig_state_is_precopy(sd->dev->state))
			continue;
		if ((ret = sample_precopy(ctx, sd, false)) < 0)
			return ret;
		if (sd->generation == generation)
			continue;
		reinit = true;
		if ((ret = drain_reinit(ctx, sd, buf)) < 0)
			return ret;
	}
	if (reinit && ctx->rp && (ret = return_path_wait_acks(ctx->rp, ctx)) < 0)
		return return_path_failed(ctx, ret);
	return 0;
}

static int run_stop_copy(struct save_ctx *ctx, unsigned char *buf)
{
	int ret;

	ctx->result.switch_ns = vmt_monotonic_ns();
	vmt_progress_new_phase(&ctx->progress);
	/* Peer-to-peer quiesce everywhere before any device stops. */
	for (unsigned int i = 0; i < ctx->ndevs; i++) {
		struct save_device *sd = &ctx->devs[i];
		uint32_t q = vmt_mig_quiesce_state(sd->dev->mig_flags, sd->dev->state);

		if (q != sd->dev->state && (ret = set_state(ctx, sd, q)) < 0)
			return ret;
	}
	if ((ret = final_precopy_check(ctx, buf)) < 0)
		return ret;
	for (unsigned int i = 0; i < ctx->ndevs; i++) {
		struct save_device *sd = &ctx->devs[i];

		if ((ret = set_state(ctx, sd, VFIO_DEVICE_STATE_STOP_COPY)) < 0)
			return ret;
		if (sd->dev->data_fd < 0)
			return save_fail(ctx, sd, -EIO, "the device gave no data fd for STOP_COPY");
	}
	for (unsigned int i = 0; i < ctx->ndevs; i++) {
		struct save_device *sd = &ctx->devs[i];

		if ((ret = read_stop_copy(ctx, sd, buf)) < 0)
			return ret;
		ret = migstream_write_device_end(ctx->writer, sd->index);
		if (ret < 0)
			return write_failed(ctx, ret);
		sd->complete = true;
	}
	ctx->result.stop_copy_done_ns = vmt_monotonic_ns();
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

int save_describe(struct save_ctx *ctx)
{
	int ret = 0;

	ctx->result.start_ns = vmt_monotonic_ns();
	for (unsigned int i = 0; i < ctx->ndevs && ret == 0; i++)
		ret = prepare_device(ctx, &ctx->devs[i]);
	for (unsigned int i = 0; i < ctx->ndevs && ret == 0; i++) {
		ret = migstream_write_device_end(ctx->writer, ctx->devs[i].index);
		if (ret < 0)
			ret = write_failed(ctx, ret);
		else
			ctx->devs[i].complete = true;
	}
	if (ret == 0) {
		ret = migstream_writer_finish(ctx->writer);
		if (ret < 0)
			write_failed(ctx, ret);
		else
			ctx->result.stream_complete = true;
	}
	ctx->result.end_ns = vmt_monotonic_ns();
	if (ret == 0)
		ctx->result.stream_bytes = migstream_writer_offset(ctx->writer);
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

int save_run(struct save_ctx *ctx)
{
	unsigned char *buf = malloc(ctx->opts.chunk_size);
	int ret = 0;

	ctx->result.start_ns = vmt_monotonic_ns();
	vmt_progress_init(&ctx->progress, ctx->opts.progress);
	if (!buf) {
		ret = save_fail(ctx, NULL, -ENOMEM, "allocating a %u-byte buffer", ctx->opts.chunk_size);
		goto out;
	}
	for (unsigned int i = 0; i < ctx->ndevs && ret == 0; i++)
		ret = prepare_device(ctx, &ctx->devs[i]);
	if (ret == 0)
		ret = run_precopy(ctx, buf);
	if (ret == 0)
		ret = run_stop_copy(ctx, buf);
	if (ret == 0) {
		ret = migstream_writer_finish(ctx->writer);
		if (ret < 0)
			write_failed(ctx, ret);
		else
			ctx->result.stream_complete = true;
	}
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
out:
	vmt_progress_clear(&ctx->progress);
	ctx->result.end_ns = vmt_monotonic_ns();
	if (ctx->writer)
		ctx->result.stream_bytes = migstream_writer_offset(ctx->writer);
	if (ret < 0) {
		/* A complete stream may be resuming elsewhere: the failure came after it. */
		if (ctx->result.stream_complete)
			vmt_failure_set_lead(&ctx->failure, "stream complete, but ");
		recover_all(ctx);
	}
	free(buf);
	return ret;
}
