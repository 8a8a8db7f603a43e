/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The command line every tool shares: -h/--help, -V/--version, -q/--quiet
 * and -v/--verbose in the popt table, handled the same way everywhere;
 * popt's errors turned into the one-line usage error (exit 2); option
 * arguments owned here, valid until vmt_cli_end(); one -z[LEVEL] rule; and
 * the lines every --help shares.
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
/* clang-format off: one table row a line */
#define VMT_POPT_COMMON_OPTIONS                                                       \
	{ "help", 'h', POPT_ARG_NONE, NULL, VMT_OPT_HELP, NULL, NULL },               \
		{ "version", 'V', POPT_ARG_NONE, NULL, VMT_OPT_VERSION, NULL, NULL }, \
		{ "quiet", 'q', POPT_ARG_NONE, NULL, VMT_OPT_QUIET, NULL, NULL },     \
	{                                                                             \
		"verbose", 'v', POPT_ARG_NONE, NULL, VMT_OPT_VERBOSE, NULL, NULL      \
	}
/* clang-format on */

/*
 * -z[LEVEL], --compress[=LEVEL]: as zstd(1), the level is attached or
 * absent, never the next word ("-z 9" is -z and the operand 9).
 * vmt_cli_begin() turns "-zN" and "--compress=N" into the hidden
 * "--compress-level=N", so both entries return val; vmt_cli_compress_level()
 * of vmt_cli_arg() is then the level.
 */
#define VMT_CLI_DEFAULT_ZSTD_LEVEL 3
#define VMT_CLI_MAX_ZSTD_LEVEL 19
/* clang-format off: one table row a line */
#define VMT_POPT_COMPRESS_OPTION(val)                                                           \
	{ "compress", 'z', POPT_ARG_NONE, NULL, (val), NULL, NULL },                            \
	{                                                                                       \
		"compress-level", '\0', POPT_ARG_STRING | POPT_ARGFLAG_DOC_HIDDEN, NULL, (val), \
			NULL, NULL                                                              \
	}
/* clang-format on */

/* NULL (a bare -z): the default level; else 1..19, or a usage error. */
int vmt_cli_compress_level(const char *arg);

/*
 * Starts parsing argv against table (which must hold the common options).
 * Everything parsing allocates stays reachable until vmt_cli_end(), also
 * when a usage error exit()s. The option loop of every tool's options.c:
 *
 *	vmt_cli_begin(argc, argv, options);
 *	while ((opt = vmt_cli_next(usage)) > 0)
 *		take_option(o, opt, vmt_cli_arg());
 *	while ((arg = vmt_cli_operand()))  (or vmt_cli_no_operands())
 *		...
 *	check_combinations(o);
 *
 * and its <tool>_options_free() ends with vmt_cli_end().
 */
void vmt_cli_begin(int argc, const char **argv, const struct poptOption *table);

/*
 * The val of the next of the tool's own options, or 0 when there are no
 * more. Handles the common options itself (--help calls usage and exits 0)
 * and reports popt's errors as usage errors.
 */
int vmt_cli_next(void (*usage)(void));

/* The argument of the option vmt_cli_next() returned (NULL if none); valid until vmt_cli_end(). */
const char *vmt_cli_arg(void);

/* The next operand (non-option argument), or NULL; valid until vmt_cli_end(). */
const char *vmt_cli_operand(void);

/* For a tool that takes no (more) operands: a usage error naming the first one left. */
void vmt_cli_no_operands(void);

/* Frees the parser and every argument it handed out. */
void vmt_cli_end(void);

/*
 * --help, one shape for every tool (tests/cli/checkusage.bats holds it):
 *
 *   Usage:
 *    PROG SYNOPSIS            (one line per form)
 *
 *   What the tool does, in a sentence or two.
 *
 *   Options:                  (or several "Group:" headings)
 *    -x, --long ARG           description from column WIDTH
 *       --long-only ARG
 *   VMT_USAGE_COMMON_OPTIONS(WIDTH)
 *
 *   Notes (signals, operands), if any.
 *   VMT_USAGE_TAIL
 *
 * Each macro expands to a printf() format and its arguments:
 * printf(VMT_USAGE_COMMON_OPTIONS(28)); WIDTH must be a number literal.
 */
#define VMT_USAGE_HEADER "Usage:\n"

/* clang-format off: one table row a line */
#define VMT_USAGE_COMMON_OPTIONS(width)                                                            \
	"\n%-" #width "s%s\n%-" #width "s%s\n%-" #width "s%s\n%-" #width "s%s\n", " -q, --quiet",  \
		"say less: no summary or notices", " -v, --verbose", "say more (repeat for more)", \
		" -h, --help", "display this help and exit", " -V, --version",                     \
		"display the version and exit"
/* clang-format on */

#define VMT_USAGE_TAIL                                                               \
	"\nExit status: 0 ok, 1 failure, 2 usage error, 3 unsupported, 4 bad data\n" \
	"(EXIT STATUS in the manual says which failure gets which).\n"               \
	"\nSee %s(1).\n",                                                            \
		vmt_progname()

/*
 * The last statement of every tool's main(): `return vmt_cli_exit(code);`.
 * Closes stdout (where a full disk or a closed pipe shows) and returns code,
 * or VMT_EXIT_FAILURE when code is 0 and stdout could not be written: a
 * failure already reported keeps its own exit code.
 */
int vmt_cli_exit(int code);

/* An option naming a file descriptor the caller passed: a usage error unless it is open. */
int vmt_cli_fd_or_usage(const char *arg, const char *option);

#endif
