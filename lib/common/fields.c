// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Field lists; see fields.h.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/fields.h"
#include "common/json-doc.h"
#include "common/strutils.h"
#include "common/textescape.h"

static void field_value(const struct vmt_field *f, const void *obj, const void *ctx, struct vmt_field_value *v)
{
	*v = (struct vmt_field_value){ .kind = f->kind };
	if (f->get)
		f->get(obj, ctx, v);
	else
		memcpy(&v->num, (const char *)obj + f->offset, sizeof(v->num));
}

static bool field_shown(const struct vmt_field *f, const void *obj, const void *ctx)
{
	return !f->when || f->when(obj, ctx);
}

/* A piece of text with its "%s" replaced by value (no printf: pieces are data). */
static void print_piece(FILE *out, const char *piece, const char *value)
{
	const char *at = strstr(piece, "%s");

	if (!at) {
		fputs(piece, out);
		return;
	}
	fwrite(piece, 1, (size_t)(at - piece), out);
	fputs(value, out);
	fputs(at + 2, out);
}

/* A value as its text says it; NULL: nothing to say. */
static const char *value_text(const struct vmt_field_value *v, char *buf, size_t len)
{
	char size[32];

	switch (v->kind) {
	case VMT_FIELD_NUM:
	case VMT_FIELD_BOOL:
		snprintf(buf, len, "%" PRIu64, v->num);
		return buf;
	case VMT_FIELD_FLAGS:
		snprintf(buf, len, "0x%" PRIx64, v->num);
		return buf;
	case VMT_FIELD_BYTES:
		snprintf(buf, len, "%" PRIu64 " (%s)", v->num, vmt_format_size(v->num, size, sizeof(size)));
		return buf;
	case VMT_FIELD_SIZE:
		return vmt_format_size(v->num, buf, len);
	case VMT_FIELD_SECONDS:
		snprintf(buf, len, "%.3f", v->dbl);
		return buf;
	case VMT_FIELD_MIB_RATE:
		snprintf(buf, len, "%.1f", v->dbl);
		return buf;
	case VMT_FIELD_RATIO:
		snprintf(buf, len, "%.2f", v->dbl);
		return buf;
	case VMT_FIELD_STR:
		return v->str ? v->str : "";
	case VMT_FIELD_PRINTABLE:
		return vmt_escape_text(v->str ? v->str : "", buf, len);
	case VMT_FIELD_NULL:
		break;
	}
	return NULL;
}

void vmt_fields_text(FILE *out, const struct vmt_field *fields, size_t n, unsigned int from, unsigned int to,
		     const void *obj, const void *ctx)
{
	char buf[VMT_ESCAPED_SIZE(256)]; /* a name from a stream, escaped */

	for (unsigned int pos = from; pos <= to; pos++)
		for (size_t i = 0; i < n; i++) {
			const struct vmt_field *f = &fields[i];
			struct vmt_field_value v;
			const char *text;

			if (f->text_pos != pos || !f->text || !field_shown(f, obj, ctx))
				continue;
			field_value(f, obj, ctx, &v);
			text = value_text(&v, buf, sizeof(buf));
			if (text)
				print_piece(out, f->text, text);
		}
}

void vmt_fields_json(struct json_object *doc, const struct vmt_field *fields, size_t n, const void *obj,
		     const void *ctx)
{
	for (size_t i = 0; i < n; i++) {
		const struct vmt_field *f = &fields[i];
		struct vmt_field_value v;

		if (!f->json_key || !field_shown(f, obj, ctx))
			continue;
		field_value(f, obj, ctx, &v);
		switch (v.kind) {
		case VMT_FIELD_NUM:
		case VMT_FIELD_BYTES:
		case VMT_FIELD_SIZE:
			vmt_json_add_u64(doc, f->json_key, v.num);
			break;
		case VMT_FIELD_SECONDS:
			vmt_json_add_seconds(doc, f->json_key, v.ns);
			break;
		case VMT_FIELD_RATIO:
			vmt_json_add_double(doc, f->json_key, v.dbl, 4);
			break;
		case VMT_FIELD_MIB_RATE:
			vmt_json_add_rate(doc, f->json_key, v.num, v.ns);
			break;
		case VMT_FIELD_STR:
		case VMT_FIELD_PRINTABLE:
			vmt_json_add_str(doc, f->json_key, v.str);
			break;
		case VMT_FIELD_BOOL:
			vmt_json_add_bool(doc, f->json_key, v.num != 0);
			break;
		case VMT_FIELD_FLAGS:
			vmt_json_add_flags(doc, f->json_key, v.num, v.flag_name);
			break;
		case VMT_FIELD_NULL:
			vmt_json_add_null(doc, f->json_key);
			break;
		}
	}
}
