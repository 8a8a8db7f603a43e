// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * lib/common/fields: one list, two printers. The text follows text_pos
 * whatever the list's order, the JSON follows the list; each kind says its
 * value its way in each; when and a getter's null leave a field out or
 * null; a name from a stream is escaped in the text only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/c.h"
#include "common/fields.h"
#include "common/json-doc.h"
#include "unit.h"

struct sample {
	uint64_t pages, dirty, bytes;
	const char *name;
	bool shown;
};

static void get_name(const void *obj, const void *ctx, struct vmt_field_value *v)
{
	v->str = ((const struct sample *)obj)->name;
}

static void get_ratio(const void *obj, const void *ctx, struct vmt_field_value *v)
{
	v->dbl = 2.5;
}

static void get_seconds(const void *obj, const void *ctx, struct vmt_field_value *v)
{
	v->ns = 1500000000;
	v->dbl = 1.5;
}

static void get_none(const void *obj, const void *ctx, struct vmt_field_value *v)
{
	v->kind = VMT_FIELD_NULL;
}

static bool shown(const void *obj, const void *ctx)
{
	return ((const struct sample *)obj)->shown;
}

#define U64(member) VMT_FIELD_U64(struct sample, member)

/* JSON: pages before dirty; the text says "3 dirty of 8 pages". */
static const struct vmt_field fields[] = {
	{ "name", "%s:", 1, VMT_FIELD_PRINTABLE, .get = get_name },
	{ "pages", " of %s pages", 3, VMT_FIELD_NUM, U64(pages) },
	{ "dirty", " %s dirty", 2, VMT_FIELD_NUM, U64(dirty) },
	{ "bytes", ", %s", 4, VMT_FIELD_BYTES, U64(bytes) },
	{ "size", NULL, 0, VMT_FIELD_SIZE, U64(bytes) },
	{ "ratio", ", ratio %s", 5, VMT_FIELD_RATIO, .get = get_ratio },
	{ "took_s", " in %s s", 6, VMT_FIELD_SECONDS, .get = get_seconds },
	{ NULL, " (text only)", 7, VMT_FIELD_STR },
	{ "maybe", " maybe %s", 8, VMT_FIELD_NUM, U64(pages), .when = shown },
	{ "nothing", " nothing%s", 9, VMT_FIELD_NUM, .get = get_none },
};

static char *text_of(const struct sample *s, unsigned int from, unsigned int to)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	CHECK(m != NULL);
	vmt_fields_text(m, fields, ARRAY_SIZE(fields), from, to, s, NULL);
	fclose(m);
	return buf;
}

static char *json_of(const struct sample *s)
{
	struct json_object *doc = vmt_json_doc_new("test", 1);
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	CHECK(m != NULL);
	vmt_fields_json(doc, fields, ARRAY_SIZE(fields), s, NULL);
	CHECK_EQ(vmt_json_emit(m, doc), 0);
	fclose(m);
	return buf;
}

static void test_text_in_text_order(void)
{
	struct sample s = { .pages = 8, .dirty = 3, .bytes = 1536, .name = "dev\x1b" };
	char *text = text_of(&s, 1, 100);

	CHECK_STR_CONTAINS(text, "dev\\x1b: 3 dirty of 8 pages, 1536 (1.5 KiB), ratio 2.50 in 1.500 s (text only)");
	CHECK(strstr(text, "maybe") == NULL);
	CHECK(strstr(text, "nothing") == NULL);
	free(text);
	/* a range: one line of a report */
	text = text_of(&s, 2, 3);
	CHECK(text && strcmp(text, " 3 dirty of 8 pages") == 0);
	free(text);
	s.shown = true;
	text = text_of(&s, 8, 8);
	CHECK(text && strcmp(text, " maybe 8") == 0);
	free(text);
}

static void test_json_in_list_order(void)
{
	struct sample s = { .pages = 8, .dirty = 3, .bytes = 1536, .name = "dev\x1b" };
	char *json = json_of(&s);

	CHECK_STR_CONTAINS(json, "\"name\": \"dev\\u001b\", \"pages\": 8, \"dirty\": 3, \"bytes\": 1536, "
				 "\"size\": 1536, \"ratio\": 2.5000, \"took_s\": 1.500000000, \"nothing\": null }");
	CHECK(strstr(json, "maybe") == NULL);
	free(json);
	s.shown = true;
	json = json_of(&s);
	CHECK_STR_CONTAINS(json, "\"took_s\": 1.500000000, \"maybe\": 8, \"nothing\": null }");
	free(json);
}

int main(void)
{
	RUN(test_text_in_text_order);
	RUN(test_json_in_list_order);
	return unit_done();
}
