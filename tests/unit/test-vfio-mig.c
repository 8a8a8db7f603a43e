// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of the migration state-machine knowledge (lib/vfio/mig.c), the
 * sysfs name parsing (lib/vfio/sysfs.c) and the data fd helpers, plus recovery
 * run end to end against a fake device: this program defines ioctl(), so
 * the library's VFIO calls land in fake_ioctl's small model of a device.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/time.h>
#include <unistd.h>

#include "vfio/device.h"
#include "vfio/mig.h"
#include "vfio/sysfs.h"
#include "unit.h"

#define ALL_FLAGS (VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P | VFIO_MIGRATION_PRE_COPY)
#define FAKE_FD 1000

/* ---- a fake device behind ioctl() ---- */

static struct {
	uint64_t flags;
	uint32_t state;
	uint32_t fail_set_to;	  /* SET to this state fails ... */
	int fail_set_errno;	  /* ... with this errno ... */
	uint32_t fail_set_leaves; /* ... leaving the device here */
	int fail_set_count;	  /* how many times (-1: always) */
	bool reset_fails;
	bool get_fails;
	int sets, resets;
} fake;

static void fake_init(uint64_t flags, uint32_t state)
{
	memset(&fake, 0, sizeof(fake));
	fake.flags = flags;
	fake.state = state;
	fake.fail_set_to = VMT_STATE_UNKNOWN;
}

int ioctl(int fd, unsigned long request, ...);
int ioctl(int fd, unsigned long request, ...)
{
	struct vfio_device_feature *feat;
	va_list ap;

	va_start(ap, request);
	feat = va_arg(ap, struct vfio_device_feature *);
	va_end(ap);
	if (fd != FAKE_FD) {
		errno = ENOTTY;
		return -1;
	}
	if (request == VFIO_DEVICE_RESET) {
		fake.resets++;
		if (fake.reset_fails) {
			errno = EIO;
			return -1;
		}
		fake.state = VFIO_DEVICE_STATE_RUNNING;
		return 0;
	}
	if (request != VFIO_DEVICE_FEATURE) {
		errno = ENOTTY;
		return -1;
	}
	switch (feat->flags & VFIO_DEVICE_FEATURE_MASK) {
	case VFIO_DEVICE_FEATURE_MIGRATION: {
		struct vfio_device_feature_migration mig = { .flags = fake.flags };

		memcpy(feat->data, &mig, sizeof(mig));
		return 0;
	}
	case VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE: {
		struct vfio_device_feature_mig_state st;

		memcpy(&st, feat->data, sizeof(st));
		if (feat->flags & VFIO_DEVICE_FEATURE_GET) {
			if (fake.get_fails) {
				errno = EIO;
				return -1;
			}
			st.device_state = fake.state;
			memcpy(feat->data, &st, sizeof(st));
			return 0;
		}
		fake.sets++;
		if (fake.state == VFIO_DEVICE_STATE_ERROR) {
			errno = EINVAL;
			return -1;
		}
		if (st.device_state == fake.fail_set_to && fake.fail_set_count != 0) {
			if (fake.fail_set_count > 0)
				fake.fail_set_count--;
			fake.state = fake.fail_set_leaves;
			errno = fake.fail_set_errno;
			return -1;
		}
		fake.state = st.device_state;
		st.data_fd = -1;
		memcpy(feat->data, &st, sizeof(st));
		return 0;
	}
	default:
		errno = ENOTTY;
		return -1;
	}
}

static struct vmt_device *fake_device(void)
{
	struct vmt_device *dev = calloc(1, sizeof(*dev));

	dev->fd = FAKE_FD;
	dev->fd_inherited = true;
	dev->iommufd = dev->group_fd = dev->container_fd = dev->data_fd = -1;
	dev->state = VMT_STATE_UNKNOWN;
	strcpy(dev->name, "fake");
	return dev;
}

/* ---- pure knowledge ---- */

static void test_state_names(void)
{
	uint32_t s = 99;

	CHECK(strcmp(vmt_state_name(VFIO_DEVICE_STATE_RUNNING), "RUNNING") == 0);
	CHECK(strcmp(vmt_state_name(VFIO_DEVICE_STATE_PRE_COPY_P2P), "PRE_COPY_P2P") == 0);
	CHECK(strcmp(vmt_state_name(VFIO_DEVICE_STATE_ERROR), "ERROR") == 0);
	CHECK(strcmp(vmt_state_name(VMT_STATE_UNKNOWN), "UNKNOWN") == 0);
	CHECK(strcmp(vmt_state_name(8), "UNKNOWN") == 0);
	CHECK_EQ(vmt_state_parse("stop-copy", &s), 0);
	CHECK_EQ(s, VFIO_DEVICE_STATE_STOP_COPY);
	CHECK_EQ(vmt_state_parse("Running_P2P", &s), 0);
	CHECK_EQ(s, VFIO_DEVICE_STATE_RUNNING_P2P);
	CHECK_EQ(vmt_state_parse("pre_copy", &s), 0);
	CHECK_EQ(s, VFIO_DEVICE_STATE_PRE_COPY);
	CHECK_EQ(vmt_state_parse("paused", &s), -EINVAL);
	CHECK_EQ(vmt_state_parse("", &s), -EINVAL);
	CHECK_EQ(vmt_state_parse("running-p2p-and-a-very-long-tail-here", &s), -EINVAL);
}

/* Each state against each flag set, as vfio_mig_get_next_state's state_flags_table says. */
static void test_reachable_states(void)
{
	const uint64_t sc = VFIO_MIGRATION_STOP_COPY, p2p = VFIO_MIGRATION_P2P,
		       pre = VFIO_MIGRATION_PRE_COPY;

	for (uint32_t s = 0; s < VMT_VFIO_DEVICE_STATE_COUNT; s++)
		CHECK(!vmt_state_reachable(0, s));
	CHECK(vmt_state_reachable(sc, VFIO_DEVICE_STATE_RUNNING));
	CHECK(vmt_state_reachable(sc, VFIO_DEVICE_STATE_STOP));
	CHECK(vmt_state_reachable(sc, VFIO_DEVICE_STATE_STOP_COPY));
	CHECK(vmt_state_reachable(sc, VFIO_DEVICE_STATE_RESUMING));
	CHECK(!vmt_state_reachable(sc, VFIO_DEVICE_STATE_RUNNING_P2P));
	CHECK(!vmt_state_reachable(sc, VFIO_DEVICE_STATE_PRE_COPY));
	CHECK(!vmt_state_reachable(sc, VFIO_DEVICE_STATE_PRE_COPY_P2P));
	CHECK(vmt_state_reachable(sc | p2p, VFIO_DEVICE_STATE_RUNNING_P2P));
	CHECK(!vmt_state_reachable(sc | p2p, VFIO_DEVICE_STATE_PRE_COPY));
	CHECK(vmt_state_reachable(sc | pre, VFIO_DEVICE_STATE_PRE_COPY));
	CHECK(!vmt_state_reachable(sc | pre, VFIO_DEVICE_STATE_PRE_COPY_P2P));
	CHECK(vmt_state_reachable(sc | p2p | pre, VFIO_DEVICE_STATE_PRE_COPY_P2P));
	/* P2P or PRE_COPY without STOP_COPY is no migration at all. */
	CHECK(!vmt_state_reachable(p2p | pre, VFIO_DEVICE_STATE_RUNNING));
	CHECK(!vmt_migration_flags_usable(p2p | pre));
	CHECK(vmt_migration_flags_usable(sc));
	/* ERROR is never a target. */
	CHECK_EQ(vmt_state_check_target(ALL_FLAGS, VFIO_DEVICE_STATE_ERROR), -EINVAL);
	CHECK_EQ(vmt_state_check_target(ALL_FLAGS, 8), -EINVAL);
	CHECK_EQ(vmt_state_check_target(sc, VFIO_DEVICE_STATE_PRE_COPY), -EOPNOTSUPP);
	CHECK_EQ(vmt_state_check_target(sc | pre, VFIO_DEVICE_STATE_PRE_COPY), 0);
	CHECK_EQ(vmt_state_required_flags(VFIO_DEVICE_STATE_PRE_COPY_P2P), sc | p2p | pre);
}

static void test_state_classes(void)
{
	char buf[64];

	CHECK(vmt_state_is_precopy(VFIO_DEVICE_STATE_PRE_COPY));
	CHECK(vmt_state_is_precopy(VFIO_DEVICE_STATE_PRE_COPY_P2P));
	CHECK(!vmt_state_is_precopy(VFIO_DEVICE_STATE_STOP_COPY));
	CHECK(vmt_state_has_data(VFIO_DEVICE_STATE_STOP_COPY));
	CHECK(vmt_state_has_data(VFIO_DEVICE_STATE_RESUMING));
	CHECK(!vmt_state_has_data(VFIO_DEVICE_STATE_STOP));
	CHECK(!vmt_state_has_data(VFIO_DEVICE_STATE_RUNNING_P2P));
	CHECK(strcmp(vmt_migration_flags_string(ALL_FLAGS, buf, sizeof(buf)),
		     "STOP_COPY|P2P|PRE_COPY") == 0);
	CHECK(strcmp(vmt_migration_flags_string(0, buf, sizeof(buf)), "none") == 0);
	CHECK(strcmp(vmt_migration_flags_string(VFIO_MIGRATION_STOP_COPY | 0x100, buf, sizeof(buf)),
		     "STOP_COPY|0x100") == 0);
}

static void test_quiesce_state(void)
{
	CHECK_EQ(vmt_state_quiesce(ALL_FLAGS, VFIO_DEVICE_STATE_RUNNING),
		 VFIO_DEVICE_STATE_RUNNING_P2P);
	CHECK_EQ(vmt_state_quiesce(ALL_FLAGS, VFIO_DEVICE_STATE_PRE_COPY),
		 VFIO_DEVICE_STATE_PRE_COPY_P2P);
	CHECK_EQ(vmt_state_quiesce(ALL_FLAGS, VFIO_DEVICE_STATE_STOP), VFIO_DEVICE_STATE_STOP);
	CHECK_EQ(vmt_state_quiesce(VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_PRE_COPY,
				   VFIO_DEVICE_STATE_PRE_COPY),
		 VFIO_DEVICE_STATE_PRE_COPY);
	CHECK_EQ(vmt_state_quiesce(VFIO_MIGRATION_STOP_COPY, VFIO_DEVICE_STATE_RUNNING),
		 VFIO_DEVICE_STATE_RUNNING);
}

static void test_recovery_decisions(void)
{
	const uint32_t run = VFIO_DEVICE_STATE_RUNNING, stop = VFIO_DEVICE_STATE_STOP;

	CHECK_EQ(vmt_state_recovery_target(VFIO_MIGRATION_STOP_COPY, VFIO_DEVICE_STATE_RUNNING_P2P),
		 run);
	CHECK_EQ(vmt_state_recovery_target(ALL_FLAGS, VFIO_DEVICE_STATE_RUNNING_P2P),
		 VFIO_DEVICE_STATE_RUNNING_P2P);
	CHECK_EQ(vmt_state_recovery_target(ALL_FLAGS, VFIO_DEVICE_STATE_ERROR), run);
	CHECK_EQ(vmt_state_recovery_target(ALL_FLAGS, stop), stop);
	/* Already there. */
	CHECK_EQ(vmt_state_recovery_next(run, run, 0, false), VMT_RECOVER_DONE);
	/* Normal: ask for it. */
	CHECK_EQ(vmt_state_recovery_next(VFIO_DEVICE_STATE_STOP_COPY, run, 0, false),
		 VMT_RECOVER_SET);
	/* The SET failed: reset. */
	CHECK_EQ(vmt_state_recovery_next(VFIO_DEVICE_STATE_STOP_COPY, run, 1, false),
		 VMT_RECOVER_RESET);
	/* ERROR or unreadable: reset at once. */
	CHECK_EQ(vmt_state_recovery_next(VFIO_DEVICE_STATE_ERROR, run, 0, false),
		 VMT_RECOVER_RESET);
	CHECK_EQ(vmt_state_recovery_next(VMT_STATE_UNKNOWN, run, 0, false), VMT_RECOVER_RESET);
	/* a RESUMING session is aborted by a reset, never walked to STOP */
	CHECK_EQ(vmt_state_recovery_next(VFIO_DEVICE_STATE_RESUMING, run, 0, false),
		 VMT_RECOVER_RESET);
	CHECK_EQ(vmt_state_recovery_next(VFIO_DEVICE_STATE_RESUMING, stop, 0, false),
		 VMT_RECOVER_RESET);
	/* After the reset, RUNNING is reached; STOP needs one more SET. */
	CHECK_EQ(vmt_state_recovery_next(run, stop, 1, true), VMT_RECOVER_SET);
	CHECK_EQ(vmt_state_recovery_next(run, stop, 0, true), VMT_RECOVER_SET);
	CHECK_EQ(vmt_state_recovery_next(run, stop, 2, true), VMT_RECOVER_GIVE_UP);
	/* Still ERROR after a reset: nothing more to do. */
	CHECK_EQ(vmt_state_recovery_next(VFIO_DEVICE_STATE_ERROR, run, 1, true),
		 VMT_RECOVER_GIVE_UP);
}

/* ---- recovery against the fake device ---- */

static void test_recover_simple(void)
{
	struct vmt_device *dev = fake_device();
	uint32_t final = 99;

	fake_init(ALL_FLAGS, VFIO_DEVICE_STATE_STOP_COPY);
	CHECK_EQ(vmt_mig_query(dev), 0);
	CHECK_EQ(vmt_device_recover(dev, VFIO_DEVICE_STATE_RUNNING, &final), 0);
	CHECK_EQ(final, VFIO_DEVICE_STATE_RUNNING);
	CHECK_EQ(fake.resets, 0);
	CHECK_EQ(dev->resets, 0);
	free(dev);
}

static void test_recover_from_error(void)
{
	struct vmt_device *dev = fake_device();
	uint32_t final = 99;

	fake_init(ALL_FLAGS, VFIO_DEVICE_STATE_ERROR);
	CHECK_EQ(vmt_mig_query(dev), 0);
	CHECK_EQ(vmt_device_recover(dev, VFIO_DEVICE_STATE_RUNNING, &final), 0);
	CHECK_EQ(final, VFIO_DEVICE_STATE_RUNNING);
	CHECK_EQ(fake.resets, 1);
	CHECK_EQ(dev->resets, 1);
	CHECK_EQ(fake.sets, 0);
	free(dev);
}

static void test_recover_set_fails_then_reset(void)
{
	struct vmt_device *dev = fake_device();
	uint32_t final = 99;

	/* STOP_COPY -> STOP fails once and leaves it in STOP_COPY; the reset gives RUNNING, then STOP. */
	fake_init(ALL_FLAGS, VFIO_DEVICE_STATE_STOP_COPY);
	fake.fail_set_to = VFIO_DEVICE_STATE_STOP;
	fake.fail_set_errno = EIO;
	fake.fail_set_leaves = VFIO_DEVICE_STATE_STOP_COPY;
	fake.fail_set_count = 1;
	CHECK_EQ(vmt_mig_query(dev), 0);
	CHECK_EQ(vmt_device_recover(dev, VFIO_DEVICE_STATE_STOP, &final), 0);
	CHECK_EQ(final, VFIO_DEVICE_STATE_STOP);
	CHECK_EQ(fake.resets, 1);
	CHECK_EQ(fake.sets, 2);
	free(dev);
}

static void test_recover_gives_up(void)
{
	struct vmt_device *dev = fake_device();
	uint32_t final = 99;

	fake_init(ALL_FLAGS, VFIO_DEVICE_STATE_ERROR);
	fake.reset_fails = true;
	CHECK_EQ(vmt_mig_query(dev), 0);
	CHECK_EQ(vmt_device_recover(dev, VFIO_DEVICE_STATE_RUNNING, &final), -EIO);
	CHECK_EQ(final, VFIO_DEVICE_STATE_ERROR);
	CHECK_EQ(dev->resets, 0);

	/* STOP always fails: SET, RESET, SET, then it stops trying and says RUNNING. */
	fake_init(ALL_FLAGS, VFIO_DEVICE_STATE_STOP_COPY);
	fake.fail_set_to = VFIO_DEVICE_STATE_STOP;
	fake.fail_set_errno = EBUSY;
	fake.fail_set_leaves = VFIO_DEVICE_STATE_RUNNING_P2P;
	fake.fail_set_count = -1;
	CHECK_EQ(vmt_device_recover(dev, VFIO_DEVICE_STATE_STOP, &final), -EBUSY);
	CHECK_EQ(final, VFIO_DEVICE_STATE_RUNNING_P2P);
	CHECK_EQ(fake.sets, 2);
	CHECK_EQ(fake.resets, 1);
	free(dev);
}

static void test_recover_unreadable_state(void)
{
	struct vmt_device *dev = fake_device();
	uint32_t final = 99;

	fake_init(ALL_FLAGS, VFIO_DEVICE_STATE_STOP_COPY);
	CHECK_EQ(vmt_mig_query(dev), 0);
	fake.get_fails = true;
	CHECK(vmt_device_recover(dev, VFIO_DEVICE_STATE_RUNNING, &final) < 0);
	CHECK_EQ(final, VMT_STATE_UNKNOWN);
	CHECK_EQ(fake.resets, 1);
	free(dev);
}

static void test_set_state_refuses_impossible(void)
{
	struct vmt_device *dev = fake_device();

	fake_init(VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P, VFIO_DEVICE_STATE_RUNNING);
	CHECK_EQ(vmt_mig_set_state(dev, VFIO_DEVICE_STATE_PRE_COPY), -EOPNOTSUPP);
	CHECK_EQ(vmt_mig_set_state(dev, VFIO_DEVICE_STATE_ERROR), -EINVAL);
	CHECK_EQ(fake.sets, 0);
	CHECK_EQ(vmt_mig_set_state(dev, VFIO_DEVICE_STATE_RUNNING_P2P), 0);
	CHECK_EQ(fake.state, VFIO_DEVICE_STATE_RUNNING_P2P);
	CHECK_EQ(dev->state, VFIO_DEVICE_STATE_RUNNING_P2P);
	/* A failed SET reads the state back. */
	fake.fail_set_to = VFIO_DEVICE_STATE_STOP_COPY;
	fake.fail_set_errno = EIO;
	fake.fail_set_leaves = VFIO_DEVICE_STATE_STOP;
	fake.fail_set_count = 1;
	CHECK_EQ(vmt_mig_set_state(dev, VFIO_DEVICE_STATE_STOP_COPY), -EIO);
	CHECK_EQ(dev->state, VFIO_DEVICE_STATE_STOP);
	free(dev);
}

static void test_query_no_migration(void)
{
	struct vmt_device *dev = fake_device();
	uint32_t final = 99;

	fake_init(0, VFIO_DEVICE_STATE_RUNNING);
	CHECK_EQ(vmt_mig_query(dev), -EOPNOTSUPP);
	/* Recovery of a device without migration neither SETs nor resets it. */
	CHECK_EQ(vmt_device_recover(dev, VFIO_DEVICE_STATE_RUNNING, &final), -EOPNOTSUPP);
	CHECK_EQ(final, VMT_STATE_UNKNOWN);
	CHECK_EQ(fake.resets, 0);
	CHECK_EQ(fake.sets, 0);
	dev->fd = FAKE_FD + 1; /* the fake answers ENOTTY: no such feature */
	CHECK_EQ(vmt_mig_query(dev), -EOPNOTSUPP);
	free(dev);
}

/* ---- sysfs names ---- */

static void test_pci_address(void)
{
	char out[32];

	CHECK_EQ(vmt_sysfs_parse_pci_address("0000:01:00.0", out, sizeof(out)), 0);
	CHECK(strcmp(out, "0000:01:00.0") == 0);
	CHECK_EQ(vmt_sysfs_parse_pci_address("3b:1f.7", out, sizeof(out)), 0);
	CHECK(strcmp(out, "0000:3b:1f.7") == 0);
	CHECK_EQ(vmt_sysfs_parse_pci_address("ABCD:EF:01.2", out, sizeof(out)), 0);
	CHECK(strcmp(out, "abcd:ef:01.2") == 0);
	CHECK_EQ(vmt_sysfs_parse_pci_address("01:00.8", out, sizeof(out)), -EINVAL);
	CHECK_EQ(vmt_sysfs_parse_pci_address("01:20.0", out, sizeof(out)), -EINVAL);
	CHECK_EQ(vmt_sysfs_parse_pci_address("1:00.0", out, sizeof(out)), -EINVAL);
	CHECK_EQ(vmt_sysfs_parse_pci_address("0000:01:00.0x", out, sizeof(out)), -EINVAL);
	CHECK_EQ(vmt_sysfs_parse_pci_address("vfio0", out, sizeof(out)), -EINVAL);
	CHECK(vmt_sysfs_is_uuid("83b8f4f2-509f-382f-3c1e-e6bfe0fa1001"));
	CHECK(!vmt_sysfs_is_uuid("83b8f4f2-509f-382f-3c1e-e6bfe0fa100"));
	CHECK(!vmt_sysfs_is_uuid("83b8f4f2-509f-382f-3c1e-e6bfe0fa10011"));
	CHECK(!vmt_sysfs_is_uuid("83b8f4f2_509f-382f-3c1e-e6bfe0fa1001"));
	CHECK(!vmt_sysfs_is_uuid(""));
}

/* ---- the data fd helpers, on a pipe ---- */

/* The names a device can be given as, told apart from typos without opening anything. */
static void test_device_spec_check(void)
{
	CHECK_EQ(vmt_device_spec_check("vfio0"), 0);
	CHECK_EQ(vmt_device_spec_check("/dev/vfio/devices/vfio12"), 0);
	/* Only the cdev directory: no other path is ever opened as a device. */
	CHECK_EQ(vmt_device_spec_check("./anything"), -EINVAL);
	CHECK_EQ(vmt_device_spec_check("./vfio0"), -EINVAL);
	CHECK_EQ(vmt_device_spec_check("../../etc/passwd"), -EINVAL);
	CHECK_EQ(vmt_device_spec_check("/dev/vfio/devices/../devices/vfio0"), -EINVAL);
	CHECK_EQ(vmt_device_spec_check("/dev/vfio/devices//vfio0"), -EINVAL);
	CHECK_EQ(vmt_device_spec_check("/dev/vfio/devices/vfio0/"), -EINVAL);
	CHECK_EQ(vmt_device_spec_check("/dev/vfio/0"), -EINVAL);
	CHECK_EQ(vmt_device_spec_check("dev/vfio/devices/vfio0"), -EINVAL);
	CHECK_EQ(vmt_device_spec_check("vfio0\n"), -EINVAL);
	CHECK_EQ(vmt_device_spec_check("zz:00.1"), -EINVAL);
	CHECK_EQ(vmt_device_spec_check("0000:01:00.0"), 0);
	CHECK_EQ(vmt_device_spec_check("01:00.0"), 0);
	CHECK_EQ(vmt_device_spec_check("83b8f4f2-509f-382f-3c1e-e6bfe0fa1001"), 0);
	CHECK_EQ(vmt_device_spec_check("fd:3"), 0);
	CHECK_EQ(vmt_device_spec_check("fd:x"), -EINVAL);
	CHECK_EQ(vmt_device_spec_check("bogus"), -EINVAL);
	CHECK_EQ(vmt_device_spec_check("vfio"), -EINVAL);
	CHECK_EQ(vmt_device_spec_check("vfio0x"), -EINVAL);
	CHECK_EQ(vmt_device_spec_check(""), -EINVAL);
}

static void test_read_data(void)
{
	unsigned char buf[64];
	size_t got = 99;
	int p[2];

	CHECK_EQ(pipe(p), 0);
	CHECK_EQ(write(p[1], "0123456789", 10), 10);
	close(p[1]);
	/* Fills what it can, then end of data: STOP_COPY says END... */
	CHECK_EQ(vmt_mig_read_data(p[0], buf, 4, false, &got), VMT_DATA_FULL);
	CHECK_EQ(got, 4);
	CHECK_EQ(vmt_mig_read_data(p[0], buf, sizeof(buf), false, &got), VMT_DATA_END);
	CHECK_EQ(got, 6);
	CHECK(memcmp(buf, "456789", 6) == 0);
	/* ... and PRE_COPY takes 0 as "nothing more for now" (mtty). */
	CHECK_EQ(vmt_mig_read_data(p[0], buf, sizeof(buf), true, &got), VMT_DATA_PAUSED);
	CHECK_EQ(got, 0);
	close(p[0]);
	CHECK_EQ(vmt_mig_read_data(p[0], buf, sizeof(buf), false, &got), -EBADF);
}

static int eintr_pipe_in = -1;

/* Each tick also feeds the pipe, so a read() that restarts after EINTR still ends. */
static void on_tick(int sig)
{
	(void)sig;
	if (write(eintr_pipe_in, "x", 1) < 0)
		return;
}

static void test_read_data_eintr(void)
{
	struct sigaction sa = { .sa_handler = on_tick }, old;
	struct itimerval tick = { .it_interval = { 0, 50000 }, .it_value = { 0, 50000 } };
	struct itimerval off = { { 0, 0 }, { 0, 0 } };
	unsigned char buf[8];
	size_t got = 99;
	int p[2], ret;

	CHECK_EQ(pipe(p), 0);
	eintr_pipe_in = p[1];
	CHECK_EQ(write(p[1], "abc", 3), 3);
	/* No SA_RESTART, as the tools install their stop handlers. */
	sigemptyset(&sa.sa_mask);
	CHECK_EQ(sigaction(SIGALRM, &sa, &old), 0);
	CHECK_EQ(setitimer(ITIMER_REAL, &tick, NULL), 0);
	/* The pipe stays open: after "abc" read() blocks until the signal ends it. */
	ret = vmt_mig_read_data(p[0], buf, sizeof(buf), false, &got);
	setitimer(ITIMER_REAL, &off, NULL);
	sigaction(SIGALRM, &old, NULL);
	CHECK_EQ(ret, -EINTR);
	CHECK_EQ(got, 3);
	CHECK(memcmp(buf, "abc", 3) == 0);
	close(p[0]);
	close(p[1]);
}

static void test_write_data(void)
{
	unsigned char big[200000], back[sizeof(big)];
	size_t got = 0;
	int p[2];

	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (unsigned char)(i * 7);
	CHECK_EQ(pipe(p), 0);
	/* More than a pipe holds: the writer must loop over short writes. */
	if (fork() == 0) {
		close(p[0]);
		_exit(vmt_mig_write_data(p[1], big, sizeof(big)) == 0 ? 0 : 1);
	}
	close(p[1]);
	CHECK_EQ(vmt_mig_read_data(p[0], back, sizeof(back), false, &got), VMT_DATA_FULL);
	CHECK_EQ(got, sizeof(big));
	CHECK(memcmp(big, back, sizeof(big)) == 0);
	close(p[0]);
	signal(SIGPIPE, SIG_IGN);
	CHECK_EQ(pipe(p), 0);
	close(p[0]);
	CHECK_EQ(vmt_mig_write_data(p[1], big, 10), -EPIPE);
	close(p[1]);
}

int main(void)
{
	RUN(test_state_names);
	RUN(test_reachable_states);
	RUN(test_state_classes);
	RUN(test_quiesce_state);
	RUN(test_recovery_decisions);
	RUN(test_recover_simple);
	RUN(test_recover_from_error);
	RUN(test_recover_set_fails_then_reset);
	RUN(test_recover_gives_up);
	RUN(test_recover_unreadable_state);
	RUN(test_set_state_refuses_impossible);
	RUN(test_device_spec_check);
	RUN(test_query_no_migration);
	RUN(test_pci_address);
	RUN(test_read_data);
	RUN(test_read_data_eintr);
	RUN(test_write_data);
	return unit_done();
}
