// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The JSON report (schema "vfio-mig-check/1", vfio-mig-check(1)): one
 * document through lib/common/json-doc, printed at the end.
 */
#include <errno.h>
#include <stdio.h>

#include "common/json-doc.h"
#include "citations.h"
#include "probe.h"
#include "report.h"
#include "results.h"
#include "timing.h"

static void add_check(struct json_object *array, const struct check_result *c)
{
	struct json_object *o = vmt_json_append_object(array), *src;
	char func[64];
	const char *file;

	if (!o)
		return;
	vmt_json_add_u64(o, "number", c->number);
	vmt_json_add_str(o, "group", c->group);
	vmt_json_add_bool(o, "ok", c->ok);
	vmt_json_add_str(o, "what", c->what);
	if (c->ok)
		return;
	vmt_json_add_str(o, "rule", c->rule);
	file = citation_source(c->rule ? c->rule : c->what, func, sizeof(func));
	if (file && (src = vmt_json_add_object(o, "source"))) {
		vmt_json_add_str(src, "file", file);
		vmt_json_add_str(src, "function", func);
	}
	vmt_json_add_str(o, "kernel", c->kernel);
	vmt_json_add_str(o, "device", c->device);
}

static void add_group(struct json_object *array, const struct group_result *g)
{
	struct json_object *o = vmt_json_append_object(array);

	if (!o)
		return;
	vmt_json_add_str(o, "name", g->name);
	vmt_json_add_str(o, "status", g->skip_reason ? "skipped" : g->failed ? "fail" : "pass");
	if (g->skip_reason) {
		vmt_json_add_str(o, "reason", g->skip_reason);
		return;
	}
	vmt_json_add_u64(o, "checks", g->count);
	vmt_json_add_u64(o, "failed", g->failed);
	vmt_json_add_seconds(o, "elapsed_s", g->elapsed_ns);
}

static void add_timing(struct json_object *doc)
{
	struct json_object *o = vmt_json_add_object(doc, "timing");
	struct json_object *arcs = o ? vmt_json_add_array(o, "arcs") : NULL;
	unsigned int n, i;
	const struct arc_timing *t = timing_arcs(&n);
	uint64_t bytes, ns;

	if (!arcs)
		return;
	for (i = 0; i < n; i++) {
		struct json_object *a = vmt_json_append_object(arcs);

		if (!a)
			continue;
		vmt_json_add_str(a, "from", sname(t[i].from));
		vmt_json_add_str(a, "to", sname(t[i].to));
		vmt_json_add_u64(a, "count", t[i].count);
		vmt_json_add_seconds(a, "mean_s", t[i].total_ns / t[i].count);
		vmt_json_add_seconds(a, "max_s", t[i].max_ns);
	}
	timing_read_totals(&bytes, &ns);
	vmt_json_add_u64(o, "read_bytes", bytes);
	vmt_json_add_seconds(o, "read_time_s", ns);
	vmt_json_add_rate(o, "read_bytes_per_s", bytes, ns);
}

static void add_devices(struct json_object *doc, const struct run_info *run)
{
	struct json_object *a = vmt_json_add_array(doc, "devices");
	int i;

	for (i = 0; a && i < run->ntargets; i++) {
		const struct target *t = &run->targets[i];
		struct json_object *o = vmt_json_append_object(a);

		if (!o)
			continue;
		vmt_json_add_str(o, "role", i ? "peer" : "device");
		vmt_json_add_str(o, "device", t->spec);
		vmt_json_add_str(o, "cdev", t->cdev);
		vmt_json_add_str(o, "final_state",
				 t->final_state == ~0U ? NULL : sname(t->final_state));
		vmt_json_add_bool(o, "reset", t->was_reset);
	}
}

int report_json(FILE *out, const struct run_info *run)
{
	unsigned int nchecks, ngroups, nnotes, i;
	const struct check_result *checks = results_checks(&nchecks);
	const struct group_result *groups = results_groups(&ngroups);
	char *const *notes = results_notes(&nnotes);
	struct json_object *doc = vmt_json_doc_new("vfio-mig-check", 1), *a;

	if (!doc)
		return -ENOMEM;
	if (run->failure && vmt_failed(run->failure)) {
		vmt_failure_add_json(doc, run->failure, run->error_line);
	} else {
		vmt_json_add_bool(doc, "ok", run->ok);
		vmt_json_add_null(doc, "error");
	}
	vmt_json_add_str(doc, "kernel", run->kernel);
	add_devices(doc, run);
	a = vmt_json_add_array(doc, "groups");
	for (i = 0; a && i < ngroups; i++)
		add_group(a, &groups[i]);
	a = vmt_json_add_array(doc, "checks");
	for (i = 0; a && i < nchecks; i++)
		add_check(a, &checks[i]);
	add_timing(doc);
	a = vmt_json_add_array(doc, "notes");
	for (i = 0; a && i < nnotes; i++)
		vmt_json_append_str(a, notes[i]);
	vmt_json_add_u64(doc, "total", nchecks);
	vmt_json_add_u64(doc, "failed", results_failed());
	if (run->stop_signal)
		vmt_json_add_i64(doc, "stopped_by_signal", run->stop_signal);
	else
		vmt_json_add_null(doc, "stopped_by_signal");
	return vmt_json_emit(out, doc);
}
