#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The socket transport on the simulator: vfio-mig-save -o ADDRESS
# [--channels N] into vfio-mig-load --listen ADDRESS, on unix: and on tcp:
# without TLS (--insecure-no-tls); the return path rides channel 0's
# connection with no option; either end may start first; the usage errors
# come before any device is touched.

load helpers
load load-helpers
load net-helpers

setup() {
	sl_setup
}

SRC=vfio0,close-reset=no,seed=3

# The migration went through: digests, states, and the save's word from the load.
migrated() {
	sl_expect save_status 0
	sl_expect load_status 0
	sl_same_digest vfio0 vfio1
	sl_expect_state vfio0 state STOP
	sl_expect_state vfio1 state RUNNING
}

@test "net: unix: one channel, the return path implied (switchover-ack, load result)" {
	net_migrate "$SRC" vfio1,seed=3 -- "-o unix:$VMT_TMP/s -d $D0 --json" \
		"--listen unix:$VMT_TMP/s -d $D1 --json"
	migrated
	# the load's summary names the address as its input
	[ "$(printf '%s\n' "$load_err" | grep -v ': listening$' | jq -r '.inputs[0]')" = "unix:$VMT_TMP/s" ]
	[ "$(printf '%s\n' "$save_err" | jq -r .return_path)" = true ]
	[ "$(printf '%s\n' "$save_err" | jq -r .load_confirmed)" = true ]
	[ "$(printf '%s\n' "$save_err" | jq -r '.devices[0].switchover_ack_s')" != null ]
	# the listener's socket is gone with it
	[ ! -e "$VMT_TMP/s" ]
}

@test "net: tcp: --insecure-no-tls, 4 channels of one set, two devices" {
	local port
	port=$(net_port)
	net_migrate "$SRC" vfio1,seed=3 vfio2,close-reset=no,seed=5 vfio3,seed=5 -- \
		"-o tcp:127.0.0.1:$port --insecure-no-tls --channels 4 -d $D0 -d $D2 --json" \
		"--listen tcp::$port --insecure-no-tls -d $D1 -d $D3"
	migrated
	sl_same_digest vfio2 vfio3
	[ "$(printf '%s\n' "$save_err" | jq '.channels | length')" -eq 4 ]
	[ "$(printf '%s\n' "$save_err" | jq -r .load_confirmed)" = true ]
}

@test "net: -i ADDRESS is --listen ADDRESS" {
	local port
	port=$(net_port)
	net_migrate "$SRC" vfio1,seed=3 -- "-o unix:$VMT_TMP/s --channels 2 -d $D0" \
		"-i unix:$VMT_TMP/s -d $D1"
	migrated
}

@test "net: the save may start first: it retries a refused connection until the load listens" {
	local T=$VMT_TMP port
	net_require_localhost
	port=$(net_port)
	sl_sim "$SRC" vfio1,seed=3 -- bash -c "
		vfio-mig-save -o tcp:localhost:$port --insecure-no-tls --channels 2 -d $D0 2>'$T/save.err' & save=\$!
		sleep 1.5
		vfio-mig-load --listen tcp:127.0.0.1:$port --insecure-no-tls -d $D1 2>'$T/load.err' & load=\$!
		wait \$save; echo \$? >'$T/save.status'
		for i in \$(seq $((NET_LOAD_GRACE * 10))); do kill -0 \$load 2>/dev/null || break; sleep 0.1; done
		kill \$load 2>/dev/null
		wait \$load; echo \$? >'$T/load.status'"
	save_status=$(cat "$T/save.status") load_status=$(cat "$T/load.status")
	save_err=$(cat "$T/save.err") load_err=$(cat "$T/load.err")
	migrated
}

@test "net: nobody listening: the save gives up after --connect-timeout, one line, the device untouched" {
	local port start end
	port=$(net_port)
	start=$(date +%s%N)
	vmt_run 1 sl_sim "$SRC" -- vfio-mig-save -o tcp:127.0.0.1:$port --insecure-no-tls \
		--connect-timeout 1s -d "$D0"
	end=$(date +%s%N)
	sl_one_line "$stderr" "^vfio-mig-save: (error: )?tcp:127.0.0.1:$port: no one listening after 1.0 s"
	# about the timeout: not at once, not much later
	[ $(((end - start) / 1000000)) -ge 900 ]
	[ $(((end - start) / 1000000)) -lt 5000 ]
	sl_expect_state vfio0 state RUNNING
	! sl_arcs vfio0 | grep -q STOP
}

@test "net: a unix: listener's socket is mode 0600; a path that is not a socket is refused, untouched" {
	local T=$VMT_TMP
	sl_sim vfio1,seed=3 -- bash -c "
		vfio-mig-load --listen unix:$T/s -d $D1 2>'$T/load.err' & load=\$!
		for i in \$(seq 100); do [ -S '$T/s' ] && break; sleep 0.05; done
		stat -c %a '$T/s' >'$T/mode'
		kill \$load; wait \$load" || true
	[ "$(cat "$T/mode")" = 600 ]
	echo precious >"$T/file"
	vmt_run 1 sl_sim vfio1,seed=3 -- vfio-mig-load --listen "unix:$T/file" -d "$D1"
	sl_one_line "$stderr" "unix:$T/file: $T/file exists and is not a socket"
	[ "$(cat "$T/file")" = precious ]
	sl_expect_state vfio1 state RUNNING
	sl_expect_state vfio1 resets 0
}

@test "net: the load's listener binds only the address given" {
	local T=$VMT_TMP port
	command -v ss >/dev/null || skip "ss (iproute2) is not installed"
	port=$(net_port)
	sl_sim vfio1,seed=3 -- bash -c "
		vfio-mig-load --listen tcp:127.0.0.1:$port --insecure-no-tls -d $D1 2>'$T/load.err' & load=\$!
		for i in \$(seq 100); do grep -q listening '$T/load.err' && break; sleep 0.05; done
		ss -Hltn 'sport = :$port' >'$T/ss' 2>&1 || :
		kill \$load; wait \$load" || true
	grep -q "127.0.0.1:$port" "$T/ss"
	! grep -q "\*:$port\|0.0.0.0:$port\|\[::\]:$port" "$T/ss"
}

@test "net: usage errors come before any device is touched" {
	vmt_run_error 2 'tcp: needs --tls-creds DIR or --tls-psk FILE' \
		vfio-mig-save -o tcp:127.0.0.1:1 -d vfio0
	vmt_run_error 2 'tcp: needs --tls-creds DIR or --tls-psk FILE' \
		vfio-mig-load --listen tcp::4444 -d vfio0
	vmt_run_error 2 '--channels is for -o ADDRESS' vfio-mig-save --channels 2 -d vfio0
	vmt_run_error 2 'for an address' vfio-mig-save --tls-psk k -o f -d vfio0
	vmt_run_error 2 'for an address' vfio-mig-load --tls-creds d -i f -d vfio0
	vmt_run_error 2 'for an address' vfio-mig-load --insecure-no-tls -d vfio0
	vmt_run_error 2 'cannot be combined' vfio-mig-save -o unix:/s --tls-psk k --tls-creds d -d vfio0
	vmt_run_error 2 'no --return-fd' vfio-mig-save -o unix:/s --return-fd 1 -d vfio0
	vmt_run_error 2 'no --return-fd' vfio-mig-load --listen unix:/s --return-fd 1 -d vfio0
	vmt_run_error 2 'the only output' vfio-mig-save -o unix:/s -o f -d vfio0
	vmt_run_error 2 'the only input' vfio-mig-load -i f --listen unix:/s -d vfio0
	vmt_run_error 2 'invalid address' vfio-mig-save -o tcp:host -d vfio0
	vmt_run_error 2 'needs a host' vfio-mig-save -o tcp::4444 --insecure-no-tls -d vfio0
	vmt_run_error 2 'connect-timeout is for an address connected to' \
		vfio-mig-load --listen unix:/s --connect-timeout 1s -d vfio0
	vmt_run_error 2 'invalid --listen argument' vfio-mig-load --listen file -d vfio0
	vmt_run_error 2 'cannot be combined' vfio-mig-load --listen unix:/s --dry-run -d vfio0
	vmt_run_error 2 'invalid --channels' vfio-mig-save -o unix:/s --channels 65 -d vfio0
}

@test "net: migstream-cat -o ADDRESS replays a saved stream into a listening load" {
	local T=$VMT_TMP
	sl_sim "$SRC" -- vfio-mig-save -d "$D0" -o "$T/s.vms"
	sl_sim vfio1,seed=3 -- bash -c "
		vfio-mig-load --listen unix:$T/u -d $D1 2>'$T/load.err' & load=\$!
		migstream-cat -q -o unix:$T/u '$T/s.vms' 2>'$T/cat.err'; echo \$? >'$T/cat.status'
		wait \$load; echo \$? >'$T/load.status'"
	[ "$(cat "$T/cat.status")" = 0 ] || { cat "$T/cat.err"; false; }
	[ "$(cat "$T/load.status")" = 0 ] || { cat "$T/load.err"; false; }
	sl_same_digest vfio0 vfio1
	sl_expect_state vfio1 state RUNNING
}

@test "net: migstream-cat ADDRESS listens and lists (or merges) the set that connects" {
	local T=$VMT_TMP
	sl_sim "$SRC" -- vfio-mig-save -d "$D0" -o "$T/s.vms"
	migstream-cat unix:"$T/v" >"$T/list.txt" 2>"$T/cat.err" &
	local lister=$!
	vmt_run 0 migstream-cat -q -o unix:"$T/v" "$T/s.vms"
	wait $lister
	vmt_run 0 migstream-cat "$T/s.vms"
	# the same listing, but for the name of the input
	[ "$(grep -v '^summary of' "$T/list.txt")" = "$(printf '%s\n' "$output" | grep -v '^summary of')" ]
	grep -q "^summary of unix:$T/v:" "$T/list.txt"
	grep -q "unix:$T/v: listening" "$T/cat.err"
	vmt_run_error 2 'an address is the only input' migstream-cat unix:/x f
	vmt_run_error 2 'goes with no other mode' migstream-cat --verify -o unix:/x f
	vmt_run_error 2 'tcp: needs --tls-creds' migstream-cat -o tcp:h:1 f
}
