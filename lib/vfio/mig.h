/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * VFIO migration v2 for one device: which states its flags allow, state
 * names, transitions with data fd bookkeeping, pre-copy info, reading and
 * writing the data fd, and recovery after a failure.
 *
 * The kernel walks multi-step arcs itself (vfio_mig_get_next_state), so a
 * caller asks for the state it wants; this module only refuses targets the
 * device's flags make impossible (PRE_COPY without VFIO_MIGRATION_PRE_COPY,
 * *_P2P without VFIO_MIGRATION_P2P, ERROR ever) before the kernel is asked.
 */
#ifndef VMT_VFIO_MIG_H
#define VMT_VFIO_MIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vfio/device.h"
#include "vfio/state.h"
#include "vfio/uapi/vfio-uapi.h"

/* ---- who watches ---- */

/*
 * What lib/vfio/mig tells an observer (a tool's flight recorder): each SET
 * of a state (an arc) with its duration and result, each ioctl of this
 * module that failed, each recovery step. The library knows nothing of
 * what the observer does with it.
 */
enum vmt_mig_note {
	VMT_MIG_NOTE_ARC,	   /* from -> to, in ns, err 0 or -errno */
	VMT_MIG_NOTE_IOCTL_FAILED, /* ioctl named by what, err -errno */
	VMT_MIG_NOTE_RECOVERY,	   /* step named by what ("set", "reset", "done", "give-up") */
};

struct vmt_mig_event {
	enum vmt_mig_note note;
	const struct vmt_device *dev;
	const char *what;  /* the ioctl or the recovery step; NULL for an arc */
	uint32_t from, to; /* states: the arc's; a recovery step's current and target */
	uint64_t start_ns, duration_ns; /* monotonic */
	int err;			/* 0 or -errno */
};

typedef void (*vmt_mig_observer_fn)(const struct vmt_mig_event *event, void *arg);

/*
 * One observer for the process (NULL: none), set before any device is
 * touched. It is called on the thread that made the call, so it must be
 * thread-safe.
 */
void vmt_mig_set_observer(vmt_mig_observer_fn fn, void *arg);

/* ---- a device ---- */

/*
 * Read the migration flags into dev->mig_flags. -EOPNOTSUPP when the device
 * has no migration support (no feature, or flags without STOP_COPY).
 */
int vmt_mig_query(struct vmt_device *dev);
/* GET the state; also stored in dev->state (VMT_STATE_UNKNOWN on failure). */
int vmt_mig_get_state(struct vmt_device *dev, uint32_t *state);
/*
 * SET the state after vmt_state_check_target (-EOPNOTSUPP/-EINVAL without
 * asking the kernel). A new data fd replaces dev->data_fd; going to a state
 * without data (RUNNING*, STOP) closes dev->data_fd. On failure dev->state is
 * read back with a GET (the device may be anywhere on the arc).
 */
int vmt_mig_set_state(struct vmt_device *dev, uint32_t state);
/*
 * MIG_DATA_SIZE: the device's estimate of its STOP_COPY data.
 * -EOPNOTSUPP when the device does not say (older kernels, drivers without it).
 */
int vmt_mig_stop_copy_size(struct vmt_device *dev, uint64_t *bytes);
/*
 * GET_PRECOPY_INFO on dev->data_fd, with the output flags into *flags unless
 * it is NULL (VFIO_PRECOPY_INFO_REINIT after vmt_mig_enable_precopy_info_v2).
 * -EINVAL when the device is not in a PRE_COPY state, -EBADF when there is
 * no data fd, -ENOTTY when unsupported.
 */
int vmt_mig_precopy_info(struct vmt_device *dev, uint64_t *initial_bytes, uint64_t *dirty_bytes,
			 uint32_t *flags);
/*
 * Opt in to pre-copy info v2 (VFIO_DEVICE_FEATURE_MIG_PRECOPY_INFOv2), so
 * that GET_PRECOPY_INFO may say REINIT. -EOPNOTSUPP when the kernel or the
 * driver does not offer it (6.12 and older: use v1).
 */
int vmt_mig_enable_precopy_info_v2(struct vmt_device *dev);

/*
 * VFIO_DEVICE_RESET: the device restarts RUNNING, a RESUMING session is
 * aborted. Closes dev->data_fd first and counts the reset in dev->resets.
 * 0 or -errno.
 */
int vmt_device_reset(struct vmt_device *dev);
/*
 * Put a device back after a failure, as a VMM does: close the data fd,
 * GET the state, SET the target (vmt_state_recovery_target(wanted)); if that
 * is impossible or fails, VFIO_DEVICE_RESET (the device restarts RUNNING)
 * and SET the target again if it is not RUNNING. *final_state gets the state
 * the device ends in (VMT_STATE_UNKNOWN if it cannot be read); dev->resets
 * counts resets. 0 when the device reached the target, else -errno of the
 * last failure.
 */
int vmt_device_recover(struct vmt_device *dev, uint32_t wanted, uint32_t *final_state);

/* ---- the data fd ---- */

enum vmt_data_status {
	VMT_DATA_FULL = 0,   /* buffer filled; there may be more */
	VMT_DATA_PAUSED = 1, /* PRE_COPY: nothing more for now (ENOMSG, or 0 as mtty gives) */
	VMT_DATA_END = 2,    /* STOP_COPY: end of the device's state (read() == 0) */
};

/*
 * Read from a data fd until buf (cap bytes) is full or the device has no
 * more: *got gets the bytes read (also with PAUSED, END and errors). precopy
 * says whether the device is in a PRE_COPY state, where read() returning 0
 * or ENOMSG means "no more for now", not end of state. EINTR is not retried:
 * -EINTR (with the bytes read so far in *got) lets a caller whose signal
 * handlers lack SA_RESTART look at its flags before reading on, so a stop
 * signal is not held up by a read that blocks in the driver.
 * Returns an enum vmt_data_status or -errno (-EIO from the driver, ...).
 */
int vmt_mig_read_data(int data_fd, void *buf, size_t cap, bool precopy, size_t *got);
/* Write all of buf to a (RESUMING) data fd, retrying EINTR and short writes. 0 or -errno. */
int vmt_mig_write_data(int data_fd, const void *buf, size_t len);

#endif
