/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Safety around standard output: a full disk or a closed pipe is an error,
 * binary data does not go to a terminal unless forced, and SIGPIPE becomes
 * EPIPE so a tool can say what happened and clean up its device.
 */
#ifndef VMT_CLOSESTREAM_H
#define VMT_CLOSESTREAM_H

#include <stdbool.h>
#include <stdio.h>

/*
 * Ignore SIGPIPE: writes to a closed pipe then fail with EPIPE, which the
 * tool reports after putting its device back where it was.
 */
void vmt_ignore_sigpipe(void);

/*
 * Standard output is a listing (text or JSON lines that a reader may stop
 * reading early, as `| head` does): when its reader goes away, the tool
 * ends quietly with status 0, as ls and lsblk do. Binary output keeps the
 * default, where a closed pipe is an error. Call before writing; it also
 * stands in for vmt_ignore_sigpipe().
 */
void vmt_stdout_is_listing(void);

/*
 * With vmt_stdout_is_listing(): whether stdout is a pipe or socket whose
 * reader went away (a write got EPIPE). The listing can stop early.
 */
bool vmt_stdout_reader_gone(void);

/*
 * Flush and close stdout, report a failure ("write error: ...") and return
 * an exit code: 0 or VMT_EXIT_FAILURE. Call once, at the end of main().
 * A listing whose reader went away is not a failure.
 */
int vmt_close_stdout(void);

/*
 * Forget what f holds unwritten, and its error: the write that failed was
 * reported (or stopped on purpose) already, and closing f must neither
 * block on it again nor report it a second time.
 */
void vmt_drop_unwritten(FILE *f);

/*
 * Refuse to write binary data to a terminal: prints
 * "refusing to write binary data to a terminal (use --force)" and returns
 * false when fd is a tty and force is not set. The tools exit
 * VMT_EXIT_USAGE then: the command line asked for it.
 */
bool vmt_binary_output_ok(int fd, bool force);

/*
 * Refuse to read a binary stream from a terminal (someone forgot the
 * redirection): prints why and returns false when fd is a tty. The tools
 * exit VMT_EXIT_USAGE then, as for a terminal refused as output.
 */
bool vmt_binary_input_ok(int fd);

/*
 * Whether progress may be drawn on stderr: asked for, or stderr is a
 * terminal. VMT_FORCE_TTY=1 in the environment fakes a terminal, so the
 * terminal logic can be tested.
 */
bool vmt_stderr_is_terminal(void);

#endif
