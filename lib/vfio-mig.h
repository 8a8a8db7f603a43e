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

#include "uapi/vfio-uapi.h"
#include "vfio-device.h"

/* ---- pure state-machine knowledge (no device needed) ---- */

/* "RUNNING", "PRE_COPY_P2P", ...; "UNKNOWN" for VMT_STATE_UNKNOWN or out of range. */
const char *vmt_mig_state_name(uint32_t state);
/* Case-insensitive, '-' or '_': "running", "stop-copy", "PRE_COPY". 0 or -EINVAL. */
int vmt_mig_state_parse(const char *name, uint32_t *state);
/* The VFIO_MIGRATION_* flags a device needs to be in state (the kernel's table); 0 if unknown. */
uint64_t vmt_mig_state_required_flags(uint32_t state);
/* Whether a device with these flags may be asked to go to state (never ERROR). */
bool vmt_mig_state_reachable(uint64_t mig_flags, uint32_t state);
/*
 * 0 when state is a valid target for mig_flags; -EOPNOTSUPP when the flags
 * lack what it needs (e.g. PRE_COPY without the PRE_COPY flag); -EINVAL for
 * ERROR or an unknown state.
 */
int vmt_mig_check_target(uint64_t mig_flags, uint32_t state);
/* Whether flags describe a migratable device at all (STOP_COPY is mandatory). */
bool vmt_mig_flags_usable(uint64_t mig_flags);
/* PRE_COPY or PRE_COPY_P2P. */
bool vmt_mig_state_is_precopy(uint32_t state);
/* States whose arcs hand out or keep a data fd: PRE_COPY*, STOP_COPY, RESUMING. */
bool vmt_mig_state_has_data(uint32_t state);
/* "STOP_COPY", "P2P", "PRE_COPY" for a bit number of the migration flags; NULL for others. */
const char *vmt_mig_flag_name(unsigned int bit);
/* "STOP_COPY|P2P|PRE_COPY" into buf. */
const char *vmt_mig_flags_string(uint64_t mig_flags, char *buf, size_t len);

/*
 * Where a source device waits before STOP_COPY so that peer-to-peer DMA
 * between devices has stopped everywhere first: RUNNING_P2P (or
 * PRE_COPY_P2P when in pre-copy) when the device has P2P; otherwise the
 * state it is in (it goes straight to STOP_COPY later).
 */
uint32_t vmt_mig_quiesce_state(uint64_t mig_flags, uint32_t current);

/* ---- recovery decisions (pure, for testing; vmt_device_recover runs them) ---- */

enum vmt_recovery_step {
	VMT_RECOVER_DONE = 0, /* the device is in the target */
	VMT_RECOVER_SET,      /* ask for the target state */
	VMT_RECOVER_RESET,    /* VFIO_DEVICE_RESET (out of ERROR, or after a failed SET) */
	VMT_RECOVER_GIVE_UP,  /* nothing more to try */
};

/* The state recovery aims for: wanted when reachable, otherwise RUNNING. */
uint32_t vmt_mig_recovery_target(uint64_t mig_flags, uint32_t wanted);
/*
 * The next recovery step, given the current state (VMT_STATE_UNKNOWN when
 * it cannot be read), how many SETs of the target failed so far and whether
 * a reset was already done. At most: SET, RESET, SET.
 */
enum vmt_recovery_step vmt_mig_recovery_next(uint32_t current, uint32_t target,
					     unsigned int failed_sets, bool reset_done);

/* ---- a device ---- */

/*
 * Read the migration flags into dev->mig_flags. -EOPNOTSUPP when the device
 * has no migration support (no feature, or flags without STOP_COPY).
 */
int vmt_mig_query(struct vmt_device *dev);
/* GET the state; also stored in dev->state (VMT_STATE_UNKNOWN on failure). */
int vmt_mig_get_state(struct vmt_device *dev, uint32_t *state);
/*
 * SET the state after vmt_mig_check_target (-EOPNOTSUPP/-EINVAL without
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
 * GET_PRECOPY_INFO on dev->data_fd. -EINVAL when the device is not in a
 * PRE_COPY state, -EBADF when there is no data fd, -ENOTTY when unsupported.
 */
int vmt_mig_precopy_info(struct vmt_device *dev, uint64_t *initial_bytes, uint64_t *dirty_bytes);
/* The same, with the output flags (VFIO_PRECOPY_INFO_REINIT after vmt_mig_enable_precopy_info_v2). */
int vmt_mig_precopy_info_flags(struct vmt_device *dev, uint64_t *initial_bytes, uint64_t *dirty_bytes,
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
 * GET the state, SET the target (vmt_mig_recovery_target(wanted)); if that
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
