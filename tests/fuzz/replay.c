// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Runs a fuzz target on every file of its corpus without libFuzzer, so
 * that `make check` (with or without sanitizers) replays the corpus and
 * every crash once found and added to it.
 *   fuzz-*-replay [FILE|DIR]...   default: the corpus compiled in
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path, unsigned int *count)
{
	struct stat st;
	uint8_t *buf;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st)) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return 1;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf || read(fd, buf, (size_t)st.st_size) != st.st_size) {
		fprintf(stderr, "replay: %s: short read\n", path);
		return 1;
	}
	close(fd);
	LLVMFuzzerTestOneInput(buf, (size_t)st.st_size);
	free(buf);
	(*count)++;
	return 0;
}

static int run_path(const char *path, unsigned int *count)
{
	struct stat st;
	struct dirent *de;
	DIR *dir;
	int ret = 0;

	if (stat(path, &st)) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return 1;
	}
	if (!S_ISDIR(st.st_mode))
		return run_file(path, count);
	dir = opendir(path);
	if (!dir)
		return 1;
	while ((de = readdir(dir))) {
		char sub[4096];

		if (de->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
		ret |= run_file(sub, count);
	}
	closedir(dir);
	return ret;
}

int main(int argc, char **argv)
{
	unsigned int count = 0;
	int ret = 0;

	if (argc < 2)
		ret = run_path(FUZZ_CORPUS_DIR, &count);
	for (int i = 1; i < argc; i++)
		ret |= run_path(argv[i], &count);
	printf("1..1\n%sok 1 - %u corpus inputs replayed\n", ret ? "not " : "", count);
	return ret;
}
