// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * migstream writer and reader: round trips of every record type, with and
 * without compression, limits, and every error the reader must report,
 * with the record and byte offset it must name.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zstd.h>

#include "common/c.h"
#include "stream/dirty-bitmap.h"
#include "stream-util.h"
#include "unit.h"

#define DEV0 7
#define DEV1 9

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	/* xorshift64*: deterministic, so failures reproduce */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static void fill_random(uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(rnd() >> 56);
}

static void fill_compressible(uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)("migstream "[i % 10]);
}

static struct migstream_device sample_device(uint32_t index, const char *name)
{
	struct migstream_device d = {
		.index = index,
		.id_flags = MIGSTREAM_DEV_PCI_IDS,
		.mig_flags = 0x7,
		.stop_copy_size = 123456,
		.vendor = 0x10de,
		.device = 0x2331,
		.subsys_vendor = 0x10de,
		.subsys_device = 0x1626,
		.class_code = 0x030200,
		.revision = 0xa1,
	};

	snprintf(d.name, sizeof(d.name), "%s", name);
	snprintf(d.driver, sizeof(d.driver), "%s", "vfio-pci");
	snprintf(d.mdev_type, sizeof(d.mdev_type), "%s", "mtty-2");
	return d;
}

/*
 * A stream with every record type: two devices, data in all phases split
 * over several chunks, precopy info, a dirty bitmap.
 */
struct sample {
	struct mem stream;
	uint8_t *data0, *data1;
	size_t len0, len1;
	uint64_t bitmap[40];
	uint64_t bitmap_pages;
};

static void make_sample(struct sample *s, int zstd_level, uint32_t chunk_size, bool compressible)
{
	struct migstream_writer_opts opts = { .producer = "test-stream",
					      .zstd_level = zstd_level,
					      .chunk_size = chunk_size };
	struct migstream_device d0 = sample_device(DEV0, "/dev/vfio/devices/vfio0");
	struct migstream_device d1 = sample_device(DEV1, "0000:65:00.1");
	struct migstream_precopy_info pi = { .device = DEV0,
					     .state = 6,
					     .time_ns = 42,
					     .initial_bytes = 1000,
					     .dirty_bytes = 2000,
					     .stop_copy_size = MIGSTREAM_SIZE_UNKNOWN };
	struct migstream_dirty_bitmap bm = {
		.source = DEV0, .time_ns = 43, .iova = 0x100000, .page_size = 4096
	};
	struct migstream_writer *w;
	int fd = memfd_new();

	memset(s, 0, sizeof(*s));
	s->len0 = 300000;
	s->len1 = 5000;
	s->data0 = malloc(s->len0);
	s->data1 = malloc(s->len1);
	if (compressible) {
		fill_compressible(s->data0, s->len0);
		fill_compressible(s->data1, s->len1);
	} else {
		fill_random(s->data0, s->len0);
		fill_random(s->data1, s->len1);
	}
	s->bitmap_pages = 40 * 64 - 5;
	for (int i = 0; i < 40; i++)
		s->bitmap[i] = i % 3 ? 0 : rnd();
	bm.page_count = s->bitmap_pages;

	CHECK_EQ(migstream_writer_new(&w, fd, &opts), 0);
	CHECK_EQ(migstream_write_device(w, &d0), 0);
	CHECK_EQ(migstream_write_device(w, &d1), 0);
	CHECK_EQ(migstream_write_precopy_info(w, &pi), 0);
	CHECK_EQ(migstream_write_data(w, DEV0, MIGSTREAM_PHASE_PRECOPY_INITIAL, s->data0, 100000),
		 0);
	CHECK_EQ(migstream_write_data(w, DEV1, MIGSTREAM_PHASE_STOP_COPY, s->data1, s->len1), 0);
	CHECK_EQ(migstream_write_dirty_bitmap(w, &bm, s->bitmap), 0);
	CHECK_EQ(migstream_write_data(w, DEV0, MIGSTREAM_PHASE_PRECOPY_DIRTY, s->data0 + 100000,
				      50000),
		 0);
	CHECK_EQ(migstream_write_data(w, DEV0, MIGSTREAM_PHASE_STOP_COPY, s->data0 + 150000,
				      s->len0 - 150000),
		 0);
	CHECK_EQ(migstream_write_device_end(w, DEV1), 0);
	CHECK_EQ(migstream_write_device_end(w, DEV0), 0);
	CHECK_EQ(migstream_writer_finish(w), 0);
	CHECK_EQ(migstream_write_data(w, DEV0, MIGSTREAM_PHASE_STOP_COPY, "x", 1), -EINVAL);
	CHECK_EQ(migstream_writer_finish(w), -EINVAL);
	migstream_writer_free(w);
	s->stream = fd_slurp(fd);
	close(fd);
}

static void free_sample(struct sample *s)
{
	mem_free(&s->stream);
	free(s->data0);
	free(s->data1);
}

/* Reads the sample back and checks every field of every record. */
static void check_sample(struct sample *s, const struct mem *stream, size_t step,
			 const struct migstream_reader_opts *opts)
{
	struct memsrc src = { .p = stream->p, .len = stream->len, .step = step };
	struct migstream_reader *r;
	struct migstream_record rec;
	uint8_t *got0 = calloc(1, s->len0), *got1 = calloc(1, s->len1);
	size_t at0 = 0, at1 = 0;
	unsigned int types[8] = { 0 };
	uint64_t seq = 0;
	int ret;

	CHECK_EQ(migstream_reader_new_cb(&r, memsrc_read, &src, "sample", opts), 0);
	while ((ret = migstream_read_record(r, &rec)) == 1) {
		CHECK_EQ(rec.seq, seq);
		seq++;
		if (rec.type < 8)
			types[rec.type]++;
		switch (rec.type) {
		case MIGSTREAM_REC_STREAM_HEADER: {
			const struct migstream_stream_header h = rec.stream_header;

			CHECK_EQ(rec.offset, MIGSTREAM_PREAMBLE_LEN);
			CHECK(strcmp(h.producer, "test-stream") == 0);
			CHECK(strcmp(h.producer_version, PACKAGE_VERSION) == 0);
			CHECK(h.time_ns > 0);
			break;
		}
		case MIGSTREAM_REC_DEVICE: {
			/* decoded by the reader, once: the same as decoding it again */
			static struct migstream_device d, want;

			CHECK_EQ(migstream_decode_device(&rec, &d), 0);
			CHECK(memcmp(&d, &rec.device, sizeof(d)) == 0);
			want = sample_device(d.index, d.index == DEV0 ? "/dev/vfio/devices/vfio0"
								      : "0000:65:00.1");
			CHECK(memcmp(&rec.device, &want, sizeof(want)) == 0);
			break;
		}
		case MIGSTREAM_REC_DATA: {
			const struct migstream_data d = rec.data;

			if (d.device == DEV0) {
				CHECK_EQ(d.offset, at0);
				CHECK(at0 + d.len <= s->len0);
				memcpy(got0 + at0, d.data, d.len);
				at0 += d.len;
			} else {
				CHECK_EQ(d.device, DEV1);
				CHECK_EQ(d.phase, MIGSTREAM_PHASE_STOP_COPY);
				CHECK(at1 + d.len <= s->len1);
				memcpy(got1 + at1, d.data, d.len);
				at1 += d.len;
			}
			break;
		}
		case MIGSTREAM_REC_PRECOPY_INFO: {
			const struct migstream_precopy_info pi = rec.precopy_info;

			CHECK(rec.flags & MIGSTREAM_RF_ANCILLARY);
			CHECK_EQ(pi.device, DEV0);
			CHECK_EQ(pi.state, 6);
			CHECK_EQ(pi.time_ns, 42);
			CHECK_EQ(pi.initial_bytes, 1000);
			CHECK_EQ(pi.dirty_bytes, 2000);
			CHECK_EQ(pi.stop_copy_size, MIGSTREAM_SIZE_UNKNOWN);
			break;
		}
		case MIGSTREAM_REC_DIRTY_BITMAP: {
			const struct migstream_dirty_bitmap bm = rec.dirty_bitmap;
			uint64_t words[40];

			CHECK(rec.flags & MIGSTREAM_RF_ANCILLARY);
			CHECK_EQ(bm.iova, 0x100000);
			CHECK_EQ(bm.page_size, 4096);
			CHECK_EQ(bm.page_count, s->bitmap_pages);
			CHECK_EQ(bm.dirty_count, dirty_bitmap_count(s->bitmap, s->bitmap_pages));
			CHECK_EQ(dirty_bitmap_decode(&bm, words, 40), 0);
			s->bitmap[39] &= (UINT64_C(1) << 59) - 1;
			CHECK(memcmp(words, s->bitmap, sizeof(words)) == 0);
			break;
		}
		case MIGSTREAM_REC_DEVICE_END: {
			const struct migstream_device_end e = rec.device_end;

			if (e.device == DEV0) {
				CHECK_EQ(e.total_bytes, s->len0);
				CHECK_EQ(e.state_digest, XXH3_64bits(s->data0, s->len0));
			} else {
				CHECK_EQ(e.total_bytes, s->len1);
				CHECK_EQ(e.state_digest, XXH3_64bits(s->data1, s->len1));
			}
			break;
		}
		case MIGSTREAM_REC_STREAM_END: {
			const struct migstream_stream_end e = rec.stream_end;

			CHECK_EQ(e.record_count, rec.seq);
			CHECK_EQ(e.device_count, 2);
			break;
		}
		default:
			CHECK(0);
		}
	}
	CHECK_EQ(ret, 0);
	if (ret)
		printf("#   %s\n", migstream_reader_error(r));
	CHECK_EQ(migstream_reader_offset(r), stream->len);
	CHECK_EQ(migstream_reader_records(r), seq);
	CHECK_EQ(at0, s->len0);
	CHECK_EQ(at1, s->len1);
	CHECK(memcmp(got0, s->data0, s->len0) == 0);
	CHECK(memcmp(got1, s->data1, s->len1) == 0);
	CHECK_EQ(types[MIGSTREAM_REC_STREAM_HEADER], 1);
	CHECK_EQ(types[MIGSTREAM_REC_DEVICE], 2);
	CHECK_EQ(types[MIGSTREAM_REC_PRECOPY_INFO], 1);
	CHECK_EQ(types[MIGSTREAM_REC_DIRTY_BITMAP], 1);
	CHECK_EQ(types[MIGSTREAM_REC_DEVICE_END], 2);
	CHECK_EQ(types[MIGSTREAM_REC_STREAM_END], 1);
	/* read after the end stays at the end */
	CHECK_EQ(migstream_read_record(r, &rec), 0);
	migstream_reader_free(r);
	free(got0);
	free(got1);
}

static unsigned int count_flag(const struct mem *m, uint16_t flag)
{
	size_t off = MIGSTREAM_PREAMBLE_LEN;
	unsigned int n = 0;

	while (off < m->len) {
		struct migstream_record_header h;

		migstream_decode_record_header(m->p + off, &h);
		if (h.flags & flag)
			n++;
		off += MIGSTREAM_RECORD_HEADER_LEN + h.stored_len;
	}
	return n;
}

static void test_roundtrip_plain(void)
{
	struct sample s;

	make_sample(&s, 0, 65536, false);
	CHECK_EQ(count_flag(&s.stream, MIGSTREAM_RF_ZSTD), 0);
	check_sample(&s, &s.stream, 0, NULL);
	free_sample(&s);
}

static void test_roundtrip_short_reads(void)
{
	struct sample s;

	make_sample(&s, 0, 4096, false);
	check_sample(&s, &s.stream, 1, NULL);
	check_sample(&s, &s.stream, 7, NULL);
	free_sample(&s);
}

static void test_roundtrip_eintr(void)
{
	struct sample s;
	struct memsrc src;
	struct migstream_reader *r;
	struct migstream_record rec;
	int ret;

	make_sample(&s, 0, 0, false);
	src = (struct memsrc){
		.p = s.stream.p, .len = s.stream.len, .step = 1000, .eintr_every = 3
	};
	CHECK_EQ(migstream_reader_new_cb(&r, memsrc_read, &src, "eintr", NULL), 0);
	while ((ret = migstream_read_record(r, &rec)) == 1)
		;
	CHECK_EQ(ret, 0);
	migstream_reader_free(r);
	free_sample(&s);
}

static void test_roundtrip_compressed(void)
{
	struct sample s;

	make_sample(&s, 3, 65536, true);
	CHECK(count_flag(&s.stream, MIGSTREAM_RF_ZSTD) >= 5);
	CHECK(s.stream.len < s.len0 / 4);
	check_sample(&s, &s.stream, 0, NULL);
	check_sample(&s, &s.stream, 3, NULL);
	free_sample(&s);
}

static void test_incompressible_stored_raw(void)
{
	struct sample s;

	make_sample(&s, 19, 65536, false);
	/* random device data does not shrink: no DATA record is compressed */
	for (unsigned int i = 0; i < 20; i++) {
		struct migstream_record_header h;

		if (record_offset(&s.stream, i) >= s.stream.len)
			break;
		h = record_header(&s.stream, i);
		if (h.type == MIGSTREAM_REC_DATA)
			CHECK(!(h.flags & MIGSTREAM_RF_ZSTD));
	}
	check_sample(&s, &s.stream, 0, NULL);
	free_sample(&s);
}

static void test_keep_compressed(void)
{
	struct migstream_reader_opts opts = { .keep_compressed = true };
	struct migstream_reader *r;
	struct migstream_record rec;
	struct memsrc src;
	struct sample s;
	unsigned int zrecs = 0;
	int ret;

	make_sample(&s, 5, 65536, true);
	src = (struct memsrc){ .p = s.stream.p, .len = s.stream.len };
	CHECK_EQ(migstream_reader_new_cb(&r, memsrc_read, &src, "keep", &opts), 0);
	while ((ret = migstream_read_record(r, &rec)) == 1) {
		if (rec.flags & MIGSTREAM_RF_ZSTD) {
			zrecs++;
			CHECK_EQ(rec.len, rec.stored_len);
			CHECK(rec.raw_len > rec.stored_len);
			CHECK(memcmp(rec.payload, s.stream.p + rec.offset + 32, rec.len) == 0);
		} else {
			CHECK_EQ(rec.len, rec.raw_len);
		}
	}
	CHECK_EQ(ret, 0);
	CHECK(zrecs >= 5);
	migstream_reader_free(r);
	free_sample(&s);
}

static int tee_collect(void *ctx, const void *buf, size_t len)
{
	mem_put(ctx, buf, len);
	return 0;
}

static int tee_fail(void *ctx, const void *buf, size_t len)
{
	return -ENOSPC;
}

static void test_tee(void)
{
	struct mem copy = { 0 };
	struct migstream_reader_opts opts = { .tee = tee_collect, .tee_ctx = &copy };
	struct read_result res;
	struct sample s;

	make_sample(&s, 3, 0, true);
	res = read_mem_opts(s.stream.p, s.stream.len, 5, &opts);
	CHECK_EQ(res.ret, 0);
	CHECK_EQ(copy.len, s.stream.len);
	CHECK(copy.len == s.stream.len && memcmp(copy.p, s.stream.p, copy.len) == 0);
	opts.tee = tee_fail;
	res = read_mem_opts(s.stream.p, s.stream.len, 0, &opts);
	CHECK_EQ(res.ret, -ENOSPC);
	mem_free(&copy);
	free_sample(&s);
}

/* Re-encode a stream record by record with write_record (migstream-cat). */
static void recode(const struct mem *in, struct mem *out, int zstd_level)
{
	struct migstream_writer_opts wopts = { .producer = "recode", .zstd_level = zstd_level };
	struct memsrc src = { .p = in->p, .len = in->len };
	struct migstream_reader *r;
	struct migstream_writer *w;
	struct migstream_record rec;
	int fd = memfd_new(), ret;

	CHECK_EQ(migstream_reader_new_cb(&r, memsrc_read, &src, "in", NULL), 0);
	CHECK_EQ(migstream_writer_new(&w, fd, &wopts), 0);
	while ((ret = migstream_read_record(r, &rec)) == 1)
		CHECK_EQ(migstream_write_record(w, rec.type, rec.flags, rec.payload, rec.len), 0);
	CHECK_EQ(ret, 0);
	/* STREAM_END went through write_record: the writer is finished */
	CHECK_EQ(migstream_write_record(w, 0x4242, MIGSTREAM_RF_ANCILLARY, "x", 1), -EINVAL);
	migstream_writer_free(w);
	migstream_reader_free(r);
	*out = fd_slurp(fd);
	close(fd);
}

static void test_write_record_recode(void)
{
	struct mem plain, again;
	struct sample s;

	make_sample(&s, 3, 10000, true);
	recode(&s.stream, &plain, 0);
	CHECK_EQ(count_flag(&plain, MIGSTREAM_RF_ZSTD), 0);
	CHECK(plain.len > s.stream.len);
	/* the source's STREAM_HEADER came through: producer "test-stream" */
	check_sample(&s, &plain, 0, NULL);
	recode(&plain, &again, 7);
	CHECK(count_flag(&again, MIGSTREAM_RF_ZSTD) >= 5);
	check_sample(&s, &again, 0, NULL);
	mem_free(&plain);
	mem_free(&again);
	free_sample(&s);
}

static void test_write_record_rules(void)
{
	struct migstream_device d0 = sample_device(1, "a");
	uint8_t payload[256], prefix[MIGSTREAM_DATA_PREFIX_LEN + 3];
	struct migstream_data data = {
		.device = 1, .phase = MIGSTREAM_PHASE_STOP_COPY, .chunk_index = 99, .offset = 12345
	};
	struct migstream_device_end bogus_end = { .device = 1, .total_bytes = 1, .chunk_count = 5 };
	struct migstream_writer *w;
	struct read_result res;
	struct mem m;
	int fd = memfd_new(), len;

	CHECK_EQ(migstream_writer_new(&w, fd, NULL), 0);
	/* a STREAM_HEADER that does not decode */
	CHECK_EQ(migstream_write_record(w, MIGSTREAM_REC_STREAM_HEADER, 0, "xx", 2), -EINVAL);
	len = migstream_encode_device(&d0, payload, sizeof(payload));
	CHECK(len > 0);
	CHECK_EQ(migstream_write_record(w, MIGSTREAM_REC_DEVICE, 0, payload, (uint32_t)len), 0);
	CHECK_EQ(migstream_write_record(w, MIGSTREAM_REC_DEVICE, 0, payload, (uint32_t)len),
		 -EEXIST);
	/* the writer's STREAM_HEADER went out before DEVICE */
	CHECK_EQ(migstream_write_record(w, MIGSTREAM_REC_STREAM_HEADER, 0, payload, 16), -EINVAL);
	CHECK_EQ(migstream_write_record(w, MIGSTREAM_REC_DATA, 0, "short", 5), -EINVAL);
	/* chunk_index and offset are renumbered */
	migstream_encode_data_prefix(&data, prefix);
	memcpy(prefix + MIGSTREAM_DATA_PREFIX_LEN, "abc", 3);
	CHECK_EQ(migstream_write_record(w, MIGSTREAM_REC_DATA, MIGSTREAM_RF_ZSTD, prefix,
					sizeof(prefix)),
		 0);
	CHECK_EQ(migstream_write_record(w, MIGSTREAM_REC_DATA, 0, prefix, sizeof(prefix)), 0);
	CHECK_EQ(migstream_write_record(w, MIGSTREAM_REC_DATA, 0x8000, prefix, sizeof(prefix)),
		 -EINVAL);
	/* DEVICE_END regenerated from the writer's accounting */
	migstream_encode_device_end(&bogus_end, payload);
	CHECK_EQ(migstream_write_record(w, MIGSTREAM_REC_DEVICE_END, 0, payload,
					MIGSTREAM_DEVICE_END_LEN),
		 0);
	CHECK_EQ(migstream_write_record(w, MIGSTREAM_REC_DATA, 0, prefix, sizeof(prefix)), -EINVAL);
	/* unknown types pass through */
	CHECK_EQ(migstream_write_record(w, 0x4242, MIGSTREAM_RF_ANCILLARY, "hello", 5), 0);
	CHECK_EQ(migstream_write_record(w, 0x4243, MIGSTREAM_RF_ANCILLARY, payload,
					MIGSTREAM_MAX_PAYLOAD + 1),
		 -EINVAL);
	CHECK_EQ(migstream_write_record(w, MIGSTREAM_REC_STREAM_END, 0, "", 0), 0);
	migstream_writer_free(w);
	m = fd_slurp(fd);
	close(fd);
	res = read_mem(&m);
	CHECK_EQ(res.ret, 0);
	if (res.ret)
		printf("#   %s\n", res.msg);
	CHECK_EQ(res.records, 7);
	mem_free(&m);
}

static void test_writer_limits(void)
{
	struct migstream_writer_opts opts = { .chunk_size = MIGSTREAM_MAX_CHUNK };
	struct migstream_writer *w;
	struct read_result res;
	struct mem m;
	uint8_t *big = calloc(1, MIGSTREAM_MAX_PAYLOAD + 1);
	int fd = memfd_new();

	opts.zstd_level = 20;
	CHECK_EQ(migstream_writer_new(&w, fd, &opts), -EINVAL);
	opts.zstd_level = -1;
	CHECK_EQ(migstream_writer_new(&w, fd, &opts), -EINVAL);
	opts.zstd_level = 0;
	opts.chunk_size = MIGSTREAM_MAX_CHUNK + 1;
	CHECK_EQ(migstream_writer_new(&w, fd, &opts), -EINVAL);
	opts.chunk_size = MIGSTREAM_MAX_CHUNK;
	CHECK_EQ(migstream_writer_new(&w, fd, &opts), 0);
	for (uint32_t i = 0; i < MIGSTREAM_MAX_DEVICES; i++) {
		struct migstream_device d = sample_device(i * 3, "dev");

		CHECK_EQ(migstream_write_device(w, &d), 0);
	}
	{
		struct migstream_device d = sample_device(1000, "dev");

		CHECK_EQ(migstream_write_device(w, &d), -E2BIG);
		d = sample_device(3, "dev");
		CHECK_EQ(migstream_write_device(w, &d), -EEXIST);
		memset(d.driver, 'x', sizeof(d.driver));
		d.index = 1001;
		CHECK_EQ(migstream_write_device(w, &d), -ENAMETOOLONG);
	}
	CHECK_EQ(migstream_write_data(w, 1, MIGSTREAM_PHASE_STOP_COPY, big, 1),
		 -EINVAL); /* no DEVICE 1 */
	CHECK_EQ(migstream_write_data(w, 0, 0, big, 1), -EINVAL);
	CHECK_EQ(migstream_write_data(w, 0, 4, big, 1), -EINVAL);
	/* a chunk that fills the payload exactly, then one byte more */
	CHECK_EQ(migstream_write_data(w, 0, MIGSTREAM_PHASE_PRECOPY_INITIAL, big,
				      MIGSTREAM_MAX_CHUNK + 1),
		 0);
	CHECK_EQ(migstream_write_data(w, 0, MIGSTREAM_PHASE_STOP_COPY, big, 10), 0);
	CHECK_EQ(migstream_write_data(w, 0, MIGSTREAM_PHASE_PRECOPY_DIRTY, big, 10), -EINVAL);
	/* an ancillary record of exactly the largest payload, then one over */
	CHECK_EQ(migstream_write_record(w, 0x100, MIGSTREAM_RF_ANCILLARY, big,
					MIGSTREAM_MAX_PAYLOAD),
		 0);
	CHECK_EQ(migstream_write_record(w, 0x100, MIGSTREAM_RF_ANCILLARY, big,
					MIGSTREAM_MAX_PAYLOAD + 1),
		 -EINVAL);
	CHECK_EQ(migstream_write_device_end(w, 0), 0);
	CHECK_EQ(migstream_write_device_end(w, 0), -EINVAL);
	CHECK_EQ(migstream_write_device_end(w, 1), -EINVAL);
	/* finish closes the other 63 devices */
	CHECK_EQ(migstream_writer_finish(w), 0);
	CHECK_EQ(migstream_writer_offset(w), (uint64_t)lseek(fd, 0, SEEK_CUR));
	migstream_writer_free(w);
	m = fd_slurp(fd);
	close(fd);
	res = read_mem(&m);
	CHECK_EQ(res.ret, 0);
	if (res.ret)
		printf("#   %s\n", res.msg);
	CHECK_EQ(res.records, 1 + 64 + 3 + 1 + 64 + 1);
	mem_free(&m);
	free(big);
}

static void test_writer_sticky_error(void)
{
	struct migstream_writer *w;
	int pfd[2];
	char buf[4096] = { 0 };

	signal(SIGPIPE, SIG_IGN);
	CHECK_EQ(pipe(pfd), 0);
	CHECK_EQ(migstream_writer_new(&w, pfd[1], NULL), 0);
	close(pfd[0]);
	{
		struct migstream_device d = sample_device(0, "x");

		CHECK_EQ(migstream_write_device(w, &d), -EPIPE);
	}
	CHECK_EQ(migstream_write_data(w, 0, MIGSTREAM_PHASE_STOP_COPY, buf, sizeof(buf)), -EPIPE);
	CHECK_EQ(migstream_writer_finish(w), -EPIPE);
	migstream_writer_free(w);
	close(pfd[1]);
	/* a closed fd fails at creation */
	CHECK_EQ(migstream_writer_new(&w, pfd[1], NULL), -EBADF);
	CHECK(w == NULL);
}

/* Streaming through a real pipe: partial writes, short reads, 48 MiB. */
struct pipe_reader {
	int fd;
	int ret;
	uint64_t bytes;
	uint64_t digest;
};

static void *pipe_reader_main(void *arg)
{
	struct pipe_reader *pr = arg;
	struct migstream_reader *r;
	struct migstream_record rec;
	XXH3_state_t *st = XXH3_createState();

	XXH3_64bits_reset(st);
	if (migstream_reader_new(&r, pr->fd, "pipe", NULL)) {
		pr->ret = -ENOMEM;
		return NULL;
	}
	while ((pr->ret = migstream_read_record(r, &rec)) == 1) {
		struct migstream_data d;

		if (rec.type == MIGSTREAM_REC_DATA && migstream_decode_data(&rec, &d) == 0) {
			XXH3_64bits_update(st, d.data, d.len);
			pr->bytes += d.len;
		}
	}
	pr->digest = XXH3_64bits_digest(st);
	XXH3_freeState(st);
	migstream_reader_free(r);
	return NULL;
}

static void test_pipe_streaming(void)
{
	const size_t total = 48u << 20, piece = 3u << 20;
	struct migstream_writer_opts opts = { .zstd_level = 1 };
	struct pipe_reader pr = { 0 };
	struct migstream_device d = sample_device(0, "pipe");
	struct migstream_writer *w;
	uint8_t *buf = malloc(piece);
	pthread_t th;
	int pfd[2];
	XXH3_state_t *st = XXH3_createState();

	XXH3_64bits_reset(st);
	CHECK_EQ(pipe(pfd), 0);
	pr.fd = pfd[0];
	CHECK_EQ(pthread_create(&th, NULL, pipe_reader_main, &pr), 0);
	CHECK_EQ(migstream_writer_new(&w, pfd[1], &opts), 0);
	CHECK_EQ(migstream_write_device(w, &d), 0);
	for (size_t at = 0; at < total; at += piece) {
		/* half compressible, half not */
		if ((at / piece) % 2)
			fill_random(buf, piece);
		else
			fill_compressible(buf, piece);
		XXH3_64bits_update(st, buf, piece);
		CHECK_EQ(migstream_write_data(w, 0, MIGSTREAM_PHASE_STOP_COPY, buf, piece), 0);
	}
	CHECK_EQ(migstream_writer_finish(w), 0);
	migstream_writer_free(w);
	close(pfd[1]);
	pthread_join(th, NULL);
	close(pfd[0]);
	CHECK_EQ(pr.ret, 0);
	CHECK_EQ(pr.bytes, total);
	CHECK_EQ(pr.digest, XXH3_64bits_digest(st));
	XXH3_freeState(st);
	free(buf);
}

/*
 * Reader errors. Each case starts from a small valid hand-built stream:
 *   0 STREAM_HEADER, 1 DEVICE 0, 2 DATA 0 chunk 0 (100 bytes),
 *   3 DATA chunk 1 (50 bytes), 4 DEVICE_END, 5 STREAM_END.
 */
struct hand {
	struct mem m;
	uint8_t data[150];
};

static void hand_record(struct mem *m, uint16_t type, uint32_t seq, const void *payload,
			uint32_t len)
{
	build_simple(m, type,
		     type == MIGSTREAM_REC_PRECOPY_INFO || type == MIGSTREAM_REC_DIRTY_BITMAP
			     ? MIGSTREAM_RF_ANCILLARY
			     : 0,
		     seq, payload, len);
}

static uint32_t hand_data(uint8_t *buf, uint32_t dev, uint8_t phase, uint64_t chunk, uint64_t off,
			  const uint8_t *data, uint32_t len)
{
	struct migstream_data d = {
		.device = dev, .phase = phase, .chunk_index = chunk, .offset = off
	};

	migstream_encode_data_prefix(&d, buf);
	memcpy(buf + MIGSTREAM_DATA_PREFIX_LEN, data, len);
	return MIGSTREAM_DATA_PREFIX_LEN + len;
}

/* Up to and including record `upto` (0..5) of the hand stream. */
static void make_hand(struct hand *h, int upto)
{
	struct migstream_stream_header sh = { .time_ns = 1,
					      .producer = "hand",
					      .producer_version = "1" };
	struct migstream_device dev = sample_device(0, "d");
	uint8_t buf[8192];
	uint64_t payload_bytes = 0;
	int len;

	memset(h, 0, sizeof(*h));
	for (int i = 0; i < 150; i++)
		h->data[i] = (uint8_t)i;
	build_preamble(&h->m);
	len = migstream_encode_stream_header(&sh, buf, sizeof(buf));
	hand_record(&h->m, MIGSTREAM_REC_STREAM_HEADER, 0, buf, (uint32_t)len);
	payload_bytes += (uint64_t)len;
	if (upto < 1)
		return;
	len = migstream_encode_device(&dev, buf, sizeof(buf));
	hand_record(&h->m, MIGSTREAM_REC_DEVICE, 1, buf, (uint32_t)len);
	payload_bytes += (uint64_t)len;
	if (upto < 2)
		return;
	len = (int)hand_data(buf, 0, MIGSTREAM_PHASE_PRECOPY_INITIAL, 0, 0, h->data, 100);
	hand_record(&h->m, MIGSTREAM_REC_DATA, 2, buf, (uint32_t)len);
	payload_bytes += (uint64_t)len;
	if (upto < 3)
		return;
	len = (int)hand_data(buf, 0, MIGSTREAM_PHASE_STOP_COPY, 1, 100, h->data + 100, 50);
	hand_record(&h->m, MIGSTREAM_REC_DATA, 3, buf, (uint32_t)len);
	payload_bytes += (uint64_t)len;
	if (upto < 4)
		return;
	{
		struct migstream_device_end e = { .device = 0,
						  .total_bytes = 150,
						  .chunk_count = 2,
						  .state_digest = XXH3_64bits(h->data, 150) };

		migstream_encode_device_end(&e, buf);
		hand_record(&h->m, MIGSTREAM_REC_DEVICE_END, 4, buf, MIGSTREAM_DEVICE_END_LEN);
		payload_bytes += MIGSTREAM_DEVICE_END_LEN;
	}
	if (upto < 5)
		return;
	{
		struct migstream_stream_end e = { .record_count = 5,
						  .payload_bytes = payload_bytes,
						  .device_count = 1 };

		migstream_encode_stream_end(&e, buf);
		hand_record(&h->m, MIGSTREAM_REC_STREAM_END, 5, buf, MIGSTREAM_STREAM_END_LEN);
	}
}

/* Expect -EBADMSG and a message containing each of the given parts. */
static void expect_bad(const struct mem *m, const char *where, const char *what)
{
	struct read_result res = read_mem(m);

	CHECK_EQ(res.ret, -EBADMSG);
	CHECK_STR_CONTAINS(res.msg, where);
	CHECK_STR_CONTAINS(res.msg, what);
	/* the same verdict however the bytes arrive */
	res = read_mem_opts(m->p, m->len, 3, NULL);
	CHECK_EQ(res.ret, -EBADMSG);
	CHECK_STR_CONTAINS(res.msg, what);
}

static char where_buf[128];

static const char *where(const struct mem *m, unsigned int idx, const char *type)
{
	snprintf(where_buf, sizeof(where_buf), "test: record %u (%s) at byte %zu: ", idx, type,
		 record_offset(m, idx));
	return where_buf;
}

/*
 * _take_payload hands over a buffer the payload's size and only that: a
 * smaller record in a buffer a bigger one left behind is refused (the
 * taker would count its payload and hold the bigger buffer).
 */
static void test_take_payload(void)
{
	struct sample s;
	struct migstream_reader *r;
	struct migstream_record rec;
	struct memsrc src;
	unsigned int data = 0, taken = 0, refused = 0;
	int ret;

	/* DEV0 100000 bytes in 65536-byte chunks, DEV1 5000, DEV0 50000, then 150000 */
	make_sample(&s, 0, 65536, false);
	src = (struct memsrc){ .p = s.stream.p, .len = s.stream.len };
	CHECK_EQ(migstream_reader_new_cb(&r, memsrc_read, &src, "take", NULL), 0);
	while ((ret = migstream_read_record(r, &rec)) == 1) {
		size_t cap = 42;
		void *buf;

		if (rec.type != MIGSTREAM_REC_DATA)
			continue;
		/* the first two chunks stay: the buffer keeps the first one's size */
		if (++data <= 2)
			continue;
		buf = migstream_reader_take_payload(r, &rec, &cap);
		if (!buf) {
			CHECK_EQ(cap, 0);
			refused++;
			continue;
		}
		CHECK(buf == rec.payload);
		CHECK_EQ(cap, rec.len);
		free(buf);
		taken++;
	}
	CHECK_EQ(ret, 0);
	if (ret)
		printf("#   %s\n", migstream_reader_error(r));
	/* refused: DEV1's 5000 and DEV0's 50000; taken: 65536 (the first
	 * chunk's size again), then every buffer made anew: 65536, 18928 */
	CHECK_EQ(refused, 2);
	CHECK_EQ(taken, 3);
	migstream_reader_free(r);
	free_sample(&s);
}

static void test_hand_valid(void)
{
	struct hand h;
	struct read_result res;

	make_hand(&h, 5);
	res = read_mem(&h.m);
	CHECK_EQ(res.ret, 0);
	if (res.ret)
		printf("#   %s\n", res.msg);
	CHECK_EQ(res.records, 6);
	mem_free(&h.m);
}

static void test_bad_preamble(void)
{
	struct hand h;

	make_hand(&h, 5);
	h.m.p[1] = 'X';
	expect_bad(&h.m, "test: preamble at byte 0: ", "bad magic");
	h.m.p[1] = 'V';
	put_be32(h.m.p + 8, 2);
	expect_bad(&h.m, "test: preamble at byte 0: ", "unsupported format version 2");
	put_be32(h.m.p + 8, 1);
	put_be32(h.m.p + 12, 4);
	expect_bad(&h.m, "test: preamble at byte 0: ", "unknown stream flags 0x00000004");
	h.m.len = 0;
	expect_bad(&h.m, "test: preamble", "empty input");
	h.m.len = 10;
	expect_bad(&h.m, "test: preamble", "truncated");
	mem_free(&h.m);
}

static void test_bad_header_check(void)
{
	struct hand h;
	size_t off;

	make_hand(&h, 5);
	off = record_offset(&h.m, 2);
	h.m.p[off + 9] ^= 0x40; /* stored_len */
	expect_bad(&h.m, "test: record 2 at byte ", "record header check mismatch");
	mem_free(&h.m);
}

static void test_bad_payload_check(void)
{
	struct hand h;
	size_t off;

	make_hand(&h, 5);
	off = record_offset(&h.m, 3);
	h.m.p[off + 32 + 40] ^= 1;
	expect_bad(&h.m, where(&h.m, 3, "DATA"), "payload checksum mismatch");
	mem_free(&h.m);
}

static void test_truncated(void)
{
	struct hand h;
	size_t off;

	make_hand(&h, 5);
	off = record_offset(&h.m, 3);
	h.m.len = off + 20;
	expect_bad(&h.m, "test: record 3 at byte ", "truncated record header (20 of 32 bytes)");
	h.m.len = off + 32 + 10;
	expect_bad(&h.m, where(&h.m, 3, "DATA"), "truncated payload (10 of 74 bytes)");
	h.m.len = record_offset(&h.m, 5);
	expect_bad(&h.m, "test: record 5 at byte ", "end of file before STREAM_END");
	h.m.len = MIGSTREAM_PREAMBLE_LEN;
	expect_bad(&h.m, "test: record 0 at byte 16", "end of file before STREAM_END");
	mem_free(&h.m);
}

static void test_seq_gap(void)
{
	struct migstream_record_header hdr;
	struct hand h;

	make_hand(&h, 5);
	hdr = record_header(&h.m, 4);
	hdr.seq = 7;
	set_record_header(&h.m, 4, &hdr);
	expect_bad(&h.m, where(&h.m, 4, "DEVICE_END"), "sequence number 7, expected 4");
	mem_free(&h.m);
}

static void test_bad_flags_and_reserved(void)
{
	struct migstream_record_header hdr;
	struct hand h;

	make_hand(&h, 5);
	hdr = record_header(&h.m, 1);
	hdr.flags = 0x0010;
	set_record_header(&h.m, 1, &hdr);
	expect_bad(&h.m, where(&h.m, 1, "DEVICE"), "unknown record flags 0x0010");
	mem_free(&h.m);
	make_hand(&h, 5);
	hdr = record_header(&h.m, 1);
	hdr.reserved = 1;
	set_record_header(&h.m, 1, &hdr);
	expect_bad(&h.m, where(&h.m, 1, "DEVICE"), "reserved header field");
	mem_free(&h.m);
}

static void test_unknown_critical(void)
{
	struct hand h;

	make_hand(&h, 1);
	hand_record(&h.m, 0x42, 2, "abc", 3);
	expect_bad(&h.m, where(&h.m, 2, "UNKNOWN"), "unknown critical record type 0x0042");
	mem_free(&h.m);
}

static void test_unknown_ancillary_skipped(void)
{
	uint8_t buf[256];
	struct migstream_reader *r;
	struct migstream_record rec;
	struct memsrc src;
	struct hand h;
	uint32_t zlen;
	int ret, seen = 0;
	struct migstream_stream_end e;
	struct migstream_device_end de = { .device = 0 };

	de.state_digest = XXH3_64bits(NULL, 0);
	make_hand(&h, 1);
	build_simple(&h.m, 0x4242, MIGSTREAM_RF_ANCILLARY, 2, "hello", 5);
	zlen = (uint32_t)ZSTD_compress(buf, sizeof(buf), "abcabcabcabcabcabcabcabc", 24, 3);
	build_record(&h.m, (struct rec_spec){ .type = 0x4243,
					      .flags = MIGSTREAM_RF_ANCILLARY | MIGSTREAM_RF_ZSTD,
					      .seq = 3,
					      .payload = buf,
					      .len = zlen,
					      .stored_len = -1,
					      .raw_len = 24 });
	migstream_encode_device_end(&de, buf);
	hand_record(&h.m, MIGSTREAM_REC_DEVICE_END, 4, buf, MIGSTREAM_DEVICE_END_LEN);
	e = (struct migstream_stream_end){ .record_count = 5, .device_count = 1 };
	e.payload_bytes = 0;
	for (unsigned int i = 0; i < 5; i++)
		e.payload_bytes += record_header(&h.m, i).stored_len;
	migstream_encode_stream_end(&e, buf);
	hand_record(&h.m, MIGSTREAM_REC_STREAM_END, 5, buf, MIGSTREAM_STREAM_END_LEN);

	src = (struct memsrc){ .p = h.m.p, .len = h.m.len };
	CHECK_EQ(migstream_reader_new_cb(&r, memsrc_read, &src, "test", NULL), 0);
	while ((ret = migstream_read_record(r, &rec)) == 1) {
		if (rec.type == 0x4242) {
			seen++;
			CHECK_EQ(rec.len, 5);
			CHECK(memcmp(rec.payload, "hello", 5) == 0);
		}
		if (rec.type == 0x4243) {
			seen++;
			CHECK_EQ(rec.len, 24);
			CHECK(memcmp(rec.payload, "abcabcabcabcabcabcabcabc", 24) == 0);
		}
	}
	CHECK_EQ(ret, 0);
	if (ret)
		printf("#   %s\n", migstream_reader_error(r));
	CHECK_EQ(seen, 2);
	migstream_reader_free(r);
	mem_free(&h.m);
}

static void test_data_after_end(void)
{
	struct hand h;
	size_t end;

	make_hand(&h, 5);
	end = h.m.len;
	mem_put(&h.m, "\0", 1);
	{
		char want[64];

		snprintf(want, sizeof(want), "test: record 6 at byte %zu: ", end);
		expect_bad(&h.m, want, "data after STREAM_END");
	}
	mem_free(&h.m);
}

static void test_missing_stream_end(void)
{
	struct hand h;

	make_hand(&h, 4);
	expect_bad(&h.m, "test: record 5 at byte ", "end of file before STREAM_END");
	mem_free(&h.m);
}

static void test_first_record(void)
{
	struct hand h;
	uint8_t buf[64];

	memset(&h, 0, sizeof(h));
	build_preamble(&h.m);
	memset(buf, 0, sizeof(buf));
	hand_record(&h.m, MIGSTREAM_REC_DEVICE_END, 0, buf, MIGSTREAM_DEVICE_END_LEN);
	expect_bad(&h.m, where(&h.m, 0, "DEVICE_END"), "first record is not STREAM_HEADER");
	mem_free(&h.m);
	make_hand(&h, 1);
	hand_record(&h.m, MIGSTREAM_REC_STREAM_HEADER, 2, h.m.p + record_offset(&h.m, 0) + 32,
		    record_header(&h.m, 0).stored_len);
	expect_bad(&h.m, where(&h.m, 2, "STREAM_HEADER"), "second STREAM_HEADER");
	mem_free(&h.m);
}

/*
 * One field of one record's payload changed (and the record resealed, so
 * its checksums hold): the reader must refuse the stream with -EBADMSG,
 * naming the record and saying what is wrong with it.
 */
struct payload_corruption {
	unsigned int record; /* in the hand stream */
	const char *type;    /* its type, as the error names it */
	size_t offset;	     /* into the payload */
	unsigned int width;  /* 1, 4 or 8 bytes, big-endian */
	uint64_t value;
	const char *what; /* part of the reader's message */
};

static const struct payload_corruption payload_corruptions[] = {
	/* DEVICE_END disagrees with what the stream carried */
	{ 4, "DEVICE_END", 24, 8, 0x1234,
	  "device 0: state digest mismatch (DEVICE_END 0000000000001234" },
	{ 4, "DEVICE_END", 8, 8, 151, "DEVICE_END says 151 bytes, the stream carried 150" },
	{ 4, "DEVICE_END", 16, 8, 3, "DEVICE_END says 3 chunks, the stream carried 2" },
	{ 4, "DEVICE_END", 0, 4, 5, "DEVICE_END for device 5 that has no DEVICE record" },
	/* STREAM_END disagrees with the stream */
	{ 5, "STREAM_END", 0, 8, 4, "STREAM_END counts 4 records before it, the stream has 5" },
	{ 5, "STREAM_END", 8, 8, 1, "payload bytes" },
	{ 5, "STREAM_END", 16, 4, 2, "STREAM_END counts 2 devices, the stream has 1" },
	/* DATA out of order, off its offset, for an undeclared device, in no phase */
	{ 3, "DATA", 8, 8, 2, "device 0: chunk 2 out of order, expected chunk 1" },
	{ 3, "DATA", 16, 8, 99, "device 0 chunk 1: offset 99, expected 100" },
	{ 3, "DATA", 0, 4, 1, "DATA for device 1 before its DEVICE record" },
	{ 3, "DATA", 4, 1, 9, "bad DATA payload" },
};

static void corrupt_payload(struct mem *m, const struct payload_corruption *c)
{
	uint8_t *at = m->p + record_offset(m, c->record) + MIGSTREAM_RECORD_HEADER_LEN + c->offset;

	switch (c->width) {
	case 1:
		*at = (uint8_t)c->value;
		break;
	case 4:
		put_be32(at, (uint32_t)c->value);
		break;
	case 8:
		put_be64(at, c->value);
		break;
	default:
		abort(); /* a table entry this function cannot apply */
	}
	reseal(m, c->record);
}

static void test_payload_corruptions(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(payload_corruptions); i++) {
		const struct payload_corruption *c = &payload_corruptions[i];
		struct hand h;

		make_hand(&h, 5);
		corrupt_payload(&h.m, c);
		expect_bad(&h.m, where(&h.m, c->record, c->type), c->what);
		mem_free(&h.m);
	}
}

static void test_device_without_end(void)
{
	struct hand h;
	uint8_t buf[MIGSTREAM_STREAM_END_LEN];
	struct migstream_stream_end e = { .record_count = 4, .device_count = 1 };

	make_hand(&h, 3);
	for (unsigned int i = 0; i < 4; i++)
		e.payload_bytes += record_header(&h.m, i).stored_len;
	migstream_encode_stream_end(&e, buf);
	hand_record(&h.m, MIGSTREAM_REC_STREAM_END, 4, buf, sizeof(buf));
	expect_bad(&h.m, where(&h.m, 4, "STREAM_END"), "device 0 has no DEVICE_END");
	mem_free(&h.m);
}

static void test_phase_order(void)
{
	struct hand h;
	uint8_t buf[256];
	uint32_t len;

	make_hand(&h, 3);
	len = hand_data(buf, 0, MIGSTREAM_PHASE_PRECOPY_DIRTY, 2, 150, h.data, 10);
	hand_record(&h.m, MIGSTREAM_REC_DATA, 4, buf, len);
	expect_bad(&h.m, where(&h.m, 4, "DATA"),
		   "device 0: PRECOPY_DIRTY data after STOP_COPY data");
	mem_free(&h.m);
}

static void test_data_after_device_end(void)
{
	struct hand h;
	uint8_t buf[256];
	uint32_t len;

	make_hand(&h, 4);
	len = hand_data(buf, 0, MIGSTREAM_PHASE_STOP_COPY, 2, 150, h.data, 10);
	hand_record(&h.m, MIGSTREAM_REC_DATA, 5, buf, len);
	expect_bad(&h.m, where(&h.m, 5, "DATA"), "DATA for device 0 after its DEVICE_END");
	mem_free(&h.m);
}

static void test_duplicate_device(void)
{
	struct hand h;
	struct migstream_device d = sample_device(0, "again");
	uint8_t buf[8192];
	int len;

	make_hand(&h, 1);
	len = migstream_encode_device(&d, buf, sizeof(buf));
	hand_record(&h.m, MIGSTREAM_REC_DEVICE, 2, buf, (uint32_t)len);
	expect_bad(&h.m, where(&h.m, 2, "DEVICE"), "device 0 declared twice");
	mem_free(&h.m);
}

static void test_too_many_devices(void)
{
	struct hand h;
	uint8_t buf[8192];
	int len = 0;

	make_hand(&h, 0);
	for (uint32_t i = 0; i <= MIGSTREAM_MAX_DEVICES; i++) {
		struct migstream_device d = sample_device(i, "d");

		len = migstream_encode_device(&d, buf, sizeof(buf));
		hand_record(&h.m, MIGSTREAM_REC_DEVICE, 1 + i, buf, (uint32_t)len);
	}
	expect_bad(&h.m, where(&h.m, 65, "DEVICE"), "more than 64 devices");
	mem_free(&h.m);
}

static void test_bad_zstd(void)
{
	struct hand h;
	uint8_t buf[512], raw[200];
	uint32_t zlen, len;

	/* garbage with a correct payload check */
	make_hand(&h, 1);
	build_record(&h.m, (struct rec_spec){ .type = MIGSTREAM_REC_DATA,
					      .flags = MIGSTREAM_RF_ZSTD,
					      .seq = 2,
					      .payload = "not a zstd frame",
					      .len = 16,
					      .stored_len = -1,
					      .raw_len = 100 });
	expect_bad(&h.m, where(&h.m, 2, "DATA"), "bad zstd frame");
	mem_free(&h.m);

	/* a skippable frame "decompresses" to nothing */
	make_hand(&h, 1);
	build_record(&h.m, (struct rec_spec){ .type = 0x4000,
					      .flags = MIGSTREAM_RF_ZSTD | MIGSTREAM_RF_ANCILLARY,
					      .seq = 2,
					      .payload = "\x50\x2a\x4d\x18\0\0\0\0",
					      .len = 8,
					      .stored_len = -1,
					      .raw_len = 0 });
	expect_bad(&h.m, where(&h.m, 2, "UNKNOWN"), "bad zstd frame: no zstd frame magic");
	mem_free(&h.m);

	/* a valid frame whose content size is not raw_len */
	make_hand(&h, 1);
	len = hand_data(raw, 0, MIGSTREAM_PHASE_STOP_COPY, 0, 0, h.data, 100);
	zlen = (uint32_t)ZSTD_compress(buf, sizeof(buf), raw, len, 3);
	build_record(&h.m, (struct rec_spec){ .type = MIGSTREAM_REC_DATA,
					      .flags = MIGSTREAM_RF_ZSTD,
					      .seq = 2,
					      .payload = buf,
					      .len = zlen,
					      .stored_len = -1,
					      .raw_len = len + 1 });
	expect_bad(&h.m, where(&h.m, 2, "DATA"),
		   "zstd frame content size 124 differs from raw length 125");
	mem_free(&h.m);

	/* a valid frame followed by junk */
	make_hand(&h, 1);
	memcpy(buf + zlen, "junk", 4);
	build_record(&h.m, (struct rec_spec){ .type = MIGSTREAM_REC_DATA,
					      .flags = MIGSTREAM_RF_ZSTD,
					      .seq = 2,
					      .payload = buf,
					      .len = zlen + 4,
					      .stored_len = -1,
					      .raw_len = len });
	expect_bad(&h.m, where(&h.m, 2, "DATA"), "4 bytes after the zstd frame");
	mem_free(&h.m);

	/* a frame without content size */
	make_hand(&h, 1);
	{
		ZSTD_CCtx *c = ZSTD_createCCtx();

		ZSTD_CCtx_setParameter(c, ZSTD_c_contentSizeFlag, 0);
		zlen = (uint32_t)ZSTD_compress2(c, buf, sizeof(buf), raw, len);
		CHECK(!ZSTD_isError(zlen));
		ZSTD_freeCCtx(c);
	}
	build_record(&h.m, (struct rec_spec){ .type = MIGSTREAM_REC_DATA,
					      .flags = MIGSTREAM_RF_ZSTD,
					      .seq = 2,
					      .payload = buf,
					      .len = zlen,
					      .stored_len = -1,
					      .raw_len = len });
	expect_bad(&h.m, where(&h.m, 2, "DATA"), "does not declare its content size");
	mem_free(&h.m);
}

static void test_oversized_lengths(void)
{
	struct hand h;

	make_hand(&h, 1);
	build_record(&h.m, (struct rec_spec){ .type = MIGSTREAM_REC_DATA,
					      .flags = MIGSTREAM_RF_ZSTD,
					      .seq = 2,
					      .payload = "x",
					      .len = 1,
					      .stored_len = -1,
					      .raw_len = MIGSTREAM_MAX_PAYLOAD + 1 });
	expect_bad(&h.m, where(&h.m, 2, "DATA"), "raw length 8388609 exceeds the limit of 8388608");
	mem_free(&h.m);
	make_hand(&h, 1);
	build_record(&h.m, (struct rec_spec){ .type = MIGSTREAM_REC_DATA,
					      .seq = 2,
					      .payload = "x",
					      .len = 1,
					      .stored_len = 0xffffffff,
					      .raw_len = 0xffffffff });
	expect_bad(&h.m, where(&h.m, 2, "DATA"), "stored length 4294967295 exceeds");
	mem_free(&h.m);
	make_hand(&h, 1);
	build_record(&h.m, (struct rec_spec){ .type = MIGSTREAM_REC_DATA,
					      .seq = 2,
					      .payload = "x",
					      .len = 1,
					      .stored_len = -1,
					      .raw_len = 2 });
	expect_bad(&h.m, where(&h.m, 2, "DATA"),
		   "raw length 2 differs from stored length 1 without compression");
	mem_free(&h.m);
}

static void test_max_payload_accepted(void)
{
	struct hand h;
	uint8_t *big = calloc(1, MIGSTREAM_MAX_PAYLOAD + 1);
	struct read_result res;

	make_hand(&h, 1);
	build_simple(&h.m, 0x4000, MIGSTREAM_RF_ANCILLARY, 2, big, MIGSTREAM_MAX_PAYLOAD);
	/* accepted up to the missing STREAM_END */
	res = read_mem(&h.m);
	CHECK_EQ(res.ret, -EBADMSG);
	CHECK_EQ(res.records, 3);
	CHECK_STR_CONTAINS(res.msg, "record 3 at byte");
	mem_free(&h.m);
	make_hand(&h, 1);
	build_simple(&h.m, 0x4000, MIGSTREAM_RF_ANCILLARY, 2, big, MIGSTREAM_MAX_PAYLOAD + 1);
	expect_bad(&h.m, where(&h.m, 2, "UNKNOWN"), "stored length 8388609 exceeds the limit");
	mem_free(&h.m);
	free(big);
}

static void test_bad_payloads(void)
{
	struct hand h;
	uint8_t buf[64] = { 0 };

	make_hand(&h, 1);
	hand_record(&h.m, MIGSTREAM_REC_PRECOPY_INFO, 2, buf, MIGSTREAM_PRECOPY_INFO_LEN - 1);
	expect_bad(&h.m, where(&h.m, 2, "PRECOPY_INFO"), "bad PRECOPY_INFO payload (39 bytes)");
	mem_free(&h.m);
	make_hand(&h, 1);
	hand_record(&h.m, MIGSTREAM_REC_DEVICE_END, 2, buf, 10);
	expect_bad(&h.m, where(&h.m, 2, "DEVICE_END"), "bad DEVICE_END payload");
	mem_free(&h.m);
	make_hand(&h, 0);
	hand_record(&h.m, MIGSTREAM_REC_DEVICE, 1, buf, 41);
	expect_bad(&h.m, where(&h.m, 1, "DEVICE"), "bad DEVICE payload");
	mem_free(&h.m);
	/* a bitmap claiming more dirty pages than it has */
	make_hand(&h, 1);
	{
		struct migstream_dirty_bitmap bm = { .encoding = MIGSTREAM_BITMAP_RAW,
						     .page_size = 4096,
						     .page_count = 16,
						     .dirty_count = 3 };
		uint8_t p[MIGSTREAM_BITMAP_PREFIX_LEN + 2];

		migstream_encode_bitmap_prefix(&bm, p);
		p[48] = 0x03;
		p[49] = 0;
		hand_record(&h.m, MIGSTREAM_REC_DIRTY_BITMAP, 2, p, sizeof(p));
	}
	expect_bad(&h.m, where(&h.m, 2, "DIRTY_BITMAP"), "bad RAW dirty bitmap for 16 pages");
	mem_free(&h.m);
	/* longer payloads than this revision knows are fine */
	make_hand(&h, 1);
	{
		struct migstream_precopy_info pi = { 0 };
		uint8_t p[MIGSTREAM_PRECOPY_INFO_LEN + 8] = { 0 };
		struct read_result res;

		migstream_encode_precopy_info(&pi, p);
		hand_record(&h.m, MIGSTREAM_REC_PRECOPY_INFO, 2, p, sizeof(p));
		res = read_mem(&h.m);
		CHECK_EQ(res.records, 3);
		CHECK_STR_CONTAINS(res.msg, "end of file before STREAM_END");
	}
	mem_free(&h.m);
}

static ssize_t read_eio(void *ctx, void *buf, size_t len)
{
	return -EIO;
}

static void test_io_error(void)
{
	struct migstream_reader *r;
	struct migstream_record rec;
	struct memsrc src;
	struct hand h;

	CHECK_EQ(migstream_reader_new_cb(&r, read_eio, NULL, "eio", NULL), 0);
	CHECK_EQ(migstream_read_record(r, &rec), -EIO);
	CHECK_STR_CONTAINS(migstream_reader_error(r), "read error: Input/output error");
	/* sticky */
	CHECK_EQ(migstream_read_record(r, &rec), -EIO);
	migstream_reader_free(r);

	make_hand(&h, 5);
	src = (struct memsrc){ .p = h.m.p, .len = h.m.len, .fail_at = 200 };
	CHECK_EQ(migstream_reader_new_cb(&r, memsrc_read, &src, "eio", NULL), 0);
	while (migstream_read_record(r, &rec) == 1)
		;
	CHECK_EQ(migstream_read_record(r, &rec), -EIO);
	migstream_reader_free(r);
	mem_free(&h.m);

	/* a bad fd */
	CHECK_EQ(migstream_reader_new(&r, -1, "badfd", NULL), 0);
	CHECK_EQ(migstream_read_record(r, &rec), -EBADF);
	migstream_reader_free(r);
}

static void test_names(void)
{
	CHECK(strcmp(migstream_record_type_name(MIGSTREAM_REC_DATA), "DATA") == 0);
	CHECK(strcmp(migstream_record_type_name(0x42), "UNKNOWN") == 0);
	/* every type of migstream(5) has its name, the return path's too (issue 22, item 11) */
	CHECK(strcmp(migstream_record_type_name(0x0008), "INIT_DATA_SENT") == 0);
	CHECK(strcmp(migstream_record_type_name(0x0101), "SWITCHOVER_ACK") == 0);
	CHECK(strcmp(migstream_record_type_name(0x0102), "LOAD_RESULT") == 0);
	for (uint16_t t = 1; t <= MIGSTREAM_REC_CHANNEL; t++)
		CHECK(strcmp(migstream_record_type_name(t), "UNKNOWN") != 0);
	CHECK(strcmp(migstream_phase_name(MIGSTREAM_PHASE_STOP_COPY), "STOP_COPY") == 0);
	CHECK(strcmp(migstream_phase_name(0), "UNKNOWN") == 0);
}

static void test_string_limits(void)
{
	struct migstream_stream_header h = { 0 }, out;
	struct migstream_device *d = calloc(1, sizeof(*d)), *dout = calloc(1, sizeof(*dout));
	uint8_t buf[8192];
	struct migstream_record rec = { 0 };
	int len;

	memset(h.host, 'h', sizeof(h.host) - 1);
	len = migstream_encode_stream_header(&h, buf, sizeof(buf));
	CHECK(len > 0);
	rec.payload = buf;
	rec.len = (uint32_t)len;
	CHECK_EQ(migstream_decode_stream_header(&rec, &out), 0);
	CHECK_EQ(strlen(out.host), 255);
	/* a host one byte too long for the field */
	put_be16(buf + 16 + 2 + 2 + 0, 0); /* producer "" stays */
	put_be16(buf + 16 + 2 + 2, 0);
	put_be16(buf + 20, 256);
	rec.len = 22 + 256;
	memset(buf + 22, 'h', 256);
	CHECK_EQ(migstream_decode_stream_header(&rec, &out), -EBADMSG);
	/* NUL inside a string */
	put_be16(buf + 20, 3);
	memcpy(buf + 22, "a\0b", 3);
	rec.len = 25;
	CHECK_EQ(migstream_decode_stream_header(&rec, &out), -EBADMSG);
	memcpy(buf + 22, "abc", 3);
	CHECK_EQ(migstream_decode_stream_header(&rec, &out), 0);
	CHECK(strcmp(out.host, "abc") == 0);
	/* short buffers */
	CHECK_EQ(migstream_encode_stream_header(&h, buf, 100), -ENOSPC);

	memset(d->name, 'n', MIGSTREAM_MAX_STRING);
	len = migstream_encode_device(d, buf, sizeof(buf));
	CHECK(len > 0);
	rec.len = (uint32_t)len;
	CHECK_EQ(migstream_decode_device(&rec, dout), 0);
	CHECK_EQ(strlen(dout->name), MIGSTREAM_MAX_STRING);
	/* every truncation of a valid payload is rejected */
	for (int cut = 0; cut < len; cut++) {
		rec.len = (uint32_t)cut;
		CHECK_EQ(migstream_decode_device(&rec, dout), -EBADMSG);
	}
	free(d);
	free(dout);
}

/* Sets the phase byte of DATA record idx. */
static void h_set_phase(struct mem *m, unsigned int idx, uint8_t phase)
{
	m->p[record_offset(m, idx) + 32 + 4] = phase;
	reseal(m, idx);
}

/*
 * unordered_data. A stream of one device whose DATA chunks (chunk_len
 * bytes each, chunk i at offset i * chunk_len, pre-copy below first_stop,
 * STOP_COPY from it on) arrive in the order given; DEVICE_END carries
 * end_chunks chunks, end_bytes bytes and the digest of the bytes in
 * device order, STREAM_END the right totals.
 */
#define UO_CHUNK 16

struct unordered_spec {
	const uint64_t *order;
	unsigned int n;
	uint64_t first_stop;
	uint64_t end_chunks, end_bytes;
};

static void make_unordered(struct mem *m, const struct unordered_spec *u)
{
	struct migstream_stream_header sh = { .time_ns = 1,
					      .producer = "uo",
					      .producer_version = "1" };
	struct migstream_device dev = sample_device(0, "d");
	uint8_t buf[8192], bytes[UO_CHUNK];
	uint64_t payload_bytes = 0, max_chunk = 0;
	XXH3_state_t *digest = XXH3_createState();
	uint32_t seq = 0;
	int len;

	*m = (struct mem){ 0 };
	build_preamble(m);
	len = migstream_encode_stream_header(&sh, buf, sizeof(buf));
	hand_record(m, MIGSTREAM_REC_STREAM_HEADER, seq++, buf, (uint32_t)len);
	payload_bytes += (uint64_t)len;
	len = migstream_encode_device(&dev, buf, sizeof(buf));
	hand_record(m, MIGSTREAM_REC_DEVICE, seq++, buf, (uint32_t)len);
	payload_bytes += (uint64_t)len;
	for (unsigned int i = 0; i < u->n; i++) {
		uint64_t c = u->order[i];

		for (unsigned int b = 0; b < UO_CHUNK; b++)
			bytes[b] = (uint8_t)(c * 31 + b);
		len = (int)hand_data(buf, 0,
				     c < u->first_stop ? MIGSTREAM_PHASE_PRECOPY_INITIAL
						       : MIGSTREAM_PHASE_STOP_COPY,
				     c, c * UO_CHUNK, bytes, UO_CHUNK);
		hand_record(m, MIGSTREAM_REC_DATA, seq++, buf, (uint32_t)len);
		payload_bytes += (uint64_t)len;
		if (c + 1 > max_chunk)
			max_chunk = c + 1;
	}
	/* the digest of chunks 0..max_chunk-1 in order, as a sender computes it */
	XXH3_64bits_reset(digest);
	for (uint64_t c = 0; c < max_chunk && c < 1000000; c++) {
		for (unsigned int b = 0; b < UO_CHUNK; b++)
			bytes[b] = (uint8_t)(c * 31 + b);
		XXH3_64bits_update(digest, bytes, UO_CHUNK);
	}
	{
		struct migstream_device_end e = { .device = 0,
						  .total_bytes = u->end_bytes,
						  .chunk_count = u->end_chunks,
						  .state_digest = XXH3_64bits_digest(digest) };

		migstream_encode_device_end(&e, buf);
		hand_record(m, MIGSTREAM_REC_DEVICE_END, seq++, buf, MIGSTREAM_DEVICE_END_LEN);
		payload_bytes += MIGSTREAM_DEVICE_END_LEN;
	}
	{
		struct migstream_stream_end e = { .record_count = seq,
						  .payload_bytes = payload_bytes,
						  .device_count = 1 };

		migstream_encode_stream_end(&e, buf);
		hand_record(m, MIGSTREAM_REC_STREAM_END, seq, buf, MIGSTREAM_STREAM_END_LEN);
	}
	XXH3_freeState(digest);
}

static struct read_result read_unordered(const struct mem *m, size_t step, uint32_t window)
{
	const struct migstream_reader_opts opts = { .unordered_data = true,
						    .unordered_window = window };

	return read_mem_opts(m->p, m->len, step, &opts);
}

/* -EBADMSG from the unordered reader, naming record idx (DATA or DEVICE_END) and what. */
static void expect_unordered_bad(const struct mem *m, uint32_t window, const char *where_,
				 const char *what)
{
	struct read_result res = read_unordered(m, 0, window);

	CHECK_EQ(res.ret, -EBADMSG);
	CHECK_STR_CONTAINS(res.msg, where_);
	CHECK_STR_CONTAINS(res.msg, what);
	res = read_unordered(m, 5, window);
	CHECK_EQ(res.ret, -EBADMSG);
	CHECK_STR_CONTAINS(res.msg, what);
}

static void test_unordered_accepted(void)
{
	static const uint64_t order[] = { 2, 0, 4, 1, 3, 5, 7, 6 };
	struct unordered_spec u = {
		.order = order, .n = 8, .first_stop = 5, .end_chunks = 8, .end_bytes = 8 * UO_CHUNK
	};
	struct read_result res;
	struct mem m;

	make_unordered(&m, &u);
	res = read_unordered(&m, 0, 0);
	CHECK_EQ(res.ret, 0);
	if (res.ret)
		printf("#   %s\n", res.msg);
	CHECK_EQ(res.records, 12);
	res = read_unordered(&m, 7, 0);
	CHECK_EQ(res.ret, 0);
	/* the default reader still refuses it, at the first early chunk */
	expect_bad(&m, where(&m, 2, "DATA"), "device 0: chunk 2 out of order, expected chunk 0");
	mem_free(&m);

	/* in order is one of the orders */
	static const uint64_t in_order[] = { 0, 1, 2, 3 };
	u = (struct unordered_spec){ .order = in_order,
				     .n = 4,
				     .first_stop = 2,
				     .end_chunks = 4,
				     .end_bytes = 4 * UO_CHUNK };
	make_unordered(&m, &u);
	CHECK_EQ(read_unordered(&m, 0, 0).ret, 0);
	CHECK_EQ(read_mem(&m).ret, 0);
	mem_free(&m);
}

static void test_unordered_digest_is_callers(void)
{
	static const uint64_t order[] = { 1, 0 };
	struct unordered_spec u = {
		.order = order, .n = 2, .first_stop = 2, .end_chunks = 2, .end_bytes = 2 * UO_CHUNK
	};
	struct mem m;

	/* a wrong digest passes the reader: the caller hashes in device order */
	make_unordered(&m, &u);
	corrupt_payload(&m, &(struct payload_corruption){
				    .record = 4, .offset = 24, .width = 8, .value = 0x1234 });
	CHECK_EQ(read_unordered(&m, 0, 0).ret, 0);
	mem_free(&m);
}

/* The stream of u, refused by the unordered reader at record idx (of type) with what. */
static void expect_unordered_case(const struct unordered_spec *u, unsigned int idx,
				  const char *type, const char *what)
{
	struct mem m;

	make_unordered(&m, u);
	expect_unordered_bad(&m, 0, where(&m, idx, type), what);
	mem_free(&m);
}

static void test_unordered_duplicate(void)
{
	static const uint64_t below[] = { 0, 1, 0, 2 };	 /* below the lowest missing chunk */
	static const uint64_t inside[] = { 3, 1, 3, 0 }; /* inside the window */
	struct unordered_spec u = {
		.order = below, .n = 4, .first_stop = 9, .end_chunks = 4, .end_bytes = 4 * UO_CHUNK
	};

	expect_unordered_case(&u, 4, "DATA", "device 0: chunk 0 (offset 0) repeated");
	u.order = inside;
	expect_unordered_case(&u, 4, "DATA", "device 0: chunk 3 (offset 48) repeated");
}

static void test_unordered_missing(void)
{
	static const uint64_t gap[] = { 0, 2, 3 };
	static const uint64_t three[] = { 1, 0, 2 };
	static const uint64_t four[] = { 1, 0, 3, 2 };

	/* three chunks, as announced, but 1 never came (3 did) */
	expect_unordered_case(&(struct unordered_spec){ .order = gap,
							.n = 3,
							.first_stop = 9,
							.end_chunks = 3,
							.end_bytes = 3 * UO_CHUNK },
			      5, "DEVICE_END", "device 0: chunk 1 of 3 is missing");
	/* the last one never came */
	expect_unordered_case(&(struct unordered_spec){ .order = three,
							.n = 3,
							.first_stop = 9,
							.end_chunks = 4,
							.end_bytes = 3 * UO_CHUNK },
			      5, "DEVICE_END", "device 0: chunk 3 of 4 is missing");
	/* more chunks, or other bytes, than announced */
	expect_unordered_case(&(struct unordered_spec){ .order = four,
							.n = 4,
							.first_stop = 9,
							.end_chunks = 3,
							.end_bytes = 4 * UO_CHUNK },
			      6, "DEVICE_END", "DEVICE_END says 3 chunks, the stream carried 4");
	expect_unordered_case(&(struct unordered_spec){ .order = three,
							.n = 3,
							.first_stop = 9,
							.end_chunks = 3,
							.end_bytes = 3 * UO_CHUNK + 1 },
			      5, "DEVICE_END", "DEVICE_END says 49 bytes, the stream carried 48");
}

static void test_unordered_huge_index(void)
{
	static const uint64_t huge[] = { 0, 1ull << 60 };
	static const uint64_t top[] = { UINT64_MAX };
	static const uint64_t outside[] = { 1, MIGSTREAM_UNORDERED_WINDOW };
	static const uint64_t inside[] = { 0, MIGSTREAM_UNORDERED_WINDOW };
	struct unordered_spec u = {
		.order = huge, .n = 2, .first_stop = 0, .end_chunks = 2, .end_bytes = 2 * UO_CHUNK
	};

	expect_unordered_case(
		&u, 3, "DATA",
		"device 0: chunk 1152921504606846976 is 65536 or more chunks ahead of missing chunk 1");
	u.order = top;
	u.n = 1;
	expect_unordered_case(&u, 2, "DATA",
			      "chunk 18446744073709551615 is 65536 or more chunks ahead");
	/* with chunk 0 missing, 65536 is one beyond the window ... */
	u.order = outside;
	u.n = 2;
	expect_unordered_case(&u, 3, "DATA",
			      "chunk 65536 is 65536 or more chunks ahead of missing chunk 0");
	/* ... and with chunk 1 missing, the last one inside it: taken, the gap found at DEVICE_END */
	u.order = inside;
	expect_unordered_case(&u, 4, "DEVICE_END", "device 0: chunk 1 of 2 is missing");
}

/* A small window slides: each block of 64 chunks reversed, 256 chunks. */
static void test_unordered_window_slides(void)
{
	uint64_t order[256];
	struct unordered_spec u = { .order = order,
				    .n = 256,
				    .first_stop = 128,
				    .end_chunks = 256,
				    .end_bytes = 256 * UO_CHUNK };
	struct migstream_reader *r;
	const struct migstream_reader_opts too_big = { .unordered_data = true,
						       .unordered_window =
							       MIGSTREAM_UNORDERED_WINDOW_MAX + 1 };
	struct read_result res;
	struct mem m;

	for (unsigned int i = 0; i < 256; i++)
		order[i] = (i / 64) * 64 + 63 - i % 64;
	make_unordered(&m, &u);
	res = read_unordered(&m, 0, 64);
	CHECK_EQ(res.ret, 0);
	if (res.ret)
		printf("#   %s\n", res.msg);
	mem_free(&m);
	/* blocks of 128 reversed need a window of 128 (65 rounds up to it) */
	for (unsigned int i = 0; i < 256; i++)
		order[i] = (i / 128) * 128 + 127 - i % 128;
	make_unordered(&m, &u);
	expect_unordered_bad(&m, 64, where(&m, 2, "DATA"),
			     "chunk 127 is 64 or more chunks ahead of missing chunk 0");
	CHECK_EQ(read_unordered(&m, 0, 65).ret, 0);
	mem_free(&m);

	CHECK_EQ(migstream_reader_new_cb(&r, memsrc_read, NULL, "x", &too_big), -EINVAL);
}

static void test_unordered_phases(void)
{
	static const uint64_t order[] = { 1, 0, 2 };
	struct unordered_spec u = {
		.order = order, .n = 3, .first_stop = 1, .end_chunks = 3, .end_bytes = 3 * UO_CHUNK
	};
	struct mem m;

	/* STOP_COPY chunk 1 comes before pre-copy chunk 0: fine in chunk order */
	make_unordered(&m, &u);
	CHECK_EQ(read_unordered(&m, 0, 0).ret, 0);
	mem_free(&m);
	/* pre-copy numbered after STOP_COPY: refused whichever arrives first */
	u.first_stop = 0;
	make_unordered(&m, &u);
	h_set_phase(&m, 4, MIGSTREAM_PHASE_PRECOPY_DIRTY);
	expect_unordered_bad(&m, 0, where(&m, 4, "DATA"),
			     "device 0: PRECOPY_DIRTY chunk 2 after STOP_COPY chunk 0");
	mem_free(&m);
	make_unordered(&m, &u);
	h_set_phase(&m, 2, MIGSTREAM_PHASE_PRECOPY_DIRTY);
	expect_unordered_bad(&m, 0, where(&m, 3, "DATA"),
			     "device 0: STOP_COPY chunk 0 before pre-copy chunk 1");
	mem_free(&m);
}

int main(void)
{
	RUN(test_names);
	RUN(test_string_limits);
	RUN(test_roundtrip_plain);
	RUN(test_roundtrip_short_reads);
	RUN(test_roundtrip_eintr);
	RUN(test_roundtrip_compressed);
	RUN(test_incompressible_stored_raw);
	RUN(test_keep_compressed);
	RUN(test_tee);
	RUN(test_write_record_recode);
	RUN(test_write_record_rules);
	RUN(test_writer_limits);
	RUN(test_writer_sticky_error);
	RUN(test_pipe_streaming);
	RUN(test_take_payload);
	RUN(test_hand_valid);
	RUN(test_bad_preamble);
	RUN(test_bad_header_check);
	RUN(test_bad_payload_check);
	RUN(test_truncated);
	RUN(test_seq_gap);
	RUN(test_bad_flags_and_reserved);
	RUN(test_unknown_critical);
	RUN(test_unknown_ancillary_skipped);
	RUN(test_data_after_end);
	RUN(test_missing_stream_end);
	RUN(test_first_record);
	RUN(test_payload_corruptions);
	RUN(test_device_without_end);
	RUN(test_phase_order);
	RUN(test_data_after_device_end);
	RUN(test_duplicate_device);
	RUN(test_too_many_devices);
	RUN(test_bad_zstd);
	RUN(test_oversized_lengths);
	RUN(test_max_payload_accepted);
	RUN(test_bad_payloads);
	RUN(test_io_error);
	RUN(test_unordered_accepted);
	RUN(test_unordered_digest_is_callers);
	RUN(test_unordered_duplicate);
	RUN(test_unordered_missing);
	RUN(test_unordered_huge_index);
	RUN(test_unordered_window_slides);
	RUN(test_unordered_phases);
	return unit_done();
}
