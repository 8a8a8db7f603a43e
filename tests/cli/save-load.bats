#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Save/load conformance on the simulator: vfio-mig-save | vfio-mig-load round
# trips checked by the digests both simulated devices record, and what both
# tools do when anything fails on the way: the right exit status, one error
# line saying what happened, and each device in a safe state (source back
# to RUNNING, target reset, never left RESUMING).

load helpers
load load-helpers

setup() {
	sl_setup
}

# ---- round trips ----

@test "stop-copy round trip: the target loads the source's bytes, verified, and runs" {
	sl_pipe vfio0,size=3M,seed=5 vfio1,seed=5 -- "--no-precopy $D0" cat "$D1"
	sl_expect save_status 0
	sl_expect load_status 0
	sl_same_digest vfio0 vfio1
	sl_expect_state vfio1 loaded_bytes "$(sl_state vfio0 saved_bytes)"
	[[ $(sl_arcs vfio1) == *"STOP>RESUMING,RESUMING>STOP,"*">RUNNING" ]]
	sl_expect_state vfio1 last_state RUNNING
	# the summary: one line, state bytes and downtime
	sl_one_line "$load_err" "^vfio-mig-load: loaded 1 device, .* stop-copy .*resume downtime [0-9.]+ s$"
}

@test "pre-copy round trip with dirty rounds: every phase reaches the target in order" {
	sl_pipe vfio0,size=1M,precopy-initial=2M,dirty-per-round=256K,dirty-rounds=3,seed=9 vfio1,seed=9 -- \
		"--precopy $D0" cat "--json $D1"
	sl_expect save_status 0
	sl_expect load_status 0
	sl_same_digest vfio0 vfio1
	# JSON summary: pre-copy and stop-copy bytes add up to what the device saved
	local pre stop total
	pre=$(printf '%s\n' "$load_err" | jq -r '.devices[0].precopy_initial_bytes + .devices[0].precopy_dirty_bytes')
	stop=$(printf '%s\n' "$load_err" | jq -r '.devices[0].stop_copy_bytes')
	total=$(sl_state vfio0 saved_bytes)
	[ "$pre" -gt 0 ]
	[ "$stop" -gt 0 ]
	[ $((pre + stop)) -eq "$total" ]
	[ "$(printf '%s\n' "$load_err" | jq -r '.devices[0].final_state')" = RUNNING ]
}

@test "4 GiB state round trip, checked by digest" {
	sl_pipe vfio0,flags=stop-copy,size=4G,seed=11 vfio1,flags=stop-copy,seed=11 -- "-q $D0" cat "-q $D1"
	sl_expect save_status 0
	sl_expect load_status 0
	sl_expect_state vfio0 saved_bytes $((4 << 30))
	sl_same_digest vfio0 vfio1
}

@test "compressed stream round trip" {
	sl_pipe vfio0,size=2M,precopy-initial=1M,seed=3 vfio1,seed=3 -- "--compress=3 $D0" cat "$D1"
	sl_expect save_status 0
	sl_expect load_status 0
	sl_same_digest vfio0 vfio1
}

@test "two devices: stream device 0 -> first target, 1 -> second" {
	sl_pipe vfio0,size=1M,seed=21 vfio1,size=2M,seed=22 vfio2,expect-seed=21 vfio3,expect-seed=22 -- \
		"$D0 $D1" cat "-d $D2 -d $D3"
	sl_expect save_status 0
	sl_expect load_status 0
	sl_same_digest vfio0 vfio2
	sl_same_digest vfio1 vfio3
}

@test "two P2P targets are started together: both RUNNING_P2P before either RUNNING" {
	sl_pipe vfio0,size=64K,seed=21 vfio1,size=64K,seed=22 vfio2,expect-seed=21 vfio3,expect-seed=22 -- \
		"$D0 $D1" cat "-v -d $D2 -d $D3"
	sl_expect save_status 0
	sl_expect load_status 0
	order=$(printf '%s\n' "$load_err" | sed -n 's/.*\(vfio[0-9]\): [A-Z_0-9]* -> \([A-Z_0-9]*\)$/\1>\2/p' | tr '\n' ' ')
	[[ "$order" == *"vfio2>RUNNING_P2P vfio3>RUNNING_P2P vfio2>RUNNING vfio3>RUNNING "* ]]
	sl_expect_state vfio2 state RUNNING
	sl_expect_state vfio3 state RUNNING
}

@test "two devices crossed with --map" {
	sl_pipe vfio0,size=1M,seed=21 vfio1,size=2M,seed=22 vfio2,expect-seed=22 vfio3,expect-seed=21 -- \
		"$D0 $D1" cat "--map 1=$D2 --map 0=$D3"
	sl_expect save_status 0
	sl_expect load_status 0
	sl_same_digest vfio0 vfio3
	sl_same_digest vfio1 vfio2
}

@test "--then stop leaves the loaded device stopped" {
	sl_pipe vfio0,size=1M vfio1 -- "$D0" cat "--then stop $D1"
	sl_expect load_status 0
	sl_expect_state vfio1 load_verified ok
	[[ $(sl_arcs vfio1) == *"RESUMING>STOP" ]]
	sl_expect_state vfio1 last_state STOP
}

@test "the target is opened by PCI address and through the legacy group" {
	sl_pipe vfio0,size=1M vfio1,bdf=0000:02:00.0 -- "$D0" cat "--group 0000:02:00.0"
	sl_expect load_status 0
	sl_same_digest vfio0 vfio1
}

# ---- bad input: refused, target reset, exit 4 ----

# Saves vfio0 (1 MiB, stop-copy only: one DATA record) into $VMT_TMP/stream
# for tests that damage it.
save_stream() {
	sl_sim vfio0,size=1M,seed=4 -- vfio-mig-save -q --no-precopy -o "$VMT_TMP/stream" "$D0"
}

@test "a flipped byte in a DATA payload is refused before it reaches the device" {
	save_stream
	# well inside the first 1 MiB DATA record's payload
	vmt_flip_byte "$VMT_TMP/stream" 600000
	run --separate-stderr sl_sim vfio1,seed=4 -- vfio-mig-load -i "$VMT_TMP/stream" "$D1"
	[ "$status" -eq 4 ]
	sl_one_line "$stderr" "^vfio-mig-load: error: $VMT_TMP/stream: record [0-9]+ \(DATA\) at byte [0-9]+: payload checksum mismatch; device $D1 reset, now RUNNING$"
	sl_expect_state vfio1 resets 1
	sl_expect_state vfio1 requests 1
	sl_expect_state vfio1 loaded_bytes 0
	[ "$(sl_state vfio1 load_verified)" != ok ]
	sl_expect_state vfio1 last_state RUNNING
}

@test "a flipped byte in a record header is refused" {
	save_stream
	local size
	size=$(vmt_size "$VMT_TMP/stream")
	# the header of the last record (STREAM_END): the data before it was good
	vmt_flip_byte "$VMT_TMP/stream" $((size - 32 - 24 + 5))
	run --separate-stderr sl_sim vfio1,seed=4 -- vfio-mig-load -i "$VMT_TMP/stream" "$D1"
	[ "$status" -eq 4 ]
	sl_one_line "$stderr" "record [0-9]+ .*at byte [0-9]+: .*; device $D1 reset, now RUNNING$"
	# the whole state had been loaded and accepted, and still does not run
	sl_expect_state vfio1 resets 1
	[[ $(sl_arcs vfio1) != *"STOP>RUNNING"* ]]
}

@test "truncated input: exit 4 naming the offset, target reset" {
	save_stream
	head -c 500000 "$VMT_TMP/stream" >"$VMT_TMP/short"
	run --separate-stderr sl_sim vfio1,seed=4 -- vfio-mig-load -i "$VMT_TMP/short" "$D1"
	[ "$status" -eq 4 ]
	sl_one_line "$stderr" "truncated.*; device $D1 reset, now RUNNING$"
	sl_expect_state vfio1 resets 1
	sl_expect_state vfio1 last_state RUNNING
	# the half state was never offered to the driver: one SET (into
	# RESUMING), then a reset straight out of it, no RESUMING -> STOP
	sl_expect_state vfio1 requests 1
}

@test "empty input and garbage input are refused without touching the device" {
	run --separate-stderr sl_sim vfio1 -- vfio-mig-load -i /dev/null "$D1"
	[ "$status" -eq 4 ]
	sl_one_line "$stderr" "preamble.*; device $D1 untouched, RUNNING$"
	sl_expect_state vfio1 transitions 0
}

# ---- compatibility ----

@test "a different PCI device ID is refused (exit 4, device untouched); --force loads" {
	sl_pipe vfio0,size=1M,vendor=0x15b3,device=0x101e vfio1,vendor=0x15b3,device=0x1021 -- "$D0" cat "$D1"
	sl_expect load_status 4
	sl_one_line "$load_err" "^vfio-mig-load: error: $D1: stream device 0 .* is incompatible: PCI device ID differs: stream 0x101e, target 0x1021 \(--force loads it anyway\); device $D1 untouched, RUNNING$"
	sl_expect_state vfio1 transitions 0

	rm -rf "$SL_SIM"
	sl_pipe vfio0,size=1M,vendor=0x15b3,device=0x101e vfio1,vendor=0x15b3,device=0x1021 -- "$D0" cat "--force $D1"
	sl_expect load_status 0
	sl_same_digest vfio0 vfio1
	[[ $load_err == *"warning: "*"PCI device ID differs"* ]]
}

@test "a different mdev type is refused" {
	sl_pipe vfio0,size=1M,mdev=11111111-2222-3333-4444-555555555555,mdev-type=mtty-1 \
		vfio1,mdev=66666666-2222-3333-4444-555555555555,mdev-type=mtty-2 -- "$D0" cat "$D1"
	sl_expect load_status 4
	sl_one_line "$load_err" "mdev type differs: stream 'mtty-1', target 'mtty-2'"
}

@test "a target without PRE_COPY refuses a pre-copy source; without migration: exit 3" {
	sl_pipe vfio0,size=1M vfio1,flags=stop-copy -- "$D0" cat "$D1"
	sl_expect load_status 4
	sl_one_line "$load_err" "migration flags differ: stream STOP_COPY\|P2P\|PRE_COPY, target STOP_COPY \(target lacks PRE_COPY\)"

	rm -rf "$SL_SIM"
	sl_pipe vfio0,size=1M vfio1,flags=none -- "$D0" cat "$D1"
	sl_expect load_status 3
	sl_one_line "$load_err" "$D1: device does not support migration"
}

@test "the device rejecting the state is bad data: exit 4, reset" {
	sl_pipe vfio0,size=1M,seed=1 vfio1,expect-seed=2 -- "$D0" cat "$D1"
	sl_expect load_status 4
	sl_one_line "$load_err" "rejected.*; device $D1 reset, now RUNNING$"
	sl_expect_state vfio1 resets 1
}

@test "a stream device without a target: exit 2; a target for a device not in the stream: exit 4" {
	sl_pipe vfio0,size=1M vfio1,size=1M vfio2 -- "$D0 $D1" cat "$D2"
	sl_expect load_status 2
	sl_one_line "$load_err" "stream device 1 .* has no target: give one with -d or --map 1=DEV; device $D2 reset, now RUNNING$"

	rm -rf "$SL_SIM"
	sl_pipe vfio0,size=1M vfio1 vfio2 -- "$D0" cat "$D1 $D2"
	sl_expect load_status 4
	sl_one_line "$load_err" "target $D2 was given for stream device 1, which the stream does not have"
}

@test "a target for a device the stream does not have is refused at the stream's first data, before any target is touched" {
	sl_sim vfio0,size=8M -- vfio-mig-save -q "$D0" -o "$VMT_TMP/s.vms"
	local first_data
	first_data=$(migstream-cat --json "$VMT_TMP/s.vms" | jq -r 'select(.type == "DATA") | "\(.seq) \(.offset)"' | head -1)
	# a pre-copy stream: STREAM_HEADER, DEVICE and PRECOPY_INFO (ancillary) before its first DATA
	[ "$(migstream-cat --json "$VMT_TMP/s.vms" | jq -r .type | head -3 | tr '\n' ' ')" = "STREAM_HEADER DEVICE PRECOPY_INFO " ]
	for map in "$D1 $D2" "--map 0=$D1 --map 7=$D2" "--map 7=$D2 --map 0=$D1"; do
		rm -rf "$SL_SIM"
		run --separate-stderr sl_sim vfio1 vfio2 -- sh -c "vfio-mig-load $map <'$VMT_TMP/s.vms'"
		[ "$status" -eq 4 ]
		local idx=1
		[[ $map == *"7="* ]] && idx=7
		sl_one_line "$stderr" "^vfio-mig-load: error: <stdin>: record ${first_data% *} \(DATA\) at byte ${first_data#* }: target $D2 was given for stream device $idx, which the stream does not have \(it has device 0\); device /dev/vfio/devices/vfio[12] untouched, RUNNING; device /dev/vfio/devices/vfio[12] untouched, RUNNING\$"
		sl_expect_state vfio1 transitions 0
		sl_expect_state vfio2 transitions 0
		sl_expect_state vfio1 write_calls 0
		sl_expect_state vfio1 resets 0
		sl_expect_state vfio2 resets 0
	done
	# --dry-run says the same, and touches nothing either
	rm -rf "$SL_SIM"
	run --separate-stderr sl_sim vfio1 vfio2 -- sh -c "vfio-mig-load --dry-run $D1 $D2 <'$VMT_TMP/s.vms'"
	[ "$status" -eq 4 ]
	[[ "$(printf '%s\n' "$stderr" | tail -1)" == *"target $D2 was given for stream device 1, which the stream does not have (it has device 0)"* ]]
	sl_expect_state vfio1 transitions 0
}

# ---- failures on the way: each side ends safe, says so, right status ----

@test "reader gone (save | head -c 1M): save gets EPIPE, exit 1, source RUNNING" {
	sl_sim vfio0,size=8M -- bash -c "vfio-mig-save $D0 2>'$VMT_TMP/save.err' | head -c 1M >/dev/null
		echo \${PIPESTATUS[0]} >'$VMT_TMP/status'"
	read -r save_status <"$VMT_TMP/status"
	save_err=$(cat "$VMT_TMP/save.err")
	sl_expect save_status 1
	[[ $save_err == *"Broken pipe"* ]] || [[ $save_err == *EPIPE* ]]
	sl_expect_state vfio0 last_state RUNNING
}

@test "save killed mid-stream (SIGTERM, SIGINT, SIGKILL): load sees truncation, exit 4, target reset" {
	local sig
	for sig in TERM INT KILL; do
		rm -rf "$SL_SIM" "$VMT_TMP/fifo"
		sl_signal_pipeline vfio0,size=64M,read-delay-ms=20,chunk=256K vfio1 -- "$D0" "$D1" vfio1 save $sig
		sl_expect load_status 4
		sl_one_line "$load_err" "truncated.*; device $D1 reset, now RUNNING$"
		sl_expect_state vfio1 resets 1
		sl_expect_state vfio0 last_state RUNNING
		if [ $sig != KILL ]; then
			sl_expect save_status 1
			sl_one_line "$save_err" "SIG$sig|interrupted|signal"
		fi
	done
}

@test "SIGTERM and SIGINT to load mid-stream: exit 1, target reset; save sees EPIPE, source RUNNING" {
	local sig
	for sig in TERM INT; do
		rm -rf "$SL_SIM" "$VMT_TMP/fifo"
		sl_signal_pipeline vfio0,size=64M,read-delay-ms=20,chunk=256K vfio1 -- "$D0" "$D1" vfio1 load $sig
		sl_expect load_status 1
		sl_one_line "$load_err" "interrupted by SIG$sig .*; device $D1 reset, now RUNNING$"
		sl_expect_state vfio1 resets 1
		sl_expect save_status 1
		sl_expect_state vfio0 last_state RUNNING
	done
}

@test "SIGUSR1 to the whole pipeline (kill -USR1 %job): save switches over, load carries on" {
	local T=$VMT_TMP
	mkfifo "$T/fifo" "$T/ctl"
	sl_sim vfio0,size=1M,precopy-initial=64K vfio1 -- bash -c "
		vfio-mig-save --control-fd 3 $D0 3<>'$T/ctl' >'$T/fifo' 2>'$T/save.err' & save=\$!
		vfio-mig-load $D1 <'$T/fifo' 2>'$T/load.err' & load=\$!
		for i in \$(seq 400); do
			st=\$('$VMT_SRCDIR/tests/sim/vfiosim-state' --state-dir '$SL_SIM' vfio1 state 2>/dev/null || :)
			[ \"\$st\" = RESUMING ] && break
			sleep 0.05
		done
		kill -USR1 \$save \$load
		wait \$save; echo \$? >'$T/save.status'
		wait \$load; echo \$? >'$T/load.status'" || true
	save_status=$(cat "$T/save.status")
	load_status=$(cat "$T/load.status")
	save_err=$(cat "$T/save.err")
	load_err=$(cat "$T/load.err")
	sl_expect save_status 0
	sl_expect load_status 0
	sl_expect_state vfio1 load_verified ok
	sl_expect_state vfio1 state RUNNING
}

@test "target transition failures: into RESUMING, out of RESUMING, to RUNNING" {
	sl_pipe vfio0,size=1M 'vfio1,fail=stop>resuming:EIO' -- "$D0" cat "$D1"
	sl_expect load_status 1
	sl_one_line "$load_err" "$D1: cannot enter RESUMING: Input/output error; device $D1 reset, now RUNNING$"

	rm -rf "$SL_SIM"
	sl_pipe vfio0,size=1M 'vfio1,fail=resuming>stop:EIO' -- "$D0" cat "$D1"
	sl_expect load_status 1
	sl_one_line "$load_err" "failed to take the loaded state \(RESUMING -> STOP: Input/output error\); device $D1 reset, now RUNNING$"

	rm -rf "$SL_SIM"
	sl_pipe vfio0,size=1M 'vfio1,fail=running-p2p>running:EIO' -- "$D0" cat "$D1"
	sl_expect load_status 1
	sl_one_line "$load_err" "RUNNING_P2P -> RUNNING failed: Input/output error; device $D1 reset, now RUNNING$"
}

@test "target goes to ERROR on RESUMING -> STOP: exit 1, reset out of ERROR" {
	sl_pipe vfio0,size=1M 'vfio1,error-on=resuming>stop' -- "$D0" cat "$D1"
	sl_expect load_status 1
	sl_one_line "$load_err" "RESUMING -> STOP.*; device $D1 reset, now RUNNING$"
	sl_expect_state vfio1 last_state RUNNING
}

@test "EIO writing the target's data fd: exit 1, reset" {
	sl_pipe vfio0,size=4M vfio1,write-eio-after=1M -- "$D0" cat "$D1"
	sl_expect load_status 1
	sl_one_line "$load_err" "writing state bytes .* failed: Input/output error; device $D1 reset, now RUNNING$"
	sl_expect_state vfio1 resets 1
}

@test "EIO reading the source's data fd: save exit 1, source RUNNING; load exit 4, target reset" {
	sl_pipe vfio0,size=4M,read-eio-after=1M vfio1 -- "$D0" cat "$D1"
	sl_expect save_status 1
	sl_expect load_status 4
	sl_one_line "$load_err" "truncated.*; device $D1 reset, now RUNNING$"
	sl_expect_state vfio0 last_state RUNNING
	sl_expect_state vfio1 resets 1
}

@test "source transition failure (STOP -> STOP_COPY): save exit 1, source RUNNING, load exit 4" {
	sl_pipe 'vfio0,size=1M,flags=stop-copy+p2p,fail=stop>stop-copy:EIO' vfio1,flags=stop-copy+p2p -- "$D0" cat "$D1"
	sl_expect save_status 1
	sl_expect load_status 4
	sl_expect_state vfio0 last_state RUNNING
	[ "$(sl_state vfio1 load_verified)" != ok ]
}

@test "every arc of the target's walk failing (EIO): load exit 1, one line, target back to RUNNING" {
	local arc
	for arc in 'running>running-p2p' 'running-p2p>stop' 'stop>resuming' 'resuming>stop' \
		'stop>running-p2p' 'running-p2p>running'; do
		rm -rf "$SL_SIM"
		sl_pipe vfio0,size=1M "vfio1,fail=$arc:EIO" -- "$D0" cat "$D1"
		echo "arc $arc" >&2
		sl_expect load_status 1
		sl_one_line "$load_err" "^vfio-mig-load: error: .*Input/output error.*; device $D1 (reset|recovered), now RUNNING$"
		sl_expect_state vfio1 last_state RUNNING
	done
}

@test "every arc of the source's walk failing (EIO): save exit 1, source RUNNING; load refuses a cut stream" {
	local arc
	for arc in 'running>pre-copy' 'pre-copy>pre-copy-p2p' 'pre-copy-p2p>stop-copy' 'stop-copy>stop'; do
		rm -rf "$SL_SIM"
		sl_pipe "vfio0,size=1M,fail=$arc:EIO" vfio1 -- "--then running $D0" cat "$D1"
		echo "arc $arc" >&2
		sl_expect save_status 1
		sl_one_line "$save_err" "^vfio-mig-save: error: "
		sl_expect_state vfio0 last_state RUNNING
		if [ "$arc" = 'stop-copy>stop' ]; then
			# the state was all read and the stream finished before the
			# source failed to leave STOP_COPY: the load is valid
			[[ $save_err == *"stream complete, but"* ]]
			sl_expect load_status 0
			sl_same_digest vfio0 vfio1
			continue
		fi
		# the stream ends early: the target is reset, or never touched
		sl_expect load_status 4
		sl_one_line "$load_err" "; device $D1 (reset, now RUNNING|untouched, RUNNING)$"
		[ "$(sl_state vfio1 load_verified)" != ok ] || [ "$(sl_state vfio1 resets)" -eq 1 ]
		sl_expect_state vfio1 last_state RUNNING
	done
}

@test "source goes to ERROR entering STOP_COPY: save exit 1, source reset to RUNNING; load exit 4, target reset" {
	sl_pipe 'vfio0,size=1M,error-on=pre-copy-p2p>stop-copy' vfio1 -- "$D0" cat "$D1"
	sl_expect save_status 1
	sl_one_line "$save_err" "^vfio-mig-save: error: .*RUNNING"
	sl_expect_state vfio0 last_state RUNNING
	[ "$(sl_state vfio0 resets)" -ge 1 ]
	sl_expect load_status 4
	sl_one_line "$load_err" "truncated.*; device $D1 reset, now RUNNING$"
}
