// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * migstream reader. The order of checks is the point: the header check
 * before any length is used, the lengths against MIGSTREAM_MAX_PAYLOAD
 * before a buffer grows, the payload check before zstd sees a byte, the
 * frame's declared size before it is decompressed, and the stream's
 * structure before a record is handed out. Memory is one stored and one
 * decompressed payload, whatever the stream's length (with unordered_data,
 * plus a bitmap of the window per device, whatever the chunk indexes).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xxhash.h>
#include <zstd.h>

#include "common/c.h"
#include "common/fdio.h"
#include "stream/byteorder.h"
#include "stream/dirty-bitmap.h"
#include "stream/reader.h"

/*
 * Fuzzers cannot forge XXH3 checks; a fuzzing build (the libFuzzer
 * convention's macro) ignores their verdict so the fuzzer reaches the
 * decoders, zstd and the structure checks behind them.
 */
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
#define check_failed(cond) ((void)(cond), false)
#else
#define check_failed(cond) (cond)
#endif

struct reader_device {
	uint32_t index;
	bool ended;
	bool stop_copy_seen;
	uint64_t next_chunk;  /* in order: the next chunk; unordered: chunks arrived */
	uint64_t next_offset; /* in order: the next offset; unordered: bytes arrived */
	XXH3_state_t *digest; /* in order only */

	/*
	 * unordered_data: every chunk below low_missing has arrived; seen has
	 * one bit per chunk index in [low_missing, low_missing + window), bit
	 * (index % window), so a repeat is found in constant memory.
	 */
	uint64_t low_missing;
	uint64_t *seen;
	/* no pre-copy chunk may be numbered after a STOP_COPY chunk */
	uint64_t last_precopy_chunk;	/* valid when precopy_seen */
	uint64_t first_stop_copy_chunk; /* valid when stop_copy_seen */
	bool precopy_seen;

	/*
	 * A channel of a set: this channel's share of the device (chunks and
	 * bytes are counted in next_chunk, next_offset), the last chunk's
	 * index and end (chunk_index and offset increase, with gaps).
	 */
	bool chunk_seen;
	uint64_t last_chunk;
	uint64_t last_end;
};

struct migstream_reader {
	migstream_read_fn read;
	void *read_ctx;
	int fd;
	char *name;
	struct migstream_reader_opts opts;

	uint64_t offset;
	uint64_t records;	/* records accepted so far */
	uint64_t payload_bytes; /* their stored lengths */
	bool preamble_done;
	bool ended; /* STREAM_END accepted */
	bool eof;   /* and the end of file after it */
	int err;    /* sticky */
	char msg[512];

	/* the record being read, for messages */
	uint64_t rec_offset;
	uint16_t rec_type;
	bool rec_type_known; /* the header passed its check */

	uint8_t *sbuf; /* stored payload */
	size_t scap;
	uint8_t *rbuf; /* decompressed payload */
	size_t rcap;
	ZSTD_DCtx *dctx;

	unsigned int ndev;
	struct reader_device dev[MIGSTREAM_MAX_DEVICES];
	uint64_t window; /* unordered_data: bits per device in seen */

	bool is_channel; /* the stream's second record was CHANNEL */
	struct migstream_channel channel;
};

static ssize_t fd_read(void *ctx, void *buf, size_t len)
{
	struct migstream_reader *r = ctx;
	ssize_t n = read(r->fd, buf, len);

	return n < 0 ? -errno : n;
}

int migstream_reader_new_cb(struct migstream_reader **out, migstream_read_fn fn, void *ctx,
			    const char *name, const struct migstream_reader_opts *opts)
{
	struct migstream_reader *r;

	*out = NULL;
	if (opts && opts->unordered_data && opts->unordered_window > MIGSTREAM_UNORDERED_WINDOW_MAX)
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->read = fn;
	r->read_ctx = ctx;
	r->fd = -1;
	r->name = strdup(name ? name : "<stream>");
	if (!r->name) {
		free(r);
		return -ENOMEM;
	}
	if (opts)
		r->opts = *opts;
	if (r->opts.unordered_data) {
		r->window = r->opts.unordered_window ? r->opts.unordered_window
						     : MIGSTREAM_UNORDERED_WINDOW;
		r->window = (r->window + 63) & ~(uint64_t)63;
	}
	*out = r;
	return 0;
}

int migstream_reader_new(struct migstream_reader **out, int fd, const char *name,
			 const struct migstream_reader_opts *opts)
{
	int ret = migstream_reader_new_cb(out, fd_read, NULL, name, opts);

	if (ret)
		return ret;
	(*out)->fd = fd;
	(*out)->read_ctx = *out;
	vmt_grow_pipe(fd);
	return 0;
}

void migstream_reader_free(struct migstream_reader *r)
{
	if (!r)
		return;
	for (unsigned int i = 0; i < r->ndev; i++) {
		XXH3_freeState(r->dev[i].digest);
		free(r->dev[i].seen);
	}
	ZSTD_freeDCtx(r->dctx);
	free(r->sbuf);
	free(r->rbuf);
	free(r->name);
	free(r);
}

const char *migstream_reader_error(const struct migstream_reader *r)
{
	return r->msg;
}

bool migstream_reader_error_where(const struct migstream_reader *r,
				  struct migstream_reader_where *where)
{
	if (!r->err)
		return false;
	/* what fail() put into the message */
	*where = (struct migstream_reader_where){ 0 };
	if (!r->preamble_done)
		return true;
	*where = (struct migstream_reader_where){
		.offset = r->rec_offset,
		.has_record = true,
		.seq = r->records,
		.type = r->rec_type_known ? migstream_record_type_name(r->rec_type) : NULL,
	};
	return true;
}

uint64_t migstream_reader_offset(const struct migstream_reader *r)
{
	return r->offset;
}

uint64_t migstream_reader_records(const struct migstream_reader *r)
{
	return r->records;
}

const struct migstream_channel *migstream_reader_channel(const struct migstream_reader *r)
{
	return r->is_channel ? &r->channel : NULL;
}

/* Records the error (sticky) and its message; returns err. */
VMT_PRINTF(3, 4)
static int fail(struct migstream_reader *r, int err, const char *fmt, ...)
{
	char what[320];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (!r->preamble_done)
		snprintf(r->msg, sizeof(r->msg), "%s: preamble at byte 0: %s", r->name, what);
	else if (r->rec_type_known)
		snprintf(r->msg, sizeof(r->msg),
			 "%s: record %" PRIu64 " (%s) at byte %" PRIu64 ": %s", r->name, r->records,
			 migstream_record_type_name(r->rec_type), r->rec_offset, what);
	else
		snprintf(r->msg, sizeof(r->msg), "%s: record %" PRIu64 " at byte %" PRIu64 ": %s",
			 r->name, r->records, r->rec_offset, what);
	r->err = err;
	return err;
}

#define bad(r, ...) fail(r, -EBADMSG, __VA_ARGS__)

/* Reads up to len bytes, short only at end of file: the count or -errno. */
static ssize_t read_full(struct migstream_reader *r, void *buf, size_t len)
{
	size_t got = 0;
	int ret;

	while (got < len) {
		ssize_t n = r->read(r->read_ctx, (uint8_t *)buf + got, len - got);

		if (n == -EINTR)
			continue;
		if (n < 0)
			return fail(r, (int)n, "read error: %s", strerror((int)-n));
		if (n == 0)
			break;
		got += (size_t)n;
	}
	r->offset += got;
	if (got && r->opts.tee) {
		ret = r->opts.tee(r->opts.tee_ctx, buf, got);
		if (ret < 0)
			return fail(r, ret, "copying the stream: %s", strerror(-ret));
	}
	return (ssize_t)got;
}

/*
 * Buffers grow only to lengths already checked against the limit, and to
 * exactly the length asked for (not doubled): the buffer of a record that
 * made it grow is the payload's size, so _take_payload can hand it over.
 * Records of one stream are mostly of one size; a stream whose records
 * keep growing costs a realloc per record, no more than reading them.
 */
static int grow(struct migstream_reader *r, uint8_t **buf, size_t *cap, size_t need)
{
	uint8_t *p;

	if (need <= *cap && *buf)
		return 0;
	p = realloc(*buf, need);
	if (!p)
		return fail(r, -ENOMEM, "out of memory for a %zu byte payload", need);
	*buf = p;
	*cap = need;
	return 0;
}

void *migstream_reader_take_payload(struct migstream_reader *r, const struct migstream_record *rec,
				    size_t *cap)
{
	uint8_t **buf = NULL;
	size_t *size = NULL;
	void *taken;

	*cap = 0;
	if (rec->payload && rec->payload == r->sbuf) {
		buf = &r->sbuf;
		size = &r->scap;
	} else if (rec->payload && rec->payload == r->rbuf) {
		buf = &r->rbuf;
		size = &r->rcap;
	}
	/*
	 * Only a buffer the payload's size: the taker counts the payload, and
	 * a buffer a bigger record left behind would cost more than that (a
	 * stream alternating big records that are not taken with small ones
	 * that are would pin a big buffer per small record). Copy those.
	 */
	if (!buf || *size != (rec->len ? rec->len : 1))
		return NULL;
	taken = *buf;
	*cap = *size;
	*buf = NULL;
	*size = 0;
	return taken;
}

void migstream_reader_drop_buffers(struct migstream_reader *r)
{
	free(r->sbuf);
	free(r->rbuf);
	r->sbuf = r->rbuf = NULL;
	r->scap = r->rcap = 0;
}

static int read_preamble(struct migstream_reader *r)
{
	uint8_t pre[MIGSTREAM_PREAMBLE_LEN];
	ssize_t n = read_full(r, pre, sizeof(pre));
	uint32_t version, flags;

	if (n < 0)
		return (int)n;
	if (n == 0)
		return bad(r, "empty input, not a migstream");
	if (memcmp(pre, MIGSTREAM_MAGIC, n < MIGSTREAM_MAGIC_LEN ? (size_t)n : MIGSTREAM_MAGIC_LEN))
		return bad(r, "bad magic, not a migstream");
	if (n < (ssize_t)sizeof(pre))
		return bad(r, "truncated (%zd of %zu bytes)", n, sizeof(pre));
	version = get_be32(pre + 8);
	flags = get_be32(pre + 12);
	if (version != MIGSTREAM_VERSION)
		return bad(r, "unsupported format version %" PRIu32 " (this reader knows %d)",
			   version, MIGSTREAM_VERSION);
	if (flags)
		return bad(r, "unknown stream flags 0x%08" PRIx32, flags);
	r->preamble_done = true;
	return 0;
}

static struct reader_device *find_device(struct migstream_reader *r, uint32_t index)
{
	for (unsigned int i = 0; i < r->ndev; i++)
		if (r->dev[i].index == index)
			return &r->dev[i];
	return NULL;
}

static int decompress(struct migstream_reader *r, uint32_t stored_len, uint32_t raw_len)
{
	unsigned long long content;
	size_t n;
	int ret;

	/* A skippable frame would "decompress" to nothing: not allowed. */
	if (stored_len < 4 || r->sbuf[0] != 0x28 || r->sbuf[1] != 0xb5 || r->sbuf[2] != 0x2f ||
	    r->sbuf[3] != 0xfd)
		return bad(r, "bad zstd frame: no zstd frame magic");
	content = ZSTD_getFrameContentSize(r->sbuf, stored_len);
	if (content == ZSTD_CONTENTSIZE_ERROR)
		return bad(r, "bad zstd frame");
	if (content == ZSTD_CONTENTSIZE_UNKNOWN)
		return bad(r, "zstd frame does not declare its content size");
	if (content != raw_len)
		return bad(r, "zstd frame content size %llu differs from raw length %" PRIu32,
			   content, raw_len);
	n = ZSTD_findFrameCompressedSize(r->sbuf, stored_len);
	if (ZSTD_isError(n))
		return bad(r, "bad zstd frame: %s", ZSTD_getErrorName(n));
	if (n != stored_len)
		return bad(r, "%zu bytes after the zstd frame", stored_len - n);
	ret = grow(r, &r->rbuf, &r->rcap, raw_len ? raw_len : 1);
	if (ret)
		return ret;
	if (!r->dctx) {
		r->dctx = ZSTD_createDCtx();
		if (!r->dctx)
			return fail(r, -ENOMEM, "out of memory for a zstd context");
	}
	n = ZSTD_decompressDCtx(r->dctx, r->rbuf, raw_len, r->sbuf, stored_len);
	if (ZSTD_isError(n))
		return bad(r, "bad zstd frame: %s", ZSTD_getErrorName(n));
	if (n != raw_len)
		return bad(r, "zstd frame decodes to %zu bytes, raw length is %" PRIu32, n,
			   raw_len);
	return 0;
}

static bool seen_test(const struct reader_device *d, uint64_t window, uint64_t chunk)
{
	uint64_t bit = chunk % window;

	return d->seen[bit / 64] & (1ull << (bit % 64));
}

static void seen_flip(struct reader_device *d, uint64_t window, uint64_t chunk)
{
	uint64_t bit = chunk % window;

	d->seen[bit / 64] ^= 1ull << (bit % 64);
}

/*
 * unordered_data: each chunk index once, within the window. The bitmap
 * only ever holds indexes in [low_missing, low_missing + window): a bit is
 * cleared when low_missing passes it, so the slot is free for the index
 * one window later. Order, offsets and the digest are the caller's.
 */
static int check_unordered_data(struct migstream_reader *r, struct reader_device *d,
				const struct migstream_data *data)
{
	uint64_t chunk = data->chunk_index;

	if (chunk < d->low_missing ||
	    (chunk - d->low_missing < r->window && seen_test(d, r->window, chunk)))
		return bad(r, "device %" PRIu32 ": chunk %" PRIu64 " (offset %" PRIu64 ") repeated",
			   data->device, chunk, data->offset);
	if (chunk - d->low_missing >= r->window)
		return bad(r,
			   "device %" PRIu32 ": chunk %" PRIu64 " is %" PRIu64
			   " or more chunks ahead of "
			   "missing chunk %" PRIu64 " (the reader's window)",
			   data->device, chunk, r->window, d->low_missing);
	/* Phases in chunk order: pre-copy chunks all come before STOP_COPY ones. */
	if (data->phase == MIGSTREAM_PHASE_STOP_COPY) {
		if (d->precopy_seen && chunk < d->last_precopy_chunk)
			return bad(r,
				   "device %" PRIu32 ": STOP_COPY chunk %" PRIu64
				   " before pre-copy chunk %" PRIu64,
				   data->device, chunk, d->last_precopy_chunk);
		if (!d->stop_copy_seen || chunk < d->first_stop_copy_chunk)
			d->first_stop_copy_chunk = chunk;
		d->stop_copy_seen = true;
	} else {
		if (d->stop_copy_seen && chunk > d->first_stop_copy_chunk)
			return bad(r,
				   "device %" PRIu32 ": %s chunk %" PRIu64
				   " after STOP_COPY chunk %" PRIu64,
				   data->device, migstream_phase_name(data->phase), chunk,
				   d->first_stop_copy_chunk);
		if (!d->precopy_seen || chunk > d->last_precopy_chunk)
			d->last_precopy_chunk = chunk;
		d->precopy_seen = true;
	}
	if (data->len > UINT64_MAX - d->next_offset)
		return bad(r, "device %" PRIu32 ": more than 2^64 bytes", data->device);

	seen_flip(d, r->window, chunk);
	while (seen_test(d, r->window, d->low_missing)) {
		seen_flip(d, r->window, d->low_missing);
		d->low_missing++;
	}
	d->next_chunk++;
	d->next_offset += data->len;
	return 0;
}

/*
 * One channel of a set holds some of each device's chunks, numbered as in
 * the whole device: chunk_index increases strictly and each chunk starts at
 * or after the end of the one before (the chunks between are on other
 * channels). The digest needs every chunk: the set's reader checks it.
 */
static int check_channel_data(struct migstream_reader *r, struct reader_device *d,
			      const struct migstream_data *data)
{
	if (d->chunk_seen && data->chunk_index <= d->last_chunk)
		return bad(r,
			   "device %" PRIu32 ": chunk %" PRIu64 " after chunk %" PRIu64
			   " in this channel",
			   data->device, data->chunk_index, d->last_chunk);
	if (d->chunk_seen && data->offset < d->last_end)
		return bad(r,
			   "device %" PRIu32 " chunk %" PRIu64 ": offset %" PRIu64
			   " overlaps the chunk before,"
			   " which ends at %" PRIu64,
			   data->device, data->chunk_index, data->offset, d->last_end);
	if (data->len > UINT64_MAX - data->offset)
		return bad(r, "device %" PRIu32 " chunk %" PRIu64 ": ends past 2^64 bytes",
			   data->device, data->chunk_index);
	if (d->stop_copy_seen && data->phase != MIGSTREAM_PHASE_STOP_COPY)
		return bad(r, "device %" PRIu32 ": %s data after STOP_COPY data", data->device,
			   migstream_phase_name(data->phase));
	d->chunk_seen = true;
	d->last_chunk = data->chunk_index;
	d->last_end = data->offset + data->len;
	d->next_chunk++;
	d->next_offset += data->len;
	if (data->phase == MIGSTREAM_PHASE_STOP_COPY)
		d->stop_copy_seen = true;
	return 0;
}

static int check_data(struct migstream_reader *r, const struct migstream_record *rec)
{
	const struct migstream_data data = rec->data;
	struct reader_device *d;

	d = find_device(r, data.device);
	if (!d)
		return bad(r, "DATA for device %" PRIu32 " before its DEVICE record", data.device);
	if (d->ended)
		return bad(r, "DATA for device %" PRIu32 " after its DEVICE_END", data.device);
	if (r->is_channel)
		return check_channel_data(r, d, &data);
	if (r->opts.unordered_data)
		return check_unordered_data(r, d, &data);
	if (data.chunk_index != d->next_chunk)
		return bad(r,
			   "device %" PRIu32 ": chunk %" PRIu64
			   " out of order, expected chunk %" PRIu64,
			   data.device, data.chunk_index, d->next_chunk);
	if (data.offset != d->next_offset)
		return bad(r,
			   "device %" PRIu32 " chunk %" PRIu64 ": offset %" PRIu64
			   ", expected %" PRIu64,
			   data.device, data.chunk_index, data.offset, d->next_offset);
	if (d->stop_copy_seen && data.phase != MIGSTREAM_PHASE_STOP_COPY)
		return bad(r, "device %" PRIu32 ": %s data after STOP_COPY data", data.device,
			   migstream_phase_name(data.phase));
	XXH3_64bits_update(d->digest, data.data, data.len);
	d->next_chunk++;
	d->next_offset += data.len;
	if (data.phase == MIGSTREAM_PHASE_STOP_COPY)
		d->stop_copy_seen = true;
	return 0;
}

static int check_device(struct migstream_reader *r, const struct migstream_record *rec)
{
	uint32_t index = rec->device.index;
	struct reader_device *d;

	if (find_device(r, index))
		return bad(r, "device %" PRIu32 " declared twice", index);
	if (r->ndev >= MIGSTREAM_MAX_DEVICES)
		return bad(r, "more than %d devices", MIGSTREAM_MAX_DEVICES);
	d = &r->dev[r->ndev];
	*d = (struct reader_device){ .index = index };
	if (r->is_channel) {
		/* nothing more: order and the digest are checked per chunk and by the set */
	} else if (r->opts.unordered_data) {
		d->seen = calloc(r->window / 64, sizeof(*d->seen));
		if (!d->seen)
			return fail(r, -ENOMEM, "out of memory");
	} else {
		d->digest = XXH3_createState();
		if (!d->digest)
			return fail(r, -ENOMEM, "out of memory");
		XXH3_64bits_reset(d->digest);
	}
	r->ndev++;
	return 0;
}

/*
 * A channel's DEVICE_END carries the whole device's totals: this channel's
 * chunks must fit in them; that they add up and the digest are the set's
 * to check.
 */
static int check_channel_device_end(struct migstream_reader *r, struct reader_device *d,
				    const struct migstream_device_end *end)
{
	if (d->chunk_seen && d->last_chunk >= end->chunk_count)
		return bad(r,
			   "device %" PRIu32 ": DEVICE_END says %" PRIu64
			   " chunks, this channel carried chunk %" PRIu64,
			   end->device, end->chunk_count, d->last_chunk);
	if (d->chunk_seen && d->last_end > end->total_bytes)
		return bad(r,
			   "device %" PRIu32 ": DEVICE_END says %" PRIu64
			   " bytes, this channel carried bytes up to %" PRIu64,
			   end->device, end->total_bytes, d->last_end);
	d->ended = true;
	return 0;
}

static int check_device_end(struct migstream_reader *r, const struct migstream_record *rec)
{
	const struct migstream_device_end end = rec->device_end;
	struct reader_device *d;
	uint64_t digest;

	d = find_device(r, end.device);
	if (!d)
		return bad(r, "DEVICE_END for device %" PRIu32 " that has no DEVICE record",
			   end.device);
	if (d->ended)
		return bad(r, "second DEVICE_END for device %" PRIu32, end.device);
	if (r->is_channel)
		return check_channel_device_end(r, d, &end);
	/*
	 * Unordered, no chunk came twice: every chunk below low_missing came,
	 * so a count above it names the first chunk that never did.
	 */
	if (r->opts.unordered_data && d->low_missing < end.chunk_count)
		return bad(r, "device %" PRIu32 ": chunk %" PRIu64 " of %" PRIu64 " is missing",
			   end.device, d->low_missing, end.chunk_count);
	if (end.total_bytes != d->next_offset)
		return bad(r,
			   "device %" PRIu32 ": DEVICE_END says %" PRIu64
			   " bytes, the stream carried %" PRIu64,
			   end.device, end.total_bytes, d->next_offset);
	if (end.chunk_count != d->next_chunk)
		return bad(r,
			   "device %" PRIu32 ": DEVICE_END says %" PRIu64
			   " chunks, the stream carried %" PRIu64,
			   end.device, end.chunk_count, d->next_chunk);
	if (r->opts.unordered_data) {
		/* chunk_count arrived, none twice, 0..count-1 all there: exactly those */
		d->ended = true;
		return 0; /* the digest is the caller's: it sees the bytes in order */
	}
	digest = XXH3_64bits_digest(d->digest);
	if (check_failed(end.state_digest != digest))
		return bad(r,
			   "device %" PRIu32 ": state digest mismatch (DEVICE_END %016" PRIx64
			   ", data %016" PRIx64 ")",
			   end.device, end.state_digest, digest);
	d->ended = true;
	return 0;
}

static int check_stream_end(struct migstream_reader *r, const struct migstream_record *rec)
{
	const struct migstream_stream_end end = rec->stream_end;

	if (end.record_count != r->records)
		return bad(r,
			   "STREAM_END counts %" PRIu64
			   " records before it, the stream has %" PRIu64,
			   end.record_count, r->records);
	if (end.payload_bytes != r->payload_bytes)
		return bad(r,
			   "STREAM_END counts %" PRIu64 " payload bytes, the stream has %" PRIu64,
			   end.payload_bytes, r->payload_bytes);
	if (end.device_count != r->ndev)
		return bad(r, "STREAM_END counts %" PRIu32 " devices, the stream has %u",
			   end.device_count, r->ndev);
	for (unsigned int i = 0; i < r->ndev; i++)
		if (!r->dev[i].ended)
			return bad(r, "device %" PRIu32 " has no DEVICE_END", r->dev[i].index);
	r->ended = true;
	return 0;
}

static int check_dirty_bitmap(struct migstream_reader *r, const struct migstream_dirty_bitmap *bm)
{
	if (!dirty_bitmap_within_iova_space(bm->iova, bm->page_size, bm->page_count))
		return bad(r,
			   "%" PRIu64 " pages of %" PRIu64 " bytes from IOVA 0x%" PRIx64
			   " run past the end of the 64-bit IOVA space",
			   bm->page_count, bm->page_size, bm->iova);
	if (dirty_bitmap_validate(bm))
		return bad(r, "bad %s dirty bitmap for %" PRIu64 " pages",
			   bm->encoding == MIGSTREAM_BITMAP_RAW ? "RAW" : "RUNS", bm->page_count);
	return 0;
}

/* Which rule of a CHANNEL payload is broken, for the message. */
static int bad_channel(struct migstream_reader *r, const struct migstream_record *rec)
{
	const uint8_t *p = rec->payload;
	uint32_t channel, count;

	if (rec->len < MIGSTREAM_CHANNEL_LEN)
		return bad(r, "bad CHANNEL payload (%" PRIu32 " bytes, not %d)", rec->len,
			   MIGSTREAM_CHANNEL_LEN);
	channel = get_be32(p + 16);
	count = get_be32(p + 20);
	if (get_be32(p + 24))
		return bad(r, "unknown CHANNEL flags 0x%08" PRIx32, get_be32(p + 24));
	if (get_be32(p + 28))
		return bad(r, "reserved CHANNEL field is 0x%08" PRIx32 ", not 0", get_be32(p + 28));
	if (!count || count > MIGSTREAM_MAX_CHANNELS)
		return bad(r, "channel count %" PRIu32 " (must be 1..%d)", count,
			   MIGSTREAM_MAX_CHANNELS);
	return bad(r, "channel %" PRIu32 " of %" PRIu32 " (must be below the count)", channel,
		   count);
}

/* A known record's payload, decoded into rec, and what it must satisfy beyond its checksums. */
static int check_structure(struct migstream_reader *r, struct migstream_record *rec)
{
	if (rec->type == MIGSTREAM_REC_CHANNEL && migstream_decode_payload(rec))
		return bad_channel(r, rec);
	if (migstream_decode_payload(rec))
		return bad(r, "bad %s payload (%" PRIu32 " bytes)",
			   migstream_record_type_name(rec->type), rec->len);
	switch (rec->type) {
	case MIGSTREAM_REC_STREAM_HEADER:
		if (rec->stream_header.flags)
			return bad(r, "unknown stream header flags 0x%08" PRIx32,
				   rec->stream_header.flags);
		return 0;
	case MIGSTREAM_REC_DEVICE:
		return check_device(r, rec);
	case MIGSTREAM_REC_DATA:
		return check_data(r, rec);
	case MIGSTREAM_REC_DIRTY_BITMAP:
		return check_dirty_bitmap(r, &rec->dirty_bitmap);
	case MIGSTREAM_REC_DEVICE_END:
		return check_device_end(r, rec);
	case MIGSTREAM_REC_STREAM_END:
		return check_stream_end(r, rec);
	case MIGSTREAM_REC_CHANNEL:
		r->is_channel = true;
		r->channel = rec->channel;
		return 0;
	}
	return 0; /* PRECOPY_INFO: decoding is all */
}

/* After STREAM_END only the end of file may come. */
static int read_eof(struct migstream_reader *r)
{
	uint8_t byte;
	ssize_t n;

	if (r->eof)
		return 0;
	r->rec_offset = r->offset;
	r->rec_type_known = false;
	n = read_full(r, &byte, 1);
	if (n < 0)
		return (int)n;
	if (n > 0)
		return bad(r, "data after STREAM_END");
	r->eof = true;
	return 0;
}

/* A header that passed its check: the rules of step 2 of migstream(5). */
static int check_header(struct migstream_reader *r, const struct migstream_record_header *h)
{
	r->rec_type = h->type;
	r->rec_type_known = true;
	if (h->seq != r->records)
		return bad(r, "sequence number %" PRIu32 ", expected %" PRIu64, h->seq, r->records);
	if (h->flags & ~MIGSTREAM_RF_KNOWN)
		return bad(r, "unknown record flags 0x%04x", h->flags & ~MIGSTREAM_RF_KNOWN);
	if (h->reserved)
		return bad(r, "reserved header field is 0x%08" PRIx32 ", not 0", h->reserved);
	if (h->stored_len > MIGSTREAM_MAX_PAYLOAD)
		return bad(r, "stored length %" PRIu32 " exceeds the limit of %u", h->stored_len,
			   MIGSTREAM_MAX_PAYLOAD);
	if (h->raw_len > MIGSTREAM_MAX_PAYLOAD)
		return bad(r, "raw length %" PRIu32 " exceeds the limit of %u", h->raw_len,
			   MIGSTREAM_MAX_PAYLOAD);
	if (!(h->flags & MIGSTREAM_RF_ZSTD) && h->raw_len != h->stored_len)
		return bad(r,
			   "raw length %" PRIu32 " differs from stored length %" PRIu32
			   " without compression",
			   h->raw_len, h->stored_len);
	if (!migstream_record_type_known(h->type) && !(h->flags & MIGSTREAM_RF_ANCILLARY) &&
	    !(r->opts.caller_knows && r->opts.caller_knows(h->type)))
		return bad(r, "unknown critical record type 0x%04x", h->type);
	if (r->records == 0 && h->type != MIGSTREAM_REC_STREAM_HEADER)
		return bad(r, "first record is not STREAM_HEADER");
	if (r->records > 0 && h->type == MIGSTREAM_REC_STREAM_HEADER)
		return bad(r, "second STREAM_HEADER");
	if (h->type == MIGSTREAM_REC_CHANNEL && r->is_channel)
		return bad(r, "second CHANNEL record");
	if (h->type == MIGSTREAM_REC_CHANNEL && r->records != 1)
		return bad(r, "CHANNEL is not the second record (it must follow STREAM_HEADER)");
	return 0;
}

int migstream_read_record(struct migstream_reader *r, struct migstream_record *rec)
{
	uint8_t hdr[MIGSTREAM_RECORD_HEADER_LEN];
	struct migstream_record_header h;
	bool known, zstd;
	ssize_t n;
	int ret;

	if (r->err)
		return r->err;
	if (!r->preamble_done) {
		ret = read_preamble(r);
		if (ret)
			return ret;
	}
	if (r->ended)
		return read_eof(r);

	r->rec_offset = r->offset;
	r->rec_type_known = false;
	n = read_full(r, hdr, sizeof(hdr));
	if (n < 0)
		return (int)n;
	if (n == 0)
		return bad(r, "truncated: end of file before STREAM_END");
	if (n < (ssize_t)sizeof(hdr))
		return bad(r, "truncated record header (%zd of %zu bytes)", n, sizeof(hdr));

	migstream_decode_record_header(hdr, &h);
	if (check_failed(h.header_check != migstream_record_header_check(hdr)))
		return bad(r, "record header check mismatch");
	ret = check_header(r, &h);
	if (ret)
		return ret;
	known = migstream_record_type_known(h.type);
	zstd = h.flags & MIGSTREAM_RF_ZSTD;

	ret = grow(r, &r->sbuf, &r->scap, h.stored_len ? h.stored_len : 1);
	if (ret)
		return ret;
	n = read_full(r, r->sbuf, h.stored_len);
	if (n < 0)
		return (int)n;
	if (n < h.stored_len)
		return bad(r, "truncated payload (%zd of %" PRIu32 " bytes)", n, h.stored_len);
	if (check_failed(XXH3_64bits(r->sbuf, h.stored_len) != h.payload_check))
		return bad(r, "payload checksum mismatch");

	rec->type = h.type;
	rec->flags = h.flags;
	rec->seq = h.seq;
	rec->offset = r->rec_offset;
	rec->stored_len = h.stored_len;
	rec->raw_len = h.raw_len;
	rec->len = h.stored_len;
	rec->payload = r->sbuf;
	/* Known types are decompressed even for keep_compressed: their
	 * structure is checked on the raw bytes. */
	if (zstd && (known || !r->opts.keep_compressed)) {
		ret = decompress(r, h.stored_len, h.raw_len);
		if (ret)
			return ret;
		rec->payload = r->rbuf;
		rec->len = h.raw_len;
	}
	if (known) {
		ret = check_structure(r, rec);
		if (ret)
			return ret;
	}
	if (zstd && r->opts.keep_compressed) {
		rec->payload = r->sbuf;
		rec->len = h.stored_len;
	}
	r->records++;
	r->payload_bytes += h.stored_len;
	return 1;
}
