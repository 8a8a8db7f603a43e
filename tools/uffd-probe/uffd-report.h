/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Everything one run of uffd-probe found, filled by main() and printed by
 * uffd-output as a table or as JSON.
 */
#ifndef UFFD_PROBE_REPORT_H
#define UFFD_PROBE_REPORT_H

#include <stdbool.h>

#include "uffd-api.h"
#include "uffd-functional.h"
#include "uffd-matrix.h"
#include "uffd-memory.h"
#include "uffd-open.h"
#include "uffd-profiles.h"

struct uffd_report {
	char kernel[128]; /* uname -r */
	struct uffd_privileges privs;
	struct uffd_hugepages hugepages;
	struct uffd_open_result open[UFFD_OPEN_METHOD_COUNT];
	struct uffd_api_result api;
	struct uffd_matrix matrix;
	unsigned int profile_count;
	struct uffd_profile_result profiles[8];
	bool functional;
	unsigned long functional_faults;
	struct uffd_func_result func[UFFD_FILL_METHOD_COUNT];
};

/* At least one opening method and the handshake work. */
bool uffd_report_usable(const struct uffd_report *r);

#endif
