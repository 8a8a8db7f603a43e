// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Pre-copy shared by the tools; see precopy.h.
 */
#include "vfio/precopy.h"

void vmt_precopy_split_sample(struct vmt_precopy_split *s, uint64_t initial_bytes)
{
	if (!s->in_dirty)
		s->initial_left = initial_bytes;
}

size_t vmt_precopy_split_take(struct vmt_precopy_split *s, size_t len)
{
	size_t initial = 0;

	if (!s->in_dirty)
		initial = len < s->initial_left ? len : (size_t)s->initial_left;
	s->initial_left -= initial;
	if (initial < len)
		s->in_dirty = true;
	return initial;
}
