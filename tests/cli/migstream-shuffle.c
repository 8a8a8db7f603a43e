// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * migstream-shuffle: reads a valid migstream and writes it back with the
 * DATA records of each device permuted within windows of W records, as a
 * sender that spreads chunks over several channels would deliver them.
 * Everything else stays valid: records are renumbered (seq), their header
 * checks recomputed, payloads (compressed or not) and their checks kept,
 * and STREAM_END rewritten with the new totals. Only the order (and with
 * -D/-x, the set) of DATA records changes, so a reader with unordered_data
 * must accept the result unless a chunk was repeated or dropped.
 *
 * Usage: migstream-shuffle [-w W] [-s SEED] [-D CHUNK] [-x CHUNK] [-g] [-i INDEX] < in > out
 *   -w W      window in DATA records per device (default 4); W = 1 copies
 *   -s SEED   a pseudo-random permutation of each window (default: each
 *             window reversed, so holding W - 1 chunks puts it back)
 *   -D CHUNK  send chunk CHUNK of every device twice (in the same window)
 *   -x CHUNK  drop chunk CHUNK of every device
 *   -g        a wrong state digest in every DEVICE_END (its checks redone):
 *             only a reader or loader that hashes the bytes finds it
 *   -i INDEX  stream device 0 becomes device INDEX (its DEVICE, DATA and
 *             DEVICE_END payloads and their checks rewritten; uncompressed
 *             records only)
 *
 * Non-DATA records end the windows before them: DEVICE_END still follows
 * all of its device's DATA. A test helper: errors go to stderr, exit 1.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xxhash.h>

#include "stream/byteorder.h"
#include "stream/migstream.h"
#include "stream/reader.h"

struct held_record {
	uint8_t *bytes; /* header and stored payload */
	size_t len;
};

struct device_window {
	uint32_t index;
	struct held_record *held;
	unsigned int count;
};

static struct device_window windows[MIGSTREAM_MAX_DEVICES];
static unsigned int window_count;
static unsigned int window_size = 4;
static uint64_t seed;
static bool random_order;
static int64_t repeat_chunk = -1, drop_chunk = -1;
static bool spoil_digest;
static int64_t new_index = -1;

/* What the tee saw since the last record: the record's bytes (and the preamble first). */
static uint8_t *captured;
static size_t captured_len, captured_cap;

static uint32_t out_seq;
static uint64_t out_payload_bytes;

static void die(const char *what)
{
	fprintf(stderr, "migstream-shuffle: %s\n", what);
	exit(1);
}

static void *xmalloc(size_t len)
{
	void *p = malloc(len ? len : 1);

	if (!p)
		die("out of memory");
	return p;
}

static int capture(void *ctx, const void *buf, size_t len)
{
	if (captured_len + len > captured_cap) {
		captured_cap = (captured_len + len) * 2;
		captured = realloc(captured, captured_cap);
		if (!captured)
			return -ENOMEM;
	}
	memcpy(captured + captured_len, buf, len);
	captured_len += len;
	return 0;
}

static void write_all(const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = write(STDOUT_FILENO, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die("write error");
		p += n;
		len -= (size_t)n;
	}
}

/* A record goes out under the next seq; its header check follows the new seq. */
static void emit(uint8_t *bytes, size_t len)
{
	struct migstream_record_header h;

	migstream_decode_record_header(bytes, &h);
	h.seq = out_seq++;
	migstream_encode_record_header(&h, bytes);
	out_payload_bytes += h.stored_len;
	write_all(bytes, len);
}

/* A record of our own making: an uncompressed payload after its header in out. */
static void emit_new(uint16_t type, uint8_t *out, uint32_t payload_len)
{
	const struct migstream_record_header h = {
		.type = type,
		.stored_len = payload_len,
		.raw_len = payload_len,
		.payload_check = XXH3_64bits(out + MIGSTREAM_RECORD_HEADER_LEN, payload_len),
	};

	migstream_encode_record_header(&h, out);
	emit(out, MIGSTREAM_RECORD_HEADER_LEN + payload_len);
}

/* -i: the device index leads the payload of DEVICE, DATA and DEVICE_END. */
static void renumber(const struct migstream_record *rec, uint8_t *bytes)
{
	uint8_t *payload = bytes + MIGSTREAM_RECORD_HEADER_LEN;
	struct migstream_record_header h;

	if (new_index < 0 ||
	    (rec->type != MIGSTREAM_REC_DEVICE && rec->type != MIGSTREAM_REC_DATA &&
	     rec->type != MIGSTREAM_REC_DEVICE_END))
		return;
	if (rec->flags & MIGSTREAM_RF_ZSTD)
		die("-i: compressed records are not rewritten");
	if (get_be32(payload) != 0)
		return;
	put_be32(payload, (uint32_t)new_index);
	migstream_decode_record_header(bytes, &h);
	h.payload_check = XXH3_64bits(payload, rec->stored_len);
	migstream_encode_record_header(&h, bytes);
}

static uint64_t next_random(void)
{
	seed = seed * 6364136223846793005ull + 1442695040888963407ull;
	return seed >> 33;
}

static void flush_window(struct device_window *w)
{
	struct held_record *h = w->held;
	unsigned int n = w->count;

	if (random_order) {
		for (unsigned int i = n; i > 1; i--) {
			unsigned int j = (unsigned int)(next_random() % i);
			struct held_record t = h[i - 1];

			h[i - 1] = h[j];
			h[j] = t;
		}
	} else {
		for (unsigned int i = 0; i < n / 2; i++) {
			struct held_record t = h[i];

			h[i] = h[n - 1 - i];
			h[n - 1 - i] = t;
		}
	}
	for (unsigned int i = 0; i < n; i++) {
		emit(h[i].bytes, h[i].len);
		free(h[i].bytes);
	}
	w->count = 0;
}

static struct device_window *window_for(uint32_t index)
{
	for (unsigned int i = 0; i < window_count; i++)
		if (windows[i].index == index)
			return &windows[i];
	if (window_count == MIGSTREAM_MAX_DEVICES)
		die("too many devices");
	windows[window_count] = (struct device_window){ .index = index };
	windows[window_count].held = xmalloc(window_size * sizeof(struct held_record));
	return &windows[window_count++];
}

static void hold(struct device_window *w, const uint8_t *bytes, size_t len)
{
	uint8_t *copy = xmalloc(len);

	memcpy(copy, bytes, len);
	w->held[w->count++] = (struct held_record){ .bytes = copy, .len = len };
	if (w->count == window_size)
		flush_window(w);
}

static void handle_data(const struct migstream_record *rec, uint8_t *bytes, size_t len)
{
	struct device_window *w;

	if ((int64_t)rec->data.chunk_index == drop_chunk)
		return;
	w = window_for(rec->data.device);
	hold(w, bytes, len);
	if ((int64_t)rec->data.chunk_index == repeat_chunk)
		hold(w, bytes, len);
}

static void emit_stream_end(const struct migstream_record *rec)
{
	uint8_t out[MIGSTREAM_RECORD_HEADER_LEN + MIGSTREAM_STREAM_END_LEN];
	struct migstream_stream_end end = rec->stream_end;

	end.record_count = out_seq;
	end.payload_bytes = out_payload_bytes;
	migstream_encode_stream_end(&end, out + MIGSTREAM_RECORD_HEADER_LEN);
	emit_new(MIGSTREAM_REC_STREAM_END, out, MIGSTREAM_STREAM_END_LEN);
}

/* DEVICE_END as read (decompressed) goes out uncompressed, digest flipped. */
static void emit_spoiled_device_end(const struct migstream_record *rec)
{
	uint8_t out[MIGSTREAM_RECORD_HEADER_LEN + MIGSTREAM_DEVICE_END_LEN];
	struct migstream_device_end end = rec->device_end;

	end.state_digest ^= 1;
	migstream_encode_device_end(&end, out + MIGSTREAM_RECORD_HEADER_LEN);
	emit_new(MIGSTREAM_REC_DEVICE_END, out, MIGSTREAM_DEVICE_END_LEN);
}

static uint64_t parse_number(const char *arg)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(arg, &end, 10);
	if (errno || end == arg || *end)
		die("bad number");
	return v;
}

int main(int argc, char **argv)
{
	const struct migstream_reader_opts opts = { .tee = capture };
	struct migstream_reader *r;
	struct migstream_record rec;
	int opt, rc;

	while ((opt = getopt(argc, argv, "w:s:D:x:gi:")) != -1) {
		switch (opt) {
		case 'w':
			window_size = (unsigned int)parse_number(optarg);
			if (window_size < 1 || window_size > 1u << 20)
				die("-w: 1 to 1048576 records");
			break;
		case 's':
			seed = parse_number(optarg);
			random_order = true;
			break;
		case 'D':
			repeat_chunk = (int64_t)parse_number(optarg);
			break;
		case 'x':
			drop_chunk = (int64_t)parse_number(optarg);
			break;
		case 'g':
			spoil_digest = true;
			break;
		case 'i':
			new_index = (int64_t)parse_number(optarg);
			if (new_index > UINT32_MAX)
				die("-i: a u32");
			break;
		default:
			fprintf(stderr,
				"Usage: migstream-shuffle [-w W] [-s SEED] [-D CHUNK] [-x CHUNK] [-g] [-i INDEX] "
				"< in > out\n");
			return 2;
		}
	}
	/* a repeated chunk takes two places in its window */
	if (repeat_chunk >= 0 && window_size < 2)
		die("-D needs -w 2 or more");

	if (migstream_reader_new(&r, STDIN_FILENO, "<stdin>", &opts))
		die("out of memory");
	for (;;) {
		size_t len;
		uint8_t *bytes;

		captured_len = 0;
		rc = migstream_read_record(r, &rec);
		if (rc <= 0)
			break;
		len = MIGSTREAM_RECORD_HEADER_LEN + rec.stored_len;
		bytes = captured + captured_len - len;
		if (captured_len > len)
			write_all(captured, captured_len - len); /* the preamble */
		renumber(&rec, bytes);
		if (rec.type == MIGSTREAM_REC_DATA) {
			handle_data(&rec, bytes, len);
			continue;
		}
		for (unsigned int i = 0; i < window_count; i++)
			flush_window(&windows[i]);
		if (rec.type == MIGSTREAM_REC_DEVICE_END && spoil_digest)
			emit_spoiled_device_end(&rec);
		else if (rec.type == MIGSTREAM_REC_STREAM_END)
			emit_stream_end(&rec);
		else
			emit(bytes, len);
	}
	if (rc < 0) {
		fprintf(stderr, "migstream-shuffle: %s\n", migstream_reader_error(r));
		return 1;
	}
	migstream_reader_free(r);
	for (unsigned int i = 0; i < window_count; i++)
		free(windows[i].held);
	free(captured);
	return 0;
}
