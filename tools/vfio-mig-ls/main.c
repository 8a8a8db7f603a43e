// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vfio-mig-ls: the VFIO devices of this host and whether they can migrate,
 * in the manner of lsblk. Identity comes from sysfs; migration facts from
 * the device itself, when it can be opened without taking it from anyone
 * (a device in use is listed as busy). The device's state is only read.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli.h"
#include "common/closestream.h"
#include "common/exitcodes.h"
#include "common/log.h"
#include "vfio/sysfs.h"

#include "columns.h"
#include "options.h"
#include "output.h"
#include "probe.h"

/* Whether name (as a user writes it) names this device. */
static bool names_device(const char *name, const struct vmt_sysfs_vfio_entry *e)
{
	char bdf[32], cdev[64];
	const char *base = strrchr(name, '/');

	if (strcasecmp(name, e->name) == 0)
		return true;
	if (vmt_sysfs_parse_pci_address(name, bdf, sizeof(bdf)) == 0)
		return !e->mdev && strcmp(bdf, e->name) == 0;
	if (vmt_sysfs_vfio_cdev(e->dir, cdev, sizeof(cdev)) < 0)
		return false;
	if (base)
		return strncmp(name, "/dev/vfio/devices/", 18) == 0 && strcmp(base + 1, cdev) == 0;
	return strcmp(name, cdev) == 0;
}

/* Keep the entries the names ask for, in the order found; each name must match one. */
static int select_named(const char *const *names, struct vmt_sysfs_vfio_entry *e, size_t *n)
{
	size_t kept = 0;
	int ret = 0;

	for (const char *const *name = names; *name; name++) {
		bool found = false;

		for (size_t i = 0; i < *n; i++)
			found |= names_device(*name, &e[i]);
		if (!found) {
			vmt_err("%s: not a VFIO device on this host", *name);
			ret = -ENOENT;
		}
	}
	for (size_t i = 0; i < *n; i++) {
		for (const char *const *name = names; *name; name++) {
			if (names_device(*name, &e[i])) {
				e[kept++] = e[i];
				break;
			}
		}
	}
	*n = kept;
	return ret;
}

static int list_devices(const struct ls_options *o)
{
	struct ls_output_opts out = {
		.cols = o->cols,
		.ncols = o->ncols,
		.raw = o->raw,
		.no_headings = o->no_headings,
		.bytes = o->bytes,
	};
	struct vmt_sysfs_vfio_entry *entries = NULL;
	struct ls_device *devs = NULL;
	size_t n = 0;
	int ret = vmt_sysfs_list_vfio_devices(&entries, &n);

	if (ret < 0) {
		vmt_err("/sys/bus: cannot list devices: %s", strerror(-ret));
		return VMT_EXIT_FAILURE;
	}
	if (o->nnames && select_named(o->names, entries, &n) < 0) {
		free(entries);
		return VMT_EXIT_FAILURE;
	}
	if (n && !(devs = calloc(n, sizeof(*devs)))) {
		vmt_err("out of memory");
		free(entries);
		return VMT_EXIT_FAILURE;
	}
	for (size_t i = 0; i < n; i++)
		ls_probe_device(&entries[i], !o->no_open, &devs[i]);
	if (!n && !o->json)
		vmt_info("no VFIO devices found");
	else
		ret = o->json ? ls_print_json(stdout, devs, n, &out)
			      : ls_print_table(stdout, devs, n, &out);
	free(devs);
	free(entries);
	/* A write error is vmt_close_stdout()'s to report (or, for a listing's gone reader, not). */
	if (ret == -ENOMEM) {
		vmt_err("out of memory");
		return VMT_EXIT_FAILURE;
	}
	return VMT_EXIT_OK;
}

int main(int argc, const char **argv)
{
	struct ls_options o;
	int code;

	vmt_log_init(argv[0]);
	ls_options_parse(&o, argc, argv);
	/* A listing: `vfio-mig-ls | head -1` ends quietly, like lsblk. */
	vmt_stdout_is_listing();
	code = list_devices(&o);
	ls_options_free(&o);
	return vmt_cli_exit(code);
}
