#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The return path between two real mtty instances (Linux 6.12): the
# loader's replies come back through a FIFO, as over ssh's standard output
# in the README example; the switchover-ack after mtty's 24 initial bytes;
# a load mtty refuses puts the source back to RUNNING; pre-copy info v1
# (6.12 has no v2).

load helpers

setup() {
	vmt_require_guest
	mtty_pairs
	mkfifo "$T/rp"
}

teardown() {
	mtty_remove_all
}

@test "return path over a FIFO through a pipe: acked after mtty's 24 initial bytes, confirmed, v1 pre-copy info" {
	vfio-mig-save -v --precopy --summary-file "$T/save.json" -d "$SRC" --return-fd 3 3<"$T/rp" 2>"$T/save.err" |
		cat | vfio-mig-load -v --json -d "$DST" --return-fd 1 >"$T/rp" 2>"$T/load.err"
	cat "$T/save.err" "$T/load.err" "$T/save.json"
	grep -q '"load_confirmed": *true' "$T/save.json"
	grep -q "switchover-ack (initial section 1, 24 bytes loaded on the destination)" "$T/save.err"
	grep -q "switchover-ack for stream device 0 (initial section 1, 24 bytes loaded)" "$T/load.err"
	# the ack came before the switchover (the first arc into STOP_COPY)
	awk '/switchover-ack \(/ { a = NR } /-> STOP_COPY/ && !s { s = NR } END { exit !(a && s && a < s) }' "$T/save.err"
	# 6.12 has no VFIO_DEVICE_FEATURE_MIG_PRECOPY_INFOv2: v1, said with -v
	grep -q "pre-copy info v1 (the kernel does not offer v2)" "$T/save.err"
	grep -q '"precopy_info_v2": *false' "$T/save.json"
	[ "$(json_str "$T/load.err" final_state)" = RUNNING ]
	[ "$(json_str "$T/save.json" final_state)" = STOP ]
}

@test "return path: a load mtty refuses (mtty-2 target, --force) puts the source back to RUNNING, save exits 1" {
	local c dst2
	c=$(mtty_create_cdev mtty-2)
	dst2=${c#* }
	run bash -c "vfio-mig-save --summary-file '$T/save.json' -d '$SRC' --return-fd 3 3<'$T/rp' |
		vfio-mig-load --force -d '$dst2' --return-fd 1 >'$T/rp'; echo \"rc=\${PIPESTATUS[0]},\${PIPESTATUS[1]}\""
	echo "$output"
	cat "$T/save.json"
	[[ $output == *"rc=1,4"* ]]
	[[ $output == *"vfio-mig-save: error: "*"the destination failed to load (exit 4): "*"rejected"*"device $dst2 reset, now RUNNING; device $SRC now RUNNING"* ]]
	[ "$(json_str "$T/save.json" final_state)" = RUNNING ]
	# mtty keeps its state across close: A is really RUNNING, a new save works
	vfio-mig-save -q "$SRC" >/dev/null
}

@test "return path: the loader exits without a word: the source goes back to RUNNING" {
	run bash -c "vfio-mig-save --summary-file '$T/save.json' -d '$SRC' --return-fd 3 3<'$T/rp' |
		bash -c 'exec 1>&-; cat >/dev/null' >'$T/rp'; echo \"rc=\${PIPESTATUS[0]}\""
	echo "$output"
	[[ $output == *"rc=1"* ]]
	[[ $output == *"return channel was closed"* ]]
	[ "$(json_str "$T/save.json" final_state)" = RUNNING ]
}
