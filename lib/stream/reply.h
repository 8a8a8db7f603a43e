/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The return path of a migration: the records by which the loading side
 * answers the saving side, and the INIT_DATA_SENT marker of the forward
 * stream that the answers refer to. man/migstream.5, section RETURN PATH,
 * is the normative description; this header is its C form.
 *
 * The return path is itself a migstream (preamble, STREAM_HEADER, records,
 * STREAM_END) written by the loader; its records are:
 *
 *   SWITCHOVER_ACK (0x0101, critical, 32 bytes)
 *     0 u32 device       stream index of the device
 *     4 u32 generation   the INIT_DATA_SENT generation acknowledged
 *     8 u64 bytes        device bytes written to the target when acked
 *    16 u64 time_ns      CLOCK_REALTIME of the ack
 *    24 u64 reserved
 *
 *   LOAD_RESULT (0x0102, critical)
 *     0 u32 exit_code    the loader's exit status (0: loaded and started)
 *     4 u32 device_count entries that follow, at most MIGSTREAM_MAX_DEVICES
 *     8 u64 time_ns      CLOCK_REALTIME of the result
 *    16 device_count x { u32 device, u32 state, u32 flags, u32 reserved }
 *    .. str message      the loader's one-line error ("" on success)
 *
 *   TIME_ECHO (0x0103, ancillary, 32 bytes): the answer to a TIME_PROBE
 *     0 u32 probe        the probe's number
 *     4 u32 reserved
 *     8 u64 t1_ns        the probe's t1_ns, as it came
 *    16 u64 t2_ns        loader's CLOCK_REALTIME when it read the probe
 *    24 u64 t3_ns        loader's CLOCK_REALTIME when it sent this echo
 *
 *   LOAD_EVENT (0x0104, ancillary, 2..4096 bytes): one event line of the
 *   loader (vfio-mig-events(5)), its JSON object without the newline
 *
 * And in the forward stream:
 *
 *   INIT_DATA_SENT (0x0008, ancillary, 24 bytes)
 *     0 u32 device       stream index of the device
 *     4 u32 generation   1 for the first initial section, +1 per REINIT
 *     8 u64 offset       the device's byte offset where the section ends
 *    16 u64 initial      bytes of this initial section
 *
 *   TIME_PROBE (0x000a, ancillary, 16 bytes): asks a loader with a return
 *   path for a TIME_ECHO, from which the saver estimates the offset of the
 *   loader's clock as NTP does (migstream_clock_sample)
 *     0 u32 probe        1 for the first probe, +1 for each
 *     4 u32 flags        0 (a loader ignores bits it does not know)
 *     8 u64 t1_ns        saver's CLOCK_REALTIME when it wrote the probe
 */
#ifndef VMT_MIGSTREAM_REPLY_H
#define VMT_MIGSTREAM_REPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stream/migstream.h"

enum migstream_reply_type {
	MIGSTREAM_REC_INIT_DATA_SENT = 0x0008, /* forward stream, ancillary */
	MIGSTREAM_REC_TIME_PROBE = 0x000a,     /* forward stream, ancillary */
	MIGSTREAM_REC_SWITCHOVER_ACK = 0x0101, /* return path, critical */
	MIGSTREAM_REC_LOAD_RESULT = 0x0102,    /* return path, critical */
	MIGSTREAM_REC_TIME_ECHO = 0x0103,      /* return path, ancillary */
	MIGSTREAM_REC_LOAD_EVENT = 0x0104,     /* return path, ancillary */
};

#define MIGSTREAM_INIT_DATA_SENT_LEN 24
#define MIGSTREAM_SWITCHOVER_ACK_LEN 32
#define MIGSTREAM_TIME_PROBE_LEN 16
#define MIGSTREAM_TIME_ECHO_LEN 32
/* Longest LOAD_EVENT payload: a longer event line is not sent back. */
#define MIGSTREAM_LOAD_EVENT_MAX_LEN 4096
#define MIGSTREAM_LOAD_RESULT_FIXED_LEN 16
#define MIGSTREAM_LOAD_RESULT_ENTRY_LEN 16
/* Longest LOAD_RESULT message (bytes, without NUL). */
#define MIGSTREAM_LOAD_RESULT_MAX_MESSAGE 2047
/* Largest LOAD_RESULT payload: bounds the return-path reader. */
#define MIGSTREAM_LOAD_RESULT_MAX_LEN                                  \
	(MIGSTREAM_LOAD_RESULT_FIXED_LEN +                             \
	 MIGSTREAM_MAX_DEVICES * MIGSTREAM_LOAD_RESULT_ENTRY_LEN + 2 + \
	 MIGSTREAM_LOAD_RESULT_MAX_MESSAGE)

/* A target state the loader could not read. */
#define MIGSTREAM_STATE_UNKNOWN UINT32_MAX

enum migstream_result_device_flags {
	MIGSTREAM_RESULT_LOADED = 1 << 0,   /* digest verified, RESUMING -> STOP accepted */
	MIGSTREAM_RESULT_IN_STATE = 1 << 1, /* in the state the loader was asked for */
	MIGSTREAM_RESULT_RESET = 1 << 2,    /* reset after a failure */
};
#define MIGSTREAM_RESULT_FLAGS_KNOWN \
	(MIGSTREAM_RESULT_LOADED | MIGSTREAM_RESULT_IN_STATE | MIGSTREAM_RESULT_RESET)

struct migstream_init_data_sent {
	uint32_t device;
	uint32_t generation;
	uint64_t offset;
	uint64_t initial;
};

struct migstream_switchover_ack {
	uint32_t device;
	uint32_t generation;
	uint64_t bytes;
	uint64_t time_ns;
};

struct migstream_time_probe {
	uint32_t probe;
	uint64_t t1_ns;
};

struct migstream_time_echo {
	uint32_t probe;
	uint64_t t1_ns; /* saver's clock, sent */
	uint64_t t2_ns; /* loader's clock, probe read */
	uint64_t t3_ns; /* loader's clock, echo sent */
};

/*
 * One round trip's estimate of the loader's clock minus the saver's, as
 * NTP computes it from t1..t4 (t4: the saver's clock when the echo was
 * read): offset ((t2 - t1) + (t3 - t4)) / 2, delay (t4 - t1) - (t3 - t2).
 * The true offset lies within delay / 2 of the estimate whatever the
 * split of the delay between the two directions.
 */
struct migstream_clock_sample {
	int64_t offset_ns;
	uint64_t delay_ns;
};

struct migstream_result_device {
	uint32_t device; /* stream index */
	uint32_t state;	 /* VFIO_DEVICE_STATE_* or MIGSTREAM_STATE_UNKNOWN */
	uint32_t flags;	 /* enum migstream_result_device_flags */
};

struct migstream_load_result {
	uint32_t exit_code;
	uint32_t device_count;
	uint64_t time_ns;
	struct migstream_result_device devices[MIGSTREAM_MAX_DEVICES];
	char message[MIGSTREAM_LOAD_RESULT_MAX_MESSAGE + 1];
};

/* Whether type is a record of the return path (SWITCHOVER_ACK, LOAD_RESULT). */
bool migstream_reply_type_known(uint16_t type);

/* "LOADED", "IN_STATE", "RESET" for a bit number of a LOAD_RESULT entry's flags; NULL for others. */
const char *migstream_result_flag_name(unsigned int bit);

void migstream_encode_init_data_sent(const struct migstream_init_data_sent *m,
				     uint8_t buf[MIGSTREAM_INIT_DATA_SENT_LEN]);
void migstream_encode_switchover_ack(const struct migstream_switchover_ack *a,
				     uint8_t buf[MIGSTREAM_SWITCHOVER_ACK_LEN]);
void migstream_encode_time_probe(const struct migstream_time_probe *p,
				 uint8_t buf[MIGSTREAM_TIME_PROBE_LEN]);
void migstream_encode_time_echo(const struct migstream_time_echo *e,
				uint8_t buf[MIGSTREAM_TIME_ECHO_LEN]);
/* -EBADMSG for a payload too short, or an echo whose t3 is before its t2. */
int migstream_decode_time_probe(const struct migstream_record *rec,
				struct migstream_time_probe *out);
int migstream_decode_time_echo(const struct migstream_record *rec, struct migstream_time_echo *out);
/*
 * A LOAD_EVENT's payload is one JSON object's text: 0, or -EBADMSG when it
 * is empty, longer than MIGSTREAM_LOAD_EVENT_MAX_LEN, holds a NUL or a line
 * break, or does not begin with '{' and end with '}'. (The JSON itself is
 * the saver's to parse.)
 */
int migstream_check_load_event(const struct migstream_record *rec);

/*
 * The sample of echo e read at t4_ns; -ERANGE when the round trip took
 * less than the loader held the probe (a clock stepped meanwhile).
 */
int migstream_clock_sample(const struct migstream_time_echo *e, uint64_t t4_ns,
			   struct migstream_clock_sample *out);

/*
 * The payload length, -E2BIG for more than MIGSTREAM_MAX_DEVICES devices,
 * -ENAMETOOLONG for a message above the limit, -ENOSPC when cap is short.
 */
int migstream_encode_load_result(const struct migstream_load_result *r, uint8_t *buf, size_t cap);

/*
 * -EBADMSG for a payload too short, a count above the limit, unknown flag
 * bits, a message too long or holding a NUL. Longer fixed-size payloads are
 * accepted (later revisions may append fields).
 */
int migstream_decode_init_data_sent(const struct migstream_record *rec,
				    struct migstream_init_data_sent *out);
int migstream_decode_switchover_ack(const struct migstream_record *rec,
				    struct migstream_switchover_ack *out);
int migstream_decode_load_result(const struct migstream_record *rec,
				 struct migstream_load_result *out);

#endif
