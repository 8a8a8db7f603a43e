/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One writer thread per target device. The main thread reads the stream
 * and hands each device's checked chunks, in chunk order, to that device's
 * bounded queue; the device's writer takes them out and writes them to the
 * data fd. A device whose writes are slow fills only its own queue, so the
 * main thread goes on feeding the others, and memory stays bounded: at most
 * the queue's limit per device (one item more when a single item is larger).
 *
 * The writer does not know what an item means: it calls the handler given
 * at start for each, in order; a handler that fails ends the writer (the
 * handler has recorded why). Cancelling is the caller's flag, checked
 * between items and while waiting, and load_writer_wake().
 */
#ifndef VMT_LOAD_WRITER_H
#define VMT_LOAD_WRITER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "stream/bounded-queue.h"
#include "stream/migstream.h"

enum load_item_kind {
	LOAD_ITEM_CHUNK,      /* bytes for the data fd */
	LOAD_ITEM_DEVICE_END, /* the device's last item: check and leave RESUMING */
};

/* One queued piece of work, with the record it came from (for messages). */
struct load_item {
	struct bqueue_node node; /* in its writer's queue: size is len */
	enum load_item_kind kind;
	uint32_t seq; /* the record: sequence number, type, byte offset */
	uint16_t type;
	uint64_t rec_offset;
	const char *file;     /* the input (channel) that carried it */
	uint64_t chunk_index; /* LOAD_ITEM_CHUNK */
	uint64_t offset;
	uint32_t len;
	struct migstream_device_end end; /* LOAD_ITEM_DEVICE_END */
	uint8_t *data;			 /* len bytes: in inline_data, or in buf */
	void *buf;			 /* a record's payload buffer the item owns, or NULL */
	uint8_t inline_data[];
};

/* Returns 0, or nonzero to stop the writer (the failure is the handler's to record). */
typedef int (*load_item_fn)(void *ctx, struct load_item *item);

struct load_writer {
	/* the main thread's (the pusher's) */
	pthread_t thread;
	bool started;
	uint64_t peak; /* most bytes queued at once */
	/* immutable after start */
	load_item_fn handle;
	void *ctx;
	int stopped_fd; /* an eventfd told when the thread stops, or -1 */
	/* items' data bytes, at most the limit; its own lock, the caller's cancel flag */
	struct bqueue queue;
	/* the writer thread's; read by the main thread after the join */
	uint64_t busy_ns; /* time spent in the handler */
	uint64_t items;
};

/* A chunk item of len bytes, data uninitialized; NULL without memory. */
struct load_item *load_item_new(enum load_item_kind kind, uint32_t len);
/*
 * A chunk item whose len bytes at data are in buf, a buffer the item owns
 * from now on (freed with it, also when this fails); NULL without memory.
 */
struct load_item *load_item_adopt(enum load_item_kind kind, void *buf, const uint8_t *data,
				  uint32_t len);
void load_item_free(struct load_item *item);

/*
 * Starts the thread, with every signal blocked in it (stop signals go to
 * the main thread, which cancels). When it stops it adds 1 to the eventfd
 * stopped_fd (-1: none). 0 or -errno.
 */
int load_writer_start(struct load_writer *w, uint64_t limit, load_item_fn handle, void *ctx,
		      const atomic_bool *cancel, int stopped_fd);
/*
 * Queues item (the writer frees it), waiting while the queue holds limit
 * bytes or more. -ECANCELED (item freed) when cancelled or the writer
 * stopped on a failure.
 */
int load_writer_push(struct load_writer *w, struct load_item *item);
/* No more items: the writer ends once the queue is empty. */
void load_writer_close(struct load_writer *w);
/* Wakes the writer and any pusher to look at the cancel flag. */
void load_writer_wake(struct load_writer *w);
/* The writer returned (its queue drained after a close, or it failed, or a cancel). */
bool load_writer_stopped(struct load_writer *w);
/* Waits for the thread (close or cancel first), frees what is left. */
void load_writer_join(struct load_writer *w);

/*
 * The load's writers (the end of writer.c): what an item means to its
 * target, and the main thread's side that feeds the writers and ends
 * them. Each records its failure in ld->failure and returns -errno
 * (load.h); -ECANCELED after another thread's failure, which is the one
 * recorded.
 */
struct load;
struct load_chunk;
struct load_target;

/* Starts t's writer: it writes t's chunks and checks its DEVICE_END. */
int load_start_writer(struct load *ld, struct load_target *t);
/* A chunk that is next in order, to t's writer; waits while its queue is full. */
int load_queue_chunk(struct load *ld, struct load_target *t, const struct load_chunk *c);
/* t's last item, its DEVICE_END: the writer checks and ends the device once its queue drained. */
int load_queue_device_end(struct load *ld, struct load_target *t,
			  const struct migstream_device_end *end);
/* After the stream: waits until every writer emptied its queue (or failed, or a stop signal came). */
int load_drain_writers(struct load *ld);
/*
 * Ends every writer: on success after each drained its queue (the stream
 * is read: no more items come), else at once. 0, or -ECANCELED when a
 * writer failed (its failure is recorded).
 */
int load_stop_writers(struct load *ld);

#endif
