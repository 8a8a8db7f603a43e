// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libvfiosim helpers: interval sets (dirty pages, mappings, logged ranges),
 * state files, tracing, time and the stream generator's mixer.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sim.h"

static int ranges_reserve(struct sim_ranges *r, size_t n)
{
	struct sim_range *v;
	size_t cap;

	if (n <= r->cap)
		return 0;
	cap = r->cap ? r->cap * 2 : 16;
	while (cap < n)
		cap *= 2;
	v = realloc(r->v, cap * sizeof(*v));
	if (!v)
		return -1;
	r->v = v;
	r->cap = cap;
	return 0;
}

void sim_ranges_add(struct sim_ranges *r, uint64_t start, uint64_t end)
{
	size_t i, j;

	if (start >= end)
		return;
	/* first range that ends at or after start (touching ranges merge) */
	for (i = 0; i < r->n && r->v[i].end < start; i++)
		;
	for (j = i; j < r->n && r->v[j].start <= end; j++) {
		if (r->v[j].start < start)
			start = r->v[j].start;
		if (r->v[j].end > end)
			end = r->v[j].end;
	}
	if (j == i) {
		if (ranges_reserve(r, r->n + 1))
			return;
		memmove(&r->v[i + 1], &r->v[i], (r->n - i) * sizeof(r->v[0]));
		r->n++;
	} else if (j > i + 1) {
		memmove(&r->v[i + 1], &r->v[j], (r->n - j) * sizeof(r->v[0]));
		r->n -= j - i - 1;
	}
	r->v[i].start = start;
	r->v[i].end = end;
}

void sim_ranges_remove(struct sim_ranges *r, uint64_t start, uint64_t end)
{
	size_t i = 0;

	if (start >= end)
		return;
	while (i < r->n) {
		struct sim_range *x = &r->v[i];

		if (x->end <= start || x->start >= end) {
			i++;
			continue;
		}
		if (x->start < start && x->end > end) {
			/* split */
			uint64_t old_end = x->end;

			if (ranges_reserve(r, r->n + 1))
				return;
			x = &r->v[i];
			memmove(&r->v[i + 2], &r->v[i + 1], (r->n - i - 1) * sizeof(r->v[0]));
			r->n++;
			x->end = start;
			r->v[i + 1].start = end;
			r->v[i + 1].end = old_end;
			return;
		}
		if (x->start < start) {
			x->end = start;
			i++;
		} else if (x->end > end) {
			x->start = end;
			i++;
		} else {
			memmove(&r->v[i], &r->v[i + 1], (r->n - i - 1) * sizeof(r->v[0]));
			r->n--;
		}
	}
}

bool sim_ranges_overlaps(const struct sim_ranges *r, uint64_t start, uint64_t end)
{
	for (size_t i = 0; i < r->n; i++) {
		if (r->v[i].start < end && r->v[i].end > start)
			return true;
	}
	return false;
}

/* where the run of @r that holds @start ends, at most @end; @start if none does */
uint64_t sim_ranges_covered_to(const struct sim_ranges *r, uint64_t start, uint64_t end)
{
	for (size_t i = 0; i < r->n; i++) {
		if (r->v[i].start <= start && start < r->v[i].end)
			return r->v[i].end < end ? r->v[i].end : end;
	}
	return start;
}

void sim_ranges_clear(struct sim_ranges *r)
{
	r->n = 0;
}

uint64_t sim_ranges_total(const struct sim_ranges *r)
{
	uint64_t t = 0;

	for (size_t i = 0; i < r->n; i++)
		t += r->v[i].end - r->v[i].start;
	return t;
}

/* Written to a temp file and renamed so a reader never sees half a file. */
void sim_state_write(const char *name, const char *text)
{
	char path[4200], tmp[4300];
	int fd, saved = errno;
	size_t len = strlen(text), off = 0;

	if (!sim_cfg.state_dir[0])
		return;
	snprintf(path, sizeof(path), "%s/%s", sim_cfg.state_dir, name);
	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		goto out;
	while (off < len) {
		ssize_t w = write(fd, text + off, len - off);

		if (w <= 0)
			break;
		off += (size_t)w;
	}
	close(fd);
	if (off == len)
		rename(tmp, path);
	else
		unlink(tmp);
out:
	errno = saved;
}

void sim_trace(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int saved = errno, n;

	if (!sim_cfg.trace)
		return;
	n = snprintf(buf, sizeof(buf), "vfiosim[%ld]: ", (long)getpid());
	va_start(ap, fmt);
	vsnprintf(buf + n, sizeof(buf) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	strcat(buf, "\n");
	if (write(STDERR_FILENO, buf, strlen(buf)) < 0) {
		/* nothing to do: tracing is best effort */
	}
	errno = saved;
}

uint64_t sim_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

uint64_t sim_splitmix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static void add_clipped(struct sim_ranges *dirty, const struct sim_ranges *within, uint64_t start,
			uint64_t end)
{
	if (!within) {
		sim_ranges_add(dirty, start, end);
		return;
	}
	for (size_t i = 0; i < within->n; i++) {
		uint64_t s = start > within->v[i].start ? start : within->v[i].start;
		uint64_t e = end < within->v[i].end ? end : within->v[i].end;

		if (s < e)
			sim_ranges_add(dirty, s, e);
	}
}

void sim_apply_dirty_file(const char *name, off_t *offset, struct sim_ranges *dirty,
			  const struct sim_ranges *within)
{
	char path[4200], line[256];
	int saved = errno;
	FILE *f;

	if (!sim_cfg.state_dir[0])
		return;
	snprintf(path, sizeof(path), "%s/%s", sim_cfg.state_dir, name);
	f = fopen(path, "re");
	if (!f)
		goto out;
	if (fseeko(f, *offset, SEEK_SET))
		goto close;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long iova, len;

		if (!strchr(line, '\n'))
			break; /* a line still being written: take it next time */
		*offset += (off_t)strlen(line);
		if (sscanf(line, "%lli %lli", &iova, &len) == 2 && len && iova + len > iova)
			add_clipped(dirty, within, iova, iova + len);
	}
close:
	fclose(f);
out:
	errno = saved;
}

void sim_dirtylog_flush(struct sim_dirtylog *log)
{
	char path[4200];
	int saved = errno, fd;

	if (!log->len || !sim_cfg.state_dir[0]) {
		log->len = 0;
		return;
	}
	snprintf(path, sizeof(path), "%s/%s", sim_cfg.state_dir, log->name);
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd >= 0) {
		if (write(fd, log->buf, log->len) < 0) {
			/* best effort: the log is for tests to look at */
		}
		close(fd);
	}
	log->len = 0;
	errno = saved;
}

void sim_dirtylog_add(struct sim_dirtylog *log, uint64_t iova, uint64_t len)
{
	if (log->len + 48 > sizeof(log->buf))
		sim_dirtylog_flush(log);
	log->len += (size_t)snprintf(log->buf + log->len, sizeof(log->buf) - log->len,
				     "0x%llx 0x%llx\n", (unsigned long long)iova,
				     (unsigned long long)len);
}
