// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * QEMU's multifd channels merged into each device's buffers in index order
 * (qemu-multifd.h).
 *
 * Each channel has a head: its next device state packet, header read, the
 * buffer's bytes still in the channel. A head that is the next buffer its
 * device needs is handed out straight from the channel, in pieces; when no
 * head is, the lowest one is copied aside (pending, bounded) and that
 * channel read on. The checks are those of QEMU's receiving side
 * (multifd.c's multifd_recv_initial_packet, multifd_recv_unfill_packet*,
 * multifd_ram_unfill_packet; hw/vfio/migration-multifd.c's
 * vfio_multifd_load_state_buffer and the buffer insert), plus the gaps and
 * the missing config state that QEMU would wait for for ever.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stream/byteorder.h"
#include "common/c.h"
#include "stream/qemu-input.h"
#include "stream/qemu-multifd.h"

#define HDR_LEN 12u	      /* magic, version, flags */
#define DEV_PACKET_LEN 276u   /* MultiFDPacketDeviceState_t */
#define RAM_PACKET_FIXED 320u /* MultiFDPacket_t without its offsets */
#define VFIO_PACKET_HDR 12u   /* VFIODeviceStatePacket: version, idx, flags */
/* QEMU's MULTIFD_PACKET_SIZE: a RAM packet has a slot per page of it. */
#define MULTIFD_PACKET_SIZE (512u << 10)
#define PIECE (1u << 20)

struct pending {
	struct pending *next; /* sorted by idx */
	uint32_t idx, flags;
	uint8_t *data;
	size_t len;
	unsigned int channel;
	uint64_t offset;
};

/* A channel's next device state packet. */
struct head {
	bool valid;
	size_t dev;
	uint32_t idx, flags;
	uint64_t len;	 /* buffer bytes */
	uint64_t offset; /* of the packet */
};

struct channel {
	struct qin in;
	struct qemu_multifd_channel info;
	struct head head;
	bool announced;
};

struct device {
	struct qemu_multifd_device pub;
	uint32_t next_idx;
	struct pending *pending;
};

/* The buffer being handed out. */
struct current {
	bool active;
	size_t dev;
	uint32_t idx;
	bool config;
	uint64_t len, done; /* buffer bytes, and how many are consumed */
	unsigned int channel;
	uint64_t offset;
	struct pending *from; /* NULL: straight from the channel */
};

struct qemu_multifd {
	struct qemu_multifd_opts opts;
	struct channel *ch[QEMU_MULTIFD_MAX_CHANNELS];
	size_t nch;
	struct device dev[QEMU_MULTIFD_MAX_DEVICES];
	size_t ndev;
	size_t pending_bytes;
	struct current cur;
	struct pending *done_pending; /* freed on the next call */
	bool started;
	int err;
	struct qemu_stream_error error;
};

/* Errors ----------------------------------------------------------------- */

static int VMT_PRINTF(5, 6) fail(struct qemu_multifd *m, int err, const struct channel *c,
				 uint64_t offset, const char *fmt, ...)
{
	struct qemu_stream_error *e = &m->error;
	va_list ap;

	if (m->err)
		return m->err;
	m->err = err;
	*e = (struct qemu_stream_error){ .err = err, .offset = offset };
	va_start(ap, fmt);
	vsnprintf(e->what, sizeof(e->what), fmt, ap);
	va_end(ap);
	if (c)
		snprintf(e->msg, sizeof(e->msg), "channel %s, byte %llu: %s", c->info.name,
			 (unsigned long long)offset, e->what);
	else
		snprintf(e->msg, sizeof(e->msg), "multifd: %s", e->what);
	return err;
}

static int need(struct qemu_multifd *m, struct channel *c, size_t n)
{
	int ret = qin_need(&c->in, n);

	if (ret == -EPIPE)
		return fail(m, -EBADMSG, c, qin_offset(&c->in) + qin_avail(&c->in),
			    "the channel ends inside a packet, %zu bytes short",
			    n - qin_avail(&c->in));
	if (ret)
		return fail(m, ret, c, qin_offset(&c->in), "read: %s", strerror(-ret));
	return 0;
}

static const uint8_t *at(const struct channel *c)
{
	return c->in.buf + c->in.pos;
}

static void advance(struct channel *c, size_t n)
{
	c->in.pos += n;
	c->info.bytes = qin_offset(&c->in);
}

/* Construction ------------------------------------------------------------- */

int qemu_multifd_new(struct qemu_multifd **out, const struct qemu_multifd_opts *opts)
{
	struct qemu_multifd *m = calloc(1, sizeof(*m));

	*out = NULL;
	if (!m)
		return -ENOMEM;
	if (opts)
		m->opts = *opts;
	if (!m->opts.pending_cap)
		m->opts.pending_cap = QEMU_MULTIFD_PENDING_CAP;
	if (!m->opts.page_size)
		m->opts.page_size = 4096;
	if (m->opts.page_size < 1024 || m->opts.page_size > MULTIFD_PACKET_SIZE ||
	    (m->opts.page_size & (m->opts.page_size - 1))) {
		free(m);
		return -EINVAL;
	}
	*out = m;
	return 0;
}

static int add_channel(struct qemu_multifd *m, int fd, qemu_stream_read_fn fn, void *ctx,
		       const char *name, const void *prefix, size_t prefix_len)
{
	struct channel *c;
	int ret;

	if (m->started)
		return -EBUSY;
	if (m->nch >= QEMU_MULTIFD_MAX_CHANNELS)
		return -E2BIG;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	ret = qin_init(&c->in, fd, fn, ctx, prefix, prefix_len);
	if (ret) {
		qin_release(&c->in);
		free(c);
		return ret;
	}
	c->info.name = name ? name : "-";
	m->ch[m->nch++] = c;
	return 0;
}

int qemu_multifd_add_fd(struct qemu_multifd *m, int fd, const char *name, const void *prefix,
			size_t prefix_len)
{
	if (fd < 0)
		return -EBADF;
	return add_channel(m, fd, NULL, NULL, name, prefix, prefix_len);
}

int qemu_multifd_add_cb(struct qemu_multifd *m, qemu_stream_read_fn fn, void *ctx, const char *name,
			const void *prefix, size_t prefix_len)
{
	if (!fn)
		return -EINVAL;
	return add_channel(m, -1, fn, ctx, name, prefix, prefix_len);
}

static void free_pending_list(struct pending *p)
{
	while (p) {
		struct pending *next = p->next;

		free(p->data);
		free(p);
		p = next;
	}
}

void qemu_multifd_free(struct qemu_multifd *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->nch; i++) {
		qin_release(&m->ch[i]->in);
		free(m->ch[i]);
	}
	for (size_t i = 0; i < m->ndev; i++)
		free_pending_list(m->dev[i].pending);
	if (m->cur.from)
		free_pending_list(m->cur.from);
	free_pending_list(m->done_pending);
	free(m);
}

/* Channels ----------------------------------------------------------------- */

static int read_init(struct qemu_multifd *m, struct channel *c)
{
	const uint8_t *p;

	if (need(m, c, QEMU_MULTIFD_INIT_LEN))
		return m->err;
	p = at(c);
	if (get_be32(p) != QEMU_MULTIFD_MAGIC)
		return fail(m, -EBADMSG, c, 0, "not a multifd channel (magic 0x%08x)", get_be32(p));
	if (get_be32(p + 4) != QEMU_MULTIFD_VERSION)
		return fail(m, -EBADMSG, c, 4, "multifd version %u, QEMU sends %u", get_be32(p + 4),
			    QEMU_MULTIFD_VERSION);
	memcpy(c->info.uuid, p + 8, 16);
	c->info.id = p[24];
	for (size_t i = 0; i < m->nch; i++) {
		const struct channel *o = m->ch[i];

		if (o == c || !o->info.init_read)
			continue;
		if (o->info.id == c->info.id)
			return fail(m, -EBADMSG, c, 24, "channel id %u, as channel %s's",
				    c->info.id, o->info.name);
		if (memcmp(o->info.uuid, c->info.uuid, 16))
			return fail(m, -EBADMSG, c, 8, "a VM uuid other than channel %s's",
				    o->info.name);
	}
	c->info.init_read = true;
	advance(c, QEMU_MULTIFD_INIT_LEN);
	return 0;
}

static int device_index(struct qemu_multifd *m, const struct channel *c, const char *idstr,
			uint32_t instance, size_t *out)
{
	struct device *d;

	for (size_t i = 0; i < m->ndev; i++) {
		if (m->dev[i].pub.instance_id == instance && !strcmp(m->dev[i].pub.idstr, idstr)) {
			*out = i;
			return 0;
		}
	}
	if (m->ndev >= QEMU_MULTIFD_MAX_DEVICES)
		return fail(m, -ENOBUFS, c, qin_offset(&c->in), "more than %u devices",
			    QEMU_MULTIFD_MAX_DEVICES);
	d = &m->dev[m->ndev];
	*d = (struct device){ .pub.instance_id = instance };
	memcpy(d->pub.idstr, idstr, sizeof(d->pub.idstr));
	*out = m->ndev++;
	return 0;
}

/* Page data after a RAM packet: crossed, never kept. */
static int skip_bytes(struct qemu_multifd *m, struct channel *c, uint64_t n)
{
	ssize_t got;

	while (n) {
		got = qin_some(&c->in, n < PIECE ? (size_t)n : PIECE);
		if (got < 0)
			return fail(m, (int)got, c, qin_offset(&c->in), "read: %s",
				    strerror((int)-got));
		if (got == 0)
			return fail(m, -EBADMSG, c, qin_offset(&c->in),
				    "the channel ends inside a packet's data, %llu bytes short",
				    (unsigned long long)n);
		advance(c, (size_t)got);
		n -= (uint64_t)got;
	}
	return 0;
}

static int ram_packet(struct qemu_multifd *m, struct channel *c, uint32_t flags)
{
	uint64_t start = qin_offset(&c->in);
	uint32_t slots = MULTIFD_PACKET_SIZE / m->opts.page_size;
	uint32_t alloc, normal, zero, next;
	const uint8_t *p;

	if (need(m, c, RAM_PACKET_FIXED))
		return m->err;
	p = at(c);
	alloc = get_be32(p + 12);
	normal = get_be32(p + 16);
	next = get_be32(p + 20);
	zero = get_be32(p + 32);
	/* a SYNC packet of QEMU 9.0 on is all zeroes past its header */
	if (alloc != slots && !(alloc == 0 && flags & QEMU_MULTIFD_FLAG_SYNC))
		return fail(m, -EBADMSG, c, start + 12,
			    "a RAM packet of %u pages, QEMU sends %u with %u-byte pages", alloc,
			    slots, m->opts.page_size);
	if (normal > alloc || zero > alloc - normal)
		return fail(m, -EBADMSG, c, start + 16,
			    "a RAM packet of %u pages with %u normal and %u zero ones", alloc,
			    normal, zero);
	if ((flags & QEMU_MULTIFD_FLAG_COMPRESSION_MASK) == 0 &&
	    next != (uint64_t)normal * m->opts.page_size)
		return fail(m, -EBADMSG, c, start + 20,
			    "%u bytes of data for %u uncompressed pages", next, normal);
	if (need(m, c, RAM_PACKET_FIXED + (size_t)slots * 8))
		return m->err;
	advance(c, RAM_PACKET_FIXED + (size_t)slots * 8);
	if (flags & QEMU_MULTIFD_FLAG_SYNC)
		c->info.sync_packets++;
	else
		c->info.ram_packets++;
	c->info.normal_pages += normal;
	c->info.zero_pages += zero;
	c->info.ram_data_bytes += next;
	return skip_bytes(m, c, next);
}

static int device_packet(struct qemu_multifd *m, struct channel *c, uint32_t flags)
{
	uint64_t start = qin_offset(&c->in);
	char idstr[256];
	uint32_t instance, next, version;
	const uint8_t *p;
	struct head *h = &c->head;

	if (flags & (QEMU_MULTIFD_FLAG_SYNC | QEMU_MULTIFD_FLAG_COMPRESSION_MASK))
		return fail(m, -EBADMSG, c, start + 8, "a device state packet with flags 0x%x",
			    flags);
	if (need(m, c, DEV_PACKET_LEN))
		return m->err;
	p = at(c);
	if (!memchr(p + HDR_LEN, 0, 256))
		return fail(m, -EBADMSG, c, start + HDR_LEN, "an idstr without its NUL");
	memcpy(idstr, p + HDR_LEN, 256);
	instance = get_be32(p + HDR_LEN + 256);
	next = get_be32(p + HDR_LEN + 260);
	if (!next) { /* QEMU skips an empty one */
		advance(c, DEV_PACKET_LEN);
		return 0;
	}
	if (next < VFIO_PACKET_HDR)
		return fail(m, -EBADMSG, c, start, "a VFIO packet of %u bytes", next);
	if (need(m, c, DEV_PACKET_LEN + VFIO_PACKET_HDR))
		return m->err;
	p = at(c) + DEV_PACKET_LEN;
	version = get_be32(p);
	if (version != 0)
		return fail(m, -EBADMSG, c, start + DEV_PACKET_LEN,
			    "VFIO packet version %u, QEMU 10 sends 0", version);
	*h = (struct head){ .valid = true,
			    .idx = get_be32(p + 4),
			    .flags = get_be32(p + 8),
			    .len = next - VFIO_PACKET_HDR,
			    .offset = start };
	if (h->idx == UINT32_MAX)
		return fail(m, -EBADMSG, c, start + DEV_PACKET_LEN + 4,
			    "VFIO packet index 0xffffffff");
	if (device_index(m, c, idstr, instance, &h->dev))
		return m->err;
	advance(c, DEV_PACKET_LEN + VFIO_PACKET_HDR);
	c->info.device_packets++;
	return 0;
}

/*
 * Loads the channel's head: 0 with c->head valid, or the channel ended
 * (c->info.ended), or an error.
 */
static int load_head(struct qemu_multifd *m, struct channel *c)
{
	uint32_t flags;
	int end;

	while (!c->head.valid && !c->info.ended) {
		end = qin_at_end(&c->in);
		if (end < 0)
			return fail(m, end, c, qin_offset(&c->in), "read: %s", strerror(-end));
		if (end) {
			c->info.ended = true;
			break;
		}
		if (need(m, c, HDR_LEN))
			return m->err;
		if (get_be32(at(c)) != QEMU_MULTIFD_MAGIC ||
		    get_be32(at(c) + 4) != QEMU_MULTIFD_VERSION)
			return fail(m, -EBADMSG, c, qin_offset(&c->in),
				    "no packet header (magic 0x%08x, version %u)", get_be32(at(c)),
				    get_be32(at(c) + 4));
		flags = get_be32(at(c) + 8);
		if (flags & QEMU_MULTIFD_FLAG_DEVICE_STATE) {
			if (device_packet(m, c, flags))
				return m->err;
		} else if (ram_packet(m, c, flags)) {
			return m->err;
		}
	}
	return 0;
}

/* Order ----------------------------------------------------------------- */

/* Is buffer idx of device d one it may still get? */
static int check_index(struct qemu_multifd *m, const struct channel *c, size_t dev, uint32_t idx,
		       uint32_t flags, uint64_t offset)
{
	struct device *d = &m->dev[dev];

	if (idx < d->next_idx)
		return fail(m, -EBADMSG, c, offset, "buffer %u of \"%s\" came before", idx,
			    d->pub.idstr);
	for (struct pending *p = d->pending; p; p = p->next)
		if (p->idx == idx)
			return fail(m, -EBADMSG, c, offset,
				    "buffer %u of \"%s\" came before (channel %s)", idx,
				    d->pub.idstr, m->ch[p->channel]->info.name);
	if (d->pub.ended)
		return fail(m, -EBADMSG, c, offset, "buffer %u of \"%s\" after its config state",
			    idx, d->pub.idstr);
	/* the config state is the last buffer: nothing after it */
	for (struct pending *p = d->pending; p; p = p->next)
		if ((p->flags & QEMU_MULTIFD_VFIO_FLAG_CONFIG_STATE && idx > p->idx) ||
		    (flags & QEMU_MULTIFD_VFIO_FLAG_CONFIG_STATE && p->idx > idx))
			return fail(m, -EBADMSG, c, offset,
				    "buffer %u of \"%s\" after its config state (buffer %u)",
				    flags & QEMU_MULTIFD_VFIO_FLAG_CONFIG_STATE ? p->idx : idx,
				    d->pub.idstr,
				    flags & QEMU_MULTIFD_VFIO_FLAG_CONFIG_STATE ? idx : p->idx);
	return 0;
}

/* Copies channel c's head buffer aside. */
static int hold_head(struct qemu_multifd *m, unsigned int ci)
{
	struct channel *c = m->ch[ci];
	struct head *h = &c->head;
	struct device *d = &m->dev[h->dev];
	struct pending *p, **pp;
	size_t done = 0;
	ssize_t got;

	if (h->len > m->opts.pending_cap - m->pending_bytes)
		return fail(
			m, -ENOBUFS, c, h->offset,
			"holding buffer %u of \"%s\" (%llu bytes) until buffer %u comes would pass the cap of %zu bytes",
			h->idx, d->pub.idstr, (unsigned long long)h->len, d->next_idx,
			m->opts.pending_cap);
	p = calloc(1, sizeof(*p));
	if (p)
		p->data = malloc(h->len ? (size_t)h->len : 1);
	if (!p || !p->data) {
		free(p);
		return fail(m, -ENOMEM, c, h->offset, "out of memory");
	}
	*p = (struct pending){ .idx = h->idx,
			       .flags = h->flags,
			       .data = p->data,
			       .len = (size_t)h->len,
			       .channel = ci,
			       .offset = h->offset };
	while (done < p->len) {
		got = qin_some(&c->in, p->len - done);
		if (got <= 0) {
			free(p->data);
			free(p);
			if (got < 0)
				return fail(m, (int)got, c, qin_offset(&c->in), "read: %s",
					    strerror((int)-got));
			return fail(m, -EBADMSG, c, qin_offset(&c->in),
				    "the channel ends inside buffer %u of \"%s\"", h->idx,
				    d->pub.idstr);
		}
		memcpy(p->data + done, at(c), (size_t)got);
		advance(c, (size_t)got);
		done += (size_t)got;
	}
	for (pp = &d->pending; *pp && (*pp)->idx < p->idx; pp = &(*pp)->next)
		;
	p->next = *pp;
	*pp = p;
	m->pending_bytes += p->len;
	h->valid = false;
	return 0;
}

static void start_current(struct qemu_multifd *m, size_t dev, uint32_t idx, uint32_t flags,
			  uint64_t len, unsigned int ci, uint64_t offset, struct pending *from)
{
	m->cur = (struct current){ .active = true,
				   .dev = dev,
				   .idx = idx,
				   .config = flags & QEMU_MULTIFD_VFIO_FLAG_CONFIG_STATE,
				   .len = len,
				   .channel = ci,
				   .offset = offset,
				   .from = from };
}

/* 1: a buffer is current; 0: none can be (every channel ended); <0 error. */
static int pick_next(struct qemu_multifd *m)
{
	struct channel *low = NULL;
	unsigned int low_ci = 0;

	for (;;) {
		for (size_t i = 0; i < m->ndev; i++) {
			struct device *d = &m->dev[i];
			struct pending *p = d->pending;

			if (p && p->idx == d->next_idx) {
				d->pending = p->next;
				m->pending_bytes -= p->len;
				start_current(m, i, p->idx, p->flags, p->len, p->channel, p->offset,
					      p);
				return 1;
			}
		}
		low = NULL;
		for (unsigned int ci = 0; ci < m->nch; ci++) {
			struct channel *c = m->ch[ci];
			struct head *h = &c->head;

			if (load_head(m, c))
				return m->err;
			if (!h->valid)
				continue;
			if (check_index(m, c, h->dev, h->idx, h->flags, h->offset))
				return m->err;
			if (h->idx == m->dev[h->dev].next_idx) {
				h->valid = false;
				start_current(m, h->dev, h->idx, h->flags, h->len, ci, h->offset,
					      NULL);
				return 1;
			}
			if (!low || h->idx < low->head.idx) {
				low = c;
				low_ci = ci;
			}
		}
		if (!low)
			return 0;
		if (hold_head(m, low_ci))
			return m->err;
	}
}

/* Handing out --------------------------------------------------------------- */

/* Up to max bytes of the current buffer: where and how many, or an error. */
static int current_bytes(struct qemu_multifd *m, size_t max, const uint8_t **data, size_t *len)
{
	struct current *cur = &m->cur;
	struct channel *c = m->ch[cur->channel];
	ssize_t got;

	if (max > cur->len - cur->done)
		max = (size_t)(cur->len - cur->done);
	if (cur->from) {
		*data = cur->from->data + cur->done;
		*len = max;
	} else {
		got = qin_some(&c->in, max);
		if (got < 0)
			return fail(m, (int)got, c, qin_offset(&c->in), "read: %s",
				    strerror((int)-got));
		if (got == 0 && max)
			return fail(m, -EBADMSG, c, qin_offset(&c->in),
				    "the channel ends inside buffer %u of \"%s\"", cur->idx,
				    m->dev[cur->dev].pub.idstr);
		*data = at(c);
		*len = (size_t)got;
		advance(c, (size_t)got);
	}
	cur->done += *len;
	return 0;
}

/* The 8-byte tag at the current position must be want. */
static int current_tag(struct qemu_multifd *m, uint64_t want, const char *name)
{
	struct current *cur = &m->cur;
	struct channel *c = m->ch[cur->channel];
	uint8_t tag[8];
	size_t got = 0, n;
	const uint8_t *p;

	if (cur->len - cur->done < 8)
		return fail(m, -EBADMSG, c, cur->offset,
			    "config state buffer %u of \"%s\" has no %s", cur->idx,
			    m->dev[cur->dev].pub.idstr, name);
	while (got < 8) {
		if (current_bytes(m, 8 - got, &p, &n))
			return m->err;
		memcpy(tag + got, p, n);
		got += n;
	}
	if (get_be64(tag) != want)
		return fail(m, -EBADMSG, c, cur->offset,
			    "config state buffer %u of \"%s\": 0x%016llx where %s belongs",
			    cur->idx, m->dev[cur->dev].pub.idstr, (unsigned long long)get_be64(tag),
			    name);
	return 0;
}

static void fill_event(struct qemu_multifd *m, struct qemu_multifd_event *ev,
		       enum qemu_multifd_event_type type)
{
	struct device *d = &m->dev[m->cur.dev];

	*ev = (struct qemu_multifd_event){ .type = type,
					   .channel = m->cur.channel,
					   .offset = m->cur.offset,
					   .idstr = d->pub.idstr,
					   .instance_id = d->pub.instance_id,
					   .index = m->cur.idx,
					   .buffer_len = m->cur.len };
}

/* The current buffer is handed out whole. */
static void finish_current(struct qemu_multifd *m)
{
	struct device *d = &m->dev[m->cur.dev];

	d->next_idx++;
	d->pub.buffers++;
	if (m->cur.config)
		d->pub.ended = true;
	if (m->cur.from) {
		m->cur.from->next = m->done_pending;
		m->done_pending = m->cur.from;
		m->cur.from = NULL;
	}
	m->cur.active = false;
}

/* The config state: its bytes between DEV_CONFIG_STATE and END_OF_STATE. */
static int config_piece(struct qemu_multifd *m, struct qemu_multifd_event *ev)
{
	struct device *d = &m->dev[m->cur.dev];
	const uint8_t *data;
	size_t len, k;
	uint64_t body_end = m->cur.len - 8;

	if (m->cur.len < 16)
		return fail(m, -EBADMSG, m->ch[m->cur.channel], m->cur.offset,
			    "config state buffer %u of \"%s\" of %llu bytes: not even its two tags",
			    m->cur.idx, d->pub.idstr, (unsigned long long)m->cur.len);
	if (m->cur.done == 0 && current_tag(m, QEMU_VFIO_DEV_CONFIG_STATE, "DEV_CONFIG_STATE"))
		return m->err;
	if (m->cur.done == body_end) {
		if (current_tag(m, QEMU_VFIO_END_OF_STATE, "END_OF_STATE"))
			return m->err;
		fill_event(m, ev, QEMU_MF_EV_DEVICE_END);
		ev->index = m->cur.idx + 1;
		ev->data_bytes = d->pub.data_bytes;
		finish_current(m);
		return 1;
	}
	fill_event(m, ev, QEMU_MF_EV_DEVICE_CONFIG);
	ev->buffer_offset = m->cur.done - 8;
	if (current_bytes(m,
			  (size_t)(body_end - m->cur.done < PIECE ? body_end - m->cur.done : PIECE),
			  &data, &len))
		return m->err;
	if (d->pub.config_head_len < sizeof(d->pub.config_head)) {
		k = sizeof(d->pub.config_head) - d->pub.config_head_len;
		k = k < len ? k : len;
		memcpy(d->pub.config_head + d->pub.config_head_len, data, k);
		d->pub.config_head_len += k;
	}
	d->pub.config_bytes += len;
	ev->data = data;
	ev->len = len;
	return 1;
}

static int data_piece(struct qemu_multifd *m, struct qemu_multifd_event *ev)
{
	struct device *d = &m->dev[m->cur.dev];
	const uint8_t *data;
	size_t len;

	fill_event(m, ev, QEMU_MF_EV_DEVICE_DATA);
	ev->buffer_offset = m->cur.done;
	if (current_bytes(m, PIECE, &data, &len))
		return m->err;
	d->pub.data_bytes += len;
	m->ch[m->cur.channel]->info.device_bytes += len;
	ev->data = data;
	ev->len = len;
	if (m->cur.done == m->cur.len)
		finish_current(m);
	return 1;
}

static int end_check(struct qemu_multifd *m)
{
	for (size_t i = 0; i < m->ndev; i++) {
		struct device *d = &m->dev[i];

		if (d->pending)
			return fail(m, -EBADMSG, m->ch[d->pending->channel], d->pending->offset,
				    "buffer %u of \"%s\" never came (buffer %u did)", d->next_idx,
				    d->pub.idstr, d->pending->idx);
		if (!d->pub.ended)
			return fail(
				m, -EBADMSG, NULL, 0,
				"\"%s\": every channel ended before its config state (%u buffers came)",
				d->pub.idstr, d->pub.buffers);
	}
	return 0;
}

int qemu_multifd_next(struct qemu_multifd *m, struct qemu_multifd_event *ev)
{
	int ret;

	if (m->err)
		return m->err;
	m->started = true;
	free_pending_list(m->done_pending);
	m->done_pending = NULL;
	for (unsigned int ci = 0; ci < m->nch; ci++) {
		struct channel *c = m->ch[ci];

		if (c->announced)
			continue;
		if (read_init(m, c))
			return m->err;
		c->announced = true;
		*ev = (struct qemu_multifd_event){ .type = QEMU_MF_EV_CHANNEL, .channel = ci };
		return 1;
	}
	if (!m->cur.active) {
		ret = pick_next(m);
		if (ret < 0)
			return ret;
		if (ret == 0)
			return end_check(m) ? m->err : 0;
	}
	/* an empty data buffer is still one of the indexes */
	if (!m->cur.config && m->cur.len == 0) {
		fill_event(m, ev, QEMU_MF_EV_DEVICE_DATA);
		finish_current(m);
		return 1;
	}
	return m->cur.config ? config_piece(m, ev) : data_piece(m, ev);
}

/* Queries ------------------------------------------------------------------ */

const struct qemu_stream_error *qemu_multifd_error(const struct qemu_multifd *m)
{
	return m->err ? &m->error : NULL;
}

size_t qemu_multifd_channel_count(const struct qemu_multifd *m)
{
	return m->nch;
}

const struct qemu_multifd_channel *qemu_multifd_channel_info(const struct qemu_multifd *m, size_t i)
{
	return i < m->nch ? &m->ch[i]->info : NULL;
}

size_t qemu_multifd_device_count(const struct qemu_multifd *m)
{
	return m->ndev;
}

const struct qemu_multifd_device *qemu_multifd_device(const struct qemu_multifd *m, size_t i)
{
	return i < m->ndev ? &m->dev[i].pub : NULL;
}
