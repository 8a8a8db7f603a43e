/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The run's first failure (lib/common/failure), said once at the end, after
 * tracking is switched off: as the one error line on stderr and, with
 * --stats --json, as the last JSON line on stdout, where a reader of the
 * lines looks. A failure after the first (switching tracking off after a
 * failed read, say) is said at once: it is a consequence, but the user must
 * know tracking may be left on.
 */
#ifndef IOMMUFD_DIRTY_RUN_FAILURE_H
#define IOMMUFD_DIRTY_RUN_FAILURE_H

#include <stdbool.h>

#include "common/c.h"

/* Records err and "what: strerror(err)"; returns err. exit_code 0: from err. */
VMT_PRINTF(3, 4)
int dirty_fail(int err, int exit_code, const char *fmt, ...);
/* The same when what says all (no strerror after it). */
VMT_PRINTF(3, 4)
int dirty_refuse(int err, int exit_code, const char *fmt, ...);
/* "DEVICE: cannot open the device: REASON", the words of every tool. */
int dirty_fail_device_open(const char *device, int err);

bool dirty_failed(void);
int dirty_failure_exit_code(void);
/* The line on stderr and, with json, the last JSON line on stdout; then forgets it. */
void dirty_failure_say(bool json);

#endif
