// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Listing and verifying a QEMU migration stream: a row per element (every
 * section, subsection, command, footer), then a summary of RAM and of each
 * VFIO device.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/closestream.h"
#include "common/exitcodes.h"
#include "common/json-doc.h"
#include "common/log.h"
#include "common/textescape.h"
#include "fields.h"
#include "qemu-cat.h"
#include "qemu-scan.h"
#include "qemu-set.h"

struct qemu_list {
	const struct cat_opts *o;
	FILE *out; /* NULL: --verify */
	bool heading_done;
};

/* Sections that name a device: START and FULL give the identity, PART, END and FOOTER repeat it. */
static bool has_identity(unsigned int type)
{
	return type == QEMU_SEC_START || type == QEMU_SEC_PART || type == QEMU_SEC_END ||
	       type == QEMU_SEC_FULL || type == QEMU_SEC_FOOTER;
}

static bool has_version(unsigned int type)
{
	return type == QEMU_SEC_START || type == QEMU_SEC_FULL || type == QEMU_SEC_SUBSECTION;
}

static const char *type_name(unsigned int type)
{
	const char *name = qemu_section_type_name(type);

	return name ? name : "?";
}

static const char *command_name(unsigned int cmd)
{
	const char *name = qemu_command_name(cmd);

	return name ? name : "unknown";
}

/* What a row says besides its identity: RAM pages, VFIO tags and bytes, a command. */
static void section_info(const struct qemu_section *sec, const struct qemu_configuration *cfg,
			 char *buf, size_t len)
{
	const struct qemu_ram_counts *ram = &sec->ram;
	const struct qemu_vfio_counts *v = &sec->vfio;
	size_t used = 0;

	buf[0] = '\0';
	/* a footer only closes its section */
	if (sec->type == QEMU_SEC_FOOTER)
		return;
#define ADD(...)                                                                       \
	do {                                                                           \
		if (used < len)                                                        \
			used += (size_t)snprintf(buf + used, len - used, __VA_ARGS__); \
	} while (0)
	switch (sec->kind) {
	case QEMU_KIND_RAM:
		ADD("%" PRIu64 " pages, %" PRIu64 " zero, %" PRIu64 " bytes", ram->normal_pages,
		    ram->zero_pages, ram->page_bytes);
		break;
	case QEMU_KIND_VFIO:
		if (v->setup_states)
			ADD("setup ");
		if (v->precopy_bytes)
			ADD("pre-copy %" PRIu64 " bytes ", v->precopy_bytes);
		if (v->complete_bytes)
			ADD("complete %" PRIu64 " bytes ", v->complete_bytes);
		if (v->init_data_sent)
			ADD("DEV_INIT_DATA_SENT ");
		if (v->config_states)
			ADD("config %" PRIu64 " bytes ", v->config_bytes);
		if (used && buf[used - 1] == ' ')
			buf[--used] = '\0';
		break;
	default:
		break;
	}
	if (sec->kind == QEMU_KIND_OTHER)
		ADD("body skipped by its vmdesc sizes");
	if (sec->type == QEMU_SEC_HEADER)
		ADD("QEVM version %u", QEMU_VM_FILE_VERSION);
	if (sec->type == QEMU_SEC_CONFIGURATION && cfg) {
		/* the stream's text: shown safe */
		char shown[VMT_ESCAPED_SIZE(sizeof(cfg->machine))];

		ADD("machine %s", vmt_escape_text(cfg->machine, shown, sizeof(shown)));
	}
	if (sec->type == QEMU_SEC_COMMAND)
		ADD("%s, %u bytes", command_name(sec->command), sec->command_len);
	if (sec->type == QEMU_SEC_SUBSECTION)
		ADD("depth %u", sec->depth);
	if (sec->packaged)
		ADD("%s(packaged)", used ? " " : "");
#undef ADD
}

static void print_heading(FILE *out)
{
	fprintf(out, "%10s %5s %-13s %5s %-24s %5s %4s %10s  %s\n", "OFFSET", "#", "TYPE", "ID",
		"IDSTR", "INST", "VER", "BYTES", "INFO");
}

static void print_row_text(FILE *out, const struct qemu_section *sec,
			   const struct qemu_configuration *cfg)
{
	char id[16] = "-", inst[16] = "-", ver[16] = "-", info[256];

	if (has_identity(sec->type)) {
		snprintf(id, sizeof(id), "%" PRIu32, sec->section_id);
		snprintf(inst, sizeof(inst), "%" PRIu32, sec->instance_id);
	}
	if (has_version(sec->type))
		snprintf(ver, sizeof(ver), "%" PRIu32, sec->version_id);
	section_info(sec, cfg, info, sizeof(info));
	fprintf(out, "%10" PRIu64 " %5" PRIu64 " %-13s %5s ", sec->offset, sec->index,
		type_name(sec->type), id);
	if (sec->idstr[0]) {
		/* an idstr is the stream's: shown safe, padded as the column */
		int pad = 24 - (int)strlen(sec->idstr);

		cat_fputs_printable(sec->idstr, out);
		fprintf(out, "%*s", pad > 0 ? pad : 0, "");
	} else {
		fprintf(out, "%-24s", "-");
	}
	fprintf(out, " %5s %4s %10" PRIu64 "  %s\n", inst, ver, sec->bytes, info);
}

static const char *kind_name(enum qemu_section_kind kind)
{
	switch (kind) {
	case QEMU_KIND_RAM:
		return "ram";
	case QEMU_KIND_VFIO:
		return "vfio";
	case QEMU_KIND_OTHER:
		return "device";
	default:
		return "none";
	}
}

static struct json_object *new_doc(const char *type, const char *file)
{
	struct json_object *doc = vmt_json_doc_new("migstream-cat", CAT_JSON_SCHEMA_VERSION);

	vmt_json_add_str(doc, "type", type);
	vmt_json_add_str(doc, "file", file);
	return doc;
}

static void print_row_json(FILE *out, const char *file, const struct qemu_section *sec)
{
	struct json_object *doc = new_doc("qemu_section", file);

	vmt_json_add_u64(doc, "index", sec->index);
	vmt_json_add_u64(doc, "offset", sec->offset);
	vmt_json_add_str(doc, "section_type", type_name(sec->type));
	if (has_identity(sec->type)) {
		vmt_json_add_u64(doc, "section_id", sec->section_id);
		vmt_json_add_u64(doc, "instance_id", sec->instance_id);
	}
	if (sec->idstr[0])
		vmt_json_add_str(doc, "idstr", sec->idstr);
	if (has_version(sec->type))
		vmt_json_add_u64(doc, "version_id", sec->version_id);
	vmt_json_add_u64(doc, "bytes", sec->bytes);
	vmt_json_add_str(doc, "kind", kind_name(sec->kind));
	if (sec->type == QEMU_SEC_COMMAND) {
		vmt_json_add_str(doc, "command", command_name(sec->command));
		vmt_json_add_u64(doc, "command_bytes", sec->command_len);
	}
	if (sec->type == QEMU_SEC_SUBSECTION)
		vmt_json_add_u64(doc, "depth", sec->depth);
	if (sec->packaged)
		vmt_json_add_bool(doc, "packaged", true);
	if (sec->kind == QEMU_KIND_RAM) {
		vmt_json_add_u64(doc, "normal_pages", sec->ram.normal_pages);
		vmt_json_add_u64(doc, "zero_pages", sec->ram.zero_pages);
		vmt_json_add_u64(doc, "page_bytes", sec->ram.page_bytes);
	}
	if (sec->kind == QEMU_KIND_VFIO) {
		vmt_json_add_u64(doc, "precopy_bytes", sec->vfio.precopy_bytes);
		vmt_json_add_u64(doc, "complete_bytes", sec->vfio.complete_bytes);
		vmt_json_add_u64(doc, "init_data_sent", sec->vfio.init_data_sent);
		vmt_json_add_u64(doc, "config_bytes", sec->vfio.config_bytes);
	}
	/* a write error stays on stdout: vmt_close_stdout() reports it at the end */
	vmt_json_emit(out, doc);
}

static int list_event(void *vctx, const struct cat_stream *s, struct qemu_stream *r,
		      const struct qemu_event *ev)
{
	struct qemu_list *ctx = vctx;

	if (!ctx->out || ev->type != QEMU_EV_SECTION)
		return VMT_EXIT_OK;
	if (ctx->o->json) {
		print_row_json(ctx->out, s->name, ev->sec);
	} else {
		if (!ctx->heading_done) {
			if (ctx->o->ninputs > 1)
				fprintf(ctx->out, "%s:\n", s->name);
			print_heading(ctx->out);
		}
		print_row_text(ctx->out, ev->sec, qemu_stream_configuration(r));
	}
	ctx->heading_done = true;
	/* A closed pipe on the listing: stop reading; close_stdout says why. */
	return ferror(ctx->out) ? VMT_EXIT_FAILURE : VMT_EXIT_OK;
}

/* ", PCI vendor:device ..." of a config state's first bytes; nothing without them. */
static void print_pci_text(FILE *out, const uint8_t *head, size_t len)
{
	struct qemu_pci_ids ids;

	if (cat_qemu_pci_ids(head, len, &ids))
		fprintf(out, ", PCI %04x:%04x subsystem %04x:%04x class %06x rev %02x", ids.vendor,
			ids.device, ids.subsystem_vendor, ids.subsystem, ids.class_code,
			ids.revision);
}

/* pci_vendor and pci_device (null without a config state), and with all, the rest of the identity. */
static void add_pci_json(struct json_object *doc, const uint8_t *head, size_t len, bool all)
{
	struct qemu_pci_ids ids;

	if (!cat_qemu_pci_ids(head, len, &ids)) {
		vmt_json_add_null(doc, "pci_vendor");
		vmt_json_add_null(doc, "pci_device");
		return;
	}
	vmt_json_add_u64(doc, "pci_vendor", ids.vendor);
	vmt_json_add_u64(doc, "pci_device", ids.device);
	if (!all)
		return;
	vmt_json_add_u64(doc, "pci_subsys_vendor", ids.subsystem_vendor);
	vmt_json_add_u64(doc, "pci_subsys_device", ids.subsystem);
	vmt_json_add_u64(doc, "pci_class", ids.class_code);
	vmt_json_add_u64(doc, "pci_revision", ids.revision);
}

static void print_device_text(FILE *out, const struct qemu_vfio_device *d)
{
	const struct qemu_vfio_counts *c = &d->counts;

	fprintf(out, "  vfio device     ");
	cat_fputs_printable(d->idstr, out);
	fprintf(out, " (instance %" PRIu32 ", section %" PRIu32 ")\n", d->instance_id,
		d->section_id);
	fprintf(out, "    pre-copy      %" PRIu64 " bytes\n", c->precopy_bytes);
	fprintf(out, "    complete      %" PRIu64 " bytes\n", c->complete_bytes);
	fprintf(out, "    data          %" PRIu64 " bytes in %" PRIu64 " blocks\n",
		c->precopy_bytes + c->complete_bytes, c->data_blocks);
	fprintf(out, "    init marks    %" PRIu32 " (DEV_INIT_DATA_SENT)\n", c->init_data_sent);
	if (!c->config_states) {
		fprintf(out, "    config state  none\n");
		return;
	}
	fprintf(out, "    config state  %" PRIu64 " bytes%s", c->config_bytes,
		d->config_before_data ? " (before the data)" : "");
	print_pci_text(out, d->config_head, d->config_head_len);
	putc('\n', out);
}

static void print_summary_text(FILE *out, const char *name, struct qemu_stream *r)
{
	const struct qemu_configuration *cfg = qemu_stream_configuration(r);
	const struct qemu_ram_counts *ram = qemu_stream_ram_totals(r);
	size_t n = qemu_stream_vfio_count(r);

	fprintf(out, "\nsummary of %s (QEMU migration stream):\n", name);
	fprintf(out, "  stream bytes    %" PRIu64 "\n", qemu_stream_offset(r));
	if (cfg) {
		fprintf(out, "  machine         ");
		cat_fputs_printable(cfg->machine, out);
		putc('\n', out);
	}
	fprintf(out,
		"  ram pages       %" PRIu64 " normal, %" PRIu64 " zero (page size %" PRIu32 ")\n",
		ram->normal_pages, ram->zero_pages, qemu_stream_page_size(r));
	fprintf(out, "  ram bytes       %" PRIu64 "\n", ram->page_bytes);
	fprintf(out, "  vfio devices    %zu\n", n);
	for (size_t i = 0; i < n; i++)
		print_device_text(out, qemu_stream_vfio_device(r, i));
}

static void print_device_json(FILE *out, const char *name, const struct qemu_vfio_device *d)
{
	struct json_object *doc = new_doc("qemu_vfio_device", name);
	const struct qemu_vfio_counts *c = &d->counts;

	vmt_json_add_str(doc, "idstr", d->idstr);
	vmt_json_add_u64(doc, "instance_id", d->instance_id);
	vmt_json_add_u64(doc, "section_id", d->section_id);
	vmt_json_add_u64(doc, "precopy_bytes", c->precopy_bytes);
	vmt_json_add_u64(doc, "complete_bytes", c->complete_bytes);
	vmt_json_add_u64(doc, "data_bytes", c->precopy_bytes + c->complete_bytes);
	vmt_json_add_u64(doc, "data_blocks", c->data_blocks);
	vmt_json_add_u64(doc, "init_data_sent", c->init_data_sent);
	vmt_json_add_u64(doc, "config_states", c->config_states);
	vmt_json_add_u64(doc, "config_bytes", c->config_bytes);
	vmt_json_add_bool(doc, "config_before_data", d->config_before_data);
	add_pci_json(doc, d->config_head, d->config_head_len, true);
	vmt_json_emit(out, doc);
}

static void print_summary_json(FILE *out, const char *name, struct qemu_stream *r)
{
	const struct qemu_configuration *cfg = qemu_stream_configuration(r);
	const struct qemu_ram_counts *ram = qemu_stream_ram_totals(r);
	size_t n = qemu_stream_vfio_count(r);
	struct json_object *doc;

	for (size_t i = 0; i < n; i++)
		print_device_json(out, name, qemu_stream_vfio_device(r, i));
	doc = new_doc("qemu_summary", name);
	vmt_json_add_u64(doc, "stream_bytes", qemu_stream_offset(r));
	if (cfg)
		vmt_json_add_str(doc, "machine", cfg->machine);
	else
		vmt_json_add_null(doc, "machine");
	vmt_json_add_u64(doc, "page_size", qemu_stream_page_size(r));
	vmt_json_add_u64(doc, "ram_normal_pages", ram->normal_pages);
	vmt_json_add_u64(doc, "ram_zero_pages", ram->zero_pages);
	vmt_json_add_u64(doc, "ram_page_bytes", ram->page_bytes);
	vmt_json_add_u64(doc, "vfio_devices", n);
	vmt_json_emit(out, doc);
}

static int list_end(void *vctx, const struct cat_stream *s, struct qemu_stream *r)
{
	struct qemu_list *ctx = vctx;

	if (!ctx->out || ctx->o->quiet)
		return VMT_EXIT_OK;
	if (ctx->o->json)
		print_summary_json(ctx->out, s->name, r);
	else
		print_summary_text(ctx->out, s->name, r);
	return VMT_EXIT_OK;
}

static const struct cat_qemu_ops list_ops = {
	.event = list_event,
	.end = list_end,
};

static int refuse_migstream_options(const struct cat_opts *o, const struct cat_stream *s)
{
	if (!o->dirty && !o->ncolumns)
		return VMT_EXIT_OK;
	vmt_err("%s: is a QEMU migration stream: --dirty and --output are for migstreams", s->name);
	return VMT_EXIT_USAGE;
}

int cat_qemu_list(const struct cat_opts *o, struct cat_stream *s, const struct cat_head *h)
{
	struct qemu_list ctx = { .o = o, .out = o->mode == CAT_MODE_VERIFY ? NULL : stdout };
	int status = refuse_migstream_options(o, s);

	if (status)
		return status;
	return cat_qemu_read(o, s, h, &list_ops, &ctx, NULL);
}

/* The multifd channels: read to check them and their devices' buffers; counted in the summary. */
static int multifd_event(void *vctx, const struct cat_qemu_set *set,
			 const struct qemu_multifd_event *ev)
{
	(void)vctx;
	(void)set;
	(void)ev;
	return VMT_EXIT_OK;
}

static void print_channel_text(FILE *out, const struct qemu_multifd_channel *c)
{
	fputs("  multifd channel ", out);
	cat_fputs_printable(c->name, out);
	fprintf(out,
		" (id %u): %" PRIu64 " bytes, %" PRIu64 " RAM packets (%" PRIu64 " sync), %" PRIu64
		" pages, %" PRIu64 " zero, %" PRIu64 " device packets, %" PRIu64 " device bytes\n",
		c->id, c->bytes, c->ram_packets, c->sync_packets, c->normal_pages, c->zero_pages,
		c->device_packets, c->device_bytes);
}

static void print_mf_device_text(FILE *out, const struct qemu_multifd_device *d)
{
	fputs("  multifd device  ", out);
	cat_fputs_printable(d->idstr, out);
	fprintf(out,
		" (instance %" PRIu32 "): %" PRIu64 " bytes in %" PRIu32
		" buffers, config state %" PRIu64 " bytes",
		d->instance_id, d->data_bytes, d->buffers, d->config_bytes);
	print_pci_text(out, d->config_head, d->config_head_len);
	putc('\n', out);
}

static void print_channel_json(FILE *out, const char *name, const struct qemu_multifd_channel *c)
{
	struct json_object *doc = new_doc("qemu_multifd_channel", name);

	vmt_json_add_str(doc, "channel", c->name);
	vmt_json_add_u64(doc, "channel_id", c->id);
	vmt_json_add_u64(doc, "stream_bytes", c->bytes);
	vmt_json_add_u64(doc, "ram_packets", c->ram_packets);
	vmt_json_add_u64(doc, "sync_packets", c->sync_packets);
	vmt_json_add_u64(doc, "normal_pages", c->normal_pages);
	vmt_json_add_u64(doc, "zero_pages", c->zero_pages);
	vmt_json_add_u64(doc, "ram_data_bytes", c->ram_data_bytes);
	vmt_json_add_u64(doc, "device_packets", c->device_packets);
	vmt_json_add_u64(doc, "device_bytes", c->device_bytes);
	vmt_json_emit(out, doc);
}

static void print_mf_device_json(FILE *out, const char *name, const struct qemu_multifd_device *d)
{
	struct json_object *doc = new_doc("qemu_multifd_device", name);

	vmt_json_add_str(doc, "idstr", d->idstr);
	vmt_json_add_u64(doc, "instance_id", d->instance_id);
	vmt_json_add_u64(doc, "buffers", d->buffers);
	vmt_json_add_u64(doc, "data_bytes", d->data_bytes);
	vmt_json_add_u64(doc, "config_bytes", d->config_bytes);
	add_pci_json(doc, d->config_head, d->config_head_len, false);
	vmt_json_emit(out, doc);
}

/* After the main channel's summary: what each multifd channel and device held. */
static int multifd_end(void *vctx, const struct cat_qemu_set *set, const struct qemu_multifd *m)
{
	struct qemu_list *ctx = vctx;
	const char *name = set->in[set->main_input].s.name;

	if (!ctx->out || ctx->o->quiet)
		return VMT_EXIT_OK;
	for (size_t i = 0; i < qemu_multifd_channel_count(m); i++) {
		if (ctx->o->json)
			print_channel_json(ctx->out, name, qemu_multifd_channel_info(m, i));
		else
			print_channel_text(ctx->out, qemu_multifd_channel_info(m, i));
	}
	for (size_t i = 0; i < qemu_multifd_device_count(m); i++) {
		if (ctx->o->json)
			print_mf_device_json(ctx->out, name, qemu_multifd_device(m, i));
		else
			print_mf_device_text(ctx->out, qemu_multifd_device(m, i));
	}
	return VMT_EXIT_OK;
}

int cat_qemu_list_set(const struct cat_opts *o, struct cat_qemu_set *set)
{
	static const struct cat_multifd_ops mf_ops = {
		.event = multifd_event,
		.end = multifd_end,
	};
	struct cat_qemu_input *in = &set->in[set->main_input];
	struct qemu_list ctx = { .o = o, .out = o->mode == CAT_MODE_VERIFY ? NULL : stdout };
	int status = refuse_migstream_options(o, &in->s);

	if (status == VMT_EXIT_OK)
		status = cat_qemu_read(o, &in->s, &in->head, &list_ops, &ctx, &set->page_size);
	if (status == VMT_EXIT_OK)
		status = cat_qemu_set_read_multifd(o, set, &mf_ops, &ctx);
	return status;
}
