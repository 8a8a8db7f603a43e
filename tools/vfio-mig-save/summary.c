// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vfio-mig-save's summary; see summary.h.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "log.h"
#include "strutils.h"
#include "summary.h"
#include "vfio-mig.h"

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

const char *summary_device_states(const struct save_ctx *ctx, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (unsigned int i = 0; i < ctx->ndevs && used < len; i++) {
		const struct save_device *sd = &ctx->devs[i];

		/* A device never moved and never read has nothing to report but that. */
		bool untouched = !sd->touched && sd->final_state == VMT_STATE_UNKNOWN;

		used += snprintf(buf + used, len - used, "%s%s %s%s",
				 i ? ", " : (ctx->ndevs == 1 ? "device " : "devices: "),
				 sd->dev->name, ctx->ndevs == 1 && !untouched ? "now " : "",
				 untouched ? "untouched" : vmt_mig_state_name(sd->final_state));
		if (used < len)
			used += snprintf(buf + used, len - used, "%s", state_note(sd));
	}
	return buf;
}

void summary_print_text(const struct save_ctx *ctx)
{
	const struct save_result *r = &ctx->result;
	double total_ms = ms_between(r->start_ns, r->end_ns);
	double stop_ms = ms_between(r->switch_ns, r->stop_copy_done_ns);
	uint64_t bytes = 0;
	char b1[32], b2[32], b3[32];

	for (unsigned int i = 0; i < ctx->ndevs; i++)
		bytes += device_total(&ctx->devs[i]);
	vmt_info("saved %u device%s: %s of device state, %s of stream in %.3f s (%.1f MiB/s)",
		 ctx->ndevs, ctx->ndevs == 1 ? "" : "s", vmt_format_size(bytes, b1, sizeof(b1)),
		 vmt_format_size(r->stream_bytes, b2, sizeof(b2)), total_ms / 1e3,
		 total_ms > 0 ? (double)bytes / (1 << 20) / (total_ms / 1e3) : 0.0);
	if (r->reason != SWITCH_NONE)
		vmt_info("pre-copy: %" PRIu64 " round%s in %.3f s, switchover by %s", r->rounds,
			 r->rounds == 1 ? "" : "s", ms_between(r->start_ns, r->switch_ns) / 1e3,
			 save_switch_reason_name(r->reason));
	vmt_info("stop-copy (device part of downtime): %.3f s", stop_ms / 1e3);
	for (unsigned int i = 0; i < ctx->ndevs; i++) {
		const struct save_device *sd = &ctx->devs[i];

		vmt_info("%s: pre-copy %s initial + %s dirty, stop-copy %s; now %s%s", sd->dev->name,
			 vmt_format_size(sd->bytes[MIGSTREAM_PHASE_PRECOPY_INITIAL], b1, sizeof(b1)),
			 vmt_format_size(sd->bytes[MIGSTREAM_PHASE_PRECOPY_DIRTY], b2, sizeof(b2)),
			 vmt_format_size(sd->bytes[MIGSTREAM_PHASE_STOP_COPY], b3, sizeof(b3)),
			 vmt_mig_state_name(sd->final_state), state_note(sd));
	}
}

void summary_print_json(FILE *out, const struct save_ctx *ctx, bool ok, const char *error)
{
	const struct save_result *r = &ctx->result;
	double total_ms = ms_between(r->start_ns, r->end_ns);
	uint64_t bytes = 0;
	char flags[64];

	for (unsigned int i = 0; i < ctx->ndevs; i++)
		bytes += device_total(&ctx->devs[i]);
	fprintf(out, "{\"ok\":%s,", ok ? "true" : "false");
	if (error) {
		fputs(ok ? "\"warning\":" : "\"error\":", out);
		vmt_json_string(out, error);
		fputc(',', out);
	}
	fprintf(out, "\"stream_complete\":%s,\"stream_bytes\":%" PRIu64 ",\"device_bytes\":%" PRIu64
		     ",\"rounds\":%" PRIu64 ",\"switchover\":\"%s\",\"precopy_ms\":%.3f,"
		     "\"stop_copy_ms\":%.3f,\"total_ms\":%.3f,\"throughput_mib_s\":%.3f,\"devices\":[",
		r->stream_complete ? "true" : "false", r->stream_bytes, bytes, r->rounds,
		save_switch_reason_name(r->reason),
		r->reason != SWITCH_NONE ? ms_between(r->start_ns, r->switch_ns) : 0.0,
		ms_between(r->switch_ns, r->stop_copy_done_ns), total_ms,
		total_ms > 0 ? (double)bytes / (1 << 20) / (total_ms / 1e3) : 0.0);
	for (unsigned int i = 0; i < ctx->ndevs; i++) {
		const struct save_device *sd = &ctx->devs[i];

		fprintf(out, "%s{\"index\":%u,\"name\":", i ? "," : "", sd->index);
		vmt_json_string(out, sd->dev->name);
		fprintf(out, ",\"node\":");
		vmt_json_string(out, sd->dev->node);
		fprintf(out, ",\"access\":\"%s\",\"mig_flags\":\"%s\",\"precopy\":%s,"
			     "\"precopy_initial_bytes\":%" PRIu64 ",\"precopy_dirty_bytes\":%" PRIu64
			     ",\"stop_copy_bytes\":%" PRIu64 ",\"total_bytes\":%" PRIu64
			     ",\"complete\":%s,\"start_state\":\"%s\",\"final_state\":\"%s\","
			     "\"resets\":%u,\"recovery_failed\":%s}",
			vmt_device_access_name(sd->dev->access),
			vmt_mig_flags_string(sd->dev->mig_flags, flags, sizeof(flags)),
			sd->precopy ? "true" : "false", sd->bytes[MIGSTREAM_PHASE_PRECOPY_INITIAL],
			sd->bytes[MIGSTREAM_PHASE_PRECOPY_DIRTY], sd->bytes[MIGSTREAM_PHASE_STOP_COPY],
			device_total(sd), sd->complete ? "true" : "false",
			vmt_mig_state_name(sd->start_state), vmt_mig_state_name(sd->final_state),
			sd->dev->resets, sd->recovery_failed ? "true" : "false");
	}
	fputs("]}\n", out);
}
