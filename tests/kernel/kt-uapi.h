/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * uAPI for the kernel-tier helpers.
 *
 * The project's compat headers (lib/uapi/) carry the VFIO migration and
 * iommufd ABI that Debian bookworm's 6.1 headers lack, so prefer them; the
 * fallback to the system headers lets the helpers be built stand-alone
 * against a newer kernel's headers_install output (-I.../include).
 */
#ifndef VMT_KT_UAPI_H
#define VMT_KT_UAPI_H

#if __has_include("vfio/uapi/vfio-uapi.h") && __has_include("vfio/uapi/iommufd-uapi.h")
#include "vfio/uapi/vfio-uapi.h"
#include "vfio/uapi/iommufd-uapi.h"
#else
#include <linux/vfio.h>
#include <linux/iommufd.h>
#endif

#endif /* VMT_KT_UAPI_H */
