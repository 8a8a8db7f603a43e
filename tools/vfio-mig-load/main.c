// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vfio-mig-load: read a migstream and resume VFIO devices from it.
 *
 * Every byte reaches a device only after the reader verified its record;
 * a device's state is only started after its DEVICE_END totals and digest
 * matched and its driver accepted the data (RESUMING -> STOP). Any failure
 * is recorded where it happens and passed up; report() then resets every
 * device this run touched, so no device is left RESUMING or holding a half
 * (or unstarted) state, and the error line says where each device is now.
 *
 * Threads: the main thread reads the stream and handles every record; each
 * target has a writer thread (writer.h) that takes its checked chunks in
 * chunk order from a bounded queue, writes them, sends the device's
 * switchover-ack when due, and at DEVICE_END checks the totals and leaves
 * RESUMING. A slow device so holds up only its own queue. A failure on any
 * thread is recorded (fail(), under a lock) and cancels the others: the
 * writers at their next item, the main thread's wait for input through an
 * eventfd. The devices are reset by report(), after every writer stopped.
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <popt.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/c.h"
#include "common/closestream.h"
#include "common/exitcodes.h"
#include "common/failure.h"
#include "common/fdio.h"
#include "common/json-doc.h"
#include "common/log.h"
#include "common/progress.h"
#include "common/signals.h"
#include "common/strutils.h"
#include "common/summary-file.h"
#include "common/textescape.h"
#include "common/timeutil.h"
#include "stream/channel-set.h"
#include "stream/reader.h"
#include "stream/record-alloc.h"
#include "stream/reply.h"
#include "vfio/device-cli.h"
#include "vfio/mig.h"
#include "compat.h"
#include "options.h"
#include "reply.h"
#include "target.h"
#include "writer.h"

struct load;

/* What a writer thread's handler needs: its load and its target. */
struct writer_ctx {
	struct load *ld;
	unsigned int index; /* in ld->targets */
};

struct load {
	struct load_options opts;
	const char *input_name; /* of the record being handled: its channel's, with a set */
	int input_fd;
	struct migstream_reader *reader;
	/*
	 * Several -i: the channels of a set, read as one stream by
	 * lib/stream/channel-set (then reader is NULL); the record's channel.
	 */
	struct migstream_channel_set *set;
	const char *channel_names[MIGSTREAM_MAX_CHANNELS];
	int channel_fds[MIGSTREAM_MAX_CHANNELS];
	unsigned int channel_count;
	unsigned int rec_channel;
	uint64_t set_records;
	struct load_target *targets;
	unsigned int target_count;
	/*
	 * Every target's DEVICE record was read, or the stream's first record
	 * of device data came: from here on the targets are RESUMING.
	 */
	bool declared;
	struct load_summary summary;
	struct vmt_progress progress;
	uint64_t input_size; /* the progress line's total: a file's size, 0 for a pipe */
	struct migstream_record rec; /* the record being handled, for messages */
	bool have_rec;
	struct vmt_failure failure;  /* the first failure, if any */
	int dry_run_code;	     /* --dry-run: the worst verdict so far, as an exit code */
	struct load_reply *reply; /* --return-fd, or NULL */
	struct writer_ctx *writer_ctx; /* per target */
	pthread_mutex_t fail_lock;  /* failure: recorded by any thread */
	atomic_bool cancelled;	     /* a failure: every thread stops */
	int wake_fd;		     /* eventfd: the cancel ends a wait for input */
};

/* Errors with which a driver refuses the bytes it is given: bad data, not a broken device. */
static bool device_rejects_data(int neg_errno)
{
	switch (-neg_errno) {
	case EINVAL: /* RESUMING -> STOP: incomplete or inconsistent (mtty_load_state) */
	case EFAULT: /* mtty_resume_write: header failed validation */
	case ENOMEM: /* mtty_resume_write: more bytes than the state holds */
	case EFBIG:
	case ENOSPC:
	case EBADMSG:
		return true;
	default:
		return false;
	}
}

static int exit_code_for_device_error(int neg_errno)
{
	if (device_rejects_data(neg_errno))
		return VMT_EXIT_BADDATA;
	return vmt_exit_code_for_error(neg_errno);
}

/* "record 12 (DATA) at byte 4096" for the record being handled. */
static const char *record_where(const struct load *ld, char *buf, size_t len)
{
	if (!ld->have_rec) {
		snprintf(buf, len, "at byte %llu",
			 (unsigned long long)(ld->reader ? migstream_reader_offset(ld->reader) : 0));
		if (ld->set)
			snprintf(buf, len, "after %llu bytes of the channels",
				 (unsigned long long)migstream_channel_set_bytes(ld->set));
		return buf;
	}
	snprintf(buf, len, "record %u (%s) at byte %llu", ld->rec.seq,
		 migstream_record_type_name(ld->rec.type), (unsigned long long)ld->rec.offset);
	return buf;
}

/* The errno a failure of this exit code stands for, when the message says it all. */
static int errno_for_exit_code(int code)
{
	switch (code) {
	case VMT_EXIT_BADDATA:
		return -EBADMSG;
	case VMT_EXIT_USAGE:
		return -EINVAL;
	case VMT_EXIT_UNSUPPORTED:
		return -EOPNOTSUPP;
	default:
		return -EIO;
	}
}

/*
 * Records the failure (the first one only; later ones are its
 * consequences) and returns -errno. The message names file, record and
 * device itself; the stream and record go into the JSON error too. What
 * happens to the devices is decided once, in report().
 */
static void cancel_all(struct load *ld)
{
	static const uint64_t one = 1;

	atomic_store(&ld->cancelled, true);
	if (ld->set)
		migstream_channel_set_cancel(ld->set);
	for (unsigned int i = 0; i < ld->target_count; i++)
		load_writer_wake(&ld->targets[i].writer);
	if (ld->wake_fd >= 0 && write(ld->wake_fd, &one, sizeof(one)) < 0)
		vmt_dbg("waking the reader: %s", strerror(errno));
}

VMT_PRINTF(4, 0)
static int vfail_at(struct load *ld, const struct vmt_where *at, int code, const char *fmt, va_list ap)
{
	int err = errno_for_exit_code(code);

	pthread_mutex_lock(&ld->fail_lock);
	vmt_vfail(&ld->failure, at, err, code, true, fmt, ap);
	pthread_mutex_unlock(&ld->fail_lock);
	cancel_all(ld);
	return err;
}

VMT_PRINTF(4, 5)
static int fail_at(struct load *ld, const struct vmt_where *at, int code, const char *fmt, ...)
{
	va_list ap;
	int err;

	va_start(ap, fmt);
	err = vfail_at(ld, at, code, fmt, ap);
	va_end(ap);
	return err;
}

VMT_PRINTF(3, 4)
static int fail(struct load *ld, int code, const char *fmt, ...)
{
	struct vmt_where at = {
		.file = ld->input_name,
		.has_record = ld->have_rec,
		.record = ld->rec.seq,
		.record_type = ld->have_rec ? migstream_record_type_name(ld->rec.type) : NULL,
		.has_offset = ld->have_rec,
		.offset = ld->rec.offset,
		.what_says_where = true,
	};
	va_list ap;
	int err;

	va_start(ap, fmt);
	err = vfail_at(ld, &at, code, fmt, ap);
	va_end(ap);
	return err;
}

/* fail() for a writer thread: where is the record its item came from. */
VMT_PRINTF(4, 5)
static int fail_item(struct load *ld, const struct load_item *item, int code, const char *fmt, ...)
{
	struct vmt_where at = {
		.file = item->file,
		.has_record = true,
		.record = item->seq,
		.record_type = migstream_record_type_name(item->type),
		.has_offset = true,
		.offset = item->rec_offset,
		.what_says_where = true,
	};
	va_list ap;
	int err;

	va_start(ap, fmt);
	err = vfail_at(ld, &at, code, fmt, ap);
	va_end(ap);
	return err;
}

/* "record 12 (DATA) at byte 4096" for a writer's item. */
static const char *item_where(const struct load_item *item, char *buf, size_t len)
{
	snprintf(buf, len, "record %u (%s) at byte %llu", item->seq, migstream_record_type_name(item->type),
		 (unsigned long long)item->rec_offset);
	return buf;
}

static struct load_target *target_for_index(struct load *ld, uint32_t index)
{
	for (unsigned int i = 0; i < ld->target_count; i++)
		if (ld->targets[i].stream_index == index)
			return &ld->targets[i];
	return NULL;
}

/*
 * The target of a device the reader vouched for: it hands out DATA and
 * DEVICE_END only of a declared device, and handle_device gave every
 * declared device a target or failed.
 */
static struct load_target *declared_target(struct load *ld, uint32_t index)
{
	struct load_target *t = target_for_index(ld, index);

	assert(t && t->described);
	return t;
}

static int open_targets(struct load *ld)
{
	ld->targets = calloc(ld->opts.map_count, sizeof(*ld->targets));
	ld->summary.devices = calloc(ld->opts.map_count, sizeof(*ld->summary.devices));
	ld->writer_ctx = calloc(ld->opts.map_count, sizeof(*ld->writer_ctx));
	if (!ld->targets || !ld->summary.devices || !ld->writer_ctx)
		return vmt_fail(&ld->failure, NULL, -ENOMEM, 0, "allocating the targets");
	for (unsigned int i = 0; i < ld->opts.map_count; i++) {
		struct load_target *t = &ld->targets[i];
		int rc;

		t->spec = ld->opts.map[i].spec;
		t->stream_index = ld->opts.map[i].index;
		t->summary = &ld->summary.devices[i];
		t->summary->path = t->spec;
		t->summary->stream_index = t->stream_index;
		t->summary->final_state = VMT_STATE_UNKNOWN;
		ld->writer_ctx[i] = (struct writer_ctx){ .ld = ld, .index = i };
		ld->target_count = i + 1;
		ld->summary.device_count = ld->target_count;
		rc = load_target_open(t, ld->opts.group, ld->opts.reorder_limit);
		if (rc == -EOPNOTSUPP)
			return fail(ld, VMT_EXIT_UNSUPPORTED, "%s: device does not support migration", t->spec);
		if (rc < 0 && !t->dev)
			return vmt_fail_device_open(&ld->failure, t->spec, rc, 0);
		if (rc < 0)
			return fail(ld, vmt_exit_code_for_error(rc), "%s: reading its migration state: %s",
				    t->spec, strerror(-rc));
	}
	ld->summary.device_count = ld->target_count;
	return 0;
}

/*
 * --dry-run: the checks a load runs on a DEVICE record, each verdict said
 * as it comes (every device gets its verdict, not only the first refused);
 * the target is not touched.
 */
static int dry_run_device(struct load *ld, struct load_target *t,
			  const struct migstream_device *desc,
			  const struct load_target_identity *id, const char *name)
{
	char why[1280];
	int code = VMT_EXIT_OK;

	switch (load_compat_check(desc, id, why, sizeof(why))) {
	case LOAD_COMPAT_OK:
		vmt_info("%s: stream device %u ('%s') can be loaded", t->spec, desc->index, name);
		break;
	case LOAD_COMPAT_WARN:
		vmt_warn("%s: stream device %u ('%s') can be loaded: %s", t->spec, desc->index, name,
			 why);
		break;
	case LOAD_COMPAT_UNSUPPORTED:
		vmt_err("%s: %s (dry run: untouched, %s)", t->spec, why, vmt_state_name(t->dev->state));
		code = VMT_EXIT_UNSUPPORTED;
		break;
	case LOAD_COMPAT_MISMATCH:
		vmt_err("%s: stream device %u ('%s') is incompatible: %s (dry run: untouched, %s%s)",
			t->spec, desc->index, name, why, vmt_state_name(t->dev->state),
			ld->opts.force ? "; --force would load it anyway" : "");
		code = ld->opts.force ? VMT_EXIT_OK : VMT_EXIT_BADDATA;
		break;
	}
	if (code == VMT_EXIT_BADDATA || (code && !ld->dry_run_code))
		ld->dry_run_code = code;
	t->described = true;
	return 0;
}

static int handle_item(void *ctx, struct load_item *item);

static bool every_target_described(const struct load *ld)
{
	for (unsigned int i = 0; i < ld->target_count; i++)
		if (!ld->targets[i].described)
			return false;
	return true;
}

/* RESUMING, and the writer that takes the target's chunks from here on. */
static int begin_resume(struct load *ld, struct load_target *t)
{
	int rc = load_target_begin_resume(t);

	if (rc < 0)
		return fail(ld, exit_code_for_device_error(rc), "%s: cannot enter RESUMING: %s", t->spec,
			    strerror(-rc));
	vmt_dbg("%s: RESUMING, receiving stream device %u", t->spec, t->stream_index);
	rc = load_writer_start(&t->writer, ld->opts.queue_limit, handle_item,
			       &ld->writer_ctx[t - ld->targets], &ld->cancelled);
	if (rc < 0)
		return fail(ld, VMT_EXIT_FAILURE, "%s: cannot start its writer thread: %s", t->spec,
			    strerror(-rc));
	return 0;
}

/* "it has devices 0, 1 and 7": the devices the stream declared, for a message. */
static const char *declared_devices(const struct load *ld, char *buf, size_t len)
{
	unsigned int count = 0, said = 0;
	size_t n;

	for (unsigned int i = 0; i < ld->target_count; i++)
		count += ld->targets[i].described;
	n = (size_t)snprintf(buf, len, "it has %s", count == 0 ? "no device" : count == 1 ? "device " : "devices ");
	for (unsigned int i = 0; i < ld->target_count && n < len; i++) {
		if (!ld->targets[i].described)
			continue;
		said++;
		n += (size_t)snprintf(buf + n, len - n, "%s%u", said == 1 ? "" : said == count ? " and " : ", ",
				      ld->targets[i].stream_index);
	}
	return buf;
}

/*
 * Every target got its DEVICE record, or the stream's first record of
 * device data came (DATA, DEVICE_END, INIT_DATA_SENT or STREAM_END): its
 * DEVICE records were all read, as every vfio-migtools writer puts them
 * before any data. A target given for a device the stream did not declare
 * is refused then, before any device was touched. Otherwise every target
 * enters RESUMING, as early as the stream allows (the source is still
 * busy stopping its devices).
 */
static int begin_loading(struct load *ld)
{
	char where[128], devices[1024];
	int rc;

	ld->declared = true;
	for (unsigned int i = 0; i < ld->target_count; i++) {
		const struct load_target *t = &ld->targets[i];

		if (t->described)
			continue;
		return fail(ld, VMT_EXIT_BADDATA,
			    "%s: %s: target %s was given for stream device %u, which the stream does not have "
			    "(%s)", ld->input_name, record_where(ld, where, sizeof(where)), t->spec,
			    t->stream_index, declared_devices(ld, devices, sizeof(devices)));
	}
	for (unsigned int i = 0; !ld->opts.dry_run && i < ld->target_count; i++) {
		rc = begin_resume(ld, &ld->targets[i]);
		if (rc)
			return rc;
	}
	return 0;
}

static int handle_device(struct load *ld)
{
	const struct migstream_device *desc = &ld->rec.device;
	struct load_target_identity id;
	struct load_target *t;
	char where[128], why[1280];
	/* the name came from the stream: escaped for every message */
	char name[VMT_ESCAPED_SIZE(MIGSTREAM_MAX_STRING)];

	record_where(ld, where, sizeof(where));
	vmt_escape_text(desc->name, name, sizeof(name));
	/* The reader refused a second DEVICE of the same index: t is new. */
	t = target_for_index(ld, desc->index);
	if (!t)
		return fail(ld, VMT_EXIT_USAGE,
			    "%s: %s: stream device %u ('%s') has no target: give one with -d or --map %u=DEV",
			    ld->input_name, where, desc->index, name, desc->index);

	id = (struct load_target_identity){
		.mig_flags = t->dev->mig_flags,
		.has_pci_ids = t->dev->has_pci_ids,
		.vendor = t->dev->vendor,
		.device = t->dev->device,
		.subsys_vendor = t->dev->subsys_vendor,
		.subsys_device = t->dev->subsys_device,
		.class_code = t->dev->class_code,
		.revision = t->dev->revision,
		.driver = t->dev->driver,
		.mdev_type = t->dev->mdev_type,
	};
	if (ld->opts.dry_run)
		return dry_run_device(ld, t, desc, &id, name);
	switch (load_compat_check(desc, &id, why, sizeof(why))) {
	case LOAD_COMPAT_OK:
		break;
	case LOAD_COMPAT_WARN:
		vmt_warn("%s: stream device %u ('%s'): %s", t->spec, desc->index, name, why);
		break;
	case LOAD_COMPAT_UNSUPPORTED:
		return fail(ld, VMT_EXIT_UNSUPPORTED, "%s: %s", t->spec, why);
	case LOAD_COMPAT_MISMATCH:
		if (!ld->opts.force)
			return fail(ld, VMT_EXIT_BADDATA,
				    "%s: stream device %u ('%s') is incompatible: %s (--force loads it anyway)",
				    t->spec, desc->index, name, why);
		vmt_warn("%s: stream device %u ('%s'): %s; loading anyway (--force)", t->spec, desc->index,
			 name, why);
		break;
	}
	t->described = true;
	return every_target_described(ld) ? begin_loading(ld) : 0;
}

/* The return path broke: the source cannot hear from us, so it keeps its devices. */
static int reply_failed(struct load *ld, int err)
{
	return fail(ld, VMT_EXIT_FAILURE, "return fd %d: writing to the source: %s", ld->opts.return_fd,
		    strerror(-err));
}

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
		fail(ld, VMT_EXIT_FAILURE, "%s: out of memory for a chunk of %u bytes", ld->input_name, len);
		return NULL;
	}
	stamp_item(ld, item);
	return item;
}

/*
 * The record being handled, its payload buffer taken from the reader or
 * the channel set: the caller owns it (rec's pointers into it stay valid).
 * NULL when it cannot be taken.
 */
static void *take_record_payload(struct load *ld)
{
	size_t cap;

	if (ld->set)
		return migstream_channel_set_take_payload(ld->set, &ld->rec, &cap);
	return ld->reader ? migstream_reader_take_payload(ld->reader, &ld->rec, &cap) : NULL;
}

/*
 * A chunk that is next in order goes to its device's writer. The record
 * being handled gives its payload buffer to the item (the reader reads
 * the next record into a new one: a chunk moves without a copy); a chunk
 * from the reorder buffer, whose buffers are reused, is copied.
 * Waits while the device's queue is full.
 */
static int queue_chunk(struct load *ld, struct load_target *t, const struct load_chunk *c)
{
	void *buf = c->data == ld->rec.data.data ? take_record_payload(ld) : NULL;
	struct load_item *item;

	if (buf) {
		item = load_item_adopt(LOAD_ITEM_CHUNK, buf, c->data, c->len);
		if (!item)
			return fail(ld, VMT_EXIT_FAILURE, "%s: out of memory for a chunk of %u bytes",
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

/* Writer thread: one chunk to the device, then its switchover-ack if that made it due. */
static int write_chunk(struct load *ld, unsigned int index, const struct load_item *item)
{
	struct load_target *t = &ld->targets[index];
	char where[128];
	int rc = load_target_write(t, item->data, item->len);

	if (rc < 0)
		return fail_item(ld, item, exit_code_for_device_error(rc),
				 "%s: %s: writing state bytes %llu..%llu to the device failed: %s%s", t->spec,
				 item_where(item, where, sizeof(where)), (unsigned long long)item->offset,
				 (unsigned long long)(item->offset + item->len), strerror(-rc),
				 device_rejects_data(rc) ? " (the device rejected the state)" : "");
	rc = load_reply_written(ld->reply, ld->targets, index);
	if (rc < 0)
		return fail_item(ld, item, VMT_EXIT_FAILURE, "return fd %d: writing to the source: %s",
				 ld->opts.return_fd, strerror(-rc));
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

	item_where(item, where, sizeof(where));
	if (written != end->total_bytes || t->chunks != end->chunk_count)
		return fail_item(ld, item, VMT_EXIT_BADDATA,
				 "%s: %s: device %u ends after %llu bytes in %llu chunks, but %llu bytes in %llu "
				 "chunks reached the device", item->file, where, end->device,
				 (unsigned long long)end->total_bytes, (unsigned long long)end->chunk_count,
				 (unsigned long long)written, (unsigned long long)t->chunks);
	if (!load_target_digest_matches(t, end->state_digest, &digest))
		return fail_item(ld, item, VMT_EXIT_BADDATA,
				 "%s: %s: device %u: state digest mismatch (DEVICE_END %016llx, bytes loaded in "
				 "chunk order %016llx)", item->file, where, end->device,
				 (unsigned long long)end->state_digest, (unsigned long long)digest);
	rc = load_target_end_resume(t);
	if (rc < 0)
		return fail_item(ld, item, exit_code_for_device_error(rc),
				 "%s: %s: the device %s the loaded state (RESUMING -> STOP: %s)", t->spec, where,
				 device_rejects_data(rc) ? "rejected" : "failed to take", strerror(-rc));
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

static int handle_init_marker(struct load *ld)
{
	char where[128];
	int rc = load_reply_marker(ld->reply, &ld->rec, ld->targets, ld->target_count);

	if (rc == -EBADMSG)
		return fail(ld, VMT_EXIT_BADDATA, "%s: %s: malformed INIT_DATA_SENT record or unknown device",
			    ld->input_name, record_where(ld, where, sizeof(where)));
	if (rc < 0)
		return reply_failed(ld, rc);
	return 0;
}

/* The reader checked device, phase and order (or, reordering, each chunk once). */
static int handle_data(struct load *ld)
{
	const struct migstream_data data = ld->rec.data;
	struct load_target *t = declared_target(ld, data.device);
	struct load_chunk chunk;
	char where[128];
	int rc;

	record_where(ld, where, sizeof(where));
	if (data.phase == MIGSTREAM_PHASE_STOP_COPY && !ld->summary.stop_copy_start_ns)
		ld->summary.stop_copy_start_ns = vmt_monotonic_ns();
	t->summary->phase_bytes[data.phase] += data.len;
	t->summary->channel_mask |= 1ull << ld->rec_channel;

	chunk = (struct load_chunk){
		.chunk_index = data.chunk_index,
		.offset = data.offset,
		.data = data.data,
		.len = data.len,
	};
	rc = load_reorder_offer(t->reorder, &chunk);
	if (rc == -ENOBUFS) {
		char size[32], limit[32], held[32];

		return fail(ld, VMT_EXIT_BADDATA,
			    "%s: %s: device %u chunk %llu (%s) does not fit in the reorder buffer (%s, %s held) "
			    "while chunk %llu is missing; raise --reorder-buffer", ld->input_name, where,
			    data.device, (unsigned long long)data.chunk_index,
			    vmt_format_size(data.len, size, sizeof(size)),
			    vmt_format_size(ld->opts.reorder_limit, limit, sizeof(limit)),
			    vmt_format_size(load_reorder_held(t->reorder), held, sizeof(held)),
			    (unsigned long long)load_reorder_next_index(t->reorder));
	}
	if (rc < 0)
		return fail(ld, VMT_EXIT_BADDATA,
			    "%s: %s: device %u chunk %llu at state offset %llu does not follow chunk %llu "
			    "ending at %llu", ld->input_name, where, data.device,
			    (unsigned long long)data.chunk_index, (unsigned long long)data.offset,
			    (unsigned long long)load_reorder_next_index(t->reorder),
			    (unsigned long long)load_reorder_next_offset(t->reorder));
	if (rc == 0)
		return 0; /* kept until the chunks before it came */

	rc = queue_chunk(ld, t, &chunk);
	while (rc == 0 && (rc = load_reorder_next_ready(t->reorder, &chunk)) > 0)
		rc = queue_chunk(ld, t, &chunk);
	if (rc == -EBADMSG)
		return fail(ld, VMT_EXIT_BADDATA, "%s: %s: device %u chunk %llu has a wrong state offset",
			    ld->input_name, where, data.device, (unsigned long long)chunk.chunk_index);
	/* -ECANCELED: a writer failed, its failure is the one recorded */
	return rc;
}

static int handle_device_end(struct load *ld)
{
	const struct migstream_device_end end = ld->rec.device_end;
	struct load_target *t = declared_target(ld, end.device);
	struct load_item *item;
	char where[128];
	int rc;

	record_where(ld, where, sizeof(where));
	t->end_seen = true;
	if (ld->opts.dry_run) {
		/* the reader checked the totals and the digest; nothing reached a device */
		t->ended = true;
		return 0;
	}
	/*
	 * The reader checked the totals (and, in order, the digest) against
	 * the stream; this checks what was put in order for the device. The
	 * device's writer checks what reached it.
	 */
	if (load_reorder_pending(t->reorder) || t->queued_bytes != end.total_bytes ||
	    t->queued_chunks != end.chunk_count)
		return fail(ld, VMT_EXIT_BADDATA,
			    "%s: %s: device %u ends after %llu bytes in %llu chunks, but %llu bytes in %llu "
			    "chunks reached the device (%zu chunks still missing)", ld->input_name, where,
			    end.device, (unsigned long long)end.total_bytes,
			    (unsigned long long)end.chunk_count, (unsigned long long)t->queued_bytes,
			    (unsigned long long)t->queued_chunks, load_reorder_pending(t->reorder));
	t->summary->reorder_peak = load_reorder_peak(t->reorder);
	/*
	 * The writer checks and ends the device once its queue drained; the
	 * other devices' records go on meanwhile.
	 */
	item = new_item(ld, LOAD_ITEM_DEVICE_END, 0);
	if (!item)
		return -ENOMEM;
	item->end = end;
	rc = load_writer_push(&t->writer, item);
	if (rc == 0)
		load_writer_close(&t->writer);
	return rc;
}

static void log_stream_header(const struct load *ld, const struct migstream_stream_header *hdr)
{
	char producer[VMT_ESCAPED_SIZE(sizeof(hdr->producer))];
	char version[VMT_ESCAPED_SIZE(sizeof(hdr->producer_version))];
	char host[VMT_ESCAPED_SIZE(sizeof(hdr->host))];

	vmt_dbg("%s: stream from %s %s on %s", ld->input_name,
		vmt_escape_text(hdr->producer, producer, sizeof(producer)),
		vmt_escape_text(hdr->producer_version, version, sizeof(version)),
		vmt_escape_text(hdr->host, host, sizeof(host)));
}

/*
 * A CHANNEL record read as a whole stream (one -i): only a set of one
 * channel is whole; any other channel alone lacks the others' chunks.
 */
static int handle_channel(struct load *ld)
{
	struct migstream_channel ch;
	char where[128];

	record_where(ld, where, sizeof(where));
	if (migstream_decode_channel(&ld->rec, &ch) < 0)
		return fail(ld, VMT_EXIT_BADDATA, "%s: %s: malformed CHANNEL record", ld->input_name, where);
	if (ch.channel_count == 1)
		return 0;
	return fail(ld, VMT_EXIT_BADDATA,
		    "%s: %s: this is channel %u of a set of %u: the other channels are missing "
		    "(give each with -i)", ld->input_name, where, ch.channel, ch.channel_count);
}

/* The records that carry device data, or end the stream: none comes before its devices. */
static bool ends_declarations(uint16_t type)
{
	return type == MIGSTREAM_REC_DATA || type == MIGSTREAM_REC_DEVICE_END ||
	       type == MIGSTREAM_REC_INIT_DATA_SENT || type == MIGSTREAM_REC_STREAM_END;
}

static int handle_record(struct load *ld)
{
	int rc;

	if (!ld->declared && ends_declarations(ld->rec.type)) {
		rc = begin_loading(ld);
		if (rc)
			return rc;
	}
	switch (ld->rec.type) {
	case MIGSTREAM_REC_CHANNEL:
		return handle_channel(ld);
	case MIGSTREAM_REC_STREAM_HEADER:
		log_stream_header(ld, &ld->rec.stream_header);
		return 0;
	case MIGSTREAM_REC_DEVICE:
		return handle_device(ld);
	case MIGSTREAM_REC_DATA:
		/* --dry-run: the reader verified the record; it goes nowhere */
		return ld->opts.dry_run ? 0 : handle_data(ld);
	case MIGSTREAM_REC_DEVICE_END:
		return handle_device_end(ld);
	case MIGSTREAM_REC_INIT_DATA_SENT:
		return handle_init_marker(ld);
	default:
		/* PRECOPY_INFO, DIRTY_BITMAP, STREAM_END, unknown ancillary: nothing to load. */
		vmt_trace("%s: record %u (%s) skipped", ld->input_name, ld->rec.seq,
			  migstream_record_type_name(ld->rec.type));
		return 0;
	}
}

/* --dry-run's end: the verdicts were said; each target is where it was. */
static int dry_run_result(struct load *ld)
{
	for (unsigned int i = 0; i < ld->target_count; i++)
		vmt_dbg("%s: untouched, %s", ld->targets[i].spec,
			vmt_state_name(ld->targets[i].dev->state));
	return ld->dry_run_code;
}

/* After STREAM_END: every target got its device, then all are started together. */
static int finish_targets(struct load *ld)
{
	for (unsigned int i = 0; i < ld->target_count; i++) {
		struct load_target *t = &ld->targets[i];

		/* a target without its device was refused at the end of the DEVICE records */
		if (!t->end_seen)
			return fail(ld, VMT_EXIT_BADDATA, "%s: the stream ended without DEVICE_END for device %u",
				    ld->input_name, t->stream_index);
	}
	if (ld->opts.dry_run)
		return dry_run_result(ld);
	/*
	 * Started as a VMM starts them: every P2P device to RUNNING_P2P before
	 * any runs, so no running device can DMA to a peer that is still stopped.
	 */
	if (ld->opts.then_state == VFIO_DEVICE_STATE_RUNNING) {
		for (unsigned int i = 0; i < ld->target_count; i++) {
			struct load_target *t = &ld->targets[i];
			int rc;

			if (!(t->dev->mig_flags & VFIO_MIGRATION_P2P))
				continue;
			rc = load_target_finish(t, VFIO_DEVICE_STATE_RUNNING_P2P);
			if (rc < 0)
				return fail(ld, vmt_exit_code_for_error(rc), "%s: STOP -> RUNNING_P2P failed: %s",
					    t->spec, strerror(-rc));
		}
	}
	for (unsigned int i = 0; i < ld->target_count; i++) {
		struct load_target *t = &ld->targets[i];
		const char *from = vmt_state_name(t->dev->state);
		int rc = load_target_finish(t, ld->opts.then_state);

		if (rc < 0)
			return fail(ld, vmt_exit_code_for_error(rc), "%s: %s -> %s failed: %s", t->spec, from,
				    vmt_state_name(ld->opts.then_state), strerror(-rc));
		t->summary->final_state = t->dev->state;
	}
	ld->summary.final_state_ns = vmt_monotonic_ns();
	return 0;
}

static int interrupted(struct load *ld)
{
	char where[128];
	uint64_t at;

	/* a set waiting for its next record: the channel it waits for is the input */
	if (ld->set && !ld->have_rec) {
		ld->input_name = migstream_channel_set_waiting(ld->set, &at);
		return fail(ld, VMT_EXIT_FAILURE, "%s: interrupted by %s at byte %llu (waiting for its next record)",
			    ld->input_name, vmt_stop_signal_name(), (unsigned long long)at);
	}
	return fail(ld, VMT_EXIT_FAILURE, "%s: interrupted by %s %s", ld->input_name,
		    vmt_stop_signal_name(), record_where(ld, where, sizeof(where)));
}

/*
 * read(2) for the reader, except that a stop signal or a writer's failure
 * ends a blocked read (ECANCELED) instead of being retried: a stalled
 * sender must not keep a device RESUMING after the user asked to stop or
 * another device failed. The wait is a poll on the input and the wake
 * eventfd, which closes the race with a signal or cancel that comes just
 * before it.
 */
static ssize_t read_input(void *ctx, void *buf, size_t len)
{
	struct load *ld = ctx;

	for (;;) {
		struct pollfd fds[2] = {
			{ .fd = ld->input_fd, .events = POLLIN },
			{ .fd = ld->wake_fd, .events = POLLIN },
		};
		ssize_t n;
		int rc;

		if (atomic_load(&ld->cancelled))
			return -ECANCELED;
		rc = vmt_signal_poll(fds, ld->wake_fd >= 0 ? 2 : 1, -1);
		if (rc == -EINTR && vmt_stop_signal())
			return -ECANCELED;
		if (rc < 0 && rc != -EINTR)
			return rc;
		if (rc <= 0 || !fds[0].revents)
			continue;
		n = read(ld->input_fd, buf, len);
		if (n >= 0)
			return n;
		if (errno != EINTR && errno != EAGAIN)
			return -errno;
	}
}

/* Collects a writer's figures into its target's summary (after it stopped). */
static void writer_summary(struct load_target *t)
{
	t->summary->writer_ns = t->writer.busy_ns;
	t->summary->writer_bytes = t->written;
	t->summary->queue_peak = t->writer.peak;
}

/*
 * After the stream: waits until every writer emptied its queue, or a
 * writer failed, or a stop signal came (then the load is interrupted: a
 * slow device must not keep the others RESUMING after the user asked to
 * stop). Polled: this wait happens once per load.
 */
static int drain_writers(struct load *ld)
{
	for (unsigned int i = 0; i < ld->target_count; i++)
		load_writer_close(&ld->targets[i].writer);
	for (;;) {
		bool busy = false;

		for (unsigned int i = 0; i < ld->target_count; i++)
			busy |= !load_writer_stopped(&ld->targets[i].writer);
		if (!busy || atomic_load(&ld->cancelled))
			return 0;
		if (vmt_stop_signal())
			return interrupted(ld);
		vmt_signal_poll(NULL, 0, 20 * 1000 * 1000);
	}
}

/*
 * Ends every writer: on success after each drained its queue (the stream
 * is read: no more items come), else at once. 0, or -ECANCELED when a
 * writer failed (its failure is recorded).
 */
static int stop_writers(struct load *ld)
{
	if (vmt_failed(&ld->failure))
		cancel_all(ld);
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

/* Bytes read from the input or all channels so far. */
static uint64_t input_bytes(const struct load *ld)
{
	if (ld->set)
		return migstream_channel_set_bytes(ld->set);
	return ld->reader ? migstream_reader_offset(ld->reader) : 0;
}

/*
 * The set's threads block every signal, so a stop signal reaches this
 * thread; its wait for a record asks this in short steps.
 */
static bool set_cancelled(void *ctx)
{
	const struct load *ld = ctx;

	return vmt_stop_signal() || atomic_load(&ld->cancelled);
}

/* Several -i: the channels of one set (lib/stream/channel-set), merged into one stream. */
static int open_channel_set(struct load *ld)
{
	struct migstream_channel_input in[MIGSTREAM_MAX_CHANNELS];
	const struct migstream_channel_set_opts sopts = {
		.reorder_limit = ld->opts.reorder_limit,
		/* the read-ahead over all channels: one more queue (vfio-mig-load(1), MEMORY) */
		.queue_limit = ld->opts.queue_limit,
		/* with a return path the source keeps its channels open until our answer */
		.end_at_stream_end = ld->reply != NULL,
		.cancelled = set_cancelled,
		.cancel_ctx = ld,
	};
	int rc;

	for (unsigned int i = 0; i < ld->channel_count; i++)
		in[i] = (struct migstream_channel_input){ .fd = ld->channel_fds[i], .name = ld->channel_names[i] };
	rc = migstream_channel_set_open(&ld->set, in, ld->channel_count, &sopts);
	if (rc < 0)
		return fail(ld, vmt_exit_code_for_error(rc), "%s and %u more: cannot read them as a set: %s",
			    ld->channel_names[0], ld->channel_count - 1, strerror(-rc));
	return 0;
}

/* The next record of the stream or the set: 1, 0 at its end, or -errno. */
static int next_record(struct load *ld)
{
	int rc;

	if (!ld->set)
		return migstream_read_record(ld->reader, &ld->rec);
	rc = migstream_channel_set_next(ld->set, &ld->rec, &ld->rec_channel);
	if (rc > 0) {
		ld->input_name = ld->channel_names[ld->rec_channel];
		ld->set_records++;
	}
	return rc;
}

/*
 * The reader's message names the record and byte; the JSON error gets
 * them too, from the reader (the record was not handed out: ld->rec is
 * the one before it).
 */
static int reader_failed(struct load *ld, int rc)
{
	struct migstream_reader_where rw;
	struct vmt_where at = { .file = ld->input_name, .what_says_where = true };

	if (migstream_reader_error_where(ld->reader, &rw)) {
		at.has_record = rw.has_record;
		at.record = (uint32_t)rw.seq;
		at.record_type = rw.type;
		at.has_offset = true;
		at.offset = rw.offset;
	}
	return fail_at(ld, &at, vmt_exit_code_for_error(rc), "%s", migstream_reader_error(ld->reader));
}

/*
 * The stream or the set failed: bad data (a set's missing, repeated,
 * foreign or cut channel, or a reorder buffer too small for its
 * interleaving: exit 4), an I/O error, or a cancel after another failure
 * (then that one is what is said).
 */
static int input_failed(struct load *ld, int rc)
{
	if (!ld->set)
		return reader_failed(ld, rc);
	if (rc == -ECANCELED && atomic_load(&ld->cancelled))
		return rc;
	/* the set's message names the channel; the last record's is not it */
	ld->input_name = NULL;
	return fail(ld, rc == -ENOBUFS ? VMT_EXIT_BADDATA : vmt_exit_code_for_error(rc), "%s",
		    migstream_channel_set_error(ld->set));
}

static int run_load(struct load *ld)
{
	/*
	 * With a reorder buffer, chunks may come in any order: the reader
	 * still checks each record and that no chunk comes twice, the reorder
	 * buffer puts them back in order and checks offsets, and the targets
	 * hash what they write and check the digest at DEVICE_END.
	 */
	const struct migstream_reader_opts ropts = { .unordered_data = ld->opts.reorder_limit > 0 };
	int rc;

	if (ld->opts.return_fd >= 0) {
		rc = load_reply_open(&ld->reply, ld->opts.return_fd, ld->opts.map_count);
		if (rc < 0)
			return fail(ld, VMT_EXIT_FAILURE, "return fd %d: cannot start the reply stream: %s",
				    ld->opts.return_fd, strerror(-rc));
	}
	rc = open_targets(ld);
	if (rc)
		return rc;
	if (ld->channel_count > 1) {
		rc = open_channel_set(ld);
	} else {
		rc = migstream_reader_new_cb(&ld->reader, read_input, ld, ld->input_name, &ropts);
		if (rc < 0)
			return fail(ld, VMT_EXIT_FAILURE, "%s: %s", ld->input_name, strerror(-rc));
		vmt_grow_pipe(ld->input_fd);
	}
	if (rc)
		return rc;

	ld->summary.start_ns = vmt_monotonic_ns();
	for (;;) {
		if (vmt_stop_signal())
			return interrupted(ld);
		rc = next_record(ld);
		if (rc == 0)
			break;
		if (rc < 0) {
			ld->have_rec = false;
			if (vmt_stop_signal())
				return interrupted(ld);
			return input_failed(ld, rc);
		}
		ld->have_rec = true;
		rc = handle_record(ld);
		if (rc)
			return rc;
		if (atomic_load(&ld->cancelled))
			return -ECANCELED; /* a writer failed: its failure was recorded */
		vmt_progress_update(&ld->progress, NULL, input_bytes(ld), ld->input_size, false);
		/*
		 * The source keeps its end open until it has our answer: with a
		 * return path the stream ends at STREAM_END, not at end of file.
		 */
		if (ld->reply && ld->rec.type == MIGSTREAM_REC_STREAM_END)
			break;
	}
	ld->have_rec = false;
	rc = drain_writers(ld);
	if (rc == 0)
		rc = stop_writers(ld);
	if (rc)
		return rc;
	rc = finish_targets(ld);
	if (rc)
		return rc;
	rc = load_reply_result(ld->reply, VMT_EXIT_OK, "", ld->targets, ld->target_count, ld->opts.then_state);
	return rc < 0 ? reply_failed(ld, rc) : 0;
}

/*
 * The one place where a failed load puts the devices back: every device
 * this run touched is reset and brought back to its initial state, and
 * fates[] says where each one is now.
 */
static void recover_all(struct load *ld, struct vmt_device_fate *fates)
{
	for (unsigned int i = 0; i < ld->target_count; i++) {
		struct load_target *t = &ld->targets[i];
		unsigned int resets = t->dev ? t->dev->resets : 0;
		uint32_t state = VMT_STATE_UNKNOWN;
		bool failed = load_target_recover(t, &state) < 0;

		fates[i] = (struct vmt_device_fate){
			.name = t->spec,
			.state = vmt_state_name_or_null(state),
			.touched = t->touched,
			.reset = t->dev && t->dev->resets > resets,
			.recovery_failed = failed,
		};
		t->summary->final_state = state;
		t->summary->reset = fates[i].reset;
		t->summary->recovery_failed = failed;
	}
}

/*
 * Where each device is after a load that succeeded: for the error line of
 * a failure that came after (the devices stay loaded).
 */
static struct vmt_device_fate *loaded_fates(const struct load *ld)
{
	struct vmt_device_fate *fates = calloc(ld->target_count ? ld->target_count : 1, sizeof(*fates));

	for (unsigned int i = 0; fates && i < ld->target_count; i++)
		fates[i] = (struct vmt_device_fate){
			.name = ld->targets[i].spec,
			.state = vmt_state_name_or_null(ld->targets[i].dev ? ld->targets[i].dev->state : VMT_STATE_UNKNOWN),
			.touched = ld->targets[i].touched,
		};
	return fates;
}

/*
 * --summary-file, before anything is said: a summary that cannot be
 * written fails a load that succeeded (the user asked for it and it is
 * missing), and the document on stderr and the error line say so; the
 * devices stay loaded. After a failed load it is one more warning.
 * Returns the error line of that failure (malloc'd), or NULL.
 */
static char *write_summary_file(struct load *ld, const char *error_line)
{
	struct vmt_device_fate *fates;
	char *line;

	if (!ld->opts.summary_file ||
	    !vmt_summary_file_report(&ld->failure, ld->opts.summary_file,
				     load_summary_json(&ld->summary, &ld->failure, error_line), ld->opts.json,
				     "every device loaded, but "))
		return NULL;
	fates = loaded_fates(ld);
	line = vmt_failure_line(&ld->failure, fates, fates ? ld->target_count : 0);
	free(fates);
	return line;
}

/*
 * The load's outcome, told once: the error line (or, with --json, the
 * document that carries it) or the summary, and the summary file.
 * Returns the exit code.
 */
static int report(struct load *ld)
{
	bool failed = vmt_failed(&ld->failure);
	struct vmt_device_fate *fates = NULL;
	char *line = NULL, *summary_line;

	/* a dry run that read its stream: each verdict was said, nothing was loaded */
	if (ld->opts.dry_run && !failed) {
		vmt_progress_clear(&ld->progress);
		return ld->dry_run_code;
	}
	vmt_progress_clear(&ld->progress);
	ld->summary.end_ns = vmt_monotonic_ns();
	if (ld->reader || ld->set) {
		ld->summary.stream_bytes = input_bytes(ld);
		ld->summary.records = ld->reader ? migstream_reader_records(ld->reader) : ld->set_records;
	}
	if (ld->set)
		ld->summary.reorder_peak = migstream_channel_set_reorder_peak(ld->set);
	if (failed) {
		fates = calloc(ld->target_count ? ld->target_count : 1, sizeof(*fates));
		if (fates)
			recover_all(ld, fates);
		line = vmt_failure_line(&ld->failure, fates, fates ? ld->target_count : 0);
		if (!ld->opts.json)
			vmt_err("%s", line ? line : "out of memory");
		if (load_reply_result(ld->reply, vmt_failure_exit_code(&ld->failure), line ? line : "out of memory",
				      ld->targets, ld->target_count, ld->opts.then_state) < 0)
			vmt_warn("return fd %d: cannot send the failure to the source", ld->opts.return_fd);
	}
	summary_line = write_summary_file(ld, line);
	if (!failed && vmt_failed(&ld->failure)) {
		failed = true;
		line = summary_line;
		if (!ld->opts.json)
			vmt_err("%s", line ? line : "out of memory");
	}
	if (ld->opts.json)
		vmt_json_emit(stderr, load_summary_json(&ld->summary, &ld->failure, line));
	else if (!failed && vmt_log_level() >= VMT_LOG_INFO)
		load_summary_print_text(stderr, &ld->summary, vmt_log_level() >= VMT_LOG_DEBUG);
	free(line);
	free(fates);
	return failed ? vmt_failure_exit_code(&ld->failure) : VMT_EXIT_OK;
}

static void release(struct load *ld)
{
	for (unsigned int i = 0; i < ld->target_count; i++)
		load_target_close(&ld->targets[i]);
	free(ld->targets);
	free(ld->summary.devices);
	free(ld->writer_ctx);
	if (ld->wake_fd >= 0)
		close(ld->wake_fd);
	pthread_mutex_destroy(&ld->fail_lock);
	migstream_reader_free(ld->reader);
	/* the set's threads stop before the fds they read are closed */
	if (ld->set)
		migstream_channel_set_free(ld->set);
	for (unsigned int i = 0; ld->channel_count > 1 && i < ld->channel_count; i++)
		if (ld->channel_fds[i] >= 0 && strncmp(ld->opts.inputs[i], "fd:", 3) != 0 &&
		    strcmp(ld->opts.inputs[i], "-") != 0)
			close(ld->channel_fds[i]);
	load_reply_free(ld->reply);
	if (ld->input_fd > STDIN_FILENO && ld->opts.input_count && strncmp(ld->opts.inputs[0], "fd:", 3) != 0)
		close(ld->input_fd);
	load_options_free(&ld->opts);
	vmt_failure_free(&ld->failure);
}

struct channel_open {
	const char *path;
	int fd;	 /* or -errno */
};

static void *open_one_channel(void *arg)
{
	struct channel_open *co = arg;

	co->fd = open(co->path, O_RDONLY | O_CLOEXEC);
	if (co->fd < 0)
		co->fd = -errno;
	return NULL;
}

/*
 * Several -i: each file opened in a thread of its own, so FIFOs open in
 * whatever order their writers open them (a blocking open of a FIFO waits
 * for its writer: one at a time, in our order, could wait for ever on a
 * save that opens them in another). 0, or -errno with ld->input_name the
 * input that failed.
 */
static int open_channels(struct load *ld)
{
	struct channel_open co[MIGSTREAM_MAX_CHANNELS] = { 0 };
	pthread_t th[MIGSTREAM_MAX_CHANNELS];
	bool started[MIGSTREAM_MAX_CHANNELS] = { 0 };
	int err = 0;

	ld->channel_count = ld->opts.input_count;
	for (unsigned int i = 0; i < ld->channel_count; i++) {
		const char *in = ld->opts.inputs[i];

		ld->channel_names[i] = strcmp(in, "-") == 0 ? "<stdin>" : in;
		co[i].path = in;
		if (strcmp(in, "-") == 0) {
			co[i].fd = STDIN_FILENO;
		} else if (strncmp(in, "fd:", 3) == 0) {
			co[i].fd = (int)strtol(in + 3, NULL, 10); /* options.c checked it is open */
		} else if (pthread_create(&th[i], NULL, open_one_channel, &co[i]) == 0) {
			started[i] = true;
		} else {
			open_one_channel(&co[i]);
		}
	}
	for (unsigned int i = 0; i < ld->channel_count; i++) {
		if (started[i])
			pthread_join(th[i], NULL);
		ld->channel_fds[i] = co[i].fd;
		if (co[i].fd < 0 && !err) {
			err = co[i].fd;
			ld->input_name = ld->channel_names[i];
		}
	}
	return err;
}

/*
 * The input: standard input, a file or fd:N; or several, the channels of a
 * set. 0, or -errno of the open (a usage error exits).
 */
static int open_input(struct load *ld)
{
	const char *in = ld->opts.input_count ? ld->opts.inputs[0] : "-";

	if (ld->opts.input_count > 1)
		return open_channels(ld);
	if (strcmp(in, "-") == 0) {
		if (!vmt_binary_input_ok(STDIN_FILENO)) {
			load_options_free(&ld->opts);
			exit(VMT_EXIT_USAGE);
		}
		return 0;
	}
	ld->input_name = in;
	if (strncmp(in, "fd:", 3) == 0) {
		/* options.c checked that it is an open fd */
		ld->input_fd = (int)strtol(in + 3, NULL, 10);
		return 0;
	}
	ld->input_fd = open(in, O_RDONLY | O_CLOEXEC);
	return ld->input_fd < 0 ? -errno : 0;
}

int main(int argc, const char **argv)
{
	struct load ld = { .input_fd = STDIN_FILENO, .input_name = "<stdin>", .wake_fd = -1 };
	int code, open_err = 0;

	vmt_log_init(argv[0]);
	vmt_record_alloc_init();
	load_options_parse(&ld.opts, argc, argv);
	pthread_mutex_init(&ld.fail_lock, NULL);
	ld.summary.queue_limit = ld.opts.queue_limit;
	ld.summary.inputs = ld.opts.inputs;
	ld.summary.input_count = ld.opts.input_count;
	vmt_ignore_sigpipe();
	/*
	 * A stop signal ends the load at the next record, or a blocked read,
	 * and the devices are reset. SIGUSR1 is ignored: it is vfio-mig-save's
	 * switchover request, and "kill -USR1 %job" reaches the whole pipeline.
	 */
	vmt_signals_install(VMT_SIGUSR1_IGNORE);

	open_err = open_input(&ld);
	ld.wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	/* With --json, stderr carries the JSON document: no progress unless asked for. */
	vmt_progress_init(&ld.progress, ld.opts.progress || (!ld.opts.json && vmt_progress_wanted(false)));

	if (open_err) {
		vmt_fail(&ld.failure, &(struct vmt_where){ .file = ld.input_name }, open_err, 0,
			 "cannot open");
	} else {
		ld.input_size = ld.channel_count > 1 ? 0 : vmt_progress_fd_total(ld.input_fd);
		run_load(&ld);
	}
	/* after a failure: every writer stopped before report() resets the devices */
	stop_writers(&ld);
	code = report(&ld);
	release(&ld);
	if (vmt_close_stdout() != 0 && code == VMT_EXIT_OK)
		code = VMT_EXIT_FAILURE;
	return code;
}
