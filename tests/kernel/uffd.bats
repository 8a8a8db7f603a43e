#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
#
# userfaultfd resolves missing-page faults in the test kernel.

load helpers

setup() {
	vmt_require_guest
}

@test "userfaultfd: a faulting thread reads what UFFDIO_COPY and ZEROPAGE put" {
	run uffd-check
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"UFFDIO_COPY: faulting thread read 0x5a"* ]]
	[[ $output == *"UFFDIO_ZEROPAGE: faulting thread read 0x00"* ]]
	[[ $output == *"userfaultfd: ok"* ]]
}
