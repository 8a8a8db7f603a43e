#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
#
# vfio-precopy-info on the simulator (tests/sim): figures, modes, devices
# without PRE_COPY, failures, and that the device always ends where it was.

load helpers

setup() {
	vmt_sim_setup vfio-precopy-info
	DEV=/dev/vfio/devices/vfio0
}

# sim DEVICE-SPEC -- command...: run under the simulator with one device
sim() {
	local spec=$1
	shift
	"$SIM" --state-dir "$STATE" --device "$spec" "$@"
}

# sim_error STATUS REGEX DEVICE-SPEC -- command...: exit STATUS, one-line error
sim_error() {
	local want=$1 regex=$2
	shift 2
	vmt_run "$want" sim "$@"
	vmt_one_line_error vfio-precopy-info "$regex"
}

sim_state() {
	"$VMT_SRCDIR/tests/sim/vfiosim-state" --state-dir "$STATE" vfio0 "$1"
}

@test "one shot: flags, state, stop-copy size, initial bytes; device back in RUNNING" {
	vmt_run 0 sim vfio0,flags=stop-copy+p2p+pre-copy,size=96K,precopy-initial=48K \
		-- vfio-precopy-info -d "$DEV"
	[[ "$output" == *"migration flags:  STOP_COPY|P2P|PRE_COPY (0x7)"* ]]
	[[ "$output" == *"state:            RUNNING"* ]]
	[[ "$output" == *"stop-copy size:   98304 bytes"* ]]
	[[ "$output" == *"pre-copy:         initial 49152 bytes, dirty 0 bytes (in PRE_COPY)"* ]]
	[ "$(sim_state state)" = RUNNING ]
	[ "$(sim_state arcs)" = "RUNNING>PRE_COPY,PRE_COPY>RUNNING" ]
}

@test "positional device and --json: device, sample and estimate objects" {
	vmt_run 0 sim vfio0,size=96K,precopy-initial=48K \
		-- vfio-precopy-info --json --bandwidth 1M /dev/vfio/devices/vfio0
	[ "$(printf '%s\n' "$output" | jq -r 'select(.type=="device") | .migration_flags')" = 7 ]
	[ "$(printf '%s\n' "$output" | jq -r 'select(.type=="device") | .stop_copy_bytes')" = 98304 ]
	[ "$(printf '%s\n' "$output" | jq -r 'select(.type=="sample") | .initial_bytes')" = 49152 ]
	[ "$(printf '%s\n' "$output" | jq -r 'select(.type=="estimate") | .meets_downtime')" = true ]
	[ "$(printf '%s\n' "$output" | jq -r 'select(.type=="estimate") | .converges')" = null ]
}

@test "--no-precopy reports without touching the state" {
	vmt_run 0 sim vfio0 -- vfio-precopy-info --no-precopy -d "$DEV"
	[[ "$output" == *"state:            RUNNING"* ]]
	[[ "$output" != *"pre-copy:"* ]]
	[ "$(sim_state transitions)" = 0 ]
}

@test "--watch --count: a table of samples at the interval" {
	vmt_run 0 sim vfio0,precopy-initial=48K -- vfio-precopy-info -q --watch 20ms --count 4 -d "$DEV"
	[ "$(printf '%s\n' "$output" | grep -c ' PRE_COPY ')" = 4 ]
	[[ "${lines[0]}" == *"TIME"*"STATE"*"INITIAL"*"DIRTY"*"STOP-COPY"*"DRAINED"*"NEW/s"* ]]
	[ "$(sim_state state)" = RUNNING ]
}

@test "--drain: initial bytes go to zero and per-round dirty data shows" {
	vmt_run 0 sim vfio0,precopy-initial=48K,dirty-per-round=4800,dirty-rounds=100 \
		-- vfio-precopy-info --json --drain --watch 10ms --count 4 -d "$DEV"
	samples=$(printf '%s\n' "$output" | jq -c 'select(.type=="sample")')
	[ "$(printf '%s\n' "$samples" | head -1 | jq .initial_bytes)" = 49152 ]
	[ "$(printf '%s\n' "$samples" | sed -n 2p | jq .initial_bytes)" = 0 ]
	# each drain reaches the temporary end once: one more dirty round each time
	[ "$(printf '%s\n' "$samples" | sed -n 3p | jq .dirty_bytes)" = 4800 ]
	[ "$(printf '%s\n' "$samples" | tail -1 | jq .drained_total_bytes)" -gt 49152 ]
	[ "$(sim_state precopy_bytes)" = "$(printf '%s\n' "$samples" | tail -1 | jq .drained_total_bytes)" ]
	[ "$(sim_state state)" = RUNNING ]
}

@test "--drain works with mtty-style devices (read() returns 0 at the temporary end)" {
	vmt_run 0 sim vfio0,precopy-initial=48K,precopy-eof=zero \
		-- vfio-precopy-info --json --drain -d "$DEV"
	[ "$(printf '%s\n' "$output" | jq -s '[.[] | select(.type=="sample")] | .[1].drained_bytes')" = 49152 ]
	[ "$(sim_state enomsg)" = 0 ]
}

# drain_is_reported: every drain (from the 2nd sample on) read what the sample
# before reported, initial + dirty: the kernel's rule for a drained device
# (mlx5vf_precopy_ioctl makes new state readable; read() alone finds none;
# tests/kernel/vfio-precopy-info.bats checks it on mtty).
drain_is_reported() {
	jq -se '[.[] | select(.type == "sample")] as $s | [range(1; $s | length) as $i
		| select($s[$i].drained_bytes != $s[$i - 1].initial_bytes + $s[$i - 1].dirty_bytes)
		| "sample \($i): drained \($s[$i].drained_bytes), reported \($s[$i - 1].initial_bytes + $s[$i - 1].dirty_bytes)"]
		| if length == 0 and ($s | length) > 1 then true else (.[] | debug) | false end' >/dev/null
}

@test "--drain of dirty-rate=20M reads back 20M/s: each drain is what the sample before reported" {
	# issue 22 item 23: it read back 156-481 MB/s, the simulator cutting dirt in every read()
	vmt_run 0 sim vfio0,precopy-initial=48K,dirty-rate=20M \
		-- vfio-precopy-info --json --drain --watch 200ms --count 4 --bandwidth 1G -d "$DEV"
	printf '%s\n' "$output" | drain_is_reported
	# so every drain ended at the temporary end (ENOMSG), none at the next sample's time
	[ "$(sim_state enomsg)" = 3 ]
	# the mean from the simulator's clock (dirt) over the tool's (sample times): 20 MiB/s
	rate=$(printf '%s\n' "$output" | jq 'select(.type=="estimate") | .new_bytes_per_s')
	echo "new bytes per second: $rate"
	jq -en --argjson r "$rate" '$r > 0.5 * 20971520 and $r < 1.5 * 20971520'
	[ "$(sim_state state)" = RUNNING ]
}

@test "--drain -o FILE: the drained data as a stream that migstream-cat verifies" {
	vmt_require_tool migstream-cat
	vmt_run 0 sim vfio0,precopy-initial=48K,dirty-per-round=4800,dirty-rounds=1 \
		-- vfio-precopy-info -q --drain --watch 10ms --count 3 -o "$VMT_TMP/pre.vms" -d "$DEV"
	vmt_run 0 migstream-cat --verify "$VMT_TMP/pre.vms"
	migstream-cat --extract=0 "$VMT_TMP/pre.vms" >"$VMT_TMP/pre.raw"
	[ "$(vmt_size "$VMT_TMP/pre.raw")" = "$(sim_state precopy_bytes)" ]
	vmt_run 0 migstream-cat --json "$VMT_TMP/pre.vms"
	[ "$(printf '%s\n' "$output" | grep -c '"PRECOPY_INFO"')" = 3 ]
}

# A device with pre-copy info v2 whose initial section starts again once
# 64K were read: the 5th drain (48K initial, then 4800 per round) crosses it.
REINIT_DEV=vfio0,precopy-info-v2=yes,precopy-initial=48K,reinit-after=64K,reinit-bytes=32K,dirty-per-round=4800,dirty-rounds=100

@test "REINIT (pre-copy info v2): one sample says it, the estimate starts from it (JSON)" {
	vmt_run 0 sim "$REINIT_DEV" \
		-- vfio-precopy-info -v --json --drain --watch 10ms --count 8 --bandwidth 1M -d "$DEV"
	[[ "$stderr" == *"pre-copy info v2 (REINIT reported)"* ]]
	samples=$(printf '%s\n' "$output" | jq -c 'select(.type == "sample")')
	[ "$(jq -r .reinit <<<"$samples" | paste -sd,)" = false,false,false,false,false,true,false,false ]
	reinit=$(jq -c 'select(.reinit)' <<<"$samples")
	# its jump is a new section, not state made in the interval: no rate
	[ "$(jq .new_bytes_per_s <<<"$reinit")" = null ]
	estimate=$(printf '%s\n' "$output" | jq -c 'select(.type == "estimate")')
	[ "$(jq .reinits <<<"$estimate")" = 1 ]
	[ "$(jq .reinit_time_s <<<"$estimate")" = "$(jq .time_s <<<"$reinit")" ]
	[ "$(jq .pending_bytes <<<"$estimate")" = "$(jq '.initial_bytes + .dirty_bytes' <<<"$reinit")" ]
	[ "$(jq .converges <<<"$estimate")" = true ]
	[ "$(sim_state precopy_v2)" = 1 ]
	[ "$(sim_state reinits)" = 1 ]
	[ "$(sim_state state)" = RUNNING ]
}

@test "REINIT in the table and the estimate's text; without --watch a reinit line" {
	vmt_run 0 sim "$REINIT_DEV" \
		-- vfio-precopy-info -q --drain --watch 10ms --count 8 --bandwidth 1M -d "$DEV"
	[[ "${lines[0]}" == *"NEW/s"*"REINIT" ]]
	[ "$(printf '%s\n' "$output" | grep ' PRE_COPY ' | awk '{ print $NF }' | paste -sd,)" = no,no,no,no,no,yes,no,no ]
	[[ "$output" == *"reinit:         1 new initial section(s); figures from the last, at "* ]]
	vmt_run 0 sim vfio0,precopy-info-v2=yes,precopy-initial=48K,reinit-after=1,reinit-bytes=32K \
		-- vfio-precopy-info --drain -d "$DEV"
	[[ "$output" == *"reinit:           new initial data (VFIO_PRECOPY_INFO_REINIT)"* ]]
}

@test "pre-copy info v1 (6.12): REINIT cannot be said: null, \"-\", and -v says v1" {
	vmt_run 0 sim vfio0,precopy-initial=48K,reinit-after=64K,dirty-per-round=4800,dirty-rounds=100 \
		-- vfio-precopy-info -v --json --drain --watch 10ms --count 3 --bandwidth 1M -d "$DEV"
	[[ "$stderr" == *"pre-copy info v1 (the kernel does not offer v2)"* ]]
	[ "$(printf '%s\n' "$output" | jq -r 'select(.type == "sample") | .reinit' | sort -u)" = null ]
	[ "$(printf '%s\n' "$output" | jq -c 'select(.type == "estimate") | [.reinits, .reinit_time_s]')" = "[0,null]" ]
	vmt_run 0 sim vfio0,precopy-initial=48K -- vfio-precopy-info -q --watch 10ms --count 2 -d "$DEV"
	[ "$(printf '%s\n' "$output" | grep ' PRE_COPY ' | awk '{ print $NF }' | sort -u)" = - ]
	[ "$(sim_state reinits)" = 0 ]
}

@test "--stream: PRECOPY_INFO records on stdout, report on stderr" {
	vmt_require_tool migstream-cat
	sim vfio0,precopy-initial=48K -- vfio-precopy-info -q --stream --watch 10ms --count 3 \
		-d "$DEV" >"$VMT_TMP/info.vms" 2>"$VMT_TMP/err"
	# -q beside a stream: no report at all (man page)
	[ ! -s "$VMT_TMP/err" ]
	vmt_run 0 migstream-cat --verify "$VMT_TMP/info.vms"
	vmt_run 0 migstream-cat --json "$VMT_TMP/info.vms"
	[ "$(printf '%s\n' "$output" | grep -c '"PRECOPY_INFO"')" = 3 ]
}

@test "--stream refuses a terminal unless forced" {
	VMT_FORCE_TTY=1 sim_error 2 'terminal' vfio0 -- vfio-precopy-info --stream -d "$DEV"
	[ "$(sim_state transitions 2>/dev/null || echo 0)" = 0 ]
}

@test "estimate: a device that dirties faster than the bandwidth does not converge" {
	vmt_run 0 sim vfio0,precopy-initial=48K,dirty-rate=64M \
		-- vfio-precopy-info --watch 50ms --count 4 --bandwidth 1M -d "$DEV"
	[[ "$output" == *"does NOT converge"* ]]
	vmt_run 0 sim vfio0,precopy-initial=48K,dirty-rate=64M \
		-- vfio-precopy-info --watch 50ms --count 4 --bandwidth 100G -d "$DEV"
	[[ "$output" == *"pre-copy:       converges"* ]]
}

@test "estimate: stop-copy time against the downtime target" {
	vmt_run 0 sim vfio0,size=1M -- vfio-precopy-info --bandwidth 1M --downtime 2s -d "$DEV"
	[[ "$output" == *"within the 2.000 s target"* ]]
	vmt_run 0 sim vfio0,size=1M -- vfio-precopy-info --bandwidth 1M --downtime 500ms -d "$DEV"
	[[ "$output" == *"OVER the 0.500 s target"* ]]
}

@test "device without PRE_COPY: facts only, exit 3 when pre-copy figures are asked" {
	vmt_run 0 sim vfio0,flags=stop-copy,size=96K -- vfio-precopy-info -d "$DEV"
	[[ "$output" == *"pre-copy:         not supported"* ]]
	[[ "$output" == *"stop-copy size:   98304 bytes"* ]]
	sim_error 3 'no PRE_COPY support' vfio0,flags=stop-copy \
		-- vfio-precopy-info -q --watch 10ms --count 2 -d "$DEV"
	sim_error 3 'no PRE_COPY support' vfio0,flags=stop-copy -- vfio-precopy-info -q --precopy -d "$DEV"
	[ "$(sim_state transitions)" = 0 ]
}

@test "device without migration: exit 3" {
	sim_error 3 'does not support VFIO migration' vfio0,flags=none \
		-- vfio-precopy-info -d "$DEV"
}

@test "RUNNING -> PRE_COPY fails: exit 1, device still RUNNING" {
	sim_error 1 'RUNNING -> PRE_COPY failed: Input/output error; device /dev/vfio/devices/vfio0 now RUNNING$' vfio0,fail=running\>pre-copy:EIO \
		-- vfio-precopy-info -d "$DEV"
	[ "$(sim_state state)" = RUNNING ]
}

@test "PRE_COPY -> RUNNING fails: recovered by reset, and said so" {
	vmt_run 1 sim vfio0,fail=pre-copy\>running:EIO -- vfio-precopy-info -q -d "$DEV"
	[[ "$stderr" == *"could not return to RUNNING"* ]]
	[[ "$stderr" == *"recovered: device is now RUNNING (after a reset)"* ]]
	[ "$(sim_state resets)" = 1 ]
	[ "$(sim_state last_state)" = RUNNING ]
}

@test "EIO while draining: exit 1, device back in RUNNING" {
	sim_error 1 'reading pre-copy data: Input/output error; device /dev/vfio/devices/vfio0 now RUNNING$' \
		vfio0,precopy-initial=1M,read-eio-after=4096 -- vfio-precopy-info -q --drain -d "$DEV"
	[ "$(sim_state last_state)" = RUNNING ]
}

@test "--json: a failure ends the lines with \"ok\": false and the error line" {
	vmt_run 1 sim vfio0,precopy-initial=1M,read-eio-after=4096 \
		-- vfio-precopy-info --json --drain --watch 10ms --count 3 --bandwidth 1M -d "$DEV"
	last=${lines[-1]}
	[ "$(jq -r '.schema, .type, .ok, .error.errno, .error.exit_code, .error.device' <<<"$last" | paste -sd' ')" = \
		"vfio-precopy-info/1 error false EIO 1 $DEV" ]
	# the same line as on stderr, which says where the device is now
	[ "vfio-precopy-info: error: $(jq -r .error.message <<<"$last")" = "$stderr" ]
	[[ "$stderr" == *"reading pre-copy data: Input/output error; device $DEV now RUNNING" ]]
	# after the samples and the estimate: the last line
	[ "$(printf '%s\n' "$output" | jq -r .type | paste -sd,)" = device,sample,estimate,error ]
	[ "$(sim_state last_state)" = RUNNING ]
}

@test "--json: failures before sampling are a JSON line too (no device, no PRE_COPY, restore fails)" {
	vmt_run 1 sim vfio0 -- vfio-precopy-info --json -d /dev/vfio/devices/vfio7
	[ "${#lines[@]}" = 1 ]
	[ "$(jq -r '.type, .ok, .error.errno, .error.device' <<<"$output" | paste -sd' ')" = \
		"error false ENOENT /dev/vfio/devices/vfio7" ]
	vmt_run 3 sim vfio0,flags=stop-copy -- vfio-precopy-info --json --precopy -d "$DEV"
	[ "$(jq -r 'select(.type == "error") | .error.exit_code' <<<"$output")" = 3 ]
	vmt_run 1 sim vfio0,fail=pre-copy\>running:EIO -- vfio-precopy-info --json -d "$DEV"
	[ "$(jq -r 'select(.type == "error") | .error.message' <<<"$output")" = \
		"$DEV: could not return to RUNNING: Input/output error; device $DEV reset, now RUNNING" ]
	# with a stream on stdout the lines, the error line too, are on stderr
	sim vfio0,precopy-initial=1M,read-eio-after=4096 -- vfio-precopy-info --json --drain -o - \
		-d "$DEV" >"$VMT_TMP/s.vms" 2>"$VMT_TMP/err" || true
	grep '^{' "$VMT_TMP/err" | tail -1 | jq -e '.ok == false' >/dev/null
}

@test "the drained stream's reader goes away (EPIPE): named as a write error, device RUNNING" {
	vmt_run 0 sim vfio0,precopy-initial=4M -- bash -c "
		vfio-precopy-info -q --drain -o - -d $DEV | head -c 2000 >/dev/null
		echo status=\${PIPESTATUS[0]} >'$VMT_TMP/status'"
	grep -qx status=1 "$VMT_TMP/status"
	errors=$(printf '%s\n' "$stderr" | grep '^vfio-precopy-info: error: ')
	[ "$errors" = "vfio-precopy-info: error: <stdout>: writing the stream: Broken pipe; device $DEV now RUNNING" ]
	[ "$(sim_state last_state)" = RUNNING ]
}

@test "the report's reader goes away (EPIPE on stdout): exit 1, device RUNNING, no hang" {
	# issue 11 item 4: the report's write error must end the watch, not wait for a signal
	vmt_run 0 sim vfio0 -- bash -c "
		timeout 10 vfio-precopy-info -d $DEV -w 100ms | head -1 >/dev/null
		echo status=\${PIPESTATUS[0]} >'$VMT_TMP/status'"
	grep -qx status=1 "$VMT_TMP/status"
	errors=$(printf '%s\n' "$stderr" | grep '^vfio-precopy-info: error: ')
	[ "$errors" = "vfio-precopy-info: error: <stdout>: writing the report: Broken pipe; device $DEV now RUNNING" ]
	[ "$(sim_state arcs)" = "RUNNING>PRE_COPY,PRE_COPY>RUNNING" ]
	[ "$(sim_state last_state)" = RUNNING ]
}

@test "SIGINT during --watch: device back in RUNNING, exit 0" {
	sim vfio0 -- vfio-precopy-info -q --watch 50ms -d "$DEV" >"$VMT_TMP/out" 2>"$VMT_TMP/err" &
	pid=$!
	for _ in $(seq 100); do
		[ "$(grep -c PRE_COPY "$VMT_TMP/out" 2>/dev/null)" -ge 2 ] && break
		sleep 0.05
	done
	pkill -INT -f 'vfio-precopy-info -q --watch 50ms' || true
	wait "$pid"
	[ "$(sim_state arcs)" = "RUNNING>PRE_COPY,PRE_COPY>RUNNING" ]
	[ "$(sim_state last_state)" = RUNNING ]
}

@test "a stop signal just before the sleep between samples ends the sleep" {
	# issue 11 item 13: SIGINT lands after the loop's check, before the wait starts
	# (tests/cli/signal-before-wait.c); a plain sleep would last the whole hour
	vmt_run 0 sim vfio0 -- sh -c 'exec timeout 20 env LD_PRELOAD="$LD_PRELOAD:$0" \
		VMT_SIGNAL_BEFORE_WAIT=2 vfio-precopy-info -q --watch 1h -d "$1"' \
		"$VMT_BUILDDIR/.libs/libsignal-before-wait.so" "$DEV"
	[ "$(printf '%s\n' "$output" | grep -c ' PRE_COPY ')" -eq 1 ]
	[ "$(sim_state arcs)" = "RUNNING>PRE_COPY,PRE_COPY>RUNNING" ]
	[ "$(sim_state last_state)" = RUNNING ]
}

@test "SIGINT while a --drain read is blocked in the driver: not restarted, device RUNNING" {
	# each read sleeps 10 s in the "driver"; the signal must end the one under way
	sim vfio0,precopy-initial=1M,chunk=1M,read-delay-ms=10000 -- \
		vfio-precopy-info -q --drain --watch 100ms -d "$DEV" >"$VMT_TMP/out" 2>"$VMT_TMP/err" &
	pid=$!
	for _ in $(seq 200); do
		[ "$(sim_state state 2>/dev/null)" = PRE_COPY ] && break
		sleep 0.05
	done
	sleep 0.5
	pkill -INT -f '^vfio-precopy-info -q --drain --watch 100ms' || true
	wait "$pid"
	[ "$(sim_state saved_bytes)" -eq 0 ]
	[ "$(sim_state arcs)" = "RUNNING>PRE_COPY,PRE_COPY>RUNNING" ]
	[ "$(sim_state last_state)" = RUNNING ]
}

@test "SIGUSR1 (vfio-mig-save's switchover request) does not kill it in PRE_COPY" {
	sim vfio0 -- vfio-precopy-info -q --watch 50ms -d "$DEV" >"$VMT_TMP/out" 2>"$VMT_TMP/err" &
	pid=$!
	for _ in $(seq 100); do
		[ "$(grep -c PRE_COPY "$VMT_TMP/out" 2>/dev/null)" -ge 2 ] && break
		sleep 0.05
	done
	pkill -USR1 -f '^vfio-precopy-info -q --watch 50ms' || true
	sleep 0.2
	pkill -INT -f '^vfio-precopy-info -q --watch 50ms' || true
	wait "$pid"
	[ "$(sim_state arcs)" = "RUNNING>PRE_COPY,PRE_COPY>RUNNING" ]
	[ "$(sim_state last_state)" = RUNNING ]
}

@test "a device found in STOP: the facts, then exit 1, state untouched, as the man page says" {
	# issue 11 item 13
	vmt_run 0 sim vfio0,close-reset=no -- sh -c \
		"vfio-mig-save -q --then stop -o '$VMT_TMP/s.vms' $DEV &&
		 vfio-precopy-info -d $DEV >'$VMT_TMP/out' 2>'$VMT_TMP/err'; echo status=\$? >'$VMT_TMP/status'"
	grep -qx status=1 "$VMT_TMP/status"
	grep -q '^state: *STOP$' "$VMT_TMP/out"
	grep -q 'the device is in STOP; sampling pre-copy needs RUNNING or RUNNING_P2P' "$VMT_TMP/err"
	[ "$(sim_state state)" = STOP ]
	sed -n '/^\.SH EXIT STATUS/,/^\.SH /p' "$VMT_SRCDIR/man/vfio-precopy-info.1" |
		tr '\n' ' ' | grep -q 'such as STOP or PRE_COPY'
}

@test "-o FILE: a failed run leaves an existing FILE as it was (lib/common/outfile)" {
	mkdir "$VMT_TMP/out"
	printf 'keep me\n' >"$VMT_TMP/out/keep.vms"
	sim_error 1 'reading pre-copy data: Input/output error; device /dev/vfio/devices/vfio0 now RUNNING$' \
		vfio0,precopy-initial=1M,read-eio-after=4096 -- \
		vfio-precopy-info -q --drain -o "$VMT_TMP/out/keep.vms" -d "$DEV"
	[ "$(cat "$VMT_TMP/out/keep.vms")" = "keep me" ]
	[ "$(ls "$VMT_TMP/out")" = keep.vms ]
}

@test "-z takes its level attached, never the next word (lib/common/cli)" {
	vmt_run_error 2 "unexpected argument '9'" vfio-precopy-info --stream -z 9 -d "$DEV"
	vmt_run_error 2 "invalid --compress argument" vfio-precopy-info --stream -z99 -d "$DEV"
	sim vfio0 -- vfio-precopy-info -q --stream -z9 --count 1 -d "$DEV" >"$VMT_TMP/s.vms"
	vmt_run 0 migstream-cat --verify "$VMT_TMP/s.vms"
}

@test "usage errors exit 2 with one line" {
	vmt_run_error 2 'no device given' vfio-precopy-info
	vmt_run_error 2 'needs --drain' vfio-precopy-info -o x -d "$DEV"
	vmt_run_error 2 "invalid --watch argument: 'soon'" vfio-precopy-info --watch soon -d "$DEV"
	vmt_run_error 2 "invalid --bandwidth argument" vfio-precopy-info --bandwidth fast -d "$DEV"
	vmt_run_error 2 'does not go with' vfio-precopy-info --no-precopy --drain -d "$DEV"
}

@test "a device that does not exist: exit 1 naming it" {
	sim_error 1 '/dev/vfio/devices/vfio7: cannot open the device' vfio0 \
		-- vfio-precopy-info -d /dev/vfio/devices/vfio7
}
