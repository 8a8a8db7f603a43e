// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The JUnit XML report: one <testsuite> per group, a <testcase> per check,
 * a <failure> with the rule, its source and both answers; a skipped group
 * is one <testcase> with <skipped message="why">.
 */
#include <errno.h>
#include <stdio.h>

#include "citations.h"
#include "report.h"
#include "results.h"

static void xml_text(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		default:
			fputc((unsigned char)*s < 0x20 && *s != '\n' ? ' ' : *s, f);
		}
	}
}

static void junit_failure(FILE *f, const struct check_result *c)
{
	char func[64];
	const char *file = citation_source(c->rule ? c->rule : c->what, func, sizeof(func));

	fputs("      <failure message=\"", f);
	xml_text(f, c->rule ? c->rule : c->what);
	fputs("\">", f);
	if (c->rule) {
		fputs("rule: ", f);
		xml_text(f, c->rule);
		fputc('\n', f);
	}
	if (file)
		fprintf(f, "source: %s, %s()\n", file, func);
	if (c->kernel) {
		fputs("kernel: ", f);
		xml_text(f, c->kernel);
		fputc('\n', f);
	}
	if (c->device) {
		fputs("device: ", f);
		xml_text(f, c->device);
		fputc('\n', f);
	}
	fputs("</failure>\n", f);
}

static void junit_group(FILE *f, const struct group_result *g, const struct check_result *checks)
{
	unsigned int i;

	fputs("  <testsuite name=\"", f);
	xml_text(f, g->name);
	if (g->skip_reason) {
		fputs("\" tests=\"1\" failures=\"0\" skipped=\"1\">\n", f);
		fprintf(f, "    <testcase classname=\"vfio-mig-check.%s\" name=\"%s\">\n", g->name,
			g->name);
		fputs("      <skipped message=\"", f);
		xml_text(f, g->skip_reason);
		fputs("\"/>\n    </testcase>\n  </testsuite>\n", f);
		return;
	}
	fprintf(f, "\" tests=\"%u\" failures=\"%u\" skipped=\"0\" time=\"%.6f\">\n", g->count,
		g->failed, (double)g->elapsed_ns / 1e9);
	for (i = 0; i < g->count; i++) {
		const struct check_result *c = &checks[g->first - 1 + i];

		fprintf(f, "    <testcase classname=\"vfio-mig-check.%s\" name=\"%u - ", g->name,
			c->number);
		xml_text(f, c->what);
		fputs(c->ok ? "\"/>\n" : "\">\n", f);
		if (!c->ok) {
			junit_failure(f, c);
			fputs("    </testcase>\n", f);
		}
	}
	fputs("  </testsuite>\n", f);
}

int report_junit(const char *path, const struct run_info *run)
{
	unsigned int ngroups, nchecks, i, skipped = 0;
	const struct group_result *groups = results_groups(&ngroups);
	const struct check_result *checks = results_checks(&nchecks);
	FILE *f = fopen(path, "w");

	if (!f)
		return -errno;
	for (i = 0; i < ngroups; i++)
		skipped += groups[i].skip_reason != NULL;
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", f);
	fprintf(f,
		"<testsuites name=\"vfio-mig-check\" tests=\"%u\" failures=\"%u\" "
		"skipped=\"%u\">\n",
		nchecks + skipped, results_failed(), skipped);
	for (i = 0; i < ngroups; i++)
		junit_group(f, &groups[i], checks);
	if (run->stop_signal)
		fprintf(f, "  <!-- stopped by signal %d -->\n", run->stop_signal);
	fputs("</testsuites>\n", f);
	if (ferror(f)) {
		fclose(f);
		return -EIO;
	}
	return fclose(f) ? -errno : 0;
}
