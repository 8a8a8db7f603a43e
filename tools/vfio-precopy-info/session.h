/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One sampling session: the device into PRE_COPY (PRE_COPY_P2P from
 * RUNNING_P2P), samples at the interval, optionally draining the data into
 * a stream, and always back to the state it was found in before anything
 * is said about the result.
 */
#ifndef VMT_PRECOPY_SESSION_H
#define VMT_PRECOPY_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "common/events.h"
#include "common/failure.h"
#include "common/outfile.h"
#include "vfio/device.h"
#include "vfio/precopy.h"
#include "report.h"
#include "sample.h"

#include "options.h"

struct precopy_session {
	const struct precopy_options *opt;
	struct vmt_device *dev;
	struct precopy_report report;
	bool quiet_report;  /* -q with a stream on stdout: no report at all */
	bool report_failed; /* said once: not again when stdout is closed */

	struct migstream_writer *info_stream; /* --stream */
	struct migstream_writer *data_stream; /* -o */
	struct vmt_outfile data_out;
	unsigned char *buf;
	uint64_t start_ns;
	struct vmt_precopy_split split; /* drained bytes: PRECOPY_INITIAL or _DIRTY */
	/* The estimate's base: the first sample, or the last REINIT. */
	struct precopy_sample first, prev;
	bool precopy_v2; /* opted in: GET_PRECOPY_INFO says REINIT */
	unsigned int reinits;
	uint64_t drained_total;
	unsigned int samples;
	/* The first failure, said once the device is back so the line can say where it is. */
	struct vmt_failure failure;
	bool touched; /* the device was moved: the line says where it is now */
	bool recovery_failed;
	struct vmt_events *events; /* --events, or NULL */
};

/*
 * With the device in original (RUNNING or RUNNING_P2P): open the streams,
 * sample in PRE_COPY, put the device back, say what failed, print the
 * estimate and finish the streams. Returns the exit code.
 */
int precopy_session_run(struct precopy_session *s, uint32_t original);

/*
 * The first failure, if any, as the one error line on stderr and, with
 * --json, as the last JSON line of the report.
 */
void precopy_session_say_failure(struct precopy_session *s);

void precopy_session_free(struct precopy_session *s);

#endif
