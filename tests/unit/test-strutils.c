// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * lib/common/strutils: number, size and duration parsing as the tools' options
 * use it, and the usage-error path (run in a child: it exits).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/exitcodes.h"
#include "common/log.h"
#include "common/strutils.h"
#include "unit.h"

static int u64(const char *s, uint64_t min, uint64_t max, uint64_t want)
{
	uint64_t v = 0xdead;
	int ret = vmt_parse_u64(s, min, max, &v);

	if (ret == 0 && v != want) {
		printf("#   vmt_parse_u64(\"%s\") = %" PRIu64 ", want %" PRIu64 "\n", s, v, want);
		return -1000;
	}
	return ret;
}

static void test_parse_u64(void)
{
	CHECK_EQ(u64("0", 0, 10, 0), 0);
	CHECK_EQ(u64("10", 0, 10, 10), 0);
	CHECK_EQ(u64("11", 0, 10, 0), -ERANGE);
	CHECK_EQ(u64("4", 5, 10, 0), -ERANGE);
	CHECK_EQ(u64("0x10", 0, 100, 16), 0);
	CHECK_EQ(u64("0XfF", 0, 1000, 255), 0);
	CHECK_EQ(u64("18446744073709551615", 0, UINT64_MAX, UINT64_MAX), 0);
	CHECK_EQ(u64("18446744073709551616", 0, UINT64_MAX, 0), -ERANGE);
	CHECK_EQ(u64("", 0, 10, 0), -EINVAL);
	CHECK_EQ(u64("-1", 0, UINT64_MAX, 0), -EINVAL);
	CHECK_EQ(u64(" 1", 0, 10, 0), -EINVAL);
	CHECK_EQ(u64("+1", 0, 10, 0), -EINVAL);
	CHECK_EQ(u64("1 ", 0, 10, 0), -EINVAL);
	CHECK_EQ(u64("1k", 0, 10000, 0), -EINVAL);
	CHECK_EQ(u64("0x", 0, 10, 0), -EINVAL);
	CHECK_EQ(u64("0x-1", 0, UINT64_MAX, 0), -EINVAL);
	CHECK_EQ(u64("010", 0, 100, 10), 0); /* decimal, not octal */
	CHECK_EQ(u64("09", 0, 100, 9), 0);
	CHECK_EQ(vmt_parse_u64(NULL, 0, 1, &(uint64_t){ 0 }), -EINVAL);
}

static int size(const char *s, uint64_t want)
{
	uint64_t v = 0xdead;
	int ret = vmt_parse_size(s, &v);

	if (ret == 0 && v != want) {
		printf("#   vmt_parse_size(\"%s\") = %" PRIu64 ", want %" PRIu64 "\n", s, v, want);
		return -1000;
	}
	return ret;
}

static int u64_or_size(const char *s, uint64_t want)
{
	uint64_t v = 0xdead;
	int ret = vmt_parse_u64_or_size(s, &v);

	if (ret == 0 && v != want) {
		printf("#   vmt_parse_u64_or_size(\"%s\") = %" PRIu64 ", want %" PRIu64 "\n", s, v,
		       want);
		return -1000;
	}
	return ret;
}

/* IOVAs and lengths: hex as it is, or a size with the suffixes every size option takes. */
static void test_parse_u64_or_size(void)
{
	CHECK_EQ(u64_or_size("0", 0), 0);
	CHECK_EQ(u64_or_size("4096", 4096), 0);
	CHECK_EQ(u64_or_size("0x100000000", UINT64_C(1) << 32), 0);
	CHECK_EQ(u64_or_size("0XFFFFFFFFFFFFFFFF", UINT64_MAX), 0);
	CHECK_EQ(u64_or_size("4G", UINT64_C(4) << 30), 0);
	CHECK_EQ(u64_or_size("14g", UINT64_C(14) << 30), 0);
	CHECK_EQ(u64_or_size("64K", 65536), 0);
	CHECK_EQ(u64_or_size("64KiB", 65536), 0);
	CHECK_EQ(u64_or_size("2M", 2u << 20), 0);
	CHECK_EQ(u64_or_size("1T", UINT64_C(1) << 40), 0);
	CHECK_EQ(u64_or_size("010", 10), 0); /* decimal, not octal */
	CHECK_EQ(u64_or_size("16777216T", 0), -ERANGE);
	CHECK_EQ(u64_or_size("0x10000000000000000", 0), -ERANGE);
	CHECK_EQ(u64_or_size("0x1G", 0), -EINVAL);
	CHECK_EQ(u64_or_size("0x", 0), -EINVAL);
	CHECK_EQ(u64_or_size("1.5G", 0), -EINVAL);
	CHECK_EQ(u64_or_size("-4G", 0), -EINVAL);
	CHECK_EQ(u64_or_size(" 4G", 0), -EINVAL);
	CHECK_EQ(u64_or_size("4 G", 0), -EINVAL);
	CHECK_EQ(u64_or_size("", 0), -EINVAL);
	CHECK_EQ(vmt_parse_u64_or_size(NULL, &(uint64_t){ 0 }), -EINVAL);
}

static void test_parse_size(void)
{
	CHECK_EQ(size("0", 0), 0);
	CHECK_EQ(size("4096", 4096), 0);
	CHECK_EQ(size("64K", 65536), 0);
	CHECK_EQ(size("64k", 65536), 0);
	CHECK_EQ(size("64KiB", 65536), 0);
	CHECK_EQ(size("2M", 2u << 20), 0);
	CHECK_EQ(size("2mib", 2u << 20), 0);
	CHECK_EQ(size("1G", 1u << 30), 0);
	CHECK_EQ(size("3T", UINT64_C(3) << 40), 0);
	CHECK_EQ(size("16777215T", UINT64_C(16777215) << 40), 0);
	CHECK_EQ(size("16777216T", 0), -ERANGE);
	CHECK_EQ(size("99999999999999999999", 0), -ERANGE);
	CHECK_EQ(size("1.5G", 0), -EINVAL);
	CHECK_EQ(size("1X", 0), -EINVAL);
	CHECK_EQ(size("G", 0), -EINVAL);
	CHECK_EQ(size("", 0), -EINVAL);
	CHECK_EQ(size("-1", 0), -EINVAL);
	CHECK_EQ(size(" 1", 0), -EINVAL);
	CHECK_EQ(size("1 K", 0), -EINVAL);
}

static int duration(const char *s, uint64_t want)
{
	uint64_t v = 0xdead;
	int ret = vmt_parse_duration_ns(s, &v);

	if (ret == 0 && v != want) {
		printf("#   vmt_parse_duration_ns(\"%s\") = %" PRIu64 ", want %" PRIu64 "\n", s, v,
		       want);
		return -1000;
	}
	return ret;
}

static void test_parse_duration(void)
{
	CHECK_EQ(duration("250ms", 250000000), 0);
	CHECK_EQ(duration("2s", 2000000000), 0);
	CHECK_EQ(duration("1.5s", 1500000000), 0);
	CHECK_EQ(duration("3m", UINT64_C(180000000000)), 0);
	CHECK_EQ(duration("1h", UINT64_C(3600000000000)), 0);
	CHECK_EQ(duration("5", 5000000000u), 0);
	CHECK_EQ(duration("10us", 10000), 0);
	CHECK_EQ(duration("7ns", 7), 0);
	CHECK_EQ(duration("0", 0), 0);
	CHECK_EQ(duration("1x", 0), -EINVAL);
	CHECK_EQ(duration("-1s", 0), -EINVAL);
	CHECK_EQ(duration("", 0), -EINVAL);
	CHECK_EQ(duration("s", 0), -EINVAL);
	CHECK_EQ(duration("nan", 0), -EINVAL);
	CHECK_EQ(duration("inf", 0), -EINVAL);
	CHECK_EQ(duration("1 s", 0), -EINVAL);
	CHECK_EQ(duration("99999999999h", 0), -ERANGE);
}

static void test_format_size(void)
{
	char buf[32];

	CHECK(strcmp(vmt_format_size(0, buf, sizeof(buf)), "0 B") == 0);
	CHECK(strcmp(vmt_format_size(1023, buf, sizeof(buf)), "1023 B") == 0);
	CHECK(strcmp(vmt_format_size(1024, buf, sizeof(buf)), "1.0 KiB") == 0);
	CHECK(strcmp(vmt_format_size(1536, buf, sizeof(buf)), "1.5 KiB") == 0);
	CHECK(strcmp(vmt_format_size(UINT64_C(3) << 30, buf, sizeof(buf)), "3.0 GiB") == 0);
	CHECK(strcmp(vmt_format_size(UINT64_MAX, buf, sizeof(buf)), "16.0 EiB") == 0);
	/* rounded: one byte short of a MiB is still KiB */
	CHECK(strcmp(vmt_format_size((1u << 20) - 1, buf, sizeof(buf)), "1024.0 KiB") == 0);
	CHECK(strcmp(vmt_format_size_as(1536, VMT_SIZE_IEC, buf, sizeof(buf)), "1.5 KiB") == 0);
}

/* vfio-mig-ls's cells, as lsblk writes sizes. */
static void test_format_size_short(void)
{
	char buf[32];

	CHECK(strcmp(vmt_format_size_as(0, VMT_SIZE_SHORT, buf, sizeof(buf)), "0B") == 0);
	CHECK(strcmp(vmt_format_size_as(1023, VMT_SIZE_SHORT, buf, sizeof(buf)), "1023B") == 0);
	CHECK(strcmp(vmt_format_size_as(1024, VMT_SIZE_SHORT, buf, sizeof(buf)), "1K") == 0);
	CHECK(strcmp(vmt_format_size_as(1536, VMT_SIZE_SHORT, buf, sizeof(buf)), "1.5K") == 0);
	/* rounded down, and no ".0" */
	CHECK(strcmp(vmt_format_size_as((1u << 20) - 1, VMT_SIZE_SHORT, buf, sizeof(buf)),
		     "1023.9K") == 0);
	CHECK(strcmp(vmt_format_size_as(1100, VMT_SIZE_SHORT, buf, sizeof(buf)), "1K") == 0);
	CHECK(strcmp(vmt_format_size_as(UINT64_C(3) << 29, VMT_SIZE_SHORT, buf, sizeof(buf)),
		     "1.5G") == 0);
	CHECK(strcmp(vmt_format_size_as(UINT64_MAX, VMT_SIZE_SHORT, buf, sizeof(buf)), "15.9E") ==
	      0);
}

/* Runs fn in a child; its exit status and what it wrote to stderr. */
static int in_child(void (*fn)(void), char *err, size_t errlen)
{
	int pfd[2], status = -1;
	pid_t pid;
	ssize_t n;
	size_t got = 0;

	if (pipe(pfd))
		return -1;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		dup2(pfd[1], 2);
		close(pfd[0]);
		fn();
		_exit(0);
	}
	close(pfd[1]);
	while (got + 1 < errlen && (n = read(pfd[0], err + got, errlen - 1 - got)) > 0)
		got += (size_t)n;
	err[got] = '\0';
	close(pfd[0]);
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void bad_u64_option(void)
{
	vmt_log_init("test-strutils");
	vmt_u64_or_usage("11", "--count", 1, 10);
}

static void bad_size_option(void)
{
	vmt_log_init("test-strutils");
	vmt_size_or_usage("1.5G", "--chunk-size");
}

static void bad_duration_option(void)
{
	vmt_log_init("test-strutils");
	vmt_duration_ns_or_usage("soon", "--interval");
}

static void test_or_usage(void)
{
	char err[512];

	CHECK_EQ(vmt_u64_or_usage("7", "--count", 1, 10), 7);
	CHECK_EQ(vmt_size_or_usage("1M", "--chunk-size"), 1 << 20);
	CHECK_EQ(vmt_duration_ns_or_usage("1ms", "--interval"), 1000000);
	CHECK_EQ(in_child(bad_u64_option, err, sizeof(err)), VMT_EXIT_USAGE);
	CHECK_STR_CONTAINS(err, "--count");
	CHECK_STR_CONTAINS(err, "'11'");
	CHECK_STR_CONTAINS(err, "Try 'test-strutils --help' for more information.");
	CHECK_EQ(in_child(bad_size_option, err, sizeof(err)), VMT_EXIT_USAGE);
	CHECK_STR_CONTAINS(err, "invalid --chunk-size argument: '1.5G'");
	CHECK_EQ(in_child(bad_duration_option, err, sizeof(err)), VMT_EXIT_USAGE);
	CHECK_STR_CONTAINS(err, "invalid --interval argument: 'soon'");
}

static void test_exit_codes(void)
{
	CHECK_EQ(vmt_exit_code_for_error(0), VMT_EXIT_OK);
	CHECK_EQ(vmt_exit_code_for_error(-EBADMSG), VMT_EXIT_BADDATA);
	CHECK_EQ(vmt_exit_code_for_error(-EOPNOTSUPP), VMT_EXIT_UNSUPPORTED);
	CHECK_EQ(vmt_exit_code_for_error(-EIO), VMT_EXIT_FAILURE);
	CHECK_EQ(vmt_exit_code_for_error(-EPIPE), VMT_EXIT_FAILURE);
}

static void test_copy_string(void)
{
	char buf[4] = "xyz";

	CHECK_EQ(vmt_copy_string(buf, sizeof(buf), "abc"), 0);
	CHECK(strcmp(buf, "abc") == 0);
	/* One too long: refused whole, the buffer keeps what it had. */
	CHECK_EQ(vmt_copy_string(buf, sizeof(buf), "abcd"), -ENAMETOOLONG);
	CHECK(strcmp(buf, "abc") == 0);
	CHECK_EQ(vmt_copy_string(buf, sizeof(buf), ""), 0);
	CHECK(buf[0] == '\0');
}

int main(void)
{
	RUN(test_parse_u64);
	RUN(test_parse_size);
	RUN(test_parse_u64_or_size);
	RUN(test_parse_duration);
	RUN(test_format_size);
	RUN(test_format_size_short);
	RUN(test_or_usage);
	RUN(test_exit_codes);
	RUN(test_copy_string);
	return unit_done();
}
