// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libvfiosim iommufd: IOAS, HWPT and device objects with the validation of
 * drivers/iommu/iommufd/main.c (iommufd_fops_ioctl), ioas.c, io_pagetable.c
 * (iopt_check_iova, iopt_unmap_iova_range, iommufd_check_iova_range,
 * iopt_set_dirty_tracking), hw_pagetable.c (iommufd_hwpt_alloc,
 * iommufd_hwpt_paging_alloc, iommufd_hwpt_set_dirty_tracking,
 * iommufd_hwpt_get_dirty_bitmap) and device.c (iommufd_get_hw_info,
 * iommufd_device_change_pt). The IOMMU dirties pages as configured
 * (README "IOMMU SPEC"). Called with sim_lock held.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/c.h"
#include "sim.h"

#define offsetofend(T, m) (offsetof(T, m) + sizeof(((T *)0)->m))

enum iobj_type {
	IOBJ_NONE,
	IOBJ_IOAS,
	IOBJ_HWPT,
	IOBJ_DEVICE
};

struct iobj {
	enum iobj_type type;
	unsigned int users; /* HWPTs of an IOAS, devices attached to an HWPT */
	/* IOAS */
	struct sim_ranges areas_set; /* mapped IOVA, merged */
	struct area {
		uint64_t iova, length;
	} * areas;
	size_t nr_areas, cap_areas;
	/* HWPT */
	uint32_t ioas;
	bool auto_domain;
	bool dirty_capable; /* allocated with IOMMU_HWPT_ALLOC_DIRTY_TRACKING */
	bool tracking;
	struct sim_ranges dirty;
	uint64_t rng;
	uint64_t last_ns;
	uint64_t pps_frac;
	off_t ctl_offset;
	/* DEVICE */
	struct sim_dev *dev;
	uint32_t pt; /* attached HWPT, 0 = none */
};

struct sim_ictx {
	struct sim_obj obj;
	struct iobj *objs; /* index = object id; 0 unused */
	uint32_t nr_objs;
	uint64_t bitmap_reads;
};

struct sim_obj *sim_ictx_new(void)
{
	struct sim_ictx *ictx = calloc(1, sizeof(*ictx));

	if (!ictx)
		return NULL;
	ictx->obj = SIM_OBJ_INIT(SIM_K_IOMMUFD);
	return &ictx->obj;
}

static void iobj_free(struct iobj *o)
{
	free(o->areas_set.v);
	free(o->areas);
	free(o->dirty.v);
	memset(o, 0, sizeof(*o));
}

static void write_iommu_state(struct sim_ictx *ictx);

void sim_ictx_release(struct sim_ictx *ictx)
{
	/* bitmap_reads is only written here and at object changes: a dirty
	 * benchmark must not pay a file write per GET_DIRTY_BITMAP */
	if (ictx->bitmap_reads)
		write_iommu_state(ictx);
	for (uint32_t i = 0; i < ictx->nr_objs; i++)
		iobj_free(&ictx->objs[i]);
	free(ictx->objs);
	free(ictx);
}

static void write_iommu_state(struct sim_ictx *ictx)
{
	unsigned int ioas = 0, hwpts = 0, tracking = 0;
	uint64_t mapped = 0;
	char text[512];

	for (uint32_t i = 1; i < ictx->nr_objs; i++) {
		struct iobj *o = &ictx->objs[i];

		if (o->type == IOBJ_IOAS) {
			ioas++;
			mapped += sim_ranges_total(&o->areas_set);
		} else if (o->type == IOBJ_HWPT) {
			hwpts++;
			tracking += o->tracking;
		}
	}
	snprintf(text, sizeof(text),
		 "ioas=%u\nhwpts=%u\nmapped_bytes=%llu\ndirty_tracking=%u\nbitmap_reads=%llu\n",
		 ioas, hwpts, (unsigned long long)mapped, tracking,
		 (unsigned long long)ictx->bitmap_reads);
	sim_state_write("iommu.state", text);
}

/* xa_alloc with XA_FLAGS_ALLOC1: the lowest free id from 1 */
static uint32_t iobj_alloc(struct sim_ictx *ictx, enum iobj_type type)
{
	uint32_t id;

	for (id = 1; id < ictx->nr_objs; id++) {
		if (ictx->objs[id].type == IOBJ_NONE)
			break;
	}
	if (id >= ictx->nr_objs) {
		uint32_t n = ictx->nr_objs ? ictx->nr_objs * 2 : 16;
		struct iobj *v = realloc(ictx->objs, n * sizeof(*v));

		if (!v)
			return 0;
		memset(v + ictx->nr_objs, 0, (n - ictx->nr_objs) * sizeof(*v));
		ictx->objs = v;
		if (!ictx->nr_objs)
			id = 1;
		ictx->nr_objs = n;
	}
	memset(&ictx->objs[id], 0, sizeof(ictx->objs[id]));
	ictx->objs[id].type = type;
	return id;
}

static struct iobj *iobj_get(struct sim_ictx *ictx, uint32_t id, enum iobj_type type)
{
	if (!id || id >= ictx->nr_objs || ictx->objs[id].type == IOBJ_NONE)
		return NULL;
	if (type != IOBJ_NONE && ictx->objs[id].type != type)
		return NULL;
	return &ictx->objs[id];
}

/* iommufd_get_object: -ENOENT for no object, -EINVAL for the wrong type */
static int iobj_lookup(struct sim_ictx *ictx, uint32_t id, enum iobj_type type, struct iobj **out)
{
	*out = iobj_get(ictx, id, IOBJ_NONE);
	if (!*out)
		return -ENOENT;
	if ((*out)->type != type)
		return -EINVAL;
	return 0;
}

/* ---- devices (called from sim-vfio.c) ---- */

int sim_ictx_bind_device(struct sim_ictx *ictx, struct sim_dev *dev, uint32_t *out_devid)
{
	uint32_t id = iobj_alloc(ictx, IOBJ_DEVICE);

	if (!id)
		return -ENOMEM;
	ictx->objs[id].dev = dev;
	*out_devid = id;
	dev->iommu_devid = id;
	return 0;
}

static void hwpt_put_user(struct sim_ictx *ictx, uint32_t hwpt_id)
{
	struct iobj *h = iobj_get(ictx, hwpt_id, IOBJ_HWPT);

	if (!h || !h->users)
		return;
	h->users--;
	/* an automatic domain goes away with its last device */
	if (!h->users && h->auto_domain) {
		struct iobj *ioas = iobj_get(ictx, h->ioas, IOBJ_IOAS);

		if (ioas && ioas->users)
			ioas->users--;
		iobj_free(h);
	}
}

void sim_ictx_unbind_device(struct sim_ictx *ictx, uint32_t devid)
{
	struct iobj *d = iobj_get(ictx, devid, IOBJ_DEVICE);

	if (!d)
		return;
	hwpt_put_user(ictx, d->pt);
	iobj_free(d);
	write_iommu_state(ictx);
}

static uint32_t hwpt_new(struct sim_ictx *ictx, uint32_t ioas_id, bool auto_domain,
			 bool dirty_capable)
{
	uint32_t id = iobj_alloc(ictx, IOBJ_HWPT);
	struct iobj *h, *ioas;

	if (!id)
		return 0;
	h = &ictx->objs[id];
	h->ioas = ioas_id;
	h->auto_domain = auto_domain;
	h->dirty_capable = dirty_capable;
	h->last_ns = sim_now_ns();
	ioas = iobj_get(ictx, ioas_id, IOBJ_IOAS);
	if (ioas)
		ioas->users++;
	return id;
}

/*
 * iommufd_device_change_pt: an IOAS gets the automatic HWPT (reused when
 * one exists), an HWPT is used as it is; returns the HWPT id. pt_id 0 detaches.
 */
int sim_ictx_attach(struct sim_ictx *ictx, uint32_t devid, uint32_t pt_id)
{
	struct iobj *d = iobj_get(ictx, devid, IOBJ_DEVICE), *pt;
	uint32_t hwpt_id = 0, old;

	if (!d)
		return -ENOENT;
	if (!pt_id) {
		hwpt_put_user(ictx, d->pt);
		d->pt = 0;
		write_iommu_state(ictx);
		return 0;
	}
	pt = iobj_get(ictx, pt_id, IOBJ_NONE);
	if (!pt)
		return -ENOENT;
	if (pt->type == IOBJ_HWPT) {
		hwpt_id = pt_id;
	} else if (pt->type == IOBJ_IOAS) {
		for (uint32_t i = 1; i < ictx->nr_objs; i++) {
			struct iobj *h = &ictx->objs[i];

			if (h->type == IOBJ_HWPT && h->auto_domain && h->ioas == pt_id) {
				hwpt_id = i;
				break;
			}
		}
		if (!hwpt_id) {
			hwpt_id = hwpt_new(ictx, pt_id, true, false);
			if (!hwpt_id)
				return -ENOMEM;
		}
	} else {
		return -EINVAL;
	}
	d = &ictx->objs[devid]; /* hwpt_new may have moved the table */
	if (d->pt == hwpt_id)
		return (int)hwpt_id;
	ictx->objs[hwpt_id].users++;
	old = d->pt;
	d->pt = hwpt_id;
	/* objs is not reallocated below: hwpt_put_user only frees entries */
	if (old)
		hwpt_put_user(ictx, old);
	write_iommu_state(ictx);
	return (int)hwpt_id;
}

/* ---- IOAS ---- */

static int ioas_alloc(struct sim_ictx *ictx, struct iommu_ioas_alloc *cmd)
{
	uint32_t id;

	if (cmd->flags)
		return -EOPNOTSUPP;
	id = iobj_alloc(ictx, IOBJ_IOAS);
	if (!id)
		return -ENOMEM;
	cmd->out_ioas_id = id;
	write_iommu_state(ictx);
	return 0;
}

static int area_add(struct iobj *ioas, uint64_t iova, uint64_t length)
{
	if (ioas->nr_areas == ioas->cap_areas) {
		size_t n = ioas->cap_areas ? ioas->cap_areas * 2 : 16;
		struct area *v = realloc(ioas->areas, n * sizeof(*v));

		if (!v)
			return -ENOMEM;
		ioas->areas = v;
		ioas->cap_areas = n;
	}
	ioas->areas[ioas->nr_areas].iova = iova;
	ioas->areas[ioas->nr_areas].length = length;
	ioas->nr_areas++;
	sim_ranges_add(&ioas->areas_set, iova, iova + length);
	return 0;
}

/* iopt_alloc_iova: the lowest free IOVA in the aperture, aligned */
static int alloc_iova(const struct iobj *ioas, uint64_t length, uint64_t align, uint64_t *out)
{
	const struct sim_iommucfg *c = &sim_cfg.iommu;
	uint64_t at = c->aperture_start;

	for (size_t i = 0; i <= ioas->areas_set.n; i++) {
		uint64_t hole_end =
			i < ioas->areas_set.n ? ioas->areas_set.v[i].start : c->aperture_last + 1;

		at = (at + align - 1) & ~(align - 1);
		if (at < hole_end && hole_end - at >= length) {
			*out = at;
			return 0;
		}
		if (i < ioas->areas_set.n && ioas->areas_set.v[i].end > at)
			at = ioas->areas_set.v[i].end;
	}
	return -ENOSPC;
}

static int ioas_map(struct sim_ictx *ictx, struct iommu_ioas_map *cmd)
{
	const struct sim_iommucfg *c = &sim_cfg.iommu;
	uint64_t iova = cmd->iova, last;
	struct iobj *ioas;
	int ret;

	/* iommufd_ioas_map */
	if ((cmd->flags &
	     ~(IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_WRITEABLE | IOMMU_IOAS_MAP_READABLE)) ||
	    cmd->__reserved)
		return -EOPNOTSUPP;
	if (cmd->iova >= UINT64_MAX || cmd->length >= UINT64_MAX)
		return -EOVERFLOW;
	if (!(cmd->flags & (IOMMU_IOAS_MAP_WRITEABLE | IOMMU_IOAS_MAP_READABLE)))
		return -EINVAL;
	ret = iobj_lookup(ictx, cmd->ioas_id, IOBJ_IOAS, &ioas);
	if (ret)
		return ret;
	/* iopt_map_user_pages / iopt_alloc_area_pages */
	if (!cmd->length || (cmd->length & (c->pgsize - 1)))
		return -EINVAL;
	if (!cmd->user_va)
		return -EFAULT;
	if (cmd->flags & IOMMU_IOAS_MAP_FIXED_IOVA) {
		/* iopt_check_iova */
		if (iova & (c->pgsize - 1))
			return -EINVAL;
		if (__builtin_add_overflow(iova, cmd->length - 1, &last))
			return -EOVERFLOW;
		if (iova < c->aperture_start || last > c->aperture_last)
			return -EINVAL;
		if (sim_ranges_overlaps(&ioas->areas_set, iova, last + 1))
			return -EEXIST;
	} else {
		uint64_t align = c->pgsize;

		/* keep the alignment of the user pointer (iopt_alloc_iova) */
		while (align < (1ULL << 21) && !(cmd->user_va & align) && align < cmd->length)
			align <<= 1;
		ret = alloc_iova(ioas, cmd->length, align, &iova);
		if (ret)
			ret = alloc_iova(ioas, cmd->length, c->pgsize, &iova);
		if (ret)
			return ret;
	}
	ret = area_add(ioas, iova, cmd->length);
	if (ret)
		return ret;
	cmd->iova = iova;
	write_iommu_state(ictx);
	return 0;
}

static void drop_dirty_in(struct sim_ictx *ictx, uint32_t ioas_id, uint64_t start, uint64_t end)
{
	for (uint32_t i = 1; i < ictx->nr_objs; i++) {
		struct iobj *h = &ictx->objs[i];

		if (h->type == IOBJ_HWPT && h->ioas == ioas_id)
			sim_ranges_remove(&h->dirty, start, end);
	}
}

/* iommufd_ioas_unmap + iopt_unmap_iova_range: whole areas only */
static int ioas_unmap(struct sim_ictx *ictx, struct iommu_ioas_unmap *cmd)
{
	uint64_t unmapped = 0, last;
	struct iobj *ioas;
	bool all;
	int ret;

	ret = iobj_lookup(ictx, cmd->ioas_id, IOBJ_IOAS, &ioas);
	if (ret)
		return ret;
	all = cmd->iova == 0 && cmd->length == UINT64_MAX;
	if (!all) {
		if (cmd->iova >= UINT64_MAX || cmd->length >= UINT64_MAX)
			return -EOVERFLOW;
		if (!cmd->length)
			return -EINVAL;
		if (__builtin_add_overflow(cmd->iova, cmd->length - 1, &last))
			return -EOVERFLOW;
		for (size_t i = 0; i < ioas->nr_areas; i++) {
			const struct area *a = &ioas->areas[i];
			uint64_t a_last = a->iova + a->length - 1;

			if (a_last < cmd->iova || a->iova > last)
				continue;
			if (a->iova < cmd->iova || a_last > last)
				return -ENOENT;
		}
	} else {
		last = UINT64_MAX;
	}
	for (size_t i = 0; i < ioas->nr_areas;) {
		const struct area a = ioas->areas[i];
		uint64_t a_last = a.iova + a.length - 1;

		if (all || (a.iova >= cmd->iova && a_last <= last)) {
			unmapped += a.length;
			sim_ranges_remove(&ioas->areas_set, a.iova, a_last + 1);
			drop_dirty_in(ictx, cmd->ioas_id, a.iova, a_last + 1);
			ioas->areas[i] = ioas->areas[--ioas->nr_areas];
		} else {
			i++;
		}
	}
	if (!all && !unmapped)
		return -ENOENT;
	cmd->length = unmapped;
	write_iommu_state(ictx);
	return 0;
}

static int ioas_iova_ranges(struct sim_ictx *ictx, struct iommu_ioas_iova_ranges *cmd)
{
	struct iommu_iova_range r = {
		.start = sim_cfg.iommu.aperture_start,
		.last = sim_cfg.iommu.aperture_last,
	};
	struct iobj *ioas;
	uint32_t max = cmd->num_iovas;
	int ret;

	if (cmd->__reserved)
		return -EOPNOTSUPP;
	ret = iobj_lookup(ictx, cmd->ioas_id, IOBJ_IOAS, &ioas);
	if (ret)
		return ret;
	cmd->num_iovas = 1;
	cmd->out_iova_alignment = sim_cfg.iommu.pgsize;
	if (max < 1)
		return -EMSGSIZE; /* the struct is still copied back */
	if (!cmd->allowed_iovas)
		return -EFAULT;
	memcpy((void *)(uintptr_t)cmd->allowed_iovas, &r, sizeof(r));
	return 0;
}

static int obj_destroy(struct sim_ictx *ictx, struct iommu_destroy *cmd)
{
	struct iobj *o = iobj_get(ictx, cmd->id, IOBJ_NONE);

	if (!o)
		return -ENOENT;
	if (o->type == IOBJ_DEVICE || o->users)
		return -EBUSY;
	if (o->type == IOBJ_HWPT) {
		struct iobj *ioas = iobj_get(ictx, o->ioas, IOBJ_IOAS);

		if (ioas && ioas->users)
			ioas->users--;
	}
	iobj_free(o);
	write_iommu_state(ictx);
	return 0;
}

/* ---- HWPT and dirty tracking ---- */

static int get_hw_info(struct sim_ictx *ictx, struct iommu_hw_info *cmd)
{
	struct iobj *d;
	int ret;

	if (cmd->flags || cmd->__reserved[0] || cmd->__reserved[1] || cmd->__reserved[2])
		return -EOPNOTSUPP;
	ret = iobj_lookup(ictx, cmd->dev_id, IOBJ_DEVICE, &d);
	if (ret)
		return ret;
	/* no driver-specific data: type NONE, the user's buffer is zeroed */
	if (cmd->data_len && cmd->data_uptr)
		memset((void *)(uintptr_t)cmd->data_uptr, 0, cmd->data_len);
	cmd->data_len = 0;
	cmd->out_data_type = 0;
	cmd->out_max_pasid_log2 = 0;
	cmd->out_capabilities = d->dev->cfg->iommu_dirty_tracking ? IOMMU_HW_CAP_DIRTY_TRACKING : 0;
	return 0;
}

static int hwpt_alloc(struct sim_ictx *ictx, struct iommu_hwpt_alloc *cmd)
{
	const uint32_t valid = IOMMU_HWPT_ALLOC_NEST_PARENT | IOMMU_HWPT_ALLOC_DIRTY_TRACKING;
	struct iobj *d, *pt;
	uint32_t id;
	int ret;

	if (cmd->__reserved)
		return -EOPNOTSUPP;
	if ((cmd->data_type == IOMMU_HWPT_DATA_NONE && cmd->data_len) ||
	    (cmd->data_type != IOMMU_HWPT_DATA_NONE && !cmd->data_len))
		return -EINVAL;
	ret = iobj_lookup(ictx, cmd->dev_id, IOBJ_DEVICE, &d);
	if (ret)
		return ret;
	pt = iobj_get(ictx, cmd->pt_id, IOBJ_NONE);
	if (!pt)
		return -EINVAL;
	if (pt->type == IOBJ_HWPT)
		return -EOPNOTSUPP; /* nested domains: no driver support modelled */
	if (pt->type != IOBJ_IOAS)
		return -EINVAL;
	/* iommufd_hwpt_paging_alloc */
	if (cmd->flags & ~valid)
		return -EOPNOTSUPP;
	if ((cmd->flags & IOMMU_HWPT_ALLOC_DIRTY_TRACKING) && !d->dev->cfg->iommu_dirty_tracking)
		return -EOPNOTSUPP;
	if (cmd->data_type != IOMMU_HWPT_DATA_NONE)
		return -EOPNOTSUPP;
	id = hwpt_new(ictx, cmd->pt_id, false, cmd->flags & IOMMU_HWPT_ALLOC_DIRTY_TRACKING);
	if (!id)
		return -ENOMEM;
	cmd->out_hwpt_id = id;
	write_iommu_state(ictx);
	return 0;
}

/* iommufd_hwpt_set_dirty_tracking + iopt_set_dirty_tracking */
static int hwpt_set_dirty(struct sim_ictx *ictx, struct iommu_hwpt_set_dirty_tracking *cmd)
{
	struct iobj *h, *ioas;
	int ret;

	if (cmd->flags & ~IOMMU_HWPT_DIRTY_TRACKING_ENABLE)
		return -EOPNOTSUPP;
	ret = iobj_lookup(ictx, cmd->hwpt_id, IOBJ_HWPT, &h);
	if (ret)
		return ret;
	if (!h->dirty_capable)
		return -EOPNOTSUPP; /* no dirty_ops on the domain */
	if (cmd->flags & IOMMU_HWPT_DIRTY_TRACKING_ENABLE) {
		/* "Clear dirty bits from PTEs to ensure a clean snapshot" */
		sim_ranges_clear(&h->dirty);
		h->tracking = true;
		h->last_ns = sim_now_ns();
		struct sim_dirtylog log = { .name = "iommu-dirtied" };

		ioas = iobj_get(ictx, h->ioas, IOBJ_IOAS);
		for (size_t i = 0; ioas && i < sim_cfg.iommu.dirty.n; i++) {
			for (size_t k = 0; k < ioas->areas_set.n; k++) {
				uint64_t s = sim_cfg.iommu.dirty.v[i].start;
				uint64_t e = sim_cfg.iommu.dirty.v[i].end;

				if (s < ioas->areas_set.v[k].start)
					s = ioas->areas_set.v[k].start;
				if (e > ioas->areas_set.v[k].end)
					e = ioas->areas_set.v[k].end;
				if (s < e) {
					sim_ranges_add(&h->dirty, s, e);
					sim_dirtylog_add(&log, s, e - s);
				}
			}
		}
		sim_dirtylog_flush(&log);
	} else {
		h->tracking = false;
	}
	write_iommu_state(ictx);
	return 0;
}

/* count distinct new dirty pages, pseudo-random over the mapped IOVA */
static void dirty_random_pages(struct iobj *h, const struct iobj *ioas, uint64_t count,
			       struct sim_dirtylog *log)
{
	const uint64_t ps = sim_cfg.iommu.pgsize;
	uint64_t pages = sim_ranges_total(&ioas->areas_set) / ps, tries = count * 8 + 64;

	while (count && pages && tries--) {
		uint64_t idx = sim_splitmix64(sim_cfg.iommu.seed ^ 0xd1b7 ^ h->rng++) % pages;

		for (size_t i = 0; i < ioas->areas_set.n; i++) {
			const struct sim_range *x = &ioas->areas_set.v[i];
			uint64_t np = (x->end - x->start) / ps;

			if (idx < np) {
				uint64_t a = x->start + idx * ps;

				if (!sim_ranges_overlaps(&h->dirty, a, a + ps)) {
					sim_ranges_add(&h->dirty, a, a + ps);
					sim_dirtylog_add(log, a, ps);
					count--;
				}
				break;
			}
			idx -= np;
		}
	}
}

/* The simulated DMA: what became dirty since the last look. */
static void hwpt_dirty_now(struct iobj *h, const struct iobj *ioas)
{
	const struct sim_iommucfg *c = &sim_cfg.iommu;
	uint64_t now = sim_now_ns();

	struct sim_dirtylog log = { .name = "iommu-dirtied" };

	sim_apply_dirty_file("iommu-dirty", &h->ctl_offset, &h->dirty, &ioas->areas_set);
	dirty_random_pages(h, ioas, c->dirty_per_read, &log);
	if (c->dirty_pps) {
		unsigned __int128 acc =
			(unsigned __int128)c->dirty_pps * (now - h->last_ns) + h->pps_frac;

		dirty_random_pages(h, ioas, (uint64_t)(acc / 1000000000ULL), &log);
		h->pps_frac = (uint64_t)(acc % 1000000000ULL);
	}
	h->last_ns = now;
	sim_dirtylog_flush(&log);
}

static int hwpt_get_dirty(struct sim_ictx *ictx, struct iommu_hwpt_get_dirty_bitmap *cmd)
{
	const uint64_t pgsize = sim_cfg.iommu.pgsize;
	struct iobj *h, *ioas;
	uint64_t last, covered;
	int ret;

	if ((cmd->flags & ~IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR) || cmd->__reserved)
		return -EOPNOTSUPP;
	ret = iobj_lookup(ictx, cmd->hwpt_id, IOBJ_HWPT, &h);
	if (ret)
		return ret;
	/* iommufd_check_iova_range */
	if (!cmd->length)
		return -EINVAL;
	if (__builtin_add_overflow(cmd->iova, cmd->length - 1, &last))
		return -EOVERFLOW;
	if ((cmd->iova & (pgsize - 1)) || ((last + 1) & (pgsize - 1)))
		return -EINVAL;
	if (!cmd->page_size)
		return -EINVAL;
	if ((cmd->iova & (cmd->page_size - 1)) || ((last + 1) & (cmd->page_size - 1)))
		return -EINVAL;
	/* iommu_read_and_clear_dirty */
	if (!h->dirty_capable)
		return -EOPNOTSUPP;
	if (!cmd->data)
		return -ENOMEM; /* iova_bitmap_alloc failed */
	ioas = iobj_get(ictx, h->ioas, IOBJ_IOAS);
	if (ioas && h->tracking)
		hwpt_dirty_now(h, ioas);
	/*
	 * __iommu_read_and_clear_dirty (6.12.118): the areas from iova on are
	 * read and cleared while they are contiguous; IOVA that no area covers
	 * then fails the whole call with -EINVAL (!iopt_area_contig_done),
	 * which iommu_read_and_clear_dirty returns since 6.12.118 ("iommufd/
	 * iova_bitmap: Ensure that iova_bitmap_set() handles the full IOVA").
	 */
	covered = ioas ? sim_ranges_covered_to(&ioas->areas_set, cmd->iova, last + 1) : cmd->iova;
	if (covered > cmd->iova) {
		sim_report_bits(&h->dirty, cmd->iova, covered - cmd->iova, cmd->page_size,
				(uint8_t *)(uintptr_t)cmd->data);
		if (!(cmd->flags & IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR))
			sim_ranges_remove(&h->dirty, cmd->iova, covered);
	}
	ictx->bitmap_reads++;
	return covered == last + 1 ? 0 : -EINVAL;
}

/* ---- iommufd_fops_ioctl ---- */

struct ucmd_op {
	unsigned long req;
	size_t size, min_size;
};

static const struct ucmd_op ucmd_ops[] = {
	{ IOMMU_DESTROY, sizeof(struct iommu_destroy), offsetofend(struct iommu_destroy, id) },
	{ IOMMU_GET_HW_INFO, sizeof(struct iommu_hw_info),
	  offsetofend(struct iommu_hw_info, __reserved) },
	{ IOMMU_HWPT_ALLOC, sizeof(struct iommu_hwpt_alloc),
	  offsetofend(struct iommu_hwpt_alloc, __reserved) },
	{ IOMMU_HWPT_GET_DIRTY_BITMAP, sizeof(struct iommu_hwpt_get_dirty_bitmap),
	  offsetofend(struct iommu_hwpt_get_dirty_bitmap, data) },
	{ IOMMU_HWPT_SET_DIRTY_TRACKING, sizeof(struct iommu_hwpt_set_dirty_tracking),
	  offsetofend(struct iommu_hwpt_set_dirty_tracking, __reserved) },
	{ IOMMU_IOAS_ALLOC, sizeof(struct iommu_ioas_alloc),
	  offsetofend(struct iommu_ioas_alloc, out_ioas_id) },
	{ IOMMU_IOAS_IOVA_RANGES, sizeof(struct iommu_ioas_iova_ranges),
	  offsetofend(struct iommu_ioas_iova_ranges, out_iova_alignment) },
	{ IOMMU_IOAS_MAP, sizeof(struct iommu_ioas_map), offsetofend(struct iommu_ioas_map, iova) },
	{ IOMMU_IOAS_UNMAP, sizeof(struct iommu_ioas_unmap),
	  offsetofend(struct iommu_ioas_unmap, length) },
};

union ucmd_buffer {
	struct iommu_destroy destroy;
	struct iommu_hw_info info;
	struct iommu_hwpt_alloc hwpt;
	struct iommu_hwpt_get_dirty_bitmap get_dirty;
	struct iommu_hwpt_set_dirty_tracking set_dirty;
	struct iommu_ioas_alloc alloc;
	struct iommu_ioas_iova_ranges ranges;
	struct iommu_ioas_map map;
	struct iommu_ioas_unmap unmap;
	uint8_t raw[128];
};

int sim_ictx_ioctl(struct sim_ictx *ictx, unsigned long req, void *arg)
{
	const struct ucmd_op *op = NULL;
	union ucmd_buffer buf;
	uint32_t user_size;
	unsigned int nr = _IOC_NR(req);
	int ret;

	if (_IOC_TYPE(req) != IOMMUFD_TYPE || nr < IOMMUFD_CMD_BASE)
		return -ENOTTY; /* the VFIO compat ioctls are not modelled */
	for (size_t i = 0; i < ARRAY_SIZE(ucmd_ops); i++) {
		if (_IOC_NR(ucmd_ops[i].req) == nr)
			op = &ucmd_ops[i];
	}
	if (!op || op->req != req)
		return -ENOTTY; /* -ENOIOCTLCMD reaches the user as ENOTTY */
	if (!arg)
		return -EFAULT;
	memcpy(&user_size, arg, sizeof(user_size));
	if (user_size < op->min_size)
		return -EINVAL;
	/* copy_struct_from_user: bytes beyond what the kernel knows must be zero */
	memset(&buf, 0, sizeof(buf));
	if (user_size > op->size) {
		for (size_t i = op->size; i < user_size; i++) {
			if (((const uint8_t *)arg)[i])
				return -E2BIG;
		}
		memcpy(&buf, arg, op->size);
	} else {
		memcpy(&buf, arg, user_size);
	}
	switch (req) {
	case IOMMU_DESTROY:
		ret = obj_destroy(ictx, &buf.destroy);
		break;
	case IOMMU_GET_HW_INFO:
		ret = get_hw_info(ictx, &buf.info);
		break;
	case IOMMU_HWPT_ALLOC:
		ret = hwpt_alloc(ictx, &buf.hwpt);
		break;
	case IOMMU_HWPT_GET_DIRTY_BITMAP:
		ret = hwpt_get_dirty(ictx, &buf.get_dirty);
		break;
	case IOMMU_HWPT_SET_DIRTY_TRACKING:
		ret = hwpt_set_dirty(ictx, &buf.set_dirty);
		break;
	case IOMMU_IOAS_ALLOC:
		ret = ioas_alloc(ictx, &buf.alloc);
		break;
	case IOMMU_IOAS_IOVA_RANGES:
		ret = ioas_iova_ranges(ictx, &buf.ranges);
		break;
	case IOMMU_IOAS_MAP:
		ret = ioas_map(ictx, &buf.map);
		break;
	case IOMMU_IOAS_UNMAP:
		ret = ioas_unmap(ictx, &buf.unmap);
		break;
	default:
		ret = -ENOTTY;
		break;
	}
	/* iommufd_ucmd_respond: min(user_size, size) bytes go back */
	if (!ret || (req == IOMMU_IOAS_IOVA_RANGES && ret == -EMSGSIZE))
		memcpy(arg, &buf, user_size < op->size ? user_size : op->size);
	return ret;
}
