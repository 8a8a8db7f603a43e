// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The listener that admits one set; see listen-set.h.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/c.h"
#include "common/signals.h"
#include "common/thread-wait.h"
#include "common/timeutil.h"
#include "net/address.h"
#include "net/admission.h"
#include "net/listen-set.h"
#include "net/listener.h"
#include "net/pump.h"

/* Connections being admitted at once; more are refused at once. */
#define MAX_PENDING 32

struct vmt_net_listen_set {
	const char *address;
	struct vmt_net_address addr;
	struct vmt_net_opts opts;
	struct vmt_tls_creds *creds;
	int listen_fd;
	int stop_fd; /* eventfd: the acceptor's wake to end */
	pthread_t acceptor;
	bool acceptor_started;
	vmt_net_refused_fn refused;
	void *refused_ctx;

	pthread_mutex_t lock;
	pthread_cond_t changed;
	bool closing;
	unsigned int pending; /* admission threads running */
	int pending_fds[MAX_PENDING];
	struct vmt_net_set set;
	struct vmt_net_pump *pumps[MIGSTREAM_MAX_CHANNELS];
	int fds[MIGSTREAM_MAX_CHANNELS];
	char names[MIGSTREAM_MAX_CHANNELS][VMT_NET_HOST_MAX + 128];
};

struct admission {
	struct vmt_net_listen_set *s;
	int fd;
	int slot;
	uint64_t deadline;
};

static void refuse(struct vmt_net_listen_set *s, const char *peer, const char *why)
{
	if (s->refused)
		s->refused(s->refused_ctx, peer, why);
}

static void name_channel(struct vmt_net_listen_set *s, unsigned int k)
{
	if (s->set.count > 1)
		snprintf(s->names[k], sizeof(s->names[k]), "%s channel %u", s->address, k);
	else
		snprintf(s->names[k], sizeof(s->names[k]), "%s", s->address);
}

/* With s->lock held: f admitted as its channel, and its pump started. */
static int join_set(struct vmt_net_listen_set *s, struct vmt_net_conn *conn,
		    struct vmt_net_first *f, char *why, size_t whylen)
{
	int k = vmt_net_set_admit(&s->set, f, why, whylen);
	int ret;

	if (k < 0)
		return k;
	ret = vmt_net_pump_start(&s->pumps[k], conn,
				 k == 0 ? VMT_NET_PUMP_IN | VMT_NET_PUMP_OUT : VMT_NET_PUMP_IN,
				 f->bytes, f->len, &s->fds[k]);
	if (ret < 0) {
		s->set.taken[k] = false;
		s->set.admitted--;
		snprintf(why, whylen, "%s", strerror(-ret));
		return ret;
	}
	name_channel(s, (unsigned int)k);
	pthread_cond_broadcast(&s->changed);
	return 0;
}

static void admission_ended(struct admission *a)
{
	struct vmt_net_listen_set *s = a->s;

	pthread_mutex_lock(&s->lock);
	s->pending_fds[a->slot] = -1;
	s->pending--;
	pthread_cond_broadcast(&s->changed);
	pthread_mutex_unlock(&s->lock);
	free(a);
}

/* One connection: the handshake, its first records, then in or out. */
static void *admit(void *arg)
{
	struct admission *a = arg;
	struct vmt_net_listen_set *s = a->s;
	struct vmt_net_conn conn = { .fd = -1 };
	struct vmt_net_first first = { 0 };
	char why[512], peer[128];
	uint64_t now = vmt_monotonic_ns();
	int ret;

	ret = vmt_net_conn_start(&conn, a->fd, s->creds, NULL,
				 a->deadline > now ? a->deadline - now : 1, why, sizeof(why));
	/* named before the handshake: a peer refused by TLS is named too */
	snprintf(peer, sizeof(peer), "%s", conn.peer[0] ? conn.peer : "a peer");
	if (ret == 0)
		ret = vmt_net_read_first(&conn, a->deadline, &first, why, sizeof(why));
	if (ret == 0) {
		pthread_mutex_lock(&s->lock);
		ret = s->closing ? -ECANCELED : join_set(s, &conn, &first, why, sizeof(why));
		if (ret == -ECANCELED)
			snprintf(why, sizeof(why), "the listener is closing");
		pthread_mutex_unlock(&s->lock);
	}
	if (ret < 0) {
		refuse(s, peer, why);
		if (conn.fd >= 0)
			vmt_net_conn_close(&conn);
	}
	vmt_net_first_free(&first);
	admission_ended(a);
	return NULL;
}

/* A new connection gets a thread of its own, or is refused when too many are waiting. */
static void start_admission(struct vmt_net_listen_set *s, int fd)
{
	struct admission *a = calloc(1, sizeof(*a));
	pthread_t t;
	int slot = -1;

	pthread_mutex_lock(&s->lock);
	for (int i = 0; i < MAX_PENDING && a && slot < 0; i++)
		if (s->pending_fds[i] < 0)
			slot = i;
	if (slot >= 0) {
		s->pending_fds[slot] = fd;
		s->pending++;
	}
	pthread_mutex_unlock(&s->lock);
	if (slot < 0) {
		refuse(s, "a peer", "too many connections waiting to be admitted");
		close(fd);
		free(a);
		return;
	}
	*a = (struct admission){ .s = s,
				 .fd = fd,
				 .slot = slot,
				 .deadline = vmt_monotonic_ns() + s->opts.handshake_timeout_ns };
	if (vmt_thread_start(&t, admit, a) < 0) {
		close(fd);
		a->fd = -1;
		admission_ended(a);
		return;
	}
	pthread_detach(t);
}

static void *accept_loop(void *arg)
{
	struct vmt_net_listen_set *s = arg;

	for (;;) {
		struct pollfd fds[2] = {
			{ .fd = s->listen_fd, .events = POLLIN },
			{ .fd = s->stop_fd, .events = POLLIN },
		};
		int fd;

		if (poll(fds, 2, -1) < 0 && errno != EINTR)
			break;
		if (fds[1].revents)
			break;
		if (!fds[0].revents)
			continue;
		fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0)
			start_admission(s, fd);
	}
	return NULL;
}

int vmt_net_listen_set_open(struct vmt_net_listen_set **out, const char *address,
			    const struct vmt_net_opts *opts, vmt_net_refused_fn refused,
			    void *refused_ctx, char *err, size_t errlen)
{
	struct vmt_net_listen_set *s = calloc(1, sizeof(*s));
	char why[512];
	int ret;

	if (!s)
		return -ENOMEM;
	*s = (struct vmt_net_listen_set){ .address = address,
					  .opts = *opts,
					  .listen_fd = -1,
					  .refused = refused,
					  .refused_ctx = refused_ctx };
	pthread_mutex_init(&s->lock, NULL);
	vmt_cond_init_monotonic(&s->changed);
	for (unsigned int i = 0; i < MIGSTREAM_MAX_CHANNELS; i++)
		s->fds[i] = -1;
	for (unsigned int i = 0; i < MAX_PENDING; i++)
		s->pending_fds[i] = -1;
	s->stop_fd = eventfd(0, EFD_CLOEXEC);
	ret = s->stop_fd < 0 ? -errno : vmt_net_address_parse(address, &s->addr, why, sizeof(why));
	if (ret == 0)
		ret = vmt_net_creds_load(&s->creds, opts, VMT_TLS_SERVER, why, sizeof(why));
	if (ret == 0 && (s->listen_fd = vmt_net_listen(&s->addr, why, sizeof(why))) < 0)
		ret = s->listen_fd;
	if (ret == 0 && (ret = vmt_thread_start(&s->acceptor, accept_loop, s)) < 0)
		snprintf(why, sizeof(why), "%s", strerror(-ret));
	if (ret < 0) {
		snprintf(err, errlen, "%s: %s", address, why);
		vmt_net_listen_set_close(s);
		return ret;
	}
	s->acceptor_started = true;
	*out = s;
	return 0;
}

int vmt_net_listen_set_wait(struct vmt_net_listen_set *s, int (*stop)(void))
{
	int ret = 0;

	pthread_mutex_lock(&s->lock);
	while (!vmt_net_set_complete(&s->set)) {
		if (stop && stop()) {
			ret = -EINTR;
			break;
		}
		vmt_cond_wait_for(&s->changed, &s->lock, 100 * NSEC_PER_MSEC);
	}
	pthread_mutex_unlock(&s->lock);
	return ret;
}

unsigned int vmt_net_listen_set_count(const struct vmt_net_listen_set *s)
{
	return s->set.count;
}

int vmt_net_listen_set_fd(const struct vmt_net_listen_set *s, unsigned int channel)
{
	return s->fds[channel];
}

const char *vmt_net_listen_set_name(const struct vmt_net_listen_set *s, unsigned int channel)
{
	return s->names[channel];
}

int vmt_net_listen_set_error(struct vmt_net_listen_set *s, char *err, size_t errlen)
{
	char why[512];
	int ret;

	for (unsigned int i = 0; i < s->set.count; i++) {
		if (!s->pumps[i] || !(ret = vmt_net_pump_error(s->pumps[i], why, sizeof(why))))
			continue;
		snprintf(err, errlen, "%s (peer %s): %s", s->names[i],
			 vmt_net_pump_peer(s->pumps[i]), why);
		return ret;
	}
	return 0;
}

int vmt_net_listen_set_finish(struct vmt_net_listen_set *s, uint64_t timeout_ns, char *err,
			      size_t errlen)
{
	char why[512];
	int ret = 0;

	if (!s->pumps[0])
		return 0;
	shutdown(s->fds[0], SHUT_WR);
	if (!vmt_net_pump_wait(s->pumps[0], VMT_NET_PUMP_OUT, timeout_ns)) {
		snprintf(err, errlen, "%s (peer %s): the replies were not delivered within %.1f s",
			 s->names[0], vmt_net_pump_peer(s->pumps[0]), (double)timeout_ns / 1e9);
		ret = -ETIMEDOUT;
	} else if ((ret = vmt_net_pump_error(s->pumps[0], why, sizeof(why))) < 0) {
		snprintf(err, errlen, "%s (peer %s): %s", s->names[0],
			 vmt_net_pump_peer(s->pumps[0]), why);
	}
	/* The peer closes once it has read our replies: a clean end, not a reset. */
	for (unsigned int i = 0; i < s->set.count; i++)
		if (s->pumps[i])
			vmt_net_pump_wait(s->pumps[i], VMT_NET_PUMP_IN, ret ? 0 : timeout_ns);
	return ret;
}

/* Admissions in progress are cut short, and waited for. */
static void end_admissions(struct vmt_net_listen_set *s)
{
	pthread_mutex_lock(&s->lock);
	s->closing = true;
	while (s->pending) {
		for (unsigned int i = 0; i < MAX_PENDING; i++)
			if (s->pending_fds[i] >= 0)
				shutdown(s->pending_fds[i], SHUT_RDWR);
		vmt_cond_wait_for(&s->changed, &s->lock, 20 * NSEC_PER_MSEC);
	}
	pthread_mutex_unlock(&s->lock);
}

void vmt_net_listen_set_close(struct vmt_net_listen_set *s)
{
	if (!s)
		return;
	if (s->acceptor_started) {
		uint64_t one = 1;

		if (write(s->stop_fd, &one, sizeof(one)) < 0)
			pthread_cancel(s->acceptor);
		pthread_join(s->acceptor, NULL);
	}
	end_admissions(s);
	vmt_net_listen_close(s->listen_fd, &s->addr);
	for (unsigned int i = 0; i < MIGSTREAM_MAX_CHANNELS; i++) {
		vmt_net_pump_free(s->pumps[i]);
		if (s->fds[i] >= 0)
			close(s->fds[i]);
	}
	if (s->creds)
		vmt_tls_creds_free(s->creds);
	if (s->stop_fd >= 0)
		close(s->stop_fd);
	pthread_cond_destroy(&s->changed);
	pthread_mutex_destroy(&s->lock);
	free(s);
}
