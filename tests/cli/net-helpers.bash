# SPDX-License-Identifier: GPL-2.0-or-later
#
# Helpers for the socket transport's tests (tests/cli/net*.bats), on the
# simulator. Load after helpers and load-helpers.
#
#   net_port                   a TCP port nothing on 127.0.0.1 listens on
#   net_migrate DEVSPEC... -- SAVE_ARGS LOAD_ARGS [DURING]
#                              vfio-mig-load LOAD_ARGS in the background,
#                              then vfio-mig-save SAVE_ARGS, under the
#                              simulator; DURING (a shell command) runs once
#                              the load listens, beside the save. Sets
#                              save_status, load_status, save_err, load_err.
#   net_wait_listening ADDRESS the load said it listens (in $VMT_TMP/load.err)
#   net_through_relay DEVSPEC... -- LOAD_ARGS SAVE_ARGS
#                              as net_migrate, but the save connects to
#                              -o tcp:127.0.0.1:RELAY, a net-relay to the
#                              load's $PORT that resets both sides after
#                              2000000 bytes: a connection cut mid-stream
#   net_require_localhost      skips where the name localhost does not resolve
#                              (a debootstrap root has no /etc/hosts)
#
# A listening load waits for its source without a limit, as QEMU's
# -incoming does; so once the save ended, the tests give the load
# NET_LOAD_GRACE seconds and then stop it: a save that failed before it
# connected makes the test fail, not hang.

NET_LOAD_GRACE=60

net_require_localhost() {
	getent hosts localhost >/dev/null || skip "the name localhost does not resolve here"
}

net_port() {
	local port
	for _ in $(seq 50); do
		port=$((20000 + RANDOM % 40000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			echo "$port"
			return 0
		fi
	done
	return 1
}

net_migrate() {
	local specs=()
	while [ "$1" != -- ]; do
		specs+=("$1")
		shift
	done
	shift
	local save_args=$1 load_args=$2 during=${3:-:} T=$VMT_TMP
	sl_sim "${specs[@]}" -- bash -c "
		vfio-mig-load $load_args 2>'$T/load.err' & load=\$!
		for i in \$(seq 200); do
			grep -q ': listening' '$T/load.err' 2>/dev/null && break
			sleep 0.05
		done
		vfio-mig-save $save_args 2>'$T/save.err' & save=\$!
		# a stranger refused while it writes gets SIGPIPE: in a subshell of its own
		( $during ) || :
		wait \$save; echo \$? >'$T/save.status'
		for i in \$(seq $((NET_LOAD_GRACE * 10))); do kill -0 \$load 2>/dev/null || break; sleep 0.1; done
		kill \$load 2>/dev/null
		wait \$load; echo \$? >'$T/load.status'" || true
	save_status=$(cat "$T/save.status")
	load_status=$(cat "$T/load.status")
	save_err=$(cat "$T/save.err")
	load_err=$(cat "$T/load.err")
}

net_through_relay() {
	local specs=()
	while [ "$1" != -- ]; do
		specs+=("$1")
		shift
	done
	shift
	local load_args=$1 save_args=$2 relay_port T=$VMT_TMP
	relay_port=$(net_port)
	sl_sim "${specs[@]}" -- bash -c "
		vfio-mig-load $load_args 2>'$T/load.err' & load=\$!
		net-relay $relay_port $PORT 2000000 >'$T/relay.out' & relay=\$!
		for i in \$(seq 200); do grep -q listening '$T/load.err' && grep -q listening '$T/relay.out' && break; sleep 0.05; done
		vfio-mig-save -o tcp:127.0.0.1:$relay_port $save_args 2>'$T/save.err'; echo \$? >'$T/save.status'
		wait \$load; echo \$? >'$T/load.status'
		kill \$relay 2>/dev/null; wait \$relay" || true
	save_status=$(cat "$T/save.status")
	load_status=$(cat "$T/load.status")
	save_err=$(cat "$T/save.err")
	load_err=$(cat "$T/load.err")
}
