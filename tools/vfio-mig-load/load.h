/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One load, as every part of vfio-mig-load sees it: the options, the input
 * (a stream or the channels of a set), the targets, the record being
 * handled, the summary and the first failure.
 *
 * Threads: the main thread reads the stream and handles every record
 * (load.c); each target has a writer thread (writer.h) that takes its
 * checked chunks in chunk order from a bounded queue, writes them, sends
 * the device's switchover-ack when due, and at DEVICE_END checks the
 * totals and leaves RESUMING. A slow device so holds up only its own
 * queue. A failure on any thread is recorded (failure.h, under fail_lock)
 * and cancels the others: the writers at their next item, the main
 * thread's wait for input through wake_fd. The devices are reset by the
 * report (main.c), after every writer stopped.
 */
#ifndef VMT_LOAD_LOAD_H
#define VMT_LOAD_LOAD_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/failure.h"
#include "common/progress.h"
#include "stream/migstream.h"
#include "options.h"
#include "summary.h"

struct load;
struct load_reply;
struct vmt_events;
struct load_target;
struct migstream_channel_set;
struct vmt_net_listen_set;
struct migstream_reader;

/* What a writer thread's handler needs: its load and its target. */
struct writer_ctx {
	struct load *ld;
	unsigned int index; /* in ld->targets */
};

struct load {
	struct load_options opts;
	const char *input_name; /* of the record being handled: its channel's, with a set */
	int input_fd;
	struct migstream_reader *reader;
	/*
	 * Several -i: the channels of a set, read as one stream by
	 * lib/stream/channel-set (then reader is NULL); the record's channel.
	 */
	struct migstream_channel_set *set;
	/* --listen: the listener and the set it admitted, whose fds are read (input.c) */
	struct vmt_net_listen_set *net;
	const char *channel_names[MIGSTREAM_MAX_CHANNELS];
	int channel_fds[MIGSTREAM_MAX_CHANNELS];
	unsigned int channel_count;
	unsigned int rec_channel;
	uint64_t set_records;
	struct load_target *targets;
	unsigned int target_count;
	/*
	 * Every target's DEVICE record was read, or the stream's first record
	 * of device data came: from here on the targets are RESUMING.
	 */
	bool declared;
	struct load_summary summary;
	struct vmt_progress progress;
	uint64_t input_size;	     /* the progress line's total: a file's size, 0 for a pipe */
	struct migstream_record rec; /* the record being handled, for messages */
	bool have_rec;
	struct vmt_failure failure;    /* the first failure, if any */
	int dry_run_code;	       /* --dry-run: the worst verdict so far, as an exit code */
	struct load_reply *reply;      /* --return-fd, or NULL */
	struct vmt_events *events;     /* --events, or NULL */
	struct writer_ctx *writer_ctx; /* per target */
	pthread_mutex_t fail_lock;     /* failure: recorded by any thread */
	atomic_bool cancelled;	       /* a failure: every thread stops */
	int wake_fd;		       /* eventfd: the cancel ends a wait for input */
	int writers_fd;		       /* eventfd: a writer stopped (load_drain_writers) */
	/* the main thread's: each channel's position and last throughput sample (load-events.c) */
	uint64_t events_pos[MIGSTREAM_MAX_CHANNELS], events_sampled[MIGSTREAM_MAX_CHANNELS];
	uint64_t events_tick_ns;
};

/*
 * The whole load, from opening its input to the LOAD_RESULT: each failure
 * is recorded in ld->failure where it happens; every writer has stopped
 * when this returns, so the devices are the main thread's to recover.
 */
void load_run(struct load *ld);

#endif
