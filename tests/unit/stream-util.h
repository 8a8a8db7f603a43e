/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Helpers for tests that write streams and read them back: streams in
 * memory (written through a memfd, read through a callback that can hand
 * out a few bytes at a time), and a builder for hand-made, possibly broken
 * records with correct or deliberately wrong checks.
 */
#ifndef VMT_STREAM_UTIL_H
#define VMT_STREAM_UTIL_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <xxhash.h>

#include "stream/byteorder.h"
#include "stream/migstream.h"
#include "stream/reader.h"
#include "stream/writer.h"

struct mem {
	uint8_t *p;
	size_t len, cap;
};

static inline void mem_put(struct mem *m, const void *p, size_t len)
{
	if (m->len + len > m->cap) {
		m->cap = (m->len + len) * 2 + 64;
		m->p = realloc(m->p, m->cap);
		if (!m->p)
			abort();
	}
	memcpy(m->p + m->len, p, len);
	m->len += len;
}

static inline void mem_free(struct mem *m)
{
	free(m->p);
	*m = (struct mem){ 0 };
}

static inline int memfd_new(void)
{
	int fd = memfd_create("migstream-test", 0);

	if (fd < 0)
		abort();
	return fd;
}

/* Everything in fd from its start. */
static inline struct mem fd_slurp(int fd)
{
	struct mem m = { 0 };
	uint8_t buf[65536];
	ssize_t n;

	lseek(fd, 0, SEEK_SET);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		mem_put(&m, buf, (size_t)n);
	return m;
}

/* A byte source in memory; step > 0 hands out at most step bytes per call,
 * eintr_every > 0 fails every n-th call with -EINTR, fail_at > 0 fails with
 * -EIO once pos reaches it. */
struct memsrc {
	const uint8_t *p;
	size_t len, pos, step;
	unsigned int calls, eintr_every;
	size_t fail_at;
};

static inline ssize_t memsrc_read(void *ctx, void *buf, size_t len)
{
	struct memsrc *s = ctx;
	size_t n = s->len - s->pos;

	s->calls++;
	if (s->eintr_every && s->calls % s->eintr_every == 0)
		return -EINTR;
	if (s->fail_at && s->pos >= s->fail_at)
		return -EIO;
	if (n > len)
		n = len;
	if (s->step && n > s->step)
		n = s->step;
	memcpy(buf, s->p + s->pos, n);
	s->pos += n;
	return (ssize_t)n;
}

struct read_result {
	int ret;	  /* 0 clean end, <0 error */
	uint64_t records; /* handed out */
	char msg[512];
};

/* Reads a whole stream held in memory. */
static inline struct read_result read_mem_opts(const uint8_t *p, size_t len, size_t step,
					       const struct migstream_reader_opts *opts)
{
	struct memsrc src = { .p = p, .len = len, .step = step };
	struct read_result res = { 0 };
	struct migstream_reader *r;
	struct migstream_record rec;
	int ret;

	if (migstream_reader_new_cb(&r, memsrc_read, &src, "test", opts))
		abort();
	while ((ret = migstream_read_record(r, &rec)) == 1)
		res.records++;
	res.ret = ret;
	snprintf(res.msg, sizeof(res.msg), "%s", ret ? migstream_reader_error(r) : "");
	migstream_reader_free(r);
	return res;
}

static inline struct read_result read_mem(const struct mem *m)
{
	return read_mem_opts(m->p, m->len, 0, NULL);
}

/* Builder: preamble and records with computed (or spoiled) checks. */
struct rec_spec {
	uint16_t type, flags;
	uint32_t seq;
	const void *payload;
	uint32_t len;
	/* overrides, when set */
	int64_t stored_len, raw_len; /* -1: computed */
	uint32_t reserved;
	int spoil_header_check, spoil_payload_check;
};

static inline void build_preamble(struct mem *m)
{
	uint8_t pre[MIGSTREAM_PREAMBLE_LEN];

	memcpy(pre, MIGSTREAM_MAGIC, MIGSTREAM_MAGIC_LEN);
	put_be32(pre + 8, MIGSTREAM_VERSION);
	put_be32(pre + 12, 0);
	mem_put(m, pre, sizeof(pre));
}

static inline void build_header(uint8_t *hdr, const struct rec_spec *s)
{
	const struct migstream_record_header h = {
		.type = s->type,
		.flags = s->flags,
		.seq = s->seq,
		.stored_len = s->stored_len >= 0 ? (uint32_t)s->stored_len : s->len,
		.raw_len = s->raw_len >= 0 ? (uint32_t)s->raw_len : s->len,
		.payload_check = XXH3_64bits(s->payload, s->len) ^ (s->spoil_payload_check ? 1 : 0),
		.reserved = s->reserved,
	};

	migstream_encode_record_header(&h, hdr);
	if (s->spoil_header_check)
		hdr[MIGSTREAM_HDR_CHECK_OFF + 3] ^= 1;
}

static inline void build_record(struct mem *m, struct rec_spec s)
{
	uint8_t hdr[MIGSTREAM_RECORD_HEADER_LEN];

	build_header(hdr, &s);
	mem_put(m, hdr, sizeof(hdr));
	if (s.len)
		mem_put(m, s.payload, s.len);
}

/* Simple record with computed checks. */
static inline void build_simple(struct mem *m, uint16_t type, uint16_t flags, uint32_t seq,
				const void *payload, uint32_t len)
{
	build_record(m, (struct rec_spec){ .type = type,
					   .flags = flags,
					   .seq = seq,
					   .payload = payload,
					   .len = len,
					   .stored_len = -1,
					   .raw_len = -1 });
}

/* Offset of record idx's header in a valid-enough stream. */
static inline size_t record_offset(const struct mem *m, unsigned int idx)
{
	size_t off = MIGSTREAM_PREAMBLE_LEN;
	struct migstream_record_header h;

	while (idx--) {
		migstream_decode_record_header(m->p + off, &h);
		off += MIGSTREAM_RECORD_HEADER_LEN + h.stored_len;
	}
	return off;
}

/* Record idx's header, decoded. */
static inline struct migstream_record_header record_header(const struct mem *m, unsigned int idx)
{
	struct migstream_record_header h;

	migstream_decode_record_header(m->p + record_offset(m, idx), &h);
	return h;
}

/* Record idx's header replaced (its header check recomputed, the payload's kept). */
static inline void set_record_header(struct mem *m, unsigned int idx,
				     const struct migstream_record_header *h)
{
	migstream_encode_record_header(h, m->p + record_offset(m, idx));
}

/* After editing record idx's header or payload: recompute both checks. */
static inline void reseal(struct mem *m, unsigned int idx)
{
	uint8_t *hdr = m->p + record_offset(m, idx);
	struct migstream_record_header h;

	migstream_decode_record_header(hdr, &h);
	h.payload_check = XXH3_64bits(hdr + MIGSTREAM_RECORD_HEADER_LEN, h.stored_len);
	migstream_encode_record_header(&h, hdr);
}

#endif
