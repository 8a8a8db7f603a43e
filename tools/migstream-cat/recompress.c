// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * --recompress: every record of a stream again, with another compression.
 *
 * Records go through migstream_copy_record(), which keeps the source's
 * STREAM_HEADER and every payload as they are, and recomputes only what
 * the new compression changes (STREAM_END's payload total) or what it
 * must vouch for itself (DEVICE_END digests, from the bytes it wrote).
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "closestream.h"
#include "convert.h"
#include "exitcodes.h"
#include "log.h"
#include "output.h"
#include "scan.h"
#include "stream-writer.h"

struct recompress_ctx {
	const struct cat_opts *o;
	struct migstream_writer *w;
};

/* Only once the input opened and its preamble passed: no output otherwise. */
static int recompress_begin(void *vctx, struct cat_stream *s)
{
	struct recompress_ctx *ctx = vctx;
	struct migstream_writer_opts wopts = {
		.producer = "migstream-cat",
		.zstd_level = ctx->o->zstd_level,
	};
	int rc = migstream_writer_new(&ctx->w, STDOUT_FILENO, &wopts);

	return rc < 0 ? cat_writer_error(rc) : VMT_EXIT_OK;
}

static int recompress_record(void *vctx, struct cat_stream *s, const struct migstream_record *rec)
{
	struct recompress_ctx *ctx = vctx;
	int rc;

	rc = migstream_copy_record(ctx->w, rec);
	return rc < 0 ? cat_writer_error(rc) : VMT_EXIT_OK;
}

int cat_recompress(const struct cat_opts *o)
{
	static const struct cat_scan_ops ops = {
		.begin = recompress_begin,
		.record = recompress_record,
	};
	struct migstream_reader_opts ropts = { 0 };
	struct recompress_ctx ctx = { .o = o };
	int rc;

	rc = cat_scan(o, o->inputs[0], &ropts, &ops, &ctx);
	if (ctx.w)
		migstream_writer_free(ctx.w);
	return rc;
}
