#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
#
# vfio-mig-ls on the simulator (tests/sim): simulated PCI functions and
# mdevs, their migration facts, busy devices, the output forms, and that no
# device's state is touched.

load helpers

UUID=5a1e0000-0000-4000-8000-000000000001

setup() {
	vmt_sim_setup vfio-mig-ls
	SYSFS="$VMT_TMP/sys"
}

# sim -- command...: four devices: pre-copy, stop-copy only with DMA
# logging, an mdev, one without migration.
sim() {
	"$SIM" --state-dir "$STATE" --sysfs "$SYSFS" \
		--device vfio0,size=64M \
		--device vfio1,flags=stop-copy,dma-logging=yes,dirty-tracking=no,data-size=1536K \
		--device "vfio2,mdev=$UUID,mdev-type=mtty-1" \
		--device vfio3,flags=none "$@"
}

sim_state() {
	"$VMT_SRCDIR/tests/sim/vfiosim-state" --state-dir "$STATE" "$1" "$2"
}

@test "lists PCI functions and mdevs with their migration facts" {
	vmt_run 0 sim -- vfio-mig-ls -r -n -b
	[ "${lines[0]}" = "0000:01:00.0 vfio0 0 vfio-pci 1234:11e8 ok STOP_COPY|P2P|PRE_COPY RUNNING 67108864 no yes" ]
	[ "${lines[1]}" = "0000:01:00.1 vfio1 1 vfio-pci 1234:11e8 ok STOP_COPY RUNNING 1572864 yes no" ]
	[ "${lines[2]}" = "0000:01:00.3 vfio3 3 vfio-pci 1234:11e8 ok none - - no yes" ]
	[ "${lines[3]}" = "$UUID vfio2 2 vfio_mdev - ok STOP_COPY|P2P|PRE_COPY RUNNING 1048576 no yes" ]
	[ "${#lines[@]}" -eq 4 ]
	[ -z "$stderr" ]
}

@test "the table: headings, aligned columns, sizes as lsblk writes them" {
	vmt_run 0 sim -- vfio-mig-ls -o name,group,stop-copy,dma-log
	[ "${lines[0]}" = "NAME                                 GROUP STOP-COPY DMA-LOG" ]
	[ "${lines[1]}" = "0000:01:00.0                             0       64M no" ]
	[ "${lines[2]}" = "0000:01:00.1                             1      1.5M yes" ]
	[ "${lines[3]}" = "0000:01:00.3                             3         - no" ]
	[ "${lines[4]}" = "$UUID     2        1M no" ]
}

@test "listing reads, never changes: no SET, no reset on any device" {
	vmt_run 0 sim -- vfio-mig-ls
	for dev in vfio0 vfio1 vfio2; do
		[ "$(sim_state "$dev" requests)" = 0 ]
		[ "$(sim_state "$dev" transitions)" = 0 ]
		[ "$(sim_state "$dev" resets)" = 0 ]
	done
}

@test "-J: the schema key, one object per device, numbers, booleans and nulls" {
	vmt_run 0 sim -- vfio-mig-ls -J
	[ "$(jq -r .schema <<<"$output")" = vfio-mig-ls/2 ]
	[ "$(jq '.devices | length' <<<"$output")" = 4 ]
	[ "$(jq -c '.devices[0]' <<<"$output")" = '{"name":"0000:01:00.0","cdev":"vfio0","group":0,"driver":"vfio-pci","id":"1234:11e8","open":"ok","migration_flags":7,"migration_flags_names":["STOP_COPY","P2P","PRE_COPY"],"state":"RUNNING","stop_copy_bytes":67108864,"dma_log":false,"dirty_tracking":true}' ]
	[ "$(jq -c '.devices[1] | [.migration_flags, .migration_flags_names]' <<<"$output")" = '[1,["STOP_COPY"]]' ]
	[ "$(jq -c '.devices[2] | [.migration_flags, .migration_flags_names, .state, .stop_copy_bytes]' <<<"$output")" = '[0,[],null,null]' ]
	[ "$(jq -c '.devices[3] | [.name, .id]' <<<"$output")" = "[\"$UUID\",null]" ]
	# not opened: the flags unknown, both keys null
	vmt_run 0 sim -- vfio-mig-ls -J --no-open vfio0
	[ "$(jq -c '.devices[0] | [.migration_flags, .migration_flags_names, .stop_copy_bytes]' <<<"$output")" = '[null,null,null]' ]
}

@test "-o: chosen columns, +LIST after the default ones, JSON keys follow" {
	vmt_run 0 sim -- vfio-mig-ls -rn -o TYPE,mdev-type,Name "$UUID"
	[ "$output" = "mdev mtty-1 $UUID" ]
	vmt_run 0 sim -- vfio-mig-ls -rn -o +type vfio0
	[ "$output" = "0000:01:00.0 vfio0 0 vfio-pci 1234:11e8 ok STOP_COPY|P2P|PRE_COPY RUNNING 64M no yes pci" ]
	vmt_run 0 sim -- vfio-mig-ls -J -o name,mdev-type,dirty 01:00.1
	[ "$(jq -c '.devices[0]' <<<"$output")" = '{"name":"0000:01:00.1","mdev_type":null,"dirty_tracking":false}' ]
}

@test "DEVICE arguments: full and short PCI address, vfioN, cdev path, UUID" {
	vmt_run 0 sim -- vfio-mig-ls -rn -o name "$UUID" /dev/vfio/devices/vfio1 vfio3 01:00.0
	[ "$output" = "$(printf '%s\n' 0000:01:00.0 0000:01:00.1 0000:01:00.3 "$UUID")" ]
	vmt_run 0 sim -- vfio-mig-ls -rn -o name 0000:01:00.1
	[ "$output" = 0000:01:00.1 ]
}

@test "a DEVICE that is not a VFIO device here: one line, exit 1" {
	vmt_run 1 sim -- vfio-mig-ls 0000:09:00.0
	vmt_one_line_error vfio-mig-ls '^vfio-mig-ls: error: 0000:09:00\.0: not a VFIO device on this host$'
	[ -z "$output" ]
}

@test "a DEVICE that is none of the forms: a usage error (exit 2) before anything is opened" {
	vmt_run 2 sim -- vfio-mig-ls zz:00.1
	vmt_one_line_error vfio-mig-ls "^vfio-mig-ls: invalid device 'zz:00\\.1' \\(not vfioN, /dev/vfio/devices/vfioN, a PCI address or an mdev UUID\\)$"
	vmt_run 2 sim -- vfio-mig-ls --no-open /sys/bus/pci/devices/0000:01:00.0
	vmt_one_line_error vfio-mig-ls "invalid device '/sys/bus/pci/devices/0000:01:00\\.0'"
	vmt_run 2 sim -- vfio-mig-ls -J $'vfio0\n0000:01:00.1'
	vmt_one_line_error vfio-mig-ls "invalid device 'vfio0\\\\x0a0000:01:00\\.1'"
	[ -z "$output" ]
	for dev in vfio0 vfio1 vfio2 vfio3; do
		[ "$(sim_state "$dev" requests)" = 0 ]
	done
}

@test "a device in use is listed as busy, with its sysfs facts, and not taken" {
	vmt_run 0 "$SIM" --state-dir "$STATE" --device vfio0,busy=yes --device vfio1 \
		-- vfio-mig-ls -rn
	[ "${lines[0]}" = "0000:01:00.0 vfio0 0 vfio-pci 1234:11e8 busy - - - - -" ]
	[[ "${lines[1]}" == "0000:01:00.1 vfio1 1 vfio-pci 1234:11e8 ok "* ]]
}

@test "a device another process holds (a VMM's fd) is busy; the holder keeps its state" {
	local holder="$VMT_BUILDDIR/tests/kernel/vfio-fd-exec"
	[ -x "$holder" ] || skip "tests/kernel/vfio-fd-exec not built"
	vmt_run 0 sim -- "$holder" vfio0 -- vfio-mig-ls -rn -o name,open vfio0 vfio1
	[ "${lines[0]}" = "0000:01:00.0 busy" ]
	[ "${lines[1]}" = "0000:01:00.1 ok" ]
	[ "${lines[2]}" = "vfio-fd-exec: device state RUNNING" ]
}

@test "-v says why a device could not be opened" {
	vmt_run 0 "$SIM" --state-dir "$STATE" --device vfio0,busy=yes -- vfio-mig-ls -v -o name
	[[ "$stderr" == *"0000:01:00.0: cannot open: Device or resource busy"* ]]
}

@test "a device only its group reaches (no cdev): listed from sysfs" {
	sim -- true
	local dir="$SYSFS/bus/pci/devices/0000:02:00.0"
	mkdir -p "$dir" "$SYSFS/bus/pci/drivers/mlx5_vfio_pci" "$SYSFS/bus/pci/devices/0000:03:00.0"
	ln -s ../../../../bus/pci/drivers/mlx5_vfio_pci "$dir/driver"
	printf '0x15b3\n' >"$dir/vendor"
	printf '0x101e\n' >"$dir/device"
	# a network card on its own driver is no VFIO device
	mkdir -p "$SYSFS/bus/pci/drivers/e1000e"
	ln -s ../../../../bus/pci/drivers/e1000e "$SYSFS/bus/pci/devices/0000:03:00.0/driver"
	vmt_run 0 sim -- vfio-mig-ls -rn -o name,cdev,driver,id,open
	[ "${lines[3]}" = "0000:02:00.0 - mlx5_vfio_pci 15b3:101e no-node" ]
	[[ "$output" != *0000:03:00.0* ]]
}

@test "--no-open: sysfs facts only, no device opened" {
	vmt_run 0 sim -- vfio-mig-ls -rn --no-open vfio0
	[ "$output" = "0000:01:00.0 vfio0 0 vfio-pci 1234:11e8 - - - - - -" ]
	[ ! -e "$STATE/vfio0.state" ] || [ "$(sim_state vfio0 requests)" = 0 ]
}

@test "no VFIO device: nothing on stdout, a notice on stderr (not with -q); JSON an empty list" {
	vmt_run 0 "$SIM" --state-dir "$STATE" --sysfs "$SYSFS" --device vfio0 \
		-- sh -c 'rm -rf "$VFIOSIM_SYSFS"/bus/*/devices/* && vfio-mig-ls'
	[ -z "$output" ]
	[ "$stderr" = "vfio-mig-ls: no VFIO devices found" ]
	vmt_run 0 "$SIM" --state-dir "$STATE" --sysfs "$SYSFS" --device vfio0 -- vfio-mig-ls -q
	[ -z "$stderr" ]
	vmt_run 0 "$SIM" --state-dir "$STATE" --sysfs "$SYSFS" --device vfio0 -- vfio-mig-ls -J
	[ "$(jq -c . <<<"$output")" = '{"schema":"vfio-mig-ls/2","devices":[]}' ]
}

@test "usage errors: an unknown column, --json with --raw" {
	vmt_run_error 2 "invalid --output argument: 'name,size' \(unknown column 'size'\)" \
		vfio-mig-ls -o name,size
	vmt_run_error 2 "--json and --raw do not go together" vfio-mig-ls -J -r
}

@test "a reader that goes away ends the listing quietly (| head)" {
	vmt_run 0 sim -- "${VMT_READER_GONE[@]}" vfio-mig-ls
	[ -z "$stderr" ]
	vmt_run 0 sim -- "${VMT_READER_GONE[@]}" vfio-mig-ls -J
	[ -z "$stderr" ]
}
