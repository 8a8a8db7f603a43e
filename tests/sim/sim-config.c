// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libvfiosim configuration: device and IOMMU specs from the environment
 * (VFIOSIM_DEVICES, VFIOSIM_IOMMU, VFIOSIM_CONFIG), syntax in tests/sim/README.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/c.h"
#include "sim.h"

struct sim_config sim_cfg;

static const char *const state_names[] = {
	[VFIO_DEVICE_STATE_ERROR] = "ERROR",
	[VFIO_DEVICE_STATE_STOP] = "STOP",
	[VFIO_DEVICE_STATE_RUNNING] = "RUNNING",
	[VFIO_DEVICE_STATE_STOP_COPY] = "STOP_COPY",
	[VFIO_DEVICE_STATE_RESUMING] = "RESUMING",
	[VFIO_DEVICE_STATE_RUNNING_P2P] = "RUNNING_P2P",
	[VFIO_DEVICE_STATE_PRE_COPY] = "PRE_COPY",
	[VFIO_DEVICE_STATE_PRE_COPY_P2P] = "PRE_COPY_P2P",
};

const char *sim_state_name(uint32_t state)
{
	if (state < ARRAY_SIZE(state_names) && state_names[state])
		return state_names[state];
	return "INVALID";
}

int sim_state_from_name(const char *name, uint32_t *out)
{
	char buf[32];
	size_t i;

	for (i = 0; name[i] && i < sizeof(buf) - 1; i++)
		buf[i] = name[i] == '-' ? '_' : (char)toupper((unsigned char)name[i]);
	buf[i] = '\0';
	for (i = 0; i < ARRAY_SIZE(state_names); i++) {
		if (state_names[i] && !strcmp(buf, state_names[i])) {
			*out = (uint32_t)i;
			return 0;
		}
	}
	return -1;
}

int sim_parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	uint64_t mult = 1;

	if (!*s || *s == '-')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno)
		return -1;
	switch (toupper((unsigned char)*end)) {
	case 'K':
		mult = 1ULL << 10;
		end++;
		break;
	case 'M':
		mult = 1ULL << 20;
		end++;
		break;
	case 'G':
		mult = 1ULL << 30;
		end++;
		break;
	case 'T':
		mult = 1ULL << 40;
		end++;
		break;
	default:
		break;
	}
	if (*end == 'i' || *end == 'I')
		end++;
	if (*end == 'b' || *end == 'B')
		end++;
	if (*end)
		return -1;
	if (v && mult > UINT64_MAX / v)
		return -1;
	*out = v * mult;
	return 0;
}

/*
 * compressible=F, 0 <= F <= 1, kept as the number of pages in 65536 that are
 * zero or repeated (SIM_COMPRESS_ALL: every page), the unit the section
 * header carries to the loading device.
 */
static int parse_fraction(const char *s, uint32_t *out)
{
	char *end;
	double f;

	errno = 0;
	f = strtod(s, &end);
	if (errno || end == s || *end || !(f >= 0.0 && f <= 1.0))
		return -1;
	*out = f >= 1.0 ? SIM_COMPRESS_ALL : (uint32_t)(f * 65536.0 + 0.5);
	if (*out > SIM_COMPRESS_ALL)
		*out = SIM_COMPRESS_ALL;
	return 0;
}

/* break=RULE+RULE...: each rule one this device breaks (tests/sim/README) */
static int parse_breaks(const char *s, struct sim_devcfg *d)
{
	while (*s) {
		size_t n = strcspn(s, "+");

		if (n == 14 && !strncmp(s, "datafd-cloexec", n))
			d->break_datafd_cloexec = true;
		else if (n == 13 && !strncmp(s, "precopy-argsz", n))
			d->break_precopy_argsz = true;
		else
			return -1;
		s += n;
		if (*s == '+')
			s++;
	}
	return 0;
}

static int parse_bool(const char *s, bool *out)
{
	if (!strcasecmp(s, "yes") || !strcmp(s, "1") || !strcasecmp(s, "on") ||
	    !strcasecmp(s, "true")) {
		*out = true;
		return 0;
	}
	if (!strcasecmp(s, "no") || !strcmp(s, "0") || !strcasecmp(s, "off") ||
	    !strcasecmp(s, "false")) {
		*out = false;
		return 0;
	}
	return -1;
}

static int parse_u32(const char *s, unsigned int *out)
{
	uint64_t v;

	if (sim_parse_size(s, &v) || v > UINT32_MAX)
		return -1;
	*out = (unsigned int)v;
	return 0;
}

static const struct {
	const char *name;
	int err;
} errno_names[] = {
	{ "EIO", EIO },	      { "EINVAL", EINVAL },	    { "ENOMEM", ENOMEM },
	{ "EBUSY", EBUSY },   { "ENODEV", ENODEV },	    { "EPERM", EPERM },
	{ "EAGAIN", EAGAIN }, { "EFAULT", EFAULT },	    { "ENOSPC", ENOSPC },
	{ "ENOTTY", ENOTTY }, { "EOPNOTSUPP", EOPNOTSUPP }, { "ETIMEDOUT", ETIMEDOUT },
	{ "EINTR", EINTR },   { "ENXIO", ENXIO },	    { "EACCES", EACCES },
	{ "E2BIG", E2BIG },   { "ENOENT", ENOENT },
};

static int parse_errno(const char *s, int *out)
{
	unsigned int v;

	for (size_t i = 0; i < ARRAY_SIZE(errno_names); i++) {
		if (!strcasecmp(s, errno_names[i].name)) {
			*out = errno_names[i].err;
			return 0;
		}
	}
	if (parse_u32(s, &v) || v == 0 || v > 4095)
		return -1;
	*out = (int)v;
	return 0;
}

/* "FROM>TO" or "FROM>TO:ERRNO" */
static int parse_arc(const char *s, struct sim_fault *f, bool want_errno)
{
	char buf[96], *gt, *colon;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	gt = strchr(buf, '>');
	if (!gt)
		return -1;
	*gt++ = '\0';
	colon = strchr(gt, ':');
	if (colon)
		*colon++ = '\0';
	if (sim_state_from_name(buf, &f->from) || sim_state_from_name(gt, &f->to))
		return -1;
	f->err = EIO;
	if (colon) {
		if (!want_errno || parse_errno(colon, &f->err))
			return -1;
	} else if (want_errno) {
		return -1;
	}
	return 0;
}

/* "IOVA:LEN+IOVA:LEN..." */
static int parse_iova_list(const char *s, struct sim_ranges *r)
{
	char buf[4096], *save = NULL, *tok;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	for (tok = strtok_r(buf, "+", &save); tok; tok = strtok_r(NULL, "+", &save)) {
		char *colon = strchr(tok, ':');
		uint64_t iova, len;

		if (!colon)
			return -1;
		*colon++ = '\0';
		if (sim_parse_size(tok, &iova) || sim_parse_size(colon, &len) || !len ||
		    iova + len < iova)
			return -1;
		sim_ranges_add(r, iova, iova + len);
	}
	return 0;
}

static int parse_migflags(const char *s, uint32_t *out)
{
	char buf[128], *save = NULL, *tok;
	unsigned int v;

	if (!strcasecmp(s, "none")) {
		*out = 0;
		return 0;
	}
	if (isdigit((unsigned char)*s)) {
		if (parse_u32(s, &v))
			return -1;
		*out = v;
		return 0;
	}
	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	*out = 0;
	for (tok = strtok_r(buf, "+|", &save); tok; tok = strtok_r(NULL, "+|", &save)) {
		if (!strcasecmp(tok, "stop-copy") || !strcasecmp(tok, "stop_copy"))
			*out |= VFIO_MIGRATION_STOP_COPY;
		else if (!strcasecmp(tok, "p2p"))
			*out |= VFIO_MIGRATION_P2P;
		else if (!strcasecmp(tok, "pre-copy") || !strcasecmp(tok, "pre_copy"))
			*out |= VFIO_MIGRATION_PRE_COPY;
		else
			return -1;
	}
	return 0;
}

static void devcfg_defaults(struct sim_devcfg *d, unsigned int index)
{
	memset(d, 0, sizeof(*d));
	d->index = index;
	snprintf(d->name, sizeof(d->name), "vfio%u", index);
	snprintf(d->bdf, sizeof(d->bdf), "0000:01:%02x.%u", (index / 8) % 32, index % 8);
	strcpy(d->mdev_type, "mtty-1");
	d->group = index;
	d->vendor = 0x1234;
	d->device = 0x11e8;
	d->subsys_vendor = 0x1af4;
	d->subsys_device = 0x1100;
	d->revision = 0x01;
	d->class_code = 0x020000;
	strcpy(d->driver, "vfio-pci");
	d->mig_flags = VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P | VFIO_MIGRATION_PRE_COPY;
	d->size = 1 << 20;
	d->precopy_initial = 64 << 10;
	d->data_size = UINT64_MAX; /* = size, resolved after parsing */
	d->seed = index + 1;
	d->log_max_ranges = 256;
	d->log_page_size = 4096;
	d->iommu_dirty_tracking = true;
}

int sim_parse_device_spec(const char *spec, struct sim_devcfg *d, char *err, size_t errlen)
{
	char buf[8192], *save = NULL, *tok;
	unsigned int index;
	char *end;
	bool driver_set = false;

	if (strlen(spec) >= sizeof(buf)) {
		snprintf(err, errlen, "device spec too long");
		return -1;
	}
	strcpy(buf, spec);
	tok = strtok_r(buf, ",", &save);
	if (!tok || strncmp(tok, "vfio", 4) || !isdigit((unsigned char)tok[4])) {
		snprintf(err, errlen, "device spec must start with vfioN: '%s'", spec);
		return -1;
	}
	index = (unsigned int)strtoul(tok + 4, &end, 10);
	if (*end || index > 4095) {
		snprintf(err, errlen, "bad device name '%s'", tok);
		return -1;
	}
	devcfg_defaults(d, index);

	while ((tok = strtok_r(NULL, ",", &save))) {
		char *val = strchr(tok, '=');
		const char *key = tok;
		int bad = 0;

		if (!val) {
			snprintf(err, errlen, "'%s' in device %s: expected key=value", tok,
				 d->name);
			return -1;
		}
		*val++ = '\0';
#define KEY(k) (!strcmp(key, k))
		if (KEY("bdf")) {
			bad = strlen(val) >= sizeof(d->bdf);
			if (!bad)
				strcpy(d->bdf, val);
		} else if (KEY("mdev")) {
			bad = strlen(val) >= sizeof(d->mdev);
			if (!bad) {
				strcpy(d->mdev, val);
				d->bdf[0] = '\0';
			}
		} else if (KEY("mdev-type")) {
			bad = strlen(val) >= sizeof(d->mdev_type);
			if (!bad)
				strcpy(d->mdev_type, val);
		} else if (KEY("group")) {
			bad = parse_u32(val, &d->group);
		} else if (KEY("vendor")) {
			bad = parse_u32(val, &d->vendor);
		} else if (KEY("device")) {
			bad = parse_u32(val, &d->device);
		} else if (KEY("subsys-vendor")) {
			bad = parse_u32(val, &d->subsys_vendor);
		} else if (KEY("subsys-device")) {
			bad = parse_u32(val, &d->subsys_device);
		} else if (KEY("revision")) {
			bad = parse_u32(val, &d->revision);
		} else if (KEY("class")) {
			bad = parse_u32(val, &d->class_code);
		} else if (KEY("driver")) {
			bad = strlen(val) >= sizeof(d->driver) || !*val || strchr(val, '/');
			if (!bad)
				strcpy(d->driver, val);
			driver_set = true;
		} else if (KEY("flags")) {
			bad = parse_migflags(val, &d->mig_flags);
		} else if (KEY("size")) {
			bad = sim_parse_size(val, &d->size);
		} else if (KEY("precopy-initial")) {
			bad = sim_parse_size(val, &d->precopy_initial);
		} else if (KEY("dirty-rate")) {
			bad = sim_parse_size(val, &d->dirty_rate);
		} else if (KEY("dirty-per-round")) {
			bad = sim_parse_size(val, &d->dirty_per_round);
		} else if (KEY("dirty-rounds")) {
			bad = sim_parse_size(val, &d->dirty_rounds);
		} else if (KEY("chunk")) {
			bad = sim_parse_size(val, &d->chunk);
		} else if (KEY("data-size")) {
			bad = sim_parse_size(val, &d->data_size);
		} else if (KEY("precopy-eof")) {
			if (!strcasecmp(val, "enomsg"))
				d->precopy_eof_zero = false;
			else if (!strcasecmp(val, "zero"))
				d->precopy_eof_zero = true;
			else
				bad = 1;
		} else if (KEY("digest")) {
			bool on;

			bad = parse_bool(val, &on);
			d->no_digest = !on;
		} else if (KEY("precopy-info-v2")) {
			bad = parse_bool(val, &d->precopy_info_v2);
		} else if (KEY("reinit-after")) {
			bad = sim_parse_size(val, &d->reinit_after);
			d->has_reinit_after = true;
		} else if (KEY("reinit-on")) {
			bad = strcasecmp(val, "p2p") != 0;
			d->reinit_on_p2p = !bad;
		} else if (KEY("reinit-bytes")) {
			bad = sim_parse_size(val, &d->reinit_bytes);
		} else if (KEY("resume-prepare-ms")) {
			uint64_t ms;

			bad = sim_parse_size(val, &ms) || ms > 600000;
			d->resume_prepare_ms = (unsigned int)ms;
		} else if (KEY("close-reset")) {
			bool on;

			bad = parse_bool(val, &on);
			d->keep_state = !on;
		} else if (KEY("seed")) {
			bad = sim_parse_size(val, &d->seed);
		} else if (KEY("expect-seed")) {
			bad = sim_parse_size(val, &d->expect_seed);
			d->has_expect_seed = true;
		} else if (KEY("dma-logging")) {
			bad = parse_bool(val, &d->dma_logging);
		} else if (KEY("log-max-ranges")) {
			bad = parse_u32(val, &d->log_max_ranges) || !d->log_max_ranges;
		} else if (KEY("log-page-size")) {
			bad = sim_parse_size(val, &d->log_page_size) || d->log_page_size < 4096 ||
			      (d->log_page_size & (d->log_page_size - 1));
		} else if (KEY("log-dirty")) {
			bad = parse_iova_list(val, &d->log_dirty);
		} else if (KEY("log-dirty-per-report")) {
			bad = sim_parse_size(val, &d->log_dirty_per_report);
		} else if (KEY("dirty-tracking")) {
			bad = parse_bool(val, &d->iommu_dirty_tracking);
		} else if (KEY("fail") || KEY("error-on")) {
			if (d->nr_faults >= SIM_MAX_FAULTS) {
				bad = 1;
			} else {
				struct sim_fault *f = &d->faults[d->nr_faults];

				bad = parse_arc(val, f, KEY("fail"));
				f->to_error = KEY("error-on");
				if (!bad)
					d->nr_faults++;
			}
		} else if (KEY("read-eio-after")) {
			bad = sim_parse_size(val, &d->read_eio_after);
			d->has_read_eio = true;
		} else if (KEY("write-eio-after")) {
			bad = sim_parse_size(val, &d->write_eio_after);
			d->has_write_eio = true;
		} else if (KEY("read-delay-ms")) {
			bad = parse_u32(val, &d->read_delay_ms);
		} else if (KEY("read-rate")) {
			bad = sim_parse_size(val, &d->read_rate);
		} else if (KEY("write-rate")) {
			bad = sim_parse_size(val, &d->write_rate);
		} else if (KEY("compressible")) {
			bad = parse_fraction(val, &d->compressible);
		} else if (KEY("busy")) {
			bad = parse_bool(val, &d->busy);
		} else if (KEY("break")) {
			bad = parse_breaks(val, d);
		} else {
			snprintf(err, errlen, "unknown key '%s' in device %s", key, d->name);
			return -1;
		}
#undef KEY
		if (bad) {
			snprintf(err, errlen, "bad value '%s' for %s in device %s", val, key,
				 d->name);
			return -1;
		}
	}
	if (d->mdev[0] && !driver_set)
		strcpy(d->driver, "vfio_mdev");
	if (d->data_size == UINT64_MAX)
		d->data_size = d->size < SIM_SECTION_HEADER ? SIM_SECTION_HEADER : d->size;
	return 0;
}

static int parse_iommu_spec(const char *spec, struct sim_iommucfg *c, char *err, size_t errlen)
{
	char buf[8192], *save = NULL, *tok;

	if (strlen(spec) >= sizeof(buf)) {
		snprintf(err, errlen, "iommu spec too long");
		return -1;
	}
	strcpy(buf, spec);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *val = strchr(tok, '=');
		int bad = 0;

		if (!val) {
			snprintf(err, errlen, "'%s' in iommu spec: expected key=value", tok);
			return -1;
		}
		*val++ = '\0';
		if (!strcmp(tok, "pgsize")) {
			bad = sim_parse_size(val, &c->pgsize) || c->pgsize < 512 ||
			      (c->pgsize & (c->pgsize - 1));
		} else if (!strcmp(tok, "aperture")) {
			char *dash = strchr(val, '-');

			bad = !dash;
			if (!bad) {
				*dash = '\0';
				bad = sim_parse_size(val, &c->aperture_start) ||
				      sim_parse_size(dash + 1, &c->aperture_last) ||
				      c->aperture_last <= c->aperture_start;
				*dash = '-';
			}
		} else if (!strcmp(tok, "dirty")) {
			bad = parse_iova_list(val, &c->dirty);
		} else if (!strcmp(tok, "dirty-per-read")) {
			bad = sim_parse_size(val, &c->dirty_per_read);
		} else if (!strcmp(tok, "dirty-pps")) {
			bad = sim_parse_size(val, &c->dirty_pps);
		} else if (!strcmp(tok, "seed")) {
			bad = sim_parse_size(val, &c->seed);
		} else if (!strcmp(tok, "hwpt-dirty")) {
			bad = parse_bool(val, &c->hwpt_dirty);
			c->hwpt_dirty_set = true;
		} else {
			snprintf(err, errlen, "unknown key '%s' in iommu spec", tok);
			return -1;
		}
		if (bad) {
			snprintf(err, errlen, "bad value '%s' for %s in iommu spec", val, tok);
			return -1;
		}
	}
	return 0;
}

static int add_device(const char *spec, char *err, size_t errlen)
{
	struct sim_devcfg *d;

	if (sim_cfg.nr_dev >= SIM_MAX_DEVICES) {
		snprintf(err, errlen, "more than %d devices", SIM_MAX_DEVICES);
		return -1;
	}
	d = &sim_cfg.dev[sim_cfg.nr_dev];
	if (sim_parse_device_spec(spec, d, err, errlen))
		return -1;
	for (unsigned int i = 0; i < sim_cfg.nr_dev; i++) {
		if (sim_cfg.dev[i].index == d->index) {
			snprintf(err, errlen, "device %s configured twice", d->name);
			return -1;
		}
		if (sim_cfg.dev[i].group == d->group) {
			snprintf(err, errlen,
				 "devices %s and %s share group %u (one device per group)",
				 sim_cfg.dev[i].name, d->name, d->group);
			return -1;
		}
	}
	sim_cfg.nr_dev++;
	return 0;
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int load_config_file(const char *path, char *err, size_t errlen)
{
	char line[8192];
	FILE *f = fopen(path, "re");
	unsigned int lineno = 0;

	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		char *s = trim(line);

		lineno++;
		if (!*s || *s == '#')
			continue;
		if (!strncmp(s, "device", 6) && isspace((unsigned char)s[6])) {
			if (add_device(trim(s + 7), err, errlen))
				goto fail;
		} else if (!strncmp(s, "iommu", 5) && isspace((unsigned char)s[5])) {
			if (parse_iommu_spec(trim(s + 6), &sim_cfg.iommu, err, errlen))
				goto fail;
		} else {
			snprintf(err, errlen, "expected 'device SPEC' or 'iommu SPEC'");
			goto fail;
		}
	}
	fclose(f);
	return 0;
fail : {
	char tmp[512];

	snprintf(tmp, sizeof(tmp), "%s:%u: %s", path, lineno, err);
	snprintf(err, errlen, "%s", tmp);
}
	fclose(f);
	return -1;
}

int sim_config_load(void)
{
	const char *s;
	char err[512] = "";

	memset(&sim_cfg, 0, sizeof(sim_cfg));
	sim_cfg.iommu.pgsize = 4096;
	sim_cfg.iommu.aperture_start = 0x1000;
	sim_cfg.iommu.aperture_last = 0xffffffffffffULL;
	sim_cfg.iommu.seed = 1;

	s = getenv("VFIOSIM_TRACE");
	sim_cfg.trace = s && *s && strcmp(s, "0");
	s = getenv("VFIOSIM_STATE_DIR");
	if (s && strlen(s) < sizeof(sim_cfg.state_dir))
		strcpy(sim_cfg.state_dir, s);
	s = getenv("VFIOSIM_SYSFS");
	if (s && strlen(s) < sizeof(sim_cfg.sysfs))
		strcpy(sim_cfg.sysfs, s);

	s = getenv("VFIOSIM_CONFIG");
	if (s && *s && load_config_file(s, err, sizeof(err)))
		goto fail;
	s = getenv("VFIOSIM_DEVICES");
	if (s && *s) {
		char *copy = strdup(s), *save = NULL, *tok;

		if (!copy)
			return -1;
		for (tok = strtok_r(copy, ";", &save); tok; tok = strtok_r(NULL, ";", &save)) {
			char *t = trim(tok);

			if (*t && add_device(t, err, sizeof(err))) {
				free(copy);
				goto fail;
			}
		}
		free(copy);
	}
	s = getenv("VFIOSIM_IOMMU");
	if (s && *s && parse_iommu_spec(s, &sim_cfg.iommu, err, sizeof(err)))
		goto fail;
	if (sim_cfg.iommu.aperture_start % sim_cfg.iommu.pgsize)
		sim_cfg.iommu.aperture_start +=
			sim_cfg.iommu.pgsize - sim_cfg.iommu.aperture_start % sim_cfg.iommu.pgsize;
	if (!sim_cfg.nr_dev && add_device("vfio0", err, sizeof(err)))
		goto fail;
	if (sim_cfg.iommu.hwpt_dirty_set) {
		for (unsigned int i = 0; i < sim_cfg.nr_dev; i++)
			sim_cfg.dev[i].iommu_dirty_tracking = sim_cfg.iommu.hwpt_dirty;
	}
	return 0;
fail:
	fprintf(stderr, "libvfiosim: configuration error: %s\n", err);
	return -1;
}
