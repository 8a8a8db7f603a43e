/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A FIFO between one producer and one consumer thread, bounded in bytes:
 * the producer waits while the queue holds its limit (an item larger than
 * the limit still goes into an empty queue, so that any item can pass),
 * the consumer waits for an item. Nodes are embedded in the caller's items
 * (container_of), each with its size in bytes; the queue never frees one.
 *
 * Stopping: close() (no more items: the consumer gets NULL once the queue
 * is empty), stop() (the consumer is gone: pushes fail), or the caller's
 * cancel flag, looked at by every wait; wake() makes the waiters look.
 * Errors are -errno. All functions but init/destroy/drain may be called
 * from any thread.
 */
#ifndef VMT_BOUNDED_QUEUE_H
#define VMT_BOUNDED_QUEUE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct bqueue_node {
	struct bqueue_node *next; /* the queue's */
	uint64_t size;		  /* bytes it counts for, set by the caller */
};

struct bqueue {
	/* immutable after init */
	uint64_t limit;
	const atomic_bool *cancel; /* the caller's flag, or NULL */
	pthread_mutex_t lock;
	pthread_cond_t changed; /* an item came or went, a close, a stop, or a wake */
	/* guarded by lock */
	struct bqueue_node *head, *tail;
	uint64_t bytes; /* the sizes of the nodes queued */
	uint64_t peak;	/* most bytes queued at once */
	bool closed;	/* no more items will come */
	bool stopped;	/* the consumer is gone */
};

/* cancel: a flag that ends every wait when it is set (NULL: none). */
void bqueue_init(struct bqueue *q, uint64_t limit, const atomic_bool *cancel);
void bqueue_destroy(struct bqueue *q);
/*
 * Appends n, waiting while the queue holds limit bytes or more and is not
 * empty. Returns the bytes queued after it (> 0 unless sizes are 0, so
 * check < 0), or -ECANCELED (n not queued) when cancelled or stopped.
 */
int64_t bqueue_push(struct bqueue *q, struct bqueue_node *n);
/* The oldest node, waiting for one; NULL when closed and empty, or cancelled. */
struct bqueue_node *bqueue_pop(struct bqueue *q);
void bqueue_close(struct bqueue *q);
void bqueue_stop(struct bqueue *q);
bool bqueue_stopped(struct bqueue *q);
/* Wakes every waiter to look at the cancel flag. */
void bqueue_wake(struct bqueue *q);
/* Takes what is left (once no thread uses the queue), oldest first. */
struct bqueue_node *bqueue_drain(struct bqueue *q);
uint64_t bqueue_peak(struct bqueue *q);

#endif
