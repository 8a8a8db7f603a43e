// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The reorder buffer's order; see reorder.h.
 */
#include "stream/reorder.h"

struct reorder_node *reorder_find(const struct reorder_list *l, uint64_t index)
{
	struct reorder_node *n;

	if (l->tail && l->tail->index < index)
		return NULL;
	for (n = l->head; n && n->index < index; n = n->next)
		;
	return n && n->index == index ? n : NULL;
}

void reorder_insert(struct reorder_list *l, struct reorder_node *n)
{
	struct reorder_node **pos;

	if (l->tail && l->tail->index < n->index)
		pos = &l->tail->next;
	else
		for (pos = &l->head; *pos && (*pos)->index < n->index; pos = &(*pos)->next)
			;
	n->next = *pos;
	*pos = n;
	if (!n->next)
		l->tail = n;
	l->count++;
}

struct reorder_node *reorder_take_first(struct reorder_list *l)
{
	struct reorder_node *n = l->head;

	if (!n)
		return NULL;
	l->head = n->next;
	if (!l->head)
		l->tail = NULL;
	l->count--;
	n->next = NULL;
	return n;
}

struct reorder_node *reorder_take_if(struct reorder_list *l, uint64_t next)
{
	if (!l->head || l->head->index != next)
		return NULL;
	return reorder_take_first(l);
}
