// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * sysfs lookups for the device layer; see sysfs.h.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/strutils.h"
#include "vfio/sysfs.h"

#define SYSFS_PCI_DEVICES "/sys/bus/pci/devices"
#define SYSFS_MDEV_DEVICES "/sys/bus/mdev/devices"

static bool hex_run(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

int vmt_sysfs_parse_pci_address(const char *s, char *out, size_t len)
{
	unsigned int domain = 0, bus, dev, fn;
	size_t n = strlen(s);
	char buf[32];

	/* DDDD:BB:DD.F or BB:DD.F, hex, nothing else. */
	if (n == 12 && hex_run(s, 4) && s[4] == ':' && hex_run(s + 5, 2) && s[7] == ':' &&
	    hex_run(s + 8, 2) && s[10] == '.' && s[11] >= '0' && s[11] <= '7') {
		if (sscanf(s, "%4x:%2x:%2x.%1u", &domain, &bus, &dev, &fn) != 4)
			return -EINVAL;
	} else if (n == 7 && hex_run(s, 2) && s[2] == ':' && hex_run(s + 3, 2) && s[5] == '.' &&
		   s[6] >= '0' && s[6] <= '7') {
		if (sscanf(s, "%2x:%2x.%1u", &bus, &dev, &fn) != 3)
			return -EINVAL;
	} else {
		return -EINVAL;
	}
	if (dev > 0x1f)
		return -EINVAL;
	snprintf(buf, sizeof(buf), "%04x:%02x:%02x.%u", domain, bus, dev, fn);
	return vmt_copy_string(out, len, buf);
}

bool vmt_sysfs_is_uuid(const char *s)
{
	static const unsigned int groups[] = { 8, 4, 4, 4, 12 };

	for (size_t i = 0; i < 5; i++) {
		if (!hex_run(s, groups[i]))
			return false;
		s += groups[i];
		if (*s != (i < 4 ? '-' : '\0'))
			return false;
		s++;
	}
	return true;
}

static int existing_dir(const char *base, const char *name, char *out, size_t len)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", base, name);
	if (stat(path, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	return vmt_copy_string(out, len, path);
}

int vmt_sysfs_pci_dir(const char *bdf, char *out, size_t len)
{
	return existing_dir(SYSFS_PCI_DEVICES, bdf, out, len);
}

int vmt_sysfs_mdev_dir(const char *uuid, char *out, size_t len)
{
	return existing_dir(SYSFS_MDEV_DEVICES, uuid, out, len);
}

int vmt_sysfs_vfio_cdev(const char *dir, char *out, size_t len)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int ret = -ENOENT;

	snprintf(path, sizeof(path), "%s/vfio-dev", dir);
	d = opendir(path);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "vfio", 4) == 0 && isdigit((unsigned char)de->d_name[4])) {
			ret = vmt_copy_string(out, len, de->d_name);
			break;
		}
	}
	closedir(d);
	return ret;
}

static int search_bus_for_cdev(const char *bus, const char *cdev_name, char *out, size_t len)
{
	char dir[PATH_MAX], found[64];
	struct dirent *de;
	DIR *d = opendir(bus);
	int ret = -ENOENT;

	if (!d)
		return -ENOENT;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(dir, sizeof(dir), "%s/%s", bus, de->d_name);
		if (vmt_sysfs_vfio_cdev(dir, found, sizeof(found)) == 0 &&
		    strcmp(found, cdev_name) == 0) {
			ret = vmt_copy_string(out, len, dir);
			break;
		}
	}
	closedir(d);
	return ret;
}

int vmt_sysfs_dir_of_cdev(const char *cdev_name, char *out, size_t len)
{
	int ret = search_bus_for_cdev(SYSFS_PCI_DEVICES, cdev_name, out, len);

	if (ret == -ENOENT)
		ret = search_bus_for_cdev(SYSFS_MDEV_DEVICES, cdev_name, out, len);
	return ret;
}

int vmt_sysfs_link_name(const char *dir, const char *attr, char *out, size_t len)
{
	char path[PATH_MAX], target[PATH_MAX];
	const char *base;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, attr);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = '\0';
	while (n > 1 && target[n - 1] == '/')
		target[--n] = '\0';
	base = strrchr(target, '/');
	return vmt_copy_string(out, len, base ? base + 1 : target);
}

int vmt_sysfs_iommu_group(const char *dir, char *out, size_t len)
{
	return vmt_sysfs_link_name(dir, "iommu_group", out, len);
}

int vmt_sysfs_read_u64(const char *dir, const char *attr, uint64_t *out)
{
	char path[PATH_MAX], buf[64], *end;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, attr);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	errno = 0;
	*out = strtoull(buf, &end, 0);
	if (errno || end == buf || (*end && *end != '\n'))
		return -EINVAL;
	return 0;
}

static bool driven_by_vfio(const char *dir, bool mdev)
{
	char cdev[64], driver[256];

	/* Every mdev exists to be a VFIO device; a PCI function needs a VFIO driver. */
	if (mdev || vmt_sysfs_vfio_cdev(dir, cdev, sizeof(cdev)) == 0)
		return true;
	return vmt_sysfs_link_name(dir, "driver", driver, sizeof(driver)) == 0 &&
	       strstr(driver, "vfio") != NULL;
}

static int entry_cmp(const void *a, const void *b)
{
	const struct vmt_sysfs_vfio_entry *x = a, *y = b;

	if (x->mdev != y->mdev)
		return x->mdev ? 1 : -1;
	return strcmp(x->name, y->name);
}

struct entry_list {
	struct vmt_sysfs_vfio_entry *v;
	size_t n, cap;
};

static int entry_list_add(struct entry_list *l, const char *bus, const char *name, bool mdev)
{
	struct vmt_sysfs_vfio_entry *e;

	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;

		e = realloc(l->v, cap * sizeof(*e));
		if (!e)
			return -ENOMEM;
		l->v = e;
		l->cap = cap;
	}
	e = &l->v[l->n];
	*e = (struct vmt_sysfs_vfio_entry){ .mdev = mdev };
	if (vmt_copy_string(e->name, sizeof(e->name), name) < 0 ||
	    snprintf(e->dir, sizeof(e->dir), "%s/%s", bus, name) >= (int)sizeof(e->dir))
		return 0; /* no VFIO device has such a name: not ours */
	if (driven_by_vfio(e->dir, mdev))
		l->n++;
	return 0;
}

static int list_bus(struct entry_list *l, const char *bus, bool mdev)
{
	struct dirent *de;
	DIR *d = opendir(bus);
	int ret = 0;

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while (!ret && (de = readdir(d)))
		if (de->d_name[0] != '.')
			ret = entry_list_add(l, bus, de->d_name, mdev);
	closedir(d);
	return ret;
}

int vmt_sysfs_list_vfio_devices(struct vmt_sysfs_vfio_entry **out, size_t *count)
{
	struct entry_list l = { 0 };
	int ret = list_bus(&l, SYSFS_PCI_DEVICES, false);

	if (!ret)
		ret = list_bus(&l, SYSFS_MDEV_DEVICES, true);
	if (ret) {
		free(l.v);
		return ret;
	}
	if (l.n)
		qsort(l.v, l.n, sizeof(*l.v), entry_cmp);
	*out = l.v;
	*count = l.n;
	return 0;
}
