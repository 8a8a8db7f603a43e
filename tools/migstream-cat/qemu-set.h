/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A QEMU migration's captures taken together: its main channel and its
 * multifd channels (QEMU 10.0's device state over multifd), each an input
 * of its own, told apart by their first bytes. --from-qemu always reads
 * its inputs so; the listing, --verify and --extract do when their inputs
 * are one main channel and multifd channels, all files.
 */
#ifndef VMT_CAT_QEMU_SET_H
#define VMT_CAT_QEMU_SET_H

#include <stdbool.h>
#include <stdint.h>

#include "stream/qemu-multifd.h"
#include "cat.h"
#include "qemu-cat.h"
#include "scan.h"

struct cat_qemu_input {
	struct cat_stream s;
	struct cat_head head;
	enum qemu_channel_kind kind;
};

struct cat_qemu_set {
	struct cat_qemu_input *in;
	int nin;	    /* opened so far */
	int main_input;	    /* index of the main channel */
	uint32_t page_size; /* the main channel's, for the multifd RAM packets */
};

/* Opens every input: one main channel, any number of multifd ones; an exit code. */
int cat_qemu_set_open(const struct cat_opts *o, struct cat_qemu_set *set);
void cat_qemu_set_close(struct cat_qemu_set *set);
bool cat_qemu_set_has_multifd(const struct cat_qemu_set *set);

struct cat_multifd_ops {
	/* Each returns 0 or an exit code, having printed the reason. */
	int (*event)(void *ctx, const struct cat_qemu_set *set,
		     const struct qemu_multifd_event *ev);
	/* After a clean end, with the reader's per channel and per device counts. */
	int (*end)(void *ctx, const struct cat_qemu_set *set, const struct qemu_multifd *m);
};

/* The multifd channels of the set, read together; an exit code. */
int cat_qemu_set_read_multifd(const struct cat_opts *o, const struct cat_qemu_set *set,
			      const struct cat_multifd_ops *ops, void *ctx);

/*
 * Whether the listing, --verify or --extract should take the inputs as one
 * set: more than one, all files, one main channel and the rest multifd.
 */
bool cat_qemu_inputs_are_set(const struct cat_opts *o);
/* Those modes on such a set; an exit code. */
int cat_qemu_set_run(const struct cat_opts *o);

/* The set's parts of qemu-list.c and qemu-extract.c. */
int cat_qemu_list_set(const struct cat_opts *o, struct cat_qemu_set *set);
int cat_qemu_extract_set(const struct cat_opts *o, struct cat_qemu_set *set);

#endif
