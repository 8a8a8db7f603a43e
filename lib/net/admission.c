// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Admitting a connection into a listener's set; see admission.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/c.h"
#include "common/timeutil.h"
#include "net/admission.h"
#include "stream/reader.h"

struct first_read {
	struct vmt_net_conn *conn;
	uint64_t deadline;
	struct vmt_net_first *out;
	size_t cap;
	bool timed_out;
};

/* The reader's bytes, each kept: they are the stream's, for the pump to pass on. */
static ssize_t read_kept(void *arg, void *buf, size_t len)
{
	struct first_read *fr = arg;
	uint64_t now = vmt_monotonic_ns();
	ssize_t n;

	if (now >= fr->deadline ||
	    vmt_net_conn_set_recv_timeout(fr->conn, fr->deadline - now) < 0) {
		fr->timed_out = true;
		return -ETIMEDOUT;
	}
	n = vmt_net_conn_recv(fr->conn, buf, len);
	if (n == -EAGAIN || n == -ETIMEDOUT) {
		fr->timed_out = true;
		return -ETIMEDOUT;
	}
	if (n <= 0)
		return n;
	if (fr->out->len + (size_t)n > fr->cap) {
		size_t cap = (fr->cap ? fr->cap * 2 : 4096) + (size_t)n;
		uint8_t *bytes = realloc(fr->out->bytes, cap);

		if (!bytes)
			return -ENOMEM;
		fr->out->bytes = bytes;
		fr->cap = cap;
	}
	memcpy(fr->out->bytes + fr->out->len, buf, (size_t)n);
	fr->out->len += (size_t)n;
	return n;
}

static int say_why(struct first_read *fr, struct migstream_reader *r, int ret, char *err,
		   size_t errlen)
{
	if (fr->timed_out)
		snprintf(err, errlen, "no stream within the handshake timeout");
	else if (ret == 0 || (ret == -EBADMSG && fr->out->len < MIGSTREAM_PREAMBLE_LEN))
		snprintf(err, errlen, "the peer closed before its first records");
	else if (fr->out->len >= MIGSTREAM_MAGIC_LEN &&
		 memcmp(fr->out->bytes, MIGSTREAM_MAGIC, MIGSTREAM_MAGIC_LEN) != 0)
		snprintf(err, errlen, "not a migstream (garbage)");
	else if (ret == -EBADMSG)
		snprintf(err, errlen, "%s", migstream_reader_error(r));
	else
		snprintf(err, errlen, "%s", vmt_net_conn_error(fr->conn, ret));
	return ret < 0 ? ret : -EBADMSG;
}

int vmt_net_read_first(struct vmt_net_conn *c, uint64_t deadline_ns, struct vmt_net_first *out,
		       char *err, size_t errlen)
{
	struct first_read fr = { .conn = c, .deadline = deadline_ns, .out = out };
	struct migstream_reader *r;
	struct migstream_record rec;
	int ret;

	*out = (struct vmt_net_first){ 0 };
	ret = migstream_reader_new_cb(&r, read_kept, &fr, c->peer, NULL);
	if (ret < 0) {
		snprintf(err, errlen, "%s", strerror(-ret));
		return ret;
	}
	ret = migstream_read_record(r, &rec); /* STREAM_HEADER */
	if (ret == 1)
		ret = migstream_read_record(r, &rec);
	if (ret == 1 && rec.type == MIGSTREAM_REC_CHANNEL) {
		out->has_channel = true;
		out->channel = rec.channel;
	}
	if (ret != 1)
		ret = say_why(&fr, r, ret, err, errlen);
	else
		ret = vmt_net_conn_set_recv_timeout(c, 0);
	migstream_reader_free(r);
	if (ret < 0)
		vmt_net_first_free(out);
	return ret < 0 ? ret : 0;
}

void vmt_net_first_free(struct vmt_net_first *f)
{
	free(f->bytes);
	*f = (struct vmt_net_first){ 0 };
}

int vmt_net_set_admit(struct vmt_net_set *set, const struct vmt_net_first *f, char *err,
		      size_t errlen)
{
	struct migstream_channel one = { .channel = 0, .channel_count = 1 };
	const struct migstream_channel *ch = f->has_channel ? &f->channel : &one;
	char hex[MIGSTREAM_SET_ID_HEX_LEN], ours[MIGSTREAM_SET_ID_HEX_LEN];

	/* Another set's channel is told as such, also after ours is complete. */
	if (set->named && f->has_channel && set->count > 1 &&
	    memcmp(ch->set_id, set->set_id, MIGSTREAM_SET_ID_LEN) != 0) {
		snprintf(err, errlen, "a stream of another set (%s), not set %s",
			 migstream_set_id_hex(ch->set_id, hex),
			 migstream_set_id_hex(set->set_id, ours));
		return -EPERM;
	}
	if (set->named && vmt_net_set_complete(set)) {
		snprintf(err, errlen, "a connection beyond the set's %u channels", set->count);
		return -EPERM;
	}
	if (set->named && !f->has_channel) {
		snprintf(err, errlen, "a stream of no set, not a channel of set %s",
			 migstream_set_id_hex(set->set_id, ours));
		return -EPERM;
	}
	if (set->named && ch->channel_count != set->count) {
		snprintf(err, errlen, "channel %u of %u, but the set has %u channels", ch->channel,
			 ch->channel_count, set->count);
		return -EPERM;
	}
	if (set->named && set->taken[ch->channel]) {
		snprintf(err, errlen, "channel %u of the set is taken already", ch->channel);
		return -EPERM;
	}
	if (!set->named) {
		set->named = true;
		set->count = ch->channel_count;
		memcpy(set->set_id, ch->set_id, MIGSTREAM_SET_ID_LEN);
	}
	set->taken[ch->channel] = true;
	set->admitted++;
	return (int)ch->channel;
}

bool vmt_net_set_complete(const struct vmt_net_set *set)
{
	return set->named && set->admitted == set->count;
}
