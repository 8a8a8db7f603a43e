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

# two_hosts SAVE_ARGS LOAD_ARGS [LOAD_ENV]: save | load through a FIFO
# return path, the forward stream kept in $VMT_TMP/fwd.vms.
two_hosts() {
	local T=$VMT_TMP
	local SL_SAVE_REDIR="--return-fd 3 3<'$T/rp'" SL_LOAD_REDIR="--return-fd 1 >'$T/rp'"
	local SL_LOADER="${3:+env $3 }vfio-mig-load"
	rm -f "$T/rp"
	mkfifo "$T/rp"
	sl_pipe vfio0,size=1M,precopy-initial=256K,seed=1 vfio1,seed=1 -- "$1" "tee '$T/fwd.vms'" "$2"
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
	# the loader answered no probe: it saw none
	! migstream-cat "$VMT_TMP/fwd.vms" | grep TIME_PROBE
	[ "$(ev load.ev 'select(.kind == "reply-sent") | .record' | paste -sd, -)" = '"SWITCHOVER_ACK","LOAD_RESULT"' ]
}

@test "two hosts: a loader that does not know TIME_PROBE still loads, and no offset is claimed" {
	two_hosts "--events '$VMT_TMP/save.ev' $D0" "$D1" VMT_TEST_IGNORE_TIME_PROBE=1
	sl_expect save_status 0
	sl_expect load_status 0
	sl_same_digest vfio0 vfio1
	# the probes were sent, and skipped
	migstream-cat "$VMT_TMP/fwd.vms" | grep -q TIME_PROBE
	[ "$(ev save.ev 'select(.kind == "clock-offset")' | wc -l)" -eq 0 ]
}

# bad_reply KIND RECORD: fake-destination answers STREAM_END with a malformed RECORD.
bad_reply() {
	local T=$VMT_TMP
	rm -f "$T/rp"
	mkfifo "$T/rp"
	sl_sim vfio0,close-reset=no,seed=3 -- bash -c "
		timeout -s KILL 20 vfio-mig-save --json --no-precopy --events '$T/save.ev' $D0 \
			--return-fd 3 3<'$T/rp' 2>'$T/save.err' |
			fake-destination --bad=$1 >'$T/rp' 2>'$T/load.err'
		echo \${PIPESTATUS[0]} >'$T/status'" || true
	read -r save_status <"$T/status"
	save_err=$(cat "$T/save.err")
	load_err=$(cat "$T/load.err")
	# exit 1 as every malformed reply, the source back to RUNNING
	sl_expect save_status 1
	sl_expect_state vfio0 state RUNNING
	[ "$(printf '%s\n' "$save_err" | grep -c .)" -eq 1 ]
	printf '%s\n' "$save_err" | jq -e '.error.exit_code == 1 and .error.errno == "EBADMSG" and (.error.message | test("bad reply from the destination: record [0-9]+: malformed '"$2"';"))'
}

@test "two hosts: a TIME_ECHO shorter than its fields is refused as a malformed reply" {
	bad_reply echo-short TIME_ECHO
}

@test "two hosts: a TIME_ECHO of a probe never sent is refused as a malformed reply" {
	bad_reply echo-probe TIME_ECHO
}

@test "two hosts: --timeline on the save's and the load's files gives the offset and its bound" {
	two_hosts "--events '$VMT_TMP/save.ev' $D0" "--events '$VMT_TMP/load.ev' $D1" \
		VMT_TEST_CLOCK_OFFSET_NS=0
	sl_expect save_status 0
	sl_expect load_status 0
	# one machine: the load's file is named as of another host
	sed -i 's/"host":"[^"]*"/"host":"the-other-host"/' "$VMT_TMP/load.ev"
	run migstream-cat --timeline "$VMT_TMP/save.ev" --timeline "$VMT_TMP/load.ev"
	[ "$status" -eq 0 ]
	[[ $output == *"clock: two hosts: the load's put on the save's wall clock, offset "*" ms +/- "*" ms"* ]]
	[[ $output == *"to the last destination device RUNNING"* ]]
}

@test "two hosts: the loader's events come back in LOAD_EVENT records, into the save's file" {
	two_hosts "--events '$VMT_TMP/save.ev' $D0" "--events '$VMT_TMP/load.ev' $D1"
	sl_expect save_status 0
	sl_expect load_status 0
	# the loader's lines, whole, as its own file has them
	ev save.ev 'select(.kind == "load-event") | .event' >"$VMT_TMP/back"
	[ "$(wc -l <"$VMT_TMP/back")" -ge 3 ]
	[ "$(jq -r .tool "$VMT_TMP/back" | sort -u)" = vfio-mig-load ]
	ev load.ev '.' | grep -Fxf "$VMT_TMP/back" | cmp - "$VMT_TMP/back"
	# the destination's resume arc is among them, with the clock estimate
	[ "$(ev save.ev 'select(.kind == "load-event" and .event.kind == "arc") | .event.to' | tail -n1)" = '"RUNNING"' ]
	ev save.ev 'select(.kind == "load-event") | .error_ns' | tail -n1 | grep -Eq '^[0-9]+$'
}

@test "two hosts: a LOAD_EVENT longer than 4096 bytes is refused as a malformed reply" {
	bad_reply event-long LOAD_EVENT
}

@test "two hosts: a LOAD_EVENT that is not an event's JSON object is refused as a malformed reply" {
	bad_reply event-json LOAD_EVENT
}

@test "two hosts: --timeline on the save's file alone shows both sides of the downtime" {
	two_hosts "--events '$VMT_TMP/save.ev' $D0" "--events '$VMT_TMP/load.ev' $D1"
	sl_expect save_status 0
	sl_expect load_status 0
	run migstream-cat --timeline "$VMT_TMP/save.ev" --svg "$VMT_TMP/t.svg"
	[ "$status" -eq 0 ]
	[[ $output == *"save events: $VMT_TMP/save.ev"* ]]
	[[ $output == *"load events: $VMT_TMP/save.ev"* ]]
	[[ $output == *"to the last destination device RUNNING"* ]]
	[[ $output == *"  save $D0"* ]] && [[ $output == *"  load $D1"* ]]
	[[ $output == *"destination write    write 1048576 bytes"* ]]
	[[ $output == *"resume arcs          RUNNING_P2P -> RUNNING"* ]]
	# the same breakdown as from the two files
	run migstream-cat --timeline "$VMT_TMP/save.ev" --timeline "$VMT_TMP/load.ev"
	local two=$output
	run migstream-cat --timeline "$VMT_TMP/save.ev"
	diff <(printf '%s\n' "$two" | grep -v '^load events:') <(printf '%s\n' "$output" | grep -v '^load events:')
	# on two hosts, the offset and its bound instead of "unknown"
	sed 's/"host":"[^"]*"/"host":"the-loader"/g' "$VMT_TMP/save.ev" |
		jq -c 'if .kind == "load-event" then . else (.host = "the-saver") end' >"$VMT_TMP/two.ev"
	run migstream-cat --timeline "$VMT_TMP/two.ev"
	[ "$status" -eq 0 ]
	[[ $output == *"clock: two hosts: the load's put on the save's wall clock, offset "*" ms +/- "*" ms"* ]]
}
