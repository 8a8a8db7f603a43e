// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vfio-precopy-info's model: the rate between samples and the estimate.
 */
#include "../../tools/vfio-precopy-info/estimate.h"
#include "../../tools/vfio-precopy-info/sample.h"
#include "unit.h"

static void rate_needs_two_samples(void)
{
	struct precopy_sample cur = { .t = 1.0, .initial_bytes = 100 };

	precopy_sample_rate(NULL, &cur);
	CHECK(!cur.rate_known);
}

static void rate_counts_growth_and_drained(void)
{
	struct precopy_sample prev = { .t = 1.0, .initial_bytes = 1000, .dirty_bytes = 0 };
	/* 600 read in between; 200 of the initial and 300 dirty bytes left */
	struct precopy_sample cur = {
		.t = 3.0, .initial_bytes = 200, .dirty_bytes = 300, .drained_bytes = 600
	};

	precopy_sample_rate(&prev, &cur);
	CHECK(cur.rate_known);
	/* pending 1000 -> 500, drained 600: 100 bytes created over 2 s */
	CHECK_EQ(cur.rate * 10, 500);
}

static void rate_never_negative(void)
{
	/* The device may lower its estimate without anything being read. */
	struct precopy_sample prev = { .t = 0.0, .initial_bytes = 1000 };
	struct precopy_sample cur = { .t = 1.0, .initial_bytes = 400 };

	precopy_sample_rate(&prev, &cur);
	CHECK(cur.rate_known);
	CHECK_EQ(cur.rate, 0);
}

static void same_time_gives_no_rate(void)
{
	struct precopy_sample prev = { .t = 2.0 }, cur = { .t = 2.0 };

	precopy_sample_rate(&prev, &cur);
	CHECK(!cur.rate_known);
}

static void converges_below_bandwidth(void)
{
	struct precopy_estimate_input in = {
		.bandwidth = 1000,
		.downtime_target_s = 0.3,
		.pending_bytes = 9000,
		.rate_known = true,
		.rate = 100,
	};
	struct precopy_estimate e;

	precopy_estimate(&in, &e);
	CHECK(e.converges_known);
	CHECK(e.converges);
	CHECK_EQ(e.precopy_time_s * 1000, 10000); /* 9000 / (1000 - 100) */
	CHECK_EQ(e.rate_share * 100, 10);
	CHECK(!e.stop_copy_known);
}

static void diverges_at_or_above_bandwidth(void)
{
	struct precopy_estimate_input in = {
		.bandwidth = 1000,
		.downtime_target_s = 0.3,
		.pending_bytes = 1,
		.rate_known = true,
		.rate = 1000,
	};
	struct precopy_estimate e;

	precopy_estimate(&in, &e);
	CHECK(e.converges_known);
	CHECK(!e.converges);
	CHECK_EQ(e.precopy_time_s, 0);
}

static void unknown_rate_gives_no_verdict(void)
{
	struct precopy_estimate_input in = { .bandwidth = 1000, .downtime_target_s = 1 };
	struct precopy_estimate e;

	precopy_estimate(&in, &e);
	CHECK(!e.converges_known);
}

static void stop_copy_against_downtime(void)
{
	struct precopy_estimate_input in = {
		.bandwidth = 1000,
		.downtime_target_s = 0.5,
		.stop_copy_known = true,
		.stop_copy_bytes = 500,
	};
	struct precopy_estimate e;

	precopy_estimate(&in, &e);
	CHECK(e.stop_copy_known);
	CHECK(e.meets_downtime); /* exactly at the target counts as within */
	in.stop_copy_bytes = 501;
	precopy_estimate(&in, &e);
	CHECK(!e.meets_downtime);
}

int main(void)
{
	RUN(rate_needs_two_samples);
	RUN(rate_counts_growth_and_drained);
	RUN(rate_never_negative);
	RUN(same_time_gives_no_rate);
	RUN(converges_below_bandwidth);
	RUN(diverges_at_or_above_bandwidth);
	RUN(unknown_rate_gives_no_verdict);
	RUN(stop_copy_against_downtime);
	return unit_done();
}
