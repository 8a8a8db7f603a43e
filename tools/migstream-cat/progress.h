/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A progress line on stderr, redrawn a few times a second: only when asked
 * for (--progress) or when stderr is a terminal and output is not a listing
 * on that same terminal.
 */
#ifndef VMT_CAT_PROGRESS_H
#define VMT_CAT_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

#include "cat.h"

struct cat_progress {
	bool on;
	bool drawn;
	const char *name;
	uint64_t start_ns;
	uint64_t last_ns;
};

bool cat_progress_wanted(const struct cat_opts *o);
void cat_progress_start(struct cat_progress *p, bool on, const char *name);
void cat_progress_update(struct cat_progress *p, uint64_t bytes);
/* Erases the line so the next message starts clean. */
void cat_progress_end(struct cat_progress *p);

#endif
