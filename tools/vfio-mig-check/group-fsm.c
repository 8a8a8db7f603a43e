// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The migration state machine: every arc the device claims, what becomes
 * of a data_fd, VFIO_DEVICE_RESET from each state, and closing the device.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/sendfile.h>
#include <unistd.h>

#include "common/c.h"
#include "common/timeutil.h"
#include "vfio/vfio-ioctl.h"
#include "groups.h"
#include "probe.h"
#include "results.h"
#include "timing.h"

/* Expected data_fd of a successful SET from -> to (the last arc walked). */
static bool fsm_gives_fd(uint32_t from, uint32_t to)
{
	bool from_precopy = from == ST_PRE_COPY || from == ST_PRE_COPY_P2P;

	switch (to) {
	case ST_PRE_COPY:
	case ST_PRE_COPY_P2P:
		return !from_precopy;
	case ST_STOP_COPY:
		/* PRE_COPY_P2P -> STOP_COPY keeps the saving file (mtty_save_device_data) */
		return from != ST_STOP_COPY && !from_precopy;
	case ST_RESUMING:
		return from != ST_RESUMING;
	default:
		return false;
	}
}

/*
 * vfio_mig_get_next_state: only STOP_COPY -> PRE_COPY(_P2P), ERROR and the
 * states of flags the device does not claim are refused.
 */
static int fsm_expected_err(uint32_t from, uint32_t to)
{
	/* also a state whose flags the device does not claim (state_flags_table) */
	if (!state_supported(to, conf.mig_flags))
		return -EINVAL;
	if (from == ST_STOP_COPY && (to == ST_PRE_COPY || to == ST_PRE_COPY_P2P))
		return -EINVAL;
	return 0;
}

static const uint32_t all_states[] = {
	ST_RUNNING,	 ST_STOP,      ST_RUNNING_P2P, ST_PRE_COPY,
	ST_PRE_COPY_P2P, ST_STOP_COPY, ST_RESUMING,
};
#define NSTATES (ARRAY_SIZE(all_states))

/*
 * Every (from, to) pair of the states the device claims, every state as a
 * target (the ones it does not claim are refused), ERROR and an out-of-range
 * state.  Each successful SET is timed (timing.h).  RESUMING is left with a valid
 * stream of the other device written, so that its arcs out can succeed
 * (RESUMING -> STOP loads it, mtty_load_state): only before an arc that
 * leaves RESUMING, as a state of GiB takes a while to write.
 */
void group_fsm(void)
{
	struct dev a = DEV_CLOSED, b = DEV_CLOSED;
	struct spool peer_state;
	char what[48], did[96];
	size_t i, j;
	const uint32_t targets[] = {
		ST_RUNNING,  ST_STOP,	      ST_RUNNING_P2P,
		ST_PRE_COPY, ST_PRE_COPY_P2P, ST_STOP_COPY,
		ST_RESUMING, ST_ERROR,	      VMT_VFIO_DEVICE_STATE_COUNT,
	};

	if (!check_err(spool_open(&peer_state), 0, "a temporary file for PEER's state",
		       "open(2): O_TMPFILE in $TMPDIR") ||
	    !dev_open_checked(&a, conf.cdev[0]) || !dev_open_checked(&b, conf.cdev[1]) ||
	    save_stream(&b, &peer_state.sink) < 0)
		goto out;
	for (i = 0; i < NSTATES; i++) {
		for (j = 0; j < ARRAY_SIZE(targets); j++) {
			uint32_t from = all_states[i], to = targets[j], got_state;
			int from_fd = NO_FD, fd = NO_FD, ret, want = fsm_expected_err(from, to);
			bool want_fd = !want && fsm_gives_fd(from, to), fd_ok, ok;
			uint64_t t0;

			if (!state_supported(from, conf.mig_flags))
				continue;
			if (!dev_to_running(&a))
				goto out;
			ret = from == ST_RUNNING ? 0 : mig_set_state(a.fd, from, &from_fd);
			if (!ret && from == ST_RESUMING && to != ST_RESUMING && !want)
				ret = spool_write_to(&peer_state, 0, peer_state.len, from_fd);
			if (ret) {
				check(false, "%s -> %s: reaching %s: %s", sname(from), sname(to),
				      sname(from), errname(ret));
				close_fd(&from_fd);
				continue;
			}
			t0 = vmt_monotonic_ns();
			ret = mig_set_state(a.fd, to, &fd);
			if (!ret)
				timing_arc(from, to, vmt_monotonic_ns() - t0);
			fd_ok = want_fd ? fd >= 0 && fd != FD_POISON && fd != from_fd : fd == -1;
			if (mig_get_state(a.fd, &got_state))
				got_state = ~0U;
			ok = ret == want && fd_ok && got_state == (want ? from : to);
			snprintf(what, sizeof(what), "%s -> %s", sname(from),
				 to < VMT_VFIO_DEVICE_STATE_COUNT ? sname(to) : "8 (out of range)");
			snprintf(did, sizeof(did), "%s, data_fd %s, then GET %s", errname(ret),
				 fd >= 0 && fd != FD_POISON ? "new"
				 : fd == -1		    ? "-1"
							    : "not written",
				 sname(got_state));
			check_answer(ok, what, "vfio_mig_get_next_state",
				     want      ? "EINVAL, data_fd -1, state unchanged"
				     : want_fd ? "success, a new data_fd, the target state"
					       : "success, data_fd -1, the target state",
				     did);
			close_fd(&fd);
			close_fd(&from_fd);
		}
	}
out:
	/* a device left open here would be in use to every later group */
	dev_release(&a);
	dev_release(&b);
	spool_close(&peer_state);
}

/*
 * What becomes of a data_fd: mtty_disable_files on the arcs out of data
 * states, the saving file kept across PRE_COPY -> STOP_COPY, and what the
 * VFS gives for the calls the anon files do not have (stream_open).
 */
void group_datafd(void)
{
	struct vfio_device_info foreign; /* an ioctl the data_fd does not know */
	struct vfio_precopy_info info;
	struct dev a;
	int fd1 = NO_FD, fd2 = NO_FD, fd3 = NO_FD, kept = NO_FD, ret;
	unsigned char byte = 0;

	if (!dev_open_checked(&a, conf.cdev[0]))
		return;
	check_err(mig_set_state(a.fd, ST_PRE_COPY, &fd1), 0, "RUNNING -> PRE_COPY",
		  "mtty_step_state");
	if (!check(fd1 >= 0 && fd1 != FD_POISON, "RUNNING -> PRE_COPY gives a data_fd (%d)", fd1))
		goto out;
	ret = fcntl(fd1, F_GETFD);
	check(ret >= 0 && (ret & FD_CLOEXEC),
	      "the data_fd is close-on-exec "
	      "(vfio_ioct_mig_return_fd: get_unused_fd_flags(O_CLOEXEC))");
	check_err(neg_errno((int)pread(fd1, &byte, 1, 0)), -ESPIPE, "pread() of the data_fd",
		  "stream_open clears FMODE_PREAD");
	check_err(neg_errno((int)lseek(fd1, 0, SEEK_SET)), -ESPIPE, "lseek() of the data_fd",
		  "stream_open clears FMODE_LSEEK");
	check_err(neg_errno((int)write(fd1, &byte, 1)), -EBADF, "write() of the saving data_fd",
		  "anon_inode_getfile(O_RDONLY)");
	{
		struct pollfd pfd = { .fd = fd1, .events = POLLIN | POLLOUT };
		int pipefd[2];

		ret = poll(&pfd, 1, 0);
		check(ret == 1 && pfd.revents == (POLLIN | POLLOUT),
		      "poll() of the saving data_fd: %d, revents 0x%x; kernel: 1, POLLIN|POLLOUT "
		      "(mtty_save_fops has no .poll: DEFAULT_POLLMASK)",
		      ret, pfd.revents);
		if (check(!pipe2(pipefd, O_CLOEXEC), "pipe2")) {
			check_err(neg_errno((int)splice(fd1, NULL, pipefd[1], NULL, 16,
							SPLICE_F_NONBLOCK)),
				  -EINVAL, "splice() from the data_fd",
				  "do_splice_read: no .splice_read -> warn_unsupported");
			check_err(neg_errno((int)sendfile(pipefd[1], fd1, NULL, 16)), -EINVAL,
				  "sendfile() from the data_fd", "no .splice_read");
			close(pipefd[0]);
			close(pipefd[1]);
		}
	}
	check_err(get_info(fd1, sizeof(foreign), &foreign), -ENOTTY,
		  "another ioctl on the saving data_fd",
		  "mtty_precopy_ioctl: cmd != VFIO_MIG_GET_PRECOPY_INFO");
	check_err(mig_set_state(a.fd, ST_RUNNING, NULL), 0, "PRE_COPY -> RUNNING",
		  "mtty_step_state");
	check_err(read_once(fd1, 1), -ENODEV,
		  "read() of the PRE_COPY data_fd after PRE_COPY -> RUNNING",
		  "mtty_disable_files; mtty_save_read: migf->disabled");
	check_err(precopy_info(fd1, sizeof(info), &info), -EINVAL, "PRECOPY_INFO on it in RUNNING",
		  "mtty_precopy_ioctl: state checked first");
	check_err(mig_set_state(a.fd, ST_PRE_COPY, &fd2), 0, "RUNNING -> PRE_COPY again",
		  "mtty_step_state");
	check(fd2 >= 0 && fd2 != FD_POISON, "a new data_fd (%d)", fd2);
	check_err(precopy_info(fd1, sizeof(info), &info), -ENODEV,
		  "PRECOPY_INFO on the old data_fd while in PRE_COPY again",
		  "mtty_precopy_ioctl: migf->disabled");
	check_err(precopy_info(fd2, sizeof(info), &info), 0, "PRECOPY_INFO on the new data_fd",
		  "mtty_precopy_ioctl");
	check_err(mig_set_state(a.fd, ST_STOP_COPY, &kept), 0, "PRE_COPY -> STOP_COPY",
		  "vfio_mig_get_next_state via PRE_COPY_P2P");
	check(kept == -1,
	      "PRE_COPY -> STOP_COPY returns data_fd -1: the saving data_fd is kept "
	      "(mtty_save_device_data; got %d)",
	      kept);
	close_fd(&kept);
	ret = read_once(fd2, 64);
	check(ret > 0, "the kept data_fd reads on in STOP_COPY (read() gave %s)", errname(ret));
	check_err(mig_set_state(a.fd, ST_STOP, NULL), 0, "STOP_COPY -> STOP", "mtty_step_state");
	check_err(read_once(fd2, 1), -ENODEV,
		  "read() of the STOP_COPY data_fd after STOP_COPY -> STOP", "mtty_disable_files");
	check_err(mig_set_state(a.fd, ST_STOP_COPY, &fd3), 0, "STOP -> STOP_COPY",
		  "mtty_step_state");
	check(fd3 >= 0 && fd3 != FD_POISON, "STOP -> STOP_COPY gives a new data_fd (%d)", fd3);
	check_err(mig_set_state(a.fd, ST_RESUMING, &kept), 0, "STOP_COPY -> RESUMING (via STOP)",
		  "vfio_mig_get_next_state");
	check_err(read_once(fd3, 1), -ENODEV,
		  "read() of the STOP_COPY data_fd after leaving STOP_COPY", "mtty_disable_files");
	if (check(kept >= 0 && kept != FD_POISON, "RESUMING gives a data_fd (%d)", kept)) {
		check_err(read_once(kept, 1), -EBADF, "read() of the resuming data_fd",
			  "anon_inode_getfile(O_WRONLY)");
		check_err(neg_errno((int)pwrite(kept, &byte, 1, 0)), -ESPIPE,
			  "pwrite() of the resuming data_fd", "stream_open clears FMODE_PWRITE");
		check_err(precopy_info(kept, sizeof(info), &info), -ENOTTY,
			  "PRECOPY_INFO on the resuming data_fd", "mtty_resume_fops has no ioctl");
		check_err(vmt_vfio_device_reset(a.fd), 0, "RESET in RESUMING", "mtty_reset");
		check_err(neg_errno((int)write(kept, &byte, 1)), -ENODEV,
			  "write() of the resuming data_fd after RESET", "mtty_disable_files");
	}
out:
	close_fd(&fd1);
	close_fd(&fd2);
	close_fd(&fd3);
	close_fd(&kept);
	dev_to_running(&a);
	dev_close(&a);
}

/* VFIO_DEVICE_RESET from the data states: mtty_reset, deferred_reset */
void group_reset(void)
{
	const uint32_t from[] = { ST_STOP_COPY, ST_PRE_COPY, ST_PRE_COPY_P2P, ST_RESUMING,
				  ST_STOP };
	struct dev a;
	int64_t direct;
	size_t i;
	char what[80];

	if (!dev_open_checked(&a, conf.cdev[0]))
		return;
	direct = save_stream(&a, NULL);
	if (direct < 0)
		goto out;
	for (i = 0; i < ARRAY_SIZE(from); i++) {
		int fd = NO_FD;
		uint32_t state = ~0U;
		unsigned char byte = 0;

		if (!state_supported(from[i], conf.mig_flags))
			continue;

		if (!check_err(mig_set_state(a.fd, from[i], &fd), 0, sname(from[i]),
			       "vfio_mig_get_next_state"))
			continue;
		snprintf(what, sizeof(what), "RESET in %s", sname(from[i]));
		check_err(vmt_vfio_device_reset(a.fd), 0, what,
			  "mtty_ioctl: VFIO_DEVICE_RESET -> mtty_reset");
		mig_get_state(a.fd, &state);
		check(state == ST_RUNNING, "state after RESET in %s: %s, RUNNING expected",
		      sname(from[i]), sname(state));
		if (fd >= 0 && fd != FD_POISON) {
			snprintf(what, sizeof(what), "%s() of the %s data_fd after RESET",
				 from[i] == ST_RESUMING ? "write" : "read", sname(from[i]));
			check_err(from[i] == ST_RESUMING ? neg_errno((int)write(fd, &byte, 1))
							 : read_once(fd, 1),
				  -ENODEV, what, "mtty_state_mutex_unlock: mtty_disable_files");
		}
		close_fd(&fd);
	}
	/* a fresh save after RESET starts from the beginning */
	{
		int fd = NO_FD;
		int64_t n;

		if (check_err(mig_set_state(a.fd, ST_STOP_COPY, &fd), 0,
			      "RUNNING -> STOP_COPY after RESET", "vfio_mig_get_next_state")) {
			n = read_to_end(fd, NULL);
			check_bytes(n, (uint64_t)direct,
				    "a whole stream after RESET, as long as the one before",
				    "mtty_reset: a new saving file starts from the beginning");
		}
		close_fd(&fd);
	}
out:
	dev_to_running(&a);
	dev_close(&a);
}

/*
 * Closing the device: vfio_device_fops_release -> close_device disables the
 * data fds (mtty_close: mtty_disable_files).  The VFIO core does not touch
 * the migration state; what the next open finds is the driver's choice:
 * the state it was left in (mtty has no open_device) or RUNNING (mlx5,
 * hisi_acc and qat reset in open_device).  Either is reported.
 */
void group_close(void)
{
	struct dev a;
	int fd = NO_FD;
	uint32_t state = ~0U;

	if (!dev_open_checked(&a, conf.cdev[0]))
		return;
	if (!check_err(mig_set_state(a.fd, ST_STOP_COPY, &fd), 0, "RUNNING -> STOP_COPY",
		       "vfio_mig_get_next_state"))
		goto out;
	dev_close(&a);
	check_err(read_once(fd, 1), -ENODEV, "read() of a data_fd that outlived the device fd",
		  "vfio_df_close -> mtty_close -> mtty_disable_files");
	close_fd(&fd);
	if (!dev_open_checked(&a, conf.cdev[0]))
		return;
	mig_get_state(a.fd, &state);
	check(state == ST_STOP_COPY || state == ST_RUNNING,
	      "state after close and reopen: %s; kernel: STOP_COPY (the driver keeps it, "
	      "mtty_close) or RUNNING (its open_device resets)",
	      sname(state));
	diag("the driver %s the migration state across a close", state == ST_STOP_COPY ? "keeps"
								 : state == ST_RUNNING ? "resets"
										       : "loses");
	if (state == ST_STOP_COPY)
		check_err(mig_set_state(a.fd, ST_STOP, NULL), 0, "leave it with SET STOP",
			  "mtty_step_state: STOP_COPY -> STOP");
out:
	close_fd(&fd);
	dev_to_running(&a);
	dev_close(&a);
}
