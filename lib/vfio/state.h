/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the VFIO migration uAPI says about states and flags, with no device
 * and no system call: names, which flags each state needs, the state a
 * source waits in before STOP_COPY, and the steps of a recovery. The kernel's
 * own tables (vfio_main.c) are the reference.
 *
 * This is the one part of lib/vfio that a tool which only reads streams
 * links (libvmt-vfio-state.la): migstream-cat names the states and flags a
 * stream records without carrying any code that opens a device.
 */
#ifndef VMT_VFIO_STATE_H
#define VMT_VFIO_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vfio/uapi/vfio-uapi.h"

/* A state that could not be read back (GET failed). */
#define VMT_STATE_UNKNOWN UINT32_MAX

/* "RUNNING", "PRE_COPY_P2P", ...; "UNKNOWN" for VMT_STATE_UNKNOWN or out of range. */
const char *vmt_state_name(uint32_t state);
/* vmt_state_name(), or NULL for VMT_STATE_UNKNOWN: what a vmt_device_fate holds. */
const char *vmt_state_name_or_null(uint32_t state);
/* Case-insensitive, '-' or '_': "running", "stop-copy", "PRE_COPY". 0 or -EINVAL. */
int vmt_state_parse(const char *name, uint32_t *state);
/* The VFIO_MIGRATION_* flags a device needs to be in state (the kernel's table); 0 if unknown. */
uint64_t vmt_state_required_flags(uint32_t state);
/* Whether a device with these flags may be asked to go to state (never ERROR). */
bool vmt_state_reachable(uint64_t mig_flags, uint32_t state);
/*
 * 0 when state is a valid target for mig_flags; -EOPNOTSUPP when the flags
 * lack what it needs (e.g. PRE_COPY without the PRE_COPY flag); -EINVAL for
 * ERROR or an unknown state.
 */
int vmt_state_check_target(uint64_t mig_flags, uint32_t state);
/* Whether flags describe a migratable device at all (STOP_COPY is mandatory). */
bool vmt_migration_flags_usable(uint64_t mig_flags);
/* PRE_COPY or PRE_COPY_P2P. */
bool vmt_state_is_precopy(uint32_t state);
/* States whose arcs hand out or keep a data fd: PRE_COPY*, STOP_COPY, RESUMING. */
bool vmt_state_has_data(uint32_t state);
/* "STOP_COPY", "P2P", "PRE_COPY" for a bit number of the migration flags; NULL for others. */
const char *vmt_migration_flag_name(unsigned int bit);
/* "STOP_COPY|P2P|PRE_COPY" into buf. */
const char *vmt_migration_flags_string(uint64_t mig_flags, char *buf, size_t len);

/*
 * Where a source device waits before STOP_COPY so that peer-to-peer DMA
 * between devices has stopped everywhere first: RUNNING_P2P (or
 * PRE_COPY_P2P when in pre-copy) when the device has P2P; otherwise the
 * state it is in (it goes straight to STOP_COPY later).
 */
uint32_t vmt_state_quiesce(uint64_t mig_flags, uint32_t current);

/* ---- recovery decisions (pure, for testing; vmt_device_recover runs them) ---- */

enum vmt_recovery_step {
	VMT_RECOVER_DONE = 0, /* the device is in the target */
	VMT_RECOVER_SET,      /* ask for the target state */
	VMT_RECOVER_RESET,    /* VFIO_DEVICE_RESET (out of ERROR, or after a failed SET) */
	VMT_RECOVER_GIVE_UP,  /* nothing more to try */
};

/* The state recovery aims for: wanted when reachable, otherwise RUNNING. */
uint32_t vmt_state_recovery_target(uint64_t mig_flags, uint32_t wanted);
/*
 * The next recovery step, given the current state (VMT_STATE_UNKNOWN when
 * it cannot be read), how many SETs of the target failed so far and whether
 * a reset was already done. At most: SET, RESET, SET.
 */
enum vmt_recovery_step vmt_state_recovery_next(uint32_t current, uint32_t target,
					       unsigned int failed_sets, bool reset_done);

/*
 * PRE_COPY from RUNNING, PRE_COPY_P2P from RUNNING_P2P (a device quiesced
 * for P2P stays quiesced); VMT_STATE_UNKNOWN from any other state, from
 * which pre-copy would restart or disturb the device.
 */
uint32_t vmt_state_precopy_for(uint32_t running_state);

#endif
