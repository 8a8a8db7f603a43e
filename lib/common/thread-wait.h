/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Timed waits on a condition variable against CLOCK_MONOTONIC: a wait with
 * a deadline must not stretch or shrink when the wall clock is set (NTP, an
 * administrator), so every condition that is waited on with a timeout is
 * initialised here, and the deadline is a vmt_monotonic_ns() value.
 */
#ifndef VMT_THREAD_WAIT_H
#define VMT_THREAD_WAIT_H

#include <pthread.h>
#include <stdint.h>

/* pthread_cond_init() with CLOCK_MONOTONIC as the clock of timed waits. 0 or -errno. */
int vmt_cond_init_monotonic(pthread_cond_t *cond);
/*
 * pthread_cond_timedwait() until deadline_ns (vmt_monotonic_ns() time) on a
 * condition made by vmt_cond_init_monotonic(), lock held. 0 when woken (or
 * spuriously), -ETIMEDOUT once the deadline has passed.
 */
int vmt_cond_wait_until(pthread_cond_t *cond, pthread_mutex_t *lock, uint64_t deadline_ns);
/* The same for at most timeout_ns from now. */
int vmt_cond_wait_for(pthread_cond_t *cond, pthread_mutex_t *lock, uint64_t timeout_ns);

#endif
