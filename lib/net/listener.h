/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A listening socket on exactly the address given: tcp:HOST:PORT binds
 * HOST's address only, tcp::PORT every address (IPv6 and IPv4), unix:PATH
 * creates PATH with mode 0600 from the start (the umask is set around the
 * bind, before any thread runs) and refuses a PATH that exists and is not
 * a socket; an old socket there (a listener that died) is replaced.
 */
#ifndef VMT_NET_LISTENER_H
#define VMT_NET_LISTENER_H

#include <stddef.h>

#include "net/address.h"

/* The listening fd (close-on-exec), or -errno with the reason in err. */
int vmt_net_listen(const struct vmt_net_address *a, char *err, size_t errlen);
/* Closes it; a unix: socket's path is removed. */
void vmt_net_listen_close(int fd, const struct vmt_net_address *a);

#endif
