#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
#
# --events (vfio-mig-events(5)) of vfio-mig-save and vfio-mig-load on the
# simulator: a save | load leaves every state arc of both sides with its
# duration and result; a failed save or load names the failing arc and its
# errno, then its recovery, failure and exit; the return path's replies are
# in both files; a killed save leaves whole lines.

load helpers
load load-helpers

setup() {
	sl_setup
	cd "$VMT_TMP"
	command -v jq >/dev/null || skip "jq not installed"
}

# ev FILE JQ-FILTER: the filter over the file's lines, one result a line (compact).
ev() {
	jq -c "$2" "$1"
}

# arcs FILE: "FROM>TO:result" of each arc, comma separated.
arcs() {
	jq -r 'select(.kind == "arc") | "\(.from)>\(.to):\(.result)"' "$1" | paste -sd, -
}

# well_formed FILE TOOL: every line parses, has the common keys, and seq and
# mono_ns never go back.
well_formed() {
	local file=$1 tool=$2
	[ -s "$file" ] || { echo "$file is empty" >&2; return 1; }
	# jq fails on any line that is not JSON
	jq -e -s --arg tool "$tool" '
		all(.[]; (.mono_ns | type) == "number" and (.pid | type) == "number" and
			(.time | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{9}Z$")) and
			(.host | length) > 0 and .tool == $tool and (.kind | type) == "string") and
		([.[].seq] == [range(length)]) and
		([.[].mono_ns] == ([.[].mono_ns] | sort))' "$file" >/dev/null || {
		echo "$file is not well formed:" >&2
		cat "$file" >&2
		return 1
	}
}

@test "events: a save | load leaves both sides' arcs, with durations and results, and the exit" {
	sl_pipe vfio0,size=2M,precopy-initial=256K,seed=5 vfio1,seed=5 -- \
		"--events '$VMT_TMP/save.ev' $D0" "" "--events '$VMT_TMP/load.ev' $D1"
	sl_expect save_status 0
	sl_expect load_status 0
	well_formed save.ev vfio-mig-save
	well_formed load.ev vfio-mig-load
	[ "$(arcs save.ev)" = "RUNNING>PRE_COPY:ok,PRE_COPY>PRE_COPY_P2P:ok,PRE_COPY_P2P>STOP_COPY:ok,STOP_COPY>STOP:ok" ]
	[ "$(arcs load.ev)" = "RUNNING>RESUMING:ok,RESUMING>STOP:ok,STOP>RUNNING_P2P:ok,RUNNING_P2P>RUNNING:ok" ]
	# every arc has its start and a duration, and names its device
	[ "$(ev save.ev 'select(.kind == "arc" and (.duration_ns | type) == "number" and .start_ns <= .mono_ns and .device == "'"$D0"'")' | grep -c .)" -eq 4 ]
	[ "$(ev load.ev 'select(.kind == "arc" and (.duration_ns | type) == "number" and .device == "'"$D1"'")' | grep -c .)" -eq 4 ]
	# the switchover, the device's stop-copy read and write, the channel's end
	[ "$(ev save.ev 'select(.kind == "switchover") | .reason')" = '"threshold"' ]
	[ "$(ev save.ev 'select(.kind == "device-data") | [.direction, .phase, .bytes]')" = '["read","stop-copy",2097152]' ]
	[ "$(ev load.ev 'select(.kind == "device-data") | [.direction, .phase, .bytes]')" = '["write","stop-copy",2097152]' ]
	[ "$(ev save.ev 'select(.kind == "precopy-round" and .round == 1) | .bytes')" = 262144 ]
	[ "$(ev save.ev 'select(.kind == "channel-done") | .channel')" = 0 ]
	# the last line is the exit
	[ "$(tail -n1 save.ev | jq -c '[.kind, .code]')" = '["exit",0]' ]
	[ "$(tail -n1 load.ev | jq -c '[.kind, .code, .outcome]')" = '["exit",0,"loaded 1 device"]' ]
	[ -z "$(ev save.ev 'select(.kind == "failure" or .kind == "ioctl-failed")')" ]
}

@test "events: a failed save names the failing arc and errno, then the recovery and the exit" {
	sl_pipe vfio0,seed=5,fail=stop\>stop-copy:EIO vfio1,seed=5 -- \
		"--no-precopy --events '$VMT_TMP/save.ev' $D0" "" "$D1"
	sl_expect save_status 1
	well_formed save.ev vfio-mig-save
	# the kernel walked RUNNING_P2P and STOP, then failed into STOP_COPY
	[ "$(ev save.ev 'select(.kind == "arc" and .result == "failed") | [.from, .to, .errno, .error]')" = \
		'["RUNNING_P2P","STOP_COPY",5,"Input/output error"]' ]
	[ "$(ev save.ev 'select(.kind == "ioctl-failed") | [.ioctl, .errno]' | head -n1)" = \
		'["VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE (SET)",5]' ]
	# put back to RUNNING, and said so
	[ "$(ev save.ev 'select(.kind == "recovery") | .step' | tail -n1)" = '"done"' ]
	[ "$(ev save.ev 'select(.kind == "failure") | .errno')" = 5 ]
	[ "$(tail -n1 save.ev | jq -r .kind)" = exit ]
	[ "$(tail -n1 save.ev | jq -r .code)" = 1 ]
	# the outcome is the line the save printed
	[ "vfio-mig-save: error: $(tail -n1 save.ev | jq -r .outcome)" = "$(printf '%s\n' "$save_err" | grep 'error:')" ]
	sl_expect_state vfio0 state RUNNING
}

@test "events: a failed load names the failing arc and errno, and the reset" {
	sl_pipe vfio0,seed=5 vfio1,seed=5,fail=resuming\>stop:EINVAL -- \
		"$D0" "" "--events '$VMT_TMP/load.ev' $D1"
	[ "$load_status" -ne 0 ]
	well_formed load.ev vfio-mig-load
	[ "$(ev load.ev 'select(.kind == "arc" and .result == "failed") | [.from, .to, .errno]')" = \
		'["RESUMING","STOP",22]' ]
	[ "$(ev load.ev 'select(.kind == "ioctl-failed" and .ioctl == "VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE (SET)") | .errno')" = 22 ]
	# the device was written before the driver refused it
	[ "$(ev load.ev 'select(.kind == "device-data") | .bytes')" = 1048576 ]
	# reset (RESUMING cannot be left otherwise), then back where it was
	[ "$(ev load.ev 'select(.kind == "recovery") | "\(.step):\(.state):\(.result)"' | paste -sd, -)" = \
		'"reset:RESUMING:ok","done:RUNNING:ok"' ]
	[[ $(ev load.ev 'select(.kind == "failure") | .message') == *"RESUMING -> STOP: Invalid argument"* ]]
	[ "$(tail -n1 load.ev | jq -c '[.kind, .code]')" = "[\"exit\",$load_status]" ]
	[ "vfio-mig-load: error: $(tail -n1 load.ev | jq -r .outcome)" = "$(printf '%s\n' "$load_err" | grep 'error:')" ]
}

@test "events: a failed read of the source's data fd and write of the target's: io-failed with the kernel's errno" {
	sl_pipe vfio0,size=2M,read-eio-after=1M,seed=5 vfio1,seed=5 -- \
		"--no-precopy --events '$VMT_TMP/save.ev' $D0" "" "$D1"
	sl_expect save_status 1
	well_formed save.ev vfio-mig-save
	[ "$(ev save.ev 'select(.kind == "io-failed") | [.device, .call, .state, .offset, .errno]')" = \
		"[\"$D0\",\"read\",\"STOP_COPY\",1048576,5]" ]
	sl_pipe vfio0,size=2M,seed=5 vfio1,write-eio-after=64K,seed=5 -- \
		"--no-precopy $D0" "" "--events '$VMT_TMP/load.ev' $D1"
	[ "$load_status" -ne 0 ]
	well_formed load.ev vfio-mig-load
	[ "$(ev load.ev 'select(.kind == "io-failed") | [.device, .call, .state, .offset, .errno]')" = \
		"[\"$D1\",\"write\",\"RESUMING\",0,5]" ]
	[ "$(ev load.ev 'select(.kind == "recovery") | .step' | head -n1)" = '"reset"' ]
}

@test "events: the return path's acks and result, sent by the load and received by the save" {
	local T=$VMT_TMP
	local SL_SAVE_REDIR="--return-fd 3 3<'$T/rp'" SL_LOAD_REDIR="--return-fd 1 >'$T/rp'"
	mkfifo "$T/rp"
	sl_pipe vfio0,seed=3 vfio1,seed=3 -- \
		"--events '$T/save.ev' $D0" "" "--events '$T/load.ev' $D1"
	sl_expect save_status 0
	sl_expect load_status 0
	well_formed save.ev vfio-mig-save
	well_formed load.ev vfio-mig-load
	[ "$(ev load.ev 'select(.kind == "reply-sent") | .record' | paste -sd, -)" = '"SWITCHOVER_ACK","LOAD_RESULT"' ]
	[ "$(ev save.ev 'select(.kind == "reply-received") | .record' | paste -sd, -)" = '"SWITCHOVER_ACK","LOAD_RESULT"' ]
	[ "$(ev save.ev 'select(.kind == "reply-received" and .record == "SWITCHOVER_ACK") | [.device, .generation]')" = "[\"$D0\",1]" ]
	[ "$(ev save.ev 'select(.kind == "reply-received" and .record == "LOAD_RESULT") | .exit_code')" = 0 ]
	# the ack came before the switchover, which waited for it
	[ "$(ev save.ev 'select(.kind == "reply-received" or .kind == "switchover") | .kind' | head -n1)" = '"reply-received"' ]
}

@test "events: each channel's throughput every second, on both sides, adding up to the stream" {
	# 64 reads of 64 KiB, 40 ms each: about 2.6 s of stop-copy
	sl_pipe vfio0,size=4M,chunk=64K,read-delay-ms=40,seed=5 vfio1,seed=5 -- \
		"--no-precopy --events '$VMT_TMP/save.ev' $D0" "" "--events '$VMT_TMP/load.ev' $D1"
	sl_expect save_status 0
	sl_expect load_status 0
	local f total
	for f in save.ev load.ev; do
		[ "$(ev $f 'select(.kind == "throughput")' | grep -c .)" -ge 2 ]
		# a sample a second at most (the last one: what was left); a loaded
		# machine may make it later
		[ "$(ev $f 'select(.kind == "throughput") | .interval_ns' | sed '$d' |
			awk '$1 < 1000000000' | grep -c .)" -eq 0 ]
		# the samples add up to the channel's bytes
		total=$(ev $f 'select(.kind == "throughput") | .bytes' | paste -sd+ - | bc)
		[ "$total" = "$(ev $f 'select(.kind == "throughput") | .total_bytes' | tail -n1)" ]
	done
	[ "$total" = "$(ev save.ev 'select(.kind == "channel-done") | .total_bytes')" ]
}

@test "events: a save killed mid-stream leaves whole lines, and no exit" {
	local T=$VMT_TMP
	sl_sim vfio0,size=64M,chunk=64K,read-delay-ms=20,seed=1 -- bash -c "
		vfio-mig-save --no-precopy --events '$T/save.ev' $D0 >/dev/null 2>&1 & pid=\$!
		for i in \$(seq 400); do
			grep -q '\"kind\":\"arc\".*\"to\":\"STOP_COPY\"' '$T/save.ev' 2>/dev/null && break
			sleep 0.05
		done
		sleep 0.2
		kill -KILL \$pid
		wait \$pid; echo \$? >'$T/status'" || true
	[ "$(cat "$T/status")" = 137 ]
	well_formed save.ev vfio-mig-save
	[ "$(tail -c1 save.ev | od -An -c | tr -d ' ')" = '\n' ]
	[ "$(ev save.ev 'select(.kind == "arc") | .to' | tail -n1)" = '"STOP_COPY"' ]
	[ -z "$(ev save.ev 'select(.kind == "exit")')" ]
}

@test "events: vfio-precopy-info records its arcs and each sample" {
	run sl_sim vfio0,precopy-initial=256K,dirty-rate=1M,seed=1 -- \
		vfio-precopy-info -d "$D0" -c 3 -w 50ms --drain --events "$VMT_TMP/info.ev"
	[ "$status" -eq 0 ]
	well_formed info.ev vfio-precopy-info
	[ "$(arcs info.ev)" = "RUNNING>PRE_COPY:ok,PRE_COPY>RUNNING:ok" ]
	[ "$(ev info.ev 'select(.kind == "precopy-round") | .round' | paste -sd, -)" = 0,1,2 ]
	[ "$(ev info.ev 'select(.kind == "precopy-round" and .round == 0) | [.initial_bytes, .dirty_rate]')" = '[262144,null]' ]
	# the initial section drained before the second sample (with what was dirtied meanwhile)
	[ "$(ev info.ev 'select(.kind == "precopy-round" and .round == 1) | .bytes >= 262144')" = true ]
	[ "$(tail -n1 info.ev | jq -c '[.kind, .code, .outcome]')" = '["exit",0,"3 samples"]' ]
}

@test "events: an events file that cannot be opened fails before any device is touched" {
	run sl_sim vfio0,seed=1 -- vfio-mig-save --events "$VMT_TMP/no/such/dir/ev" -o "$VMT_TMP/s.vms" "$D0"
	[ "$status" -eq 1 ]
	[[ $output == *"no/such/dir/ev: cannot open for writing: No such file or directory"* ]]
	[ "$(sl_arcs vfio0)" = "" ]
	run sl_sim vfio1,seed=1 -- vfio-mig-load --events "$VMT_TMP/no/such/dir/ev" -i /dev/null "$D1"
	[ "$status" -eq 1 ]
	[ "$(sl_arcs vfio1)" = "" ]
}

@test "events: --events naming the stream is a usage error" {
	run vfio-mig-save --events "$VMT_TMP/s.vms" -o "$VMT_TMP/s.vms" "$D0"
	[ "$status" -eq 2 ]
	[[ $output == *"--events $VMT_TMP/s.vms is the stream's output"* ]]
	touch "$VMT_TMP/in.vms"
	run vfio-mig-load --events "$VMT_TMP/in.vms" -i "$VMT_TMP/in.vms" "$D1"
	[ "$status" -eq 2 ]
	[[ $output == *"--events '$VMT_TMP/in.vms' is the input stream"* ]]
}
