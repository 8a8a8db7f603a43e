/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Reading QEMU's own migration stream (the main channel: what `migrate` sends
 * to file:, exec: or the first TCP connection), as QEMU 8.0 to 10.x write it,
 * in bounded memory and without seeking: it works on a pipe.
 *
 * The format, as QEMU's savevm.c, ram.c, vmstate.c and hw/vfio/migration.c
 * write it (facts only; all integers big-endian):
 *
 *   u32 magic "QEVM" (0x5145564d), u32 version 3
 *   CONFIGURATION (0x07): the vmstate "configuration": u32 len, the machine
 *     type (len bytes), then its subsections: target-page-bits (u32),
 *     capabilities (u32 count, count x (u8 len, name)), uuid (16 bytes)
 *   sections, each a type byte (the reader expects footers whenever
 *   there is a configuration: both came with machine types 2.4/2.5):
 *     START (0x01) / FULL (0x04): u32 section_id, u8 len, idstr, u32
 *       instance_id, u32 version_id, body
 *     PART (0x02) / END (0x03): u32 section_id, body
 *     FOOTER (0x7e): u32 section_id, after each of those four (machine
 *       types since 2.5)
 *     COMMAND (0x08): u16 command, u16 len, len bytes (PACKAGED: u32 n, and
 *       the n bytes after the command are sections again)
 *     EOF (0x00)
 *   VMDESCRIPTION (0x06), after EOF: u32 len, a JSON description of every
 *     FULL section's fields and their sizes (absent with suppress-vmdesc and
 *     in postcopy)
 *
 * Bodies have no length. The reader knows two: the "ram" section's records
 * (u64 address|flags, then per flag) and a VFIO device's ("…/vfio": u64 tags
 * VFIO_MIG_FLAG_*, DEV_DATA_STATE followed by a u64 size and the device's
 * bytes). Every other device's FULL section is skipped by the sizes the
 * vmdesc gives; other iterable sections cannot be read (an error names them).
 *
 * Where the vmdesc comes from: on a regular file it is read from the file's
 * end when the first FULL section needs it (pread: the read position is not
 * moved); on anything else (a pipe, a callback) everything from that FULL
 * section to the end is buffered first, up to tail_cap bytes (default
 * QEMU_STREAM_TAIL_CAP). A VM's non-iterable part is its devices' state (RAM
 * is iterable and comes before), so the tail is small; the device data of
 * the VFIO sections' iterations is handed out before the tail is buffered,
 * so a live consumer gets it as QEMU sends it.
 *
 * Use: qemu_stream_new() or qemu_stream_new_cb(), then qemu_stream_next()
 * until it returns 0 (the end) or <0 (an error, sticky); each 1 gives one
 * event in stream order. Pointers in an event are valid until the next
 * call. Nothing is trusted: every length is checked against a bound or
 * streamed in pieces, every tag against its place; the first problem stops
 * the reader with the byte offset and the section it is in
 * (qemu_stream_error()).
 *
 * Errors: -EBADMSG for a stream that is corrupt, cut or not readable by this
 * reader (an unknown iterable section, a missing vmdesc, a structure QEMU's
 * destination would refuse); -ENOBUFS when a documented cap (tail_cap,
 * vmdesc_cap, QEMU_STREAM_MAX_SECTIONS) is exceeded; other -errno for I/O
 * and memory.
 */
#ifndef VMT_QEMU_STREAM_H
#define VMT_QEMU_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define QEMU_VM_FILE_MAGIC 0x5145564du /* "QEVM" */
#define QEMU_VM_FILE_VERSION 3u

/* Section types: the byte that starts each element of the stream. */
enum qemu_section_type {
	QEMU_SEC_EOF = 0x00,
	QEMU_SEC_START = 0x01,
	QEMU_SEC_PART = 0x02,
	QEMU_SEC_END = 0x03,
	QEMU_SEC_FULL = 0x04,
	QEMU_SEC_SUBSECTION = 0x05,
	QEMU_SEC_VMDESCRIPTION = 0x06,
	QEMU_SEC_CONFIGURATION = 0x07,
	QEMU_SEC_COMMAND = 0x08,
	QEMU_SEC_FOOTER = 0x7e,
	/* Not a byte of the stream: the 8-byte magic and version. */
	QEMU_SEC_HEADER = 0x100,
};

/* "START", "PART", ..., "HEADER"; NULL for a value that is none of them. */
const char *qemu_section_type_name(unsigned int type);

/* QEMU_SEC_COMMAND's sub-commands (savevm.c's enum qemu_vm_cmd). */
enum qemu_command {
	QEMU_CMD_INVALID = 0,
	QEMU_CMD_OPEN_RETURN_PATH = 1,
	QEMU_CMD_PING = 2, /* u32 value */
	QEMU_CMD_POSTCOPY_ADVISE = 3,
	QEMU_CMD_POSTCOPY_LISTEN = 4,
	QEMU_CMD_POSTCOPY_RUN = 5,
	QEMU_CMD_POSTCOPY_RAM_DISCARD = 6,
	QEMU_CMD_PACKAGED = 7, /* u32 length of the sections that follow */
	QEMU_CMD_ENABLE_COLO = 8,
	QEMU_CMD_POSTCOPY_RESUME = 9,
	QEMU_CMD_RECV_BITMAP = 10,
	QEMU_CMD_SWITCHOVER_START = 11, /* QEMU 10.0 */
	QEMU_CMD_MAX = 12,
};

/* "OPEN_RETURN_PATH", ...; NULL for an unknown value. */
const char *qemu_command_name(unsigned int cmd);

/*
 * RAM record flags: the low bits of each record's u64 (the rest is the page's
 * offset in its block; with MEM_SIZE, the total RAM size).
 */
#define QEMU_RAM_FLAG_FULL 0x001	  /* obsolete since 2009: refused */
#define QEMU_RAM_FLAG_ZERO 0x002	  /* + u8 fill (0) */
#define QEMU_RAM_FLAG_MEM_SIZE 0x004	  /* + the block list */
#define QEMU_RAM_FLAG_PAGE 0x008	  /* + one target page */
#define QEMU_RAM_FLAG_EOS 0x010		  /* ends the section's records */
#define QEMU_RAM_FLAG_CONTINUE 0x020	  /* same block as before: no idstr */
#define QEMU_RAM_FLAG_XBZRLE 0x040	  /* + u8 1, u16 len, len bytes */
#define QEMU_RAM_FLAG_HOOK 0x080	  /* RDMA's registration hook, no payload */
#define QEMU_RAM_FLAG_COMPRESS_PAGE 0x100 /* 8.0-9.0: + u32 len, len bytes */
#define QEMU_RAM_FLAG_MULTIFD_FLUSH 0x200 /* multifd: sync the channels */

/* VFIO device tags (hw/vfio's VFIO_MIG_FLAG_*), u64 each. */
#define QEMU_VFIO_END_OF_STATE 0xffffffffef100001ull
#define QEMU_VFIO_DEV_CONFIG_STATE 0xffffffffef100002ull
#define QEMU_VFIO_DEV_SETUP_STATE 0xffffffffef100003ull
#define QEMU_VFIO_DEV_DATA_STATE 0xffffffffef100004ull	   /* + u64 size, bytes */
#define QEMU_VFIO_DEV_INIT_DATA_SENT 0xffffffffef100005ull /* switchover-ack */

/* "END_OF_STATE", "DEV_CONFIG_STATE", ...; NULL for any other value. */
const char *qemu_vfio_tag_name(uint64_t tag);

/* Which reader a section's body gets. */
enum qemu_section_kind {
	QEMU_KIND_NONE,	 /* not a device section (COMMAND, EOF, ...) */
	QEMU_KIND_RAM,	 /* idstr "ram" */
	QEMU_KIND_VFIO,	 /* idstr "vfio" or ending in "/vfio" */
	QEMU_KIND_OTHER, /* another device: FULL only, skipped by the vmdesc */
};

/* Where a VFIO device's data bytes belong. */
enum qemu_vfio_phase {
	QEMU_VFIO_PRECOPY,  /* START and PART sections: the iterations */
	QEMU_VFIO_COMPLETE, /* END (and FULL) sections: the stop-copy phase */
};

struct qemu_ram_counts {
	uint64_t normal_pages;	   /* PAGE records */
	uint64_t zero_pages;	   /* ZERO records */
	uint64_t xbzrle_pages;	   /* XBZRLE records */
	uint64_t compressed_pages; /* COMPRESS_PAGE records */
	uint64_t page_bytes;	   /* what those carry: pages, xbzrle and compressed payloads */
	uint64_t flushes;	   /* MULTIFD_FLUSH records */
	uint64_t hooks;		   /* HOOK records */
	uint64_t records;	   /* every record, EOS and MEM_SIZE included */
};

struct qemu_vfio_counts {
	uint64_t precopy_bytes;	 /* device data in QEMU_VFIO_PRECOPY sections */
	uint64_t complete_bytes; /* device data in QEMU_VFIO_COMPLETE sections */
	uint64_t data_blocks;	 /* DEV_DATA_STATE tags */
	uint32_t init_data_sent; /* DEV_INIT_DATA_SENT tags */
	uint32_t setup_states;	 /* DEV_SETUP_STATE tags */
	uint32_t config_states;	 /* DEV_CONFIG_STATE tags */
	uint64_t config_bytes;	 /* between DEV_CONFIG_STATE and its END_OF_STATE */
};

/*
 * One element of the stream as the listing shows it. Every element gets a
 * QEMU_EV_SECTION event when it has been read whole; START/PART/END/FULL
 * also get a QEMU_EV_SECTION_BEGIN once their header is read.
 */
struct qemu_section {
	uint64_t index;	   /* 0 for HEADER, +1 for each element after */
	uint64_t offset;   /* of its first byte (the type byte) */
	uint64_t bytes;	   /* all of it, header included (a section's footer is its own element) */
	unsigned int type; /* enum qemu_section_type */
	/* START/PART/END/FULL/FOOTER; for PART, END and FOOTER the identity
	 * is the one the section id was given by its START or FULL. */
	uint32_t section_id;
	char idstr[256];
	uint32_t instance_id;
	uint32_t version_id;
	enum qemu_section_kind kind;
	/* SUBSECTION: its name (in idstr), version (version_id), nesting
	 * depth (1: directly in a FULL section or the configuration). */
	unsigned int depth;
	/* Inside a PACKAGED command's sections. */
	bool packaged;
	/* COMMAND: the sub-command and its length. */
	uint16_t command;
	uint16_t command_len;
	/* kind RAM: this section's records. */
	struct qemu_ram_counts ram;
	/* kind VFIO: this section's tags and bytes. */
	struct qemu_vfio_counts vfio;
};

/* What CONFIGURATION said. */
struct qemu_configuration {
	char machine[256];	   /* machine type, e.g. "pc-q35-10.0" */
	bool has_page_bits;	   /* a target-page-bits subsection came */
	uint32_t target_page_bits; /* its value */
	uint32_t ncaps;		   /* capabilities QEMU validates (x-ignore-shared, mapped-ram) */
	char caps[8][256];	   /* the first 8 of them */
	bool has_uuid;
	uint8_t uuid[16];
};

/* A RAM block as a MEM_SIZE record lists it. */
struct qemu_ram_block {
	char idstr[256];
	uint64_t used_length;
	bool has_page_size; /* postcopy: a block with huge pages */
	uint64_t page_size;
	bool has_addr; /* x-ignore-shared: its guest address */
	uint64_t addr;
};

/* One RAM record (only with opts.ram_records). */
struct qemu_ram_record {
	uint64_t offset;   /* the record's first byte in the stream */
	uint32_t flags;	   /* QEMU_RAM_FLAG_* */
	uint64_t addr;	   /* page offset in the block (MEM_SIZE: total bytes) */
	const char *block; /* the block's idstr (MEM_SIZE, EOS, FLUSH, HOOK: NULL) */
	uint32_t payload;  /* bytes after the header: page, fill byte, encoded data */
};

enum qemu_event_type {
	QEMU_EV_SECTION_BEGIN, /* sec: START/PART/END/FULL header read (bytes: the header's) */
	QEMU_EV_SECTION,       /* sec: an element read whole; the listing's row */
	QEMU_EV_CONFIGURATION, /* config: before CONFIGURATION's QEMU_EV_SECTION */
	QEMU_EV_RAM_BLOCK,     /* ram_block: one block of a MEM_SIZE record */
	QEMU_EV_RAM_RECORD,    /* ram_record (opts.ram_records) */
	QEMU_EV_VFIO_TAG,      /* tag: a VFIO_MIG_FLAG_* tag at offset */
	QEMU_EV_VFIO_DATA,     /* data/len: device data bytes, in order, phase */
	QEMU_EV_VFIO_CONFIG,   /* data/len: config state bytes, in order */
	QEMU_EV_COMMAND,       /* data/len: a COMMAND's payload (before its QEMU_EV_SECTION) */
	QEMU_EV_VMDESC,	       /* data/len: the vmdesc JSON (before its QEMU_EV_SECTION) */
};

struct qemu_event {
	enum qemu_event_type type;
	uint64_t offset; /* stream byte the event's content starts at */
	/* The element it belongs to (every event has one). For content
	 * events, sec->bytes and the counts are still growing. */
	const struct qemu_section *sec;
	/* QEMU_EV_VFIO_DATA / QEMU_EV_VFIO_CONFIG / QEMU_EV_COMMAND / QEMU_EV_VMDESC */
	const uint8_t *data;
	size_t len;
	/* QEMU_EV_VFIO_DATA: the phase, and where these bytes sit in their
	 * DEV_DATA_STATE block (a block larger than the reader's buffer comes
	 * in several events). QEMU_EV_VFIO_CONFIG: block_offset only (the
	 * config state's size is known when its QEMU_EV_SECTION comes). */
	enum qemu_vfio_phase phase;
	uint64_t block_offset;
	uint64_t block_size;
	/* QEMU_EV_VFIO_TAG */
	uint64_t tag;
	const struct qemu_configuration *config;
	const struct qemu_ram_block *ram_block;
	const struct qemu_ram_record *ram_record;
};

/*
 * Most bytes a pipe may still hold when the vmdesc is needed (default
 * tail_cap): they are buffered whole (-ENOBUFS beyond). FULL sections
 * before the RAM (QEMU's early_setup devices, virtio-mem) would need the
 * RAM buffered too: read such a stream from a file. Memory is otherwise
 * the reader's 1 MiB buffer and its tables (QEMU_STREAM_MAX_SECTIONS).
 */
#define QEMU_STREAM_TAIL_CAP (64u << 20)
/* Largest vmdesc accepted (default vmdesc_cap). */
#define QEMU_STREAM_VMDESC_CAP (16u << 20)
/* Most distinct section ids a stream may use (QEMU numbers them from 0). */
#define QEMU_STREAM_MAX_SECTIONS 4096u

struct qemu_stream_opts {
	/* Bytes already read from the source before it was handed over (a
	 * caller that read the magic to tell the format): read first. */
	const void *prefix;
	size_t prefix_len;
	/* 0: the defaults above. */
	size_t tail_cap;
	size_t vmdesc_cap;
	/* Hand out every RAM record as QEMU_EV_RAM_RECORD (for debugging;
	 * counts are always kept). */
	bool ram_records;
	/* Buffer the tail even from a regular file (tests the pipe path). */
	bool no_seek;
	/* Target page size when the stream does not say it (no
	 * target-page-bits subsection, vmdesc not read yet): 0 means 4096,
	 * QEMU's for x86 and the minimum of most targets. */
	uint32_t page_size;
};

/*
 * What went wrong and where, for a one-line message: msg is that line,
 * "byte 15837, section 8 (PART 37 \"0000:00:01.0/vfio\"): unknown VFIO tag
 * 0xffffffffef100044" (section 8: the element's index in the listing; 37:
 * its section id), or "byte 0: not a QEMU migration stream (magic ...)"
 * outside any element. The name passed to _new() is not in it.
 */
struct qemu_stream_error {
	int err;	     /* -errno */
	uint64_t offset;     /* the byte the problem is at */
	bool in_section;     /* the fields below are set */
	unsigned int type;   /* QEMU_SEC_*: the element being read */
	uint64_t index;	     /* its index */
	uint32_t section_id; /* START/PART/END/FULL/FOOTER */
	char idstr[256];     /* "" when not known */
	char what[256];	     /* the problem alone */
	char msg[640];	     /* the whole line */
};

struct qemu_stream;

/*
 * A reader over fd (not closed by the reader). name is for messages. A
 * regular file gives the vmdesc by pread() from its end unless
 * opts->no_seek; opts may be NULL.
 */
int qemu_stream_new(struct qemu_stream **out, int fd, const char *name,
		    const struct qemu_stream_opts *opts);

/*
 * fn behaves like read(2) but returns -errno: bytes read (> 0), 0 at end of
 * file, -errno on error (-EINTR is retried). The tail is buffered.
 */
typedef ssize_t (*qemu_stream_read_fn)(void *ctx, void *buf, size_t len);
int qemu_stream_new_cb(struct qemu_stream **out, qemu_stream_read_fn fn, void *ctx,
		       const char *name, const struct qemu_stream_opts *opts);
void qemu_stream_free(struct qemu_stream *r);

/*
 * 1: an event in *ev; 0: the end (EOF, and the vmdesc if any, were read,
 * then end of input: anything after is an error); <0: error, sticky.
 */
int qemu_stream_next(struct qemu_stream *r, struct qemu_event *ev);

/* NULL when there was no error. */
const struct qemu_stream_error *qemu_stream_error(const struct qemu_stream *r);

/* Bytes consumed so far (the offset of the next unread byte). */
uint64_t qemu_stream_offset(const struct qemu_stream *r);

/* The configuration, once read; NULL before (or when the stream has none). */
const struct qemu_configuration *qemu_stream_configuration(const struct qemu_stream *r);

/* The target page size the reader uses for RAM pages. */
uint32_t qemu_stream_page_size(const struct qemu_stream *r);

/* The whole stream's RAM records so far (every RAM section's counts). */
const struct qemu_ram_counts *qemu_stream_ram_totals(const struct qemu_stream *r);

/*
 * Per VFIO device (each idstr/instance that had a VFIO section), in the
 * order their first section came: totals over all its sections so far.
 */
struct qemu_vfio_device {
	char idstr[256];
	uint32_t instance_id;
	uint32_t section_id;
	struct qemu_vfio_counts counts;
	/* The config state's first bytes (enough for the PCI IDs). */
	uint8_t config_head[64];
	size_t config_head_len;
	bool config_before_data; /* the config state came before any device data */
};
size_t qemu_stream_vfio_count(const struct qemu_stream *r);
const struct qemu_vfio_device *qemu_stream_vfio_device(const struct qemu_stream *r, size_t i);

/*
 * PCI identity in a vfio-pci config state (QEMU_EV_VFIO_CONFIG's bytes from
 * the first on, at least 48 of them): the state is vmstate "VFIOPCIDevice",
 * whose first field is the PCIDevice (be32 version, then the config space
 * as the device shows it, little-endian). -EBADMSG when too short or the
 * version is not 1 or 2.
 */
struct qemu_pci_ids {
	uint16_t vendor, device, subsystem_vendor, subsystem;
	uint8_t revision;
	uint32_t class_code; /* 24 bits: base, sub, prog-if */
};
int qemu_vfio_config_pci_ids(const uint8_t *config, size_t len, struct qemu_pci_ids *ids);

/* What the first bytes of a channel are (at least 8 to tell). */
enum qemu_channel_kind {
	QEMU_CHANNEL_UNKNOWN,
	QEMU_CHANNEL_MAIN,    /* "QEVM", version 3: this reader */
	QEMU_CHANNEL_MULTIFD, /* multifd's init packet: qemu-multifd.h */
};
enum qemu_channel_kind qemu_channel_probe(const void *buf, size_t len);

#endif
