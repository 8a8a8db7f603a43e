# SPDX-License-Identifier: GPL-2.0-or-later
#
# Helpers for the vfio-mig-load and save/load conformance tests
# (tests/cli/load*.bats, tests/cli/save-load*.bats). Load after helpers:
#     load helpers
#     load load-helpers
#
#   sl_require                 skip unless the simulator and both tools exist
#   sl_sim DEVSPEC... -- CMD   run CMD under the simulator with these devices
#                              (vfiosim-run --device SPEC each); the state
#                              files stay in $SL_SIM
#   sl_state DEV KEY           one key of DEV's simulator state file
#   sl_arcs DEV                FSM arcs DEV walked, comma separated
#   sl_expect_state DEV KEY VALUE
#                              fail with the whole state file unless equal
#   sl_dev N                   /dev/vfio/devices/vfioN

SL_SIM="$VMT_TMP/sim"

sl_require() {
	vmt_require_tool vfio-mig-load
	vmt_require_tool vfio-mig-save
	[ -n "${VMT_SIM_LIB:-}" ] && [ -r "$VMT_SIM_LIB" ] || skip "simulator library not built (VMT_SIM_LIB)"
	[ -x "$VMT_SRCDIR/tests/sim/vfiosim-run" ] || skip "tests/sim/vfiosim-run missing"
}

sl_sim() {
	local args=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		args+=(--device "$1")
		shift
	done
	shift
	"$VMT_SRCDIR/tests/sim/vfiosim-run" --state-dir "$SL_SIM" "${args[@]}" -- "$@"
}

sl_state() {
	"$VMT_SRCDIR/tests/sim/vfiosim-state" --state-dir "$SL_SIM" "$1" "$2"
}

sl_arcs() {
	sl_state "$1" arcs
}

sl_expect_state() {
	local dev=$1 key=$2 want=$3 got
	got=$(sl_state "$dev" "$key") || got="<missing>"
	if [ "$got" != "$want" ]; then
		echo "$dev: $key is '$got', expected '$want'; state file:" >&2
		"$VMT_SRCDIR/tests/sim/vfiosim-state" --state-dir "$SL_SIM" "$dev" >&2 || true
		return 1
	fi
}

sl_dev() {
	echo "/dev/vfio/devices/vfio$1"
}

# sl_setup [N]: the set-up of a save-and-load test: sl_require, and the
# simulator's first N device nodes (default 4) in D0, D1, ...
sl_setup() {
	local n=${1:-4} i
	sl_require
	for ((i = 0; i < n; i++)); do
		printf -v "D$i" '%s' "$(sl_dev "$i")"
	done
}

# sl_pipe DEVSPEC... -- SAVE_ARGS FILTER LOAD_ARGS
#   runs "vfio-mig-save SAVE_ARGS | FILTER | vfio-mig-load LOAD_ARGS" under
#   the simulator (each ARGS one shell-quoted string; FILTER "cat" for none,
#   "" for no process between them) and sets save_status, load_status,
#   save_err, load_err (stderr texts). A caller may set, as locals:
#     SL_LOADER       the command in vfio-mig-load's place (LOAD_ARGS follow it)
#     SL_SAVE_REDIR   words after SAVE_ARGS (e.g. the return path's fd)
#     SL_LOAD_REDIR   words after LOAD_ARGS
sl_pipe() {
	local specs=()
	while [ "$1" != -- ]; do
		specs+=("$1")
		shift
	done
	shift
	local save_args=$1 filter=$2 load_args=$3 stage="| $2 |" last=2
	if [ -z "$filter" ]; then
		stage="|"
		last=1
	fi
	sl_sim "${specs[@]}" -- bash -c "
		vfio-mig-save $save_args ${SL_SAVE_REDIR:-} 2>'$VMT_TMP/save.err' $stage
			${SL_LOADER:-vfio-mig-load} $load_args ${SL_LOAD_REDIR:-} 2>'$VMT_TMP/load.err'
		echo \${PIPESTATUS[0]} \${PIPESTATUS[$last]} >'$VMT_TMP/status'" || true
	read -r save_status load_status <"$VMT_TMP/status"
	save_err=$(cat "$VMT_TMP/save.err")
	load_err=$(cat "$VMT_TMP/load.err")
}

# sl_expect STATUS_VAR WANT: check an exit status from sl_pipe, print both stderrs otherwise.
sl_expect() {
	local name=$1 want=$2
	if [ "${!name}" != "$want" ]; then
		echo "$name is ${!name}, expected $want" >&2
		echo "--- save stderr:" >&2
		printf '%s\n' "$save_err" >&2
		echo "--- load stderr:" >&2
		printf '%s\n' "$load_err" >&2
		return 1
	fi
}

# sl_one_line TEXT REGEX: TEXT is one line matching REGEX.
sl_one_line() {
	local text=$1 regex=$2
	if [ "$(printf '%s\n' "$text" | grep -c .)" -ne 1 ] || ! printf '%s\n' "$text" | grep -Eq -- "$regex"; then
		echo "expected one line matching /$regex/, got:" >&2
		printf '%s\n' "$text" >&2
		return 1
	fi
}

# sl_same_digest SRC DST: the target loaded exactly what the source saved, verified.
sl_same_digest() {
	local src=$1 dst=$2 saved loaded
	sl_expect_state "$dst" load_verified ok
	saved=$(sl_state "$src" save_digest)
	loaded=$(sl_state "$dst" load_digest)
	if [ "$saved" != "$loaded" ]; then
		echo "$src saved $saved, $dst loaded $loaded" >&2
		return 1
	fi
}

# sl_signal_pipeline DEVSPEC... -- SAVE_ARGS LOAD_ARGS TARGET WHO SIG
#   save > fifo and load < fifo under the simulator; once TARGET (vfioN)
#   is RESUMING, sends SIG to WHO (save or load) by its pid, and
#   sets save_status, load_status, save_err, load_err. The state files are
#   only rewritten at transitions: TARGET in RESUMING means the stream flows
#   (give the source a slow data fd so it is still flowing at the signal).
sl_signal_pipeline() {
	local specs=()
	while [ "$1" != -- ]; do
		specs+=("$1")
		shift
	done
	shift
	local save_args=$1 load_args=$2 target=$3 who=$4 sig=$5 T=$VMT_TMP
	mkfifo "$T/fifo"
	sl_sim "${specs[@]}" -- bash -c "
		vfio-mig-save $save_args >'$T/fifo' 2>'$T/save.err' & save=\$!
		vfio-mig-load $load_args <'$T/fifo' 2>'$T/load.err' & load=\$!
		for i in \$(seq 400); do
			st=\$('$VMT_SRCDIR/tests/sim/vfiosim-state' --state-dir '$SL_SIM' $target state 2>/dev/null || :)
			[ \"\$st\" = RESUMING ] && break
			sleep 0.05
		done
		kill -$sig \$$who
		wait \$save; echo \$? >'$T/save.status'
		wait \$load; echo \$? >'$T/load.status'" || true
	save_status=$(cat "$T/save.status")
	load_status=$(cat "$T/load.status")
	save_err=$(cat "$T/save.err")
	load_err=$(cat "$T/load.err")
}
