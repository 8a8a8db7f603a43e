/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What a load did, for the summary line (or JSON object) on stderr: bytes
 * per phase, stream bytes, wall time, throughput, and the part of the
 * downtime spent on this side (first STOP_COPY byte read to devices in
 * their final state).
 */
#ifndef VMT_LOAD_SUMMARY_H
#define VMT_LOAD_SUMMARY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "migstream.h"

#define LOAD_PHASE_SLOTS (MIGSTREAM_PHASE_STOP_COPY + 1)

struct load_device_summary {
	const char *path;	 /* target as given on the command line */
	uint32_t stream_index;
	uint64_t phase_bytes[LOAD_PHASE_SLOTS];
	uint64_t chunks;
	uint64_t digest;	 /* DEVICE_END digest that was checked */
	bool digest_checked;
	uint32_t final_state;	 /* VFIO_DEVICE_STATE_* */
	uint64_t reorder_peak;	 /* bytes */
};

struct load_summary {
	uint64_t start_ns;	    /* CLOCK_MONOTONIC */
	uint64_t end_ns;
	uint64_t stop_copy_start_ns; /* 0: no STOP_COPY data seen */
	uint64_t final_state_ns;     /* all devices in their final state */
	uint64_t stream_bytes;
	uint64_t records;
	unsigned int device_count;
	struct load_device_summary *devices;
};

/* One line per device and a total line, at -v one per device too. */
void load_summary_print_text(FILE *out, const struct load_summary *s, bool per_device);
void load_summary_print_json(FILE *out, const struct load_summary *s);

#endif
