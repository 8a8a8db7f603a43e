/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vfio-mig-load's side of the return path (--return-fd): a switchover-ack
 * for each device once all of its initial pre-copy data reached the target
 * device, and one LOAD_RESULT at the end that says whether every device was
 * loaded, verified and left in the state asked for.
 *
 * Thread-safe: the main thread reads the markers, each device's writer
 * thread sends that device's ack once its device took the bytes (the
 * source may wait for the ack before it sends more, so the writer that
 * made it due must send it).
 */
#ifndef VMT_LOAD_REPLY_H
#define VMT_LOAD_REPLY_H

#include <stdint.h>

#include "stream/migstream.h"
#include "target.h"

struct load_reply;

/* A reply stream on fd (its preamble goes out now). 0 or -errno. */
int load_reply_open(struct load_reply **out, int fd, unsigned int target_count);
void load_reply_free(struct load_reply *rp);

struct vmt_events;
/* Record each reply sent as an event (--events); rp may be NULL. */
void load_reply_record_to(struct load_reply *rp, struct vmt_events *ev);

/*
 * An INIT_DATA_SENT record of the forward stream: the device's ack is due
 * once its target has written offset bytes (at once when it has). -EBADMSG
 * for a malformed record or an unknown device, -EPIPE etc. when the ack
 * cannot be written. rp may be NULL (no return path: the record is skipped).
 */
int load_reply_marker(struct load_reply *rp, const struct migstream_record *rec,
		      struct load_target *targets, unsigned int count);
/* After targets[i] wrote bytes (its writer thread): send its ack if it became due. */
int load_reply_written(struct load_reply *rp, struct load_target *targets, unsigned int i);

/*
 * The LOAD_RESULT and the end of the reply stream. exit_code 0 means every
 * target is loaded and in wanted_state; message is the loader's error line.
 * Sent at most once; later calls return 0.
 */
int load_reply_result(struct load_reply *rp, int exit_code, const char *message,
		      const struct load_target *targets, unsigned int count, uint32_t wanted_state);

/*
 * Answer a TIME_PROBE of the forward stream with a TIME_ECHO (t2: now, as
 * the record was just read). 0 without a return path; -EBADMSG for a
 * malformed probe; else what writing the reply did.
 */
int load_reply_time_probe(struct load_reply *rp, const struct migstream_record *rec);

#endif
