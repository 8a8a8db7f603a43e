#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
#
# One exit code per class of failure, the same in every tool (README,
# "Conventions"; EXIT STATUS in every man page):
#   a device name none of the forms parse          2 (usage, one line, the
#                                                    name escaped, nothing opened)
#   a well-formed device absent or unopenable      1
#   binary output refused on a terminal            2
#   binary input refused from a terminal           2
#   a device the stream does not have              4
#   any failure of vfio-mig-save's return path     1
#   (a malformed reply too: the destination's failure, not bad data)

load helpers
load save-helpers

setup() {
	save_setup
}

teardown() {
	# A writer still blocked on the test's FIFO, which nothing opened.
	[ -z "${FIFO_WRITER:-}" ] || kill "$FIFO_WRITER" 2>/dev/null || true
}

# STATUS PROG REGEX CMD...: CMD (which runs PROG) exits STATUS with PROG's one-line error.
expect_error() {
	local want=$1 prog=$2 regex=$3
	shift 3
	vmt_run "$want" "$@"
	vmt_one_line_error "$prog" "$regex"
}

# CMD run with a pseudo-terminal as stdin, stdout and stderr; $status is its exit status.
on_terminal() {
	command -v script >/dev/null || skip "script(1) not installed"
	run script -qec "$1" /dev/null
}

@test "a device name that cannot be parsed: exit 2 in every tool, nothing opened" {
	expect_error 2 vfio-mig-save "invalid device 'bogus'" sim --device vfio0 -- vfio-mig-save -d bogus -o s.vms
	[ ! -e s.vms ]
	expect_error 2 vfio-mig-load "invalid device 'bogus'" sim --device vfio0 -- vfio-mig-load -i /dev/null bogus
	expect_error 2 vfio-mig-load "invalid device 'bogus'" sim --device vfio0 -- vfio-mig-load -i /dev/null --map 0=bogus
	vmt_run_error 2 "invalid device 'bogus'" iommufd-dirty -d bogus --map 0x1000:4K --once -f
	vmt_run 2 sim --device vfio0 -- vfio-precopy-info -d bogus
	[ "$(simstate vfio0 transitions)" -eq 0 ]
}

# Every way a device name reaches each tool, NAME standing for the name.
DEVICE_USES=(
	"vfio-mig-save -d NAME -o s.vms"
	"vfio-mig-save NAME -o s.vms"
	"vfio-mig-load -i /dev/null -d NAME"
	"vfio-mig-load -i /dev/null --map 0=NAME"
	"vfio-mig-load -i /dev/null NAME"
	"vfio-precopy-info -d NAME"
	"vfio-precopy-info NAME"
	"iommufd-dirty -d NAME --map 0x1000:4K --once -f"
	"vfio-mig-ls NAME"
	"vfio-mig-ls --no-open NAME"
	"vfio-mig-check --yes -d NAME"
	"vfio-mig-check --yes -d vfio0 -d NAME"
)

# NAME USE: USE with NAME in it, run under the simulator; one usage error line naming SHOWN.
refused_name() {
	local name=$1 shown=$2 use=$3 args=() word
	for word in $use; do
		[ "$word" = NAME ] && word=$name
		[ "$word" = 0=NAME ] && word=0=$name
		args+=("$word")
	done
	vmt_run 2 sim --device vfio0 -- "${args[@]}"
	vmt_one_line_error "${args[0]}" "invalid device '$shown' \(not vfioN, /dev/vfio/devices/vfioN, a PCI address"
}

@test "a device name that is not a device: one escaped usage line, exit 2, nothing opened, in every tool" {
	local use
	mkfifo fifo
	# A writer's open returns once anything opens the FIFO, even O_RDWR.
	(: >fifo && touch opened) </dev/null >/dev/null 2>&1 3>&- &
	FIFO_WRITER=$!
	for use in "${DEVICE_USES[@]}"; do
		refused_name ../../etc/passwd ../../etc/passwd "$use"
		refused_name ./fifo ./fifo "$use"
		refused_name /dev/vfio/devices/../devices/vfio0 /dev/vfio/devices/../devices/vfio0 "$use"
		refused_name $'vfio0\nforged: error: line' 'vfio0\\x0aforged: error: line' "$use"
		refused_name $'\e]0;title\a' '\\x1b]0;title\\x07' "$use"
	done
	sleep 0.2
	[ ! -e opened ] || { echo "the FIFO was opened" >&2; false; }
	[ "$(simstate vfio0 transitions)" -eq 0 ]
	[ ! -e s.vms ]
}

@test "a device named by an fd where only names are taken: exit 2" {
	vmt_run_error 2 "invalid device 'fd:0' \(not vfioN, /dev/vfio/devices/vfioN, a PCI address or an mdev UUID\)" \
		vfio-mig-ls fd:0
}

@test "a well-formed device that does not exist: exit 1 in every tool" {
	expect_error 1 vfio-mig-save "vfio9: cannot open" sim --device vfio0 -- vfio-mig-save -d vfio9 -o s.vms
	expect_error 1 vfio-mig-load "vfio9: cannot open" sim --device vfio0 -- vfio-mig-load -i /dev/null vfio9
	vmt_run_error 1 "vfio9: cannot open" iommufd-dirty -d /dev/vfio/devices/vfio9 --map 0x1000:4K --once -f
	vmt_run 1 sim --device vfio0 -- vfio-precopy-info -d vfio9
}

@test "binary output refused on a terminal: exit 2 in every tool" {
	on_terminal "vfio-mig-save -d vfio0"
	[ "$status" -eq 2 ]
	[[ "$output" == *"refusing to write binary data to a terminal"* ]]
	vmt_make_stream s.vms 4096
	on_terminal "migstream-cat --extract=0 s.vms"
	[ "$status" -eq 2 ]
	[[ "$output" == *"refusing to write binary data to a terminal"* ]]
	on_terminal "iommufd-dirty -d /dev/vfio/devices/vfio9 --map 0x1000:4K --once"
	[ "$status" -eq 2 ]
	[[ "$output" == *"refusing to write binary data to a terminal"* ]]
	VMT_FORCE_TTY=1 vmt_run 2 sim --device vfio0 -- vfio-precopy-info --stream -d vfio0
}

@test "binary input from a terminal: load and migstream-cat both refuse it, exit 2" {
	on_terminal "vfio-mig-load vfio0"
	[ "$status" -eq 2 ]
	[[ "$output" == *"refusing to read a binary stream from a terminal"* ]]
	on_terminal "migstream-cat --verify"
	[ "$status" -eq 2 ]
	[[ "$output" == *"refusing to read a binary stream from a terminal"* ]]
	on_terminal "migstream-cat -"
	[ "$status" -eq 2 ]
	# a named file is read whatever stdin is
	vmt_make_stream s.vms 4096
	on_terminal "migstream-cat --verify s.vms"
	[ "$status" -eq 0 ]
}

@test "a device the stream does not have: exit 4 in load --map and migstream-cat --extract" {
	vmt_run 0 sim --device vfio0 -- vfio-mig-save -q --no-precopy -d vfio0 -o s.vms
	expect_error 4 vfio-mig-load "target vfio2 was given for stream device 1, which the stream does not have" \
		sim --device vfio0 --device vfio1 --device vfio2 -- \
		sh -c 'vfio-mig-load -q --map 0=vfio1 --map 1=vfio2 <s.vms'
	vmt_run_error 4 "no device 5 in the stream" migstream-cat --extract=5 s.vms
	[ -z "$output" ]
}

@test "any failure of vfio-mig-save's return path: exit 1, a malformed reply and a timeout alike" {
	mkfifo rp
	expect_error 1 vfio-mig-save "bad reply from the destination: record 1: malformed LOAD_RESULT" sim --device vfio0 -- \
		bash -o pipefail -c 'vfio-mig-save --no-precopy -d vfio0 --return-fd 3 3<rp | fake-destination --bad=flags >rp'
	expect_error 1 vfio-mig-save "no load result from the destination within 0.300 s" sim --device vfio0 -- \
		bash -o pipefail -c 'vfio-mig-save --no-precopy --return-timeout 300ms -d vfio0 --return-fd 3 3<rp |
			fake-destination --chatter=ancillary >rp'
}
