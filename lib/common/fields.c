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

static void field_value(const struct vmt_field *f, const void *obj, const void *ctx,
			struct vmt_field_value *v)
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

/* "1.2 MiB/s": in the IEC units of every size the tools print; 0 B/s over no time. */
static const char *format_rate(uint64_t bytes, uint64_t ns, char *buf, size_t len)
{
	double per_s = ns ? (double)bytes * 1e9 / (double)ns : 0.0;
	size_t n;

	vmt_format_size((uint64_t)per_s, buf, len);
	n = strlen(buf);
	snprintf(buf + n, len - n, "/s");
	return buf;
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
		snprintf(buf, len, "%" PRIu64 " (%s)", v->num,
			 vmt_format_size(v->num, size, sizeof(size)));
		return buf;
	case VMT_FIELD_SIZE:
		return vmt_format_size(v->num, buf, len);
	case VMT_FIELD_SECONDS:
		snprintf(buf, len, "%.3f", v->dbl);
		return buf;
	case VMT_FIELD_MIB_RATE:
		snprintf(buf, len, "%.1f", v->dbl);
		return buf;
	case VMT_FIELD_RATE:
		return format_rate(v->num, v->ns, buf, len);
	case VMT_FIELD_DIGEST:
		snprintf(buf, len, "%016" PRIx64, v->num);
		return buf;
	case VMT_FIELD_RATIO:
		snprintf(buf, len, "%.2f", v->dbl);
		return buf;
	case VMT_FIELD_STR:
		return v->str ? v->str : "";
	case VMT_FIELD_PRINTABLE:
		return vmt_escape_text(v->str ? v->str : "", buf, len);
	case VMT_FIELD_NULL:
	case VMT_FIELD_STRINGS:
	case VMT_FIELD_OBJECTS:
		break;
	}
	return NULL;
}

void vmt_fields_text(FILE *out, const struct vmt_field *fields, size_t n, unsigned int from,
		     unsigned int to, const void *obj, const void *ctx)
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

static void add_strings(struct json_object *doc, const char *key, const struct vmt_field_array *a)
{
	struct json_object *array = vmt_json_add_array(doc, key);
	const char *const *strs = a->items;

	for (size_t i = 0; i < a->count; i++)
		vmt_json_append_str(array, strs[i]);
}

static void add_objects(struct json_object *doc, const char *key, const struct vmt_field_array *a,
			const void *ctx)
{
	struct json_object *array = vmt_json_add_array(doc, key);

	for (size_t i = 0; i < a->count; i++)
		vmt_fields_json(vmt_json_append_object(array), a->fields, a->nfields,
				(const char *)a->items + i * a->item_size, ctx);
}

void vmt_fields_json(struct json_object *doc, const struct vmt_field *fields, size_t n,
		     const void *obj, const void *ctx)
{
	for (size_t i = 0; i < n; i++) {
		const struct vmt_field *f = &fields[i];
		struct vmt_field_value v;
		char digest[20];

		if (!f->json_key || !field_shown(f, obj, ctx))
			continue;
		field_value(f, obj, ctx, &v);
		if (v.json_null) {
			vmt_json_add_null(doc, f->json_key);
			continue;
		}
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
		case VMT_FIELD_RATE:
			vmt_json_add_rate(doc, f->json_key, v.num, v.ns);
			break;
		case VMT_FIELD_DIGEST:
			vmt_json_add_str(doc, f->json_key, value_text(&v, digest, sizeof(digest)));
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
		case VMT_FIELD_STRINGS:
			add_strings(doc, f->json_key, &v.array);
			break;
		case VMT_FIELD_OBJECTS:
			add_objects(doc, f->json_key, &v.array, ctx);
			break;
		}
	}
}
