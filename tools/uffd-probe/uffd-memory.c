// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Test memory of each kind.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "uffd-memory.h"

#ifndef MFD_HUGETLB
#define MFD_HUGETLB 0x0004U
#endif

static const char *const kind_names[UFFD_MEM_KIND_COUNT] = {
	[UFFD_MEM_ANON] = "anon",
	[UFFD_MEM_SHMEM] = "shmem",
	[UFFD_MEM_HUGETLB] = "hugetlb",
	[UFFD_MEM_TMPFS_FILE] = "tmpfs-file",
};

const char *uffd_mem_kind_name(enum uffd_mem_kind kind)
{
	return kind < UFFD_MEM_KIND_COUNT ? kind_names[kind] : "?";
}

int uffd_mem_kind_parse(const char *name)
{
	for (int k = 0; k < UFFD_MEM_KIND_COUNT; k++)
		if (strcmp(name, kind_names[k]) == 0)
			return k;
	if (strcmp(name, "anonymous") == 0)
		return UFFD_MEM_ANON;
	if (strcmp(name, "memfd") == 0)
		return UFFD_MEM_SHMEM;
	if (strcmp(name, "hugetlbfs") == 0)
		return UFFD_MEM_HUGETLB;
	return -1;
}

void uffd_hugepages_read(struct uffd_hugepages *hp)
{
	FILE *f = fopen("/proc/meminfo", "re");
	char line[128];
	struct stat st;

	*hp = (struct uffd_hugepages){ .total = -1, .free = -1 };
	hp->sysfs = stat("/sys/kernel/mm/hugepages", &st) == 0;
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		long v;

		if (sscanf(line, "HugePages_Total: %ld", &v) == 1)
			hp->total = v;
		else if (sscanf(line, "HugePages_Free: %ld", &v) == 1)
			hp->free = v;
		else if (sscanf(line, "Hugepagesize: %ld kB", &v) == 1)
			hp->size = (size_t)v * 1024;
	}
	fclose(f);
}

static int map_shared_fd(struct uffd_mem *mem, char *reason, size_t reason_len)
{
	if (ftruncate(mem->fd, (off_t)mem->len)) {
		int err = errno;

		snprintf(reason, reason_len, "ftruncate: %s", strerror(err));
		return -err;
	}
	mem->addr = mmap(NULL, mem->len, PROT_READ | PROT_WRITE, MAP_SHARED, mem->fd, 0);
	if (mem->addr == MAP_FAILED) {
		int err = errno;

		mem->addr = NULL;
		snprintf(reason, reason_len, "mmap: %s", strerror(err));
		return -err;
	}
	/* The alias fills the page cache behind the registered mapping's back (MINOR). */
	mem->alias = mmap(NULL, mem->len, PROT_READ | PROT_WRITE, MAP_SHARED, mem->fd, 0);
	if (mem->alias == MAP_FAILED) {
		int err = errno;

		mem->alias = NULL;
		snprintf(reason, reason_len, "mmap (alias): %s", strerror(err));
		return -err;
	}
	return 0;
}

static int create_hugetlb(struct uffd_mem *mem, size_t pages, char *reason, size_t reason_len)
{
	struct uffd_hugepages hp;

	uffd_hugepages_read(&hp);
	if (!hp.sysfs || hp.size == 0) {
		snprintf(reason, reason_len,
			 "kernel without hugetlbfs (no /sys/kernel/mm/hugepages)");
		return -EOPNOTSUPP;
	}
	if (hp.total == 0) {
		snprintf(reason, reason_len, "no huge pages reserved (vm.nr_hugepages = 0)");
		return -EOPNOTSUPP;
	}
	if (hp.free >= 0 && hp.free < (long)pages) {
		snprintf(reason, reason_len, "only %ld free huge pages of %ld reserved", hp.free,
			 hp.total);
		return -EOPNOTSUPP;
	}
	mem->page_size = hp.size;
	mem->len = pages * hp.size;
	mem->fd = memfd_create("uffd-probe-hugetlb", MFD_CLOEXEC | MFD_HUGETLB);
	if (mem->fd < 0) {
		int err = errno;

		snprintf(reason, reason_len, "memfd_create(MFD_HUGETLB): %s", strerror(err));
		return err == EINVAL ? -EOPNOTSUPP : -err;
	}
	return map_shared_fd(mem, reason, reason_len);
}

static int create_tmpfs_file(struct uffd_mem *mem, const char *dir, char *reason, size_t reason_len)
{
	struct statfs sfs;
	char path[4096];

	if (statfs(dir, &sfs)) {
		int err = errno;

		snprintf(reason, reason_len, "%s: %s", dir, strerror(err));
		return -EOPNOTSUPP;
	}
	if (sfs.f_type != TMPFS_MAGIC) {
		snprintf(reason, reason_len, "%s is not on tmpfs", dir);
		return -EOPNOTSUPP;
	}
	snprintf(path, sizeof(path), "%s/uffd-probe.XXXXXX", dir);
	mem->fd = mkostemp(path, O_CLOEXEC);
	if (mem->fd < 0) {
		int err = errno;

		snprintf(reason, reason_len, "cannot create a file in %s: %s", dir, strerror(err));
		return -EOPNOTSUPP;
	}
	/* Nothing to clean up later, even if the probe is killed. */
	unlink(path);
	return map_shared_fd(mem, reason, reason_len);
}

int uffd_mem_create(enum uffd_mem_kind kind, size_t pages, const char *tmpfs_dir,
		    struct uffd_mem *mem, char *reason, size_t reason_len)
{
	int ret;

	*mem = (struct uffd_mem){
		.kind = kind,
		.fd = -1,
		.page_size = (size_t)sysconf(_SC_PAGESIZE),
	};
	mem->len = pages * mem->page_size;
	reason[0] = '\0';

	switch (kind) {
	case UFFD_MEM_ANON:
		mem->addr = mmap(NULL, mem->len, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (mem->addr == MAP_FAILED) {
			ret = -errno;
			mem->addr = NULL;
			snprintf(reason, reason_len, "mmap: %s", strerror(-ret));
			return ret;
		}
		return 0;
	case UFFD_MEM_SHMEM:
		mem->fd = memfd_create("uffd-probe", MFD_CLOEXEC);
		if (mem->fd < 0) {
			ret = -errno;
			snprintf(reason, reason_len, "memfd_create: %s", strerror(-ret));
			return ret;
		}
		ret = map_shared_fd(mem, reason, reason_len);
		break;
	case UFFD_MEM_HUGETLB:
		ret = create_hugetlb(mem, pages, reason, reason_len);
		break;
	case UFFD_MEM_TMPFS_FILE:
		ret = create_tmpfs_file(mem, tmpfs_dir ? tmpfs_dir : UFFD_DEFAULT_TMPFS_DIR, reason,
					reason_len);
		break;
	default:
		return -EINVAL;
	}
	if (ret)
		uffd_mem_destroy(mem);
	return ret;
}

void uffd_mem_destroy(struct uffd_mem *mem)
{
	if (mem->addr)
		munmap(mem->addr, mem->len);
	if (mem->alias)
		munmap(mem->alias, mem->len);
	if (mem->fd >= 0)
		close(mem->fd);
	mem->addr = mem->alias = NULL;
	mem->fd = -1;
}
