/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Where a load's stream comes from: standard input, a file or fd:N, read
 * by a migstream reader; or several -i, the channels of one set, read as
 * one stream by lib/stream/channel-set. A stop signal or another thread's
 * failure ends a blocked read.
 */
#ifndef VMT_LOAD_INPUT_H
#define VMT_LOAD_INPUT_H

#include <stdint.h>

#include "load.h"

/*
 * Opens the input: standard input, a file or fd:N; or several, the
 * channels of a set. 0, or -errno of the open with ld->input_name the
 * input that failed (a terminal on standard input is a usage error: exits).
 */
int load_open_input(struct load *ld);
/* The reader of the opened input, or the channel set. 0 or -errno (recorded). */
int load_start_input(struct load *ld);
/* The next record of the stream or the set into ld->rec: 1, 0 at its end, or -errno. */
int load_next_record(struct load *ld);
/* After load_next_record() failed with rc: records why, and returns -errno. */
int load_input_failed(struct load *ld, int rc);
/*
 * The record being handled, its payload buffer taken from the reader or
 * the channel set: the caller owns it (rec's pointers into it stay valid).
 * NULL when it cannot be taken.
 */
void *load_take_payload(struct load *ld);
/* Bytes read from the input or all channels so far. */
uint64_t load_input_bytes(const struct load *ld);
/* Records read from the input or all channels so far. */
uint64_t load_input_records(const struct load *ld);
/* Frees the reader or the set and closes what load_open_input() opened. */
/*
 * --listen, after the report: the replies written on channel 0 delivered
 * (a failure to is a warning: the outcome was told), the source's ends
 * awaited.
 */
void load_finish_input(struct load *ld);
/* --listen: a connection of the set broke (its error was the load's failure). */
bool load_input_broken(struct load *ld);
void load_close_input(struct load *ld);

#endif
