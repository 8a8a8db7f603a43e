#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Pre-flight between real mtty instances (Linux 6.12): vfio-mig-save
# --describe | vfio-mig-load --dry-run answers "will it load?" and neither
# device's migration state changes (mtty keeps its state across a close, so
# a state set before is still there after, if nothing touched it).

load helpers

setup() {
	vmt_require_guest
	mtty_pairs
}

teardown() {
	mtty_remove_all
}

# the migration state of a device, as vfio-precopy-info reports it without moving it
state_of() {
	vfio-precopy-info --no-precopy -d "$1" | sed -n 's/^state: *//p'
}

@test "mtty: --describe | --dry-run says it loads; both devices keep their state" {
	run sh -c 'vfio-mig-save --describe -d "$0" | vfio-mig-load --dry-run -d "$1"' "$SRC" "$DST"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"$DST: stream device 0 ('$SRC') can be loaded"* ]]
	[ "$(state_of "$SRC")" = RUNNING ]
	[ "$(state_of "$DST")" = RUNNING ]
	# and the real migration it predicted goes through
	vfio-mig-save -d "$SRC" | vfio-mig-load -d "$DST"
}

@test "mtty: a target left in STOP stays in STOP through a dry run" {
	vfio-mig-save -d "$SRC" --then running | vfio-mig-load --then stop -d "$DST"
	[ "$(state_of "$DST")" = STOP ]
	vfio-mig-save --describe -d "$SRC" >"$T/d.vms"
	run vfio-mig-load --dry-run -d "$DST" -i "$T/d.vms"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(state_of "$DST")" = STOP ]
	# a full save, read to its end and verified, changes nothing either
	vfio-mig-save -d "$SRC" --then running >"$T/f.vms"
	run vfio-mig-load --dry-run -d "$DST" -i "$T/f.vms"
	[ "$status" -eq 0 ]
	[ "$(state_of "$DST")" = STOP ]
}

@test "mtty: an mtty-2 target is refused with the reason (exit 4), untouched" {
	local c other
	c=$(mtty_create_cdev mtty-2)
	other=${c#* }
	vfio-mig-save --describe -d "$SRC" >"$T/d.vms"
	run vfio-mig-load --dry-run -d "$other" -i "$T/d.vms"
	echo "$output"
	[ "$status" -eq 4 ]
	[[ $output == *"is incompatible: mdev type differs: stream 'mtty-1', target 'mtty-2' (dry run: untouched, RUNNING)"* ]]
	[ "$(state_of "$other")" = RUNNING ]
}
