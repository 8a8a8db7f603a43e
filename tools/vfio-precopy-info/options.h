/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vfio-precopy-info's command line. The strings stay valid until
 * precopy_options_free() (lib/common/cli owns them).
 */
#ifndef VMT_PRECOPY_OPTIONS_H
#define VMT_PRECOPY_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

struct precopy_options {
	const char *device;
	bool force_group;
	bool watch;
	uint64_t interval_ns;
	uint64_t count;	      /* 0: until --duration or a signal */
	uint64_t duration_ns; /* 0: no limit */
	bool drain;
	const char *output; /* -o: drained data + info as a stream; "-": stdout */
	bool stream;	    /* info records as a stream on stdout */
	bool json;
	bool no_precopy;
	bool precopy_asked; /* pre-copy figures asked for: exit 3 without PRE_COPY */
	double bandwidth;   /* 0: no estimate */
	uint64_t downtime_ns;
	int zstd_level;
	bool force;
	const char *events_file; /* --events */
};

/* Parses argv, or exits with a usage error (2), --help or --version (0). */
void precopy_options_parse(struct precopy_options *o, int argc, const char **argv);
void precopy_options_free(struct precopy_options *o);

/* Whether a stream goes to stdout (--stream, -o -): the report then goes to stderr. */
bool precopy_options_stream_on_stdout(const struct precopy_options *o);

#endif
