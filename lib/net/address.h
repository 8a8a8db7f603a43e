/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The socket transport's addresses, beside a file, "-" and fd:N:
 * tcp:HOST:PORT (HOST a name, an IPv4 address or [IPv6]), tcp::PORT (every
 * address, for a listener) and unix:PATH. Given as an input the address
 * is listened on, as an output it is connected to.
 */
#ifndef VMT_NET_ADDRESS_H
#define VMT_NET_ADDRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/un.h>

enum vmt_net_kind {
	VMT_NET_TCP,
	VMT_NET_UNIX,
};

#define VMT_NET_HOST_MAX 256

struct vmt_net_address {
	enum vmt_net_kind kind;
	char host[VMT_NET_HOST_MAX]; /* tcp: without brackets; "" for tcp::PORT */
	char port[6];		     /* tcp: 1 .. 65535 */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)]; /* unix: */
};

/* Whether name is meant as an address (tcp: or unix:), well formed or not. */
bool vmt_net_is_address(const char *name);
/*
 * Parses name. -EINVAL with the reason in err: "tcp:HOST:PORT needs a
 * port", "port 0 is out of range (1-65535)", "unix: path too long".
 */
int vmt_net_address_parse(const char *name, struct vmt_net_address *out, char *err, size_t errlen);

#endif
