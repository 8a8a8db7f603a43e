// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The save's events; see save-events.h.
 */
#include "common/c.h"
#include "common/events.h"
#include "common/json-doc.h"
#include "common/timeutil.h"
#include "stream/writer.h"
#include "vfio/state.h"
#include "save-events.h"

void save_events_round(struct save_ctx *ctx, const struct save_device *sd,
		       const struct migstream_precopy_info *info, bool reinit)
{
	struct json_object *f;

	if (!ctx->events)
		return;
	f = vmt_event_fields();
	vmt_json_add_u64(f, "round", ctx->result.rounds);
	vmt_json_add_str(f, "state", vmt_state_name(info->state));
	vmt_json_add_u64(f, "bytes", sd->pass_bytes);
	vmt_json_add_u64(f, "pass_ns", sd->pass_ns);
	vmt_json_add_rate(f, "rate", sd->pass_bytes, sd->pass_ns);
	vmt_json_add_u64(f, "initial_bytes", info->initial_bytes);
	vmt_json_add_u64(f, "dirty_bytes", info->dirty_bytes);
	vmt_json_add_bool(f, "reinit", reinit);
	vmt_events_emit(ctx->events, VMT_EV_PRECOPY_ROUND, sd->dev->name, f);
}

/* The expected stop-copy time and what it came from (null: no rate measured yet). */
static void add_estimate(const struct save_ctx *ctx, struct json_object *f)
{
	const struct save_estimate *e = &ctx->result.estimate;

	if (e->ns != SAVE_ESTIMATE_UNKNOWN)
		vmt_json_add_u64(f, "expected_stop_copy_ns", e->ns);
	else
		vmt_json_add_null(f, "expected_stop_copy_ns");
	if (ctx->opts.downtime_limit_set)
		vmt_json_add_u64(f, "downtime_limit_ns", ctx->opts.downtime_limit_ns);
	vmt_json_add_u64(f, "left_bytes", e->bytes);
	vmt_json_add_u64(f, "read_rate", e->read_rate);
	vmt_json_add_u64(f, "channel_rate", e->channel_rate);
	if (e->bottleneck)
		vmt_json_add_str(f, "bottleneck", e->bottleneck);
	else
		vmt_json_add_null(f, "bottleneck");
}

void save_events_switchover(struct save_ctx *ctx)
{
	uint64_t estimate = 0, stop_copy_size = 0;
	bool size_known = true;
	struct json_object *f;

	if (!ctx->events)
		return;
	for (unsigned int i = 0; i < ctx->ndevs; i++) {
		const struct save_device *sd = &ctx->devs[i];

		if (sd->precopy)
			estimate += sd->estimate;
		size_known &= sd->stop_copy_size != MIGSTREAM_SIZE_UNKNOWN;
		stop_copy_size += size_known ? sd->stop_copy_size : 0;
	}
	f = vmt_event_fields();
	vmt_json_add_str(f, "reason", save_switch_reason_name(ctx->result.reason));
	vmt_json_add_u64(f, "rounds", ctx->result.rounds);
	vmt_json_add_u64(f, "precopy_ns", ctx->result.switch_ns - ctx->result.start_ns);
	/* What pre-copy said was left, and the devices' own estimate of their stop-copy data. */
	vmt_json_add_u64(f, "estimate_bytes", estimate);
	if (size_known)
		vmt_json_add_u64(f, "stop_copy_size", stop_copy_size);
	else
		vmt_json_add_null(f, "stop_copy_size");
	add_estimate(ctx, f);
	vmt_events_emit(ctx->events, VMT_EV_SWITCHOVER, NULL, f);
}

void save_events_stop_copy(struct save_ctx *ctx)
{
	struct json_object *f;

	if (!ctx->events)
		return;
	f = vmt_event_fields();
	add_estimate(ctx, f);
	vmt_json_add_u64(f, "stop_copy_ns", ctx->result.stop_copy_done_ns - ctx->result.switch_ns);
	vmt_events_emit(ctx->events, VMT_EV_STOP_COPY, NULL, f);
}

static const char *phase_name(enum migstream_phase phase)
{
	switch (phase) {
	case MIGSTREAM_PHASE_PRECOPY_INITIAL:
		return "precopy-initial";
	case MIGSTREAM_PHASE_PRECOPY_DIRTY:
		return "precopy-dirty";
	case MIGSTREAM_PHASE_STOP_COPY:
	default:
		return "stop-copy";
	}
}

void save_events_device_data(struct save_ctx *ctx, const struct save_device *sd,
			     enum migstream_phase phase, uint64_t bytes, uint64_t start_ns)
{
	uint64_t duration = vmt_monotonic_ns() - start_ns;
	struct json_object *f;

	if (!ctx->events)
		return;
	f = vmt_event_fields();
	vmt_json_add_str(f, "direction", "read");
	vmt_json_add_str(f, "phase", phase_name(phase));
	vmt_json_add_u64(f, "bytes", bytes);
	vmt_json_add_u64(f, "start_ns", start_ns);
	vmt_json_add_u64(f, "duration_ns", duration);
	vmt_json_add_rate(f, "rate", bytes, duration);
	vmt_events_emit(ctx->events, VMT_EV_DEVICE_DATA, sd->dev->name, f);
}

static void channel_sample(struct save_ctx *ctx, struct save_channel *ch, uint64_t now,
			   enum vmt_event_kind kind)
{
	uint64_t out = migstream_writer_bytes_out(ch->writer);
	uint64_t interval = now - ctx->events_tick_ns;
	struct json_object *f = vmt_event_fields();

	vmt_json_add_u64(f, "channel", ch->index);
	vmt_json_add_str(f, "name", ch->name);
	if (kind == VMT_EV_THROUGHPUT) {
		vmt_json_add_u64(f, "bytes", out - ch->events_bytes);
		vmt_json_add_u64(f, "interval_ns", interval);
		vmt_json_add_rate(f, "rate", out - ch->events_bytes, interval);
	}
	vmt_json_add_u64(f, "total_bytes", out);
	ch->events_bytes = out;
	vmt_events_emit(ctx->events, kind, NULL, f);
}

static void sample_channels(struct save_ctx *ctx, uint64_t now, enum vmt_event_kind kind)
{
	for (unsigned int i = 0; i < ctx->nchannels; i++)
		if (ctx->channels[i].writer)
			channel_sample(ctx, &ctx->channels[i], now, kind);
}

void save_events_tick(struct save_ctx *ctx)
{
	uint64_t now;

	if (!ctx->events)
		return;
	now = vmt_monotonic_ns();
	if (!ctx->events_tick_ns) {
		ctx->events_tick_ns = now;
		return;
	}
	if (now - ctx->events_tick_ns < NSEC_PER_SEC)
		return;
	sample_channels(ctx, now, VMT_EV_THROUGHPUT);
	ctx->events_tick_ns = now;
}

void save_events_channels_done(struct save_ctx *ctx)
{
	uint64_t now;

	if (!ctx->events)
		return;
	now = vmt_monotonic_ns();
	if (ctx->events_tick_ns)
		sample_channels(ctx, now, VMT_EV_THROUGHPUT);
	ctx->events_tick_ns = now;
	sample_channels(ctx, now, VMT_EV_CHANNEL_DONE);
}
