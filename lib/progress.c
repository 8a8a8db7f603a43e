// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The progress line; see progress.h.
 */
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "closestream.h"
#include "log.h"
#include "progress.h"
#include "strutils.h"
#include "timeutil.h"

#define PROGRESS_INTERVAL_NS 200000000ull
#define DEFAULT_COLUMNS 80
#define NSEC_PER_SEC 1000000000ull

bool vmt_progress_wanted(bool asked)
{
	return asked || (vmt_stderr_is_terminal() && vmt_log_level() >= VMT_LOG_INFO);
}

void vmt_progress_init(struct vmt_progress *p, bool on)
{
	*p = (struct vmt_progress){ .on = on, .start_ns = vmt_monotonic_ns() };
}

uint64_t vmt_progress_fd_total(int fd)
{
	struct stat st;

	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0)
		return (uint64_t)st.st_size;
	return 0;
}

static unsigned int stderr_columns(void)
{
	struct winsize ws;

	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1)
		return ws.ws_col;
	return DEFAULT_COLUMNS;
}

/* "1:05" or "2:03:07". */
static void format_eta(char *buf, size_t size, uint64_t secs)
{
	if (secs >= 3600)
		snprintf(buf, size, "%llu:%02llu:%02llu", (unsigned long long)(secs / 3600),
			 (unsigned long long)(secs / 60 % 60), (unsigned long long)(secs % 60));
	else
		snprintf(buf, size, "%llu:%02llu", (unsigned long long)(secs / 60),
			 (unsigned long long)(secs % 60));
}

/* " of 26.7 MiB (45%)" when the total is known. */
static void format_share(char *buf, size_t size, uint64_t done, uint64_t total)
{
	char of[32];
	/* A device's estimate may be passed (it keeps dirtying): never over 100%. */
	unsigned int percent = done >= total ? 100 : (unsigned int)((double)done * 100 / (double)total);

	snprintf(buf, size, " of %s (%u%%)", vmt_format_size(total, of, sizeof(of)), percent);
}

size_t vmt_progress_format(char *buf, size_t size, unsigned int width, const char *phase,
			   uint64_t done, uint64_t total, uint64_t elapsed_ns)
{
	double rate = elapsed_ns ? (double)done * NSEC_PER_SEC / (double)elapsed_ns : 0;
	char sz[32], rt[32], share[64] = "", eta[40] = "";
	size_t len, max;

	if (!size)
		return 0;
	if (total)
		format_share(share, sizeof(share), done, total);
	if (total && rate > 0 && done < total) {
		strcpy(eta, ", ETA ");
		format_eta(eta + strlen(eta), sizeof(eta) - strlen(eta),
			   (uint64_t)((double)(total - done) / rate + 0.5));
	}
	snprintf(buf, size, "%s: %s%s%s%s, %s/s%s", vmt_progname(), phase ? phase : "",
		 phase ? ": " : "", vmt_format_size(done, sz, sizeof(sz)), share,
		 vmt_format_size((uint64_t)rate, rt, sizeof(rt)), eta);
	len = strlen(buf);
	max = width > 1 ? width - 1 : 0;
	if (len > max) {
		len = max;
		buf[len] = '\0';
	}
	return len;
}

void vmt_progress_update(struct vmt_progress *p, const char *phase, uint64_t done,
			 uint64_t total, bool force)
{
	char line[256];
	uint64_t now;

	if (!p->on)
		return;
	now = vmt_monotonic_ns();
	if (!force && p->drawn && now - p->last_ns < PROGRESS_INTERVAL_NS)
		return;
	if (!force && !p->drawn && now - p->start_ns < PROGRESS_INTERVAL_NS)
		return;
	p->last_ns = now;
	vmt_progress_format(line, sizeof(line), stderr_columns(), phase, done, total,
			    now - p->start_ns);
	fprintf(stderr, "\r%s\033[K", line);
	fflush(stderr);
	p->drawn = true;
}

void vmt_progress_new_phase(struct vmt_progress *p)
{
	p->start_ns = vmt_monotonic_ns();
}

void vmt_progress_clear(struct vmt_progress *p)
{
	if (!p->drawn)
		return;
	fputs("\r\033[K", stderr);
	fflush(stderr);
	p->drawn = false;
}
