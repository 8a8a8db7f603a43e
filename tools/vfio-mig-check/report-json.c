// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The JSON report (schema "vfio-mig-check/1", vfio-mig-check(1)), one
 * object built with json-c and printed at the end.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>

#include "citations.h"
#include "probe.h"
#include "report.h"
#include "results.h"
#include "timing.h"

static void add_str(struct json_object *o, const char *key, const char *value)
{
	json_object_object_add(o, key, value ? json_object_new_string(value) : NULL);
}

static struct json_object *json_check(const struct check_result *c)
{
	struct json_object *o = json_object_new_object();
	char func[64];
	const char *file;

	json_object_object_add(o, "number", json_object_new_int64(c->number));
	add_str(o, "group", c->group);
	json_object_object_add(o, "ok", json_object_new_boolean(c->ok));
	add_str(o, "what", c->what);
	if (c->ok)
		return o;
	add_str(o, "rule", c->rule);
	file = citation_source(c->rule ? c->rule : c->what, func, sizeof(func));
	if (file) {
		struct json_object *src = json_object_new_object();

		add_str(src, "file", file);
		add_str(src, "function", func);
		json_object_object_add(o, "source", src);
	}
	add_str(o, "kernel", c->kernel);
	add_str(o, "device", c->device);
	return o;
}

static struct json_object *json_group(const struct group_result *g)
{
	struct json_object *o = json_object_new_object();

	add_str(o, "name", g->name);
	add_str(o, "status", g->skip_reason ? "skipped" : g->failed ? "fail" : "pass");
	if (g->skip_reason) {
		add_str(o, "reason", g->skip_reason);
		return o;
	}
	json_object_object_add(o, "checks", json_object_new_int64(g->count));
	json_object_object_add(o, "failed", json_object_new_int64(g->failed));
	json_object_object_add(o, "elapsed_ns", json_object_new_int64((int64_t)g->elapsed_ns));
	return o;
}

static struct json_object *json_timing(void)
{
	struct json_object *o = json_object_new_object(), *arcs = json_object_new_array();
	unsigned int n, i;
	const struct arc_timing *t = timing_arcs(&n);
	uint64_t bytes, ns;

	for (i = 0; i < n; i++) {
		struct json_object *a = json_object_new_object();

		add_str(a, "from", sname(t[i].from));
		add_str(a, "to", sname(t[i].to));
		json_object_object_add(a, "count", json_object_new_int64(t[i].count));
		json_object_object_add(a, "mean_ns",
				       json_object_new_int64((int64_t)(t[i].total_ns / t[i].count)));
		json_object_object_add(a, "max_ns", json_object_new_int64((int64_t)t[i].max_ns));
		json_object_array_add(arcs, a);
	}
	json_object_object_add(o, "arcs", arcs);
	timing_read_totals(&bytes, &ns);
	json_object_object_add(o, "read_bytes", json_object_new_int64((int64_t)bytes));
	json_object_object_add(o, "read_ns", json_object_new_int64((int64_t)ns));
	return o;
}

static struct json_object *json_devices(const struct run_info *run)
{
	struct json_object *a = json_object_new_array();
	int i;

	for (i = 0; i < run->ntargets; i++) {
		const struct target *t = &run->targets[i];
		struct json_object *o = json_object_new_object();

		add_str(o, "role", i ? "peer" : "device");
		add_str(o, "device", t->spec);
		add_str(o, "cdev", t->cdev);
		add_str(o, "final_state", t->final_state == ~0U ? NULL : sname(t->final_state));
		json_object_object_add(o, "reset", json_object_new_boolean(t->was_reset));
		json_object_array_add(a, o);
	}
	return a;
}

static struct json_object *json_array_of(struct json_object *(*fn)(const void *), const void *items,
					  unsigned int n, size_t size)
{
	struct json_object *a = json_object_new_array();
	unsigned int i;

	for (i = 0; i < n; i++)
		json_object_array_add(a, fn((const char *)items + i * size));
	return a;
}

static struct json_object *check_item(const void *p)
{
	return json_check(p);
}

static struct json_object *group_item(const void *p)
{
	return json_group(p);
}

static struct json_object *note_item(const void *p)
{
	return json_object_new_string(*(char *const *)p);
}

int report_json(FILE *out, const struct run_info *run)
{
	unsigned int nchecks, ngroups, nnotes;
	const struct check_result *checks = results_checks(&nchecks);
	const struct group_result *groups = results_groups(&ngroups);
	char *const *notes = results_notes(&nnotes);
	struct json_object *root = json_object_new_object();
	int ret = 0;

	add_str(root, "schema", "vfio-mig-check/1");
	add_str(root, "kernel", run->kernel);
	json_object_object_add(root, "devices", json_devices(run));
	json_object_object_add(root, "groups",
			       json_array_of(group_item, groups, ngroups, sizeof(*groups)));
	json_object_object_add(root, "checks",
			       json_array_of(check_item, checks, nchecks, sizeof(*checks)));
	json_object_object_add(root, "timing", json_timing());
	json_object_object_add(root, "notes", json_array_of(note_item, notes, nnotes, sizeof(*notes)));
	json_object_object_add(root, "total", json_object_new_int64(nchecks));
	json_object_object_add(root, "failed", json_object_new_int64(results_failed()));
	json_object_object_add(root, "stopped_by_signal",
			       run->stop_signal ? json_object_new_int(run->stop_signal) : NULL);
	if (fprintf(out, "%s\n", json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN)) < 0)
		ret = -EIO;
	json_object_put(root);
	return ret;
}
