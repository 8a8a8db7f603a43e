// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * lib/common/fields: one list, two printers. The text follows text_pos
 * whatever the list's order, the JSON follows the list; each kind says its
 * value its way in each; when and a getter's null leave a field out or
 * null, json_null makes it null in the JSON only; a name from a stream is
 * escaped in the text only; arrays of strings and of objects (each of its
 * own list, with the same ctx) are JSON arrays in the list's place.
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

	CHECK_STR_CONTAINS(
		text,
		"dev\\x1b: 3 dirty of 8 pages, 1536 (1.5 KiB), ratio 2.50 in 1.500 s (text only)");
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

	CHECK_STR_CONTAINS(
		json,
		"\"name\": \"dev\\u001b\", \"pages\": 8, \"dirty\": 3, \"bytes\": 1536, "
		"\"size\": 1536, \"ratio\": 2.5000, \"took_s\": 1.500000000, \"nothing\": null }");
	CHECK(strstr(json, "maybe") == NULL);
	free(json);
	s.shown = true;
	json = json_of(&s);
	CHECK_STR_CONTAINS(json, "\"took_s\": 1.500000000, \"maybe\": 8, \"nothing\": null }");
	free(json);
}

/* A batch of parts, as a load of devices: the parts an array of objects. */
struct part {
	uint64_t bytes;
	uint64_t digest;
	bool checked;
};

struct batch {
	const char *const *inputs;
	size_t ninputs;
	const struct part *parts;
	size_t nparts;
	uint64_t bytes, ns;
};

/* The ctx every getter has, the parts' too: the batch's start. */
static const uint64_t batch_ctx = 1000;

static void get_part_digest(const void *obj, const void *ctx, struct vmt_field_value *v)
{
	const struct part *p = obj;

	CHECK_EQ(*(const uint64_t *)ctx, batch_ctx);
	v->num = p->digest;
	v->json_null = !p->checked;
}

static const struct vmt_field part_fields[] = {
	{ "bytes", "part %s", 1, VMT_FIELD_SIZE, VMT_FIELD_U64(struct part, bytes) },
	{ "digest", ", digest %s", 2, VMT_FIELD_DIGEST, .get = get_part_digest },
};

static void get_inputs(const void *obj, const void *ctx, struct vmt_field_value *v)
{
	const struct batch *b = obj;

	v->array = (struct vmt_field_array){ .items = b->inputs, .count = b->ninputs };
}

static void get_parts(const void *obj, const void *ctx, struct vmt_field_value *v)
{
	const struct batch *b = obj;

	v->array = (struct vmt_field_array){ .items = b->parts,
					     .count = b->nparts,
					     .item_size = sizeof(*b->parts),
					     .fields = part_fields,
					     .nfields = ARRAY_SIZE(part_fields) };
}

static void get_rate(const void *obj, const void *ctx, struct vmt_field_value *v)
{
	const struct batch *b = obj;

	v->num = b->bytes;
	v->ns = b->ns;
}

static const struct vmt_field batch_fields[] = {
	{ "inputs", " (inputs)", 1, VMT_FIELD_STRINGS, .get = get_inputs },
	{ "parts", " (parts)", 2, VMT_FIELD_OBJECTS, .get = get_parts },
	{ "bytes", "%s", 3, VMT_FIELD_SIZE, VMT_FIELD_U64(struct batch, bytes) },
	{ "rate", " at %s", 4, VMT_FIELD_RATE, .get = get_rate },
};

static char *batch_text(const struct vmt_field *f, size_t n, const void *obj)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	CHECK(m != NULL);
	vmt_fields_text(m, f, n, 1, 100, obj, &batch_ctx);
	fclose(m);
	return buf;
}

static char *batch_json(const struct batch *b)
{
	struct json_object *doc = vmt_json_doc_new("test", 1);
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	CHECK(m != NULL);
	vmt_fields_json(doc, batch_fields, ARRAY_SIZE(batch_fields), b, &batch_ctx);
	CHECK_EQ(vmt_json_emit(m, doc), 0);
	fclose(m);
	return buf;
}

/* A rate says its unit in the text, bytes per second in the JSON; over no time, 0 B/s and null. */
static void test_rate(void)
{
	struct batch b = { .bytes = 3 << 20, .ns = 2000000000 };
	char *text = batch_text(batch_fields, ARRAY_SIZE(batch_fields), &b);
	char *json = batch_json(&b);

	CHECK(text && strcmp(text, "3.0 MiB at 1.5 MiB/s") == 0);
	CHECK_STR_CONTAINS(json, "\"bytes\": 3145728, \"rate\": 1572864 }");
	free(text);
	free(json);
	b.ns = 0;
	text = batch_text(batch_fields, ARRAY_SIZE(batch_fields), &b);
	json = batch_json(&b);
	CHECK(text && strcmp(text, "3.0 MiB at 0 B/s") == 0);
	CHECK_STR_CONTAINS(json, "\"rate\": null }");
	free(text);
	free(json);
}

/* A digest is 16 hex digits in both; json_null makes it null in the JSON, the text says it. */
static void test_digest_and_json_null(void)
{
	struct part p = { .bytes = 1024, .digest = 0xdeadbeef, .checked = true };
	char *text = batch_text(part_fields, ARRAY_SIZE(part_fields), &p);

	CHECK(text && strcmp(text, "part 1.0 KiB, digest 00000000deadbeef") == 0);
	free(text);
	p.checked = false;
	text = batch_text(part_fields, ARRAY_SIZE(part_fields), &p);
	CHECK(text && strcmp(text, "part 1.0 KiB, digest 00000000deadbeef") == 0);
	free(text);
}

/* Arrays: in the list's place in the JSON, each object of its list; nothing in the text. */
static void test_arrays(void)
{
	static const char *const inputs[] = { "a.vms", "b\x1b.vms" };
	static const struct part parts[] = {
		{ .bytes = 1, .digest = 0xab, .checked = true },
		{ .bytes = 2, .digest = 0xcd },
	};
	struct batch b = {
		.inputs = inputs, .ninputs = 2, .parts = parts, .nparts = 2, .bytes = 3, .ns = 1
	};
	char *text = batch_text(batch_fields, ARRAY_SIZE(batch_fields), &b);
	char *json = batch_json(&b);

	CHECK(text && strcmp(text, "3 B at 2.8 GiB/s") == 0);
	CHECK_STR_CONTAINS(json, "\"inputs\": [ \"a.vms\", \"b\\u001b.vms\" ], \"parts\": [ "
				 "{ \"bytes\": 1, \"digest\": \"00000000000000ab\" }, "
				 "{ \"bytes\": 2, \"digest\": null } ], \"bytes\": 3");
	free(text);
	free(json);
	b.ninputs = b.nparts = 0;
	json = batch_json(&b);
	CHECK_STR_CONTAINS(json, "\"inputs\": [ ], \"parts\": [ ], \"bytes\": 3");
	free(json);
}

int main(void)
{
	RUN(test_text_in_text_order);
	RUN(test_json_in_list_order);
	RUN(test_rate);
	RUN(test_digest_and_json_null);
	RUN(test_arrays);
	return unit_done();
}
