/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * migstream-cat over the socket transport (lib/net): an input ADDRESS is
 * listened on and the set that connects becomes the inputs (its
 * channels, by name, in channel order); -o ADDRESS is connected to and
 * becomes standard output, which --passthrough writes.
 */
#ifndef VMT_CAT_NET_H
#define VMT_CAT_NET_H

#include "cat.h"

/*
 * Before the mode runs: 0, or the exit code (said). o->inputs may be
 * replaced by the set's channels.
 */
int cat_net_start(struct cat_opts *o);
/* After it: the stream delivered and the connections ended; code, or the failure's. */
int cat_net_finish(const struct cat_opts *o, int code);
/* An input name net.c opened already: its fd (a dup, for cat_close_input), or -1. */
int cat_net_input_fd(const char *name);

#endif
