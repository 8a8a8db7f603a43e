// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * capture-relay: a man in the middle for QEMU's migration connections, so a
 * test holds the bytes every channel carried (the main channel and each
 * multifd channel) while the two QEMUs migrate as usual.
 *
 *   capture-relay --listen ADDR --connect ADDR --prefix PATH
 *                 [--connections N] [--ready FILE]
 *
 * ADDR is tcp:HOST:PORT or unix:PATH.  Each accepted connection (the n-th,
 * from 0) gets its own connection to --connect; what the client sends goes
 * on unchanged and into PATH.n, what comes back goes on unchanged and into
 * PATH.n.back (the return path, when QEMU has one).  After N connections
 * (default 1) it stops listening and exits 0 once all of them are closed in
 * both directions; 1 on an error.  --ready FILE is created once it listens.
 * Connections are numbered in accept order: which one is the main channel
 * is for the reader to tell (by its first bytes), as QEMU's destination does.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_CONNECTIONS 64

struct pump {
	int from, to, copy;
	const char *what; /* for messages: "PATH.n" */
	int failed;
};

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* One direction of one connection: copy until EOF, then pass the EOF on. */
static void *pump_run(void *arg)
{
	struct pump *p = arg;
	char buf[65536];
	ssize_t n;
	int ret;

	for (;;) {
		n = read(p->from, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			/* a peer that resets after the last byte ends the copy too */
			if (errno != ECONNRESET) {
				fprintf(stderr, "capture-relay: %s: read: %s\n", p->what,
					strerror(errno));
				p->failed = 1;
			}
			break;
		}
		if (n == 0)
			break;
		ret = write_all(p->copy, buf, (size_t)n);
		if (ret) {
			fprintf(stderr, "capture-relay: %s: write: %s\n", p->what, strerror(-ret));
			p->failed = 1;
			break;
		}
		/* the peer may be gone already: the capture still counts */
		if (write_all(p->to, buf, (size_t)n))
			break;
	}
	shutdown(p->to, SHUT_WR);
	return NULL;
}

/* Fills @ss from ADDR (tcp:HOST:PORT or unix:PATH); returns its length or -1. */
static socklen_t parse_addr(const char *addr, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (!strncmp(addr, "unix:", 5)) {
		struct sockaddr_un *un = (struct sockaddr_un *)ss;

		if (strlen(addr + 5) >= sizeof(un->sun_path))
			return 0;
		un->sun_family = AF_UNIX;
		strcpy(un->sun_path, addr + 5);
		return sizeof(*un);
	}
	if (!strncmp(addr, "tcp:", 4)) {
		struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM };
		struct addrinfo *ai;
		char host[256];
		const char *port = strrchr(addr + 4, ':');
		socklen_t len;

		if (!port || (size_t)(port - (addr + 4)) >= sizeof(host))
			return 0;
		memcpy(host, addr + 4, (size_t)(port - (addr + 4)));
		host[port - (addr + 4)] = '\0';
		if (getaddrinfo(host, port + 1, &hints, &ai))
			return 0;
		len = ai->ai_addrlen;
		memcpy(ss, ai->ai_addr, len);
		freeaddrinfo(ai);
		return len;
	}
	return 0;
}

static int listen_on(const char *addr)
{
	struct sockaddr_storage ss;
	socklen_t len = parse_addr(addr, &ss);
	int fd, one = 1;

	if (!len) {
		fprintf(stderr, "capture-relay: bad address '%s'\n", addr);
		return -1;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_UNIX)
		unlink(((struct sockaddr_un *)&ss)->sun_path);
	if (bind(fd, (struct sockaddr *)&ss, len) || listen(fd, MAX_CONNECTIONS)) {
		fprintf(stderr, "capture-relay: listen on %s: %s\n", addr, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int connect_to(const char *addr)
{
	struct sockaddr_storage ss;
	socklen_t len = parse_addr(addr, &ss);
	int fd;

	if (!len) {
		fprintf(stderr, "capture-relay: bad address '%s'\n", addr);
		return -1;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&ss, len)) {
		fprintf(stderr, "capture-relay: connect to %s: %s\n", addr, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int open_capture(const char *prefix, int n, const char *suffix, char **name)
{
	int fd;

	if (asprintf(name, "%s.%d%s", prefix, n, suffix) < 0)
		return -1;
	fd = open(*name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		fprintf(stderr, "capture-relay: %s: %s\n", *name, strerror(errno));
	return fd;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "connect", required_argument, NULL, 'c' },
		{ "prefix", required_argument, NULL, 'p' },
		{ "connections", required_argument, NULL, 'n' },
		{ "ready", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	const char *listen_addr = NULL, *connect_addr = NULL, *prefix = NULL, *ready = NULL;
	static struct pump pumps[MAX_CONNECTIONS][2];
	pthread_t threads[MAX_CONNECTIONS][2];
	int nconn = 1, lfd, i, j, c, failed = 0;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			listen_addr = optarg;
			break;
		case 'c':
			connect_addr = optarg;
			break;
		case 'p':
			prefix = optarg;
			break;
		case 'n':
			nconn = atoi(optarg);
			break;
		case 'r':
			ready = optarg;
			break;
		default:
			return 2;
		}
	}
	if (!listen_addr || !connect_addr || !prefix || optind != argc || nconn < 1 ||
	    nconn > MAX_CONNECTIONS) {
		fprintf(stderr, "Usage: capture-relay --listen ADDR --connect ADDR --prefix PATH"
				" [--connections N] [--ready FILE]\n");
		return 2;
	}
	lfd = listen_on(listen_addr);
	if (lfd < 0)
		return 1;
	if (ready) {
		int fd = open(ready, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

		if (fd < 0)
			return 1;
		close(fd);
	}
	for (i = 0; i < nconn; i++) {
		int client = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		int server = client < 0 ? -1 : connect_to(connect_addr);
		char *fwd_name, *back_name;

		if (client < 0 || server < 0) {
			if (client < 0)
				fprintf(stderr, "capture-relay: accept: %s\n", strerror(errno));
			return 1;
		}
		pumps[i][0] = (struct pump){ .from = client, .to = server };
		pumps[i][1] = (struct pump){ .from = server, .to = client };
		pumps[i][0].copy = open_capture(prefix, i, "", &fwd_name);
		pumps[i][1].copy = open_capture(prefix, i, ".back", &back_name);
		if (pumps[i][0].copy < 0 || pumps[i][1].copy < 0)
			return 1;
		pumps[i][0].what = fwd_name;
		pumps[i][1].what = back_name;
		for (j = 0; j < 2; j++)
			if (pthread_create(&threads[i][j], NULL, pump_run, &pumps[i][j])) {
				fprintf(stderr, "capture-relay: pthread_create failed\n");
				return 1;
			}
	}
	close(lfd);
	for (i = 0; i < nconn; i++)
		for (j = 0; j < 2; j++) {
			pthread_join(threads[i][j], NULL);
			failed |= pumps[i][j].failed;
			if (close(pumps[i][j].copy)) {
				fprintf(stderr, "capture-relay: %s: close: %s\n", pumps[i][j].what,
					strerror(errno));
				failed = 1;
			}
		}
	return failed;
}
