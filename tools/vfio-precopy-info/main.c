// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vfio-precopy-info: what a VFIO device would send if it migrated now, and
 * how fast that changes. Moves the device RUNNING -> PRE_COPY (PRE_COPY_P2P
 * from RUNNING_P2P), samples VFIO_MIG_GET_PRECOPY_INFO and MIG_DATA_SIZE,
 * optionally drains the pre-copy data, and always puts the device back in
 * the state it found it in.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <popt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "closestream.h"
#include "device-record.h"
#include "exitcodes.h"
#include "log.h"
#include "stream-writer.h"
#include "strutils.h"
#include "timeutil.h"
#include "vfio-device.h"
#include "vfio-mig.h"

#include "estimate.h"
#include "report.h"
#include "sample.h"

#define DRAIN_BUFFER (1u << 20)
#define NSEC_PER_SEC 1000000000ull

struct options {
	const char *device;
	bool force_group;
	bool watch;
	uint64_t interval_ns;
	uint64_t count;	      /* 0: until --duration or a signal */
	uint64_t duration_ns; /* 0: no limit */
	bool drain;
	const char *output;   /* -o: drained data + info as a stream */
	bool stream;	      /* info records as a stream on stdout */
	bool json;
	bool no_precopy;
	bool precopy_asked;   /* a pre-copy figure was explicitly asked for */
	double bandwidth;     /* 0: no estimate */
	uint64_t downtime_ns;
	int zstd_level;
	bool force;
};

static volatile sig_atomic_t stop_signal;

static void on_stop_signal(int sig)
{
	stop_signal = sig;
}

static void install_signal_handlers(void)
{
	/* No SA_RESTART: a blocked sleep or read returns so the loop can stop. */
	struct sigaction sa = { .sa_handler = on_stop_signal };
	struct sigaction ignore = { .sa_handler = SIG_IGN };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	/* vfio-mig-save's switchover request: its default action would kill us in PRE_COPY. */
	sigemptyset(&ignore.sa_mask);
	sigaction(SIGUSR1, &ignore, NULL);
}

static void usage(void)
{
	printf("Usage:\n"
	       " %s [options] -d DEVICE\n"
	       "\n"
	       "Report what a VFIO device would send if it migrated now: migration flags,\n"
	       "state, stop-copy size and, with PRE_COPY, the pre-copy initial and dirty\n"
	       "bytes over time. The device is returned to the state it was found in.\n"
	       "\n"
	       "Device:\n"
	       " -d, --device DEV          /dev/vfio/devices/vfioN, a PCI address, an mdev\n"
	       "                           UUID, or fd:N (an inherited device fd)\n"
	       "     --group               use the legacy group/container interface\n"
	       "\n"
	       "Sampling:\n"
	       " -w, --watch INTERVAL      sample every INTERVAL (e.g. 500ms, 1s) until\n"
	       "                           --count, --duration or SIGINT/SIGTERM\n"
	       " -c, --count N             take N samples (with --watch; default: no limit)\n"
	       "     --duration TIME       stop sampling after TIME\n"
	       "     --drain               read and discard the pre-copy data between samples,\n"
	       "                           so initial_bytes goes down and the dirty rate shows\n"
	       " -o, --output FILE         with --drain: write the drained data and the samples\n"
	       "                           as a migstream to FILE ('-': stdout)\n"
	       "     --stream              write the samples as migstream PRECOPY_INFO records\n"
	       "                           to stdout (for migstream-cat)\n"
	       " -z, --compress[=LEVEL]    zstd-compress stream records (default level 3)\n"
	       "     --no-precopy          only report flags, state and stop-copy size; do not\n"
	       "                           change the device state\n"
	       "     --precopy             fail (exit 3) unless pre-copy figures can be given\n"
	       "\n"
	       "Estimate:\n"
	       " -b, --bandwidth RATE      link bandwidth in bytes/s (e.g. 1G): estimate whether\n"
	       "                           pre-copy converges and the stop-copy time\n"
	       "     --downtime TIME       downtime target for the estimate (default 300ms)\n"
	       "\n"
	       "Output:\n"
	       "     --json                JSON lines: device, samples, estimate\n"
	       " -f, --force               write a stream to a terminal anyway\n"
	       " -q, --quiet               less chatter\n"
	       " -v, --verbose             more (repeat for ioctl traces)\n"
	       " -h, --help                this text\n"
	       " -V, --version             version\n"
	       "\n"
	       "Exit status: 0 ok, 1 device or I/O failure, 2 usage, 3 unsupported (no\n"
	       "migration, or pre-copy figures asked of a device without PRE_COPY).\n"
	       "See vfio-precopy-info(1).\n",
	       vmt_progname());
}

enum {
	OPT_DEVICE = 1, OPT_GROUP, OPT_WATCH,
	OPT_COUNT, OPT_DURATION, OPT_DRAIN, OPT_OUTPUT, OPT_STREAM, OPT_COMPRESS, OPT_NO_PRECOPY,
	OPT_PRECOPY, OPT_BANDWIDTH, OPT_DOWNTIME, OPT_JSON, OPT_FORCE,
};

/*
 * File scope, not a local: --help, --version and usage errors exit from
 * inside the parse, and LeakSanitizer must still see the context.
 */
static poptContext ctx;

static void parse_options(int argc, const char **argv, struct options *o)
{
	const char *arg = NULL;
	static const struct poptOption table[] = {
		VMT_POPT_COMMON_OPTIONS,
		{ "device", 'd', POPT_ARG_STRING, NULL, OPT_DEVICE, NULL, NULL },
		{ "group", '\0', POPT_ARG_NONE, NULL, OPT_GROUP, NULL, NULL },
		{ "watch", 'w', POPT_ARG_STRING, NULL, OPT_WATCH, NULL, NULL },
		{ "count", 'c', POPT_ARG_STRING, NULL, OPT_COUNT, NULL, NULL },
		{ "duration", '\0', POPT_ARG_STRING, NULL, OPT_DURATION, NULL, NULL },
		{ "drain", '\0', POPT_ARG_NONE, NULL, OPT_DRAIN, NULL, NULL },
		{ "output", 'o', POPT_ARG_STRING, NULL, OPT_OUTPUT, NULL, NULL },
		{ "stream", '\0', POPT_ARG_NONE, NULL, OPT_STREAM, NULL, NULL },
		{ "compress", 'z', POPT_ARG_STRING | POPT_ARGFLAG_OPTIONAL, NULL, OPT_COMPRESS,
		  NULL, NULL },
		{ "no-precopy", '\0', POPT_ARG_NONE, NULL, OPT_NO_PRECOPY, NULL, NULL },
		{ "precopy", '\0', POPT_ARG_NONE, NULL, OPT_PRECOPY, NULL, NULL },
		{ "bandwidth", 'b', POPT_ARG_STRING, NULL, OPT_BANDWIDTH, NULL, NULL },
		{ "downtime", '\0', POPT_ARG_STRING, NULL, OPT_DOWNTIME, NULL, NULL },
		{ "json", '\0', POPT_ARG_NONE, NULL, OPT_JSON, NULL, NULL },
		{ "force", 'f', POPT_ARG_NONE, NULL, OPT_FORCE, NULL, NULL },
		POPT_TABLEEND
	};
	int rc;

	*o = (struct options){ .downtime_ns = 300 * 1000000ull, .interval_ns = NSEC_PER_SEC };
	ctx = poptGetContext(NULL, argc, argv, table, 0);
	while ((rc = poptGetNextOpt(ctx)) > 0) {
		if (vmt_cli_common_option(ctx, rc, usage))
			continue;
		arg = poptGetOptArg(ctx);
		switch (rc) {
		case OPT_DEVICE:
			if (o->device)
				vmt_usage_error("only one device (-d) at a time");
			o->device = arg;
			arg = NULL; /* kept */
			break;
		case OPT_GROUP:
			o->force_group = true;
			break;
		case OPT_WATCH:
			o->watch = true;
			o->interval_ns = vmt_duration_ns_or_usage(arg, "--watch");
			if (o->interval_ns < 1000000)
				vmt_usage_error("invalid --watch argument: '%s' (at least 1ms)", arg);
			break;
		case OPT_COUNT:
			o->count = vmt_u64_or_usage(arg, "--count", 1, UINT32_MAX);
			break;
		case OPT_DURATION:
			o->duration_ns = vmt_duration_ns_or_usage(arg, "--duration");
			break;
		case OPT_DRAIN:
			o->drain = true;
			break;
		case OPT_OUTPUT:
			o->output = arg;
			arg = NULL;
			break;
		case OPT_STREAM:
			o->stream = true;
			break;
		case OPT_COMPRESS:
			o->zstd_level = arg ? (int)vmt_u64_or_usage(arg, "--compress", 1, 19) : 3;
			break;
		case OPT_NO_PRECOPY:
			o->no_precopy = true;
			break;
		case OPT_PRECOPY:
			o->precopy_asked = true;
			break;
		case OPT_BANDWIDTH:
			o->bandwidth = (double)vmt_size_or_usage(arg, "--bandwidth");
			if (o->bandwidth <= 0)
				vmt_usage_error("invalid --bandwidth argument: '%s' (must be > 0)", arg);
			break;
		case OPT_DOWNTIME:
			o->downtime_ns = vmt_duration_ns_or_usage(arg, "--downtime");
			if (!o->downtime_ns)
				vmt_usage_error("invalid --downtime argument: '%s' (must be > 0)", arg);
			break;
		case OPT_JSON:
			o->json = true;
			break;
		case OPT_FORCE:
			o->force = true;
			break;
		}
		free((void *)arg);
	}
	vmt_cli_check_popt_end(ctx, rc);

	const char *extra = poptGetArg(ctx);

	if (extra && !o->device) {
		o->device = strdup(extra);
		extra = poptGetArg(ctx);
	}
	if (extra)
		vmt_usage_error("unexpected argument '%s'", extra);
	poptFreeContext(ctx);

	if (!o->device)
		vmt_usage_error("no device given (-d DEVICE)");
	if (o->output && !o->drain)
		vmt_usage_error("--output writes drained data: it needs --drain");
	if (o->stream && o->output && strcmp(o->output, "-") == 0)
		vmt_usage_error("--stream and --output - both want stdout");
	if (o->no_precopy && (o->watch || o->drain || o->stream || o->precopy_asked || o->count))
		vmt_usage_error("--no-precopy does not go with --watch, --count, --drain, --stream "
				"or --precopy");
	if ((o->count || o->duration_ns) && !o->watch)
		o->watch = true; /* --count 5 alone samples every second */
	if (o->watch || o->drain || o->stream)
		o->precopy_asked = true;
}

/* Sleep until an absolute CLOCK_MONOTONIC time, or until a stop signal. */
static void sleep_until(uint64_t deadline_ns)
{
	struct timespec ts = {
		.tv_sec = deadline_ns / NSEC_PER_SEC,
		.tv_nsec = deadline_ns % NSEC_PER_SEC,
	};

	while (!stop_signal && clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

struct session {
	struct options *opt;
	struct vmt_device *dev;
	struct precopy_report report;
	struct migstream_writer *info_stream; /* --stream */
	struct migstream_writer *data_stream; /* -o */
	int data_stream_fd;
	uint64_t start_ns;
	unsigned char *buf;
	uint64_t initial_left; /* initial bytes not drained yet, for DATA phases */
	struct precopy_sample first, prev, last;
	unsigned int samples;
	bool quiet_report; /* -q with a stream on stdout: no report at all */
	bool report_failed; /* said once: not again when stdout is closed */
	/* The failure, printed once the device is back so the line can say where it is. */
	char failure[512];
};

__attribute__((format(printf, 2, 3)))
static void session_fail(struct session *s, const char *fmt, ...)
{
	va_list ap;

	if (s->failure[0])
		return;
	va_start(ap, fmt);
	vsnprintf(s->failure, sizeof(s->failure), fmt, ap);
	va_end(ap);
}

static const char *data_stream_name(const struct session *s)
{
	return strcmp(s->opt->output, "-") == 0 ? "<stdout>" : s->opt->output;
}

static int take_sample(struct session *s, struct precopy_sample *smp)
{
	int ret;

	smp->t = (double)(vmt_monotonic_ns() - s->start_ns) / 1e9;
	smp->time_ns = vmt_realtime_ns();
	smp->state = s->dev->state;
	ret = vmt_mig_precopy_info(s->dev, &smp->initial_bytes, &smp->dirty_bytes);
	if (ret)
		return ret;
	smp->stop_copy_known = vmt_mig_stop_copy_size(s->dev, &smp->stop_copy_bytes) == 0;
	return 0;
}

static int write_info_record(struct session *s, struct migstream_writer *w,
			     const struct precopy_sample *smp)
{
	struct migstream_precopy_info info = {
		.device = 0,
		.state = smp->state,
		.time_ns = smp->time_ns,
		.initial_bytes = smp->initial_bytes,
		.dirty_bytes = smp->dirty_bytes,
		.stop_copy_size = smp->stop_copy_known ? smp->stop_copy_bytes
						       : MIGSTREAM_SIZE_UNKNOWN,
	};

	return migstream_write_precopy_info(w, &info);
}

/*
 * Read what the device has for now, until it pauses or the deadline (the
 * next sample) comes: a device dirtying faster than we read never pauses.
 */
static int drain(struct session *s, uint64_t deadline_ns, uint64_t *drained)
{
	*drained = 0;
	while (!stop_signal) {
		size_t got = 0;
		int st = vmt_mig_read_data(s->dev->data_fd, s->buf, DRAIN_BUFFER, true, &got);

		/* -EINTR: a signal; keep what was read, then the loop looks at stop_signal. */
		if (st < 0 && st != -EINTR)
			return st;
		if (got && s->data_stream) {
			/* The device sends its initial section first (uAPI), then dirty data. */
			size_t initial = got < s->initial_left ? got : (size_t)s->initial_left;
			int ret = 0;

			if (initial)
				ret = migstream_write_data(s->data_stream, 0,
							   MIGSTREAM_PHASE_PRECOPY_INITIAL, s->buf,
							   initial);
			if (!ret && got > initial)
				ret = migstream_write_data(s->data_stream, 0,
							   MIGSTREAM_PHASE_PRECOPY_DIRTY,
							   s->buf + initial, got - initial);
			if (ret) {
				session_fail(s, "%s: writing the stream: %s", data_stream_name(s),
					     strerror(-ret));
				return ret;
			}
			s->initial_left -= initial;
		} else {
			s->initial_left -= got < s->initial_left ? got : s->initial_left;
		}
		*drained += got;
		if (st == VMT_DATA_PAUSED || vmt_monotonic_ns() >= deadline_ns)
			break;
	}
	return 0;
}

static int open_streams(struct session *s)
{
	struct migstream_writer_opts wopts = {
		.producer = "vfio-precopy-info",
		.zstd_level = s->opt->zstd_level,
	};
	struct migstream_device rec;
	int ret;

	vmt_device_fill_record(s->dev, 0, &rec);
	if (vmt_mig_stop_copy_size(s->dev, &rec.stop_copy_size))
		rec.stop_copy_size = MIGSTREAM_SIZE_UNKNOWN;

	if (s->opt->stream) {
		ret = migstream_writer_new(&s->info_stream, STDOUT_FILENO, &wopts);
		if (!ret)
			ret = migstream_write_device(s->info_stream, &rec);
		if (ret) {
			vmt_err("<stdout>: cannot write the stream: %s", strerror(-ret));
			return ret;
		}
	}
	if (s->opt->output) {
		if (strcmp(s->opt->output, "-") == 0) {
			s->data_stream_fd = STDOUT_FILENO;
		} else {
			s->data_stream_fd = open(s->opt->output,
						 O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
			if (s->data_stream_fd < 0) {
				ret = -errno;
				vmt_err("%s: cannot open: %s", s->opt->output, strerror(errno));
				return ret;
			}
		}
		ret = migstream_writer_new(&s->data_stream, s->data_stream_fd, &wopts);
		if (!ret)
			ret = migstream_write_device(s->data_stream, &rec);
		if (ret) {
			vmt_err("%s: cannot write the stream: %s", s->opt->output, strerror(-ret));
			return ret;
		}
	}
	return 0;
}

static int finish_stream(struct migstream_writer *w, const char *what, bool end_device)
{
	int ret = 0;

	if (!w)
		return 0;
	if (end_device)
		ret = migstream_write_device_end(w, 0);
	if (!ret)
		ret = migstream_writer_finish(w);
	if (ret)
		vmt_err("%s: cannot finish the stream: %s", what, strerror(-ret));
	return ret;
}

/* The sampling loop, with the device in a PRE_COPY state. */
static int sample_loop(struct session *s)
{
	struct options *o = s->opt;
	uint64_t next = s->start_ns;
	uint64_t end = o->duration_ns ? s->start_ns + o->duration_ns : UINT64_MAX;
	uint64_t limit = o->watch ? o->count : (o->drain ? 2 : 1);
	int ret;

	for (;;) {
		struct precopy_sample smp = { 0 };

		ret = take_sample(s, &smp);
		if (ret) {
			session_fail(s, "%s: VFIO_MIG_GET_PRECOPY_INFO failed: %s", s->dev->name,
				     strerror(-ret));
			return ret;
		}
		if (s->samples == 0)
			s->initial_left = smp.initial_bytes;
		smp.drained_bytes = s->samples ? s->last.drained_bytes : 0;
		smp.drained_total = s->samples ? s->last.drained_total : 0;
		precopy_sample_rate(s->samples ? &s->prev : NULL, &smp);
		if (s->samples == 0)
			s->first = smp;
		if (!s->quiet_report) {
			report_sample(&s->report, &smp);
			ret = report_flush(&s->report);
			if (ret) {
				s->report_failed = true;
				session_fail(s, "%s: writing the report: %s", report_name(&s->report),
					     strerror(-ret));
				return ret;
			}
		}
		if (s->info_stream && (ret = write_info_record(s, s->info_stream, &smp))) {
			session_fail(s, "<stdout>: writing the stream: %s", strerror(-ret));
			return ret;
		}
		if (s->data_stream && (ret = write_info_record(s, s->data_stream, &smp))) {
			session_fail(s, "%s: writing the stream: %s", data_stream_name(s),
				     strerror(-ret));
			return ret;
		}
		s->prev = smp;
		s->samples++;

		if (stop_signal || (limit && s->samples >= limit))
			break;
		next += o->interval_ns;
		if (next > end)
			break;
		/* The drained amount belongs to the next sample's interval. */
		s->last.drained_bytes = 0;
		if (o->drain) {
			uint64_t drained;

			ret = drain(s, next, &drained);
			if (ret) {
				/* A stream write failure was named by drain() already. */
				session_fail(s, "%s: reading pre-copy data: %s", s->dev->name,
					     strerror(-ret));
				return ret;
			}
			s->last.drained_bytes = drained;
			s->last.drained_total += drained;
		}
		if (o->watch)
			sleep_until(next);
		if (stop_signal)
			break;
	}
	return 0;
}

static void print_estimate(struct session *s)
{
	struct precopy_estimate_input in = {
		.bandwidth = s->opt->bandwidth,
		.downtime_target_s = (double)s->opt->downtime_ns / 1e9,
		.pending_bytes = s->first.initial_bytes + s->first.dirty_bytes,
		.stop_copy_known = s->prev.stop_copy_known,
		.stop_copy_bytes = s->prev.stop_copy_bytes,
	};
	struct precopy_estimate e;

	if (s->samples >= 2 && s->prev.t > s->first.t) {
		/* Mean over the whole run, not the last interval's noise. */
		double pend_first = (double)s->first.initial_bytes + s->first.dirty_bytes;
		double pend_last = (double)s->prev.initial_bytes + s->prev.dirty_bytes;
		double created = pend_last - pend_first + (double)s->prev.drained_total;

		in.rate_known = true;
		in.rate = created > 0 ? created / (s->prev.t - s->first.t) : 0;
	}
	precopy_estimate(&in, &e);
	report_estimate(&s->report, &in, &e, s->samples);
}

/* Put the device back where it was; say where it is when that fails. */
static int restore_state(struct session *s, uint32_t original)
{
	uint32_t final = VMT_STATE_UNKNOWN;
	int ret = vmt_mig_set_state(s->dev, original);

	if (!ret)
		return 0;
	vmt_err("%s: could not return to %s: %s; recovering", s->dev->name,
		vmt_mig_state_name(original), strerror(-ret));
	ret = vmt_device_recover(s->dev, original, &final);
	if (ret)
		vmt_err("%s: recovery failed: device is now %s", s->dev->name,
			vmt_mig_state_name(final));
	else
		vmt_warn("%s: recovered: device is now %s%s", s->dev->name,
			 vmt_mig_state_name(final), s->dev->resets ? " (after a reset)" : "");
	return ret ? ret : -EIO;
}

static void report_failure(const struct session *s)
{
	if (s->failure[0])
		vmt_err("%s; device %s now %s%s", s->failure, s->dev->name,
			vmt_mig_state_name(s->dev->state), s->dev->resets ? " (after reset)" : "");
}

int main(int argc, const char **argv)
{
	struct options opt;
	struct session s = { .opt = &opt, .data_stream_fd = -1 };
	struct vmt_device_open_opts open_opts = { 0 };
	struct precopy_device_facts facts = { 0 };
	uint32_t original;
	int ret, exit_code = VMT_EXIT_OK;

	vmt_log_init(argv[0]);
	vmt_ignore_sigpipe();
	parse_options(argc, argv, &opt);

	bool stream_on_stdout = opt.stream || (opt.output && strcmp(opt.output, "-") == 0);

	if (stream_on_stdout && !vmt_binary_output_ok(STDOUT_FILENO, opt.force)) {
		exit_code = VMT_EXIT_USAGE;
		goto out;
	}
	/* When stdout carries a stream the report goes to stderr. */
	s.report.out = stream_on_stdout ? stderr : stdout;
	s.report.json = opt.json;
	s.report.table = opt.watch;
	/* -q: no report beside a stream, and only the table with --watch. */
	bool quiet = vmt_log_level() < VMT_LOG_INFO;
	bool quiet_report = stream_on_stdout && quiet;
	bool show_facts = !quiet_report && !(quiet && opt.watch);

	s.quiet_report = quiet_report;

	open_opts.force_group = opt.force_group;
	ret = vmt_device_open(opt.device, &open_opts, &s.dev);
	if (ret) {
		vmt_err("%s: cannot open the device: %s", opt.device, strerror(-ret));
		exit_code = ret == -EINVAL ? VMT_EXIT_USAGE : VMT_EXIT_FAILURE;
		goto out;
	}
	ret = vmt_mig_query(s.dev);
	if (ret) {
		if (ret == -EOPNOTSUPP)
			vmt_err("%s: the device does not support VFIO migration", s.dev->name);
		else
			vmt_err("%s: cannot read the migration flags: %s", s.dev->name,
				strerror(-ret));
		exit_code = vmt_exit_code_for_error(ret);
		goto out;
	}
	ret = vmt_mig_get_state(s.dev, &original);
	if (ret) {
		vmt_err("%s: cannot read the migration state: %s", s.dev->name, strerror(-ret));
		exit_code = VMT_EXIT_FAILURE;
		goto out;
	}

	facts = (struct precopy_device_facts){
		.name = s.dev->name,
		.node = s.dev->node,
		.access = vmt_device_access_name(s.dev->access),
		.mig_flags = s.dev->mig_flags,
		.state = original,
		.has_precopy = s.dev->mig_flags & VFIO_MIGRATION_PRE_COPY,
	};
	facts.stop_copy_known = vmt_mig_stop_copy_size(s.dev, &facts.stop_copy_bytes) == 0;
	if (show_facts)
		report_device(&s.report, &facts);

	if (opt.no_precopy)
		goto out;
	if (!facts.has_precopy) {
		if (opt.precopy_asked) {
			vmt_err("%s: no pre-copy figures: the device has no PRE_COPY support "
				"(migration flags 0x%" PRIx64 ")", s.dev->name, s.dev->mig_flags);
			exit_code = VMT_EXIT_UNSUPPORTED;
		}
		goto out;
	}
	if (original != VFIO_DEVICE_STATE_RUNNING && original != VFIO_DEVICE_STATE_RUNNING_P2P) {
		vmt_err("%s: the device is in %s; sampling pre-copy needs RUNNING or RUNNING_P2P "
			"(is a migration under way?)", s.dev->name, vmt_mig_state_name(original));
		exit_code = VMT_EXIT_FAILURE;
		goto out;
	}

	ret = open_streams(&s);
	if (ret) {
		exit_code = VMT_EXIT_FAILURE;
		goto out;
	}
	if (opt.drain && !(s.buf = malloc(DRAIN_BUFFER))) {
		vmt_err("out of memory");
		exit_code = VMT_EXIT_FAILURE;
		goto out;
	}

	install_signal_handlers();
	uint32_t precopy_state = original == VFIO_DEVICE_STATE_RUNNING_P2P
					 ? VFIO_DEVICE_STATE_PRE_COPY_P2P
					 : VFIO_DEVICE_STATE_PRE_COPY;

	ret = vmt_mig_set_state(s.dev, precopy_state);
	if (ret) {
		session_fail(&s, "%s: %s -> %s failed: %s", s.dev->name,
			     vmt_mig_state_name(original), vmt_mig_state_name(precopy_state),
			     strerror(-ret));
		exit_code = VMT_EXIT_FAILURE;
		/* The kernel may have walked part of the arc: put it back. */
		if (s.dev->state != original)
			restore_state(&s, original);
		report_failure(&s);
		goto out;
	}
	vmt_dbg("%s: %s -> %s", s.dev->name, vmt_mig_state_name(original),
		vmt_mig_state_name(precopy_state));
	s.start_ns = vmt_monotonic_ns();

	ret = sample_loop(&s);
	if (ret)
		exit_code = vmt_exit_code_for_error(ret);

	/* Back first: the device should not stay in PRE_COPY while we print. */
	if (restore_state(&s, original))
		exit_code = VMT_EXIT_FAILURE;
	else
		vmt_dbg("%s: back to %s", s.dev->name, vmt_mig_state_name(original));
	report_failure(&s);

	if (stop_signal)
		vmt_info("stopped by signal %d; device %s is %s", (int)stop_signal, s.dev->name,
			 vmt_mig_state_name(s.dev->state));
	if (opt.bandwidth > 0 && s.samples && !quiet_report)
		print_estimate(&s);
	/* After a failure the streams stay unfinished: a reader must see them cut short. */
	if (!s.failure[0] && (finish_stream(s.info_stream, "<stdout>", false) ||
			      finish_stream(s.data_stream, opt.output ? data_stream_name(&s) : "", true)))
		exit_code = VMT_EXIT_FAILURE;

out:
	migstream_writer_free(s.info_stream);
	migstream_writer_free(s.data_stream);
	if (s.data_stream_fd > STDOUT_FILENO && close(s.data_stream_fd)) {
		vmt_err("%s: %s", opt.output, strerror(errno));
		exit_code = VMT_EXIT_FAILURE;
	}
	free(s.buf);
	vmt_device_close(s.dev);
	free((void *)opt.device);
	free((void *)opt.output);
	int close_rc = s.report_failed ? VMT_EXIT_FAILURE : vmt_close_stdout();

	return exit_code ? exit_code : close_rc;
}
