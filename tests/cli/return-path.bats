#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The return path on the simulator: vfio-mig-save --return-fd reads the
# replies of vfio-mig-load --return-fd through a FIFO, as over ssh. The save
# succeeds only on the loader's word; every failure of the load, of the
# loader or of the channel leaves the source RUNNING and the save exiting 1;
# the switchover waits for every device's switchover-ack; pre-copy info v2
# REINIT needs a new ack, also after the devices were quiesced.

load helpers
load load-helpers

setup() {
	sl_setup
}

# rp_pipe DEVSPEC... -- SAVE_ARGS LOADER
#   vfio-mig-save SAVE_ARGS --return-fd 3 3<fifo | LOADER >fifo, where LOADER
#   is a shell command (normally "vfio-mig-load ... --return-fd 1"); sets
#   save_status, load_status, save_err, load_err like sl_pipe, which runs it.
rp_pipe() {
	local specs=()
	while [ "$1" != -- ]; do
		specs+=("$1")
		shift
	done
	shift
	local T=$VMT_TMP
	local SL_LOADER=$2 SL_SAVE_REDIR="--return-fd 3 3<'$T/rp'" SL_LOAD_REDIR=">'$T/rp'"
	rm -f "$T/rp"
	mkfifo "$T/rp"
	sl_pipe "${specs[@]}" -- "$1" "" ""
}

# The source's state after the save: close-reset=no keeps it past the close.
SRC=vfio0,close-reset=no,seed=3

# save_before PATTERN1 PATTERN2: in the save's -v output, a line matching
# PATTERN1 comes before the first line matching PATTERN2.
save_before() {
	local a b
	a=$(printf '%s\n' "$save_err" | grep -n -m1 -- "$1" | cut -d: -f1)
	b=$(printf '%s\n' "$save_err" | grep -n -m1 -- "$2" | cut -d: -f1)
	if [ -z "$a" ] || [ -z "$b" ] || [ "$a" -ge "$b" ]; then
		echo "expected /$1/ (line ${a:-none}) before /$2/ (line ${b:-none}) in:" >&2
			return 1
	fi
}

@test "return path: the save succeeds on the loader's word, with the ack and the result in its summary" {
	rp_pipe "$SRC" vfio1,seed=3 -- "--json $D0" "vfio-mig-load -d $D1 --return-fd 1"
	sl_expect save_status 0
	sl_expect load_status 0
	sl_same_digest vfio0 vfio1
	sl_expect_state vfio0 state STOP
	sl_expect_state vfio1 state RUNNING
	[ "$(printf '%s\n' "$save_err" | jq -r .return_path)" = true ]
	[ "$(printf '%s\n' "$save_err" | jq -r .load_confirmed)" = true ]
	# the ack came in pre-copy, before the switchover
	local ack pre
	ack=$(printf '%s\n' "$save_err" | jq -r '.devices[0].switchover_ack_s')
	pre=$(printf '%s\n' "$save_err" | jq -r .precopy_s)
	[ "$ack" != null ]
	awk -v a="$ack" -v p="$pre" 'BEGIN { exit !(a <= p) }'
}

@test "return path: the load's summaries carry the time of the switchover-ack it sent (JSON and -v)" {
	# a source that starts RUNNING each time (close-reset=yes): two runs
	rp_pipe vfio0,seed=3 vfio1,seed=3 -- "$D0" "vfio-mig-load -d $D1 --return-fd 1 --json"
	sl_expect save_status 0
	sl_expect load_status 0
	local ack loaded
	ack=$(printf '%s\n' "$load_err" | jq -r '.devices[0].switchover_ack_s')
	loaded=$(printf '%s\n' "$load_err" | jq -r '.devices[0].loaded_s')
	[ "$(printf '%s\n' "$load_err" | jq -r '.devices[0].switchover_acks')" -eq 1 ]
	[ "$ack" != null ]
	# acked in pre-copy: before the device had its whole state
	awk -v a="$ack" -v l="$loaded" 'BEGIN { exit !(a <= l) }'
	rp_pipe vfio0,seed=3 vfio1,seed=3 -- "$D0" "vfio-mig-load -v -d $D1 --return-fd 1"
	sl_expect load_status 0
	[[ $load_err == *"device 0: writer "*", switchover-ack after "*" s"* ]]
}

@test "return path: the stream marks the end of the initial data (INIT_DATA_SENT), a plain loader skips it" {
	sl_sim "$SRC" -- vfio-mig-save -q "$D0" -o "$VMT_TMP/s.vms"
	run migstream-cat "$VMT_TMP/s.vms"
	[ "$status" -eq 0 ]
	# an ancillary record, between the initial data and the rest
	[[ $output == *"DATA            0 PRECOPY_INITIAL"*"INIT_DATA_SENT"*"STOP_COPY"* ]]
	sl_sim vfio1,seed=3 -- vfio-mig-load -q -d "$D1" -i "$VMT_TMP/s.vms"
	sl_expect_state vfio1 load_verified ok
}

@test "without a return path the source cannot know: a load failing at RESUMING -> STOP leaves save=0, source STOP" {
	sl_pipe "$SRC" 'vfio1,seed=3,fail=resuming>stop:EIO' -- "$D0" cat "$D1"
	sl_expect save_status 0
	sl_expect load_status 1
	sl_expect_state vfio0 state STOP
}

# Each arc of the load that can fail, and what the save says then.
rp_load_fails() {
	local spec=$1
	rp_pipe "$SRC" "vfio1,seed=3,$spec" -- "$D0" "vfio-mig-load -d $D1 --return-fd 1"
	sl_expect save_status 1
	[ "$load_status" -ne 0 ]
	sl_expect_state vfio0 state RUNNING
	sl_one_line "$save_err" "^vfio-mig-save: error: .*the destination failed to load \\(exit $load_status\\): .*device $D1 reset, now RUNNING; device $D0 now RUNNING\$"
}

@test "return path: a load failing at RESUMING -> STOP puts the source back to RUNNING, save exits 1" {
	rp_load_fails 'fail=resuming>stop:EIO'
	[[ $save_err == *"stream complete, but the destination failed to load"*"RESUMING -> STOP"* ]]
}

@test "return path: a target that cannot enter RESUMING puts the source back (during pre-copy)" {
	rp_load_fails 'fail=stop>resuming:EIO'
	[[ $save_err == *"cannot enter RESUMING"* ]]
	# the failure came before the end of the stream
	[[ $save_err != *"stream complete"* ]]
}

@test "return path: a target failing STOP -> RUNNING puts the source back" {
	rp_load_fails 'fail=running-p2p>running:EIO'
	[[ $save_err == *"stream complete, but"*"-> RUNNING failed"* ]]
}

@test "return path: a write error on the target puts the source back" {
	rp_load_fails 'write-eio-after=300K'
	[[ $save_err == *"writing state bytes"* ]]
}

@test "return path: a stream the target rejects (another seed) is exit 4 on the load, 1 on the save" {
	rp_load_fails 'expect-seed=99'
	[ "$load_status" -eq 4 ]
}

@test "return path: with --on-error stop the source goes to STOP after a failed load" {
	rp_pipe "$SRC" 'vfio1,seed=3,fail=resuming>stop:EIO' -- "--on-error stop $D0" "vfio-mig-load -d $D1 --return-fd 1"
	sl_expect save_status 1
	sl_expect_state vfio0 state STOP
}

@test "return path: the loader dies (SIGKILL) while loading: the source goes back to RUNNING" {
	rp_pipe "$SRC,size=8M,read-delay-ms=20,chunk=256K" vfio1,seed=3 -- "$D0" \
		"bash -c 'vfio-mig-load -d $D1 --return-fd 1 <&0 & p=\$!; sleep 0.5; kill -9 \$p; wait \$p'"
	sl_expect save_status 1
	sl_expect_state vfio0 state RUNNING
	printf '%s\n' "$save_err" >&2
	[[ $save_err == *"return channel was closed"* || $save_err == *"writing the stream"* ]]
}

@test "return path: a return channel that closes without a result: source RUNNING, save exits 1" {
	# the "loader" reads the whole stream and closes its end without a word
	# (seen before STREAM_END is sent when it closes early enough)
	rp_pipe "$SRC" -- "--no-precopy $D0" "bash -c 'exec 1>&-; cat >/dev/null'"
	sl_expect save_status 1
	sl_expect_state vfio0 state RUNNING
	sl_one_line "$save_err" "^vfio-mig-save: error: (stream complete, but )?the return channel was closed before the load result .*; device $D0 now RUNNING\$"
}

@test "return path: no reply within --return-timeout: source RUNNING, save exits 1" {
	# a loader that never answers but keeps the channel open
	rp_pipe "$SRC" -- "--no-precopy --return-timeout 300ms $D0" "bash -c 'cat >/dev/null'"
	sl_expect save_status 1
	sl_expect_state vfio0 state RUNNING
	sl_one_line "$save_err" "^vfio-mig-save: error: stream complete, but no load result from the destination within 0.300 s; device $D0 now RUNNING\$"
}

@test "return path: no switchover-ack within --return-timeout: no switchover, source RUNNING" {
	rp_pipe "$SRC" -- "--return-timeout 300ms $D0" "bash -c 'cat >/dev/null'"
	sl_expect save_status 1
	sl_expect_state vfio0 state RUNNING
	sl_one_line "$save_err" "^vfio-mig-save: error: no switchover-ack for $D0 \\(initial section 1\\) within 0.300 s; device $D0 now RUNNING\$"
	# never stopped: no arc into STOP_COPY
	[[ $(sl_arcs vfio0) != *STOP_COPY* ]]
}

@test "return path: an invalid --return-fd is a usage error on both sides" {
	run vfio-mig-save --return-fd 57 "$D0"
	[ "$status" -eq 2 ]
	[[ $output == *"invalid --return-fd argument: '57' (not an open file descriptor)"* ]]
	run vfio-mig-load --return-fd 57 "$D1"
	[ "$status" -eq 2 ]
	run vfio-mig-save --return-timeout 0 "$D0"
	[ "$status" -eq 2 ]
}

@test "switchover-ack: with several devices the switchover waits for every ack, the slow target's last" {
	rp_pipe "$SRC" vfio1,seed=4,close-reset=no vfio2,seed=3 vfio3,seed=4,resume-prepare-ms=400 -- \
		"-v --json -d $D0 -d $D1" "vfio-mig-load -d $D2 -d $D3 --return-fd 1"
	sl_expect save_status 0
	sl_expect load_status 0
	sl_same_digest vfio0 vfio2
	sl_same_digest vfio1 vfio3
	save_before "$D0: switchover-ack" "PRE_COPY -> PRE_COPY_P2P"
	save_before "$D1: switchover-ack" "PRE_COPY -> PRE_COPY_P2P"
	# the target of vfio1 prepared for 400 ms before its ack
	local json ack1
	json=$(printf '%s\n' "$save_err" | grep '^{')
	ack1=$(printf '%s\n' "$json" | jq -r '.devices[1].switchover_ack_s')
	awk -v a="$ack1" 'BEGIN { exit !(a >= 0.4) }'
	# a trigger that came first (threshold) was kept and acted after the ack
	[[ $save_err == *"switchover by threshold waits for the switchover-acks"* ]]
	[ "$(printf '%s\n' "$json" | jq -r .switchover)" = threshold ]
}

@test "switchover-ack: --max-precopy-time before the ack switches over only once the ack came" {
	# dirt keeps the estimate above the threshold: the time limit is the trigger
	rp_pipe "$SRC,dirty-rate=4M" vfio1,seed=3,resume-prepare-ms=600 -- \
		"-v --max-rounds 0 --max-precopy-time 100ms $D0" "vfio-mig-load -d $D1 --return-fd 1"
	sl_expect save_status 0
	sl_expect load_status 0
	sl_same_digest vfio0 vfio1
	[[ $save_err == *"switchover by max-precopy-time waits for the switchover-acks"* ]]
	save_before "switchover-ack" "PRE_COPY -> PRE_COPY_P2P"
}

@test "pre-copy info v2: REINIT in pre-copy is a new initial section that needs its own ack" {
	rp_pipe "$SRC,precopy-info-v2=yes,precopy-initial=128K,reinit-after=128K,reinit-bytes=96K" vfio1,seed=3 -- \
		"-v --json $D0" "vfio-mig-load -v -d $D1 --return-fd 1"
	sl_expect save_status 0
	sl_expect load_status 0
	sl_same_digest vfio0 vfio1
	sl_expect_state vfio0 precopy_v2 1
	sl_expect_state vfio0 reinits 1
	[[ $save_err == *"pre-copy info v2 (REINIT reported)"* ]]
	save_before "REINIT in PRE_COPY: initial section 2" "PRE_COPY -> PRE_COPY_P2P"
	save_before "initial section 2 sent" "PRE_COPY -> PRE_COPY_P2P"
	save_before "switchover-ack (initial section 2" "PRE_COPY -> PRE_COPY_P2P"
	[[ $load_err == *"switchover-ack for stream device 0 (initial section 2"* ]]
	[ "$(printf '%s\n' "$save_err" | grep '^{' | jq -r '.devices[0].initial_sections')" = 2 ]
}

@test "pre-copy info v2: REINIT after the devices were quiesced is read and acked before STOP_COPY" {
	rp_pipe "$SRC,precopy-info-v2=yes,reinit-on=p2p,reinit-bytes=80K" vfio1,seed=3 -- \
		"-v $D0" "vfio-mig-load -d $D1 --return-fd 1"
	sl_expect save_status 0
	sl_expect load_status 0
	sl_same_digest vfio0 vfio1
	sl_expect_state vfio0 reinits 1
	save_before "PRE_COPY -> PRE_COPY_P2P" "REINIT in PRE_COPY_P2P"
	save_before "REINIT in PRE_COPY_P2P" "PRE_COPY_P2P -> STOP_COPY"
	save_before "switchover-ack (initial section 2" "PRE_COPY_P2P -> STOP_COPY"
}

@test "pre-copy info v2: REINIT without a return path still goes out as a new initial section" {
	sl_pipe "$SRC,precopy-info-v2=yes,reinit-on=p2p,reinit-bytes=80K" vfio1,seed=3 -- "-v $D0" cat "$D1"
	sl_expect save_status 0
	sl_expect load_status 0
	sl_same_digest vfio0 vfio1
	[[ $save_err == *"initial section 2 sent (81920 bytes"* ]]
}

@test "pre-copy info v1 fallback: a kernel without v2 (6.12) is said in -v, and no REINIT is trusted" {
	rp_pipe "$SRC,reinit-after=32K" vfio1,seed=3 -- "-v $D0" "vfio-mig-load -d $D1 --return-fd 1"
	sl_expect save_status 0
	sl_expect load_status 0
	sl_same_digest vfio0 vfio1
	[[ $save_err == *"$D0: pre-copy info v1 (the kernel does not offer v2)"* ]]
	sl_expect_state vfio0 precopy_v2 0
	sl_expect_state vfio0 reinits 0
	[[ $save_err != *REINIT* ]]
}

# ---- a destination that misbehaves (tests/cli/fake-destination.c) ----

# rp_fake DEVSPEC -- SAVE_ARGS FAKE_ARGS
#   vfio-mig-save SAVE_ARGS --return-fd 3 3<fifo | fake-destination FAKE_ARGS >fifo
#   under the simulator; a save still running after 20 s is killed
#   (SIGKILL: no recovery, the source stays where it was). Sets
#   save_status, save_err, load_err (the fake's) and save_ms (how long
#   the save took).
rp_fake() {
	local spec=$1 T=$VMT_TMP
	shift 2
	rm -f "$T/rp"
	mkfifo "$T/rp"
	sl_sim "$spec" -- bash -c "
		start=\$(date +%s%N)
		timeout -s KILL 20 vfio-mig-save $1 --return-fd 3 3<'$T/rp' 2>'$T/save.err' |
			fake-destination $2 >'$T/rp' 2>'$T/load.err'
		echo \${PIPESTATUS[0]} \$(( (\$(date +%s%N) - start) / 1000000 )) >'$T/status'" || true
	read -r save_status save_ms <"$T/status"
	save_err=$(cat "$T/save.err")
	load_err=$(cat "$T/load.err")
}

@test "return path: the save reads the reply stream to its end, so the loader's last write never meets a closed pipe" {
	# a loader that got EPIPE after its result could not know the result
	# arrived, and would reset a device the save calls migrated
	rp_fake "$SRC" -- "--no-precopy $D0" "--result=end --end-delay=300"
	sl_expect save_status 0
	[[ $load_err != *"could not be written"* ]] || { echo "$load_err"; false; }
	[ "$save_ms" -ge 300 ]
}

@test "return path: acks after STREAM_END and never a result: --return-timeout bounds the whole wait, source RUNNING" {
	rp_fake "$SRC" -- "--return-timeout 500ms $D0" "--ack --chatter=ack"
	sl_expect save_status 1
	sl_expect_state vfio0 state RUNNING
	sl_one_line "$save_err" "^vfio-mig-save: error: stream complete, but no load result from the destination within 0.500 s; device $D0 now RUNNING\$"
	# an ack every 50 ms did not restart the timeout
	[ "$save_ms" -lt 5000 ]
}

@test "return path: unknown ancillary replies after STREAM_END do not keep the source in STOP_COPY" {
	rp_fake "$SRC" -- "--no-precopy --return-timeout 500ms $D0" "--chatter=ancillary"
	sl_expect save_status 1
	sl_expect_state vfio0 state RUNNING
	sl_one_line "$save_err" "^vfio-mig-save: error: stream complete, but no load result from the destination within 0.500 s; device $D0 now RUNNING\$"
	[ "$save_ms" -lt 5000 ]
}

@test "return path: a successful LOAD_RESULT in pre-copy (before any stop-copy data) is a failure: source RUNNING, never stopped" {
	rp_fake "$SRC" -- "$D0" "--ack --result=marker"
	sl_expect save_status 1
	sl_expect_state vfio0 state RUNNING
	sl_one_line "$save_err" "^vfio-mig-save: error: the destination reported a successful load before any stop-copy data was sent; device $D0 now RUNNING\$"
	[[ $(sl_arcs vfio0) != *STOP_COPY* ]]
}

@test "return path: a successful LOAD_RESULT during stop-copy (before STREAM_END) is a failure: source RUNNING" {
	rp_fake "$SRC,size=512K,chunk=64K,read-delay-ms=20" -- "--no-precopy --chunk-size 64K $D0" "--result=stop-copy"
	sl_expect save_status 1
	sl_expect_state vfio0 state RUNNING
	sl_one_line "$save_err" "^vfio-mig-save: error: the destination reported a successful load before the end of the stream was sent; device $D0 now RUNNING\$"
}

@test "return path: a LOAD_RESULT at STREAM_END from the fake destination is a success (the tests' control)" {
	rp_fake "$SRC" -- "--no-precopy $D0" "--result=end"
	sl_expect save_status 0
	sl_expect_state vfio0 state STOP
}

@test "return path: the destination's message is escaped: ESC, BEL, CR, LF cannot forge lines, in text and in JSON" {
	rp_fake "$SRC" -- "--no-precopy $D0" "--fail='boom\\e[2J\\a\\r\\nvfio-mig-save: forged'"
	sl_expect save_status 1
	sl_expect_state vfio0 state RUNNING
	sl_one_line "$save_err" '^vfio-mig-save: error: stream complete, but the destination failed to load \(exit 1\): boom\\x1b\[2J\\x07\\x0d\\x0avfio-mig-save: forged; device .* now RUNNING$'
	rp_fake "$SRC" -- "--json --no-precopy $D0" "--fail='boom\\e[2J\\a\\r\\nvfio-mig-save: forged'"
	sl_expect save_status 1
	[ "$(printf '%s\n' "$save_err" | grep -c .)" -eq 1 ]
	printf '%s\n' "$save_err" | jq -e '.error.message | test("boom\\\\x1b\\[2J\\\\x07\\\\x0d\\\\x0avfio-mig-save: forged") and (test("[\u0000-\u001f]") | not)'
}

# A malformed reply: exit 1 like every failure of the return path, not 4.
rp_bad_reply() {
	rp_fake "$SRC" -- "--json --no-precopy $D0" "--bad=$1"
	sl_expect save_status 1
	sl_expect_state vfio0 state RUNNING
	printf '%s\n' "$save_err" | jq -e --arg m "$2" '.error.exit_code == 1 and .error.errno == "EBADMSG" and (.error.message | contains($m))'
}

@test "return path: a malformed reply exits 1, as every return-path failure: an ack for device 1000" {
	rp_bad_reply device "SWITCHOVER_ACK for device 1000, initial section 1, which was not sent"
}

@test "return path: a malformed reply exits 1: forward-stream records (DEVICE, DATA) in the reply" {
	rp_bad_reply forward "unexpected DEVICE"
}

@test "return path: a malformed reply exits 1: unknown flag bits in the result" {
	rp_bad_reply flags "malformed LOAD_RESULT"
}

@test "return path: a destination that stops reading in stop-copy: after --return-timeout the source goes back to RUNNING" {
	rp_fake "$SRC,size=8M" -- "--no-precopy --return-timeout 500ms $D0" --stall
	sl_expect save_status 1
	sl_expect_state vfio0 state RUNNING
	sl_one_line "$save_err" "^vfio-mig-save: error: <stdout>: at byte [0-9]+: the destination took no byte of the stream for 0.500 s \\(it stopped reading\\); device $D0 now RUNNING\$"
	[ "$save_ms" -lt 5000 ]
}

@test "return path: a destination that stops reading in pre-copy: the save ends, the source RUNNING" {
	rp_fake "$SRC,precopy-initial=8M" -- "--queue-size 1M --return-timeout 500ms $D0" --stall
	sl_expect save_status 1
	sl_expect_state vfio0 state RUNNING
	sl_one_line "$save_err" "^vfio-mig-save: error: <stdout>: at byte [0-9]+: the destination took no byte of the stream for 0.500 s \\(it stopped reading\\); device $D0 now RUNNING\$"
	[[ $(sl_arcs vfio0) != *STOP_COPY* ]]
}

@test "return path: a destination that reads slowly but never stops is no stall, even when one write lasts longer than --return-timeout" {
	# a 6 MiB record read 64 KiB every 50 ms: its write takes about 5 s; what
	# the pipe holds at STREAM_END (1 MiB) is read well within the timeout
	rp_fake "$SRC,size=6M" -- "--no-precopy --chunk-size 6M --return-timeout 2500ms $D0" "--slow=50 --result=end"
	sl_expect save_status 0
	sl_expect_state vfio0 state STOP
}

@test "return path: the text summary says the destination confirmed, and how many devices" {
	rp_pipe "$SRC" vfio1,seed=3 -- "$D0" "vfio-mig-load -d $D1 --return-fd 1"
	sl_expect save_status 0
	printf '%s\n' "$save_err" | head -1 | grep -E "^vfio-mig-save: saved 1 device: .*; the destination loaded 1 device\$"
	rp_pipe "$SRC" vfio1,seed=4,close-reset=no vfio2,seed=3 vfio3,seed=4 -- "-d $D0 -d $D1" "vfio-mig-load -d $D2 -d $D3 --return-fd 1"
	sl_expect save_status 0
	printf '%s\n' "$save_err" | head -1 | grep -E "^vfio-mig-save: saved 2 devices: .*; the destination loaded 2 devices\$"
	# without a return path nobody confirmed: nothing said
	sl_pipe "$SRC" vfio1,seed=3 -- "$D0" cat "$D1"
	sl_expect save_status 0
	[[ $save_err != *"the destination loaded"* ]]
}
