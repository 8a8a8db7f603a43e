// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * lib/common/textescape: what a stream's strings look like on a terminal.
 */
#include <string.h>

#include "common/textescape.h"
#include "unit.h"

static const char *esc(const char *in)
{
	static char buf[256];

	return vmt_escape_text(in, buf, sizeof(buf));
}

#define CHECK_ESC(in, want)                                                               \
	do {                                                                              \
		const char *got_ = esc(in);                                               \
		if (strcmp(got_, want) != 0) {                                            \
			printf("#   %s:%d: escape(%s) = \"%s\", want \"%s\"\n", __FILE__, \
			       __LINE__, #in, got_, want);                                \
			unit_current_failed = 1;                                          \
		}                                                                         \
	} while (0)

static void test_plain_text_unchanged(void)
{
	CHECK_ESC("", "");
	CHECK_ESC("/dev/vfio/devices/vfio0", "/dev/vfio/devices/vfio0");
	CHECK_ESC("0000:3b:00.1 vfio-pci", "0000:3b:00.1 vfio-pci");
	/* valid UTF-8 of every length passes: é, €, 😀 */
	CHECK_ESC("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
		  "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	/* U+00A0, just past the C1 block, is printable */
	CHECK_ESC("\xc2\xa0", "\xc2\xa0");
}

static void test_c0_del_and_newlines(void)
{
	CHECK_ESC("a\nb", "a\\x0ab");
	CHECK_ESC("a\r\n", "a\\x0d\\x0a");
	CHECK_ESC("\x1b]0;pwned\x07", "\\x1b]0;pwned\\x07");
	CHECK_ESC("\x1b[2J", "\\x1b[2J");
	CHECK_ESC("\t\x01\x1f", "\\x09\\x01\\x1f");
	CHECK_ESC("x\x7fy", "x\\x7fy");
	CHECK_ESC("back\\slash", "back\\x5cslash");
}

static void test_c1(void)
{
	CHECK_ESC("\xc2\x80", "\\xc2\\x80");
	CHECK_ESC("\xc2\x9b"
		  "2J",
		  "\\xc2\\x9b2J"); /* CSI */
	CHECK_ESC("\xc2\x9f", "\\xc2\\x9f");
}

static void test_invalid_utf8(void)
{
	CHECK_ESC("\x80", "\\x80"); /* stray continuation */
	CHECK_ESC("\x9b"
		  "2J",
		  "\\x9b2J"); /* 8-bit CSI */
	CHECK_ESC("\xff\xfe", "\\xff\\xfe");
	CHECK_ESC("\xc0\xaf", "\\xc0\\xaf");		       /* overlong '/' */
	CHECK_ESC("\xe0\x80\xaf", "\\xe0\\x80\\xaf");	       /* overlong, 3 bytes */
	CHECK_ESC("\xed\xa0\x80", "\\xed\\xa0\\x80");	       /* surrogate */
	CHECK_ESC("\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80"); /* > U+10FFFF */
	CHECK_ESC("\xf5\x80\x80\x80", "\\xf5\\x80\\x80\\x80");
	CHECK_ESC("ab\xe2\x82", "ab\\xe2\\x82");    /* cut short at the end */
	CHECK_ESC("\xe2\x82x", "\\xe2\\x82x");	    /* cut short by ASCII */
	CHECK_ESC("\xc3\xc3\xa9", "\\xc3\xc3\xa9"); /* a bad lead, then a good é */
}

static void test_bidi_controls(void)
{
	CHECK_ESC("abc\xe2\x80\xae"
		  "fdp.exe",
		  "abc\\xe2\\x80\\xaefdp.exe");					   /* RLO */
	CHECK_ESC("\xe2\x80\xaa\xe2\x80\xac", "\\xe2\\x80\\xaa\\xe2\\x80\\xac");   /* LRE, PDF */
	CHECK_ESC("\xe2\x81\xa6x\xe2\x81\xa9", "\\xe2\\x81\\xa6x\\xe2\\x81\\xa9"); /* LRI, PDI */
	CHECK_ESC("\xe2\x81\xa7\xe2\x81\xa8", "\\xe2\\x81\\xa7\\xe2\\x81\\xa8");   /* RLI, FSI */
	CHECK_ESC("\xe2\x80\x8e\xe2\x80\x8f\xd8\x9c",
		  "\\xe2\\x80\\x8e\\xe2\\x80\\x8f\\xd8\\x9c"); /* LRM RLM ALM */
	CHECK_ESC("\xe2\x80\xa8\xe2\x80\xa9",
		  "\\xe2\\x80\\xa8\\xe2\\x80\\xa9"); /* line, paragraph sep */
	/* neighbours that are ordinary punctuation */
	CHECK_ESC("\xe2\x80\xa7\xe2\x80\xaf", "\xe2\x80\xa7\xe2\x80\xaf");
}

static void test_small_buffer_never_cuts(void)
{
	char buf[6];

	/* "ab" fits, the escape of ESC (4 bytes) does not: stops before it */
	CHECK(strcmp(vmt_escape_text("ab\x1b"
				     "c",
				     buf, sizeof(buf)),
		     "ab") == 0);
	/* a 3-byte character that does not fit is not cut */
	CHECK(strcmp(vmt_escape_text("abc\xe2\x82\xac", buf, sizeof(buf)), "abc") == 0);
	CHECK(strcmp(vmt_escape_text("abcde", buf, sizeof(buf)), "abcde") == 0);
	CHECK(strcmp(vmt_escape_text("abcdef", buf, 1), "") == 0);
}

static void test_worst_case_fits(void)
{
	char in[65], out[VMT_ESCAPED_SIZE(64)];

	memset(in, 0x1b, 64);
	in[64] = '\0';
	vmt_escape_text(in, out, sizeof(out));
	CHECK_EQ(strlen(out), 4 * 64);
}

int main(void)
{
	RUN(test_plain_text_unchanged);
	RUN(test_c0_del_and_newlines);
	RUN(test_c1);
	RUN(test_invalid_utf8);
	RUN(test_bidi_controls);
	RUN(test_small_buffer_never_cuts);
	RUN(test_worst_case_fits);
	return unit_done();
}
