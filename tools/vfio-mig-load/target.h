/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One target device of a load: the device, the stream device it
 * receives, its resume session (data fd, bytes, chunk order) and what
 * to do to it when the load fails.
 */
#ifndef VMT_LOAD_TARGET_H
#define VMT_LOAD_TARGET_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <xxhash.h>

#include "vfio/device.h"
#include "compat.h"
#include "reorder.h"
#include "summary.h"
#include "writer.h"

struct load_target {
	const char *spec;      /* as given: path, BDF, UUID, fd:N */
	uint32_t stream_index; /* the stream device it receives */
	struct vmt_device *dev;
	uint32_t initial_state; /* before the load touched it */
	bool touched;		/* its state was changed by this load */
	bool described;		/* its DEVICE record was seen */
	bool resuming;		/* RESUMING, data fd open */
	bool end_seen;		/* its DEVICE_END record was read (main thread) */
	bool ended;		/* DEVICE_END checked, RESUMING -> STOP done (its writer) */
	struct load_reorder *reorder;
	/*
	 * Its writer thread (writer.h): from RESUMING on, every write to the
	 * data fd, the DEVICE_END checks and RESUMING -> STOP happen there.
	 */
	struct load_writer writer;
	uint64_t queued_bytes; /* handed to the writer (main thread) */
	uint64_t queued_chunks;
	/*
	 * With a reorder buffer the reader takes chunks in any order and
	 * cannot check the DEVICE_END digest: the bytes are hashed here, in
	 * the order they reach the device. NULL otherwise (the reader checked
	 * the digest; hashing again would only cost throughput).
	 */
	XXH3_state_t *digest;
	/* bytes written to the data fd: by the writer, read by the return path's acks */
	_Atomic uint64_t written;
	uint64_t chunks; /* chunks written (the writer) */
	/* when its first STOP_COPY chunk was read: the main thread's, read by the writer at the end */
	uint64_t stop_copy_first_ns;
	struct load_device_summary *summary;
};

/*
 * Opens the device and reads its migration flags and state. reorder_limit
 * > 0: chunks may come out of order (held up to that many bytes) and the
 * state digest is computed here.
 */
int load_target_open(struct load_target *t, bool force_group, uint64_t reorder_limit);
void load_target_close(struct load_target *t);

/* RESUMING: the kernel walks from the current state; a data fd comes back. */
int load_target_begin_resume(struct load_target *t);
/* Verified bytes of one chunk, in order, to the data fd (and the digest). */
int load_target_write(struct load_target *t, const void *buf, uint32_t len);
/* With a digest of its own: whether the bytes written match DEVICE_END's digest (*got: theirs). */
bool load_target_digest_matches(const struct load_target *t, uint64_t state_digest, uint64_t *got);
/* RESUMING -> STOP: the driver checks the state it was given here. */
int load_target_end_resume(struct load_target *t);
/* STOP -> the state asked for (RUNNING or STOP). */
int load_target_finish(struct load_target *t, uint32_t state);

/*
 * After a failure: a device that was touched is reset (VFIO_DEVICE_RESET:
 * the only way to abort RESUMING, and a loaded but unstarted state must not
 * run next to a source that resumes) and brought back to its initial
 * state. *state gets where it is now. 0, or -errno when that failed.
 */
int load_target_recover(struct load_target *t, uint32_t *state);
/* What the compatibility check (compat.h) compares with a stream's DEVICE record. */
void load_target_identify(const struct load_target *t, struct load_target_identity *id);

/*
 * The load's targets, one per --map or -d. Those that can fail record the
 * failure in ld->failure and return -errno (load.h).
 */
struct load;
struct vmt_device_fate;

/* The target of stream device index, or NULL when none was given. */
struct load_target *load_find_target(struct load *ld, uint32_t index);
/*
 * The target of a device the reader vouched for: it hands out DATA and
 * DEVICE_END only of a declared device, and every declared device was
 * given a target or failed the load.
 */
struct load_target *load_declared_target(struct load *ld, uint32_t index);
/* Every target opened, with its summary entry. */
int load_open_targets(struct load *ld);
/* Every target RESUMING, each with the writer that takes its chunks from here on. */
int load_resume_targets(struct load *ld);
/* Every loaded target from STOP to --then's state, together. */
int load_start_targets(struct load *ld);
/*
 * The one place where a failed load puts the devices back: every device
 * this run touched is reset and brought back to its initial state, and
 * fates[] (one per target) says where each one is now.
 */
void load_recover_targets(struct load *ld, struct vmt_device_fate *fates);
/*
 * Where each device is after a load that succeeded: for the error line of
 * a failure that came after (the devices stay loaded). Malloc'd; NULL
 * without memory.
 */
struct vmt_device_fate *load_loaded_fates(const struct load *ld);

#endif
