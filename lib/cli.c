// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The options every tool has.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "closestream.h"
#include "log.h"

bool vmt_cli_common_option(poptContext ctx, int rc, void (*usage)(void))
{
	switch (rc) {
	case VMT_OPT_HELP:
		usage();
		break;
	case VMT_OPT_VERSION:
		printf("%s (vfio-migtools) %s\n", vmt_progname(), PACKAGE_VERSION);
		break;
	case VMT_OPT_QUIET:
		vmt_log_adjust(-1);
		return true;
	case VMT_OPT_VERBOSE:
		vmt_log_adjust(1);
		return true;
	default:
		return false;
	}
	/* --help | head: a failed write is an error even here. */
	poptFreeContext(ctx);
	exit(vmt_close_stdout());
}

void vmt_cli_check_popt_end(poptContext ctx, int rc)
{
	if (rc < -1)
		vmt_usage_error("%s: %s", poptBadOption(ctx, POPT_BADOPTION_NOALIAS),
				poptStrerror(rc));
}
