/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Reading a set of migstream channels (man/migstream.5, CHANNELS) as one
 * stream: one reader thread per channel does the per-record work (header
 * and payload checks, zstd) in parallel; the records come out to a single
 * consumer in an order that is a valid whole stream:
 *
 *   STREAM_HEADER  channel 0's, once
 *   DEVICE         once per device, when every channel that has shown it
 *                  agrees byte for byte (a disagreement is bad data)
 *   DATA           each device's chunks in chunk_index order (chunks that
 *                  arrive early wait in a per-device reorder buffer of
 *                  bounded memory), devices interleaved as they come
 *   DEVICE_END     once per device, after every channel's DEVICE_END for it,
 *                  with the totals and the state digest checked against the
 *                  merged chunks
 *   ancillary      as they come (PRECOPY_INFO, INIT_DATA_SENT, ...)
 *   STREAM_END     once, after every channel ended; its totals are the
 *                  merged stream's (records and payload bytes handed out)
 *   CHANNEL        never handed out
 *
 * A single stream without a CHANNEL record is a set of one: records pass
 * through with the reader's own checks, read ahead by one thread.
 *
 * The set is checked before any DATA is handed out: every channel's CHANNEL
 * record has the same set_id and channel_count, each channel 0..count-1 is
 * given exactly once, and count channels are given. A channel that ends
 * before its STREAM_END (truncated, its writer died) is bad data.
 *
 * Threads: the channel threads block every signal (signals reach the
 * caller's threads); their reads poll the channel and a wake pipe, so
 * migstream_channel_set_cancel() and any failure of the set wake them at
 * once. The consumer's waits last at most 100 ms each and ask
 * opts.cancelled() every time.
 *
 * Errors: -EBADMSG for bad data (exit 4), -ENOBUFS when the reorder
 * buffers are full and no channel can go on (a hostile or too skewed
 * interleaving: raise the limit; also exit 4), other -errno for I/O;
 * migstream_channel_set_error() then names the channel's file, record and
 * byte offset. Errors are sticky.
 */
#ifndef VMT_CHANNEL_SET_H
#define VMT_CHANNEL_SET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stream/migstream.h"
#include "stream/reader.h"

struct migstream_channel_set;

struct migstream_channel_input {
	int fd;		  /* read by the set's thread; not closed by the set */
	const char *name; /* for messages: a file name, "fd:N", "<stdin>" */
};

struct migstream_channel_set_opts {
	/*
	 * Memory that early chunks may hold, per device (each charged its
	 * bytes plus bookkeeping); 0: MIGSTREAM_CHANNEL_REORDER_DEFAULT.
	 */
	uint64_t reorder_limit;
	/*
	 * Records read ahead of the consumer, in bytes over all channels,
	 * counted from before a record is read (its stored and decompressed
	 * payload) until the consumer releases it or it goes into a reorder
	 * buffer. A record the merge needs next may go over it by
	 * MIGSTREAM_CHANNEL_RECORD_MAX; an early chunk is read only when it
	 * fits, and its device's reorder buffer has room for it. So the set
	 * holds at most queue_limit + MIGSTREAM_CHANNEL_RECORD_MAX +
	 * reorder_limit per device, plus a peek buffer of 128 KiB and a
	 * decompressor per channel, whatever the channel count.
	 * 0: MIGSTREAM_CHANNEL_QUEUE_DEFAULT.
	 */
	uint64_t queue_limit;
	/*
	 * A channel ends at its STREAM_END, not at its end of file, and is not
	 * read further: for a sender that keeps its channels open until it has
	 * the loader's answer (the return path). Bytes after STREAM_END then go
	 * unchecked, as with a single stream read to its STREAM_END.
	 */
	bool end_at_stream_end;
	/* As in migstream_reader_opts: critical types the caller knows. */
	bool (*caller_knows)(uint16_t type);
	/*
	 * Asked by the consumer's thread in _next() (before each step and at
	 * least every 100 ms while it waits), and by a channel thread whose
	 * read(2) was interrupted (EINTR; rare, as they block signals): true
	 * ends the set with -ECANCELED (a stop signal whose handler set a
	 * flag), false goes on. migstream_channel_set_cancel() is the other
	 * way to stop.
	 */
	bool (*cancelled)(void *ctx);
	void *cancel_ctx;
};

/*
 * What a record the merge needs next may take beyond queue_limit: one
 * record of the largest size being read (stored and decompressed payload).
 */
#define MIGSTREAM_CHANNEL_RECORD_MAX (2ull * MIGSTREAM_MAX_PAYLOAD + 4096)
#define MIGSTREAM_CHANNEL_REORDER_DEFAULT (64ull << 20)
#define MIGSTREAM_CHANNEL_QUEUE_DEFAULT (32ull << 20)

/*
 * Starts one thread per input (n from 1 to MIGSTREAM_MAX_CHANNELS; the
 * inputs in any order). 0 or -errno (-EINVAL for n out of range). Does not
 * wait for the inputs: the set checks run in the first _next().
 */
int migstream_channel_set_open(struct migstream_channel_set **out,
			       const struct migstream_channel_input *in, unsigned int n,
			       const struct migstream_channel_set_opts *opts);
/*
 * The next record of the merged stream: 1 and *rec (decoded as a reader
 * hands it out; rec->seq and rec->offset are the record's in its own
 * channel, for messages, and *channel, if not NULL, which channel it came
 * from: the CHANNEL record's number, 0 for a whole stream), 0 at the clean
 * end (after STREAM_END was handed out and every channel reached its end
 * of file), <0 on error. In a set, the STREAM_END handed out is the set's
 * own, with the merged stream's totals.
 *
 * The record's payload stays valid until migstream_channel_set_release()
 * is called with it (or a copy of the struct: records are found by their
 * payload), or else until the next call with the same rec pointer, which
 * releases the record that pointer last received. A consumer that hands
 * records to other threads passes a struct of its own to each call (one
 * per record in flight) and releases each when done (held records count
 * against queue_limit, so a consumer that never releases stalls the
 * read-ahead, not the memory bound).
 */
int migstream_channel_set_next(struct migstream_channel_set *set, struct migstream_record *rec,
			       unsigned int *channel);
void migstream_channel_set_release(struct migstream_channel_set *set,
				   const struct migstream_record *rec);
/*
 * Takes a held record's payload out of the set instead of releasing it:
 * the buffer that holds it (rec->payload and the decoded members that
 * point into it stay valid there), for the caller to free(), and *cap its
 * size. The record is released: the buffer no longer counts against
 * queue_limit, the caller bounds it now. NULL (the record still held) when
 * the payload is not in a buffer of its own: copy it, then release.
 */
void *migstream_channel_set_take_payload(struct migstream_channel_set *set,
					 const struct migstream_record *rec, size_t *cap);
/*
 * Ends the set: _next returns -ECANCELED. Async-signal-safe (an atomic
 * flag and a write(2) to the wake pipe): a signal handler may call it.
 */
void migstream_channel_set_cancel(struct migstream_channel_set *set);
/* Stops the threads and frees everything (records not released are freed too). */
void migstream_channel_set_free(struct migstream_channel_set *set);

/* The message of the first error: "channel 1 (b.vms): record 12 (DATA) at byte 4096: ..." */
const char *migstream_channel_set_error(const struct migstream_channel_set *set);
/*
 * Channels in the set (1 for a whole stream) and the set's id in *id if
 * not NULL, once the first _next() passed the set checks; before that the
 * number of inputs and an id of zeros.
 */
unsigned int migstream_channel_set_count(const struct migstream_channel_set *set, uint8_t *id);
/*
 * The input the set waits for (for a message when a wait is cut short, by
 * a signal): the first channel, in the order given, that has not ended and
 * from which the merge has no record to take; its byte offset (bytes read
 * from it) in *offset. The first input when it waits for none.
 */
const char *migstream_channel_set_waiting(struct migstream_channel_set *set, uint64_t *offset);
/* Bytes read from all channels so far (for progress). */
uint64_t migstream_channel_set_bytes(const struct migstream_channel_set *set);
/* The most memory the reorder buffers held at once, over all devices. */
uint64_t migstream_channel_set_reorder_peak(const struct migstream_channel_set *set);
/*
 * The most read-ahead held at once (records being read, queued, ready or
 * held by the consumer, as queue_limit counts them): at most queue_limit +
 * MIGSTREAM_CHANNEL_RECORD_MAX, whatever the channel count.
 */
uint64_t migstream_channel_set_read_ahead_peak(const struct migstream_channel_set *set);

#endif
