// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Stop signals and the waits they end; see signals.h.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include "common/c.h"
#include "common/signals.h"
#include "common/timeutil.h"

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

static void catch (int sig, void (*handler)(int))
{
	/* The others are blocked in a handler, so the first one seen is the one kept. */
	struct sigaction sa = { .sa_handler = handler, .sa_mask = caught };

	sigaction(sig, &sa, NULL);
}

void vmt_signals_install(enum vmt_sigusr1 usr1)
{
	sigemptyset(&caught);
	for (size_t i = 0; i < ARRAY_SIZE(stop_signals); i++)
		sigaddset(&caught, stop_signals[i]);
	if (usr1 == VMT_SIGUSR1_SWITCHOVER)
		sigaddset(&caught, SIGUSR1);

	for (size_t i = 0; i < ARRAY_SIZE(stop_signals); i++)
		catch (stop_signals[i], on_stop_signal);
	if (usr1 == VMT_SIGUSR1_SWITCHOVER) {
		catch (SIGUSR1, on_switchover_signal);
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

static void on_wake_signal(int sig)
{
	/* Nothing: the point is the EINTR of the call the thread was in. */
	(void)sig;
}

static void install_wake_handler(void)
{
	struct sigaction sa = { .sa_handler = on_wake_signal }; /* no SA_RESTART */

	sigemptyset(&sa.sa_mask);
	sigaction(VMT_WAKE_SIGNAL, &sa, NULL);
}

int vmt_thread_start(pthread_t *thread, void *(*fn)(void *), void *arg)
{
	static pthread_once_t wake_installed = PTHREAD_ONCE_INIT;
	sigset_t worker, old;
	int ret;

	pthread_once(&wake_installed, install_wake_handler);
	/* The new thread inherits the mask: no window in which it takes a stop signal. */
	sigfillset(&worker);
	sigdelset(&worker, VMT_WAKE_SIGNAL);
	pthread_sigmask(SIG_SETMASK, &worker, &old);
	ret = pthread_create(thread, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return -ret;
}

void vmt_thread_wake(pthread_t thread)
{
	pthread_kill(thread, VMT_WAKE_SIGNAL);
}
