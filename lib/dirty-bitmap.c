// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Dirty bitmap codec (see dirty-bitmap.h for the two encodings).
 *
 * One run finder serves every path: it is fed 64-bit words in page order
 * and reports maximal runs of set bits. Zero and all-ones words take the
 * fast branch, mixed words cost one count-trailing-zeros per transition, so
 * sparse and dense bitmaps both go at memory speed.
 */
#include <endian.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "dirty-bitmap.h"

/*
 * The x86-64 baseline has no POPCNT instruction, and the compiler's fallback
 * is several times slower; the counting loops get a POPCNT clone chosen
 * when the program starts.
 */
#if defined(__x86_64__) && defined(__has_attribute)
#if __has_attribute(target_clones)
#define POPCNT_CLONES __attribute__((target_clones("popcnt", "default")))
#endif
#endif
#ifndef POPCNT_CLONES
#define POPCNT_CLONES
#endif

struct run_finder {
	uint64_t start; /* first page of the open run */
	bool in_run;
	dirty_range_fn fn;
	void *ctx;
};

/* Feed the word covering pages base..base+63; returns fn's nonzero. */
static inline int run_finder_word(struct run_finder *rf, uint64_t w, uint64_t base)
{
	unsigned int pos = 0;
	int ret;

	if (w == 0) {
		if (rf->in_run) {
			rf->in_run = false;
			return rf->fn(rf->ctx, rf->start, base - rf->start);
		}
		return 0;
	}
	if (w == UINT64_MAX) {
		if (!rf->in_run) {
			rf->in_run = true;
			rf->start = base;
		}
		return 0;
	}
	while (pos < 64) {
		if (rf->in_run) {
			uint64_t clear = ~w >> pos;

			if (clear == 0)
				return 0; /* the run goes on into the next word */
			pos += (unsigned int)__builtin_ctzll(clear);
			rf->in_run = false;
			ret = rf->fn(rf->ctx, rf->start, base + pos - rf->start);
			if (ret)
				return ret;
		} else {
			uint64_t set = w >> pos;

			if (set == 0)
				return 0;
			pos += (unsigned int)__builtin_ctzll(set);
			rf->in_run = true;
			rf->start = base + pos;
		}
	}
	return 0;
}

static inline int run_finder_end(struct run_finder *rf, uint64_t page_count)
{
	if (!rf->in_run)
		return 0;
	rf->in_run = false;
	return rf->fn(rf->ctx, rf->start, page_count - rf->start);
}

static inline uint64_t tail_mask(uint64_t page_count)
{
	unsigned int rem = page_count % 64;

	return rem ? (UINT64_C(1) << rem) - 1 : UINT64_MAX;
}

/* Static: clang 14 emits a target_clones dispatcher only for local use. */
POPCNT_CLONES
static uint64_t count_pages(const uint64_t *bitmap, uint64_t page_count)
{
	uint64_t full = page_count / 64, count = 0, i;

	for (i = 0; i < full; i++)
		count += (uint64_t)__builtin_popcountll(bitmap[i]);
	if (page_count % 64)
		count += (uint64_t)__builtin_popcountll(bitmap[full] & tail_mask(page_count));
	return count;
}

uint64_t dirty_bitmap_count(const uint64_t *bitmap, uint64_t page_count)
{
	return count_pages(bitmap, page_count);
}

/*
 * Dirty pages and dirty runs in one pass: a run starts at a set bit whose
 * lower neighbour (the previous word's top bit for bit 0) is clear.
 */
POPCNT_CLONES
static void count_pages_and_runs(const uint64_t *bitmap, uint64_t page_count, uint64_t *pages, uint64_t *runs)
{
	uint64_t full = page_count / 64, carry = 0, p = 0, r = 0, i;

	for (i = 0; i < full; i++) {
		uint64_t w = bitmap[i];

		p += (uint64_t)__builtin_popcountll(w);
		r += (uint64_t)__builtin_popcountll(w & ~((w << 1) | carry));
		carry = w >> 63;
	}
	if (page_count % 64) {
		uint64_t w = bitmap[full] & tail_mask(page_count);

		p += (uint64_t)__builtin_popcountll(w);
		r += (uint64_t)__builtin_popcountll(w & ~((w << 1) | carry));
	}
	*pages = p;
	*runs = r;
}

int dirty_bitmap_for_each_run(const uint64_t *bitmap, uint64_t page_count, dirty_range_fn fn, void *ctx)
{
	struct run_finder rf = { .fn = fn, .ctx = ctx };
	uint64_t full = page_count / 64, i;
	int ret;

	for (i = 0; i < full; i++) {
		ret = run_finder_word(&rf, bitmap[i], i * 64);
		if (ret)
			return ret;
	}
	if (page_count % 64) {
		ret = run_finder_word(&rf, bitmap[full] & tail_mask(page_count), full * 64);
		if (ret)
			return ret;
	}
	return run_finder_end(&rf, page_count);
}

/* RAW bytes as little-endian words; the last word may be partial. */
static inline uint64_t raw_word(const uint8_t *bits, uint64_t bits_len, uint64_t i)
{
	uint64_t w = 0;

	if ((i + 1) * 8 <= bits_len) {
		memcpy(&w, bits + i * 8, 8);
		return le64toh(w);
	}
	for (uint64_t b = i * 8; b < bits_len; b++)
		w |= (uint64_t)bits[b] << ((b - i * 8) * 8);
	return w;
}

/* LEB128 */

static size_t leb128_put(uint8_t *p, uint64_t v)
{
	size_t n = 0;

	do {
		uint8_t byte = v & 0x7f;

		v >>= 7;
		p[n++] = byte | (v ? 0x80 : 0);
	} while (v);
	return n;
}

/* Shortest form only, at most 64 bits: 0 or -EBADMSG. */
static int leb128_get(const uint8_t **pp, const uint8_t *end, uint64_t *out)
{
	const uint8_t *p = *pp;
	uint64_t v = 0;
	unsigned int shift = 0;

	for (;;) {
		uint8_t byte;

		if (p == end)
			return -EBADMSG;
		byte = *p++;
		if (shift == 63 && (byte & 0x7e))
			return -EBADMSG; /* more than 64 bits */
		v |= (uint64_t)(byte & 0x7f) << shift;
		if (!(byte & 0x80)) {
			if (byte == 0 && shift)
				return -EBADMSG; /* not the shortest form */
			break;
		}
		shift += 7;
		if (shift > 63)
			return -EBADMSG;
	}
	*pp = p;
	*out = v;
	return 0;
}

/* Encoding */

struct runs_writer {
	uint8_t *buf;
	size_t len, cap;
	uint64_t prev_end;
};

static int runs_writer_add(void *ctx, uint64_t first, uint64_t n)
{
	struct runs_writer *rw = ctx;
	uint8_t tmp[20];
	size_t len;

	len = leb128_put(tmp, first - rw->prev_end);
	len += leb128_put(tmp + len, n);
	if (rw->cap - rw->len < len)
		return -ENOSPC;
	memcpy(rw->buf + rw->len, tmp, len);
	rw->len += len;
	rw->prev_end = first + n;
	return 0;
}

static ssize_t encode_raw(const uint64_t *bitmap, uint64_t page_count, uint8_t *buf, size_t cap)
{
	uint64_t len = dirty_bitmap_raw_len(page_count), full = page_count / 64, i;

	if (len > cap)
		return -ENOSPC;
#if __BYTE_ORDER == __LITTLE_ENDIAN
	memcpy(buf, bitmap, full * 8);
#else
	for (i = 0; i < full; i++) {
		uint64_t w = htole64(bitmap[i]);

		memcpy(buf + i * 8, &w, 8);
	}
#endif
	if (page_count % 64) {
		uint64_t w = bitmap[full] & tail_mask(page_count);

		for (i = full * 8; i < len; i++, w >>= 8)
			buf[i] = (uint8_t)w;
	}
	return (ssize_t)len;
}

ssize_t dirty_bitmap_encode_as(uint8_t encoding, const uint64_t *bitmap, uint64_t page_count, uint8_t *buf,
			       size_t cap)
{
	struct runs_writer rw = { .buf = buf, .cap = cap };
	int ret;

	switch (encoding) {
	case MIGSTREAM_BITMAP_RAW:
		return encode_raw(bitmap, page_count, buf, cap);
	case MIGSTREAM_BITMAP_RUNS:
		ret = dirty_bitmap_for_each_run(bitmap, page_count, runs_writer_add, &rw);
		return ret ? ret : (ssize_t)rw.len;
	}
	return -EINVAL;
}

ssize_t dirty_bitmap_encode(const uint64_t *bitmap, uint64_t page_count, uint8_t *buf, size_t cap,
			    uint8_t *encoding, uint64_t *dirty_count)
{
	uint64_t raw_len = dirty_bitmap_raw_len(page_count), runs;
	ssize_t len;

	if (raw_len > cap)
		return -ENOSPC;
	count_pages_and_runs(bitmap, page_count, dirty_count, &runs);
	/*
	 * RUNS only when strictly smaller. Each run costs at least two bytes,
	 * which rules RUNS out for busy bitmaps without encoding them; else
	 * the encoder stops as soon as it reaches the RAW length.
	 */
	if (2 * runs < raw_len) {
		len = dirty_bitmap_encode_as(MIGSTREAM_BITMAP_RUNS, bitmap, page_count, buf, raw_len - 1);
		if (len >= 0) {
			*encoding = MIGSTREAM_BITMAP_RUNS;
			return len;
		}
	}
	*encoding = MIGSTREAM_BITMAP_RAW;
	return encode_raw(bitmap, page_count, buf, cap);
}

/* Decoding */

POPCNT_CLONES
static int raw_check(const struct migstream_dirty_bitmap *bm)
{
	uint64_t words, count = 0, i;

	if (bm->bits_len != dirty_bitmap_raw_len(bm->page_count))
		return -EBADMSG;
	words = dirty_bitmap_words(bm->page_count);
	for (i = 0; i < words; i++) {
		uint64_t w = raw_word(bm->bits, bm->bits_len, i);

		if (i == words - 1 && (w & ~tail_mask(bm->page_count)))
			return -EBADMSG; /* padding bits set */
		count += (uint64_t)__builtin_popcountll(w);
	}
	return count == bm->dirty_count ? 0 : -EBADMSG;
}

/* Walks RUNS, checking as it goes; fn may be NULL. */
static int runs_walk(const struct migstream_dirty_bitmap *bm, dirty_range_fn fn, void *ctx)
{
	const uint8_t *p = bm->bits, *end = bm->bits + bm->bits_len;
	uint64_t pos = 0, count = 0;
	bool first = true;
	int ret;

	while (p < end) {
		uint64_t skip, run;

		if (leb128_get(&p, end, &skip) || leb128_get(&p, end, &run))
			return -EBADMSG;
		if ((!first && skip == 0) || run == 0)
			return -EBADMSG;
		if (skip > bm->page_count - pos || run > bm->page_count - pos - skip)
			return -EBADMSG;
		pos += skip;
		if (fn) {
			ret = fn(ctx, pos, run);
			if (ret)
				return ret;
		}
		pos += run;
		count += run;
		first = false;
	}
	return count == bm->dirty_count ? 0 : -EBADMSG;
}

int dirty_bitmap_validate(const struct migstream_dirty_bitmap *bm)
{
	switch (bm->encoding) {
	case MIGSTREAM_BITMAP_RAW:
		return raw_check(bm);
	case MIGSTREAM_BITMAP_RUNS:
		return runs_walk(bm, NULL, NULL);
	}
	return -EBADMSG;
}

int dirty_bitmap_for_each_range(const struct migstream_dirty_bitmap *bm, dirty_range_fn fn, void *ctx)
{
	struct run_finder rf = { .fn = fn, .ctx = ctx };
	uint64_t words, i;
	int ret;

	ret = dirty_bitmap_validate(bm);
	if (ret)
		return ret;
	if (bm->encoding == MIGSTREAM_BITMAP_RUNS)
		return runs_walk(bm, fn, ctx);
	words = dirty_bitmap_words(bm->page_count);
	for (i = 0; i < words; i++) {
		ret = run_finder_word(&rf, raw_word(bm->bits, bm->bits_len, i), i * 64);
		if (ret)
			return ret;
	}
	return run_finder_end(&rf, bm->page_count);
}

static int set_range(void *ctx, uint64_t first, uint64_t n)
{
	uint64_t *bitmap = ctx, last = first + n - 1;
	uint64_t fw = first / 64, lw = last / 64;
	uint64_t fmask = UINT64_MAX << (first % 64);
	uint64_t lmask = UINT64_MAX >> (63 - last % 64);

	if (fw == lw) {
		bitmap[fw] |= fmask & lmask;
		return 0;
	}
	bitmap[fw] |= fmask;
	for (uint64_t i = fw + 1; i < lw; i++)
		bitmap[i] = UINT64_MAX;
	bitmap[lw] |= lmask;
	return 0;
}

int dirty_bitmap_decode(const struct migstream_dirty_bitmap *bm, uint64_t *bitmap, size_t nwords)
{
	uint64_t words = dirty_bitmap_words(bm->page_count), i;
	int ret;

	if (nwords < words)
		return -ENOSPC;
	ret = dirty_bitmap_validate(bm);
	if (ret)
		return ret;
	if (bm->encoding == MIGSTREAM_BITMAP_RAW) {
		for (i = 0; i < words; i++)
			bitmap[i] = raw_word(bm->bits, bm->bits_len, i);
		memset(bitmap + words, 0, (nwords - words) * 8);
		return 0;
	}
	memset(bitmap, 0, nwords * 8);
	return runs_walk(bm, set_range, bitmap);
}
