#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
#
# vfio-mig-save on real mtty instances (Linux 6.12, one port: 24 bytes of
# pre-copy header + 36 bytes of port state in stop-copy = 60 bytes): over
# the cdev + iommufd and over the legacy group + container, named by cdev,
# by mdev UUID, alone and with a second device; the stream checked with
# migstream-cat; failures leave the device usable.  The load half of the
# round trip lives in load.bats (vfio-mig-load's engineer).

load helpers

setup() {
	vmt_require_guest
	mtty_pairs
	# the second device: saved beside SRC, or a load's target
	OTHER=$DST
}

teardown() {
	mtty_remove_all
}

@test "save mtty in stop-copy mode over the cdev: 60 bytes, stream verifies" {
	vfio-mig-save --no-precopy -d "$SRC" -o "$T/s.vms" --summary-file "$T/sum.json"
	cat "$T/sum.json"
	[ "$(json_str "$T/sum.json" access)" = cdev ]
	[ "$(json_num "$T/sum.json" migration_flags)" -eq 7 ]
	grep -q '"migration_flags_names": \[ "STOP_COPY", "P2P", "PRE_COPY" \]' "$T/sum.json"
	[ "$(json_num "$T/sum.json" stop_copy_bytes)" -eq 60 ]
	[ "$(json_str "$T/sum.json" final_state)" = STOP ]
	migstream-cat --verify "$T/s.vms"
	migstream-cat --extract=0 "$T/s.vms" >"$T/state"
	[ "$(stat -c %s "$T/state")" -eq 60 ]
}

@test "save mtty with pre-copy: 24 bytes initial, 36 in stop-copy" {
	vfio-mig-save --precopy -d "$SRC" -o "$T/p.vms" --summary-file "$T/sum.json"
	cat "$T/sum.json"
	[ "$(json_num "$T/sum.json" precopy_initial_bytes)" -eq 24 ]
	[ "$(json_num "$T/sum.json" precopy_dirty_bytes)" -eq 0 ]
	[ "$(json_num "$T/sum.json" stop_copy_bytes)" -eq 36 ]
	[ "$(json_num "$T/sum.json" rounds)" -eq 1 ]
	[ "$(json_str "$T/sum.json" switchover)" = threshold ]
	migstream-cat --verify "$T/p.vms"
	migstream-cat "$T/p.vms" | grep -q PRECOPY_INFO
	migstream-cat "$T/p.vms" | grep -q PRECOPY_INITIAL
}

@test "name the device by its mdev UUID; the DEVICE record has the mdev type" {
	vfio-mig-save -d "$SRC_UUID" -o "$T/u.vms" --summary-file "$T/sum.json"
	[ "$(json_str "$T/sum.json" access)" = cdev ]
	[ "$(json_str "$T/sum.json" node)" = "$SRC" ]
	migstream-cat "$T/u.vms" | grep DEVICE | grep -q "mdev_type=mtty-1"
	migstream-cat --verify "$T/u.vms"
}

@test "--group saves through the legacy group and container" {
	vfio-mig-save --group -d "$SRC_UUID" -o "$T/g.vms" --summary-file "$T/sum.json"
	cat "$T/sum.json"
	[ "$(json_str "$T/sum.json" access)" = group ]
	[ "$(json_str "$T/sum.json" node)" = "$(mdev_group "$SRC_UUID")" ]
	[ "$(json_num "$T/sum.json" total_bytes)" -eq 60 ]
	migstream-cat --verify "$T/g.vms"
}

@test "mtty keeps its migration state across close: --then decides where the next save starts" {
	# Unlike mlx5, hisi_acc or qat (RUNNING in open_device), mtty does not
	# reset its state on close or open: a device left in STOP stays stopped.
	vfio-mig-save -q -d "$SRC" -o "$T/1.vms"
	vfio-mig-save -d "$SRC" -o "$T/2.vms" --then running --summary-file "$T/sum.json"
	cat "$T/sum.json"
	[ "$(json_str "$T/sum.json" start_state)" = STOP ]
	grep -q '"precopy": false' "$T/sum.json"
	vfio-mig-save -d "$SRC" -o "$T/3.vms" --summary-file "$T/sum.json"
	[ "$(json_str "$T/sum.json" start_state)" = RUNNING ]
	grep -q '"precopy": true' "$T/sum.json"
	cmp <(migstream-cat --extract=0 "$T/1.vms") <(migstream-cat --extract=0 "$T/3.vms")
	# --precopy refuses a stopped device rather than restarting it
	run vfio-mig-save --precopy -d "$SRC" -o "$T/4.vms"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"device is stopped (STOP); pre-copy needs it running"* ]]
}

@test "fd:N from a VMM: the tool neither binds nor closes it; the VMM sees the state left" {
	vfio-fd-exec "$SRC" -- sh -c 'vfio-mig-save -d fd:$VMT_DEVICE_FD -o "$0/f.vms" --summary-file "$0/sum.json"' "$T" >"$T/out"
	cat "$T/out" "$T/sum.json"
	grep -qx "vfio-fd-exec: device state STOP" "$T/out"
	[ "$(json_str "$T/sum.json" access)" = fd ]
	[ "$(json_num "$T/sum.json" total_bytes)" -eq 60 ]
	migstream-cat --verify "$T/f.vms"
	vfio-fd-exec "$SRC" -- sh -c 'vfio-mig-save --then running -d fd:$VMT_DEVICE_FD -o "$0/g.vms"' "$T" >"$T/out"
	grep -qx "vfio-fd-exec: device state RUNNING" "$T/out"
}

@test "fd:N and a failure: the VMM gets its device back RUNNING" {
	run vfio-fd-exec "$SRC" -- sh -c 'vfio-mig-save -d fd:$VMT_DEVICE_FD --control-fd 3 -o "$0/x.vms" 3</dev/null' "$T"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"control fd 3 was closed before the switchover; device fd:"*" now RUNNING"* ]]
	[[ "$output" == *"vfio-fd-exec: device state RUNNING"* ]]
}

@test "two mtty devices in one stream, P2P quiesce of both before STOP_COPY" {
	vfio-mig-save -v -d "$SRC" -d "$OTHER" -o "$T/m.vms" --summary-file "$T/sum.json" 2>"$T/log"
	cat "$T/log"
	migstream-cat --verify "$T/m.vms"
	[ "$(migstream-cat --extract=1 "$T/m.vms" | wc -c)" -eq 60 ]
	order=$(sed -n 's/.*: \/dev\/vfio\/devices\/vfio[0-9]*: [A-Z_0-9]* -> \([A-Z_0-9]*\)$/\1/p' "$T/log" | tr '\n' ' ')
	[[ "$order" == *"PRE_COPY_P2P PRE_COPY_P2P STOP_COPY STOP_COPY"* ]]
}

@test "SIGTERM during pre-copy puts mtty back to RUNNING; it still migrates" {
	mkfifo "$T/ctl"
	vfio-mig-save -d "$SRC" --control-fd 3 -o "$T/x.vms" --summary-file "$T/sum.json" 3<>"$T/ctl" &
	pid=$!
	for _ in $(seq 100); do
		[ -s "$T/x.vms" ] && break
		sleep 0.05
	done
	sleep 0.2
	kill -TERM $pid
	status=0
	wait $pid || status=$?
	cat "$T/sum.json"
	[ "$status" -eq 1 ]
	[ "$(json_str "$T/sum.json" final_state)" = RUNNING ]
	[ ! -e "$T/x.vms" ]
	vfio-mig-save -q -d "$SRC" -o "$T/after.vms"
	migstream-cat --verify "$T/after.vms"
}

@test "an output that fails (ENOSPC) is reported; the device is untouched" {
	run vfio-mig-save -d "$SRC" -o /dev/full
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"No space left on device"* ]]
	vfio-mig-save -q -d "$SRC" -o "$T/after.vms"
}

@test "a device being saved is busy for a second save (cdev and group)" {
	mkfifo "$T/ctl"
	vfio-mig-save -d "$SRC" --control-fd 3 -o "$T/first.vms" 3<>"$T/ctl" &
	pid=$!
	# the stream is written as a temporary beside first.vms until complete
	for _ in $(seq 100); do
		ls -A "$T" | grep -q '^\.first\.vms\.' && break
		sleep 0.05
	done
	[ ! -e "$T/first.vms" ]
	# a second save to the same -o fails (busy) and cannot take the first one's stream
	run vfio-mig-save -d "$SRC" -o "$T/first.vms"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"cannot open the device: device busy"* ]]
	run vfio-mig-save --group -d "$SRC_UUID" -o "$T/third.vms"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"cannot open the device: device busy"* ]]
	echo x >"$T/ctl"
	wait $pid
	migstream-cat --verify "$T/first.vms"
}

@test "a failed save leaves an existing -o file as it was; -o SYMLINK keeps the link" {
	vfio-mig-save -q --then running -d "$SRC" -o "$T/s.vms"
	cp "$T/s.vms" "$T/orig"
	ln -s s.vms "$T/link.vms"
	run vfio-mig-save -d /dev/vfio/devices/vfio99 -o "$T/link.vms"
	echo "$output"
	[ "$status" -eq 1 ]
	[ -L "$T/link.vms" ]
	cmp "$T/s.vms" "$T/orig"
	[ -z "$(ls -A "$T" | grep '^\.s\.vms\.' || true)" ]
	vfio-mig-save -q -d "$SRC" -o "$T/link.vms"
	[ -L "$T/link.vms" ]
	migstream-cat --verify "$T/s.vms"
	! cmp -s "$T/s.vms" "$T/orig"
}

@test "exit codes: a bad device name 2, a missing device 1, a device not in the stream 4" {
	run vfio-mig-save -d bogus -o "$T/x.vms"
	[ "$status" -eq 2 ]
	run vfio-mig-save -d /dev/vfio/devices/vfio99 -o "$T/x.vms"
	[ "$status" -eq 1 ]
	[ ! -e "$T/x.vms" ]
	vfio-mig-save -q --then running -d "$SRC" -o "$T/s.vms"
	local c
	c=$(mtty_create_cdev)
	run sh -c "vfio-mig-load --map 0=$OTHER --map 1=${c#* } <'$T/s.vms'"
	echo "$output"
	[ "$status" -eq 4 ]
	[[ "$output" == *"which the stream does not have"* ]]
	run migstream-cat --extract=1 "$T/s.vms"
	[ "$status" -eq 4 ]
}
