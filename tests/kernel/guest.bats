#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The guest is what the other kernel-tier tests assume it is.

load helpers

setup() {
	vmt_require_guest
}

@test "guest runs the 6.12 test kernel as root" {
	[ "$(id -u)" = 0 ]
	run uname -r
	[[ $output == 6.12* ]]
}

@test "guest has the VFIO, iommufd and userfaultfd device nodes" {
	[ -c /dev/iommu ]
	[ -c /dev/vfio/vfio ]
	[ -c /dev/userfaultfd ]
	[ -d /sys/devices/virtual/mtty/mtty/mdev_supported_types/mtty-1 ]
}
