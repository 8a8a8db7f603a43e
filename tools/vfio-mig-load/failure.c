// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vfio-mig-load's failures; see failure.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/exitcodes.h"
#include "common/log.h"
#include "common/signals.h"
#include "stream/channel-set.h"
#include "stream/reader.h"
#include "failure.h"
#include "target.h"

bool load_device_rejects_data(int neg_errno)
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

int load_device_exit_code(int neg_errno)
{
	if (load_device_rejects_data(neg_errno))
		return VMT_EXIT_BADDATA;
	return vmt_exit_code_for_error(neg_errno);
}

const char *load_record_where(const struct load *ld, char *buf, size_t len)
{
	if (!ld->have_rec) {
		snprintf(
			buf, len, "at byte %llu",
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

const char *load_item_where(const struct load_item *item, char *buf, size_t len)
{
	snprintf(buf, len, "record %u (%s) at byte %llu", item->seq,
		 migstream_record_type_name(item->type), (unsigned long long)item->rec_offset);
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

void load_cancel(struct load *ld)
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

/* Any thread: the lock keeps the first failure whole when two threads fail at once. */
VMT_PRINTF(4, 0)
static int vfail_at(struct load *ld, const struct vmt_where *at, int code, const char *fmt,
		    va_list ap)
{
	int err = errno_for_exit_code(code);

	pthread_mutex_lock(&ld->fail_lock);
	vmt_vfail(&ld->failure, at, err, code, true, fmt, ap);
	pthread_mutex_unlock(&ld->fail_lock);
	load_cancel(ld);
	return err;
}

int load_fail_at(struct load *ld, const struct vmt_where *at, int code, const char *fmt, ...)
{
	va_list ap;
	int err;

	va_start(ap, fmt);
	err = vfail_at(ld, at, code, fmt, ap);
	va_end(ap);
	return err;
}

int load_fail(struct load *ld, int code, const char *fmt, ...)
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

int load_fail_item(struct load *ld, const struct load_item *item, int code, const char *fmt, ...)
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

int load_fail_reply(struct load *ld, int err)
{
	return load_fail(ld, VMT_EXIT_FAILURE, "return fd %d: writing to the source: %s",
			 ld->opts.return_fd, strerror(-err));
}

int load_interrupted(struct load *ld)
{
	char where[128];
	uint64_t at;

	/* a set waiting for its next record: the channel it waits for is the input */
	if (ld->set && !ld->have_rec) {
		ld->input_name = migstream_channel_set_waiting(ld->set, &at);
		return load_fail(ld, VMT_EXIT_FAILURE,
				 "%s: interrupted by %s at byte %llu (waiting for its next record)",
				 ld->input_name, vmt_stop_signal_name(), (unsigned long long)at);
	}
	return load_fail(ld, VMT_EXIT_FAILURE, "%s: interrupted by %s %s", ld->input_name,
			 vmt_stop_signal_name(), load_record_where(ld, where, sizeof(where)));
}
