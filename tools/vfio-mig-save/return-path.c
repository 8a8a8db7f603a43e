// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The return path of vfio-mig-save; see return-path.h.
 *
 * The reply stream is read with the library's stream reader, which checks
 * every header and payload; its read callback waits with poll() against
 * the deadline of the wait under way, set once for the whole wait: a
 * loader that stalls halfway through a record, or keeps sending records
 * that are not the one awaited, cannot hold the source stopped beyond the
 * timeout.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json_object.h>
#include <json-c/json_tokener.h>

#include "bridge/reply-events.h"
#include "common/c.h"
#include "common/json-doc.h"
#include "common/log.h"
#include "common/signals.h"
#include "common/textescape.h"
#include "common/timeutil.h"
#include "stream/reader.h"
#include "output.h"
#include "vfio/mig.h"
#include "return-path.h"

struct return_path {
	int fd;
	uint64_t timeout_ns;
	uint64_t deadline_ns; /* of the wait under way */
	const char *awaited;  /* what it waits for, for its timeout: "load result" */
	struct migstream_reader *reader;
	bool eof; /* the loader closed its end */
	bool timed_out;
	bool have_result;
	bool reply_ended; /* STREAM_END (or the end of the fd) read after the result */
	/* A success read before STREAM_END was sent: said to have come before this. */
	const char *premature;
	struct migstream_load_result result;
	uint32_t probes_sent;		    /* TIME_PROBE records, numbered from 1 */
	uint64_t probe_ns;		    /* monotonic time of the last one */
	bool have_clock;		    /* best holds a sample */
	struct migstream_clock_sample best; /* the one of least delay */
	/* Room for the loader's message escaped (4 bytes a byte at most) and ours. */
	char msg[VMT_ESCAPED_SIZE(MIGSTREAM_LOAD_RESULT_MAX_MESSAGE) + 256];
};

int return_path_open(struct return_path **out, int fd, uint64_t timeout_ns)
{
	struct return_path *rp = calloc(1, sizeof(*rp));

	if (!rp)
		return -ENOMEM;
	rp->fd = fd;
	rp->timeout_ns = timeout_ns;
	rp->awaited = "complete reply";
	*out = rp;
	return 0;
}

void return_path_free(struct return_path *rp)
{
	if (!rp)
		return;
	migstream_reader_free(rp->reader);
	free(rp);
}

const char *return_path_error(const struct return_path *rp)
{
	return rp->msg;
}

const struct migstream_load_result *return_path_result(const struct return_path *rp)
{
	return rp->have_result ? &rp->result : NULL;
}

uint64_t return_path_timeout(const struct return_path *rp)
{
	return rp->timeout_ns;
}

uint64_t return_path_deadline(const struct return_path *rp)
{
	return vmt_monotonic_ns() + rp->timeout_ns;
}

VMT_PRINTF(3, 4)
static int rp_fail(struct return_path *rp, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rp->msg, sizeof(rp->msg), fmt, ap);
	va_end(ap);
	return err;
}

/* Wait for the fd until deadline_ns; 1 readable, 0 timed out, -errno. */
static int wait_readable(struct return_path *rp, uint64_t deadline_ns)
{
	struct pollfd pfd = { .fd = rp->fd, .events = POLLIN };
	uint64_t now = vmt_monotonic_ns();
	int ms = now >= deadline_ns ? 0 : (int)((deadline_ns - now + 999999) / 1000000);
	int ret = poll(&pfd, 1, ms);

	if (ret < 0)
		return errno == EINTR ? 0 : -errno;
	return ret > 0;
}

static ssize_t read_reply(void *ctx, void *buf, size_t len)
{
	struct return_path *rp = ctx;
	ssize_t n;
	int ret;

	for (;;) {
		/* A stop signal must not wait out the timeout. */
		if (vmt_stop_requested(NULL))
			return -ECANCELED;
		/* Asked first: bytes that keep coming must not keep the wait alive. */
		if (vmt_monotonic_ns() >= rp->deadline_ns) {
			rp->timed_out = true;
			return -ETIMEDOUT;
		}
		ret = wait_readable(rp, rp->deadline_ns);
		if (ret < 0)
			return ret;
		if (ret == 0)
			continue; /* the deadline or a signal: asked above */
		n = read(rp->fd, buf, len);
		if (n == 0)
			rp->eof = true;
		if (n >= 0)
			return n;
		if (errno != EINTR && errno != EAGAIN)
			return -errno;
	}
}

static int reader_failed(struct return_path *rp, int err)
{
	if (vmt_stop_requested(NULL))
		return rp_fail(rp, -EINTR, "interrupted while waiting for the destination");
	if (rp->timed_out)
		return rp_fail(rp, -ETIMEDOUT, "no %s from the destination within %.3f s",
			       rp->awaited, (double)rp->timeout_ns / 1e9);
	if (rp->eof)
		return rp_fail(rp, -EPIPE,
			       "the return channel was closed before the load result (%s)",
			       migstream_reader_error(rp->reader));
	return rp_fail(rp, err, "bad reply from the destination: %s",
		       migstream_reader_error(rp->reader));
}

static struct save_device *device_of(struct save_ctx *ctx, uint32_t index)
{
	for (unsigned int i = 0; i < ctx->ndevs; i++)
		if (ctx->devs[i].index == index)
			return &ctx->devs[i];
	return NULL;
}

static int take_ack(struct return_path *rp, struct save_ctx *ctx,
		    const struct migstream_record *rec)
{
	struct migstream_switchover_ack ack;
	struct save_device *sd;

	if (migstream_decode_switchover_ack(rec, &ack) < 0)
		return rp_fail(
			rp, -EBADMSG,
			"bad reply from the destination: record %u: malformed SWITCHOVER_ACK",
			rec->seq);
	sd = device_of(ctx, ack.device);
	vmt_events_ack(ctx->events, false, sd ? sd->dev->name : NULL, &ack);
	if (!sd || ack.generation > sd->marked)
		return rp_fail(
			rp, -EBADMSG,
			"bad reply from the destination: record %u: SWITCHOVER_ACK for device %u, initial section %u, which was not sent",
			rec->seq, ack.device, ack.generation);
	/* An ack of an earlier section, after a REINIT, no longer counts. */
	if (ack.generation < sd->generation)
		return 0;
	sd->acked = ack.generation;
	sd->ack_ns = vmt_monotonic_ns();
	vmt_dbg("%s: switchover-ack (initial section %u, %llu bytes loaded on the destination)",
		sd->dev->name, ack.generation, (unsigned long long)ack.bytes);
	return 0;
}

/*
 * Probes go out while the save reads the replies (stop-copy, the end of
 * the stream, the wait for the result), so that an echo is read as it
 * comes and its delay is the round trip's: at most this many, this far
 * apart.
 */
#define MAX_TIME_PROBES 32
#define TIME_PROBE_INTERVAL_NS (20 * NSEC_PER_MSEC)

int return_path_probe(struct return_path *rp, struct save_ctx *ctx)
{
	struct migstream_time_probe probe;
	uint8_t buf[MIGSTREAM_TIME_PROBE_LEN];
	uint64_t now = vmt_monotonic_ns();
	int ret;

	/* Only an events file has a use for the loader's clock. */
	if (!ctx->events || rp->probes_sent >= MAX_TIME_PROBES ||
	    (rp->probes_sent && now - rp->probe_ns < TIME_PROBE_INTERVAL_NS))
		return 0;
	probe = (struct migstream_time_probe){ .probe = rp->probes_sent + 1,
					       .t1_ns = vmt_realtime_ns() };
	migstream_encode_time_probe(&probe, buf);
	ret = output_record(ctx, MIGSTREAM_REC_TIME_PROBE, MIGSTREAM_RF_ANCILLARY, buf,
			    sizeof(buf));
	if (ret < 0)
		return ret;
	rp->probes_sent++;
	rp->probe_ns = now;
	return 0;
}

static void emit_clock_offset(const struct return_path *rp, struct save_ctx *ctx,
			      const struct migstream_time_echo *e, uint64_t t4_ns,
			      const struct migstream_clock_sample *s)
{
	struct json_object *f = vmt_event_fields();

	vmt_json_add_u64(f, "probe", e->probe);
	vmt_json_add_u64(f, "t1_ns", e->t1_ns);
	vmt_json_add_u64(f, "t2_ns", e->t2_ns);
	vmt_json_add_u64(f, "t3_ns", e->t3_ns);
	vmt_json_add_u64(f, "t4_ns", t4_ns);
	vmt_json_add_i64(f, "sample_offset_ns", s->offset_ns);
	vmt_json_add_u64(f, "sample_delay_ns", s->delay_ns);
	vmt_json_add_i64(f, "offset_ns", rp->best.offset_ns);
	vmt_json_add_u64(f, "error_ns", rp->best.delay_ns / 2 + 1);
	vmt_events_emit(ctx->events, VMT_EV_CLOCK_OFFSET, NULL, f);
}

/* A TIME_ECHO: one more sample of the loader's clock; the best one is kept. */
static int take_echo(struct return_path *rp, struct save_ctx *ctx,
		     const struct migstream_record *rec)
{
	uint64_t t4 = vmt_realtime_ns();
	struct migstream_clock_sample sample;
	struct migstream_time_echo echo;

	if (migstream_decode_time_echo(rec, &echo) < 0 || !echo.probe ||
	    echo.probe > rp->probes_sent)
		return rp_fail(rp, -EBADMSG,
			       "bad reply from the destination: record %u: malformed TIME_ECHO",
			       rec->seq);
	/* Our clock stepped back during the round trip: the sample says nothing. */
	if (migstream_clock_sample(&echo, t4, &sample) < 0)
		return 0;
	if (!rp->have_clock || sample.delay_ns < rp->best.delay_ns)
		rp->best = sample;
	rp->have_clock = true;
	emit_clock_offset(rp, ctx, &echo, t4, &sample);
	return 0;
}

/* The loader's event line is a JSON object naming its kind and monotonic time. */
static struct json_object *parse_load_event(const struct migstream_record *rec)
{
	static char text[MIGSTREAM_LOAD_EVENT_MAX_LEN + 1];
	struct json_object *obj, *v;

	if (migstream_check_load_event(rec) < 0)
		return NULL;
	memcpy(text, rec->payload, rec->len);
	text[rec->len] = '\0';
	obj = json_tokener_parse(text);
	if (!obj || !json_object_is_type(obj, json_type_object) ||
	    !json_object_object_get_ex(obj, "kind", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    !json_object_object_get_ex(obj, "mono_ns", &v) ||
	    !json_object_is_type(v, json_type_int)) {
		json_object_put(obj);
		return NULL;
	}
	return obj;
}

/*
 * A LOAD_EVENT: the loader's line goes into our events file whole, with
 * the estimate of its clock at that moment (the last clock-offset event
 * has the best one).
 */
static int take_load_event(struct return_path *rp, struct save_ctx *ctx,
			   const struct migstream_record *rec)
{
	struct json_object *event = parse_load_event(rec), *f;

	if (!event)
		return rp_fail(rp, -EBADMSG,
			       "bad reply from the destination: record %u: malformed LOAD_EVENT",
			       rec->seq);
	f = vmt_event_fields();
	if (!f) {
		json_object_put(event);
		return 0;
	}
	json_object_object_add(f, "event", event);
	if (rp->have_clock) {
		vmt_json_add_i64(f, "offset_ns", rp->best.offset_ns);
		vmt_json_add_u64(f, "error_ns", rp->best.delay_ns / 2 + 1);
	}
	vmt_events_emit(ctx->events, VMT_EV_LOAD_EVENT, NULL, f);
	return 0;
}

/* A success needs every device of the stream, each loaded and in the state asked for. */
static int check_result_devices(struct return_path *rp, const struct save_ctx *ctx)
{
	const unsigned int need = MIGSTREAM_RESULT_LOADED | MIGSTREAM_RESULT_IN_STATE;

	for (unsigned int i = 0; i < ctx->ndevs; i++) {
		const struct save_device *sd = &ctx->devs[i];
		const struct migstream_result_device *e = NULL;

		for (uint32_t j = 0; j < rp->result.device_count; j++)
			if (rp->result.devices[j].device == sd->index)
				e = &rp->result.devices[j];
		if (!e)
			return rp_fail(
				rp, -EREMOTEIO,
				"the destination's result does not name stream device %u (%s)",
				sd->index, sd->dev->name);
		if ((e->flags & need) != need)
			return rp_fail(rp, -EREMOTEIO,
				       "the destination reports stream device %u (%s) %s, in %s",
				       sd->index, sd->dev->name,
				       e->flags & MIGSTREAM_RESULT_LOADED
					       ? "loaded but not in the state asked for"
					       : "not loaded",
				       vmt_state_name(e->state));
	}
	return 0;
}

/*
 * The LOAD_RESULT read, judged: 0 only for a success that came after
 * STREAM_END was sent and names every device. The loader's message is
 * its text, from the other end of a network: escaped like every string
 * of a stream, so that it cannot forge lines (also in the JSON summary,
 * which carries this line).
 */
static int judge_result(struct return_path *rp, const struct save_ctx *ctx)
{
	char message[VMT_ESCAPED_SIZE(MIGSTREAM_LOAD_RESULT_MAX_MESSAGE)];

	if (rp->result.exit_code != 0)
		return rp_fail(rp, -EREMOTEIO, "the destination failed to load (exit %u): %s",
			       rp->result.exit_code,
			       vmt_escape_text(rp->result.message, message, sizeof(message)));
	if (rp->premature)
		return rp_fail(rp, -EREMOTEIO,
			       "the destination reported a successful load before %s",
			       rp->premature);
	return check_result_devices(rp, ctx);
}

static bool any_stop_copy_data(const struct save_ctx *ctx)
{
	for (unsigned int i = 0; i < ctx->ndevs; i++)
		if (atomic_load_explicit(&ctx->devs[i].bytes[MIGSTREAM_PHASE_STOP_COPY],
					 memory_order_relaxed))
			return true;
	return false;
}

static int take_result(struct return_path *rp, const struct save_ctx *ctx,
		       const struct migstream_record *rec)
{
	if (migstream_decode_load_result(rec, &rp->result) < 0)
		return rp_fail(rp, -EBADMSG,
			       "bad reply from the destination: record %u: malformed LOAD_RESULT",
			       rec->seq);
	rp->have_result = true;
	vmt_events_load_result(ctx->events, false, &rp->result);
	/*
	 * A loader answers once it has read STREAM_END: a success read before
	 * any channel began to send it answers a stream the loader never had
	 * (migstream(5), Protocol). The flag is looked at after the record
	 * was read, so a result that came after it is never called early.
	 */
	if (!rp->result.exit_code &&
	    !atomic_load_explicit(&ctx->stream_end_begun, memory_order_acquire))
		rp->premature = any_stop_copy_data(ctx) ? "the end of the stream was sent"
							: "any stop-copy data was sent";
	return rp->result.exit_code || rp->premature ? judge_result(rp, ctx) : 0;
}

/* One reply record, read by deadline_ns; 1 when one was handled. */
static int read_one(struct return_path *rp, struct save_ctx *ctx, uint64_t deadline_ns)
{
	const struct migstream_reader_opts ropts = { .caller_knows = migstream_reply_type_known };
	struct migstream_record rec;
	int ret;

	if (!rp->reader) {
		ret = migstream_reader_new_cb(&rp->reader, read_reply, rp, "return path", &ropts);
		if (ret < 0)
			return rp_fail(rp, ret, "return fd %d: %s", rp->fd, strerror(-ret));
	}
	rp->deadline_ns = deadline_ns;
	ret = migstream_read_record(rp->reader, &rec);
	if (ret < 0)
		return reader_failed(rp, ret);
	if (ret == 0) {
		rp->reply_ended = rp->have_result;
		return rp->have_result ? 0
				       : rp_fail(rp, -EPIPE,
						 "the return channel ended without a load result");
	}
	switch (rec.type) {
	case MIGSTREAM_REC_SWITCHOVER_ACK:
		ret = take_ack(rp, ctx, &rec);
		break;
	case MIGSTREAM_REC_LOAD_RESULT:
		ret = take_result(rp, ctx, &rec);
		break;
	case MIGSTREAM_REC_TIME_ECHO:
		ret = take_echo(rp, ctx, &rec);
		break;
	case MIGSTREAM_REC_LOAD_EVENT:
		ret = take_load_event(rp, ctx, &rec);
		break;
	case MIGSTREAM_REC_STREAM_HEADER:
		ret = 0;
		break;
	case MIGSTREAM_REC_STREAM_END:
		rp->reply_ended = rp->have_result;
		ret = rp->have_result ? 0
				      : rp_fail(rp, -EPIPE,
						"the return channel ended without a load result");
		break;
	default:
		/* Forward-stream records have no place here; unknown ancillary ones are skipped. */
		ret = rec.flags & MIGSTREAM_RF_ANCILLARY
			      ? 0
			      : rp_fail(rp, -EBADMSG,
					"bad reply from the destination: record %u: unexpected %s",
					rec.seq, migstream_record_type_name(rec.type));
	}
	return ret < 0 ? ret : 1;
}

int return_path_poll(struct return_path *rp, struct save_ctx *ctx, uint64_t deadline_ns)
{
	int ret;

	rp->awaited = "complete reply";
	while (!rp->have_result && (ret = wait_readable(rp, 0)) != 0) {
		if (ret < 0)
			return rp_fail(rp, ret, "return fd %d: %s", rp->fd, strerror(-ret));
		ret = read_one(rp, ctx, deadline_ns);
		if (ret < 0)
			return ret;
	}
	return 0;
}

bool return_path_all_acked(const struct save_ctx *ctx)
{
	for (unsigned int i = 0; i < ctx->ndevs; i++) {
		const struct save_device *sd = &ctx->devs[i];

		if (sd->precopy && (!sd->marked || sd->acked < sd->generation))
			return false;
	}
	return true;
}

static const struct save_device *first_unacked(const struct save_ctx *ctx)
{
	for (unsigned int i = 0; i < ctx->ndevs; i++)
		if (ctx->devs[i].precopy && ctx->devs[i].acked < ctx->devs[i].generation)
			return &ctx->devs[i];
	return NULL;
}

int return_path_ack_timeout(struct return_path *rp, const struct save_ctx *ctx)
{
	const struct save_device *sd = first_unacked(ctx);

	return rp_fail(
		rp, -ETIMEDOUT, "no switchover-ack for %s (initial section %u) within %.3f s",
		sd ? sd->dev->name : "?", sd ? sd->generation : 0, (double)rp->timeout_ns / 1e9);
}

int return_path_wait_acks(struct return_path *rp, struct save_ctx *ctx)
{
	uint64_t deadline = return_path_deadline(rp);
	int ret;

	rp->awaited = "switchover-ack";
	while (!return_path_all_acked(ctx)) {
		if (vmt_stop_requested(NULL))
			return rp_fail(rp, -EINTR,
				       "interrupted while waiting for the switchover-ack");
		ret = wait_readable(rp, deadline);
		if (ret < 0)
			return rp_fail(rp, ret, "return fd %d: %s", rp->fd, strerror(-ret));
		if (ret > 0)
			ret = read_one(rp, ctx, deadline);
		if (ret == -ETIMEDOUT ||
		    (ret >= 0 && vmt_monotonic_ns() >= deadline && !return_path_all_acked(ctx)))
			return return_path_ack_timeout(rp, ctx);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/*
 * The loader ends its reply with STREAM_END right after a successful
 * result: read it before the fd is closed, so that the loader's last write
 * does not fail with EPIPE. A loader that got EPIPE there could not know
 * whether its result arrived and would reset a device this save calls
 * migrated. (A failed load has reset its targets already.) What follows
 * the result is not judged, the verdict is the result's: an error or the
 * deadline only ends the wait, and the message it leaves is never read.
 */
static void read_reply_end(struct return_path *rp, struct save_ctx *ctx, uint64_t deadline)
{
	while (!rp->reply_ended && !vmt_stop_requested(NULL) && read_one(rp, ctx, deadline) > 0)
		;
}

int return_path_wait_result(struct return_path *rp, struct save_ctx *ctx)
{
	uint64_t deadline = return_path_deadline(rp);
	int ret;

	rp->awaited = "load result";
	while (!rp->have_result) {
		if (vmt_stop_requested(NULL))
			return rp_fail(rp, -EINTR, "interrupted while waiting for the load result");
		ret = read_one(rp, ctx, deadline);
		if (ret < 0)
			return ret;
	}
	ret = judge_result(rp, ctx);
	if (ret == 0)
		read_reply_end(rp, ctx, deadline);
	return ret;
}
