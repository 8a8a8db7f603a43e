// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The QEMU readers' byte source: see qemu-input.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fdio.h"
#include "stream/qemu-input.h"

static ssize_t fd_read(void *ctx, void *buf, size_t len)
{
	int fd = *(int *)ctx;
	ssize_t n;

	do {
		n = read(fd, buf, len);
	} while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

int qin_init(struct qin *in, int fd, qemu_stream_read_fn fn, void *ctx, const void *prefix,
	     size_t prefix_len)
{
	*in = (struct qin){
		.fd = fd, .fn = fn, .ctx = ctx, .prefix = prefix, .prefix_len = prefix_len
	};
	if (!fn) {
		in->fn = fd_read;
		in->ctx = &in->fd;
		vmt_grow_pipe(fd);
	}
	in->cap = QIN_BUFFER > prefix_len ? QIN_BUFFER : prefix_len;
	in->buf = malloc(in->cap);
	if (!in->buf)
		return -ENOMEM;
	if (prefix_len) {
		memcpy(in->buf, prefix, prefix_len);
		in->end = prefix_len;
	}
	return 0;
}

void qin_release(struct qin *in)
{
	free(in->buf);
	in->buf = NULL;
}

/* Moves the unread bytes to the front, so that a read can fill the rest. */
static void compact(struct qin *in)
{
	size_t left = qin_avail(in);

	if (!in->pos)
		return;
	memmove(in->buf, in->buf + in->pos, left);
	in->base += in->pos;
	in->pos = 0;
	in->end = left;
}

/* One read into the free space: bytes read, 0 at end of input, -errno. */
static ssize_t fill(struct qin *in)
{
	ssize_t n;

	if (in->eof)
		return 0;
	if (in->end == in->cap)
		compact(in);
	if (in->end == in->cap)
		return -ENOBUFS;
	do {
		n = in->fn(in->ctx, in->buf + in->end, in->cap - in->end);
	} while (n == -EINTR);
	if (n < 0)
		return n;
	if (n == 0)
		in->eof = true;
	in->end += (size_t)n;
	return n;
}

int qin_need(struct qin *in, size_t n)
{
	ssize_t got;

	if (n > in->cap)
		return -EINVAL;
	if (in->cap - in->pos < n)
		compact(in);
	while (qin_avail(in) < n) {
		got = fill(in);
		if (got < 0)
			return (int)got;
		if (got == 0)
			return -EPIPE;
	}
	return 0;
}

ssize_t qin_some(struct qin *in, size_t max)
{
	size_t avail = qin_avail(in);
	ssize_t got;

	if (!avail) {
		in->base += in->pos;
		in->pos = in->end = 0;
		got = fill(in);
		if (got <= 0)
			return got;
		avail = qin_avail(in);
	}
	return (ssize_t)(avail < max ? avail : max);
}

int qin_at_end(struct qin *in)
{
	ssize_t got = qin_some(in, 1);

	if (got < 0)
		return (int)got;
	return got == 0;
}

int qin_slurp(struct qin *in, size_t cap)
{
	size_t want;
	uint8_t *grown;
	ssize_t got;

	compact(in);
	for (;;) {
		if (qin_avail(in) > cap)
			return -ENOBUFS;
		if (in->eof)
			return 0;
		if (in->end == in->cap) {
			/* here in->cap <= cap: room for one byte past it at least */
			want = in->cap * 2 < cap + 1 ? in->cap * 2 : cap + 1;
			grown = realloc(in->buf, want);
			if (!grown)
				return -ENOMEM;
			in->buf = grown;
			in->cap = want;
		}
		got = fill(in);
		if (got < 0)
			return (int)got;
	}
}
