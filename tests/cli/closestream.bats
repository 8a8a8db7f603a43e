#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
#
# lib/common/closestream: a listing whose reader goes away (`| head -1`) ends
# quietly with status 0, as ls and lsblk do; binary output to a closed pipe
# is still an error. vmt_reader_gone (helpers.bash) gives each command a
# pipe whose reader has already gone, so every run meets EPIPE. vfio-mig-ls
# has its own case in vfio-mig-ls.bats.

load helpers

setup() {
	vmt_require_tool migstream-cat
	cd "$VMT_TMP"
	# 4096 DATA records: a listing far longer than a pipe holds
	vmt_make_stream s.vms 256K --chunk-size=64
}

@test "migstream-cat listing, JSON listing and --dirty to a gone reader: exit 0, silent" {
	vmt_run 0 vmt_reader_gone migstream-cat s.vms
	[ -z "$stderr" ]
	vmt_run 0 vmt_reader_gone migstream-cat --json s.vms
	[ -z "$stderr" ]
	vmt_run 0 vmt_reader_gone migstream-cat --dirty s.vms
	[ -z "$stderr" ]
}

@test "migstream-cat | head -1: the first line, status 0, nothing on stderr" {
	migstream-cat s.vms >full.txt
	run --separate-stderr bash -c 'set -o pipefail; migstream-cat s.vms | head -1'
	[ "$status" -eq 0 ]
	[ "$output" = "$(head -1 full.txt)" ]
	[ -z "$stderr" ]
}

@test "a bad stream still says so when the reader is gone too" {
	cp s.vms bad.vms
	vmt_flip_byte bad.vms 20
	vmt_run 4 vmt_reader_gone migstream-cat bad.vms
	vmt_one_line_error migstream-cat 'record'
}

@test "binary output to a gone reader is an error: --extract, --wrap, --recompress, --passthrough" {
	vmt_run 1 vmt_reader_gone migstream-cat --extract=0 s.vms
	vmt_one_line_error migstream-cat 'write error on standard output: Broken pipe'
	vmt_run 1 vmt_reader_gone migstream-cat --wrap s.vms.raw
	vmt_one_line_error migstream-cat 'Broken pipe'
	vmt_run 1 vmt_reader_gone migstream-cat --recompress=1 s.vms
	vmt_one_line_error migstream-cat 'Broken pipe'
	vmt_run 1 vmt_reader_gone migstream-cat -q --passthrough s.vms
	[[ "$stderr" == *"Broken pipe"* ]]
}

@test "a listing to a full disk is still an error" {
	[ -w /dev/full ] || skip "no /dev/full"
	vmt_run 1 sh -c 'migstream-cat s.vms >/dev/full'
	vmt_one_line_error migstream-cat 'write error on standard output: No space left on device'
}

@test "uffd-probe tables and JSON to a gone reader: exit 0, silent" {
	vmt_require_tool uffd-probe
	vmt_run 0 vmt_reader_gone uffd-probe --list-profiles
	[ -z "$stderr" ]
	vmt_run 0 vmt_reader_gone uffd-probe --list-profiles --json
	[ -z "$stderr" ]
	run --separate-stderr vmt_reader_gone uffd-probe
	[ -z "$stderr" ]
	# whatever uffd-probe found, the closed pipe is not what decides the status
	[ "$status" -ne 1 ]
}
