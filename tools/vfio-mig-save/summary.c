// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vfio-mig-save's summary; see summary.h.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/failure.h"
#include "common/json-doc.h"
#include "common/log.h"
#include "common/strutils.h"
#include "vfio/mig.h"
#include "output.h"
#include "summary.h"

static double ms_between(uint64_t from, uint64_t to)
{
	return to > from ? (double)(to - from) / 1e6 : 0.0;
}

static uint64_t device_total(const struct save_device *sd)
{
	uint64_t total = 0;

	for (int p = 0; p < SAVE_PHASES; p++)
		total += sd->bytes[p];
	return total;
}

static const char *state_note(const struct save_device *sd)
{
	if (sd->recovery_failed)
		return sd->dev->resets ? " (after reset; recovery failed)" : " (recovery failed)";
	if (sd->dev->resets)
		return " (after reset)";
	return "";
}

char *summary_error_line(const struct save_ctx *ctx)
{
	struct vmt_device_fate *fates = calloc(ctx->ndevs ? ctx->ndevs : 1, sizeof(*fates));
	char *line;

	if (!fates)
		return NULL;
	for (unsigned int i = 0; i < ctx->ndevs; i++) {
		const struct save_device *sd = &ctx->devs[i];

		fates[i] = (struct vmt_device_fate){
			.name = sd->dev->name,
			.state = vmt_state_name_or_null(sd->final_state),
			.touched = sd->touched,
			.reset = sd->dev->resets > 0,
			.recovery_failed = sd->recovery_failed,
		};
	}
	line = vmt_failure_line(&ctx->failure, fates, ctx->ndevs);
	free(fates);
	return line;
}

/* --describe saved no state and moved nothing: say that, not a zero-byte save. */
static void summary_print_description(const struct save_ctx *ctx)
{
	char b1[32];

	vmt_info("described %u device%s: %s of stream, no device state", ctx->ndevs,
		 ctx->ndevs == 1 ? "" : "s", vmt_format_size(ctx->result.stream_bytes, b1, sizeof(b1)));
	for (unsigned int i = 0; i < ctx->ndevs; i++)
		vmt_info("%s: untouched, %s", ctx->devs[i].dev->name,
			 vmt_state_name(ctx->devs[i].final_state));
}

/*
 * The return path's word, at the end of the first line: without -v it is
 * the only line that says the destination has the devices (a confirmed
 * load has every device of the stream).
 */
static const char *confirmation(const struct save_ctx *ctx, char *buf, size_t size)
{
	if (!ctx->result.load_confirmed)
		return "";
	snprintf(buf, size, "; the destination loaded %u device%s", ctx->ndevs, ctx->ndevs == 1 ? "" : "s");
	return buf;
}

void summary_print_text(const struct save_ctx *ctx)
{
	const struct save_result *r = &ctx->result;
	double total_ms = ms_between(r->start_ns, r->end_ns);
	double stop_ms = ms_between(r->switch_ns, r->stop_copy_done_ns);
	uint64_t bytes = 0;
	char b1[32], b2[32], b3[32], confirmed[64];

	if (ctx->opts.describe) {
		summary_print_description(ctx);
		return;
	}
	for (unsigned int i = 0; i < ctx->ndevs; i++)
		bytes += device_total(&ctx->devs[i]);
	vmt_info("saved %u device%s: %s of device state, %s of stream in %.3f s (%.1f MiB/s)%s",
		 ctx->ndevs, ctx->ndevs == 1 ? "" : "s", vmt_format_size(bytes, b1, sizeof(b1)),
		 vmt_format_size(r->stream_bytes, b2, sizeof(b2)), total_ms / 1e3,
		 total_ms > 0 ? (double)bytes / (1 << 20) / (total_ms / 1e3) : 0.0,
		 confirmation(ctx, confirmed, sizeof(confirmed)));
	if (r->reason != SWITCH_NONE)
		vmt_info("pre-copy: %" PRIu64 " round%s in %.3f s, switchover by %s", r->rounds,
			 r->rounds == 1 ? "" : "s", ms_between(r->start_ns, r->switch_ns) / 1e3,
			 save_switch_reason_name(r->reason));
	vmt_info("stop-copy (device part of downtime): %.3f s", stop_ms / 1e3);
	if (ctx->nchannels > 1) {
		vmt_info("%u channels:", ctx->nchannels);
		for (unsigned int i = 0; i < ctx->nchannels; i++)
			vmt_info("channel %u: %s, %s", i, ctx->channels[i].name,
				 vmt_format_size(output_channel_bytes(ctx, i), b1, sizeof(b1)));
	}
	if (ctx->opts.zstd_level)
		vmt_info("compression: %u thread%s, %" PRIu64 " record%s sent raw by the adaptive rule",
			 ctx->opts.threads, ctx->opts.threads == 1 ? "" : "s", r->adaptive_raw,
			 r->adaptive_raw == 1 ? "" : "s");
	for (unsigned int i = 0; i < ctx->ndevs; i++) {
		const struct save_device *sd = &ctx->devs[i];

		vmt_info("%s: pre-copy %s initial + %s dirty, stop-copy %s; now %s%s", sd->dev->name,
			 vmt_format_size(sd->bytes[MIGSTREAM_PHASE_PRECOPY_INITIAL], b1, sizeof(b1)),
			 vmt_format_size(sd->bytes[MIGSTREAM_PHASE_PRECOPY_DIRTY], b2, sizeof(b2)),
			 vmt_format_size(sd->bytes[MIGSTREAM_PHASE_STOP_COPY], b3, sizeof(b3)),
			 vmt_state_name(sd->final_state), state_note(sd));
		if (sd->ack_ns)
			vmt_info("%s: switchover-ack after %.3f s (initial section %u)", sd->dev->name,
				 ms_between(r->start_ns, sd->ack_ns) / 1e3, sd->acked);
	}
}

static uint64_t ns_between(uint64_t from, uint64_t to)
{
	return to > from ? to - from : 0;
}

static void add_device(struct json_object *devices, const struct save_ctx *ctx, const struct save_device *sd)
{
	struct json_object *d = vmt_json_append_object(devices);

	vmt_json_add_u64(d, "index", sd->index);
	vmt_json_add_str(d, "name", sd->dev->name);
	vmt_json_add_str(d, "node", sd->dev->node);
	vmt_json_add_str(d, "access", vmt_device_access_name(sd->dev->access));
	vmt_json_add_flags(d, "migration_flags", sd->dev->mig_flags, vmt_migration_flag_name);
	vmt_json_add_bool(d, "precopy", sd->precopy);
	vmt_json_add_u64(d, "precopy_initial_bytes", sd->bytes[MIGSTREAM_PHASE_PRECOPY_INITIAL]);
	vmt_json_add_u64(d, "precopy_dirty_bytes", sd->bytes[MIGSTREAM_PHASE_PRECOPY_DIRTY]);
	vmt_json_add_u64(d, "stop_copy_bytes", sd->bytes[MIGSTREAM_PHASE_STOP_COPY]);
	vmt_json_add_u64(d, "total_bytes", device_total(sd));
	vmt_json_add_bool(d, "complete", sd->complete);
	vmt_json_add_str(d, "start_state", vmt_state_name(sd->start_state));
	vmt_json_add_str(d, "final_state", vmt_state_name(sd->final_state));
	vmt_json_add_u64(d, "resets", sd->dev->resets);
	vmt_json_add_bool(d, "recovery_failed", sd->recovery_failed);
	vmt_json_add_u64(d, "initial_sections", sd->generation);
	vmt_json_add_bool(d, "precopy_info_v2", sd->precopy_v2);
	vmt_json_add_u64(d, "adaptive_raw_records", sd->adaptive_raw);
	if (sd->ack_ns)
		vmt_json_add_seconds(d, "switchover_ack_s", ns_between(ctx->result.start_ns, sd->ack_ns));
	else
		vmt_json_add_null(d, "switchover_ack_s");
}

struct json_object *summary_json(const struct save_ctx *ctx, const char *error_line)
{
	const struct save_result *r = &ctx->result;
	struct json_object *doc = vmt_json_doc_new("vfio-mig-save", SUMMARY_SCHEMA_VERSION);
	struct json_object *devices, *channels;
	uint64_t total_ns = ns_between(r->start_ns, r->end_ns);
	uint64_t bytes = 0;

	for (unsigned int i = 0; i < ctx->ndevs; i++)
		bytes += device_total(&ctx->devs[i]);
	vmt_failure_add_json(doc, &ctx->failure, error_line);
	vmt_json_add_str(doc, "output", ctx->output_name);
	vmt_json_add_bool(doc, "stream_complete", r->stream_complete);
	vmt_json_add_u64(doc, "stream_bytes", r->stream_bytes);
	vmt_json_add_u64(doc, "device_bytes", bytes);
	vmt_json_add_u64(doc, "rounds", r->rounds);
	vmt_json_add_str(doc, "switchover", save_switch_reason_name(r->reason));
	vmt_json_add_seconds(doc, "precopy_s",
			     r->reason != SWITCH_NONE ? ns_between(r->start_ns, r->switch_ns) : 0);
	vmt_json_add_seconds(doc, "stop_copy_s", ns_between(r->switch_ns, r->stop_copy_done_ns));
	vmt_json_add_seconds(doc, "total_s", total_ns);
	vmt_json_add_rate(doc, "throughput_bytes_per_s", bytes, total_ns);
	devices = vmt_json_add_array(doc, "devices");
	for (unsigned int i = 0; i < ctx->ndevs; i++)
		add_device(devices, ctx, &ctx->devs[i]);
	vmt_json_add_u64(doc, "jobs", ctx->opts.jobs && ctx->opts.jobs < ctx->ndevs ? ctx->opts.jobs : ctx->ndevs);
	vmt_json_add_u64(doc, "threads", ctx->opts.zstd_level ? ctx->opts.threads : 0);
	vmt_json_add_u64(doc, "queue_size_bytes", ctx->opts.queue_size);
	vmt_json_add_u64(doc, "queue_peak_bytes", r->queue_peak);
	vmt_json_add_u64(doc, "adaptive_raw_records", r->adaptive_raw);
	channels = vmt_json_add_array(doc, "channels");
	for (unsigned int i = 0; i < ctx->nchannels; i++) {
		struct json_object *c = vmt_json_append_object(channels);

		vmt_json_add_str(c, "output", ctx->channels[i].name);
		vmt_json_add_u64(c, "bytes", output_channel_bytes(ctx, i));
	}
	vmt_json_add_bool(doc, "return_path", ctx->rp != NULL);
	vmt_json_add_bool(doc, "load_confirmed", r->load_confirmed);
	return doc;
}
