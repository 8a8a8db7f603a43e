// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Listing, verifying and passing streams through.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/c.h"
#include "common/closestream.h"
#include "common/exitcodes.h"
#include "common/json-doc.h"
#include "common/log.h"
#include "stream/dirty-bitmap.h"
#include "stream/reply.h"
#include "describe.h"
#include "listing.h"
#include "output.h"
#include "qemu-set.h"
#include "reply.h"
#include "scan.h"
#include "summary.h"
#include "tee.h"

static const enum cat_column default_columns[] = {
	CAT_COL_OFFSET,	     CAT_COL_SEQ,   CAT_COL_TYPE, CAT_COL_DEVICE,
	CAT_COL_PHASE,	     CAT_COL_CHUNK, CAT_COL_RAW,  CAT_COL_STORED,
	CAT_COL_COMPRESSION, CAT_COL_CHECK, CAT_COL_INFO,
};

struct list_ctx {
	const struct cat_opts *o;
	FILE *out; /* NULL: --verify */
	const enum cat_column *cols;
	int ncols;
	bool show_names; /* several inputs: say which one a listing belongs to */
	bool heading_done;
	struct cat_tee *tee;
	struct cat_kind kind; /* forward or reply stream */
	struct cat_summary summary;
	struct cat_row row;
	/* for the dirty range callback */
	const struct cat_stream *stream;
	const struct migstream_record *rec;
	const struct migstream_dirty_bitmap *bitmap;
};

static int list_begin(void *vctx, struct cat_stream *s)
{
	struct list_ctx *ctx = vctx;

	cat_summary_init(&ctx->summary);
	ctx->kind = (struct cat_kind){ 0 };
	ctx->heading_done = false;
	return VMT_EXIT_OK;
}

/* Only once the first record passed: a file that is no stream gets no heading. */
static void print_heading(struct list_ctx *ctx, const struct cat_stream *s)
{
	ctx->heading_done = true;
	if (!ctx->out || ctx->o->json)
		return;
	if (ctx->show_names)
		fprintf(ctx->out, "%s:\n", s->name);
	if (!ctx->o->dirty)
		cat_print_heading(ctx->out, ctx->cols, ctx->ncols);
}

static int print_range(void *vctx, uint64_t first_page, uint64_t npages)
{
	struct list_ctx *ctx = vctx;
	const struct migstream_dirty_bitmap *b = ctx->bitmap;
	uint64_t start, last;

	/* The reader refused bitmaps whose pages run past 2^64: no wrap here. */
	start = b->iova + first_page * b->page_size;
	last = start + npages * b->page_size - 1;
	if (!ctx->o->json) {
		fprintf(ctx->out, "  dirty 0x%016" PRIx64 "-0x%016" PRIx64 " %" PRIu64 " pages\n",
			start, last, npages);
		return 0;
	}
	struct json_object *doc = vmt_json_doc_new("migstream-cat", CAT_JSON_SCHEMA_VERSION);

	vmt_json_add_str(doc, "type", "dirty_range");
	vmt_json_add_str(doc, "file", ctx->stream->name);
	vmt_json_add_u64(doc, "seq", ctx->rec->seq);
	vmt_json_add_u64(doc, "source", b->source);
	vmt_json_add_u64(doc, "iova", start);
	vmt_json_add_u64(doc, "iova_last", last);
	vmt_json_add_u64(doc, "first_page", first_page);
	vmt_json_add_u64(doc, "pages", npages);
	/* A write error stays on the stream: vmt_close_stdout() reports it at the end. */
	vmt_json_emit(ctx->out, doc);
	return 0;
}

/* --dirty: the reader validated the bitmap, so the walk cannot fail. */
static void print_ranges(struct list_ctx *ctx, const struct cat_stream *s,
			 const struct migstream_record *rec)
{
	ctx->stream = s;
	ctx->rec = rec;
	ctx->bitmap = &rec->dirty_bitmap;
	dirty_bitmap_for_each_range(&rec->dirty_bitmap, print_range, ctx);
}

static int list_record(void *vctx, struct cat_stream *s, const struct migstream_record *rec)
{
	struct list_ctx *ctx = vctx;
	bool shown = ctx->out && (!ctx->o->dirty || rec->type == MIGSTREAM_REC_DIRTY_BITMAP);
	char why[256];
	int rc;

	/* Before anything of the record is shown or passed on, as for the reader's checks. */
	if (cat_kind_check(&ctx->kind, rec, why, sizeof(why)))
		return cat_bad_record(ctx->o, s, rec, why);
	if (!ctx->heading_done)
		print_heading(ctx, s);
	cat_summary_add(&ctx->summary, rec);
	if (shown) {
		cat_describe_record(rec, &ctx->row);
		if (ctx->o->json)
			cat_print_row_json(ctx->out, s->name, &ctx->row, ctx->cols, ctx->ncols);
		else
			cat_print_row_text(ctx->out, &ctx->row, ctx->cols, ctx->ncols);
	}
	if (rec->type == MIGSTREAM_REC_DIRTY_BITMAP && ctx->out && ctx->o->dirty)
		print_ranges(ctx, s, rec);
	if (ctx->tee) {
		rc = cat_tee_release(ctx->tee,
				     rec->offset + MIGSTREAM_RECORD_HEADER_LEN + rec->stored_len);
		if (rc)
			return cat_write_error(rc);
	}
	/* A closed pipe on the listing: stop reading; close_stdout says why. */
	if (ctx->out && ferror(ctx->out))
		return VMT_EXIT_FAILURE;
	return VMT_EXIT_OK;
}

static int list_end(void *vctx, struct cat_stream *s)
{
	struct list_ctx *ctx = vctx;

	if (ctx->tee) {
		int rc = cat_tee_release(ctx->tee, UINT64_MAX);

		if (rc)
			return cat_write_error(rc);
	}
	/* --verify on one channel of a set: what it holds of each device */
	if (!ctx->out && ctx->summary.is_channel && !ctx->o->quiet) {
		char line[2048];

		cat_summary_channel_line(line, sizeof(line), &ctx->summary);
		vmt_info("%s: %s", s->name, line);
	}
	if (!ctx->out || ctx->o->quiet)
		return VMT_EXIT_OK;
	if (ctx->o->json) {
		cat_summary_print_json(ctx->out, &ctx->summary, s->name);
	} else {
		if (!ctx->o->dirty || ctx->summary.bitmaps)
			putc('\n', ctx->out);
		cat_summary_print_text(ctx->out, &ctx->summary, s->name);
	}
	return VMT_EXIT_OK;
}

int cat_list_inputs(const struct cat_opts *o)
{
	static const struct cat_scan_ops ops = {
		.begin = list_begin,
		.record = list_record,
		.end = list_end,
	};
	/* Forward and reply streams alike: reply.c tells them apart. */
	struct migstream_reader_opts ropts = { .caller_knows = migstream_reply_type_known };
	struct cat_tee tee;
	struct list_ctx *ctx;
	int status = VMT_EXIT_OK;

	/* QEMU's main channel and its multifd channels: one migration */
	if (o->mode != CAT_MODE_PASSTHROUGH && cat_qemu_inputs_are_set(o))
		return cat_qemu_set_run(o);
	/* The summary tracks many devices: keep it off the stack. */
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx) {
		vmt_err("out of memory");
		return VMT_EXIT_FAILURE;
	}
	ctx->o = o;
	ctx->cols = o->ncolumns ? o->columns : default_columns;
	ctx->ncols = o->ncolumns ? o->ncolumns : (int)(ARRAY_SIZE(default_columns));
	ctx->show_names = o->ninputs > 1 && !o->json;
	switch (o->mode) {
	case CAT_MODE_VERIFY:
		ctx->out = NULL;
		break;
	case CAT_MODE_PASSTHROUGH:
		ctx->out = o->quiet ? NULL : stderr;
		ctx->tee = &tee;
		ropts.tee = cat_tee_collect;
		ropts.tee_ctx = &tee;
		break;
	default:
		ctx->out = stdout;
	}
	for (int i = 0; i < o->ninputs; i++) {
		/* Before the reader exists: it may consume the preamble at once. */
		if (ctx->tee)
			cat_tee_init(ctx->tee, STDOUT_FILENO);
		int rc = cat_scan(o, o->inputs[i], &ropts, &ops, ctx);

		if (ctx->tee)
			cat_tee_free(ctx->tee);
		/* The reader has seen what it wanted (| head): list_record stopped, no error. */
		if (ctx->out == stdout && ferror(stdout) && vmt_stdout_reader_gone())
			rc = VMT_EXIT_OK;
		if (rc && !status)
			status = rc;
		if (rc && o->mode == CAT_MODE_PASSTHROUGH)
			break; /* nothing past a bad record */
		if (ctx->out && ctx->out == stdout && ferror(stdout))
			break;
		if (rc == VMT_EXIT_OK && ctx->out && ctx->show_names && i + 1 < o->ninputs)
			putc('\n', ctx->out);
		if (o->mode == CAT_MODE_VERIFY && rc == VMT_EXIT_OK)
			vmt_dbg("%s: ok", o->inputs[i]);
	}
	free(ctx);
	return status;
}
