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

#include "stream/migstream.h"
#include "stream/reply.h"

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
	enum {
		CAT_VAL_NONE,
		CAT_VAL_NUM,
		CAT_VAL_STR
	} kind;
	uint64_t num;
	const char *str;
};

/*
 * One fact of what a record says: a key=value word of the INFO column, a
 * key of its --json line, or both, so that the two cannot drift apart.
 */
struct cat_field {
	const char *text_key; /* the INFO word's key; "": the value alone; NULL: JSON only */
	const char *json_key; /* NULL: INFO only */
	enum cat_field_kind {
		CAT_FIELD_NUM,	/* decimal */
		CAT_FIELD_HEX,	/* 0x and width hexadecimal digits in INFO, a number in JSON */
		CAT_FIELD_SIZE, /* decimal, MIGSTREAM_SIZE_UNKNOWN: "unknown" and null */
		CAT_FIELD_STR,	/* text from the stream or a name */
		CAT_FIELD_TIME, /* ns since the epoch: ISO 8601 in both, JSON_KEY_ns as a number too */
		CAT_FIELD_DIGEST,  /* 16 hexadecimal digits, a string in JSON (beyond 2^53) */
		CAT_FIELD_FLAGS,   /* 0x-hexadecimal in INFO; JSON: the number and JSON_KEY_names */
		CAT_FIELD_TARGETS, /* LOAD_RESULT's entries: "target=" words, a JSON array */
	} kind;
	bool absent;	  /* not in this record: left out of INFO, null in JSON */
	bool quiet_empty; /* CAT_FIELD_STR: left out of INFO when "" */
	int width;	  /* CAT_FIELD_HEX: digits */
	uint64_t num;
	const char *str;
	const char *(*flag_name)(unsigned int bit); /* CAT_FIELD_FLAGS */
	const struct migstream_load_result *result; /* CAT_FIELD_TARGETS */
};

#define CAT_MAX_FIELDS 24

/* A listing row; str values point into the row's buffers or to constant strings. */
struct cat_row {
	struct cat_value v[CAT_NCOLUMNS];
	struct cat_field fields[CAT_MAX_FIELDS];
	int nfields;
	char info[MIGSTREAM_MAX_STRING + 4096];
	char scratch[512]; /* formatted values (times, set ids) the fields point to */
	size_t scratch_used;
	struct migstream_load_result result; /* a LOAD_RESULT's, decoded */
};

/* A LOAD_RESULT entry's flags as "LOADED|IN_STATE" (none: what no flag is). */
void cat_result_flags_string(uint32_t flags, const char *none, char *buf, size_t len);

/* The INFO column's text: the row's fields as key=value words. */
void cat_format_info(const struct cat_row *row, char *buf, size_t len);

/* Parses "offset,type,..." (case-insensitive); -EINVAL naming nothing. */
int cat_parse_columns(const char *list, enum cat_column *out, int *n);

/* fputs() for text from a stream, escaped as vmt_escape_text() says. */
void cat_fputs_printable(const char *text, FILE *out);

void cat_print_heading(FILE *out, const enum cat_column *cols, int n);
void cat_print_row_text(FILE *out, const struct cat_row *row, const enum cat_column *cols, int n);
/* One JSON object on one line; "file" first, then the columns. */
/* The "schema" of every --json line: "migstream-cat/1" (migstream-cat(1) documents it). */
#define CAT_JSON_SCHEMA_VERSION 1

/*
 * One record as a JSON line: "schema", "file", then the columns, and with
 * the info column the record's fields under their own keys. 0 or -errno.
 */
int cat_print_row_json(FILE *out, const char *file, const struct cat_row *row,
		       const enum cat_column *cols, int n);

#endif
