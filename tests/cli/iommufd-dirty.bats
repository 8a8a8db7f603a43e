#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
#
# iommufd-dirty on the simulator: the standalone iommu backend (device bound
# to a new iommufd, HWPT with dirty tracking, memory mapped), the device
# backend (VFIO DMA logging), and the streams migstream-cat decodes back to
# the same pages.

load helpers
load iommufd-dirty-helpers

setup() {
	dirty_require_sim
}

@test "iommu: reports exactly the pages the IOMMU marked dirty" {
	vmt_run 0 dirty_sim --iommu 'dirty=0x100000:0x1000+0x103000:0x2000' -- \
		iommufd-dirty -d $DEV0 --map 0x100000:64K --once -o "$VMT_TMP/out.vms"
	[ -z "$stderr" ]
	run dirty_ranges "$VMT_TMP/out.vms"
	[ "$output" = "0x0000000000100000-0x0000000000100fff 1
0x0000000000103000-0x0000000000104fff 2" ]
	vmt_run 0 migstream-cat --verify "$VMT_TMP/out.vms"
	run dirty_records "$VMT_TMP/out.vms"
	[ "$output" = "iova=0x100000 page_size=4096 pages=16 dirty=3" ]
	migstream-cat "$VMT_TMP/out.vms" | grep -q STREAM_END
}

@test "iommu: tracking off, memory unmapped and HWPT destroyed at exit" {
	vmt_run 0 dirty_sim --iommu 'dirty=0x100000:0x1000' -- \
		iommufd-dirty -d $DEV0 --map 0x100000:64K --once -o "$VMT_TMP/out.vms"
	[ "$(dirty_sim_state iommu dirty_tracking)" = 0 ]
	[ "$(dirty_sim_state iommu mapped_bytes)" = 0 ]
	[ "$(dirty_sim_state iommu hwpts)" = 0 ]
}

@test "iommu: a read clears what it reported; --no-clear peeks" {
	vmt_run 0 dirty_sim --iommu 'dirty=0x100000:0x3000' -- \
		iommufd-dirty -d $DEV0 --map 0x100000:64K --count 2 -i 1ms -o "$VMT_TMP/clear.vms"
	run dirty_records "$VMT_TMP/clear.vms"
	[ "$output" = "iova=0x100000 page_size=4096 pages=16 dirty=3
iova=0x100000 page_size=4096 pages=16 dirty=0" ]

	vmt_run 0 dirty_sim --iommu 'dirty=0x100000:0x3000' -- \
		iommufd-dirty -d $DEV0 --map 0x100000:64K --count 2 -i 1ms --no-clear \
		-o "$VMT_TMP/peek.vms"
	run dirty_records "$VMT_TMP/peek.vms"
	[ "$output" = "iova=0x100000 page_size=4096 pages=16 dirty=3
iova=0x100000 page_size=4096 pages=16 dirty=3" ]
}

@test "iommu: pages a test dirties through the state dir appear in the next read" {
	printf '0x108000 0x1000\n0x10f000 4096\n' >"$DIRTY_SIM/iommu-dirty"
	vmt_run 0 dirty_sim -- \
		iommufd-dirty -d $DEV0 --map 0x100000:64K --once -o "$VMT_TMP/out.vms"
	run dirty_ranges "$VMT_TMP/out.vms"
	[ "$output" = "0x0000000000108000-0x0000000000108fff 1
0x000000000010f000-0x000000000010ffff 1" ]
}

@test "iommu: every read is new pages: dirty-per-read" {
	vmt_run 0 dirty_sim --iommu 'dirty-per-read=5,seed=7' -- \
		iommufd-dirty -d $DEV0 --map 0x100000:1M --count 3 -i 1ms -o "$VMT_TMP/out.vms"
	run dirty_records "$VMT_TMP/out.vms"
	[ "${#lines[@]}" -eq 3 ]
	for line in "${lines[@]}"; do
		[[ $line == "iova=0x100000 page_size=4096 pages=256 dirty="[1-5] ]]
	done
}

@test "iommu: --max-bitmap bounds each read; pieces are records at the right IOVAs" {
	vmt_run 0 dirty_sim --iommu 'dirty=0x100000:0x1000+0x13f000:0x2000+0x1ff000:0x1000' -- \
		iommufd-dirty -d $DEV0 --map 0x100000:1M --max-bitmap 8 --once -o "$VMT_TMP/out.vms"
	run dirty_records "$VMT_TMP/out.vms"
	[ "$output" = "iova=0x100000 page_size=4096 pages=64 dirty=2
iova=0x140000 page_size=4096 pages=64 dirty=1
iova=0x180000 page_size=4096 pages=64 dirty=0
iova=0x1c0000 page_size=4096 pages=64 dirty=1" ]
	# the run that crosses a piece boundary is split, not lost
	run dirty_ranges "$VMT_TMP/out.vms"
	[ "$output" = "0x0000000000100000-0x0000000000100fff 1
0x000000000013f000-0x000000000013ffff 1
0x0000000000140000-0x0000000000140fff 1
0x00000000001ff000-0x00000000001fffff 1" ]
	[ "$(dirty_sim_state iommu bitmap_reads)" -ge 4 ]
}

@test "iommu: anonymous, memfd and file-backed maps side by side" {
	truncate -s 64K "$VMT_TMP/backing"
	vmt_run 0 dirty_sim --iommu 'dirty=0x100000:0x1000+0x201000:0x1000+0x30f000:0x1000' -- \
		iommufd-dirty -d $DEV0 --map 0x100000:64K --map 0x200000:64K:memfd \
		--map "0x300000:0x10000:$VMT_TMP/backing" --once -o "$VMT_TMP/out.vms"
	run dirty_ranges "$VMT_TMP/out.vms"
	[ "$output" = "0x0000000000100000-0x0000000000100fff 1
0x0000000000201000-0x0000000000201fff 1
0x000000000030f000-0x000000000030ffff 1" ]
}

@test "iommu: a file shorter than its --map is refused before mapping" {
	truncate -s 4K "$VMT_TMP/short"
	dirty_sim_error 1 "short: file has 4096 bytes, --map asks for 65536" \
		-- iommufd-dirty -d $DEV0 --map "0x100000:64K:$VMT_TMP/short" --once \
		-o "$VMT_TMP/out.vms"
}

@test "iommu: --range watches part of the mapped memory" {
	vmt_run 0 dirty_sim --iommu 'dirty=0x100000:0x1000+0x108000:0x1000' -- \
		iommufd-dirty -d $DEV0 --map 0x100000:64K -r 0x108000:32K --once -o "$VMT_TMP/out.vms"
	run dirty_records "$VMT_TMP/out.vms"
	[ "$output" = "iova=0x108000 page_size=4096 pages=8 dirty=1" ]
}

@test "iommu: default page size is the IOAS's IO page size (2048 here)" {
	vmt_run 0 dirty_sim --iommu 'pgsize=2048,dirty=0x100800:0x800' -- \
		iommufd-dirty -d $DEV0 --map 0x100000:16K --once -o "$VMT_TMP/out.vms"
	run dirty_records "$VMT_TMP/out.vms"
	[ "$output" = "iova=0x100000 page_size=2048 pages=8 dirty=1" ]
	run dirty_ranges "$VMT_TMP/out.vms"
	[ "$output" = "0x0000000000100800-0x0000000000100fff 1" ]
}

@test "iommu: --page-size 8192 reports coarser pages" {
	vmt_run 0 dirty_sim --iommu 'dirty=0x100000:0x1000+0x103000:0x2000' -- \
		iommufd-dirty -d $DEV0 --map 0x100000:64K -p 8K --once -o "$VMT_TMP/out.vms"
	run dirty_ranges "$VMT_TMP/out.vms"
	[ "$output" = "0x0000000000100000-0x0000000000105fff 3" ]
}

@test "iommu: --stats prints dirty pages and rate, --json as objects" {
	vmt_run 0 dirty_sim --iommu 'dirty=0x100000:0x3000' -- \
		iommufd-dirty -d $DEV0 --map 0x100000:64K --once --stats
	[[ $output =~ ^"read 1: 3 of 16 pages dirty (0.0 MiB) in "[0-9.]+" s: "[0-9.]+" MiB/s"$ ]]

	vmt_run 0 dirty_sim --iommu 'dirty=0x100000:0x3000' -- \
		iommufd-dirty -d $DEV0 --map 0x100000:64K --count 2 -i 1ms --stats --json
	[ "${#lines[@]}" -eq 2 ]
	[[ ${lines[0]} == '{ "schema": "iommufd-dirty/1", "read": 1, '*'"page_size_bytes": 4096, "pages": 16, "dirty_pages": 3, "dirty_bytes": 12288, '* ]]
	[[ ${lines[1]} == '{ "schema": "iommufd-dirty/1", "read": 2, '*'"dirty_pages": 0, "dirty_bytes": 0, '* ]]
	for l in "${lines[@]}"; do
		printf '%s\n' "$l" | python3 -m json.tool >/dev/null
		printf '%s\n' "$l" | jq -e '(.elapsed_s | type) == "number" and (.time_s > 1e9)' >/dev/null
	done
}

@test "iommu: no dirty tracking in the IOMMU: exit 3, one clear line" {
	dirty_sim_error 3 "vfio0: the IOMMU cannot track dirty pages" \
		--device vfio0,dirty-tracking=no -- \
		iommufd-dirty -d $DEV0 --map 0x100000:64K --once -o "$VMT_TMP/out.vms"
	[ "$(dirty_sim_state vfio0 open)" = 0 ]
}

@test "iommu: a map outside the IOMMU aperture is named" {
	dirty_sim_error 1 "IOVA 0x0-0xffff is outside the IOMMU's usable IOVA ranges" \
		--iommu 'aperture=0x100000-0xffffffff' -- \
		iommufd-dirty -d $DEV0 --map 0:64K --once -o "$VMT_TMP/out.vms"
}

@test "iommu: ranges not made of whole pages: exit 2" {
	dirty_sim_error 2 "--map 0x100000\\+0x1800 is not made of whole 4096-byte IO pages" \
		-- iommufd-dirty -d $DEV0 --map 0x100000:0x1800 --once -o "$VMT_TMP/out.vms"
	[ "$(dirty_sim_state iommu mapped_bytes)" = 0 ]
	dirty_sim_error 2 "range 0x100000\\+0x3000 is not made of whole 8192-byte pages" \
		-- iommufd-dirty -d $DEV0 --map 0x100000:0x3000 -p 8K --once -o "$VMT_TMP/out.vms"
	[ "$(dirty_sim_state iommu dirty_tracking)" = 0 ]
}

@test "iommu: SIGTERM between reads ends the stream cleanly, exit 0" {
	dirty_sim --iommu 'dirty=0x100000:0x1000' -- sh -c 'echo $$ >"$0"; exec "$@"' \
		"$VMT_TMP/pid" iommufd-dirty -d $DEV0 --map 0x100000:64K -i 1h \
		-o "$VMT_TMP/out.vms" 2>"$VMT_TMP/err" &
	local runner=$!
	dirty_wait_state iommu dirty_tracking 1
	kill -TERM "$(cat "$VMT_TMP/pid")"
	local status=0
	wait "$runner" || status=$?
	cat "$VMT_TMP/err"
	[ "$status" -eq 0 ]
	[ ! -s "$VMT_TMP/err" ]
	vmt_run 0 migstream-cat --verify "$VMT_TMP/out.vms"
	migstream-cat "$VMT_TMP/out.vms" | grep -q STREAM_END
	[ "$(dirty_sim_state iommu dirty_tracking)" = 0 ]
}

@test "iommu: SIGINT likewise" {
	dirty_sim -- sh -c 'echo $$ >"$0"; exec "$@"' \
		"$VMT_TMP/pid" iommufd-dirty -d $DEV0 --map 0x100000:64K -i 1h --stats \
		>"$VMT_TMP/out" 2>"$VMT_TMP/err" &
	local runner=$!
	dirty_wait_state iommu dirty_tracking 1
	kill -INT "$(cat "$VMT_TMP/pid")"
	local status=0
	wait "$runner" || status=$?
	[ "$status" -eq 0 ]
	[ ! -s "$VMT_TMP/out" ]
	[ "$(dirty_sim_state iommu dirty_tracking)" = 0 ]
}

@test "iommu: SIGHUP (the terminal went away) likewise, as in every tool (lib/common/signals)" {
	dirty_sim -- sh -c 'echo $$ >"$0"; exec "$@"' \
		"$VMT_TMP/pid" iommufd-dirty -d $DEV0 --map 0x100000:64K -i 1h \
		-o "$VMT_TMP/out.vms" 2>"$VMT_TMP/err" &
	local runner=$!
	dirty_wait_state iommu dirty_tracking 1
	kill -HUP "$(cat "$VMT_TMP/pid")"
	local status=0
	wait "$runner" || status=$?
	[ "$status" -eq 0 ]
	vmt_run 0 migstream-cat --verify "$VMT_TMP/out.vms"
	[ "$(dirty_sim_state iommu dirty_tracking)" = 0 ]
}

@test "iommu: a stop signal while a --stats line waits on a full pipe ends cleanly, exit 0" {
	# issue 11's leftover: without SA_RESTART the blocked write() fails with
	# EINTR; that is the stop, not a write error. Nobody reads the fifo (the
	# test holds it open on fd 7), so the pipe fills and a line's write blocks.
	mkfifo "$VMT_TMP/fifo"
	exec 7<>"$VMT_TMP/fifo"
	dirty_sim -- sh -c 'echo $$ >"$0"; exec "$@"' \
		"$VMT_TMP/pid" iommufd-dirty -d $DEV0 --map 0x100000:64K -i 1ms --stats --json \
		>"$VMT_TMP/fifo" 2>"$VMT_TMP/err" &
	local runner=$! pid i
	dirty_wait_state iommu dirty_tracking 1
	pid=$(cat "$VMT_TMP/pid")
	# blocked in pipe_write (where /proc tells), else long after the 64 KiB are full
	for i in $(seq 100); do
		[[ "$(cat "/proc/$pid/wchan" 2>/dev/null)" == *pipe_write ]] && break
		sleep 0.1
	done
	kill -INT "$pid"
	local status=0
	wait "$runner" || status=$?
	cat "$VMT_TMP/err"
	[ "$status" -eq 0 ]
	[ ! -s "$VMT_TMP/err" ]
	[ "$(dirty_sim_state iommu dirty_tracking)" = 0 ]
	[ "$(dirty_sim_state iommu hwpts)" = 0 ]
	# what went out is whole lines, none cut by the stop
	timeout 2 cat <&7 >"$VMT_TMP/lines" || true
	exec 7<&-
	[ "$(wc -l <"$VMT_TMP/lines")" -gt 100 ]
	python3 -m json.tool --json-lines "$VMT_TMP/lines" >/dev/null
	! grep -q '"ok": false' "$VMT_TMP/lines"
}

@test "iommu: a closed output pipe is an error, and tracking is still switched off" {
	run --separate-stderr bash -c '"$0" --state-dir "$1" --iommu dirty-per-read=50 -- \
		iommufd-dirty -d /dev/vfio/devices/vfio0 --map 0x100000:4M -i 1ms -f | head -c 100 >/dev/null;
		exit "${PIPESTATUS[0]}"' "$DIRTY_SIM_RUN" "$DIRTY_SIM"
	[ "$status" -eq 1 ]
	[[ $stderr == *"Broken pipe"* ]]
	[ "$(dirty_sim_state iommu dirty_tracking)" = 0 ]
}

@test "iommu: --duration ends the run" {
	vmt_run 0 dirty_sim -- iommufd-dirty -d $DEV0 --map 0x100000:64K -i 10ms --duration 50ms \
		-o "$VMT_TMP/out.vms"
	run dirty_records "$VMT_TMP/out.vms"
	[ "${#lines[@]}" -ge 1 ]
	[ "${#lines[@]}" -le 5 ]
}

@test "device: reports the pages the device logged" {
	vmt_run 0 dirty_sim --device 'vfio0,dma-logging=yes,log-dirty=0x100000:0x1000+0x10a000:0x3000' -- \
		iommufd-dirty -b device -d $DEV0 -r 0x100000:1M --once -o "$VMT_TMP/out.vms"
	run dirty_ranges "$VMT_TMP/out.vms"
	[ "$output" = "0x0000000000100000-0x0000000000100fff 1
0x000000000010a000-0x000000000010cfff 3" ]
	run dirty_records "$VMT_TMP/out.vms"
	[ "$output" = "iova=0x100000 page_size=4096 pages=256 dirty=4" ]
	[ "$(dirty_sim_state vfio0 dma_logging)" = 0 ]
}

@test "device: IOVAs and sizes with the size suffixes, README's -r 0:2G -r 4G:14G" {
	vmt_run 0 dirty_sim --device 'vfio0,dma-logging=yes,log-dirty=0x1000:0x1000+0x100000000:0x2000+0x47ffff000:0x1000' -- \
		iommufd-dirty -b device -d $DEV0 -r 0:2G -r 4G:14G --once -o "$VMT_TMP/out.vms"
	run dirty_ranges "$VMT_TMP/out.vms"
	[ "$output" = "0x0000000000001000-0x0000000000001fff 1
0x0000000100000000-0x0000000100001fff 2
0x000000047ffff000-0x000000047fffffff 1" ]
	run dirty_records "$VMT_TMP/out.vms"
	[ "$output" = "iova=0x0 page_size=4096 pages=524288 dirty=1
iova=0x100000000 page_size=4096 pages=3670016 dirty=3" ]
	# the iommu backend's --map and --range read them the same way
	vmt_run 0 dirty_sim --iommu 'dirty=0x100000000:0x1000' -- \
		iommufd-dirty -d $DEV0 --map 4G:1M -r 4G:64K --once -o "$VMT_TMP/map.vms"
	run dirty_records "$VMT_TMP/map.vms"
	[ "$output" = "iova=0x100000000 page_size=4096 pages=16 dirty=1" ]
}

@test "device: REPORT clears; later reads see new pages only" {
	vmt_run 0 dirty_sim --device 'vfio0,dma-logging=yes,log-dirty=0x100000:0x2000' -- \
		iommufd-dirty -b device -d $DEV0 -r 0x100000:64K --count 2 -i 1ms -o "$VMT_TMP/out.vms"
	run dirty_records "$VMT_TMP/out.vms"
	[ "$output" = "iova=0x100000 page_size=4096 pages=16 dirty=2
iova=0x100000 page_size=4096 pages=16 dirty=0" ]
}

@test "device: more ranges than the kernel takes are merged for START" {
	local args=() i
	for i in $(seq 0 299); do
		args+=(-r "$((0x100000 + i * 0x10000)):0x1000")
	done
	vmt_run 0 dirty_sim --device 'vfio0,dma-logging=yes,log-dirty=0x100000:0x1000+0x1000000:0x1000' -- \
		iommufd-dirty -b device -d $DEV0 "${args[@]}" --once -o "$VMT_TMP/out.vms"
	[[ $stderr == *"300 ranges merged into 256 for DMA logging"* ]]
	# 300 ranges would be E2BIG (vfio_main.c LOG_MAX_RANGES): START took the merged ones
	run dirty_records "$VMT_TMP/out.vms"
	[ "${#lines[@]}" -eq 300 ]
	run dirty_ranges "$VMT_TMP/out.vms"
	[ "$output" = "0x0000000000100000-0x0000000000100fff 1
0x0000000001000000-0x0000000001000fff 1" ]
}

@test "device: a device without DMA logging: exit 3" {
	dirty_sim_error 3 "does not support DMA logging" \
		--device vfio0 -- \
		iommufd-dirty -b device -d $DEV0 -r 0x100000:64K --once -o "$VMT_TMP/out.vms"
}

@test "device: a device tracking coarser pages still reports at the page size asked" {
	vmt_run 0 dirty_sim --device 'vfio0,dma-logging=yes,log-page-size=8K,log-dirty=0x100000:0x1000' -- \
		iommufd-dirty -b device -d $DEV0 -r 0x100000:64K --once -o "$VMT_TMP/out.vms"
	run dirty_records "$VMT_TMP/out.vms"
	[[ $output == "iova=0x100000 page_size=4096 pages=16 dirty="[12] ]]
}
