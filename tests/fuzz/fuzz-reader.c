// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target: the migstream reader and every payload decoder, fed
 * from memory. The first input byte picks how the bytes arrive (short
 * reads, bits 1-6), whether compressed payloads are kept (bit 0) and
 * whether DATA may come out of order (bit 7: unordered_data with the
 * smallest window, 64 chunks, so that its edge is easy to reach); the rest
 * is the stream. Built with FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION, the
 * reader ignores checksum mismatches so that mutated inputs get past them.
 *
 * Beyond "no crash", what the reader hands out must keep the stream's
 * rules, checked here independently of the reader: per device, DATA in
 * order with contiguous offsets (or, unordered, each chunk_index once and
 * no pre-copy chunk numbered after a STOP_COPY one), and a DEVICE_END whose
 * totals match the chunks handed out (unordered: exactly chunks
 * 0..count-1).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zstd.h>

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

/* What the fuzzer saw of each device: bounded by the input (64 KiB). */
struct seen_device {
	uint32_t index;
	bool ended;
	uint64_t nchunks, bytes;
	uint64_t *chunks; /* indexes handed out */
	size_t cap;
	uint64_t max_precopy, min_stop_copy;
	bool any_precopy, any_stop_copy;
};

struct oracle {
	bool unordered;
	unsigned int ndev;
	struct seen_device dev[MIGSTREAM_MAX_DEVICES];
};

static struct seen_device *oracle_device(struct oracle *o, uint32_t index)
{
	for (unsigned int i = 0; i < o->ndev; i++)
		if (o->dev[i].index == index)
			return &o->dev[i];
	return NULL;
}

static void oracle_record(struct oracle *o, const struct migstream_record *rec)
{
	struct seen_device *d;

	switch (rec->type) {
	case MIGSTREAM_REC_DEVICE: {
		static struct migstream_device dev;

		if (migstream_decode_device(rec, &dev) || oracle_device(o, dev.index) ||
		    o->ndev >= MIGSTREAM_MAX_DEVICES)
			abort();
		o->dev[o->ndev++] = (struct seen_device){ .index = dev.index };
		break;
	}
	case MIGSTREAM_REC_DATA: {
		struct migstream_data data;

		if (migstream_decode_data(rec, &data))
			abort();
		d = oracle_device(o, data.device);
		if (!d || d->ended)
			abort();
		if (!o->unordered && (data.chunk_index != d->nchunks || data.offset != d->bytes))
			abort();
		for (uint64_t i = 0; i < d->nchunks; i++)
			if (d->chunks[i] == data.chunk_index)
				abort();
		if (data.phase == MIGSTREAM_PHASE_STOP_COPY) {
			if (d->any_precopy && d->max_precopy > data.chunk_index)
				abort();
			if (!d->any_stop_copy || data.chunk_index < d->min_stop_copy)
				d->min_stop_copy = data.chunk_index;
			d->any_stop_copy = true;
		} else {
			if (d->any_stop_copy && data.chunk_index > d->min_stop_copy)
				abort();
			if (!d->any_precopy || data.chunk_index > d->max_precopy)
				d->max_precopy = data.chunk_index;
			d->any_precopy = true;
		}
		if (d->nchunks == d->cap) {
			d->cap = d->cap ? 2 * d->cap : 16;
			d->chunks = realloc(d->chunks, d->cap * sizeof(*d->chunks));
			if (!d->chunks)
				abort();
		}
		d->chunks[d->nchunks++] = data.chunk_index;
		d->bytes += data.len;
		break;
	}
	case MIGSTREAM_REC_DEVICE_END: {
		struct migstream_device_end end;

		if (migstream_decode_device_end(rec, &end))
			abort();
		d = oracle_device(o, end.device);
		if (!d || d->ended || end.chunk_count != d->nchunks || end.total_bytes != d->bytes)
			abort();
		/* distinct (checked above), count of them, all below count: 0..count-1 */
		for (uint64_t i = 0; i < d->nchunks; i++)
			if (d->chunks[i] >= end.chunk_count)
				abort();
		d->ended = true;
		break;
	}
	case MIGSTREAM_REC_STREAM_END:
		for (unsigned int i = 0; i < o->ndev; i++)
			if (!o->dev[i].ended)
				abort();
		break;
	}
}

/* A record handed out as stored (keep_compressed): the oracle needs its bytes. */
static void oracle_compressed(struct oracle *o, const struct migstream_record *rec)
{
	struct migstream_record raw = *rec;
	void *buf = malloc(rec->raw_len ? rec->raw_len : 1);

	if (!buf)
		abort();
	if (ZSTD_decompress(buf, rec->raw_len, rec->payload, rec->len) != rec->raw_len) {
		/* unknown ancillary types are not decompressed by the reader */
		if (migstream_record_type_known(rec->type))
			abort();
	} else {
		raw.payload = buf;
		raw.len = rec->raw_len;
		oracle_record(o, &raw);
	}
	free(buf);
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
	static struct oracle o;
	struct migstream_reader *r;
	struct migstream_record rec;
	struct src s;
	int ret;

	if (size < 1)
		return 0;
	opts.keep_compressed = data[0] & 1;
	opts.unordered_data = data[0] & 0x80;
	opts.unordered_window = 64;
	s = (struct src){ .p = data + 1, .len = size - 1, .step = (data[0] & 0x7f) >> 1 };
	if (migstream_reader_new_cb(&r, src_read, &s, "fuzz", &opts))
		return 0;
	memset(&o, 0, sizeof(o));
	o.unordered = opts.unordered_data;
	while ((ret = migstream_read_record(r, &rec)) == 1) {
		if (rec.len > MIGSTREAM_MAX_PAYLOAD)
			abort();
		if (!(rec.flags & MIGSTREAM_RF_ZSTD) || !opts.keep_compressed) {
			decode(&rec);
			oracle_record(&o, &rec);
		} else {
			oracle_compressed(&o, &rec);
		}
	}
	/* an error always comes with a message naming the input */
	if (ret < 0 && strncmp(migstream_reader_error(r), "fuzz: ", 6) != 0)
		abort();
	migstream_reader_free(r);
	for (unsigned int i = 0; i < o.ndev; i++)
		free(o.dev[i].chunks);
	return 0;
}
