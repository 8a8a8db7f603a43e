/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * --passthrough: the bytes the reader consumed are held back until the
 * record they belong to has been verified, then written unchanged. A bad
 * record is therefore never passed on, nor anything after it, while memory
 * stays bounded by one record (plus whatever the reader read ahead).
 */
#ifndef VMT_CAT_TEE_H
#define VMT_CAT_TEE_H

#include <stddef.h>
#include <stdint.h>

struct cat_tee {
	int fd;
	uint8_t *buf;
	size_t len, cap;
	uint64_t base; /* stream offset of buf[0] */
};

void cat_tee_init(struct cat_tee *t, int fd);
void cat_tee_free(struct cat_tee *t);
/* The reader's tee callback: keeps the bytes. 0 or -ENOMEM. */
int cat_tee_collect(void *ctx, const void *buf, size_t len);
/* Writes the held bytes up to stream offset end (exclusive). 0 or -errno. */
int cat_tee_release(struct cat_tee *t, uint64_t end);

#endif
