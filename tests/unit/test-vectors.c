// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The committed test vectors (tests/vectors/): the reader accepts the good
 * ones with the expected contents, rejects each corrupt one naming the
 * right record and byte offset, and the writer still produces the
 * deterministic ones byte for byte.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xxhash.h>

#include "common/c.h"
#include "stream/channel-set.h"
#include "stream/dirty-bitmap.h"
#include "stream/reader.h"
#include "gen-vectors.h"
#include "unit.h"

#ifndef VMT_VECTORS_DIR
#error "VMT_VECTORS_DIR must name tests/vectors in the source tree"
#endif

static struct vbuf load(const char *name)
{
	char path[4096];
	struct vbuf b = { 0 };
	int fd;
	off_t len;

	snprintf(path, sizeof(path), "%s/%s", VMT_VECTORS_DIR, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		printf("#   %s: %s\n", path, strerror(errno));
		return b;
	}
	len = lseek(fd, 0, SEEK_END);
	b.p = malloc((size_t)len + 1);
	if (b.p && pread(fd, b.p, (size_t)len, 0) == len)
		b.len = (size_t)len;
	close(fd);
	return b;
}

/* Reads a vector file through its fd: the reader's real path. */
static int read_file(const char *name, char *msg, size_t msglen, uint64_t *records,
		     int (*each)(const struct migstream_record *rec, void *ctx), void *ctx)
{
	char path[4096];
	struct migstream_reader *r;
	struct migstream_record rec;
	int fd, ret;

	snprintf(path, sizeof(path), "%s/%s", VMT_VECTORS_DIR, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (migstream_reader_new(&r, fd, name, NULL))
		abort();
	while ((ret = migstream_read_record(r, &rec)) == 1)
		if (each && each(&rec, ctx))
			break;
	snprintf(msg, msglen, "%s", ret ? migstream_reader_error(r) : "");
	*records = migstream_reader_records(r);
	migstream_reader_free(r);
	close(fd);
	return ret;
}

static void test_good_vectors_read(void)
{
	static const uint64_t want_records[] = { 2, 10, 0, 7, 3, 10, 9, 7 };

	CHECK_EQ(good_vectors.count, ARRAY_SIZE(want_records));
	for (size_t i = 0; i < good_vectors.count && i < ARRAY_SIZE(want_records); i++) {
		const struct vector *v = &good_vectors.items[i];
		char msg[512];
		uint64_t records = 0;
		int ret = read_file(v->name, msg, sizeof(msg), &records, NULL, NULL);

		CHECK_EQ(ret, 0);
		if (ret)
			printf("#   %s: %s\n", v->name, msg);
		if (want_records[i])
			CHECK_EQ(records, want_records[i]);
	}
}

static void test_deterministic_vectors(void)
{
	for (size_t i = 0; i < good_vectors.count; i++) {
		const struct vector *v = &good_vectors.items[i];
		struct vbuf want = load(v->name), got;

		CHECK_EQ(gen_to_mem(v->gen, &got), 0);
		if (v->deterministic) {
			CHECK_EQ(got.len, want.len);
			CHECK(got.len == want.len && memcmp(got.p, want.p, got.len) == 0);
		}
		free(want.p);
		free(got.p);
	}
}

struct digest_ctx {
	uint64_t digests[2];
	unsigned int ends, zstd, bitmaps, unknown;
	uint64_t dirty[3];
	uint8_t encodings[3];
};

static int collect(const struct migstream_record *rec, void *ctx)
{
	struct digest_ctx *dc = ctx;

	if (rec->flags & MIGSTREAM_RF_ZSTD)
		dc->zstd++;
	if (rec->type == MIGSTREAM_REC_DEVICE_END) {
		struct migstream_device_end e;

		if (migstream_decode_device_end(rec, &e) == 0 && e.device < 2)
			dc->digests[e.device] = e.state_digest;
		dc->ends++;
	}
	if (rec->type == MIGSTREAM_REC_DIRTY_BITMAP && dc->bitmaps < 3) {
		struct migstream_dirty_bitmap bm;

		if (migstream_decode_dirty_bitmap(rec, &bm) == 0) {
			dc->dirty[dc->bitmaps] = bm.dirty_count;
			dc->encodings[dc->bitmaps] = bm.encoding;
			if (dc->bitmaps == 0 && bm.bits_len == 2)
				CHECK(memcmp(bm.bits, "\x0e\x02", 2) == 0);
		}
		dc->bitmaps++;
	}
	if (rec->type == 0x7f00) {
		CHECK_EQ(rec->len, 24);
		dc->unknown++;
	}
	return 0;
}

static void test_vector_contents(void)
{
	struct digest_ctx dc = { 0 };
	uint8_t data[65536];
	uint64_t records;
	char msg[512];

	/* the digests tests/vectors/README gives */
	vector_bytes(data, 200, 0);
	CHECK_EQ(read_file("one-device.vms", msg, sizeof(msg), &records, collect, &dc), 0);
	CHECK_EQ(dc.ends, 1);
	CHECK_EQ(dc.digests[0], XXH3_64bits(data, 200));
	CHECK_EQ(dc.digests[0], UINT64_C(0x7c64f3b17285e96a));

	memset(&dc, 0, sizeof(dc));
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)((i / 64) % 5);
	CHECK_EQ(read_file("compressed.vms", msg, sizeof(msg), &records, collect, &dc), 0);
	CHECK_EQ(dc.ends, 2);
	CHECK(dc.zstd >= 8);
	CHECK_EQ(dc.digests[0], XXH3_64bits(data, sizeof(data)));
	CHECK_EQ(dc.digests[1], XXH3_64bits(data + 1, sizeof(data) - 1));

	memset(&dc, 0, sizeof(dc));
	CHECK_EQ(read_file("dirty-bitmap.vms", msg, sizeof(msg), &records, collect, &dc), 0);
	CHECK_EQ(dc.bitmaps, 3);
	CHECK_EQ(dc.dirty[0], 4);
	CHECK_EQ(dc.encodings[0], MIGSTREAM_BITMAP_RAW);
	CHECK_EQ(dc.dirty[1], 9);
	CHECK_EQ(dc.encodings[1], MIGSTREAM_BITMAP_RUNS);
	CHECK_EQ(dc.dirty[2], 0);
	CHECK_EQ(dc.encodings[2], MIGSTREAM_BITMAP_RUNS);
	CHECK_EQ(dc.digests[0], XXH3_64bits(NULL, 0));

	memset(&dc, 0, sizeof(dc));
	CHECK_EQ(read_file("unknown-ancillary.vms", msg, sizeof(msg), &records, collect, &dc), 0);
	CHECK_EQ(dc.unknown, 1);
}

static void check_bad(const struct bad_vector *bv)
{
	struct vbuf want = load(bv->name), got;
	char msg[512], where[256];
	uint64_t records = 0;
	size_t off;

	/* committed bytes = generator output */
	CHECK_EQ(vector_make_variant(bv, &got), 0);
	CHECK(got.len == want.len && memcmp(got.p, want.p, got.len) == 0);
	off = vector_record_offset(&got, bv->record);
	if (bv->type)
		snprintf(where, sizeof(where), "%s: record %u (%s) at byte %zu: %s", bv->name,
			 bv->record, bv->type, off, bv->what);
	else
		snprintf(where, sizeof(where), "%s: record %u at byte %zu: %s", bv->name,
			 bv->record, off, bv->what);
	CHECK_EQ(read_file(bv->name, msg, sizeof(msg), &records, NULL, NULL), -EBADMSG);
	CHECK_STR_CONTAINS(msg, where);
	CHECK_EQ(records, bv->record);
	free(want.p);
	free(got.p);
}

static void test_bad_vectors(void)
{
	for (size_t i = 0; i < bad_vectors.count; i++)
		check_bad(&bad_vectors.items[i]);
	for (size_t i = 0; i < bad_channel_vectors.count; i++)
		check_bad(&bad_channel_vectors.items[i]);
	/* an error inside INIT_DATA_SENT names INIT_DATA_SENT, not UNKNOWN (issue 22, item 11) */
	for (size_t i = 0; i < bad_marker_vectors.count; i++)
		check_bad(&bad_marker_vectors.items[i]);
}

/* A marker whose initial is beyond its offset: a plain reader skips it, the stream is good. */
static void test_marker_vectors(void)
{
	for (size_t i = 0; i < marker_vectors.count; i++) {
		const struct bad_vector *bv = &marker_vectors.items[i];
		struct vbuf want = load(bv->name), got;
		uint64_t records = 0;
		char msg[512];

		CHECK_EQ(vector_make_variant(bv, &got), 0);
		CHECK(got.len == want.len && memcmp(got.p, want.p, got.len) == 0);
		CHECK_EQ(read_file(bv->name, msg, sizeof(msg), &records, NULL, NULL), 0);
		CHECK_EQ(records, 10);
		free(want.p);
		free(got.p);
	}
}

/* channel-0.vms and channel-1.vms, merged, are one-device.vms's device data. */
static void test_channel_vectors_merge(void)
{
	const char *names[2] = { VMT_VECTORS_DIR "/channel-1.vms",
				 VMT_VECTORS_DIR "/channel-0.vms" };
	struct migstream_channel_input in[2];
	struct migstream_channel_set *set;
	struct migstream_record rec;
	uint8_t want[200], got[200];
	uint64_t bytes = 0;
	int ret;

	vector_bytes(want, sizeof(want), 0);
	for (int i = 0; i < 2; i++) {
		in[i].fd = open(names[i], O_RDONLY | O_CLOEXEC);
		in[i].name = names[i];
		CHECK(in[i].fd >= 0);
	}
	if (in[0].fd < 0 || in[1].fd < 0)
		return;
	CHECK_EQ(migstream_channel_set_open(&set, in, 2, NULL), 0);
	while ((ret = migstream_channel_set_next(set, &rec, NULL)) == 1)
		if (rec.type == MIGSTREAM_REC_DATA &&
		    rec.data.offset + rec.data.len <= sizeof(got)) {
			memcpy(got + rec.data.offset, rec.data.data, rec.data.len);
			bytes += rec.data.len;
		}
	CHECK_EQ(ret, 0);
	if (ret)
		printf("#   %s\n", migstream_channel_set_error(set));
	CHECK_EQ(bytes, sizeof(want));
	CHECK(memcmp(got, want, sizeof(want)) == 0);
	migstream_channel_set_free(set);
	close(in[0].fd);
	close(in[1].fd);
}

int main(void)
{
	RUN(test_good_vectors_read);
	RUN(test_deterministic_vectors);
	RUN(test_vector_contents);
	RUN(test_bad_vectors);
	RUN(test_marker_vectors);
	RUN(test_channel_vectors_merge);
	return unit_done();
}
