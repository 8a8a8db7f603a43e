/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Helpers for tests of the output-file modules, which run in a scratch
 * directory of their own: small files written and read whole, and the
 * directory's entries counted (a stray temporary is a failure) and
 * removed between cases.
 */
#ifndef VMT_SCRATCH_FILES_H
#define VMT_SCRATCH_FILES_H

#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static inline void put(const char *name, const char *text)
{
	FILE *f = fopen(name, "w");

	fputs(text, f);
	fclose(f);
}

/* The whole file (up to 64 KiB), or "" when it cannot be read. */
static inline const char *get(const char *name)
{
	static char buf[65536];
	int fd = open(name, O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static inline bool exists(const char *name)
{
	struct stat st;

	return lstat(name, &st) == 0;
}

/* Files in the current directory. */
static inline int entries(void)
{
	DIR *d = opendir(".");
	struct dirent *e;
	int n = 0;

	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n;
}

/* Empties the current directory (files only: the tests make no others). */
static inline void clean(void)
{
	DIR *d = opendir(".");
	struct dirent *e;

	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			unlink(e->d_name);
	closedir(d);
}

#endif
