/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libvfiosim internals: the simulated kernel objects and the glue between
 * the libc wrappers (sim-libc.c) and the simulated drivers (sim-vfio.c,
 * sim-migf.c, sim-iommufd.c). See tests/sim/README for the user interface.
 *
 * Every simulated fd is a real fd, so its number is real and unique: an
 * eventfd whose counter mirrors readability (poll/select/epoll work on data
 * fds), or for device fds a memfd that carries them through exec. The fd
 * table in sim-libc.c says which simulated object stands behind each.
 */
#ifndef VFIOSIM_SIM_H
#define VFIOSIM_SIM_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "common/c.h"
#include "vfio/uapi/iommufd-uapi.h"
#include "vfio/uapi/vfio-uapi.h"

#define SIM_MAX_DEVICES 64
#define SIM_MAX_FAULTS 8
#define SIM_NAME_MAX 64

/* Bytes of a section header in the device state stream (README). */
#define SIM_SECTION_HEADER 48
#define SIM_SECTION_MAGIC "VFSIMSEC"
/* compressible= of 1: every page (the header's u16 cannot say 65536) */
#define SIM_COMPRESS_ALL 0xffffu
#define SIM_PAGE_SHIFT 12

enum sim_section_type {
	SIM_SEC_PRECOPY_INITIAL = 1,
	SIM_SEC_PRECOPY_DIRTY = 2,
	SIM_SEC_STOP_COPY = 3,
	SIM_SEC_PRECOPY_REINIT = 4, /* new initial data (PRECOPY_INFOv2 REINIT) */
};

/* A set of [start, end) intervals, kept sorted and merged. */
struct sim_ranges {
	struct sim_range {
		uint64_t start, end;
	} * v;
	size_t n, cap;
};

void sim_ranges_add(struct sim_ranges *r, uint64_t start, uint64_t end);
void sim_ranges_remove(struct sim_ranges *r, uint64_t start, uint64_t end);
bool sim_ranges_overlaps(const struct sim_ranges *r, uint64_t start, uint64_t end);
uint64_t sim_ranges_covered_to(const struct sim_ranges *r, uint64_t start, uint64_t end);
void sim_ranges_clear(struct sim_ranges *r);
uint64_t sim_ranges_total(const struct sim_ranges *r);

struct sim_fault {
	uint32_t from, to;
	int err;       /* errno the arc fails with */
	bool to_error; /* the arc leaves the device in ERROR */
};

/* One configured device: what the user asked for (README "Device SPEC"). */
struct sim_devcfg {
	char name[SIM_NAME_MAX]; /* vfioN */
	unsigned int index;	 /* N */
	char bdf[SIM_NAME_MAX];	 /* PCI address, "" for an mdev */
	char mdev[SIM_NAME_MAX]; /* mdev UUID, "" for PCI */
	char mdev_type[SIM_NAME_MAX];
	unsigned int group;
	unsigned int vendor, device, subsys_vendor, subsys_device, revision, class_code;
	char driver[SIM_NAME_MAX];

	uint32_t mig_flags; /* VFIO_MIGRATION_*; 0 = no migration support */
	uint64_t size;	    /* stop-copy section */
	uint64_t precopy_initial;
	uint64_t dirty_rate; /* bytes per second in PRE_COPY states */
	uint64_t dirty_per_round;
	uint64_t dirty_rounds;
	uint64_t chunk;	       /* max bytes per read(), 0 = unlimited */
	uint64_t data_size;    /* MIG_DATA_SIZE answer */
	bool precopy_eof_zero; /* mtty: read() returns 0, not ENOMSG */
	bool no_digest;	       /* skip the XXH3 digests (benchmarks) */
	bool keep_state;       /* mtty: close does not reset; state file carries it */
	uint64_t seed;
	bool has_expect_seed;
	uint64_t expect_seed;

	bool dma_logging;
	uint32_t log_max_ranges;
	uint64_t log_page_size;
	struct sim_ranges log_dirty;
	uint64_t log_dirty_per_report;

	bool iommu_dirty_tracking;

	struct sim_fault faults[SIM_MAX_FAULTS];
	unsigned int nr_faults;
	bool has_read_eio, has_write_eio;
	uint64_t read_eio_after, write_eio_after;
	unsigned int read_delay_ms;
	uint64_t read_rate, write_rate; /* bytes/s on the data fd, 0 = unlimited */
	uint32_t compressible;		/* pages in 65536 that are zero or repeated */
	bool busy;
	/* break=: kernel rules this device breaks on purpose (vfio-mig-check's tests) */
	bool break_datafd_cloexec, break_precopy_argsz;

	/* PRECOPY_INFOv2 and the target's preparation (README "Return path") */
	bool precopy_info_v2; /* the device offers the opt-in feature */
	bool has_reinit_after;
	uint64_t reinit_after; /* REINIT once this many pre-copy bytes were read */
	bool reinit_on_p2p;    /* REINIT when PRE_COPY -> PRE_COPY_P2P */
	uint64_t reinit_bytes; /* size of the new initial section (0: precopy-initial) */
	unsigned int
		resume_prepare_ms; /* the write completing an initial section takes this long */
};

struct sim_iommucfg {
	uint64_t pgsize;
	uint64_t aperture_start, aperture_last;
	struct sim_ranges dirty;
	uint64_t dirty_per_read;
	uint64_t dirty_pps;
	uint64_t seed;
	bool hwpt_dirty_set, hwpt_dirty;
};

struct sim_config {
	struct sim_devcfg dev[SIM_MAX_DEVICES];
	unsigned int nr_dev;
	struct sim_iommucfg iommu;
	char state_dir[4096]; /* "" = no state files */
	char sysfs[4096];     /* "" = no sysfs redirection */
	bool trace;
};

extern struct sim_config sim_cfg;

/* Parse environment into sim_cfg; returns -1 with a message on bad config. */
int sim_config_load(void);
int sim_parse_device_spec(const char *spec, struct sim_devcfg *out, char *err, size_t errlen);
int sim_parse_size(const char *s, uint64_t *out);
const char *sim_state_name(uint32_t state);
int sim_state_from_name(const char *name, uint32_t *out);

/* ---- simulated objects ---- */

enum sim_kind {
	SIM_K_DEVFILE = 1, /* an open device (cdev or from GET_DEVICE_FD) */
	SIM_K_GROUP,
	SIM_K_CONTAINER,
	SIM_K_IOMMUFD,
	SIM_K_MIGF, /* a migration data_fd */
};

/*
 * The first member of every object, whose pointer is cast back to the whole
 * (sim_devfile, sim_group): aligned as a pointer, as they are, so that the
 * cast asks for no more alignment than it has (clang's -Wcast-align).
 */
struct sim_obj {
	_Alignas(void *) enum sim_kind kind;
	unsigned int refs; /* fds pointing at it */
	int ready_fd;	   /* one of them: its eventfd mirrors readability */
	bool ready;
};

#define SIM_OBJ_INIT(k) ((struct sim_obj){ .kind = (k), .refs = 0, .ready_fd = -1 })

struct sim_migf;
struct sim_ictx;

/* Per-process runtime state of a configured device. */
struct sim_dev {
	const struct sim_devcfg *cfg;
	unsigned int open_count; /* bound device files */
	unsigned int files;	 /* device files, bound or not */
	uint32_t state;
	uint32_t last_state;
	struct sim_migf *saving, *resuming;
	int lock_fd;

	/* counters for the state file */
	uint64_t transitions, requests, resets;
	int last_errno;
	char arcs[2048];
	uint64_t saved_bytes, precopy_bytes, loaded_bytes;
	bool save_complete;
	uint64_t save_digest, load_digest;
	const char *load_verified;
	char load_error[160];
	bool has_load_seed;
	uint64_t load_seed;
	uint64_t read_calls, write_calls, enomsg;
	uint64_t data_read_total, data_written_total; /* for EIO injection */
	uint64_t dirty_rounds_done;
	/* read-rate/write-rate: virtual time at which the bucket is empty (GCRA) */
	uint64_t read_tat_ns, write_tat_ns;
	bool precopy_v2_on;   /* VFIO_DEVICE_FEATURE_MIG_PRECOPY_INFOv2 was SET */
	unsigned int reinits; /* REINITs reported */

	/* DMA logging */
	bool logging;
	uint64_t log_page_size;
	struct sim_ranges log_ranges;
	struct sim_ranges log_dirty;
	uint64_t log_rng;
	off_t log_ctl_offset;
	uint64_t iommu_devid; /* last iommufd device id, for GET_HW_INFO */
};

struct sim_devfile {
	struct sim_obj obj;
	struct sim_dev *dev;
	bool via_group;
	bool access_granted;
	struct sim_ictx *ictx; /* cdev: bound iommufd */
	uint32_t devid;
	uint32_t pt_id;
};

struct sim_container;

struct sim_group {
	struct sim_obj obj;
	struct sim_dev *dev;
	struct sim_container *container;
};

struct sim_container {
	struct sim_obj obj;
	unsigned int groups;
	uint32_t iommu_type; /* 0 = not set */
};

extern struct sim_dev sim_devs[SIM_MAX_DEVICES];
extern struct sim_obj *sim_adopted[256]; /* device fds adopted after exec */
extern pthread_mutex_t sim_lock;

/* fd table (sim-libc.c) */
struct sim_obj *sim_fd_get(int fd);
int sim_fd_install(struct sim_obj *obj, int flags); /* a new fd for obj, or -errno */
void sim_obj_put(struct sim_obj *obj);
void sim_obj_set_ready(struct sim_obj *obj, bool ready);
/* what a device fd carries through exec (a NUL-terminated line) */
void sim_obj_record(struct sim_obj *obj, const char *text);

/* sim-vfio.c */
struct sim_dev *sim_dev_by_index(unsigned int index);
struct sim_dev *sim_dev_by_group(unsigned int group);
struct sim_obj *sim_devfile_new(struct sim_dev *dev, bool via_group, int *err);
struct sim_obj *sim_devfile_adopt(struct sim_dev *dev, bool bound, bool via_group);
void sim_devfile_record(struct sim_devfile *df);
int sim_devfile_ioctl(struct sim_devfile *df, unsigned long req, void *arg);
void sim_devfile_release(struct sim_devfile *df);
struct sim_obj *sim_group_new(struct sim_dev *dev, int *err);
int sim_group_ioctl(struct sim_group *g, unsigned long req, void *arg);
void sim_group_release(struct sim_group *g);
struct sim_obj *sim_container_new(void);
int sim_container_ioctl(struct sim_container *c, unsigned long req, void *arg);
void sim_container_release(struct sim_container *c);
void sim_dev_write_state(struct sim_dev *dev);
void sim_dev_reset(struct sim_dev *dev);

/* sim-migf.c: the migration data files */
struct sim_migf *sim_migf_new_saving(struct sim_dev *dev);
struct sim_migf *sim_migf_new_resuming(struct sim_dev *dev);
struct sim_obj *sim_migf_obj(struct sim_migf *m);
void sim_migf_disable(struct sim_migf *m);
void sim_migf_enter_stop_copy(struct sim_migf *m);
int sim_migf_load_check(struct sim_migf *m);
ssize_t sim_migf_read(struct sim_migf *m, void *buf, size_t n, int fd);
ssize_t sim_migf_readv(struct sim_migf *m, const struct iovec *iov, int cnt, int fd);
ssize_t sim_migf_write(struct sim_migf *m, const void *buf, size_t n);
ssize_t sim_migf_writev(struct sim_migf *m, const struct iovec *iov, int cnt);
int sim_migf_ioctl(struct sim_migf *m, unsigned long req, void *arg);
bool sim_migf_poll(struct sim_migf *m);
void sim_migf_release(struct sim_migf *m);
void sim_stream_fill(uint64_t seed, uint32_t comp, uint64_t offset, void *buf, size_t n);
/* index of the first byte that differs from the generated stream, or n */
size_t sim_stream_verify(uint64_t seed, uint32_t comp, uint64_t offset, const void *buf, size_t n);
void sim_section_header(uint8_t hdr[SIM_SECTION_HEADER], uint64_t seed, uint32_t comp,
			uint64_t offset, uint64_t length, uint32_t type, uint32_t index);

/* sim-iommufd.c */
struct sim_obj *sim_ictx_new(void);
int sim_ictx_ioctl(struct sim_ictx *ictx, unsigned long req, void *arg);
void sim_ictx_release(struct sim_ictx *ictx);
int sim_ictx_bind_device(struct sim_ictx *ictx, struct sim_dev *dev, uint32_t *out_devid);
void sim_ictx_unbind_device(struct sim_ictx *ictx, uint32_t devid);
int sim_ictx_attach(struct sim_ictx *ictx, uint32_t devid, uint32_t pt_id);

/* sim-paths.c */
bool sim_sysfs_redirect(const char *path, char *out, size_t outlen);
bool sim_sysfs_unredirect(char *path, size_t len);
int sim_sysfs_build(void);
enum sim_devnode {
	SIM_NODE_NONE,
	SIM_NODE_IOMMU,
	SIM_NODE_CONTAINER,
	SIM_NODE_GROUP,
	SIM_NODE_CDEV,
	SIM_NODE_DIR_VFIO,
	SIM_NODE_DIR_DEVICES
};
enum sim_devnode sim_devnode_lookup(const char *path, unsigned int *num);

/* sim-util.c */
/* Add lines "IOVA LEN" appended to <state-dir>/name since *offset to dirty,
 * clipped to within (all of it when within is NULL). */
void sim_apply_dirty_file(const char *name, off_t *offset, struct sim_ranges *dirty,
			  const struct sim_ranges *within);
/* Pages the simulator dirtied itself, appended to <state-dir>/<name> as
 * "IOVA LEN" lines so a test can compare with what a tool reported. */
struct sim_dirtylog {
	const char *name;
	size_t len;
	char buf[4096];
};
void sim_dirtylog_add(struct sim_dirtylog *log, uint64_t iova, uint64_t len);
void sim_dirtylog_flush(struct sim_dirtylog *log);
/* sim-vfio.c: set the bits of pages touching dirty (iova_bitmap layout) */
void sim_report_bits(const struct sim_ranges *dirty, uint64_t iova, uint64_t length, uint64_t ps,
		     uint8_t *bitmap);

void sim_state_write(const char *name, const char *text);
void sim_trace(const char *fmt, ...) VMT_PRINTF(1, 2);
uint64_t sim_now_ns(void);
uint64_t sim_splitmix64(uint64_t x);

#endif /* VFIOSIM_SIM_H */
