// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * --wrap: raw device state into a stream, one chunk in memory at a time.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/closestream.h"
#include "common/exitcodes.h"
#include "common/fdio.h"
#include "common/log.h"
#include "common/progress.h"
#include "stream/writer.h"
#include "convert.h"
#include "output.h"
#include "scan.h"

/* VFIO_MIGRATION_STOP_COPY: the least a migratable device offers. */
#define WRAP_DEFAULT_MIG_FLAGS 1

static void describe_device(const struct cat_opts *o, int fd, const char *name,
			    struct migstream_device *dev)
{
	struct stat st;

	memset(dev, 0, sizeof(*dev));
	dev->index = 0;
	dev->mig_flags = o->wrap_mig_flags ? o->wrap_mig_flags : WRAP_DEFAULT_MIG_FLAGS;
	/* A file's size is exactly the state size; a pipe's is not known. */
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
		dev->stop_copy_size = (uint64_t)st.st_size;
	else
		dev->stop_copy_size = MIGSTREAM_SIZE_UNKNOWN;
	snprintf(dev->name, sizeof(dev->name), "%s", o->wrap_name ? o->wrap_name : name);
	snprintf(dev->driver, sizeof(dev->driver), "%s", o->wrap_driver ? o->wrap_driver : "");
}

int cat_wrap(const struct cat_opts *o)
{
	static struct migstream_device dev; /* 4 KiB of name: not on the stack */
	struct migstream_writer_opts wopts = {
		.producer = "migstream-cat",
		.zstd_level = o->zstd_level,
		.chunk_size = o->chunk_size,
	};
	struct migstream_writer *w = NULL;
	struct vmt_progress prog;
	uint32_t chunk = o->chunk_size ? o->chunk_size : MIGSTREAM_DEFAULT_CHUNK;
	const char *name;
	uint8_t *buf = NULL;
	uint64_t total = 0, size;
	int fd, rc, status = VMT_EXIT_OK;

	fd = cat_open_input(o->inputs[0], &name);
	if (fd < 0)
		return VMT_EXIT_FAILURE;
	buf = malloc(chunk);
	if (!buf) {
		vmt_err("out of memory");
		status = VMT_EXIT_FAILURE;
		goto out;
	}
	describe_device(o, fd, name, &dev);
	rc = migstream_writer_new(&w, STDOUT_FILENO, &wopts);
	if (rc == 0)
		rc = migstream_write_device(w, &dev);
	if (rc < 0) {
		status = cat_writer_error(rc);
		goto out;
	}
	vmt_progress_init(&prog, cat_progress_wanted(o));
	size = vmt_progress_fd_total(fd);
	for (;;) {
		ssize_t n = vmt_read_full(fd, buf, chunk);

		if (n < 0) {
			vmt_progress_clear(&prog);
			vmt_err("%s: read error: %s", name, strerror((int)-n));
			status = VMT_EXIT_FAILURE;
			goto out;
		}
		if (n == 0)
			break;
		rc = migstream_write_data(w, 0, (enum migstream_phase)o->wrap_phase, buf,
					  (size_t)n);
		if (rc < 0) {
			vmt_progress_clear(&prog);
			status = cat_writer_error(rc);
			goto out;
		}
		total += (uint64_t)n;
		vmt_progress_update(&prog, name, total, size, false);
		if ((size_t)n < chunk)
			break;
	}
	vmt_progress_clear(&prog);
	rc = migstream_write_device_end(w, 0);
	if (rc == 0)
		rc = migstream_writer_finish(w);
	if (rc < 0) {
		status = cat_writer_error(rc);
		goto out;
	}
	vmt_dbg("%s: %llu bytes wrapped into %llu stream bytes", name, (unsigned long long)total,
		(unsigned long long)migstream_writer_offset(w));
out:
	if (w)
		migstream_writer_free(w);
	free(buf);
	cat_close_input(fd);
	return status;
}
