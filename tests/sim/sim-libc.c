// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libvfiosim libc wrappers: the whole open/close/ioctl/read/write/poll/dup/
 * stat/readlink/realpath family, so nothing slips past (the lesson of kmod's
 * testsuite). Each wrapper decides whether its fd or path belongs to the
 * simulated kernel; if not it calls the real function from dlsym(RTLD_NEXT).
 *
 * glibc 2.33+ exports stat/lstat/fstat/fstatat as real symbols (no __xstat);
 * _FORTIFY_SOURCE callers reach __open_2, __read_chk, __pread_chk,
 * __readlink_chk, __realpath_chk, __poll_chk and __ppoll_chk instead, and
 * fopen/opendir/realpath use glibc-internal opens, so those are wrapped too.
 */
#undef _FORTIFY_SOURCE
#ifdef _FILE_OFFSET_BITS
#undef _FILE_OFFSET_BITS
#endif

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "common/c.h"
#include "sim.h"

#define SIM_FD_MAX 65536

/*
 * libc declares path arguments nonnull, so gcc would drop our NULL checks;
 * a buggy caller must get the real function's EFAULT, not a crash here.
 */
#define LAUNDER(p)                      \
	({                              \
		const char *l_ = (p);   \
		__asm__("" : "+r"(l_)); \
		l_;                     \
	})
#define IS_ABS(p) (LAUNDER(p) && (p)[0] == '/')

/* fd -> simulated object; entries are only changed under sim_lock. */
static struct sim_obj *fdtab[SIM_FD_MAX];
static int fd_high = -1;
pthread_mutex_t sim_lock = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
static bool sim_ready;

/* ---- the real functions ---- */

#define REAL_DECL(name) static __typeof__(name) *real_##name
#define REAL(name) ((__typeof__(name) *)real_get((void **)&real_##name, #name))

static void *real_get(void **slot, const char *name)
{
	void *p = __atomic_load_n(slot, __ATOMIC_ACQUIRE);

	if (p)
		return p;
	p = dlsym(RTLD_NEXT, name);

	if (!p) {
		static const char msg[] =
			"libvfiosim: dlsym(RTLD_NEXT) failed for a libc function\n";

		if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0) {
			/* nothing more to say */
		}
		abort();
	}
	__atomic_store_n(slot, p, __ATOMIC_RELEASE);
	return p;
}

/* Fortified entry points glibc declares only under _FORTIFY_SOURCE. */
int __open_2(const char *path, int flags);
int __open64_2(const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags);
int __openat64_2(int dirfd, const char *path, int flags);
ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen);
ssize_t __pread_chk(int fd, void *buf, size_t n, off_t off, size_t buflen);
ssize_t __pread64_chk(int fd, void *buf, size_t n, off64_t off, size_t buflen);
ssize_t __readlink_chk(const char *path, char *buf, size_t len, size_t buflen);
ssize_t __readlinkat_chk(int dirfd, const char *path, char *buf, size_t len, size_t buflen);
char *__realpath_chk(const char *path, char *resolved, size_t resolvedlen);
int __poll_chk(struct pollfd *fds, nfds_t nfds, int timeout, size_t fdslen);
int __ppoll_chk(struct pollfd *fds, nfds_t nfds, const struct timespec *tmo, const sigset_t *ss,
		size_t fdslen);

REAL_DECL(open);
REAL_DECL(open64);
REAL_DECL(openat);
REAL_DECL(openat64);
REAL_DECL(fopen);
REAL_DECL(fopen64);
REAL_DECL(opendir);
REAL_DECL(close);
REAL_DECL(close_range);
REAL_DECL(dup);
REAL_DECL(dup2);
REAL_DECL(dup3);
REAL_DECL(fcntl);
REAL_DECL(ioctl);
REAL_DECL(read);
REAL_DECL(readv);
REAL_DECL(write);
REAL_DECL(writev);
REAL_DECL(pread);
REAL_DECL(pread64);
REAL_DECL(pwrite);
REAL_DECL(pwrite64);
REAL_DECL(lseek);
REAL_DECL(lseek64);
REAL_DECL(poll);
REAL_DECL(ppoll);
REAL_DECL(stat);
REAL_DECL(stat64);
REAL_DECL(lstat);
REAL_DECL(lstat64);
REAL_DECL(fstat);
REAL_DECL(fstat64);
REAL_DECL(fstatat);
REAL_DECL(fstatat64);
REAL_DECL(statx);
REAL_DECL(access);
REAL_DECL(faccessat);
REAL_DECL(euidaccess);
REAL_DECL(readlink);
REAL_DECL(readlinkat);
REAL_DECL(realpath);
REAL_DECL(splice);
REAL_DECL(sendfile);
REAL_DECL(sendfile64);
REAL_DECL(copy_file_range);

/* ---- fd table ---- */

struct sim_obj *sim_fd_get(int fd)
{
	if (fd < 0 || fd >= SIM_FD_MAX)
		return NULL;
	return __atomic_load_n(&fdtab[fd], __ATOMIC_ACQUIRE);
}

/*
 * The object behind fd with a reference that keeps it alive while the
 * caller uses it without sim_lock (another thread may close fd meanwhile);
 * give it back with sim_obj_drop. NULL when fd is not simulated.
 */
static struct sim_obj *sim_fd_hold(int fd)
{
	struct sim_obj *obj;

	if (!sim_fd_get(fd))
		return NULL; /* the common case, a real fd: no lock */
	pthread_mutex_lock(&sim_lock);
	obj = sim_fd_get(fd);
	if (obj)
		obj->refs++;
	pthread_mutex_unlock(&sim_lock);
	return obj;
}

static void sim_obj_drop(struct sim_obj *obj)
{
	pthread_mutex_lock(&sim_lock);
	sim_obj_put(obj);
	pthread_mutex_unlock(&sim_lock);
}

/* the kind of the object behind fd, 0 when fd is not simulated */
static enum sim_kind sim_fd_kind(int fd)
{
	struct sim_obj *obj;
	enum sim_kind kind = 0;

	if (!sim_fd_get(fd))
		return 0;
	pthread_mutex_lock(&sim_lock);
	obj = sim_fd_get(fd);
	if (obj)
		kind = obj->kind;
	pthread_mutex_unlock(&sim_lock);
	return kind;
}

static void fd_set_obj(int fd, struct sim_obj *obj)
{
	__atomic_store_n(&fdtab[fd], obj, __ATOMIC_RELEASE);
	if (obj && fd > fd_high)
		fd_high = fd;
}

static void obj_readiness_fd_gone(struct sim_obj *obj, int fd)
{
	if (obj->ready_fd != fd)
		return;
	obj->ready_fd = -1;
	for (int i = 0; i <= fd_high; i++) {
		if (fdtab[i] == obj && i != fd) {
			obj->ready_fd = i;
			break;
		}
	}
}

/*
 * Mirror readability on the backing eventfd so the real poll/select/epoll
 * see it (the counter is 1 when readable, 0 when not).
 */
void sim_obj_set_ready(struct sim_obj *obj, bool ready)
{
	uint64_t v = 1;
	int saved = errno;

	if (obj->ready == ready || obj->ready_fd < 0)
		return;
	if (ready) {
		if (REAL(write)(obj->ready_fd, &v, sizeof(v)) == sizeof(v))
			obj->ready = true;
	} else {
		if (REAL(read)(obj->ready_fd, &v, sizeof(v)) == sizeof(v))
			obj->ready = false;
	}
	errno = saved;
}

/*
 * Device fds are memfds named "vfiosim-dev:vfioN" holding a small record
 * (sim_obj_record): after exec the new image's constructor finds them in
 * /proc/self/fd and knows them again (a VMM handing its device fd to a tool
 * as fd:N). Data fds are eventfds, whose counter mirrors readability.
 */
int sim_fd_install(struct sim_obj *obj, int flags)
{
	int fd;

	if (obj->kind == SIM_K_DEVFILE) {
		char name[SIM_NAME_MAX + 16];

		snprintf(name, sizeof(name), "vfiosim-dev:%s",
			 ((struct sim_devfile *)obj)->dev->cfg->name);
		fd = memfd_create(name, (flags & O_CLOEXEC) ? MFD_CLOEXEC : 0);
	} else {
		fd = eventfd(0, (flags & O_CLOEXEC) ? EFD_CLOEXEC : 0);
	}
	if (fd < 0)
		return -errno;
	if (fd >= SIM_FD_MAX) {
		REAL(close)(fd);
		return -EMFILE;
	}
	pthread_mutex_lock(&sim_lock);
	obj->refs++;
	if (obj->ready_fd < 0) {
		obj->ready_fd = fd;
		obj->ready = false;
	}
	fd_set_obj(fd, obj);
	if (obj->kind == SIM_K_DEVFILE && obj->ready_fd == fd)
		sim_devfile_record((struct sim_devfile *)obj);
	pthread_mutex_unlock(&sim_lock);
	return fd;
}

void sim_obj_record(struct sim_obj *obj, const char *text)
{
	int saved = errno;

	if (obj->ready_fd >= 0 && REAL(pwrite)(obj->ready_fd, text, strlen(text) + 1, 0) < 0) {
		/* the record only matters after an exec */
	}
	errno = saved;
}

void sim_obj_put(struct sim_obj *obj)
{
	if (--obj->refs)
		return;
	switch (obj->kind) {
	case SIM_K_DEVFILE:
		sim_devfile_release((struct sim_devfile *)obj);
		break;
	case SIM_K_GROUP:
		sim_group_release((struct sim_group *)obj);
		break;
	case SIM_K_CONTAINER:
		sim_container_release((struct sim_container *)obj);
		break;
	case SIM_K_IOMMUFD:
		sim_ictx_release((struct sim_ictx *)obj);
		break;
	case SIM_K_MIGF:
		sim_migf_release((struct sim_migf *)obj);
		break;
	}
}

/* Drop the table entry of fd (about to be closed or replaced). Lock held. */
static void fd_forget(int fd)
{
	struct sim_obj *obj = sim_fd_get(fd);

	if (!obj)
		return;
	fd_set_obj(fd, NULL);
	obj_readiness_fd_gone(obj, fd);
	sim_trace("close fd %d (kind %d)", fd, obj->kind);
	sim_obj_put(obj);
}

static int fd_mirror(int oldfd, int newfd)
{
	struct sim_obj *obj;

	if (newfd < 0 || newfd == oldfd)
		return newfd;
	pthread_mutex_lock(&sim_lock);
	obj = sim_fd_get(oldfd);
	if (obj && newfd < SIM_FD_MAX) {
		obj->refs++;
		fd_set_obj(newfd, obj);
		if (obj->ready_fd < 0)
			obj->ready_fd = newfd;
	}
	pthread_mutex_unlock(&sim_lock);
	return newfd;
}

static int set_errno(int neg)
{
	if (neg < 0) {
		errno = -neg;
		return -1;
	}
	return neg;
}

/* ---- init ---- */

static void sim_write_initial_states(void)
{
	for (unsigned int i = 0; i < sim_cfg.nr_dev; i++) {
		char path[4200];
		struct stat st;

		if (!sim_cfg.state_dir[0])
			return;
		snprintf(path, sizeof(path), "%s/%s.state", sim_cfg.state_dir, sim_cfg.dev[i].name);
		if (REAL(stat)(path, &st))
			sim_dev_write_state(&sim_devs[i]);
	}
}

/* Adopted objects are never freed (see below); kept reachable here. */
struct sim_obj *sim_adopted[256];
static unsigned int nr_adopted;

/* Device fds inherited through exec: see sim_fd_install. */
static void sim_adopt_inherited_fds(void)
{
	DIR *dir = REAL(opendir)("/proc/self/fd");
	struct dirent *de;

	if (!dir)
		return;
	while ((de = readdir(dir))) {
		char link[PATH_MAX], path[64], rec[128] = "", devname[SIM_NAME_MAX];
		int fd = atoi(de->d_name), bound = 0, group = 0;
		unsigned int index;
		struct sim_obj *obj;
		struct sim_dev *dev;
		ssize_t n;

		if (de->d_name[0] == '.' || fd < 0 || fd >= SIM_FD_MAX || fd == dirfd(dir))
			continue;
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		n = REAL(readlink)(path, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = '\0';
		if (sscanf(link, "/memfd:vfiosim-dev:%63[a-z0-9]", devname) != 1 ||
		    sscanf(devname, "vfio%u", &index) != 1)
			continue;
		dev = sim_dev_by_index(index);
		if (!dev || REAL(pread)(fd, rec, sizeof(rec) - 1, 0) <= 0 ||
		    sscanf(rec, "vfiosim1 bound=%d group=%d", &bound, &group) != 2)
			continue;
		obj = sim_devfile_adopt(dev, bound, group);
		if (!obj)
			continue;
		/*
		 * Plus one reference for whoever passed it (a VMM keeps its copy):
		 * this process's exit does not close the device, the state file
		 * keeps the state the tool left.
		 */
		obj->refs += 2;
		if (nr_adopted < ARRAY_SIZE(sim_adopted))
			sim_adopted[nr_adopted++] = obj;
		obj->ready_fd = fd;
		fd_set_obj(fd, obj);
		sim_trace("adopted fd %d: %s (bound %d, group %d)", fd, devname, bound, group);
	}
	closedir(dir);
}

static pid_t sim_pid;

/*
 * In a forked child the inherited fds are copies: the kernel keeps the files
 * open while the parent holds them, so the child's close must never be the
 * last one. Give every inherited object one reference the child never drops.
 */
static void sim_atfork_child(void)
{
	for (int fd = 0; fd <= fd_high; fd++) {
		if (fdtab[fd])
			fdtab[fd]->refs++;
	}
}

__attribute__((constructor)) static void sim_init(void)
{
	if (sim_config_load())
		_exit(125);
	for (unsigned int i = 0; i < sim_cfg.nr_dev; i++) {
		struct sim_dev *d = &sim_devs[i];

		memset(d, 0, sizeof(*d));
		d->cfg = &sim_cfg.dev[i];
		d->state = VFIO_DEVICE_STATE_RUNNING;
		d->last_state = VFIO_DEVICE_STATE_RUNNING;
		d->lock_fd = -1;
		d->load_verified = "none";
	}
	if (sim_sysfs_build()) {
		fprintf(stderr, "libvfiosim: cannot build the fake sysfs in %s: %s\n",
			sim_cfg.sysfs, strerror(errno));
		_exit(125);
	}
	sim_write_initial_states();
	sim_pid = getpid();
	pthread_atfork(NULL, NULL, sim_atfork_child);
	sim_adopt_inherited_fds();
	sim_ready = true;
}

/* The process ends: the kernel would close every fd, which resets devices. */
__attribute__((destructor)) static void sim_fini(void)
{
	/* a forked child exiting: its parent still holds the devices */
	if (!sim_ready || getpid() != sim_pid)
		return;
	pthread_mutex_lock(&sim_lock);
	for (int fd = 0; fd <= fd_high; fd++) {
		if (fdtab[fd])
			fd_forget(fd);
	}
	pthread_mutex_unlock(&sim_lock);
}

/* ---- open ---- */

static int open_devnode(enum sim_devnode node, unsigned int num, int flags)
{
	struct sim_obj *obj = NULL;
	int err = 0, fd;

	pthread_mutex_lock(&sim_lock);
	switch (node) {
	case SIM_NODE_IOMMU:
		obj = sim_ictx_new();
		break;
	case SIM_NODE_CONTAINER:
		obj = sim_container_new();
		break;
	case SIM_NODE_GROUP:
		obj = sim_group_new(sim_dev_by_group(num), &err);
		break;
	case SIM_NODE_CDEV:
		obj = sim_devfile_new(sim_dev_by_index(num), false, &err);
		break;
	default:
		err = ENOENT;
		break;
	}
	pthread_mutex_unlock(&sim_lock);
	if (!obj) {
		errno = err ? err : ENOMEM;
		return -1;
	}
	fd = sim_fd_install(obj, flags);
	if (fd < 0) {
		pthread_mutex_lock(&sim_lock);
		obj->refs++;
		sim_obj_put(obj);
		pthread_mutex_unlock(&sim_lock);
		return set_errno(fd);
	}
	sim_trace("open node %d/%u -> fd %d", node, num, fd);
	return fd;
}

/*
 * 1: handled (result in *ret), 0: not ours; *redir set when the path must be
 * opened at another place.
 */
static int sim_open_path(const char *path, int flags, int *ret, char *redir, size_t rlen)
{
	unsigned int num = 0;
	enum sim_devnode node;

	redir[0] = '\0';
	if (!sim_ready || !path)
		return 0;
	node = sim_devnode_lookup(path, &num);
	if (node != SIM_NODE_NONE && node != SIM_NODE_DIR_VFIO && node != SIM_NODE_DIR_DEVICES) {
		*ret = open_devnode(node, num, flags);
		return 1;
	}
	if (sim_sysfs_redirect(path, redir, rlen))
		sim_trace("redirect %s -> %s", path, redir);
	return 0;
}

static mode_t open_mode(int flags, va_list ap)
{
	if (flags & (O_CREAT | __O_TMPFILE))
		return (mode_t)va_arg(ap, int);
	return 0;
}

#define OPEN_BODY(realfn, path, flags, mode)                                   \
	do {                                                                   \
		char redir_[PATH_MAX];                                         \
		int ret_;                                                      \
		if (sim_open_path(path, flags, &ret_, redir_, sizeof(redir_))) \
			return ret_;                                           \
		return realfn(redir_[0] ? redir_ : (path), flags, mode);       \
	} while (0)

int open(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	OPEN_BODY(REAL(open), path, flags, mode);
}

int open64(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	OPEN_BODY(REAL(open64), path, flags, mode);
}

int __open_2(const char *path, int flags)
{
	OPEN_BODY(REAL(open), path, flags, 0);
}

int __open64_2(const char *path, int flags)
{
	OPEN_BODY(REAL(open64), path, flags, 0);
}

#define OPENAT_BODY(realfn, dirfd, path, flags, mode)                                          \
	do {                                                                                   \
		char redir_[PATH_MAX];                                                         \
		int ret_;                                                                      \
		if (IS_ABS(path) && sim_open_path(path, flags, &ret_, redir_, sizeof(redir_))) \
			return ret_;                                                           \
		if (!IS_ABS(path))                                                             \
			redir_[0] = '\0';                                                      \
		return realfn(dirfd, redir_[0] ? redir_ : (path), flags, mode);                \
	} while (0)

int openat(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	OPENAT_BODY(REAL(openat), dirfd, path, flags, mode);
}

int openat64(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	OPENAT_BODY(REAL(openat64), dirfd, path, flags, mode);
}

int __openat_2(int dirfd, const char *path, int flags)
{
	OPENAT_BODY(REAL(openat), dirfd, path, flags, 0);
}

int __openat64_2(int dirfd, const char *path, int flags)
{
	OPENAT_BODY(REAL(openat64), dirfd, path, flags, 0);
}

static const char *redirect_or_same(const char *path, char *buf, size_t len)
{
	if (sim_ready && sim_sysfs_redirect(path, buf, len))
		return buf;
	return path;
}

FILE *fopen(const char *path, const char *mode)
{
	char buf[PATH_MAX];

	return REAL(fopen)(redirect_or_same(path, buf, sizeof(buf)), mode);
}

FILE *fopen64(const char *path, const char *mode)
{
	char buf[PATH_MAX];

	return REAL(fopen64)(redirect_or_same(path, buf, sizeof(buf)), mode);
}

DIR *opendir(const char *path)
{
	char buf[PATH_MAX];

	return REAL(opendir)(redirect_or_same(path, buf, sizeof(buf)));
}

/* ---- close and dup ---- */

int close(int fd)
{
	if (sim_fd_get(fd)) {
		pthread_mutex_lock(&sim_lock);
		fd_forget(fd); /* no-op when another thread closed it first */
		pthread_mutex_unlock(&sim_lock);
	}
	return REAL(close)(fd);
}

int close_range(unsigned int first, unsigned int last, int flags)
{
	if (!(flags & CLOSE_RANGE_CLOEXEC)) {
		pthread_mutex_lock(&sim_lock);
		for (unsigned int fd = first; fd <= last && (int)fd <= fd_high; fd++) {
			if (fdtab[fd])
				fd_forget((int)fd);
		}
		pthread_mutex_unlock(&sim_lock);
	}
	return REAL(close_range)(first, last, flags);
}

int dup(int fd)
{
	return fd_mirror(fd, REAL(dup)(fd));
}

int dup2(int oldfd, int newfd)
{
	int r;

	if (oldfd != newfd && sim_fd_get(newfd) && fcntl(oldfd, F_GETFD) >= 0) {
		pthread_mutex_lock(&sim_lock);
		fd_forget(newfd);
		pthread_mutex_unlock(&sim_lock);
	}
	r = REAL(dup2)(oldfd, newfd);
	return fd_mirror(oldfd, r);
}

int dup3(int oldfd, int newfd, int flags)
{
	int r;

	if (oldfd != newfd && sim_fd_get(newfd) && fcntl(oldfd, F_GETFD) >= 0) {
		pthread_mutex_lock(&sim_lock);
		fd_forget(newfd);
		pthread_mutex_unlock(&sim_lock);
	}
	r = REAL(dup3)(oldfd, newfd, flags);
	return fd_mirror(oldfd, r);
}

static int fcntl_common(int fd, int cmd, va_list ap)
{
	switch (cmd) {
	case F_DUPFD:
	case F_DUPFD_CLOEXEC:
	case F_SETFD:
	case F_SETFL:
	case F_SETOWN:
	case F_SETSIG:
	case F_SETLEASE:
	case F_NOTIFY:
	case F_SETPIPE_SZ:
	case F_ADD_SEALS: {
		int arg = va_arg(ap, int);
		int r = REAL(fcntl)(fd, cmd, arg);

		if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC)
			return fd_mirror(fd, r);
		return r;
	}
	case F_GETFD:
	case F_GETFL:
	case F_GETOWN:
	case F_GETSIG:
	case F_GETLEASE:
	case F_GETPIPE_SZ:
	case F_GET_SEALS:
		return REAL(fcntl)(fd, cmd);
	default:
		return REAL(fcntl)(fd, cmd, va_arg(ap, void *));
	}
}

int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	int r;

	va_start(ap, cmd);
	r = fcntl_common(fd, cmd, ap);
	va_end(ap);
	return r;
}

int fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	int r;

	va_start(ap, cmd);
	r = fcntl_common(fd, cmd, ap);
	va_end(ap);
	return r;
}

/* ---- ioctl ---- */

int ioctl(int fd, unsigned long req, ...)
{
	struct sim_obj *obj;
	va_list ap;
	void *arg;
	int r;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (!sim_fd_get(fd))
		return REAL(ioctl)(fd, req, arg);
	/* looked up again under the lock: another thread may have closed fd */
	pthread_mutex_lock(&sim_lock);
	obj = sim_fd_get(fd);
	if (!obj) {
		pthread_mutex_unlock(&sim_lock);
		return REAL(ioctl)(fd, req, arg);
	}
	/* every simulated ioctl but these few takes a pointer: NULL is EFAULT */
	if (!arg && obj->kind != SIM_K_CONTAINER && req != VFIO_DEVICE_RESET &&
	    req != VFIO_GROUP_UNSET_CONTAINER) {
		pthread_mutex_unlock(&sim_lock);
		errno = EFAULT;
		return -1;
	}
	switch (obj->kind) {
	case SIM_K_DEVFILE:
		r = sim_devfile_ioctl((struct sim_devfile *)obj, req, arg);
		break;
	case SIM_K_GROUP:
		r = sim_group_ioctl((struct sim_group *)obj, req, arg);
		break;
	case SIM_K_CONTAINER:
		r = sim_container_ioctl((struct sim_container *)obj, req, arg);
		break;
	case SIM_K_IOMMUFD:
		r = sim_ictx_ioctl((struct sim_ictx *)obj, req, arg);
		break;
	case SIM_K_MIGF:
		r = sim_migf_ioctl((struct sim_migf *)obj, req, arg);
		break;
	default:
		r = -ENOTTY;
		break;
	}
	pthread_mutex_unlock(&sim_lock);
	sim_trace("ioctl fd %d req %#lx -> %d", fd, req, r);
	return set_errno(r);
}

/* ---- read and write ---- */

ssize_t read(int fd, void *buf, size_t n)
{
	struct sim_obj *obj = sim_fd_hold(fd);
	ssize_t r;

	if (!obj)
		return REAL(read)(fd, buf, n);
	if (obj->kind != SIM_K_MIGF) {
		/* device regions, iommufd, groups: no read we model */
		sim_obj_drop(obj);
		errno = EINVAL;
		return -1;
	}
	r = sim_migf_read((struct sim_migf *)obj, buf, n, fd);
	sim_obj_drop(obj);
	return r < 0 ? set_errno((int)r) : r;
}

ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen)
{
	if (n > buflen)
		abort();
	return read(fd, buf, n);
}

ssize_t readv(int fd, const struct iovec *iov, int cnt)
{
	struct sim_obj *obj = sim_fd_hold(fd);
	ssize_t r;

	if (!obj)
		return REAL(readv)(fd, iov, cnt);
	if (obj->kind != SIM_K_MIGF) {
		sim_obj_drop(obj);
		errno = EINVAL;
		return -1;
	}
	r = sim_migf_readv((struct sim_migf *)obj, iov, cnt, fd);
	sim_obj_drop(obj);
	return r < 0 ? set_errno((int)r) : r;
}

ssize_t write(int fd, const void *buf, size_t n)
{
	struct sim_obj *obj = sim_fd_hold(fd);
	ssize_t r;

	if (!obj)
		return REAL(write)(fd, buf, n);
	if (obj->kind != SIM_K_MIGF) {
		sim_obj_drop(obj);
		errno = EINVAL;
		return -1;
	}
	r = sim_migf_write((struct sim_migf *)obj, buf, n);
	sim_obj_drop(obj);
	return r < 0 ? set_errno((int)r) : r;
}

ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
	struct sim_obj *obj = sim_fd_hold(fd);
	ssize_t r;

	if (!obj)
		return REAL(writev)(fd, iov, cnt);
	if (obj->kind != SIM_K_MIGF) {
		sim_obj_drop(obj);
		errno = EINVAL;
		return -1;
	}
	r = sim_migf_writev((struct sim_migf *)obj, iov, cnt);
	sim_obj_drop(obj);
	return r < 0 ? set_errno((int)r) : r;
}

/*
 * Positioned I/O: the migration files are streams (mtty_save_read and
 * mtty_resume_write return -ESPIPE when given a position); device region
 * access is not modelled.
 */
static ssize_t positioned_io_error(enum sim_kind kind)
{
	errno = kind == SIM_K_MIGF ? ESPIPE : EINVAL;
	return -1;
}

ssize_t pread(int fd, void *buf, size_t n, off_t off)
{
	enum sim_kind kind = sim_fd_kind(fd);

	if (kind)
		return positioned_io_error(kind);
	return REAL(pread)(fd, buf, n, off);
}

ssize_t pread64(int fd, void *buf, size_t n, off64_t off)
{
	enum sim_kind kind = sim_fd_kind(fd);

	if (kind)
		return positioned_io_error(kind);
	return REAL(pread64)(fd, buf, n, off);
}

ssize_t __pread_chk(int fd, void *buf, size_t n, off_t off, size_t buflen)
{
	if (n > buflen)
		abort();
	return pread(fd, buf, n, off);
}

ssize_t __pread64_chk(int fd, void *buf, size_t n, off64_t off, size_t buflen)
{
	if (n > buflen)
		abort();
	return pread64(fd, buf, n, off);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	enum sim_kind kind = sim_fd_kind(fd);

	if (kind)
		return positioned_io_error(kind);
	return REAL(pwrite)(fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off64_t off)
{
	enum sim_kind kind = sim_fd_kind(fd);

	if (kind)
		return positioned_io_error(kind);
	return REAL(pwrite64)(fd, buf, n, off);
}

off_t lseek(int fd, off_t off, int whence)
{
	if (sim_fd_get(fd)) {
		errno = ESPIPE;
		return -1;
	}
	return REAL(lseek)(fd, off, whence);
}

off64_t lseek64(int fd, off64_t off, int whence)
{
	if (sim_fd_get(fd)) {
		errno = ESPIPE;
		return -1;
	}
	return REAL(lseek64)(fd, off, whence);
}

/* The kernel's migration files have no splice_read/splice_write. */
static bool any_sim(int a, int b)
{
	return sim_fd_get(a) || sim_fd_get(b);
}

ssize_t splice(int in, off64_t *inoff, int out, off64_t *outoff, size_t len, unsigned int fl)
{
	if (any_sim(in, out)) {
		errno = EINVAL;
		return -1;
	}
	return REAL(splice)(in, inoff, out, outoff, len, fl);
}

ssize_t sendfile(int out, int in, off_t *off, size_t count)
{
	if (any_sim(in, out)) {
		errno = EINVAL;
		return -1;
	}
	return REAL(sendfile)(out, in, off, count);
}

ssize_t sendfile64(int out, int in, off64_t *off, size_t count)
{
	if (any_sim(in, out)) {
		errno = EINVAL;
		return -1;
	}
	return REAL(sendfile64)(out, in, off, count);
}

ssize_t copy_file_range(int in, off64_t *inoff, int out, off64_t *outoff, size_t len,
			unsigned int fl)
{
	if (any_sim(in, out)) {
		errno = EINVAL;
		return -1;
	}
	return REAL(copy_file_range)(in, inoff, out, outoff, len, fl);
}

/* ---- poll ---- */

/*
 * Refresh the readiness of the data fds in the set. Nothing becomes ready by
 * itself afterwards (sim_migf_poll), so one real poll on the backing
 * eventfds answers.
 */
static void poll_refresh(struct pollfd *fds, nfds_t nfds)
{
	for (nfds_t i = 0; i < nfds; i++) {
		struct sim_obj *obj;

		if (!sim_fd_get(fds[i].fd))
			continue;
		pthread_mutex_lock(&sim_lock);
		obj = sim_fd_get(fds[i].fd);
		if (obj && obj->kind == SIM_K_MIGF)
			sim_migf_poll((struct sim_migf *)obj);
		pthread_mutex_unlock(&sim_lock);
	}
}

static int poll_refreshed(struct pollfd *fds, nfds_t nfds, int64_t timeout_ms,
			  const sigset_t *sigmask)
{
	struct timespec ts;

	poll_refresh(fds, nfds);
	if (!sigmask && timeout_ms <= INT32_MAX)
		return REAL(poll)(fds, nfds, (int)timeout_ms);
	ts.tv_sec = timeout_ms / 1000;
	ts.tv_nsec = (timeout_ms % 1000) * 1000000L;
	return REAL(ppoll)(fds, nfds, timeout_ms < 0 ? NULL : &ts, sigmask);
}

static bool has_sim_fd(const struct pollfd *fds, nfds_t nfds)
{
	for (nfds_t i = 0; i < nfds; i++) {
		if (sim_fd_get(fds[i].fd))
			return true;
	}
	return false;
}

int poll(struct pollfd *fds, nfds_t nfds, int timeout)
{
	if (!has_sim_fd(fds, nfds))
		return REAL(poll)(fds, nfds, timeout);
	return poll_refreshed(fds, nfds, timeout, NULL);
}

int __poll_chk(struct pollfd *fds, nfds_t nfds, int timeout, size_t fdslen)
{
	if (fdslen / sizeof(*fds) < nfds)
		abort();
	return poll(fds, nfds, timeout);
}

int ppoll(struct pollfd *fds, nfds_t nfds, const struct timespec *tmo, const sigset_t *ss)
{
	int64_t ms = -1;

	if (!has_sim_fd(fds, nfds))
		return REAL(ppoll)(fds, nfds, tmo, ss);
	if (tmo)
		ms = (int64_t)tmo->tv_sec * 1000 + (tmo->tv_nsec + 999999) / 1000000;
	return poll_refreshed(fds, nfds, ms, ss);
}

int __ppoll_chk(struct pollfd *fds, nfds_t nfds, const struct timespec *tmo, const sigset_t *ss,
		size_t fdslen)
{
	if (fdslen / sizeof(*fds) < nfds)
		abort();
	return ppoll(fds, nfds, tmo, ss);
}

/* ---- stat and friends ---- */

static void fake_chr_stat(struct stat *st, unsigned int major_, unsigned int minor_)
{
	memset(st, 0, sizeof(*st));
	st->st_mode = S_IFCHR | 0600;
	st->st_nlink = 1;
	st->st_rdev = makedev(major_, minor_);
	st->st_dev = makedev(0, 5);
	st->st_ino = 1000 + minor_;
	st->st_blksize = 4096;
}

/* 1 handled; 0 not a node (maybe redirected into buf) */
static int stat_node(const char *path, struct stat *st, char *buf, size_t len, const char **use)
{
	unsigned int num = 0;
	enum sim_devnode node;

	*use = path;
	if (!sim_ready || !path)
		return 0;
	node = sim_devnode_lookup(path, &num);
	switch (node) {
	case SIM_NODE_IOMMU:
		fake_chr_stat(st, 10, 123);
		return 1;
	case SIM_NODE_CONTAINER:
		fake_chr_stat(st, 10, 196);
		return 1;
	case SIM_NODE_GROUP:
		fake_chr_stat(st, 509, num);
		return 1;
	case SIM_NODE_CDEV:
		fake_chr_stat(st, 511, num);
		return 1;
	default:
		break;
	}
	if (sim_sysfs_redirect(path, buf, len))
		*use = buf;
	return 0;
}

static void stat_to_64(const struct stat *st, struct stat64 *st64)
{
	memset(st64, 0, sizeof(*st64));
	st64->st_mode = st->st_mode;
	st64->st_nlink = st->st_nlink;
	st64->st_rdev = st->st_rdev;
	st64->st_dev = st->st_dev;
	st64->st_ino = st->st_ino;
	st64->st_blksize = st->st_blksize;
}

int stat(const char *path, struct stat *st)
{
	char buf[PATH_MAX];
	const char *use;

	if (stat_node(path, st, buf, sizeof(buf), &use))
		return 0;
	return REAL(stat)(use, st);
}

int lstat(const char *path, struct stat *st)
{
	char buf[PATH_MAX];
	const char *use;

	if (stat_node(path, st, buf, sizeof(buf), &use))
		return 0;
	return REAL(lstat)(use, st);
}

int stat64(const char *path, struct stat64 *st64)
{
	char buf[PATH_MAX];
	const char *use;
	struct stat st;

	if (stat_node(path, &st, buf, sizeof(buf), &use)) {
		stat_to_64(&st, st64);
		return 0;
	}
	return REAL(stat64)(use, st64);
}

int lstat64(const char *path, struct stat64 *st64)
{
	char buf[PATH_MAX];
	const char *use;
	struct stat st;

	if (stat_node(path, &st, buf, sizeof(buf), &use)) {
		stat_to_64(&st, st64);
		return 0;
	}
	return REAL(lstat64)(use, st64);
}

/* A device fd looks like the character device it was opened from. */
static int fstat_obj(struct sim_obj *obj, struct stat *st)
{
	switch (obj->kind) {
	case SIM_K_DEVFILE:
		fake_chr_stat(st, 511, ((struct sim_devfile *)obj)->dev->cfg->index);
		return 1;
	case SIM_K_GROUP:
		fake_chr_stat(st, 509, ((struct sim_group *)obj)->dev->cfg->group);
		return 1;
	case SIM_K_CONTAINER:
		fake_chr_stat(st, 10, 196);
		return 1;
	case SIM_K_IOMMUFD:
		fake_chr_stat(st, 10, 123);
		return 1;
	default:
		return 0; /* anon inode: the eventfd's own answer is right */
	}
}

/* fstat_obj of fd's object under the lock (fd may be closed meanwhile) */
static int fstat_fd(int fd, struct stat *st)
{
	struct sim_obj *obj;
	int r = 0;

	if (!sim_fd_get(fd))
		return 0;
	pthread_mutex_lock(&sim_lock);
	obj = sim_fd_get(fd);
	if (obj)
		r = fstat_obj(obj, st);
	pthread_mutex_unlock(&sim_lock);
	return r;
}

int fstat(int fd, struct stat *st)
{
	if (fstat_fd(fd, st))
		return 0;
	return REAL(fstat)(fd, st);
}

int fstat64(int fd, struct stat64 *st64)
{
	struct stat st;

	if (fstat_fd(fd, &st)) {
		stat_to_64(&st, st64);
		return 0;
	}
	return REAL(fstat64)(fd, st64);
}

int fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
	char buf[PATH_MAX];
	const char *use = path;

	if (LAUNDER(path) && !*path && (flags & AT_EMPTY_PATH))
		return fstat(dirfd, st);
	if (IS_ABS(path) && stat_node(path, st, buf, sizeof(buf), &use))
		return 0;
	return REAL(fstatat)(dirfd, use, st, flags);
}

int fstatat64(int dirfd, const char *path, struct stat64 *st64, int flags)
{
	char buf[PATH_MAX];
	const char *use = path;
	struct stat st;

	if (LAUNDER(path) && !*path && (flags & AT_EMPTY_PATH))
		return fstat64(dirfd, st64);
	if (IS_ABS(path) && stat_node(path, &st, buf, sizeof(buf), &use)) {
		stat_to_64(&st, st64);
		return 0;
	}
	return REAL(fstatat64)(dirfd, use, st64, flags);
}

int statx(int dirfd, const char *path, int flags, unsigned int mask, struct statx *stx)
{
	char buf[PATH_MAX];
	const char *use = path;
	struct stat st;

	if (IS_ABS(path) && stat_node(path, &st, buf, sizeof(buf), &use)) {
		memset(stx, 0, sizeof(*stx));
		stx->stx_mask = STATX_TYPE | STATX_MODE | STATX_NLINK | STATX_INO;
		stx->stx_mode = (uint16_t)st.st_mode;
		stx->stx_nlink = 1;
		stx->stx_ino = st.st_ino;
		stx->stx_rdev_major = major(st.st_rdev);
		stx->stx_rdev_minor = minor(st.st_rdev);
		stx->stx_blksize = 4096;
		return 0;
	}
	return REAL(statx)(dirfd, use, flags, mask, stx);
}

static int access_node(const char *path, const char **use, char *buf, size_t len)
{
	struct stat st;

	return stat_node(path, &st, buf, len, use);
}

int access(const char *path, int mode)
{
	char buf[PATH_MAX];
	const char *use;

	if (access_node(path, &use, buf, sizeof(buf)))
		return (mode & X_OK) ? (errno = EACCES, -1) : 0;
	return REAL(access)(use, mode);
}

int euidaccess(const char *path, int mode)
{
	char buf[PATH_MAX];
	const char *use;

	if (access_node(path, &use, buf, sizeof(buf)))
		return (mode & X_OK) ? (errno = EACCES, -1) : 0;
	return REAL(euidaccess)(use, mode);
}

int eaccess(const char *path, int mode)
{
	return euidaccess(path, mode);
}

int faccessat(int dirfd, const char *path, int mode, int flags)
{
	char buf[PATH_MAX];
	const char *use = path;

	if (IS_ABS(path) && access_node(path, &use, buf, sizeof(buf)))
		return (mode & X_OK) ? (errno = EACCES, -1) : 0;
	return REAL(faccessat)(dirfd, use, mode, flags);
}

/* ---- links and canonical names ---- */

ssize_t readlink(const char *path, char *out, size_t len)
{
	char buf[PATH_MAX];

	return REAL(readlink)(redirect_or_same(path, buf, sizeof(buf)), out, len);
}

ssize_t __readlink_chk(const char *path, char *out, size_t len, size_t buflen)
{
	if (len > buflen)
		abort();
	return readlink(path, out, len);
}

ssize_t readlinkat(int dirfd, const char *path, char *out, size_t len)
{
	char buf[PATH_MAX];

	if (IS_ABS(path))
		path = redirect_or_same(path, buf, sizeof(buf));
	return REAL(readlinkat)(dirfd, path, out, len);
}

ssize_t __readlinkat_chk(int dirfd, const char *path, char *out, size_t len, size_t buflen)
{
	if (len > buflen)
		abort();
	return readlinkat(dirfd, path, out, len);
}

char *realpath(const char *path, char *resolved)
{
	char buf[PATH_MAX];
	unsigned int num;
	const char *use;
	char *r;

	if (sim_ready && path && sim_devnode_lookup(path, &num) != SIM_NODE_NONE) {
		if (strlen(path) >= PATH_MAX) {
			errno = ENAMETOOLONG;
			return NULL;
		}
		if (!resolved) {
			resolved = malloc(PATH_MAX);
			if (!resolved)
				return NULL;
		}
		strcpy(resolved, path);
		return resolved;
	}
	use = redirect_or_same(path, buf, sizeof(buf));
	r = REAL(realpath)(use, resolved);
	if (r && use == buf)
		sim_sysfs_unredirect(r, PATH_MAX);
	return r;
}

char *__realpath_chk(const char *path, char *resolved, size_t resolvedlen)
{
	if (resolvedlen < PATH_MAX)
		abort();
	return realpath(path, resolved);
}

char *canonicalize_file_name(const char *path)
{
	return realpath(path, NULL);
}
