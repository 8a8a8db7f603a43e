# SPDX-License-Identifier: GPL-2.0-or-later
#
# Helpers for tests/cli/iommufd-dirty*.bats (load after `load helpers`).
#
#   dirty_require_sim          skip unless iommufd-dirty and the simulator are built
#   dirty_sim ARGS... -- CMD   vfiosim-run with this test's state dir ($DIRTY_SIM)
#   dirty_sim_error STATUS REGEX ARGS... -- CMD
#                              dirty_sim; exit STATUS and one error line of
#                              iommufd-dirty matching REGEX
#   dirty_sim_state DEV KEY    a key of the simulator's state file of DEV
#                              (DEV "iommu" for iommu.state)
#   dirty_ranges STREAM        "0xFIRST-0xLAST PAGES" per dirty run, per record
#   dirty_records STREAM       "iova=0x... page_size=N pages=N dirty=N" per
#                              DIRTY_BITMAP record, in stream order
#   dirty_wait_state DEV KEY VALUE
#                              wait (up to 10 s) for a state key to reach VALUE:
#                              synchronisation with a background run, not a timing check

DIRTY_SIM_RUN="$VMT_SRCDIR/tests/sim/vfiosim-run"
DIRTY_SIM="$VMT_TMP/sim"
DEV0=/dev/vfio/devices/vfio0

dirty_require_sim() {
	vmt_require_tool iommufd-dirty
	vmt_require_tool migstream-cat
	[ -x "$DIRTY_SIM_RUN" ] || skip "simulator not there ($DIRTY_SIM_RUN)"
	[ -e "${VMT_SIM_LIB:-}" ] || skip "simulator library not built (${VMT_SIM_LIB:-unset})"
	mkdir -p "$DIRTY_SIM"
}

dirty_sim() {
	"$DIRTY_SIM_RUN" --state-dir "$DIRTY_SIM" "$@"
}

dirty_sim_error() {
	local want=$1 regex=$2
	shift 2
	vmt_run "$want" dirty_sim "$@"
	vmt_one_line_error iommufd-dirty "$regex"
}

dirty_sim_state() {
	local file="$DIRTY_SIM/$1.state"
	[ -e "$file" ] || { echo "no state file $file" >&2; return 1; }
	sed -n "s/^$2=//p" "$file"
}

dirty_ranges() {
	migstream-cat --dirty "$1" | awk '$1 == "dirty" && $2 ~ /^0x/ { print $2, $3 }'
}

dirty_records() {
	migstream-cat "$1" | grep -o 'iova=0x[0-9a-f]* page_size=[0-9]* pages=[0-9]* dirty=[0-9]*'
}

dirty_wait_state() {
	local i
	for i in $(seq 100); do
		[ "$(dirty_sim_state "$1" "$2" 2>/dev/null)" = "$3" ] && return 0
		sleep 0.1
	done
	echo "state $1 $2 never became $3 (now: $(dirty_sim_state "$1" "$2" 2>&1))" >&2
	return 1
}
