// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * --syslog; see outcome-syslog.h.
 */
#include <syslog.h>

#include "common/log.h"
#include "common/outcome-syslog.h"

void vmt_syslog_outcome(bool failed, const char *line, const char *events_file)
{
	/*
	 * Opened and closed around the one message: the tools log nothing else
	 * there, and LOG_NDELAY is not asked for, so nothing is connected
	 * (or inherited by a child) before the outcome is known.
	 */
	openlog(vmt_progname(), LOG_PID, LOG_USER);
	syslog(failed ? LOG_ERR : LOG_INFO, "%s%s%s", line ? line : "(no message)",
	       events_file ? "; events: " : "", events_file ? events_file : "");
	closelog();
}
