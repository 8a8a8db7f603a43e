/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Printing a report: a table for people, JSON (schema "uffd-probe/1",
 * documented in uffd-probe(1)) for programs.
 */
#ifndef UFFD_PROBE_OUTPUT_H
#define UFFD_PROBE_OUTPUT_H

#include <stdio.h>

#include "uffd-report.h"

void uffd_print_table(FILE *out, const struct uffd_report *r);
void uffd_print_json(FILE *out, const struct uffd_report *r);
/* --list-profiles: the requirement table, as text or JSON. */
void uffd_print_profiles(FILE *out, int json);

#endif
