/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The pipeline between the threads that produce a stream's records (device
 * readers) and the threads that write it (one per channel): a bounded pool
 * of buffers and one ordered log of items.
 *
 * Pool: at most cap / buf_size buffers are out at once (at least one); a
 * producer that wants one more waits until a writer gives one back. This
 * bounds the device data in flight, whatever the speed of either side.
 * Buffers are allocated on first use and kept: memory follows the peak.
 *
 * Log: items in the order they were pushed. Each channel has a cursor and
 * takes the items in log order. An item is either for "any channel" (the
 * first channel to reach it takes it, the others pass it by: a device's
 * chunks stay in increasing order within every channel) or for "every
 * channel" (each channel takes it). An item may need work first (e.g.
 * compression) by a worker thread: a channel that takes such an item waits
 * until the work is done, other channels go on past it.
 *
 * Cancel: every wait (a buffer, an item, work) returns at once, now and
 * later, and a push is refused (its item released at once). What is in
 * the log stays there, since a thread may still hold it, and is released
 * by chunk_queue_free(), once the caller has joined its threads.
 *
 * Errors are -errno. All functions may be called from any thread.
 */
#ifndef VMT_CHUNK_QUEUE_H
#define VMT_CHUNK_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct chunk_queue;

/* A pool buffer: data has buf_size bytes, aux aux_size (both fixed at creation). */
struct chunk_buf {
	uint8_t *data;
	uint8_t *aux;
	struct chunk_buf *next_free; /* the queue's */
};

enum chunk_scope {
	CHUNK_ANY_CHANNEL,
	CHUNK_EVERY_CHANNEL,
};

/*
 * An item of the log, embedded by the caller in its own structure. The
 * caller sets scope, buf (or NULL) and needs_work before the push; the rest
 * is the queue's.
 */
struct chunk_item {
	enum chunk_scope scope;
	struct chunk_buf *buf; /* back to the pool when the item is released */
	bool needs_work;       /* a worker must take it before a channel writes it */
	/* the queue's, guarded by its lock: */
	struct chunk_item *next, *next_work;
	unsigned int passes;  /* channels that have not yet passed it */
	unsigned int written; /* channels that took it and called _done(ok) */
	bool claimed;	      /* any channel: taken by one */
	bool work_started, work_done;
	bool awaited; /* a channel waits for its work to be done */
};

/*
 * release(item, written, ctx): called once per item when every channel has
 * passed it (or at a refused push, or by free), without the lock held; written
 * is how many channels wrote it (for "every channel": all of them when it
 * equals the channel count). The pool buffer is back in the pool by then.
 */
struct chunk_queue_opts {
	unsigned int channels; /* 1 .. 64 */
	size_t buf_size;       /* bytes of data per buffer; counted against cap */
	size_t aux_size;       /* extra per buffer (0: none); not counted */
	uint64_t cap;	       /* bytes of buffers out at once; at least one buffer */
	void (*release)(struct chunk_item *item, unsigned int written, void *ctx);
	void *release_ctx;
};

int chunk_queue_new(struct chunk_queue **out, const struct chunk_queue_opts *opts);
/* Releases every item still in the log (written as far as it was) and frees the buffers. */
void chunk_queue_free(struct chunk_queue *q);

/* A buffer from the pool, waiting for one when the cap is reached. -ECANCELED, -ENOMEM. */
int chunk_queue_get_buf(struct chunk_queue *q, struct chunk_buf **out);
/* A buffer that goes into no item after all. */
void chunk_queue_put_buf(struct chunk_queue *q, struct chunk_buf *buf);

/* Appends item to the log. -ECANCELED (the item is then released) or 0. */
int chunk_queue_push(struct chunk_queue *q, struct chunk_item *item);
/* No more items: channels that have taken everything get NULL from _next. */
void chunk_queue_close(struct chunk_queue *q);

/*
 * Channel ch's next item, waiting for one (and for its work). NULL when
 * the log is closed and ch has taken everything, or cancelled.
 */
struct chunk_item *chunk_queue_next(struct chunk_queue *q, unsigned int ch);
/*
 * Channel ch is done with the item _next gave it; ok: it was written. An
 * "any channel" item's buffer goes back to the pool here.
 */
void chunk_queue_done(struct chunk_queue *q, unsigned int ch, struct chunk_item *item, bool ok);

/* The oldest item whose work has not begun, waiting for one; NULL when closed and none is left, or cancelled. */
struct chunk_item *chunk_queue_next_work(struct chunk_queue *q);
void chunk_queue_work_done(struct chunk_queue *q, struct chunk_item *item);

/* Stops every wait, now and later. */
void chunk_queue_cancel(struct chunk_queue *q);
bool chunk_queue_cancelled(struct chunk_queue *q);

/* The most buffer bytes (buf_size each) that were out at once. */
uint64_t chunk_queue_peak(struct chunk_queue *q);
/* The number of buffers the cap allows. */
unsigned int chunk_queue_buffers(const struct chunk_queue *q);

#endif
