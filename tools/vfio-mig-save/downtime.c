// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The expected stop-copy time; see downtime.h.
 *
 * The rates are measured, not configured: a device's over its pre-copy
 * passes (the time its reader spent reading and queueing, so a full queue
 * behind a slow channel slows it too), a channel's over the time its
 * thread spent in writes (a pipe or socket whose reader is slow blocks
 * them). The return path's acks say when the destination took a device's
 * initial data, not how fast it writes: the destination's write rate is
 * not in them, and a slow destination shows only as a slow channel once
 * its socket or pipe fills.
 */
#include <stdatomic.h>

#include "common/c.h"
#include "stream/migstream.h"
#include "stream/writer.h"
#include "vfio/mig.h"
#include "downtime.h"

/*
 * Any bytes make a rate: a device of a few bytes (mtty: 24 of pre-copy, 60
 * in all) measures little, but what it has left is as little.
 */
static uint64_t rate_of(uint64_t bytes, uint64_t ns)
{
	if (!bytes || !ns)
		return 0;
	return (uint64_t)((double)bytes * NSEC_PER_SEC / ns);
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

static uint64_t ns_for(uint64_t bytes, uint64_t rate)
{
	return (uint64_t)((double)bytes * NSEC_PER_SEC / rate);
}

/* MIG_DATA_SIZE moves as a device dirties: ask it again, as QEMU does each iteration. */
static uint64_t device_left(struct save_device *sd)
{
	uint64_t size;

	if (sd->stop_copy_size != MIGSTREAM_SIZE_UNKNOWN &&
	    vmt_mig_stop_copy_size(sd->dev, &size) == 0)
		return size;
	return sd->estimate;
}

/* The slowest measured device read rate, 0 if none was measured. */
static uint64_t slowest_read_rate(const struct save_ctx *ctx)
{
	uint64_t slowest = 0;

	for (unsigned int i = 0; i < ctx->ndevs; i++) {
		uint64_t r = rate_of(ctx->devs[i].read_bytes, ctx->devs[i].read_ns);

		if (r && (!slowest || r < slowest))
			slowest = r;
	}
	return slowest;
}

/* The channels write at once: their rates add up. */
static uint64_t channels_rate(const struct save_ctx *ctx)
{
	uint64_t sum = 0;

	for (unsigned int i = 0; i < ctx->nchannels; i++) {
		const struct save_channel *ch = &ctx->channels[i];

		if (ch->writer)
			sum += rate_of(migstream_writer_bytes_out(ch->writer),
				       atomic_load_explicit(&ch->write_ns, memory_order_relaxed));
	}
	return sum;
}

/*
 * The devices' reading: each at its own rate (the slowest measured one where
 * its own is not), all at once unless --jobs reads fewer at a time.
 */
static uint64_t read_ns(const struct save_ctx *ctx, uint64_t slowest)
{
	bool at_once = !ctx->opts.jobs || ctx->opts.jobs >= ctx->ndevs;
	uint64_t total = 0;

	for (unsigned int i = 0; i < ctx->ndevs; i++) {
		const struct save_device *sd = &ctx->devs[i];
		uint64_t r = rate_of(sd->read_bytes, sd->read_ns);
		uint64_t t = ns_for(sd->left_bytes, r ? r : slowest);

		total = at_once ? max_u64(total, t) : total + t;
	}
	return total;
}

void downtime_estimate(struct save_ctx *ctx, struct save_estimate *e)
{
	uint64_t device_ns, channel_ns = 0;

	*e = (struct save_estimate){ .ns = SAVE_ESTIMATE_UNKNOWN };
	for (unsigned int i = 0; i < ctx->ndevs; i++) {
		ctx->devs[i].left_bytes = device_left(&ctx->devs[i]);
		e->bytes += ctx->devs[i].left_bytes;
	}
	e->read_rate = slowest_read_rate(ctx);
	e->channel_rate = channels_rate(ctx);
	if (!e->read_rate)
		return;
	device_ns = read_ns(ctx, e->read_rate);
	if (e->channel_rate)
		channel_ns = ns_for(e->bytes, e->channel_rate);
	e->bottleneck = channel_ns > device_ns ? "channel-write" : "device-read";
	e->ns = max_u64(device_ns, channel_ns);
}

bool downtime_fits(const struct save_ctx *ctx, const struct save_estimate *e)
{
	return ctx->opts.downtime_limit_set && e->ns != SAVE_ESTIMATE_UNKNOWN &&
	       e->ns <= ctx->opts.downtime_limit_ns;
}
