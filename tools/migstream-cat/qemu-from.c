// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * --from-qemu: QEMU's migration stream in, a migstream of its VFIO devices
 * out, so that what QEMU sent can be loaded into a device outside QEMU
 * (vfio-mig-load). One DEVICE per VFIO device, named by its idstr; its
 * pre-copy bytes as pre-copy phases (PRECOPY_INITIAL up to the device's
 * first DEV_INIT_DATA_SENT, which becomes an INIT_DATA_SENT record,
 * PRECOPY_DIRTY after it), its complete phase as STOP_COPY. The bytes are
 * written as the reader hands them out, so QEMU's exec: URI can feed a
 * load live. With multifd channels (files after or before the main
 * channel), the main channel is read first, then the channels' device
 * buffers, in index order, as STOP_COPY.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/exitcodes.h"
#include "common/log.h"
#include "stream/qemu-multifd.h"
#include "stream/reply.h"
#include "stream/writer.h"
#include "vfio/state.h"
#include "output.h"
#include "qemu-cat.h"
#include "qemu-scan.h"
#include "qemu-set.h"

struct from_dev {
	char idstr[256];
	uint32_t instance_id;
	bool declared;	     /* its DEVICE record is out */
	uint32_t marks;	     /* DEV_INIT_DATA_SENT tags so far */
	uint64_t bytes;	     /* device bytes written */
	uint64_t since_mark; /* pre-copy bytes since the last mark */
};

struct from_ctx {
	const struct cat_opts *o;
	struct migstream_writer *w;
	struct qemu_stream *r; /* the main channel's reader: config heads */
	struct from_dev dev[MIGSTREAM_MAX_DEVICES];
	uint32_t ndev;
	struct cat_qemu_set set;
};

/* The device of an idstr and instance, numbered in the order QEMU first sent it; NULL when full. */
static struct from_dev *device_of(struct from_ctx *ctx, const char *idstr, uint32_t instance_id,
				  uint32_t *index)
{
	struct from_dev *d;

	for (uint32_t i = 0; i < ctx->ndev; i++) {
		d = &ctx->dev[i];
		if (d->instance_id == instance_id && strcmp(d->idstr, idstr) == 0) {
			*index = i;
			return d;
		}
	}
	if (ctx->ndev == MIGSTREAM_MAX_DEVICES)
		return NULL;
	*index = ctx->ndev;
	d = &ctx->dev[ctx->ndev++];
	memset(d, 0, sizeof(*d));
	snprintf(d->idstr, sizeof(d->idstr), "%s", idstr);
	d->instance_id = instance_id;
	return d;
}

/* The config head the main channel kept for the device, if its config state came already. */
static const struct qemu_vfio_device *main_device(const struct from_ctx *ctx,
						  const struct from_dev *d)
{
	size_t n = ctx->r ? qemu_stream_vfio_count(ctx->r) : 0;

	for (size_t i = 0; i < n; i++) {
		const struct qemu_vfio_device *q = qemu_stream_vfio_device(ctx->r, i);

		if (q->instance_id == d->instance_id && strcmp(q->idstr, d->idstr) == 0)
			return q;
	}
	return NULL;
}

/*
 * DEVICE, before the device's first data or mark: the PCI identity when
 * the config state came before (QEMU sends it after the data, as the
 * non-iterable part, so usually not), pre-copy support when the first
 * thing written is pre-copy.
 */
static int declare(struct from_ctx *ctx, struct from_dev *d, uint32_t index, bool precopy)
{
	static struct migstream_device dev; /* 4 KiB of name: not on the stack */
	const struct qemu_vfio_device *q = main_device(ctx, d);
	struct qemu_pci_ids ids;
	int rc;

	if (d->declared)
		return 0;
	memset(&dev, 0, sizeof(dev));
	dev.index = index;
	dev.mig_flags = VFIO_MIGRATION_STOP_COPY | (precopy ? VFIO_MIGRATION_PRE_COPY : 0);
	dev.stop_copy_size = MIGSTREAM_SIZE_UNKNOWN;
	snprintf(dev.name, sizeof(dev.name), "%s", d->idstr);
	if (q && cat_qemu_pci_ids(q->config_head, q->config_head_len, &ids)) {
		dev.id_flags = MIGSTREAM_DEV_PCI_IDS;
		dev.vendor = ids.vendor;
		dev.device = ids.device;
		dev.subsys_vendor = ids.subsystem_vendor;
		dev.subsys_device = ids.subsystem;
		dev.class_code = ids.class_code;
		dev.revision = ids.revision;
	}
	rc = migstream_write_device(ctx->w, &dev);
	if (rc == 0)
		d->declared = true;
	return rc;
}

static int write_bytes(struct from_ctx *ctx, const char *idstr, uint32_t instance_id, bool precopy,
		       const uint8_t *data, size_t len)
{
	enum migstream_phase phase = MIGSTREAM_PHASE_STOP_COPY;
	uint32_t index;
	struct from_dev *d = device_of(ctx, idstr, instance_id, &index);
	int rc;

	if (!d)
		return -E2BIG;
	rc = declare(ctx, d, index, precopy);
	if (rc)
		return rc;
	if (precopy)
		phase = d->marks ? MIGSTREAM_PHASE_PRECOPY_DIRTY : MIGSTREAM_PHASE_PRECOPY_INITIAL;
	rc = migstream_write_data(ctx->w, index, phase, data, len);
	if (rc)
		return rc;
	d->bytes += len;
	if (precopy)
		d->since_mark += len;
	return 0;
}

/* DEV_INIT_DATA_SENT: the initial data QEMU sent so far is all there is; the loader may ack. */
static int write_mark(struct from_ctx *ctx, const struct qemu_section *sec)
{
	uint8_t buf[MIGSTREAM_INIT_DATA_SENT_LEN];
	uint32_t index;
	struct from_dev *d = device_of(ctx, sec->idstr, sec->instance_id, &index);
	struct migstream_init_data_sent m;
	int rc;

	if (!d)
		return -E2BIG;
	rc = declare(ctx, d, index, true);
	if (rc)
		return rc;
	d->marks++;
	m = (struct migstream_init_data_sent){
		.device = index,
		.generation = d->marks,
		.offset = d->bytes,
		.initial = d->since_mark,
	};
	d->since_mark = 0;
	migstream_encode_init_data_sent(&m, buf);
	return migstream_write_record(ctx->w, MIGSTREAM_REC_INIT_DATA_SENT, MIGSTREAM_RF_ANCILLARY,
				      buf, sizeof(buf));
}

static int main_event(void *vctx, const struct cat_stream *s, struct qemu_stream *r,
		      const struct qemu_event *ev)
{
	struct from_ctx *ctx = vctx;
	uint32_t index;
	int rc = 0;

	(void)s;
	ctx->r = r;
	switch (ev->type) {
	case QEMU_EV_SECTION_BEGIN:
		/* numbered as QEMU first sends them */
		if (ev->sec->kind == QEMU_KIND_VFIO &&
		    !device_of(ctx, ev->sec->idstr, ev->sec->instance_id, &index))
			rc = -E2BIG;
		break;
	case QEMU_EV_VFIO_DATA:
		rc = write_bytes(ctx, ev->sec->idstr, ev->sec->instance_id,
				 ev->phase == QEMU_VFIO_PRECOPY, ev->data, ev->len);
		break;
	case QEMU_EV_VFIO_TAG:
		if (ev->tag == QEMU_VFIO_DEV_INIT_DATA_SENT)
			rc = write_mark(ctx, ev->sec);
		break;
	default:
		break;
	}
	if (rc == -E2BIG) {
		vmt_err("%s: more than %u VFIO devices", s->name, MIGSTREAM_MAX_DEVICES);
		return VMT_EXIT_BADDATA;
	}
	return rc ? cat_writer_error(rc) : VMT_EXIT_OK;
}

/* Devices that sent no data still get their DEVICE: a load then knows of them. */
static int main_end(void *vctx, const struct cat_stream *s, struct qemu_stream *r)
{
	struct from_ctx *ctx = vctx;

	(void)s;
	ctx->r = r;
	for (uint32_t i = 0; i < ctx->ndev; i++) {
		int rc = declare(ctx, &ctx->dev[i], i, false);

		if (rc)
			return cat_writer_error(rc);
	}
	ctx->r = NULL; /* freed after this */
	return VMT_EXIT_OK;
}

static int read_main(struct from_ctx *ctx)
{
	static const struct cat_qemu_ops ops = {
		.event = main_event,
		.end = main_end,
	};
	struct cat_qemu_input *in = &ctx->set.in[ctx->set.main_input];

	return cat_qemu_read(ctx->o, &in->s, &in->head, &ops, ctx, &ctx->set.page_size);
}

static int multifd_event(void *vctx, const struct cat_qemu_set *set,
			 const struct qemu_multifd_event *ev)
{
	struct from_ctx *ctx = vctx;
	int rc;

	(void)set;
	if (ev->type != QEMU_MF_EV_DEVICE_DATA)
		return VMT_EXIT_OK;
	rc = write_bytes(ctx, ev->idstr, ev->instance_id, false, ev->data, ev->len);
	if (rc == -E2BIG) {
		vmt_err("more than %u VFIO devices", MIGSTREAM_MAX_DEVICES);
		return VMT_EXIT_BADDATA;
	}
	return rc ? cat_writer_error(rc) : VMT_EXIT_OK;
}

/* The multifd channels' device buffers, merged in index order, after the main channel. */
static int read_multifd(struct from_ctx *ctx)
{
	static const struct cat_multifd_ops ops = { .event = multifd_event };

	return cat_qemu_set_read_multifd(ctx->o, &ctx->set, &ops, ctx);
}

static int convert(struct from_ctx *ctx)
{
	struct migstream_writer_opts wopts = { .producer = "migstream-cat" };
	int rc, status;

	status = cat_qemu_set_open(ctx->o, &ctx->set);
	if (status)
		return status;
	rc = migstream_writer_new(&ctx->w, STDOUT_FILENO, &wopts);
	if (rc < 0)
		return cat_writer_error(rc);
	status = read_main(ctx);
	if (status == VMT_EXIT_OK && cat_qemu_set_has_multifd(&ctx->set))
		status = read_multifd(ctx);
	if (status)
		return status; /* no STREAM_END: a load of it fails, the target is never left loaded */
	rc = migstream_writer_finish(ctx->w);
	if (rc < 0)
		return cat_writer_error(rc);
	vmt_dbg("%u VFIO devices, %llu stream bytes", ctx->ndev,
		(unsigned long long)migstream_writer_offset(ctx->w));
	return VMT_EXIT_OK;
}

int cat_from_qemu(const struct cat_opts *o)
{
	struct from_ctx *ctx;
	int status;

	/* 64 devices' names: off the stack */
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx) {
		vmt_err("out of memory");
		return VMT_EXIT_FAILURE;
	}
	ctx->o = o;
	status = convert(ctx);
	if (ctx->w)
		migstream_writer_free(ctx->w);
	cat_qemu_set_close(&ctx->set);
	free(ctx);
	return status;
}
