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

#include "common/cli.h"
#include "common/closestream.h"
#include "common/events.h"
#include "common/exitcodes.h"
#include "common/failure.h"
#include "common/log.h"
#include "common/signals.h"
#include "vfio/device-cli.h"
#include "vfio/device.h"
#include "vfio/mig-events.h"
#include "vfio/mig.h"
#include "vfio/precopy.h"

#include "options.h"
#include "report.h"
#include "session.h"

/* Open the device and read what it is: 0, or -errno (the failure recorded). */
static int open_device(const struct precopy_options *opt, struct vmt_failure *failure,
		       struct vmt_device **dev, uint32_t *state)
{
	struct vmt_device_open_opts open_opts = { .force_group = opt->force_group };
	int ret = vmt_device_open(opt->device, &open_opts, dev);
	struct vmt_where at = { .device = opt->device };

	if (ret)
		return vmt_fail_device_open(failure, opt->device, ret,
					    ret == -EINVAL ? VMT_EXIT_USAGE : VMT_EXIT_FAILURE);
	at.device = (*dev)->name;
	ret = vmt_mig_query(*dev);
	if (ret == -EOPNOTSUPP)
		return vmt_refuse(failure, &at, ret, 0,
				  "the device does not support VFIO migration");
	if (ret)
		return vmt_fail(failure, &at, ret, 0, "cannot read the migration flags");
	ret = vmt_mig_get_state(*dev, state);
	if (ret)
		return vmt_fail(failure, &at, ret, VMT_EXIT_FAILURE,
				"cannot read the migration state");
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
 * Whether pre-copy can be sampled: true, or false with a failure recorded
 * when it was asked for (none when the facts were all that was asked for).
 */
static bool precopy_possible(const struct precopy_options *opt, struct vmt_failure *failure,
			     const struct precopy_device_facts *f, uint32_t state)
{
	const struct vmt_where at = { .device = f->name };

	if (opt->no_precopy)
		return false;
	if (!f->has_precopy) {
		if (opt->precopy_asked)
			vmt_refuse(failure, &at, -EOPNOTSUPP, VMT_EXIT_UNSUPPORTED,
				   "no pre-copy figures: the device has no PRE_COPY support "
				   "(migration flags 0x%" PRIx64 ")",
				   f->mig_flags);
		return false;
	}
	if (vmt_state_precopy_for(state) == VMT_STATE_UNKNOWN) {
		vmt_refuse(failure, &at, -EBUSY, VMT_EXIT_FAILURE,
			   "the device is in %s; sampling pre-copy needs RUNNING or RUNNING_P2P "
			   "(is a migration under way?)",
			   vmt_state_name(state));
		return false;
	}
	return true;
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

	if (precopy_options_stream_on_stdout(opt) &&
	    !vmt_binary_output_ok(STDOUT_FILENO, opt->force))
		return VMT_EXIT_USAGE;
	setup_report(s, opt);
	if (open_device(opt, &s->failure, &s->dev, &original) == 0) {
		device_facts(s->dev, original, &facts);
		/* With -q and --watch, only the table. */
		if (!s->quiet_report && !(vmt_log_level() < VMT_LOG_INFO && opt->watch))
			report_device(&s->report, &facts);
		/* A stop that came before the device was moved leaves nothing to sample. */
		if (precopy_possible(opt, &s->failure, &facts, original) && !vmt_stop_signal())
			return precopy_session_run(s, original);
	}
	precopy_session_say_failure(s);
	return vmt_failed(&s->failure) ? vmt_failure_exit_code(&s->failure) : VMT_EXIT_OK;
}

/* --events: opened before the device, with lib/vfio/mig's arcs into it. */
static int open_events(const struct precopy_options *opt, struct vmt_events **ev)
{
	int ret;

	if (!opt->events_file)
		return VMT_EXIT_OK;
	ret = vmt_events_open(ev, opt->events_file, vmt_progname(), 0);
	if (ret < 0) {
		vmt_err("%s: cannot open for writing: %s", opt->events_file, strerror(-ret));
		return VMT_EXIT_FAILURE;
	}
	vmt_mig_record_events(*ev);
	return VMT_EXIT_OK;
}

static void record_outcome(struct precopy_session *s, int code)
{
	char ok[64];

	snprintf(ok, sizeof(ok), "%u sample%s", s->samples, s->samples == 1 ? "" : "s");
	vmt_events_exit(s->events, code, &s->failure, NULL, ok);
}

static void close_events(struct precopy_session *s)
{
	int ret;

	vmt_mig_record_events(NULL);
	ret = vmt_events_close(s->events);
	s->events = NULL;
	if (ret < 0)
		vmt_warn("%s: events lost: %s", s->opt->events_file, strerror(-ret));
}

int main(int argc, const char **argv)
{
	struct precopy_options opt;
	struct precopy_session s = { .opt = &opt, .data_out = { .fd = -1 } };
	int code;

	vmt_log_init(argv[0]);
	precopy_options_parse(&opt, argc, argv);
	vmt_ignore_sigpipe();
	/*
	 * A stop signal ends the sampling and the device goes back; SIGUSR1,
	 * vfio-mig-save's switchover request, is ignored.
	 */
	vmt_signals_install(VMT_SIGUSR1_IGNORE);
	code = open_events(&opt, &s.events);
	if (code == VMT_EXIT_OK) {
		code = run(&s, &opt);
		record_outcome(&s, code);
	}
	close_events(&s);
	precopy_session_free(&s);
	vmt_device_close(s.dev);
	precopy_options_free(&opt);
	return vmt_cli_exit(code);
}
