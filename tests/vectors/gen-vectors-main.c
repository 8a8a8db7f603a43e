// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * gen-vectors DIR: writes every migstream test vector (gen-vectors.c) into
 * DIR, as committed in tests/vectors/.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gen-vectors.h"

static int write_file(const char *dir, const char *name, const struct vbuf *b)
{
	char path[4096];
	int fd, ret = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		ret = -errno;
	else if (write(fd, b->p, b->len) != (ssize_t)b->len)
		ret = -EIO;
	if (fd >= 0 && close(fd) && !ret)
		ret = -errno;
	if (ret)
		fprintf(stderr, "gen-vectors: %s: %s\n", path, strerror(-ret));
	return ret;
}

static int write_vectors(const char *dir, const struct vector_list *list)
{
	struct vbuf b;

	for (size_t i = 0; i < list->count; i++) {
		const struct vector *v = &list->items[i];

		if (gen_to_mem(v->gen, &b) || write_file(dir, v->name, &b))
			return 1;
		printf("%-24s %6zu bytes\n", v->name, b.len);
		free(b.p);
	}
	return 0;
}

static int write_variants(const char *dir, const struct variant_list *list)
{
	struct vbuf b;

	for (size_t i = 0; i < list->count; i++) {
		const struct bad_vector *bv = &list->items[i];

		if (vector_make_variant(bv, &b) || write_file(dir, bv->name, &b))
			return 1;
		printf("%-24s %6zu bytes\n", bv->name, b.len);
		free(b.p);
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: gen-vectors DIR\n");
		return 2;
	}
	if (write_vectors(argv[1], &good_vectors) || write_vectors(argv[1], &reply_vectors) ||
	    write_variants(argv[1], &bad_vectors) ||
	    write_variants(argv[1], &bad_channel_vectors) ||
	    write_variants(argv[1], &bad_marker_vectors) ||
	    write_variants(argv[1], &marker_vectors))
		return 1;
	return 0;
}
