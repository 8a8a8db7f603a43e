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
 * under one lock that channel threads take only to queue a record. The
 * merge rules themselves, and the memory and deadlock rules below, are
 * channel-merge.c: state without threads, tested on their own.
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
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zstd.h>

#include "common/c.h"
#include "common/fdio.h"
#include "common/thread-wait.h"
#include "stream/byteorder.h"
#include "stream/channel-merge.h"
#include "stream/channel-set.h"

#define WAIT_STEP_MS 100

/*
 * Bytes of a channel read ahead of its reader to learn what its next record
 * is: the preamble, a record header and the start of the payload, up to the
 * end of a zstd frame's first block (frame header, block header and at most
 * 128 KiB: the DATA prefix is in the first block).
 */
#define PEEK_MAX (MIGSTREAM_PREAMBLE_LEN + MIGSTREAM_RECORD_HEADER_LEN + 32 + (128u << 10))

/* A channel's reader thread; what the merge knows of the channel is in mc. */
struct channel {
	/* immutable after start */
	struct migstream_channel_set *set;
	struct merge_channel *mc; /* guarded by the set's lock */
	unsigned int input;
	int fd;
	pthread_t thread;
	bool thread_started;
	/* atomic: bytes read from fd (for progress and messages) */
	_Atomic uint64_t bytes;
	/* the channel's thread's own */
	struct migstream_reader *reader;
	/* read from the fd, not yet by the reader: the next record's start (PEEK_MAX) */
	uint8_t *peek;
	size_t peek_len, peek_pos;
	int peek_err; /* a read error while peeking, for the reader */
	bool preamble_read;
	bool stream_ended; /* the reader handed out STREAM_END: only end of file follows */
	/* guarded by the set's lock */
	bool reading;	   /* room granted: reading it */
	uint64_t reserved; /* of the read-ahead, while reading */
	struct set_device *reorder_dev;
	uint64_t reorder_reserved;
};

struct migstream_channel_set {
	/* immutable after start */
	struct migstream_channel_set_opts opts;
	struct channel ch[MIGSTREAM_MAX_CHANNELS];
	int wake[2];
	pthread_mutex_t lock;
	pthread_cond_t
		more; /* the consumer waits: a record was queued, a thread ended (monotonic) */
	pthread_cond_t space; /* channel threads wait: queue memory was freed */
	/* atomic */
	atomic_bool cancel;
	/* guarded by lock */
	bool stop;		    /* threads return */
	struct channel_merge merge; /* the merge's state: channel-merge.h */
	struct qrec *held;	    /* records the consumer holds */
	bool end_out;		    /* STREAM_END went out */
	/* guarded by peek_lock: one zstd stream finds every channel's DATA prefixes */
	pthread_mutex_t peek_lock;
	ZSTD_DStream *peek_zstd;
};

/* The merge's first failure: every thread is told to stop. Under the lock. */
static void set_failed(void *ctx)
{
	struct migstream_channel_set *set = ctx;
	ssize_t n;

	set->stop = true;
	n = write(set->wake[1], "x", 1);
	(void)n; /* the pipe already holds a byte: every poll sees it anyway */
	pthread_cond_broadcast(&set->space);
	pthread_cond_broadcast(&set->more);
}

/* Memory went back: channel threads that wait for room look again. Under the lock. */
static void room_freed(void *ctx)
{
	struct migstream_channel_set *set = ctx;

	pthread_cond_broadcast(&set->space);
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
		if (errno == EINTR && set->opts.cancelled &&
		    set->opts.cancelled(set->opts.cancel_ctx))
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
	size_t nlen = strlen(c->mc->name);
	char label[300];

	if (set->merge.err)
		return;
	if (err == -ECANCELED && (atomic_load(&set->cancel) || set->stop)) {
		channel_merge_fail(&set->merge, -ECANCELED, "cancelled");
		return;
	}
	if (strncmp(msg, c->mc->name, nlen) == 0 && msg[nlen] == ':' && msg[nlen + 1] == ' ')
		msg += nlen + 2;
	if (ch)
		snprintf(label, sizeof(label), "channel %" PRIu32 " (%s)", ch->channel,
			 c->mc->name);
	else
		snprintf(label, sizeof(label), "%s", c->mc->name);
	channel_merge_fail(&set->merge, err, "%s: %s", label, msg);
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
static bool peek_zstd_prefix(struct channel *c, size_t at, uint32_t stored_len,
			     uint8_t out[MIGSTREAM_DATA_PREFIX_LEN])
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

	*nr = (struct next_rec){ .cost = sizeof(struct qrec) + 64,
				 .charge = sizeof(struct qrec) + 64 };
	if (c->stream_ended || !peek_fill(c, at + MIGSTREAM_RECORD_HEADER_LEN))
		return;
	hdr = c->peek + at;
	migstream_decode_record_header(hdr, &h);
	if (h.header_check != migstream_record_header_check(hdr) ||
	    h.stored_len > MIGSTREAM_MAX_PAYLOAD || h.raw_len > MIGSTREAM_MAX_PAYLOAD)
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

/* Under the lock: waits for room to read nr; false when the set stops. */
static bool wait_for_room(struct migstream_channel_set *set, struct channel *c,
			  const struct next_rec *nr)
{
	c->mc->want = *nr;
	c->mc->waiting = true;
	pthread_cond_broadcast(&set->more); /* for the consumer's deadlock check */
	while (!set->stop && !channel_merge_room_for(&set->merge, c->mc))
		pthread_cond_wait(&set->space, &set->lock);
	c->mc->waiting = false;
	if (set->stop)
		return false;
	c->reading = true;
	c->reserved = nr->cost;
	set->merge.reading_bytes += nr->cost;
	if (set->merge.queue_bytes + set->merge.reading_bytes > set->merge.read_ahead_peak)
		set->merge.read_ahead_peak = set->merge.queue_bytes + set->merge.reading_bytes;
	c->reorder_dev = channel_merge_early_device(&set->merge, nr);
	if (c->reorder_dev) {
		c->reorder_reserved = nr->charge;
		c->reorder_dev->early_reserved += nr->charge;
	}
	return true;
}

/* Under the lock: the record was read (q, or NULL on an error): its room is its queue charge now. */
static void read_done(struct migstream_channel_set *set, struct channel *c, struct qrec *q)
{
	set->merge.reading_bytes -= c->reserved;
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
			channel_merge_fail(&set->merge, -ENOMEM,
					   "%s: out of memory for a record of %" PRIu32 " bytes",
					   c->mc->name, rec.len);
		if (ret < 0)
			channel_failed(c, ret);
		if (ret <= 0 || !q)
			break;
		if (set->stop) {
			channel_merge_unreserve(q);
			qrec_free(q);
			break;
		}
		qlist_push(&c->mc->queue, q);
		set->merge.queue_bytes += q->charge;
		if (rec.type == MIGSTREAM_REC_STREAM_END && set->opts.end_at_stream_end)
			break; /* the sender waits for our answer before it closes */
		pthread_cond_broadcast(&set->more);
		pthread_mutex_unlock(&set->lock);
	}
	c->mc->reading_done = true;
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
	for (unsigned int i = 0; i < set->merge.n && !ret; i++) {
		ret = -pthread_create(&set->ch[i].thread, NULL, channel_main, &set->ch[i]);
		set->ch[i].thread_started = !ret;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return ret;
}

static int init_channel(struct migstream_channel_set *set, unsigned int i,
			const struct migstream_channel_input *in)
{
	struct channel *c = &set->ch[i];
	struct migstream_reader_opts ropts = { .caller_knows = set->opts.caller_knows };

	c->set = set;
	c->mc = &set->merge.ch[i];
	c->input = i;
	c->fd = in->fd;
	c->mc->name = strdup(in->name ? in->name : "<stream>");
	c->peek = malloc(PEEK_MAX);
	if (!c->mc->name || !c->peek)
		return -ENOMEM;
	vmt_grow_pipe(in->fd);
	return migstream_reader_new_cb(&c->reader, channel_read, c, c->mc->name, &ropts);
}

int migstream_channel_set_open(struct migstream_channel_set **out,
			       const struct migstream_channel_input *in, unsigned int n,
			       const struct migstream_channel_set_opts *opts)
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
	channel_merge_init(&set->merge, n, set->opts.queue_limit, set->opts.reorder_limit,
			   &(struct channel_merge_hooks){
				   .failed = set_failed, .room_freed = room_freed, .ctx = set });
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
	for (unsigned int i = 0; i < set->merge.n; i++) {
		struct channel *c = &set->ch[i];

		if (c->thread_started)
			pthread_join(c->thread, NULL);
		migstream_reader_free(c->reader);
		free(c->peek);
	}
	channel_merge_free(&set->merge);
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

static bool cancel_asked(struct migstream_channel_set *set)
{
	return atomic_load(&set->cancel) ||
	       (set->opts.cancelled && set->opts.cancelled(set->opts.cancel_ctx));
}

static void wait_step(struct migstream_channel_set *set)
{
	vmt_cond_wait_for(&set->more, &set->lock, WAIT_STEP_MS * NSEC_PER_MSEC);
}

/* Under the lock: the next record to go out in *out: 1, 0 clean end, <0 error. */
static int merge_next(struct migstream_channel_set *set, struct qrec **out)
{
	int ret;

	for (;;) {
		if (set->merge.err)
			return set->merge.err;
		if (cancel_asked(set))
			return channel_merge_fail(&set->merge, -ECANCELED, "cancelled");
		if (set->merge.ready.head) {
			*out = channel_merge_take_ready(&set->merge);
			return 1;
		}
		if (set->end_out && channel_merge_all_reading_done(&set->merge))
			return 0;
		if (set->end_out) {
			wait_step(set);
			continue;
		}
		if (!set->merge.started) {
			ret = channel_merge_start(&set->merge);
			if (ret < 0)
				return ret;
			if (ret == 0 && channel_merge_start_deadlocked(&set->merge))
				return set->merge.err;
			if (ret == 0)
				wait_step(set);
			continue;
		}
		ret = channel_merge_step(&set->merge);
		if (ret < 0)
			return ret;
		if (ret > 0)
			continue;
		if (!set->merge.whole && channel_merge_all_finished(&set->merge)) {
			ret = channel_merge_emit_stream_end(&set->merge);
			if (ret < 0)
				return ret;
			continue;
		}
		if (!set->merge.whole && channel_merge_deadlocked(&set->merge))
			return set->merge.err;
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
	set->merge.queue_bytes -= q->charge;
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
			*channel = set->merge.ch[q->input].is_channel
					   ? set->merge.ch[q->input].ch.channel
					   : q->input;
		if (q->rec.type == MIGSTREAM_REC_STREAM_END)
			set->end_out = true;
		set->merge.out_records++;
		set->merge.out_payload += q->rec.stored_len;
	}
	pthread_mutex_unlock(&set->lock);
	return ret;
}

void migstream_channel_set_release(struct migstream_channel_set *set,
				   const struct migstream_record *rec)
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

void *migstream_channel_set_take_payload(struct migstream_channel_set *set,
					 const struct migstream_record *rec, size_t *cap)
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
	return set->merge.msg;
}

unsigned int migstream_channel_set_count(const struct migstream_channel_set *set, uint8_t *id)
{
	if (id)
		memcpy(id, set->merge.set_id, MIGSTREAM_SET_ID_LEN);
	return set->merge.count;
}

const char *migstream_channel_set_waiting(struct migstream_channel_set *set, uint64_t *offset)
{
	const struct channel *w = &set->ch[0];

	pthread_mutex_lock(&set->lock);
	for (unsigned int i = 0; i < set->merge.n; i++) {
		const struct channel *c = &set->ch[i];

		/* before the set checks, each channel's first two records are waited for */
		if (!c->mc->finished && c->mc->queue.len < (set->merge.started ? 1u : 2u)) {
			w = c;
			break;
		}
	}
	pthread_mutex_unlock(&set->lock);
	*offset = atomic_load(&w->bytes);
	return w->mc->name;
}

uint64_t migstream_channel_set_bytes(const struct migstream_channel_set *set)
{
	uint64_t sum = 0;

	for (unsigned int i = 0; i < set->merge.n; i++)
		sum += atomic_load(&set->ch[i].bytes);
	return sum;
}

uint64_t migstream_channel_set_reorder_peak(const struct migstream_channel_set *set)
{
	return set->merge.reorder_peak;
}

uint64_t migstream_channel_set_read_ahead_peak(const struct migstream_channel_set *set)
{
	return set->merge.read_ahead_peak;
}
