/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * How a load fails: the first failure on any thread is recorded in
 * ld->failure (later ones are its consequences) and cancels every other
 * thread; each of these returns the -errno the caller passes up. The
 * message names file, record and device itself; the stream and record go
 * into the JSON error too. What happens to the devices is decided once,
 * in the report (main.c).
 */
#ifndef VMT_LOAD_FAILURE_H
#define VMT_LOAD_FAILURE_H

#include <stdbool.h>
#include <stddef.h>

#include "common/c.h"
#include "common/failure.h"
#include "load.h"
#include "writer.h"

/* Errors with which a driver refuses the bytes it is given: bad data, not a broken device. */
bool load_device_rejects_data(int neg_errno);
/* The exit code of a device's error: 4 when it refused the data. */
int load_device_exit_code(int neg_errno);

/* "record 12 (DATA) at byte 4096" for the record being handled. */
const char *load_record_where(const struct load *ld, char *buf, size_t len);
/* "record 12 (DATA) at byte 4096" for a writer's item. */
const char *load_item_where(const struct load_item *item, char *buf, size_t len);

/* Every thread stops: the writers, the channel set and a blocked read. */
void load_cancel(struct load *ld);

/* A failure at a place the caller names. */
VMT_PRINTF(4, 5)
int load_fail_at(struct load *ld, const struct vmt_where *at, int code, const char *fmt, ...);
/* A failure at the record being handled. */
VMT_PRINTF(3, 4)
int load_fail(struct load *ld, int code, const char *fmt, ...);
/* load_fail() for a writer thread: where is the record its item came from. */
VMT_PRINTF(4, 5)
int load_fail_item(struct load *ld, const struct load_item *item, int code, const char *fmt, ...);
/* The return path broke: the source cannot hear from us, so it keeps its devices. */
int load_fail_reply(struct load *ld, int err);
/* A stop signal came: the load ends where it is. */
int load_interrupted(struct load *ld);

#endif
