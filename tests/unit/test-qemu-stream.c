// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The QEMU stream reader (lib/stream/qemu-stream.h) and the multifd reader
 * (qemu-multifd.h) on streams built here byte by byte (qemu-build.h): every
 * section type, every RAM record flag, the VFIO framing, the vmdesc from a
 * file's end and from a buffered pipe tail; then the same stream cut at
 * every byte and corrupted item by item, each with the byte and section the
 * error must name. With --write-seeds DIR it writes the streams it builds
 * (the fuzz target's seed corpus).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/c.h"
#include "qemu-build.h"
#include "unit.h"

#define VFIO_ID "0000:00:01.0/vfio"

/* Where the reference stream's items are. */
struct marks {
	size_t config, ram_start, ram_start_footer, vfio_start, ram_part, page1, zero1, xbzrle,
		compress, bios_page, hook, vfio_part, vfio_part_data, init_sent, ping, ram_end,
		vfio_end, timer, timer_sub, vfio_full, config_tag, config_end, eof, vmdesc;
};

struct variant {
	bool ignore_shared;
	bool no_vmdesc;
};

static const char vmdesc_json[] =
	"{\"page_size\": 4096, \"devices\": ["
	"{\"name\": \"timer\", \"instance_id\": 0, \"vmsd_name\": \"timer\", \"version\": 2, \"fields\": ["
	"{\"name\": \"a\", \"type\": \"int64\", \"size\": 8},"
	"{\"name\": \"b\", \"array_len\": 2, \"type\": \"int64\", \"size\": 8}],"
	" \"subsections\": [{\"vmsd_name\": \"timer/sub\", \"version\": 1, \"fields\": ["
	"{\"name\": \"x\", \"type\": \"uint32\", \"size\": 4}]}]},"
	"{\"name\": \"" VFIO_ID "\", \"instance_id\": 0, \"size\": 292, \"fields\": ["
	"{\"name\": \"data\", \"size\": 292, \"type\": \"buffer\"}]}]}";

static void build_config(struct qb *b, struct marks *m, const struct variant *v)
{
	uint8_t uuid[16];

	m->config = qb_config(b, "pc-q35-10.0");
	qb_subsection(b, "configuration/target-page-bits", 1);
	qb_u32(b, 12);
	if (v->ignore_shared) {
		qb_subsection(b, "configuration/capabilities", 1);
		qb_u32(b, 1);
		qb_name(b, "x-ignore-shared");
	}
	qb_subsection(b, "configuration/uuid", 1);
	memset(uuid, 0xab, sizeof(uuid));
	qb_bytes(b, uuid, sizeof(uuid));
}

static void build_iterations(struct qb *b, struct marks *m, const struct variant *v)
{
	uint8_t xbz[13] = { 1, 0, 10 };

	m->ram_start = qb_section(b, QEMU_SEC_START, 0, "ram", 0, 4);
	qb_u64(b, (0x100000 + 0x20000) | QEMU_RAM_FLAG_MEM_SIZE);
	qb_name(b, "pc.ram");
	qb_u64(b, 0x100000);
	if (v->ignore_shared)
		qb_u64(b, 0);
	qb_name(b, "pc.bios");
	qb_u64(b, 0x20000);
	if (v->ignore_shared)
		qb_u64(b, 0xfffe0000);
	qb_u64(b, QEMU_RAM_FLAG_MULTIFD_FLUSH);
	qb_u64(b, QEMU_RAM_FLAG_EOS);
	m->ram_start_footer = qb_footer(b, 0);

	m->vfio_start = qb_section(b, QEMU_SEC_START, 1, VFIO_ID, 0, 1);
	qb_u64(b, QEMU_VFIO_DEV_SETUP_STATE);
	qb_u64(b, QEMU_VFIO_END_OF_STATE);
	qb_footer(b, 1);

	m->ram_part = qb_section(b, QEMU_SEC_PART, 0, NULL, 0, 0);
	m->page1 = qb_ram(b, 0x1000, QEMU_RAM_FLAG_PAGE, "pc.ram");
	qb_pattern(b, 4096, 9);
	m->zero1 = qb_ram(b, 0x2000, QEMU_RAM_FLAG_ZERO | QEMU_RAM_FLAG_CONTINUE, NULL);
	qb_u8(b, 0);
	qb_ram(b, 0x3000, QEMU_RAM_FLAG_PAGE | QEMU_RAM_FLAG_CONTINUE, NULL);
	qb_pattern(b, 4096, 11);
	m->xbzrle = qb_ram(b, 0x4000, QEMU_RAM_FLAG_XBZRLE | QEMU_RAM_FLAG_CONTINUE, NULL);
	qb_bytes(b, xbz, sizeof(xbz));
	m->compress = qb_ram(b, 0x5000, QEMU_RAM_FLAG_COMPRESS_PAGE | QEMU_RAM_FLAG_CONTINUE, NULL);
	qb_u32(b, 20);
	qb_pattern(b, 20, 5);
	m->bios_page = qb_ram(b, 0, QEMU_RAM_FLAG_PAGE, "pc.bios");
	qb_pattern(b, 4096, 13);
	m->hook = qb_u64(b, QEMU_RAM_FLAG_HOOK);
	qb_u64(b, QEMU_RAM_FLAG_MULTIFD_FLUSH);
	qb_u64(b, QEMU_RAM_FLAG_EOS);
	qb_footer(b, 0);

	m->vfio_part = qb_section(b, QEMU_SEC_PART, 1, NULL, 0, 0);
	m->vfio_part_data = qb_vfio_data(b, 24, 1);
	qb_u64(b, QEMU_VFIO_END_OF_STATE);
	qb_footer(b, 1);
	qb_section(b, QEMU_SEC_PART, 1, NULL, 0, 0);
	m->init_sent = qb_u64(b, QEMU_VFIO_DEV_INIT_DATA_SENT);
	qb_footer(b, 1);
}

static void build_complete(struct qb *b, struct marks *m)
{
	uint8_t ping[4] = { 0, 0, 0, 7 };

	qb_command(b, QEMU_CMD_SWITCHOVER_START, NULL, 0);
	m->ping = qb_command(b, QEMU_CMD_PING, ping, 4);
	m->ram_end = qb_section(b, QEMU_SEC_END, 0, NULL, 0, 0);
	qb_u64(b, QEMU_RAM_FLAG_EOS);
	qb_footer(b, 0);
	m->vfio_end = qb_section(b, QEMU_SEC_END, 1, NULL, 0, 0);
	qb_vfio_data(b, 20, 2);
	qb_vfio_data(b, 16, 3);
	qb_u64(b, QEMU_VFIO_END_OF_STATE);
	qb_footer(b, 1);

	m->timer = qb_section(b, QEMU_SEC_FULL, 2, "timer", 0, 2);
	qb_pattern(b, 24, 21);
	m->timer_sub = qb_subsection(b, "timer/sub", 1);
	qb_u32(b, 0x11223344);
	qb_footer(b, 2);

	m->vfio_full = qb_section(b, QEMU_SEC_FULL, 1, VFIO_ID, 0, 1);
	m->config_tag = qb_u64(b, QEMU_VFIO_DEV_CONFIG_STATE);
	qb_pci_config(b, 0x1af4, 0x10f0);
	m->config_end = qb_u64(b, QEMU_VFIO_END_OF_STATE);
	qb_footer(b, 1);
}

static struct qb build_variant(struct marks *m, const struct variant *v)
{
	struct qb b = { 0 };

	*m = (struct marks){ 0 };
	qb_header(&b);
	build_config(&b, m, v);
	build_iterations(&b, m, v);
	build_complete(&b, m);
	m->eof = qb_u8(&b, QEMU_SEC_EOF);
	if (!v->no_vmdesc)
		m->vmdesc = qb_vmdesc(&b, vmdesc_json);
	return b;
}

static struct qb build(struct marks *m)
{
	static const struct variant plain;

	return build_variant(m, &plain);
}

/* Reading ------------------------------------------------------------------ */

struct mem {
	const uint8_t *p;
	size_t len, pos, step;
};

static ssize_t mem_read(void *ctx, void *buf, size_t len)
{
	struct mem *s = ctx;
	size_t n = s->len - s->pos;

	if (n > len)
		n = len;
	if (s->step && n > s->step)
		n = s->step;
	memcpy(buf, s->p + s->pos, n);
	s->pos += n;
	return (ssize_t)n;
}

/* What a whole read gave. */
struct result {
	int ret;
	struct qemu_stream_error err;
	unsigned int rows[0x101]; /* QEMU_EV_SECTION per type */
	unsigned int events[16];
	uint8_t precopy[256], complete[256], config[512];
	size_t nprecopy, ncomplete, nconfig;
	struct qemu_ram_counts ram;
	struct qemu_vfio_device vfio;
	size_t nvfio;
	unsigned int blocks, ram_block_addrs;
	char machine[256];
	uint32_t page_size;
	bool rows_in_order;
	uint64_t last_row_end;
	unsigned int sub_rows_after_parent;
	uint64_t vmdesc_len;
};

/* Keeps what fits of the bytes, counts them all. */
static void keep(uint8_t *dst, size_t *n, size_t cap, const uint8_t *data, size_t len)
{
	if (*n < cap)
		memcpy(dst + *n, data, len < cap - *n ? len : cap - *n);
	*n += len;
}

static void append(uint8_t *dst, size_t *n, size_t cap, const struct qemu_event *ev)
{
	keep(dst, n, cap, ev->data, ev->len);
}

static void take_event(struct result *res, const struct qemu_event *ev)
{
	const struct qemu_section *s = ev->sec;

	res->events[ev->type]++;
	switch (ev->type) {
	case QEMU_EV_SECTION:
		res->rows[s->type]++;
		/* rows of top-level elements come in stream order, back to back */
		if (s->type != QEMU_SEC_SUBSECTION) {
			if (s->offset < res->last_row_end)
				res->rows_in_order = false;
			res->last_row_end = s->offset + s->bytes;
		}
		break;
	case QEMU_EV_VFIO_DATA:
		if (ev->phase == QEMU_VFIO_PRECOPY)
			append(res->precopy, &res->nprecopy, sizeof(res->precopy), ev);
		else
			append(res->complete, &res->ncomplete, sizeof(res->complete), ev);
		break;
	case QEMU_EV_VFIO_CONFIG:
		append(res->config, &res->nconfig, sizeof(res->config), ev);
		break;
	case QEMU_EV_RAM_BLOCK:
		res->blocks++;
		res->ram_block_addrs += ev->ram_block->has_addr;
		break;
	case QEMU_EV_CONFIGURATION:
		memcpy(res->machine, ev->config->machine, sizeof(res->machine));
		break;
	case QEMU_EV_VMDESC:
		res->vmdesc_len = ev->len;
		break;
	default:
		break;
	}
}

static void drain(struct qemu_stream *r, struct result *res)
{
	struct qemu_event ev;

	res->rows_in_order = true;
	while ((res->ret = qemu_stream_next(r, &ev)) > 0)
		take_event(res, &ev);
	if (res->ret < 0)
		res->err = *qemu_stream_error(r);
	res->ram = *qemu_stream_ram_totals(r);
	res->nvfio = qemu_stream_vfio_count(r);
	if (res->nvfio)
		res->vfio = *qemu_stream_vfio_device(r, 0);
	res->page_size = qemu_stream_page_size(r);
}

/* From memory, step bytes per read (0: all it asks): a pipe's path. */
static void read_mem(const struct qb *b, size_t len, size_t step,
		     const struct qemu_stream_opts *opts, struct result *res)
{
	struct mem src = { .p = b->p, .len = len, .step = step };
	struct qemu_stream *r;

	memset(res, 0, sizeof(*res));
	if (qemu_stream_new_cb(&r, mem_read, &src, "mem", opts)) {
		res->ret = -ENOMEM;
		return;
	}
	drain(r, res);
	qemu_stream_free(r);
}

/* From a regular file: the vmdesc by pread. */
static void read_file(const struct qb *b, size_t len, const struct qemu_stream_opts *opts,
		      struct result *res)
{
	FILE *f = tmpfile();
	struct qemu_stream *r;

	memset(res, 0, sizeof(*res));
	if (!f || fwrite(b->p, 1, len, f) != len || fflush(f) || lseek(fileno(f), 0, SEEK_SET)) {
		res->ret = -EIO;
		return;
	}
	if (qemu_stream_new(&r, fileno(f), "file", opts)) {
		res->ret = -ENOMEM;
		fclose(f);
		return;
	}
	drain(r, res);
	qemu_stream_free(r);
	fclose(f);
}

static bool same_pattern(const uint8_t *p, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != (uint8_t)(seed + i * 7))
			return false;
	return true;
}

static void check_reference(const struct result *res)
{
	struct qemu_pci_ids ids;

	CHECK_EQ(res->ret, 0);
	if (res->ret)
		printf("#   %s\n", res->err.msg);
	CHECK(!strcmp(res->machine, "pc-q35-10.0"));
	CHECK_EQ(res->page_size, 4096);
	CHECK_EQ(res->rows[QEMU_SEC_HEADER], 1);
	CHECK_EQ(res->rows[QEMU_SEC_CONFIGURATION], 1);
	CHECK_EQ(res->rows[QEMU_SEC_START], 2);
	CHECK_EQ(res->rows[QEMU_SEC_PART], 3);
	CHECK_EQ(res->rows[QEMU_SEC_END], 2);
	CHECK_EQ(res->rows[QEMU_SEC_FULL], 2);
	CHECK_EQ(res->rows[QEMU_SEC_FOOTER], 9);
	CHECK_EQ(res->rows[QEMU_SEC_COMMAND], 2);
	CHECK_EQ(res->rows[QEMU_SEC_EOF], 1);
	CHECK_EQ(res->rows[QEMU_SEC_VMDESCRIPTION], 1);
	/* target-page-bits, uuid; timer/sub */
	CHECK_EQ(res->rows[QEMU_SEC_SUBSECTION], 3);
	CHECK(res->rows_in_order);
	CHECK_EQ(res->events[QEMU_EV_SECTION_BEGIN], 9);
	CHECK_EQ(res->events[QEMU_EV_COMMAND], 2);
	CHECK_EQ(res->vmdesc_len, strlen(vmdesc_json));
	CHECK_EQ(res->blocks, 2);
	CHECK_EQ(res->ram.normal_pages, 3);
	CHECK_EQ(res->ram.zero_pages, 1);
	CHECK_EQ(res->ram.xbzrle_pages, 1);
	CHECK_EQ(res->ram.compressed_pages, 1);
	CHECK_EQ(res->ram.page_bytes, 3 * 4096 + 10 + 20);
	CHECK_EQ(res->ram.flushes, 2);
	CHECK_EQ(res->ram.hooks, 1);
	CHECK_EQ(res->nvfio, 1);
	CHECK(!strcmp(res->vfio.idstr, VFIO_ID));
	CHECK_EQ(res->vfio.counts.precopy_bytes, 24);
	CHECK_EQ(res->vfio.counts.complete_bytes, 36);
	CHECK_EQ(res->vfio.counts.data_blocks, 3);
	CHECK_EQ(res->vfio.counts.init_data_sent, 1);
	CHECK_EQ(res->vfio.counts.setup_states, 1);
	CHECK_EQ(res->vfio.counts.config_states, 1);
	CHECK_EQ(res->vfio.counts.config_bytes, QB_CONFIG_LEN);
	CHECK(!res->vfio.config_before_data);
	CHECK_EQ(res->nprecopy, 24);
	CHECK(same_pattern(res->precopy, 24, 1));
	CHECK_EQ(res->ncomplete, 36);
	CHECK(same_pattern(res->complete, 20, 2) && same_pattern(res->complete + 20, 16, 3));
	CHECK_EQ(res->nconfig, QB_CONFIG_LEN);
	CHECK_EQ(qemu_vfio_config_pci_ids(res->config, res->nconfig, &ids), 0);
	CHECK_EQ(ids.vendor, 0x1af4);
	CHECK_EQ(ids.device, 0x10f0);
	CHECK_EQ(ids.subsystem_vendor, 0x1234);
	CHECK_EQ(ids.subsystem, 0x5678);
	CHECK_EQ(ids.class_code, 0x078000);
	CHECK_EQ(qemu_vfio_config_pci_ids(res->vfio.config_head, res->vfio.config_head_len, &ids),
		 0);
	CHECK_EQ(ids.vendor, 0x1af4);
}

/* Whole streams ------------------------------------------------------------- */

static void test_reference_from_file(void)
{
	struct marks m;
	struct qb b = build(&m);
	struct result res;

	read_file(&b, b.len, NULL, &res);
	check_reference(&res);
	qb_free(&b);
}

static void test_reference_from_pipe(void)
{
	static const size_t steps[] = { 0, 1, 7, 4096, 4105 };
	struct qemu_stream_opts no_seek = { .no_seek = true };
	struct marks m;
	struct qb b = build(&m);
	struct result res;

	for (size_t i = 0; i < ARRAY_SIZE(steps); i++) {
		read_mem(&b, b.len, steps[i], NULL, &res);
		check_reference(&res);
	}
	read_file(&b, b.len, &no_seek, &res);
	check_reference(&res);
	qb_free(&b);
}

/* The bytes already read by the caller (to tell the format) come first. */
static void test_prefix(void)
{
	struct marks m;
	struct qb b = build(&m);
	struct qemu_stream_opts opts = { .prefix = b.p, .prefix_len = 8 };
	struct mem src = { .p = b.p + 8, .len = b.len - 8 };
	struct qemu_stream *r;
	struct result res = { 0 };

	CHECK_EQ(qemu_channel_probe(b.p, b.len), QEMU_CHANNEL_MAIN);
	CHECK_EQ(qemu_stream_new_cb(&r, mem_read, &src, "prefixed", &opts), 0);
	drain(r, &res);
	qemu_stream_free(r);
	check_reference(&res);
	qb_free(&b);
}

static void test_ignore_shared_blocks(void)
{
	struct variant v = { .ignore_shared = true };
	struct marks m;
	struct qb b = build_variant(&m, &v);
	struct result res;

	read_mem(&b, b.len, 0, NULL, &res);
	CHECK_EQ(res.ret, 0);
	CHECK_EQ(res.blocks, 2);
	CHECK_EQ(res.ram_block_addrs, 2);
	qb_free(&b);
}

/* Every RAM record handed out, with opts.ram_records. */
static void test_ram_records(void)
{
	struct qemu_stream_opts opts = { .ram_records = true };
	struct marks m;
	struct qb b = build(&m);
	struct result res;

	read_mem(&b, b.len, 0, &opts, &res);
	CHECK_EQ(res.ret, 0);
	/* START: MEM_SIZE, FLUSH, EOS; PART: 6 pages, HOOK, FLUSH, EOS; END: EOS */
	CHECK_EQ(res.events[QEMU_EV_RAM_RECORD], 3 + 9 + 1);
	CHECK_EQ(res.ram.records, 13);
	qb_free(&b);
}

/* No vmdesc: the iterable part is read, the first FULL section fails. */
static void test_no_vmdesc(void)
{
	struct variant v = { .no_vmdesc = true };
	struct marks m;
	struct qb b = build_variant(&m, &v);
	struct result res;

	read_mem(&b, b.len, 0, NULL, &res);
	CHECK_EQ(res.ret, -EBADMSG);
	CHECK_EQ(res.err.offset, m.timer);
	CHECK_EQ(res.err.type, QEMU_SEC_FULL);
	CHECK_STR_CONTAINS(res.err.msg, "no vmdesc");
	CHECK_STR_CONTAINS(res.err.msg, "\"timer\"");
	/* the device data came before */
	CHECK_EQ(res.vfio.counts.precopy_bytes, 24);
	CHECK_EQ(res.vfio.counts.complete_bytes, 36);
	read_file(&b, b.len, NULL, &res);
	CHECK_EQ(res.err.offset, m.timer);
	qb_free(&b);
}

/* A pipe's tail beyond tail_cap: -ENOBUFS, after the iterable part. */
static void test_tail_cap(void)
{
	struct qemu_stream_opts opts = { .tail_cap = 600 };
	struct marks m;
	struct qb b = build(&m);
	struct result res;

	read_mem(&b, b.len, 0, &opts, &res);
	CHECK_EQ(res.ret, -ENOBUFS);
	CHECK_STR_CONTAINS(res.err.msg, "tail cap");
	CHECK_EQ(res.vfio.counts.complete_bytes, 36);
	/* a file does not need the tail */
	read_file(&b, b.len, &opts, &res);
	CHECK_EQ(res.ret, 0);
	qb_free(&b);
}

/* Cut at every byte: an error, never more than what was there. */
static void test_cut_everywhere(void)
{
	struct marks m;
	struct qb b = build(&m);
	struct result res;
	unsigned int bad = 0;

	for (size_t len = 0; len < b.len; len++) {
		read_mem(&b, len, len % 5 ? 0 : 3, NULL, &res);
		if (res.ret != -EBADMSG || res.err.offset > len || !res.err.msg[0]) {
			if (bad++ < 5)
				printf("#   cut at %zu: ret %d, offset %llu, %s\n", len, res.ret,
				       (unsigned long long)res.err.offset, res.err.msg);
		}
	}
	for (size_t len = 0; len < b.len; len += 97) {
		read_file(&b, len, NULL, &res);
		if (res.ret != -EBADMSG || res.err.offset > len)
			bad++;
	}
	CHECK_EQ(bad, 0);
	qb_free(&b);
}

/* One changed item, the error it must give ---------------------------------- */

struct corruption {
	const char *name;
	void (*apply)(struct qb *b, const struct marks *m);
	size_t (*offset)(const struct marks *m); /* the byte the error names */
	unsigned int type;			 /* the section it names */
	const char *says;
};

static void put64(struct qb *b, size_t at, uint64_t v)
{
	put_be64(b->p + at, v);
}

static void bad_magic(struct qb *b, const struct marks *m)
{
	b->p[0] = 'X';
}
static size_t at_zero(const struct marks *m)
{
	return 0;
}
static void old_version(struct qb *b, const struct marks *m)
{
	put_be32(b->p + 4, 2);
}
static size_t at_four(const struct marks *m)
{
	return 4;
}
static void unknown_type(struct qb *b, const struct marks *m)
{
	b->p[m->vfio_start] = 0x42;
}
static size_t at_vfio_start(const struct marks *m)
{
	return m->vfio_start;
}
static void footer_id(struct qb *b, const struct marks *m)
{
	put_be32(b->p + m->ram_start_footer + 1, 9);
}
static size_t at_footer_id(const struct marks *m)
{
	return m->ram_start_footer + 1;
}
static void no_footer(struct qb *b, const struct marks *m)
{
	b->p[m->ram_start_footer] = QEMU_SEC_EOF;
}
static size_t at_footer(const struct marks *m)
{
	return m->ram_start_footer;
}
static void unknown_id(struct qb *b, const struct marks *m)
{
	put_be32(b->p + m->ram_part + 1, 77);
}
static size_t at_ram_part(const struct marks *m)
{
	return m->ram_part;
}
static void ram_version(struct qb *b, const struct marks *m)
{
	put_be32(b->p + m->ram_start + 1 + 4 + 4 + 4, 3);
}
static size_t at_ram_start(const struct marks *m)
{
	return m->ram_start;
}
static void ram_full_flag(struct qb *b, const struct marks *m)
{
	put64(b, m->hook, 0x1);
}
static size_t at_hook(const struct marks *m)
{
	return m->hook;
}
static void zero_fill(struct qb *b, const struct marks *m)
{
	b->p[m->zero1 + 8] = 5;
}
static size_t after_zero(const struct marks *m)
{
	return m->zero1 + 8;
}
static void unknown_block(struct qb *b, const struct marks *m)
{
	b->p[m->page1 + 9] = 'q';
}
static size_t at_page1(const struct marks *m)
{
	return m->page1;
}
static void continue_first(struct qb *b, const struct marks *m)
{
	/* the first page says CONTINUE: its name is read as the page */
	put64(b, m->page1, 0x1000 | QEMU_RAM_FLAG_PAGE | QEMU_RAM_FLAG_CONTINUE);
}
static void page_beyond_block(struct qb *b, const struct marks *m)
{
	put64(b, m->bios_page, 0x20000 | QEMU_RAM_FLAG_PAGE);
}
static size_t at_bios_page(const struct marks *m)
{
	return m->bios_page;
}
static void xbzrle_long(struct qb *b, const struct marks *m)
{
	put_be16(b->p + m->xbzrle + 9, 5000);
}
static size_t at_xbzrle(const struct marks *m)
{
	return m->xbzrle;
}
static void xbzrle_encoding(struct qb *b, const struct marks *m)
{
	b->p[m->xbzrle + 8] = 2;
}
static size_t after_xbzrle(const struct marks *m)
{
	return m->xbzrle + 8;
}
static void compress_long(struct qb *b, const struct marks *m)
{
	put_be32(b->p + m->compress + 8, 9000);
}
static size_t at_compress(const struct marks *m)
{
	return m->compress;
}
static void unknown_tag(struct qb *b, const struct marks *m)
{
	put64(b, m->vfio_part_data, 0xffffffffef100009ull);
}
static size_t at_part_data(const struct marks *m)
{
	return m->vfio_part_data;
}
static void setup_without_end(struct qb *b, const struct marks *m)
{
	put64(b, m->vfio_start + 1 + 4 + 1 + strlen(VFIO_ID) + 8 + 8, QEMU_VFIO_DEV_DATA_STATE);
}
static size_t after_setup(const struct marks *m)
{
	return m->vfio_start + 1 + 4 + 1 + strlen(VFIO_ID) + 8 + 8;
}
static void data_too_long(struct qb *b, const struct marks *m)
{
	put64(b, m->vfio_part_data + 8, 1ull << 40);
}
static void config_in_part(struct qb *b, const struct marks *m)
{
	put64(b, m->init_sent, QEMU_VFIO_DEV_CONFIG_STATE);
}
static size_t at_init_sent(const struct marks *m)
{
	return m->init_sent;
}
static void config_end_tag(struct qb *b, const struct marks *m)
{
	put64(b, m->config_end, QEMU_VFIO_DEV_DATA_STATE);
}
static size_t at_config_end(const struct marks *m)
{
	return m->config_end;
}
static void subsection_name(struct qb *b, const struct marks *m)
{
	b->p[m->timer_sub + 2] = 'T';
}
static size_t at_timer_sub(const struct marks *m)
{
	return m->timer_sub;
}
static void device_name(struct qb *b, const struct marks *m)
{
	b->p[m->timer + 6] = 'T';
}
static size_t at_timer(const struct marks *m)
{
	return m->timer;
}
static void iterable_other(struct qb *b, const struct marks *m)
{
	memcpy(b->p + m->ram_start + 6, "rom", 3);
}
static void ping_length(struct qb *b, const struct marks *m)
{
	put_be16(b->p + m->ping + 3, 3);
}
static size_t ping_len_at(const struct marks *m)
{
	return m->ping + 3;
}
static void unknown_command(struct qb *b, const struct marks *m)
{
	put_be16(b->p + m->ping + 1, 40);
}
static size_t ping_cmd_at(const struct marks *m)
{
	return m->ping + 1;
}
static void block_too_big(struct qb *b, const struct marks *m)
{
	/* pc.ram's length (after the header, MEM_SIZE, its name): more than the RAM size */
	put64(b, m->ram_start + 17 + 8 + 7, 0x200000);
}
static size_t at_first_block(const struct marks *m)
{
	return m->ram_start + 17 + 8;
}

static const struct corruption corruptions[] = {
	{ "magic", bad_magic, at_zero, QEMU_SEC_HEADER, "not a QEMU migration stream" },
	{ "version", old_version, at_four, QEMU_SEC_HEADER, "version 2" },
	{ "type", unknown_type, at_vfio_start, 0x42, "an unknown section type" },
	{ "footer id", footer_id, at_footer_id, QEMU_SEC_FOOTER, "the footer of section 0 says 9" },
	{ "no footer", no_footer, at_footer, QEMU_SEC_FOOTER, "no footer after section 0" },
	{ "part id", unknown_id, at_ram_part, QEMU_SEC_PART, "section id 77 was never started" },
	{ "ram version", ram_version, at_ram_start, QEMU_SEC_START, "ram section version 3" },
	{ "RAM FULL flag", ram_full_flag, at_hook, QEMU_SEC_PART, "RAM record flags 0x1" },
	{ "zero fill", zero_fill, after_zero, QEMU_SEC_PART, "a zero page filled with 0x05" },
	{ "block name", unknown_block, at_page1, QEMU_SEC_PART,
	  "which the block list does not have" },
	{ "continue", continue_first, at_page1, QEMU_SEC_PART, "a CONTINUE page with no block" },
	{ "page offset", page_beyond_block, at_bios_page, QEMU_SEC_PART,
	  "beyond block \"pc.bios\"" },
	{ "xbzrle length", xbzrle_long, at_xbzrle, QEMU_SEC_PART, "an XBZRLE page of 5000 bytes" },
	{ "xbzrle encoding", xbzrle_encoding, after_xbzrle, QEMU_SEC_PART, "XBZRLE encoding 0x02" },
	{ "compressed length", compress_long, at_compress, QEMU_SEC_PART,
	  "a compressed page of 9000 bytes" },
	{ "block size", block_too_big, at_first_block, QEMU_SEC_START,
	  "block \"pc.ram\" of 2097152 bytes, with 1179648 left" },
	{ "vfio tag", unknown_tag, at_part_data, QEMU_SEC_PART,
	  "unknown VFIO tag 0xffffffffef100009" },
	{ "setup end", setup_without_end, after_setup, QEMU_SEC_START, "after DEV_SETUP_STATE" },
	{ "config in part", config_in_part, at_init_sent, QEMU_SEC_PART,
	  "DEV_CONFIG_STATE in an iterable section" },
	{ "config end", config_end_tag, at_config_end, QEMU_SEC_FULL, "after the config state" },
	{ "subsection", subsection_name, at_timer_sub, QEMU_SEC_FULL, "subsection \"timer/sub\"" },
	{ "vmdesc device", device_name, at_timer, QEMU_SEC_FULL,
	  "the vmdesc's device 1 is \"timer\"" },
	{ "iterable", iterable_other, at_ram_start, QEMU_SEC_START,
	  "an iterable section of \"rom\"" },
	{ "ping length", ping_length, ping_len_at, QEMU_SEC_COMMAND,
	  "PING with 3 bytes, QEMU expects 4" },
	{ "command", unknown_command, ping_cmd_at, QEMU_SEC_COMMAND, "unknown command 40" },
};

static void check_corruption(const struct corruption *c, const struct result *res,
			     const struct marks *m, const char *how)
{
	bool ok = res->ret == -EBADMSG && res->err.offset == c->offset(m) &&
		  res->err.type == c->type && strstr(res->err.msg, c->says);

	if (!ok) {
		printf("#   %s (%s): ret %d, offset %llu (want %zu), type 0x%x (want 0x%x): %s\n",
		       c->name, how, res->ret, (unsigned long long)res->err.offset, c->offset(m),
		       res->err.type, c->type, res->err.msg);
		unit_current_failed = 1;
	}
}

static void test_corruptions(void)
{
	struct marks m;
	struct result res;

	for (size_t i = 0; i < ARRAY_SIZE(corruptions); i++) {
		struct qb b = build(&m);

		corruptions[i].apply(&b, &m);
		read_mem(&b, b.len, 0, NULL, &res);
		check_corruption(&corruptions[i], &res, &m, "pipe");
		read_file(&b, b.len, NULL, &res);
		check_corruption(&corruptions[i], &res, &m, "file");
		qb_free(&b);
	}
}

/* A DEV_DATA_STATE size beyond the stream: streamed until the cut, never allocated. */
static void test_data_size_not_trusted(void)
{
	struct marks m;
	struct qb b = build(&m);
	struct result res;

	data_too_long(&b, &m);
	read_mem(&b, b.len, 0, NULL, &res);
	CHECK_EQ(res.ret, -EBADMSG);
	CHECK_EQ(res.err.offset, b.len);
	CHECK_STR_CONTAINS(res.err.msg, "into a DEV_DATA_STATE block of 1099511627776");
	qb_free(&b);
}

static void test_bytes_after_end(void)
{
	struct marks m;
	struct qb b = build(&m);
	struct result res;
	size_t end = b.len;

	qb_u8(&b, 0);
	read_mem(&b, b.len, 0, NULL, &res);
	CHECK_EQ(res.ret, -EBADMSG);
	CHECK_STR_CONTAINS(res.err.msg, "vmdesc");
	CHECK(res.err.offset <= end);
	qb_free(&b);
}

/* A vmdesc whose sizes do not fit the stream: the footer check catches it. */
static void test_vmdesc_size_wrong(void)
{
	struct qb b = { 0 };
	struct result res;
	size_t full;
	const char *json = "{\"devices\": [{\"name\": \"dev\", \"instance_id\": 0, \"fields\": ["
			   "{\"name\": \"a\", \"size\": 5}]}]}";

	qb_header(&b);
	qb_config(&b, "pc-q35-10.0");
	full = qb_section(&b, QEMU_SEC_FULL, 0, "dev", 0, 1);
	qb_pattern(&b, 4, 1);
	qb_footer(&b, 0);
	qb_u8(&b, QEMU_SEC_EOF);
	qb_vmdesc(&b, json);
	read_mem(&b, b.len, 0, NULL, &res);
	CHECK_EQ(res.ret, -EBADMSG);
	CHECK_EQ(res.err.offset, full + 17 + 5);
	CHECK_STR_CONTAINS(res.err.msg, "no footer after section 0");
	qb_free(&b);
}

/* The vmdesc's JSON itself is checked. */
static void test_vmdesc_json(void)
{
	static const char *const bad[] = {
		"{\"devices\": [{\"name\": \"dev\", \"instance_id\": 0, \"fields\": [{\"name\": \"a\"}]}]}",
		"{\"devices\": [{\"name\": \"dev\", \"fields\": [{\"size\": -4}]}]}",
		"{\"devices\": [{\"name\": \"dev\", \"fields\": [{\"size\": 4, \"array_len\": 0}]}]}",
		"{\"devices\": [{\"fields\": []}]}",
		"{\"devices\": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}",
		"{\"devices\": [{\"name\": \"dev\", \"fields\": []}]} x",
		"{\"devices\": [{\"name\": \"dev\", \"fields\": [{\"size\": 99999999999999999999}]}]}",
		"{\"devices\": [{\"name\": \"dev\" \"fields\": []}]}",
	};
	struct result res;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct qb b = { 0 };

		qb_header(&b);
		qb_section(&b, QEMU_SEC_FULL, 0, "dev", 0, 1);
		qb_pattern(&b, 4, 1);
		qb_u8(&b, QEMU_SEC_EOF);
		qb_vmdesc(&b, bad[i]);
		read_mem(&b, b.len, 0, NULL, &res);
		CHECK_EQ(res.ret, -EBADMSG);
		CHECK_STR_CONTAINS(res.err.msg, "the vmdesc at byte");
		qb_free(&b);
	}
}

/* After EOF only the vmdesc, and after it nothing. */
static void test_after_eof(void)
{
	struct qb b = { 0 };
	struct result res;
	size_t eof;

	qb_header(&b);
	eof = qb_u8(&b, QEMU_SEC_EOF);
	qb_u8(&b, QEMU_SEC_FULL);
	read_mem(&b, b.len, 0, NULL, &res);
	CHECK_EQ(res.ret, -EBADMSG);
	CHECK_EQ(res.err.offset, eof + 1);
	CHECK_STR_CONTAINS(res.err.msg, "byte 0x04 after EOF");
	b.len = eof + 1;
	qb_vmdesc(&b, "{}");
	read_mem(&b, b.len, 0, NULL, &res);
	CHECK_EQ(res.ret, 0);
	CHECK_EQ(res.rows[QEMU_SEC_VMDESCRIPTION], 1);
	qb_u8(&b, 0);
	read_mem(&b, b.len, 0, NULL, &res);
	CHECK_EQ(res.ret, -EBADMSG);
	CHECK_STR_CONTAINS(res.err.msg, "bytes after the stream's end");
	qb_free(&b);
}

/* PACKAGED: its sections are read and marked; one crossing its end is an error. */
static void test_packaged(void)
{
	struct qb b = { 0 }, inner = { 0 };
	struct qemu_stream *r;
	struct mem src;
	struct qemu_event ev;
	unsigned int packaged = 0, rows = 0;
	uint8_t len[4];
	int ret;

	qb_command(&inner, QEMU_CMD_POSTCOPY_LISTEN, NULL, 0);
	qb_command(&inner, QEMU_CMD_POSTCOPY_RUN, NULL, 0);
	qb_header(&b);
	put_be32(len, (uint32_t)inner.len);
	qb_command(&b, QEMU_CMD_PACKAGED, len, 4);
	qb_bytes(&b, inner.p, inner.len);
	qb_u8(&b, QEMU_SEC_EOF);
	src = (struct mem){ .p = b.p, .len = b.len };
	CHECK_EQ(qemu_stream_new_cb(&r, mem_read, &src, "pkg", NULL), 0);
	while ((ret = qemu_stream_next(r, &ev)) > 0) {
		if (ev.type != QEMU_EV_SECTION)
			continue;
		rows++;
		packaged += ev.sec->packaged;
	}
	CHECK_EQ(ret, 0);
	CHECK_EQ(rows, 5);
	CHECK_EQ(packaged, 2);
	qemu_stream_free(r);
	/* a package one byte short: its last command crosses the end */
	put_be32(b.p + 8 + 5, (uint32_t)inner.len - 1);
	src = (struct mem){ .p = b.p, .len = b.len };
	CHECK_EQ(qemu_stream_new_cb(&r, mem_read, &src, "pkg", NULL), 0);
	while ((ret = qemu_stream_next(r, &ev)) > 0)
		;
	CHECK_EQ(ret, -EBADMSG);
	CHECK_STR_CONTAINS(qemu_stream_error(r)->msg, "crosses the end of its PACKAGED command");
	qemu_stream_free(r);
	qb_free(&b);
	qb_free(&inner);
}

/* A large DEV_DATA_STATE block comes in pieces, in order, offsets given. */
static void test_large_block_in_pieces(void)
{
	struct qb b = { 0 };
	struct qemu_stream *r;
	struct mem src;
	struct qemu_event ev;
	uint64_t next = 0, pieces = 0;
	bool in_order = true;
	int ret;
	size_t n = (3u << 20) + 5;

	qb_header(&b);
	qb_section(&b, QEMU_SEC_START, 0, "vfio", 0, 1);
	qb_u64(&b, QEMU_VFIO_END_OF_STATE);
	qb_section(&b, QEMU_SEC_END, 0, NULL, 0, 0);
	qb_vfio_data(&b, n, 77);
	qb_u64(&b, QEMU_VFIO_END_OF_STATE);
	qb_u8(&b, QEMU_SEC_EOF);
	src = (struct mem){ .p = b.p, .len = b.len, .step = 65536 };
	CHECK_EQ(qemu_stream_new_cb(&r, mem_read, &src, "big", NULL), 0);
	while ((ret = qemu_stream_next(r, &ev)) > 0) {
		if (ev.type != QEMU_EV_VFIO_DATA)
			continue;
		pieces++;
		if (ev.block_offset != next || ev.block_size != n || ev.phase != QEMU_VFIO_COMPLETE)
			in_order = false;
		for (size_t i = 0; i < ev.len; i++)
			if (ev.data[i] != (uint8_t)(77 + (ev.block_offset + i) * 7))
				in_order = false;
		next += ev.len;
	}
	CHECK_EQ(ret, 0);
	CHECK_EQ(next, n);
	CHECK(pieces >= 4);
	CHECK(in_order);
	qemu_stream_free(r);
	qb_free(&b);
}

/* Multifd ------------------------------------------------------------------ */

struct mf_result {
	int ret;
	char msg[640];
	uint8_t data[1 << 16];
	size_t ndata;
	size_t nconfig;
	uint8_t config[512];
	unsigned int ends, channels;
	uint32_t end_buffers;
	uint64_t end_bytes;
};

static void read_channels(struct qb *ch, size_t nch, size_t cap, struct mf_result *res)
{
	struct qemu_multifd_opts opts = { .pending_cap = cap };
	struct mem src[8];
	struct qemu_multifd *m;
	struct qemu_multifd_event ev;

	memset(res, 0, sizeof(*res));
	if (qemu_multifd_new(&m, &opts))
		abort();
	for (size_t i = 0; i < nch; i++) {
		src[i] = (struct mem){ .p = ch[i].p, .len = ch[i].len, .step = 100 };
		qemu_multifd_add_cb(m, mem_read, &src[i], i ? "mf1" : "mf0", NULL, 0);
	}
	while ((res->ret = qemu_multifd_next(m, &ev)) > 0) {
		switch (ev.type) {
		case QEMU_MF_EV_CHANNEL:
			res->channels++;
			break;
		case QEMU_MF_EV_DEVICE_DATA:
			keep(res->data, &res->ndata, sizeof(res->data), ev.data, ev.len);
			break;
		case QEMU_MF_EV_DEVICE_CONFIG:
			keep(res->config, &res->nconfig, sizeof(res->config), ev.data, ev.len);
			break;
		case QEMU_MF_EV_DEVICE_END:
			res->ends++;
			res->end_buffers = ev.index;
			res->end_bytes = ev.data_bytes;
			break;
		}
	}
	if (res->ret < 0)
		snprintf(res->msg, sizeof(res->msg), "%s", qemu_multifd_error(m)->msg);
	qemu_multifd_free(m);
}

/* The config state buffer: DEV_CONFIG_STATE, the config, END_OF_STATE. */
static struct qb config_buffer(void)
{
	struct qb c = { 0 };

	qb_u64(&c, QEMU_VFIO_DEV_CONFIG_STATE);
	qb_pci_config(&c, 0x1af4, 0x10f0);
	qb_u64(&c, QEMU_VFIO_END_OF_STATE);
	return c;
}

/* Buffers 0..3 of 100, 200, 300, 400 bytes; 4: the config state. */
static void build_channels(struct qb ch[2], const int *order0, const int *order1)
{
	struct qb cfg = config_buffer();
	const int *orders[2] = { order0, order1 };

	for (int c = 0; c < 2; c++) {
		ch[c] = (struct qb){ 0 };
		qb_mf_init(&ch[c], (uint8_t)c, 0x5a);
		qb_mf_ram(&ch[c], QEMU_MULTIFD_FLAG_SYNC, 0, 0);
		for (const int *o = orders[c]; *o >= 0; o++) {
			if (*o == 4)
				qb_mf_device(&ch[c], VFIO_ID, 0, 4,
					     QEMU_MULTIFD_VFIO_FLAG_CONFIG_STATE, cfg.p, cfg.len,
					     0);
			else
				qb_mf_device(&ch[c], VFIO_ID, 0, (uint32_t)*o, 0, NULL,
					     (size_t)(*o + 1) * 100, (uint8_t)*o);
			qb_mf_ram(&ch[c], 0, 2, 3);
		}
	}
	qb_free(&cfg);
}

static bool mf_data_right(const struct mf_result *res)
{
	size_t at = 0;

	if (res->ndata != 1000)
		return false;
	for (int i = 0; i < 4; i++) {
		if (!same_pattern(res->data + at, (size_t)(i + 1) * 100, (uint8_t)i))
			return false;
		at += (size_t)(i + 1) * 100;
	}
	return true;
}

static void test_multifd_in_order(void)
{
	static const int a[] = { 0, 2, -1 }, b[] = { 1, 3, 4, -1 };
	struct qb ch[2];
	struct mf_result res;
	struct qemu_pci_ids ids;

	build_channels(ch, a, b);
	CHECK_EQ(qemu_channel_probe(ch[0].p, ch[0].len), QEMU_CHANNEL_MULTIFD);
	read_channels(ch, 2, 0, &res);
	CHECK_EQ(res.ret, 0);
	if (res.ret)
		printf("#   %s\n", res.msg);
	CHECK_EQ(res.channels, 2);
	CHECK(mf_data_right(&res));
	CHECK_EQ(res.nconfig, QB_CONFIG_LEN);
	CHECK_EQ(qemu_vfio_config_pci_ids(res.config, res.nconfig, &ids), 0);
	CHECK_EQ(ids.device, 0x10f0);
	CHECK_EQ(res.ends, 1);
	CHECK_EQ(res.end_buffers, 5);
	CHECK_EQ(res.end_bytes, 1000);
	qb_free(&ch[0]);
	qb_free(&ch[1]);
}

/* Out of order within a channel: held aside, within the cap; beyond it: -ENOBUFS. */
static void test_multifd_out_of_order(void)
{
	static const int a[] = { 3, 0, -1 }, b[] = { 2, 1, 4, -1 };
	struct qb ch[2];
	struct mf_result res;

	build_channels(ch, a, b);
	read_channels(ch, 2, 0, &res);
	CHECK_EQ(res.ret, 0);
	CHECK(mf_data_right(&res));
	read_channels(ch, 2, 350, &res);
	CHECK_EQ(res.ret, -ENOBUFS);
	CHECK_STR_CONTAINS(res.msg, "cap of 350 bytes");
	qb_free(&ch[0]);
	qb_free(&ch[1]);
}

static void test_multifd_errors(void)
{
	static const struct {
		int a[6], b[6];
		const char *says;
	} cases[] = {
		{ { 0, 2, -1 }, { 1, 2, 3, 4, -1 }, "buffer 2 of \"" VFIO_ID "\" came before" },
		{ { 0, 3, -1 },
		  { 2, 4, -1 },
		  "buffer 1 of \"" VFIO_ID "\" never came (buffer 2 did)" },
		{ { 0, 1, -1 }, { 2, 3, -1 }, "every channel ended before its config state" },
		{ { 0, 1, 2, 3, 4, -1 },
		  { 5, -1 },
		  "buffer 5 of \"" VFIO_ID "\" after its config state" },
	};
	struct qb ch[2];
	struct mf_result res;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		build_channels(ch, cases[i].a, cases[i].b);
		read_channels(ch, 2, 0, &res);
		CHECK_EQ(res.ret, -EBADMSG);
		CHECK_STR_CONTAINS(res.msg, cases[i].says);
		qb_free(&ch[0]);
		qb_free(&ch[1]);
	}
}

static void test_multifd_channel_checks(void)
{
	static const int a[] = { 0, 2, -1 }, b[] = { 1, 3, 4, -1 };
	struct qb ch[2];
	struct mf_result res;

	build_channels(ch, a, b);
	ch[1].p[8] ^= 1; /* another VM's uuid */
	read_channels(ch, 2, 0, &res);
	CHECK_STR_CONTAINS(res.msg, "a VM uuid other than channel mf0's");
	ch[1].p[8] ^= 1;
	ch[1].p[24] = 0; /* channel 0 twice */
	read_channels(ch, 2, 0, &res);
	CHECK_STR_CONTAINS(res.msg, "channel id 0, as channel mf0's");
	ch[1].p[24] = 1;
	ch[1].p[QEMU_MULTIFD_INIT_LEN + 1] = 0; /* a packet's magic */
	read_channels(ch, 2, 0, &res);
	CHECK_STR_CONTAINS(res.msg, "channel mf1, byte 64: no packet header");
	for (size_t len = QEMU_MULTIFD_INIT_LEN; len < ch[0].len; len += 13) {
		struct qb cut = { 0 };

		qb_bytes(&cut, ch[0].p, len);
		read_channels((struct qb[]){ cut, ch[1] }, 2, 0, &res);
		CHECK_EQ(res.ret, -EBADMSG);
		qb_free(&cut);
	}
	qb_free(&ch[0]);
	qb_free(&ch[1]);
}

/* Golden streams: real QEMU 10.0.2 ---------------------------------------- */

/*
 * Captured on the kernel tier (tests/kernel/qemu-vectors.bats): an mtty
 * migrated by QEMU 10.0.2 to file:, through exec:, with switchover-ack, and
 * with multifd device state. QEMU's query-migrate said "vfio":
 * {"transferred": 60} for each but multifd. A new capture differs in a few
 * bytes and in the number of iterations, so only what QEMU always sends
 * for this VM and this device is checked.
 */
static const struct golden {
	const char *name; /* the capture's file name up to its extension */
	unsigned int command, init_data_sent;
} goldens[] = {
	{ "qemu10-mtty-file", 1, 0 },
	{ "qemu10-mtty-exec", 1, 0 },
	/* OPEN_RETURN_PATH, PING, SWITCHOVER_START */
	{ "qemu10-mtty-switchover-ack", 3, 1 },
};

static const char *vectors_dir(void)
{
	const char *env = getenv("VMT_QEMU_VECTORS");

	return env ? env : QEMU_VECTORS_DIR;
}

static bool load_path(const char *path, struct qb *b)
{
	struct stat st;
	FILE *f = fopen(path, "r");

	*b = (struct qb){ 0 };
	if (!f || fstat(fileno(f), &st)) {
		if (f)
			fclose(f);
		return false;
	}
	qb_bytes(b, NULL, (size_t)st.st_size);
	b->len = fread(b->p, 1, (size_t)st.st_size, f);
	fclose(f);
	return true;
}

/*
 * The n-th capture (by name order) whose file name is name "." anything and
 * whose first bytes are a kind channel: the captures are told by content,
 * whatever their extension (a switchover-ack capture's return path has the
 * same name and is no channel).
 */
static bool load_vector(const char *name, enum qemu_channel_kind kind, unsigned int n, struct qb *b)
{
	struct dirent **list;
	char path[4096];
	int count = scandir(vectors_dir(), &list, NULL, alphasort);
	bool found = false;

	*b = (struct qb){ 0 };
	for (int i = 0; i < count; i++) {
		const char *e = list[i]->d_name;

		snprintf(path, sizeof(path), "%s/%s", vectors_dir(), e);
		if (!found && !strncmp(e, name, strlen(name)) && e[strlen(name)] == '.' &&
		    load_path(path, b)) {
			if (qemu_channel_probe(b->p, b->len) == kind && !n--)
				found = true;
			else
				qb_free(b);
		}
		free(list[i]);
	}
	if (count >= 0)
		free(list);
	return found;
}

static void check_golden(const struct golden *g, const struct result *res, size_t size)
{
	const unsigned int *rows = res->rows;
	struct qemu_pci_ids ids;

	CHECK_EQ(res->ret, 0);
	if (res->ret)
		printf("#   %s: %s\n", g->name, res->err.msg);
	CHECK(!strcmp(res->machine, "pc-q35-10.0"));
	CHECK_EQ(rows[QEMU_SEC_START], 2);
	CHECK(rows[QEMU_SEC_PART] >= 2);
	CHECK_EQ(rows[QEMU_SEC_END], 2);
	/* every FULL section, the VFIO config state's among them */
	CHECK_EQ(rows[QEMU_SEC_FULL], 30);
	CHECK_EQ(rows[QEMU_SEC_FOOTER], rows[QEMU_SEC_START] + rows[QEMU_SEC_PART] +
						rows[QEMU_SEC_END] + rows[QEMU_SEC_FULL]);
	CHECK_EQ(rows[QEMU_SEC_SUBSECTION], 3);
	CHECK_EQ(rows[QEMU_SEC_COMMAND], g->command);
	CHECK_EQ(rows[QEMU_SEC_EOF], 1);
	CHECK_EQ(rows[QEMU_SEC_VMDESCRIPTION], 1);
	CHECK(res->rows_in_order);
	CHECK_EQ(res->last_row_end, size);
	CHECK_EQ(res->ram.normal_pages, 51);
	CHECK_EQ(res->ram.zero_pages, 4175);
	CHECK_EQ(res->ram.page_bytes, 208896);
	CHECK_EQ(res->nvfio, 1);
	CHECK(!strcmp(res->vfio.idstr, "0000:00:01.0/vfio"));
	CHECK_EQ(res->vfio.counts.precopy_bytes, 24);
	CHECK_EQ(res->vfio.counts.complete_bytes, 36);
	CHECK_EQ(res->nprecopy + res->ncomplete, 60);
	CHECK_EQ(res->vfio.counts.init_data_sent, g->init_data_sent);
	CHECK_EQ(res->vfio.counts.setup_states, 1);
	CHECK_EQ(res->vfio.counts.config_bytes, 4116);
	CHECK_EQ(res->nconfig, 4116);
	CHECK_EQ(qemu_vfio_config_pci_ids(res->vfio.config_head, res->vfio.config_head_len, &ids),
		 0);
	CHECK_EQ(ids.vendor, 0x4348);
	CHECK_EQ(ids.device, 0x3253);
}

/*
 * Absent vectors are a failure where tests/vectors/qemu exists, a skip
 * where it does not (a tree without the kernel tier's captures).
 */
static bool have_vectors(void)
{
	struct stat st;

	if (!stat(vectors_dir(), &st))
		return true;
	printf("# SKIP no QEMU vectors in %s\n", vectors_dir());
	return false;
}

static void test_golden_streams(void)
{
	struct result res;
	struct qb b;

	if (!have_vectors())
		return;
	for (size_t i = 0; i < ARRAY_SIZE(goldens); i++) {
		const struct golden *g = &goldens[i];

		if (!load_vector(g->name, QEMU_CHANNEL_MAIN, 0, &b)) {
			printf("#   %s: missing\n", g->name);
			unit_current_failed = 1;
			continue;
		}
		read_file(&b, b.len, NULL, &res);
		check_golden(g, &res, b.len);
		read_mem(&b, b.len, 4096, NULL, &res);
		check_golden(g, &res, b.len);
		qb_free(&b);
	}
}

/* The offset of the first DEV_DATA_STATE tag. */
static uint64_t first_data_tag(const struct qb *b)
{
	struct mem src = { .p = b->p, .len = b->len };
	struct qemu_stream *r;
	struct qemu_event ev;
	uint64_t at = 0;

	if (qemu_stream_new_cb(&r, mem_read, &src, "scan", NULL))
		return 0;
	while (!at && qemu_stream_next(r, &ev) > 0)
		if (ev.type == QEMU_EV_VFIO_TAG && ev.tag == QEMU_VFIO_DEV_DATA_STATE)
			at = ev.offset;
	qemu_stream_free(r);
	return at;
}

/* A real stream cut or changed: the error names the byte and the section. */
static void test_golden_damaged(void)
{
	struct result res;
	uint64_t tag;
	struct qb b;

	if (!have_vectors())
		return;
	if (!load_vector(goldens[0].name, QEMU_CHANNEL_MAIN, 0, &b)) {
		unit_current_failed = 1;
		return;
	}
	for (size_t cut = 0; cut < b.len; cut += 4099) {
		read_mem(&b, cut, 0, NULL, &res);
		CHECK_EQ(res.ret, -EBADMSG);
		CHECK(res.err.offset <= cut);
	}
	tag = first_data_tag(&b);
	CHECK(tag > 0);
	b.p[tag + 7] ^= 0x40;
	read_mem(&b, b.len, 0, NULL, &res);
	CHECK_EQ(res.ret, -EBADMSG);
	CHECK_EQ(res.err.offset, tag);
	CHECK_EQ(res.err.type, QEMU_SEC_PART);
	CHECK_STR_CONTAINS(res.err.msg, "\"0000:00:01.0/vfio\"): unknown VFIO tag");
	qb_free(&b);
}

/*
 * x-migration-multifd-transfer=on: the main channel has the pre-copy bytes
 * and dummy END_OF_STATEs; the two multifd channels, the complete phase
 * (36 bytes) and the config state as device state packets.
 */
static void test_golden_multifd(void)
{
	struct qb ch[2], main_ch;
	struct mf_result mres;
	struct result res;
	struct qemu_pci_ids ids;

	if (!have_vectors())
		return;
	if (!load_vector("qemu10-mtty-multifd", QEMU_CHANNEL_MAIN, 0, &main_ch) ||
	    !load_vector("qemu10-mtty-multifd", QEMU_CHANNEL_MULTIFD, 0, &ch[0]) ||
	    !load_vector("qemu10-mtty-multifd", QEMU_CHANNEL_MULTIFD, 1, &ch[1])) {
		printf("#   multifd captures missing\n");
		unit_current_failed = 1;
		return;
	}
	read_mem(&main_ch, main_ch.len, 0, NULL, &res);
	CHECK_EQ(res.ret, 0);
	CHECK_EQ(res.rows[QEMU_SEC_FULL], 30);
	CHECK_EQ(res.vfio.counts.precopy_bytes, 24);
	CHECK_EQ(res.vfio.counts.complete_bytes, 0);
	CHECK_EQ(res.vfio.counts.config_states, 0);
	CHECK_EQ(res.ram.normal_pages + res.ram.zero_pages, 0);
	read_channels(ch, 2, 0, &mres);
	CHECK_EQ(mres.ret, 0);
	if (mres.ret)
		printf("#   %s\n", mres.msg);
	CHECK_EQ(mres.channels, 2);
	CHECK_EQ(mres.ndata, 36);
	CHECK_EQ(mres.nconfig, 4116);
	CHECK_EQ(mres.ends, 1);
	CHECK_EQ(mres.end_buffers, 2);
	CHECK_EQ(qemu_vfio_config_pci_ids(mres.config, 64, &ids), 0);
	CHECK_EQ(ids.vendor, 0x4348);
	qb_free(&main_ch);
	qb_free(&ch[0]);
	qb_free(&ch[1]);
}

/* QEMU 10.0.2 with multifd, captured on the host: RAM only (tests/vectors/qemu-host). */
static void test_host_multifd(void)
{
	static const char *const names[] = { "multifd-ch0.qemu", "multifd-ch1.qemu" };
	const struct qemu_multifd_channel *c[2];
	struct qemu_multifd *m;
	struct qemu_multifd_event ev;
	struct result res;
	struct stat st;
	char path[4096];
	int fd[2], ret, fdm;
	struct qemu_stream *r;

	snprintf(path, sizeof(path), "%s/multifd-main.qemu", QEMU_HOST_VECTORS_DIR);
	fdm = open(path, O_RDONLY);
	CHECK(fdm >= 0 && !fstat(fdm, &st));
	if (fdm < 0)
		return;
	memset(&res, 0, sizeof(res));
	CHECK_EQ(qemu_stream_new(&r, fdm, "main", NULL), 0);
	drain(r, &res);
	qemu_stream_free(r);
	close(fdm);
	CHECK_EQ(res.ret, 0);
	CHECK_EQ(res.last_row_end, (uint64_t)st.st_size);
	/* the mtty captures' 30 but the VFIO device's */
	CHECK_EQ(res.rows[QEMU_SEC_FULL], 29);
	CHECK_EQ(res.ram.normal_pages + res.ram.zero_pages, 0);
	CHECK(res.ram.flushes >= 1);

	CHECK_EQ(qemu_multifd_new(&m, NULL), 0);
	for (int i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s", QEMU_HOST_VECTORS_DIR, names[i]);
		fd[i] = open(path, O_RDONLY);
		CHECK_EQ(qemu_multifd_add_fd(m, fd[i], names[i], NULL, 0), 0);
	}
	while ((ret = qemu_multifd_next(m, &ev)) > 0)
		CHECK_EQ(ev.type, QEMU_MF_EV_CHANNEL);
	CHECK_EQ(ret, 0);
	c[0] = qemu_multifd_channel_info(m, 0);
	c[1] = qemu_multifd_channel_info(m, 1);
	CHECK_EQ(c[0]->id, 0);
	CHECK_EQ(c[1]->id, 1);
	CHECK_EQ(c[0]->normal_pages + c[1]->normal_pages, 51);
	CHECK_EQ(c[0]->zero_pages + c[1]->zero_pages, 4175);
	CHECK_EQ(c[0]->ram_data_bytes + c[1]->ram_data_bytes, 51 * 4096);
	CHECK_EQ(c[0]->sync_packets, 3);
	CHECK_EQ(c[0]->ram_packets + c[1]->ram_packets, 37);
	CHECK_EQ(c[0]->bytes, 46016);
	CHECK_EQ(c[1]->bytes, 220800);
	qemu_multifd_free(m);
	close(fd[0]);
	close(fd[1]);
}

/* Seeds for the fuzz target ------------------------------------------------- */

static int write_file(const char *dir, const char *name, uint8_t mode, const void *p, size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f || fputc(mode, f) == EOF || fwrite(p, 1, len, f) != len || fclose(f))
		return 1;
	return 0;
}

/* The fuzz input's first byte picks how it is read (tests/fuzz/fuzz-qemu.c). */
static int write_seeds(const char *dir)
{
	static const int a[] = { 3, 0, -1 }, b[] = { 2, 1, 4, -1 };
	struct variant shared = { .ignore_shared = true };
	struct marks m;
	struct qb s = build(&m), v = build_variant(&m, &shared), ch[2], both = { 0 };
	uint8_t len[4];
	int ret = 0;

	ret |= write_file(dir, "reference", 0x00, s.p, s.len);
	ret |= write_file(dir, "reference-pread", 0x01, s.p, s.len);
	ret |= write_file(dir, "ignore-shared", 0x00, v.p, v.len);
	build_channels(ch, a, b);
	/* multifd: u32 length of channel 0, channel 0, channel 1 */
	put_be32(len, (uint32_t)ch[0].len);
	qb_bytes(&both, len, 4);
	qb_bytes(&both, ch[0].p, ch[0].len);
	qb_bytes(&both, ch[1].p, ch[1].len);
	ret |= write_file(dir, "multifd", 0x80, both.p, both.len);
	qb_free(&s);
	qb_free(&v);
	qb_free(&ch[0]);
	qb_free(&ch[1]);
	qb_free(&both);
	return ret;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--write-seeds"))
		return write_seeds(argv[2]);
	RUN(test_reference_from_file);
	RUN(test_reference_from_pipe);
	RUN(test_prefix);
	RUN(test_ignore_shared_blocks);
	RUN(test_ram_records);
	RUN(test_no_vmdesc);
	RUN(test_tail_cap);
	RUN(test_cut_everywhere);
	RUN(test_corruptions);
	RUN(test_data_size_not_trusted);
	RUN(test_bytes_after_end);
	RUN(test_vmdesc_size_wrong);
	RUN(test_vmdesc_json);
	RUN(test_after_eof);
	RUN(test_packaged);
	RUN(test_large_block_in_pieces);
	RUN(test_multifd_in_order);
	RUN(test_multifd_out_of_order);
	RUN(test_multifd_errors);
	RUN(test_multifd_channel_checks);
	RUN(test_host_multifd);
	RUN(test_golden_streams);
	RUN(test_golden_damaged);
	RUN(test_golden_multifd);
	return unit_done();
}
