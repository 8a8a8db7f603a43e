/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * migstream-cat: what every mode module sees of the command line.
 */
#ifndef VMT_CAT_H
#define VMT_CAT_H

#include <stdbool.h>
#include <stdint.h>

#include "fields.h"
#include "net/conn.h"

enum cat_mode {
	CAT_MODE_LIST,	      /* default: listing and summary on stdout */
	CAT_MODE_VERIFY,      /* exit status only */
	CAT_MODE_PASSTHROUGH, /* stream to stdout, listing to stderr */
	CAT_MODE_EXTRACT,     /* one device's raw bytes to stdout */
	CAT_MODE_WRAP,	      /* raw bytes in, a one-device stream out */
	CAT_MODE_RECOMPRESS,  /* a stream in, the same stream re-encoded out */
	CAT_MODE_MERGE,	      /* the channels of a set in, one whole stream out */
	CAT_MODE_SPLIT,	      /* one stream in, the channels of a new set out */
	CAT_MODE_FROM_QEMU,   /* QEMU's stream (and multifd channels) in, a migstream out */
};

struct cat_opts {
	enum cat_mode mode;
	bool json;
	bool dirty; /* show only DIRTY_BITMAP records and their page ranges */
	bool force;
	bool progress; /* asked for with --progress */
	bool quiet;
	/* Columns of the listing, in order (-o); ncolumns == 0: defaults. */
	enum cat_column columns[CAT_NCOLUMNS];
	int ncolumns;

	/* --extract: a device index, or (extract_name set) the name its DEVICE record gives */
	uint32_t extract_device;
	const char *extract_name;

	/* --wrap */
	const char *wrap_name;
	const char *wrap_driver;
	uint64_t wrap_mig_flags;
	uint8_t wrap_phase;
	uint32_t chunk_size;
	int zstd_level; /* output compression for --wrap and --recompress; 0: none */

	const char *const *inputs;
	int ninputs;

	/*
	 * An input ADDRESS (listened on: its set's channels become the
	 * inputs) or -o ADDRESS (connected to: the stream goes there, as
	 * --passthrough writes it); net.c
	 */
	const char *listen_address;
	const char *connect_address;
	struct vmt_net_opts net;

	/* --merge and --split: the -o arguments are output files */
	const char *const *outputs;
	int noutputs;
	unsigned int split_channels;
	uint64_t reorder_limit; /* --reorder-buffer; 0: the library's default */
};

#endif
