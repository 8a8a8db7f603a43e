#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
#
# migstream-cat --timeline (vfio-mig-events(5)): the breakdown of a fixed
# pair of events files against its golden text; the SVG rendered by a real
# renderer (rsvg-convert) with the downtime window and a read span where
# the SVG says they are; a save | load on the simulator whose breakdown adds
# up to its downtime; the errors.

load helpers
load load-helpers

GOLDEN="$VMT_SRCDIR/tests/cli/golden"

setup() {
	vmt_require_tool migstream-cat
}

# The breakdown's lines "  LABEL  N.NNN ms  P.P%" as "LABEL=N.NNN".
breakdown() {
	sed -n 's/^  \(.*[^ ]\) \+\([0-9][0-9.]*\) ms \+[0-9.]*%.*/\1=\2/p'
}

@test "timeline: the breakdown of a fixed save and load, as golden" {
	cd "$GOLDEN/timeline"
	run migstream-cat --timeline save.events --timeline load.events
	[ "$status" -eq 0 ]
	diff -u "$GOLDEN/timeline.txt" <(printf '%s\n' "$output")
	# the order of the files does not matter
	run migstream-cat --timeline load.events --timeline save.events
	[ "$status" -eq 0 ]
	diff -u <(sed 1,2d "$GOLDEN/timeline.txt") <(printf '%s\n' "$output" | sed 1,2d)
}

@test "timeline: the phases add up to the downtime" {
	cd "$GOLDEN/timeline"
	run migstream-cat --timeline save.events --timeline load.events
	[ "$status" -eq 0 ]
	local total sum
	total=$(printf '%s\n' "$output" | sed -n 's/^downtime: \([0-9.]*\) ms.*/\1/p')
	sum=$(printf '%s\n' "$output" | breakdown | cut -d= -f2 | paste -sd+ - | bc)
	# each of the eight rounded to a microsecond
	[ "$(echo "d = $sum - $total; if (d < 0) d = -d; d <= 0.005" | bc)" = 1 ]
}

@test "timeline: two hosts are put on their wall clocks, and the text says the offset is unknown" {
	sed 's/"host":"host-a"/"host":"host-b"/' "$GOLDEN/timeline/load.events" >"$VMT_TMP/load.events"
	run migstream-cat --timeline "$GOLDEN/timeline/save.events" --timeline "$VMT_TMP/load.events"
	[ "$status" -eq 0 ]
	[[ $output == *"clock: two hosts: each on its wall clock, as it is (their offset is not known here)"* ]]
	[[ $output == *"downtime: "*" ms, from the switchover (threshold, after 3 pre-copy rounds)"* ]]
}

# with_offset OFFSET_NS: the golden save's events with a clock-offset event.
with_offset() {
	cat "$GOLDEN/timeline/save.events"
	printf '{"mono_ns":23773400000000,"time":"2026-12-07T23:13:52.600000000Z","host":"host-a","tool":"vfio-mig-save","pid":5223,"seq":99,"kind":"clock-offset","probe":1,"offset_ns":%s,"error_ns":120000}\n' "$1"
}

@test "timeline: two hosts with the save's clock-offset: the load is moved onto the save's clock" {
	sed 's/"host":"host-a"/"host":"host-b"/' "$GOLDEN/timeline/load.events" >"$VMT_TMP/load.events"
	with_offset 0 >"$VMT_TMP/s0.events"
	with_offset 5000000 >"$VMT_TMP/s5.events"
	run migstream-cat --timeline "$VMT_TMP/s0.events" --timeline "$VMT_TMP/load.events"
	[ "$status" -eq 0 ]
	[[ $output == *"clock: two hosts: the load's put on the save's wall clock, offset +0.000 ms +/- 0.120 ms (from the return path's round trips)"* ]]
	local d0 d5
	d0=$(printf '%s\n' "$output" | sed -n 's/^downtime: \([0-9.]*\) ms.*/\1/p')
	run migstream-cat --timeline "$VMT_TMP/s5.events" --timeline "$VMT_TMP/load.events"
	[ "$status" -eq 0 ]
	[[ $output == *"offset +5.000 ms +/- 0.120 ms"* ]]
	d5=$(printf '%s\n' "$output" | sed -n 's/^downtime: \([0-9.]*\) ms.*/\1/p')
	# the loader's clock ran 5 ms ahead: its RUNNING came 5 ms earlier on the save's
	[ "$(echo "$d0 - $d5" | bc)" = 5.000 ]
}

@test "timeline: the SVG, rendered by rsvg-convert, shows the downtime window and a read where the SVG puts them" {
	command -v rsvg-convert >/dev/null || skip "rsvg-convert (librsvg2-bin) not installed"
	command -v python3 >/dev/null || skip "python3 not installed"
	cd "$GOLDEN/timeline"
	run migstream-cat --timeline save.events --timeline load.events --svg "$VMT_TMP/t.svg"
	[ "$status" -eq 0 ]
	# self-contained: no script, no reference out of the file
	! grep -Eq '<script|href=|url\(' "$VMT_TMP/t.svg"
	rsvg-convert -o "$VMT_TMP/t.png" "$VMT_TMP/t.svg"
	# where the SVG says the window and the first read span are
	local wx wy ww rx ry rw rh
	read -r wx wy ww < <(sed -n 's/.*id="downtime" x="\([0-9.]*\)" y="\([0-9.]*\)" width="\([0-9.]*\)".*/\1 \2 \3/p' "$VMT_TMP/t.svg")
	read -r rx ry rw rh < <(sed -n 's/.*class="span phase-2" x="\([0-9.]*\)" y="\([0-9]*\)" width="\([0-9.]*\)" height="\([0-9]*\)".*/\1 \2 \3 \4/p' "$VMT_TMP/t.svg" | head -n1)
	[ -n "$wx" ] && [ -n "$rx" ]
	run "$VMT_SRCDIR/tests/cli/png-pixel" "$VMT_TMP/t.png" \
		"$(echo "$wx + $ww / 2" | bc)" "$(echo "$wy + 3" | bc)" \
		"$(echo "$wx - 10" | bc)" "$(echo "$wy + 3" | bc)" \
		"$(echo "$rx + $rw / 2" | bc)" "$(echo "$ry + $rh / 2" | bc)"
	[ "$status" -eq 0 ]
	# inside the window, above the lanes: its colour; left of it: white; the read: blue
	[ "${lines[0]}" = "#fff1b8" ]
	[ "${lines[1]}" = "#ffffff" ]
	[ "${lines[2]}" = "#0072b2" ]
}

@test "timeline: a save | load on the simulator, with the return path" {
	sl_setup
	local T=$VMT_TMP
	local SL_SAVE_REDIR="--return-fd 3 3<'$T/rp'" SL_LOAD_REDIR="--return-fd 1 >'$T/rp'"
	mkfifo "$T/rp"
	sl_pipe vfio0,size=4M,precopy-initial=1M,seed=1 vfio1,seed=1 -- \
		"--events '$T/save.ev' $D0" "" "--events '$T/load.ev' $D1"
	sl_expect save_status 0
	sl_expect load_status 0
	run migstream-cat --timeline "$T/save.ev" --timeline "$T/load.ev" --svg "$T/t.svg"
	[ "$status" -eq 0 ]
	[[ $output == *"clock: one host: the monotonic clock, as it is"* ]]
	[[ $output == *"to the last destination device RUNNING"* ]]
	# the source device was read, the destination device resumed, each in its lane
	[[ $output == *"  save $D0"* ]] && [[ $output == *"  load $D1"* ]]
	[[ $output == *"stop-copy read       read 4194304 bytes"* ]]
	[[ $output == *"destination write    write 4194304 bytes"* ]]
	[[ $output == *"resume arcs          RUNNING_P2P -> RUNNING"* ]]
	local read
	read=$(printf '%s\n' "$output" | breakdown | sed -n 's/^stop-copy read=//p')
	[ "$(echo "$read > 0" | bc)" = 1 ]
	grep -q '<svg' "$T/t.svg"
}

@test "timeline: what it refuses" {
	cd "$GOLDEN/timeline"
	# no save: no switchover
	run migstream-cat --timeline load.events
	[ "$status" -eq 4 ]
	[[ $output == *"no switchover in these events"* ]]
	run migstream-cat --timeline save.events --timeline save.events
	[ "$status" -eq 2 ]
	run migstream-cat --timeline save.events --timeline load.events --timeline save.events
	[ "$status" -eq 2 ]
	run migstream-cat --svg "$VMT_TMP/t.svg" save.events
	[ "$status" -eq 2 ]
	run migstream-cat --timeline save.events some.vms
	[ "$status" -eq 2 ]
	printf '{"mono_ns":1,"kind":"start","tool":"vfio-mig-save"}\nnot json\n' >"$VMT_TMP/bad.events"
	run migstream-cat --timeline "$VMT_TMP/bad.events"
	[ "$status" -eq 4 ]
	[[ $output == *"bad.events: line 2: not an event of vfio-mig-events(5)"* ]]
	# blank lines (the padding before a 4 KiB boundary) are skipped
	sed '3i\            ' save.events >"$VMT_TMP/padded.events"
	run migstream-cat --timeline "$VMT_TMP/padded.events" --timeline load.events
	[ "$status" -eq 0 ]
	[[ $output == *"downtime: 38.548 ms"* ]]
	# a last line cut short (a killed tool) is skipped, not an error
	head -c -20 save.events >"$VMT_TMP/cut.events"
	run migstream-cat --timeline "$VMT_TMP/cut.events"
	[ "$status" -eq 0 ]
}
