#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Pre-flight on the simulator: vfio-mig-save --describe writes the device
# records and no state; vfio-mig-load --dry-run runs a load's compatibility
# checks on it (or on a full save) and exits 0 or 4 with the reasons.
# Neither moves a device: the simulator counts every SET (requests=).

load helpers

setup() {
	vmt_sim_setup vfio-mig-save vfio-mig-load
	SRC=/dev/vfio/devices/vfio0
	DST=/dev/vfio/devices/vfio1
}

# sim SRC-EXTRA DST-EXTRA -- command
sim() {
	local src=$1 dst=$2
	shift 2
	"$SIM" --state-dir "$STATE" --device "vfio0,size=64K,precopy-initial=8K${src:+,$src}" \
		--device "vfio1,size=64K,precopy-initial=8K${dst:+,$dst}" "$@"
}

requests() {
	"$VMT_SRCDIR/tests/sim/vfiosim-state" --state-dir "$STATE" "$1" requests
}

@test "--describe: DEVICE and DEVICE_END records, no DATA, the device not moved" {
	vmt_run 0 sim "" "" -- vfio-mig-save --describe -d "$SRC" -o "$VMT_TMP/d.vms"
	[ "$(requests vfio0)" = 0 ]
	# the summary says what happened: a description, not a save of 0 bytes
	[[ $stderr == *"described 1 device: "*" of stream, no device state"* ]]
	[[ $stderr == *"vfio0: untouched, RUNNING"* ]]
	[[ $stderr != *"downtime"* ]]
	[[ $(migstream-cat "$VMT_TMP/d.vms") == *"DEVICE_END      0 -                     -       32       32 none ok    total_bytes=0 chunks=0"* ]]
	! migstream-cat "$VMT_TMP/d.vms" | grep -q ' DATA '
}

@test "--describe | --dry-run on a compatible target: exit 0, nothing moved" {
	vmt_run 0 sim "" "" -- sh -c 'vfio-mig-save --describe -d "$0" | vfio-mig-load --dry-run -d "$1"' \
		"$SRC" "$DST"
	[[ $stderr == *"$DST: stream device 0 ('$SRC') can be loaded"* ]]
	[ "$(requests vfio0)" = 0 ]
	[ "$(requests vfio1)" = 0 ]
}

@test "--dry-run on an incompatible target: exit 4, the reason in one line, untouched" {
	sim "" "" -- vfio-mig-save --describe -d "$SRC" -o "$VMT_TMP/d.vms"
	vmt_run 4 sim "" device=0x9999 -- vfio-mig-load --dry-run -d "$DST" -i "$VMT_TMP/d.vms"
	vmt_one_line_error vfio-mig-load \
		"$DST: stream device 0 \\('$SRC'\\) is incompatible: PCI device ID differs: stream 0x11e8, target 0x9999 \\(dry run: untouched, RUNNING\\)"
	[ "$(requests vfio1)" = 0 ]
}

@test "--dry-run: a target that lacks the stream's migration features" {
	sim "" "" -- vfio-mig-save --describe -d "$SRC" -o "$VMT_TMP/d.vms"
	vmt_run 4 sim "" flags=stop-copy -- vfio-mig-load --dry-run -d "$DST" -i "$VMT_TMP/d.vms"
	vmt_one_line_error vfio-mig-load "migration flags differ: .*target lacks PRE_COPY"
	vmt_run 3 sim "" flags=none -- vfio-mig-load --dry-run -d "$DST" -i "$VMT_TMP/d.vms"
	[ "$(requests vfio1)" = 0 ]
}

@test "--dry-run reads a full save to its end and verifies it, writes nothing" {
	sim "" "" -- vfio-mig-save -d "$SRC" --then running -o "$VMT_TMP/f.vms"
	vmt_run 0 sim "" "" -- vfio-mig-load --dry-run -d "$DST" -i "$VMT_TMP/f.vms"
	[ "$(requests vfio1)" = 0 ]
	# a flipped byte in the state: the reader's error, exit 4, still untouched
	cp "$VMT_TMP/f.vms" "$VMT_TMP/bad.vms"
	vmt_flip_byte "$VMT_TMP/bad.vms" 40000
	vmt_run 4 sim "" "" -- vfio-mig-load -q --dry-run -d "$DST" -i "$VMT_TMP/bad.vms"
	vmt_one_line_error vfio-mig-load "device $DST untouched, RUNNING"
	[ "$(requests vfio1)" = 0 ]
}

@test "--describe saves no state: no pre-copy or state options with it" {
	vmt_run_error 2 "--describe saves no state" vfio-mig-save --describe --then running -d "$SRC"
	vmt_run_error 2 "--describe saves no state" vfio-mig-save --describe --no-precopy -d "$SRC"
}

@test "a --describe stream loaded for real is refused by the device, which is reset" {
	sim "" "" -- vfio-mig-save --describe -d "$SRC" -o "$VMT_TMP/d.vms"
	vmt_run 4 sim "" "" -- vfio-mig-load -d "$DST" -i "$VMT_TMP/d.vms"
	[[ $stderr == *"rejected the loaded state"* ]]
}
