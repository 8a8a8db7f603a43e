// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Waiting chunks are kept in chunk_index order by lib/stream's reorder
 * list (the channel set's too); this file is what they hold and cost.
 *
 * A chunk's buffer is kept as a spare once it was written, for the next
 * early chunk: chunks are up to 8 MiB, so a fresh malloc is a fresh mmap
 * and a page fault every 4 KiB, which cost more than the copy itself.
 *
 * The limit bounds memory, not payload: every buffer alive (waiting, the
 * one handed out, spares) is charged what it costs, its list entry and
 * the allocator's overhead included, and spares are freed before a chunk
 * is refused. An empty chunk costs as much as its entry, so a stream of
 * empty early chunks cannot hold unbounded memory either.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/c.h"
#include "stream/reorder.h"
#include "reorder.h"

struct waiting_chunk {
	struct reorder_node node; /* index: the chunk_index */
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
	uint64_t charged; /* what every buffer alive costs */
	uint64_t peak_charged;
	struct reorder_list waiting;
	struct waiting_chunk *handed_out; /* a spare (or freed) on the next call */
	struct waiting_chunk *spare[SPARE_SLOTS];
	unsigned int spare_count;
};

/*
 * glibc's malloc: a heap chunk is the request plus an 8-byte header in
 * 16-byte units; a request of M_MMAP_THRESHOLD (128 KiB unless it moved up)
 * or more is a mapping of whole pages plus a 16-byte header. Charging the
 * larger of the two models for the request never undercounts.
 */
#define MALLOC_HEADER 16
#define MALLOC_UNIT 16
#define MMAP_THRESHOLD (128u << 10)

uint64_t load_reorder_chunk_cost(uint32_t len)
{
	static uint64_t page;
	uint64_t bytes = sizeof(struct waiting_chunk) + (uint64_t)len + MALLOC_HEADER;
	uint64_t unit = MALLOC_UNIT;

	if (!page) {
		long sz = sysconf(_SC_PAGESIZE);

		page = sz > 0 ? (uint64_t)sz : 4096;
	}
	if (bytes >= MMAP_THRESHOLD)
		unit = page;
	return (bytes + unit - 1) / unit * unit;
}

int load_reorder_new(struct load_reorder **out, uint64_t limit)
{
	struct load_reorder *ro = calloc(1, sizeof(*ro));

	if (!ro)
		return -ENOMEM;
	ro->limit = limit;
	*out = ro;
	return 0;
}

static void free_buffer(struct load_reorder *ro, struct waiting_chunk *w)
{
	ro->charged -= load_reorder_chunk_cost(w->cap);
	free(w);
}

static void drop_handed_out(struct load_reorder *ro)
{
	struct waiting_chunk *w = ro->handed_out;

	ro->handed_out = NULL;
	if (!w)
		return;
	if (ro->spare_count < SPARE_SLOTS) {
		ro->spare[ro->spare_count++] = w; /* still charged */
		return;
	}
	free_buffer(ro, w);
}

/*
 * A spare that holds len bytes (not much more either: a chunk never costs
 * more than twice what it holds), else a new buffer, spares freed as
 * needed to stay within the limit. NULL with -ENOBUFS or -ENOMEM in *err.
 */
static struct waiting_chunk *get_buffer(struct load_reorder *ro, uint32_t len, int *err)
{
	uint64_t cost = load_reorder_chunk_cost(len);
	struct waiting_chunk *w;

	for (unsigned int i = 0; i < ro->spare_count; i++) {
		if (ro->spare[i]->cap < len || ro->spare[i]->cap / 2 > len)
			continue;
		w = ro->spare[i];
		ro->spare[i] = ro->spare[--ro->spare_count];
		return w;
	}
	while (ro->charged + cost > ro->limit && ro->spare_count)
		free_buffer(ro, ro->spare[--ro->spare_count]);
	*err = -ENOBUFS;
	if (ro->charged + cost > ro->limit)
		return NULL;
	*err = -ENOMEM;
	w = malloc(sizeof(*w) + len);
	if (!w)
		return NULL;
	w->cap = len;
	ro->charged += cost;
	if (ro->charged > ro->peak_charged)
		ro->peak_charged = ro->charged;
	return w;
}

void load_reorder_free(struct load_reorder *ro)
{
	struct reorder_node *n;

	if (!ro)
		return;
	drop_handed_out(ro);
	while (ro->spare_count)
		free_buffer(ro, ro->spare[--ro->spare_count]);
	while ((n = reorder_take_first(&ro->waiting)))
		free_buffer(ro, container_of(n, struct waiting_chunk, node));
	free(ro);
}

int load_reorder_offer(struct load_reorder *ro, const struct load_chunk *chunk)
{
	struct waiting_chunk *w;
	int err;

	drop_handed_out(ro);
	if (chunk->chunk_index < ro->next_index)
		return -EBADMSG;
	if (chunk->chunk_index == ro->next_index)
		return chunk->offset == ro->next_offset ? 1 : -EBADMSG;
	if (chunk->offset < ro->next_offset)
		return -EBADMSG;

	if (reorder_find(&ro->waiting, chunk->chunk_index))
		return -EBADMSG;
	w = get_buffer(ro, chunk->len, &err);
	if (!w)
		return err;
	w->node.index = chunk->chunk_index;
	w->offset = chunk->offset;
	w->len = chunk->len;
	memcpy(w->data, chunk->data, chunk->len);
	reorder_insert(&ro->waiting, &w->node);
	return 0;
}

void load_reorder_advance(struct load_reorder *ro, uint32_t len)
{
	ro->next_index++;
	ro->next_offset += len;
}

int load_reorder_next_ready(struct load_reorder *ro, struct load_chunk *chunk)
{
	struct waiting_chunk *w;

	drop_handed_out(ro);
	if (!ro->waiting.head || ro->waiting.head->index != ro->next_index)
		return 0;
	w = container_of(ro->waiting.head, struct waiting_chunk, node);
	if (w->offset != ro->next_offset)
		return -EBADMSG;
	reorder_take_first(&ro->waiting);
	ro->handed_out = w;
	*chunk = (struct load_chunk){
		.chunk_index = w->node.index,
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
	return ro->waiting.count;
}

uint64_t load_reorder_held(const struct load_reorder *ro)
{
	return ro->charged;
}

uint64_t load_reorder_peak(const struct load_reorder *ro)
{
	return ro->peak_charged;
}
