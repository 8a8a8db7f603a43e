// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * lib/stream/chunk-queue: producers, workers and channel writers on threads, as
 * vfio-mig-save runs them: every "any channel" item written once, every
 * "every channel" item on all channels, a device's items in order within
 * each channel, the cap on buffers held, and cancel ending every wait.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <unistd.h>

#include "stream/chunk-queue.h"
#include "unit.h"

#define DEVICES 4
#define CHUNKS 400
#define CHANNELS 3
#define BUF_SIZE 64

struct test_item {
	struct chunk_item item; /* first: the queue hands this back */
	unsigned int device;
	unsigned int index; /* per device; every-channel items: UINT32_MAX */
	bool worked;
};

struct run {
	struct chunk_queue *q;
	pthread_mutex_t lock;
	unsigned int released, written_any, written_every, out_of_order, unworked, bad_buf;
	unsigned int next_device;
};

static void on_release(struct chunk_item *item, unsigned int written, void *ctx)
{
	struct run *r = ctx;
	struct test_item *t = (struct test_item *)item;

	pthread_mutex_lock(&r->lock);
	r->released++;
	if (item->scope == CHUNK_EVERY_CHANNEL)
		r->written_every += written == CHANNELS;
	else
		r->written_any += written == 1;
	pthread_mutex_unlock(&r->lock);
	free(t);
}

/* A device: chunks in its buffers, and an every-channel item now and then (as DEVICE_END). */
static void *produce(void *arg)
{
	struct run *r = arg;
	unsigned int dev;

	pthread_mutex_lock(&r->lock);
	dev = r->next_device++;
	pthread_mutex_unlock(&r->lock);
	for (unsigned int i = 0; i < CHUNKS; i++) {
		struct test_item *t = calloc(1, sizeof(*t));

		if (chunk_queue_get_buf(r->q, &t->item.buf) < 0)
			return NULL;
		memset(t->item.buf->data, (int)(dev * 7 + i), BUF_SIZE);
		t->device = dev;
		t->index = i;
		t->item.scope = CHUNK_ANY_CHANNEL;
		t->item.needs_work = i % 3 == 0;
		chunk_queue_push(r->q, &t->item);
		if (i % 50 == 49) {
			t = calloc(1, sizeof(*t));
			t->device = dev;
			t->index = UINT32_MAX;
			t->item.scope = CHUNK_EVERY_CHANNEL;
			chunk_queue_push(r->q, &t->item);
		}
	}
	return NULL;
}

static void *work(void *arg)
{
	struct run *r = arg;
	struct chunk_item *item;

	while ((item = chunk_queue_next_work(r->q))) {
		usleep(10);
		((struct test_item *)item)->worked = true;
		chunk_queue_work_done(r->q, item);
	}
	return NULL;
}

struct channel {
	struct run *r;
	unsigned int ch;
};

static void *write_channel(void *arg)
{
	struct channel *c = arg;
	struct run *r = c->r;
	long last[DEVICES];
	struct chunk_item *item;

	for (unsigned int d = 0; d < DEVICES; d++)
		last[d] = -1;
	while ((item = chunk_queue_next(r->q, c->ch))) {
		struct test_item *t = (struct test_item *)item;
		bool bad = false;

		if (t->index != UINT32_MAX) {
			bad = (long)t->index <= last[t->device];
			last[t->device] = t->index;
		}
		pthread_mutex_lock(&r->lock);
		r->out_of_order += bad;
		r->unworked += item->needs_work && !t->worked;
		r->bad_buf += item->buf &&
			      item->buf->data[BUF_SIZE - 1] != (uint8_t)(t->device * 7 + t->index);
		pthread_mutex_unlock(&r->lock);
		chunk_queue_done(r->q, c->ch, item, true);
	}
	return NULL;
}

static void test_order_and_coverage(void)
{
	struct run r = { .lock = PTHREAD_MUTEX_INITIALIZER };
	struct chunk_queue_opts opts = {
		.channels = CHANNELS,
		.buf_size = BUF_SIZE,
		.cap = 8 * BUF_SIZE,
		.release = on_release,
		.release_ctx = &r,
	};
	struct channel ch[CHANNELS];
	pthread_t prod[DEVICES], chan[CHANNELS], worker[2];
	unsigned int every = DEVICES * (CHUNKS / 50);

	CHECK_EQ(chunk_queue_new(&r.q, &opts), 0);
	CHECK_EQ(chunk_queue_buffers(r.q), 8);
	for (unsigned int i = 0; i < CHANNELS; i++) {
		ch[i] = (struct channel){ .r = &r, .ch = i };
		pthread_create(&chan[i], NULL, write_channel, &ch[i]);
	}
	for (unsigned int i = 0; i < 2; i++)
		pthread_create(&worker[i], NULL, work, &r);
	for (unsigned int i = 0; i < DEVICES; i++)
		pthread_create(&prod[i], NULL, produce, &r);
	for (unsigned int i = 0; i < DEVICES; i++)
		pthread_join(prod[i], NULL);
	chunk_queue_close(r.q);
	for (unsigned int i = 0; i < 2; i++)
		pthread_join(worker[i], NULL);
	for (unsigned int i = 0; i < CHANNELS; i++)
		pthread_join(chan[i], NULL);
	CHECK_EQ(r.out_of_order, 0);
	CHECK_EQ(r.unworked, 0);
	CHECK_EQ(r.bad_buf, 0);
	CHECK_EQ(r.written_any, DEVICES * CHUNKS);
	CHECK_EQ(r.written_every, every);
	CHECK_EQ(r.released, DEVICES * CHUNKS + every);
	/* The cap held: never more than its 8 buffers out. */
	CHECK(chunk_queue_peak(r.q) <= 8 * BUF_SIZE);
	CHECK(chunk_queue_peak(r.q) >= BUF_SIZE);
	chunk_queue_free(r.q);
}

struct waiter {
	struct chunk_queue *q;
	unsigned int ch;
	int buf_ret;
	bool next_null, work_null;
	struct chunk_item *taken; /* read after the join */
	atomic_bool returned;	  /* looked at while the thread runs */
};

static void *wait_for_buf(void *arg)
{
	struct waiter *w = arg;
	struct chunk_buf *buf;

	w->buf_ret = chunk_queue_get_buf(w->q, &buf);
	return NULL;
}

static void *wait_for_item(void *arg)
{
	struct waiter *w = arg;

	w->taken = chunk_queue_next(w->q, w->ch);
	w->next_null = w->taken == NULL;
	atomic_store(&w->returned, true);
	return NULL;
}

static void *wait_for_work(void *arg)
{
	struct waiter *w = arg;

	w->work_null = chunk_queue_next_work(w->q) == NULL;
	return NULL;
}

/*
 * The cap stops a producer with no writer to drain the queue; cancel frees
 * it, and a channel and a worker waiting on an empty log. Without cancel
 * the joins below would hang (the test would time out, not pass).
 */
static void test_cap_and_cancel(void)
{
	struct run r = { .lock = PTHREAD_MUTEX_INITIALIZER };
	struct chunk_queue_opts opts = {
		.channels = 2,
		.buf_size = BUF_SIZE,
		.cap = 2 * BUF_SIZE + BUF_SIZE / 2, /* two whole buffers */
		.release = on_release,
		.release_ctx = &r,
	};
	struct waiter w = { .buf_ret = 1, .ch = 1 };
	struct chunk_buf *b1, *b2;
	struct test_item *t = calloc(1, sizeof(*t));
	pthread_t tb, ti, tw;

	CHECK_EQ(chunk_queue_new(&w.q, &opts), 0);
	CHECK_EQ(chunk_queue_get_buf(w.q, &b1), 0);
	CHECK_EQ(chunk_queue_get_buf(w.q, &b2), 0);
	pthread_create(&tb, NULL, wait_for_buf, &w);
	pthread_create(&tw, NULL, wait_for_work, &w);
	/* Channel 0 takes the item; channel 1 will wait for the next. */
	t->item.scope = CHUNK_ANY_CHANNEL;
	t->item.buf = b1;
	CHECK_EQ(chunk_queue_push(w.q, &t->item), 0);
	CHECK(chunk_queue_next(w.q, 0) == &t->item);
	pthread_create(&ti, NULL, wait_for_item, &w);
	usleep(100 * 1000);
	CHECK_EQ(w.buf_ret, 1); /* still waiting: the cap */
	CHECK(!chunk_queue_cancelled(w.q));
	chunk_queue_cancel(w.q);
	pthread_join(tb, NULL);
	pthread_join(ti, NULL);
	pthread_join(tw, NULL);
	CHECK_EQ(w.buf_ret, -ECANCELED);
	CHECK(w.next_null);
	CHECK(w.work_null);
	CHECK(chunk_queue_cancelled(w.q));
	/* After the cancel: no buffer, no push (released at once). */
	CHECK_EQ(chunk_queue_get_buf(w.q, &b1), -ECANCELED);
	t = calloc(1, sizeof(*t));
	t->item.scope = CHUNK_EVERY_CHANNEL;
	CHECK_EQ(chunk_queue_push(w.q, &t->item), -ECANCELED);
	CHECK_EQ(r.released, 1);
	/* The item channel 0 holds is released by free, as not written. */
	chunk_queue_put_buf(w.q, b2);
	chunk_queue_free(w.q);
	CHECK_EQ(r.released, 2);
	CHECK_EQ(r.written_any, 0);
}

/* An item that needs work is not handed to a channel before the work is done. */
static void test_channel_waits_for_work(void)
{
	struct run r = { .lock = PTHREAD_MUTEX_INITIALIZER };
	struct chunk_queue_opts opts = {
		.channels = 1,
		.buf_size = BUF_SIZE,
		.cap = BUF_SIZE,
		.release = on_release,
		.release_ctx = &r,
	};
	struct waiter w = { 0 };
	struct test_item *t = calloc(1, sizeof(*t));
	struct chunk_item *got;
	pthread_t ti;

	CHECK_EQ(chunk_queue_new(&w.q, &opts), 0);
	t->item.scope = CHUNK_ANY_CHANNEL;
	t->item.needs_work = true;
	CHECK_EQ(chunk_queue_push(w.q, &t->item), 0);
	chunk_queue_close(w.q);
	pthread_create(&ti, NULL, wait_for_item, &w);
	usleep(50 * 1000);
	got = chunk_queue_next_work(w.q);
	CHECK(got == &t->item);
	CHECK(chunk_queue_next_work(w.q) == NULL); /* closed, none left */
	usleep(50 * 1000);
	CHECK(!atomic_load(&w.returned)); /* the channel waits for the work */
	chunk_queue_work_done(w.q, got);
	pthread_join(ti, NULL);
	CHECK(w.taken == &t->item);
	CHECK(chunk_queue_next(w.q, 0) == NULL); /* closed, all taken */
	chunk_queue_done(w.q, 0, w.taken, true);
	CHECK_EQ(r.written_any, 1);
	chunk_queue_free(w.q);
	CHECK_EQ(r.released, 1);
}

struct stalled {
	struct run *r;
	atomic_uint pushed;
};

static void *push_ten(void *arg)
{
	struct stalled *st = arg;

	for (unsigned int i = 0; i < 10; i++) {
		struct test_item *t = calloc(1, sizeof(*t));

		t->item.scope = CHUNK_ANY_CHANNEL;
		if (chunk_queue_get_buf(st->r->q, &t->item.buf) < 0) {
			free(t);
			break;
		}
		chunk_queue_push(st->r->q, &t->item);
		atomic_fetch_add(&st->pushed, 1);
	}
	return NULL;
}

static void *take_all_on_channel_0(void *arg)
{
	struct run *r = arg;
	struct chunk_item *item;

	while ((item = chunk_queue_next(r->q, 0)))
		chunk_queue_done(r->q, 0, item, true);
	return NULL;
}

/*
 * Channel 1 never takes anything (a stalled output): channel 0 writes
 * every item, and the buffers come back to the pool as it writes them, so
 * the producer is not held by the stalled channel (2 buffers, 10 items).
 */
static void test_stalled_channel_holds_no_buffers(void)
{
	struct run r = { .lock = PTHREAD_MUTEX_INITIALIZER };
	struct chunk_queue_opts opts = {
		.channels = 2,
		.buf_size = BUF_SIZE,
		.cap = 2 * BUF_SIZE,
		.release = on_release,
		.release_ctx = &r,
	};
	struct stalled st = { .r = &r };
	pthread_t producer, ch0;

	CHECK_EQ(chunk_queue_new(&r.q, &opts), 0);
	pthread_create(&ch0, NULL, take_all_on_channel_0, &r);
	pthread_create(&producer, NULL, push_ten, &st);
	for (int i = 0; i < 500 && atomic_load(&st.pushed) < 10; i++)
		usleep(10 * 1000);
	CHECK_EQ(atomic_load(&st.pushed), 10);
	chunk_queue_cancel(r.q); /* ends the waits, also when the check above failed */
	pthread_join(producer, NULL);
	pthread_join(ch0, NULL);
	chunk_queue_free(r.q);
	CHECK_EQ(r.released, atomic_load(&st.pushed));
}

int main(void)
{
	RUN(test_order_and_coverage);
	RUN(test_cap_and_cancel);
	RUN(test_channel_waits_for_work);
	RUN(test_stalled_channel_holds_no_buffers);
	return unit_done();
}
