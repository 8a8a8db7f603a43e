#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
#
# One conformance suite, two tiers, one checker: the shipped vfio-mig-check.
# This file runs its groups
#   - inside the kernel-tier VM (VMT_IN_VM=1, make check-kernel) on two fresh
#     mtty instances, and group dirty on the iommufd mock (iommufd-mock exec
#     hands its iommufd and dirty-tracking HWPT to --iommufd-fd), or
#   - anywhere else (make check) under the simulator, on two mdevs
#     configured like mtty.
# The checks and their expected answers are the same on both tiers: they are
# the kernel's.  Where a rule changed within 6.12 stable, the checker expects
# what the kernel it runs on does: uname -r in the guest; on the simulator,
# the version the simulator follows (vfiosim-run --linux-version).
# Every group must run on both tiers: a skipped group fails here.

setup() {
	if [ "${VMT_IN_VM:-}" = 1 ]; then
		TIER=kernel
		load "$VMT_KERNEL_HELPERS"
		vmt_require_guest
		CHECK=vfio-mig-check
	else
		TIER=sim
		# by hand from a build dir works too: `bats ../tests/conformance/conformance.bats`
		: "${VMT_BUILDDIR:=$(pwd)}"
		: "${VMT_SRCDIR:=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}"
		SIM_RUN="$VMT_SRCDIR/tests/sim/vfiosim-run"
		CHECK="$VMT_BUILDDIR/vfio-mig-check"
		[ -x "$CHECK" ] || {
			echo "$CHECK not built" >&2
			return 1
		}
	fi
}

teardown() {
	if [ "$TIER" = kernel ]; then
		mtty_remove_all
	fi
}

# Like mtty: an mdev of type mtty-1 with STOP_COPY|P2P|PRE_COPY whose read()
# returns 0 at the temporary end of pre-copy data, with DMA logging (mtty
# has log_ops: mtty_log_start etc.), whose state survives a close (mtty_close
# only disables the files; close-reset=yes is the mlx5 behaviour); the IO page of the
# iommufd mock (2 KiB) as the IOAS alignment.  Unlike mtty (an mdev with no
# IOMMU) the simulated IOMMU tracks dirty pages, and the same two pages are
# dirty in the device's DMA log and in the IOMMU, as one DMA would leave them.
sim_mtty_like=flags=stop-copy+p2p+pre-copy,precopy-initial=48,size=48,precopy-eof=zero,mdev-type=mtty-1,dma-logging=yes,close-reset=no,log-dirty=0x1000000:0x2000
sim_uuid0=6f1c1e4a-4a1f-4d0e-9a57-000000000001
sim_args=(
	--device "vfio0,mdev=$sim_uuid0,$sim_mtty_like"
	--device "vfio1,mdev=6f1c1e4a-4a1f-4d0e-9a57-000000000002,$sim_mtty_like"
	--iommu pgsize=2048,dirty=0x1000000:0x2000
)

# run_check GROUP [OPTION...]: runs vfio-mig-check's GROUP on the devices of
# this tier (bats `run`), as the kernel of this tier unless --kernel is given.
run_check() {
	local group=$1 a b
	shift
	if [ "$TIER" = kernel ]; then
		if [ "$group" = ioas ]; then
			run "$CHECK" --group ioas "$@"
		elif [ "$group" = dirty ]; then
			# shellcheck disable=SC2016 # expanded by the shell iommufd-mock execs
			run iommufd-mock exec -- sh -c '"$0" --group dirty --iommufd-fd "$VMT_IOMMUFD_FD" \
				--hwpt "$VMT_HWPT_ID" --range "$VMT_IOVA:$VMT_LENGTH" \
				--io-page-size "$VMT_IO_PAGE_SIZE" "$@"' "$(command -v "$CHECK")" "$@"
		else
			a=$(mtty_create_cdev) || return 1
			b=$(mtty_create_cdev) || return 1
			run "$CHECK" --group "$group" --yes "$@" -d "${a#* }" -d "${b#* }"
		fi
	else
		run "$SIM_RUN" --state-dir "$BATS_TEST_TMPDIR/sim" "${sim_args[@]}" -- \
			"$CHECK" --group "$group" --kernel "$("$SIM_RUN" --linux-version)" --yes "$@" \
			-d /dev/vfio/devices/vfio0 -d /dev/vfio/devices/vfio1
	fi
	echo "# tier: $TIER"
}

# conformance GROUP: GROUP runs (not skipped) and passes on this tier.
conformance() {
	local group=$1
	run_check "$group"
	echo "$output"
	# VMT_CONFORMANCE_SHOW=1: every check in the TAP stream, also when passing
	# (make check-kernel KERNEL_RUN_FLAGS='--env VMT_CONFORMANCE_SHOW=1').
	if [ "${VMT_CONFORMANCE_SHOW:-}" = 1 ]; then
		local line
		for line in "${lines[@]}"; do
			printf '# [%s %s] %s\n' "$TIER" "$group" "$line" >&3
		done
	fi
	[ "$status" -eq 0 ]
	[[ $output != *"not ok"* ]]
	[[ $output != *"skipped:"* ]]
	[[ $output == *"# group $group"* ]]
	[[ $output =~ 1\.\.[1-9] ]]
}

@test "conformance: before and at BIND_IOMMUFD, ATTACH, GET_INFO" {
	conformance bind
}

@test "conformance: VFIO_DEVICE_FEATURE flag and argsz checks" {
	conformance feature
}

@test "conformance: migration FSM, every (from, to) pair, data_fd and GET" {
	conformance fsm
}

@test "conformance: data_fd lifetime, kept across PRE_COPY -> STOP_COPY" {
	conformance datafd
}

@test "conformance: VFIO_MIG_GET_PRECOPY_INFO and the ends of the stream" {
	conformance precopy
}

@test "conformance: pre-copy under no load converges and stays converged" {
	conformance converge
}

@test "conformance: MIG_DATA_SIZE in every state" {
	conformance datasize
}

@test "conformance: RESUMING accepts a whole stream, refuses extra and short ones" {
	conformance resume
}

@test "conformance: DEV -> migstream -> PEER round trip, byte-exact, digests checked" {
	conformance roundtrip
}

@test "conformance: VFIO_DEVICE_RESET from the migration states" {
	conformance reset
}

@test "conformance: closing the device fd keeps the migration state" {
	conformance close
	[[ $output == *"the driver keeps the migration state across a close"* ]]
}

@test "conformance: DMA_LOGGING_START/REPORT/STOP checks of the VFIO core" {
	conformance dmalog
}

@test "conformance: DMA logging against the IOMMU's dirty bits (simulator; mtty has no IOMMU)" {
	if [ "$TIER" = kernel ]; then
		run_check dmacross
		echo "$output"
		[ "$status" -eq 0 ]
		[[ $output == *"# group dmacross skipped: the IOMMU has no dirty tracking"* ]]
	else
		conformance dmacross
		[[ $output == *"# dirty pages of 65536 bytes at 4096-byte pages: device log 2, IOMMU 2"* ]]
	fi
}

@test "conformance: the legacy container and group, and their exclusion with the cdev" {
	conformance group
}

@test "conformance: IOAS_ALLOC/MAP/UNMAP/IOVA_RANGES, DESTROY on a fresh iommufd" {
	conformance ioas
}

@test "conformance: IOMMU_HWPT_GET_DIRTY_BITMAP argument checks" {
	conformance dirty
}

@test "conformance: mtty's pre-copy ends with read() = 0, reported as such" {
	conformance precopy
	[[ $output == *"# temporary end of pre-copy: read() = 0"* ]]
}

# The rules that changed within 6.12 stable follow the version the checker
# is given: told it runs on 6.12.117, the same kernel (or simulator) fails
# exactly the checks whose rule changed in 6.12.118, and says so.
@test "conformance: the checker expects the rules of the version it is told (6.12.117)" {
	run_check dirty --kernel 6.12.117
	echo "$output"
	[ "$status" -eq 1 ]
	[[ $output == *"kernel 6.12.117 (--kernel): rules of Linux 6.12.117"* ]]
	[ "$(grep -c '^not ok' <<<"$output")" -eq 2 ]
	grep '^not ok' <<<"$output" | grep -q 'aligned range past the mapped IOVA: got EINVAL, kernel gives success'
	grep -q 'rule: "Linux 6.12.117, before 6.12.118' <<<"$output"
	grep '^not ok' <<<"$output" | grep -q 'from the mapped IOVA on past its end: got EINVAL'
}

@test "conformance: a kernel version it cannot read is a usage error" {
	run "$CHECK" --kernel banana --group ioas
	[ "$status" -eq 2 ]
	[ "${lines[0]}" = "vfio-mig-check: invalid --kernel argument: 'banana' (MAJOR.MINOR[.SUBLEVEL])" ]
}
