// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * QEMU migration streams for migstream-cat's tests, laid out as QEMU 10.0
 * writes them for a q35 machine with one VFIO device (savevm.c, ram.c,
 * hw/vfio/migration.c: the facts, no code): header, configuration, the
 * iterable sections (ram, the device) in setup, one iteration and the
 * complete phase, each with its footer, a FULL section of another device
 * ("timer", crossed by the vmdesc), the device's config state as its FULL
 * section, EOF and the vmdesc. The device's data is given (a state file a
 * simulated device saved, so that a load of it can be checked), or 60
 * bytes of a pattern as mtty's.
 *
 * Usage: qemu-mkstream [options] > stream
 *   -s FILE   the device's data (default: 60 pattern bytes)
 *   -p N      the first N bytes go in the pre-copy iteration (default 24,
 *             at most the data's size), the rest in the complete phase
 *   -m        DEV_INIT_DATA_SENT ends the pre-copy iteration's section
 *             (switchover-ack: it stands where END_OF_STATE would)
 *   -r N      N normal RAM pages in the iteration (default 3), 2 zero pages
 *   -i IDSTR  the device's idstr (default 0000:00:01.0/vfio)
 *   -M PREFIX multifd device state (x-migration-multifd-transfer): the
 *             complete phase and the config state go as device state
 *             packets to two channels, PREFIX0 and PREFIX1 (buffers 0, 2,
 *             ... in one, 1, 3, ... in the other, 16 bytes each, or more
 *             when there would be more than 63)
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PAGE 4096u
#define END_OF_STATE 0xffffffffef100001ull
#define DEV_CONFIG_STATE 0xffffffffef100002ull
#define DEV_SETUP_STATE 0xffffffffef100003ull
#define DEV_DATA_STATE 0xffffffffef100004ull
#define DEV_INIT_DATA_SENT 0xffffffffef100005ull

enum {
	SEC_EOF,
	SEC_START,
	SEC_PART,
	SEC_END,
	SEC_FULL,
	SEC_VMDESC = 6,
	SEC_CONFIG = 7,
	SEC_FOOTER = 0x7e
};
#define RAM_ZERO 0x02
#define RAM_MEM_SIZE 0x04
#define RAM_PAGE 0x08
#define RAM_EOS 0x10
#define RAM_CONTINUE 0x20

/* The stream is built in memory: a test stream is small. */
struct buf {
	uint8_t *p;
	size_t len, cap;
};

static void put(struct buf *b, const void *data, size_t len)
{
	if (b->len + len > b->cap) {
		b->cap = (b->len + len) * 2 + 4096;
		b->p = realloc(b->p, b->cap);
		if (!b->p) {
			perror("qemu-mkstream");
			exit(1);
		}
	}
	memcpy(b->p + b->len, data, len);
	b->len += len;
}

static void u8(struct buf *b, uint8_t v)
{
	put(b, &v, 1);
}

static void be32(struct buf *b, uint32_t v)
{
	uint8_t x[4] = { v >> 24, v >> 16, v >> 8, v };

	put(b, x, 4);
}

static void be64(struct buf *b, uint64_t v)
{
	be32(b, (uint32_t)(v >> 32));
	be32(b, (uint32_t)v);
}

static void str8(struct buf *b, const char *s)
{
	u8(b, (uint8_t)strlen(s));
	put(b, s, strlen(s));
}

static void section_start(struct buf *b, int type, uint32_t id, const char *idstr,
			  uint32_t instance, uint32_t version)
{
	u8(b, (uint8_t)type);
	be32(b, id);
	if (type == SEC_START || type == SEC_FULL) {
		str8(b, idstr);
		be32(b, instance);
		be32(b, version);
	}
}

static void footer(struct buf *b, uint32_t id)
{
	u8(b, SEC_FOOTER);
	be32(b, id);
}

struct opts {
	const uint8_t *data;
	size_t len, precopy;
	bool mark;
	unsigned int pages;
	const char *idstr;
	const char *multifd;
};

#define RAM_ID 2u
#define TIMER_ID 5u
#define DEV_ID 9u
/* the one RAM block: room for the pages and the zero pages, at least 16 */
#define RAM_BYTES(o) ((uint64_t)((o)->pages + 2 > 16 ? (o)->pages + 2 : 16) * PAGE)

/* The config state as vfio-pci saves it: the PCIDevice (be32 version 2, the config space), then more. */
static void config_state(struct buf *b)
{
	uint8_t cfg[256] = { 0 };

	cfg[0] = 0x48, cfg[1] = 0x43;			      /* vendor 0x4348 */
	cfg[2] = 0x53, cfg[3] = 0x32;			      /* device 0x3253 */
	cfg[8] = 0x01;					      /* revision */
	cfg[0x0b] = 0x07, cfg[0x0a] = 0x00, cfg[0x09] = 0x02; /* class 0x070002 */
	cfg[0x2c] = 0x4b, cfg[0x2d] = 0x43;		      /* subsystem vendor 0x434b */
	cfg[0x2e] = 0x12, cfg[0x2f] = 0x34;		      /* subsystem 0x3412 */
	be32(b, 2);
	put(b, cfg, sizeof(cfg));
	/* the emulated config bits and interrupt state that follow: opaque here */
	for (int i = 0; i < 40; i++)
		u8(b, (uint8_t)i);
}

static void data_block(struct buf *b, const uint8_t *data, size_t len)
{
	if (!len)
		return;
	be64(b, DEV_DATA_STATE);
	be64(b, len);
	put(b, data, len);
}

static void ram_pages(struct buf *b, unsigned int pages)
{
	uint8_t page[PAGE];

	for (unsigned int i = 0; i < pages; i++) {
		memset(page, 0x40 + (int)i, sizeof(page));
		be64(b, (uint64_t)i * PAGE | RAM_PAGE | (i ? RAM_CONTINUE : 0));
		if (!i)
			str8(b, "pc.ram");
		put(b, page, sizeof(page));
	}
	for (unsigned int i = 0; i < 2; i++) {
		be64(b, (uint64_t)(pages + i) * PAGE | RAM_ZERO | (pages + i ? RAM_CONTINUE : 0));
		if (!(pages + i))
			str8(b, "pc.ram");
		u8(b, 0);
	}
	be64(b, RAM_EOS);
}

static void setup(struct buf *b, const struct opts *o)
{
	section_start(b, SEC_START, RAM_ID, "ram", 0, 4);
	be64(b, RAM_BYTES(o) | RAM_MEM_SIZE);
	str8(b, "pc.ram");
	be64(b, RAM_BYTES(o));
	be64(b, RAM_EOS);
	footer(b, RAM_ID);
	section_start(b, SEC_START, DEV_ID, o->idstr, 0, 1);
	be64(b, DEV_SETUP_STATE);
	be64(b, END_OF_STATE);
	footer(b, DEV_ID);
}

static void iteration(struct buf *b, const struct opts *o)
{
	section_start(b, SEC_PART, RAM_ID, NULL, 0, 0);
	ram_pages(b, o->pages);
	footer(b, RAM_ID);
	section_start(b, SEC_PART, DEV_ID, NULL, 0, 0);
	data_block(b, o->data, o->precopy);
	/* the mark takes END_OF_STATE's place at the end of the iteration */
	be64(b, o->mark ? DEV_INIT_DATA_SENT : END_OF_STATE);
	footer(b, DEV_ID);
}

static void complete(struct buf *b, const struct opts *o)
{
	section_start(b, SEC_END, RAM_ID, NULL, 0, 0);
	be64(b, RAM_EOS);
	footer(b, RAM_ID);
	section_start(b, SEC_END, DEV_ID, NULL, 0, 0);
	/* with multifd the complete phase goes over the channels */
	if (!o->multifd)
		data_block(b, o->data + o->precopy, o->len - o->precopy);
	be64(b, END_OF_STATE);
	footer(b, DEV_ID);
}

static size_t non_iterable(struct buf *b, const struct opts *o)
{
	size_t config_start;

	section_start(b, SEC_FULL, TIMER_ID, "timer", 0, 2);
	be64(b, 0x1122334455667788ull);
	be64(b, 0x0102030405060708ull);
	u8(b, 1);
	footer(b, TIMER_ID);
	section_start(b, SEC_FULL, DEV_ID, o->idstr, 0, 1);
	config_start = b->len;
	if (!o->multifd) {
		be64(b, DEV_CONFIG_STATE);
		config_state(b);
	}
	be64(b, END_OF_STATE);
	footer(b, DEV_ID);
	return b->len - 5 - config_start;
}

static void vmdesc(struct buf *b, const struct opts *o, size_t dev_body)
{
	char json[1024];
	int n;

	n = snprintf(
		json, sizeof(json),
		"{\"page_size\": %u, \"devices\": ["
		"{\"name\": \"timer\", \"instance_id\": 0, \"vmsd_name\": \"timer\", \"version\": 2, "
		"\"fields\": [{\"name\": \"cpu_ticks_offset\", \"type\": \"int64\", \"size\": 8}, "
		"{\"name\": \"cpu_clock_offset\", \"type\": \"int64\", \"size\": 8}, "
		"{\"name\": \"cpu_ticks_enabled\", \"type\": \"bool\", \"size\": 1}]}, "
		"{\"name\": \"%s\", \"instance_id\": 0, \"vmsd_name\": \"vfio\", \"version\": 1, "
		"\"fields\": [{\"name\": \"data\", \"type\": \"buffer\", \"size\": %zu}]}]}",
		PAGE, o->idstr, dev_body);
	u8(b, SEC_VMDESC);
	be32(b, (uint32_t)n);
	put(b, json, (size_t)n);
}

/* multifd: the init packet, then device state packets of the buffers given to this channel. */
static void multifd_channel(const struct opts *o, const struct buf *bufs, unsigned int nbufs,
			    unsigned int ch)
{
	char path[4096], idstr[256] = { 0 };
	struct buf b = { 0 };
	uint8_t zero[39] = { 0 };
	FILE *f;

	be32(&b, 0x11223344);
	be32(&b, 1);
	for (int i = 0; i < 16; i++)
		u8(&b, (uint8_t)(0xa0 + i));
	u8(&b, (uint8_t)ch);
	put(&b, zero, sizeof(zero));
	snprintf(idstr, sizeof(idstr), "%s", o->idstr);
	for (unsigned int i = ch; i < nbufs; i += 2) {
		be32(&b, 0x11223344);
		be32(&b, 1);
		be32(&b, 0x40);
		put(&b, idstr, sizeof(idstr));
		be32(&b, 0);
		be32(&b, (uint32_t)(12 + bufs[i].len));
		be32(&b, 0);
		be32(&b, i);
		be32(&b, i + 1 == nbufs ? 1 : 0);
		put(&b, bufs[i].p, bufs[i].len);
	}
	snprintf(path, sizeof(path), "%s%u", o->multifd, ch);
	f = fopen(path, "wb");
	if (!f || fwrite(b.p, 1, b.len, f) != b.len || fclose(f)) {
		perror(path);
		exit(1);
	}
	free(b.p);
}

/*
 * The complete phase in buffers of 16 bytes (more when it would take over
 * 63 of them), then the config state as the last one.
 */
static void multifd(const struct opts *o)
{
	struct buf bufs[64] = { 0 };
	size_t size = (o->len - o->precopy + 62) / 63;
	unsigned int n = 0;

	if (size < 16)
		size = 16;
	for (size_t off = o->precopy; off < o->len; off += size) {
		size_t part = o->len - off < size ? o->len - off : size;

		put(&bufs[n++], o->data + off, part);
	}
	be64(&bufs[n], DEV_CONFIG_STATE);
	config_state(&bufs[n]);
	be64(&bufs[n], END_OF_STATE);
	n++;
	multifd_channel(o, bufs, n, 0);
	multifd_channel(o, bufs, n, 1);
	for (unsigned int i = 0; i < n; i++)
		free(bufs[i].p);
}

static uint8_t *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct buf b = { 0 };
	uint8_t chunk[65536];
	size_t n;

	if (!f) {
		perror(path);
		exit(1);
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		put(&b, chunk, n);
	fclose(f);
	*len = b.len;
	return b.p;
}

int main(int argc, char **argv)
{
	static uint8_t pattern[60];
	struct opts o = { .data = pattern,
			  .len = sizeof(pattern),
			  .precopy = 24,
			  .pages = 3,
			  .idstr = "0000:00:01.0/vfio" };
	struct buf b = { 0 };
	size_t dev_body;
	int c;

	for (size_t i = 0; i < sizeof(pattern); i++)
		pattern[i] = (uint8_t)(0x5a ^ i);
	while ((c = getopt(argc, argv, "s:p:mr:i:M:")) != -1) {
		switch (c) {
		case 's':
			o.data = read_file(optarg, &o.len);
			break;
		case 'p':
			o.precopy = strtoull(optarg, NULL, 0);
			break;
		case 'm':
			o.mark = true;
			break;
		case 'r':
			o.pages = (unsigned int)strtoul(optarg, NULL, 0);
			break;
		case 'i':
			o.idstr = optarg;
			break;
		case 'M':
			o.multifd = optarg;
			break;
		default:
			fprintf(stderr,
				"usage: qemu-mkstream [-s FILE] [-p N] [-m] [-r N] [-i IDSTR] [-M PREFIX]\n");
			return 2;
		}
	}
	if (o.precopy > o.len)
		o.precopy = o.len;
	be32(&b, 0x5145564d);
	be32(&b, 3);
	u8(&b, SEC_CONFIG);
	be32(&b, (uint32_t)strlen("pc-q35-10.0"));
	put(&b, "pc-q35-10.0", strlen("pc-q35-10.0"));
	setup(&b, &o);
	iteration(&b, &o);
	complete(&b, &o);
	dev_body = non_iterable(&b, &o);
	u8(&b, SEC_EOF);
	vmdesc(&b, &o, dev_body);
	if (o.multifd)
		multifd(&o);
	if (fwrite(b.p, 1, b.len, stdout) != b.len || fflush(stdout)) {
		perror("qemu-mkstream: stdout");
		return 1;
	}
	free(b.p);
	if (o.data != pattern)
		free((void *)o.data);
	return 0;
}
