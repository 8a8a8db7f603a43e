/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A connection seen by a tool as a plain fd: a pump moves bytes between
 * the connection (plain or TLS) and one end of a socketpair; the tool
 * reads and writes the other end as it would a pipe, so the save and load
 * engines need not know a socket or TLS. One thread per direction: the
 * stream's direction does that channel's encryption alone; channel 0 has
 * a second one for the return path.
 *
 * End of stream, both ways: the tool's shutdown(SHUT_WR) of its end (or
 * its close) becomes the connection's (a FIN, or TLS close_notify); the
 * peer's orderly end becomes end of file on the tool's end. A connection
 * that breaks (a reset, a TLS record cut without close_notify) shuts the
 * tool's end down both ways, so that the tool's read ends early (a
 * truncated stream, never a clean one) and its write fails (EPIPE); the
 * pump's error then says what happened to the connection.
 */
#ifndef VMT_NET_PUMP_H
#define VMT_NET_PUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/conn.h"

enum vmt_net_pump_dirs {
	VMT_NET_PUMP_OUT = 1, /* tool -> connection */
	VMT_NET_PUMP_IN = 2,  /* connection -> tool */
};

struct vmt_net_pump;

/*
 * Takes conn (the pump closes it) and starts dirs. prefix: bytes already
 * received from the connection (the admission's), delivered to the tool
 * first. *local_fd: the tool's end, close-on-exec. 0 or -errno.
 */
int vmt_net_pump_start(struct vmt_net_pump **out, struct vmt_net_conn *conn, unsigned int dirs,
		       const void *prefix, size_t prefix_len, int *local_fd);
/*
 * Waits up to timeout_ns for every direction to end (OUT ends once the
 * tool shut its end down and the bytes are delivered), then aborts what
 * still runs. 0 when each ended cleanly; else the first error, said in
 * err ("connection reset by peer", "timed out delivering the stream").
 */
int vmt_net_pump_finish(struct vmt_net_pump *p, uint64_t timeout_ns, char *err, size_t errlen);
/* Whether the directions in dirs ended within timeout_ns (nothing is aborted). */
bool vmt_net_pump_wait(struct vmt_net_pump *p, unsigned int dirs, uint64_t timeout_ns);
/*
 * Aborts what still runs, as not wanted (no error for it), and joins:
 * the error met before, if any (0: none).
 */
int vmt_net_pump_stop(struct vmt_net_pump *p, char *err, size_t errlen);
/* The first error met so far (0: none), said in err: for a tool whose read or write failed. */
int vmt_net_pump_error(struct vmt_net_pump *p, char *err, size_t errlen);
/* The peer, for messages. */
const char *vmt_net_pump_peer(const struct vmt_net_pump *p);
/* Bytes sent and received on the connection. */
uint64_t vmt_net_pump_bytes_out(const struct vmt_net_pump *p);
void vmt_net_pump_free(struct vmt_net_pump *p);

#endif
