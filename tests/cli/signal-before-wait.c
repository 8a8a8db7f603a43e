// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * An LD_PRELOAD shim that makes the worst moment for a stop signal happen
 * every time: the signal named by VMT_SIGNAL_BEFORE_WAIT (a number) is sent
 * to the process just before its first sleep or poll starts, after any
 * check of a "stopped" flag. A tool whose wait a signal cannot end then
 * sleeps for the whole interval; one that blocks the signal between the
 * check and ppoll wakes at once. Used by tests/cli/vfio-precopy-info.bats.
 */
#include <dlfcn.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static void signal_before_first_wait(void)
{
	static bool sent;
	const char *sig = getenv("VMT_SIGNAL_BEFORE_WAIT");

	if (sent || !sig)
		return;
	sent = true;
	kill(getpid(), atoi(sig));
}

#define NEXT(name) ((__typeof__(name) *)dlsym(RTLD_NEXT, #name))

int clock_nanosleep(clockid_t clock, int flags, const struct timespec *req, struct timespec *rem)
{
	signal_before_first_wait();
	return NEXT(clock_nanosleep)(clock, flags, req, rem);
}

int nanosleep(const struct timespec *req, struct timespec *rem)
{
	signal_before_first_wait();
	return NEXT(nanosleep)(req, rem);
}

int poll(struct pollfd *fds, nfds_t nfds, int timeout)
{
	signal_before_first_wait();
	return NEXT(poll)(fds, nfds, timeout);
}

int ppoll(struct pollfd *fds, nfds_t nfds, const struct timespec *tmo, const sigset_t *mask)
{
	signal_before_first_wait();
	return NEXT(ppoll)(fds, nfds, tmo, mask);
}
