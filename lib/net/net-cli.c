// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The transport's options; see net-cli.h.
 */
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "common/strutils.h"
#include "net/address.h"
#include "net/net-cli.h"

void vmt_net_cli_init(struct vmt_net_opts *o)
{
	*o = (struct vmt_net_opts){
		.connect_timeout_ns = VMT_NET_CONNECT_TIMEOUT_NS,
		.handshake_timeout_ns = VMT_NET_HANDSHAKE_TIMEOUT_NS,
	};
}

static uint64_t positive_duration(const char *arg, const char *option)
{
	uint64_t ns = vmt_duration_ns_or_usage(arg, option);

	if (!ns)
		vmt_usage_error("invalid %s argument: '%s' (must be more than 0)", option, arg);
	return ns;
}

bool vmt_net_cli_take(struct vmt_net_opts *o, int base, int opt, const char *arg)
{
	switch (opt - base) {
	case 0:
		o->tls_creds = arg;
		return true;
	case 1:
		o->tls_psk = arg;
		return true;
	case 2:
		o->insecure_no_tls = true;
		return true;
	case 3:
		o->connect_timeout_ns = positive_duration(arg, "--connect-timeout");
		o->connect_timeout_set = true;
		return true;
	case 4:
		o->handshake_timeout_ns = positive_duration(arg, "--handshake-timeout");
		o->handshake_timeout_set = true;
		return true;
	}
	return false;
}

void vmt_net_cli_check(const struct vmt_net_opts *o, const char *address, bool connecting)
{
	bool tls = o->tls_creds || o->tls_psk;
	struct vmt_net_address a;
	char why[256];

	if (o->tls_creds && o->tls_psk)
		vmt_usage_error("--tls-creds and --tls-psk cannot be combined");
	if (!address) {
		if (tls || o->insecure_no_tls || o->connect_timeout_set || o->handshake_timeout_set)
			vmt_usage_error(
				"--tls-creds, --tls-psk, --insecure-no-tls and the timeouts are for an address (tcp:HOST:PORT or unix:PATH), not a file");
		return;
	}
	if (vmt_net_address_parse(address, &a, why, sizeof(why)) < 0)
		vmt_usage_error("invalid address '%s': %s", address, why);
	if (a.kind == VMT_NET_TCP && !tls && !o->insecure_no_tls)
		vmt_usage_error(
			"%s: tcp: needs --tls-creds DIR or --tls-psk FILE (or --insecure-no-tls to send the stream in the clear)",
			address);
	if (tls && o->insecure_no_tls)
		vmt_usage_error("--insecure-no-tls and --tls-creds/--tls-psk cannot be combined");
	if (o->connect_timeout_set && !connecting)
		vmt_usage_error(
			"--connect-timeout is for an address connected to (an output), not one listened on");
	if (connecting && a.kind == VMT_NET_TCP && !a.host[0])
		vmt_usage_error("%s: a connection needs a host (tcp:HOST:PORT)", address);
}
