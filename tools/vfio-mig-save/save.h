/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The save engine of vfio-mig-save: devices through pre-copy and stop-copy
 * into one migstream, and back to a safe state when anything fails.
 */
#ifndef VMT_SAVE_H
#define VMT_SAVE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <xxhash.h>

#include "common/events.h"
#include "common/failure.h"
#include "common/progress.h"
#include "stream/chunk-queue.h"
#include "stream/writer.h"
#include "vfio/device.h"
#include "vfio/precopy.h"

enum save_mode {
	SAVE_MODE_AUTO = 0,  /* pre-copy for devices that have PRE_COPY */
	SAVE_MODE_PRECOPY,   /* --precopy: every device must have PRE_COPY */
	SAVE_MODE_STOP_COPY, /* --no-precopy */
};

enum save_switch_reason {
	SWITCH_NONE = 0, /* no pre-copy */
	SWITCH_THRESHOLD,
	SWITCH_MAX_ROUNDS,
	SWITCH_MAX_TIME,
	SWITCH_SIGNAL,	       /* SIGUSR1 */
	SWITCH_CONTROL_FD,     /* a byte on --control-fd */
	SWITCH_DOWNTIME_LIMIT, /* the expected stop-copy time fits --downtime-limit */
};

struct save_opts {
	enum save_mode mode;
	uint64_t threshold;	    /* switch when initial + dirty <= this */
	uint64_t max_rounds;	    /* 0: no limit */
	uint64_t max_precopy_ns;    /* 0: no limit */
	uint64_t downtime_limit_ns; /* with downtime_limit_set */
	bool downtime_limit_set;
	bool threshold_set, max_rounds_set, max_precopy_time_set;
	int control_fd;		 /* -1: none */
	uint32_t then_state;	 /* after success: STOP or RUNNING */
	uint32_t on_error_state; /* after failure; VMT_STATE_UNKNOWN: the state at start */
	uint32_t chunk_size;
	bool progress;
	bool describe;		    /* --describe: the DEVICE records, no state, no transition */
	int return_fd;		    /* --return-fd: replies of vfio-mig-load, or -1 */
	uint64_t return_timeout_ns; /* longest wait for a reply the save needs */
	unsigned int jobs;	    /* devices read at once; 0: all */
	unsigned int threads;	    /* compression workers (with zstd_level) */
	uint64_t queue_size;	    /* bytes of device data in flight at most */
	int zstd_level;		    /* 0: no compression */
};

enum {
	SAVE_PHASES = 4
}; /* indexed by enum migstream_phase */

struct save_ctx;

/*
 * Threads: the main thread sets the device up before the reader starts and
 * reads the totals after it is joined; between those, the groups below say
 * who may touch what.
 */
struct save_device {
	/* immutable after start */
	struct vmt_device *dev;
	uint32_t index;
	uint32_t start_state;
	bool precopy;			/* takes part in pre-copy */
	struct vmt_precopy_split split; /* PRECOPY_INITIAL or PRECOPY_DIRTY */
	uint64_t estimate;		/* initial + dirty at the last sample */
	uint64_t sent_at_sample;	/* pre-copy bytes sent when estimate was taken */
	uint64_t stop_copy_size;	/* MIG_DATA_SIZE or MIGSTREAM_SIZE_UNKNOWN */
	uint64_t left_bytes;		/* MIG_DATA_SIZE now, else initial + dirty (downtime.c) */
	/* atomic: the reader adds, the main thread and the return path read */
	_Atomic uint64_t bytes[SAVE_PHASES]; /* by phase */
	/* the main thread's */
	bool touched;  /* a transition was asked for: recover it on failure */
	bool complete; /* DEVICE_END written (by the queue's release; read after the join) */
	uint32_t final_state;
	bool recovery_failed;
	/* Initial sections (1 + REINITs), their INIT_DATA_SENT markers and acks. */
	bool precopy_v2;	    /* PRECOPY_INFOv2 opted in: REINIT is reported */
	uint32_t generation;	    /* initial sections begun */
	uint64_t section_start;	    /* device bytes before the current initial section */
	uint32_t marked;	    /* INIT_DATA_SENT written for sections 1..marked */
	uint32_t acked;		    /* the last section the destination acked */
	uint64_t marked_ns, ack_ns; /* monotonic, of the last marker and ack */
	/* The device's reader thread (output.h, save.c); immutable after start: */
	struct save_ctx *ctx;
	pthread_t reader;
	bool reader_started;
	/* guarded by ctx->lock: the main thread hands a job, the reader answers */
	int job;	/* enum reader_job, set by the main thread */
	int job_result; /* 0 or -errno, when the job is done */
	bool job_done;
	/* the reader's while a job runs, the main thread's between jobs */
	uint64_t pass_bytes;		  /* read by the last pre-copy pass */
	uint64_t pass_ns;		  /* and how long that took */
	uint64_t read_bytes, read_ns;	  /* every pre-copy pass: the device's read rate */
	uint64_t next_chunk, next_offset; /* the device's numbering */
	XXH3_state_t *digest;		  /* over the device bytes, in order */
	/* Adaptive compression, guarded by ctx->lock: see output.c. */
	unsigned int not_shrunk; /* compressed records in a row that did not shrink */
	unsigned int raw_left;	 /* records still to send raw */
	uint64_t adaptive_raw;	 /* records sent raw by the rule */
};

/* One output of the stream: the whole stream, or a channel of a set. */
struct save_channel {
	/* immutable after start */
	const char *name;		 /* for messages: the file, or "<stdout>" */
	struct migstream_writer *writer; /* used by the channel's thread only */
	struct save_ctx *ctx;
	unsigned int index;
	pthread_t thread;
	bool started;
	/* atomic: the channel's thread sets it, the main thread's watch reads it */
	atomic_bool writing;	   /* its thread is in a write */
	_Atomic uint64_t write_ns; /* time spent in writes: the channel's rate */
	/* The main thread's only: its watch on a write that makes no progress (output.c). */
	uint64_t seen_bytes;	 /* bytes out at its last look */
	uint64_t still_since_ns; /* since when they have not moved in a write */
	uint64_t woken_ns;	 /* when it last interrupted the write to see */
	uint64_t events_bytes;	 /* bytes out at the last throughput event (save-events.c) */
};

/*
 * The expected stop-copy time: what the devices say is left over the
 * measured rate of the slowest path (downtime.c). ns is
 * SAVE_ESTIMATE_UNKNOWN until a rate was measured.
 */
#define SAVE_ESTIMATE_UNKNOWN UINT64_MAX
struct save_estimate {
	uint64_t ns;
	uint64_t bytes;		/* left, over every device */
	uint64_t read_rate;	/* bytes/s of the slowest device, 0: not measured */
	uint64_t channel_rate;	/* bytes/s of the channels together, 0: not measured */
	const char *bottleneck; /* "device-read", "channel-write" or NULL */
};

struct save_result {
	enum save_switch_reason reason;
	uint64_t rounds;
	uint64_t start_ns, switch_ns, stop_copy_done_ns, end_ns;
	uint64_t stream_bytes;
	bool stream_complete;	       /* STREAM_END written */
	bool recovered;		       /* every touched device reached its recovery state */
	bool destination_failed;       /* the return path said no, or went silent */
	bool load_confirmed;	       /* the destination's LOAD_RESULT said loaded */
	uint64_t queue_peak;	       /* bytes of buffers out at once, at most */
	uint64_t adaptive_raw;	       /* DATA records sent raw by the adaptive rule */
	struct save_estimate estimate; /* of the stop-copy time, at the switchover */
};

struct save_ctx {
	/* immutable after start */
	struct save_opts opts;
	const char *output_name; /* "<stdout>" or the first -o file, for messages */
	struct save_device *devs;
	unsigned int ndevs;
	struct save_channel *channels; /* one: a whole stream; more: a set */
	unsigned int nchannels;
	struct return_path *rp;	   /* NULL without --return-fd */
	const char *return_name;   /* -o ADDRESS: the replies' channel, for messages; else NULL */
	struct vmt_events *events; /* --events, or NULL */
	struct chunk_queue *queue; /* has its own lock */
	pthread_t *workers;
	unsigned int nworkers;
	/* the main thread's (the output's threads are joined before it reads them) */
	struct save_result result;
	struct vmt_progress progress;
	uint64_t events_tick_ns; /* the last throughput events (save-events.c) */
	/* Threads: readers, compression workers, channel writers. */
	pthread_mutex_t lock;
	pthread_cond_t changed; /* a job or a thread ended (monotonic timed waits) */
	/* guarded by lock */
	struct vmt_failure failure; /* the first failure, if any */
	unsigned int threads_out;   /* output threads still running */
	/* set by the queue's release of the last item, read after the writers are joined */
	bool finished; /* STREAM_END written on every channel */
	/* atomic */
	atomic_bool cancel; /* the first failure stops everyone */
	/* A channel began to write STREAM_END: a reply may answer the stream now. */
	atomic_bool stream_end_begun;
};

/*
 * Check every device (migration support, state, what the mode needs), write
 * the DEVICE records, run pre-copy and stop-copy, write STREAM_END and move
 * the devices to then_state. On failure the devices are recovered (here,
 * once, whatever failed) and ctx->failure says what failed and where;
 * returns 0 or -errno.
 */
int save_run(struct save_ctx *ctx);

/*
 * --describe: the DEVICE records of every device (as save_run() writes
 * them) and a DEVICE_END of no bytes each, then STREAM_END: what a loader
 * needs to check compatibility (vfio-mig-load --dry-run). No device changes
 * state. Returns 0 or -errno, ctx->result as save_run().
 */
int save_describe(struct save_ctx *ctx);

/* "threshold", "max-rounds", ... */
const char *save_switch_reason_name(enum save_switch_reason reason);

#endif
