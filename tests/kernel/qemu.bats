#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Real QEMU 10 migrations of an mtty, read by migstream-cat (issue 24):
# QEMU in the guest (tests/kernel/run --with-qemu, a separate boot that
# check-kernel makes for this file) migrates mtty A, given a distinctive
# state (mtty-regs set), to file:, live through exec:, with switchover-ack
# to a destination QEMU, and over multifd to a destination QEMU through a
# relay that captures every connection.  Each time migstream-cat lists,
# verifies and extracts what QEMU sent, and `--from-qemu | vfio-mig-load`
# gives another mtty A's registers and FIFO (mtty-regs show).
#
# The damaged-stream tests take the golden stream of tests/vectors/qemu/
# (copied in as /vmt/data/qemu) and need no QEMU.

load helpers
load qemu-helpers

VFIO_ID=0000:00:01.0/vfio
VECTORS=${VMT_DATA:-/vmt/data}/qemu

setup() {
	vmt_require_guest
	T=$BATS_TEST_TMPDIR
}

teardown() {
	qemu_quit_all
	mtty_remove_all
}

# mtty_a: mtty A, with the state the tests look for in the others.
mtty_a() {
	A=$(mtty_create)
	mtty-regs set "$(mdev_cdev "$A")"
}

# mtty_target VAR: a fresh mtty; VAR gets its UUID, VAR_CDEV its cdev.
mtty_target() {
	local uuid
	uuid=$(mtty_create) || return 1
	printf -v "$1" '%s' "$uuid"
	printf -v "${1}_CDEV" '%s' "$(mdev_cdev "$uuid")"
	vmt_wait_node "$(mdev_cdev "$uuid")"
}

# has_a_state CDEV: the device's registers and FIFO are A's.
has_a_state() {
	local got
	got=$(mtty-regs show "$1")
	echo "$1: $got"
	[ "$got" = "$MTTY_REGS_SET" ]
}

# main_channel_first FILE...: the files with QEMU's main channel (QEVM)
# first: the relay numbers connections in accept order, which is QEMU's.
main_channel_first() {
	local f main='' rest=()
	for f in "$@"; do
		if [ "$(head -c 4 "$f")" = QEVM ]; then
			main=$f
		else
			rest+=("$f")
		fi
	done
	[ -n "$main" ] || { echo "no capture starts with QEVM" >&2; return 1; }
	echo "$main" "${rest[@]}"
}

# ---- with QEMU -------------------------------------------------------------

@test "file: QEMU 10 migrates mtty A; listed, verified, --extract is query-migrate's vfio bytes, --from-qemu | vfio-mig-load gives B A's state" {
	qemu_require
	mtty_a
	mtty_target B
	qemu_start src "$A"
	qmp_migrate src "file:$T/q.mig"
	answer=$(qemu_wait_migration src)
	echo "$answer"
	xfer=$(vfio_transferred "$answer")
	[ "$xfer" -gt 0 ]
	qemu_quit src

	migstream-cat "$T/q.mig" | tee "$T/listing"
	grep -qF "$VFIO_ID" "$T/listing"
	migstream-cat --verify "$T/q.mig"
	migstream-cat --extract="$VFIO_ID" "$T/q.mig" >"$T/raw"
	[ "$(stat -c %s "$T/raw")" -eq "$xfer" ]

	migstream-cat --from-qemu "$T/q.mig" | vfio-mig-load --json "$B_CDEV" 2>"$T/load.json"
	cat "$T/load.json"
	[ "$(json_num "$T/load.json" state_bytes)" -eq "$xfer" ]
	[ "$(json_str "$T/load.json" final_state)" = RUNNING ]
	has_a_state "$B_CDEV"
}

@test "exec: live, QEMU -> tee -> migstream-cat --from-qemu | vfio-mig-load: B gets A's state, the copy is what QEMU sent" {
	qemu_require
	mtty_a
	mtty_target B
	qemu_start src "$A"
	# QEMU runs the command with /bin/sh -c; its status comes back in a file
	qmp_migrate src "exec:tee $T/q.mig | migstream-cat --from-qemu | vfio-mig-load --json $B_CDEV 2>$T/load.json; echo \$? >$T/load.rc"
	answer=$(qemu_wait_migration src)
	echo "$answer"
	xfer=$(vfio_transferred "$answer")
	for _ in $(seq 300); do
		[ -s "$T/load.rc" ] && break
		sleep 0.1
	done
	cat "$T/load.json"
	[ "$(cat "$T/load.rc")" = 0 ]
	[ "$(json_num "$T/load.json" state_bytes)" -eq "$xfer" ]
	has_a_state "$B_CDEV"
	migstream-cat --verify "$T/q.mig"
	[ "$(migstream-cat --extract="$VFIO_ID" "$T/q.mig" | wc -c)" -eq "$xfer" ]
}

@test "switchover-ack: source -> capture relay -> destination QEMU (return path): the destination loads B, the capture lists the DEV_INIT_DATA_SENT marks and loads C" {
	qemu_require
	mtty_a
	mtty_target B
	mtty_target C
	qemu_start src "$A"
	qemu_start dst "$B" -incoming defer
	qmp_caps src return-path switchover-ack
	qmp_caps dst return-path switchover-ack
	qmp_migrate_incoming dst unix:$T/dst.sock
	capture-relay --listen unix:$T/relay.sock --connect unix:$T/dst.sock \
		--prefix "$T/ack" --ready "$T/relay.ready" 3>&- &
	relay=$!
	vmt_wait_node "$T/relay.ready"
	qmp_migrate src unix:$T/relay.sock
	answer=$(qemu_wait_migration src)
	echo "$answer"
	xfer=$(vfio_transferred "$answer")
	qemu_wait_migration dst
	wait "$relay"
	qemu_resume_destination dst
	qemu_quit dst
	has_a_state "$B_CDEV"

	migstream-cat "$T/ack.0" | tee "$T/listing"
	grep -qF "$VFIO_ID" "$T/listing"
	grep -q 'INIT_DATA_SENT' "$T/listing"
	migstream-cat --verify "$T/ack.0"
	[ "$(migstream-cat --extract="$VFIO_ID" "$T/ack.0" | wc -c)" -eq "$xfer" ]
	migstream-cat --from-qemu <"$T/ack.0" | vfio-mig-load --json "$C_CDEV" 2>"$T/load.json"
	cat "$T/load.json"
	[ "$(json_num "$T/load.json" state_bytes)" -eq "$xfer" ]
	has_a_state "$C_CDEV"
}

@test "multifd: 2 channels, x-migration-multifd-transfer=on, through a relay: the destination completes, --from-qemu of the 3 captures loads C" {
	qemu_require
	mtty_a
	mtty_target B
	mtty_target C
	QEMU_VFIO_PROPS=x-migration-multifd-transfer=on
	qemu_start src "$A"
	qemu_start dst "$B" -incoming defer
	for q in src dst; do
		qmp_caps $q multifd
		qmp_params $q '"multifd-channels": 2'
	done
	qmp_migrate_incoming dst tcp:127.0.0.1:4444
	capture-relay --listen tcp:127.0.0.1:4445 --connect tcp:127.0.0.1:4444 \
		--prefix "$T/mfd" --connections 3 --ready "$T/relay.ready" 3>&- &
	relay=$!
	vmt_wait_node "$T/relay.ready"
	qmp_migrate src tcp:127.0.0.1:4445
	answer=$(qemu_wait_migration src)
	echo "$answer"
	# over multifd QEMU's vfio figure counts the config state's packet too
	# (4216 here), so the device's own bytes are mtty's known 24 + 36
	[ "$(vfio_transferred "$answer")" -gt 60 ]
	xfer=60
	qemu_wait_migration dst
	wait "$relay"
	qemu_resume_destination dst
	qemu_quit dst
	has_a_state "$B_CDEV"

	read -ra captures < <(main_channel_first "$T"/mfd.[0-9])
	[ "${#captures[@]}" -eq 3 ]
	migstream-cat --from-qemu "${captures[@]}" | vfio-mig-load --json "$C_CDEV" 2>"$T/load.json"
	cat "$T/load.json"
	[ "$(json_num "$T/load.json" state_bytes)" -eq "$xfer" ]
	has_a_state "$C_CDEV"
}

# ---- golden streams, no QEMU needed -----------------------------------------

golden() {
	GOLDEN=$VECTORS/qemu10-mtty-file.mig
	[ -r "$GOLDEN" ] || skip "no golden QEMU stream in $VECTORS (tests/vectors/qemu, run --data)"
}

# be64_at FILE OFF: the 8 bytes at OFF as 16 hex digits.
be64_at() {
	od -An -tx1 -j "$2" -N8 "$1" | tr -d ' \n'
}

# put_bytes FILE OFF HEX: overwrites bytes at OFF with HEX (pairs of digits).
put_bytes() {
	local file=$1 off=$2 hex=$3 esc=
	while [ -n "$hex" ]; do
		esc+="\\x${hex:0:2}"
		hex=${hex:2}
	done
	printf "$esc" | dd of="$file" bs=1 seek="$off" conv=notrunc 2>/dev/null
}

# damaged_load FILE: --from-qemu FILE | vfio-mig-load B; sets cat_status,
# load_status, cat_err (migstream-cat's standard error).
damaged_load() {
	# each side's status in a file: under bats' errexit a failing command
	# would end its side (and the test) before it said anything
	{
		local rc=0
		migstream-cat --from-qemu "$1" 2>"$T/cat.err" || rc=$?
		echo "$rc" >"$T/cat.rc"
	} | {
		local rc=0
		vfio-mig-load --json "$B_CDEV" 2>"$T/load.json" || rc=$?
		echo "$rc" >"$T/load.rc"
	}
	cat_status=$(cat "$T/cat.rc") load_status=$(cat "$T/load.rc")
	cat_err=$(cat "$T/cat.err")
	echo "migstream-cat: $cat_status: $cat_err"
	echo "vfio-mig-load: $load_status"
	cat "$T/load.json"
}

# b_never_loaded: the load failed and B does not hold A's state: its
# registers are those of a fresh mtty, and it is RUNNING again.
b_never_loaded() {
	local fresh got
	[ "$load_status" -ne 0 ]
	[ "$(json_str "$T/load.json" final_state)" = RUNNING ]
	mtty_target F
	fresh=$(mtty-regs show "$F_CDEV")
	got=$(mtty-regs show "$B_CDEV")
	echo "B: $got; fresh: $fresh"
	[ "$got" = "$fresh" ]
}

@test "golden stream: --from-qemu | vfio-mig-load gives B A's state (no QEMU needed)" {
	golden
	mtty_target B
	migstream-cat --from-qemu "$GOLDEN" | vfio-mig-load --json "$B_CDEV" 2>"$T/load.json"
	cat "$T/load.json"
	[ "$(json_num "$T/load.json" state_bytes)" -eq 60 ]
	has_a_state "$B_CDEV"
}

@test "golden stream cut at every tenth of its length: exit 4, one line; B never left loaded" {
	golden
	local size i cut
	size=$(stat -c %s "$GOLDEN")
	for i in 1 3 5 7 9; do
		cut=$((size * i / 10))
		head -c "$cut" "$GOLDEN" >"$T/cut"
		run migstream-cat --verify "$T/cut"
		echo "verify, cut at $cut: $status: $output"
		[ "$status" -eq 4 ]
		[ "${#lines[@]}" -eq 1 ]
		mtty_target B
		damaged_load "$T/cut"
		[ "$cat_status" -eq 4 ]
		[ "$(wc -l <"$T/cat.err")" -eq 1 ]
		b_never_loaded
		mtty_remove_all
	done
}

# Offsets in qemu10-mtty-file.mig (tests/vectors/qemu/README): the
# pre-copy DEV_DATA_STATE mark (its be64 size and mtty's 24 bytes follow)
# and the END_OF_STATE mark after them.  mark_at checks the mark is there,
# so a remade vector cannot turn these tests into tests of other bytes.
GOLDEN_DATA_MARK=285
GOLDEN_END_MARK=325
mark_at() { # OFF HEX16
	[ "$(be64_at "$GOLDEN" "$1")" = "$2" ] ||
		{ echo "no mark $2 at $1 of $GOLDEN: remade vector? update the offsets" >&2; return 1; }
}

@test "golden stream, a VFIO DEV_DATA_STATE size of 2^62: exit 4 naming the section, no allocation; B never left loaded" {
	golden
	mtty_target B
	local off=$GOLDEN_DATA_MARK
	# QEMU's VFIO_MIG_FLAG_DEV_DATA_STATE, then the be64 size of the data
	mark_at "$off" ffffffffef100004
	cp "$GOLDEN" "$T/bad"
	put_bytes "$T/bad" $((off + 8)) 4000000000000000
	run migstream-cat --verify "$T/bad"
	echo "$status: $output"
	[ "$status" -eq 4 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ $output == *"$VFIO_ID"* ]]
	damaged_load "$T/bad"
	[ "$cat_status" -eq 4 ]
	[ "$(wc -l <"$T/cat.err")" -eq 1 ]
	b_never_loaded
}

@test "golden stream, a VFIO END_OF_STATE mark flipped: exit 4 naming the section; B never left loaded" {
	golden
	mtty_target B
	local off=$GOLDEN_END_MARK
	# the end of the first DEV_DATA_STATE's data: the mark after it
	mark_at "$off" ffffffffef100001
	cp "$GOLDEN" "$T/bad"
	put_bytes "$T/bad" $((off + 7)) 77
	run migstream-cat --verify "$T/bad"
	echo "$status: $output"
	[ "$status" -eq 4 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ $output == *"$VFIO_ID"* ]]
	damaged_load "$T/bad"
	[ "$cat_status" -eq 4 ]
	b_never_loaded
}

@test "golden stream, mtty's own state header corrupted: the QEMU framing is intact, mtty refuses it, B reset (exit 4)" {
	golden
	mtty_target B
	local off=$GOLDEN_DATA_MARK
	mark_at "$off" ffffffffef100004
	cp "$GOLDEN" "$T/bad"
	# the first data byte after the mark and its be64 size: mtty's magic
	put_bytes "$T/bad" $((off + 16)) 00
	migstream-cat --verify "$T/bad"
	damaged_load "$T/bad"
	[ "$cat_status" -eq 0 ]
	[ "$load_status" -eq 4 ]
	b_never_loaded
}
