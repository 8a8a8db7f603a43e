/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Compiler attributes, checked macros and constants shared by the library
 * and the tools, in the manner of util-linux's include/c.h.
 */
#ifndef VMT_C_H
#define VMT_C_H

#include <stddef.h>
#include <stdint.h>

/*
 * A printf-like function: fmt is the number of its format parameter, args
 * that of its first variadic one, or 0 when it takes a va_list. -Wformat
 * then checks every caller, and a format handed on from that parameter is
 * not "a string that is not a literal" to clang's -Wformat-nonliteral.
 */
#define VMT_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))

/* A function that never returns (it exits): callers need no return after it. */
#define VMT_NORETURN __attribute__((noreturn))

/*
 * 0, or a compile error when a is a pointer rather than an array: ARRAY_SIZE
 * of a pointer (an array parameter, a buffer from malloc) would quietly give
 * sizeof(pointer) / sizeof(element).
 */
#define VMT_IS_POINTER(a) __builtin_types_compatible_p(__typeof__(a), __typeof__(&(a)[0]))
#define VMT_MUST_BE_ARRAY(a) (sizeof(struct { int not_an_array : 1 - 2 * VMT_IS_POINTER(a); }) * 0)

/* The number of elements of an array (not of a pointer: that does not compile). */
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]) + VMT_MUST_BE_ARRAY(a))

/*
 * The struct that holds member at ptr, for a callback that gets a pointer to
 * an embedded member; ptr must point to member's type.
 */
#define container_of(ptr, type, member)                                             \
	({                                                                          \
		const __typeof__(((type *)0)->member) *vmt_member_ptr_ = (ptr);     \
		(type *)(void *)((char *)vmt_member_ptr_ - offsetof(type, member)); \
	})

#define NSEC_PER_SEC UINT64_C(1000000000)
#define NSEC_PER_MSEC UINT64_C(1000000)
#define NSEC_PER_USEC UINT64_C(1000)

#endif
