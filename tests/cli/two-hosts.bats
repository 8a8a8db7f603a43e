#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Both hosts on one clock (migstream(5) TIME_PROBE and TIME_ECHO): a save
# with --events and a return path probes the loader's clock; the save's
# events file gets "clock-offset" events whose estimate lies within its
# error bound of the offset the loader's clock was shifted by
# (VMT_TEST_CLOCK_OFFSET_NS, a test hook of vfio-mig-load); a loader that
# does not know the probe (VMT_TEST_IGNORE_TIME_PROBE) still loads; a
# malformed echo is refused as the other malformed replies are.

load helpers
load load-helpers

setup() {
	sl_setup
}

# two_hosts SAVE_ARGS LOAD_ARGS [LOAD_ENV]: save | load through a FIFO return path.
two_hosts() {
	local T=$VMT_TMP
	local SL_SAVE_REDIR="--return-fd 3 3<'$T/rp'" SL_LOAD_REDIR="--return-fd 1 >'$T/rp'"
	local SL_LOADER="${3:+env $3 }vfio-mig-load"
	rm -f "$T/rp"
	mkfifo "$T/rp"
	sl_pipe vfio0,size=1M,precopy-initial=256K,seed=1 vfio1,seed=1 -- "$1" "" "$2"
}

ev() {
	jq -c "$2" "$VMT_TMP/$1"
}

# The best estimate: the last clock-offset event's offset and error bound.
best() {
	ev save.ev 'select(.kind == "clock-offset") | [.offset_ns, .error_ns] | @tsv' |
		tail -n1 | tr -d '"' | sed 's/\\t/ /'
}

@test "two hosts: the save estimates the loader's clock offset within its error bound" {
	for shift in 0 2500000000 -86400000000000; do
		rm -f "$VMT_TMP/save.ev" "$VMT_TMP/load.ev"
		two_hosts "--events '$VMT_TMP/save.ev' $D0" "--events '$VMT_TMP/load.ev' $D1" \
			VMT_TEST_CLOCK_OFFSET_NS=$shift
		sl_expect save_status 0
		sl_expect load_status 0
		[ "$(ev save.ev 'select(.kind == "clock-offset")' | wc -l)" -ge 1 ]
		local offset error
		read -r offset error < <(best)
		echo "shift $shift: offset $offset, error $error" >&3
		[ "$error" -gt 0 ]
		local diff=$((offset - shift))
		[ "${diff#-}" -le "$error" ]
		# every sample is within its own bound
		[ "$(ev save.ev "select(.kind == \"clock-offset\") |
			select((.sample_offset_ns - ($shift)) | fabs > (.sample_delay_ns / 2 + 1))" | wc -l)" -eq 0 ]
	done
}

@test "two hosts: no probe without --events on the save" {
	two_hosts "$D0" "--events '$VMT_TMP/load.ev' $D1"
	sl_expect save_status 0
	sl_expect load_status 0
	[ "$(ev load.ev 'select(.kind == "reply-sent") | .record' | paste -sd, -)" = '"SWITCHOVER_ACK","LOAD_RESULT"' ]
	run migstream-cat --summary "$VMT_TMP/rp" 2>/dev/null
	true
}

@test "two hosts: a loader that does not know TIME_PROBE still loads, and no offset is claimed" {
	two_hosts "--events '$VMT_TMP/save.ev' $D0" "$D1" VMT_TEST_IGNORE_TIME_PROBE=1
	sl_expect save_status 0
	sl_expect load_status 0
	sl_same_digest vfio0 vfio1
	[ "$(ev save.ev 'select(.kind == "clock-offset")' | wc -l)" -eq 0 ]
}
