// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The clock is read once per record: cheap (vDSO) next to a record's
 * checksum, and a record is at most 8 MiB, so redraws stay regular.
 */
#include <stdio.h>

#include "log.h"
#include "progress.h"
#include "strutils.h"
#include "summary.h"
#include "timeutil.h"

#define PROGRESS_INTERVAL_NS 200000000ull

void load_progress_init(struct load_progress *p, bool on)
{
	*p = (struct load_progress){ .on = on, .start_ns = vmt_monotonic_ns() };
	p->last_ns = p->start_ns;
}

void load_progress_update(struct load_progress *p, uint64_t bytes)
{
	uint64_t now;
	char size[32];

	if (!p->on)
		return;
	now = vmt_monotonic_ns();
	if (now - p->last_ns < PROGRESS_INTERVAL_NS)
		return;
	p->last_ns = now;
	fprintf(stderr, "\r%s: %s read, %.1f MB/s   ", vmt_progname(),
		vmt_format_size(bytes, size, sizeof(size)),
		now > p->start_ns ? (double)bytes * 1e3 / (double)(now - p->start_ns) : 0.0);
	fflush(stderr);
	p->drawn = true;
}

void load_progress_clear(struct load_progress *p)
{
	if (!p->drawn)
		return;
	fputs("\r\033[K", stderr);
	fflush(stderr);
	p->drawn = false;
}
