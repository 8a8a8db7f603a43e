// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The channel set's merge rules (lib/stream/channel-merge), without a
 * thread or an fd: each case is a table of events (a record queued on a
 * channel, a channel's reader done, a merge step, a question about room)
 * and the decision the merge must take (what goes out, in which order,
 * what waits, what fails and why).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "stream/channel-merge.h"
#include "unit.h"

#define CHUNK 16 /* bytes of every test chunk */

enum op {
	END_OF_CASE,
	QUEUE,	     /* ch: a record of type with a, b, c (see make_rec) */
	DONE,	     /* ch: its reader is done (end of file) */
	START,	     /* channel_merge_start() returns expect */
	STEPS,	     /* steps until no progress: the last returns expect, out lists what went out */
	FINISH,	     /* every channel finished: the set's STREAM_END goes out */
	STUCK,	     /* channel_merge_deadlocked() says expect (1 true, 0 false) */
	START_STUCK, /* channel_merge_start_deadlocked() says expect */
	WANT, /* ch waits to read: a = cost, b = device + 1 for DATA (0: not DATA), c = chunk */
	ROOM, /* channel_merge_room_for(ch) says expect */
};

struct event {
	enum op op;
	unsigned int ch;
	uint16_t type;
	uint64_t a, b, c;
	int expect;
	const char *
		out; /* STEPS: what went out ("D1 1.0 E1"); after a failure, a part of the message */
};

struct merge_case {
	const char *name;
	unsigned int channels;
	uint64_t queue_limit, reorder_limit;
	struct event ev[40];
};

#define Q(ch_, type_, a_, b_, c_)                                                                \
	{                                                                                        \
		.op = QUEUE, .ch = ch_, .type = MIGSTREAM_REC_##type_, .a = a_, .b = b_, .c = c_ \
	}
#define HEAD(ch_, num_, count_, id_) \
	Q(ch_, STREAM_HEADER, 0, 0, 0), Q(ch_, CHANNEL, num_, count_, id_)

/* The bytes of device dev's chunk k: what the DEVICE_END digests are made of. */
static uint8_t chunk_byte(uint64_t dev, uint64_t k)
{
	return (uint8_t)(dev * 16 + k + 1);
}

static uint64_t digest_of(uint64_t dev, uint64_t count)
{
	XXH3_state_t *st = XXH3_createState();
	uint8_t buf[CHUNK];
	uint64_t d;

	XXH3_64bits_reset(st);
	for (uint64_t k = 0; k < count; k++) {
		memset(buf, chunk_byte(dev, k), sizeof(buf));
		XXH3_64bits_update(st, buf, sizeof(buf));
	}
	d = XXH3_64bits_digest(st);
	XXH3_freeState(st);
	return d;
}

/*
 * A record as a channel's reader would queue it. DEVICE: a = index, b = a
 * variant of its payload. DATA: a = device, b = chunk (at b * CHUNK).
 * DEVICE_END: a = device, b = chunk count, c = 1 for a wrong digest.
 * CHANNEL: a = number, b = count, c = the set id's bytes.
 */
static struct qrec *make_rec(const struct event *e)
{
	struct qrec *q = calloc(1, sizeof(*q) + 64);
	struct migstream_record *r = &q->rec;

	q->input = e->ch;
	q->charge = sizeof(*q) + 64;
	r->type = e->type;
	r->payload = q->payload;
	r->len = 8;
	switch (e->type) {
	case MIGSTREAM_REC_CHANNEL:
		memset(r->channel.set_id, (int)e->c, MIGSTREAM_SET_ID_LEN);
		r->channel.channel = (uint32_t)e->a;
		r->channel.channel_count = (uint32_t)e->b;
		break;
	case MIGSTREAM_REC_DEVICE:
		r->device.index = (uint32_t)e->a;
		memcpy(q->payload, &e->a, sizeof(e->a));
		q->payload[7] = (uint8_t)e->b;
		break;
	case MIGSTREAM_REC_DATA:
		r->data = (struct migstream_data){ .device = (uint32_t)e->a,
						   .phase = MIGSTREAM_PHASE_STOP_COPY,
						   .chunk_index = e->b,
						   .offset = e->b * CHUNK,
						   .data = q->payload,
						   .len = CHUNK };
		memset(q->payload, chunk_byte(e->a, e->b), CHUNK);
		r->len = CHUNK;
		break;
	case MIGSTREAM_REC_DEVICE_END:
		r->device_end =
			(struct migstream_device_end){ .device = (uint32_t)e->a,
						       .chunk_count = e->b,
						       .total_bytes = e->b * CHUNK,
						       .state_digest =
							       digest_of(e->a, e->b) + e->c };
		memcpy(q->payload, &r->device_end, sizeof(r->device_end));
		r->len = sizeof(r->device_end);
		break;
	}
	return q;
}

static void name_of(const struct qrec *q, char *out, size_t len)
{
	const struct migstream_record *r = &q->rec;

	switch (r->type) {
	case MIGSTREAM_REC_STREAM_HEADER:
		snprintf(out, len, "H");
		break;
	case MIGSTREAM_REC_DEVICE:
		snprintf(out, len, "D%u", r->device.index);
		break;
	case MIGSTREAM_REC_DATA:
		snprintf(out, len, "%u.%" PRIu64, r->data.device, r->data.chunk_index);
		break;
	case MIGSTREAM_REC_DEVICE_END:
		snprintf(out, len, "E%u", r->device_end.device);
		break;
	case MIGSTREAM_REC_STREAM_END:
		snprintf(out, len, "S%" PRIu32, r->stream_end.device_count);
		break;
	default:
		snprintf(out, len, "%s", migstream_record_type_name(r->type));
	}
}

/* What went out since the last look, appended to out as "D1 1.0 E1". */
static void take_out(struct channel_merge *m, char *out, size_t len)
{
	size_t used = strlen(out);
	struct qrec *q;
	char one[32];

	while ((q = channel_merge_take_ready(m))) {
		name_of(q, one, sizeof(one));
		used += (size_t)snprintf(out + used, len - used, "%s%s", used ? " " : "", one);
		m->queue_bytes -= q->charge;
		qrec_free(q);
	}
}

/* The message of the failure, or what went out, against what the event expects. */
static void check_out(const struct channel_merge *m, const struct event *e, const char *out, int i)
{
	if (!e->out)
		return;
	if (m->err && strcmp(e->out, out) != 0) {
		CHECK_STR_CONTAINS(m->msg, e->out);
		return;
	}
	if (strcmp(out, e->out) != 0) {
		printf("#   event %d: out \"%s\", expected \"%s\"\n", i, out, e->out);
		CHECK(0);
	}
}

static int run(struct channel_merge *m)
{
	int ret;

	do
		ret = channel_merge_step(m);
	while (ret > 0 && !m->ready.head);
	return ret;
}

static void play(const struct merge_case *tc)
{
	struct channel_merge *m = calloc(1, sizeof(*m));
	char out[512];

	printf("# %s\n", tc->name);
	channel_merge_init(m, tc->channels, tc->queue_limit ? tc->queue_limit : 1u << 20,
			   tc->reorder_limit ? tc->reorder_limit : 1u << 20, NULL);
	for (unsigned int i = 0; i < tc->channels; i++) {
		char name[16];

		snprintf(name, sizeof(name), "c%u", i);
		m->ch[i].name = strdup(name);
	}
	for (int i = 0; tc->ev[i].op != END_OF_CASE; i++) {
		const struct event *e = &tc->ev[i];
		struct merge_channel *c = &m->ch[e->ch];
		int ret = 0;

		out[0] = '\0';
		switch (e->op) {
		case QUEUE: {
			struct qrec *q = make_rec(e);

			qlist_push(&c->queue, q);
			m->queue_bytes += q->charge;
			continue;
		}
		case DONE:
			c->reading_done = true;
			continue;
		case START:
			ret = channel_merge_start(m);
			take_out(m, out, sizeof(out));
			break;
		case STEPS: {
			size_t before;

			/* every step's records, in the order they went out */
			do {
				before = strlen(out);
				ret = run(m);
				take_out(m, out, sizeof(out));
			} while (ret > 0 && strlen(out) > before);
			break;
		}
		case FINISH:
			ret = channel_merge_all_finished(m) ? channel_merge_emit_stream_end(m) : 0;
			take_out(m, out, sizeof(out));
			break;
		case STUCK:
			ret = channel_merge_deadlocked(m);
			break;
		case START_STUCK:
			ret = channel_merge_start_deadlocked(m);
			break;
		case WANT:
			c->want = (struct next_rec){ .cost = e->a,
						     .charge = e->a,
						     .data = e->b != 0,
						     .device = (uint32_t)(e->b - 1),
						     .chunk = e->c };
			c->waiting = true;
			continue;
		case ROOM:
			ret = channel_merge_room_for(m, c);
			break;
		case END_OF_CASE:
			break;
		}
		if (ret != e->expect) {
			printf("#   event %d: returned %d, expected %d (%s)\n", i, ret, e->expect,
			       m->err ? m->msg : "no error");
			CHECK(0);
		}
		check_out(m, e, out, i);
	}
	channel_merge_free(m);
	free(m);
}

static const struct merge_case cases[] = {
	{ "two channels: DEVICE once, chunks in order, DEVICE_END once, the set's STREAM_END",
	  2,
	  0,
	  0,
	  {
		  HEAD(0, 0, 2, 7),
		  HEAD(1, 1, 2, 7),
		  { .op = START, .expect = 1, .out = "H" },
		  Q(0, DEVICE, 1, 0, 0),
		  Q(1, DEVICE, 1, 0, 0),
		  Q(0, DATA, 1, 0, 0),
		  Q(1, DATA, 1, 1, 0),
		  Q(0, DATA, 1, 2, 0),
		  Q(0, DEVICE_END, 1, 3, 0),
		  Q(1, DEVICE_END, 1, 3, 0),
		  Q(0, STREAM_END, 0, 0, 0),
		  Q(1, STREAM_END, 0, 0, 0),
		  { .op = STEPS, .expect = 0, .out = "D1 1.0 1.1 1.2 E1" },
		  { .op = FINISH, .expect = 0 }, /* STREAM_END waits for the end of file */
		  { .op = DONE, .ch = 0 },
		  { .op = DONE, .ch = 1 },
		  { .op = STEPS, .expect = 0, .out = "" },
		  { .op = FINISH, .expect = 1, .out = "S1" },
	  } },
	{ "an early chunk waits in the reorder buffer, and follows the chunk before it",
	  2,
	  0,
	  0,
	  {
		  HEAD(0, 0, 2, 7),
		  HEAD(1, 1, 2, 7),
		  { .op = START, .expect = 1, .out = "H" },
		  Q(0, DEVICE, 1, 0, 0),
		  Q(1, DEVICE, 1, 0, 0),
		  Q(1, DATA, 1, 1, 0),
		  Q(1, DATA, 1, 2, 0),
		  { .op = STEPS, .expect = 0, .out = "D1" },
		  Q(0, DATA, 1, 0, 0),
		  { .op = STEPS, .expect = 0, .out = "1.0 1.1 1.2" },
	  } },
	{ "the set checks: a channel of another set",
	  2,
	  0,
	  0,
	  {
		  HEAD(0, 0, 2, 7),
		  HEAD(1, 1, 2, 8),
		  { .op = START, .expect = -EBADMSG, .out = "(c1): from another set (set 0808" },
	  } },
	{ "the set checks: a channel missing",
	  2,
	  0,
	  0,
	  {
		  HEAD(0, 0, 3, 7),
		  HEAD(1, 1, 3, 7),
		  { .op = START,
		    .expect = -EBADMSG,
		    .out = "set 07070707070707070707070707070707: channel 2 of 3 is missing (2 given)" },
	  } },
	{ "the set checks: a channel given twice",
	  2,
	  0,
	  0,
	  {
		  HEAD(0, 0, 2, 7),
		  HEAD(1, 0, 2, 7),
		  { .op = START, .expect = -EBADMSG, .out = "given twice" },
	  } },
	{ "the set checks wait for every channel's first two records",
	  2,
	  0,
	  0,
	  {
		  HEAD(0, 0, 2, 7),
		  Q(1, STREAM_HEADER, 0, 0, 0),
		  { .op = START, .expect = 0, .out = "" },
		  Q(1, CHANNEL, 1, 2, 7),
		  { .op = START, .expect = 1, .out = "H" },
	  } },
	{ "a whole stream passes through",
	  1,
	  0,
	  0,
	  {
		  Q(0, STREAM_HEADER, 0, 0, 0),
		  Q(0, DEVICE, 1, 0, 0),
		  Q(0, DATA, 1, 0, 0),
		  { .op = START, .expect = 1 },
		  { .op = STEPS, .expect = 0, .out = "H D1 1.0" },
	  } },
	{ "a chunk on two channels",
	  2,
	  0,
	  0,
	  {
		  HEAD(0, 0, 2, 7),
		  HEAD(1, 1, 2, 7),
		  { .op = START, .expect = 1, .out = "H" },
		  Q(0, DEVICE, 1, 0, 0),
		  Q(1, DEVICE, 1, 0, 0),
		  Q(0, DATA, 1, 0, 0),
		  Q(1, DATA, 1, 0, 0),
		  { .op = STEPS, .expect = -EBADMSG, .out = "chunk 0 twice (it went out already)" },
	  } },
	{ "DEVICE records that differ",
	  2,
	  0,
	  0,
	  {
		  HEAD(0, 0, 2, 7),
		  HEAD(1, 1, 2, 7),
		  { .op = START, .expect = 1, .out = "H" },
		  Q(0, DEVICE, 1, 0, 0),
		  Q(1, DEVICE, 1, 1, 0),
		  { .op = STEPS,
		    .expect = -EBADMSG,
		    .out = "DEVICE record of device 1 differs from the one on channel 0 (c0)" },
	  } },
	{ "DEVICE_END with a chunk on no channel",
	  2,
	  0,
	  0,
	  {
		  HEAD(0, 0, 2, 7),
		  HEAD(1, 1, 2, 7),
		  { .op = START, .expect = 1, .out = "H" },
		  Q(0, DEVICE, 1, 0, 0),
		  Q(1, DEVICE, 1, 0, 0),
		  Q(0, DATA, 1, 0, 0),
		  Q(1, DATA, 1, 2, 0),
		  Q(0, DEVICE_END, 1, 3, 0),
		  Q(1, DEVICE_END, 1, 3, 0),
		  { .op = STEPS, .expect = -EBADMSG, .out = "chunk 1 of 3 is on no channel" },
	  } },
	{ "DEVICE_END whose digest is not the chunks'",
	  2,
	  0,
	  0,
	  {
		  HEAD(0, 0, 2, 7),
		  HEAD(1, 1, 2, 7),
		  { .op = START, .expect = 1, .out = "H" },
		  Q(0, DEVICE, 1, 0, 0),
		  Q(1, DEVICE, 1, 0, 0),
		  Q(0, DATA, 1, 0, 0),
		  Q(0, DEVICE_END, 1, 1, 1),
		  Q(1, DEVICE_END, 1, 1, 1),
		  { .op = STEPS, .expect = -EBADMSG, .out = "state digest mismatch" },
	  } },
	{ "a channel that ended without a device",
	  2,
	  0,
	  0,
	  {
		  HEAD(0, 0, 2, 7),
		  HEAD(1, 1, 2, 7),
		  { .op = START, .expect = 1, .out = "H" },
		  Q(0, STREAM_END, 0, 0, 0),
		  { .op = DONE, .ch = 0 },
		  Q(1, DEVICE, 1, 0, 0),
		  { .op = STEPS,
		    .expect = -EBADMSG,
		    .out = "device 1 is not on channel 0 (c0), which has ended" },
	  } },
	{ "DEVICE records in different orders: nothing can move",
	  2,
	  0,
	  0,
	  {
		  HEAD(0, 0, 2, 7),
		  HEAD(1, 1, 2, 7),
		  { .op = START, .expect = 1, .out = "H" },
		  Q(0, DEVICE, 1, 0, 0),
		  Q(0, DATA, 1, 0, 0),
		  Q(1, DEVICE, 2, 0, 0),
		  Q(1, DATA, 2, 0, 0),
		  { .op = STEPS, .expect = 0, .out = "D1 D2" },
		  { .op = STUCK, .expect = 1, .out = "DEVICE records in different orders" },
	  } },
	/* a chunk costs sizeof(struct qrec) + 64: the reorder buffer holds one */
	{ "a full reorder buffer: the head waits, and when every channel waits the set fails",
	  2,
	  0,
	  sizeof(struct qrec) + 64,
	  {
		  HEAD(0, 0, 2, 7),
		  HEAD(1, 1, 2, 7),
		  { .op = START, .expect = 1, .out = "H" },
		  Q(0, DEVICE, 1, 0, 0),
		  Q(1, DEVICE, 1, 0, 0),
		  Q(1, DATA, 1, 1, 0),
		  Q(1, DATA, 1, 2, 0),
		  { .op = STEPS, .expect = 0, .out = "D1" },
		  { .op = STUCK, .expect = 0 }, /* channel 0 may still bring chunk 0 */
		  Q(0, DATA, 1, 3, 0),
		  { .op = STUCK, .expect = 1, .out = "does not fit in the reorder buffer" },
	  } },
	{ "room: the merge's next within the read-ahead and one record, early chunks within the reorder buffer",
	  2,
	  1 << 20,
	  sizeof(struct qrec) + 64,
	  {
		  /* before the start, the first two records are always the merge's next */
		  { .op = WANT, .ch = 0, .a = MIGSTREAM_CHANNEL_RECORD_MAX },
		  { .op = ROOM, .ch = 0, .expect = 1 },
		  { .op = WANT, .ch = 0, .a = MIGSTREAM_CHANNEL_RECORD_MAX + (1 << 20) + 1 },
		  { .op = ROOM, .ch = 0, .expect = 0 },
		  HEAD(0, 0, 2, 7),
		  HEAD(1, 1, 2, 7),
		  { .op = START, .expect = 1, .out = "H" },
		  Q(0, DEVICE, 1, 0, 0),
		  Q(1, DEVICE, 1, 0, 0),
		  { .op = STEPS, .expect = 0, .out = "D1" },
		  { .op = WANT, .ch = 1, .a = 100, .b = 1 + 1, .c = 0 },
		  { .op = ROOM, .ch = 1, .expect = 1 }, /* the next chunk */
		  { .op = WANT, .ch = 1, .a = sizeof(struct qrec) + 64, .b = 1 + 1, .c = 5 },
		  { .op = ROOM, .ch = 1, .expect = 1 }, /* early, and it fits */
		  { .op = WANT, .ch = 1, .a = sizeof(struct qrec) + 65, .b = 1 + 1, .c = 5 },
		  { .op = ROOM, .ch = 1, .expect = 0 }, /* early, and it does not */
		  { .op = WANT, .ch = 1, .a = 100, .b = 9 + 1, .c = 0 },
		  { .op = ROOM, .ch = 1, .expect = 0 }, /* a device the merge has not taken */
	  } },
	{ "a start that every channel waits on fails",
	  2,
	  1000,
	  0,
	  {
		  { .op = WANT, .ch = 0, .a = MIGSTREAM_CHANNEL_RECORD_MAX + 2000 },
		  { .op = START_STUCK, .expect = 0 }, /* channel 1 may still bring its records */
		  { .op = WANT, .ch = 1, .a = MIGSTREAM_CHANNEL_RECORD_MAX + 2000 },
		  { .op = START_STUCK, .expect = 1, .out = "does not fit in the read-ahead" },
	  } },
};

static void test_merge_rules(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		play(&cases[i]);
}

static void test_set_id_hex(void)
{
	uint8_t id[MIGSTREAM_SET_ID_LEN];
	char hex[MIGSTREAM_SET_ID_HEX_LEN];

	for (int i = 0; i < MIGSTREAM_SET_ID_LEN; i++)
		id[i] = (uint8_t)(i * 17 + 10);
	CHECK(migstream_set_id_hex(id, hex) == hex);
	CHECK(strcmp(hex, "0a1b2c3d4e5f708192a3b4c5d6e7f809") == 0);
}

int main(void)
{
	RUN(test_merge_rules);
	RUN(test_set_id_hex);
	return unit_done();
}
