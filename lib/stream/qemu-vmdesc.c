// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A small JSON reader for QEMU's vmdesc (qemu-vmdesc.h): recursive descent
 * with a depth limit, no tree kept, only the sizes summed on the way.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/c.h"
#include "stream/qemu-vmdesc.h"

/* Deeper than any vmstate nesting QEMU has (structs in subsections in ...). */
#define VMDESC_MAX_DEPTH 48
/* A size or array length beyond these is not a VM's. */
#define VMDESC_MAX_SIZE (1ull << 44)
#define VMDESC_MAX_ARRAY (1ull << 32)
/*
 * A VM has hundreds of devices: these bound the summary's memory (about
 * 300 bytes an entry) whatever the JSON's size.
 */
#define VMDESC_MAX_DEVICES 16384u
#define VMDESC_MAX_SUBSECTIONS 65536u

struct jp {
	const uint8_t *start, *p, *end;
	int depth;
	struct vmdesc *d;
	char *why;
	size_t whylen;
	int err;
};

static int VMT_PRINTF(2, 3) fail(struct jp *j, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (j->err)
		return j->err;
	j->err = -EBADMSG;
	va_start(ap, fmt);
	n = vsnprintf(j->why, j->whylen, fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < j->whylen)
		snprintf(j->why + n, j->whylen - (size_t)n, " (vmdesc byte %zu)",
			 (size_t)(j->p - j->start));
	return j->err;
}

static void ws(struct jp *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static bool peek(struct jp *j, char c)
{
	ws(j);
	return j->p < j->end && *j->p == (uint8_t)c;
}

static int expect(struct jp *j, char c)
{
	if (!peek(j, c))
		return fail(j, "expected '%c'", c);
	j->p++;
	return 0;
}

/*
 * A string into out (NULL: skipped). Escapes are decoded except \u, which
 * becomes '?': the names QEMU writes are ASCII. Too long for out: error.
 */
static int string(struct jp *j, char *out, size_t outcap)
{
	size_t n = 0;
	uint8_t c;

	if (expect(j, '"'))
		return j->err;
	for (;;) {
		if (j->p >= j->end)
			return fail(j, "string not ended");
		c = *j->p++;
		if (c == '"')
			break;
		if (c < 0x20)
			return fail(j, "control character in a string");
		if (c == '\\') {
			if (j->p >= j->end)
				return fail(j, "string not ended");
			c = *j->p++;
			if (c == 'u') {
				if (j->end - j->p < 4)
					return fail(j, "string not ended");
				j->p += 4;
				c = '?';
			} else if (!strchr("\"\\/bfnrt", c)) {
				return fail(j, "bad escape in a string");
			}
		}
		if (out) {
			if (n + 1 >= outcap)
				return fail(j, "name longer than %zu bytes", outcap - 1);
			out[n] = (char)c;
		}
		n++;
	}
	if (out)
		out[n] = '\0';
	return 0;
}

/* A number; *v gets its integer value, or -1 when it is not a non-negative integer. */
static int number(struct jp *j, int64_t *v)
{
	const uint8_t *s;
	bool integer = true, neg = false;
	uint64_t acc = 0;

	ws(j);
	s = j->p;
	if (j->p < j->end && *j->p == '-') {
		neg = true;
		j->p++;
	}
	while (j->p < j->end && *j->p >= '0' && *j->p <= '9') {
		if (acc < (1ull << 59))
			acc = acc * 10 + (uint64_t)(*j->p - '0');
		else
			integer = false;
		j->p++;
	}
	if (j->p == s || (neg && j->p == s + 1))
		return fail(j, "expected a value");
	while (j->p < j->end && strchr(".eE+-0123456789", *j->p)) {
		integer = false;
		j->p++;
	}
	*v = integer && !neg ? (int64_t)acc : -1;
	return 0;
}

static int skip_value(struct jp *j);

static int skip_members(struct jp *j, char close, bool keyed)
{
	if (++j->depth > VMDESC_MAX_DEPTH)
		return fail(j, "nested deeper than %d", VMDESC_MAX_DEPTH);
	j->p++;
	if (peek(j, close)) {
		j->p++;
		j->depth--;
		return 0;
	}
	for (;;) {
		if (keyed && (string(j, NULL, 0) || expect(j, ':')))
			return j->err;
		if (skip_value(j))
			return j->err;
		if (peek(j, ',')) {
			j->p++;
			continue;
		}
		if (expect(j, close))
			return j->err;
		j->depth--;
		return 0;
	}
}

static int literal(struct jp *j, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(j->end - j->p) < n || memcmp(j->p, word, n))
		return fail(j, "expected a value");
	j->p += n;
	return 0;
}

static int skip_value(struct jp *j)
{
	int64_t v;

	ws(j);
	if (j->p >= j->end)
		return fail(j, "expected a value");
	switch (*j->p) {
	case '{':
		return skip_members(j, '}', true);
	case '[':
		return skip_members(j, ']', false);
	case '"':
		return string(j, NULL, 0);
	case 't':
		return literal(j, "true");
	case 'f':
		return literal(j, "false");
	case 'n':
		return literal(j, "null");
	default:
		return number(j, &v);
	}
}

/*
 * Walks an object's members: for each, the key into key and fn(j, key, arg)
 * reads the value (fn returns 0 or the error).
 */
typedef int (*member_fn)(struct jp *j, const char *key, void *arg);

static int object(struct jp *j, member_fn fn, void *arg)
{
	char key[64];

	if (!peek(j, '{'))
		return fail(j, "expected an object");
	if (++j->depth > VMDESC_MAX_DEPTH)
		return fail(j, "nested deeper than %d", VMDESC_MAX_DEPTH);
	j->p++;
	if (peek(j, '}')) {
		j->p++;
		j->depth--;
		return 0;
	}
	for (;;) {
		if (string(j, key, sizeof(key)) || expect(j, ':') || fn(j, key, arg))
			return j->err ? j->err : -EBADMSG;
		if (peek(j, ',')) {
			j->p++;
			continue;
		}
		if (expect(j, '}'))
			return j->err;
		j->depth--;
		return 0;
	}
}

/* Calls fn(j, arg) for each element of an array. */
static int array(struct jp *j, int (*fn)(struct jp *j, void *arg), void *arg)
{
	if (!peek(j, '['))
		return fail(j, "expected an array");
	if (++j->depth > VMDESC_MAX_DEPTH)
		return fail(j, "nested deeper than %d", VMDESC_MAX_DEPTH);
	j->p++;
	if (peek(j, ']')) {
		j->p++;
		j->depth--;
		return 0;
	}
	for (;;) {
		if (fn(j, arg))
			return j->err ? j->err : -EBADMSG;
		if (peek(j, ',')) {
			j->p++;
			continue;
		}
		if (expect(j, ']'))
			return j->err;
		j->depth--;
		return 0;
	}
}

static int integer(struct jp *j, uint64_t max, uint64_t *out, const char *what)
{
	int64_t v;

	if (number(j, &v))
		return j->err;
	if (v < 0 || (uint64_t)v > max)
		return fail(j, "%s is not an integer from 0 to %llu", what,
			    (unsigned long long)max);
	*out = (uint64_t)v;
	return 0;
}

/* One field: its bytes, size times array_len. */
struct field {
	uint64_t size, array_len;
	bool has_size;
};

static int field_member(struct jp *j, const char *key, void *arg)
{
	struct field *f = arg;

	if (!strcmp(key, "size")) {
		f->has_size = true;
		return integer(j, VMDESC_MAX_SIZE, &f->size, "a field's size");
	}
	if (!strcmp(key, "array_len")) {
		if (integer(j, VMDESC_MAX_ARRAY, &f->array_len, "array_len"))
			return j->err;
		if (!f->array_len)
			return fail(j, "array_len 0");
		return 0;
	}
	return skip_value(j);
}

/* A vmstate object (a device, a subsection): its fields and subsections. */
struct vmstate {
	long self; /* subs[] index of this subsection, -1 for a device */
	char name[256];
	bool has_name;
	uint64_t version;
	uint64_t instance_id;
	uint64_t fields; /* bytes of its fields */
	uint64_t subs;	 /* bytes of its subsections, headers included */
	bool top;	 /* a device: "name" and "instance_id" are its identity */
};

static int add_field(struct jp *j, void *arg)
{
	struct vmstate *v = arg;
	struct field f = { .array_len = 1 };

	if (object(j, field_member, &f))
		return j->err;
	if (!f.has_size)
		return fail(j, "a field without a size");
	if (f.size * f.array_len > VMDESC_MAX_SIZE ||
	    v->fields + f.size * f.array_len > VMDESC_MAX_SIZE)
		return fail(j, "fields larger than %llu bytes", VMDESC_MAX_SIZE);
	v->fields += f.size * f.array_len;
	return 0;
}

static int vmstate_object(struct jp *j, struct vmstate *v);

static int add_subsection(struct jp *j, void *arg)
{
	struct vmstate *parent = arg;
	struct vmstate child = { 0 };
	struct vmdesc *d = j->d;
	struct vmdesc_sub *grown, *s;
	uint64_t bytes;

	if (d->nsubs >= VMDESC_MAX_SUBSECTIONS)
		return fail(j, "more than %u subsections", VMDESC_MAX_SUBSECTIONS);
	if (d->nsubs % 64 == 0) {
		grown = realloc(d->subs, (d->nsubs + 64) * sizeof(*d->subs));
		if (!grown)
			return j->err = -ENOMEM;
		d->subs = grown;
	}
	child.self = (long)d->nsubs++;
	s = &d->subs[child.self];
	*s = (struct vmdesc_sub){ .parent = parent->self, .offset = parent->subs };
	if (vmstate_object(j, &child))
		return j->err;
	if (!child.has_name)
		return fail(j, "a subsection without a vmsd_name");
	if (strlen(child.name) > 255)
		return fail(j, "a subsection name longer than 255 bytes");
	s = &d->subs[child.self];
	strcpy(s->name, child.name);
	s->version = (uint32_t)child.version;
	bytes = 6 + strlen(child.name) + child.fields + child.subs;
	if (bytes > VMDESC_MAX_SIZE || parent->subs + bytes > VMDESC_MAX_SIZE)
		return fail(j, "subsections larger than %llu bytes", VMDESC_MAX_SIZE);
	s->bytes = bytes;
	parent->subs += bytes;
	return 0;
}

static int vmstate_member(struct jp *j, const char *key, void *arg)
{
	struct vmstate *v = arg;

	if (!strcmp(key, "fields"))
		return array(j, add_field, v);
	if (!strcmp(key, "subsections"))
		return array(j, add_subsection, v);
	if (!strcmp(key, "version"))
		return integer(j, UINT32_MAX, &v->version, "version");
	if (!strcmp(key, v->top ? "name" : "vmsd_name")) {
		v->has_name = true;
		return string(j, v->name, sizeof(v->name));
	}
	if (v->top && !strcmp(key, "instance_id"))
		return integer(j, UINT32_MAX, &v->instance_id, "instance_id");
	return skip_value(j);
}

/*
 * The subsections' offsets were counted among themselves while the fields
 * might not have been summed yet: the fields come first in the stream.
 */
static int vmstate_object(struct jp *j, struct vmstate *v)
{
	struct vmdesc *d = j->d;
	size_t first = v->self < 0 ? d->nsubs : (size_t)v->self + 1;

	if (object(j, vmstate_member, v))
		return j->err;
	for (size_t i = first; i < d->nsubs; i++)
		if (d->subs[i].parent == v->self)
			d->subs[i].offset += v->fields;
	return 0;
}

static int add_device(struct jp *j, void *arg)
{
	struct vmdesc *d = j->d;
	struct vmstate v = { .self = -1, .top = true };
	struct vmdesc_dev *grown, *dev;
	size_t first = d->nsubs;

	(void)arg;
	if (d->ndevs >= VMDESC_MAX_DEVICES)
		return fail(j, "more than %u devices", VMDESC_MAX_DEVICES);
	if (d->ndevs % 64 == 0) {
		grown = realloc(d->devs, (d->ndevs + 64) * sizeof(*d->devs));
		if (!grown)
			return j->err = -ENOMEM;
		d->devs = grown;
	}
	if (vmstate_object(j, &v))
		return j->err;
	if (!v.has_name)
		return fail(j, "a device without a name");
	dev = &d->devs[d->ndevs++];
	*dev = (struct vmdesc_dev){ .instance_id = (uint32_t)v.instance_id,
				    .body = v.fields + v.subs,
				    .first_sub = first,
				    .nsubs = d->nsubs - first };
	strcpy(dev->name, v.name);
	/* From offsets in the parent's body to offsets in the device's. */
	for (size_t i = first; i < d->nsubs; i++) {
		struct vmdesc_sub *s = &d->subs[i];

		if (s->parent < 0) {
			s->depth = 1;
		} else {
			const struct vmdesc_sub *p = &d->subs[s->parent];

			s->depth = p->depth + 1;
			s->offset += p->offset + 6 + strlen(p->name);
		}
	}
	return 0;
}

static int top_member(struct jp *j, const char *key, void *arg)
{
	uint64_t v = 0;

	(void)arg;
	if (!strcmp(key, "devices"))
		return array(j, add_device, NULL);
	if (!strcmp(key, "page_size")) {
		if (integer(j, 1u << 30, &v, "page_size"))
			return j->err;
		j->d->page_size = (uint32_t)v;
		return 0;
	}
	return skip_value(j);
}

int vmdesc_parse(struct vmdesc *d, const uint8_t *json, size_t len, char *why, size_t whylen)
{
	struct jp j = {
		.start = json, .p = json, .end = json + len, .d = d, .why = why, .whylen = whylen
	};

	*d = (struct vmdesc){ 0 };
	if (!object(&j, top_member, NULL)) {
		ws(&j);
		if (j.p != j.end)
			fail(&j, "bytes after the JSON object");
	}
	if (j.err) {
		if (j.err == -ENOMEM)
			snprintf(why, whylen, "out of memory");
		vmdesc_release(d);
		return j.err;
	}
	return 0;
}

void vmdesc_release(struct vmdesc *d)
{
	free(d->devs);
	free(d->subs);
	*d = (struct vmdesc){ 0 };
}
