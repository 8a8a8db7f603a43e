// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Reading dirty bitmaps piece by piece and passing each piece on.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/timeutil.h"
#include "stream/dirty-bitmap.h"
#include "run-failure.h"
#include "scan.h"

int dirty_scan_init(struct dirty_scan *s)
{
	void *p;

	/* Page aligned: the kernel pins the bitmap's pages (iova_bitmap). */
	if (posix_memalign(&p, 4096, s->max_bitmap_bytes))
		return -ENOMEM;
	s->bitmap = p;
	return 0;
}

void dirty_scan_free(struct dirty_scan *s)
{
	free(s->bitmap);
	s->bitmap = NULL;
}

static int scan_range(struct dirty_scan *s, const struct dirty_range *r, bool count,
		      struct dirty_scan_result *res)
{
	/* Whole words per piece, so every piece but the last fills its buffer exactly. */
	uint64_t max_pages = s->max_bitmap_bytes * 8;
	uint64_t pages = r->length / s->page_size;
	uint64_t done = 0;
	int ret;

	while (done < pages) {
		uint64_t n = pages - done < max_pages ? pages - done : max_pages;
		uint64_t iova = r->iova + done * s->page_size;
		struct migstream_dirty_bitmap info = {
			.source = s->source,
			.iova = iova,
			.page_size = s->page_size,
			.page_count = n,
		};

		ret = dirty_tracker_read(s->tracker, iova, n * s->page_size, s->page_size, s->clear,
					 s->bitmap);
		if (ret)
			return ret;
		info.time_ns = vmt_realtime_ns();
		res->reads++;
		res->pages += n;
		if (count)
			res->dirty_pages += dirty_bitmap_count(s->bitmap, n);
		if (s->out) {
			ret = migstream_write_dirty_bitmap(s->out, &info, s->bitmap);
			if (ret) {
				dirty_fail(ret, 0,
					   "writing DIRTY_BITMAP record for IOVA 0x%" PRIx64 "",
					   iova);
				return ret;
			}
		}
		done += n;
	}
	return 0;
}

int dirty_scan_once(struct dirty_scan *s, bool count, struct dirty_scan_result *res)
{
	*res = (struct dirty_scan_result){ 0 };
	for (size_t i = 0; i < s->ranges->n; i++) {
		int ret = scan_range(s, &s->ranges->v[i], count, res);

		if (ret)
			return ret;
	}
	return 0;
}
