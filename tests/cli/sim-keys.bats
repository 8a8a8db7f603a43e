#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The simulator's device keys for the benchmarks of issue 14 under the real
# tools: read-rate= and write-rate= (a token bucket on the data fd) and
# compressible= (zero or repeated pages in the state). Rates are checked
# only from below (a lower bound cannot flake on a loaded machine); the
# bytes are checked by the digests both simulated devices record.

load helpers
load load-helpers

setup() {
	sl_setup 2
}

# seconds since the epoch, with nanoseconds
now() {
	date +%s.%N
}

# elapsed START: seconds since START (from now), as a decimal
elapsed() {
	awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }'
}

# at_least SECONDS MIN: fail unless SECONDS >= MIN
at_least() {
	if ! awk -v t="$1" -v m="$2" 'BEGIN { exit !(t >= m) }'; then
		echo "took $1 s, expected at least $2 s" >&2
		return 1
	fi
}

@test "read-rate=32M: a 64M device takes at least 1.5 s to save, the bytes arrive intact" {
	local t0 t
	t0=$(now)
	sl_pipe vfio0,flags=stop-copy,size=64M,seed=3,read-rate=32M vfio1,seed=3 -- "-q $D0" cat "-q $D1"
	t=$(elapsed "$t0")
	sl_expect save_status 0
	sl_expect load_status 0
	sl_same_digest vfio0 vfio1
	at_least "$t" 1.5
}

@test "write-rate=32M: a 64M target takes at least 1.5 s to load" {
	local t0 t
	t0=$(now)
	sl_pipe vfio0,flags=stop-copy,size=64M,seed=4 vfio1,seed=4,write-rate=32M -- "-q $D0" cat "-q $D1"
	t=$(elapsed "$t0")
	sl_expect save_status 0
	sl_expect load_status 0
	sl_same_digest vfio0 vfio1
	at_least "$t" 1.5
}

@test "read-rate with pre-copy: every phase is paced and the stream stays whole" {
	local t0 t
	t0=$(now)
	sl_pipe vfio0,size=8M,precopy-initial=8M,dirty-per-round=1M,dirty-rounds=2,seed=6,read-rate=8M \
		vfio1,seed=6 -- "--precopy -q $D0" cat "-q $D1"
	t=$(elapsed "$t0")
	sl_expect save_status 0
	sl_expect load_status 0
	sl_same_digest vfio0 vfio1
	# 16M to 18M at 8M/s (the dirty rounds the save reads depend on its
	# rounds), less one 160K bucket: at least 1.98 s
	at_least "$t" 1.5
}

@test "compressible=0.5: -z sends about half; the target verifies every byte" {
	sl_pipe vfio0,flags=stop-copy,size=16M,seed=7,compressible=0.5 vfio1,seed=7 -- \
		"-q -z $D0" "tee $VMT_TMP/stream" "-q $D1"
	sl_expect save_status 0
	sl_expect load_status 0
	sl_same_digest vfio0 vfio1
	local size
	size=$(vmt_size "$VMT_TMP/stream")
	echo "stream: $size bytes for 16M of state" >&2
	[ "$size" -lt $(((16 << 20) * 60 / 100)) ]
	[ "$size" -gt $(((16 << 20) * 40 / 100)) ]
}

@test "compressible=0 is the default state, byte for byte, and does not compress" {
	sl_pipe vfio0,flags=stop-copy,size=8M,seed=8,compressible=0 vfio1,seed=8 -- \
		"-q -z $D0" "tee $VMT_TMP/stream" "-q $D1"
	sl_expect save_status 0
	sl_expect load_status 0
	sl_same_digest vfio0 vfio1
	local digest size
	digest=$(sl_state vfio0 save_digest)
	size=$(vmt_size "$VMT_TMP/stream")
	[ "$size" -gt $((8 << 20)) ]
	sl_pipe vfio0,flags=stop-copy,size=8M,seed=8 vfio1,seed=8 -- "-q $D0" cat "-q $D1"
	sl_expect save_status 0
	[ "$(sl_state vfio0 save_digest)" = "$digest" ]
}

@test "compressible=1: every page is zero or repeated; a stream of another fraction still loads" {
	sl_pipe vfio0,flags=stop-copy,size=8M,seed=9,compressible=1 vfio1,seed=9 -- \
		"-q -z $D0" "tee $VMT_TMP/stream" "-q $D1"
	sl_expect save_status 0
	sl_expect load_status 0
	sl_same_digest vfio0 vfio1
	[ "$(vmt_size "$VMT_TMP/stream")" -lt $((1 << 20)) ]
}

@test "bad values of the keys are refused by vfiosim-run (125)" {
	local spec
	for spec in vfio0,compressible=1.5 vfio0,compressible=-0.1 vfio0,compressible=half \
		vfio0,read-rate=fast vfio0,write-rate=-1; do
		run "$VMT_SRCDIR/tests/sim/vfiosim-run" --device "$spec" -- true
		[ "$status" -eq 125 ]
		[[ $output == *"$spec"* || $output == *"bad value"* ]]
	done
}
