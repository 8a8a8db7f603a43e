// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * --stats output.
 */
#include <errno.h>
#include <inttypes.h>

#include "stats.h"

int dirty_stats_print(FILE *out, const struct dirty_stats_line *l, bool json)
{
	uint64_t dirty_bytes = l->dirty_pages * l->page_size;
	double seconds = (double)l->elapsed_ns / 1e9;
	double mib_per_s = seconds > 0 ? (double)dirty_bytes / (1024.0 * 1024.0) / seconds : 0;

	if (json)
		fprintf(out,
			"{\"read\":%" PRIu64 ",\"time_ns\":%" PRIu64 ",\"elapsed_ns\":%" PRIu64
			",\"page_size\":%" PRIu64 ",\"pages\":%" PRIu64 ",\"dirty_pages\":%" PRIu64
			",\"dirty_bytes\":%" PRIu64 ",\"dirty_mib_per_s\":%.3f}\n",
			l->read, l->time_ns, l->elapsed_ns, l->page_size, l->pages, l->dirty_pages,
			dirty_bytes, mib_per_s);
	else
		fprintf(out,
			"read %" PRIu64 ": %" PRIu64 " of %" PRIu64 " pages dirty (%.1f MiB) in "
			"%.3f s: %.2f MiB/s\n",
			l->read, l->dirty_pages, l->pages, (double)dirty_bytes / (1024.0 * 1024.0),
			seconds, mib_per_s);
	if (fflush(out) == EOF)
		return errno ? -errno : -EIO;
	if (ferror(out))
		return -EIO;
	return 0;
}
