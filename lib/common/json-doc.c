// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * --json documents over json-c; see json-doc.h.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json_object.h>
#include <json-c/printbuf.h>

#include "common/c.h"
#include "common/json-doc.h"
#include "common/outfile.h"

/* One line, "/" unescaped: paths stay readable. */
#define VMT_JSON_FORMAT (JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE)

struct json_object *vmt_json_doc_new(const char *tool, unsigned int version)
{
	struct json_object *doc = json_object_new_object();
	char schema[128];

	if (!doc)
		return NULL;
	snprintf(schema, sizeof(schema), "%s/%u", tool, version);
	vmt_json_add_str(doc, "schema", schema);
	return doc;
}

/*
 * Length of the valid UTF-8 sequence at p (RFC 3629: no overlong forms, no
 * surrogates, nothing past U+10FFFF), or 0 when p does not start one.
 */
static size_t utf8_sequence_length(const unsigned char *p)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4;
	else
		return 0;
	/* The second byte's range is what excludes overlongs, surrogates and > U+10FFFF. */
	if (p[0] == 0xe0)
		lo = 0xa0;
	else if (p[0] == 0xed)
		hi = 0x9f;
	else if (p[0] == 0xf0)
		lo = 0x90;
	else if (p[0] == 0xf4)
		hi = 0x8f;
	if (p[1] < lo || p[1] > hi)
		return 0;
	/* A NUL stops the loop below: a truncated sequence is invalid. */
	for (size_t i = 2; i < len; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return len;
}

char *vmt_json_utf8_clean(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);
	/* Each invalid byte grows to four characters. */
	char *out = malloc(4 * n + 1), *w = out;

	if (!out)
		return NULL;
	while (*p) {
		size_t len = utf8_sequence_length(p);

		if (len) {
			memcpy(w, p, len);
			w += len;
			p += len;
		} else {
			w += sprintf(w, "\\x%02X", *p);
			p++;
		}
	}
	*w = '\0';
	return out;
}

static bool utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		size_t len = utf8_sequence_length(p);

		if (!len)
			return false;
		p += len;
	}
	return true;
}

/* DEL and the C1 controls (U+0080-U+009F): valid JSON raw, but they drive terminals. */
static bool needs_escape(const unsigned char *p)
{
	return *p == 0x7f || (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f);
}

static bool has_terminal_controls(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (needs_escape(p))
			return true;
	return false;
}

/*
 * json-c's own string serialiser, plus \u escapes for DEL and C1, so that
 * --json output on a terminal cannot drive it either.
 */
static int string_without_controls(struct json_object *jso, struct printbuf *pb, int level,
				   int flags)
{
	const unsigned char *p = (const unsigned char *)json_object_get_string(jso);
	const unsigned char *run = p;

	(void)level;
	(void)flags;
	printbuf_strappend(pb, "\"");
	for (; *p; p++) {
		const char *esc = NULL;
		char u[8];

		if (*p == '"')
			esc = "\\\"";
		else if (*p == '\\')
			esc = "\\\\";
		else if (*p < 0x20 || needs_escape(p)) {
			unsigned int cp = *p == 0xc2 ? p[1] : *p;

			snprintf(u, sizeof(u), "\\u%04x", cp);
			esc = u;
		}
		if (!esc)
			continue;
		printbuf_memappend(pb, (const char *)run, (int)(p - run));
		printbuf_memappend(pb, esc, (int)strlen(esc));
		if (*p == 0xc2)
			p++;
		run = p + 1;
	}
	printbuf_memappend(pb, (const char *)run, (int)(p - run));
	printbuf_strappend(pb, "\"");
	return 0;
}

struct json_object *vmt_json_string_new(const char *s)
{
	struct json_object *str;
	char *clean = NULL;

	if (!s)
		return NULL;
	if (!utf8_valid(s)) {
		clean = vmt_json_utf8_clean(s);
		if (!clean)
			return NULL;
		s = clean;
	}
	str = json_object_new_string(s);
	if (str && has_terminal_controls(s))
		json_object_set_serializer(str, string_without_controls, NULL, NULL);
	free(clean);
	return str;
}

/* json-c takes the value over, even when adding fails. */
static void add(struct json_object *obj, const char *key, struct json_object *value)
{
	if (obj)
		json_object_object_add(obj, key, value);
	else
		json_object_put(value);
}

void vmt_json_add_str(struct json_object *obj, const char *key, const char *value)
{
	add(obj, key, vmt_json_string_new(value));
}

void vmt_json_add_u64(struct json_object *obj, const char *key, uint64_t value)
{
	add(obj, key, json_object_new_uint64(value));
}

void vmt_json_add_i64(struct json_object *obj, const char *key, int64_t value)
{
	add(obj, key, json_object_new_int64(value));
}

void vmt_json_add_bool(struct json_object *obj, const char *key, bool value)
{
	add(obj, key, json_object_new_boolean(value));
}

void vmt_json_add_null(struct json_object *obj, const char *key)
{
	add(obj, key, NULL);
}

/* A number written exactly as text says (json-c keeps the text for output). */
static struct json_object *number_from_text(double value, const char *text)
{
	return json_object_new_double_s(value, text);
}

void vmt_json_add_double(struct json_object *obj, const char *key, double value, int decimals)
{
	char text[64];

	if (!isfinite(value)) {
		vmt_json_add_null(obj, key);
		return;
	}
	snprintf(text, sizeof(text), "%.*f", decimals, value);
	add(obj, key, number_from_text(value, text));
}

void vmt_json_add_seconds(struct json_object *obj, const char *key, uint64_t ns)
{
	char text[32];

	snprintf(text, sizeof(text), "%" PRIu64 ".%09" PRIu64, ns / NSEC_PER_SEC,
		 ns % NSEC_PER_SEC);
	add(obj, key, number_from_text((double)ns / 1e9, text));
}

void vmt_json_add_rate(struct json_object *obj, const char *key, uint64_t bytes, uint64_t ns)
{
	if (!ns) {
		vmt_json_add_null(obj, key);
		return;
	}
	vmt_json_add_u64(obj, key, (uint64_t)((double)bytes * 1e9 / (double)ns + 0.5));
}

void vmt_json_add_flags(struct json_object *obj, const char *key, uint64_t mask,
			const char *(*name_of)(unsigned int bit))
{
	char names_key[128];
	struct json_object *names;

	vmt_json_add_u64(obj, key, mask);
	snprintf(names_key, sizeof(names_key), "%s_names", key);
	names = vmt_json_add_array(obj, names_key);
	for (unsigned int bit = 0; bit < 64; bit++) {
		const char *name;
		char unnamed[16];

		if (!(mask & ((uint64_t)1 << bit)))
			continue;
		name = name_of(bit);
		if (!name) {
			snprintf(unnamed, sizeof(unnamed), "bit %u", bit);
			name = unnamed;
		}
		vmt_json_append_str(names, name);
	}
}

struct json_object *vmt_json_add_array(struct json_object *obj, const char *key)
{
	struct json_object *array = json_object_new_array();

	if (!obj || !array) {
		json_object_put(array);
		return NULL;
	}
	if (json_object_object_add(obj, key, array) < 0)
		return NULL;
	return array;
}

struct json_object *vmt_json_add_object(struct json_object *obj, const char *key)
{
	struct json_object *child = json_object_new_object();

	if (!obj || !child) {
		json_object_put(child);
		return NULL;
	}
	if (json_object_object_add(obj, key, child) < 0)
		return NULL;
	return child;
}

static struct json_object *append(struct json_object *array, struct json_object *value)
{
	if (!array || !value || json_object_array_add(array, value) < 0) {
		json_object_put(value);
		return NULL;
	}
	return value;
}

struct json_object *vmt_json_append_object(struct json_object *array)
{
	return append(array, json_object_new_object());
}

void vmt_json_append_str(struct json_object *array, const char *value)
{
	append(array, vmt_json_string_new(value));
}

int vmt_json_write(FILE *out, struct json_object *doc)
{
	const char *text = doc ? json_object_to_json_string_ext(doc, VMT_JSON_FORMAT) : NULL;

	if (!text)
		return -ENOMEM;
	errno = 0;
	if (fputs(text, out) == EOF || fputc('\n', out) == EOF || fflush(out) == EOF)
		return errno ? -errno : -EIO;
	return 0;
}

int vmt_json_emit(FILE *out, struct json_object *doc)
{
	int ret = vmt_json_write(out, doc);

	json_object_put(doc);
	return ret;
}

int vmt_json_emit_file(const char *name, struct json_object *doc)
{
	struct vmt_outfile out;
	FILE *f;
	int ret;

	ret = vmt_outfile_open(&out, name);
	if (ret < 0) {
		json_object_put(doc);
		return ret;
	}
	f = vmt_outfile_stream(&out);
	ret = f ? vmt_json_emit(f, doc) : -errno;
	if (!f)
		json_object_put(doc);
	if (ret == 0)
		ret = vmt_outfile_commit(&out);
	else
		vmt_outfile_abort(&out);
	vmt_outfile_free(&out);
	return ret;
}
