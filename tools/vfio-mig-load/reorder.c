// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Waiting chunks live in a list sorted by chunk_index: out-of-order arrival
 * is rare and shallow in practice (a reordering transport), so a list is
 * simpler than a heap and as fast for a handful of entries. Chunks that
 * wait behind one late chunk mostly arrive in ascending order: they are
 * appended at the tail without walking the list.
 *
 * A chunk's buffer is kept as a spare once it was written, for the next
 * early chunk: chunks are up to 8 MiB, so a fresh malloc is a fresh mmap
 * and a page fault every 4 KiB, which cost more than the copy itself.
 * Spares never hold more than the limit, and a spare is only reused for a
 * chunk at least half its size, so memory stays within three times it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "reorder.h"

struct waiting_chunk {
	struct waiting_chunk *next;
	uint64_t chunk_index;
	uint64_t offset;
	uint32_t len;
	uint32_t cap; /* bytes data[] can hold */
	uint8_t data[];
};

#define SPARE_SLOTS 8

struct load_reorder {
	uint64_t limit;
	uint64_t next_index;
	uint64_t next_offset;
	uint64_t waiting_bytes;
	uint64_t peak_bytes;
	size_t waiting_count;
	struct waiting_chunk *head;
	struct waiting_chunk *tail;
	struct waiting_chunk *handed_out; /* a spare (or freed) on the next call */
	struct waiting_chunk *spare[SPARE_SLOTS];
	unsigned int spare_count;
	uint64_t spare_bytes;
};

int load_reorder_new(struct load_reorder **out, uint64_t limit)
{
	struct load_reorder *ro = calloc(1, sizeof(*ro));

	if (!ro)
		return -ENOMEM;
	ro->limit = limit;
	*out = ro;
	return 0;
}

static void drop_handed_out(struct load_reorder *ro)
{
	struct waiting_chunk *w = ro->handed_out;

	ro->handed_out = NULL;
	if (!w)
		return;
	if (ro->spare_count < SPARE_SLOTS && ro->spare_bytes + w->cap <= ro->limit) {
		ro->spare[ro->spare_count++] = w;
		ro->spare_bytes += w->cap;
		return;
	}
	free(w);
}

/* A spare that holds len bytes, else a new buffer. */
static struct waiting_chunk *get_buffer(struct load_reorder *ro, uint32_t len)
{
	struct waiting_chunk *w;

	for (unsigned int i = 0; i < ro->spare_count; i++) {
		/* not much bigger either: a held chunk costs at most twice its length */
		if (ro->spare[i]->cap < len || ro->spare[i]->cap / 2 > len)
			continue;
		w = ro->spare[i];
		ro->spare[i] = ro->spare[--ro->spare_count];
		ro->spare_bytes -= w->cap;
		return w;
	}
	w = malloc(sizeof(*w) + len);
	if (w)
		w->cap = len;
	return w;
}

void load_reorder_free(struct load_reorder *ro)
{
	if (!ro)
		return;
	drop_handed_out(ro);
	while (ro->spare_count)
		free(ro->spare[--ro->spare_count]);
	while (ro->head) {
		struct waiting_chunk *w = ro->head;

		ro->head = w->next;
		free(w);
	}
	free(ro);
}

int load_reorder_offer(struct load_reorder *ro, const struct load_chunk *chunk)
{
	struct waiting_chunk **pos, *w;

	drop_handed_out(ro);
	if (chunk->chunk_index < ro->next_index)
		return -EBADMSG;
	if (chunk->chunk_index == ro->next_index)
		return chunk->offset == ro->next_offset ? 1 : -EBADMSG;
	if (chunk->offset < ro->next_offset)
		return -EBADMSG;

	if (ro->tail && ro->tail->chunk_index < chunk->chunk_index)
		pos = &ro->tail->next;
	else
		for (pos = &ro->head; *pos && (*pos)->chunk_index < chunk->chunk_index; pos = &(*pos)->next)
			;
	if (*pos && (*pos)->chunk_index == chunk->chunk_index)
		return -EBADMSG;
	if (ro->waiting_bytes + chunk->len > ro->limit)
		return -ENOBUFS;

	w = get_buffer(ro, chunk->len);
	if (!w)
		return -ENOMEM;
	w->chunk_index = chunk->chunk_index;
	w->offset = chunk->offset;
	w->len = chunk->len;
	memcpy(w->data, chunk->data, chunk->len);
	w->next = *pos;
	*pos = w;
	if (!w->next)
		ro->tail = w;
	ro->waiting_count++;
	ro->waiting_bytes += chunk->len;
	if (ro->waiting_bytes > ro->peak_bytes)
		ro->peak_bytes = ro->waiting_bytes;
	return 0;
}

void load_reorder_advance(struct load_reorder *ro, uint32_t len)
{
	ro->next_index++;
	ro->next_offset += len;
}

int load_reorder_next_ready(struct load_reorder *ro, struct load_chunk *chunk)
{
	struct waiting_chunk *w = ro->head;

	drop_handed_out(ro);
	if (!w || w->chunk_index != ro->next_index)
		return 0;
	if (w->offset != ro->next_offset)
		return -EBADMSG;
	ro->head = w->next;
	if (!ro->head)
		ro->tail = NULL;
	ro->waiting_count--;
	ro->waiting_bytes -= w->len;
	ro->handed_out = w;
	*chunk = (struct load_chunk){
		.chunk_index = w->chunk_index,
		.offset = w->offset,
		.data = w->data,
		.len = w->len,
	};
	return 1;
}

uint64_t load_reorder_next_index(const struct load_reorder *ro)
{
	return ro->next_index;
}

uint64_t load_reorder_next_offset(const struct load_reorder *ro)
{
	return ro->next_offset;
}

size_t load_reorder_pending(const struct load_reorder *ro)
{
	return ro->waiting_count;
}

uint64_t load_reorder_held(const struct load_reorder *ro)
{
	return ro->waiting_bytes;
}

uint64_t load_reorder_peak(const struct load_reorder *ro)
{
	return ro->peak_bytes;
}
