// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target: the migstream reader and every payload decoder, fed
 * from memory. The first input byte picks how the bytes arrive (short
 * reads) and whether compressed payloads are kept; the rest is the stream.
 * Built with FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION, the reader ignores
 * checksum mismatches so that mutated inputs get past them.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dirty-bitmap.h"
#include "stream-reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct src {
	const uint8_t *p;
	size_t len, pos, step;
};

static ssize_t src_read(void *ctx, void *buf, size_t len)
{
	struct src *s = ctx;
	size_t n = s->len - s->pos;

	if (n > len)
		n = len;
	if (s->step && n > s->step)
		n = s->step;
	memcpy(buf, s->p + s->pos, n);
	s->pos += n;
	return (ssize_t)n;
}

static int count_range(void *ctx, uint64_t first, uint64_t n)
{
	uint64_t *total = ctx;

	*total += n;
	return 0;
}

static void decode(const struct migstream_record *rec)
{
	union {
		struct migstream_stream_header sh;
		struct migstream_device dev;
		struct migstream_data data;
		struct migstream_precopy_info pi;
		struct migstream_dirty_bitmap bm;
		struct migstream_device_end de;
		struct migstream_stream_end se;
	} u;
	static uint64_t words[4096];

	switch (rec->type) {
	case MIGSTREAM_REC_STREAM_HEADER:
		migstream_decode_stream_header(rec, &u.sh);
		break;
	case MIGSTREAM_REC_DEVICE:
		migstream_decode_device(rec, &u.dev);
		break;
	case MIGSTREAM_REC_DATA:
		migstream_decode_data(rec, &u.data);
		break;
	case MIGSTREAM_REC_PRECOPY_INFO:
		migstream_decode_precopy_info(rec, &u.pi);
		break;
	case MIGSTREAM_REC_DIRTY_BITMAP:
		if (migstream_decode_dirty_bitmap(rec, &u.bm) == 0) {
			uint64_t total = 0;

			/* the reader validated it: the walk must agree */
			if (dirty_bitmap_for_each_range(&u.bm, count_range, &total) != 0 ||
			    total != u.bm.dirty_count)
				abort();
			if (dirty_bitmap_words(u.bm.page_count) <= 4096 &&
			    dirty_bitmap_decode(&u.bm, words, 4096) != 0)
				abort();
		}
		break;
	case MIGSTREAM_REC_DEVICE_END:
		migstream_decode_device_end(rec, &u.de);
		break;
	case MIGSTREAM_REC_STREAM_END:
		migstream_decode_stream_end(rec, &u.se);
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct migstream_reader_opts opts = { 0 };
	struct migstream_reader *r;
	struct migstream_record rec;
	struct src s;
	int ret;

	if (size < 1)
		return 0;
	opts.keep_compressed = data[0] & 1;
	s = (struct src){ .p = data + 1, .len = size - 1, .step = data[0] >> 1 };
	if (migstream_reader_new_cb(&r, src_read, &s, "fuzz", &opts))
		return 0;
	while ((ret = migstream_read_record(r, &rec)) == 1) {
		if (rec.len > MIGSTREAM_MAX_PAYLOAD)
			abort();
		if (!(rec.flags & MIGSTREAM_RF_ZSTD) || !opts.keep_compressed)
			decode(&rec);
	}
	/* an error always comes with a message naming the input */
	if (ret < 0 && strncmp(migstream_reader_error(r), "fuzz: ", 6) != 0)
		abort();
	migstream_reader_free(r);
	return 0;
}
