/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Internal to lib/stream: the merge rules of a channel set (channel-set.c),
 * as state over one struct, without threads or fds, so that they can be
 * tested as a table of events (tests/unit/test-channel-merge.c).
 *
 * Each channel has a queue of records its reader has read; the merge looks
 * at the heads: the set checks first (channel_merge_start), then each head
 * is taken (DEVICE once every channel agrees, a device's next chunk, its
 * early chunks into the reorder buffer, DEVICE_END once every channel's
 * agrees and the device is whole, ancillary records as they come) or waits
 * there. What may be read next is decided here too (channel_merge_room_for:
 * see "Memory" in channel-set.c), and when nothing can move any more
 * (channel_merge_deadlocked).
 *
 * Functions return 1 (progress), 0 (wait) or -errno; the first failure is
 * sticky (m->err, m->msg) and calls hooks.failed. The caller holds the
 * lock that guards the whole struct.
 */
#ifndef VMT_CHANNEL_MERGE_H
#define VMT_CHANNEL_MERGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <xxhash.h>

#include "common/c.h"
#include "stream/channel-set.h" /* the limits */
#include "stream/migstream.h"
#include "stream/reorder.h"

/* A record copied out of its channel's reader: payload and decoded fields. */
struct qrec {
	struct qrec *next, *prev;
	struct migstream_record rec;
	unsigned int input;		      /* index of its channel in the set */
	size_t charge;			      /* bytes it counts for */
	const struct migstream_record *owner; /* held: the caller's struct it went out in */
	struct set_device *reorder_dev;	      /* an early chunk: room kept for it there */
	struct reorder_node early;	      /* kept early: in its device's reorder buffer */
	uint64_t reorder_reserved;
	uint8_t *buf; /* the payload's, taken from the reader (else inline) */
	uint8_t payload[];
};

struct qlist {
	struct qrec *head, *tail;
	unsigned int len;
};

/* What a channel's next record will cost, and where it goes (from its header and DATA prefix). */
struct next_rec {
	uint64_t cost;	 /* while it is read: stored and decompressed payload, bookkeeping */
	uint64_t charge; /* once read: its qrec's charge */
	bool data;	 /* a DATA record whose device and chunk are known */
	uint32_t device;
	uint64_t chunk;
};

/* A device of the set, as the merge has seen it on every channel. */
struct set_device {
	uint32_t index;
	uint64_t shown;	 /* channels (bit: input) whose DEVICE was taken */
	uint64_t ended;	 /* and whose DEVICE_END */
	uint8_t *device; /* the first DEVICE's payload, the others must match */
	uint32_t device_len;
	unsigned int device_from;
	uint8_t *end; /* likewise the first DEVICE_END's */
	uint32_t end_len;
	unsigned int end_from;
	uint64_t next_chunk, next_offset; /* what went out */
	bool stop_copy_seen;
	XXH3_state_t *digest;
	struct reorder_list early; /* the reorder buffer: chunks by chunk_index */
	uint64_t early_bytes;
	uint64_t early_reserved; /* room kept for early chunks being read */
};

/* A channel as the merge sees it: the records read, and what its reader waits to read. */
struct merge_channel {
	char *name;	    /* for messages: the file (owned) */
	unsigned int input; /* its index in the set, in the order given */
	struct qlist queue;
	bool reading_done; /* its reader is done: clean end of file or an error */
	bool finished;	   /* its STREAM_END was taken */
	bool is_channel;   /* its CHANNEL record was decoded into ch */
	struct migstream_channel ch;
	struct next_rec want; /* the next record, while waiting is set */
	bool waiting;	      /* its reader waits for room to read want */
};

/* What the set does about the merge's news (NULL: nothing). */
struct channel_merge_hooks {
	void (*failed)(void *ctx); /* the first failure: stop every thread */
	void (*room_freed)(
		void *ctx); /* memory was freed: readers that wait for room may look again */
	void *ctx;
};

struct channel_merge {
	/* immutable after channel_merge_init */
	unsigned int n; /* inputs */
	uint64_t all;	/* bit per input */
	uint64_t queue_limit, reorder_limit;
	struct channel_merge_hooks hooks;
	/* the rest: guarded by the set's lock */
	struct merge_channel ch[MIGSTREAM_MAX_CHANNELS];
	int err; /* sticky */
	char msg[768];
	/* memory, as channel-set.h's queue_limit and reorder_limit count it */
	uint64_t queue_bytes;
	uint64_t reading_bytes;	  /* reserved by channels reading a record */
	uint64_t read_ahead_peak; /* of queue_bytes + reading_bytes */
	uint64_t reorder_bytes, reorder_peak;
	/* the set */
	bool started; /* the set checks passed */
	bool whole;   /* one input without CHANNEL */
	uint8_t set_id[MIGSTREAM_SET_ID_LEN];
	unsigned int count;
	/* the merged stream */
	struct qlist ready; /* records to go out, in order */
	unsigned int ndev;
	struct set_device dev[MIGSTREAM_MAX_DEVICES];
	uint64_t out_records, out_payload;
	unsigned int rr; /* the channel merge_step looks at first */
};

/* ---- records and lists (under the set's lock) ---- */

static inline void qrec_free(struct qrec *q)
{
	free(q->buf);
	free(q);
}

static inline void qlist_push(struct qlist *l, struct qrec *q)
{
	q->next = NULL;
	if (l->tail)
		l->tail->next = q;
	else
		l->head = q;
	l->tail = q;
	l->len++;
}

static inline struct qrec *qlist_pop(struct qlist *l)
{
	struct qrec *q = l->head;

	if (!q)
		return NULL;
	l->head = q->next;
	if (!l->head)
		l->tail = NULL;
	l->len--;
	q->next = NULL;
	return q;
}

static inline void qlist_free(struct qlist *l)
{
	struct qrec *q;

	while ((q = qlist_pop(l)))
		qrec_free(q);
}

/* Back to the front of c's queue: the record waits there. */
static inline void qlist_unpop(struct qlist *l, struct qrec *q)
{
	q->next = l->head;
	l->head = q;
	if (!l->tail)
		l->tail = q;
	l->len++;
}

void channel_merge_init(struct channel_merge *m, unsigned int n, uint64_t queue_limit,
			uint64_t reorder_limit, const struct channel_merge_hooks *hooks);
/* Frees every record and device (and the channels' names). */
void channel_merge_free(struct channel_merge *m);

/* Records the first failure (sticky) and calls hooks.failed. Returns m->err. */
VMT_PRINTF(3, 4)
int channel_merge_fail(struct channel_merge *m, int err, const char *fmt, ...);

/* ---- reading: may a channel read what it peeked? ---- */

/* Whether c still owes the set the two records it checks before starting. */
bool channel_merge_head_missing(const struct merge_channel *c);
/* The device whose reorder buffer c's next record nr (an early chunk) goes to, or NULL. */
struct set_device *channel_merge_early_device(struct channel_merge *m, const struct next_rec *nr);
/* Whether c may read c->want now (see "Memory" in channel-set.c). */
bool channel_merge_room_for(struct channel_merge *m, const struct merge_channel *c);
/* c waits to read its next record, and there is no room for it yet. */
bool channel_merge_waits_for_room(struct channel_merge *m, const struct merge_channel *c);
/* The room kept in its device's reorder buffer for q goes back. */
void channel_merge_unreserve(struct qrec *q);

/* ---- merging ---- */

/* The set checks once every channel's first two records are queued: 1 started, 0 not yet, <0. */
int channel_merge_start(struct channel_merge *m);
/* Before the start: every channel that owes its first records waits for room (fails -ENOBUFS). */
bool channel_merge_start_deadlocked(struct channel_merge *m);
/* Takes the heads of every channel until a record is ready: 1 progress, 0 none, <0 error. */
int channel_merge_step(struct channel_merge *m);
/* The next record ready to go out, or NULL. */
struct qrec *channel_merge_take_ready(struct channel_merge *m);
/* Every channel's STREAM_END was taken. */
bool channel_merge_all_finished(const struct channel_merge *m);
/* Every channel's reader is done. */
bool channel_merge_all_reading_done(const struct channel_merge *m);
/* The set's own STREAM_END onto the ready list, with the merged stream's totals. 1 or <0. */
int channel_merge_emit_stream_end(struct channel_merge *m);
/* Nothing can move any more: fails with the reason (-ENOBUFS or -EBADMSG) and returns true. */
bool channel_merge_deadlocked(struct channel_merge *m);

#endif
