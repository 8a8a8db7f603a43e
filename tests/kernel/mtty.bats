#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
#
# mtty as a migration target: the reference helper moves one instance's state
# into another, and damaged streams are refused.  The numbers are what mtty
# (Linux 6.12) produces for a one-port instance: 24 bytes of header in
# pre-copy, 36 bytes of port state in stop-copy.

load helpers

setup() {
	vmt_require_guest
	mtty_pairs
}

teardown() {
	mtty_remove_all
}

@test "mtty instance appears as a cdev and a group" {
	[ -c "$SRC" ]
	group=$(mdev_group "$SRC_UUID")
	[ -c "$group" ]
	[ "$SRC" != "$DST" ]
	mtty_remove "$DST_UUID"
	[ ! -e "/sys/bus/mdev/devices/$DST_UUID" ]
}

@test "mtty migrates A -> B through PRE_COPY" {
	run mtty-migrate --save "$BATS_TEST_TMPDIR/stream" "$SRC" "$DST"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"src: migration flags 0x7 STOP_COPY P2P PRE_COPY"* ]]
	[[ $output == *"src: state RUNNING"* ]]
	[[ $output == *"src: stop_copy_length 60"* ]]
	[[ $output == *"src: precopy initial_bytes 24 dirty_bytes 0"* ]]
	[[ $output == *"src: pre-copy read 24 bytes"* ]]
	[[ $output == *"src: PRE_COPY -> STOP_COPY data_fd kept"* ]]
	[[ $output == *"src: stop-copy read 36 bytes"* ]]
	[[ $output == *"dst: RUNNING -> RESUMING data_fd new"* ]]
	[[ $output == *"dst: RESUMING -> STOP"* ]]
	[[ $output == *"migrated 60 bytes"* ]]
	[ "${lines[-1]}" = "dst: state RUNNING" ] || [ "${lines[-1]}" = "migrated 60 bytes" ]
	[ "$(stat -c %s "$BATS_TEST_TMPDIR/stream")" -eq 60 ]
}

@test "mtty migrates A -> B straight through STOP_COPY" {
	run mtty-migrate --no-precopy "$SRC" "$DST"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"src: RUNNING -> STOP_COPY data_fd new"* ]]
	[[ $output == *"src: stop-copy read 60 bytes"* ]]
	[[ $output == *"migrated 60 bytes"* ]]
}

@test "mtty refuses a stream with a corrupt header byte" {
	run mtty-migrate --corrupt 0 "$SRC" "$DST"
	echo "$output"
	[ "$status" -eq 3 ]
	[[ $output == *"corrupted byte 0"* ]]
	# mtty checks magic, version and port count as the header is written.
	[[ $output == *"dst: device refused the data on write: Bad address"* ]]
	[[ $output == *"dst: stream rejected"* ]]
	[[ $output != *"migrated"* ]]
}

@test "mtty refuses RESUMING -> STOP on a truncated stream" {
	run mtty-migrate --truncate 40 "$SRC" "$DST"
	echo "$output"
	[ "$status" -eq 3 ]
	[[ $output == *"dst: wrote 40 bytes"* ]]
	[[ $output == *"dst: RESUMING -> STOP failed: Invalid argument"* ]]
	[[ $output == *"dst: stream rejected"* ]]
}
