/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vfio-mig-save's command line: the devices, the outputs, and the save
 * engine's own options (struct save_opts, save.h), checked for
 * combinations that make no sense before any device is opened.
 */
#ifndef VMT_SAVE_OPTIONS_H
#define VMT_SAVE_OPTIONS_H

#include <stdbool.h>

#include "net/conn.h"
#include "stream/migstream.h"
#include "save.h"

#define SAVE_MAX_DEVICES 64

/* The strings point into lib/common/cli's arguments, valid until save_options_free(). */
struct save_options {
	const char *devices[SAVE_MAX_DEVICES];
	unsigned int ndevices;
	const char *outputs[MIGSTREAM_MAX_CHANNELS]; /* none: standard output */
	unsigned int noutputs;
	/* -o ADDRESS: the only output; --channels connections to it, one set */
	const char *address;
	unsigned int channels;
	struct vmt_net_opts net;
	const char *summary_file;
	const char *events_file; /* --events */
	bool syslog;		 /* --syslog: the outcome to the journal */
	bool force, group, json, progress;
	int zstd_level;
	struct save_opts save; /* what the engine is given */
};

/* Parses argv; usage errors exit 2, --help and --version exit 0. */
void save_options_parse(struct save_options *o, int argc, const char **argv);
/* Frees the command line's arguments o's strings point into. */
void save_options_free(struct save_options *o);

#endif
