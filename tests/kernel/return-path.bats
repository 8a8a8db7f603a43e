#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The return path between two real mtty instances (Linux 6.12): the
# loader's replies come back through a FIFO, as over ssh's standard output
# in the README example; the switchover-ack after mtty's 24 initial bytes;
# a load mtty refuses puts the source back to RUNNING; pre-copy info v1
# (6.12 has no v2). A destination that misbehaves (fake-destination, built
# by tests/cli/Makemodule.am) cannot hold mtty stopped or make the save
# believe a load it never had.

load helpers

setup() {
	vmt_require_guest
	mtty_pairs
	mkfifo "$T/rp"
}

teardown() {
	mtty_remove_all
}

@test "return path over a FIFO through a pipe: acked after mtty's 24 initial bytes, confirmed, v1 pre-copy info" {
	vfio-mig-save -v --precopy --summary-file "$T/save.json" -d "$SRC" --return-fd 3 3<"$T/rp" 2>"$T/save.err" |
		cat | vfio-mig-load -v --json -d "$DST" --return-fd 1 >"$T/rp" 2>"$T/load.err"
	cat "$T/save.err" "$T/load.err" "$T/save.json"
	grep -q '"load_confirmed": *true' "$T/save.json"
	grep -q "switchover-ack (initial section 1, 24 bytes loaded on the destination)" "$T/save.err"
	# the summary's first line says the destination confirmed, without -v too
	grep -q "^vfio-mig-save: saved 1 device: .*; the destination loaded 1 device\$" "$T/save.err"
	grep -q "switchover-ack for stream device 0 (initial section 1, 24 bytes loaded)" "$T/load.err"
	# the ack came before the switchover (the first arc into STOP_COPY)
	awk '/switchover-ack \(/ { a = NR } /-> STOP_COPY/ && !s { s = NR } END { exit !(a && s && a < s) }' "$T/save.err"
	# 6.12 has no VFIO_DEVICE_FEATURE_MIG_PRECOPY_INFOv2: v1, said with -v
	grep -q "pre-copy info v1 (the kernel does not offer v2)" "$T/save.err"
	grep -q '"precopy_info_v2": *false' "$T/save.json"
	[ "$(json_str "$T/load.err" final_state)" = RUNNING ]
	[ "$(json_str "$T/save.json" final_state)" = STOP ]
}

@test "return path: a load mtty refuses (mtty-2 target, --force) puts the source back to RUNNING, save exits 1" {
	local c dst2
	c=$(mtty_create_cdev mtty-2)
	dst2=${c#* }
	run bash -c "vfio-mig-save --summary-file '$T/save.json' -d '$SRC' --return-fd 3 3<'$T/rp' |
		vfio-mig-load --force -d '$dst2' --return-fd 1 >'$T/rp'; echo \"rc=\${PIPESTATUS[0]},\${PIPESTATUS[1]}\""
	echo "$output"
	cat "$T/save.json"
	[[ $output == *"rc=1,4"* ]]
	[[ $output == *"vfio-mig-save: error: "*"the destination failed to load (exit 4): "*"rejected"*"device $dst2 reset, now RUNNING; device $SRC now RUNNING"* ]]
	[ "$(json_str "$T/save.json" final_state)" = RUNNING ]
	# mtty keeps its state across close: A is really RUNNING, a new save works
	vfio-mig-save -q "$SRC" >/dev/null
}

@test "return path: the loader exits without a word: the source goes back to RUNNING" {
	run bash -c "vfio-mig-save --summary-file '$T/save.json' -d '$SRC' --return-fd 3 3<'$T/rp' |
		bash -c 'exec 1>&-; cat >/dev/null' >'$T/rp'; echo \"rc=\${PIPESTATUS[0]}\""
	echo "$output"
	[[ $output == *"rc=1"* ]]
	[[ $output == *"return channel was closed"* ]]
	[ "$(json_str "$T/save.json" final_state)" = RUNNING ]
}

# fake_dest SAVE_ARGS FAKE_ARGS: vfio-mig-save -d $SRC SAVE_ARGS, its replies
# from fake-destination FAKE_ARGS; the save is killed (no recovery) after
# 30 s. Sets output (the save's stderr, then "rc=STATUS") and took (seconds).
fake_dest() {
	local start=$SECONDS
	# a FIFO of its own each time: nothing of an earlier reply stream in it
	rm -f "$T/rp"
	mkfifo "$T/rp"
	run bash -c "timeout -s KILL 30 vfio-mig-save --summary-file '$T/save.json' $1 -d '$SRC' --return-fd 3 3<'$T/rp' |
		fake-destination $2 >'$T/rp'; echo \"rc=\${PIPESTATUS[0]}\""
	took=$((SECONDS - start))
	echo "$output"
	cat "$T/save.json" || true
}

@test "return path: acks after STREAM_END and never a result: mtty is RUNNING again after --return-timeout, a deadline" {
	fake_dest "--return-timeout 2s" "--ack --chatter=ack"
	[[ $output == *"rc=1"* ]]
	[[ $output == *"vfio-mig-save: error: stream complete, but no load result from the destination within 2.000 s; device $SRC now RUNNING"* ]]
	[ "$took" -lt 25 ]
	[ "$(json_str "$T/save.json" final_state)" = RUNNING ]
	vfio-mig-save -q "$SRC" >/dev/null
}

@test "return path: a successful LOAD_RESULT before the switchover is a failure: mtty RUNNING, never in STOP_COPY" {
	fake_dest "-v" "--ack --result=marker"
	[[ $output == *"rc=1"* ]]
	[[ $output == *"vfio-mig-save: error: the destination reported a successful load before any stop-copy data was sent; device $SRC now RUNNING"* ]]
	[[ $output != *"-> STOP_COPY"* ]]
	[ "$(json_str "$T/save.json" final_state)" = RUNNING ]
}

@test "return path: the destination's message is escaped and a malformed reply exits 1 (mtty RUNNING)" {
	fake_dest "--no-precopy" "--fail='forged\\r\\nvfio-mig-save: ok\\e[2J'"
	[[ $output == *"rc=1"* ]]
	[[ $output == *'failed to load (exit 1): forged\x0d\x0avfio-mig-save: ok\x1b[2J; device '*" now RUNNING"* ]]
	[ "$(json_str "$T/save.json" final_state)" = RUNNING ]
	fake_dest "--no-precopy" "--bad=device"
	[[ $output == *"rc=1"* ]]
	[[ $output == *"SWITCHOVER_ACK for device 1000, initial section 1, which was not sent; device $SRC now RUNNING"* ]]
	grep -q '"exit_code": *1' "$T/save.json"
}

@test "return path: a destination that stops reading: mtty is RUNNING again after --return-timeout" {
	local fake
	# mtty's stream fits any pipe: fill the FIFO's pipe (1 MiB, all but 64
	# bytes) first, as a destination that stopped reading long ago leaves it
	mkfifo "$T/fwd"
	exec 5<>"$T/fwd"
	fake-destination --fill-pipe >&5
	fake-destination --stall <"$T/fwd" >"$T/rp" &
	fake=$!
	run bash -c "timeout -s KILL 30 vfio-mig-save --no-precopy --return-timeout 1s --summary-file '$T/save.json' \
		-d '$SRC' --return-fd 3 3<'$T/rp' >'$T/fwd'"
	exec 5>&-
	wait "$fake"
	echo "$output"
	[ "$status" -eq 1 ]
	[[ $output == *"vfio-mig-save: error: <stdout>: at byte "*": the destination took no byte of the stream for 1.000 s (it stopped reading); device $SRC now RUNNING"* ]]
	[ "$(json_str "$T/save.json" final_state)" = RUNNING ]
}
