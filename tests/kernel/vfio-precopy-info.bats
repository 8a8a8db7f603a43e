#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
#
# vfio-precopy-info on a real kernel: mtty (Linux 6.12) has PRE_COPY, reports
# 24 initial bytes and no dirty bytes, and a stop-copy size of 60 bytes; it
# returns 0 from read() at the temporary end of pre-copy data.

load helpers

setup() {
	vmt_require_guest
	mtty_devices
}

teardown() {
	mtty_remove_all
}

@test "mtty: flags, state, stop-copy size and pre-copy figures over the cdev" {
	run vfio-precopy-info -d "$DEV"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"migration flags:  STOP_COPY|P2P|PRE_COPY (0x7)"* ]]
	[[ $output == *"state:            RUNNING"* ]]
	[[ $output == *"stop-copy size:   60 bytes"* ]]
	[[ $output == *"pre-copy:         initial 24 bytes, dirty 0 bytes (in PRE_COPY)"* ]]
}

@test "mtty by UUID through the group: same figures, device usable afterwards" {
	run vfio-precopy-info --json --group -d "$UUID"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *'"access": "group"'* ]]
	[[ $output == *'"initial_bytes": 24, "dirty_bytes": 0'* ]]
	# the device went back to RUNNING: it can go to PRE_COPY again
	run vfio-precopy-info -d "$DEV"
	[ "$status" -eq 0 ]
	[[ $output == *"initial 24 bytes"* ]]
}

@test "mtty: --drain reads the 24 initial bytes (read() returns 0 at the end)" {
	run vfio-precopy-info --json --drain -d "$DEV"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *'"drained_bytes": 24, "drained_total_bytes": 24'* ]]
	[[ $output == *'"initial_bytes": 0, "dirty_bytes": 0'* ]]
}

# Issue 22 item 23: the rule the simulator's dirty-rate= follows now. A drain
# reads what the sample before reported (initial + dirty), then the temporary
# end; a drained device stays drained, nothing appears by itself.
@test "mtty: --drain --watch: each drain is what the sample before reported; drained, it stays drained" {
	run vfio-precopy-info --json --drain --watch 20ms --count 4 --bandwidth 1M -d "$DEV"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "$output" | grep -c '"initial_bytes": 24, "dirty_bytes": 0,.*"drained_bytes": 0, "drained_total_bytes": 0,')" -eq 1 ]
	[ "$(printf '%s\n' "$output" | grep -c '"initial_bytes": 0, "dirty_bytes": 0,.*"drained_bytes": 24, "drained_total_bytes": 24, "new_bytes_per_s": 0,')" -eq 1 ]
	[ "$(printf '%s\n' "$output" | grep -c '"initial_bytes": 0, "dirty_bytes": 0,.*"drained_bytes": 0, "drained_total_bytes": 24, "new_bytes_per_s": 0,')" -eq 2 ]
	[[ $output == *'"type": "estimate"'*'"new_bytes_per_s": 0,'* ]]
}

@test "mtty: --watch samples, --stream records verify" {
	run vfio-precopy-info -q --watch 50ms --count 3 -d "$DEV"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "$output" | grep -c ' PRE_COPY ')" -eq 3 ]
	vfio-precopy-info -q --stream --count 2 --watch 10ms -d "$DEV" >"$BATS_TEST_TMPDIR/info.vms"
	run migstream-cat --verify "$BATS_TEST_TMPDIR/info.vms"
	[ "$status" -eq 0 ]
}

@test "mtty: the report's reader goes away (EPIPE): exit 1, mtty back in RUNNING at once" {
	# issue 11 item 4: the watch must end on the write error, not wait for a signal
	run bash -c "timeout 20 vfio-precopy-info -d $DEV -w 100ms | head -1 >/dev/null
		exit \${PIPESTATUS[0]}"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ $output == *"<stdout>: writing the report: Broken pipe; device $DEV now RUNNING"* ]]
	# back in RUNNING: it can go to PRE_COPY again, and mtty starts a new session
	run vfio-precopy-info -d "$DEV"
	[ "$status" -eq 0 ]
	[[ $output == *"state:            RUNNING"* ]]
	[[ $output == *"initial 24 bytes"* ]]
}

@test "mtty: SIGTERM during a long --watch interval ends it at once, device RUNNING" {
	vfio-precopy-info -q --watch 1h -d "$DEV" >"$BATS_TEST_TMPDIR/out" 2>&1 &
	local pid=$!
	for _ in $(seq 100); do
		grep -q ' PRE_COPY ' "$BATS_TEST_TMPDIR/out" && break
		sleep 0.05
	done
	kill -TERM "$pid"
	for _ in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	! kill -0 "$pid" 2>/dev/null
	wait "$pid"
	run vfio-precopy-info -d "$DEV"
	[ "$status" -eq 0 ]
	[[ $output == *"state:            RUNNING"* ]]
}
