/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Stop signals, the same way in every tool that holds a device or a
 * stream: SIGINT, SIGTERM and SIGHUP (a terminal or ssh session going
 * away) only record the signal, so the tool stops at its next check, puts
 * its devices back and says so; a second one while the first is being
 * handled re-raises it with the default action, for a user who does not
 * want to wait.
 *
 * No SA_RESTART, for every tool: a signal must end a read blocked in a
 * driver, a write to a stalled pipe or a poll, so that a device is not held
 * in PRE_COPY or RESUMING by a peer that does not move. The cost is that
 * every blocking call retries EINTR itself when no stop was asked (fdio,
 * the stream writer and reader callbacks do).
 */
#ifndef VMT_SIGNALS_H
#define VMT_SIGNALS_H

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

/* What SIGUSR1, vfio-mig-save's switchover request, does in this tool. */
enum vmt_sigusr1 {
	VMT_SIGUSR1_DEFAULT, /* left alone (terminates) */
	/*
	 * Ignored: "kill -USR1 %job" reaches a whole save | load pipeline,
	 * and the default action would kill a tool with a device mid-way.
	 */
	VMT_SIGUSR1_IGNORE,
	VMT_SIGUSR1_SWITCHOVER, /* recorded: vmt_switchover_requested() */
};

void vmt_signals_install(enum vmt_sigusr1 usr1);

/* The first stop signal that came, or 0. */
int vmt_stop_signal(void);

/* "SIGINT", "SIGTERM", ... for the stop signal that came; "" when none. */
const char *vmt_stop_signal_name(void);

/* For migstream_writer_opts.cancelled: true once a stop signal came. */
bool vmt_stop_requested(void *unused);

/* SIGUSR1 came (with VMT_SIGUSR1_SWITCHOVER). */
bool vmt_switchover_requested(void);

/*
 * poll(2) that a stop signal always ends, even one arriving just before the
 * wait: the signals are blocked between the check and the wait, and ppoll
 * unblocks them atomically. A switchover request ends a wait under way.
 * timeout_ns: -1 waits without a limit. -EINTR when a stop signal came
 * first or a signal ended the wait, else what poll returns (0 on timeout).
 */
int vmt_signal_poll(struct pollfd *fds, nfds_t nfds, int64_t timeout_ns);

/*
 * Sleep until the CLOCK_MONOTONIC time deadline_ns (vmt_monotonic_ns()).
 * false when a stop signal came first.
 */
bool vmt_signal_sleep_until(uint64_t deadline_ns);

/*
 * Worker threads. A process signal goes to a thread that does not block
 * it: the tool's main thread, which decides what a stop or a switchover
 * means. A worker blocks every signal but the wake signal, whose handler
 * does nothing and is installed without SA_RESTART: vmt_thread_wake()
 * makes a read() or write() the worker is blocked in (a device's data fd,
 * a stalled pipe) return EINTR, so that it looks at its cancel flag. A wake
 * that lands just before the worker blocks is lost: the waker repeats it
 * until the worker is gone.
 */
#define VMT_WAKE_SIGNAL (SIGRTMIN + 2)

/* pthread_create() with the worker's signal mask (and the wake handler installed). */
int vmt_thread_start(pthread_t *thread, void *(*fn)(void *), void *arg);

/* Interrupt what thread is blocked in (EINTR), if anything. */
void vmt_thread_wake(pthread_t thread);

#endif
