// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * uffd-probe: what this host's userfaultfd can do, in one command.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "common/cli.h"
#include "common/closestream.h"
#include "common/exitcodes.h"
#include "common/log.h"
#include "options.h"
#include "uffd-output.h"
#include "uffd-report.h"

static void collect(const struct probe_options *o, struct uffd_report *r)
{
	const char *device = o->device ? o->device : UFFD_DEFAULT_DEVICE;
	struct utsname uts;

	if (uname(&uts) == 0)
		snprintf(r->kernel, sizeof(r->kernel), "%s", uts.release);
	uffd_privileges_read(device, &r->privs);
	uffd_hugepages_read(&r->hugepages);
	for (int m = 0; m < UFFD_OPEN_METHOD_COUNT; m++)
		uffd_open_try(m, &r->privs, &r->open[m]);
	uffd_api_probe(device, &r->api);
	uffd_matrix_probe(device, o->tmpfs_dir, &r->matrix);

	if (o->nrequired) {
		for (unsigned int i = 0; i < o->nrequired; i++)
			uffd_profile_check(o->required[i], o->memory, device, o->tmpfs_dir,
					   &r->profiles[r->profile_count++]);
	} else {
		for (unsigned int i = 0; i < uffd_profile_count && i < 8; i++)
			uffd_profile_check(&uffd_profiles[i], o->memory, device, o->tmpfs_dir,
					   &r->profiles[r->profile_count++]);
	}

	if (o->functional) {
		r->functional = true;
		r->functional_faults = o->faults;
		for (int m = 0; m < UFFD_FILL_METHOD_COUNT; m++) {
			vmt_dbg("functional: %s, %lu faults", uffd_fill_method_name(m), o->faults);
			uffd_functional_run(m, o->faults, device, &r->func[m]);
		}
	}
}

/*
 * What makes the exit status non-zero, each said on stderr; the first
 * (most severe first: a functional test that went wrong, then userfaultfd
 * unusable, then a profile not met) goes into failure for the JSON.
 */
static void check_report(const struct probe_options *o, const struct uffd_report *r,
			 struct vmt_failure *failure)
{
	for (int m = 0; r->functional && m < UFFD_FILL_METHOD_COUNT; m++) {
		if (r->func[m].status != UFFD_FUNC_FAILED)
			continue;
		vmt_refuse(failure, NULL, -EIO, VMT_EXIT_FAILURE,
			   "functional test %s on %s memory failed: %s", uffd_fill_method_name(m),
			   uffd_mem_kind_name(r->func[m].memory), r->func[m].note);
		vmt_err("functional test %s on %s memory failed: %s", uffd_fill_method_name(m),
			uffd_mem_kind_name(r->func[m].memory), r->func[m].note);
	}
	if (!uffd_report_usable(r)) {
		vmt_refuse(failure, NULL, -EOPNOTSUPP, VMT_EXIT_UNSUPPORTED,
			   "userfaultfd is not usable here: %s", r->api.error);
		vmt_info("userfaultfd is not usable here: %s", r->api.error);
	}
	for (unsigned int i = 0; i < o->nrequired; i++) {
		const struct uffd_profile_result *p = &r->profiles[i];
		const char *why = p->unmet_count ? p->unmet[0] : "?";

		if (p->met)
			continue;
		vmt_refuse(failure, NULL, -EOPNOTSUPP, VMT_EXIT_UNSUPPORTED,
			   "profile %s (%s memory) not met: %s", p->profile->name,
			   uffd_mem_kind_name(p->memory), why);
		vmt_info("profile %s (%s memory) not met: %s", p->profile->name,
			 uffd_mem_kind_name(p->memory), why);
	}
}

/* The report, or the profiles' list; returns the exit code. */
static int run(const struct probe_options *o)
{
	static struct uffd_report report;
	struct vmt_failure failure = { 0 };
	int code;

	if (o->list_profiles) {
		uffd_print_profiles(stdout, o->json);
		return VMT_EXIT_OK;
	}
	collect(o, &report);
	check_report(o, &report, &failure);
	if (o->json) {
		char *line = vmt_failure_line(&failure, NULL, 0);

		uffd_print_json(stdout, &report, &failure, line);
		free(line);
	} else if (!o->quiet) {
		uffd_print_table(stdout, &report);
	}
	code = vmt_failed(&failure) ? vmt_failure_exit_code(&failure) : VMT_EXIT_OK;
	vmt_failure_free(&failure);
	return code;
}

int main(int argc, const char **argv)
{
	struct probe_options o;
	int code;

	vmt_log_init(argv[0]);
	probe_options_parse(&o, argc, argv);
	/* Tables and JSON: `uffd-probe | head -1` ends quietly. */
	vmt_stdout_is_listing();
	code = run(&o);
	probe_options_free(&o);
	return vmt_cli_exit(code);
}
