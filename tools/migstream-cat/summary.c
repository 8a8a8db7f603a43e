// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Stream totals, printed after the listing.
 */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "common/c.h"
#include "common/fields.h"
#include "common/json-doc.h"
#include "common/strutils.h"
#include "stream/reply.h"
#include "vfio/state.h"
#include "fields.h"
#include "summary.h"

void cat_summary_init(struct cat_summary *s)
{
	memset(s, 0, sizeof(*s));
}

static struct cat_device_stats *find_device(struct cat_summary *s, uint32_t index)
{
	for (size_t i = 0; i < s->ndev; i++)
		if (s->dev[i].index == index)
			return &s->dev[i];
	return NULL;
}

static void add_device(struct cat_summary *s, const struct migstream_device *d)
{
	struct cat_device_stats *ds;

	/* The reader refused a second DEVICE of an index and the 65th device. */
	if (s->ndev == CAT_SUMMARY_MAX_DEVICES)
		return;
	ds = &s->dev[s->ndev++];
	memset(ds, 0, sizeof(*ds));
	ds->index = d->index;
	/* Long names (sysfs paths) are cut: the listing shows them whole. */
	size_t n = strnlen(d->name, sizeof(ds->name) - 1);

	memcpy(ds->name, d->name, n);
	ds->name[n] = '\0';
}

void cat_summary_add(struct cat_summary *s, const struct migstream_record *rec)
{
	struct cat_device_stats *ds;

	s->records++;
	s->raw_bytes += rec->len;
	s->stored_bytes += rec->stored_len;
	if (rec->flags & MIGSTREAM_RF_ZSTD)
		s->compressed_records++;
	s->stream_bytes = rec->offset + MIGSTREAM_RECORD_HEADER_LEN + rec->stored_len;

	switch (rec->type) {
	case MIGSTREAM_REC_DEVICE:
		add_device(s, &rec->device);
		break;
	case MIGSTREAM_REC_DATA:
		s->data_bytes += rec->data.len;
		ds = find_device(s, rec->data.device);
		if (ds) {
			ds->phase_bytes[rec->data.phase] += rec->data.len;
			ds->chunks++;
		}
		break;
	case MIGSTREAM_REC_PRECOPY_INFO:
		s->precopy_samples++;
		ds = find_device(s, rec->precopy_info.device);
		if (ds) {
			ds->precopy_samples++;
			ds->last_sample = rec->precopy_info;
		}
		break;
	case MIGSTREAM_REC_DIRTY_BITMAP:
		s->bitmaps++;
		s->bitmap_pages += rec->dirty_bitmap.page_count;
		s->dirty_pages += rec->dirty_bitmap.dirty_count;
		break;
	case MIGSTREAM_REC_DEVICE_END:
		ds = find_device(s, rec->device_end.device);
		if (ds) {
			ds->ended = true;
			ds->end = rec->device_end;
		}
		break;
	case MIGSTREAM_REC_CHANNEL:
		s->is_channel = true;
		s->channel = rec->channel;
		break;
	case MIGSTREAM_REC_INIT_DATA_SENT:
		s->init_data_sent++;
		break;
	case MIGSTREAM_REC_SWITCHOVER_ACK:
		s->is_reply = true;
		s->switchover_acks++;
		break;
	case MIGSTREAM_REC_LOAD_RESULT:
		/* reply.c refused a LOAD_RESULT that does not decode */
		s->is_reply = true;
		s->have_result = migstream_decode_load_result(rec, &s->result) == 0;
		break;
	case MIGSTREAM_REC_STREAM_HEADER:
	case MIGSTREAM_REC_STREAM_END:
		break;
	default:
		s->skipped_records++;
	}
}

static double ratio(const struct cat_summary *s)
{
	return s->stored_bytes ? (double)s->raw_bytes / (double)s->stored_bytes : 1.0;
}

static uint64_t device_total(const struct cat_device_stats *d)
{
	uint64_t t = 0;

	for (int p = 0; p < CAT_NPHASES; p++)
		t += d->phase_bytes[p];
	return t;
}

void cat_summary_channel_line(char *buf, size_t len, const struct cat_summary *s)
{
	char id[MIGSTREAM_SET_ID_HEX_LEN];
	int used;

	migstream_set_id_hex(s->channel.set_id, id);
	used = snprintf(buf, len, "channel %" PRIu32 " of %" PRIu32 ", set %s", s->channel.channel,
			s->channel.channel_count, id);
	for (size_t i = 0; i < s->ndev && used > 0 && (size_t)used < len; i++) {
		const struct cat_device_stats *d = &s->dev[i];

		used += snprintf(buf + used, len - used,
				 "%s device %" PRIu32 " %" PRIu64 " of %" PRIu64 " chunks, %" PRIu64
				 " of %" PRIu64 " bytes",
				 i ? ";" : ":", d->index, d->chunks, d->end.chunk_count,
				 device_total(d), d->end.total_bytes);
	}
}

/* What the loader said: its acks, its exit status, each target, its message. */
static void print_reply_text(FILE *out, const struct cat_summary *s)
{
	char flags[64];

	fprintf(out, "  reply stream:   %" PRIu64 " switchover acks, ", s->switchover_acks);
	if (!s->have_result) {
		fprintf(out, "no load result\n");
		return;
	}
	fprintf(out, "load result: exit %" PRIu32 "%s\n", s->result.exit_code,
		s->result.exit_code ? " (failed)" : " (loaded)");
	for (uint32_t i = 0; i < s->result.device_count; i++) {
		const struct migstream_result_device *e = &s->result.devices[i];

		cat_result_flags_string(e->flags, "none", flags, sizeof(flags));
		fprintf(out, "    device %-9" PRIu32 "%s, %s\n", e->device,
			e->state == MIGSTREAM_STATE_UNKNOWN ? "state unknown"
							    : vmt_state_name(e->state),
			flags);
	}
	if (s->result.message[0]) {
		fprintf(out, "    %-16s", "message");
		cat_fputs_printable(s->result.message, out);
		putc('\n', out);
	}
}

/*
 * The summary as two field lists (lib/common/fields), the stream's and a
 * device's, which the text and the JSON printers both walk.
 */

/* A device of the summary. */

static void get_device_index(const void *obj, const void *ctx, struct vmt_field_value *v)
{
	v->num = ((const struct cat_device_stats *)obj)->index;
}

static void get_device_name(const void *obj, const void *ctx, struct vmt_field_value *v)
{
	v->str = ((const struct cat_device_stats *)obj)->name;
}

static void get_device_total(const void *obj, const void *ctx, struct vmt_field_value *v)
{
	v->num = device_total(obj);
}

static void get_last_state(const void *obj, const void *ctx, struct vmt_field_value *v)
{
	v->str = vmt_state_name(((const struct cat_device_stats *)obj)->last_sample.state);
}

/* A channel holds part of the device: what the whole set carries. */
static bool in_set(const void *obj, const void *ctx)
{
	const struct cat_summary *s = ctx;

	return s->is_channel && ((const struct cat_device_stats *)obj)->ended;
}

static bool sampled(const void *obj, const void *ctx)
{
	return ((const struct cat_device_stats *)obj)->precopy_samples > 0;
}

#define DEV_U64(member) VMT_FIELD_U64(struct cat_device_stats, member)

static const struct vmt_field device_fields[] = {
	{ "device", "  device %s:       ", 1, VMT_FIELD_NUM, .get = get_device_index },
	{ "name", "%s\n", 2, VMT_FIELD_PRINTABLE, .get = get_device_name },
	{ "precopy_initial_bytes", "    PRECOPY_INITIAL %s\n", 3, VMT_FIELD_NUM,
	  DEV_U64(phase_bytes[MIGSTREAM_PHASE_PRECOPY_INITIAL]) },
	{ "precopy_dirty_bytes", "    PRECOPY_DIRTY   %s\n", 4, VMT_FIELD_NUM,
	  DEV_U64(phase_bytes[MIGSTREAM_PHASE_PRECOPY_DIRTY]) },
	{ "stop_copy_bytes", "    STOP_COPY       %s\n", 5, VMT_FIELD_NUM,
	  DEV_U64(phase_bytes[MIGSTREAM_PHASE_STOP_COPY]) },
	{ "total_bytes", "    total           %s", 6, VMT_FIELD_BYTES, .get = get_device_total },
	{ "chunks", " in %s chunks\n", 7, VMT_FIELD_NUM, DEV_U64(chunks) },
	{ "precopy_info_samples", NULL, 0, VMT_FIELD_NUM, DEV_U64(precopy_samples) },
	{ "set_total_bytes", "    in the set      %s", 8, VMT_FIELD_BYTES, DEV_U64(end.total_bytes),
	  .when = in_set },
	{ "set_chunks", " in %s chunks\n", 9, VMT_FIELD_NUM, DEV_U64(end.chunk_count),
	  .when = in_set },
	{ NULL, "    precopy info    %s", 10, VMT_FIELD_NUM, DEV_U64(precopy_samples),
	  .when = sampled },
	{ NULL, ", last: %s", 11, VMT_FIELD_STR, .get = get_last_state, .when = sampled },
	{ NULL, " initial_bytes=%s", 12, VMT_FIELD_NUM, DEV_U64(last_sample.initial_bytes),
	  .when = sampled },
	{ NULL, " dirty_bytes=%s\n", 13, VMT_FIELD_NUM, DEV_U64(last_sample.dirty_bytes),
	  .when = sampled },
};

/* The stream's totals. */

static void get_ratio(const void *obj, const void *ctx, struct vmt_field_value *v)
{
	const struct cat_summary *s = obj;

	v->dbl = ratio(s);
}

static void get_ndev(const void *obj, const void *ctx, struct vmt_field_value *v)
{
	const struct cat_summary *s = obj;

	v->num = s->ndev;
}

static void get_kind(const void *obj, const void *ctx, struct vmt_field_value *v)
{
	const struct cat_summary *s = obj;

	v->str = s->is_reply ? "reply" : "forward";
}

static void get_load_exit_code(const void *obj, const void *ctx, struct vmt_field_value *v)
{
	const struct cat_summary *s = obj;

	if (s->have_result)
		v->num = s->result.exit_code;
	else
		v->kind = VMT_FIELD_NULL;
}

static void get_channel(const void *obj, const void *ctx, struct vmt_field_value *v)
{
	const struct cat_summary *s = obj;

	v->num = s->channel.channel;
}

static void get_channel_count(const void *obj, const void *ctx, struct vmt_field_value *v)
{
	const struct cat_summary *s = obj;

	v->num = s->channel.channel_count;
}

static void get_set_id(const void *obj, const void *ctx, struct vmt_field_value *v)
{
	const struct cat_summary *s = obj;

	migstream_set_id_hex(s->channel.set_id, v->buf);
	v->str = v->buf;
}

static bool is_reply(const void *obj, const void *ctx)
{
	return ((const struct cat_summary *)ctx)->is_reply;
}

static bool is_channel(const void *obj, const void *ctx)
{
	return ((const struct cat_summary *)ctx)->is_channel;
}

#define CAT_U64(member) VMT_FIELD_U64(struct cat_summary, member)

/*
 * The text: "summary of FILE:", the head (2..11: what every stream has),
 * then a reply stream's word or the devices, then a forward stream's tail
 * (20..23).
 */
enum {
	TEXT_HEAD = 2,
	TEXT_HEAD_END = 11,
	TEXT_TAIL = 20,
	TEXT_TAIL_END = 23,
	DEVICE_TEXT_END = 13
};

static const struct vmt_field stream_fields[] = {
	{ "records", "  records:        %s", 5, VMT_FIELD_NUM, CAT_U64(records) },
	{ "compressed_records", " (%s compressed", 6, VMT_FIELD_NUM, CAT_U64(compressed_records) },
	{ "skipped_records", ", %s skipped)\n", 7, VMT_FIELD_NUM, CAT_U64(skipped_records) },
	{ "stream_bytes", "  stream bytes:   %s\n", 8, VMT_FIELD_BYTES, CAT_U64(stream_bytes) },
	{ "raw_bytes", "  payload bytes:  %s raw", 9, VMT_FIELD_NUM, CAT_U64(raw_bytes) },
	{ "stored_bytes", ", %s stored", 10, VMT_FIELD_NUM, CAT_U64(stored_bytes) },
	{ "compression_ratio", ", ratio %s\n", 11, VMT_FIELD_RATIO, .get = get_ratio },
	{ "devices", NULL, 0, VMT_FIELD_NUM, .get = get_ndev },
	{ "data_bytes", NULL, 0, VMT_FIELD_NUM, CAT_U64(data_bytes) },
	{ "precopy_info_samples", "  precopy info:   %s samples\n", 20, VMT_FIELD_NUM,
	  CAT_U64(precopy_samples) },
	{ "dirty_bitmaps", "  dirty bitmaps:  %s records", 21, VMT_FIELD_NUM, CAT_U64(bitmaps) },
	{ "bitmap_pages", " of %s pages\n", 23, VMT_FIELD_NUM, CAT_U64(bitmap_pages) },
	{ "dirty_pages", ", %s dirty", 22, VMT_FIELD_NUM, CAT_U64(dirty_pages) },
	{ "kind", NULL, 0, VMT_FIELD_STR, .get = get_kind },
	{ "switchover_acks", NULL, 0, VMT_FIELD_NUM, CAT_U64(switchover_acks), .when = is_reply },
	{ "load_exit_code", NULL, 0, VMT_FIELD_NUM, .get = get_load_exit_code, .when = is_reply },
	{ "channel", "  channel:        %s", 2, VMT_FIELD_NUM, .get = get_channel,
	  .when = is_channel },
	{ "channel_count", " of %s", 3, VMT_FIELD_NUM, .get = get_channel_count,
	  .when = is_channel },
	{ "set_id", ", set %s\n", 4, VMT_FIELD_STR, .get = get_set_id, .when = is_channel },
};

void cat_summary_print_text(FILE *out, const struct cat_summary *s, const char *name)
{
	fprintf(out, "summary of %s:\n", name);
	vmt_fields_text(out, stream_fields, ARRAY_SIZE(stream_fields), TEXT_HEAD, TEXT_HEAD_END, s,
			s);
	if (s->is_reply) {
		print_reply_text(out, s);
		return;
	}
	for (size_t i = 0; i < s->ndev; i++)
		vmt_fields_text(out, device_fields, ARRAY_SIZE(device_fields), 1, DEVICE_TEXT_END,
				&s->dev[i], s);
	vmt_fields_text(out, stream_fields, ARRAY_SIZE(stream_fields), TEXT_TAIL, TEXT_TAIL_END, s,
			s);
}

/* One JSON line: the type and file, then the fields. */
static int print_json(FILE *out, const char *type, const char *name, const struct vmt_field *fields,
		      size_t n, const void *obj, const struct cat_summary *s)
{
	struct json_object *doc = vmt_json_doc_new("migstream-cat", CAT_JSON_SCHEMA_VERSION);

	vmt_json_add_str(doc, "type", type);
	vmt_json_add_str(doc, "file", name);
	vmt_fields_json(doc, fields, n, obj, s);
	return vmt_json_emit(out, doc);
}

/*
 * JSON lines stay flat: one "device_summary" object per device, then the
 * stream's "summary" object last.
 */
int cat_summary_print_json(FILE *out, const struct cat_summary *s, const char *name)
{
	int ret;

	for (size_t i = 0; i < s->ndev; i++) {
		ret = print_json(out, "device_summary", name, device_fields,
				 ARRAY_SIZE(device_fields), &s->dev[i], s);
		if (ret < 0)
			return ret;
	}
	return print_json(out, "summary", name, stream_fields, ARRAY_SIZE(stream_fields), s, s);
}
