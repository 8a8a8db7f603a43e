#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
#
# vfio-mig-save | vfio-mig-load between two real mtty instances (Linux 6.12,
# one port: 24 bytes of pre-copy header + 36 bytes of port state), over the
# cdev + iommufd and over the legacy group + container; and mtty itself
# refusing a well-formed stream whose state is wrong.

load helpers

setup() {
	vmt_require_guest
	mtty_pairs
}

teardown() {
	mtty_remove_all
}

@test "mtty A -> pipe -> mtty B in stop-copy mode, cdev" {
	vfio-mig-save --no-precopy --json "$SRC" 2>"$T/save.json" |
		vfio-mig-load --json "$DST" 2>"$T/load.json"
	cat "$T/save.json" "$T/load.json"
	[ "$(json_num "$T/load.json" state_bytes)" -eq 60 ]
	[ "$(json_num "$T/load.json" stop_copy_bytes)" -eq 60 ]
	[ "$(json_str "$T/load.json" final_state)" = RUNNING ]
}

@test "mtty A -> pipe -> mtty B in pre-copy mode, cdev" {
	vfio-mig-save --precopy "$SRC" | vfio-mig-load --json "$DST" 2>"$T/load.json"
	cat "$T/load.json"
	[ "$(json_num "$T/load.json" precopy_initial_bytes)" -eq 24 ]
	[ "$(json_num "$T/load.json" stop_copy_bytes)" -eq 36 ]
	[ "$(json_str "$T/load.json" final_state)" = RUNNING ]
}

@test "mtty A -> pipe -> mtty B through the legacy group and container, by UUID" {
	vfio-mig-save --group "$SRC_UUID" | vfio-mig-load --group --json "$DST_UUID" 2>"$T/load.json"
	cat "$T/load.json"
	[ "$(json_num "$T/load.json" state_bytes)" -eq 60 ]
	[ "$(json_str "$T/load.json" final_state)" = RUNNING ]
}

@test "--then stop leaves mtty B in STOP; a second load from there works" {
	vfio-mig-save "$SRC" >"$T/stream"
	vfio-mig-load --then stop --json -i "$T/stream" "$DST" 2>"$T/load.json"
	[ "$(json_str "$T/load.json" final_state)" = STOP ]
	vfio-mig-load --json -i "$T/stream" "$DST" 2>"$T/load2.json"
	[ "$(json_str "$T/load2.json" final_state)" = RUNNING ]
}

# flip_byte FILE OFF: inverts one byte in place (busybox has od and dd).
flip_byte() {
	local byte
	byte=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
	printf "$(printf '\\%03o' $((byte ^ 0xff)))" | dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}

# A valid migstream of mtty A's state with byte OFF of the state inverted,
# or cut to LEN bytes: the stream checks pass, mtty must refuse it.
damaged_stream() {
	vfio-mig-save --no-precopy "$SRC" >"$T/good"
	migstream-cat --extract=0 "$T/good" >"$T/raw"
	[ "$(stat -c %s "$T/raw")" -eq 60 ]
	case $1 in
	--corrupt) flip_byte "$T/raw" "$2" ;;
	--truncate)
		head -c "$2" "$T/raw" >"$T/raw.short"
		mv "$T/raw.short" "$T/raw" ;;
	esac
	migstream-cat --wrap --mig-flags=0x7 --name=mtty "$T/raw" >"$T/bad"
}

@test "mtty refuses a corrupt state header (write fails EFAULT): exit 4, B reset" {
	damaged_stream --corrupt 0
	run vfio-mig-load -i "$T/bad" "$DST"
	echo "$output"
	[ "$status" -eq 4 ]
	[[ $output == *"the device rejected the state"* ]]
	[[ $output == *"device $DST reset, now RUNNING" ]]
	# B is usable again
	vfio-mig-load -q -i "$T/good" "$DST"
}

@test "mtty refuses a truncated state at RESUMING -> STOP (EINVAL): exit 4, B reset" {
	damaged_stream --truncate 40
	run vfio-mig-load -i "$T/bad" "$DST"
	echo "$output"
	[ "$status" -eq 4 ]
	[[ $output == *"the device rejected the loaded state (RESUMING -> STOP: Invalid argument)"* ]]
	[[ $output == *"device $DST reset, now RUNNING" ]]
	vfio-mig-load -q -i "$T/good" "$DST"
}

@test "a flipped stream byte never reaches mtty: exit 4, B reset" {
	vfio-mig-save --no-precopy "$SRC" >"$T/stream"
	local size
	size=$(stat -c %s "$T/stream")
	# inside the DATA payload, before DEVICE_END (32 + 32 bytes) and
	# STREAM_END (32 + 24 bytes)
	cp "$T/stream" "$T/flipped"
	flip_byte "$T/flipped" $((size - 64 - 56 - 10))
	run vfio-mig-load -i "$T/flipped" "$DST"
	echo "$output"
	[ "$status" -eq 4 ]
	[[ $output == *"mismatch; device $DST reset, now RUNNING" ]]
	vfio-mig-load -q -i "$T/stream" "$DST"
}

@test "a --map for a device the stream does not have: exit 4 at its first DATA record, both mtty targets untouched in RUNNING" {
	local c data_at
	c=$(mtty_create_cdev)
	local other=${c#* }
	vfio-mig-save --no-precopy "$SRC" >"$T/stream"
	data_at=$(migstream-cat -q -o offset,type "$T/stream" | awk '$2 == "DATA" { print $1; exit }')
	[ -n "$data_at" ]
	run sh -c "vfio-mig-load --map 0=$DST --map 1=$other <'$T/stream'"
	echo "$output"
	[ "$status" -eq 4 ]
	[ "$output" = "vfio-mig-load: error: <stdin>: record 2 (DATA) at byte $data_at: target $other was given for stream device 1, which the stream does not have (it has device 0); device $DST untouched, RUNNING; device $other untouched, RUNNING" ]
	run sh -c "vfio-mig-load --json --map 0=$DST --map 1=$other <'$T/stream' 2>'$T/load.json'"
	[ "$status" -eq 4 ]
	cat "$T/load.json"
	! grep -q '"reset": true' "$T/load.json"
	[ "$(grep -o '"final_state": "RUNNING"' "$T/load.json" | wc -l)" -eq 2 ]
	# both are as they were: each takes the stream
	vfio-mig-load -q -i "$T/stream" "$DST"
	vfio-mig-load -q -i "$T/stream" "$other"
}

@test "a summary file that cannot be written (/dev/full): exit 1, and mtty B stays loaded and RUNNING" {
	[ -c /dev/full ] || skip "no /dev/full in the guest"
	vfio-mig-save --no-precopy "$SRC" >"$T/stream"
	run vfio-mig-load -i "$T/stream" --summary-file /dev/full "$DST"
	echo "$output"
	[ "$status" -eq 1 ]
	[ "$output" = "vfio-mig-load: error: every device loaded, but /dev/full: cannot write the summary: No space left on device; device $DST now RUNNING" ]
	# loaded, not reset: the next load finds it RUNNING, as a loaded device is
	vfio-mig-load -q -i "$T/stream" "$DST"
}

@test "mtty-1 state into an mtty-2 instance: refused by type (exit 4); --force: mtty refuses it" {
	local c
	c=$(mtty_create_cdev mtty-2)
	local dst2=${c#* }
	vfio-mig-save "$SRC" >"$T/stream"
	run vfio-mig-load -i "$T/stream" "$dst2"
	echo "$output"
	[ "$status" -eq 4 ]
	[[ $output == *"is incompatible: mdev type differs: stream 'mtty-1', target 'mtty-2'"* ]]
	[[ $output == *"device $dst2 untouched, RUNNING" ]]
	# forced, the data reaches mtty, which checks the port count itself
	run vfio-mig-load --force -i "$T/stream" "$dst2"
	echo "$output"
	[ "$status" -eq 4 ]
	[[ $output == *"rejected"*"device $dst2 reset, now RUNNING" ]]
}

@test "SIGTERM while the sender stalls mid-stream: exit 1, mtty B reset out of RESUMING" {
	vfio-mig-save --no-precopy "$SRC" >"$T/stream"
	local data_at
	data_at=$(migstream-cat -q -o offset,type "$T/stream" | awk '$2 == "DATA" { print $1; exit }')
	[ -n "$data_at" ]
	# the DEVICE record arrives (B goes RESUMING), then nothing more; fd 3
	# (bats) closed so that background processes do not hold up the test
	mkfifo "$T/fifo"
	{ head -c "$data_at" "$T/stream"; exec sleep 60; } >"$T/fifo" 3>&- &
	local sender=$!
	vfio-mig-load "$DST" <"$T/fifo" 2>"$T/load.err" 3>&- &
	local load=$!
	# wait until the load is blocked reading (B is RESUMING by then)
	for i in $(seq 100); do
		grep -q "^State:.*S (sleeping)" "/proc/$load/status" 2>/dev/null && break
		sleep 0.05
	done
	sleep 0.2
	kill -TERM "$load"
	local status=0
	wait "$load" || status=$?
	kill "$sender"
	cat "$T/load.err"
	[ "$status" -eq 1 ]
	grep -q "interrupted by SIGTERM .*; device $DST reset, now RUNNING$" "$T/load.err"
	vfio-mig-load -q -i "$T/stream" "$DST"
}

@test "two mtty sources -> one stream -> two mtty targets, crossed with --map" {
	local c d
	c=$(mtty_create_cdev)
	d=$(mtty_create_cdev)
	local src2=${c#* } dst2=${d#* }
	vfio-mig-save "$SRC" "$src2" | vfio-mig-load --json --map 0="$dst2" --map 1="$DST" 2>"$T/load.json"
	cat "$T/load.json"
	[ "$(json_num "$T/load.json" state_bytes)" -eq 120 ]
	grep -q "\"index\": 0, \"target\": \"$dst2\", \"state_bytes\": 60," "$T/load.json"
	grep -q "\"index\": 1, \"target\": \"$DST\", \"state_bytes\": 60," "$T/load.json"
}

@test "an error inside an INIT_DATA_SENT record names INIT_DATA_SENT (issue 22, item 11): exit 4, B reset" {
	vfio-mig-save --precopy "$SRC" >"$T/stream"
	local at
	at=$(migstream-cat -q -o offset,type "$T/stream" | awk '$2 == "INIT_DATA_SENT" { print $1; exit }')
	[ -n "$at" ]
	# a byte of its payload (after the 32-byte header)
	cp "$T/stream" "$T/flipped"
	flip_byte "$T/flipped" $((at + 32 + 10))
	run vfio-mig-load -i "$T/flipped" "$DST"
	echo "$output"
	[ "$status" -eq 4 ]
	[[ $output == *"(INIT_DATA_SENT) at byte $at: payload checksum mismatch; device $DST reset, now RUNNING" ]]
	vfio-mig-load -q -i "$T/stream" "$DST"
}
