/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Messages to stderr, prefixed with the program name, filtered by one
 * verbosity level that -q and -v move. Only tools print: library modules
 * return -errno and leave the wording of user-facing errors to their caller,
 * except for debug traces, which name the module that spoke.
 */
#ifndef VMT_LOG_H
#define VMT_LOG_H

#include <stdarg.h>

#include "common/c.h"

enum vmt_log_level {
	VMT_LOG_ERROR = 0,
	VMT_LOG_WARN = 1,
	VMT_LOG_INFO = 2,  /* default: summaries and notices */
	VMT_LOG_DEBUG = 3, /* -v: what is being done */
	VMT_LOG_TRACE = 4, /* -vv: every ioctl and record */
};

/* Set once from main(): "vfio-mig-save". */
void vmt_log_init(const char *progname);
const char *vmt_progname(void);
void vmt_log_set_level(int level);
int vmt_log_level(void);
/* -v adds one, -q takes one away (down to errors only). */
void vmt_log_adjust(int delta);

VMT_PRINTF(2, 3)
void vmt_log(int level, const char *fmt, ...);
VMT_PRINTF(2, 0)
void vmt_vlog(int level, const char *fmt, va_list ap);

/* "prog: error: <fmt>" */
#define vmt_err(...) vmt_log(VMT_LOG_ERROR, __VA_ARGS__)
#define vmt_warn(...) vmt_log(VMT_LOG_WARN, __VA_ARGS__)
#define vmt_info(...) vmt_log(VMT_LOG_INFO, __VA_ARGS__)
#define vmt_dbg(...) vmt_log(VMT_LOG_DEBUG, __VA_ARGS__)
#define vmt_trace(...) vmt_log(VMT_LOG_TRACE, __VA_ARGS__)

/*
 * A usage error: "prog: <msg>" then "Try 'prog --help' for more
 * information." and exit(VMT_EXIT_USAGE).
 */
VMT_PRINTF(1, 2) VMT_NORETURN void vmt_usage_error(const char *fmt, ...);

#endif
