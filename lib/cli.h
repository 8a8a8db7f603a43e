/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The command line every tool shares: -h/--help, -V/--version, -q/--quiet
 * and -v/--verbose in the popt table, handled the same way everywhere, and
 * popt's own errors turned into the one-line usage error (exit 2).
 */
#ifndef VMT_CLI_H
#define VMT_CLI_H

#include <popt.h>
#include <stdbool.h>

/* Far above any tool's own option values, so the two never meet. */
enum vmt_cli_option {
	VMT_OPT_HELP = 0x10000,
	VMT_OPT_VERSION,
	VMT_OPT_QUIET,
	VMT_OPT_VERBOSE,
};

/* The four table entries, for a tool's struct poptOption array. */
#define VMT_POPT_COMMON_OPTIONS                                                    \
	{ "help", 'h', POPT_ARG_NONE, NULL, VMT_OPT_HELP, NULL, NULL },            \
	{ "version", 'V', POPT_ARG_NONE, NULL, VMT_OPT_VERSION, NULL, NULL },      \
	{ "quiet", 'q', POPT_ARG_NONE, NULL, VMT_OPT_QUIET, NULL, NULL },          \
	{ "verbose", 'v', POPT_ARG_NONE, NULL, VMT_OPT_VERBOSE, NULL, NULL }

/*
 * rc from poptGetNextOpt(). For a common option: --help calls usage() and
 * exits, --version prints "PROG (vfio-migtools) VERSION" and exits (both
 * free ctx first and exit 0, or 1 when stdout fails), -q and -v move the
 * log level. Returns whether rc was a common option.
 */
bool vmt_cli_common_option(poptContext ctx, int rc, void (*usage)(void));

/* After the option loop: rc < -1 is a popt error, reported as a usage error. */
void vmt_cli_check_popt_end(poptContext ctx, int rc);

#endif
