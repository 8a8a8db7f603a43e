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
#include "common/json-doc.h"
#include "common/textescape.h"
#include "vfio/state.h"

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
	[CAT_COL_CHECK] = { "check", "CHECK", 5, false,
			    "checksums (always ok: bad records stop the listing)" },
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
 * the terminal showing the listing is written as \xNN (lib/common/textescape).
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

void cat_result_flags_string(uint32_t flags, const char *none, char *buf, size_t len)
{
	size_t used = 0;

	snprintf(buf, len, "%s", none);
	for (unsigned int bit = 0; bit < 32 && used < len; bit++) {
		const char *name = migstream_result_flag_name(bit);
		int n;

		if (!(flags & (1u << bit)))
			continue;
		n = name ? snprintf(buf + used, len - used, "%s%s", used ? "|" : "", name)
			 : snprintf(buf + used, len - used, "%sbit %u", used ? "|" : "", bit);
		used += n < 0 ? 0 : (size_t)n;
	}
}

/* "0:RUNNING:LOADED|IN_STATE": a LOAD_RESULT entry in INFO. */
static int format_target(char *buf, size_t len, const struct migstream_result_device *e)
{
	char flags[64];

	cat_result_flags_string(e->flags, "-", flags, sizeof(flags));
	return snprintf(buf, len, "%" PRIu32 ":%s:%s", e->device,
			e->state == MIGSTREAM_STATE_UNKNOWN ? "unknown" : vmt_state_name(e->state),
			flags);
}

/* One field's value as INFO shows it; the number of characters it took (or wanted). */
static int format_value(char *buf, size_t len, const struct cat_field *f)
{
	switch (f->kind) {
	case CAT_FIELD_NUM:
		return snprintf(buf, len, "%" PRIu64, f->num);
	case CAT_FIELD_HEX:
		return snprintf(buf, len, "0x%0*" PRIx64, f->width, f->num);
	case CAT_FIELD_FLAGS:
		return snprintf(buf, len, "0x%" PRIx64, f->num);
	case CAT_FIELD_SIZE:
		if (f->num == MIGSTREAM_SIZE_UNKNOWN)
			return snprintf(buf, len, "unknown");
		return snprintf(buf, len, "%" PRIu64, f->num);
	case CAT_FIELD_DIGEST:
		return snprintf(buf, len, "%016" PRIx64, f->num);
	case CAT_FIELD_STR:
	case CAT_FIELD_TIME:
		return snprintf(buf, len, "%s", f->str);
	case CAT_FIELD_TARGETS:
		break;
	}
	return 0;
}

void cat_format_info(const struct cat_row *row, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (int i = 0; i < row->nfields && used < len; i++) {
		const struct cat_field *f = &row->fields[i];
		int n;

		if (!f->text_key || f->absent || (f->quiet_empty && !f->str[0]))
			continue;
		if (f->kind == CAT_FIELD_TARGETS) {
			for (uint32_t t = 0; t < f->result->device_count && used < len; t++) {
				n = snprintf(buf + used, len - used, "%s%s=", used ? " " : "",
					     f->text_key);
				used += n < 0 ? 0 : (size_t)n;
				if (used < len)
					n = format_target(buf + used, len - used,
							  &f->result->devices[t]);
				used += n < 0 ? 0 : (size_t)n;
			}
			continue;
		}
		n = snprintf(buf + used, len - used, "%s%s%s", used ? " " : "", f->text_key,
			     f->text_key[0] ? "=" : "");
		used += n < 0 ? 0 : (size_t)n;
		if (used < len)
			n = format_value(buf + used, len - used, f);
		used += n < 0 ? 0 : (size_t)n;
	}
}

/* "targets": [ { "device", "state", "flags", "flags_names" }, ... ] */
static void add_targets_json(struct json_object *doc, const char *key,
			     const struct migstream_load_result *r)
{
	struct json_object *list = vmt_json_add_array(doc, key);

	for (uint32_t i = 0; list && i < r->device_count; i++) {
		const struct migstream_result_device *e = &r->devices[i];
		struct json_object *o = vmt_json_append_object(list);

		if (!o)
			return;
		vmt_json_add_u64(o, "device", e->device);
		if (e->state == MIGSTREAM_STATE_UNKNOWN)
			vmt_json_add_null(o, "state");
		else
			vmt_json_add_str(o, "state", vmt_state_name(e->state));
		vmt_json_add_flags(o, "flags", e->flags, migstream_result_flag_name);
	}
}

static void add_field_json(struct json_object *doc, const struct cat_field *f)
{
	char key[64], text[32];

	if (f->absent) {
		vmt_json_add_null(doc, f->json_key);
		return;
	}
	switch (f->kind) {
	case CAT_FIELD_NUM:
	case CAT_FIELD_HEX:
		vmt_json_add_u64(doc, f->json_key, f->num);
		return;
	case CAT_FIELD_SIZE:
		if (f->num == MIGSTREAM_SIZE_UNKNOWN)
			vmt_json_add_null(doc, f->json_key);
		else
			vmt_json_add_u64(doc, f->json_key, f->num);
		return;
	case CAT_FIELD_FLAGS:
		vmt_json_add_flags(doc, f->json_key, f->num, f->flag_name);
		return;
	case CAT_FIELD_DIGEST:
		format_value(text, sizeof(text), f);
		vmt_json_add_str(doc, f->json_key, text);
		return;
	case CAT_FIELD_STR:
		vmt_json_add_str(doc, f->json_key, f->str);
		return;
	case CAT_FIELD_TIME:
		vmt_json_add_str(doc, f->json_key, f->str);
		snprintf(key, sizeof(key), "%s_ns", f->json_key);
		vmt_json_add_u64(doc, key, f->num);
		return;
	case CAT_FIELD_TARGETS:
		add_targets_json(doc, f->json_key, f->result);
		return;
	}
}

int cat_print_row_json(FILE *out, const char *file, const struct cat_row *row,
		       const enum cat_column *cols, int n)
{
	struct json_object *doc = vmt_json_doc_new("migstream-cat", CAT_JSON_SCHEMA_VERSION);
	bool info = false;

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
		info |= cols[i] == CAT_COL_INFO;
	}
	/* INFO's facts under their own keys (the info string stays: schema 1 has it) */
	for (int i = 0; info && i < row->nfields; i++)
		if (row->fields[i].json_key)
			add_field_json(doc, &row->fields[i]);
	return vmt_json_emit(out, doc);
}
