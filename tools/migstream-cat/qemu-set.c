// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A QEMU migration's captures taken together.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/exitcodes.h"
#include "common/log.h"
#include "qemu-set.h"

int cat_qemu_set_open(const struct cat_opts *o, struct cat_qemu_set *set)
{
	memset(set, 0, sizeof(*set));
	set->main_input = -1;
	set->in = calloc((size_t)o->ninputs, sizeof(*set->in));
	if (!set->in) {
		vmt_err("out of memory");
		return VMT_EXIT_FAILURE;
	}
	for (int i = 0; i < o->ninputs; i++) {
		struct cat_qemu_input *in = &set->in[i];

		in->s.path = o->inputs[i];
		in->s.fd = cat_open_input(o->inputs[i], &in->s.name);
		if (in->s.fd < 0)
			return VMT_EXIT_FAILURE;
		set->nin = i + 1;
		cat_head_read(in->s.fd, &in->head);
		in->kind = qemu_channel_probe(in->head.buf, in->head.len);
		if (in->kind == QEMU_CHANNEL_UNKNOWN) {
			vmt_err("%s: neither a QEMU migration stream nor a QEMU multifd channel",
				in->s.name);
			return VMT_EXIT_BADDATA;
		}
		if (in->kind == QEMU_CHANNEL_MAIN && set->main_input >= 0) {
			vmt_err("%s: a second QEMU main channel (the first: %s)", in->s.name,
				set->in[set->main_input].s.name);
			return VMT_EXIT_BADDATA;
		}
		if (in->kind == QEMU_CHANNEL_MAIN)
			set->main_input = i;
	}
	if (set->main_input < 0) {
		vmt_err("%s: no QEMU main channel among the inputs (multifd channels only)",
			set->in[0].s.name);
		return VMT_EXIT_BADDATA;
	}
	return VMT_EXIT_OK;
}

void cat_qemu_set_close(struct cat_qemu_set *set)
{
	for (int i = 0; i < set->nin; i++)
		cat_close_input(set->in[i].s.fd);
	free(set->in);
	set->in = NULL;
	set->nin = 0;
}

bool cat_qemu_set_has_multifd(const struct cat_qemu_set *set)
{
	for (int i = 0; i < set->nin; i++)
		if (set->in[i].kind == QEMU_CHANNEL_MULTIFD)
			return true;
	return false;
}

/* The reader's line names the channel and its byte; --json repeats it, under the main channel's name. */
static int multifd_error(const struct cat_opts *o, const struct cat_qemu_set *set,
			 struct qemu_multifd *m, int err)
{
	const struct qemu_stream_error *e = qemu_multifd_error(m);
	char line[1024];

	snprintf(line, sizeof(line), "%s", e && e->msg[0] ? e->msg : strerror(-err));
	cat_report_line(o, &set->in[set->main_input].s, err, line);
	return vmt_exit_code_for_error(err);
}

static int add_channels(struct qemu_multifd *m, const struct cat_qemu_set *set)
{
	int rc = 0;

	for (int i = 0; i < set->nin && rc == 0; i++) {
		const struct cat_qemu_input *in = &set->in[i];

		if (in->kind != QEMU_CHANNEL_MULTIFD)
			continue;
		rc = qemu_multifd_add_fd(m, in->s.fd, in->s.name,
					 in->head.consumed ? in->head.buf : NULL,
					 in->head.consumed ? in->head.len : 0);
	}
	return rc;
}

int cat_qemu_set_read_multifd(const struct cat_opts *o, const struct cat_qemu_set *set,
			      const struct cat_multifd_ops *ops, void *ctx)
{
	struct qemu_multifd_opts mopts = { .page_size = set->page_size };
	struct qemu_multifd *m;
	struct qemu_multifd_event ev;
	int rc, status = VMT_EXIT_OK;

	rc = qemu_multifd_new(&m, &mopts);
	if (rc < 0) {
		vmt_err("%s", strerror(-rc));
		return VMT_EXIT_FAILURE;
	}
	rc = add_channels(m, set);
	while (rc == 0 && status == VMT_EXIT_OK) {
		rc = qemu_multifd_next(m, &ev);
		if (rc == 1) {
			rc = 0;
			status = ops->event(ctx, set, &ev);
		} else if (rc == 0) {
			if (ops->end)
				status = ops->end(ctx, set, m);
			break;
		}
	}
	if (rc < 0)
		status = multifd_error(o, set, m, rc);
	qemu_multifd_free(m);
	return status;
}

/* Only files are looked at (pread): standard input is one stream of its own. */
static enum qemu_channel_kind file_kind(const char *path)
{
	struct cat_head h;
	struct stat st;
	int fd;

	if (strcmp(path, "-") == 0 || stat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return QEMU_CHANNEL_UNKNOWN;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return QEMU_CHANNEL_UNKNOWN;
	cat_head_read(fd, &h);
	close(fd);
	return qemu_channel_probe(h.buf, h.len);
}

bool cat_qemu_inputs_are_set(const struct cat_opts *o)
{
	int mains = 0, multifd = 0;

	if (o->ninputs < 2)
		return false;
	for (int i = 0; i < o->ninputs; i++) {
		switch (file_kind(o->inputs[i])) {
		case QEMU_CHANNEL_MAIN:
			mains++;
			break;
		case QEMU_CHANNEL_MULTIFD:
			multifd++;
			break;
		default:
			return false;
		}
	}
	return mains == 1 && multifd > 0;
}

int cat_qemu_set_run(const struct cat_opts *o)
{
	struct cat_qemu_set set;
	int status = cat_qemu_set_open(o, &set);

	if (status == VMT_EXIT_OK) {
		if (o->mode == CAT_MODE_EXTRACT)
			status = cat_qemu_extract_set(o, &set);
		else
			status = cat_qemu_list_set(o, &set);
	}
	cat_qemu_set_close(&set);
	return status;
}
