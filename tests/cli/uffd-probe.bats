#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
#
# uffd-probe on the real host kernel: options, the open methods, the
# handshake, the registration matrix, profiles and the functional test.
# Most tests need root (they check what root is allowed); the unprivileged
# view is in uffd-probe-unprivileged.bats.

load uffd-probe-helpers

@test "--help prints usage with every option and exits 0" {
	run uffd-probe --help
	[ "$status" -eq 0 ]
	for opt in --require --memory --list-profiles --functional --faults --device \
		   --tmpfs-dir --json --quiet --verbose --version; do
		[[ "$output" == *"$opt"* ]] || { echo "missing $opt"; false; }
	done
}

@test "--version names the package" {
	run uffd-probe --version
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^uffd-probe\ \(vfio-migtools\)\ [0-9] ]]
}

@test "a bad option is a usage error (exit 2)" {
	run uffd-probe --no-such-option
	[ "$status" -eq 2 ]
	[[ "$output" == *"Try 'uffd-probe --help'"* ]]
}

@test "an unknown profile is a usage error naming it" {
	run uffd-probe --require postcopy,warp-drive
	[ "$status" -eq 2 ]
	[[ "$output" == *"unknown profile 'warp-drive'"* ]]
}

@test "bad --faults, --memory and option mixes are usage errors" {
	run uffd-probe --functional --faults 0
	[ "$status" -eq 2 ]
	[[ "$output" == *"--faults"* ]]
	run uffd-probe --memory floppy
	[ "$status" -eq 2 ]
	run uffd-probe --require wp-async --memory shmem
	[ "$status" -eq 2 ]
	[[ "$output" == *"postcopy profile only"* ]]
	run uffd-probe extra-argument
	[ "$status" -eq 2 ]
}

@test "--list-profiles shows each profile's requirements" {
	run uffd-probe --list-profiles
	[ "$status" -eq 0 ]
	for p in postcopy postcopy-shmem postcopy-hugetlb lazy-restore wp-async; do
		[[ "$output" == *"$p: "* ]] || { echo "missing $p"; false; }
	done
	[[ "$output" == *"features: EVENT_FORK,EVENT_REMAP,EVENT_REMOVE,EVENT_UNMAP"* ]]
	[[ "$output" == *"ioctls:   COPY,ZEROPAGE,WAKE"* ]]
}

@test "--list-profiles --json is the same table as data" {
	need_jq
	run uffd-probe --list-profiles --json
	[ "$status" -eq 0 ]
	[ "$(uffd_json '.schema')" = "uffd-probe-profiles/2" ]
	[ "$(uffd_json '.profiles | length')" -eq 5 ]
	[ "$(uffd_json '.profiles[] | select(.name == "postcopy-hugetlb") | .ioctls_names | join(",")')" = "WAKE,COPY" ]
	[ "$(uffd_json '.profiles[] | select(.name == "wp-async") | .kernel_faults')" = false ]
}

@test "as root every open method works and the handshake names the features" {
	need_root_uffd
	need_jq
	run uffd-probe --json
	[ "$status" -eq 0 ]
	[ "$(uffd_json '.schema')" = "uffd-probe/2" ]
	[ "$(uffd_json '.usable')" = true ]
	[ "$(uffd_json '.privileges.euid')" = 0 ]
	[ "$(uffd_json '.open[] | select(.method == "syscall") | .ok')" = true ]
	[ "$(uffd_json '.open[] | select(.method == "syscall-user-mode-only") | .ok')" = true ]
	if [ -e /dev/userfaultfd ]; then
		[ "$(uffd_json '.open[] | select(.method == "device") | .ok')" = true ]
	fi
	[ "$(uffd_json '.api.ok')" = true ]
	[ "$(uffd_json '.api.api')" = 170 ]
	# Every kernel with userfaultfd since 4.11 offers these.
	for f in EVENT_FORK EVENT_REMAP EVENT_REMOVE EVENT_UNMAP MISSING_SHMEM; do
		uffd_json '.api.features_names[]' | grep -qx "$f" || { echo "missing $f"; false; }
	done
	uffd_json '.api.ioctls_names[]' | grep -qx API
}

@test "-q --json prints the JSON document like the other tools; an unmet profile is its error" {
	need_root_uffd
	need_jq
	run --separate-stderr uffd-probe -q --json
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" | python3 -m json.tool >/dev/null
	[ "$(printf '%s\n' "$output" | wc -l)" -eq 1 ]
	[ "$(uffd_json '.schema')" = "uffd-probe/2" ]
	[ "$(uffd_json '.ok')" = true ]
	[ "$(uffd_json '.error')" = null ]
	run --separate-stderr uffd-probe -q --json --require postcopy-hugetlb --tmpfs-dir /nonexistent
	if [ "$status" -eq 3 ]; then
		[ "$(uffd_json '.ok')" = false ]
		[ "$(uffd_json '.error.exit_code')" = 3 ]
		[[ "$(uffd_json '.error.message')" == "profile postcopy-hugetlb "*" not met: "* ]]
	fi
}

@test "the features mask and the features list agree bit for bit" {
	need_root_uffd
	need_jq
	run uffd-probe --json
	[ "$status" -eq 0 ]
	mask=$(uffd_json '.api.features')
	names=$(uffd_json '.api.features_names | length')
	[ "$(printf '%d' "$mask")" -gt 0 ]
	# popcount of the mask equals the number of entries, named or not.
	bits=0 m=$((mask))
	while [ $m -ne 0 ]; do bits=$((bits + (m & 1))); m=$((m >> 1)); done
	[ "$bits" -eq "$names" ]
}

@test "the table lists every feature bit the build knows with yes/no" {
	need_root_uffd
	run uffd-probe
	[ "$status" -eq 0 ]
	for f in PAGEFAULT_FLAG_WP MISSING_HUGETLBFS MINOR_SHMEM WP_UNPOPULATED POISON WP_ASYNC MOVE; do
		echo "$output" | grep -Eq "^[0-9]+ +$f +(yes|no)$" || { echo "missing $f"; false; }
	done
}

@test "registration: anon MISSING grants COPY, ZEROPAGE and WAKE; MINOR on anon is refused" {
	need_root_uffd
	need_jq
	run uffd-probe --json
	[ "$status" -eq 0 ]
	cell='.registration[] | select(.memory == "anon" and .mode == "missing")'
	[ "$(uffd_json "$cell | .status")" = ok ]
	for i in COPY ZEROPAGE WAKE; do
		uffd_json "$cell | .ioctls_names[]" | grep -qx "$i" || { echo "missing $i"; false; }
	done
	uffd_json "$cell | .ioctls_names[]" | grep -qvx CONTINUE
	cell='.registration[] | select(.memory == "anon" and .mode == "minor")'
	[ "$(uffd_json "$cell | .status")" = refused ]
	[ "$(uffd_json "$cell | .errno")" = EINVAL ]
	[[ "$(uffd_json "$cell | .note")" == *"only for shmem and hugetlbfs"* ]]
}

@test "registration: shmem MINOR grants CONTINUE when the kernel offers MINOR_SHMEM" {
	need_root_uffd
	need_jq
	run uffd-probe --json
	[ "$status" -eq 0 ]
	uffd_json '.api.features_names[]' | grep -qx MINOR_SHMEM || skip "kernel lacks MINOR_SHMEM"
	for kind in shmem tmpfs-file; do
		cell=".registration[] | select(.memory == \"$kind\" and .mode == \"minor\")"
		[ "$(uffd_json "$cell | .status")" = ok ]
		uffd_json "$cell | .ioctls_names[]" | grep -qx CONTINUE
	done
}

@test "registration: WP grants WRITEPROTECT, MISSING does not" {
	need_root_uffd
	need_jq
	run uffd-probe --json
	[ "$status" -eq 0 ]
	uffd_json '.api.features_names[]' | grep -qx PAGEFAULT_FLAG_WP || skip "kernel lacks WP"
	cell='.registration[] | select(.memory == "anon" and .mode == "wp")'
	[ "$(uffd_json "$cell | .status")" = ok ]
	uffd_json "$cell | .ioctls_names[]" | grep -qx WRITEPROTECT
	! uffd_json '.registration[] | select(.mode == "missing") | .ioctls_names[]' | grep -qx WRITEPROTECT
}

@test "hugetlb without reserved huge pages is untestable, not a failure" {
	need_root_uffd
	need_jq
	[ "$(hugepages_total)" = 0 ] || skip "huge pages are reserved here"
	run uffd-probe --json
	[ "$status" -eq 0 ]
	[ "$(uffd_json '[.registration[] | select(.memory == "hugetlb") | .status] | unique | join(",")')" = untestable ]
	[[ "$(uffd_json '.registration[] | select(.memory == "hugetlb" and .mode == "missing") | .note')" == *"no huge pages reserved"* ]]
	# stdout only: the unmet profile is also named on stderr.
	run bash -c 'uffd-probe --require postcopy-hugetlb --json 2>/dev/null'
	[ "$status" -eq 3 ]
	[ "$(uffd_json '.profiles[0].untestable')" = true ]
}

@test "a tmpfs directory that is not tmpfs makes tmpfs-file untestable" {
	need_root_uffd
	need_jq
	dir=$BATS_TEST_TMPDIR
	[ "$(stat -f -c %T "$dir")" != tmpfs ] || skip "$dir is on tmpfs"
	run uffd-probe --json --tmpfs-dir "$dir"
	[ "$status" -eq 0 ]
	cell='.registration[] | select(.memory == "tmpfs-file" and .mode == "missing")'
	[ "$(uffd_json "$cell | .status")" = untestable ]
	[[ "$(uffd_json "$cell | .note")" == *"is not on tmpfs"* ]]
}

@test "a missing device node is reported as missing, the syscall still works" {
	need_root_uffd
	need_jq
	run uffd-probe --json --device "$BATS_TEST_TMPDIR/no-such-node"
	[ "$status" -eq 0 ]
	dev='.open[] | select(.method == "device")'
	[ "$(uffd_json "$dev | .ok")" = false ]
	[ "$(uffd_json "$dev | .errno")" = ENOENT ]
	[[ "$(uffd_json "$dev | .reason")" == *"no-such-node does not exist"* ]]
}

@test "a device node that is not userfaultfd is named as such" {
	need_root_uffd
	run uffd-probe --device /dev/null
	[ "$status" -eq 0 ]
	echo "$output" | grep -E '^device +refused' | grep -q "not a userfaultfd node"
}

@test "--require postcopy as root exits 0 and -q prints nothing" {
	need_root_uffd
	run uffd-probe --require postcopy
	[ "$status" -eq 0 ]
	echo "$output" | grep -Eq '^postcopy +anon +met$'
	run uffd-probe -q --require postcopy,postcopy-shmem,lazy-restore
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

@test "--require postcopy --memory shmem checks shmem with MISSING_SHMEM" {
	need_root_uffd
	need_jq
	run uffd-probe --json --require postcopy --memory shmem
	[ "$status" -eq 0 ]
	[ "$(uffd_json '.profiles[0].memory')" = shmem ]
	[ "$(uffd_json '.profiles[0].met')" = true ]
}

@test "without CAP_SYS_PTRACE: syscall refused, device works, lazy-restore unmet (EVENT_FORK)" {
	need_root_uffd
	command -v setpriv >/dev/null || skip "no setpriv"
	[ -e /dev/userfaultfd ] || skip "no /dev/userfaultfd"
	[ "$(sysctl_unprivileged)" = 0 ] || skip "vm.unprivileged_userfaultfd is not 0"
	run setpriv --bounding-set=-sys_ptrace --inh-caps=-sys_ptrace -- uffd-probe --require lazy-restore
	[ "$status" -eq 3 ]
	echo "$output" | grep -E '^syscall +refused' |
		grep -q "needs CAP_SYS_PTRACE or vm.unprivileged_userfaultfd=1 (or UFFD_USER_MODE_ONLY)"
	echo "$output" | grep -Eq '^device +ok'
	echo "$output" | grep -q "^  - enabling EVENT_FORK needs CAP_SYS_PTRACE$"
	# Post-copy only needs an fd that catches kernel faults: the device gives one.
	run setpriv --bounding-set=-sys_ptrace --inh-caps=-sys_ptrace -- uffd-probe -q --require postcopy
	[ "$status" -eq 0 ]
}

@test "seccomp denying userfaultfd(2) is blamed on seccomp, not the kernel" {
	need_root_uffd
	run uffd-test-exec --seccomp-enosys -- uffd-probe
	[ "$status" -ne 77 ] || skip "cannot install a seccomp filter here"
	echo "$output" | grep -E '^syscall +refused' | grep -q "blocked by seccomp"
	echo "$output" | grep -E '^syscall-user-mode-only +refused' | grep -q "blocked by seccomp"
	[[ "$output" == *"seccomp 2"* ]]
}

@test "seccomp and no device node: not usable, exit 3 with the reason" {
	need_root_uffd
	run uffd-test-exec --seccomp-enosys -- uffd-probe --device "$BATS_TEST_TMPDIR/none"
	[ "$status" -ne 77 ] || skip "cannot install a seccomp filter here"
	[ "$status" -eq 3 ]
	[[ "$output" == *"userfaultfd is not usable here"* ]]
}

@test "--functional faults pages in, resolves them three ways and checks them" {
	need_root_uffd
	need_jq
	run uffd-probe --json --functional --faults 300
	[ "$status" -eq 0 ]
	[ "$(uffd_json '.functional.faults_requested')" = 300 ]
	for m in copy zeropage; do
		r=".functional.results[] | select(.method == \"$m\")"
		[ "$(uffd_json "$r | .status")" = ok ]
		[ "$(uffd_json "$r | .faults")" = 300 ]
		[ "$(uffd_json "$r | .verified")" = 300 ]
		[ "$(uffd_json "$r | .median_s > 0 and .p99_s >= .median_s and .faults_per_s > 0")" = true ]
	done
	uffd_json '.api.features_names[]' | grep -qx MINOR_SHMEM || skip "kernel lacks MINOR_SHMEM"
	r='.functional.results[] | select(.method == "continue")'
	[ "$(uffd_json "$r | .status")" = ok ]
	[ "$(uffd_json "$r | .verified")" = 300 ]
}

@test "--functional table prints the latency figures" {
	need_root_uffd
	run uffd-probe --functional -n 100
	[ "$status" -eq 0 ]
	echo "$output" | grep -Eq '^FUNCTION +MEMORY +RESULT +FAULTS +VERIFIED +MEDIAN_US +P99_US +FAULTS/S$'
	echo "$output" | grep -Eq '^copy +anon +ok +100 +100 +[0-9.]+ +[0-9.]+ +[0-9]+$'
}

@test "a write error on stdout is reported (exit 1)" {
	need_root_uffd
	[ -w /dev/full ] || skip "no /dev/full"
	run bash -c 'uffd-probe --list-profiles >/dev/full'
	[ "$status" -eq 1 ]
	[[ "$output" == *"write error"* ]]
}

@test "the man page states each profile's requirements as the table does" {
	need_jq
	man=$VMT_SRCDIR/man/uffd-probe.1
	[ -f "$man" ] || skip "no source tree"
	run uffd-probe --list-profiles --json
	[ "$status" -eq 0 ]
	for name in $(uffd_json '.profiles[].name'); do
		# The paragraph of this profile: from its .B line to the next .TP.
		para=$(awk -v n="$name" 'prev == ".TP" && $0 == ".B " n { on = 1; next }
			on && /^\.(TP|SH)/ { exit } on { print } { prev = $0 }' "$man")
		[ -n "$para" ] || { echo "no paragraph for $name"; false; }
		for f in $(uffd_json ".profiles[] | select(.name == \"$name\") | .features_names[]"); do
			[[ "$para" == *"$f"* ]] || { echo "$name: feature $f not in the man page"; false; }
		done
		want=$(uffd_json ".profiles[] | select(.name == \"$name\") | .ioctls_names | sort | join(\", \")")
		have=$(echo "$para" | sed -n 's/^Ioctls: \(.*\)\.$/\1/p' | tr -d ' ' | tr ',' '\n' | sort | paste -sd, | sed 's/,/, /g')
		[ "$want" = "$have" ] || { echo "$name: ioctls '$have' in the man page, '$want' in the table"; false; }
		mode=$(uffd_json ".profiles[] | select(.name == \"$name\") | .mode")
		[[ "$para" == *"Mode: $mode."* ]] || { echo "$name: mode $mode"; false; }
	done
}

@test "--json has every member of schema uffd-probe/2" {
	need_root_uffd
	need_jq
	run uffd-probe --json --functional --faults 50
	[ "$status" -eq 0 ]
	[ "$(uffd_json 'keys | sort | join(",")')" = "api,error,functional,kernel,ok,open,privileges,profiles,registration,schema,usable" ]
	[ "$(uffd_json '.privileges | keys | sort | join(",")')" = "cap_sys_ptrace,device,device_mode,euid,seccomp,unprivileged_userfaultfd" ]
	[ "$(uffd_json '.open[0] | keys | sort | join(",")')" = "errno,error,kernel_faults,method,ok,reason" ]
	[ "$(uffd_json '.api | keys | sort | join(",")')" = "api,errno,error,features,features_names,ioctls,ioctls_names,method,missing_features,missing_features_names,ok" ]
	[ "$(uffd_json '.registration | length')" -eq 12 ]
	[ "$(uffd_json '.registration[0] | keys | sort | join(",")')" = "errno,error,ioctls,ioctls_names,memory,mode,note,status" ]
	[ "$(uffd_json '.profiles | length')" -eq 5 ]
	[ "$(uffd_json '.profiles[0] | keys | sort | join(",")')" = "memory,met,method,name,unmet,untestable" ]
	[ "$(uffd_json '.functional.results | length')" -eq 3 ]
	[ "$(uffd_json '.functional.results[0] | keys | sort | join(",")')" = "faults,faults_per_s,median_s,memory,method,note,p99_s,status,verified" ]
}
