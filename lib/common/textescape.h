/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Text that came from a stream (device names, drivers, host names) is
 * written to terminals and logs only through vmt_escape_text(): a stream
 * is network input, and its bytes must not drive the terminal that shows
 * them, split a one-line error, or reorder what is shown around them.
 */
#ifndef VMT_TEXTESCAPE_H
#define VMT_TEXTESCAPE_H

#include <stddef.h>

/* Room for the escaped form of n bytes: every byte may become "\xNN". */
#define VMT_ESCAPED_SIZE(n) (4 * (size_t)(n) + 1)

/*
 * Copies in to out (size bytes, NUL included) with every byte of these
 * written as \xNN (lower-case hex), everything else as it is:
 *   - C0 controls (newline, ESC, ...) and DEL;
 *   - C1 controls (U+0080..U+009F, which some terminals obey);
 *   - bytes that are not valid UTF-8 (stray continuations, overlong forms,
 *     surrogates, beyond U+10FFFF, sequences cut short);
 *   - the bidirectional controls U+061C, U+200E, U+200F, U+202A..U+202E and
 *     U+2066..U+2069, and the separators U+2028 and U+2029;
 *   - the backslash itself, so that an escape in the output is never
 *     ambiguous.
 * A character is never cut: when out is too small the copy ends before
 * it. Returns out.
 */
const char *vmt_escape_text(const char *in, char *out, size_t size);

#endif
