// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * VFIO migration v2 for one device; see vfio-mig.h.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "fdio.h"
#include "log.h"
#include "vfio-ioctl.h"
#include "vfio-mig.h"

static const char *const state_names[VMT_VFIO_DEVICE_STATE_COUNT] = {
	[VFIO_DEVICE_STATE_ERROR] = "ERROR",
	[VFIO_DEVICE_STATE_STOP] = "STOP",
	[VFIO_DEVICE_STATE_RUNNING] = "RUNNING",
	[VFIO_DEVICE_STATE_STOP_COPY] = "STOP_COPY",
	[VFIO_DEVICE_STATE_RESUMING] = "RESUMING",
	[VFIO_DEVICE_STATE_RUNNING_P2P] = "RUNNING_P2P",
	[VFIO_DEVICE_STATE_PRE_COPY] = "PRE_COPY",
	[VFIO_DEVICE_STATE_PRE_COPY_P2P] = "PRE_COPY_P2P",
};

/* The kernel's state_flags_table (vfio_main.c): what a device needs to be in each state. */
static const uint64_t state_required_flags[VMT_VFIO_DEVICE_STATE_COUNT] = {
	[VFIO_DEVICE_STATE_RUNNING] = VFIO_MIGRATION_STOP_COPY,
	[VFIO_DEVICE_STATE_STOP] = VFIO_MIGRATION_STOP_COPY,
	[VFIO_DEVICE_STATE_STOP_COPY] = VFIO_MIGRATION_STOP_COPY,
	[VFIO_DEVICE_STATE_RESUMING] = VFIO_MIGRATION_STOP_COPY,
	[VFIO_DEVICE_STATE_RUNNING_P2P] = VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P,
	[VFIO_DEVICE_STATE_PRE_COPY] = VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_PRE_COPY,
	[VFIO_DEVICE_STATE_PRE_COPY_P2P] =
		VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P | VFIO_MIGRATION_PRE_COPY,
	[VFIO_DEVICE_STATE_ERROR] = 0,
};

const char *vmt_mig_state_name(uint32_t state)
{
	if (state < VMT_VFIO_DEVICE_STATE_COUNT && state_names[state])
		return state_names[state];
	return "UNKNOWN";
}

int vmt_mig_state_parse(const char *name, uint32_t *state)
{
	char norm[32];
	size_t i;

	for (i = 0; name[i] && i < sizeof(norm) - 1; i++)
		norm[i] = name[i] == '-' ? '_' : name[i];
	if (name[i])
		return -EINVAL;
	norm[i] = '\0';
	for (uint32_t s = 0; s < VMT_VFIO_DEVICE_STATE_COUNT; s++) {
		if (strcasecmp(norm, state_names[s]) == 0) {
			*state = s;
			return 0;
		}
	}
	return -EINVAL;
}

uint64_t vmt_mig_state_required_flags(uint32_t state)
{
	return state < VMT_VFIO_DEVICE_STATE_COUNT ? state_required_flags[state] : 0;
}

int vmt_mig_check_target(uint64_t mig_flags, uint32_t state)
{
	uint64_t need;

	if (state >= VMT_VFIO_DEVICE_STATE_COUNT || state == VFIO_DEVICE_STATE_ERROR)
		return -EINVAL;
	need = state_required_flags[state];
	return (mig_flags & need) == need ? 0 : -EOPNOTSUPP;
}

bool vmt_mig_state_reachable(uint64_t mig_flags, uint32_t state)
{
	return vmt_mig_check_target(mig_flags, state) == 0;
}

bool vmt_mig_flags_usable(uint64_t mig_flags)
{
	return mig_flags & VFIO_MIGRATION_STOP_COPY;
}

bool vmt_mig_state_is_precopy(uint32_t state)
{
	return state == VFIO_DEVICE_STATE_PRE_COPY || state == VFIO_DEVICE_STATE_PRE_COPY_P2P;
}

bool vmt_mig_state_has_data(uint32_t state)
{
	return vmt_mig_state_is_precopy(state) || state == VFIO_DEVICE_STATE_STOP_COPY ||
	       state == VFIO_DEVICE_STATE_RESUMING;
}

const char *vmt_mig_flag_name(unsigned int bit)
{
	switch (bit < 64 ? (uint64_t)1 << bit : 0) {
	case VFIO_MIGRATION_STOP_COPY:
		return "STOP_COPY";
	case VFIO_MIGRATION_P2P:
		return "P2P";
	case VFIO_MIGRATION_PRE_COPY:
		return "PRE_COPY";
	default:
		return NULL;
	}
}

const char *vmt_mig_flags_string(uint64_t mig_flags, char *buf, size_t len)
{
	uint64_t unnamed = 0;
	size_t used = 0;

	if (len == 0)
		return buf;
	buf[0] = '\0';
	for (unsigned int bit = 0; bit < 64; bit++) {
		const char *name = vmt_mig_flag_name(bit);

		if (!(mig_flags & ((uint64_t)1 << bit)))
			continue;
		if (!name) {
			unnamed |= (uint64_t)1 << bit;
			continue;
		}
		used += snprintf(buf + used, used < len ? len - used : 0, "%s%s", used ? "|" : "", name);
	}
	if (unnamed)
		used += snprintf(buf + used, used < len ? len - used : 0, "%s0x%llx",
				 used ? "|" : "", (unsigned long long)unnamed);
	if (used == 0)
		snprintf(buf, len, "none");
	return buf;
}

uint32_t vmt_mig_quiesce_state(uint64_t mig_flags, uint32_t current)
{
	if (!(mig_flags & VFIO_MIGRATION_P2P))
		return current;
	if (vmt_mig_state_is_precopy(current))
		return VFIO_DEVICE_STATE_PRE_COPY_P2P;
	if (current == VFIO_DEVICE_STATE_RUNNING)
		return VFIO_DEVICE_STATE_RUNNING_P2P;
	return current;
}

uint32_t vmt_mig_recovery_target(uint64_t mig_flags, uint32_t wanted)
{
	return vmt_mig_state_reachable(mig_flags, wanted) ? wanted : VFIO_DEVICE_STATE_RUNNING;
}

enum vmt_recovery_step vmt_mig_recovery_next(uint32_t current, uint32_t target,
					     unsigned int failed_sets, bool reset_done)
{
	if (current == target)
		return VMT_RECOVER_DONE;
	/*
	 * Only a reset leaves ERROR; an unreadable state is treated the same
	 * way. A RESUMING session is aborted by a reset too (the uAPI says so):
	 * RESUMING -> STOP would ask the driver to take in a partial state.
	 */
	if (current == VFIO_DEVICE_STATE_ERROR || current == VMT_STATE_UNKNOWN ||
	    current == VFIO_DEVICE_STATE_RESUMING)
		return reset_done ? VMT_RECOVER_GIVE_UP : VMT_RECOVER_RESET;
	if (!reset_done)
		return failed_sets == 0 ? VMT_RECOVER_SET : VMT_RECOVER_RESET;
	/* After the reset (device in RUNNING): one more try for a target other than RUNNING. */
	return failed_sets < 2 ? VMT_RECOVER_SET : VMT_RECOVER_GIVE_UP;
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
	int ret = vmt_vfio_mig_get_flags(dev->fd, &flags);

	/* The kernel says "no such feature" with ENOTTY; some drivers with EINVAL. */
	if (ret == -ENOTTY || ret == -EINVAL || ret == -EOPNOTSUPP)
		return -EOPNOTSUPP;
	if (ret < 0)
		return ret;
	if (!vmt_mig_flags_usable(flags))
		return -EOPNOTSUPP;
	dev->mig_flags = flags;
	dev->mig_queried = true;
	return 0;
}

int vmt_mig_get_state(struct vmt_device *dev, uint32_t *state)
{
	uint32_t s = VMT_STATE_UNKNOWN;
	int ret = vmt_vfio_mig_get_state(dev->fd, &s);

	dev->state = ret == 0 ? s : VMT_STATE_UNKNOWN;
	if (state)
		*state = dev->state;
	return ret;
}

int vmt_mig_set_state(struct vmt_device *dev, uint32_t state)
{
	int data_fd = -1;
	int ret;

	if (!dev->mig_queried) {
		ret = vmt_mig_query(dev);
		if (ret < 0)
			return ret;
	}
	ret = vmt_mig_check_target(dev->mig_flags, state);
	if (ret < 0)
		return ret;
	vmt_dbg("%s: %s -> %s", dev->name, vmt_mig_state_name(dev->state),
		vmt_mig_state_name(state));
	ret = vmt_vfio_mig_set_state(dev->fd, state, &data_fd);
	if (ret < 0) {
		vmt_mig_get_state(dev, NULL);
		return ret;
	}
	dev->state = state;
	if (data_fd >= 0) {
		/* A new session: the old fd (if any) carries nothing more. */
		close_data_fd(dev);
		dev->data_fd = data_fd;
	} else if (!vmt_mig_state_has_data(state)) {
		close_data_fd(dev);
	}
	return 0;
}

int vmt_mig_stop_copy_size(struct vmt_device *dev, uint64_t *bytes)
{
	int ret = vmt_vfio_mig_get_data_size(dev->fd, bytes);

	if (ret == -ENOTTY || ret == -EINVAL || ret == -EOPNOTSUPP)
		return -EOPNOTSUPP;
	return ret;
}

int vmt_mig_precopy_info_flags(struct vmt_device *dev, uint64_t *initial_bytes, uint64_t *dirty_bytes,
			       uint32_t *flags)
{
	if (dev->data_fd < 0)
		return -EBADF;
	return vmt_vfio_mig_get_precopy_info(dev->data_fd, initial_bytes, dirty_bytes, flags);
}

int vmt_mig_precopy_info(struct vmt_device *dev, uint64_t *initial_bytes, uint64_t *dirty_bytes)
{
	return vmt_mig_precopy_info_flags(dev, initial_bytes, dirty_bytes, NULL);
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
	int ret;

	close_data_fd(dev);
	ret = vmt_vfio_device_reset(dev->fd);
	if (ret == 0)
		dev->resets++;
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
	target = vmt_mig_recovery_target(dev->mig_flags, wanted);
	vmt_mig_get_state(dev, &current);
	for (;;) {
		enum vmt_recovery_step step =
			vmt_mig_recovery_next(current, target, failed_sets, reset_done);
		int ret;

		switch (step) {
		case VMT_RECOVER_DONE:
			*final_state = current;
			vmt_dbg("%s: recovered to %s", dev->name, vmt_mig_state_name(current));
			return 0;
		case VMT_RECOVER_SET:
			vmt_dbg("%s: recovery: %s -> %s", dev->name, vmt_mig_state_name(current),
				vmt_mig_state_name(target));
			ret = vmt_mig_set_state(dev, target);
			if (ret < 0) {
				last_err = ret;
				failed_sets++;
			}
			break;
		case VMT_RECOVER_RESET:
			vmt_dbg("%s: recovery: reset (state %s)", dev->name,
				vmt_mig_state_name(current));
			ret = vmt_device_reset(dev);
			reset_done = true;
			if (ret < 0)
				last_err = ret;
			break;
		case VMT_RECOVER_GIVE_UP:
		default:
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
