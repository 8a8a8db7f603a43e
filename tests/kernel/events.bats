#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
#
# --events (vfio-mig-events(5)) on real mtty devices (Linux 6.12): a save |
# load with the return path records both sides' arcs as the kernel took
# them, the replies, the exits, and migstream-cat --timeline breaks its
# downtime down; a load mtty refuses records the failing arc with its errno
# and the reset. The guest has no jq: lines are matched with grep.

load helpers

setup() {
	vmt_require_guest
	mtty_pairs
	mkfifo "$T/rp"
}

teardown() {
	mtty_remove_all
}

# arcs FILE: "FROM>TO:RESULT" of each arc event, comma separated: the
# tool's own, not those inside the loader's lines a save carries (load-event).
arcs() {
	sed -n 's/^{[^{]*"kind":"arc".*"from":"\([A-Z0-9_]*\)","to":"\([A-Z0-9_]*\)".*"result":"\([a-z]*\)".*/\1>\2:\3/p' "$1" |
		paste -sd, -
}

# Every line a whole object: starts with the common keys, ends with }
# (or blank: the padding before a 4 KiB boundary).
whole_lines() {
	! grep -v -e '^ *$' -e '^{"mono_ns":[0-9]*,"time":"[0-9T:.-]*Z","host":"[^"]*","tool":"vfio-mig-[a-z]*","pid":[0-9]*,"seq":[0-9]*,"kind":"[a-z-]*".*}$' "$1"
}

@test "events: save | load of mtty with the return path: both sides' arcs, the replies, the exits, the timeline" {
	vfio-mig-save --precopy --events "$T/save.ev" -d "$SRC" --return-fd 3 3<"$T/rp" 2>"$T/save.err" |
		vfio-mig-load --events "$T/load.ev" -d "$DST" --return-fd 1 >"$T/rp" 2>"$T/load.err"
	cat "$T/save.err" "$T/load.err" "$T/save.ev" "$T/load.ev"
	whole_lines "$T/save.ev"
	whole_lines "$T/load.ev"
	[ "$(arcs "$T/save.ev")" = "RUNNING>PRE_COPY:ok,PRE_COPY>PRE_COPY_P2P:ok,PRE_COPY_P2P>STOP_COPY:ok,STOP_COPY>STOP:ok" ]
	[ "$(arcs "$T/load.ev")" = "RUNNING>RESUMING:ok,RESUMING>STOP:ok,STOP>RUNNING_P2P:ok,RUNNING_P2P>RUNNING:ok" ]
	# mtty: 24 bytes of pre-copy, 36 of stop-copy
	grep -q '"kind":"precopy-round","device":"'"$SRC"'","round":0,"state":"PRE_COPY","bytes":0,.*"initial_bytes":24,' "$T/save.ev"
	grep -q '"kind":"device-data","device":"'"$SRC"'","direction":"read","phase":"stop-copy","bytes":36,' "$T/save.ev"
	grep -q '"kind":"device-data","device":"'"$DST"'","direction":"write","phase":"stop-copy","bytes":36,' "$T/load.ev"
	grep -q '"kind":"reply-sent","device":"'"$DST"'","record":"SWITCHOVER_ACK",.*"bytes":24' "$T/load.ev"
	grep -q '"kind":"reply-received","device":"'"$SRC"'","record":"SWITCHOVER_ACK",.*"bytes":24' "$T/save.ev"
	grep -q '"kind":"reply-received","record":"LOAD_RESULT","exit_code":0,' "$T/save.ev"
	tail -n1 "$T/save.ev" | grep -q '"kind":"exit","code":0,"outcome":"saved 1 device, '
	tail -n1 "$T/load.ev" | grep -q '"kind":"exit","code":0,"outcome":"loaded 1 device"'
	run migstream-cat --timeline "$T/save.ev" --timeline "$T/load.ev"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"downtime: "*" ms, from the switchover (threshold, after "*" pre-copy round"*") to the last destination device RUNNING"* ]]
	[[ $output == *"stop-copy read       read 36 bytes"* ]]
	[[ $output == *"resume arcs          RUNNING_P2P -> RUNNING"* ]]
}

@test "events: a load mtty refuses (mtty-2 target, --force): the failing write with its errno, the reset, the exit" {
	local c dst2
	c=$(mtty_create_cdev mtty-2)
	dst2=${c#* }
	run bash -c "vfio-mig-save --events '$T/save.ev' -d '$SRC' --return-fd 3 3<'$T/rp' |
		vfio-mig-load --force --events '$T/load.ev' -d '$dst2' --return-fd 1 >'$T/rp'; echo \"rc=\${PIPESTATUS[0]},\${PIPESTATUS[1]}\""
	echo "$output"
	cat "$T/save.ev" "$T/load.ev"
	[[ $output == *"rc=1,4"* ]]
	whole_lines "$T/load.ev"
	# what failed, and why, as the kernel said it: mtty refuses the first write (EFAULT)
	grep -q '"kind":"io-failed","device":"'"$dst2"'","call":"write","state":"RESUMING","offset":0,"result":"failed","errno":14,"error":"Bad address"' "$T/load.ev"
	grep -q '"kind":"recovery","device":"'"$dst2"'","step":"reset","state":"RESUMING",.*"result":"ok"' "$T/load.ev"
	grep -q '"kind":"failure",' "$T/load.ev"
	tail -n1 "$T/load.ev" | grep -q '"kind":"exit","code":4,'
	# the source heard it, went back to RUNNING, and recorded that too
	grep -q '"kind":"reply-received","record":"LOAD_RESULT","exit_code":4,' "$T/save.ev"
	grep -q '"kind":"recovery","device":"'"$SRC"'","step":"done","state":"RUNNING"' "$T/save.ev"
	tail -n1 "$T/save.ev" | grep -q '"kind":"exit","code":1,'
}
