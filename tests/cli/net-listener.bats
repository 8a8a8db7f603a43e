#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The listener lets no one in where they do not belong (issue 25, item 3):
# each stranger is refused with one line on the load's stderr and changes
# nothing, before the set arrives and while a real migration runs (a
# source read at 2 MiB/s: the migration lasts a few seconds, the strangers
# come meanwhile, the digests are checked at the end). And the faults of
# item 4: a connection cut, a peer that stops reading, a listener killed.

load helpers
load load-helpers
load net-helpers

setup() {
	sl_setup
	PORT=$(net_port)
	# a slow source: about 4 s of stop-copy, read in 20 ms buckets
	SLOW=vfio0,close-reset=no,seed=3,size=8M,read-rate=2M
	SAVE="-o tcp:127.0.0.1:$PORT --insecure-no-tls -d $D0"
	LOAD="--listen tcp::$PORT --insecure-no-tls --handshake-timeout 1s -d $D1"
}

# The lines the load logged about strangers.
refusals() {
	printf '%s\n' "$load_err" | grep "tcp::$PORT: refused " || true
}

# Exactly n refusals, each one line naming the peer; the last matches REGEX.
expect_refusals() {
	local n=$1 regex=$2 got
	got=$(refusals | grep -c .) || got=0
	if [ "$got" -ne "$n" ] || ! refusals | tail -1 | grep -Eq -- "refused 127\.0\.0\.1:[0-9]+: $regex"; then
		echo "expected $n refusals, the last /$regex/; load stderr:" >&2
		printf '%s\n' "$load_err" >&2
		return 1
	fi
}

migrated() {
	sl_expect save_status 0
	sl_expect load_status 0
	sl_same_digest vfio0 vfio1
	sl_expect_state vfio0 state STOP
	sl_expect_state vfio1 state RUNNING
}

# Shell text for DURING: wait until the target is RESUMING (the stream flows).
flowing="for i in \$(seq 200); do [ \"\$('$VMT_SRCDIR/tests/sim/vfiosim-state' --state-dir '$SL_SIM' vfio1 state 2>/dev/null)\" = RESUMING ] && break; sleep 0.05; done"

# Shell text: send the file $1 to the listener and hold the connection a moment.
send_file() {
	echo "{ cat '$1'; sleep 0.5; } >/dev/tcp/127.0.0.1/$PORT 2>/dev/null || :"
}

@test "strangers: garbage before the save is refused and does not name the set" {
	net_migrate "$SLOW" vfio1,seed=3 -- "$SAVE" "$LOAD" \
		"printf 'GET / HTTP/1.0\r\n\r\n%.0s' {1..20} >/dev/tcp/127.0.0.1/$PORT"
	migrated
	expect_refusals 1 'not a migstream \(garbage\)'
}

@test "strangers: garbage, a stalled peer and a set of one's second stream during a migration" {
	local during
	# a valid stream of no set: beyond the set of one that is migrating
	sl_sim vfio2,seed=9 -- vfio-mig-save -o "$VMT_TMP/other.vms" -d "$D2"
	during="$flowing
		printf 'garbage%.0s' {1..1000} >/dev/tcp/127.0.0.1/$PORT 2>/dev/null || :
		exec 3<>/dev/tcp/127.0.0.1/$PORT
		$(send_file "$VMT_TMP/other.vms")
		sleep 1.5"
	net_migrate "$SLOW" vfio1,seed=3 vfio2,seed=9 -- "$SAVE" "$LOAD" "$during"
	migrated
	printf '%s\n' "$load_err" | grep -Eq "refused 127\.0\.0\.1:[0-9]+: not a migstream \(garbage\)$"
	printf '%s\n' "$load_err" | grep -Eq "refused 127\.0\.0\.1:[0-9]+: a connection beyond the set's 1 channels$"
	printf '%s\n' "$load_err" | grep -Eq "refused 127\.0\.0\.1:[0-9]+: no stream within the handshake timeout$"
	[ "$(refusals | grep -c .)" -eq 3 ]
	# no stranger touched a device: vfio2 saved once, the target loaded once
	sl_expect_state vfio1 resets 0
}

@test "strangers: a valid channel of another set during a migration of 2 channels" {
	local during
	sl_sim vfio2,seed=9 -- vfio-mig-save -o "$VMT_TMP/a.vms" -o "$VMT_TMP/b.vms" -d "$D2"
	during="$flowing
		$(send_file "$VMT_TMP/b.vms")"
	net_migrate "$SLOW" vfio1,seed=3 vfio2,seed=9 -- "$SAVE --channels 2" "$LOAD" "$during"
	migrated
	expect_refusals 1 'a stream of another set \([0-9a-f]{32}\), not set [0-9a-f]{32}$'
}

@test "strangers: a peer that sends nothing is dropped after --handshake-timeout, one line" {
	local during start
	during="exec 3<>/dev/tcp/127.0.0.1/$PORT; $flowing; sleep 1.5"
	net_migrate "$SLOW" vfio1,seed=3 -- "$SAVE" "$LOAD" "$during"
	migrated
	expect_refusals 1 'no stream within the handshake timeout$'
}

# fault WHO SIG [SAVE_EXTRA]: start the slow migration, then once the
# stream flows send SIG to WHO (save or load); the other end must fail on
# its own. Sets the statuses and stderrs, and the time the survivor took
# after the signal, in ms, as survivor_ms.
fault() {
	local who=$1 sig=$2 extra=${3:-} T=$VMT_TMP
	sl_sim "$SLOW" vfio1,seed=3,close-reset=no -- bash -c "
		vfio-mig-load $LOAD 2>'$T/load.err' & load=\$!
		for i in \$(seq 200); do grep -q listening '$T/load.err' && break; sleep 0.05; done
		vfio-mig-save $SAVE $extra 2>'$T/save.err' & save=\$!
		$flowing
		sleep 0.5
		kill -$sig \$$who; t0=\$(date +%s%N)
		if [ $who = save ]; then wait \$load; echo \$? >'$T/load.status'; else wait \$save; echo \$? >'$T/save.status'; fi
		echo \$(( (\$(date +%s%N) - t0) / 1000000 )) >'$T/ms'
		kill -CONT \$load 2>/dev/null || :
		wait \$save; echo \$? >>'$T/save.status'
		wait \$load; echo \$? >>'$T/load.status'" || true
	save_status=$(head -1 "$T/save.status")
	load_status=$(head -1 "$T/load.status")
	save_err=$(cat "$T/save.err")
	load_err=$(cat "$T/load.err")
	survivor_ms=$(cat "$T/ms")
}

@test "faults: the listener killed mid-stream: the save fails in one line, the source RUNNING again" {
	fault load KILL
	sl_expect save_status 1
	sl_one_line "$save_err" "^vfio-mig-save: error: .*tcp:127\.0\.0\.1:$PORT.*device $D0 now RUNNING\$"
	sl_expect_state vfio0 state RUNNING
	[ "$survivor_ms" -lt 5000 ]
}

@test "faults: the save killed mid-stream: the load fails in one line, the target reset" {
	fault save KILL
	sl_expect load_status 4
	sl_one_line "$load_err" "^vfio-mig-load: error: .*tcp::$PORT.*device $D1 reset, now RUNNING\$" ||
		sl_one_line "$(printf '%s\n' "$load_err" | grep -v listening)" "device $D1 reset"
	[ "$(sl_state vfio1 resets)" -ge 1 ]
	[ "$survivor_ms" -lt 5000 ]
}

@test "faults: a load that stops reading: the save fails after --return-timeout, the source RUNNING" {
	# more state than every buffer on the way holds (socketpairs, TCP)
	SLOW=vfio0,close-reset=no,seed=3,size=96M,read-rate=32M
	fault load STOP "--return-timeout 1s"
	sl_expect save_status 1
	sl_one_line "$save_err" "^vfio-mig-save: error: .*it stopped reading.*device $D0 now RUNNING\$"
	sl_expect_state vfio0 state RUNNING
	[ "$survivor_ms" -lt 6000 ]
	# once it reads again, the load finds its stream cut short and resets its target
	[ "$load_status" -ne 0 ]
	[ "$(sl_state vfio1 resets)" -ge 1 ]
}

@test "faults: a connection reset mid-stream (a relay): both ends fail in one line, source RUNNING, target reset" {
	net_through_relay "$SLOW" vfio1,seed=3,close-reset=no -- "$LOAD" "--insecure-no-tls -d $D0"
	sl_expect save_status 1
	sl_one_line "$save_err" "^vfio-mig-save: error: .*device $D0 now RUNNING\$"
	sl_expect_state vfio0 state RUNNING
	[ "$load_status" -ne 0 ]
	sl_one_line "$(printf '%s\n' "$load_err" | grep -v ': listening$')" "^vfio-mig-load: error: .*tcp::$PORT.*device $D1 reset, now RUNNING\$"
	[ "$(sl_state vfio1 resets)" -ge 1 ]
}
