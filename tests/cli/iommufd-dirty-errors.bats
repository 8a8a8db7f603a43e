#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
#
# iommufd-dirty's command line and error paths that need no device.

load helpers
load iommufd-dirty-helpers

setup() {
	vmt_require_tool iommufd-dirty
}

@test "--help, --version" {
	vmt_run 0 iommufd-dirty --help
	[[ ${lines[0]} == "Usage:" ]]
	[[ $output == *"--iommufd-fd N --hwpt ID --range IOVA:SIZE"* ]]
	vmt_run 0 iommufd-dirty -V
	[ "$output" = "iommufd-dirty (vfio-migtools) 0.1.0" ]
}

@test "usage errors: one line, Try --help, exit 2" {
	vmt_run_error 2 "no tracker" iommufd-dirty
	vmt_run_error 2 "unknown option" iommufd-dirty --bogus
	vmt_run_error 2 "needs at least one --map" iommufd-dirty -d $DEV0
	vmt_run_error 2 "'--map' argument|--map argument: '0x1000'" iommufd-dirty -d $DEV0 --map 0x1000
	vmt_run_error 2 "zero length" iommufd-dirty -d $DEV0 --map 0x1000:0
	vmt_run_error 2 "past the end" iommufd-dirty -d $DEV0 --map 0xfffffffffffff000:8K
	vmt_run_error 2 "past the end" iommufd-dirty -d $DEV0 --map 16777215T:2T
	# a suffix goes with a decimal number, never with hex
	vmt_run_error 2 "invalid --map argument: '0x1G:4K'" iommufd-dirty -d $DEV0 --map 0x1G:4K
	vmt_run_error 2 "invalid --range argument: '1.5G:4K'" iommufd-dirty -d $DEV0 --map 1G:1G -r 1.5G:4K
	vmt_run_error 2 "overlap" iommufd-dirty -d $DEV0 --map 0x1000:8K --map 0x2000:4K
	vmt_run_error 2 "--json goes with --stats" iommufd-dirty -d $DEV0 --map 0x1000:4K --json
	vmt_run_error 2 "--once cannot be combined" iommufd-dirty -d $DEV0 --map 0x1000:4K --once -n 2
	vmt_run_error 2 "not a power of two" iommufd-dirty -d $DEV0 --map 0x1000:4K -p 3000
	vmt_run_error 2 "not a multiple of 8" iommufd-dirty -d $DEV0 --map 0x1000:4K --max-bitmap 12
	vmt_run_error 2 "at least 1ms" iommufd-dirty -d $DEV0 --map 0x1000:4K -i 10us
	vmt_run_error 2 "--backend argument" iommufd-dirty -b dma -d $DEV0 -r 0x1000:4K
	vmt_run_error 2 "unexpected argument" iommufd-dirty -d $DEV0 --map 0x1000:4K extra
	vmt_run_error 2 "--range 0x2000\\+0x2000 is not inside one --map" \
		iommufd-dirty -d $DEV0 --map 0x1000:8K -r 0x2000:8K
	vmt_run_error 2 "--output is for the stream" iommufd-dirty -d $DEV0 --map 0x1000:4K --stats -o x
}

@test "usage errors: inherited and device backends" {
	vmt_run_error 2 "--iommufd-fd needs --hwpt" iommufd-dirty --iommufd-fd 3 -r 0x1000:4K
	vmt_run_error 2 "--hwpt needs --iommufd-fd" iommufd-dirty -d $DEV0 --map 0x1000:4K --hwpt 2
	vmt_run_error 2 "exclude each other" iommufd-dirty --iommufd-fd 3 --hwpt 2 -d $DEV0 -r 0x1000:4K
	vmt_run_error 2 "with --iommufd-fd give --range" iommufd-dirty --iommufd-fd 3 --hwpt 2 --map 0x1000:4K
	vmt_run_error 2 "needs at least one --range" iommufd-dirty --iommufd-fd 3 --hwpt 2
	vmt_run_error 2 "--enable-tracking is for an inherited HWPT" \
		iommufd-dirty -d $DEV0 --map 0x1000:4K --enable-tracking
	vmt_run_error 2 "--backend device needs at least one --range" iommufd-dirty -b device -d $DEV0
	vmt_run_error 2 "--map belongs to --backend iommu" iommufd-dirty -b device -d $DEV0 --map 0x1000:4K
	vmt_run_error 2 "DMA logging reports always clear" \
		iommufd-dirty -b device -d $DEV0 -r 0x1000:4K --no-clear
	vmt_run_error 2 "DMA logging needs at least 4096" iommufd-dirty -b device -d $DEV0 -r 0x1000:4K -p 2K
}

@test "an inherited fd that is not open is named" {
	vmt_run_error 1 "--iommufd-fd 97: not an open file descriptor" \
		iommufd-dirty --iommufd-fd 97 --hwpt 2 -r 0x1000000:64K --once -f
}

@test "an inherited fd that is not an iommufd fails on its first ioctl" {
	vmt_run_error 1 "hwpt 2 on iommufd fd 0: cannot find the IO page size" \
		iommufd-dirty --iommufd-fd 0 --hwpt 2 -r 0x1000000:64K --once -f </dev/null
}

@test "refuses to write the stream to a terminal without -f" {
	VMT_FORCE_TTY=1 vmt_run_error 2 "refusing to write binary data to a terminal" \
		iommufd-dirty -d /dev/vfio/devices/vfio9 --map 0x1000:4K --once
}

@test "a device that does not exist is named" {
	vmt_run_error 1 "/dev/vfio/devices/vfio9: cannot open the device: no such device" \
		iommufd-dirty -d /dev/vfio/devices/vfio9 --map 0x1000:4K --once -f
}

@test "--stats --json: a failure is the last line, \"ok\": false with the error line" {
	command -v jq >/dev/null || skip "jq not installed"
	vmt_run_error 1 "hwpt 2 on iommufd fd 0: cannot find the IO page size" \
		iommufd-dirty --iommufd-fd 0 --hwpt 2 -r 0x1000000:64K --once --stats --json </dev/null
	[ "${#lines[@]}" = 1 ]
	[ "$(jq -r '.schema, .ok, .error.errno, .error.exit_code' <<<"${lines[0]}" | paste -sd' ')" = \
		"iommufd-dirty/1 false ENOTTY 1" ]
	[ "iommufd-dirty: error: $(jq -r .error.message <<<"${lines[0]}")" = "$stderr" ]
	# without --json, stdout stays empty
	vmt_run_error 1 "cannot open the device" \
		iommufd-dirty -d /dev/vfio/devices/vfio9 --map 0x1000:4K --once --stats
	[ -z "$output" ]
	vmt_run_error 1 "cannot open the device" \
		iommufd-dirty -d /dev/vfio/devices/vfio9 --map 0x1000:4K --once --stats --json
	[ "$(jq -r '.ok, .error.device' <<<"$output" | paste -sd' ')" = "false /dev/vfio/devices/vfio9" ]
}
