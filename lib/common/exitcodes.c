// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Library errors to exit codes; see exitcodes.h.
 */
#include <errno.h>

#include "common/exitcodes.h"

int vmt_exit_code_for_error(int neg_errno)
{
	switch (-neg_errno) {
	case 0:
		return VMT_EXIT_OK;
	case EBADMSG:
		return VMT_EXIT_BADDATA;
	case EOPNOTSUPP:
		return VMT_EXIT_UNSUPPORTED;
	default:
		return VMT_EXIT_FAILURE;
	}
}
