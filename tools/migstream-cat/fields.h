/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The columns of a record listing. One table drives both the readable
 * listing and --json, so the two always carry the same facts under the same
 * names (util-linux lsmem does the same).
 */
#ifndef VMT_CAT_FIELDS_H
#define VMT_CAT_FIELDS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "migstream.h"

enum cat_column {
	CAT_COL_OFFSET,
	CAT_COL_SEQ,
	CAT_COL_TYPE,
	CAT_COL_DEVICE,
	CAT_COL_PHASE,
	CAT_COL_CHUNK,
	CAT_COL_RAW,
	CAT_COL_STORED,
	CAT_COL_COMPRESSION,
	CAT_COL_CHECK,
	CAT_COL_INFO,
	CAT_NCOLUMNS
};

struct cat_column_info {
	const char *name;   /* -o name and JSON key */
	const char *header; /* listing heading */
	int width;	    /* listing width; 0: last column, unpadded */
	bool right;	    /* right-aligned (numbers) */
	const char *help;   /* for --help */
};

extern const struct cat_column_info cat_columns[CAT_NCOLUMNS];

/* One value of a row: absent ("-" / null), a number or a string. */
struct cat_value {
	enum { CAT_VAL_NONE, CAT_VAL_NUM, CAT_VAL_STR } kind;
	uint64_t num;
	const char *str;
};

/* A listing row; str values point into info or to constant strings. */
struct cat_row {
	struct cat_value v[CAT_NCOLUMNS];
	char info[MIGSTREAM_MAX_STRING + 1024];
};

/* Parses "offset,type,..." (case-insensitive); -EINVAL naming nothing. */
int cat_parse_columns(const char *list, enum cat_column *out, int *n);

/* fputs() for text from a stream, escaped as vmt_escape_text() says. */
void cat_fputs_printable(const char *text, FILE *out);

void cat_print_heading(FILE *out, const enum cat_column *cols, int n);
void cat_print_row_text(FILE *out, const struct cat_row *row, const enum cat_column *cols, int n);
/* One JSON object on one line; "file" first, then the columns. */
/* The "schema" of every --json line: "migstream-cat/1" (migstream-cat(1) documents it). */
#define CAT_JSON_SCHEMA_VERSION 1

/* One record as a JSON line: "schema", "file", then the columns. 0 or -errno. */
int cat_print_row_json(FILE *out, const char *file, const struct cat_row *row,
		       const enum cat_column *cols, int n);

#endif
