// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vfio-mig-load: read a migstream and resume VFIO devices from it.
 *
 * main() is every tool's skeleton: the options, the signals, the load
 * (load.c, over input.c, target.c and writer.c), the one report of its
 * outcome, the release of what it holds. The report is where a failed
 * load puts the devices back, after every writer stopped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cli.h"
#include "common/events.h"
#include "common/closestream.h"
#include "common/exitcodes.h"
#include "common/failure.h"
#include "common/json-doc.h"
#include "common/log.h"
#include "common/outcome-syslog.h"
#include "common/progress.h"
#include "common/signals.h"
#include "stream/record-alloc.h"
#include "vfio/mig-events.h"
#include "input.h"
#include "load.h"
#include "options.h"
#include "reply.h"
#include "summary.h"
#include "target.h"

/*
 * A failed load: every device it touched is reset (fates[] says where
 * each one is now), the error line is said, and the source hears it on
 * the return path. Returns the error line (malloc'd), or NULL.
 */
static char *report_failure(struct load *ld, struct vmt_device_fate **fates)
{
	char *line;

	*fates = calloc(ld->target_count ? ld->target_count : 1, sizeof(**fates));
	if (*fates)
		load_recover_targets(ld, *fates);
	line = vmt_failure_line(&ld->failure, *fates, *fates ? ld->target_count : 0);
	if (!ld->opts.json)
		vmt_err("%s", line ? line : "out of memory");
	if (load_reply_result(ld->reply, vmt_failure_exit_code(&ld->failure),
			      line ? line : "out of memory", ld->targets, ld->target_count,
			      ld->opts.then_state) < 0 &&
	    !load_input_broken(ld))
		vmt_warn("return fd %d: cannot send the failure to the source", ld->opts.return_fd);
	return line;
}

/* The "exit" event (and the "failure" one before it) of --events, and --syslog's line. */
static void record_outcome(struct load *ld, int code, const char *line)
{
	char ok[128];

	if (ld->opts.dry_run)
		snprintf(ok, sizeof(ok), "dry run of %u device%s", ld->target_count,
			 ld->target_count == 1 ? "" : "s");
	else
		snprintf(ok, sizeof(ok), "loaded %u device%s", ld->target_count,
			 ld->target_count == 1 ? "" : "s");
	vmt_events_exit(ld->events, code, &ld->failure, line, ok);
	if (ld->opts.syslog)
		vmt_syslog_outcome(code != VMT_EXIT_OK, line ? line : ok, ld->opts.events_file);
}

/*
 * --events: the recorder, and lib/vfio/mig's arcs into it, before any
 * device is touched. Returns the exit code (0 when it is open or not asked for).
 */
static int open_events(struct load *ld)
{
	int ret;

	if (!ld->opts.events_file)
		return VMT_EXIT_OK;
	ret = vmt_events_open(&ld->events, ld->opts.events_file, vmt_progname(), 0);
	if (ret < 0) {
		vmt_err("%s: cannot open for writing: %s", ld->opts.events_file, strerror(-ret));
		if (ld->opts.syslog)
			vmt_syslog_outcome(true, "the events file cannot be opened for writing",
					   ld->opts.events_file);
		return VMT_EXIT_FAILURE;
	}
	vmt_mig_record_events(ld->events);
	return VMT_EXIT_OK;
}

/* Closed last; events that could not be written are one more warning. */
static void close_events(struct load *ld)
{
	int ret;

	vmt_mig_record_events(NULL);
	ret = vmt_events_close(ld->events);
	ld->events = NULL;
	if (ret < 0)
		vmt_warn("%s: events lost: %s", ld->opts.events_file, strerror(-ret));
}

/*
 * The load's outcome, told once: the error line (or, with --json, the
 * document that carries it) or the summary, and the summary file.
 * Returns the exit code.
 */
static int report(struct load *ld)
{
	bool failed = vmt_failed(&ld->failure);
	struct vmt_device_fate *fates = NULL;
	char *line = NULL, *summary_line;
	int code;

	vmt_progress_clear(&ld->progress);
	/* a dry run that read its stream: each verdict was said, nothing was loaded */
	if (ld->opts.dry_run && !failed) {
		record_outcome(ld, ld->dry_run_code, NULL);
		return ld->dry_run_code;
	}
	load_summary_end(ld);
	if (failed)
		line = report_failure(ld, &fates);
	summary_line = load_summary_file(ld, line);
	if (!failed && vmt_failed(&ld->failure)) {
		failed = true;
		line = summary_line;
		if (!ld->opts.json)
			vmt_err("%s", line ? line : "out of memory");
	}
	if (ld->opts.json)
		vmt_json_emit(stderr, load_summary_json(&ld->summary, &ld->failure, line));
	else if (!failed && vmt_log_level() >= VMT_LOG_INFO)
		load_summary_print_text(stderr, &ld->summary, vmt_log_level() >= VMT_LOG_DEBUG);
	code = failed ? vmt_failure_exit_code(&ld->failure) : VMT_EXIT_OK;
	record_outcome(ld, code, line);
	free(line);
	free(fates);
	return code;
}

static void release(struct load *ld)
{
	for (unsigned int i = 0; i < ld->target_count; i++)
		load_target_close(&ld->targets[i]);
	free(ld->targets);
	free(ld->summary.devices);
	free(ld->writer_ctx);
	if (ld->wake_fd >= 0)
		close(ld->wake_fd);
	if (ld->writers_fd >= 0)
		close(ld->writers_fd);
	pthread_mutex_destroy(&ld->fail_lock);
	load_close_input(ld);
	load_reply_free(ld->reply);
	close_events(ld);
	load_options_free(&ld->opts);
	vmt_failure_free(&ld->failure);
}

int main(int argc, const char **argv)
{
	struct load ld = {
		.input_fd = STDIN_FILENO, .input_name = "<stdin>", .wake_fd = -1, .writers_fd = -1
	};
	int code;

	vmt_log_init(argv[0]);
	vmt_record_alloc_init();
	load_options_parse(&ld.opts, argc, argv);
	pthread_mutex_init(&ld.fail_lock, NULL);
	ld.summary.queue_limit = ld.opts.queue_limit;
	ld.summary.inputs = ld.opts.inputs;
	ld.summary.input_count = ld.opts.input_count;
	/* --listen: the address is the input the summary names */
	if (ld.opts.address) {
		ld.summary.inputs = &ld.opts.address;
		ld.summary.input_count = 1;
	}
	vmt_ignore_sigpipe();
	/*
	 * A stop signal ends the load at the next record, or a blocked read,
	 * and the devices are reset. SIGUSR1 is ignored: it is vfio-mig-save's
	 * switchover request, and "kill -USR1 %job" reaches the whole pipeline.
	 */
	vmt_signals_install(VMT_SIGUSR1_IGNORE);

	code = open_events(&ld);
	if (code != VMT_EXIT_OK) {
		load_options_free(&ld.opts);
		return vmt_cli_exit(code);
	}
	load_run(&ld);
	code = report(&ld);
	load_finish_input(&ld);
	release(&ld);
	return vmt_cli_exit(code);
}
