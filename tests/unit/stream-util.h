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

#include "byteorder.h"
#include "migstream.h"
#include "stream-reader.h"
#include "stream-writer.h"

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
	uint64_t check = XXH3_64bits(s->payload, s->len);

	put_be16(hdr, s->type);
	put_be16(hdr + 2, s->flags);
	put_be32(hdr + 4, s->seq);
	put_be32(hdr + 8, s->stored_len >= 0 ? (uint32_t)s->stored_len : s->len);
	put_be32(hdr + 12, s->raw_len >= 0 ? (uint32_t)s->raw_len : s->len);
	put_be64(hdr + 16, check ^ (s->spoil_payload_check ? 1 : 0));
	put_be32(hdr + 24, s->reserved);
	put_be32(hdr + 28, (uint32_t)XXH3_64bits(hdr, 28) ^ (s->spoil_header_check ? 1 : 0));
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
static inline void build_simple(struct mem *m, uint16_t type, uint16_t flags, uint32_t seq, const void *payload,
				uint32_t len)
{
	build_record(m, (struct rec_spec){ .type = type, .flags = flags, .seq = seq, .payload = payload,
					   .len = len, .stored_len = -1, .raw_len = -1 });
}

/* Offset of record idx's header in a valid-enough stream. */
static inline size_t record_offset(const struct mem *m, unsigned int idx)
{
	size_t off = MIGSTREAM_PREAMBLE_LEN;

	while (idx--)
		off += MIGSTREAM_RECORD_HEADER_LEN + get_be32(m->p + off + 8);
	return off;
}

/* After editing record idx's header or payload: recompute both checks. */
static inline void reseal(struct mem *m, unsigned int idx)
{
	size_t off = record_offset(m, idx);
	uint8_t *hdr = m->p + off;
	uint32_t stored = get_be32(hdr + 8);

	put_be64(hdr + 16, XXH3_64bits(hdr + MIGSTREAM_RECORD_HEADER_LEN, stored));
	put_be32(hdr + 28, (uint32_t)XXH3_64bits(hdr, 28));
}

#endif
