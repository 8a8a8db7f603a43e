// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The summary: as text after a successful load only (a failure has its one
 * error line instead); as JSON after either.
 *
 * Both come from one list of fields (lib/common/fields), as util-linux's
 * lsmem prints its table and its JSON from one list of columns: each field
 * has its JSON key and its place in the text, and both printers walk the
 * same list: a figure cannot mean one thing in the text and another in the
 * JSON, and a new one is a line in the table.
 */
#include <stdio.h>
#include <stdlib.h>

#include "common/c.h"
#include "common/fields.h"
#include "common/json-doc.h"
#include "common/log.h"
#include "common/summary-file.h"
#include "common/timeutil.h"
#include "stream/channel-set.h"
#include "vfio/mig.h"
#include "input.h"
#include "load.h"
#include "summary.h"
#include "target.h"

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

static uint64_t elapsed_ns(const struct load_summary *s)
{
	return s->start_ns && s->end_ns > s->start_ns ? s->end_ns - s->start_ns : 0;
}

static uint64_t downtime_ns(const struct load_summary *s)
{
	if (!s->stop_copy_start_ns || s->final_state_ns < s->stop_copy_start_ns)
		return 0;
	return s->final_state_ns - s->stop_copy_start_ns;
}

static void set_seconds(struct vmt_field_value *v, uint64_t ns)
{
	v->ns = ns;
	v->dbl = (double)ns / 1e9;
}

static const char *plural(uint64_t n)
{
	return n == 1 ? "" : "s";
}

/*
 * The summary as two field lists (lib/common/fields), a device's and the
 * load's, each walked by both the text and the JSON printers. A getter's
 * obj is what the list describes, its ctx the load's summary.
 */

/* A device: its two lines at -v, its object in the JSON's "devices". */

#define DEV(obj) ((const struct load_device_summary *)(obj))
#define LOAD(ctx) ((const struct load_summary *)(ctx))

static void get_dev_index(const void *obj, const void *ctx, struct vmt_field_value *v)
{
	v->num = DEV(obj)->stream_index;
}

static void get_dev_target(const void *obj, const void *ctx, struct vmt_field_value *v)
{
	v->str = DEV(obj)->path;
}

static void get_dev_state_bytes(const void *obj, const void *ctx, struct vmt_field_value *v)
{
	v->num = device_total(obj);
}

/* null in the JSON when no DEVICE_END digest was checked (the text says 0 all the same). */
static void get_dev_digest(const void *obj, const void *ctx, struct vmt_field_value *v)
{
	v->num = DEV(obj)->digest;
	v->json_null = !DEV(obj)->digest_checked;
}

static void get_dev_final_state(const void *obj, const void *ctx, struct vmt_field_value *v)
{
	v->str = vmt_state_name(DEV(obj)->final_state);
}

static void get_dev_reset(const void *obj, const void *ctx, struct vmt_field_value *v)
{
	v->num = DEV(obj)->reset;
}

static void get_dev_recovery_failed(const void *obj, const void *ctx, struct vmt_field_value *v)
{
	v->num = DEV(obj)->recovery_failed;
}

static void get_dev_writer_s(const void *obj, const void *ctx, struct vmt_field_value *v)
{
	set_seconds(v, DEV(obj)->writer_ns);
}

static unsigned int channels_of(const struct load_device_summary *d)
{
	return (unsigned int)__builtin_popcountll(d->channel_mask);
}

static void get_dev_channels(const void *obj, const void *ctx, struct vmt_field_value *v)
{
	v->num = channels_of(obj);
}

static void get_dev_channels_plural(const void *obj, const void *ctx, struct vmt_field_value *v)
{
	v->str = plural(channels_of(obj));
}

/* null in the JSON when the device never reached STOP (the text says 0.000 all the same). */
static void get_dev_loaded_s(const void *obj, const void *ctx, struct vmt_field_value *v)
{
	set_seconds(v, since_start(LOAD(ctx), DEV(obj)->loaded_ns));
	v->json_null = !DEV(obj)->loaded_ns;
}

/* Neither in the text nor in the JSON (null) without a switchover-ack. */
static void get_dev_ack_s(const void *obj, const void *ctx, struct vmt_field_value *v)
{
	if (!DEV(obj)->acks) {
		v->kind = VMT_FIELD_NULL;
		return;
	}
	set_seconds(v, since_start(LOAD(ctx), DEV(obj)->ack_ns));
}

static void get_dev_acks(const void *obj, const void *ctx, struct vmt_field_value *v)
{
	v->num = DEV(obj)->acks;
}

#define DEV_U64(member) VMT_FIELD_U64(struct load_device_summary, member)

/* The text: the device's first line (1..9), then its second (11..18). */
enum {
	DEV_LINE = 1,
	DEV_LINE_END = 9,
	WRITER_LINE = 11,
	WRITER_LINE_END = 18
};

static const struct vmt_field device_fields[] = {
	{ "index", "device %s", 1, VMT_FIELD_NUM, .get = get_dev_index },
	{ "target", " -> %s", 2, VMT_FIELD_STR, .get = get_dev_target },
	{ "state_bytes", ": %s", 3, VMT_FIELD_SIZE, .get = get_dev_state_bytes },
	{ "precopy_initial_bytes", " (pre-copy %s", 4, VMT_FIELD_SIZE,
	  DEV_U64(phase_bytes[MIGSTREAM_PHASE_PRECOPY_INITIAL]) },
	{ "precopy_dirty_bytes", " + %s", 5, VMT_FIELD_SIZE,
	  DEV_U64(phase_bytes[MIGSTREAM_PHASE_PRECOPY_DIRTY]) },
	{ "stop_copy_bytes", ", stop-copy %s)", 6, VMT_FIELD_SIZE,
	  DEV_U64(phase_bytes[MIGSTREAM_PHASE_STOP_COPY]) },
	{ "chunks", ", %s chunks", 7, VMT_FIELD_NUM, DEV_U64(chunks) },
	{ "digest", ", digest %s", 8, VMT_FIELD_DIGEST, .get = get_dev_digest },
	{ "final_state", ", now %s", 9, VMT_FIELD_STR, .get = get_dev_final_state },
	{ "reset", NULL, 0, VMT_FIELD_BOOL, .get = get_dev_reset },
	{ "recovery_failed", NULL, 0, VMT_FIELD_BOOL, .get = get_dev_recovery_failed },
	{ "reorder_peak_bytes", NULL, 0, VMT_FIELD_SIZE, DEV_U64(reorder_peak) },
	{ NULL, "device %s", 11, VMT_FIELD_NUM, .get = get_dev_index },
	{ "writer_bytes", ": writer %s", 12, VMT_FIELD_SIZE, DEV_U64(writer_bytes) },
	{ "writer_s", " in %s s", 13, VMT_FIELD_SECONDS, .get = get_dev_writer_s },
	{ "queue_peak_bytes", ", queue peak %s", 14, VMT_FIELD_SIZE, DEV_U64(queue_peak) },
	{ "channels", ", from %s channel", 15, VMT_FIELD_NUM, .get = get_dev_channels },
	{ NULL, "%s", 16, VMT_FIELD_STR, .get = get_dev_channels_plural },
	{ "loaded_s", ", loaded after %s s", 17, VMT_FIELD_SECONDS, .get = get_dev_loaded_s },
	{ "switchover_ack_s", ", switchover-ack after %s s", 18, VMT_FIELD_SECONDS,
	  .get = get_dev_ack_s },
	{ "switchover_acks", NULL, 0, VMT_FIELD_NUM, .get = get_dev_acks },
};

/* The load: its one line, and the JSON document after "schema", "ok" and "error". */

static void get_devices(const void *obj, const void *ctx, struct vmt_field_value *v)
{
	v->array = (struct vmt_field_array){
		.items = LOAD(obj)->devices,
		.count = LOAD(obj)->device_count,
		.item_size = sizeof(*LOAD(obj)->devices),
		.fields = device_fields,
		.nfields = ARRAY_SIZE(device_fields),
	};
}

static void get_device_count(const void *obj, const void *ctx, struct vmt_field_value *v)
{
	v->num = LOAD(obj)->device_count;
}

static void get_device_count_plural(const void *obj, const void *ctx, struct vmt_field_value *v)
{
	v->str = plural(LOAD(obj)->device_count);
}

static void get_state_bytes(const void *obj, const void *ctx, struct vmt_field_value *v)
{
	uint64_t total = 0;

	for (unsigned int i = 0; i < LOAD(obj)->device_count; i++)
		total += device_total(&LOAD(obj)->devices[i]);
	v->num = total;
}

static void get_precopy_bytes(const void *obj, const void *ctx, struct vmt_field_value *v)
{
	v->num = phase_total(obj, MIGSTREAM_PHASE_PRECOPY_INITIAL) +
		 phase_total(obj, MIGSTREAM_PHASE_PRECOPY_DIRTY);
}

static void get_stop_copy_bytes(const void *obj, const void *ctx, struct vmt_field_value *v)
{
	v->num = phase_total(obj, MIGSTREAM_PHASE_STOP_COPY);
}

static void get_inputs(const void *obj, const void *ctx, struct vmt_field_value *v)
{
	v->array = (struct vmt_field_array){ .items = LOAD(obj)->inputs,
					     .count = LOAD(obj)->input_count };
}

/* The peak of a set's reorder buffers or of any one device's, whichever is higher. */
static void get_reorder_peak(const void *obj, const void *ctx, struct vmt_field_value *v)
{
	const struct load_summary *s = obj;

	v->num = s->reorder_peak;
	for (unsigned int i = 0; i < s->device_count; i++)
		if (s->devices[i].reorder_peak > v->num)
			v->num = s->devices[i].reorder_peak;
}

static void get_total_s(const void *obj, const void *ctx, struct vmt_field_value *v)
{
	set_seconds(v, elapsed_ns(obj));
}

/* The stream's bytes over the whole load. */
static void get_throughput(const void *obj, const void *ctx, struct vmt_field_value *v)
{
	v->num = LOAD(obj)->stream_bytes;
	v->ns = elapsed_ns(obj);
}

static void get_downtime_s(const void *obj, const void *ctx, struct vmt_field_value *v)
{
	set_seconds(v, downtime_ns(obj));
}

#define LOAD_U64(member) VMT_FIELD_U64(struct load_summary, member)

enum {
	LOAD_LINE = 1,
	LOAD_LINE_END = 9
};

static const struct vmt_field load_fields[] = {
	{ "devices", NULL, 0, VMT_FIELD_OBJECTS, .get = get_devices },
	{ NULL, "loaded %s device", 1, VMT_FIELD_NUM, .get = get_device_count },
	{ NULL, "%s", 2, VMT_FIELD_STR, .get = get_device_count_plural },
	{ "state_bytes", ", %s of state", 3, VMT_FIELD_SIZE, .get = get_state_bytes },
	{ "precopy_bytes", " (pre-copy %s", 4, VMT_FIELD_SIZE, .get = get_precopy_bytes },
	{ "stop_copy_bytes", ", stop-copy %s)", 5, VMT_FIELD_SIZE, .get = get_stop_copy_bytes },
	{ "stream_bytes", " from %s of stream", 6, VMT_FIELD_SIZE, LOAD_U64(stream_bytes) },
	{ "records", NULL, 0, VMT_FIELD_NUM, LOAD_U64(records) },
	{ "inputs", NULL, 0, VMT_FIELD_STRINGS, .get = get_inputs },
	{ "queue_size_bytes", NULL, 0, VMT_FIELD_SIZE, LOAD_U64(queue_limit) },
	{ "reorder_peak_bytes", NULL, 0, VMT_FIELD_SIZE, .get = get_reorder_peak },
	{ "total_s", " in %s s", 7, VMT_FIELD_SECONDS, .get = get_total_s },
	{ "throughput_bytes_per_s", " (%s)", 8, VMT_FIELD_RATE, .get = get_throughput },
	{ "resume_downtime_s", "; resume downtime %s s", 9, VMT_FIELD_SECONDS,
	  .get = get_downtime_s },
};

static void print_fields(FILE *out, const struct vmt_field *fields, size_t n, unsigned int from,
			 unsigned int to, const void *obj, const struct load_summary *s)
{
	fprintf(out, "%s: ", vmt_progname());
	vmt_fields_text(out, fields, n, from, to, obj, s);
	fputc('\n', out);
}

/*
 * One line of the text, fields [from, to] of a list. Built whole and
 * written at once, so that a line is not split by another program's
 * writes to the same stderr; without memory for that, the same bytes
 * piece by piece.
 */
static void print_line(FILE *out, const struct vmt_field *fields, size_t n, unsigned int from,
		       unsigned int to, const void *obj, const struct load_summary *s)
{
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);

	if (mem) {
		print_fields(mem, fields, n, from, to, obj, s);
		if (fclose(mem) == 0) {
			fputs(text, out);
			free(text);
			return;
		}
		free(text);
	}
	print_fields(out, fields, n, from, to, obj, s);
}

void load_summary_print_text(FILE *out, const struct load_summary *s, bool per_device)
{
	for (unsigned int i = 0; per_device && i < s->device_count; i++) {
		print_line(out, device_fields, ARRAY_SIZE(device_fields), DEV_LINE, DEV_LINE_END,
			   &s->devices[i], s);
		print_line(out, device_fields, ARRAY_SIZE(device_fields), WRITER_LINE,
			   WRITER_LINE_END, &s->devices[i], s);
	}
	print_line(out, load_fields, ARRAY_SIZE(load_fields), LOAD_LINE, LOAD_LINE_END, s, s);
}

struct json_object *load_summary_json(const struct load_summary *s,
				      const struct vmt_failure *failure, const char *error_line)
{
	struct json_object *doc = vmt_json_doc_new("vfio-mig-load", LOAD_SUMMARY_SCHEMA_VERSION);

	vmt_failure_add_json(doc, failure, error_line);
	vmt_fields_json(doc, load_fields, ARRAY_SIZE(load_fields), s, s);
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
				     load_summary_json(&ld->summary, &ld->failure, error_line),
				     ld->opts.json, "every device loaded, but "))
		return NULL;
	fates = load_loaded_fates(ld);
	line = vmt_failure_line(&ld->failure, fates, fates ? ld->target_count : 0);
	free(fates);
	return line;
}
