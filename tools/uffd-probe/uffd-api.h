/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The UFFDIO_API handshake: which features and ioctls the kernel offers.
 */
#ifndef UFFD_PROBE_API_H
#define UFFD_PROBE_API_H

#include <stdbool.h>
#include <stdint.h>

#include "uffd-open.h"

struct uffd_api_result {
	bool ok;
	int err;		      /* of the open or the handshake */
	char error[256];	      /* what failed, when !ok */
	enum uffd_open_method method; /* how the fd was opened */
	uint64_t api;		      /* UFFD_API */
	uint64_t features;	      /* offered by the kernel */
	uint64_t ioctls;	      /* fd-wide ioctls */
	uint64_t known_features;      /* the bits this build can name */
};

/*
 * Handshake on an fd from the best method available. The kernel reports
 * every feature it offers when none are asked for; asking would lock them
 * into that fd, so each later test opens its own.
 */
void uffd_api_probe(const char *device_path, struct uffd_api_result *out);

/*
 * Open (best method, kernel faults if asked) and enable features. fd or
 * -errno; on failure *stage says "open" or "UFFDIO_API".
 */
int uffd_open_and_enable(const char *device_path, bool need_kernel_faults, uint64_t features,
			 enum uffd_open_method *used, const char **stage);

#endif
