// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Holding a stream's bytes until their record verified.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/fdio.h"
#include "output.h"
#include "tee.h"

void cat_tee_init(struct cat_tee *t, int fd)
{
	memset(t, 0, sizeof(*t));
	t->fd = fd;
}

void cat_tee_free(struct cat_tee *t)
{
	free(t->buf);
	t->buf = NULL;
}

int cat_tee_collect(void *ctx, const void *buf, size_t len)
{
	struct cat_tee *t = ctx;

	if (len > t->cap - t->len) {
		size_t cap = t->cap ? t->cap : 64 * 1024;

		while (cap < t->len + len)
			cap *= 2;
		uint8_t *nbuf = realloc(t->buf, cap);

		if (!nbuf)
			return -ENOMEM;
		t->buf = nbuf;
		t->cap = cap;
	}
	memcpy(t->buf + t->len, buf, len);
	t->len += len;
	return 0;
}

int cat_tee_release(struct cat_tee *t, uint64_t end)
{
	size_t n;
	int rc;

	if (end <= t->base)
		return 0;
	n = end - t->base > t->len ? t->len : (size_t)(end - t->base);
	rc = vmt_write_all(t->fd, t->buf, n);
	if (rc)
		return rc;
	/* What the reader read ahead belongs to the next record: keep it. */
	memmove(t->buf, t->buf + n, t->len - n);
	t->len -= n;
	t->base += n;
	return 0;
}
