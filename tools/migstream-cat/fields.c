// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The listing's column table and the two ways of printing a row.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fields.h"
#include "json-doc.h"
#include "textescape.h"

const struct cat_column_info cat_columns[CAT_NCOLUMNS] = {
	[CAT_COL_OFFSET] = { "offset", "OFFSET", 12, true, "byte offset of the record header" },
	[CAT_COL_SEQ] = { "seq", "SEQ", 7, true, "record sequence number" },
	[CAT_COL_TYPE] = { "type", "TYPE", 13, false, "record type" },
	[CAT_COL_DEVICE] = { "device", "DEV", 3, true, "device (or dirty tracker) index" },
	[CAT_COL_PHASE] = { "phase", "PHASE", 15, false, "migration phase of DATA" },
	[CAT_COL_CHUNK] = { "chunk", "CHUNK", 7, true, "DATA chunk index" },
	[CAT_COL_RAW] = { "raw_len", "RAW", 8, true, "payload length, decompressed" },
	[CAT_COL_STORED] = { "stored_len", "STORED", 8, true, "payload length on the wire" },
	[CAT_COL_COMPRESSION] = { "compression", "COMP", 4, false, "payload compression" },
	[CAT_COL_CHECK] = { "check", "CHECK", 5, false, "checksums (always ok: bad records stop the listing)" },
	[CAT_COL_INFO] = { "info", "INFO", 0, false, "what the record says" },
};

int cat_parse_columns(const char *list, enum cat_column *out, int *n)
{
	const char *p = list;

	*n = 0;
	while (*p) {
		size_t len = strcspn(p, ",");
		int found = -1;

		for (int c = 0; c < CAT_NCOLUMNS; c++) {
			if (strlen(cat_columns[c].name) == len &&
			    strncasecmp(p, cat_columns[c].name, len) == 0)
				found = c;
		}
		if (found < 0 || *n >= CAT_NCOLUMNS)
			return -EINVAL;
		out[(*n)++] = (enum cat_column)found;
		p += len;
		if (*p == ',')
			p++;
	}
	return *n ? 0 : -EINVAL;
}

/*
 * Strings in a stream come from the network: everything that could drive
 * the terminal showing the listing is written as \xNN (lib/textescape).
 */
static const char *printable(const char *text)
{
	static char shown[VMT_ESCAPED_SIZE(sizeof(((struct cat_row *)0)->info))];

	return vmt_escape_text(text, shown, sizeof(shown));
}

void cat_fputs_printable(const char *text, FILE *out)
{
	fputs(printable(text), out);
}

static void print_cell(FILE *out, const char *text, const struct cat_column_info *ci, bool last)
{
	const char *shown = printable(text);
	size_t width = strlen(shown);
	size_t pad = ci->width > 0 && width < (size_t)ci->width ? (size_t)ci->width - width : 0;

	if (ci->right)
		fprintf(out, "%*s", (int)pad, "");
	fputs(shown, out);
	if (!ci->right && !last)
		fprintf(out, "%*s", (int)pad, "");
}

void cat_print_heading(FILE *out, const enum cat_column *cols, int n)
{
	for (int i = 0; i < n; i++) {
		if (i)
			putc(' ', out);
		print_cell(out, cat_columns[cols[i]].header, &cat_columns[cols[i]], i == n - 1);
	}
	putc('\n', out);
}

void cat_print_row_text(FILE *out, const struct cat_row *row, const enum cat_column *cols, int n)
{
	char num[32];

	for (int i = 0; i < n; i++) {
		const struct cat_value *v = &row->v[cols[i]];
		const char *text = "-";

		if (v->kind == CAT_VAL_NUM) {
			snprintf(num, sizeof(num), "%" PRIu64, v->num);
			text = num;
		} else if (v->kind == CAT_VAL_STR) {
			text = v->str;
		}
		if (i)
			putc(' ', out);
		print_cell(out, text, &cat_columns[cols[i]], i == n - 1);
	}
	putc('\n', out);
}

int cat_print_row_json(FILE *out, const char *file, const struct cat_row *row,
		       const enum cat_column *cols, int n)
{
	struct json_object *doc = vmt_json_doc_new("migstream-cat", CAT_JSON_SCHEMA_VERSION);

	vmt_json_add_str(doc, "file", file);
	for (int i = 0; i < n; i++) {
		const struct cat_value *v = &row->v[cols[i]];
		const char *key = cat_columns[cols[i]].name;

		if (v->kind == CAT_VAL_NUM)
			vmt_json_add_u64(doc, key, v->num);
		else if (v->kind == CAT_VAL_STR)
			vmt_json_add_str(doc, key, v->str);
		else
			vmt_json_add_null(doc, key);
	}
	return vmt_json_emit(out, doc);
}
