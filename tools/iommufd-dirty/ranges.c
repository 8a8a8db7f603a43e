// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * IOVA ranges: parsing, ordering, checks, and merging for device limits.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ranges.h"
#include "common/strutils.h"

int dirty_range_parse(const char *arg, bool allow_backing, struct dirty_range *out)
{
	const char *colon = strchr(arg, ':');
	const char *backing = NULL;
	char *iova_text, *length_text, *second;
	uint64_t iova, length;
	int ret = -EINVAL;

	if (!colon)
		return -EINVAL;
	iova_text = strndup(arg, colon - arg);
	if (!iova_text)
		return -ENOMEM;
	length_text = strdup(colon + 1);
	if (!length_text) {
		free(iova_text);
		return -ENOMEM;
	}
	/* Everything after the second colon is the file: paths may hold colons. */
	second = strchr(length_text, ':');
	if (second) {
		if (!allow_backing || !second[1])
			goto out;
		*second = '\0';
		backing = colon + 1 + (second - length_text) + 1;
	}
	/* Both as hex, the way IOVAs usually are, or as sizes: -r 4G:14G. */
	if (vmt_parse_u64_or_size(iova_text, &iova) || vmt_parse_u64_or_size(length_text, &length))
		goto out;
	ret = -ERANGE;
	if (!length || iova + length - 1 < iova)
		goto out;
	*out = (struct dirty_range){ .iova = iova, .length = length };
	if (backing) {
		out->backing = strdup(backing);
		if (!out->backing) {
			ret = -ENOMEM;
			goto out;
		}
	}
	ret = 0;
out:
	free(iova_text);
	free(length_text);
	return ret;
}

int dirty_range_list_add(struct dirty_range_list *list, const struct dirty_range *r)
{
	if (list->n == list->cap) {
		size_t cap = list->cap ? list->cap * 2 : 8;
		struct dirty_range *v = realloc(list->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		list->v = v;
		list->cap = cap;
	}
	list->v[list->n++] = *r;
	return 0;
}

void dirty_range_list_free(struct dirty_range_list *list)
{
	for (size_t i = 0; i < list->n; i++)
		free(list->v[i].backing);
	free(list->v);
	*list = (struct dirty_range_list){ 0 };
}

static int compare_iova(const void *a, const void *b)
{
	const struct dirty_range *ra = a, *rb = b;

	return ra->iova < rb->iova ? -1 : ra->iova > rb->iova;
}

int dirty_range_list_sort(struct dirty_range_list *list, size_t *first)
{
	if (list->n)
		qsort(list->v, list->n, sizeof(list->v[0]), compare_iova);
	for (size_t i = 1; i < list->n; i++) {
		const struct dirty_range *prev = &list->v[i - 1];

		if (list->v[i].iova - prev->iova < prev->length) {
			*first = i - 1;
			return -EEXIST;
		}
	}
	return 0;
}

size_t dirty_range_list_misaligned(const struct dirty_range_list *list, uint64_t align)
{
	for (size_t i = 0; i < list->n; i++) {
		if (list->v[i].iova % align || list->v[i].length % align)
			return i;
	}
	return list->n;
}

uint64_t dirty_range_list_bytes(const struct dirty_range_list *list)
{
	uint64_t total = 0;

	for (size_t i = 0; i < list->n; i++)
		total += list->v[i].length;
	return total;
}

struct gap {
	uint64_t size;
	size_t after; /* the gap follows range 'after' */
};

static int compare_gap(const void *a, const void *b)
{
	const struct gap *ga = a, *gb = b;

	if (ga->size != gb->size)
		return ga->size < gb->size ? -1 : 1;
	/* Equal gaps: close the lower ones first, so the result is deterministic. */
	return ga->after < gb->after ? -1 : ga->after > gb->after;
}

size_t dirty_range_list_merge(const struct dirty_range_list *list, size_t max,
			      struct dirty_range *out)
{
	size_t n = list->n, closing, written = 0;
	struct gap *gaps;
	bool *close_after;

	if (n <= max) {
		for (size_t i = 0; i < n; i++)
			out[i] = (struct dirty_range){ list->v[i].iova, list->v[i].length, NULL };
		return n;
	}
	closing = n - max;
	gaps = calloc(n - 1, sizeof(*gaps));
	close_after = calloc(n, sizeof(*close_after));
	if (!gaps || !close_after) {
		/* Without memory for the smart way, one range covering all is still correct. */
		const struct dirty_range *last = &list->v[n - 1];

		out[0] = (struct dirty_range){ list->v[0].iova,
					       last->iova + last->length - list->v[0].iova, NULL };
		free(gaps);
		free(close_after);
		return 1;
	}
	for (size_t i = 0; i + 1 < n; i++) {
		gaps[i].size = list->v[i + 1].iova - (list->v[i].iova + list->v[i].length);
		gaps[i].after = i;
	}
	qsort(gaps, n - 1, sizeof(*gaps), compare_gap);
	for (size_t i = 0; i < closing; i++)
		close_after[gaps[i].after] = true;
	for (size_t i = 0; i < n; i++) {
		size_t j = i;

		while (close_after[j])
			j++;
		out[written++] = (struct dirty_range){
			.iova = list->v[i].iova,
			.length = list->v[j].iova + list->v[j].length - list->v[i].iova,
		};
		i = j;
	}
	free(gaps);
	free(close_after);
	return written;
}
