#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
#
# vfio-mig-load --reorder-buffer on the simulator: DATA chunks that arrive
# out of chunk_index order (made by migstream-shuffle from a real save) are
# put back in order and the target verifies the state; without the option,
# beyond the buffer, repeated, missing or with a wrong digest they are bad
# data (exit 4), the target reset and RUNNING, and one line says why.

load helpers
load load-helpers

setup() {
	sl_setup
	vmt_require_tool migstream-shuffle
}

# 1 MiB of stop-copy state in 16 chunks of 64 KiB.
SRC=vfio0,flags=stop-copy+p2p,size=1M,seed=4
DST=vfio1,flags=stop-copy+p2p,seed=4
SAVE="-q --chunk-size 64K $(sl_dev 0)"

# refused_and_reset REGEX: load exit 4, one line matching REGEX ending with
# the target's reset, the target RUNNING and not verified.
refused_and_reset() {
	sl_expect load_status 4
	sl_one_line "$load_err" "^vfio-mig-load: error: <stdin>: record [0-9]+ \((DATA|DEVICE_END)\) at byte [0-9]+: $1; device $D1 reset, now RUNNING$"
	sl_expect_state vfio1 resets 1
	sl_expect_state vfio1 last_state RUNNING
	[ "$(sl_state vfio1 load_verified)" != ok ]
}

# What one held 64 KiB chunk costs: its bytes, a 32-byte entry, malloc's
# 16 (tools/vfio-mig-load/reorder.c).
CHUNK_COST=$(((64 << 10) + 48))

@test "windows of 4 chunks reversed: loaded in order with a buffer of 3 chunks, verified" {
	sl_pipe "$SRC" "$DST" -- "$SAVE" "migstream-shuffle -w 4" "--json --reorder-buffer $((3 * CHUNK_COST)) $D1"
	sl_expect save_status 0
	sl_expect load_status 0
	sl_same_digest vfio0 vfio1
	sl_expect_state vfio1 loaded_bytes $((1 << 20))
	sl_expect_state vfio1 last_state RUNNING
	# three chunks waited for the fourth, each window: the memory they held
	[ "$(printf '%s\n' "$load_err" | jq -r '.devices[0].reorder_peak_bytes')" -eq $((3 * CHUNK_COST)) ]
	[ "$(printf '%s\n' "$load_err" | jq -r '.devices[0].chunks')" -eq 16 ]
}

@test "the same stream without --reorder-buffer: exit 4 at the first early chunk, target reset" {
	sl_pipe "$SRC" "$DST" -- "$SAVE" "migstream-shuffle -w 4" "$D1"
	# The load gives up early: the save finishes (0) or meets the closed
	# pipe (1) depending on timing; either way its device is back.
	if [ "$save_status" -eq 0 ]; then
		sl_expect_state vfio0 last_state STOP
	else
		sl_expect save_status 1
		sl_expect_state vfio0 last_state RUNNING
	fi
	refused_and_reset "device 0: chunk 3 out of order, expected chunk 0"
}

@test "a window larger than the buffer: exit 4 naming the chunk and the limit, target reset" {
	sl_pipe "$SRC" "$DST" -- "$SAVE" "migstream-shuffle -w 4" "--reorder-buffer 128K $D1"
	# two payloads of 64 KiB are 128 KiB, but not with what holding them costs
	refused_and_reset "device 0 chunk 2 \(64.0 KiB\) does not fit in the reorder buffer \(128.0 KiB, 64.0 KiB held\) while chunk 0 is missing; raise --reorder-buffer"
	# nothing reached the device: chunk 0 never came before the refusal
	sl_expect_state vfio1 loaded_bytes 0
}

@test "a repeated chunk is refused, even with a reorder buffer" {
	sl_pipe "$SRC" "$DST" -- "$SAVE" "migstream-shuffle -w 4 -D 2" "--reorder-buffer 4M $D1"
	refused_and_reset "device 0: chunk 2 \(offset 131072\) repeated"
}

@test "a missing chunk is found at DEVICE_END" {
	sl_pipe "$SRC" "$DST" -- "$SAVE" "migstream-shuffle -w 4 -x 5" "--reorder-buffer 4M $D1"
	refused_and_reset "device 0: chunk 5 of 16 is missing"
}

@test "a wrong DEVICE_END digest: found by the reader in order, by the loader when reordering" {
	sl_pipe "$SRC" "$DST" -- "$SAVE" "migstream-shuffle -w 1 -g" "$D1"
	refused_and_reset "device 0: state digest mismatch \(DEVICE_END [0-9a-f]{16}, data [0-9a-f]{16}\)"

	rm -rf "$SL_SIM"
	sl_pipe "$SRC" "$DST" -- "$SAVE" "migstream-shuffle -w 4 -g" "--reorder-buffer 4M $D1"
	refused_and_reset "device 0: state digest mismatch \(DEVICE_END [0-9a-f]{16}, bytes loaded in chunk order [0-9a-f]{16}\)"
	# every byte went to the device, which was still reset, never started
	sl_expect_state vfio1 loaded_bytes $((1 << 20))
	[[ $(sl_arcs vfio1) != *"RESUMING>STOP"* ]]
}

@test "pre-copy and stop-copy phases, compressed, randomly shuffled: verified" {
	sl_pipe vfio0,size=1M,precopy-initial=1M,dirty-per-round=256K,dirty-rounds=2,seed=9 vfio1,seed=9 -- \
		"-q --precopy --compress=3 --chunk-size 32K $D0" "migstream-shuffle -w 16 -s 7" \
		"--json --reorder-buffer 1M $D1"
	sl_expect save_status 0
	sl_expect load_status 0
	sl_same_digest vfio0 vfio1
	# chunks did wait (the shuffle moved some), all phases arrived
	[ "$(printf '%s\n' "$load_err" | jq -r '.devices[0].reorder_peak_bytes')" -gt 0 ]
	printf '%s\n' "$load_err" | jq -e '.devices[0] | .precopy_initial_bytes > 0 and .precopy_dirty_bytes > 0 and .stop_copy_bytes > 0'
}

@test "two devices, each shuffled in its own windows, crossed with --map: both verified" {
	sl_pipe vfio0,size=1M,seed=21 vfio1,size=2M,seed=22 vfio2,expect-seed=22 vfio3,expect-seed=21 -- \
		"-q --no-precopy --chunk-size 64K $D0 $D1" "migstream-shuffle -w 8 -s 3" \
		"--json --reorder-buffer 1M --map 1=$D2 --map 0=$D3"
	sl_expect save_status 0
	sl_expect load_status 0
	printf '%s\n' "$load_err" | jq -e '[.devices[].reorder_peak_bytes > 0] == [true, true]'
	sl_same_digest vfio0 vfio3
	sl_same_digest vfio1 vfio2
}
