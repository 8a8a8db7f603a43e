// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Output files written beside their final name and renamed into place.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/outfile.h"

/* As the kernel's MAXSYMLINKS: more than this many links in a row is a loop. */
#define MAX_SYMLINK_HOPS 40
#define TMP_NAME_ATTEMPTS 100

static bool is_stdout_name(const char *name)
{
	return !name || strcmp(name, "-") == 0;
}

/*
 * "fd:N": a descriptor the caller handed us (a pipe or socket to another
 * process): its number, or -1 when name is not of that form.
 */
static int inherited_fd(const char *name)
{
	char *end;
	long n;

	if (!name || strncmp(name, "fd:", 3) != 0 || name[3] < '0' || name[3] > '9')
		return -1;
	errno = 0;
	n = strtol(name + 3, &end, 10);
	if (errno || *end || n < 0 || n > INT_MAX)
		return -1;
	return (int)n;
}

static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, slash - path);
}

static const char *base_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

static char *join(const char *dir, const char *name)
{
	size_t len = strlen(dir) + strlen(name) + 2;
	char *s = malloc(len);

	if (s)
		snprintf(s, len, "%s/%s", dir, name);
	return s;
}

/* One symlink hop: the path link points to, relative to link's directory. */
static int follow_link(const char *link, char **next)
{
	char target[PATH_MAX];
	ssize_t n = readlink(link, target, sizeof(target) - 1);
	char *dir;

	if (n < 0)
		return -errno;
	target[n] = '\0';
	if (target[0] == '/') {
		*next = strdup(target);
	} else {
		dir = dir_of(link);
		*next = dir ? join(dir, target) : NULL;
		free(dir);
	}
	return *next ? 0 : -ENOMEM;
}

/*
 * The name the file really has: symlinks followed to a last component that
 * is not one (and may not exist), its directory made absolute, so that two
 * spellings of one place compare equal.
 */
static int resolve_path(const char *name, char **resolved)
{
	char *path = strdup(name), *next, *dir, *real_dir;
	struct stat st;
	int ret = 0;

	if (!path)
		return -ENOMEM;
	for (int hops = 0;; hops++) {
		if (lstat(path, &st) < 0) {
			if (errno != ENOENT) {
				ret = -errno;
				goto out;
			}
			break;
		}
		if (!S_ISLNK(st.st_mode))
			break;
		if (hops == MAX_SYMLINK_HOPS) {
			ret = -ELOOP;
			goto out;
		}
		ret = follow_link(path, &next);
		if (ret)
			goto out;
		free(path);
		path = next;
	}
	dir = dir_of(path);
	if (!dir) {
		ret = -ENOMEM;
		goto out;
	}
	real_dir = realpath(dir, NULL);
	free(dir);
	if (!real_dir) {
		ret = -errno;
		goto out;
	}
	*resolved = join(real_dir, base_of(path));
	free(real_dir);
	if (!*resolved)
		ret = -ENOMEM;
out:
	free(path);
	return ret;
}

/* ".NAME.XXXXXX" beside path, created with O_EXCL so it is ours alone. */
static int create_temporary(struct vmt_outfile *out)
{
	char *dir = dir_of(out->path);
	size_t len;

	if (!dir)
		return -ENOMEM;
	len = strlen(dir) + strlen(base_of(out->path)) + sizeof("/..XXXXXXXXXXXXXXXX");
	out->tmp = malloc(len);
	if (!out->tmp) {
		free(dir);
		return -ENOMEM;
	}
	for (int i = 0; i < TMP_NAME_ATTEMPTS; i++) {
		uint64_t r;

		if (getrandom(&r, sizeof(r), 0) != sizeof(r))
			r = (uint64_t)getpid() << 32 ^ (uint64_t)i;
		snprintf(out->tmp, len, "%s/.%s.%016llx", dir, base_of(out->path),
			 (unsigned long long)r);
		out->fd = open(out->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, 0666);
		if (out->fd >= 0 || errno != EEXIST)
			break;
	}
	free(dir);
	if (out->fd < 0) {
		int ret = -errno;

		free(out->tmp);
		out->tmp = NULL;
		return ret;
	}
	return 0;
}

/* A file that exists and is not regular is written where it is, untouched otherwise. */
static int open_in_place(struct vmt_outfile *out, const char *name)
{
	struct stat st;

	out->fd = open(name, O_WRONLY | O_CLOEXEC | O_NOCTTY);
	if (out->fd < 0)
		return -errno;
	if (fstat(out->fd, &st) == 0) {
		out->existed = true;
		out->dev = st.st_dev;
		out->ino = st.st_ino;
	}
	return 0;
}

static int open_replacement(struct vmt_outfile *out, const char *name)
{
	struct stat st;
	int ret = resolve_path(name, &out->path);

	if (ret)
		return ret;
	if (stat(out->path, &st) == 0) {
		/* Replacing a file we could not have written would be a way round its mode. */
		if (access(out->path, W_OK) < 0)
			return -errno;
		out->existed = true;
		out->dev = st.st_dev;
		out->ino = st.st_ino;
	} else if (errno != ENOENT) {
		return -errno;
	}
	ret = create_temporary(out);
	if (ret)
		return ret;
	/* The replacement keeps the mode of what it replaces; a new file gets 0666 & ~umask. */
	if (out->existed)
		(void)fchmod(out->fd, st.st_mode & 07777);
	return 0;
}

int vmt_outfile_open(struct vmt_outfile *out, const char *name)
{
	struct stat st;
	int ret;

	*out = (struct vmt_outfile){ .name = name, .fd = -1 };
	/* Written in place and closed at the end: the reader's end of file. */
	if (inherited_fd(name) >= 0) {
		if (fstat(inherited_fd(name), &st) < 0)
			return -errno;
		out->fd = inherited_fd(name);
		out->existed = true;
		out->dev = st.st_dev;
		out->ino = st.st_ino;
		return 0;
	}
	if (is_stdout_name(name)) {
		out->fd = STDOUT_FILENO;
		if (fstat(STDOUT_FILENO, &st) == 0) {
			out->existed = true;
			out->dev = st.st_dev;
			out->ino = st.st_ino;
		}
		return 0;
	}
	if (stat(name, &st) == 0 && !S_ISREG(st.st_mode))
		ret = open_in_place(out, name);
	else
		ret = open_replacement(out, name);
	if (ret) {
		vmt_outfile_free(out);
		out->fd = -1;
	}
	return ret;
}

FILE *vmt_outfile_stream(struct vmt_outfile *out)
{
	if (!out->stream)
		out->stream = out->fd == STDOUT_FILENO ? stdout : fdopen(out->fd, "w");
	return out->stream;
}

const char *vmt_outfile_label(const struct vmt_outfile *out)
{
	return is_stdout_name(out->name) ? "<stdout>" : out->name;
}

/* Flush and close; standard output is only flushed (the tool closes it last). */
static int close_output(struct vmt_outfile *out)
{
	int ret = 0;

	if (out->stream && (fflush(out->stream) != 0 || ferror(out->stream)))
		ret = errno ? -errno : -EIO;
	if (out->tmp && !ret && fsync(out->fd) < 0)
		ret = -errno;
	if (out->fd != STDOUT_FILENO) {
		if (out->stream ? fclose(out->stream) != 0 : close(out->fd) < 0)
			ret = ret ? ret : -errno;
	}
	out->stream = NULL;
	out->fd = -1;
	return ret;
}

/* rename() that fails with EEXIST instead of replacing a file. */
static int rename_no_replace(const char *from, const char *to)
{
	if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -errno;
	/* A file system without RENAME_NOREPLACE: link() refuses an existing name too. */
	if (link(from, to) < 0)
		return -errno;
	return unlink(from) < 0 ? -errno : 0;
}

/* rename() over the file seen at open time, and only over that one. */
static int rename_over_original(const struct vmt_outfile *out)
{
	struct stat st;

	if (lstat(out->path, &st) < 0)
		return errno == ENOENT ? rename_no_replace(out->tmp, out->path) : -errno;
	if (st.st_dev != out->dev || st.st_ino != out->ino)
		return -EEXIST;
	return rename(out->tmp, out->path) < 0 ? -errno : 0;
}

/* The rename itself is only durable once the directory is on disk too. */
static void sync_directory(const char *path)
{
	char *dir = dir_of(path);
	int fd = dir ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;

	free(dir);
	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
}

int vmt_outfile_commit(struct vmt_outfile *out)
{
	int ret = close_output(out);

	if (!out->tmp)
		return ret;
	if (!ret)
		ret = out->existed ? rename_over_original(out)
				   : rename_no_replace(out->tmp, out->path);
	if (ret == -EEXIST)
		return ret;
	if (ret) {
		unlink(out->tmp);
	} else {
		sync_directory(out->path);
	}
	free(out->tmp);
	out->tmp = NULL;
	return ret;
}

void vmt_outfile_abort(struct vmt_outfile *out)
{
	if (out->fd < 0)
		return;
	if (out->fd != STDOUT_FILENO) {
		if (out->stream)
			fclose(out->stream);
		else
			close(out->fd);
	}
	out->stream = NULL;
	out->fd = -1;
	if (out->tmp) {
		unlink(out->tmp);
		free(out->tmp);
		out->tmp = NULL;
	}
}

void vmt_outfile_free(struct vmt_outfile *out)
{
	free(out->path);
	free(out->tmp);
	out->path = NULL;
	out->tmp = NULL;
}

struct file_identity {
	bool exists;
	dev_t dev;
	ino_t ino;
	char *path;
};

static int identify(const char *name, struct file_identity *id)
{
	struct stat st;
	int ret;

	*id = (struct file_identity){ 0 };
	if (inherited_fd(name) >= 0)
		ret = fstat(inherited_fd(name), &st);
	else
		ret = is_stdout_name(name) ? fstat(STDOUT_FILENO, &st) : stat(name, &st);
	if (ret == 0) {
		id->exists = true;
		id->dev = st.st_dev;
		id->ino = st.st_ino;
		return 0;
	}
	if (is_stdout_name(name) || inherited_fd(name) >= 0)
		return -errno;
	return resolve_path(name, &id->path);
}

bool vmt_outfile_same(const char *a, const char *b)
{
	struct file_identity ia, ib;
	bool same = false;

	if (identify(a, &ia) == 0 && identify(b, &ib) == 0) {
		if (ia.exists && ib.exists)
			same = ia.dev == ib.dev && ia.ino == ib.ino;
		else if (!ia.exists && !ib.exists)
			same = strcmp(ia.path, ib.path) == 0;
		free(ib.path);
	}
	free(ia.path);
	return same;
}
