// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Stream totals, printed after the listing.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/json-doc.h"
#include "common/strutils.h"
#include "stream/reply.h"
#include "vfio/mig.h"
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

		used += snprintf(buf + used, len - used, "%s device %" PRIu32 " %" PRIu64 " of %" PRIu64
				 " chunks, %" PRIu64 " of %" PRIu64 " bytes", i ? ";" : ":", d->index, d->chunks,
				 d->end.chunk_count, device_total(d), d->end.total_bytes);
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
			e->state == MIGSTREAM_STATE_UNKNOWN ? "state unknown" : vmt_state_name(e->state), flags);
	}
	if (s->result.message[0]) {
		fprintf(out, "    %-16s", "message");
		cat_fputs_printable(s->result.message, out);
		putc('\n', out);
	}
}

void cat_summary_print_text(FILE *out, const struct cat_summary *s, const char *name)
{
	char a[32], b[32], id[2 * MIGSTREAM_SET_ID_LEN + 1];

	fprintf(out, "summary of %s:\n", name);
	if (s->is_channel) {
		migstream_set_id_hex(s->channel.set_id, id);
		fprintf(out, "  channel:        %" PRIu32 " of %" PRIu32 ", set %s\n", s->channel.channel,
			s->channel.channel_count, id);
	}
	fprintf(out, "  records:        %" PRIu64 " (%" PRIu64 " compressed, %" PRIu64 " skipped)\n",
		s->records, s->compressed_records, s->skipped_records);
	fprintf(out, "  stream bytes:   %" PRIu64 " (%s)\n", s->stream_bytes,
		vmt_format_size(s->stream_bytes, a, sizeof(a)));
	fprintf(out, "  payload bytes:  %" PRIu64 " raw, %" PRIu64 " stored, ratio %.2f\n",
		s->raw_bytes, s->stored_bytes, ratio(s));
	if (s->is_reply) {
		print_reply_text(out, s);
		return;
	}
	for (size_t i = 0; i < s->ndev; i++) {
		const struct cat_device_stats *d = &s->dev[i];

		fprintf(out, "  device %u:       ", d->index);
		cat_fputs_printable(d->name, out);
		putc('\n', out);
		for (int p = 1; p < CAT_NPHASES; p++)
			fprintf(out, "    %-16s%" PRIu64 "\n", migstream_phase_name((uint8_t)p),
				d->phase_bytes[p]);
		fprintf(out, "    %-16s%" PRIu64 " (%s) in %" PRIu64 " chunks\n", "total",
			device_total(d), vmt_format_size(device_total(d), b, sizeof(b)), d->chunks);
		/* A channel holds part of the device: what the whole set carries. */
		if (s->is_channel && d->ended)
			fprintf(out, "    %-16s%" PRIu64 " (%s) in %" PRIu64 " chunks\n", "in the set",
				d->end.total_bytes, vmt_format_size(d->end.total_bytes, b, sizeof(b)),
				d->end.chunk_count);
		if (d->precopy_samples)
			fprintf(out, "    %-16s%" PRIu64 ", last: %s initial_bytes=%" PRIu64
				" dirty_bytes=%" PRIu64 "\n", "precopy info", d->precopy_samples,
				vmt_state_name(d->last_sample.state),
				d->last_sample.initial_bytes, d->last_sample.dirty_bytes);
	}
	fprintf(out, "  precopy info:   %" PRIu64 " samples\n", s->precopy_samples);
	fprintf(out, "  dirty bitmaps:  %" PRIu64 " records, %" PRIu64 " dirty of %" PRIu64 " pages\n",
		s->bitmaps, s->dirty_pages, s->bitmap_pages);
}

/*
 * JSON lines stay flat: one "device_summary" object per device, then the
 * stream's "summary" object last.
 */
static int print_device_json(FILE *out, const struct cat_device_stats *d, const char *name, bool s_is_channel)
{
	struct json_object *doc = vmt_json_doc_new("migstream-cat", CAT_JSON_SCHEMA_VERSION);

	vmt_json_add_str(doc, "type", "device_summary");
	vmt_json_add_str(doc, "file", name);
	vmt_json_add_u64(doc, "device", d->index);
	vmt_json_add_str(doc, "name", d->name);
	vmt_json_add_u64(doc, "precopy_initial_bytes", d->phase_bytes[MIGSTREAM_PHASE_PRECOPY_INITIAL]);
	vmt_json_add_u64(doc, "precopy_dirty_bytes", d->phase_bytes[MIGSTREAM_PHASE_PRECOPY_DIRTY]);
	vmt_json_add_u64(doc, "stop_copy_bytes", d->phase_bytes[MIGSTREAM_PHASE_STOP_COPY]);
	vmt_json_add_u64(doc, "total_bytes", device_total(d));
	vmt_json_add_u64(doc, "chunks", d->chunks);
	vmt_json_add_u64(doc, "precopy_info_samples", d->precopy_samples);
	if (s_is_channel && d->ended) {
		vmt_json_add_u64(doc, "set_total_bytes", d->end.total_bytes);
		vmt_json_add_u64(doc, "set_chunks", d->end.chunk_count);
	}
	return vmt_json_emit(out, doc);
}

int cat_summary_print_json(FILE *out, const struct cat_summary *s, const char *name)
{
	struct json_object *doc;
	int ret;

	for (size_t i = 0; i < s->ndev; i++) {
		ret = print_device_json(out, &s->dev[i], name, s->is_channel);
		if (ret < 0)
			return ret;
	}
	doc = vmt_json_doc_new("migstream-cat", CAT_JSON_SCHEMA_VERSION);
	vmt_json_add_str(doc, "type", "summary");
	vmt_json_add_str(doc, "file", name);
	vmt_json_add_u64(doc, "records", s->records);
	vmt_json_add_u64(doc, "compressed_records", s->compressed_records);
	vmt_json_add_u64(doc, "skipped_records", s->skipped_records);
	vmt_json_add_u64(doc, "stream_bytes", s->stream_bytes);
	vmt_json_add_u64(doc, "raw_bytes", s->raw_bytes);
	vmt_json_add_u64(doc, "stored_bytes", s->stored_bytes);
	vmt_json_add_double(doc, "compression_ratio", ratio(s), 4);
	vmt_json_add_u64(doc, "devices", s->ndev);
	vmt_json_add_u64(doc, "data_bytes", s->data_bytes);
	vmt_json_add_u64(doc, "precopy_info_samples", s->precopy_samples);
	vmt_json_add_u64(doc, "dirty_bitmaps", s->bitmaps);
	vmt_json_add_u64(doc, "bitmap_pages", s->bitmap_pages);
	vmt_json_add_u64(doc, "dirty_pages", s->dirty_pages);
	vmt_json_add_str(doc, "kind", s->is_reply ? "reply" : "forward");
	if (s->is_reply) {
		vmt_json_add_u64(doc, "switchover_acks", s->switchover_acks);
		if (s->have_result)
			vmt_json_add_u64(doc, "load_exit_code", s->result.exit_code);
		else
			vmt_json_add_null(doc, "load_exit_code");
	}
	if (s->is_channel) {
		char id[MIGSTREAM_SET_ID_HEX_LEN];

		migstream_set_id_hex(s->channel.set_id, id);
		vmt_json_add_u64(doc, "channel", s->channel.channel);
		vmt_json_add_u64(doc, "channel_count", s->channel.channel_count);
		vmt_json_add_str(doc, "set_id", id);
	}
	return vmt_json_emit(out, doc);
}
