// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Device side of a load, over lib/vfio/device and lib/vfio/mig: this module
 * decides what a load does to a device; those modules do it.
 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/exitcodes.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "vfio/device-cli.h"
#include "vfio/mig.h"
#include "failure.h"
#include "load.h"
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

void load_target_identify(const struct load_target *t, struct load_target_identity *id)
{
	*id = (struct load_target_identity){
		.mig_flags = t->dev->mig_flags,
		.has_pci_ids = t->dev->has_pci_ids,
		.vendor = t->dev->vendor,
		.device = t->dev->device,
		.subsys_vendor = t->dev->subsys_vendor,
		.subsys_device = t->dev->subsys_device,
		.class_code = t->dev->class_code,
		.revision = t->dev->revision,
		.driver = t->dev->driver,
		.mdev_type = t->dev->mdev_type,
	};
}

struct load_target *load_find_target(struct load *ld, uint32_t index)
{
	for (unsigned int i = 0; i < ld->target_count; i++)
		if (ld->targets[i].stream_index == index)
			return &ld->targets[i];
	return NULL;
}

struct load_target *load_declared_target(struct load *ld, uint32_t index)
{
	struct load_target *t = load_find_target(ld, index);

	assert(t && t->described);
	return t;
}

/* The target counts as given once it has its summary entry: a failed open still names it. */
static int open_target(struct load *ld, unsigned int i)
{
	struct load_target *t = &ld->targets[i];
	int rc;

	t->spec = ld->opts.map[i].spec;
	t->stream_index = ld->opts.map[i].index;
	t->summary = &ld->summary.devices[i];
	t->summary->path = t->spec;
	t->summary->stream_index = t->stream_index;
	t->summary->final_state = VMT_STATE_UNKNOWN;
	ld->writer_ctx[i] = (struct writer_ctx){ .ld = ld, .index = i };
	ld->target_count = i + 1;
	ld->summary.device_count = ld->target_count;
	rc = load_target_open(t, ld->opts.group, ld->opts.reorder_limit);
	if (rc == -EOPNOTSUPP)
		return load_fail(ld, VMT_EXIT_UNSUPPORTED, "%s: device does not support migration",
				 t->spec);
	if (rc < 0 && !t->dev)
		return vmt_fail_device_open(&ld->failure, t->spec, rc, 0);
	if (rc < 0)
		return load_fail(ld, vmt_exit_code_for_error(rc),
				 "%s: reading its migration state: %s", t->spec, strerror(-rc));
	return 0;
}

int load_open_targets(struct load *ld)
{
	int rc;

	ld->targets = calloc(ld->opts.map_count, sizeof(*ld->targets));
	ld->summary.devices = calloc(ld->opts.map_count, sizeof(*ld->summary.devices));
	ld->writer_ctx = calloc(ld->opts.map_count, sizeof(*ld->writer_ctx));
	if (!ld->targets || !ld->summary.devices || !ld->writer_ctx)
		return vmt_fail(&ld->failure, NULL, -ENOMEM, 0, "allocating the targets");
	for (unsigned int i = 0; i < ld->opts.map_count; i++) {
		rc = open_target(ld, i);
		if (rc)
			return rc;
	}
	ld->summary.device_count = ld->target_count;
	return 0;
}

/* RESUMING, and the writer that takes the target's chunks from here on. */
static int begin_resume(struct load *ld, struct load_target *t)
{
	int rc = load_target_begin_resume(t);

	if (rc < 0)
		return load_fail(ld, load_device_exit_code(rc), "%s: cannot enter RESUMING: %s",
				 t->spec, strerror(-rc));
	vmt_dbg("%s: RESUMING, receiving stream device %u", t->spec, t->stream_index);
	return load_start_writer(ld, t);
}

int load_resume_targets(struct load *ld)
{
	int rc;

	for (unsigned int i = 0; i < ld->target_count; i++) {
		rc = begin_resume(ld, &ld->targets[i]);
		if (rc)
			return rc;
	}
	return 0;
}

/*
 * Started as a VMM starts them: every P2P device to RUNNING_P2P before
 * any runs, so no running device can DMA to a peer that is still stopped.
 */
static int targets_to_running_p2p(struct load *ld)
{
	for (unsigned int i = 0; i < ld->target_count; i++) {
		struct load_target *t = &ld->targets[i];
		int rc;

		if (!(t->dev->mig_flags & VFIO_MIGRATION_P2P))
			continue;
		rc = load_target_finish(t, VFIO_DEVICE_STATE_RUNNING_P2P);
		if (rc < 0)
			return load_fail(ld, vmt_exit_code_for_error(rc),
					 "%s: STOP -> RUNNING_P2P failed: %s", t->spec,
					 strerror(-rc));
	}
	return 0;
}

int load_start_targets(struct load *ld)
{
	int rc;

	if (ld->opts.then_state == VFIO_DEVICE_STATE_RUNNING) {
		rc = targets_to_running_p2p(ld);
		if (rc)
			return rc;
	}
	for (unsigned int i = 0; i < ld->target_count; i++) {
		struct load_target *t = &ld->targets[i];
		const char *from = vmt_state_name(t->dev->state);

		rc = load_target_finish(t, ld->opts.then_state);
		if (rc < 0)
			return load_fail(ld, vmt_exit_code_for_error(rc), "%s: %s -> %s failed: %s",
					 t->spec, from, vmt_state_name(ld->opts.then_state),
					 strerror(-rc));
		t->summary->final_state = t->dev->state;
	}
	ld->summary.final_state_ns = vmt_monotonic_ns();
	return 0;
}

void load_recover_targets(struct load *ld, struct vmt_device_fate *fates)
{
	for (unsigned int i = 0; i < ld->target_count; i++) {
		struct load_target *t = &ld->targets[i];
		unsigned int resets = t->dev ? t->dev->resets : 0;
		uint32_t state = VMT_STATE_UNKNOWN;
		bool failed = load_target_recover(t, &state) < 0;

		fates[i] = (struct vmt_device_fate){
			.name = t->spec,
			.state = vmt_state_name_or_null(state),
			.touched = t->touched,
			.reset = t->dev && t->dev->resets > resets,
			.recovery_failed = failed,
		};
		t->summary->final_state = state;
		t->summary->reset = fates[i].reset;
		t->summary->recovery_failed = failed;
	}
}

struct vmt_device_fate *load_loaded_fates(const struct load *ld)
{
	struct vmt_device_fate *fates =
		calloc(ld->target_count ? ld->target_count : 1, sizeof(*fates));

	for (unsigned int i = 0; fates && i < ld->target_count; i++)
		fates[i] = (struct vmt_device_fate){
			.name = ld->targets[i].spec,
			.state = vmt_state_name_or_null(
				ld->targets[i].dev ? ld->targets[i].dev->state : VMT_STATE_UNKNOWN),
			.touched = ld->targets[i].touched,
		};
	return fates;
}
