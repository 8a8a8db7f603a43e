// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Generates the migstream test vectors in tests/vectors/ (committed: other
 * implementations read them without building this). Everything is
 * deterministic: a fixed STREAM_HEADER (time, host, version) goes through
 * migstream_write_record() first, the data are fixed patterns.
 *
 * gen-vectors-main.c writes them out (gen-vectors DIR); the unit tests link
 * this file's object to check that the writer still produces the committed
 * deterministic vectors byte for byte (see gen-vectors.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <xxhash.h>

#include "common/c.h"
#include "stream/byteorder.h"
#include "stream/migstream.h"
#include "stream/reply.h"
#include "stream/writer.h"

#include "gen-vectors.h"

static int vector_begin(int fd, struct migstream_writer **w, int zstd_level, uint32_t chunk_size)
{
	struct migstream_writer_opts opts = { .producer = "gen-vectors",
					      .zstd_level = zstd_level,
					      .chunk_size = chunk_size };
	struct migstream_stream_header h = { .time_ns = VECTOR_TIME_NS };
	uint8_t payload[512];
	int len, ret;

	strcpy(h.producer, "gen-vectors");
	strcpy(h.producer_version, "1");
	strcpy(h.host, "example");
	ret = migstream_writer_new(w, fd, &opts);
	if (ret)
		return ret;
	len = migstream_encode_stream_header(&h, payload, sizeof(payload));
	if (len < 0)
		return len;
	return migstream_write_record(*w, MIGSTREAM_REC_STREAM_HEADER, 0, payload, (uint32_t)len);
}

static struct migstream_device vector_device(uint32_t index)
{
	struct migstream_device d = {
		.index = index,
		.id_flags = MIGSTREAM_DEV_PCI_IDS,
		.mig_flags = 0x7, /* STOP_COPY | P2P | PRE_COPY */
		.stop_copy_size = 200,
		.vendor = 0x1b36,
		.device = 0x0010,
		.subsys_vendor = 0x1af4,
		.subsys_device = 0x1100,
		.class_code = 0x010802,
		.revision = 2,
	};

	snprintf(d.name, sizeof(d.name), "0000:00:0%u.0", 3 + index);
	strcpy(d.driver, "vfio-pci");
	return d;
}

void vector_bytes(uint8_t *p, size_t len, uint8_t seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 7 + seed);
}

/* minimal.vms: STREAM_HEADER, STREAM_END. */
static int gen_minimal(int fd)
{
	struct migstream_writer *w;
	int ret = vector_begin(fd, &w, 0, 0);

	if (!ret)
		ret = migstream_writer_finish(w);
	migstream_writer_free(w);
	return ret;
}

/*
 * A device, 200 bytes in 64-byte chunks over all three phases, DEVICE_END,
 * STREAM_END; with_info: a PRECOPY_INFO first; with_marker: INIT_DATA_SENT
 * after the 100 initial bytes.
 */
static int gen_device_200(int fd, bool with_info, bool with_marker)
{
	struct migstream_device d = vector_device(0);
	struct migstream_precopy_info pi = { .device = 0,
					     .state = 6,
					     .time_ns = VECTOR_TIME_NS + 1000,
					     .initial_bytes = 100,
					     .dirty_bytes = 30,
					     .stop_copy_size = 70 };
	struct migstream_init_data_sent m = {
		.device = 0, .generation = 1, .offset = 100, .initial = 100
	};
	uint8_t data[200], marker[MIGSTREAM_INIT_DATA_SENT_LEN];
	struct migstream_writer *w;
	int ret;

	vector_bytes(data, sizeof(data), 0);
	migstream_encode_init_data_sent(&m, marker);
	ret = vector_begin(fd, &w, 0, 64);
	if (!ret)
		ret = migstream_write_device(w, &d);
	if (!ret && with_info)
		ret = migstream_write_precopy_info(w, &pi);
	if (!ret)
		ret = migstream_write_data(w, 0, MIGSTREAM_PHASE_PRECOPY_INITIAL, data, 100);
	if (!ret && with_marker)
		ret = migstream_write_record(w, MIGSTREAM_REC_INIT_DATA_SENT,
					     MIGSTREAM_RF_ANCILLARY, marker, sizeof(marker));
	if (!ret)
		ret = migstream_write_data(w, 0, MIGSTREAM_PHASE_PRECOPY_DIRTY, data + 100, 30);
	if (!ret)
		ret = migstream_write_data(w, 0, MIGSTREAM_PHASE_STOP_COPY, data + 130, 70);
	if (!ret)
		ret = migstream_write_device_end(w, 0);
	if (!ret)
		ret = migstream_writer_finish(w);
	migstream_writer_free(w);
	return ret;
}

/* one-device.vms: the device with a PRECOPY_INFO. */
static int gen_one_device(int fd)
{
	return gen_device_200(fd, true, false);
}

/* compressed.vms: two devices, 64 KiB of compressible bytes each, zstd
 * level 3 (DATA compressed, small records stored raw). */
static int gen_compressed(int fd)
{
	struct migstream_device d0 = vector_device(0), d1 = vector_device(1);
	struct migstream_writer *w;
	static uint8_t data[65536];
	int ret;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)((i / 64) % 5);
	ret = vector_begin(fd, &w, 3, 16384);
	if (!ret)
		ret = migstream_write_device(w, &d0);
	if (!ret)
		ret = migstream_write_device(w, &d1);
	if (!ret)
		ret = migstream_write_data(w, 0, MIGSTREAM_PHASE_STOP_COPY, data, sizeof(data));
	if (!ret)
		ret = migstream_write_data(w, 1, MIGSTREAM_PHASE_STOP_COPY, data + 1,
					   sizeof(data) - 1);
	if (!ret)
		ret = migstream_writer_finish(w);
	migstream_writer_free(w);
	return ret;
}

/* dirty-bitmap.vms: one device without data and three DIRTY_BITMAP
 * records: the man page example (RAW), a sparse one (RUNS), an empty one. */
static int gen_dirty_bitmap(int fd)
{
	struct migstream_device d = vector_device(0);
	struct migstream_dirty_bitmap bm = { .source = 0,
					     .time_ns = VECTOR_TIME_NS + 2000,
					     .iova = 0x100000,
					     .page_size = 4096,
					     .page_count = 12 };
	uint64_t example[1] = { 0x20e }, sparse[64] = { 0 }, empty[1] = { 0 };
	struct migstream_writer *w;
	int ret;

	sparse[3] = UINT64_C(0xff) << 8;
	sparse[40] = 1;
	ret = vector_begin(fd, &w, 0, 0);
	if (!ret)
		ret = migstream_write_device(w, &d);
	if (!ret)
		ret = migstream_write_dirty_bitmap(w, &bm, example);
	bm.iova = 0x40000000;
	bm.page_count = 64 * 64;
	if (!ret)
		ret = migstream_write_dirty_bitmap(w, &bm, sparse);
	bm.page_count = 5;
	if (!ret)
		ret = migstream_write_dirty_bitmap(w, &bm, empty);
	if (!ret)
		ret = migstream_write_device_end(w, 0);
	if (!ret)
		ret = migstream_writer_finish(w);
	migstream_writer_free(w);
	return ret;
}

/* unknown-ancillary.vms: a record of type 0x7f00 flagged ancillary, which
 * every v1 reader must skip. */
static int gen_unknown_ancillary(int fd)
{
	static const char note[] = "a record from the future";
	struct migstream_writer *w;
	int ret = vector_begin(fd, &w, 0, 0);

	if (!ret)
		ret = migstream_write_record(w, 0x7f00, MIGSTREAM_RF_ANCILLARY, note,
					     sizeof(note) - 1);
	if (!ret)
		ret = migstream_writer_finish(w);
	migstream_writer_free(w);
	return ret;
}

/*
 * init-data-sent.vms: one-device.vms's device and bytes, with the
 * INIT_DATA_SENT marker after its 100 initial bytes instead of the
 * PRECOPY_INFO (ancillary: a reader without return path support skips it).
 */
static int gen_init_data_sent(int fd)
{
	return gen_device_200(fd, false, true);
}

/* A reply stream: STREAM_HEADER, an optional SWITCHOVER_ACK, LOAD_RESULT, STREAM_END. */
static int gen_reply(int fd, const struct migstream_switchover_ack *ack,
		     const struct migstream_load_result *res)
{
	static uint8_t buf[MIGSTREAM_LOAD_RESULT_MAX_LEN];
	struct migstream_writer *w;
	int len, ret = vector_begin(fd, &w, 0, 0);

	if (!ret && ack) {
		migstream_encode_switchover_ack(ack, buf);
		ret = migstream_write_record(w, MIGSTREAM_REC_SWITCHOVER_ACK, 0, buf,
					     MIGSTREAM_SWITCHOVER_ACK_LEN);
	}
	len = migstream_encode_load_result(res, buf, sizeof(buf));
	if (!ret)
		ret = len < 0 ? len
			      : migstream_write_record(w, MIGSTREAM_REC_LOAD_RESULT, 0, buf,
						       (uint32_t)len);
	if (!ret)
		ret = migstream_writer_finish(w);
	migstream_writer_free(w);
	return ret;
}

/* reply-ok.vms: device 0 acked after its 100 initial bytes, then loaded and RUNNING. */
static int gen_reply_ok(int fd)
{
	static const struct migstream_switchover_ack ack = {
		.device = 0,
		.generation = 1,
		.bytes = 100,
		.time_ns = VECTOR_TIME_NS + 1000000,
	};
	static struct migstream_load_result res = {
		.exit_code = 0,
		.device_count = 1,
		.time_ns = VECTOR_TIME_NS + 2000000,
		.devices = { { .device = 0,
			       .state = 2,
			       .flags = MIGSTREAM_RESULT_LOADED | MIGSTREAM_RESULT_IN_STATE } },
	};

	return gen_reply(fd, &ack, &res);
}

/* reply-failed.vms: the load failed (exit 4), device 0 was reset and is RUNNING. */
static int gen_reply_failed(int fd)
{
	static struct migstream_load_result res = {
		.exit_code = 4,
		.device_count = 1,
		.time_ns = VECTOR_TIME_NS + 2000000,
		.devices = { { .device = 0, .state = 2, .flags = MIGSTREAM_RESULT_RESET } },
		.message =
			"vfio1: the device rejected the loaded state; device vfio1 reset, now RUNNING",
	};

	return gen_reply(fd, NULL, &res);
}

/*
 * channel-0.vms, channel-1.vms: one-device.vms's device and bytes as a set
 * of two channels (set id 00 01 .. 0f): chunks 0, 2, 4 and the
 * PRECOPY_INFO on channel 0, chunks 1 and 3 on channel 1.
 */
static int gen_channel(int fd, uint32_t channel)
{
	struct migstream_channel ch = { .channel = channel, .channel_count = 2 };
	struct migstream_writer_opts opts = { .producer = "gen-vectors", .channel = &ch };
	struct migstream_stream_header h = { .time_ns = VECTOR_TIME_NS };
	struct migstream_device d = vector_device(0);
	struct migstream_precopy_info pi = { .device = 0,
					     .state = 6,
					     .time_ns = VECTOR_TIME_NS + 1000,
					     .initial_bytes = 100,
					     .dirty_bytes = 30,
					     .stop_copy_size = 70 };
	static const struct {
		uint8_t phase;
		uint64_t offset;
		uint32_t len;
	} chunks[] = {
		{ MIGSTREAM_PHASE_PRECOPY_INITIAL, 0, 64 },
		{ MIGSTREAM_PHASE_PRECOPY_INITIAL, 64, 36 },
		{ MIGSTREAM_PHASE_PRECOPY_DIRTY, 100, 30 },
		{ MIGSTREAM_PHASE_STOP_COPY, 130, 64 },
		{ MIGSTREAM_PHASE_STOP_COPY, 194, 6 },
	};
	struct migstream_device_end end = { .device = 0, .total_bytes = 200, .chunk_count = 5 };
	struct migstream_writer *w;
	uint8_t data[200], payload[512];
	int len, ret;

	for (int i = 0; i < MIGSTREAM_SET_ID_LEN; i++)
		ch.set_id[i] = (uint8_t)i;
	vector_bytes(data, sizeof(data), 0);
	end.state_digest = XXH3_64bits(data, sizeof(data));
	strcpy(h.producer, "gen-vectors");
	strcpy(h.producer_version, "1");
	strcpy(h.host, "example");
	ret = migstream_writer_new(&w, fd, &opts);
	if (ret)
		return ret;
	len = migstream_encode_stream_header(&h, payload, sizeof(payload));
	ret = len < 0 ? len
		      : migstream_write_record(w, MIGSTREAM_REC_STREAM_HEADER, 0, payload,
					       (uint32_t)len);
	if (!ret)
		ret = migstream_write_device(w, &d);
	if (!ret && channel == 0)
		ret = migstream_write_precopy_info(w, &pi);
	for (unsigned int k = channel; k < 5 && !ret; k += 2) {
		const struct migstream_chunk c = { .device = 0,
						   .phase = chunks[k].phase,
						   .chunk_index = k,
						   .offset = chunks[k].offset,
						   .len = chunks[k].len,
						   .data = data + chunks[k].offset };

		ret = migstream_write_chunk(w, &c);
	}
	if (!ret)
		ret = migstream_write_device_end_totals(w, &end);
	if (!ret)
		ret = migstream_writer_finish(w);
	migstream_writer_free(w);
	return ret;
}

static int gen_channel_0(int fd)
{
	return gen_channel(fd, 0);
}

static int gen_channel_1(int fd)
{
	return gen_channel(fd, 1);
}

static const struct vector good[] = {
	{ "minimal.vms", gen_minimal, true },
	{ "one-device.vms", gen_one_device, true },
	{ "compressed.vms", gen_compressed, false },
	{ "dirty-bitmap.vms", gen_dirty_bitmap, true },
	{ "unknown-ancillary.vms", gen_unknown_ancillary, true },
	{ "init-data-sent.vms", gen_init_data_sent, true },
	{ "channel-0.vms", gen_channel_0, true },
	{ "channel-1.vms", gen_channel_1, true },
};

static const struct vector replies[] = {
	{ "reply-ok.vms", gen_reply_ok, true },
	{ "reply-failed.vms", gen_reply_failed, true },
};

const struct vector_list good_vectors = { good, ARRAY_SIZE(good) };
const struct vector_list reply_vectors = { replies, ARRAY_SIZE(replies) };

int gen_to_mem(int (*gen)(int fd), struct vbuf *out)
{
	int fd = memfd_create("vector", MFD_CLOEXEC), ret;
	off_t len;

	out->p = NULL;
	out->len = 0;
	if (fd < 0)
		return -errno;
	ret = gen(fd);
	len = lseek(fd, 0, SEEK_END);
	if (!ret && len > 0) {
		out->p = malloc((size_t)len);
		if (!out->p || pread(fd, out->p, (size_t)len, 0) != len)
			ret = -EIO;
		else
			out->len = (size_t)len;
	}
	close(fd);
	return ret;
}

size_t vector_record_offset(const struct vbuf *b, unsigned int idx)
{
	size_t off = MIGSTREAM_PREAMBLE_LEN;
	struct migstream_record_header h;

	while (idx--) {
		migstream_decode_record_header(b->p + off, &h);
		off += MIGSTREAM_RECORD_HEADER_LEN + h.stored_len;
	}
	return off;
}

/* Both checks again after an edit of record idx's header or payload. */
static void vector_reseal(struct vbuf *b, unsigned int idx)
{
	uint8_t *hdr = b->p + vector_record_offset(b, idx);
	struct migstream_record_header h;

	migstream_decode_record_header(hdr, &h);
	h.payload_check = XXH3_64bits(hdr + MIGSTREAM_RECORD_HEADER_LEN, h.stored_len);
	migstream_encode_record_header(&h, hdr);
}

/*
 * Corrupt variants of one-device.vms (records: 0 STREAM_HEADER, 1 DEVICE,
 * 2 PRECOPY_INFO, 3..7 DATA, 8 DEVICE_END, 9 STREAM_END), each with the
 * error a reader must report; tests/vectors/README lists them too.
 */

static void spoil_payload(struct vbuf *b)
{
	b->p[vector_record_offset(b, 4) + MIGSTREAM_RECORD_HEADER_LEN + 30] ^= 0x01;
}

static void spoil_header(struct vbuf *b)
{
	b->p[vector_record_offset(b, 3) + 8] ^= 0x01; /* stored_len */
}

static void spoil_truncate(struct vbuf *b)
{
	b->len = vector_record_offset(b, 6) + MIGSTREAM_RECORD_HEADER_LEN + 10;
}

static void spoil_digest(struct vbuf *b)
{
	b->p[vector_record_offset(b, 8) + MIGSTREAM_RECORD_HEADER_LEN + 31] ^= 0x01;
	vector_reseal(b, 8);
}

static void spoil_chunk_order(struct vbuf *b)
{
	/* chunk_index of the second chunk: 1 becomes 2 */
	b->p[vector_record_offset(b, 4) + MIGSTREAM_RECORD_HEADER_LEN + 15] = 2;
	vector_reseal(b, 4);
}

static void spoil_critical(struct vbuf *b)
{
	/* PRECOPY_INFO becomes an unknown type without the ancillary flag */
	uint8_t *hdr = b->p + vector_record_offset(b, 2);
	struct migstream_record_header h;

	migstream_decode_record_header(hdr, &h);
	h.type = 0x7f01;
	h.flags = 0;
	migstream_encode_record_header(&h, hdr);
}

static void spoil_no_end(struct vbuf *b)
{
	b->len = vector_record_offset(b, 9);
}

/*
 * Corrupt variants of channel-1.vms (records: 0 STREAM_HEADER, 1 CHANNEL,
 * 2 DEVICE, 3 DATA, 4 DATA, 5 DEVICE_END, 6 STREAM_END): the CHANNEL rules.
 */
static void spoil_channel_field(struct vbuf *b, unsigned int at, uint32_t v)
{
	put_be32(b->p + vector_record_offset(b, 1) + MIGSTREAM_RECORD_HEADER_LEN + at, v);
	vector_reseal(b, 1);
}

static void spoil_channel_count(struct vbuf *b)
{
	spoil_channel_field(b, 20, 0);
}

static void spoil_channel_beyond(struct vbuf *b)
{
	spoil_channel_field(b, 16, 2);
}

static void spoil_channel_flags(struct vbuf *b)
{
	spoil_channel_field(b, 24, 1);
}

/* CHANNEL and DEVICE change places (and seq numbers): CHANNEL is record 2. */
static void spoil_channel_not_second(struct vbuf *b)
{
	size_t r1 = vector_record_offset(b, 1), r2 = vector_record_offset(b, 2),
	       r3 = vector_record_offset(b, 3);
	uint8_t *tmp = malloc(r3 - r1);
	struct migstream_record_header h;

	if (!tmp)
		abort();
	memcpy(tmp, b->p + r2, r3 - r2);
	memcpy(tmp + (r3 - r2), b->p + r1, r2 - r1);
	memcpy(b->p + r1, tmp, r3 - r1);
	free(tmp);
	for (unsigned int i = 1; i <= 2; i++) {
		uint8_t *hdr = b->p + vector_record_offset(b, i);

		migstream_decode_record_header(hdr, &h);
		h.seq = i;
		migstream_encode_record_header(&h, hdr);
	}
}

static const struct bad_vector bad_channel[] = {
	{ "channel-not-second.vms", gen_channel_1, 2, "CHANNEL",
	  "CHANNEL is not the second record (it must follow STREAM_HEADER)",
	  spoil_channel_not_second },
	{ "channel-count-0.vms", gen_channel_1, 1, "CHANNEL", "channel count 0 (must be 1..64)",
	  spoil_channel_count },
	{ "channel-beyond.vms", gen_channel_1, 1, "CHANNEL",
	  "channel 2 of 2 (must be below the count)", spoil_channel_beyond },
	{ "channel-flags.vms", gen_channel_1, 1, "CHANNEL", "unknown CHANNEL flags 0x00000001",
	  spoil_channel_flags },
};

/*
 * Variants of init-data-sent.vms (records: 0 STREAM_HEADER, 1 DEVICE, 2 and
 * 3 DATA, 4 INIT_DATA_SENT, 5..7 DATA, 8 DEVICE_END, 9 STREAM_END): an
 * error inside the marker is reported under the marker's name.
 */
static void spoil_marker_payload(struct vbuf *b)
{
	b->p[vector_record_offset(b, 4) + MIGSTREAM_RECORD_HEADER_LEN + 10] ^= 0x01;
}

/* initial 101 beyond offset 100: bytes a plain reader skips, a return path's loader refuses */
static void spoil_marker_initial(struct vbuf *b)
{
	put_be64(b->p + vector_record_offset(b, 4) + MIGSTREAM_RECORD_HEADER_LEN + 16, 101);
	vector_reseal(b, 4);
}

static const struct bad_vector bad_marker[] = {
	{ "bad-init-data-sent.vms", gen_init_data_sent, 4, "INIT_DATA_SENT",
	  "payload checksum mismatch", spoil_marker_payload },
};

static const struct bad_vector marker[] = {
	{ "init-data-sent-beyond.vms", gen_init_data_sent, 4, "INIT_DATA_SENT",
	  "initial beyond offset", spoil_marker_initial },
};

static const struct bad_vector bad_one_device[] = {
	{ "bad-payload-check.vms", gen_one_device, 4, "DATA", "payload checksum mismatch",
	  spoil_payload },
	{ "bad-header-check.vms", gen_one_device, 3, NULL, "record header check mismatch",
	  spoil_header },
	{ "truncated.vms", gen_one_device, 6, "DATA", "truncated payload (10 of 88 bytes)",
	  spoil_truncate },
	{ "bad-digest.vms", gen_one_device, 8, "DEVICE_END", "device 0: state digest mismatch",
	  spoil_digest },
	{ "chunk-order.vms", gen_one_device, 4, "DATA",
	  "device 0: chunk 2 out of order, expected chunk 1", spoil_chunk_order },
	{ "unknown-critical.vms", gen_one_device, 2, "UNKNOWN",
	  "unknown critical record type 0x7f01", spoil_critical },
	{ "no-stream-end.vms", gen_one_device, 9, NULL, "truncated: end of file before STREAM_END",
	  spoil_no_end },
};

const struct variant_list bad_vectors = { bad_one_device, ARRAY_SIZE(bad_one_device) };
const struct variant_list bad_channel_vectors = { bad_channel, ARRAY_SIZE(bad_channel) };
const struct variant_list bad_marker_vectors = { bad_marker, ARRAY_SIZE(bad_marker) };
const struct variant_list marker_vectors = { marker, ARRAY_SIZE(marker) };

int vector_make_variant(const struct bad_vector *bv, struct vbuf *out)
{
	int ret = gen_to_mem(bv->base, out);

	if (!ret)
		bv->spoil(out);
	return ret;
}
