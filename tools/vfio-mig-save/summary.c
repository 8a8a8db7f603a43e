// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vfio-mig-save's summary; see summary.h.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/c.h"
#include "common/failure.h"
#include "common/fields.h"
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
		 ctx->ndevs == 1 ? "" : "s",
		 vmt_format_size(ctx->result.stream_bytes, b1, sizeof(b1)));
	for (unsigned int i = 0; i < ctx->ndevs; i++)
		vmt_info("%s: untouched, %s", ctx->devs[i].dev->name,
			 vmt_state_name(ctx->devs[i].final_state));
}

static uint64_t ns_between(uint64_t from, uint64_t to)
{
	return to > from ? to - from : 0;
}

static uint64_t device_bytes(const struct save_ctx *ctx)
{
	uint64_t bytes = 0;

	for (unsigned int i = 0; i < ctx->ndevs; i++)
		bytes += device_total(&ctx->devs[i]);
	return bytes;
}

static const char *plural(uint64_t n)
{
	return n == 1 ? "" : "s";
}

/*
 * The summary as field lists (lib/common/fields): the save's, a device's
 * and a channel's, each walked by both the text and the JSON printers. A
 * getter's obj is what the list describes, its ctx the save.
 */

/* A device: "vfio0: pre-copy 1.0 KiB initial + 0 B dirty, stop-copy ...". */

#define SD(obj) ((const struct save_device *)(obj))

static void get_dev_index(const void *obj, const void *ctx, struct vmt_field_value *v)
{
	v->num = SD(obj)->index;
}

static void get_dev_name(const void *obj, const void *ctx, struct vmt_field_value *v)
{
	v->str = SD(obj)->dev->name;
}

static void get_dev_node(const void *obj, const void *ctx, struct vmt_field_value *v)
{
	v->str = SD(obj)->dev->node;
}

static void get_dev_access(const void *obj, const void *ctx, struct vmt_field_value *v)
{
	v->str = vmt_device_access_name(SD(obj)->dev->access);
}

static void get_dev_mig_flags(const void *obj, const void *ctx, struct vmt_field_value *v)
{
	v->num = SD(obj)->dev->mig_flags;
	v->flag_name = vmt_migration_flag_name;
}

static void get_dev_precopy(const void *obj, const void *ctx, struct vmt_field_value *v)
{
	v->num = SD(obj)->precopy;
}

static void get_dev_total(const void *obj, const void *ctx, struct vmt_field_value *v)
{
	v->num = device_total(obj);
}

static void get_dev_complete(const void *obj, const void *ctx, struct vmt_field_value *v)
{
	v->num = SD(obj)->complete;
}

static void get_dev_start_state(const void *obj, const void *ctx, struct vmt_field_value *v)
{
	v->str = vmt_state_name(SD(obj)->start_state);
}

static void get_dev_final_state(const void *obj, const void *ctx, struct vmt_field_value *v)
{
	v->str = vmt_state_name(SD(obj)->final_state);
}

static void get_dev_state_note(const void *obj, const void *ctx, struct vmt_field_value *v)
{
	v->str = state_note(obj);
}

static void get_dev_resets(const void *obj, const void *ctx, struct vmt_field_value *v)
{
	v->num = SD(obj)->dev->resets;
}

static void get_dev_recovery_failed(const void *obj, const void *ctx, struct vmt_field_value *v)
{
	v->num = SD(obj)->recovery_failed;
}

static void get_dev_generation(const void *obj, const void *ctx, struct vmt_field_value *v)
{
	v->num = SD(obj)->generation;
}

static void get_dev_precopy_v2(const void *obj, const void *ctx, struct vmt_field_value *v)
{
	v->num = SD(obj)->precopy_v2;
}

/* Seconds from the start of the save to the destination's ack; null: no ack. */
static void get_dev_ack(const void *obj, const void *ctx, struct vmt_field_value *v)
{
	const struct save_result *r = &((const struct save_ctx *)ctx)->result;

	if (!SD(obj)->ack_ns) {
		v->kind = VMT_FIELD_NULL;
		return;
	}
	v->ns = ns_between(r->start_ns, SD(obj)->ack_ns);
	v->dbl = ms_between(r->start_ns, SD(obj)->ack_ns) / 1e3;
}

static void get_dev_acked(const void *obj, const void *ctx, struct vmt_field_value *v)
{
	v->num = SD(obj)->acked;
}

#define DEV_U64(member) VMT_FIELD_U64(struct save_device, member)

/* The text: the device's line (1..6), then its ack's (10..12). */
enum {
	DEV_LINE = 1,
	DEV_LINE_END = 6,
	ACK_LINE = 10,
	ACK_LINE_END = 12
};

static const struct vmt_field device_fields[] = {
	{ "index", NULL, 0, VMT_FIELD_NUM, .get = get_dev_index },
	{ "name", "%s: ", 1, VMT_FIELD_STR, .get = get_dev_name },
	{ "node", NULL, 0, VMT_FIELD_STR, .get = get_dev_node },
	{ "access", NULL, 0, VMT_FIELD_STR, .get = get_dev_access },
	{ "migration_flags", NULL, 0, VMT_FIELD_FLAGS, .get = get_dev_mig_flags },
	{ "precopy", NULL, 0, VMT_FIELD_BOOL, .get = get_dev_precopy },
	{ "precopy_initial_bytes", "pre-copy %s initial", 2, VMT_FIELD_SIZE,
	  DEV_U64(bytes[MIGSTREAM_PHASE_PRECOPY_INITIAL]) },
	{ "precopy_dirty_bytes", " + %s dirty", 3, VMT_FIELD_SIZE,
	  DEV_U64(bytes[MIGSTREAM_PHASE_PRECOPY_DIRTY]) },
	{ "stop_copy_bytes", ", stop-copy %s", 4, VMT_FIELD_SIZE,
	  DEV_U64(bytes[MIGSTREAM_PHASE_STOP_COPY]) },
	{ "total_bytes", NULL, 0, VMT_FIELD_NUM, .get = get_dev_total },
	{ "complete", NULL, 0, VMT_FIELD_BOOL, .get = get_dev_complete },
	{ "start_state", NULL, 0, VMT_FIELD_STR, .get = get_dev_start_state },
	{ "final_state", "; now %s", 5, VMT_FIELD_STR, .get = get_dev_final_state },
	{ NULL, "%s", 6, VMT_FIELD_STR, .get = get_dev_state_note },
	{ "resets", NULL, 0, VMT_FIELD_NUM, .get = get_dev_resets },
	{ "recovery_failed", NULL, 0, VMT_FIELD_BOOL, .get = get_dev_recovery_failed },
	{ "initial_sections", NULL, 0, VMT_FIELD_NUM, .get = get_dev_generation },
	{ "precopy_info_v2", NULL, 0, VMT_FIELD_BOOL, .get = get_dev_precopy_v2 },
	{ "adaptive_raw_records", NULL, 0, VMT_FIELD_NUM, DEV_U64(adaptive_raw) },
	{ NULL, "%s: switchover-ack after ", 10, VMT_FIELD_STR, .get = get_dev_name },
	{ "switchover_ack_s", "%s s", 11, VMT_FIELD_SECONDS, .get = get_dev_ack },
	{ NULL, " (initial section %s)", 12, VMT_FIELD_NUM, .get = get_dev_acked },
};

/* A channel of a set: "channel 1: b.vms, 1.2 MiB". */

static unsigned int channel_index(const void *obj, const void *ctx)
{
	return (unsigned int)((const struct save_channel *)obj -
			      ((const struct save_ctx *)ctx)->channels);
}

static void get_ch_index(const void *obj, const void *ctx, struct vmt_field_value *v)
{
	v->num = channel_index(obj, ctx);
}

static void get_ch_output(const void *obj, const void *ctx, struct vmt_field_value *v)
{
	v->str = ((const struct save_channel *)obj)->name;
}

static void get_ch_bytes(const void *obj, const void *ctx, struct vmt_field_value *v)
{
	v->num = output_channel_bytes(ctx, channel_index(obj, ctx));
}

static const struct vmt_field channel_fields[] = {
	{ NULL, "channel %s: ", 1, VMT_FIELD_NUM, .get = get_ch_index },
	{ "output", "%s, ", 2, VMT_FIELD_STR, .get = get_ch_output },
	{ "bytes", "%s", 3, VMT_FIELD_SIZE, .get = get_ch_bytes },
};

/* The save. */

#define CTX(obj) ((const struct save_ctx *)(obj))

static void get_output(const void *obj, const void *ctx, struct vmt_field_value *v)
{
	v->str = CTX(obj)->output_name;
}

static void get_stream_complete(const void *obj, const void *ctx, struct vmt_field_value *v)
{
	v->num = CTX(obj)->result.stream_complete;
}

static void get_device_bytes(const void *obj, const void *ctx, struct vmt_field_value *v)
{
	v->num = device_bytes(obj);
}

static void get_switchover(const void *obj, const void *ctx, struct vmt_field_value *v)
{
	v->str = save_switch_reason_name(CTX(obj)->result.reason);
}

static void get_precopy_s(const void *obj, const void *ctx, struct vmt_field_value *v)
{
	const struct save_result *r = &CTX(obj)->result;

	v->ns = r->reason != SWITCH_NONE ? ns_between(r->start_ns, r->switch_ns) : 0;
	v->dbl = ms_between(r->start_ns, r->switch_ns) / 1e3;
}

static void get_stop_copy_s(const void *obj, const void *ctx, struct vmt_field_value *v)
{
	const struct save_result *r = &CTX(obj)->result;

	v->ns = ns_between(r->switch_ns, r->stop_copy_done_ns);
	v->dbl = ms_between(r->switch_ns, r->stop_copy_done_ns) / 1e3;
}

static bool downtime_limit_given(const void *obj, const void *ctx)
{
	return CTX(obj)->opts.downtime_limit_set;
}

/* The expected stop-copy time at the switchover; null when no rate was measured. */
static void get_expected_stop_copy_s(const void *obj, const void *ctx, struct vmt_field_value *v)
{
	const struct save_estimate *e = &CTX(obj)->result.estimate;

	v->json_null = e->ns == SAVE_ESTIMATE_UNKNOWN;
	v->ns = v->json_null ? 0 : e->ns;
	v->dbl = v->ns / 1e9;
}

static void get_downtime_limit_s(const void *obj, const void *ctx, struct vmt_field_value *v)
{
	v->ns = CTX(obj)->opts.downtime_limit_ns;
	v->dbl = v->ns / 1e9;
}

static void get_total_s(const void *obj, const void *ctx, struct vmt_field_value *v)
{
	const struct save_result *r = &CTX(obj)->result;

	v->ns = ns_between(r->start_ns, r->end_ns);
	v->dbl = ms_between(r->start_ns, r->end_ns) / 1e3;
}

/* The device bytes over the whole save. */
static void get_throughput(const void *obj, const void *ctx, struct vmt_field_value *v)
{
	const struct save_result *r = &CTX(obj)->result;
	double total_ms = ms_between(r->start_ns, r->end_ns);

	v->num = device_bytes(obj);
	v->ns = ns_between(r->start_ns, r->end_ns);
	v->dbl = total_ms > 0 ? (double)v->num / (1 << 20) / (total_ms / 1e3) : 0.0;
}

static void get_devices(const void *obj, const void *ctx, struct vmt_field_value *v)
{
	v->array = (struct vmt_field_array){
		.items = CTX(obj)->devs,
		.count = CTX(obj)->ndevs,
		.item_size = sizeof(*CTX(obj)->devs),
		.fields = device_fields,
		.nfields = ARRAY_SIZE(device_fields),
	};
}

static void get_channels(const void *obj, const void *ctx, struct vmt_field_value *v)
{
	v->array = (struct vmt_field_array){
		.items = CTX(obj)->channels,
		.count = CTX(obj)->nchannels,
		.item_size = sizeof(*CTX(obj)->channels),
		.fields = channel_fields,
		.nfields = ARRAY_SIZE(channel_fields),
	};
}

static void get_jobs(const void *obj, const void *ctx, struct vmt_field_value *v)
{
	const struct save_ctx *c = obj;

	v->num = c->opts.jobs && c->opts.jobs < c->ndevs ? c->opts.jobs : c->ndevs;
}

static void get_threads(const void *obj, const void *ctx, struct vmt_field_value *v)
{
	v->num = CTX(obj)->opts.zstd_level ? CTX(obj)->opts.threads : 0;
}

static void get_queue_size(const void *obj, const void *ctx, struct vmt_field_value *v)
{
	v->num = CTX(obj)->opts.queue_size;
}

static void get_return_path(const void *obj, const void *ctx, struct vmt_field_value *v)
{
	v->num = CTX(obj)->rp != NULL;
}

static void get_load_confirmed(const void *obj, const void *ctx, struct vmt_field_value *v)
{
	v->num = CTX(obj)->result.load_confirmed;
}

/* The text's words: "1 device", "2 rounds". */

static void get_ndevs(const void *obj, const void *ctx, struct vmt_field_value *v)
{
	v->num = CTX(obj)->ndevs;
}

static void get_ndevs_plural(const void *obj, const void *ctx, struct vmt_field_value *v)
{
	v->str = plural(CTX(obj)->ndevs);
}

static void get_rounds_plural(const void *obj, const void *ctx, struct vmt_field_value *v)
{
	v->str = plural(CTX(obj)->result.rounds);
}

static void get_threads_plural(const void *obj, const void *ctx, struct vmt_field_value *v)
{
	v->str = plural(CTX(obj)->opts.threads);
}

static void get_adaptive_raw_plural(const void *obj, const void *ctx, struct vmt_field_value *v)
{
	v->str = plural(CTX(obj)->result.adaptive_raw);
}

/*
 * The return path's word, at the end of the first line: without -v it is
 * the only line that says the destination has the devices (a confirmed
 * load has every device of the stream).
 */
static void get_confirmation(const void *obj, const void *ctx, struct vmt_field_value *v)
{
	const struct save_ctx *c = obj;

	v->str = "";
	if (!c->result.load_confirmed)
		return;
	snprintf(v->buf, sizeof(v->buf), "; the destination loaded %u device%s", c->ndevs,
		 plural(c->ndevs));
	v->str = v->buf;
}

#define RES_U64(member) VMT_FIELD_U64(struct save_ctx, result.member)

/* The text's lines: saved (1..7), pre-copy (10..13), stop-copy (20), compression (30..33). */
enum {
	SAVED_LINE = 1,
	SAVED_LINE_END = 7,
	PRECOPY_LINE = 10,
	PRECOPY_LINE_END = 13,
	STOP_COPY_LINE = 20,
	STOP_COPY_LINE_END = 22,
	COMPRESSION_LINE = 30,
	COMPRESSION_LINE_END = 33,
};

static const struct vmt_field save_fields[] = {
	{ "output", NULL, 0, VMT_FIELD_STR, .get = get_output },
	{ "stream_complete", NULL, 0, VMT_FIELD_BOOL, .get = get_stream_complete },
	{ "stream_bytes", "%s of stream in ", 4, VMT_FIELD_SIZE, RES_U64(stream_bytes) },
	{ "device_bytes", "%s of device state, ", 3, VMT_FIELD_SIZE, .get = get_device_bytes },
	{ "rounds", "pre-copy: %s", 10, VMT_FIELD_NUM, RES_U64(rounds) },
	{ "switchover", ", switchover by %s", 13, VMT_FIELD_STR, .get = get_switchover },
	{ "precopy_s", " in %s s", 12, VMT_FIELD_SECONDS, .get = get_precopy_s },
	{ "stop_copy_s", "stop-copy (device part of downtime): %s s", 20, VMT_FIELD_SECONDS,
	  .get = get_stop_copy_s },
	{ "expected_stop_copy_s", " (expected %s s", 21, VMT_FIELD_SECONDS,
	  .get = get_expected_stop_copy_s, .when = downtime_limit_given },
	{ "downtime_limit_s", ", limit %s s)", 22, VMT_FIELD_SECONDS, .get = get_downtime_limit_s,
	  .when = downtime_limit_given },
	{ "total_s", "%s s", 5, VMT_FIELD_SECONDS, .get = get_total_s },
	{ "throughput_bytes_per_s", " (%s MiB/s)", 6, VMT_FIELD_MIB_RATE, .get = get_throughput },
	{ "devices", NULL, 0, VMT_FIELD_OBJECTS, .get = get_devices },
	{ "jobs", NULL, 0, VMT_FIELD_NUM, .get = get_jobs },
	{ "threads", "compression: %s", 30, VMT_FIELD_NUM, .get = get_threads },
	{ "queue_size_bytes", NULL, 0, VMT_FIELD_NUM, .get = get_queue_size },
	{ "queue_peak_bytes", NULL, 0, VMT_FIELD_NUM, RES_U64(queue_peak) },
	{ "adaptive_raw_records", ", %s", 32, VMT_FIELD_NUM, RES_U64(adaptive_raw) },
	{ "channels", NULL, 0, VMT_FIELD_OBJECTS, .get = get_channels },
	{ "return_path", NULL, 0, VMT_FIELD_BOOL, .get = get_return_path },
	{ "load_confirmed", NULL, 0, VMT_FIELD_BOOL, .get = get_load_confirmed },
	{ NULL, "saved %s", 1, VMT_FIELD_NUM, .get = get_ndevs },
	{ NULL, " device%s: ", 2, VMT_FIELD_STR, .get = get_ndevs_plural },
	{ NULL, "%s", 7, VMT_FIELD_STR, .get = get_confirmation },
	{ NULL, " round%s", 11, VMT_FIELD_STR, .get = get_rounds_plural },
	{ NULL, " thread%s", 31, VMT_FIELD_STR, .get = get_threads_plural },
	{ NULL, " record%s sent raw by the adaptive rule", 33, VMT_FIELD_STR,
	  .get = get_adaptive_raw_plural },
};

/* One line of text, fields [from, to] of a list, as an info message. */
static void info_line(const struct vmt_field *fields, size_t n, unsigned int from, unsigned int to,
		      const void *obj, const struct save_ctx *ctx)
{
	char *line = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&line, &len);

	if (!f)
		return;
	vmt_fields_text(f, fields, n, from, to, obj, ctx);
	if (fclose(f) == 0)
		vmt_info("%s", line);
	free(line);
}

void summary_print_text(const struct save_ctx *ctx)
{
	if (ctx->opts.describe) {
		summary_print_description(ctx);
		return;
	}
	info_line(save_fields, ARRAY_SIZE(save_fields), SAVED_LINE, SAVED_LINE_END, ctx, ctx);
	if (ctx->result.reason != SWITCH_NONE)
		info_line(save_fields, ARRAY_SIZE(save_fields), PRECOPY_LINE, PRECOPY_LINE_END, ctx,
			  ctx);
	info_line(save_fields, ARRAY_SIZE(save_fields), STOP_COPY_LINE, STOP_COPY_LINE_END, ctx,
		  ctx);
	if (ctx->nchannels > 1) {
		vmt_info("%u channels:", ctx->nchannels);
		for (unsigned int i = 0; i < ctx->nchannels; i++)
			info_line(channel_fields, ARRAY_SIZE(channel_fields), 1, 3,
				  &ctx->channels[i], ctx);
	}
	if (ctx->opts.zstd_level)
		info_line(save_fields, ARRAY_SIZE(save_fields), COMPRESSION_LINE,
			  COMPRESSION_LINE_END, ctx, ctx);
	for (unsigned int i = 0; i < ctx->ndevs; i++) {
		info_line(device_fields, ARRAY_SIZE(device_fields), DEV_LINE, DEV_LINE_END,
			  &ctx->devs[i], ctx);
		if (ctx->devs[i].ack_ns)
			info_line(device_fields, ARRAY_SIZE(device_fields), ACK_LINE, ACK_LINE_END,
				  &ctx->devs[i], ctx);
	}
}

struct json_object *summary_json(const struct save_ctx *ctx, const char *error_line)
{
	struct json_object *doc = vmt_json_doc_new("vfio-mig-save", SUMMARY_SCHEMA_VERSION);

	vmt_failure_add_json(doc, &ctx->failure, error_line);
	vmt_fields_json(doc, save_fields, ARRAY_SIZE(save_fields), ctx, ctx);
	return doc;
}
