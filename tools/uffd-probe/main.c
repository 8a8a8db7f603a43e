// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * uffd-probe: what this host's userfaultfd can do, in one command.
 */
#include <errno.h>
#include <popt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "common/c.h"
#include "common/cli.h"
#include "common/closestream.h"
#include "common/exitcodes.h"
#include "common/log.h"
#include "common/strutils.h"
#include "uffd-output.h"
#include "uffd-report.h"

enum {
	OPT_JSON = 1, /* 0 would make popt return nothing */
	OPT_REQUIRE,
	OPT_MEMORY,
	OPT_LIST_PROFILES,
	OPT_FUNCTIONAL,
	OPT_FAULTS,
	OPT_DEVICE,
	OPT_TMPFS_DIR,
};

static const struct poptOption options[] = {
	VMT_POPT_COMMON_OPTIONS,
	{ "json", '\0', POPT_ARG_NONE, NULL, OPT_JSON, NULL, NULL },
	{ "require", 'r', POPT_ARG_STRING, NULL, OPT_REQUIRE, NULL, NULL },
	{ "memory", 'm', POPT_ARG_STRING, NULL, OPT_MEMORY, NULL, NULL },
	{ "list-profiles", '\0', POPT_ARG_NONE, NULL, OPT_LIST_PROFILES, NULL, NULL },
	{ "functional", 'F', POPT_ARG_NONE, NULL, OPT_FUNCTIONAL, NULL, NULL },
	{ "faults", 'n', POPT_ARG_STRING, NULL, OPT_FAULTS, NULL, NULL },
	{ "device", '\0', POPT_ARG_STRING, NULL, OPT_DEVICE, NULL, NULL },
	{ "tmpfs-dir", '\0', POPT_ARG_STRING, NULL, OPT_TMPFS_DIR, NULL, NULL },
	POPT_TABLEEND
};

struct probe_opts {
	bool quiet;
	bool json;
	bool list_profiles;
	bool functional;
	unsigned long faults;
	int memory;		/* -1: each profile's own */
	const struct uffd_profile *required[8];
	unsigned int nrequired;
	const char *device;    /* lib/common/cli's argument, valid until vmt_cli_end() */
	const char *tmpfs_dir; /* the same */
};

static void usage(void)
{
	printf(VMT_USAGE_HEADER
	       " %s [options]\n"
	       "\n"
	       "Report how userfaultfd can be opened here, the features the kernel offers,\n"
	       "which memory kinds register in which modes, and whether named uses work.\n"
	       "\n"
	       "Options:\n"
	       " -r, --require PROFILE[,...]  check these profiles; exit 3 if one is not met\n"
	       " -m, --memory KIND            memory for the postcopy profile: anon, shmem,\n"
	       "                              hugetlb, tmpfs-file (default anon)\n"
	       "     --list-profiles          print what each profile requires, and exit\n"
	       " -F, --functional             fault pages in for real, resolve them with COPY,\n"
	       "                              ZEROPAGE and CONTINUE, check them, time them\n"
	       " -n, --faults N               faults per --functional method (default %d)\n"
	       "     --device PATH            the userfaultfd device (default %s)\n"
	       "     --tmpfs-dir DIR          where to make the tmpfs-file test file\n"
	       "                              (default %s)\n"
	       "     --json                   print JSON (schema uffd-probe/1, see the man page)\n",
	       vmt_progname(), UFFD_DEFAULT_FAULTS, UFFD_DEFAULT_DEVICE, UFFD_DEFAULT_TMPFS_DIR);
	printf(VMT_USAGE_COMMON_OPTIONS(30));
	printf("\nProfiles: ");
	for (unsigned int i = 0; i < uffd_profile_count; i++)
		printf("%s%s", i ? ", " : "", uffd_profiles[i].name);
	printf("\n");
	printf(VMT_USAGE_TAIL);
}

static void add_required(struct probe_opts *o, const char *list)
{
	char *copy = strdup(list), *save = NULL;

	if (!copy) {
		vmt_err("out of memory");
		exit(VMT_EXIT_FAILURE);
	}
	for (char *name = strtok_r(copy, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
		const struct uffd_profile *p = uffd_profile_find(name);
		bool dup = false;

		if (!p) {
			char bad[64];

			snprintf(bad, sizeof(bad), "%s", name);
			free(copy);
			vmt_usage_error("unknown profile '%s' (see --list-profiles)", bad);
		}
		for (unsigned int i = 0; i < o->nrequired; i++)
			dup |= o->required[i] == p;
		if (!dup && o->nrequired < ARRAY_SIZE(o->required))
			o->required[o->nrequired++] = p;
	}
	free(copy);
}

static void parse_options(int argc, const char **argv, struct probe_opts *o)
{
	bool memory_given = false;
	const char *arg;
	int rc;

	vmt_cli_begin(argc, argv, options);
	while ((rc = vmt_cli_next(usage)) > 0) {
		arg = vmt_cli_arg();
		switch (rc) {
		case OPT_JSON:
			o->json = true;
			break;
		case OPT_REQUIRE:
			add_required(o, arg);
			break;
		case OPT_MEMORY:
			o->memory = uffd_mem_kind_parse(arg);
			if (o->memory < 0)
				vmt_usage_error("invalid --memory argument: '%s' (anon, shmem, hugetlb "
						"or tmpfs-file)", arg);
			memory_given = true;
			break;
		case OPT_LIST_PROFILES:
			o->list_profiles = true;
			break;
		case OPT_FUNCTIONAL:
			o->functional = true;
			break;
		case OPT_FAULTS:
			o->faults = vmt_u64_or_usage(arg, "--faults", 1, UFFD_MAX_FAULTS);
			break;
		case OPT_DEVICE:
			o->device = arg;
			break;
		case OPT_TMPFS_DIR:
			o->tmpfs_dir = arg;
			break;
		}
	}
	o->quiet = vmt_log_level() < VMT_LOG_INFO;
	vmt_cli_no_operands();
	if (memory_given && o->nrequired) {
		bool postcopy = false;

		for (unsigned int i = 0; i < o->nrequired; i++)
			postcopy |= o->required[i]->memory_from_option;
		if (!postcopy)
			vmt_usage_error("--memory applies to the postcopy profile only");
	}
}

static void collect(const struct probe_opts *o, struct uffd_report *r)
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
static void check_report(const struct probe_opts *o, const struct uffd_report *r,
			 struct vmt_failure *failure)
{
	for (int m = 0; r->functional && m < UFFD_FILL_METHOD_COUNT; m++) {
		if (r->func[m].status != UFFD_FUNC_FAILED)
			continue;
		vmt_refuse(failure, NULL, -EIO, VMT_EXIT_FAILURE,
			   "functional test %s on %s memory failed: %s", uffd_fill_method_name(m),
			   uffd_mem_kind_name(r->func[m].memory), r->func[m].note);
		vmt_err("functional test %s on %s memory failed: %s",
			uffd_fill_method_name(m), uffd_mem_kind_name(r->func[m].memory), r->func[m].note);
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

int main(int argc, const char **argv)
{
	struct probe_opts o = { .faults = UFFD_DEFAULT_FAULTS, .memory = -1 };
	static struct uffd_report report;
	int status, rc;

	vmt_log_init(argv[0]);
	parse_options(argc, argv, &o);
	/* Tables and JSON: `uffd-probe | head -1` ends quietly. */
	vmt_stdout_is_listing();

	if (o.list_profiles) {
		uffd_print_profiles(stdout, o.json);
		status = VMT_EXIT_OK;
	} else {
		struct vmt_failure failure = { 0 };

		collect(&o, &report);
		check_report(&o, &report, &failure);
		if (o.json) {
			char *line = vmt_failure_line(&failure, NULL, 0);

			uffd_print_json(stdout, &report, &failure, line);
			free(line);
		} else if (!o.quiet) {
			uffd_print_table(stdout, &report);
		}
		status = vmt_failed(&failure) ? vmt_failure_exit_code(&failure) : VMT_EXIT_OK;
		vmt_failure_free(&failure);
	}
	vmt_cli_end();
	rc = vmt_close_stdout();
	return status ? status : rc;
}
