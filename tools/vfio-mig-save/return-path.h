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

#include "stream/reply.h"
#include "save.h"

struct return_path;

int return_path_open(struct return_path **out, int fd, uint64_t timeout_ns);
void return_path_free(struct return_path *rp);

/*
 * The failure of the last call that returned < 0, one line: "the return
 * channel was closed before the load result", "the destination failed to
 * load (exit 4): <its message>" (escaped: it is the destination's text).
 */
const char *return_path_error(const struct return_path *rp);
/* The LOAD_RESULT, once one was read (NULL before). */
const struct migstream_load_result *return_path_result(const struct return_path *rp);

/* --return-timeout. */
uint64_t return_path_timeout(const struct return_path *rp);
/*
 * The end of a wait that begins now (now + the timeout). Every wait has
 * one deadline for the whole of it, however many records come meanwhile.
 */
uint64_t return_path_deadline(const struct return_path *rp);

/*
 * Take every reply already waiting, without waiting for a new one, until
 * deadline_ns at the latest (a record begun is read to its end): acks are
 * stored in ctx->devs (acked, ack_ns). A LOAD_RESULT that says success
 * before STREAM_END is sent (ctx->stream_end_begun) is a failure of the
 * load, as a failed one is. 0, or -errno with return_path_error()
 * (-ETIMEDOUT at the deadline).
 */
int return_path_poll(struct return_path *rp, struct save_ctx *ctx, uint64_t deadline_ns);
/* Whether every pre-copy device acked the last initial section it was sent. */
bool return_path_all_acked(const struct save_ctx *ctx);
/* Block (up to the timeout, as a whole) until return_path_all_acked(). */
int return_path_wait_acks(struct return_path *rp, struct save_ctx *ctx);
/*
 * After STREAM_END: block (up to the timeout, as a whole) for the
 * LOAD_RESULT; 0 only if it says every device of the stream was loaded.
 */
int return_path_wait_result(struct return_path *rp, struct save_ctx *ctx);

/* The failure of a switchover that waited longer than the timeout: names the device. */
int return_path_ack_timeout(struct return_path *rp, const struct save_ctx *ctx);

/*
 * With --events, a TIME_PROBE in the stream (a few, spaced out): the
 * loader's TIME_ECHO gives a sample of its clock's offset, and a
 * "clock-offset" event. 0 or what writing the record did.
 */
int return_path_probe(struct return_path *rp, struct save_ctx *ctx);

#endif
