/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The modes that write a new stream: --wrap (raw device bytes in, a valid
 * one-device stream out), --recompress (a stream in, the same records
 * re-encoded with another compression out), --merge (the channels of a set
 * in, one whole stream out) and --split (one stream in, the channels of a
 * new set out).
 */
#ifndef VMT_CAT_CONVERT_H
#define VMT_CAT_CONVERT_H

#include "cat.h"

int cat_wrap(const struct cat_opts *o);
int cat_recompress(const struct cat_opts *o);
int cat_merge(const struct cat_opts *o);
int cat_split(const struct cat_opts *o);

#endif
