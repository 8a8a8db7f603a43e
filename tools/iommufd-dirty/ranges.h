/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The IOVA ranges iommufd-dirty watches: parsing "IOVA:SIZE[:FILE]",
 * ordering, overlap and alignment checks, and merging down to the number
 * of ranges a device's DMA logging accepts.
 */
#ifndef IOMMUFD_DIRTY_RANGES_H
#define IOMMUFD_DIRTY_RANGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dirty_range {
	uint64_t iova;
	uint64_t length;
	/* --map only: NULL for anonymous memory, "memfd", or a file path. */
	char *backing;
};

struct dirty_range_list {
	struct dirty_range *v;
	size_t n;
	size_t cap;
};

/*
 * "IOVA:SIZE" or, when allow_backing, "IOVA:SIZE:FILE". Both IOVA and SIZE
 * are 0x-hex or a size with an optional binary suffix (4G:64K), as
 * vmt_parse_u64_or_size() reads them.
 * 0, or -EINVAL (syntax) / -ERANGE (zero length, end past 2^64).
 */
int dirty_range_parse(const char *arg, bool allow_backing, struct dirty_range *out);
/* Takes ownership of r->backing. 0 or -ENOMEM. */
int dirty_range_list_add(struct dirty_range_list *list, const struct dirty_range *r);
void dirty_range_list_free(struct dirty_range_list *list);

/*
 * Sorts by IOVA; -EEXIST when two ranges overlap, with *first set to the
 * index (after sorting) of the first of the two.
 */
int dirty_range_list_sort(struct dirty_range_list *list, size_t *first);
/* Index of the first range whose start or length is not a multiple of align, or list->n. */
size_t dirty_range_list_misaligned(const struct dirty_range_list *list, uint64_t align);
uint64_t dirty_range_list_bytes(const struct dirty_range_list *list);

/*
 * Covers a sorted list with at most max ranges by closing the smallest gaps
 * first (the merged ranges then also cover those gaps, which costs the least
 * extra tracking). out must hold min(list->n, max) entries; returns how many
 * were written. max must be >= 1.
 */
size_t dirty_range_list_merge(const struct dirty_range_list *list, size_t max,
			      struct dirty_range *out);

#endif
