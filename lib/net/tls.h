/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * TLS for the socket transport, on gnutls, with QEMU's credentials as they
 * are on disk: a directory in the x509 layout (ca-cert.pem, optional
 * ca-crl.pem; server-cert.pem, server-key.pem on the listening side;
 * client-cert.pem, client-key.pem on the connecting side) or a keys.psk
 * file (lines IDENTITY:HEXKEY). TLS 1.3 only; with x509 each side verifies
 * the other against the CA, and the client the server's name as well.
 *
 * One session per connection. A session may be used by two threads at
 * once, one sending and one receiving (gnutls allows it); nothing else is
 * shared, so each channel encrypts in its own thread.
 *
 * Errors: -errno, with a one-line reason in the caller's err buffer where
 * one is given ("wrong PSK", "certificate not signed by ca-cert.pem", ...).
 */
#ifndef VMT_NET_TLS_H
#define VMT_NET_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

enum vmt_tls_role {
	VMT_TLS_CLIENT, /* connects: vfio-mig-save -o tcp:..., migstream-cat -o tcp:... */
	VMT_TLS_SERVER, /* listens: vfio-mig-load --listen, migstream-cat tcp::PORT */
};

struct vmt_tls_creds;
struct vmt_tls_session;

/*
 * --tls-creds DIR: the files of role's side and the CA, loaded and checked
 * now (a missing or unreadable file is named in err), so that a bad
 * directory fails before any device is touched.
 */
int vmt_tls_creds_load_x509(struct vmt_tls_creds **out, const char *dir, enum vmt_tls_role role,
			    char *err, size_t errlen);
/*
 * --tls-psk FILE: a client uses the file's first identity; a server
 * accepts any identity the file holds. Malformed lines are refused with
 * their line number.
 */
int vmt_tls_creds_load_psk(struct vmt_tls_creds **out, const char *file, enum vmt_tls_role role,
			   char *err, size_t errlen);
void vmt_tls_creds_free(struct vmt_tls_creds *creds);

/*
 * The handshake on a connected socket, given up after timeout_ms. With
 * x509 a client checks the server's certificate against peer_name (the
 * HOST of tcp:HOST:PORT; NULL skips the name check, as for unix:). On
 * failure the socket is left to the caller and err says why in words a
 * log line can use: "handshake timed out after 10 s", "peer is not
 * speaking TLS", "peer's certificate is not signed by our CA", ...
 */
int vmt_tls_session_start(struct vmt_tls_session **out, const struct vmt_tls_creds *creds, int fd,
			  const char *peer_name, int timeout_ms, char *err, size_t errlen);
/* The peer's identity for logs: the PSK identity or the certificate's DN. */
const char *vmt_tls_peer_identity(const struct vmt_tls_session *s);

/* Up to len bytes sent: the count, or -errno (-EPIPE, -ECONNRESET, -EIO). */
ssize_t vmt_tls_send(struct vmt_tls_session *s, const void *buf, size_t len);
/* Up to len bytes: the count, 0 at the peer's orderly close, or -errno. */
ssize_t vmt_tls_recv(struct vmt_tls_session *s, void *buf, size_t len);
/* Our side is done sending (close_notify); the peer may still send. */
int vmt_tls_shutdown_write(struct vmt_tls_session *s);
/* The last error's words (after a send or recv failed). */
const char *vmt_tls_last_error(const struct vmt_tls_session *s);
/* Frees the session; the fd stays the caller's to close. */
void vmt_tls_session_free(struct vmt_tls_session *s);

#endif
