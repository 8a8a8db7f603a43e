// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * One-line JSON objects for --json output.
 */
#include <inttypes.h>
#include <math.h>

#include "json.h"

void vmt_json_string(FILE *out, const char *s)
{
	if (!s) {
		fputs("null", out);
		return;
	}
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"':
			fputs("\\\"", out);
			break;
		case '\\':
			fputs("\\\\", out);
			break;
		case '\n':
			fputs("\\n", out);
			break;
		case '\t':
			fputs("\\t", out);
			break;
		default:
			/* Not valid UTF-8 is possible (names come from the
			 * stream or the user): escape rather than pass on. */
			if (*p < 0x20 || *p >= 0x7f)
				fprintf(out, "\\u%04x", *p);
			else
				fputc(*p, out);
		}
	}
	fputc('"', out);
}

void vmt_json_begin(struct vmt_json *j, FILE *out)
{
	j->out = out;
	j->first = true;
	fputc('{', out);
}

void vmt_json_end(struct vmt_json *j)
{
	fputs("}\n", j->out);
}

static void json_key(struct vmt_json *j, const char *key)
{
	if (!j->first)
		fputs(", ", j->out);
	j->first = false;
	vmt_json_string(j->out, key);
	fputs(": ", j->out);
}

void vmt_json_str(struct vmt_json *j, const char *key, const char *value)
{
	json_key(j, key);
	vmt_json_string(j->out, value ? value : "");
}

void vmt_json_u64(struct vmt_json *j, const char *key, uint64_t value)
{
	json_key(j, key);
	fprintf(j->out, "%" PRIu64, value);
}

void vmt_json_i64(struct vmt_json *j, const char *key, int64_t value)
{
	json_key(j, key);
	fprintf(j->out, "%" PRId64, value);
}

void vmt_json_double(struct vmt_json *j, const char *key, double value, int decimals)
{
	json_key(j, key);
	if (isfinite(value))
		fprintf(j->out, "%.*f", decimals, value);
	else
		fputs("null", j->out);
}

void vmt_json_bool(struct vmt_json *j, const char *key, bool value)
{
	json_key(j, key);
	fputs(value ? "true" : "false", j->out);
}

void vmt_json_null(struct vmt_json *j, const char *key)
{
	json_key(j, key);
	fputs("null", j->out);
}
