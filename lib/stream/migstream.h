/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * migstream v1: the stream format every vfio-migtools program speaks.
 * man/migstream.5 is the normative description; this header is its C form:
 * constants, record layouts as decoded structs, and payload encode/decode.
 *
 * A stream is a 16-byte preamble, then records. Every record is a 32-byte
 * header and a payload; all integers are big-endian.
 *
 *   preamble: magic[8] = 89 56 4d 53 0d 0a 1a 0a ("\x89VMS\r\n\x1a\n")
 *             u32 version (1), u32 flags (0; a reader rejects any bit set)
 *
 *   record header:
 *     0  u16 type            MIGSTREAM_REC_*
 *     2  u16 flags           MIGSTREAM_RF_*; unknown bits: reject
 *     4  u32 seq             0 for the first record, +1 for each next one
 *     8  u32 stored_len      payload bytes that follow on the wire
 *     12 u32 raw_len         payload bytes after decompression (= stored_len
 *                            when not compressed)
 *     16 u64 payload_check   XXH3-64 (seed 0) of the stored payload bytes
 *     24 u32 reserved        0
 *     28 u32 header_check    low 32 bits of XXH3-64 (seed 0) of bytes 0..27
 *
 * The header check lets a reader trust the lengths before it allocates or
 * reads anything; the payload check lets it reject a record before it is
 * decompressed or reaches a device.
 */
#ifndef VMT_MIGSTREAM_H
#define VMT_MIGSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MIGSTREAM_MAGIC "\x89VMS\r\n\x1a\n"
#define MIGSTREAM_MAGIC_LEN 8
#define MIGSTREAM_VERSION 1
#define MIGSTREAM_PREAMBLE_LEN 16
#define MIGSTREAM_RECORD_HEADER_LEN 32

/* The largest payload, stored or raw: bounds every reader's memory. */
#define MIGSTREAM_MAX_PAYLOAD (8u << 20)
/* Device data chunk size writers use unless told otherwise. */
#define MIGSTREAM_DEFAULT_CHUNK (1u << 20)
/* Longest string field (names, paths, drivers). */
#define MIGSTREAM_MAX_STRING 4096

enum migstream_record_type {
	MIGSTREAM_REC_STREAM_HEADER = 1, /* critical, first record */
	MIGSTREAM_REC_DEVICE = 2,	 /* critical */
	MIGSTREAM_REC_DATA = 3,		 /* critical */
	MIGSTREAM_REC_PRECOPY_INFO = 4,	 /* ancillary */
	MIGSTREAM_REC_DIRTY_BITMAP = 5,	 /* ancillary */
	MIGSTREAM_REC_DEVICE_END = 6,	 /* critical */
	MIGSTREAM_REC_STREAM_END = 7,	 /* critical, last record */
	/* 8 is INIT_DATA_SENT (migstream-reply.h) */
	MIGSTREAM_REC_CHANNEL = 9, /* critical, second record of a channel */
};

enum migstream_record_flags {
	/* A reader that does not know the type may skip the record. */
	MIGSTREAM_RF_ANCILLARY = 1 << 0,
	/* The payload is one zstd frame of raw_len bytes. */
	MIGSTREAM_RF_ZSTD = 1 << 1,
};
#define MIGSTREAM_RF_KNOWN (MIGSTREAM_RF_ANCILLARY | MIGSTREAM_RF_ZSTD)

enum migstream_phase {
	MIGSTREAM_PHASE_PRECOPY_INITIAL = 1,
	MIGSTREAM_PHASE_PRECOPY_DIRTY = 2,
	MIGSTREAM_PHASE_STOP_COPY = 3,
};

enum migstream_bitmap_encoding {
	/* ceil(page_count / 8) bytes, page i is bit (i % 8) of byte i / 8. */
	MIGSTREAM_BITMAP_RAW = 0,
	/* LEB128 pairs (clean pages skipped, dirty run length >= 1). */
	MIGSTREAM_BITMAP_RUNS = 1,
};

/* The 32-byte record header, field by field (see the layout above). */
struct migstream_record_header {
	uint16_t type;
	uint16_t flags;
	uint32_t seq;
	uint32_t stored_len;
	uint32_t raw_len;
	uint64_t payload_check;
	uint32_t reserved;
	uint32_t header_check; /* decode: as read; encode: computed */
};

/* STREAM_HEADER: u64 time_ns, u32 flags, u32 reserved, str producer,
 * str producer_version, str host (str = u16 length + bytes, no NUL). */
struct migstream_stream_header {
	uint64_t time_ns; /* CLOCK_REALTIME at creation */
	uint32_t flags;
	char producer[64];
	char producer_version[32];
	char host[256];
};

enum migstream_device_id_flags {
	MIGSTREAM_DEV_PCI_IDS = 1 << 0, /* vendor..revision are valid */
};

#define MIGSTREAM_SIZE_UNKNOWN UINT64_MAX

/* DEVICE: u32 index, u32 id_flags, u64 mig_flags, u64 stop_copy_size,
 * u16 vendor, u16 device, u16 subsys_vendor, u16 subsys_device,
 * u32 class_code, u8 revision, u8 pad[3], str name, str driver,
 * str mdev_type. */
struct migstream_device {
	uint32_t index;
	uint32_t id_flags;
	uint64_t mig_flags;	 /* VFIO_MIGRATION_* */
	uint64_t stop_copy_size; /* MIG_DATA_SIZE estimate or SIZE_UNKNOWN */
	uint16_t vendor, device, subsys_vendor, subsys_device;
	uint32_t class_code;
	uint8_t revision;
	char name[MIGSTREAM_MAX_STRING + 1]; /* as given: path, BDF, UUID */
	char driver[256];
	char mdev_type[256];
};

/* DATA: u32 device, u8 phase, u8 pad[3], u64 chunk_index, u64 offset,
 * then the device's bytes. */
#define MIGSTREAM_DATA_PREFIX_LEN 24
struct migstream_data {
	uint32_t device;
	uint8_t phase;	      /* enum migstream_phase */
	uint64_t chunk_index; /* per device, from 0, across all phases */
	uint64_t offset;      /* byte offset in the device's state */
	const uint8_t *data;  /* points into the record payload */
	uint32_t len;
};

/* PRECOPY_INFO: u32 device, u32 state, u64 time_ns, u64 initial_bytes,
 * u64 dirty_bytes, u64 stop_copy_size. */
struct migstream_precopy_info {
	uint32_t device;
	uint32_t state; /* VFIO_DEVICE_STATE_* when sampled */
	uint64_t time_ns;
	uint64_t initial_bytes;
	uint64_t dirty_bytes;
	uint64_t stop_copy_size; /* or MIGSTREAM_SIZE_UNKNOWN */
};

/* DIRTY_BITMAP: u32 source, u8 encoding, u8 pad[3], u64 time_ns,
 * u64 iova, u64 page_size, u64 page_count, u64 dirty_count, then the
 * encoded bitmap. */
#define MIGSTREAM_BITMAP_PREFIX_LEN 48
struct migstream_dirty_bitmap {
	uint32_t source; /* device or tracker index */
	uint8_t encoding;
	uint64_t time_ns;
	uint64_t iova;
	uint64_t page_size;
	uint64_t page_count;
	uint64_t dirty_count;
	const uint8_t *bits; /* encoded form, points into the payload */
	uint32_t bits_len;
};

/* DEVICE_END: u32 device, u32 reserved, u64 total_bytes, u64 chunk_count,
 * u64 state_digest (XXH3-64, seed 0, of all the device's bytes in order). */
struct migstream_device_end {
	uint32_t device;
	uint64_t total_bytes;
	uint64_t chunk_count;
	uint64_t state_digest;
};

/* STREAM_END: u64 record_count (records before it), u64 payload_bytes
 * (sum of their stored_len), u32 device_count, u32 reserved. */
struct migstream_stream_end {
	uint64_t record_count;
	uint64_t payload_bytes;
	uint32_t device_count;
};

/*
 * CHANNEL: u8 set_id[16], u32 channel, u32 channel_count, u32 flags (0),
 * u32 reserved (0). Present (as the record right after STREAM_HEADER) only
 * in a stream that is one channel of a set: the stream's device data is
 * spread over channel_count streams written at once, each DATA chunk in
 * exactly one of them (man/migstream.5, CHANNELS).
 */
#define MIGSTREAM_SET_ID_LEN 16
/* Most channels one set may have. */
#define MIGSTREAM_MAX_CHANNELS 64
/* Room for a set id in hex, with its NUL. */
#define MIGSTREAM_SET_ID_HEX_LEN (2 * MIGSTREAM_SET_ID_LEN + 1)
struct migstream_channel {
	uint8_t set_id[MIGSTREAM_SET_ID_LEN]; /* random, the same on every channel */
	uint32_t channel;		      /* 0 .. channel_count - 1 */
	uint32_t channel_count;		      /* 1 .. MIGSTREAM_MAX_CHANNELS */
};

/*
 * A record as a reader hands it out: header facts, the payload, and for a
 * record of a known type its payload decoded once (the member named after
 * its type; unknown ancillary types decode nothing).
 */
struct migstream_record {
	uint16_t type;
	uint16_t flags; /* the header's: MIGSTREAM_RF_ZSTD says how it was stored */
	uint32_t seq;
	uint64_t offset; /* stream offset of the record header */
	uint32_t stored_len;
	uint32_t raw_len;
	/*
	 * The payload, valid until the next read: decompressed (len ==
	 * raw_len), or the stored zstd bytes for a compressed record read
	 * with keep_compressed (len == stored_len). Pointers in the decoded
	 * members point into decompressed bytes either way.
	 */
	uint32_t len;
	const uint8_t *payload;
	union {
		struct migstream_stream_header stream_header;
		struct migstream_device device;
		struct migstream_data data;
		struct migstream_precopy_info precopy_info;
		struct migstream_dirty_bitmap dirty_bitmap;
		struct migstream_device_end device_end;
		struct migstream_stream_end stream_end;
		struct migstream_channel channel;
	};
};

/*
 * "DATA", "INIT_DATA_SENT", "LOAD_RESULT": the name of every type of
 * migstream(5), forward stream and return path; "UNKNOWN" for the rest.
 */
const char *migstream_record_type_name(uint16_t type);
const char *migstream_phase_name(uint8_t phase);
/* A set id as every message and summary shows it: 32 lowercase hex digits. Returns out. */
const char *migstream_set_id_hex(const uint8_t id[MIGSTREAM_SET_ID_LEN],
				 char out[MIGSTREAM_SET_ID_HEX_LEN]);

/* The header's bytes; header_check is computed (the field is ignored). */
void migstream_encode_record_header(const struct migstream_record_header *h,
				    uint8_t buf[MIGSTREAM_RECORD_HEADER_LEN]);
/* The fields as they are on the wire: nothing is checked. */
void migstream_decode_record_header(const uint8_t buf[MIGSTREAM_RECORD_HEADER_LEN],
				    struct migstream_record_header *h);
/* What header_check must be for these bytes: XXH3-64 of bytes 0..27, low 32 bits. */
uint32_t migstream_record_header_check(const uint8_t buf[MIGSTREAM_RECORD_HEADER_LEN]);

/*
 * rec's payload (raw, decompressed) into the member of its type: 0, or
 * -EBADMSG as the decoder of that type says; unknown types decode nothing.
 */
int migstream_decode_payload(struct migstream_record *rec);

/*
 * Payload decoders: -EBADMSG when the payload is too short, a string is
 * too long or a field is out of range. Payloads longer than the fields a
 * decoder knows are accepted (a later minor revision may append fields).
 */
int migstream_decode_stream_header(const struct migstream_record *rec,
				   struct migstream_stream_header *out);
int migstream_decode_device(const struct migstream_record *rec, struct migstream_device *out);
int migstream_decode_data(const struct migstream_record *rec, struct migstream_data *out);
int migstream_decode_precopy_info(const struct migstream_record *rec,
				  struct migstream_precopy_info *out);
int migstream_decode_dirty_bitmap(const struct migstream_record *rec,
				  struct migstream_dirty_bitmap *out);
int migstream_decode_device_end(const struct migstream_record *rec,
				struct migstream_device_end *out);
int migstream_decode_stream_end(const struct migstream_record *rec,
				struct migstream_stream_end *out);
/* -EBADMSG also for flags or reserved bits set, a count of 0 or above
 * MIGSTREAM_MAX_CHANNELS, or a channel not below the count. */
int migstream_decode_channel(const struct migstream_record *rec, struct migstream_channel *out);

/* Most DEVICE records one stream may carry: bounds per-device state. */
#define MIGSTREAM_MAX_DEVICES 64

/* Fixed payload sizes of this revision (a reader accepts longer ones). */
#define MIGSTREAM_STREAM_HEADER_FIXED_LEN 16 /* before the strings */
#define MIGSTREAM_DEVICE_FIXED_LEN 40	     /* before the strings */
#define MIGSTREAM_PRECOPY_INFO_LEN 40
#define MIGSTREAM_DEVICE_END_LEN 32
#define MIGSTREAM_STREAM_END_LEN 24
#define MIGSTREAM_CHANNEL_LEN 32

/* Offset of header_check: the bytes before it are what it covers. */
#define MIGSTREAM_HDR_CHECK_OFF 28

/* True for the types this format defines here (1..7, and CHANNEL). */
bool migstream_record_type_known(uint16_t type);

/*
 * Payload encoders: the exact bytes a writer puts on the wire. The ones with
 * strings return the payload length, or -ENAMETOOLONG when a string does not
 * fit its field (decoders would reject it) and -ENOSPC when cap is short.
 * The fixed-size ones write exactly their _LEN bytes.
 */
int migstream_encode_stream_header(const struct migstream_stream_header *h, uint8_t *buf,
				   size_t cap);
int migstream_encode_device(const struct migstream_device *d, uint8_t *buf, size_t cap);
void migstream_encode_data_prefix(const struct migstream_data *d,
				  uint8_t buf[MIGSTREAM_DATA_PREFIX_LEN]);
void migstream_encode_precopy_info(const struct migstream_precopy_info *p,
				   uint8_t buf[MIGSTREAM_PRECOPY_INFO_LEN]);
void migstream_encode_bitmap_prefix(const struct migstream_dirty_bitmap *b,
				    uint8_t buf[MIGSTREAM_BITMAP_PREFIX_LEN]);
void migstream_encode_device_end(const struct migstream_device_end *e,
				 uint8_t buf[MIGSTREAM_DEVICE_END_LEN]);
void migstream_encode_stream_end(const struct migstream_stream_end *e,
				 uint8_t buf[MIGSTREAM_STREAM_END_LEN]);
void migstream_encode_channel(const struct migstream_channel *ch,
			      uint8_t buf[MIGSTREAM_CHANNEL_LEN]);

#endif
