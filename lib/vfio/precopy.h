/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Which of the bytes read in pre-copy belong to the device's initial
 * section, as vfio-mig-save and vfio-precopy-info both count them. The uAPI (VFIO_MIG_GET_PRECOPY_INFO) says the initial bytes come
 * first, then dirty data; initial_bytes only shrinks as they are read.
 */
#ifndef VMT_PRECOPY_H
#define VMT_PRECOPY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
