// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target: the QEMU stream reader and the multifd reader
 * (lib/stream/qemu-stream.h, qemu-multifd.h), fed from memory.
 *
 * The first input byte picks the reader and how the bytes arrive:
 *   bit 7 set: multifd; the next 4 bytes (u32 big-endian) are channel 0's
 *     length, channel 0 follows, the rest is channel 1.
 *   bit 7 clear: the main channel; bit 0: from a memfd (a regular file:
 *     the vmdesc by pread), else through a read callback (the tail
 *     buffered); bit 6: every RAM record handed out.
 *   bits 1-5: short reads of that many bytes (0: as much as asked).
 *
 * Beyond "no crash", what the readers hand out must keep their promises,
 * checked here on their own: rows of the listing in stream order and
 * inside the input, device data pieces contiguous within their blocks and
 * adding up to the device's counts, an error naming a byte inside the
 * input; multifd buffers per device in index order, 0, 1, 2, ..., the
 * config state last.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "stream/byteorder.h"
#include "stream/qemu-multifd.h"
#include "stream/qemu-stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct src {
	const uint8_t *p;
	size_t len, pos, step;
};

static ssize_t src_read(void *ctx, void *buf, size_t len)
{
	struct src *s = ctx;
	size_t n = s->len - s->pos;

	if (n > len)
		n = len;
	if (s->step && n > s->step)
		n = s->step;
	memcpy(buf, s->p + s->pos, n);
	s->pos += n;
	return (ssize_t)n;
}

/* What one VFIO device got, as the events told it. */
struct seen {
	uint64_t precopy, complete, config;
	uint64_t block_next; /* the next byte expected in the current block */
};

static void check_row(const struct qemu_section *s, size_t size, uint64_t *row_end)
{
	if (s->offset + s->bytes > size)
		abort();
	if (s->type == QEMU_SEC_SUBSECTION)
		return;
	if (s->offset < *row_end)
		abort();
	*row_end = s->offset + s->bytes;
}

static void check_data(const struct qemu_event *ev, struct seen *seen)
{
	if (!ev->len || ev->len > (1u << 20))
		abort();
	if (ev->type == QEMU_EV_VFIO_CONFIG) {
		if (ev->block_offset != seen->config)
			abort();
		seen->config += ev->len;
		return;
	}
	if (ev->block_offset != seen->block_next || ev->block_offset + ev->len > ev->block_size)
		abort();
	seen->block_next += ev->len;
	if (ev->phase == QEMU_VFIO_PRECOPY)
		seen->precopy += ev->len;
	else
		seen->complete += ev->len;
}

static int open_memfd(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz-qemu", MFD_CLOEXEC);

	if (fd < 0)
		return -1;
	if (write(fd, data, size) != (ssize_t)size || lseek(fd, 0, SEEK_SET)) {
		close(fd);
		return -1;
	}
	return fd;
}

static void fuzz_main(const uint8_t *data, size_t size, uint8_t mode)
{
	struct src src = { .p = data, .len = size, .step = (mode >> 1) & 0x1f };
	struct qemu_stream_opts opts = { .ram_records = mode & 0x40 };
	static struct seen seen[QEMU_STREAM_MAX_SECTIONS];
	struct qemu_stream *r;
	struct qemu_event ev;
	uint64_t row_end = 0;
	size_t dev = 0;
	int fd = -1, ret;

	if (mode & 1) {
		fd = open_memfd(data, size);
		if (fd < 0 || qemu_stream_new(&r, fd, "fuzz", &opts))
			goto out;
	} else if (qemu_stream_new_cb(&r, src_read, &src, "fuzz", &opts)) {
		return;
	}
	memset(seen, 0, sizeof(seen));
	while ((ret = qemu_stream_next(r, &ev)) > 0) {
		if (!ev.sec || ev.offset > size)
			abort();
		switch (ev.type) {
		case QEMU_EV_SECTION:
			check_row(ev.sec, size, &row_end);
			break;
		case QEMU_EV_VFIO_TAG:
			/* a new block starts after DEV_DATA_STATE's size */
			for (dev = 0; dev < qemu_stream_vfio_count(r); dev++)
				if (qemu_stream_vfio_device(r, dev)->section_id ==
				    ev.sec->section_id)
					break;
			if (dev < QEMU_STREAM_MAX_SECTIONS) {
				seen[dev].block_next = 0;
				if (ev.tag == QEMU_VFIO_DEV_CONFIG_STATE)
					seen[dev].config = 0;
			}
			break;
		case QEMU_EV_VFIO_DATA:
		case QEMU_EV_VFIO_CONFIG:
			if (dev >= QEMU_STREAM_MAX_SECTIONS)
				abort();
			check_data(&ev, &seen[dev]);
			break;
		default:
			break;
		}
	}
	if (ret < 0) {
		const struct qemu_stream_error *e = qemu_stream_error(r);

		if (!e || e->err != ret || e->offset > size || !e->msg[0])
			abort();
	} else {
		/* the devices' counts are the sums of what was handed out */
		for (size_t i = 0; i < qemu_stream_vfio_count(r) && i < QEMU_STREAM_MAX_SECTIONS;
		     i++) {
			const struct qemu_vfio_counts *c = &qemu_stream_vfio_device(r, i)->counts;

			if (c->precopy_bytes != seen[i].precopy ||
			    c->complete_bytes != seen[i].complete)
				abort();
		}
	}
	qemu_stream_free(r);
out:
	if (fd >= 0)
		close(fd);
}

static void fuzz_multifd(const uint8_t *data, size_t size, uint8_t mode)
{
	struct src ch[2];
	struct qemu_multifd *m;
	struct qemu_multifd_event ev;
	uint32_t next_index[QEMU_MULTIFD_MAX_DEVICES] = { 0 };
	uint64_t bytes[QEMU_MULTIFD_MAX_DEVICES] = { 0 };
	bool ended[QEMU_MULTIFD_MAX_DEVICES] = { 0 };
	uint32_t len0;
	size_t dev;
	int ret;

	if (size < 4)
		return;
	len0 = get_be32(data);
	if (len0 > size - 4)
		len0 = (uint32_t)(size - 4);
	ch[0] = (struct src){ .p = data + 4, .len = len0, .step = (mode >> 1) & 0x1f };
	ch[1] = (struct src){ .p = data + 4 + len0,
			      .len = size - 4 - len0,
			      .step = (mode >> 2) & 0xf };
	if (qemu_multifd_new(&m, NULL))
		return;
	qemu_multifd_add_cb(m, src_read, &ch[0], "mf0", NULL, 0);
	qemu_multifd_add_cb(m, src_read, &ch[1], "mf1", NULL, 0);
	while ((ret = qemu_multifd_next(m, &ev)) > 0) {
		if (ev.type == QEMU_MF_EV_CHANNEL)
			continue;
		for (dev = 0; dev < qemu_multifd_device_count(m); dev++)
			if (qemu_multifd_device(m, dev)->idstr == ev.idstr)
				break;
		if (dev >= qemu_multifd_device_count(m) || ended[dev])
			abort();
		/* DEVICE_END gives the number of buffers: the config state's index + 1 */
		if (ev.index != next_index[dev] + (ev.type == QEMU_MF_EV_DEVICE_END))
			abort();
		if (ev.type == QEMU_MF_EV_DEVICE_DATA) {
			bytes[dev] += ev.len;
			if (ev.buffer_offset + ev.len == ev.buffer_len)
				next_index[dev]++;
		} else if (ev.type == QEMU_MF_EV_DEVICE_END) {
			ended[dev] = true;
			if (ev.data_bytes != bytes[dev])
				abort();
		}
	}
	if (ret == 0)
		for (dev = 0; dev < qemu_multifd_device_count(m); dev++)
			if (!ended[dev] || !qemu_multifd_device(m, dev)->ended)
				abort();
	if (ret < 0 && (!qemu_multifd_error(m) || !qemu_multifd_error(m)->msg[0]))
		abort();
	qemu_multifd_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & 0x80)
		fuzz_multifd(data + 1, size - 1, data[0]);
	else
		fuzz_main(data + 1, size - 1, data[0]);
	return 0;
}
