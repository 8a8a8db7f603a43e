// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * lib/common/signals: what a stop signal records, the second one's default
 * action, SIGUSR1 per tool, and waits that a signal ends. Each case runs in
 * a child: signal dispositions and the recorded signal are process-wide.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/signals.h"
#include "common/timeutil.h"
#include "unit.h"

#define LONG_WAIT_NS (30 * 1000000000ll)

/* Runs fn in a child; its wait status. */
static int in_child(int (*fn)(void))
{
	int status = -1;
	pid_t pid = fork();

	if (pid == 0)
		_exit(fn());
	waitpid(pid, &status, 0);
	return status;
}

static bool exited_ok(int status)
{
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static int stop_is_recorded(void)
{
	vmt_signals_install(VMT_SIGUSR1_IGNORE);
	if (vmt_stop_signal() || vmt_stop_requested(NULL) || vmt_stop_signal_name()[0])
		return 1;
	raise(SIGTERM);
	if (vmt_stop_signal() != SIGTERM || !vmt_stop_requested(NULL))
		return 2;
	return strcmp(vmt_stop_signal_name(), "SIGTERM") ? 3 : 0;
}

static void test_stop_is_recorded(void)
{
	CHECK(exited_ok(in_child(stop_is_recorded)));
}

static int hup_is_a_stop(void)
{
	vmt_signals_install(VMT_SIGUSR1_DEFAULT);
	raise(SIGHUP);
	return vmt_stop_signal() == SIGHUP ? 0 : 1;
}

static void test_hup_is_a_stop(void)
{
	CHECK(exited_ok(in_child(hup_is_a_stop)));
}

static int second_signal(void)
{
	vmt_signals_install(VMT_SIGUSR1_IGNORE);
	raise(SIGINT);
	raise(SIGINT); /* ends the process with SIGINT */
	return 0;
}

static void test_second_signal_takes_the_default_action(void)
{
	int status = in_child(second_signal);

	CHECK(WIFSIGNALED(status));
	CHECK_EQ(WTERMSIG(status), SIGINT);
}

static int usr1_ignored(void)
{
	vmt_signals_install(VMT_SIGUSR1_IGNORE);
	raise(SIGUSR1);
	return vmt_switchover_requested() || vmt_stop_signal() ? 1 : 0;
}

static int usr1_switchover(void)
{
	vmt_signals_install(VMT_SIGUSR1_SWITCHOVER);
	if (vmt_switchover_requested())
		return 1;
	raise(SIGUSR1);
	return vmt_switchover_requested() && !vmt_stop_signal() ? 0 : 2;
}

static int usr1_default(void)
{
	vmt_signals_install(VMT_SIGUSR1_DEFAULT);
	raise(SIGUSR1);
	return 0;
}

static void test_sigusr1_per_tool(void)
{
	int status = in_child(usr1_default);

	CHECK(exited_ok(in_child(usr1_ignored)));
	CHECK(exited_ok(in_child(usr1_switchover)));
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGUSR1);
}

/* A stop signal that came before the wait: the wait does not start. */
static int stop_before_wait(void)
{
	vmt_signals_install(VMT_SIGUSR1_IGNORE);
	raise(SIGINT);
	if (vmt_signal_sleep_until(vmt_monotonic_ns() + LONG_WAIT_NS))
		return 1;
	return vmt_signal_poll(NULL, 0, LONG_WAIT_NS) == -EINTR ? 0 : 2;
}

static void test_stop_before_the_wait(void)
{
	CHECK(exited_ok(in_child(stop_before_wait)));
}

/* A stop signal during the wait ends it; without it the child would sleep 30 s and fail. */
static int stop_during_wait(void)
{
	pid_t self = getpid();

	vmt_signals_install(VMT_SIGUSR1_IGNORE);
	if (fork() == 0) {
		usleep(100 * 1000);
		kill(self, SIGTERM);
		_exit(0);
	}
	return vmt_signal_sleep_until(vmt_monotonic_ns() + LONG_WAIT_NS) ? 1 : 0;
}

static void test_stop_during_the_wait(void)
{
	CHECK(exited_ok(in_child(stop_during_wait)));
}

static int wait_reaches_deadline(void)
{
	vmt_signals_install(VMT_SIGUSR1_IGNORE);
	if (!vmt_signal_sleep_until(vmt_monotonic_ns() + 1000000))
		return 1;
	return vmt_signal_poll(NULL, 0, 1000000) == 0 ? 0 : 2;
}

static void test_wait_reaches_its_deadline(void)
{
	CHECK(exited_ok(in_child(wait_reaches_deadline)));
}

struct blocked_reader {
	int fd;
	bool stop_blocked, wake_open;
	volatile int result; /* 0 while reading, then -errno or the bytes read + 1 */
};

static void *read_until_woken(void *arg)
{
	struct blocked_reader *r = arg;
	sigset_t mask;
	char byte;
	ssize_t n;

	pthread_sigmask(SIG_SETMASK, NULL, &mask);
	r->stop_blocked = sigismember(&mask, SIGINT) && sigismember(&mask, SIGTERM) &&
			  sigismember(&mask, SIGUSR1);
	r->wake_open = !sigismember(&mask, VMT_WAKE_SIGNAL);
	n = read(r->fd, &byte, 1);
	r->result = n < 0 ? -errno : (int)n + 1;
	return NULL;
}

/*
 * A worker blocked in read() of a pipe nobody writes: a stop signal to the
 * process does not end it (the main thread takes it), a wake does, with
 * EINTR. The wake is repeated, as the tools do, for one that lands before
 * the read begins.
 */
static int wake_ends_a_read(void)
{
	struct blocked_reader r = { 0 };
	uint64_t give_up = vmt_monotonic_ns() + LONG_WAIT_NS;
	pthread_t t;
	int fds[2];

	vmt_signals_install(VMT_SIGUSR1_SWITCHOVER);
	if (pipe(fds) < 0)
		return 1;
	r.fd = fds[0];
	if (vmt_thread_start(&t, read_until_woken, &r))
		return 2;
	usleep(50 * 1000);
	kill(getpid(), SIGINT);
	usleep(50 * 1000);
	if (r.result || vmt_stop_signal() != SIGINT)
		return 3; /* the stop signal reached the worker, or nobody */
	while (!r.result && vmt_monotonic_ns() < give_up) {
		vmt_thread_wake(t);
		usleep(10 * 1000);
	}
	pthread_join(t, NULL);
	if (!r.stop_blocked || !r.wake_open)
		return 4;
	return r.result == -EINTR ? 0 : 5;
}

static void test_wake_ends_a_blocked_read(void)
{
	CHECK(exited_ok(in_child(wake_ends_a_read)));
}

int main(void)
{
	RUN(test_stop_is_recorded);
	RUN(test_hup_is_a_stop);
	RUN(test_second_signal_takes_the_default_action);
	RUN(test_sigusr1_per_tool);
	RUN(test_stop_before_the_wait);
	RUN(test_stop_during_the_wait);
	RUN(test_wait_reaches_its_deadline);
	RUN(test_wake_ends_a_blocked_read);
	return unit_done();
}
