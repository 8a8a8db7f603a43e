// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * VFIO migration states and flags as the kernel defines them; see state.h.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "vfio/state.h"

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

const char *vmt_state_name(uint32_t state)
{
	if (state < VMT_VFIO_DEVICE_STATE_COUNT && state_names[state])
		return state_names[state];
	return "UNKNOWN";
}

const char *vmt_state_name_or_null(uint32_t state)
{
	return state == VMT_STATE_UNKNOWN ? NULL : vmt_state_name(state);
}

int vmt_state_parse(const char *name, uint32_t *state)
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

uint64_t vmt_state_required_flags(uint32_t state)
{
	return state < VMT_VFIO_DEVICE_STATE_COUNT ? state_required_flags[state] : 0;
}

int vmt_state_check_target(uint64_t mig_flags, uint32_t state)
{
	uint64_t need;

	if (state >= VMT_VFIO_DEVICE_STATE_COUNT || state == VFIO_DEVICE_STATE_ERROR)
		return -EINVAL;
	need = state_required_flags[state];
	return (mig_flags & need) == need ? 0 : -EOPNOTSUPP;
}

bool vmt_state_reachable(uint64_t mig_flags, uint32_t state)
{
	return vmt_state_check_target(mig_flags, state) == 0;
}

bool vmt_migration_flags_usable(uint64_t mig_flags)
{
	return mig_flags & VFIO_MIGRATION_STOP_COPY;
}

bool vmt_state_is_precopy(uint32_t state)
{
	return state == VFIO_DEVICE_STATE_PRE_COPY || state == VFIO_DEVICE_STATE_PRE_COPY_P2P;
}

bool vmt_state_has_data(uint32_t state)
{
	return vmt_state_is_precopy(state) || state == VFIO_DEVICE_STATE_STOP_COPY ||
	       state == VFIO_DEVICE_STATE_RESUMING;
}

const char *vmt_migration_flag_name(unsigned int bit)
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

const char *vmt_migration_flags_string(uint64_t mig_flags, char *buf, size_t len)
{
	uint64_t unnamed = 0;
	size_t used = 0;

	if (len == 0)
		return buf;
	buf[0] = '\0';
	for (unsigned int bit = 0; bit < 64; bit++) {
		const char *name = vmt_migration_flag_name(bit);

		if (!(mig_flags & ((uint64_t)1 << bit)))
			continue;
		if (!name) {
			unnamed |= (uint64_t)1 << bit;
			continue;
		}
		used += snprintf(buf + used, used < len ? len - used : 0, "%s%s", used ? "|" : "",
				 name);
	}
	if (unnamed)
		used += snprintf(buf + used, used < len ? len - used : 0, "%s0x%llx",
				 used ? "|" : "", (unsigned long long)unnamed);
	if (used == 0)
		snprintf(buf, len, "none");
	return buf;
}

uint32_t vmt_state_quiesce(uint64_t mig_flags, uint32_t current)
{
	if (!(mig_flags & VFIO_MIGRATION_P2P))
		return current;
	if (vmt_state_is_precopy(current))
		return VFIO_DEVICE_STATE_PRE_COPY_P2P;
	if (current == VFIO_DEVICE_STATE_RUNNING)
		return VFIO_DEVICE_STATE_RUNNING_P2P;
	return current;
}

uint32_t vmt_state_recovery_target(uint64_t mig_flags, uint32_t wanted)
{
	return vmt_state_reachable(mig_flags, wanted) ? wanted : VFIO_DEVICE_STATE_RUNNING;
}

enum vmt_recovery_step vmt_state_recovery_next(uint32_t current, uint32_t target,
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

uint32_t vmt_state_precopy_for(uint32_t running_state)
{
	switch (running_state) {
	case VFIO_DEVICE_STATE_RUNNING:
		return VFIO_DEVICE_STATE_PRE_COPY;
	case VFIO_DEVICE_STATE_RUNNING_P2P:
		return VFIO_DEVICE_STATE_PRE_COPY_P2P;
	default:
		return VMT_STATE_UNKNOWN;
	}
}
