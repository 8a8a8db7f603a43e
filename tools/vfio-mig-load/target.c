// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Device side of a load, over lib/vfio/device and lib/vfio/mig: this module
 * decides what a load does to a device; those modules do it.
 */
#include <errno.h>
#include <string.h>

#include "common/log.h"
#include "vfio/mig.h"
#include "target.h"

int load_target_open(struct load_target *t, bool force_group, uint64_t reorder_limit)
{
	const struct vmt_device_open_opts opts = { .force_group = force_group };
	uint32_t state;
	int rc;

	rc = vmt_device_open(t->spec, &opts, &t->dev);
	if (rc < 0)
		return rc;
	rc = vmt_mig_query(t->dev);
	if (rc < 0)
		return rc;
	rc = vmt_mig_get_state(t->dev, &state);
	if (rc < 0)
		return rc;
	t->initial_state = state;
	vmt_dbg("%s: opened %s (%s), migration flags 0x%llx, state %s", t->spec, t->dev->node,
		vmt_device_access_name(t->dev->access), (unsigned long long)t->dev->mig_flags,
		vmt_state_name(state));
	if (reorder_limit) {
		t->digest = XXH3_createState();
		if (!t->digest)
			return -ENOMEM;
		XXH3_64bits_reset(t->digest);
	}
	return load_reorder_new(&t->reorder, reorder_limit);
}

void load_target_close(struct load_target *t)
{
	if (t->dev)
		vmt_device_close(t->dev);
	t->dev = NULL;
	load_reorder_free(t->reorder);
	t->reorder = NULL;
	XXH3_freeState(t->digest);
	t->digest = NULL;
}

int load_target_begin_resume(struct load_target *t)
{
	int rc;

	t->touched = true;
	rc = vmt_mig_set_state(t->dev, VFIO_DEVICE_STATE_RESUMING);
	if (rc < 0)
		return rc;
	if (t->dev->data_fd < 0)
		return -EPROTO; /* the arc into RESUMING must hand out a data fd */
	t->resuming = true;
	return 0;
}

int load_target_write(struct load_target *t, const void *buf, uint32_t len)
{
	int rc = vmt_mig_write_data(t->dev->data_fd, buf, len);

	if (rc < 0)
		return rc;
	if (t->digest)
		XXH3_64bits_update(t->digest, buf, len);
	t->written += len;
	t->chunks++;
	return 0;
}

bool load_target_digest_matches(const struct load_target *t, uint64_t state_digest, uint64_t *got)
{
	*got = state_digest;
	if (!t->digest)
		return true; /* the in-order reader already checked it */
	*got = XXH3_64bits_digest(t->digest);
	return *got == state_digest;
}

int load_target_end_resume(struct load_target *t)
{
	int rc = vmt_mig_set_state(t->dev, VFIO_DEVICE_STATE_STOP);

	if (rc < 0)
		return rc;
	t->resuming = false;
	t->ended = true;
	return 0;
}

int load_target_finish(struct load_target *t, uint32_t state)
{
	if (t->dev->state == state)
		return 0;
	return vmt_mig_set_state(t->dev, state);
}

int load_target_recover(struct load_target *t, uint32_t *state)
{
	uint32_t wanted = t->initial_state;
	int rc;

	*state = t->dev ? t->dev->state : VMT_STATE_UNKNOWN;
	if (!t->dev || !t->touched)
		return 0;
	/* A state the device reached while loading is never a place to return to. */
	if (wanted == VFIO_DEVICE_STATE_RESUMING || wanted == VFIO_DEVICE_STATE_ERROR ||
	    wanted == VMT_STATE_UNKNOWN)
		wanted = VFIO_DEVICE_STATE_RUNNING;

	rc = vmt_device_reset(t->dev);
	if (rc == 0)
		vmt_dbg("%s: reset", t->spec);
	else
		vmt_dbg("%s: VFIO_DEVICE_RESET failed: %s", t->spec, strerror(-rc));
	/* Recovery closes the data fd, reads the state back and sets the wanted one. */
	rc = vmt_device_recover(t->dev, wanted, state);
	t->resuming = false;
	return rc;
}
