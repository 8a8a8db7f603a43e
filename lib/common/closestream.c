// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * stdout that reports its failures.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/closestream.h"
#include "common/exitcodes.h"
#include "common/log.h"

void vmt_ignore_sigpipe(void)
{
	struct sigaction sa = { .sa_handler = SIG_IGN };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGPIPE, &sa, NULL);
}

/* Set by vmt_stdout_is_listing() when stdout is a pipe or a socket. */
static bool stdout_is_listing_pipe;
static volatile sig_atomic_t got_sigpipe;

static void on_sigpipe(int sig)
{
	got_sigpipe = 1;
}

void vmt_stdout_is_listing(void)
{
	/* A handler, not SIG_IGN: it says that a write did meet a closed pipe. */
	struct sigaction sa = { .sa_handler = on_sigpipe, .sa_flags = SA_RESTART };
	struct stat st;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGPIPE, &sa, NULL);
	/* SIGPIPE may come from another pipe: only a pipe on stdout counts. */
	stdout_is_listing_pipe =
		fstat(STDOUT_FILENO, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode));
}

bool vmt_stdout_reader_gone(void)
{
	return stdout_is_listing_pipe && got_sigpipe;
}

int vmt_close_stdout(void)
{
	int failed = ferror(stdout);
	int saved = errno;

	if (fflush(stdout) != 0) {
		failed = 1;
		saved = errno;
	}
	if (fclose(stdout) != 0 && errno != EBADF) {
		failed = 1;
		saved = errno;
	}
	if (failed && vmt_stdout_reader_gone())
		return VMT_EXIT_OK;
	if (failed) {
		vmt_err("write error on standard output: %s", saved ? strerror(saved) : "unknown");
		return VMT_EXIT_FAILURE;
	}
	return VMT_EXIT_OK;
}

void vmt_drop_unwritten(FILE *f)
{
	__fpurge(f);
	clearerr(f);
}

static bool forced_tty(void)
{
	const char *v = getenv("VMT_FORCE_TTY");

	return v && strcmp(v, "1") == 0;
}

bool vmt_binary_output_ok(int fd, bool force)
{
	if (force)
		return true;
	if (isatty(fd) || (fd == STDOUT_FILENO && forced_tty())) {
		vmt_err("refusing to write binary data to a terminal (use --force)");
		return false;
	}
	return true;
}

bool vmt_binary_input_ok(int fd)
{
	if (!isatty(fd))
		return true;
	vmt_err("refusing to read a binary stream from a terminal (redirect standard input or name a file)");
	return false;
}

bool vmt_stderr_is_terminal(void)
{
	return forced_tty() || isatty(STDERR_FILENO);
}
