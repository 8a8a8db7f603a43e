#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
#
# migstream-cat on the shared test vectors (tests/vectors/*.vms, from the
# stream library's gen-vectors): listing and --json against golden files,
# and the round trips every good vector must survive.

load helpers

VECTORS="$VMT_SRCDIR/tests/vectors"

setup() {
	vmt_require_tool migstream-cat
	compgen -G "$VECTORS/*.vms" >/dev/null || skip "no test vectors in $VECTORS"
	cd "$VMT_TMP"
	cp "$VECTORS"/*.vms .
}

# name, stdout, stderr and exit status of migstream-cat ARGS on each vector
describe_all() {
	local v status
	for v in $(ls *.vms | LC_ALL=C sort); do
		echo "== $v"
		status=0
		migstream-cat "$@" "$v" >out 2>err || status=$?
		cat out
		sed 's/^/stderr: /' err
		echo "exit: $status"
	done
}

# good forward streams (a reply stream carries no device state: it is listed and verified only)
good_vectors() {
	local v
	for v in *.vms; do
		case $v in reply-*) continue ;; esac
		migstream-cat --verify "$v" 2>/dev/null && echo "$v"
	done
	return 0
}

@test "vectors: listing matches the golden file" {
	describe_all | vmt_normalise >vectors.txt
	vmt_check_golden migstream-cat-vectors.txt vectors.txt
}

@test "vectors: --json matches the golden file" {
	describe_all --json | vmt_normalise >vectors.json
	vmt_check_golden migstream-cat-vectors.json vectors.json
	if command -v jq >/dev/null; then
		grep -v -e '^== ' -e '^stderr: ' -e '^exit: ' vectors.json | jq -e 'type == "object"' >/dev/null
	fi
}

@test "vectors: --dirty matches the golden file" {
	migstream-cat --dirty dirty-bitmap.vms | vmt_normalise >dirty.txt
	vmt_check_golden migstream-cat-vectors-dirty.txt dirty.txt
}

@test "vectors: every bad vector fails with exit 4 and one line naming it" {
	for v in bad-digest bad-header-check bad-payload-check chunk-order no-stream-end truncated \
		unknown-critical channel-not-second channel-count-0 channel-beyond channel-flags bad-init-data-sent; do
		[ -f "$v.vms" ] || continue
		vmt_run_error 4 "^migstream-cat: error: $v\\.vms: record [0-9]+ .*at byte [0-9]+: " \
			migstream-cat --verify "$v.vms"
	done
}

@test "vectors: an error inside INIT_DATA_SENT names INIT_DATA_SENT, text and --json" {
	vmt_run_error 4 "bad-init-data-sent\\.vms: record 4 \\(INIT_DATA_SENT\\) at byte 399: payload checksum mismatch$" \
		migstream-cat --verify bad-init-data-sent.vms
	run migstream-cat --json bad-init-data-sent.vms
	[ "$status" -eq 4 ]
	[[ "${lines[-1]}" == *'"message": "bad-init-data-sent.vms: record 4 (INIT_DATA_SENT) at byte 399: payload checksum mismatch"'* ]]
	# the marker the loader of a return path refuses is listed as what it is
	vmt_run 0 migstream-cat -o type,info init-data-sent-beyond.vms
	[[ "$output" == *"INIT_DATA_SENT bad INIT_DATA_SENT payload (24 bytes)"* ]]
}

@test "vectors: the reply streams are listed and verified (migstream(5), RETURN PATH)" {
	vmt_run 0 migstream-cat --verify reply-ok.vms reply-failed.vms
	vmt_run 0 migstream-cat -q -o seq,type,device,info reply-ok.vms
	[ "${lines[2]}" = "      1 SWITCHOVER_ACK   0 generation=1 bytes=100 time=2026-01-01T00:00:00.001000000Z" ]
	[ "${lines[3]}" = "      2 LOAD_RESULT     - exit_code=0 time=2026-01-01T00:00:00.002000000Z target=0:RUNNING:LOADED|IN_STATE" ]
	vmt_run 0 migstream-cat reply-failed.vms
	[[ "$output" == *"message         vfio1: the device rejected the loaded state; device vfio1 reset, now RUNNING"* ]]
	# the modes that need device state still read forward streams only
	vmt_run_error 4 "reply-ok\\.vms: record 1 \\(SWITCHOVER_ACK\\) at byte 89: unknown critical record type 0x0101$" \
		migstream-cat --extract=0 reply-ok.vms
}

@test "vectors: --passthrough copies good vectors exactly, bad ones up to the bad record" {
	for v in *.vms; do
		status=0
		migstream-cat -q --passthrough "$v" >copy 2>err || status=$?
		if [ "$status" -eq 0 ]; then
			cmp "$v" copy
		else
			[ "$status" -eq 4 ]
			# the copy ends exactly where the bad record starts
			bad_at=$(sed -nE 's/.* at byte ([0-9]+): .*/\1/p' err)
			[ "$(vmt_size copy)" -eq "$bad_at" ]
			head -c "$bad_at" "$v" | cmp - copy
		fi
	done
}

@test "vectors: --extract, --wrap and --recompress round trips of every good vector" {
	for v in $(good_vectors); do
		migstream-cat --recompress=3 "$v" >z.vms
		migstream-cat --recompress=none z.vms >back.vms
		migstream-cat --verify z.vms
		migstream-cat --verify back.vms
		# a channel stays that channel; its bytes alone are no device state
		case $v in channel-*) continue ;; esac
		for dev in $(migstream-cat --json -o type,device "$v" | sed -nE 's/.*"type": "DEVICE", "device": ([0-9]+).*/\1/p'); do
			migstream-cat --extract="$dev" "$v" >a
			migstream-cat --extract="$dev" z.vms >b
			migstream-cat --extract="$dev" back.vms >c
			cmp a b
			cmp a c
			migstream-cat --wrap a | migstream-cat --extract=0 | cmp - a
		done
	done
}

@test "vectors: the channel set merges to one-device.vms's data; one channel refuses --extract" {
	migstream-cat --merge -o merged.vms channel-1.vms channel-0.vms
	migstream-cat --verify merged.vms
	migstream-cat --extract=0 one-device.vms >want
	migstream-cat --extract=0 merged.vms | cmp - want
	vmt_run_error 4 'channel-0\.vms: is channel 0 of 2 of a set' migstream-cat --extract=0 channel-0.vms
	[ -z "$output" ]
	migstream-cat --recompress=3 channel-1.vms >z1.vms
	migstream-cat --merge channel-0.vms z1.vms | migstream-cat --extract=0 | cmp - want
	vmt_run_error 4 'channel 1 of 2 is missing' migstream-cat --merge channel-0.vms
}
