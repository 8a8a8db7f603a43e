/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What every tool's --json output shares, over json-c: the schema key each
 * document starts with, one set of units (README "Conventions": sizes in
 * bytes as integers, durations in seconds as numbers with fractions, rates
 * in bytes per second), flags as a number plus an array of names, and
 * strings that always make valid JSON (valid UTF-8 passes through; a byte
 * that is not UTF-8 becomes the four characters \xHH).
 *
 * A field whose value cannot be allocated is left out; vmt_json_emit()
 * fails (-ENOMEM) when the document as a whole cannot be serialised.
 */
#ifndef VMT_JSON_DOC_H
#define VMT_JSON_DOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json_object.h>

/* A new object whose first key is "schema": "TOOL/VERSION"; NULL without memory. */
struct json_object *vmt_json_doc_new(const char *tool, unsigned int version);

/*
 * A string value, NULL for a NULL s. Bytes that do not form valid UTF-8
 * (stray continuation bytes, overlong forms, surrogates, truncated
 * sequences, beyond U+10FFFF) are written as \xHH; control characters are
 * escaped by the serialiser.
 */
struct json_object *vmt_json_string_new(const char *s);

/* The valid-UTF-8 copy of s that vmt_json_string_new() stores (malloc'd; NULL: no memory). */
char *vmt_json_utf8_clean(const char *s);

void vmt_json_add_str(struct json_object *obj, const char *key, const char *value);
void vmt_json_add_u64(struct json_object *obj, const char *key, uint64_t value);
void vmt_json_add_i64(struct json_object *obj, const char *key, int64_t value);
void vmt_json_add_bool(struct json_object *obj, const char *key, bool value);
void vmt_json_add_null(struct json_object *obj, const char *key);
/* A finite number with that many decimals; NaN and infinities are null. */
void vmt_json_add_double(struct json_object *obj, const char *key, double value, int decimals);
/* A duration given in nanoseconds, as seconds with nine exact decimals. */
void vmt_json_add_seconds(struct json_object *obj, const char *key, uint64_t ns);
/* bytes / (ns / 1e9) as an integer number of bytes per second; null when ns is 0. */
void vmt_json_add_rate(struct json_object *obj, const char *key, uint64_t bytes, uint64_t ns);

/*
 * Flags: "KEY": mask and "KEY_names": [names of the set bits, lowest first].
 * name_of(bit) gives a bit's name or NULL; an unnamed bit is "bit N".
 */
void vmt_json_add_flags(struct json_object *obj, const char *key, uint64_t mask,
			const char *(*name_of)(unsigned int bit));

/* A new array or object stored under key in obj (owned by obj); NULL without memory. */
struct json_object *vmt_json_add_array(struct json_object *obj, const char *key);
struct json_object *vmt_json_add_object(struct json_object *obj, const char *key);
/* A new object appended to array (owned by array); NULL without memory. */
struct json_object *vmt_json_append_object(struct json_object *array);
void vmt_json_append_str(struct json_object *array, const char *value);

/* The document on one line, then "\n", flushed. 0 or -errno. */
int vmt_json_write(FILE *out, struct json_object *doc);
/* vmt_json_write(), then the document is freed. NULL doc: -ENOMEM. */
int vmt_json_emit(FILE *out, struct json_object *doc);
/*
 * The document as the file name (a --summary-file), written through
 * lib/common/outfile: a temporary renamed into place once complete, so a failure
 * leaves what was there. The document is freed. 0 or -errno.
 */
int vmt_json_emit_file(const char *name, struct json_object *doc);

#endif
