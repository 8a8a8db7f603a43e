#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The iommufd mock IOMMU's dirty tracking reports exactly the pages marked
# dirty, and clears them on read.  Pages are 2048-byte mock IO pages.

load helpers

setup() {
	vmt_require_guest
}

@test "mock dirty bitmap holds exactly the marked pages, then is cleared" {
	run iommufd-mock check 0 5 6 31
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"mock: marked 4 page(s)"* ]]
	[[ $output == *$'\n'"dirty: 0 5 6 31"$'\n'* ]]
	[[ $output == *"dirty after clear: none"* ]]
}

@test "mock dirty bitmap at 4 KiB granularity folds pairs of IO pages" {
	run iommufd-mock check --page-size 4096 1 5 31
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *$'\n'"dirty: 0 2 15"$'\n'* ]]
}

@test "mock set-up is handed to a command with the iommufd fd inherited" {
	run iommufd-mock exec --mark 3 -- sh -c '
		echo "fd=$VMT_IOMMUFD_FD hwpt=$VMT_HWPT_ID iova=$VMT_IOVA length=$VMT_LENGTH"
		[ -e /proc/self/fd/$VMT_IOMMUFD_FD ] || exit 10
		iommufd-mock mark 9 || exit 11
		iommufd-mock bitmap --no-clear || exit 12
		iommufd-mock bitmap || exit 13
		iommufd-mock bitmap || exit 14
		exit 42'
	echo "$output"
	# The command's own exit status comes back unchanged.
	[ "$status" -eq 42 ]
	[[ $output == *"iova=0x1000000 length=65536"* ]]
	[ "$(grep -c '^dirty: 3 9$' <<<"$output")" -eq 2 ]
	[[ $output == *$'\n'"dirty: none"* ]]
}
