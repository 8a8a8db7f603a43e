/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Exit codes shared by every vfio-migtools program (README, every man page).
 */
#ifndef VMT_EXITCODES_H
#define VMT_EXITCODES_H

enum vmt_exit {
	VMT_EXIT_OK = 0,	  /* success */
	VMT_EXIT_FAILURE = 1,	  /* runtime failure: device, I/O, system */
	VMT_EXIT_USAGE = 2,	  /* bad command line */
	VMT_EXIT_UNSUPPORTED = 3, /* host or device lacks what was asked */
	VMT_EXIT_BADDATA = 4,	  /* corrupt, truncated or incompatible stream */
};

/*
 * Map a library error (a negative errno) to an exit code. Library code
 * reports bad stream data as -EBADMSG and unsupported features as
 * -EOPNOTSUPP; everything else is a runtime failure.
 */
int vmt_exit_code_for_error(int neg_errno);

#endif
