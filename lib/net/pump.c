// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The pumps between connections and socketpairs; see pump.h.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/c.h"
#include "common/fdio.h"
#include "common/signals.h"
#include "common/thread-wait.h"
#include "common/timeutil.h"
#include "net/pump.h"

/* Bytes per read or send: a few TLS records' worth. */
#define PUMP_BUF (256u << 10)
/* The socketpair's buffers: room for a few chunks, so the pair is not the bottleneck. */
#define PAIR_BUF (4 << 20)

struct vmt_net_pump {
	struct vmt_net_conn conn;
	int tool_fd; /* the pair's end the tool was given (for its error only) */
	int pair_fd; /* the pumps' end */
	uint8_t *prefix;
	size_t prefix_len;
	pthread_t out_thread, in_thread;
	bool out_started, in_started;
	pthread_mutex_t lock;
	pthread_cond_t ended;
	unsigned int running; /* the directions still running (enum vmt_net_pump_dirs) */
	bool quiet;	      /* aborted on purpose: what fails from then on is not a failure */
	int err;	      /* the first failure */
	char why[256];
	_Atomic uint64_t bytes_out;
};

/* The first failure is the one to tell; the connection is dead both ways. */
VMT_PRINTF(3, 4)
static void pump_failed(struct vmt_net_pump *p, int err, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&p->lock);
	if (!p->err && !p->quiet) {
		p->err = err;
		va_start(ap, fmt);
		vsnprintf(p->why, sizeof(p->why), fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&p->lock);
	shutdown(p->pair_fd, SHUT_RDWR);
	vmt_net_conn_abort(&p->conn);
}

/* What is left is not wanted (the peer's tail after our work is done): no error to tell. */
static void abort_quietly(struct vmt_net_pump *p)
{
	pthread_mutex_lock(&p->lock);
	p->quiet = true;
	pthread_mutex_unlock(&p->lock);
	vmt_net_conn_abort(&p->conn);
	shutdown(p->pair_fd, SHUT_RDWR);
}

static void direction_ended(struct vmt_net_pump *p, unsigned int dir)
{
	pthread_mutex_lock(&p->lock);
	p->running &= ~dir;
	pthread_cond_broadcast(&p->ended);
	pthread_mutex_unlock(&p->lock);
}

static int send_all(struct vmt_net_pump *p, const uint8_t *buf, size_t len)
{
	while (len) {
		ssize_t n = vmt_net_conn_send(&p->conn, buf, len);

		if (n == -EINTR || n == -EAGAIN)
			continue;
		if (n < 0)
			return (int)n;
		buf += n;
		len -= (size_t)n;
		atomic_fetch_add(&p->bytes_out, (uint64_t)n);
	}
	return 0;
}

/* Tool -> connection, until the tool's end of stream, which becomes the connection's. */
static void *pump_out(void *arg)
{
	struct vmt_net_pump *p = arg;
	uint8_t *buf = malloc(PUMP_BUF);
	ssize_t n;
	int ret = buf ? 0 : -ENOMEM;

	while (ret == 0) {
		n = read(p->pair_fd, buf, PUMP_BUF);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = n < 0 ? -errno : vmt_net_conn_shutdown_write(&p->conn);
			if (ret < 0)
				pump_failed(p, ret, "ending the stream: %s",
					    vmt_net_conn_error(&p->conn, ret));
			break;
		}
		ret = send_all(p, buf, (size_t)n);
		if (ret < 0)
			pump_failed(p, ret, "sending: %s", vmt_net_conn_error(&p->conn, ret));
	}
	free(buf);
	direction_ended(p, VMT_NET_PUMP_OUT);
	return NULL;
}

/* Connection -> tool: the admission's bytes first, then the connection's until its end. */
static void *pump_in(void *arg)
{
	struct vmt_net_pump *p = arg;
	uint8_t *buf = malloc(PUMP_BUF);
	int ret = buf ? 0 : -ENOMEM;
	ssize_t n;

	if (ret == 0 && p->prefix_len)
		ret = vmt_write_all(p->pair_fd, p->prefix, p->prefix_len);
	while (ret == 0) {
		n = vmt_net_conn_recv(&p->conn, buf, PUMP_BUF);
		if (n == -EINTR || n == -EAGAIN)
			continue;
		if (n < 0) {
			pump_failed(p, (int)n, "receiving: %s",
				    vmt_net_conn_error(&p->conn, (int)n));
			break;
		}
		if (n == 0) {
			shutdown(p->pair_fd, SHUT_WR);
			break;
		}
		ret = vmt_write_all(p->pair_fd, buf, (size_t)n);
	}
	/* The tool closed its end: what it has not read is not wanted. */
	if (ret < 0 && ret != -EPIPE)
		pump_failed(p, ret, "passing on what was received: %s", strerror(-ret));
	free(buf);
	direction_ended(p, VMT_NET_PUMP_IN);
	return NULL;
}

static int make_pair(struct vmt_net_pump *p, int *local_fd)
{
	int sv[2], size = PAIR_BUF;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	for (int i = 0; i < 2; i++) {
		setsockopt(sv[i], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
		setsockopt(sv[i], SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	}
	p->tool_fd = *local_fd = sv[0];
	p->pair_fd = sv[1];
	return 0;
}

static int start_direction(struct vmt_net_pump *p, unsigned int dir, pthread_t *t, bool *started,
			   void *(*fn)(void *))
{
	int ret;

	pthread_mutex_lock(&p->lock);
	p->running |= dir;
	pthread_mutex_unlock(&p->lock);
	ret = vmt_thread_start(t, fn, p);
	if (ret < 0) {
		direction_ended(p, dir);
		return ret;
	}
	*started = true;
	return 0;
}

int vmt_net_pump_start(struct vmt_net_pump **out, struct vmt_net_conn *conn, unsigned int dirs,
		       const void *prefix, size_t prefix_len, int *local_fd)
{
	struct vmt_net_pump *p = calloc(1, sizeof(*p));
	int ret;

	if (!p)
		return -ENOMEM;
	p->conn = *conn;
	*conn = (struct vmt_net_conn){ .fd = -1 };
	p->pair_fd = p->tool_fd = -1;
	pthread_mutex_init(&p->lock, NULL);
	vmt_cond_init_monotonic(&p->ended);
	if (prefix_len) {
		p->prefix = malloc(prefix_len);
		if (!p->prefix) {
			vmt_net_pump_free(p);
			return -ENOMEM;
		}
		memcpy(p->prefix, prefix, prefix_len);
		p->prefix_len = prefix_len;
	}
	ret = make_pair(p, local_fd);
	if (ret == 0 && (dirs & VMT_NET_PUMP_OUT))
		ret = start_direction(p, VMT_NET_PUMP_OUT, &p->out_thread, &p->out_started,
				      pump_out);
	if (ret == 0 && (dirs & VMT_NET_PUMP_IN))
		ret = start_direction(p, VMT_NET_PUMP_IN, &p->in_thread, &p->in_started, pump_in);
	if (ret < 0) {
		if (*local_fd >= 0)
			close(*local_fd);
		*local_fd = -1;
		vmt_net_pump_free(p);
		return ret;
	}
	*out = p;
	return 0;
}

int vmt_net_pump_error(struct vmt_net_pump *p, char *err, size_t errlen)
{
	int ret;

	pthread_mutex_lock(&p->lock);
	ret = p->err;
	if (ret && err)
		snprintf(err, errlen, "%s", p->why);
	pthread_mutex_unlock(&p->lock);
	return ret;
}

bool vmt_net_pump_wait(struct vmt_net_pump *p, unsigned int dirs, uint64_t timeout_ns)
{
	uint64_t deadline = vmt_monotonic_ns() + timeout_ns;
	bool ended;

	pthread_mutex_lock(&p->lock);
	while ((p->running & dirs) && vmt_monotonic_ns() < deadline)
		vmt_cond_wait_until(&p->ended, &p->lock, deadline);
	ended = !(p->running & dirs);
	pthread_mutex_unlock(&p->lock);
	return ended;
}

int vmt_net_pump_stop(struct vmt_net_pump *p, char *err, size_t errlen)
{
	bool running;

	pthread_mutex_lock(&p->lock);
	running = p->running != 0;
	pthread_mutex_unlock(&p->lock);
	if (running)
		abort_quietly(p);
	if (p->out_started)
		pthread_join(p->out_thread, NULL);
	if (p->in_started)
		pthread_join(p->in_thread, NULL);
	p->out_started = p->in_started = false;
	return vmt_net_pump_error(p, err, errlen);
}

int vmt_net_pump_finish(struct vmt_net_pump *p, uint64_t timeout_ns, char *err, size_t errlen)
{
	if (!vmt_net_pump_wait(p, VMT_NET_PUMP_OUT | VMT_NET_PUMP_IN, timeout_ns))
		pump_failed(p, -ETIMEDOUT, "the peer did not end the connection within %.1f s",
			    (double)timeout_ns / 1e9);
	return vmt_net_pump_stop(p, err, errlen);
}

const char *vmt_net_pump_peer(const struct vmt_net_pump *p)
{
	return p->conn.peer;
}

uint64_t vmt_net_pump_bytes_out(const struct vmt_net_pump *p)
{
	return atomic_load(&((struct vmt_net_pump *)p)->bytes_out);
}

void vmt_net_pump_free(struct vmt_net_pump *p)
{
	if (!p)
		return;
	if (p->out_started || p->in_started)
		vmt_net_pump_stop(p, NULL, 0);
	vmt_net_conn_close(&p->conn);
	if (p->pair_fd >= 0)
		close(p->pair_fd);
	free(p->prefix);
	pthread_cond_destroy(&p->ended);
	pthread_mutex_destroy(&p->lock);
	free(p);
}
