/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The first failure of an engine (vfio-mig-save's, vfio-mig-load's) and
 * the one error line built from it. Engines return -errno and record here
 * what failed and where; later failures are consequences of the first and
 * are not recorded. After recovery, the tool builds the line once, with
 * where each device is now (summarised when there are many), and prints it
 * or puts it into its JSON document.
 */
#ifndef VMT_FAILURE_H
#define VMT_FAILURE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json_object.h>

#include "common/c.h"

/* Where a failure happened; every member is optional (NULL / false). */
struct vmt_where {
	const char *file; /* stream or output name: "<stdin>", "s.vms" */
	bool has_record;
	uint32_t record;	 /* sequence number */
	const char *record_type; /* "DATA" */
	bool has_offset;
	uint64_t offset;      /* byte offset in file (of the record, when there is one) */
	const char *device;   /* the device as the user named it */
	bool what_says_where; /* the message names all this already: JSON only */
};

struct vmt_failure {
	int err;       /* -errno; 0: nothing failed */
	int exit_code; /* VMT_EXIT_*; 0: from err */
	bool says_all; /* what needs no strerror(err) after it */
	char *what;
	char *file, *record_type, *device; /* copies of the vmt_where strings */
	bool has_record, has_offset, what_says_where;
	uint32_t record;
	uint64_t offset;
	char *lead; /* before everything: "stream complete, but " */
};

/*
 * Records the failure unless one is recorded already; returns err either
 * way, so "return vmt_fail(...)" passes the error up. exit_code 0 lets
 * vmt_failure_exit_code() choose from err. The line says what, then
 * strerror(err).
 */
VMT_PRINTF(5, 6)
int vmt_fail(struct vmt_failure *f, const struct vmt_where *at, int err, int exit_code,
	     const char *fmt, ...);
/* The same, for a failure that what says all about (err only picks the exit code). */
VMT_PRINTF(5, 6)
int vmt_refuse(struct vmt_failure *f, const struct vmt_where *at, int err, int exit_code,
	       const char *fmt, ...);
/* Either of the above, for callers that wrap them. */
VMT_PRINTF(6, 0)
int vmt_vfail(struct vmt_failure *f, const struct vmt_where *at, int err, int exit_code,
	      bool says_all, const char *fmt, va_list ap);
/* Text put before the whole line of the failure recorded (if any); copied. */
void vmt_failure_set_lead(struct vmt_failure *f, const char *lead);

static inline bool vmt_failed(const struct vmt_failure *f)
{
	return f->err != 0;
}

int vmt_failure_exit_code(const struct vmt_failure *f);
void vmt_failure_free(struct vmt_failure *f);

/* Where one device is after the recovery, for the end of the line. */
struct vmt_device_fate {
	const char *name;
	const char *state; /* "RUNNING" (vmt_state_name()); NULL: not known */
	bool touched;	   /* false: "untouched" */
	bool reset;
	bool recovery_failed;
};

/*
 * "FILE: record N (TYPE) at byte B: DEVICE: WHAT: strerror; device X reset,
 * now RUNNING" on one line, however many devices: up to four are named one
 * by one; beyond that, devices that share a fate are counted ("60 devices
 * reset, now RUNNING") and those in a fate of three or fewer are named.
 * malloc'd; NULL without memory.
 */
char *vmt_failure_line(const struct vmt_failure *f, const struct vmt_device_fate *fates,
		       unsigned int nfates);

/*
 * The ok/error part of a tool's JSON document: "ok": true and "error": null,
 * or "ok": false and "error": {"message": line, "errno": "EIO", "exit_code",
 * "file", "record", "record_type", "offset", "device"} (null when not known).
 */
void vmt_failure_add_json(struct json_object *doc, const struct vmt_failure *f, const char *line);

/*
 * The last line of a tool whose --json output is a series of lines
 * (vfio-precopy-info, iommufd-dirty, migstream-cat) when the run failed, so
 * that a reader of the lines sees the failure where it reads: doc is a new
 * line as the tool starts every line (vmt_json_doc_new() and the tool's own
 * leading keys); it gets "ok": false and "error" as vmt_failure_add_json()
 * writes them, goes to out and is freed. Nothing is written when f records
 * no failure. 0 or -errno.
 */
int vmt_failure_emit_json_line(FILE *out, struct json_object *doc, const struct vmt_failure *f,
			       const char *line);
/*
 * The same for a tool that has only the line it said and the -errno
 * behind it; exit_code 0 chooses from err.
 */
int vmt_error_emit_json_line(FILE *out, struct json_object *doc, int err, int exit_code,
			     const char *line);

#endif
