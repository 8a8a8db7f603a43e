// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The record engine of vfio-mig-load: every record of the stream, in
 * order, on the main thread; see load.h for the threads around it.
 *
 * Every byte reaches a device only after the reader verified its record;
 * a device's state is only started after its DEVICE_END totals and digest
 * matched and its driver accepted the data (RESUMING -> STOP). Any failure
 * is recorded where it happens (failure.h) and passed up; the report then
 * resets every device this run touched, so no device is left RESUMING or
 * holding a half (or unstarted) state, and the error line says where each
 * device is now.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>

#include "common/exitcodes.h"
#include "common/log.h"
#include "common/signals.h"
#include "common/strutils.h"
#include "common/textescape.h"
#include "common/timeutil.h"
#include "stream/reader.h"
#include "stream/reply.h"
#include "vfio/mig.h"
#include "compat.h"
#include "failure.h"
#include "input.h"
#include "load-events.h"
#include "load.h"
#include "reply.h"
#include "target.h"
#include "writer.h"

/*
 * --dry-run: the checks a load runs on a DEVICE record, each verdict said
 * as it comes (every device gets its verdict, not only the first refused);
 * the target is not touched.
 */
static int dry_run_device(struct load *ld, struct load_target *t,
			  const struct migstream_device *desc,
			  const struct load_target_identity *id, const char *name)
{
	char why[1280];
	int code = VMT_EXIT_OK;

	switch (load_compat_check(desc, id, why, sizeof(why))) {
	case LOAD_COMPAT_OK:
		vmt_info("%s: stream device %u ('%s') can be loaded", t->spec, desc->index, name);
		break;
	case LOAD_COMPAT_WARN:
		vmt_warn("%s: stream device %u ('%s') can be loaded: %s", t->spec, desc->index,
			 name, why);
		break;
	case LOAD_COMPAT_UNSUPPORTED:
		vmt_err("%s: %s (dry run: untouched, %s)", t->spec, why,
			vmt_state_name(t->dev->state));
		code = VMT_EXIT_UNSUPPORTED;
		break;
	case LOAD_COMPAT_MISMATCH:
		vmt_err("%s: stream device %u ('%s') is incompatible: %s (dry run: untouched, %s%s)",
			t->spec, desc->index, name, why, vmt_state_name(t->dev->state),
			ld->opts.force ? "; --force would load it anyway" : "");
		code = ld->opts.force ? VMT_EXIT_OK : VMT_EXIT_BADDATA;
		break;
	}
	if (code == VMT_EXIT_BADDATA || (code && !ld->dry_run_code))
		ld->dry_run_code = code;
	t->described = true;
	return 0;
}

static bool every_target_described(const struct load *ld)
{
	for (unsigned int i = 0; i < ld->target_count; i++)
		if (!ld->targets[i].described)
			return false;
	return true;
}

/* "it has devices 0, 1 and 7": the devices the stream declared, for a message. */
static const char *declared_devices(const struct load *ld, char *buf, size_t len)
{
	unsigned int count = 0, said = 0;
	size_t n;

	for (unsigned int i = 0; i < ld->target_count; i++)
		count += ld->targets[i].described;
	n = (size_t)snprintf(buf, len, "it has %s",
			     count == 0	  ? "no device"
			     : count == 1 ? "device "
					  : "devices ");
	for (unsigned int i = 0; i < ld->target_count && n < len; i++) {
		if (!ld->targets[i].described)
			continue;
		said++;
		n += (size_t)snprintf(buf + n, len - n, "%s%u",
				      said == 1	      ? ""
				      : said == count ? " and "
						      : ", ",
				      ld->targets[i].stream_index);
	}
	return buf;
}

/*
 * Every target got its DEVICE record, or the stream's first record of
 * device data came (DATA, DEVICE_END, INIT_DATA_SENT or STREAM_END): its
 * DEVICE records were all read, as every vfio-migtools writer puts them
 * before any data. A target given for a device the stream did not declare
 * is refused then, before any device was touched. Otherwise every target
 * enters RESUMING, as early as the stream allows (the source is still
 * busy stopping its devices).
 */
static int begin_loading(struct load *ld)
{
	char where[128], devices[1024];

	ld->declared = true;
	for (unsigned int i = 0; i < ld->target_count; i++) {
		const struct load_target *t = &ld->targets[i];

		if (t->described)
			continue;
		return load_fail(
			ld, VMT_EXIT_BADDATA,
			"%s: %s: target %s was given for stream device %u, which the stream does not have "
			"(%s)",
			ld->input_name, load_record_where(ld, where, sizeof(where)), t->spec,
			t->stream_index, declared_devices(ld, devices, sizeof(devices)));
	}
	return ld->opts.dry_run ? 0 : load_resume_targets(ld);
}

/* A DEVICE record: its target is checked against it (--force lets a mismatch through). */
static int handle_device(struct load *ld)
{
	const struct migstream_device *desc = &ld->rec.device;
	struct load_target_identity id;
	struct load_target *t;
	char where[128], why[1280];
	/* the name came from the stream: escaped for every message */
	char name[VMT_ESCAPED_SIZE(MIGSTREAM_MAX_STRING)];

	load_record_where(ld, where, sizeof(where));
	vmt_escape_text(desc->name, name, sizeof(name));
	/* The reader refused a second DEVICE of the same index: t is new. */
	t = load_find_target(ld, desc->index);
	if (!t)
		return load_fail(
			ld, VMT_EXIT_USAGE,
			"%s: %s: stream device %u ('%s') has no target: give one with -d or --map %u=DEV",
			ld->input_name, where, desc->index, name, desc->index);
	load_target_identify(t, &id);
	if (ld->opts.dry_run)
		return dry_run_device(ld, t, desc, &id, name);
	switch (load_compat_check(desc, &id, why, sizeof(why))) {
	case LOAD_COMPAT_OK:
		break;
	case LOAD_COMPAT_WARN:
		vmt_warn("%s: stream device %u ('%s'): %s", t->spec, desc->index, name, why);
		break;
	case LOAD_COMPAT_UNSUPPORTED:
		return load_fail(ld, VMT_EXIT_UNSUPPORTED, "%s: %s", t->spec, why);
	case LOAD_COMPAT_MISMATCH:
		if (!ld->opts.force)
			return load_fail(
				ld, VMT_EXIT_BADDATA,
				"%s: stream device %u ('%s') is incompatible: %s (--force loads it anyway)",
				t->spec, desc->index, name, why);
		vmt_warn("%s: stream device %u ('%s'): %s; loading anyway (--force)", t->spec,
			 desc->index, name, why);
		break;
	}
	t->described = true;
	return every_target_described(ld) ? begin_loading(ld) : 0;
}

static int handle_init_marker(struct load *ld)
{
	char where[128];
	int rc = load_reply_marker(ld->reply, &ld->rec, ld->targets, ld->target_count);

	if (rc == -EBADMSG)
		return load_fail(ld, VMT_EXIT_BADDATA,
				 "%s: %s: malformed INIT_DATA_SENT record or unknown device",
				 ld->input_name, load_record_where(ld, where, sizeof(where)));
	if (rc < 0)
		return load_fail_reply(ld, rc);
	return 0;
}

static int handle_time_probe(struct load *ld)
{
	char where[128];
	int rc = load_reply_time_probe(ld->reply, &ld->rec);

	if (rc == -EBADMSG)
		return load_fail(ld, VMT_EXIT_BADDATA, "%s: %s: malformed TIME_PROBE record",
				 ld->input_name, load_record_where(ld, where, sizeof(where)));
	if (rc < 0)
		return load_fail_reply(ld, rc);
	return 0;
}

/* A chunk the reorder buffer cannot take: too big for it, or out of place. */
static int chunk_refused(struct load *ld, const struct load_target *t, int rc, const char *where)
{
	const struct migstream_data *data = &ld->rec.data;
	char size[32], limit[32], held[32];

	if (rc == -ENOBUFS)
		return load_fail(
			ld, VMT_EXIT_BADDATA,
			"%s: %s: device %u chunk %llu (%s) does not fit in the reorder buffer (%s, %s held) "
			"while chunk %llu is missing; raise --reorder-buffer",
			ld->input_name, where, data->device, (unsigned long long)data->chunk_index,
			vmt_format_size(data->len, size, sizeof(size)),
			vmt_format_size(ld->opts.reorder_limit, limit, sizeof(limit)),
			vmt_format_size(load_reorder_held(t->reorder), held, sizeof(held)),
			(unsigned long long)load_reorder_next_index(t->reorder));
	return load_fail(
		ld, VMT_EXIT_BADDATA,
		"%s: %s: device %u chunk %llu at state offset %llu does not follow chunk %llu "
		"ending at %llu",
		ld->input_name, where, data->device, (unsigned long long)data->chunk_index,
		(unsigned long long)data->offset,
		(unsigned long long)load_reorder_next_index(t->reorder),
		(unsigned long long)load_reorder_next_offset(t->reorder));
}

/* The reader checked device, phase and order (or, reordering, each chunk once). */
static int handle_data(struct load *ld)
{
	const struct migstream_data data = ld->rec.data;
	struct load_target *t = load_declared_target(ld, data.device);
	struct load_chunk chunk;
	char where[128];
	int rc;

	load_record_where(ld, where, sizeof(where));
	if (data.phase == MIGSTREAM_PHASE_STOP_COPY && !ld->summary.stop_copy_start_ns)
		ld->summary.stop_copy_start_ns = vmt_monotonic_ns();
	if (data.phase == MIGSTREAM_PHASE_STOP_COPY && !t->stop_copy_first_ns)
		t->stop_copy_first_ns = vmt_monotonic_ns();
	t->summary->phase_bytes[data.phase] += data.len;
	t->summary->channel_mask |= 1ull << ld->rec_channel;

	chunk = (struct load_chunk){
		.chunk_index = data.chunk_index,
		.offset = data.offset,
		.data = data.data,
		.len = data.len,
	};
	rc = load_reorder_offer(t->reorder, &chunk);
	if (rc < 0)
		return chunk_refused(ld, t, rc, where);
	if (rc == 0)
		return 0; /* kept until the chunks before it came */

	rc = load_queue_chunk(ld, t, &chunk);
	while (rc == 0 && (rc = load_reorder_next_ready(t->reorder, &chunk)) > 0)
		rc = load_queue_chunk(ld, t, &chunk);
	if (rc == -EBADMSG)
		return load_fail(ld, VMT_EXIT_BADDATA,
				 "%s: %s: device %u chunk %llu has a wrong state offset",
				 ld->input_name, where, data.device,
				 (unsigned long long)chunk.chunk_index);
	/* -ECANCELED: a writer failed, its failure is the one recorded */
	return rc;
}

static int handle_device_end(struct load *ld)
{
	const struct migstream_device_end end = ld->rec.device_end;
	struct load_target *t = load_declared_target(ld, end.device);
	char where[128];

	load_record_where(ld, where, sizeof(where));
	t->end_seen = true;
	if (ld->opts.dry_run) {
		/* the reader checked the totals and the digest; nothing reached a device */
		t->ended = true;
		return 0;
	}
	/*
	 * The reader checked the totals (and, in order, the digest) against
	 * the stream; this checks what was put in order for the device. The
	 * device's writer checks what reached it.
	 */
	if (load_reorder_pending(t->reorder) || t->queued_bytes != end.total_bytes ||
	    t->queued_chunks != end.chunk_count)
		return load_fail(
			ld, VMT_EXIT_BADDATA,
			"%s: %s: device %u ends after %llu bytes in %llu chunks, but %llu bytes in %llu "
			"chunks reached the device (%zu chunks still missing)",
			ld->input_name, where, end.device, (unsigned long long)end.total_bytes,
			(unsigned long long)end.chunk_count, (unsigned long long)t->queued_bytes,
			(unsigned long long)t->queued_chunks, load_reorder_pending(t->reorder));
	t->summary->reorder_peak = load_reorder_peak(t->reorder);
	/*
	 * The writer checks and ends the device once its queue drained; the
	 * other devices' records go on meanwhile.
	 */
	return load_queue_device_end(ld, t, &end);
}

static void log_stream_header(const struct load *ld, const struct migstream_stream_header *hdr)
{
	char producer[VMT_ESCAPED_SIZE(sizeof(hdr->producer))];
	char version[VMT_ESCAPED_SIZE(sizeof(hdr->producer_version))];
	char host[VMT_ESCAPED_SIZE(sizeof(hdr->host))];

	vmt_dbg("%s: stream from %s %s on %s", ld->input_name,
		vmt_escape_text(hdr->producer, producer, sizeof(producer)),
		vmt_escape_text(hdr->producer_version, version, sizeof(version)),
		vmt_escape_text(hdr->host, host, sizeof(host)));
}

/*
 * A CHANNEL record read as a whole stream (one -i): only a set of one
 * channel is whole; any other channel alone lacks the others' chunks.
 */
static int handle_channel(struct load *ld)
{
	struct migstream_channel ch;
	char where[128];

	load_record_where(ld, where, sizeof(where));
	if (migstream_decode_channel(&ld->rec, &ch) < 0)
		return load_fail(ld, VMT_EXIT_BADDATA, "%s: %s: malformed CHANNEL record",
				 ld->input_name, where);
	if (ch.channel_count == 1)
		return 0;
	return load_fail(
		ld, VMT_EXIT_BADDATA,
		"%s: %s: this is channel %u of a set of %u: the other channels are missing "
		"(give each with -i)",
		ld->input_name, where, ch.channel, ch.channel_count);
}

/* The records that carry device data, or end the stream: none comes before its devices. */
static bool ends_declarations(uint16_t type)
{
	return type == MIGSTREAM_REC_DATA || type == MIGSTREAM_REC_DEVICE_END ||
	       type == MIGSTREAM_REC_INIT_DATA_SENT || type == MIGSTREAM_REC_STREAM_END;
}

static int handle_record(struct load *ld)
{
	int rc;

	if (!ld->declared && ends_declarations(ld->rec.type)) {
		rc = begin_loading(ld);
		if (rc)
			return rc;
	}
	switch (ld->rec.type) {
	case MIGSTREAM_REC_CHANNEL:
		return handle_channel(ld);
	case MIGSTREAM_REC_STREAM_HEADER:
		log_stream_header(ld, &ld->rec.stream_header);
		return 0;
	case MIGSTREAM_REC_DEVICE:
		return handle_device(ld);
	case MIGSTREAM_REC_DATA:
		/* --dry-run: the reader verified the record; it goes nowhere */
		return ld->opts.dry_run ? 0 : handle_data(ld);
	case MIGSTREAM_REC_DEVICE_END:
		return handle_device_end(ld);
	case MIGSTREAM_REC_INIT_DATA_SENT:
		return handle_init_marker(ld);
	case MIGSTREAM_REC_TIME_PROBE:
		return handle_time_probe(ld);
	default:
		/* PRECOPY_INFO, DIRTY_BITMAP, STREAM_END, unknown ancillary: nothing to load. */
		vmt_trace("%s: record %u (%s) skipped", ld->input_name, ld->rec.seq,
			  migstream_record_type_name(ld->rec.type));
		return 0;
	}
}

/*
 * Before the first record: the return path (a set of channels is read up
 * to STREAM_END when there is one, as the source keeps its channels open
 * until our answer), every target opened with its migration state read
 * (each DEVICE record is checked against its target as it comes), then
 * the stream's reader or the set.
 */
static int prepare_load(struct load *ld)
{
	int rc;

	if (ld->opts.return_fd >= 0) {
		rc = load_reply_open(&ld->reply, ld->opts.return_fd, ld->opts.map_count);
		if (rc < 0)
			return load_fail(ld, VMT_EXIT_FAILURE,
					 "return fd %d: cannot start the reply stream: %s",
					 ld->opts.return_fd, strerror(-rc));
		load_reply_record_to(ld->reply, ld->events);
	}
	rc = load_open_targets(ld);
	if (rc)
		return rc;
	return load_start_input(ld);
}

/*
 * Every record, in order, until the stream ends. A stop signal is looked
 * at before each record and after a failed read, whose failure it caused
 * (a read it ended says ECANCELED, the signal is what the user is told).
 */
static int read_stream(struct load *ld)
{
	int rc;

	ld->summary.start_ns = vmt_monotonic_ns();
	for (;;) {
		if (vmt_stop_signal())
			return load_interrupted(ld);
		rc = load_next_record(ld);
		if (rc == 0)
			break;
		if (rc < 0) {
			ld->have_rec = false;
			if (vmt_stop_signal())
				return load_interrupted(ld);
			return load_input_failed(ld, rc);
		}
		ld->have_rec = true;
		rc = handle_record(ld);
		if (rc)
			return rc;
		if (atomic_load(&ld->cancelled))
			return -ECANCELED; /* a writer failed: its failure was recorded */
		vmt_progress_update(&ld->progress, NULL, load_input_bytes(ld), ld->input_size,
				    false);
		load_events_record_read(ld);
		/*
		 * The source keeps its end open until it has our answer: with a
		 * return path the stream ends at STREAM_END, not at end of file.
		 */
		if (ld->reply && ld->rec.type == MIGSTREAM_REC_STREAM_END)
			break;
	}
	ld->have_rec = false;
	load_events_input_done(ld);
	return 0;
}

/*
 * The stream is read: what was queued reaches the devices, then no writer
 * runs, and every device is the main thread's again.
 */
static int drain_writers(struct load *ld)
{
	int rc = load_drain_writers(ld);

	return rc ? rc : load_stop_writers(ld);
}

/* --dry-run's end: the verdicts were said; each target is where it was. */
static int dry_run_result(struct load *ld)
{
	for (unsigned int i = 0; i < ld->target_count; i++)
		vmt_dbg("%s: untouched, %s", ld->targets[i].spec,
			vmt_state_name(ld->targets[i].dev->state));
	return ld->dry_run_code;
}

/* After STREAM_END: every target got its device, then all are started together. */
static int finish_targets(struct load *ld)
{
	for (unsigned int i = 0; i < ld->target_count; i++) {
		struct load_target *t = &ld->targets[i];

		/* a target without its device was refused at the end of the DEVICE records */
		if (!t->end_seen)
			return load_fail(ld, VMT_EXIT_BADDATA,
					 "%s: the stream ended without DEVICE_END for device %u",
					 ld->input_name, t->stream_index);
	}
	if (ld->opts.dry_run)
		return dry_run_result(ld);
	return load_start_targets(ld);
}

/* The source waits for this word before it lets its devices go. */
static int confirm_to_source(struct load *ld)
{
	int rc = load_reply_result(ld->reply, VMT_EXIT_OK, "", ld->targets, ld->target_count,
				   ld->opts.then_state);

	return rc < 0 ? load_fail_reply(ld, rc) : 0;
}

/*
 * The steps of a load, each only after the one before it succeeded. 0,
 * -errno (recorded), or a dry run's verdict as an exit code.
 */
static int load_stream(struct load *ld)
{
	int rc = prepare_load(ld);

	if (rc == 0)
		rc = read_stream(ld);
	if (rc == 0)
		rc = drain_writers(ld);
	if (rc == 0)
		rc = finish_targets(ld);
	if (rc == 0)
		rc = confirm_to_source(ld);
	return rc;
}

void load_run(struct load *ld)
{
	int open_err = load_open_input(ld);

	ld->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ld->writers_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	/* With --json, stderr carries the JSON document: no progress unless asked for. */
	vmt_progress_init(&ld->progress,
			  ld->opts.progress || (!ld->opts.json && vmt_progress_wanted(false)));
	if (open_err && vmt_failed(&ld->failure)) {
		/* said already (--listen) */
	} else if (open_err) {
		vmt_fail(&ld->failure, &(struct vmt_where){ .file = ld->input_name }, open_err, 0,
			 "cannot open");
	} else {
		ld->input_size = ld->channel_count > 1 ? 0 : vmt_progress_fd_total(ld->input_fd);
		load_stream(ld);
	}
	/* after a failure: every writer stopped before the report resets the devices */
	load_stop_writers(ld);
}
