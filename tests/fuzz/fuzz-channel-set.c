// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target: lib/stream/channel-set on up to four channels cut from one
 * input. Byte 0: bits 0-1 the number of channels less one, bit 2 a small
 * reorder buffer (64 KiB, so the -ENOBUFS path is reached), bit 3 a small
 * read-ahead queue; then a big-endian u16 length for each channel but the
 * last, which takes the rest. Each channel is a memfd read by the set's
 * threads.
 *
 * Beyond "no crash and no hang", what the set hands out must be a whole
 * stream, checked here independently: STREAM_HEADER first, no CHANNEL,
 * each DEVICE once, per device DATA in chunk order with contiguous
 * offsets, a DEVICE_END whose totals match what went out, STREAM_END last
 * with every device ended; an error comes with a message.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "stream/byteorder.h"
#include "stream/channel-set.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct merged_device {
	uint32_t index;
	bool ended;
	uint64_t chunks, bytes;
};

static struct merged_device *find(struct merged_device *dev, unsigned int ndev, uint32_t index)
{
	for (unsigned int i = 0; i < ndev; i++)
		if (dev[i].index == index)
			return &dev[i];
	return NULL;
}

/* The merged stream's rules, record by record; false ends the input. */
static void oracle(const struct migstream_record *rec, uint64_t n, struct merged_device *dev,
		   unsigned int *ndev, bool *ended)
{
	struct merged_device *d;

	if (*ended || (n == 0) != (rec->type == MIGSTREAM_REC_STREAM_HEADER) ||
	    rec->type == MIGSTREAM_REC_CHANNEL)
		abort();
	switch (rec->type) {
	case MIGSTREAM_REC_DEVICE:
		if (find(dev, *ndev, rec->device.index) || *ndev >= MIGSTREAM_MAX_DEVICES)
			abort();
		dev[(*ndev)++] = (struct merged_device){ .index = rec->device.index };
		break;
	case MIGSTREAM_REC_DATA:
		d = find(dev, *ndev, rec->data.device);
		if (!d || d->ended || rec->data.chunk_index != d->chunks ||
		    rec->data.offset != d->bytes)
			abort();
		d->chunks++;
		d->bytes += rec->data.len;
		break;
	case MIGSTREAM_REC_DEVICE_END:
		d = find(dev, *ndev, rec->device_end.device);
		if (!d || d->ended || rec->device_end.chunk_count != d->chunks ||
		    rec->device_end.total_bytes != d->bytes)
			abort();
		d->ended = true;
		break;
	case MIGSTREAM_REC_STREAM_END:
		for (unsigned int i = 0; i < *ndev; i++)
			if (!dev[i].ended)
				abort();
		*ended = true;
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct migstream_channel_set_opts opts = { 0 };
	struct migstream_channel_input in[4];
	static struct merged_device dev[MIGSTREAM_MAX_DEVICES];
	struct migstream_channel_set *set;
	struct migstream_record rec;
	unsigned int n, ndev = 0;
	const uint8_t *p;
	bool ended = false;
	uint64_t records = 0;
	int ret;

	if (size < 1)
		return 0;
	n = (data[0] & 3) + 1;
	if (data[0] & 4)
		opts.reorder_limit = 64 << 10;
	if (data[0] & 8)
		opts.queue_limit = 16 << 10;
	if (size < 1 + 2 * (size_t)(n - 1))
		return 0;
	p = data + 1 + 2 * (n - 1);
	size -= 1 + 2 * (size_t)(n - 1);
	for (unsigned int i = 0; i < n; i++) {
		size_t len = i + 1 < n ? get_be16(data + 1 + 2 * i) : size;

		if (len > size)
			len = size;
		in[i].fd = memfd_create("channel", MFD_CLOEXEC);
		in[i].name = "fuzz";
		if (in[i].fd < 0 || (len && write(in[i].fd, p, len) != (ssize_t)len) ||
		    lseek(in[i].fd, 0, SEEK_SET))
			abort();
		p += len;
		size -= len;
	}
	if (migstream_channel_set_open(&set, in, n, &opts))
		abort();
	while ((ret = migstream_channel_set_next(set, &rec, NULL)) == 1)
		oracle(&rec, records++, dev, &ndev, &ended);
	if (ret == 0 && !ended)
		abort();
	if (ret < 0 && !migstream_channel_set_error(set)[0])
		abort();
	migstream_channel_set_free(set);
	for (unsigned int i = 0; i < n; i++)
		close(in[i].fd);
	return 0;
}
