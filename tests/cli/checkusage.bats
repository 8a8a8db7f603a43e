#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The conventions every tool shares (team brief, "Project conventions"):
# --help to stdout with exit 0, --version as "<prog> (vfio-migtools) X.Y.Z",
# a bad option as one line plus "Try '<prog> --help' ..." and exit 2.
# Tools not built (yet) are skipped.

load helpers

checkusage() {
	local tool=$1
	vmt_require_tool "$tool"

	vmt_run 0 "$tool" --help
	[[ "$output" == *Usage:* ]] || { echo "$tool --help: no 'Usage:'" >&2; return 1; }
	[ -z "$stderr" ] || { echo "$tool --help wrote to stderr: $stderr" >&2; return 1; }
	vmt_run 0 "$tool" -h
	[[ "$output" == *Usage:* ]]

	vmt_run 0 "$tool" --version
	[[ "$output" =~ ^$tool\ \(vfio-migtools\)\ [0-9]+\.[0-9]+\.[0-9]+$ ]] ||
		{ echo "$tool --version: '$output'" >&2; return 1; }
	vmt_run 0 "$tool" -V
	[[ "$output" =~ ^$tool\ \(vfio-migtools\) ]]

	vmt_run 2 "$tool" --no-such-option-xyz
	[ -z "$output" ] || { echo "$tool: usage error wrote to stdout" >&2; return 1; }
	vmt_one_line_error "$tool" 'no-such-option-xyz'
	printf '%s\n' "$stderr" | grep -qx "Try '$tool --help' for more information."
}

@test "checkusage: migstream-cat" {
	checkusage migstream-cat
}

@test "checkusage: vfio-mig-save" {
	checkusage vfio-mig-save
}

@test "checkusage: vfio-mig-load" {
	checkusage vfio-mig-load
}

@test "checkusage: vfio-precopy-info" {
	checkusage vfio-precopy-info
}

@test "checkusage: iommufd-dirty" {
	checkusage iommufd-dirty
}

@test "checkusage: uffd-probe" {
	checkusage uffd-probe
}
