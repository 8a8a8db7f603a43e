// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Forward stream or reply stream: see reply.h.
 */
#include <errno.h>
#include <stdio.h>

#include "stream/reply.h"
#include "describe.h"
#include "reply.h"

const char *cat_stream_kind_name(enum cat_stream_kind kind)
{
	return kind == CAT_STREAM_REPLY ? "reply" : "forward";
}

static int why_not(char *buf, size_t len, const char *what)
{
	snprintf(buf, len, "%s", what);
	return -EBADMSG;
}

/* The payload of a reply record decodes (the reader decodes only the forward types). */
static int check_reply_payload(const struct migstream_record *rec, char *buf, size_t len)
{
	static struct migstream_load_result result; /* 2 KiB of message: not on the stack */
	struct migstream_switchover_ack ack;
	struct migstream_time_echo echo;
	int ret;

	if (rec->type == MIGSTREAM_REC_SWITCHOVER_ACK)
		ret = migstream_decode_switchover_ack(rec, &ack);
	else if (rec->type == MIGSTREAM_REC_TIME_ECHO)
		ret = migstream_decode_time_echo(rec, &echo);
	else if (rec->type == MIGSTREAM_REC_LOAD_EVENT)
		ret = migstream_check_load_event(rec);
	else
		ret = migstream_decode_load_result(rec, &result);
	if (ret)
		snprintf(buf, len, "bad %s payload (%u bytes)",
			 migstream_record_type_name(rec->type), rec->len);
	return ret;
}

static int check_in_reply(struct cat_kind *k, const struct migstream_record *rec, char *buf,
			  size_t len)
{
	if (rec->type == MIGSTREAM_REC_STREAM_END)
		return k->result_seen
			       ? 0
			       : why_not(buf, len, "the reply stream ends without a LOAD_RESULT");
	if (k->result_seen)
		return why_not(
			buf, len,
			"a record after LOAD_RESULT (it must be the last before STREAM_END)");
	/* The reader hands out a type it does not know only when it may be skipped. */
	if (!cat_type_known(rec->type))
		return 0;
	if (!migstream_reply_type_known(rec->type)) {
		snprintf(
			buf, len,
			"%s in a reply stream (it holds only SWITCHOVER_ACK, LOAD_RESULT, TIME_ECHO and LOAD_EVENT)",
			migstream_record_type_name(rec->type));
		return -EBADMSG;
	}
	if (check_reply_payload(rec, buf, len))
		return -EBADMSG;
	k->result_seen = rec->type == MIGSTREAM_REC_LOAD_RESULT;
	return 0;
}

int cat_kind_check(struct cat_kind *k, const struct migstream_record *rec, char *buf, size_t len)
{
	bool reply_record = migstream_reply_type_known(rec->type);

	if (rec->type == MIGSTREAM_REC_STREAM_HEADER)
		return 0;
	if (k->kind == CAT_STREAM_UNDECIDED && cat_type_known(rec->type))
		k->kind = reply_record ? CAT_STREAM_REPLY : CAT_STREAM_FORWARD;
	if (k->kind == CAT_STREAM_REPLY)
		return check_in_reply(k, rec, buf, len);
	if (reply_record) {
		snprintf(buf, len,
			 "%s in a forward stream (reply records belong to a reply stream)",
			 migstream_record_type_name(rec->type));
		return -EBADMSG;
	}
	return 0;
}
