/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The registration matrix: for each memory kind and register mode, whether
 * UFFDIO_REGISTER accepts the range and which ioctls it grants there.
 */
#ifndef UFFD_PROBE_MATRIX_H
#define UFFD_PROBE_MATRIX_H

#include <stdint.h>

#include "uffd-memory.h"
#include "uffd-open.h"

enum uffd_reg_mode {
	UFFD_REG_MISSING,
	UFFD_REG_WP,
	UFFD_REG_MINOR,
	UFFD_REG_MODE_COUNT,
};

enum uffd_cell_status {
	UFFD_CELL_OK,	      /* registered */
	UFFD_CELL_REFUSED,    /* UFFDIO_REGISTER failed: err */
	UFFD_CELL_UNTESTABLE, /* the memory cannot be made here: note says why */
	UFFD_CELL_FAILED,     /* something else failed (e.g. unregister): note */
};

struct uffd_reg_cell {
	enum uffd_cell_status status;
	int err;
	uint64_t ioctls;
	char note[160];
};

struct uffd_matrix {
	enum uffd_open_method method;
	int open_err; /* nonzero: no fd, nothing tested */
	struct uffd_reg_cell cell[UFFD_MEM_KIND_COUNT][UFFD_REG_MODE_COUNT];
};

/* "missing", "wp", "minor" */
const char *uffd_reg_mode_name(enum uffd_reg_mode mode);
uint64_t uffd_reg_mode_bits(enum uffd_reg_mode mode);
const char *uffd_cell_status_name(enum uffd_cell_status status);

/* Register one range of mem with one mode, unregister it, record the outcome. */
void uffd_register_probe(int uffd, const struct uffd_mem *mem, enum uffd_reg_mode mode,
			 struct uffd_reg_cell *cell);

void uffd_matrix_probe(const char *device_path, const char *tmpfs_dir, struct uffd_matrix *m);

#endif
