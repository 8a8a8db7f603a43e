// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vfio-mig-ls columns; see columns.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/c.h"
#include "vfio/mig.h"

#include "columns.h"

const struct ls_column_info ls_columns[LS_NCOLUMNS] = {
	[LS_COL_NAME] = { "NAME", "name", false, "PCI address or mdev UUID" },
	[LS_COL_TYPE] = { "TYPE", "type", false, "pci or mdev" },
	[LS_COL_CDEV] = { "CDEV", "cdev", false, "VFIO device cdev (/dev/vfio/devices/...)" },
	[LS_COL_GROUP] = { "GROUP", "group", true, "IOMMU group (/dev/vfio/GROUP)" },
	[LS_COL_DRIVER] = { "DRIVER", "driver", false, "bound driver" },
	[LS_COL_ID] = { "ID", "id", false, "PCI vendor:device" },
	[LS_COL_MDEV_TYPE] = { "MDEV-TYPE", "mdev_type", false, "mdev type" },
	[LS_COL_OPEN] = { "OPEN", "open", false,
			  "ok, busy (in use, e.g. by a VMM), denied, no-node, error" },
	[LS_COL_MIGRATION] = { "MIGRATION", "migration_flags", false,
			       "migration flags (STOP_COPY|P2P|PRE_COPY), none",
			       vmt_migration_flag_name },
	[LS_COL_STATE] = { "STATE", "state", false, "migration state" },
	[LS_COL_STOP_COPY] = { "STOP-COPY", "stop_copy_bytes", true,
			       "stop-copy size (MIG_DATA_SIZE)" },
	[LS_COL_DMA_LOG] = { "DMA-LOG", "dma_log", false,
			     "VFIO DMA logging (device dirty tracking)" },
	[LS_COL_DIRTY] = { "DIRTY", "dirty_tracking", false,
			   "IOMMU dirty tracking (iommufd, cdev only)" },
};

const enum ls_column ls_default_columns[] = {
	LS_COL_NAME,	  LS_COL_CDEV,	LS_COL_GROUP,	  LS_COL_DRIVER,  LS_COL_ID,	LS_COL_OPEN,
	LS_COL_MIGRATION, LS_COL_STATE, LS_COL_STOP_COPY, LS_COL_DMA_LOG, LS_COL_DIRTY,
};
const int ls_ndefault_columns = ARRAY_SIZE(ls_default_columns);

static int column_by_name(const char *name, size_t len)
{
	for (int c = 0; c < LS_NCOLUMNS; c++)
		if (strlen(ls_columns[c].name) == len &&
		    strncasecmp(ls_columns[c].name, name, len) == 0)
			return c;
	return -1;
}

int ls_parse_columns(const char *list, enum ls_column *out, int *n, int max, const char **bad,
		     int *bad_len)
{
	const char *p = list;

	*n = 0;
	if (*p == '+') {
		for (int i = 0; i < ls_ndefault_columns && *n < max; i++)
			out[(*n)++] = ls_default_columns[i];
		p++;
	}
	for (;;) {
		size_t len = strcspn(p, ",");
		int c = column_by_name(p, len);

		if (c < 0 || *n >= max) {
			*bad = p;
			*bad_len = (int)len;
			return -EINVAL;
		}
		out[(*n)++] = c;
		if (!p[len])
			return 0;
		p += len + 1;
	}
}

static void set_str(struct ls_value *v, const char *s)
{
	if (s && *s) {
		v->kind = LS_VAL_STR;
		v->str = s;
	}
}

static void set_bool(struct ls_value *v, enum ls_tristate t)
{
	if (t != LS_UNKNOWN) {
		v->kind = LS_VAL_BOOL;
		v->yes = t == LS_YES;
	}
}

/* Facts the device gave; unknown unless it was opened. */
static void migration_value(const struct ls_device *d, enum ls_column col, struct ls_value *v)
{
	if (d->access != LS_OPENED)
		return;
	switch (col) {
	case LS_COL_MIGRATION:
		v->kind = LS_VAL_FLAGS;
		v->num = d->migratable ? d->mig_flags : 0;
		v->str = d->migratable
				 ? vmt_migration_flags_string(d->mig_flags, v->buf, sizeof(v->buf))
				 : "none";
		break;
	case LS_COL_STATE:
		if (d->state_known)
			set_str(v, vmt_state_name(d->state));
		break;
	case LS_COL_STOP_COPY:
		if (d->stop_copy_known) {
			v->kind = LS_VAL_SIZE;
			v->num = d->stop_copy_bytes;
		}
		break;
	case LS_COL_DMA_LOG:
		set_bool(v, d->dma_logging);
		break;
	case LS_COL_DIRTY:
		set_bool(v, d->iommu_dirty);
		break;
	default:
		break;
	}
}

void ls_column_value(const struct ls_device *d, enum ls_column col, struct ls_value *v)
{
	*v = (struct ls_value){ .kind = LS_VAL_NONE };
	switch (col) {
	case LS_COL_NAME:
		set_str(v, d->entry.name);
		break;
	case LS_COL_TYPE:
		set_str(v, d->entry.mdev ? "mdev" : "pci");
		break;
	case LS_COL_CDEV:
		set_str(v, d->cdev);
		break;
	case LS_COL_GROUP: {
		char *end;

		v->num = strtoull(d->group, &end, 10);
		if (d->group[0] && !*end)
			v->kind = LS_VAL_NUM;
		else
			set_str(v, d->group);
		break;
	}
	case LS_COL_DRIVER:
		set_str(v, d->driver);
		break;
	case LS_COL_ID:
		if (d->has_ids) {
			snprintf(v->buf, sizeof(v->buf), "%04x:%04x", d->vendor, d->device);
			set_str(v, v->buf);
		}
		break;
	case LS_COL_MDEV_TYPE:
		set_str(v, d->mdev_type);
		break;
	case LS_COL_OPEN:
		if (d->access != LS_NOT_TRIED)
			set_str(v, ls_access_name(d->access));
		break;
	default:
		migration_value(d, col, v);
	}
}
