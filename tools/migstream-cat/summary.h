/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Totals of one stream: bytes per device and phase, records, compression,
 * dirty pages, precopy info samples.
 */
#ifndef VMT_CAT_SUMMARY_H
#define VMT_CAT_SUMMARY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "stream/migstream.h"
#include "stream/reply.h"

/* The reader refuses streams with more devices than this. */
#define CAT_SUMMARY_MAX_DEVICES MIGSTREAM_MAX_DEVICES
#define CAT_NPHASES 4 /* indexed by enum migstream_phase; 0 unused */

struct cat_device_stats {
	uint32_t index;
	char name[256];
	uint64_t phase_bytes[CAT_NPHASES];
	uint64_t chunks;
	uint64_t precopy_samples;
	struct migstream_precopy_info last_sample;
	/* the DEVICE_END's totals: in a channel, the whole device's (the set's) */
	bool ended;
	struct migstream_device_end end;
};

struct cat_summary {
	uint64_t records;
	uint64_t stream_bytes;
	uint64_t raw_bytes;    /* payloads, decompressed */
	uint64_t stored_bytes; /* payloads as stored */
	uint64_t compressed_records;
	uint64_t data_bytes;
	uint64_t precopy_samples;
	uint64_t bitmaps;
	uint64_t bitmap_pages;
	uint64_t dirty_pages;
	uint64_t skipped_records; /* unknown ancillary */
	uint64_t init_data_sent;
	/* a reply stream (reply.h): its acks and its LOAD_RESULT */
	bool is_reply;
	uint64_t switchover_acks;
	bool have_result;
	struct migstream_load_result result;
	bool is_channel; /* one channel of a set: its CHANNEL record */
	struct migstream_channel channel;
	struct cat_device_stats dev[CAT_SUMMARY_MAX_DEVICES];
	size_t ndev;
};

void cat_summary_init(struct cat_summary *s);
/* A record as the reader handed it out (decoded). */
void cat_summary_add(struct cat_summary *s, const struct migstream_record *rec);
void cat_summary_print_text(FILE *out, const struct cat_summary *s, const char *name);
/*
 * One line on what a channel holds: "channel 1 of 2, set <hex>: device 0
 * 13 of 25 chunks, 53248 of 100000 bytes; ..." (--verify says it).
 */
void cat_summary_channel_line(char *buf, size_t len, const struct cat_summary *s);
/* 0 or -errno. */
int cat_summary_print_json(FILE *out, const struct cat_summary *s, const char *name);

#endif
