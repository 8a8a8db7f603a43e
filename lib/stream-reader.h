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
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "migstream.h"

struct migstream_reader;

struct migstream_reader_opts {
	/* Do not decompress: hand out stored payloads (for passthrough and
	 * listing); the payload checksum is still verified, and records of
	 * known types are still decompressed internally for the structure
	 * checks (unknown ancillary ones are not). */
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
/*
 * Added: a reader over any byte source (memory, a decompressor, a fuzzer).
 * fn behaves like read(2) but returns -errno: bytes read (> 0), 0 at end
 * of file, -errno on error (-EINTR is retried).
 */
typedef ssize_t (*migstream_read_fn)(void *ctx, void *buf, size_t len);
int migstream_reader_new_cb(struct migstream_reader **out, migstream_read_fn fn, void *ctx, const char *name,
			    const struct migstream_reader_opts *opts);
void migstream_reader_free(struct migstream_reader *r);
/*
 * Added: if fd is a pipe, try to make its buffer 1 MiB (fewer, larger
 * reads and writes). migstream_reader_new and migstream_writer_new do it
 * for their fd; tools may do it for the other end of their pipelines.
 */
void migstream_grow_pipe(int fd);

/*
 * 1: a record in *rec; 0: clean end (STREAM_END was handed out, then end
 * of file); <0: error, sticky. Records come out only when all checks pass;
 * a failing record is not handed out.
 */
int migstream_read_record(struct migstream_reader *r, struct migstream_record *rec);

/* The message for the last error, naming file, record and byte offset. */
const char *migstream_reader_error(const struct migstream_reader *r);
/* Byte offset of the next unread byte. */
uint64_t migstream_reader_offset(const struct migstream_reader *r);
/* Records read so far. */
uint64_t migstream_reader_records(const struct migstream_reader *r);

#endif
