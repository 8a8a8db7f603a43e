// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target: the dirty bitmap codec. Input: u8 encoding, u16
 * page_count, u16 dirty_count (little-endian), then the encoded bitmap.
 * Properties checked beyond "no crash":
 *   - a bitmap that validates decodes, and re-encodes to the same bytes
 *     (both encodings are canonical);
 *   - the range walk covers exactly dirty_count pages, in order;
 *   - the input bytes read as a kernel bitmap survive encode/decode in
 *     both encodings, and the automatic choice is never larger than RAW;
 *   - the writer's variant (RUNS only, RAW from the words and their tail)
 *     makes the same choice and the same bytes;
 *   - read as RUNS for huge page counts (up to 2^64 - 1, where skips and
 *     runs near 2^64 are valid), validation and the range walk agree with
 *     a plain reference decoder that does its sums in 128 bits.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/c.h"
#include "stream/dirty-bitmap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_PAGES 65535
#define MAX_WORDS ((MAX_PAGES + 63) / 64)

struct walk {
	uint64_t next, total;
};

static int walk_range(void *ctx, uint64_t first, uint64_t n)
{
	struct walk *w = ctx;

	if (n == 0 || first < w->next)
		abort();
	w->next = first + n + 1; /* runs are maximal: a gap follows */
	w->total += n;
	return 0;
}

static void roundtrip(const uint64_t *words, uint64_t pages, uint8_t enc)
{
	static uint8_t buf[MAX_PAGES * 2 + 64];
	static uint64_t back[MAX_WORDS];
	struct migstream_dirty_bitmap bm = { .encoding = enc,
					     .page_size = 4096,
					     .page_count = pages };
	ssize_t len = dirty_bitmap_encode_as(enc, words, pages, buf, sizeof(buf));

	if (len < 0)
		abort();
	bm.bits = buf;
	bm.bits_len = (uint32_t)len;
	bm.dirty_count = dirty_bitmap_count(words, pages);
	if (dirty_bitmap_decode(&bm, back, MAX_WORDS) != 0)
		abort();
	for (uint64_t i = 0; i < dirty_bitmap_words(pages); i++) {
		uint64_t mask = (i == pages / 64 && pages % 64) ? (UINT64_C(1) << (pages % 64)) - 1
								: UINT64_MAX;

		if (back[i] != (words[i] & mask))
			abort();
	}
}

/* want: dirty_bitmap_encode()'s result for these words */
static void writer_variant(const uint64_t *words, uint64_t pages, const uint8_t *want,
			   ssize_t want_len, uint8_t want_enc, uint64_t want_dirty)
{
	static uint8_t runs[MAX_PAGES / 8 + 8];
	uint64_t raw_len = dirty_bitmap_raw_len(pages), dirty, full = pages / 64 * 8;
	uint8_t enc, tail[8];
	ssize_t len;
	size_t n;

	len = dirty_bitmap_encode_runs_if_smaller(words, pages, runs, raw_len ? raw_len - 1 : 0,
						  &enc, &dirty);
	if (enc != want_enc || dirty != want_dirty)
		abort();
	if (enc == MIGSTREAM_BITMAP_RUNS &&
	    (len != want_len || memcmp(runs, want, (size_t)len) != 0))
		abort();
	if (enc == MIGSTREAM_BITMAP_RAW && len != 0)
		abort();
	/* RAW is the words' own bytes on a little-endian host, then the tail */
	n = dirty_bitmap_raw_tail(words, pages, tail);
	if (enc == MIGSTREAM_BITMAP_RAW &&
	    (full + n != raw_len || memcmp(want + full, tail, n) != 0))
		abort();
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	if (enc == MIGSTREAM_BITMAP_RAW && memcmp(want, words, full) != 0)
		abort();
#endif
}

/*
 * The RUNS rules of migstream(5), written for clarity, not speed: 0 and the
 * dirty page count, or -1. Sums in 128 bits cannot wrap.
 */
static int reference_runs(const uint8_t *p, size_t len, uint64_t page_count, uint64_t *dirty)
{
	unsigned __int128 pos = 0, count = 0;
	bool first = true;
	size_t i = 0;

	while (i < len) {
		unsigned __int128 v[2];

		for (int k = 0; k < 2; k++) {
			unsigned int shift = 0;
			uint8_t b;

			v[k] = 0;
			for (;;) {
				if (i == len)
					return -1;
				b = p[i++];
				v[k] |= (unsigned __int128)(b & 0x7f) << shift;
				if (!(b & 0x80))
					break;
				shift += 7;
				if (shift > 63)
					return -1;
			}
			if (v[k] >> 64 || (b == 0 && shift))
				return -1;
		}
		if ((!first && v[0] == 0) || v[1] == 0 || pos + v[0] + v[1] > page_count)
			return -1;
		pos += v[0] + v[1];
		count += v[1];
		first = false;
	}
	*dirty = (uint64_t)count;
	return 0;
}

struct huge_walk {
	uint64_t page_count, next, total;
	bool any;
};

static int huge_range(void *ctx, uint64_t first, uint64_t n)
{
	struct huge_walk *w = ctx;

	/* in order, maximal, within page_count, and no sum wraps */
	if (n == 0 || (w->any && first <= w->next) || first < w->next || n > w->page_count - first)
		abort();
	w->next = first + n;
	w->total += n;
	w->any = true;
	return 0;
}

static void huge_page_counts(const uint8_t *bits, uint32_t bits_len, uint64_t small)
{
	const uint64_t counts[] = { small, UINT64_MAX, UINT64_MAX - small, UINT64_C(1) << 63,
				    (small << 48) | small };

	for (size_t i = 0; i < ARRAY_SIZE(counts); i++) {
		struct migstream_dirty_bitmap bm = { .encoding = MIGSTREAM_BITMAP_RUNS,
						     .page_size = 4096,
						     .page_count = counts[i],
						     .bits = bits,
						     .bits_len = bits_len };
		struct huge_walk w = { .page_count = counts[i] };
		uint64_t dirty;

		if (reference_runs(bits, bits_len, counts[i], &dirty) != 0) {
			bm.dirty_count = 0;
			if (dirty_bitmap_validate(&bm) == 0)
				abort();
			continue;
		}
		bm.dirty_count = dirty;
		if (dirty_bitmap_validate(&bm) != 0)
			abort();
		if (dirty_bitmap_for_each_range(&bm, huge_range, &w) != 0 || w.total != dirty)
			abort();
		bm.dirty_count = dirty + 1;
		if (dirty_bitmap_validate(&bm) == 0)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint64_t words[MAX_WORDS], again_words[MAX_WORDS];
	static uint8_t again[MAX_PAGES * 2 + 64];
	struct migstream_dirty_bitmap bm = { .page_size = 4096 };
	struct walk w = { 0 };
	uint8_t enc;
	ssize_t len;
	uint64_t dirty;

	if (size < 5)
		return 0;
	bm.encoding = data[0] & 1;
	bm.page_count = data[1] | (uint64_t)data[2] << 8;
	bm.dirty_count = data[3] | (uint64_t)data[4] << 8;
	bm.bits = data + 5;
	bm.bits_len = (uint32_t)(size - 5);

	if (dirty_bitmap_validate(&bm) == 0) {
		if (dirty_bitmap_for_each_range(&bm, walk_range, &w) != 0 ||
		    w.total != bm.dirty_count)
			abort();
		if (dirty_bitmap_decode(&bm, words, MAX_WORDS) != 0)
			abort();
		len = dirty_bitmap_encode_as(bm.encoding, words, bm.page_count, again,
					     sizeof(again));
		if (len != (ssize_t)bm.bits_len || memcmp(again, bm.bits, bm.bits_len) != 0)
			abort();
	} else if (dirty_bitmap_for_each_range(&bm, walk_range, &w) != -EBADMSG ||
		   dirty_bitmap_decode(&bm, words, MAX_WORDS) == 0) {
		abort();
	}

	huge_page_counts(bm.bits, bm.bits_len, bm.page_count);

	/* the payload bytes as a kernel bitmap of page_count pages */
	memset(again_words, 0, sizeof(again_words));
	memcpy(again_words, data + 5,
	       size - 5 < sizeof(again_words) ? size - 5 : sizeof(again_words));
	roundtrip(again_words, bm.page_count, MIGSTREAM_BITMAP_RAW);
	roundtrip(again_words, bm.page_count, MIGSTREAM_BITMAP_RUNS);
	len = dirty_bitmap_encode(again_words, bm.page_count, again, sizeof(again), &enc, &dirty);
	if (len < 0 || (uint64_t)len > dirty_bitmap_raw_len(bm.page_count))
		abort();
	writer_variant(again_words, bm.page_count, again, len, enc, dirty);
	return 0;
}
