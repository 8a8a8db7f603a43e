// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The device writers; see writer.h. The queue is lib/stream's bounded
 * FIFO; the writer thread pops, handles and frees, and stops the queue
 * when it returns, so that a pusher waiting for room gives up.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "common/c.h"
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

/* The next item, or NULL when the queue closed empty, the load was cancelled. */
static struct load_item *take(struct load_writer *w)
{
	struct bqueue_node *n = bqueue_pop(&w->queue);

	return n ? container_of(n, struct load_item, node) : NULL;
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
	bqueue_stop(&w->queue);
	return NULL;
}

int load_writer_start(struct load_writer *w, uint64_t limit, load_item_fn handle, void *ctx,
		      const atomic_bool *cancel)
{
	sigset_t all, old;
	int rc;

	*w = (struct load_writer){ .handle = handle, .ctx = ctx };
	bqueue_init(&w->queue, limit, cancel);
	/* Created with every signal blocked, so a stop signal always reaches the main thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(&w->thread, NULL, writer_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		bqueue_destroy(&w->queue);
		return -rc;
	}
	w->started = true;
	return 0;
}

int load_writer_push(struct load_writer *w, struct load_item *item)
{
	int64_t queued;

	item->node.size = item->len;
	queued = bqueue_push(&w->queue, &item->node);
	if (queued < 0) {
		load_item_free(item);
		return (int)queued;
	}
	if ((uint64_t)queued > w->peak)
		w->peak = (uint64_t)queued;
	return 0;
}

void load_writer_close(struct load_writer *w)
{
	if (w->started)
		bqueue_close(&w->queue);
}

void load_writer_wake(struct load_writer *w)
{
	if (w->started)
		bqueue_wake(&w->queue);
}

bool load_writer_stopped(struct load_writer *w)
{
	return !w->started || bqueue_stopped(&w->queue);
}

void load_writer_join(struct load_writer *w)
{
	struct bqueue_node *n;

	if (!w->started)
		return;
	pthread_join(w->thread, NULL);
	w->started = false;
	n = bqueue_drain(&w->queue);
	while (n) {
		struct load_item *item = container_of(n, struct load_item, node);

		n = n->next;
		load_item_free(item);
	}
	bqueue_destroy(&w->queue);
}
