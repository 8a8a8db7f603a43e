// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Arc latencies and data-fd throughput; see timing.h.
 */
#include "probe.h"
#include "results.h"
#include "timing.h"

#define NARC (VMT_VFIO_DEVICE_STATE_COUNT * VMT_VFIO_DEVICE_STATE_COUNT)

static struct arc_timing arcs[NARC];
static unsigned int narcs;
static uint64_t read_bytes, read_ns;

void timing_arc(uint32_t from, uint32_t to, uint64_t ns)
{
	unsigned int i;

	if (from >= VMT_VFIO_DEVICE_STATE_COUNT || to >= VMT_VFIO_DEVICE_STATE_COUNT)
		return;
	for (i = 0; i < narcs; i++)
		if (arcs[i].from == from && arcs[i].to == to)
			break;
	if (i == narcs) {
		if (narcs == NARC)
			return;
		arcs[narcs++] = (struct arc_timing){ .from = from, .to = to, .min_ns = ns };
	}
	arcs[i].count++;
	arcs[i].total_ns += ns;
	if (ns < arcs[i].min_ns)
		arcs[i].min_ns = ns;
	if (ns > arcs[i].max_ns)
		arcs[i].max_ns = ns;
}

void timing_read(uint64_t bytes, uint64_t ns)
{
	read_bytes += bytes;
	read_ns += ns;
}

const struct arc_timing *timing_arcs(unsigned int *count)
{
	*count = narcs;
	return arcs;
}

void timing_read_totals(uint64_t *bytes, uint64_t *ns)
{
	*bytes = read_bytes;
	*ns = read_ns;
}

void timing_report(void)
{
	unsigned int i;

	if (!narcs && !read_bytes)
		return;
	if (narcs)
		diag("timing: %-28s %5s %10s %10s", "arc (SET ioctl)", "n", "mean us", "max us");
	for (i = 0; i < narcs; i++) {
		char arc[40];

		snprintf(arc, sizeof(arc), "%s -> %s", sname(arcs[i].from), sname(arcs[i].to));
		diag("timing: %-28s %5u %10.1f %10.1f", arc, arcs[i].count,
		     (double)arcs[i].total_ns / arcs[i].count / 1e3, (double)arcs[i].max_ns / 1e3);
	}
	if (read_ns)
		diag("timing: data fd reads: %llu bytes in %.3f ms, %.1f MB/s",
		     (unsigned long long)read_bytes, (double)read_ns / 1e6,
		     (double)read_bytes / ((double)read_ns / 1e9) / 1e6);
}
