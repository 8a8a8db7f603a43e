// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Telling QEMU's stream from a migstream by the first bytes, without losing
 * them on a pipe.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fdio.h"
#include "stream/qemu-stream.h"
#include "qemu-cat.h"

void cat_head_read(int fd, struct cat_head *h)
{
	struct stat st;
	ssize_t n;

	memset(h, 0, sizeof(*h));
	h->fd = fd;
	/* A file is read again from its start by whichever reader takes it. */
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		n = pread(fd, h->buf, sizeof(h->buf), 0);
		h->len = n > 0 ? (size_t)n : 0;
		return;
	}
	h->consumed = true;
	n = vmt_read_full(fd, h->buf, sizeof(h->buf));
	h->len = n > 0 ? (size_t)n : 0;
}

ssize_t cat_head_replay(void *ctx, void *buf, size_t len)
{
	struct cat_head *h = ctx;
	ssize_t n;

	if (h->replayed < h->len) {
		size_t part = h->len - h->replayed;

		if (part > len)
			part = len;
		memcpy(buf, h->buf + h->replayed, part);
		h->replayed += part;
		return (ssize_t)part;
	}
	do
		n = read(h->fd, buf, len);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

bool cat_head_is_qemu(const struct cat_head *h)
{
	return qemu_channel_probe(h->buf, h->len) != QEMU_CHANNEL_UNKNOWN;
}
