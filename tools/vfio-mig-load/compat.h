/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Whether a stream's DEVICE descriptor may be loaded into a target device.
 *
 * The rules (man/vfio-mig-load.1, COMPATIBILITY):
 *  - the target must support STOP_COPY (RESUMING is part of it);
 *  - the target must support every migration feature the source had, except
 *    P2P, which only changes how the source was quiesced, not the data;
 *  - PCI vendor, device, subsystem vendor, subsystem device and class code
 *    are equal when both sides know them; a different revision is only a
 *    warning (same model, the driver decides);
 *  - driver and mdev type are equal when both sides know them.
 */
#ifndef VMT_LOAD_COMPAT_H
#define VMT_LOAD_COMPAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stream/migstream.h"

/* What the tool knows of a target device, in the descriptor's terms. */
struct load_target_identity {
	uint64_t mig_flags;
	bool has_pci_ids;
	uint16_t vendor, device, subsys_vendor, subsys_device;
	uint32_t class_code;
	uint8_t revision;
	const char *driver;    /* NULL or "" when unknown */
	const char *mdev_type; /* NULL or "" when unknown */
};

enum load_compat_verdict {
	LOAD_COMPAT_OK = 0,
	LOAD_COMPAT_WARN,	 /* loadable; why in the message */
	LOAD_COMPAT_MISMATCH,	 /* refused unless forced: exit 4 */
	LOAD_COMPAT_UNSUPPORTED, /* the target cannot resume at all: exit 3 */
};

/*
 * Compares and writes the first difference, naming the field and both
 * values, to msg ("PCI device ID differs: stream 0x1234, target 0x5678").
 */
enum load_compat_verdict load_compat_check(const struct migstream_device *desc,
					   const struct load_target_identity *target, char *msg,
					   size_t msglen);

#endif
