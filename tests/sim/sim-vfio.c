// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libvfiosim VFIO: device files (cdev and group path), groups, containers,
 * the migration FSM and the VFIO_DEVICE_FEATURE ioctl, after
 * drivers/vfio/vfio_main.c, device_cdev.c, group.c, container.c and the
 * drivers samples/vfio-mdev/mtty.c and drivers/vfio/pci/mlx5/.
 *
 * Called with sim_lock held. Functions return 0 or -errno.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "sim.h"

struct sim_dev sim_devs[SIM_MAX_DEVICES];

#define offsetofend(T, m) (offsetof(T, m) + sizeof(((T *)0)->m))
#define IS_ALIGNED_U64(x, a) (((x) & ((uint64_t)(a)-1)) == 0)

/* One open group per device per process (vfio_group_fops_open: EBUSY). */
static struct sim_group *open_groups[SIM_MAX_DEVICES];

struct sim_dev *sim_dev_by_index(unsigned int index)
{
	for (unsigned int i = 0; i < sim_cfg.nr_dev; i++) {
		if (sim_cfg.dev[i].index == index)
			return &sim_devs[i];
	}
	return NULL;
}

struct sim_dev *sim_dev_by_group(unsigned int group)
{
	for (unsigned int i = 0; i < sim_cfg.nr_dev; i++) {
		if (sim_cfg.dev[i].group == group)
			return &sim_devs[i];
	}
	return NULL;
}

static unsigned int dev_slot(const struct sim_dev *dev)
{
	return (unsigned int)(dev - sim_devs);
}

/* ---- state file ---- */

void sim_dev_write_state(struct sim_dev *dev)
{
	const char *digest_prefix = dev->cfg->no_digest ? "off:" : "xxh3:";
	char text[8192];
	int n;

	n = snprintf(text, sizeof(text),
		     "name=%s\npid=%ld\nopen=%d\nbound=%d\nstate=%s\nlast_state=%s\n"
		     "transitions=%llu\nrequests=%llu\narcs=%s\nresets=%llu\nlast_errno=%d\n"
		     "saved_bytes=%llu\nprecopy_bytes=%llu\nsave_complete=%d\n"
		     "save_digest=%s%016llx\nloaded_bytes=%llu\nload_digest=%s%016llx\n"
		     "load_verified=%s\nload_error=%s\nload_seed=%s%llu\n"
		     "dma_logging=%d\nlog_page_size=%llu\nlog_ranges=%zu\n"
		     "read_calls=%llu\nwrite_calls=%llu\nenomsg=%llu\nprecopy_v2=%d\nreinits=%u\n",
		     dev->cfg->name, dev->files ? (long)getpid() : 0L, dev->files > 0,
		     dev->open_count > 0, sim_state_name(dev->state),
		     sim_state_name(dev->last_state), (unsigned long long)dev->transitions,
		     (unsigned long long)dev->requests, dev->arcs, (unsigned long long)dev->resets,
		     dev->last_errno, (unsigned long long)dev->saved_bytes,
		     (unsigned long long)dev->precopy_bytes, dev->save_complete, digest_prefix,
		     (unsigned long long)dev->save_digest, (unsigned long long)dev->loaded_bytes,
		     digest_prefix, (unsigned long long)dev->load_digest, dev->load_verified,
		     dev->load_error, dev->has_load_seed ? "" : "none",
		     dev->has_load_seed ? (unsigned long long)dev->load_seed : 0ULL, dev->logging,
		     (unsigned long long)dev->log_page_size, dev->log_ranges.n,
		     (unsigned long long)dev->read_calls, (unsigned long long)dev->write_calls,
		     (unsigned long long)dev->enomsg, dev->precopy_v2_on, dev->reinits);
	if (!dev->has_load_seed) {
		/* "load_seed=none0" -> "load_seed=none" */
		char *p = strstr(text, "load_seed=none0\n");

		if (p)
			memmove(p + 14, p + 15, strlen(p + 15) + 1);
	}
	if (n > 0) {
		char name[SIM_NAME_MAX + 8];

		snprintf(name, sizeof(name), "%s.state", dev->cfg->name);
		sim_state_write(name, text);
	}
}

/* ---- cross-process ownership ---- */

/*
 * A device used by a live process elsewhere is busy. flock() goes away with
 * the process, so a killed tool never leaves a device locked.
 */
static int dev_lock(struct sim_dev *dev)
{
	char path[4200];
	int fd;

	if (dev->cfg->busy)
		return -EBUSY;
	if (dev->lock_fd >= 0 || !sim_cfg.state_dir[0])
		return 0;
	snprintf(path, sizeof(path), "%s/%s.lock", sim_cfg.state_dir, dev->cfg->name);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return 0; /* no state dir: no cross-process rule */
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		close(fd);
		return -EBUSY;
	}
	dev->lock_fd = fd;
	return 0;
}

static void dev_unlock_if_unused(struct sim_dev *dev)
{
	if (dev->lock_fd < 0 || dev->open_count || open_groups[dev_slot(dev)])
		return;
	close(dev->lock_fd);
	dev->lock_fd = -1;
}

/* ---- device open / close ---- */

static void dev_disable_files(struct sim_dev *dev)
{
	if (dev->saving) {
		struct sim_migf *m = dev->saving;

		dev->saving = NULL;
		sim_migf_disable(m);
	}
	if (dev->resuming) {
		struct sim_migf *m = dev->resuming;

		dev->resuming = NULL;
		sim_migf_disable(m);
	}
}

/* The driver's open_device/close_device: a fresh migration state. */
static void dev_migration_reset(struct sim_dev *dev)
{
	dev_disable_files(dev);
	dev->state = VFIO_DEVICE_STATE_RUNNING;
	dev->logging = false;
	sim_ranges_clear(&dev->log_ranges);
	sim_ranges_clear(&dev->log_dirty);
}

/* The state a previous process left (close-reset=no), RUNNING if none. */
static uint32_t saved_state(const struct sim_dev *dev)
{
	char path[4200], line[256];
	uint32_t state = VFIO_DEVICE_STATE_RUNNING;
	FILE *f;

	if (!sim_cfg.state_dir[0])
		return state;
	snprintf(path, sizeof(path), "%s/%s.state", sim_cfg.state_dir, dev->cfg->name);
	f = fopen(path, "re");
	if (!f)
		return state;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "state=", 6)) {
			line[strcspn(line, "\n")] = '\0';
			if (sim_state_from_name(line + 6, &state))
				state = VFIO_DEVICE_STATE_RUNNING;
			break;
		}
	}
	fclose(f);
	return state;
}

/*
 * PCI variant drivers (mlx5vf_pci_open_device) start every open in RUNNING;
 * mtty keeps its state across close and open (mtty_close_device only
 * disables the files), which close-reset=no models, across processes too.
 */
static void dev_first_open(struct sim_dev *dev)
{
	dev_migration_reset(dev);
	if (dev->cfg->keep_state)
		dev->state = saved_state(dev);
	dev->arcs[0] = '\0';
	dev->transitions = dev->requests = 0;
	dev->last_errno = 0;
}

static void dev_last_close(struct sim_dev *dev)
{
	uint32_t state = dev->state;

	dev->last_state = state;
	dev_migration_reset(dev);
	if (dev->cfg->keep_state)
		dev->state = state;
}

struct sim_obj *sim_devfile_new(struct sim_dev *dev, bool via_group, int *err)
{
	struct sim_devfile *df;

	if (!dev) {
		*err = ENOENT;
		return NULL;
	}
	df = calloc(1, sizeof(*df));
	if (!df) {
		*err = ENOMEM;
		return NULL;
	}
	df->obj = SIM_OBJ_INIT(SIM_K_DEVFILE);
	df->dev = dev;
	df->via_group = via_group;
	dev->files++;
	return &df->obj;
}

void sim_devfile_record(struct sim_devfile *df)
{
	char rec[64];

	snprintf(rec, sizeof(rec), "vfiosim1 bound=%d group=%d\n", df->access_granted,
		 df->via_group);
	sim_obj_record(&df->obj, rec);
}

/*
 * A device fd that came through exec: the device stays open in the same
 * state (the kernel's file survived); its iommufd binding is not carried,
 * so iommufd ioctls on it fail, migration ioctls work.
 */
struct sim_obj *sim_devfile_adopt(struct sim_dev *dev, bool bound, bool via_group)
{
	int err = 0;
	struct sim_obj *obj = sim_devfile_new(dev, via_group, &err);
	struct sim_devfile *df = (struct sim_devfile *)obj;

	if (!obj)
		return NULL;
	if (bound) {
		df->access_granted = true;
		if (dev->open_count++ == 0) {
			dev_first_open(dev);
			dev->state = saved_state(dev);
		}
	}
	return obj;
}

void sim_devfile_release(struct sim_devfile *df)
{
	struct sim_dev *dev = df->dev;

	if (df->access_granted) {
		/* vfio_df_close -> the driver's close_device on the last one */
		if (--dev->open_count == 0)
			dev_last_close(dev);
		if (df->ictx) {
			sim_ictx_unbind_device(df->ictx, df->devid);
			sim_obj_put((struct sim_obj *)df->ictx);
		}
	}
	dev->files--;
	dev_unlock_if_unused(dev);
	sim_dev_write_state(dev);
	free(df);
}

/* vfio_df_ioctl_bind_iommufd (drivers/vfio/device_cdev.c) */
static int devfile_bind(struct sim_devfile *df, struct vfio_device_bind_iommufd *arg)
{
	size_t minsz = offsetofend(struct vfio_device_bind_iommufd, out_devid);
	struct sim_dev *dev = df->dev;
	struct sim_obj *obj;
	uint32_t devid;
	int ret;

	if (arg->argsz < minsz || arg->flags || arg->iommufd < 0)
		return -EINVAL;
	if (df->via_group)
		return -EINVAL;
	/* vfio_device_block_group: the group is open */
	if (open_groups[dev_slot(dev)])
		return -EBUSY;
	if (df->access_granted)
		return -EINVAL;
	obj = sim_fd_get(arg->iommufd);
	if (!obj) {
		/* iommufd_ctx_from_fd: not an fd at all vs. not an iommufd */
		return fcntl(arg->iommufd, F_GETFD) < 0 ? -EBADF : -EBADFD;
	}
	if (obj->kind != SIM_K_IOMMUFD)
		return -EBADFD;
	/* vfio_df_open: the cdev path allows one open only */
	if (dev->open_count)
		return -EINVAL;
	ret = dev_lock(dev);
	if (ret)
		return ret;
	ret = sim_ictx_bind_device((struct sim_ictx *)obj, dev, &devid);
	if (ret) {
		dev_unlock_if_unused(dev);
		return ret;
	}
	obj->refs++;
	df->ictx = (struct sim_ictx *)obj;
	df->devid = devid;
	dev->open_count++;
	dev_first_open(dev);
	df->access_granted = true;
	arg->out_devid = devid;
	sim_devfile_record(df);
	sim_dev_write_state(dev);
	return 0;
}

/* vfio_df_ioctl_attach_pt */
static int devfile_attach(struct sim_devfile *df, struct vfio_device_attach_iommufd_pt *arg)
{
	size_t minsz = offsetofend(struct vfio_device_attach_iommufd_pt, pt_id);
	uint32_t pt = arg->pt_id;
	int ret;

	if (arg->argsz < minsz || arg->flags)
		return -EINVAL;
	ret = sim_ictx_attach(df->ictx, df->devid, pt);
	if (ret < 0)
		return ret;
	/* attaching to an IOAS gives back the id of the automatic HWPT */
	df->pt_id = (uint32_t)ret;
	arg->pt_id = (uint32_t)ret;
	return 0;
}

static int devfile_detach(struct sim_devfile *df, struct vfio_device_detach_iommufd_pt *arg)
{
	size_t minsz = offsetofend(struct vfio_device_detach_iommufd_pt, flags);

	if (arg->argsz < minsz || arg->flags)
		return -EINVAL;
	sim_ictx_attach(df->ictx, df->devid, 0);
	df->pt_id = 0;
	return 0;
}

/* vfio_pci_ioctl_get_info / mtty_ioctl_get_device_info */
static int devfile_get_info(struct sim_devfile *df, struct vfio_device_info *info)
{
	size_t minsz = offsetofend(struct vfio_device_info, num_irqs);

	if (info->argsz < minsz)
		return -EINVAL;
	/*
	 * vfio-pci says RESET for a resettable function; mtty_get_device_info
	 * says only PCI (its VFIO_DEVICE_RESET works all the same).
	 * (tests/conformance: an mtty mdev gives flags 0x2, this gave 0x3.)
	 */
	info->flags = VFIO_DEVICE_FLAGS_PCI;
	if (!df->dev->cfg->mdev[0])
		info->flags |= VFIO_DEVICE_FLAGS_RESET;
	info->num_regions = VFIO_PCI_NUM_REGIONS;
	info->num_irqs = VFIO_PCI_NUM_IRQS;
	return 0;
}

void sim_dev_reset(struct sim_dev *dev)
{
	/* vfio_pci_core reset -> the driver's reset_done (mlx5vf_pci_aer_reset_done) */
	dev_disable_files(dev);
	dev->state = VFIO_DEVICE_STATE_RUNNING;
	dev->resets++;
	/* a reset discards what was loaded (mtty_reset clears the device) */
	if (!strcmp(dev->load_verified, "ok"))
		dev->load_verified = "reset";
	sim_dev_write_state(dev);
}

/* ---- migration FSM ---- */

/*
 * The table and the flag rules of vfio_mig_get_next_state
 * (drivers/vfio/vfio_main.c), entry for entry.
 */
enum {
	S_ERROR = VFIO_DEVICE_STATE_ERROR,
	S_STOP = VFIO_DEVICE_STATE_STOP,
	S_RUNNING = VFIO_DEVICE_STATE_RUNNING,
	S_STOP_COPY = VFIO_DEVICE_STATE_STOP_COPY,
	S_RESUMING = VFIO_DEVICE_STATE_RESUMING,
	S_RUNNING_P2P = VFIO_DEVICE_STATE_RUNNING_P2P,
	S_PRE_COPY = VFIO_DEVICE_STATE_PRE_COPY,
	S_PRE_COPY_P2P = VFIO_DEVICE_STATE_PRE_COPY_P2P,
	S_NUM = S_PRE_COPY_P2P + 1,
};

static const uint8_t fsm_table[S_NUM][S_NUM] = {
	[S_STOP] = {
		[S_STOP] = S_STOP, [S_RUNNING] = S_RUNNING_P2P, [S_PRE_COPY] = S_RUNNING_P2P,
		[S_PRE_COPY_P2P] = S_RUNNING_P2P, [S_STOP_COPY] = S_STOP_COPY,
		[S_RESUMING] = S_RESUMING, [S_RUNNING_P2P] = S_RUNNING_P2P, [S_ERROR] = S_ERROR,
	},
	[S_RUNNING] = {
		[S_STOP] = S_RUNNING_P2P, [S_RUNNING] = S_RUNNING, [S_PRE_COPY] = S_PRE_COPY,
		[S_PRE_COPY_P2P] = S_RUNNING_P2P, [S_STOP_COPY] = S_RUNNING_P2P,
		[S_RESUMING] = S_RUNNING_P2P, [S_RUNNING_P2P] = S_RUNNING_P2P, [S_ERROR] = S_ERROR,
	},
	[S_PRE_COPY] = {
		[S_STOP] = S_RUNNING, [S_RUNNING] = S_RUNNING, [S_PRE_COPY] = S_PRE_COPY,
		[S_PRE_COPY_P2P] = S_PRE_COPY_P2P, [S_STOP_COPY] = S_PRE_COPY_P2P,
		[S_RESUMING] = S_RUNNING, [S_RUNNING_P2P] = S_RUNNING, [S_ERROR] = S_ERROR,
	},
	[S_PRE_COPY_P2P] = {
		[S_STOP] = S_RUNNING_P2P, [S_RUNNING] = S_RUNNING_P2P, [S_PRE_COPY] = S_PRE_COPY,
		[S_PRE_COPY_P2P] = S_PRE_COPY_P2P, [S_STOP_COPY] = S_STOP_COPY,
		[S_RESUMING] = S_RUNNING_P2P, [S_RUNNING_P2P] = S_RUNNING_P2P, [S_ERROR] = S_ERROR,
	},
	[S_STOP_COPY] = {
		[S_STOP] = S_STOP, [S_RUNNING] = S_STOP, [S_PRE_COPY] = S_ERROR,
		[S_PRE_COPY_P2P] = S_ERROR, [S_STOP_COPY] = S_STOP_COPY, [S_RESUMING] = S_STOP,
		[S_RUNNING_P2P] = S_STOP, [S_ERROR] = S_ERROR,
	},
	[S_RESUMING] = {
		[S_STOP] = S_STOP, [S_RUNNING] = S_STOP, [S_PRE_COPY] = S_STOP,
		[S_PRE_COPY_P2P] = S_STOP, [S_STOP_COPY] = S_STOP, [S_RESUMING] = S_RESUMING,
		[S_RUNNING_P2P] = S_STOP, [S_ERROR] = S_ERROR,
	},
	[S_RUNNING_P2P] = {
		[S_STOP] = S_STOP, [S_RUNNING] = S_RUNNING, [S_PRE_COPY] = S_RUNNING,
		[S_PRE_COPY_P2P] = S_PRE_COPY_P2P, [S_STOP_COPY] = S_STOP,
		[S_RESUMING] = S_STOP, [S_RUNNING_P2P] = S_RUNNING_P2P, [S_ERROR] = S_ERROR,
	},
	[S_ERROR] = {
		[S_STOP] = S_ERROR, [S_RUNNING] = S_ERROR, [S_PRE_COPY] = S_ERROR,
		[S_PRE_COPY_P2P] = S_ERROR, [S_STOP_COPY] = S_ERROR, [S_RESUMING] = S_ERROR,
		[S_RUNNING_P2P] = S_ERROR, [S_ERROR] = S_ERROR,
	},
};

static const uint32_t state_flags[S_NUM] = {
	[S_STOP] = VFIO_MIGRATION_STOP_COPY,
	[S_RUNNING] = VFIO_MIGRATION_STOP_COPY,
	[S_PRE_COPY] = VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_PRE_COPY,
	[S_PRE_COPY_P2P] = VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P | VFIO_MIGRATION_PRE_COPY,
	[S_STOP_COPY] = VFIO_MIGRATION_STOP_COPY,
	[S_RESUMING] = VFIO_MIGRATION_STOP_COPY,
	[S_RUNNING_P2P] = VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P,
	[S_ERROR] = ~0U,
};

static int mig_get_next_state(uint32_t flags, uint32_t cur, uint32_t new, uint32_t *next)
{
	if (cur >= S_NUM || (state_flags[cur] & flags) != state_flags[cur])
		return -EINVAL;
	if (new >= S_NUM || (state_flags[new] & flags) != state_flags[new])
		return -EINVAL;
	*next = fsm_table[cur][new];
	while (*next != S_ERROR && (state_flags[*next] & flags) != state_flags[*next])
		*next = fsm_table[*next][new];
	return *next != S_ERROR ? 0 : -EINVAL;
}

static void record_arc(struct sim_dev *dev, uint32_t from, uint32_t to)
{
	size_t len = strlen(dev->arcs);
	char arc[40];

	dev->transitions++;
	snprintf(arc, sizeof(arc), "%s%s>%s", len ? "," : "", sim_state_name(from),
		 sim_state_name(to));
	if (len + strlen(arc) < sizeof(dev->arcs) - 4)
		strcat(dev->arcs, arc);
	else if (!strstr(dev->arcs, "..."))
		strcat(dev->arcs, ",...");
}

/*
 * One arc, as a driver's step function does it (mtty_step_state,
 * mlx5vf_pci_step_device_state_locked). *file is set when the arc creates a
 * migration file.
 */
static int mig_step(struct sim_dev *dev, uint32_t next, struct sim_migf **file)
{
	uint32_t cur = dev->state;

	*file = NULL;
	for (unsigned int i = 0; i < dev->cfg->nr_faults; i++) {
		const struct sim_fault *f = &dev->cfg->faults[i];

		if (f->from != cur || f->to != next)
			continue;
		if (f->to_error) {
			dev_disable_files(dev);
			dev->state = S_ERROR;
			record_arc(dev, cur, S_ERROR);
			return -EIO;
		}
		return -f->err;
	}

	if ((cur == S_RUNNING && next == S_RUNNING_P2P) ||
	    (cur == S_RUNNING_P2P && (next == S_RUNNING || next == S_STOP)) ||
	    (cur == S_PRE_COPY && next == S_PRE_COPY_P2P) ||
	    (cur == S_PRE_COPY_P2P && next == S_PRE_COPY) ||
	    (cur == S_STOP && next == S_RUNNING_P2P) || (cur == S_RUNNING && next == S_STOP) ||
	    (cur == S_STOP && next == S_RUNNING))
		return 0;

	if (cur == S_RESUMING && next == S_STOP) {
		/* mtty_load_state: the device checks what it received */
		int ret = sim_migf_load_check(dev->resuming);

		if (ret)
			return ret;
		dev_disable_files(dev);
		return 0;
	}
	if ((cur == S_PRE_COPY && next == S_RUNNING) ||
	    (cur == S_PRE_COPY_P2P && next == S_RUNNING_P2P) ||
	    (cur == S_STOP_COPY && next == S_STOP)) {
		dev_disable_files(dev);
		return 0;
	}
	if ((cur == S_RUNNING && next == S_PRE_COPY) ||
	    (cur == S_RUNNING_P2P && next == S_PRE_COPY_P2P) ||
	    (cur == S_STOP && next == S_STOP_COPY)) {
		dev_disable_files(dev);
		dev->saving = sim_migf_new_saving(dev);
		if (!dev->saving)
			return -ENOMEM;
		if (next == S_STOP_COPY)
			sim_migf_enter_stop_copy(dev->saving);
		*file = dev->saving;
		return 0;
	}
	if ((cur == S_PRE_COPY_P2P || cur == S_PRE_COPY) && next == S_STOP_COPY) {
		/*
		 * The pre-copy file goes on with the stop-copy data: no new
		 * data_fd (mtty_save_device_data appends to saving_migf;
		 * mlx5vf_pci_step_device_state_locked returns NULL).
		 */
		if (dev->saving)
			sim_migf_enter_stop_copy(dev->saving);
		return 0;
	}
	if (cur == S_STOP && next == S_RESUMING) {
		dev_disable_files(dev);
		dev->resuming = sim_migf_new_resuming(dev);
		if (!dev->resuming)
			return -ENOMEM;
		*file = dev->resuming;
		return 0;
	}
	/* vfio_mig_get_next_state() does not use other arcs */
	return -EINVAL;
}

/* the driver's migration_set_state: walk one arc at a time */
static int mig_set_state(struct sim_dev *dev, uint32_t new, struct sim_migf **file)
{
	*file = NULL;
	while (dev->state != new) {
		uint32_t next, from = dev->state;
		int ret = mig_get_next_state(dev->cfg->mig_flags, dev->state, new, &next);

		if (ret)
			return ret;
		ret = mig_step(dev, next, file);
		if (ret)
			return ret;
		dev->state = next;
		record_arc(dev, from, next);
		if (*file && new != next) {
			/* the kernel WARNs: a file on an intermediate arc */
			*file = NULL;
			return -EINVAL;
		}
	}
	return 0;
}

/* vfio_check_feature (include/linux/vfio.h): 1 = go on, else the return value */
static int check_feature(uint32_t flags, size_t argsz, uint32_t supported, size_t minsz)
{
	if ((flags & (VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_SET)) & ~supported)
		return -EINVAL;
	if (flags & VFIO_DEVICE_FEATURE_PROBE)
		return 0;
	if (!(flags & (VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_SET)))
		return -EINVAL;
	if (argsz < minsz)
		return -EINVAL;
	return 1;
}

/* vfio_ioctl_device_feature_mig_device_state */
static int feature_mig_state(struct sim_dev *dev, uint32_t flags, void *data, size_t argsz)
{
	struct vfio_device_feature_mig_state *mig = data;
	struct sim_migf *file = NULL;
	int ret, fd;

	if (!dev->cfg->mig_flags)
		return -ENOTTY;
	ret = check_feature(flags, argsz, VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_GET,
			    sizeof(*mig));
	if (ret != 1)
		return ret;
	if (flags & VFIO_DEVICE_FEATURE_GET) {
		mig->device_state = dev->state;
		mig->data_fd = -1;
		return 0;
	}
	dev->requests++;
	sim_trace("%s: SET %s (from %s)", dev->cfg->name, sim_state_name(mig->device_state),
		  sim_state_name(dev->state));
	ret = mig_set_state(dev, mig->device_state, &file);
	if (ret || !file) {
		/* out_copy: device_state stays what the user asked for */
		mig->data_fd = -1;
		dev->last_errno = -ret;
		sim_dev_write_state(dev);
		return ret;
	}
	/* vfio_ioct_mig_return_fd: O_CLOEXEC */
	fd = sim_fd_install(sim_migf_obj(file), dev->cfg->break_datafd_cloexec ? 0 : O_CLOEXEC);
	if (fd < 0) {
		mig->data_fd = -1;
		return fd;
	}
	mig->data_fd = fd;
	/* mirror readability now, for select/epoll users that never poll() */
	sim_migf_poll(file);
	dev->last_errno = 0;
	sim_dev_write_state(dev);
	return 0;
}

/* vfio_ioctl_device_feature_migration */
static int feature_migration(struct sim_dev *dev, uint32_t flags, void *data, size_t argsz)
{
	struct vfio_device_feature_migration *mig = data;
	int ret;

	if (!dev->cfg->mig_flags)
		return -ENOTTY;
	ret = check_feature(flags, argsz, VFIO_DEVICE_FEATURE_GET, sizeof(*mig));
	if (ret != 1)
		return ret;
	mig->flags = dev->cfg->mig_flags;
	return 0;
}

/* vfio_ioctl_device_feature_migration_data_size */
static int feature_data_size(struct sim_dev *dev, uint32_t flags, void *data, size_t argsz)
{
	struct vfio_device_feature_mig_data_size *ds = data;
	int ret;

	if (!dev->cfg->mig_flags)
		return -ENOTTY;
	ret = check_feature(flags, argsz, VFIO_DEVICE_FEATURE_GET, sizeof(*ds));
	if (ret != 1)
		return ret;
	ds->stop_copy_length = dev->cfg->data_size;
	return 0;
}

/*
 * VFIO_DEVICE_FEATURE_MIG_PRECOPY_INFOv2: SET with no data opts in to the
 * flags of VFIO_MIG_GET_PRECOPY_INFO as an output (REINIT). A device without
 * the key is a 6.12 one: the feature is unknown (vfio_pci_core_ioctl_feature).
 */
static int feature_precopy_info_v2(struct sim_dev *dev, uint32_t flags, size_t argsz)
{
	int ret;

	if (!dev->cfg->precopy_info_v2 || !(dev->cfg->mig_flags & VFIO_MIGRATION_PRE_COPY))
		return -ENOTTY;
	ret = check_feature(flags, argsz, VFIO_DEVICE_FEATURE_SET, 0);
	if (ret != 1)
		return ret;
	dev->precopy_v2_on = true;
	return 0;
}

/* ---- DMA logging ---- */

static int cmp_range(const void *a, const void *b)
{
	const struct vfio_device_feature_dma_logging_range *x = a, *y = b;

	return x->iova < y->iova ? -1 : x->iova > y->iova;
}

/* Like vfio_combine_iova_ranges: merge the closest neighbours until few enough. */
static void combine_ranges(struct vfio_device_feature_dma_logging_range *r, uint32_t *n,
			   uint32_t max)
{
	qsort(r, *n, sizeof(*r), cmp_range);
	while (*n > max) {
		uint64_t best = UINT64_MAX;
		uint32_t at = 0;

		for (uint32_t i = 1; i < *n; i++) {
			uint64_t gap = r[i].iova - (r[i - 1].iova + r[i - 1].length - 1);

			if (gap < best) {
				best = gap;
				at = i;
			}
		}
		r[at - 1].length = r[at].iova + r[at].length - r[at - 1].iova;
		memmove(&r[at], &r[at + 1], (*n - at - 1) * sizeof(*r));
		(*n)--;
	}
}

static void log_dirty_random(struct sim_dev *dev, uint64_t count, struct sim_dirtylog *log)
{
	uint64_t ps = dev->log_page_size, tries = count * 8 + 64;
	uint64_t pages = sim_ranges_total(&dev->log_ranges) / ps;

	while (count && pages && tries--) {
		uint64_t idx = sim_splitmix64(dev->cfg->seed ^ 0x106 ^ dev->log_rng++) % pages;

		for (size_t i = 0; i < dev->log_ranges.n; i++) {
			const struct sim_range *x = &dev->log_ranges.v[i];
			uint64_t np = (x->end - x->start) / ps;

			if (idx < np) {
				uint64_t a = x->start + idx * ps;

				if (!sim_ranges_overlaps(&dev->log_dirty, a, a + ps)) {
					sim_ranges_add(&dev->log_dirty, a, a + ps);
					sim_dirtylog_add(log, a, ps);
					count--;
				}
				break;
			}
			idx -= np;
		}
	}
}

/* vfio_ioctl_device_feature_logging_start */
static int feature_log_start(struct sim_dev *dev, uint32_t flags, void *data, size_t argsz)
{
	struct vfio_device_feature_dma_logging_control *ctl = data;
	const size_t log_max_ranges = 4096 / sizeof(struct vfio_device_feature_dma_logging_range);
	struct vfio_device_feature_dma_logging_range *r;
	uint32_t n;
	uint64_t ps;
	int ret;

	if (!dev->cfg->dma_logging)
		return -ENOTTY;
	ret = check_feature(flags, argsz, VFIO_DEVICE_FEATURE_SET, sizeof(*ctl));
	if (ret != 1)
		return ret;
	n = ctl->num_ranges;
	if (!n)
		return -EINVAL;
	if (n > log_max_ranges)
		return -E2BIG;
	if (!ctl->ranges)
		return -EFAULT;
	r = malloc(n * sizeof(*r));
	if (!r)
		return -ENOMEM;
	memcpy(r, (const void *)(uintptr_t)ctl->ranges, n * sizeof(*r));
	for (uint32_t i = 0; i < n; i++) {
		uint64_t end;

		if (!IS_ALIGNED_U64(r[i].iova, ctl->page_size) ||
		    !IS_ALIGNED_U64(r[i].length, ctl->page_size)) {
			ret = -EINVAL;
			goto out;
		}
		if (__builtin_add_overflow(r[i].iova, r[i].length, &end)) {
			ret = -EOVERFLOW;
			goto out;
		}
		/* interval tree overlap check on [iova, iova + length - 1] */
		for (uint32_t j = 0; j < i; j++) {
			if (r[j].iova <= r[i].iova + r[i].length - 1 &&
			    r[i].iova <= r[j].iova + r[j].length - 1) {
				ret = -EINVAL;
				goto out;
			}
		}
	}
	/* the driver's log_start (mlx5vf_start_page_tracker) */
	if (dev->logging) {
		ret = -EINVAL;
		goto out;
	}
	combine_ranges(r, &n, dev->cfg->log_max_ranges);
	ps = 4096;
	while (ps < ctl->page_size && ps < (1ULL << 62))
		ps <<= 1;
	if (ps < dev->cfg->log_page_size)
		ps = dev->cfg->log_page_size;
	ctl->page_size = ps;
	dev->log_page_size = ps;
	sim_ranges_clear(&dev->log_ranges);
	sim_ranges_clear(&dev->log_dirty);
	for (uint32_t i = 0; i < n; i++)
		sim_ranges_add(&dev->log_ranges, r[i].iova, r[i].iova + r[i].length);
	{
		char logname[SIM_NAME_MAX + 16];
		struct sim_dirtylog log = { .name = logname };

		snprintf(logname, sizeof(logname), "%s.log-dirtied", dev->cfg->name);
		for (size_t i = 0; i < dev->cfg->log_dirty.n; i++) {
			for (size_t k = 0; k < dev->log_ranges.n; k++) {
				uint64_t s = dev->cfg->log_dirty.v[i].start;
				uint64_t e = dev->cfg->log_dirty.v[i].end;

				if (s < dev->log_ranges.v[k].start)
					s = dev->log_ranges.v[k].start;
				if (e > dev->log_ranges.v[k].end)
					e = dev->log_ranges.v[k].end;
				if (s < e) {
					sim_ranges_add(&dev->log_dirty, s, e);
					sim_dirtylog_add(&log, s, e - s);
				}
			}
		}
		sim_dirtylog_flush(&log);
	}
	dev->logging = true;
	ret = 0;
	sim_dev_write_state(dev);
out:
	free(r);
	return ret;
}

/* vfio_ioctl_device_feature_logging_stop */
static int feature_log_stop(struct sim_dev *dev, uint32_t flags, void *data, size_t argsz)
{
	int ret;

	if (!dev->cfg->dma_logging)
		return -ENOTTY;
	ret = check_feature(flags, argsz, VFIO_DEVICE_FEATURE_SET, 0);
	if (ret != 1)
		return ret;
	dev->logging = false;
	sim_ranges_clear(&dev->log_ranges);
	sim_ranges_clear(&dev->log_dirty);
	sim_dev_write_state(dev);
	return 0;
}

/*
 * Set bit i for each page [iova + i * ps, +ps) touching a dirty range; the
 * kernel only sets bits (iova_bitmap_set), it never clears the user's.
 */
void sim_report_bits(const struct sim_ranges *dirty, uint64_t iova, uint64_t length, uint64_t ps,
		     uint8_t *bitmap)
{
	uint64_t last = iova + length - 1;

	for (size_t i = 0; i < dirty->n; i++) {
		uint64_t s = dirty->v[i].start, e = dirty->v[i].end - 1;

		if (e < iova || s > last)
			continue;
		if (s < iova)
			s = iova;
		if (e > last)
			e = last;
		for (uint64_t b = (s - iova) / ps; b <= (e - iova) / ps; b++)
			bitmap[b / 8] |= (uint8_t)(1u << (b % 8));
	}
}

/* vfio_ioctl_device_feature_logging_report */
static int feature_log_report(struct sim_dev *dev, uint32_t flags, void *data, size_t argsz)
{
	struct vfio_device_feature_dma_logging_report *rep = data;
	uint64_t end;
	int ret;

	if (!dev->cfg->dma_logging)
		return -ENOTTY;
	ret = check_feature(flags, argsz, VFIO_DEVICE_FEATURE_GET, sizeof(*rep));
	if (ret != 1)
		return ret;
	if (rep->page_size < 4096 || (rep->page_size & (rep->page_size - 1)))
		return -EINVAL;
	if (__builtin_add_overflow(rep->iova, rep->length, &end))
		return -EOVERFLOW;
	if (!rep->length)
		return 0;
	if (!rep->bitmap)
		return -EFAULT;
	/* mlx5vf_tracker_read_and_clear: only while logging */
	if (!dev->logging)
		return -EINVAL;
	{
		char name[SIM_NAME_MAX + 16], logname[SIM_NAME_MAX + 16];
		struct sim_dirtylog log = { .name = logname };

		snprintf(name, sizeof(name), "%s.log-dirty", dev->cfg->name);
		snprintf(logname, sizeof(logname), "%s.log-dirtied", dev->cfg->name);
		sim_apply_dirty_file(name, &dev->log_ctl_offset, &dev->log_dirty, &dev->log_ranges);
		log_dirty_random(dev, dev->cfg->log_dirty_per_report, &log);
		sim_dirtylog_flush(&log);
	}
	sim_report_bits(&dev->log_dirty, rep->iova, rep->length, rep->page_size,
			(uint8_t *)(uintptr_t)rep->bitmap);
	sim_ranges_remove(&dev->log_dirty, rep->iova, rep->iova + rep->length);
	return 0;
}

/* vfio_ioctl_device_feature */
static int device_feature(struct sim_dev *dev, struct vfio_device_feature *f)
{
	size_t minsz = offsetofend(struct vfio_device_feature, flags);
	size_t argsz;

	if (f->argsz < minsz)
		return -EINVAL;
	if (f->flags & ~(VFIO_DEVICE_FEATURE_MASK | VFIO_DEVICE_FEATURE_SET |
			 VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_PROBE))
		return -EINVAL;
	if (!(f->flags & VFIO_DEVICE_FEATURE_PROBE) && (f->flags & VFIO_DEVICE_FEATURE_SET) &&
	    (f->flags & VFIO_DEVICE_FEATURE_GET))
		return -EINVAL;
	argsz = f->argsz - minsz;
	switch (f->flags & VFIO_DEVICE_FEATURE_MASK) {
	case VFIO_DEVICE_FEATURE_MIGRATION:
		return feature_migration(dev, f->flags, f->data, argsz);
	case VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE:
		return feature_mig_state(dev, f->flags, f->data, argsz);
	case VFIO_DEVICE_FEATURE_DMA_LOGGING_START:
		return feature_log_start(dev, f->flags, f->data, argsz);
	case VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP:
		return feature_log_stop(dev, f->flags, f->data, argsz);
	case VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT:
		return feature_log_report(dev, f->flags, f->data, argsz);
	case VFIO_DEVICE_FEATURE_MIG_DATA_SIZE:
		return feature_data_size(dev, f->flags, f->data, argsz);
	case VFIO_DEVICE_FEATURE_MIG_PRECOPY_INFOv2:
		return feature_precopy_info_v2(dev, f->flags, argsz);
	default:
		/* vfio_pci_core_ioctl_feature: other features are not modelled */
		return -ENOTTY;
	}
}

/* vfio_device_fops_unl_ioctl */
int sim_devfile_ioctl(struct sim_devfile *df, unsigned long req, void *arg)
{
	struct sim_dev *dev = df->dev;
	int ret;

	if (req == VFIO_DEVICE_BIND_IOMMUFD)
		return devfile_bind(df, arg);
	if (!df->access_granted)
		return -EINVAL;
	if (!df->via_group) {
		if (req == VFIO_DEVICE_ATTACH_IOMMUFD_PT)
			return devfile_attach(df, arg);
		if (req == VFIO_DEVICE_DETACH_IOMMUFD_PT)
			return devfile_detach(df, arg);
	}
	switch (req) {
	case VFIO_DEVICE_FEATURE:
		ret = device_feature(dev, arg);
		break;
	case VFIO_DEVICE_GET_INFO:
		ret = devfile_get_info(df, arg);
		break;
	case VFIO_DEVICE_RESET:
		sim_dev_reset(dev);
		ret = 0;
		break;
	default:
		/* vfio_pci_core_ioctl: unknown commands */
		ret = -ENOTTY;
		break;
	}
	if (ret)
		dev->last_errno = -ret;
	return ret;
}

/* ---- legacy groups and containers (drivers/vfio/group.c, container.c) ---- */

struct sim_obj *sim_group_new(struct sim_dev *dev, int *err)
{
	struct sim_group *g;
	int ret;

	if (!dev) {
		*err = ENOENT;
		return NULL;
	}
	/* vfio_group_fops_open: one opener; not while a cdev is bound */
	if (open_groups[dev_slot(dev)] || dev->open_count) {
		*err = EBUSY;
		return NULL;
	}
	ret = dev_lock(dev);
	if (ret) {
		*err = -ret;
		return NULL;
	}
	g = calloc(1, sizeof(*g));
	if (!g) {
		*err = ENOMEM;
		dev_unlock_if_unused(dev);
		return NULL;
	}
	g->obj = SIM_OBJ_INIT(SIM_K_GROUP);
	g->dev = dev;
	open_groups[dev_slot(dev)] = g;
	return &g->obj;
}

void sim_group_release(struct sim_group *g)
{
	if (g->container) {
		g->container->groups--;
		if (!g->container->groups)
			g->container->iommu_type = 0;
		sim_obj_put(&g->container->obj);
	}
	open_groups[dev_slot(g->dev)] = NULL;
	dev_unlock_if_unused(g->dev);
	free(g);
}

static int group_get_device_fd(struct sim_group *g, const char *name)
{
	struct sim_dev *dev = g->dev;
	const char *id = dev->cfg->mdev[0] ? dev->cfg->mdev : dev->cfg->bdf;
	struct sim_devfile *df;
	struct sim_obj *obj;
	int err = 0, fd;

	/* vfio_group_ioctl_get_device_fd: needs a container with an IOMMU */
	if (!g->container || !g->container->iommu_type)
		return -EINVAL;
	if (strcmp(name, id))
		return -ENODEV;
	obj = sim_devfile_new(dev, true, &err);
	if (!obj)
		return -err;
	df = (struct sim_devfile *)obj;
	/* the group path allows several opens (vfio_df_open) */
	if (dev->open_count++ == 0)
		dev_first_open(dev);
	df->access_granted = true;
	fd = sim_fd_install(obj, O_CLOEXEC);
	if (fd < 0) {
		obj->refs++;
		sim_obj_put(obj);
		return fd;
	}
	sim_devfile_record(df);
	sim_dev_write_state(dev);
	return fd;
}

int sim_group_ioctl(struct sim_group *g, unsigned long req, void *arg)
{
	switch (req) {
	case VFIO_GROUP_GET_STATUS: {
		struct vfio_group_status *st = arg;

		if (st->argsz < offsetofend(struct vfio_group_status, flags))
			return -EINVAL;
		st->flags = VFIO_GROUP_FLAGS_VIABLE;
		if (g->container)
			st->flags |= VFIO_GROUP_FLAGS_CONTAINER_SET;
		return 0;
	}
	case VFIO_GROUP_SET_CONTAINER: {
		int cfd = *(const int *)arg;
		struct sim_obj *obj;

		if (cfd < 0)
			return -EINVAL;
		obj = sim_fd_get(cfd);
		if (!obj)
			return fcntl(cfd, F_GETFD) < 0 ? -EBADF : -EINVAL;
		if (obj->kind != SIM_K_CONTAINER)
			return -EINVAL;
		if (g->container)
			return -EINVAL;
		g->container = (struct sim_container *)obj;
		g->container->groups++;
		obj->refs++;
		return 0;
	}
	case VFIO_GROUP_UNSET_CONTAINER:
		if (!g->container)
			return -EINVAL;
		if (g->dev->open_count)
			return -EBUSY;
		g->container->groups--;
		if (!g->container->groups)
			g->container->iommu_type = 0;
		sim_obj_put(&g->container->obj);
		g->container = NULL;
		return 0;
	case VFIO_GROUP_GET_DEVICE_FD:
		return group_get_device_fd(g, arg);
	default:
		return -ENOTTY;
	}
}

struct sim_obj *sim_container_new(void)
{
	struct sim_container *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->obj = SIM_OBJ_INIT(SIM_K_CONTAINER);
	return &c->obj;
}

void sim_container_release(struct sim_container *c)
{
	free(c);
}

int sim_container_ioctl(struct sim_container *c, unsigned long req, void *arg)
{
	unsigned long type = (unsigned long)arg;

	switch (req) {
	case VFIO_GET_API_VERSION:
		return VFIO_API_VERSION;
	case VFIO_CHECK_EXTENSION:
		return type == VFIO_TYPE1_IOMMU || type == VFIO_TYPE1v2_IOMMU;
	case VFIO_SET_IOMMU:
		/*
		 * vfio_ioctl_set_iommu: no group yet, or an IOMMU already set:
		 * both EINVAL (tests/conformance: this said EBUSY for the second).
		 */
		if (!c->groups || c->iommu_type)
			return -EINVAL;
		if (type != VFIO_TYPE1_IOMMU && type != VFIO_TYPE1v2_IOMMU)
			return -ENODEV;
		c->iommu_type = (uint32_t)type;
		return 0;
	default:
		/* the type1 driver's other ioctls (DMA map...) are not modelled */
		return c->iommu_type ? -ENOTTY : -EINVAL;
	}
}
