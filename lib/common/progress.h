/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One progress line on stderr for every tool that moves a stream:
 *
 *   vfio-mig-save: stop-copy: 12.0 MiB of 26.7 MiB (45%), 10.2 MiB/s, ETA 0:02
 *
 * the program name, an optional phase, bytes in IEC units, the percentage
 * and the time left when the total is known (a device's MIG_DATA_SIZE or
 * PRECOPY_INFO, an input file's size), the mean rate. Redrawn in place
 * ("\r" ... "\e[K") at most five times a second, fitted to the terminal's
 * width so it never wraps (the least important parts left out first), and
 * only when asked for (--progress) or when stderr is a terminal. Tools
 * sharing a terminal (vfio-mig-save | vfio-mig-load) draw one at a time.
 */
#ifndef VMT_PROGRESS_H
#define VMT_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vmt_progress {
	bool on;
	bool drawn;
	uint64_t start_ns;
	uint64_t last_ns;
	int terminal_lock;    /* held while this process draws on its terminal; -1 */
	bool terminal_shared; /* another tool was drawing on this terminal */
};

/*
 * The default rule: drawn when asked for, or when stderr is a terminal
 * and the user did not ask for quiet (-q).
 */
bool vmt_progress_wanted(bool asked);

void vmt_progress_init(struct vmt_progress *p, bool on);

/*
 * done bytes of total (0: total unknown); phase may be NULL. Draws only
 * when the last line is old enough, unless force (a last figure that must
 * be seen, such as "done").
 */
void vmt_progress_update(struct vmt_progress *p, const char *phase, uint64_t done, uint64_t total,
			 bool force);

/* A new phase with its own total: the rate is measured from now. */
void vmt_progress_new_phase(struct vmt_progress *p);

/*
 * Erases the line, before an error, a summary or the end (also the line of
 * another tool drawing on the terminal), and lets another tool draw.
 */
void vmt_progress_clear(struct vmt_progress *p);

/* The size of a regular file behind fd, the total to show; 0 for a pipe. */
uint64_t vmt_progress_fd_total(int fd);

/*
 * The line itself, without "\r" and "\e[K", at most width - 1 columns (the
 * last column would make a terminal wrap): what does not fit is left out
 * whole, the total first, then the phase, the percentage, the program name,
 * the time left and the rate; the bytes done stay. elapsed_ns gives the
 * rate. Returns its length.
 */
size_t vmt_progress_format(char *buf, size_t size, unsigned int width, const char *phase,
			   uint64_t done, uint64_t total, uint64_t elapsed_ns);

#endif
