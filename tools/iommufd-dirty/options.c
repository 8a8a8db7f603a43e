// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Command line of iommufd-dirty.
 */
#include <errno.h>
#include <inttypes.h>
#include <popt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/c.h"
#include "common/cli.h"
#include "common/exitcodes.h"
#include "common/log.h"
#include "common/strutils.h"
#include "common/textescape.h"
#include "vfio/device-cli.h"
#include "options.h"

enum {
	OPT_BACKEND = 'b',
	OPT_DEVICE = 'd',
	OPT_MAP = 'm',
	OPT_RANGE = 'r',
	OPT_PAGE_SIZE = 'p',
	OPT_INTERVAL = 'i',
	OPT_COUNT = 'n',
	OPT_OUTPUT = 'o',
	OPT_FORCE = 'f',
	OPT_IOMMUFD_FD = 256,
	OPT_HWPT,
	OPT_ENABLE_TRACKING,
	OPT_ONCE,
	OPT_DURATION,
	OPT_NO_CLEAR,
	OPT_STATS,
	OPT_JSON,
	OPT_MAX_BITMAP,
	OPT_SOURCE,
};

static void usage(void)
{
	printf(VMT_USAGE_HEADER
	       " %1$s [options] --device DEV --map IOVA:SIZE[:FILE]...\n"
	       " %1$s [options] --iommufd-fd N --hwpt ID --range IOVA:SIZE...\n"
	       " %1$s [options] --backend device --device DEV --range IOVA:SIZE...\n"
	       "\n"
	       "Report which pages devices wrote by DMA: enable dirty tracking, then every\n"
	       "interval write the dirty bitmap of each range as migstream DIRTY_BITMAP\n"
	       "records (or, with --stats, a line of figures).\n"
	       "\n"
	       "Tracker:\n"
	       " -b, --backend iommu|device  iommufd HWPT dirty tracking (default) or\n"
	       "                             VFIO device DMA logging\n"
	       " -d, --device DEV            VFIO device: /dev/vfio/devices/vfioN, PCI address,\n"
	       "                             mdev UUID (device backend also: fd:N)\n"
	       " -m, --map IOVA:SIZE[:FILE]  map memory at IOVA and watch it (standalone iommu);\n"
	       "                             FILE: a file to map shared, or 'memfd'\n"
	       " -r, --range IOVA:SIZE       a range to watch (inherited iommu, device)\n"
	       "     --iommufd-fd N          use an inherited iommufd ...\n"
	       "     --hwpt ID               ... and its dirty-tracking HWPT\n"
	       "     --enable-tracking       inherited: switch tracking on (clears the bits)\n"
	       "                             and off at exit; default: the owner's job\n"
	       " -p, --page-size SIZE        bitmap granularity (default: the IO page size;\n"
	       "                             device backend: 4096)\n"
	       "\n"
	       "Reading:\n"
	       " -i, --interval DURATION     time between reads (default 1s)\n"
	       "     --once                  read once, at once, and exit\n"
	       " -n, --count N               stop after N reads\n"
	       "     --duration DURATION     stop after this long\n"
	       "     --no-clear              peek: leave the dirty bits set (iommu backend)\n"
	       "     --max-bitmap SIZE       bitmap bytes per read (default 4M)\n"
	       "\n"
	       "Output:\n"
	       " -o, --output FILE           write the stream to FILE (default stdout); a file\n"
	       "                             is replaced only by a complete stream\n"
	       " -f, --force                 write the stream even to a terminal\n"
	       "     --source N              source index in the records (default 0)\n"
	       "     --stats                 a line per read: dirty pages, dirty MiB/s\n"
	       "     --json                  --stats lines as JSON objects\n",
	       vmt_progname());
	printf(VMT_USAGE_COMMON_OPTIONS(29));
	printf("\nSIGINT or SIGTERM ends the run between reads: tracking is switched off,\n"
	       "the stream is ended, exit status 0; a second one ends it at once.\n");
	printf(VMT_USAGE_TAIL);
}

static void add_range(struct dirty_range_list *list, const char *opt, const char *arg,
		      bool allow_backing)
{
	struct dirty_range r;
	int ret = dirty_range_parse(arg, allow_backing, &r);
	/* A FILE is the user's bytes: shown escaped, and cut when long. */
	char shown[VMT_ESCAPED_SIZE(256)];

	if (ret)
		vmt_escape_text(arg, shown, sizeof(shown));
	if (ret == -ERANGE)
		vmt_usage_error("invalid %s argument: '%s' (zero length or past the end of the "
				"64-bit IOVA space)",
				opt, shown);
	if (ret)
		vmt_usage_error("invalid %s argument: '%s' (expected IOVA:SIZE%s)", opt, shown,
				allow_backing ? "[:FILE]" : "");
	if (dirty_range_list_add(list, &r)) {
		vmt_err("out of memory");
		exit(VMT_EXIT_FAILURE);
	}
}

static void check_ranges(struct dirty_range_list *list, const char *opt)
{
	size_t first;

	if (dirty_range_list_sort(list, &first))
		vmt_usage_error("%s 0x%" PRIx64 "+0x%" PRIx64 " and 0x%" PRIx64 "+0x%" PRIx64
				" overlap",
				opt, list->v[first].iova, list->v[first].length,
				list->v[first + 1].iova, list->v[first + 1].length);
}

static bool is_power_of_two(uint64_t v)
{
	return v && !(v & (v - 1));
}

static void check_consistency(struct dirty_options *cfg)
{
	bool inherited = cfg->iommufd_fd >= 0;

	if (cfg->stats && cfg->output)
		vmt_usage_error("--output is for the stream; --stats prints to standard output");
	if (cfg->json && !cfg->stats)
		vmt_usage_error("--json goes with --stats");
	if (cfg->once && (cfg->count || cfg->duration_ns))
		vmt_usage_error("--once cannot be combined with --count or --duration");
	if (cfg->page_size && !is_power_of_two(cfg->page_size))
		vmt_usage_error("invalid --page-size argument: '%" PRIu64 "' (not a power of two)",
				cfg->page_size);
	if (cfg->max_bitmap % 8)
		vmt_usage_error("invalid --max-bitmap argument: '%" PRIu64
				"' (not a multiple of 8 bytes)",
				cfg->max_bitmap);
	if (cfg->backend == DIRTY_BACKEND_DEVICE) {
		if (!cfg->device)
			vmt_usage_error("--backend device needs --device");
		if (inherited || cfg->hwpt_id || cfg->enable_tracking)
			vmt_usage_error("--iommufd-fd, --hwpt and --enable-tracking belong to "
					"--backend iommu");
		if (cfg->maps.n)
			vmt_usage_error("--map belongs to --backend iommu; give --range");
		if (!cfg->ranges.n)
			vmt_usage_error("--backend device needs at least one --range");
		if (cfg->no_clear)
			vmt_usage_error("--no-clear is not possible with --backend device "
					"(DMA logging reports always clear)");
		if (cfg->page_size && cfg->page_size < DIRTY_DEVICE_MIN_PAGE_SIZE)
			vmt_usage_error("invalid --page-size argument: '%" PRIu64
					"' (DMA logging needs at least %u)",
					cfg->page_size, DIRTY_DEVICE_MIN_PAGE_SIZE);
		return;
	}
	if (inherited) {
		if (cfg->device)
			vmt_usage_error("--device and --iommufd-fd exclude each other");
		if (!cfg->hwpt_id)
			vmt_usage_error("--iommufd-fd needs --hwpt");
		if (cfg->maps.n)
			vmt_usage_error("--map is for a standalone tracker; with --iommufd-fd give "
					"--range");
		if (!cfg->ranges.n)
			vmt_usage_error("--iommufd-fd needs at least one --range");
		return;
	}
	if (cfg->hwpt_id)
		vmt_usage_error("--hwpt needs --iommufd-fd");
	if (cfg->enable_tracking)
		vmt_usage_error("--enable-tracking is for an inherited HWPT (--iommufd-fd)");
	if (!cfg->device)
		vmt_usage_error("no tracker: give --device DEV --map IOVA:SIZE, or --iommufd-fd N "
				"--hwpt ID --range IOVA:SIZE");
	if (!cfg->maps.n)
		vmt_usage_error("--device needs at least one --map IOVA:SIZE (the memory to "
				"watch)");
	/* The kernel reads unmapped IOVA as clean (6.12 drops the error): refuse it here. */
	for (size_t i = 0; i < cfg->ranges.n; i++) {
		const struct dirty_range *r = &cfg->ranges.v[i];
		bool inside = false;

		for (size_t j = 0; j < cfg->maps.n && !inside; j++) {
			const struct dirty_range *m = &cfg->maps.v[j];

			inside = r->iova >= m->iova && r->iova - m->iova <= m->length &&
				 r->length <= m->length - (r->iova - m->iova);
		}
		if (!inside)
			vmt_usage_error("--range 0x%" PRIx64 "+0x%" PRIx64
					" is not inside one --map",
					r->iova, r->length);
	}
}

static const struct poptOption options[] = {
	{ "backend", 'b', POPT_ARG_STRING, NULL, OPT_BACKEND, NULL, NULL },
	{ "device", 'd', POPT_ARG_STRING, NULL, OPT_DEVICE, NULL, NULL },
	{ "map", 'm', POPT_ARG_STRING, NULL, OPT_MAP, NULL, NULL },
	{ "range", 'r', POPT_ARG_STRING, NULL, OPT_RANGE, NULL, NULL },
	{ "iommufd-fd", '\0', POPT_ARG_STRING, NULL, OPT_IOMMUFD_FD, NULL, NULL },
	{ "hwpt", '\0', POPT_ARG_STRING, NULL, OPT_HWPT, NULL, NULL },
	{ "enable-tracking", '\0', POPT_ARG_NONE, NULL, OPT_ENABLE_TRACKING, NULL, NULL },
	{ "page-size", 'p', POPT_ARG_STRING, NULL, OPT_PAGE_SIZE, NULL, NULL },
	{ "interval", 'i', POPT_ARG_STRING, NULL, OPT_INTERVAL, NULL, NULL },
	{ "once", '\0', POPT_ARG_NONE, NULL, OPT_ONCE, NULL, NULL },
	{ "count", 'n', POPT_ARG_STRING, NULL, OPT_COUNT, NULL, NULL },
	{ "duration", '\0', POPT_ARG_STRING, NULL, OPT_DURATION, NULL, NULL },
	{ "no-clear", '\0', POPT_ARG_NONE, NULL, OPT_NO_CLEAR, NULL, NULL },
	{ "max-bitmap", '\0', POPT_ARG_STRING, NULL, OPT_MAX_BITMAP, NULL, NULL },
	{ "output", 'o', POPT_ARG_STRING, NULL, OPT_OUTPUT, NULL, NULL },
	{ "force", 'f', POPT_ARG_NONE, NULL, OPT_FORCE, NULL, NULL },
	{ "source", '\0', POPT_ARG_STRING, NULL, OPT_SOURCE, NULL, NULL },
	{ "stats", '\0', POPT_ARG_NONE, NULL, OPT_STATS, NULL, NULL },
	{ "json", '\0', POPT_ARG_NONE, NULL, OPT_JSON, NULL, NULL },
	VMT_POPT_COMMON_OPTIONS,
	POPT_TABLEEND
};

/* One of the options; the checks that need them all come after. */
static void take_option(struct dirty_options *cfg, int opt, const char *arg)
{
	switch (opt) {
	case OPT_BACKEND:
		if (strcmp(arg, "iommu") == 0)
			cfg->backend = DIRTY_BACKEND_IOMMU;
		else if (strcmp(arg, "device") == 0)
			cfg->backend = DIRTY_BACKEND_DEVICE;
		else
			vmt_usage_error("invalid --backend argument: '%s' (iommu or device)", arg);
		break;
	case OPT_DEVICE:
		cfg->device = vmt_cli_device_or_usage(arg, VMT_CLI_DEVICE_ANY);
		break;
	case OPT_MAP:
		add_range(&cfg->maps, "--map", arg, true);
		break;
	case OPT_RANGE:
		add_range(&cfg->ranges, "--range", arg, false);
		break;
	case OPT_IOMMUFD_FD:
		cfg->iommufd_fd = (int)vmt_u64_or_usage(arg, "--iommufd-fd", 0, INT32_MAX);
		break;
	case OPT_HWPT:
		cfg->hwpt_id = (uint32_t)vmt_u64_or_usage(arg, "--hwpt", 1, UINT32_MAX);
		break;
	case OPT_ENABLE_TRACKING:
		cfg->enable_tracking = true;
		break;
	case OPT_PAGE_SIZE:
		cfg->page_size = vmt_size_or_usage(arg, "--page-size");
		break;
	case OPT_INTERVAL:
		cfg->interval_ns = vmt_duration_ns_or_usage(arg, "--interval");
		if (cfg->interval_ns < NSEC_PER_MSEC)
			vmt_usage_error("invalid --interval argument: '%s' (at least 1ms)", arg);
		break;
	case OPT_ONCE:
		cfg->once = true;
		break;
	case OPT_COUNT:
		cfg->count = vmt_u64_or_usage(arg, "--count", 1, UINT64_MAX);
		break;
	case OPT_DURATION:
		cfg->duration_ns = vmt_duration_ns_or_usage(arg, "--duration");
		if (!cfg->duration_ns)
			vmt_usage_error("invalid --duration argument: '%s' (zero)", arg);
		break;
	case OPT_NO_CLEAR:
		cfg->no_clear = true;
		break;
	case OPT_MAX_BITMAP:
		cfg->max_bitmap = vmt_size_or_usage(arg, "--max-bitmap");
		if (cfg->max_bitmap < 8 || cfg->max_bitmap > (256u << 20))
			vmt_usage_error("invalid --max-bitmap argument: '%s' (8 bytes to 256M)",
					arg);
		break;
	case OPT_OUTPUT:
		cfg->output = arg;
		break;
	case OPT_FORCE:
		cfg->force = true;
		break;
	case OPT_SOURCE:
		cfg->source = (uint32_t)vmt_u64_or_usage(arg, "--source", 0, UINT32_MAX);
		break;
	case OPT_STATS:
		cfg->stats = true;
		break;
	case OPT_JSON:
		cfg->json = true;
		break;
	}
}

void dirty_options_parse(struct dirty_options *cfg, int argc, const char **argv)
{
	int opt;

	*cfg = (struct dirty_options){
		.backend = DIRTY_BACKEND_IOMMU,
		.iommufd_fd = -1,
		.interval_ns = DIRTY_DEFAULT_INTERVAL_NS,
		.max_bitmap = DIRTY_DEFAULT_MAX_BITMAP,
	};
	vmt_cli_begin(argc, argv, options);
	while ((opt = vmt_cli_next(usage)) > 0)
		take_option(cfg, opt, vmt_cli_arg());
	vmt_cli_no_operands();

	check_ranges(&cfg->maps, "--map");
	check_ranges(&cfg->ranges, "--range");
	check_consistency(cfg);
}

void dirty_options_free(struct dirty_options *cfg)
{
	dirty_range_list_free(&cfg->maps);
	dirty_range_list_free(&cfg->ranges);
	vmt_cli_end();
}

const struct dirty_range_list *dirty_options_watched(const struct dirty_options *cfg)
{
	return cfg->ranges.n ? &cfg->ranges : &cfg->maps;
}
