// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * --recompress: every record of a stream again, with another compression.
 *
 * Records go through migstream_copy_record(), which keeps the source's
 * STREAM_HEADER and every payload as they are, and recomputes only what
 * the new compression changes (STREAM_END's payload total) or what it
 * must vouch for itself (DEVICE_END digests, from the bytes it wrote).
 * A channel of a set stays that channel: the writer is made a channel
 * writer with the source's CHANNEL record, which is why it is created only
 * at the second record (the STREAM_HEADER waits in a copy until then).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/closestream.h"
#include "common/exitcodes.h"
#include "common/log.h"
#include "stream/writer.h"
#include "convert.h"
#include "output.h"
#include "scan.h"

struct recompress_ctx {
	const struct cat_opts *o;
	struct migstream_writer *w;
	uint8_t *header; /* the source's STREAM_HEADER payload, until the writer exists */
	uint32_t header_len;
};

/* At the second record: a channel writer if it is CHANNEL, then the source's STREAM_HEADER. */
static int recompress_start(struct recompress_ctx *ctx, const struct migstream_record *rec)
{
	struct migstream_writer_opts wopts = {
		.producer = "migstream-cat",
		.zstd_level = ctx->o->zstd_level,
		.channel = rec->type == MIGSTREAM_REC_CHANNEL ? &rec->channel : NULL,
	};
	int rc = migstream_writer_new(&ctx->w, STDOUT_FILENO, &wopts);

	if (rc == 0)
		rc = migstream_write_record(ctx->w, MIGSTREAM_REC_STREAM_HEADER, 0, ctx->header,
					    ctx->header_len);
	return rc;
}

static int recompress_record(void *vctx, struct cat_stream *s, const struct migstream_record *rec)
{
	struct recompress_ctx *ctx = vctx;
	int rc;

	(void)s;
	if (rec->type == MIGSTREAM_REC_STREAM_HEADER) {
		ctx->header = malloc(rec->len ? rec->len : 1);
		if (!ctx->header)
			return cat_writer_error(-ENOMEM);
		memcpy(ctx->header, rec->payload, rec->len);
		ctx->header_len = rec->len;
		return VMT_EXIT_OK;
	}
	if (!ctx->w) {
		rc = recompress_start(ctx, rec);
		if (rc < 0)
			return cat_writer_error(rc);
		if (rec->type == MIGSTREAM_REC_CHANNEL)
			return VMT_EXIT_OK; /* the channel writer wrote its own */
	}
	rc = migstream_copy_record(ctx->w, rec);
	return rc < 0 ? cat_writer_error(rc) : VMT_EXIT_OK;
}

int cat_recompress(const struct cat_opts *o)
{
	static const struct cat_scan_ops ops = {
		.record = recompress_record,
	};
	struct migstream_reader_opts ropts = { 0 };
	struct recompress_ctx ctx = { .o = o };
	int rc;

	rc = cat_scan(o, o->inputs[0], &ropts, &ops, &ctx);
	if (ctx.w)
		migstream_writer_free(ctx.w);
	free(ctx.header);
	return rc;
}
