// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Descriptor against target: the checks run before a device is touched, so
 * a refused stream leaves the target exactly as it was.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/textescape.h"
#include "vfio/mig.h"
#include "vfio/uapi/vfio-uapi.h"
#include "compat.h"

static bool known(const char *s)
{
	return s && *s;
}

static enum load_compat_verdict differ_u(char *msg, size_t msglen, const char *field,
					 unsigned int stream, unsigned int target, int width)
{
	snprintf(msg, msglen, "%s differs: stream 0x%0*x, target 0x%0*x", field, width, stream,
		 width, target);
	return LOAD_COMPAT_MISMATCH;
}

enum load_compat_verdict load_compat_check(const struct migstream_device *desc,
					   const struct load_target_identity *target, char *msg,
					   size_t msglen)
{
	/* P2P only shapes how the source stopped; the data does not depend on it. */
	const uint64_t data_features = ~(uint64_t)VFIO_MIGRATION_P2P;
	char sbuf[96], tbuf[96], mbuf[96];
	/* driver and mdev type from the stream, for the message */
	char shown[VMT_ESCAPED_SIZE(sizeof(desc->driver))];
	uint64_t missing;

	msg[0] = '\0';
	if (!(target->mig_flags & VFIO_MIGRATION_STOP_COPY)) {
		snprintf(msg, msglen, "target does not support migration (flags %s)",
			 vmt_migration_flags_string(target->mig_flags, tbuf, sizeof(tbuf)));
		return LOAD_COMPAT_UNSUPPORTED;
	}
	missing = desc->mig_flags & ~target->mig_flags & data_features;
	if (missing) {
		snprintf(msg, msglen,
			 "migration flags differ: stream %s, target %s (target lacks %s)",
			 vmt_migration_flags_string(desc->mig_flags, sbuf, sizeof(sbuf)),
			 vmt_migration_flags_string(target->mig_flags, tbuf, sizeof(tbuf)),
			 vmt_migration_flags_string(missing, mbuf, sizeof(mbuf)));
		return LOAD_COMPAT_MISMATCH;
	}
	if ((desc->id_flags & MIGSTREAM_DEV_PCI_IDS) && target->has_pci_ids) {
		if (desc->vendor != target->vendor)
			return differ_u(msg, msglen, "PCI vendor ID", desc->vendor, target->vendor,
					4);
		if (desc->device != target->device)
			return differ_u(msg, msglen, "PCI device ID", desc->device, target->device,
					4);
		if (desc->subsys_vendor != target->subsys_vendor)
			return differ_u(msg, msglen, "PCI subsystem vendor ID", desc->subsys_vendor,
					target->subsys_vendor, 4);
		if (desc->subsys_device != target->subsys_device)
			return differ_u(msg, msglen, "PCI subsystem device ID", desc->subsys_device,
					target->subsys_device, 4);
		if (desc->class_code != target->class_code)
			return differ_u(msg, msglen, "PCI class code", desc->class_code,
					target->class_code, 6);
	}
	if (known(desc->driver) && known(target->driver) &&
	    strcmp(desc->driver, target->driver) != 0) {
		snprintf(msg, msglen, "driver differs: stream '%s', target '%s'",
			 vmt_escape_text(desc->driver, shown, sizeof(shown)), target->driver);
		return LOAD_COMPAT_MISMATCH;
	}
	if (known(desc->mdev_type) && known(target->mdev_type) &&
	    strcmp(desc->mdev_type, target->mdev_type) != 0) {
		snprintf(msg, msglen, "mdev type differs: stream '%s', target '%s'",
			 vmt_escape_text(desc->mdev_type, shown, sizeof(shown)), target->mdev_type);
		return LOAD_COMPAT_MISMATCH;
	}
	if ((desc->id_flags & MIGSTREAM_DEV_PCI_IDS) && target->has_pci_ids &&
	    desc->revision != target->revision) {
		snprintf(msg, msglen,
			 "PCI revision differs: stream 0x%02x, target 0x%02x (loading anyway)",
			 desc->revision, target->revision);
		return LOAD_COMPAT_WARN;
	}
	return LOAD_COMPAT_OK;
}
