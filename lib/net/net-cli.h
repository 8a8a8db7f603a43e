/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The transport's options, the same in every tool that takes an address
 * (vfio-mig-save, vfio-mig-load, migstream-cat): their popt rows, their
 * parsing and the usage errors of their combinations, checked before any
 * device is touched.
 */
#ifndef VMT_NET_CLI_H
#define VMT_NET_CLI_H

#include <stdbool.h>

#include "net/conn.h"

/* The option values base .. base + 4 in a tool's table. */
/* clang-format off: one table row a line */
#define VMT_POPT_NET_OPTIONS(base)                                                          \
	{ "tls-creds", '\0', POPT_ARG_STRING, NULL, (base), NULL, NULL },                   \
		{ "tls-psk", '\0', POPT_ARG_STRING, NULL, (base) + 1, NULL, NULL },         \
		{ "insecure-no-tls", '\0', POPT_ARG_NONE, NULL, (base) + 2, NULL, NULL },   \
		{ "connect-timeout", '\0', POPT_ARG_STRING, NULL, (base) + 3, NULL, NULL }, \
	{                                                                                   \
		"handshake-timeout", '\0', POPT_ARG_STRING, NULL, (base) + 4, NULL, NULL    \
	}
/* clang-format on */
#define VMT_NET_OPTION_COUNT 5

/* The options' lines of --help (column 29, as the tools' other lines): a listener's. */
#define VMT_NET_USAGE_OPTIONS                                                            \
	"     --tls-creds DIR        TLS with the x509 files of DIR (QEMU's layout)\n"   \
	"     --tls-psk FILE         TLS with a pre-shared key (QEMU's keys.psk)\n"      \
	"     --insecure-no-tls      allow tcp: without TLS (anyone on the path reads\n" \
	"                            and may change the stream)\n"                       \
	"     --handshake-timeout T  longest TLS handshake and first record (default 10s)\n"
/* And the line a connecting tool adds. */
#define VMT_NET_USAGE_CONNECT_TIMEOUT \
	"     --connect-timeout T    retry a refused connection this long (default 30s)\n"

/* The defaults, before the options. */
void vmt_net_cli_init(struct vmt_net_opts *o);
/* true when opt (base ..) was one of the transport's, taken into o. */
bool vmt_net_cli_take(struct vmt_net_opts *o, int base, int opt, const char *arg);
/*
 * The usage errors: address (NULL when the tool was given none) and the
 * options together. tcp: without TLS needs --insecure-no-tls; the TLS
 * options need an address and not both; connecting is for outputs only
 * (connecting: whether the address is one the tool connects to).
 */
void vmt_net_cli_check(const struct vmt_net_opts *o, const char *address, bool connecting);

#endif
