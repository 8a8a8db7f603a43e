// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The summary: as text after a successful load only (a failure has its one
 * error line instead); as JSON after either.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

static double seconds(uint64_t ns)
{
	return (double)ns / 1e9;
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

/* Seconds from the start of the load to a moment of it (0: never came). */
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

void load_summary_print_text(FILE *out, const struct load_summary *s, bool per_device)
{
	uint64_t elapsed = s->end_ns - s->start_ns;
	uint64_t state_bytes = 0;
	char b1[32], b2[32], b3[32], b4[32], rate[40];

	for (unsigned int i = 0; i < s->device_count; i++) {
		const struct load_device_summary *d = &s->devices[i];

		state_bytes += device_total(d);
		if (!per_device)
			continue;
		fprintf(out, "%s: device %" PRIu32 " -> %s: %s (pre-copy %s + %s, stop-copy %s), "
			"%" PRIu64 " chunks, digest %016" PRIx64 ", now %s\n",
			vmt_progname(), d->stream_index, d->path,
			vmt_format_size(device_total(d), b1, sizeof(b1)),
			vmt_format_size(d->phase_bytes[MIGSTREAM_PHASE_PRECOPY_INITIAL], b2, sizeof(b2)),
			vmt_format_size(d->phase_bytes[MIGSTREAM_PHASE_PRECOPY_DIRTY], b3, sizeof(b3)),
			vmt_format_size(d->phase_bytes[MIGSTREAM_PHASE_STOP_COPY], b4, sizeof(b4)),
			d->chunks, d->digest, vmt_state_name(d->final_state));
		fprintf(out, "%s: device %" PRIu32 ": writer %s in %.3f s, queue peak %s, "
			"from %u channel%s, loaded after %.3f s",
			vmt_progname(), d->stream_index, vmt_format_size(d->writer_bytes, b1, sizeof(b1)),
			seconds(d->writer_ns), vmt_format_size(d->queue_peak, b2, sizeof(b2)),
			channels_of(d), channels_of(d) == 1 ? "" : "s",
			seconds(since_start(s, d->loaded_ns)));
		if (d->acks)
			fprintf(out, ", switchover-ack after %.3f s", seconds(since_start(s, d->ack_ns)));
		fprintf(out, "\n");
	}
	fprintf(out, "%s: loaded %u device%s, %s of state (pre-copy %s, stop-copy %s) from %s of "
		"stream in %.3f s (%s); resume downtime %.3f s\n",
		vmt_progname(), s->device_count, s->device_count == 1 ? "" : "s",
		vmt_format_size(state_bytes, b1, sizeof(b1)),
		vmt_format_size(phase_total(s, MIGSTREAM_PHASE_PRECOPY_INITIAL) +
					phase_total(s, MIGSTREAM_PHASE_PRECOPY_DIRTY),
				b2, sizeof(b2)),
		vmt_format_size(phase_total(s, MIGSTREAM_PHASE_STOP_COPY), b3, sizeof(b3)),
		vmt_format_size(s->stream_bytes, b4, sizeof(b4)), seconds(elapsed),
		format_rate(s->stream_bytes, elapsed, rate, sizeof(rate)), seconds(downtime_ns(s)));
}

static void add_device(struct json_object *devices, const struct load_summary *s,
		       const struct load_device_summary *d)
{
	struct json_object *o = vmt_json_append_object(devices);
	char digest[17];

	vmt_json_add_u64(o, "index", d->stream_index);
	vmt_json_add_str(o, "target", d->path);
	vmt_json_add_u64(o, "state_bytes", device_total(d));
	vmt_json_add_u64(o, "precopy_initial_bytes", d->phase_bytes[MIGSTREAM_PHASE_PRECOPY_INITIAL]);
	vmt_json_add_u64(o, "precopy_dirty_bytes", d->phase_bytes[MIGSTREAM_PHASE_PRECOPY_DIRTY]);
	vmt_json_add_u64(o, "stop_copy_bytes", d->phase_bytes[MIGSTREAM_PHASE_STOP_COPY]);
	vmt_json_add_u64(o, "chunks", d->chunks);
	snprintf(digest, sizeof(digest), "%016" PRIx64, d->digest);
	vmt_json_add_str(o, "digest", d->digest_checked ? digest : NULL);
	vmt_json_add_str(o, "final_state", vmt_state_name(d->final_state));
	vmt_json_add_bool(o, "reset", d->reset);
	vmt_json_add_bool(o, "recovery_failed", d->recovery_failed);
	vmt_json_add_u64(o, "reorder_peak_bytes", d->reorder_peak);
	vmt_json_add_u64(o, "writer_bytes", d->writer_bytes);
	vmt_json_add_seconds(o, "writer_s", d->writer_ns);
	vmt_json_add_u64(o, "queue_peak_bytes", d->queue_peak);
	vmt_json_add_u64(o, "channels", channels_of(d));
	if (d->loaded_ns)
		vmt_json_add_seconds(o, "loaded_s", since_start(s, d->loaded_ns));
	else
		vmt_json_add_null(o, "loaded_s");
	if (d->acks)
		vmt_json_add_seconds(o, "switchover_ack_s", since_start(s, d->ack_ns));
	else
		vmt_json_add_null(o, "switchover_ack_s");
	vmt_json_add_u64(o, "switchover_acks", d->acks);
}

struct json_object *load_summary_json(const struct load_summary *s, const struct vmt_failure *failure,
				      const char *error_line)
{
	struct json_object *doc = vmt_json_doc_new("vfio-mig-load", LOAD_SUMMARY_SCHEMA_VERSION);
	struct json_object *devices, *inputs;
	uint64_t elapsed = s->start_ns && s->end_ns > s->start_ns ? s->end_ns - s->start_ns : 0;
	uint64_t state_bytes = 0, reorder_peak = s->reorder_peak;

	vmt_failure_add_json(doc, failure, error_line);
	devices = vmt_json_add_array(doc, "devices");
	for (unsigned int i = 0; i < s->device_count; i++) {
		state_bytes += device_total(&s->devices[i]);
		if (s->devices[i].reorder_peak > reorder_peak)
			reorder_peak = s->devices[i].reorder_peak;
		add_device(devices, s, &s->devices[i]);
	}
	vmt_json_add_u64(doc, "state_bytes", state_bytes);
	vmt_json_add_u64(doc, "precopy_bytes", phase_total(s, MIGSTREAM_PHASE_PRECOPY_INITIAL) +
						       phase_total(s, MIGSTREAM_PHASE_PRECOPY_DIRTY));
	vmt_json_add_u64(doc, "stop_copy_bytes", phase_total(s, MIGSTREAM_PHASE_STOP_COPY));
	vmt_json_add_u64(doc, "stream_bytes", s->stream_bytes);
	vmt_json_add_u64(doc, "records", s->records);
	inputs = vmt_json_add_array(doc, "inputs");
	for (unsigned int i = 0; i < s->input_count; i++)
		vmt_json_append_str(inputs, s->inputs[i]);
	vmt_json_add_u64(doc, "queue_size_bytes", s->queue_limit);
	vmt_json_add_u64(doc, "reorder_peak_bytes", reorder_peak);
	vmt_json_add_seconds(doc, "total_s", elapsed);
	vmt_json_add_rate(doc, "throughput_bytes_per_s", s->stream_bytes, elapsed);
	vmt_json_add_seconds(doc, "resume_downtime_s", downtime_ns(s));
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
