/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The listening side of the transport (vfio-mig-load --listen ADDRESS,
 * migstream-cat ADDRESS): a listener on one address that admits exactly
 * the channels of one set (net/admission.h) and refuses everyone else
 * with one reason each, told to the tool's refused() (a plain peer on a
 * TLS listener, a failed handshake, garbage, another set, a channel
 * beyond n or taken, a peer silent past the handshake timeout). Each
 * connection is handled in a thread of its own, so a stalled stranger
 * delays no one; the listener keeps refusing strangers until it is
 * closed, after the migration.
 */
#ifndef VMT_NET_LISTEN_SET_H
#define VMT_NET_LISTEN_SET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/conn.h"

struct vmt_net_listen_set;

/* Told from a connection's thread: peer refused for why. */
typedef void (*vmt_net_refused_fn)(void *ctx, const char *peer, const char *why);

/*
 * Listens on address with opts' security (the credentials are loaded
 * now): 0, or -errno with err saying why ("tcp::4444: cannot listen:
 * Address already in use").
 */
int vmt_net_listen_set_open(struct vmt_net_listen_set **out, const char *address,
			    const struct vmt_net_opts *opts, vmt_net_refused_fn refused,
			    void *refused_ctx, char *err, size_t errlen);
/*
 * Waits until every channel of the set is admitted: 0, or -EINTR as soon
 * as stop() says so (asked every 100 ms).
 */
int vmt_net_listen_set_wait(struct vmt_net_listen_set *s, int (*stop)(void));
/* The set's channel count, each channel's fd (the tool's end) and name ("tcp::4444 channel 1"). */
unsigned int vmt_net_listen_set_count(const struct vmt_net_listen_set *s);
int vmt_net_listen_set_fd(const struct vmt_net_listen_set *s, unsigned int channel);
const char *vmt_net_listen_set_name(const struct vmt_net_listen_set *s, unsigned int channel);
/*
 * The first error of a channel's connection so far (0: none), in err with
 * the channel and peer.
 */
int vmt_net_listen_set_error(struct vmt_net_listen_set *s, char *err, size_t errlen);
/*
 * The tool is done: channel 0's replies are ended (its fd shut down for
 * writing) and delivered within timeout_ns; the peer's ends are waited
 * for as long, then whatever remains is dropped. 0, or the error of the
 * replies' delivery, in err.
 */
int vmt_net_listen_set_finish(struct vmt_net_listen_set *s, uint64_t timeout_ns, char *err,
			      size_t errlen);
/* Stops listening, drops every connection, frees s. */
void vmt_net_listen_set_close(struct vmt_net_listen_set *s);

#endif
