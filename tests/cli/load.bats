#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
#
# vfio-mig-load's command line, messages and summary (the round trips and
# failure behaviour with vfio-mig-save are in save-load.bats).

load helpers
load load-helpers

@test "--help, --version" {
	vmt_require_tool vfio-mig-load
	vmt_run 0 vfio-mig-load --help
	[[ $output == "Usage:"$'\n'" vfio-mig-load "* ]]
	for opt in --device --map --group --input --reorder-buffer --force --then --json --progress \
		--quiet --verbose --help --version; do
		[[ $output == *"$opt"* ]]
	done
	vmt_run 0 vfio-mig-load -V
	[ "$output" = "vfio-mig-load (vfio-migtools) 0.1.0" ]
}

@test "usage errors exit 2 with one line and the Try line" {
	vmt_require_tool vfio-mig-load
	vmt_run_error 2 "no target device given" vfio-mig-load
	vmt_run_error 2 "unknown option" vfio-mig-load --bogus /dev/null
	vmt_run_error 2 "invalid --then argument: 'go'" vfio-mig-load --then go /dev/null
	vmt_run_error 2 "invalid --map argument: '0'" vfio-mig-load --map 0
	vmt_run_error 2 "invalid --map argument: '=x'" vfio-mig-load --map =x
	vmt_run_error 2 "invalid --map argument: 'x' \(not a number\)" vfio-mig-load --map x=/dev/a
	vmt_run_error 2 "stream device 0 has two targets" vfio-mig-load --map 0=vfio1 -d vfio2 --map 0=vfio3
	vmt_run_error 2 "device 'vfio1' is the target of stream devices 0 and 1" vfio-mig-load vfio1 vfio1
	vmt_run_error 2 "invalid --reorder-buffer argument" vfio-mig-load --reorder-buffer 1.5G /dev/a
}

@test "a missing input file is exit 1, before any device is opened" {
	vmt_require_tool vfio-mig-load
	vmt_run_error 1 "^vfio-mig-load: error: $VMT_TMP/nope: cannot open: No such file or directory$" \
		vfio-mig-load -i "$VMT_TMP/nope" /dev/vfio/devices/vfio0
}

@test "device names: bad form exit 2, missing device exit 1, nothing read" {
	sl_require
	run --separate-stderr sl_sim vfio0 -- vfio-mig-load -i /dev/null not-a-device
	[ "$status" -eq 2 ]
	vmt_one_line_error vfio-mig-load "invalid device 'not-a-device' \(not vfioN, /dev/vfio/devices/vfioN, a PCI address, an mdev UUID or fd:N\)"
	run --separate-stderr sl_sim vfio0 -- vfio-mig-load -i /dev/null /dev/vfio/devices/vfio7
	[ "$status" -eq 1 ]
	vmt_one_line_error vfio-mig-load "/dev/vfio/devices/vfio7: cannot open the device: no such device; device /dev/vfio/devices/vfio7 untouched$"
}

@test "a device in use elsewhere: exit 1, says so" {
	sl_require
	run --separate-stderr sl_sim vfio0,busy=yes -- vfio-mig-load -i /dev/null /dev/vfio/devices/vfio0
	[ "$status" -eq 1 ]
	vmt_one_line_error vfio-mig-load "vfio0: cannot open the device: device busy"
}

# A saved 1 MiB stream of vfio0 (seed 4) in $VMT_TMP/stream.
saved_stream() {
	sl_sim vfio0,size=1M,seed=4 "$@" -- vfio-mig-save -q -o "$VMT_TMP/stream" /dev/vfio/devices/vfio0
}

@test "-i FILE and stdin load the same; -q prints nothing; -v says what it does" {
	sl_require
	saved_stream
	run --separate-stderr sl_sim vfio1,seed=4 -- vfio-mig-load -q -i "$VMT_TMP/stream" /dev/vfio/devices/vfio1
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	sl_expect_state vfio1 load_verified ok

	rm -rf "$SL_SIM"
	run --separate-stderr sl_sim vfio1,seed=4 -- sh -c "vfio-mig-load -v -d /dev/vfio/devices/vfio1 <'$VMT_TMP/stream'"
	[ "$status" -eq 0 ]
	[[ $stderr == *"debug: "*"RESUMING"* ]]
	[[ $stderr == *"now STOP"* ]]
	# -v also prints the per-device summary line with the digest
	[[ $stderr == *"device 0 -> /dev/vfio/devices/vfio1: "*", digest "*", now RUNNING"* ]]
	sl_expect_state vfio1 load_verified ok
}

@test "--json: one object with bytes, digest, state, times" {
	sl_require
	saved_stream
	run --separate-stderr sl_sim vfio1,seed=4 -- vfio-mig-load --json -i "$VMT_TMP/stream" /dev/vfio/devices/vfio1
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "$stderr" | grep -c .)" -eq 1 ]
	[ "$(printf '%s\n' "$stderr" | jq -r '.devices[0].state_bytes')" -eq "$(sl_state vfio1 loaded_bytes)" ]
	[ "$(printf '%s\n' "$stderr" | jq -r '.devices[0].target')" = /dev/vfio/devices/vfio1 ]
	[ "$(printf '%s\n' "$stderr" | jq -r '.devices[0].final_state')" = RUNNING ]
	[ "xxh3:$(printf '%s\n' "$stderr" | jq -r '.devices[0].digest')" = "$(sl_state vfio1 load_digest)" ]
	[ "$(printf '%s\n' "$stderr" | jq -r '.stream_bytes')" -eq "$(vmt_size "$VMT_TMP/stream")" ]
	printf '%s\n' "$stderr" | jq -e '.schema == "vfio-mig-load/1" and .ok == true and .error == null and .total_s >= 0 and .throughput_bytes_per_s >= 0 and .resume_downtime_s >= 0'
}

@test "--json on failure: stderr is the JSON document alone; --summary-file gets it too" {
	sl_require
	run --separate-stderr sl_sim vfio0 -- vfio-mig-load --json -i /dev/null /dev/vfio/devices/vfio9
	[ "$status" -eq 1 ]
	printf '%s\n' "$stderr" | python3 -m json.tool >/dev/null
	[ "$(printf '%s\n' "$stderr" | wc -l)" -eq 1 ]
	printf '%s\n' "$stderr" | jq -e '.schema == "vfio-mig-load/1" and .ok == false' >/dev/null
	printf '%s\n' "$stderr" | jq -e '.error.device == "/dev/vfio/devices/vfio9" and .error.errno == "ENOENT" and .error.exit_code == 1' >/dev/null
	printf '%s\n' "$stderr" | jq -e '.devices[0].target == "/dev/vfio/devices/vfio9" and .devices[0].final_state == "UNKNOWN"' >/dev/null
	[[ "$(printf '%s\n' "$stderr" | jq -r .error.message)" == "/dev/vfio/devices/vfio9: cannot open the device: no such device"* ]]

	saved_stream
	printf 'junk' >"$VMT_TMP/stream"
	run --separate-stderr sl_sim vfio1 -- vfio-mig-load -i "$VMT_TMP/stream" --summary-file "$VMT_TMP/sum.json" \
		/dev/vfio/devices/vfio1
	[ "$status" -eq 4 ]
	vmt_one_line_error vfio-mig-load "preamble"
	python3 -m json.tool "$VMT_TMP/sum.json" >/dev/null
	jq -e '.ok == false and .error.exit_code == 4 and .error.file == "'"$VMT_TMP/stream"'" and .error.errno == "EBADMSG"' \
		"$VMT_TMP/sum.json" >/dev/null
	jq -e '.devices[0].final_state == "RUNNING" and .devices[0].reset == false' "$VMT_TMP/sum.json" >/dev/null
}

# error.record, .record_type and .offset of the --json document on stderr, as one line.
json_where() {
	printf '%s\n' "$stderr" | jq -r '[.error.record, .error.record_type, .error.offset] | map(tostring) | join(" ")'
}

@test "--json, stream on stdin, --return-fd: error.record, record_type and offset are those the message names" {
	sl_require
	sl_sim vfio0,size=256K -- vfio-mig-save -q --no-precopy -o "$VMT_TMP/good.vms" /dev/vfio/devices/vfio0
	local data_at
	data_at=$(migstream-cat --json "$VMT_TMP/good.vms" | jq -r 'select(.type == "DATA") | .offset')
	# a payload byte of the DATA record: the record is known, its checksum fails
	cp "$VMT_TMP/good.vms" "$VMT_TMP/bad.vms"
	vmt_flip_byte "$VMT_TMP/bad.vms" $((data_at + 100))
	run --separate-stderr sl_sim vfio1 -- sh -c "vfio-mig-load --json --return-fd 3 3>'$VMT_TMP/reply' \
		/dev/vfio/devices/vfio1 <'$VMT_TMP/bad.vms'"
	[ "$status" -eq 4 ]
	[[ "$(printf '%s\n' "$stderr" | jq -r .error.message)" == "<stdin>: record 2 (DATA) at byte $data_at: payload checksum mismatch;"* ]]
	[ "$(json_where)" = "2 DATA $data_at" ]
	# cut inside the next record's header: its type is not known, record and offset are
	head -c $((data_at + 10)) "$VMT_TMP/good.vms" >"$VMT_TMP/cut.vms"
	run --separate-stderr sl_sim vfio1 -- sh -c "vfio-mig-load --json --return-fd 3 3>'$VMT_TMP/reply' \
		/dev/vfio/devices/vfio1 <'$VMT_TMP/cut.vms'"
	[ "$status" -eq 4 ]
	[[ "$(printf '%s\n' "$stderr" | jq -r .error.message)" == "<stdin>: record 2 at byte $data_at: truncated record header"* ]]
	[ "$(json_where)" = "2 null $data_at" ]
	# not a stream: byte 0 of the preamble, no record
	printf 'junk' >"$VMT_TMP/junk.vms"
	run --separate-stderr sl_sim vfio1 -- sh -c "vfio-mig-load --json --return-fd 3 3>'$VMT_TMP/reply' \
		/dev/vfio/devices/vfio1 <'$VMT_TMP/junk.vms'"
	[ "$status" -eq 4 ]
	[[ "$(printf '%s\n' "$stderr" | jq -r .error.message)" == "<stdin>: preamble at byte 0: bad magic"* ]]
	[ "$(json_where)" = "null null 0" ]
}

@test "the text summary gives every size and the rate in IEC units" {
	sl_require
	saved_stream
	run --separate-stderr sl_sim vfio1,seed=4 -- vfio-mig-load -i "$VMT_TMP/stream" /dev/vfio/devices/vfio1
	[ "$status" -eq 0 ]
	local iec='[0-9.]+ (B|KiB|MiB|GiB|TiB)'
	vmt_one_line_error vfio-mig-load "^vfio-mig-load: loaded 1 device, $iec of state \(pre-copy $iec, stop-copy $iec\) from $iec of stream in [0-9.]+ s \($iec/s\); resume downtime [0-9.]+ s\$"
}

@test "--summary-file after a successful load: the --json document" {
	sl_require
	saved_stream
	run --separate-stderr sl_sim vfio1,seed=4 -- vfio-mig-load -q -i "$VMT_TMP/stream" \
		--summary-file "$VMT_TMP/sum.json" /dev/vfio/devices/vfio1
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	jq -e '.schema == "vfio-mig-load/1" and .ok == true and .devices[0].final_state == "RUNNING"' \
		"$VMT_TMP/sum.json" >/dev/null
	[ "$(jq -r .stream_bytes "$VMT_TMP/sum.json")" -eq "$(vmt_size "$VMT_TMP/stream")" ]
	# the input itself (by another name too) is refused before anything is read
	cp "$VMT_TMP/stream" "$VMT_TMP/stream.keep"
	ln -s stream "$VMT_TMP/link"
	run --separate-stderr sl_sim vfio1,seed=4 -- vfio-mig-load -i "$VMT_TMP/stream" \
		--summary-file "$VMT_TMP/link" /dev/vfio/devices/vfio1
	[ "$status" -eq 2 ]
	vmt_one_line_error vfio-mig-load "--summary-file '$VMT_TMP/link' is the input stream"
	cmp "$VMT_TMP/stream" "$VMT_TMP/stream.keep"
}

@test "64 devices: the error line is whole, counts the devices and names the exception" {
	sl_require
	local src=() dst=() save=() load=() i
	for i in $(seq 0 63); do
		src+=(vfio$i,size=4K)
		dst+=(vfio$((i + 64)),size=4K)
		save+=(-d vfio$i)
		load+=(-d vfio$((i + 64)))
	done
	dst[63]=vfio127,size=4K,fail=resuming\>stop:EIO
	sl_sim "${src[@]}" -- vfio-mig-save -q --no-precopy "${save[@]}" -o "$VMT_TMP/stream"
	run --separate-stderr sl_sim "${dst[@]}" -- vfio-mig-load -i "$VMT_TMP/stream" \
		--summary-file "$VMT_TMP/sum.json" "${load[@]}"
	[ "$status" -eq 1 ]
	vmt_one_line_error vfio-mig-load "vfio127: record [0-9]+ \(DEVICE_END\) at byte [0-9]+: the device failed to take the loaded state \(RESUMING -> STOP: Input/output error\); 64 devices reset, now RUNNING$"
	[ "$(jq '[.devices[] | select(.reset and .final_state == "RUNNING")] | length' "$VMT_TMP/sum.json")" -eq 64 ]
}

@test "progress: drawn with --progress or on a terminal, not with -q; erased before the summary" {
	sl_require
	# a slow source (50 ms per 256 KiB read) keeps the load going for ~1 s
	local slow=vfio0,size=5M,read-delay-ms=50,chunk=256K
	sl_pipe "$slow" vfio1 -- "-q --no-precopy $(sl_dev 0)" cat "--progress $(sl_dev 1)"
	sl_expect load_status 0
	# lib/common/progress: IEC units, no total from a pipe, the line erased to its end
	[[ $load_err == *$'\r'"vfio-mig-load: "*"iB, "*"iB/s"$'\e[K'* ]]
	[[ $load_err != *" MB/s"* ]]
	# the last line, after the erase, is the summary
	[[ $(printf '%s\n' "$load_err" | tail -n1 | sed 's/.*\x1b\[K//') == "vfio-mig-load: loaded 1 device, "* ]]

	rm -rf "$SL_SIM"
	VMT_FORCE_TTY=1 sl_pipe "$slow" vfio1 -- "-q -f --no-precopy $(sl_dev 0)" cat "$(sl_dev 1)"
	sl_expect load_status 0
	[[ $load_err == *$'\r'"vfio-mig-load: "*"iB/s"* ]]

	rm -rf "$SL_SIM"
	VMT_FORCE_TTY=1 sl_pipe "$slow" vfio1 -- "-q -f --no-precopy $(sl_dev 0)" cat "-q $(sl_dev 1)"
	sl_expect load_status 0
	[ -z "$load_err" ]
}

@test "a stream that is not a migstream: exit 4, device untouched" {
	sl_require
	head -c 4096 /dev/urandom >"$VMT_TMP/junk"
	run --separate-stderr sl_sim vfio1 -- vfio-mig-load -i "$VMT_TMP/junk" /dev/vfio/devices/vfio1
	[ "$status" -eq 4 ]
	vmt_one_line_error vfio-mig-load "$VMT_TMP/junk: preamble at byte 0: .*; device /dev/vfio/devices/vfio1 untouched, RUNNING$"
	sl_expect_state vfio1 transitions 0
}

@test "a migstream-cat --wrap stream of foreign bytes is rejected by the device: exit 4" {
	sl_require
	vmt_require_tool migstream-cat
	vmt_make_stream "$VMT_TMP/wrapped" 64K
	run --separate-stderr sl_sim vfio1 -- vfio-mig-load -i "$VMT_TMP/wrapped" /dev/vfio/devices/vfio1
	[ "$status" -eq 4 ]
	vmt_one_line_error vfio-mig-load "rejected.*; device /dev/vfio/devices/vfio1 reset, now RUNNING$"
	sl_expect_state vfio1 resets 1
}

@test "strings from the stream reach stderr escaped: one line, no terminal control" {
	sl_require
	vmt_require_tool migstream-cat
	# an OSC title, a clear screen, a newline, U+202E and an invalid byte
	name=$(printf 'dev\033]0;owned\007\033[2J\nx\342\200\256y\377')
	vmt_make_stream "$VMT_TMP/evil" 4K --name="$name" --driver="$(printf 'drv\033[31m\r')"
	# no target for stream device 0: the error names it
	run --separate-stderr sl_sim vfio1 -- vfio-mig-load --map 1=/dev/vfio/devices/vfio1 \
		-i "$VMT_TMP/evil"
	[ "$status" -eq 2 ]
	vmt_one_line_error vfio-mig-load "stream device 0 \('dev.x1b\]0;owned.x07.x1b\[2J.x0ax.xe2.x80.xaey.xff'\) has no target"
	[ "$(printf '%s' "$stderr" | LC_ALL=C tr -dc '\001-\037\177\200-\377' | wc -c)" -eq 0 ]
	# the driver differs from the target's: named in the warning, escaped
	run --separate-stderr sl_sim vfio1 -- vfio-mig-load -f -i "$VMT_TMP/evil" /dev/vfio/devices/vfio1
	[[ "$stderr" == *"driver differs: stream 'drv\x1b[31m\x0d'"* ]]
	[ "$(printf '%s' "$stderr" | LC_ALL=C tr -dc '\001-\011\013-\037\177\200-\377' | wc -c)" -eq 0 ]
}

@test "any u32 is a device index: a stream device 4294967295 that --verify accepts loads with --map" {
	sl_require
	vmt_require_tool migstream-cat
	vmt_require_tool migstream-shuffle
	saved_stream
	migstream-shuffle -w 1 -i 4294967295 <"$VMT_TMP/stream" >"$VMT_TMP/top"
	vmt_run 0 migstream-cat --verify "$VMT_TMP/top"
	# without a target, the error says how to give one ...
	run --separate-stderr sl_sim vfio1,seed=4 -- vfio-mig-load -i "$VMT_TMP/top" --map 0=/dev/vfio/devices/vfio1
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"stream device 4294967295 ('/dev/vfio/devices/vfio0') has no target: give one with -d or --map 4294967295=DEV"* ]]
	# ... and that works
	run --separate-stderr sl_sim vfio1,seed=4 -- vfio-mig-load -q -i "$VMT_TMP/top" \
		--map 4294967295=/dev/vfio/devices/vfio1
	[ "$status" -eq 0 ]
	sl_expect_state vfio1 load_verified ok
	# one past the range is a usage error
	run --separate-stderr vfio-mig-load --map 4294967296=/dev/vfio/devices/vfio1
	[ "$status" -eq 2 ]
}

@test "--reorder-buffer: an in-order stream loads without holding anything back" {
	sl_require
	saved_stream
	run --separate-stderr sl_sim vfio1,seed=4 -- vfio-mig-load --reorder-buffer 16M --json \
		-i "$VMT_TMP/stream" /dev/vfio/devices/vfio1
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "$stderr" | jq -r '.devices[0].reorder_peak_bytes')" -eq 0 ]
	sl_expect_state vfio1 load_verified ok
}

@test "an error inside an INIT_DATA_SENT record names INIT_DATA_SENT, in the message and in JSON's record_type" {
	sl_require
	local v="$VMT_SRCDIR/tests/vectors"
	# the reader's error: a payload check failing inside the marker
	run --separate-stderr sl_sim vfio1 -- vfio-mig-load --force --json -i "$v/bad-init-data-sent.vms" vfio1
	[ "$status" -eq 4 ]
	printf '%s\n' "$stderr" | grep '^{' | jq -r .error.message |
		grep -q 'bad-init-data-sent\.vms: record 4 (INIT_DATA_SENT) at byte 399: payload checksum mismatch'
	# the loader's own: a marker it refuses while answering on a return path
	run --separate-stderr sl_sim vfio1 -- vfio-mig-load --force --json --return-fd 1 \
		-i "$v/init-data-sent-beyond.vms" vfio1
	[ "$status" -eq 4 ]
	[ "$(printf '%s\n' "$stderr" | grep '^{' | jq -r '"\(.error.record) \(.error.record_type) \(.error.offset)"')" = "4 INIT_DATA_SENT 399" ]
	printf '%s\n' "$stderr" | grep '^{' | jq -r .error.message |
		grep -q ': record 4 (INIT_DATA_SENT) at byte 399: malformed INIT_DATA_SENT record'
	! printf '%s\n' "$stderr" | grep -q UNKNOWN
}
