/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * --syslog of vfio-mig-save and vfio-mig-load: the run's one-line outcome,
 * and the name of its events file, to the journal through syslog(3), so a
 * failed migration leaves a trace where an operator looks first.
 */
#ifndef VMT_COMMON_OUTCOME_SYSLOG_H
#define VMT_COMMON_OUTCOME_SYSLOG_H

#include <stdbool.h>

/*
 * One message, facility LOG_USER, LOG_ERR when failed else LOG_INFO,
 * tagged with the program's name and pid: line, then "; events: FILE"
 * when events_file is not NULL. A NULL line says "(no message)".
 */
void vmt_syslog_outcome(bool failed, const char *line, const char *events_file);

#endif
