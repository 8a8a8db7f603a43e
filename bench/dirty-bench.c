// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * dirty-bench: how fast iommufd-dirty's path from a kernel dirty bitmap to
 * a migstream runs, beside the cost of merely moving the same raw bitmap
 * bytes (cat of a file holding them, and memcpy).
 *
 * For 1%, 10% and 100% dirty pages (scattered at random: the worst case
 * for run-length encoding) it measures, on a bitmap the size of one read
 * of 1 TiB of 4 KiB pages (32 MiB):
 *   scan    counting dirty pages (what --stats does per read)
 *   encode  migstream_write_dirty_bitmap() of the bitmap in the tool's
 *           4 MiB pieces into /dev/null (RAW or RUNS, whichever is smaller)
 *   decode  dirty_bitmap_decode() of those pieces' encoded bitmaps back
 *           into a kernel bitmap (what a reader of the stream does)
 * and prints the stream size. Figures are GB/s of bitmap bytes (10^9),
 * best of --repeat runs. Not part of make check: figures are not asserted.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/c.h"
#include "stream/dirty-bitmap.h"
#include "stream/writer.h"

extern char **environ;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng_next(void)
{
	/* splitmix64: fast and good enough to scatter pages. */
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void fill(uint64_t *bitmap, uint64_t words, unsigned int percent)
{
	uint64_t pages = words * 64;

	if (percent >= 100) {
		memset(bitmap, 0xff, words * 8);
		return;
	}
	memset(bitmap, 0, words * 8);
	/* Each page dirty with probability percent/100, independently. */
	uint64_t threshold = UINT64_MAX / 100 * percent;

	for (uint64_t i = 0; i < pages; i++) {
		if (rng_next() < threshold)
			bitmap[i / 64] |= 1ull << (i % 64);
	}
}

static double gbps(uint64_t bytes, uint64_t ns)
{
	return ns ? (double)bytes / (double)ns : 0;
}

static int encode_once(const uint64_t *bitmap, uint64_t words, uint64_t piece_words,
		       uint64_t *stream_bytes)
{
	struct migstream_writer_opts opts = { .producer = "dirty-bench" };
	struct migstream_writer *w;
	int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	int ret;

	if (fd < 0)
		return -errno;
	ret = migstream_writer_new(&w, fd, &opts);
	if (ret) {
		close(fd);
		return ret;
	}
	for (uint64_t done = 0; done < words && !ret; done += piece_words) {
		uint64_t n = words - done < piece_words ? words - done : piece_words;
		struct migstream_dirty_bitmap info = {
			.iova = done * 64 * 4096,
			.page_size = 4096,
			.page_count = n * 64,
		};

		ret = migstream_write_dirty_bitmap(w, &info, bitmap + done);
	}
	if (!ret)
		ret = migstream_writer_finish(w);
	*stream_bytes = migstream_writer_offset(w);
	migstream_writer_free(w);
	close(fd);
	return ret;
}

/* The pieces' encoded bitmaps, as a reader of the stream gets them. */
struct encoded {
	struct migstream_dirty_bitmap *pieces;
	uint8_t *bytes;
	size_t npieces;
};

static int encode_pieces(const uint64_t *bitmap, uint64_t words, uint64_t piece_words,
			 struct encoded *e)
{
	size_t at = 0;

	e->npieces = (size_t)((words + piece_words - 1) / piece_words);
	e->pieces = calloc(e->npieces, sizeof(*e->pieces));
	e->bytes = malloc(words * 8);
	if (!e->pieces || !e->bytes)
		return -ENOMEM;
	for (size_t i = 0; i < e->npieces; i++) {
		uint64_t done = i * piece_words;
		uint64_t n = words - done < piece_words ? words - done : piece_words;
		struct migstream_dirty_bitmap *bm = &e->pieces[i];
		ssize_t len;

		bm->page_size = 4096;
		bm->page_count = n * 64;
		len = dirty_bitmap_encode(bitmap + done, n * 64, e->bytes + at, n * 8,
					  &bm->encoding, &bm->dirty_count);
		if (len < 0)
			return (int)len;
		bm->bits = e->bytes + at;
		bm->bits_len = (uint32_t)len;
		at += (size_t)len;
	}
	return 0;
}

static int decode_once(const struct encoded *e, uint64_t *out, uint64_t words, uint64_t piece_words)
{
	for (size_t i = 0; i < e->npieces; i++) {
		int ret = dirty_bitmap_decode(&e->pieces[i], out + i * piece_words,
					      words - i * piece_words);

		if (ret)
			return ret;
	}
	return 0;
}

static int cat_once(const char *path, uint64_t *ns)
{
	posix_spawn_file_actions_t fa;
	static char cat_name[] = "cat";
	char *argv[] = { cat_name, (char *)path, NULL };
	uint64_t t0;
	int status, ret;
	pid_t pid;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
	t0 = now_ns();
	ret = posix_spawnp(&pid, "cat", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (ret)
		return -ret;
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	*ns = now_ns() - t0;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EIO;
}

static int write_file(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	const char *p = buf;

	if (fd < 0)
		return -errno;
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			close(fd);
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return close(fd) ? -errno : 0;
}

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: dirty-bench [--bitmap-mib N] [--piece-mib N] [--repeat N]\n"
		"Bitmap scan/encode/decode GB/s and stream size at 1%%, 10%%, 100%% dirty pages,\n"
		"beside cat and memcpy of the same raw bitmap bytes.\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "bitmap-mib", required_argument, NULL, 'b' },
		{ "piece-mib", required_argument, NULL, 'p' },
		{ "repeat", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const unsigned int percents[] = { 1, 10, 100 };
	unsigned long bitmap_mib = 32, piece_mib = 4, repeat = 3;
	uint64_t *bitmap, *copy, words, piece_words, best_cat = UINT64_MAX, best_copy = UINT64_MAX;
	char path[] = "/tmp/dirty-bench-XXXXXX";
	size_t bytes;
	int c, fd, ret;

	while ((c = getopt_long(argc, argv, "b:p:r:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'b':
			bitmap_mib = strtoul(optarg, NULL, 10);
			break;
		case 'p':
			piece_mib = strtoul(optarg, NULL, 10);
			break;
		case 'r':
			repeat = strtoul(optarg, NULL, 10);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!bitmap_mib || !piece_mib || !repeat || piece_mib > 8) {
		fprintf(stderr, "dirty-bench: sizes and --repeat must be > 0, --piece-mib <= 8\n");
		return 2;
	}
	bytes = (size_t)bitmap_mib << 20;
	words = bytes / 8;
	piece_words = ((uint64_t)piece_mib << 20) / 8;
	bitmap = aligned_alloc(4096, bytes);
	copy = aligned_alloc(4096, bytes);
	if (!bitmap || !copy) {
		fprintf(stderr, "dirty-bench: out of memory\n");
		return 1;
	}

	/* Baselines on the 100% bitmap; its content does not matter to them. */
	fill(bitmap, words, 100);
	fd = mkstemp(path);
	if (fd < 0) {
		perror("dirty-bench: mkstemp");
		return 1;
	}
	close(fd);
	ret = write_file(path, bitmap, bytes);
	for (unsigned long i = 0; i < repeat && !ret; i++) {
		uint64_t ns = 0;

		ret = cat_once(path, &ns);
		if (!ret && ns < best_cat)
			best_cat = ns;
		uint64_t t0 = now_ns();

		memcpy(copy, bitmap, bytes);
		__asm__ volatile("" : : "r"(copy) : "memory");
		ns = now_ns() - t0;
		if (ns < best_copy)
			best_copy = ns;
	}
	unlink(path);
	if (ret) {
		fprintf(stderr, "dirty-bench: cat baseline: %s\n", strerror(-ret));
		return 1;
	}

	printf("dirty-bench: %lu MiB bitmap (%" PRIu64 " pages = %" PRIu64 " GiB of 4 KiB pages), "
	       "%lu MiB per read, best of %lu\n",
	       bitmap_mib, words * 64, words * 64 * 4096 >> 30, piece_mib, repeat);
	printf("baseline: cat of the raw bitmap file to /dev/null %.2f GB/s (includes exec), "
	       "memcpy %.2f GB/s\n",
	       gbps(bytes, best_cat), gbps(bytes, best_copy));
	printf("%-6s %12s %10s %12s %12s %14s %8s\n", "dirty", "dirty pages", "scan GB/s",
	       "encode GB/s", "decode GB/s", "stream bytes", "vs raw");
	for (size_t d = 0; d < ARRAY_SIZE(percents); d++) {
		uint64_t best_scan = UINT64_MAX, best_encode = UINT64_MAX, best_decode = UINT64_MAX;
		uint64_t dirty = 0, stream = 0;
		struct encoded enc = { 0 };

		fill(bitmap, words, percents[d]);
		ret = encode_pieces(bitmap, words, piece_words, &enc);
		if (ret) {
			fprintf(stderr, "dirty-bench: encode: %s\n", strerror(-ret));
			return 1;
		}
		for (unsigned long i = 0; i < repeat; i++) {
			uint64_t t0 = now_ns(), ns;

			dirty = dirty_bitmap_count(bitmap, words * 64);
			ns = now_ns() - t0;
			if (ns < best_scan)
				best_scan = ns;
			t0 = now_ns();
			ret = encode_once(bitmap, words, piece_words, &stream);
			ns = now_ns() - t0;
			if (ret) {
				fprintf(stderr, "dirty-bench: encode: %s\n", strerror(-ret));
				return 1;
			}
			if (ns < best_encode)
				best_encode = ns;
			t0 = now_ns();
			ret = decode_once(&enc, copy, words, piece_words);
			ns = now_ns() - t0;
			if (ret) {
				fprintf(stderr, "dirty-bench: decode: %s\n", strerror(-ret));
				return 1;
			}
			if (ns < best_decode)
				best_decode = ns;
		}
		/* a figure for a codec that loses pages would be worthless */
		if (memcmp(copy, bitmap, bytes) != 0) {
			fprintf(stderr, "dirty-bench: decoded bitmap differs at %u%% dirty\n",
				percents[d]);
			return 1;
		}
		free(enc.pieces);
		free(enc.bytes);
		printf("%5u%% %12" PRIu64 " %10.2f %12.2f %12.2f %14" PRIu64 " %7.1f%%\n",
		       percents[d], dirty, gbps(bytes, best_scan), gbps(bytes, best_encode),
		       gbps(bytes, best_decode), stream, 100.0 * (double)stream / (double)bytes);
	}
	free(bitmap);
	free(copy);
	return 0;
}
