// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Registration of each memory kind in each mode.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "uffd-api.h"
#include "uffd-ioctl.h"
#include "uffd-matrix.h"
#include "uffd-uapi.h"

static const char *const mode_names[UFFD_REG_MODE_COUNT] = {
	[UFFD_REG_MISSING] = "missing",
	[UFFD_REG_WP] = "wp",
	[UFFD_REG_MINOR] = "minor",
};

const char *uffd_reg_mode_name(enum uffd_reg_mode mode)
{
	return mode < UFFD_REG_MODE_COUNT ? mode_names[mode] : "?";
}

uint64_t uffd_reg_mode_bits(enum uffd_reg_mode mode)
{
	switch (mode) {
	case UFFD_REG_MISSING:
		return UFFDIO_REGISTER_MODE_MISSING;
	case UFFD_REG_WP:
		return UFFDIO_REGISTER_MODE_WP;
	case UFFD_REG_MINOR:
		return UFFDIO_REGISTER_MODE_MINOR;
	default:
		return 0;
	}
}

const char *uffd_cell_status_name(enum uffd_cell_status status)
{
	switch (status) {
	case UFFD_CELL_OK:
		return "ok";
	case UFFD_CELL_REFUSED:
		return "refused";
	case UFFD_CELL_UNTESTABLE:
		return "untestable";
	default:
		return "failed";
	}
}

/* The kernel's reasons for EINVAL, from vma_can_userfault(), worth a word. */
static void explain_refusal(enum uffd_mem_kind kind, enum uffd_reg_mode mode, int err, char *note,
			    size_t len)
{
	if (err == EINVAL && mode == UFFD_REG_MINOR && kind == UFFD_MEM_ANON)
		snprintf(note, len, "MINOR faults exist only for shmem and hugetlbfs");
	else if (err == EINVAL && mode == UFFD_REG_MINOR)
		snprintf(note, len, "kernel without MINOR fault support for this memory");
	else if (err == EINVAL && mode == UFFD_REG_WP && kind != UFFD_MEM_ANON)
		snprintf(note, len,
			 "kernel without WP for shmem/hugetlbfs (CONFIG_PTE_MARKER_UFFD_WP)");
	else if (err == EINVAL && mode == UFFD_REG_WP)
		snprintf(note, len, "kernel or architecture without userfaultfd WP");
	else
		snprintf(note, len, "%s", strerror(err));
}

void uffd_register_probe(int uffd, const struct uffd_mem *mem, enum uffd_reg_mode mode,
			 struct uffd_reg_cell *cell)
{
	int ret = uffd_ioctl_register(uffd, mem->addr, mem->len, uffd_reg_mode_bits(mode),
				      &cell->ioctls);

	if (ret) {
		cell->status = UFFD_CELL_REFUSED;
		cell->err = -ret;
		explain_refusal(mem->kind, mode, -ret, cell->note, sizeof(cell->note));
		return;
	}
	cell->status = UFFD_CELL_OK;
	ret = uffd_ioctl_unregister(uffd, mem->addr, mem->len);
	if (ret) {
		cell->status = UFFD_CELL_FAILED;
		cell->err = -ret;
		snprintf(cell->note, sizeof(cell->note), "UFFDIO_UNREGISTER: %s", strerror(-ret));
	}
}

void uffd_matrix_probe(const char *device_path, const char *tmpfs_dir, struct uffd_matrix *m)
{
	const char *stage;
	int uffd;

	*m = (struct uffd_matrix){ 0 };
	uffd = uffd_open_and_enable(device_path, false, 0, &m->method, &stage);
	if (uffd < 0) {
		m->open_err = -uffd;
		return;
	}
	for (int kind = 0; kind < UFFD_MEM_KIND_COUNT; kind++) {
		struct uffd_mem mem;
		char reason[160];
		int ret = uffd_mem_create(kind, 1, tmpfs_dir, &mem, reason, sizeof(reason));

		for (int mode = 0; mode < UFFD_REG_MODE_COUNT; mode++) {
			struct uffd_reg_cell *cell = &m->cell[kind][mode];

			if (ret) {
				cell->status = ret == -EOPNOTSUPP ? UFFD_CELL_UNTESTABLE
								  : UFFD_CELL_FAILED;
				cell->err = -ret;
				snprintf(cell->note, sizeof(cell->note), "%s", reason);
				continue;
			}
			uffd_register_probe(uffd, &mem, mode, cell);
			vmt_dbg("register %s %s: %s%s%s", uffd_mem_kind_name(kind),
				uffd_reg_mode_name(mode), uffd_cell_status_name(cell->status),
				cell->note[0] ? ", " : "", cell->note);
		}
		if (!ret)
			uffd_mem_destroy(&mem);
	}
	close(uffd);
}
