/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What vfio-mig-save reports when it is done: a few lines on stderr, or
 * the same facts as one JSON object (--json on stderr, --summary-file).
 */
#ifndef VMT_SAVE_SUMMARY_H
#define VMT_SAVE_SUMMARY_H

#include <stdbool.h>
#include <stdio.h>

#include "save.h"

void summary_print_text(const struct save_ctx *ctx);
/* ok: the exit status is 0; error: the one-line failure or warning message, or NULL. */
void summary_print_json(FILE *out, const struct save_ctx *ctx, bool ok, const char *error);
/* "device NAME now STATE" or "devices: A STATE, B STATE (after reset)" into buf. */
const char *summary_device_states(const struct save_ctx *ctx, char *buf, size_t len);

#endif
