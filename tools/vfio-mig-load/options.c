// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Option parsing with popt. -d and positional devices take stream indexes
 * 0, 1, ... in the order given; --map names the index. Both can be mixed as
 * long as no index gets two targets.
 */
#include <popt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/cli.h"
#include "common/exitcodes.h"
#include "common/log.h"
#include "common/outfile.h"
#include "common/strutils.h"
#include "common/textescape.h"
#include "net/address.h"
#include "net/net-cli.h"
#include "stream/migstream.h"
#include "vfio/device-cli.h"
#include "vfio/uapi/vfio-uapi.h"
#include "options.h"

enum {
	OPT_DEVICE = 'd',
	OPT_FORCE = 'f',
	OPT_INPUT = 'i',
	OPT_MAP = 0x100,
	OPT_THEN,
	OPT_REORDER,
	OPT_JSON,
	OPT_PROGRESS,
	OPT_GROUP,
	OPT_SUMMARY_FILE,
	OPT_DRY_RUN,
	OPT_RETURN_FD,
	OPT_QUEUE_SIZE,
	OPT_LISTEN,
	OPT_EVENTS,
	OPT_SYSLOG,
	OPT_NET, /* VMT_NET_OPTION_COUNT values from here */
};

static void usage(void)
{
	printf(VMT_USAGE_HEADER
	       " %1$s [options] [-d] DEV [[-d] DEV...] < STREAM\n"
	       " %1$s [options] --listen ADDRESS [-d] DEV [[-d] DEV...]\n"
	       "\n"
	       "Read a migstream and resume VFIO devices from it.\n"
	       "\n"
	       "DEV is a VFIO cdev (/dev/vfio/devices/vfioN), a PCI address (0000:01:00.0),\n"
	       "an mdev UUID, or fd:N (a device fd inherited from the caller).\n"
	       "\n"
	       "Targets:\n"
	       " -d, --device DEV           target of the next stream device (0, 1, ... in\n"
	       "                            the order given; repeatable; also as operands)\n"
	       "     --map IDX=DEV          target of stream device IDX (repeatable)\n"
	       "     --group                open PCI addresses and UUIDs through the legacy\n"
	       "                            group/container interface, not the cdev\n"
	       "\n"
	       "Input:\n"
	       " -i, --input FILE           read the stream from FILE, fd:N or - (default:\n"
	       "                            standard input); repeated: the channels of one\n"
	       "                            set (vfio-mig-save -o A -o B), in any order\n"
	       "     --listen ADDRESS       wait for vfio-mig-save -o ADDRESS on tcp:HOST:PORT,\n"
	       "                            tcp::PORT or unix:PATH (also -i ADDRESS): admit the\n"
	       "                            channels of one set, refuse anyone else; replies go\n"
	       "                            back on channel 0's connection (no --return-fd)\n" VMT_NET_USAGE_OPTIONS
	       "     --reorder-buffer SIZE  bytes of early DATA chunks held per device while\n"
	       "                            a late one is awaited (K, M, G suffixes; default\n"
	       "                            0: in order; for a set of channels, 64M)\n"
	       "     --queue-size SIZE      bytes of checked chunks waiting for each target's\n"
	       "                            writer thread (default 64M)\n"
	       "\n"
	       "Loading:\n"
	       " -f, --force                load a stream device into a target that looks\n"
	       "                            incompatible (different IDs, driver, mdev type)\n"
	       "     --then STATE           state after loading: running (default) or stop\n"
	       "                            (stop: a VMM starts the device with its vCPUs)\n"
	       "     --dry-run              only check: read the stream (a full save or a\n"
	       "                            description, vfio-mig-save's), run every\n"
	       "                            compatibility check, exit 0 or 4; touch nothing\n"
	       "     --return-fd N          send switchover-acks and the load result to the\n"
	       "                            source on fd N (vfio-mig-save --return-fd)\n"
	       "\n"
	       "Output:\n"
	       "     --json                 print the summary as JSON on stderr (also on\n"
	       "                            failure)\n"
	       "     --summary-file FILE    also write the JSON summary to FILE\n"
	       "     --progress             show progress on stderr even if it is not a terminal\n"
	       "     --events FILE          record what happens, as it happens, as JSON lines\n"
	       "                            in FILE (vfio-mig-events(5))\n"
	       "     --syslog               the one-line outcome (and the events file's name)\n"
	       "                            to syslog(3), also on failure\n",
	       vmt_progname());
	printf(VMT_USAGE_COMMON_OPTIONS(28));
	printf("\nOn failure every device this run touched is reset; the error says its state.\n");
	printf(VMT_USAGE_TAIL);
}

static void add_mapping(struct load_options *o, uint32_t index, const char *spec)
{
	struct load_mapping *m;

	vmt_cli_device_or_usage(spec, VMT_CLI_DEVICE_ANY);
	for (unsigned int i = 0; i < o->map_count; i++) {
		if (o->map[i].index == index)
			vmt_usage_error("stream device %u has two targets: '%s' and '%s'", index,
					o->map[i].spec, spec);
		if (strcmp(o->map[i].spec, spec) == 0)
			vmt_usage_error("device '%s' is the target of stream devices %u and %u",
					spec, o->map[i].index, index);
	}
	m = realloc(o->map, (o->map_count + 1) * sizeof(*o->map));
	if (!m) {
		vmt_err("out of memory");
		exit(VMT_EXIT_FAILURE);
	}
	o->map = m;
	o->map[o->map_count++] = (struct load_mapping){ .index = index, .spec = spec };
}

/* -d and positional DEVs fill the lowest index no --map has taken. */
static uint32_t next_free_index(const struct load_options *o, uint32_t *next)
{
	for (;; (*next)++) {
		bool taken = false;

		for (unsigned int i = 0; i < o->map_count; i++)
			taken |= o->map[i].index == *next;
		if (!taken)
			return (*next)++;
	}
}

static void parse_map(struct load_options *o, const char *arg)
{
	const char *eq = strchr(arg, '=');
	char idx[32], shown[VMT_ESCAPED_SIZE(256)];
	uint64_t index;

	if (!eq || eq == arg || (size_t)(eq - arg) >= sizeof(idx) || !eq[1])
		vmt_usage_error("invalid --map argument: '%s' (expected IDX=DEV)",
				vmt_escape_text(arg, shown, sizeof(shown)));
	memcpy(idx, arg, eq - arg);
	idx[eq - arg] = '\0';
	/* every u32 is a device index (migstream(5)) */
	index = vmt_u64_or_usage(idx, "--map", 0, UINT32_MAX);
	add_mapping(o, (uint32_t)index, eq + 1);
}

static uint32_t parse_then(const char *arg)
{
	if (strcasecmp(arg, "running") == 0)
		return VFIO_DEVICE_STATE_RUNNING;
	if (strcasecmp(arg, "stop") == 0)
		return VFIO_DEVICE_STATE_STOP;
	vmt_usage_error("invalid --then argument: '%s' (running or stop)", arg);
}

static const struct poptOption options[] = {
	{ "device", 'd', POPT_ARG_STRING, NULL, OPT_DEVICE, NULL, NULL },
	{ "map", 0, POPT_ARG_STRING, NULL, OPT_MAP, NULL, NULL },
	{ "input", 'i', POPT_ARG_STRING, NULL, OPT_INPUT, NULL, NULL },
	{ "reorder-buffer", 0, POPT_ARG_STRING, NULL, OPT_REORDER, NULL, NULL },
	{ "queue-size", 0, POPT_ARG_STRING, NULL, OPT_QUEUE_SIZE, NULL, NULL },
	{ "then", 0, POPT_ARG_STRING, NULL, OPT_THEN, NULL, NULL },
	{ "return-fd", 0, POPT_ARG_STRING, NULL, OPT_RETURN_FD, NULL, NULL },
	{ "group", 0, POPT_ARG_NONE, NULL, OPT_GROUP, NULL, NULL },
	{ "force", 'f', POPT_ARG_NONE, NULL, OPT_FORCE, NULL, NULL },
	{ "json", 0, POPT_ARG_NONE, NULL, OPT_JSON, NULL, NULL },
	{ "summary-file", 0, POPT_ARG_STRING, NULL, OPT_SUMMARY_FILE, NULL, NULL },
	{ "progress", 0, POPT_ARG_NONE, NULL, OPT_PROGRESS, NULL, NULL },
	{ "dry-run", 0, POPT_ARG_NONE, NULL, OPT_DRY_RUN, NULL, NULL },
	{ "listen", 0, POPT_ARG_STRING, NULL, OPT_LISTEN, NULL, NULL },
	VMT_POPT_NET_OPTIONS(OPT_NET),
	VMT_POPT_COMMON_OPTIONS,
	{ "events", 0, POPT_ARG_STRING, NULL, OPT_EVENTS, NULL, NULL },
	{ "syslog", 0, POPT_ARG_NONE, NULL, OPT_SYSLOG, NULL, NULL },
	POPT_TABLEEND
};

static void add_input(struct load_options *o, const char *arg)
{
	const char **inputs;

	if (vmt_net_is_address(arg) || o->address) {
		if (o->input_count || o->address)
			vmt_usage_error(
				"%s: an address is the only input (its set brings the channels)",
				arg);
		o->address = arg;
		return;
	}
	if (o->input_count == MIGSTREAM_MAX_CHANNELS)
		vmt_usage_error("more than %u inputs (-i): a set has at most %u channels",
				MIGSTREAM_MAX_CHANNELS, MIGSTREAM_MAX_CHANNELS);
	if (strncmp(arg, "fd:", 3) == 0)
		(void)vmt_cli_fd_or_usage(arg + 3, "--input fd:N");
	inputs = realloc(o->inputs, (o->input_count + 1) * sizeof(*inputs));
	if (!inputs) {
		vmt_err("out of memory");
		exit(VMT_EXIT_FAILURE);
	}
	o->inputs = inputs;
	o->inputs[o->input_count++] = arg;
}

static bool is_stdin(const char *input)
{
	return strcmp(input, "-") == 0 || strcmp(input, "fd:0") == 0;
}

/*
 * One input twice would read each channel's bytes in two threads, and
 * writing the summary over an input would destroy it: both usage errors.
 */
static void check_inputs(const struct load_options *o)
{
	unsigned int stdin_count = 0;

	for (unsigned int i = 0; i < o->input_count; i++) {
		const char *in = o->inputs[i];

		stdin_count += is_stdin(in);
		for (unsigned int j = 0; j < i; j++)
			if (strcmp(o->inputs[j], in) == 0)
				vmt_usage_error("input '%s' is given twice", in);
		/* Writing the summary over the stream being read would destroy the stream. */
		if (o->summary_file && strncmp(in, "fd:", 3) != 0 && !is_stdin(in) &&
		    vmt_outfile_same(o->summary_file, in))
			vmt_usage_error("--summary-file '%s' is the input stream", o->summary_file);
		if (o->events_file && strncmp(in, "fd:", 3) != 0 && !is_stdin(in) &&
		    vmt_outfile_same(o->events_file, in))
			vmt_usage_error("--events '%s' is the input stream", o->events_file);
	}
	if (stdin_count > 1)
		vmt_usage_error("standard input is given twice as an input");
}

/* -d DEVs and operands are placed after all --map options are known. */
struct sequential {
	const char **specs;
	unsigned int n;
};

static void add_sequential(struct sequential *seq, const char *spec)
{
	const char **specs = realloc(seq->specs, (seq->n + 1) * sizeof(*specs));

	if (!specs) {
		vmt_err("out of memory");
		exit(VMT_EXIT_FAILURE);
	}
	seq->specs = specs;
	seq->specs[seq->n++] = spec;
}

/* What the option loop fills in: the options, and the targets that wait for their index. */
struct parse {
	struct load_options *o;
	struct sequential seq;
};

static void take_option(struct parse *p, int opt, const char *arg)
{
	struct load_options *o = p->o;

	switch (opt) {
	case OPT_DEVICE:
		add_sequential(&p->seq, arg);
		break;
	case OPT_MAP:
		parse_map(o, arg);
		break;
	case OPT_INPUT:
		add_input(o, arg);
		break;
	case OPT_LISTEN:
		if (!vmt_net_is_address(arg))
			vmt_usage_error(
				"invalid --listen argument: '%s' (tcp:HOST:PORT, tcp::PORT or unix:PATH)",
				arg);
		add_input(o, arg);
		break;
	case OPT_REORDER:
		o->reorder_limit = vmt_size_or_usage(arg, "--reorder-buffer");
		break;
	case OPT_QUEUE_SIZE:
		o->queue_limit = vmt_size_or_usage(arg, "--queue-size");
		if (!o->queue_limit)
			vmt_usage_error("--queue-size must be at least one byte");
		break;
	case OPT_THEN:
		o->then_state = parse_then(arg);
		break;
	case OPT_RETURN_FD:
		o->return_fd = vmt_cli_fd_or_usage(arg, "--return-fd");
		break;
	case OPT_GROUP:
		o->group = true;
		break;
	case OPT_FORCE:
		o->force = true;
		break;
	case OPT_JSON:
		o->json = true;
		break;
	case OPT_PROGRESS:
		o->progress = true;
		break;
	case OPT_SUMMARY_FILE:
		o->summary_file = arg;
		break;
	case OPT_DRY_RUN:
		o->dry_run = true;
		break;
	case OPT_EVENTS:
		o->events_file = arg;
		break;
	case OPT_SYSLOG:
		o->syslog = true;
		break;
	default:
		vmt_net_cli_take(&o->net, OPT_NET, opt, arg);
		break;
	}
}

void load_options_parse(struct load_options *o, int argc, const char **argv)
{
	/* Static: reachable from here when a usage error exits. */
	static struct parse p;
	uint32_t next_index = 0;
	const char *arg;
	int opt;

	*o = (struct load_options){
		.then_state = VFIO_DEVICE_STATE_RUNNING,
		.return_fd = -1,
		.queue_limit = LOAD_QUEUE_DEFAULT,
	};
	p = (struct parse){ .o = o };
	vmt_net_cli_init(&o->net);
	vmt_cli_begin(argc, argv, options);
	while ((opt = vmt_cli_next(usage)) > 0)
		take_option(&p, opt, vmt_cli_arg());
	while ((arg = vmt_cli_operand()) != NULL)
		add_sequential(&p.seq, arg);
	for (unsigned int i = 0; i < p.seq.n; i++)
		add_mapping(o, next_free_index(o, &next_index), p.seq.specs[i]);
	free(p.seq.specs);
	p = (struct parse){ 0 };
	if (!o->map_count)
		vmt_usage_error("no target device given (-d DEV)");
	check_inputs(o);
	vmt_net_cli_check(&o->net, o->address, false);
	if (o->address && o->dry_run)
		vmt_usage_error(
			"--dry-run and --listen cannot be combined (the source would take a dry run's answer for a load)");
	if (o->address && o->return_fd >= 0)
		vmt_usage_error(
			"--listen %s sends the replies on channel 0's connection: no --return-fd",
			o->address);
}

void load_options_free(struct load_options *o)
{
	free(o->map);
	free(o->inputs);
	*o = (struct load_options){ 0 };
	vmt_cli_end();
}
