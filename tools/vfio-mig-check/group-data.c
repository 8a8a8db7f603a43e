// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The data: pre-copy information and the ends of the saving stream, how
 * pre-copy converges with nothing dirtying, MIG_DATA_SIZE, and a stream
 * written into a resuming device.
 */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/c.h"
#include "vfio/vfio-ioctl.h"
#include "groups.h"
#include "probe.h"
#include "results.h"

/*
 * The uAPI says a driver should fail read() with ENOMSG at the temporary
 * end of pre-copy data; mtty returns 0 there and userspace (QEMU) takes
 * both.  Reported, not failed.
 */
static void report_temporary_end(int end)
{
	check(end == 0 || end == -ENOMSG, "the temporary end of pre-copy data: read() %s",
	      end ? "fails with ENOMSG" : "returns 0");
	diag("temporary end of pre-copy: %s (include/uapi/linux/vfio.h: a driver should "
	     "return ENOMSG; mtty_save_read returns 0)",
	     end ? "ENOMSG" : "read() = 0");
}

/*
 * Reading a state 1 byte at a time: a state of GiB would take a billion
 * read()s; the first 64 KiB are read so, the rest as a whole.
 */
#define ONE_BYTE_READS (64u << 10)
#define ONE_BYTE_READS_TEXT "64 KiB"

/* VFIO_MIG_GET_PRECOPY_INFO and the ends of the saving stream */
void group_precopy(void)
{
	struct vfio_precopy_info info;
	struct dev a;
	int fd = NO_FD, kept = NO_FD, ret, end;
	int64_t n, direct;
	uint64_t initial = 0;
	uint32_t state = ~0U;

	if (!dev_open_checked(&a, conf.cdev[0]))
		return;
	check_err(mig_set_state(a.fd, ST_PRE_COPY, &fd), 0, "RUNNING -> PRE_COPY",
		  "mtty_step_state");
	if (!check(fd >= 0 && fd != FD_POISON, "a data_fd"))
		goto out;
	check_err(precopy_info(fd, offsetof(struct vfio_precopy_info, dirty_bytes), &info), -EINVAL,
		  "PRECOPY_INFO with argsz short of dirty_bytes",
		  "mtty_precopy_ioctl: argsz < minsz");
	check_err(precopy_info(fd, sizeof(info) + 8, &info), 0,
		  "PRECOPY_INFO with argsz 8 beyond the struct",
		  "mtty_precopy_ioctl: argsz >= minsz");
	if (check_err(precopy_info(fd, sizeof(info), &info), 0, "PRECOPY_INFO",
		      "mtty_precopy_ioctl")) {
		initial = info.initial_bytes;
		diag("initial_bytes at the start: %llu", (unsigned long long)initial);
		check(initial > 0,
		      "initial_bytes at the start is not 0 (%llu; a device with "
		      "PRE_COPY has at least its header, mtty_precopy_ioctl)",
		      (unsigned long long)initial);
		check_u64(info.dirty_bytes, 0, "dirty_bytes under no load", "nothing dirtied");
	}
	check_err(read_once(fd, 1), 1, "read() of 1 byte", "mtty_save_read");
	if (!precopy_info(fd, sizeof(info), &info))
		check_u64(info.initial_bytes, initial - 1, "initial_bytes after reading 1 byte",
			  "mtty_precopy_ioctl: filled_size - *pos");
	n = read_to_pause(fd, NULL, &end);
	check_bytes(n < 0 ? n : n + 1, initial,
		    "pre-copy bytes read up to the temporary end: initial_bytes",
		    "include/uapi/linux/vfio.h: initial_bytes is the initial data left to read");
	report_temporary_end(end);
	check_err(read_once(fd, 64), end, "read() again at the temporary end", "mtty_save_read");
	mig_get_state(a.fd, &state);
	check(state == ST_PRE_COPY, "still PRE_COPY after the temporary end (%s)", sname(state));
	if (!precopy_info(fd, sizeof(info), &info))
		check(info.initial_bytes == 0 && info.dirty_bytes == 0,
		      "PRECOPY_INFO at the temporary end: 0, 0 (got %llu, %llu)",
		      (unsigned long long)info.initial_bytes, (unsigned long long)info.dirty_bytes);
	check_err(mig_set_state(a.fd, ST_PRE_COPY_P2P, &kept), 0, "PRE_COPY -> PRE_COPY_P2P",
		  "mtty_step_state");
	check(kept == -1, "PRE_COPY -> PRE_COPY_P2P returns data_fd -1 (%d)", kept);
	close_fd(&kept);
	check_err(precopy_info(fd, sizeof(info), &info), 0, "PRECOPY_INFO in PRE_COPY_P2P",
		  "mtty_precopy_ioctl: PRE_COPY or PRE_COPY_P2P");
	check_err(mig_set_state(a.fd, ST_STOP_COPY, &kept), 0, "PRE_COPY_P2P -> STOP_COPY",
		  "mtty_step_state");
	check(kept == -1, "PRE_COPY_P2P -> STOP_COPY returns data_fd -1 (%d)", kept);
	close_fd(&kept);
	check_err(precopy_info(fd, sizeof(info), &info), -EINVAL, "PRECOPY_INFO in STOP_COPY",
		  "mtty_precopy_ioctl: not a PRE_COPY state");
	check_err(precopy_info(fd, 8, &info), -EINVAL,
		  "PRECOPY_INFO in STOP_COPY with a short argsz",
		  "mtty_precopy_ioctl: argsz < minsz");
	n = read_to_end(fd, NULL);
	check(n >= 0, "stop-copy data after pre-copy, up to read() = 0: %s",
	      n >= 0 ? "read" : errname((int)n));
	if (n >= 0)
		diag("stop-copy bytes after pre-copy: %" PRId64, n);
	check_err(read_once(fd, 64), 0, "read() again at the end of STOP_COPY", "mtty_save_read");
	close_fd(&fd);

	if (!dev_to_running(&a))
		goto out;
	direct = save_stream(&a, NULL);
	if (direct < 0)
		goto out;
	diag("bytes of a STOP_COPY straight from RUNNING: %" PRId64, direct);
	check_err(mig_set_state(a.fd, ST_STOP_COPY, &fd), 0, "RUNNING -> STOP_COPY",
		  "mtty_step_state");
	if (check(fd >= 0 && fd != FD_POISON, "a data_fd")) {
		check_err(precopy_info(fd, sizeof(info), &info), -EINVAL,
			  "PRECOPY_INFO on a STOP_COPY data_fd", "mtty_precopy_ioctl");
		struct iovec iov[2] = {
			{ .iov_base = io_buf, .iov_len = 10 },
			{ .iov_base = io_buf + 10, .iov_len = IO_CHUNK - 10 },
		};

		n = neg_errno((int)readv(fd, iov, 2));
		if (n > 0) {
			int64_t rest = read_to_end(fd, NULL);

			n = rest < 0 ? rest : n + rest;
		}
		check_bytes(n, (uint64_t)direct,
			    "readv() of 10 + many bytes, then read()s: the whole state again",
			    "do_loop_readv_writev over mtty_save_read");
		check_err(read_once(fd, 64), 0, "read() after it",
			  "include/uapi/linux/vfio.h: STOP_COPY's end is read() = 0");
	}
	close_fd(&fd);
	if (!dev_to_running(&a))
		goto out;
	if (check_err(mig_set_state(a.fd, ST_STOP_COPY, &fd), 0, "RUNNING -> STOP_COPY again",
		      "mtty_step_state")) {
		uint64_t total = 0;
		int64_t rest = 0;

		while (total < ONE_BYTE_READS && (ret = read_once(fd, 1)) == 1)
			total++;
		if (total == ONE_BYTE_READS) {
			rest = read_to_end(fd, NULL);
			ret = rest < 0 ? (int)rest : 0;
			total += rest < 0 ? 0 : (uint64_t)rest;
		}
		check(ret == 0 && total == (uint64_t)direct,
		      "1-byte read()s%s: %llu bytes, then %s; expected %llu, then 0",
		      total > ONE_BYTE_READS ? " of the first " ONE_BYTE_READS_TEXT
					       ", then the rest"
					     : "",
		      (unsigned long long)total, errname(ret), (unsigned long long)direct);
	}
out:
	close_fd(&fd);
	dev_to_running(&a);
	dev_close(&a);
}

#define CONVERGE_SAMPLES 5
#define CONVERGE_GAP_US 20000

/*
 * With nothing dirtying the device, pre-copy converges: once the initial
 * data is read, initial_bytes is 0 and stays 0, and read() keeps giving
 * the temporary end.  dirty_bytes is reported: an idle device may still
 * count some.
 */
void group_converge(void)
{
	struct vfio_precopy_info info = { 0 };
	struct dev a;
	int fd = NO_FD, end = 0, ret = 0, i;
	int64_t n;

	if (!dev_open_checked(&a, conf.cdev[0]))
		return;
	if (!check_err(mig_set_state(a.fd, ST_PRE_COPY, &fd), 0, "RUNNING -> PRE_COPY",
		       "vfio_mig_get_next_state"))
		goto out;
	n = read_to_pause(fd, NULL, &end);
	if (!check(n >= 0, "read the initial pre-copy data to its end: %s",
		   n >= 0 ? "done" : errname((int)n)))
		goto out;
	for (i = 0; i < CONVERGE_SAMPLES; i++) {
		usleep(CONVERGE_GAP_US);
		ret = precopy_info(fd, sizeof(info), &info);
		if (ret || info.initial_bytes)
			break;
		ret = read_once(fd, 64);
		if (ret != end)
			break;
		ret = 0;
	}
	check(i == CONVERGE_SAMPLES,
	      "initial_bytes reaches 0 and stays, read() gives the temporary end: %d of %d "
	      "samples %d ms apart (last: %s, initial_bytes %llu)",
	      i, CONVERGE_SAMPLES, CONVERGE_GAP_US / 1000, errname(ret),
	      (unsigned long long)info.initial_bytes);
	diag("dirty_bytes under no load: %llu", (unsigned long long)info.dirty_bytes);
out:
	close_fd(&fd);
	dev_to_running(&a);
	dev_close(&a);
}

/* VFIO_DEVICE_FEATURE_MIG_DATA_SIZE: GET only, in every state */
void group_datasize(void)
{
	const uint32_t hdr = sizeof(struct vfio_device_feature);
	struct vfio_device_feature_mig_data_size ds = { 0 };
	const uint32_t walk[] = { ST_RUNNING,	ST_RUNNING_P2P, ST_PRE_COPY_P2P, ST_PRE_COPY,
				  ST_STOP_COPY, ST_STOP,	ST_RESUMING };
	struct dev a;
	size_t i;
	char what[64];

	if (!dev_open_checked(&a, conf.cdev[0]))
		return;
	for (i = 0; i < ARRAY_SIZE(walk); i++) {
		uint64_t len = 0;
		int fd = NO_FD;

		if (!state_supported(walk[i], conf.mig_flags))
			continue;
		if (walk[i] != ST_RUNNING && !check_err(mig_set_state(a.fd, walk[i], &fd), 0,
							sname(walk[i]), "vfio_mig_get_next_state"))
			continue;
		snprintf(what, sizeof(what), "MIG_DATA_SIZE in %s", sname(walk[i]));
		if (check_err(mig_data_size(a.fd, &len), 0, what,
			      "vfio_ioctl_device_feature_mig_data_size"))
			diag("MIG_DATA_SIZE in %s: %llu", sname(walk[i]), (unsigned long long)len);
		close_fd(&fd);
	}
	check_err(feature(a.fd, VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_MIG_DATA_SIZE, &ds,
			  sizeof(ds), hdr + sizeof(ds)),
		  -EINVAL, "SET MIG_DATA_SIZE", "vfio_check_feature: GET only");
	check_err(feature(a.fd,
			  VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_GET |
				  VFIO_DEVICE_FEATURE_MIG_DATA_SIZE,
			  &ds, sizeof(ds), hdr),
		  0, "PROBE|GET MIG_DATA_SIZE", "vfio_check_feature");
	check_err(feature(a.fd,
			  VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_SET |
				  VFIO_DEVICE_FEATURE_MIG_DATA_SIZE,
			  &ds, sizeof(ds), hdr),
		  -EINVAL, "PROBE|SET MIG_DATA_SIZE", "vfio_check_feature");
	check_err(feature(a.fd, VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIG_DATA_SIZE, &ds,
			  sizeof(ds), hdr + 4),
		  -EINVAL, "GET MIG_DATA_SIZE with a 4-byte payload", "vfio_check_feature: argsz");
	dev_to_running(&a);
	dev_close(&a);
}

/*
 * A's stream saved through PRE_COPY (to its temporary end: read() = 0 or
 * ENOMSG) and STOP_COPY into saved: true, or false after a failed check.
 */
static bool save_a(struct dev *a, struct spool *saved)
{
	int sfd = NO_FD, kept = NO_FD, end;
	int64_t pre, post;

	if (mig_set_state(a->fd, ST_PRE_COPY, &sfd) || sfd < 0) {
		close_fd(&sfd);
		return check(false, "A: RUNNING -> PRE_COPY");
	}
	pre = read_to_pause(sfd, &saved->sink, &end);
	check_err(mig_set_state(a->fd, ST_STOP_COPY, &kept), 0, "A: PRE_COPY -> STOP_COPY",
		  "vfio_mig_get_next_state");
	close_fd(&kept);
	post = pre < 0 ? pre : read_to_end(sfd, &saved->sink);
	close_fd(&sfd);
	if (pre < 0 || post <= 0)
		return check(false, "A's state through PRE_COPY and STOP_COPY: %s",
			     post ? errname((int)post) : "no STOP_COPY bytes");
	return check(true, "A saved %" PRId64 " + %" PRId64 " bytes", pre, post);
}

/* A's stream as writev() of 5 + the rest of a first buffer, then write()s. */
static void writev_stream(const struct spool *saved, int rfd)
{
	size_t first = saved->len < IO_CHUNK ? (size_t)saved->len : IO_CHUNK;
	size_t head = first < 5 ? first : 5;
	struct iovec iov[2] = {
		{ .iov_base = io_buf, .iov_len = head },
		{ .iov_base = io_buf + head, .iov_len = first - head },
	};
	int64_t n = spool_read(saved, 0, first, io_buf);

	if (!n)
		n = neg_errno((int)writev(rfd, iov, 2));
	if (n == (int64_t)first && first < saved->len) {
		int ret = spool_write_to(saved, first, saved->len - first, rfd);

		n = ret ? ret : (int64_t)saved->len;
	}
	check_bytes(
		n, saved->len,
		first < saved->len
			? "B: writev() of A's stream as 5 + 1 MiB - 5 bytes, then write()s of the rest"
			: "B: writev() of A's stream as 5 + the rest bytes",
		"do_loop_readv_writev over mtty_resume_write");
}

/*
 * One write() that runs one byte past the end of the state is refused as
 * a whole: the stream itself when it fits the buffer, else its last
 * IO_CHUNK - 1 bytes after the rest was written.
 */
static void write_past_end(const struct spool *saved, int rfd)
{
	size_t tail = saved->len < IO_CHUNK ? (size_t)saved->len : IO_CHUNK - 1;
	int ret = spool_write_to(saved, 0, saved->len - tail, rfd);

	if (ret) {
		check_err(ret, 0, "B: write() of all but the stream's last 1 MiB - 1 bytes",
			  "mtty_resume_write");
		return;
	}
	ret = spool_read(saved, saved->len - tail, tail, io_buf);
	io_buf[tail] = 0;
	if (!ret)
		ret = neg_errno((int)write(rfd, io_buf, tail + 1));
	check_err(
		ret, -ENOMEM,
		tail == saved->len
			? "B: a single write() of the stream plus one byte"
			: "B: a single write() of the stream's last 1 MiB - 1 bytes plus one byte",
		"mtty_resume_write checks the requested length before copying");
}

/*
 * A's state into B: RESUMING, write, RESUMING -> STOP (mtty_load_state).
 * A's stream is spooled (probe.h): B is given it three times.
 */
void group_resume(void)
{
	struct dev a = DEV_CLOSED, b = DEV_CLOSED;
	struct spool saved;
	int rfd = NO_FD;
	uint32_t state = ~0U;
	unsigned char extra = 0;

	if (!check_err(spool_open(&saved), 0, "a temporary file for A's state",
		       "open(2): O_TMPFILE in $TMPDIR") ||
	    !dev_open_checked(&a, conf.cdev[0]) || !dev_open_checked(&b, conf.cdev[1]))
		goto out;
	/* the save side through PRE_COPY, as a migration does */
	if (!save_a(&a, &saved))
		goto out;

	check_err(mig_set_state(b.fd, ST_RESUMING, &rfd), 0, "B: RUNNING -> RESUMING",
		  "vfio_mig_get_next_state");
	if (!check(rfd >= 0 && rfd != FD_POISON, "B: RESUMING gives a data_fd"))
		goto out;
	writev_stream(&saved, rfd);
	check_err(write_all(rfd, &extra, 1), -ENOMEM, "B: one byte more than the state",
		  "mtty_resume_write: requested_length > mtty_data_size");
	check_err(mig_set_state(b.fd, ST_STOP, NULL), 0, "B: RESUMING -> STOP", "mtty_load_state");
	check_err(neg_errno((int)write(rfd, &extra, 1)), -ENODEV,
		  "B: write() of the resuming data_fd after RESUMING -> STOP",
		  "mtty_disable_files");
	close_fd(&rfd);
	check_err(mig_set_state(b.fd, ST_RUNNING, NULL), 0, "B: STOP -> RUNNING",
		  "vfio_mig_get_next_state");

	/* the whole stream plus one byte in ONE write: refused as a whole */
	check_err(mig_set_state(b.fd, ST_RESUMING, &rfd), 0, "B: RUNNING -> RESUMING again",
		  "vfio_mig_get_next_state");
	write_past_end(&saved, rfd);
	close_fd(&rfd);
	if (!dev_to_running(&b))
		goto out;

	/* truncated: one byte short */
	check_err(mig_set_state(b.fd, ST_RESUMING, &rfd), 0, "B: RUNNING -> RESUMING, truncated",
		  "vfio_mig_get_next_state");
	check_err(spool_write_to(&saved, 0, saved.len - 1, rfd), 0,
		  "B: write all but the last byte", "mtty_resume_write");
	check_err(mig_set_state(b.fd, ST_STOP, NULL), -EINVAL,
		  "B: RESUMING -> STOP on a truncated stream",
		  "mtty_load_state: filled_size < size");
	mig_get_state(b.fd, &state);
	check(state == ST_RESUMING, "B: the failed arc leaves RESUMING (%s)", sname(state));
	check_err(mig_set_state(b.fd, ST_RUNNING, NULL), -EINVAL,
		  "B: RESUMING -> RUNNING fails at its first arc too", "mtty_set_state");
	mig_get_state(b.fd, &state);
	check(state == ST_RESUMING, "B: still RESUMING (%s)", sname(state));
	close_fd(&rfd);
out:
	close_fd(&rfd);
	dev_release(&a);
	dev_release(&b);
	spool_close(&saved);
}
