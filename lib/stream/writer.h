/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Writing a migstream to a file descriptor: preamble and stream header on
 * creation, then records, each written with one writev() of header and
 * payload (no copy of uncompressed data). The writer keeps per-device chunk
 * counters and state digests for DEVICE_END, and totals for STREAM_END.
 * Errors are -errno; a write error (EPIPE, ENOSPC) is sticky.
 */
#ifndef VMT_STREAM_WRITER_H
#define VMT_STREAM_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stream/migstream.h"

struct migstream_writer;

/* Largest device bytes in one DATA record. */
#define MIGSTREAM_MAX_CHUNK (MIGSTREAM_MAX_PAYLOAD - MIGSTREAM_DATA_PREFIX_LEN)

struct migstream_writer_opts {
	const char *producer; /* program name for the stream header */
	int zstd_level;	      /* 0: no compression; 1..19 */
	uint32_t chunk_size;  /* 0: MIGSTREAM_DEFAULT_CHUNK; at most MIGSTREAM_MAX_CHUNK */
	/* Compressed records that do not shrink are stored raw. */
	/*
	 * Asked when a write is interrupted by a signal (EINTR) or comes back
	 * short: true stops the writer with -EINTR (sticky), so a stop signal
	 * is not held up by a reader that stalls; false (or no callback)
	 * writes on.
	 */
	bool (*cancelled)(void *ctx);
	void *cancel_ctx;
	/*
	 * This stream is one channel of a set (man/migstream.5, CHANNELS):
	 * the CHANNEL record follows the STREAM_HEADER, and the caller owns
	 * the device data's numbering (migstream_write_chunk) and the device
	 * totals (migstream_write_device_end_totals). NULL: a whole stream.
	 */
	const struct migstream_channel *channel;
};

/*
 * Writes the preamble; the STREAM_HEADER (producer, PACKAGE_VERSION, host
 * name, time of this call) goes out just before the first other record, so
 * that a copying tool can pass the source's STREAM_HEADER through instead
 * (see migstream_write_record). -EINVAL for a zstd_level or chunk_size out
 * of range.
 */
int migstream_writer_new(struct migstream_writer **out, int fd,
			 const struct migstream_writer_opts *opts);
/*
 * The STREAM_HEADER now rather than with the first record: for a stream
 * whose records come late (the return path), so that its reader never
 * waits on a header that is held back. 0 or -errno.
 */
int migstream_writer_start(struct migstream_writer *w);
/* Does not close fd; does not write STREAM_END (see _finish). */
void migstream_writer_free(struct migstream_writer *w);

/* -EEXIST for an index already written, -E2BIG beyond MIGSTREAM_MAX_DEVICES,
 * -ENAMETOOLONG for a string that does not fit its field. */
int migstream_write_device(struct migstream_writer *w, const struct migstream_device *dev);
/*
 * Device bytes for one phase: split into chunks of chunk_size, each chunk
 * numbered and placed (chunk_index, offset) and added to the device digest.
 * -EINVAL for a device without DEVICE or after its DEVICE_END, a phase out
 * of range, or pre-copy data after the device's STOP_COPY data.
 */
int migstream_write_data(struct migstream_writer *w, uint32_t device, enum migstream_phase phase,
			 const void *buf, size_t len);
int migstream_write_precopy_info(struct migstream_writer *w,
				 const struct migstream_precopy_info *info);
/*
 * A dirty bitmap in the kernel's form (bit i of 64-bit little-endian words
 * = page i) for info->page_count pages; the writer picks the smaller of RAW
 * and RUNS, and splits very large bitmaps into several records.
 * info->dirty_count, ->encoding, ->bits are computed, not read. -EINVAL
 * for a page size that is not a power of two or pages that run past 2^64.
 */
int migstream_write_dirty_bitmap(struct migstream_writer *w,
				 const struct migstream_dirty_bitmap *info, const uint64_t *bitmap);
/* DEVICE_END with the totals and digest of everything written for it. */
int migstream_write_device_end(struct migstream_writer *w, uint32_t device);

/*
 * A DATA record prepared by the caller (a device's reader thread, a
 * compression worker): the numbering is the caller's, the payload may be
 * compressed already, and its check computed, so that the writer's own
 * thread only frames and writes it. For parallel producers and channels.
 */
struct migstream_chunk {
	uint32_t device;
	uint8_t phase;	      /* enum migstream_phase */
	uint64_t chunk_index; /* the device's chunk number, from 0 over all phases */
	uint64_t offset;      /* the device's byte offset of the first byte */
	uint32_t len;	      /* device bytes (raw) */
	const void *data;     /* the device bytes, when not compressed */
	/*
	 * compressed != NULL: the whole payload (24-byte DATA prefix and the
	 * bytes) as one zstd frame of compressed_len bytes, which is less
	 * than MIGSTREAM_DATA_PREFIX_LEN + len.
	 */
	const void *compressed;
	uint32_t compressed_len;
	/* has_check: payload_check is XXH3-64 of the stored payload (else the writer computes it) */
	bool has_check;
	uint64_t payload_check;
};
/*
 * Writes c as it is (never compresses it again). The writer still checks
 * the numbering: in a whole stream the chunk must be the device's next
 * (chunk_index and offset contiguous: -EINVAL otherwise) and its bytes go
 * into the device digest when not compressed (a compressed chunk's raw
 * bytes are the caller's to hash: use migstream_write_device_end_totals);
 * in a channel, chunk_index and offset must increase per device.
 */
int migstream_write_chunk(struct migstream_writer *w, const struct migstream_chunk *c);
/*
 * DEVICE_END with the caller's totals and digest (e->device names the
 * device): for chunks whose bytes the writer did not see in order (a
 * channel, pre-compressed chunks). -EINVAL for a device without DEVICE,
 * ended already, or (in a whole stream) totals that differ from what was
 * written.
 */
int migstream_write_device_end_totals(struct migstream_writer *w,
				      const struct migstream_device_end *e);
/* The payload check of a prepared chunk's raw payload (prefix + bytes). */
uint64_t migstream_chunk_payload_check(const struct migstream_chunk *c);
/*
 * A record as a reader handed it out (decoded, its payload decompressed:
 * not from a keep_compressed reader), for tools that copy or convert
 * streams: the writer compresses it if asked and renumbers it (seq). The
 * ancillary flag is kept (and forced for PRECOPY_INFO and DIRTY_BITMAP).
 * So that a copy is always a valid stream, the writer keeps its own
 * accounting:
 *   STREAM_HEADER  written as given if it is the first record; -EINVAL later
 *   DEVICE         registers the device (as migstream_write_device)
 *   DATA           one record, the same device, phase and bytes, but
 *                  chunk_index and offset are the writer's (they match the
 *                  source's when the source is a valid stream); the bytes
 *                  go into the device digest
 *   DEVICE_END     regenerated from the writer's totals and digest
 *   STREAM_END     = migstream_writer_finish()
 *   anything else  copied as it is (unknown types too)
 * In a channel writer (opts.channel) DATA keeps the source's chunk_index
 * and offset (they must increase per device) and DEVICE_END is copied as
 * given (the set's totals); a CHANNEL record is refused (the writer wrote
 * its own).
 * -EINVAL for a record that breaks the ordering rules.
 */
int migstream_copy_record(struct migstream_writer *w, const struct migstream_record *rec);
/*
 * The same for a raw payload of type (flags: MIGSTREAM_RF_*, the ZSTD bit
 * ignored): decoded first, -EINVAL for a payload that does not decode.
 */
int migstream_write_record(struct migstream_writer *w, uint16_t type, uint16_t flags,
			   const void *payload, uint32_t len);
/*
 * STREAM_END; the writer accepts nothing after it (-EINVAL). Devices still
 * open get their DEVICE_END first, from the writer's totals; where only the
 * caller knows them (a channel, a pre-compressed chunk) a device still open
 * is -EINVAL.
 */
int migstream_writer_finish(struct migstream_writer *w);

/* Bytes written so far, preamble included. */
uint64_t migstream_writer_offset(const struct migstream_writer *w);
/*
 * Bytes that reached the fd so far, also the part of a record whose write
 * is under way (a write interrupted by a signal reports its part): from any
 * thread, to see whether a blocked write makes progress.
 */
uint64_t migstream_writer_bytes_out(const struct migstream_writer *w);

#endif
