// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Recording the checks; see results.h.  Allocation failures end the run
 * (exit 1): a checker that silently dropped results would lie.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/c.h"
#include "common/exitcodes.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "citations.h"
#include "results.h"

static struct {
	bool tap;
	struct check_result *checks;
	unsigned int nchecks, cap_checks, failed;
	struct group_result *groups;
	unsigned int ngroups, cap_groups;
	char **notes;
	unsigned int nnotes, cap_notes;
	struct group_result *current;
	uint64_t group_start_ns;
	void (*poll)(void);
} R;

static void *grow(void *array, unsigned int *cap, size_t elem)
{
	unsigned int ncap = *cap ? *cap * 2 : 64;
	void *p = realloc(array, (size_t)ncap * elem);

	if (!p) {
		vmt_err("out of memory recording results");
		exit(VMT_EXIT_FAILURE);
	}
	*cap = ncap;
	return p;
}

VMT_PRINTF(1, 0)
static char *vformat(const char *fmt, va_list ap)
{
	char *s = NULL;

	if (vasprintf(&s, fmt, ap) < 0) {
		vmt_err("out of memory recording results");
		exit(VMT_EXIT_FAILURE);
	}
	return s;
}

VMT_PRINTF(1, 2)
static char *format(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = vformat(fmt, ap);
	va_end(ap);
	return s;
}

void results_init(bool tap, void (*poll)(void))
{
	R.tap = tap;
	R.poll = poll;
	/* without it a TAP consumer reads version 12, where the YAML blocks are not TAP */
	if (tap)
		printf("TAP version 13\n");
}

static struct group_result *new_group(const char *name)
{
	struct group_result *g;

	if (R.ngroups == R.cap_groups)
		R.groups = grow(R.groups, &R.cap_groups, sizeof(*R.groups));
	g = &R.groups[R.ngroups++];
	*g = (struct group_result){ .name = name, .first = R.nchecks + 1 };
	return g;
}

void results_begin_group(const char *name)
{
	R.current = new_group(name);
	R.group_start_ns = vmt_monotonic_ns();
	if (R.tap) {
		printf("# group %s\n", name);
		fflush(stdout);
	}
}

void results_end_group(void)
{
	if (!R.current)
		return;
	R.current->elapsed_ns = vmt_monotonic_ns() - R.group_start_ns;
	R.current = NULL;
}

void results_skip_group(const char *name, const char *reason)
{
	struct group_result *g = new_group(name);

	g->skip_reason = reason;
	if (R.tap) {
		printf("# group %s skipped: %s\n", name, reason);
		fflush(stdout);
	}
}

static void yaml_field(const char *key, const char *value)
{
	const char *p;

	if (!value)
		return;
	printf("  %s: \"", key);
	for (p = value; *p; p++) {
		if (*p == '"' || *p == '\\')
			putchar('\\');
		putchar((unsigned char)*p < 0x20 ? ' ' : *p);
	}
	printf("\"\n");
}

/* TAP 13's YAML block under a failure: the rule, its source, both answers. */
static void tap_failure_details(const struct check_result *c)
{
	char func[64], source[192];
	const char *file = citation_source(c->rule ? c->rule : c->what, func, sizeof(func));

	if (!file && !c->rule)
		return; /* the message is all there is */
	printf("  ---\n");
	yaml_field("rule", c->rule);
	if (file) {
		snprintf(source, sizeof(source), "%s, %s()", file, func);
		yaml_field("source", source);
	}
	yaml_field("kernel", c->kernel);
	yaml_field("device", c->device);
	printf("  ...\n");
}

static bool record(bool ok, char *what, char *rule, char *kernel, char *device)
{
	struct check_result *c;

	if (R.nchecks == R.cap_checks)
		R.checks = grow(R.checks, &R.cap_checks, sizeof(*R.checks));
	c = &R.checks[R.nchecks++];
	*c = (struct check_result){
		.group = R.current ? R.current->name : "",
		.number = R.nchecks,
		.ok = ok,
		.what = what,
		.rule = rule,
		.kernel = kernel,
		.device = device,
	};
	if (R.current) {
		R.current->count++;
		if (!ok)
			R.current->failed++;
	}
	if (!ok)
		R.failed++;
	if (R.tap) {
		printf("%s %u - %s\n", ok ? "ok" : "not ok", c->number, c->what);
		if (!ok)
			tap_failure_details(c);
		fflush(stdout);
	}
	if (R.poll)
		R.poll();
	return ok;
}

bool check(bool ok, const char *fmt, ...)
{
	va_list ap;
	char *what;

	va_start(ap, fmt);
	what = vformat(fmt, ap);
	va_end(ap);
	return record(ok, what, NULL, NULL, NULL);
}

const char *errname(int err)
{
	static char buf[32];

	switch (err) {
	case 0:
		return "success";
	case -EINVAL:
		return "EINVAL";
	case -ENOTTY:
		return "ENOTTY";
	case -ENODEV:
		return "ENODEV";
	case -EBADF:
		return "EBADF";
	case -EBADFD:
		return "EBADFD";
	case -ENOENT:
		return "ENOENT";
	case -EOPNOTSUPP:
		return "EOPNOTSUPP";
	case -E2BIG:
		return "E2BIG";
	case -EOVERFLOW:
		return "EOVERFLOW";
	case -ENOMEM:
		return "ENOMEM";
	case -EFAULT:
		return "EFAULT";
	case -ESPIPE:
		return "ESPIPE";
	case -EBUSY:
		return "EBUSY";
	case -ENOMSG:
		return "ENOMSG";
	case -EIO:
		return "EIO";
	case -EPERM:
		return "EPERM";
	case -EMSGSIZE:
		return "EMSGSIZE";
	case -EEXIST:
		return "EEXIST";
	case -EINTR:
		return "EINTR";
	}
	snprintf(buf, sizeof(buf), err < 0 ? "errno %d" : "%d", err < 0 ? -err : err);
	return buf;
}

bool check_err(int got, int want, const char *what, const char *rule)
{
	if (got == want)
		return record(true, format("%s: %s", what, errname(want)), NULL, NULL, NULL);
	/* errname's buffer is static: copy the first answer before the second */
	char *device = format("%s", errname(got));

	return record(false, format("%s: got %s, kernel gives %s", what, device, errname(want)),
		      format("%s", rule), format("%s", errname(want)), device);
}

bool check_u64(uint64_t got, uint64_t want, const char *what, const char *rule)
{
	if (got == want)
		return record(true, format("%s: %llu", what, (unsigned long long)want), NULL, NULL,
			      NULL);
	return record(false,
		      format("%s: got %llu, expected %llu", what, (unsigned long long)got,
			     (unsigned long long)want),
		      format("%s", rule), format("%llu", (unsigned long long)want),
		      format("%llu", (unsigned long long)got));
}

bool check_answer(bool ok, const char *what, const char *rule, const char *kernel,
		  const char *device)
{
	if (ok)
		return record(true, format("%s: %s", what, device), NULL, NULL, NULL);
	return record(false, format("%s: %s; kernel: %s", what, device, kernel), format("%s", rule),
		      format("%s", kernel), format("%s", device));
}

void diag(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = vformat(fmt, ap);
	va_end(ap);
	if (R.nnotes == R.cap_notes)
		R.notes = grow(R.notes, &R.cap_notes, sizeof(*R.notes));
	R.notes[R.nnotes++] = s;
	if (R.tap) {
		printf("# %s\n", s);
		fflush(stdout);
	}
}

unsigned int results_total(void)
{
	return R.nchecks;
}

unsigned int results_failed(void)
{
	return R.failed;
}

const struct check_result *results_checks(unsigned int *count)
{
	*count = R.nchecks;
	return R.checks;
}

const struct group_result *results_groups(unsigned int *count)
{
	*count = R.ngroups;
	return R.groups;
}

char *const *results_notes(unsigned int *count)
{
	*count = R.nnotes;
	return R.notes;
}

void results_finish_tap(void)
{
	unsigned int i, skipped = 0;

	if (!R.tap)
		return;
	for (i = 0; i < R.ngroups; i++)
		skipped += R.groups[i].skip_reason != NULL;
	printf("1..%u\n", R.nchecks);
	printf("# %u of %u checks failed; %u group(s) skipped\n", R.failed, R.nchecks, skipped);
	fflush(stdout);
}

void results_free(void)
{
	unsigned int i;

	for (i = 0; i < R.nchecks; i++) {
		free(R.checks[i].what);
		free(R.checks[i].rule);
		free(R.checks[i].kernel);
		free(R.checks[i].device);
	}
	for (i = 0; i < R.nnotes; i++)
		free(R.notes[i]);
	free(R.checks);
	free(R.groups);
	free(R.notes);
	R = (typeof(R)){ 0 };
}
