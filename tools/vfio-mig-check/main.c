// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vfio-mig-check: the kernel's VFIO migration rules, checked on a device
 * (and a PEER of the same kind) with the ioctls a VMM uses and the wrong
 * ones it must not, expectations cited from the Linux source.  Destructive
 * to the devices' migration state: it refuses a device in use, asks for
 * --yes, and leaves every device RUNNING whatever happens.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cli.h"
#include "common/closestream.h"
#include "common/exitcodes.h"
#include "common/failure.h"
#include "common/log.h"
#include "common/signals.h"

#include "groups.h"
#include "kversion.h"
#include "options.h"
#include "probe.h"
#include "report.h"
#include "results.h"
#include "safety.h"
#include "timing.h"

static struct {
	struct check_options opt;
	struct target targets[2];
	int ntargets;
	/* What kept the run from checking, or a device from RUNNING: said once, at the end. */
	struct vmt_failure failure;
} run;

static void list_groups(void)
{
	unsigned int n, i;
	const struct check_group *g = groups_all(&n);

	for (i = 0; i < n; i++)
		printf("%-10s %s\n", g[i].name, g[i].summary);
}

static bool selected(const char *name)
{
	int i;

	if (!run.opt.ngroups)
		return true;
	for (i = 0; i < run.opt.ngroups; i++)
		if (!strcmp(run.opt.group[i], name))
			return true;
	return false;
}

/* Every device back to RUNNING; the line says where each one is. */
static int leave_devices_running(void)
{
	int i, failed = 0;

	for (i = 0; i < run.ntargets; i++) {
		struct target *t = &run.targets[i];
		int ret = target_leave_running(t);

		if (ret) {
			/* The first is the run's failure; more are said at once. */
			if (vmt_failed(&run.failure))
				vmt_err("%s: could not be left RUNNING: %s; it is in %s", t->spec,
					strerror(-ret),
					t->final_state == ~0U ? "an unknown state"
							      : sname(t->final_state));
			else
				vmt_refuse(&run.failure, &(struct vmt_where){ .device = t->spec },
					   ret, VMT_EXIT_FAILURE,
					   "%s: could not be left RUNNING: %s; it is in %s",
					   t->spec, strerror(-ret),
					   t->final_state == ~0U ? "an unknown state"
								 : sname(t->final_state));
			failed = 1;
		} else {
			vmt_info("%s: RUNNING%s", t->spec, t->was_reset ? " (after a reset)" : "");
		}
		diag("%s: %s at the end%s", t->spec,
		     t->final_state == ~0U ? "unknown state" : sname(t->final_state),
		     t->was_reset ? ", after VFIO_DEVICE_RESET" : "");
	}
	return failed;
}

/* The failure's one line on stderr; returned for the JSON report (malloc'd, or NULL). */
static char *say_failure(void)
{
	char *line;

	if (!vmt_failed(&run.failure))
		return NULL;
	run.failure.what_says_where = true;
	line = vmt_failure_line(&run.failure, NULL, 0);
	vmt_err("%s", line ? line : "out of memory");
	return line;
}

static int write_reports(int stop_signal, bool ok, bool ran)
{
	char *line = say_failure();
	struct run_info info = {
		.targets = run.targets,
		.ntargets = run.ntargets,
		.kernel = kversion_string(),
		.stop_signal = stop_signal,
		.ok = ok && !vmt_failed(&run.failure),
		.failure = &run.failure,
		.error_line = line,
	};
	int ret;

	if (ran && run.opt.junit && (ret = report_junit(run.opt.junit, &info)))
		vmt_err("%s: cannot write the JUnit report: %s", run.opt.junit, strerror(-ret));
	else if (run.opt.json)
		ret = report_json(stdout, &info);
	else
		ret = 0;
	free(line);
	return ret ? VMT_EXIT_FAILURE : 0;
}

/* The end of every run: devices RUNNING, reports out. */
static int finish(int stop_signal)
{
	int failed;

	timing_report();
	/*
	 * Whatever a check left open (a device fd that keeps it bound, a data
	 * fd) is closed first: the devices are opened again to be put back,
	 * and each one's state is then known and said.
	 */
	safety_drop_everything();
	failed = leave_devices_running();
	if (stop_signal && !run.opt.json)
		printf("Bail out! stopped by signal %d\n", stop_signal);
	results_finish_tap();
	if (write_reports(stop_signal, !failed && !stop_signal && !results_failed(), true))
		failed = 1;
	if (stop_signal)
		vmt_err("stopped by %s after %u checks; %s", vmt_stop_signal_name(),
			results_total(),
			failed ? "a device is NOT RUNNING" : "every device is RUNNING");
	return failed || stop_signal || results_failed() ? VMT_EXIT_FAILURE : VMT_EXIT_OK;
}

/* After each check: a stop signal ends the run here, devices first. */
static void poll_stop(void)
{
	int sig = vmt_stop_signal();
	int code;

	if (!sig)
		return;
	safety_drop_everything();
	code = finish(sig);
	results_free();
	check_options_free(&run.opt);
	exit(vmt_cli_exit(code));
}

static int prepare_targets(void)
{
	struct target_facts facts[2];
	char why[256];
	int i, ret;

	for (i = 0; i < run.opt.ndevices; i++) {
		struct target *t = &run.targets[i];

		ret = target_resolve(run.opt.device[i], t);
		if (ret)
			return vmt_refuse(&run.failure,
					  &(struct vmt_where){ .device = run.opt.device[i] }, ret,
					  ret == -EINVAL ? VMT_EXIT_USAGE : VMT_EXIT_FAILURE,
					  "%s: no such VFIO device with a cdev: %s",
					  run.opt.device[i], strerror(-ret));
		ret = target_preflight(t, &facts[i], why, sizeof(why));
		if (ret)
			return vmt_refuse(
				&run.failure, &(struct vmt_where){ .device = t->spec }, ret,
				ret == -EOPNOTSUPP ? VMT_EXIT_UNSUPPORTED : VMT_EXIT_FAILURE,
				"%s: %s; not touched", t->spec, why);
		run.ntargets++;
	}
	if (run.ntargets == 2 && !strcmp(run.targets[0].cdev, run.targets[1].cdev))
		return vmt_refuse(&run.failure, NULL, -EINVAL, VMT_EXIT_USAGE,
				  "%s and %s are the same device (%s): PEER must be another",
				  run.targets[0].spec, run.targets[1].spec, run.targets[0].cdev);
	if (run.ntargets == 2 && facts[0].mig_flags != facts[1].mig_flags)
		return vmt_refuse(&run.failure, NULL, -EINVAL, VMT_EXIT_USAGE,
				  "%s and %s claim different migration flags (0x%" PRIx64
				  ", 0x%" PRIx64 "): PEER must be the same kind of device",
				  run.targets[0].spec, run.targets[1].spec, facts[0].mig_flags,
				  facts[1].mig_flags);
	conf.ncdev = run.ntargets;
	for (i = 0; i < run.ntargets; i++)
		conf.cdev[i] = run.targets[i].cdev;
	if (run.ntargets) {
		conf.mig_flags = facts[0].mig_flags;
		conf.dma_logging = facts[0].dma_logging;
		conf.iommu_dirty = facts[0].iommu_dirty;
		conf.group_node = run.targets[0].group_node[0] ? run.targets[0].group_node : NULL;
		conf.group_name = run.targets[0].name[0] ? run.targets[0].name : NULL;
	}
	return 0;
}

static void describe_run(void)
{
	int i;

	char kernel[160];

	kversion_describe(kernel, sizeof(kernel));
	diag("%s", kernel);
	for (i = 0; i < run.ntargets; i++)
		diag("%s: %s (%s), migration flags 0x%" PRIx64 "%s", i ? "PEER" : "DEV",
		     run.targets[i].spec, run.targets[i].cdev, conf.mig_flags,
		     !i && conf.dma_logging ? ", DMA logging" : "");
}

static void run_groups(void)
{
	unsigned int n, i;
	const struct check_group *g = groups_all(&n);

	for (i = 0; i < n; i++) {
		const char *reason;

		if (!selected(g[i].name))
			continue;
		reason = g[i].skip_reason();
		if (reason) {
			results_skip_group(g[i].name, reason);
			continue;
		}
		results_begin_group(g[i].name);
		g[i].run();
		results_end_group();
	}
}

static void take_inherited_iommufd(void)
{
	conf.iommufd = run.opt.iommufd;
	conf.hwpt = run.opt.hwpt;
	conf.iova = run.opt.iova;
	conf.length = run.opt.length;
	conf.io_page_size = run.opt.io_page_size;
}

/*
 * The preflight: true when the checks may start; false, with the reason
 * recorded, when something keeps them from it.
 */
static bool ready_to_run(void)
{
	if (kversion_load()) {
		vmt_refuse(&run.failure, NULL, -errno, VMT_EXIT_FAILURE,
			   "uname: %s; give --kernel VERSION", strerror(errno));
		return false;
	}
	if (run.opt.ndevices && !run.opt.yes) {
		vmt_refuse(&run.failure, NULL, -EPERM, VMT_EXIT_USAGE,
			   "this walks %s%s%s through every migration state and resets %s: "
			   "give --yes to go ahead",
			   run.opt.device[0], run.opt.ndevices > 1 ? " and " : "",
			   run.opt.ndevices > 1 ? run.opt.device[1] : "",
			   run.opt.ndevices > 1 ? "them" : "it");
		return false;
	}
	take_inherited_iommufd();
	return prepare_targets() == 0;
}

/* The checks, or the list of their groups; returns the exit code. */
static int run_checks(void)
{
	if (run.opt.list) {
		list_groups();
		return VMT_EXIT_OK;
	}
	if (run.opt.kernel_version && kversion_set(run.opt.kernel_version, "--kernel"))
		vmt_usage_error("invalid --kernel argument: '%s' (MAJOR.MINOR[.SUBLEVEL])",
				run.opt.kernel_version);
	if (!ready_to_run()) {
		/* Nothing was touched: the report says why, with no checks. */
		write_reports(0, false, false);
		return vmt_failure_exit_code(&run.failure);
	}
	results_init(!run.opt.json, poll_stop);
	describe_run();
	/* A stop that came while the devices were looked at ends the run before the first check. */
	poll_stop();
	run_groups();
	return finish(0);
}

int main(int argc, const char **argv)
{
	int code;

	vmt_log_init(argv[0]);
	check_options_parse(&run.opt, argc, argv);
	vmt_ignore_sigpipe();
	/*
	 * A stop ends the run after the check under way, every device
	 * RUNNING; SIGUSR1, vfio-mig-save's switchover request, is ignored.
	 */
	vmt_signals_install(VMT_SIGUSR1_IGNORE);
	code = run_checks();
	vmt_failure_free(&run.failure);
	results_free();
	check_options_free(&run.opt);
	return vmt_cli_exit(code);
}
