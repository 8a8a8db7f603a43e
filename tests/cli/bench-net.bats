#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
#
# bench/net's smoke test: the bench runs to its end on a tiny state and
# prints every row of the parts it ran (the figures themselves are not
# checked: a bench on a shared machine is no test), and bench-relay's
# socket mode gives each connection its own capped link, both ways.

load helpers

setup() {
	vmt_require_tool bench-relay
	vmt_require_tool vfio-mig-save
	vmt_require_tool vfio-mig-load
	[ -r "$VMT_SIM_LIB" ] || skip "simulator not built"
}

@test "bench/net runs on 8M and prints each row with its verdict" {
	vmt_run 0 "$VMT_SRCDIR/bench/net" --builddir "$VMT_BUILDDIR" --size 8M --repeat 1 --only tls,relay,bound
	echo "$output"
	[[ $output == *"load average"*"load average after"* ]]
	grep -Eq '^1 TLS channel, 8M +[0-9]+ M/s +[0-9]+ M/s \(plain TCP\) +[0-9.]+x +>= 0.6  (PASS|MISS) \[load [0-9.]+\]$' <<<"$output"
	for n in 2 4; do
		grep -Eq "^$n TLS channels, links at 200M/s +[0-9]+ M/s +$((n * 200)) M/s .* (PASS|MISS)( \\(.*\\))? \\[load [0-9.]+\\]\$" <<<"$output"
		grep -Eq "^$n TLS channels, no cap +[0-9]+ M/s +[0-9]+ M/s \\(bound\\)" <<<"$output"
	done
	grep -q '^  bound: CPU of 1 TLS channel' <<<"$output"
}

@test "bench/net refuses a bad --size and an unknown part" {
	vmt_run 1 "$VMT_SRCDIR/bench/net" --builddir "$VMT_BUILDDIR" --size 1.5G
	[[ $stderr == *"--size"* ]]
	vmt_run 1 "$VMT_SRCDIR/bench/net" --builddir "$VMT_BUILDDIR" --size 4M --only tls,nosuch
	[[ $stderr == *"unknown part 'nosuch'"* ]]
}
