/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The check groups and what each needs: how many devices, which migration
 * flags, DMA logging, a group node, an iommufd with a dirty-tracking HWPT.
 * A group whose needs the devices do not claim is skipped, with the reason.
 */
#ifndef VMC_GROUPS_H
#define VMC_GROUPS_H

#include <stdbool.h>
#include <stdint.h>

/* What the groups check against, found by main before any group runs. */
struct check_config {
	const char *cdev[2]; /* DEV and PEER: /dev/vfio/devices/vfioN */
	int ncdev;
	const char *group_node; /* DEV's /dev/vfio/N, when it has one */
	const char *group_name; /* its name there: BDF or mdev UUID */
	uint64_t mig_flags;	/* DEV's VFIO_MIGRATION_*; PEER's must match */
	bool dma_logging;	/* DEV answers PROBE of DMA_LOGGING_START */
	bool iommu_dirty;	/* DEV's IOMMU has IOMMU_HW_CAP_DIRTY_TRACKING */
	/* --iommufd-fd: an inherited iommufd and dirty-tracking HWPT (the kernel tier's mock) */
	int iommufd;
	uint32_t hwpt;
	uint64_t iova, length, io_page_size;
};

extern struct check_config conf;

struct check_group {
	const char *name;
	const char *summary;
	void (*run)(void);
	/* NULL when the group can run, else why not (a static string) */
	const char *(*skip_reason)(void);
};

const struct check_group *groups_all(unsigned int *count);
const struct check_group *group_by_name(const char *name);

void group_bind(void);
void group_feature(void);
void group_fsm(void);
void group_datafd(void);
void group_precopy(void);
void group_converge(void);
void group_datasize(void);
void group_resume(void);
void group_roundtrip(void);
void group_reset(void);
void group_close(void);
void group_dmalog(void);
void group_dmacross(void);
void group_group(void);
void group_ioas(void);
void group_dirty(void);

#endif
