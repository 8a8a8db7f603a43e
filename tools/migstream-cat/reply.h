/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The two kinds of stream migstream(5) defines: the forward stream a save
 * writes, and the reply stream a loader writes back on the return path
 * (RETURN PATH, "The reply stream"). The reader is told the reply record
 * types, so it checks them like any record (header, payload, seq,
 * STREAM_END's totals); what makes a stream one kind or the other is
 * checked here, record by record:
 *
 *   - the first record after STREAM_HEADER that is not an unknown
 *     ancillary one decides: SWITCHOVER_ACK or LOAD_RESULT make a reply
 *     stream, anything else a forward stream;
 *   - a reply stream holds only reply records (and unknown ancillary
 *     ones), each decoding as migstream(5) says, and exactly one
 *     LOAD_RESULT, the last record before STREAM_END;
 *   - a forward stream holds no reply record (its readers would refuse it:
 *     "unknown critical record type").
 */
#ifndef VMT_CAT_REPLY_H
#define VMT_CAT_REPLY_H

#include <stdbool.h>
#include <stddef.h>

#include "stream/migstream.h"

enum cat_stream_kind {
	CAT_STREAM_UNDECIDED, /* only STREAM_HEADER and unknown ancillary records so far */
	CAT_STREAM_FORWARD,
	CAT_STREAM_REPLY,
};

struct cat_kind {
	enum cat_stream_kind kind;
	bool result_seen; /* a reply stream's LOAD_RESULT */
};

/* "forward" or "reply" (an undecided stream is a forward one: it has no reply record). */
const char *cat_stream_kind_name(enum cat_stream_kind kind);

/*
 * rec, the next record of the stream, against the rules above: 0, or
 * -EBADMSG with why in buf ("SWITCHOVER_ACK in a forward stream").
 */
int cat_kind_check(struct cat_kind *k, const struct migstream_record *rec, char *buf, size_t len);

#endif
