// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libvfiosim migration data files (the data_fd of
 * VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE): a saving file produces the
 * deterministic state stream described in tests/sim/README, a resuming file
 * checks every byte written to it. Modelled on mtty_save_read /
 * mtty_resume_write / mtty_precopy_ioctl (samples/vfio-mdev/mtty.c) and
 * mlx5vf_save_read / mlx5vf_precopy_ioctl (drivers/vfio/pci/mlx5/main.c).
 *
 * read() fills the caller's buffer directly from the generator: no copy
 * through a pipe, so the simulator is never the bottleneck of a benchmark.
 */
#include <endian.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/c.h"
#include "sim.h"

#define offsetofend(T, m) (offsetof(T, m) + sizeof(((T *)0)->m))

struct sim_migf {
	struct sim_obj obj;
	struct sim_dev *dev;
	bool saving;
	bool disabled;
	pthread_mutex_t io; /* one read or write at a time (the kernel's migf->lock) */
	uint64_t pos;	    /* stream offset of the next byte */
	XXH3_state_t *xxh;  /* under io */

	/* the section being produced or consumed: [sec_start, sec_end) */
	bool in_section;
	uint64_t sec_start, sec_end;
	uint32_t sec_type, sec_index; /* sec_index: sections begun so far */
	uint32_t sec_comp;	      /* resuming: compressible= of the section */
	uint8_t hdr[SIM_SECTION_HEADER];

	/* saving */
	bool stop_copy;		/* STOP_COPY entered: the stop-copy section comes next */
	bool final_done;	/* the stop-copy section was read to its end */
	uint64_t dirty_pending; /* dirt to be cut into the next dirty section */
	uint64_t dirty_accrued; /* dirty-rate dirt GET_PRECOPY_INFO has not taken yet */
	uint64_t dirty_last_ns;
	uint64_t dirty_frac; /* sub-byte remainder of rate * time, in ns units */
	bool reinit_done;    /* the one configured REINIT happened */
	bool reinit_report;  /* REINIT not yet reported by GET_PRECOPY_INFO */

	/* resuming */
	size_t hdr_fill;
	bool have_seed;
	uint64_t seed;
	bool complete;
	bool bad;
	bool prepare_due; /* an initial section was completed: the target prepares */
};

static uint64_t stream_seed(const struct sim_migf *m)
{
	return m->saving ? m->dev->cfg->seed : m->seed;
}

static bool in_precopy(const struct sim_dev *dev)
{
	return dev->state == VFIO_DEVICE_STATE_PRE_COPY ||
	       dev->state == VFIO_DEVICE_STATE_PRE_COPY_P2P;
}

/* ---- the stream ---- */

/*
 * Payload bytes: the stream is cut into 64-byte blocks; word i (little
 * endian u64) of block b is splitmix64(seed ^ b) ^ stream_lanes[i]. One mix
 * per 64 bytes keeps the generator and the checker far faster than any pipe,
 * and still makes every block depend on (seed, offset).
 */
static const uint64_t stream_lanes[8] = {
	0x0000000000000000ULL, 0x9e3779b97f4a7c15ULL, 0xbf58476d1ce4e5b9ULL, 0x94d049bb133111ebULL,
	0xd6e8feb86659fd93ULL, 0xa0761d6478bd642fULL, 0xe7037ed1a0b428dbULL, 0x8ebc6af09c88c6e3ULL,
};

static inline void stream_block(uint64_t seed, uint64_t block, uint64_t out[8])
{
	uint64_t k = sim_splitmix64(seed ^ block);

	for (int i = 0; i < 8; i++)
		out[i] = htole64(k ^ stream_lanes[i]);
}

/* n bytes from stream offset offset of the incompressible stream */
static void fill_blocks(uint64_t seed, uint64_t offset, uint8_t *p, size_t n)
{
	uint64_t block = offset >> 6, v[8];
	unsigned int skip = offset & 63;

	if (skip && n) {
		size_t k = 64 - skip < n ? 64 - skip : n;

		stream_block(seed, block++, v);
		memcpy(p, (uint8_t *)v + skip, k);
		p += k;
		n -= k;
	}
	while (n >= 64) {
		stream_block(seed, block++, v);
		memcpy(p, v, 64);
		p += 64;
		n -= 64;
	}
	if (n) {
		stream_block(seed, block, v);
		memcpy(p, v, n);
	}
}

/* n bytes of a page that repeats one 64-byte block, from offset in the page */
static void fill_repeat(const uint64_t v[8], uint64_t offset, uint8_t *p, size_t n)
{
	unsigned int skip = offset & 63;

	if (skip && n) {
		size_t k = 64 - skip < n ? 64 - skip : n;

		memcpy(p, (const uint8_t *)v + skip, k);
		p += k;
		n -= k;
	}
	while (n >= 64) {
		memcpy(p, v, 64);
		p += 64;
		n -= 64;
	}
	memcpy(p, v, n);
}

enum page_kind {
	PAGE_RANDOM,
	PAGE_ZERO,
	PAGE_REPEAT
};

/*
 * compressible=: comp pages in 65536 (SIM_COMPRESS_ALL: all of them),
 * chosen by a hash of (seed, page), are zero or one 64-byte block repeated,
 * half and half; the others are the incompressible blocks. comp 0 is the
 * stream of old, byte for byte.
 */
static inline enum page_kind page_kind(uint64_t seed, uint32_t comp, uint64_t page)
{
	uint64_t h;

	if (!comp)
		return PAGE_RANDOM;
	h = sim_splitmix64(seed ^ page ^ 0x434f4d5052455353ULL);
	if (comp != SIM_COMPRESS_ALL && (h >> 48) >= comp)
		return PAGE_RANDOM;
	return (h & 1) ? PAGE_REPEAT : PAGE_ZERO;
}

void sim_stream_fill(uint64_t seed, uint32_t comp, uint64_t offset, void *buf, size_t n)
{
	const size_t page_size = (size_t)1 << SIM_PAGE_SHIFT;
	uint8_t *p = buf;

	if (!comp) {
		fill_blocks(seed, offset, p, n);
		return;
	}
	while (n) {
		uint64_t page = offset >> SIM_PAGE_SHIFT, v[8];
		size_t in_page = page_size - (size_t)(offset & (page_size - 1));
		size_t k = in_page < n ? in_page : n;

		switch (page_kind(seed, comp, page)) {
		case PAGE_RANDOM:
			fill_blocks(seed, offset, p, k);
			break;
		case PAGE_ZERO:
			memset(p, 0, k);
			break;
		case PAGE_REPEAT:
			stream_block(seed, page << (SIM_PAGE_SHIFT - 6), v);
			fill_repeat(v, offset, p, k);
			break;
		}
		p += k;
		offset += k;
		n -= k;
	}
}

/* generate a chunk, then one memcmp: the fast path is the common one */
size_t sim_stream_verify(uint64_t seed, uint32_t comp, uint64_t offset, const void *buf, size_t n)
{
	uint64_t expect[2048]; /* 16 KiB */
	const uint8_t *p = buf;
	size_t done = 0;

	while (done < n) {
		size_t k = n - done < sizeof(expect) ? n - done : sizeof(expect);

		sim_stream_fill(seed, comp, offset + done, expect, k);
		if (memcmp(p + done, expect, k)) {
			for (size_t i = 0; i < k; i++) {
				if (p[done + i] != ((const uint8_t *)expect)[i])
					return done + i;
			}
		}
		done += k;
	}
	return n;
}

static uint64_t section_check(uint64_t seed, uint64_t offset, uint64_t length, uint32_t type,
			      uint32_t index)
{
	return sim_splitmix64(
		seed ^ sim_splitmix64(offset ^
				      sim_splitmix64(length ^
						     sim_splitmix64(((uint64_t)type << 32 | index) ^
								    0x5653494d53454331ULL))));
}

static void put_le64(uint8_t *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, 8);
}

static void put_le32(uint8_t *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, 4);
}

static uint64_t get_le64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return le64toh(v);
}

static uint32_t get_le32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return le32toh(v);
}

/* the u32 at 32: type in the low half, compressible= (comp) in the high half */
void sim_section_header(uint8_t hdr[SIM_SECTION_HEADER], uint64_t seed, uint32_t comp,
			uint64_t offset, uint64_t length, uint32_t type, uint32_t index)
{
	uint32_t word = type | comp << 16;

	memcpy(hdr, SIM_SECTION_MAGIC, 8);
	put_le64(hdr + 8, seed);
	put_le64(hdr + 16, offset);
	put_le64(hdr + 24, length);
	put_le32(hdr + 32, word);
	put_le32(hdr + 36, index);
	put_le64(hdr + 40, section_check(seed, offset, length, word, index));
}

/* ---- objects ---- */

static struct sim_migf *migf_new(struct sim_dev *dev, bool saving)
{
	struct sim_migf *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->xxh = XXH3_createState();
	if (!m->xxh) {
		free(m);
		return NULL;
	}
	XXH3_64bits_reset(m->xxh);
	pthread_mutex_init(&m->io, NULL);
	m->obj = SIM_OBJ_INIT(SIM_K_MIGF);
	m->obj.refs = 1; /* the device's reference, dropped by sim_migf_disable */
	m->dev = dev;
	m->saving = saving;
	m->dirty_last_ns = sim_now_ns();
	return m;
}

struct sim_migf *sim_migf_new_saving(struct sim_dev *dev)
{
	struct sim_migf *m = migf_new(dev, true);

	if (!m)
		return NULL;
	dev->saved_bytes = dev->precopy_bytes = 0;
	dev->save_complete = false;
	dev->save_digest = XXH3_64bits_digest(m->xxh);
	dev->dirty_rounds_done = 0;
	return m;
}

struct sim_migf *sim_migf_new_resuming(struct sim_dev *dev)
{
	struct sim_migf *m = migf_new(dev, false);

	if (!m)
		return NULL;
	dev->loaded_bytes = 0;
	dev->load_digest = XXH3_64bits_digest(m->xxh);
	dev->load_verified = "none";
	dev->load_error[0] = '\0';
	dev->has_load_seed = false;
	return m;
}

struct sim_obj *sim_migf_obj(struct sim_migf *m)
{
	return &m->obj;
}

void sim_migf_release(struct sim_migf *m)
{
	pthread_mutex_destroy(&m->io);
	XXH3_freeState(m->xxh);
	free(m);
}

static void start_section(struct sim_migf *m, uint32_t type, uint64_t length)
{
	if (length < SIM_SECTION_HEADER)
		length = SIM_SECTION_HEADER;
	m->in_section = true;
	m->sec_start = m->pos;
	m->sec_end = m->pos + length;
	m->sec_type = type;
	sim_section_header(m->hdr, stream_seed(m), m->dev->cfg->compressible, m->pos, length, type,
			   m->sec_index);
	m->sec_index++;
}

/* Dirty device state accumulates on the wall clock while in PRE_COPY. */
static void accrue_dirt(struct sim_migf *m)
{
	const struct sim_devcfg *c = m->dev->cfg;
	uint64_t now = sim_now_ns(), dt;
	unsigned __int128 acc;

	if (!c->dirty_rate || m->stop_copy || !in_precopy(m->dev)) {
		m->dirty_last_ns = now;
		return;
	}
	dt = now - m->dirty_last_ns;
	m->dirty_last_ns = now;
	acc = (unsigned __int128)c->dirty_rate * dt + m->dirty_frac;
	m->dirty_accrued += (uint64_t)(acc / 1000000000ULL);
	m->dirty_frac = (uint64_t)(acc % 1000000000ULL);
}

/*
 * mlx5vf_precopy_ioctl: the query of the device's new state (inc_length) is
 * what makes it readable; read() alone never finds new dirt, so a drained
 * file stays at its temporary end until the next GET_PRECOPY_INFO, and what
 * that reports is what the reads until the next temporary end return. Less
 * than a section header waits for more: a header-sized section made of a
 * few dirty bytes would be bytes the device never dirtied.
 */
static void take_dirt(struct sim_migf *m)
{
	accrue_dirt(m);
	if (m->dirty_accrued < SIM_SECTION_HEADER)
		return;
	m->dirty_pending += m->dirty_accrued;
	m->dirty_accrued = 0;
}

/* New initial data or STOP_COPY: what comes next covers the dirt so far. */
static void drop_dirt(struct sim_migf *m)
{
	m->dirty_pending = 0;
	m->dirty_accrued = 0;
}

static bool is_initial_section(uint32_t type)
{
	return type == SIM_SEC_PRECOPY_INITIAL || type == SIM_SEC_PRECOPY_REINIT;
}

/*
 * PRECOPY_INFOv2 (opted in): new initial data appears once, at a section
 * boundary, after reinit-after pre-copy bytes or on PRE_COPY -> PRE_COPY_P2P.
 */
static bool reinit_due(const struct sim_migf *m)
{
	const struct sim_devcfg *c = m->dev->cfg;

	if (!m->dev->precopy_v2_on || m->reinit_done || m->stop_copy || !in_precopy(m->dev) ||
	    !m->in_section || m->pos < m->sec_end)
		return false;
	return (c->has_reinit_after && m->dev->precopy_bytes >= c->reinit_after) ||
	       (c->reinit_on_p2p && m->dev->state == VFIO_DEVICE_STATE_PRE_COPY_P2P);
}

static bool maybe_reinit(struct sim_migf *m)
{
	const struct sim_devcfg *c = m->dev->cfg;

	if (!reinit_due(m))
		return false;
	start_section(m, SIM_SEC_PRECOPY_REINIT,
		      c->reinit_bytes ? c->reinit_bytes : c->precopy_initial);
	m->reinit_done = true;
	m->reinit_report = true;
	/* "dirty_bytes is also reset": the new initial data covers it */
	drop_dirt(m);
	m->dev->reinits++;
	return true;
}

enum advance_result {
	ADV_DATA,
	ADV_TEMP_END,
	ADV_EOF
};

/* The current section is used up (or none began): what comes next. */
static enum advance_result advance(struct sim_migf *m)
{
	const struct sim_devcfg *c = m->dev->cfg;

	if (m->stop_copy) {
		if (m->final_done)
			return ADV_EOF;
		if (m->in_section && m->sec_type == SIM_SEC_STOP_COPY) {
			m->final_done = true;
			return ADV_EOF;
		}
		start_section(m, SIM_SEC_STOP_COPY, c->size);
		return ADV_DATA;
	}
	if (!m->in_section) {
		start_section(m, SIM_SEC_PRECOPY_INITIAL, c->precopy_initial);
		return ADV_DATA;
	}
	if (maybe_reinit(m))
		return ADV_DATA;
	if (m->dirty_pending) {
		start_section(m, SIM_SEC_PRECOPY_DIRTY, m->dirty_pending);
		m->dirty_pending = 0;
		return ADV_DATA;
	}
	return ADV_TEMP_END;
}

static bool has_data(const struct sim_migf *m)
{
	if (m->in_section && m->pos < m->sec_end)
		return true;
	if (m->stop_copy)
		return !m->final_done && !(m->in_section && m->sec_type == SIM_SEC_STOP_COPY);
	if (!m->in_section || reinit_due(m))
		return true;
	return m->dirty_pending > 0;
}

static bool at_eof(const struct sim_migf *m)
{
	return m->stop_copy &&
	       (m->final_done ||
		(m->in_section && m->sec_type == SIM_SEC_STOP_COPY && m->pos == m->sec_end));
}

/*
 * mlx5vf_save_poll: readable with data, at the end, or when disabled. Never
 * by itself: new dirt is made readable by GET_PRECOPY_INFO (take_dirt).
 */
bool sim_migf_poll(struct sim_migf *m)
{
	bool ready;

	if (!m->saving)
		return false;
	if (m->disabled || m->dev->cfg->precopy_eof_zero)
		/* mtty's file has no poll op: DEFAULT_POLLMASK, always readable */
		ready = true;
	else
		ready = has_data(m) || at_eof(m);
	sim_obj_set_ready(&m->obj, ready);
	return ready;
}

void sim_migf_enter_stop_copy(struct sim_migf *m)
{
	m->stop_copy = true;
	drop_dirt(m);
	sim_migf_poll(m);
}

void sim_migf_disable(struct sim_migf *m)
{
	m->disabled = true;
	sim_migf_poll(m);
	sim_obj_put(&m->obj);
}

/* ---- pacing: read-delay-ms, read-rate, write-rate ---- */

/*
 * Would the read restart after a handler ran? The kernel restarts it
 * (ERESTARTSYS) when the signal's handler has SA_RESTART; which signal ran is
 * not known here, so the read fails with EINTR unless every caught signal
 * restarts. The tools' wake-up and stop handlers have no SA_RESTART.
 */
static bool handlers_restart(void)
{
	for (int sig = 1; sig < NSIG; sig++) {
		struct sigaction sa;

		/* faults are synchronous: they never end a sleep (crash handlers, sanitizers) */
		if (sig == SIGKILL || sig == SIGSTOP || sig == SIGSEGV || sig == SIGBUS ||
		    sig == SIGILL || sig == SIGFPE || sig == SIGTRAP || sig == SIGSYS ||
		    sigaction(sig, NULL, &sa))
			continue;
		if (!(sa.sa_flags & SA_SIGINFO) &&
		    (sa.sa_handler == SIG_DFL || sa.sa_handler == SIG_IGN))
			continue;
		if (!(sa.sa_flags & SA_RESTART))
			return false;
	}
	return true;
}

/* an interruptible sleep, like a driver's wait_event_interruptible */
static int sleep_interruptible(uint64_t ns)
{
	struct timespec ts = { .tv_sec = (time_t)(ns / 1000000000ULL),
			       .tv_nsec = (long)(ns % 1000000000ULL) };

	while (nanosleep(&ts, &ts) < 0) {
		if (errno != EINTR)
			return 0;
		if (!handlers_restart())
			return -EINTR;
	}
	return 0;
}

static int read_delay(const struct sim_devcfg *c)
{
	struct timespec ts = {
		.tv_sec = c->read_delay_ms / 1000,
		.tv_nsec = (long)(c->read_delay_ms % 1000) * 1000000L,
	};

	if (!c->read_delay_ms)
		return 0;
	/* a signal handler ran: like a driver's wait_event_interruptible */
	if (nanosleep(&ts, NULL) && errno == EINTR)
		return -EINTR;
	return 0;
}

/*
 * The bucket of read-rate/write-rate holds 20 ms of transfer (at least 4K,
 * at most 8M): small bursts, so that a 512M device at 300M takes ~1.7 s. One
 * read or write moves at most one bucket.
 */
static uint64_t rate_burst(uint64_t rate)
{
	uint64_t b = rate / 50;

	return b < 4096 ? 4096 : b > (8ULL << 20) ? 8ULL << 20 : b;
}

static uint64_t rate_ns(uint64_t bytes, uint64_t rate)
{
	return (uint64_t)((unsigned __int128)bytes * 1000000000ULL / rate);
}

/*
 * A token bucket kept as its theoretical arrival time (GCRA): the bucket is
 * empty at *tat; n bytes may go once *tat + n/rate - burst/rate <= now, and
 * move *tat by n/rate. The reservation is made under sim_lock, the wait is
 * not: other devices (and the ioctls of this one) go on meanwhile.
 * Returns 0 with *n cut to at most one bucket, or -EINTR.
 */
static int rate_wait(struct sim_migf *m, size_t *n)
{
	const struct sim_devcfg *c = m->dev->cfg;
	uint64_t rate = m->saving ? c->read_rate : c->write_rate;
	uint64_t burst, burst_ns, cost_ns;

	if (!rate || !*n)
		return 0;
	burst = rate_burst(rate);
	if (*n > burst)
		*n = (size_t)burst;
	burst_ns = rate_ns(burst, rate);
	cost_ns = rate_ns(*n, rate);
	for (;;) {
		uint64_t *tat, now, wait = 0;
		int ret;

		pthread_mutex_lock(&sim_lock);
		tat = m->saving ? &m->dev->read_tat_ns : &m->dev->write_tat_ns;
		now = sim_now_ns();
		if (*tat < now)
			*tat = now; /* an idle device saves one bucket, not more */
		if (*tat + cost_ns <= now + burst_ns)
			*tat += cost_ns;
		else
			wait = *tat + cost_ns - now - burst_ns;
		pthread_mutex_unlock(&sim_lock);
		if (!wait)
			return 0;
		ret = sleep_interruptible(wait);
		if (ret)
			return ret;
	}
}

/* what was reserved but not moved goes back to the bucket; sim_lock held */
static void rate_refund(struct sim_migf *m, size_t reserved, size_t moved)
{
	const struct sim_devcfg *c = m->dev->cfg;
	uint64_t rate = m->saving ? c->read_rate : c->write_rate;
	uint64_t *tat = m->saving ? &m->dev->read_tat_ns : &m->dev->write_tat_ns;
	uint64_t back;

	if (!rate || moved >= reserved)
		return;
	back = rate_ns(reserved - moved, rate);
	*tat = *tat > back ? *tat - back : 0;
}

/*
 * ---- payload spans ----
 *
 * The device's and the file's bookkeeping happens under sim_lock; the bytes
 * themselves (generated for a read, checked for a write) are produced after
 * it is dropped, so that several devices move data at once. A read or write
 * first takes the file's own io mutex (the kernel's migf->lock), so bytes
 * and digests of one file stay in stream order.
 */
#define SIM_SPANS 16

struct span_list {
	struct span {
		uint8_t *buf;	 /* where in the caller's buffer */
		uint64_t offset; /* stream offset */
		size_t len;
		uint64_t seed;
		uint32_t comp;
	} v[SIM_SPANS];
	unsigned int n;
	/* write: the first byte that did not verify (stream offset) */
	bool bad;
	uint64_t bad_offset;
};

static void spans_fill(struct span_list *sl)
{
	for (unsigned int i = 0; i < sl->n; i++)
		sim_stream_fill(sl->v[i].seed, sl->v[i].comp, sl->v[i].offset, sl->v[i].buf,
				sl->v[i].len);
	sl->n = 0;
}

static void spans_verify(struct span_list *sl)
{
	for (unsigned int i = 0; i < sl->n && !sl->bad; i++) {
		const struct span *s = &sl->v[i];
		size_t at = sim_stream_verify(s->seed, s->comp, s->offset, s->buf, s->len);

		if (at < s->len) {
			sl->bad = true;
			sl->bad_offset = s->offset + at;
		}
	}
	sl->n = 0;
}

/* a full list is handled at once, under the lock: correct, only slower */
static void span_add(struct span_list *sl, bool saving, uint8_t *buf, uint64_t offset, size_t len,
		     uint64_t seed, uint32_t comp)
{
	if (sl->n == SIM_SPANS) {
		if (saving)
			spans_fill(sl);
		else
			spans_verify(sl);
	}
	sl->v[sl->n++] = (struct span){ buf, offset, len, seed, comp };
}

/* ---- saving: read ---- */

static void produce(struct sim_migf *m, uint8_t *p, size_t k, struct span_list *sl)
{
	uint64_t rel = m->pos - m->sec_start;

	if (rel < SIM_SECTION_HEADER) {
		size_t h = SIM_SECTION_HEADER - rel < k ? SIM_SECTION_HEADER - rel : k;

		memcpy(p, m->hdr + rel, h);
		p += h;
		k -= h;
		m->pos += h;
	}
	if (k) {
		span_add(sl, true, p, m->pos, k, stream_seed(m), m->dev->cfg->compressible);
		m->pos += k;
	}
}

/* one read() worth of bookkeeping, lock held; returns bytes or -errno */
static ssize_t save_read_locked(struct sim_migf *m, uint8_t *buf, size_t n, struct span_list *sl)
{
	struct sim_dev *dev = m->dev;
	const struct sim_devcfg *c = dev->cfg;
	size_t total = 0;
	bool temp_end = false;

	/*
	 * The saving file is O_RDONLY (mtty_save_device_data: anon_inode_getfile),
	 * so vfs_read of the resuming one fails with EBADF before the driver.
	 * (tests/conformance: kernel EBADF, this said EINVAL.)
	 */
	if (!m->saving)
		return -EBADF;
	if (m->disabled)
		return -ENODEV;
	dev->read_calls++;
	if (c->has_read_eio) {
		if (dev->data_read_total >= c->read_eio_after)
			return -EIO;
		if (n > c->read_eio_after - dev->data_read_total)
			n = (size_t)(c->read_eio_after - dev->data_read_total);
	}
	if (c->chunk && n > c->chunk)
		n = (size_t)c->chunk;
	while (total < n) {
		size_t k;

		if (!m->in_section || m->pos == m->sec_end) {
			enum advance_result a = advance(m);

			if (a == ADV_EOF)
				break;
			if (a == ADV_TEMP_END) {
				temp_end = true;
				break;
			}
		}
		k = m->sec_end - m->pos < n - total ? (size_t)(m->sec_end - m->pos) : n - total;
		produce(m, buf + total, k, sl);
		total += k;
	}
	if (total) {
		dev->saved_bytes += total;
		dev->data_read_total += total;
		if (in_precopy(dev))
			dev->precopy_bytes += total;
		sim_migf_poll(m);
		return (ssize_t)total;
	}
	if (temp_end) {
		/* the deterministic dirty rounds begin when the reader catches up */
		if (dev->dirty_rounds_done < c->dirty_rounds && c->dirty_per_round) {
			dev->dirty_rounds_done++;
			m->dirty_pending += c->dirty_per_round;
		}
		sim_migf_poll(m);
		if (c->precopy_eof_zero)
			return 0; /* mtty_save_read: nothing more for now */
		dev->enomsg++;
		return -ENOMSG; /* uAPI: temporary end of stream in PRE_COPY */
	}
	if (n && !dev->save_complete) {
		dev->save_complete = true;
		sim_dev_write_state(dev);
	}
	sim_migf_poll(m);
	return 0;
}

/*
 * The bytes of a read, after the bookkeeping: generate them, then the digest
 * (file io mutex held, sim_lock not), then publish the digest (sim_lock).
 */
static void save_read_finish(struct sim_migf *m, uint8_t *buf, size_t total, struct span_list *sl)
{
	uint64_t digest;

	spans_fill(sl);
	if (!total || m->dev->cfg->no_digest)
		return;
	XXH3_64bits_update(m->xxh, buf, total);
	digest = XXH3_64bits_digest(m->xxh);
	pthread_mutex_lock(&sim_lock);
	if (m->dev->saving == m)
		m->dev->save_digest = digest;
	pthread_mutex_unlock(&sim_lock);
}

/* pacing before the read: nothing is held while it sleeps */
static int read_pace(struct sim_migf *m, size_t *n)
{
	int ret = read_delay(m->dev->cfg);

	if (ret)
		return ret;
	return m->saving ? rate_wait(m, n) : 0;
}

ssize_t sim_migf_read(struct sim_migf *m, void *buf, size_t n, int fd)
{
	struct span_list sl = { .n = 0 };
	size_t want = n;
	ssize_t r;
	int ret;

	(void)fd;
	ret = read_pace(m, &want);
	if (ret)
		return ret;
	pthread_mutex_lock(&m->io);
	pthread_mutex_lock(&sim_lock);
	r = save_read_locked(m, buf, want, &sl);
	rate_refund(m, want, r > 0 ? (size_t)r : 0);
	pthread_mutex_unlock(&sim_lock);
	save_read_finish(m, buf, r > 0 ? (size_t)r : 0, &sl);
	pthread_mutex_unlock(&m->io);
	return r;
}

ssize_t sim_migf_readv(struct sim_migf *m, const struct iovec *iov, int cnt, int fd)
{
	struct span_list sl = { .n = 0 };
	size_t want = 0, left;
	ssize_t total = 0;
	int ret;

	(void)fd;
	if (cnt < 0 || cnt > IOV_MAX)
		return -EINVAL;
	for (int i = 0; i < cnt; i++)
		want += iov[i].iov_len;
	ret = read_pace(m, &want);
	if (ret)
		return ret;
	left = want;
	pthread_mutex_lock(&m->io);
	pthread_mutex_lock(&sim_lock);
	for (int i = 0; i < cnt && left; i++) {
		size_t len = iov[i].iov_len < left ? iov[i].iov_len : left;
		ssize_t r;

		if (!len)
			continue;
		r = save_read_locked(m, iov[i].iov_base, len, &sl);
		if (r < 0) {
			if (!total)
				total = r;
			break;
		}
		/* spans point into this iovec: fill them before the next one */
		spans_fill(&sl);
		if (r && !m->dev->cfg->no_digest)
			XXH3_64bits_update(m->xxh, iov[i].iov_base, (size_t)r);
		total += r;
		left -= (size_t)r;
		if ((size_t)r < len)
			break;
	}
	rate_refund(m, want, total > 0 ? (size_t)total : 0);
	if (total > 0 && !m->dev->cfg->no_digest && m->dev->saving == m)
		m->dev->save_digest = XXH3_64bits_digest(m->xxh);
	pthread_mutex_unlock(&sim_lock);
	pthread_mutex_unlock(&m->io);
	return total;
}

/* ---- resuming: write ---- */

static void load_fail(struct sim_migf *m, const char *fmt, ...) VMT_PRINTF(2, 3);

static void load_fail(struct sim_migf *m, const char *fmt, ...)
{
	struct sim_dev *dev = m->dev;
	va_list ap;

	if (m->bad)
		return;
	m->bad = true;
	dev->load_verified = "bad";
	va_start(ap, fmt);
	vsnprintf(dev->load_error, sizeof(dev->load_error), fmt, ap);
	va_end(ap);
	sim_trace("%s: load error: %s", dev->cfg->name, dev->load_error);
}

static void parse_header(struct sim_migf *m)
{
	const uint8_t *h = m->hdr;
	uint64_t seed = get_le64(h + 8), off = get_le64(h + 16), len = get_le64(h + 24);
	uint32_t word = get_le32(h + 32), index = get_le32(h + 36);
	uint32_t type = word & 0xffff;

	if (memcmp(h, SIM_SECTION_MAGIC, 8)) {
		load_fail(m, "bad section magic at offset %llu",
			  (unsigned long long)(m->pos - SIM_SECTION_HEADER));
		return;
	}
	if (get_le64(h + 40) != section_check(seed, off, len, word, index)) {
		load_fail(m, "bad section header check at offset %llu",
			  (unsigned long long)(m->pos - SIM_SECTION_HEADER));
		return;
	}
	if (m->have_seed && seed != m->seed) {
		load_fail(m, "section at offset %llu has seed %llu",
			  (unsigned long long)(m->pos - SIM_SECTION_HEADER),
			  (unsigned long long)seed);
		return;
	}
	if (off != m->pos - SIM_SECTION_HEADER || len < SIM_SECTION_HEADER ||
	    index != m->sec_index || type < SIM_SEC_PRECOPY_INITIAL ||
	    type > SIM_SEC_PRECOPY_REINIT || (type == SIM_SEC_PRECOPY_INITIAL && index != 0)) {
		load_fail(m, "section %u out of sequence at offset %llu", index,
			  (unsigned long long)(m->pos - SIM_SECTION_HEADER));
		return;
	}
	if (!m->have_seed) {
		m->have_seed = true;
		m->seed = seed;
		m->dev->has_load_seed = true;
		m->dev->load_seed = seed;
	}
	m->in_section = true;
	m->sec_start = off;
	m->sec_end = off + len;
	m->sec_type = type;
	m->sec_comp = word >> 16;
	m->sec_index++;
}

/*
 * mtty_resume_write refuses a write whose end (*pos + len) lies beyond the
 * device state with ENOMEM before copying anything, rather than taking what
 * fits.  The end of a simulated stream is known from the section headers:
 * follow those already seen and those inside @buf, without side effects.
 * (tests/conformance: one write of the stream + 1 byte, kernel ENOMEM, this
 * accepted the stream and returned a short count.)
 */
static bool write_goes_past_end(const struct sim_migf *m, const uint8_t *buf, size_t n)
{
	uint8_t hdr[SIM_SECTION_HEADER];
	size_t fill = m->hdr_fill, done = 0;
	uint64_t pos = m->pos, sec_end = m->sec_end;
	uint32_t type = m->sec_type;
	bool in_section = m->in_section;

	if (m->bad)
		return false; /* accepted, refused at RESUMING -> STOP */
	memcpy(hdr, m->hdr, fill);
	while (done < n) {
		if (in_section && pos < sec_end) {
			uint64_t k = sec_end - pos < n - done ? sec_end - pos : n - done;

			pos += k;
			done += (size_t)k;
		} else {
			size_t k = SIM_SECTION_HEADER - fill < n - done ? SIM_SECTION_HEADER - fill
									: n - done;
			uint64_t len;

			memcpy(hdr + fill, buf + done, k);
			fill += k;
			pos += k;
			done += k;
			if (fill < SIM_SECTION_HEADER)
				return false;
			fill = 0;
			len = get_le64(hdr + 24);
			type = get_le32(hdr + 32) & 0xffff;
			if (len < SIM_SECTION_HEADER)
				return false; /* a bad header: parse_header judges */
			in_section = true;
			sec_end = pos - SIM_SECTION_HEADER + len;
		}
		if (in_section && pos == sec_end && type == SIM_SEC_STOP_COPY)
			return done < n;
	}
	return false;
}

/* one write() worth of bookkeeping, lock held; payload checks go to sl */
static ssize_t resume_write_locked(struct sim_migf *m, const uint8_t *buf, size_t n,
				   struct span_list *sl)
{
	struct sim_dev *dev = m->dev;
	const struct sim_devcfg *c = dev->cfg;
	size_t done = 0;

	/* O_WRONLY resuming file; vfs_write of the saving one: EBADF (see above) */
	if (m->saving)
		return -EBADF;
	if (m->disabled)
		return -ENODEV;
	dev->write_calls++;
	if (c->has_write_eio) {
		if (dev->data_written_total >= c->write_eio_after)
			return -EIO;
		if (n > c->write_eio_after - dev->data_written_total)
			n = (size_t)(c->write_eio_after - dev->data_written_total);
	}
	/* mtty_resume_write: nothing beyond the end of the state */
	if (m->complete && n)
		return -ENOMEM;
	if (write_goes_past_end(m, buf, n))
		return -ENOMEM;
	while (done < n && !m->complete) {
		if (m->bad) {
			/* accept the rest, the load check refuses it later */
			m->pos += n - done;
			done = n;
			break;
		}
		/*
		 * A header that an earlier write began is finished first: its
		 * bytes moved pos past the previous section's end.
		 */
		if (!m->in_section || m->pos == m->sec_end || m->hdr_fill) {
			size_t k = SIM_SECTION_HEADER - m->hdr_fill;

			if (k > n - done)
				k = n - done;
			memcpy(m->hdr + m->hdr_fill, buf + done, k);
			m->hdr_fill += k;
			m->pos += k;
			done += k;
			if (m->hdr_fill == SIM_SECTION_HEADER) {
				m->hdr_fill = 0;
				parse_header(m);
				if (!m->bad && m->pos == m->sec_end &&
				    m->sec_type == SIM_SEC_STOP_COPY)
					m->complete = true;
			}
			continue;
		}
		{
			size_t k = m->sec_end - m->pos < n - done ? (size_t)(m->sec_end - m->pos)
								  : n - done;

			span_add(sl, false, (uint8_t *)buf + done, m->pos, k, m->seed, m->sec_comp);
			if (sl->bad) /* a full list was checked: the first bad byte */
				load_fail(m, "bad byte at offset %llu",
					  (unsigned long long)sl->bad_offset);
			m->pos += k;
			done += k;
			if (m->pos == m->sec_end && m->sec_type == SIM_SEC_STOP_COPY && !m->bad)
				m->complete = true;
			if (m->pos == m->sec_end && is_initial_section(m->sec_type) && k)
				m->prepare_due = true;
		}
	}
	if (!done && n)
		return -ENOMEM;
	dev->loaded_bytes += done;
	dev->data_written_total += done;
	return (ssize_t)done;
}

/*
 * The bytes of a write, after the bookkeeping: check them and take the
 * digest (file io mutex held, sim_lock not), then publish both. Bytes that
 * were wrong make the load bad as if found during the bookkeeping: the
 * stream is not complete, the rest is taken and refused at RESUMING -> STOP.
 */
static void resume_write_finish(struct sim_migf *m, const uint8_t *buf, size_t done,
				struct span_list *sl)
{
	uint64_t digest = 0;
	bool digest_on = done && !m->dev->cfg->no_digest;

	spans_verify(sl);
	if (digest_on) {
		XXH3_64bits_update(m->xxh, buf, done);
		digest = XXH3_64bits_digest(m->xxh);
	}
	pthread_mutex_lock(&sim_lock);
	if (sl->bad && !m->bad) {
		load_fail(m, "bad byte at offset %llu", (unsigned long long)sl->bad_offset);
		m->complete = false;
	}
	if (digest_on && m->dev->resuming == m)
		m->dev->load_digest = digest;
	pthread_mutex_unlock(&sim_lock);
}

/*
 * resume-prepare-ms: like mlx5, the target sets itself up from the initial
 * data as it is written, so the write that completes an initial section
 * returns only when that is done (outside the lock: other fds go on).
 */
static void prepare_target(struct sim_migf *m)
{
	unsigned int ms = m->dev->cfg->resume_prepare_ms;
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };
	bool due;

	pthread_mutex_lock(&sim_lock);
	due = m->prepare_due;
	m->prepare_due = false;
	pthread_mutex_unlock(&sim_lock);
	if (!due)
		return;
	while (ms && nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

ssize_t sim_migf_write(struct sim_migf *m, const void *buf, size_t n)
{
	struct span_list sl = { .n = 0 };
	size_t want = n;
	ssize_t r;
	int ret;

	if (!m->saving) {
		ret = rate_wait(m, &want);
		if (ret)
			return ret;
	}
	pthread_mutex_lock(&m->io);
	pthread_mutex_lock(&sim_lock);
	r = resume_write_locked(m, buf, want, &sl);
	rate_refund(m, want, r > 0 ? (size_t)r : 0);
	pthread_mutex_unlock(&sim_lock);
	resume_write_finish(m, buf, r > 0 ? (size_t)r : 0, &sl);
	pthread_mutex_unlock(&m->io);
	prepare_target(m);
	return r;
}

ssize_t sim_migf_writev(struct sim_migf *m, const struct iovec *iov, int cnt)
{
	size_t want = 0, left;
	ssize_t total = 0;
	int ret;

	if (cnt < 0 || cnt > IOV_MAX)
		return -EINVAL;
	for (int i = 0; i < cnt; i++)
		want += iov[i].iov_len;
	if (!m->saving) {
		ret = rate_wait(m, &want);
		if (ret)
			return ret;
	}
	left = want;
	pthread_mutex_lock(&m->io);
	for (int i = 0; i < cnt && left; i++) {
		struct span_list sl = { .n = 0 };
		size_t len = iov[i].iov_len < left ? iov[i].iov_len : left;
		ssize_t r;

		if (!len)
			continue;
		pthread_mutex_lock(&sim_lock);
		r = resume_write_locked(m, iov[i].iov_base, len, &sl);
		pthread_mutex_unlock(&sim_lock);
		resume_write_finish(m, iov[i].iov_base, r > 0 ? (size_t)r : 0, &sl);
		if (r < 0) {
			if (!total)
				total = r;
			break;
		}
		total += r;
		left -= (size_t)r;
		if ((size_t)r < len)
			break;
	}
	pthread_mutex_lock(&sim_lock);
	rate_refund(m, want, total > 0 ? (size_t)total : 0);
	pthread_mutex_unlock(&sim_lock);
	pthread_mutex_unlock(&m->io);
	prepare_target(m);
	return total;
}

/* RESUMING -> STOP: mtty_load_state refuses wrong or short data with EINVAL */
int sim_migf_load_check(struct sim_migf *m)
{
	struct sim_dev *dev;

	if (!m)
		return -EINVAL;
	dev = m->dev;
	if (m->bad)
		return -EINVAL;
	if (!m->complete) {
		dev->load_verified = "short";
		snprintf(dev->load_error, sizeof(dev->load_error),
			 "short: %llu bytes, stop-copy section not complete",
			 (unsigned long long)m->pos);
		return -EINVAL;
	}
	if (dev->cfg->has_expect_seed && m->seed != dev->cfg->expect_seed) {
		dev->load_verified = "bad";
		snprintf(dev->load_error, sizeof(dev->load_error), "seed %llu, expected %llu",
			 (unsigned long long)m->seed, (unsigned long long)dev->cfg->expect_seed);
		return -EINVAL;
	}
	dev->load_verified = "ok";
	dev->load_error[0] = '\0';
	return 0;
}

/* ---- VFIO_MIG_GET_PRECOPY_INFO ---- */

int sim_migf_ioctl(struct sim_migf *m, unsigned long req, void *arg)
{
	struct vfio_precopy_info *info = arg;
	size_t minsz = offsetofend(struct vfio_precopy_info, dirty_bytes);
	uint64_t initial = 0, dirty = 0;

	/* the resuming file has no ioctl at all (mtty_resume_fops) */
	if (!m->saving || req != VFIO_MIG_GET_PRECOPY_INFO)
		return -ENOTTY;
	if (info->argsz < minsz && !m->dev->cfg->break_precopy_argsz)
		return -EINVAL;
	/* "valid only in PRE_COPY states", include/uapi/linux/vfio.h */
	if (!in_precopy(m->dev))
		return -EINVAL;
	if (m->disabled)
		return -ENODEV;
	take_dirt(m);
	maybe_reinit(m);
	if (!m->in_section) {
		initial = m->dev->cfg->precopy_initial < SIM_SECTION_HEADER
				  ? SIM_SECTION_HEADER
				  : m->dev->cfg->precopy_initial;
	} else if (is_initial_section(m->sec_type)) {
		initial = m->sec_end - m->pos;
	} else if (m->sec_type == SIM_SEC_PRECOPY_DIRTY) {
		dirty = m->sec_end - m->pos;
	}
	if (m->dirty_pending)
		dirty += m->dirty_pending < SIM_SECTION_HEADER ? SIM_SECTION_HEADER
							       : m->dirty_pending;
	info->flags = 0;
	if (m->dev->precopy_v2_on && m->reinit_report) {
		info->flags |= VFIO_PRECOPY_INFO_REINIT;
		m->reinit_report = false;
	}
	info->initial_bytes = initial;
	info->dirty_bytes = dirty;
	sim_migf_poll(m);
	return 0;
}
