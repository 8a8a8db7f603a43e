// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * lib/stream/bounded-queue: order, the byte bound (and the one item larger
 * than the bound), the peak, and every way a wait ends (close, stop, the
 * cancel flag). Waits that should end and do not hang the test, which
 * then times out instead of passing.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <unistd.h>

#include "common/c.h"
#include "stream/bounded-queue.h"
#include "unit.h"

struct item {
	struct bqueue_node node;
	int id;
};

static struct item *item_of(struct bqueue_node *n)
{
	return n ? container_of(n, struct item, node) : NULL;
}

static void test_order_and_peak(void)
{
	struct bqueue q;
	struct item it[3] = { { .node.size = 10, .id = 0 },
			      { .node.size = 20, .id = 1 },
			      { .node.size = 30, .id = 2 } };

	bqueue_init(&q, 100, NULL);
	CHECK_EQ(bqueue_push(&q, &it[0].node), 10);
	CHECK_EQ(bqueue_push(&q, &it[1].node), 30);
	CHECK(item_of(bqueue_pop(&q)) == &it[0]);
	CHECK_EQ(bqueue_push(&q, &it[2].node), 50);
	CHECK(item_of(bqueue_pop(&q)) == &it[1]);
	CHECK(item_of(bqueue_pop(&q)) == &it[2]);
	CHECK_EQ(bqueue_peak(&q), 50);
	bqueue_close(&q);
	CHECK(bqueue_pop(&q) == NULL); /* closed and empty: no wait */
	bqueue_destroy(&q);
}

struct pusher {
	struct bqueue *q;
	struct item *it;
	atomic_int done; /* 0 while pushing, then 1 + the result */
};

static void *push_one(void *arg)
{
	struct pusher *p = arg;
	int64_t rc = bqueue_push(p->q, &p->it->node);

	atomic_store(&p->done, rc < 0 ? (int)rc : 1);
	return NULL;
}

/* A full queue holds the producer until the consumer takes an item; an item over the bound passes an empty queue. */
static void test_bound(void)
{
	struct bqueue q;
	struct item a = { .node.size = 40 }, b = { .node.size = 40 }, big = { .node.size = 500 };
	struct pusher p = { .q = &q, .it = &b };
	pthread_t t;

	bqueue_init(&q, 50, NULL);
	CHECK_EQ(bqueue_push(&q, &a.node), 40);
	pthread_create(&t, NULL, push_one, &p);
	usleep(100 * 1000);
	CHECK_EQ(atomic_load(&p.done), 0); /* 40 + 40 > 50: it waits */
	CHECK(item_of(bqueue_pop(&q)) == &a);
	pthread_join(t, NULL);
	CHECK_EQ(atomic_load(&p.done), 1);
	CHECK(item_of(bqueue_pop(&q)) == &b);
	CHECK_EQ(bqueue_push(&q, &big.node), 500);
	CHECK(item_of(bqueue_pop(&q)) == &big);
	CHECK_EQ(bqueue_peak(&q), 500);
	bqueue_destroy(&q);
}

/* A stopped consumer fails the producer waiting for room, and every later push. */
static void test_stop(void)
{
	struct bqueue q;
	struct item a = { .node.size = 40 }, b = { .node.size = 40 };
	struct pusher p = { .q = &q, .it = &b };
	pthread_t t;

	bqueue_init(&q, 50, NULL);
	CHECK_EQ(bqueue_push(&q, &a.node), 40);
	pthread_create(&t, NULL, push_one, &p);
	usleep(50 * 1000);
	CHECK(!bqueue_stopped(&q));
	bqueue_stop(&q);
	pthread_join(t, NULL);
	CHECK_EQ(atomic_load(&p.done), -ECANCELED);
	CHECK(bqueue_stopped(&q));
	CHECK_EQ(bqueue_push(&q, &b.node), -ECANCELED);
	CHECK(item_of(bqueue_drain(&q)) == &a); /* what was queued is the caller's to free */
	bqueue_destroy(&q);
}

struct popper {
	struct bqueue *q;
	atomic_bool returned;
	struct bqueue_node *got;
};

static void *pop_one(void *arg)
{
	struct popper *p = arg;

	p->got = bqueue_pop(p->q);
	atomic_store(&p->returned, true);
	return NULL;
}

/* The cancel flag and a wake end a consumer's wait, and a queued item is not handed out any more. */
static void test_cancel(void)
{
	struct bqueue q;
	atomic_bool cancel = false;
	struct item a = { .node.size = 1 };
	struct popper p = { .q = &q };
	pthread_t t;

	bqueue_init(&q, 50, &cancel);
	pthread_create(&t, NULL, pop_one, &p);
	usleep(50 * 1000);
	CHECK(!atomic_load(&p.returned));
	atomic_store(&cancel, true);
	bqueue_wake(&q);
	pthread_join(t, NULL);
	CHECK(p.got == NULL);
	CHECK_EQ(bqueue_push(&q, &a.node), -ECANCELED);
	bqueue_destroy(&q);
}

int main(void)
{
	RUN(test_order_and_peak);
	RUN(test_bound);
	RUN(test_stop);
	RUN(test_cancel);
	return unit_done();
}
