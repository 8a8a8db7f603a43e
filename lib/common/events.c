// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The flight recorder; see events.h and vfio-mig-events(5).
 *
 * The process keeps a copy of every line it wrote (at most the cap, plus
 * the few events that are never dropped), so that thinning needs no read
 * of the file back.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json_object.h>
#include <json-c/linkhash.h>

#include "common/c.h"
#include "common/events.h"
#include "common/failure.h"
#include "common/fdio.h"
#include "common/json-doc.h"
#include "common/timeutil.h"

static const char *const kind_names[VMT_EV_KINDS] = {
	[VMT_EV_START] = "start",
	[VMT_EV_ARC] = "arc",
	[VMT_EV_IOCTL_FAILED] = "ioctl-failed",
	[VMT_EV_IO_FAILED] = "io-failed",
	[VMT_EV_PRECOPY_ROUND] = "precopy-round",
	[VMT_EV_SWITCHOVER] = "switchover",
	[VMT_EV_DEVICE_DATA] = "device-data",
	[VMT_EV_THROUGHPUT] = "throughput",
	[VMT_EV_CHANNEL_DONE] = "channel-done",
	[VMT_EV_REPLY_SENT] = "reply-sent",
	[VMT_EV_REPLY_RECEIVED] = "reply-received",
	[VMT_EV_RECOVERY] = "recovery",
	[VMT_EV_FAILURE] = "failure",
	[VMT_EV_EXIT] = "exit",
	[VMT_EV_DROPPED] = "dropped",
	[VMT_EV_STOP_COPY] = "stop-copy",
	[VMT_EV_CLOCK_OFFSET] = "clock-offset",
	[VMT_EV_LOAD_EVENT] = "load-event",
};

/* No line crosses a boundary of this many bytes of the file (append_line). */
#define EVENTS_BLOCK 4096

/* Thinned in this order: the per-second samples carry the least each. */
static const enum vmt_event_kind thin_order[] = { VMT_EV_THROUGHPUT, VMT_EV_PRECOPY_ROUND };

const char *vmt_event_kind_name(enum vmt_event_kind kind)
{
	return kind < VMT_EV_KINDS ? kind_names[kind] : "unknown";
}

bool vmt_event_kind_is_detail(enum vmt_event_kind kind)
{
	return kind == VMT_EV_THROUGHPUT || kind == VMT_EV_PRECOPY_ROUND;
}

struct event_line {
	enum vmt_event_kind kind;
	size_t len;
	char *text; /* with its "\n" */
};

struct vmt_events {
	pthread_mutex_t lock;
	char *path;
	char *tool;
	char host[HOST_NAME_MAX + 1];
	int fd;
	bool rewritable; /* a regular file: thinning rewrites it */
	uint64_t cap;
	int err; /* the first write that failed */
	uint64_t seq;
	/* guarded by lock: the file's lines, as written */
	struct event_line *lines;
	size_t nlines, lines_cap;
	uint64_t size;
	uint64_t dropped[VMT_EV_KINDS];
	uint64_t dropped_total, dropped_told;
	vmt_events_tap_fn *tap; /* vmt_events_set_tap */
	void *tap_arg;
};

void vmt_events_set_tap(struct vmt_events *ev, vmt_events_tap_fn *tap, void *arg)
{
	if (!ev)
		return;
	pthread_mutex_lock(&ev->lock);
	ev->tap = tap;
	ev->tap_arg = arg;
	pthread_mutex_unlock(&ev->lock);
}

struct json_object *vmt_event_fields(void)
{
	return json_object_new_object();
}

uint64_t vmt_events_size(const struct vmt_events *ev)
{
	return ev ? ev->size : 0;
}

uint64_t vmt_events_dropped(const struct vmt_events *ev)
{
	return ev ? ev->dropped_total : 0;
}

const char *vmt_events_path(const struct vmt_events *ev)
{
	return ev ? ev->path : "";
}

/* RFC 3339 in UTC with nanoseconds: 2026-12-07T23:01:02.123456789Z */
static void format_wall_clock(uint64_t ns, char *buf, size_t len)
{
	time_t secs = (time_t)(ns / NSEC_PER_SEC);
	struct tm tm;
	size_t n;

	gmtime_r(&secs, &tm);
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%09lluZ", (unsigned long long)(ns % NSEC_PER_SEC));
}

/* The line of one event: the common keys, then fields' (taken). NULL without memory. */
static char *format_line(struct vmt_events *ev, enum vmt_event_kind kind, const char *device,
			 struct json_object *fields, uint64_t seq, size_t *len)
{
	struct json_object *obj = json_object_new_object();
	char wall[64];
	const char *s;
	char *line = NULL;

	if (!obj)
		goto out;
	format_wall_clock(vmt_realtime_ns(), wall, sizeof(wall));
	vmt_json_add_u64(obj, "mono_ns", vmt_monotonic_ns());
	vmt_json_add_str(obj, "time", wall);
	vmt_json_add_str(obj, "host", ev->host);
	vmt_json_add_str(obj, "tool", ev->tool);
	vmt_json_add_i64(obj, "pid", getpid());
	vmt_json_add_u64(obj, "seq", seq);
	vmt_json_add_str(obj, "kind", vmt_event_kind_name(kind));
	if (device)
		vmt_json_add_str(obj, "device", device);
	if (fields) {
		json_object_object_foreach(fields, key, val)
			json_object_object_add(obj, key, json_object_get(val));
	}
	s = json_object_to_json_string_ext(obj,
					   JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	if (s && (line = malloc(strlen(s) + 2))) {
		*len = strlen(s) + 1;
		memcpy(line, s, *len - 1);
		line[*len - 1] = '\n';
		line[*len] = '\0';
	}
out:
	json_object_put(obj);
	json_object_put(fields);
	return line;
}

static int keep_line(struct vmt_events *ev, enum vmt_event_kind kind, char *text, size_t len)
{
	if (ev->nlines == ev->lines_cap) {
		size_t n = ev->lines_cap ? 2 * ev->lines_cap : 64;
		struct event_line *l = realloc(ev->lines, n * sizeof(*l));

		if (!l)
			return -ENOMEM;
		ev->lines = l;
		ev->lines_cap = n;
	}
	ev->lines[ev->nlines++] = (struct event_line){ .kind = kind, .len = len, .text = text };
	return 0;
}

static void forget_line(struct vmt_events *ev, size_t i)
{
	ev->size -= ev->lines[i].len;
	free(ev->lines[i].text);
	ev->lines[i].text = NULL;
}

/* The lines left after forget_line()s, closed up. */
static void compact_lines(struct vmt_events *ev)
{
	size_t out = 0;

	for (size_t i = 0; i < ev->nlines; i++)
		if (ev->lines[i].text)
			ev->lines[out++] = ev->lines[i];
	ev->nlines = out;
}

/*
 * Drop every other line of kind in the older half of them (the only one,
 * if one is left): the shape of the run stays, at a coarser grain. Whether
 * anything was dropped.
 */
static bool thin_kind(struct vmt_events *ev, enum vmt_event_kind kind)
{
	size_t count = 0, seen = 0, half;

	for (size_t i = 0; i < ev->nlines; i++)
		count += ev->lines[i].kind == kind;
	if (!count)
		return false;
	half = count > 1 ? count / 2 : 1;
	for (size_t i = 0; i < ev->nlines && seen < half; i++) {
		if (ev->lines[i].kind != kind)
			continue;
		if (seen++ % 2 == 0) {
			forget_line(ev, i);
			ev->dropped[kind]++;
			ev->dropped_total++;
		}
	}
	compact_lines(ev);
	return true;
}

/* Earlier "dropped" events: the new one counts everything. */
static void forget_dropped_events(struct vmt_events *ev)
{
	for (size_t i = 0; i < ev->nlines; i++)
		if (ev->lines[i].kind == VMT_EV_DROPPED)
			forget_line(ev, i);
	compact_lines(ev);
}

static char *dropped_line(struct vmt_events *ev, size_t *len)
{
	struct json_object *f = vmt_event_fields();

	if (f) {
		vmt_json_add_u64(f, "total", ev->dropped_total);
		for (size_t i = 0; i < ARRAY_SIZE(thin_order); i++)
			vmt_json_add_u64(f, vmt_event_kind_name(thin_order[i]),
					 ev->dropped[thin_order[i]]);
	}
	return format_line(ev, VMT_EV_DROPPED, NULL, f, ev->seq++, len);
}

/*
 * A write(2) to a regular file that a fatal signal (SIGKILL) interrupts
 * stops at a page boundary (generic_perform_write, iomap_write_iter look
 * at fatal_signal_pending before each page or folio): so that a killed
 * tool leaves whole lines, no line crosses a 4 KiB boundary of the file
 * (pages and folios are multiples of it). A line that would is preceded by
 * a line of spaces up to the boundary (readers skip blank lines). A FIFO
 * or a terminal takes the line as it is. *size: the file's, updated.
 */
static int append_line(const struct vmt_events *ev, int fd, uint64_t *size, const char *text,
		       size_t len)
{
	size_t used = *size % EVENTS_BLOCK;
	int ret;

	if (ev->rewritable && used && used + len > EVENTS_BLOCK && len <= EVENTS_BLOCK) {
		char pad[EVENTS_BLOCK];
		size_t n = EVENTS_BLOCK - used;

		memset(pad, ' ', n - 1);
		pad[n - 1] = '\n';
		if ((ret = vmt_write_all(fd, pad, n)) < 0)
			return ret;
		*size += n;
	}
	ret = vmt_write_all(fd, text, len);
	if (ret == 0)
		*size += len;
	return ret;
}

/*
 * The kept lines as the file: written to a temporary beside it, renamed
 * over it; the temporary's fd (O_APPEND) is the file's from then on.
 */
static int rewrite_file(struct vmt_events *ev)
{
	size_t n = strlen(ev->path) + 32;
	char *tmp = malloc(n);
	uint64_t size = 0;
	int fd, ret = 0;

	if (!tmp)
		return -ENOMEM;
	snprintf(tmp, n, "%s.tmp-%ld", ev->path, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0) {
		free(tmp);
		return -errno;
	}
	for (size_t i = 0; i < ev->nlines && ret == 0; i++)
		ret = append_line(ev, fd, &size, ev->lines[i].text, ev->lines[i].len);
	if (ret == 0 && rename(tmp, ev->path) < 0)
		ret = -errno;
	if (ret < 0) {
		close(fd);
		unlink(tmp);
	} else {
		close(ev->fd);
		ev->fd = fd;
		ev->size = size;
	}
	free(tmp);
	return ret;
}

/*
 * Thin the detail until len more bytes fit in three quarters of the cap
 * (or none is left) and rewrite the file without it; *thinned says
 * whether anything went.
 */
static int make_room(struct vmt_events *ev, size_t len, bool *thinned)
{
	uint64_t target = ev->cap - ev->cap / 4;

	*thinned = false;
	while (ev->size + len > target) {
		bool any = false;

		for (size_t i = 0; i < ARRAY_SIZE(thin_order) && !any; i++)
			any = thin_kind(ev, thin_order[i]);
		if (!any)
			break;
		*thinned = true;
	}
	if (!*thinned)
		return 0;
	/* The "dropped" event that follows counts everything. */
	forget_dropped_events(ev);
	return rewrite_file(ev);
}

/* A "dropped" event, after the line that made room: seq and mono_ns keep their order. */
static int append_dropped_line(struct vmt_events *ev)
{
	size_t len;
	char *text = dropped_line(ev, &len);
	int ret;

	if (!text)
		return -ENOMEM;
	ret = append_line(ev, ev->fd, &ev->size, text, len);
	if (ret == 0)
		ret = keep_line(ev, VMT_EV_DROPPED, text, len);
	else
		free(text);
	if (ret == 0)
		ev->dropped_told = ev->dropped_total;
	return ret;
}

static int write_line(struct vmt_events *ev, enum vmt_event_kind kind, char *text, size_t len)
{
	bool thinned = false;
	int ret = 0;

	if (ev->size + len > ev->cap && ev->rewritable &&
	    (ret = make_room(ev, len, &thinned)) < 0) {
		free(text);
		return ret;
	}
	if (ev->size + len > ev->cap && vmt_event_kind_is_detail(kind)) {
		ev->dropped[kind]++;
		ev->dropped_total++;
		free(text);
	} else if ((ret = append_line(ev, ev->fd, &ev->size, text, len)) < 0 ||
		   (ret = keep_line(ev, kind, text, len)) < 0) {
		free(text);
		return ret;
	}
	return thinned ? append_dropped_line(ev) : 0;
}

void vmt_events_emit(struct vmt_events *ev, enum vmt_event_kind kind, const char *device,
		     struct json_object *fields)
{
	size_t len;
	char *text;

	if (!ev) {
		json_object_put(fields);
		return;
	}
	pthread_mutex_lock(&ev->lock);
	if (ev->err) {
		json_object_put(fields);
	} else if (!(text = format_line(ev, kind, device, fields, ev->seq++, &len))) {
		ev->err = -ENOMEM;
	} else {
		if (ev->tap)
			ev->tap(ev->tap_arg, kind, text, len);
		ev->err = write_line(ev, kind, text, len);
	}
	pthread_mutex_unlock(&ev->lock);
}

void vmt_events_io_failed(struct vmt_events *ev, const char *device, const char *call,
			  const char *state, uint64_t offset, int err)
{
	struct json_object *f;

	if (!ev)
		return;
	f = vmt_event_fields();
	vmt_json_add_str(f, "call", call);
	vmt_json_add_str(f, "state", state);
	vmt_json_add_u64(f, "offset", offset);
	vmt_json_add_str(f, "result", "failed");
	vmt_json_add_i64(f, "errno", -err);
	vmt_json_add_str(f, "error", strerror(-err));
	vmt_events_emit(ev, VMT_EV_IO_FAILED, device, f);
}

static void failure_event(struct vmt_events *ev, const struct vmt_failure *f, const char *line)
{
	struct json_object *fields = vmt_event_fields();

	if (fields) {
		vmt_json_add_str(fields, "message", line ? line : f->what);
		vmt_json_add_i64(fields, "errno", -f->err);
		vmt_json_add_str(fields, "error", strerror(-f->err));
		if (f->what)
			vmt_json_add_str(fields, "what", f->what);
		if (f->file)
			vmt_json_add_str(fields, "file", f->file);
		if (f->has_record)
			vmt_json_add_u64(fields, "record", f->record);
	}
	vmt_events_emit(ev, VMT_EV_FAILURE, f->device, fields);
}

void vmt_events_exit(struct vmt_events *ev, int code, const struct vmt_failure *f, const char *line,
		     const char *ok_outcome)
{
	bool failed = f && vmt_failed(f);
	struct json_object *fields;

	if (!ev)
		return;
	if (failed)
		failure_event(ev, f, line);
	fields = vmt_event_fields();
	if (fields) {
		vmt_json_add_i64(fields, "code", code);
		vmt_json_add_str(fields, "outcome", !failed ? ok_outcome : line ? line : f->what);
	}
	vmt_events_emit(ev, VMT_EV_EXIT, NULL, fields);
}

static void start_event(struct vmt_events *ev)
{
	struct json_object *f = vmt_event_fields();

	if (f) {
		vmt_json_add_str(f, "version", PACKAGE_VERSION);
		vmt_json_add_u64(f, "cap", ev->cap);
	}
	vmt_events_emit(ev, VMT_EV_START, NULL, f);
}

static void free_events(struct vmt_events *ev)
{
	for (size_t i = 0; i < ev->nlines; i++)
		free(ev->lines[i].text);
	free(ev->lines);
	free(ev->path);
	free(ev->tool);
	pthread_mutex_destroy(&ev->lock);
	free(ev);
}

int vmt_events_open(struct vmt_events **out, const char *path, const char *tool, uint64_t cap)
{
	struct vmt_events *ev = calloc(1, sizeof(*ev));
	struct stat st;

	if (!ev)
		return -ENOMEM;
	pthread_mutex_init(&ev->lock, NULL);
	ev->path = strdup(path);
	ev->tool = strdup(tool);
	ev->cap = cap ? cap : VMT_EVENTS_DEFAULT_CAP;
	if (!ev->path || !ev->tool) {
		free_events(ev);
		return -ENOMEM;
	}
	if (gethostname(ev->host, sizeof(ev->host) - 1) < 0)
		snprintf(ev->host, sizeof(ev->host), "unknown");
	/* A regular file is this run's alone (replaced); a FIFO or a tty just gets lines. */
	ev->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_TRUNC | O_CLOEXEC, 0644);
	if (ev->fd < 0) {
		int err = -errno;

		free_events(ev);
		return err;
	}
	ev->rewritable = fstat(ev->fd, &st) == 0 && S_ISREG(st.st_mode);
	start_event(ev);
	*out = ev;
	return 0;
}

int vmt_events_close(struct vmt_events *ev)
{
	int err;

	if (!ev)
		return 0;
	/* What was dropped since the last "dropped" event (a FIFO's detail past the cap). */
	if (ev->dropped_total != ev->dropped_told) {
		size_t len;
		char *text = dropped_line(ev, &len);

		if (text && !ev->err)
			ev->err = append_line(ev, ev->fd, &ev->size, text, len);
		free(text);
	}
	err = ev->err;
	if (close(ev->fd) < 0 && !err)
		err = -errno;
	free_events(ev);
	return err;
}
