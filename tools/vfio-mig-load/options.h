/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The command line of vfio-mig-load: which target receives which stream
 * device, where the stream comes from and what to do after loading.
 */
#ifndef VMT_LOAD_OPTIONS_H
#define VMT_LOAD_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

#include "net/conn.h"

/* --queue-size's default: chunks waiting for one device's writer, in bytes. */
#define LOAD_QUEUE_DEFAULT (64ull << 20)

/* The strings point into lib/common/cli's arguments, valid until load_options_free(). */
struct load_mapping {
	uint32_t index;	  /* stream device index */
	const char *spec; /* target device as given */
};

struct load_options {
	/*
	 * -i, in the order given: a file, fd:N or "-" (standard input). Several
	 * are the channels of one set, read as one stream; none: standard input.
	 */
	const char **inputs;
	unsigned int input_count;
	/* --listen ADDRESS (or -i ADDRESS): the only input; the set that connects */
	const char *address;
	struct vmt_net_opts net;
	const char *summary_file; /* the JSON summary, also after a failure */
	const char *events_file;  /* --events */
	bool syslog;		  /* --syslog: the outcome to the journal */
	struct load_mapping *map;
	unsigned int map_count;
	uint32_t then_state;	/* VFIO_DEVICE_STATE_RUNNING or _STOP */
	uint64_t reorder_limit; /* bytes */
	uint64_t queue_limit;	/* --queue-size: bytes each device's writer queue holds */
	int return_fd;		/* --return-fd: replies to the source, or -1 */
	bool force;
	bool group; /* legacy group/container path */
	bool json;
	bool progress;
	bool dry_run; /* --dry-run: compatibility only, no device touched */
};

/* Parses argv; usage errors exit 2, --help and --version exit 0. */
void load_options_parse(struct load_options *o, int argc, const char **argv);
/* Frees o and the command line's arguments its strings point into. */
void load_options_free(struct load_options *o);

#endif
