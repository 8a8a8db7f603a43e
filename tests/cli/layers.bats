#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
#
# lib/ is in layers (lib/Makemodule.am): the tools that only read streams
# or probe userfaultfd link no device code. The Makefile links them without
# the device libraries, so a reach for a device fails the build; these
# tests also catch a device module that moved into a lower library.

load helpers

# The names of the device layer's functions.
device_symbols='^(vmt_vfio_|vmt_iommufd_|vmt_mig_|vmt_device_)'

# defined functions of an installed-shape binary (a libtool wrapper's real program)
defined_functions() {
	local bin="$VMT_BUILDDIR/$1"
	[ -x "$VMT_BUILDDIR/.libs/$1" ] && bin="$VMT_BUILDDIR/.libs/$1"
	nm --defined-only "$bin" | awk '$2 ~ /^[Tt]$/ { print $3 }'
}

setup() {
	command -v nm >/dev/null || skip "nm (binutils) is not installed"
}

@test "layers: the control: vfio-mig-save carries the device layer" {
	vmt_require_tool vfio-mig-save
	run -0 defined_functions vfio-mig-save
	grep -Eq "$device_symbols" <<<"$output"
	grep -q '^vmt_mig_set_state$' <<<"$output"
}

@test "layers: migstream-cat has no device function" {
	vmt_require_tool migstream-cat
	run -0 defined_functions migstream-cat
	grep -q '^migstream_reader_new$' <<<"$output" || { echo "no reader in migstream-cat?"; false; }
	! grep -E "$device_symbols" <<<"$output"
}

@test "layers: uffd-probe has neither device nor stream functions" {
	vmt_require_tool uffd-probe
	run -0 defined_functions uffd-probe
	grep -q '^vmt_close_stdout' <<<"$output" || { echo "no lib/common in uffd-probe?"; false; }
	! grep -E "$device_symbols|^migstream_|^vmt_state_" <<<"$output"
}

@test "layers: the format tools include no device header" {
	cd "$VMT_SRCDIR"
	local found
	# migstream-cat names states (vfio/state.h, no syscalls); nothing else of lib/vfio or bridge
	found=$(grep -rn -e '#include "vfio/' -e '#include "bridge/' tools/migstream-cat tools/uffd-probe |
		grep -v '#include "vfio/state.h"' || true)
	[ -z "$found" ] || { echo "$found"; false; }
	grep -rq '#include "vfio/state.h"' tools/migstream-cat
}

@test "layers: lib/net uses stream and common only, and nothing below it uses lib/net" {
	cd "$VMT_SRCDIR"
	local found
	found=$(grep -rn -e '#include "vfio/' -e '#include "bridge/' lib/net || true)
	[ -z "$found" ] || { echo "lib/net reaches for a device: $found"; false; }
	found=$(grep -rn '#include "net/' lib/common lib/stream lib/vfio lib/bridge || true)
	[ -z "$found" ] || { echo "a lower layer includes lib/net: $found"; false; }
	grep -q 'net_ldadd = libvmt-net.la $(stream_ldadd)' lib/net/Makemodule.am
}
