// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Connecting the channels of a set; see dial.h.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/address.h"
#include "net/connect.h"
#include "net/dial.h"

static int dial_one(struct vmt_net_dial *d, unsigned int i, const struct vmt_net_address *a,
		    const struct vmt_tls_creds *creds, const struct vmt_net_opts *opts,
		    int (*stop)(void), char *why, size_t whylen)
{
	struct vmt_net_conn conn;
	/* Only a name is checked against a certificate; a unix: peer has none. */
	const char *peer_name = a->kind == VMT_NET_TCP ? a->host : NULL;
	int fd, ret;

	fd = vmt_net_connect(a, opts->connect_timeout_ns, stop, why, whylen);
	if (fd < 0)
		return fd;
	ret = vmt_net_conn_start(&conn, fd, creds, peer_name, opts->handshake_timeout_ns, why,
				 whylen);
	if (ret < 0)
		return ret;
	ret = vmt_net_pump_start(&d->pumps[i], &conn,
				 i == 0 ? VMT_NET_PUMP_OUT | VMT_NET_PUMP_IN : VMT_NET_PUMP_OUT,
				 NULL, 0, &d->fds[i]);
	if (ret < 0) {
		vmt_net_conn_close(&conn);
		snprintf(why, whylen, "%s", strerror(-ret));
	}
	return ret;
}

int vmt_net_dial(struct vmt_net_dial *d, const char *address, unsigned int count,
		 const struct vmt_net_opts *opts, int (*stop)(void), char *err, size_t errlen)
{
	struct vmt_net_address a;
	struct vmt_tls_creds *creds;
	char why[512];
	int ret;

	*d = (struct vmt_net_dial){ .count = 0 };
	for (unsigned int i = 0; i < MIGSTREAM_MAX_CHANNELS; i++)
		d->fds[i] = -1;
	ret = vmt_net_address_parse(address, &a, why, sizeof(why));
	if (ret == 0)
		ret = vmt_net_creds_load(&creds, opts, VMT_TLS_CLIENT, why, sizeof(why));
	if (ret < 0) {
		snprintf(err, errlen, "%s: %s", address, why);
		return ret;
	}
	for (unsigned int i = 0; i < count && ret == 0; i++) {
		ret = dial_one(d, i, &a, creds, opts, stop, why, sizeof(why));
		if (ret == 0)
			d->count = i + 1;
		else if (count > 1)
			snprintf(err, errlen, "%s channel %u: %s", address, i, why);
		else
			snprintf(err, errlen, "%s: %s", address, why);
	}
	if (creds)
		vmt_tls_creds_free(creds);
	if (ret < 0)
		vmt_net_dial_free(d);
	return ret;
}

static int say_pump_error(struct vmt_net_dial *d, unsigned int i, int ret, const char *why,
			  char *err, size_t errlen)
{
	snprintf(err, errlen, "channel %u (peer %s): %s", i, vmt_net_pump_peer(d->pumps[i]), why);
	return ret;
}

int vmt_net_dial_finish(struct vmt_net_dial *d, uint64_t timeout_ns, char *err, size_t errlen)
{
	char why[512];
	int first = 0, ret;

	for (unsigned int i = 0; i < d->count; i++)
		if (d->fds[i] >= 0)
			shutdown(d->fds[i], SHUT_WR);
	for (unsigned int i = 0; i < d->count; i++) {
		ret = vmt_net_pump_finish(d->pumps[i], timeout_ns, why, sizeof(why));
		if (ret < 0 && !first)
			first = say_pump_error(d, i, ret, why, err, errlen);
	}
	return first;
}

int vmt_net_dial_error(struct vmt_net_dial *d, char *err, size_t errlen)
{
	char why[512];
	int ret;

	for (unsigned int i = 0; i < d->count; i++)
		if ((ret = vmt_net_pump_error(d->pumps[i], why, sizeof(why))) < 0)
			return say_pump_error(d, i, ret, why, err, errlen);
	return 0;
}

void vmt_net_dial_free(struct vmt_net_dial *d)
{
	for (unsigned int i = 0; i < MIGSTREAM_MAX_CHANNELS; i++) {
		if (d->fds[i] >= 0)
			close(d->fds[i]);
		d->fds[i] = -1;
		vmt_net_pump_free(d->pumps[i]);
		d->pumps[i] = NULL;
	}
	d->count = 0;
}
