/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Reading a migstream from a file descriptor, record by record, in bounded
 * memory: no seeking, no length trusted before the header check passes,
 * no payload handed out before its checksum passes.
 *
 * The reader also checks the stream's structure: the preamble, STREAM_HEADER
 * first, consecutive seq, per device DATA chunks in order with contiguous
 * offsets, DEVICE_END totals and digest, STREAM_END totals, nothing after
 * STREAM_END, no end of file before it. Unknown critical records are an
 * error; unknown ancillary ones are handed out (the caller skips them).
 *
 * Errors: -EBADMSG for bad data (corrupt, truncated, incompatible: exit 4),
 * other -errno for I/O. migstream_reader_error() then says what and where:
 * "record 12 (DATA) at byte 4096: payload checksum mismatch".
 */
#ifndef VMT_STREAM_READER_H
#define VMT_STREAM_READER_H

#include <stdbool.h>
#include <stdint.h>

#include "migstream.h"

struct migstream_reader;

struct migstream_reader_opts {
	/* Do not decompress: hand out stored payloads (for passthrough and
	 * listing); the payload checksum is still verified. */
	bool keep_compressed;
	/* Called with the exact bytes consumed from fd (preamble, headers,
	 * payloads as stored), in order: lets a tool copy a stream unchanged
	 * while it reads it. Returns 0 or -errno to stop. */
	int (*tee)(void *ctx, const void *buf, size_t len);
	void *tee_ctx;
};

/* name: for messages ("-" or "<stdin>" for standard input). */
int migstream_reader_new(struct migstream_reader **out, int fd, const char *name,
			 const struct migstream_reader_opts *opts);
void migstream_reader_free(struct migstream_reader *r);

/* 1: a record in *rec; 0: clean end after STREAM_END; <0: error. */
int migstream_read_record(struct migstream_reader *r, struct migstream_record *rec);

/* The message for the last error, naming file, record and byte offset. */
const char *migstream_reader_error(const struct migstream_reader *r);
/* Byte offset of the next unread byte. */
uint64_t migstream_reader_offset(const struct migstream_reader *r);
/* Records read so far. */
uint64_t migstream_reader_records(const struct migstream_reader *r);

#endif
