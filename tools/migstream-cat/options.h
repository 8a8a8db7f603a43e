/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * migstream-cat's command line. struct cat_opts is in cat.h: every mode
 * module reads it. The strings stay lib/common/cli's until
 * cat_options_free().
 */
#ifndef VMT_CAT_OPTIONS_H
#define VMT_CAT_OPTIONS_H

#include "cat.h"

/* Parses argv; usage errors exit 2, --help and --version exit 0. */
void cat_options_parse(struct cat_opts *o, int argc, const char **argv);
/* Frees what o points into (the inputs, the outputs, the command line's arguments). */
void cat_options_free(struct cat_opts *o);

#endif
