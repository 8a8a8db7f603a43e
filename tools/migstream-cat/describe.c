// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Records into listing rows: the fixed columns, and the fields of what each
 * record type says (the INFO column's key=value words, and --json's keys).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "describe.h"
#include "common/c.h"
#include "stream/reply.h"
#include "vfio/state.h"

void cat_format_time(uint64_t time_ns, char *buf, size_t len)
{
	time_t secs = (time_t)(time_ns / NSEC_PER_SEC);
	struct tm tm;

	if (!gmtime_r(&secs, &tm)) {
		snprintf(buf, len, "%" PRIu64 "ns", time_ns);
		return;
	}
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%09" PRIu64 "Z", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (uint64_t)(time_ns % NSEC_PER_SEC));
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

/* The next field of the row (the table holds more than any record has). */
static struct cat_field *add_field(struct cat_row *row, const char *text_key, const char *json_key,
				   enum cat_field_kind kind)
{
	struct cat_field *f = &row->fields[row->nfields++];

	*f = (struct cat_field){ .text_key = text_key, .json_key = json_key, .kind = kind };
	return f;
}

static void add_num(struct cat_row *row, const char *text_key, const char *json_key, uint64_t v)
{
	add_field(row, text_key, json_key, CAT_FIELD_NUM)->num = v;
}

static void add_hex(struct cat_row *row, const char *text_key, const char *json_key, uint64_t v,
		    int width)
{
	struct cat_field *f = add_field(row, text_key, json_key, CAT_FIELD_HEX);

	f->num = v;
	f->width = width;
}

static struct cat_field *add_str(struct cat_row *row, const char *text_key, const char *json_key,
				 const char *v)
{
	struct cat_field *f = add_field(row, text_key, json_key, CAT_FIELD_STR);

	f->str = v;
	return f;
}

/* Formatted text that lives as long as the row. */
static const char *row_text(struct cat_row *row, const char *fmt, ...) VMT_PRINTF(2, 3);
static const char *row_text(struct cat_row *row, const char *fmt, ...)
{
	char *at = row->scratch + row->scratch_used;
	size_t room = sizeof(row->scratch) - row->scratch_used;
	va_list ap;
	int n;

	if (!room)
		return ""; /* never: a row formats a few short values */
	va_start(ap, fmt);
	n = vsnprintf(at, room, fmt, ap);
	va_end(ap);
	row->scratch_used += n < 0 ? 0 : (size_t)n + 1 > room ? room : (size_t)n + 1;
	return at;
}

static void add_time(struct cat_row *row, uint64_t time_ns)
{
	struct cat_field *f = add_field(row, "time", "time", CAT_FIELD_TIME);
	char t[48];

	cat_format_time(time_ns, t, sizeof(t));
	f->num = time_ns;
	f->str = row_text(row, "%s", t);
}

static void describe_stream_header(const struct migstream_stream_header *h, struct cat_row *row)
{
	add_str(row, "producer", "producer", h->producer);
	add_str(row, "version", "producer_version", h->producer_version);
	add_str(row, "host", "host", h->host);
	add_time(row, h->time_ns);
}

/* INFO says the PCI ids in lspci's way; JSON gives each its number. */
static void describe_pci_ids(const struct migstream_device *d, struct cat_row *row)
{
	bool pci = d->id_flags & MIGSTREAM_DEV_PCI_IDS;
	int first = row->nfields;

	add_str(row, "pci", NULL, row_text(row, "%04x:%04x", d->vendor, d->device));
	add_num(row, NULL, "pci_vendor", d->vendor);
	add_num(row, NULL, "pci_device", d->device);
	add_str(row, "subsys", NULL,
		row_text(row, "%04x:%04x", d->subsys_vendor, d->subsys_device));
	add_num(row, NULL, "pci_subsys_vendor", d->subsys_vendor);
	add_num(row, NULL, "pci_subsys_device", d->subsys_device);
	add_hex(row, "class", "pci_class", d->class_code, 6);
	add_hex(row, "rev", "pci_revision", d->revision, 2);
	for (int i = first; i < row->nfields; i++)
		row->fields[i].absent = !pci;
}

static void describe_device(const struct migstream_device *d, struct cat_row *row)
{
	struct cat_field *f;

	set_num(row, CAT_COL_DEVICE, d->index);
	add_str(row, "name", "name", d->name);
	add_str(row, "driver", "driver", d->driver);
	f = add_field(row, "mig_flags", "migration_flags", CAT_FIELD_FLAGS);
	f->num = d->mig_flags;
	f->flag_name = vmt_migration_flag_name;
	add_field(row, "stop_copy_size", "stop_copy_bytes", CAT_FIELD_SIZE)->num =
		d->stop_copy_size;
	add_str(row, "mdev_type", "mdev_type", d->mdev_type)->quiet_empty = true;
	describe_pci_ids(d, row);
}

static void describe_data(const struct migstream_data *d, struct cat_row *row)
{
	set_num(row, CAT_COL_DEVICE, d->device);
	set_str(row, CAT_COL_PHASE, migstream_phase_name(d->phase));
	set_num(row, CAT_COL_CHUNK, d->chunk_index);
	add_num(row, "offset", "data_offset", d->offset);
	add_num(row, "bytes", "bytes", d->len);
}

static void describe_precopy_info(const struct migstream_precopy_info *p, struct cat_row *row)
{
	set_num(row, CAT_COL_DEVICE, p->device);
	add_str(row, "state", "state", vmt_state_name(p->state));
	add_num(row, "initial_bytes", "initial_bytes", p->initial_bytes);
	add_num(row, "dirty_bytes", "dirty_bytes", p->dirty_bytes);
	add_field(row, "stop_copy_size", "stop_copy_bytes", CAT_FIELD_SIZE)->num =
		p->stop_copy_size;
	add_time(row, p->time_ns);
}

static void describe_dirty_bitmap(const struct migstream_dirty_bitmap *b, struct cat_row *row)
{
	set_num(row, CAT_COL_DEVICE, b->source);
	add_hex(row, "iova", "iova", b->iova, 0);
	add_num(row, "page_size", "page_size", b->page_size);
	add_num(row, "pages", "pages", b->page_count);
	add_num(row, "dirty", "dirty_pages", b->dirty_count);
	add_str(row, "encoding", "encoding", b->encoding == MIGSTREAM_BITMAP_RAW ? "raw" : "runs");
	add_time(row, b->time_ns);
}

static void describe_device_end(const struct migstream_device_end *e, struct cat_row *row)
{
	set_num(row, CAT_COL_DEVICE, e->device);
	add_num(row, "total_bytes", "total_bytes", e->total_bytes);
	add_num(row, "chunks", "chunks", e->chunk_count);
	add_field(row, "digest", "digest", CAT_FIELD_DIGEST)->num = e->state_digest;
}

static void describe_stream_end(const struct migstream_stream_end *e, struct cat_row *row)
{
	add_num(row, "records", "records", e->record_count);
	add_num(row, "payload_bytes", "payload_bytes", e->payload_bytes);
	add_num(row, "devices", "devices", e->device_count);
}

static void describe_channel(const struct migstream_channel *c, struct cat_row *row)
{
	char id[MIGSTREAM_SET_ID_HEX_LEN];

	migstream_set_id_hex(c->set_id, id);
	add_num(row, "channel", "channel", c->channel);
	add_num(row, "of", "channel_count", c->channel_count);
	add_str(row, "set", "set_id", row_text(row, "%s", id));
}

/* Ancillary: the reader hands it out undecoded, so a bad one is shown, not refused. */
static void describe_init_data_sent(const struct migstream_record *rec, struct cat_row *row)
{
	struct migstream_init_data_sent ids;

	if (migstream_decode_init_data_sent(rec, &ids)) {
		add_str(row, "", NULL,
			row_text(row, "bad INIT_DATA_SENT payload (%u bytes)", rec->len));
		return;
	}
	set_num(row, CAT_COL_DEVICE, ids.device);
	add_num(row, "generation", "generation", ids.generation);
	add_num(row, "offset", "data_offset", ids.offset);
	add_num(row, "initial", "initial_bytes", ids.initial);
}

static void describe_time_probe(const struct migstream_record *rec, struct cat_row *row)
{
	struct migstream_time_probe p;

	if (migstream_decode_time_probe(rec, &p)) {
		add_str(row, "", NULL,
			row_text(row, "bad TIME_PROBE payload (%u bytes)", rec->len));
		return;
	}
	add_num(row, "probe", "probe", p.probe);
	add_num(row, "t1_ns", "t1_ns", p.t1_ns);
}

/* The reply records: the listing checked them (reply.c) before they get here. */
static void describe_time_echo(const struct migstream_record *rec, struct cat_row *row)
{
	struct migstream_time_echo e;

	if (migstream_decode_time_echo(rec, &e))
		return;
	add_num(row, "probe", "probe", e.probe);
	add_num(row, "t1_ns", "t1_ns", e.t1_ns);
	add_num(row, "t2_ns", "t2_ns", e.t2_ns);
	add_num(row, "t3_ns", "t3_ns", e.t3_ns);
}

static void describe_switchover_ack(const struct migstream_record *rec, struct cat_row *row)
{
	struct migstream_switchover_ack a;

	if (migstream_decode_switchover_ack(rec, &a))
		return;
	set_num(row, CAT_COL_DEVICE, a.device);
	add_num(row, "generation", "generation", a.generation);
	add_num(row, "bytes", "bytes", a.bytes);
	add_time(row, a.time_ns);
}

static void describe_load_result(const struct migstream_record *rec, struct cat_row *row)
{
	struct cat_field *f;

	if (migstream_decode_load_result(rec, &row->result))
		return;
	add_num(row, "exit_code", "exit_code", row->result.exit_code);
	add_time(row, row->result.time_ns);
	f = add_field(row, "target", "targets", CAT_FIELD_TARGETS);
	f->result = &row->result;
	add_str(row, "message", "message", row->result.message)->quiet_empty = true;
}

/* The record as the reader decoded it: a bad payload never gets here. */
static void describe_payload(const struct migstream_record *rec, struct cat_row *row)
{
	switch (rec->type) {
	case MIGSTREAM_REC_STREAM_HEADER:
		return describe_stream_header(&rec->stream_header, row);
	case MIGSTREAM_REC_DEVICE:
		return describe_device(&rec->device, row);
	case MIGSTREAM_REC_DATA:
		return describe_data(&rec->data, row);
	case MIGSTREAM_REC_PRECOPY_INFO:
		return describe_precopy_info(&rec->precopy_info, row);
	case MIGSTREAM_REC_DIRTY_BITMAP:
		return describe_dirty_bitmap(&rec->dirty_bitmap, row);
	case MIGSTREAM_REC_DEVICE_END:
		return describe_device_end(&rec->device_end, row);
	case MIGSTREAM_REC_STREAM_END:
		return describe_stream_end(&rec->stream_end, row);
	case MIGSTREAM_REC_CHANNEL:
		return describe_channel(&rec->channel, row);
	case MIGSTREAM_REC_INIT_DATA_SENT:
		return describe_init_data_sent(rec, row);
	case MIGSTREAM_REC_SWITCHOVER_ACK:
		return describe_switchover_ack(rec, row);
	case MIGSTREAM_REC_LOAD_RESULT:
		return describe_load_result(rec, row);
	case MIGSTREAM_REC_TIME_PROBE:
		return describe_time_probe(rec, row);
	case MIGSTREAM_REC_TIME_ECHO:
		return describe_time_echo(rec, row);
	case MIGSTREAM_REC_LOAD_EVENT:
		/* checked by the listing (reply.c): one JSON object, no NUL */
		add_num(row, "bytes", "bytes", rec->len);
		return;
	default:
		/* The reader only hands out unknown types that may be skipped. */
		add_str(row, "", NULL,
			row_text(row, "unknown ancillary record type %u, skipped", rec->type));
	}
}

bool cat_type_known(uint16_t type)
{
	return migstream_record_type_known(type) || type == MIGSTREAM_REC_INIT_DATA_SENT ||
	       type == MIGSTREAM_REC_TIME_PROBE || migstream_reply_type_known(type);
}

void cat_describe_record(const struct migstream_record *rec, struct cat_row *row)
{
	static char unknown_type[24];

	for (int c = 0; c < CAT_NCOLUMNS; c++)
		row->v[c].kind = CAT_VAL_NONE;
	row->nfields = 0;
	row->scratch_used = 0;
	set_num(row, CAT_COL_OFFSET, rec->offset);
	set_num(row, CAT_COL_SEQ, rec->seq);
	const char *type = migstream_record_type_name(rec->type);

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
	describe_payload(rec, row);
	cat_format_info(row, row->info, sizeof(row->info));
	set_str(row, CAT_COL_INFO, row->info);
}
