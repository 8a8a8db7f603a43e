/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Binary output on standard output: written with write(2), not stdio, so
 * that nothing sits in a buffer when a later record turns out bad, and so a
 * closed pipe or full disk is seen at the record that hit it.
 */
#ifndef VMT_CAT_OUTPUT_H
#define VMT_CAT_OUTPUT_H

#include <stddef.h>

/* "write error on standard output: <strerror>"; returns exit code 1. */
int cat_write_error(int neg_errno);

/* A stream writer's error: its output failed (as above), or it refused
 * what it was given. Returns the exit code. */
int cat_writer_error(int neg_errno);

#endif
