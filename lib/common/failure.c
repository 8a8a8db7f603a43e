// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * First failure and its one error line; see failure.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/exitcodes.h"
#include "common/failure.h"
#include "common/json-doc.h"

/* Up to this many devices the line names each one. */
#define FATES_NAMED 4
/* Beyond it, a fate shared by more than this many devices is counted, not named. */
#define FATE_COUNTED_ABOVE 3

static char *copy_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static void record_where(struct vmt_failure *f, const struct vmt_where *at)
{
	if (!at)
		return;
	f->file = copy_or_null(at->file);
	f->record_type = copy_or_null(at->record_type);
	f->device = copy_or_null(at->device);
	f->has_record = at->has_record;
	f->record = at->record;
	f->has_offset = at->has_offset;
	f->offset = at->offset;
	f->what_says_where = at->what_says_where;
}

int vmt_vfail(struct vmt_failure *f, const struct vmt_where *at, int err, int exit_code,
	      bool says_all, const char *fmt, va_list ap)
{
	/* The first failure is the cause; later ones are its consequences. */
	if (f->err)
		return err;
	f->err = err ? err : -EIO;
	f->exit_code = exit_code;
	f->says_all = says_all;
	if (vasprintf(&f->what, fmt, ap) < 0)
		f->what = NULL;
	record_where(f, at);
	return err;
}

int vmt_fail(struct vmt_failure *f, const struct vmt_where *at, int err, int exit_code,
	     const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmt_vfail(f, at, err, exit_code, false, fmt, ap);
	va_end(ap);
	return err;
}

int vmt_refuse(struct vmt_failure *f, const struct vmt_where *at, int err, int exit_code,
	       const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmt_vfail(f, at, err, exit_code, true, fmt, ap);
	va_end(ap);
	return err;
}

void vmt_failure_set_lead(struct vmt_failure *f, const char *lead)
{
	free(f->lead);
	f->lead = copy_or_null(lead);
}

int vmt_failure_exit_code(const struct vmt_failure *f)
{
	return f->exit_code ? f->exit_code : vmt_exit_code_for_error(f->err);
}

void vmt_failure_free(struct vmt_failure *f)
{
	free(f->what);
	free(f->file);
	free(f->record_type);
	free(f->device);
	free(f->lead);
	*f = (struct vmt_failure){ 0 };
}

static void put_where(FILE *m, const struct vmt_failure *f)
{
	if (f->file)
		fprintf(m, "%s: ", f->file);
	if (f->has_record)
		fprintf(m, "record %u (%s) at byte %llu: ", f->record,
			f->record_type ? f->record_type : "?", (unsigned long long)f->offset);
	else if (f->has_offset)
		fprintf(m, "at byte %llu: ", (unsigned long long)f->offset);
	if (f->device)
		fprintf(m, "%s: ", f->device);
}

/* "reset, now RUNNING", "untouched, STOP": what follows a device's name. */
static void put_fate(FILE *m, const struct vmt_device_fate *d)
{
	if (!d->touched) {
		fputs("untouched", m);
		if (d->state)
			fprintf(m, ", %s", d->state);
		return;
	}
	if (d->reset)
		fputs("reset, ", m);
	if (d->recovery_failed)
		fputs("recovery failed, ", m);
	fprintf(m, "now %s", d->state ? d->state : "UNKNOWN");
}

static bool same_fate(const struct vmt_device_fate *a, const struct vmt_device_fate *b)
{
	return a->touched == b->touched && a->reset == b->reset &&
	       a->recovery_failed == b->recovery_failed &&
	       (a->state == b->state || (a->state && b->state && strcmp(a->state, b->state) == 0));
}

static unsigned int count_fate(const struct vmt_device_fate *fates, unsigned int n,
			       const struct vmt_device_fate *d)
{
	unsigned int count = 0;

	for (unsigned int i = 0; i < n; i++)
		count += same_fate(&fates[i], d);
	return count;
}

static bool first_of_fate(const struct vmt_device_fate *fates, unsigned int i)
{
	for (unsigned int j = 0; j < i; j++)
		if (same_fate(&fates[j], &fates[i]))
			return false;
	return true;
}

static void put_fates(FILE *m, const struct vmt_device_fate *fates, unsigned int n)
{
	bool summarise = n > FATES_NAMED;

	/* Counted fates first, in the order they first appear. */
	for (unsigned int i = 0; summarise && i < n; i++) {
		unsigned int count = count_fate(fates, n, &fates[i]);

		if (count <= FATE_COUNTED_ABOVE || !first_of_fate(fates, i))
			continue;
		fprintf(m, "; %u devices ", count);
		put_fate(m, &fates[i]);
	}
	/* Then the exceptions, by name. */
	for (unsigned int i = 0; i < n; i++) {
		if (summarise && count_fate(fates, n, &fates[i]) > FATE_COUNTED_ABOVE)
			continue;
		fprintf(m, "; device %s ", fates[i].name);
		put_fate(m, &fates[i]);
	}
}

char *vmt_failure_line(const struct vmt_failure *f, const struct vmt_device_fate *fates,
		       unsigned int nfates)
{
	char *line = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&line, &len);

	if (!m)
		return NULL;
	if (f->lead)
		fputs(f->lead, m);
	if (!f->what_says_where)
		put_where(m, f);
	fputs(f->what ? f->what : "failed", m);
	if (!f->says_all)
		fprintf(m, ": %s", strerror(-f->err));
	put_fates(m, fates, nfates);
	if (fclose(m) != 0) {
		free(line);
		return NULL;
	}
	return line;
}

static void add_str_or_null(struct json_object *obj, const char *key, const char *value)
{
	if (value)
		vmt_json_add_str(obj, key, value);
	else
		vmt_json_add_null(obj, key);
}

void vmt_failure_add_json(struct json_object *doc, const struct vmt_failure *f, const char *line)
{
	struct json_object *error;

	vmt_json_add_bool(doc, "ok", !vmt_failed(f));
	if (!vmt_failed(f)) {
		vmt_json_add_null(doc, "error");
		return;
	}
	error = vmt_json_add_object(doc, "error");
	add_str_or_null(error, "message", line);
	add_str_or_null(error, "errno", strerrorname_np(-f->err));
	vmt_json_add_u64(error, "exit_code", (uint64_t)vmt_failure_exit_code(f));
	add_str_or_null(error, "file", f->file);
	if (f->has_record)
		vmt_json_add_u64(error, "record", f->record);
	else
		vmt_json_add_null(error, "record");
	add_str_or_null(error, "record_type", f->record_type);
	if (f->has_offset || f->has_record)
		vmt_json_add_u64(error, "offset", f->offset);
	else
		vmt_json_add_null(error, "offset");
	add_str_or_null(error, "device", f->device);
}

int vmt_failure_emit_json_line(FILE *out, struct json_object *doc, const struct vmt_failure *f,
			       const char *line)
{
	if (!vmt_failed(f)) {
		json_object_put(doc);
		return 0;
	}
	vmt_failure_add_json(doc, f, line);
	return vmt_json_emit(out, doc);
}

int vmt_error_emit_json_line(FILE *out, struct json_object *doc, int err, int exit_code,
			     const char *line)
{
	struct vmt_failure f = { .err = err ? err : -EIO,
				 .exit_code = exit_code,
				 .says_all = true };

	return vmt_failure_emit_json_line(out, doc, &f, line);
}
