/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Reading QEMU's multifd channels (QEMU 10.0's device state transfer, VFIO
 * devices with x-migration-multifd-transfer=on): each channel captured as
 * its own file, read together, each device's buffers handed out in index
 * order.
 *
 * A channel, as QEMU's migration/multifd*.c and hw/vfio/migration-multifd.c
 * write it (integers big-endian):
 *
 *   init packet, 64 bytes: u32 magic 0x11223344, u32 version 1, uuid[16],
 *     u8 channel id, 7 + 32 reserved bytes
 *   packets, each starting with u32 magic, u32 version, u32 flags:
 *     RAM (flag DEVICE_STATE clear): u32 pages_alloc, u32 normal_pages,
 *       u32 next_packet_size, u64 packet_num, u32 zero_pages, 28 reserved
 *       bytes, ramblock[256], then u64 page offsets: as many as 512 KiB has
 *       target pages (pages_alloc says it, except in a SYNC packet, where
 *       it is 0); then next_packet_size bytes of page data (normal_pages
 *       pages when not compressed). SYNC (flag 0x1) packets carry no pages.
 *     device state (flag 0x40): idstr[256], u32 instance_id, u32
 *       next_packet_size, then that many bytes: the VFIO packet, u32
 *       version 0, u32 idx, u32 flags (0x1: config state), the buffer.
 *
 * A device's buffers are numbered 0, 1, ... by its save thread and spread
 * over the channels; the last one is the config state (its packet has the
 * config flag; its bytes are DEV_CONFIG_STATE, the config, END_OF_STATE).
 * The reader merges the channels: it always reads the channel whose next
 * packet is the one a device needs next, so buffers that arrive in order
 * per channel (as QEMU sends them) are never held; a buffer that has to
 * wait for an earlier one is copied and held, up to pending_cap bytes in all.
 * A second buffer with an index, an index after the config state's, a gap
 * left when every channel has ended, a device with no config state: errors.
 * RAM packets are checked and skipped (counted per channel).
 *
 * Errors as qemu-stream.h's: -EBADMSG (bad or cut data), -ENOBUFS
 * (pending_cap or QEMU_MULTIFD_MAX_DEVICES exceeded), other -errno for I/O;
 * qemu_multifd_error()'s msg names the channel (its name as added) and the
 * byte (that of the packet's header for a problem of order): "channel
 * mf1.bin, byte 4160: buffer 2 of \"0000:00:01.0/vfio\" came before
 * (channel mf0.bin)"; a problem of no one channel (a device whose config
 * state never came) starts "multifd: ". The error's offset is that byte,
 * in_section is false.
 */
#ifndef VMT_QEMU_MULTIFD_H
#define VMT_QEMU_MULTIFD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "stream/qemu-stream.h"

#define QEMU_MULTIFD_MAGIC 0x11223344u
#define QEMU_MULTIFD_VERSION 1u
#define QEMU_MULTIFD_INIT_LEN 64u
#define QEMU_MULTIFD_FLAG_SYNC 0x01u
#define QEMU_MULTIFD_FLAG_COMPRESSION_MASK 0x3eu /* nocomp 0, zlib 2, zstd 4, ... */
#define QEMU_MULTIFD_FLAG_DEVICE_STATE 0x40u
#define QEMU_MULTIFD_VFIO_FLAG_CONFIG_STATE 0x1u

/* Default pending_cap: bytes of out-of-order buffers held at once. */
#define QEMU_MULTIFD_PENDING_CAP (256u << 20)
/* Most channels and devices one reader takes. */
#define QEMU_MULTIFD_MAX_CHANNELS 64u
#define QEMU_MULTIFD_MAX_DEVICES 64u

struct qemu_multifd_opts {
	size_t pending_cap; /* 0: QEMU_MULTIFD_PENDING_CAP */
	/*
	 * The target page size (the main stream's: qemu_stream_page_size());
	 * 0: 4096. A RAM packet's length on the wire depends on it (512 KiB
	 * of page slots, SYNC packets included), and so does an uncompressed
	 * packet's page data.
	 */
	uint32_t page_size;
};

/* What one channel held; its counts grow as it is read. */
struct qemu_multifd_channel {
	const char *name;
	bool init_read; /* the init packet was read: id and uuid are set */
	uint8_t id;	/* the channel number QEMU gave it */
	uint8_t uuid[16];
	bool ended;	/* end of file after a whole packet */
	uint64_t bytes; /* consumed so far */
	uint64_t ram_packets, sync_packets;
	uint64_t normal_pages, zero_pages;
	uint64_t ram_data_bytes; /* page data after the RAM packets */
	uint64_t device_packets;
	uint64_t device_bytes; /* VFIO packets' buffer bytes */
};

enum qemu_multifd_event_type {
	QEMU_MF_EV_CHANNEL,	  /* channel: its init packet was read */
	QEMU_MF_EV_DEVICE_DATA,	  /* data/len: a piece of device data, in device order */
	QEMU_MF_EV_DEVICE_CONFIG, /* data/len: a piece of the config state (tags stripped) */
	QEMU_MF_EV_DEVICE_END,	  /* the device's config state is done: all its buffers came */
};

struct qemu_multifd_event {
	enum qemu_multifd_event_type type;
	unsigned int channel; /* index of the channel the bytes came from (add order) */
	/* the channel byte the packet (DATA, CONFIG) starts at */
	uint64_t offset;
	/* QEMU_MF_EV_DEVICE_*: the device */
	const char *idstr;
	uint32_t instance_id;
	/* DATA, CONFIG: the buffer's index, size, and where data sits in it;
	 * DEVICE_END: buffers (index of the config state + 1) and
	 * data_bytes (device data bytes, config state not counted). */
	uint32_t index;
	uint64_t buffer_len;
	uint64_t buffer_offset;
	const uint8_t *data;
	size_t len;
	uint64_t data_bytes;
};

struct qemu_multifd;

int qemu_multifd_new(struct qemu_multifd **out, const struct qemu_multifd_opts *opts);
void qemu_multifd_free(struct qemu_multifd *m);

/*
 * Adds a channel before the first qemu_multifd_next(). fd is not closed by
 * the reader; name is kept (not copied) for messages; prefix/prefix_len:
 * bytes already read from it (NULL, 0: none). -E2BIG beyond
 * QEMU_MULTIFD_MAX_CHANNELS.
 */
int qemu_multifd_add_fd(struct qemu_multifd *m, int fd, const char *name, const void *prefix,
			size_t prefix_len);
int qemu_multifd_add_cb(struct qemu_multifd *m, qemu_stream_read_fn fn, void *ctx, const char *name,
			const void *prefix, size_t prefix_len);

/*
 * 1: an event in *ev (pointers valid until the next call); 0: every channel
 * ended and every device's buffers came whole; <0: error, sticky.
 */
int qemu_multifd_next(struct qemu_multifd *m, struct qemu_multifd_event *ev);

const struct qemu_stream_error *qemu_multifd_error(const struct qemu_multifd *m);

size_t qemu_multifd_channel_count(const struct qemu_multifd *m);
const struct qemu_multifd_channel *qemu_multifd_channel_info(const struct qemu_multifd *m,
							     size_t i);

/* Per device, in the order their first packet came. */
struct qemu_multifd_device {
	char idstr[256];
	uint32_t instance_id;
	uint32_t buffers;    /* handed out so far */
	uint64_t data_bytes; /* device data handed out */
	uint64_t config_bytes;
	bool ended;		 /* the config state came and nothing is missing */
	uint8_t config_head[64]; /* for qemu_vfio_config_pci_ids() */
	size_t config_head_len;
};
size_t qemu_multifd_device_count(const struct qemu_multifd *m);
const struct qemu_multifd_device *qemu_multifd_device(const struct qemu_multifd *m, size_t i);

#endif
