#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The conventions every tool shares (team brief, "Project conventions"):
# --help to stdout with exit 0, --version as "<prog> (vfio-migtools) X.Y.Z",
# a bad option as one line plus "Try '<prog> --help' ..." and exit 2;
# --help in the one shape lib/common/cli.h describes; -z[LEVEL] with the level
# attached only. Tools not built (yet) are skipped.

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

# The shape of lib/common/cli.h: "Usage:", synopsis lines " PROG ...", a blank
# line, the description; option lines " -x, --long" or "     --long"; the
# four common options once each, worded alike; the exit status line; and
# "See PROG(1)." last. Nothing wider than 80 columns.
help_shape() {
	local tool=$1 help squeezed line
	vmt_require_tool "$tool"
	help=$("$tool" --help)
	squeezed=$(printf '%s\n' "$help" | sed 's/   */  /g')

	[ "$(printf '%s\n' "$help" | sed -n 1p)" = "Usage:" ] ||
		{ echo "$tool: the first line is not 'Usage:'" >&2; return 1; }
	[[ "$(printf '%s\n' "$help" | sed -n 2p)" == " $tool "* ]] ||
		{ echo "$tool: no synopsis ' $tool ...' on line 2" >&2; return 1; }
	# the synopsis lines, then one blank line, then the description
	printf '%s\n' "$help" | awk -v t=" $tool " 'NR > 1 && index($0, t) != 1 { exit !($0 == "") }' ||
		{ echo "$tool: the synopsis is not followed by a blank line" >&2; return 1; }
	for common in " -q, --quiet  say less: no summary or notices" \
		" -v, --verbose  say more (repeat for more)" \
		" -h, --help  display this help and exit" \
		" -V, --version  display the version and exit"; do
		[ "$(printf '%s\n' "$squeezed" | grep -cxF -- "$common")" -eq 1 ] ||
			{ echo "$tool: not once: '$common'" >&2; return 1; }
	done
	printf '%s\n' "$help" | grep -qxF "Exit status: 0 ok, 1 failure, 2 usage error, 3 unsupported, 4 bad data" ||
		{ echo "$tool: no exit status line" >&2; return 1; }
	[ "$(printf '%s\n' "$help" | tail -1)" = "See $tool(1)." ] ||
		{ echo "$tool: the last line is not 'See $tool(1).'" >&2; return 1; }
	while IFS= read -r line; do
		[ "${#line}" -le 80 ] || { echo "$tool: wider than 80: '$line'" >&2; return 1; }
		case $line in
		" -"[[:alnum:]]", --"[a-z]* | "     --"[a-z]* | " $tool "* | "  "*) ;;
		" -"*) echo "$tool: option line out of shape: '$line'" >&2; return 1 ;;
		esac
	done <<<"$help"
}

@test "help shape: migstream-cat" {
	help_shape migstream-cat
}

@test "help shape: vfio-mig-save" {
	help_shape vfio-mig-save
}

@test "help shape: vfio-mig-load" {
	help_shape vfio-mig-load
}

@test "help shape: vfio-precopy-info" {
	help_shape vfio-precopy-info
}

@test "help shape: iommufd-dirty" {
	help_shape iommufd-dirty
}

@test "help shape: uffd-probe" {
	help_shape uffd-probe
}

# -z[LEVEL] as zstd(1): the level attached (-z9, --compress=9) or absent;
# the next word is never the level. Settled before any device is opened.
@test "-z: the next word is an operand, never the level (vfio-mig-save)" {
	vmt_require_tool vfio-mig-save
	vmt_run_error 2 "invalid device '9'" vfio-mig-save -z 9 /dev/vfio/devices/vfio0
	vmt_run_error 2 "invalid device '9'" vfio-mig-save --compress 9 /dev/vfio/devices/vfio0
	# -z vfio0: vfio0 is the device (absent here), not a bad level
	vmt_run_error 1 "/dev/vfio/devices/vfio9: cannot open the device" vfio-mig-save -z /dev/vfio/devices/vfio9
	vmt_run_error 1 "cannot open the device" vfio-mig-save -z9 /dev/vfio/devices/vfio9
	vmt_run_error 1 "cannot open the device" vfio-mig-save --compress=9 /dev/vfio/devices/vfio9
	vmt_run_error 2 "invalid --compress argument: '20'" vfio-mig-save -z20 /dev/vfio/devices/vfio9
	vmt_run_error 2 "invalid --compress argument: '0'" vfio-mig-save --compress=0 /dev/vfio/devices/vfio9
	# an argument that looks like -zN belongs to its option
	vmt_run_error 1 "cannot open the device" vfio-mig-save -o -z5 /dev/vfio/devices/vfio9
	[ ! -e -z5 ]
}

@test "-z: the next word is an operand, never the level (migstream-cat)" {
	vmt_require_tool migstream-cat
	cd "$VMT_TMP"
	vmt_random_file raw 100
	vmt_run 0 migstream-cat --wrap -z raw
	vmt_run 0 migstream-cat --wrap -z9 raw
	vmt_run 0 migstream-cat --wrap --compress=9 raw
	vmt_run_error 2 "--wrap takes one input" migstream-cat --wrap -z 9 raw
	vmt_run_error 2 "invalid --compress argument: '0'" migstream-cat --wrap -z0 raw
}

@test "checkusage: vfio-mig-ls" {
	checkusage vfio-mig-ls
}

@test "help shape: vfio-mig-ls" {
	help_shape vfio-mig-ls
}

@test "checkusage: vfio-mig-check" {
	checkusage vfio-mig-check
}

@test "help shape: vfio-mig-check" {
	help_shape vfio-mig-check
}
