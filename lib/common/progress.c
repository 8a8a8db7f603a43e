// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The progress line; see progress.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/c.h"
#include "common/closestream.h"
#include "common/log.h"
#include "common/progress.h"
#include "common/strutils.h"
#include "common/timeutil.h"

#define PROGRESS_INTERVAL_NS 200000000ull
#define DEFAULT_COLUMNS 80
/* Shared by every user: root's vfio-mig-save under sudo and a user's load on one terminal. */
#define TERMINAL_LOCK_DIR "/tmp"

bool vmt_progress_wanted(bool asked)
{
	return asked || (vmt_stderr_is_terminal() && vmt_log_level() >= VMT_LOG_INFO);
}

void vmt_progress_init(struct vmt_progress *p, bool on)
{
	*p = (struct vmt_progress){ .on = on, .start_ns = vmt_monotonic_ns(), .terminal_lock = -1 };
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

#define PART_SIZE 128 /* one part of the line; a phase can be a file name */

/*
 * The parts of the line in the order shown. part_drop: which goes first when
 * the line is too wide (the highest; 0 never): the bytes, the rate and the
 * time left matter most, the total and the phase least.
 */
enum line_part {
	PART_NAME,
	PART_PHASE,
	PART_DONE,
	PART_TOTAL,
	PART_PERCENT,
	PART_RATE,
	PART_ETA,
	PART_COUNT
};

static const unsigned int part_drop[PART_COUNT] = {
	[PART_TOTAL] = 6, [PART_PHASE] = 5, [PART_PERCENT] = 4, [PART_NAME] = 3,
	[PART_ETA] = 2,	  [PART_RATE] = 1,  [PART_DONE] = 0,
};

/* Drops the least important parts until the line fits max columns (or only the bytes are left). */
static void fit_parts(char parts[PART_COUNT][PART_SIZE], size_t max)
{
	for (;;) {
		size_t len = 0;
		int victim = -1;

		for (int i = 0; i < PART_COUNT; i++) {
			len += strlen(parts[i]);
			if (parts[i][0] && part_drop[i] &&
			    (victim < 0 || part_drop[i] > part_drop[victim]))
				victim = i;
		}
		if (len <= max || victim < 0)
			return;
		parts[victim][0] = '\0';
	}
}

static void format_parts(char parts[PART_COUNT][PART_SIZE], const char *phase, uint64_t done,
			 uint64_t total, double rate)
{
	char sz[32];

	snprintf(parts[PART_NAME], PART_SIZE, "%s: ", vmt_progname());
	if (phase)
		snprintf(parts[PART_PHASE], PART_SIZE, "%s: ", phase);
	vmt_format_size(done, parts[PART_DONE], PART_SIZE);
	if (total) {
		/* A device's estimate may be passed (it keeps dirtying): never over 100%. */
		unsigned int percent =
			done >= total ? 100 : (unsigned int)((double)done * 100 / (double)total);

		snprintf(parts[PART_TOTAL], PART_SIZE, " of %s",
			 vmt_format_size(total, sz, sizeof(sz)));
		snprintf(parts[PART_PERCENT], PART_SIZE, " (%u%%)", percent);
	}
	snprintf(parts[PART_RATE], PART_SIZE, ", %s/s",
		 vmt_format_size((uint64_t)rate, sz, sizeof(sz)));
	if (total && rate > 0 && done < total) {
		format_eta(sz, sizeof(sz), (uint64_t)((double)(total - done) / rate + 0.5));
		snprintf(parts[PART_ETA], PART_SIZE, ", ETA %s", sz);
	}
}

size_t vmt_progress_format(char *buf, size_t size, unsigned int width, const char *phase,
			   uint64_t done, uint64_t total, uint64_t elapsed_ns)
{
	double rate = elapsed_ns ? (double)done * NSEC_PER_SEC / (double)elapsed_ns : 0;
	char parts[PART_COUNT][PART_SIZE] = { { 0 } };
	size_t len = 0, max = width > 1 ? width - 1 : 0;

	if (!size)
		return 0;
	format_parts(parts, phase, done, total, rate);
	fit_parts(parts, max);
	buf[0] = '\0';
	for (int i = 0; i < PART_COUNT && len + 1 < size; i++) {
		len += (size_t)snprintf(buf + len, size - len, "%s", parts[i]);
		if (len >= size)
			len = size - 1;
	}
	/* Only the bytes left and still too wide: their head. */
	if (len > max) {
		len = max;
		buf[len] = '\0';
	}
	return len;
}

/*
 * Where this terminal's progress lock is: a file named after the terminal's
 * device number. The tools of a pipeline share stderr's open file
 * description, so an flock on it would be shared, not exclusive; every
 * process opening this file gets its own. The device number is the same for
 * each of them whatever path stderr was opened by, and an flock ends with its
 * process: no stale lock after a crash. -errno when stderr is no terminal
 * (no one else draws there) or no lock can be had.
 */
static int open_terminal_lock(void)
{
	const int flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
	char path[sizeof(TERMINAL_LOCK_DIR) + 64];
	struct stat st;
	int fd;

	if (!isatty(STDERR_FILENO) || fstat(STDERR_FILENO, &st) || !S_ISCHR(st.st_mode))
		return -ENOTTY;
	snprintf(path, sizeof(path), TERMINAL_LOCK_DIR "/vfio-migtools-progress-%u.%u.lock",
		 major(st.st_rdev), minor(st.st_rdev));
	/* Not O_CREAT first: fs.protected_regular refuses it for another user's file in /tmp. */
	fd = open(path, flags);
	if (fd < 0 && errno == ENOENT) {
		fd = open(path, flags | O_CREAT | O_EXCL, 0644);
		/* Another user's tool on this terminal must be able to open it too. */
		if (fd >= 0)
			(void)fchmod(fd, 0644);
		else if (errno == EEXIST)
			fd = open(path, flags);
	}
	if (fd < 0)
		return -errno;
	/* Someone else's FIFO or device by that name is no lock of ours. */
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	return fd;
}

/*
 * Whether this process may draw: two tools on one terminal (vfio-mig-save |
 * vfio-mig-load) would draw over each other's line, so the first to take
 * the terminal's lock draws and the others wait for it to let go (at its
 * clear). Without a terminal or a lock it draws, as one tool alone does.
 */
static bool terminal_turn(struct vmt_progress *p)
{
	int fd;

	if (p->terminal_lock >= 0)
		return true;
	fd = open_terminal_lock();
	if (fd < 0)
		return true;
	if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
		p->terminal_lock = fd;
		return true;
	}
	p->terminal_shared = errno == EWOULDBLOCK;
	close(fd);
	return !p->terminal_shared;
}

void vmt_progress_update(struct vmt_progress *p, const char *phase, uint64_t done, uint64_t total,
			 bool force)
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
	if (!terminal_turn(p))
		return;
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
	/* The line another tool drew is where our next message would go. */
	if (p->drawn || p->terminal_shared) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
	}
	p->drawn = false;
	p->terminal_shared = false;
	if (p->terminal_lock >= 0) {
		close(p->terminal_lock);
		p->terminal_lock = -1;
	}
}
