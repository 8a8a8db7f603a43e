// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * migstream-cat: list, verify, extract, pass through, wrap, recompress,
 * merge and split migstreams. This file runs the mode the command line
 * (options.c) asked for; each mode is its own module.
 */
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "common/cli.h"
#include "common/closestream.h"
#include "common/exitcodes.h"
#include "common/log.h"
#include "stream/record-alloc.h"
#include "cat.h"
#include "convert.h"
#include "extract.h"
#include "listing.h"
#include "qemu-cat.h"
#include "net.h"
#include "options.h"

/* Modes whose output is a stream or raw state, not text. */
static bool writes_binary(enum cat_mode mode)
{
	return mode == CAT_MODE_PASSTHROUGH || mode == CAT_MODE_EXTRACT || mode == CAT_MODE_WRAP ||
	       mode == CAT_MODE_RECOMPRESS || mode == CAT_MODE_MERGE || mode == CAT_MODE_SPLIT ||
	       mode == CAT_MODE_FROM_QEMU;
}

/* A terminal refused, as input or as binary output: a usage matter (exit 2). */
static bool terminals_ok(const struct cat_opts *o)
{
	for (int i = 0; i < o->ninputs; i++)
		if (strcmp(o->inputs[i], "-") == 0 && !vmt_binary_input_ok(STDIN_FILENO))
			return false;
	if (!writes_binary(o->mode))
		return true;
	/* --merge and --split write standard output only when -o says so (or none, for --merge) */
	if (o->mode == CAT_MODE_MERGE || o->mode == CAT_MODE_SPLIT) {
		bool to_stdout = o->mode == CAT_MODE_MERGE && !o->noutputs;

		for (int i = 0; i < o->noutputs; i++)
			to_stdout |= strcmp(o->outputs[i], "-") == 0;
		if (!to_stdout)
			return true;
	}
	return vmt_binary_output_ok(STDOUT_FILENO, o->force);
}
/* The mode asked for; returns the exit code. */
static int run(const struct cat_opts *o)
{
	if (!terminals_ok(o))
		return VMT_EXIT_USAGE;
	switch (o->mode) {
	case CAT_MODE_EXTRACT:
		return cat_extract_inputs(o);
	case CAT_MODE_WRAP:
		return cat_wrap(o);
	case CAT_MODE_RECOMPRESS:
		return cat_recompress(o);
	case CAT_MODE_MERGE:
		return cat_merge(o);
	case CAT_MODE_SPLIT:
		return cat_split(o);
	case CAT_MODE_FROM_QEMU:
		return cat_from_qemu(o);
	default:
		/* The listing (text or JSON): `migstream-cat f | head -1` ends quietly. */
		if (o->mode == CAT_MODE_LIST)
			vmt_stdout_is_listing();
		return cat_list_inputs(o);
	}
}

int main(int argc, const char **argv)
{
	struct cat_opts o;
	int code;

	vmt_log_init(argv[0]);
	vmt_record_alloc_init();
	cat_options_parse(&o, argc, argv);
	/* Stream writers report a closed pipe themselves, as EPIPE. */
	vmt_ignore_sigpipe();
	code = cat_net_start(&o);
	if (code == VMT_EXIT_OK)
		code = run(&o);
	code = cat_net_finish(&o, code);
	cat_options_free(&o);
	return vmt_cli_exit(code);
}
