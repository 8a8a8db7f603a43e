/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The columns of vfio-mig-ls. One table drives the table, the raw listing
 * and -J, so all three carry the same facts under the same names.
 */
#ifndef VFIO_MIG_LS_COLUMNS_H
#define VFIO_MIG_LS_COLUMNS_H

#include <stdbool.h>
#include <stdint.h>

#include "probe.h"

enum ls_column {
	LS_COL_NAME,
	LS_COL_TYPE,
	LS_COL_CDEV,
	LS_COL_GROUP,
	LS_COL_DRIVER,
	LS_COL_ID,
	LS_COL_MDEV_TYPE,
	LS_COL_OPEN,
	LS_COL_MIGRATION,
	LS_COL_STATE,
	LS_COL_STOP_COPY,
	LS_COL_DMA_LOG,
	LS_COL_DIRTY,
	LS_NCOLUMNS
};

/*
 * One value: unknown ("-", JSON null), text, a number, a byte count, yes/no,
 * or flags (num, shown as str; -J: lib/common/json-doc's number and _names).
 */
struct ls_value {
	enum {
		LS_VAL_NONE,
		LS_VAL_STR,
		LS_VAL_NUM,
		LS_VAL_SIZE,
		LS_VAL_BOOL,
		LS_VAL_FLAGS
	} kind;
	const char *str;
	uint64_t num;
	bool yes;
	char buf[128]; /* str may point here */
};

struct ls_column_info {
	const char *name;			    /* -o name and heading */
	const char *json_key;			    /* -J key */
	bool right;				    /* right-aligned in the table (numbers) */
	const char *help;			    /* for --help */
	const char *(*flag_name)(unsigned int bit); /* flags: each bit's name for -J */
};

extern const struct ls_column_info ls_columns[LS_NCOLUMNS];

/* The columns shown without -o. */
extern const enum ls_column ls_default_columns[];
extern const int ls_ndefault_columns;

/*
 * "NAME,CDEV" (case-insensitive); a leading '+' appends to the default
 * columns. 0, or -EINVAL with *bad pointing at the unknown name (in list).
 */
int ls_parse_columns(const char *list, enum ls_column *out, int *n, int max, const char **bad,
		     int *bad_len);

void ls_column_value(const struct ls_device *d, enum ls_column col, struct ls_value *v);

#endif
