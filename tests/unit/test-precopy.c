// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * lib/vfio/precopy: the pre-copy state a device goes to, and the split of the
 * bytes read between PRECOPY_INITIAL and PRECOPY_DIRTY.
 */
#include "vfio/mig.h"
#include "vfio/precopy.h"
#include "unit.h"

static void test_state_for(void)
{
	CHECK_EQ(vmt_state_precopy_for(VFIO_DEVICE_STATE_RUNNING), VFIO_DEVICE_STATE_PRE_COPY);
	CHECK_EQ(vmt_state_precopy_for(VFIO_DEVICE_STATE_RUNNING_P2P),
		 VFIO_DEVICE_STATE_PRE_COPY_P2P);
	CHECK_EQ(vmt_state_precopy_for(VFIO_DEVICE_STATE_STOP), VMT_STATE_UNKNOWN);
	CHECK_EQ(vmt_state_precopy_for(VFIO_DEVICE_STATE_PRE_COPY), VMT_STATE_UNKNOWN);
	CHECK_EQ(vmt_state_precopy_for(VMT_STATE_UNKNOWN), VMT_STATE_UNKNOWN);
}

static void test_initial_then_dirty(void)
{
	struct vmt_precopy_split s = { 0 };

	vmt_precopy_split_sample(&s, 100);
	CHECK_EQ(vmt_precopy_split_take(&s, 60), 60);
	CHECK(!s.in_dirty);
	/* a read across the end of the initial section */
	CHECK_EQ(vmt_precopy_split_take(&s, 60), 40);
	CHECK(s.in_dirty);
	CHECK_EQ(vmt_precopy_split_take(&s, 10), 0);
}

static void test_later_sample_refines_the_initial_section(void)
{
	struct vmt_precopy_split s = { 0 };

	vmt_precopy_split_sample(&s, 100);
	CHECK_EQ(vmt_precopy_split_take(&s, 30), 30);
	/* the device now says 50 are left (not 70): the sample wins */
	vmt_precopy_split_sample(&s, 50);
	CHECK_EQ(vmt_precopy_split_take(&s, 80), 50);
	/* after dirty data, a sample cannot bring initial bytes back */
	vmt_precopy_split_sample(&s, 1000);
	CHECK_EQ(vmt_precopy_split_take(&s, 10), 0);
}

static void test_exact_end_then_dirty(void)
{
	struct vmt_precopy_split s = { 0 };

	vmt_precopy_split_sample(&s, 16);
	CHECK_EQ(vmt_precopy_split_take(&s, 16), 16);
	CHECK(!s.in_dirty);
	CHECK_EQ(vmt_precopy_split_take(&s, 1), 0);
	CHECK(s.in_dirty);
}

int main(void)
{
	RUN(test_state_for);
	RUN(test_initial_then_dirty);
	RUN(test_later_sample_refines_the_initial_section);
	RUN(test_exact_end_then_dirty);
	return unit_done();
}
