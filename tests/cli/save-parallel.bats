#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
#
# vfio-mig-save reading several devices at once (--jobs), compressing on
# workers (-z --threads) and writing channels (-o A -o B), on the simulator:
# the records of the devices interleave and each device's state still loads
# intact; --jobs 1 keeps the old order; a failure or a stop signal in the
# middle of parallel reads puts every device back.
#
# Interleaving is forced, not hoped for: each read of the data fd sleeps a
# few ms in the simulated driver (read-delay-ms), so two readers are always
# in flight together. No test here asserts a time.

load helpers
load save-helpers

setup() {
	save_setup
	vmt_require_tool vfio-mig-load
}

# Runs of DATA records of the same device in FILE.json: 1 per device when
# they do not interleave.
data_runs() {
	jq -r 'select(.type == "DATA") | .device' "$1.json" | uniq | grep -c .
}

# Every target DST loaded the state its source SRC saved, verified by the simulator.
same_state() {
	local src=$1 dst=$2
	[ "$(simstate "$dst" load_verified)" = ok ]
	[ "$(simstate "$src" save_digest)" = "$(simstate "$dst" load_digest)" ]
}

# The "vfioN>STATE" transitions of a -v log, in order.
transitions() {
	printf '%s\n' "$1" | sed -n 's/.*: \(vfio[0-9]*\): [A-Z_0-9]* -> \([A-Z_0-9]*\)$/\1>\2/p' | tr '\n' ' '
}

# ---- interleaving, intact ----

@test "2 devices read at once: their records interleave, each device's state loads intact" {
	vmt_run 0 sim --device vfio0,size=2M,chunk=64K,read-delay-ms=3,seed=21 \
		--device vfio1,size=1M,chunk=64K,read-delay-ms=3,seed=22 \
		--device vfio2,expect-seed=21 --device vfio3,expect-seed=22 -- bash -c '
		vfio-mig-save --no-precopy --chunk-size 64K --summary-file summary.json -d vfio0 -d vfio1 -o s.vms &&
		vfio-mig-load -d vfio2 -d vfio3 <s.vms'
	vmt_run 0 migstream-cat --verify s.vms
	stream_json s.vms
	[ "$(data_runs s.vms)" -gt 2 ]
	[ "$(summary jobs)" -eq 2 ]
	same_state vfio0 vfio2
	same_state vfio1 vfio3
	for i in 0 1; do
		[ "$(stream_digest s.vms $i)" = "$(simstate vfio$i save_digest)" ]
	done
}

@test "8 P2P devices with pre-copy at once: every quiesce before any STOP_COPY, all intact" {
	local specs=() devs=() targets=() i order first_stop last_quiesce
	for i in $(seq 0 7); do
		specs+=(--device "vfio$i,size=256K,precopy-initial=64K,chunk=16K,read-delay-ms=1,seed=$((30 + i))")
		specs+=(--device "vfio$((8 + i)),expect-seed=$((30 + i))")
		devs+=(-d "vfio$i")
		targets+=(-d "vfio$((8 + i))")
	done
	vmt_run 0 sim "${specs[@]}" -- bash -c '
		vfio-mig-save -v --chunk-size 16K '"${devs[*]}"' -o s.vms &&
		vfio-mig-load '"${targets[*]}"' <s.vms'
	order=$(transitions "$stderr")
	vmt_run 0 migstream-cat --verify s.vms
	stream_json s.vms
	[ "$(data_runs s.vms)" -gt 8 ]
	# the P2P rule: the last quiesce comes before the first STOP_COPY
	last_quiesce=$(tr ' ' '\n' <<<"$order" | grep -n '>PRE_COPY_P2P$' | tail -1 | cut -d: -f1)
	first_stop=$(tr ' ' '\n' <<<"$order" | grep -n '>STOP_COPY$' | head -1 | cut -d: -f1)
	[ "$(tr ' ' '\n' <<<"$order" | grep -c '>PRE_COPY_P2P$')" -ge 8 ]
	[ "$last_quiesce" -lt "$first_stop" ]
	for i in $(seq 0 7); do
		same_state "vfio$i" "vfio$((8 + i))"
		[ "$(simstate vfio$i last_state)" = STOP ]
	done
}

@test "--jobs 1: one device after the other, in the order given, as before" {
	vmt_run 0 sim --device vfio0,size=512K,precopy-initial=128K,chunk=64K,read-delay-ms=1 \
		--device vfio1,size=256K,precopy-initial=64K,chunk=64K,read-delay-ms=1 -- \
		vfio-mig-save --jobs 1 --chunk-size 64K --summary-file summary.json -d vfio0 -d vfio1 -o s.vms
	vmt_run 0 migstream-cat --verify s.vms
	stream_json s.vms
	[ "$(summary jobs)" -eq 1 ]
	# pre-copy: device 0's pass, then device 1's; stop-copy: device 0 to its DEVICE_END, then 1
	[ "$(jq -r 'select(.type == "DATA" and .phase != "STOP_COPY") | .device' s.vms.json | uniq | tr '\n' ' ')" = "0 1 " ]
	[ "$(jq -r 'select(.type == "DATA" and .phase == "STOP_COPY" or .type == "DEVICE_END") | "\(.type)\(.device)"' \
		s.vms.json | uniq | tr '\n' ' ')" = "DATA0 DEVICE_END0 DATA1 DEVICE_END1 " ]
}

# ---- failures ----

@test "one device failing mid-read while the others are in flight: every device RUNNING, exit 1, each named" {
	vmt_run 1 sim --device vfio0,size=8M,chunk=64K,read-delay-ms=20 \
		--device vfio1,size=8M,chunk=64K,read-delay-ms=5,read-eio-after=256K \
		--device vfio2,size=8M,chunk=64K,read-delay-ms=20 -- \
		vfio-mig-save --no-precopy --chunk-size 64K -d vfio0 -d vfio1 -d vfio2 -o s.vms
	vmt_one_line_error vfio-mig-save "vfio1: reading STOP_COPY data at byte [0-9]+: Input/output error"
	[[ "$stderr" == *vfio0*RUNNING* ]]
	[[ "$stderr" == *vfio1*RUNNING* ]]
	[[ "$stderr" == *vfio2*RUNNING* ]]
	for i in 0 1 2; do
		[ "$(simstate vfio$i last_state)" = RUNNING ]
		[ "$(simstate vfio$i save_complete)" = 0 ]
	done
	# the others were reading when it failed, and stopped: not read to their end
	[ "$(simstate vfio0 saved_bytes)" -gt 0 ]
	[ "$(simstate vfio0 saved_bytes)" -lt $((8 << 20)) ]
	[ "$(simstate vfio2 saved_bytes)" -lt $((8 << 20)) ]
	[ ! -e s.vms ]
}

@test "SIGINT during a parallel stop-copy: every device RUNNING" {
	vmt_run 0 sim --device vfio0,size=4M,chunk=64K,read-delay-ms=50 \
		--device vfio1,size=4M,chunk=64K,read-delay-ms=50 \
		--device vfio2,size=4M,chunk=64K,read-delay-ms=50 -- bash -c '
		vfio-mig-save --no-precopy --chunk-size 64K -d vfio0 -d vfio1 -d vfio2 -o s.vms &
		pid=$!
		for d in vfio0 vfio1 vfio2; do
			until grep -qx state=STOP_COPY "$SIM/$d.state"; do sleep 0.02; done
		done
		sleep 0.2
		kill -INT $pid
		wait $pid
		echo "status=$?" >status'
	grep -qx status=1 status
	[[ "$stderr" == *"interrupted by SIGINT"* ]]
	for i in 0 1 2; do
		[ "$(simstate vfio$i last_state)" = RUNNING ]
		[ "$(simstate vfio$i save_complete)" = 0 ]
		[[ "$stderr" == *vfio$i*RUNNING* ]]
	done
	[ ! -e s.vms ]
}

@test "SIGUSR1 switches over while the devices are read in parallel" {
	mkfifo ctl
	vmt_run 0 sim --device vfio0,size=256K,precopy-initial=64K,dirty-rate=4M,read-delay-ms=2 \
		--device vfio1,size=256K,precopy-initial=64K,dirty-rate=4M,read-delay-ms=2 -- bash -c '
		vfio-mig-save --max-rounds 0 --summary-file summary.json -d vfio0 -d vfio1 -o s.vms &
		pid=$!
		for d in vfio0 vfio1; do
			until grep -qx state=PRE_COPY "$SIM/$d.state"; do sleep 0.02; done
		done
		sleep 0.3
		kill -USR1 $pid
		wait $pid
		echo "status=$?" >status'
	grep -qx status=0 status
	[ "$(summary switchover)" = signal ]
	vmt_run 0 migstream-cat --verify s.vms
}

# ---- compression ----

@test "-z on 2 threads: the stream loads intact; incompressible state goes raw by the adaptive rule, counted" {
	vmt_run 0 sim --device vfio0,size=4M,seed=41 --device vfio1,size=4M,seed=42 \
		--device vfio2,expect-seed=41 --device vfio3,expect-seed=42 -- bash -c '
		vfio-mig-save -z --threads 2 --no-precopy --chunk-size 64K --summary-file summary.json \
			-d vfio0 -d vfio1 -o s.vms &&
		vfio-mig-load -d vfio2 -d vfio3 <s.vms'
	vmt_run 0 migstream-cat --verify s.vms
	same_state vfio0 vfio2
	same_state vfio1 vfio3
	[ "$(summary threads)" -eq 2 ]
	# 64 records per device: after 4 failed tries, 32 raw, one try, 32 raw ...
	[ "$(summary adaptive_raw_records)" -gt 32 ]
	[ "$(summary adaptive_raw_records)" -lt 128 ]
	[ "$(summary 'devices[0].adaptive_raw_records')" -gt 0 ]
	[ "$(summary 'devices[1].adaptive_raw_records')" -gt 0 ]
}

@test "-z --threads 1 and --jobs 1: the same device bytes as without -z" {
	vmt_run 0 sim --device vfio0,size=1M,precopy-initial=256K,seed=43 --device vfio1,expect-seed=43 -- bash -c '
		vfio-mig-save -z --threads 1 --jobs 1 --chunk-size 64K -d vfio0 -o z.vms &&
		vfio-mig-load -d vfio1 <z.vms'
	vmt_run 0 migstream-cat --verify z.vms
	same_state vfio0 vfio1
}

# ---- the queue ----

@test "--queue-size caps the buffers in flight" {
	vmt_run 0 sim --device vfio0,size=4M --device vfio1,size=4M -- \
		vfio-mig-save --no-precopy --queue-size 256K --chunk-size 64K --summary-file summary.json \
		-d vfio0 -d vfio1 -o s.vms
	vmt_run 0 migstream-cat --verify s.vms
	[ "$(summary queue_size_bytes)" -eq $((256 << 10)) ]
	[ "$(summary queue_peak_bytes)" -gt 0 ]
	[ "$(summary queue_peak_bytes)" -le $((256 << 10)) ]
}

@test "usage: --queue-size below the chunk size, the same output twice" {
	vmt_run 2 vfio-mig-save -d vfio0 --queue-size 64K --chunk-size 1M
	vmt_one_line_error vfio-mig-save "--queue-size .* is less than the chunk size"
	vmt_run 2 vfio-mig-save -d vfio0 -o a.vms -o ./a.vms
	vmt_one_line_error vfio-mig-save "-o ./a.vms given twice"
	vmt_run 2 vfio-mig-save -d vfio0 --jobs 0
	vmt_one_line_error vfio-mig-save "invalid --jobs"
	vmt_run 2 vfio-mig-save -d vfio0 --threads x
	vmt_one_line_error vfio-mig-save "invalid --threads"
}

# ---- channels ----

@test "one -o: a whole stream, no CHANNEL record" {
	vmt_run 0 sim --device vfio0,size=256K -- vfio-mig-save --no-precopy -d vfio0 -o s.vms
	vmt_run 0 migstream-cat --verify s.vms
	stream_json s.vms
	[ "$(jq -r 'select(.seq == 1) | .type' s.vms.json)" = DEVICE ]
}

@test "3 channels: each file a channel of one set, the data spread over them" {
	vmt_run 0 sim --device vfio0,size=2M,chunk=64K,read-delay-ms=1 --device vfio1,size=1M,chunk=64K,read-delay-ms=1 -- \
		vfio-mig-save --no-precopy --chunk-size 64K --summary-file summary.json \
		-d vfio0 -d vfio1 -o a.vms -o b.vms -o c.vms
	[ "$(summary 'channels | length')" -eq 3 ]
	[ "$(summary 'channels[1].output')" = b.vms ]
	[ "$(jq '[.channels[].bytes] | add' summary.json)" -eq "$(summary stream_bytes)" ]
	for f in a b c; do
		[ -s $f.vms ]
		[ "$(summary "channels[] | select(.output == \"$f.vms\") | .bytes")" -eq "$(stat -c %s $f.vms)" ]
	done
	local chunks=0 n
	for f in a b c; do
		vmt_run 0 migstream-cat --verify $f.vms
		stream_json $f.vms
		[ "$(jq -r 'select(.type == "CHANNEL") | .type' $f.vms.json)" = CHANNEL ]
		[ "$(count_records $f.vms DEVICE)" -eq 2 ]
		[ "$(count_records $f.vms DEVICE_END)" -eq 2 ]
		n=$(count_records $f.vms DATA)
		chunks=$((chunks + n))
	done
	# every chunk in exactly one channel: 32 + 16 of 64K
	[ "$chunks" -eq 48 ]
}

@test "channels load back intact (vfio-mig-load -i A -i B)" {
	vmt_run 0 sim --device vfio0,size=2M,seed=51,chunk=64K,read-delay-ms=1 --device vfio1,size=1M,seed=52 \
		--device vfio2,expect-seed=51 --device vfio3,expect-seed=52 -- bash -c '
		vfio-mig-save -z --no-precopy --chunk-size 64K -d vfio0 -d vfio1 -o a.vms -o b.vms &&
		vfio-mig-load -i b.vms -i a.vms -d vfio2 -d vfio3'
	same_state vfio0 vfio2
	same_state vfio1 vfio3
}

@test "channels with --return-fd: replies still read, the save confirmed" {
	vmt_run 0 sim --device vfio0,size=512K,precopy-initial=128K,seed=53 --device vfio1,expect-seed=53 -- bash -c '
		mkfifo a b r
		timeout 60 vfio-mig-load -i a -i b --return-fd 3 -d vfio1 3>r &
		timeout 60 vfio-mig-save --summary-file summary.json --return-fd 4 -d vfio0 -o a -o b 4<r
		echo "status=$?" >status
		wait'
	grep -qx status=0 status
	[ "$(summary load_confirmed)" = true ]
	same_state vfio0 vfio1
}

@test "channels on inherited descriptors: -o fd:3 -o fd:4 into -i fd:3 -i fd:4" {
	vmt_run 0 sim --device vfio0,size=2M,seed=61,chunk=64K --device vfio1,expect-seed=61 -- bash -c '
		mkfifo a b
		vfio-mig-load -i fd:3 -i fd:4 -d vfio1 3<a 4<b &
		vfio-mig-save --no-precopy --chunk-size 64K -d vfio0 -o fd:3 -o fd:4 3>a 4>b || exit 1
		wait $!'
	same_state vfio0 vfio1
	# a descriptor that is not open is a usage error, before any device is touched
	vmt_run 2 sim --device vfio0 -- vfio-mig-save -d vfio0 -o fd:3 -o fd:9
	[[ $stderr == *"--output fd:N"* ]]
	[ "$(simstate vfio0 state)" = RUNNING ]
}
