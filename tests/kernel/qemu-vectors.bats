#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Makes the golden QEMU streams of tests/vectors/qemu/ (not part of
# check-kernel): real QEMU 10 migrations of an mtty with a distinctive state,
# each printed on the console in base64 between VMT-FILE markers, with the
# QMP answers that describe it.  Run it through tests/kernel/make-qemu-vectors,
# which boots the guest and writes the files out.

load helpers
load qemu-helpers

setup() {
	qemu_require
	T=$BATS_TEST_TMPDIR
	A=$(mtty_create)
	mtty-regs set "$(mdev_cdev "$A")"
}

teardown() {
	qemu_quit_all
	mtty_remove_all
}

# emit NAME FILE: the file on the console, for make-qemu-vectors.
emit() {
	{
		echo "VMT-FILE-BEGIN $1 $(stat -c %s "$2") $(sha256sum <"$2" | cut -d' ' -f1)"
		base64 "$2"
		echo "VMT-FILE-END $1"
	} >&3
}

# note NAME TEXT...: a line for the vector's README.
note() {
	local name=$1
	shift
	echo "VMT-NOTE $name $*" >&3
}

note_run() { # NAME: the QEMU version, mtty A's state, the command lines
	note "$1" "qemu: $VMT_QEMU_VERSION"
	note "$1" "mtty A: $MTTY_REGS_SET (tests/kernel/mtty-regs set)"
}

@test "file: mtty A migrated to a file" {
	note_run file
	qemu_start src "$A"
	note file "src: qemu-system-x86_64 -machine q35 -nodefaults -m 16 -display none -S" \
		"-device vfio-pci,sysfsdev=/sys/bus/mdev/devices/UUID -qmp stdio"
	qmp_migrate src "file:$T/file.mig"
	note file "src: migrate file:FILE"
	answer=$(qemu_wait_migration src)
	note file "src query-migrate: $answer"
	emit qemu10-mtty-file.mig "$T/file.mig"
}

@test "exec: mtty A migrated live through exec:cat" {
	note_run exec
	qemu_start src "$A"
	qmp_migrate src "exec:cat > $T/exec.mig"
	note exec "src: as file:, migrate \"exec:cat > FILE\""
	answer=$(qemu_wait_migration src)
	note exec "src query-migrate: $answer"
	emit qemu10-mtty-exec.mig "$T/exec.mig"
}

@test "switchover-ack: source -> relay -> destination over a unix socket, return path" {
	local B
	B=$(mtty_create)
	note_run ack
	qemu_start src "$A"
	qemu_start dst "$B" -incoming defer
	for q in src dst; do
		qmp_caps $q return-path switchover-ack
	done
	note ack "src, dst: migrate-set-capabilities return-path, switchover-ack; dst: -incoming defer"
	qmp_migrate_incoming dst unix:$T/dst.sock
	capture-relay --listen unix:$T/relay.sock --connect unix:$T/dst.sock \
		--prefix "$T/ack" --connections 1 --ready "$T/relay.ready" 3>&- &
	relay=$!
	vmt_wait_node "$T/relay.ready"
	qmp_migrate src unix:$T/relay.sock
	note ack "dst: migrate-incoming unix:DIR/dst.sock; capture-relay relay.sock -> dst.sock; src: migrate unix:DIR/relay.sock"
	answer=$(qemu_wait_migration src)
	note ack "src query-migrate: $answer"
	answer=$(qemu_wait_migration dst)
	note ack "dst query-migrate: $answer"
	wait $relay
	qemu_resume_destination dst
	qemu_quit dst
	note ack "mtty B after the load: $(mtty-regs show "$(mdev_cdev "$B")" 2>&1)"
	emit qemu10-mtty-switchover-ack.mig "$T/ack.0"
	emit qemu10-mtty-switchover-ack.mig.back "$T/ack.0.back"
}

@test "multifd: 2 channels, x-migration-multifd-transfer=on, each connection captured" {
	local B
	B=$(mtty_create)
	note_run multifd
	QEMU_VFIO_PROPS=x-migration-multifd-transfer=on
	qemu_start src "$A"
	qemu_start dst "$B" -incoming defer
	for q in src dst; do
		qmp_caps $q multifd
		qmp_params $q '"multifd-channels": 2'
	done
	note multifd "src, dst: -device vfio-pci,sysfsdev=...,x-migration-multifd-transfer=on;" \
		"migrate-set-capabilities multifd; migrate-set-parameters multifd-channels 2; dst: -incoming defer"
	qmp_migrate_incoming dst tcp:127.0.0.1:4444
	capture-relay --listen tcp:127.0.0.1:4445 --connect tcp:127.0.0.1:4444 \
		--prefix "$T/multifd" --connections 3 --ready "$T/relay.ready" 3>&- &
	relay=$!
	vmt_wait_node "$T/relay.ready"
	qmp_migrate src tcp:127.0.0.1:4445
	note multifd "dst: migrate-incoming tcp:127.0.0.1:4444; capture-relay 4445 -> 4444 (3 connections, numbered in accept order); src: migrate tcp:127.0.0.1:4445"
	answer=$(qemu_wait_migration src)
	note multifd "src query-migrate: $answer"
	answer=$(qemu_wait_migration dst)
	note multifd "dst query-migrate: $answer"
	wait $relay
	qemu_resume_destination dst
	qemu_quit dst
	note multifd "mtty B after the load: $(mtty-regs show "$(mdev_cdev "$B")" 2>&1)"
	for i in 0 1 2; do
		emit "qemu10-mtty-multifd.$i" "$T/multifd.$i"
	done
}
