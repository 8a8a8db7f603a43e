// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * iommufd-dirty: which guest pages did a device write by DMA?
 *
 * Sets up (or inherits) a dirty tracker, switches tracking on, then reads
 * the dirty bitmap of every watched range once per interval and writes it
 * as migstream DIRTY_BITMAP records, or prints a --stats line. On the
 * count, the duration, SIGINT or SIGTERM it switches tracking off again,
 * ends the stream and undoes what it set up.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cli.h"
#include "common/closestream.h"
#include "common/exitcodes.h"
#include "common/log.h"
#include "common/outfile.h"
#include "common/signals.h"
#include "common/timeutil.h"
#include "stream/writer.h"
#include "options.h"
#include "run-failure.h"
#include "scan.h"
#include "stats.h"
#include "tracker.h"

static uint64_t watched_pages(const struct dirty_range_list *ranges, uint64_t page_size)
{
	return dirty_range_list_bytes(ranges) / page_size;
}

/*
 * The page size to read at when it is known without asking the tracker;
 * 0 for an inherited HWPT, whose IO page size is found by probing it.
 */
static uint64_t known_page_size(const struct dirty_options *cfg, const struct dirty_tracker *t)
{
	long host;

	if (cfg->page_size)
		return cfg->page_size;
	if (cfg->backend == DIRTY_BACKEND_DEVICE)
		return DIRTY_DEVICE_MIN_PAGE_SIZE;
	if (t->inherited)
		return 0;
	/* IOAS alignment 1 means no domain constrains it: the CPU page is the unit. */
	if (t->io_page_size > 1)
		return t->io_page_size;
	host = sysconf(_SC_PAGESIZE);
	return host > 0 ? (uint64_t)host : 4096;
}

/* Every range must be whole pages, of page_size and of the IO page: -EDOM if not. */
static int check_ranges_fit(const struct dirty_range_list *ranges, const struct dirty_tracker *t,
			    uint64_t page_size)
{
	size_t bad = dirty_range_list_misaligned(ranges, page_size);

	/* The ranges given do not fit the page size: a usage error found late. */
	if (bad < ranges->n)
		return dirty_refuse(
			-EDOM, VMT_EXIT_USAGE,
			"range 0x%" PRIx64 "+0x%" PRIx64 " is not made of whole %" PRIu64
			"-byte pages (IOVA and size must be multiples of the page size)",
			ranges->v[bad].iova, ranges->v[bad].length, page_size);
	if (t->io_page_size > 1) {
		bad = dirty_range_list_misaligned(ranges, t->io_page_size);
		if (bad < ranges->n)
			return dirty_refuse(-EDOM, VMT_EXIT_USAGE,
					    "range 0x%" PRIx64 "+0x%" PRIx64
					    " is not aligned to the IO page size %" PRIu64,
					    ranges->v[bad].iova, ranges->v[bad].length,
					    t->io_page_size);
	}
	return 0;
}

static int open_tracker(const struct dirty_options *cfg, struct dirty_tracker *t)
{
	if (cfg->backend == DIRTY_BACKEND_DEVICE)
		return dirty_tracker_open_device(t, cfg->device);
	if (cfg->iommufd_fd >= 0)
		return dirty_tracker_open_inherited(t, cfg->iommufd_fd, cfg->hwpt_id);
	return dirty_tracker_open_iommu(t, cfg->device, &cfg->maps);
}

/* -EPERM and *refused when the output is a terminal and not forced. */
static int open_output(const struct dirty_options *cfg, struct vmt_outfile *out, bool *refused)
{
	int ret = vmt_outfile_open(out, cfg->output);

	if (ret)
		return dirty_fail(ret, 0, "%s: cannot open for writing", cfg->output);
	if (!vmt_binary_output_ok(out->fd, cfg->force)) {
		vmt_outfile_abort(out);
		*refused = true;
		return -EPERM;
	}
	return 0;
}

/* A complete stream takes the output's name; anything less leaves it as it was. */
static int finish_output(struct vmt_outfile *out, bool complete)
{
	int ret = 0;

	if (!complete) {
		vmt_outfile_abort(out);
		return 0;
	}
	ret = vmt_outfile_commit(out);
	if (ret == -EEXIST)
		dirty_refuse(
			ret, 0,
			"%s: replaced by another program meanwhile; the complete stream is kept as %s",
			vmt_outfile_label(out), out->tmp);
	else if (ret)
		dirty_fail(ret, 0, "%s: write error", vmt_outfile_label(out));
	return ret;
}

struct run {
	const struct dirty_options *cfg;
	struct dirty_tracker tracker;
	struct dirty_scan scan;
	struct migstream_writer *writer;
	struct vmt_outfile out;
	bool stream_complete;
	bool terminal_refused; /* a usage matter, found late */
};

/* The read loop. 0 also when a signal ended it. */
static int read_loop(struct run *r)
{
	const struct dirty_options *cfg = r->cfg;
	uint64_t start = vmt_monotonic_ns(), last = start;
	uint64_t end = cfg->duration_ns ? start + cfg->duration_ns : UINT64_MAX;
	uint64_t reads = 0, dirty_total = 0;
	bool final = false;
	int ret = 0;

	while (!final) {
		struct dirty_scan_result res;
		uint64_t now;

		if (!cfg->once) {
			uint64_t wake = start + (reads + 1) * cfg->interval_ns;

			if (wake >= end) {
				wake = end;
				final = true;
			}
			if (!vmt_signal_sleep_until(wake))
				break;
		}
		ret = dirty_scan_once(&r->scan, cfg->stats || vmt_log_level() >= VMT_LOG_DEBUG,
				      &res);
		if (ret)
			break;
		now = vmt_monotonic_ns();
		reads++;
		dirty_total += res.dirty_pages;
		vmt_trace("read %" PRIu64 ": %" PRIu64 " bitmap reads, %" PRIu64 " dirty pages",
			  reads, res.reads, res.dirty_pages);
		if (cfg->stats) {
			struct dirty_stats_line line = {
				.read = reads,
				.time_ns = vmt_realtime_ns(),
				.elapsed_ns = now - last,
				.pages = res.pages,
				.dirty_pages = res.dirty_pages,
				.page_size = r->scan.page_size,
			};

			ret = dirty_stats_print(stdout, &line, cfg->json);
			/*
			 * A reader that does not read must not keep us from
			 * stopping: the line goes. It is one write() of less
			 * than PIPE_BUF bytes, which a pipe takes whole or not
			 * at all, so the output keeps only whole lines.
			 */
			if (ret == -EINTR && vmt_stop_signal()) {
				vmt_drop_unwritten(stdout);
				ret = 0;
				break;
			}
			if (ret) {
				dirty_fail(ret, 0, "write error");
				break;
			}
		}
		last = now;
		if (cfg->once || (cfg->count && reads >= cfg->count))
			final = true;
	}
	if (vmt_stop_signal())
		vmt_dbg("%s: stopping", vmt_stop_signal_name());
	vmt_dbg("%" PRIu64 " reads, %" PRIu64 " dirty pages in all", reads, dirty_total);
	return ret;
}

static int run(struct run *r)
{
	const struct dirty_options *cfg = r->cfg;
	const struct dirty_range_list *ranges = dirty_options_watched(cfg);
	struct migstream_writer_opts wopts = { .producer = vmt_progname() };
	uint64_t page_size;
	int ret;

	/* Refuse a terminal before touching any device. */
	if (!cfg->stats) {
		ret = open_output(cfg, &r->out, &r->terminal_refused);
		if (ret)
			return ret;
	}
	ret = open_tracker(cfg, &r->tracker);
	if (ret)
		return ret;
	/* Check what can be checked before anything is switched on. */
	page_size = known_page_size(cfg, &r->tracker);
	if (page_size) {
		ret = check_ranges_fit(ranges, &r->tracker, page_size);
		if (ret)
			return ret;
	}
	ret = dirty_tracker_start(&r->tracker, ranges, page_size, cfg->enable_tracking);
	if (ret)
		return ret;
	if (!page_size) {
		/* After start: the mock, for one, reads nothing from an untracked HWPT. */
		ret = dirty_tracker_probe_page_size(&r->tracker, ranges->v[0].iova,
						    ranges->v[0].length, &page_size);
		if (ret)
			return ret;
		ret = check_ranges_fit(ranges, &r->tracker, page_size);
		if (ret)
			return ret;
	}
	vmt_dbg("page size %" PRIu64 "%s", page_size, cfg->page_size ? "" : " (from the tracker)");
	vmt_dbg("watching %zu range(s), %" PRIu64 " pages of %" PRIu64 " bytes", ranges->n,
		watched_pages(ranges, page_size), page_size);

	r->scan = (struct dirty_scan){
		.tracker = &r->tracker,
		.ranges = ranges,
		.page_size = page_size,
		.max_bitmap_bytes = cfg->max_bitmap,
		.clear = !cfg->no_clear,
		.source = cfg->source,
	};
	ret = dirty_scan_init(&r->scan);
	if (ret)
		return dirty_fail(ret, 0, "cannot allocate %" PRIu64 " bytes of bitmap",
				  cfg->max_bitmap);
	if (!cfg->stats) {
		ret = migstream_writer_new(&r->writer, r->out.fd, &wopts);
		if (ret)
			return dirty_fail(ret, 0, "%s: writing the stream header",
					  vmt_outfile_label(&r->out));
		r->scan.out = r->writer;
	}
	ret = read_loop(r);
	if (ret)
		return ret;
	ret = dirty_tracker_stop(&r->tracker);
	if (ret)
		return ret;
	if (r->writer) {
		ret = migstream_writer_finish(r->writer);
		if (ret)
			dirty_fail(ret, 0, "%s: writing STREAM_END", vmt_outfile_label(&r->out));
		r->stream_complete = ret == 0;
	}
	return ret;
}

/* After a failure too: never leave tracking on that this run switched on. */
static void release(struct run *r)
{
	dirty_tracker_stop(&r->tracker);
	dirty_tracker_close(&r->tracker);
	if (r->writer)
		migstream_writer_free(r->writer);
	dirty_scan_free(&r->scan);
	finish_output(&r->out, r->stream_complete);
	vmt_outfile_free(&r->out);
}

/* The failure's line, if any, after the tracker is put back: it can be the last one a reader sees. */
static int report(const struct run *r, int ret)
{
	int code;

	if (r->terminal_refused)
		code = VMT_EXIT_USAGE;
	else if (dirty_failed())
		code = dirty_failure_exit_code();
	else
		code = vmt_exit_code_for_error(ret);
	dirty_failure_say(r->cfg->stats && r->cfg->json);
	return code;
}

int main(int argc, const char **argv)
{
	struct dirty_options cfg;
	struct run r = { .cfg = &cfg, .out = { .fd = -1 } };
	int code;

	vmt_log_init(argv[0]);
	dirty_options_parse(&cfg, argc, argv);
	vmt_ignore_sigpipe();
	/* A stop ends the run at the next wait, a second one at once; SIGUSR1 is left alone. */
	vmt_signals_install(VMT_SIGUSR1_DEFAULT);
	code = run(&r);
	release(&r);
	code = report(&r, code);
	dirty_options_free(&cfg);
	return vmt_cli_exit(code);
}
