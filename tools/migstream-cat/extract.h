/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * --extract=DEV: one device's state bytes, exactly as the device produced
 * them, each DATA record written only once it verified.
 */
#ifndef VMT_CAT_EXTRACT_H
#define VMT_CAT_EXTRACT_H

#include "cat.h"

int cat_extract_inputs(const struct cat_opts *o);

#endif
