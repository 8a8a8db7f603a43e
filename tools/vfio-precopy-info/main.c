// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vfio-precopy-info: what a VFIO device would send if it migrated now, and
 * how fast that changes. Reports the device's facts, then (session.c)
 * moves it RUNNING -> PRE_COPY (PRE_COPY_P2P from RUNNING_P2P), samples
 * VFIO_MIG_GET_PRECOPY_INFO and MIG_DATA_SIZE, optionally drains the
 * pre-copy data, and always puts the device back in the state it found it in.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "closestream.h"
#include "exitcodes.h"
#include "failure.h"
#include "log.h"
#include "precopy.h"
#include "vfio-device.h"
#include "vfio-mig.h"

#include "options.h"
#include "report.h"
#include "session.h"

/* Open the device and read what it is: 0, or the exit code (the error said). */
static int open_device(const struct precopy_options *opt, struct vmt_device **dev,
		       uint32_t *state)
{
	struct vmt_device_open_opts open_opts = { .force_group = opt->force_group };
	int ret = vmt_device_open(opt->device, &open_opts, dev);

	if (ret) {
		vmt_err("%s: cannot open the device: %s", opt->device, vmt_device_open_reason(ret));
		return ret == -EINVAL ? VMT_EXIT_USAGE : VMT_EXIT_FAILURE;
	}
	ret = vmt_mig_query(*dev);
	if (ret == -EOPNOTSUPP) {
		vmt_err("%s: the device does not support VFIO migration", (*dev)->name);
		return vmt_exit_code_for_error(ret);
	}
	if (ret) {
		vmt_err("%s: cannot read the migration flags: %s", (*dev)->name, strerror(-ret));
		return vmt_exit_code_for_error(ret);
	}
	ret = vmt_mig_get_state(*dev, state);
	if (ret) {
		vmt_err("%s: cannot read the migration state: %s", (*dev)->name, strerror(-ret));
		return VMT_EXIT_FAILURE;
	}
	return 0;
}

static void device_facts(struct vmt_device *dev, uint32_t state, struct precopy_device_facts *f)
{
	*f = (struct precopy_device_facts){
		.name = dev->name,
		.node = dev->node,
		.access = vmt_device_access_name(dev->access),
		.mig_flags = dev->mig_flags,
		.state = state,
		.has_precopy = dev->mig_flags & VFIO_MIGRATION_PRE_COPY,
	};
	f->stop_copy_known = vmt_mig_stop_copy_size(dev, &f->stop_copy_bytes) == 0;
}

/*
 * Whether pre-copy can be sampled: -1 yes; else the exit code (0 when the
 * facts were all that was asked for).
 */
static int precopy_possible(const struct precopy_options *opt,
			    const struct precopy_device_facts *f, uint32_t state)
{
	if (opt->no_precopy)
		return VMT_EXIT_OK;
	if (!f->has_precopy) {
		if (!opt->precopy_asked)
			return VMT_EXIT_OK;
		vmt_err("%s: no pre-copy figures: the device has no PRE_COPY support "
			"(migration flags 0x%" PRIx64 ")", f->name, f->mig_flags);
		return VMT_EXIT_UNSUPPORTED;
	}
	if (vmt_precopy_state_for(state) == VMT_STATE_UNKNOWN) {
		vmt_err("%s: the device is in %s; sampling pre-copy needs RUNNING or RUNNING_P2P "
			"(is a migration under way?)", f->name, vmt_mig_state_name(state));
		return VMT_EXIT_FAILURE;
	}
	return -1;
}

/* Where the report goes and how much of it: -q means less, and nothing beside a stream. */
static void setup_report(struct precopy_session *s, const struct precopy_options *opt)
{
	bool on_stdout = precopy_options_stream_on_stdout(opt);
	bool quiet = vmt_log_level() < VMT_LOG_INFO;

	s->report.out = on_stdout ? stderr : stdout;
	s->report.json = opt->json;
	s->report.table = opt->watch;
	s->quiet_report = on_stdout && quiet;
}

static int run(struct precopy_session *s, const struct precopy_options *opt)
{
	struct precopy_device_facts facts;
	uint32_t original;
	int code;

	if (precopy_options_stream_on_stdout(opt) && !vmt_binary_output_ok(STDOUT_FILENO, opt->force))
		return VMT_EXIT_USAGE;
	setup_report(s, opt);
	code = open_device(opt, &s->dev, &original);
	if (code)
		return code;
	device_facts(s->dev, original, &facts);
	/* With -q and --watch, only the table. */
	if (!s->quiet_report && !(vmt_log_level() < VMT_LOG_INFO && opt->watch))
		report_device(&s->report, &facts);
	code = precopy_possible(opt, &facts, original);
	if (code >= 0)
		return code;
	return precopy_session_run(s, original);
}

int main(int argc, const char **argv)
{
	struct precopy_options opt;
	struct precopy_session s = { .opt = &opt, .data_out = { .fd = -1 } };
	int code, close_code;

	vmt_log_init(argv[0]);
	vmt_ignore_sigpipe();
	precopy_options_parse(&opt, argc, argv);
	code = run(&s, &opt);
	precopy_session_free(&s);
	vmt_device_close(s.dev);
	precopy_options_free(&opt);
	/* A report that could not be written was said already. */
	close_code = s.report_failed ? VMT_EXIT_FAILURE : vmt_close_stdout();
	return code ? code : close_code;
}
