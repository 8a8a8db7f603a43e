// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * uffd-probe's options, with lib/common/cli; see options.h.
 */
#include <popt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/c.h"
#include "common/cli.h"
#include "common/exitcodes.h"
#include "common/log.h"
#include "common/strutils.h"
#include "options.h"
#include "uffd-functional.h"
#include "uffd-memory.h"
#include "uffd-open.h"
#include "uffd-profiles.h"

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

static void add_required(struct probe_options *o, const char *list)
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

/* One of the options; the checks that need them all come after. */
static void take_option(struct probe_options *o, int opt, const char *arg)
{
	switch (opt) {
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
					"or tmpfs-file)",
					arg);
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

/* --memory picks the postcopy profile's memory: with -r, that profile must be one of them. */
static void check_combinations(const struct probe_options *o)
{
	bool postcopy = false;

	if (o->memory < 0 || !o->nrequired)
		return;
	for (unsigned int i = 0; i < o->nrequired; i++)
		postcopy |= o->required[i]->memory_from_option;
	if (!postcopy)
		vmt_usage_error("--memory applies to the postcopy profile only");
}

void probe_options_parse(struct probe_options *o, int argc, const char **argv)
{
	int opt;

	*o = (struct probe_options){ .faults = UFFD_DEFAULT_FAULTS, .memory = -1 };
	vmt_cli_begin(argc, argv, options);
	while ((opt = vmt_cli_next(usage)) > 0)
		take_option(o, opt, vmt_cli_arg());
	o->quiet = vmt_log_level() < VMT_LOG_INFO;
	vmt_cli_no_operands();
	check_combinations(o);
}

void probe_options_free(struct probe_options *o)
{
	*o = (struct probe_options){ 0 };
	vmt_cli_end();
}
