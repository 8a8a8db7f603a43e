// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A destination that misbehaves on purpose, for the tests of
 * vfio-mig-save's return path (tests/cli/return-path.bats,
 * tests/kernel/return-path.bats): it reads a forward stream on standard
 * input and writes a reply stream (man/migstream.5, RETURN PATH) on
 * standard output, as vfio-mig-load --return-fd 1 does, but it says what
 * it is told to, when it is told to. It loads nothing.
 *
 * Usage: fake-destination [OPTION...]
 *   --ack             ack every INIT_DATA_SENT as soon as it is read
 *   --result=WHEN     a successful LOAD_RESULT (every device declared so
 *                     far LOADED and IN_STATE, RUNNING) at WHEN: marker
 *                     (the first INIT_DATA_SENT, instead of its ack), stop-copy
 *                     (the first STOP_COPY DATA record) or end (STREAM_END:
 *                     the only right time)
 *   --fail=MESSAGE    at STREAM_END, a LOAD_RESULT of exit 1 saying MESSAGE,
 *                     in which \e, \a, \r, \n and \\ are the bytes C means
 *   --chatter=KIND    at STREAM_END, never a LOAD_RESULT: every 50 ms one
 *                     more record, an ack (KIND ack: the last one again) or
 *                     an unknown ancillary record (KIND ancillary), until
 *                     the return channel is closed
 *   --bad=KIND        at STREAM_END, a malformed reply: device (an ack for
 *                     device 1000), forward (DEVICE and DATA records, which
 *                     belong to a forward stream), flags (a result with a
 *                     device flag bit no revision defines), echo-short (a
 *                     TIME_ECHO of 8 bytes), echo-probe (a TIME_ECHO of
 *                     a probe never sent), event-long (a LOAD_EVENT of
 *                     4097 bytes) or event-json (a LOAD_EVENT that is not
 *                     an event's JSON object)
 *   --end-delay=MS    wait MS milliseconds between the LOAD_RESULT and the
 *                     reply stream's end, and say on standard error when
 *                     that end could not be written (the save had closed
 *                     the return channel on the result alone)
 *   --slow=MS         read at most 64 KiB at a time, MS milliseconds apart
 *                     (a slow link that never stops)
 *   --stall           only this: read nothing and say nothing (the reply
 *                     stream's preamble aside) until either side hangs up
 *   --fill-pipe       only this: grow the pipe on standard output to 1 MiB
 *                     and fill it but for 64 bytes (as a destination that
 *                     stopped reading long ago leaves it), then exit
 * Having said it, it reads the rest of the stream and ends the reply
 * stream. The exit status is 0 unless the command line is wrong (2): what
 * the saving side did is for the test to look at.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "common/timeutil.h"
#include "stream/reader.h"
#include "stream/reply.h"
#include "stream/writer.h"

#define UNKNOWN_ANCILLARY_TYPE 0x01ff
#define CHATTER_INTERVAL_NS (50 * 1000000L)
#define FILL_ROOM 64
#define SLOW_PIECE (64 * 1024)

enum when {
	NEVER,
	AT_MARKER,
	AT_STOP_COPY,
	AT_END
};

struct fake {
	bool ack;
	enum when result_at;
	const char *fail_message;
	const char *chatter; /* "ack", "ancillary" */
	const char *bad;     /* "device", "forward", "flags", "echo-short", "echo-probe" */
	struct migstream_writer *replies;
	bool replies_gone; /* the saving side closed the return channel */
	struct migstream_switchover_ack last_ack;
	uint32_t devices[MIGSTREAM_MAX_DEVICES];
	unsigned int ndevices;
	bool result_sent;
	long slow_ms; /* 0: read as fast as it comes */
	long end_delay_ms;
};

static void usage_error(const char *what)
{
	fprintf(stderr, "fake-destination: %s (see the comment at the top of its source)\n", what);
	exit(2);
}

/* A write that fails (the save went away) ends the replies, not the reading. */
static void sent(struct fake *f, int ret)
{
	if (ret < 0)
		f->replies_gone = true;
}

static void send_ack(struct fake *f, const struct migstream_switchover_ack *ack)
{
	uint8_t buf[MIGSTREAM_SWITCHOVER_ACK_LEN];

	migstream_encode_switchover_ack(ack, buf);
	sent(f,
	     migstream_write_record(f->replies, MIGSTREAM_REC_SWITCHOVER_ACK, 0, buf, sizeof(buf)));
}

/* A result naming every device declared so far with flags, then the reply stream's end. */
static void send_result(struct fake *f, uint32_t exit_code, uint32_t flags, const char *message)
{
	static struct migstream_load_result r;
	static uint8_t buf[MIGSTREAM_LOAD_RESULT_MAX_LEN];
	int len;

	r = (struct migstream_load_result){
		.exit_code = exit_code,
		.device_count = f->ndevices,
		.time_ns = vmt_realtime_ns(),
	};
	for (unsigned int i = 0; i < f->ndevices; i++)
		r.devices[i] = (struct migstream_result_device){
			.device = f->devices[i],
			.state = 2, /* VFIO_DEVICE_STATE_RUNNING */
			.flags = flags,
		};
	snprintf(r.message, sizeof(r.message), "%s", message);
	len = migstream_encode_load_result(&r, buf, sizeof(buf));
	if (len < 0)
		usage_error("the result does not encode");
	sent(f,
	     migstream_write_record(f->replies, MIGSTREAM_REC_LOAD_RESULT, 0, buf, (uint32_t)len));
	if (f->end_delay_ms && !f->replies_gone) {
		const struct timespec pause = { .tv_sec = f->end_delay_ms / 1000,
						.tv_nsec = f->end_delay_ms % 1000 * 1000000 };

		nanosleep(&pause, NULL);
		sent(f, migstream_writer_finish(f->replies));
		if (f->replies_gone)
			fprintf(stderr,
				"fake-destination: the reply stream's end could not be written\n");
	} else {
		sent(f, migstream_writer_finish(f->replies));
	}
	f->result_sent = true;
}

static void send_success(struct fake *f)
{
	send_result(f, 0, MIGSTREAM_RESULT_LOADED | MIGSTREAM_RESULT_IN_STATE, "");
}

static void send_forward_records(struct fake *f)
{
	const struct migstream_device dev = { .index = 0, .name = "forward" };
	static const uint8_t data[16];

	sent(f, migstream_write_device(f->replies, &dev));
	if (!f->replies_gone)
		sent(f, migstream_write_data(f->replies, 0, MIGSTREAM_PHASE_STOP_COPY, data,
					     sizeof(data)));
}

static void send_bad_echo(struct fake *f, bool short_payload)
{
	const struct migstream_time_echo echo = {
		.probe = 1000000, .t1_ns = 1, .t2_ns = 2, .t3_ns = 3
	};
	uint8_t buf[MIGSTREAM_TIME_ECHO_LEN];

	migstream_encode_time_echo(&echo, buf);
	sent(f, migstream_write_record(f->replies, MIGSTREAM_REC_TIME_ECHO, MIGSTREAM_RF_ANCILLARY,
				       buf, short_payload ? 8 : sizeof(buf)));
}

static void send_bad_event(struct fake *f, bool too_long)
{
	static char text[MIGSTREAM_LOAD_EVENT_MAX_LEN + 1];
	size_t len;

	if (too_long) {
		len = sizeof(text);
		memset(text, ' ', len);
		static const char head[] = "{\"kind\":\"arc\",\"mono_ns\":1";

		memcpy(text, head, sizeof(head) - 1);
		text[len - 1] = '}';
	} else {
		len = (size_t)snprintf(text, sizeof(text), "{\"kind\":\"arc\"}");
	}
	sent(f, migstream_write_record(f->replies, MIGSTREAM_REC_LOAD_EVENT, MIGSTREAM_RF_ANCILLARY,
				       text, (uint32_t)len));
}

static void send_bad(struct fake *f)
{
	struct migstream_switchover_ack ack = { .device = 1000, .generation = 1 };

	if (strcmp(f->bad, "device") == 0)
		send_ack(f, &ack);
	else if (strcmp(f->bad, "forward") == 0)
		send_forward_records(f);
	else if (strcmp(f->bad, "flags") == 0)
		send_result(f, 0, MIGSTREAM_RESULT_LOADED | MIGSTREAM_RESULT_IN_STATE | 1u << 7,
			    "");
	else if (strncmp(f->bad, "event-", 6) == 0)
		send_bad_event(f, strcmp(f->bad, "event-long") == 0);
	else if (strncmp(f->bad, "echo-", 5) == 0)
		send_bad_echo(f, strcmp(f->bad, "echo-short") == 0);
	else
		usage_error(
			"--bad takes device, forward, flags, echo-short, echo-probe, event-long or event-json");
}

/* Records that keep the return channel busy and never answer, until it is closed. */
static void chatter(struct fake *f)
{
	static const uint8_t payload[8];
	const struct timespec interval = { .tv_nsec = CHATTER_INTERVAL_NS };
	bool acks = strcmp(f->chatter, "ack") == 0;

	if (!acks && strcmp(f->chatter, "ancillary") != 0)
		usage_error("--chatter takes ack or ancillary");
	while (!f->replies_gone) {
		if (acks && f->last_ack.generation)
			send_ack(f, &f->last_ack);
		else
			sent(f, migstream_write_record(f->replies, UNKNOWN_ANCILLARY_TYPE,
						       MIGSTREAM_RF_ANCILLARY, payload,
						       sizeof(payload)));
		nanosleep(&interval, NULL);
	}
}

static void on_marker(struct fake *f, const struct migstream_record *rec)
{
	struct migstream_init_data_sent m;

	if (migstream_decode_init_data_sent(rec, &m) < 0)
		return;
	f->last_ack = (struct migstream_switchover_ack){
		.device = m.device,
		.generation = m.generation,
		.bytes = m.offset,
		.time_ns = vmt_realtime_ns(),
	};
	/*
	 * The early result ends the reply stream before the ack would go: an
	 * ack first lets the save switch over before it reads the result, and
	 * the tests say the source never stopped.
	 */
	if (f->result_at == AT_MARKER && !f->result_sent)
		send_success(f);
	if (f->ack && !f->result_sent)
		send_ack(f, &f->last_ack);
}

static void on_stream_end(struct fake *f)
{
	if (f->bad)
		send_bad(f);
	if (f->chatter)
		chatter(f);
	if (f->fail_message && !f->result_sent)
		send_result(f, 1, MIGSTREAM_RESULT_RESET, f->fail_message);
	if (f->result_at == AT_END && !f->result_sent)
		send_success(f);
}

static void on_record(struct fake *f, const struct migstream_record *rec)
{
	switch (rec->type) {
	case MIGSTREAM_REC_DEVICE:
		if (f->ndevices < MIGSTREAM_MAX_DEVICES)
			f->devices[f->ndevices++] = rec->device.index;
		break;
	case MIGSTREAM_REC_INIT_DATA_SENT:
		on_marker(f, rec);
		break;
	case MIGSTREAM_REC_DATA:
		if (rec->data.phase == MIGSTREAM_PHASE_STOP_COPY && f->result_at == AT_STOP_COPY &&
		    !f->result_sent)
			send_success(f);
		break;
	case MIGSTREAM_REC_STREAM_END:
		on_stream_end(f);
		break;
	}
}

/* 1 MiB of pipe, all but FILL_ROOM bytes of it taken, in whole pages but the last. */
static int fill_pipe(int fd)
{
	static const uint8_t page[4096];
	int size = fcntl(fd, F_SETPIPE_SZ, 1 << 20), queued = 0;
	int flags = fcntl(fd, F_GETFL);
	ssize_t n;

	if (size < 0 || flags < 0 || ioctl(fd, FIONREAD, &queued) < 0) {
		perror("fake-destination: standard output is not a pipe");
		return 1;
	}
	/* Never blocked: an amount that does not fit fails instead. */
	fcntl(fd, F_SETFL, flags | O_NONBLOCK);
	for (long left = (long)size - queued - FILL_ROOM; left > 0; left -= n) {
		n = write(fd, page, left < (long)sizeof(page) ? (size_t)left : sizeof(page));
		if (n <= 0) {
			perror("fake-destination: filling the pipe");
			return 1;
		}
	}
	fcntl(fd, F_SETFL, flags);
	return 0;
}

/* The C escapes of a message that a command line cannot carry as bytes, in place. */
static const char *unescape(char *s)
{
	static const char from[] = "earn\\", to[] = "\x1b\a\r\n\\";
	char *out = s;

	for (const char *in = s; *in; in++) {
		const char *e = in[0] == '\\' && in[1] ? strchr(from, in[1]) : NULL;

		if (e) {
			*out++ = to[e - from];
			in++;
		} else {
			*out++ = *in;
		}
	}
	*out = '\0';
	return s;
}

/* A destination that stopped reading: holds both ends open until one hangs up. */
static int stall(void)
{
	struct pollfd fds[2] = { { .fd = STDIN_FILENO }, { .fd = STDOUT_FILENO } };

	/* No events asked: poll() reports only POLLHUP and POLLERR. */
	while (poll(fds, 2, -1) == 0 || (fds[0].revents == 0 && fds[1].revents == 0))
		;
	return 0;
}

static ssize_t read_slowly(void *ctx, void *buf, size_t len)
{
	const struct fake *f = ctx;
	const struct timespec pause = { .tv_sec = f->slow_ms / 1000,
					.tv_nsec = f->slow_ms % 1000 * 1000000 };
	ssize_t n;

	nanosleep(&pause, NULL);
	n = read(STDIN_FILENO, buf, len < SLOW_PIECE ? len : SLOW_PIECE);
	return n < 0 ? -errno : n;
}

static void parse(struct fake *f, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--ack") == 0)
			f->ack = true;
		else if (strcmp(a, "--result=marker") == 0)
			f->result_at = AT_MARKER;
		else if (strcmp(a, "--result=stop-copy") == 0)
			f->result_at = AT_STOP_COPY;
		else if (strcmp(a, "--result=end") == 0)
			f->result_at = AT_END;
		else if (strncmp(a, "--fail=", 7) == 0)
			f->fail_message = unescape(argv[i] + 7);
		else if (strncmp(a, "--chatter=", 10) == 0)
			f->chatter = a + 10;
		else if (strncmp(a, "--bad=", 6) == 0)
			f->bad = a + 6;
		else if (strncmp(a, "--end-delay=", 12) == 0)
			f->end_delay_ms = atol(a + 12);
		else if (strncmp(a, "--slow=", 7) == 0)
			f->slow_ms = atol(a + 7);
		else if (strcmp(a, "--stall") == 0)
			exit(stall());
		else if (strcmp(a, "--fill-pipe") == 0)
			exit(fill_pipe(STDOUT_FILENO));
		else
			usage_error("unknown option");
	}
}

int main(int argc, char **argv)
{
	const struct migstream_reader_opts ropts = { 0 };
	const struct migstream_writer_opts wopts = { .producer = "fake-destination" };
	struct migstream_reader *in;
	struct migstream_record rec;
	static struct fake f;
	int ret;

	parse(&f, argc, argv);
	signal(SIGPIPE, SIG_IGN);
	if (migstream_writer_new(&f.replies, STDOUT_FILENO, &wopts) < 0 ||
	    migstream_writer_start(f.replies) < 0 ||
	    (f.slow_ms ? migstream_reader_new_cb(&in, read_slowly, &f, "<stdin>", &ropts)
		       : migstream_reader_new(&in, STDIN_FILENO, "<stdin>", &ropts)) < 0) {
		perror("fake-destination: starting");
		return 0;
	}
	while ((ret = migstream_read_record(in, &rec)) > 0)
		if (!f.replies_gone)
			on_record(&f, &rec);
	if (ret < 0)
		fprintf(stderr, "fake-destination: %s\n", migstream_reader_error(in));
	migstream_reader_free(in);
	migstream_writer_free(f.replies);
	return 0;
}
