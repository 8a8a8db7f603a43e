// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Dirty bitmap codec: both encodings against a bit-by-bit model and a
 * reference encoder, edge page counts, runs across words, every LEB128
 * width, the checks a decoder must make, and bitmaps split over records.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/c.h"
#include "stream/dirty-bitmap.h"
#include "stream-util.h"
#include "unit.h"

static uint64_t rng_state = 0x243f6a8885a308d3ull;

static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static int bit(const uint64_t *b, uint64_t i)
{
	return (int)((b[i / 64] >> (i % 64)) & 1);
}

/* The model: runs found one bit at a time. */
struct runs {
	uint64_t (*r)[2];
	size_t n, cap;
};

static int runs_add(void *ctx, uint64_t first, uint64_t n)
{
	struct runs *rs = ctx;

	if (rs->n == rs->cap) {
		rs->cap = rs->cap * 2 + 16;
		rs->r = realloc(rs->r, rs->cap * sizeof(*rs->r));
	}
	rs->r[rs->n][0] = first;
	rs->r[rs->n][1] = n;
	rs->n++;
	return 0;
}

static struct runs model_runs(const uint64_t *b, uint64_t pages)
{
	struct runs rs = { 0 };
	uint64_t i = 0;

	while (i < pages) {
		uint64_t start;

		while (i < pages && !bit(b, i))
			i++;
		if (i == pages)
			break;
		start = i;
		while (i < pages && bit(b, i))
			i++;
		runs_add(&rs, start, i - start);
	}
	return rs;
}

static bool runs_equal(const struct runs *a, const struct runs *b)
{
	return a->n == b->n && (a->n == 0 || memcmp(a->r, b->r, a->n * sizeof(*a->r)) == 0);
}

static void random_bitmap(uint64_t *b, uint64_t words, int density)
{
	for (uint64_t i = 0; i < words; i++) {
		switch (density) {
		case 0: /* sparse */
			b[i] = rnd() % 16 == 0 ? UINT64_C(1) << (rnd() % 64) : 0;
			break;
		case 1: /* random */
			b[i] = rnd();
			break;
		case 2: /* long runs */
			b[i] = rnd() % 3 == 0	? UINT64_MAX
			       : rnd() % 3 == 0 ? 0
						: (UINT64_MAX << (rnd() % 64));
			break;
		default: /* dense */
			b[i] = rnd() | rnd() | rnd();
			break;
		}
	}
}

/* Encode as enc, decode, walk: all agree with the model. */
static void roundtrip_one(const uint64_t *b, uint64_t pages, uint8_t enc, uint8_t *buf, size_t cap)
{
	uint64_t words = dirty_bitmap_words(pages);
	uint64_t *out = calloc(words + 1, 8);
	struct migstream_dirty_bitmap bm = { .encoding = enc,
					     .page_size = 4096,
					     .page_count = pages };
	struct runs want = model_runs(b, pages), got = { 0 };
	ssize_t len = dirty_bitmap_encode_as(enc, b, pages, buf, cap);

	CHECK(len >= 0);
	if (len < 0)
		goto out;
	bm.bits = buf;
	bm.bits_len = (uint32_t)len;
	bm.dirty_count = dirty_bitmap_count(b, pages);
	if (enc == MIGSTREAM_BITMAP_RAW)
		CHECK_EQ(len, dirty_bitmap_raw_len(pages));
	CHECK_EQ(dirty_bitmap_validate(&bm), 0);
	CHECK_EQ(dirty_bitmap_decode(&bm, out, words + 1), 0);
	for (uint64_t i = 0; i < words; i++) {
		uint64_t mask = (i == words - 1 && pages % 64) ? (UINT64_C(1) << (pages % 64)) - 1
							       : UINT64_MAX;

		CHECK_EQ(out[i], b[i] & mask);
	}
	CHECK_EQ(out[words], 0);
	CHECK_EQ(dirty_bitmap_for_each_range(&bm, runs_add, &got), 0);
	CHECK(runs_equal(&want, &got));
	/* one more or one fewer dirty page is caught */
	bm.dirty_count++;
	CHECK_EQ(dirty_bitmap_validate(&bm), -EBADMSG);
	bm.dirty_count -= 2;
	if (bm.dirty_count != UINT64_MAX)
		CHECK_EQ(dirty_bitmap_validate(&bm), -EBADMSG);
out:
	free(want.r);
	free(got.r);
	free(out);
}

static void test_model_random(void)
{
	static const uint64_t counts[] = { 1,  2,   7,	 8,   9,    63,	  64,
					   65, 127, 128, 129, 1000, 4099, 65536 + 17 };
	size_t cap = 1 << 20;
	uint8_t *buf = malloc(cap);

	for (size_t c = 0; c < ARRAY_SIZE(counts); c++) {
		uint64_t pages = counts[c], words = dirty_bitmap_words(pages);
		uint64_t *b = malloc(words * 8);

		for (int density = 0; density < 4; density++) {
			struct runs want, got = { 0 };

			random_bitmap(b, words, density);
			want = model_runs(b, pages);
			CHECK_EQ(dirty_bitmap_for_each_run(b, pages, runs_add, &got), 0);
			CHECK(runs_equal(&want, &got));
			{
				uint64_t n = 0;

				for (uint64_t i = 0; i < pages; i++)
					n += (uint64_t)bit(b, i);
				CHECK_EQ(dirty_bitmap_count(b, pages), n);
			}
			roundtrip_one(b, pages, MIGSTREAM_BITMAP_RAW, buf, cap);
			roundtrip_one(b, pages, MIGSTREAM_BITMAP_RUNS, buf, cap);
			free(want.r);
			free(got.r);
		}
		free(b);
	}
	free(buf);
}

static void test_all_clean_all_dirty(void)
{
	uint64_t b[17];
	uint8_t buf[256], enc = 99;
	uint64_t dirty = 99;
	ssize_t len;

	memset(b, 0, sizeof(b));
	len = dirty_bitmap_encode(b, 17 * 64 - 3, buf, sizeof(buf), &enc, &dirty);
	CHECK_EQ(len, 0); /* no runs at all */
	CHECK_EQ(enc, MIGSTREAM_BITMAP_RUNS);
	CHECK_EQ(dirty, 0);
	roundtrip_one(b, 17 * 64 - 3, MIGSTREAM_BITMAP_RAW, buf, sizeof(buf));
	roundtrip_one(b, 17 * 64 - 3, MIGSTREAM_BITMAP_RUNS, buf, sizeof(buf));

	memset(b, 0xff, sizeof(b));
	len = dirty_bitmap_encode(b, 17 * 64 - 3, buf, sizeof(buf), &enc, &dirty);
	CHECK_EQ(enc, MIGSTREAM_BITMAP_RUNS);
	CHECK_EQ(len, 3); /* skip 0, run 1085 (two bytes) */
	CHECK_EQ(buf[0], 0);
	CHECK_EQ(buf[1], (1085 & 0x7f) | 0x80);
	CHECK_EQ(buf[2], 1085 >> 7);
	CHECK_EQ(dirty, 17 * 64 - 3);
	roundtrip_one(b, 17 * 64 - 3, MIGSTREAM_BITMAP_RAW, buf, sizeof(buf));
	roundtrip_one(b, 17 * 64 - 3, MIGSTREAM_BITMAP_RUNS, buf, sizeof(buf));

	/* alternating pages: RAW wins */
	memset(b, 0x55, sizeof(b));
	len = dirty_bitmap_encode(b, 17 * 64, buf, sizeof(buf), &enc, &dirty);
	CHECK_EQ(enc, MIGSTREAM_BITMAP_RAW);
	CHECK_EQ(len, 17 * 8);
	CHECK_EQ(dirty, 17 * 32);

	/* zero pages: an empty RAW bitmap */
	len = dirty_bitmap_encode(b, 0, buf, sizeof(buf), &enc, &dirty);
	CHECK_EQ(len, 0);
	CHECK_EQ(enc, MIGSTREAM_BITMAP_RAW);
	CHECK_EQ(dirty, 0);

	/* a buffer too small for RAW */
	CHECK_EQ(dirty_bitmap_encode(b, 17 * 64, buf, 17 * 8 - 1, &enc, &dirty), -ENOSPC);
	CHECK_EQ(dirty_bitmap_encode_as(7, b, 64, buf, sizeof(buf)), -EINVAL);
}

/* The worked example of migstream(5). */
static void test_man_example(void)
{
	/* pages 1, 2, 3 and 9 of 12 dirty */
	uint64_t b[1] = { 0x20e };
	uint8_t buf[16], enc;
	uint64_t dirty;
	ssize_t len;

	len = dirty_bitmap_encode_as(MIGSTREAM_BITMAP_RAW, b, 12, buf, sizeof(buf));
	CHECK_EQ(len, 2);
	CHECK_EQ(buf[0], 0x0e);
	CHECK_EQ(buf[1], 0x02);
	len = dirty_bitmap_encode_as(MIGSTREAM_BITMAP_RUNS, b, 12, buf, sizeof(buf));
	CHECK_EQ(len, 4);
	CHECK(memcmp(buf, "\x01\x03\x05\x01", 4) == 0);
	len = dirty_bitmap_encode(b, 12, buf, sizeof(buf), &enc, &dirty);
	CHECK_EQ(enc, MIGSTREAM_BITMAP_RAW); /* 2 bytes beat 4 */
	CHECK_EQ(dirty, 4);
}

static int bad_runs(const uint8_t *bits, uint32_t len, uint64_t pages, uint64_t dirty)
{
	struct migstream_dirty_bitmap bm = { .encoding = MIGSTREAM_BITMAP_RUNS,
					     .page_size = 4096,
					     .page_count = pages,
					     .dirty_count = dirty,
					     .bits = bits,
					     .bits_len = len };

	return dirty_bitmap_validate(&bm);
}

static int bad_raw(const uint8_t *bits, uint32_t len, uint64_t pages, uint64_t dirty)
{
	struct migstream_dirty_bitmap bm = { .encoding = MIGSTREAM_BITMAP_RAW,
					     .page_size = 4096,
					     .page_count = pages,
					     .dirty_count = dirty,
					     .bits = bits,
					     .bits_len = len };

	return dirty_bitmap_validate(&bm);
}

static void test_validation(void)
{
	uint64_t out[4];
	struct migstream_dirty_bitmap bm = { .encoding = MIGSTREAM_BITMAP_RUNS, .page_size = 4096 };

	CHECK_EQ(bad_runs((const uint8_t *)"\x01\x03\x05\x01", 4, 12, 4), 0);
	CHECK_EQ(bad_runs((const uint8_t *)"\x01\x03\x05\x01", 4, 10, 4), 0);
	CHECK_EQ(bad_runs((const uint8_t *)"\x01\x03\x05\x01", 4, 9, 4),
		 -EBADMSG); /* past page_count */
	CHECK_EQ(bad_runs((const uint8_t *)"\x01\x03\x05\x01", 4, 12, 3),
		 -EBADMSG);							 /* dirty_count */
	CHECK_EQ(bad_runs((const uint8_t *)"\x01\x03\x05", 3, 12, 3), -EBADMSG); /* half a pair */
	CHECK_EQ(bad_runs((const uint8_t *)"\x01\x00", 2, 12, 0), -EBADMSG);	 /* empty run */
	CHECK_EQ(bad_runs((const uint8_t *)"\x01\x03\x00\x01", 4, 12, 4),
		 -EBADMSG); /* runs not maximal */
	CHECK_EQ(bad_runs((const uint8_t *)"\x81\x00\x01", 3, 12, 1),
		 -EBADMSG);						     /* not shortest form */
	CHECK_EQ(bad_runs((const uint8_t *)"\x00\x81", 2, 12, 1), -EBADMSG); /* truncated number */
	CHECK_EQ(bad_runs((const uint8_t *)"\x00\x0c", 2, 12, 12), 0);
	/* 2^64 - 1 in ten bytes is fine as a number; 2^64 is not */
	CHECK_EQ(bad_runs((const uint8_t *)"\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01\x01", 11,
			  UINT64_MAX, 1),
		 -EBADMSG); /* skip of 2^64-1 leaves no room for the run */
	CHECK_EQ(bad_runs((const uint8_t *)"\xfe\xff\xff\xff\xff\xff\xff\xff\xff\x01\x01", 11,
			  UINT64_MAX, 1),
		 0);
	CHECK_EQ(bad_runs((const uint8_t *)"\x80\x80\x80\x80\x80\x80\x80\x80\x80\x02\x01", 11,
			  UINT64_MAX, 1),
		 -EBADMSG);
	CHECK_EQ(bad_runs((const uint8_t *)"\x80\x80\x80\x80\x80\x80\x80\x80\x80\x81\x01\x01", 12,
			  UINT64_MAX, 1),
		 -EBADMSG);
	/* overflow of pos + skip + run */
	CHECK_EQ(bad_runs((const uint8_t *)"\x00\x02\x01\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01",
			  13, UINT64_MAX, 3),
		 -EBADMSG);

	CHECK_EQ(bad_raw((const uint8_t *)"\x0e\x02", 2, 12, 4), 0);
	CHECK_EQ(bad_raw((const uint8_t *)"\x0e\x12", 2, 12, 5), -EBADMSG); /* padding bit 12 */
	CHECK_EQ(bad_raw((const uint8_t *)"\x0e\x12", 2, 13, 5), 0);
	CHECK_EQ(bad_raw((const uint8_t *)"\x0e\x02\x00", 3, 12, 4), -EBADMSG); /* length */
	CHECK_EQ(bad_raw((const uint8_t *)"\x0e", 1, 12, 3), -EBADMSG);
	CHECK_EQ(bad_raw((const uint8_t *)"", 0, 0, 0), 0);

	/* decode into too small a bitmap */
	bm.bits = (const uint8_t *)"\x00\x01";
	bm.bits_len = 2;
	bm.page_count = 257;
	bm.dirty_count = 1;
	CHECK_EQ(dirty_bitmap_decode(&bm, out, 4), -ENOSPC);
	bm.page_count = 256;
	CHECK_EQ(dirty_bitmap_decode(&bm, out, 4), 0);
	CHECK_EQ(out[0], 1);
	/* bad records never reach the callback */
	bm.dirty_count = 2;
	CHECK_EQ(dirty_bitmap_for_each_range(&bm, NULL, NULL), -EBADMSG);
}

static int stop_at_second(void *ctx, uint64_t first, uint64_t n)
{
	int *calls = ctx;

	return ++*calls == 2 ? 42 : 0;
}

static void test_callback_stops(void)
{
	uint64_t b[2] = { 0x5, 0x1 };
	int calls = 0;

	CHECK_EQ(dirty_bitmap_for_each_run(b, 128, stop_at_second, &calls), 42);
	CHECK_EQ(calls, 2);
}

/* Record decoding of the prefix fields. */
static void test_decode_prefix(void)
{
	struct migstream_dirty_bitmap bm = { .source = 3,
					     .encoding = MIGSTREAM_BITMAP_RUNS,
					     .time_ns = 5,
					     .iova = 1 << 20,
					     .page_size = 4096,
					     .page_count = 100,
					     .dirty_count = 2 },
				      out;
	uint8_t p[MIGSTREAM_BITMAP_PREFIX_LEN + 2];
	struct migstream_record rec = { .payload = p, .len = sizeof(p) };

	migstream_encode_bitmap_prefix(&bm, p);
	p[48] = 10;
	p[49] = 2;
	CHECK_EQ(migstream_decode_dirty_bitmap(&rec, &out), 0);
	CHECK_EQ(out.source, 3);
	CHECK_EQ(out.iova, 1 << 20);
	CHECK_EQ(out.bits_len, 2);
	CHECK_EQ(dirty_bitmap_validate(&out), 0);
	bm.page_size = 4095;
	migstream_encode_bitmap_prefix(&bm, p);
	CHECK_EQ(migstream_decode_dirty_bitmap(&rec, &out), -EBADMSG);
	bm.page_size = 4096;
	bm.encoding = 2;
	migstream_encode_bitmap_prefix(&bm, p);
	CHECK_EQ(migstream_decode_dirty_bitmap(&rec, &out), -EBADMSG);
	bm.encoding = 0;
	bm.dirty_count = 101;
	migstream_encode_bitmap_prefix(&bm, p);
	CHECK_EQ(migstream_decode_dirty_bitmap(&rec, &out), -EBADMSG);
	rec.len = MIGSTREAM_BITMAP_PREFIX_LEN - 1;
	CHECK_EQ(migstream_decode_dirty_bitmap(&rec, &out), -EBADMSG);
}

/* A bitmap bigger than one record: the writer splits it, iova follows. */
static void test_within_iova_space(void)
{
	const uint64_t top = UINT64_MAX - (16ull << 20) + 1; /* 2^64 - 16 MiB */
	struct migstream_dirty_bitmap info = { .iova = top + 4096,
					       .page_size = 4096,
					       .page_count = 4096 };
	uint64_t bits[64] = { 1 };
	struct migstream_writer *w;
	int fd = memfd_new();

	CHECK(dirty_bitmap_within_iova_space(top, 4096, 4096));		/* ends at 2^64 - 1 */
	CHECK(!dirty_bitmap_within_iova_space(top + 4096, 4096, 4096)); /* one page past */
	CHECK(dirty_bitmap_within_iova_space(0, 1ull << 63, 2));	/* all of it */
	CHECK(!dirty_bitmap_within_iova_space(1, 1ull << 63, 2));
	CHECK(!dirty_bitmap_within_iova_space(0, 1ull << 63, 3)); /* product overflows */
	CHECK(!dirty_bitmap_within_iova_space(0, 4096, UINT64_MAX));
	CHECK(dirty_bitmap_within_iova_space(UINT64_MAX, 1, 1));
	CHECK(!dirty_bitmap_within_iova_space(UINT64_MAX, 1, 2));
	CHECK(dirty_bitmap_within_iova_space(UINT64_MAX, 4096, 0)); /* no pages */
	/* what a reader refuses, the writer does not write */
	CHECK_EQ(migstream_writer_new(&w, fd, NULL), 0);
	CHECK_EQ(migstream_write_dirty_bitmap(w, &info, bits), -EINVAL);
	info.iova = top;
	CHECK_EQ(migstream_write_dirty_bitmap(w, &info, bits), 0);
	migstream_writer_free(w);
	close(fd);
}

static void test_split_across_records(void)
{
	const uint64_t pages = DIRTY_BITMAP_MAX_RECORD_PAGES * 2 + 100;
	const uint64_t words = dirty_bitmap_words(pages);
	const uint64_t iova = 0x40000000, page_size = 4096;
	uint64_t *b = malloc(words * 8), *got = calloc(words, 8);
	struct migstream_dirty_bitmap info = {
		.source = 1, .iova = iova, .page_size = page_size, .page_count = pages
	};
	struct migstream_writer *w;
	struct migstream_reader *r;
	struct migstream_record rec;
	struct memsrc src;
	struct mem m;
	uint64_t next_page = 0;
	int fd = memfd_new(), ret, pieces = 0, raw_pieces = 0;

	/* first third random (RAW), the rest sparse (RUNS) */
	random_bitmap(b, words / 3, 1);
	random_bitmap(b + words / 3, words - words / 3, 0);
	b[words - 1] |= UINT64_MAX; /* bits past page_count are ignored */

	CHECK_EQ(migstream_writer_new(&w, fd, NULL), 0);
	CHECK_EQ(migstream_write_dirty_bitmap(w, &info, b), 0);
	info.page_size = 3000;
	CHECK_EQ(migstream_write_dirty_bitmap(w, &info, b), -EINVAL);
	CHECK_EQ(migstream_writer_finish(w), 0);
	migstream_writer_free(w);
	m = fd_slurp(fd);
	close(fd);

	src = (struct memsrc){ .p = m.p, .len = m.len };
	CHECK_EQ(migstream_reader_new_cb(&r, memsrc_read, &src, "split", NULL), 0);
	while ((ret = migstream_read_record(r, &rec)) == 1) {
		struct migstream_dirty_bitmap bm;

		if (rec.type != MIGSTREAM_REC_DIRTY_BITMAP)
			continue;
		CHECK(rec.stored_len <= MIGSTREAM_MAX_PAYLOAD);
		CHECK_EQ(migstream_decode_dirty_bitmap(&rec, &bm), 0);
		CHECK_EQ(bm.iova, iova + next_page * page_size);
		CHECK_EQ(next_page % 64, 0);
		CHECK(bm.page_count <= DIRTY_BITMAP_MAX_RECORD_PAGES);
		CHECK_EQ(dirty_bitmap_decode(&bm, got + next_page / 64, words - next_page / 64), 0);
		raw_pieces += bm.encoding == MIGSTREAM_BITMAP_RAW;
		next_page += bm.page_count;
		pieces++;
	}
	CHECK_EQ(ret, 0);
	CHECK_EQ(pieces, 3);
	CHECK_EQ(raw_pieces, 1);
	CHECK_EQ(next_page, pages);
	b[words - 1] &= (UINT64_C(1) << (pages % 64)) - 1;
	CHECK(memcmp(b, got, words * 8) == 0);
	migstream_reader_free(r);
	mem_free(&m);
	free(b);
	free(got);
}

/*
 * The reference encoder: runs found one bit at a time (model_runs), each
 * number written seven bits at a time. Shares no code with the library's
 * word loop.
 */
static size_t ref_leb128(uint8_t *p, uint64_t v)
{
	size_t n = 0;

	for (;;) {
		p[n] = v & 0x7f;
		v >>= 7;
		if (!v)
			return n + 1;
		p[n++] |= 0x80;
	}
}

/* Reference RUNS of the first pages bits; returns its length. */
static size_t ref_runs(const uint64_t *b, uint64_t pages, uint8_t *out)
{
	struct runs rs = model_runs(b, pages);
	uint64_t prev_end = 0;
	size_t len = 0;

	for (size_t i = 0; i < rs.n; i++) {
		len += ref_leb128(out + len, rs.r[i][0] - prev_end);
		len += ref_leb128(out + len, rs.r[i][1]);
		prev_end = rs.r[i][0] + rs.r[i][1];
	}
	free(rs.r);
	return len;
}

/* Each page dirty with probability per_mille / 1000. */
static void density_bitmap(uint64_t *b, uint64_t words, unsigned int per_mille)
{
	for (uint64_t i = 0; i < words; i++) {
		uint64_t w = 0;

		for (unsigned int bit = 0; bit < 64; bit++)
			if (rnd() % 1000 < per_mille)
				w |= UINT64_C(1) << bit;
		b[i] = w;
	}
}

/*
 * The library's RUNS (fast word loop, checked loop near the buffer's end)
 * and its RAW-or-RUNS choice equal the reference byte for byte; a buffer of
 * exactly the RUNS length is enough and one byte less is not. Buffers are
 * allocated at their exact size so that ASan sees any overrun.
 */
static void check_against_reference(const uint64_t *b, uint64_t pages)
{
	uint64_t raw_len = dirty_bitmap_raw_len(pages), dirty;
	size_t max = (size_t)pages * 2 + 16; /* one pair per two pages, worst case */
	uint8_t *want = malloc(max), *got = malloc(max), *exact;
	size_t want_len = ref_runs(b, pages, want);
	ssize_t len;
	uint8_t enc;

	len = dirty_bitmap_encode_as(MIGSTREAM_BITMAP_RUNS, b, pages, got, max);
	CHECK_EQ(len, want_len);
	CHECK(len >= 0 && memcmp(got, want, want_len) == 0);

	exact = malloc(want_len ? want_len : 1);
	CHECK_EQ(dirty_bitmap_encode_as(MIGSTREAM_BITMAP_RUNS, b, pages, exact, want_len),
		 want_len);
	CHECK(memcmp(exact, want, want_len) == 0);
	if (want_len)
		CHECK_EQ(dirty_bitmap_encode_as(MIGSTREAM_BITMAP_RUNS, b, pages, exact,
						want_len - 1),
			 -ENOSPC);
	free(exact);

	/* RUNS only when strictly shorter than RAW */
	exact = malloc(raw_len ? raw_len : 1);
	len = dirty_bitmap_encode(b, pages, exact, raw_len, &enc, &dirty);
	CHECK_EQ(dirty, dirty_bitmap_count(b, pages));
	if (want_len < raw_len) {
		CHECK_EQ(enc, MIGSTREAM_BITMAP_RUNS);
		CHECK_EQ(len, want_len);
		CHECK(len >= 0 && memcmp(exact, want, want_len) == 0);
	} else {
		CHECK_EQ(enc, MIGSTREAM_BITMAP_RAW);
		CHECK_EQ(len, raw_len);
		CHECK_EQ(dirty_bitmap_encode_as(MIGSTREAM_BITMAP_RAW, b, pages, got, max), raw_len);
		CHECK(memcmp(exact, got, raw_len) == 0);
	}
	free(exact);

	/* the writer's variant: RUNS in raw_len - 1 bytes, RAW left to the caller */
	exact = malloc(raw_len > 1 ? raw_len - 1 : 1);
	enc = 99;
	len = dirty_bitmap_encode_runs_if_smaller(b, pages, exact, raw_len ? raw_len - 1 : 0, &enc,
						  &dirty);
	if (want_len < raw_len) {
		CHECK_EQ(enc, MIGSTREAM_BITMAP_RUNS);
		CHECK_EQ(len, want_len);
		CHECK(len >= 0 && memcmp(exact, want, want_len) == 0);
	} else {
		CHECK_EQ(enc, MIGSTREAM_BITMAP_RAW);
		CHECK_EQ(len, 0);
	}
	if (raw_len > 1)
		CHECK_EQ(dirty_bitmap_encode_runs_if_smaller(b, pages, exact, raw_len - 2, &enc,
							     &dirty),
			 -ENOSPC);
	free(exact);

	roundtrip_one(b, pages, MIGSTREAM_BITMAP_RUNS, got, max);
	free(want);
	free(got);
}

static void test_runs_against_reference(void)
{
	/* 0.1%, 1%, 10%, 50%, 100% */
	static const unsigned int per_mille[] = { 1, 10, 100, 500, 1000 };
	/* word multiples and not; big enough for the fast loop to run out of room */
	static const uint64_t counts[] = {
		1, 63, 64, 65, 255, 256, 257, 1000, 64 * 100 + 37, 64 * 1000, 64 * 4099 + 5
	};

	for (size_t c = 0; c < ARRAY_SIZE(counts); c++) {
		uint64_t pages = counts[c], words = dirty_bitmap_words(pages);
		uint64_t *b = malloc(words * 8);

		for (size_t d = 0; d < ARRAY_SIZE(per_mille); d++) {
			for (int rep = 0; rep < 3; rep++) {
				density_bitmap(b, words, per_mille[d]);
				check_against_reference(b, pages);
			}
		}
		for (int density = 0; density < 4; density++) {
			random_bitmap(b, words, density);
			check_against_reference(b, pages);
		}
		free(b);
	}
}

static void set_pages(uint64_t *b, uint64_t first, uint64_t n)
{
	for (uint64_t i = first; i < first + n; i++)
		b[i / 64] |= UINT64_C(1) << (i % 64);
}

/* Runs at and across word boundaries, at the very end, and every LEB128 width change. */
static void test_runs_boundaries(void)
{
	static const struct {
		uint64_t first, n;
	} ranges[] = {
		{ 0, 1 },     { 63, 1 },    { 64, 1 },	  { 63, 2 },	     { 60, 10 },
		{ 64, 64 },   { 62, 131 },  { 127, 1 },	  { 128, 1 },	     { 0, 64 },
		{ 1, 126 },   { 5, 127 },   { 5, 128 },	  { 200, 16383 },    { 200, 16384 },
		{ 16383, 1 }, { 16384, 1 }, { 16385, 2 }, { 40000, 300000 },
	};
	static const uint64_t counts[] = { 64,	  128,	 191,	192,	16384,
					   16385, 16447, 16448, 400000, 400001 };
	const uint64_t max_pages = 400001, words = dirty_bitmap_words(max_pages);
	uint64_t *b = malloc(words * 8);

	for (size_t c = 0; c < ARRAY_SIZE(counts); c++) {
		uint64_t pages = counts[c];

		for (size_t r = 0; r < ARRAY_SIZE(ranges); r++) {
			uint64_t first = ranges[r].first, n = ranges[r].n;

			if (first >= pages)
				continue;
			/* one run, then the same with a run ending exactly at page_count */
			memset(b, 0, words * 8);
			set_pages(b, first, n < pages - first ? n : pages - first);
			check_against_reference(b, pages);
			set_pages(b, pages - 1 - (r % 3), 1 + r % 3);
			check_against_reference(b, pages);
			/* a second run after a gap of exactly n pages (skips of every width) */
			memset(b, 0, words * 8);
			if (first + 2 * n < pages) {
				set_pages(b, first, 1);
				set_pages(b, first + 1 + n, 1);
				check_against_reference(b, pages);
			}
		}
		/* set bits past page_count are ignored */
		memset(b, 0xff, words * 8);
		check_against_reference(b, pages);
	}
	free(b);
}

/* Numbers of four and five bytes: a clean gap of 2^28 + 3 pages, a run of 2^21 + 7. */
static void test_runs_huge_numbers(void)
{
	const uint64_t gap = (UINT64_C(1) << 28) + 3, run = (UINT64_C(1) << 21) + 7;
	const uint64_t pages = gap + run + 130, words = dirty_bitmap_words(pages);
	uint64_t *b = calloc(words, 8);
	uint8_t buf[32];
	ssize_t len;

	set_pages(b, gap, run);
	len = dirty_bitmap_encode_as(MIGSTREAM_BITMAP_RUNS, b, pages, buf, sizeof(buf));
	CHECK_EQ(len, 5 + 4);
	CHECK(memcmp(buf, "\x83\x80\x80\x80\x01\x87\x80\x80\x01", 9) == 0);
	check_against_reference(b, pages);
	/* all dirty: skip 0, then the whole count in one number */
	memset(b, 0xff, words * 8);
	len = dirty_bitmap_encode_as(MIGSTREAM_BITMAP_RUNS, b, pages, buf, sizeof(buf));
	CHECK_EQ(len, 1 + 5);
	CHECK_EQ(buf[0], 0);
	{
		uint8_t want[10];

		CHECK_EQ(ref_leb128(want, pages), 5);
		CHECK(memcmp(buf + 1, want, 5) == 0);
	}
	free(b);
}

/* RAW's tail bytes: whatever is past page_count in the last word is dropped. */
static void test_raw_tail(void)
{
	uint64_t b[2] = { UINT64_MAX, UINT64_MAX };
	uint8_t out[8];

	memset(out, 0xee, sizeof(out));
	CHECK_EQ(dirty_bitmap_raw_tail(b, 128, out), 0);
	CHECK_EQ(out[0], 0xee);
	CHECK_EQ(dirty_bitmap_raw_tail(b, 64 + 12, out), 2);
	CHECK_EQ(out[0], 0xff);
	CHECK_EQ(out[1], 0x0f);
	CHECK_EQ(out[2], 0xee);
	CHECK_EQ(dirty_bitmap_raw_tail(b, 64 + 63, out), 8);
	CHECK_EQ(out[7], 0x7f);
}

/* A bad record decodes to nothing, not to half a bitmap. */
static void test_decode_bad_leaves_zero(void)
{
	uint64_t out[4];
	struct migstream_dirty_bitmap bm = { .encoding = MIGSTREAM_BITMAP_RUNS,
					     .page_size = 4096,
					     .page_count = 256,
					     .dirty_count = 5,
					     .bits = (const uint8_t *)"\x00\x02\x01\x02",
					     .bits_len = 4 };

	memset(out, 0xaa, sizeof(out));
	CHECK_EQ(dirty_bitmap_decode(&bm, out, 4), -EBADMSG); /* 4 pages, not 5 */
	for (int i = 0; i < 4; i++)
		CHECK_EQ(out[i], 0);
	bm.dirty_count = 4;
	CHECK_EQ(dirty_bitmap_decode(&bm, out, 4), 0);
	CHECK_EQ(out[0], 0x1b);
	bm.encoding = MIGSTREAM_BITMAP_RAW;
	bm.page_count = 20;
	bm.bits = (const uint8_t *)"\xff\x01\x00";
	bm.bits_len = 3;
	bm.dirty_count = 8;
	memset(out, 0xaa, sizeof(out));
	CHECK_EQ(dirty_bitmap_decode(&bm, out, 4), -EBADMSG); /* 9 pages, not 8 */
	for (int i = 0; i < 4; i++)
		CHECK_EQ(out[i], 0);
	bm.bits = (const uint8_t *)"\xff\x01\x10"; /* padding bit 20 */
	bm.dirty_count = 10;
	CHECK_EQ(dirty_bitmap_decode(&bm, out, 4), -EBADMSG);
	CHECK_EQ(out[0], 0);
}

/*
 * The writer sends RAW from the caller's words plus a tail (three payload
 * pieces): the record holds exactly dirty_bitmap_encode()'s bytes, plain
 * and zstd-compressed, for counts that are and are not whole words/bytes.
 */
static void test_writer_raw_pieces(void)
{
	static const uint64_t counts[] = { 1, 7, 8, 9, 64, 100, 128, 1000, 4096 + 63 };
	static const int levels[] = { 0, 3 };

	for (size_t l = 0; l < ARRAY_SIZE(levels); l++) {
		for (size_t c = 0; c < ARRAY_SIZE(counts); c++) {
			struct migstream_writer_opts opts = { .producer = "test",
							      .zstd_level = levels[l] };
			uint64_t pages = counts[c], words = dirty_bitmap_words(pages), dirty;
			struct migstream_dirty_bitmap info = {
				.source = 2, .iova = 0x1000, .page_size = 4096, .page_count = pages
			};
			uint64_t *b = malloc(words * 8);
			uint8_t *want = malloc(words * 8);
			struct migstream_writer *w;
			struct migstream_reader *r;
			struct migstream_record rec;
			struct memsrc src;
			struct mem m;
			ssize_t want_len;
			uint8_t enc;
			int fd = memfd_new(), ret, seen = 0;

			/* dense enough for RAW at any count, with bits set past page_count */
			random_bitmap(b, words, 1);
			b[0] = UINT64_C(0x5555555555555555);
			b[words - 1] |= UINT64_C(1) << 63;
			want_len = dirty_bitmap_encode(b, pages, want, words * 8, &enc, &dirty);
			CHECK_EQ(enc, MIGSTREAM_BITMAP_RAW);

			CHECK_EQ(migstream_writer_new(&w, fd, &opts), 0);
			CHECK_EQ(migstream_write_dirty_bitmap(w, &info, b), 0);
			CHECK_EQ(migstream_writer_finish(w), 0);
			migstream_writer_free(w);
			m = fd_slurp(fd);
			close(fd);

			src = (struct memsrc){ .p = m.p, .len = m.len };
			CHECK_EQ(migstream_reader_new_cb(&r, memsrc_read, &src, "raw", NULL), 0);
			while ((ret = migstream_read_record(r, &rec)) == 1) {
				struct migstream_dirty_bitmap bm;

				if (rec.type != MIGSTREAM_REC_DIRTY_BITMAP)
					continue;
				seen++;
				CHECK_EQ(migstream_decode_dirty_bitmap(&rec, &bm), 0);
				CHECK_EQ(bm.encoding, MIGSTREAM_BITMAP_RAW);
				CHECK_EQ(bm.source, 2);
				CHECK_EQ(bm.dirty_count, dirty);
				CHECK_EQ(bm.bits_len, want_len);
				CHECK(memcmp(bm.bits, want, bm.bits_len) == 0);
				CHECK_EQ(dirty_bitmap_validate(&bm), 0);
			}
			CHECK_EQ(ret, 0);
			CHECK_EQ(seen, 1);
			migstream_reader_free(r);
			mem_free(&m);
			free(b);
			free(want);
		}
	}
}

int main(void)
{
	RUN(test_model_random);
	RUN(test_all_clean_all_dirty);
	RUN(test_man_example);
	RUN(test_validation);
	RUN(test_callback_stops);
	RUN(test_decode_prefix);
	RUN(test_within_iova_space);
	RUN(test_split_across_records);
	RUN(test_runs_against_reference);
	RUN(test_runs_boundaries);
	RUN(test_runs_huge_numbers);
	RUN(test_raw_tail);
	RUN(test_decode_bad_leaves_zero);
	RUN(test_writer_raw_pieces);
	return unit_done();
}
