// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The bounded pool and ordered log between producers and channel writers;
 * see chunk-queue.h.
 *
 * One mutex guards everything: the work per item (a read, a compression,
 * a write of up to a few MiB) dwarfs the time it is held. An item every
 * channel passed leaves the log at once, wherever it is, and its buffer
 * goes back to the pool without waiting for a slower item in front of it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "stream/chunk-queue.h"

struct chunk_queue {
	/* immutable after start */
	struct chunk_queue_opts opts;
	unsigned int max_bufs;
	pthread_mutex_t lock;
	pthread_cond_t buf_freed;  /* a buffer came back */
	pthread_cond_t item_ready; /* pushed, work done, closed or cancelled */
	pthread_cond_t work_ready; /* work pushed, closed or cancelled */
	/* guarded by lock: everything below, and the queue's fields of every item in the log */
	unsigned int allocated, out, peak_out;
	struct chunk_buf *free_bufs;
	/* The log, head .. tail by next. */
	struct chunk_item *head, *tail;
	struct chunk_item *cursor[64]; /* NULL: past the tail */
	struct chunk_item *work_head, *work_tail;
	bool closed, cancelled;
};

/*
 * The log is walked forwards only, but an item leaves from anywhere: its
 * predecessor is found from the head. Items leave mostly at the head (the
 * log is written in order), so the walk is short.
 */
static struct chunk_item *item_prev(struct chunk_queue *q, struct chunk_item *item)
{
	struct chunk_item *p = q->head;

	if (p == item)
		return NULL;
	while (p && p->next != item)
		p = p->next;
	return p;
}

static void unlink_item(struct chunk_queue *q, struct chunk_item *item)
{
	struct chunk_item *prev = item_prev(q, item);

	if (prev)
		prev->next = item->next;
	else
		q->head = item->next;
	if (q->tail == item)
		q->tail = prev;
}

static void give_back_buf(struct chunk_queue *q, struct chunk_buf *buf)
{
	buf->next_free = q->free_bufs;
	q->free_bufs = buf;
	q->out--;
	pthread_cond_signal(&q->buf_freed);
}

/* Every channel passed item: out of the log, onto *done for release outside the lock. */
static void item_passed(struct chunk_queue *q, struct chunk_item *item, struct chunk_item **done)
{
	if (--item->passes)
		return;
	unlink_item(q, item);
	if (item->buf)
		give_back_buf(q, item->buf);
	item->buf = NULL;
	item->next = *done;
	*done = item;
}

static void release_list(struct chunk_queue *q, struct chunk_item *done)
{
	while (done) {
		struct chunk_item *next = done->next;

		if (q->opts.release)
			q->opts.release(done, done->written, q->opts.release_ctx);
		done = next;
	}
}

int chunk_queue_new(struct chunk_queue **out, const struct chunk_queue_opts *opts)
{
	struct chunk_queue *q;

	*out = NULL;
	if (!opts->channels || opts->channels > 64 || !opts->buf_size)
		return -EINVAL;
	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->opts = *opts;
	q->max_bufs = opts->cap / opts->buf_size ? (unsigned int)(opts->cap / opts->buf_size) : 1;
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->buf_freed, NULL);
	pthread_cond_init(&q->item_ready, NULL);
	pthread_cond_init(&q->work_ready, NULL);
	*out = q;
	return 0;
}

static size_t buf_map_size(const struct chunk_queue *q)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	return (q->opts.buf_size + q->opts.aux_size + page - 1) / page * page;
}

static void free_buf(const struct chunk_queue *q, struct chunk_buf *buf)
{
	if (buf->data)
		munmap(buf->data, buf_map_size(q));
	free(buf);
}

void chunk_queue_free(struct chunk_queue *q)
{
	struct chunk_item *item, *done = NULL;

	if (!q)
		return;
	/* What no channel took is released as not written (by that channel). */
	while ((item = q->head)) {
		item->passes = 1;
		item_passed(q, item, &done);
	}
	release_list(q, done);
	while (q->free_bufs) {
		struct chunk_buf *buf = q->free_bufs;

		q->free_bufs = buf->next_free;
		free_buf(q, buf);
	}
	pthread_cond_destroy(&q->buf_freed);
	pthread_cond_destroy(&q->item_ready);
	pthread_cond_destroy(&q->work_ready);
	pthread_mutex_destroy(&q->lock);
	free(q);
}

/*
 * A buffer's data and aux are one mapping, populated at once: a pool that
 * fills (a compressing save keeps every buffer out) would otherwise take one
 * page fault per 4 KiB on first use, which cost a quarter of a second of
 * system time per 128 MiB of pool where faults are trapped by a hypervisor.
 * Populating is a hint: without MAP_POPULATE's effect the pages fault as usual.
 */
static struct chunk_buf *alloc_buf(const struct chunk_queue *q)
{
	struct chunk_buf *buf = calloc(1, sizeof(*buf));
	void *map;

	if (!buf)
		return NULL;
	map = mmap(NULL, buf_map_size(q), PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (map == MAP_FAILED) {
		free(buf);
		return NULL;
	}
	buf->data = map;
	buf->aux = q->opts.aux_size ? buf->data + q->opts.buf_size : NULL;
	return buf;
}

int chunk_queue_get_buf(struct chunk_queue *q, struct chunk_buf **out)
{
	struct chunk_buf *buf = NULL;

	*out = NULL;
	pthread_mutex_lock(&q->lock);
	while (!q->cancelled && !q->free_bufs && q->allocated == q->max_bufs)
		pthread_cond_wait(&q->buf_freed, &q->lock);
	if (q->cancelled) {
		pthread_mutex_unlock(&q->lock);
		return -ECANCELED;
	}
	if (q->free_bufs) {
		buf = q->free_bufs;
		q->free_bufs = buf->next_free;
	} else {
		/* Counted before the allocation, so that the cap holds while the lock is dropped. */
		q->allocated++;
		pthread_mutex_unlock(&q->lock);
		buf = alloc_buf(q);
		pthread_mutex_lock(&q->lock);
		if (!buf) {
			q->allocated--;
			pthread_cond_signal(&q->buf_freed);
			pthread_mutex_unlock(&q->lock);
			return -ENOMEM;
		}
	}
	q->out++;
	if (q->out > q->peak_out)
		q->peak_out = q->out;
	pthread_mutex_unlock(&q->lock);
	*out = buf;
	return 0;
}

void chunk_queue_put_buf(struct chunk_queue *q, struct chunk_buf *buf)
{
	if (!buf)
		return;
	pthread_mutex_lock(&q->lock);
	give_back_buf(q, buf);
	pthread_mutex_unlock(&q->lock);
}

int chunk_queue_push(struct chunk_queue *q, struct chunk_item *item)
{
	bool idle = false;

	item->next = NULL;
	item->next_work = NULL;
	item->passes = q->opts.channels;
	item->written = 0;
	item->claimed = false;
	item->work_started = false;
	item->work_done = false;
	item->awaited = false;

	pthread_mutex_lock(&q->lock);
	if (q->cancelled || q->closed) {
		if (item->buf)
			give_back_buf(q, item->buf);
		item->buf = NULL;
		pthread_mutex_unlock(&q->lock);
		if (q->opts.release)
			q->opts.release(item, 0, q->opts.release_ctx);
		return -ECANCELED;
	}
	if (q->tail)
		q->tail->next = item;
	else
		q->head = item;
	q->tail = item;
	for (unsigned int ch = 0; ch < q->opts.channels; ch++)
		if (!q->cursor[ch]) {
			q->cursor[ch] = item;
			idle = true;
		}
	if (item->needs_work) {
		if (q->work_tail)
			q->work_tail->next_work = item;
		else
			q->work_head = item;
		q->work_tail = item;
		pthread_cond_signal(&q->work_ready);
	}
	/*
	 * Only a channel that had passed every item waits for a new one; the
	 * others wait for an earlier item's work (see _work_done). Waking them
	 * all at every push cost a context switch per channel and record.
	 */
	if (idle)
		pthread_cond_broadcast(&q->item_ready);
	pthread_mutex_unlock(&q->lock);
	return 0;
}

void chunk_queue_close(struct chunk_queue *q)
{
	pthread_mutex_lock(&q->lock);
	q->closed = true;
	pthread_cond_broadcast(&q->item_ready);
	pthread_cond_broadcast(&q->work_ready);
	pthread_mutex_unlock(&q->lock);
}

static bool ready(const struct chunk_item *item)
{
	return !item->needs_work || item->work_done;
}

struct chunk_item *chunk_queue_next(struct chunk_queue *q, unsigned int ch)
{
	struct chunk_item *item = NULL, *done = NULL;

	pthread_mutex_lock(&q->lock);
	while (!q->cancelled) {
		struct chunk_item *at = q->cursor[ch];

		if (!at) {
			if (q->closed)
				break;
			pthread_cond_wait(&q->item_ready, &q->lock);
			continue;
		}
		q->cursor[ch] = at->next;
		if (at->scope == CHUNK_ANY_CHANNEL && at->claimed) {
			item_passed(q, at, &done);
			continue;
		}
		at->claimed = true;
		while (!q->cancelled && !ready(at)) {
			at->awaited = true;
			pthread_cond_wait(&q->item_ready, &q->lock);
		}
		/*
		 * Cancelled: left in the log (a worker may still hold it);
		 * chunk_queue_free() releases it once every thread is gone.
		 */
		if (q->cancelled)
			break;
		item = at;
		break;
	}
	pthread_mutex_unlock(&q->lock);
	release_list(q, done);
	return item;
}

void chunk_queue_done(struct chunk_queue *q, unsigned int ch, struct chunk_item *item, bool ok)
{
	struct chunk_item *done = NULL;

	(void)ch;
	pthread_mutex_lock(&q->lock);
	if (ok)
		item->written++;
	/*
	 * Only its one channel needs an "any channel" item's buffer: back to
	 * the pool now, not once the slowest channel has passed the item, so
	 * that a stalled channel does not stall the others through the pool.
	 */
	if (item->scope == CHUNK_ANY_CHANNEL && item->buf) {
		give_back_buf(q, item->buf);
		item->buf = NULL;
	}
	item_passed(q, item, &done);
	pthread_mutex_unlock(&q->lock);
	release_list(q, done);
}

struct chunk_item *chunk_queue_next_work(struct chunk_queue *q)
{
	struct chunk_item *item = NULL;

	pthread_mutex_lock(&q->lock);
	for (;;) {
		if (q->cancelled)
			break;
		if (q->work_head) {
			item = q->work_head;
			q->work_head = item->next_work;
			if (!q->work_head)
				q->work_tail = NULL;
			item->work_started = true;
			break;
		}
		if (q->closed)
			break;
		pthread_cond_wait(&q->work_ready, &q->lock);
	}
	pthread_mutex_unlock(&q->lock);
	return item;
}

void chunk_queue_work_done(struct chunk_queue *q, struct chunk_item *item)
{
	pthread_mutex_lock(&q->lock);
	item->work_done = true;
	/* workers finish out of order: wake the channels only for the item they wait on */
	if (item->awaited)
		pthread_cond_broadcast(&q->item_ready);
	pthread_mutex_unlock(&q->lock);
}

void chunk_queue_cancel(struct chunk_queue *q)
{
	pthread_mutex_lock(&q->lock);
	q->cancelled = true;
	pthread_cond_broadcast(&q->buf_freed);
	pthread_cond_broadcast(&q->item_ready);
	pthread_cond_broadcast(&q->work_ready);
	pthread_mutex_unlock(&q->lock);
}

bool chunk_queue_cancelled(struct chunk_queue *q)
{
	bool cancelled;

	pthread_mutex_lock(&q->lock);
	cancelled = q->cancelled;
	pthread_mutex_unlock(&q->lock);
	return cancelled;
}

uint64_t chunk_queue_peak(struct chunk_queue *q)
{
	uint64_t peak;

	pthread_mutex_lock(&q->lock);
	peak = (uint64_t)q->peak_out * q->opts.buf_size;
	pthread_mutex_unlock(&q->lock);
	return peak;
}

unsigned int chunk_queue_buffers(const struct chunk_queue *q)
{
	return q->max_bufs;
}
