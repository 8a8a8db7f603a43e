// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * bench-relay RATE: copies stdin to stdout at no more than RATE bytes per
 * second (K, M, G: powers of 1024, as the simulator's read-rate=), the
 * stand-in for one network link in bench/parallel's channel benchmark.
 *
 * bench-relay RATE --listen PORT --to PORT [--connections N]: the same link
 * between sockets, for bench/net: on 127.0.0.1:PORT it accepts N
 * connections and gives each its own relay to 127.0.0.1:TO, one link per
 * connection, so that a save's N channels to one address cross N links.
 * Only what the connecting side sends is paced (the stream); the way back
 * (TLS handshakes, the replies of the return path) goes unpaced, as on a
 * link whose bandwidth is the same both ways and the way back carries
 * next to nothing. Each end's close is passed on as a half-close, so the
 * way back outlives the stream.
 *
 * The copy is splice() when one end is a pipe (no bytes through user
 * space: the relay must not be what limits a channel below its rate), else
 * read()/write(). Pacing is a token bucket kept as its theoretical arrival
 * time: after n bytes the clock owes n / RATE seconds; the relay sleeps
 * when it is ahead by more than one bucket (20 ms of transfer, at least
 * 64K), so it never runs faster than RATE over any stretch longer than that.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/c.h"
#include "common/strutils.h"

#define CHUNK (1u << 20)

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint64_t bytes_ns(uint64_t bytes, uint64_t rate)
{
	return (uint64_t)((unsigned __int128)bytes * 1000000000ULL / rate);
}

struct pacer {
	uint64_t rate, burst_ns, tat;
};

/* n bytes went: sleep while more than one bucket ahead of the rate */
static void pace(struct pacer *p, uint64_t n)
{
	uint64_t now = now_ns();

	if (p->tat < now)
		p->tat = now;
	p->tat += bytes_ns(n, p->rate);
	if (p->tat > now + p->burst_ns) {
		uint64_t ns = p->tat - now - p->burst_ns;
		struct timespec ts = { .tv_sec = (time_t)(ns / 1000000000ULL),
				       .tv_nsec = (long)(ns % 1000000000ULL) };

		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
	}
}

/* one step: bytes moved, 0 at the end, -errno; *use_splice off when it cannot */
static ssize_t move(int in, int out, size_t want, bool *use_splice, char *buf)
{
	ssize_t n, done = 0;

	if (*use_splice) {
		n = splice(in, NULL, out, NULL, want, SPLICE_F_MOVE);
		if (n >= 0)
			return n;
		if (errno == EINTR)
			return move(in, out, want, use_splice, buf);
		if (errno != EINVAL && errno != ENOSYS)
			return -errno;
		*use_splice = false; /* neither end a pipe, or a file system without it */
	}
	do {
		n = read(in, buf, want);
	} while (n < 0 && errno == EINTR);
	if (n <= 0)
		return n < 0 ? -errno : 0;
	while (done < n) {
		ssize_t w = write(out, buf + done, (size_t)(n - done));

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		done += w;
	}
	return n;
}

static bool is_socket(int fd)
{
	struct stat st;

	return !fstat(fd, &st) && S_ISSOCK(st.st_mode);
}

/*
 * move() between two sockets: splice() needs a pipe at one end, so the
 * bytes go through a pipe of our own, and still not through user space.
 */
static ssize_t move_via_pipe(int in, int out, size_t want, const int via[2])
{
	ssize_t n, done = 0;

	do {
		n = splice(in, NULL, via[1], NULL, want, SPLICE_F_MOVE);
	} while (n < 0 && errno == EINTR);
	if (n <= 0)
		return n < 0 ? -errno : 0;
	while (done < n) {
		ssize_t w = splice(via[0], NULL, out, NULL, (size_t)(n - done), SPLICE_F_MOVE);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		done += w;
	}
	return n;
}

/* in to out until in's end, at no more than rate (0: as fast as it goes) */
static int relay_copy(int in, int out, uint64_t rate)
{
	struct pacer p = { .rate = rate };
	bool use_splice = true;
	uint64_t burst = CHUNK;
	char *buf = malloc(CHUNK);
	int via[2] = { -1, -1 }, ret = 0;

	if (!buf)
		return -ENOMEM;
	if (is_socket(in) && is_socket(out) && !pipe2(via, O_CLOEXEC))
		fcntl(via[1], F_SETPIPE_SZ, CHUNK);
	if (rate) {
		burst = rate / 50 < (64u << 10) ? 64u << 10 : rate / 50;
		p.burst_ns = bytes_ns(burst, rate);
	}
	/* bigger pipes: fewer, larger splices (best effort) */
	fcntl(in, F_SETPIPE_SZ, CHUNK);
	fcntl(out, F_SETPIPE_SZ, CHUNK);
	for (;;) {
		size_t want = burst < CHUNK ? (size_t)burst : CHUNK;
		ssize_t n = via[0] >= 0 ? move_via_pipe(in, out, want, via)
					: move(in, out, want, &use_splice, buf);

		if (n <= 0) {
			ret = (int)n;
			break;
		}
		if (rate)
			pace(&p, (uint64_t)n);
	}
	if (via[0] >= 0) {
		close(via[0]);
		close(via[1]);
	}
	free(buf);
	return ret;
}

static struct sockaddr_in loopback(uint16_t port)
{
	return (struct sockaddr_in){ .sin_family = AF_INET,
				     .sin_port = htons(port),
				     .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
}

/* a socket connected to 127.0.0.1:port, retried for 10 s while refused */
static int connect_upstream(uint16_t port)
{
	struct sockaddr_in to = loopback(port);
	int tries, fd, err;

	for (tries = 0; tries < 100; tries++) {
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		if (!connect(fd, (struct sockaddr *)&to, sizeof(to)))
			return fd;
		err = errno;
		close(fd);
		if (err != ECONNREFUSED)
			return -err;
		usleep(100000);
	}
	return -ECONNREFUSED;
}

/* one direction in a process of its own; its end passed on as a half-close */
static pid_t spawn_copy(int in, int out, uint64_t rate)
{
	pid_t pid = fork();
	int ret;

	if (pid)
		return pid;
	ret = relay_copy(in, out, rate);
	if (ret < 0) {
		fprintf(stderr, "bench-relay: %s: %s\n", rate ? "the stream" : "the way back",
			strerror(-ret));
		_exit(1);
	}
	shutdown(out, SHUT_WR);
	_exit(0);
}

static bool wait_ok(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return false;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* one link: client -> upstream paced, upstream -> client not; 0 or 1 */
static int relay_connection(int client, uint16_t to_port, uint64_t rate)
{
	int upstream = connect_upstream(to_port);
	pid_t back, forth;
	bool ok;

	if (upstream < 0) {
		fprintf(stderr, "bench-relay: connecting to 127.0.0.1:%u: %s\n", to_port,
			strerror(-upstream));
		return 1;
	}
	back = spawn_copy(upstream, client, 0);
	forth = spawn_copy(client, upstream, rate);
	if (back < 0 || forth < 0)
		return 1;
	ok = wait_ok(forth);
	ok = wait_ok(back) && ok;
	return ok ? 0 : 1;
}

/* --listen: n connections accepted, each relayed by a process of its own */
static int relay_sockets(uint16_t port, uint16_t to_port, unsigned int n, uint64_t rate)
{
	struct sockaddr_in at = loopback(port);
	pid_t *links = calloc(n, sizeof(*links));
	int one = 1, fd, failed = 0;
	unsigned int i;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (!links || fd < 0)
		return 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&at, sizeof(at)) || listen(fd, (int)n)) {
		fprintf(stderr, "bench-relay: 127.0.0.1:%u: %s\n", port, strerror(errno));
		return 1;
	}
	/* a closed peer is an error of write(), not a silent death */
	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < n; i++) {
		int client = accept4(fd, NULL, NULL, SOCK_CLOEXEC);

		if (client < 0) {
			fprintf(stderr, "bench-relay: accept: %s\n", strerror(errno));
			return 1;
		}
		links[i] = fork();
		if (!links[i]) {
			close(fd);
			_exit(relay_connection(client, to_port, rate));
		}
		close(client);
	}
	close(fd);
	for (i = 0; i < n; i++)
		failed += links[i] < 0 || !wait_ok(links[i]);
	free(links);
	return failed ? 1 : 0;
}

VMT_NORETURN static void usage(const char *name)
{
	fprintf(stderr,
		"usage: %s RATE    (bytes/s, K/M/G suffixes; stdin to stdout)\n"
		"       %s RATE --listen PORT --to PORT [--connections N]\n",
		name, name);
	exit(2);
}

static uint16_t port_or_usage(const char *s, const char *name)
{
	uint64_t port;

	if (!s || vmt_parse_u64(s, 1, 65535, &port))
		usage(name);
	return (uint16_t)port;
}

int main(int argc, char **argv)
{
	uint16_t port = 0, to_port = 0;
	uint64_t rate, n = 1;
	int i, ret;

	if (argc < 2 || vmt_parse_size(argv[1], &rate) || !rate)
		usage(argv[0]);
	for (i = 2; i < argc; i += 2) {
		if (!strcmp(argv[i], "--listen"))
			port = port_or_usage(argv[i + 1], argv[0]);
		else if (!strcmp(argv[i], "--to"))
			to_port = port_or_usage(argv[i + 1], argv[0]);
		else if (!strcmp(argv[i], "--connections") && argv[i + 1] &&
			 !vmt_parse_u64(argv[i + 1], 1, 1024, &n))
			;
		else
			usage(argv[0]);
	}
	if (port || to_port) {
		if (!port || !to_port)
			usage(argv[0]);
		return relay_sockets(port, to_port, (unsigned int)n, rate);
	}
	ret = relay_copy(STDIN_FILENO, STDOUT_FILENO, rate);
	if (ret < 0) {
		fprintf(stderr, "%s: %s\n", argv[0], strerror(-ret));
		return 1;
	}
	return 0;
}
