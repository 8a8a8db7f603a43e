// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A connection, plain or TLS; see conn.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "common/c.h"
#include "net/conn.h"

int vmt_net_creds_load(struct vmt_tls_creds **out, const struct vmt_net_opts *opts,
		       enum vmt_tls_role role, char *err, size_t errlen)
{
	*out = NULL;
	if (opts->tls_creds)
		return vmt_tls_creds_load_x509(out, opts->tls_creds, role, err, errlen);
	if (opts->tls_psk)
		return vmt_tls_creds_load_psk(out, opts->tls_psk, role, err, errlen);
	return 0;
}

/* The peer's address for messages. */
static void name_peer(struct vmt_net_conn *c)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char host[INET6_ADDRSTRLEN] = "?";

	snprintf(c->peer, sizeof(c->peer), "unix");
	if (getpeername(c->fd, (struct sockaddr *)&ss, &len) < 0)
		return;
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;

		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		snprintf(c->peer, sizeof(c->peer), "%s:%u", host, ntohs(in->sin_port));
	} else if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

		/* An IPv4 peer of a tcp::PORT listener (v4-mapped) is shown as IPv4. */
		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
			inet_ntop(AF_INET, &in6->sin6_addr.s6_addr[12], host, sizeof(host));
			snprintf(c->peer, sizeof(c->peer), "%s:%u", host, ntohs(in6->sin6_port));
			return;
		}
		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		snprintf(c->peer, sizeof(c->peer), "[%s]:%u", host, ntohs(in6->sin6_port));
	}
}

int vmt_net_conn_start(struct vmt_net_conn *c, int fd, const struct vmt_tls_creds *creds,
		       const char *peer_name, uint64_t timeout_ns, char *err, size_t errlen)
{
	int ret;

	*c = (struct vmt_net_conn){ .fd = fd };
	name_peer(c);
	if (!creds)
		return 0;
	ret = vmt_tls_session_start(&c->tls, creds, fd, peer_name,
				    (int)(timeout_ns / NSEC_PER_MSEC), err, errlen);
	if (ret < 0) {
		c->tls = NULL;
		vmt_net_conn_close(c);
	}
	return ret;
}

ssize_t vmt_net_conn_send(struct vmt_net_conn *c, const void *buf, size_t len)
{
	ssize_t n;

	if (c->tls)
		return vmt_tls_send(c->tls, buf, len);
	do
		n = send(c->fd, buf, len, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

ssize_t vmt_net_conn_recv(struct vmt_net_conn *c, void *buf, size_t len)
{
	ssize_t n;

	if (c->tls)
		return vmt_tls_recv(c->tls, buf, len);
	do
		n = recv(c->fd, buf, len, 0);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

int vmt_net_conn_shutdown_write(struct vmt_net_conn *c)
{
	int ret = 0;

	if (c->tls)
		ret = vmt_tls_shutdown_write(c->tls);
	if (ret == 0 && shutdown(c->fd, SHUT_WR) < 0 && errno != ENOTCONN)
		ret = -errno;
	return ret;
}

const char *vmt_net_conn_error(const struct vmt_net_conn *c, int err)
{
	if (c->tls && err != -EAGAIN && err != -ETIMEDOUT)
		return vmt_tls_last_error(c->tls);
	if (err == -EAGAIN || err == -ETIMEDOUT)
		return "timed out";
	return strerror(-err);
}

void vmt_net_conn_abort(struct vmt_net_conn *c)
{
	if (c->fd >= 0)
		shutdown(c->fd, SHUT_RDWR);
}

void vmt_net_conn_close(struct vmt_net_conn *c)
{
	if (c->tls)
		vmt_tls_session_free(c->tls);
	c->tls = NULL;
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

int vmt_net_conn_set_recv_timeout(struct vmt_net_conn *c, uint64_t timeout_ns)
{
	struct timeval tv = {
		.tv_sec = (time_t)(timeout_ns / NSEC_PER_SEC),
		.tv_usec = (suseconds_t)(timeout_ns % NSEC_PER_SEC / 1000),
	};

	if (timeout_ns && !tv.tv_sec && !tv.tv_usec)
		tv.tv_usec = 1;
	return setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ? -errno : 0;
}
