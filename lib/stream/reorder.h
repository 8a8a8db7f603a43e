/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The reorder buffer's order: chunks that arrived before their turn, kept
 * by index until the one before them has gone out. Nodes are embedded in
 * the caller's entries (container_of); what an entry holds and what it
 * costs against a memory bound is the caller's (vfio-mig-load copies early
 * chunks into reused buffers; the channel set keeps the records
 * themselves), the order, the duplicate check and "is the next one here"
 * are this. No locking: the caller's.
 *
 * A list, not a heap: out-of-order arrival is rare and shallow in practice
 * (a reordering transport, channels a few records apart), and the chunks
 * that wait behind one late chunk mostly arrive in ascending order: they
 * are appended at the tail without walking the list.
 */
#ifndef VMT_REORDER_H
#define VMT_REORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct reorder_node {
	struct reorder_node *next; /* the list's */
	uint64_t index;		   /* set by the caller before the insert */
};

struct reorder_list {
	struct reorder_node *head, *tail; /* by index, ascending */
	size_t count;
};

/* The node of that index, or NULL. */
struct reorder_node *reorder_find(const struct reorder_list *l, uint64_t index);
/* Inserts n in index order; the caller checked that its index is not there (reorder_find). */
void reorder_insert(struct reorder_list *l, struct reorder_node *n);
/* The first node, out of the list, when its index is next; NULL otherwise. */
struct reorder_node *reorder_take_if(struct reorder_list *l, uint64_t next);
/* The first node, out of the list, whatever its index (to free them all); NULL when empty. */
struct reorder_node *reorder_take_first(struct reorder_list *l);

#endif
