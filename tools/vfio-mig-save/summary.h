/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What vfio-mig-save reports when it is done: a few lines on stderr, or
 * the same facts as one JSON object (--json on stderr, --summary-file).
 */
#ifndef VMT_SAVE_SUMMARY_H
#define VMT_SAVE_SUMMARY_H

#include <stdbool.h>
#include <stdio.h>

#include <json-c/json_object.h>

#include "save.h"

void summary_print_text(const struct save_ctx *ctx);

/* The "schema" of the JSON summary: "vfio-mig-save/1" (vfio-mig-save(1) documents it). */
#define SUMMARY_SCHEMA_VERSION 1

/*
 * The summary as one JSON document; ok and error from ctx->failure (with
 * error_line, the one-line message, as error.message). NULL without memory.
 */
struct json_object *summary_json(const struct save_ctx *ctx, const char *error_line);
/* The one error line of ctx->failure, ending with where each device is now; malloc'd. */
char *summary_error_line(const struct save_ctx *ctx);

#endif
