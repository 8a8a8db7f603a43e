// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The summary: as text after a successful load only (a failure has its one
 * error line instead); as JSON after either.
 *
 * Both come from one list of fields, as util-linux's lsmem prints its
 * table and its JSON from one list of columns: each field has its JSON key
 * and its place in the text, and both printers walk the same list over
 * values computed once: a figure cannot mean one thing in the text and
 * another in the JSON, and a new one is a line in the table.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json-doc.h"
#include "common/log.h"
#include "common/strutils.h"
#include "common/summary-file.h"
#include "common/timeutil.h"
#include "stream/channel-set.h"
#include "vfio/mig.h"
#include "input.h"
#include "load.h"
#include "summary.h"
#include "target.h"

/* What a field's value is, which says how each printer shows it. */
enum field_kind {
	FIELD_COUNT,   /* a number */
	FIELD_SIZE,    /* bytes: "4.0 MiB" in the text, a number in JSON */
	FIELD_SECONDS, /* a duration in ns: "1.234" in the text, seconds in JSON */
	FIELD_RATE,    /* bytes over a duration: "1.2 GiB/s", bytes per second in JSON */
	FIELD_TEXT,    /* a string */
	FIELD_HEX64,   /* a digest: 16 hex digits, a string in JSON */
	FIELD_BOOL,
	FIELD_LIST,    /* strings: a JSON array (not in the text) */
	FIELD_DEVICES, /* the device list: a JSON array of objects (the text has a line pair each) */
};

/* The text lines a field is on, a bit each; the device index, first in its list, starts both. */
#define LINE_1 1u
#define LINE_2 2u

/* The text: "s" after a count that is not 1; nothing at all when the value is absent. */
#define PLURAL 1u
#define TEXT_IF_PRESENT 2u

struct field {
	const char *key;      /* in JSON; NULL: text only */
	enum field_kind kind;
	unsigned int lines;   /* the text lines it is on; 0: JSON only */
	const char *before;   /* the text around the value */
	const char *after;
	unsigned int flags;
};

struct value {
	uint64_t num;		/* a count, bytes, ns (FIELD_SECONDS), a digest or a bool */
	uint64_t per_ns;	/* FIELD_RATE: num bytes in this long */
	const char *str;	/* FIELD_TEXT */
	const char *const *list; /* FIELD_LIST */
	unsigned int count;	/* FIELD_LIST */
	bool absent;		/* null in JSON; the text shows num all the same, unless TEXT_IF_PRESENT */
};

enum device_field {
	DEV_INDEX,
	DEV_TARGET,
	DEV_STATE_BYTES,
	DEV_PRECOPY_INITIAL,
	DEV_PRECOPY_DIRTY,
	DEV_STOP_COPY,
	DEV_CHUNKS,
	DEV_DIGEST,
	DEV_FINAL_STATE,
	DEV_RESET,
	DEV_RECOVERY_FAILED,
	DEV_REORDER_PEAK,
	DEV_WRITER_BYTES,
	DEV_WRITER_S,
	DEV_QUEUE_PEAK,
	DEV_CHANNELS,
	DEV_LOADED_S,
	DEV_ACK_S,
	DEV_ACKS,
	DEV_NFIELDS
};

/* A device's two lines at -v; its object in JSON's "devices". */
static const struct field device_fields[DEV_NFIELDS] = {
	[DEV_INDEX] = { "index", FIELD_COUNT, LINE_1 | LINE_2, "device " },
	[DEV_TARGET] = { "target", FIELD_TEXT, LINE_1, " -> " },
	[DEV_STATE_BYTES] = { "state_bytes", FIELD_SIZE, LINE_1, ": " },
	[DEV_PRECOPY_INITIAL] = { "precopy_initial_bytes", FIELD_SIZE, LINE_1, " (pre-copy " },
	[DEV_PRECOPY_DIRTY] = { "precopy_dirty_bytes", FIELD_SIZE, LINE_1, " + " },
	[DEV_STOP_COPY] = { "stop_copy_bytes", FIELD_SIZE, LINE_1, ", stop-copy ", ")" },
	[DEV_CHUNKS] = { "chunks", FIELD_COUNT, LINE_1, ", ", " chunks" },
	[DEV_DIGEST] = { "digest", FIELD_HEX64, LINE_1, ", digest " },
	[DEV_FINAL_STATE] = { "final_state", FIELD_TEXT, LINE_1, ", now " },
	[DEV_RESET] = { "reset", FIELD_BOOL },
	[DEV_RECOVERY_FAILED] = { "recovery_failed", FIELD_BOOL },
	[DEV_REORDER_PEAK] = { "reorder_peak_bytes", FIELD_SIZE },
	[DEV_WRITER_BYTES] = { "writer_bytes", FIELD_SIZE, LINE_2, ": writer " },
	[DEV_WRITER_S] = { "writer_s", FIELD_SECONDS, LINE_2, " in ", " s" },
	[DEV_QUEUE_PEAK] = { "queue_peak_bytes", FIELD_SIZE, LINE_2, ", queue peak " },
	[DEV_CHANNELS] = { "channels", FIELD_COUNT, LINE_2, ", from ", " channel", PLURAL },
	[DEV_LOADED_S] = { "loaded_s", FIELD_SECONDS, LINE_2, ", loaded after ", " s" },
	[DEV_ACK_S] = { "switchover_ack_s", FIELD_SECONDS, LINE_2, ", switchover-ack after ", " s",
			TEXT_IF_PRESENT },
	[DEV_ACKS] = { "switchover_acks", FIELD_COUNT },
};

enum total_field {
	TOT_DEVICES,
	TOT_DEVICE_COUNT,
	TOT_STATE_BYTES,
	TOT_PRECOPY,
	TOT_STOP_COPY,
	TOT_STREAM_BYTES,
	TOT_RECORDS,
	TOT_INPUTS,
	TOT_QUEUE_SIZE,
	TOT_REORDER_PEAK,
	TOT_ELAPSED,
	TOT_THROUGHPUT,
	TOT_DOWNTIME,
	TOT_NFIELDS
};

/* The load's line; the JSON document after its "schema", "ok" and "error". */
static const struct field total_fields[TOT_NFIELDS] = {
	[TOT_DEVICES] = { "devices", FIELD_DEVICES },
	[TOT_DEVICE_COUNT] = { NULL, FIELD_COUNT, LINE_1, "loaded ", " device", PLURAL },
	[TOT_STATE_BYTES] = { "state_bytes", FIELD_SIZE, LINE_1, ", ", " of state" },
	[TOT_PRECOPY] = { "precopy_bytes", FIELD_SIZE, LINE_1, " (pre-copy " },
	[TOT_STOP_COPY] = { "stop_copy_bytes", FIELD_SIZE, LINE_1, ", stop-copy ", ")" },
	[TOT_STREAM_BYTES] = { "stream_bytes", FIELD_SIZE, LINE_1, " from ", " of stream" },
	[TOT_RECORDS] = { "records", FIELD_COUNT },
	[TOT_INPUTS] = { "inputs", FIELD_LIST },
	[TOT_QUEUE_SIZE] = { "queue_size_bytes", FIELD_SIZE },
	[TOT_REORDER_PEAK] = { "reorder_peak_bytes", FIELD_SIZE },
	[TOT_ELAPSED] = { "total_s", FIELD_SECONDS, LINE_1, " in ", " s" },
	[TOT_THROUGHPUT] = { "throughput_bytes_per_s", FIELD_RATE, LINE_1, " (", ")" },
	[TOT_DOWNTIME] = { "resume_downtime_s", FIELD_SECONDS, LINE_1, "; resume downtime ", " s" },
};

static uint64_t device_total(const struct load_device_summary *d)
{
	uint64_t total = 0;

	for (int p = 0; p < LOAD_PHASE_SLOTS; p++)
		total += d->phase_bytes[p];
	return total;
}

static uint64_t phase_total(const struct load_summary *s, int phase)
{
	uint64_t total = 0;

	for (unsigned int i = 0; i < s->device_count; i++)
		total += s->devices[i].phase_bytes[phase];
	return total;
}

/* Time from the start of the load to a moment of it (0: never came). */
static uint64_t since_start(const struct load_summary *s, uint64_t ns)
{
	return ns && ns > s->start_ns ? ns - s->start_ns : 0;
}

static unsigned int channels_of(const struct load_device_summary *d)
{
	return (unsigned int)__builtin_popcountll(d->channel_mask);
}

static uint64_t downtime_ns(const struct load_summary *s)
{
	if (!s->stop_copy_start_ns || s->final_state_ns < s->stop_copy_start_ns)
		return 0;
	return s->final_state_ns - s->stop_copy_start_ns;
}

static void device_values(const struct load_summary *s, const struct load_device_summary *d,
			  struct value *v)
{
	v[DEV_INDEX] = (struct value){ .num = d->stream_index };
	v[DEV_TARGET] = (struct value){ .str = d->path };
	v[DEV_STATE_BYTES] = (struct value){ .num = device_total(d) };
	v[DEV_PRECOPY_INITIAL] = (struct value){ .num = d->phase_bytes[MIGSTREAM_PHASE_PRECOPY_INITIAL] };
	v[DEV_PRECOPY_DIRTY] = (struct value){ .num = d->phase_bytes[MIGSTREAM_PHASE_PRECOPY_DIRTY] };
	v[DEV_STOP_COPY] = (struct value){ .num = d->phase_bytes[MIGSTREAM_PHASE_STOP_COPY] };
	v[DEV_CHUNKS] = (struct value){ .num = d->chunks };
	v[DEV_DIGEST] = (struct value){ .num = d->digest, .absent = !d->digest_checked };
	v[DEV_FINAL_STATE] = (struct value){ .str = vmt_state_name(d->final_state) };
	v[DEV_RESET] = (struct value){ .num = d->reset };
	v[DEV_RECOVERY_FAILED] = (struct value){ .num = d->recovery_failed };
	v[DEV_REORDER_PEAK] = (struct value){ .num = d->reorder_peak };
	v[DEV_WRITER_BYTES] = (struct value){ .num = d->writer_bytes };
	v[DEV_WRITER_S] = (struct value){ .num = d->writer_ns };
	v[DEV_QUEUE_PEAK] = (struct value){ .num = d->queue_peak };
	v[DEV_CHANNELS] = (struct value){ .num = channels_of(d) };
	v[DEV_LOADED_S] = (struct value){ .num = since_start(s, d->loaded_ns), .absent = !d->loaded_ns };
	v[DEV_ACK_S] = (struct value){ .num = since_start(s, d->ack_ns), .absent = !d->acks };
	v[DEV_ACKS] = (struct value){ .num = d->acks };
}

static void total_values(const struct load_summary *s, struct value *v)
{
	uint64_t elapsed = s->start_ns && s->end_ns > s->start_ns ? s->end_ns - s->start_ns : 0;
	uint64_t state_bytes = 0, reorder_peak = s->reorder_peak;

	for (unsigned int i = 0; i < s->device_count; i++) {
		state_bytes += device_total(&s->devices[i]);
		if (s->devices[i].reorder_peak > reorder_peak)
			reorder_peak = s->devices[i].reorder_peak;
	}
	v[TOT_DEVICES] = (struct value){ 0 }; /* each device's values come as it is printed */
	v[TOT_DEVICE_COUNT] = (struct value){ .num = s->device_count };
	v[TOT_STATE_BYTES] = (struct value){ .num = state_bytes };
	v[TOT_PRECOPY] = (struct value){ .num = phase_total(s, MIGSTREAM_PHASE_PRECOPY_INITIAL) +
						phase_total(s, MIGSTREAM_PHASE_PRECOPY_DIRTY) };
	v[TOT_STOP_COPY] = (struct value){ .num = phase_total(s, MIGSTREAM_PHASE_STOP_COPY) };
	v[TOT_STREAM_BYTES] = (struct value){ .num = s->stream_bytes };
	v[TOT_RECORDS] = (struct value){ .num = s->records };
	v[TOT_INPUTS] = (struct value){ .list = s->inputs, .count = s->input_count };
	v[TOT_QUEUE_SIZE] = (struct value){ .num = s->queue_limit };
	v[TOT_REORDER_PEAK] = (struct value){ .num = reorder_peak };
	v[TOT_ELAPSED] = (struct value){ .num = elapsed };
	v[TOT_THROUGHPUT] = (struct value){ .num = s->stream_bytes, .per_ns = elapsed };
	v[TOT_DOWNTIME] = (struct value){ .num = downtime_ns(s) };
}

/* "1.2 GiB/s": in the IEC units of every size and rate the tools print (vmt_format_size()). */
static const char *format_rate(uint64_t bytes, uint64_t ns, char *buf, size_t len)
{
	double per_s = ns ? (double)bytes * 1e9 / (double)ns : 0.0;
	size_t n;

	vmt_format_size((uint64_t)per_s, buf, len);
	n = strlen(buf);
	snprintf(buf + n, len - n, "/s");
	return buf;
}

/* A value as the text shows it, in buf unless it is a string already. */
static const char *value_text(enum field_kind kind, const struct value *v, char *buf, size_t len)
{
	switch (kind) {
	case FIELD_SIZE:
		return vmt_format_size(v->num, buf, len);
	case FIELD_SECONDS:
		snprintf(buf, len, "%.3f", (double)v->num / 1e9);
		return buf;
	case FIELD_RATE:
		return format_rate(v->num, v->per_ns, buf, len);
	case FIELD_TEXT:
		return v->str;
	case FIELD_HEX64:
		snprintf(buf, len, "%016" PRIx64, v->num);
		return buf;
	case FIELD_BOOL:
		return v->num ? "yes" : "no";
	default:
		snprintf(buf, len, "%" PRIu64, v->num);
		return buf;
	}
}

static void print_field(FILE *out, const struct field *f, const struct value *v)
{
	char buf[64];

	if (v->absent && (f->flags & TEXT_IF_PRESENT))
		return;
	fprintf(out, "%s%s%s%s", f->before, value_text(f->kind, v, buf, sizeof(buf)), f->after ? f->after : "",
		(f->flags & PLURAL) && v->num != 1 ? "s" : "");
}

static void print_fields(FILE *out, const struct field *fields, const struct value *values,
			 unsigned int count, unsigned int line)
{
	fprintf(out, "%s: ", vmt_progname());
	for (unsigned int i = 0; i < count; i++)
		if (fields[i].lines & line)
			print_field(out, &fields[i], &values[i]);
	fputc('\n', out);
}

/*
 * One line of the text: the fields on it, in the list's order. Built
 * whole and written at once, so that a line is not split by another
 * program's writes to the same stderr; without memory for that, the same
 * bytes piece by piece.
 */
static void print_line(FILE *out, const struct field *fields, const struct value *values,
		       unsigned int count, unsigned int line)
{
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);

	if (mem) {
		print_fields(mem, fields, values, count, line);
		if (fclose(mem) == 0) {
			fputs(text, out);
			free(text);
			return;
		}
		free(text);
	}
	print_fields(out, fields, values, count, line);
}

void load_summary_print_text(FILE *out, const struct load_summary *s, bool per_device)
{
	struct value device[DEV_NFIELDS], total[TOT_NFIELDS];

	for (unsigned int i = 0; per_device && i < s->device_count; i++) {
		device_values(s, &s->devices[i], device);
		print_line(out, device_fields, device, DEV_NFIELDS, LINE_1);
		print_line(out, device_fields, device, DEV_NFIELDS, LINE_2);
	}
	total_values(s, total);
	print_line(out, total_fields, total, TOT_NFIELDS, LINE_1);
}

static void add_field(struct json_object *o, const struct load_summary *s, const struct field *f,
		      const struct value *v);

/* "devices": an object per device, of the device fields. */
static void add_devices(struct json_object *o, const struct load_summary *s, const char *key)
{
	struct json_object *devices = vmt_json_add_array(o, key);
	struct value values[DEV_NFIELDS];

	for (unsigned int i = 0; i < s->device_count; i++) {
		struct json_object *d = vmt_json_append_object(devices);

		device_values(s, &s->devices[i], values);
		for (unsigned int f = 0; f < DEV_NFIELDS; f++)
			add_field(d, s, &device_fields[f], &values[f]);
	}
}

static void add_list(struct json_object *o, const char *key, const struct value *v)
{
	struct json_object *list = vmt_json_add_array(o, key);

	for (unsigned int i = 0; i < v->count; i++)
		vmt_json_append_str(list, v->list[i]);
}

static void add_field(struct json_object *o, const struct load_summary *s, const struct field *f,
		      const struct value *v)
{
	char buf[64];

	if (!f->key)
		return;
	if (v->absent) {
		vmt_json_add_null(o, f->key);
		return;
	}
	switch (f->kind) {
	case FIELD_COUNT:
	case FIELD_SIZE:
		vmt_json_add_u64(o, f->key, v->num);
		break;
	case FIELD_SECONDS:
		vmt_json_add_seconds(o, f->key, v->num);
		break;
	case FIELD_RATE:
		vmt_json_add_rate(o, f->key, v->num, v->per_ns);
		break;
	case FIELD_BOOL:
		vmt_json_add_bool(o, f->key, v->num != 0);
		break;
	case FIELD_TEXT:
	case FIELD_HEX64:
		vmt_json_add_str(o, f->key, value_text(f->kind, v, buf, sizeof(buf)));
		break;
	case FIELD_LIST:
		add_list(o, f->key, v);
		break;
	case FIELD_DEVICES:
		add_devices(o, s, f->key);
		break;
	}
}

struct json_object *load_summary_json(const struct load_summary *s, const struct vmt_failure *failure,
				      const char *error_line)
{
	struct json_object *doc = vmt_json_doc_new("vfio-mig-load", LOAD_SUMMARY_SCHEMA_VERSION);
	struct value total[TOT_NFIELDS];

	vmt_failure_add_json(doc, failure, error_line);
	total_values(s, total);
	for (unsigned int f = 0; f < TOT_NFIELDS; f++)
		add_field(doc, s, &total_fields[f], &total[f]);
	return doc;
}

void load_summary_end(struct load *ld)
{
	ld->summary.end_ns = vmt_monotonic_ns();
	if (ld->reader || ld->set) {
		ld->summary.stream_bytes = load_input_bytes(ld);
		ld->summary.records = load_input_records(ld);
	}
	if (ld->set)
		ld->summary.reorder_peak = migstream_channel_set_reorder_peak(ld->set);
}

char *load_summary_file(struct load *ld, const char *error_line)
{
	struct vmt_device_fate *fates;
	char *line;

	if (!ld->opts.summary_file ||
	    !vmt_summary_file_report(&ld->failure, ld->opts.summary_file,
				     load_summary_json(&ld->summary, &ld->failure, error_line), ld->opts.json,
				     "every device loaded, but "))
		return NULL;
	fates = load_loaded_fates(ld);
	line = vmt_failure_line(&ld->failure, fates, fates ? ld->target_count : 0);
	free(fates);
	return line;
}
