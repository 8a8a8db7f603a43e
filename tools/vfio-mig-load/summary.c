// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The summary: printed after a successful load only; a failure has its one
 * error line instead (and the -v traces before it).
 */
#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include "json.h"
#include "log.h"
#include "strutils.h"
#include "summary.h"
#include "vfio-mig.h"

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

/* Decimal GB/s, like every other figure this project prints for throughput. */
static double gbps(uint64_t bytes, uint64_t ns)
{
	return ns ? (double)bytes / (double)ns : 0.0;
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
	char b1[32], b2[32], b3[32], b4[32];

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
			d->chunks, d->digest, vmt_mig_state_name(d->final_state));
	}
	fprintf(out, "%s: loaded %u device%s, %s of state (pre-copy %s, stop-copy %s) from %s of "
		"stream in %.3f s (%.2f GB/s); resume downtime %.3f s\n",
		vmt_progname(), s->device_count, s->device_count == 1 ? "" : "s",
		vmt_format_size(state_bytes, b1, sizeof(b1)),
		vmt_format_size(phase_total(s, MIGSTREAM_PHASE_PRECOPY_INITIAL) +
					phase_total(s, MIGSTREAM_PHASE_PRECOPY_DIRTY),
				b2, sizeof(b2)),
		vmt_format_size(phase_total(s, MIGSTREAM_PHASE_STOP_COPY), b3, sizeof(b3)),
		vmt_format_size(s->stream_bytes, b4, sizeof(b4)), seconds(elapsed),
		gbps(s->stream_bytes, elapsed), seconds(downtime_ns(s)));
}

void load_summary_print_json(FILE *out, const struct load_summary *s)
{
	uint64_t elapsed = s->end_ns - s->start_ns;
	uint64_t state_bytes = 0;

	fprintf(out, "{\"devices\":[");
	for (unsigned int i = 0; i < s->device_count; i++) {
		const struct load_device_summary *d = &s->devices[i];

		state_bytes += device_total(d);
		fprintf(out, "%s{\"index\":%" PRIu32 ",\"target\":", i ? "," : "", d->stream_index);
		vmt_json_string(out, d->path);
		fprintf(out, ",\"bytes\":%" PRIu64 ",\"precopy_initial_bytes\":%" PRIu64
			",\"precopy_dirty_bytes\":%" PRIu64 ",\"stop_copy_bytes\":%" PRIu64
			",\"chunks\":%" PRIu64 ",\"digest\":\"%016" PRIx64 "\",\"state\":\"%s\""
			",\"reorder_peak_bytes\":%" PRIu64 "}",
			device_total(d), d->phase_bytes[MIGSTREAM_PHASE_PRECOPY_INITIAL],
			d->phase_bytes[MIGSTREAM_PHASE_PRECOPY_DIRTY],
			d->phase_bytes[MIGSTREAM_PHASE_STOP_COPY], d->chunks, d->digest,
			vmt_mig_state_name(d->final_state), d->reorder_peak);
	}
	fprintf(out, "],\"state_bytes\":%" PRIu64 ",\"precopy_bytes\":%" PRIu64
		",\"stop_copy_bytes\":%" PRIu64 ",\"stream_bytes\":%" PRIu64 ",\"records\":%" PRIu64
		",\"seconds\":%.6f,\"throughput_gbps\":%.3f,\"resume_downtime_seconds\":%.6f}\n",
		state_bytes,
		phase_total(s, MIGSTREAM_PHASE_PRECOPY_INITIAL) + phase_total(s, MIGSTREAM_PHASE_PRECOPY_DIRTY),
		phase_total(s, MIGSTREAM_PHASE_STOP_COPY), s->stream_bytes, s->records, seconds(elapsed),
		gbps(s->stream_bytes, elapsed), seconds(downtime_ns(s)));
}
