// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Escaping untrusted text for terminals and logs. The UTF-8 decoder is
 * strict (RFC 3629): anything a lenient terminal might assemble into a
 * control character from an ill-formed sequence is escaped byte by byte.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "common/textescape.h"

/* Length of the valid UTF-8 sequence at p and its code point, or 0. */
static size_t utf8_char(const unsigned char *p, uint32_t *cp)
{
	size_t len;
	uint32_t min;

	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		len = 2;
		min = 0x80;
		*cp = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3;
		min = 0x800;
		*cp = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4;
		min = 0x10000;
		*cp = p[0] & 0x07;
	} else {
		return 0;
	}
	/* The NUL that ends the string fails this test: no read past it. */
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		*cp = *cp << 6 | (p[i] & 0x3f);
	}
	if (*cp < min || *cp > 0x10ffff || (*cp >= 0xd800 && *cp <= 0xdfff))
		return 0;
	return len;
}

/* What must not reach a terminal as it is. */
static bool must_escape(uint32_t cp)
{
	return cp < 0x20 || cp == '\\' || (cp >= 0x7f && cp <= 0x9f) || cp == 0x061c ||
	       cp == 0x200e || cp == 0x200f || cp == 0x2028 || cp == 0x2029 ||
	       (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

const char *vmt_escape_text(const char *in, char *out, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)in;
	size_t used = 0;

	while (*p) {
		uint32_t cp;
		size_t len = utf8_char(p, &cp);
		bool escape = !len || must_escape(cp);
		size_t n = len ? len : 1;

		if (used + (escape ? 4 * n : n) >= size)
			break;
		for (size_t i = 0; i < n; i++) {
			if (escape) {
				out[used++] = '\\';
				out[used++] = 'x';
				out[used++] = hex[p[i] >> 4];
				out[used++] = hex[p[i] & 15];
			} else {
				out[used++] = (char)p[i];
			}
		}
		p += n;
	}
	out[used] = '\0';
	return out;
}
