#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Parallel and multi-channel transfer between real mtty instances (Linux
# 6.12, issue 14): two pairs migrated at once in one save | load, each
# target written by its own thread; one stream over two pipes (two channels
# of a set), the loader started first, the channels given in any order.
# mtty's state is 60 bytes (24 pre-copy + 36 stop-copy) per device.

load helpers

setup() {
	vmt_require_guest
	mtty_pairs 2
}

teardown() {
	mtty_remove_all
}

# the migration state of a device, as vfio-precopy-info reports it without moving it
state_of() {
	vfio-precopy-info --no-precopy -d "$1" | sed -n 's/^state: *//p'
}

# each_device_json FILE KEY: KEY of every device object in a one-line summary, one per line
each_device_json() {
	grep -o "\"$2\": *[0-9.]*" "$1" | sed 's/.*: *//'
}

@test "two mtty pairs in parallel in one save | load: each target written by its writer, both RUNNING" {
	vfio-mig-save -d "$SRC" -d "$SRC1" | vfio-mig-load --json -d "$DST" -d "$DST1" 2>"$T/load.json"
	cat "$T/load.json"
	# the last state_bytes of the one-line document is the top level: both devices, 60 each
	[ "$(json_num "$T/load.json" state_bytes)" -eq 120 ]
	[ "$(each_device_json "$T/load.json" writer_bytes | tr '\n' ' ')" = "60 60 " ]
	[ "$(each_device_json "$T/load.json" channels | tr '\n' ' ')" = "1 1 " ]
	[ "$(state_of "$DST")" = RUNNING ]
	[ "$(state_of "$DST1")" = RUNNING ]
}

@test "two mtty pairs with pre-copy, crossed with --map, -v: a writer line per device" {
	vfio-mig-save --precopy -d "$SRC" -d "$SRC1" |
		vfio-mig-load -v --map 0="$DST1" --map 1="$DST" 2>"$T/load.err"
	cat "$T/load.err"
	grep -q "device 0: writer 60 B in .* s, queue peak .*, from 1 channel, loaded after" "$T/load.err"
	grep -q "device 1: writer 60 B in" "$T/load.err"
}

@test "one target refusing its state in its writer: exit 4, both targets reset" {
	# stream device 1 from an mtty-2 (two ports) into an mtty-1 target:
	# --force passes the type check, mtty refuses the state itself
	local c
	c=$(mtty_create_cdev mtty-2)
	vfio-mig-save -d "$SRC" -d "${c#* }" >"$T/s.vms"
	run vfio-mig-load --force -d "$DST" -d "$DST1" -i "$T/s.vms"
	echo "$output"
	[ "$status" -eq 4 ]
	[[ $output == *"device $DST reset, now RUNNING; device $DST1 reset, now RUNNING" ]]
	[ "$(state_of "$DST")" = RUNNING ]
	[ "$(state_of "$DST1")" = RUNNING ]
}

@test "one stream over two FIFOs: loader first, channels given in the other order" {
	mkfifo "$T/c0" "$T/c1"
	vfio-mig-load --json -d "$DST" -d "$DST1" -i "$T/c1" -i "$T/c0" 2>"$T/load.json" &
	local load=$!
	vfio-mig-save -d "$SRC" -d "$SRC1" -o "$T/c0" -o "$T/c1"
	wait $load
	cat "$T/load.json"
	[ "$(json_num "$T/load.json" state_bytes)" -eq 120 ]
	[ "$(state_of "$DST")" = RUNNING ]
	[ "$(state_of "$DST1")" = RUNNING ]
}

@test "one stream over two pipes, as inherited fds: save -o fd:3 -o fd:4, load -i fd:5 -i fd:6" {
	mkfifo "$T/p0" "$T/p1"
	# the loader's fds 5 and 6 are pipes (from cat), the save's 3 and 4 the
	# FIFOs the cats read: each end opens in whatever order it likes
	vfio-mig-load -d "$DST" -d "$DST1" -i fd:6 -i fd:5 5< <(cat "$T/p0") 6< <(cat "$T/p1") 2>"$T/load.err" &
	local load=$!
	vfio-mig-save -d "$SRC" -d "$SRC1" -o fd:3 -o fd:4 3>"$T/p0" 4>"$T/p1"
	wait $load || { cat "$T/load.err"; return 1; }
	[ "$(state_of "$DST")" = RUNNING ]
	[ "$(state_of "$DST1")" = RUNNING ]
}

@test "a channel missing: exit 4, both targets untouched, the error names what is missing" {
	vfio-mig-save -d "$SRC" -d "$SRC1" -o "$T/c0.vms" -o "$T/c1.vms"
	run vfio-mig-load -d "$DST" -d "$DST1" -i "$T/c1.vms"
	echo "$output"
	[ "$status" -eq 4 ]
	# the set is refused before any DEVICE record: no target was touched
	[[ $output == *"the other channels are missing"*"device $DST untouched, RUNNING; device $DST1 untouched, RUNNING" ]]
	[ "$(state_of "$DST")" = RUNNING ]
}
