# SPDX-License-Identifier: GPL-2.0-or-later
#
# Helpers for tests/cli/save*.bats: vfio-mig-save under the simulator.
#
#   save_setup                 skip unless the tool and the simulator exist; cd to $VMT_TMP;
#                              $SIM is the simulator's state directory
#   sim ARGS... -- CMD...      vfiosim-run with that state directory
#   simstate DEV KEY           one key of a simulated device's state file
#   stream_json FILE           migstream-cat --json listing of FILE into FILE.json
#   count_records FILE TYPE [PHASE]   records of TYPE (and DATA PHASE) in FILE.json
#   wait_state DEV STATE       wait (up to 20 s) until DEV's state file says STATE
#   summary KEY [FILE]         a key of the --summary-file JSON (default summary.json)

save_sim_tool() {
	local name=$1 d
	for d in "$VMT_BUILDDIR/tests/sim" "$VMT_SRCDIR/tests/sim"; do
		if [ -x "$d/$name" ]; then
			printf '%s\n' "$d/$name"
			return 0
		fi
	done
	return 1
}

save_setup() {
	vmt_require_tool vfio-mig-save
	VFIOSIM_RUN=$(save_sim_tool vfiosim-run) || skip "tests/sim/vfiosim-run not found"
	VFIOSIM_STATE=$(save_sim_tool vfiosim-state) || skip "tests/sim/vfiosim-state not found"
	[ -n "${VMT_SIM_LIB:-}" ] && [ -f "$VMT_SIM_LIB" ] || skip "simulator library not built"
	cd "$VMT_TMP"
	SIM="$VMT_TMP/sim"
	export SIM
}

sim() {
	"$VFIOSIM_RUN" --state-dir "$SIM" --lib "$VMT_SIM_LIB" "$@"
}

simstate() {
	"$VFIOSIM_STATE" --state-dir "$SIM" "$1" "$2"
}

stream_json() {
	migstream-cat --json "$1" >"$1.json"
}

count_records() {
	local file=$1 type=$2 phase=${3:-}
	if [ -n "$phase" ]; then
		jq -c "select(.type == \"$type\" and .phase == \"$phase\")" "$file.json" | grep -c . || true
	else
		jq -c "select(.type == \"$type\")" "$file.json" | grep -c . || true
	fi
}

wait_state() {
	local dev=$1 want=$2 i
	for ((i = 0; i < 400; i++)); do
		if grep -qx "state=$want" "$SIM/$dev.state" 2>/dev/null; then
			return 0
		fi
		sleep 0.05
	done
	echo "$dev never reached $want" >&2
	return 1
}

summary() {
	jq -r ".$1" "${2:-summary.json}"
}

# DEVICE_END digest of device DEV in FILE.json, as the simulator writes it.
stream_digest() {
	jq -r "select(.type == \"DEVICE_END\" and .device == $2) | .info" "$1.json" |
		sed -n 's/.*digest=\([0-9a-f]*\).*/xxh3:\1/p'
}
