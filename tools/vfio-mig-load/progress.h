/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A progress line on stderr, redrawn at most five times a second, only when
 * asked for (--progress) or when stderr is a terminal.
 */
#ifndef VMT_LOAD_PROGRESS_H
#define VMT_LOAD_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

struct load_progress {
	bool on;
	bool drawn;
	uint64_t start_ns;
	uint64_t last_ns;
};

void load_progress_init(struct load_progress *p, bool on);
/* bytes: stream bytes read so far. */
void load_progress_update(struct load_progress *p, uint64_t bytes);
/* Erases the line, before an error or the summary is printed. */
void load_progress_clear(struct load_progress *p);

#endif
