// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vfio-precopy-info's sampling session; see session.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bridge/device-record.h"
#include "bridge/precopy-sample.h"
#include "common/closestream.h"
#include "common/exitcodes.h"
#include "common/json-doc.h"
#include "common/log.h"
#include "common/signals.h"
#include "common/timeutil.h"
#include "stream/writer.h"
#include "vfio/mig.h"
#include "vfio/state.h"
#include "vfio/uapi/vfio-uapi.h"

#include "estimate.h"
#include "session.h"

#define DRAIN_BUFFER (1u << 20)

/* A stream write failed; the writer gives up a blocked write when a stop signal came. */
static int stream_failed(struct precopy_session *s, const char *name, int err)
{
	const struct vmt_where at = { .file = name };

	if (err == -EINTR && vmt_stop_signal())
		return vmt_refuse(&s->failure, &at, err, VMT_EXIT_FAILURE,
				  "writing the stream: interrupted by %s", vmt_stop_signal_name());
	return vmt_fail(&s->failure, &at, err, 0, "writing the stream");
}

static int device_failed(struct precopy_session *s, int err, const char *what)
{
	const struct vmt_where at = { .device = s->dev->name };

	return vmt_fail(&s->failure, &at, err, 0, "%s", what);
}

static const char *data_stream_name(const struct precopy_session *s)
{
	return vmt_outfile_label(&s->data_out);
}

static int take_sample(struct precopy_session *s, struct precopy_sample *smp,
		       struct migstream_precopy_info *info)
{
	uint32_t flags = 0;
	int ret = vmt_precopy_sample(s->dev, 0, info, &flags);

	if (ret)
		return ret;
	*smp = (struct precopy_sample){
		.t = (double)(vmt_monotonic_ns() - s->start_ns) / 1e9,
		.time_ns = info->time_ns,
		.state = info->state,
		.initial_bytes = info->initial_bytes,
		.dirty_bytes = info->dirty_bytes,
		.stop_copy_known = info->stop_copy_size != MIGSTREAM_SIZE_UNKNOWN,
		.stop_copy_bytes = info->stop_copy_size,
		/* Before the opt-in the flags are not the kernel's word. */
		.reinit_known = s->precopy_v2,
		.reinit = s->precopy_v2 && (flags & VFIO_PRECOPY_INFO_REINIT),
	};
	return 0;
}

/*
 * REINIT: the device's initial section starts again, as vfio-mig-save
 * sends it again: drained bytes are PRECOPY_INITIAL until it is read, and
 * the estimate starts from here (what came before is a finished section).
 */
static void begin_reinit(struct precopy_session *s, const struct precopy_sample *smp)
{
	s->reinits++;
	s->split = (struct vmt_precopy_split){ .initial_left = smp->initial_bytes };
	vmt_dbg("%s: REINIT at %.3f s: new initial section of %llu bytes", s->dev->name, smp->t,
		(unsigned long long)smp->initial_bytes);
}

static int write_drained(struct precopy_session *s, const unsigned char *buf, size_t len)
{
	/* The device sends its initial section first (uAPI), then dirty data. */
	size_t initial = vmt_precopy_split_take(&s->split, len);
	int ret = 0;

	if (!s->data_stream)
		return 0;
	if (initial)
		ret = migstream_write_data(s->data_stream, 0, MIGSTREAM_PHASE_PRECOPY_INITIAL, buf,
					   initial);
	if (!ret && len > initial)
		ret = migstream_write_data(s->data_stream, 0, MIGSTREAM_PHASE_PRECOPY_DIRTY,
					   buf + initial, len - initial);
	return ret ? stream_failed(s, data_stream_name(s), ret) : 0;
}

/*
 * Read what the device has for now, until it pauses or the deadline (the
 * next sample) comes: a device dirtying faster than we read never pauses.
 */
static int drain(struct precopy_session *s, uint64_t deadline_ns, uint64_t *drained)
{
	*drained = 0;
	while (!vmt_stop_signal()) {
		size_t got = 0;
		int st = vmt_mig_read_data(s->dev->data_fd, s->buf, DRAIN_BUFFER, true, &got);
		int ret;

		/* -EINTR: a signal; keep what was read, then the loop looks at the stop. */
		if (st < 0 && st != -EINTR)
			return device_failed(s, st, "reading pre-copy data");
		ret = write_drained(s, s->buf, got);
		if (ret)
			return ret;
		*drained += got;
		if (st == VMT_DATA_PAUSED || vmt_monotonic_ns() >= deadline_ns)
			break;
	}
	return 0;
}

static int open_stream(struct precopy_session *s, struct migstream_writer **w, int fd,
		       const char *name)
{
	struct migstream_writer_opts wopts = {
		.producer = "vfio-precopy-info",
		.zstd_level = s->opt->zstd_level,
		/* A stalled reader must not hold the device in PRE_COPY after a stop signal. */
		.cancelled = vmt_stop_requested,
	};
	struct migstream_device rec;
	int ret;

	vmt_device_fill_record(s->dev, 0, &rec);
	if (vmt_mig_stop_copy_size(s->dev, &rec.stop_copy_size))
		rec.stop_copy_size = MIGSTREAM_SIZE_UNKNOWN;
	ret = migstream_writer_new(w, fd, &wopts);
	if (!ret)
		ret = migstream_write_device(*w, &rec);
	if (ret)
		return vmt_fail(&s->failure, &(struct vmt_where){ .file = name }, ret, 0,
				"cannot write the stream");
	return 0;
}

static int open_streams(struct precopy_session *s)
{
	int ret;

	if (s->opt->stream && (ret = open_stream(s, &s->info_stream, STDOUT_FILENO, "<stdout>")))
		return ret;
	if (!s->opt->output)
		return 0;
	ret = vmt_outfile_open(&s->data_out, s->opt->output);
	if (ret)
		return vmt_fail(&s->failure, &(struct vmt_where){ .file = s->opt->output }, ret, 0,
				"cannot open");
	return open_stream(s, &s->data_stream, s->data_out.fd, data_stream_name(s));
}

static int finish_stream(struct precopy_session *s, struct migstream_writer *w, const char *what,
			 bool end_device)
{
	int ret = 0;

	if (!w)
		return 0;
	if (end_device)
		ret = migstream_write_device_end(w, 0);
	if (!ret)
		ret = migstream_writer_finish(w);
	if (ret)
		return vmt_fail(&s->failure, &(struct vmt_where){ .file = what }, ret, 0,
				"cannot finish the stream");
	return 0;
}

/* The sample to the report and both streams. */
static int publish_sample(struct precopy_session *s, const struct precopy_sample *smp,
			  const struct migstream_precopy_info *info)
{
	int ret;

	if (!s->quiet_report) {
		report_sample(&s->report, smp);
		ret = report_flush(&s->report);
		if (ret) {
			s->report_failed = true;
			return vmt_fail(&s->failure,
					&(struct vmt_where){ .file = report_name(&s->report) }, ret,
					0, "writing the report");
		}
	}
	if (s->info_stream && (ret = migstream_write_precopy_info(s->info_stream, info)))
		return stream_failed(s, "<stdout>", ret);
	if (s->data_stream && (ret = migstream_write_precopy_info(s->data_stream, info)))
		return stream_failed(s, data_stream_name(s), ret);
	return 0;
}

/* --events: a sample as a precopy-round, with the rate of new state where it is known. */
static void record_sample(struct precopy_session *s, const struct precopy_sample *smp)
{
	struct json_object *f;

	if (!s->events)
		return;
	f = vmt_event_fields();
	vmt_json_add_u64(f, "round", s->samples);
	vmt_json_add_str(f, "state", vmt_state_name(smp->state));
	vmt_json_add_u64(f, "bytes", smp->drained_bytes);
	vmt_json_add_u64(f, "initial_bytes", smp->initial_bytes);
	vmt_json_add_u64(f, "dirty_bytes", smp->dirty_bytes);
	vmt_json_add_bool(f, "reinit", smp->reinit);
	if (smp->rate_known)
		vmt_json_add_double(f, "dirty_rate", smp->rate, 0);
	else
		vmt_json_add_null(f, "dirty_rate");
	vmt_events_emit(s->events, VMT_EV_PRECOPY_ROUND, s->dev->name, f);
}

static int sample_once(struct precopy_session *s, uint64_t drained)
{
	struct migstream_precopy_info info;
	struct precopy_sample smp;
	int ret = take_sample(s, &smp, &info);

	if (ret)
		return device_failed(s, ret, "VFIO_MIG_GET_PRECOPY_INFO failed");
	if (smp.reinit)
		begin_reinit(s, &smp);
	vmt_precopy_split_sample(&s->split, info.initial_bytes);
	s->drained_total += drained;
	smp.drained_bytes = drained;
	smp.drained_total = s->drained_total;
	precopy_sample_rate(s->samples ? &s->prev : NULL, &smp);
	if (s->samples == 0 || smp.reinit)
		s->first = smp;
	ret = publish_sample(s, &smp, &info);
	if (ret)
		return ret;
	record_sample(s, &smp);
	s->prev = smp;
	s->samples++;
	return 0;
}

/* The sampling loop, with the device in a PRE_COPY state. */
static int sample_loop(struct precopy_session *s)
{
	const struct precopy_options *o = s->opt;
	uint64_t next = s->start_ns, drained = 0;
	uint64_t end = o->duration_ns ? s->start_ns + o->duration_ns : UINT64_MAX;
	uint64_t limit = o->watch ? o->count : (o->drain ? 2 : 1);
	int ret;

	for (;;) {
		ret = sample_once(s, drained);
		if (ret)
			return ret;
		if (vmt_stop_signal() || (limit && s->samples >= limit))
			return 0;
		next += o->interval_ns;
		if (next > end)
			return 0;
		/* The drained amount belongs to the next sample's interval. */
		drained = 0;
		if (o->drain && (ret = drain(s, next, &drained)))
			return ret;
		if (o->watch && !vmt_signal_sleep_until(next))
			return 0;
		if (vmt_stop_signal())
			return 0;
	}
}

static void print_estimate(struct precopy_session *s)
{
	struct precopy_estimate_input in = {
		.bandwidth = s->opt->bandwidth,
		.downtime_target_s = (double)s->opt->downtime_ns / 1e9,
		.pending_bytes = s->first.initial_bytes + s->first.dirty_bytes,
		.stop_copy_known = s->prev.stop_copy_known,
		.stop_copy_bytes = s->prev.stop_copy_bytes,
		.reinits = s->reinits,
		.since_s = s->first.t,
	};
	struct precopy_estimate e;

	if (s->prev.t > s->first.t) {
		/* Mean since the base (start or last REINIT), not the last interval's noise. */
		double pend_first = (double)s->first.initial_bytes + s->first.dirty_bytes;
		double pend_last = (double)s->prev.initial_bytes + s->prev.dirty_bytes;
		double drained = (double)(s->prev.drained_total - s->first.drained_total);
		double created = pend_last - pend_first + drained;

		in.rate_known = true;
		in.rate = created > 0 ? created / (s->prev.t - s->first.t) : 0;
	}
	precopy_estimate(&in, &e);
	report_estimate(&s->report, &in, &e, s->samples);
}

/* Put the device back where it was; say where it is when that fails. */
static int restore_state(struct precopy_session *s, uint32_t original)
{
	uint32_t final = VMT_STATE_UNKNOWN;
	int ret = vmt_mig_set_state(s->dev, original);

	if (!ret)
		return 0;
	/* The cause when nothing failed before; said at once when it is a consequence. */
	if (vmt_failed(&s->failure))
		vmt_err("%s: could not return to %s: %s; recovering", s->dev->name,
			vmt_state_name(original), strerror(-ret));
	else
		vmt_fail(&s->failure, &(struct vmt_where){ .device = s->dev->name }, ret, 0,
			 "could not return to %s", vmt_state_name(original));
	ret = vmt_device_recover(s->dev, original, &final);
	s->recovery_failed = ret != 0;
	if (ret)
		vmt_err("%s: recovery failed: device is now %s", s->dev->name,
			vmt_state_name(final));
	else
		vmt_warn("%s: recovered: device is now %s%s", s->dev->name, vmt_state_name(final),
			 s->dev->resets ? " (after a reset)" : "");
	return ret ? ret : -EIO;
}

void precopy_session_say_failure(struct precopy_session *s)
{
	struct vmt_device_fate fate = {
		.name = s->dev ? s->dev->name : NULL,
		.state = vmt_state_name_or_null(s->dev ? s->dev->state : VMT_STATE_UNKNOWN),
		.touched = true,
		.reset = s->dev && s->dev->resets > 0,
		.recovery_failed = s->recovery_failed,
	};
	char *line;

	if (!vmt_failed(&s->failure))
		return;
	/* Where the device is matters only once it was moved. */
	line = vmt_failure_line(&s->failure, &fate, s->touched ? 1 : 0);
	vmt_err("%s", line ? line : "out of memory");
	if (!s->quiet_report && !s->report_failed)
		report_failure(&s->report, &s->failure, line);
	free(line);
}

static int enter_precopy(struct precopy_session *s, uint32_t original)
{
	uint32_t target = vmt_state_precopy_for(original);
	int ret;
	char what[96];

	s->touched = true;
	ret = vmt_mig_set_state(s->dev, target);
	if (!ret) {
		vmt_dbg("%s: %s -> %s", s->dev->name, vmt_state_name(original),
			vmt_state_name(target));
		return 0;
	}
	snprintf(what, sizeof(what), "%s -> %s failed", vmt_state_name(original),
		 vmt_state_name(target));
	return device_failed(s, ret, what);
}

/*
 * After the device is back: the estimate, and the streams finished unless
 * something failed (a reader must then see them cut short). 0 or -errno.
 */
static int conclude(struct precopy_session *s)
{
	int ret;

	if (vmt_stop_signal())
		vmt_info("stopped by %s; device %s is %s", vmt_stop_signal_name(), s->dev->name,
			 vmt_state_name(s->dev->state));
	if (s->opt->bandwidth > 0 && s->samples && !s->quiet_report)
		print_estimate(s);
	if (vmt_failed(&s->failure))
		return s->failure.err;
	ret = finish_stream(s, s->info_stream, "<stdout>", false);
	if (!ret)
		ret = finish_stream(s, s->data_stream, data_stream_name(s), true);
	if (!ret && s->data_stream && (ret = vmt_outfile_commit(&s->data_out)))
		vmt_fail(&s->failure, &(struct vmt_where){ .file = data_stream_name(s) }, ret, 0,
			 "renaming into place");
	return ret;
}

/* The streams and the buffer, before the device is touched. */
static int prepare(struct precopy_session *s)
{
	int ret = open_streams(s);

	if (ret)
		return ret;
	if (s->opt->drain && !(s->buf = malloc(DRAIN_BUFFER)))
		return vmt_refuse(&s->failure, NULL, -ENOMEM, 0, "out of memory");
	/* Opted in as vfio-mig-save does, GET_PRECOPY_INFO can say REINIT. */
	s->precopy_v2 = vmt_mig_enable_precopy_info_v2(s->dev) == 0;
	vmt_dbg("%s: pre-copy info %s", s->dev->name,
		s->precopy_v2 ? "v2 (REINIT reported)" : "v1 (the kernel does not offer v2)");
	return 0;
}

int precopy_session_run(struct precopy_session *s, uint32_t original)
{
	int ret, restored = 0;

	ret = prepare(s);
	if (!ret) {
		ret = enter_precopy(s, original);
		s->start_ns = vmt_monotonic_ns();
	}
	if (!ret)
		ret = sample_loop(s);
	/* Back first: the device should not stay in PRE_COPY while we print. */
	if (s->touched && s->dev->state != original)
		restored = restore_state(s, original);
	if (s->touched)
		conclude(s);
	precopy_session_say_failure(s);
	if (restored)
		return VMT_EXIT_FAILURE;
	return vmt_failed(&s->failure) ? vmt_failure_exit_code(&s->failure) : VMT_EXIT_OK;
}

void precopy_session_free(struct precopy_session *s)
{
	/* The report's write error was said: closing stdout must not say it again. */
	if (s->report_failed)
		vmt_drop_unwritten(s->report.out);
	migstream_writer_free(s->info_stream);
	migstream_writer_free(s->data_stream);
	/* Not committed: only the temporary goes. */
	vmt_outfile_abort(&s->data_out);
	vmt_outfile_free(&s->data_out);
	free(s->buf);
	vmt_failure_free(&s->failure);
}
