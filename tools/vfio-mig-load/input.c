// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vfio-mig-load's input; see input.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/c.h"
#include "common/closestream.h"
#include "common/exitcodes.h"
#include "common/fdio.h"
#include "common/log.h"
#include "common/signals.h"
#include "common/timeutil.h"
#include "net/listen-set.h"
#include "stream/channel-set.h"
#include "stream/reader.h"
#include "failure.h"
#include "input.h"

/*
 * read(2) for the reader, except that a stop signal or a writer's failure
 * ends a blocked read (ECANCELED) instead of being retried: a stalled
 * sender must not keep a device RESUMING after the user asked to stop or
 * another device failed. The wait is a poll on the input and the wake
 * eventfd, which closes the race with a signal or cancel that comes just
 * before it.
 */
static ssize_t read_input(void *ctx, void *buf, size_t len)
{
	struct load *ld = ctx;

	for (;;) {
		struct pollfd fds[2] = {
			{ .fd = ld->input_fd, .events = POLLIN },
			{ .fd = ld->wake_fd, .events = POLLIN },
		};
		ssize_t n;
		int rc;

		if (atomic_load(&ld->cancelled))
			return -ECANCELED;
		rc = vmt_signal_poll(fds, ld->wake_fd >= 0 ? 2 : 1, -1);
		if (rc == -EINTR && vmt_stop_signal())
			return -ECANCELED;
		if (rc < 0 && rc != -EINTR)
			return rc;
		if (rc <= 0 || !fds[0].revents)
			continue;
		n = read(ld->input_fd, buf, len);
		if (n >= 0)
			return n;
		if (errno != EINTR && errno != EAGAIN)
			return -errno;
	}
}

/*
 * The set's threads block every signal, so a stop signal reaches this
 * thread; its wait for a record asks this in short steps.
 */
static bool set_cancelled(void *ctx)
{
	const struct load *ld = ctx;

	return vmt_stop_signal() || atomic_load(&ld->cancelled);
}

/* Several -i: the channels of one set (lib/stream/channel-set), merged into one stream. */
static int open_channel_set(struct load *ld)
{
	struct migstream_channel_input in[MIGSTREAM_MAX_CHANNELS];
	const struct migstream_channel_set_opts sopts = {
		.reorder_limit = ld->opts.reorder_limit,
		/* the read-ahead over all channels: one more queue (vfio-mig-load(1), MEMORY) */
		.queue_limit = ld->opts.queue_limit,
		/* with a return path the source keeps its channels open until our answer */
		.end_at_stream_end = ld->reply != NULL,
		.cancelled = set_cancelled,
		.cancel_ctx = ld,
	};
	int rc;

	for (unsigned int i = 0; i < ld->channel_count; i++)
		in[i] = (struct migstream_channel_input){ .fd = ld->channel_fds[i],
							  .name = ld->channel_names[i] };
	rc = migstream_channel_set_open(&ld->set, in, ld->channel_count, &sopts);
	if (rc < 0)
		return load_fail(ld, vmt_exit_code_for_error(rc),
				 "%s and %u more: cannot read them as a set: %s",
				 ld->channel_names[0], ld->channel_count - 1, strerror(-rc));
	return 0;
}

int load_start_input(struct load *ld)
{
	/*
	 * With a reorder buffer, chunks may come in any order: the reader
	 * still checks each record and that no chunk comes twice, the reorder
	 * buffer puts them back in order and checks offsets, and the targets
	 * hash what they write and check the digest at DEVICE_END.
	 */
	const struct migstream_reader_opts ropts = { .unordered_data = ld->opts.reorder_limit > 0 };
	int rc;

	if (ld->channel_count > 1)
		return open_channel_set(ld);
	rc = migstream_reader_new_cb(&ld->reader, read_input, ld, ld->input_name, &ropts);
	if (rc < 0)
		return load_fail(ld, VMT_EXIT_FAILURE, "%s: %s", ld->input_name, strerror(-rc));
	vmt_grow_pipe(ld->input_fd);
	return 0;
}

int load_next_record(struct load *ld)
{
	int rc;

	if (!ld->set)
		return migstream_read_record(ld->reader, &ld->rec);
	rc = migstream_channel_set_next(ld->set, &ld->rec, &ld->rec_channel);
	if (rc > 0) {
		ld->input_name = ld->channel_names[ld->rec_channel];
		ld->set_records++;
	}
	return rc;
}

/*
 * The reader's message names the record and byte; the JSON error gets
 * them too, from the reader (the record was not handed out: ld->rec is
 * the one before it).
 */
static int reader_failed(struct load *ld, int rc)
{
	struct migstream_reader_where rw;
	struct vmt_where at = { .file = ld->input_name, .what_says_where = true };

	if (migstream_reader_error_where(ld->reader, &rw)) {
		at.has_record = rw.has_record;
		at.record = (uint32_t)rw.seq;
		at.record_type = rw.type;
		at.has_offset = true;
		at.offset = rw.offset;
	}
	return load_fail_at(ld, &at, vmt_exit_code_for_error(rc), "%s",
			    migstream_reader_error(ld->reader));
}

/*
 * The stream or the set failed: bad data (a set's missing, repeated,
 * foreign or cut channel, or a reorder buffer too small for its
 * interleaving: exit 4), an I/O error, or a cancel after another failure
 * (then that one is what is said).
 */
int load_input_failed(struct load *ld, int rc)
{
	char err[1024];

	/* A connection that broke says what broke it: more than the truncation it causes. */
	if (ld->net && !(rc == -ECANCELED && atomic_load(&ld->cancelled)) &&
	    vmt_net_listen_set_error(ld->net, err, sizeof(err)) < 0) {
		ld->input_name = NULL;
		return load_fail(ld, VMT_EXIT_FAILURE, "%s", err);
	}
	if (!ld->set)
		return reader_failed(ld, rc);
	if (rc == -ECANCELED && atomic_load(&ld->cancelled))
		return rc;
	/* the set's message names the channel; the last record's is not it */
	ld->input_name = NULL;
	return load_fail(ld, rc == -ENOBUFS ? VMT_EXIT_BADDATA : vmt_exit_code_for_error(rc), "%s",
			 migstream_channel_set_error(ld->set));
}

void *load_take_payload(struct load *ld)
{
	size_t cap;

	if (ld->set)
		return migstream_channel_set_take_payload(ld->set, &ld->rec, &cap);
	return ld->reader ? migstream_reader_take_payload(ld->reader, &ld->rec, &cap) : NULL;
}

uint64_t load_input_bytes(const struct load *ld)
{
	if (ld->set)
		return migstream_channel_set_bytes(ld->set);
	return ld->reader ? migstream_reader_offset(ld->reader) : 0;
}

uint64_t load_input_records(const struct load *ld)
{
	return ld->reader ? migstream_reader_records(ld->reader) : ld->set_records;
}

/*
 * How long the other channels of a set may take to open once one did
 * (vfio-mig-load(1), Channels). The first may wait as long as the source
 * takes to start; the rest come within moments of it, or never: a channel
 * whose writer never comes (its ssh refused, the save gone before it got
 * there) must not keep the load, and with it the writers of the channels
 * that did open, waiting for ever.
 */
#define CHANNEL_OPEN_TIMEOUT_S 30

/*
 * A FIFO opened without waiting for its writer (a read-only open with
 * O_NONBLOCK neither waits nor fails for want of one; the fd reads as
 * usual once the flag is cleared): wait_for_writers waits for it, with a
 * limit. The fd, or -errno.
 */
static int open_channel_path(const char *path, bool *is_fifo)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	*is_fifo = S_ISFIFO(st.st_mode);
	return fd;
}

/*
 * Until every FIFO of the set had its writer: it wrote, or came and went
 * (Linux's poll reports neither on a FIFO no writer has opened since our
 * open, so a writer's arrival is its first byte or its close). The first
 * channel may take as long as it takes, the others CHANNEL_OPEN_TIMEOUT_S
 * after it. 0, or -errno with the failure recorded.
 */
static int wait_for_writers(struct load *ld, bool *waiting)
{
	uint64_t deadline = 0;

	for (;;) {
		struct pollfd fds[MIGSTREAM_MAX_CHANNELS];
		unsigned int idx[MIGSTREAM_MAX_CHANNELS], n = 0;
		int64_t timeout = -1;
		int rc;

		for (unsigned int i = 0; i < ld->channel_count; i++)
			if (waiting[i]) {
				fds[n] = (struct pollfd){ .fd = ld->channel_fds[i],
							  .events = POLLIN };
				idx[n++] = i;
			}
		if (n == 0)
			return 0;
		if (n < ld->channel_count && !deadline)
			deadline = vmt_monotonic_ns() + CHANNEL_OPEN_TIMEOUT_S * NSEC_PER_SEC;
		if (deadline) {
			uint64_t now = vmt_monotonic_ns();

			if (now >= deadline) {
				ld->input_name = ld->channel_names[idx[0]];
				return load_fail(
					ld, VMT_EXIT_FAILURE,
					"%s: no writer opened it within %d s of the set's first channel",
					ld->input_name, CHANNEL_OPEN_TIMEOUT_S);
			}
			timeout = (int64_t)(deadline - now);
		}
		rc = vmt_signal_poll(fds, n, timeout);
		if (rc == -EINTR && vmt_stop_signal()) {
			ld->input_name = ld->channel_names[idx[0]];
			return load_fail(ld, VMT_EXIT_FAILURE,
					 "%s: interrupted by %s (waiting for its writer)",
					 ld->input_name, vmt_stop_signal_name());
		}
		if (rc < 0 && rc != -EINTR)
			return rc;
		for (unsigned int k = 0; k < n; k++)
			if (fds[k].revents)
				waiting[idx[k]] = false;
	}
}

/*
 * Several -i: every input opened at once, without waiting for a FIFO's
 * writer in open (one at a time, in our order, could wait for ever on a
 * save that opens them in another), then wait_for_writers. 0, or -errno
 * with ld->input_name the input that failed.
 */
static int open_channels(struct load *ld)
{
	bool waiting[MIGSTREAM_MAX_CHANNELS] = { 0 };

	ld->channel_count = ld->opts.input_count;
	for (unsigned int i = 0; i < ld->channel_count; i++)
		ld->channel_fds[i] = -1;
	for (unsigned int i = 0; i < ld->channel_count; i++) {
		const char *in = ld->opts.inputs[i];
		int fd;

		ld->channel_names[i] = strcmp(in, "-") == 0 ? "<stdin>" : in;
		if (strcmp(in, "-") == 0) {
			fd = STDIN_FILENO;
		} else if (strncmp(in, "fd:", 3) == 0) {
			fd = (int)strtol(in + 3, NULL, 10); /* options.c checked it is open */
		} else {
			fd = open_channel_path(in, &waiting[i]);
			if (fd < 0) {
				ld->input_name = ld->channel_names[i];
				return fd;
			}
		}
		ld->channel_fds[i] = fd;
	}
	return wait_for_writers(ld, waiting);
}

/* From a connection's thread: a stranger turned away, in one line. */
static void refused(void *ctx, const char *peer, const char *why)
{
	const struct load *ld = ctx;

	vmt_warn("%s: refused %s: %s", ld->opts.address, peer, why);
}

/*
 * --listen: the set admitted (no device is touched before), its channels
 * read as -i inputs would be, the replies written to channel 0's. 0, or
 * -errno (recorded).
 */
static int listen_input(struct load *ld)
{
	char err[1024];
	unsigned int n;
	int rc;

	ld->input_name = ld->opts.address;
	rc = vmt_net_listen_set_open(&ld->net, ld->opts.address, &ld->opts.net, refused, ld, err,
				     sizeof(err));
	if (rc < 0)
		return load_fail(ld, VMT_EXIT_FAILURE, "%s", err);
	vmt_info("%s: listening", ld->opts.address);
	if (vmt_net_listen_set_wait(ld->net, vmt_stop_signal) < 0)
		return load_interrupted(ld);
	n = vmt_net_listen_set_count(ld->net);
	for (unsigned int i = 0; i < n; i++) {
		ld->channel_fds[i] = vmt_net_listen_set_fd(ld->net, i);
		ld->channel_names[i] = vmt_net_listen_set_name(ld->net, i);
	}
	ld->input_fd = ld->channel_fds[0];
	ld->input_name = ld->channel_names[0];
	ld->channel_count = n > 1 ? n : 0;
	ld->opts.return_fd = ld->channel_fds[0];
	return 0;
}

int load_open_input(struct load *ld)
{
	const char *in = ld->opts.input_count ? ld->opts.inputs[0] : "-";

	if (ld->opts.address)
		return listen_input(ld);
	if (ld->opts.input_count > 1)
		return open_channels(ld);
	if (strcmp(in, "-") == 0) {
		if (!vmt_binary_input_ok(STDIN_FILENO)) {
			load_options_free(&ld->opts);
			exit(VMT_EXIT_USAGE);
		}
		return 0;
	}
	ld->input_name = in;
	if (strncmp(in, "fd:", 3) == 0) {
		/* options.c checked that it is an open fd */
		ld->input_fd = (int)strtol(in + 3, NULL, 10);
		return 0;
	}
	ld->input_fd = open(in, O_RDONLY | O_CLOEXEC);
	return ld->input_fd < 0 ? -errno : 0;
}

/* What the user handed us (standard input, fd:N) stays open: only our own opens are closed. */
static bool opened_here(const char *input)
{
	return strncmp(input, "fd:", 3) != 0 && strcmp(input, "-") != 0;
}

void load_finish_input(struct load *ld)
{
	char err[1024];

	/* After a failure the source may be gone: that it did not hear is no news. */
	if (ld->net &&
	    vmt_net_listen_set_finish(ld->net, ld->opts.net.handshake_timeout_ns, err,
				      sizeof(err)) < 0 &&
	    !vmt_failed(&ld->failure))
		vmt_warn("%s", err);
}

bool load_input_broken(struct load *ld)
{
	char err[1024];

	return ld->net && vmt_net_listen_set_error(ld->net, err, sizeof(err)) < 0;
}

void load_close_input(struct load *ld)
{
	migstream_reader_free(ld->reader);
	/* the set's threads stop before the fds they read are closed */
	if (ld->set)
		migstream_channel_set_free(ld->set);
	if (ld->net) {
		/* the listener's ends, closed with it */
		vmt_net_listen_set_close(ld->net);
		ld->net = NULL;
		return;
	}
	for (unsigned int i = 0; ld->channel_count > 1 && i < ld->channel_count; i++)
		if (ld->channel_fds[i] >= 0 && opened_here(ld->opts.inputs[i]))
			close(ld->channel_fds[i]);
	if (ld->input_fd > STDIN_FILENO && ld->opts.input_count && opened_here(ld->opts.inputs[0]))
		close(ld->input_fd);
}
