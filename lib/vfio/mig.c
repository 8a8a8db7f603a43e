// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * VFIO migration v2 for one device; see vfio-mig.h.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/fdio.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "vfio/mig.h"
#include "vfio/vfio-ioctl.h"

/* ---- who watches ---- */

static vmt_mig_observer_fn observer;
static void *observer_arg;

void vmt_mig_set_observer(vmt_mig_observer_fn fn, void *arg)
{
	observer = fn;
	observer_arg = arg;
}

static void tell(const struct vmt_mig_event *event)
{
	if (observer)
		observer(event, observer_arg);
}

/* ret, after telling the observer when it is a failure of the ioctl named what. */
static int note_ioctl(const struct vmt_device *dev, const char *what, int ret)
{
	if (ret < 0)
		tell(&(struct vmt_mig_event){ .note = VMT_MIG_NOTE_IOCTL_FAILED,
					      .dev = dev,
					      .what = what,
					      .from = dev->state,
					      .err = ret });
	return ret;
}

/* A "not supported" answer is the expected one for optional features, not a failure to tell. */
static int note_optional_ioctl(const struct vmt_device *dev, const char *what, int ret)
{
	if (ret == -ENOTTY || ret == -EINVAL || ret == -EOPNOTSUPP)
		return ret;
	return note_ioctl(dev, what, ret);
}

static void note_recovery(const struct vmt_device *dev, const char *step, uint32_t current,
			  uint32_t target, int err)
{
	tell(&(struct vmt_mig_event){ .note = VMT_MIG_NOTE_RECOVERY,
				      .dev = dev,
				      .what = step,
				      .from = current,
				      .to = target,
				      .err = err });
}

/* ---- a device ---- */

static void close_data_fd(struct vmt_device *dev)
{
	if (dev->data_fd >= 0) {
		vmt_trace("vfio-mig: %s: closing data fd %d", dev->name, dev->data_fd);
		close(dev->data_fd);
		dev->data_fd = -1;
	}
}

int vmt_mig_query(struct vmt_device *dev)
{
	uint64_t flags = 0;
	int ret = note_optional_ioctl(dev, "VFIO_DEVICE_FEATURE_MIGRATION",
				      vmt_vfio_mig_get_flags(dev->fd, &flags));

	/* The kernel says "no such feature" with ENOTTY; some drivers with EINVAL. */
	if (ret == -ENOTTY || ret == -EINVAL || ret == -EOPNOTSUPP)
		return -EOPNOTSUPP;
	if (ret < 0)
		return ret;
	if (!vmt_migration_flags_usable(flags))
		return -EOPNOTSUPP;
	dev->mig_flags = flags;
	dev->mig_queried = true;
	return 0;
}

int vmt_mig_get_state(struct vmt_device *dev, uint32_t *state)
{
	uint32_t s = VMT_STATE_UNKNOWN;
	int ret = note_ioctl(dev, "VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE (GET)",
			     vmt_vfio_mig_get_state(dev->fd, &s));

	dev->state = ret == 0 ? s : VMT_STATE_UNKNOWN;
	if (state)
		*state = dev->state;
	return ret;
}

int vmt_mig_set_state(struct vmt_device *dev, uint32_t state)
{
	struct vmt_mig_event arc = { .note = VMT_MIG_NOTE_ARC, .dev = dev, .to = state };
	int data_fd = -1;
	int ret;

	if (!dev->mig_queried) {
		ret = vmt_mig_query(dev);
		if (ret < 0)
			return ret;
	}
	ret = vmt_state_check_target(dev->mig_flags, state);
	if (ret < 0)
		return ret;
	vmt_dbg("%s: %s -> %s", dev->name, vmt_state_name(dev->state), vmt_state_name(state));
	arc.from = dev->state;
	arc.start_ns = vmt_monotonic_ns();
	ret = vmt_vfio_mig_set_state(dev->fd, state, &data_fd);
	arc.duration_ns = vmt_monotonic_ns() - arc.start_ns;
	arc.err = ret;
	if (ret < 0) {
		note_ioctl(dev, "VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE (SET)", ret);
		tell(&arc);
		vmt_mig_get_state(dev, NULL);
		return ret;
	}
	tell(&arc);
	dev->state = state;
	if (data_fd >= 0) {
		/* A new session: the old fd (if any) carries nothing more. */
		close_data_fd(dev);
		dev->data_fd = data_fd;
	} else if (!vmt_state_has_data(state)) {
		close_data_fd(dev);
	}
	return 0;
}

int vmt_mig_stop_copy_size(struct vmt_device *dev, uint64_t *bytes)
{
	int ret = note_optional_ioctl(dev, "VFIO_DEVICE_FEATURE_MIG_DATA_SIZE",
				      vmt_vfio_mig_get_data_size(dev->fd, bytes));

	if (ret == -ENOTTY || ret == -EINVAL || ret == -EOPNOTSUPP)
		return -EOPNOTSUPP;
	return ret;
}

int vmt_mig_precopy_info(struct vmt_device *dev, uint64_t *initial_bytes, uint64_t *dirty_bytes,
			 uint32_t *flags)
{
	if (dev->data_fd < 0)
		return -EBADF;
	return note_ioctl(
		dev, "VFIO_MIG_GET_PRECOPY_INFO",
		vmt_vfio_mig_get_precopy_info(dev->data_fd, initial_bytes, dirty_bytes, flags));
}

int vmt_mig_enable_precopy_info_v2(struct vmt_device *dev)
{
	int ret = vmt_vfio_mig_enable_precopy_info_v2(dev->fd);

	if (ret == -ENOTTY || ret == -EINVAL || ret == -EOPNOTSUPP)
		return -EOPNOTSUPP;
	return ret;
}

int vmt_device_reset(struct vmt_device *dev)
{
	uint32_t before = dev->state;
	int ret;

	close_data_fd(dev);
	ret = note_ioctl(dev, "VFIO_DEVICE_RESET", vmt_vfio_device_reset(dev->fd));
	if (ret == 0)
		dev->resets++;
	/* Only ever done to put a device back: a recovery step wherever it is asked for. */
	note_recovery(dev, "reset", before, VFIO_DEVICE_STATE_RUNNING, ret);
	return ret;
}

int vmt_device_recover(struct vmt_device *dev, uint32_t wanted, uint32_t *final_state)
{
	unsigned int failed_sets = 0;
	bool reset_done = false;
	uint32_t target, current;
	int last_err = 0;

	close_data_fd(dev);
	/* Without migration support there is no state to recover (and nothing to reset for). */
	if (!dev->mig_queried && (last_err = vmt_mig_query(dev)) < 0) {
		*final_state = VMT_STATE_UNKNOWN;
		return last_err;
	}
	target = vmt_state_recovery_target(dev->mig_flags, wanted);
	vmt_mig_get_state(dev, &current);
	for (;;) {
		enum vmt_recovery_step step =
			vmt_state_recovery_next(current, target, failed_sets, reset_done);
		int ret;

		switch (step) {
		case VMT_RECOVER_DONE:
			note_recovery(dev, "done", current, target, 0);
			*final_state = current;
			vmt_dbg("%s: recovered to %s", dev->name, vmt_state_name(current));
			return 0;
		case VMT_RECOVER_SET:
			vmt_dbg("%s: recovery: %s -> %s", dev->name, vmt_state_name(current),
				vmt_state_name(target));
			ret = vmt_mig_set_state(dev, target);
			note_recovery(dev, "set", current, target, ret);
			if (ret < 0) {
				last_err = ret;
				failed_sets++;
			}
			break;
		case VMT_RECOVER_RESET:
			vmt_dbg("%s: recovery: reset (state %s)", dev->name,
				vmt_state_name(current));
			ret = vmt_device_reset(dev);
			reset_done = true;
			if (ret < 0)
				last_err = ret;
			break;
		case VMT_RECOVER_GIVE_UP:
		default:
			note_recovery(dev, "give-up", current, target,
				      last_err < 0 ? last_err : -EIO);
			*final_state = current;
			return last_err < 0 ? last_err : -EIO;
		}
		vmt_mig_get_state(dev, &current);
	}
}

/* ---- the data fd ---- */

int vmt_mig_read_data(int data_fd, void *buf, size_t cap, bool precopy, size_t *got)
{
	unsigned char *p = buf;
	size_t done = 0;

	while (done < cap) {
		ssize_t n = read(data_fd, p + done, cap - done);

		if (n > 0) {
			done += n;
			continue;
		}
		*got = done;
		if (n == 0)
			return precopy ? VMT_DATA_PAUSED : VMT_DATA_END;
		if (errno == ENOMSG && precopy)
			return VMT_DATA_PAUSED;
		return -errno;
	}
	*got = done;
	return VMT_DATA_FULL;
}

int vmt_mig_write_data(int data_fd, const void *buf, size_t len)
{
	return vmt_write_all(data_fd, buf, len);
}
