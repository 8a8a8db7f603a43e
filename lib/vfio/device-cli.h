/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A device as every tool's command line takes it and as every tool's errors
 * name it: the check of a device argument before anything is opened, and the
 * words for why an open failed.
 */
#ifndef VMT_VFIO_DEVICE_CLI_H
#define VMT_VFIO_DEVICE_CLI_H

#include "common/failure.h"

/* Which device names a tool takes (vfio/device.h): fd:N only where a VMM passes one. */
enum vmt_cli_device_forms {
	VMT_CLI_DEVICE_ANY,   /* every form, fd:N included */
	VMT_CLI_DEVICE_NAMED, /* every form but fd:N */
};

/*
 * A device name from the command line, returned as it is when it has one of
 * the forms; otherwise the usage error every tool gives (exit 2), with the
 * name escaped, before anything is opened.
 */
const char *vmt_cli_device_or_usage(const char *name, enum vmt_cli_device_forms forms);

/*
 * Why a device could not be opened, in the words every tool uses:
 * "no such device", "device busy (...)", "permission denied", ...
 */
const char *vmt_device_open_reason(int err);
/* Records "DEVICE: cannot open the device: REASON" (vmt_refuse(); returns err). */
int vmt_fail_device_open(struct vmt_failure *f, const char *device, int err, int exit_code);

#endif
