// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Whole reads and writes.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fdio.h"

int vmt_write_all(int fd, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		/* No progress and no error: do not spin on it. */
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

ssize_t vmt_read_full(int fd, void *buf, size_t len)
{
	unsigned char *p = buf;
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, p + got, len - got);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

void vmt_grow_pipe(int fd)
{
	struct stat st;

	/*
	 * A 64 KiB pipe makes a 1 MiB chunk cost 16 wake-ups on each side;
	 * 1 MiB makes it one.
	 */
	if (fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode) && fcntl(fd, F_GETPIPE_SZ) < (1 << 20))
		(void)fcntl(fd, F_SETPIPE_SZ, 1 << 20);
}
