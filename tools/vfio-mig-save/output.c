// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The output side of the save engine; see output.h.
 *
 * Threads: each device's reader (save.c) numbers its chunks, hashes them
 * and puts them into the log; the main thread puts the other records; one
 * writer per channel takes the items in log order ("any channel" items by
 * whichever channel gets there first); with -z, workers compress DATA
 * records in between, and a channel that reaches one not yet compressed
 * waits for it while the others go on. With one channel and one job the
 * log is today's order, so the stream is byte for byte today's.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>
#include <zstd.h>

#include "common/c.h"
#include "common/exitcodes.h"
#include "common/failure.h"
#include "common/log.h"
#include "common/signals.h"
#include "common/timeutil.h"
#include "stream/writer.h"
#include "output.h"

enum item_kind {
	ITEM_DATA,
	ITEM_RECORD,
	ITEM_DEVICE,
	ITEM_DEVICE_END,
	ITEM_FINISH,
};

/* Largest payload of a small record (PRECOPY_INFO, INIT_DATA_SENT). */
#define SMALL_RECORD_MAX 64

struct out_item {
	struct chunk_item item; /* first: the queue hands this back */
	enum item_kind kind;
	struct save_device *sd; /* DATA, DEVICE_END */
	union {
		struct migstream_chunk chunk;
		struct {
			uint16_t type, flags;
			uint32_t len;
			uint8_t payload[SMALL_RECORD_MAX];
		} record;
		struct migstream_device device;
		struct migstream_device_end end;
	};
};

/* ---- the failure every thread shares ---- */

VMT_PRINTF(6, 0)
static int record_failure(struct save_ctx *ctx, const struct vmt_where *at, int err, int exit_code,
			  bool says_all, const char *fmt, va_list ap)
{
	pthread_mutex_lock(&ctx->lock);
	vmt_vfail(&ctx->failure, at, err, exit_code, says_all, fmt, ap);
	pthread_mutex_unlock(&ctx->lock);
	save_cancel(ctx);
	return err;
}

int save_failure(struct save_ctx *ctx, const struct save_device *sd, int err, bool says_all,
		 const char *fmt, ...)
{
	const struct vmt_where at = { .device = sd ? sd->dev->name : NULL };
	va_list ap;

	va_start(ap, fmt);
	record_failure(ctx, &at, err, 0, says_all, fmt, ap);
	va_end(ap);
	return err;
}

int save_destination_failure(struct save_ctx *ctx, const struct vmt_where *at, int err,
			     const char *fmt, ...)
{
	va_list ap;

	ctx->result.destination_failed = true;
	va_start(ap, fmt);
	/* Whatever the errno (EBADMSG for a malformed reply): exit 1, as vfio-mig-save(1) says. */
	record_failure(ctx, at ? at : &(struct vmt_where){ 0 }, err, VMT_EXIT_FAILURE, true, fmt,
		       ap);
	va_end(ap);
	return err;
}

void save_cancel(struct save_ctx *ctx)
{
	atomic_store(&ctx->cancel, true);
	if (ctx->queue)
		chunk_queue_cancel(ctx->queue);
	pthread_mutex_lock(&ctx->lock);
	pthread_cond_broadcast(&ctx->changed);
	pthread_mutex_unlock(&ctx->lock);
}

bool save_cancelled(const struct save_ctx *ctx)
{
	return atomic_load(&ctx->cancel);
}

int save_error(struct save_ctx *ctx)
{
	int err;

	pthread_mutex_lock(&ctx->lock);
	err = ctx->failure.err;
	pthread_mutex_unlock(&ctx->lock);
	return err ? err : -ECANCELED;
}

void save_wait_changed(struct save_ctx *ctx, unsigned int ms)
{
	vmt_cond_wait_for(&ctx->changed, &ctx->lock, ms * NSEC_PER_MSEC);
}

static void thread_ended(struct save_ctx *ctx)
{
	pthread_mutex_lock(&ctx->lock);
	ctx->threads_out--;
	pthread_cond_broadcast(&ctx->changed);
	pthread_mutex_unlock(&ctx->lock);
}

/* ---- channel writers ---- */

static int write_failed(struct save_channel *ch, int err)
{
	struct save_ctx *ctx = ch->ctx;
	const struct vmt_where at = {
		.file = ch->name,
		.has_offset = true,
		.offset = migstream_writer_offset(ch->writer),
	};

	/* Another thread failed first, or a stop signal ended a write blocked by a stalled reader. */
	if (save_cancelled(ctx))
		return save_error(ctx);
	if (err == -EINTR && vmt_stop_signal())
		return save_failure(ctx, NULL, -EINTR, true, "interrupted by %s",
				    vmt_stop_signal_name());
	pthread_mutex_lock(&ctx->lock);
	vmt_fail(&ctx->failure, &at, err, 0, "writing the stream");
	pthread_mutex_unlock(&ctx->lock);
	save_cancel(ctx);
	return err;
}

static int write_item(struct migstream_writer *w, const struct out_item *it)
{
	switch (it->kind) {
	case ITEM_DATA:
		return migstream_write_chunk(w, &it->chunk);
	case ITEM_RECORD:
		return migstream_write_record(w, it->record.type, it->record.flags,
					      it->record.payload, it->record.len);
	case ITEM_DEVICE:
		return migstream_write_device(w, &it->device);
	case ITEM_DEVICE_END:
		return migstream_write_device_end_totals(w, &it->end);
	case ITEM_FINISH:
		return migstream_writer_finish(w);
	}
	return -EINVAL;
}

static void *channel_writer(void *arg)
{
	struct save_channel *ch = arg;
	struct save_ctx *ctx = ch->ctx;
	struct chunk_item *item;

	while ((item = chunk_queue_next(ctx->queue, ch->index))) {
		struct out_item *it = (struct out_item *)item;
		uint64_t start_ns;
		int ret;

		/* From here on a reply may answer the whole stream (return-path.c). */
		if (it->kind == ITEM_FINISH)
			atomic_store_explicit(&ctx->stream_end_begun, true, memory_order_release);
		atomic_store_explicit(&ch->writing, true, memory_order_release);
		start_ns = vmt_monotonic_ns();
		ret = write_item(ch->writer, it);
		atomic_fetch_add_explicit(&ch->write_ns, vmt_monotonic_ns() - start_ns,
					  memory_order_relaxed);
		atomic_store_explicit(&ch->writing, false, memory_order_release);
		chunk_queue_done(ctx->queue, ch->index, item, ret == 0);
		if (ret < 0) {
			write_failed(ch, ret);
			break;
		}
	}
	thread_ended(ctx);
	return NULL;
}

bool output_writer_cancelled(void *arg)
{
	return vmt_stop_signal() || save_cancelled(arg);
}

/* How long a write interrupted to show its progress has to show it. */
#define STALL_LOOK_NS (50ull * 1000000)

/*
 * Whether ch's write has moved no byte for limit_ns. Progress of a write
 * blocked in the kernel shows only when a signal interrupts it (the
 * stream writer then counts the part written and writes on), so a channel
 * that looks still for limit_ns is interrupted once, and judged when that
 * has had time to show.
 */
static bool channel_stalled(struct save_channel *ch, uint64_t limit_ns, uint64_t now)
{
	uint64_t out = migstream_writer_bytes_out(ch->writer);

	if (!atomic_load_explicit(&ch->writing, memory_order_acquire) || out != ch->seen_bytes) {
		ch->seen_bytes = out;
		ch->still_since_ns = now;
		return false;
	}
	if (now - ch->still_since_ns < limit_ns)
		return false;
	if (ch->woken_ns < ch->still_since_ns + limit_ns) {
		ch->woken_ns = now;
		vmt_thread_wake(ch->thread);
		return false;
	}
	return now - ch->woken_ns >= STALL_LOOK_NS;
}

int output_check_stalled(struct save_ctx *ctx, uint64_t limit_ns)
{
	uint64_t now = vmt_monotonic_ns();

	for (unsigned int i = 0; i < ctx->nchannels; i++) {
		struct save_channel *ch = &ctx->channels[i];

		if (!ch->started || !channel_stalled(ch, limit_ns, now))
			continue;
		return save_destination_failure(
			ctx,
			&(struct vmt_where){
				.file = ch->name, .has_offset = true, .offset = ch->seen_bytes },
			-ETIMEDOUT,
			"the destination took no byte of the stream for %.3f s (it stopped reading)",
			(double)limit_ns / 1e9);
	}
	return 0;
}

/* ---- compression workers ---- */

static ZSTD_CCtx *new_cctx(int level)
{
	ZSTD_CCtx *cctx = ZSTD_createCCtx();

	if (!cctx)
		return NULL;
	/* The stream writer's parameters: a record compressed here is the one it would write. */
	ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level);
	ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 1);
	ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 0);
	return cctx;
}

/*
 * The adaptive rule, with what one compression gave: after ADAPTIVE_TRIES
 * records in a row that did not shrink, ADAPTIVE_RAW raw ones; then one is
 * tried, and if it does not shrink either, ADAPTIVE_RAW more.
 */
static void adapt(struct save_ctx *ctx, struct save_device *sd, bool shrunk)
{
	pthread_mutex_lock(&ctx->lock);
	if (shrunk) {
		sd->not_shrunk = 0;
	} else if (++sd->not_shrunk >= ADAPTIVE_TRIES) {
		sd->raw_left = ADAPTIVE_RAW;
		sd->not_shrunk = ADAPTIVE_TRIES - 1;
	}
	pthread_mutex_unlock(&ctx->lock);
}

/* A record that does not shrink is stored raw, as the stream writer's own rule. */
static void compress_item(struct save_ctx *ctx, ZSTD_CCtx *cctx, struct out_item *it)
{
	struct migstream_chunk *c = &it->chunk;
	const uint8_t *src = it->item.buf->data;
	size_t len = MIGSTREAM_DATA_PREFIX_LEN + c->len;
	size_t n = 0;

	if (cctx) {
		/* A destination one byte short of raw makes zstd give up early. */
		n = ZSTD_compress2(cctx, it->item.buf->aux, len - 1, src, len);
		if (ZSTD_isError(n))
			n = 0;
	}
	if (n) {
		c->compressed = it->item.buf->aux;
		c->compressed_len = (uint32_t)n;
		c->payload_check = XXH3_64bits(it->item.buf->aux, n);
	} else {
		c->payload_check = XXH3_64bits(src, len);
	}
	c->has_check = true;
	if (cctx)
		adapt(ctx, it->sd, n != 0);
}

/* Whether the adaptive rule sends sd's next record raw (and counts it). */
static bool adaptive_raw(struct save_ctx *ctx, struct save_device *sd)
{
	bool raw = false;

	pthread_mutex_lock(&ctx->lock);
	if (sd->raw_left) {
		sd->raw_left--;
		sd->adaptive_raw++;
		raw = true;
	}
	pthread_mutex_unlock(&ctx->lock);
	return raw;
}

static void *compress_worker(void *arg)
{
	struct save_ctx *ctx = arg;
	ZSTD_CCtx *cctx = new_cctx(ctx->opts.zstd_level);
	struct chunk_item *item;

	/* Without a context the records go raw: still a valid stream. */
	while ((item = chunk_queue_next_work(ctx->queue))) {
		struct out_item *it = (struct out_item *)item;

		/*
		 * The rule is asked again here: records queued before it said
		 * "raw" (a full queue holds many) are spared the attempt too.
		 */
		compress_item(ctx, adaptive_raw(ctx, it->sd) ? NULL : cctx, it);
		chunk_queue_work_done(ctx->queue, item);
	}
	ZSTD_freeCCtx(cctx);
	thread_ended(ctx);
	return NULL;
}

/* ---- the log ---- */

static void release_item(struct chunk_item *item, unsigned int written, void *arg)
{
	struct save_ctx *ctx = arg;
	struct out_item *it = (struct out_item *)item;
	bool everywhere = written == ctx->nchannels;

	if (it->kind == ITEM_DEVICE_END && everywhere)
		it->sd->complete = true;
	else if (it->kind == ITEM_FINISH && everywhere)
		ctx->finished = true;
	free(it);
}

static struct out_item *new_item(struct save_ctx *ctx, enum item_kind kind, enum chunk_scope scope)
{
	struct out_item *it = calloc(1, sizeof(*it));

	if (!it) {
		save_failure(ctx, NULL, -ENOMEM, false, "queueing a record");
		return NULL;
	}
	it->kind = kind;
	it->item.scope = scope;
	return it;
}

static int push(struct save_ctx *ctx, struct out_item *it)
{
	if (!it)
		return -ENOMEM;
	if (chunk_queue_push(ctx->queue, &it->item) < 0)
		return save_error(ctx);
	return 0;
}

static int start_thread(struct save_ctx *ctx, pthread_t *t, void *(*fn)(void *), void *arg)
{
	int ret;

	pthread_mutex_lock(&ctx->lock);
	ctx->threads_out++;
	pthread_mutex_unlock(&ctx->lock);
	ret = vmt_thread_start(t, fn, arg);
	if (ret < 0) {
		thread_ended(ctx);
		return save_failure(ctx, NULL, ret, false, "starting a thread");
	}
	return 0;
}

int output_start(struct save_ctx *ctx)
{
	struct chunk_queue_opts qo = {
		.channels = ctx->nchannels,
		.buf_size = MIGSTREAM_DATA_PREFIX_LEN + ctx->opts.chunk_size,
		/* A record compressed is smaller than raw: it fits the same size. */
		.aux_size =
			ctx->opts.zstd_level ? MIGSTREAM_DATA_PREFIX_LEN + ctx->opts.chunk_size : 0,
		.cap = ctx->opts.queue_size ? ctx->opts.queue_size : SAVE_DEFAULT_QUEUE_SIZE,
		.release = release_item,
		.release_ctx = ctx,
	};
	int ret;

	ret = chunk_queue_new(&ctx->queue, &qo);
	if (ret < 0)
		return save_failure(ctx, NULL, ret, false, "setting up the output queue");
	for (unsigned int i = 0; i < ctx->nchannels; i++) {
		struct save_channel *ch = &ctx->channels[i];

		ch->ctx = ctx;
		ch->index = i;
		ch->still_since_ns = vmt_monotonic_ns();
		if ((ret = start_thread(ctx, &ch->thread, channel_writer, ch)) < 0)
			return ret;
		ch->started = true;
	}
	if (!ctx->opts.zstd_level)
		return 0;
	ctx->workers = calloc(ctx->opts.threads, sizeof(*ctx->workers));
	if (!ctx->workers)
		return save_failure(ctx, NULL, -ENOMEM, false, "starting the compression workers");
	for (unsigned int i = 0; i < ctx->opts.threads; i++) {
		if ((ret = start_thread(ctx, &ctx->workers[i], compress_worker, ctx)) < 0)
			return ret;
		ctx->nworkers++;
	}
	return 0;
}

int output_get_buf(struct save_ctx *ctx, struct chunk_buf **out)
{
	int ret = chunk_queue_get_buf(ctx->queue, out);

	if (ret == -ECANCELED)
		return save_error(ctx);
	if (ret < 0)
		return save_failure(ctx, NULL, ret, false, "allocating a buffer");
	return 0;
}

uint8_t *output_buf_data(struct chunk_buf *buf)
{
	return buf->data + MIGSTREAM_DATA_PREFIX_LEN;
}

void output_put_buf(struct save_ctx *ctx, struct chunk_buf *buf)
{
	chunk_queue_put_buf(ctx->queue, buf);
}

int output_data(struct save_ctx *ctx, struct save_device *sd, enum migstream_phase phase,
		struct chunk_buf *buf, uint32_t len)
{
	struct out_item *it = new_item(ctx, ITEM_DATA, CHUNK_ANY_CHANNEL);
	struct migstream_data prefix = {
		.device = sd->index,
		.phase = phase,
		.chunk_index = sd->next_chunk,
		.offset = sd->next_offset,
	};
	uint8_t *data = output_buf_data(buf);

	if (!it) {
		output_put_buf(ctx, buf);
		return -ENOMEM;
	}
	/* The prefix in front of the bytes: one piece to compress or hash. */
	migstream_encode_data_prefix(&prefix, buf->data);
	it->sd = sd;
	it->item.buf = buf;
	it->chunk = (struct migstream_chunk){
		.device = sd->index,
		.phase = phase,
		.chunk_index = sd->next_chunk,
		.offset = sd->next_offset,
		.len = len,
		.data = data,
	};
	XXH3_64bits_update(sd->digest, data, len);
	sd->next_chunk++;
	sd->next_offset += len;
	/* The same rule as the stream writer's: too small to be worth a frame. */
	if (ctx->opts.zstd_level && MIGSTREAM_DATA_PREFIX_LEN + len >= 64 && !adaptive_raw(ctx, sd))
		it->item.needs_work = true;
	else
		compress_item(ctx, NULL, it); /* only the check, on the reader's thread */
	return push(ctx, it);
}

int output_record(struct save_ctx *ctx, uint16_t type, uint16_t flags, const void *payload,
		  uint32_t len)
{
	struct out_item *it;

	if (len > SMALL_RECORD_MAX)
		return save_failure(ctx, NULL, -EMSGSIZE, false, "queueing a record");
	it = new_item(ctx, ITEM_RECORD, CHUNK_ANY_CHANNEL);
	if (it) {
		it->record.type = type;
		it->record.flags = flags;
		it->record.len = len;
		memcpy(it->record.payload, payload, len);
	}
	return push(ctx, it);
}

int output_device(struct save_ctx *ctx, const struct migstream_device *rec)
{
	struct out_item *it = new_item(ctx, ITEM_DEVICE, CHUNK_EVERY_CHANNEL);

	if (it)
		it->device = *rec;
	return push(ctx, it);
}

int output_device_end(struct save_ctx *ctx, struct save_device *sd)
{
	struct out_item *it = new_item(ctx, ITEM_DEVICE_END, CHUNK_EVERY_CHANNEL);

	if (it) {
		it->sd = sd;
		it->end = (struct migstream_device_end){
			.device = sd->index,
			.total_bytes = sd->next_offset,
			.chunk_count = sd->next_chunk,
			.state_digest = XXH3_64bits_digest(sd->digest),
		};
	}
	return push(ctx, it);
}

/*
 * Wake the writers blocked in a write until every output thread is gone;
 * while they write, watch (if any) is called every 20 ms.
 */
static void wait_output_threads(struct save_ctx *ctx, bool stop_on_signal,
				int (*watch)(struct save_ctx *))
{
	pthread_mutex_lock(&ctx->lock);
	while (ctx->threads_out) {
		bool cancelled = save_cancelled(ctx);

		if (!cancelled && stop_on_signal && vmt_stop_signal()) {
			pthread_mutex_unlock(&ctx->lock);
			save_failure(ctx, NULL, -EINTR, true, "interrupted by %s",
				     vmt_stop_signal_name());
			pthread_mutex_lock(&ctx->lock);
			cancelled = true;
		} else if (!cancelled && watch) {
			pthread_mutex_unlock(&ctx->lock);
			cancelled = watch(ctx) < 0;
			pthread_mutex_lock(&ctx->lock);
		}
		if (cancelled)
			for (unsigned int i = 0; i < ctx->nchannels; i++)
				if (ctx->channels[i].started)
					vmt_thread_wake(ctx->channels[i].thread);
		save_wait_changed(ctx, 20);
	}
	pthread_mutex_unlock(&ctx->lock);
}

int output_finish(struct save_ctx *ctx, int (*watch)(struct save_ctx *))
{
	int ret = push(ctx, new_item(ctx, ITEM_FINISH, CHUNK_EVERY_CHANNEL));

	if (ret < 0)
		return ret;
	chunk_queue_close(ctx->queue);
	wait_output_threads(ctx, true, watch);
	output_stop(ctx);
	/*
	 * A failure the watch found after the last channel wrote STREAM_END
	 * (a malformed reply read while that channel's thread was ending) is
	 * the save's failure too: the stream is whole, the load is not.
	 */
	if (!ctx->finished || save_cancelled(ctx))
		return save_error(ctx);
	return 0;
}

void output_stop(struct save_ctx *ctx)
{
	if (!ctx->queue)
		return;
	if (!ctx->finished)
		save_cancel(ctx);
	wait_output_threads(ctx, false, NULL);
	for (unsigned int i = 0; i < ctx->nchannels; i++) {
		if (ctx->channels[i].started)
			pthread_join(ctx->channels[i].thread, NULL);
		ctx->channels[i].started = false;
	}
	for (unsigned int i = 0; i < ctx->nworkers; i++)
		pthread_join(ctx->workers[i], NULL);
	ctx->nworkers = 0;
	free(ctx->workers);
	ctx->workers = NULL;
	ctx->result.queue_peak = chunk_queue_peak(ctx->queue);
	chunk_queue_free(ctx->queue);
	ctx->queue = NULL;
	for (unsigned int i = 0; i < ctx->ndevs; i++)
		ctx->result.adaptive_raw += ctx->devs[i].adaptive_raw;
}

uint64_t output_channel_bytes(const struct save_ctx *ctx, unsigned int ch)
{
	return ctx->channels[ch].writer ? migstream_writer_offset(ctx->channels[ch].writer) : 0;
}

uint64_t output_bytes(const struct save_ctx *ctx)
{
	uint64_t bytes = 0;

	for (unsigned int i = 0; i < ctx->nchannels; i++)
		bytes += output_channel_bytes(ctx, i);
	return bytes;
}
