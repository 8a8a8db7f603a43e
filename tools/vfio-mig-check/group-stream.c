// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The round trip a migration makes: DEV saved through PRE_COPY and
 * STOP_COPY into a migstream (the project's own writer, to a temporary
 * file), the stream read back by the project's reader (every record
 * checksum and the DEVICE_END state digest verified), its bytes compared
 * with what DEV gave (size and XXH3-64, computed as DEV was read: a state
 * of many GiB is never held in memory) and written into PEER, which must
 * accept them (RESUMING -> STOP).
 */
#include <errno.h>
#include <inttypes.h>
#include <unistd.h>
#include <xxhash.h>

#include "stream/reader.h"
#include "stream/writer.h"
#include "groups.h"
#include "probe.h"
#include "results.h"

/* Bytes as they come: their count and digest (DEV's, or the stream's). */
struct tally {
	uint64_t len;
	XXH3_state_t *digest;
};

static int tally_init(struct tally *t)
{
	*t = (struct tally){ .digest = XXH3_createState() };
	if (!t->digest)
		return -ENOMEM;
	XXH3_64bits_reset(t->digest);
	return 0;
}

static void tally_add(struct tally *t, const void *buf, size_t len)
{
	XXH3_64bits_update(t->digest, buf, len);
	t->len += len;
}

/* DEV's bytes into the migstream as they are read, in the phase they came in. */
struct stream_sink {
	struct sink sink;
	struct migstream_writer *w;
	enum migstream_phase phase;
	struct tally dev;
	uint64_t precopy; /* bytes of the pre-copy phase */
};

static int stream_take(struct sink *sink, const unsigned char *buf, size_t len)
{
	struct stream_sink *s = (struct stream_sink *)sink;

	tally_add(&s->dev, buf, len);
	if (s->phase == MIGSTREAM_PHASE_PRECOPY_INITIAL)
		s->precopy += len;
	return migstream_write_data(s->w, 0, s->phase, buf, len);
}

/* DEV's state: what pre-copy gives up to its end, then the rest in STOP_COPY. */
static int save_through_precopy(struct dev *a, struct stream_sink *s)
{
	bool precopy = conf.mig_flags & VFIO_MIGRATION_PRE_COPY;
	int fd = NO_FD, kept = NO_FD, end, ret;
	int64_t n = 0;

	ret = mig_set_state(a->fd, precopy ? ST_PRE_COPY : ST_STOP_COPY, &fd);
	if (!ret && precopy) {
		s->phase = MIGSTREAM_PHASE_PRECOPY_INITIAL;
		n = read_to_pause(fd, &s->sink, &end);
		ret = n < 0 ? (int)n : mig_set_state(a->fd, ST_STOP_COPY, &kept);
	}
	close_fd(&kept);
	s->phase = MIGSTREAM_PHASE_STOP_COPY;
	if (!ret)
		n = read_to_end(fd, &s->sink);
	close_fd(&fd);
	return ret ? ret : n < 0 ? (int)n : 0;
}

/* DEVICE, DEV's DATA as it is read, DEVICE_END, STREAM_END into out. */
static int write_stream(struct dev *a, int out, struct stream_sink *s)
{
	struct migstream_writer_opts wopts = { .producer = "vfio-mig-check" };
	struct migstream_device rec = {
		.mig_flags = conf.mig_flags,
		.stop_copy_size = MIGSTREAM_SIZE_UNKNOWN,
	};
	int ret;

	snprintf(rec.name, sizeof(rec.name), "%s", conf.cdev[0]);
	ret = migstream_writer_new(&s->w, out, &wopts);
	if (!ret)
		ret = migstream_write_device(s->w, &rec);
	if (!ret)
		ret = save_through_precopy(a, s);
	if (!ret)
		ret = migstream_write_device_end(s->w, 0);
	if (!ret)
		ret = migstream_writer_finish(s->w);
	migstream_writer_free(s->w);
	s->w = NULL;
	return ret;
}

/*
 * The DATA bytes of the stream, in order, tallied and (to >= 0) written to
 * it; the reader checks every digest.
 */
static int read_stream(int in, struct tally *got, int to, char *why, size_t whylen)
{
	struct migstream_reader *r = NULL;
	struct migstream_record rec;
	struct migstream_data data;
	int ret = lseek(in, 0, SEEK_SET) < 0 ? -errno : 0;

	if (!ret)
		ret = migstream_reader_new(&r, in, "the temporary file", NULL);
	while (!ret && (ret = migstream_read_record(r, &rec)) == 1) {
		ret = 0;
		if (rec.type != MIGSTREAM_REC_DATA)
			continue;
		ret = migstream_decode_data(&rec, &data);
		if (!ret)
			tally_add(got, data.data, data.len);
		if (!ret && to >= 0)
			ret = write_all(to, data.data, data.len);
	}
	if (ret < 0 && r)
		snprintf(why, whylen, "%s", migstream_reader_error(r));
	migstream_reader_free(r);
	return ret;
}

static void load_into_peer(struct dev *b, int in)
{
	struct tally again;
	char why[256] = "";
	int rfd = NO_FD;

	if (!check_err(mig_set_state(b->fd, ST_RESUMING, &rfd), 0, "PEER: RUNNING -> RESUMING",
		       "vfio_mig_get_next_state"))
		return;
	if (!check_err(tally_init(&again), 0, "a digest state", "XXH3_createState")) {
		close_fd(&rfd);
		return;
	}
	check_err(read_stream(in, &again, rfd, why, sizeof(why)), 0,
		  "PEER: write() of the stream's bytes", "mtty_resume_write");
	XXH3_freeState(again.digest);
	check_err(mig_set_state(b->fd, ST_STOP, NULL), 0,
		  "PEER: RESUMING -> STOP accepts DEV's state", "mtty_load_state");
	close_fd(&rfd);
	check_err(mig_set_state(b->fd, ST_RUNNING, NULL), 0, "PEER: STOP -> RUNNING",
		  "vfio_mig_get_next_state");
}

/* What came out of the stream against what DEV gave: size and digest. */
static void compare(const struct tally *dev, const struct tally *got)
{
	uint64_t want = XXH3_64bits_digest(dev->digest), have = XXH3_64bits_digest(got->digest);

	check(got->len == dev->len && have == want,
	      "the bytes out of the stream are DEV's: %" PRIu64 " of %" PRIu64
	      " bytes, XXH3-64 %016" PRIx64 " %s",
	      got->len, dev->len, have, have == want ? "as DEV's" : "where DEV's is different");
}

void group_roundtrip(void)
{
	struct dev a = DEV_CLOSED, b = DEV_CLOSED;
	struct stream_sink s = { .sink = { .take = stream_take } };
	struct spool file = { .fd = NO_FD };
	struct tally got = { 0 };
	char why[256] = "";
	int ret;

	if (!dev_open_checked(&a, conf.cdev[0]) || !dev_open_checked(&b, conf.cdev[1]))
		goto out;
	if (!check_err(tally_init(&s.dev), 0, "a digest state", "XXH3_createState") ||
	    !check_err(tally_init(&got), 0, "a digest state", "XXH3_createState") ||
	    !check_err(spool_open(&file), 0, "a temporary file for the migstream",
		       "open(2): O_TMPFILE in $TMPDIR"))
		goto out;
	ret = write_stream(&a, file.fd, &s);
	if (!check_err(ret, 0, "DEV: saved through pre-copy and stop-copy into a migstream",
		       "vfio_mig_get_next_state"))
		goto out;
	diag("DEV saved %" PRIu64 " bytes (%" PRIu64 " in pre-copy)", s.dev.len, s.precopy);
	ret = read_stream(file.fd, &got, NO_FD, why, sizeof(why));
	check(ret == 0, "the migstream read back, every record and the state digest verified%s%s",
	      ret ? ": " : "", ret ? (why[0] ? why : errname(ret)) : "");
	compare(&s.dev, &got);
	if (!ret)
		load_into_peer(&b, file.fd);
out:
	spool_close(&file);
	XXH3_freeState(s.dev.digest);
	XXH3_freeState(got.digest);
	dev_release(&a);
	dev_release(&b);
}
