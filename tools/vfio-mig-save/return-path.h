/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vfio-mig-save's end of the return path (--return-fd): the reply stream
 * vfio-mig-load writes (man/migstream.5, RETURN PATH), read without ever
 * blocking longer than the reply timeout. Switchover-acks are recorded in
 * the save devices; the LOAD_RESULT decides whether the save succeeded.
 */
#ifndef VMT_SAVE_RETURN_PATH_H
#define VMT_SAVE_RETURN_PATH_H

#include <stdbool.h>
#include <stdint.h>

#include "migstream-reply.h"
#include "save.h"

struct return_path;

int return_path_open(struct return_path **out, int fd, uint64_t timeout_ns);
void return_path_free(struct return_path *rp);

/*
 * The failure of the last call that returned < 0, one line: "the return
 * channel was closed before the load result", "the destination failed to
 * load (exit 4): <its message>".
 */
const char *return_path_error(const struct return_path *rp);
/* The LOAD_RESULT, once one was read (NULL before). */
const struct migstream_load_result *return_path_result(const struct return_path *rp);

/*
 * Take every reply already waiting, without blocking for a new one: acks
 * are stored in ctx->devs (acked, ack_ns). A LOAD_RESULT that comes early
 * is a failure of the destination. 0, or -errno with return_path_error().
 */
int return_path_poll(struct return_path *rp, struct save_ctx *ctx);
/* Whether every pre-copy device acked the last initial section it was sent. */
bool return_path_all_acked(const struct save_ctx *ctx);
/* Block (up to the timeout) until return_path_all_acked(). */
int return_path_wait_acks(struct return_path *rp, struct save_ctx *ctx);
/* After STREAM_END: block (up to the timeout) for the LOAD_RESULT; 0 only if it says loaded. */
int return_path_wait_result(struct return_path *rp, struct save_ctx *ctx);

/* The failure of a switchover that waited longer than the timeout: names the device. */
int return_path_ack_timeout(struct return_path *rp, const struct save_ctx *ctx);
/* For a wait that began at start_ns: whether the timeout has passed. */
bool return_path_timed_out(const struct return_path *rp, uint64_t start_ns);

#endif
