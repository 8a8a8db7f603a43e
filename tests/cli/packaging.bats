#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
#
# What a packager relies on: man pages that mandoc reads without a complaint
# and that carry configure's version and date, and the distribution's
# hardening flags winning over the project's.

load helpers

# The pages make built from man/*.1 and man/*.5 (man/NAME.man).
built_pages() {
	ls "$VMT_BUILDDIR"/man/*.man
}

@test "man pages: mandoc -T lint finds nothing" {
	command -v mandoc >/dev/null || skip "mandoc not installed"
	local pages
	pages=$(built_pages)
	[ "$(wc -l <<<"$pages")" -eq 10 ]
	# shellcheck disable=SC2086
	run mandoc -T lint -W style $pages
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	[ -z "$output" ] || { echo "$output"; false; }
}

@test "man pages: version and date from configure, in every page" {
	local version date page
	version=$(sed -n 's/^PACKAGE_VERSION = //p' "$VMT_BUILDDIR/Makefile")
	date=$(sed -n 's/^PACKAGE_DATE = //p' "$VMT_BUILDDIR/Makefile")
	[[ $date =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}$ ]]
	for page in $(built_pages); do
		sed -n 2p "$page" | grep -qE "^\.TH [A-Z-]+ [15] $date \"vfio-migtools $version\" " ||
			{ echo "$page: $(sed -n 2p "$page")"; false; }
		! grep -q '@PACKAGE_' "$page"
	done
}

# A second build directory needs a source tree that is not configured in
# place (configure refuses one beside an in-tree build). Called by the test
# itself: a skip inside $(...) would end only the command substitution.
require_vpath_build() {
	[ ! -e "$VMT_SRCDIR/config.status" ] ||
		skip "the source tree is configured in place: no second build directory"
}

# configure a scratch build with these flags; print the compile line of one object
compile_line() {
	mkdir -p "$VMT_TMP/b" && cd "$VMT_TMP/b"
	env "$@" "$VMT_SRCDIR/configure" -q >configure.log 2>&1 || { cat configure.log; return 1; }
	make V=1 lib/common/libvmt_common_la-log.lo 2>&1 | grep -E -- '-c .*lib/common/log\.c' | head -1
}

@test "hardening: CPPFLAGS=-D_FORTIFY_SOURCE=3 survives into the compile lines" {
	local line
	require_vpath_build
	line=$(compile_line CPPFLAGS=-D_FORTIFY_SOURCE=3 CFLAGS=-O2)
	[ -n "$line" ] || { echo "no compile line of lib/common/log.c"; false; }
	[[ "$line" == *"-D_FORTIFY_SOURCE=3"* ]] || { echo "$line"; false; }
	[[ "$line" != *"-D_FORTIFY_SOURCE=2"* && "$line" != *"-U_FORTIFY_SOURCE"* ]] ||
		{ echo "$line"; false; }
	[[ "$line" == *"-fstack-protector-strong"* ]]
}

@test "hardening: without a level of its own, the build gets -D_FORTIFY_SOURCE=2 and -fcf-protection" {
	local line
	require_vpath_build
	line=$(compile_line CFLAGS=-O2)
	[ -n "$line" ] || { echo "no compile line of lib/common/log.c"; false; }
	[[ "$line" == *"-D_FORTIFY_SOURCE=2"* ]] || { echo "$line"; false; }
	if echo 'int x;' | ${CC:-cc} -fcf-protection -Werror -x c -c -o /dev/null - 2>/dev/null; then
		[[ "$line" == *"-fcf-protection"* ]] || { echo "$line"; false; }
	fi
}

@test "magic(5): file(1) names a migstream, its version and MIME type; other data is not one" {
	command -v file >/dev/null || skip "file(1) not installed"
	local magic="$VMT_SRCDIR/data/migstream.magic"
	run file -b -m "$magic" "$VMT_SRCDIR/tests/vectors/minimal.vms"
	[ "$output" = "vfio-migtools migstream, version 1" ] || { echo "$output"; false; }
	run file -b --mime-type -m "$magic" "$VMT_SRCDIR/tests/vectors/compressed.vms"
	[ "$output" = application/x-migstream ]
	head -c 64 /dev/zero >"$VMT_TMP/zeros"
	run file -b -m "$magic" "$VMT_TMP/zeros"
	[[ "$output" != *migstream* ]]
	# a future version says so
	{ printf '\x89VMS\r\n\x1a\n\0\0\0\2\0\0\0\1'; head -c 48 /dev/zero; } >"$VMT_TMP/v2"
	run file -b -m "$magic" "$VMT_TMP/v2"
	[ "$output" = "vfio-migtools migstream, version 2, flags 0x1" ] || { echo "$output"; false; }
}

@test "magic(5): make install puts it where migstream(5) says, and file -m reads it there" {
	command -v file >/dev/null || skip "file(1) not installed"
	make -s -C "$VMT_BUILDDIR" install-magicDATA DESTDIR="$VMT_TMP/root" >/dev/null
	local installed
	installed=$(find "$VMT_TMP/root" -type f)
	[[ "$installed" == "$VMT_TMP/root"*/share/vfio-migtools/magic/migstream ]] ||
		{ echo "installed: $installed"; false; }
	grep -q 'share/vfio-migtools/magic/migstream' "$VMT_SRCDIR/man/migstream.5"
	run file -b -m "$installed" "$VMT_SRCDIR/tests/vectors/minimal.vms"
	[ "$output" = "vfio-migtools migstream, version 1" ]
}

@test "one stream file extension (.vms, migstream(5) FILES) everywhere" {
	cd "$VMT_SRCDIR"
	local other
	# a stream file name with another extension, in the docs, man pages and
	# tests; QEMU's own migration streams are not migstreams and keep their
	# .mig (a line or a file that names QEMU)
	other=$(grep -rnE '[A-Za-z0-9_-]\.(mgs|mig)\b' README tests/README man \
		tests/cli tests/kernel tests/vectors tests/unit bench 2>/dev/null |
		grep -v -e '^tests/cli/packaging.bats:' -e qemu || true)
	[ -z "$other" ] || { echo "$other"; false; }
	grep -q '^\.BR \.vms ,$' man/migstream.5
	grep -qE '^!:ext[[:space:]]+vms$' data/migstream.magic
	[ -z "$(find tests/vectors -name '*.mgs')" ]
}
