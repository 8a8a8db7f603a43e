/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The reading modes that look at every record: the listing (default, also
 * --json and --dirty), --verify (the same checks, no output) and
 * --passthrough (the listing on stderr, the stream itself on stdout).
 */
#ifndef VMT_CAT_LISTING_H
#define VMT_CAT_LISTING_H

#include "cat.h"

/* Every input in turn, each its own stream; returns an exit code. */
int cat_list_inputs(const struct cat_opts *o);

#endif
