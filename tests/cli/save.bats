#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
#
# vfio-mig-save on the simulator (tests/sim): stop-copy and pre-copy saves
# checked against what the simulated devices recorded (bytes, digest, arcs,
# final state), options, and every failure path with the source device's
# state afterwards.

load helpers
load save-helpers

setup() {
	save_setup
}

# ---- command line ----

@test "--help prints usage on stdout and exits 0" {
	vmt_run 0 vfio-mig-save --help
	[[ "$output" == Usage:* ]]
	[[ "$output" == *--control-fd* ]]
	[[ "$output" == *--then* ]]
	[ -z "$stderr" ]
}

@test "--version" {
	vmt_run 0 vfio-mig-save -V
	[[ "$output" =~ ^vfio-mig-save\ \(vfio-migtools\)\ [0-9]+\.[0-9]+\.[0-9]+$ ]]
}

@test "--describe with --return-fd: a usage error naming both" {
	vmt_run 2 vfio-mig-save --describe --return-fd 0 -d vfio0
	vmt_one_line_error vfio-mig-save "--describe and --return-fd cannot be combined"
}

@test "usage errors exit 2 with one line and the --help hint" {
	vmt_run 2 vfio-mig-save
	vmt_one_line_error vfio-mig-save "no device given"
	vmt_run 2 vfio-mig-save -d vfio0 --then resuming
	vmt_one_line_error vfio-mig-save "invalid --then argument: 'resuming'"
	vmt_run 2 vfio-mig-save -d vfio0 --precopy --no-precopy
	vmt_one_line_error vfio-mig-save "cannot be combined"
	vmt_run 2 vfio-mig-save -d vfio0 --chunk-size 100
	vmt_one_line_error vfio-mig-save "invalid --chunk-size"
	vmt_run 2 vfio-mig-save -d vfio0 --no-precopy --threshold 1M
	vmt_one_line_error vfio-mig-save "are for pre-copy"
	vmt_run 2 vfio-mig-save -d vfio0 -d vfio0
	vmt_one_line_error vfio-mig-save "given twice"
	vmt_run 2 vfio-mig-save -d vfio0 --control-fd 77
	vmt_one_line_error vfio-mig-save "not an open file descriptor"
	vmt_run 2 vfio-mig-save -d vfio0 -z20
	vmt_one_line_error vfio-mig-save "invalid --compress"
	vmt_run 2 vfio-mig-save -d vfio0 --bogus
	vmt_one_line_error vfio-mig-save "bogus"
}

@test "binary output to a terminal is refused unless -f" {
	command -v script >/dev/null || skip "script(1) not installed"
	run script -qec "vfio-mig-save -d vfio0" /dev/null
	[ "$status" -eq 2 ]
	[[ "$output" == *"refusing to write binary data to a terminal"* ]]
	# with -f the terminal is accepted (and the missing device is the next problem)
	run script -qec "vfio-mig-save -f -d /dev/vfio/devices/vfio0" /dev/null
	[ "$status" -eq 1 ]
	[[ "$output" == *"cannot open the device"* ]]
}

@test "--progress draws on stderr; errors stay one line without it" {
	vmt_run 0 sim --device vfio0,size=3M,precopy-initial=1M -- vfio-mig-save --progress -d vfio0 -o p.vms
	# lib/common/progress: the stop-copy total is the device's MIG_DATA_SIZE; the line is erased
	[[ "$stderr" == *$'\r'"vfio-mig-save: stop-copy: 3.0 MiB of 3.0 MiB (100%), "*"iB/s"$'\e[K'* ]]
	[[ "$stderr" == *$'\r\e[K'"vfio-mig-save: saved 1 device"* ]]

	# a slow device: percent and ETA while pre-copy and stop-copy go on
	rm -rf "$SIM"
	vmt_run 0 sim --device vfio0,size=3M,precopy-initial=1M,read-delay-ms=100,chunk=256K -- \
		vfio-mig-save --progress -d vfio0 -o p.vms
	[[ "$stderr" == *$'\r'"vfio-mig-save: pre-copy round 1: "*" of 1.0 MiB ("* ]]
	[[ "$stderr" == *$'\r'"vfio-mig-save: stop-copy: "*" of 3.0 MiB ("*"%), "*"/s, ETA "* ]]
}

# ---- stop-copy ----

@test "stop-copy save: the stream verifies and holds exactly the device's state" {
	vmt_run 0 sim --device vfio0,size=3M,seed=5 -- \
		vfio-mig-save --no-precopy -d /dev/vfio/devices/vfio0 -o s.vms --summary-file summary.json
	vmt_run 0 migstream-cat --verify s.vms
	migstream-cat --extract=0 s.vms >state.bin
	[ "$(vmt_size state.bin)" -eq $((3 << 20)) ]
	[ "$(simstate vfio0 saved_bytes)" -eq $((3 << 20)) ]
	[ "$(simstate vfio0 save_complete)" = 1 ]
	[ "$(simstate vfio0 precopy_bytes)" -eq 0 ]
	stream_json s.vms
	[ "$(stream_digest s.vms 0)" = "$(simstate vfio0 save_digest)" ]
	[ "$(count_records s.vms DATA STOP_COPY)" -eq 3 ]
	[ "$(count_records s.vms PRECOPY_INFO)" -eq 0 ]
	# P2P first, STOP_COPY, then the default --then stop.
	[ "$(simstate vfio0 arcs)" = "RUNNING>RUNNING_P2P,RUNNING_P2P>STOP,STOP>STOP_COPY,STOP_COPY>STOP" ]
	[ "$(simstate vfio0 last_state)" = STOP ]
	[ "$(simstate vfio0 resets)" -eq 0 ]
	[ "$(summary ok)" = true ]
	[ "$(summary switchover)" = none ]
	[ "$(summary 'devices[0].stop_copy_bytes')" -eq $((3 << 20)) ]
	[ "$(summary 'devices[0].final_state')" = STOP ]
	[ "$(summary 'devices[0].access')" = cdev ]
}

@test "stop-copy to stdout through a pipe; the summary goes to stderr" {
	vmt_run 0 sim --device vfio0,size=200K -- sh -c 'vfio-mig-save vfio0 --no-precopy | migstream-cat --verify'
	[[ "$stderr" == *"saved 1 device"* ]]
	[[ "$stderr" == *"stop-copy (device part of downtime)"* ]]
	[ "$(simstate vfio0 save_complete)" = 1 ]
}

@test "a device without P2P goes RUNNING -> STOP_COPY (the kernel walks STOP)" {
	vmt_run 0 sim --device vfio0,flags=stop-copy,size=64K -- vfio-mig-save -q vfio0 -o s.vms
	[ "$(simstate vfio0 arcs)" = "RUNNING>STOP,STOP>STOP_COPY,STOP_COPY>STOP" ]
	[ -z "$stderr" ]
	vmt_run 0 migstream-cat --verify s.vms
}

@test "--then running leaves the device running" {
	vmt_run 0 sim --device vfio0,size=64K -- vfio-mig-save -q --no-precopy --then running vfio0 -o s.vms
	[ "$(simstate vfio0 last_state)" = RUNNING ]
	[[ "$(simstate vfio0 arcs)" == *STOP_COPY\>STOP,STOP\>RUNNING_P2P,RUNNING_P2P\>RUNNING ]]
}

@test "--chunk-size sets the DATA record size" {
	vmt_run 0 sim --device vfio0,size=64K -- vfio-mig-save -q --no-precopy --chunk-size 4K vfio0 -o s.vms
	stream_json s.vms
	[ "$(count_records s.vms DATA STOP_COPY)" -eq 16 ]
}

@test "a driver returning short reads (chunk=) still gives whole records" {
	vmt_run 0 sim --device vfio0,size=1M,chunk=1000 -- vfio-mig-save -q --no-precopy vfio0 -o s.vms
	stream_json s.vms
	[ "$(count_records s.vms DATA STOP_COPY)" -eq 1 ]
	vmt_run 0 migstream-cat --verify s.vms
}

@test "-z compresses records; incompressible device data stays valid" {
	vmt_run 0 sim --device vfio0,size=1M -- vfio-mig-save -q -z --no-precopy vfio0 -o z.vms
	vmt_run 0 sim --device vfio0,size=1M -- vfio-mig-save -q -z19 --no-precopy vfio0 -o z19.vms
	vmt_run 0 migstream-cat --verify z.vms
	vmt_run 0 migstream-cat --verify z19.vms
	# -z before the device: the device is the device, not a level
	vmt_run 0 sim --device vfio0,size=1M -- vfio-mig-save -q --no-precopy -z vfio0 -o zv.vms
	vmt_run 0 migstream-cat --verify zv.vms
	migstream-cat --extract=0 z.vms >z.bin
	[ "$(vmt_size z.bin)" -eq $((1 << 20)) ]
	stream_json z.vms
	[ "$(stream_digest z.vms 0)" = "$(simstate vfio0 save_digest)" ]
}

# ---- naming devices ----

@test "a PCI address, short or long, finds the cdev; --group takes the legacy path" {
	vmt_run 0 sim --device vfio0,bdf=0000:3b:00.1,vendor=0x15b3,device=0x101e,size=64K -- \
		vfio-mig-save -q --no-precopy -d 3b:00.1 -o a.vms --summary-file summary.json
	[ "$(summary 'devices[0].access')" = cdev ]
	[ "$(summary 'devices[0].node')" = /dev/vfio/devices/vfio0 ]
	stream_json a.vms
	jq -r 'select(.type == "DEVICE") | .info' a.vms.json | grep -q 'name=3b:00.1 driver=vfio-pci'
	jq -r 'select(.type == "DEVICE") | .info' a.vms.json | grep -q 'pci=15b3:101e'
	vmt_run 0 sim --device vfio0,bdf=0000:3b:00.1,group=7,size=64K -- \
		vfio-mig-save -q --no-precopy --group -d 0000:3b:00.1 -o b.vms --summary-file summary.json
	[ "$(summary 'devices[0].access')" = group ]
	[ "$(summary 'devices[0].node')" = /dev/vfio/7 ]
	vmt_run 0 migstream-cat --verify b.vms
	[ "$(simstate vfio0 save_complete)" = 1 ]
}

@test "an mdev UUID; the DEVICE record carries the mdev type" {
	uuid=83b8f4f2-509f-382f-3c1e-e6bfe0fa1001
	vmt_run 0 sim --device vfio2,mdev=$uuid,mdev-type=mtty-2,size=60 -- \
		vfio-mig-save -q -d $uuid -o m.vms --summary-file summary.json
	stream_json m.vms
	jq -r 'select(.type == "DEVICE") | .info' m.vms.json | grep -q "mdev_type=mtty-2"
	[ "$(simstate vfio2 save_complete)" = 1 ]
}

@test "a device that does not exist, or is busy, or fd:N that is not open" {
	vmt_run 1 sim --device vfio0 -- vfio-mig-save -d /dev/vfio/devices/vfio9 -o s.vms
	vmt_one_line_error vfio-mig-save "/dev/vfio/devices/vfio9: cannot open the device: no such device"
	vmt_run 1 sim --device vfio0 -- vfio-mig-save -d 0000:09:00.0 -o s.vms
	vmt_one_line_error vfio-mig-save "0000:09:00.0: cannot open the device: no such device"
	vmt_run 1 sim --device vfio0,busy=yes -- vfio-mig-save -d vfio0 -o s.vms
	vmt_one_line_error vfio-mig-save "vfio0: cannot open the device: device busy"
	vmt_run 1 sim --device vfio0 -- vfio-mig-save -d fd:250 -o s.vms
	vmt_one_line_error vfio-mig-save "fd:250: cannot open the device: not an open file descriptor"
	[ ! -e s.vms ]
	# a name none of the forms parse is a usage error, found before anything is opened
	vmt_run 2 sim --device vfio0 -- vfio-mig-save -d not-a-device -o s.vms
	vmt_one_line_error vfio-mig-save "invalid device 'not-a-device' \(not vfioN, /dev/vfio/devices/vfioN, a PCI address"
	[ ! -e s.vms ]
}

@test "a device without migration support: exit 3" {
	vmt_run 3 sim --device vfio0,flags=none -- vfio-mig-save -d vfio0 -o s.vms
	vmt_one_line_error vfio-mig-save "vfio0: device does not support migration; device vfio0 untouched$"
	[ ! -e s.vms ]
	[ "$(simstate vfio0 transitions)" -eq 0 ]
}

@test "--precopy on a device without PRE_COPY: exit 3, device untouched" {
	vmt_run 3 sim --device vfio0,flags=stop-copy+p2p -- vfio-mig-save --precopy -d vfio0 -o s.vms
	vmt_one_line_error vfio-mig-save "vfio0: --precopy: device has no PRE_COPY \(migration flags STOP_COPY\|P2P\)"
	[ "$(simstate vfio0 transitions)" -eq 0 ]
}

# ---- pre-copy ----

@test "pre-copy by default: initial, dirty rounds, then stop-copy" {
	vmt_run 0 sim --device vfio0,size=1M,precopy-initial=256K,dirty-per-round=48K,dirty-rounds=3 -- \
		vfio-mig-save -d vfio0 -o p.vms --summary-file summary.json
	vmt_run 0 migstream-cat --verify p.vms
	stream_json p.vms
	[ "$(stream_digest p.vms 0)" = "$(simstate vfio0 save_digest)" ]
	[ "$(summary switchover)" = threshold ]
	[ "$(summary rounds)" -eq 4 ]
	[ "$(summary 'devices[0].precopy_initial_bytes')" -eq $((256 << 10)) ]
	[ "$(summary 'devices[0].precopy_dirty_bytes')" -eq $((3 * 48 << 10)) ]
	[ "$(summary 'devices[0].stop_copy_bytes')" -eq $((1 << 20)) ]
	[ "$(simstate vfio0 precopy_bytes)" -eq $((256 * 1024 + 3 * 48 * 1024)) ]
	# one PRECOPY_INFO before the first round and one after each round
	[ "$(count_records p.vms PRECOPY_INFO)" -eq 5 ]
	[ "$(count_records p.vms DATA PRECOPY_INITIAL)" -ge 1 ]
	[ "$(count_records p.vms DATA PRECOPY_DIRTY)" -eq 3 ]
	[ "$(simstate vfio0 arcs)" = "RUNNING>PRE_COPY,PRE_COPY>PRE_COPY_P2P,PRE_COPY_P2P>STOP_COPY,STOP_COPY>STOP" ]
	migstream-cat --extract=0 p.vms >state.bin
	[ "$(vmt_size state.bin)" -eq $((256 * 1024 + 3 * 48 * 1024 + 1024 * 1024)) ]
}

@test "pre-copy with a device that returns 0 at the temporary end (mtty)" {
	vmt_run 0 sim --device vfio0,size=60K,precopy-initial=24K,precopy-eof=zero,dirty-per-round=12K,dirty-rounds=1 -- \
		vfio-mig-save -d vfio0 -o p.vms --summary-file summary.json
	[ "$(summary rounds)" -eq 2 ]
	[ "$(simstate vfio0 save_complete)" = 1 ]
	[ "$(simstate vfio0 enomsg)" -eq 0 ]
	vmt_run 0 migstream-cat --verify p.vms
}

@test "--threshold switches over when the estimate is small enough" {
	vmt_run 0 sim --device vfio0,size=256K,precopy-initial=64K,dirty-per-round=48K,dirty-rounds=5 -- \
		vfio-mig-save -d vfio0 --threshold 48K -o p.vms --summary-file summary.json
	[ "$(summary switchover)" = threshold ]
	[ "$(summary rounds)" -eq 1 ]
	[ "$(summary 'devices[0].precopy_dirty_bytes')" -eq 0 ]
	vmt_run 0 migstream-cat --verify p.vms
	stream_json p.vms
	[ "$(stream_digest p.vms 0)" = "$(simstate vfio0 save_digest)" ]
}

@test "--max-rounds caps the pre-copy rounds" {
	vmt_run 0 sim --device vfio0,size=256K,precopy-initial=64K,dirty-per-round=48K,dirty-rounds=10 -- \
		vfio-mig-save -d vfio0 --max-rounds 3 -o p.vms --summary-file summary.json
	[ "$(summary switchover)" = max-rounds ]
	[ "$(summary rounds)" -eq 3 ]
	[ "$(summary 'devices[0].precopy_dirty_bytes')" -eq $((2 * 48 << 10)) ]
	vmt_run 0 migstream-cat --verify p.vms
}

@test "--no-precopy on a PRE_COPY device uses stop-copy only" {
	vmt_run 0 sim --device vfio0,size=64K -- vfio-mig-save --no-precopy -d vfio0 -o s.vms --summary-file summary.json
	[ "$(summary 'devices[0].precopy')" = false ]
	[ "$(simstate vfio0 precopy_bytes)" -eq 0 ]
}

@test "--control-fd: the switchover waits for a byte" {
	mkfifo ctl
	vmt_run 0 sim --device vfio0,size=64K,precopy-initial=16K -- bash -c '
		vfio-mig-save -d vfio0 --control-fd 3 -o p.vms --summary-file summary.json 3<>ctl &
		pid=$!
		# the device idles in PRE_COPY until told
		until grep -qx state=PRE_COPY "$SIM/vfio0.state"; do sleep 0.05; done
		sleep 0.3
		grep -qx state=PRE_COPY "$SIM/vfio0.state"
		echo x >ctl
		wait $pid'
	[ "$(summary switchover)" = control-fd ]
	[ "$(simstate vfio0 save_complete)" = 1 ]
	vmt_run 0 migstream-cat --verify p.vms
}

@test "SIGUSR1 asks for the switchover" {
	mkfifo ctl
	vmt_run 0 sim --device vfio0,size=64K,precopy-initial=16K -- bash -c '
		vfio-mig-save -d vfio0 --control-fd 3 -o p.vms --summary-file summary.json 3<>ctl &
		pid=$!
		until grep -qx state=PRE_COPY "$SIM/vfio0.state"; do sleep 0.05; done
		kill -USR1 $pid
		wait $pid'
	[ "$(summary switchover)" = signal ]
	vmt_run 0 migstream-cat --verify p.vms
}

@test "--max-precopy-time with --control-fd" {
	mkfifo ctl
	vmt_run 0 sim --device vfio0,size=64K,precopy-initial=16K -- bash -c '
		exec 3<>ctl
		vfio-mig-save -d vfio0 --control-fd 3 --max-precopy-time 200ms -o p.vms --summary-file summary.json'
	[ "$(summary switchover)" = max-precopy-time ]
	vmt_run 0 migstream-cat --verify p.vms
}

@test "the control fd closing before the switchover abandons the save; device RUNNING" {
	vmt_run 1 sim --device vfio0,size=64K,precopy-initial=16K -- bash -c '
		vfio-mig-save -d vfio0 --control-fd 3 -o p.vms 3</dev/null'
	vmt_one_line_error vfio-mig-save "control fd 3 was closed before the switchover; device vfio0 now RUNNING$"
	[ "$(simstate vfio0 last_state)" = RUNNING ]
	[ ! -e p.vms ]
}

# ---- several devices ----

@test "several devices: one stream, P2P quiesce of all before any STOP_COPY" {
	vmt_run 0 sim --device vfio0,size=128K,precopy-initial=32K,seed=11 \
		--device vfio1,size=64K,precopy-initial=16K,dirty-per-round=8K,dirty-rounds=2,seed=12 \
		--device vfio2,flags=stop-copy,size=32K,seed=13 -- \
		vfio-mig-save -v -d vfio0 -d vfio1 -d vfio2 -o m.vms --summary-file summary.json
	save_log=$stderr
	vmt_run 0 migstream-cat --verify m.vms
	stream_json m.vms
	for i in 0 1 2; do
		[ "$(stream_digest m.vms $i)" = "$(simstate vfio$i save_digest)" ]
		[ "$(simstate vfio$i save_complete)" = 1 ]
		[ "$(simstate vfio$i last_state)" = STOP ]
	done
	[ "$(count_records m.vms DEVICE)" -eq 3 ]
	[ "$(summary 'devices[2].precopy')" = false ]
	[ "$(simstate vfio2 arcs)" = "RUNNING>STOP,STOP>STOP_COPY,STOP_COPY>STOP" ]
	# every P2P quiesce comes before the first request for STOP_COPY
	order=$(printf '%s\n' "$save_log" | sed -n 's/.*: \(vfio[0-9]\): [A-Z_0-9]* -> \([A-Z_0-9]*\)$/\1>\2/p' | tr '\n' ' ')
	[[ "$order" == *"vfio0>PRE_COPY_P2P vfio1>PRE_COPY_P2P vfio0>STOP_COPY vfio1>STOP_COPY vfio2>STOP_COPY "* ]]
}

@test "several P2P devices started again (--then running, recovery): all RUNNING_P2P before any RUNNING" {
	local pattern='s/.*: \(vfio[0-9]\): [A-Z_0-9]* -> \([A-Z_0-9]*\)$/\1>\2/p'
	vmt_run 0 sim --device vfio0,size=64K --device vfio1,size=64K -- \
		vfio-mig-save -v --no-precopy --then running -d vfio0 -d vfio1 -o s.vms
	order=$(printf '%s\n' "$stderr" | sed -n "$pattern" | tr '\n' ' ')
	[[ "$order" == *"vfio1>STOP_COPY vfio0>RUNNING_P2P vfio1>RUNNING_P2P vfio0>RUNNING vfio1>RUNNING " ]]
	[ "$(simstate vfio0 last_state)" = RUNNING ]
	[ "$(simstate vfio1 last_state)" = RUNNING ]

	rm -rf "$SIM"
	vmt_run 1 sim --device vfio0,size=64K --device vfio1,size=64K,read-eio-after=16K -- \
		vfio-mig-save -v --no-precopy -d vfio0 -d vfio1 -o s.vms
	order=$(printf '%s\n' "$stderr" | sed -n "$pattern" | tr '\n' ' ')
	[[ "$order" == *"vfio1>STOP_COPY vfio0>RUNNING_P2P vfio1>RUNNING_P2P vfio0>RUNNING vfio1>RUNNING " ]]
	[[ "$stderr" == *"; device vfio0 now RUNNING; device vfio1 now RUNNING"* ]]
}

# ---- failures: the source device ends RUNNING and the message says so ----

@test "a failing STOP -> STOP_COPY arc: device back to RUNNING, exit 1" {
	vmt_run 1 sim --device vfio0,size=64K,fail=stop\>stop-copy:EIO -- vfio-mig-save --no-precopy -d vfio0 -o s.vms
	vmt_one_line_error vfio-mig-save "vfio0: RUNNING_P2P -> STOP_COPY failed: Input/output error; device vfio0 now RUNNING$"
	[ "$(simstate vfio0 last_state)" = RUNNING ]
	[ "$(simstate vfio0 resets)" -eq 0 ]
	[ ! -e s.vms ]
}

@test "a device entering ERROR is reset; the message says so" {
	vmt_run 1 sim --device vfio0,size=64K,error-on=stop\>stop-copy -- vfio-mig-save --no-precopy -d vfio0 -o s.vms
	vmt_one_line_error vfio-mig-save "STOP_COPY failed: .*device vfio0 reset, now RUNNING$"
	[ "$(simstate vfio0 resets)" -eq 1 ]
	[ "$(simstate vfio0 last_state)" = RUNNING ]
}

@test "EIO while reading STOP_COPY data: device back to RUNNING" {
	vmt_run 1 sim --device vfio0,size=1M,read-eio-after=300K -- \
		vfio-mig-save --no-precopy -d vfio0 -o s.vms --summary-file summary.json
	vmt_one_line_error vfio-mig-save "vfio0: reading STOP_COPY data at byte [0-9]+: Input/output error; device vfio0 now RUNNING$"
	[ "$(simstate vfio0 last_state)" = RUNNING ]
	[ "$(summary ok)" = false ]
	[ "$(summary stream_complete)" = false ]
	[ "$(summary 'devices[0].final_state')" = RUNNING ]
}

@test "EIO while reading pre-copy data: device back to RUNNING" {
	vmt_run 1 sim --device vfio0,size=1M,precopy-initial=512K,read-eio-after=100K -- vfio-mig-save -d vfio0 -o s.vms
	vmt_one_line_error vfio-mig-save "vfio0: reading pre-copy data at byte [0-9]+: Input/output error; device vfio0 now RUNNING$"
	[[ "$(simstate vfio0 arcs)" == RUNNING\>PRE_COPY,PRE_COPY\>RUNNING ]]
}

@test "the reader goes away (EPIPE): device back to RUNNING, exit 1" {
	vmt_run 0 sim --device vfio0,size=8M -- bash -c '
		vfio-mig-save --no-precopy -d vfio0 | head -c 1000 >/dev/null
		echo "status=${PIPESTATUS[0]}" >status'
	grep -qx status=1 status
	[[ "$stderr" =~ vfio-mig-save:\ error:\ \<stdout\>:\ at\ byte\ [0-9]+:\ writing\ the\ stream:\ Broken\ pipe\;\ device\ vfio0\ now\ RUNNING ]]
	[ "$(simstate vfio0 last_state)" = RUNNING ]
}

@test "a full disk (ENOSPC) at the start: exit 1, device untouched, /dev/full not removed" {
	[ -w /dev/full ] || skip "no /dev/full"
	vmt_run 1 sim --device vfio0,size=256K -- vfio-mig-save --no-precopy -d vfio0 -o /dev/full
	vmt_one_line_error vfio-mig-save "/dev/full: cannot start the stream: No space left on device; device vfio0 untouched$"
	[ -c /dev/full ]
	[ "$(simstate vfio0 transitions)" -eq 0 ]
}

@test "SIGTERM during pre-copy: stops cleanly, device RUNNING, file removed" {
	mkfifo ctl
	vmt_run 0 sim --device vfio0,size=64K,precopy-initial=16K -- bash -c '
		vfio-mig-save -d vfio0 --control-fd 3 -o p.vms 3<>ctl &
		pid=$!
		until grep -qx state=PRE_COPY "$SIM/vfio0.state"; do sleep 0.05; done
		kill -TERM $pid
		wait $pid
		echo "status=$?" >status'
	grep -qx status=1 status
	[[ "$stderr" == *"vfio-mig-save: error: interrupted by SIGTERM; device vfio0 now RUNNING"* ]]
	[ "$(simstate vfio0 last_state)" = RUNNING ]
	[ ! -e p.vms ]
}

@test "SIGINT during a slow stop-copy read: device RUNNING" {
	vmt_run 0 sim --device vfio0,size=4M,chunk=64K,read-delay-ms=50 -- bash -c '
		vfio-mig-save --no-precopy -d vfio0 -o s.vms &
		pid=$!
		until grep -qx state=STOP_COPY "$SIM/vfio0.state"; do sleep 0.02; done
		kill -INT $pid
		wait $pid
		echo "status=$?" >status'
	grep -qx status=1 status
	[[ "$stderr" == *"interrupted by SIGINT; device vfio0 now RUNNING"* ]]
	[ "$(simstate vfio0 last_state)" = RUNNING ]
	[ "$(simstate vfio0 save_complete)" = 0 ]
}

@test "SIGHUP (the terminal or ssh session gone) during pre-copy: device RUNNING, says so" {
	mkfifo ctl
	vmt_run 0 sim --device vfio0,size=64K,precopy-initial=16K -- bash -c '
		vfio-mig-save -d vfio0 --control-fd 3 -o p.vms 3<>ctl &
		pid=$!
		until grep -qx state=PRE_COPY "$SIM/vfio0.state"; do sleep 0.05; done
		kill -HUP $pid
		wait $pid
		echo "status=$?" >status'
	grep -qx status=1 status
	[[ "$stderr" == *"vfio-mig-save: error: interrupted by SIGHUP; device vfio0 now RUNNING"* ]]
	# killed by the signal, the simulated close would also say RUNNING: the arcs tell
	[[ "$(simstate vfio0 arcs)" == *"PRE_COPY>RUNNING"* ]]
	[ "$(simstate vfio0 last_state)" = RUNNING ]
	[ ! -e p.vms ]
}

@test "SIGINT while a data fd read is blocked in the driver: the read is not restarted" {
	# Each read sleeps 10 s in the "driver"; the signal ends the one under way
	# (EINTR). Restarting it would read on (10 s per 64K, until the buffer is
	# full) and save bytes after SIGINT.
	vmt_run 0 sim --device vfio0,size=4M,chunk=64K,read-delay-ms=10000 -- bash -c '
		vfio-mig-save --no-precopy --chunk-size 64K -d vfio0 -o s.vms &
		pid=$!
		until grep -qx state=STOP_COPY "$SIM/vfio0.state"; do sleep 0.02; done
		sleep 0.5
		kill -INT $pid
		wait $pid
		echo "status=$?" >status'
	grep -qx status=1 status
	[[ "$stderr" == *"interrupted by SIGINT; device vfio0 now RUNNING"* ]]
	[ "$(simstate vfio0 saved_bytes)" -eq 0 ]
	[ "$(simstate vfio0 last_state)" = RUNNING ]
}

@test "SIGINT while the stream's reader stalls: the blocked write gives up, source RUNNING" {
	# The reader never reads: once the pipe is full, writev() blocks. The
	# signal interrupts it (no SA_RESTART) and the writer gives up instead
	# of writing on, so the save can put the device back.
	vmt_run 0 sim --device vfio0,size=64M -- bash -c '
		mkfifo out
		exec 3<>out
		vfio-mig-save --no-precopy -d vfio0 >out 2>err &
		pid=$!
		for _ in $(seq 500); do
			grep -qx state=STOP_COPY "$SIM/vfio0.state" 2>/dev/null && break
			sleep 0.02
		done
		sleep 1 # 64 MiB of state fill the pipe long before this
		kill -INT $pid
		# without the fix the save writes on forever: give up after 10 s
		for _ in $(seq 100); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
		kill -KILL $pid 2>/dev/null && echo "status=hung" >status && exit 0
		wait $pid
		echo "status=$?" >status'
	grep -qx status=1 status
	grep -q "interrupted by SIGINT; device vfio0 now RUNNING" err
	[ "$(simstate vfio0 last_state)" = RUNNING ]
	[ "$(simstate vfio0 save_complete)" = 0 ]
}

@test "--on-error stop leaves a failed source stopped" {
	vmt_run 1 sim --device vfio0,size=1M,read-eio-after=100K -- vfio-mig-save --no-precopy --on-error stop -d vfio0 -o s.vms
	vmt_one_line_error vfio-mig-save "device vfio0 now STOP$"
	[ "$(simstate vfio0 last_state)" = STOP ]
}

@test "several devices: one failure puts every device back and names each state" {
	vmt_run 1 sim --device vfio0,size=64K --device vfio1,size=64K,error-on=running-p2p\>stop -- \
		vfio-mig-save --no-precopy -d vfio0 -d vfio1 -o s.vms
	vmt_one_line_error vfio-mig-save "vfio1: RUNNING_P2P -> STOP_COPY failed: .*; device vfio0 now RUNNING; device vfio1 reset, now RUNNING$"
	[ "$(simstate vfio0 last_state)" = RUNNING ]
	[ "$(simstate vfio1 last_state)" = RUNNING ]
	[ "$(simstate vfio1 resets)" -eq 1 ]
}

@test "complete stream, but STOP_COPY -> STOP fails: reset, STOP again, exit 1, file kept" {
	vmt_run 1 sim --device vfio0,size=64K,fail=stop-copy\>stop:EIO -- \
		vfio-mig-save --no-precopy -d vfio0 -o s.vms --summary-file summary.json
	vmt_one_line_error vfio-mig-save "error: stream complete, but vfio0: STOP_COPY -> STOP failed: Input/output error; device vfio0 reset, now STOP$"
	vmt_run 0 migstream-cat --verify s.vms
	[ "$(simstate vfio0 resets)" -eq 1 ]
	[ "$(simstate vfio0 last_state)" = STOP ]
	[ "$(summary ok)" = false ]
	[ "$(summary stream_complete)" = true ]
	[[ "$(summary error.message)" == "stream complete, but"* ]]
	[ "$(summary error.errno)" = EIO ]
	[ "$(summary error.device)" = vfio0 ]
}

@test "complete stream, but the source cannot be stopped even after a reset: exit 1, file kept" {
	# pre-copy: the way to STOP_COPY does not pass RUNNING_P2P -> STOP
	vmt_run 1 sim --device vfio0,size=64K,error-on=stop-copy\>stop,fail=running-p2p\>stop:EIO -- \
		vfio-mig-save --precopy -d vfio0 -o s.vms --summary-file summary.json
	vmt_one_line_error vfio-mig-save "error: stream complete, but vfio0: STOP_COPY -> STOP failed: Input/output error; device vfio0 reset, recovery failed, now RUNNING_P2P$"
	vmt_run 0 migstream-cat --verify s.vms
	[ "$(summary ok)" = false ]
	[ "$(summary 'devices[0].recovery_failed')" = true ]
}

@test "--json prints the summary as one JSON object on stderr" {
	vmt_run 0 sim --device vfio0,size=64K -- vfio-mig-save --json -d vfio0 -o café.vms
	printf '%s\n' "$stderr" | python3 -m json.tool >/dev/null
	[ "$(printf '%s\n' "$stderr" | wc -l)" -eq 1 ]
	printf '%s\n' "$stderr" | jq -e '.schema == "vfio-mig-save/1" and .ok == true and .error == null' >/dev/null
	printf '%s\n' "$stderr" | jq -e '.output == "café.vms" and .devices[0].total_bytes > 0' >/dev/null
	printf '%s\n' "$stderr" | jq -e '.devices[0].migration_flags_names | index("STOP_COPY") != null' >/dev/null
	printf '%s\n' "$stderr" | jq -e '(.total_s | type) == "number" and (.throughput_bytes_per_s | type) == "number"' >/dev/null
}

@test "--json on failure: stderr is the JSON document alone, with ok false and the error" {
	ln -s /dev/full café
	vmt_run 1 sim --device vfio0,size=64K -- vfio-mig-save --json -d vfio0 -o café
	printf '%s\n' "$stderr" | python3 -m json.tool >/dev/null
	[ "$(printf '%s\n' "$stderr" | wc -l)" -eq 1 ]
	printf '%s\n' "$stderr" | jq -e '.schema == "vfio-mig-save/1" and .ok == false' >/dev/null
	printf '%s\n' "$stderr" | jq -e '.error.file == "café" and .error.errno == "ENOSPC" and .error.exit_code == 1' >/dev/null
	[[ "$(printf '%s\n' "$stderr" | jq -r .error.message)" == "café: cannot start the stream: No space left on device; device vfio0 untouched" ]]
	# the same document in the summary file, the error line on stderr
	vmt_run 1 sim --device vfio0,size=64K -- vfio-mig-save -d vfio0 -o café --summary-file summary.json
	vmt_one_line_error vfio-mig-save "café: cannot start the stream"
	[ "$(summary ok)" = false ]
	[ "$(summary schema)" = vfio-mig-save/1 ]
}

@test "64 devices: the error line is whole, counts the devices and names the exception" {
	local args=() devs=() i
	for i in $(seq 0 63); do
		devs+=(--device vfio$i,size=4K)
		args+=(-d vfio$i)
	done
	devs[127]=vfio63,size=4K,fail=stop-copy\>stop:EIO
	vmt_run 1 sim "${devs[@]}" -- vfio-mig-save --no-precopy --then stop "${args[@]}" -o s.vms \
		--summary-file summary.json
	vmt_one_line_error vfio-mig-save "^vfio-mig-save: error: stream complete, but vfio63: STOP_COPY -> STOP failed: Input/output error; 63 devices now STOP; device vfio63 reset, now STOP$"
	[ "$(summary 'devices | length')" -eq 64 ]
	[ "$(summary 'devices[63].resets')" -eq 1 ]
}
