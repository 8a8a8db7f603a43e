// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * migstream-cat's addresses; see net.h.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/exitcodes.h"
#include "common/log.h"
#include "common/signals.h"
#include "net/dial.h"
#include "net/listen-set.h"
#include "net.h"

static struct vmt_net_listen_set *listener;
static struct vmt_net_dial dial;
static const char *channel_names[MIGSTREAM_MAX_CHANNELS];

static void refused(void *ctx, const char *peer, const char *why)
{
	vmt_warn("%s: refused %s: %s", (const char *)ctx, peer, why);
}

static int listen_inputs(struct cat_opts *o)
{
	char err[1024];
	unsigned int n;

	if (vmt_net_listen_set_open(&listener, o->listen_address, &o->net, refused,
				    (void *)o->listen_address, err, sizeof(err)) < 0) {
		vmt_err("%s", err);
		return VMT_EXIT_FAILURE;
	}
	vmt_info("%s: listening", o->listen_address);
	if (vmt_net_listen_set_wait(listener, vmt_stop_signal) < 0) {
		vmt_err("%s: interrupted by %s", o->listen_address, vmt_stop_signal_name());
		return VMT_EXIT_FAILURE;
	}
	n = vmt_net_listen_set_count(listener);
	for (unsigned int i = 0; i < n; i++)
		channel_names[i] = vmt_net_listen_set_name(listener, i);
	o->inputs = channel_names;
	o->ninputs = (int)n;
	return 0;
}

static int connect_output(const struct cat_opts *o)
{
	char err[1024];

	if (vmt_net_dial(&dial, o->connect_address, 1, &o->net, vmt_stop_signal, err, sizeof(err)) <
	    0) {
		vmt_err("%s", err);
		return VMT_EXIT_FAILURE;
	}
	if (dup2(dial.fds[0], STDOUT_FILENO) < 0) {
		vmt_err("%s: %s", o->connect_address, strerror(errno));
		return VMT_EXIT_FAILURE;
	}
	return 0;
}

int cat_net_start(struct cat_opts *o)
{
	if (o->listen_address)
		return listen_inputs(o);
	if (o->connect_address)
		return connect_output(o);
	return 0;
}

int cat_net_input_fd(const char *name)
{
	for (unsigned int i = 0; listener && i < vmt_net_listen_set_count(listener); i++)
		if (name == channel_names[i])
			return dup(vmt_net_listen_set_fd(listener, i));
	return -1;
}

int cat_net_finish(const struct cat_opts *o, int code)
{
	char err[1024];

	if (listener) {
		/* a set's source that waits for a load's word gets none: we end our side */
		vmt_net_listen_set_finish(listener, o->net.handshake_timeout_ns, err, sizeof(err));
		vmt_net_listen_set_close(listener);
		listener = NULL;
	}
	if (!o->connect_address)
		return code;
	/* The stream's end (dial_finish shuts the connection down for writing): the load reads it, answers on the return path and closes. */
	fflush(stdout);
	if (vmt_net_dial_finish(&dial, o->net.handshake_timeout_ns + 50ull * 1000000000, err,
				sizeof(err)) < 0 &&
	    code == VMT_EXIT_OK) {
		vmt_err("%s: %s", o->connect_address, err);
		code = VMT_EXIT_FAILURE;
	}
	vmt_net_dial_free(&dial);
	return code;
}
