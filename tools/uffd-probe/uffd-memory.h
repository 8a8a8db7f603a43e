/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The memory kinds userfaultfd treats differently, created on demand and
 * torn down cleanly: private anonymous, shmem (memfd), hugetlbfs (memfd with
 * MFD_HUGETLB) and a shared mapping of a file on a tmpfs mount.
 */
#ifndef UFFD_PROBE_MEMORY_H
#define UFFD_PROBE_MEMORY_H

#include <stdbool.h>
#include <stddef.h>

enum uffd_mem_kind {
	UFFD_MEM_ANON,
	UFFD_MEM_SHMEM,
	UFFD_MEM_HUGETLB,
	UFFD_MEM_TMPFS_FILE,
	UFFD_MEM_KIND_COUNT,
};

#define UFFD_DEFAULT_TMPFS_DIR "/dev/shm"

struct uffd_mem {
	enum uffd_mem_kind kind;
	void *addr;  /* the mapping to register */
	void *alias; /* a second, unregistered mapping of the same pages (not anon) */
	size_t len;
	size_t page_size; /* base page, or the huge page size */
	int fd;		  /* -1 for anonymous memory */
};

/* "anon", "shmem", "hugetlb", "tmpfs-file" */
const char *uffd_mem_kind_name(enum uffd_mem_kind kind);
/* -1 when the name is not a kind. */
int uffd_mem_kind_parse(const char *name);

/*
 * Create pages pages of this kind. 0, -EOPNOTSUPP when the kind cannot be
 * tested here (no huge pages reserved, no tmpfs), with why in reason;
 * other -errno on failure, also explained.
 */
int uffd_mem_create(enum uffd_mem_kind kind, size_t pages, const char *tmpfs_dir,
		    struct uffd_mem *mem, char *reason, size_t reason_len);
void uffd_mem_destroy(struct uffd_mem *mem);

struct uffd_hugepages {
	long total, free; /* -1 unknown */
	size_t size;	  /* default huge page size in bytes, 0 unknown */
	bool sysfs;	  /* /sys/kernel/mm/hugepages exists */
};

void uffd_hugepages_read(struct uffd_hugepages *hp);

#endif
