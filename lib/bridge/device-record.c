// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A device as its DEVICE record; see device-record.h.
 */
#include <stdio.h>
#include <string.h>

#include "bridge/device-record.h"

/* Every name a device may have fits the record's field, whole. */
_Static_assert(VMT_DEVICE_NAME_MAX <= MIGSTREAM_MAX_STRING,
	       "device names must fit a DEVICE record");
_Static_assert(sizeof(((struct vmt_device *)0)->driver) <=
		       sizeof(((struct migstream_device *)0)->driver),
	       "driver names must fit a DEVICE record");
_Static_assert(sizeof(((struct vmt_device *)0)->mdev_type) <=
		       sizeof(((struct migstream_device *)0)->mdev_type),
	       "mdev types must fit a DEVICE record");

void vmt_device_fill_record(const struct vmt_device *dev, uint32_t index,
			    struct migstream_device *rec)
{
	memset(rec, 0, sizeof(*rec));
	rec->index = index;
	rec->mig_flags = dev->mig_flags;
	rec->stop_copy_size = MIGSTREAM_SIZE_UNKNOWN;
	if (dev->has_pci_ids) {
		rec->id_flags |= MIGSTREAM_DEV_PCI_IDS;
		rec->vendor = dev->vendor;
		rec->device = dev->device;
		rec->subsys_vendor = dev->subsys_vendor;
		rec->subsys_device = dev->subsys_device;
		rec->class_code = dev->class_code;
		rec->revision = dev->revision;
	}
	snprintf(rec->name, sizeof(rec->name), "%s", dev->name);
	snprintf(rec->driver, sizeof(rec->driver), "%s", dev->driver);
	snprintf(rec->mdev_type, sizeof(rec->mdev_type), "%s", dev->mdev_type);
}
