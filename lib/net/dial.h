/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The connecting side of the transport (vfio-mig-save -o ADDRESS,
 * migstream-cat -o ADDRESS): n connections to one address, the n channels
 * of one set, each through a pump (net/pump.h); channel 0's pump carries
 * the return path back as well.
 */
#ifndef VMT_NET_DIAL_H
#define VMT_NET_DIAL_H

#include <stdbool.h>
#include <stddef.h>

#include "net/conn.h"
#include "net/pump.h"
#include "stream/migstream.h"

struct vmt_net_dial {
	unsigned int count;
	int fds[MIGSTREAM_MAX_CHANNELS]; /* the tool's end of each channel */
	struct vmt_net_pump *pumps[MIGSTREAM_MAX_CHANNELS];
};

/*
 * Connects count channels to address with opts (each retried up to the
 * connect timeout, each handshake bounded by the handshake timeout). stop,
 * when not NULL, ends the retries. 0, or -errno with err naming the
 * channel and the reason; nothing stays open then.
 */
int vmt_net_dial(struct vmt_net_dial *d, const char *address, unsigned int count,
		 const struct vmt_net_opts *opts, int (*stop)(void), char *err, size_t errlen);
/*
 * The tool wrote all it had (its ends are shut down for writing here):
 * waits up to timeout_ns for every pump to deliver and end. 0, or the
 * first error with err naming the channel and its peer.
 */
int vmt_net_dial_finish(struct vmt_net_dial *d, uint64_t timeout_ns, char *err, size_t errlen);
/* The first pump error so far, said in err with its channel and peer; 0: none. */
int vmt_net_dial_error(struct vmt_net_dial *d, char *err, size_t errlen);
/* Aborts what still runs and frees everything; the tool's ends are closed if open. */
void vmt_net_dial_free(struct vmt_net_dial *d);

#endif
