// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Table and JSON output of a uffd-probe report.
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "common/json-doc.h"
#include "uffd-names.h"
#include "uffd-output.h"

bool uffd_report_usable(const struct uffd_report *r)
{
	return r->api.ok;
}

static const char *yes_no(int v)
{
	return v < 0 ? "unknown" : v ? "yes" : "no";
}

static void print_cell(FILE *out, const char *kind, const char *mode, const struct uffd_reg_cell *c)
{
	char names[256];

	fprintf(out, "%-11s %-8s %-11s ", kind, mode, uffd_cell_status_name(c->status));
	if (c->status == UFFD_CELL_OK)
		fprintf(out, "%s\n", uffd_format_ioctls(c->ioctls, names, sizeof(names)));
	else if (c->status == UFFD_CELL_REFUSED)
		fprintf(out, "%s: %s\n", strerrorname_np(c->err) ? strerrorname_np(c->err) : "?",
			c->note);
	else
		fprintf(out, "%s\n", c->note);
}

static const char *profile_verdict(const struct uffd_profile_result *p)
{
	return p->met ? "met" : p->untestable ? "untestable" : "unmet";
}

static void print_profile_result(FILE *out, const struct uffd_profile_result *p)
{
	fprintf(out, "%-17s %-11s %s\n", p->profile->name, uffd_mem_kind_name(p->memory),
		profile_verdict(p));
	for (unsigned int i = 0; i < p->unmet_count; i++)
		fprintf(out, "  - %s\n", p->unmet[i]);
}

void uffd_print_table(FILE *out, const struct uffd_report *r)
{
	const struct uffd_privileges *pv = &r->privs;
	char names[512];

	char sysctl[16] = "unknown", seccomp[16] = "n/a";

	/* No Seccomp line in /proc/self/status: a kernel without CONFIG_SECCOMP. */
	if (pv->unprivileged_userfaultfd >= 0)
		snprintf(sysctl, sizeof(sysctl), "%d", pv->unprivileged_userfaultfd);
	if (pv->seccomp_mode >= 0)
		snprintf(seccomp, sizeof(seccomp), "%d", pv->seccomp_mode);
	fprintf(out,
		"Kernel %s, euid %u, CAP_SYS_PTRACE %s, vm.unprivileged_userfaultfd %s, "
		"seccomp %s\n\n",
		r->kernel, (unsigned int)pv->euid, yes_no(pv->cap_sys_ptrace), sysctl, seccomp);

	fprintf(out, "%-23s %-7s %-14s %s\n", "OPEN METHOD", "RESULT", "KERNEL FAULTS", "REASON");
	for (int m = 0; m < UFFD_OPEN_METHOD_COUNT; m++) {
		const struct uffd_open_result *o = &r->open[m];

		const char *reason =
			o->ok ? (m == UFFD_OPEN_DEVICE ? pv->device_path : "") : o->reason;

		fprintf(out, "%-23s %-7s %-*s%s\n", uffd_open_method_name(o->method),
			o->ok ? "ok" : "refused", *reason ? 15 : 0,
			uffd_open_method_kernel_faults(o->method) ? "yes" : "no", reason);
	}

	fputc('\n', out);
	if (!r->api.ok) {
		fprintf(out, "UFFDIO_API: %s\n", r->api.error);
		return;
	}
	fprintf(out, "UFFDIO_API 0x%llx (fd from %s): features 0x%llx, ioctls %s\n",
		(unsigned long long)r->api.api, uffd_open_method_name(r->api.method),
		(unsigned long long)r->api.features,
		uffd_format_ioctls(r->api.ioctls, names, sizeof(names)));
	fprintf(out, "%-4s %-20s %s\n", "BIT", "FEATURE", "OFFERED");
	for (unsigned int b = 0; b < 64; b++) {
		const char *name = uffd_feature_name(b);
		bool offered = r->api.features & ((uint64_t)1 << b);

		if (name || offered)
			fprintf(out, "%-4u %-20s %s\n", b, name ? name : "(unknown)",
				offered ? "yes" : "no");
	}

	fputc('\n', out);
	if (r->matrix.open_err) {
		fprintf(out, "registration: cannot open a userfaultfd: %s\n",
			strerror(r->matrix.open_err));
	} else {
		fprintf(out, "%-11s %-8s %-11s %s\n", "MEMORY", "MODE", "RESULT",
			"IOCTLS / REASON");
		for (int k = 0; k < UFFD_MEM_KIND_COUNT; k++)
			for (int m = 0; m < UFFD_REG_MODE_COUNT; m++)
				print_cell(out, uffd_mem_kind_name(k), uffd_reg_mode_name(m),
					   &r->matrix.cell[k][m]);
	}

	if (r->profile_count) {
		fputc('\n', out);
		fprintf(out, "%-17s %-11s %s\n", "PROFILE", "MEMORY", "RESULT");
		for (unsigned int i = 0; i < r->profile_count; i++)
			print_profile_result(out, &r->profiles[i]);
	}

	if (r->functional) {
		fputc('\n', out);
		fprintf(out, "%-9s %-7s %-8s %7s %9s %10s %10s %10s\n", "FUNCTION", "MEMORY",
			"RESULT", "FAULTS", "VERIFIED", "MEDIAN_US", "P99_US", "FAULTS/S");
		for (int m = 0; m < UFFD_FILL_METHOD_COUNT; m++) {
			const struct uffd_func_result *f = &r->func[m];

			fprintf(out, "%-9s %-7s %-8s", uffd_fill_method_name(f->method),
				uffd_mem_kind_name(f->memory), uffd_func_status_name(f->status));
			if (f->status == UFFD_FUNC_OK)
				fprintf(out, " %7lu %9lu %10.1f %10.1f %10.0f\n", f->faults,
					f->verified, f->median_us, f->p99_us, f->faults_per_sec);
			else
				fprintf(out, " %s\n", f->note);
		}
	}
}

/* ---- JSON ---- */

/* "errno": its name and "error": its text, both null for 0. */
static void add_errno(struct json_object *obj, int err)
{
	if (!err) {
		vmt_json_add_null(obj, "errno");
		vmt_json_add_null(obj, "error");
		return;
	}
	vmt_json_add_str(obj, "errno", strerrorname_np(err));
	vmt_json_add_str(obj, "error", strerror(err));
}

static void add_int_or_null(struct json_object *obj, const char *key, int v)
{
	if (v < 0)
		vmt_json_add_null(obj, key);
	else
		vmt_json_add_i64(obj, key, v);
}

static void add_profile_requirements(struct json_object *o, const struct uffd_profile *p)
{
	vmt_json_add_str(o, "name", p->name);
	vmt_json_add_str(o, "user", p->user);
	vmt_json_add_str(o, "memory", uffd_mem_kind_name(p->memory));
	vmt_json_add_bool(o, "memory_from_option", p->memory_from_option);
	vmt_json_add_bool(o, "kernel_faults", p->kernel_faults);
	vmt_json_add_flags(o, "features", p->features, uffd_feature_name);
	vmt_json_add_str(o, "mode", uffd_reg_mode_name(p->mode));
	vmt_json_add_flags(o, "ioctls", p->ioctls, uffd_ioctl_name);
	vmt_json_add_str(o, "why", p->why);
}

static void add_privileges(struct json_object *doc, const struct uffd_privileges *pv)
{
	struct json_object *o = vmt_json_add_object(doc, "privileges");
	char mode[8];

	vmt_json_add_u64(o, "euid", pv->euid);
	if (pv->cap_sys_ptrace < 0)
		vmt_json_add_null(o, "cap_sys_ptrace");
	else
		vmt_json_add_bool(o, "cap_sys_ptrace", pv->cap_sys_ptrace);
	add_int_or_null(o, "unprivileged_userfaultfd", pv->unprivileged_userfaultfd);
	add_int_or_null(o, "seccomp", pv->seccomp_mode);
	vmt_json_add_str(o, "device", pv->device_path);
	snprintf(mode, sizeof(mode), "%04o", (unsigned int)(pv->device_mode & 07777));
	vmt_json_add_str(o, "device_mode", pv->device_errno ? NULL : mode);
}

static void add_open_methods(struct json_object *doc, const struct uffd_report *r)
{
	struct json_object *open = vmt_json_add_array(doc, "open");

	for (int m = 0; m < UFFD_OPEN_METHOD_COUNT; m++) {
		const struct uffd_open_result *o = &r->open[m];
		struct json_object *j = vmt_json_append_object(open);

		vmt_json_add_str(j, "method", uffd_open_method_name(o->method));
		vmt_json_add_bool(j, "ok", o->ok);
		vmt_json_add_bool(j, "kernel_faults", uffd_open_method_kernel_faults(o->method));
		add_errno(j, o->ok ? 0 : o->err);
		vmt_json_add_str(j, "reason", o->ok ? NULL : o->reason);
	}
}

static void add_api(struct json_object *doc, const struct uffd_api_result *api)
{
	struct json_object *o = vmt_json_add_object(doc, "api");

	vmt_json_add_bool(o, "ok", api->ok);
	vmt_json_add_str(o, "method", api->ok ? uffd_open_method_name(api->method) : NULL);
	add_errno(o, api->err);
	vmt_json_add_u64(o, "api", api->api);
	vmt_json_add_flags(o, "features", api->features, uffd_feature_name);
	vmt_json_add_flags(o, "missing_features",
			   api->ok ? api->known_features & ~api->features : 0, uffd_feature_name);
	vmt_json_add_flags(o, "ioctls", api->ioctls, uffd_ioctl_name);
}

static void add_registration(struct json_object *doc, const struct uffd_matrix *matrix)
{
	struct json_object *cells = vmt_json_add_array(doc, "registration");

	for (int k = 0; k < UFFD_MEM_KIND_COUNT && !matrix->open_err; k++) {
		for (int m = 0; m < UFFD_REG_MODE_COUNT; m++) {
			const struct uffd_reg_cell *c = &matrix->cell[k][m];
			struct json_object *j = vmt_json_append_object(cells);

			vmt_json_add_str(j, "memory", uffd_mem_kind_name(k));
			vmt_json_add_str(j, "mode", uffd_reg_mode_name(m));
			vmt_json_add_str(j, "status", uffd_cell_status_name(c->status));
			vmt_json_add_flags(j, "ioctls", c->status == UFFD_CELL_OK ? c->ioctls : 0,
					   uffd_ioctl_name);
			add_errno(j, c->status == UFFD_CELL_OK ? 0 : c->err);
			vmt_json_add_str(j, "note", c->note[0] ? c->note : NULL);
		}
	}
}

static void add_profiles(struct json_object *doc, const struct uffd_report *r)
{
	struct json_object *profiles = vmt_json_add_array(doc, "profiles");

	for (unsigned int i = 0; i < r->profile_count; i++) {
		const struct uffd_profile_result *p = &r->profiles[i];
		struct json_object *j = vmt_json_append_object(profiles);
		struct json_object *unmet;

		vmt_json_add_str(j, "name", p->profile->name);
		vmt_json_add_str(j, "memory", uffd_mem_kind_name(p->memory));
		vmt_json_add_bool(j, "met", p->met);
		vmt_json_add_bool(j, "untestable", p->untestable);
		vmt_json_add_str(j, "method", p->opened ? uffd_open_method_name(p->method) : NULL);
		unmet = vmt_json_add_array(j, "unmet");
		for (unsigned int u = 0; u < p->unmet_count; u++)
			vmt_json_append_str(unmet, p->unmet[u]);
	}
}

static void add_functional(struct json_object *doc, const struct uffd_report *r)
{
	struct json_object *o, *results;

	if (!r->functional) {
		vmt_json_add_null(doc, "functional");
		return;
	}
	o = vmt_json_add_object(doc, "functional");
	vmt_json_add_u64(o, "faults_requested", r->functional_faults);
	results = vmt_json_add_array(o, "results");
	for (int m = 0; m < UFFD_FILL_METHOD_COUNT; m++) {
		const struct uffd_func_result *f = &r->func[m];
		struct json_object *j = vmt_json_append_object(results);
		bool ok = f->status == UFFD_FUNC_OK;

		vmt_json_add_str(j, "method", uffd_fill_method_name(f->method));
		vmt_json_add_str(j, "memory", uffd_mem_kind_name(f->memory));
		vmt_json_add_str(j, "status", uffd_func_status_name(f->status));
		vmt_json_add_u64(j, "faults", f->faults);
		vmt_json_add_u64(j, "verified", f->verified);
		/* Seconds, as everywhere; the text table keeps microseconds. */
		vmt_json_add_double(j, "median_s", ok ? f->median_us / 1e6 : NAN, 9);
		vmt_json_add_double(j, "p99_s", ok ? f->p99_us / 1e6 : NAN, 9);
		vmt_json_add_double(j, "faults_per_s", ok ? f->faults_per_sec : NAN, 0);
		vmt_json_add_str(j, "note", f->note[0] ? f->note : NULL);
	}
}

int uffd_print_json(FILE *out, const struct uffd_report *r, const struct vmt_failure *failure,
		    const char *error_line)
{
	struct json_object *doc = vmt_json_doc_new("uffd-probe", UFFD_JSON_SCHEMA_VERSION);

	vmt_failure_add_json(doc, failure, error_line);
	vmt_json_add_str(doc, "kernel", r->kernel);
	vmt_json_add_bool(doc, "usable", uffd_report_usable(r));
	add_privileges(doc, &r->privs);
	add_open_methods(doc, r);
	add_api(doc, &r->api);
	add_registration(doc, &r->matrix);
	add_profiles(doc, r);
	add_functional(doc, r);
	return vmt_json_emit(out, doc);
}

int uffd_print_profiles(FILE *out, int json)
{
	char names[512];

	if (json) {
		struct json_object *doc =
			vmt_json_doc_new("uffd-probe-profiles", UFFD_PROFILES_JSON_SCHEMA_VERSION);
		struct json_object *profiles = vmt_json_add_array(doc, "profiles");

		for (unsigned int i = 0; i < uffd_profile_count; i++)
			add_profile_requirements(vmt_json_append_object(profiles),
						 &uffd_profiles[i]);
		return vmt_json_emit(out, doc);
	}
	for (unsigned int i = 0; i < uffd_profile_count; i++) {
		const struct uffd_profile *p = &uffd_profiles[i];

		fprintf(out, "%s: %s\n", p->name, p->user);
		fprintf(out, "  memory:   %s%s\n", uffd_mem_kind_name(p->memory),
			p->memory_from_option ? " (or --memory KIND, with that kind's requirements)"
					      : "");
		fprintf(out, "  open:     %s\n",
			p->kernel_faults
				? "an fd that catches kernel faults (syscall or device, not user-mode-only)"
				: "any method");
		fprintf(out, "  features: %s\n",
			uffd_format_features(p->features, names, sizeof(names)));
		fprintf(out, "  register: %s\n", uffd_reg_mode_name(p->mode));
		fprintf(out, "  ioctls:   %s\n",
			uffd_format_ioctls(p->ioctls, names, sizeof(names)));
		fprintf(out, "  why:      %s\n", p->why);
		if (i + 1 < uffd_profile_count)
			fputc('\n', out);
	}
	return 0;
}
