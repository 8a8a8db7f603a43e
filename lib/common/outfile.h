/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A tool's output file, written so that a failed run destroys nothing.
 *
 * A regular file, or a name that does not exist yet, is written as a
 * temporary in the same directory (created with O_EXCL under a unique
 * name) and renamed into place only by vmt_outfile_commit(), after an
 * fsync: the final name never holds a partial file, and a failure removes
 * only the temporary. A symlink is followed and its target path replaced;
 * the link stays. Anything else (standard output, /dev/stdout when it is a
 * pipe or terminal, a FIFO, a character device) is written in place, never
 * truncated and never removed. "fd:N" names a descriptor the caller handed
 * over (a pipe or socket): written in place and closed at the end, so that
 * its reader sees end of file.
 */
#ifndef VMT_OUTFILE_H
#define VMT_OUTFILE_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

struct vmt_outfile {
	const char *name; /* as given, for messages: "-" or NULL is standard output */
	int fd;		  /* where to write; -1 when closed */
	FILE *stream;	  /* vmt_outfile_stream()'s FILE on fd, or NULL */
	char *path;	  /* the final name, symlinks resolved; NULL when written in place */
	char *tmp;	  /* the temporary renamed to path by commit; NULL when in place */
	bool existed;	  /* path named a file at open time: dev/ino are that file */
	dev_t dev;
	ino_t ino;
};

/*
 * Opens name for writing (NULL or "-": standard output). 0, or -errno with
 * nothing created and out->fd == -1.
 */
int vmt_outfile_open(struct vmt_outfile *out, const char *name);

/* A stdio stream on the output, owned by out (closed by commit or abort). NULL: -errno in errno. */
FILE *vmt_outfile_stream(struct vmt_outfile *out);

/* What to call the output in a message: its name, or "<stdout>". */
const char *vmt_outfile_label(const struct vmt_outfile *out);

/*
 * The run succeeded: flush, fsync and rename the temporary into place (in
 * place: flush and close, standard output stays open). 0 or -errno. On
 * -EEXIST the final name was created or replaced by someone else while we
 * wrote: nothing is overwritten, the complete output stays in out->tmp.
 * On any other error the temporary is removed.
 */
int vmt_outfile_commit(struct vmt_outfile *out);

/* The run failed: close, and remove the temporary (nothing else). */
void vmt_outfile_abort(struct vmt_outfile *out);

/* Frees what open allocated; call after commit or abort. */
void vmt_outfile_free(struct vmt_outfile *out);

/*
 * Whether two output names ("-" or NULL: standard output) are the same
 * file: the same inode, or the same resolved path when neither exists yet.
 */
bool vmt_outfile_same(const char *a, const char *b);

#endif
