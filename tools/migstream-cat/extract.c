// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Device state out of a stream.
 */
#include <string.h>
#include <unistd.h>

#include "common/closestream.h"
#include "common/exitcodes.h"
#include "common/fdio.h"
#include "common/log.h"
#include "common/textescape.h"
#include "extract.h"
#include "output.h"
#include "qemu-set.h"
#include "scan.h"

struct extract_ctx {
	const char *name; /* --extract=NAME: the index comes from the DEVICE record of that name */
	uint32_t device;
	bool declared;
	uint64_t bytes;
};

static int extract_begin(void *vctx, struct cat_stream *s)
{
	struct extract_ctx *ctx = vctx;

	ctx->declared = false;
	ctx->bytes = 0;
	return VMT_EXIT_OK;
}

/* The name as the user gave it, safe for a one-line message. */
static const char *shown_name(const char *name)
{
	static char shown[VMT_ESCAPED_SIZE(MIGSTREAM_MAX_STRING)];

	return vmt_escape_text(name, shown, sizeof(shown));
}

/*
 * A DEVICE record: is it the device asked for? By name, the first DEVICE
 * of that name fixes the index; a second one makes the name ambiguous
 * (found when it comes: bytes of the first may have been written by then).
 */
static int match_device(struct extract_ctx *ctx, struct cat_stream *s,
			const struct migstream_device *d)
{
	if (!ctx->name) {
		ctx->declared |= d->index == ctx->device;
		return VMT_EXIT_OK;
	}
	if (strcmp(d->name, ctx->name) != 0)
		return VMT_EXIT_OK;
	if (ctx->declared) {
		vmt_err("%s: device name '%s' is ambiguous: devices %u and %u have it (give the index)",
			s->name, shown_name(ctx->name), ctx->device, d->index);
		return VMT_EXIT_BADDATA;
	}
	ctx->declared = true;
	ctx->device = d->index;
	return VMT_EXIT_OK;
}

static int extract_record(void *vctx, struct cat_stream *s, const struct migstream_record *rec)
{
	struct extract_ctx *ctx = vctx;
	int rc;

	/* A channel holds some of each device's chunks: its bytes alone are no state. */
	if (rec->type == MIGSTREAM_REC_CHANNEL) {
		vmt_err("%s: is channel %u of %u of a set: --merge the set, then --extract",
			s->name, rec->channel.channel, rec->channel.channel_count);
		return VMT_EXIT_BADDATA;
	}
	if (rec->type == MIGSTREAM_REC_DEVICE)
		return match_device(ctx, s, &rec->device);
	if (rec->type != MIGSTREAM_REC_DATA || !ctx->declared || rec->data.device != ctx->device)
		return VMT_EXIT_OK;
	rc = vmt_write_all(STDOUT_FILENO, rec->data.data, rec->data.len);
	if (rc)
		return cat_write_error(rc);
	ctx->bytes += rec->data.len;
	return VMT_EXIT_OK;
}

static int extract_end(void *vctx, struct cat_stream *s)
{
	struct extract_ctx *ctx = vctx;

	if (!ctx->declared && ctx->name) {
		vmt_err("%s: no device named '%s' in the stream", s->name, shown_name(ctx->name));
		return VMT_EXIT_BADDATA;
	}
	if (!ctx->declared) {
		vmt_err("%s: no device %u in the stream", s->name, ctx->device);
		return VMT_EXIT_BADDATA;
	}
	vmt_dbg("%s: device %u: %llu bytes", s->name, ctx->device, (unsigned long long)ctx->bytes);
	return VMT_EXIT_OK;
}

int cat_extract_inputs(const struct cat_opts *o)
{
	static const struct cat_scan_ops ops = {
		.begin = extract_begin,
		.record = extract_record,
		.end = extract_end,
	};
	struct migstream_reader_opts ropts = { 0 };
	struct extract_ctx ctx = { .name = o->extract_name, .device = o->extract_device };

	/* QEMU's main channel and its multifd channels: one migration */
	if (cat_qemu_inputs_are_set(o))
		return cat_qemu_set_run(o);
	for (int i = 0; i < o->ninputs; i++) {
		int rc = cat_scan(o, o->inputs[i], &ropts, &ops, &ctx);

		if (rc)
			return rc; /* nothing past a bad record */
	}
	return VMT_EXIT_OK;
}
