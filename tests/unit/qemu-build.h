/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Building QEMU migration streams and multifd channels in memory, byte by
 * byte as QEMU 10 lays them out (lib/stream/qemu-stream.h and
 * qemu-multifd.h describe the layout), for the tests of their readers. Each
 * builder call returns the offset its item starts at, so that a test can
 * name the byte it corrupts and the offset the error must report.
 */
#ifndef VMT_QEMU_BUILD_H
#define VMT_QEMU_BUILD_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stream/byteorder.h"
#include "stream/qemu-multifd.h"
#include "stream/qemu-stream.h"

struct qb {
	uint8_t *p;
	size_t len, cap;
};

static inline size_t qb_bytes(struct qb *b, const void *data, size_t n)
{
	size_t at = b->len;

	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2 + 4096;
		b->p = realloc(b->p, b->cap);
		if (!b->p)
			abort();
	}
	if (data)
		memcpy(b->p + b->len, data, n);
	else
		memset(b->p + b->len, 0, n);
	b->len += n;
	return at;
}

static inline size_t qb_u8(struct qb *b, uint8_t v)
{
	return qb_bytes(b, &v, 1);
}

static inline size_t qb_u16(struct qb *b, uint16_t v)
{
	uint8_t x[2];

	put_be16(x, v);
	return qb_bytes(b, x, 2);
}

static inline size_t qb_u32(struct qb *b, uint32_t v)
{
	uint8_t x[4];

	put_be32(x, v);
	return qb_bytes(b, x, 4);
}

static inline size_t qb_u64(struct qb *b, uint64_t v)
{
	uint8_t x[8];

	put_be64(x, v);
	return qb_bytes(b, x, 8);
}

/* u8 length, then the name */
static inline size_t qb_name(struct qb *b, const char *name)
{
	size_t at = qb_u8(b, (uint8_t)strlen(name));

	qb_bytes(b, name, strlen(name));
	return at;
}

/* n bytes of a recognisable pattern starting at seed */
static inline size_t qb_pattern(struct qb *b, size_t n, uint8_t seed)
{
	size_t at = qb_bytes(b, NULL, n);

	for (size_t i = 0; i < n; i++)
		b->p[at + i] = (uint8_t)(seed + i * 7);
	return at;
}

static inline void qb_free(struct qb *b)
{
	free(b->p);
	*b = (struct qb){ 0 };
}

/* The main channel ------------------------------------------------------ */

static inline size_t qb_header(struct qb *b)
{
	size_t at = qb_u32(b, QEMU_VM_FILE_MAGIC);

	qb_u32(b, QEMU_VM_FILE_VERSION);
	return at;
}

/* CONFIGURATION with the machine name; subsections are the caller's. */
static inline size_t qb_config(struct qb *b, const char *machine)
{
	size_t at = qb_u8(b, QEMU_SEC_CONFIGURATION);

	qb_u32(b, (uint32_t)strlen(machine));
	qb_bytes(b, machine, strlen(machine));
	return at;
}

static inline size_t qb_subsection(struct qb *b, const char *name, uint32_t version)
{
	size_t at = qb_u8(b, QEMU_SEC_SUBSECTION);

	qb_name(b, name);
	qb_u32(b, version);
	return at;
}

static inline size_t qb_section(struct qb *b, uint8_t type, uint32_t id, const char *idstr,
				uint32_t instance, uint32_t version)
{
	size_t at = qb_u8(b, type);

	qb_u32(b, id);
	if (type == QEMU_SEC_START || type == QEMU_SEC_FULL) {
		qb_name(b, idstr);
		qb_u32(b, instance);
		qb_u32(b, version);
	}
	return at;
}

static inline size_t qb_footer(struct qb *b, uint32_t id)
{
	size_t at = qb_u8(b, QEMU_SEC_FOOTER);

	qb_u32(b, id);
	return at;
}

static inline size_t qb_command(struct qb *b, uint16_t cmd, const void *data, uint16_t len)
{
	size_t at = qb_u8(b, QEMU_SEC_COMMAND);

	qb_u16(b, cmd);
	qb_u16(b, len);
	qb_bytes(b, data, len);
	return at;
}

static inline size_t qb_vmdesc(struct qb *b, const char *json)
{
	size_t at = qb_u8(b, QEMU_SEC_VMDESCRIPTION);

	qb_u32(b, (uint32_t)strlen(json));
	qb_bytes(b, json, strlen(json));
	return at;
}

/* A RAM record's u64 and, unless CONTINUE, the block's name. */
static inline size_t qb_ram(struct qb *b, uint64_t addr, uint32_t flags, const char *block)
{
	size_t at = qb_u64(b, addr | flags);

	if (block && !(flags & QEMU_RAM_FLAG_CONTINUE))
		qb_name(b, block);
	return at;
}

static inline size_t qb_vfio_data(struct qb *b, size_t n, uint8_t seed)
{
	size_t at = qb_u64(b, QEMU_VFIO_DEV_DATA_STATE);

	qb_u64(b, n);
	qb_pattern(b, n, seed);
	return at;
}

/*
 * A vfio-pci config state: vmstate VFIOPCIDevice's PCIDevice (be32 version
 * 2, 256 bytes of config space), irq_state (16 bytes): 276 bytes.
 */
#define QB_CONFIG_LEN 276
static inline size_t qb_pci_config(struct qb *b, uint16_t vendor, uint16_t device)
{
	size_t at = qb_u32(b, 2);
	size_t cs = qb_pattern(b, 256, 0x40);

	b->p[cs + 0] = (uint8_t)vendor;
	b->p[cs + 1] = (uint8_t)(vendor >> 8);
	b->p[cs + 2] = (uint8_t)device;
	b->p[cs + 3] = (uint8_t)(device >> 8);
	b->p[cs + 8] = 0x01;
	b->p[cs + 9] = 0x00;
	b->p[cs + 10] = 0x80;
	b->p[cs + 11] = 0x07;
	b->p[cs + 0x2c] = 0x34;
	b->p[cs + 0x2d] = 0x12;
	b->p[cs + 0x2e] = 0x78;
	b->p[cs + 0x2f] = 0x56;
	qb_bytes(b, NULL, 16);
	return at;
}

/* Multifd channels ------------------------------------------------------ */

static inline size_t qb_mf_init(struct qb *b, uint8_t id, uint8_t uuid_byte)
{
	size_t at = qb_u32(b, QEMU_MULTIFD_MAGIC);
	uint8_t uuid[16];

	memset(uuid, uuid_byte, sizeof(uuid));
	qb_u32(b, QEMU_MULTIFD_VERSION);
	qb_bytes(b, uuid, 16);
	qb_u8(b, id);
	qb_bytes(b, NULL, 7 + 32);
	return at;
}

/* A device state packet whose VFIO buffer is the n pattern bytes, or data. */
static inline size_t qb_mf_device(struct qb *b, const char *idstr, uint32_t instance, uint32_t idx,
				  uint32_t vflags, const void *data, size_t n, uint8_t seed)
{
	size_t at = qb_u32(b, QEMU_MULTIFD_MAGIC);
	char name[256] = { 0 };

	qb_u32(b, QEMU_MULTIFD_VERSION);
	qb_u32(b, QEMU_MULTIFD_FLAG_DEVICE_STATE);
	snprintf(name, sizeof(name), "%s", idstr);
	qb_bytes(b, name, 256);
	qb_u32(b, instance);
	qb_u32(b, (uint32_t)(12 + n));
	qb_u32(b, 0);
	qb_u32(b, idx);
	qb_u32(b, vflags);
	if (data)
		qb_bytes(b, data, n);
	else
		qb_pattern(b, n, seed);
	return at;
}

/* A RAM packet of 128 4 KiB page slots, normal pages with data, zero ones (SYNC: pages_alloc 0). */
static inline size_t qb_mf_ram(struct qb *b, uint32_t flags, uint32_t normal, uint32_t zero)
{
	size_t at = qb_u32(b, QEMU_MULTIFD_MAGIC);
	char block[256] = "pc.ram";

	qb_u32(b, QEMU_MULTIFD_VERSION);
	qb_u32(b, flags);
	qb_u32(b, flags & QEMU_MULTIFD_FLAG_SYNC ? 0 : 128);
	qb_u32(b, normal);
	qb_u32(b, normal * 4096);
	qb_u64(b, 7);
	qb_u32(b, zero);
	qb_bytes(b, NULL, 4 + 24);
	qb_bytes(b, block, 256);
	for (uint32_t i = 0; i < 128; i++)
		qb_u64(b, i < normal + zero ? (uint64_t)i * 4096 : 0);
	qb_pattern(b, (size_t)normal * 4096, 3);
	return at;
}

#endif
