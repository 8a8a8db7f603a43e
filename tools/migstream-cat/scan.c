// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * One input stream, read to its end.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/exitcodes.h"
#include "common/failure.h"
#include "common/fdio.h"
#include "common/json-doc.h"
#include "common/log.h"
#include "common/progress.h"
#include "fields.h"
#include "qemu-cat.h"
#include "net.h"
#include "scan.h"

#define STDIN_NAME "<stdin>"

bool cat_progress_wanted(const struct cat_opts *o)
{
	if (o->progress)
		return true;
	if (o->quiet)
		return false;
	/* A listing on the terminal would be garbled by a progress line. */
	switch (o->mode) {
	case CAT_MODE_VERIFY:
	case CAT_MODE_EXTRACT:
	case CAT_MODE_WRAP:
	case CAT_MODE_RECOMPRESS:
		return vmt_progress_wanted(false);
	default:
		return false;
	}
}

int cat_open_input(const char *path, const char **name)
{
	int fd;

	if (strcmp(path, "-") == 0) {
		*name = STDIN_NAME;
		return STDIN_FILENO;
	}
	*name = path;
	fd = cat_net_input_fd(path);
	if (fd >= 0)
		return fd;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		vmt_err("%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	/* Streams are read once, front to back. */
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	return fd;
}

void cat_close_input(int fd)
{
	if (fd > STDIN_FILENO)
		close(fd);
}

/* An error as one line: said on stderr, and with --json also as the last JSON line. */
void cat_report_line(const struct cat_opts *o, const struct cat_stream *s, int err,
		     const char *line)
{
	vmt_err("%s", line);
	if (o->json) {
		struct json_object *doc =
			vmt_json_doc_new("migstream-cat", CAT_JSON_SCHEMA_VERSION);

		vmt_json_add_str(doc, "type", "error");
		vmt_json_add_str(doc, "file", s->name);
		/* a write error stays on stdout: vmt_close_stdout() reports it at the end */
		vmt_error_emit_json_line(stdout, doc, err, 0, line);
	}
}

/* The reader's message may or may not already start with the file name. */
static void report_reader_error(const struct cat_opts *o, const struct cat_stream *s, int err)
{
	const char *msg = migstream_reader_error(s->reader);
	size_t nlen = strlen(s->name);
	char line[1024];

	if (!msg || !*msg)
		msg = strerror(-err);
	if (strncmp(msg, s->name, nlen) == 0 && msg[nlen] == ':')
		snprintf(line, sizeof(line), "%s", msg);
	else if (err == -EBADMSG)
		snprintf(line, sizeof(line), "%s: %s", s->name, msg);
	else
		snprintf(line, sizeof(line), "%s: read error: %s", s->name, msg);
	cat_report_line(o, s, err, line);
}

int cat_bad_record(const struct cat_opts *o, const struct cat_stream *s,
		   const struct migstream_record *rec, const char *why)
{
	char line[1024];

	snprintf(line, sizeof(line), "%s: record %u (%s) at byte %llu: %s", s->name, rec->seq,
		 migstream_record_type_name(rec->type), (unsigned long long)rec->offset, why);
	cat_report_line(o, s, -EBADMSG, line);
	return VMT_EXIT_BADDATA;
}

int cat_scan(const struct cat_opts *o, const char *path, const struct migstream_reader_opts *ropts,
	     const struct cat_scan_ops *ops, void *ctx)
{
	struct cat_stream s = { .path = path };
	struct vmt_progress prog;
	uint64_t size;
	struct migstream_record rec;
	struct cat_head head;
	int rc, status = VMT_EXIT_OK;

	s.fd = cat_open_input(path, &s.name);
	if (s.fd < 0)
		return VMT_EXIT_FAILURE;
	/* QEMU's own stream is told by its magic: no option needed. */
	cat_head_read(s.fd, &head);
	if (cat_head_is_qemu(&head)) {
		status = cat_qemu_scan(o, &s, &head);
		cat_close_input(s.fd);
		return status;
	}
	if (head.consumed) {
		rc = migstream_reader_new_cb(&s.reader, cat_head_replay, &head, s.name, ropts);
		vmt_grow_pipe(s.fd);
	} else {
		rc = migstream_reader_new(&s.reader, s.fd, s.name, ropts);
	}
	if (rc < 0) {
		/* No reader, so no message from it: say what we know. */
		if (rc == -EBADMSG)
			vmt_err("%s: not a migstream (bad preamble)", s.name);
		else
			vmt_err("%s: %s", s.name, strerror(-rc));
		cat_close_input(s.fd);
		return vmt_exit_code_for_error(rc);
	}
	vmt_dbg("%s: reading", s.name);
	vmt_progress_init(&prog, cat_progress_wanted(o));
	size = vmt_progress_fd_total(s.fd);
	if (ops->begin)
		status = ops->begin(ctx, &s);
	while (status == VMT_EXIT_OK) {
		rc = migstream_read_record(s.reader, &rec);
		if (rc < 0) {
			vmt_progress_clear(&prog);
			report_reader_error(o, &s, rc);
			status = vmt_exit_code_for_error(rc);
			break;
		}
		if (rc == 0) {
			vmt_progress_clear(&prog);
			vmt_dbg("%s: %llu records, %llu bytes, ok", s.name,
				(unsigned long long)migstream_reader_records(s.reader),
				(unsigned long long)migstream_reader_offset(s.reader));
			if (ops->end)
				status = ops->end(ctx, &s);
			break;
		}
		vmt_trace("%s: record %u (%s) at byte %llu, %u bytes", s.name, rec.seq,
			  migstream_record_type_name(rec.type), (unsigned long long)rec.offset,
			  rec.len);
		status = ops->record(ctx, &s, &rec);
		vmt_progress_update(&prog, s.name, migstream_reader_offset(s.reader), size, false);
	}
	vmt_progress_clear(&prog);
	migstream_reader_free(s.reader);
	cat_close_input(s.fd);
	return status;
}
