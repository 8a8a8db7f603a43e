/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * --functional: fault pages in for real and time their resolution. A thread
 * touches each registered page once, in order; this thread reads each fault
 * from the userfaultfd, fills the page and so wakes the toucher, which times
 * the whole round trip. Contents are checked afterwards.
 */
#ifndef UFFD_PROBE_FUNCTIONAL_H
#define UFFD_PROBE_FUNCTIONAL_H

#include <stdint.h>

#include "uffd-memory.h"
#include "uffd-open.h"

enum uffd_fill_method {
	UFFD_FILL_COPY,	    /* anonymous, MISSING, UFFDIO_COPY of a pattern */
	UFFD_FILL_ZEROPAGE, /* anonymous, MISSING, UFFDIO_ZEROPAGE */
	UFFD_FILL_CONTINUE, /* shmem, MINOR, UFFDIO_CONTINUE of page-cache pages */
	UFFD_FILL_METHOD_COUNT,
};

enum uffd_func_status {
	UFFD_FUNC_OK,
	UFFD_FUNC_FAILED,  /* a fault went unresolved or contents were wrong */
	UFFD_FUNC_SKIPPED, /* this kernel or host cannot do it: note says why */
};

#define UFFD_DEFAULT_FAULTS 2000
#define UFFD_MAX_FAULTS 1000000

struct uffd_func_result {
	enum uffd_fill_method method;
	enum uffd_mem_kind memory;
	enum uffd_func_status status;
	enum uffd_open_method open_method;
	char note[224];
	unsigned long faults;	/* faults resolved */
	unsigned long verified; /* pages whose contents were right */
	double median_us;
	double p99_us;
	double faults_per_sec;
};

/* "copy", "zeropage", "continue" */
const char *uffd_fill_method_name(enum uffd_fill_method method);
const char *uffd_func_status_name(enum uffd_func_status status);

void uffd_functional_run(enum uffd_fill_method method, unsigned long faults,
			 const char *device_path, struct uffd_func_result *out);

#endif
