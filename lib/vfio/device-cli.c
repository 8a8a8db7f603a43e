// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Device arguments and device-open failures; see device-cli.h.
 */
#include <errno.h>
#include <string.h>

#include "common/log.h"
#include "common/textescape.h"
#include "vfio/device-cli.h"
#include "vfio/device.h"

const char *vmt_cli_device_or_usage(const char *name, enum vmt_cli_device_forms forms)
{
	const char *allowed =
		forms == VMT_CLI_DEVICE_ANY ? VMT_DEVICE_FORMS_ALL : VMT_DEVICE_FORMS_NAMED;
	/* No device name is longer; a longer one is shown cut. */
	char shown[VMT_ESCAPED_SIZE(VMT_DEVICE_NAME_MAX)];

	if (vmt_device_spec_check(name) == 0 &&
	    (forms == VMT_CLI_DEVICE_ANY || strncmp(name, "fd:", 3) != 0))
		return name;
	/* The name is the user's bytes: a newline in it must not forge a second line. */
	vmt_usage_error("invalid device '%s' (not %s)", vmt_escape_text(name, shown, sizeof(shown)),
			allowed);
}

const char *vmt_device_open_reason(int err)
{
	switch (-err) {
	case ENOENT:
		return "no such device";
	case EBUSY:
		return "device busy (open in another process, or group not viable)";
	case EINVAL:
		return "not " VMT_DEVICE_FORMS_ALL;
	case EBADF:
		return "not an open file descriptor";
	case EACCES:
	case EPERM:
		return "permission denied";
	default:
		return strerror(-err);
	}
}

int vmt_fail_device_open(struct vmt_failure *f, const char *device, int err, int exit_code)
{
	return vmt_refuse(f, &(struct vmt_where){ .device = device }, err, exit_code,
			  "cannot open the device: %s", vmt_device_open_reason(err));
}
