/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The flight recorder (--events FILE, vfio-mig-events(5)): one JSON object
 * per line, written as it happens, so that a tool killed at any moment
 * leaves every event it had written, each line whole.
 *
 * Each line is one write(2) to a file opened O_APPEND, under a mutex (the
 * save's reader and writer threads record too); nothing is buffered in
 * the process. No line crosses a 4 KiB boundary of the file (a blank line
 * pads up to it): a write killed by SIGKILL stops at such a boundary. The file is bounded: when the next line would take it past
 * the cap, the oldest detail (per-second throughput samples first, then
 * pre-copy rounds) is thinned, every other line of the older half at a
 * time, and the file is rewritten through a temporary renamed over it (a
 * kill meanwhile leaves the old file whole). Events of the other kinds
 * (state arcs, failures, the exit, ...) are never dropped: they are few
 * (bounded by the devices and their arcs), and the cap may be passed by
 * them alone. A "dropped" event says what was thinned.
 *
 * A file that is not a regular one (a FIFO, /dev/stderr) cannot be
 * rewritten: there the detail past the cap is dropped as it comes.
 */
#ifndef VMT_EVENTS_H
#define VMT_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json_object.h>

/* The cap of vfio-mig-events(5): 4 MiB. */
#define VMT_EVENTS_DEFAULT_CAP (4u << 20)

/* Every kind of event; vfio-mig-events(5) gives each one's fields. */
enum vmt_event_kind {
	VMT_EV_START,	       /* the tool began */
	VMT_EV_ARC,	       /* a device state change asked for, its duration and result */
	VMT_EV_IOCTL_FAILED,   /* a VFIO ioctl failed, with errno */
	VMT_EV_IO_FAILED,      /* a read or write of a device's data fd failed, with errno */
	VMT_EV_PRECOPY_ROUND,  /* one pre-copy pass of a device (detail) */
	VMT_EV_SWITCHOVER,     /* the trigger and the estimate at that moment */
	VMT_EV_DEVICE_DATA,    /* a device's data of one phase, read or written, done */
	VMT_EV_THROUGHPUT,     /* a channel's bytes in the last second (detail) */
	VMT_EV_CHANNEL_DONE,   /* a channel carried its last byte (STREAM_END) */
	VMT_EV_REPLY_SENT,     /* a reply record sent on the return path */
	VMT_EV_REPLY_RECEIVED, /* a reply record received on the return path */
	VMT_EV_RECOVERY,       /* a step of putting a device back after a failure */
	VMT_EV_FAILURE,	       /* the failure of the run, as the error line says it */
	VMT_EV_EXIT,	       /* the exit code and the one-line outcome */
	VMT_EV_DROPPED,	       /* what the cap thinned so far */
	VMT_EV_STOP_COPY,      /* stop-copy done: expected against measured */
	VMT_EV_CLOCK_OFFSET,   /* the peer's clock against ours, from a return-path round trip */
	VMT_EV_LOAD_EVENT,     /* an event line of the loader, sent back on the return path */
	VMT_EV_KINDS
};

/* "arc", "ioctl-failed", ... as the lines spell them. */
const char *vmt_event_kind_name(enum vmt_event_kind kind);
/* Whether the cap may thin this kind (throughput, precopy-round). */
bool vmt_event_kind_is_detail(enum vmt_event_kind kind);

struct vmt_events;

/*
 * Open (create, or append to) path for tool ("vfio-mig-save"), bounded
 * to cap bytes (0: VMT_EVENTS_DEFAULT_CAP), and write a "start" event.
 * 0 or -errno.
 */
int vmt_events_open(struct vmt_events **out, const char *path, const char *tool, uint64_t cap);

/*
 * Record one event: fields (may be NULL; taken, freed here) gets the
 * common keys first, device when not NULL. Safe from any thread; a NULL
 * ev records nothing, so callers need no test. A write that fails is
 * remembered (vmt_events_close says it) and later events are not tried.
 */
void vmt_events_emit(struct vmt_events *ev, enum vmt_event_kind kind, const char *device,
		     struct json_object *fields);

/* A new object for vmt_events_emit's fields; NULL without memory (emit copes). */
struct json_object *vmt_event_fields(void);

/*
 * An "io-failed" event: call ("read", "write") on device's data fd in
 * state failed with err (-errno) at offset (the device's bytes before it).
 */
void vmt_events_io_failed(struct vmt_events *ev, const char *device, const char *call,
			  const char *state, uint64_t offset, int err);

struct vmt_failure;

/*
 * The end of a run: a "failure" event when f records one (line: the error
 * line the tool said), then the "exit" event with code and the one-line
 * outcome (line when it failed, ok_outcome otherwise).
 */
void vmt_events_exit(struct vmt_events *ev, int code, const struct vmt_failure *f, const char *line,
		     const char *ok_outcome);

/* Bytes the file holds (as this process wrote it) and detail lines dropped so far. */
uint64_t vmt_events_size(const struct vmt_events *ev);
uint64_t vmt_events_dropped(const struct vmt_events *ev);

/*
 * Close; NULL does nothing. 0, or the -errno of the first write that failed
 * (the caller warns: the file lacks events).
 */
int vmt_events_close(struct vmt_events *ev);

/*
 * Called with each line as it is written (text, len bytes, its newline
 * included; not kept past the call), under the events' lock: a tap must
 * not record events itself. The load's return path sends its lines back.
 */
typedef void vmt_events_tap_fn(void *arg, enum vmt_event_kind kind, const char *text, size_t len);
void vmt_events_set_tap(struct vmt_events *ev, vmt_events_tap_fn *tap, void *arg);

/* The name the tool was given, for messages. */
const char *vmt_events_path(const struct vmt_events *ev);

#endif
