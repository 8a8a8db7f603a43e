// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * lib/common/thread-wait: timed waits against CLOCK_MONOTONIC end at their
 * deadline (not before, not much after), and a signal ends them early.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <unistd.h>

#include "common/c.h"
#include "common/thread-wait.h"
#include "common/timeutil.h"
#include "unit.h"

struct waited {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool flag; /* under lock */
	atomic_bool waiting;
};

static void init(struct waited *w)
{
	pthread_mutex_init(&w->lock, NULL);
	CHECK_EQ(vmt_cond_init_monotonic(&w->cond), 0);
	w->flag = false;
	atomic_init(&w->waiting, false);
}

static void fini(struct waited *w)
{
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
}

/* Nobody signals: the wait ends at its deadline, with -ETIMEDOUT. */
static void test_times_out_at_deadline(void)
{
	struct waited w;
	uint64_t t0, t1;
	int rc;

	init(&w);
	pthread_mutex_lock(&w.lock);
	t0 = vmt_monotonic_ns();
	do
		rc = vmt_cond_wait_until(&w.cond, &w.lock, t0 + 50 * NSEC_PER_MSEC);
	while (rc == 0); /* spurious wake-ups */
	t1 = vmt_monotonic_ns();
	pthread_mutex_unlock(&w.lock);
	CHECK_EQ(rc, -ETIMEDOUT);
	CHECK(t1 - t0 >= 50 * NSEC_PER_MSEC);
	CHECK(t1 - t0 < 5 * NSEC_PER_SEC);
	fini(&w);
}

/* A deadline already past returns at once. */
static void test_past_deadline(void)
{
	struct waited w;
	uint64_t t0;

	init(&w);
	pthread_mutex_lock(&w.lock);
	t0 = vmt_monotonic_ns();
	CHECK_EQ(vmt_cond_wait_until(&w.cond, &w.lock, t0 - NSEC_PER_MSEC), -ETIMEDOUT);
	CHECK_EQ(vmt_cond_wait_for(&w.cond, &w.lock, 0), -ETIMEDOUT);
	pthread_mutex_unlock(&w.lock);
	CHECK(vmt_monotonic_ns() - t0 < NSEC_PER_SEC);
	fini(&w);
}

static void *signal_soon(void *arg)
{
	struct waited *w = arg;

	while (!atomic_load(&w->waiting))
		usleep(1000);
	pthread_mutex_lock(&w->lock);
	w->flag = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

/* A signal ends the wait long before a far deadline. */
static void test_signal_ends_wait(void)
{
	struct waited w;
	pthread_t t;
	uint64_t t0;

	init(&w);
	pthread_create(&t, NULL, signal_soon, &w);
	pthread_mutex_lock(&w.lock);
	t0 = vmt_monotonic_ns();
	atomic_store(&w.waiting, true);
	while (!w.flag)
		if (vmt_cond_wait_for(&w.cond, &w.lock, 60 * NSEC_PER_SEC) == -ETIMEDOUT)
			break;
	pthread_mutex_unlock(&w.lock);
	pthread_join(t, NULL);
	CHECK(w.flag);
	CHECK(vmt_monotonic_ns() - t0 < 30 * NSEC_PER_SEC);
	fini(&w);
}

int main(void)
{
	RUN(test_times_out_at_deadline);
	RUN(test_past_deadline);
	RUN(test_signal_ends_wait);
	return unit_done();
}
