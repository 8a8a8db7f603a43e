#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
#
# vfio-mig-check on the simulator (tests/sim): what it refuses, what it
# skips and why, its three outputs, and that every rule a simulated device
# breaks (fault keys, tests/sim/README) fails exactly the matching check
# while the others pass, with every device left RUNNING, also when a signal
# cuts the run short.  All groups passing on a good device is
# tests/conformance/conformance.bats (both tiers).

load helpers

setup() {
	vmt_sim_setup vfio-mig-check
	KERNEL=$("$SIM" --linux-version)
	DEV=/dev/vfio/devices/vfio0
	PEER=/dev/vfio/devices/vfio1
	# like mtty (conformance.bats); close-reset=no: the state outlives the process,
	# so what the state file says at the end is what the tool left
	LIKE=flags=stop-copy+p2p+pre-copy,precopy-initial=48,size=48,precopy-eof=zero
	LIKE+=,mdev-type=mtty-1,dma-logging=yes,close-reset=no
}

uuid() {
	echo "6f1c1e4a-4a1f-4d0e-9a57-00000000000$1"
}

# sim2 EXTRA -- command: two devices like mtty, EXTRA keys on DEV only
sim2() {
	local extra=$1
	shift
	"$SIM" --state-dir "$STATE" --iommu pgsize=2048 \
		--device "vfio0,mdev=$(uuid 1),$LIKE${extra:+,$extra}" \
		--device "vfio1,mdev=$(uuid 2),$LIKE" "$@"
}

check2() {
	local extra=$1
	shift
	sim2 "$extra" -- vfio-mig-check --kernel "$KERNEL" --yes -d "$DEV" -d "$PEER" "$@"
}

sim_state() {
	"$VMT_SRCDIR/tests/sim/vfiosim-state" --state-dir "$STATE" "$1" "$2"
}

both_running() {
	[ "$(sim_state vfio0 state)" = RUNNING ]
	[ "$(sim_state vfio1 state)" = RUNNING ]
}

failures() {
	printf '%s\n' "$output" | grep '^not ok' || true
}

@test "--list: every group with what it checks" {
	vmt_run 0 vfio-mig-check --list
	[ "${#lines[@]}" -eq 16 ]
	[[ ${lines[0]} == "bind "* ]]
	[[ $output == *"roundtrip  DEV -> migstream -> PEER"* ]]
	[[ $output == *"converge   pre-copy under no load"* ]]
}

@test "no --yes: refused with one line, device untouched" {
	vmt_run 2 sim2 "" -- vfio-mig-check -d "$DEV"
	vmt_one_line_error vfio-mig-check "walks $DEV through every migration state.*give --yes"
	[ "$(sim_state vfio0 requests)" = 0 ]
}

@test "unknown group and bad options are usage errors" {
	vmt_run_error 2 "no such group: 'nope'" vfio-mig-check --group nope
	vmt_run_error 2 "at most two devices" vfio-mig-check -d vfio0 -d vfio1 -d vfio2
	vmt_run_error 2 "--iommufd-fd needs --hwpt" vfio-mig-check --iommufd-fd 3
	vmt_run_error 2 "invalid --range" vfio-mig-check --iommufd-fd 3 --hwpt 1 --range 5 \
		--io-page-size 4096
}

@test "a device in use (BIND gives EBUSY) is refused and not touched" {
	vmt_run 1 sim2 busy=yes -- vfio-mig-check --yes -d "$DEV"
	vmt_one_line_error vfio-mig-check "^vfio-mig-check: error: $DEV: in use: .*not touched"
	[ "$(sim_state vfio0 requests)" = 0 ]
	# -J: the document says why, with no checks, on stdout; the line stays on stderr
	vmt_run 1 sim2 busy=yes -- vfio-mig-check --yes -d "$DEV" -J
	[ "$(jq -c '[.ok, .error.exit_code, .error.device, .total, (.checks | length)]' <<<"$output")" = \
		"[false,1,\"$DEV\",0,0]" ]
	[ "vfio-mig-check: error: $(jq -r .error.message <<<"$output")" = "$stderr" ]
}

@test "a device without VFIO migration: exit 3" {
	vmt_run 3 "$SIM" --state-dir "$STATE" --device vfio0,flags=none -- \
		vfio-mig-check --yes -d "$DEV"
	vmt_one_line_error vfio-mig-check "does not support VFIO migration"
}

@test "one device: the groups that need PEER are skipped, and say so" {
	vmt_run 0 sim2 "" -- vfio-mig-check --kernel "$KERNEL" --yes -d "$DEV"
	for g in fsm resume roundtrip; do
		[[ $output == *"# group $g skipped: needs a second device of the same kind (-d PEER)"* ]]
	done
	[[ $output == *"# 0 of "*" checks failed; 3 group(s) skipped"* ]]
	[ "$(sim_state vfio0 state)" = RUNNING ]
}

@test "only what the device claims: STOP_COPY alone, no DMA logging" {
	LIKE=flags=stop-copy,size=48,close-reset=no
	vmt_run 0 check2 ""
	for g in datafd precopy converge resume; do
		[[ $output == *"# group $g skipped: the device does not claim VFIO_MIGRATION_PRE_COPY"* ]]
	done
	[[ $output == *"# group dmalog skipped: the device has no DMA logging"* ]]
	# the FSM of four states; the P2P and PRE_COPY targets are refused
	[[ $output == *"ok "*" - RUNNING -> RUNNING_P2P: EINVAL, data_fd -1, then GET RUNNING"* ]]
	[[ $output != *"- PRE_COPY -> "* ]]
	both_running
}

@test "TAP, JUnit and JSON of one run agree" {
	vmt_run 0 check2 "" --junit "$VMT_TMP/junit.xml"
	total=$(printf '%s\n' "$output" | sed -n 's/^1\.\.//p')
	[ "$total" -gt 300 ]
	python3 - "$VMT_TMP/junit.xml" "$total" <<'PY'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == "testsuites", root.tag
cases = [c for s in root for c in s if c.find("skipped") is None]
assert len(cases) == int(sys.argv[2]), len(cases)
assert len(root) == 16 and int(root.get("failures")) == 0
PY
	vmt_run 0 check2 "" -J
	[ "$(jq -r .schema <<<"$output")" = vfio-mig-check/1 ]
	[ "$(jq -c '[.ok, .error]' <<<"$output")" = '[true,null]' ]
	[ "$(jq '.checks | length' <<<"$output")" = "$total" ]
	[ "$(jq -r '.devices[0].final_state, .devices[1].final_state' <<<"$output")" = $'RUNNING\nRUNNING' ]
	[ "$(jq '[.groups[] | select(.status == "pass")] | length' <<<"$output")" = 16 ]
	[ "$(jq '.timing.arcs | length' <<<"$output")" -gt 30 ]
}

# The fault keys: each breaks one kernel rule; exactly that check fails.

@test "break=datafd-cloexec: only the close-on-exec check fails, with its source" {
	vmt_run 1 check2 break=datafd-cloexec --junit "$VMT_TMP/junit.xml"
	[ "$(failures | wc -l)" -eq 1 ]
	failures | grep -q ' - the data_fd is close-on-exec'
	[[ $output == *'source: "drivers/vfio/vfio_main.c, vfio_ioct_mig_return_fd()"'* ]]
	grep -q 'source: drivers/vfio/vfio_main.c, vfio_ioct_mig_return_fd()' "$VMT_TMP/junit.xml"
	both_running
}

@test "break=precopy-argsz: only the short-argsz PRECOPY_INFO check fails (JSON)" {
	vmt_run 1 check2 break=precopy-argsz -J
	[ "$(jq '.failed' <<<"$output")" = 1 ]
	# a failed check is a result, not an error
	[ "$(jq -c '[.ok, .error]' <<<"$output")" = '[false,null]' ]
	fail=$(jq -c '.checks[] | select(.ok | not)' <<<"$output")
	[ "$(jq -r .group <<<"$fail")" = precopy ]
	[[ $(jq -r .what <<<"$fail") == "PRECOPY_INFO with argsz short of dirty_bytes: got success, kernel gives EINVAL" ]]
	[ "$(jq -r .source.file <<<"$fail")" = samples/vfio-mdev/mtty.c ]
	[ "$(jq -r .kernel,.device <<<"$fail")" = $'EINVAL\nsuccess' ]
	both_running
}

@test "fail=resuming>stop: the FSM's arcs out of RESUMING fail, no other" {
	vmt_run 1 check2 'fail=resuming>stop:EIO' --group fsm
	[ "$(failures | wc -l)" -eq 6 ]
	! failures | grep -v ' - RESUMING -> '
	failures | grep -q ' - RESUMING -> STOP: EIO, data_fd -1, then GET RESUMING; kernel: success'
	[[ $output == *'source: "drivers/vfio/vfio_main.c, vfio_mig_get_next_state()"'* ]]
	both_running
}

@test "log-dirty= not what the IOMMU saw: only the DMA cross-check fails" {
	vmt_run 1 sim2 log-dirty=0x1004000:0x1000 --iommu dirty=0x1000000:0x2000 -- \
		vfio-mig-check --kernel "$KERNEL" --yes -d "$DEV" -d "$PEER"
	[ "$(failures | wc -l)" -eq 1 ]
	failures | grep -q "the device's DMA log and the IOMMU's dirty bitmap agree page for page (device 1 dirty, IOMMU 2)"
	both_running
}

@test "error-on=stop-copy>stop: the device in ERROR is reset and left RUNNING" {
	vmt_run 1 check2 'error-on=stop-copy>stop' --group close
	failures | grep -q 'leave it with SET STOP: got EIO, kernel gives success'
	[[ $output == *"# $DEV: RUNNING at the end"* ]]
	both_running
}

@test "precopy-eof=enomsg: the uAPI's temporary end, reported" {
	LIKE=${LIKE/precopy-eof=zero/precopy-eof=enomsg}
	vmt_run 0 check2 "" --group precopy --group converge
	[[ $output == *"# temporary end of pre-copy: ENOMSG"* ]]
}

@test "close-reset=yes: a driver that resets on open passes, and it is reported" {
	LIKE=${LIKE/close-reset=no/close-reset=yes}
	vmt_run 0 check2 "" --group close
	[[ $output == *"# the driver resets the migration state across a close"* ]]
}

# A read that blocks (read-delay-ms) is where a user gives up.  The tool
# writes its pid first (exec keeps it), so the signal reaches it and not
# the simulator's wrapper script.
@test "SIGINT, SIGTERM, SIGHUP mid-run: bail out, every device left RUNNING" {
	for sig in INT TERM HUP; do
		rm -rf "$STATE" "$VMT_TMP/pid"
		# shellcheck disable=SC2016 # for the inner shell
		sim2 read-delay-ms=400 -- sh -c 'echo $$ >"$0"; exec "$@"' "$VMT_TMP/pid" \
			vfio-mig-check --kernel "$KERNEL" --yes -d "$DEV" -d "$PEER" \
			>"$VMT_TMP/out" 2>"$VMT_TMP/err" &
		pid=$!
		sleep 1.5
		kill -s "$sig" "$(cat "$VMT_TMP/pid")"
		status=0
		wait "$pid" || status=$?
		cat "$VMT_TMP/out" "$VMT_TMP/err"
		[ "$status" -eq 1 ]
		grep -q "^Bail out! stopped by signal" "$VMT_TMP/out"
		grep -q "stopped by SIG$sig after .* checks; every device is RUNNING" "$VMT_TMP/err"
		# the state each device was left in, said (after a reset when the
		# signal came in a data state: where depends on timing)
		grep -q "^# $DEV: RUNNING at the end" "$VMT_TMP/out"
		both_running
	done
}

# A device's state of any size: real devices have hundreds of MiB to GiB
# (mlx5, vGPUs).  Each check keeps only a count, a digest, or a temporary
# file ($TMPDIR) of the state; memory stays one buffer.
# sized SIZE PRECOPY: every group on two devices of SIZE bytes of STOP_COPY
# data after PRECOPY of pre-copy data; peak RSS (KiB) into $VMT_TMP/rss
sized() {
	local LIKE=${LIKE/size=48/size=$1}
	LIKE=${LIKE/precopy-initial=48/precopy-initial=$2}
	rm -rf "$STATE"
	TMPDIR=$VMT_TMP sim2 "" -- /usr/bin/time -f %M -o "$VMT_TMP/rss" \
		vfio-mig-check --kernel "$KERNEL" --yes -d "$DEV" -d "$PEER"
}

@test "states of 1 MiB, 64 MiB and 1 GiB: every check passes, memory does not grow" {
	[ -x /usr/bin/time ] || skip "GNU time (/usr/bin/time) is not installed"
	local -A rss
	for s in 1M:64K:1114112 64M:3M:70254592 1G:3M:1076887552; do
		IFS=: read -r size pre total <<<"$s"
		vmt_run 0 sized "$size" "$pre"
		[[ $output == *"# DEV saved $total bytes"* ]]
		printf '%s\n' "$output" | grep -Eq '^# 0 of [0-9]+ checks failed; 0 group'
		# every count is a count: an error is said as one, never as -N bytes
		! printf '%s\n' "$output" | grep -E -- '-[0-9]+ (bytes|\+)'
		[[ $output == *"# $DEV: RUNNING at the end"* ]]
		[[ $output == *"# $PEER: RUNNING at the end"* ]]
		both_running
		rss[$size]=$(tail -n 1 "$VMT_TMP/rss")
		echo "peak RSS with $size of state: ${rss[$size]} KiB"
	done
	# a GiB of state costs what a MiB does (a buffer of 1 MiB, a reader's records)
	[ "${rss[1G]}" -lt 65536 ]
	[ $((rss[1G] - rss[1M])) -lt 16384 ]
	# the temporary files were unlinked
	[ -z "$(find "$VMT_TMP" -maxdepth 1 -name 'vfio-mig-check*')" ]
}

@test "PEER's stream cannot be read: the fsm group fails once, the next groups run, states said" {
	vmt_run 1 "$SIM" --state-dir "$STATE" --iommu pgsize=2048 \
		--device "vfio0,mdev=$(uuid 1),$LIKE" \
		--device "vfio1,mdev=$(uuid 2),$LIKE,read-eio-after=10" -- \
		vfio-mig-check --kernel "$KERNEL" --yes -d "$DEV" -d "$PEER" -g fsm -g datafd
	[ "$(failures | wc -l)" -eq 1 ]
	failures | grep -q "^not ok [0-9]* - $PEER: reading its stream: EIO\$"
	printf '%s\n' "$output" | grep -Eq '^# 1 of [0-9]{2} checks failed'
	[[ $output == *"# $DEV: RUNNING at the end"* ]]
	[[ $output == *"# $PEER: RUNNING at the end"* ]]
	[[ $stderr != *"unknown state"* ]]
	both_running
}

# Every form README gives a device in; a name of none of them is a usage
# error before anything is opened.
@test "-d in every form: vfioN, the cdev path, a PCI address (short too), an mdev UUID" {
	local spec
	for spec in vfio0 /dev/vfio/devices/vfio0 0000:01:00.0 01:00.0; do
		rm -rf "$STATE"
		vmt_run 0 "$SIM" --state-dir "$STATE" --device vfio0 -- \
			vfio-mig-check --kernel "$KERNEL" --yes -d "$spec" -g datasize
		[[ $output == *"# DEV: $spec (/dev/vfio/devices/vfio0), migration flags"* ]]
	done
	vmt_run 0 sim2 "" -- vfio-mig-check --kernel "$KERNEL" --yes -d vfio0 -d "$(uuid 2)" \
		-g roundtrip
	[[ $output == *"# PEER: $(uuid 2) (/dev/vfio/devices/vfio1)"* ]]
	# the same device twice in two forms: refused, not a run of failures
	vmt_run 2 sim2 "" -- vfio-mig-check --yes -d vfio0 -d "$(uuid 1)"
	vmt_one_line_error vfio-mig-check "vfio0 and $(uuid 1) are the same device"
	vmt_run 2 sim2 "" -- vfio-mig-check --yes -d zz
	[ "$(sim_state vfio0 requests)" = 0 ]
	vmt_run_error 2 "invalid device 'zz' \(not vfioN, /dev/vfio/devices/vfioN, a PCI address, an mdev UUID or fd:N\)" \
		vfio-mig-check --yes -d zz
	vmt_run 1 sim2 "" -- vfio-mig-check --yes -d vfio7
	vmt_one_line_error vfio-mig-check "^vfio-mig-check: error: vfio7: no such VFIO device"
}

# vfio-mig-check(1) promises TAP version 13: without the version line a
# consumer reads TAP 12, where the YAML blocks under failures are not TAP.
@test "TAP version 13, and TAP::Parser reads every failure's YAML block" {
	vmt_run 1 check2 break=datafd-cloexec+precopy-argsz
	[ "${lines[0]}" = "TAP version 13" ]
	perl -MTAP::Parser -e 1 2>/dev/null || skip "perl's TAP::Parser (perl-modules) is not installed"
	# shellcheck disable=SC2016 # perl's variables
	run perl -MTAP::Parser -e '
		local $/; my $p = TAP::Parser->new({ tap => scalar <STDIN> });
		my ($failed, @yaml, @bad) = (0);
		while (my $r = $p->next) {
			$failed++ if $r->is_test && !$r->is_ok;
			push @yaml, $r->data if $r->is_yaml;
			push @bad, $r->as_string if $r->is_unknown;
		}
		print join(" ", "version", $p->version, "failed", $failed, "yaml", scalar @yaml,
			   "unknown", scalar @bad, "errors", scalar $p->parse_errors), "\n";
		print join("|", map { $_->{source} // "-" } @yaml), "\n";
		print join("|", map { ($_->{kernel} // "-") . "/" . ($_->{device} // "-") } @yaml), "\n";
	' <<<"$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "version 13 failed 2 yaml 2 unknown 0 errors 0" ]
	[ "${lines[1]}" = "drivers/vfio/vfio_main.c, vfio_ioct_mig_return_fd()|samples/vfio-mdev/mtty.c, mtty_precopy_ioctl()" ]
	[ "${lines[2]}" = "-/-|EINVAL/success" ]
}
