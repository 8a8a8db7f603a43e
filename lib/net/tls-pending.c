// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Until lib/net/tls.c (branch tls) is merged: every TLS call says TLS is
 * not built in. Removed by that merge.
 */
#include <errno.h>
#include <stdio.h>

#include "net/tls.h"

static int not_yet(char *err, size_t errlen)
{
	if (err)
		snprintf(err, errlen, "TLS is not built in yet");
	return -ENOTSUP;
}

int vmt_tls_creds_load_x509(struct vmt_tls_creds **out, const char *dir, enum vmt_tls_role role,
			    char *err, size_t errlen)
{
	(void)dir, (void)role;
	*out = NULL;
	return not_yet(err, errlen);
}

int vmt_tls_creds_load_psk(struct vmt_tls_creds **out, const char *file, enum vmt_tls_role role,
			   char *err, size_t errlen)
{
	(void)file, (void)role;
	*out = NULL;
	return not_yet(err, errlen);
}

void vmt_tls_creds_free(struct vmt_tls_creds *creds)
{
	(void)creds;
}

int vmt_tls_session_start(struct vmt_tls_session **out, const struct vmt_tls_creds *creds, int fd,
			  const char *peer_name, int timeout_ms, char *err, size_t errlen)
{
	(void)creds, (void)fd, (void)peer_name, (void)timeout_ms;
	*out = NULL;
	return not_yet(err, errlen);
}

const char *vmt_tls_peer_identity(const struct vmt_tls_session *s)
{
	(void)s;
	return "";
}

ssize_t vmt_tls_send(struct vmt_tls_session *s, const void *buf, size_t len)
{
	(void)s, (void)buf, (void)len;
	return -ENOTSUP;
}

ssize_t vmt_tls_recv(struct vmt_tls_session *s, void *buf, size_t len)
{
	(void)s, (void)buf, (void)len;
	return -ENOTSUP;
}

int vmt_tls_shutdown_write(struct vmt_tls_session *s)
{
	(void)s;
	return -ENOTSUP;
}

const char *vmt_tls_last_error(const struct vmt_tls_session *s)
{
	(void)s;
	return "TLS is not built in yet";
}

void vmt_tls_session_free(struct vmt_tls_session *s)
{
	(void)s;
}
