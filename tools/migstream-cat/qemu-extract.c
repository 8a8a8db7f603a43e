// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * --extract=ID on a QEMU stream: one VFIO device's data bytes (what its
 * DEV_DATA_STATE blocks carry, pre-copy and complete phase), in stream
 * order, as QEMU's destination hands them to the device. ID is the
 * device's idstr ("0000:00:01.0/vfio") or its section id from the listing.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/exitcodes.h"
#include "common/fdio.h"
#include "common/log.h"
#include "common/textescape.h"
#include "output.h"
#include "qemu-cat.h"
#include "qemu-scan.h"
#include "qemu-set.h"

struct qemu_extract {
	const char *idstr; /* NULL: by section id */
	uint32_t section_id;
	bool found;
	char found_idstr[256]; /* the device found: its multifd buffers are named so */
	uint32_t instance_id;
	uint64_t bytes;
};

static const char *shown(const char *text)
{
	static char buf[VMT_ESCAPED_SIZE(256)];

	return vmt_escape_text(text, buf, sizeof(buf));
}

/*
 * A VFIO section: is it the device asked for? By idstr, a second instance
 * of it makes the ID ambiguous (found when it comes, as for migstreams).
 */
static int match(struct qemu_extract *ctx, const struct cat_stream *s,
		 const struct qemu_section *sec, bool *is_it)
{
	*is_it = false;
	if (sec->kind != QEMU_KIND_VFIO)
		return VMT_EXIT_OK;
	if (!ctx->idstr) {
		*is_it = sec->section_id == ctx->section_id;
		if (*is_it && !ctx->found) {
			snprintf(ctx->found_idstr, sizeof(ctx->found_idstr), "%s", sec->idstr);
			ctx->instance_id = sec->instance_id;
		}
		ctx->found |= *is_it;
		return VMT_EXIT_OK;
	}
	if (strcmp(sec->idstr, ctx->idstr) != 0)
		return VMT_EXIT_OK;
	if (ctx->found && sec->instance_id != ctx->instance_id) {
		vmt_err("%s: idstr '%s' is ambiguous: instances %" PRIu32 " and %" PRIu32
			" have it (give the section id)",
			s->name, shown(ctx->idstr), ctx->instance_id, sec->instance_id);
		return VMT_EXIT_BADDATA;
	}
	ctx->found = true;
	snprintf(ctx->found_idstr, sizeof(ctx->found_idstr), "%s", sec->idstr);
	ctx->instance_id = sec->instance_id;
	*is_it = true;
	return VMT_EXIT_OK;
}

static int write_bytes(struct qemu_extract *ctx, const uint8_t *data, size_t len)
{
	int rc = vmt_write_all(STDOUT_FILENO, data, len);

	if (rc)
		return cat_write_error(rc);
	ctx->bytes += len;
	return VMT_EXIT_OK;
}

static int extract_event(void *vctx, const struct cat_stream *s, struct qemu_stream *r,
			 const struct qemu_event *ev)
{
	struct qemu_extract *ctx = vctx;
	bool is_it;

	(void)r;
	if (ev->type == QEMU_EV_SECTION_BEGIN)
		return match(ctx, s, ev->sec, &is_it);
	if (ev->type != QEMU_EV_VFIO_DATA)
		return VMT_EXIT_OK;
	if (ctx->idstr)
		is_it = ctx->found && strcmp(ev->sec->idstr, ctx->idstr) == 0 &&
			ev->sec->instance_id == ctx->instance_id;
	else
		is_it = ev->sec->section_id == ctx->section_id;
	return is_it ? write_bytes(ctx, ev->data, ev->len) : VMT_EXIT_OK;
}

static int extract_end(void *vctx, const struct cat_stream *s, struct qemu_stream *r)
{
	struct qemu_extract *ctx = vctx;

	(void)r;
	if (!ctx->found && ctx->idstr) {
		vmt_err("%s: no VFIO device '%s' in the stream", s->name, shown(ctx->idstr));
		return VMT_EXIT_BADDATA;
	}
	if (!ctx->found) {
		vmt_err("%s: no VFIO section with id %" PRIu32 " in the stream", s->name,
			ctx->section_id);
		return VMT_EXIT_BADDATA;
	}
	vmt_dbg("%s: %llu bytes of device data", s->name, (unsigned long long)ctx->bytes);
	return VMT_EXIT_OK;
}

static const struct cat_qemu_ops extract_ops = {
	.event = extract_event,
	.end = extract_end,
};

int cat_qemu_extract(const struct cat_opts *o, struct cat_stream *s, const struct cat_head *h)
{
	struct qemu_extract ctx = { .idstr = o->extract_name, .section_id = o->extract_device };

	return cat_qemu_read(o, s, h, &extract_ops, &ctx, NULL);
}

/* The device's buffers from the multifd channels, in index order: its complete phase. */
static int multifd_event(void *vctx, const struct cat_qemu_set *set,
			 const struct qemu_multifd_event *ev)
{
	struct qemu_extract *ctx = vctx;

	(void)set;
	if (ev->type != QEMU_MF_EV_DEVICE_DATA || ev->instance_id != ctx->instance_id ||
	    strcmp(ev->idstr, ctx->found_idstr) != 0)
		return VMT_EXIT_OK;
	return write_bytes(ctx, ev->data, ev->len);
}

int cat_qemu_extract_set(const struct cat_opts *o, struct cat_qemu_set *set)
{
	static const struct cat_multifd_ops mf_ops = { .event = multifd_event };
	struct cat_qemu_input *in = &set->in[set->main_input];
	struct qemu_extract ctx = { .idstr = o->extract_name, .section_id = o->extract_device };
	int status;

	status = cat_qemu_read(o, &in->s, &in->head, &extract_ops, &ctx, &set->page_size);
	if (status == VMT_EXIT_OK)
		status = cat_qemu_set_read_multifd(o, set, &mf_ops, &ctx);
	return status;
}
