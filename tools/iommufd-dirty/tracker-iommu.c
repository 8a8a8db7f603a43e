// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The iommu backend: dirty bits kept by the IOMMU in an iommufd HWPT.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/exitcodes.h"
#include "common/log.h"
#include "vfio/iommufd-ioctl.h"
#include "vfio/vfio-ioctl.h"
#include "run-failure.h"
#include "tracker-internal.h"

static int map_backing(const struct dirty_range *r, void **va)
{
	int fd = -1, ret = 0;
	void *p;

	if (!r->backing) {
		p = mmap(NULL, r->length, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	} else {
		if (strcmp(r->backing, "memfd") == 0) {
			fd = memfd_create("iommufd-dirty", MFD_CLOEXEC);
			if (fd < 0 || ftruncate(fd, (off_t)r->length) < 0) {
				ret = -errno;
				dirty_fail(ret, 0,
					   "memfd of %" PRIu64 " bytes for IOVA 0x%" PRIx64 "",
					   r->length, r->iova);
				goto out;
			}
		} else {
			struct stat st;

			fd = open(r->backing, O_RDWR | O_CLOEXEC);
			if (fd < 0 || fstat(fd, &st) < 0) {
				ret = -errno;
				dirty_fail(ret, 0, "%s", r->backing);
				goto out;
			}
			/* Mapping past the end would SIGBUS whoever touches it. */
			if ((uint64_t)st.st_size < r->length) {
				ret = dirty_refuse(
					-EINVAL, 0,
					"%s: file has %jd bytes, --map asks for %" PRIu64,
					r->backing, (intmax_t)st.st_size, r->length);
				goto out;
			}
		}
		p = mmap(NULL, r->length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	}
	if (p == MAP_FAILED) {
		ret = -errno;
		dirty_fail(ret, 0, "mmap of %" PRIu64 " bytes for IOVA 0x%" PRIx64 " (%s)",
			   r->length, r->iova, r->backing ? r->backing : "anonymous");
		goto out;
	}
	*va = p;
out:
	if (fd >= 0)
		close(fd);
	return ret;
}

static int map_ranges(struct dirty_tracker *t, const struct dirty_range_list *maps)
{
	int ret;

	t->maps = calloc(maps->n, sizeof(*t->maps));
	if (!t->maps)
		return -ENOMEM;
	for (size_t i = 0; i < maps->n; i++) {
		const struct dirty_range *r = &maps->v[i];
		struct dirty_mapping *m = &t->maps[i];
		uint64_t iova = r->iova;

		ret = map_backing(r, &m->va);
		if (ret)
			return ret;
		m->iova = r->iova;
		m->length = r->length;
		t->nmaps = i + 1;
		ret = vmt_iommufd_ioas_map(t->iommufd, t->dev->ioas_id,
					   IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
						   IOMMU_IOAS_MAP_WRITEABLE,
					   m->va, m->length, &iova);
		if (ret) {
			dirty_fail(ret, 0,
				   "%s: IOMMU_IOAS_MAP of IOVA 0x%" PRIx64 " length 0x%" PRIx64 "",
				   t->what, r->iova, r->length);
			return ret;
		}
		m->mapped = true;
		vmt_dbg("mapped IOVA 0x%" PRIx64 " length 0x%" PRIx64 " (%s)", r->iova, r->length,
			r->backing ? r->backing : "anonymous");
	}
	return 0;
}

/* The IO page alignment, and a clear message when a --map is outside the aperture. */
static int check_iova_space(struct dirty_tracker *t, const struct dirty_range_list *maps)
{
	struct iommu_iova_range allowed[64];
	uint32_t n = 64;
	uint64_t alignment = 0;
	int ret;

	ret = vmt_iommufd_ioas_iova_ranges(t->iommufd, t->dev->ioas_id, allowed, &n, &alignment);
	if (ret == -EMSGSIZE) {
		/* Too many holes to list here: the kernel still checks each map. */
		n = 0;
		ret = vmt_iommufd_ioas_iova_ranges(t->iommufd, t->dev->ioas_id, NULL, &n,
						   &alignment);
		if (ret == -EMSGSIZE)
			ret = 0;
		n = 0;
	}
	if (ret) {
		dirty_fail(ret, 0, "%s: IOMMU_IOAS_IOVA_RANGES", t->what);
		return ret;
	}
	if (alignment)
		t->io_page_size = alignment;
	for (size_t i = 0; i < maps->n && alignment > 1; i++) {
		const struct dirty_range *r = &maps->v[i];

		if (r->iova % alignment || r->length % alignment) {
			return dirty_refuse(-EDOM, VMT_EXIT_USAGE,
					    "--map 0x%" PRIx64 "+0x%" PRIx64
					    " is not made of whole %" PRIu64
					    "-byte IO pages (the IOAS's IOVA alignment)",
					    r->iova, r->length, alignment);
		}
	}
	for (size_t i = 0; i < maps->n && n; i++) {
		const struct dirty_range *r = &maps->v[i];
		uint64_t last = r->iova + r->length - 1;
		bool inside = false;

		for (uint32_t j = 0; j < n && !inside; j++)
			inside = r->iova >= allowed[j].start && last <= allowed[j].last;
		if (!inside) {
			return dirty_refuse(
				-EINVAL, 0,
				"%s: --map IOVA 0x%" PRIx64 "-0x%" PRIx64
				" is outside the IOMMU's usable IOVA ranges (first: 0x%" PRIx64
				"-0x%" PRIx64 ")",
				t->what, r->iova, last, (uint64_t)allowed[0].start,
				(uint64_t)allowed[0].last);
		}
	}
	return 0;
}

int dirty_tracker_open_iommu(struct dirty_tracker *t, const char *device,
			     const struct dirty_range_list *maps)
{
	uint64_t caps = 0;
	int ret;

	*t = (struct dirty_tracker){ .backend = DIRTY_BACKEND_IOMMU, .iommufd = -1 };
	snprintf(t->what, sizeof(t->what), "%s", device);
	ret = vmt_device_open(device, NULL, &t->dev);
	if (ret)
		return dirty_fail_device_open(device, ret);
	if (t->dev->access != VMT_ACCESS_CDEV)
		return dirty_refuse(
			-EOPNOTSUPP, 0,
			"%s: opened through the %s interface; the iommu backend needs a "
			"VFIO cdev bound to iommufd (/dev/vfio/devices/vfioN)",
			device, vmt_device_access_name(t->dev->access));
	t->iommufd = t->dev->iommufd;
	ret = vmt_iommufd_get_hw_info(t->iommufd, t->dev->dev_id, &caps, NULL);
	if (ret == -ENOENT || ret == -EOPNOTSUPP) {
		/* An emulated (mdev) device binds as an access, with no IOMMU behind it. */
		return dirty_refuse(-EOPNOTSUPP, 0,
				    "%s: no IOMMU behind this device (IOMMU_GET_HW_INFO: %s; an "
				    "emulated or mdev device?); try --backend device",
				    device, strerror(-ret));
	}
	if (ret) {
		dirty_fail(ret, 0, "%s: IOMMU_GET_HW_INFO", device);
		return ret;
	}
	if (!(caps & IOMMU_HW_CAP_DIRTY_TRACKING)) {
		return dirty_refuse(-EOPNOTSUPP, 0,
				    "%s: the IOMMU cannot track dirty pages (IOMMU_GET_HW_INFO "
				    "capabilities 0x%" PRIx64
				    " lack DIRTY_TRACKING); try --backend device",
				    device, caps);
	}
	ret = vmt_iommufd_hwpt_alloc(t->iommufd, t->dev->dev_id, t->dev->ioas_id,
				     IOMMU_HWPT_ALLOC_DIRTY_TRACKING, &t->hwpt_id);
	if (ret) {
		dirty_fail(ret, 0, "%s: IOMMU_HWPT_ALLOC with DIRTY_TRACKING", device);
		return ret;
	}
	t->hwpt_created = true;
	/* The device sits on the IOAS's default domain; move it to ours. */
	ret = vmt_vfio_device_attach_iommufd_pt(t->dev->fd, t->hwpt_id);
	if (ret) {
		dirty_fail(ret, 0, "%s: VFIO_DEVICE_ATTACH_IOMMUFD_PT to hwpt %u", device,
			   t->hwpt_id);
		return ret;
	}
	t->hwpt_attached = true;
	vmt_dbg("%s: iommufd %d dev %u ioas %u hwpt %u", device, t->iommufd, t->dev->dev_id,
		t->dev->ioas_id, t->hwpt_id);
	ret = check_iova_space(t, maps);
	if (ret)
		return ret;
	return map_ranges(t, maps);
}

int dirty_tracker_open_inherited(struct dirty_tracker *t, int iommufd, uint32_t hwpt_id)
{
	*t = (struct dirty_tracker){
		.backend = DIRTY_BACKEND_IOMMU,
		.inherited = true,
		.iommufd = iommufd,
		.hwpt_id = hwpt_id,
	};
	snprintf(t->what, sizeof(t->what), "hwpt %u on iommufd fd %d", hwpt_id, iommufd);
	if (fcntl(iommufd, F_GETFD) < 0) {
		return dirty_refuse(-EBADF, 0, "--iommufd-fd %d: not an open file descriptor",
				    iommufd);
	}
	return 0;
}

int dirty_tracker_iommu_set(struct dirty_tracker *t, bool enable)
{
	int ret = vmt_iommufd_hwpt_set_dirty_tracking(t->iommufd, t->hwpt_id, enable);

	if (ret)
		dirty_fail(ret, 0, "%s: IOMMU_HWPT_SET_DIRTY_TRACKING %s", t->what,
			   enable ? "enable" : "disable");
	return ret;
}

int dirty_tracker_iommu_read(struct dirty_tracker *t, uint64_t iova, uint64_t length,
			     uint64_t page_size, bool clear, uint64_t *bitmap)
{
	int ret = vmt_iommufd_hwpt_get_dirty_bitmap(
		t->iommufd, t->hwpt_id, iova, length, page_size,
		clear ? 0 : IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR, bitmap);

	if (ret) {
		dirty_refuse(ret, 0,
			     "%s: IOMMU_HWPT_GET_DIRTY_BITMAP of IOVA 0x%" PRIx64
			     " length 0x%" PRIx64 " page size %" PRIu64 ": %s%s",
			     t->what, iova, length, page_size, strerror(-ret),
			     ret == -EINVAL
				     ? " (IOVA range not all mapped, not aligned to the IO page "
				       "size, or tracking not enabled?)"
				     : "");
	}
	return ret;
}

int dirty_tracker_probe_page_size(struct dirty_tracker *t, uint64_t iova, uint64_t max_length,
				  uint64_t *page_size)
{
	uint64_t word = 0;
	int ret = -EINVAL;

	/* 512 bytes is below every IOMMU's page; stop at 1 GiB or the range. */
	for (uint64_t size = 512; size <= max_length && size <= (1ull << 30); size <<= 1) {
		if (iova % size)
			break;
		word = 0;
		ret = vmt_iommufd_hwpt_get_dirty_bitmap(t->iommufd, t->hwpt_id, iova, size, size,
							IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR,
							&word);
		if (ret == 0) {
			*page_size = size;
			t->io_page_size = size;
			return 0;
		}
		if (ret != -EINVAL)
			break;
	}
	dirty_refuse(
		ret, 0,
		"%s: cannot find the IO page size: IOMMU_HWPT_GET_DIRTY_BITMAP at IOVA 0x%" PRIx64
		": %s%s",
		t->what, iova, strerror(-ret),
		ret == -EINVAL ? " (is the range mapped and dirty tracking enabled? see "
				 "--enable-tracking, or give --page-size)"
			       : "");
	return ret;
}

void dirty_tracker_iommu_close(struct dirty_tracker *t)
{
	int ret;

	for (size_t i = 0; i < t->nmaps; i++) {
		struct dirty_mapping *m = &t->maps[i];

		if (m->mapped) {
			ret = vmt_iommufd_ioas_unmap(t->iommufd, t->dev->ioas_id, m->iova,
						     m->length, NULL);
			if (ret)
				vmt_warn("%s: IOMMU_IOAS_UNMAP of IOVA 0x%" PRIx64 ": %s", t->what,
					 m->iova, strerror(-ret));
		}
		munmap(m->va, m->length);
	}
	free(t->maps);
	t->maps = NULL;
	t->nmaps = 0;
	/* A HWPT with a device attached cannot be destroyed: put the device back first. */
	if (t->hwpt_attached) {
		ret = vmt_vfio_device_attach_iommufd_pt(t->dev->fd, t->dev->ioas_id);
		if (ret)
			vmt_warn("%s: VFIO_DEVICE_ATTACH_IOMMUFD_PT back to ioas %u: %s", t->what,
				 t->dev->ioas_id, strerror(-ret));
		else
			t->hwpt_attached = false;
	}
	if (t->hwpt_created && !t->hwpt_attached) {
		ret = vmt_iommufd_destroy(t->iommufd, t->hwpt_id);
		if (ret)
			vmt_warn("%s: IOMMU_DESTROY of hwpt %u: %s", t->what, t->hwpt_id,
				 strerror(-ret));
		t->hwpt_created = false;
	}
}
