#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
#
# migstream-cat and the channels of a set (migstream(5), CHANNELS): --split
# then --merge gives the device data back byte for byte; one channel lists
# and verifies as "channel k of n" with what it holds; --merge refuses a
# set with a channel missing, repeated, from another set or truncated
# (exit 4, one line naming the channel's file), and writes nothing then.

load helpers

setup() {
	cat_setup
	vmt_make_stream one.vms 3000000 --chunk-size=64K
}

@test "split then merge: the same stream, byte for byte" {
	vmt_run 0 migstream-cat --split=3 -o 'ch%u.vms' one.vms
	[ -s ch0.vms ] && [ -s ch1.vms ] && [ -s ch2.vms ]
	[ ! -e ch3.vms ]
	vmt_run 0 migstream-cat --merge -o merged.vms ch2.vms ch0.vms ch1.vms
	cmp merged.vms one.vms
	# to standard output as well
	migstream-cat --merge ch1.vms ch0.vms ch2.vms >merged2.vms
	cmp merged2.vms one.vms
}

@test "split then merge of a stream with two devices, pre-copy and ancillary records" {
	for n in 1 2 5; do
		vmt_run 0 migstream-cat --split=$n -o "s$n-%u.vms" full.vms
		vmt_run 0 migstream-cat --merge -o "m$n.vms" s$n-*.vms
		vmt_run 0 migstream-cat --verify "m$n.vms"
		for dev in 0 1; do
			migstream-cat --extract=$dev full.vms >want
			migstream-cat --extract=$dev "m$n.vms" >got
			cmp want got
		done
	done
	# a set of one is a channel: it still merges back to the whole stream
	run migstream-cat s1-0.vms
	[[ "$output" == *"channel:        0 of 1, set "* ]]
}

@test "split with one -o per channel" {
	vmt_run 0 migstream-cat --split=2 -o a.vms -o b.vms one.vms
	vmt_run 0 migstream-cat --merge -o m.vms b.vms a.vms
	cmp m.vms one.vms
}

@test "one channel: listing and --verify say which channel of which set, and what it holds" {
	migstream-cat --split=2 -o 'ch%u.vms' one.vms
	vmt_run 0 migstream-cat ch1.vms
	[[ "$output" == *" CHANNEL "*"channel=1 of=2 set="* ]]
	[[ "$output" == *"channel:        1 of 2, set "* ]]
	[[ "$output" == *"in the set      3000000 (2.9 MiB) in 46 chunks"* ]]
	[[ "$output" == *"total           1492672 (1.4 MiB) in 23 chunks"* ]]
	vmt_run 0 migstream-cat --verify ch1.vms
	[[ "$stderr" =~ ^migstream-cat:\ ch1\.vms:\ channel\ 1\ of\ 2,\ set\ [0-9a-f]{32}:\ device\ 0\ 23\ of\ 46\ chunks,\ 1492672\ of\ 3000000\ bytes$ ]]
	# quiet: exit status only
	vmt_run 0 migstream-cat -q --verify ch1.vms
	[ -z "$stderr" ]
	# a whole stream says nothing of channels
	vmt_run 0 migstream-cat --verify one.vms
	[ -z "$stderr" ]
	vmt_run 0 migstream-cat --json ch0.vms
	[[ "$output" == *'"channel_count":2'* || "$output" == *'"channel_count": 2'* ]]
}

@test "merge refuses a missing channel: exit 4, nothing written" {
	migstream-cat --split=3 -o 'ch%u.vms' one.vms
	vmt_run_error 4 'set [0-9a-f]{32}: channel 1 of 3 is missing' \
		migstream-cat --merge -o out.vms ch0.vms ch2.vms
	[ ! -e out.vms ]
}

@test "merge refuses a repeated channel, naming both files" {
	migstream-cat --split=2 -o 'ch%u.vms' one.vms
	cp ch1.vms again.vms
	vmt_run_error 4 'channel 1 \(again\.vms\): given twice \(channel 1 \(ch1\.vms\)' \
		migstream-cat --merge -o out.vms ch0.vms ch1.vms again.vms
	[ ! -e out.vms ]
}

@test "merge refuses a channel of another set" {
	migstream-cat --split=2 -o 'a%u.vms' one.vms
	migstream-cat --split=2 -o 'b%u.vms' one.vms
	vmt_run_error 4 'channel 1 \(b1\.vms\): from another set' \
		migstream-cat --merge -o out.vms a0.vms b1.vms
	[ ! -e out.vms ]
}

@test "merge refuses a truncated channel, naming it, the record and the byte" {
	migstream-cat --split=2 -o 'ch%u.vms' one.vms
	head -c $(($(vmt_size ch1.vms) - 100)) ch1.vms >cut.vms
	vmt_run_error 4 '^migstream-cat: error: channel 1 \(cut\.vms\): record [0-9]+ (\([A-Z_]+\) )?at byte [0-9]+: truncated' \
		migstream-cat --merge -o out.vms ch0.vms cut.vms
	[ ! -e out.vms ]
	# cut inside the header records: still the file, exit 4
	head -c 100 ch1.vms >short.vms
	vmt_run_error 4 'short\.vms' migstream-cat --merge -o out.vms ch0.vms short.vms
}

@test "merge refuses a whole stream among channels, and a corrupt record" {
	migstream-cat --split=2 -o 'ch%u.vms' one.vms
	vmt_run_error 4 'one\.vms: a whole stream' migstream-cat --merge -o out.vms ch0.vms one.vms
	cp ch1.vms bad.vms
	vmt_flip_byte bad.vms 5000
	vmt_run_error 4 'channel 1 \(bad\.vms\): record [0-9]+ \(DATA\) at byte [0-9]+: payload checksum mismatch' \
		migstream-cat --merge -o out.vms ch0.vms bad.vms
	[ ! -e out.vms ]
}

@test "merge of one whole stream is a copy; split refuses a channel" {
	vmt_run 0 migstream-cat --merge -o copy.vms one.vms
	cmp copy.vms one.vms
	migstream-cat --split=2 -o 'ch%u.vms' one.vms
	vmt_run_error 4 'ch0\.vms: is a channel of a set already' migstream-cat --split=2 -o 'x%u.vms' ch0.vms
	[ ! -e x0.vms ] && [ ! -e x1.vms ]
}

@test "usage: --split needs %u or N outputs, takes one input; -o is still columns in a listing" {
	vmt_run_error 2 "--split=2: -o 'out.vms' has no %u" migstream-cat --split=2 -o out.vms one.vms
	vmt_run_error 2 '--split=3 needs one -o with %u in it or 3 times -o' \
		migstream-cat --split=3 -o a -o b one.vms
	vmt_run_error 2 '--split takes one input' migstream-cat --split=2 -o 'x%u' one.vms one.vms
	vmt_run_error 2 'invalid --split argument' migstream-cat --split=0 -o 'x%u' one.vms
	vmt_run_error 2 'invalid --split argument' migstream-cat --split=65 -o 'x%u' one.vms
	vmt_run_error 2 '--merge writes one output' migstream-cat --merge -o a -o b one.vms
	vmt_run_error 2 '--reorder-buffer needs --merge' migstream-cat --reorder-buffer=64M one.vms
	vmt_run 0 migstream-cat -o type,seq one.vms
	[[ "${lines[0]}" == "TYPE"*"SEQ" ]]
}

@test "merge of 16 channels of 8 MiB records stays within the memory formula (migstream-cat(1), --merge)" {
	# The formula: 32 MiB of read-ahead, one record of the largest size
	# read beyond it (16 MiB), --reorder-buffer per device, the output's
	# record buffer (8 MiB) and 512 KiB per channel; plus a fixed 32 MiB
	# for the program and the allocator. Before the bound each channel
	# read ahead two whole records of its own (about 400 MB here).
	[ -x /usr/bin/time ] || skip "GNU time missing"
	vmt_make_stream big.vms $((128 << 20)) --chunk-size=8388584
	migstream-cat --split=16 -o 'b%u.vms' big.vms
	/usr/bin/time -f %M -o rss migstream-cat --merge --reorder-buffer=8M -o merged.vms b{0..15}.vms
	cmp big.vms merged.vms
	local rss limit=$(((32 << 10) + (16 << 10) + (8 << 10) + (8 << 10) + 512 * 16 + (32 << 10)))
	vmt_skip_rss_under_asan
	rss=$(tail -n1 rss)
	echo "peak RSS $rss KiB, formula plus 32 MiB $limit KiB" >&2
	[ "$rss" -le "$limit" ]
}
