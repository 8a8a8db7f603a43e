// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Binary output that reports its failures.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "common/exitcodes.h"
#include "common/log.h"
#include "output.h"

int cat_write_error(int neg_errno)
{
	vmt_err("write error on standard output: %s", strerror(-neg_errno));
	return VMT_EXIT_FAILURE;
}

int cat_writer_error(int neg_errno)
{
	switch (-neg_errno) {
	case EPIPE:
	case ENOSPC:
	case EIO:
	case EDQUOT:
	case EFBIG:
		return cat_write_error(neg_errno);
	default:
		vmt_err("cannot write the stream: %s", strerror(-neg_errno));
		return vmt_exit_code_for_error(neg_errno);
	}
}
