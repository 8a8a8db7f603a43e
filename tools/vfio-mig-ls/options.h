/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vfio-mig-ls's command line: the columns, the output form and the
 * devices named. The names stay lib/common/cli's until ls_options_free().
 */
#ifndef VFIO_MIG_LS_OPTIONS_H
#define VFIO_MIG_LS_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

#include "columns.h"

/* More DEVICE operands than this is a usage error (no host has that many). */
#define LS_MAX_NAMES 4096

struct ls_options {
	enum ls_column cols[LS_NCOLUMNS * 2];
	int ncols;
	bool json, raw, no_headings, bytes, no_open;
	const char *names[LS_MAX_NAMES + 1]; /* DEVICE operands, NULL-terminated */
	size_t nnames;			     /* 0: every device */
};

/* Parses argv; usage errors exit 2, --help and --version exit 0. */
void ls_options_parse(struct ls_options *o, int argc, const char **argv);
/* Frees the command line's arguments o's strings point into. */
void ls_options_free(struct ls_options *o);

#endif
