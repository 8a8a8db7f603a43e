// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * One QEMU main channel, read to its end.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/exitcodes.h"
#include "common/log.h"
#include "common/progress.h"
#include "qemu-cat.h"
#include "qemu-scan.h"

int cat_qemu_report(const struct cat_opts *o, const struct cat_stream *s,
		    const struct qemu_stream_error *e, int err)
{
	char line[1024];

	if (e && e->msg[0])
		snprintf(line, sizeof(line), "%s: %s", s->name, e->msg);
	else if (err == -EBADMSG)
		snprintf(line, sizeof(line), "%s: bad QEMU stream", s->name);
	else
		snprintf(line, sizeof(line), "%s: read error: %s", s->name, strerror(-err));
	cat_report_line(o, s, err, line);
	return vmt_exit_code_for_error(err);
}

bool cat_qemu_pci_ids(const uint8_t *head, size_t len, struct qemu_pci_ids *ids)
{
	return len && qemu_vfio_config_pci_ids(head, len, ids) == 0;
}

int cat_qemu_open(struct qemu_stream **r, const struct cat_stream *s, const struct cat_head *h)
{
	struct qemu_stream_opts ropts = { 0 };

	if (h->consumed) {
		ropts.prefix = h->buf;
		ropts.prefix_len = h->len;
	}
	return qemu_stream_new(r, s->fd, s->name, &ropts);
}

int cat_qemu_read(const struct cat_opts *o, struct cat_stream *s, const struct cat_head *h,
		  const struct cat_qemu_ops *ops, void *ctx, uint32_t *page_size)
{
	struct qemu_stream *r;
	struct qemu_event ev;
	struct vmt_progress prog;
	uint64_t size;
	int rc, status = VMT_EXIT_OK;

	rc = cat_qemu_open(&r, s, h);
	if (rc < 0) {
		vmt_err("%s: %s", s->name, strerror(-rc));
		return vmt_exit_code_for_error(rc);
	}
	vmt_dbg("%s: reading a QEMU migration stream", s->name);
	vmt_progress_init(&prog, cat_progress_wanted(o));
	size = vmt_progress_fd_total(s->fd);
	while (status == VMT_EXIT_OK) {
		rc = qemu_stream_next(r, &ev);
		if (rc < 0) {
			vmt_progress_clear(&prog);
			status = cat_qemu_report(o, s, qemu_stream_error(r), rc);
			break;
		}
		if (rc == 0) {
			vmt_progress_clear(&prog);
			vmt_dbg("%s: %llu bytes, ok", s->name,
				(unsigned long long)qemu_stream_offset(r));
			if (ops->end)
				status = ops->end(ctx, s, r);
			break;
		}
		status = ops->event(ctx, s, r, &ev);
		vmt_progress_update(&prog, s->name, qemu_stream_offset(r), size, false);
	}
	vmt_progress_clear(&prog);
	if (page_size)
		*page_size = qemu_stream_page_size(r);
	qemu_stream_free(r);
	return status;
}

int cat_qemu_scan(const struct cat_opts *o, struct cat_stream *s, const struct cat_head *h)
{
	if (qemu_channel_probe(h->buf, h->len) == QEMU_CHANNEL_MULTIFD) {
		vmt_err("%s: is a QEMU multifd channel: give it after its main channel to --from-qemu",
			s->name);
		return VMT_EXIT_BADDATA;
	}
	switch (o->mode) {
	case CAT_MODE_LIST:
	case CAT_MODE_VERIFY:
		return cat_qemu_list(o, s, h);
	case CAT_MODE_EXTRACT:
		return cat_qemu_extract(o, s, h);
	default:
		vmt_err("%s: is a QEMU migration stream: this mode takes migstreams (--from-qemu converts it)",
			s->name);
		return VMT_EXIT_USAGE;
	}
}
