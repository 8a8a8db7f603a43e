// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * bench-relay RATE: copies stdin to stdout at no more than RATE bytes per
 * second (K, M, G: powers of 1024, as the simulator's read-rate=), the
 * stand-in for one network link in bench/parallel's channel benchmark.
 *
 * The copy is splice() when one end is a pipe (no bytes through user
 * space: the relay must not be what limits a channel below its rate), else
 * read()/write(). Pacing is a token bucket kept as its theoretical arrival
 * time: after n bytes the clock owes n / RATE seconds; the relay sleeps
 * when it is ahead by more than one bucket (20 ms of transfer, at least
 * 64K), so it never runs faster than RATE over any stretch longer than that.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/strutils.h"

#define CHUNK (1u << 20)

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint64_t bytes_ns(uint64_t bytes, uint64_t rate)
{
	return (uint64_t)((unsigned __int128)bytes * 1000000000ULL / rate);
}

struct pacer {
	uint64_t rate, burst_ns, tat;
};

/* n bytes went: sleep while more than one bucket ahead of the rate */
static void pace(struct pacer *p, uint64_t n)
{
	uint64_t now = now_ns();

	if (p->tat < now)
		p->tat = now;
	p->tat += bytes_ns(n, p->rate);
	if (p->tat > now + p->burst_ns) {
		uint64_t ns = p->tat - now - p->burst_ns;
		struct timespec ts = { .tv_sec = (time_t)(ns / 1000000000ULL),
				       .tv_nsec = (long)(ns % 1000000000ULL) };

		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
	}
}

/* one step: bytes moved, 0 at the end, -errno; *use_splice off when it cannot */
static ssize_t move(size_t want, bool *use_splice, char *buf)
{
	ssize_t n, done = 0;

	if (*use_splice) {
		n = splice(STDIN_FILENO, NULL, STDOUT_FILENO, NULL, want, SPLICE_F_MOVE);
		if (n >= 0)
			return n;
		if (errno == EINTR)
			return move(want, use_splice, buf);
		if (errno != EINVAL && errno != ENOSYS)
			return -errno;
		*use_splice = false; /* neither end a pipe, or a file system without it */
	}
	do {
		n = read(STDIN_FILENO, buf, want);
	} while (n < 0 && errno == EINTR);
	if (n <= 0)
		return n < 0 ? -errno : 0;
	while (done < n) {
		ssize_t w = write(STDOUT_FILENO, buf + done, (size_t)(n - done));

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		done += w;
	}
	return n;
}

int main(int argc, char **argv)
{
	struct pacer p = { 0 };
	bool use_splice = true;
	uint64_t burst;
	char *buf;

	if (argc != 2 || vmt_parse_size(argv[1], &p.rate) || !p.rate) {
		fprintf(stderr, "usage: %s RATE    (bytes/s, K/M/G suffixes; stdin to stdout)\n",
			argv[0]);
		return 2;
	}
	burst = p.rate / 50 < (64u << 10) ? 64u << 10 : p.rate / 50;
	p.burst_ns = bytes_ns(burst, p.rate);
	buf = malloc(CHUNK);
	if (!buf)
		return 1;
	/* bigger pipes: fewer, larger splices (best effort) */
	fcntl(STDIN_FILENO, F_SETPIPE_SZ, CHUNK);
	fcntl(STDOUT_FILENO, F_SETPIPE_SZ, CHUNK);
	for (;;) {
		size_t want = burst < CHUNK ? (size_t)burst : CHUNK;
		ssize_t n = move(want, &use_splice, buf);

		if (n < 0) {
			fprintf(stderr, "%s: %s\n", argv[0], strerror((int)-n));
			free(buf);
			return 1;
		}
		if (!n)
			break;
		pace(&p, (uint64_t)n);
	}
	free(buf);
	return 0;
}
