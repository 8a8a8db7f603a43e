// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * migstream writer. Every record leaves in one writev() of its header and
 * payload pieces, so uncompressed device data goes from the caller's buffer
 * to the fd without a copy. The writer does the stream's bookkeeping (seq,
 * per-device chunk numbers, offsets and state digests, STREAM_END totals)
 * so that what it writes always passes the reader's checks.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <xxhash.h>
#include <zstd.h>

#include "common/fdio.h"
#include "common/timeutil.h"
#include "stream/byteorder.h"
#include "stream/dirty-bitmap.h"
#include "stream/writer.h"

struct writer_device {
	uint32_t index;
	bool ended;
	bool stop_copy_seen;
	/*
	 * A whole stream: the next chunk and offset. A channel: the least the
	 * next chunk of this device may have (its numbers only increase).
	 */
	uint64_t next_chunk;
	uint64_t next_offset;
	XXH3_state_t *digest;
	/* A chunk came compressed by the caller: the digest is the caller's now. */
	bool digest_lost;
};

struct migstream_writer {
	int fd;
	int err; /* sticky write error */
	bool header_written;
	bool finished;
	int zstd_level;
	uint32_t chunk_size;
	bool (*cancelled)(void *ctx);
	void *cancel_ctx;
	uint64_t offset;
	/* Bytes that reached fd, also within a record: read by other threads. */
	_Atomic uint64_t bytes_out;
	uint64_t record_count; /* also the next seq */
	uint64_t payload_bytes;
	struct migstream_stream_header header;
	bool is_channel;
	struct migstream_channel channel;

	XXH3_state_t *check; /* payload check over several pieces */
	ZSTD_CCtx *cctx;
	uint8_t *zbuf; /* compressed payload, MIGSTREAM_MAX_PAYLOAD */
	uint8_t *buf;  /* a payload assembled in one piece */
	size_t buf_cap;

	unsigned int ndev;
	struct writer_device dev[MIGSTREAM_MAX_DEVICES];
};

/* Largest fixed-plus-strings payloads (STREAM_HEADER, DEVICE). */
#define SMALL_PAYLOAD_MAX (MIGSTREAM_DEVICE_FIXED_LEN + 3 * 2 + MIGSTREAM_MAX_STRING + 255 + 255)

/* Writes all of iov, through partial writes, and EINTR unless cancelled. */
static int write_all(struct migstream_writer *w, int fd, struct iovec *iov, int iovcnt)
{
	while (iovcnt > 0) {
		ssize_t n = writev(fd, iov, iovcnt);

		if (n < 0) {
			if (errno == EINTR) {
				if (w->cancelled && w->cancelled(w->cancel_ctx))
					return -EINTR;
				continue;
			}
			return -errno;
		}
		if (n == 0)
			return -EIO;
		atomic_fetch_add_explicit(&w->bytes_out, (uint64_t)n, memory_order_relaxed);
		while (iovcnt > 0 && (size_t)n >= iov->iov_len) {
			n -= (ssize_t)iov->iov_len;
			iov++;
			iovcnt--;
		}
		if (iovcnt > 0) {
			iov->iov_base = (uint8_t *)iov->iov_base + n;
			iov->iov_len -= (size_t)n;
		}
		/*
		 * A signal that lands after part of a large write returns the
		 * part, not EINTR: ask here too, or a stalled reader keeps us.
		 */
		if (iovcnt > 0 && w->cancelled && w->cancelled(w->cancel_ctx))
			return -EINTR;
	}
	return 0;
}

static int ensure_buf(struct migstream_writer *w, size_t len)
{
	uint8_t *p;

	if (len <= w->buf_cap)
		return 0;
	if (len > MIGSTREAM_MAX_PAYLOAD)
		return -EMSGSIZE;
	p = realloc(w->buf, len);
	if (!p)
		return -ENOMEM;
	w->buf = p;
	w->buf_cap = len;
	return 0;
}

/* Compressed form of the payload in zbuf, or 0 when it does not shrink. */
static size_t try_compress(struct migstream_writer *w, const struct iovec *pieces, int npieces,
			   uint32_t len)
{
	const void *src = pieces[0].iov_base;
	size_t n;

	if (!w->zstd_level || len < 64)
		return 0;
	if (!w->cctx) {
		w->cctx = ZSTD_createCCtx();
		w->zbuf = malloc(MIGSTREAM_MAX_PAYLOAD);
		if (!w->cctx || !w->zbuf) {
			/* Store raw (still a valid stream), and try again next
			 * time from scratch, never with half a set-up. */
			ZSTD_freeCCtx(w->cctx);
			free(w->zbuf);
			w->cctx = NULL;
			w->zbuf = NULL;
			return 0;
		}
		ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_compressionLevel, w->zstd_level);
		ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_contentSizeFlag, 1);
		ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_checksumFlag, 0);
	}
	if (npieces > 1) {
		size_t at = 0;

		if (ensure_buf(w, len))
			return 0;
		for (int i = 0; i < npieces; i++) {
			memcpy(w->buf + at, pieces[i].iov_base, pieces[i].iov_len);
			at += pieces[i].iov_len;
		}
		src = w->buf;
	}
	/* A destination one byte short of raw makes zstd give up early. */
	n = ZSTD_compress2(w->cctx, w->zbuf, len - 1, src, len);
	if (ZSTD_isError(n))
		return 0;
	return n;
}

/* XXH3-64 of the payload pieces, as one run of bytes. */
static uint64_t pieces_check(XXH3_state_t *st, const struct iovec *pieces, int npieces)
{
	if (npieces == 1)
		return XXH3_64bits(pieces[0].iov_base, pieces[0].iov_len);
	XXH3_64bits_reset(st);
	for (int i = 0; i < npieces; i++)
		XXH3_64bits_update(st, pieces[i].iov_base, pieces[i].iov_len);
	return XXH3_64bits_digest(st);
}

/*
 * One record whose stored payload (pieces, at most 3) and check are known:
 * h has type, flags, the lengths and the check; the writer numbers it.
 */
static int emit_stored(struct migstream_writer *w, struct migstream_record_header *h,
		       const struct iovec *pieces, int npieces)
{
	uint8_t hdr[MIGSTREAM_RECORD_HEADER_LEN];
	struct iovec iov[4];
	int ret;

	if (w->err)
		return w->err;
	if (h->stored_len > MIGSTREAM_MAX_PAYLOAD || h->raw_len > MIGSTREAM_MAX_PAYLOAD)
		return -EMSGSIZE;
	if (w->record_count > UINT32_MAX)
		return -E2BIG; /* seq is 32 bits */
	h->seq = (uint32_t)w->record_count;
	migstream_encode_record_header(h, hdr);
	iov[0] = (struct iovec){ .iov_base = hdr, .iov_len = sizeof(hdr) };
	for (int i = 0; i < npieces; i++)
		iov[1 + i] = pieces[i];
	ret = write_all(w, w->fd, iov, 1 + npieces);
	if (ret) {
		w->err = ret;
		return ret;
	}
	w->offset += sizeof(hdr) + h->stored_len;
	w->record_count++;
	w->payload_bytes += h->stored_len;
	return 0;
}

/*
 * One record: pieces are the raw payload (at most 3), len their sum.
 * The ancillary flag comes from the caller, compression from the options.
 */
static int emit(struct migstream_writer *w, uint16_t type, uint16_t flags,
		const struct iovec *pieces, int npieces, uint32_t len)
{
	struct migstream_record_header h = {
		.type = type,
		.flags = flags & MIGSTREAM_RF_ANCILLARY,
		.stored_len = len,
		.raw_len = len,
	};
	struct iovec stored;
	size_t zlen;

	if (w->err)
		return w->err;
	if (len > MIGSTREAM_MAX_PAYLOAD)
		return -EMSGSIZE;
	zlen = try_compress(w, pieces, npieces, len);
	if (!zlen) {
		h.payload_check = pieces_check(w->check, pieces, npieces);
		return emit_stored(w, &h, pieces, npieces);
	}
	h.flags |= MIGSTREAM_RF_ZSTD;
	h.stored_len = (uint32_t)zlen;
	stored = (struct iovec){ .iov_base = w->zbuf, .iov_len = zlen };
	h.payload_check = XXH3_64bits(w->zbuf, zlen);
	return emit_stored(w, &h, &stored, 1);
}

static int emit_one(struct migstream_writer *w, uint16_t type, uint16_t flags, const void *payload,
		    uint32_t len)
{
	struct iovec piece = { .iov_base = (void *)payload, .iov_len = len };

	return emit(w, type, flags, &piece, 1, len);
}

/* STREAM_HEADER, and in a channel its CHANNEL record right after it. */
static int write_header_payload(struct migstream_writer *w, const void *payload, uint32_t len)
{
	uint8_t channel[MIGSTREAM_CHANNEL_LEN];
	int ret = emit_one(w, MIGSTREAM_REC_STREAM_HEADER, 0, payload, len);

	if (!ret && w->is_channel) {
		migstream_encode_channel(&w->channel, channel);
		ret = emit_one(w, MIGSTREAM_REC_CHANNEL, 0, channel, sizeof(channel));
	}
	if (!ret)
		w->header_written = true;
	return ret;
}

/* STREAM_HEADER goes out before the first other record (see write_record). */
static int ensure_header(struct migstream_writer *w)
{
	uint8_t payload[MIGSTREAM_STREAM_HEADER_FIXED_LEN + 3 * 2 + 64 + 32 + 256];
	int len;

	if (w->err)
		return w->err;
	if (w->finished)
		return -EINVAL;
	if (w->header_written)
		return 0;
	len = migstream_encode_stream_header(&w->header, payload, sizeof(payload));
	if (len < 0)
		return len;
	return write_header_payload(w, payload, (uint32_t)len);
}

int migstream_writer_start(struct migstream_writer *w)
{
	return ensure_header(w);
}

static void copy_str(char *dst, size_t size, const char *src)
{
	size_t len = src ? strlen(src) : 0;

	if (len > size - 1)
		len = size - 1;

	if (len)
		memcpy(dst, src, len);
	dst[len] = '\0';
}

int migstream_writer_new(struct migstream_writer **out, int fd,
			 const struct migstream_writer_opts *opts)
{
	uint8_t preamble[MIGSTREAM_PREAMBLE_LEN];
	struct iovec iov = { .iov_base = preamble, .iov_len = sizeof(preamble) };
	struct migstream_writer *w;
	struct utsname uts;
	int ret;

	*out = NULL;
	if (opts && (opts->zstd_level < 0 || opts->zstd_level > 19))
		return -EINVAL;
	if (opts && opts->chunk_size > MIGSTREAM_MAX_CHUNK)
		return -EINVAL;
	if (opts && opts->channel &&
	    (!opts->channel->channel_count ||
	     opts->channel->channel_count > MIGSTREAM_MAX_CHANNELS ||
	     opts->channel->channel >= opts->channel->channel_count))
		return -EINVAL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->fd = fd;
	w->zstd_level = opts ? opts->zstd_level : 0;
	w->chunk_size = opts && opts->chunk_size ? opts->chunk_size : MIGSTREAM_DEFAULT_CHUNK;
	w->cancelled = opts ? opts->cancelled : NULL;
	w->cancel_ctx = opts ? opts->cancel_ctx : NULL;
	if (opts && opts->channel) {
		w->is_channel = true;
		w->channel = *opts->channel;
	}
	w->check = XXH3_createState();
	if (!w->check) {
		free(w);
		return -ENOMEM;
	}

	w->header.time_ns = vmt_realtime_ns();
	copy_str(w->header.producer, sizeof(w->header.producer),
		 opts && opts->producer ? opts->producer : "");
	copy_str(w->header.producer_version, sizeof(w->header.producer_version), PACKAGE_VERSION);
	if (uname(&uts) == 0)
		copy_str(w->header.host, sizeof(w->header.host), uts.nodename);

	vmt_grow_pipe(fd);
	memcpy(preamble, MIGSTREAM_MAGIC, MIGSTREAM_MAGIC_LEN);
	put_be32(preamble + 8, MIGSTREAM_VERSION);
	put_be32(preamble + 12, 0);
	ret = write_all(w, fd, &iov, 1);
	if (ret) {
		migstream_writer_free(w);
		return ret;
	}
	w->offset = sizeof(preamble);
	*out = w;
	return 0;
}

void migstream_writer_free(struct migstream_writer *w)
{
	if (!w)
		return;
	for (unsigned int i = 0; i < w->ndev; i++)
		XXH3_freeState(w->dev[i].digest);
	XXH3_freeState(w->check);
	ZSTD_freeCCtx(w->cctx);
	free(w->zbuf);
	free(w->buf);
	free(w);
}

static struct writer_device *find_device(struct migstream_writer *w, uint32_t index)
{
	for (unsigned int i = 0; i < w->ndev; i++)
		if (w->dev[i].index == index)
			return &w->dev[i];
	return NULL;
}

static int add_device(struct migstream_writer *w, uint32_t index, struct writer_device **out)
{
	struct writer_device *d;

	if (find_device(w, index))
		return -EEXIST;
	if (w->ndev >= MIGSTREAM_MAX_DEVICES)
		return -E2BIG;
	d = &w->dev[w->ndev];
	*d = (struct writer_device){ .index = index, .digest = XXH3_createState() };
	if (!d->digest)
		return -ENOMEM;
	XXH3_64bits_reset(d->digest);
	*out = d;
	return 0;
}

static int emit_device(struct migstream_writer *w, uint32_t index, const void *payload,
		       uint32_t len)
{
	struct writer_device *d;
	int ret;

	ret = add_device(w, index, &d);
	if (ret)
		return ret;
	ret = emit_one(w, MIGSTREAM_REC_DEVICE, 0, payload, len);
	if (ret) {
		XXH3_freeState(d->digest);
		return ret;
	}
	w->ndev++;
	return 0;
}

int migstream_write_device(struct migstream_writer *w, const struct migstream_device *dev)
{
	uint8_t payload[SMALL_PAYLOAD_MAX];
	int len, ret;

	ret = ensure_header(w);
	if (ret)
		return ret;
	len = migstream_encode_device(dev, payload, sizeof(payload));
	if (len < 0)
		return len;
	return emit_device(w, dev->index, payload, (uint32_t)len);
}

static int device_for_data(struct migstream_writer *w, uint32_t device, uint8_t phase,
			   struct writer_device **out)
{
	struct writer_device *d = find_device(w, device);

	if (!d || d->ended)
		return -EINVAL;
	if (phase < MIGSTREAM_PHASE_PRECOPY_INITIAL || phase > MIGSTREAM_PHASE_STOP_COPY)
		return -EINVAL;
	/* Pre-copy data after stop-copy data would fail the reader's check. */
	if (d->stop_copy_seen && phase != MIGSTREAM_PHASE_STOP_COPY)
		return -EINVAL;
	*out = d;
	return 0;
}

/*
 * Whether a chunk numbered (chunk_index, offset) may come next for d: in a
 * whole stream exactly the next one, in a channel any later one.
 */
static bool chunk_fits(const struct migstream_writer *w, const struct writer_device *d,
		       uint64_t chunk_index, uint64_t offset)
{
	if (w->is_channel)
		return chunk_index >= d->next_chunk && offset >= d->next_offset;
	return chunk_index == d->next_chunk && offset == d->next_offset;
}

/* The device's bookkeeping after its chunk went out. */
static void chunk_written(struct writer_device *d, uint8_t phase, uint64_t chunk_index,
			  uint64_t offset, uint32_t len)
{
	d->next_chunk = chunk_index + 1;
	d->next_offset = offset + len;
	if (phase == MIGSTREAM_PHASE_STOP_COPY)
		d->stop_copy_seen = true;
}

/* One DATA record placed at (chunk_index, offset), compressed as the options say. */
static int emit_data_at(struct migstream_writer *w, struct writer_device *d, uint8_t phase,
			uint64_t chunk_index, uint64_t offset, const void *data, uint32_t len)
{
	uint8_t prefix[MIGSTREAM_DATA_PREFIX_LEN];
	struct migstream_data hdr = {
		.device = d->index,
		.phase = phase,
		.chunk_index = chunk_index,
		.offset = offset,
	};
	struct iovec pieces[2] = {
		{ .iov_base = prefix, .iov_len = sizeof(prefix) },
		{ .iov_base = (void *)data, .iov_len = len },
	};
	int ret;

	if (!chunk_fits(w, d, chunk_index, offset))
		return -EINVAL;
	migstream_encode_data_prefix(&hdr, prefix);
	ret = emit(w, MIGSTREAM_REC_DATA, 0, pieces, len ? 2 : 1, (uint32_t)sizeof(prefix) + len);
	if (ret)
		return ret;
	if (!w->is_channel)
		XXH3_64bits_update(d->digest, data, len);
	chunk_written(d, phase, chunk_index, offset, len);
	return 0;
}

/* One DATA record, numbered and placed by the writer. */
static int emit_chunk(struct migstream_writer *w, struct writer_device *d, uint8_t phase,
		      const void *data, uint32_t len)
{
	return emit_data_at(w, d, phase, d->next_chunk, d->next_offset, data, len);
}

int migstream_write_data(struct migstream_writer *w, uint32_t device, enum migstream_phase phase,
			 const void *buf, size_t len)
{
	const uint8_t *p = buf;
	struct writer_device *d;
	int ret;

	ret = ensure_header(w);
	if (ret)
		return ret;
	ret = device_for_data(w, device, (uint8_t)phase, &d);
	if (ret)
		return ret;
	while (len > 0) {
		uint32_t n = len > w->chunk_size ? w->chunk_size : (uint32_t)len;

		ret = emit_chunk(w, d, (uint8_t)phase, p, n);
		if (ret)
			return ret;
		p += n;
		len -= n;
	}
	return 0;
}

int migstream_write_precopy_info(struct migstream_writer *w,
				 const struct migstream_precopy_info *info)
{
	uint8_t payload[MIGSTREAM_PRECOPY_INFO_LEN];
	int ret;

	ret = ensure_header(w);
	if (ret)
		return ret;
	migstream_encode_precopy_info(info, payload);
	return emit_one(w, MIGSTREAM_REC_PRECOPY_INFO, MIGSTREAM_RF_ANCILLARY, payload,
			sizeof(payload));
}

/*
 * RAW goes out from the caller's words without a copy where they already
 * are the RAW bytes (little-endian): prefix, whole words and the masked
 * tail as three payload pieces. The prefix and tail live on the stack, not
 * in w->buf, which try_compress may reuse.
 */
static int emit_bitmap_raw(struct migstream_writer *w, const struct migstream_dirty_bitmap *piece,
			   const uint64_t *bitmap)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	uint8_t prefix[MIGSTREAM_BITMAP_PREFIX_LEN], tail[8];
	struct iovec pieces[3] = {
		{ .iov_base = prefix, .iov_len = sizeof(prefix) },
		{ .iov_base = (void *)bitmap, .iov_len = piece->page_count / 64 * 8 },
		{ .iov_base = tail,
		  .iov_len = dirty_bitmap_raw_tail(bitmap, piece->page_count, tail) },
	};
	int npieces = pieces[2].iov_len ? 3 : 2;

	migstream_encode_bitmap_prefix(piece, prefix);
	return emit(w, MIGSTREAM_REC_DIRTY_BITMAP, MIGSTREAM_RF_ANCILLARY, pieces, npieces,
		    (uint32_t)(sizeof(prefix) + pieces[1].iov_len + pieces[2].iov_len));
#else
	ssize_t len = dirty_bitmap_encode_as(MIGSTREAM_BITMAP_RAW, bitmap, piece->page_count,
					     w->buf + MIGSTREAM_BITMAP_PREFIX_LEN,
					     w->buf_cap - MIGSTREAM_BITMAP_PREFIX_LEN);

	if (len < 0)
		return (int)len;
	migstream_encode_bitmap_prefix(piece, w->buf);
	return emit_one(w, MIGSTREAM_REC_DIRTY_BITMAP, MIGSTREAM_RF_ANCILLARY, w->buf,
			(uint32_t)(MIGSTREAM_BITMAP_PREFIX_LEN + len));
#endif
}

int migstream_write_dirty_bitmap(struct migstream_writer *w,
				 const struct migstream_dirty_bitmap *info, const uint64_t *bitmap)
{
	uint64_t start = 0;
	int ret;

	ret = ensure_header(w);
	if (ret)
		return ret;
	if (info->page_size == 0 || (info->page_size & (info->page_size - 1)) ||
	    !dirty_bitmap_within_iova_space(info->iova, info->page_size, info->page_count))
		return -EINVAL;
	/* Pieces start on whole words of the caller's bitmap. */
	do {
		uint64_t pages = info->page_count - start;
		struct migstream_dirty_bitmap piece = *info;
		ssize_t len;

		if (pages > DIRTY_BITMAP_MAX_RECORD_PAGES)
			pages = DIRTY_BITMAP_MAX_RECORD_PAGES;
		/* Room for RAW: only big-endian hosts build it here. */
		ret = ensure_buf(w, MIGSTREAM_BITMAP_PREFIX_LEN + dirty_bitmap_raw_len(pages));
		if (ret)
			return ret;
		len = dirty_bitmap_encode_runs_if_smaller(bitmap + start / 64, pages,
							  w->buf + MIGSTREAM_BITMAP_PREFIX_LEN,
							  w->buf_cap - MIGSTREAM_BITMAP_PREFIX_LEN,
							  &piece.encoding, &piece.dirty_count);
		if (len < 0)
			return (int)len;
		piece.iova = info->iova + start * info->page_size;
		piece.page_count = pages;
		if (piece.encoding == MIGSTREAM_BITMAP_RAW) {
			ret = emit_bitmap_raw(w, &piece, bitmap + start / 64);
		} else {
			migstream_encode_bitmap_prefix(&piece, w->buf);
			/* try_compress may reuse w->buf only for multi-piece payloads. */
			ret = emit_one(w, MIGSTREAM_REC_DIRTY_BITMAP, MIGSTREAM_RF_ANCILLARY,
				       w->buf, (uint32_t)(MIGSTREAM_BITMAP_PREFIX_LEN + len));
		}
		if (ret)
			return ret;
		start += pages;
	} while (start < info->page_count);
	return 0;
}

static int emit_device_end_as(struct migstream_writer *w, struct writer_device *d,
			      const struct migstream_device_end *end)
{
	uint8_t payload[MIGSTREAM_DEVICE_END_LEN];
	int ret;

	migstream_encode_device_end(end, payload);
	ret = emit_one(w, MIGSTREAM_REC_DEVICE_END, 0, payload, sizeof(payload));
	if (!ret)
		d->ended = true;
	return ret;
}

/* DEVICE_END from the writer's own totals: only where it saw every byte in order. */
static int emit_device_end(struct migstream_writer *w, struct writer_device *d)
{
	struct migstream_device_end end = {
		.device = d->index,
		.total_bytes = d->next_offset,
		.chunk_count = d->next_chunk,
		.state_digest = XXH3_64bits_digest(d->digest),
	};

	if (w->is_channel || d->digest_lost)
		return -EINVAL;
	return emit_device_end_as(w, d, &end);
}

int migstream_write_device_end(struct migstream_writer *w, uint32_t device)
{
	struct writer_device *d;
	int ret;

	ret = ensure_header(w);
	if (ret)
		return ret;
	d = find_device(w, device);
	if (!d || d->ended)
		return -EINVAL;
	return emit_device_end(w, d);
}

int migstream_write_device_end_totals(struct migstream_writer *w,
				      const struct migstream_device_end *e)
{
	struct writer_device *d;
	int ret;

	ret = ensure_header(w);
	if (ret)
		return ret;
	d = find_device(w, e->device);
	if (!d || d->ended)
		return -EINVAL;
	/* A channel holds some of the chunks: the set's totals are at least its own. */
	if (w->is_channel) {
		if (e->chunk_count < d->next_chunk || e->total_bytes < d->next_offset)
			return -EINVAL;
	} else if (e->chunk_count != d->next_chunk || e->total_bytes != d->next_offset ||
		   (!d->digest_lost && e->state_digest != XXH3_64bits_digest(d->digest))) {
		return -EINVAL;
	}
	return emit_device_end_as(w, d, e);
}

/* The DATA prefix of a prepared chunk: its device, phase and numbering. */
static void encode_chunk_prefix(const struct migstream_chunk *c,
				uint8_t prefix[MIGSTREAM_DATA_PREFIX_LEN])
{
	const struct migstream_data hdr = {
		.device = c->device,
		.phase = c->phase,
		.chunk_index = c->chunk_index,
		.offset = c->offset,
	};

	migstream_encode_data_prefix(&hdr, prefix);
}

uint64_t migstream_chunk_payload_check(const struct migstream_chunk *c)
{
	uint8_t prefix[MIGSTREAM_DATA_PREFIX_LEN];
	XXH3_state_t *st;
	uint64_t check;

	if (c->compressed)
		return XXH3_64bits(c->compressed, c->compressed_len);
	encode_chunk_prefix(c, prefix);
	st = XXH3_createState();
	if (!st) {
		/* No memory for a state: hash one copy (rare; the result is the same). */
		uint8_t *buf = malloc(sizeof(prefix) + c->len);

		if (!buf)
			return 0; /* the reader will refuse the record: never silently wrong */
		memcpy(buf, prefix, sizeof(prefix));
		memcpy(buf + sizeof(prefix), c->data, c->len);
		check = XXH3_64bits(buf, sizeof(prefix) + c->len);
		free(buf);
		return check;
	}
	XXH3_64bits_reset(st);
	XXH3_64bits_update(st, prefix, sizeof(prefix));
	XXH3_64bits_update(st, c->data, c->len);
	check = XXH3_64bits_digest(st);
	XXH3_freeState(st);
	return check;
}

int migstream_write_chunk(struct migstream_writer *w, const struct migstream_chunk *c)
{
	uint8_t prefix[MIGSTREAM_DATA_PREFIX_LEN];
	struct migstream_record_header h = {
		.type = MIGSTREAM_REC_DATA,
		.raw_len = MIGSTREAM_DATA_PREFIX_LEN + c->len,
	};
	struct iovec pieces[2];
	struct writer_device *d;
	int npieces, ret;

	ret = ensure_header(w);
	if (ret)
		return ret;
	ret = device_for_data(w, c->device, c->phase, &d);
	if (ret)
		return ret;
	if (c->len > MIGSTREAM_MAX_CHUNK || !chunk_fits(w, d, c->chunk_index, c->offset))
		return -EINVAL;
	if (c->compressed) {
		if (!c->compressed_len || c->compressed_len >= h.raw_len)
			return -EINVAL;
		h.flags = MIGSTREAM_RF_ZSTD;
		h.stored_len = c->compressed_len;
		pieces[0] = (struct iovec){ .iov_base = (void *)c->compressed,
					    .iov_len = c->compressed_len };
		npieces = 1;
	} else {
		encode_chunk_prefix(c, prefix);
		h.stored_len = h.raw_len;
		pieces[0] = (struct iovec){ .iov_base = prefix, .iov_len = sizeof(prefix) };
		pieces[1] = (struct iovec){ .iov_base = (void *)c->data, .iov_len = c->len };
		npieces = c->len ? 2 : 1;
	}
	h.payload_check = c->has_check ? c->payload_check : pieces_check(w->check, pieces, npieces);
	ret = emit_stored(w, &h, pieces, npieces);
	if (ret)
		return ret;
	if (c->compressed)
		d->digest_lost = true;
	else if (!w->is_channel && !d->digest_lost)
		XXH3_64bits_update(d->digest, c->data, c->len);
	chunk_written(d, c->phase, c->chunk_index, c->offset, c->len);
	return 0;
}

int migstream_copy_record(struct migstream_writer *w, const struct migstream_record *rec)
{
	uint16_t flags = rec->flags & MIGSTREAM_RF_ANCILLARY;
	struct writer_device *d;
	int ret;

	if (w->err)
		return w->err;
	if (w->finished || rec->len > MIGSTREAM_MAX_PAYLOAD)
		return -EINVAL;

	switch (rec->type) {
	case MIGSTREAM_REC_STREAM_HEADER:
		/* The source's header replaces ours if it comes first. */
		if (w->header_written)
			return -EINVAL;
		return write_header_payload(w, rec->payload, rec->len);
	case MIGSTREAM_REC_DEVICE:
		ret = ensure_header(w);
		return ret ? ret : emit_device(w, rec->device.index, rec->payload, rec->len);
	case MIGSTREAM_REC_DATA:
		ret = ensure_header(w);
		if (!ret)
			ret = device_for_data(w, rec->data.device, rec->data.phase, &d);
		if (ret)
			return ret;
		/* A channel keeps the set's numbering; a whole stream numbers itself. */
		if (w->is_channel)
			return emit_data_at(w, d, rec->data.phase, rec->data.chunk_index,
					    rec->data.offset, rec->data.data, rec->data.len);
		return emit_chunk(w, d, rec->data.phase, rec->data.data, rec->data.len);
	case MIGSTREAM_REC_DEVICE_END:
		if (w->is_channel)
			return migstream_write_device_end_totals(w, &rec->device_end);
		return migstream_write_device_end(w, rec->device_end.device);
	case MIGSTREAM_REC_CHANNEL:
		return -EINVAL; /* a channel writes its own; a whole stream has none */
	case MIGSTREAM_REC_STREAM_END:
		return migstream_writer_finish(w);
	case MIGSTREAM_REC_PRECOPY_INFO:
	case MIGSTREAM_REC_DIRTY_BITMAP:
		flags |= MIGSTREAM_RF_ANCILLARY;
		break;
	}
	ret = ensure_header(w);
	return ret ? ret : emit_one(w, rec->type, flags, rec->payload, rec->len);
}

int migstream_write_record(struct migstream_writer *w, uint16_t type, uint16_t flags,
			   const void *payload, uint32_t len)
{
	struct migstream_record rec = {
		.type = type,
		.flags = flags,
		.stored_len = len,
		.raw_len = len,
		.len = len,
		.payload = payload,
	};

	if (w->err)
		return w->err;
	if ((flags & ~MIGSTREAM_RF_KNOWN) || len > MIGSTREAM_MAX_PAYLOAD)
		return -EINVAL;
	/* STREAM_END is regenerated: its payload is never read. */
	if (type != MIGSTREAM_REC_STREAM_END && migstream_decode_payload(&rec))
		return -EINVAL;
	return migstream_copy_record(w, &rec);
}

int migstream_writer_finish(struct migstream_writer *w)
{
	uint8_t payload[MIGSTREAM_STREAM_END_LEN];
	struct migstream_stream_end end;
	int ret;

	ret = ensure_header(w);
	if (ret)
		return ret;
	for (unsigned int i = 0; i < w->ndev; i++) {
		if (w->dev[i].ended)
			continue;
		ret = emit_device_end(w, &w->dev[i]);
		if (ret)
			return ret;
	}
	end = (struct migstream_stream_end){
		.record_count = w->record_count,
		.payload_bytes = w->payload_bytes,
		.device_count = w->ndev,
	};
	migstream_encode_stream_end(&end, payload);
	ret = emit_one(w, MIGSTREAM_REC_STREAM_END, 0, payload, sizeof(payload));
	if (!ret)
		w->finished = true;
	return ret;
}

uint64_t migstream_writer_offset(const struct migstream_writer *w)
{
	return w->offset;
}

uint64_t migstream_writer_bytes_out(const struct migstream_writer *w)
{
	return atomic_load_explicit(&w->bytes_out, memory_order_relaxed);
}
