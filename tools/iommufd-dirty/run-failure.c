// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * iommufd-dirty's first failure; see run-failure.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/c.h"
#include "common/failure.h"
#include "common/json-doc.h"
#include "common/log.h"
#include "vfio/device-cli.h"

#include "run-failure.h"
#include "stats.h"

static struct vmt_failure first;

VMT_PRINTF(4, 0)
static int vfail(int err, int exit_code, bool says_all, const char *fmt, va_list ap)
{
	char *what = NULL;

	if (!vmt_failed(&first))
		return vmt_vfail(&first, NULL, err, exit_code, says_all, fmt, ap);
	if (vasprintf(&what, fmt, ap) < 0)
		what = NULL;
	if (says_all)
		vmt_err("%s", what ? what : "failed");
	else
		vmt_err("%s: %s", what ? what : "failed", strerror(-err));
	free(what);
	return err;
}

int dirty_fail(int err, int exit_code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(err, exit_code, false, fmt, ap);
	va_end(ap);
	return err;
}

int dirty_refuse(int err, int exit_code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(err, exit_code, true, fmt, ap);
	va_end(ap);
	return err;
}

int dirty_fail_device_open(const char *device, int err)
{
	return vmt_fail_device_open(&first, device, err, 0);
}

bool dirty_failed(void)
{
	return vmt_failed(&first);
}

int dirty_failure_exit_code(void)
{
	return vmt_failure_exit_code(&first);
}

void dirty_failure_say(bool json)
{
	char *line;

	if (!vmt_failed(&first))
		return;
	line = vmt_failure_line(&first, NULL, 0);
	vmt_err("%s", line ? line : "out of memory");
	/* Not after stdout itself failed: that line cannot arrive either. */
	if (json && !ferror(stdout))
		vmt_failure_emit_json_line(
			stdout, vmt_json_doc_new("iommufd-dirty", DIRTY_STATS_SCHEMA_VERSION),
			&first, line);
	free(line);
	vmt_failure_free(&first);
}
