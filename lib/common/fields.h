/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A report as one field list that both its printers walk, as util-linux's
 * lsmem prints its columns as a table or as JSON: each field has its JSON
 * key, its piece of the text, its place in the text and a way to get its
 * value from the object reported on. The list is in the JSON's order;
 * text_pos orders the text, whose sentences may say the same values in
 * another order ("2143 dirty of 8192 pages"). A list of objects (a
 * report's devices) is a field too, a JSON array in its place in the list;
 * its items' text is the tool's to place, line by line.
 */
#ifndef VMT_FIELDS_H
#define VMT_FIELDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json_object.h>

enum vmt_field_kind {
	VMT_FIELD_NUM,	     /* num: "12" */
	VMT_FIELD_BYTES,     /* num: text "39972 (39.0 KiB)", JSON the number */
	VMT_FIELD_SIZE,	     /* num: text "39.0 KiB", JSON the number */
	VMT_FIELD_SECONDS,   /* ns: text "1.234" (dbl, seconds), JSON exact seconds; null if null */
	VMT_FIELD_RATIO,     /* dbl: text "1.00", JSON 1.0000 */
	VMT_FIELD_MIB_RATE,  /* num bytes in ns: text "12.3" (dbl, MiB/s), JSON bytes per second */
	VMT_FIELD_RATE,	     /* num bytes in ns: text "1.2 MiB/s", JSON bytes per second */
	VMT_FIELD_DIGEST,    /* num: 16 hex digits, in the text and as a JSON string */
	VMT_FIELD_STR,	     /* str: as it is */
	VMT_FIELD_PRINTABLE, /* str: text escaped (lib/common/textescape), JSON as it is */
	VMT_FIELD_BOOL,	     /* num: JSON true or false */
	VMT_FIELD_FLAGS,     /* num, flag_name: JSON the mask and KEY_names (vmt_json_add_flags) */
	VMT_FIELD_NULL,	     /* JSON null; no text */
	VMT_FIELD_STRINGS,   /* array of const char *: a JSON array of strings; no text */
	VMT_FIELD_OBJECTS,   /* array: a JSON array, an object per item of its fields; no text */
};

struct vmt_field;

/*
 * What VMT_FIELD_STRINGS and VMT_FIELD_OBJECTS list: count items (const
 * char *const * for strings). Objects are item_size apart, each described
 * by fields, whose getters have the same ctx as the list holding the array.
 */
struct vmt_field_array {
	const void *items;
	size_t count;
	size_t item_size;
	const struct vmt_field *fields;
	size_t nfields;
};

struct vmt_field_value {
	enum vmt_field_kind kind;
	uint64_t num;
	uint64_t ns;
	double dbl;
	const char *str;
	const char *(*flag_name)(unsigned int bit);
	struct vmt_field_array array;
	bool json_null; /* a value not known: JSON null, but the text says it all the same */
	char buf[96];	/* for a getter's text */
};

struct vmt_field {
	const char *json_key; /* NULL: text only */
	const char *text;     /* its piece of text, "%s" where the value goes; NULL: JSON only */
	unsigned int text_pos;
	enum vmt_field_kind kind;
	size_t offset; /* of the uint64_t value in obj, unless get says it */
	void (*get)(const void *obj, const void *ctx, struct vmt_field_value *v);
	bool (*when)(const void *obj, const void *ctx); /* NULL: always */
};

/* A uint64_t member's offset (.offset): a member of another size does not compile. */
#define VMT_FIELD_U64(type, member)        \
	.offset = offsetof(type, member) + \
		  0 * sizeof(char[sizeof(((type *)0)->member) == 8 ? 1 : -1])

/* The fields of obj with text_pos in [from, to], in text order, to out. */
void vmt_fields_text(FILE *out, const struct vmt_field *fields, size_t n, unsigned int from,
		     unsigned int to, const void *obj, const void *ctx);
/* The fields of obj with a JSON key, in list order, into doc. */
void vmt_fields_json(struct json_object *doc, const struct vmt_field *fields, size_t n,
		     const void *obj, const void *ctx);

#endif
