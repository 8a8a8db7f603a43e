// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libvfiosim paths: the /dev nodes the simulated kernel provides and the fake
 * sysfs tree (real files and symlinks under VFIOSIM_SYSFS) that the libc
 * wrappers redirect a few /sys prefixes to.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/c.h"
#include "sim.h"

/*
 * Every path here is the configured directory (bounded when read from the
 * environment) plus short names from the configuration; an overlong one
 * only makes a file operation fail, which sim_sysfs_build reports.
 */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif

/* Only these prefixes are redirected: everything else stays the real /sys. */
static const char *const sysfs_prefixes[] = {
	"/sys/bus/pci/devices",	    "/sys/bus/pci/drivers", "/sys/bus/mdev/devices",
	"/sys/kernel/iommu_groups", "/sys/class/vfio-dev",
};

/* The /dev/vfio directories are listed from here (inside the sysfs dir). */
#define DEVDIR ".dev"

static bool has_prefix(const char *path, const char *prefix)
{
	size_t n = strlen(prefix);

	return !strncmp(path, prefix, n) && (path[n] == '\0' || path[n] == '/');
}

bool sim_sysfs_redirect(const char *path, char *out, size_t outlen)
{
	int n;

	if (!path || !sim_cfg.sysfs[0] || path[0] != '/')
		return false;
	if (!strncmp(path, "/sys/", 5)) {
		for (size_t i = 0; i < ARRAY_SIZE(sysfs_prefixes); i++) {
			if (has_prefix(path, sysfs_prefixes[i])) {
				n = snprintf(out, outlen, "%s%s", sim_cfg.sysfs, path + 4);
				return n > 0 && (size_t)n < outlen;
			}
		}
		return false;
	}
	/* directories only: the nodes themselves are handled by sim_devnode_lookup */
	if (!strcmp(path, "/dev/vfio") || !strcmp(path, "/dev/vfio/") ||
	    !strcmp(path, "/dev/vfio/devices") || !strcmp(path, "/dev/vfio/devices/")) {
		n = snprintf(out, outlen, "%s/" DEVDIR "%s", sim_cfg.sysfs, path + 4);
		return n > 0 && (size_t)n < outlen;
	}
	return false;
}

/* Turn a path inside the fake tree back into the /sys (or /dev) name. */
bool sim_sysfs_unredirect(char *path, size_t len)
{
	size_t n = strlen(sim_cfg.sysfs);
	char tmp[PATH_MAX];
	int r;

	if (!n || strncmp(path, sim_cfg.sysfs, n) || (path[n] != '/' && path[n] != '\0'))
		return false;
	if (!strncmp(path + n, "/" DEVDIR, sizeof(DEVDIR)) &&
	    (path[n + sizeof(DEVDIR)] == '/' || path[n + sizeof(DEVDIR)] == '\0'))
		r = snprintf(tmp, sizeof(tmp), "/dev%s", path + n + sizeof(DEVDIR));
	else
		r = snprintf(tmp, sizeof(tmp), "/sys%s", path + n);
	if (r < 0 || (size_t)r >= len || (size_t)r >= sizeof(tmp))
		return false;
	strcpy(path, tmp);
	return true;
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
	}
	return true;
}

/* Which simulated node a path names. Only exact names of configured things. */
enum sim_devnode sim_devnode_lookup(const char *path, unsigned int *num)
{
	if (!path || strncmp(path, "/dev/", 5))
		return SIM_NODE_NONE;
	if (!strcmp(path, "/dev/iommu"))
		return SIM_NODE_IOMMU;
	if (strncmp(path, "/dev/vfio", 9))
		return SIM_NODE_NONE;
	path += 9;
	if (!strcmp(path, "") || !strcmp(path, "/"))
		return SIM_NODE_DIR_VFIO;
	if (!strcmp(path, "/vfio"))
		return SIM_NODE_CONTAINER;
	if (!strcmp(path, "/devices") || !strcmp(path, "/devices/"))
		return SIM_NODE_DIR_DEVICES;
	if (!strncmp(path, "/devices/vfio", 13) && all_digits(path + 13)) {
		*num = (unsigned int)strtoul(path + 13, NULL, 10);
		return sim_dev_by_index(*num) ? SIM_NODE_CDEV : SIM_NODE_NONE;
	}
	if (path[0] == '/' && all_digits(path + 1) && strlen(path + 1) < 8) {
		*num = (unsigned int)strtoul(path + 1, NULL, 10);
		return sim_dev_by_group(*num) ? SIM_NODE_GROUP : SIM_NODE_NONE;
	}
	return SIM_NODE_NONE;
}

/* ---- building the tree ---- */

static int put_file(const char *dir, const char *name, const char *fmt, ...) VMT_PRINTF(3, 4);

static int put_file(const char *dir, const char *name, const char *fmt, ...)
{
	char path[PATH_MAX], text[256];
	va_list ap;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	f = fopen(path, "we");
	if (!f)
		return -1;
	fputs(text, f);
	return fclose(f);
}

static int mkdirs(const char *path)
{
	char tmp[PATH_MAX];

	if (strlen(path) >= sizeof(tmp))
		return -1;
	strcpy(tmp, path);
	for (char *p = tmp + 1; *p; p++) {
		if (*p == '/') {
			*p = '\0';
			if (mkdir(tmp, 0755) && errno != EEXIST)
				return -1;
			*p = '/';
		}
	}
	if (mkdir(tmp, 0755) && errno != EEXIST)
		return -1;
	return 0;
}

static int build_device(const char *root, const struct sim_devcfg *d)
{
	char dir[PATH_MAX], p[PATH_MAX], target[PATH_MAX];
	const char *bus = d->mdev[0] ? "mdev" : "pci";
	const char *id = d->mdev[0] ? d->mdev : d->bdf;

	snprintf(dir, sizeof(dir), "%s/bus/%s/devices/%s", root, bus, id);
	snprintf(p, sizeof(p), "%s/vfio-dev/%s", dir, d->name);
	if (mkdirs(p))
		return -1;
	if (put_file(p, "dev", "511:%u\n", d->index))
		return -1;
	snprintf(p, sizeof(p), "%s/vfio-dev/%s/device", dir, d->name);
	snprintf(target, sizeof(target), "../../../%s", id);
	if (symlink(target, p))
		return -1;

	/* iommu group and its back link */
	snprintf(p, sizeof(p), "%s/kernel/iommu_groups/%u/devices", root, d->group);
	if (mkdirs(p))
		return -1;
	snprintf(p, sizeof(p), "%s/kernel/iommu_groups/%u/devices/%s", root, d->group, id);
	snprintf(target, sizeof(target), "../../../../bus/%s/devices/%s", bus, id);
	if (symlink(target, p))
		return -1;
	snprintf(p, sizeof(p), "%s/iommu_group", dir);
	snprintf(target, sizeof(target), "../../../../kernel/iommu_groups/%u", d->group);
	if (symlink(target, p))
		return -1;

	/* driver */
	snprintf(p, sizeof(p), "%s/bus/%s/drivers/%s", root, bus, d->driver);
	if (mkdirs(p))
		return -1;
	snprintf(p, sizeof(p), "%s/driver", dir);
	snprintf(target, sizeof(target), "../../../../bus/%s/drivers/%s", bus, d->driver);
	if (symlink(target, p))
		return -1;

	/* class link */
	snprintf(p, sizeof(p), "%s/class/vfio-dev", root);
	if (mkdirs(p))
		return -1;
	snprintf(p, sizeof(p), "%s/class/vfio-dev/%s", root, d->name);
	snprintf(target, sizeof(target), "../../bus/%s/devices/%s/vfio-dev/%s", bus, id, d->name);
	if (symlink(target, p))
		return -1;

	if (d->mdev[0]) {
		snprintf(p, sizeof(p), "%s/bus/mdev/types/%s", root, d->mdev_type);
		if (mkdirs(p) || put_file(p, "name", "%s\n", d->mdev_type) ||
		    put_file(p, "device_api", "vfio-pci\n"))
			return -1;
		snprintf(p, sizeof(p), "%s/mdev_type", dir);
		snprintf(target, sizeof(target), "../../types/%s", d->mdev_type);
		if (symlink(target, p))
			return -1;
		return 0;
	}
	if (put_file(dir, "vendor", "0x%04x\n", d->vendor) ||
	    put_file(dir, "device", "0x%04x\n", d->device) ||
	    put_file(dir, "subsystem_vendor", "0x%04x\n", d->subsys_vendor) ||
	    put_file(dir, "subsystem_device", "0x%04x\n", d->subsys_device) ||
	    put_file(dir, "revision", "0x%02x\n", d->revision) ||
	    put_file(dir, "class", "0x%06x\n", d->class_code))
		return -1;
	return 0;
}

static int build_tree(const char *root)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/" DEVDIR "/vfio/devices", root);
	if (mkdirs(p))
		return -1;
	snprintf(p, sizeof(p), "%s/bus/pci/devices", root);
	if (mkdirs(p))
		return -1;
	snprintf(p, sizeof(p), "%s/bus/mdev/devices", root);
	if (mkdirs(p))
		return -1;
	snprintf(p, sizeof(p), "%s/" DEVDIR "/vfio", root);
	if (put_file(p, "vfio", "%s", ""))
		return -1;
	for (unsigned int i = 0; i < sim_cfg.nr_dev; i++) {
		const struct sim_devcfg *d = &sim_cfg.dev[i];
		char name[32];

		if (build_device(root, d))
			return -1;
		snprintf(p, sizeof(p), "%s/" DEVDIR "/vfio/devices", root);
		if (put_file(p, d->name, "%s", ""))
			return -1;
		snprintf(p, sizeof(p), "%s/" DEVDIR "/vfio", root);
		snprintf(name, sizeof(name), "%u", d->group);
		if (put_file(p, name, "%s", ""))
			return -1;
	}
	snprintf(p, sizeof(p), "%s/.vfiosim-built", root);
	return put_file(root, ".vfiosim-built", "%u devices\n", sim_cfg.nr_dev);
}

static void remove_tree(const char *path)
{
	char cmd[PATH_MAX + 32];

	/* Only ever our own freshly made temp dir. */
	if (strstr(path, "vfiosim-build.") && !strchr(path, '\'')) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
		if (system(cmd)) {
			/* a leftover temp dir is harmless */
		}
	}
}

/*
 * Build the tree once: into a temp dir next to it, then rename into place,
 * so two processes starting together (save | load) never see half a tree.
 */
int sim_sysfs_build(void)
{
	char marker[PATH_MAX], tmp[PATH_MAX];
	struct stat st;

	if (!sim_cfg.sysfs[0])
		return 0;
	snprintf(marker, sizeof(marker), "%s/.vfiosim-built", sim_cfg.sysfs);
	if (!stat(marker, &st))
		return 0;
	snprintf(tmp, sizeof(tmp), "%s.vfiosim-build.%ld", sim_cfg.sysfs, (long)getpid());
	if (mkdir(tmp, 0755) && errno != EEXIST)
		return -1;
	if (build_tree(tmp)) {
		remove_tree(tmp);
		return -1;
	}
	if (rename(tmp, sim_cfg.sysfs)) {
		remove_tree(tmp);
		/* someone else won the race */
		return stat(marker, &st) ? -1 : 0;
	}
	return 0;
}
