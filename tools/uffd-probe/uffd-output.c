// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Table and JSON output of a uffd-probe report.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "json.h"
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

static void print_cell(FILE *out, const char *kind, const char *mode,
		       const struct uffd_reg_cell *c)
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
	fprintf(out, "Kernel %s, euid %u, CAP_SYS_PTRACE %s, vm.unprivileged_userfaultfd %s, "
		"seccomp %s\n\n", r->kernel, (unsigned int)pv->euid, yes_no(pv->cap_sys_ptrace),
		sysctl, seccomp);

	fprintf(out, "%-23s %-7s %-14s %s\n", "OPEN METHOD", "RESULT", "KERNEL FAULTS", "REASON");
	for (int m = 0; m < UFFD_OPEN_METHOD_COUNT; m++) {
		const struct uffd_open_result *o = &r->open[m];

		const char *reason = o->ok ? (m == UFFD_OPEN_DEVICE ? pv->device_path : "") : o->reason;

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
		fprintf(out, "%-11s %-8s %-11s %s\n", "MEMORY", "MODE", "RESULT", "IOCTLS / REASON");
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

/* Named bits as a JSON array of strings; unknown bits as numbers. */
static void json_bits(FILE *out, uint64_t mask, const char *(*name_of)(unsigned int))
{
	bool first = true;

	fputc('[', out);
	for (unsigned int b = 0; b < 64; b++) {
		if (!(mask & ((uint64_t)1 << b)))
			continue;
		fputs(first ? "" : ", ", out);
		first = false;
		if (name_of(b))
			vmt_json_string(out, name_of(b));
		else
			fprintf(out, "%u", b);
	}
	fputc(']', out);
}

static void json_int_or_null(FILE *out, int v)
{
	if (v < 0)
		fputs("null", out);
	else
		fprintf(out, "%d", v);
}

static void json_errno(FILE *out, int err)
{
	if (!err) {
		fputs("\"errno\": null, \"error\": null", out);
		return;
	}
	fputs("\"errno\": ", out);
	vmt_json_string(out, strerrorname_np(err));
	fputs(", \"error\": ", out);
	vmt_json_string(out, strerror(err));
}

static void json_profile_requirements(FILE *out, const struct uffd_profile *p)
{
	fputs("\"name\": ", out);
	vmt_json_string(out, p->name);
	fputs(", \"user\": ", out);
	vmt_json_string(out, p->user);
	fputs(", \"memory\": ", out);
	vmt_json_string(out, uffd_mem_kind_name(p->memory));
	fprintf(out, ", \"memory_from_option\": %s, \"kernel_faults\": %s, \"features\": ",
		p->memory_from_option ? "true" : "false", p->kernel_faults ? "true" : "false");
	json_bits(out, p->features, uffd_feature_name);
	fputs(", \"mode\": ", out);
	vmt_json_string(out, uffd_reg_mode_name(p->mode));
	fputs(", \"ioctls\": ", out);
	json_bits(out, p->ioctls, uffd_ioctl_name);
	fputs(", \"why\": ", out);
	vmt_json_string(out, p->why);
}

void uffd_print_json(FILE *out, const struct uffd_report *r)
{
	const struct uffd_privileges *pv = &r->privs;

	fputs("{\n  \"schema\": \"uffd-probe/1\",\n  \"kernel\": ", out);
	vmt_json_string(out, r->kernel);
	fprintf(out, ",\n  \"usable\": %s,\n", uffd_report_usable(r) ? "true" : "false");
	fprintf(out, "  \"privileges\": {\"euid\": %u, \"cap_sys_ptrace\": %s, "
		"\"unprivileged_userfaultfd\": ", (unsigned int)pv->euid,
		pv->cap_sys_ptrace < 0 ? "null" : pv->cap_sys_ptrace ? "true" : "false");
	json_int_or_null(out, pv->unprivileged_userfaultfd);
	fputs(", \"seccomp\": ", out);
	json_int_or_null(out, pv->seccomp_mode);
	fputs(", \"device\": ", out);
	vmt_json_string(out, pv->device_path);
	if (pv->device_errno)
		fputs(", \"device_mode\": null", out);
	else
		fprintf(out, ", \"device_mode\": \"%04o\"", (unsigned int)(pv->device_mode & 07777));
	fputs("},\n  \"open\": [\n", out);
	for (int m = 0; m < UFFD_OPEN_METHOD_COUNT; m++) {
		const struct uffd_open_result *o = &r->open[m];

		fputs("    {\"method\": ", out);
		vmt_json_string(out, uffd_open_method_name(o->method));
		fprintf(out, ", \"ok\": %s, \"kernel_faults\": %s, ", o->ok ? "true" : "false",
			uffd_open_method_kernel_faults(o->method) ? "true" : "false");
		json_errno(out, o->ok ? 0 : o->err);
		fputs(", \"reason\": ", out);
		vmt_json_string(out, o->ok ? NULL : o->reason);
		fprintf(out, "}%s\n", m + 1 < UFFD_OPEN_METHOD_COUNT ? "," : "");
	}
	fputs("  ],\n  \"api\": {", out);
	fprintf(out, "\"ok\": %s, \"method\": ", r->api.ok ? "true" : "false");
	vmt_json_string(out, r->api.ok ? uffd_open_method_name(r->api.method) : NULL);
	fputs(", ", out);
	json_errno(out, r->api.err);
	fprintf(out, ", \"api\": %llu, \"features_mask\": \"0x%llx\", \"features\": ",
		(unsigned long long)r->api.api, (unsigned long long)r->api.features);
	json_bits(out, r->api.features, uffd_feature_name);
	fputs(", \"missing_features\": ", out);
	json_bits(out, r->api.ok ? r->api.known_features & ~r->api.features : 0, uffd_feature_name);
	fputs(", \"ioctls\": ", out);
	json_bits(out, r->api.ioctls, uffd_ioctl_name);
	fputs("},\n  \"registration\": [\n", out);
	for (int k = 0; k < UFFD_MEM_KIND_COUNT && !r->matrix.open_err; k++) {
		for (int m = 0; m < UFFD_REG_MODE_COUNT; m++) {
			const struct uffd_reg_cell *c = &r->matrix.cell[k][m];
			bool last = k + 1 == UFFD_MEM_KIND_COUNT && m + 1 == UFFD_REG_MODE_COUNT;

			fputs("    {\"memory\": ", out);
			vmt_json_string(out, uffd_mem_kind_name(k));
			fputs(", \"mode\": ", out);
			vmt_json_string(out, uffd_reg_mode_name(m));
			fputs(", \"status\": ", out);
			vmt_json_string(out, uffd_cell_status_name(c->status));
			fputs(", \"ioctls\": ", out);
			json_bits(out, c->status == UFFD_CELL_OK ? c->ioctls : 0, uffd_ioctl_name);
			fputs(", ", out);
			json_errno(out, c->status == UFFD_CELL_OK ? 0 : c->err);
			fputs(", \"note\": ", out);
			vmt_json_string(out, c->note[0] ? c->note : NULL);
			fprintf(out, "}%s\n", last ? "" : ",");
		}
	}
	fputs("  ],\n  \"profiles\": [\n", out);
	for (unsigned int i = 0; i < r->profile_count; i++) {
		const struct uffd_profile_result *p = &r->profiles[i];

		fputs("    {\"name\": ", out);
		vmt_json_string(out, p->profile->name);
		fputs(", \"memory\": ", out);
		vmt_json_string(out, uffd_mem_kind_name(p->memory));
		fprintf(out, ", \"met\": %s, \"untestable\": %s, \"method\": ", p->met ? "true" : "false",
			p->untestable ? "true" : "false");
		vmt_json_string(out, p->opened ? uffd_open_method_name(p->method) : NULL);
		fputs(", \"unmet\": [", out);
		for (unsigned int u = 0; u < p->unmet_count; u++) {
			fputs(u ? ", " : "", out);
			vmt_json_string(out, p->unmet[u]);
		}
		fprintf(out, "]}%s\n", i + 1 < r->profile_count ? "," : "");
	}
	fputs("  ],\n  \"functional\": ", out);
	if (!r->functional) {
		fputs("null\n}\n", out);
		return;
	}
	fprintf(out, "{\"faults_requested\": %lu, \"results\": [\n", r->functional_faults);
	for (int m = 0; m < UFFD_FILL_METHOD_COUNT; m++) {
		const struct uffd_func_result *f = &r->func[m];

		fputs("    {\"method\": ", out);
		vmt_json_string(out, uffd_fill_method_name(f->method));
		fputs(", \"memory\": ", out);
		vmt_json_string(out, uffd_mem_kind_name(f->memory));
		fputs(", \"status\": ", out);
		vmt_json_string(out, uffd_func_status_name(f->status));
		fprintf(out, ", \"faults\": %lu, \"verified\": %lu", f->faults, f->verified);
		if (f->status == UFFD_FUNC_OK)
			fprintf(out, ", \"median_us\": %.2f, \"p99_us\": %.2f, \"faults_per_sec\": %.0f",
				f->median_us, f->p99_us, f->faults_per_sec);
		else
			fputs(", \"median_us\": null, \"p99_us\": null, \"faults_per_sec\": null", out);
		fputs(", \"note\": ", out);
		vmt_json_string(out, f->note[0] ? f->note : NULL);
		fprintf(out, "}%s\n", m + 1 < UFFD_FILL_METHOD_COUNT ? "," : "");
	}
	fputs("  ]}\n}\n", out);
}

void uffd_print_profiles(FILE *out, int json)
{
	char names[512];

	if (json) {
		fputs("{\"schema\": \"uffd-probe-profiles/1\", \"profiles\": [\n", out);
		for (unsigned int i = 0; i < uffd_profile_count; i++) {
			fputs("  {", out);
			json_profile_requirements(out, &uffd_profiles[i]);
			fprintf(out, "}%s\n", i + 1 < uffd_profile_count ? "," : "");
		}
		fputs("]}\n", out);
		return;
	}
	for (unsigned int i = 0; i < uffd_profile_count; i++) {
		const struct uffd_profile *p = &uffd_profiles[i];

		fprintf(out, "%s: %s\n", p->name, p->user);
		fprintf(out, "  memory:   %s%s\n", uffd_mem_kind_name(p->memory),
			p->memory_from_option ? " (or --memory KIND, with that kind's requirements)" : "");
		fprintf(out, "  open:     %s\n", p->kernel_faults
			? "an fd that catches kernel faults (syscall or device, not user-mode-only)"
			: "any method");
		fprintf(out, "  features: %s\n", uffd_format_features(p->features, names, sizeof(names)));
		fprintf(out, "  register: %s\n", uffd_reg_mode_name(p->mode));
		fprintf(out, "  ioctls:   %s\n", uffd_format_ioctls(p->ioctls, names, sizeof(names)));
		fprintf(out, "  why:      %s\n", p->why);
		if (i + 1 < uffd_profile_count)
			fputc('\n', out);
	}
}
