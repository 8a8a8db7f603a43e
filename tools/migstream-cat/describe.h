/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What a record says, as one listing row.
 */
#ifndef VMT_CAT_DESCRIBE_H
#define VMT_CAT_DESCRIBE_H

#include <stdbool.h>
#include <stdint.h>

#include "stream/migstream.h"
#include "fields.h"

/* A type the listing names and describes (the forward stream's, INIT_DATA_SENT, the reply records). */
bool cat_type_known(uint16_t type);

/* A record as the reader handed it out (decoded). */
void cat_describe_record(const struct migstream_record *rec, struct cat_row *row);

/* "2026-11-23T06:19:21.123456789Z" */
void cat_format_time(uint64_t time_ns, char *buf, size_t len);

#endif
