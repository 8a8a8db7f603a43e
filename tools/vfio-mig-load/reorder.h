/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Putting one device's DATA chunks back in chunk_index order, in bounded
 * memory. The device must see its bytes exactly in order (the kernel's
 * data_fd is a byte stream), so a chunk that arrives early is copied aside
 * until the chunks before it have been written; a chunk that arrives in
 * order is not copied at all.
 */
#ifndef VMT_LOAD_REORDER_H
#define VMT_LOAD_REORDER_H

#include <stddef.h>
#include <stdint.h>

struct load_reorder;

struct load_chunk {
	uint64_t chunk_index;
	uint64_t offset;
	const uint8_t *data;
	uint32_t len;
};

/*
 * limit: the memory early chunks may hold at once, each charged
 * load_reorder_chunk_cost() (0: chunks must come in order).
 */
int load_reorder_new(struct load_reorder **out, uint64_t limit);
/* What holding a chunk of len bytes costs: bytes, list entry, malloc's overhead. */
uint64_t load_reorder_chunk_cost(uint32_t len);
void load_reorder_free(struct load_reorder *ro);

/*
 * Offers a chunk. Returns 1 when it is the next one (the caller writes it
 * from its own buffer, then calls load_reorder_advance), 0 when it was kept
 * for later, -EBADMSG when it repeats or precedes a chunk already seen or
 * its offset contradicts the bytes before it, -ENOBUFS when keeping it
 * would exceed the limit.
 */
int load_reorder_offer(struct load_reorder *ro, const struct load_chunk *chunk);
/* The next chunk was written: advance past it. */
void load_reorder_advance(struct load_reorder *ro, uint32_t len);
/*
 * 1 and the next kept chunk in *chunk when it has become writable (valid
 * until the next call; write it, then load_reorder_advance), 0 when none,
 * -EBADMSG when its offset is not where the bytes before it end.
 */
int load_reorder_next_ready(struct load_reorder *ro, struct load_chunk *chunk);

uint64_t load_reorder_next_index(const struct load_reorder *ro);
uint64_t load_reorder_next_offset(const struct load_reorder *ro);
/* Chunks still waiting (a gap at DEVICE_END is bad data). */
size_t load_reorder_pending(const struct load_reorder *ro);
/* Memory held now (waiting chunks and spare buffers, as charged). */
uint64_t load_reorder_held(const struct load_reorder *ro);
/* The most memory ever held at once: never above the limit. */
uint64_t load_reorder_peak(const struct load_reorder *ro);

#endif
