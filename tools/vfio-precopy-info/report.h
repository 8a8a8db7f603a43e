/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What vfio-precopy-info prints: the device facts, a table of samples
 * (vmstat-like), the estimate; as text or as JSON lines.
 */
#ifndef VMT_PRECOPY_REPORT_H
#define VMT_PRECOPY_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "common/failure.h"
#include "estimate.h"
#include "sample.h"

struct precopy_device_facts {
	const char *name;
	const char *node;
	const char *access;
	uint64_t mig_flags;
	uint32_t state;
	bool stop_copy_known;
	uint64_t stop_copy_bytes;
	bool has_precopy;
};

/* The "schema" of every --json line: "vfio-precopy-info/1" (see vfio-precopy-info(1)). */
#define PRECOPY_JSON_SCHEMA_VERSION 1

struct precopy_report {
	FILE *out;
	bool json;
	bool table; /* several samples: a table with a header */
	unsigned int rows;
};

void report_device(struct precopy_report *r, const struct precopy_device_facts *f);
void report_sample(struct precopy_report *r, const struct precopy_sample *s);
void report_estimate(struct precopy_report *r, const struct precopy_estimate_input *in,
		     const struct precopy_estimate *e, unsigned int samples);
/* With --json, the first failure as the last line ("type": "error", "ok": false). */
void report_failure(struct precopy_report *r, const struct vmt_failure *f, const char *line);
/*
 * Push what was printed out now and say whether it could be written:
 * 0 or -errno. A reader that went away (EPIPE) must end a --watch at once.
 */
int report_flush(struct precopy_report *r);
/* "<stdout>" or "<stderr>", for messages. */
const char *report_name(const struct precopy_report *r);

#endif
