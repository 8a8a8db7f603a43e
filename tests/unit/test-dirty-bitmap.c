// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Dirty bitmap codec: both encodings against a bit-by-bit model, edge page
 * counts, the checks a decoder must make, and bitmaps split over records.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dirty-bitmap.h"
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
			b[i] = rnd() % 3 == 0 ? UINT64_MAX : rnd() % 3 == 0 ? 0 : (UINT64_MAX << (rnd() % 64));
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
	struct migstream_dirty_bitmap bm = { .encoding = enc, .page_size = 4096, .page_count = pages };
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
		uint64_t mask = (i == words - 1 && pages % 64) ? (UINT64_C(1) << (pages % 64)) - 1 : UINT64_MAX;

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
	static const uint64_t counts[] = { 1, 2, 7, 8, 9, 63, 64, 65, 127, 128, 129, 1000, 4099, 65536 + 17 };
	size_t cap = 1 << 20;
	uint8_t *buf = malloc(cap);

	for (size_t c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
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
	struct migstream_dirty_bitmap bm = { .encoding = MIGSTREAM_BITMAP_RUNS, .page_size = 4096,
					     .page_count = pages, .dirty_count = dirty, .bits = bits,
					     .bits_len = len };

	return dirty_bitmap_validate(&bm);
}

static int bad_raw(const uint8_t *bits, uint32_t len, uint64_t pages, uint64_t dirty)
{
	struct migstream_dirty_bitmap bm = { .encoding = MIGSTREAM_BITMAP_RAW, .page_size = 4096,
					     .page_count = pages, .dirty_count = dirty, .bits = bits,
					     .bits_len = len };

	return dirty_bitmap_validate(&bm);
}

static void test_validation(void)
{
	uint64_t out[4];
	struct migstream_dirty_bitmap bm = { .encoding = MIGSTREAM_BITMAP_RUNS, .page_size = 4096 };

	CHECK_EQ(bad_runs((const uint8_t *)"\x01\x03\x05\x01", 4, 12, 4), 0);
	CHECK_EQ(bad_runs((const uint8_t *)"\x01\x03\x05\x01", 4, 10, 4), 0);
	CHECK_EQ(bad_runs((const uint8_t *)"\x01\x03\x05\x01", 4, 9, 4), -EBADMSG);  /* past page_count */
	CHECK_EQ(bad_runs((const uint8_t *)"\x01\x03\x05\x01", 4, 12, 3), -EBADMSG); /* dirty_count */
	CHECK_EQ(bad_runs((const uint8_t *)"\x01\x03\x05", 3, 12, 3), -EBADMSG);     /* half a pair */
	CHECK_EQ(bad_runs((const uint8_t *)"\x01\x00", 2, 12, 0), -EBADMSG);	      /* empty run */
	CHECK_EQ(bad_runs((const uint8_t *)"\x01\x03\x00\x01", 4, 12, 4), -EBADMSG); /* runs not maximal */
	CHECK_EQ(bad_runs((const uint8_t *)"\x81\x00\x01", 3, 12, 1), -EBADMSG);     /* not shortest form */
	CHECK_EQ(bad_runs((const uint8_t *)"\x00\x81", 2, 12, 1), -EBADMSG);	      /* truncated number */
	CHECK_EQ(bad_runs((const uint8_t *)"\x00\x0c", 2, 12, 12), 0);
	/* 2^64 - 1 in ten bytes is fine as a number; 2^64 is not */
	CHECK_EQ(bad_runs((const uint8_t *)"\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01\x01", 11, UINT64_MAX, 1),
		 -EBADMSG); /* skip of 2^64-1 leaves no room for the run */
	CHECK_EQ(bad_runs((const uint8_t *)"\xfe\xff\xff\xff\xff\xff\xff\xff\xff\x01\x01", 11, UINT64_MAX, 1), 0);
	CHECK_EQ(bad_runs((const uint8_t *)"\x80\x80\x80\x80\x80\x80\x80\x80\x80\x02\x01", 11, UINT64_MAX, 1),
		 -EBADMSG);
	CHECK_EQ(bad_runs((const uint8_t *)"\x80\x80\x80\x80\x80\x80\x80\x80\x80\x81\x01\x01", 12, UINT64_MAX, 1),
		 -EBADMSG);
	/* overflow of pos + skip + run */
	CHECK_EQ(bad_runs((const uint8_t *)"\x00\x02\x01\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 13, UINT64_MAX,
			  3), -EBADMSG);

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
	struct migstream_dirty_bitmap bm = { .source = 3, .encoding = MIGSTREAM_BITMAP_RUNS, .time_ns = 5,
					     .iova = 1 << 20, .page_size = 4096, .page_count = 100,
					     .dirty_count = 2 }, out;
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
static void test_split_across_records(void)
{
	const uint64_t pages = DIRTY_BITMAP_MAX_RECORD_PAGES * 2 + 100;
	const uint64_t words = dirty_bitmap_words(pages);
	const uint64_t iova = 0x40000000, page_size = 4096;
	uint64_t *b = malloc(words * 8), *got = calloc(words, 8);
	struct migstream_dirty_bitmap info = { .source = 1, .iova = iova, .page_size = page_size,
					       .page_count = pages };
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

int main(void)
{
	RUN(test_model_random);
	RUN(test_all_clean_all_dirty);
	RUN(test_man_example);
	RUN(test_validation);
	RUN(test_callback_stops);
	RUN(test_decode_prefix);
	RUN(test_split_across_records);
	return unit_done();
}
