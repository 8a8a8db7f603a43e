// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The return path of vfio-mig-load; see reply.h. The replies form a
 * migstream of their own (man/migstream.5, RETURN PATH), written with the
 * library's stream writer.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bridge/reply-events.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "stream/reply.h"
#include "stream/writer.h"
#include "vfio/mig.h"
#include "reply.h"

struct pending_ack {
	uint32_t generation; /* 0: none due */
	uint64_t offset;     /* ack once the target wrote this many bytes */
};

/*
 * The loader's event lines waiting to go back (LOAD_EVENT), queued by the
 * events' tap from any thread and sent by the main thread once the save
 * asked (its first TIME_PROBE). Detail lines are left out past this many
 * waiting; the others are few and always kept.
 */
#define EVENTS_BACK_DETAIL_MAX 256

struct event_back {
	struct event_back *next;
	size_t len;
	char text[];
};

struct load_reply {
	pthread_mutex_t lock; /* the writer and pending[]: writers and main thread */
	struct migstream_writer *writer;
	struct pending_ack *pending; /* per target, same order */
	unsigned int count;
	bool result_sent;
	struct vmt_events *events;   /* --events, or NULL */
	int64_t test_clock_shift_ns; /* VMT_TEST_CLOCK_OFFSET_NS: see test_clock_shift */
	bool test_old_loader;	     /* VMT_TEST_IGNORE_TIME_PROBE: see test_clock_shift */
	pthread_mutex_t back_lock;   /* the queue below: the events' tap */
	struct event_back *back_head, **back_tail;
	size_t back_count;
	bool events_wanted; /* the save sent a TIME_PROBE */
};

/*
 * Test hooks, not an interface: VMT_TEST_CLOCK_OFFSET_NS (signed ns) shifts
 * the loader's clock in its TIME_ECHO records, so that the tests on one
 * host can check the saver's estimate of an offset they know;
 * VMT_TEST_IGNORE_TIME_PROBE set makes the loader skip TIME_PROBE as a
 * loader that predates it does (an unknown ancillary record).
 */
static int64_t test_clock_shift(void)
{
	const char *s = getenv("VMT_TEST_CLOCK_OFFSET_NS");

	return s ? strtoll(s, NULL, 10) : 0;
}

static uint64_t loader_clock_ns(const struct load_reply *rp)
{
	return vmt_realtime_ns() + (uint64_t)rp->test_clock_shift_ns;
}

/* The events' tap: a copy of each line, for the save (under the events' lock). */
static void queue_event_back(void *arg, enum vmt_event_kind kind, const char *text, size_t len)
{
	struct load_reply *rp = arg;
	struct event_back *e;

	/* Without its newline; a line too long for the record stays in our file only. */
	if (len && text[len - 1] == '\n')
		len--;
	if (len > MIGSTREAM_LOAD_EVENT_MAX_LEN)
		return;
	pthread_mutex_lock(&rp->back_lock);
	if (vmt_event_kind_is_detail(kind) && rp->back_count >= EVENTS_BACK_DETAIL_MAX)
		e = NULL;
	else
		e = malloc(sizeof(*e) + len);
	if (e) {
		memcpy(e->text, text, len);
		e->len = len;
		e->next = NULL;
		*rp->back_tail = e;
		rp->back_tail = &e->next;
		rp->back_count++;
	}
	pthread_mutex_unlock(&rp->back_lock);
}

static struct event_back *take_events_back(struct load_reply *rp)
{
	struct event_back *list;

	pthread_mutex_lock(&rp->back_lock);
	list = rp->back_head;
	rp->back_head = NULL;
	rp->back_tail = &rp->back_head;
	rp->back_count = 0;
	pthread_mutex_unlock(&rp->back_lock);
	return list;
}

static void free_events_back(struct event_back *e)
{
	while (e) {
		struct event_back *next = e->next;

		free(e);
		e = next;
	}
}

/* With rp->lock held: every line queued so far, once the save asked for them. */
static int send_events_back(struct load_reply *rp)
{
	struct event_back *list, *e;
	int ret = 0;

	if (!rp->events_wanted || rp->result_sent)
		return 0;
	list = take_events_back(rp);
	for (e = list; e && ret == 0; e = e->next)
		ret = migstream_write_record(rp->writer, MIGSTREAM_REC_LOAD_EVENT,
					     MIGSTREAM_RF_ANCILLARY, e->text, (uint32_t)e->len);
	free_events_back(list);
	return ret;
}

void load_reply_record_to(struct load_reply *rp, struct vmt_events *ev)
{
	if (!rp)
		return;
	rp->events = ev;
	vmt_events_set_tap(ev, queue_event_back, rp);
}

int load_reply_open(struct load_reply **out, int fd, unsigned int target_count)
{
	const struct migstream_writer_opts wopts = { .producer = "vfio-mig-load" };
	struct load_reply *rp = calloc(1, sizeof(*rp));
	int ret;

	if (!rp)
		return -ENOMEM;
	rp->pending = calloc(target_count ? target_count : 1, sizeof(*rp->pending));
	rp->count = target_count;
	if (!rp->pending) {
		free(rp);
		return -ENOMEM;
	}
	rp->test_clock_shift_ns = test_clock_shift();
	rp->test_old_loader = getenv("VMT_TEST_IGNORE_TIME_PROBE") != NULL;
	pthread_mutex_init(&rp->lock, NULL);
	pthread_mutex_init(&rp->back_lock, NULL);
	rp->back_tail = &rp->back_head;
	ret = migstream_writer_new(&rp->writer, fd, &wopts);
	if (ret == 0)
		ret = migstream_writer_start(rp->writer);
	if (ret < 0) {
		load_reply_free(rp);
		return ret;
	}
	*out = rp;
	return 0;
}

void load_reply_free(struct load_reply *rp)
{
	if (!rp)
		return;
	migstream_writer_free(rp->writer);
	free_events_back(take_events_back(rp));
	pthread_mutex_destroy(&rp->back_lock);
	pthread_mutex_destroy(&rp->lock);
	free(rp->pending);
	free(rp);
}

/* With rp->lock held. */
static int send_ack(struct load_reply *rp, const struct load_target *t, uint32_t generation)
{
	struct migstream_switchover_ack ack = {
		.device = t->stream_index,
		.generation = generation,
		.bytes = t->written,
		.time_ns = vmt_realtime_ns(),
	};
	uint8_t buf[MIGSTREAM_SWITCHOVER_ACK_LEN];
	int ret;

	migstream_encode_switchover_ack(&ack, buf);
	vmt_dbg("%s: switchover-ack for stream device %u (initial section %u, %llu bytes loaded)",
		t->spec, t->stream_index, generation, (unsigned long long)ack.bytes);
	ret = migstream_write_record(rp->writer, MIGSTREAM_REC_SWITCHOVER_ACK, 0, buf, sizeof(buf));
	if (ret == 0) {
		t->summary->ack_ns = vmt_monotonic_ns();
		t->summary->acks++;
		vmt_events_ack(rp->events, true, t->spec, &ack);
	}
	return ret;
}

/* With rp->lock held: targets[i]'s ack, if its device has taken the bytes. */
static int send_if_due(struct load_reply *rp, struct load_target *targets, unsigned int i)
{
	struct pending_ack *p = &rp->pending[i];
	int ret;

	if (!p->generation || targets[i].written < p->offset)
		return 0;
	ret = send_ack(rp, &targets[i], p->generation);
	if (ret == 0)
		p->generation = 0;
	return ret;
}

int load_reply_written(struct load_reply *rp, struct load_target *targets, unsigned int i)
{
	int ret;

	if (!rp || i >= rp->count)
		return 0;
	pthread_mutex_lock(&rp->lock);
	ret = send_if_due(rp, targets, i);
	pthread_mutex_unlock(&rp->lock);
	return ret;
}

int load_reply_marker(struct load_reply *rp, const struct migstream_record *rec,
		      struct load_target *targets, unsigned int count)
{
	struct migstream_init_data_sent m;

	/* Without a return path the marker is an ancillary record like any other. */
	if (!rp)
		return 0;
	if (migstream_decode_init_data_sent(rec, &m) < 0)
		return -EBADMSG;
	for (unsigned int i = 0; i < count && i < rp->count; i++) {
		int ret;

		if (targets[i].stream_index != m.device)
			continue;
		if (!targets[i].described || targets[i].end_seen)
			return -EBADMSG;
		pthread_mutex_lock(&rp->lock);
		/* A later section (REINIT) supersedes an ack not sent yet. */
		rp->pending[i] =
			(struct pending_ack){ .generation = m.generation, .offset = m.offset };
		/* The device may have taken the bytes already: its writer will not look again. */
		ret = send_if_due(rp, targets, i);
		pthread_mutex_unlock(&rp->lock);
		return ret;
	}
	return -EBADMSG;
}

int load_reply_time_probe(struct load_reply *rp, const struct migstream_record *rec)
{
	struct migstream_time_echo echo;
	uint8_t buf[MIGSTREAM_TIME_ECHO_LEN];
	struct migstream_time_probe probe;
	int ret;

	/* Without a return path there is no one to answer. */
	if (!rp || rp->test_old_loader)
		return 0;
	echo.t2_ns = loader_clock_ns(rp);
	if (migstream_decode_time_probe(rec, &probe) < 0)
		return -EBADMSG;
	echo.probe = probe.probe;
	echo.t1_ns = probe.t1_ns;
	pthread_mutex_lock(&rp->lock);
	/* After the result the reply stream is closed: a late probe goes unanswered. */
	ret = 0;
	if (!rp->result_sent) {
		echo.t3_ns = loader_clock_ns(rp);
		migstream_encode_time_echo(&echo, buf);
		ret = migstream_write_record(rp->writer, MIGSTREAM_REC_TIME_ECHO,
					     MIGSTREAM_RF_ANCILLARY, buf, sizeof(buf));
		/* A probe says the save keeps events: ours go back from now on. */
		rp->events_wanted = true;
		if (ret == 0)
			ret = send_events_back(rp);
	}
	pthread_mutex_unlock(&rp->lock);
	return ret;
}

static struct migstream_result_device result_entry(const struct load_target *t, bool ok,
						   uint32_t wanted)
{
	struct migstream_result_device e = {
		.device = t->stream_index,
		.state = t->dev ? t->dev->state : MIGSTREAM_STATE_UNKNOWN,
	};

	if (t->ended && !(t->dev && t->dev->resets))
		e.flags |= MIGSTREAM_RESULT_LOADED;
	if (ok && t->dev && t->dev->state == wanted)
		e.flags |= MIGSTREAM_RESULT_IN_STATE;
	if (t->dev && t->dev->resets)
		e.flags |= MIGSTREAM_RESULT_RESET;
	if (e.state == VMT_STATE_UNKNOWN)
		e.state = MIGSTREAM_STATE_UNKNOWN;
	return e;
}

int load_reply_result(struct load_reply *rp, int exit_code, const char *message,
		      const struct load_target *targets, unsigned int count, uint32_t wanted_state)
{
	static struct migstream_load_result res;
	static uint8_t buf[MIGSTREAM_LOAD_RESULT_MAX_LEN];
	int len, ret;

	if (!rp)
		return 0;
	pthread_mutex_lock(&rp->lock);
	if (rp->result_sent) {
		pthread_mutex_unlock(&rp->lock);
		return 0;
	}
	/* The lines so far: after the result the reply stream ends. */
	send_events_back(rp);
	vmt_events_set_tap(rp->events, NULL, NULL);
	rp->result_sent = true;
	memset(&res, 0, sizeof(res));
	res.exit_code = (uint32_t)exit_code;
	res.time_ns = vmt_realtime_ns();
	for (unsigned int i = 0; i < count && res.device_count < MIGSTREAM_MAX_DEVICES; i++)
		res.devices[res.device_count++] =
			result_entry(&targets[i], exit_code == 0, wanted_state);
	/* A message longer than the record allows is cut. */
	snprintf(res.message, sizeof(res.message), "%s", message ? message : "");
	len = migstream_encode_load_result(&res, buf, sizeof(buf));
	ret = len;
	if (len >= 0)
		ret = migstream_write_record(rp->writer, MIGSTREAM_REC_LOAD_RESULT, 0, buf,
					     (uint32_t)len);
	if (ret == 0)
		vmt_events_load_result(rp->events, true, &res);
	if (ret == 0)
		ret = migstream_writer_finish(rp->writer);
	pthread_mutex_unlock(&rp->lock);
	return ret;
}
