#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
#
# migstream-cat on bad input, bad usage and failing output: the exit code,
# one error line naming file, record and byte offset, and nothing written
# past a bad record.
#
# full.vms (from migstream-cat-mkstream) has its records at:
#   16 STREAM_HEADER, 89 DEVICE, 187 DEVICE, 311 PRECOPY_INFO,
#   383 DATA (record 4, device 0 chunk 0), 4535 DATA (5), 8687 DATA (6),
#   10551 DIRTY_BITMAP (7), 10638 PRECOPY_INFO (8), 10710 DATA (9, chunk 3),
#   ..., 39916 STREAM_END (21); 39972 bytes in all.

load helpers

setup() {
	cat_setup
	[ "$(vmt_size full.vms)" -eq 39972 ]
}

@test "bad magic: exit 4, file name and byte offset" {
	cp full.vms bad.vms
	vmt_flip_byte bad.vms 1
	vmt_run_error 4 '^migstream-cat: error: bad\.vms: preamble at byte 0: bad magic' \
		migstream-cat bad.vms
	[ -z "$output" ]
	vmt_run_error 4 'bad magic' migstream-cat --verify bad.vms
}

@test "not a stream at all, and an empty file" {
	echo "hello" >text
	vmt_run_error 4 'text: .*not a migstream' migstream-cat text
	: >empty
	vmt_run_error 4 'empty: .*empty input' migstream-cat --verify empty
	vmt_run_error 4 '<stdin>: .*empty input' migstream-cat --verify </dev/null
}

@test "unsupported version in the preamble" {
	cp full.vms v2.vms
	printf '\002' | dd of=v2.vms bs=1 seek=11 conv=notrunc status=none
	vmt_run_error 4 'v2\.vms: preamble at byte 0: unsupported format version 2' migstream-cat v2.vms
}

@test "truncated at several points: exit 4 with record and offset" {
	head -c 10 full.vms >t
	vmt_run_error 4 't: preamble at byte 0: truncated' migstream-cat --verify t
	head -c 26 full.vms >t
	vmt_run_error 4 't: record 0 at byte 16: truncated record header' migstream-cat --verify t
	head -c 500 full.vms >t
	vmt_run_error 4 't: record 4 \(DATA\) at byte 383: truncated payload' migstream-cat --verify t
	head -c 39916 full.vms >t
	vmt_run_error 4 't: record 21 at byte 39916: truncated: end of file before STREAM_END' \
		migstream-cat --verify t
	head -c 39971 full.vms >t
	vmt_run_error 4 't: record 21 \(STREAM_END\) at byte 39916: truncated payload' migstream-cat t
	# every possible cut fails the same way: exit 4, one line
	for cut in 0 1 15 16 17 47 48 100 383 415 4535 10551 20000 39915; do
		head -c $cut full.vms >t
		vmt_run_error 4 '^migstream-cat: error: t: ' migstream-cat --verify t
	done
}

@test "flipped byte in a record header" {
	cp full.vms bad.vms
	vmt_flip_byte bad.vms $((383 + 5))
	vmt_run_error 4 'bad\.vms: record 4 at byte 383: record header check mismatch' \
		migstream-cat bad.vms
	# the listing shows the good records, then stops: no summary
	[ "${#lines[@]}" -eq 5 ]
	[[ "$output" != *summary* ]]
}

@test "flipped byte in a payload" {
	cp full.vms bad.vms
	vmt_flip_byte bad.vms $((383 + 32 + 50))
	vmt_run_error 4 'bad\.vms: record 4 \(DATA\) at byte 383: payload checksum mismatch' \
		migstream-cat --verify bad.vms
	vmt_run_error 4 'record 4 \(DATA\) at byte 383: payload checksum mismatch' \
		migstream-cat --json bad.vms
	# the four records that passed, then the error line
	[ "${#lines[@]}" -eq 5 ]
	[ "$(printf '%s\n' "${lines[4]}" | jq -r '"\(.type) \(.ok) \(.error.errno)"')" = "error false EBADMSG" ]
}

@test "data after STREAM_END" {
	cp full.vms bad.vms
	printf 'x' >>bad.vms
	vmt_run_error 4 'bad\.vms: record 22 at byte 39972: data after STREAM_END' \
		migstream-cat --verify bad.vms
}

@test "unknown critical record type is refused" {
	migstream-cat-mkstream -u >u.vms
	vmt_run_error 4 'u\.vms: record 1 \(.*\) at byte 89: unknown critical record type 0x00c8' \
		migstream-cat u.vms
}

@test "--passthrough writes nothing past a bad record" {
	cp full.vms bad.vms
	vmt_flip_byte bad.vms $((10710 + 32 + 7))
	run --separate-stderr bash -c 'migstream-cat -q --passthrough bad.vms >copy.vms'
	[ "$status" -eq 4 ]
	vmt_one_line_error migstream-cat 'bad\.vms: record 9 \(DATA\) at byte 10710: payload checksum mismatch'
	# records 0..8 verified and passed on, record 9 and after withheld
	[ "$(vmt_size copy.vms)" -eq 10710 ]
	head -c 10710 full.vms | cmp - copy.vms
	# and the same through a pipe
	run bash -c 'cat bad.vms | migstream-cat -q --passthrough 2>/dev/null | wc -c'
	[ "$output" -eq 10710 ]
}

@test "--extract writes nothing past a bad record" {
	migstream-cat --extract=0 full.vms >good
	cp full.vms bad.vms
	vmt_flip_byte bad.vms $((10710 + 32 + 7))
	run --separate-stderr bash -c 'migstream-cat --extract=0 bad.vms >part'
	[ "$status" -eq 4 ]
	vmt_one_line_error migstream-cat 'record 9 \(DATA\) at byte 10710'
	# chunks 0-2 (10000 bytes of PRECOPY_INITIAL) verified; chunk 3 was bad
	[ "$(vmt_size part)" -eq 10000 ]
	head -c 10000 good | cmp - part
}

@test "--extract of a device the stream does not have" {
	vmt_run_error 4 'full\.vms: no device 7 in the stream' migstream-cat --extract=7 full.vms
	# what is not a number is a name (issue 22, item 20)
	vmt_run_error 4 "full\\.vms: no device named 'abc' in the stream" migstream-cat --extract=abc full.vms
	[ -z "$output" ]
}

@test "--recompress of a bad stream fails with exit 4" {
	cp full.vms bad.vms
	vmt_flip_byte bad.vms $((4535 + 40))
	run --separate-stderr bash -c 'migstream-cat --recompress=3 bad.vms >out.vms'
	[ "$status" -eq 4 ]
	vmt_one_line_error migstream-cat 'record 5 \(DATA\) at byte 4535: payload checksum mismatch'
	# what it wrote is not a valid stream
	vmt_run 4 migstream-cat --verify out.vms
}

@test "one bad file among several: the others are still listed, exit 4" {
	cp full.vms bad.vms
	vmt_flip_byte bad.vms 400
	vmt_run_error 4 'bad\.vms: record 4' migstream-cat bad.vms full.vms
	printf '%s\n' "$output" | grep -q '^summary of full.vms:'
	vmt_run_error 4 'bad\.vms' migstream-cat --verify full.vms bad.vms
}

@test "missing file: exit 1 and its name" {
	vmt_run_error 1 'nosuch\.vms: cannot open: No such file or directory' migstream-cat nosuch.vms
	vmt_run_error 1 'nosuch\.vms: cannot open' migstream-cat --verify full.vms nosuch.vms
	vmt_run_error 1 'nosuch\.raw: cannot open' migstream-cat --wrap nosuch.raw
	[ -z "$output" ]
	vmt_run_error 1 'nosuch\.vms: cannot open' migstream-cat --recompress=1 nosuch.vms
	[ -z "$output" ]
}

@test "--wrap of something that cannot be read" {
	vmt_run_error 1 '/: read error: Is a directory' migstream-cat --wrap /
}

@test "bad usage: exit 2, the reason and a pointer to --help" {
	vmt_run_error 2 'bogus' migstream-cat --bogus
	[[ "$stderr" == *"Try 'migstream-cat --help' for more information."* ]]
	[ -z "$output" ]
	vmt_run_error 2 'extract' migstream-cat --extract
	vmt_run_error 2 "invalid --extract argument: '-1'" migstream-cat --extract=-1 full.vms
	vmt_run_error 2 "invalid --recompress argument: '20'" migstream-cat --recompress=20 full.vms
	vmt_run_error 2 "invalid --compress argument: 'x'" migstream-cat --wrap -zx full.vms
	vmt_run_error 2 'cannot be combined' migstream-cat --verify --extract=0 full.vms
	vmt_run_error 2 'cannot be combined' migstream-cat --wrap --passthrough full.vms
	vmt_run_error 2 'needs --wrap' migstream-cat -z full.vms
	vmt_run_error 2 'need --wrap' migstream-cat --name=x full.vms
	vmt_run_error 2 'need --wrap' migstream-cat --extract=0 --chunk-size=4K full.vms
	vmt_run_error 2 'are for listings' migstream-cat --verify --json full.vms
	vmt_run_error 2 'are for listings' migstream-cat --extract=0 --dirty full.vms
	vmt_run_error 2 'one input' migstream-cat --wrap a b
	vmt_run_error 2 'one input' migstream-cat --recompress=none full.vms full.vms
	vmt_run_error 2 "invalid --chunk-size argument: '0'" migstream-cat --wrap --chunk-size=0
	vmt_run_error 2 "invalid --chunk-size argument: '9M'" migstream-cat --wrap --chunk-size=9M
	vmt_run_error 2 "invalid --chunk-size argument: 'lots'" migstream-cat --wrap --chunk-size=lots
	vmt_run_error 2 "invalid --phase argument: 'late'" migstream-cat --wrap --phase=late
	vmt_run_error 2 "invalid --mig-flags argument" migstream-cat --wrap --mig-flags=x
	vmt_run_error 2 "invalid --output argument: 'seq,nosuch'" migstream-cat -o seq,nosuch full.vms
}

@test "closed standard output: exit 1 and one line, for every binary mode" {
	vmt_make_stream big.vms 4M
	for mode in --extract=0 --passthrough --recompress=none; do
		run --separate-stderr bash -c "migstream-cat -q $mode big.vms | head -c1 >/dev/null; exit \${PIPESTATUS[0]}"
		[ "$status" -eq 1 ]
		vmt_one_line_error migstream-cat 'write error on standard output: Broken pipe'
	done
	run --separate-stderr bash -c 'migstream-cat --wrap big.vms.raw | head -c1 >/dev/null; exit ${PIPESTATUS[0]}'
	[ "$status" -eq 1 ]
	vmt_one_line_error migstream-cat 'write error on standard output: Broken pipe'
}

@test "full disk (/dev/full): exit 1 and one line, for every mode that writes" {
	vmt_make_stream s.vms 100K
	for mode in "" --json --extract=0 --passthrough --recompress=3; do
		run --separate-stderr bash -c "migstream-cat -q $mode s.vms >/dev/full"
		[ "$status" -eq 1 ]
		vmt_one_line_error migstream-cat 'write error on standard output: No space left on device'
	done
	for cmd in "--wrap s.vms.raw" "--dirty full.vms"; do
		run --separate-stderr bash -c "migstream-cat $cmd >/dev/full"
		[ "$status" -eq 1 ]
		vmt_one_line_error migstream-cat 'write error on standard output: No space left on device'
	done
}

@test "strings from the stream cannot drive the terminal: control characters are escaped" {
	# A DEVICE name as an attacker would send it: ESC sequences, BEL, CR,
	# and a UTF-8 C1 CSI (c2 9b) that some terminals obey.
	name=$(printf 'dev\033]0;owned\007\033[2J\r\302\2331mX')
	printf 'state' | migstream-cat --wrap --name="$name" -f >esc.vms
	run --separate-stderr migstream-cat esc.vms
	[ "$status" -eq 0 ]
	[ "$(printf '%s' "$output" | LC_ALL=C tr -dc '\001-\011\013-\037\177' | wc -c)" -eq 0 ]
	[ "$(printf '%s' "$output" | LC_ALL=C grep -c $'\xc2\x9b')" -eq 0 ]
	[[ "$output" == *'name=dev\x1b]0;owned\x07\x1b[2J\x0d\xc2\x9b1mX driver='* ]]
	# the summary names the device too
	[[ "$output" == *'device 0:       dev\x1b]0;owned'* ]]
	# -o with the info column not last: padded, and escaped all the same
	run --separate-stderr migstream-cat -o info,seq esc.vms
	[ "$status" -eq 0 ]
	[ "$(printf '%s' "$output" | LC_ALL=C tr -dc '\001-\011\013-\037\177' | wc -c)" -eq 0 ]
	# --json has its own escaping, still one object per line
	run --separate-stderr migstream-cat --json esc.vms
	[ "$status" -eq 0 ]
	[ "$(printf '%s' "$output" | LC_ALL=C tr -dc '\001-\011\013-\037\177' | wc -c)" -eq 0 ]
}

@test "strings from the stream: invalid UTF-8 and bidi overrides are escaped too" {
	# U+202E (right-to-left override), U+2066 (LRI), a lone continuation
	# byte, an overlong '/', a backslash; valid UTF-8 (e acute) stays
	name=$(printf 'a\342\200\256b\342\201\246c\200d\300\257e\\f\303\251')
	printf 'state' | migstream-cat --wrap --name="$name" -f >bidi.vms
	run --separate-stderr migstream-cat bidi.vms
	[ "$status" -eq 0 ]
	[[ "$output" == *'name=a\xe2\x80\xaeb\xe2\x81\xa6c\x80d\xc0\xafe\x5cf'$'\xc3\xa9'' driver='* ]]
	[ "$(printf '%s' "$output" | LC_ALL=C grep -c $'\xe2\x80\xae')" -eq 0 ]
	[[ "$output" == *'device 0:       a\xe2\x80\xaeb'* ]]
}

@test "a DIRTY_BITMAP whose pages run past 2^64 is bad data for every mode, --verify too" {
	# 4096 pages of 4 KiB from 0xffffffffffff0000 run 2^64 + 16 MiB - 64 KiB
	migstream-cat-mkstream -i 0xffffffffffff0000 >wrap.vms
	for mode in --verify --dirty "--dirty --json" -q ""; do
		run --separate-stderr migstream-cat $mode wrap.vms
		[ "$status" -eq 4 ]
		vmt_one_line_error migstream-cat 'wrap\.vms: record 7 \(DIRTY_BITMAP\) at byte [0-9]+: 4096 pages of 4096 bytes from IOVA 0xffffffffffff0000 run past the end of the 64-bit IOVA space'
		[[ "$output" != *"dirty 0x0000000000000000"* ]]
		[[ "$output" != *'"iova":0,'* ]]
	done
	# 4096 pages from 2^64 - 16 MiB end exactly at 2^64 - 1: listed as they
	# are; the second bitmap, 1 MiB higher, is refused
	migstream-cat-mkstream -i 0xffffffffff000000 >top.vms
	run --separate-stderr migstream-cat --dirty top.vms
	[ "$status" -eq 4 ]
	[[ "$output" == *"dirty 0xfffffffffffa0000-0xffffffffffffffff 96 pages"* ]]
	vmt_one_line_error migstream-cat 'top\.vms: record 11 \(DIRTY_BITMAP\) at byte [0-9]+: 4096 pages of 4096 bytes from IOVA 0xffffffffff100000 run past'
	run --separate-stderr migstream-cat --verify top.vms
	[ "$status" -eq 4 ]
}
