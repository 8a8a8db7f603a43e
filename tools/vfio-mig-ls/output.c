// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vfio-mig-ls output; see output.h.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/json-doc.h"
#include "common/strutils.h"
#include "output.h"

/* A value as table text: "-" when unknown; bytes outside printable ASCII (and '\') as \xNN. */
static void value_text(const struct ls_value *v, bool bytes, char *buf, size_t len)
{
	size_t o = 0;

	switch (v->kind) {
	case LS_VAL_NONE:
		snprintf(buf, len, "-");
		return;
	case LS_VAL_NUM:
		snprintf(buf, len, "%" PRIu64, v->num);
		return;
	case LS_VAL_SIZE:
		if (bytes)
			snprintf(buf, len, "%" PRIu64, v->num);
		else
			vmt_format_size_as(v->num, VMT_SIZE_SHORT, buf, len);
		return;
	case LS_VAL_BOOL:
		snprintf(buf, len, "%s", v->yes ? "yes" : "no");
		return;
	case LS_VAL_STR:
	case LS_VAL_FLAGS:
		break;
	}
	for (const unsigned char *p = (const unsigned char *)v->str; *p && o + 5 < len; p++) {
		if (*p <= ' ' || *p >= 0x7f || *p == '\\')
			o += snprintf(buf + o, len - o, "\\x%02x", *p);
		else
			buf[o++] = (char)*p;
	}
	buf[o] = '\0';
}

#define CELL_MAX 512

static void print_row(FILE *out, char (*cells)[CELL_MAX], const int *width,
		      const struct ls_output_opts *o)
{
	for (int c = 0; c < o->ncols; c++) {
		bool last = c + 1 == o->ncols;
		int pad = o->raw ? 0 : width[c] - (int)strlen(cells[c]);

		if (c)
			putc(' ', out);
		if (ls_columns[o->cols[c]].right)
			fprintf(out, "%*s%s", pad, "", cells[c]);
		else
			fprintf(out, "%s%*s", cells[c], last ? 0 : pad, "");
	}
	putc('\n', out);
}

int ls_print_table(FILE *out, const struct ls_device *devs, size_t n,
		   const struct ls_output_opts *o)
{
	/* Every cell first: the widths depend on all of them. */
	char(*cells)[CELL_MAX] = calloc((n + 1) * (size_t)o->ncols, CELL_MAX);
	int width[LS_NCOLUMNS] = { 0 };

	if (!cells)
		return -ENOMEM;
	for (int c = 0; c < o->ncols; c++)
		snprintf(cells[c], CELL_MAX, "%s", ls_columns[o->cols[c]].name);
	for (size_t i = 0; i < n; i++) {
		for (int c = 0; c < o->ncols; c++) {
			struct ls_value v;

			ls_column_value(&devs[i], o->cols[c], &v);
			value_text(&v, o->bytes, cells[(i + 1) * o->ncols + c], CELL_MAX);
		}
	}
	for (size_t r = o->no_headings ? 1 : 0; r <= n; r++)
		for (int c = 0; c < o->ncols; c++) {
			int w = (int)strlen(cells[r * o->ncols + c]);

			if (w > width[c])
				width[c] = w;
		}
	for (size_t r = o->no_headings ? 1 : 0; r <= n; r++)
		print_row(out, cells + r * o->ncols, width, o);
	free(cells);
	return 0;
}

static void add_value(struct json_object *obj, const struct ls_column_info *col,
		      const struct ls_value *v)
{
	const char *key = col->json_key;
	char names_key[64];

	switch (v->kind) {
	case LS_VAL_FLAGS:
		vmt_json_add_flags(obj, key, v->num, col->flag_name);
		break;
	case LS_VAL_STR:
		vmt_json_add_str(obj, key, v->str);
		break;
	case LS_VAL_NUM:
	case LS_VAL_SIZE:
		vmt_json_add_u64(obj, key, v->num);
		break;
	case LS_VAL_BOOL:
		vmt_json_add_bool(obj, key, v->yes);
		break;
	default:
		vmt_json_add_null(obj, key);
		/* Unknown flags: both keys there, both null. */
		if (col->flag_name) {
			snprintf(names_key, sizeof(names_key), "%s_names", key);
			vmt_json_add_null(obj, names_key);
		}
	}
}

int ls_print_json(FILE *out, const struct ls_device *devs, size_t n, const struct ls_output_opts *o)
{
	struct json_object *doc = vmt_json_doc_new("vfio-mig-ls", LS_JSON_SCHEMA_VERSION);
	struct json_object *list = doc ? vmt_json_add_array(doc, "devices") : NULL;

	for (size_t i = 0; list && i < n; i++) {
		struct json_object *dev = vmt_json_append_object(list);

		for (int c = 0; dev && c < o->ncols; c++) {
			struct ls_value v;

			ls_column_value(&devs[i], o->cols[c], &v);
			add_value(dev, &ls_columns[o->cols[c]], &v);
		}
	}
	/* A partial document is worse than none: vmt_json_emit() frees doc either way. */
	if (doc && !list) {
		json_object_put(doc);
		doc = NULL;
	}
	return vmt_json_emit(out, doc);
}
