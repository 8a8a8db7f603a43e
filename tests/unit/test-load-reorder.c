// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The reorder buffer of vfio-mig-load, checked directly: chunks offered out
 * of order come out in order, within the buffer limit, and repeats or wrong
 * offsets are refused.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "../../tools/vfio-mig-load/reorder.h"
#include "unit.h"

static struct load_chunk chunk(uint64_t index, uint64_t offset, const uint8_t *data, uint32_t len)
{
	return (struct load_chunk){
		.chunk_index = index, .offset = offset, .data = data, .len = len
	};
}

/* What the loader does with a chunk that may be written: it, then every kept one now ready. */
static size_t write_in_order(struct load_reorder *ro, const struct load_chunk *in, uint8_t *out,
			     size_t got)
{
	struct load_chunk c;

	memcpy(out + got, in->data, in->len);
	got += in->len;
	load_reorder_advance(ro, in->len);
	while (load_reorder_next_ready(ro, &c) == 1) {
		memcpy(out + got, c.data, c.len);
		got += c.len;
		load_reorder_advance(ro, c.len);
	}
	return got;
}

/* Chunks 0..3 of 4 bytes each offered as 2, 0, 3, 1 come out 0, 1, 2, 3. */
static void test_reorders(void)
{
	static const uint8_t bytes[16] = "0000111122223333";
	struct load_reorder *ro;
	uint8_t out[16];
	size_t got = 0;
	static const int order[] = { 2, 0, 3, 1 };

	/* room for two chunks of 4 bytes, their entries and malloc's overhead */
	CHECK(load_reorder_new(&ro, 2 * load_reorder_chunk_cost(4)) == 0);
	for (int i = 0; i < 4; i++) {
		int k = order[i];
		struct load_chunk in = chunk(k, 4 * k, bytes + 4 * k, 4);
		int rc = load_reorder_offer(ro, &in);

		CHECK(rc >= 0);
		if (rc == 1)
			got = write_in_order(ro, &in, out, got);
	}
	CHECK(got == 16);
	CHECK(memcmp(out, bytes, 16) == 0);
	CHECK(load_reorder_pending(ro) == 0);
	CHECK(load_reorder_peak(ro) == 2 * load_reorder_chunk_cost(4));
	CHECK(load_reorder_next_index(ro) == 4);
	load_reorder_free(ro);
}

static void test_limits_and_errors(void)
{
	static const uint8_t bytes[8] = "abcdefgh";
	struct load_reorder *ro;
	struct load_chunk in;

	/* Limit 0: in-order only, copies nothing. */
	CHECK(load_reorder_new(&ro, 0) == 0);
	in = chunk(1, 4, bytes, 4);
	CHECK(load_reorder_offer(ro, &in) == -ENOBUFS);
	in = chunk(0, 0, bytes, 4);
	CHECK(load_reorder_offer(ro, &in) == 1);
	load_reorder_advance(ro, 4);
	/* A repeat of a written chunk, and a wrong offset for the next one. */
	CHECK(load_reorder_offer(ro, &in) == -EBADMSG);
	in = chunk(1, 5, bytes, 4);
	CHECK(load_reorder_offer(ro, &in) == -EBADMSG);
	load_reorder_free(ro);

	/* A waiting duplicate, and a waiting chunk whose offset turns out wrong. */
	CHECK(load_reorder_new(&ro, 64) == 0);
	in = chunk(2, 8, bytes, 4);
	CHECK(load_reorder_offer(ro, &in) == 0);
	CHECK(load_reorder_offer(ro, &in) == -EBADMSG);
	in = chunk(0, 0, bytes, 2);
	CHECK(load_reorder_offer(ro, &in) == 1);
	load_reorder_advance(ro, 2);
	in = chunk(1, 2, bytes, 2);
	CHECK(load_reorder_offer(ro, &in) == 1);
	load_reorder_advance(ro, 2);
	{
		struct load_chunk c;

		/* chunk 2 claims offset 8, the bytes before it end at 4 */
		CHECK(load_reorder_next_ready(ro, &c) == -EBADMSG);
	}
	load_reorder_free(ro);
}

/*
 * Buffers of written chunks are reused for later early ones: chunks of
 * varying lengths, each window of 5 reversed, come out intact and in
 * order (a reused buffer never hands out stale or foreign bytes), and the
 * tail fast path and the walk give the same order.
 */
static void test_buffer_reuse(void)
{
	enum {
		N = 200,
		WINDOW = 5
	};
	/* inserted in the middle of the list; appended at its tail */
	static const int order[2][WINDOW] = { { 4, 1, 2, 3, 0 }, { 1, 2, 3, 4, 0 } };
	static uint8_t in[N * 64], out[N * 64];
	uint64_t offset[N + 1] = { 0 };
	uint32_t len[N];
	struct load_reorder *ro;
	uint32_t seed = 1;
	size_t got = 0;
	int failures = 0;

	for (int i = 0; i < N; i++) {
		seed = seed * 1103515245u + 12345u;
		len[i] = 1 + (seed >> 16) % 64;
		offset[i + 1] = offset[i] + len[i];
	}
	for (uint64_t b = 0; b < offset[N]; b++)
		in[b] = (uint8_t)(b * 7 + b / 251);
	CHECK(load_reorder_new(&ro, (WINDOW - 1) * load_reorder_chunk_cost(64)) == 0);
	for (int w = 0; w < N; w += WINDOW) {
		for (int k = 0; k < WINDOW; k++) {
			int i = w + order[(w / WINDOW) % 2][k];
			struct load_chunk one = chunk(i, offset[i], in + offset[i], len[i]);
			int rc = load_reorder_offer(ro, &one);

			failures += rc < 0;
			if (rc == 1)
				got = write_in_order(ro, &one, out, got);
		}
	}
	CHECK_EQ(failures, 0);
	CHECK_EQ(got, offset[N]);
	CHECK(memcmp(out, in, offset[N]) == 0);
	CHECK_EQ(load_reorder_pending(ro), 0);
	CHECK_EQ(load_reorder_next_index(ro), N);
	CHECK(load_reorder_peak(ro) <= (WINDOW - 1) * load_reorder_chunk_cost(64));
	load_reorder_free(ro);
}

/*
 * Memory, not payload, is bounded: empty chunks cost their entries, so a
 * stream of empty early chunks stops at the limit (it held 200 MB for
 * 64 devices x 65535 chunks with a limit of 1 byte).
 */
static void test_empty_chunks_count(void)
{
	static const uint8_t none[1];
	const uint64_t cost = load_reorder_chunk_cost(0);
	struct load_reorder *ro;
	struct load_chunk in;
	unsigned int held = 0;

	CHECK(cost >= 32); /* at least the list entry and a malloc header */
	CHECK_EQ(cost % 16, 0);
	CHECK(load_reorder_new(&ro, 1) == 0);
	in = chunk(1, 0, none, 0);
	CHECK_EQ(load_reorder_offer(ro, &in), -ENOBUFS);
	load_reorder_free(ro);

	CHECK(load_reorder_new(&ro, 10 * cost) == 0);
	for (uint64_t i = 1; i < 100; i++) {
		in = chunk(i, 0, none, 0);
		if (load_reorder_offer(ro, &in) == 0)
			held++;
		else
			break;
	}
	CHECK_EQ(held, 10);
	CHECK_EQ(load_reorder_held(ro), 10 * cost);
	CHECK(load_reorder_peak(ro) <= 10 * cost);
	load_reorder_free(ro);
}

/* Large chunks come from mmap: charged whole pages, never less than they use. */
static void test_large_chunk_cost(void)
{
	const uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);

	CHECK(load_reorder_chunk_cost(1 << 20) >= (1 << 20) + 32);
	CHECK_EQ(load_reorder_chunk_cost(1 << 20) % page, 0);
	CHECK(load_reorder_chunk_cost(1 << 20) <= (1 << 20) + page);
	CHECK(load_reorder_chunk_cost(100) < 200);
}

/* Spare buffers count too, and are given up before a chunk is refused. */
static void test_spares_within_limit(void)
{
	static uint8_t bytes[4096];
	const uint64_t big = load_reorder_chunk_cost(4096), small = load_reorder_chunk_cost(16);
	struct load_reorder *ro;
	struct load_chunk in, c;

	CHECK(load_reorder_new(&ro, 2 * big) == 0);
	/* two big early chunks, then the missing one: both become spares */
	in = chunk(1, 4096, bytes, 4096);
	CHECK_EQ(load_reorder_offer(ro, &in), 0);
	in = chunk(2, 8192, bytes, 4096);
	CHECK_EQ(load_reorder_offer(ro, &in), 0);
	in = chunk(0, 0, bytes, 4096);
	CHECK_EQ(load_reorder_offer(ro, &in), 1);
	load_reorder_advance(ro, 4096);
	while (load_reorder_next_ready(ro, &c) == 1)
		load_reorder_advance(ro, c.len);
	CHECK_EQ(load_reorder_pending(ro), 0);
	/* small early chunks do not reuse big spares: the spares make room */
	for (uint64_t i = 4; i < 4 + 2 * big / small; i++) {
		in = chunk(i, 65536 + 16 * i, bytes, 16);
		if (load_reorder_offer(ro, &in) != 0)
			break;
	}
	CHECK(load_reorder_pending(ro) >= 2 * big / small - 1);
	CHECK(load_reorder_held(ro) <= 2 * big);
	CHECK(load_reorder_peak(ro) <= 2 * big);
	load_reorder_free(ro);
}

int main(void)
{
	RUN(test_reorders);
	RUN(test_limits_and_errors);
	RUN(test_buffer_reuse);
	RUN(test_empty_chunks_count);
	RUN(test_large_chunk_cost);
	RUN(test_spares_within_limit);
	return unit_done();
}
