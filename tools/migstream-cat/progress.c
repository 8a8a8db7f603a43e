// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Progress on stderr.
 */
#include <stdio.h>
#include <time.h>

#include "closestream.h"
#include "progress.h"
#include "strutils.h"
#include "timeutil.h"

#define PROGRESS_INTERVAL_NS 200000000ull

bool cat_progress_wanted(const struct cat_opts *o)
{
	if (o->progress)
		return true;
	if (o->quiet)
		return false;
	/* A listing on the terminal would be garbled by a progress line. */
	switch (o->mode) {
	case CAT_MODE_VERIFY:
	case CAT_MODE_EXTRACT:
	case CAT_MODE_WRAP:
	case CAT_MODE_RECOMPRESS:
		return vmt_stderr_is_terminal();
	default:
		return false;
	}
}

void cat_progress_start(struct cat_progress *p, bool on, const char *name)
{
	p->on = on;
	p->drawn = false;
	p->name = name;
	p->start_ns = vmt_monotonic_ns();
	p->last_ns = p->start_ns;
}

void cat_progress_update(struct cat_progress *p, uint64_t bytes)
{
	char size[32];
	uint64_t t;

	if (!p->on)
		return;
	t = vmt_monotonic_ns();
	if (t - p->last_ns < PROGRESS_INTERVAL_NS)
		return;
	p->last_ns = t;
	double secs = (double)(t - p->start_ns) / 1e9;

	fprintf(stderr, "\r%s: %s, %.1f MiB/s   ", p->name, vmt_format_size(bytes, size, sizeof(size)),
		secs > 0 ? (double)bytes / secs / (1 << 20) : 0.0);
	fflush(stderr);
	p->drawn = true;
}

void cat_progress_end(struct cat_progress *p)
{
	if (p->on && p->drawn) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
	}
	p->drawn = false;
}
