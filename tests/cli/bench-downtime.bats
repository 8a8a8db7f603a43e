#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
#
# bench/downtime's smoke test: the bench runs to its end in its quick form
# and prints every row with a verdict (the figures themselves are not
# checked: a bench on a shared machine is no test).

load helpers

setup() {
	vmt_require_tool vfio-mig-save
	vmt_require_tool vfio-mig-load
	vmt_require_tool migstream-cat
	[ -r "$VMT_SIM_LIB" ] || skip "simulator not built"
	command -v jq >/dev/null || skip "jq not installed"
}

@test "bench/downtime --quick prints each row with its verdict" {
	vmt_run 0 "$VMT_SRCDIR/bench/downtime" --builddir "$VMT_BUILDDIR" --quick --repeat 1
	echo "$output"
	[[ $output == *"load average"*"load average after"* ]]
	grep -Eq '^expected, 256K at 32M/s +[0-9.]+ ms +[0-9.]+ ms stop-copy +<= [0-9.]+ ms off +(PASS|MISS) \(off [0-9.]+ ms; to resume [0-9.]+ ms\) \[load [0-9.]+\]$' <<<"$output"
	grep -Eq '^--downtime-limit 100ms, dirtying 4M/s +[0-9.]+ ms +100 ms \(limit\) +<= 100 ms +(PASS|MISS) \(by downtime-limit, expected stop-copy [0-9.]+ ms\) \[load [0-9.]+\]$' <<<"$output"
	grep -Eq '^toolkit overhead, 64K, pipe \+ rp +[0-9.]+ ms +[0-9.]+ ms downtime +<= 5 ms +(PASS|MISS) \[load [0-9.]+\]$' <<<"$output"
}

@test "bench/downtime refuses an unknown part and a bad --repeat" {
	vmt_run 1 "$VMT_SRCDIR/bench/downtime" --builddir "$VMT_BUILDDIR" --only expect,nosuch
	[[ $stderr == *"unknown part 'nosuch'"* ]]
	vmt_run 1 "$VMT_SRCDIR/bench/downtime" --builddir "$VMT_BUILDDIR" --repeat 0
	[[ $stderr == *"--repeat"* ]]
}
