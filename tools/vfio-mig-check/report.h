/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The reports written once the run is over, from results.h and timing.h:
 * JUnit XML (--junit FILE, one testsuite per group) and JSON (-J, schema
 * "vfio-mig-check/1", through json-c).
 */
#ifndef VMC_REPORT_H
#define VMC_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "common/failure.h"
#include "safety.h"

struct run_info {
	const struct target *targets;
	int ntargets;
	const char *kernel;
	int stop_signal; /* 0, or the signal that cut the run short */
	bool ok;	 /* the exit status is 0 */
	/* What kept the tool from checking or from leaving a device RUNNING; NULL: nothing. */
	const struct vmt_failure *failure;
	const char *error_line;
};

/* 0 or -errno (the file could not be written). */
int report_junit(const char *path, const struct run_info *run);
int report_json(FILE *out, const struct run_info *run);

#endif
