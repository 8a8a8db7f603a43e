/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Pre-copy as vfio-mig-save and vfio-precopy-info both do it: which
 * pre-copy state a running device goes to, one PRECOPY_INFO sample, and
 * which of the bytes read in pre-copy belong to the device's initial
 * section. The uAPI (VFIO_MIG_GET_PRECOPY_INFO) says the initial bytes come
 * first, then dirty data; initial_bytes only shrinks as they are read.
 */
#ifndef VMT_PRECOPY_H
#define VMT_PRECOPY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "migstream.h"
#include "vfio-device.h"

/*
 * PRE_COPY from RUNNING, PRE_COPY_P2P from RUNNING_P2P (a device quiesced
 * for P2P stays quiesced); VMT_STATE_UNKNOWN from any other state, from
 * which pre-copy would restart or disturb the device.
 */
uint32_t vmt_precopy_state_for(uint32_t running_state);

/*
 * GET_PRECOPY_INFO and MIG_DATA_SIZE (MIGSTREAM_SIZE_UNKNOWN when the device
 * does not say) now, as the record for stream device index. 0 or the
 * -errno of GET_PRECOPY_INFO.
 */
int vmt_precopy_sample(struct vmt_device *dev, uint32_t index, struct migstream_precopy_info *info);
/* The same, with GET_PRECOPY_INFO's output flags (REINIT after the v2 opt-in). */
int vmt_precopy_sample_flags(struct vmt_device *dev, uint32_t index, struct migstream_precopy_info *info,
			     uint32_t *flags);

struct vmt_precopy_split {
	uint64_t initial_left; /* initial-section bytes not read yet */
	bool in_dirty;	       /* a dirty byte was read: no more initial ones */
};

/* A sample came: until dirty data was read, its initial_bytes is what is left. */
void vmt_precopy_split_sample(struct vmt_precopy_split *s, uint64_t initial_bytes);

/*
 * Of len bytes just read, how many are PRECOPY_INITIAL; the rest (and all
 * bytes after them) are PRECOPY_DIRTY.
 */
size_t vmt_precopy_split_take(struct vmt_precopy_split *s, size_t len);

#endif
