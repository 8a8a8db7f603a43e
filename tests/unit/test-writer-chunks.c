// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The writer's interface for parallel producers and channels: prepared
 * chunks (numbered by the caller, compressed or not, with or without their
 * check), DEVICE_END with the caller's totals, and the channel mode.
 * Whole streams written this way must pass the reader's checks exactly as
 * the writer's own numbering does.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <xxhash.h>
#include <zstd.h>

#include "common/c.h"
#include "stream/byteorder.h"
#include "stream-util.h"
#include "unit.h"

#define CHUNK 4096u

static struct migstream_writer *new_writer(int fd, const struct migstream_channel *ch, int level)
{
	const struct migstream_writer_opts o = {
		.producer = "test",
		.chunk_size = CHUNK,
		.channel = ch,
		.zstd_level = level,
	};
	struct migstream_writer *w = NULL;

	CHECK_EQ(migstream_writer_new(&w, fd, &o), 0);
	return w;
}

static void add_device(struct migstream_writer *w, uint32_t index)
{
	struct migstream_device d = { .index = index,
				      .mig_flags = 1,
				      .stop_copy_size = MIGSTREAM_SIZE_UNKNOWN };

	snprintf(d.name, sizeof(d.name), "dev%u", index);
	CHECK_EQ(migstream_write_device(w, &d), 0);
}

static void fill(uint8_t *p, size_t len, uint32_t seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(seed * 131 + i * 7 + (i >> 9));
}

/* The prepared path gives the same stream as migstream_write_data. */
static void test_prepared_matches_write_data(void)
{
	uint8_t data[3 * CHUNK];
	int fa = memfd_new(), fb = memfd_new();
	struct migstream_writer *a = new_writer(fa, NULL, 0), *b = new_writer(fb, NULL, 0);
	struct mem ma, mb;

	fill(data, sizeof(data), 1);
	add_device(a, 0);
	add_device(b, 0);
	CHECK_EQ(migstream_write_data(a, 0, MIGSTREAM_PHASE_STOP_COPY, data, sizeof(data)), 0);
	for (unsigned int i = 0; i < 3; i++) {
		struct migstream_chunk c = {
			.device = 0,
			.phase = MIGSTREAM_PHASE_STOP_COPY,
			.chunk_index = i,
			.offset = i * CHUNK,
			.len = CHUNK,
			.data = data + i * CHUNK,
			.has_check = i == 1, /* one with the caller's check, two without */
		};

		c.payload_check = migstream_chunk_payload_check(&c);
		CHECK_EQ(migstream_write_chunk(b, &c), 0);
	}
	CHECK_EQ(migstream_writer_finish(a), 0);
	CHECK_EQ(migstream_writer_finish(b), 0);
	ma = fd_slurp(fa);
	mb = fd_slurp(fb);
	CHECK_EQ(read_mem(&mb).ret, 0);
	/* The stream headers differ in time only: compare from the DEVICE record on. */
	CHECK_EQ(ma.len, mb.len);
	if (ma.len == mb.len) {
		size_t from = MIGSTREAM_PREAMBLE_LEN + MIGSTREAM_RECORD_HEADER_LEN +
			      get_be32(ma.p + 16 + 8);

		CHECK(memcmp(ma.p + from, mb.p + from, ma.len - from) == 0);
	}
	mem_free(&ma);
	mem_free(&mb);
	migstream_writer_free(a);
	migstream_writer_free(b);
	close(fa);
	close(fb);
}

/* A chunk out of turn in a whole stream is refused, and nothing is written. */
static void test_whole_stream_numbering(void)
{
	uint8_t data[CHUNK];
	int fd = memfd_new();
	struct migstream_writer *w = new_writer(fd, NULL, 0);
	struct migstream_chunk c = {
		.device = 0, .phase = MIGSTREAM_PHASE_STOP_COPY, .len = CHUNK, .data = data
	};
	uint64_t before;

	fill(data, sizeof(data), 2);
	add_device(w, 0);
	before = migstream_writer_offset(w);
	c.chunk_index = 1;
	CHECK_EQ(migstream_write_chunk(w, &c), -EINVAL);
	c.chunk_index = 0;
	c.offset = 5;
	CHECK_EQ(migstream_write_chunk(w, &c), -EINVAL);
	CHECK_EQ(migstream_writer_offset(w), before);
	c.offset = 0;
	CHECK_EQ(migstream_write_chunk(w, &c), 0);
	CHECK_EQ(migstream_write_chunk(w, &c), -EINVAL); /* the same chunk again */
	c.device = 7;
	CHECK_EQ(migstream_write_chunk(w, &c), -EINVAL); /* no DEVICE */
	migstream_writer_free(w);
	close(fd);
}

/* Chunks compressed by the caller: the digest is the caller's, given at DEVICE_END. */
static void test_precompressed(void)
{
	static uint8_t data[2 * CHUNK], payload[MIGSTREAM_DATA_PREFIX_LEN + CHUNK], z[2 * CHUNK];
	int fd = memfd_new();
	struct migstream_writer *w = new_writer(fd, NULL, 0);
	XXH3_state_t *digest = XXH3_createState();
	struct migstream_device_end end = { .device = 0,
					    .total_bytes = sizeof(data),
					    .chunk_count = 2 };
	struct mem m;

	memset(data, 0, sizeof(data)); /* compresses */
	add_device(w, 0);
	XXH3_64bits_reset(digest);
	for (unsigned int i = 0; i < 2; i++) {
		struct migstream_data hdr = {
			.device = 0,
			.phase = MIGSTREAM_PHASE_STOP_COPY,
			.chunk_index = i,
			.offset = i * CHUNK,
		};
		struct migstream_chunk c = {
			.device = 0,
			.phase = MIGSTREAM_PHASE_STOP_COPY,
			.chunk_index = i,
			.offset = i * CHUNK,
			.len = CHUNK,
		};
		size_t zlen;

		migstream_encode_data_prefix(&hdr, payload);
		memcpy(payload + MIGSTREAM_DATA_PREFIX_LEN, data + i * CHUNK, CHUNK);
		zlen = ZSTD_compress(z, sizeof(z), payload, sizeof(payload), 1);
		CHECK(!ZSTD_isError(zlen) && zlen < sizeof(payload));
		c.compressed = z;
		c.compressed_len = (uint32_t)zlen;
		CHECK_EQ(migstream_write_chunk(w, &c), 0);
		XXH3_64bits_update(digest, data + i * CHUNK, CHUNK);
	}
	/* The writer cannot make this DEVICE_END itself. */
	CHECK_EQ(migstream_write_device_end(w, 0), -EINVAL);
	end.state_digest = XXH3_64bits_digest(digest);
	end.chunk_count = 3;
	CHECK_EQ(migstream_write_device_end_totals(w, &end), -EINVAL); /* totals that differ */
	end.chunk_count = 2;
	CHECK_EQ(migstream_write_device_end_totals(w, &end), 0);
	CHECK_EQ(migstream_writer_finish(w), 0);
	m = fd_slurp(fd);
	CHECK_EQ(read_mem(&m).ret, 0);
	mem_free(&m);
	/* A compressed "chunk" that does not shrink is not a valid record. */
	XXH3_freeState(digest);
	migstream_writer_free(w);
	close(fd);
}

/* A whole stream whose DEVICE_END totals the writer knows: a wrong digest is refused. */
static void test_totals_checked(void)
{
	uint8_t data[CHUNK];
	int fd = memfd_new();
	struct migstream_writer *w = new_writer(fd, NULL, 0);
	struct migstream_device_end end = { .device = 0, .total_bytes = CHUNK, .chunk_count = 1 };

	fill(data, sizeof(data), 3);
	add_device(w, 0);
	CHECK_EQ(migstream_write_data(w, 0, MIGSTREAM_PHASE_STOP_COPY, data, sizeof(data)), 0);
	end.state_digest = XXH3_64bits(data, sizeof(data)) ^ 1;
	CHECK_EQ(migstream_write_device_end_totals(w, &end), -EINVAL);
	end.state_digest ^= 1;
	CHECK_EQ(migstream_write_device_end_totals(w, &end), 0);
	CHECK_EQ(migstream_write_device_end_totals(w, &end), -EINVAL); /* ended already */
	migstream_writer_free(w);
	close(fd);
}

/* Two channels of one set: CHANNEL second, gaps allowed, numbers only increase, totals the set's. */
static void test_channels(void)
{
	uint8_t data[4 * CHUNK];
	struct migstream_channel ch[2] = {
		{ .set_id = { 1, 2, 3 }, .channel = 0, .channel_count = 2 },
		{ .set_id = { 1, 2, 3 }, .channel = 1, .channel_count = 2 },
	};
	struct migstream_device_end end = { .device = 0,
					    .total_bytes = sizeof(data),
					    .chunk_count = 4 };
	int fd[2] = { memfd_new(), memfd_new() };
	struct migstream_writer *w[2];

	fill(data, sizeof(data), 4);
	end.state_digest = XXH3_64bits(data, sizeof(data));
	for (int k = 0; k < 2; k++) {
		w[k] = new_writer(fd[k], &ch[k],
				  k); /* channel 1 also compresses, as --split -z would */
		add_device(w[k], 0);
	}
	for (unsigned int i = 0; i < 4; i++) {
		struct migstream_chunk c = {
			.device = 0,
			.phase = MIGSTREAM_PHASE_STOP_COPY,
			.chunk_index = i,
			.offset = i * CHUNK,
			.len = CHUNK,
			.data = data + i * CHUNK,
		};

		CHECK_EQ(migstream_write_chunk(w[i % 2], &c), 0);
		if (i == 2) {
			c.chunk_index = 1; /* behind channel 0's last chunk */
			c.offset = CHUNK;
			CHECK_EQ(migstream_write_chunk(w[0], &c), -EINVAL);
		}
	}
	/* A channel cannot make DEVICE_END from its own totals, nor end with a device open. */
	CHECK_EQ(migstream_write_device_end(w[0], 0), -EINVAL);
	CHECK_EQ(migstream_writer_finish(w[0]), -EINVAL);
	for (int k = 0; k < 2; k++) {
		struct migstream_device_end small = end;
		struct mem m;
		struct memsrc src;
		struct migstream_reader *r;
		struct migstream_record rec;
		int n = 0;

		small.chunk_count = 1; /* less than this channel holds */
		CHECK_EQ(migstream_write_device_end_totals(w[k], &small), -EINVAL);
		CHECK_EQ(migstream_write_device_end_totals(w[k], &end), 0);
		CHECK_EQ(migstream_writer_finish(w[k]), 0);
		m = fd_slurp(fd[k]);
		src = (struct memsrc){ .p = m.p, .len = m.len };
		CHECK_EQ(migstream_reader_new_cb(&r, memsrc_read, &src, "channel", NULL), 0);
		/* STREAM_HEADER, then CHANNEL carrying the set */
		while (n < 2 && migstream_read_record(r, &rec) == 1)
			n++;
		CHECK_EQ(n, 2);
		CHECK_EQ(rec.type, MIGSTREAM_REC_CHANNEL);
		CHECK_EQ(rec.channel.channel, (uint64_t)k);
		CHECK_EQ(rec.channel.channel_count, 2);
		CHECK_EQ(rec.channel.set_id[2], 3);
		migstream_reader_free(r);
		mem_free(&m);
		migstream_writer_free(w[k]);
		close(fd[k]);
	}
}

/* copy_record into a channel keeps the source's numbering; CHANNEL records are never copied. */
static void test_copy_into_channel(void)
{
	uint8_t data[CHUNK];
	struct migstream_channel ch = { .set_id = { 9 }, .channel = 1, .channel_count = 3 };
	struct migstream_record rec = { .type = MIGSTREAM_REC_DATA };
	int fd = memfd_new();
	struct migstream_writer *w = new_writer(fd, &ch, 0);

	fill(data, sizeof(data), 5);
	add_device(w, 0);
	rec.data = (struct migstream_data){
		.device = 0,
		.phase = MIGSTREAM_PHASE_STOP_COPY,
		.chunk_index = 5,
		.offset = 5 * CHUNK,
		.data = data,
		.len = CHUNK,
	};
	rec.len = MIGSTREAM_DATA_PREFIX_LEN + CHUNK;
	CHECK_EQ(migstream_copy_record(w, &rec), 0);
	rec.data.chunk_index = 4;
	CHECK_EQ(migstream_copy_record(w, &rec), -EINVAL);
	rec = (struct migstream_record){ .type = MIGSTREAM_REC_CHANNEL,
					 .len = MIGSTREAM_CHANNEL_LEN };
	CHECK_EQ(migstream_copy_record(w, &rec), -EINVAL);
	migstream_writer_free(w);
	close(fd);
}

static void test_channel_options_checked(void)
{
	struct migstream_channel bad[] = {
		{ .channel = 0, .channel_count = 0 },
		{ .channel = 2, .channel_count = 2 },
		{ .channel = 0, .channel_count = MIGSTREAM_MAX_CHANNELS + 1 },
	};
	int fd = memfd_new();

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		const struct migstream_writer_opts o = { .channel = &bad[i] };
		struct migstream_writer *w = NULL;

		CHECK_EQ(migstream_writer_new(&w, fd, &o), -EINVAL);
		CHECK(w == NULL);
	}
	close(fd);
}

static void test_channel_record_codec(void)
{
	struct migstream_channel ch = { .channel = 3, .channel_count = 4 }, out;
	uint8_t buf[MIGSTREAM_CHANNEL_LEN];
	struct migstream_record rec = { .type = MIGSTREAM_REC_CHANNEL,
					.payload = buf,
					.len = sizeof(buf) };

	for (int i = 0; i < MIGSTREAM_SET_ID_LEN; i++)
		ch.set_id[i] = (uint8_t)(0xa0 + i);
	migstream_encode_channel(&ch, buf);
	CHECK_EQ(migstream_decode_channel(&rec, &out), 0);
	CHECK(memcmp(&out, &ch, sizeof(ch)) == 0);
	CHECK_EQ(migstream_decode_payload(&rec), 0);
	CHECK_EQ(rec.channel.channel, 3);
	CHECK(strcmp(migstream_record_type_name(MIGSTREAM_REC_CHANNEL), "CHANNEL") == 0);
	buf[27] = 1; /* flags */
	CHECK_EQ(migstream_decode_channel(&rec, &out), -EBADMSG);
	buf[27] = 0;
	buf[31] = 1; /* reserved */
	CHECK_EQ(migstream_decode_channel(&rec, &out), -EBADMSG);
	buf[31] = 0;
	put_be32(buf + 16, 4); /* channel == count */
	CHECK_EQ(migstream_decode_channel(&rec, &out), -EBADMSG);
	put_be32(buf + 16, 0);
	put_be32(buf + 20, 0); /* count 0 */
	CHECK_EQ(migstream_decode_channel(&rec, &out), -EBADMSG);
	put_be32(buf + 20, 4);
	rec.len = sizeof(buf) - 1; /* short */
	CHECK_EQ(migstream_decode_channel(&rec, &out), -EBADMSG);
}

int main(void)
{
	RUN(test_channel_record_codec);
	RUN(test_prepared_matches_write_data);
	RUN(test_whole_stream_numbering);
	RUN(test_precompressed);
	RUN(test_totals_checked);
	RUN(test_channels);
	RUN(test_copy_into_channel);
	RUN(test_channel_options_checked);
	return unit_done();
}
