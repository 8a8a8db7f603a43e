/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Number, size and duration parsing that checks range and says what was
 * wrong. The *_or_usage variants are for option parsing in tools: they
 * print "invalid OPTION argument: 'TEXT' (reason)" and exit 2.
 */
#ifndef VMT_STRUTILS_H
#define VMT_STRUTILS_H

#include <stdbool.h>
#include <stdint.h>

/* Decimal or 0x-hex, whole string, within [min, max]. 0 or -EINVAL/-ERANGE. */
int vmt_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);
/*
 * A byte count with an optional binary suffix: K, M, G, T (also KiB, MiB, ...),
 * case-insensitive; "1.5G" is not accepted (whole numbers only).
 */
int vmt_parse_size(const char *s, uint64_t *out);
/*
 * An address or a length, as IOVAs are written: 0x-hex, or what
 * vmt_parse_size() takes (decimal, with an optional binary suffix: "4G" is
 * 0x100000000). No suffix after hex: "0x1G" is -EINVAL.
 */
int vmt_parse_u64_or_size(const char *s, uint64_t *out);
/* A duration: "250ms", "2s", "1.5s", "3m", "1h", a bare number is seconds. */
int vmt_parse_duration_ns(const char *s, uint64_t *out_ns);

uint64_t vmt_u64_or_usage(const char *s, const char *option, uint64_t min, uint64_t max);
uint64_t vmt_size_or_usage(const char *s, const char *option);
uint64_t vmt_duration_ns_or_usage(const char *s, const char *option);

/* s into out (len bytes with the NUL): 0, or -ENAMETOOLONG and out untouched. */
int vmt_copy_string(char *out, unsigned long len, const char *s);

/* How a byte count is written for people; both in binary (1024) units. */
enum vmt_size_style {
	/* "1023 B", "1.5 KiB", "3.0 GiB": one decimal, rounded (summaries, progress) */
	VMT_SIZE_IEC,
	/* lsblk's "1023B", "1.5K", "3G": one decimal, rounded down, shown only when not 0 (tables) */
	VMT_SIZE_SHORT,
};

/* bytes in style, into buf; returns buf. */
const char *vmt_format_size_as(uint64_t bytes, enum vmt_size_style style, char *buf,
			       unsigned long buflen);
/* "1.5 GiB" style (VMT_SIZE_IEC), into buf; returns buf. */
const char *vmt_format_size(uint64_t bytes, char *buf, unsigned long buflen);

#endif
