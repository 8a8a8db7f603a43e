// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The return path's records (lib/stream/reply): encoders and decoders
 * agree, decoders refuse what does not fit (counts, lengths, flags, NULs),
 * the committed reply vectors read back with the expected contents and are
 * still produced byte for byte, and a plain reader refuses a reply stream
 * (its records are critical).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/c.h"
#include "stream/byteorder.h"
#include "stream/reader.h"
#include "stream/reply.h"
#include "gen-vectors.h"
#include "unit.h"

#ifndef VMT_VECTORS_DIR
#error "VMT_VECTORS_DIR must name tests/vectors in the source tree"
#endif

static struct migstream_record rec_of(uint16_t type, const uint8_t *p, uint32_t len)
{
	return (struct migstream_record){
		.type = type, .payload = p, .len = len, .raw_len = len, .stored_len = len
	};
}

static void test_init_data_sent_roundtrip(void)
{
	struct migstream_init_data_sent in = { .device = 3,
					       .generation = 2,
					       .offset = 1000,
					       .initial = 400 },
					out;
	uint8_t buf[MIGSTREAM_INIT_DATA_SENT_LEN];
	struct migstream_record rec = rec_of(MIGSTREAM_REC_INIT_DATA_SENT, buf, sizeof(buf));

	migstream_encode_init_data_sent(&in, buf);
	CHECK_EQ(get_be32(buf + 4), 2);
	CHECK_EQ(migstream_decode_init_data_sent(&rec, &out), 0);
	CHECK_EQ(out.device, 3);
	CHECK_EQ(out.generation, 2);
	CHECK_EQ(out.offset, 1000);
	CHECK_EQ(out.initial, 400);
	rec.len = sizeof(buf) - 1;
	CHECK_EQ(migstream_decode_init_data_sent(&rec, &out), -EBADMSG);
	/* generation 0 and a section longer than the data before it are nonsense */
	rec.len = sizeof(buf);
	put_be32(buf + 4, 0);
	CHECK_EQ(migstream_decode_init_data_sent(&rec, &out), -EBADMSG);
	put_be32(buf + 4, 1);
	put_be64(buf + 16, 1001);
	CHECK_EQ(migstream_decode_init_data_sent(&rec, &out), -EBADMSG);
}

static void test_switchover_ack_roundtrip(void)
{
	struct migstream_switchover_ack in = { .device = 1,
					       .generation = 1,
					       .bytes = 24,
					       .time_ns = 5 },
					out;
	uint8_t buf[MIGSTREAM_SWITCHOVER_ACK_LEN + 8] = { 0 };
	struct migstream_record rec =
		rec_of(MIGSTREAM_REC_SWITCHOVER_ACK, buf, MIGSTREAM_SWITCHOVER_ACK_LEN);

	migstream_encode_switchover_ack(&in, buf);
	CHECK_EQ(migstream_decode_switchover_ack(&rec, &out), 0);
	CHECK_EQ(out.device, 1);
	CHECK_EQ(out.bytes, 24);
	CHECK_EQ(out.time_ns, 5);
	/* a later revision may append fields */
	rec.len = sizeof(buf);
	CHECK_EQ(migstream_decode_switchover_ack(&rec, &out), 0);
	rec.len = MIGSTREAM_SWITCHOVER_ACK_LEN - 1;
	CHECK_EQ(migstream_decode_switchover_ack(&rec, &out), -EBADMSG);
}

static void test_time_probe_roundtrip(void)
{
	struct migstream_time_probe in = { .probe = 7, .t1_ns = 123456789 }, out;
	uint8_t buf[MIGSTREAM_TIME_PROBE_LEN];
	struct migstream_record rec = rec_of(MIGSTREAM_REC_TIME_PROBE, buf, sizeof(buf));

	migstream_encode_time_probe(&in, buf);
	CHECK_EQ(get_be32(buf + 4), 0);
	CHECK_EQ(migstream_decode_time_probe(&rec, &out), 0);
	CHECK_EQ(out.probe, 7);
	CHECK_EQ(out.t1_ns, 123456789);
	/* flags of a later revision are answered all the same */
	put_be32(buf + 4, 0x80000000u);
	CHECK_EQ(migstream_decode_time_probe(&rec, &out), 0);
	rec.len = sizeof(buf) - 1;
	CHECK_EQ(migstream_decode_time_probe(&rec, &out), -EBADMSG);
}

static void test_time_echo_and_sample(void)
{
	/*
	 * The loader's clock 5000 ns ahead; 100 ns out, held 50, 300 back:
	 * the estimate is 200 off, within its bound of delay / 2 = 200.
	 */
	struct migstream_time_echo in = { .probe = 1, .t1_ns = 1000, .t2_ns = 6100, .t3_ns = 6150 },
				   out;
	uint8_t buf[MIGSTREAM_TIME_ECHO_LEN];
	struct migstream_record rec = rec_of(MIGSTREAM_REC_TIME_ECHO, buf, sizeof(buf));
	struct migstream_clock_sample cs;

	CHECK(migstream_reply_type_known(MIGSTREAM_REC_TIME_ECHO));
	migstream_encode_time_echo(&in, buf);
	CHECK_EQ(migstream_decode_time_echo(&rec, &out), 0);
	CHECK_EQ(out.probe, 1);
	CHECK_EQ(out.t1_ns, 1000);
	CHECK_EQ(out.t2_ns, 6100);
	CHECK_EQ(out.t3_ns, 6150);
	CHECK_EQ(migstream_clock_sample(&out, 1450, &cs), 0);
	CHECK_EQ(cs.offset_ns, 4900);
	CHECK_EQ(cs.delay_ns, 400);
	/* a loader clock behind ours gives a negative offset */
	out.t2_ns = 600;
	out.t3_ns = 650;
	CHECK_EQ(migstream_clock_sample(&out, 1450, &cs), 0);
	CHECK_EQ(cs.offset_ns, -600);
	/* a round trip shorter than the loader held the probe: a clock stepped */
	out.t3_ns = 2000;
	CHECK_EQ(migstream_clock_sample(&out, 1450, &cs), -ERANGE);
	CHECK_EQ(migstream_clock_sample(&out, 999, &cs), -ERANGE);
	/* sent before it was read; too short */
	put_be64(buf + 24, 6099);
	CHECK_EQ(migstream_decode_time_echo(&rec, &out), -EBADMSG);
	migstream_encode_time_echo(&in, buf);
	rec.len = sizeof(buf) - 1;
	CHECK_EQ(migstream_decode_time_echo(&rec, &out), -EBADMSG);
}

static struct migstream_load_result res, back;
static uint8_t big[MIGSTREAM_LOAD_RESULT_MAX_LEN];

static void test_load_result_roundtrip(void)
{
	struct migstream_record rec;
	int len;

	memset(&res, 0, sizeof(res));
	res.exit_code = 1;
	res.device_count = MIGSTREAM_MAX_DEVICES;
	for (unsigned int i = 0; i < MIGSTREAM_MAX_DEVICES; i++)
		res.devices[i] = (struct migstream_result_device){
			.device = i, .state = 2, .flags = MIGSTREAM_RESULT_RESET
		};
	memset(res.message, 'x', MIGSTREAM_LOAD_RESULT_MAX_MESSAGE);
	len = migstream_encode_load_result(&res, big, sizeof(big));
	CHECK_EQ(len, MIGSTREAM_LOAD_RESULT_MAX_LEN);
	rec = rec_of(MIGSTREAM_REC_LOAD_RESULT, big, (uint32_t)len);
	CHECK_EQ(migstream_decode_load_result(&rec, &back), 0);
	CHECK_EQ(back.device_count, MIGSTREAM_MAX_DEVICES);
	CHECK_EQ(back.devices[63].device, 63);
	CHECK_EQ(strlen(back.message), MIGSTREAM_LOAD_RESULT_MAX_MESSAGE);
	CHECK_EQ(migstream_encode_load_result(&res, big, sizeof(big) - 1), -ENOSPC);
	res.device_count = MIGSTREAM_MAX_DEVICES + 1;
	CHECK_EQ(migstream_encode_load_result(&res, big, sizeof(big)), -E2BIG);
}

/* Every way a LOAD_RESULT payload can lie about its size or content. */
static void test_load_result_bounds(void)
{
	struct migstream_record rec;
	int len;

	memset(&res, 0, sizeof(res));
	res.device_count = 2;
	res.devices[1].flags = MIGSTREAM_RESULT_LOADED;
	strcpy(res.message, "ok");
	len = migstream_encode_load_result(&res, big, sizeof(big));
	CHECK_EQ(len, 16 + 2 * 16 + 2 + 2);
	rec = rec_of(MIGSTREAM_REC_LOAD_RESULT, big, (uint32_t)len);
	CHECK_EQ(migstream_decode_load_result(&rec, &back), 0);
	CHECK(strcmp(back.message, "ok") == 0);
	/* cut anywhere: refused */
	for (int cut = 0; cut < len; cut++) {
		rec.len = (uint32_t)cut;
		CHECK_EQ(migstream_decode_load_result(&rec, &back), -EBADMSG);
	}
	rec.len = (uint32_t)len;
	/* a count above the limit, whatever follows */
	put_be32(big + 4, MIGSTREAM_MAX_DEVICES + 1);
	CHECK_EQ(migstream_decode_load_result(&rec, &back), -EBADMSG);
	put_be32(big + 4, UINT32_MAX);
	CHECK_EQ(migstream_decode_load_result(&rec, &back), -EBADMSG);
	put_be32(big + 4, 2);
	/* unknown device flags */
	put_be32(big + 16 + 8, 0x80);
	CHECK_EQ(migstream_decode_load_result(&rec, &back), -EBADMSG);
	put_be32(big + 16 + 8, 0);
	/* a message longer than the payload, or holding a NUL */
	put_be16(big + 48, 3);
	CHECK_EQ(migstream_decode_load_result(&rec, &back), -EBADMSG);
	put_be16(big + 48, 2);
	big[50] = '\0';
	CHECK_EQ(migstream_decode_load_result(&rec, &back), -EBADMSG);
}

static int read_reply_vector(const char *name, bool caller_knows, char *msg, size_t msglen)
{
	const struct migstream_reader_opts opts = {
		.caller_knows = caller_knows ? migstream_reply_type_known : NULL
	};
	struct migstream_reader *r;
	struct migstream_record rec;
	char path[4096];
	int fd, ret;

	snprintf(path, sizeof(path), "%s/%s", VMT_VECTORS_DIR, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (migstream_reader_new(&r, fd, name, &opts))
		abort();
	memset(&back, 0, sizeof(back));
	while ((ret = migstream_read_record(r, &rec)) == 1)
		if (rec.type == MIGSTREAM_REC_LOAD_RESULT &&
		    migstream_decode_load_result(&rec, &back))
			CHECK(!"LOAD_RESULT decodes");
	snprintf(msg, msglen, "%s", ret ? migstream_reader_error(r) : "");
	migstream_reader_free(r);
	close(fd);
	return ret;
}

static void test_reply_vectors(void)
{
	char msg[512];

	CHECK_EQ(read_reply_vector("reply-ok.vms", true, msg, sizeof(msg)), 0);
	CHECK_EQ(back.exit_code, 0);
	CHECK_EQ(back.devices[0].flags, MIGSTREAM_RESULT_LOADED | MIGSTREAM_RESULT_IN_STATE);
	CHECK_EQ(read_reply_vector("reply-failed.vms", true, msg, sizeof(msg)), 0);
	CHECK_EQ(back.exit_code, 4);
	CHECK_STR_CONTAINS(back.message, "rejected the loaded state");
	/* a reader that does not know the reply records must not skip them */
	CHECK_EQ(read_reply_vector("reply-ok.vms", false, msg, sizeof(msg)), -EBADMSG);
	CHECK_STR_CONTAINS(
		msg, "record 1 (SWITCHOVER_ACK) at byte 89: unknown critical record type 0x0101");
}

static void test_reply_vectors_reproduced(void)
{
	for (size_t i = 0; i < reply_vectors.count; i++) {
		const struct vector *v = &reply_vectors.items[i];
		char path[4096];
		struct vbuf made;
		uint8_t *file;
		int fd;
		off_t len;

		snprintf(path, sizeof(path), "%s/%s", VMT_VECTORS_DIR, v->name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		CHECK(fd >= 0);
		if (fd < 0)
			continue;
		len = lseek(fd, 0, SEEK_END);
		file = malloc((size_t)len);
		CHECK(file && pread(fd, file, (size_t)len, 0) == len);
		close(fd);
		CHECK_EQ(gen_to_mem(v->gen, &made), 0);
		CHECK_EQ(made.len, (size_t)len);
		CHECK(made.len == (size_t)len && memcmp(made.p, file, made.len) == 0);
		free(made.p);
		free(file);
	}
}

int main(void)
{
	RUN(test_init_data_sent_roundtrip);
	RUN(test_switchover_ack_roundtrip);
	RUN(test_time_probe_roundtrip);
	RUN(test_time_echo_and_sample);
	RUN(test_load_result_roundtrip);
	RUN(test_load_result_bounds);
	RUN(test_reply_vectors);
	RUN(test_reply_vectors_reproduced);
	return unit_done();
}
