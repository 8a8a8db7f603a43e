/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Where a rule lives in the kernel source: the checks cite a function
 * ("mtty_save_read", "vfio_check_feature: argsz < minsz"); this finds the
 * first function in a citation that the table knows and the file (Linux
 * 6.12) it is defined in.
 */
#ifndef VMC_CITATIONS_H
#define VMC_CITATIONS_H

#include <stddef.h>

/*
 * The file of the first known function named in text and that function
 * (written to func, at most len bytes); NULL when none is known.
 */
const char *citation_source(const char *text, char *func, size_t len);

#endif
