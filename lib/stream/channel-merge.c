// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The channel set's merge rules (channel-merge.h): what a channel's next
 * record is to the merged stream, the set checks, and when nothing can
 * move any more. State over struct channel_merge only: no threads, no
 * fds; what the set must do about a failure or freed room goes through
 * the hooks.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "common/c.h"
#include "stream/channel-merge.h"

/* As in the reader: a fuzzing build cannot forge XXH3 checks. */
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
#define check_failed(cond) ((void)(cond), false)
#else
#define check_failed(cond) (cond)
#endif

void channel_merge_init(struct channel_merge *m, unsigned int n, uint64_t queue_limit,
			uint64_t reorder_limit, const struct channel_merge_hooks *hooks)
{
	memset(m, 0, sizeof(*m));
	m->n = n;
	m->all = n == 64 ? UINT64_MAX : (1ull << n) - 1;
	m->count = n;
	m->queue_limit = queue_limit;
	m->reorder_limit = reorder_limit;
	if (hooks)
		m->hooks = *hooks;
	for (unsigned int i = 0; i < n; i++)
		m->ch[i].input = i;
}

void channel_merge_free(struct channel_merge *m)
{
	struct reorder_node *n;

	for (unsigned int i = 0; i < m->n; i++) {
		qlist_free(&m->ch[i].queue);
		free(m->ch[i].name);
		m->ch[i].name = NULL;
	}
	for (unsigned int i = 0; i < m->ndev; i++) {
		struct set_device *d = &m->dev[i];

		while ((n = reorder_take_first(&d->early)))
			qrec_free(container_of(n, struct qrec, early));
		free(d->device);
		free(d->end);
		XXH3_freeState(d->digest);
	}
	m->ndev = 0;
	qlist_free(&m->ready);
}

/* Memory was freed: a reader waiting for room may go on. */
static void room_freed(struct channel_merge *m)
{
	if (m->hooks.room_freed)
		m->hooks.room_freed(m->hooks.ctx);
}

struct qrec *channel_merge_take_ready(struct channel_merge *m)
{
	return qlist_pop(&m->ready);
}

/* ---- errors ---- */

/* "channel 1 (b.vms)", or the file alone while it is not known to be a channel. */
static void channel_label(const struct merge_channel *c, char *buf, size_t len)
{
	if (c->is_channel)
		snprintf(buf, len, "channel %" PRIu32 " (%s)", c->ch.channel, c->name);
	else
		snprintf(buf, len, "%s", c->name);
}

int channel_merge_fail(struct channel_merge *m, int err, const char *fmt, ...)
{
	va_list ap;

	if (m->err)
		return m->err;
	va_start(ap, fmt);
	vsnprintf(m->msg, sizeof(m->msg), fmt, ap);
	va_end(ap);
	m->err = err;
	if (m->hooks.failed)
		m->hooks.failed(m->hooks.ctx);
	return err;
}

/* An error about a record of a channel: names the channel, the record and its byte offset. */
VMT_PRINTF(4, 5)
static int rec_fail(struct channel_merge *m, int err, const struct qrec *q, const char *fmt, ...)
{
	char label[300], what[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	channel_label(&m->ch[q->input], label, sizeof(label));
	return channel_merge_fail(m, err, "%s: record %" PRIu32 " (%s) at byte %" PRIu64 ": %s",
				  label, q->rec.seq, migstream_record_type_name(q->rec.type),
				  q->rec.offset, what);
}

#define rec_bad(m, q, ...) rec_fail(m, -EBADMSG, q, __VA_ARGS__)

/* ---- room: where a channel's next record goes, and whether it may be read ---- */

static struct set_device *find_device(struct channel_merge *m, uint32_t index)
{
	for (unsigned int i = 0; i < m->ndev; i++)
		if (m->dev[i].index == index)
			return &m->dev[i];
	return NULL;
}

enum next_kind {
	NEXT_NEEDED, /* the merge takes it as soon as it is read (DEVICE, the next chunk, ...) */
	NEXT_EARLY,  /* a chunk ahead of its device's next: for the reorder buffer */
	NEXT_LATER,  /* DATA whose device the merge has not taken yet: it waits until it has */
};

/* Where c's next record goes; *dev: an early chunk's device. */
static enum next_kind next_kind(struct channel_merge *m, const struct next_rec *nr,
				struct set_device **dev)
{
	struct set_device *d;

	*dev = NULL;
	if (!nr->data || m->whole)
		return NEXT_NEEDED;
	/* the reader saw the channel's DEVICE before this: the merge takes it from its queue */
	d = m->started ? find_device(m, nr->device) : NULL;
	if (!d)
		return NEXT_LATER;
	if (nr->chunk <= d->next_chunk)
		return NEXT_NEEDED;
	*dev = d;
	return NEXT_EARLY;
}

struct set_device *channel_merge_early_device(struct channel_merge *m, const struct next_rec *nr)
{
	struct set_device *d;

	return next_kind(m, nr, &d) == NEXT_EARLY ? d : NULL;
}

bool channel_merge_head_missing(const struct merge_channel *c)
{
	return c->queue.len < 2 && !c->reading_done;
}

/*
 * Whether c may read the record it peeked (see "Memory" in channel-set.c): a
 * record the merge needs next within queue_limit plus one record of the
 * largest size; an early chunk within queue_limit and only when its
 * device's reorder buffer has room for it (kept for it while it is read).
 */
bool channel_merge_room_for(struct channel_merge *m, const struct merge_channel *c)
{
	const struct next_rec *nr = &c->want;
	uint64_t used = m->queue_bytes + m->reading_bytes;
	struct set_device *d = NULL;
	/*
	 * Nothing goes out before every channel showed its first two records
	 * (whatever they are: the set's checks refuse a DATA there), so they
	 * are read as the merge's next.
	 */
	enum next_kind kind =
		!m->started && channel_merge_head_missing(c) ? NEXT_NEEDED : next_kind(m, nr, &d);

	switch (kind) {
	case NEXT_NEEDED:
		return used + nr->cost <= m->queue_limit + MIGSTREAM_CHANNEL_RECORD_MAX;
	case NEXT_EARLY:
		return used + nr->cost <= m->queue_limit &&
		       d->early_bytes + d->early_reserved + nr->charge <= m->reorder_limit;
	default:
		return false;
	}
}

bool channel_merge_waits_for_room(struct channel_merge *m, const struct merge_channel *c)
{
	return c->waiting && !channel_merge_room_for(m, c);
}

void channel_merge_unreserve(struct qrec *q)
{
	if (!q->reorder_dev)
		return;
	q->reorder_dev->early_reserved -= q->reorder_reserved;
	q->reorder_dev = NULL;
	q->reorder_reserved = 0;
}

/* ---- the set checks ---- */

/* Every channel's first two records are queued (or its thread is done). */
static bool heads_ready(const struct channel_merge *m)
{
	for (unsigned int i = 0; i < m->n; i++)
		if (channel_merge_head_missing(&m->ch[i]))
			return false;
	return true;
}

static struct merge_channel *channel_numbered(struct channel_merge *m, uint32_t number)
{
	for (unsigned int i = 0; i < m->n; i++)
		if (m->ch[i].is_channel && m->ch[i].ch.channel == number)
			return &m->ch[i];
	return NULL;
}

/* Channel i's CHANNEL record against the first channel's and those of the channels before it. */
static int check_member(struct channel_merge *m, unsigned int i)
{
	char label[300], fl[300], id[MIGSTREAM_SET_ID_HEX_LEN], fid[MIGSTREAM_SET_ID_HEX_LEN];
	const struct merge_channel *c = &m->ch[i], *first = &m->ch[0];

	channel_label(c, label, sizeof(label));
	channel_label(first, fl, sizeof(fl));
	if (memcmp(c->ch.set_id, first->ch.set_id, MIGSTREAM_SET_ID_LEN)) {
		migstream_set_id_hex(c->ch.set_id, id);
		migstream_set_id_hex(first->ch.set_id, fid);
		return channel_merge_fail(m, -EBADMSG,
					  "%s: from another set (set %s; %s is of set %s)", label,
					  id, fl, fid);
	}
	if (c->ch.channel_count != first->ch.channel_count)
		return channel_merge_fail(
			m, -EBADMSG, "%s: says the set has %" PRIu32 " channels, %s says %" PRIu32,
			label, c->ch.channel_count, fl, first->ch.channel_count);
	for (unsigned int j = 0; j < i; j++) {
		if (m->ch[j].ch.channel != c->ch.channel)
			continue;
		channel_label(&m->ch[j], fl, sizeof(fl));
		return channel_merge_fail(m, -EBADMSG,
					  "%s: given twice (%s is the same channel of the set)",
					  label, fl);
	}
	return 0;
}

/* Decodes every channel's CHANNEL record (or finds a whole stream), then checks the set. */
static int check_set(struct channel_merge *m)
{
	struct merge_channel *first = &m->ch[0];
	char id[MIGSTREAM_SET_ID_HEX_LEN];
	const struct qrec *second;
	int ret;

	for (unsigned int i = 0; i < m->n; i++) {
		struct merge_channel *c = &m->ch[i];

		second = c->queue.head ? c->queue.head->next : NULL;
		if (!second)
			continue; /* its thread failed: the error is set */
		if (second->rec.type != MIGSTREAM_REC_CHANNEL) {
			if (m->n == 1) {
				m->whole = true;
				m->count = 1;
				return 0;
			}
			return channel_merge_fail(
				m, -EBADMSG,
				"%s: a whole stream (no CHANNEL record), not a channel of a set",
				c->name);
		}
		c->ch = second->rec.channel;
		c->is_channel = true;
		ret = i ? check_member(m, i) : 0;
		if (ret)
			return ret;
	}
	if (m->err)
		return m->err;
	memcpy(m->set_id, first->ch.set_id, MIGSTREAM_SET_ID_LEN);
	m->count = first->ch.channel_count;
	migstream_set_id_hex(m->set_id, id);
	for (uint32_t k = 0; k < m->count; k++)
		if (!channel_numbered(m, k))
			return channel_merge_fail(m, -EBADMSG,
						  "set %s: channel %" PRIu32
						  " of %u is missing (%u given)",
						  id, k, m->count, m->n);
	return 0;
}

/*
 * Before anything goes out: the set checks, then channel 0's STREAM_HEADER
 * out, the other headers and every CHANNEL record dropped. 1 done, 0 not
 * yet (wait), <0 error.
 */
int channel_merge_start(struct channel_merge *m)
{
	struct merge_channel *zero;
	struct qrec *q;
	int ret;

	if (!heads_ready(m))
		return 0;
	if (m->err)
		return m->err;
	ret = check_set(m);
	if (ret)
		return ret;
	m->started = true;
	if (m->whole)
		return 1;
	zero = channel_numbered(m, 0);
	for (unsigned int i = 0; i < m->n; i++) {
		struct merge_channel *c = &m->ch[i];

		for (int k = 0; k < 2; k++) {
			q = qlist_pop(&c->queue);
			if (c == zero && k == 0) {
				qlist_push(&m->ready, q);
				continue;
			}
			m->queue_bytes -= q->charge;
			qrec_free(q);
		}
	}
	room_freed(m);
	return 1;
}

/* ---- merging ---- */

/* The first channel that ended (STREAM_END taken) without showing DEVICE d, or NULL. */
static struct merge_channel *ended_without(struct channel_merge *m, const struct set_device *d)
{
	for (unsigned int i = 0; i < m->n; i++)
		if (m->ch[i].finished && !(d->shown & (1ull << i)))
			return &m->ch[i];
	return NULL;
}

static int take_device(struct channel_merge *m, struct qrec *q)
{
	struct set_device *d = find_device(m, q->rec.device.index);
	struct merge_channel *c;
	char label[300];

	if (!d) {
		if (m->ndev >= MIGSTREAM_MAX_DEVICES)
			return rec_bad(m, q, "more than %d devices in the set",
				       MIGSTREAM_MAX_DEVICES);
		d = &m->dev[m->ndev++];
		d->index = q->rec.device.index;
		d->device = malloc(q->rec.len ? q->rec.len : 1);
		d->digest = XXH3_createState();
		if (!d->device || !d->digest)
			return channel_merge_fail(m, -ENOMEM, "out of memory");
		XXH3_64bits_reset(d->digest);
		memcpy(d->device, q->rec.payload, q->rec.len);
		d->device_len = q->rec.len;
		d->device_from = q->input;
		d->shown = 1ull << q->input;
		c = ended_without(m, d);
		if (c) {
			channel_label(c, label, sizeof(label));
			return rec_bad(m, q, "device %" PRIu32 " is not on %s, which has ended",
				       d->index, label);
		}
		qlist_push(&m->ready, q);
		return 1;
	}
	if (q->rec.len != d->device_len || memcmp(q->rec.payload, d->device, d->device_len)) {
		channel_label(&m->ch[d->device_from], label, sizeof(label));
		return rec_bad(m, q,
			       "DEVICE record of device %" PRIu32 " differs from the one on %s",
			       d->index, label);
	}
	d->shown |= 1ull << q->input;
	m->queue_bytes -= q->charge;
	qrec_free(q);
	return 1;
}

/* A device's next chunk goes out: the checks of a whole stream's reader, on the merged order. */
static int emit_chunk(struct channel_merge *m, struct set_device *d, struct qrec *q)
{
	const struct migstream_data *data = &q->rec.data;

	if (data->offset != d->next_offset)
		return rec_bad(m, q,
			       "device %" PRIu32 " chunk %" PRIu64 ": offset %" PRIu64
			       ", expected %" PRIu64
			       " (after the chunks before it on every channel)",
			       d->index, data->chunk_index, data->offset, d->next_offset);
	if (d->stop_copy_seen && data->phase != MIGSTREAM_PHASE_STOP_COPY)
		return rec_bad(m, q,
			       "device %" PRIu32 ": %s chunk %" PRIu64 " after STOP_COPY data",
			       d->index, migstream_phase_name(data->phase), data->chunk_index);
	XXH3_64bits_update(d->digest, data->data, data->len);
	d->next_chunk++;
	d->next_offset += data->len;
	if (data->phase == MIGSTREAM_PHASE_STOP_COPY)
		d->stop_copy_seen = true;
	qlist_push(&m->ready, q);
	return 0;
}

/* Early chunks that are now next follow the chunk that went out. */
static int drain_early(struct channel_merge *m, struct set_device *d)
{
	struct reorder_node *n;
	int ret;

	while ((n = reorder_take_if(&d->early, d->next_chunk))) {
		struct qrec *q = container_of(n, struct qrec, early);

		d->early_bytes -= q->charge;
		m->reorder_bytes -= q->charge;
		m->queue_bytes += q->charge;
		ret = emit_chunk(m, d, q);
		if (ret) {
			m->queue_bytes -= q->charge;
			qrec_free(q);
			return ret;
		}
	}
	return 0;
}

/* An early chunk into its device's reorder buffer: 1, or 0 when it does not fit. */
static int keep_early(struct channel_merge *m, struct set_device *d, struct qrec *q)
{
	uint64_t chunk = q->rec.data.chunk_index;
	struct reorder_node *same = reorder_find(&d->early, chunk);

	if (same)
		return rec_bad(m, q, "device %" PRIu32 ": chunk %" PRIu64 " twice (also on %s)",
			       d->index, chunk,
			       m->ch[container_of(same, struct qrec, early)->input].name);
	channel_merge_unreserve(q);
	if (d->early_bytes + d->early_reserved + q->charge > m->reorder_limit)
		return 0;
	q->early.index = chunk;
	reorder_insert(&d->early, &q->early);
	d->early_bytes += q->charge;
	m->queue_bytes -= q->charge;
	m->reorder_bytes += q->charge;
	if (m->reorder_bytes > m->reorder_peak)
		m->reorder_peak = m->reorder_bytes;
	room_freed(m);
	return 1;
}

/* 1 taken, 0 it must wait at the head (DEVICE not on every channel yet, no reorder room). */
static int take_data(struct channel_merge *m, struct qrec *q)
{
	struct set_device *d = find_device(m, q->rec.data.device);
	uint64_t chunk = q->rec.data.chunk_index;
	int ret;

	/* The channel's reader saw its DEVICE first, and the set took it. */
	if (!d)
		return rec_bad(m, q, "DATA of device %" PRIu32 " that the set does not know",
			       q->rec.data.device);
	if ((d->shown & m->all) != m->all)
		return 0;
	if (chunk < d->next_chunk)
		return rec_bad(m, q,
			       "device %" PRIu32 ": chunk %" PRIu64 " twice (it went out already)",
			       d->index, chunk);
	if (chunk > d->next_chunk)
		return keep_early(m, d, q);
	channel_merge_unreserve(q);
	ret = emit_chunk(m, d, q);
	if (ret)
		return ret;
	/* q went out: an error of an early chunk is the set's (sticky), seen by merge_step */
	drain_early(m, d);
	return 1;
}

/* Every channel's DEVICE_END was taken: the device is whole, or chunks are missing. */
static int device_complete(struct channel_merge *m, struct set_device *d, struct qrec *q)
{
	const struct migstream_device_end *end = &q->rec.device_end;
	uint64_t digest;

	if (d->next_chunk < end->chunk_count)
		return rec_bad(m, q,
			       "device %" PRIu32 ": chunk %" PRIu64 " of %" PRIu64
			       " is on no channel",
			       d->index, d->next_chunk, end->chunk_count);
	if (d->early.count || d->next_chunk != end->chunk_count)
		return rec_bad(m, q,
			       "device %" PRIu32 ": DEVICE_END says %" PRIu64
			       " chunks, the channels carried %" PRIu64,
			       d->index, end->chunk_count, d->next_chunk);
	if (d->next_offset != end->total_bytes)
		return rec_bad(m, q,
			       "device %" PRIu32 ": DEVICE_END says %" PRIu64
			       " bytes, the channels carried %" PRIu64,
			       d->index, end->total_bytes, d->next_offset);
	digest = XXH3_64bits_digest(d->digest);
	if (check_failed(digest != end->state_digest))
		return rec_bad(m, q,
			       "device %" PRIu32 ": state digest mismatch (DEVICE_END %016" PRIx64
			       ", data of all channels %016" PRIx64 ")",
			       d->index, end->state_digest, digest);
	qlist_push(&m->ready, q);
	return 1;
}

static int take_device_end(struct channel_merge *m, struct qrec *q)
{
	struct set_device *d = find_device(m, q->rec.device_end.device);
	char label[300];

	/* The channel's reader saw its DEVICE first, and the set took it. */
	if (!d)
		return rec_bad(m, q, "DEVICE_END of device %" PRIu32 " that the set does not know",
			       q->rec.device_end.device);
	if (!d->end) {
		d->end = malloc(q->rec.len ? q->rec.len : 1);
		if (!d->end)
			return channel_merge_fail(m, -ENOMEM, "out of memory");
		memcpy(d->end, q->rec.payload, q->rec.len);
		d->end_len = q->rec.len;
		d->end_from = q->input;
	} else if (q->rec.len != d->end_len || memcmp(q->rec.payload, d->end, d->end_len)) {
		channel_label(&m->ch[d->end_from], label, sizeof(label));
		return rec_bad(m, q, "DEVICE_END of device %" PRIu32 " differs from the one on %s",
			       d->index, label);
	}
	d->ended |= 1ull << q->input;
	if ((d->ended & m->all) == m->all)
		return device_complete(m, d, q);
	m->queue_bytes -= q->charge;
	qrec_free(q);
	return 1;
}

/* A channel's STREAM_END: it carried every device of the set. 0 while it may still have bytes after it. */
static int take_stream_end(struct channel_merge *m, struct merge_channel *c, struct qrec *q)
{
	if (!c->reading_done)
		return 0;
	for (unsigned int i = 0; i < m->ndev; i++)
		if (!(m->dev[i].shown & (1ull << c->input)))
			return rec_bad(m, q,
				       "device %" PRIu32 " (DEVICE on %s) is not on this channel",
				       m->dev[i].index, m->ch[m->dev[i].device_from].name);
	c->finished = true;
	m->queue_bytes -= q->charge;
	qrec_free(q);
	return 1;
}

/* The head of c's queue: 1 taken (out, kept early or dropped), 0 it waits there, <0 error. */
static int take_head(struct channel_merge *m, struct merge_channel *c)
{
	struct qrec *q = qlist_pop(&c->queue);
	int ret;

	if (m->whole) {
		if (q->rec.type == MIGSTREAM_REC_STREAM_END && !c->reading_done)
			ret = 0;
		else
			qlist_push(&m->ready, q), ret = 1;
	} else {
		switch (q->rec.type) {
		case MIGSTREAM_REC_DEVICE:
			ret = take_device(m, q);
			break;
		case MIGSTREAM_REC_DATA:
			ret = take_data(m, q);
			break;
		case MIGSTREAM_REC_DEVICE_END:
			ret = take_device_end(m, q);
			break;
		case MIGSTREAM_REC_STREAM_END:
			ret = take_stream_end(m, c, q);
			break;
		default:
			/* PRECOPY_INFO, INIT_DATA_SENT, DIRTY_BITMAP, unknown ancillary: as they come */
			qlist_push(&m->ready, q);
			ret = 1;
		}
	}
	/* Not taken (or failed): the queue keeps it, for the deadlock check and to be freed. */
	if (ret <= 0)
		qlist_unpop(&c->queue, q);
	return ret;
}

/* Takes heads of every channel until something is ready: 1 progress, 0 none, <0 error. */
int channel_merge_step(struct channel_merge *m)
{
	int progress = 0, ret;

	for (unsigned int k = 0; k < m->n; k++) {
		unsigned int i = (m->rr + k) % m->n;
		struct merge_channel *c = &m->ch[i];

		while (c->queue.head) {
			ret = take_head(m, c);
			if (ret < 0)
				return ret;
			if (m->err)
				return m->err;
			if (ret == 0)
				break;
			progress = 1;
			room_freed(m);
			if (m->ready.head) {
				m->rr = (i + 1) % m->n;
				return 1;
			}
		}
	}
	return progress;
}

/* The set's own STREAM_END, once every channel ended: the merged stream's totals. */
int channel_merge_emit_stream_end(struct channel_merge *m)
{
	struct qrec *q = calloc(1, sizeof(*q) + MIGSTREAM_STREAM_END_LEN);

	if (!q)
		return channel_merge_fail(m, -ENOMEM, "out of memory");
	q->charge = sizeof(*q) + MIGSTREAM_STREAM_END_LEN;
	q->input = 0;
	q->rec.type = MIGSTREAM_REC_STREAM_END;
	q->rec.seq = (uint32_t)m->out_records;
	q->rec.stored_len = q->rec.raw_len = q->rec.len = MIGSTREAM_STREAM_END_LEN;
	q->rec.payload = q->payload;
	q->rec.stream_end = (struct migstream_stream_end){
		.record_count = m->out_records,
		.payload_bytes = m->out_payload,
		.device_count = m->ndev,
	};
	migstream_encode_stream_end(&q->rec.stream_end, q->payload);
	m->queue_bytes += q->charge;
	qlist_push(&m->ready, q);
	return 1;
}

bool channel_merge_all_finished(const struct channel_merge *m)
{
	for (unsigned int i = 0; i < m->n; i++)
		if (!m->ch[i].finished)
			return false;
	return true;
}

/* The reason the set cannot go on when every channel waits to read a record that has no room. */
static void fail_no_room(struct channel_merge *m, const struct merge_channel *c)
{
	const struct set_device *d = channel_merge_early_device(m, &c->want);
	char label[300];

	channel_label(c, label, sizeof(label));
	if (d)
		channel_merge_fail(
			m, -ENOBUFS,
			"%s: device %" PRIu32 " chunk %" PRIu64
			" does not fit in the reorder buffer"
			" (%" PRIu64 " bytes of early chunks wait for chunk %" PRIu64
			", limit %" PRIu64 ") and every"
			" channel waits: the channels are too far apart; raise the reorder buffer",
			label, d->index, c->want.chunk, d->early_bytes, d->next_chunk,
			m->reorder_limit);
	else
		channel_merge_fail(
			m, -ENOBUFS,
			"%s: its next record (%" PRIu64 " bytes) does not fit in the read-ahead"
			" (%" PRIu64 " bytes held, limit %" PRIu64
			") and every channel waits: raise the read-ahead"
			" or the reorder buffer",
			label, c->want.cost, m->queue_bytes + m->reading_bytes, m->queue_limit);
}

/*
 * Nothing can move: every channel that has not ended has a DATA record at
 * its head that cannot be taken, or waits for room to read its next
 * record that nothing will free. Fails with the reason (see the top of
 * the file); false when some channel may still bring something.
 */
bool channel_merge_deadlocked(struct channel_merge *m)
{
	const struct qrec *stuck = NULL;
	const struct merge_channel *waiter = NULL;
	bool heads = false;

	for (unsigned int i = 0; i < m->n; i++) {
		const struct merge_channel *c = &m->ch[i];
		const struct qrec *q = c->queue.head;
		const struct set_device *d;

		if (c->finished)
			continue;
		if (!q) {
			/* reading, or peeking at what comes next: it will bring a record */
			if (!channel_merge_waits_for_room(m, c))
				return false;
			if (!waiter)
				waiter = c;
			continue;
		}
		if (q->rec.type != MIGSTREAM_REC_DATA)
			return false;
		heads = true;
		d = find_device(m, q->rec.data.device);
		if (d && (d->shown & m->all) == m->all)
			stuck = q; /* waits for reorder room, not for a DEVICE */
	}
	if (!stuck && waiter) {
		fail_no_room(m, waiter);
		return true;
	}
	if (!stuck) {
		for (unsigned int i = 0; i < m->n && !m->err && heads; i++)
			if (!m->ch[i].finished && m->ch[i].queue.head)
				rec_bad(m, m->ch[i].queue.head,
					"DATA of a device before every channel has its DEVICE"
					" record, and the channels wait for each other (DEVICE records in different orders)");
		return heads;
	}
	const struct set_device *d = find_device(m, stuck->rec.data.device);

	if (!d)
		return false; /* cannot be: stuck has a device */
	rec_fail(m, -ENOBUFS, stuck,
		 "device %" PRIu32 " chunk %" PRIu64 " does not fit in the reorder buffer (%" PRIu64
		 " bytes of"
		 " early chunks wait for chunk %" PRIu64 ", limit %" PRIu64
		 ") and every channel waits: the channels"
		 " are too far apart; raise the reorder buffer",
		 d->index, stuck->rec.data.chunk_index, d->early_bytes, d->next_chunk,
		 m->reorder_limit);
	return true;
}

/*
 * Before the set starts nothing is taken, so nothing frees room: when every
 * channel that still owes its first two records waits for room, it will
 * wait for ever (heads of records too big for the read-ahead, which no
 * channel's STREAM_HEADER and CHANNEL are). Fails with the reason.
 */
bool channel_merge_start_deadlocked(struct channel_merge *m)
{
	const struct merge_channel *waiter = NULL;

	for (unsigned int i = 0; i < m->n; i++) {
		const struct merge_channel *c = &m->ch[i];

		if (!channel_merge_head_missing(c))
			continue;
		if (!channel_merge_waits_for_room(m, c))
			return false;
		waiter = c;
	}
	if (!waiter)
		return false;
	fail_no_room(m, waiter);
	return true;
}

bool channel_merge_all_reading_done(const struct channel_merge *m)
{
	for (unsigned int i = 0; i < m->n; i++)
		if (!m->ch[i].reading_done)
			return false;
	return true;
}
