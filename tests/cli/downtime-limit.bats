#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
#
# vfio-mig-save --downtime-limit on the simulator: the save switches over
# once the expected stop-copy time (MIG_DATA_SIZE over the measured read
# rate of a read-rate capped device) is within the limit, not while it is
# above it; the summary and the events give expected against measured.

load helpers
load load-helpers

setup() {
	sl_setup
	cd "$VMT_TMP"
	command -v jq >/dev/null || skip "jq not installed"
}

# sw KEY: a key of the save's switchover event.
sw() {
	jq -r "select(.kind == \"switchover\") | .$1" save.ev
}

@test "--downtime-limit: a usage error without a duration, and with --no-precopy" {
	vmt_run 2 vfio-mig-save -d vfio0 --downtime-limit soon
	vmt_one_line_error vfio-mig-save "--downtime-limit"
	vmt_run 2 vfio-mig-save -d vfio0 --no-precopy --downtime-limit 100ms
	vmt_one_line_error vfio-mig-save "--downtime-limit and --control-fd are for pre-copy"
}

@test "--downtime-limit 100ms: a device whose stop-copy fits switches over by the limit, expected close to measured" {
	# 1 MiB initial at 4 MiB/s: the first pass measures the rate; 256 KiB of
	# stop-copy then take about 62 ms. The device dirties 256 KiB/s, so an
	# explicit --threshold 4K would not have fired.
	sl_pipe vfio0,size=256K,precopy-initial=1M,read-rate=4M,dirty-rate=256K,seed=3 vfio1,seed=3 -- \
		"--downtime-limit 100ms --threshold 4K --max-precopy-time 20s --events '$VMT_TMP/save.ev' --summary-file '$VMT_TMP/sum.json' -v $D0" \
		"" "$D1"
	sl_expect save_status 0
	sl_expect load_status 0
	sl_same_digest vfio0 vfio1
	[ "$(sw reason)" = downtime-limit ]
	[ "$(sw rounds)" -ge 1 ]
	[ "$(sw downtime_limit_ns)" -eq 100000000 ]
	# the estimate that switched is within the limit and came from the device's rate
	[ "$(sw expected_stop_copy_ns)" -le 100000000 ]
	[ "$(sw expected_stop_copy_ns)" -ge 40000000 ]
	[ "$(sw left_bytes)" -eq 262144 ]
	[ "$(sw bottleneck)" = device-read ]
	# what the threshold looks at was still above it
	[ "$(sw estimate_bytes)" -gt 4096 ]
	# the stop-copy event: expected against measured (the read itself is capped: >= 60 ms)
	local expected measured
	expected=$(jq -r 'select(.kind == "stop-copy") | .expected_stop_copy_ns' save.ev)
	measured=$(jq -r 'select(.kind == "stop-copy") | .stop_copy_ns' save.ev)
	[ "$expected" = "$(sw expected_stop_copy_ns)" ]
	[ "$measured" -ge 55000000 ]
	# the summary, in text and JSON
	[[ $save_err == *"switchover by downtime-limit"* ]]
	[[ $save_err =~ stop-copy\ \(device\ part\ of\ downtime\):\ [0-9.]+\ s\ \(expected\ 0\.0[4-9][0-9]\ s,\ limit\ 0\.100\ s\) ]]
	[ "$(jq -r .switchover sum.json)" = downtime-limit ]
	jq -e '.downtime_limit_s == 0.1 and .expected_stop_copy_s > 0.04 and .expected_stop_copy_s <= 0.1' sum.json
}

@test "--downtime-limit: a device whose stop-copy never fits does not switch by it; --max-precopy-time decides" {
	# 1 MiB of stop-copy at 4 MiB/s: about 250 ms, never within 100 ms.
	sl_pipe vfio0,size=1M,precopy-initial=512K,read-rate=4M,dirty-rate=64K,seed=4 vfio1,seed=4 -- \
		"--downtime-limit 100ms --max-precopy-time 800ms --events '$VMT_TMP/save.ev' $D0" \
		"" "$D1"
	sl_expect save_status 0
	sl_expect load_status 0
	sl_same_digest vfio0 vfio1
	[ "$(sw reason)" = max-precopy-time ]
	[ "$(sw expected_stop_copy_ns)" -gt 100000000 ]
	[ "$(sw precopy_ns)" -ge 800000000 ]
	# without --max-rounds given, the default of 32 rounds stepped aside for the limit
	[ "$(sw rounds)" -gt 0 ]
}

@test "--downtime-limit below the expected stop-copy time does not switch; the same device switches under a higher one" {
	local dev=vfio0,size=256K,precopy-initial=512K,read-rate=4M,dirty-rate=64K,seed=6
	sl_pipe "$dev" vfio1,seed=6 -- \
		"--downtime-limit 30ms --max-precopy-time 600ms --events '$VMT_TMP/save.ev' $D0" "" "$D1"
	sl_expect save_status 0
	[ "$(sw reason)" = max-precopy-time ]
	[ "$(sw expected_stop_copy_ns)" -gt 30000000 ]
	sl_pipe "$dev" vfio1,seed=6 -- \
		"--downtime-limit 1s --max-precopy-time 20s --events '$VMT_TMP/save.ev' $D0" "" "$D1"
	sl_expect save_status 0
	[ "$(sw reason)" = downtime-limit ]
	[ "$(sw rounds)" -eq 1 ]
}
