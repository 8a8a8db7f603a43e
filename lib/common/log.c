// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Messages to stderr with the program's name and a level.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/exitcodes.h"
#include "common/log.h"

static const char *log_progname = "vfio-migtools";
static int log_level = VMT_LOG_INFO;

void vmt_log_init(const char *progname)
{
	const char *slash = strrchr(progname, '/');

	log_progname = slash ? slash + 1 : progname;
	/* Libtool wrappers run the real binary as lt-NAME. */
	if (strncmp(log_progname, "lt-", 3) == 0)
		log_progname += 3;
}

const char *vmt_progname(void)
{
	return log_progname;
}

void vmt_log_set_level(int level)
{
	log_level = level;
}

int vmt_log_level(void)
{
	return log_level;
}

void vmt_log_adjust(int delta)
{
	log_level += delta;
	if (log_level < VMT_LOG_ERROR)
		log_level = VMT_LOG_ERROR;
}

static const char *level_tag(int level)
{
	switch (level) {
	case VMT_LOG_ERROR:
		return "error: ";
	case VMT_LOG_WARN:
		return "warning: ";
	case VMT_LOG_DEBUG:
	case VMT_LOG_TRACE:
		return "debug: ";
	default:
		return "";
	}
}

void vmt_vlog(int level, const char *fmt, va_list ap)
{
	/* Errors are never silenced: -q quiets chatter, not failures. */
	if (level > log_level && level != VMT_LOG_ERROR)
		return;
	/*
	 * One fprintf per line so concurrent writers do not interleave; the
	 * line is as long as the message (an error naming 64 devices is
	 * still one whole line).
	 */
	char *line = NULL;
	int n = vasprintf(&line, fmt, ap);

	if (n < 0)
		return;
	fprintf(stderr, "%s: %s%s%s", log_progname, level_tag(level), line,
		n > 0 && line[n - 1] == '\n' ? "" : "\n");
	free(line);
}

void vmt_log(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmt_vlog(level, fmt, ap);
	va_end(ap);
}

void vmt_usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", log_progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s --help' for more information.\n", log_progname);
	exit(VMT_EXIT_USAGE);
}
