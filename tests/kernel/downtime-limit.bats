#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
#
# vfio-mig-save --downtime-limit on real mtty devices (Linux 6.12): mtty
# answers MIG_DATA_SIZE (60 bytes) and gives 24 bytes of pre-copy, from which
# the save measures its read rate: the expected stop-copy time is tiny, and
# the save switches over by the limit after its first round, with the
# expected and the measured stop-copy time in its events. The guest has no
# jq: lines are matched with grep.

load helpers

setup() {
	vmt_require_guest
	mtty_pairs
	mkfifo "$T/rp"
}

teardown() {
	mtty_remove_all
}

@test "downtime-limit: save | load of mtty switches over by --downtime-limit, expected against measured in the events" {
	vfio-mig-save --precopy --downtime-limit 100ms --max-precopy-time 5s --events "$T/save.ev" \
		-d "$SRC" --return-fd 3 3<"$T/rp" 2>"$T/save.err" |
		vfio-mig-load -d "$DST" --return-fd 1 >"$T/rp" 2>"$T/load.err"
	cat "$T/save.err" "$T/load.err" "$T/save.ev"
	grep -q '"kind":"switchover","reason":"downtime-limit","rounds":[1-9][0-9]*,' "$T/save.ev"
	grep -q '"kind":"switchover",.*"stop_copy_size":60,"expected_stop_copy_ns":[0-9]*,"downtime_limit_ns":100000000,"left_bytes":60,' "$T/save.ev"
	local expected
	expected=$(sed -n 's/.*"kind":"switchover",.*"expected_stop_copy_ns":\([0-9]*\),.*/\1/p' "$T/save.ev")
	[ "$expected" -le 100000000 ]
	grep -q '"kind":"stop-copy","expected_stop_copy_ns":'"$expected"',.*"stop_copy_ns":[0-9]*}' "$T/save.ev"
}

@test "downtime-limit: a limit no estimate can meet (0) leaves it to --max-precopy-time" {
	vfio-mig-save --precopy --downtime-limit 0 --max-precopy-time 300ms --events "$T/save.ev" \
		-d "$SRC" 2>"$T/save.err" | vfio-mig-load -d "$DST" 2>"$T/load.err"
	cat "$T/save.err" "$T/load.err"
	grep -q '"kind":"switchover","reason":"max-precopy-time",' "$T/save.ev"
}
