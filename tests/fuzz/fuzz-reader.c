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
 * 0..count-1). A channel of a set (the stream's content chooses: a CHANNEL
 * record as record 1; the corpus has channel seeds) keeps the channel
 * rules instead: CHANNEL only as record 1, chunk_index increasing
 * strictly, chunks not overlapping, and at DEVICE_END every chunk within
 * the device's totals.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zstd.h>

#include "stream/dirty-bitmap.h"
#include "stream/reader.h"
#include "stream/reply.h"

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
	uint64_t last_end; /* channel: where the last chunk ended */
};

struct oracle {
	bool unordered;
	bool channel; /* record 1 was CHANNEL */
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
		if (o->channel) {
			if (d->nchunks && (data.chunk_index <= d->chunks[d->nchunks - 1] ||
					   data.offset < d->last_end))
				abort();
			d->last_end = data.offset + data.len;
		} else if (!o->unordered &&
			   (data.chunk_index != d->nchunks || data.offset != d->bytes)) {
			abort();
		}
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
		if (!d || d->ended)
			abort();
		/* a channel: the set's totals, which this channel's chunks fit in */
		if (o->channel ? end.chunk_count < d->nchunks || end.total_bytes < d->last_end
			       : end.chunk_count != d->nchunks || end.total_bytes != d->bytes)
			abort();
		/* distinct (checked above), count of them, all below count: 0..count-1 */
		for (uint64_t i = 0; i < d->nchunks; i++)
			if (d->chunks[i] >= end.chunk_count)
				abort();
		d->ended = true;
		break;
	}
	case MIGSTREAM_REC_CHANNEL:
		if (rec->seq != 1 || o->channel ||
		    migstream_decode_channel(rec, &(struct migstream_channel){ 0 }))
			abort();
		o->channel = true;
		break;
	case MIGSTREAM_REC_STREAM_END:
		for (unsigned int i = 0; i < o->ndev; i++)
			if (!o->dev[i].ended)
				abort();
		break;
	}
}

/*
 * The clock records (any type number may be handed out as ancillary): a
 * decoder reads only the bytes it was given, and what decodes encodes back
 * to the same fields; a sample never claims a negative round trip.
 */
static void check_time_records(const struct migstream_record *rec)
{
	struct migstream_time_probe p;
	struct migstream_time_echo e;
	struct migstream_clock_sample cs;
	uint8_t buf[MIGSTREAM_TIME_ECHO_LEN];

	if (migstream_decode_time_probe(rec, &p) == 0) {
		migstream_encode_time_probe(&p, buf);
		if (memcmp(buf, rec->payload, 4) || memcmp(buf + 8, rec->payload + 8, 8))
			abort();
	}
	if (migstream_decode_time_echo(rec, &e) == 0) {
		migstream_encode_time_echo(&e, buf);
		if (memcmp(buf, rec->payload, 4) || memcmp(buf + 8, rec->payload + 8, 24))
			abort();
		if (migstream_clock_sample(&e, e.t3_ns, &cs) == 0 &&
		    cs.delay_ns > e.t3_ns - e.t1_ns)
			abort();
	}
}

/* Decoded members without pointers compare whole (decoders zero them first). */
static bool same_member(const struct migstream_record *a, const struct migstream_record *b)
{
	switch (a->type) {
	case MIGSTREAM_REC_STREAM_HEADER:
		return !memcmp(&a->stream_header, &b->stream_header, sizeof(a->stream_header));
	case MIGSTREAM_REC_DEVICE:
		return !memcmp(&a->device, &b->device, sizeof(a->device));
	case MIGSTREAM_REC_PRECOPY_INFO:
		return !memcmp(&a->precopy_info, &b->precopy_info, sizeof(a->precopy_info));
	case MIGSTREAM_REC_DEVICE_END:
		return !memcmp(&a->device_end, &b->device_end, sizeof(a->device_end));
	case MIGSTREAM_REC_STREAM_END:
		return !memcmp(&a->stream_end, &b->stream_end, sizeof(a->stream_end));
	case MIGSTREAM_REC_CHANNEL:
		return !memcmp(&a->channel, &b->channel, sizeof(a->channel));
	}
	return true;
}

static bool same_data(const struct migstream_data *a, const struct migstream_data *b)
{
	return a->device == b->device && a->phase == b->phase && a->chunk_index == b->chunk_index &&
	       a->offset == b->offset && a->len == b->len && !memcmp(a->data, b->data, a->len);
}

static bool same_bitmap(const struct migstream_dirty_bitmap *a,
			const struct migstream_dirty_bitmap *b)
{
	return a->source == b->source && a->encoding == b->encoding && a->time_ns == b->time_ns &&
	       a->iova == b->iova && a->page_size == b->page_size &&
	       a->page_count == b->page_count && a->dirty_count == b->dirty_count &&
	       a->bits_len == b->bits_len && !memcmp(a->bits, b->bits, a->bits_len);
}

/*
 * raw: the record with its payload decompressed. The reader decoded a
 * known record once: decoding it again agrees, and a bitmap it let
 * through lies in the IOVA space and walks and decodes cleanly.
 */
static void check_decoded(const struct migstream_record *rec, const struct migstream_record *raw)
{
	static struct migstream_record again;
	static uint64_t words[4096];
	const struct migstream_dirty_bitmap *bm = &rec->dirty_bitmap;
	uint64_t total = 0;

	if (!migstream_record_type_known(rec->type))
		return;
	again = *raw;
	if (migstream_decode_payload(&again) != 0 || !same_member(rec, &again))
		abort();
	if (rec->type == MIGSTREAM_REC_DATA && !same_data(&rec->data, &again.data))
		abort();
	if (rec->type != MIGSTREAM_REC_DIRTY_BITMAP)
		return;
	if (!same_bitmap(bm, &again.dirty_bitmap) ||
	    !dirty_bitmap_within_iova_space(bm->iova, bm->page_size, bm->page_count))
		abort();
	if (dirty_bitmap_for_each_range(bm, count_range, &total) != 0 || total != bm->dirty_count)
		abort();
	if (dirty_bitmap_words(bm->page_count) <= 4096 && dirty_bitmap_decode(bm, words, 4096) != 0)
		abort();
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
		check_decoded(rec, &raw);
		oracle_record(o, &raw);
	}
	free(buf);
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
			check_decoded(&rec, &rec);
			oracle_record(&o, &rec);
			check_time_records(&rec);
		} else {
			oracle_compressed(&o, &rec);
		}
	}
	/* an error always comes with a message naming the input */
	if (ret < 0 && strncmp(migstream_reader_error(r), "fuzz: ", 6) != 0)
		abort();
	/* the reader says what the stream is, as the oracle saw it */
	if (ret == 0 && !migstream_reader_channel(r) != !o.channel)
		abort();
	migstream_reader_free(r);
	for (unsigned int i = 0; i < o.ndev; i++)
		free(o.dev[i].chunks);
	return 0;
}
