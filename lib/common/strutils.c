// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Strict parsing of numbers, sizes and durations.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/c.h"
#include "common/log.h"
#include "common/strutils.h"
#include "common/textescape.h"

int vmt_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	/* strtoull quietly accepts "-1" and leading blanks: refuse both. */
	if (!s || !*s || !isdigit((unsigned char)*s))
		return -EINVAL;
	/* Base 0 would read "010" as octal 8: only decimal and 0x-hex here. */
	bool hex = s[0] == '0' && (s[1] == 'x' || s[1] == 'X');

	errno = 0;
	v = strtoull(hex ? s + 2 : s, &end, hex ? 16 : 10);
	if (errno == ERANGE)
		return -ERANGE;
	if (errno || *end || (hex && !isxdigit((unsigned char)s[2])))
		return -EINVAL;
	if (v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

static int suffix_shift(const char *suffix, unsigned int *shift)
{
	static const struct {
		const char *name;
		unsigned int shift;
	} units[] = {
		{ "", 0 },     { "b", 0 },   { "k", 10 },   { "kib", 10 }, { "m", 20 },
		{ "mib", 20 }, { "g", 30 },  { "gib", 30 }, { "t", 40 },   { "tib", 40 },
		{ "kb", 10 },  { "mb", 20 }, { "gb", 30 },  { "tb", 40 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
		if (strcasecmp(suffix, units[i].name) == 0) {
			*shift = units[i].shift;
			return 0;
		}
	}
	return -EINVAL;
}

int vmt_parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned int shift;

	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	if (suffix_shift(end, &shift))
		return -EINVAL;
	if (shift && v > (UINT64_MAX >> shift))
		return -ERANGE;
	*out = (uint64_t)v << shift;
	return 0;
}

int vmt_parse_u64_or_size(const char *s, uint64_t *out)
{
	if (s && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		return vmt_parse_u64(s, 0, UINT64_MAX, out);
	return vmt_parse_size(s, out);
}

int vmt_parse_duration_ns(const char *s, uint64_t *out_ns)
{
	static const struct {
		const char *name;
		double ns;
	} units[] = {
		{ "", 1e9 }, { "s", 1e9 },  { "ms", 1e6 },   { "us", 1e3 },
		{ "ns", 1 }, { "m", 60e9 }, { "min", 60e9 }, { "h", 3600e9 },
	};
	char *end;
	double v;

	if (!s || !(isdigit((unsigned char)*s) || *s == '.'))
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || v < 0 || end == s)
		return -EINVAL;
	for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
		if (strcmp(end, units[i].name) == 0) {
			double ns = v * units[i].ns;

			if (ns >= 1.8e19)
				return -ERANGE;
			*out_ns = (uint64_t)ns;
			return 0;
		}
	}
	return -EINVAL;
}

static void VMT_NORETURN bad_arg(const char *s, const char *option, int err, const char *what)
{
	/* A long argument is shown cut; its bytes never drive the terminal. */
	char shown[VMT_ESCAPED_SIZE(256)];

	vmt_usage_error("invalid %s argument: '%s' (%s)", option,
			vmt_escape_text(s ? s : "", shown, sizeof(shown)),
			err == -ERANGE ? "out of range" : what);
}

uint64_t vmt_u64_or_usage(const char *s, const char *option, uint64_t min, uint64_t max)
{
	uint64_t v;
	int err = vmt_parse_u64(s, min, max, &v);

	if (err) {
		if (err == -ERANGE)
			vmt_usage_error("invalid %s argument: '%s' (must be %" PRIu64 "..%" PRIu64
					")",
					option, s, min, max);
		bad_arg(s, option, err, "not a number");
	}
	return v;
}

uint64_t vmt_size_or_usage(const char *s, const char *option)
{
	uint64_t v;
	int err = vmt_parse_size(s, &v);

	if (err)
		bad_arg(s, option, err, "expected a size such as 4096, 64K, 2M, 1G");
	return v;
}

uint64_t vmt_duration_ns_or_usage(const char *s, const char *option)
{
	uint64_t v;
	int err = vmt_parse_duration_ns(s, &v);

	if (err)
		bad_arg(s, option, err, "expected a duration such as 500ms, 2s, 1m");
	return v;
}

int vmt_copy_string(char *out, unsigned long len, const char *s)
{
	size_t n = strlen(s);

	/* Never truncate: a cut path or name would name something else. */
	if (n >= len)
		return -ENAMETOOLONG;
	memcpy(out, s, n + 1);
	return 0;
}

static const char *const size_units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };

static void format_size_iec(uint64_t bytes, char *buf, unsigned long buflen)
{
	double v = (double)bytes;
	unsigned int u = 0;

	while (v >= 1024 && u + 1 < ARRAY_SIZE(size_units)) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, buflen, "%" PRIu64 " B", bytes);
	else
		snprintf(buf, buflen, "%.1f %s", v, size_units[u]);
}

/* In whole numbers: a table cell never says more than the bytes do. */
static void format_size_short(uint64_t bytes, char *buf, unsigned long buflen)
{
	uint64_t whole = bytes, rest = 0;
	unsigned int u = 0;

	while (whole >= 1024 && u + 1 < ARRAY_SIZE(size_units)) {
		rest = whole % 1024;
		whole /= 1024;
		u++;
	}
	if (rest * 10 / 1024)
		snprintf(buf, buflen, "%" PRIu64 ".%" PRIu64 "%c", whole, rest * 10 / 1024,
			 size_units[u][0]);
	else
		snprintf(buf, buflen, "%" PRIu64 "%c", whole, size_units[u][0]);
}

const char *vmt_format_size_as(uint64_t bytes, enum vmt_size_style style, char *buf,
			       unsigned long buflen)
{
	if (style == VMT_SIZE_SHORT)
		format_size_short(bytes, buf, buflen);
	else
		format_size_iec(bytes, buf, buflen);
	return buf;
}

const char *vmt_format_size(uint64_t bytes, char *buf, unsigned long buflen)
{
	return vmt_format_size_as(bytes, VMT_SIZE_IEC, buf, buflen);
}
