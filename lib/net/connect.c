// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Connecting with retries; see connect.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/c.h"
#include "common/timeutil.h"
#include "net/connect.h"

#define RETRY_NS (100 * NSEC_PER_MSEC)

/* Whether the other end may just not be there yet. */
static bool worth_retrying(int err)
{
	return err == -ECONNREFUSED || err == -ENOENT || err == -ECONNRESET;
}

static int wait_connected(int fd, uint64_t deadline)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	uint64_t now = vmt_monotonic_ns();
	int ms = now < deadline ? (int)((deadline - now) / NSEC_PER_MSEC) + 1 : 0;
	int err = 0;
	socklen_t len = sizeof(err);

	if (poll(&pfd, 1, ms) <= 0)
		return -ETIMEDOUT;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		return -errno;
	return -err;
}

/* One attempt on one resolved address, bounded by the deadline: the fd or -errno. */
static int connect_once(const struct sockaddr *sa, socklen_t len, int family, uint64_t deadline)
{
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int err = 0, one = 1;

	if (fd < 0)
		return -errno;
	if (family != AF_UNIX)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, sa, len) < 0)
		err = errno == EINPROGRESS ? wait_connected(fd, deadline) : -errno;
	if (!err && fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0)
		err = -errno;
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

static int connect_unix(const struct vmt_net_address *a, uint64_t deadline)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };

	memcpy(sun.sun_path, a->path, sizeof(sun.sun_path));
	return connect_once((struct sockaddr *)&sun, sizeof(sun), AF_UNIX, deadline);
}

/* Every address the name resolves to, in order: the first that connects. */
static int connect_tcp(const struct vmt_net_address *a, uint64_t deadline, char *err, size_t errlen)
{
	const struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG };
	struct addrinfo *res, *ai;
	int fd = -ECONNREFUSED, ret;

	ret = getaddrinfo(a->host[0] ? a->host : NULL, a->port, &hints, &res);
	if (ret) {
		snprintf(err, errlen, "cannot resolve '%s': %s", a->host, gai_strerror(ret));
		return ret == EAI_SYSTEM ? -errno : -EHOSTUNREACH;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		fd = connect_once(ai->ai_addr, ai->ai_addrlen, ai->ai_family, deadline);
		if (fd >= 0)
			break;
	}
	freeaddrinfo(res);
	return fd;
}

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = { .tv_sec = (time_t)(ns / NSEC_PER_SEC),
			       .tv_nsec = (long)(ns % NSEC_PER_SEC) };

	nanosleep(&ts, NULL);
}

int vmt_net_connect(const struct vmt_net_address *a, uint64_t timeout_ns, int (*stop)(void),
		    char *err, size_t errlen)
{
	uint64_t start = vmt_monotonic_ns(), deadline = start + timeout_ns;
	int fd;

	err[0] = '\0';
	for (;;) {
		fd = a->kind == VMT_NET_UNIX ? connect_unix(a, deadline)
					     : connect_tcp(a, deadline, err, errlen);
		if (fd >= 0 || err[0])
			return fd;
		if (!worth_retrying(fd)) {
			snprintf(err, errlen, "cannot connect: %s", strerror(-fd));
			return fd;
		}
		if (vmt_monotonic_ns() + RETRY_NS > deadline) {
			snprintf(err, errlen, "no one listening after %.1f s (%s)",
				 (double)timeout_ns / 1e9, strerror(-fd));
			return -ETIMEDOUT;
		}
		if (stop && stop()) {
			snprintf(err, errlen, "interrupted");
			return -EINTR;
		}
		sleep_ns(RETRY_NS);
	}
}
