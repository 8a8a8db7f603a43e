/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * migstream-cat on QEMU's own migration stream (lib/stream/qemu-stream.h):
 * told from a migstream by its first bytes, then listed, verified or
 * extracted by the same modes; and --from-qemu, which turns a QEMU stream
 * (with its multifd channels) into a migstream of its VFIO devices.
 */
#ifndef VMT_CAT_QEMU_CAT_H
#define VMT_CAT_QEMU_CAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cat.h"
#include "scan.h"

/*
 * An input's first bytes, enough to tell the formats apart. A regular file
 * is looked at with pread() and nothing is consumed; from anything else
 * the bytes are read, and the reader that takes the input is handed them
 * first (consumed: true).
 */
#define CAT_HEAD_LEN 8
struct cat_head {
	uint8_t buf[CAT_HEAD_LEN];
	size_t len;
	bool consumed;
	/* for cat_head_replay(): the input after the head */
	int fd;
	size_t replayed;
};

/* Never fails: a read error leaves the head short, for the reader to meet again. */
void cat_head_read(int fd, struct cat_head *h);
/* A read function (migstream_read_fn) that gives the consumed head, then fd. */
ssize_t cat_head_replay(void *ctx, void *buf, size_t len);
/* QEMU's main channel ("QEVM") or one of its multifd channels. */
bool cat_head_is_qemu(const struct cat_head *h);

/* The listing, --verify or --extract of one QEMU input; returns an exit code. */
int cat_qemu_scan(const struct cat_opts *o, struct cat_stream *s, const struct cat_head *h);

/* --from-qemu: every input, the main channel and its multifd channels. */
int cat_from_qemu(const struct cat_opts *o);

#endif
