// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Test streams for migstream-cat's tests: every record type, two devices,
 * all three phases, dirty bitmaps in both encodings, an unknown ancillary
 * record, and a fixed STREAM_HEADER (time, host) so listings can be
 * compared byte for byte with golden files.
 *
 * Usage: migstream-cat-mkstream [-z LEVEL] [-c] [-u] [-i IOVA] > stream
 *   -z LEVEL  zstd compression; -c  compressible device data;
 *   -u        an unknown critical record (type 200) that readers must refuse
 *   -i IOVA   the first dirty bitmap at IOVA (default 0x100000), the second
 *             1 MiB after it (wrapped to 64 bits); pages that run past
 *             2^64 make a stream every reader must refuse
 *   -a        a SWITCHOVER_ACK among the forward records (a reply record
 *             where it does not belong)
 *   -n NAME   device 1's name (default a UUID; device 0 is 0000:00:04.0)
 *
 * Or a reply stream (migstream(5), RETURN PATH), with -R LIST: STREAM_HEADER,
 * then the comma-separated records of LIST in order, STREAM_END:
 *   ack     SWITCHOVER_ACK of device 0, generation 1
 *   result  LOAD_RESULT, exit 0, device 0 RUNNING LOADED|IN_STATE
 *   failed  LOAD_RESULT, exit 4, device 0 reset, a message with an ESC in it
 *   badflags LOAD_RESULT with an unknown flag bit (does not decode)
 *   device  a DEVICE record
 *   future  an unknown ancillary record
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stream/dirty-bitmap.h"
#include "stream/migstream.h"
#include "stream/reply.h"
#include "stream/writer.h"

#define FIXED_TIME_NS 1700000000000000000ull
#define PAGES 4096

static uint8_t *pattern(size_t len, uint32_t seed, bool compressible)
{
	uint8_t *buf = malloc(len);

	for (size_t i = 0; buf && i < len; i++) {
		seed = seed * 1103515245u + 12345u;
		buf[i] = compressible ? (uint8_t)("migstream "[i % 10]) : (uint8_t)(seed >> 16);
	}
	return buf;
}

static int fail(const char *what, int rc)
{
	fprintf(stderr, "migstream-cat-mkstream: %s: %s\n", what, strerror(-rc));
	exit(1);
}

#define CHECK(call)                       \
	do {                              \
		int rc_ = (call);         \
		if (rc_ < 0)              \
			fail(#call, rc_); \
	} while (0)

static void write_data(struct migstream_writer *w, uint32_t dev, enum migstream_phase phase,
		       size_t len, uint32_t seed, bool compressible)
{
	uint8_t *buf = pattern(len, seed, compressible);

	if (!buf)
		fail("malloc", -12);
	CHECK(migstream_write_data(w, dev, phase, buf, len));
	free(buf);
}

static void write_bitmap(struct migstream_writer *w, uint64_t iova, bool dense)
{
	static uint64_t bits[PAGES / 64];
	struct migstream_dirty_bitmap info = {
		.source = 0,
		.time_ns = FIXED_TIME_NS + 500,
		.iova = iova,
		.page_size = 4096,
		.page_count = PAGES,
	};
	uint32_t seed = 7;

	memset(bits, 0, sizeof(bits));
	for (unsigned int i = 0; i < PAGES; i++) {
		seed = seed * 1103515245u + 12345u;
		/* sparse: a few runs (RUNS wins); dense: random bits (RAW wins) */
		bool dirty = dense ? (seed >> 16) & 1
				   : (i >= 16 && i < 19) || i == 100 || (i >= 4000 && i < 4096);

		if (dirty)
			bits[i / 64] |= 1ull << (i % 64);
	}
	if (dirty_bitmap_within_iova_space(iova, info.page_size, info.page_count)) {
		CHECK(migstream_write_dirty_bitmap(w, &info, bits));
		return;
	}
	/* The writer refuses pages past 2^64; readers must refuse them too. */
	static uint8_t payload[MIGSTREAM_BITMAP_PREFIX_LEN + PAGES / 8];
	ssize_t len = dirty_bitmap_encode(bits, PAGES, payload + MIGSTREAM_BITMAP_PREFIX_LEN,
					  sizeof(payload) - MIGSTREAM_BITMAP_PREFIX_LEN,
					  &info.encoding, &info.dirty_count);

	CHECK((int)len);
	migstream_encode_bitmap_prefix(&info, payload);
	CHECK(migstream_write_record(w, MIGSTREAM_REC_DIRTY_BITMAP, MIGSTREAM_RF_ANCILLARY, payload,
				     (uint32_t)(MIGSTREAM_BITMAP_PREFIX_LEN + len)));
}

static void write_reply_record(struct migstream_writer *w, const char *what)
{
	static const struct migstream_switchover_ack ack = {
		.device = 0,
		.generation = 1,
		.bytes = 10000,
		.time_ns = FIXED_TIME_NS + 1000,
	};
	static struct migstream_load_result res = {
		.device_count = 1,
		.time_ns = FIXED_TIME_NS + 2000,
		.devices = { { .device = 0, .state = 2 /* RUNNING */ } },
	};
	static const struct migstream_device dev = { .index = 0, .mig_flags = 1, .name = "vfio0" };
	static uint8_t buf[MIGSTREAM_LOAD_RESULT_MAX_LEN];
	int len;

	if (strcmp(what, "ack") == 0) {
		migstream_encode_switchover_ack(&ack, buf);
		CHECK(migstream_write_record(w, MIGSTREAM_REC_SWITCHOVER_ACK, 0, buf,
					     MIGSTREAM_SWITCHOVER_ACK_LEN));
		return;
	}
	if (strcmp(what, "device") == 0) {
		CHECK(migstream_write_device(w, &dev));
		return;
	}
	if (strcmp(what, "future") == 0) {
		CHECK(migstream_write_record(w, 100, MIGSTREAM_RF_ANCILLARY, "future", 6));
		return;
	}
	res.exit_code = strcmp(what, "failed") == 0 ? 4 : 0;
	res.devices[0].flags = strcmp(what, "failed") == 0
				       ? MIGSTREAM_RESULT_RESET
				       : MIGSTREAM_RESULT_LOADED | MIGSTREAM_RESULT_IN_STATE;
	snprintf(res.message, sizeof(res.message), "%s",
		 res.exit_code ? "vfio1: rejected \033[2J" : "");
	len = migstream_encode_load_result(&res, buf, sizeof(buf));
	CHECK(len);
	if (strcmp(what, "badflags") == 0)
		buf[MIGSTREAM_LOAD_RESULT_FIXED_LEN + 11] |= 0x08; /* entry 0's flags: bit 3 */
	else if (strcmp(what, "result") != 0 && strcmp(what, "failed") != 0)
		exit(2);
	CHECK(migstream_write_record(w, MIGSTREAM_REC_LOAD_RESULT, 0, buf, (uint32_t)len));
}

/* -R LIST: a reply stream. */
static int write_reply_stream(struct migstream_writer *w, char *list)
{
	for (char *save = NULL, *what = strtok_r(list, ",", &save); what;
	     what = strtok_r(NULL, ",", &save))
		write_reply_record(w, what);
	CHECK(migstream_writer_finish(w));
	migstream_writer_free(w);
	return 0;
}

int main(int argc, char **argv)
{
	struct migstream_writer_opts opts = { .producer = "mkstream", .chunk_size = 4096 };
	struct migstream_stream_header hdr = {
		.time_ns = FIXED_TIME_NS,
		.producer = "mkstream",
		.producer_version = "1.0",
		.host = "testhost",
	};
	static struct migstream_device dev0 = {
		.index = 0,
		.id_flags = MIGSTREAM_DEV_PCI_IDS,
		.mig_flags = 0x5, /* STOP_COPY | PRE_COPY */
		.stop_copy_size = 20000,
		.vendor = 0x1af4,
		.device = 0x1041,
		.subsys_vendor = 0x1af4,
		.subsys_device = 0x1100,
		.class_code = 0x020000,
		.revision = 1,
		.name = "0000:00:04.0",
		.driver = "vfio-pci",
	};
	static struct migstream_device dev1 = {
		.index = 1,
		.mig_flags = 0x1,
		.stop_copy_size = MIGSTREAM_SIZE_UNKNOWN,
		.name = "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001",
		.driver = "mtty",
		.mdev_type = "mtty-2",
	};
	struct migstream_precopy_info info = {
		.device = 0,
		.state = 6 /* VFIO_DEVICE_STATE_PRE_COPY */,
		.time_ns = FIXED_TIME_NS + 100,
		.initial_bytes = 10000,
		.dirty_bytes = 0,
		.stop_copy_size = 20000,
	};
	struct migstream_writer *w;
	uint8_t hbuf[512];
	bool compressible = false, unknown_critical = false, reply_record = false;
	char *reply_list = NULL;
	uint64_t iova = 0x100000;
	int opt, len;

	while ((opt = getopt(argc, argv, "z:cui:aR:n:")) != -1) {
		if (opt == 'n')
			snprintf(dev1.name, sizeof(dev1.name), "%s", optarg);
		else if (opt == 'a')
			reply_record = true;
		else if (opt == 'R')
			reply_list = optarg;
		else if (opt == 'i')
			iova = strtoull(optarg, NULL, 0);
		else if (opt == 'z')
			opts.zstd_level = atoi(optarg);
		else if (opt == 'c')
			compressible = true;
		else if (opt == 'u')
			unknown_critical = true;
		else
			return 2;
	}
	if (isatty(STDOUT_FILENO))
		return 2;
	CHECK(migstream_writer_new(&w, STDOUT_FILENO, &opts));
	len = migstream_encode_stream_header(&hdr, hbuf, sizeof(hbuf));
	CHECK(len);
	CHECK(migstream_write_record(w, MIGSTREAM_REC_STREAM_HEADER, 0, hbuf, (uint32_t)len));
	if (reply_list)
		return write_reply_stream(w, reply_list);
	if (unknown_critical)
		CHECK(migstream_write_record(w, 200, 0, "critical", 8));
	CHECK(migstream_write_device(w, &dev0));
	CHECK(migstream_write_device(w, &dev1));
	CHECK(migstream_write_precopy_info(w, &info));
	if (reply_record)
		write_reply_record(w, "ack");
	write_data(w, 0, MIGSTREAM_PHASE_PRECOPY_INITIAL, 10000, 1, compressible);
	write_bitmap(w, iova, false);
	info.time_ns += 100;
	info.initial_bytes = 0;
	info.dirty_bytes = 5000;
	CHECK(migstream_write_precopy_info(w, &info));
	write_data(w, 0, MIGSTREAM_PHASE_PRECOPY_DIRTY, 5000, 2, compressible);
	write_bitmap(w, iova + 0x100000, true);
	CHECK(migstream_write_record(w, 100, MIGSTREAM_RF_ANCILLARY, "future", 6));
	write_data(w, 0, MIGSTREAM_PHASE_STOP_COPY, 20000, 3, compressible);
	write_data(w, 1, MIGSTREAM_PHASE_STOP_COPY, 3000, 4, compressible);
	CHECK(migstream_write_device_end(w, 0));
	CHECK(migstream_write_device_end(w, 1));
	CHECK(migstream_writer_finish(w));
	migstream_writer_free(w);
	return 0;
}
