// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Monotonic timed waits; see thread-wait.h.
 */
#include <errno.h>
#include <time.h>

#include "common/c.h"
#include "common/thread-wait.h"
#include "common/timeutil.h"

int vmt_cond_init_monotonic(pthread_cond_t *cond)
{
	pthread_condattr_t attr;
	int rc;

	rc = pthread_condattr_init(&attr);
	if (rc)
		return -rc;
	rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	if (!rc)
		rc = pthread_cond_init(cond, &attr);
	pthread_condattr_destroy(&attr);
	return -rc;
}

int vmt_cond_wait_until(pthread_cond_t *cond, pthread_mutex_t *lock, uint64_t deadline_ns)
{
	struct timespec ts = {
		.tv_sec = (time_t)(deadline_ns / NSEC_PER_SEC),
		.tv_nsec = (long)(deadline_ns % NSEC_PER_SEC),
	};

	return -pthread_cond_timedwait(cond, lock, &ts);
}

int vmt_cond_wait_for(pthread_cond_t *cond, pthread_mutex_t *lock, uint64_t timeout_ns)
{
	return vmt_cond_wait_until(cond, lock, vmt_monotonic_ns() + timeout_ns);
}
