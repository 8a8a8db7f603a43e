/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Whole reads and writes on file descriptors: through short transfers and
 * EINTR, so callers see a complete transfer, end of file, or an error. And
 * pipes sized for them.
 */
#ifndef VMT_FDIO_H
#define VMT_FDIO_H

#include <stddef.h>
#include <sys/types.h>

/* All of buf, or -errno (-EIO when write() returns 0). */
int vmt_write_all(int fd, const void *buf, size_t len);

/* Fill buf unless end of file comes first: the bytes read, or -errno. */
ssize_t vmt_read_full(int fd, void *buf, size_t len);

/*
 * If fd is a pipe smaller than 1 MiB, try to make it 1 MiB (the default
 * unprivileged maximum): fewer, larger reads and writes. Failure only
 * costs speed, so nothing is returned.
 */
void vmt_grow_pipe(int fd);

#endif
