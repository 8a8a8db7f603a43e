// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Listening sockets; see listener.h.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "net/listener.h"

#define BACKLOG 64

static int fail(char *err, size_t errlen, int ret, const char *what)
{
	snprintf(err, errlen, "%s: %s", what, strerror(-ret));
	return ret;
}

static int bind_and_listen(int fd, const struct sockaddr *sa, socklen_t len, char *err,
			   size_t errlen)
{
	if (bind(fd, sa, len) < 0 || listen(fd, BACKLOG) < 0) {
		int ret = -errno;

		close(fd);
		return fail(err, errlen, ret, "cannot listen");
	}
	return fd;
}

static int listen_unix(const struct vmt_net_address *a, char *err, size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	mode_t old_mask;
	int fd, ret;

	if (lstat(a->path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "%s exists and is not a socket", a->path);
			return -EEXIST;
		}
		unlink(a->path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail(err, errlen, -errno, "socket");
	memcpy(sun.sun_path, a->path, sizeof(sun.sun_path));
	/* 0600 from the moment it exists: no window in which another user may connect. */
	old_mask = umask(0177);
	ret = bind_and_listen(fd, (struct sockaddr *)&sun, sizeof(sun), err, errlen);
	umask(old_mask);
	return ret;
}

/* tcp::PORT: IPv6 that takes IPv4 too, or IPv4 alone where there is no IPv6. */
static int listen_any(const struct vmt_net_address *a, char *err, size_t errlen)
{
	struct sockaddr_in6 in6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_ANY_INIT };
	struct sockaddr_in in = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY) };
	int one = 1, zero = 0;
	int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	uint16_t port = htons((uint16_t)atoi(a->port));

	in6.sin6_port = port;
	in.sin_port = port;
	if (fd >= 0) {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
		return bind_and_listen(fd, (struct sockaddr *)&in6, sizeof(in6), err, errlen);
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail(err, errlen, -errno, "socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	return bind_and_listen(fd, (struct sockaddr *)&in, sizeof(in), err, errlen);
}

/* tcp:HOST:PORT: HOST's first address only. */
static int listen_host(const struct vmt_net_address *a, char *err, size_t errlen)
{
	const struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE };
	struct addrinfo *res;
	int fd, one = 1, ret;

	ret = getaddrinfo(a->host, a->port, &hints, &res);
	if (ret) {
		snprintf(err, errlen, "cannot resolve '%s': %s", a->host, gai_strerror(ret));
		return -EHOSTUNREACH;
	}
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ret = -errno;
		freeaddrinfo(res);
		return fail(err, errlen, ret, "socket");
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	fd = bind_and_listen(fd, res->ai_addr, res->ai_addrlen, err, errlen);
	freeaddrinfo(res);
	return fd;
}

int vmt_net_listen(const struct vmt_net_address *a, char *err, size_t errlen)
{
	if (a->kind == VMT_NET_UNIX)
		return listen_unix(a, err, errlen);
	return a->host[0] ? listen_host(a, err, errlen) : listen_any(a, err, errlen);
}

void vmt_net_listen_close(int fd, const struct vmt_net_address *a)
{
	if (fd < 0)
		return;
	close(fd);
	if (a->kind == VMT_NET_UNIX)
		unlink(a->path);
}
