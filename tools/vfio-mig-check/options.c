// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vfio-mig-check's options; see options.h and vfio-mig-check(1).
 */
#include <popt.h>
#include <stdio.h>
#include <string.h>

#include "common/cli.h"
#include "common/log.h"
#include "common/strutils.h"
#include "vfio/device-cli.h"
#include "vfio/device.h"
#include "groups.h"
#include "options.h"

enum {
	OPT_DEVICE = 1,
	OPT_YES,
	OPT_LIST,
	OPT_GROUP,
	OPT_JUNIT,
	OPT_JSON,
	OPT_KERNEL,
	OPT_IOMMUFD_FD,
	OPT_HWPT,
	OPT_RANGE,
	OPT_IO_PAGE_SIZE,
};

static const struct poptOption options[] = {
	VMT_POPT_COMMON_OPTIONS,
	{ "device", 'd', POPT_ARG_STRING, NULL, OPT_DEVICE, NULL, NULL },
	{ "yes", 'y', POPT_ARG_NONE, NULL, OPT_YES, NULL, NULL },
	{ "list", 'l', POPT_ARG_NONE, NULL, OPT_LIST, NULL, NULL },
	{ "group", 'g', POPT_ARG_STRING, NULL, OPT_GROUP, NULL, NULL },
	{ "junit", '\0', POPT_ARG_STRING, NULL, OPT_JUNIT, NULL, NULL },
	{ "json", 'J', POPT_ARG_NONE, NULL, OPT_JSON, NULL, NULL },
	{ "kernel", '\0', POPT_ARG_STRING, NULL, OPT_KERNEL, NULL, NULL },
	{ "iommufd-fd", '\0', POPT_ARG_STRING, NULL, OPT_IOMMUFD_FD, NULL, NULL },
	{ "hwpt", '\0', POPT_ARG_STRING, NULL, OPT_HWPT, NULL, NULL },
	{ "range", '\0', POPT_ARG_STRING, NULL, OPT_RANGE, NULL, NULL },
	{ "io-page-size", '\0', POPT_ARG_STRING, NULL, OPT_IO_PAGE_SIZE, NULL, NULL },
	POPT_TABLEEND
};

static void usage(void)
{
	printf(VMT_USAGE_HEADER
	       " %s [options] -d DEV [-d PEER] --yes\n"
	       " %s --list\n"
	       "\n"
	       "Check a VFIO device's migration driver against the Linux kernel's rules: the\n"
	       "migration FSM, data fds, pre-copy, resume, reset, DMA logging, the group and\n"
	       "iommufd paths, and a save/load round trip to PEER. TAP on stdout.\n"
	       "DESTRUCTIVE: it walks the devices through every migration state and resets\n"
	       "them; it refuses a device in use and leaves each one RUNNING.\n"
	       "\n"
	       "Devices:\n"
	       " -d, --device DEV          /dev/vfio/devices/vfioN or vfioN, a PCI address,\n"
	       "                           an mdev UUID or fd:N; a second -d is the PEER\n"
	       "                           (the same kind)\n"
	       " -y, --yes                 go ahead and change the devices' migration state\n"
	       "\n"
	       "Selection:\n"
	       " -l, --list                list the check groups and exit\n"
	       " -g, --group NAME          run only this group (repeatable)\n"
	       "     --kernel VERSION      expect the rules of Linux VERSION (default: uname -r)\n"
	       "\n"
	       "An inherited iommufd for group dirty (e.g. iommufd-mock exec's objects):\n"
	       "     --iommufd-fd N        the iommufd ...\n"
	       "     --hwpt ID             ... its dirty-tracking HWPT, tracking enabled\n"
	       "     --range IOVA:LENGTH   ... the mapped range\n"
	       "     --io-page-size N      ... and its IO page size\n"
	       "\n"
	       "Output:\n"
	       "     --junit FILE          also write a JUnit XML report to FILE\n"
	       " -J, --json                a JSON report on stdout instead of TAP\n",
	       vmt_progname(), vmt_progname());
	printf(VMT_USAGE_COMMON_OPTIONS(27));
	printf("\nExit status 1 also when a check failed; 2 also without --yes.\n");
	printf(VMT_USAGE_TAIL);
}

static void parse_range(const char *arg, struct check_options *o)
{
	const char *colon = strchr(arg, ':');
	char iova[32];

	if (!colon || colon == arg || (size_t)(colon - arg) >= sizeof(iova))
		vmt_usage_error("invalid --range argument: '%s' (IOVA:LENGTH)", arg);
	memcpy(iova, arg, (size_t)(colon - arg));
	iova[colon - arg] = '\0';
	if (vmt_parse_u64(iova, 0, UINT64_MAX, &o->iova) || vmt_parse_size(colon + 1, &o->length) ||
	    !o->length)
		vmt_usage_error("invalid --range argument: '%s' (IOVA:LENGTH)", arg);
}

/* One of the options; the checks that need them all come after. */
static void take_option(struct check_options *o, int opt, const char *arg)
{
	switch (opt) {
	case OPT_DEVICE:
		if (o->ndevices == 2)
			vmt_usage_error("at most two devices (-d DEV -d PEER)");
		o->device[o->ndevices++] = vmt_cli_device_or_usage(arg, VMT_CLI_DEVICE_ANY);
		break;
	case OPT_YES:
		o->yes = true;
		break;
	case OPT_LIST:
		o->list = true;
		break;
	case OPT_GROUP:
		if (!group_by_name(arg))
			vmt_usage_error("no such group: '%s' (see --list)", arg);
		if (o->ngroups == MAX_SELECTED_GROUPS)
			vmt_usage_error("too many --group options");
		o->group[o->ngroups++] = group_by_name(arg)->name;
		break;
	case OPT_JUNIT:
		o->junit = arg;
		break;
	case OPT_JSON:
		o->json = true;
		break;
	case OPT_KERNEL:
		o->kernel_version = arg;
		break;
	case OPT_IOMMUFD_FD:
		o->iommufd = (int)vmt_u64_or_usage(arg, "--iommufd-fd", 0, INT32_MAX);
		break;
	case OPT_HWPT:
		o->hwpt = (uint32_t)vmt_u64_or_usage(arg, "--hwpt", 1, UINT32_MAX);
		break;
	case OPT_RANGE:
		parse_range(arg, o);
		break;
	case OPT_IO_PAGE_SIZE:
		o->io_page_size = vmt_size_or_usage(arg, "--io-page-size");
		if (!o->io_page_size || (o->io_page_size & (o->io_page_size - 1)))
			vmt_usage_error("invalid --io-page-size argument: '%s' (a power of 2)",
					arg);
		break;
	}
}

static void check_combinations(const struct check_options *o)
{
	bool inherited = o->iommufd >= 0;

	if (inherited && (!o->hwpt || !o->length || !o->io_page_size))
		vmt_usage_error("--iommufd-fd needs --hwpt, --range and --io-page-size");
	if (!inherited && (o->hwpt || o->length || o->io_page_size))
		vmt_usage_error("--hwpt, --range and --io-page-size go with --iommufd-fd");
	if (o->list && (o->ndevices || o->ngroups))
		vmt_usage_error("--list takes no devices or groups");
	if (o->ndevices == 2 && !strcmp(o->device[0], o->device[1]))
		vmt_usage_error("DEV and PEER are the same device: '%s'", o->device[0]);
}

void check_options_parse(struct check_options *o, int argc, const char **argv)
{
	int opt;

	*o = (struct check_options){ .iommufd = -1 };
	vmt_cli_begin(argc, argv, options);
	while ((opt = vmt_cli_next(usage)) > 0)
		take_option(o, opt, vmt_cli_arg());
	vmt_cli_no_operands();
	check_combinations(o);
}

void check_options_free(struct check_options *o)
{
	*o = (struct check_options){ .iommufd = -1 };
	vmt_cli_end();
}
