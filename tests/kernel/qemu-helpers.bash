# SPDX-License-Identifier: GPL-2.0-or-later
#
# Helpers for kernel-tier tests that run a real QEMU 10 inside the guest
# (tests/kernel/run --with-qemu TREE, TREE from tests/kernel/fetch-qemu):
# QEMU instances with an mtty device, driven over QMP on their standard
# input and output, and the migration they run.  Load after helpers:
#
#   load helpers
#   load qemu-helpers
#
# Each instance NAME has its files in $T: NAME.qmp-in (a FIFO QEMU reads
# QMP from), NAME.qmp-out (everything QMP answered, one JSON object a line),
# NAME.err (QEMU's standard error), NAME.qmp-id (the last command's id).

# Skips the test when the guest has no QEMU 10 (run without --with-qemu).
qemu_require() {
	vmt_require_guest || return 1
	if [ -z "${VMT_QEMU:-}" ] || ! [ -x "$VMT_QEMU" ]; then
		skip "no QEMU 10 in the guest: ${VMT_QEMU_SKIP:-boot with tests/kernel/run --with-qemu \$(tests/kernel/fetch-qemu)}"
	fi
	# multifd and the relays talk TCP on the guest's loopback (a kernel
	# without INET fails those tests at their first connection)
	ip link set lo up 2>/dev/null || true
}

declare -gA QEMU_PID QEMU_FD

# qemu_start NAME UUID [QEMU ARGS...]: starts a QEMU with mtty UUID as its
# only device (vfio-pci, first slot: idstr 0000:00:01.0/vfio) and its vCPUs
# stopped (-S), answers the QMP greeting.  QEMU ARGS come last, so
# `-incoming defer` or a device property (-global) can be added.
qemu_start() {
	local name=$1 uuid=$2 dir fd
	shift 2
	local data_args=()
	for dir in $VMT_QEMU_DATA; do
		data_args+=(-L "$dir")
	done
	rm -f "$T/$name.qmp-in"
	mkfifo "$T/$name.qmp-in"
	: >"$T/$name.qmp-out"
	"$VMT_QEMU" "${data_args[@]}" -machine q35 -nodefaults -m 16 -display none -S \
		-device "vfio-pci,sysfsdev=$MDEV_DEVICES/$uuid${QEMU_VFIO_PROPS:+,$QEMU_VFIO_PROPS}" \
		-qmp stdio "$@" <"$T/$name.qmp-in" >"$T/$name.qmp-out" 2>"$T/$name.err" &
	QEMU_PID[$name]=$!
	# Held open here, so QEMU never sees EOF on QMP between two commands.
	exec {fd}>"$T/$name.qmp-in"
	QEMU_FD[$name]=$fd
	echo 0 >"$T/$name.qmp-id"
	qemu_wait_line "$name" '"QMP"' 60 >/dev/null || return 1
	qmp "$name" '"execute": "qmp_capabilities"' >/dev/null
}

# qemu_wait_line NAME PATTERN SECONDS: waits for a QMP line matching the
# fixed string PATTERN and prints the first one; fails on timeout or when
# QEMU is gone.
qemu_wait_line() {
	local name=$1 pattern=$2 secs=$3 i
	for ((i = 0; i < secs * 10; i++)); do
		if grep -F -m1 -- "$pattern" "$T/$name.qmp-out"; then
			return 0
		fi
		if ! kill -0 "${QEMU_PID[$name]}" 2>/dev/null; then
			echo "qemu $name exited before '$pattern'; its stderr:" >&2
			cat "$T/$name.err" >&2
			return 1
		fi
		sleep 0.1
	done
	echo "qemu $name: no '$pattern' within ${secs}s; QMP so far:" >&2
	cat "$T/$name.qmp-out" >&2
	return 1
}

# qmp NAME 'MEMBERS' [SECONDS]: sends {MEMBERS, "id": N} and prints the
# answer (default wait 60 s); fails when the answer is an error.  The ids
# count in a file: qmp runs in $(...) subshells, where a variable's
# increment is lost and a poll would find its first answer again.
qmp() {
	local name=$1 members=$2 secs=${3:-60} id answer
	id=$(($(cat "$T/$name.qmp-id") + 1))
	echo "$id" >"$T/$name.qmp-id"
	printf '{%s, "id": %d}\n' "$members" "$id" >&"${QEMU_FD[$name]}"
	answer=$(qemu_wait_line "$name" "\"id\": $id}" "$secs") || return 1
	echo "$answer"
	case $answer in
	*'"error"'*) echo "qemu $name: {$members} failed: $answer" >&2; return 1 ;;
	esac
}

# qmp_caps NAME CAP...: migrate-set-capabilities, each CAP on.
qmp_caps() {
	local name=$1 cap list=
	shift
	for cap in "$@"; do
		list+="${list:+, }{\"capability\": \"$cap\", \"state\": true}"
	done
	qmp "$name" "\"execute\": \"migrate-set-capabilities\", \"arguments\": {\"capabilities\": [$list]}"
}

# qmp_params NAME 'JSON MEMBERS': migrate-set-parameters.
qmp_params() {
	qmp "$1" "\"execute\": \"migrate-set-parameters\", \"arguments\": {$2}"
}

# qmp_migrate NAME URI: starts the migration (it runs in the background).
qmp_migrate() {
	qmp "$1" "\"execute\": \"migrate\", \"arguments\": {\"uri\": \"$2\"}"
}

# qmp_migrate_incoming NAME URI: a destination started with -incoming defer.
qmp_migrate_incoming() {
	qmp "$1" "\"execute\": \"migrate-incoming\", \"arguments\": {\"uri\": \"$2\"}"
}

# qemu_wait_migration NAME [SECONDS]: polls query-migrate until the
# migration completed (default 300 s: TCG in TCG is slow); prints the last
# answer.  Fails when it failed, was cancelled or never ended.
qemu_wait_migration() {
	local name=$1 secs=${2:-300} answer start=$SECONDS
	while ((SECONDS - start < secs)); do
		answer=$(qmp "$name" '"execute": "query-migrate"') || return 1
		case $answer in
		*'"status": "completed"'*) echo "$answer"; return 0 ;;
		*'"status": "failed"'* | *'"status": "cancelled"'*)
			echo "qemu $name: migration ended badly: $answer" >&2
			cat "$T/$name.err" >&2
			return 1 ;;
		esac
		sleep 0.5
	done
	echo "qemu $name: migration not completed within ${secs}s: $answer" >&2
	qemu_stderr_all
	return 1
}

# qemu_stderr_all: what every QEMU of the test said, for a failure's report.
qemu_stderr_all() {
	local name
	for name in "${!QEMU_PID[@]}"; do
		echo "--- qemu $name stderr:" >&2
		cat "$T/$name.err" >&2
	done
}

# qemu_wait_status NAME STATUS [SECONDS]: polls query-status until the VM's
# run state is STATUS (a destination's "paused"/"running" after a load).
qemu_wait_status() {
	local name=$1 want=$2 secs=${3:-300} answer start=$SECONDS
	while ((SECONDS - start < secs)); do
		answer=$(qmp "$name" '"execute": "query-status"') || return 1
		case $answer in
		*"\"status\": \"$want\""*) echo "$answer"; return 0 ;;
		esac
		sleep 0.5
	done
	echo "qemu $name: status not $want within ${secs}s: $answer" >&2
	return 1
}

# qemu_resume_destination NAME: a destination started with -S keeps its
# VFIO device in RESUMING after the load (mtty applies the loaded state only
# when it leaves RESUMING): cont runs the VM, which takes the device to
# RUNNING; stop, so the guest's firmware does not go on.
qemu_resume_destination() {
	qmp "$1" '"execute": "cont"' >/dev/null || return 1
	qemu_wait_status "$1" running 120 >/dev/null || return 1
	qmp "$1" '"execute": "stop"' >/dev/null
}

# vfio_transferred QUERY-MIGRATE-ANSWER: the "vfio": {"transferred": N} figure.
vfio_transferred() {
	sed -n 's/.*"vfio": *{ *"transferred": *\([0-9]*\).*/\1/p' <<<"$1"
}

# qemu_quit NAME: quits QEMU and waits for it (killed after 30 s).
qemu_quit() {
	local name=$1 pid=${QEMU_PID[$1]:-} fd=${QEMU_FD[$1]:-} i
	[ -n "$pid" ] || return 0
	qmp "$name" '"execute": "quit"' 30 >/dev/null 2>&1 || true
	for ((i = 0; i < 300; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	[ -z "$fd" ] || exec {fd}>&-
	unset "QEMU_PID[$name]" "QEMU_FD[$name]"
}

# qemu_quit_all: every QEMU this test started; call from teardown, before
# mtty_remove_all (an mdev in use cannot be removed).
qemu_quit_all() {
	local name
	for name in "${!QEMU_PID[@]}"; do
		qemu_quit "$name"
	done
}

# The distinctive state mtty A is given (tests/kernel/mtty-regs set) as
# `mtty-regs show` prints it: IER, IIR, LCR, MCR, LSR, MSR, SCR, then the
# FIFO's 13 bytes, "vfio-migtools".
MTTY_REGS_SET='IER=04 IIR=c1 LCR=1f MCR=0b LSR=01 MSR=b3 SCR=a5 FIFO=7666696f2d6d6967746f6f6c73'
