/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Connecting to an address, so that the two ends may start in either
 * order: a refused connection (no listener yet) or a unix: socket that
 * does not exist yet is tried again every 100 ms until the timeout
 * (--connect-timeout). Any other failure is at once.
 */
#ifndef VMT_NET_CONNECT_H
#define VMT_NET_CONNECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/address.h"

/*
 * A connected socket (close-on-exec), or -errno with the reason in err
 * (-ETIMEDOUT: refused until the timeout). stop, when not NULL, is asked
 * between tries: true gives up with -EINTR.
 */
int vmt_net_connect(const struct vmt_net_address *a, uint64_t timeout_ns, int (*stop)(void),
		    char *err, size_t errlen);

#endif
