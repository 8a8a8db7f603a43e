// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * --merge: the channels of a set (man/migstream.5, CHANNELS) read through
 * lib/stream/channel-set, which checks the set and puts every device's chunks
 * back in order, copied into a plain writer: one whole stream.
 *
 * --split=N: one stream into the N channels of a new set. Every channel
 * gets the STREAM_HEADER, every DEVICE and every DEVICE_END (with the
 * source's totals: they are the set's); the DATA chunks are dealt round
 * robin, keeping the source's numbering; other records go to channel 0.
 *
 * Outputs go through lib/common/outfile: a file appears under its name only when
 * the whole run succeeded.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "common/exitcodes.h"
#include "common/log.h"
#include "common/outfile.h"
#include "common/progress.h"
#include "stream/channel-set.h"
#include "stream/writer.h"
#include "convert.h"
#include "output.h"
#include "scan.h"

/* A stream writer's failure on a named output. */
static int output_error(const struct vmt_outfile *out, int err)
{
	switch (-err) {
	case EPIPE:
	case ENOSPC:
	case EIO:
	case EDQUOT:
	case EFBIG:
		vmt_err("%s: write error: %s", vmt_outfile_label(out), strerror(-err));
		return VMT_EXIT_FAILURE;
	default:
		vmt_err("%s: cannot write the stream: %s", vmt_outfile_label(out), strerror(-err));
		return vmt_exit_code_for_error(err);
	}
}

static int open_output(struct vmt_outfile *out, const char *name)
{
	int rc = vmt_outfile_open(out, name);

	if (rc < 0) {
		vmt_err("%s: cannot open for writing: %s", name ? name : "<stdout>", strerror(-rc));
		return VMT_EXIT_FAILURE;
	}
	return VMT_EXIT_OK;
}

static int commit_output(struct vmt_outfile *out)
{
	int rc = vmt_outfile_commit(out);

	if (rc < 0) {
		vmt_err("%s: cannot write: %s", vmt_outfile_label(out), strerror(-rc));
		return VMT_EXIT_FAILURE;
	}
	return VMT_EXIT_OK;
}

/* ---- --merge ---- */

struct merge_inputs {
	struct migstream_channel_input in[MIGSTREAM_MAX_CHANNELS];
	const char *names[MIGSTREAM_MAX_CHANNELS];
	unsigned int n;
	uint64_t total; /* bytes, when every input is a file: for progress */
};

static int open_merge_inputs(const struct cat_opts *o, struct merge_inputs *mi)
{
	mi->n = 0;
	for (int i = 0; i < o->ninputs; i++) {
		int fd = cat_open_input(o->inputs[i], &mi->names[i]);

		if (fd < 0)
			return VMT_EXIT_FAILURE;
		mi->in[mi->n++] =
			(struct migstream_channel_input){ .fd = fd, .name = mi->names[i] };
		mi->total += vmt_progress_fd_total(fd);
	}
	return VMT_EXIT_OK;
}

static void close_merge_inputs(struct merge_inputs *mi)
{
	for (unsigned int i = 0; i < mi->n; i++)
		cat_close_input(mi->in[i].fd);
}

/* A set that does not make one stream is bad data (exit 4), whatever the library's errno. */
static int set_error(struct migstream_channel_set *set, int err)
{
	vmt_err("%s", migstream_channel_set_error(set));
	if (err == -ENOBUFS)
		return VMT_EXIT_BADDATA;
	return vmt_exit_code_for_error(err);
}

static int merge_records(const struct cat_opts *o, struct migstream_channel_set *set,
			 struct migstream_writer *w, const struct vmt_outfile *out, uint64_t total)
{
	struct migstream_record rec;
	struct vmt_progress prog;
	int rc, status = VMT_EXIT_OK;

	vmt_progress_init(&prog, cat_progress_wanted(o));
	while ((rc = migstream_channel_set_next(set, &rec, NULL)) == 1) {
		rc = migstream_copy_record(w, &rec);
		if (rc < 0) {
			status = output_error(out, rc);
			break;
		}
		vmt_progress_update(&prog, "merge", migstream_channel_set_bytes(set), total, false);
	}
	vmt_progress_clear(&prog);
	if (rc < 0 && status == VMT_EXIT_OK)
		status = set_error(set, rc);
	return status;
}

int cat_merge(const struct cat_opts *o)
{
	const struct migstream_channel_set_opts sopts = { .reorder_limit = o->reorder_limit };
	struct migstream_writer_opts wopts = { .producer = "migstream-cat" };
	struct migstream_channel_set *set = NULL;
	struct migstream_writer *w = NULL;
	struct vmt_outfile out;
	struct merge_inputs mi = { 0 };
	int rc, status;

	status = open_merge_inputs(o, &mi);
	if (status == VMT_EXIT_OK)
		status = open_output(&out, o->noutputs ? o->outputs[0] : NULL);
	if (status != VMT_EXIT_OK) {
		close_merge_inputs(&mi);
		return status;
	}
	rc = migstream_channel_set_open(&set, mi.in, mi.n, &sopts);
	if (rc < 0) {
		vmt_err("cannot read the channels: %s", strerror(-rc));
		status = VMT_EXIT_FAILURE;
	} else {
		rc = migstream_writer_new(&w, out.fd, &wopts);
		status = rc < 0 ? output_error(&out, rc) : merge_records(o, set, w, &out, mi.total);
	}
	if (status == VMT_EXIT_OK) {
		uint8_t id[MIGSTREAM_SET_ID_LEN];
		unsigned int n = migstream_channel_set_count(set, id);

		vmt_dbg("merged %u channel%s, reorder peak %" PRIu64 " bytes", n, n == 1 ? "" : "s",
			migstream_channel_set_reorder_peak(set));
	}
	migstream_writer_free(w);
	migstream_channel_set_free(set);
	close_merge_inputs(&mi);
	if (status == VMT_EXIT_OK)
		status = commit_output(&out);
	else
		vmt_outfile_abort(&out);
	vmt_outfile_free(&out);
	return status;
}

/* ---- --split ---- */

struct split_ctx {
	const struct cat_opts *o;
	unsigned int n;
	struct vmt_outfile out[MIGSTREAM_MAX_CHANNELS];
	char *names[MIGSTREAM_MAX_CHANNELS];
	struct migstream_writer *w[MIGSTREAM_MAX_CHANNELS];
	struct migstream_channel ch[MIGSTREAM_MAX_CHANNELS];
	unsigned int nopen;
	uint64_t next_data; /* round robin */
};

/* -o with %u: the channel's number in its place. */
static char *output_name(const struct cat_opts *o, unsigned int k)
{
	const char *pattern = o->noutputs == 1 ? o->outputs[0] : o->outputs[k];
	const char *pct = strstr(pattern, "%u");
	char *name;

	if (!pct)
		return strdup(pattern);
	if (asprintf(&name, "%.*s%u%s", (int)(pct - pattern), pattern, k, pct + 2) < 0)
		return NULL;
	return name;
}

static int split_open(struct split_ctx *ctx)
{
	uint8_t id[MIGSTREAM_SET_ID_LEN];
	int status;

	if (getrandom(id, sizeof(id), 0) != (ssize_t)sizeof(id)) {
		vmt_err("cannot make a set id: %s", strerror(errno));
		return VMT_EXIT_FAILURE;
	}
	for (unsigned int k = 0; k < ctx->n; k++) {
		ctx->names[k] = output_name(ctx->o, k);
		if (!ctx->names[k]) {
			vmt_err("out of memory");
			return VMT_EXIT_FAILURE;
		}
		for (unsigned int j = 0; j < k; j++)
			if (vmt_outfile_same(ctx->names[j], ctx->names[k])) {
				vmt_err("%s: output of channels %u and %u", ctx->names[k], j, k);
				return VMT_EXIT_USAGE;
			}
	}
	for (unsigned int k = 0; k < ctx->n; k++) {
		status = open_output(&ctx->out[k], ctx->names[k]);
		if (status)
			return status;
		ctx->nopen++;
		ctx->ch[k] = (struct migstream_channel){ .channel = k, .channel_count = ctx->n };
		memcpy(ctx->ch[k].set_id, id, sizeof(id));
	}
	return VMT_EXIT_OK;
}

/* Only once the input's preamble passed: the channels' preambles follow. */
static int split_begin(void *vctx, struct cat_stream *s)
{
	struct split_ctx *ctx = vctx;
	int rc;

	(void)s;
	for (unsigned int k = 0; k < ctx->n; k++) {
		struct migstream_writer_opts wopts = { .producer = "migstream-cat",
						       .channel = &ctx->ch[k] };

		rc = migstream_writer_new(&ctx->w[k], ctx->out[k].fd, &wopts);
		if (rc < 0)
			return output_error(&ctx->out[k], rc);
	}
	return VMT_EXIT_OK;
}

static int split_copy(struct split_ctx *ctx, unsigned int k, const struct migstream_record *rec)
{
	int rc = migstream_copy_record(ctx->w[k], rec);

	return rc < 0 ? output_error(&ctx->out[k], rc) : VMT_EXIT_OK;
}

static int split_record(void *vctx, struct cat_stream *s, const struct migstream_record *rec)
{
	struct split_ctx *ctx = vctx;
	int status = VMT_EXIT_OK;

	switch (rec->type) {
	case MIGSTREAM_REC_CHANNEL:
		vmt_err("%s: is a channel of a set already (--merge it first)", s->name);
		return VMT_EXIT_BADDATA;
	case MIGSTREAM_REC_DATA:
		return split_copy(ctx, (unsigned int)(ctx->next_data++ % ctx->n), rec);
	case MIGSTREAM_REC_STREAM_HEADER:
	case MIGSTREAM_REC_DEVICE:
	case MIGSTREAM_REC_DEVICE_END:
	case MIGSTREAM_REC_STREAM_END:
		for (unsigned int k = 0; k < ctx->n && status == VMT_EXIT_OK; k++)
			status = split_copy(ctx, k, rec);
		return status;
	default:
		return split_copy(ctx, 0, rec);
	}
}

int cat_split(const struct cat_opts *o)
{
	static const struct cat_scan_ops ops = {
		.begin = split_begin,
		.record = split_record,
	};
	struct migstream_reader_opts ropts = { 0 };
	struct split_ctx *ctx = calloc(1, sizeof(*ctx));
	int status;

	if (!ctx) {
		vmt_err("out of memory");
		return VMT_EXIT_FAILURE;
	}
	ctx->o = o;
	ctx->n = o->split_channels;
	status = split_open(ctx);
	if (status == VMT_EXIT_OK)
		status = cat_scan(o, o->inputs[0], &ropts, &ops, ctx);
	for (unsigned int k = 0; k < ctx->n; k++)
		migstream_writer_free(ctx->w[k]);
	for (unsigned int k = 0; k < ctx->nopen; k++) {
		if (status == VMT_EXIT_OK)
			status = commit_output(&ctx->out[k]);
		else
			vmt_outfile_abort(&ctx->out[k]);
		vmt_outfile_free(&ctx->out[k]);
	}
	for (unsigned int k = 0; k < ctx->n; k++)
		free(ctx->names[k]);
	free(ctx);
	return status;
}
