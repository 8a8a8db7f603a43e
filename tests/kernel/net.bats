#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The socket transport between two real mtty instances (Linux 6.12, issue
# 25 item 6): vfio-mig-save -o tcp:127.0.0.1:PORT into vfio-mig-load
# --listen on the guest's loopback, with TLS (PSK and x509), over 1 and 3
# channels, the return path implied (switchover-ack, load result). mtty A
# is given a distinctive state (mtty-regs set) that B must show after the
# load. Strangers come while a migration is held in pre-copy
# (--control-fd): each is refused in one line and the migration goes on.
# A relay killed mid-migration cuts the connection: the source is RUNNING
# again, the target reset, each tool exits with its class's code.
#
# The credentials are tests/net/make-certs's, made on the host by
# check-kernel and copied in as /vmt/data/net-certs.

load helpers
# MTTY_REGS_SET: A's state as `mtty-regs show` prints it
load qemu-helpers

CERTS=${VMT_DATA:-/vmt/data}/net-certs

setup() {
	vmt_require_guest
	[ -f "$CERTS/keys.psk" ] ||
		skip "no $CERTS (check-kernel makes it with tests/net/make-certs, which needs certtool)"
	mtty_pairs
	mtty-regs set "$SRC"
	PORT=$((4000 + BATS_TEST_NUMBER * 10))
	BG=()
}

teardown() {
	local pid
	for pid in "${BG[@]}"; do
		kill -KILL "$pid" 2>/dev/null || :
	done
	mtty_remove_all
}

# the migration state of a device, as vfio-precopy-info reports it without moving it
state_of() {
	vfio-precopy-info --no-precopy -d "$1" | sed -n 's/^state: *//p'
}

# wait_for FILE REGEX [SECONDS]: until a line of FILE matches (default 30 s)
wait_for() {
	local i
	for ((i = 0; i < ${3:-30} * 20; i++)); do
		grep -Eq -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "wait_for: no /$2/ in $1 after ${3:-30} s:" >&2
	cat "$1" >&2 || :
	return 1
}

# tls_args KIND ROLE: the TLS options of one end; KIND psk or x509
tls_args() {
	case $1 in
	psk) echo "--tls-psk $CERTS/keys.psk" ;;
	x509) echo "--tls-creds $CERTS/$2" ;;
	esac
}

# start_load KIND [ARGS...]: vfio-mig-load --listen in the background into
# DST; returns once it listens. Its stderr is $T/load.err, its pid LOAD.
start_load() {
	local kind=$1
	shift
	# shellcheck disable=SC2046 # the TLS options are words
	vfio-mig-load -v --json --listen "tcp::$PORT" $(tls_args "$kind" server) "$@" -d "$DST" \
		2>"$T/load.err" &
	LOAD=$!
	BG+=("$LOAD")
	wait_for "$T/load.err" ': listening'
}

# The migration went through: both ends 0, confirmed over the return path
# after a switchover-ack, A's state in B, A stopped and B running.
migrated() {
	cat "$T/save.err" "$T/load.err"
	[ "$save_rc" -eq 0 ]
	[ "$load_rc" -eq 0 ]
	grep -q '"load_confirmed": *true' "$T/save.json"
	grep -q "switchover-ack (initial section 1, 24 bytes loaded on the destination)" "$T/save.err"
	[ "$(json_str "$T/save.json" final_state)" = STOP ]
	[ "$(json_num "$T/load.err" state_bytes)" -eq 60 ]
	[ "$(state_of "$SRC")" = STOP ]
	[ "$(state_of "$DST")" = RUNNING ]
	[ "$(mtty-regs show "$DST")" = "$MTTY_REGS_SET" ]
}

# migrate KIND CHANNELS: A to B over tcp:127.0.0.1 with TLS of KIND
migrate() {
	local kind=$1 n=$2
	start_load "$kind"
	# shellcheck disable=SC2046
	vfio-mig-save -v --precopy -o "tcp:127.0.0.1:$PORT" --channels "$n" \
		$(tls_args "$kind" client) --summary-file "$T/save.json" -d "$SRC" 2>"$T/save.err" &&
		save_rc=0 || save_rc=$?
	wait "$LOAD" && load_rc=0 || load_rc=$?
	migrated
	# the set had n channels, each admitted through TLS
	[ "$(grep -c '"index"' "$T/save.json")" -ge 1 ]
	grep -Eq "channels\": *$n\b|$n channels" "$T/save.json" "$T/save.err" "$T/load.err"
}

@test "tcp: TLS PSK, 1 channel: A's state in B, the return path implied" {
	migrate psk 1
}

@test "tcp: TLS PSK, 3 channels" {
	migrate psk 3
}

@test "tcp: TLS x509 (each side verifies the other, the server's IP SAN), 1 channel" {
	migrate x509 1
}

@test "tcp: TLS x509, 3 channels" {
	migrate x509 3
}

@test "the issue's command lines as they are: --listen tcp::PORT --tls-psk K, -o tcp:HOST:PORT --channels 4 --tls-psk K" {
	vfio-mig-load --listen "tcp::$PORT" --tls-psk "$CERTS/keys.psk" -d "$DST" 2>"$T/load.err" &
	LOAD=$!
	BG+=("$LOAD")
	wait_for "$T/load.err" ': listening'
	vfio-mig-save -o "tcp:127.0.0.1:$PORT" --channels 4 --tls-psk "$CERTS/keys.psk" -d "$SRC" \
		2>"$T/save.err" && save_rc=0 || save_rc=$?
	wait "$LOAD" && load_rc=0 || load_rc=$?
	cat "$T/save.err" "$T/load.err"
	[ "$save_rc" -eq 0 ]
	[ "$load_rc" -eq 0 ]
	grep -q "^vfio-mig-save: saved 1 device: .*; the destination loaded 1 device\$" "$T/save.err"
	grep -q "switchover-ack after" "$T/save.err"
	grep -q "^vfio-mig-save: 4 channels:" "$T/save.err"
	[ "$(state_of "$SRC")" = STOP ]
	[ "$(state_of "$DST")" = RUNNING ]
	[ "$(mtty-regs show "$DST")" = "$MTTY_REGS_SET" ]
}

# held_migration KIND CHANNELS: a migration started and held in pre-copy
# (--control-fd on a FIFO, fd 4 here) once the target has acked mtty's 24
# initial bytes: the set is connected, the target is RESUMING, and the
# migration waits for `release`.
held_migration() {
	local kind=$1 n=$2
	mkfifo "$T/ctl"
	exec 4<>"$T/ctl"
	# long enough for the set's own handshakes in an emulated guest's
	# first seconds (1 s was not), short enough to wait for a stall
	start_load "$kind" --handshake-timeout 3s
	# shellcheck disable=SC2046
	vfio-mig-save -v --precopy --control-fd 3 -o "tcp:127.0.0.1:$PORT" --channels "$n" \
		$(tls_args "$kind" client) --summary-file "$T/save.json" -d "$SRC" \
		3<"$T/ctl" 2>"$T/save.err" &
	SAVE=$!
	BG+=("$SAVE")
	wait_for "$T/save.err" 'switchover-ack \(' || { cat "$T/load.err"; return 1; }
}

release() {
	echo go >&4
	wait "$SAVE" && save_rc=0 || save_rc=$?
	wait "$LOAD" && load_rc=0 || load_rc=$?
	exec 4>&-
}

# refused REGEX: the load logged exactly one refusal matching REGEX, in one line
refused() {
	[ "$(grep -Ec "^vfio-mig-load: warning: tcp::$PORT: refused .*: .*$1" "$T/load.err")" -eq 1 ]
}

@test "strangers during a PSK migration of 3 channels: plain TCP, a wrong PSK, a stall; each refused, the migration intact" {
	local c other
	c=$(mtty_create_cdev)
	other=${c#* }
	held_migration psk 3
	printf 'GET / HTTP/1.0\r\n\r\n' >"/dev/tcp/127.0.0.1/$PORT" || :
	wait_for "$T/load.err" 'refused .*not speaking TLS'
	# a save with the wrong key: refused by the listener, and it says why
	run vfio-mig-save -o "tcp:127.0.0.1:$PORT" --tls-psk "$CERTS/wrong.psk" \
		--connect-timeout 2s -d "$other"
	echo "$output"
	[ "$status" -ne 0 ]
	[[ $output == *"wrong PSK"* ]]
	[ "$(state_of "$other")" = RUNNING ]
	wait_for "$T/load.err" 'refused .*wrong PSK'
	# a peer that connects and says nothing, dropped at --handshake-timeout
	exec 5<>"/dev/tcp/127.0.0.1/$PORT"
	wait_for "$T/load.err" 'refused .*timed out' 15
	exec 5>&-
	release
	migrated
	refused 'not speaking TLS'
	refused 'wrong PSK'
	refused 'timed out'
	[ "$(grep -c "tcp::$PORT: refused " "$T/load.err")" -eq 3 ]
}

@test "strangers during an x509 migration: a client of another CA and plain TCP refused, the migration intact" {
	local c other
	c=$(mtty_create_cdev)
	other=${c#* }
	held_migration x509 1
	run vfio-mig-save -o "tcp:127.0.0.1:$PORT" --tls-creds "$CERTS/wrong-ca/client" \
		--connect-timeout 2s -d "$other"
	echo "$output"
	[ "$status" -ne 0 ]
	# the stranger refuses the server first: its CA did not sign it
	[[ $output == *"not signed by our CA"* ]]
	[ "$(state_of "$other")" = RUNNING ]
	wait_for "$T/load.err" 'refused .*certificate'
	printf 'garbage' >"/dev/tcp/127.0.0.1/$PORT" || :
	wait_for "$T/load.err" 'refused .*not speaking TLS'
	release
	migrated
	refused 'certificate'
	refused 'not speaking TLS'
}

@test "a connection cut mid-migration (a relay killed): source RUNNING again, target reset, save exits 1" {
	local relay=$((PORT + 1))
	capture-relay --listen "tcp:127.0.0.1:$relay" --connect "tcp:127.0.0.1:$PORT" \
		--prefix "$T/cap" --connections 1 --ready "$T/relay.ready" &
	RELAY=$!
	BG+=("$RELAY")
	mkfifo "$T/ctl"
	exec 4<>"$T/ctl"
	start_load psk
	for _ in $(seq 100); do
		[ -e "$T/relay.ready" ] && break
		sleep 0.05
	done
	vfio-mig-save -v --precopy --control-fd 3 -o "tcp:127.0.0.1:$relay" \
		--tls-psk "$CERTS/keys.psk" --summary-file "$T/save.json" -d "$SRC" \
		3<"$T/ctl" 2>"$T/save.err" &
	SAVE=$!
	BG+=("$SAVE")
	wait_for "$T/save.err" 'switchover-ack \('
	kill -KILL "$RELAY"
	wait "$SAVE" && save_rc=0 || save_rc=$?
	wait "$LOAD" && load_rc=0 || load_rc=$?
	exec 4>&-
	cat "$T/save.err" "$T/load.err"
	[ "$save_rc" -eq 1 ]
	grep -q "^vfio-mig-save: error: tcp:127.0.0.1:$relay: .*connection cut without TLS close; device $SRC now RUNNING\$" "$T/save.err"
	[ "$(json_str "$T/save.json" final_state)" = RUNNING ]
	[ "$(state_of "$SRC")" = RUNNING ]
	# the load sees a TLS stream without its close: cut, never a clean end;
	# a broken connection is a runtime failure (exit 1), the target reset
	[ "$load_rc" -eq 1 ]
	grep -q "\"message\": \"tcp::$PORT (peer 127.0.0.1:[0-9]*): receiving: connection cut without TLS close; device $DST reset, now RUNNING\"" "$T/load.err"
	grep -q '"exit_code": 1' "$T/load.err"
	[ "$(state_of "$DST")" = RUNNING ]
	# A kept its state through the failed migration
	[ "$(mtty-regs show "$SRC")" = "$MTTY_REGS_SET" ]
}
