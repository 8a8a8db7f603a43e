// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Parsing the transport's addresses; see address.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/address.h"

bool vmt_net_is_address(const char *name)
{
	return name && (strncmp(name, "tcp:", 4) == 0 || strncmp(name, "unix:", 5) == 0);
}

static int refuse(char *err, size_t errlen, const char *why)
{
	snprintf(err, errlen, "%s", why);
	return -EINVAL;
}

static int parse_port(const char *s, struct vmt_net_address *out, char *err, size_t errlen)
{
	char *end;
	long port;

	if (!*s)
		return refuse(err, errlen, "no port (tcp:HOST:PORT or tcp::PORT)");
	errno = 0;
	port = strtol(s, &end, 10);
	if (*end || errno || s[0] == '-' || s[0] == '+')
		return refuse(err, errlen, "the port is not a number");
	if (port < 1 || port > 65535)
		return refuse(err, errlen, "the port is out of range (1-65535)");
	snprintf(out->port, sizeof(out->port), "%ld", port);
	return 0;
}

/* HOST:PORT, HOST being empty, a name, an IPv4 address or [IPv6]. */
static int parse_tcp(const char *s, struct vmt_net_address *out, char *err, size_t errlen)
{
	const char *colon;
	size_t hostlen;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':')
			return refuse(err, errlen, "an IPv6 address is [ADDRESS]:PORT");
		hostlen = (size_t)(close - s - 1);
		if (!hostlen)
			return refuse(err, errlen, "empty IPv6 address");
		s++;
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return refuse(err, errlen, "no port (tcp:HOST:PORT or tcp::PORT)");
		hostlen = (size_t)(colon - s);
		if (memchr(s, ':', hostlen))
			return refuse(err, errlen,
				      "an IPv6 address goes in brackets: tcp:[ADDRESS]:PORT");
	}
	if (hostlen >= sizeof(out->host))
		return refuse(err, errlen, "the host name is too long");
	memcpy(out->host, s, hostlen);
	out->host[hostlen] = '\0';
	out->kind = VMT_NET_TCP;
	return parse_port(colon + 1, out, err, errlen);
}

int vmt_net_address_parse(const char *name, struct vmt_net_address *out, char *err, size_t errlen)
{
	*out = (struct vmt_net_address){ 0 };
	if (strncmp(name, "tcp:", 4) == 0)
		return parse_tcp(name + 4, out, err, errlen);
	if (strncmp(name, "unix:", 5) != 0)
		return refuse(err, errlen,
			      "not an address (tcp:HOST:PORT, tcp::PORT or unix:PATH)");
	name += 5;
	if (!*name)
		return refuse(err, errlen, "unix: needs a path");
	if (strlen(name) >= sizeof(out->path))
		return refuse(err, errlen, "the unix: path is too long");
	out->kind = VMT_NET_UNIX;
	strcpy(out->path, name);
	return 0;
}
