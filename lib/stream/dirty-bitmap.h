/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Dirty page bitmaps: the kernel's form (64-bit words, page i = bit i % 64
 * of word i / 64, as VFIO DMA logging and IOMMU_HWPT_GET_DIRTY_BITMAP
 * report them) and the two migstream encodings of a DIRTY_BITMAP record:
 *
 *   RAW   ceil(page_count / 8) bytes, page i = bit i % 8 of byte i / 8
 *         (the kernel's words stored little-endian), padding bits zero.
 *   RUNS  LEB128 pairs (clean pages skipped, dirty run length): the first
 *         skip may be 0, later skips and every run are >= 1 (runs are
 *         maximal), each number in its shortest LEB128 form; clean pages
 *         after the last run are implied by page_count.
 *
 * Everything works word by word (zero and all-ones words cost one xor)
 * and nothing materialises a bitmap the caller did not ask for, so a
 * record for terabytes of memory can be checked or walked in place.
 */
#ifndef VMT_DIRTY_BITMAP_H
#define VMT_DIRTY_BITMAP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "stream/migstream.h"

/* Called for each maximal run of dirty pages; nonzero stops the walk and
 * is returned to the walker's caller. */
typedef int (*dirty_range_fn)(void *ctx, uint64_t first_page, uint64_t npages);

/* Words of a kernel bitmap for page_count pages. */
static inline uint64_t dirty_bitmap_words(uint64_t page_count)
{
	return page_count / 64 + (page_count % 64 != 0);
}

/* Bytes of the RAW encoding for page_count pages. */
static inline uint64_t dirty_bitmap_raw_len(uint64_t page_count)
{
	return page_count / 8 + (page_count % 8 != 0);
}

/* Set bits among the first page_count bits (bits beyond are ignored). */
uint64_t dirty_bitmap_count(const uint64_t *bitmap, uint64_t page_count);

/* fn for each maximal dirty run among the first page_count bits: 0 or what
 * fn returned. */
int dirty_bitmap_for_each_run(const uint64_t *bitmap, uint64_t page_count, dirty_range_fn fn,
			      void *ctx);

/*
 * Encode the first page_count pages of bitmap as RAW or RUNS (encoding is
 * MIGSTREAM_BITMAP_RAW or _RUNS), into buf of cap bytes. Returns the length
 * or -ENOSPC; -EINVAL for an unknown encoding. Bits beyond page_count in
 * the last word are ignored (written as zero).
 */
ssize_t dirty_bitmap_encode_as(uint8_t encoding, const uint64_t *bitmap, uint64_t page_count,
			       uint8_t *buf, size_t cap);
/*
 * The smaller of the two (RAW on a tie): buf must hold the RAW form
 * (dirty_bitmap_raw_len() bytes). Sets *encoding and *dirty_count.
 */
ssize_t dirty_bitmap_encode(const uint64_t *bitmap, uint64_t page_count, uint8_t *buf, size_t cap,
			    uint8_t *encoding, uint64_t *dirty_count);
/*
 * The same choice, but only RUNS is written (buf needs raw_len - 1 bytes,
 * else -ENOSPC): on RAW it returns 0 and writes nothing, so a writer can
 * send RAW straight from the caller's words, which on a little-endian host
 * are the RAW bytes already, plus dirty_bitmap_raw_tail().
 */
ssize_t dirty_bitmap_encode_runs_if_smaller(const uint64_t *bitmap, uint64_t page_count,
					    uint8_t *buf, size_t cap, uint8_t *encoding,
					    uint64_t *dirty_count);
/*
 * RAW bytes of the partial last word (bits beyond page_count zero) into
 * out; returns how many (0 when page_count is a multiple of 64). They
 * follow the page_count / 64 whole words.
 */
size_t dirty_bitmap_raw_tail(const uint64_t *bitmap, uint64_t page_count, uint8_t out[8]);

/*
 * Whether page_count pages of page_size bytes from iova end at or below
 * 2^64: a range past it has no address (migstream(5) makes it bad data).
 */
bool dirty_bitmap_within_iova_space(uint64_t iova, uint64_t page_size, uint64_t page_count);
/*
 * A decoded DIRTY_BITMAP record's bitmap: RAW length exact, padding bits
 * zero, runs within page_count, dirty_count right. 0 or -EBADMSG.
 */
int dirty_bitmap_validate(const struct migstream_dirty_bitmap *bm);
/*
 * fn for each maximal dirty run, pages counted from bm->iova (page 0). The
 * whole record is validated first, so fn never sees a range of a record
 * that turns out bad: 0, -EBADMSG, or what fn returned.
 */
int dirty_bitmap_for_each_range(const struct migstream_dirty_bitmap *bm, dirty_range_fn fn,
				void *ctx);
/*
 * Into a kernel bitmap of nwords words (>= dirty_bitmap_words(page_count),
 * else -ENOSPC); every word is written, bits beyond page_count are zero.
 * Checks and decodes in one pass: on -EBADMSG every word is zero.
 */
int dirty_bitmap_decode(const struct migstream_dirty_bitmap *bm, uint64_t *bitmap, size_t nwords);

/* Most pages one DIRTY_BITMAP record carries (the writer splits there):
 * its RAW form fills the payload, rounded down to whole 64-bit words. */
#define DIRTY_BITMAP_MAX_RECORD_PAGES \
	((uint64_t)(MIGSTREAM_MAX_PAYLOAD - MIGSTREAM_BITMAP_PREFIX_LEN) * 8 / 64 * 64)

#endif
