// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Return-path records and the INIT_DATA_SENT marker: encoders and decoders.
 * The loader's answers decide whether the source resumes, so a decoder
 * checks every count and length against what the payload holds.
 */
#include <errno.h>
#include <string.h>

#include "stream/byteorder.h"
#include "stream/reply.h"

bool migstream_reply_type_known(uint16_t type)
{
	return type == MIGSTREAM_REC_SWITCHOVER_ACK || type == MIGSTREAM_REC_LOAD_RESULT ||
	       type == MIGSTREAM_REC_TIME_ECHO || type == MIGSTREAM_REC_LOAD_EVENT;
}

int migstream_check_load_event(const struct migstream_record *rec)
{
	const uint8_t *p = rec->payload;

	if (rec->len < 2 || rec->len > MIGSTREAM_LOAD_EVENT_MAX_LEN || p[0] != '{' ||
	    p[rec->len - 1] != '}')
		return -EBADMSG;
	for (uint32_t i = 0; i < rec->len; i++)
		if (p[i] == '\0' || p[i] == '\n' || p[i] == '\r')
			return -EBADMSG;
	return 0;
}

void migstream_encode_time_probe(const struct migstream_time_probe *p,
				 uint8_t buf[MIGSTREAM_TIME_PROBE_LEN])
{
	put_be32(buf, p->probe);
	put_be32(buf + 4, 0);
	put_be64(buf + 8, p->t1_ns);
}

int migstream_decode_time_probe(const struct migstream_record *rec,
				struct migstream_time_probe *out)
{
	if (rec->len < MIGSTREAM_TIME_PROBE_LEN)
		return -EBADMSG;
	/* Flag bits are for later revisions: a loader answers whatever they say. */
	*out = (struct migstream_time_probe){
		.probe = get_be32(rec->payload),
		.t1_ns = get_be64(rec->payload + 8),
	};
	return 0;
}

void migstream_encode_time_echo(const struct migstream_time_echo *e,
				uint8_t buf[MIGSTREAM_TIME_ECHO_LEN])
{
	put_be32(buf, e->probe);
	put_be32(buf + 4, 0);
	put_be64(buf + 8, e->t1_ns);
	put_be64(buf + 16, e->t2_ns);
	put_be64(buf + 24, e->t3_ns);
}

int migstream_decode_time_echo(const struct migstream_record *rec, struct migstream_time_echo *out)
{
	const uint8_t *p = rec->payload;

	if (rec->len < MIGSTREAM_TIME_ECHO_LEN)
		return -EBADMSG;
	*out = (struct migstream_time_echo){
		.probe = get_be32(p),
		.t1_ns = get_be64(p + 8),
		.t2_ns = get_be64(p + 16),
		.t3_ns = get_be64(p + 24),
	};
	/* The loader cannot send its echo before it read the probe. */
	return out->t3_ns < out->t2_ns ? -EBADMSG : 0;
}

int migstream_clock_sample(const struct migstream_time_echo *e, uint64_t t4_ns,
			   struct migstream_clock_sample *out)
{
	uint64_t held = e->t3_ns - e->t2_ns;

	if (t4_ns < e->t1_ns || t4_ns - e->t1_ns < held)
		return -ERANGE;
	/* Halves first: the sum of two differences of 64-bit times may overflow. */
	out->offset_ns = (int64_t)(e->t2_ns - e->t1_ns) / 2 + (int64_t)(e->t3_ns - t4_ns) / 2;
	out->delay_ns = (t4_ns - e->t1_ns) - held;
	return 0;
}

void migstream_encode_init_data_sent(const struct migstream_init_data_sent *m,
				     uint8_t buf[MIGSTREAM_INIT_DATA_SENT_LEN])
{
	put_be32(buf, m->device);
	put_be32(buf + 4, m->generation);
	put_be64(buf + 8, m->offset);
	put_be64(buf + 16, m->initial);
}

int migstream_decode_init_data_sent(const struct migstream_record *rec,
				    struct migstream_init_data_sent *out)
{
	const uint8_t *p = rec->payload;

	if (rec->len < MIGSTREAM_INIT_DATA_SENT_LEN)
		return -EBADMSG;
	*out = (struct migstream_init_data_sent){
		.device = get_be32(p),
		.generation = get_be32(p + 4),
		.offset = get_be64(p + 8),
		.initial = get_be64(p + 16),
	};
	/* Generations count from 1; an initial section ends where it began or later. */
	if (!out->generation || out->initial > out->offset)
		return -EBADMSG;
	return 0;
}

void migstream_encode_switchover_ack(const struct migstream_switchover_ack *a,
				     uint8_t buf[MIGSTREAM_SWITCHOVER_ACK_LEN])
{
	put_be32(buf, a->device);
	put_be32(buf + 4, a->generation);
	put_be64(buf + 8, a->bytes);
	put_be64(buf + 16, a->time_ns);
	put_be64(buf + 24, 0);
}

int migstream_decode_switchover_ack(const struct migstream_record *rec,
				    struct migstream_switchover_ack *out)
{
	const uint8_t *p = rec->payload;

	if (rec->len < MIGSTREAM_SWITCHOVER_ACK_LEN)
		return -EBADMSG;
	*out = (struct migstream_switchover_ack){
		.device = get_be32(p),
		.generation = get_be32(p + 4),
		.bytes = get_be64(p + 8),
		.time_ns = get_be64(p + 16),
	};
	return out->generation ? 0 : -EBADMSG;
}

int migstream_encode_load_result(const struct migstream_load_result *r, uint8_t *buf, size_t cap)
{
	size_t msg_len = strnlen(r->message, sizeof(r->message));
	size_t need;
	uint8_t *p;

	if (r->device_count > MIGSTREAM_MAX_DEVICES)
		return -E2BIG;
	if (msg_len > MIGSTREAM_LOAD_RESULT_MAX_MESSAGE)
		return -ENAMETOOLONG;
	need = MIGSTREAM_LOAD_RESULT_FIXED_LEN + r->device_count * MIGSTREAM_LOAD_RESULT_ENTRY_LEN +
	       2 + msg_len;
	if (need > cap)
		return -ENOSPC;
	put_be32(buf, r->exit_code);
	put_be32(buf + 4, r->device_count);
	put_be64(buf + 8, r->time_ns);
	p = buf + MIGSTREAM_LOAD_RESULT_FIXED_LEN;
	for (uint32_t i = 0; i < r->device_count; i++, p += MIGSTREAM_LOAD_RESULT_ENTRY_LEN) {
		put_be32(p, r->devices[i].device);
		put_be32(p + 4, r->devices[i].state);
		put_be32(p + 8, r->devices[i].flags);
		put_be32(p + 12, 0);
	}
	put_be16(p, (uint16_t)msg_len);
	memcpy(p + 2, r->message, msg_len);
	return (int)need;
}

int migstream_decode_load_result(const struct migstream_record *rec,
				 struct migstream_load_result *out)
{
	const uint8_t *p = rec->payload, *end = rec->payload + rec->len;
	uint16_t msg_len;

	if (rec->len < MIGSTREAM_LOAD_RESULT_FIXED_LEN)
		return -EBADMSG;
	out->exit_code = get_be32(p);
	out->device_count = get_be32(p + 4);
	out->time_ns = get_be64(p + 8);
	out->message[0] = '\0';
	if (out->device_count > MIGSTREAM_MAX_DEVICES)
		return -EBADMSG;
	p += MIGSTREAM_LOAD_RESULT_FIXED_LEN;
	/* The count is bounded above, so this cannot overflow. */
	if ((size_t)(end - p) < out->device_count * MIGSTREAM_LOAD_RESULT_ENTRY_LEN + 2)
		return -EBADMSG;
	for (uint32_t i = 0; i < out->device_count; i++, p += MIGSTREAM_LOAD_RESULT_ENTRY_LEN) {
		out->devices[i] = (struct migstream_result_device){
			.device = get_be32(p),
			.state = get_be32(p + 4),
			.flags = get_be32(p + 8),
		};
		if (out->devices[i].flags & ~MIGSTREAM_RESULT_FLAGS_KNOWN)
			return -EBADMSG;
	}
	msg_len = get_be16(p);
	p += 2;
	if (msg_len > MIGSTREAM_LOAD_RESULT_MAX_MESSAGE || (size_t)(end - p) < msg_len ||
	    memchr(p, '\0', msg_len))
		return -EBADMSG;
	memcpy(out->message, p, msg_len);
	out->message[msg_len] = '\0';
	return 0;
}

const char *migstream_result_flag_name(unsigned int bit)
{
	switch (bit < 32 ? 1u << bit : 0) {
	case MIGSTREAM_RESULT_LOADED:
		return "LOADED";
	case MIGSTREAM_RESULT_IN_STATE:
		return "IN_STATE";
	case MIGSTREAM_RESULT_RESET:
		return "RESET";
	default:
		return NULL;
	}
}
