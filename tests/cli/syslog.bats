#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
#
# --syslog of vfio-mig-save and vfio-mig-load: the one-line outcome and the
# events file's name reach syslog(3) (LOG_USER; LOG_INFO on success, LOG_ERR
# on failure, also on the early failure paths). glibc's syslog() writes to
# /dev/log: each tool runs in a mount namespace whose /dev/log is a unix
# datagram socket this test listens on (bound over the real one, or, where
# there is none, made in an overlay of /dev), skipped where that cannot be
# done.

load helpers
load load-helpers

setup() {
	sl_setup
	cd "$VMT_TMP"
	command -v python3 >/dev/null || skip "python3 not installed"
	command -v unshare >/dev/null || skip "unshare not installed"
	start_listener
	with_devlog true 2>/dev/null || skip "cannot give /dev/log a socket of its own in a mount namespace"
}

teardown() {
	[ -z "${LISTENER_PID:-}" ] || kill "$LISTENER_PID" 2>/dev/null || true
}

# A unix datagram socket at $VMT_TMP/log: each message it receives, a line of $VMT_TMP/log.txt.
start_listener() {
	rm -f "$VMT_TMP/log" "$VMT_TMP/log.txt"
	python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a") as out:
    while True:
        out.write(s.recv(65536).decode(errors="replace").rstrip("\n") + "\n")
        out.flush()
' "$VMT_TMP/log" "$VMT_TMP/log.txt" &
	LISTENER_PID=$!
	local i
	for ((i = 0; i < 50; i++)); do
		[ -S "$VMT_TMP/log" ] && return 0
		sleep 0.1
	done
	skip "the python3 listener did not start"
}

# with_devlog COMMAND...: COMMAND in a mount namespace where /dev/log is $VMT_TMP/log.
with_devlog() {
	local ns=(unshare --mount)
	[ "$(id -u)" -eq 0 ] || ns=(unshare --map-root-user --mount)
	mkdir -p "$VMT_TMP/dev-up" "$VMT_TMP/dev-work"
	"${ns[@]}" sh -c '
		mount --make-rprivate / || exit 1
		if [ ! -e /dev/log ]; then
			mount -t overlay overlay -o "lowerdir=/dev,upperdir=$0/dev-up,workdir=$0/dev-work" /dev &&
				: >/dev/log || exit 1
		fi
		mount --bind "$0/log" /dev/log && exec "$@"' "$VMT_TMP" "$@"
}

# logged PRI TEXT: a message of priority PRI (<PRI>) containing TEXT came (within 2 s).
logged() {
	local i
	for ((i = 0; i < 20; i++)); do
		grep -qF -- "$2" "$VMT_TMP/log.txt" 2>/dev/null && break
		sleep 0.1
	done
	grep -F -- "$2" "$VMT_TMP/log.txt" | grep -q "^<$1>" || {
		echo "no <$1> message with '$2' in:" >&2
		cat "$VMT_TMP/log.txt" >&2 || true
		return 1
	}
}

@test "--syslog: a save | load says each side's success, with the events file, at LOG_INFO" {
	with_devlog "$VMT_SRCDIR/tests/sim/vfiosim-run" --state-dir "$SL_SIM" \
		--device vfio0,size=256K,seed=2 --device vfio1,seed=2 -- bash -c "
		vfio-mig-save --syslog --events '$VMT_TMP/save.ev' $D0 |
			vfio-mig-load --syslog --events '$VMT_TMP/load.ev' $D1"
	sl_same_digest vfio0 vfio1
	# LOG_USER | LOG_INFO = 14, tagged with the program and its pid
	logged 14 "vfio-mig-save["
	logged 14 "]: saved 1 device, "
	logged 14 "stream bytes; events: $VMT_TMP/save.ev"
	logged 14 "vfio-mig-load["
	logged 14 "]: loaded 1 device; events: $VMT_TMP/load.ev"
	[ "$(grep -c . "$VMT_TMP/log.txt")" -eq 2 ]
}

@test "--syslog: a failed load says its error line at LOG_ERR, and where its events are" {
	printf 'not a stream' >garbage
	run with_devlog "$VMT_SRCDIR/tests/sim/vfiosim-run" --state-dir "$SL_SIM" --device vfio1 -- \
		vfio-mig-load --syslog --events "$VMT_TMP/load.ev" -i garbage "$D1"
	[ "$status" -ne 0 ]
	# the same line as on stderr, LOG_USER | LOG_ERR = 11
	local line=${output#vfio-mig-load: error: }
	[ -n "$line" ] && [ "$line" != "$output" ]
	logged 11 "vfio-mig-load["
	logged 11 "]: $line; events: $VMT_TMP/load.ev"
	jq -e 'select(.kind == "exit") | .code != 0' load.ev >/dev/null
}

@test "--syslog: a failed save says its error line at LOG_ERR; without --events, no file is named" {
	# a device that is not there: the save fails before it touches any
	run with_devlog "$VMT_SRCDIR/tests/sim/vfiosim-run" --state-dir "$SL_SIM" --device vfio0 -- \
		vfio-mig-save --syslog --no-precopy -o "$VMT_TMP/x.vms" /dev/vfio/devices/vfio7
	[ "$status" -ne 0 ]
	local line=${output#vfio-mig-save: error: }
	[ -n "$line" ] && [ "$line" != "$output" ]
	logged 11 "vfio-mig-save["
	logged 11 "]: $line"
	! grep -q 'events:' "$VMT_TMP/log.txt"
}

@test "--syslog: an events file that cannot be opened is a failure the journal hears of too" {
	run with_devlog "$VMT_SRCDIR/tests/sim/vfiosim-run" --state-dir "$SL_SIM" --device vfio0 -- \
		vfio-mig-save --syslog --events /nonexistent/dir/ev -o "$VMT_TMP/x.vms" "$D0"
	[ "$status" -ne 0 ]
	logged 11 "]: the events file cannot be opened for writing; events: /nonexistent/dir/ev"
}
