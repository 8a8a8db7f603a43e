// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Records into listing rows: the fixed columns, and an INFO column of
 * key=value words with what each record type says.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "describe.h"
#include "migstream-reply.h"
#include "vfio-mig.h"

void cat_format_time(uint64_t time_ns, char *buf, size_t len)
{
	time_t secs = (time_t)(time_ns / 1000000000ull);
	struct tm tm;

	if (!gmtime_r(&secs, &tm)) {
		snprintf(buf, len, "%" PRIu64 "ns", time_ns);
		return;
	}
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%09" PRIu64 "Z", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (uint64_t)(time_ns % 1000000000ull));
}

static void set_num(struct cat_row *row, enum cat_column c, uint64_t v)
{
	row->v[c].kind = CAT_VAL_NUM;
	row->v[c].num = v;
}

static void set_str(struct cat_row *row, enum cat_column c, const char *s)
{
	row->v[c].kind = CAT_VAL_STR;
	row->v[c].str = s;
}

static const char *size_or_unknown(uint64_t v, char *buf, size_t len)
{
	if (v == MIGSTREAM_SIZE_UNKNOWN)
		return "unknown";
	snprintf(buf, len, "%" PRIu64, v);
	return buf;
}

/* The record as the reader decoded it: a bad payload never gets here. */
static void describe_payload(const struct migstream_record *rec, struct cat_row *row)
{
	char *info = row->info;
	size_t len = sizeof(row->info);
	char t[48], n[32];

	switch (rec->type) {
	case MIGSTREAM_REC_STREAM_HEADER: {
		const struct migstream_stream_header *h = &rec->stream_header;

		cat_format_time(h->time_ns, t, sizeof(t));
		snprintf(info, len, "producer=%s version=%s host=%s time=%s", h->producer,
			 h->producer_version, h->host, t);
		return;
	}
	case MIGSTREAM_REC_DEVICE: {
		const struct migstream_device *d = &rec->device;

		set_num(row, CAT_COL_DEVICE, d->index);
		int used = snprintf(info, len, "name=%s driver=%s mig_flags=0x%" PRIx64 " stop_copy_size=%s",
				    d->name, d->driver, d->mig_flags,
				    size_or_unknown(d->stop_copy_size, n, sizeof(n)));

		if (used > 0 && (size_t)used < len && d->mdev_type[0])
			used += snprintf(info + used, len - used, " mdev_type=%s", d->mdev_type);
		if (used > 0 && (size_t)used < len && (d->id_flags & MIGSTREAM_DEV_PCI_IDS))
			snprintf(info + used, len - used,
				 " pci=%04x:%04x subsys=%04x:%04x class=0x%06x rev=0x%02x", d->vendor,
				 d->device, d->subsys_vendor, d->subsys_device, d->class_code, d->revision);
		return;
	}
	case MIGSTREAM_REC_DATA: {
		const struct migstream_data *d = &rec->data;

		set_num(row, CAT_COL_DEVICE, d->device);
		set_str(row, CAT_COL_PHASE, migstream_phase_name(d->phase));
		set_num(row, CAT_COL_CHUNK, d->chunk_index);
		snprintf(info, len, "offset=%" PRIu64 " bytes=%u", d->offset, d->len);
		return;
	}
	case MIGSTREAM_REC_PRECOPY_INFO: {
		const struct migstream_precopy_info *p = &rec->precopy_info;

		set_num(row, CAT_COL_DEVICE, p->device);
		cat_format_time(p->time_ns, t, sizeof(t));
		snprintf(info, len, "state=%s initial_bytes=%" PRIu64 " dirty_bytes=%" PRIu64
			 " stop_copy_size=%s time=%s", vmt_mig_state_name(p->state),
			 p->initial_bytes, p->dirty_bytes, size_or_unknown(p->stop_copy_size, n, sizeof(n)), t);
		return;
	}
	case MIGSTREAM_REC_DIRTY_BITMAP: {
		const struct migstream_dirty_bitmap *b = &rec->dirty_bitmap;

		set_num(row, CAT_COL_DEVICE, b->source);
		cat_format_time(b->time_ns, t, sizeof(t));
		snprintf(info, len, "iova=0x%" PRIx64 " page_size=%" PRIu64 " pages=%" PRIu64
			 " dirty=%" PRIu64 " encoding=%s time=%s", b->iova, b->page_size, b->page_count,
			 b->dirty_count, b->encoding == MIGSTREAM_BITMAP_RAW ? "raw" : "runs", t);
		return;
	}
	case MIGSTREAM_REC_DEVICE_END: {
		const struct migstream_device_end *e = &rec->device_end;

		set_num(row, CAT_COL_DEVICE, e->device);
		snprintf(info, len, "total_bytes=%" PRIu64 " chunks=%" PRIu64 " digest=%016" PRIx64,
			 e->total_bytes, e->chunk_count, e->state_digest);
		return;
	}
	case MIGSTREAM_REC_STREAM_END: {
		const struct migstream_stream_end *e = &rec->stream_end;

		snprintf(info, len, "records=%" PRIu64 " payload_bytes=%" PRIu64 " devices=%u",
			 e->record_count, e->payload_bytes, e->device_count);
		return;
	}
	case MIGSTREAM_REC_CHANNEL: {
		const struct migstream_channel *c = &rec->channel;
		char id[2 * MIGSTREAM_SET_ID_LEN + 1];

		for (int i = 0; i < MIGSTREAM_SET_ID_LEN; i++)
			snprintf(id + 2 * i, 3, "%02x", c->set_id[i]);
		snprintf(info, len, "channel=%" PRIu32 " of=%" PRIu32 " set=%s", c->channel, c->channel_count, id);
		return;
	}
	case MIGSTREAM_REC_INIT_DATA_SENT: {
		struct migstream_init_data_sent ids;

		/* Ancillary: the reader hands it out undecoded, so a bad one is shown, not refused. */
		if (migstream_decode_init_data_sent(rec, &ids)) {
			snprintf(info, len, "bad INIT_DATA_SENT payload (%u bytes)", rec->len);
			return;
		}
		set_num(row, CAT_COL_DEVICE, ids.device);
		snprintf(info, len, "generation=%" PRIu32 " offset=%" PRIu64 " initial=%" PRIu64, ids.generation,
			 ids.offset, ids.initial);
		return;
	}
	default:
		/* The reader only hands out unknown types that may be skipped. */
		snprintf(info, len, "unknown ancillary record type %u, skipped", rec->type);
	}
}

bool cat_type_known(uint16_t type)
{
	return migstream_record_type_known(type) || type == MIGSTREAM_REC_INIT_DATA_SENT;
}

void cat_describe_record(const struct migstream_record *rec, struct cat_row *row)
{
	static char unknown_type[24];

	for (int c = 0; c < CAT_NCOLUMNS; c++)
		row->v[c].kind = CAT_VAL_NONE;
	row->info[0] = '\0';
	set_num(row, CAT_COL_OFFSET, rec->offset);
	set_num(row, CAT_COL_SEQ, rec->seq);
	const char *type = migstream_reply_type_name(rec->type);

	if (!cat_type_known(rec->type)) {
		snprintf(unknown_type, sizeof(unknown_type), "TYPE_%u", rec->type);
		type = unknown_type;
	}
	set_str(row, CAT_COL_TYPE, type);
	set_num(row, CAT_COL_RAW, rec->len);
	set_num(row, CAT_COL_STORED, rec->stored_len);
	set_str(row, CAT_COL_COMPRESSION, (rec->flags & MIGSTREAM_RF_ZSTD) ? "zstd" : "none");
	/* The reader hands out nothing whose checksums failed. */
	set_str(row, CAT_COL_CHECK, "ok");
	set_str(row, CAT_COL_INFO, row->info);
	describe_payload(rec, row);
}
