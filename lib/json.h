/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The little JSON the tools print: one object per line, written field by
 * field. Strings are escaped so that any device path, host or driver name
 * still gives one valid JSON line.
 */
#ifndef VMT_JSON_H
#define VMT_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* A quoted JSON string; control bytes and bytes >= 0x7f become \u00XX; NULL is null. */
void vmt_json_string(FILE *out, const char *s);

/*
 * An object being written on one line: vmt_json_begin() prints "{",
 * each field prints its ", " separator itself, vmt_json_end() prints "}\n".
 */
struct vmt_json {
	FILE *out;
	bool first;
};

void vmt_json_begin(struct vmt_json *j, FILE *out);
void vmt_json_end(struct vmt_json *j);
void vmt_json_str(struct vmt_json *j, const char *key, const char *value);
void vmt_json_u64(struct vmt_json *j, const char *key, uint64_t value);
void vmt_json_i64(struct vmt_json *j, const char *key, int64_t value);
/* Finite doubles with the given number of decimals; NaN/inf print null. */
void vmt_json_double(struct vmt_json *j, const char *key, double value, int decimals);
void vmt_json_bool(struct vmt_json *j, const char *key, bool value);
void vmt_json_null(struct vmt_json *j, const char *key);

#endif
