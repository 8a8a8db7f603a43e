/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What a load did, for the summary line (or JSON document) on stderr and
 * the --summary-file: bytes per phase, stream bytes, wall time,
 * throughput, and the part of the downtime spent on this side (first
 * STOP_COPY byte read to devices in their final state).
 */
#ifndef VMT_LOAD_SUMMARY_H
#define VMT_LOAD_SUMMARY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json_object.h>

#include "common/failure.h"
#include "stream/migstream.h"

#define LOAD_PHASE_SLOTS (MIGSTREAM_PHASE_STOP_COPY + 1)

struct load_device_summary {
	const char *path; /* target as given on the command line */
	uint32_t stream_index;
	uint64_t phase_bytes[LOAD_PHASE_SLOTS];
	uint64_t chunks;
	uint64_t digest; /* DEVICE_END digest that was checked */
	bool digest_checked;
	uint32_t final_state;  /* VFIO_DEVICE_STATE_* or VMT_STATE_UNKNOWN */
	uint64_t reorder_peak; /* bytes */
	uint64_t writer_ns;    /* time its writer spent writing and checking */
	uint64_t writer_bytes; /* bytes its writer wrote to the data fd */
	uint64_t queue_peak;   /* most bytes waiting in its writer's queue */
	uint64_t loaded_ns;    /* CLOCK_MONOTONIC when RESUMING -> STOP succeeded; 0: not */
	uint64_t ack_ns;       /* CLOCK_MONOTONIC of its last switchover-ack; 0: none */
	unsigned int acks;     /* switchover-acks sent */
	uint64_t channel_mask; /* the channels that carried its DATA (bit k: channel k) */
	bool reset;	       /* reset by the recovery after a failure */
	bool recovery_failed;
};

struct load_summary {
	uint64_t start_ns; /* CLOCK_MONOTONIC */
	uint64_t end_ns;
	uint64_t stop_copy_start_ns; /* 0: no STOP_COPY data seen */
	uint64_t final_state_ns;     /* all devices in their final state */
	uint64_t stream_bytes;
	uint64_t records;
	uint64_t queue_limit;	   /* --queue-size: bytes per device */
	uint64_t reorder_peak;	   /* a set of channels: its reorder buffers' peak, all devices */
	const char *const *inputs; /* the channels, as named on the command line */
	unsigned int input_count;
	unsigned int device_count;
	struct load_device_summary *devices;
};

/* One line per device and a total line, at -v one per device too. */
void load_summary_print_text(FILE *out, const struct load_summary *s, bool per_device);
/* The "schema" of the JSON summary: "vfio-mig-load/1" (vfio-mig-load(1) documents it). */
#define LOAD_SUMMARY_SCHEMA_VERSION 1

/*
 * The summary as one JSON document, ok and error from failure (error_line:
 * its one-line message). NULL without memory.
 */
struct json_object *load_summary_json(const struct load_summary *s,
				      const struct vmt_failure *failure, const char *error_line);

struct load;

/* The figures only the end of a load knows: its end, the stream's bytes and records. */
void load_summary_end(struct load *ld);
/*
 * --summary-file, before anything is said: a summary that cannot be
 * written fails a load that succeeded (the user asked for it and it is
 * missing), and the document on stderr and the error line say so; the
 * devices stay loaded. After a failed load it is one more warning.
 * Returns the error line of that failure (malloc'd), or NULL.
 */
char *load_summary_file(struct load *ld, const char *error_line);

#endif
