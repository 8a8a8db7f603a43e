// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * sim-selftest: checks libvfiosim against the kernel's rules, talking to the
 * uAPI directly (lib/uapi headers, raw ioctls) so it depends on no project
 * library. Run by tests/sim/sim-selftest.bats under vfiosim-run with the
 * devices listed there; prints TAP.
 *
 * The FSM expectations are written independently of the simulator's table:
 * the multi-step paths are the list in the comment of vfio_mig_get_next_state
 * (drivers/vfio/vfio_main.c) for a device with every feature, and "arcs
 * touching optional and unsupported states are skipped over" gives the
 * others. The same checks are meant to run on the real kernel (mtty).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <signal.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/c.h"
#include "vfio/uapi/iommufd-uapi.h"
#include "vfio/uapi/vfio-uapi.h"

static unsigned int test_no, failures;

static void check(bool ok, int line, const char *fmt, ...) VMT_PRINTF(3, 4);

static void check(bool ok, int line, const char *fmt, ...)
{
	va_list ap;

	test_no++;
	printf("%sok %u - ", ok ? "" : "not ", test_no);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	if (!ok) {
		printf(" (line %d, errno %d %s)", line, errno, strerror(errno));
		failures++;
	}
	printf("\n");
	fflush(stdout);
}

#define CHECK(cond, ...) check((cond), __LINE__, __VA_ARGS__)
/* r is a syscall result: err 0 wants success, else -1 with that errno */
#define EXPECT(r, err, ...)                                             \
	do {                                                            \
		long r_ = (long)(r);                                    \
		int e_ = errno;                                         \
		bool ok_ = (err) ? (r_ == -1 && e_ == (err)) : r_ >= 0; \
		errno = e_;                                             \
		check(ok_, __LINE__, __VA_ARGS__);                      \
	} while (0)

static const char *state_dir;

/* ---- state file ---- */

static bool state_get(const char *dev, const char *key, char *out, size_t len)
{
	char path[PATH_MAX], line[4096];
	size_t klen = strlen(key);
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.state", state_dir, dev);
	f = fopen(path, "r");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, key, klen) && line[klen] == '=') {
			line[strcspn(line, "\n")] = '\0';
			snprintf(out, len, "%s", line + klen + 1);
			found = true;
			break;
		}
	}
	fclose(f);
	return found;
}

/* ---- device helpers ---- */

struct dev {
	char name[16];
	int fd;
	int ifd;
	uint32_t devid, ioas, hwpt;
};

static int dev_open(struct dev *d, unsigned int index)
{
	char path[64];
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	struct vfio_device_attach_iommufd_pt attach = { .argsz = sizeof(attach) };

	snprintf(d->name, sizeof(d->name), "vfio%u", index);
	snprintf(path, sizeof(path), "/dev/vfio/devices/vfio%u", index);
	d->ifd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	d->fd = open(path, O_RDWR | O_CLOEXEC);
	if (d->ifd < 0 || d->fd < 0)
		return -1;
	bind.iommufd = d->ifd;
	if (ioctl(d->fd, VFIO_DEVICE_BIND_IOMMUFD, &bind))
		return -1;
	d->devid = bind.out_devid;
	if (ioctl(d->ifd, IOMMU_IOAS_ALLOC, &alloc))
		return -1;
	d->ioas = alloc.out_ioas_id;
	attach.pt_id = d->ioas;
	if (ioctl(d->fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach))
		return -1;
	d->hwpt = attach.pt_id;
	return 0;
}

static void dev_close(struct dev *d)
{
	if (d->fd >= 0)
		close(d->fd);
	if (d->ifd >= 0)
		close(d->ifd);
	d->fd = d->ifd = -1;
}

/* VFIO_DEVICE_FEATURE with payload; argsz = header + datalen (<= 64) */
static int feature(int fd, uint32_t flags, void *data, size_t datalen)
{
	uint64_t raw[(sizeof(struct vfio_device_feature) + 64) / sizeof(uint64_t)] = { 0 };
	struct vfio_device_feature *hdr = (struct vfio_device_feature *)raw;
	int r;

	hdr->argsz = (uint32_t)(sizeof(*hdr) + datalen);
	hdr->flags = flags;
	if (datalen)
		memcpy(hdr->data, data, datalen);
	r = ioctl(fd, VFIO_DEVICE_FEATURE, hdr);
	if (datalen)
		memcpy(data, hdr->data, datalen);
	return r;
}

/* SET the state: 0 or -1 with errno; *data_fd as returned */
static int mig_set(int fd, uint32_t state, int *data_fd)
{
	struct vfio_device_feature_mig_state mig = { .device_state = state, .data_fd = -7 };
	int r = feature(fd, VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE, &mig,
			sizeof(mig));

	if (data_fd)
		*data_fd = mig.data_fd;
	return r;
}

static uint32_t mig_get(int fd)
{
	struct vfio_device_feature_mig_state mig = { .device_state = 99 };

	if (feature(fd, VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE, &mig,
		    sizeof(mig)))
		return 99;
	return mig.device_state;
}

static int precopy_info(int data_fd, struct vfio_precopy_info *info)
{
	memset(info, 0, sizeof(*info));
	info->argsz = sizeof(*info);
	return ioctl(data_fd, VFIO_MIG_GET_PRECOPY_INFO, info);
}

/* read to end of stream into a malloc'd buffer; returns length or -1 */
static ssize_t read_all(int fd, uint8_t **out)
{
	size_t cap = 1 << 16, len = 0;
	uint8_t *buf = malloc(cap);

	for (;;) {
		ssize_t n;

		if (len == cap) {
			cap *= 2;
			buf = realloc(buf, cap);
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0) {
			free(buf);
			return -1;
		}
		if (!n)
			break;
		len += (size_t)n;
	}
	*out = buf;
	return (ssize_t)len;
}

static int write_all(int fd, const uint8_t *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* ---- FSM expectations ---- */

enum {
	ST_ERROR = VFIO_DEVICE_STATE_ERROR,
	ST_STOP = VFIO_DEVICE_STATE_STOP,
	ST_RUNNING = VFIO_DEVICE_STATE_RUNNING,
	ST_STOP_COPY = VFIO_DEVICE_STATE_STOP_COPY,
	ST_RESUMING = VFIO_DEVICE_STATE_RESUMING,
	ST_RUNNING_P2P = VFIO_DEVICE_STATE_RUNNING_P2P,
	ST_PRE_COPY = VFIO_DEVICE_STATE_PRE_COPY,
	ST_PRE_COPY_P2P = VFIO_DEVICE_STATE_PRE_COPY_P2P,
	ST_NUM = 8,
};

static const char *const state_names[] = {
	"ERROR",    "STOP",	   "RUNNING",  "STOP_COPY",
	"RESUMING", "RUNNING_P2P", "PRE_COPY", "PRE_COPY_P2P",
};

static const char *sname(uint32_t s)
{
	return s < ST_NUM ? state_names[s] : "INVALID";
}

/* S=STOP R=RUNNING C=STOP_COPY M=RESUMING P=RUNNING_P2P X=PRE_COPY Y=PRE_COPY_P2P */
static int letter_state(char c)
{
	switch (c) {
	case 'S':
		return ST_STOP;
	case 'R':
		return ST_RUNNING;
	case 'C':
		return ST_STOP_COPY;
	case 'M':
		return ST_RESUMING;
	case 'P':
		return ST_RUNNING_P2P;
	case 'X':
		return ST_PRE_COPY;
	case 'Y':
		return ST_PRE_COPY_P2P;
	default:
		return -1;
	}
}

/* the multi-step paths listed in the comment of vfio_mig_get_next_state */
static const char *const full_paths[] = {
	"XYC",	"XRP",	 "XRPS", "XRPSM", "YPR", "YPS",	 "YPSM", "MSP", "MSPY",
	"MSPR", "MSPRX", "MSC",	 "RPY",	  "RPS", "RPSM", "RPSC", "PRX", "PSM",
	"PSC",	"SPY",	 "SPR",	 "SPRX",  "CSM", "CSP",	 "CSPR",
};

static uint32_t needed_flags(int s)
{
	switch (s) {
	case ST_PRE_COPY:
		return VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_PRE_COPY;
	case ST_PRE_COPY_P2P:
		return VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P | VFIO_MIGRATION_PRE_COPY;
	case ST_RUNNING_P2P:
		return VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P;
	case ST_ERROR:
		return ~0U;
	default:
		return VFIO_MIGRATION_STOP_COPY;
	}
}

static bool supported(uint32_t flags, int s)
{
	return s >= 0 && s < ST_NUM && (needed_flags(s) & flags) == needed_flags(s);
}

/*
 * Expected states walked from -> to (from excluded) into path[]; returns the
 * count, or -1 when the kernel refuses (EINVAL).
 */
static int expected_path(uint32_t flags, int from, int to, int path[8])
{
	char full[8] = "";
	int n = 0;

	if (!supported(flags, from) || !supported(flags, to) || to == ST_ERROR)
		return -1;
	if (from == to)
		return 0;
	if (from == ST_STOP_COPY && (to == ST_PRE_COPY || to == ST_PRE_COPY_P2P))
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(full_paths); i++) {
		const char *p = full_paths[i];

		if (letter_state(p[0]) == from && letter_state(p[strlen(p) - 1]) == to)
			snprintf(full, sizeof(full), "%s", p + 1);
	}
	if (!full[0]) {
		path[0] = to;
		return 1;
	}
	for (const char *p = full; *p; p++) {
		int s = letter_state(*p);

		if (supported(flags, s))
			path[n++] = s;
	}
	return n;
}

static bool arc_creates_file(int from, int to)
{
	return (from == ST_RUNNING && to == ST_PRE_COPY) ||
	       (from == ST_RUNNING_P2P && to == ST_PRE_COPY_P2P) ||
	       (from == ST_STOP && to == ST_STOP_COPY) || (from == ST_STOP && to == ST_RESUMING);
}

/* a valid state stream for the resuming side, saved once from vfio0 */
static uint8_t *saved_stream;
static size_t saved_len;
static char saved_digest[64];

static int put_in_state(struct dev *d, int from, int *data_fd)
{
	*data_fd = -1;
	if (from == ST_RUNNING)
		return 0;
	if (mig_set(d->fd, (uint32_t)from, data_fd))
		return -1;
	if (from == ST_RESUMING && write_all(*data_fd, saved_stream, saved_len))
		return -1;
	return 0;
}

static void test_fsm_device(unsigned int index, uint32_t flags)
{
	unsigned int cases = 0, bad = 0;

	for (int from = 0; from < ST_NUM; from++) {
		if (from == ST_ERROR || !supported(flags, from))
			continue;
		for (int to = 0; to <= ST_NUM; to++) {
			int path[8], n = expected_path(flags, from, to, path);
			char before[2100] = "", after[2100] = "", want[512] = "";
			const char *walked;
			int fd0, fd1, r, e, prev = from;
			struct dev d;
			bool ok = true;

			/* mtty keeps its state over close: reset (RUNNING) first */
			if (dev_open(&d, index) || ioctl(d.fd, VFIO_DEVICE_RESET) ||
			    put_in_state(&d, from, &fd0)) {
				CHECK(false, "vfio%u: cannot reach %s", index,
				      sname((uint32_t)from));
				dev_close(&d);
				continue;
			}
			if (state_dir)
				state_get(d.name, "arcs", before, sizeof(before));
			r = mig_set(d.fd, (uint32_t)to, &fd1);
			e = errno;
			if (state_dir)
				state_get(d.name, "arcs", after, sizeof(after));
			walked = after + strlen(before) +
				 (before[0] && after[strlen(before)] == ',');
			for (int i = 0; i < (n > 0 ? n : 0); i++) {
				snprintf(want + strlen(want), sizeof(want) - strlen(want),
					 "%s%s>%s", i ? "," : "", sname((uint32_t)prev),
					 sname((uint32_t)path[i]));
				prev = path[i];
			}
			/* the walked arcs are known on the simulator only */
			if (!state_dir)
				walked = want;
			if (n < 0) {
				ok = r == -1 && e == EINVAL && fd1 == -1 &&
				     mig_get(d.fd) == (uint32_t)from &&
				     (!state_dir || !strcmp(walked, ""));
			} else {
				bool want_fd = n > 0 && arc_creates_file(n > 1 ? path[n - 2] : from,
									 path[n - 1]);

				ok = r == 0 && mig_get(d.fd) == (uint32_t)to &&
				     !strcmp(walked, want) && (want_fd ? fd1 >= 0 : fd1 == -1);
			}
			cases++;
			if (!ok) {
				bad++;
				printf("# vfio%u flags %#x %s -> %s: r=%d errno=%d data_fd=%d walked '%s' want %s'%s'\n",
				       index, flags, sname((uint32_t)from), sname((uint32_t)to), r,
				       e, fd1, walked, n < 0 ? "EINVAL " : "", want);
			}
			if (fd0 >= 0)
				close(fd0);
			if (fd1 >= 0)
				close(fd1);
			dev_close(&d);
		}
	}
	CHECK(bad == 0 && cases > 0,
	      "FSM flags %#x (vfio%u): %u (from, to) pairs follow vfio_mig_get_next_state", flags,
	      index, cases);
}

/* ---- data_fd ---- */

static void test_stop_copy_stream(void)
{
	struct dev d;
	int dfd, r;
	uint8_t *buf = NULL;
	ssize_t len;
	char v[64];

	CHECK(dev_open(&d, 0) == 0, "vfio0 opens, binds to iommufd, attaches to an IOAS");
	CHECK(d.hwpt != d.ioas && d.hwpt != 0, "ATTACH to an IOAS returns the automatic HWPT id");
	CHECK(mig_get(d.fd) == ST_RUNNING, "a freshly opened device is RUNNING");
	r = mig_set(d.fd, ST_STOP_COPY, &dfd);
	CHECK(r == 0 && dfd >= 0, "RUNNING -> STOP_COPY gives a data_fd");
	CHECK((fcntl(dfd, F_GETFD) & FD_CLOEXEC) != 0, "the data_fd is O_CLOEXEC");
	{
		fd_set rfds;
		struct timeval tv = { 0 };

		FD_ZERO(&rfds);
		FD_SET(dfd, &rfds);
		CHECK(select(dfd + 1, &rfds, NULL, NULL, &tv) == 1,
		      "select() sees the STOP_COPY data_fd readable (backing eventfd)");
	}
	len = read_all(dfd, &buf);
	CHECK(len == 4096, "STOP_COPY data is exactly size=4K bytes (got %zd)", len);
	CHECK(len >= 8 && !memcmp(buf, "VFSIMSEC", 8), "the stream starts with a section header");
	CHECK(read(dfd, v, sizeof(v)) == 0, "read() keeps returning 0 at the end of STOP_COPY");
	{
		struct pollfd p = { .fd = dfd, .events = POLLIN };

		CHECK(poll(&p, 1, 0) == 1 && (p.revents & POLLIN),
		      "poll() reports the end of stream as readable");
	}
	EXPECT(pread(dfd, v, 8, 0), ESPIPE, "pread on a data_fd fails with ESPIPE");
	EXPECT(write(dfd, v, 8), EBADF, "write on a saving data_fd fails with EBADF (O_RDONLY)");
	{
		struct vfio_precopy_info info;

		EXPECT(precopy_info(dfd, &info), EINVAL,
		       "VFIO_MIG_GET_PRECOPY_INFO in STOP_COPY fails with EINVAL");
	}
	CHECK(state_get("vfio0", "save_complete", v, sizeof(v)) && !strcmp(v, "1"),
	      "state file: save_complete=1");
	saved_stream = buf;
	saved_len = (size_t)len;
	CHECK(state_get("vfio0", "save_digest", saved_digest, sizeof(saved_digest)) &&
		      !strncmp(saved_digest, "xxh3:", 5),
	      "state file: save_digest=%s", saved_digest);
	EXPECT(mig_set(d.fd, ST_STOP, NULL), 0, "STOP_COPY -> STOP");
	EXPECT(read(dfd, v, 8), ENODEV, "the data_fd is disabled after STOP_COPY -> STOP (ENODEV)");
	close(dfd);
	dev_close(&d);
	CHECK(state_get("vfio0", "state", v, sizeof(v)) && !strcmp(v, "RUNNING"),
	      "closing the device resets it to RUNNING (state file)");
	CHECK(state_get("vfio0", "last_state", v, sizeof(v)) && !strcmp(v, "STOP"),
	      "state file: last_state=STOP");
}

static void test_resume(void)
{
	struct dev d;
	int dfd;
	char v[128];
	const char *digest = saved_digest;
	uint8_t *bad;

	/* a good stream */
	CHECK(dev_open(&d, 6) == 0, "vfio6 opens");
	EXPECT(mig_set(d.fd, ST_RESUMING, &dfd), 0, "RUNNING -> RESUMING in one SET");
	CHECK(dfd >= 0, "RESUMING gives a data_fd");
	CHECK(write_all(dfd, saved_stream, saved_len) == 0, "the saved stream is written");
	EXPECT(write(dfd, "x", 1), ENOMEM, "a byte past the end of the state fails with ENOMEM");
	{
		struct vfio_precopy_info info;

		EXPECT(precopy_info(dfd, &info), ENOTTY,
		       "the resuming data_fd has no ioctl (ENOTTY)");
	}
	EXPECT(mig_set(d.fd, ST_RUNNING, NULL), 0, "RESUMING -> RUNNING after a complete stream");
	CHECK(state_get("vfio6", "load_verified", v, sizeof(v)) && !strcmp(v, "ok"),
	      "state file: load_verified=ok");
	CHECK(state_get("vfio6", "load_digest", v, sizeof(v)) && !strcmp(v, digest),
	      "load_digest equals the source's save_digest (%s)", digest);
	close(dfd);
	EXPECT(ioctl(d.fd, VFIO_DEVICE_RESET), 0, "VFIO_DEVICE_RESET of the loaded device");
	CHECK(state_get("vfio6", "load_verified", v, sizeof(v)) && !strcmp(v, "reset"),
	      "a reset discards the loaded state: load_verified=reset (%s)", v);

	/* a corrupt byte */
	bad = malloc(saved_len);
	memcpy(bad, saved_stream, saved_len);
	bad[saved_len / 2] ^= 0x40;
	EXPECT(mig_set(d.fd, ST_RESUMING, &dfd), 0, "RUNNING -> RESUMING again");
	CHECK(write_all(dfd, bad, saved_len) == 0, "a corrupt stream is accepted by write()");
	EXPECT(mig_set(d.fd, ST_STOP, NULL), EINVAL, "RESUMING -> STOP fails (EINVAL) on bad data");
	CHECK(mig_get(d.fd) == ST_RESUMING, "the device stays in RESUMING");
	CHECK(state_get("vfio6", "load_error", v, sizeof(v)) &&
		      strstr(v, "bad byte at offset") != NULL,
	      "state file names the bad offset (%s)", v);
	EXPECT(ioctl(d.fd, VFIO_DEVICE_RESET), 0, "VFIO_DEVICE_RESET");
	CHECK(mig_get(d.fd) == ST_RUNNING, "reset puts the device in RUNNING");
	EXPECT(write(dfd, bad, 8), ENODEV, "reset disables the data_fd");
	close(dfd);

	/* short data */
	EXPECT(mig_set(d.fd, ST_RESUMING, &dfd), 0, "RESUMING for a short stream");
	CHECK(write_all(dfd, saved_stream, saved_len - 1) == 0, "all but one byte written");
	EXPECT(mig_set(d.fd, ST_RUNNING, NULL), EINVAL, "RESUMING -> RUNNING fails on short data");
	CHECK(mig_get(d.fd) == ST_RESUMING, "still RESUMING");
	CHECK(state_get("vfio6", "load_verified", v, sizeof(v)) && !strcmp(v, "short"),
	      "state file: load_verified=short");
	close(dfd);
	free(bad);
	dev_close(&d);
}

/* vfio3's whole stream (pre-copy sections, then stop-copy), for test_resume_split_headers */
static uint8_t precopy_stream[8192];
static size_t precopy_stream_len;

static void keep_precopy_bytes(const uint8_t *p, ssize_t n)
{
	if (n > 0 && precopy_stream_len + (size_t)n <= sizeof(precopy_stream)) {
		memcpy(precopy_stream + precopy_stream_len, p, (size_t)n);
		precopy_stream_len += (size_t)n;
	}
}

static void test_precopy(void)
{
	struct vfio_precopy_info info;
	struct dev d;
	int dfd, dfd2;
	uint8_t buf[1 << 16];
	ssize_t n;
	uint64_t pre = 0, total = 0;
	char v[64];

	/* vfio3: pre-copy, initial 1K, 2 dirty rounds of 512 bytes, ENOMSG */
	CHECK(dev_open(&d, 3) == 0, "vfio3 opens");
	EXPECT(mig_set(d.fd, ST_PRE_COPY, &dfd), 0, "RUNNING -> PRE_COPY");
	CHECK(dfd >= 0, "PRE_COPY gives a data_fd");
	EXPECT(precopy_info(dfd, &info), 0, "VFIO_MIG_GET_PRECOPY_INFO in PRE_COPY");
	CHECK(info.initial_bytes == 1024 && info.dirty_bytes == 0,
	      "initial_bytes=1024 dirty_bytes=0 (got %llu %llu)",
	      (unsigned long long)info.initial_bytes, (unsigned long long)info.dirty_bytes);
	{
		struct {
			uint32_t argsz, flags;
			uint64_t initial;
		} shortinfo = { .argsz = 16 };

		EXPECT(ioctl(dfd, VFIO_MIG_GET_PRECOPY_INFO, &shortinfo), EINVAL,
		       "precopy info with argsz 16 (< 24) fails with EINVAL");
	}
	EXPECT(ioctl(dfd, VFIO_DEVICE_GET_INFO, buf), ENOTTY, "other ioctls on a data_fd: ENOTTY");
	n = read(dfd, buf, 100);
	keep_precopy_bytes(buf, n);
	CHECK(n == 100, "a short read in PRE_COPY");
	pre += (uint64_t)n;
	EXPECT(precopy_info(dfd, &info), 0, "precopy info after 100 bytes");
	CHECK(info.initial_bytes == 924, "initial_bytes goes down as data is read (%llu)",
	      (unsigned long long)info.initial_bytes);
	n = read(dfd, buf, sizeof(buf));
	keep_precopy_bytes(buf, n);
	CHECK(n == 924, "the rest of the initial data (%zd)", n);
	pre += (uint64_t)n;
	EXPECT(read(dfd, buf, sizeof(buf)), ENOMSG,
	       "read() at the temporary end of pre-copy data fails with ENOMSG");
	{
		struct pollfd p = { .fd = dfd, .events = POLLIN };

		/* the first dirty round appeared when the reader caught up */
		CHECK(poll(&p, 1, 0) == 1, "poll: readable once dirty data is there");
	}
	EXPECT(precopy_info(dfd, &info), 0, "precopy info after the first round");
	CHECK(info.initial_bytes == 0 && info.dirty_bytes == 512,
	      "initial_bytes=0 dirty_bytes=512 (got %llu %llu)",
	      (unsigned long long)info.initial_bytes, (unsigned long long)info.dirty_bytes);
	while ((n = read(dfd, buf, sizeof(buf))) > 0) {
		keep_precopy_bytes(buf, n);
		pre += (uint64_t)n;
	}
	CHECK(n == -1 && errno == ENOMSG, "dirty data read up to the next temporary end");
	while ((n = read(dfd, buf, sizeof(buf))) > 0) {
		keep_precopy_bytes(buf, n);
		pre += (uint64_t)n;
	}
	CHECK(n == -1 && errno == ENOMSG && pre == 2048,
	      "two dirty rounds of 512: 2048 pre-copy bytes (%llu)", (unsigned long long)pre);
	EXPECT(read(dfd, buf, sizeof(buf)), ENOMSG, "no more rounds: ENOMSG again");
	{
		struct pollfd p = { .fd = dfd, .events = POLLIN };

		CHECK(poll(&p, 1, 0) == 0, "poll: not readable at the temporary end");
	}
	EXPECT(mig_set(d.fd, ST_PRE_COPY_P2P, &dfd2), 0, "PRE_COPY -> PRE_COPY_P2P");
	CHECK(dfd2 == -1, "PRE_COPY -> PRE_COPY_P2P gives no new data_fd");
	EXPECT(precopy_info(dfd, &info), 0, "precopy info works in PRE_COPY_P2P");
	EXPECT(mig_set(d.fd, ST_STOP_COPY, &dfd2), 0, "PRE_COPY_P2P -> STOP_COPY");
	CHECK(dfd2 == -1, "PRE_COPY -> STOP_COPY keeps the same data_fd (returns -1)");
	EXPECT(precopy_info(dfd, &info), EINVAL, "precopy info in STOP_COPY: EINVAL");
	while ((n = read(dfd, buf, sizeof(buf))) > 0) {
		keep_precopy_bytes(buf, n);
		total += (uint64_t)n;
	}
	CHECK(n == 0 && total == 4096, "the same fd then gives the 4K stop-copy data and 0 (%llu)",
	      (unsigned long long)total);
	CHECK(state_get("vfio3", "saved_bytes", v, sizeof(v)) &&
		      strtoull(v, NULL, 10) == pre + total,
	      "state file: saved_bytes=%s", v);
	CHECK(state_get("vfio3", "enomsg", v, sizeof(v)) && !strcmp(v, "4"),
	      "state file: enomsg=4 (%s)", v);
	close(dfd);
	EXPECT(mig_set(d.fd, ST_RUNNING, NULL), 0, "STOP_COPY -> RUNNING");

	/* leaving PRE_COPY for RUNNING disables the file */
	EXPECT(mig_set(d.fd, ST_PRE_COPY, &dfd), 0, "RUNNING -> PRE_COPY");
	EXPECT(mig_set(d.fd, ST_RUNNING, NULL), 0, "PRE_COPY -> RUNNING");
	EXPECT(read(dfd, buf, 8), ENODEV, "the pre-copy data_fd is disabled (ENODEV)");
	EXPECT(precopy_info(dfd, &info), EINVAL, "precopy info after leaving PRE_COPY: EINVAL");
	close(dfd);
	dev_close(&d);

	/* vfio5: mtty style, read() returns 0 at the temporary end */
	CHECK(dev_open(&d, 5) == 0, "vfio5 opens");
	EXPECT(mig_set(d.fd, ST_PRE_COPY, &dfd), 0, "vfio5 RUNNING -> PRE_COPY");
	pre = 0;
	while ((n = read(dfd, buf, 10)) > 0)
		pre += (uint64_t)n;
	CHECK(n == 0 && pre == 1024, "precopy-eof=zero: 1024 bytes in reads of 10, then 0");
	CHECK(mig_get(d.fd) == ST_PRE_COPY, "still PRE_COPY after read() returned 0");
	EXPECT(mig_set(d.fd, ST_STOP_COPY, &dfd2), 0, "vfio5 PRE_COPY -> STOP_COPY");
	total = 0;
	while ((n = read(dfd, buf, sizeof(buf))) > 0)
		total += (uint64_t)n;
	CHECK(n == 0 && total == 4096, "then the stop-copy data on the same fd");
	close(dfd);
	dev_close(&d);
}

/*
 * A section header split over two writes, after a section that ended: the
 * target must finish the header before it reads payload again (its
 * position is past the previous section's end by then). Seven-byte writes
 * split every header of vfio3's four sections.
 */
static void test_resume_split_headers(void)
{
	struct dev d;
	int dfd;
	char v[128];
	bool ok = true;

	CHECK(precopy_stream_len == 2048 + 4096, "vfio3's stream kept (%zu bytes)",
	      precopy_stream_len);
	CHECK(dev_open(&d, 6) == 0, "vfio6 opens");
	EXPECT(mig_set(d.fd, ST_RESUMING, &dfd), 0, "RUNNING -> RESUMING for seven-byte writes");
	for (size_t at = 0; at < precopy_stream_len && ok; at += 7) {
		size_t k = precopy_stream_len - at < 7 ? precopy_stream_len - at : 7;

		ok = write_all(dfd, precopy_stream + at, k) == 0;
	}
	CHECK(ok, "every seven-byte write is taken");
	EXPECT(mig_set(d.fd, ST_STOP, NULL), 0,
	       "RESUMING -> STOP: headers split over writes are whole");
	CHECK(state_get("vfio6", "load_verified", v, sizeof(v)) && !strcmp(v, "ok"),
	      "state file: load_verified=ok (%s)", v);
	EXPECT(mig_set(d.fd, ST_RUNNING, NULL), 0, "STOP -> RUNNING");
	close(dfd);
	dev_close(&d);
}

static void test_features(void)
{
	struct vfio_device_feature_migration mig = { 0 };
	struct vfio_device_feature_mig_data_size ds = { 0 };
	struct vfio_device_feature_mig_state ms = { 0 };
	struct vfio_device_feature hdr;
	struct dev d, nomig;
	char v[64];

	CHECK(dev_open(&d, 3) == 0, "vfio3 opens");
	EXPECT(feature(d.fd, VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIGRATION, &mig,
		       sizeof(mig)),
	       0, "GET MIGRATION");
	CHECK(mig.flags ==
		      (VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P | VFIO_MIGRATION_PRE_COPY),
	      "migration flags 0x7 (%#llx)", (unsigned long long)mig.flags);
	EXPECT(feature(d.fd, VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_MIGRATION, &mig,
		       sizeof(mig)),
	       EINVAL, "SET MIGRATION: EINVAL (GET only)");
	EXPECT(feature(d.fd,
		       VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_GET |
			       VFIO_DEVICE_FEATURE_MIGRATION,
		       &mig, 0),
	       0, "PROBE|GET MIGRATION: 0");
	EXPECT(feature(d.fd,
		       VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_SET |
			       VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE,
		       &ms, 0),
	       0, "PROBE|SET MIG_DEVICE_STATE: 0");
	EXPECT(feature(d.fd,
		       VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_SET |
			       VFIO_DEVICE_FEATURE_MIGRATION,
		       &mig, 0),
	       EINVAL, "PROBE|SET MIGRATION: EINVAL");
	EXPECT(feature(d.fd, VFIO_DEVICE_FEATURE_MIGRATION, &mig, sizeof(mig)), EINVAL,
	       "neither GET nor SET nor PROBE: EINVAL");
	EXPECT(feature(d.fd,
		       VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_SET |
			       VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE,
		       &ms, sizeof(ms)),
	       EINVAL, "GET|SET without PROBE: EINVAL");
	EXPECT(feature(d.fd, VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIGRATION, &mig, 4),
	       EINVAL, "GET MIGRATION with a 4-byte payload: EINVAL");
	EXPECT(feature(d.fd, VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE, &ms,
		       7),
	       EINVAL, "GET MIG_DEVICE_STATE with 7 bytes: EINVAL");
	EXPECT(feature(d.fd, VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIG_DATA_SIZE, &ds,
		       sizeof(ds)),
	       0, "GET MIG_DATA_SIZE");
	CHECK(ds.stop_copy_length == 4096, "stop_copy_length = size (%llu)",
	      (unsigned long long)ds.stop_copy_length);
	EXPECT(feature(d.fd, VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_MIG_DATA_SIZE, &ds,
		       sizeof(ds)),
	       EINVAL, "SET MIG_DATA_SIZE: EINVAL");
	EXPECT(feature(d.fd, VFIO_DEVICE_FEATURE_GET | 1234, &ds, sizeof(ds)), ENOTTY,
	       "an unknown feature: ENOTTY");
	EXPECT(feature(d.fd, VFIO_DEVICE_FEATURE_GET | (1u << 20) | VFIO_DEVICE_FEATURE_MIGRATION,
		       &mig, sizeof(mig)),
	       EINVAL, "unknown flag bits: EINVAL");
	hdr.argsz = 4;
	hdr.flags = VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIGRATION;
	EXPECT(ioctl(d.fd, VFIO_DEVICE_FEATURE, &hdr), EINVAL, "feature argsz 4 (< 8): EINVAL");
	ms.device_state = 42;
	EXPECT(feature(d.fd, VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE, &ms,
		       sizeof(ms)),
	       EINVAL, "SET to state 42: EINVAL");
	{
		struct vfio_device_info info = { .argsz = sizeof(info) };

		EXPECT(ioctl(d.fd, VFIO_DEVICE_GET_INFO, &info), 0, "VFIO_DEVICE_GET_INFO");
		CHECK((info.flags & (VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET)) ==
				      (VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET) &&
			      info.num_regions == VFIO_PCI_NUM_REGIONS &&
			      info.num_irqs == VFIO_PCI_NUM_IRQS,
		      "GET_INFO: PCI|RESET, 9 regions, 5 irqs");
		info.argsz = 8;
		EXPECT(ioctl(d.fd, VFIO_DEVICE_GET_INFO, &info), EINVAL,
		       "GET_INFO argsz 8: EINVAL");
	}
	dev_close(&d);

	CHECK(dev_open(&nomig, 4) == 0, "vfio4 (no migration) opens");
	EXPECT(feature(nomig.fd, VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIGRATION, &mig,
		       sizeof(mig)),
	       ENOTTY, "no migration: GET MIGRATION is ENOTTY");
	EXPECT(mig_set(nomig.fd, ST_STOP, NULL), ENOTTY, "no migration: SET state is ENOTTY");
	EXPECT(feature(nomig.fd, VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIG_DATA_SIZE, &ds,
		       sizeof(ds)),
	       ENOTTY, "no migration: MIG_DATA_SIZE is ENOTTY");
	dev_close(&nomig);
	(void)v;
}

static void test_bind_rules(void)
{
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	struct dev d;
	int fd, ifd, fd2, nul;
	char buf[8];

	fd = open("/dev/vfio/devices/vfio1", O_RDWR);
	ifd = open("/dev/iommu", O_RDWR);
	CHECK(fd >= 0 && ifd >= 0, "open vfio1 and /dev/iommu");
	EXPECT(mig_set(fd, ST_STOP, NULL), EINVAL, "ioctls before BIND_IOMMUFD fail with EINVAL");
	EXPECT(read(fd, buf, 8), EINVAL, "read on the device fd: EINVAL");
	bind.iommufd = 1000;
	EXPECT(ioctl(fd, VFIO_DEVICE_BIND_IOMMUFD, &bind), EBADF, "bind to a closed fd: EBADF");
	nul = open("/dev/null", O_RDWR);
	bind.iommufd = nul;
	EXPECT(ioctl(fd, VFIO_DEVICE_BIND_IOMMUFD, &bind), EBADFD, "bind to /dev/null: EBADFD");
	close(nul);
	bind.iommufd = ifd;
	bind.flags = 1;
	EXPECT(ioctl(fd, VFIO_DEVICE_BIND_IOMMUFD, &bind), EINVAL, "bind with flags: EINVAL");
	bind.flags = 0;
	bind.argsz = 8;
	EXPECT(ioctl(fd, VFIO_DEVICE_BIND_IOMMUFD, &bind), EINVAL, "bind with argsz 8: EINVAL");
	bind.argsz = sizeof(bind);
	EXPECT(ioctl(fd, VFIO_DEVICE_BIND_IOMMUFD, &bind), 0, "bind");
	EXPECT(ioctl(fd, VFIO_DEVICE_BIND_IOMMUFD, &bind), EINVAL, "bind twice: EINVAL");
	fd2 = open("/dev/vfio/devices/vfio1", O_RDWR);
	EXPECT(ioctl(fd2, VFIO_DEVICE_BIND_IOMMUFD, &bind), EINVAL,
	       "a second cdev open cannot bind (vfio_df_open): EINVAL");
	close(fd2);
	EXPECT(mig_set(fd, ST_STOP, NULL), 0, "bound: SET STOP");
	{
		int dupfd = dup(fd), nd;

		close(fd);
		CHECK(mig_get(dupfd) == ST_STOP, "a dup'd fd keeps the device open (still STOP)");
		nd = fcntl(dupfd, F_DUPFD_CLOEXEC, 100);
		close(dupfd);
		CHECK(nd >= 100 && mig_get(nd) == ST_STOP,
		      "F_DUPFD_CLOEXEC copies are simulated too");
		close(nd);
	}
	close(ifd);
	CHECK(dev_open(&d, 1) == 0 && mig_get(d.fd) == ST_RUNNING,
	      "after the last close the device opens in RUNNING");
	{
		struct stat st;

		CHECK(fstat(d.fd, &st) == 0 && S_ISCHR(st.st_mode) && minor(st.st_rdev) == 1,
		      "fstat on a device fd: a character device");
		CHECK(stat("/dev/vfio/devices/vfio1", &st) == 0 && S_ISCHR(st.st_mode),
		      "stat /dev/vfio/devices/vfio1: a character device");
		EXPECT(stat("/dev/vfio/devices/vfio99", &st), ENOENT,
		       "an unconfigured device: ENOENT");
		EXPECT(open("/dev/vfio/devices/vfio99", O_RDWR), ENOENT, "open vfio99: ENOENT");
		CHECK(access("/dev/iommu", R_OK | W_OK) == 0, "access /dev/iommu");
	}
	dev_close(&d);
}

static void test_faults(void)
{
	struct dev d;
	int dfd;
	uint8_t buf[8192];
	ssize_t n;

	/* vfio7: fail=stop>stop-copy:EIO, error-on=pre-copy>running, read-eio-after=100 */
	CHECK(dev_open(&d, 7) == 0, "vfio7 opens");
	EXPECT(mig_set(d.fd, ST_STOP_COPY, &dfd), EIO,
	       "injected: STOP -> STOP_COPY fails with EIO");
	CHECK(dfd == -1, "no data_fd on failure");
	CHECK(mig_get(d.fd) == ST_STOP, "the walk stopped in STOP (the last state reached)");
	EXPECT(mig_set(d.fd, ST_RUNNING, NULL), 0, "STOP -> RUNNING");
	EXPECT(mig_set(d.fd, ST_PRE_COPY, &dfd), 0, "RUNNING -> PRE_COPY");
	n = read(dfd, buf, sizeof(buf));
	CHECK(n == 100, "read-eio-after=100: the first read stops at 100 (%zd)", n);
	EXPECT(read(dfd, buf, sizeof(buf)), EIO, "then EIO");
	close(dfd);
	EXPECT(mig_set(d.fd, ST_RUNNING, NULL), EIO,
	       "injected: PRE_COPY -> RUNNING puts it in ERROR");
	CHECK(mig_get(d.fd) == ST_ERROR, "state ERROR");
	EXPECT(mig_set(d.fd, ST_STOP, NULL), EINVAL, "from ERROR every SET fails with EINVAL");
	/* mtty_set_state/mlx5vf_pci_set_device_state loop while state != new: no-op */
	EXPECT(mig_set(d.fd, ST_ERROR, NULL), 0, "SET ERROR while in ERROR: 0 (nothing to walk)");
	EXPECT(ioctl(d.fd, VFIO_DEVICE_RESET), 0, "VFIO_DEVICE_RESET from ERROR");
	CHECK(mig_get(d.fd) == ST_RUNNING, "reset: RUNNING again");
	dev_close(&d);
}

/* ---- iommufd ---- */

static int iommu_cmd(int ifd, unsigned long req, void *arg)
{
	return ioctl(ifd, req, arg);
}

static void test_iommufd(void)
{
	struct dev d;
	uint8_t *mem =
		mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct iommu_ioas_map map = { .size = sizeof(map),
				      .flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
					       IOMMU_IOAS_MAP_WRITEABLE,
				      .user_va = (uintptr_t)mem,
				      .length = 1 << 20,
				      .iova = 1 << 24 };
	struct iommu_hw_info info = { .size = sizeof(info) };
	struct iommu_hwpt_alloc ha = { .size = sizeof(ha),
				       .flags = IOMMU_HWPT_ALLOC_DIRTY_TRACKING };
	struct iommu_hwpt_set_dirty_tracking sd = { .size = sizeof(sd) };
	struct iommu_hwpt_get_dirty_bitmap gd = { .size = sizeof(gd) };
	struct iommu_ioas_unmap um = { .size = sizeof(um) };
	struct iommu_destroy ds = { .size = sizeof(ds) };
	uint64_t bitmap[4];
	struct vfio_device_attach_iommufd_pt at = { .argsz = sizeof(at) };

	CHECK(dev_open(&d, 3) == 0, "vfio3 opens for iommufd tests");
	map.ioas_id = d.ioas;
	EXPECT(iommu_cmd(d.ifd, IOMMU_IOAS_MAP, &map), 0, "IOAS_MAP 1M at 16M (FIXED_IOVA)");
	EXPECT(iommu_cmd(d.ifd, IOMMU_IOAS_MAP, &map), EEXIST, "the same range again: EEXIST");
	map.iova = (1 << 24) + 100;
	EXPECT(iommu_cmd(d.ifd, IOMMU_IOAS_MAP, &map), EINVAL, "unaligned iova: EINVAL");
	map.iova = 1 << 26;
	map.length = 1000;
	EXPECT(iommu_cmd(d.ifd, IOMMU_IOAS_MAP, &map), EINVAL, "unaligned length: EINVAL");
	map.length = 4096;
	map.flags = IOMMU_IOAS_MAP_FIXED_IOVA;
	EXPECT(iommu_cmd(d.ifd, IOMMU_IOAS_MAP, &map), EINVAL,
	       "neither READABLE nor WRITEABLE: EINVAL");
	map.flags = IOMMU_IOAS_MAP_READABLE | (1 << 7);
	EXPECT(iommu_cmd(d.ifd, IOMMU_IOAS_MAP, &map), EOPNOTSUPP, "unknown map flag: EOPNOTSUPP");
	map.flags = IOMMU_IOAS_MAP_READABLE;
	map.iova = 0;
	EXPECT(iommu_cmd(d.ifd, IOMMU_IOAS_MAP, &map), 0, "IOAS_MAP without FIXED_IOVA");
	CHECK(map.iova != 0 && (map.iova & 4095) == 0 &&
		      (map.iova + 4096 <= (1 << 24) || map.iova >= (1 << 24) + (1 << 20)),
	      "an allocated, aligned, free iova (%#llx)", (unsigned long long)map.iova);
	um.ioas_id = d.ioas;
	um.iova = map.iova;
	um.length = 4096;
	EXPECT(iommu_cmd(d.ifd, IOMMU_IOAS_UNMAP, &um), 0, "IOAS_UNMAP of that area");
	um.iova = 1 << 24;
	um.length = 4096;
	EXPECT(iommu_cmd(d.ifd, IOMMU_IOAS_UNMAP, &um), ENOENT, "unmap part of an area: ENOENT");
	{
		struct {
			uint32_t size, flags;
		} small = { .size = 8 };

		EXPECT(iommu_cmd(d.ifd, IOMMU_IOAS_ALLOC, &small), EINVAL,
		       "IOAS_ALLOC with size 8 (< 12): EINVAL");
	}
	{
		struct {
			struct iommu_ioas_alloc a;
			uint32_t extra[3];
		} big = { .a.size = sizeof(big), .extra = { 0, 1, 0 } };

		EXPECT(iommu_cmd(d.ifd, IOMMU_IOAS_ALLOC, &big), E2BIG,
		       "IOAS_ALLOC with non-zero bytes past the struct: E2BIG");
	}

	info.dev_id = d.devid;
	EXPECT(iommu_cmd(d.ifd, IOMMU_GET_HW_INFO, &info), 0, "GET_HW_INFO");
	CHECK(info.out_capabilities & IOMMU_HW_CAP_DIRTY_TRACKING, "capability DIRTY_TRACKING");
	info.flags = 1;
	EXPECT(iommu_cmd(d.ifd, IOMMU_GET_HW_INFO, &info), EOPNOTSUPP,
	       "GET_HW_INFO flags: EOPNOTSUPP");
	info.flags = 0;
	info.dev_id = 999;
	EXPECT(iommu_cmd(d.ifd, IOMMU_GET_HW_INFO, &info), ENOENT,
	       "GET_HW_INFO bad dev_id: ENOENT");

	ha.dev_id = d.devid;
	ha.pt_id = d.ioas;
	EXPECT(iommu_cmd(d.ifd, IOMMU_HWPT_ALLOC, &ha), 0, "HWPT_ALLOC with DIRTY_TRACKING");
	at.pt_id = ha.out_hwpt_id;
	EXPECT(ioctl(d.fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at), 0, "attach the device to it");
	CHECK(at.pt_id == ha.out_hwpt_id, "attach to an HWPT keeps its id");
	gd.hwpt_id = ha.out_hwpt_id;
	gd.iova = 1 << 24;
	gd.length = 1 << 20;
	gd.page_size = 4096;
	gd.data = (uintptr_t)bitmap;
	sd.hwpt_id = ha.out_hwpt_id;
	sd.flags = IOMMU_HWPT_DIRTY_TRACKING_ENABLE;
	EXPECT(iommu_cmd(d.ifd, IOMMU_HWPT_SET_DIRTY_TRACKING, &sd), 0, "enable dirty tracking");
	/* configured: --iommu dirty=0x1001000:0x2000+0x10ff000:0x1000 */
	memset(bitmap, 0, sizeof(bitmap));
	EXPECT(iommu_cmd(d.ifd, IOMMU_HWPT_GET_DIRTY_BITMAP, &gd), 0, "GET_DIRTY_BITMAP");
	CHECK(bitmap[0] == 0x6 && bitmap[1] == 0 && bitmap[2] == 0 && bitmap[3] == (1ULL << 63),
	      "exactly the configured pages are dirty (%#llx %#llx %#llx %#llx)",
	      (unsigned long long)bitmap[0], (unsigned long long)bitmap[1],
	      (unsigned long long)bitmap[2], (unsigned long long)bitmap[3]);
	memset(bitmap, 0, sizeof(bitmap));
	EXPECT(iommu_cmd(d.ifd, IOMMU_HWPT_GET_DIRTY_BITMAP, &gd), 0, "GET_DIRTY_BITMAP again");
	CHECK(!bitmap[0] && !bitmap[3], "the first read cleared them");
	{
		char path[PATH_MAX];
		FILE *f;

		snprintf(path, sizeof(path), "%s/iommu-dirty", state_dir);
		f = fopen(path, "a");
		fprintf(f, "0x1000000 0x1000\n0x1003000 4096\n");
		fclose(f);
	}
	gd.flags = IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR;
	memset(bitmap, 0, sizeof(bitmap));
	EXPECT(iommu_cmd(d.ifd, IOMMU_HWPT_GET_DIRTY_BITMAP, &gd), 0, "GET_DIRTY_BITMAP NO_CLEAR");
	CHECK(bitmap[0] == 0x9, "pages marked through <state-dir>/iommu-dirty (%#llx)",
	      (unsigned long long)bitmap[0]);
	gd.flags = 0;
	gd.page_size = 8192;
	memset(bitmap, 0, sizeof(bitmap));
	EXPECT(iommu_cmd(d.ifd, IOMMU_HWPT_GET_DIRTY_BITMAP, &gd), 0,
	       "GET_DIRTY_BITMAP page_size 8K");
	CHECK(bitmap[0] == 0x3, "NO_CLEAR kept them; 8K pages 0 and 1 (%#llx)",
	      (unsigned long long)bitmap[0]);
	bitmap[0] = 0x5a;
	EXPECT(iommu_cmd(d.ifd, IOMMU_HWPT_GET_DIRTY_BITMAP, &gd), 0,
	       "read again into a dirty buffer");
	CHECK(bitmap[0] == 0x5a, "the kernel only sets bits, it never clears the user's");
	gd.page_size = 4096;
	gd.length = 0;
	EXPECT(iommu_cmd(d.ifd, IOMMU_HWPT_GET_DIRTY_BITMAP, &gd), EINVAL, "length 0: EINVAL");
	gd.length = 1 << 20;
	gd.iova = (1 << 24) + 2048;
	EXPECT(iommu_cmd(d.ifd, IOMMU_HWPT_GET_DIRTY_BITMAP, &gd), EINVAL,
	       "iova not aligned to the IO page size: EINVAL");
	gd.iova = (1 << 24) + 4096;
	gd.page_size = 8192;
	EXPECT(iommu_cmd(d.ifd, IOMMU_HWPT_GET_DIRTY_BITMAP, &gd), EINVAL,
	       "iova not aligned to page_size: EINVAL");
	gd.iova = 1 << 24;
	gd.page_size = 0;
	EXPECT(iommu_cmd(d.ifd, IOMMU_HWPT_GET_DIRTY_BITMAP, &gd), EINVAL, "page_size 0: EINVAL");
	gd.page_size = 4096;
	gd.flags = 2;
	EXPECT(iommu_cmd(d.ifd, IOMMU_HWPT_GET_DIRTY_BITMAP, &gd), EOPNOTSUPP,
	       "unknown flags: EOPNOTSUPP");
	gd.flags = 0;
	gd.iova = UINT64_MAX - 4095;
	gd.length = 8192;
	EXPECT(iommu_cmd(d.ifd, IOMMU_HWPT_GET_DIRTY_BITMAP, &gd), EOVERFLOW,
	       "iova + length overflows: EOVERFLOW");
	gd.iova = 1 << 24;
	gd.length = 1 << 20;
	gd.hwpt_id = d.ioas;
	EXPECT(iommu_cmd(d.ifd, IOMMU_HWPT_GET_DIRTY_BITMAP, &gd), EINVAL, "an IOAS id: EINVAL");
	gd.hwpt_id = 999;
	EXPECT(iommu_cmd(d.ifd, IOMMU_HWPT_GET_DIRTY_BITMAP, &gd), ENOENT, "no such id: ENOENT");
	gd.hwpt_id = d.hwpt; /* the automatic HWPT: no dirty tracking */
	EXPECT(iommu_cmd(d.ifd, IOMMU_HWPT_GET_DIRTY_BITMAP, &gd), ENOENT,
	       "the automatic HWPT went away with its last device: ENOENT");
	sd.flags = 2;
	EXPECT(iommu_cmd(d.ifd, IOMMU_HWPT_SET_DIRTY_TRACKING, &sd), EOPNOTSUPP,
	       "SET_DIRTY_TRACKING unknown flag: EOPNOTSUPP");
	ds.id = ha.out_hwpt_id;
	EXPECT(iommu_cmd(d.ifd, IOMMU_DESTROY, &ds), EBUSY, "destroy an attached HWPT: EBUSY");
	ds.id = d.ioas;
	EXPECT(iommu_cmd(d.ifd, IOMMU_DESTROY, &ds), EBUSY, "destroy an IOAS in use: EBUSY");
	{
		struct iommu_hwpt_alloc plain = { .size = sizeof(plain),
						  .dev_id = d.devid,
						  .pt_id = d.ioas };

		EXPECT(iommu_cmd(d.ifd, IOMMU_HWPT_ALLOC, &plain), 0, "HWPT_ALLOC without flags");
		sd.hwpt_id = plain.out_hwpt_id;
		sd.flags = IOMMU_HWPT_DIRTY_TRACKING_ENABLE;
		EXPECT(iommu_cmd(d.ifd, IOMMU_HWPT_SET_DIRTY_TRACKING, &sd), EOPNOTSUPP,
		       "dirty tracking on an HWPT allocated without it: EOPNOTSUPP");
		ds.id = plain.out_hwpt_id;
		EXPECT(iommu_cmd(d.ifd, IOMMU_DESTROY, &ds), 0, "destroy the unused HWPT");
		EXPECT(iommu_cmd(d.ifd, IOMMU_DESTROY, &ds), ENOENT, "destroy it again: ENOENT");
	}
	{
		struct iommu_iova_range r[2];
		struct iommu_ioas_iova_ranges ir = { .size = sizeof(ir),
						     .ioas_id = d.ioas,
						     .num_iovas = 0,
						     .allowed_iovas = (uintptr_t)r };

		EXPECT(iommu_cmd(d.ifd, IOMMU_IOAS_IOVA_RANGES, &ir), EMSGSIZE,
		       "IOVA_RANGES with no room: EMSGSIZE");
		CHECK(ir.num_iovas == 1, "... and says how many ranges there are");
		ir.num_iovas = 2;
		EXPECT(iommu_cmd(d.ifd, IOMMU_IOAS_IOVA_RANGES, &ir), 0, "IOVA_RANGES");
		CHECK(r[0].start <= (1 << 24) && r[0].last >= (1 << 25) &&
			      ir.out_iova_alignment == 4096,
		      "the aperture and the 4K IO page size");
	}
	{
		struct vfio_device_detach_iommufd_pt dt = { .argsz = sizeof(dt) };

		EXPECT(ioctl(d.fd, VFIO_DEVICE_DETACH_IOMMUFD_PT, &dt), 0, "DETACH_IOMMUFD_PT");
		ds.id = ha.out_hwpt_id;
		EXPECT(iommu_cmd(d.ifd, IOMMU_DESTROY, &ds), 0,
		       "the detached HWPT can be destroyed");
	}
	um.iova = 0;
	um.length = UINT64_MAX;
	EXPECT(iommu_cmd(d.ifd, IOMMU_IOAS_UNMAP, &um), 0, "unmap everything (0, U64_MAX)");
	CHECK(um.length == 1 << 20, "unmapped length is returned (%llu)",
	      (unsigned long long)um.length);
	dev_close(&d);

	/* vfio8: the IOMMU of this device cannot track dirty pages */
	CHECK(dev_open(&d, 8) == 0, "vfio8 opens");
	info.dev_id = d.devid;
	EXPECT(iommu_cmd(d.ifd, IOMMU_GET_HW_INFO, &info), 0, "vfio8 GET_HW_INFO");
	CHECK(!(info.out_capabilities & IOMMU_HW_CAP_DIRTY_TRACKING),
	      "no DIRTY_TRACKING capability");
	ha.dev_id = d.devid;
	ha.pt_id = d.ioas;
	EXPECT(iommu_cmd(d.ifd, IOMMU_HWPT_ALLOC, &ha), EOPNOTSUPP,
	       "HWPT_ALLOC with DIRTY_TRACKING: EOPNOTSUPP");
	dev_close(&d);
	munmap(mem, 1 << 20);
}

/* ---- DMA logging ---- */

static void test_dma_logging(void)
{
	struct vfio_device_feature_dma_logging_range ranges[2] = {
		{ .iova = 0x100000, .length = 0x10000 },
		{ .iova = 0x200000, .length = 0x10000 },
	};
	struct vfio_device_feature_dma_logging_control ctl = { .page_size = 4096,
							       .num_ranges = 2,
							       .ranges = (uintptr_t)ranges };
	struct vfio_device_feature_dma_logging_report rep = { .iova = 0x100000,
							      .length = 0x10000,
							      .page_size = 4096 };
	uint64_t bitmap[2] = { 0 };
	struct dev d;

	rep.bitmap = (uintptr_t)bitmap;
	CHECK(dev_open(&d, 3) == 0, "vfio3 opens for DMA logging");
	EXPECT(feature(d.fd, VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT, &rep,
		       sizeof(rep)),
	       EINVAL, "REPORT before START: EINVAL");
	EXPECT(feature(d.fd, VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_DMA_LOGGING_START, &ctl,
		       sizeof(ctl)),
	       EINVAL, "GET START: EINVAL");
	ctl.num_ranges = 0;
	EXPECT(feature(d.fd, VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_DMA_LOGGING_START, &ctl,
		       sizeof(ctl)),
	       EINVAL, "START with no ranges: EINVAL");
	ctl.num_ranges = 300;
	EXPECT(feature(d.fd, VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_DMA_LOGGING_START, &ctl,
		       sizeof(ctl)),
	       E2BIG, "START with 300 ranges (> 256): E2BIG");
	ctl.num_ranges = 2;
	ranges[1].iova = 0x108000;
	EXPECT(feature(d.fd, VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_DMA_LOGGING_START, &ctl,
		       sizeof(ctl)),
	       EINVAL, "overlapping ranges: EINVAL");
	ranges[1].iova = 0x200800;
	EXPECT(feature(d.fd, VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_DMA_LOGGING_START, &ctl,
		       sizeof(ctl)),
	       EINVAL, "range not aligned to page_size: EINVAL");
	ranges[1].iova = 0x200000;
	EXPECT(feature(d.fd, VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_DMA_LOGGING_START, &ctl,
		       sizeof(ctl)),
	       0, "START");
	EXPECT(feature(d.fd, VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_DMA_LOGGING_START, &ctl,
		       sizeof(ctl)),
	       EINVAL, "START while logging: EINVAL");
	/* configured: log-dirty=0x101000:0x1000+0x300000:0x1000 (the second is not logged) */
	EXPECT(feature(d.fd, VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT, &rep,
		       sizeof(rep)),
	       0, "REPORT");
	CHECK(bitmap[0] == 0x2, "the configured page inside a logged range (%#llx)",
	      (unsigned long long)bitmap[0]);
	rep.page_size = 1000;
	EXPECT(feature(d.fd, VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT, &rep,
		       sizeof(rep)),
	       EINVAL, "REPORT page_size 1000: EINVAL");
	rep.page_size = 4096;
	EXPECT(feature(d.fd, VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP, NULL,
		       0),
	       0, "STOP");
	dev_close(&d);

	CHECK(dev_open(&d, 0) == 0, "vfio0 (no DMA logging) opens");
	EXPECT(feature(d.fd, VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_DMA_LOGGING_START, &ctl,
		       sizeof(ctl)),
	       ENOTTY, "no DMA logging support: ENOTTY");
	dev_close(&d);
}

/* ---- legacy group / container ---- */

static void test_group_path(void)
{
	struct vfio_group_status gs = { .argsz = sizeof(gs) };
	int container, group, dev, dfd, again;
	char name[] = "0000:01:00.2";
	uint8_t *buf;

	container = open("/dev/vfio/vfio", O_RDWR);
	group = open("/dev/vfio/2", O_RDWR);
	CHECK(container >= 0 && group >= 0, "open /dev/vfio/vfio and group /dev/vfio/2");
	again = open("/dev/vfio/2", O_RDWR);
	EXPECT(again, EBUSY, "a group opens once: EBUSY");
	CHECK(ioctl(container, VFIO_GET_API_VERSION) == VFIO_API_VERSION, "VFIO_GET_API_VERSION");
	CHECK(ioctl(container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) == 1,
	      "CHECK_EXTENSION TYPE1v2");
	EXPECT(ioctl(group, VFIO_GROUP_GET_STATUS, &gs), 0, "GROUP_GET_STATUS");
	CHECK(gs.flags == VFIO_GROUP_FLAGS_VIABLE, "viable, no container yet");
	EXPECT(ioctl(group, VFIO_GROUP_GET_DEVICE_FD, name), EINVAL,
	       "GET_DEVICE_FD without a container: EINVAL");
	EXPECT(ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU), EINVAL,
	       "SET_IOMMU before a group is attached: EINVAL");
	EXPECT(ioctl(group, VFIO_GROUP_SET_CONTAINER, &container), 0, "GROUP_SET_CONTAINER");
	EXPECT(ioctl(group, VFIO_GROUP_GET_STATUS, &gs), 0, "GROUP_GET_STATUS again");
	CHECK(gs.flags == (VFIO_GROUP_FLAGS_VIABLE | VFIO_GROUP_FLAGS_CONTAINER_SET),
	      "viable and CONTAINER_SET");
	EXPECT(ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU), 0, "SET_IOMMU TYPE1v2");
	EXPECT(ioctl(group, VFIO_GROUP_GET_DEVICE_FD, "0000:01:00.7"), ENODEV,
	       "GET_DEVICE_FD of another device: ENODEV");
	dev = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, name);
	CHECK(dev >= 0, "GET_DEVICE_FD %s", name);
	EXPECT(mig_set(dev, ST_STOP_COPY, &dfd), 0, "no bind needed on the group path: STOP_COPY");
	CHECK(read_all(dfd, &buf) == 4096, "4K of state through the group path");
	free(buf);
	close(dfd);
	{
		struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind),
							 .iommufd = container };

		EXPECT(ioctl(dev, VFIO_DEVICE_BIND_IOMMUFD, &bind), EINVAL,
		       "BIND_IOMMUFD on a group device fd: EINVAL");
	}
	close(dev);
	close(group);
	close(container);

	/* an mdev: the device name is its UUID */
	container = open("/dev/vfio/vfio", O_RDWR);
	group = open("/dev/vfio/5", O_RDWR);
	CHECK(container >= 0 && group >= 0 && !ioctl(group, VFIO_GROUP_SET_CONTAINER, &container) &&
		      !ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU),
	      "mdev group 5 in a TYPE1 container");
	dev = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001");
	CHECK(dev >= 0 && mig_get(dev) == ST_RUNNING, "GET_DEVICE_FD by mdev UUID");
	EXPECT(ioctl(group, VFIO_GROUP_UNSET_CONTAINER), EBUSY,
	       "UNSET_CONTAINER with a device open: EBUSY");
	close(dev);
	EXPECT(ioctl(group, VFIO_GROUP_UNSET_CONTAINER), 0, "UNSET_CONTAINER");
	close(group);
	close(container);
}

/* ---- sysfs ---- */

static void test_sysfs(void)
{
	char buf[PATH_MAX], *rp;
	ssize_t n;
	FILE *f;
	struct stat st;
	int fd;

	n = readlink("/sys/bus/pci/devices/0000:01:00.0/iommu_group", buf, sizeof(buf) - 1);
	CHECK(n > 0, "readlink iommu_group");
	buf[n > 0 ? n : 0] = '\0';
	CHECK(!strcmp(strrchr(buf, '/') ? strrchr(buf, '/') + 1 : "", "0"), "group 0 (%s)", buf);
	rp = realpath("/sys/bus/pci/devices/0000:01:00.0/iommu_group", NULL);
	CHECK(rp && !strcmp(rp, "/sys/kernel/iommu_groups/0"), "realpath maps back to /sys (%s)",
	      rp ? rp : "NULL");
	free(rp);
	f = fopen("/sys/bus/pci/devices/0000:01:00.0/vendor", "r");
	CHECK(f && fgets(buf, sizeof(buf), f) && !strcmp(buf, "0x15b3\n"), "vendor file via fopen");
	if (f)
		fclose(f);
	fd = open("/sys/bus/pci/devices/0000:01:00.0/class", O_RDONLY);
	n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	buf[n > 0 ? n : 0] = '\0';
	CHECK(n > 0 && !strcmp(buf, "0x020000\n"), "class file via open/read");
	if (fd >= 0)
		close(fd);
	CHECK(stat("/sys/bus/pci/devices/0000:01:00.0/vfio-dev/vfio0", &st) == 0 &&
		      S_ISDIR(st.st_mode),
	      "vfio-dev/vfio0 exists");
	n = readlink("/sys/bus/pci/devices/0000:01:00.0/driver", buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	CHECK(n > 0 && strstr(buf, "/mlx5_vfio_pci"), "driver link names mlx5_vfio_pci (%s)", buf);
	n = readlink("/sys/bus/mdev/devices/83b8f4f2-509f-382f-3c1e-e6bfe0fa1001/iommu_group", buf,
		     sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	CHECK(n > 0 && strstr(buf, "iommu_groups/5"), "mdev iommu_group link (%s)", buf);
	f = fopen("/sys/bus/mdev/devices/83b8f4f2-509f-382f-3c1e-e6bfe0fa1001/mdev_type/name", "r");
	CHECK(f && fgets(buf, sizeof(buf), f) && !strcmp(buf, "mtty-1\n"), "mdev_type/name");
	if (f)
		fclose(f);
	CHECK(access("/sys/kernel/iommu_groups/0/devices/0000:01:00.0", F_OK) == 0,
	      "iommu_groups/0/devices/0000:01:00.0");
	CHECK(access("/sys/bus/pci/devices/0000:09:00.0", F_OK) == -1, "no unconfigured device");
}

/* ---- compressible=, read-rate=, write-rate= ---- */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* the whole stop-copy stream of device index (flags=stop-copy); NULL on error */
static uint8_t *save_device(unsigned int index, ssize_t *len)
{
	struct dev d;
	uint8_t *buf = NULL;
	int dfd;

	*len = -1;
	if (dev_open(&d, index) || mig_set(d.fd, ST_STOP_COPY, &dfd))
		return NULL;
	*len = read_all(dfd, &buf);
	close(dfd);
	mig_set(d.fd, ST_STOP, NULL);
	dev_close(&d);
	return *len < 0 ? NULL : buf;
}

/* a page of zeros or of one 64-byte block repeated */
static bool page_compressible(const uint8_t *p)
{
	for (size_t i = 64; i < 4096; i++) {
		if (p[i] != p[i - 64])
			return false;
	}
	return true;
}

/*
 * write buf into a RESUMING device index, then RESUMING -> STOP -> RUNNING:
 * 0 or errno. A failed load is reset (a reset would discard a good one).
 */
static int load_device(unsigned int index, const uint8_t *buf, size_t len)
{
	struct dev d;
	int dfd, err = 0;

	if (dev_open(&d, index) || mig_set(d.fd, ST_RESUMING, &dfd))
		return errno;
	if (write_all(dfd, buf, len) || mig_set(d.fd, ST_STOP, NULL) ||
	    mig_set(d.fd, ST_RUNNING, NULL))
		err = errno;
	close(dfd);
	if (err)
		ioctl(d.fd, VFIO_DEVICE_RESET);
	dev_close(&d);
	return err;
}

static void test_compressible(void)
{
	ssize_t half_len, plain_len;
	uint8_t *half = save_device(11, &half_len);
	uint8_t *plain = save_device(12, &plain_len);
	size_t pages = 0, comp = 0, same = 0, plain_comp = 0;
	char v[128];

	/* vfio11: compressible=0.5,seed=42 ; vfio12: seed=42, size=1M, no key */
	CHECK(half && plain && half_len == 1 << 20 && plain_len == 1 << 20,
	      "compressible=: the stream keeps its size (%zd, %zd)", half_len, plain_len);
	if (!half || !plain)
		return;
	/* page 0 holds the section header; the others are payload */
	for (size_t off = 4096; off < (size_t)half_len; off += 4096) {
		pages++;
		if (page_compressible(half + off))
			comp++;
		else if (!memcmp(half + off, plain + off, 4096))
			same++;
		if (page_compressible(plain + off))
			plain_comp++;
	}
	CHECK(plain_comp == 0, "default state: no zero or repeated page (%zu)", plain_comp);
	CHECK(comp * 100 > pages * 40 && comp * 100 < pages * 60,
	      "compressible=0.5: %zu of %zu pages zero or repeated", comp, pages);
	CHECK(comp + same == pages, "the other pages are the default state's bytes (%zu of %zu)",
	      same, pages - comp);
	CHECK(load_device(13, half, (size_t)half_len) == 0, "a compressible stream loads");
	CHECK(state_get("vfio13", "load_verified", v, sizeof(v)) && !strcmp(v, "ok"),
	      "compressible stream: load_verified=ok");
	/* a wrong byte in a zero or repeated page is found too */
	for (size_t off = 4096; off < (size_t)half_len; off += 4096) {
		if (page_compressible(half + off)) {
			half[off + 100] ^= 1;
			break;
		}
	}
	CHECK(load_device(13, half, (size_t)half_len) == EINVAL,
	      "a bad byte in a compressible page: RESUMING -> STOP fails");
	CHECK(state_get("vfio13", "load_verified", v, sizeof(v)) && !strcmp(v, "bad"),
	      "load_verified=bad");
	free(half);
	free(plain);
}

static volatile sig_atomic_t alarms;

static void count_alarm(int sig)
{
	(void)sig;
	alarms++;
}

static void test_rates(void)
{
	struct sigaction sa = { .sa_handler = count_alarm };
	struct itimerval it = { .it_value.tv_usec = 50000 };
	uint8_t buf[4096], *stream;
	ssize_t len, n;
	double t0, t;
	struct dev d;
	int dfd;
	char v[128];

	/* vfio14: size=4M,read-rate=8M ; vfio15: write-rate=8M (at least 0.48 s each) */
	t0 = now_s();
	stream = save_device(14, &len);
	t = now_s() - t0;
	CHECK(stream && len == 4 << 20, "read-rate: the whole stream is read (%zd)", len);
	CHECK(t >= 0.4, "read-rate=8M: 4M take at least 0.4 s (%.3f s)", t);
	if (!stream)
		return;
	t0 = now_s();
	CHECK(load_device(15, stream, (size_t)len) == 0, "write-rate: the stream loads");
	t = now_s() - t0;
	CHECK(t >= 0.4, "write-rate=8M: 4M take at least 0.4 s (%.3f s)", t);
	CHECK(state_get("vfio15", "load_verified", v, sizeof(v)) && !strcmp(v, "ok"),
	      "rate-limited load: load_verified=ok");
	free(stream);

	/*
	 * vfio16: read-rate=16K (bucket 4K): the second 4K read waits 250 ms; a
	 * handler without SA_RESTART makes it EINTR, one with SA_RESTART not.
	 */
	CHECK(dev_open(&d, 16) == 0, "vfio16 opens");
	EXPECT(mig_set(d.fd, ST_STOP_COPY, &dfd), 0, "vfio16 -> STOP_COPY");
	n = read(dfd, buf, sizeof(buf));
	CHECK(n == sizeof(buf), "the first read takes the bucket (%zd)", n);
	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
	EXPECT(read(dfd, buf, sizeof(buf)), EINTR, "a signal during a rate wait: EINTR");
	sa.sa_flags = SA_RESTART;
	sigaction(SIGALRM, &sa, NULL);
	alarms = 0;
	setitimer(ITIMER_REAL, &it, NULL);
	n = read(dfd, buf, sizeof(buf));
	CHECK(n == sizeof(buf) && alarms == 1, "with SA_RESTART the read goes on (%zd, %d alarm)",
	      n, (int)alarms);
	sa.sa_handler = SIG_DFL;
	sa.sa_flags = 0;
	sigaction(SIGALRM, &sa, NULL);
	close(dfd);
	dev_close(&d);
}

/* ---- threads: several devices' data fds at once ---- */

struct copy_job {
	struct dev src, dst;
	int src_fd, dst_fd;
	size_t chunk;
	uint64_t bytes;
	int err;
};

/* read a source data fd and write what comes into a target data fd */
static void *copy_thread(void *arg)
{
	struct copy_job *j = arg;
	uint8_t *buf = malloc(j->chunk);

	for (;;) {
		ssize_t n = read(j->src_fd, buf, j->chunk);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			j->err = n < 0 ? errno : 0;
			break;
		}
		/* an ioctl of another fd of the device, racing the other threads */
		if (mig_get(j->src.fd) != ST_STOP_COPY || write_all(j->dst_fd, buf, (size_t)n)) {
			j->err = errno ? errno : EPROTO;
			break;
		}
		j->bytes += (uint64_t)n;
	}
	free(buf);
	return NULL;
}

/*
 * sim-selftest threads N: N threads copy vfio0..N-1 into vfioN..2N-1 at once
 * (reads and writes of different devices interleave in the simulator); every
 * target must verify its source's stream, digests equal. Under vfiosim-run
 * with 2N devices of distinct seeds (tests/sim/sim-selftest.bats).
 */
static int threads_test(unsigned int n)
{
	struct copy_job *jobs = calloc(n, sizeof(*jobs));
	pthread_t *tids = calloc(n, sizeof(*tids));
	char name[16], save[64], load[64], v[64];

	state_dir = getenv("VFIOSIM_STATE_DIR");
	if (!state_dir || !n || n > 32) {
		printf("Bail out! threads: run under vfiosim-run, 1 <= N <= 32\n");
		return 1;
	}
	for (unsigned int i = 0; i < n; i++) {
		struct copy_job *j = &jobs[i];

		CHECK(dev_open(&j->src, i) == 0 && dev_open(&j->dst, n + i) == 0,
		      "vfio%u and vfio%u open", i, n + i);
		EXPECT(mig_set(j->src.fd, ST_STOP_COPY, &j->src_fd), 0, "vfio%u -> STOP_COPY", i);
		EXPECT(mig_set(j->dst.fd, ST_RESUMING, &j->dst_fd), 0, "vfio%u -> RESUMING", n + i);
		/* odd sizes: reads and writes cut the sections in different places */
		j->chunk = 4096 * (i + 1) + 4093 * i + 1;
	}
	for (unsigned int i = 0; i < n; i++)
		CHECK(pthread_create(&tids[i], NULL, copy_thread, &jobs[i]) == 0,
		      "thread %u starts", i);
	for (unsigned int i = 0; i < n; i++) {
		pthread_join(tids[i], NULL);
		CHECK(jobs[i].err == 0 && jobs[i].bytes > 0, "thread %u copied %llu bytes", i,
		      (unsigned long long)jobs[i].bytes);
	}
	for (unsigned int i = 0; i < n; i++) {
		struct copy_job *j = &jobs[i];

		close(j->src_fd);
		close(j->dst_fd);
		EXPECT(mig_set(j->src.fd, ST_STOP, NULL), 0, "vfio%u STOP_COPY -> STOP", i);
		EXPECT(mig_set(j->dst.fd, ST_STOP, NULL), 0, "vfio%u RESUMING -> STOP (verified)",
		       n + i);
		snprintf(name, sizeof(name), "vfio%u", n + i);
		CHECK(state_get(name, "load_verified", v, sizeof(v)) && !strcmp(v, "ok"),
		      "%s: load_verified=ok", name);
		snprintf(name, sizeof(name), "vfio%u", i);
		CHECK(state_get(name, "save_digest", save, sizeof(save)), "%s save_digest", name);
		snprintf(name, sizeof(name), "vfio%u", n + i);
		CHECK(state_get(name, "load_digest", load, sizeof(load)) && !strcmp(save, load) &&
			      strncmp(load, "off:", 4),
		      "%s: load_digest %s = source's", name, load);
		dev_close(&j->src);
		dev_close(&j->dst);
	}
	printf("1..%u\n", test_no);
	free(jobs);
	free(tids);
	return failures ? 1 : 0;
}

/* ---- raw speed ---- */

/*
 * sim-selftest save vfioN > file / sim-selftest load vfioN < file: a plain
 * "cat" of the device's state (1 MiB reads and writes), to measure the
 * simulator's own throughput in a save | load pipe.
 */
static int raw_copy(const char *mode, const char *name)
{
	static uint8_t buf[1 << 20];
	bool save = !strcmp(mode, "save");
	unsigned int index;
	struct dev d;
	int dfd;
	ssize_t n;

	if (sscanf(name, "vfio%u", &index) != 1 || dev_open(&d, index)) {
		perror(name);
		return 1;
	}
	if (mig_set(d.fd, save ? ST_STOP_COPY : ST_RESUMING, &dfd)) {
		perror("SET state");
		return 1;
	}
	for (;;) {
		n = read(save ? dfd : 0, buf, sizeof(buf));
		if (n < 0) {
			perror("read");
			return 1;
		}
		if (!n)
			break;
		if (write_all(save ? 1 : dfd, buf, (size_t)n)) {
			perror("write");
			return 1;
		}
	}
	close(dfd);
	if (mig_set(d.fd, save ? ST_STOP : ST_RUNNING, NULL)) {
		perror("SET final state");
		return 1;
	}
	dev_close(&d);
	return 0;
}

/* sim-selftest exec-child FD: a device fd inherited through exec (fd:N) */
static int exec_child(int fd)
{
	uint8_t *buf;
	int dfd;

	if (mig_get(fd) != ST_STOP) {
		fprintf(stderr, "exec-child: fd %d is not a STOP device (%u)\n", fd, mig_get(fd));
		return 1;
	}
	if (mig_set(fd, ST_STOP_COPY, &dfd) || read_all(dfd, &buf) != 4096) {
		perror("exec-child: STOP_COPY");
		return 1;
	}
	free(buf);
	return 0;
}

/* sim-selftest expect-state vfioN STATE: open the device, compare its state */
static int expect_state(const char *name, const char *want)
{
	unsigned int index;
	struct dev d;
	int ok;

	if (sscanf(name, "vfio%u", &index) != 1 || dev_open(&d, index))
		return 2;
	ok = !strcmp(sname(mig_get(d.fd)), want);
	if (!ok)
		fprintf(stderr, "expect-state: %s is %s, not %s\n", name, sname(mig_get(d.fd)),
			want);
	dev_close(&d);
	return ok ? 0 : 1;
}

static const char *self_path;

static void on_alarm(int sig)
{
	(void)sig;
}

static void test_timing(void)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	struct vfio_precopy_info info;
	struct itimerval it = { .it_value.tv_usec = 50000 };
	uint8_t buf[4096];
	struct dev d;
	int dfd;
	ssize_t n;

	/* vfio10: read-delay-ms=300, dirty-rate=1M */
	CHECK(dev_open(&d, 10) == 0, "vfio10 opens");
	EXPECT(mig_set(d.fd, ST_PRE_COPY, &dfd), 0, "vfio10 RUNNING -> PRE_COPY");
	sigaction(SIGALRM, &sa, NULL); /* no SA_RESTART */
	setitimer(ITIMER_REAL, &it, NULL);
	EXPECT(read(dfd, buf, sizeof(buf)), EINTR, "a signal during a slow read: EINTR");
	n = read(dfd, buf, sizeof(buf));
	/* 300 ms at 1 MB/s dirtied more than the buffer holds, not yet taken (test_dirty_rate) */
	CHECK(n == 1024, "a slow read gives the initial data only (%zd)", n);
	EXPECT(precopy_info(dfd, &info), 0, "precopy info");
	CHECK(info.initial_bytes == 0 && info.dirty_bytes > 0,
	      "dirty-rate: dirty bytes appear with time (%llu)",
	      (unsigned long long)info.dirty_bytes);
	{
		struct pollfd p = { .fd = dfd, .events = POLLIN };

		CHECK(poll(&p, 1, 10000) == 1 && (p.revents & POLLIN),
		      "poll: readable with dirty data");
	}
	n = read(dfd, buf, sizeof(buf));
	CHECK(n > 0, "dirty data read (%zd)", n);
	close(dfd);
	dev_close(&d);
}

/*
 * vfio17: dirty-rate=20M. As mlx5vf_precopy_ioctl, new device state becomes
 * readable when GET_PRECOPY_INFO takes it: a drained file stays at its
 * temporary end however long one waits, and the reads after the info return
 * what it reported, then the temporary end again. The amount is bounded by
 * the clock on both sides, so no timing is asserted.
 */
static void test_dirty_rate(void)
{
	const double rate = 20.0 * 1024 * 1024;
	const struct timespec pause = { .tv_nsec = 20 * 1000 * 1000 };
	struct vfio_precopy_info info;
	struct pollfd p = { .events = POLLIN };
	uint8_t *buf;
	double t0, t1;
	struct dev d;
	int dfd;
	ssize_t n;

	CHECK(dev_open(&d, 17) == 0, "vfio17 opens");
	t0 = now_s();
	EXPECT(mig_set(d.fd, ST_PRE_COPY, &dfd), 0, "vfio17 RUNNING -> PRE_COPY");
	buf = malloc(64 << 20);
	n = read(dfd, buf, 4096);
	CHECK(n == 1024, "dirty-rate: the first reads give the initial section (%zd)", n);
	EXPECT(read(dfd, buf, 4096), ENOMSG, "dirty-rate: then the temporary end");
	nanosleep(&pause, NULL);
	EXPECT(read(dfd, buf, 4096), ENOMSG,
	       "dirty-rate: 20 ms later still the temporary end (new state waits for the info)");
	p.fd = dfd;
	CHECK(poll(&p, 1, 0) == 0, "dirty-rate: poll is not readable by itself");
	EXPECT(precopy_info(dfd, &info), 0, "dirty-rate: precopy info");
	t1 = now_s();
	CHECK(info.initial_bytes == 0 && info.dirty_bytes >= rate * 0.020 &&
		      info.dirty_bytes <= rate * (t1 - t0) && info.dirty_bytes < (64u << 20),
	      "dirty-rate: dirty_bytes %llu is 20M/s over the time in PRE_COPY (%.0f..%.0f)",
	      (unsigned long long)info.dirty_bytes, rate * 0.020, rate * (t1 - t0));
	CHECK(poll(&p, 1, 0) == 1, "dirty-rate: readable once the info took the dirt");
	n = read(dfd, buf, 64 << 20);
	CHECK(n >= 0 && (uint64_t)n == info.dirty_bytes,
	      "dirty-rate: the reads return what the info reported (%zd of %llu)", n,
	      (unsigned long long)info.dirty_bytes);
	EXPECT(read(dfd, buf, 4096), ENOMSG, "dirty-rate: then the temporary end again");
	free(buf);
	close(dfd);
	dev_close(&d);
}

/*
 * sim-selftest iommu-random N: with --iommu dirty-per-read=N, a first
 * GET_DIRTY_BITMAP over 1M reports exactly N pages, listed in iommu-dirtied.
 */
static int iommu_random(unsigned int want)
{
	uint8_t *mem = mmap(NULL, 1 << 20, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct iommu_ioas_map map = { .size = sizeof(map),
				      .flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE,
				      .user_va = (uintptr_t)mem,
				      .length = 1 << 20,
				      .iova = 1 << 24 };
	struct iommu_hwpt_alloc ha = { .size = sizeof(ha),
				       .flags = IOMMU_HWPT_ALLOC_DIRTY_TRACKING };
	struct iommu_hwpt_set_dirty_tracking sd = { .size = sizeof(sd),
						    .flags = IOMMU_HWPT_DIRTY_TRACKING_ENABLE };
	struct iommu_hwpt_get_dirty_bitmap gd = {
		.size = sizeof(gd), .iova = 1 << 24, .length = 1 << 20, .page_size = 4096
	};
	uint64_t bitmap[4] = { 0 };
	unsigned int bits = 0, lines = 0;
	char path[PATH_MAX], line[128];
	struct dev d;
	FILE *f;

	if (dev_open(&d, 0))
		return 2;
	map.ioas_id = d.ioas;
	ha.dev_id = d.devid;
	ha.pt_id = d.ioas;
	if (ioctl(d.ifd, IOMMU_IOAS_MAP, &map) || ioctl(d.ifd, IOMMU_HWPT_ALLOC, &ha))
		return 2;
	sd.hwpt_id = gd.hwpt_id = ha.out_hwpt_id;
	gd.data = (uintptr_t)bitmap;
	if (ioctl(d.ifd, IOMMU_HWPT_SET_DIRTY_TRACKING, &sd) ||
	    ioctl(d.ifd, IOMMU_HWPT_GET_DIRTY_BITMAP, &gd))
		return 2;
	for (int i = 0; i < 4; i++)
		bits += (unsigned int)__builtin_popcountll(bitmap[i]);
	snprintf(path, sizeof(path), "%s/iommu-dirtied", getenv("VFIOSIM_STATE_DIR"));
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f)) {
		unsigned long long iova, len;

		if (sscanf(line, "%lli %lli", &iova, &len) == 2 && len == 4096 &&
		    iova >= (1 << 24) && iova < (1 << 24) + (1 << 20) &&
		    (bitmap[(iova - (1 << 24)) / 4096 / 64] >> ((iova - (1 << 24)) / 4096 % 64) &
		     1))
			lines++;
	}
	if (f)
		fclose(f);
	printf("dirty bits %u, logged pages %u, wanted %u\n", bits, lines, want);
	dev_close(&d);
	return bits == want && lines == want ? 0 : 1;
}

static void test_exec_and_persistence(void)
{
	char cmd[PATH_MAX + 64], fdarg[16];
	struct dev d;
	int fd, status;
	pid_t pid;

	CHECK(dev_open(&d, 6) == 0, "vfio6 opens (exec test)");
	EXPECT(mig_set(d.fd, ST_STOP, NULL), 0, "vfio6 RUNNING -> STOP");
	fd = fcntl(d.fd, F_DUPFD, 50);
	CHECK(fd >= 50 && !(fcntl(fd, F_GETFD) & FD_CLOEXEC),
	      "an inheritable copy of the device fd");
	snprintf(fdarg, sizeof(fdarg), "%d", fd);
	pid = fork();
	if (pid == 0) {
		execl(self_path, self_path, "exec-child", fdarg, (char *)NULL);
		_exit(127);
	}
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
		      WEXITSTATUS(status) == 0,
	      "after exec the inherited fd is still the STOP device");
	{
		char st[32] = "", open_[8] = "";

		CHECK(state_get("vfio6", "state", st, sizeof(st)) && !strcmp(st, "STOP_COPY"),
		      "the exec'd tool's change is in the state file (%s)", st);
		pid = fork();
		if (pid == 0) {
			close(fd);
			close(d.fd);
			_exit(0);
		}
		CHECK(pid > 0 && waitpid(pid, &status, 0) == pid &&
			      state_get("vfio6", "state", st, sizeof(st)) &&
			      !strcmp(st, "STOP_COPY") &&
			      state_get("vfio6", "open", open_, sizeof(open_)) &&
			      !strcmp(open_, "1"),
		      "a forked child closing its copies does not close the device (%s)", st);
	}
	close(fd);
	dev_close(&d);

	/* close-reset=no: the state survives close, and the process */
	CHECK(dev_open(&d, 9) == 0, "vfio9 (close-reset=no) opens");
	EXPECT(mig_set(d.fd, ST_STOP, NULL), 0, "vfio9 RUNNING -> STOP");
	dev_close(&d);
	CHECK(dev_open(&d, 9) == 0 && mig_get(d.fd) == ST_STOP, "reopened: still STOP (mtty)");
	dev_close(&d);
	snprintf(cmd, sizeof(cmd), "'%s' expect-state vfio9 STOP", self_path);
	CHECK(system(cmd) == 0, "another process finds vfio9 in STOP");
	snprintf(cmd, sizeof(cmd), "'%s' expect-state vfio6 RUNNING", self_path);
	CHECK(system(cmd) == 0, "vfio6 (close-reset default) is RUNNING in another process");
}

/*
 * sim-selftest fsm vfioN: the FSM conformance check alone, for any device
 * with migration, also on a real kernel (e.g. mtty in tests/kernel): the
 * flags come from GET MIGRATION, the stream for RESUMING from the device
 * itself; the walked arcs are only compared on the simulator.
 */
static int fsm_only(const char *name)
{
	struct vfio_device_feature_migration mig = { 0 };
	unsigned int index;
	struct dev d;
	int dfd;
	ssize_t len;

	if (sscanf(name, "vfio%u", &index) != 1 || dev_open(&d, index)) {
		printf("Bail out! cannot open %s: %s\n", name, strerror(errno));
		return 1;
	}
	if (feature(d.fd, VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIGRATION, &mig,
		    sizeof(mig)) ||
	    ioctl(d.fd, VFIO_DEVICE_RESET) || mig_set(d.fd, ST_STOP_COPY, &dfd) ||
	    (len = read_all(dfd, &saved_stream)) < 0) {
		printf("Bail out! %s: cannot save a state stream: %s\n", name, strerror(errno));
		return 1;
	}
	saved_len = (size_t)len;
	close(dfd);
	ioctl(d.fd, VFIO_DEVICE_RESET);
	dev_close(&d);
	test_fsm_device(index, (uint32_t)mig.flags);
	printf("1..%u\n", test_no);
	return failures ? 1 : 0;
}

int main(int argc, char **argv)
{
	static const struct {
		unsigned int index;
		uint32_t flags;
	} fsm_devices[] = {
		{ 0, VFIO_MIGRATION_STOP_COPY },
		{ 1, VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P },
		{ 2, VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_PRE_COPY },
		{ 3, VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P | VFIO_MIGRATION_PRE_COPY },
	};

	self_path = argv[0];
	if (argc == 3 && !strcmp(argv[1], "fsm")) {
		state_dir = getenv("VFIOSIM_STATE_DIR");
		return fsm_only(argv[2]);
	}
	if (argc == 3 && !strcmp(argv[1], "iommu-random"))
		return iommu_random((unsigned int)atoi(argv[2]));
	if (argc == 3 && !strcmp(argv[1], "threads"))
		return threads_test((unsigned int)atoi(argv[2]));
	if (argc == 3 && !strcmp(argv[1], "exec-child"))
		return exec_child(atoi(argv[2]));
	if (argc == 4 && !strcmp(argv[1], "expect-state"))
		return expect_state(argv[2], argv[3]);
	if (argc == 3)
		return raw_copy(argv[1], argv[2]);
	state_dir = getenv("VFIOSIM_STATE_DIR");
	if (!state_dir) {
		printf("1..0 # SKIP not running under vfiosim-run\n");
		return 0;
	}
	test_stop_copy_stream();
	if (!saved_stream) {
		printf("Bail out! no state stream from vfio0\n");
		return 1;
	}
	for (size_t i = 0; i < ARRAY_SIZE(fsm_devices); i++)
		test_fsm_device(fsm_devices[i].index, fsm_devices[i].flags);
	test_resume();
	test_precopy();
	test_resume_split_headers();
	test_features();
	test_bind_rules();
	test_faults();
	test_iommufd();
	test_dma_logging();
	test_group_path();
	test_sysfs();
	test_exec_and_persistence();
	test_timing();
	test_dirty_rate();
	test_compressible();
	test_rates();
	printf("1..%u\n", test_no);
	return failures ? 1 : 0;
}
