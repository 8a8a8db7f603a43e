// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * --summary-file: the summary whole, or no summary under the name; see
 * summary-file.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json_tokener.h>

#include "common/exitcodes.h"
#include "common/fdio.h"
#include "common/json-doc.h"
#include "common/log.h"
#include "common/summary-file.h"

/*
 * Larger than any summary the tools write (64 devices, 64 channels with
 * names of 4096 bytes): a bigger file is not one of ours.
 */
#define SUMMARY_MAX_BYTES (4u << 20)

/* "vfio-mig-load/" of "vfio-mig-load/1": the tool a document belongs to. NULL: none. */
static char *schema_tool(struct json_object *doc)
{
	struct json_object *schema;
	const char *s, *slash;

	if (!json_object_is_type(doc, json_type_object) ||
	    !json_object_object_get_ex(doc, "schema", &schema) ||
	    !json_object_is_type(schema, json_type_string))
		return NULL;
	s = json_object_get_string(schema);
	slash = strchr(s, '/');
	return slash && slash > s ? strndup(s, (size_t)(slash - s + 1)) : NULL;
}

/* Names lib/common/outfile writes in place or on a descriptor: never a file of ours. */
static bool names_a_file(const char *name)
{
	return name && strcmp(name, "-") != 0 && strncmp(name, "fd:", 3) != 0;
}

/*
 * The JSON document that is all of text (whitespace around it aside), or
 * NULL: a file of the user's with a summary pasted into it is not ours.
 */
static struct json_object *parse_one_document(const char *text, size_t len)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *doc;
	size_t end;

	if (!tok)
		return NULL;
	doc = json_tokener_parse_ex(tok, text, (int)len);
	end = json_tokener_get_parse_end(tok);
	if (doc && json_tokener_get_error(tok) == json_tokener_success)
		end += strspn(text + end, " \t\r\n");
	if (doc && end != len) {
		json_object_put(doc);
		doc = NULL;
	}
	json_tokener_free(tok);
	return doc;
}

/*
 * Whether fd, a regular file, holds one JSON document of tool's (the
 * "schema" value starts with tool, e.g. "vfio-mig-load/").
 */
static bool holds_summary_of(int fd, const struct stat *st, const char *tool)
{
	struct json_object *doc;
	char *text, *found;
	ssize_t n;
	bool ours;

	if (!S_ISREG(st->st_mode) || st->st_size <= 0 || st->st_size > SUMMARY_MAX_BYTES)
		return false;
	text = malloc((size_t)st->st_size + 1);
	if (!text)
		return false;
	n = vmt_read_full(fd, text, (size_t)st->st_size);
	if (n <= 0) {
		free(text);
		return false;
	}
	text[n] = '\0';
	doc = parse_one_document(text, (size_t)n);
	free(text);
	found = doc ? schema_tool(doc) : NULL;
	ours = found && strcmp(found, tool) == 0;
	free(found);
	json_object_put(doc);
	return ours;
}

/*
 * After a failed write: removes what name holds if it is a summary of
 * tool's, found where the name leads (through symlinks, which stay). The
 * file removed is the one that was read: same device and inode.
 */
static void remove_stale(struct vmt_summary_file *sf, const char *tool)
{
	struct stat st, now;
	char *path;
	int fd;

	/* O_NONBLOCK: a FIFO under the name must not hold us */
	fd = open(sf->name, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (fstat(fd, &st) < 0 || !holds_summary_of(fd, &st, tool)) {
		close(fd);
		return;
	}
	close(fd);
	sf->stale = true;
	path = realpath(sf->name, NULL);
	if (!path) {
		sf->remove_err = -errno;
		return;
	}
	if (lstat(path, &now) < 0)
		sf->remove_err = -errno;
	else if (now.st_dev != st.st_dev || now.st_ino != st.st_ino)
		sf->stale = false; /* replaced meanwhile, by someone else */
	else if (unlink(path) < 0)
		sf->remove_err = -errno;
	free(path);
}

int vmt_summary_file_write(struct vmt_summary_file *sf, const char *name, struct json_object *doc)
{
	char *tool = schema_tool(doc);

	*sf = (struct vmt_summary_file){ .name = name };
	sf->err = vmt_json_emit_file(name, doc);
	/* -EEXIST: someone else put a file under the name while we wrote; it is theirs */
	if (sf->err < 0 && sf->err != -EEXIST && tool && names_a_file(name))
		remove_stale(sf, tool);
	free(tool);
	return sf->err;
}

const char *vmt_summary_file_why(const struct vmt_summary_file *sf, char *buf, size_t len)
{
	int n = snprintf(buf, len, "cannot write the summary: %s", strerror(-sf->err));

	if (n < 0 || (size_t)n >= len || !sf->stale)
		return buf;
	if (!sf->remove_err)
		snprintf(buf + n, len - (size_t)n,
			 "; the summary an earlier run left there was removed");
	else
		snprintf(
			buf + n, len - (size_t)n,
			"; the summary an earlier run left there is still there (cannot remove it: %s)",
			strerror(-sf->remove_err));
	return buf;
}

int vmt_summary_file_fail(struct vmt_failure *f, const struct vmt_summary_file *sf)
{
	char why[512];

	return vmt_refuse(f, &(struct vmt_where){ .file = sf->name }, sf->err, VMT_EXIT_FAILURE,
			  "%s", vmt_summary_file_why(sf, why, sizeof(why)));
}

bool vmt_summary_file_report(struct vmt_failure *f, const char *name, struct json_object *doc,
			     bool quiet, const char *lead)
{
	struct vmt_summary_file sf;
	char why[512];

	if (vmt_summary_file_write(&sf, name, doc) == 0)
		return false;
	if (vmt_failed(f)) {
		if (!quiet)
			vmt_warn("%s: %s", sf.name, vmt_summary_file_why(&sf, why, sizeof(why)));
		return false;
	}
	vmt_summary_file_fail(f, &sf);
	vmt_failure_set_lead(f, lead);
	return true;
}
