// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * lib/common/events: every line is one JSON object with the common keys;
 * the cap thins throughput before pre-copy rounds and never drops the
 * other kinds; threads writing at once leave whole, distinct lines; a
 * writer killed at any moment (also while it rewrites the file) leaves
 * only whole lines.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json_tokener.h>

#include "common/c.h"
#include "common/events.h"
#include "common/json-doc.h"
#include "unit.h"

static char dir[] = "/tmp/test-events.XXXXXX";
static char path[64];

/* What a file holds, line by line. */
struct tally {
	unsigned int lines, bad, unterminated, blank;
	unsigned int by_kind[VMT_EV_KINDS + 1];
	struct json_object *last_dropped; /* the last "dropped" event (owned) */
	uint64_t max_seq;
	unsigned char *seq_seen; /* a flag per seq up to seq_cap */
	size_t seq_cap;
	unsigned int seq_twice;
	unsigned int backwards; /* lines whose seq or mono_ns is below the line before's */
	uint64_t last_seq, last_mono;
	uint64_t first_throughput_seq;
};

static int kind_of(const char *name)
{
	for (int k = 0; k < VMT_EV_KINDS; k++)
		if (!strcmp(name, vmt_event_kind_name(k)))
			return k;
	return VMT_EV_KINDS;
}

static const char *str_of(struct json_object *obj, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(obj, key, &v) ? json_object_get_string(v) : NULL;
}

/* The common keys of vfio-mig-events(5), each of its type. */
static bool common_keys_ok(struct json_object *obj)
{
	static const char *const ints[] = { "mono_ns", "pid", "seq" };
	static const char *const strs[] = { "time", "host", "tool", "kind" };
	struct json_object *v;
	const char *t;

	for (size_t i = 0; i < ARRAY_SIZE(ints); i++)
		if (!json_object_object_get_ex(obj, ints[i], &v) ||
		    !json_object_is_type(v, json_type_int))
			return false;
	for (size_t i = 0; i < ARRAY_SIZE(strs); i++)
		if (!json_object_object_get_ex(obj, strs[i], &v) ||
		    !json_object_is_type(v, json_type_string))
			return false;
	/* 2026-12-07T23:01:02.123456789Z */
	t = str_of(obj, "time");
	return strlen(t) == 30 && t[4] == '-' && t[10] == 'T' && t[19] == '.' && t[29] == 'Z';
}

static void tally_line(struct tally *t, const char *line)
{
	struct json_object *obj = json_tokener_parse(line);
	struct json_object *v;
	uint64_t seq;
	int kind;

	t->lines++;
	if (!obj || !common_keys_ok(obj)) {
		t->bad++;
		json_object_put(obj);
		return;
	}
	kind = kind_of(str_of(obj, "kind"));
	t->by_kind[kind]++;
	json_object_object_get_ex(obj, "seq", &v);
	seq = json_object_get_uint64(v);
	json_object_object_get_ex(obj, "mono_ns", &v);
	if (t->lines > 1 && (seq < t->last_seq || json_object_get_uint64(v) < t->last_mono))
		t->backwards++;
	t->last_seq = seq;
	t->last_mono = json_object_get_uint64(v);
	t->max_seq = seq > t->max_seq ? seq : t->max_seq;
	if (seq < t->seq_cap && t->seq_seen[seq]++)
		t->seq_twice++;
	if (kind == VMT_EV_THROUGHPUT && !t->first_throughput_seq)
		t->first_throughput_seq = seq;
	if (kind == VMT_EV_DROPPED) {
		json_object_put(t->last_dropped);
		t->last_dropped = obj;
		return;
	}
	json_object_put(obj);
}

/* Reads the file whole; a last line without its "\n" is counted apart. */
static void tally_file(struct tally *t, const char *name)
{
	struct stat st;
	char *buf, *line, *nl;
	int fd = open(name, O_RDONLY);

	*t = (struct tally){ .seq_cap = 1u << 20 };
	t->seq_seen = calloc(t->seq_cap, 1);
	CHECK(fd >= 0 && fstat(fd, &st) == 0);
	if (fd < 0)
		return;
	buf = malloc(st.st_size + 1);
	CHECK_EQ(read(fd, buf, st.st_size), st.st_size);
	close(fd);
	buf[st.st_size] = '\0';
	for (line = buf; *line; line = nl + 1) {
		nl = strchr(line, '\n');
		if (!nl) {
			t->unterminated++;
			break;
		}
		*nl = '\0';
		if (line[strspn(line, " ")] == '\0')
			t->blank++;
		else
			tally_line(t, line);
	}
	free(buf);
}

static void tally_free(struct tally *t)
{
	json_object_put(t->last_dropped);
	free(t->seq_seen);
}

static const char *whole_file(const char *name)
{
	static char buf[4096];
	int fd = open(name, O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static uint64_t dropped_count(const struct tally *t, const char *key)
{
	struct json_object *v;

	if (!t->last_dropped || !json_object_object_get_ex(t->last_dropped, key, &v))
		return 0;
	return json_object_get_uint64(v);
}

static uint64_t file_size(const char *name)
{
	struct stat st;

	return stat(name, &st) == 0 ? (uint64_t)st.st_size : 0;
}

static void emit_kind(struct vmt_events *ev, enum vmt_event_kind kind, unsigned int n)
{
	struct json_object *f = vmt_event_fields();

	vmt_json_add_u64(f, "n", n);
	vmt_json_add_str(f, "note", "padding so that a line is about a hundred bytes long");
	vmt_events_emit(ev, kind, kind == VMT_EV_THROUGHPUT ? NULL : "vfio0", f);
}

static void lines_are_json_with_common_keys(void)
{
	struct vmt_events *ev = NULL;
	struct json_object *f = vmt_event_fields();
	struct tally t;

	CHECK_EQ(vmt_events_open(&ev, path, "test-events", 0), 0);
	vmt_json_add_str(f, "from", "RUNNING");
	vmt_json_add_str(f, "to", "STOP \"quoted\"\n");
	vmt_events_emit(ev, VMT_EV_ARC, "0000:01:00.0", f);
	vmt_events_emit(ev, VMT_EV_EXIT, NULL, NULL);
	CHECK_EQ(vmt_events_close(ev), 0);
	tally_file(&t, path);
	CHECK_EQ(t.lines, 3);
	CHECK_EQ(t.bad, 0);
	CHECK_EQ(t.unterminated, 0);
	CHECK_EQ(t.by_kind[VMT_EV_START], 1);
	CHECK_EQ(t.by_kind[VMT_EV_ARC], 1);
	CHECK_EQ(t.by_kind[VMT_EV_EXIT], 1);
	/* The common keys first, the device, then the kind's own. */
	CHECK_STR_CONTAINS(whole_file(path), "\"kind\":\"arc\",\"device\":\"0000:01:00.0\","
					     "\"from\":\"RUNNING\"");
	tally_free(&t);
}

/* Each kind's lines in the file, and the line the arc and failure events are in. */
static void cap_thins_throughput_first_and_keeps_the_rest(void)
{
	const uint64_t cap = 40000;
	struct vmt_events *ev = NULL;
	struct tally t;

	CHECK_EQ(vmt_events_open(&ev, path, "test-events", cap), 0);
	for (unsigned int i = 0; i < 400; i++) {
		emit_kind(ev, VMT_EV_THROUGHPUT, i);
		if (i % 4 == 0)
			emit_kind(ev, VMT_EV_PRECOPY_ROUND, i);
		if (i % 40 == 0)
			emit_kind(ev, VMT_EV_ARC, i);
	}
	emit_kind(ev, VMT_EV_FAILURE, 0);
	emit_kind(ev, VMT_EV_EXIT, 0);
	CHECK(vmt_events_dropped(ev) > 0);
	CHECK_EQ(vmt_events_close(ev), 0);

	CHECK(file_size(path) <= cap);
	tally_file(&t, path);
	CHECK_EQ(t.bad, 0);
	CHECK_EQ(t.unterminated, 0);
	/* Never dropped. */
	CHECK_EQ(t.by_kind[VMT_EV_START], 1);
	CHECK_EQ(t.by_kind[VMT_EV_ARC], 10);
	CHECK_EQ(t.by_kind[VMT_EV_FAILURE], 1);
	CHECK_EQ(t.by_kind[VMT_EV_EXIT], 1);
	/* In the order they happened, also around the rewrites. */
	CHECK_EQ(t.backwards, 0);
	/* One "dropped" event, whose counts add up with what is left. */
	CHECK_EQ(t.by_kind[VMT_EV_DROPPED], 1);
	CHECK_EQ(t.by_kind[VMT_EV_THROUGHPUT] + dropped_count(&t, "throughput"), 400);
	CHECK_EQ(t.by_kind[VMT_EV_PRECOPY_ROUND] + dropped_count(&t, "precopy-round"), 100);
	CHECK_EQ(dropped_count(&t, "total"),
		 dropped_count(&t, "throughput") + dropped_count(&t, "precopy-round"));
	/* Throughput goes first: here the rounds fit once it is thinned. */
	CHECK(dropped_count(&t, "throughput") > 0);
	CHECK_EQ(dropped_count(&t, "precopy-round"), 0);
	/* The oldest are thinned: the first sample left is not the first sent. */
	CHECK(t.first_throughput_seq > 2);
	tally_free(&t);
	CHECK(!access(path, F_OK));
}

/* With no throughput left to thin, the pre-copy rounds go; the arcs stay past the cap. */
static void rounds_go_next_and_arcs_never(void)
{
	const uint64_t cap = 4096;
	struct vmt_events *ev = NULL;
	struct tally t;

	CHECK_EQ(vmt_events_open(&ev, path, "test-events", cap), 0);
	for (unsigned int i = 0; i < 200; i++)
		emit_kind(ev, VMT_EV_PRECOPY_ROUND, i);
	for (unsigned int i = 0; i < 100; i++)
		emit_kind(ev, VMT_EV_ARC, i);
	CHECK_EQ(vmt_events_close(ev), 0);
	tally_file(&t, path);
	CHECK_EQ(t.bad, 0);
	CHECK_EQ(t.by_kind[VMT_EV_ARC], 100);
	CHECK(dropped_count(&t, "precopy-round") > 0);
	CHECK_EQ(t.by_kind[VMT_EV_PRECOPY_ROUND] + dropped_count(&t, "precopy-round"), 200);
	/* The arcs alone pass the cap: the file does too, with every one of them. */
	CHECK(file_size(path) > cap);
	tally_free(&t);
}

struct writer_arg {
	struct vmt_events *ev;
	unsigned int n;
};

static void *writer(void *p)
{
	struct writer_arg *a = p;

	for (unsigned int i = 0; i < a->n; i++)
		emit_kind(a->ev, i % 2 ? VMT_EV_THROUGHPUT : VMT_EV_DEVICE_DATA, i);
	return NULL;
}

static void concurrent_writers_leave_whole_distinct_lines(void)
{
	enum {
		THREADS = 8,
		EACH = 2000
	};
	struct vmt_events *ev = NULL;
	pthread_t th[THREADS];
	struct writer_arg a;
	struct tally t;

	CHECK_EQ(vmt_events_open(&ev, path, "test-events", 0), 0);
	a = (struct writer_arg){ .ev = ev, .n = EACH };
	for (int i = 0; i < THREADS; i++)
		pthread_create(&th[i], NULL, writer, &a);
	for (int i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	CHECK_EQ(vmt_events_close(ev), 0);
	tally_file(&t, path);
	CHECK_EQ(t.lines, 1 + THREADS * EACH);
	CHECK_EQ(t.bad, 0);
	CHECK_EQ(t.unterminated, 0);
	CHECK_EQ(t.seq_twice, 0);
	CHECK_EQ(t.max_seq, THREADS * EACH);
	tally_free(&t);
}

/* Concurrent writers under a small cap: the rewrites and the appends do not mix. */
static void concurrent_writers_under_the_cap(void)
{
	enum {
		THREADS = 4,
		EACH = 3000
	};
	struct vmt_events *ev = NULL;
	pthread_t th[THREADS];
	struct writer_arg a;
	struct tally t;

	CHECK_EQ(vmt_events_open(&ev, path, "test-events", 32768), 0);
	a = (struct writer_arg){ .ev = ev, .n = EACH };
	for (int i = 0; i < THREADS; i++)
		pthread_create(&th[i], NULL, writer, &a);
	for (int i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	CHECK_EQ(vmt_events_close(ev), 0);
	tally_file(&t, path);
	CHECK_EQ(t.bad, 0);
	CHECK_EQ(t.seq_twice, 0);
	CHECK_EQ(t.backwards, 0);
	CHECK_EQ(t.by_kind[VMT_EV_DEVICE_DATA], THREADS * EACH / 2);
	CHECK_EQ(t.by_kind[VMT_EV_THROUGHPUT] + dropped_count(&t, "throughput"),
		 THREADS * EACH / 2);
	tally_free(&t);
}

/*
 * A child writing as fast as it can (rewriting under cap, 0: none), killed
 * ms after it wrote its first events (it says so on a pipe: a loaded
 * machine may start it late).
 */
static void kill_a_writer(uint64_t cap, unsigned int ms)
{
	struct timespec ts = { .tv_nsec = ms * 1000000L };
	struct tally t;
	int ready[2], status;
	char byte;
	pid_t pid;

	CHECK_EQ(pipe(ready), 0);
	pid = fork();
	if (pid == 0) {
		struct vmt_events *ev = NULL;

		close(ready[0]);
		if (vmt_events_open(&ev, path, "test-events", cap) < 0)
			_exit(1);
		for (unsigned int i = 0;; i++) {
			emit_kind(ev, i % 3 ? VMT_EV_THROUGHPUT : VMT_EV_ARC, i);
			if (i == 20 && write(ready[1], "", 1) != 1)
				_exit(1);
		}
	}
	close(ready[1]);
	CHECK_EQ(read(ready[0], &byte, 1), 1);
	close(ready[0]);
	nanosleep(&ts, NULL);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	CHECK(WIFSIGNALED(status));
	tally_file(&t, path);
	CHECK(t.lines > 20);
	CHECK_EQ(t.bad, 0);
	CHECK_EQ(t.unterminated, 0);
	CHECK_EQ(t.by_kind[VMT_EV_START], 1);
	tally_free(&t);
}

static void killed_writer_leaves_whole_lines(void)
{
	for (unsigned int i = 0; i < 10; i++) {
		kill_a_writer(0, 5 + 7 * i);
		/* The arcs pass a cap this small soon: rewrites and appends both. */
		kill_a_writer(65536, 5 + 7 * i);
	}
}

static void open_failure_is_errno(void)
{
	struct vmt_events *ev = NULL;

	CHECK_EQ(vmt_events_open(&ev, "/nonexistent-dir/events", "test-events", 0), -ENOENT);
	/* A NULL recorder takes events and frees them. */
	emit_kind(NULL, VMT_EV_ARC, 1);
	CHECK_EQ(vmt_events_close(NULL), 0);
}

int main(void)
{
	if (!mkdtemp(dir))
		return 99;
	snprintf(path, sizeof(path), "%s/events", dir);
	RUN(lines_are_json_with_common_keys);
	RUN(cap_thins_throughput_first_and_keeps_the_rest);
	RUN(rounds_go_next_and_arcs_never);
	RUN(concurrent_writers_leave_whole_distinct_lines);
	RUN(concurrent_writers_under_the_cap);
	RUN(killed_writer_leaves_whole_lines);
	RUN(open_failure_is_errno);
	/* A child killed while it rewrote the file leaves its temporary: expected. */
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	if (system(path) != 0)
		return 99;
	return unit_done();
}
