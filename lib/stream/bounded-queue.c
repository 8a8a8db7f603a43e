// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The byte-bounded FIFO; see bounded-queue.h. One mutex and one condition:
 * the producer waits for room, the consumer for an item, and both for a
 * cancel, so a broadcast on every change is simpler than two conditions
 * and costs nothing at one waiter per side.
 */
#include <errno.h>

#include "stream/bounded-queue.h"

void bqueue_init(struct bqueue *q, uint64_t limit, const atomic_bool *cancel)
{
	*q = (struct bqueue){ .limit = limit, .cancel = cancel };
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->changed, NULL);
}

void bqueue_destroy(struct bqueue *q)
{
	pthread_cond_destroy(&q->changed);
	pthread_mutex_destroy(&q->lock);
}

static bool cancelled(const struct bqueue *q)
{
	return q->cancel && atomic_load(q->cancel);
}

int64_t bqueue_push(struct bqueue *q, struct bqueue_node *n)
{
	int64_t ret;

	n->next = NULL;
	pthread_mutex_lock(&q->lock);
	while (!cancelled(q) && !q->stopped && q->head && q->bytes + n->size > q->limit)
		pthread_cond_wait(&q->changed, &q->lock);
	if (cancelled(q) || q->stopped) {
		ret = -ECANCELED;
	} else {
		if (q->tail)
			q->tail->next = n;
		else
			q->head = n;
		q->tail = n;
		q->bytes += n->size;
		if (q->bytes > q->peak)
			q->peak = q->bytes;
		ret = (int64_t)q->bytes;
		pthread_cond_broadcast(&q->changed);
	}
	pthread_mutex_unlock(&q->lock);
	return ret;
}

struct bqueue_node *bqueue_pop(struct bqueue *q)
{
	struct bqueue_node *n = NULL;

	pthread_mutex_lock(&q->lock);
	while (!cancelled(q) && !q->head && !q->closed)
		pthread_cond_wait(&q->changed, &q->lock);
	if (!cancelled(q) && q->head) {
		n = q->head;
		q->head = n->next;
		if (!q->head)
			q->tail = NULL;
		/*
		 * Room is made when the node is taken, not when the consumer is
		 * done with it: the one in hand is bounded by the item size anyway.
		 */
		q->bytes -= n->size;
		n->next = NULL;
		pthread_cond_broadcast(&q->changed);
	}
	pthread_mutex_unlock(&q->lock);
	return n;
}

static void set_flag(struct bqueue *q, bool *flag)
{
	pthread_mutex_lock(&q->lock);
	*flag = true;
	pthread_cond_broadcast(&q->changed);
	pthread_mutex_unlock(&q->lock);
}

void bqueue_close(struct bqueue *q)
{
	set_flag(q, &q->closed);
}

void bqueue_stop(struct bqueue *q)
{
	set_flag(q, &q->stopped);
}

bool bqueue_stopped(struct bqueue *q)
{
	bool stopped;

	pthread_mutex_lock(&q->lock);
	stopped = q->stopped;
	pthread_mutex_unlock(&q->lock);
	return stopped;
}

void bqueue_wake(struct bqueue *q)
{
	pthread_mutex_lock(&q->lock);
	pthread_cond_broadcast(&q->changed);
	pthread_mutex_unlock(&q->lock);
}

struct bqueue_node *bqueue_drain(struct bqueue *q)
{
	struct bqueue_node *n = q->head;

	q->head = q->tail = NULL;
	q->bytes = 0;
	return n;
}

uint64_t bqueue_peak(struct bqueue *q)
{
	uint64_t peak;

	pthread_mutex_lock(&q->lock);
	peak = q->peak;
	pthread_mutex_unlock(&q->lock);
	return peak;
}
