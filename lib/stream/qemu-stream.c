// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * QEMU's main migration channel, read as events (qemu-stream.h).
 *
 * A state machine: each step reads one piece of the stream (a section
 * header, a RAM record, a VFIO tag, a run of device bytes) and queues the
 * events it gives; qemu_stream_next() hands them out and steps again only
 * when none is left, so that the bytes an event points to are not moved
 * before the caller has seen them. The checks are those QEMU's destination
 * makes (savevm.c's qemu_loadvm_state_main and check_section_footer,
 * ram.c's ram_load_precopy and parse_ramblocks, hw/vfio/migration.c's
 * vfio_load_state), plus what a reader needs to stay bounded: every length
 * is checked against what may follow or streamed in pieces.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stream/byteorder.h"
#include "common/c.h"
#include "stream/qemu-input.h"
#include "stream/qemu-stream.h"
#include "stream/qemu-vmdesc.h"

#define QUEUE_LEN 8
/* More RAM blocks than any VM has (one per memory backend, ROM, ...). */
#define MAX_RAM_BLOCKS 1024u
/* Configuration subsections kept for the listing. */
#define MAX_CONFIG_SUBS 8
/* QEMU's vfio_save_block reads at most 1 MiB: pieces of that size. */
#define DATA_PIECE (1u << 20)

enum state {
	ST_HEADER,
	ST_TOP,		   /* the next element's type byte */
	ST_CONFIG_ROWS,	   /* the configuration's subsections, then ST_TOP */
	ST_RAM,		   /* RAM records */
	ST_RAM_BLOCKS,	   /* a MEM_SIZE record's block list */
	ST_VFIO_TAG,	   /* a VFIO tag */
	ST_VFIO_SETUP_END, /* the END_OF_STATE after DEV_SETUP_STATE */
	ST_VFIO_DATA,	   /* a DEV_DATA_STATE block's bytes */
	ST_VFIO_CONFIG,	   /* the config state's bytes */
	ST_VFIO_CONFIG_END,
	ST_SKIP,     /* another device's FULL body, by the vmdesc */
	ST_SUB_ROWS, /* that section's subsections, then ST_FOOTER */
	ST_FOOTER,
	ST_AFTER_EOF,
	ST_AFTER_VMDESC,
	ST_DONE,
};

/* What a section id stands for, from its START or FULL header. */
struct sec_entry {
	uint32_t id;
	char idstr[256];
	uint32_t instance_id, version_id;
	enum qemu_section_kind kind;
	size_t vfio; /* index in vfio[] for kind VFIO */
};

struct ram_block_entry {
	char idstr[256];
	uint64_t used_length;
};

struct qitem {
	struct qemu_event ev;
	struct qemu_section sec;
};

struct qemu_stream {
	struct qin in;
	char name[256];
	struct qemu_stream_opts opts;
	enum state st;
	int err;
	struct qemu_stream_error error;

	struct qitem queue[QUEUE_LEN];
	unsigned int qhead, qlen;
	struct qitem cur; /* the event handed out last */

	struct qemu_section sec; /* the element being read */
	bool in_element;
	uint64_t next_index;
	bool footers_known, footers;
	bool in_package;
	uint64_t package_end;

	struct sec_entry *secs;
	size_t nsecs;
	struct sec_entry *entry; /* the current section's */

	struct qemu_configuration config;
	bool has_config;
	struct qemu_section config_subs[MAX_CONFIG_SUBS];
	unsigned int nconfig_subs, config_row;
	uint32_t page_size;
	bool ignore_shared;
	bool postcopy_advised;

	struct ram_block_entry *blocks;
	size_t nblocks;
	long last_block;
	uint64_t mem_size_left;
	struct qemu_ram_counts ram_total;
	struct qemu_ram_block ram_block_ev;
	struct qemu_ram_record ram_record_ev;

	struct qemu_vfio_device *vfio;
	size_t nvfio;
	uint64_t data_left, data_size, data_off;
	uint64_t config_left, config_off;

	uint64_t nfull; /* FULL sections so far */
	bool seekable;
	bool vmdesc_tried, has_vmdesc;
	struct vmdesc vmdesc;
	uint8_t *vmdesc_json;
	size_t vmdesc_len;
	uint64_t vmdesc_offset;	      /* of its 0x06 byte */
	const struct vmdesc_dev *dev; /* the FULL section's, in the vmdesc */
	uint64_t body_start, body_end;
	size_t sub_next;
};

/* Names ------------------------------------------------------------------ */

const char *qemu_section_type_name(unsigned int type)
{
	switch (type) {
	case QEMU_SEC_EOF:
		return "EOF";
	case QEMU_SEC_START:
		return "START";
	case QEMU_SEC_PART:
		return "PART";
	case QEMU_SEC_END:
		return "END";
	case QEMU_SEC_FULL:
		return "FULL";
	case QEMU_SEC_SUBSECTION:
		return "SUBSECTION";
	case QEMU_SEC_VMDESCRIPTION:
		return "VMDESCRIPTION";
	case QEMU_SEC_CONFIGURATION:
		return "CONFIGURATION";
	case QEMU_SEC_COMMAND:
		return "COMMAND";
	case QEMU_SEC_FOOTER:
		return "FOOTER";
	case QEMU_SEC_HEADER:
		return "HEADER";
	default:
		return NULL;
	}
}

static const struct {
	const char *name;
	int len; /* -1: any */
} commands[QEMU_CMD_MAX] = {
	[QEMU_CMD_INVALID] = { "INVALID", -1 },
	[QEMU_CMD_OPEN_RETURN_PATH] = { "OPEN_RETURN_PATH", 0 },
	[QEMU_CMD_PING] = { "PING", 4 },
	[QEMU_CMD_POSTCOPY_ADVISE] = { "POSTCOPY_ADVISE", -1 },
	[QEMU_CMD_POSTCOPY_LISTEN] = { "POSTCOPY_LISTEN", 0 },
	[QEMU_CMD_POSTCOPY_RUN] = { "POSTCOPY_RUN", 0 },
	[QEMU_CMD_POSTCOPY_RAM_DISCARD] = { "POSTCOPY_RAM_DISCARD", -1 },
	[QEMU_CMD_PACKAGED] = { "PACKAGED", 4 },
	[QEMU_CMD_ENABLE_COLO] = { "ENABLE_COLO", 0 },
	[QEMU_CMD_POSTCOPY_RESUME] = { "POSTCOPY_RESUME", 0 },
	[QEMU_CMD_RECV_BITMAP] = { "RECV_BITMAP", -1 },
	[QEMU_CMD_SWITCHOVER_START] = { "SWITCHOVER_START", 0 },
};

const char *qemu_command_name(unsigned int cmd)
{
	return cmd < QEMU_CMD_MAX ? commands[cmd].name : NULL;
}

const char *qemu_vfio_tag_name(uint64_t tag)
{
	switch (tag) {
	case QEMU_VFIO_END_OF_STATE:
		return "END_OF_STATE";
	case QEMU_VFIO_DEV_CONFIG_STATE:
		return "DEV_CONFIG_STATE";
	case QEMU_VFIO_DEV_SETUP_STATE:
		return "DEV_SETUP_STATE";
	case QEMU_VFIO_DEV_DATA_STATE:
		return "DEV_DATA_STATE";
	case QEMU_VFIO_DEV_INIT_DATA_SENT:
		return "DEV_INIT_DATA_SENT";
	default:
		return NULL;
	}
}

enum qemu_channel_kind qemu_channel_probe(const void *buf, size_t len)
{
	const uint8_t *p = buf;

	if (len < 8)
		return QEMU_CHANNEL_UNKNOWN;
	if (get_be32(p) == QEMU_VM_FILE_MAGIC && get_be32(p + 4) == QEMU_VM_FILE_VERSION)
		return QEMU_CHANNEL_MAIN;
	/* multifd's init packet: the same magic and version as its packets */
	if (get_be32(p) == 0x11223344u && get_be32(p + 4) == 1)
		return QEMU_CHANNEL_MULTIFD;
	return QEMU_CHANNEL_UNKNOWN;
}

int qemu_vfio_config_pci_ids(const uint8_t *config, size_t len, struct qemu_pci_ids *ids)
{
	const uint8_t *cs = config + 4; /* after PCIDevice's be32 version_id */
	uint32_t version;

	if (len < 4 + 0x30)
		return -EBADMSG;
	version = get_be32(config);
	if (version != 1 && version != 2)
		return -EBADMSG;
	ids->vendor = (uint16_t)(cs[0] | cs[1] << 8);
	ids->device = (uint16_t)(cs[2] | cs[3] << 8);
	ids->revision = cs[8];
	ids->class_code = (uint32_t)cs[9] | (uint32_t)cs[10] << 8 | (uint32_t)cs[11] << 16;
	ids->subsystem_vendor = (uint16_t)(cs[0x2c] | cs[0x2d] << 8);
	ids->subsystem = (uint16_t)(cs[0x2e] | cs[0x2f] << 8);
	return 0;
}

/* Errors ----------------------------------------------------------------- */

static void describe_element(const struct qemu_stream *r, char *buf, size_t len)
{
	const struct qemu_section *s = &r->sec;
	const char *type = qemu_section_type_name(s->type);

	switch (s->type) {
	case QEMU_SEC_START:
	case QEMU_SEC_PART:
	case QEMU_SEC_END:
	case QEMU_SEC_FULL:
	case QEMU_SEC_FOOTER:
		if (s->idstr[0])
			snprintf(buf, len, "%s %u \"%s\"", type, s->section_id, s->idstr);
		else
			snprintf(buf, len, "%s %u", type, s->section_id);
		break;
	case QEMU_SEC_COMMAND:
		snprintf(buf, len, "COMMAND %s", qemu_command_name(s->command) ?: "?");
		break;
	default:
		snprintf(buf, len, "%s", type ?: "?");
	}
}

/* Records the first error: -err, at byte offset, in the current element. */
static int VMT_PRINTF(4, 5)
	fail(struct qemu_stream *r, int err, uint64_t offset, const char *fmt, ...)
{
	struct qemu_stream_error *e = &r->error;
	char where[320];
	va_list ap;

	if (r->err)
		return r->err;
	r->err = err;
	*e = (struct qemu_stream_error){ .err = err,
					 .offset = offset,
					 .in_section = r->in_element };
	va_start(ap, fmt);
	vsnprintf(e->what, sizeof(e->what), fmt, ap);
	va_end(ap);
	if (r->in_element) {
		e->type = r->sec.type;
		e->index = r->sec.index;
		e->section_id = r->sec.section_id;
		memcpy(e->idstr, r->sec.idstr, sizeof(e->idstr));
		describe_element(r, where, sizeof(where));
		snprintf(e->msg, sizeof(e->msg), "byte %llu, section %llu (%s): %s",
			 (unsigned long long)offset, (unsigned long long)r->sec.index, where,
			 e->what);
	} else {
		snprintf(e->msg, sizeof(e->msg), "byte %llu: %s", (unsigned long long)offset,
			 e->what);
	}
	return err;
}

/* n bytes at the read position, or the error for a stream cut short. */
static int need(struct qemu_stream *r, size_t n)
{
	int ret = qin_need(&r->in, n);

	if (ret == -EPIPE)
		return fail(r, -EBADMSG, qin_offset(&r->in) + qin_avail(&r->in),
			    "the stream ends here, %zu bytes short of the next item",
			    n - qin_avail(&r->in));
	if (ret == -EINVAL)
		return fail(r, -EBADMSG, qin_offset(&r->in),
			    "an item of %zu bytes is larger than the reader's buffer", n);
	if (ret)
		return fail(r, ret, qin_offset(&r->in), "read: %s", strerror(-ret));
	return 0;
}

static const uint8_t *at(const struct qemu_stream *r)
{
	return r->in.buf + r->in.pos;
}

static void advance(struct qemu_stream *r, size_t n)
{
	r->in.pos += n;
}

static uint64_t here(const struct qemu_stream *r)
{
	return qin_offset(&r->in);
}

/* Events ----------------------------------------------------------------- */

/* Queues an event of the current element (a snapshot of it). */
static struct qemu_event *push_for(struct qemu_stream *r, enum qemu_event_type type,
				   uint64_t offset, const struct qemu_section *sec)
{
	struct qitem *it = &r->queue[(r->qhead + r->qlen++) % QUEUE_LEN];

	it->sec = *sec;
	it->ev = (struct qemu_event){ .type = type, .offset = offset };
	return &it->ev;
}

/* The event queued last, to complete it. */
static struct qitem *last_queued(struct qemu_stream *r)
{
	return &r->queue[(r->qhead + r->qlen - 1) % QUEUE_LEN];
}

static struct qemu_event *push(struct qemu_stream *r, enum qemu_event_type type, uint64_t offset)
{
	r->sec.bytes = here(r) - r->sec.offset;
	return push_for(r, type, offset, &r->sec);
}

static void begin_element(struct qemu_stream *r, unsigned int type)
{
	r->sec = (struct qemu_section){
		.index = r->next_index++, .offset = here(r), .type = type, .packaged = r->in_package
	};
	r->in_element = true;
}

/* The element is read whole: its listing row. */
static void end_element(struct qemu_stream *r)
{
	push(r, QEMU_EV_SECTION, r->sec.offset);
	r->in_element = false;
}

/* Sections by id ---------------------------------------------------------- */

static struct sec_entry *find_section(struct qemu_stream *r, uint32_t id)
{
	if (r->entry && r->entry->id == id)
		return r->entry;
	for (size_t i = 0; i < r->nsecs; i++)
		if (r->secs[i].id == id)
			return &r->secs[i];
	return NULL;
}

static enum qemu_section_kind kind_of(const char *idstr)
{
	size_t n = strlen(idstr);

	if (!strcmp(idstr, "ram"))
		return QEMU_KIND_RAM;
	if (!strcmp(idstr, "vfio") || (n > 5 && !strcmp(idstr + n - 5, "/vfio")))
		return QEMU_KIND_VFIO;
	return QEMU_KIND_OTHER;
}

static int vfio_device_for(struct qemu_stream *r, struct sec_entry *e)
{
	struct qemu_vfio_device *grown, *d;

	for (size_t i = 0; i < r->nvfio; i++) {
		if (r->vfio[i].instance_id == e->instance_id &&
		    !strcmp(r->vfio[i].idstr, e->idstr)) {
			e->vfio = i;
			r->vfio[i].section_id = e->id;
			return 0;
		}
	}
	if (r->nvfio >= QEMU_STREAM_MAX_SECTIONS)
		return fail(r, -ENOBUFS, r->sec.offset, "more than %u VFIO devices",
			    QEMU_STREAM_MAX_SECTIONS);
	grown = realloc(r->vfio, (r->nvfio + 1) * sizeof(*r->vfio));
	if (!grown)
		return fail(r, -ENOMEM, r->sec.offset, "out of memory");
	r->vfio = grown;
	d = &r->vfio[r->nvfio];
	*d = (struct qemu_vfio_device){ .instance_id = e->instance_id, .section_id = e->id };
	memcpy(d->idstr, e->idstr, sizeof(d->idstr));
	e->vfio = r->nvfio++;
	return 0;
}

/* The entry for a START or FULL header: its id now stands for this device. */
static int enter_section(struct qemu_stream *r)
{
	struct sec_entry *e = find_section(r, r->sec.section_id), *grown;

	if (!e) {
		if (r->nsecs >= QEMU_STREAM_MAX_SECTIONS)
			return fail(r, -ENOBUFS, r->sec.offset, "more than %u section ids",
				    QEMU_STREAM_MAX_SECTIONS);
		grown = realloc(r->secs, (r->nsecs + 1) * sizeof(*r->secs));
		if (!grown)
			return fail(r, -ENOMEM, r->sec.offset, "out of memory");
		r->secs = grown;
		e = &r->secs[r->nsecs++];
	}
	*e = (struct sec_entry){ .id = r->sec.section_id,
				 .instance_id = r->sec.instance_id,
				 .version_id = r->sec.version_id,
				 .kind = kind_of(r->sec.idstr) };
	memcpy(e->idstr, r->sec.idstr, sizeof(e->idstr));
	r->entry = e;
	r->sec.kind = e->kind;
	if (e->kind == QEMU_KIND_VFIO)
		return vfio_device_for(r, e);
	return 0;
}

/* The vmdesc -------------------------------------------------------------- */

/*
 * Where the vmdesc starts in buf (len bytes ending at the stream's end): the
 * 0x06 byte after the EOF byte whose u32 length reaches exactly to the end,
 * followed by '{'. Searched from the end: the JSON has no such bytes.
 */
static bool find_vmdesc(const uint8_t *buf, size_t len, size_t cap, size_t *pos, size_t *jlen)
{
	for (size_t i = len >= 6 ? len - 6 : 0; i >= 1 && len >= 6; i--) {
		if (buf[i] == QEMU_SEC_VMDESCRIPTION && buf[i - 1] == QEMU_SEC_EOF &&
		    buf[i + 5] == '{' && get_be32(buf + i + 1) == len - i - 5 &&
		    len - i - 5 <= cap) {
			*pos = i;
			*jlen = len - i - 5;
			return true;
		}
		if (len - i > cap + 6)
			break;
	}
	return false;
}

static int pread_all(int fd, void *buf, size_t len, uint64_t offset)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = pread(fd, (uint8_t *)buf + done, len - done, (off_t)(offset + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EPIPE;
		done += (size_t)n;
	}
	return 0;
}

/* From a regular file's end, in growing windows: 0 found, 1 not there, -errno. */
static int vmdesc_from_file_end(struct qemu_stream *r, uint64_t *offset)
{
	struct stat st;
	uint64_t from = here(r), size, window = 64 << 10;
	size_t cap = r->opts.vmdesc_cap, pos, jlen;
	uint8_t *buf;
	int ret;

	if (fstat(r->in.fd, &st))
		return -errno;
	size = (uint64_t)st.st_size;
	if (size <= from)
		return 1;
	for (;;) {
		if (window > size - from)
			window = size - from;
		buf = malloc(window);
		if (!buf)
			return -ENOMEM;
		ret = pread_all(r->in.fd, buf, window, size - window);
		if (!ret && find_vmdesc(buf, window, cap, &pos, &jlen)) {
			r->vmdesc_json = malloc(jlen ? jlen : 1);
			if (!r->vmdesc_json) {
				free(buf);
				return -ENOMEM;
			}
			memcpy(r->vmdesc_json, buf + pos + 5, jlen);
			r->vmdesc_len = jlen;
			*offset = size - window + pos;
			free(buf);
			return 0;
		}
		free(buf);
		if (ret)
			return ret == -EPIPE ? 1 : ret;
		if (window == size - from || window > cap + 6)
			return 1;
		window *= 16;
	}
}

/* From the buffered tail (a pipe): everything to the end is read first. */
static int vmdesc_from_tail(struct qemu_stream *r, uint64_t *offset)
{
	size_t pos, jlen;
	int ret = qin_slurp(&r->in, r->opts.tail_cap);

	if (ret == -ENOBUFS)
		return fail(
			r, -ENOBUFS, here(r),
			"more than %zu bytes follow the iterable sections (the tail cap): read the stream from a file",
			r->opts.tail_cap);
	if (ret)
		return fail(r, ret, here(r), "read: %s", strerror(-ret));
	if (!find_vmdesc(at(r), qin_avail(&r->in), r->opts.vmdesc_cap, &pos, &jlen))
		return 1;
	r->vmdesc_json = malloc(jlen ? jlen : 1);
	if (!r->vmdesc_json)
		return fail(r, -ENOMEM, here(r), "out of memory");
	memcpy(r->vmdesc_json, at(r) + pos + 5, jlen);
	r->vmdesc_len = jlen;
	*offset = here(r) + pos;
	return 0;
}

static int load_vmdesc(struct qemu_stream *r)
{
	char why[200];
	uint64_t offset = 0;
	int ret;

	r->vmdesc_tried = true;
	if (r->seekable)
		ret = vmdesc_from_file_end(r, &offset);
	else
		ret = vmdesc_from_tail(r, &offset);
	if (ret < 0)
		return r->err ? r->err
			      : fail(r, ret, here(r), "reading the vmdesc: %s", strerror(-ret));
	if (ret > 0)
		return 0;
	ret = vmdesc_parse(&r->vmdesc, r->vmdesc_json, r->vmdesc_len, why, sizeof(why));
	if (ret)
		return fail(r, ret, offset + 5, "the vmdesc at byte %llu: %s",
			    (unsigned long long)offset, why);
	if (r->vmdesc.page_size && r->vmdesc.page_size != r->page_size)
		return fail(
			r, -EBADMSG, offset + 5,
			"the vmdesc says target pages of %u bytes, the stream's RAM was read with %u",
			r->vmdesc.page_size, r->page_size);
	r->has_vmdesc = true;
	r->vmdesc_offset = offset;
	return 0;
}

/*
 * The vmdesc's entry for the current FULL section (the nfull-th): 0 with
 * r->dev set, or the error that it cannot be had.
 */
static int vmdesc_device(struct qemu_stream *r, uint64_t body_start)
{
	const struct vmdesc_dev *d;

	if (!r->vmdesc_tried && load_vmdesc(r))
		return r->err;
	if (!r->has_vmdesc)
		return fail(
			r, -EBADMSG, r->sec.offset,
			"no vmdesc after the stream's EOF (suppress-vmdesc, postcopy, or a cut stream): a FULL section's size is unknown");
	if (r->nfull > r->vmdesc.ndevs)
		return fail(r, -EBADMSG, r->sec.offset,
			    "the vmdesc describes %zu FULL sections, this is the %llu.",
			    r->vmdesc.ndevs, (unsigned long long)r->nfull);
	d = &r->vmdesc.devs[r->nfull - 1];
	if (strcmp(d->name, r->sec.idstr) || d->instance_id != r->sec.instance_id)
		return fail(r, -EBADMSG, r->sec.offset,
			    "the vmdesc's device %llu is \"%s\" instance %u",
			    (unsigned long long)r->nfull, d->name, d->instance_id);
	r->dev = d;
	r->body_start = body_start;
	r->body_end = r->body_start + d->body;
	r->sub_next = d->first_sub;
	return 0;
}

/* The header and the configuration ----------------------------------------- */

static int step_header(struct qemu_stream *r)
{
	uint32_t magic, version;

	begin_element(r, QEMU_SEC_HEADER);
	if (need(r, 8))
		return r->err;
	magic = get_be32(at(r));
	version = get_be32(at(r) + 4);
	if (magic != QEMU_VM_FILE_MAGIC)
		return fail(r, -EBADMSG, 0, "not a QEMU migration stream (magic 0x%08x)", magic);
	if (version != QEMU_VM_FILE_VERSION)
		return fail(r, -EBADMSG, 4, "QEMU stream version %u, this reader knows %u", version,
			    QEMU_VM_FILE_VERSION);
	advance(r, 8);
	end_element(r);
	r->st = ST_TOP;
	return 0;
}

/* A u8-length-prefixed name into out (256 bytes). */
static int short_name(struct qemu_stream *r, char *out)
{
	size_t len;

	if (need(r, 1))
		return r->err;
	len = at(r)[0];
	if (need(r, 1 + len))
		return r->err;
	memcpy(out, at(r) + 1, len);
	out[len] = '\0';
	if (strlen(out) != len)
		return fail(r, -EBADMSG, here(r) + 1, "a name with a NUL byte");
	advance(r, 1 + len);
	return 0;
}

static int config_capabilities(struct qemu_stream *r)
{
	char cap[256];
	uint32_t n;

	if (need(r, 4))
		return r->err;
	n = get_be32(at(r));
	if (n > 64)
		return fail(r, -EBADMSG, here(r), "%u capabilities: QEMU has fewer than 64", n);
	advance(r, 4);
	r->config.ncaps = n;
	for (uint32_t i = 0; i < n; i++) {
		if (short_name(r, cap))
			return r->err;
		if (i < 8)
			memcpy(r->config.caps[i], cap, sizeof(cap));
		if (!strcmp(cap, "x-ignore-shared"))
			r->ignore_shared = true;
		if (!strcmp(cap, "mapped-ram"))
			return fail(r, -EBADMSG, here(r),
				    "a mapped-ram stream: its pages are not in the stream");
	}
	return 0;
}

static int config_subsection(struct qemu_stream *r, const char *name)
{
	uint32_t bits;

	if (!strcmp(name, "configuration/target-page-bits")) {
		if (need(r, 4))
			return r->err;
		bits = get_be32(at(r));
		if (bits < 10 || bits > 16)
			return fail(r, -EBADMSG, here(r), "target page bits %u", bits);
		advance(r, 4);
		r->config.has_page_bits = true;
		r->config.target_page_bits = bits;
		r->page_size = 1u << bits;
		return 0;
	}
	if (!strcmp(name, "configuration/capabilities"))
		return config_capabilities(r);
	if (!strcmp(name, "configuration/uuid")) {
		if (need(r, 16))
			return r->err;
		memcpy(r->config.uuid, at(r), 16);
		r->config.has_uuid = true;
		advance(r, 16);
		return 0;
	}
	return fail(r, -EBADMSG, here(r), "unknown configuration subsection \"%s\"", name);
}

static int step_configuration(struct qemu_stream *r)
{
	struct qemu_section *sub;
	uint32_t len;

	if (r->sec.index != 1)
		return fail(r, -EBADMSG, r->sec.offset,
			    "CONFIGURATION comes only right after the header");
	advance(r, 1);
	if (need(r, 4))
		return r->err;
	len = get_be32(at(r));
	if (len > 255)
		return fail(r, -EBADMSG, here(r), "a machine type name of %u bytes", len);
	if (need(r, 4 + len))
		return r->err;
	memcpy(r->config.machine, at(r) + 4, len);
	r->config.machine[len] = '\0';
	advance(r, 4 + len);
	for (;;) {
		if (need(r, 1))
			return r->err;
		if (at(r)[0] != QEMU_SEC_SUBSECTION)
			break;
		if (r->nconfig_subs == MAX_CONFIG_SUBS)
			return fail(r, -EBADMSG, here(r), "more than %d configuration subsections",
				    MAX_CONFIG_SUBS);
		sub = &r->config_subs[r->nconfig_subs++];
		*sub = (struct qemu_section){ .offset = here(r),
					      .type = QEMU_SEC_SUBSECTION,
					      .depth = 1 };
		advance(r, 1);
		if (short_name(r, sub->idstr) || need(r, 4))
			return r->err;
		sub->version_id = get_be32(at(r));
		advance(r, 4);
		if (config_subsection(r, sub->idstr))
			return r->err;
		sub->bytes = here(r) - sub->offset;
	}
	r->has_config = true;
	push(r, QEMU_EV_CONFIGURATION, r->sec.offset)->config = &r->config;
	end_element(r);
	r->config_row = 0;
	r->st = ST_CONFIG_ROWS;
	return 0;
}

/* The subsections' rows come after the element they are in. */
static int step_config_rows(struct qemu_stream *r)
{
	struct qemu_section *sub;

	if (r->config_row == r->nconfig_subs) {
		r->st = ST_TOP;
		return 0;
	}
	sub = &r->config_subs[r->config_row++];
	sub->index = r->next_index++;
	push_for(r, QEMU_EV_SECTION, sub->offset, sub);
	return 0;
}

/* Section headers ------------------------------------------------------- */

static int start_body(struct qemu_stream *r)
{
	switch (r->sec.kind) {
	case QEMU_KIND_RAM:
		if (r->sec.type == QEMU_SEC_FULL)
			goto other;
		r->st = ST_RAM;
		break;
	case QEMU_KIND_VFIO:
		/* A file gives its vmdesc cheaply: every FULL is checked. */
		if (r->sec.type == QEMU_SEC_FULL && r->seekable && vmdesc_device(r, here(r)))
			return r->err;
		r->st = ST_VFIO_TAG;
		break;
	default:
	other:
		if (r->sec.type != QEMU_SEC_FULL)
			return fail(
				r, -EBADMSG, r->sec.offset,
				"an iterable section of \"%s\": only ram and vfio have bodies this reader knows",
				r->sec.idstr);
		if (vmdesc_device(r, here(r)))
			return r->err;
		r->st = ST_SKIP;
	}
	push(r, QEMU_EV_SECTION_BEGIN, r->sec.offset);
	return 0;
}

static int step_start_full(struct qemu_stream *r, unsigned int type)
{
	const uint8_t *p;
	size_t len;

	if (need(r, 6))
		return r->err;
	r->sec.section_id = get_be32(at(r) + 1);
	len = at(r)[5];
	if (need(r, 6 + len + 8))
		return r->err;
	p = at(r);
	memcpy(r->sec.idstr, p + 6, len);
	r->sec.idstr[len] = '\0';
	if (strlen(r->sec.idstr) != len)
		return fail(r, -EBADMSG, r->sec.offset + 6, "an idstr with a NUL byte");
	r->sec.instance_id = get_be32(p + 6 + len);
	r->sec.version_id = get_be32(p + 10 + len);
	advance(r, 6 + len + 8);
	r->dev = NULL;
	if (type == QEMU_SEC_FULL)
		r->nfull++;
	if (enter_section(r))
		return r->err;
	if (r->sec.kind == QEMU_KIND_RAM && type == QEMU_SEC_START && r->sec.version_id != 4)
		return fail(r, -EBADMSG, r->sec.offset, "ram section version %u: QEMU reads 4",
			    r->sec.version_id);
	return start_body(r);
}

static int step_part_end(struct qemu_stream *r)
{
	struct sec_entry *e;

	if (need(r, 5))
		return r->err;
	r->sec.section_id = get_be32(at(r) + 1);
	e = find_section(r, r->sec.section_id);
	if (!e)
		return fail(r, -EBADMSG, r->sec.offset, "section id %u was never started",
			    r->sec.section_id);
	advance(r, 5);
	r->dev = NULL;
	r->entry = e;
	memcpy(r->sec.idstr, e->idstr, sizeof(r->sec.idstr));
	r->sec.instance_id = e->instance_id;
	r->sec.version_id = e->version_id;
	r->sec.kind = e->kind;
	return start_body(r);
}

static int step_command(struct qemu_stream *r)
{
	struct qemu_event *ev;
	uint16_t cmd, len;

	if (need(r, 5))
		return r->err;
	cmd = get_be16(at(r) + 1);
	len = get_be16(at(r) + 3);
	r->sec.command = cmd;
	r->sec.command_len = len;
	if (cmd >= QEMU_CMD_MAX || cmd == QEMU_CMD_INVALID)
		return fail(r, -EBADMSG, r->sec.offset + 1, "unknown command %u", cmd);
	if (commands[cmd].len >= 0 && len != commands[cmd].len)
		return fail(r, -EBADMSG, r->sec.offset + 3, "%s with %u bytes, QEMU expects %d",
			    commands[cmd].name, len, commands[cmd].len);
	if (need(r, 5u + len))
		return r->err;
	advance(r, 5);
	if (cmd == QEMU_CMD_POSTCOPY_ADVISE)
		r->postcopy_advised = len == 16;
	if (cmd == QEMU_CMD_PACKAGED) {
		if (r->in_package)
			return fail(r, -EBADMSG, r->sec.offset,
				    "a PACKAGED command inside another");
		r->in_package = true;
		r->package_end = here(r) + 4 + get_be32(at(r));
	}
	ev = push(r, QEMU_EV_COMMAND, here(r));
	ev->data = at(r);
	ev->len = len;
	advance(r, len);
	last_queued(r)->sec.bytes = 5u + len;
	end_element(r);
	return 0;
}

static int step_top(struct qemu_stream *r)
{
	unsigned int type;
	int end;

	if (r->in_package && here(r) == r->package_end)
		r->in_package = false;
	end = qin_at_end(&r->in);
	if (end < 0)
		return fail(r, end, here(r), "read: %s", strerror(-end));
	if (end)
		return fail(r, -EBADMSG, here(r), "the stream ends before its EOF section");
	if (r->in_package && here(r) > r->package_end)
		return fail(r, -EBADMSG, here(r),
			    "a section crosses the end of its PACKAGED command (byte %llu)",
			    (unsigned long long)r->package_end);
	type = at(r)[0];
	begin_element(r, type);
	switch (type) {
	case QEMU_SEC_CONFIGURATION:
		return step_configuration(r);
	case QEMU_SEC_START:
	case QEMU_SEC_FULL:
		return step_start_full(r, type);
	case QEMU_SEC_PART:
	case QEMU_SEC_END:
		return step_part_end(r);
	case QEMU_SEC_COMMAND:
		return step_command(r);
	case QEMU_SEC_EOF:
		if (r->in_package)
			return fail(r, -EBADMSG, here(r), "EOF inside a PACKAGED command");
		advance(r, 1);
		end_element(r);
		r->st = ST_AFTER_EOF;
		return 0;
	default:
		r->sec.type = type;
		return fail(r, -EBADMSG, here(r), "%s where a section should start",
			    qemu_section_type_name(type) ? qemu_section_type_name(type)
							 : "an unknown section type");
	}
}

/* The end of a section's body: its row, then its footer. */
static void end_body(struct qemu_stream *r)
{
	end_element(r);
	r->st = ST_FOOTER;
}

static int step_footer(struct qemu_stream *r)
{
	struct qemu_section foot;
	uint32_t id;
	int end;

	end = qin_at_end(&r->in);
	if (end < 0)
		return fail(r, end, here(r), "read: %s", strerror(-end));
	if (end)
		return fail(r, -EBADMSG, here(r), "the stream ends before its EOF section");
	/*
	 * Machine types that send a configuration (2.4 on) send footers too
	 * (2.5 on, savevm.c's save_section_footer); without a configuration
	 * the first section's end tells.
	 */
	if (!r->footers_known) {
		r->footers_known = true;
		r->footers = r->has_config || at(r)[0] == QEMU_SEC_FOOTER;
	}
	r->st = ST_TOP;
	if (!r->footers)
		return 0;
	foot = r->sec;
	begin_element(r, QEMU_SEC_FOOTER);
	r->sec.section_id = foot.section_id;
	memcpy(r->sec.idstr, foot.idstr, sizeof(r->sec.idstr));
	r->sec.instance_id = foot.instance_id;
	r->sec.kind = foot.kind;
	if (at(r)[0] != QEMU_SEC_FOOTER)
		return fail(r, -EBADMSG, here(r), "no footer after section %u (byte 0x%02x)",
			    foot.section_id, at(r)[0]);
	if (need(r, 5))
		return r->err;
	id = get_be32(at(r) + 1);
	if (id != foot.section_id)
		return fail(r, -EBADMSG, here(r) + 1, "the footer of section %u says %u",
			    foot.section_id, id);
	advance(r, 5);
	end_element(r);
	return 0;
}

/* RAM ------------------------------------------------------------------- */

/* Both the section's and the whole stream's counts. */
#define COUNT(r, member, n)                   \
	do {                                  \
		(r)->sec.ram.member += (n);   \
		(r)->ram_total.member += (n); \
	} while (0)

static int find_block(struct qemu_stream *r, const char *name)
{
	for (size_t i = 0; i < r->nblocks; i++)
		if (!strcmp(r->blocks[i].idstr, name))
			return (int)i;
	return -1;
}

/* The block a page record names (its idstr, or CONTINUE: the last one). */
static int page_block(struct qemu_stream *r, uint32_t flags, uint64_t rec)
{
	char name[256];
	int i;

	if (flags & QEMU_RAM_FLAG_CONTINUE) {
		if (r->last_block < 0)
			return fail(r, -EBADMSG, rec, "a CONTINUE page with no block before it");
		return 0;
	}
	if (short_name(r, name))
		return r->err;
	i = find_block(r, name);
	if (i < 0)
		return fail(r, -EBADMSG, rec,
			    "a page of block \"%s\", which the block list does not have", name);
	r->last_block = i;
	return 0;
}

/* zlib's compressBound(): the most a compressed page can take. */
static uint64_t compress_bound(uint64_t n)
{
	return n + (n >> 12) + (n >> 14) + (n >> 25) + 13;
}

/* A page record's payload: its size, or -1 after an error. */
static int64_t page_payload(struct qemu_stream *r, uint32_t kind, uint64_t rec)
{
	uint32_t len;

	switch (kind) {
	case QEMU_RAM_FLAG_ZERO:
		if (need(r, 1))
			return -1;
		if (at(r)[0])
			return fail(r, -EBADMSG, here(r), "a zero page filled with 0x%02x",
				    at(r)[0]),
			       -1;
		return 1;
	case QEMU_RAM_FLAG_PAGE:
		return r->page_size;
	case QEMU_RAM_FLAG_XBZRLE:
		if (need(r, 3))
			return -1;
		if (at(r)[0] != 1)
			return fail(r, -EBADMSG, here(r), "XBZRLE encoding 0x%02x", at(r)[0]), -1;
		len = get_be16(at(r) + 1);
		if (len > r->page_size)
			return fail(r, -EBADMSG, rec, "an XBZRLE page of %u bytes", len), -1;
		return 3 + len;
	default: /* COMPRESS_PAGE */
		if (need(r, 4))
			return -1;
		len = get_be32(at(r));
		if (len > compress_bound(r->page_size))
			return fail(r, -EBADMSG, rec, "a compressed page of %u bytes", len), -1;
		return 4 + (int64_t)len;
	}
}

static int page_record(struct qemu_stream *r, uint32_t flags, uint64_t addr, uint64_t rec)
{
	uint32_t kind = flags & ~QEMU_RAM_FLAG_CONTINUE;
	int64_t payload;

	if (page_block(r, flags, rec))
		return r->err;
	if (addr >= r->blocks[r->last_block].used_length)
		return fail(r, -EBADMSG, rec, "page offset 0x%llx beyond block \"%s\"",
			    (unsigned long long)addr, r->blocks[r->last_block].idstr);
	payload = page_payload(r, kind, rec);
	if (payload < 0 || need(r, (size_t)payload))
		return r->err;
	advance(r, (size_t)payload);
	switch (kind) {
	case QEMU_RAM_FLAG_ZERO:
		COUNT(r, zero_pages, 1);
		break;
	case QEMU_RAM_FLAG_PAGE:
		COUNT(r, normal_pages, 1);
		COUNT(r, page_bytes, (uint64_t)payload);
		break;
	case QEMU_RAM_FLAG_XBZRLE:
		COUNT(r, xbzrle_pages, 1);
		COUNT(r, page_bytes, (uint64_t)payload - 3);
		break;
	default:
		COUNT(r, compressed_pages, 1);
		COUNT(r, page_bytes, (uint64_t)payload - 4);
	}
	r->ram_record_ev.block = r->blocks[r->last_block].idstr;
	r->ram_record_ev.payload = (uint32_t)payload;
	return 0;
}

static int mem_size_record(struct qemu_stream *r, uint64_t total, uint64_t rec)
{
	if (r->sec.type != QEMU_SEC_START)
		return fail(r, -EBADMSG, rec, "a MEM_SIZE record outside the ram section's START");
	r->nblocks = 0;
	r->last_block = -1;
	r->mem_size_left = total;
	if (total)
		r->st = ST_RAM_BLOCKS;
	return 0;
}

/* One record: 1 when it ended the section, 0 when more follow, <0 error. */
static int ram_record(struct qemu_stream *r)
{
	uint64_t rec = here(r), v;
	uint32_t flags;

	if (need(r, 8))
		return r->err;
	v = get_be64(at(r));
	flags = (uint32_t)(v & (r->page_size - 1));
	v &= ~(uint64_t)(r->page_size - 1);
	advance(r, 8);
	COUNT(r, records, 1);
	r->ram_record_ev = (struct qemu_ram_record){ .offset = rec, .flags = flags, .addr = v };
	switch (flags & ~QEMU_RAM_FLAG_CONTINUE) {
	case QEMU_RAM_FLAG_MEM_SIZE:
		return mem_size_record(r, v, rec);
	case QEMU_RAM_FLAG_ZERO:
	case QEMU_RAM_FLAG_PAGE:
	case QEMU_RAM_FLAG_XBZRLE:
	case QEMU_RAM_FLAG_COMPRESS_PAGE:
		if (!r->nblocks)
			return fail(r, -EBADMSG, rec, "a page before the block list");
		return page_record(r, flags, v, rec);
	case QEMU_RAM_FLAG_EOS:
		return 1;
	case QEMU_RAM_FLAG_MULTIFD_FLUSH:
		COUNT(r, flushes, 1);
		return 0;
	case QEMU_RAM_FLAG_HOOK:
		COUNT(r, hooks, 1);
		return 0;
	default:
		return fail(r, -EBADMSG, rec, "RAM record flags 0x%x", flags);
	}
}

static int step_ram(struct qemu_stream *r)
{
	int ret;

	/* Records without events in one go: no step per page. */
	for (;;) {
		ret = ram_record(r);
		if (ret < 0)
			return ret;
		if (r->opts.ram_records)
			push(r, QEMU_EV_RAM_RECORD, r->ram_record_ev.offset)->ram_record =
				&r->ram_record_ev;
		if (ret == 1) {
			end_body(r);
			return 0;
		}
		if (r->st != ST_RAM || r->opts.ram_records)
			return 0;
	}
}

/*
 * With postcopy-ram a block whose page size differs from the host's carries
 * it (u64): nothing in the stream says which do. A page size is a power of
 * two of at least 4 KiB; what follows otherwise is the next block's name
 * (its length byte makes a u64 of at least 2^56) or a RAM record (flags
 * below 4 KiB): the one reading that fits.
 */
static bool looks_like_page_size(struct qemu_stream *r)
{
	uint64_t v;

	if (qin_need(&r->in, 8))
		return false;
	v = get_be64(at(r));
	return v >= 4096 && v <= (1ull << 40) && !(v & (v - 1));
}

static int step_ram_blocks(struct qemu_stream *r)
{
	struct ram_block_entry *grown, *b;
	struct qemu_ram_block *ev = &r->ram_block_ev;
	uint64_t rec = here(r);

	*ev = (struct qemu_ram_block){ 0 };
	if (short_name(r, ev->idstr) || need(r, 8))
		return r->err;
	ev->used_length = get_be64(at(r));
	advance(r, 8);
	if (!ev->used_length || ev->used_length > r->mem_size_left)
		return fail(r, -EBADMSG, rec,
			    "block \"%s\" of %llu bytes, with %llu left of the RAM size", ev->idstr,
			    (unsigned long long)ev->used_length,
			    (unsigned long long)r->mem_size_left);
	if (find_block(r, ev->idstr) >= 0)
		return fail(r, -EBADMSG, rec, "block \"%s\" listed twice", ev->idstr);
	if (r->postcopy_advised && looks_like_page_size(r)) {
		ev->has_page_size = true;
		ev->page_size = get_be64(at(r));
		advance(r, 8);
	}
	if (r->ignore_shared) {
		if (need(r, 8))
			return r->err;
		ev->has_addr = true;
		ev->addr = get_be64(at(r));
		advance(r, 8);
	}
	if (r->nblocks >= MAX_RAM_BLOCKS)
		return fail(r, -ENOBUFS, rec, "more than %u RAM blocks", MAX_RAM_BLOCKS);
	grown = realloc(r->blocks, (r->nblocks + 1) * sizeof(*r->blocks));
	if (!grown)
		return fail(r, -ENOMEM, rec, "out of memory");
	r->blocks = grown;
	b = &r->blocks[r->nblocks++];
	memcpy(b->idstr, ev->idstr, sizeof(b->idstr));
	b->used_length = ev->used_length;
	r->mem_size_left -= ev->used_length;
	if (!r->mem_size_left)
		r->st = ST_RAM;
	push(r, QEMU_EV_RAM_BLOCK, rec)->ram_block = ev;
	return 0;
}

/* VFIO ------------------------------------------------------------------ */

static struct qemu_vfio_device *vfio_dev(struct qemu_stream *r)
{
	return &r->vfio[r->entry->vfio];
}

static enum qemu_vfio_phase phase_of(const struct qemu_stream *r)
{
	return r->sec.type == QEMU_SEC_START || r->sec.type == QEMU_SEC_PART ? QEMU_VFIO_PRECOPY
									     : QEMU_VFIO_COMPLETE;
}

/* Both the section's and the device's counts. */
#define VFIO_COUNT(r, member, n)                   \
	do {                                       \
		(r)->sec.vfio.member += (n);       \
		vfio_dev(r)->counts.member += (n); \
	} while (0)

/* The body ends here; a FULL one where the vmdesc said. */
static int end_vfio_body(struct qemu_stream *r)
{
	if (r->sec.type == QEMU_SEC_FULL && r->dev && here(r) != r->body_end)
		return fail(r, -EBADMSG, here(r),
			    "the VFIO section ends here, the vmdesc says at byte %llu",
			    (unsigned long long)r->body_end);
	end_body(r);
	return 0;
}

static int config_start(struct qemu_stream *r, uint64_t tag_offset)
{
	if (r->sec.type != QEMU_SEC_FULL)
		return fail(
			r, -EBADMSG, tag_offset,
			"DEV_CONFIG_STATE in an iterable section (its size is known only in a FULL one)");
	if (!r->dev && vmdesc_device(r, tag_offset))
		return r->err;
	if (r->body_end < here(r) + 8)
		return fail(
			r, -EBADMSG, tag_offset,
			"the vmdesc gives the VFIO section %llu bytes: no room for its config state",
			(unsigned long long)r->dev->body);
	r->config_left = r->body_end - here(r) - 8;
	r->config_off = 0;
	VFIO_COUNT(r, config_states, 1);
	if (!vfio_dev(r)->counts.precopy_bytes && !vfio_dev(r)->counts.complete_bytes)
		vfio_dev(r)->config_before_data = true;
	r->st = ST_VFIO_CONFIG;
	return 0;
}

static int step_vfio_tag(struct qemu_stream *r)
{
	uint64_t tag_offset = here(r), tag;
	struct qemu_event *ev;

	if (need(r, 8))
		return r->err;
	tag = get_be64(at(r));
	if (!qemu_vfio_tag_name(tag))
		return fail(r, -EBADMSG, tag_offset, "unknown VFIO tag 0x%016llx",
			    (unsigned long long)tag);
	if (tag == QEMU_VFIO_DEV_DATA_STATE && need(r, 16))
		return r->err;
	advance(r, 8);
	switch (tag) {
	case QEMU_VFIO_END_OF_STATE:
		push(r, QEMU_EV_VFIO_TAG, tag_offset)->tag = tag;
		return end_vfio_body(r);
	case QEMU_VFIO_DEV_SETUP_STATE:
		VFIO_COUNT(r, setup_states, 1);
		r->st = ST_VFIO_SETUP_END;
		break;
	case QEMU_VFIO_DEV_INIT_DATA_SENT:
		/* QEMU's loader returns here: the body ends. */
		VFIO_COUNT(r, init_data_sent, 1);
		push(r, QEMU_EV_VFIO_TAG, tag_offset)->tag = tag;
		return end_vfio_body(r);
	case QEMU_VFIO_DEV_DATA_STATE:
		r->data_size = r->data_left = get_be64(at(r));
		/* in a FULL section the vmdesc gave: the block and END_OF_STATE fit */
		if (r->dev &&
		    (r->body_end < here(r) + 16 || r->data_size > r->body_end - here(r) - 16))
			return fail(
				r, -EBADMSG, tag_offset + 8,
				"a DEV_DATA_STATE block of %llu bytes in a section the vmdesc gives %llu",
				(unsigned long long)r->data_size, (unsigned long long)r->dev->body);
		r->data_off = 0;
		advance(r, 8);
		VFIO_COUNT(r, data_blocks, 1);
		r->st = ST_VFIO_DATA;
		break;
	case QEMU_VFIO_DEV_CONFIG_STATE:
		if (config_start(r, tag_offset))
			return r->err;
		break;
	}
	ev = push(r, QEMU_EV_VFIO_TAG, tag_offset);
	ev->tag = tag;
	if (tag == QEMU_VFIO_DEV_DATA_STATE)
		ev->block_size = r->data_size;
	return 0;
}

/* After DEV_SETUP_STATE or the config state, END_OF_STATE and nothing else. */
static int step_vfio_end(struct qemu_stream *r, const char *after)
{
	uint64_t tag;

	if (need(r, 8))
		return r->err;
	tag = get_be64(at(r));
	if (tag != QEMU_VFIO_END_OF_STATE)
		return fail(r, -EBADMSG, here(r), "0x%016llx after %s, QEMU expects END_OF_STATE",
			    (unsigned long long)tag, after);
	return step_vfio_tag(r);
}

static int step_vfio_bytes(struct qemu_stream *r, bool config)
{
	uint64_t *left = config ? &r->config_left : &r->data_left;
	uint64_t *off = config ? &r->config_off : &r->data_off;
	struct qemu_vfio_device *d = vfio_dev(r);
	struct qemu_event *ev;
	ssize_t n;

	if (!*left) {
		r->st = config ? ST_VFIO_CONFIG_END : ST_VFIO_TAG;
		return 0;
	}
	n = qin_some(&r->in, *left < DATA_PIECE ? (size_t)*left : DATA_PIECE);
	if (n < 0)
		return fail(r, (int)n, here(r), "read: %s", strerror((int)-n));
	if (n == 0)
		return fail(r, -EBADMSG, here(r), "the stream ends %llu bytes into a %s of %llu",
			    (unsigned long long)*off,
			    config ? "config state" : "DEV_DATA_STATE block",
			    (unsigned long long)(*off + *left));
	if (config) {
		if (d->config_head_len < sizeof(d->config_head)) {
			size_t k = sizeof(d->config_head) - d->config_head_len;

			k = k < (size_t)n ? k : (size_t)n;
			memcpy(d->config_head + d->config_head_len, at(r), k);
			d->config_head_len += k;
		}
		VFIO_COUNT(r, config_bytes, (uint64_t)n);
	} else if (phase_of(r) == QEMU_VFIO_PRECOPY) {
		VFIO_COUNT(r, precopy_bytes, (uint64_t)n);
	} else {
		VFIO_COUNT(r, complete_bytes, (uint64_t)n);
	}
	ev = push(r, config ? QEMU_EV_VFIO_CONFIG : QEMU_EV_VFIO_DATA, here(r));
	ev->data = at(r);
	ev->len = (size_t)n;
	ev->phase = phase_of(r);
	ev->block_offset = *off;
	ev->block_size = config ? 0 : r->data_size;
	advance(r, (size_t)n);
	/* the snapshot counts the bytes it carries */
	last_queued(r)->sec.bytes = here(r) - r->sec.offset;
	*off += (uint64_t)n;
	*left -= (uint64_t)n;
	return 0;
}

/* Other devices: crossed by the vmdesc ----------------------------------- */

static int check_subsection(struct qemu_stream *r, const struct vmdesc_sub *s)
{
	size_t len = strlen(s->name);
	const uint8_t *p;

	if (need(r, 6 + len))
		return r->err;
	p = at(r);
	if (p[0] != QEMU_SEC_SUBSECTION || p[1] != len || memcmp(p + 2, s->name, len) ||
	    get_be32(p + 2 + len) != s->version)
		return fail(r, -EBADMSG, here(r),
			    "no header of subsection \"%s\" version %u where the vmdesc puts it",
			    s->name, s->version);
	advance(r, 6 + len);
	return 0;
}

static int step_skip(struct qemu_stream *r)
{
	const struct vmdesc_dev *d = r->dev;
	const struct vmdesc_sub *s;
	uint64_t target;
	ssize_t n;

	for (;;) {
		s = r->sub_next < d->first_sub + d->nsubs ? &r->vmdesc.subs[r->sub_next] : NULL;
		target = s ? r->body_start + s->offset : r->body_end;
		if (target < here(r) || target > r->body_end)
			return fail(r, -EBADMSG, here(r),
				    "the vmdesc's subsection offsets are not in order");
		while (here(r) < target) {
			n = qin_some(&r->in, target - here(r) < DATA_PIECE
						     ? (size_t)(target - here(r))
						     : DATA_PIECE);
			if (n < 0)
				return fail(r, (int)n, here(r), "read: %s", strerror((int)-n));
			if (n == 0)
				return fail(
					r, -EBADMSG, here(r),
					"the stream ends inside the section (%llu bytes per the vmdesc)",
					(unsigned long long)d->body);
			advance(r, (size_t)n);
		}
		if (!s)
			break;
		if (check_subsection(r, s))
			return r->err;
		r->sub_next++;
	}
	end_element(r);
	r->sub_next = d->first_sub;
	r->st = ST_SUB_ROWS;
	return 0;
}

static int step_sub_rows(struct qemu_stream *r)
{
	const struct vmdesc_dev *d = r->dev;
	const struct vmdesc_sub *s;
	struct qemu_section row;

	if (r->sub_next == d->first_sub + d->nsubs) {
		r->st = ST_FOOTER;
		return 0;
	}
	s = &r->vmdesc.subs[r->sub_next++];
	row = (struct qemu_section){ .index = r->next_index++,
				     .offset = r->body_start + s->offset,
				     .bytes = s->bytes,
				     .type = QEMU_SEC_SUBSECTION,
				     .version_id = s->version,
				     .depth = s->depth,
				     .packaged = r->sec.packaged };
	memcpy(row.idstr, s->name, sizeof(row.idstr));
	push_for(r, QEMU_EV_SECTION, row.offset, &row);
	return 0;
}

/* After EOF ------------------------------------------------------------- */

/* The vmdesc's bytes, read here for the first time (it was not needed before). */
static int read_vmdesc_here(struct qemu_stream *r, uint32_t len)
{
	char why[200];
	size_t done = 0;
	ssize_t n;
	int ret;

	r->vmdesc_json = malloc(len ? len : 1);
	if (!r->vmdesc_json)
		return fail(r, -ENOMEM, here(r), "out of memory");
	while (done < len) {
		n = qin_some(&r->in, len - done);
		if (n < 0)
			return fail(r, (int)n, here(r), "read: %s", strerror((int)-n));
		if (n == 0)
			return fail(r, -EBADMSG, here(r),
				    "the stream ends %zu bytes into the vmdesc of %u", done, len);
		memcpy(r->vmdesc_json + done, at(r), (size_t)n);
		advance(r, (size_t)n);
		done += (size_t)n;
	}
	r->vmdesc_len = len;
	ret = vmdesc_parse(&r->vmdesc, r->vmdesc_json, len, why, sizeof(why));
	if (ret)
		return fail(r, ret, r->sec.offset + 5, "the vmdesc: %s", why);
	r->has_vmdesc = true;
	r->vmdesc_offset = r->sec.offset;
	return 0;
}

static int skip_known_vmdesc(struct qemu_stream *r, uint32_t len)
{
	uint64_t end = here(r) + len;
	ssize_t n;

	if (r->sec.offset != r->vmdesc_offset || len != r->vmdesc_len)
		return fail(r, -EBADMSG, r->sec.offset, "a second vmdesc");
	while (here(r) < end) {
		n = qin_some(&r->in,
			     end - here(r) < DATA_PIECE ? (size_t)(end - here(r)) : DATA_PIECE);
		if (n <= 0)
			return fail(r, n ? (int)n : -EBADMSG, here(r),
				    "the stream ends inside the vmdesc");
		advance(r, (size_t)n);
	}
	return 0;
}

static int step_after_eof(struct qemu_stream *r)
{
	struct qemu_event *ev;
	uint32_t len;
	int end = qin_at_end(&r->in);

	if (end < 0)
		return fail(r, end, here(r), "read: %s", strerror(-end));
	if (end) {
		r->st = ST_AFTER_VMDESC;
		return 0;
	}
	begin_element(r, at(r)[0]);
	if (at(r)[0] != QEMU_SEC_VMDESCRIPTION)
		return fail(r, -EBADMSG, here(r),
			    "byte 0x%02x after EOF, where only a vmdesc may come", at(r)[0]);
	if (need(r, 5))
		return r->err;
	len = get_be32(at(r) + 1);
	if (len > r->opts.vmdesc_cap)
		return fail(r, -ENOBUFS, here(r), "a vmdesc of %u bytes, more than the cap of %zu",
			    len, r->opts.vmdesc_cap);
	advance(r, 5);
	if (r->has_vmdesc ? skip_known_vmdesc(r, len) : read_vmdesc_here(r, len))
		return r->err;
	ev = push(r, QEMU_EV_VMDESC, r->sec.offset + 5);
	ev->data = r->vmdesc_json;
	ev->len = r->vmdesc_len;
	end_element(r);
	r->st = ST_AFTER_VMDESC;
	return 0;
}

static int step_after_vmdesc(struct qemu_stream *r)
{
	int end = qin_at_end(&r->in);

	if (end < 0)
		return fail(r, end, here(r), "read: %s", strerror(-end));
	if (!end)
		return fail(r, -EBADMSG, here(r), "bytes after the stream's end");
	if (r->has_vmdesc && r->vmdesc.ndevs != r->nfull)
		return fail(r, -EBADMSG, here(r),
			    "the vmdesc describes %zu FULL sections, the stream had %llu",
			    r->vmdesc.ndevs, (unsigned long long)r->nfull);
	r->st = ST_DONE;
	return 0;
}

/* The loop ----------------------------------------------------------------- */

static int step(struct qemu_stream *r)
{
	switch (r->st) {
	case ST_HEADER:
		return step_header(r);
	case ST_TOP:
		return step_top(r);
	case ST_CONFIG_ROWS:
		return step_config_rows(r);
	case ST_RAM:
		return step_ram(r);
	case ST_RAM_BLOCKS:
		return step_ram_blocks(r);
	case ST_VFIO_TAG:
		return step_vfio_tag(r);
	case ST_VFIO_SETUP_END:
		return step_vfio_end(r, "DEV_SETUP_STATE");
	case ST_VFIO_DATA:
		return step_vfio_bytes(r, false);
	case ST_VFIO_CONFIG:
		return step_vfio_bytes(r, true);
	case ST_VFIO_CONFIG_END:
		return step_vfio_end(r, "the config state");
	case ST_SKIP:
		return step_skip(r);
	case ST_SUB_ROWS:
		return step_sub_rows(r);
	case ST_FOOTER:
		return step_footer(r);
	case ST_AFTER_EOF:
		return step_after_eof(r);
	case ST_AFTER_VMDESC:
		return step_after_vmdesc(r);
	case ST_DONE:
		return 0;
	}
	return -EINVAL;
}

int qemu_stream_next(struct qemu_stream *r, struct qemu_event *ev)
{
	int ret;

	if (r->err)
		return r->err;
	while (!r->qlen) {
		if (r->st == ST_DONE)
			return 0;
		ret = step(r);
		if (ret < 0)
			return ret;
		if (r->err)
			return r->err;
	}
	r->cur = r->queue[r->qhead];
	r->qhead = (r->qhead + 1) % QUEUE_LEN;
	r->qlen--;
	*ev = r->cur.ev;
	ev->sec = &r->cur.sec;
	return 1;
}

/* Construction ------------------------------------------------------------- */

static int stream_new(struct qemu_stream **out, int fd, qemu_stream_read_fn fn, void *ctx,
		      const char *name, const struct qemu_stream_opts *opts)
{
	struct qemu_stream *r = calloc(1, sizeof(*r));
	struct stat st;
	int ret;

	*out = NULL;
	if (!r)
		return -ENOMEM;
	if (opts)
		r->opts = *opts;
	if (!r->opts.tail_cap)
		r->opts.tail_cap = QEMU_STREAM_TAIL_CAP;
	if (!r->opts.vmdesc_cap)
		r->opts.vmdesc_cap = QEMU_STREAM_VMDESC_CAP;
	r->page_size = r->opts.page_size ? r->opts.page_size : 4096;
	if (r->page_size < 1024 || (r->page_size & (r->page_size - 1))) {
		free(r);
		return -EINVAL;
	}
	snprintf(r->name, sizeof(r->name), "%s", name ? name : "-");
	r->last_block = -1;
	ret = qin_init(&r->in, fd, fn, ctx, r->opts.prefix, r->opts.prefix_len);
	if (ret) {
		qin_release(&r->in);
		free(r);
		return ret;
	}
	r->seekable = fd >= 0 && !r->opts.no_seek && !fstat(fd, &st) && S_ISREG(st.st_mode);
	*out = r;
	return 0;
}

int qemu_stream_new(struct qemu_stream **out, int fd, const char *name,
		    const struct qemu_stream_opts *opts)
{
	if (fd < 0)
		return -EBADF;
	return stream_new(out, fd, NULL, NULL, name, opts);
}

int qemu_stream_new_cb(struct qemu_stream **out, qemu_stream_read_fn fn, void *ctx,
		       const char *name, const struct qemu_stream_opts *opts)
{
	if (!fn)
		return -EINVAL;
	return stream_new(out, -1, fn, ctx, name, opts);
}

void qemu_stream_free(struct qemu_stream *r)
{
	if (!r)
		return;
	qin_release(&r->in);
	vmdesc_release(&r->vmdesc);
	free(r->vmdesc_json);
	free(r->secs);
	free(r->blocks);
	free(r->vfio);
	free(r);
}

const struct qemu_stream_error *qemu_stream_error(const struct qemu_stream *r)
{
	return r->err ? &r->error : NULL;
}

uint64_t qemu_stream_offset(const struct qemu_stream *r)
{
	return here(r);
}

const struct qemu_configuration *qemu_stream_configuration(const struct qemu_stream *r)
{
	return r->has_config ? &r->config : NULL;
}

uint32_t qemu_stream_page_size(const struct qemu_stream *r)
{
	return r->page_size;
}

const struct qemu_ram_counts *qemu_stream_ram_totals(const struct qemu_stream *r)
{
	return &r->ram_total;
}

size_t qemu_stream_vfio_count(const struct qemu_stream *r)
{
	return r->nvfio;
}

const struct qemu_vfio_device *qemu_stream_vfio_device(const struct qemu_stream *r, size_t i)
{
	return i < r->nvfio ? &r->vfio[i] : NULL;
}
