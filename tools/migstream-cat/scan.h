/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Reading one input stream to its end, handing each verified record to the
 * mode that asked, with progress and the one-line error when the stream is
 * bad. Every reading mode (listing, verify, passthrough, extract,
 * recompress) goes through here so they fail the same way.
 */
#ifndef VMT_CAT_SCAN_H
#define VMT_CAT_SCAN_H

#include <stdbool.h>
#include <stdint.h>

#include "stream/reader.h"
#include "cat.h"

struct cat_stream {
	const char *path; /* as given: "-" for standard input */
	const char *name; /* for messages: "<stdin>" for standard input */
	int fd;
	struct migstream_reader *reader;
};

/* Each returns 0 or an exit code, having printed the reason. */
struct cat_scan_ops {
	int (*begin)(void *ctx, struct cat_stream *s);
	int (*record)(void *ctx, struct cat_stream *s, const struct migstream_record *rec);
	/* Only after a clean end (STREAM_END read, nothing after it). */
	int (*end)(void *ctx, struct cat_stream *s);
};

/* Opens path ("-": standard input) and reads it; returns an exit code. */
int cat_scan(const struct cat_opts *o, const char *path, const struct migstream_reader_opts *ropts,
	     const struct cat_scan_ops *ops, void *ctx);

/*
 * A record the reader passed that the mode refuses: "FILE: record N (TYPE)
 * at byte X: WHY", said as the reader's errors are (and as the last JSON
 * line with --json). Returns the exit code (4).
 */
int cat_bad_record(const struct cat_opts *o, const struct cat_stream *s,
		   const struct migstream_record *rec, const char *why);

/* An error as one line on stderr, and with --json also as the last JSON line. */
void cat_report_line(const struct cat_opts *o, const struct cat_stream *s, int err,
		     const char *line);

/* Opens an input for reading: fd, or -1 after printing why (exit 1). */
int cat_open_input(const char *path, const char **name);
/*
 * Whether to draw lib/common/progress's line: as it says, except that a listing
 * on the terminal would be garbled by it.
 */
bool cat_progress_wanted(const struct cat_opts *o);
void cat_close_input(int fd);

#endif
