// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * lib/stream/channel-set: sets of channels written with the writer's channel mode
 * into memfds (or fed through pipes by threads), read back as one stream:
 * the merged stream must carry every device's bytes in order and be a valid
 * whole stream when copied; every broken set must fail with the channel
 * named, and never hang.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <xxhash.h>

#include "stream/channel-set.h"
#include "stream-util.h"
#include "unit.h"

#define MAXCH 8
#define MAXDEV 4

/* How a set is made: each knob spoils one rule (0: a good set). */
struct plan {
	unsigned int nch, ndev;
	uint64_t dev_bytes;
	uint32_t chunk;
	/* the channel chunk k of device d goes to; NULL: round robin over both */
	unsigned int (*deal)(const struct plan *p, unsigned int d, uint64_t k, uint64_t nchunks);
	int twice_chunk;      /* > 0: chunk twice-1 of device 0 also on the next channel */
	int skip_chunk;	      /* > 0: chunk skip-1 of device 0 on no channel */
	bool bad_digest;      /* DEVICE_END's digest off by one */
	bool device_differs;  /* channel 1's DEVICE of device 0 has another driver */
	uint8_t id_of[MAXCH]; /* set_id's first byte per channel (0: the set's) */
};

struct set_files {
	int fd[MAXCH];
	char name[MAXCH][16];
	unsigned int n;
};

static uint8_t state_byte(unsigned int d, uint64_t i)
{
	return (uint8_t)(d * 131 + i * 7 + (i >> 9));
}

static unsigned int round_robin(const struct plan *p, unsigned int d, uint64_t k, uint64_t nchunks)
{
	(void)nchunks;
	return (unsigned int)((k + d) % p->nch);
}

static void device_of(unsigned int d, struct migstream_device *dev, const char *driver)
{
	memset(dev, 0, sizeof(*dev));
	dev->index = d;
	dev->mig_flags = 1;
	dev->stop_copy_size = MIGSTREAM_SIZE_UNKNOWN;
	snprintf(dev->name, sizeof(dev->name), "dev%u", d);
	snprintf(dev->driver, sizeof(dev->driver), "%s", driver);
}

/* Writes the plan's channels, one memfd each, in channel order. */
static void write_set(const struct plan *p, struct set_files *f)
{
	struct migstream_writer *w[MAXCH];
	struct migstream_channel ch[MAXCH];
	uint64_t nchunks = (p->dev_bytes + p->chunk - 1) / p->chunk;
	uint8_t *buf = malloc(p->chunk);

	f->n = p->nch;
	for (unsigned int c = 0; c < p->nch; c++) {
		struct migstream_writer_opts o = { .producer = "test", .channel = &ch[c] };

		memset(&ch[c], 0, sizeof(ch[c]));
		memcpy(ch[c].set_id, "0123456789abcdef", MIGSTREAM_SET_ID_LEN);
		if (p->id_of[c])
			ch[c].set_id[0] = p->id_of[c];
		ch[c].channel = c;
		ch[c].channel_count = p->nch;
		f->fd[c] = memfd_new();
		snprintf(f->name[c], sizeof(f->name[c]), "ch%u.vms", c);
		if (migstream_writer_new(&w[c], f->fd[c], &o))
			abort();
	}
	for (unsigned int d = 0; d < p->ndev; d++)
		for (unsigned int c = 0; c < p->nch; c++) {
			struct migstream_device dev;

			device_of(d, &dev,
				  p->device_differs && c == 1 && d == 0 ? "other" : "vfio-pci");
			if (migstream_write_device(w[c], &dev))
				abort();
		}
	for (unsigned int d = 0; d < p->ndev; d++) {
		XXH3_state_t *st = XXH3_createState();
		struct migstream_device_end end = { .device = d,
						    .total_bytes = p->dev_bytes,
						    .chunk_count = nchunks };

		XXH3_64bits_reset(st);
		for (uint64_t k = 0; k < nchunks; k++) {
			uint64_t off = k * p->chunk;
			uint32_t len = (uint32_t)(p->dev_bytes - off < p->chunk ? p->dev_bytes - off
										: p->chunk);
			unsigned int c = (p->deal ? p->deal : round_robin)(p, d, k, nchunks);
			struct migstream_chunk chunk = { .device = d,
							 .phase = MIGSTREAM_PHASE_STOP_COPY,
							 .chunk_index = k,
							 .offset = off,
							 .len = len,
							 .data = buf };

			for (uint32_t i = 0; i < len; i++)
				buf[i] = state_byte(d, off + i);
			XXH3_64bits_update(st, buf, len);
			if (d == 0 && p->skip_chunk && k == (uint64_t)p->skip_chunk - 1)
				continue;
			if (migstream_write_chunk(w[c], &chunk))
				abort();
			if (d == 0 && p->twice_chunk && k == (uint64_t)p->twice_chunk - 1 &&
			    migstream_write_chunk(w[(c + 1) % p->nch], &chunk))
				abort();
		}
		end.state_digest = XXH3_64bits_digest(st) + (p->bad_digest ? 1 : 0);
		XXH3_freeState(st);
		for (unsigned int c = 0; c < p->nch; c++)
			if (migstream_write_device_end_totals(w[c], &end))
				abort();
	}
	for (unsigned int c = 0; c < p->nch; c++) {
		if (migstream_writer_finish(w[c]))
			abort();
		migstream_writer_free(w[c]);
		lseek(f->fd[c], 0, SEEK_SET);
	}
	free(buf);
}

static void close_set(struct set_files *f)
{
	for (unsigned int c = 0; c < f->n; c++)
		if (f->fd[c] >= 0)
			close(f->fd[c]);
}

struct merged {
	int ret;
	char msg[768];
	uint64_t records, devices, data_records;
	uint64_t dev_bytes[MAXDEV];
	bool bytes_ok;
	bool copy_ok; /* the merged records, copied into a plain writer, read back as a valid stream */
	bool copy_failed;
	uint64_t peak;
};

/* Reads the set given in the order of perm (NULL: as written) and checks what comes out. */
static struct merged read_set(const struct set_files *f, const unsigned int *perm, unsigned int n,
			      const struct migstream_channel_set_opts *opts)
{
	struct migstream_channel_input in[MAXCH];
	struct migstream_channel_set *set;
	struct migstream_writer *w;
	struct migstream_writer_opts wo = { .producer = "test" };
	struct migstream_record rec;
	struct merged m = { .bytes_ok = true };
	int out = memfd_new();

	for (unsigned int i = 0; i < n; i++) {
		unsigned int c = perm ? perm[i] : i;

		lseek(f->fd[c], 0, SEEK_SET);
		in[i] = (struct migstream_channel_input){ .fd = f->fd[c], .name = f->name[c] };
	}
	if (migstream_channel_set_open(&set, in, n, opts) || migstream_writer_new(&w, out, &wo))
		abort();
	while ((m.ret = migstream_channel_set_next(set, &rec, NULL)) == 1) {
		m.records++;
		if (rec.type == MIGSTREAM_REC_DEVICE)
			m.devices++;
		if (rec.type == MIGSTREAM_REC_DATA) {
			const struct migstream_data *dt = &rec.data;

			m.data_records++;
			if (dt->device >= MAXDEV || dt->offset != m.dev_bytes[dt->device])
				m.bytes_ok = false;
			for (uint32_t i = 0; dt->device < MAXDEV && i < dt->len; i++)
				if (dt->data[i] != state_byte(dt->device, dt->offset + i))
					m.bytes_ok = false;
			if (dt->device < MAXDEV)
				m.dev_bytes[dt->device] += dt->len;
		}
		if (migstream_copy_record(w, &rec))
			m.copy_failed = true;
	}
	snprintf(m.msg, sizeof(m.msg), "%s", m.ret ? migstream_channel_set_error(set) : "");
	m.peak = migstream_channel_set_reorder_peak(set);
	if (m.ret == 0) {
		struct mem copy = fd_slurp(out);
		struct read_result r = read_mem(&copy);

		m.copy_ok = !m.copy_failed && r.ret == 0 && r.records == m.records;
		if (r.ret)
			printf("# copy: %s\n", r.msg);
		mem_free(&copy);
	}
	migstream_writer_free(w);
	migstream_channel_set_free(set);
	close(out);
	return m;
}

static struct plan good_plan(unsigned int nch, unsigned int ndev)
{
	return (struct plan){ .nch = nch, .ndev = ndev, .dev_bytes = 100000, .chunk = 4096 };
}

static void check_good(const struct merged *m, const struct plan *p)
{
	CHECK_EQ(m->ret, 0);
	if (m->ret)
		printf("# %s\n", m->msg);
	CHECK_EQ(m->devices, p->ndev);
	CHECK(m->bytes_ok);
	CHECK(m->copy_ok);
	for (unsigned int d = 0; d < p->ndev; d++)
		CHECK_EQ(m->dev_bytes[d], p->dev_bytes);
}

static void test_one_channel(void)
{
	struct plan p = good_plan(1, 2);
	struct set_files f;
	struct merged m;

	write_set(&p, &f);
	m = read_set(&f, NULL, 1, NULL);
	check_good(&m, &p);
	close_set(&f);
}

static void test_two_channels(void)
{
	struct plan p = good_plan(2, 2);
	static const unsigned int swapped[] = { 1, 0 };
	struct set_files f;
	struct merged m;

	write_set(&p, &f);
	m = read_set(&f, NULL, 2, NULL);
	check_good(&m, &p);
	m = read_set(&f, swapped, 2, NULL);
	check_good(&m, &p);
	close_set(&f);
}

static void test_eight_channels_any_order(void)
{
	struct plan p = good_plan(8, 3);
	static const unsigned int perm[] = { 5, 2, 7, 0, 1, 6, 3, 4 };
	struct set_files f;
	struct merged m;

	p.dev_bytes = 300000;
	write_set(&p, &f);
	m = read_set(&f, perm, 8, NULL);
	check_good(&m, &p);
	close_set(&f);
}

/* A whole stream is a set of one: read as today. */
static void test_whole_stream(void)
{
	struct migstream_writer_opts o = { .producer = "test" };
	struct migstream_channel_input in = { .name = "whole.vms" };
	struct migstream_channel_set *set;
	struct migstream_writer *w;
	struct migstream_device dev;
	struct migstream_record rec;
	uint8_t data[10000];
	uint64_t n = 0, bytes = 0;
	int ret;

	in.fd = memfd_new();
	if (migstream_writer_new(&w, in.fd, &o))
		abort();
	device_of(0, &dev, "vfio-pci");
	memset(data, 7, sizeof(data));
	if (migstream_write_device(w, &dev) ||
	    migstream_write_data(w, 0, MIGSTREAM_PHASE_STOP_COPY, data, sizeof(data)) ||
	    migstream_writer_finish(w))
		abort();
	migstream_writer_free(w);
	lseek(in.fd, 0, SEEK_SET);
	CHECK_EQ(migstream_channel_set_open(&set, &in, 1, NULL), 0);
	while ((ret = migstream_channel_set_next(set, &rec, NULL)) == 1) {
		n++;
		if (rec.type == MIGSTREAM_REC_DATA)
			bytes += rec.data.len;
	}
	CHECK_EQ(ret, 0);
	CHECK_EQ(n, 5); /* STREAM_HEADER DEVICE DATA DEVICE_END STREAM_END */
	CHECK_EQ(bytes, sizeof(data));
	CHECK_EQ(migstream_channel_set_count(set, NULL), 1);
	migstream_channel_set_free(set);
	close(in.fd);
}

static void expect_bad(const struct merged *m, int err, const char *needle)
{
	CHECK_EQ(m->ret, err);
	CHECK_STR_CONTAINS(m->msg, needle);
}

static void test_missing_channel(void)
{
	struct plan p = good_plan(3, 1);
	static const unsigned int two[] = { 0, 2 };
	struct set_files f;
	struct merged m;

	write_set(&p, &f);
	m = read_set(&f, two, 2, NULL);
	expect_bad(&m, -EBADMSG, "channel 1 of 3 is missing");
	CHECK_EQ(m.data_records, 0); /* the set is checked before any DATA */
	close_set(&f);
}

static void test_repeated_channel(void)
{
	struct plan p = good_plan(2, 1);
	struct set_files f;
	struct merged m;
	struct mem copy;

	write_set(&p, &f);
	/* channel 1 replaced by a second copy of channel 0 */
	copy = fd_slurp(f.fd[0]);
	close(f.fd[1]);
	f.fd[1] = memfd_new();
	if (write(f.fd[1], copy.p, copy.len) != (ssize_t)copy.len)
		abort();
	mem_free(&copy);
	m = read_set(&f, NULL, 2, NULL);
	expect_bad(&m, -EBADMSG, "channel 0 (ch1.vms): given twice");
	CHECK_EQ(m.data_records, 0);
	close_set(&f);
}

static void test_foreign_channel(void)
{
	struct plan p = good_plan(2, 1);
	struct set_files f;
	struct merged m;

	p.id_of[1] = 'X';
	write_set(&p, &f);
	m = read_set(&f, NULL, 2, NULL);
	expect_bad(&m, -EBADMSG, "channel 1 (ch1.vms): from another set");
	CHECK_EQ(m.data_records, 0);
	close_set(&f);
}

static void test_whole_among_channels(void)
{
	struct plan p = good_plan(2, 1);
	struct migstream_writer_opts o = { .producer = "test" };
	struct migstream_writer *w;
	struct set_files f;
	struct merged m;

	write_set(&p, &f);
	close(f.fd[1]);
	f.fd[1] = memfd_new();
	if (migstream_writer_new(&w, f.fd[1], &o) || migstream_writer_finish(w))
		abort();
	migstream_writer_free(w);
	m = read_set(&f, NULL, 2, NULL);
	expect_bad(&m, -EBADMSG, "ch1.vms: a whole stream");
	close_set(&f);
}

static void test_truncated_channel(void)
{
	struct plan p = good_plan(2, 1);
	struct set_files f;
	struct merged m;
	off_t len;

	write_set(&p, &f);
	len = lseek(f.fd[1], 0, SEEK_END);
	if (ftruncate(f.fd[1], len - 40))
		abort();
	m = read_set(&f, NULL, 2, NULL);
	expect_bad(&m, -EBADMSG, "channel 1 (ch1.vms): record");
	CHECK_STR_CONTAINS(m.msg, "truncated");
	close_set(&f);
}

static void test_device_disagrees(void)
{
	struct plan p = good_plan(2, 1);
	struct set_files f;
	struct merged m;

	p.device_differs = true;
	write_set(&p, &f);
	m = read_set(&f, NULL, 2, NULL);
	expect_bad(&m, -EBADMSG, "DEVICE record of device 0 differs from the one on channel ");
	CHECK_EQ(m.data_records, 0); /* no DATA of a device before every channel agreed on it */
	close_set(&f);
}

static void test_chunk_twice(void)
{
	struct plan p = good_plan(2, 1);
	struct set_files f;
	struct merged m;

	p.twice_chunk = 6; /* chunk 5 */
	write_set(&p, &f);
	m = read_set(&f, NULL, 2, NULL);
	expect_bad(&m, -EBADMSG, "device 0: chunk 5 twice");
	close_set(&f);
}

static void test_gap(void)
{
	struct plan p = good_plan(2, 1);
	struct set_files f;
	struct merged m;

	p.skip_chunk = 4; /* chunk 3 */
	write_set(&p, &f);
	m = read_set(&f, NULL, 2, NULL);
	expect_bad(&m, -EBADMSG, "chunk 3 of 25 is on no channel");
	close_set(&f);
}

static void test_digest_mismatch(void)
{
	struct plan p = good_plan(2, 2);
	struct set_files f;
	struct merged m;

	p.bad_digest = true;
	write_set(&p, &f);
	m = read_set(&f, NULL, 2, NULL);
	expect_bad(&m, -EBADMSG, "state digest mismatch");
	CHECK_STR_CONTAINS(m.msg, "(DEVICE_END)");
	close_set(&f);
}

/*
 * Hostile: device 0's chunk 0 is last on channel 1, behind all of device
 * 1's later chunks, and device 1's chunk 0 is last on channel 0, behind
 * device 0's: each channel's head waits for reorder room that only the
 * other's last chunk could free.
 */
static unsigned int crossed(const struct plan *p, unsigned int d, uint64_t k, uint64_t nchunks)
{
	(void)p;
	(void)nchunks;
	/* writes go device by device: the first chunk of each device to the other channel, written after */
	return k == 0 ? 1 - d : d;
}

static void write_crossed(struct set_files *f, const struct plan *p)
{
	struct migstream_writer *w[2];
	struct migstream_channel ch[2];
	uint64_t nchunks = (p->dev_bytes + p->chunk - 1) / p->chunk;
	uint8_t *buf = malloc(p->chunk);
	XXH3_state_t *st = XXH3_createState();
	struct migstream_device_end end[2];

	f->n = 2;
	for (unsigned int c = 0; c < 2; c++) {
		struct migstream_writer_opts o = { .producer = "test", .channel = &ch[c] };
		struct migstream_device dev;

		ch[c] = (struct migstream_channel){ .channel = c, .channel_count = 2 };
		memcpy(ch[c].set_id, "0123456789abcdef", MIGSTREAM_SET_ID_LEN);
		f->fd[c] = memfd_new();
		snprintf(f->name[c], sizeof(f->name[c]), "ch%u.vms", c);
		if (migstream_writer_new(&w[c], f->fd[c], &o))
			abort();
		for (unsigned int d = 0; d < 2; d++) {
			device_of(d, &dev, "vfio-pci");
			if (migstream_write_device(w[c], &dev))
				abort();
		}
	}
	/* device d's chunks 1.. on channel d, then the other device's chunk 0 */
	for (unsigned int pass = 0; pass < 2; pass++)
		for (unsigned int d = 0; d < 2; d++) {
			XXH3_64bits_reset(st);
			for (uint64_t k = 0; k < nchunks; k++) {
				uint64_t off = k * p->chunk;
				struct migstream_chunk chunk = { .device = d,
								 .phase = MIGSTREAM_PHASE_STOP_COPY,
								 .chunk_index = k,
								 .offset = off,
								 .len = p->chunk,
								 .data = buf };

				for (uint32_t i = 0; i < p->chunk; i++)
					buf[i] = state_byte(d, off + i);
				XXH3_64bits_update(st, buf, p->chunk);
				if ((pass == 0 && k > 0) || (pass == 1 && k == 0))
					if (migstream_write_chunk(w[crossed(p, d, k, nchunks)],
								  &chunk))
						abort();
			}
			end[d] = (struct migstream_device_end){ .device = d,
								.total_bytes = nchunks * p->chunk,
								.chunk_count = nchunks,
								.state_digest =
									XXH3_64bits_digest(st) };
		}
	for (unsigned int c = 0; c < 2; c++) {
		for (unsigned int d = 0; d < 2; d++)
			if (migstream_write_device_end_totals(w[c], &end[d]))
				abort();
		if (migstream_writer_finish(w[c]))
			abort();
		migstream_writer_free(w[c]);
	}
	XXH3_freeState(st);
	free(buf);
}

static void test_reorder_cap(void)
{
	struct plan p = { .nch = 2, .ndev = 2, .dev_bytes = 40 * 4096, .chunk = 4096 };
	struct migstream_channel_set_opts small = { .reorder_limit = 8 * 4096 };
	struct migstream_channel_set_opts big = { .reorder_limit = 1 << 20 };
	struct set_files f;
	struct merged m;

	write_crossed(&f, &p);
	m = read_set(&f, NULL, 2, &small);
	CHECK_EQ(m.ret, -ENOBUFS);
	CHECK_STR_CONTAINS(m.msg, "raise the reorder buffer");
	CHECK_STR_CONTAINS(m.msg, "(ch");
	CHECK(m.peak <= 2 * small.reorder_limit);
	/* the same set with room enough: the cap, not the set, was the problem */
	m = read_set(&f, NULL, 2, &big);
	check_good(&m, &p);
	CHECK(m.peak > small.reorder_limit);
	CHECK(m.peak <= 2 * big.reorder_limit);
	close_set(&f);
}

/* ---- through pipes, written by threads while the set reads ---- */

struct feeder {
	int fd;
	struct mem data;
	size_t step;
};

static void *feed(void *arg)
{
	struct feeder *fe = arg;
	size_t off = 0;

	while (off < fe->data.len) {
		size_t n = fe->data.len - off < fe->step ? fe->data.len - off : fe->step;
		ssize_t w = write(fe->fd, fe->data.p + off, n);

		if (w <= 0)
			break;
		off += (size_t)w;
	}
	close(fe->fd);
	return NULL;
}

static void test_pipes_eight(void)
{
	struct plan p = good_plan(8, 2);
	struct set_files f, pf;
	struct feeder fe[8];
	pthread_t t[8];
	struct merged m;

	p.dev_bytes = 1 << 20;
	p.chunk = 16384;
	write_set(&p, &f);
	pf.n = 8;
	for (unsigned int c = 0; c < 8; c++) {
		int pfd[2];

		if (pipe(pfd))
			abort();
		fe[c] = (struct feeder){ .fd = pfd[1],
					 .data = fd_slurp(f.fd[c]),
					 .step = 1000 + 777 * c };
		pf.fd[c] = pfd[0];
		memcpy(pf.name[c], f.name[c], sizeof(pf.name[c]));
		pthread_create(&t[c], NULL, feed, &fe[c]);
	}
	m = read_set(&pf, NULL, 8, &(struct migstream_channel_set_opts){ .queue_limit = 65536 });
	check_good(&m, &p);
	for (unsigned int c = 0; c < 8; c++) {
		pthread_join(t[c], NULL);
		mem_free(&fe[c].data);
	}
	close_set(&pf);
	close_set(&f);
}

/*
 * A sender that keeps its channels open after STREAM_END, waiting for the
 * loader's answer (the return path): with end_at_stream_end the set ends
 * at the STREAM_ENDs; without it, it would wait for end of file, which
 * comes only when the test closes the write ends afterwards: it hangs (as
 * the loader did before, with save's --return-fd over channels).
 */
static void test_end_at_stream_end(void)
{
	struct plan p = good_plan(2, 1);
	struct set_files f, pf;
	int wr[2];
	struct merged m;

	write_set(&p, &f);
	pf.n = 2;
	for (unsigned int c = 0; c < 2; c++) {
		struct mem data = fd_slurp(f.fd[c]);
		int pfd[2];

		if (pipe(pfd) || (size_t)write(pfd[1], data.p, data.len) != data.len)
			abort(); /* half of 100 kB a channel: fits a pipe */
		wr[c] = pfd[1];
		pf.fd[c] = pfd[0];
		memcpy(pf.name[c], f.name[c], sizeof(pf.name[c]));
		mem_free(&data);
	}
	m = read_set(&pf, NULL, 2,
		     &(struct migstream_channel_set_opts){ .end_at_stream_end = true });
	check_good(&m, &p);
	for (unsigned int c = 0; c < 2; c++)
		close(wr[c]);
	close_set(&pf);
	close_set(&f);
}

struct canceller {
	struct migstream_channel_set *set;
	int delay_ms;
};

static void *cancel_later(void *arg)
{
	struct canceller *cl = arg;

	usleep((useconds_t)cl->delay_ms * 1000);
	migstream_channel_set_cancel(cl->set);
	return NULL;
}

/* A channel that never sends a byte: cancel() wakes its blocked read. */
static void test_cancel(void)
{
	struct migstream_channel_input in[2];
	struct migstream_channel_set *set;
	struct migstream_record rec;
	struct canceller cl;
	int p0[2], p1[2];
	pthread_t t;

	if (pipe(p0) || pipe(p1))
		abort();
	in[0] = (struct migstream_channel_input){ .fd = p0[0], .name = "silent0" };
	in[1] = (struct migstream_channel_input){ .fd = p1[0], .name = "silent1" };
	CHECK_EQ(migstream_channel_set_open(&set, in, 2, NULL), 0);
	cl = (struct canceller){ .set = set, .delay_ms = 50 };
	pthread_create(&t, NULL, cancel_later, &cl);
	CHECK_EQ(migstream_channel_set_next(set, &rec, NULL), -ECANCELED);
	pthread_join(t, NULL);
	CHECK_EQ(migstream_channel_set_next(set, &rec, NULL), -ECANCELED); /* sticky */
	migstream_channel_set_free(set);
	for (int i = 0; i < 2; i++) {
		close(p0[i]);
		close(p1[i]);
	}
}

static volatile sig_atomic_t stop_flag;

static bool stop_asked(void *ctx)
{
	(void)ctx;
	return stop_flag;
}

static void *raise_flag(void *arg)
{
	(void)arg;
	usleep(50000);
	stop_flag = 1;
	return NULL;
}

/* A stop flag that a signal handler would set: the consumer's wait asks it. */
static void test_cancelled_callback(void)
{
	struct migstream_channel_set_opts o = { .cancelled = stop_asked };
	struct migstream_channel_input in;
	struct migstream_channel_set *set;
	struct migstream_record rec;
	int p[2];
	pthread_t t;

	if (pipe(p))
		abort();
	stop_flag = 0;
	in = (struct migstream_channel_input){ .fd = p[0], .name = "silent" };
	CHECK_EQ(migstream_channel_set_open(&set, &in, 1, &o), 0);
	pthread_create(&t, NULL, raise_flag, NULL);
	CHECK_EQ(migstream_channel_set_next(set, &rec, NULL), -ECANCELED);
	pthread_join(t, NULL);
	migstream_channel_set_free(set);
	close(p[0]);
	close(p[1]);
}

/* Records kept past the next call stay valid until released; the queue cap counts them. */
static void test_release(void)
{
	struct plan p = good_plan(2, 1);
	struct migstream_channel_input in[2];
	struct migstream_channel_set *set;
	struct migstream_record recs[64];
	struct set_files f;
	unsigned int n = 0;
	int ret;

	write_set(&p, &f);
	for (unsigned int c = 0; c < 2; c++)
		in[c] = (struct migstream_channel_input){ .fd = f.fd[c], .name = f.name[c] };
	CHECK_EQ(migstream_channel_set_open(&set, in, 2, NULL), 0);
	while (n < 64 && (ret = migstream_channel_set_next(set, &recs[n], NULL)) == 1)
		n++;
	CHECK_EQ(ret, 0);
	for (unsigned int i = 0; i < n; i++)
		if (recs[i].type == MIGSTREAM_REC_DATA)
			CHECK_EQ(recs[i].data.data[0], state_byte(0, recs[i].data.offset));
	for (unsigned int i = 0; i < n; i++)
		migstream_channel_set_release(set, &recs[i]);
	CHECK_EQ(migstream_channel_set_count(set, NULL), 2);
	migstream_channel_set_free(set);
	close_set(&f);
}

/*
 * The read-ahead is bounded over all channels, not per channel: eight
 * channels of 4 MiB records read with a 1 MiB read-ahead hold at most
 * that plus one record of the largest size (a set that read every
 * channel's next records whatever they were held 64 MiB here); and with
 * no room to spare at all (a 1-byte read-ahead and reorder buffer) the
 * set still goes on, a record at a time in chunk order, without -ENOBUFS.
 */
static void test_read_ahead_bound(void)
{
	struct plan p = { .nch = 8, .ndev = 1, .dev_bytes = 16ull * (4 << 20), .chunk = 4 << 20 };
	struct migstream_channel_set_opts small = { .queue_limit = 1 << 20 };
	struct migstream_channel_set_opts none = { .queue_limit = 1, .reorder_limit = 1 };
	struct migstream_channel_input in[MAXCH];
	struct migstream_channel_set *set;
	struct set_files f;
	struct merged m;

	write_set(&p, &f);
	m = read_set(&f, NULL, 8, &small);
	check_good(&m, &p);
	m = read_set(&f, NULL, 8, &none);
	check_good(&m, &p);
	CHECK_EQ(m.peak, 0); /* no chunk was read early */
	/* the peak itself, read once more with the set kept open */
	for (unsigned int c = 0; c < 8; c++) {
		lseek(f.fd[c], 0, SEEK_SET);
		in[c] = (struct migstream_channel_input){ .fd = f.fd[c], .name = f.name[c] };
	}
	CHECK_EQ(migstream_channel_set_open(&set, in, 8, &small), 0);
	for (struct migstream_record rec; migstream_channel_set_next(set, &rec, NULL) == 1;)
		;
	CHECK(migstream_channel_set_read_ahead_peak(set) > (4u << 20));
	CHECK(migstream_channel_set_read_ahead_peak(set) <=
	      small.queue_limit + MIGSTREAM_CHANNEL_RECORD_MAX);
	migstream_channel_set_free(set);
	close_set(&f);
}

/* ---- one channel read alone: the reader's channel rules ---- */

/* Hand-made records: enough of a stream to break one rule at a time. */
struct handmade {
	struct mem m;
	uint32_t seq;
	uint64_t records_bytes;
};

static void hm_record(struct handmade *h, uint16_t type, const void *payload, uint32_t len)
{
	build_simple(&h->m, type, type == MIGSTREAM_REC_PRECOPY_INFO ? MIGSTREAM_RF_ANCILLARY : 0,
		     h->seq++, payload, len);
	h->records_bytes += len;
}

static void hm_start(struct handmade *h)
{
	struct migstream_stream_header sh = { .time_ns = 1 };
	uint8_t buf[512];
	int n;

	memset(h, 0, sizeof(*h));
	snprintf(sh.producer, sizeof(sh.producer), "test");
	build_preamble(&h->m);
	n = migstream_encode_stream_header(&sh, buf, sizeof(buf));
	hm_record(h, MIGSTREAM_REC_STREAM_HEADER, buf, (uint32_t)n);
}

static void hm_channel(struct handmade *h, uint32_t channel, uint32_t count, uint32_t flags)
{
	struct migstream_channel ch = { .channel = channel, .channel_count = count };
	uint8_t buf[MIGSTREAM_CHANNEL_LEN];

	migstream_encode_channel(&ch, buf);
	put_be32(buf + 24, flags);
	hm_record(h, MIGSTREAM_REC_CHANNEL, buf, sizeof(buf));
}

static void hm_device(struct handmade *h, uint32_t d)
{
	struct migstream_device dev;
	uint8_t buf[1024];
	int n;

	device_of(d, &dev, "vfio-pci");
	n = migstream_encode_device(&dev, buf, sizeof(buf));
	hm_record(h, MIGSTREAM_REC_DEVICE, buf, (uint32_t)n);
}

static void hm_data(struct handmade *h, uint32_t d, uint64_t chunk, uint64_t offset, uint32_t len)
{
	struct migstream_data dt = { .device = d,
				     .phase = MIGSTREAM_PHASE_STOP_COPY,
				     .chunk_index = chunk,
				     .offset = offset };
	uint8_t buf[MIGSTREAM_DATA_PREFIX_LEN + 256];

	migstream_encode_data_prefix(&dt, buf);
	memset(buf + MIGSTREAM_DATA_PREFIX_LEN, 0x5a, len);
	hm_record(h, MIGSTREAM_REC_DATA, buf, MIGSTREAM_DATA_PREFIX_LEN + len);
}

static void hm_device_end(struct handmade *h, uint32_t d, uint64_t bytes, uint64_t chunks)
{
	struct migstream_device_end e = {
		.device = d, .total_bytes = bytes, .chunk_count = chunks, .state_digest = 12345
	};
	uint8_t buf[MIGSTREAM_DEVICE_END_LEN];

	migstream_encode_device_end(&e, buf);
	hm_record(h, MIGSTREAM_REC_DEVICE_END, buf, sizeof(buf));
}

static void hm_end(struct handmade *h, uint32_t ndev)
{
	struct migstream_stream_end e = { .record_count = h->seq,
					  .payload_bytes = h->records_bytes,
					  .device_count = ndev };
	uint8_t buf[MIGSTREAM_STREAM_END_LEN];

	migstream_encode_stream_end(&e, buf);
	build_simple(&h->m, MIGSTREAM_REC_STREAM_END, 0, h->seq++, buf, sizeof(buf));
}

/* Channel 1 of 2 holding chunks 1 and 3 of a 4-chunk device: good alone. */
static void hm_channel_one(struct handmade *h, uint64_t second_chunk, uint64_t second_offset,
			   uint64_t count)
{
	hm_start(h);
	hm_channel(h, 1, 2, 0);
	hm_device(h, 0);
	hm_data(h, 0, 1, 100, 100);
	hm_data(h, 0, second_chunk, second_offset, 100);
	hm_device_end(h, 0, 400, count);
	hm_end(h, 1);
}

static void test_reader_channel_good(void)
{
	struct handmade h;
	struct memsrc src;
	struct migstream_reader *r;
	struct migstream_record rec;
	const struct migstream_channel *ch;
	int ret, n = 0;

	hm_channel_one(&h, 3, 300, 4);
	src = (struct memsrc){ .p = h.m.p, .len = h.m.len };
	if (migstream_reader_new_cb(&r, memsrc_read, &src, "one.vms", NULL))
		abort();
	CHECK(migstream_reader_channel(r) == NULL);
	while ((ret = migstream_read_record(r, &rec)) == 1)
		n++;
	CHECK_EQ(ret, 0);
	if (ret)
		printf("# %s\n", migstream_reader_error(r));
	CHECK_EQ(n, 7);
	ch = migstream_reader_channel(r);
	CHECK(ch && ch->channel == 1 && ch->channel_count == 2);
	migstream_reader_free(r);
	mem_free(&h.m);
}

static void expect_reader_bad(struct handmade *h, const char *needle)
{
	struct read_result res = read_mem(&h->m);

	CHECK_EQ(res.ret, -EBADMSG);
	CHECK_STR_CONTAINS(res.msg, needle);
	mem_free(&h->m);
}

static void test_reader_channel_rules(void)
{
	struct handmade h;

	hm_channel_one(&h, 1, 300, 4);
	expect_reader_bad(&h, "chunk 1 after chunk 1 in this channel");
	hm_channel_one(&h, 3, 150, 4);
	expect_reader_bad(&h, "offset 150 overlaps the chunk before");
	hm_channel_one(&h, 3, 300, 3);
	expect_reader_bad(&h, "DEVICE_END says 3 chunks, this channel carried chunk 3");
	hm_channel_one(&h, 3, 350, 4);
	expect_reader_bad(&h, "DEVICE_END says 400 bytes, this channel carried bytes up to 450");

	hm_start(&h);
	hm_device(&h, 0);
	hm_channel(&h, 0, 2, 0);
	expect_reader_bad(&h, "record 2 (CHANNEL) at byte");
	hm_start(&h);
	hm_device(&h, 0);
	hm_channel(&h, 0, 2, 0);
	expect_reader_bad(&h, "CHANNEL is not the second record");
	hm_start(&h);
	hm_channel(&h, 0, 2, 0);
	hm_channel(&h, 1, 2, 0);
	expect_reader_bad(&h, "second CHANNEL record");
	hm_start(&h);
	hm_channel(&h, 0, 0, 0);
	expect_reader_bad(&h, "channel count 0 (must be 1..64)");
	hm_start(&h);
	hm_channel(&h, 0, 65, 0);
	expect_reader_bad(&h, "channel count 65");
	hm_start(&h);
	hm_channel(&h, 2, 2, 0);
	expect_reader_bad(&h, "channel 2 of 2 (must be below the count)");
	hm_start(&h);
	hm_channel(&h, 0, 2, 1);
	expect_reader_bad(&h, "unknown CHANNEL flags 0x00000001");
}

/* A whole stream with chunks that skip, as a channel's: still refused (no CHANNEL record). */
static void test_reader_whole_no_gaps(void)
{
	struct handmade h;

	hm_start(&h);
	hm_device(&h, 0);
	hm_data(&h, 0, 1, 100, 100);
	expect_reader_bad(&h, "chunk 1 out of order, expected chunk 0");
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	RUN(test_one_channel);
	RUN(test_two_channels);
	RUN(test_eight_channels_any_order);
	RUN(test_whole_stream);
	RUN(test_missing_channel);
	RUN(test_repeated_channel);
	RUN(test_foreign_channel);
	RUN(test_whole_among_channels);
	RUN(test_truncated_channel);
	RUN(test_device_disagrees);
	RUN(test_chunk_twice);
	RUN(test_gap);
	RUN(test_digest_mismatch);
	RUN(test_end_at_stream_end);
	RUN(test_reorder_cap);
	RUN(test_pipes_eight);
	RUN(test_cancel);
	RUN(test_cancelled_callback);
	RUN(test_release);
	RUN(test_read_ahead_bound);
	RUN(test_reader_channel_good);
	RUN(test_reader_channel_rules);
	RUN(test_reader_whole_no_gaps);
	return unit_done();
}
