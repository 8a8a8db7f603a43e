/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The byte source under the QEMU readers (qemu-stream.c, qemu-multifd.c):
 * one large buffer filled by big reads, so that a RAM page or a chunk of
 * device data is handed out where it lies, with no per-byte work. Private
 * to lib/stream.
 */
#ifndef VMT_QEMU_INPUT_H
#define VMT_QEMU_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "stream/qemu-stream.h"

/* Buffer size: reads of this size keep up with cat. */
#define QIN_BUFFER (1u << 20)

struct qin {
	qemu_stream_read_fn fn;
	void *ctx;
	int fd; /* -1 for a callback */
	uint8_t *buf;
	size_t cap, pos, end;
	uint64_t base; /* stream offset of buf[0] */
	bool eof;      /* the source said end of file: buf holds the rest */
	const uint8_t *prefix;
	size_t prefix_len;
};

int qin_init(struct qin *in, int fd, qemu_stream_read_fn fn, void *ctx, const void *prefix,
	     size_t prefix_len);
void qin_release(struct qin *in);

static inline uint64_t qin_offset(const struct qin *in)
{
	return in->base + in->pos;
}

static inline size_t qin_avail(const struct qin *in)
{
	return in->end - in->pos;
}

/*
 * At least n (<= in->cap) bytes at in->buf + in->pos: 0; -EPIPE when the
 * input ends first (what is there stays there); other -errno from the source.
 */
int qin_need(struct qin *in, size_t n);

/*
 * Some bytes at in->buf + in->pos (no more than max): how many, 0 at end of
 * input, -errno.
 */
ssize_t qin_some(struct qin *in, size_t max);

/* 1 when the input has no byte left, 0 when it has, -errno. */
int qin_at_end(struct qin *in);

/*
 * Reads the whole rest of the input into the buffer: 0, -ENOBUFS when more
 * than cap bytes are left, -errno. Afterwards every byte to the end is in
 * the buffer and nothing is read again.
 */
int qin_slurp(struct qin *in, size_t cap);

#endif
