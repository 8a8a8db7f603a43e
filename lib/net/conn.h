/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One connection of the transport, plain or TLS (net/tls.h): what the
 * admission and the pumps send and receive through, without caring which.
 * Also the security a tool was given (--tls-creds, --tls-psk,
 * --insecure-no-tls) and its timeouts.
 */
#ifndef VMT_NET_CONN_H
#define VMT_NET_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "net/tls.h"

/* The defaults of --connect-timeout and --handshake-timeout. */
#define VMT_NET_CONNECT_TIMEOUT_NS (30ull * 1000000000)
#define VMT_NET_HANDSHAKE_TIMEOUT_NS (10ull * 1000000000)

struct vmt_net_opts {
	const char *tls_creds; /* --tls-creds DIR, or NULL */
	const char *tls_psk;   /* --tls-psk FILE, or NULL */
	bool insecure_no_tls;  /* --insecure-no-tls */
	uint64_t connect_timeout_ns;
	uint64_t handshake_timeout_ns;
	bool connect_timeout_set, handshake_timeout_set; /* given: only with an address */
};

struct vmt_net_conn {
	int fd;
	struct vmt_tls_session *tls; /* NULL: plain */
	char peer[128];		     /* for messages: "127.0.0.1:40312", "[::1]:40312", "unix" */
};

/*
 * The credentials opts name, loaded for role (NULL in *out when there are
 * none: plain). 0, or -errno with the reason in err.
 */
int vmt_net_creds_load(struct vmt_tls_creds **out, const struct vmt_net_opts *opts,
		       enum vmt_tls_role role, char *err, size_t errlen);

/*
 * Makes c of a connected fd (taken: closed by vmt_net_conn_close) and,
 * with creds, runs the TLS handshake within timeout_ns. 0, or -errno with
 * err saying why (c is then closed).
 */
int vmt_net_conn_start(struct vmt_net_conn *c, int fd, const struct vmt_tls_creds *creds,
		       const char *peer_name, uint64_t timeout_ns, char *err, size_t errlen);
/* send(2)/recv(2) or their TLS forms: the count (recv: 0 at an orderly end) or -errno. */
ssize_t vmt_net_conn_send(struct vmt_net_conn *c, const void *buf, size_t len);
ssize_t vmt_net_conn_recv(struct vmt_net_conn *c, void *buf, size_t len);
/* Done sending (a FIN, or TLS close_notify): the peer reads its end of stream. */
int vmt_net_conn_shutdown_write(struct vmt_net_conn *c);
/* The words for the last failure of a send or recv that returned err. */
const char *vmt_net_conn_error(const struct vmt_net_conn *c, int err);
/* Ends a blocked send or recv in another thread (it fails): the connection is dead. */
void vmt_net_conn_abort(struct vmt_net_conn *c);
void vmt_net_conn_close(struct vmt_net_conn *c);
/* A receive that gives up after timeout_ns (0: waits for ever), for the admission. */
int vmt_net_conn_set_recv_timeout(struct vmt_net_conn *c, uint64_t timeout_ns);

#endif
