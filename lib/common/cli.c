// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The options every tool has, and the arguments popt hands out.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli.h"
#include "common/closestream.h"
#include "common/exitcodes.h"
#include "common/log.h"
#include "common/strutils.h"
#include "common/textescape.h"

#define COMPRESS_LEVEL_PREFIX "--compress-level="

/*
 * One command line per process. File scope, so that what it owns is still
 * reachable when --help or a usage error exit()s (no leak to report).
 */
static struct {
	poptContext ctx;
	const struct poptOption *table;
	const char **argv; /* argv as popt sees it */
	char **owned;	   /* every string allocated for the tools */
	size_t nowned, cap;
	const char *arg; /* the current option's argument */
} cli;

static void out_of_memory(void)
{
	vmt_err("out of memory");
	exit(VMT_EXIT_FAILURE);
}

/* Keeps s (malloc()ed, or NULL) until vmt_cli_end(). */
static char *own(char *s)
{
	if (!s)
		return NULL;
	if (cli.nowned == cli.cap) {
		size_t cap = cli.cap ? 2 * cli.cap : 16;
		char **owned = realloc(cli.owned, cap * sizeof(*owned));

		if (!owned) {
			free(s);
			out_of_memory();
		}
		cli.owned = owned;
		cli.cap = cap;
	}
	cli.owned[cli.nowned++] = s;
	return s;
}

static char *own_printf(const char *prefix, const char *s, size_t len)
{
	char *out = malloc(strlen(prefix) + len + 1);

	if (!out)
		out_of_memory();
	sprintf(out, "%s%.*s", prefix, (int)len, s);
	return own(out);
}

static bool is_compress(const struct poptOption *o)
{
	return o && o->shortName == 'z' && o->longName && strcmp(o->longName, "compress") == 0;
}

static bool takes_argument(const struct poptOption *o)
{
	unsigned int type = o->argInfo & POPT_ARG_MASK;

	return type != POPT_ARG_NONE && type != POPT_ARG_VAL &&
	       !(o->argInfo & POPT_ARGFLAG_OPTIONAL);
}

static const struct poptOption *find_long(const char *name, size_t len)
{
	for (const struct poptOption *o = cli.table; o->longName || o->shortName || o->val; o++)
		if (o->longName && strlen(o->longName) == len &&
		    strncmp(o->longName, name, len) == 0)
			return o;
	return NULL;
}

static const struct poptOption *find_short(char c)
{
	for (const struct poptOption *o = cli.table; o->longName || o->shortName || o->val; o++)
		if (o->shortName == c)
			return o;
	return NULL;
}

/*
 * One word of a short-option cluster ("-fz9"): an attached -z level is
 * split off as --compress-level. Returns how many words of argv were
 * consumed (2 when the last option takes the next word as its argument).
 */
static int rewrite_short(const char **argv, int i, const char **out, int *nout)
{
	const char *word = argv[i];

	for (const char *p = word + 1; *p; p++) {
		const struct poptOption *o = find_short(*p);

		if (is_compress(o) && p[1]) {
			if (p > word + 1)
				out[(*nout)++] = own_printf("", word, p - word);
			out[(*nout)++] = own_printf(COMPRESS_LEVEL_PREFIX, p + 1, strlen(p + 1));
			return 1;
		}
		if (o && takes_argument(o)) {
			out[(*nout)++] = word;
			if (p[1] || !argv[i + 1])
				return 1;
			out[(*nout)++] = argv[i + 1];
			return 2;
		}
	}
	out[(*nout)++] = word;
	return 1;
}

static int rewrite_long(const char **argv, int i, const char **out, int *nout)
{
	const char *name = argv[i] + 2, *eq = strchr(name, '=');
	const struct poptOption *o = find_long(name, eq ? (size_t)(eq - name) : strlen(name));

	if (eq && is_compress(o)) {
		out[(*nout)++] = own_printf(COMPRESS_LEVEL_PREFIX, eq + 1, strlen(eq + 1));
		return 1;
	}
	out[(*nout)++] = argv[i];
	if (!eq && o && takes_argument(o) && argv[i + 1]) {
		out[(*nout)++] = argv[i + 1];
		return 2;
	}
	return 1;
}

/*
 * popt's optional arguments would take the next word ("-z file"), so the
 * attached -z forms are rewritten before popt sees them; the argument of an
 * option that takes one is passed over, whatever it looks like.
 */
static const char **attach_compress_levels(int argc, const char **argv)
{
	/* A cluster "-fz9" becomes two words: at most twice as many. */
	const char **out = calloc(2 * (size_t)argc + 1, sizeof(*out));
	int nout = 0, i = 1;

	if (!out)
		out_of_memory();
	own((char *)out);
	out[nout++] = argv[0];
	while (i < argc) {
		const char *a = argv[i];

		if (strcmp(a, "--") == 0)
			break;
		if (strncmp(a, "--", 2) == 0)
			i += rewrite_long(argv, i, out, &nout);
		else if (a[0] == '-' && a[1])
			i += rewrite_short(argv, i, out, &nout);
		else
			out[nout++] = argv[i++];
	}
	while (i < argc)
		out[nout++] = argv[i++];
	return out;
}

void vmt_cli_begin(int argc, const char **argv, const struct poptOption *table)
{
	cli.table = table;
	cli.argv = attach_compress_levels(argc, argv);
	for (argc = 0; cli.argv[argc]; argc++)
		;
	cli.ctx = poptGetContext(NULL, argc, cli.argv, table, 0);
	if (!cli.ctx)
		out_of_memory();
}

/* A common option, handled here (--help and --version exit): false for the tool's own. */
static bool common_option(int rc, void (*usage)(void))
{
	switch (rc) {
	case VMT_OPT_HELP:
		usage();
		break;
	case VMT_OPT_VERSION:
		printf("%s (vfio-migtools) %s\n", vmt_progname(), PACKAGE_VERSION);
		break;
	case VMT_OPT_QUIET:
		vmt_log_adjust(-1);
		return true;
	case VMT_OPT_VERBOSE:
		vmt_log_adjust(1);
		return true;
	default:
		return false;
	}
	/* --help | head: a failed write is an error even here. */
	poptFreeContext(cli.ctx);
	cli.ctx = NULL;
	exit(vmt_close_stdout());
}

/* After the options: rc < -1 is a popt error, reported as a usage error. */
static void check_popt_end(int rc)
{
	if (rc < -1)
		vmt_usage_error("%s: %s", poptBadOption(cli.ctx, POPT_BADOPTION_NOALIAS),
				poptStrerror(rc));
}

int vmt_cli_next(void (*usage)(void))
{
	int rc;

	cli.arg = NULL;
	while ((rc = poptGetNextOpt(cli.ctx)) > 0) {
		if (!common_option(rc, usage)) {
			cli.arg = own(poptGetOptArg(cli.ctx));
			return rc;
		}
	}
	check_popt_end(rc);
	return 0;
}

const char *vmt_cli_arg(void)
{
	return cli.arg;
}

const char *vmt_cli_operand(void)
{
	return poptGetArg(cli.ctx);
}

void vmt_cli_no_operands(void)
{
	const char *extra = vmt_cli_operand();

	if (extra)
		vmt_usage_error("unexpected argument '%s'", extra);
}

void vmt_cli_end(void)
{
	if (cli.ctx)
		poptFreeContext(cli.ctx);
	for (size_t i = 0; i < cli.nowned; i++)
		free(cli.owned[i]);
	free(cli.owned);
	memset(&cli, 0, sizeof(cli));
}

int vmt_cli_compress_level(const char *arg)
{
	if (!arg)
		return VMT_CLI_DEFAULT_ZSTD_LEVEL;
	return (int)vmt_u64_or_usage(arg, "--compress", 1, VMT_CLI_MAX_ZSTD_LEVEL);
}

int vmt_cli_fd_or_usage(const char *arg, const char *option)
{
	int fd = (int)vmt_u64_or_usage(arg, option, 0, INT32_MAX);

	if (fcntl(fd, F_GETFD) < 0)
		vmt_usage_error("invalid %s argument: '%s' (not an open file descriptor)", option,
				arg);
	return fd;
}

int vmt_cli_exit(int code)
{
	int closed = vmt_close_stdout();

	return code != VMT_EXIT_OK ? code : closed;
}
