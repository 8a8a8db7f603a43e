// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A TCP relay that breaks on purpose, for the socket transport's fault
 * tests (tests/cli/net-listener.bats): it accepts one connection on
 * 127.0.0.1:LISTEN_PORT, connects it to 127.0.0.1:TARGET_PORT and passes
 * the bytes both ways, until the one towards the target has carried
 * CUT_AFTER bytes: then it resets both connections (SO_LINGER 0, as a
 * crashed host or a firewall does) and exits 0. Each further connection
 * is relayed the same way, one at a time.
 *
 * Usage: net-relay LISTEN_PORT TARGET_PORT CUT_AFTER
 * It prints "listening" on standard output once it listens.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int tcp_socket(int port, int do_listen)
{
	struct sockaddr_in in = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (do_listen ? bind(fd, (struct sockaddr *)&in, sizeof(in)) < 0 || listen(fd, 8) < 0
		      : connect(fd, (struct sockaddr *)&in, sizeof(in)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void reset(int fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

/* One relayed connection: 1 when it was cut, 0 when both ends closed first. */
static int relay(int a, int b, unsigned long long cut_after)
{
	unsigned long long forward = 0;
	char buf[65536];

	for (;;) {
		struct pollfd p[2] = { { .fd = a, .events = POLLIN },
				       { .fd = b, .events = POLLIN } };

		if (poll(p, 2, -1) < 0)
			return 0;
		for (int i = 0; i < 2; i++) {
			int from = i ? b : a, to = i ? a : b;
			size_t want = sizeof(buf);
			ssize_t n;

			if (!p[i].revents)
				continue;
			if (!i && cut_after - forward < want)
				want = (size_t)(cut_after - forward);
			n = want ? read(from, buf, want) : 0;
			if (n > 0 && write(to, buf, (size_t)n) != n)
				n = -1;
			if (n > 0 && !i)
				forward += (unsigned long long)n;
			if (!i && forward >= cut_after) {
				reset(a);
				reset(b);
				return 1;
			}
			if (n <= 0) {
				close(a);
				close(b);
				return 0;
			}
		}
	}
}

int main(int argc, char **argv)
{
	int lfd, a, b;

	if (argc != 4) {
		fprintf(stderr, "usage: net-relay LISTEN_PORT TARGET_PORT CUT_AFTER\n");
		return 2;
	}
	lfd = tcp_socket(atoi(argv[1]), 1);
	if (lfd < 0) {
		perror("net-relay: listen");
		return 1;
	}
	printf("listening\n");
	fflush(stdout);
	while ((a = accept(lfd, NULL, NULL)) >= 0) {
		b = tcp_socket(atoi(argv[2]), 0);
		if (b < 0) {
			reset(a);
			continue;
		}
		if (relay(a, b, strtoull(argv[3], NULL, 10)))
			return 0;
	}
	return 1;
}
