#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The simulator against the kernel's rules: sim-selftest (C, raw uAPI) under
# vfiosim-run with one device per feature combination.

setup() {
	SIM_RUN="${VMT_SRCDIR:?}/tests/sim/vfiosim-run"
	SIM_STATE="${VMT_SRCDIR}/tests/sim/vfiosim-state"
	SELFTEST="${VMT_BUILDDIR:?}/sim-selftest"
	STATE_DIR="$BATS_TEST_TMPDIR/sim"
}

selftest_devices=(
	--device vfio0,flags=stop-copy,size=4K,vendor=0x15b3,device=0x101e,driver=mlx5_vfio_pci
	--device vfio1,flags=stop-copy+p2p,size=4K
	--device vfio2,flags=stop-copy+pre-copy,size=4K,precopy-initial=1K
	--device vfio3,flags=stop-copy+p2p+pre-copy,size=4K,precopy-initial=1K,dirty-per-round=512,dirty-rounds=2,dma-logging=yes,log-dirty=0x101000:0x1000+0x300000:0x1000
	--device vfio4,flags=none
	--device vfio5,mdev=83b8f4f2-509f-382f-3c1e-e6bfe0fa1001,flags=0x7,size=4K,precopy-initial=1K,precopy-eof=zero
	--device vfio6,size=4K
	--device vfio7,size=4K,fail=stop\>stop-copy:EIO,error-on=pre-copy\>running,read-eio-after=100
	--device vfio8,dirty-tracking=no
	--device vfio9,close-reset=no,size=4K
	--device vfio10,size=4K,precopy-initial=1K,read-delay-ms=300,dirty-rate=1M
	--device vfio11,flags=stop-copy,size=1M,seed=42,compressible=0.5
	--device vfio12,flags=stop-copy,size=1M,seed=42
	--device vfio13
	--device vfio14,flags=stop-copy,size=4M,read-rate=8M
	--device vfio15,write-rate=8M
	--device vfio16,flags=stop-copy,size=1M,read-rate=16K
	--device vfio17,size=4K,precopy-initial=1K,dirty-rate=20M
	--iommu dirty=0x1001000:0x2000+0x10ff000:0x1000
)

@test "sim-selftest: the simulator follows the kernel's rules" {
	run "$SIM_RUN" --state-dir "$STATE_DIR" "${selftest_devices[@]}" -- "$SELFTEST"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output != *"not ok"* ]]
}

@test "sim-selftest threads: 4 threads copy 4 devices into 4 at once, every digest matches" {
	local devs=() i
	for i in 0 1 2 3; do
		devs+=(--device "vfio$i,flags=stop-copy+p2p+pre-copy,size=$((3 + i))M,seed=$((100 + i)),compressible=0.$((i * 3))")
	done
	for i in 4 5 6 7; do
		devs+=(--device "vfio$i")
	done
	run "$SIM_RUN" --state-dir "$STATE_DIR" "${devs[@]}" -- "$SELFTEST" threads 4
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output != *"not ok"* ]]
	for i in 0 1 2 3; do
		[ "$("$SIM_STATE" --state-dir "$STATE_DIR" "vfio$((i + 4))" load_seed)" = $((100 + i)) ]
	done
}

@test "sim-selftest: dirty-per-read dirties exactly N distinct pages, logged in iommu-dirtied" {
	run "$SIM_RUN" --state-dir "$STATE_DIR" --device vfio0 --iommu dirty-per-read=37,seed=5 -- \
		"$SELFTEST" iommu-random 37
	echo "$output"
	[ "$status" -eq 0 ]
}

@test "sim-selftest: save | load through a pipe, two processes, digests match" {
	run "$SIM_RUN" --state-dir "$STATE_DIR" --device vfio0,size=3145733,seed=9 --device vfio1 -- \
		sh -c '"$1" save vfio0 | "$1" load vfio1' sh "$SELFTEST"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$("$SIM_STATE" --state-dir "$STATE_DIR" vfio1 load_verified)" = ok ]
	[ "$("$SIM_STATE" --state-dir "$STATE_DIR" vfio1 load_seed)" = 9 ]
	[ "$("$SIM_STATE" --state-dir "$STATE_DIR" vfio1 load_digest)" = \
	  "$("$SIM_STATE" --state-dir "$STATE_DIR" vfio0 save_digest)" ]
	[ "$("$SIM_STATE" --state-dir "$STATE_DIR" vfio0 state)" = RUNNING ]
	[ "$("$SIM_STATE" --state-dir "$STATE_DIR" vfio0 last_state)" = STOP ]
}

@test "sim-selftest fsm: the standalone FSM check (also for the kernel tier)" {
	run "$SIM_RUN" --state-dir "$STATE_DIR" --device vfio3,size=60,precopy-initial=24,close-reset=no -- \
		"$SELFTEST" fsm vfio3
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"ok 1 - FSM flags 0x7"* ]]
	# without the state dir the arcs are not compared, results still are
	run "$SIM_RUN" --device vfio3,size=60 -- sh -c 'unset VFIOSIM_STATE_DIR; exec "$0" fsm vfio3' \
		"$SELFTEST"
	echo "$output"
	[ "$status" -eq 0 ]
}

@test "vfiosim-run: returns the command's exit status and prints nothing" {
	run "$SIM_RUN" -- sh -c 'exit 7'
	[ "$status" -eq 7 ]
	[ -z "$output" ]
}

@test "vfiosim-run: a bad device spec is refused with 125" {
	run "$SIM_RUN" --device vfio0,colour=blue -- true
	[ "$status" -eq 125 ]
	[[ $output == *"unknown key 'colour'"* ]]
}

@test "vfiosim-state: reads a key; missing key exits 1" {
	"$SIM_RUN" --state-dir "$STATE_DIR" --device vfio3 -- true
	run "$SIM_STATE" --state-dir "$STATE_DIR" vfio3 state
	[ "$status" -eq 0 ]
	[ "$output" = RUNNING ]
	run "$SIM_RUN" --state-dir "$STATE_DIR" --query vfio3 open
	[ "$output" = 0 ]
	run "$SIM_STATE" --state-dir "$STATE_DIR" vfio3 no_such_key
	[ "$status" -eq 1 ]
}

@test "vfiosim-run --config: device and iommu lines; the sysfs tree follows it" {
	cat >"$BATS_TEST_TMPDIR/sim.conf" <<'CONF'
# two devices and an IOMMU
device vfio4,bdf=0000:3b:00.1,vendor=0x8086,driver=ice-vfio-pci,group=40
device vfio5,mdev=11111111-2222-3333-4444-555555555555,group=41

iommu pgsize=4K,dirty=0x100000:0x1000
CONF
	run "$SIM_RUN" --state-dir "$STATE_DIR" --config "$BATS_TEST_TMPDIR/sim.conf" -- \
		sh -c 'cat /sys/bus/pci/devices/0000:3b:00.1/vendor;
		       readlink /sys/bus/pci/devices/0000:3b:00.1/iommu_group;
		       readlink /sys/bus/pci/devices/0000:3b:00.1/driver;
		       ls /sys/bus/pci/devices/0000:3b:00.1/vfio-dev;
		       ls /sys/bus/mdev/devices/11111111-2222-3333-4444-555555555555/vfio-dev;
		       ls /dev/vfio/devices; test -c /dev/vfio/devices/vfio4 && echo chr'
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 0x8086 ]
	[ "${lines[1]}" = ../../../../kernel/iommu_groups/40 ]
	[ "${lines[2]##*/}" = ice-vfio-pci ]
	[ "${lines[3]}" = vfio4 ]
	[ "${lines[4]}" = vfio5 ]
	[[ "${lines[5]}" == *vfio4*vfio5* || ( "${lines[5]}" = vfio4 && "${lines[6]}" = vfio5 ) ]]
	[ "${lines[-1]}" = chr ]
}

@test "vfiosim-run --trace: logs simulated calls on stderr" {
	run "$SIM_RUN" --state-dir "$STATE_DIR" --trace --device vfio0 -- \
		sh -c 'exec 3</dev/vfio/devices/vfio0'
	[ "$status" -eq 0 ]
	[[ $output == *"open node"* ]]
}
