#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
#
# vfio-mig-ls on a real kernel: mtty instances (Linux 6.12) with their
# migration flags (0x7), state and stop-copy size (60 bytes), DMA logging
# (mtty has the log ops, as stubs); an emulated device has no IOMMU to ask
# (IOMMU_GET_HW_INFO needs a physical device), so DIRTY is unknown. A
# device a VMM holds is busy and keeps its state.

load helpers

setup() {
	vmt_require_guest
	mtty_devices 2
}

teardown() {
	mtty_remove_all
}

# NAME CDEV GROUP ...: the raw line of one device
ls_line() {
	run vfio-mig-ls -rn -b "$@"
	echo "$output"
	[ "$status" -eq 0 ]
}

@test "mtty instances: cdev, group, driver, migration flags, state, stop-copy size, DMA logging" {
	local cdev=${DEV##*/} group
	group=$(mdev_group "$UUID")
	ls_line -o name,type,cdev,group,mdev-type,open,migration,state,stop-copy,dma-log,dirty "$UUID"
	[ "$output" = "$UUID mdev $cdev ${group##*/} mtty-1 ok STOP_COPY|P2P|PRE_COPY RUNNING 60 yes -" ]
	# both instances, by their cdev names
	run vfio-mig-ls -rn -o name "$DEV" "${DEV2##*/}"
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "$output" | sort)" = "$(printf '%s\n' "$UUID" "$UUID2" | sort)" ]
}

@test "the state is read, not changed: a device left in STOP is listed in STOP, twice" {
	run vfio-mig-save -d "$DEV" -o "$BATS_TEST_TMPDIR/s.vms"
	[ "$status" -eq 0 ]
	ls_line -o name,state "$UUID"
	[ "$output" = "$UUID STOP" ]
	ls_line -o name,state "$UUID"
	[ "$output" = "$UUID STOP" ]
}

@test "a device a VMM holds is busy, the other one is listed; the holder's device keeps its state" {
	run vfio-fd-exec "$DEV" -- vfio-mig-ls -rn -o name,open "$UUID" "$UUID2"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"$UUID busy"* ]]
	[[ $output == *"$UUID2 ok"* ]]
	[[ $output == *"vfio-fd-exec: device state RUNNING"* ]]
}

@test "-J on the real kernel: schema and the mtty facts" {
	run vfio-mig-ls -J -o name,migration,stop-copy,dma-log,dirty "$UUID"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *'"migration_flags": 7, "migration_flags_names": [ "STOP_COPY", "P2P", "PRE_COPY" ]'* ]]
	[[ $output == *'"schema": "vfio-mig-ls/2"'* ]]
	[[ $output == *'"stop_copy_bytes": 60'* ]]
	[[ $output == *'"dma_log": true'* ]]
	[[ $output == *'"dirty_tracking": null'* ]]
}

@test "a DEVICE none of the forms name is a usage error, exit 2, and no device is touched" {
	run vfio-mig-ls zz:00.1
	[ "$status" -eq 2 ]
	[[ $output == *"invalid device 'zz:00.1' (not vfioN, /dev/vfio/devices/vfioN, a PCI address or an mdev UUID)"* ]]
	# the cdev by a path that is not /dev/vfio/devices/vfioN
	run vfio-mig-ls "/dev/vfio/devices/../devices/${DEV##*/}"
	[ "$status" -eq 2 ]
	run vfio-mig-ls $'vfio0\nforged'
	[ "$status" -eq 2 ]
	[[ $output == *"invalid device 'vfio0\\x0aforged'"* ]]
	ls_line -o name,open,state "$UUID"
	[ "$output" = "$UUID ok RUNNING" ]
}
