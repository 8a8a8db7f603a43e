// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A set of migstream channels read as one stream (channel-set.h).
 *
 * One thread per channel runs a stream reader (header and payload checks,
 * zstd, the channel rules of one stream) and appends each record, copied,
 * to its channel's queue. The consumer's thread, in _next(), merges: it
 * looks at the head of every channel's queue and takes what can go out
 * (DEVICE at first sight, a device's next chunk, ancillary records), keeps
 * early chunks in the device's reorder buffer, and leaves at the head a
 * chunk that fits nowhere yet. All the merging state is the consumer's,
 * under one lock that channel threads take only to queue a record.
 *
 * Memory: a channel thread peeks at its next record (the header and, for
 * DATA, device and chunk number: a zstd frame is decoded as far as its
 * first block, into PEEK_MAX bytes per channel) and reads it only when
 * there is room (room_for): what the merge takes as soon as it is read,
 * within queue_limit plus one record of the largest size; an early chunk
 * within queue_limit and only with room kept for it in its device's
 * reorder buffer; DATA of a device the merge has not taken yet, not at
 * all. Records being read, channel queues, records ready to go out and
 * records the consumer holds are charged against queue_limit; early
 * chunks against their device's reorder_limit. Nothing grows with the
 * number of channels but the peek buffers and the readers' decompressors
 * (an idle reader holds no payload buffer). Reading a channel's next
 * record whatever it is would need a record per channel: with 64 channels
 * of 8 MiB records, 1.35 GB.
 *
 * Deadlock: when every channel that has not ended has a record at the head
 * of its queue that cannot be taken (a chunk with no room in its device's
 * reorder buffer), nothing can change any more: no chunk can go out to
 * make room, and no channel can be read further. That is exactly when the
 * set fails with -ENOBUFS, at once, instead of hanging; likewise when
 * every channel waits for room that nothing will free. (What the set
 * cannot see: a writer on the other side that waits for a channel this
 * set stopped reading because its queue is full; queue_limit is what
 * absorbs that skew.)
 *
 * Stopping: channel threads block every signal, so signals reach the
 * consumer's thread (the tool's main thread). Their reads poll the channel
 * and a wake pipe: _cancel() sets a flag and writes the pipe (both
 * async-signal-safe, so a signal handler may call it), which wakes every
 * thread blocked in a read at once, without a signal of our own or a
 * handler installed behind the tool's back. The consumer waits in steps of
 * WAIT_STEP_MS and asks opts.cancelled() each time, so a stop signal whose
 * handler only sets the tool's flag ends a wait within that step.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xxhash.h>
#include <zstd.h>

#include "common/c.h"
#include "common/fdio.h"
#include "common/thread-wait.h"
#include "stream/byteorder.h"
#include "stream/channel-set.h"

/* As in the reader: a fuzzing build cannot forge XXH3 checks. */
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
#define check_failed(cond) ((void)(cond), false)
#else
#define check_failed(cond) (cond)
#endif

#define WAIT_STEP_MS 100

/*
 * Bytes of a channel read ahead of its reader to learn what its next record
 * is: the preamble, a record header and the start of the payload, up to the
 * end of a zstd frame's first block (frame header, block header and at most
 * 128 KiB: the DATA prefix is in the first block).
 */
#define PEEK_MAX (MIGSTREAM_PREAMBLE_LEN + MIGSTREAM_RECORD_HEADER_LEN + 32 + (128u << 10))

/* A record copied out of its channel's reader: payload and decoded fields. */
struct qrec {
	struct qrec *next, *prev;
	struct migstream_record rec;
	unsigned int input;		      /* index of its channel in set->ch */
	size_t charge;			      /* bytes it counts for */
	const struct migstream_record *owner; /* held: the caller's struct it went out in */
	struct set_device *reorder_dev;	      /* an early chunk: room kept for it there */
	uint64_t reorder_reserved;
	uint8_t *buf;			      /* the payload's, taken from the reader (else inline) */
	uint8_t payload[];
};

struct qlist {
	struct qrec *head, *tail;
	unsigned int len;
};

/* What a channel's next record will cost, and where it goes (from its header and DATA prefix). */
struct next_rec {
	uint64_t cost;	/* while it is read: stored and decompressed payload, bookkeeping */
	uint64_t charge; /* once read: its qrec's charge */
	bool data;	/* a DATA record whose device and chunk are known */
	uint32_t device;
	uint64_t chunk;
};

struct channel {
	struct migstream_channel_set *set;
	unsigned int input;
	int fd;
	char *name;
	pthread_t thread;
	bool thread_started;
	struct migstream_reader *reader;
	struct qlist queue;
	bool reading_done; /* the thread is done: clean end of file or an error */
	bool finished;	   /* its STREAM_END was taken */
	bool is_channel;
	struct migstream_channel ch;
	_Atomic uint64_t bytes;
	/* read from the fd, not yet by the reader: the next record's start (PEEK_MAX) */
	uint8_t *peek;
	size_t peek_len, peek_pos;
	int peek_err; /* a read error while peeking, for the reader */
	bool preamble_read;
	bool stream_ended; /* the reader handed out STREAM_END: only end of file follows */
	/* under the set's lock: */
	struct next_rec want;
	bool waiting;	  /* for room to read want */
	bool reading;	  /* room granted: reading it */
	uint64_t reserved; /* of the read-ahead, while reading */
	struct set_device *reorder_dev;
	uint64_t reorder_reserved;
};

struct set_device {
	uint32_t index;
	uint64_t shown;	    /* channels (bit: input) whose DEVICE was taken */
	uint64_t ended;	    /* and whose DEVICE_END */
	uint8_t *device;    /* the first DEVICE's payload, the others must match */
	uint32_t device_len;
	unsigned int device_from;
	uint8_t *end; /* likewise the first DEVICE_END's */
	uint32_t end_len;
	unsigned int end_from;
	uint64_t next_chunk, next_offset; /* what went out */
	bool stop_copy_seen;
	XXH3_state_t *digest;
	struct qrec *early; /* by chunk_index */
	uint64_t early_bytes;
	uint64_t early_reserved; /* room kept for early chunks being read */
};

struct migstream_channel_set {
	struct migstream_channel_set_opts opts;
	unsigned int n;
	uint64_t all; /* bit per input */
	struct channel ch[MIGSTREAM_MAX_CHANNELS];
	pthread_mutex_t lock;
	pthread_cond_t more;  /* the consumer waits: a record was queued, a thread ended */
	pthread_cond_t space; /* channel threads wait: queue memory was freed */
	int wake[2];
	atomic_bool cancel;
	bool stop; /* threads return */

	int err;
	char msg[768];

	uint64_t queue_bytes;
	uint64_t reading_bytes; /* reserved by channels reading a record */
	uint64_t read_ahead_peak; /* of queue_bytes + reading_bytes */
	uint64_t reorder_bytes, reorder_peak;
	pthread_mutex_t peek_lock; /* one zstd stream finds every channel's DATA prefixes */
	ZSTD_DStream *peek_zstd;

	bool started; /* the set checks passed */
	bool whole;   /* one input without CHANNEL */
	uint8_t set_id[MIGSTREAM_SET_ID_LEN];
	unsigned int count;

	struct qlist ready;
	struct qrec *held;
	unsigned int ndev;
	struct set_device dev[MIGSTREAM_MAX_DEVICES];
	uint64_t out_records, out_payload;
	bool end_out; /* STREAM_END went out */
	unsigned int rr;
};

/* ---- records and lists ---- */

static void qrec_free(struct qrec *q)
{
	free(q->buf);
	free(q);
}

/*
 * A record out of its channel's reader: the reader's payload buffer is
 * taken, not copied (a DATA record is MiBs; the consumer may take it on in
 * turn, see _take_payload). Copied only when the reader cannot hand it over.
 */
static struct qrec *qrec_from_reader(struct migstream_reader *r, const struct migstream_record *rec,
				     unsigned int input)
{
	struct qrec *q;
	size_t cap;
	void *buf = migstream_reader_take_payload(r, rec, &cap);

	if (buf) {
		q = calloc(1, sizeof(*q));
		if (!q) {
			free(buf);
			return NULL;
		}
		q->rec = *rec;
		q->input = input;
		q->buf = buf;
		q->charge = sizeof(*q) + cap;
		return q;
	}
	q = malloc(sizeof(*q) + (rec->len ? rec->len : 1));
	if (!q)
		return NULL;
	memset(q, 0, sizeof(*q));
	q->rec = *rec;
	q->input = input;
	q->charge = sizeof(*q) + rec->len;
	memcpy(q->payload, rec->payload, rec->len);
	q->rec.payload = q->payload;
	/* Decoded members that point into the payload follow it. */
	if (rec->type == MIGSTREAM_REC_DATA)
		q->rec.data.data = q->payload + (rec->data.data - rec->payload);
	else if (rec->type == MIGSTREAM_REC_DIRTY_BITMAP)
		q->rec.dirty_bitmap.bits = q->payload + (rec->dirty_bitmap.bits - rec->payload);
	return q;
}

static void qlist_push(struct qlist *l, struct qrec *q)
{
	q->next = NULL;
	if (l->tail)
		l->tail->next = q;
	else
		l->head = q;
	l->tail = q;
	l->len++;
}

static struct qrec *qlist_pop(struct qlist *l)
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

static void qlist_free(struct qlist *l)
{
	struct qrec *q;

	while ((q = qlist_pop(l)))
		qrec_free(q);
}

/* ---- errors ---- */

/* "channel 1 (b.vms)", or the file alone while it is not known to be a channel. */
static void channel_label(const struct channel *c, char *buf, size_t len)
{
	if (c->is_channel)
		snprintf(buf, len, "channel %" PRIu32 " (%s)", c->ch.channel, c->name);
	else
		snprintf(buf, len, "%s", c->name);
}

/* The first error stays (sticky); every thread is told to stop. Under the lock. */
__attribute__((format(printf, 3, 4)))
static int set_fail(struct migstream_channel_set *set, int err, const char *fmt, ...)
{
	va_list ap;
	ssize_t n;

	if (set->err)
		return set->err;
	va_start(ap, fmt);
	vsnprintf(set->msg, sizeof(set->msg), fmt, ap);
	va_end(ap);
	set->err = err;
	set->stop = true;
	n = write(set->wake[1], "x", 1);
	(void)n; /* the pipe already holds a byte: every poll sees it anyway */
	pthread_cond_broadcast(&set->space);
	pthread_cond_broadcast(&set->more);
	return err;
}

/* An error about a record of a channel: names the channel, the record and its byte offset. */
__attribute__((format(printf, 4, 5)))
static int rec_fail(struct migstream_channel_set *set, int err, const struct qrec *q, const char *fmt, ...)
{
	char label[300], what[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	channel_label(&set->ch[q->input], label, sizeof(label));
	return set_fail(set, err, "%s: record %" PRIu32 " (%s) at byte %" PRIu64 ": %s", label, q->rec.seq,
			migstream_record_type_name(q->rec.type), q->rec.offset, what);
}

#define rec_bad(set, q, ...) rec_fail(set, -EBADMSG, q, __VA_ARGS__)

/* ---- channel threads ---- */

/*
 * read(2) that a cancel or a failure of the set interrupts: the channel's
 * fd and the wake pipe are polled together (see the top of the file).
 */
static ssize_t channel_fd_read(struct channel *c, void *buf, size_t len)
{
	struct migstream_channel_set *set = c->set;
	struct pollfd pfd[2] = {
		{ .fd = c->fd, .events = POLLIN },
		{ .fd = set->wake[0], .events = POLLIN },
	};
	ssize_t n;

	for (;;) {
		if (atomic_load(&set->cancel))
			return -ECANCELED;
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (pfd[1].revents)
			return -ECANCELED;
		n = read(c->fd, buf, len);
		if (n >= 0) {
			atomic_fetch_add(&c->bytes, (uint64_t)n);
			return n;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			continue;
		if (errno == EINTR && set->opts.cancelled && set->opts.cancelled(set->opts.cancel_ctx))
			return -ECANCELED;
		if (errno != EINTR)
			return -errno;
	}
}

/* The reader's read: the peeked bytes first, then the fd. */
static ssize_t channel_read(void *ctx, void *buf, size_t len)
{
	struct channel *c = ctx;
	size_t n = c->peek_len - c->peek_pos;
	int err;

	if (n) {
		n = n < len ? n : len;
		memcpy(buf, c->peek + c->peek_pos, n);
		c->peek_pos += n;
		if (c->peek_pos == c->peek_len)
			c->peek_pos = c->peek_len = 0;
		return (ssize_t)n;
	}
	if (c->peek_err) {
		err = c->peek_err;
		c->peek_err = 0;
		return err;
	}
	return channel_fd_read(c, buf, len);
}

/* The reader's message starts with the file's name: say which channel it is instead. */
static void channel_failed(struct channel *c, int err)
{
	struct migstream_channel_set *set = c->set;
	const char *msg = migstream_reader_error(c->reader);
	const struct migstream_channel *ch = migstream_reader_channel(c->reader);
	size_t nlen = strlen(c->name);
	char label[300];

	if (set->err)
		return;
	if (err == -ECANCELED && (atomic_load(&set->cancel) || set->stop)) {
		set_fail(set, -ECANCELED, "cancelled");
		return;
	}
	if (strncmp(msg, c->name, nlen) == 0 && msg[nlen] == ':' && msg[nlen + 1] == ' ')
		msg += nlen + 2;
	if (ch)
		snprintf(label, sizeof(label), "channel %" PRIu32 " (%s)", ch->channel, c->name);
	else
		snprintf(label, sizeof(label), "%s", c->name);
	set_fail(set, err, "%s: %s", label, msg);
}

/* ---- read-ahead: a record is read only when there is room for it ---- */

/* One read(2) more into the peek buffer, up to want bytes in all: > 0 read, 0 end of file or an error. */
static size_t peek_more(struct channel *c, size_t want)
{
	ssize_t n;

	if (c->peek_err || c->peek_len >= want)
		return 0;
	n = channel_fd_read(c, c->peek + c->peek_len, want - c->peek_len);
	if (n < 0)
		c->peek_err = (int)n;
	if (n <= 0)
		return 0;
	c->peek_len += (size_t)n;
	return (size_t)n;
}

/* The peek buffer holds want bytes (false: end of file or an error came first). */
static bool peek_fill(struct channel *c, size_t want)
{
	while (c->peek_len < want)
		if (!peek_more(c, want))
			return false;
	return true;
}

/*
 * A compressed DATA record's prefix: its frame decoded as far as the first
 * block, under the set's one peek stream (the bytes are read outside the
 * lock, a block at most). false when the first block is not there by
 * PEEK_MAX, or the frame is bad (the reader will say so).
 */
static bool peek_zstd_prefix(struct channel *c, size_t at, uint32_t stored_len, uint8_t out[MIGSTREAM_DATA_PREFIX_LEN])
{
	struct migstream_channel_set *set = c->set;
	size_t end = at + (stored_len < PEEK_MAX - at ? stored_len : PEEK_MAX - at);
	ZSTD_outBuffer o = { .dst = out, .size = MIGSTREAM_DATA_PREFIX_LEN };
	bool done = false;

	while (!done && peek_more(c, end)) {
		ZSTD_inBuffer in = { .src = c->peek + at, .size = c->peek_len - at };
		size_t r;

		pthread_mutex_lock(&set->peek_lock);
		if (!set->peek_zstd)
			set->peek_zstd = ZSTD_createDStream();
		if (!set->peek_zstd) {
			pthread_mutex_unlock(&set->peek_lock);
			return false;
		}
		/* from the frame's start each time: the stream is every channel's */
		ZSTD_DCtx_reset(set->peek_zstd, ZSTD_reset_session_only);
		o.pos = 0;
		r = ZSTD_decompressStream(set->peek_zstd, &o, &in);
		pthread_mutex_unlock(&set->peek_lock);
		done = ZSTD_isError(r) || r == 0 || o.pos == o.size;
	}
	return o.pos == o.size;
}

/* What c's next record will cost, and for DATA which chunk it is; a record that cannot be peeked costs little (the reader refuses it). */
static void peek_next(struct channel *c, struct next_rec *nr)
{
	size_t at = c->preamble_read ? 0 : MIGSTREAM_PREAMBLE_LEN;
	uint8_t zprefix[MIGSTREAM_DATA_PREFIX_LEN];
	const uint8_t *hdr, *prefix = NULL;
	struct migstream_record_header h;
	bool zstd;

	*nr = (struct next_rec){ .cost = sizeof(struct qrec) + 64, .charge = sizeof(struct qrec) + 64 };
	if (c->stream_ended || !peek_fill(c, at + MIGSTREAM_RECORD_HEADER_LEN))
		return;
	hdr = c->peek + at;
	migstream_decode_record_header(hdr, &h);
	if (h.header_check != migstream_record_header_check(hdr) || h.stored_len > MIGSTREAM_MAX_PAYLOAD ||
	    h.raw_len > MIGSTREAM_MAX_PAYLOAD)
		return;
	zstd = h.flags & MIGSTREAM_RF_ZSTD;
	nr->charge = sizeof(struct qrec) + (zstd ? h.raw_len : h.stored_len) + 1;
	nr->cost = nr->charge + (zstd ? h.stored_len : 0) + 64;
	if (h.type != MIGSTREAM_REC_DATA || h.stored_len < MIGSTREAM_DATA_PREFIX_LEN)
		return;
	at += MIGSTREAM_RECORD_HEADER_LEN;
	if (zstd && peek_zstd_prefix(c, at, h.stored_len, zprefix))
		prefix = zprefix;
	else if (!zstd && peek_fill(c, at + MIGSTREAM_DATA_PREFIX_LEN))
		prefix = c->peek + at;
	if (!prefix)
		return;
	nr->data = true;
	nr->device = get_be32(prefix);
	nr->chunk = get_be64(prefix + 8);
}

static struct set_device *find_device(struct migstream_channel_set *set, uint32_t index);

enum next_kind {
	NEXT_NEEDED, /* the merge takes it as soon as it is read (DEVICE, the next chunk, ...) */
	NEXT_EARLY,  /* a chunk ahead of its device's next: for the reorder buffer */
	NEXT_LATER,  /* DATA whose device the merge has not taken yet: it waits until it has */
};

/* Where c's next record goes; *dev: an early chunk's device. */
static enum next_kind next_kind(struct migstream_channel_set *set, const struct next_rec *nr, struct set_device **dev)
{
	struct set_device *d;

	*dev = NULL;
	if (!nr->data || set->whole)
		return NEXT_NEEDED;
	/* the reader saw the channel's DEVICE before this: the merge takes it from its queue */
	d = set->started ? find_device(set, nr->device) : NULL;
	if (!d)
		return NEXT_LATER;
	if (nr->chunk <= d->next_chunk)
		return NEXT_NEEDED;
	*dev = d;
	return NEXT_EARLY;
}

/* The device whose reorder buffer c's next record (an early chunk) goes to, or NULL. */
static struct set_device *early_device(struct migstream_channel_set *set, const struct next_rec *nr)
{
	struct set_device *d;

	return next_kind(set, nr, &d) == NEXT_EARLY ? d : NULL;
}

/* Whether c still owes the set the two records it checks before starting. */
static bool head_missing(const struct channel *c)
{
	return c->queue.len < 2 && !c->reading_done;
}

/*
 * Whether c may read the record it peeked (see "Memory" at the top): a
 * record the merge needs next within queue_limit plus one record of the
 * largest size; an early chunk within queue_limit and only when its
 * device's reorder buffer has room for it (kept for it while it is read).
 */
static bool room_for(struct migstream_channel_set *set, const struct channel *c)
{
	const struct next_rec *nr = &c->want;
	uint64_t used = set->queue_bytes + set->reading_bytes;
	struct set_device *d = NULL;
	/*
	 * Nothing goes out before every channel showed its first two records
	 * (whatever they are: the set's checks refuse a DATA there), so they
	 * are read as the merge's next.
	 */
	enum next_kind kind = !set->started && head_missing(c) ? NEXT_NEEDED : next_kind(set, nr, &d);

	switch (kind) {
	case NEXT_NEEDED:
		return used + nr->cost <= set->opts.queue_limit + MIGSTREAM_CHANNEL_RECORD_MAX;
	case NEXT_EARLY:
		return used + nr->cost <= set->opts.queue_limit &&
		       d->early_bytes + d->early_reserved + nr->charge <= set->opts.reorder_limit;
	default:
		return false;
	}
}

/* Under the lock: c waits to read its next record, and there is no room for it yet. */
static bool waits_for_room(struct migstream_channel_set *set, const struct channel *c)
{
	return c->waiting && !room_for(set, c);
}

/* Under the lock: waits for room to read nr; false when the set stops. */
static bool wait_for_room(struct migstream_channel_set *set, struct channel *c, const struct next_rec *nr)
{
	c->want = *nr;
	c->waiting = true;
	pthread_cond_broadcast(&set->more); /* for the consumer's deadlock check */
	while (!set->stop && !room_for(set, c))
		pthread_cond_wait(&set->space, &set->lock);
	c->waiting = false;
	if (set->stop)
		return false;
	c->reading = true;
	c->reserved = nr->cost;
	set->reading_bytes += nr->cost;
	if (set->queue_bytes + set->reading_bytes > set->read_ahead_peak)
		set->read_ahead_peak = set->queue_bytes + set->reading_bytes;
	c->reorder_dev = early_device(set, nr);
	if (c->reorder_dev) {
		c->reorder_reserved = nr->charge;
		c->reorder_dev->early_reserved += nr->charge;
	}
	return true;
}

/* Under the lock: the record was read (q, or NULL on an error): its room is its queue charge now. */
static void read_done(struct migstream_channel_set *set, struct channel *c, struct qrec *q)
{
	set->reading_bytes -= c->reserved;
	c->reserved = 0;
	c->reading = false;
	if (q) {
		q->reorder_dev = c->reorder_dev;
		q->reorder_reserved = c->reorder_reserved;
	} else if (c->reorder_dev) {
		c->reorder_dev->early_reserved -= c->reorder_reserved;
	}
	c->reorder_dev = NULL;
	c->reorder_reserved = 0;
	pthread_cond_broadcast(&set->space);
}

/* The room kept in its device's reorder buffer for q goes back (it is kept early or goes out now). */
static void unreserve(struct qrec *q)
{
	if (!q->reorder_dev)
		return;
	q->reorder_dev->early_reserved -= q->reorder_reserved;
	q->reorder_dev = NULL;
	q->reorder_reserved = 0;
}

static void *channel_main(void *arg)
{
	struct channel *c = arg;
	struct migstream_channel_set *set = c->set;
	struct migstream_record rec;
	struct next_rec nr;
	struct qrec *q;
	int ret;

	for (;;) {
		peek_next(c, &nr);
		pthread_mutex_lock(&set->lock);
		if (!wait_for_room(set, c, &nr))
			break;
		pthread_mutex_unlock(&set->lock);
		ret = migstream_read_record(c->reader, &rec);
		c->preamble_read = true;
		if (ret == 1 && rec.type == MIGSTREAM_REC_STREAM_END)
			c->stream_ended = true;
		q = ret == 1 ? qrec_from_reader(c->reader, &rec, c->input) : NULL;
		/* an idle channel holds no payload buffer: the read-ahead counts them all */
		migstream_reader_drop_buffers(c->reader);
		pthread_mutex_lock(&set->lock);
		read_done(set, c, q);
		if (ret == 1 && !q)
			set_fail(set, -ENOMEM, "%s: out of memory for a record of %" PRIu32 " bytes", c->name,
				 rec.len);
		if (ret < 0)
			channel_failed(c, ret);
		if (ret <= 0 || !q)
			break;
		if (set->stop) {
			unreserve(q);
			qrec_free(q);
			break;
		}
		qlist_push(&c->queue, q);
		set->queue_bytes += q->charge;
		if (rec.type == MIGSTREAM_REC_STREAM_END && set->opts.end_at_stream_end)
			break; /* the sender waits for our answer before it closes */
		pthread_cond_broadcast(&set->more);
		pthread_mutex_unlock(&set->lock);
	}
	c->reading_done = true;
	pthread_cond_broadcast(&set->more);
	pthread_mutex_unlock(&set->lock);
	return NULL;
}

/* ---- opening and closing ---- */

static int start_threads(struct migstream_channel_set *set)
{
	sigset_t all, old;
	int ret = 0;

	/* Signals go to the consumer's thread: the new threads inherit this mask. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (unsigned int i = 0; i < set->n && !ret; i++) {
		ret = -pthread_create(&set->ch[i].thread, NULL, channel_main, &set->ch[i]);
		set->ch[i].thread_started = !ret;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return ret;
}

static int init_channel(struct migstream_channel_set *set, unsigned int i, const struct migstream_channel_input *in)
{
	struct channel *c = &set->ch[i];
	struct migstream_reader_opts ropts = { .caller_knows = set->opts.caller_knows };

	c->set = set;
	c->input = i;
	c->fd = in->fd;
	c->name = strdup(in->name ? in->name : "<stream>");
	c->peek = malloc(PEEK_MAX);
	if (!c->name || !c->peek)
		return -ENOMEM;
	vmt_grow_pipe(in->fd);
	return migstream_reader_new_cb(&c->reader, channel_read, c, c->name, &ropts);
}

int migstream_channel_set_open(struct migstream_channel_set **out, const struct migstream_channel_input *in,
			       unsigned int n, const struct migstream_channel_set_opts *opts)
{
	struct migstream_channel_set *set;
	int ret;

	*out = NULL;
	if (n < 1 || n > MIGSTREAM_MAX_CHANNELS)
		return -EINVAL;
	set = calloc(1, sizeof(*set));
	if (!set)
		return -ENOMEM;
	if (opts)
		set->opts = *opts;
	if (!set->opts.reorder_limit)
		set->opts.reorder_limit = MIGSTREAM_CHANNEL_REORDER_DEFAULT;
	if (!set->opts.queue_limit)
		set->opts.queue_limit = MIGSTREAM_CHANNEL_QUEUE_DEFAULT;
	set->n = n;
	set->all = n == 64 ? UINT64_MAX : (1ull << n) - 1;
	set->count = n;
	set->wake[0] = set->wake[1] = -1;
	pthread_mutex_init(&set->lock, NULL);
	pthread_mutex_init(&set->peek_lock, NULL);
	ret = vmt_cond_init_monotonic(&set->more);
	if (ret) {
		pthread_mutex_destroy(&set->lock);
		pthread_mutex_destroy(&set->peek_lock);
		free(set);
		return ret;
	}
	pthread_cond_init(&set->space, NULL);
	if (pipe2(set->wake, O_CLOEXEC | O_NONBLOCK) < 0) {
		ret = -errno;
		goto fail;
	}
	for (unsigned int i = 0; i < n; i++) {
		ret = init_channel(set, i, &in[i]);
		if (ret)
			goto fail;
	}
	ret = start_threads(set);
	if (ret)
		goto fail;
	*out = set;
	return 0;
fail:
	migstream_channel_set_free(set);
	return ret;
}

void migstream_channel_set_cancel(struct migstream_channel_set *set)
{
	ssize_t n;

	/* Async-signal-safe: an atomic flag and a write(2). */
	atomic_store(&set->cancel, true);
	n = write(set->wake[1], "x", 1);
	(void)n;
}

void migstream_channel_set_free(struct migstream_channel_set *set)
{
	struct qrec *q;

	if (!set)
		return;
	if (set->wake[1] >= 0)
		migstream_channel_set_cancel(set);
	pthread_mutex_lock(&set->lock);
	set->stop = true;
	pthread_cond_broadcast(&set->space);
	pthread_mutex_unlock(&set->lock);
	for (unsigned int i = 0; i < set->n; i++) {
		struct channel *c = &set->ch[i];

		if (c->thread_started)
			pthread_join(c->thread, NULL);
		migstream_reader_free(c->reader);
		qlist_free(&c->queue);
		free(c->name);
		free(c->peek);
	}
	for (unsigned int i = 0; i < set->ndev; i++) {
		struct set_device *d = &set->dev[i];

		while ((q = d->early)) {
			d->early = q->next;
			qrec_free(q);
		}
		free(d->device);
		free(d->end);
		XXH3_freeState(d->digest);
	}
	qlist_free(&set->ready);
	while ((q = set->held)) {
		set->held = q->next;
		qrec_free(q);
	}
	if (set->wake[0] >= 0)
		close(set->wake[0]);
	if (set->wake[1] >= 0)
		close(set->wake[1]);
	pthread_cond_destroy(&set->more);
	pthread_cond_destroy(&set->space);
	pthread_mutex_destroy(&set->lock);
	pthread_mutex_destroy(&set->peek_lock);
	ZSTD_freeDStream(set->peek_zstd);
	free(set);
}

/* ---- the set checks ---- */

/* Every channel's first two records are queued (or its thread is done). */
static bool heads_ready(const struct migstream_channel_set *set)
{
	for (unsigned int i = 0; i < set->n; i++)
		if (head_missing(&set->ch[i]))
			return false;
	return true;
}

static struct channel *channel_numbered(struct migstream_channel_set *set, uint32_t number)
{
	for (unsigned int i = 0; i < set->n; i++)
		if (set->ch[i].is_channel && set->ch[i].ch.channel == number)
			return &set->ch[i];
	return NULL;
}

/* Channel i's CHANNEL record against the first channel's and those of the channels before it. */
static int check_member(struct migstream_channel_set *set, unsigned int i)
{
	char label[300], fl[300], id[MIGSTREAM_SET_ID_HEX_LEN], fid[MIGSTREAM_SET_ID_HEX_LEN];
	const struct channel *c = &set->ch[i], *first = &set->ch[0];

	channel_label(c, label, sizeof(label));
	channel_label(first, fl, sizeof(fl));
	if (memcmp(c->ch.set_id, first->ch.set_id, MIGSTREAM_SET_ID_LEN)) {
		migstream_set_id_hex(c->ch.set_id, id);
		migstream_set_id_hex(first->ch.set_id, fid);
		return set_fail(set, -EBADMSG, "%s: from another set (set %s; %s is of set %s)", label, id, fl, fid);
	}
	if (c->ch.channel_count != first->ch.channel_count)
		return set_fail(set, -EBADMSG, "%s: says the set has %" PRIu32 " channels, %s says %" PRIu32, label,
				c->ch.channel_count, fl, first->ch.channel_count);
	for (unsigned int j = 0; j < i; j++) {
		if (set->ch[j].ch.channel != c->ch.channel)
			continue;
		channel_label(&set->ch[j], fl, sizeof(fl));
		return set_fail(set, -EBADMSG, "%s: given twice (%s is the same channel of the set)", label, fl);
	}
	return 0;
}

/* Decodes every channel's CHANNEL record (or finds a whole stream), then checks the set. */
static int check_set(struct migstream_channel_set *set)
{
	struct channel *first = &set->ch[0];
	char id[MIGSTREAM_SET_ID_HEX_LEN];
	const struct qrec *second;
	int ret;

	for (unsigned int i = 0; i < set->n; i++) {
		struct channel *c = &set->ch[i];

		second = c->queue.head ? c->queue.head->next : NULL;
		if (!second)
			continue; /* its thread failed: the error is set */
		if (second->rec.type != MIGSTREAM_REC_CHANNEL) {
			if (set->n == 1) {
				set->whole = true;
				set->count = 1;
				return 0;
			}
			return set_fail(set, -EBADMSG, "%s: a whole stream (no CHANNEL record), not a channel of a set",
					c->name);
		}
		c->ch = second->rec.channel;
		c->is_channel = true;
		ret = i ? check_member(set, i) : 0;
		if (ret)
			return ret;
	}
	if (set->err)
		return set->err;
	memcpy(set->set_id, first->ch.set_id, MIGSTREAM_SET_ID_LEN);
	set->count = first->ch.channel_count;
	migstream_set_id_hex(set->set_id, id);
	for (uint32_t k = 0; k < set->count; k++)
		if (!channel_numbered(set, k))
			return set_fail(set, -EBADMSG, "set %s: channel %" PRIu32 " of %u is missing (%u given)", id,
					k, set->count, set->n);
	return 0;
}

/*
 * Before anything goes out: the set checks, then channel 0's STREAM_HEADER
 * out, the other headers and every CHANNEL record dropped. 1 done, 0 not
 * yet (wait), <0 error.
 */
static int start_set(struct migstream_channel_set *set)
{
	struct channel *zero;
	struct qrec *q;
	int ret;

	if (!heads_ready(set))
		return 0;
	if (set->err)
		return set->err;
	ret = check_set(set);
	if (ret)
		return ret;
	set->started = true;
	if (set->whole)
		return 1;
	zero = channel_numbered(set, 0);
	for (unsigned int i = 0; i < set->n; i++) {
		struct channel *c = &set->ch[i];

		for (int k = 0; k < 2; k++) {
			q = qlist_pop(&c->queue);
			if (c == zero && k == 0) {
				qlist_push(&set->ready, q);
				continue;
			}
			set->queue_bytes -= q->charge;
			qrec_free(q);
		}
	}
	pthread_cond_broadcast(&set->space);
	return 1;
}

/* ---- merging ---- */

static struct set_device *find_device(struct migstream_channel_set *set, uint32_t index)
{
	for (unsigned int i = 0; i < set->ndev; i++)
		if (set->dev[i].index == index)
			return &set->dev[i];
	return NULL;
}

/* The first channel that ended (STREAM_END taken) without showing DEVICE d, or NULL. */
static struct channel *ended_without(struct migstream_channel_set *set, const struct set_device *d)
{
	for (unsigned int i = 0; i < set->n; i++)
		if (set->ch[i].finished && !(d->shown & (1ull << i)))
			return &set->ch[i];
	return NULL;
}

static int take_device(struct migstream_channel_set *set, struct qrec *q)
{
	struct set_device *d = find_device(set, q->rec.device.index);
	struct channel *c;
	char label[300];

	if (!d) {
		if (set->ndev >= MIGSTREAM_MAX_DEVICES)
			return rec_bad(set, q, "more than %d devices in the set", MIGSTREAM_MAX_DEVICES);
		d = &set->dev[set->ndev++];
		d->index = q->rec.device.index;
		d->device = malloc(q->rec.len ? q->rec.len : 1);
		d->digest = XXH3_createState();
		if (!d->device || !d->digest)
			return set_fail(set, -ENOMEM, "out of memory");
		XXH3_64bits_reset(d->digest);
		memcpy(d->device, q->rec.payload, q->rec.len);
		d->device_len = q->rec.len;
		d->device_from = q->input;
		d->shown = 1ull << q->input;
		c = ended_without(set, d);
		if (c) {
			channel_label(c, label, sizeof(label));
			return rec_bad(set, q, "device %" PRIu32 " is not on %s, which has ended", d->index, label);
		}
		qlist_push(&set->ready, q);
		return 1;
	}
	if (q->rec.len != d->device_len || memcmp(q->rec.payload, d->device, d->device_len)) {
		channel_label(&set->ch[d->device_from], label, sizeof(label));
		return rec_bad(set, q, "DEVICE record of device %" PRIu32 " differs from the one on %s", d->index,
			       label);
	}
	d->shown |= 1ull << q->input;
	set->queue_bytes -= q->charge;
	qrec_free(q);
	return 1;
}

/* A device's next chunk goes out: the checks of a whole stream's reader, on the merged order. */
static int emit_chunk(struct migstream_channel_set *set, struct set_device *d, struct qrec *q)
{
	const struct migstream_data *data = &q->rec.data;

	if (data->offset != d->next_offset)
		return rec_bad(set, q, "device %" PRIu32 " chunk %" PRIu64 ": offset %" PRIu64 ", expected %" PRIu64
			       " (after the chunks before it on every channel)", d->index, data->chunk_index,
			       data->offset, d->next_offset);
	if (d->stop_copy_seen && data->phase != MIGSTREAM_PHASE_STOP_COPY)
		return rec_bad(set, q, "device %" PRIu32 ": %s chunk %" PRIu64 " after STOP_COPY data", d->index,
			       migstream_phase_name(data->phase), data->chunk_index);
	XXH3_64bits_update(d->digest, data->data, data->len);
	d->next_chunk++;
	d->next_offset += data->len;
	if (data->phase == MIGSTREAM_PHASE_STOP_COPY)
		d->stop_copy_seen = true;
	qlist_push(&set->ready, q);
	return 0;
}

/* Early chunks that are now next follow the chunk that went out. */
static int drain_early(struct migstream_channel_set *set, struct set_device *d)
{
	struct qrec *q;
	int ret;

	while ((q = d->early) && q->rec.data.chunk_index == d->next_chunk) {
		d->early = q->next;
		d->early_bytes -= q->charge;
		set->reorder_bytes -= q->charge;
		set->queue_bytes += q->charge;
		ret = emit_chunk(set, d, q);
		if (ret) {
			set->queue_bytes -= q->charge;
			qrec_free(q);
			return ret;
		}
	}
	return 0;
}

/* An early chunk into its device's reorder buffer: 1, or 0 when it does not fit. */
static int keep_early(struct migstream_channel_set *set, struct set_device *d, struct qrec *q)
{
	uint64_t chunk = q->rec.data.chunk_index;
	struct qrec **p = &d->early;

	while (*p && (*p)->rec.data.chunk_index < chunk)
		p = &(*p)->next;
	if (*p && (*p)->rec.data.chunk_index == chunk)
		return rec_bad(set, q, "device %" PRIu32 ": chunk %" PRIu64 " twice (also on %s)", d->index, chunk,
			       set->ch[(*p)->input].name);
	unreserve(q);
	if (d->early_bytes + d->early_reserved + q->charge > set->opts.reorder_limit)
		return 0;
	q->next = *p;
	*p = q;
	d->early_bytes += q->charge;
	set->queue_bytes -= q->charge;
	set->reorder_bytes += q->charge;
	if (set->reorder_bytes > set->reorder_peak)
		set->reorder_peak = set->reorder_bytes;
	pthread_cond_broadcast(&set->space);
	return 1;
}

/* 1 taken, 0 it must wait at the head (DEVICE not on every channel yet, no reorder room). */
static int take_data(struct migstream_channel_set *set, struct qrec *q)
{
	struct set_device *d = find_device(set, q->rec.data.device);
	uint64_t chunk = q->rec.data.chunk_index;
	int ret;

	/* The channel's reader saw its DEVICE first, and the set took it. */
	if (!d)
		return rec_bad(set, q, "DATA of device %" PRIu32 " that the set does not know", q->rec.data.device);
	if ((d->shown & set->all) != set->all)
		return 0;
	if (chunk < d->next_chunk)
		return rec_bad(set, q, "device %" PRIu32 ": chunk %" PRIu64 " twice (it went out already)", d->index,
			       chunk);
	if (chunk > d->next_chunk)
		return keep_early(set, d, q);
	unreserve(q);
	ret = emit_chunk(set, d, q);
	if (ret)
		return ret;
	/* q went out: an error of an early chunk is the set's (sticky), seen by merge_step */
	drain_early(set, d);
	return 1;
}

/* Every channel's DEVICE_END was taken: the device is whole, or chunks are missing. */
static int device_complete(struct migstream_channel_set *set, struct set_device *d, struct qrec *q)
{
	const struct migstream_device_end *end = &q->rec.device_end;
	uint64_t digest;

	if (d->next_chunk < end->chunk_count)
		return rec_bad(set, q, "device %" PRIu32 ": chunk %" PRIu64 " of %" PRIu64 " is on no channel", d->index,
			       d->next_chunk, end->chunk_count);
	if (d->early || d->next_chunk != end->chunk_count)
		return rec_bad(set, q, "device %" PRIu32 ": DEVICE_END says %" PRIu64 " chunks, the channels carried %" PRIu64,
			       d->index, end->chunk_count, d->next_chunk);
	if (d->next_offset != end->total_bytes)
		return rec_bad(set, q, "device %" PRIu32 ": DEVICE_END says %" PRIu64 " bytes, the channels carried %" PRIu64,
			       d->index, end->total_bytes, d->next_offset);
	digest = XXH3_64bits_digest(d->digest);
	if (check_failed(digest != end->state_digest))
		return rec_bad(set, q, "device %" PRIu32 ": state digest mismatch (DEVICE_END %016" PRIx64
			       ", data of all channels %016" PRIx64 ")", d->index, end->state_digest, digest);
	qlist_push(&set->ready, q);
	return 1;
}

static int take_device_end(struct migstream_channel_set *set, struct qrec *q)
{
	struct set_device *d = find_device(set, q->rec.device_end.device);
	char label[300];

	/* The channel's reader saw its DEVICE first, and the set took it. */
	if (!d)
		return rec_bad(set, q, "DEVICE_END of device %" PRIu32 " that the set does not know",
			       q->rec.device_end.device);
	if (!d->end) {
		d->end = malloc(q->rec.len ? q->rec.len : 1);
		if (!d->end)
			return set_fail(set, -ENOMEM, "out of memory");
		memcpy(d->end, q->rec.payload, q->rec.len);
		d->end_len = q->rec.len;
		d->end_from = q->input;
	} else if (q->rec.len != d->end_len || memcmp(q->rec.payload, d->end, d->end_len)) {
		channel_label(&set->ch[d->end_from], label, sizeof(label));
		return rec_bad(set, q, "DEVICE_END of device %" PRIu32 " differs from the one on %s", d->index, label);
	}
	d->ended |= 1ull << q->input;
	if ((d->ended & set->all) == set->all)
		return device_complete(set, d, q);
	set->queue_bytes -= q->charge;
	qrec_free(q);
	return 1;
}

/* A channel's STREAM_END: it carried every device of the set. 0 while it may still have bytes after it. */
static int take_stream_end(struct migstream_channel_set *set, struct channel *c, struct qrec *q)
{
	if (!c->reading_done)
		return 0;
	for (unsigned int i = 0; i < set->ndev; i++)
		if (!(set->dev[i].shown & (1ull << c->input)))
			return rec_bad(set, q, "device %" PRIu32 " (DEVICE on %s) is not on this channel",
				       set->dev[i].index, set->ch[set->dev[i].device_from].name);
	c->finished = true;
	set->queue_bytes -= q->charge;
	qrec_free(q);
	return 1;
}

/* Back to the front of c's queue: the record waits there. */
static void qlist_unpop(struct qlist *l, struct qrec *q)
{
	q->next = l->head;
	l->head = q;
	if (!l->tail)
		l->tail = q;
	l->len++;
}

/* The head of c's queue: 1 taken (out, kept early or dropped), 0 it waits there, <0 error. */
static int take_head(struct migstream_channel_set *set, struct channel *c)
{
	struct qrec *q = qlist_pop(&c->queue);
	int ret;

	if (set->whole) {
		if (q->rec.type == MIGSTREAM_REC_STREAM_END && !c->reading_done)
			ret = 0;
		else
			qlist_push(&set->ready, q), ret = 1;
	} else {
		switch (q->rec.type) {
		case MIGSTREAM_REC_DEVICE:
			ret = take_device(set, q);
			break;
		case MIGSTREAM_REC_DATA:
			ret = take_data(set, q);
			break;
		case MIGSTREAM_REC_DEVICE_END:
			ret = take_device_end(set, q);
			break;
		case MIGSTREAM_REC_STREAM_END:
			ret = take_stream_end(set, c, q);
			break;
		default:
			/* PRECOPY_INFO, INIT_DATA_SENT, DIRTY_BITMAP, unknown ancillary: as they come */
			qlist_push(&set->ready, q);
			ret = 1;
		}
	}
	/* Not taken (or failed): the queue keeps it, for the deadlock check and to be freed. */
	if (ret <= 0)
		qlist_unpop(&c->queue, q);
	return ret;
}

/* Takes heads of every channel until something is ready: 1 progress, 0 none, <0 error. */
static int merge_step(struct migstream_channel_set *set)
{
	int progress = 0, ret;

	for (unsigned int k = 0; k < set->n; k++) {
		unsigned int i = (set->rr + k) % set->n;
		struct channel *c = &set->ch[i];

		while (c->queue.head) {
			ret = take_head(set, c);
			if (ret < 0)
				return ret;
			if (set->err)
				return set->err;
			if (ret == 0)
				break;
			progress = 1;
			pthread_cond_broadcast(&set->space);
			if (set->ready.head) {
				set->rr = (i + 1) % set->n;
				return 1;
			}
		}
	}
	return progress;
}

/* The set's own STREAM_END, once every channel ended: the merged stream's totals. */
static int emit_stream_end(struct migstream_channel_set *set)
{
	struct qrec *q = calloc(1, sizeof(*q) + MIGSTREAM_STREAM_END_LEN);

	if (!q)
		return set_fail(set, -ENOMEM, "out of memory");
	q->charge = sizeof(*q) + MIGSTREAM_STREAM_END_LEN;
	q->input = 0;
	q->rec.type = MIGSTREAM_REC_STREAM_END;
	q->rec.seq = (uint32_t)set->out_records;
	q->rec.stored_len = q->rec.raw_len = q->rec.len = MIGSTREAM_STREAM_END_LEN;
	q->rec.payload = q->payload;
	q->rec.stream_end = (struct migstream_stream_end){
		.record_count = set->out_records,
		.payload_bytes = set->out_payload,
		.device_count = set->ndev,
	};
	migstream_encode_stream_end(&q->rec.stream_end, q->payload);
	set->queue_bytes += q->charge;
	qlist_push(&set->ready, q);
	return 1;
}

static bool all_finished(const struct migstream_channel_set *set)
{
	for (unsigned int i = 0; i < set->n; i++)
		if (!set->ch[i].finished)
			return false;
	return true;
}

/* The reason the set cannot go on when every channel waits to read a record that has no room. */
static void fail_no_room(struct migstream_channel_set *set, const struct channel *c)
{
	const struct set_device *d = early_device(set, &c->want);
	char label[300];

	channel_label(c, label, sizeof(label));
	if (d)
		set_fail(set, -ENOBUFS, "%s: device %" PRIu32 " chunk %" PRIu64 " does not fit in the reorder buffer"
			 " (%" PRIu64 " bytes of early chunks wait for chunk %" PRIu64 ", limit %" PRIu64 ") and every"
			 " channel waits: the channels are too far apart; raise the reorder buffer", label, d->index,
			 c->want.chunk, d->early_bytes, d->next_chunk, set->opts.reorder_limit);
	else
		set_fail(set, -ENOBUFS, "%s: its next record (%" PRIu64 " bytes) does not fit in the read-ahead"
			 " (%" PRIu64 " bytes held, limit %" PRIu64 ") and every channel waits: raise the read-ahead"
			 " or the reorder buffer", label, c->want.cost, set->queue_bytes + set->reading_bytes,
			 set->opts.queue_limit);
}

/*
 * Nothing can move: every channel that has not ended has a DATA record at
 * its head that cannot be taken, or waits for room to read its next
 * record that nothing will free. Fails with the reason (see the top of
 * the file); false when some channel may still bring something.
 */
static bool deadlocked(struct migstream_channel_set *set)
{
	const struct qrec *stuck = NULL;
	const struct channel *waiter = NULL;
	bool heads = false;

	for (unsigned int i = 0; i < set->n; i++) {
		const struct channel *c = &set->ch[i];
		const struct qrec *q = c->queue.head;
		const struct set_device *d;

		if (c->finished)
			continue;
		if (!q) {
			/* reading, or peeking at what comes next: it will bring a record */
			if (!waits_for_room(set, c))
				return false;
			if (!waiter)
				waiter = c;
			continue;
		}
		if (q->rec.type != MIGSTREAM_REC_DATA)
			return false;
		heads = true;
		d = find_device(set, q->rec.data.device);
		if (d && (d->shown & set->all) == set->all)
			stuck = q; /* waits for reorder room, not for a DEVICE */
	}
	if (!stuck && waiter) {
		fail_no_room(set, waiter);
		return true;
	}
	if (!stuck) {
		for (unsigned int i = 0; i < set->n && !set->err && heads; i++)
			if (!set->ch[i].finished && set->ch[i].queue.head)
				rec_bad(set, set->ch[i].queue.head, "DATA of a device before every channel has its DEVICE"
					" record, and the channels wait for each other (DEVICE records in different orders)");
		return heads;
	}
	const struct set_device *d = find_device(set, stuck->rec.data.device);

	if (!d)
		return false; /* cannot be: stuck has a device */
	rec_fail(set, -ENOBUFS, stuck,
		 "device %" PRIu32 " chunk %" PRIu64 " does not fit in the reorder buffer (%" PRIu64 " bytes of"
		 " early chunks wait for chunk %" PRIu64 ", limit %" PRIu64 ") and every channel waits: the channels"
		 " are too far apart; raise the reorder buffer", d->index, stuck->rec.data.chunk_index,
		 d->early_bytes, d->next_chunk, set->opts.reorder_limit);
	return true;
}

/*
 * Before the set starts nothing is taken, so nothing frees room: when every
 * channel that still owes its first two records waits for room, it will
 * wait for ever (heads of records too big for the read-ahead, which no
 * channel's STREAM_HEADER and CHANNEL are). Fails with the reason.
 */
static bool start_deadlocked(struct migstream_channel_set *set)
{
	const struct channel *waiter = NULL;

	for (unsigned int i = 0; i < set->n; i++) {
		const struct channel *c = &set->ch[i];

		if (!head_missing(c))
			continue;
		if (!waits_for_room(set, c))
			return false;
		waiter = c;
	}
	if (!waiter)
		return false;
	fail_no_room(set, waiter);
	return true;
}

static bool cancel_asked(struct migstream_channel_set *set)
{
	return atomic_load(&set->cancel) || (set->opts.cancelled && set->opts.cancelled(set->opts.cancel_ctx));
}

static void wait_step(struct migstream_channel_set *set)
{
	vmt_cond_wait_for(&set->more, &set->lock, WAIT_STEP_MS * NSEC_PER_MSEC);
}

static bool all_reading_done(const struct migstream_channel_set *set)
{
	for (unsigned int i = 0; i < set->n; i++)
		if (!set->ch[i].reading_done)
			return false;
	return true;
}

/* Under the lock: the next record to go out in *out: 1, 0 clean end, <0 error. */
static int merge_next(struct migstream_channel_set *set, struct qrec **out)
{
	int ret;

	for (;;) {
		if (set->err)
			return set->err;
		if (cancel_asked(set))
			return set_fail(set, -ECANCELED, "cancelled");
		if (set->ready.head) {
			*out = qlist_pop(&set->ready);
			return 1;
		}
		if (set->end_out && all_reading_done(set))
			return 0;
		if (set->end_out) {
			wait_step(set);
			continue;
		}
		if (!set->started) {
			ret = start_set(set);
			if (ret < 0)
				return ret;
			if (ret == 0 && start_deadlocked(set))
				return set->err;
			if (ret == 0)
				wait_step(set);
			continue;
		}
		ret = merge_step(set);
		if (ret < 0)
			return ret;
		if (ret > 0)
			continue;
		if (!set->whole && all_finished(set)) {
			ret = emit_stream_end(set);
			if (ret < 0)
				return ret;
			continue;
		}
		if (!set->whole && deadlocked(set))
			return set->err;
		wait_step(set);
	}
}

static void release_held(struct migstream_channel_set *set, struct qrec *q)
{
	if (q->prev)
		q->prev->next = q->next;
	else
		set->held = q->next;
	if (q->next)
		q->next->prev = q->prev;
	set->queue_bytes -= q->charge;
	qrec_free(q);
	pthread_cond_broadcast(&set->space);
}

int migstream_channel_set_next(struct migstream_channel_set *set, struct migstream_record *rec,
			       unsigned int *channel)
{
	struct qrec *q;
	int ret;

	pthread_mutex_lock(&set->lock);
	for (q = set->held; q; q = q->next)
		if (q->owner == rec) {
			release_held(set, q);
			break;
		}
	ret = merge_next(set, &q);
	if (ret == 1) {
		q->owner = rec;
		q->prev = NULL;
		q->next = set->held;
		if (set->held)
			set->held->prev = q;
		set->held = q;
		*rec = q->rec;
		if (channel)
			*channel = set->ch[q->input].is_channel ? set->ch[q->input].ch.channel : q->input;
		if (q->rec.type == MIGSTREAM_REC_STREAM_END)
			set->end_out = true;
		set->out_records++;
		set->out_payload += q->rec.stored_len;
	}
	pthread_mutex_unlock(&set->lock);
	return ret;
}

void migstream_channel_set_release(struct migstream_channel_set *set, const struct migstream_record *rec)
{
	pthread_mutex_lock(&set->lock);
	/* By payload: the consumer may have copied the struct to hand it on. */
	for (struct qrec *q = set->held; q; q = q->next)
		if (q->rec.payload == rec->payload) {
			release_held(set, q);
			break;
		}
	pthread_mutex_unlock(&set->lock);
}

void *migstream_channel_set_take_payload(struct migstream_channel_set *set, const struct migstream_record *rec,
					 size_t *cap)
{
	void *buf = NULL;

	*cap = 0;
	pthread_mutex_lock(&set->lock);
	for (struct qrec *q = set->held; q; q = q->next) {
		if (q->rec.payload != rec->payload || !q->buf)
			continue;
		buf = q->buf;
		*cap = q->charge - sizeof(*q);
		q->buf = NULL;
		release_held(set, q);
		break;
	}
	pthread_mutex_unlock(&set->lock);
	return buf;
}

const char *migstream_channel_set_error(const struct migstream_channel_set *set)
{
	return set->msg;
}

unsigned int migstream_channel_set_count(const struct migstream_channel_set *set, uint8_t *id)
{
	if (id)
		memcpy(id, set->set_id, MIGSTREAM_SET_ID_LEN);
	return set->count;
}

const char *migstream_channel_set_waiting(struct migstream_channel_set *set, uint64_t *offset)
{
	const struct channel *w = &set->ch[0];

	pthread_mutex_lock(&set->lock);
	for (unsigned int i = 0; i < set->n; i++) {
		const struct channel *c = &set->ch[i];

		/* before the set checks, each channel's first two records are waited for */
		if (!c->finished && c->queue.len < (set->started ? 1u : 2u)) {
			w = c;
			break;
		}
	}
	pthread_mutex_unlock(&set->lock);
	*offset = atomic_load(&w->bytes);
	return w->name;
}

uint64_t migstream_channel_set_bytes(const struct migstream_channel_set *set)
{
	uint64_t sum = 0;

	for (unsigned int i = 0; i < set->n; i++)
		sum += atomic_load(&set->ch[i].bytes);
	return sum;
}

uint64_t migstream_channel_set_reorder_peak(const struct migstream_channel_set *set)
{
	return set->reorder_peak;
}

uint64_t migstream_channel_set_read_ahead_peak(const struct migstream_channel_set *set)
{
	return set->read_ahead_peak;
}
