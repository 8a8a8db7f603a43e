#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
#
# uffd-probe on the test-tier kernel (Linux 6.12, root in the guest): the
# answers must match what that kernel is known to have, huge pages included
# (reserved here, which the development host does not allow), and the
# unprivileged refusals must be explained. The guest has no jq: the checks
# read the table and the one-line-per-entry JSON with grep.
#
# Needs on the guest's PATH: uffd-probe and uffd-test-exec (make check-kernel
# puts both there).

load helpers

HUGEPAGES=8

setup() {
	vmt_require_guest
	TMPFS_DIR=$(mktemp -d)
	mount -t tmpfs tmpfs "$TMPFS_DIR"
}

teardown() {
	umount "$TMPFS_DIR" 2>/dev/null || true
	rmdir "$TMPFS_DIR" 2>/dev/null || true
	echo 0 >/proc/sys/vm/nr_hugepages
}

reserve_hugepages() {
	echo "$HUGEPAGES" >/proc/sys/vm/nr_hugepages
	[ "$(awk '/^HugePages_Total:/ { print $2 }' /proc/meminfo)" -ge 2 ] ||
		{ echo "could not reserve huge pages"; return 1; }
}

# The matrix line for KIND MODE in the table.
cell() {
	echo "$output" | grep -E "^$1 +$2 +"
}

@test "6.12 as root: every open method works, all 17 feature bits offered" {
	run uffd-probe --tmpfs-dir "$TMPFS_DIR"
	echo "$output"
	[ "$status" -eq 0 ]
	echo "$output" | grep -Eq '^syscall +ok +yes$'
	echo "$output" | grep -Eq '^syscall-user-mode-only +ok +no$'
	echo "$output" | grep -Eq '^device +ok +yes +/dev/userfaultfd$'
	# 6.12 has every feature up to MOVE (6.8), and this build names them all.
	echo "$output" | grep -q 'features 0x1ffff'
	[ "$(echo "$output" | grep -Ec '^[0-9]+ +[A-Z_]+ +yes$')" -eq 17 ]
}

@test "6.12 registration matrix: anon, shmem and tmpfs-file" {
	run uffd-probe --tmpfs-dir "$TMPFS_DIR"
	[ "$status" -eq 0 ]
	cell anon missing | grep -Eq ' ok +COPY,ZEROPAGE,WAKE,POISON,MOVE$'
	cell anon wp | grep -q 'WRITEPROTECT'
	cell anon minor | grep -q 'refused .*EINVAL: MINOR faults exist only for shmem and hugetlbfs'
	cell shmem missing | grep -Eq ' ok +COPY,ZEROPAGE,WAKE'
	cell shmem minor | grep -q 'CONTINUE'
	# CONFIG_PTE_MARKER_UFFD_WP is on in the test kernel: WP works on shmem.
	cell shmem wp | grep -q 'WRITEPROTECT'
	cell tmpfs-file missing | grep -Eq ' ok +COPY'
	cell tmpfs-file minor | grep -q 'CONTINUE'
}

@test "6.12 without huge pages: hugetlb is untestable, postcopy-hugetlb exit 3" {
	echo 0 >/proc/sys/vm/nr_hugepages
	run uffd-probe
	[ "$status" -eq 0 ]
	cell hugetlb missing | grep -q 'untestable .*no huge pages reserved'
	run uffd-probe --require postcopy-hugetlb
	[ "$status" -eq 3 ]
	echo "$output" | grep -Eq '^postcopy-hugetlb +hugetlb +untestable$'
}

@test "6.12 with huge pages reserved: hugetlb registers, no ZEROPAGE, MINOR gives CONTINUE" {
	reserve_hugepages
	run uffd-probe
	echo "$output"
	[ "$status" -eq 0 ]
	cell hugetlb missing | grep -Eq ' ok +COPY,WAKE,POISON$'
	cell hugetlb minor | grep -q 'CONTINUE'
	cell hugetlb wp | grep -q 'WRITEPROTECT'
	run uffd-probe -q --require postcopy-hugetlb
	[ "$status" -eq 0 ]
	run uffd-probe -q --require postcopy --memory hugetlb
	[ "$status" -eq 0 ]
}

@test "6.12 every profile is met as root" {
	reserve_hugepages
	run uffd-probe --require postcopy,postcopy-shmem,postcopy-hugetlb,lazy-restore,wp-async
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | grep -Ec '^(postcopy|postcopy-shmem|postcopy-hugetlb|lazy-restore|wp-async) +[a-z-]+ +met$')" -eq 5 ]
}

@test "6.12 --functional: COPY, ZEROPAGE and CONTINUE resolve real faults with the right contents" {
	run uffd-probe --json --functional --faults 500
	echo "$output" | grep '"method": "[a-z]*", "memory"'
	# one line: split it at the results, one per line, for the greps below
	output=$(echo "$output" | sed 's/}, {/}\n{/g')
	[ "$status" -eq 0 ]
	for m in copy zeropage continue; do
		echo "$output" | grep "\"method\": \"$m\", \"memory\"" |
			grep -q '"status": "ok", "faults": 500, "verified": 500, "median_s": [0-9]'
	done
}

@test "6.12 unprivileged: syscall needs CAP_SYS_PTRACE, user-mode-only works, device refused" {
	chmod 0600 /dev/userfaultfd
	run uffd-test-exec --user 65534:65534 -- uffd-probe --require postcopy
	echo "$output"
	[ "$status" -eq 3 ]
	echo "$output" | grep -q 'euid 65534, CAP_SYS_PTRACE no, vm.unprivileged_userfaultfd 0'
	echo "$output" | grep -E '^syscall +refused' |
		grep -q 'needs CAP_SYS_PTRACE or vm.unprivileged_userfaultfd=1 (or UFFD_USER_MODE_ONLY)$'
	echo "$output" | grep -Eq '^syscall-user-mode-only +ok +no$'
	echo "$output" | grep -E '^device +refused' | grep -q 'no permission to open /dev/userfaultfd (mode 0600'
	echo "$output" | grep -q 'profile postcopy (anon memory) not met: cannot open a userfaultfd that also catches kernel faults'
}

@test "6.12 unprivileged with vm.unprivileged_userfaultfd=1: the syscall works" {
	old=$(cat /proc/sys/vm/unprivileged_userfaultfd)
	echo 1 >/proc/sys/vm/unprivileged_userfaultfd
	run uffd-test-exec --user 65534:65534 -- uffd-probe --require postcopy
	echo "$old" >/proc/sys/vm/unprivileged_userfaultfd
	echo "$output"
	[ "$status" -eq 0 ]
	echo "$output" | grep -Eq '^syscall +ok +yes$'
}

@test "6.12 unprivileged --functional works with a user-mode-only fd" {
	run uffd-test-exec --user 65534:65534 -- uffd-probe --json --functional --faults 200
	[ "$status" -eq 0 ]
	# one line: one object per line for the grep below
	echo "$output" | sed 's/}, {/}\n{/g' | grep '"method": "copy", "memory"' | grep -q '"status": "ok", "faults": 200, "verified": 200'
}

@test "6.12 root without CAP_SYS_PTRACE: lazy-restore unmet (EVENT_FORK), postcopy via the device" {
	run uffd-test-exec --drop-ptrace -- uffd-probe --require lazy-restore
	echo "$output"
	[ "$status" -eq 3 ]
	echo "$output" | grep -q '^  - enabling EVENT_FORK needs CAP_SYS_PTRACE$'
	run uffd-test-exec --drop-ptrace -- uffd-probe -q --require postcopy
	[ "$status" -eq 0 ]
}

# The test kernel has CONFIG_SECCOMP_FILTER (config.fragment): uffd-test-exec
# exits 77 only when it cannot install the filter, which is a failure here.
@test "a seccomp filter refusing userfaultfd(2) is blamed on seccomp" {
	run uffd-test-exec --seccomp-enosys -- uffd-probe
	echo "$output"
	[ "$status" -ne 77 ]
	echo "$output" | grep -E '^syscall +refused' | grep -q 'blocked by seccomp'
}
