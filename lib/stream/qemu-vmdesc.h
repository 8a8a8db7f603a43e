/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The vmdesc: the JSON QEMU appends after a stream's EOF, describing every
 * FULL section (vmstate.c's vmsd_desc_field_start/_end, savevm.c's
 * vmstate_save): per device its name, instance_id, fields and subsections,
 * each field with the bytes it took ("size", per element, times
 * "array_len" when the elements are described once), each subsection's
 * fields again. A subsection's header in the stream (u8 0x05, u8 len,
 * name, u32 version) is not described: 6 + len bytes.
 *
 * Reduced here to what a reader needs to cross a section it cannot parse:
 * each device's body size and where its subsections start. Private to
 * lib/stream; memory bounded by the JSON's length.
 */
#ifndef VMT_QEMU_VMDESC_H
#define VMT_QEMU_VMDESC_H

#include <stddef.h>
#include <stdint.h>

struct vmdesc_sub {
	char name[256];
	uint32_t version;
	uint64_t offset;    /* of its header, from the start of the device's body */
	uint64_t bytes;	    /* header and body */
	unsigned int depth; /* 1: the device's own */
	long parent;	    /* index of the enclosing subsection, -1 for the device */
};

struct vmdesc_dev {
	char name[256];
	uint32_t instance_id;
	uint64_t body;	  /* bytes between the section header and the footer */
	size_t first_sub; /* its subsections: subs[first_sub .. first_sub + nsubs) */
	size_t nsubs;
};

struct vmdesc {
	uint32_t page_size; /* 0 when absent */
	struct vmdesc_dev *devs;
	size_t ndevs;
	struct vmdesc_sub *subs;
	size_t nsubs;
};

/*
 * 0, or -EBADMSG with a reason and the JSON byte it is at in why (a
 * reason only; the caller says where the JSON is), -ENOMEM.
 */
int vmdesc_parse(struct vmdesc *d, const uint8_t *json, size_t len, char *why, size_t whylen);
void vmdesc_release(struct vmdesc *d);

#endif
