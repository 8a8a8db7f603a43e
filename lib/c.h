/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Compiler attributes shared by the library and the tools, in the manner of
 * util-linux's include/c.h.
 */
#ifndef VMT_C_H
#define VMT_C_H

/*
 * A printf-like function: fmt is the number of its format parameter, args
 * that of its first variadic one, or 0 when it takes a va_list. -Wformat
 * then checks every caller, and a format handed on from that parameter is
 * not "a string that is not a literal" to clang's -Wformat-nonliteral.
 */
#define VMT_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))

#endif
