// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The round trip a migration makes: DEV saved through PRE_COPY and
 * STOP_COPY into a migstream (the project's own writer, to a memfd), the
 * stream read back by the project's reader (every record checksum and the
 * DEVICE_END state digest verified), its bytes compared with what DEV gave
 * and written into PEER, which must accept them (RESUMING -> STOP).
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "groups.h"
#include "probe.h"
#include "results.h"
#include "stream-reader.h"
#include "stream-writer.h"

static unsigned char loaded[STREAM_CAP];

struct saved {
	size_t precopy, total; /* bytes of stream_buf: pre-copy part, all */
};

/* DEV's state: what pre-copy gives up to its end, then the rest in STOP_COPY. */
static int save_through_precopy(struct dev *a, struct saved *sv)
{
	bool precopy = conf.mig_flags & VFIO_MIGRATION_PRE_COPY;
	int fd = NO_FD, kept = NO_FD, end, ret;
	ssize_t pre = 0, post;

	ret = mig_set_state(a->fd, precopy ? ST_PRE_COPY : ST_STOP_COPY, &fd);
	if (!ret && precopy) {
		pre = read_to_pause(fd, stream_buf, STREAM_CAP, &end);
		ret = pre < 0 ? (int)pre : mig_set_state(a->fd, ST_STOP_COPY, &kept);
	}
	close_fd(&kept);
	post = ret ? ret : read_to_end(fd, stream_buf + pre, STREAM_CAP - (size_t)pre);
	close_fd(&fd);
	if (post < 0)
		return (int)post;
	*sv = (struct saved){ .precopy = (size_t)pre, .total = (size_t)(pre + post) };
	return 0;
}

static int write_stream(int out, const struct saved *sv)
{
	struct migstream_writer_opts wopts = { .producer = "vfio-mig-check" };
	struct migstream_device rec = {
		.mig_flags = conf.mig_flags,
		.stop_copy_size = MIGSTREAM_SIZE_UNKNOWN,
	};
	struct migstream_writer *w = NULL;
	int ret;

	snprintf(rec.name, sizeof(rec.name), "%s", conf.cdev[0]);
	ret = migstream_writer_new(&w, out, &wopts);
	if (!ret)
		ret = migstream_write_device(w, &rec);
	if (!ret && sv->precopy)
		ret = migstream_write_data(w, 0, MIGSTREAM_PHASE_PRECOPY_INITIAL, stream_buf,
					   sv->precopy);
	if (!ret)
		ret = migstream_write_data(w, 0, MIGSTREAM_PHASE_STOP_COPY,
					   stream_buf + sv->precopy, sv->total - sv->precopy);
	if (!ret)
		ret = migstream_write_device_end(w, 0);
	if (!ret)
		ret = migstream_writer_finish(w);
	migstream_writer_free(w);
	return ret;
}

/* The DATA bytes of the stream, in order, into loaded[]; the reader checks every digest. */
static int read_stream(int in, size_t *len, char *why, size_t whylen)
{
	struct migstream_reader *r = NULL;
	struct migstream_record rec;
	struct migstream_data data;
	int ret = migstream_reader_new(&r, in, "memfd", NULL);

	*len = 0;
	while (!ret && (ret = migstream_read_record(r, &rec)) == 1) {
		ret = 0;
		if (rec.type != MIGSTREAM_REC_DATA)
			continue;
		ret = migstream_decode_data(&rec, &data);
		if (!ret && data.len > sizeof(loaded) - *len)
			ret = -E2BIG;
		if (!ret) {
			memcpy(loaded + *len, data.data, data.len);
			*len += data.len;
		}
	}
	if (ret < 0 && r)
		snprintf(why, whylen, "%s", migstream_reader_error(r));
	migstream_reader_free(r);
	return ret;
}

static void load_into_peer(struct dev *b, size_t len)
{
	int rfd = NO_FD;

	if (!check_err(mig_set_state(b->fd, ST_RESUMING, &rfd), 0, "PEER: RUNNING -> RESUMING",
		       "vfio_mig_get_next_state"))
		return;
	check_err(write_all(rfd, loaded, len), 0, "PEER: write() of the stream's bytes",
		  "mtty_resume_write");
	check_err(mig_set_state(b->fd, ST_STOP, NULL), 0,
		  "PEER: RESUMING -> STOP accepts DEV's state", "mtty_load_state");
	close_fd(&rfd);
	check_err(mig_set_state(b->fd, ST_RUNNING, NULL), 0, "PEER: STOP -> RUNNING",
		  "vfio_mig_get_next_state");
}

void group_roundtrip(void)
{
	struct dev a = { .fd = -1, .iommufd = -1 }, b = { .fd = -1, .iommufd = -1 };
	struct saved sv = { 0 };
	char why[256] = "";
	size_t len = 0;
	int memfd = -1, ret;

	if (!dev_open_checked(&a, conf.cdev[0]) || !dev_open_checked(&b, conf.cdev[1]))
		goto out;
	ret = save_through_precopy(&a, &sv);
	if (!check_err(ret, 0, "DEV: saved through pre-copy and stop-copy",
		       "vfio_mig_get_next_state"))
		goto out;
	diag("DEV saved %zu bytes (%zu in pre-copy)", sv.total, sv.precopy);
	memfd = memfd_create("vfio-mig-check", MFD_CLOEXEC);
	ret = memfd < 0 ? -errno : write_stream(memfd, &sv);
	if (!check_err(ret, 0, "the state written as a migstream", "migstream(5)"))
		goto out;
	if (lseek(memfd, 0, SEEK_SET) < 0)
		ret = -errno;
	else
		ret = read_stream(memfd, &len, why, sizeof(why));
	check(ret == 0, "the migstream read back, every record and the state digest verified%s%s",
	      ret ? ": " : "", ret ? (why[0] ? why : errname(ret)) : "");
	check(len == sv.total && !memcmp(loaded, stream_buf, len),
	      "the bytes out of the stream are DEV's, byte for byte (%zu of %zu)", len, sv.total);
	if (!ret)
		load_into_peer(&b, len);
out:
	if (memfd >= 0)
		close(memfd);
	if (a.fd >= 0)
		dev_to_running(&a);
	if (b.fd >= 0)
		dev_to_running(&b);
	dev_close(&a);
	dev_close(&b);
}
