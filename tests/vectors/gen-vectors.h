/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The migstream test vectors as code: each committed file in tests/vectors/
 * has a generator here. gen-vectors (gen-vectors-main.c) writes them out;
 * the unit tests (test-vectors, test-migstream-reply) link the same object
 * to check that the writer still produces the committed bytes and that the
 * reader says what each corrupt one must make it say.
 */
#ifndef VMT_GEN_VECTORS_H
#define VMT_GEN_VECTORS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The STREAM_HEADER time of every vector: 2026-01-01T00:00:00Z. */
#define VECTOR_TIME_NS UINT64_C(1767225600000000000)

/* A stream in memory. */
struct vbuf {
	uint8_t *p;
	size_t len;
};

/* A good stream and its generator, which writes it to fd. */
struct vector {
	const char *name;
	int (*gen)(int fd);
	bool deterministic; /* the same bytes with every zstd version */
};

/*
 * A variant of a good stream: base's output with spoil() applied, and what
 * a reader must report for it (at record; type NULL: the header is not
 * trusted, so the message names no type).
 */
struct bad_vector {
	const char *name;
	int (*base)(int fd);
	unsigned int record;
	const char *type;
	const char *what;
	void (*spoil)(struct vbuf *b);
};

struct vector_list {
	const struct vector *items;
	size_t count;
};

struct variant_list {
	const struct bad_vector *items;
	size_t count;
};

/* Forward streams every v1 reader accepts. */
extern const struct vector_list good_vectors;
/* Return-path streams: valid for a reader that knows the reply record types. */
extern const struct vector_list reply_vectors;
/* Corrupt variants of one-device.vms, channel-1.vms and init-data-sent.vms. */
extern const struct variant_list bad_vectors, bad_channel_vectors, bad_marker_vectors;
/* Good to a plain reader; a loader with a return path refuses the marker. */
extern const struct variant_list marker_vectors;

/* Device bytes: byte i = i * 7 + seed (mod 256). */
void vector_bytes(uint8_t *p, size_t len, uint8_t seed);
/* A generator's output, in memory (out->p malloc'd); 0 or -errno. */
int gen_to_mem(int (*gen)(int fd), struct vbuf *out);
/* A variant's bytes, in memory (out->p malloc'd); 0 or -errno. */
int vector_make_variant(const struct bad_vector *bv, struct vbuf *out);
/* The byte offset of record idx's header. */
size_t vector_record_offset(const struct vbuf *b, unsigned int idx);

#endif
