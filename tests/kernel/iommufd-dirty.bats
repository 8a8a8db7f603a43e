#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
#
# iommufd-dirty against the real kernel's iommufd mock IOMMU (inherited
# mode): iommufd-mock sets up the mock device, IOAS, dirty-tracking HWPT
# and 64 KiB of mapped memory at IOVA 0x1000000, marks pages with
# IOMMU_TEST_OP_DIRTY and runs the tool with the iommufd fd inherited.
# Pages are the mock's 2048-byte IO pages; the tool must report exactly the
# marked ones, and migstream-cat must decode the same pages.

load helpers

setup() {
	vmt_require_guest
	OUT=${BATS_TEST_TMPDIR:-/tmp}/out.vms
	export OUT
}

teardown() {
	mtty_remove_all
}

# The tool on the harness's objects, as the VMT_* variables describe them.
# shellcheck disable=SC2016
INHERITED='iommufd-dirty --iommufd-fd "$VMT_IOMMUFD_FD" --hwpt "$VMT_HWPT_ID"'

records() {
	migstream-cat "$1" | grep -o 'iova=0x[0-9a-f]* page_size=[0-9]* pages=[0-9]* dirty=[0-9]*'
}

ranges() {
	migstream-cat --dirty "$1" | awk '$1 == "dirty" && $2 ~ /^0x/ { print $2, $3 }'
}

@test "inherited: exactly the marked pages, at the mock's 2048-byte IO page size" {
	run iommufd-mock exec --mark 0 --mark 5 --mark 6 --mark 31 -- sh -c \
		"$INHERITED"' -r "$VMT_IOVA:$VMT_LENGTH" --once -o "$OUT"'
	echo "$output"
	[ "$status" -eq 0 ]
	run records "$OUT"
	echo "$output"
	[ "$output" = "iova=0x1000000 page_size=2048 pages=32 dirty=4" ]
	run ranges "$OUT"
	echo "$output"
	[ "$output" = "0x0000000001000000-0x00000000010007ff 1
0x0000000001002800-0x00000000010037ff 2
0x000000000100f800-0x000000000100ffff 1" ]
	migstream-cat --verify "$OUT"
}

@test "inherited: --page-size 4096 folds pairs of mock IO pages" {
	run iommufd-mock exec --mark 1 --mark 5 --mark 31 -- sh -c \
		"$INHERITED"' -r "$VMT_IOVA:$VMT_LENGTH" -p 4096 --once -o "$OUT"'
	echo "$output"
	[ "$status" -eq 0 ]
	run ranges "$OUT"
	echo "$output"
	[ "$output" = "0x0000000001000000-0x0000000001000fff 1
0x0000000001002000-0x0000000001002fff 1
0x000000000100f000-0x000000000100ffff 1" ]
}

@test "inherited: --no-clear peeks, a read clears, tracking is left on for its owner" {
	run iommufd-mock exec --mark 2 --mark 3 -- sh -c '
		'"$INHERITED"' -r "$VMT_IOVA:$VMT_LENGTH" --once --no-clear --stats || exit 10
		'"$INHERITED"' -r "$VMT_IOVA:$VMT_LENGTH" --once --stats || exit 11
		iommufd-mock bitmap || exit 12
		# not ours to switch off: the owner can still mark and read
		iommufd-mock mark 7 || exit 13
		'"$INHERITED"' -r "$VMT_IOVA:$VMT_LENGTH" --once -o "$OUT" || exit 14'
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(grep -c '^read 1: 2 of 32 pages dirty' <<<"$output")" -eq 2 ]
	[[ $output == *$'\n'"dirty: none"* ]]
	run ranges "$OUT"
	[ "$output" = "0x0000000001003800-0x0000000001003fff 1" ]
}

@test "inherited: --enable-tracking switches on (clearing) and off at exit" {
	run iommufd-mock exec --mark 3 -- sh -c '
		'"$INHERITED"' -r "$VMT_IOVA:$VMT_LENGTH" --enable-tracking --once --stats --json || exit 10
		# Switched off again: the mock refuses to mark pages of an
		# untracked HWPT (IOMMU_TEST_OP_DIRTY gives EINVAL).
		if iommufd-mock mark 5; then exit 11; fi
		exit 0'
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *'"dirty_pages": 0,'* ]]
	[[ $output == *"IOMMU_TEST_OP_DIRTY: Invalid argument"* ]]
}

@test "inherited: --max-bitmap splits reads; several ranges" {
	run iommufd-mock exec --length 262144 --mark 0 --mark 64 --mark 127 -- sh -c \
		"$INHERITED"' -r "$VMT_IOVA:$VMT_LENGTH" --max-bitmap 8 --once -o "$OUT"'
	echo "$output"
	[ "$status" -eq 0 ]
	run records "$OUT"
	echo "$output"
	[ "$output" = "iova=0x1000000 page_size=2048 pages=64 dirty=1
iova=0x1020000 page_size=2048 pages=64 dirty=2" ]

	run iommufd-mock exec --mark 1 --mark 17 -- sh -c \
		"$INHERITED"' -r 0x1000000:8K -r 0x1008000:8K -r 0x100c000:16K --once -o "$OUT"'
	[ "$status" -eq 0 ]
	run records "$OUT"
	echo "$output"
	[ "$output" = "iova=0x1000000 page_size=2048 pages=4 dirty=1
iova=0x1008000 page_size=2048 pages=4 dirty=1
iova=0x100c000 page_size=2048 pages=8 dirty=0" ]
}

@test "inherited: what the kernel refuses is named with the IOVA" {
	# 1024-byte pages pass the tool's checks, but the IOAS aligns to 2048.
	run iommufd-mock exec -- sh -c "$INHERITED"' -r 0x1000400:4K -p 1024 --once -o "$OUT"'
	echo "$output"
	[ "$status" -eq 1 ]
	[[ $output == *"iommufd-dirty: error: hwpt "*"IOMMU_HWPT_GET_DIRTY_BITMAP of IOVA 0x1000400"*"Invalid argument"* ]]

	# The probe finds no page size that fits a range off the 2048 grid.
	run iommufd-mock exec -- sh -c "$INHERITED"' -r 0x1000400:4K --once -o "$OUT"'
	echo "$output"
	[ "$status" -eq 1 ]
	[[ $output == *"cannot find the IO page size"* ]]
}

# mtty implements VFIO DMA logging as stubs (nothing is ever dirty), which is
# enough to put the device backend through vfio_main.c's real checks.

@test "device: DMA logging START/REPORT/STOP on mtty through the kernel's checks" {
	local uuid cdev
	read -r uuid cdev < <(mtty_create_cdev)
	run iommufd-dirty -b device -d "$cdev" -r 0x1000000:1M -r 0x4000000:64K --count 2 -i 10ms \
		-o "$OUT"
	echo "$output"
	mtty_remove_all
	[ "$status" -eq 0 ]
	run records "$OUT"
	echo "$output"
	[ "$output" = "iova=0x1000000 page_size=4096 pages=256 dirty=0
iova=0x4000000 page_size=4096 pages=16 dirty=0
iova=0x1000000 page_size=4096 pages=256 dirty=0
iova=0x4000000 page_size=4096 pages=16 dirty=0" ]
}

@test "device: README's ranges with size suffixes, -r 0:2G -r 4G:14G, reach the kernel as they read" {
	local uuid cdev
	read -r uuid cdev < <(mtty_create_cdev)
	run iommufd-dirty -b device -d "$cdev" -r 0:2G -r 4G:14G --once -o "$OUT"
	echo "$output"
	mtty_remove_all
	[ "$status" -eq 0 ]
	run records "$OUT"
	echo "$output"
	[ "$output" = "iova=0x0 page_size=4096 pages=524288 dirty=0
iova=0x100000000 page_size=4096 pages=3670016 dirty=0" ]
}

@test "device: 300 ranges are merged below the kernel's LOG_MAX_RANGES (E2BIG)" {
	local uuid cdev args=() i
	read -r uuid cdev < <(mtty_create_cdev)
	for i in $(seq 0 299); do
		args+=(-r "$((0x1000000 + i * 0x10000)):0x1000")
	done
	run iommufd-dirty -b device -d "$cdev" "${args[@]}" --once --stats
	echo "$output"
	mtty_remove_all
	[ "$status" -eq 0 ]
	[[ $output == *"300 ranges merged into 256 for DMA logging"* ]]
	[[ $output == *"read 1: 0 of 300 pages dirty"* ]]
}

@test "iommu standalone on an emulated device: exit 3, one clear line" {
	local uuid cdev
	read -r uuid cdev < <(mtty_create_cdev)
	run iommufd-dirty -d "$cdev" --map 0x1000000:64K --once -o "$OUT"
	echo "$output"
	mtty_remove_all
	[ "$status" -eq 3 ]
	[[ $output == "iommufd-dirty: error: $cdev: no IOMMU behind this device"*"try --backend device" ]]
}
