// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * lib/common/progress: the line's format (program, phase, IEC units, percent,
 * ETA, rate) and that it never reaches the terminal's last column, leaving
 * out the least important parts whole.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/progress.h"
#include "unit.h"

#define SEC 1000000000ull
#define MiB (1ull << 20)

static void test_with_a_total(void)
{
	char line[256];
	size_t len = vmt_progress_format(line, sizeof(line), 200, "stop-copy", 12 * MiB, 24 * MiB,
					 2 * SEC);

	CHECK_EQ(len, strlen(line));
	CHECK(strcmp(line, "vfio-mig-save: stop-copy: 12.0 MiB of 24.0 MiB (50%), 6.0 MiB/s, "
			   "ETA 0:02") == 0);
}

static void test_without_a_total_or_phase(void)
{
	char line[256];

	vmt_progress_format(line, sizeof(line), 200, NULL, 1536, 0, SEC);
	CHECK(strcmp(line, "vfio-mig-save: 1.5 KiB, 1.5 KiB/s") == 0);
	vmt_progress_format(line, sizeof(line), 200, NULL, 0, 0, 0);
	CHECK(strcmp(line, "vfio-mig-save: 0 B, 0 B/s") == 0);
}

static void test_estimate_passed_is_100_percent_without_eta(void)
{
	char line[256];

	vmt_progress_format(line, sizeof(line), 200, "pre-copy", 30 * MiB, 24 * MiB, SEC);
	CHECK_STR_CONTAINS(line, " of 24.0 MiB (100%), 30.0 MiB/s");
	CHECK(!strstr(line, "ETA"));
}

static void test_long_eta_has_hours(void)
{
	char line[256];

	/* 1 MiB/s, 2 h 3 min 7 s to go */
	vmt_progress_format(line, sizeof(line), 200, NULL, MiB, MiB + 7387 * MiB, SEC);
	CHECK_STR_CONTAINS(line, "ETA 2:03:07");
}

static void test_never_reaches_the_last_column(void)
{
	char line[256];

	for (unsigned int width = 1; width <= 120; width++) {
		size_t len = vmt_progress_format(line, sizeof(line), width, "pre-copy, round 12345",
						 123456789012ull, 987654321098ull, 3 * SEC);

		CHECK(len < (width > 1 ? width : 2));
		CHECK_EQ(len, strlen(line));
	}
	/* A narrow terminal leaves parts out whole: the bytes and the rate stay. */
	vmt_progress_format(line, sizeof(line), 20, "stop-copy", MiB, 2 * MiB, SEC);
	CHECK(strcmp(line, "1.0 MiB, 1.0 MiB/s") == 0);
	/* Too narrow for the bytes alone: their head. */
	vmt_progress_format(line, sizeof(line), 5, "stop-copy", MiB, 2 * MiB, SEC);
	CHECK(strcmp(line, "1.0 ") == 0);
}

/*
 * Issue 22 item 24: at 80 columns the pre-copy line was cut to "ETA 0"; the
 * least important parts go first, whole: the total, the phase, the
 * percentage, the program name, then the time left.
 */
static void test_fits_with_what_matters_first(void)
{
	char line[256];

	vmt_progress_format(line, sizeof(line), 80, "pre-copy round 12", 12 * MiB, 24 * MiB,
			    2 * SEC);
	CHECK(strcmp(line, "vfio-mig-save: pre-copy round 12: 12.0 MiB (50%), 6.0 MiB/s, "
			   "ETA 0:02") == 0);
	vmt_progress_format(line, sizeof(line), 52, "pre-copy round 12", 12 * MiB, 24 * MiB,
			    2 * SEC);
	CHECK(strcmp(line, "vfio-mig-save: 12.0 MiB (50%), 6.0 MiB/s, ETA 0:02") == 0);
	vmt_progress_format(line, sizeof(line), 40, "pre-copy round 12", 12 * MiB, 24 * MiB,
			    2 * SEC);
	CHECK(strcmp(line, "12.0 MiB, 6.0 MiB/s, ETA 0:02") == 0);
	vmt_progress_format(line, sizeof(line), 25, "pre-copy round 12", 12 * MiB, 24 * MiB,
			    2 * SEC);
	CHECK(strcmp(line, "12.0 MiB, 6.0 MiB/s") == 0);
}

static void test_small_buffer(void)
{
	char line[8];
	size_t len = vmt_progress_format(line, sizeof(line), 200, NULL, MiB, 0, SEC);

	CHECK_EQ(len, strlen(line));
	CHECK(len < sizeof(line));
}

/* The total shown for an input: a regular file's size, nothing for a pipe. */
static void test_fd_total(void)
{
	FILE *f = tmpfile();
	int pipefd[2];

	CHECK(f != NULL);
	if (!f)
		return;
	CHECK_EQ(vmt_progress_fd_total(fileno(f)), 0);
	fputs("0123456789", f);
	fflush(f);
	CHECK_EQ(vmt_progress_fd_total(fileno(f)), 10);
	fclose(f);
	CHECK(pipe(pipefd) == 0);
	CHECK(write(pipefd[1], "abc", 3) == 3);
	CHECK_EQ(vmt_progress_fd_total(pipefd[0]), 0);
	close(pipefd[0]);
	close(pipefd[1]);
}

int main(void)
{
	vmt_log_init("vfio-mig-save");
	RUN(test_with_a_total);
	RUN(test_without_a_total_or_phase);
	RUN(test_estimate_passed_is_100_percent_without_eta);
	RUN(test_long_eta_has_hours);
	RUN(test_never_reaches_the_last_column);
	RUN(test_fits_with_what_matters_first);
	RUN(test_small_buffer);
	RUN(test_fd_total);
	return unit_done();
}
