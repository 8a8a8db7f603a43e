// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The table of groups and their needs; see groups.h.
 */
#include <string.h>

#include "groups.h"
#include "common/c.h"
#include "vfio/uapi/vfio-uapi.h"

struct check_config conf = { .iommufd = -1 };

static const char *needs_device(void)
{
	return conf.ncdev < 1 ? "no device given (-d DEV)" : NULL;
}

static const char *needs_peer(void)
{
	if (needs_device())
		return needs_device();
	return conf.ncdev < 2 ? "needs a second device of the same kind (-d PEER)" : NULL;
}

static bool claims(uint64_t flags)
{
	return (conf.mig_flags & flags) == flags;
}

static const char *needs_precopy(void)
{
	if (needs_device())
		return needs_device();
	if (!claims(VFIO_MIGRATION_PRE_COPY | VFIO_MIGRATION_P2P))
		return "the device does not claim VFIO_MIGRATION_PRE_COPY and VFIO_MIGRATION_P2P";
	return NULL;
}

static const char *needs_precopy_peer(void)
{
	return needs_precopy() ? needs_precopy() : needs_peer();
}

static const char *needs_dma_logging(void)
{
	if (needs_device())
		return needs_device();
	return conf.dma_logging
		       ? NULL
		       : "the device has no DMA logging (PROBE of DMA_LOGGING_START fails)";
}

static const char *needs_two_trackers(void)
{
	if (needs_dma_logging())
		return needs_dma_logging();
	return conf.iommu_dirty ? NULL
				: "the IOMMU has no dirty tracking (IOMMU_GET_HW_INFO): nothing to "
				  "cross-check the DMA log with";
}

static const char *needs_group_node(void)
{
	if (needs_device())
		return needs_device();
	return conf.group_node ? NULL : "the device has no VFIO group node (/dev/vfio/N)";
}

static const char *needs_nothing(void)
{
	return NULL;
}

static const char *needs_dirty_hwpt(void)
{
	if (conf.iommufd >= 0)
		return NULL;
	if (needs_device())
		return "no device (-d DEV) and no --iommufd-fd";
	return conf.iommu_dirty ? NULL
				: "the IOMMU has no dirty tracking (IOMMU_GET_HW_INFO) and no "
				  "--iommufd-fd was given";
}

static const struct check_group groups[] = {
	{ "bind", "before and at BIND_IOMMUFD, ATTACH, GET_INFO", group_bind, needs_device },
	{ "feature", "VFIO_DEVICE_FEATURE flag and argsz checks", group_feature, needs_device },
	{ "fsm", "the migration FSM: every (from, to) pair, data_fd and GET", group_fsm,
	  needs_peer },
	{ "datafd", "data_fd lifetime, kept across PRE_COPY -> STOP_COPY", group_datafd,
	  needs_precopy },
	{ "precopy", "VFIO_MIG_GET_PRECOPY_INFO and the ends of the stream", group_precopy,
	  needs_precopy },
	{ "converge", "pre-copy under no load: initial bytes reach 0 and stay", group_converge,
	  needs_precopy },
	{ "datasize", "MIG_DATA_SIZE in every state", group_datasize, needs_device },
	{ "resume", "RESUMING accepts a whole stream, refuses extra and short ones", group_resume,
	  needs_precopy_peer },
	{ "roundtrip", "DEV -> migstream -> PEER, byte-exact and digest-checked", group_roundtrip,
	  needs_peer },
	{ "reset", "VFIO_DEVICE_RESET from the migration states", group_reset, needs_device },
	{ "close", "closing the device fd and what state the next open finds", group_close,
	  needs_device },
	{ "dmalog", "DMA_LOGGING_START/REPORT/STOP checks of the VFIO core", group_dmalog,
	  needs_dma_logging },
	{ "dmacross", "DMA logging bitmaps against the IOMMU's dirty bitmap", group_dmacross,
	  needs_two_trackers },
	{ "group", "the legacy container and group, and their exclusion with the cdev", group_group,
	  needs_group_node },
	{ "ioas", "IOAS_ALLOC/MAP/UNMAP/IOVA_RANGES, DESTROY on a fresh iommufd", group_ioas,
	  needs_nothing },
	{ "dirty", "IOMMU_HWPT_GET_DIRTY_BITMAP argument checks", group_dirty, needs_dirty_hwpt },
};

const struct check_group *groups_all(unsigned int *count)
{
	*count = ARRAY_SIZE(groups);
	return groups;
}

const struct check_group *group_by_name(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(groups); i++)
		if (!strcmp(groups[i].name, name))
			return &groups[i];
	return NULL;
}
