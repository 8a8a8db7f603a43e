/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Printing a report: a table for people, JSON (one document, schema
 * "uffd-probe/2", documented in uffd-probe(1)) for programs.
 */
#ifndef UFFD_PROBE_OUTPUT_H
#define UFFD_PROBE_OUTPUT_H

#include <stdio.h>

#include "common/failure.h"
#include "uffd-report.h"

void uffd_print_table(FILE *out, const struct uffd_report *r);

#define UFFD_JSON_SCHEMA_VERSION 2
#define UFFD_PROFILES_JSON_SCHEMA_VERSION 2

/* The report, ok and error from failure (error_line: its message). 0 or -errno. */
int uffd_print_json(FILE *out, const struct uffd_report *r, const struct vmt_failure *failure,
		    const char *error_line);
/* --list-profiles: the requirement table, as text or JSON. 0 or -errno. */
int uffd_print_profiles(FILE *out, int json);

#endif
