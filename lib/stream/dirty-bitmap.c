// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Dirty bitmap codec (see dirty-bitmap.h for the two encodings).
 *
 * Every path finds runs the same way: the edges of a 64-bit word (bits
 * that differ from their lower neighbour, the previous word's top bit for
 * bit 0) are w ^ (w << 1 | carry), and each set bit of that is where a run
 * starts or ends. A clean or fully dirty stretch has no edges and costs one
 * xor per word; a mixed word costs one count-trailing-zeros per edge and no
 * branch on which kind of edge it is, so sparse and dense bitmaps both go
 * at memory speed.
 */
#include <endian.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "stream/dirty-bitmap.h"

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

/* The edges of w: bit i set where page base+i starts or ends a run. */
static inline uint64_t word_edges(uint64_t w, uint64_t *carry)
{
	uint64_t edges = w ^ ((w << 1) | *carry);

	*carry = w >> 63;
	return edges;
}

struct run_finder {
	uint64_t start; /* first page of the open run */
	uint64_t carry; /* top bit of the previous word: a run is open */
	dirty_range_fn fn;
	void *ctx;
};

/* Feed the word covering pages base..base+63; returns fn's nonzero. */
static inline int run_finder_word(struct run_finder *rf, uint64_t w, uint64_t base)
{
	uint64_t edges = word_edges(w, &rf->carry);
	int ret;

	while (edges) {
		unsigned int bit = (unsigned int)__builtin_ctzll(edges);

		edges &= edges - 1;
		if ((w >> bit) & 1) {
			rf->start = base + bit;
			continue;
		}
		ret = rf->fn(rf->ctx, rf->start, base + bit - rf->start);
		if (ret)
			return ret;
	}
	return 0;
}

/* A run still open after the last word ends at page_count. */
static inline int run_finder_end(struct run_finder *rf, uint64_t page_count)
{
	if (!rf->carry)
		return 0;
	rf->carry = 0;
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
static void count_pages_and_runs(const uint64_t *bitmap, uint64_t page_count, uint64_t *pages,
				 uint64_t *runs)
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

int dirty_bitmap_for_each_run(const uint64_t *bitmap, uint64_t page_count, dirty_range_fn fn,
			      void *ctx)
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

/* Bytes in the longest LEB128 number (64 bits, 7 per byte). */
#define LEB128_MAX_LEN 10

/*
 * Needs LEB128_MAX_LEN bytes of room. The common numbers (sparse bitmaps
 * have skips and runs below 16384) go without a data-dependent branch:
 * two bytes are stored, and the pointer moves by one or two.
 */
static inline uint8_t *leb128_put(uint8_t *p, uint64_t v)
{
	if (v < 16384) {
		bool two = v >= 128;

		p[0] = (uint8_t)(v | (uint64_t)two << 7);
		p[1] = (uint8_t)(v >> 7);
		return p + 1 + two;
	}
	do {
		uint8_t byte = v & 0x7f;

		v >>= 7;
		*p++ = byte | (v ? 0x80 : 0);
	} while (v);
	return p;
}

/* Shortest form only, at most 64 bits: 0 or -EBADMSG. */
static int leb128_get_slow(const uint8_t **pp, const uint8_t *end, uint64_t *out)
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

/*
 * The numbers of a sparse bitmap mostly take one or two bytes: those are
 * read inline, the rest (and every malformed or truncated one) out of line.
 */
static inline int leb128_get(const uint8_t **pp, const uint8_t *end, uint64_t *out)
{
	const uint8_t *p = *pp;

	if (end - p >= 2) {
		if (!(p[0] & 0x80)) {
			*out = p[0];
			*pp = p + 1;
			return 0;
		}
		/* a zero second byte is not the shortest form */
		if (!(p[1] & 0x80) && p[1]) {
			*out = (p[0] & 0x7fu) | (uint64_t)p[1] << 7;
			*pp = p + 2;
			return 0;
		}
	}
	return leb128_get_slow(pp, end, out);
}

/* Encoding */

/* The last LEB128_MAX_LEN bytes of a buffer: does v fit before end? */
static __attribute__((noinline)) uint8_t *leb128_put_near_end(uint8_t *p, const uint8_t *end,
							      uint64_t v)
{
	uint8_t tmp[LEB128_MAX_LEN];
	size_t n = (size_t)(leb128_put(tmp, v) - tmp);

	if ((size_t)(end - p) < n)
		return NULL;
	memcpy(p, tmp, n);
	return p + n;
}

/* v at p, or NULL when it does not fit before end. */
static inline uint8_t *runs_put(uint8_t *p, const uint8_t *end, uint64_t v)
{
	if (__builtin_expect(end - p >= LEB128_MAX_LEN, 1))
		return leb128_put(p, v);
	return leb128_put_near_end(p, end, v);
}

/*
 * RUNS in one pass with no callback: a run's skip is its start minus the
 * previous run's end and its length is its end minus its start, so every
 * edge emits the distance from the edge before it, whichever kind it is.
 * Within a word all but the first distance are below 64, one byte each.
 */

/* This many bytes of room let runs_word() go without checks for 4 words. */
#define RUNS_GROUP_ROOM (4 * (LEB128_MAX_LEN + 64))

/*
 * One word's edges. At 1% dirty most words have none or two, at random, so
 * the first two go without a branch on how many there are (a mispredicted
 * branch costs more than the work): an absent edge has distance 0, writes
 * a byte the pointer then does not move past, and leaves mark alone.
 */
static inline uint8_t *runs_word(uint8_t *p, uint64_t edges, uint64_t base, uint64_t *mark)
{
	const uint64_t top = UINT64_C(1) << 63; /* keeps ctz defined; unused when absent */
	uint64_t has1 = edges != 0, pos1 = (uint64_t)__builtin_ctzll(edges | top);
	uint64_t rest = edges & (edges - 1);
	uint64_t has2 = rest != 0, pos2 = (uint64_t)__builtin_ctzll(rest | top);
	uint64_t dist1 = (base + pos1 - *mark) & (0 - has1);
	uint64_t dist2 = (pos2 - pos1) & (0 - has2);

	if (__builtin_expect(dist1 < 16384, 1)) {
		uint64_t two = dist1 >= 128;

		p[0] = (uint8_t)(dist1 | two << 7);
		p[1] = (uint8_t)(dist1 >> 7);
		p += has1 + two;
	} else {
		p = leb128_put(p, dist1);
	}
	*p = (uint8_t)dist2;
	p += has2;
	*mark += dist1 + dist2;
	rest &= rest - 1;
	if (__builtin_expect(rest != 0, 0)) {
		uint64_t last = pos2;

		do {
			uint64_t pos = (uint64_t)__builtin_ctzll(rest);

			*p++ = (uint8_t)(pos - last);
			last = pos;
			rest &= rest - 1;
		} while (rest);
		*mark = base + last;
	}
	return p;
}

/* The same near the end of the buffer: NULL when a number does not fit. */
static uint8_t *runs_word_checked(uint8_t *p, const uint8_t *end, uint64_t edges, uint64_t base,
				  uint64_t *mark)
{
	while (edges) {
		uint64_t page = base + (uint64_t)__builtin_ctzll(edges);

		edges &= edges - 1;
		p = runs_put(p, end, page - *mark);
		if (!p)
			return NULL;
		*mark = page;
	}
	return p;
}

static ssize_t encode_runs(const uint64_t *bitmap, uint64_t page_count, uint8_t *buf, size_t cap)
{
	uint64_t full = page_count / 64, carry = 0, mark = 0, i;
	const uint8_t *end = buf + cap;
	uint8_t *p = buf;

	for (i = 0; i + 4 <= full && end - p >= RUNS_GROUP_ROOM; i += 4) {
		const uint64_t *g = bitmap + i;

		/*
		 * Four clean words outside a run, or four dirty ones inside
		 * one, have no edges: sparse bitmaps skip them on a branch
		 * that is mostly taken, dense ones on one mostly not taken.
		 */
		if (carry ? (g[0] & g[1] & g[2] & g[3]) == UINT64_MAX
			  : (g[0] | g[1] | g[2] | g[3]) == 0)
			continue;
		for (unsigned int j = 0; j < 4; j++)
			p = runs_word(p, word_edges(g[j], &carry), (i + j) * 64, &mark);
	}
	for (; i < full && p; i++)
		p = runs_word_checked(p, end, word_edges(bitmap[i], &carry), i * 64, &mark);
	/* Masked, a run ending at page_count has its edge in the last word. */
	if (page_count % 64 && p)
		p = runs_word_checked(p, end,
				      word_edges(bitmap[full] & tail_mask(page_count), &carry),
				      full * 64, &mark);
	/* A run through the top bit of a full last word ends at page_count. */
	if (carry && p)
		p = runs_put(p, end, page_count - mark);
	return p ? p - buf : -ENOSPC;
}

static ssize_t encode_raw(const uint64_t *bitmap, uint64_t page_count, uint8_t *buf, size_t cap)
{
	uint64_t len = dirty_bitmap_raw_len(page_count), full = page_count / 64;

	if (len > cap)
		return -ENOSPC;
#if __BYTE_ORDER == __LITTLE_ENDIAN
	memcpy(buf, bitmap, full * 8);
#else
	for (uint64_t i = 0; i < full; i++) {
		uint64_t w = htole64(bitmap[i]);

		memcpy(buf + i * 8, &w, 8);
	}
#endif
	if (page_count % 64)
		dirty_bitmap_raw_tail(bitmap, page_count, buf + full * 8);
	return (ssize_t)len;
}

size_t dirty_bitmap_raw_tail(const uint64_t *bitmap, uint64_t page_count, uint8_t out[8])
{
	unsigned int n = (unsigned int)(dirty_bitmap_raw_len(page_count) - page_count / 64 * 8);
	uint64_t w;

	if (!n)
		return 0;
	w = bitmap[page_count / 64] & tail_mask(page_count);
	for (unsigned int i = 0; i < n; i++, w >>= 8)
		out[i] = (uint8_t)w;
	return n;
}

ssize_t dirty_bitmap_encode_as(uint8_t encoding, const uint64_t *bitmap, uint64_t page_count,
			       uint8_t *buf, size_t cap)
{
	switch (encoding) {
	case MIGSTREAM_BITMAP_RAW:
		return encode_raw(bitmap, page_count, buf, cap);
	case MIGSTREAM_BITMAP_RUNS:
		return encode_runs(bitmap, page_count, buf, cap);
	}
	return -EINVAL;
}

ssize_t dirty_bitmap_encode_runs_if_smaller(const uint64_t *bitmap, uint64_t page_count,
					    uint8_t *buf, size_t cap, uint8_t *encoding,
					    uint64_t *dirty_count)
{
	uint64_t raw_len = dirty_bitmap_raw_len(page_count), runs;
	ssize_t len;

	if (raw_len && raw_len - 1 > cap)
		return -ENOSPC;
	count_pages_and_runs(bitmap, page_count, dirty_count, &runs);
	/*
	 * RUNS only when strictly smaller. Each run costs at least two bytes,
	 * which rules RUNS out for busy bitmaps without encoding them; else
	 * the encoder stops as soon as it reaches the RAW length.
	 */
	*encoding = MIGSTREAM_BITMAP_RAW;
	if (2 * runs < raw_len) {
		len = encode_runs(bitmap, page_count, buf, raw_len - 1);
		if (len >= 0) {
			*encoding = MIGSTREAM_BITMAP_RUNS;
			return len;
		}
	}
	return 0;
}

ssize_t dirty_bitmap_encode(const uint64_t *bitmap, uint64_t page_count, uint8_t *buf, size_t cap,
			    uint8_t *encoding, uint64_t *dirty_count)
{
	ssize_t len;

	if (dirty_bitmap_raw_len(page_count) > cap)
		return -ENOSPC;
	len = dirty_bitmap_encode_runs_if_smaller(bitmap, page_count, buf, cap, encoding,
						  dirty_count);
	if (len < 0 || *encoding == MIGSTREAM_BITMAP_RUNS)
		return len;
	return encode_raw(bitmap, page_count, buf, cap);
}

/* Decoding */

/*
 * RAW: length exact, padding bits zero, dirty_count right. With out, the
 * words are stored there on the same pass (the caller wipes them if the
 * record turns out bad).
 */
POPCNT_CLONES
static int raw_check(const struct migstream_dirty_bitmap *bm, uint64_t *out)
{
	uint64_t words, count = 0, i;

	if (bm->bits_len != dirty_bitmap_raw_len(bm->page_count))
		return -EBADMSG;
	words = dirty_bitmap_words(bm->page_count);
	/* two loops, so that the checking one stays a bare popcount loop */
	if (out) {
		for (i = 0; i < words; i++) {
			uint64_t w = raw_word(bm->bits, bm->bits_len, i);

			out[i] = w;
			count += (uint64_t)__builtin_popcountll(w);
		}
	} else {
		for (i = 0; i < words; i++)
			count +=
				(uint64_t)__builtin_popcountll(raw_word(bm->bits, bm->bits_len, i));
	}
	if (words && (raw_word(bm->bits, bm->bits_len, words - 1) & ~tail_mask(bm->page_count)))
		return -EBADMSG; /* padding bits set */
	return count == bm->dirty_count ? 0 : -EBADMSG;
}

static inline int set_range(void *ctx, uint64_t first, uint64_t n)
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

/*
 * Walks RUNS, checking as it goes; fn may be NULL. Every range is checked
 * to lie within page_count before fn sees it. Always inlined so that each
 * caller's fn (none, set_range) is inlined into the loop, not called per run.
 */
static inline __attribute__((always_inline)) int runs_walk(const struct migstream_dirty_bitmap *bm,
							   dirty_range_fn fn, void *ctx)
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

bool dirty_bitmap_within_iova_space(uint64_t iova, uint64_t page_size, uint64_t page_count)
{
	uint64_t last; /* offset of the last byte from iova */

	if (page_count == 0 || page_size == 0)
		return true;
	return !__builtin_mul_overflow(page_count - 1, page_size, &last) &&
	       !__builtin_add_overflow(last, page_size - 1, &last) &&
	       !__builtin_add_overflow(iova, last, &last);
}

int dirty_bitmap_validate(const struct migstream_dirty_bitmap *bm)
{
	switch (bm->encoding) {
	case MIGSTREAM_BITMAP_RAW:
		return raw_check(bm, NULL);
	case MIGSTREAM_BITMAP_RUNS:
		return runs_walk(bm, NULL, NULL);
	}
	return -EBADMSG;
}

int dirty_bitmap_for_each_range(const struct migstream_dirty_bitmap *bm, dirty_range_fn fn,
				void *ctx)
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

/*
 * One pass that checks and decodes: the output is the caller's scratch
 * until we return 0, and a bad record leaves it all zero rather than half
 * decoded.
 */
int dirty_bitmap_decode(const struct migstream_dirty_bitmap *bm, uint64_t *bitmap, size_t nwords)
{
	uint64_t words = dirty_bitmap_words(bm->page_count);
	int ret;

	if (nwords < words)
		return -ENOSPC;
	switch (bm->encoding) {
	case MIGSTREAM_BITMAP_RAW:
		memset(bitmap + words, 0, (nwords - words) * 8);
		ret = raw_check(bm, bitmap);
		break;
	case MIGSTREAM_BITMAP_RUNS:
		memset(bitmap, 0, nwords * 8);
		ret = runs_walk(bm, set_range, bitmap);
		break;
	default:
		return -EBADMSG;
	}
	if (ret)
		memset(bitmap, 0, nwords * 8);
	return ret;
}
