/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One QEMU main channel read to its end, each event handed to the mode
 * that asked (qemu-list.c, qemu-extract.c), with progress and the
 * one-line error, as scan.c does for migstreams.
 */
#ifndef VMT_CAT_QEMU_SCAN_H
#define VMT_CAT_QEMU_SCAN_H

#include "stream/qemu-stream.h"
#include "cat.h"
#include "scan.h"

struct cat_qemu_ops {
	/* Each returns 0 or an exit code, having printed the reason. */
	int (*event)(void *ctx, const struct cat_stream *s, struct qemu_stream *r,
		     const struct qemu_event *ev);
	/* Only after a clean end. */
	int (*end)(void *ctx, const struct cat_stream *s, struct qemu_stream *r);
};

/* A reader over s->fd that first takes the head, if it was consumed; 0 or -errno. */
int cat_qemu_open(struct qemu_stream **r, const struct cat_stream *s, const struct cat_head *h);

/* page_size (may be NULL): the stream's target page size, for its multifd channels. */
int cat_qemu_read(const struct cat_opts *o, struct cat_stream *s, const struct cat_head *h,
		  const struct cat_qemu_ops *ops, void *ctx, uint32_t *page_size);

/* The reader's error as this tool's one line ("FILE: byte N in section ..."); the exit code. */
int cat_qemu_report(const struct cat_opts *o, const struct cat_stream *s,
		    const struct qemu_stream_error *e, int err);

/* The listing, the summary and --verify (qemu-list.c); --extract (qemu-extract.c). */
int cat_qemu_list(const struct cat_opts *o, struct cat_stream *s, const struct cat_head *h);
int cat_qemu_extract(const struct cat_opts *o, struct cat_stream *s, const struct cat_head *h);

/* "vendor 1b36 device 0001" style identity of a device's config head; false when none. */
bool cat_qemu_pci_ids(const uint8_t *head, size_t len, struct qemu_pci_ids *ids);

#endif
