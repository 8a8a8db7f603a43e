// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * lib/stream/record-alloc: record buffers allocated by channel threads and freed
 * by the consumer (the load's pattern) are faulted in once, not once per
 * record. Each case runs in a child, so that malloc starts untuned there.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/c.h"
#include "stream/record-alloc.h"
#include "unit.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#endif

#define ROUNDS 64
#define PRODUCERS 4

/* Sizes of the records the tools move: a default chunk with its header, the largest payload. */
static const size_t sizes[] = { (1u << 20) + 64, (8u << 20) };

struct producer {
	size_t size;
	void *buf;
};

static void *produce(void *arg)
{
	struct producer *p = arg;
	uint8_t *b = malloc(p->size);

	if (b)
		memset(b, 0xa5, p->size); /* a reader filling it */
	p->buf = b;
	return NULL;
}

static long minor_faults(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt;
}

/* Page faults per round once warm: every producer's buffer freed by this thread. */
static long faults_per_round(size_t size)
{
	long before = 0;

	for (int round = 0; round < ROUNDS; round++) {
		struct producer p[PRODUCERS];
		pthread_t t[PRODUCERS];

		if (round == 1)
			before = minor_faults();
		for (int i = 0; i < PRODUCERS; i++) {
			p[i] = (struct producer){ .size = size };
			pthread_create(&t[i], NULL, produce, &p[i]);
		}
		for (int i = 0; i < PRODUCERS; i++) {
			pthread_join(t[i], NULL);
			free(p[i].buf);
		}
	}
	return (minor_faults() - before) / (ROUNDS - 1);
}

static int tuned_child(void)
{
	long page = sysconf(_SC_PAGESIZE);
	int bad = 0;

	vmt_record_alloc_init();
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		long per_round = faults_per_round(sizes[i]);
		long pages = (long)(sizes[i] / (size_t)page);

		printf("#   %zu bytes x %d threads: %ld page faults a round (a buffer is %ld pages)\n",
		       sizes[i], PRODUCERS, per_round, pages);
		/* A round that faulted its buffers in again would take PRODUCERS * pages. */
		if (per_round > pages / 4)
			bad = 1;
	}
	return bad;
}

static int untuned_child(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++)
		printf("#   untuned, for comparison: %zu bytes: %ld page faults a round\n",
		       sizes[i], faults_per_round(sizes[i]));
	return 0;
}

static int in_child(int (*fn)(void))
{
	int status = -1;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		int rc = fn();

		fflush(stdout);
		_exit(rc);
	}
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_buffers_are_faulted_in_once(void)
{
	CHECK_EQ(in_child(tuned_child), 0);
	in_child(untuned_child);
}

int main(void)
{
#ifdef UNDER_ASAN
	/* ASan's allocator ignores mallopt(): nothing of glibc's to check. */
	printf("1..0 # SKIP ASan's allocator is not glibc's\n");
	return 0;
#else
	RUN(test_buffers_are_faulted_in_once);
	return unit_done();
#endif
}
