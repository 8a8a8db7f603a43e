// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Stop signals and the waits they end; see signals.h.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include "signals.h"
#include "timeutil.h"

#define NSEC_PER_SEC 1000000000ll

static volatile sig_atomic_t stop_signal;
static volatile sig_atomic_t switchover_signal;
static sigset_t caught;

static const int stop_signals[] = { SIGINT, SIGTERM, SIGHUP };

static void on_stop_signal(int sig)
{
	if (stop_signal) {
		/* Asked twice: the default action, once this handler returns. */
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	stop_signal = sig;
}

static void on_switchover_signal(int sig)
{
	(void)sig;
	switchover_signal = 1;
}

static void catch(int sig, void (*handler)(int))
{
	/* The others are blocked in a handler, so the first one seen is the one kept. */
	struct sigaction sa = { .sa_handler = handler, .sa_mask = caught };

	sigaction(sig, &sa, NULL);
}

void vmt_signals_install(enum vmt_sigusr1 usr1)
{
	sigemptyset(&caught);
	for (size_t i = 0; i < sizeof(stop_signals) / sizeof(stop_signals[0]); i++)
		sigaddset(&caught, stop_signals[i]);
	if (usr1 == VMT_SIGUSR1_SWITCHOVER)
		sigaddset(&caught, SIGUSR1);

	for (size_t i = 0; i < sizeof(stop_signals) / sizeof(stop_signals[0]); i++)
		catch(stop_signals[i], on_stop_signal);
	if (usr1 == VMT_SIGUSR1_SWITCHOVER) {
		catch(SIGUSR1, on_switchover_signal);
	} else if (usr1 == VMT_SIGUSR1_IGNORE) {
		struct sigaction ignore = { .sa_handler = SIG_IGN };

		sigemptyset(&ignore.sa_mask);
		sigaction(SIGUSR1, &ignore, NULL);
	}
}

int vmt_stop_signal(void)
{
	return stop_signal;
}

const char *vmt_stop_signal_name(void)
{
	switch (stop_signal) {
	case 0:
		return "";
	case SIGINT:
		return "SIGINT";
	case SIGTERM:
		return "SIGTERM";
	case SIGHUP:
		return "SIGHUP";
	default:
		return "a signal";
	}
}

bool vmt_stop_requested(void *unused)
{
	(void)unused;
	return stop_signal != 0;
}

bool vmt_switchover_requested(void)
{
	return switchover_signal != 0;
}

int vmt_signal_poll(struct pollfd *fds, nfds_t nfds, int64_t timeout_ns)
{
	struct timespec ts = {
		.tv_sec = timeout_ns / NSEC_PER_SEC,
		.tv_nsec = timeout_ns % NSEC_PER_SEC,
	};
	sigset_t wait_mask;
	int ret;

	sigprocmask(SIG_BLOCK, &caught, &wait_mask);
	/* A switchover request is sticky: checking it here would make every later wait spin. */
	if (stop_signal) {
		ret = -EINTR;
	} else {
		ret = ppoll(fds, nfds, timeout_ns < 0 ? NULL : &ts, &wait_mask);
		if (ret < 0)
			ret = -errno;
	}
	sigprocmask(SIG_SETMASK, &wait_mask, NULL);
	return ret;
}

bool vmt_signal_sleep_until(uint64_t deadline_ns)
{
	for (;;) {
		uint64_t now = vmt_monotonic_ns();

		if (stop_signal)
			return false;
		if (now >= deadline_ns)
			return true;
		vmt_signal_poll(NULL, 0, (int64_t)(deadline_ns - now));
	}
}
