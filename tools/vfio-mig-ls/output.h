/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vfio-mig-ls output: an aligned table (lsblk's default), raw lines (-r,
 * one space between values) or one JSON document (-J, json-c).
 */
#ifndef VFIO_MIG_LS_OUTPUT_H
#define VFIO_MIG_LS_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "columns.h"
#include "probe.h"

/* The -J document's "schema" is "vfio-mig-ls/2": a consumer checks it before reading on. */
#define LS_JSON_SCHEMA_VERSION 2

struct ls_output_opts {
	const enum ls_column *cols;
	int ncols;
	bool raw;	  /* -r */
	bool no_headings; /* -n */
	bool bytes;	  /* -b: sizes in bytes */
};

/* 0, or -ENOMEM. */
int ls_print_table(FILE *out, const struct ls_device *devs, size_t n,
		   const struct ls_output_opts *o);
/* 0, or -errno (-ENOMEM, or the write's error). */
int ls_print_json(FILE *out, const struct ls_device *devs, size_t n,
		  const struct ls_output_opts *o);

#endif
