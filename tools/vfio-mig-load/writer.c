// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The device writers; see writer.h. One mutex and one condition per
 * writer: the pusher waits for room, the writer for an item, and both for
 * a cancel, so a broadcast on every change is simpler than two conditions
 * and costs nothing at one waiter per side.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "common/timeutil.h"
#include "writer.h"

struct load_item *load_item_new(enum load_item_kind kind, uint32_t len)
{
	struct load_item *item = malloc(sizeof(*item) + len);

	if (!item)
		return NULL;
	memset(item, 0, sizeof(*item));
	item->kind = kind;
	item->len = len;
	item->data = item->inline_data;
	return item;
}

struct load_item *load_item_adopt(enum load_item_kind kind, void *buf, const uint8_t *data, uint32_t len)
{
	struct load_item *item = calloc(1, sizeof(*item));

	if (!item) {
		free(buf);
		return NULL;
	}
	item->kind = kind;
	item->len = len;
	item->buf = buf;
	item->data = (uint8_t *)data;
	return item;
}

void load_item_free(struct load_item *item)
{
	if (!item)
		return;
	free(item->buf);
	free(item);
}

static bool cancelled(const struct load_writer *w)
{
	return atomic_load(w->cancel);
}

/* The next item, or NULL when the queue closed empty, the load was cancelled. */
static struct load_item *take(struct load_writer *w)
{
	struct load_item *item = NULL;

	pthread_mutex_lock(&w->lock);
	while (!cancelled(w) && !w->head && !w->closed)
		pthread_cond_wait(&w->changed, &w->lock);
	if (!cancelled(w) && w->head) {
		item = w->head;
		w->head = item->next;
		if (!w->head)
			w->tail = NULL;
		/*
		 * Room is made when the item is taken, not when it is written:
		 * the one being written is bounded by the record size anyway.
		 */
		w->queued -= item->len;
		pthread_cond_broadcast(&w->changed);
	}
	pthread_mutex_unlock(&w->lock);
	return item;
}

static void *writer_main(void *arg)
{
	struct load_writer *w = arg;
	struct load_item *item;

	while ((item = take(w)) != NULL) {
		uint64_t t0 = vmt_monotonic_ns();
		int rc = w->handle(w->ctx, item);

		w->busy_ns += vmt_monotonic_ns() - t0;
		w->items++;
		load_item_free(item);
		if (rc)
			break;
	}
	pthread_mutex_lock(&w->lock);
	w->stopped = true;
	pthread_cond_broadcast(&w->changed);
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

int load_writer_start(struct load_writer *w, uint64_t limit, load_item_fn handle, void *ctx,
		      const atomic_bool *cancel)
{
	sigset_t all, old;
	int rc;

	*w = (struct load_writer){ .limit = limit, .handle = handle, .ctx = ctx, .cancel = cancel };
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->changed, NULL);
	/* Created with every signal blocked, so a stop signal always reaches the main thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(&w->thread, NULL, writer_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc)
		return -rc;
	w->started = true;
	return 0;
}

int load_writer_push(struct load_writer *w, struct load_item *item)
{
	int rc = 0;

	item->next = NULL;
	pthread_mutex_lock(&w->lock);
	/* An item larger than the limit still goes into an empty queue. */
	while (!cancelled(w) && !w->stopped && w->head && w->queued + item->len > w->limit)
		pthread_cond_wait(&w->changed, &w->lock);
	if (cancelled(w) || w->stopped) {
		rc = -ECANCELED;
	} else {
		if (w->tail)
			w->tail->next = item;
		else
			w->head = item;
		w->tail = item;
		w->queued += item->len;
		if (w->queued > w->peak)
			w->peak = w->queued;
		pthread_cond_broadcast(&w->changed);
	}
	pthread_mutex_unlock(&w->lock);
	if (rc)
		load_item_free(item);
	return rc;
}

void load_writer_close(struct load_writer *w)
{
	if (!w->started)
		return;
	pthread_mutex_lock(&w->lock);
	w->closed = true;
	pthread_cond_broadcast(&w->changed);
	pthread_mutex_unlock(&w->lock);
}

void load_writer_wake(struct load_writer *w)
{
	if (!w->started)
		return;
	pthread_mutex_lock(&w->lock);
	pthread_cond_broadcast(&w->changed);
	pthread_mutex_unlock(&w->lock);
}

bool load_writer_stopped(struct load_writer *w)
{
	bool stopped;

	if (!w->started)
		return true;
	pthread_mutex_lock(&w->lock);
	stopped = w->stopped;
	pthread_mutex_unlock(&w->lock);
	return stopped;
}

void load_writer_join(struct load_writer *w)
{
	if (!w->started)
		return;
	pthread_join(w->thread, NULL);
	w->started = false;
	while (w->head) {
		struct load_item *item = w->head;

		w->head = item->next;
		load_item_free(item);
	}
	w->tail = NULL;
	w->queued = 0;
	pthread_cond_destroy(&w->changed);
	pthread_mutex_destroy(&w->lock);
}
