// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The load's events; see load-events.h.
 */
#include "common/c.h"
#include "common/events.h"
#include "common/json-doc.h"
#include "common/timeutil.h"
#include "load-events.h"

/* Bytes of each channel read since the last sample, as throughput events. */
static void sample_channels(struct load *ld, uint64_t now)
{
	uint64_t interval = now - ld->events_tick_ns;

	for (unsigned int ch = 0; ch < MIGSTREAM_MAX_CHANNELS; ch++) {
		uint64_t bytes = ld->events_pos[ch] - ld->events_sampled[ch];
		struct json_object *f;

		if (!ld->events_pos[ch])
			continue;
		f = vmt_event_fields();
		vmt_json_add_u64(f, "channel", ch);
		vmt_json_add_str(f, "name",
				 ch < ld->channel_count ? ld->channel_names[ch] : ld->input_name);
		vmt_json_add_u64(f, "bytes", bytes);
		vmt_json_add_u64(f, "interval_ns", interval);
		vmt_json_add_rate(f, "rate", bytes, interval);
		vmt_json_add_u64(f, "total_bytes", ld->events_pos[ch]);
		vmt_events_emit(ld->events, VMT_EV_THROUGHPUT, NULL, f);
		ld->events_sampled[ch] = ld->events_pos[ch];
	}
	ld->events_tick_ns = now;
}

void load_events_record_read(struct load *ld)
{
	const struct migstream_record *rec = &ld->rec;
	unsigned int ch = ld->set ? ld->rec_channel : 0;
	uint64_t now;

	if (!ld->events || ch >= MIGSTREAM_MAX_CHANNELS)
		return;
	/* Where the channel is: past this record's header and payload. */
	ld->events_pos[ch] = rec->offset + MIGSTREAM_RECORD_HEADER_LEN + rec->stored_len;
	now = vmt_monotonic_ns();
	if (!ld->events_tick_ns)
		ld->events_tick_ns = now;
	else if (now - ld->events_tick_ns >= NSEC_PER_SEC)
		sample_channels(ld, now);
}

void load_events_input_done(struct load *ld)
{
	if (ld->events && ld->events_tick_ns)
		sample_channels(ld, vmt_monotonic_ns());
}

void load_events_device_written(struct load *ld, const struct load_target *t)
{
	uint64_t start = t->stop_copy_first_ns, bytes, now;
	struct json_object *f;

	if (!ld->events || !start)
		return;
	now = vmt_monotonic_ns();
	bytes = t->summary->phase_bytes[MIGSTREAM_PHASE_STOP_COPY];
	f = vmt_event_fields();
	vmt_json_add_str(f, "direction", "write");
	vmt_json_add_str(f, "phase", "stop-copy");
	vmt_json_add_u64(f, "bytes", bytes);
	vmt_json_add_u64(f, "start_ns", start);
	vmt_json_add_u64(f, "duration_ns", now - start);
	vmt_json_add_rate(f, "rate", bytes, now - start);
	vmt_events_emit(ld->events, VMT_EV_DEVICE_DATA, t->spec, f);
}
