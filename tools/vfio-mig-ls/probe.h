/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What vfio-mig-ls knows about one VFIO device: its identity from sysfs
 * and, when the device could be opened without taking it from anyone, its
 * migration facts. Only GETs and PROBEs are asked of the device: its state
 * is never changed.
 */
#ifndef VFIO_MIG_LS_PROBE_H
#define VFIO_MIG_LS_PROBE_H

#include <stdbool.h>
#include <stdint.h>

#include "vfio/sysfs.h"

/* Whether the device could be opened, and if not, why. */
enum ls_access {
	LS_NOT_TRIED = 0, /* --no-open */
	LS_OPENED,	  /* opened, facts below are filled */
	LS_BUSY,	  /* in use (a VMM has it): EBUSY, or the cdev already bound */
	LS_DENIED,	  /* EACCES / EPERM */
	LS_NO_NODE,	  /* no /dev node for it */
	LS_FAILED,	  /* any other error (open_errno) */
};

/* A fact the device may not tell: unknown, no or yes. */
enum ls_tristate {
	LS_UNKNOWN = 0,
	LS_NO,
	LS_YES
};

struct ls_device {
	struct vmt_sysfs_vfio_entry entry;
	char cdev[64];	  /* "vfio3" or "" */
	char group[32];	  /* IOMMU group or "" */
	char driver[256]; /* "" when unbound */
	char mdev_type[256];
	bool has_ids;
	uint16_t vendor, device;

	enum ls_access access;
	int open_errno;	 /* with LS_FAILED */
	const char *via; /* "cdev" or "group" when opened */
	bool migratable; /* VFIO_DEVICE_FEATURE_MIGRATION with STOP_COPY */
	uint64_t mig_flags;
	bool state_known;
	uint32_t state;
	bool stop_copy_known;
	uint64_t stop_copy_bytes;
	enum ls_tristate dma_logging; /* VFIO DMA logging (device dirty tracking) */
	enum ls_tristate iommu_dirty; /* the IOMMU can track dirty pages (cdev only) */
};

/* Identity from sysfs; with open, the device's answers too. Never fails: what is unknown stays unknown. */
void ls_probe_device(const struct vmt_sysfs_vfio_entry *entry, bool open, struct ls_device *out);

/* "ok", "busy", "denied", "no-node", "error", "-" */
const char *ls_access_name(enum ls_access access);

#endif
