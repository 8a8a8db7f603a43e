// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The device writers; see writer.h. The queue is lib/stream's bounded
 * FIFO; the writer thread pops, handles and frees, and stops the queue
 * when it returns, so that a pusher waiting for room gives up.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>

#include "common/c.h"
#include "common/events.h"
#include "common/timeutil.h"
#include "writer.h"

/* The load's side of its writers, at the end of this file. */
#include "common/exitcodes.h"
#include "common/log.h"
#include "common/signals.h"
#include "failure.h"
#include "input.h"
#include "load-events.h"
#include "load.h"
#include "reply.h"
#include "target.h"

struct load_item *load_item_new(enum load_item_kind kind, uint32_t len)
{
	struct load_item *item = malloc(sizeof(*item) + len);

	if (!item)
		return NULL;
	memset(item, 0, sizeof(*item));
	item->kind = kind;
	item->len = len;
	item->data = item->inline_data;
	return item;
}

struct load_item *load_item_adopt(enum load_item_kind kind, void *buf, const uint8_t *data,
				  uint32_t len)
{
	struct load_item *item = calloc(1, sizeof(*item));

	if (!item) {
		free(buf);
		return NULL;
	}
	item->kind = kind;
	item->len = len;
	item->buf = buf;
	item->data = (uint8_t *)data;
	return item;
}

void load_item_free(struct load_item *item)
{
	if (!item)
		return;
	free(item->buf);
	free(item);
}

/* The next item, or NULL when the queue closed empty, the load was cancelled. */
static struct load_item *take(struct load_writer *w)
{
	struct bqueue_node *n = bqueue_pop(&w->queue);

	return n ? container_of(n, struct load_item, node) : NULL;
}

static void *writer_main(void *arg)
{
	struct load_writer *w = arg;
	struct load_item *item;

	while ((item = take(w)) != NULL) {
		uint64_t t0 = vmt_monotonic_ns();
		int rc = w->handle(w->ctx, item);

		w->busy_ns += vmt_monotonic_ns() - t0;
		w->items++;
		load_item_free(item);
		if (rc)
			break;
	}
	bqueue_stop(&w->queue);
	if (w->stopped_fd >= 0)
		(void)eventfd_write(w->stopped_fd, 1);
	return NULL;
}

int load_writer_start(struct load_writer *w, uint64_t limit, load_item_fn handle, void *ctx,
		      const atomic_bool *cancel, int stopped_fd)
{
	sigset_t all, old;
	int rc;

	*w = (struct load_writer){ .handle = handle, .ctx = ctx, .stopped_fd = stopped_fd };
	bqueue_init(&w->queue, limit, cancel);
	/* Created with every signal blocked, so a stop signal always reaches the main thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(&w->thread, NULL, writer_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		bqueue_destroy(&w->queue);
		return -rc;
	}
	w->started = true;
	return 0;
}

int load_writer_push(struct load_writer *w, struct load_item *item)
{
	int64_t queued;

	item->node.size = item->len;
	queued = bqueue_push(&w->queue, &item->node);
	if (queued < 0) {
		load_item_free(item);
		return (int)queued;
	}
	if ((uint64_t)queued > w->peak)
		w->peak = (uint64_t)queued;
	return 0;
}

void load_writer_close(struct load_writer *w)
{
	if (w->started)
		bqueue_close(&w->queue);
}

void load_writer_wake(struct load_writer *w)
{
	if (w->started)
		bqueue_wake(&w->queue);
}

bool load_writer_stopped(struct load_writer *w)
{
	return !w->started || bqueue_stopped(&w->queue);
}

void load_writer_join(struct load_writer *w)
{
	struct bqueue_node *n;

	if (!w->started)
		return;
	pthread_join(w->thread, NULL);
	w->started = false;
	n = bqueue_drain(&w->queue);
	while (n) {
		struct load_item *item = container_of(n, struct load_item, node);

		n = n->next;
		load_item_free(item);
	}
	bqueue_destroy(&w->queue);
}

/*
 * The load's writers: the handler each target's writer runs for an item
 * (write a chunk, or check and end the device), and the main thread's
 * side, which feeds the writers and ends them.
 */

/* Which record an item came from, for its messages: the record being handled. */
static void stamp_item(const struct load *ld, struct load_item *item)
{
	item->seq = ld->rec.seq;
	item->type = ld->rec.type;
	item->rec_offset = ld->rec.offset;
	item->file = ld->input_name;
}

/* An item for t's writer, from the record being handled. NULL (failure recorded) without memory. */
static struct load_item *new_item(struct load *ld, enum load_item_kind kind, uint32_t len)
{
	struct load_item *item = load_item_new(kind, len);

	if (!item) {
		load_fail(ld, VMT_EXIT_FAILURE, "%s: out of memory for a chunk of %u bytes",
			  ld->input_name, len);
		return NULL;
	}
	stamp_item(ld, item);
	return item;
}

/*
 * The record being handled gives its payload buffer to the item (the
 * reader reads the next record into a new one: a chunk moves without a
 * copy); a chunk from the reorder buffer, whose buffers are reused, is
 * copied.
 */
int load_queue_chunk(struct load *ld, struct load_target *t, const struct load_chunk *c)
{
	void *buf = c->data == ld->rec.data.data ? load_take_payload(ld) : NULL;
	struct load_item *item;

	if (buf) {
		item = load_item_adopt(LOAD_ITEM_CHUNK, buf, c->data, c->len);
		if (!item)
			return load_fail(ld, VMT_EXIT_FAILURE,
					 "%s: out of memory for a chunk of %u bytes",
					 ld->input_name, c->len);
		stamp_item(ld, item);
	} else {
		item = new_item(ld, LOAD_ITEM_CHUNK, c->len);
		if (!item)
			return -ENOMEM;
		memcpy(item->data, c->data, c->len);
	}
	item->chunk_index = c->chunk_index;
	item->offset = c->offset;
	load_reorder_advance(t->reorder, c->len);
	t->queued_bytes += c->len;
	t->queued_chunks++;
	return load_writer_push(&t->writer, item);
}

int load_queue_device_end(struct load *ld, struct load_target *t,
			  const struct migstream_device_end *end)
{
	struct load_item *item = new_item(ld, LOAD_ITEM_DEVICE_END, 0);
	int rc;

	if (!item)
		return -ENOMEM;
	item->end = *end;
	rc = load_writer_push(&t->writer, item);
	if (rc == 0)
		load_writer_close(&t->writer);
	return rc;
}

/* Writer thread: one chunk to the device, then its switchover-ack if that made it due. */
static int write_chunk(struct load *ld, unsigned int index, const struct load_item *item)
{
	struct load_target *t = &ld->targets[index];
	char where[128];
	int rc = load_target_write(t, item->data, item->len);

	if (rc < 0)
		vmt_events_io_failed(ld->events, t->spec, "write", "RESUMING", item->offset, rc);
	if (rc < 0)
		return load_fail_item(
			ld, item, load_device_exit_code(rc),
			"%s: %s: writing state bytes %llu..%llu to the device failed: %s%s",
			t->spec, load_item_where(item, where, sizeof(where)),
			(unsigned long long)item->offset,
			(unsigned long long)(item->offset + item->len), strerror(-rc),
			load_device_rejects_data(rc) ? " (the device rejected the state)" : "");
	rc = load_reply_written(ld->reply, ld->targets, index);
	if (rc < 0)
		return load_fail_item(ld, item, VMT_EXIT_FAILURE,
				      "return fd %d: writing to the source: %s", ld->opts.return_fd,
				      strerror(-rc));
	return 0;
}

/*
 * Writer thread, after the device's last chunk: every chunk the main
 * thread queued was written (the queue is in order), so what reached the
 * device is checked against DEVICE_END and the driver gets to check it.
 */
static int end_device(struct load *ld, struct load_target *t, const struct load_item *item)
{
	const struct migstream_device_end *end = &item->end;
	uint64_t digest, written = t->written;
	char where[128];
	int rc;

	load_item_where(item, where, sizeof(where));
	if (written != end->total_bytes || t->chunks != end->chunk_count)
		return load_fail_item(
			ld, item, VMT_EXIT_BADDATA,
			"%s: %s: device %u ends after %llu bytes in %llu chunks, but %llu bytes in %llu "
			"chunks reached the device",
			item->file, where, end->device, (unsigned long long)end->total_bytes,
			(unsigned long long)end->chunk_count, (unsigned long long)written,
			(unsigned long long)t->chunks);
	if (!load_target_digest_matches(t, end->state_digest, &digest))
		return load_fail_item(
			ld, item, VMT_EXIT_BADDATA,
			"%s: %s: device %u: state digest mismatch (DEVICE_END %016llx, bytes loaded in "
			"chunk order %016llx)",
			item->file, where, end->device, (unsigned long long)end->state_digest,
			(unsigned long long)digest);
	load_events_device_written(ld, t);
	rc = load_target_end_resume(t);
	if (rc < 0)
		return load_fail_item(
			ld, item, load_device_exit_code(rc),
			"%s: %s: the device %s the loaded state (RESUMING -> STOP: %s)", t->spec,
			where, load_device_rejects_data(rc) ? "rejected" : "failed to take",
			strerror(-rc));
	t->summary->chunks = t->chunks;
	t->summary->digest = end->state_digest;
	t->summary->digest_checked = true;
	t->summary->loaded_ns = vmt_monotonic_ns();
	vmt_dbg("%s: %llu bytes loaded and accepted, digest %016llx, now STOP", t->spec,
		(unsigned long long)written, (unsigned long long)end->state_digest);
	return 0;
}

static int handle_item(void *ctx, struct load_item *item)
{
	const struct writer_ctx *wc = ctx;
	struct load_target *t = &wc->ld->targets[wc->index];

	if (item->kind == LOAD_ITEM_DEVICE_END)
		return end_device(wc->ld, t, item);
	return write_chunk(wc->ld, wc->index, item);
}

int load_start_writer(struct load *ld, struct load_target *t)
{
	int rc =
		load_writer_start(&t->writer, ld->opts.queue_limit, handle_item,
				  &ld->writer_ctx[t - ld->targets], &ld->cancelled, ld->writers_fd);

	if (rc < 0)
		return load_fail(ld, VMT_EXIT_FAILURE, "%s: cannot start its writer thread: %s",
				 t->spec, strerror(-rc));
	return 0;
}

/* Collects a writer's figures into its target's summary (after it stopped). */
static void writer_summary(struct load_target *t)
{
	t->summary->writer_ns = t->writer.busy_ns;
	t->summary->writer_bytes = t->written;
	t->summary->queue_peak = t->writer.peak;
}

/*
 * A stop signal interrupts the load: a slow device must not keep the
 * others RESUMING after the user asked to stop. Each writer tells
 * writers_fd when it stops, so the last one's end is seen at once: this
 * wait is in the downtime (a 20 ms poll here was up to 20 ms of it).
 */
int load_drain_writers(struct load *ld)
{
	for (unsigned int i = 0; i < ld->target_count; i++)
		load_writer_close(&ld->targets[i].writer);
	for (;;) {
		struct pollfd pfd = { .fd = ld->writers_fd, .events = POLLIN };
		eventfd_t stopped;
		bool busy = false;

		/* reset first: a writer that stops after the look below is heard */
		if (ld->writers_fd >= 0)
			(void)eventfd_read(ld->writers_fd, &stopped);
		for (unsigned int i = 0; i < ld->target_count; i++)
			busy |= !load_writer_stopped(&ld->targets[i].writer);
		if (!busy || atomic_load(&ld->cancelled))
			return 0;
		if (vmt_stop_signal())
			return load_interrupted(ld);
		/* without the eventfd (it could not be made), a poll every 20 ms */
		vmt_signal_poll(&pfd, ld->writers_fd >= 0 ? 1 : 0,
				ld->writers_fd >= 0 ? -1 : 20 * 1000 * 1000);
	}
}

int load_stop_writers(struct load *ld)
{
	if (vmt_failed(&ld->failure))
		load_cancel(ld);
	for (unsigned int i = 0; i < ld->target_count; i++)
		load_writer_close(&ld->targets[i].writer);
	for (unsigned int i = 0; i < ld->target_count; i++) {
		struct load_target *t = &ld->targets[i];

		if (!t->writer.started)
			continue;
		load_writer_join(&t->writer);
		writer_summary(t);
	}
	return atomic_load(&ld->cancelled) ? -ECANCELED : 0;
}
