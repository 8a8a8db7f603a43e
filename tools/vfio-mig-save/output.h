/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The output side of the save engine: what the device readers and the
 * main thread put into the stream goes through one ordered log
 * (lib/stream/chunk-queue) to one writer thread per channel; with -z, DATA
 * records are compressed on a pool of workers on the way. Also the
 * failure and cancel of the save, which every thread shares.
 */
#ifndef VMT_SAVE_OUTPUT_H
#define VMT_SAVE_OUTPUT_H

#include <stdbool.h>
#include <stdint.h>

#include "common/c.h"
#include "common/thread-wait.h"
#include "stream/chunk-queue.h"
#include "save.h"

/*
 * Adaptive compression: a device whose last ADAPTIVE_TRIES compressed
 * records did not shrink sends its next ADAPTIVE_RAW records raw, then
 * tries one again (man/vfio-mig-save.1, COMPRESSION).
 */
#define ADAPTIVE_TRIES 4
#define ADAPTIVE_RAW 32

/* Default --queue-size. */
#define SAVE_DEFAULT_QUEUE_SIZE (64ull << 20)

/*
 * Records the save's failure (the first one only; from any thread) with
 * the device it concerns (sd, or NULL) and stops every thread. says_all:
 * the message needs no strerror(err). Returns err.
 */
VMT_PRINTF(5, 6)
int save_failure(struct save_ctx *ctx, const struct save_device *sd, int err, bool says_all,
		 const char *fmt, ...);
/*
 * A failure of the destination (the return path's, a forward write that
 * makes no progress): the message says all, the exit status is 1 whatever
 * err is, and the source is recovered as after a missing reply. Returns err.
 */
VMT_PRINTF(4, 5)
int save_destination_failure(struct save_ctx *ctx, const struct vmt_where *at, int err,
			     const char *fmt, ...);
/* Stop every thread: readers, workers and writers end their work at the next look. */
void save_cancel(struct save_ctx *ctx);
bool save_cancelled(const struct save_ctx *ctx);
/* The error of the failure recorded, for a thread that stops because of it. */
int save_error(struct save_ctx *ctx);

/*
 * For migstream_writer_opts.cancelled (cancel_ctx: the save_ctx): a stop
 * signal, or another thread's failure, gives up a blocked write.
 */
bool output_writer_cancelled(void *ctx);

/*
 * From the main thread, with a return path, every few tens of ms while the
 * stream is written: a channel whose write has moved no byte for limit_ns
 * is the destination's failure (recorded, -ETIMEDOUT): it stopped reading.
 */
int output_check_stalled(struct save_ctx *ctx, uint64_t limit_ns);

/* The queue, the channel writers and (with -z) the workers. 0 or -errno (recorded). */
int output_start(struct save_ctx *ctx);
/*
 * A buffer of chunk_size device bytes at output_buf_data(); waits while
 * --queue-size is reached. -ECANCELED when the save stops.
 */
int output_get_buf(struct save_ctx *ctx, struct chunk_buf **out);
uint8_t *output_buf_data(struct chunk_buf *buf);
void output_put_buf(struct save_ctx *ctx, struct chunk_buf *buf);
/*
 * The next DATA record of sd: len bytes in buf (given to the output), its
 * chunk_index, offset and digest taken by sd's numbering. The device's
 * reader calls it (one thread per device at a time).
 */
int output_data(struct save_ctx *ctx, struct save_device *sd, enum migstream_phase phase,
		struct chunk_buf *buf, uint32_t len);
/* A small record for any channel (PRECOPY_INFO, INIT_DATA_SENT). */
int output_record(struct save_ctx *ctx, uint16_t type, uint16_t flags, const void *payload,
		  uint32_t len);
/* DEVICE, on every channel. */
int output_device(struct save_ctx *ctx, const struct migstream_device *rec);
/* DEVICE_END with sd's totals, on every channel; sd->complete once written everywhere. */
int output_device_end(struct save_ctx *ctx, struct save_device *sd);
/*
 * STREAM_END on every channel, then wait until the writers are done (a
 * stop signal ends the wait, and the save; so does watch, called every
 * 20 ms meanwhile when not NULL, returning < 0 with the failure recorded).
 * 0 when every channel is complete; -errno (recorded) otherwise.
 */
int output_finish(struct save_ctx *ctx, int (*watch)(struct save_ctx *ctx));
/* After a failure, or after output_finish: every output thread joined. */
void output_stop(struct save_ctx *ctx);
/* Bytes written on every channel together. */
uint64_t output_bytes(const struct save_ctx *ctx);
/* Bytes written on one. */
uint64_t output_channel_bytes(const struct save_ctx *ctx, unsigned int ch);

/*
 * Wait on ctx->changed (under ctx->lock) for at most ms milliseconds;
 * ctx->changed is made by vmt_cond_init_monotonic().
 */
void save_wait_changed(struct save_ctx *ctx, unsigned int ms);

#endif
