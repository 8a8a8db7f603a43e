/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Keeping the devices safe: the checks walk them through every migration
 * state and reset them, so a device another process uses is refused, and
 * whatever happens (a failed check, a hang cut short by SIGINT, SIGTERM or
 * SIGHUP: lib/common/signals.h) every device is left RUNNING, reset when it was not.
 */
#ifndef VMC_SAFETY_H
#define VMC_SAFETY_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct target {
	const char *spec;	   /* as given to -d */
	char cdev[PATH_MAX];	   /* /dev/vfio/devices/vfioN */
	char group_node[PATH_MAX]; /* /dev/vfio/N, "" when unknown */
	char name[256];		   /* the name in its group: BDF or mdev UUID */
	uint32_t final_state;	   /* after target_leave_running() */
	bool was_reset;
};

struct target_facts {
	uint64_t mig_flags;
	bool dma_logging;
	bool iommu_dirty;
};

/* The cdev, group node and name of spec: 0, -ENOENT or -EINVAL. */
int target_resolve(const char *spec, struct target *t);
/*
 * Opens and binds the device to read what it claims; refuses it (-EBUSY,
 * why says so) when another process holds it or it is not RUNNING.
 * -EOPNOTSUPP: no VFIO migration.
 */
int target_preflight(const struct target *t, struct target_facts *facts, char *why, size_t len);
/* Open, bind, GET; VFIO_DEVICE_RESET unless RUNNING; 0 when it is RUNNING. */
int target_leave_running(struct target *t);

/*
 * After a stop signal (lib/common/signals.h): every fd beyond stderr closed, so
 * that the devices can be bound again and put back.
 */
void safety_drop_everything(void);

#endif
