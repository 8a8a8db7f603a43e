# SPDX-License-Identifier: GPL-2.0-or-later
#
# Helpers for bats tests that run inside the kernel-tier guest
# (tests/kernel/run).  Load with `load helpers` from tests/kernel, or
# `load "$VMT_KERNEL_HELPERS"` from anywhere else.

MTTY_TYPES=/sys/devices/virtual/mtty/mtty/mdev_supported_types
MDEV_DEVICES=/sys/bus/mdev/devices

# Instances this test file created, removed by mtty_remove_all.
VMT_MTTY_CREATED=()

# These tests load real kernel interfaces as root: refuse to run on a host
# by accident rather than failing in confusing ways or touching its devices.
vmt_require_guest() {
	if [ "${VMT_IN_VM:-}" != 1 ]; then
		echo "this test runs only inside the kernel-tier VM (tests/kernel/run)" >&2
		return 1
	fi
}

# Prints a fresh UUID.
vmt_uuid() {
	cat /proc/sys/kernel/random/uuid
}

# mtty_create [TYPE]: creates an mtty instance (type mtty-1 or mtty-2,
# default mtty-1) and prints its UUID.
mtty_create() {
	local type=${1:-mtty-1} uuid
	local create=$MTTY_TYPES/$type/create
	if ! [ -e "$create" ]; then
		echo "mtty_create: $create missing (is CONFIG_SAMPLE_VFIO_MDEV_MTTY built in?)" >&2
		return 1
	fi
	uuid=$(vmt_uuid)
	if ! echo "$uuid" >"$create"; then
		echo "mtty_create: writing $uuid to $create failed" \
			"(available_instances: $(cat "$MTTY_TYPES/$type/available_instances"))" >&2
		return 1
	fi
	VMT_MTTY_CREATED+=("$uuid")
	echo "$uuid"
}

# mtty_remove UUID
mtty_remove() {
	local uuid=$1
	if ! echo 1 >"$MDEV_DEVICES/$uuid/remove"; then
		echo "mtty_remove: removing $uuid failed" >&2
		return 1
	fi
}

# Removes what mtty_create made in this test; call from teardown.
# Subshells ($(mtty_create)) cannot record into the array, so every mdev is
# removed: each test starts from a clean set of devices anyway.
mtty_remove_all() {
	local dev
	for dev in "$MDEV_DEVICES"/*; do
		[ -e "$dev/remove" ] || continue
		echo 1 >"$dev/remove" || echo "mtty_remove_all: removing $dev failed" >&2
	done
	VMT_MTTY_CREATED=()
}

# mdev_cdev UUID: prints the device's VFIO cdev, /dev/vfio/devices/vfioN.
mdev_cdev() {
	local uuid=$1 d
	for d in "$MDEV_DEVICES/$uuid"/vfio-dev/vfio*; do
		if [ -e "$d" ]; then
			echo "/dev/vfio/devices/${d##*/}"
			return 0
		fi
	done
	echo "mdev_cdev: $uuid has no vfio-dev (CONFIG_VFIO_DEVICE_CDEV?)" >&2
	return 1
}

# mdev_group UUID: prints the device's VFIO group node, /dev/vfio/N.
mdev_group() {
	local uuid=$1 group
	group=$(readlink "$MDEV_DEVICES/$uuid/iommu_group") || {
		echo "mdev_group: $uuid has no iommu_group" >&2
		return 1
	}
	echo "/dev/vfio/${group##*/}"
}

# Waits up to 5 s for a device node: devtmpfs creates them asynchronously.
vmt_wait_node() {
	local node=$1 _
	for _ in $(seq 50); do
		[ -e "$node" ] && return 0
		sleep 0.1
	done
	echo "vmt_wait_node: $node did not appear" >&2
	return 1
}

# mtty_create_cdev [TYPE]: creates an instance and prints "UUID CDEV" once
# the cdev exists.
mtty_create_cdev() {
	local uuid cdev
	uuid=$(mtty_create "$@") || return 1
	cdev=$(mdev_cdev "$uuid") || return 1
	vmt_wait_node "$cdev" || return 1
	echo "$uuid $cdev"
}

# mtty_pairs [N]: the set-up of a migration test: 2N mtty cdevs (N pairs,
# default 1), sources SRC, SRC1, ... and targets DST, DST1, ... (the first
# pair without a number), their mdev UUIDs in SRC_UUID, DST_UUID, SRC_UUID1,
# ..., and T, the test's temporary directory. Pair with mtty_remove_all in
# teardown.
mtty_pairs() {
	local n=${1:-1} i a b suffix
	for ((i = 0; i < n; i++)); do
		a=$(mtty_create_cdev) || return 1
		b=$(mtty_create_cdev) || return 1
		suffix=$i
		[ "$i" -eq 0 ] && suffix=
		printf -v "SRC$suffix" '%s' "${a#* }"
		printf -v "SRC_UUID$suffix" '%s' "${a% *}"
		printf -v "DST$suffix" '%s' "${b#* }"
		printf -v "DST_UUID$suffix" '%s' "${b% *}"
	done
	T=$BATS_TEST_TMPDIR
}

# mtty_devices [N]: the set-up of a test of one tool on N mtty cdevs
# (default 1), not a migration: DEV, DEV2, ... and their mdev UUIDs UUID,
# UUID2, ... (the first without a number). Pair with mtty_remove_all in
# teardown.
mtty_devices() {
	local n=${1:-1} i a suffix
	for ((i = 1; i <= n; i++)); do
		a=$(mtty_create_cdev) || return 1
		suffix=$i
		[ "$i" -eq 1 ] && suffix=
		printf -v "UUID$suffix" '%s' "${a% *}"
		printf -v "DEV$suffix" '%s' "${a#* }"
	done
}

# json_num FILE KEY, json_str FILE KEY: one field of a JSON summary without
# jq in the guest: the summaries are one-line objects (the first KEY wins).
json_num() {
	sed -n "s/.*\"$2\": *\([0-9.]*\).*/\1/p" "$1" | head -1
}
json_str() {
	sed -n "s/.*\"$2\": *\"\([^\"]*\)\".*/\1/p" "$1" | head -1
}
