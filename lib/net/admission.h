/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Who may join a listener's set. A connection is read, within the
 * handshake timeout, up to its first records (the preamble, STREAM_HEADER
 * and the record after it, checked by the stream reader): the first
 * connection admitted names the set and its n from its CHANNEL record (no
 * CHANNEL record: a set of one); every later one must be a channel of that
 * set below n that is not taken yet. The bytes read are kept, for the
 * pump to deliver first.
 */
#ifndef VMT_NET_ADMISSION_H
#define VMT_NET_ADMISSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/conn.h"
#include "stream/migstream.h"

struct vmt_net_first {
	bool has_channel;
	struct migstream_channel channel;
	uint8_t *bytes; /* everything read from the connection, malloc'd */
	size_t len;
};

/*
 * Reads c's first records before deadline_ns (vmt_monotonic_ns()). 0, or
 * -errno with err saying why: "not a migstream (garbage)", "no stream
 * within 10.0 s", "record 1 (STREAM_HEADER) at byte 16: ...".
 */
int vmt_net_read_first(struct vmt_net_conn *c, uint64_t deadline_ns, struct vmt_net_first *out,
		       char *err, size_t errlen);
void vmt_net_first_free(struct vmt_net_first *f);

struct vmt_net_set {
	bool named;
	uint8_t set_id[MIGSTREAM_SET_ID_LEN];
	unsigned int count;
	unsigned int admitted;
	bool taken[MIGSTREAM_MAX_CHANNELS];
};

/*
 * Admits f into set (the first one names it): the channel's index, or
 * -EPERM with err saying why ("of another set", "channel 4 of a set of
 * 4 ...", "channel 1 is taken already", "the set is complete").
 */
int vmt_net_set_admit(struct vmt_net_set *set, const struct vmt_net_first *f, char *err,
		      size_t errlen);
/* Every channel of the set admitted. */
bool vmt_net_set_complete(const struct vmt_net_set *set);

#endif
