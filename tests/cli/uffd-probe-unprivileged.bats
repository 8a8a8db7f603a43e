#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
#
# uffd-probe run as nobody (privileges dropped with setpriv): it must say
# precisely which way of opening a userfaultfd is refused and why, and
# still do what a user-mode-only userfaultfd allows.

load uffd-probe-helpers

setup() {
	need_setpriv
}

teardown() {
	nobody_bin_cleanup
}

@test "unprivileged: the syscall refusal names CAP_SYS_PTRACE and the sysctl" {
	[ "$(sysctl_unprivileged)" = 0 ] || skip "vm.unprivileged_userfaultfd is not 0"
	run as_nobody uffd-probe
	[ "$status" -eq 0 ]
	echo "$output" | grep -Eq 'euid 65534, CAP_SYS_PTRACE no, vm.unprivileged_userfaultfd 0'
	echo "$output" | grep -E '^syscall +refused +yes' |
		grep -q "needs CAP_SYS_PTRACE or vm.unprivileged_userfaultfd=1 (or UFFD_USER_MODE_ONLY)$"
}

@test "unprivileged: UFFD_USER_MODE_ONLY is allowed and the handshake works" {
	run as_nobody uffd-probe
	[ "$status" -eq 0 ]
	echo "$output" | grep -Eq '^syscall-user-mode-only +ok +no$'
	echo "$output" | grep -Eq '^UFFDIO_API 0xaa \(fd from syscall-user-mode-only\)'
}

@test "unprivileged: a root-only /dev/userfaultfd is refused with its mode and owner" {
	[ -e /dev/userfaultfd ] || skip "no /dev/userfaultfd"
	as_nobody test -r /dev/userfaultfd && skip "/dev/userfaultfd is open to nobody"
	mode=$(stat -c %04a /dev/userfaultfd)
	run as_nobody uffd-probe
	echo "$output" | grep -E '^device +refused +yes' |
		grep -q "no permission to open /dev/userfaultfd (mode $mode, owner 0:0)"
}

@test "unprivileged --json: errno names and reasons per method" {
	need_jq
	[ "$(sysctl_unprivileged)" = 0 ] || skip "vm.unprivileged_userfaultfd is not 0"
	run as_nobody uffd-probe --json
	[ "$status" -eq 0 ]
	[ "$(uffd_json '.privileges.cap_sys_ptrace')" = false ]
	[ "$(uffd_json '.privileges.unprivileged_userfaultfd')" = 0 ]
	[ "$(uffd_json '.open[] | select(.method == "syscall") | .errno')" = EPERM ]
	[ "$(uffd_json '.open[] | select(.method == "syscall-user-mode-only") | .ok')" = true ]
	[ "$(uffd_json '.api.method')" = syscall-user-mode-only ]
	[ "$(uffd_json '.usable')" = true ]
}

@test "unprivileged --require postcopy: exit 3, the reason on stderr; -q stays silent" {
	[ "$(sysctl_unprivileged)" = 0 ] || skip "vm.unprivileged_userfaultfd is not 0"
	as_nobody test -r /dev/userfaultfd && skip "/dev/userfaultfd is open to nobody"
	run as_nobody uffd-probe --require postcopy
	[ "$status" -eq 3 ]
	[[ "$output" == *"profile postcopy (anon memory) not met: cannot open a userfaultfd that also catches kernel faults"* ]]
	run as_nobody uffd-probe -q --require postcopy
	[ "$status" -eq 3 ]
	[ -z "$output" ]
}

@test "unprivileged --require lazy-restore lists both missing capabilities" {
	[ "$(sysctl_unprivileged)" = 0 ] || skip "vm.unprivileged_userfaultfd is not 0"
	run as_nobody uffd-probe --require lazy-restore
	[ "$status" -eq 3 ]
	echo "$output" | grep -q "^  - cannot open a userfaultfd that also catches kernel faults"
	echo "$output" | grep -q "^  - enabling EVENT_FORK needs CAP_SYS_PTRACE$"
}

@test "unprivileged --require wp-async: met with a user-mode-only fd" {
	run as_nobody uffd-probe --json
	need_jq
	uffd_json '.api.features_names[]' | grep -qx WP_ASYNC || skip "kernel lacks WP_ASYNC"
	run as_nobody uffd-probe -q --require wp-async
	[ "$status" -eq 0 ]
}

@test "unprivileged --functional works through a user-mode-only fd" {
	need_jq
	run as_nobody uffd-probe --json --functional --faults 200
	[ "$status" -eq 0 ]
	for m in copy zeropage; do
		r=".functional.results[] | select(.method == \"$m\")"
		[ "$(uffd_json "$r | .status")" = ok ]
		[ "$(uffd_json "$r | .verified")" = 200 ]
	done
}
