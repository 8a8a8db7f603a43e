#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
#
# vfio-mig-check on a real kernel (Linux 6.12, mtty), beyond the groups that
# tests/conformance runs one at a time: a whole run as README shows it, with
# the devices named in each form README gives (issue 22 items 14-16): TAP 13,
# every check passing with the state streamed through the temporary file,
# each device's state said at the end.  A VMM's bound fd is a device in use.

load helpers

setup() {
	vmt_require_guest
	mtty_devices 2
	KERNEL=$(uname -r)
}

teardown() {
	mtty_remove_all
}

@test "a whole run, DEV as vfioN and PEER as its mdev UUID: TAP 13, every check passes" {
	local tmp=$BATS_TEST_TMPDIR/tmp
	mkdir "$tmp"
	TMPDIR=$tmp run vfio-mig-check --yes -d "${DEV##*/}" -d "$UUID2"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "TAP version 13" ]
	[[ $output == *"# DEV: ${DEV##*/} ($DEV), migration flags 0x7"* ]]
	[[ $output == *"# PEER: $UUID2 ($DEV2), migration flags 0x7"* ]]
	# mtty's 24 + 36 bytes, through the migstream in the temporary file
	[[ $output == *"# DEV saved 60 bytes (24 in pre-copy)"* ]]
	[[ $output == *"ok "*" - the bytes out of the stream are DEV's: 60 of 60 bytes, XXH3-64 "*" as DEV's"* ]]
	printf '%s\n' "$output" | grep -Eq '^# 0 of [0-9]+ checks failed'
	[[ $output == *"# ${DEV##*/}: RUNNING at the end"* ]]
	[[ $output == *"# $UUID2: RUNNING at the end"* ]]
	# the temporary files were unlinked at once
	[ -z "$(ls -A "$tmp")" ]
}

@test "-d in each form: the cdev path, vfioN, the mdev UUID, fd:N of an unbound cdev" {
	local spec
	for spec in "$DEV" "${DEV##*/}" "$UUID"; do
		run vfio-mig-check --yes -d "$spec" -g datasize
		echo "$output"
		[ "$status" -eq 0 ]
		[[ $output == *"# DEV: $spec ($DEV), migration flags 0x7"* ]]
	done
	run sh -c 'exec 5<>"$1"; vfio-mig-check --yes -d fd:5 -g datasize' sh "$DEV"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"# DEV: fd:5 ($DEV), migration flags 0x7"* ]]
	[[ $output == *"# fd:5: RUNNING at the end"* ]]
}

@test "fd:N of a VMM (bound): the device is in use, refused and not touched" {
	# shellcheck disable=SC2016 # for the inner shell
	run vfio-fd-exec "$DEV" -- sh -c 'vfio-mig-check --yes -d fd:$VMT_DEVICE_FD -g fsm'
	echo "$output"
	[ "$status" -eq 1 ]
	[[ $output == *"vfio-mig-check: error: fd:"*": in use: "*"; not touched"* ]]
	[[ $output == *"vfio-fd-exec: device state RUNNING"* ]]
}
