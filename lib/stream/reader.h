/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Reading a migstream from a file descriptor, record by record, in bounded
 * memory: no seeking, no length trusted before the header check passes,
 * no payload handed out before its checksum passes.
 *
 * The reader also checks the stream's structure: the preamble, STREAM_HEADER
 * first, consecutive seq, per device DATA chunks in order with contiguous
 * offsets (or, with unordered_data, each chunk once within a bounded
 * window), DEVICE_END totals and digest, STREAM_END totals, nothing after
 * STREAM_END, no end of file before it. Unknown critical records are an
 * error; unknown ancillary ones are handed out (the caller skips them).
 *
 * A channel of a set (man/migstream.5, CHANNELS: a CHANNEL record right
 * after STREAM_HEADER, never anywhere else, at most once) is read by the
 * channel rules instead: per device, chunk_index increases strictly and
 * each chunk starts at or after the end of the one before (the gaps are on
 * other channels; unordered_data makes no difference); DEVICE_END's totals
 * are the whole device's, so this channel's chunks must fit in them
 * (indices below chunk_count, bytes below total_bytes); the state digest
 * and completeness are migstream_channel_set's to check (channel-set.h).
 * The CHANNEL record is handed out like any other;
 * migstream_reader_channel() says what it held.
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

#include "stream/migstream.h"

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
	/*
	 * DATA chunks of a device may arrive in any chunk_index order (chunks
	 * sent over several channels). The reader still checks every record
	 * (header and payload checks, zstd), that no chunk_index of a device
	 * comes twice, that no pre-copy chunk is numbered after a STOP_COPY
	 * one, and at DEVICE_END that chunk_count chunks numbered 0..count-1
	 * and total_bytes bytes arrived. Offset contiguity and the DEVICE_END
	 * state digest become the caller's: it puts the chunks back in order
	 * and hashes the bytes in device order (XXH3-64, seed 0).
	 */
	bool unordered_data;
	/*
	 * With unordered_data: how far ahead of the lowest missing chunk a
	 * chunk may be, in chunks (0: MIGSTREAM_UNORDERED_WINDOW). Repeats
	 * are found with a bitmap of this many bits per device, so memory
	 * stays bounded whatever chunk_index values a stream carries; a chunk
	 * beyond the window is bad data. Rounded up to a multiple of 64.
	 */
	uint32_t unordered_window;
	/*
	 * Critical record types the caller knows besides this format's own
	 * (the return path's records): handed out after the header and
	 * payload checks instead of refused. NULL: none.
	 */
	bool (*caller_knows)(uint16_t type);
};

/* Default window of unordered_data: 8 KiB of bitmap per device. */
#define MIGSTREAM_UNORDERED_WINDOW 65536u
/* Largest window a reader accepts (a 1 MiB bitmap per device). */
#define MIGSTREAM_UNORDERED_WINDOW_MAX (1u << 23)

/*
 * name: for messages ("-" or "<stdin>" for standard input). -EINVAL for an
 * unordered_window above MIGSTREAM_UNORDERED_WINDOW_MAX. A pipe fd is grown
 * (vmt_grow_pipe).
 */
int migstream_reader_new(struct migstream_reader **out, int fd, const char *name,
			 const struct migstream_reader_opts *opts);
/*
 * A reader over any byte source (memory, a decompressor, a fuzzer).
 * fn behaves like read(2) but returns -errno: bytes read (> 0), 0 at end
 * of file, -errno on error (-EINTR is retried).
 */
typedef ssize_t (*migstream_read_fn)(void *ctx, void *buf, size_t len);
int migstream_reader_new_cb(struct migstream_reader **out, migstream_read_fn fn, void *ctx,
			    const char *name, const struct migstream_reader_opts *opts);
void migstream_reader_free(struct migstream_reader *r);

/*
 * 1: a record in *rec, a known type's payload decoded into its member
 * (rec->device, rec->data, ...: the caller never decodes again); 0: clean
 * end (STREAM_END was handed out, then end of file); <0: error, sticky.
 * Records come out only when all checks pass; a failing record is not
 * handed out.
 */
int migstream_read_record(struct migstream_reader *r, struct migstream_record *rec);

/*
 * Hands the caller the buffer that holds rec's payload (rec, the record
 * last read: rec->payload and the decoded members that point into it stay
 * valid in it), to free() when done; the reader reads the next record into
 * a buffer of its own. *cap is the buffer's size, which is rec->len (1
 * for an empty payload). NULL (and *cap 0) when rec's payload is not in
 * one of the reader's buffers or is smaller than the buffer holding it (a
 * bigger record's, reused): copy it. For a consumer that hands payloads
 * to another thread without copying them.
 */
void *migstream_reader_take_payload(struct migstream_reader *r, const struct migstream_record *rec,
				    size_t *cap);

/*
 * Frees the payload buffers the reader keeps for its next record (they are
 * allocated again, to the next record's size, when it comes). For a caller
 * that runs many readers and bounds the memory of all of them together
 * (lib/stream/channel-set): an idle reader then holds no payload. The last
 * record's payload is invalid afterwards: take or copy it first.
 */
void migstream_reader_drop_buffers(struct migstream_reader *r);

/* The message for the last error, naming file, record and byte offset. */
const char *migstream_reader_error(const struct migstream_reader *r);
/* Where the last error happened, as its message says it. */
struct migstream_reader_where {
	uint64_t
		offset; /* the byte its message names: 0 in the preamble, else the record's header */
	bool has_record;  /* false in the preamble */
	uint64_t seq;	  /* the record's */
	const char *type; /* its type's name; NULL when its header failed its check (not trusted) */
};

/* For a caller that reports the error in fields (JSON): false when there was none. */
bool migstream_reader_error_where(const struct migstream_reader *r,
				  struct migstream_reader_where *where);
/* Byte offset of the next unread byte. */
uint64_t migstream_reader_offset(const struct migstream_reader *r);
/* Records read so far. */
uint64_t migstream_reader_records(const struct migstream_reader *r);
/*
 * The stream's CHANNEL record once it was read (the second record), NULL
 * for a whole stream (or before the second record).
 */
const struct migstream_channel *migstream_reader_channel(const struct migstream_reader *r);

#endif
