#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The socket transport with TLS on the simulator (issue 25, items 2 to 4):
# PSK and x509 (tests/net/make-certs), tcp: and unix:, several channels;
# the strangers only TLS can tell apart (a plain peer, a wrong PSK, a
# wrong CA either way, a peer stalled in the handshake) refused in one
# line each while a real migration runs; a TLS connection cut without
# close_notify is a failure of both ends, never a clean end.

load helpers
load load-helpers
load net-helpers

setup_file() {
	command -v certtool >/dev/null || skip "certtool (gnutls-bin) is not installed"
	export NET_CERTS="$BATS_FILE_TMPDIR/certs"
	"$BATS_TEST_DIRNAME/../net/make-certs" "$NET_CERTS"
}

setup() {
	command -v certtool >/dev/null || skip "certtool (gnutls-bin) is not installed"
	net_require_localhost
	sl_setup
	C=$NET_CERTS
	PORT=$(net_port)
	SRC=vfio0,close-reset=no,seed=3
	SLOW=vfio0,close-reset=no,seed=3,size=8M,read-rate=2M
}

migrated() {
	sl_expect save_status 0
	sl_expect load_status 0
	sl_same_digest vfio0 vfio1
	sl_expect_state vfio0 state STOP
	sl_expect_state vfio1 state RUNNING
}

# The refusals the load logged, one line each, naming the peer.
refused_lines() {
	printf '%s\n' "$load_err" | grep -E "^vfio-mig-load: warning: tcp::$PORT: refused 127\.0\.0\.1:[0-9]+: " || true
}

flowing="for i in \$(seq 200); do [ \"\$('$VMT_SRCDIR/tests/sim/vfiosim-state' --state-dir '$SL_SIM' vfio1 state 2>/dev/null)\" = RESUMING ] && break; sleep 0.05; done"

@test "tls: PSK, 4 channels over tcp: the issue's command lines, switchover-ack and the load's word" {
	net_migrate "$SRC" vfio1,seed=3 -- \
		"-o tcp:127.0.0.1:$PORT --channels 4 --tls-psk $C/keys.psk -d $D0 --json" \
		"--listen tcp::$PORT --tls-psk $C/keys.psk -d $D1"
	migrated
	[ "$(printf '%s\n' "$save_err" | jq '.channels | length')" -eq 4 ]
	[ "$(printf '%s\n' "$save_err" | jq -r .load_confirmed)" = true ]
	[ "$(printf '%s\n' "$save_err" | jq -r '.devices[0].switchover_ack_s')" != null ]
}

@test "tls: x509 both ways, 2 channels, the server's name checked (tcp:localhost)" {
	net_migrate "$SRC" vfio1,seed=3 -- \
		"-o tcp:localhost:$PORT --channels 2 --tls-creds $C/client -d $D0" \
		"--listen tcp:127.0.0.1:$PORT --tls-creds $C/server -d $D1"
	migrated
}

@test "tls: PSK over unix:" {
	net_migrate "$SRC" vfio1,seed=3 -- \
		"-o unix:$VMT_TMP/s --channels 3 --tls-psk $C/keys.psk -d $D0" \
		"--listen unix:$VMT_TMP/s --tls-psk $C/keys.psk -d $D1"
	migrated
}

@test "tls strangers (PSK listener) during a migration: a plain peer, a wrong PSK, a stalled handshake" {
	local during
	sl_sim vfio2,seed=9 -- vfio-mig-save -o "$VMT_TMP/other.vms" -d "$D2"
	during="$flowing
		{ cat '$VMT_TMP/other.vms'; sleep 0.3; } >/dev/tcp/127.0.0.1/$PORT 2>/dev/null || :
		vfio-mig-save -o tcp:127.0.0.1:$PORT --tls-psk $C/wrong.psk -d $D2 2>'$VMT_TMP/wrong.err'
		echo \$? >'$VMT_TMP/wrong.status'
		exec 3<>/dev/tcp/127.0.0.1/$PORT; sleep 1.5"
	net_migrate "$SLOW" vfio1,seed=3 vfio2,seed=9 -- "-o tcp:127.0.0.1:$PORT --tls-psk $C/keys.psk -d $D0" \
		"--listen tcp::$PORT --tls-psk $C/keys.psk --handshake-timeout 1s -d $D1" "$during"
	migrated
	[ "$(refused_lines | grep -c .)" -eq 3 ] || { printf '%s\n' "$load_err"; false; }
	refused_lines | grep -q ': peer is not speaking TLS$'
	refused_lines | grep -q ': wrong PSK'
	refused_lines | grep -q ': handshake timed out'
	# the stranger with the wrong key failed on its side, in one line, its device back
	[ "$(cat "$VMT_TMP/wrong.status")" = 1 ]
	sl_one_line "$(cat "$VMT_TMP/wrong.err")" "^vfio-mig-save: error: tcp:127\.0\.0\.1:$PORT: .*PSK"
	sl_expect_state vfio2 state RUNNING
}

@test "tls strangers (x509 listener) during a migration: a client of another CA, a PSK client" {
	local during
	during="$flowing
		vfio-mig-save -o tcp:localhost:$PORT --tls-creds $C/wrong-ca/client -d $D2 2>'$VMT_TMP/wrong.err' || :
		vfio-mig-save -o tcp:localhost:$PORT --tls-psk $C/keys.psk -d $D2 2>>'$VMT_TMP/wrong.err' || :"
	net_migrate "$SLOW" vfio1,seed=3 vfio2,seed=9 -- "-o tcp:localhost:$PORT --tls-creds $C/client -d $D0" \
		"--listen tcp::$PORT --tls-creds $C/server -d $D1" "$during"
	migrated
	[ "$(refused_lines | grep -c .)" -eq 2 ] || { printf '%s\n' "$load_err"; false; }
	[ "$(grep -c '^vfio-mig-save: error: tcp:localhost:' "$VMT_TMP/wrong.err")" -eq 2 ]
	sl_expect_state vfio2 state RUNNING
}

@test "tls: a server of another CA is refused by the save, no device touched" {
	local T=$VMT_TMP
	sl_sim "$SRC" vfio1,seed=3 -- bash -c "
		vfio-mig-load --listen tcp::$PORT --tls-creds $C/wrong-ca/server -d $D1 2>'$T/load.err' & load=\$!
		for i in \$(seq 100); do grep -q listening '$T/load.err' && break; sleep 0.05; done
		vfio-mig-save -o tcp:localhost:$PORT --tls-creds $C/client -d $D0 2>'$T/save.err'; echo \$? >'$T/save.status'
		kill \$load; wait \$load" || true
	[ "$(cat "$T/save.status")" = 1 ]
	sl_one_line "$(cat "$T/save.err")" "^vfio-mig-save: error: tcp:localhost:$PORT: "
	sl_expect_state vfio0 state RUNNING
	! sl_arcs vfio0 | grep -q STOP
}

@test "tls: credentials that cannot be loaded fail before any device is touched" {
	vmt_run 1 sl_sim "$SRC" -- vfio-mig-save -o tcp:localhost:$PORT --tls-creds "$VMT_TMP/none" -d "$D0"
	sl_one_line "$stderr" "^vfio-mig-save: error: tcp:localhost:$PORT: "
	! sl_arcs vfio0 | grep -q STOP
	vmt_run 1 sl_sim vfio1 -- vfio-mig-load --listen tcp::$PORT --tls-psk "$VMT_TMP/none" -d "$D1"
	sl_one_line "$stderr" "^vfio-mig-load: error: tcp::$PORT: "
	sl_expect_state vfio1 resets 0
}

@test "tls: a connection cut without close_notify fails both ends in one line; source RUNNING, target reset" {
	net_through_relay "$SLOW" vfio1,seed=3,close-reset=no -- \
		"--listen tcp::$PORT --tls-psk $C/keys.psk -d $D1" "--tls-psk $C/keys.psk -d $D0"
	sl_expect save_status 1
	sl_one_line "$save_err" "^vfio-mig-save: error: .*device $D0 now RUNNING\$"
	sl_expect_state vfio0 state RUNNING
	sl_expect load_status 1
	sl_one_line "$(printf '%s\n' "$load_err" | grep -v ': listening$')" "^vfio-mig-load: error: tcp::$PORT \\(peer 127\\.0\\.0\\.1:[0-9]+\\): receiving: .*device $D1 reset, now RUNNING\$"
	[ "$(sl_state vfio1 resets)" -ge 1 ]
}
