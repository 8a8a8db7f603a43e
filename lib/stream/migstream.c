// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * migstream v1 payloads: names, encoders and decoders. The decoders are the
 * first thing untrusted bytes meet after the checksums, so every length is
 * checked against what is left of the payload before it is used.
 */
#include <errno.h>
#include <string.h>

#include <xxhash.h>

#include "common/c.h"
#include "stream/byteorder.h"
#include "stream/migstream.h"
#include "stream/reply.h" /* the return path's record types, for their names */

/*
 * Every record type migstream(5) defines, the return path's included: the
 * one place a type gets its name, so that a message about any record, from
 * any tool, names it the same way.
 */
static const struct {
	uint16_t type;
	const char *name;
} record_type_names[] = {
	{ MIGSTREAM_REC_STREAM_HEADER, "STREAM_HEADER" },
	{ MIGSTREAM_REC_DEVICE, "DEVICE" },
	{ MIGSTREAM_REC_DATA, "DATA" },
	{ MIGSTREAM_REC_PRECOPY_INFO, "PRECOPY_INFO" },
	{ MIGSTREAM_REC_DIRTY_BITMAP, "DIRTY_BITMAP" },
	{ MIGSTREAM_REC_DEVICE_END, "DEVICE_END" },
	{ MIGSTREAM_REC_STREAM_END, "STREAM_END" },
	{ MIGSTREAM_REC_INIT_DATA_SENT, "INIT_DATA_SENT" },
	{ MIGSTREAM_REC_CHANNEL, "CHANNEL" },
	{ MIGSTREAM_REC_TIME_PROBE, "TIME_PROBE" },
	{ MIGSTREAM_REC_SWITCHOVER_ACK, "SWITCHOVER_ACK" },
	{ MIGSTREAM_REC_LOAD_RESULT, "LOAD_RESULT" },
	{ MIGSTREAM_REC_TIME_ECHO, "TIME_ECHO" },
	{ MIGSTREAM_REC_LOAD_EVENT, "LOAD_EVENT" },
};

const char *migstream_record_type_name(uint16_t type)
{
	for (size_t i = 0; i < ARRAY_SIZE(record_type_names); i++)
		if (record_type_names[i].type == type)
			return record_type_names[i].name;
	return "UNKNOWN";
}

bool migstream_record_type_known(uint16_t type)
{
	return (type >= MIGSTREAM_REC_STREAM_HEADER && type <= MIGSTREAM_REC_STREAM_END) ||
	       type == MIGSTREAM_REC_CHANNEL;
}

const char *migstream_phase_name(uint8_t phase)
{
	switch (phase) {
	case MIGSTREAM_PHASE_PRECOPY_INITIAL:
		return "PRECOPY_INITIAL";
	case MIGSTREAM_PHASE_PRECOPY_DIRTY:
		return "PRECOPY_DIRTY";
	case MIGSTREAM_PHASE_STOP_COPY:
		return "STOP_COPY";
	}
	return "UNKNOWN";
}

const char *migstream_set_id_hex(const uint8_t id[MIGSTREAM_SET_ID_LEN],
				 char out[MIGSTREAM_SET_ID_HEX_LEN])
{
	static const char digits[] = "0123456789abcdef";

	for (int i = 0; i < MIGSTREAM_SET_ID_LEN; i++) {
		out[2 * i] = digits[id[i] >> 4];
		out[2 * i + 1] = digits[id[i] & 0xf];
	}
	out[2 * MIGSTREAM_SET_ID_LEN] = '\0';
	return out;
}

uint32_t migstream_record_header_check(const uint8_t buf[MIGSTREAM_RECORD_HEADER_LEN])
{
	return (uint32_t)XXH3_64bits(buf, MIGSTREAM_HDR_CHECK_OFF);
}

void migstream_encode_record_header(const struct migstream_record_header *h,
				    uint8_t buf[MIGSTREAM_RECORD_HEADER_LEN])
{
	put_be16(buf, h->type);
	put_be16(buf + 2, h->flags);
	put_be32(buf + 4, h->seq);
	put_be32(buf + 8, h->stored_len);
	put_be32(buf + 12, h->raw_len);
	put_be64(buf + 16, h->payload_check);
	put_be32(buf + 24, h->reserved);
	put_be32(buf + MIGSTREAM_HDR_CHECK_OFF, migstream_record_header_check(buf));
}

void migstream_decode_record_header(const uint8_t buf[MIGSTREAM_RECORD_HEADER_LEN],
				    struct migstream_record_header *h)
{
	*h = (struct migstream_record_header){
		.type = get_be16(buf),
		.flags = get_be16(buf + 2),
		.seq = get_be32(buf + 4),
		.stored_len = get_be32(buf + 8),
		.raw_len = get_be32(buf + 12),
		.payload_check = get_be64(buf + 16),
		.reserved = get_be32(buf + 24),
		.header_check = get_be32(buf + MIGSTREAM_HDR_CHECK_OFF),
	};
}

/* A cursor over a payload: every take fails once the payload runs out. */
struct cursor {
	const uint8_t *p;
	size_t left;
	bool bad;
};

static const uint8_t *take(struct cursor *c, size_t n)
{
	const uint8_t *p = c->p;

	if (c->bad || c->left < n) {
		c->bad = true;
		return NULL;
	}
	c->p += n;
	c->left -= n;
	return p;
}

static uint8_t take_u8(struct cursor *c)
{
	const uint8_t *p = take(c, 1);

	return p ? p[0] : 0;
}

static uint16_t take_u16(struct cursor *c)
{
	const uint8_t *p = take(c, 2);

	return p ? get_be16(p) : 0;
}

static uint32_t take_u32(struct cursor *c)
{
	const uint8_t *p = take(c, 4);

	return p ? get_be32(p) : 0;
}

static uint64_t take_u64(struct cursor *c)
{
	const uint8_t *p = take(c, 8);

	return p ? get_be64(p) : 0;
}

/* str = u16 length + bytes; must fit dst with its NUL and hold no NUL. */
static void take_str(struct cursor *c, char *dst, size_t dstsize)
{
	uint16_t len = take_u16(c);
	const uint8_t *p;

	dst[0] = '\0';
	if (c->bad)
		return;
	if (len >= dstsize || len > MIGSTREAM_MAX_STRING) {
		c->bad = true;
		return;
	}
	p = take(c, len);
	if (!p)
		return;
	if (memchr(p, '\0', len)) {
		c->bad = true;
		return;
	}
	memcpy(dst, p, len);
	dst[len] = '\0';
}

static struct cursor cursor_of(const struct migstream_record *rec)
{
	return (struct cursor){ .p = rec->payload,
				.left = rec->len,
				.bad = rec->payload == NULL && rec->len };
}

int migstream_decode_stream_header(const struct migstream_record *rec,
				   struct migstream_stream_header *out)
{
	struct cursor c = cursor_of(rec);

	memset(out, 0, sizeof(*out));
	out->time_ns = take_u64(&c);
	out->flags = take_u32(&c);
	take_u32(&c);
	take_str(&c, out->producer, sizeof(out->producer));
	take_str(&c, out->producer_version, sizeof(out->producer_version));
	take_str(&c, out->host, sizeof(out->host));
	return c.bad ? -EBADMSG : 0;
}

int migstream_decode_device(const struct migstream_record *rec, struct migstream_device *out)
{
	struct cursor c = cursor_of(rec);

	memset(out, 0, sizeof(*out));
	out->index = take_u32(&c);
	out->id_flags = take_u32(&c);
	out->mig_flags = take_u64(&c);
	out->stop_copy_size = take_u64(&c);
	out->vendor = take_u16(&c);
	out->device = take_u16(&c);
	out->subsys_vendor = take_u16(&c);
	out->subsys_device = take_u16(&c);
	out->class_code = take_u32(&c);
	out->revision = take_u8(&c);
	take(&c, 3);
	take_str(&c, out->name, sizeof(out->name));
	take_str(&c, out->driver, sizeof(out->driver));
	take_str(&c, out->mdev_type, sizeof(out->mdev_type));
	return c.bad ? -EBADMSG : 0;
}

int migstream_decode_data(const struct migstream_record *rec, struct migstream_data *out)
{
	struct cursor c = cursor_of(rec);

	memset(out, 0, sizeof(*out));
	out->device = take_u32(&c);
	out->phase = take_u8(&c);
	take(&c, 3);
	out->chunk_index = take_u64(&c);
	out->offset = take_u64(&c);
	if (c.bad)
		return -EBADMSG;
	if (out->phase < MIGSTREAM_PHASE_PRECOPY_INITIAL || out->phase > MIGSTREAM_PHASE_STOP_COPY)
		return -EBADMSG;
	/* The device's bytes are the rest of the payload. */
	out->data = c.p;
	out->len = (uint32_t)c.left;
	return 0;
}

int migstream_decode_precopy_info(const struct migstream_record *rec,
				  struct migstream_precopy_info *out)
{
	struct cursor c = cursor_of(rec);

	memset(out, 0, sizeof(*out));
	out->device = take_u32(&c);
	out->state = take_u32(&c);
	out->time_ns = take_u64(&c);
	out->initial_bytes = take_u64(&c);
	out->dirty_bytes = take_u64(&c);
	out->stop_copy_size = take_u64(&c);
	return c.bad ? -EBADMSG : 0;
}

int migstream_decode_dirty_bitmap(const struct migstream_record *rec,
				  struct migstream_dirty_bitmap *out)
{
	struct cursor c = cursor_of(rec);

	memset(out, 0, sizeof(*out));
	out->source = take_u32(&c);
	out->encoding = take_u8(&c);
	take(&c, 3);
	out->time_ns = take_u64(&c);
	out->iova = take_u64(&c);
	out->page_size = take_u64(&c);
	out->page_count = take_u64(&c);
	out->dirty_count = take_u64(&c);
	if (c.bad)
		return -EBADMSG;
	if (out->encoding != MIGSTREAM_BITMAP_RAW && out->encoding != MIGSTREAM_BITMAP_RUNS)
		return -EBADMSG;
	/* A page size is a power of two; zero would make iova ranges meaningless. */
	if (out->page_size == 0 || (out->page_size & (out->page_size - 1)))
		return -EBADMSG;
	if (out->dirty_count > out->page_count)
		return -EBADMSG;
	/* The encoded bitmap is the rest of the payload (checked by dirty-bitmap.c). */
	out->bits = c.p;
	out->bits_len = (uint32_t)c.left;
	return 0;
}

int migstream_decode_device_end(const struct migstream_record *rec,
				struct migstream_device_end *out)
{
	struct cursor c = cursor_of(rec);

	memset(out, 0, sizeof(*out));
	out->device = take_u32(&c);
	take_u32(&c);
	out->total_bytes = take_u64(&c);
	out->chunk_count = take_u64(&c);
	out->state_digest = take_u64(&c);
	return c.bad ? -EBADMSG : 0;
}

int migstream_decode_stream_end(const struct migstream_record *rec,
				struct migstream_stream_end *out)
{
	struct cursor c = cursor_of(rec);

	memset(out, 0, sizeof(*out));
	out->record_count = take_u64(&c);
	out->payload_bytes = take_u64(&c);
	out->device_count = take_u32(&c);
	take_u32(&c);
	return c.bad ? -EBADMSG : 0;
}

int migstream_decode_channel(const struct migstream_record *rec, struct migstream_channel *out)
{
	struct cursor c = cursor_of(rec);
	const uint8_t *id = take(&c, MIGSTREAM_SET_ID_LEN);
	uint32_t flags, reserved;

	memset(out, 0, sizeof(*out));
	if (id)
		memcpy(out->set_id, id, MIGSTREAM_SET_ID_LEN);
	out->channel = take_u32(&c);
	out->channel_count = take_u32(&c);
	flags = take_u32(&c);
	reserved = take_u32(&c);
	if (c.bad || flags || reserved)
		return -EBADMSG;
	if (!out->channel_count || out->channel_count > MIGSTREAM_MAX_CHANNELS ||
	    out->channel >= out->channel_count)
		return -EBADMSG;
	return 0;
}

int migstream_decode_payload(struct migstream_record *rec)
{
	switch (rec->type) {
	case MIGSTREAM_REC_STREAM_HEADER:
		return migstream_decode_stream_header(rec, &rec->stream_header);
	case MIGSTREAM_REC_DEVICE:
		return migstream_decode_device(rec, &rec->device);
	case MIGSTREAM_REC_DATA:
		return migstream_decode_data(rec, &rec->data);
	case MIGSTREAM_REC_PRECOPY_INFO:
		return migstream_decode_precopy_info(rec, &rec->precopy_info);
	case MIGSTREAM_REC_DIRTY_BITMAP:
		return migstream_decode_dirty_bitmap(rec, &rec->dirty_bitmap);
	case MIGSTREAM_REC_DEVICE_END:
		return migstream_decode_device_end(rec, &rec->device_end);
	case MIGSTREAM_REC_STREAM_END:
		return migstream_decode_stream_end(rec, &rec->stream_end);
	case MIGSTREAM_REC_CHANNEL:
		return migstream_decode_channel(rec, &rec->channel);
	}
	return 0;
}

/* Encoders */

struct out {
	uint8_t *p;
	size_t len, cap;
	int err;
};

static uint8_t *put(struct out *o, size_t n)
{
	uint8_t *p;

	if (o->err)
		return NULL;
	if (o->cap - o->len < n) {
		o->err = -ENOSPC;
		return NULL;
	}
	p = o->p + o->len;
	o->len += n;
	return p;
}

static void put_str(struct out *o, const char *s, size_t fieldsize)
{
	size_t len = strnlen(s, fieldsize);
	uint8_t *p;

	/* What a decoder would refuse, an encoder refuses to write. */
	if (len >= fieldsize || len > MIGSTREAM_MAX_STRING) {
		if (!o->err)
			o->err = -ENAMETOOLONG;
		return;
	}
	p = put(o, 2 + len);
	if (!p)
		return;
	put_be16(p, (uint16_t)len);
	memcpy(p + 2, s, len);
}

int migstream_encode_stream_header(const struct migstream_stream_header *h, uint8_t *buf,
				   size_t cap)
{
	struct out o = { .p = buf, .cap = cap };
	uint8_t *p = put(&o, MIGSTREAM_STREAM_HEADER_FIXED_LEN);

	if (p) {
		put_be64(p, h->time_ns);
		put_be32(p + 8, h->flags);
		put_be32(p + 12, 0);
	}
	put_str(&o, h->producer, sizeof(h->producer));
	put_str(&o, h->producer_version, sizeof(h->producer_version));
	put_str(&o, h->host, sizeof(h->host));
	return o.err ? o.err : (int)o.len;
}

int migstream_encode_device(const struct migstream_device *d, uint8_t *buf, size_t cap)
{
	struct out o = { .p = buf, .cap = cap };
	uint8_t *p = put(&o, MIGSTREAM_DEVICE_FIXED_LEN);

	if (p) {
		put_be32(p, d->index);
		put_be32(p + 4, d->id_flags);
		put_be64(p + 8, d->mig_flags);
		put_be64(p + 16, d->stop_copy_size);
		put_be16(p + 24, d->vendor);
		put_be16(p + 26, d->device);
		put_be16(p + 28, d->subsys_vendor);
		put_be16(p + 30, d->subsys_device);
		put_be32(p + 32, d->class_code);
		p[36] = d->revision;
		p[37] = p[38] = p[39] = 0;
	}
	put_str(&o, d->name, sizeof(d->name));
	put_str(&o, d->driver, sizeof(d->driver));
	put_str(&o, d->mdev_type, sizeof(d->mdev_type));
	return o.err ? o.err : (int)o.len;
}

void migstream_encode_data_prefix(const struct migstream_data *d,
				  uint8_t buf[MIGSTREAM_DATA_PREFIX_LEN])
{
	put_be32(buf, d->device);
	buf[4] = d->phase;
	buf[5] = buf[6] = buf[7] = 0;
	put_be64(buf + 8, d->chunk_index);
	put_be64(buf + 16, d->offset);
}

void migstream_encode_precopy_info(const struct migstream_precopy_info *p,
				   uint8_t buf[MIGSTREAM_PRECOPY_INFO_LEN])
{
	put_be32(buf, p->device);
	put_be32(buf + 4, p->state);
	put_be64(buf + 8, p->time_ns);
	put_be64(buf + 16, p->initial_bytes);
	put_be64(buf + 24, p->dirty_bytes);
	put_be64(buf + 32, p->stop_copy_size);
}

void migstream_encode_bitmap_prefix(const struct migstream_dirty_bitmap *b,
				    uint8_t buf[MIGSTREAM_BITMAP_PREFIX_LEN])
{
	put_be32(buf, b->source);
	buf[4] = b->encoding;
	buf[5] = buf[6] = buf[7] = 0;
	put_be64(buf + 8, b->time_ns);
	put_be64(buf + 16, b->iova);
	put_be64(buf + 24, b->page_size);
	put_be64(buf + 32, b->page_count);
	put_be64(buf + 40, b->dirty_count);
}

void migstream_encode_device_end(const struct migstream_device_end *e,
				 uint8_t buf[MIGSTREAM_DEVICE_END_LEN])
{
	put_be32(buf, e->device);
	put_be32(buf + 4, 0);
	put_be64(buf + 8, e->total_bytes);
	put_be64(buf + 16, e->chunk_count);
	put_be64(buf + 24, e->state_digest);
}

void migstream_encode_stream_end(const struct migstream_stream_end *e,
				 uint8_t buf[MIGSTREAM_STREAM_END_LEN])
{
	put_be64(buf, e->record_count);
	put_be64(buf + 8, e->payload_bytes);
	put_be32(buf + 16, e->device_count);
	put_be32(buf + 20, 0);
}

void migstream_encode_channel(const struct migstream_channel *ch,
			      uint8_t buf[MIGSTREAM_CHANNEL_LEN])
{
	memcpy(buf, ch->set_id, MIGSTREAM_SET_ID_LEN);
	put_be32(buf + 16, ch->channel);
	put_be32(buf + 20, ch->channel_count);
	put_be32(buf + 24, 0);
	put_be32(buf + 28, 0);
}
