// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * --stats output.
 */
#include <errno.h>
#include <inttypes.h>

#include "common/json-doc.h"
#include "stats.h"

static int print_json(FILE *out, const struct dirty_stats_line *l, uint64_t dirty_bytes)
{
	struct json_object *doc = vmt_json_doc_new("iommufd-dirty", DIRTY_STATS_SCHEMA_VERSION);

	vmt_json_add_u64(doc, "read", l->read);
	vmt_json_add_seconds(doc, "time_s", l->time_ns);
	vmt_json_add_seconds(doc, "elapsed_s", l->elapsed_ns);
	vmt_json_add_u64(doc, "page_size_bytes", l->page_size);
	vmt_json_add_u64(doc, "pages", l->pages);
	vmt_json_add_u64(doc, "dirty_pages", l->dirty_pages);
	vmt_json_add_u64(doc, "dirty_bytes", dirty_bytes);
	vmt_json_add_rate(doc, "dirty_bytes_per_s", dirty_bytes, l->elapsed_ns);
	return vmt_json_emit(out, doc);
}

int dirty_stats_print(FILE *out, const struct dirty_stats_line *l, bool json)
{
	uint64_t dirty_bytes = l->dirty_pages * l->page_size;
	double seconds = (double)l->elapsed_ns / 1e9;
	double mib_per_s = seconds > 0 ? (double)dirty_bytes / (1024.0 * 1024.0) / seconds : 0;

	if (json)
		return print_json(out, l, dirty_bytes);
	fprintf(out,
		"read %" PRIu64 ": %" PRIu64 " of %" PRIu64 " pages dirty (%.1f MiB) in "
		"%.3f s: %.2f MiB/s\n",
		l->read, l->dirty_pages, l->pages, (double)dirty_bytes / (1024.0 * 1024.0), seconds,
		mib_per_s);
	if (fflush(out) == EOF)
		return errno ? -errno : -EIO;
	if (ferror(out))
		return -EIO;
	return 0;
}
