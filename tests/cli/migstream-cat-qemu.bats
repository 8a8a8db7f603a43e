#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
#
# migstream-cat on QEMU's own migration stream, with no QEMU here: streams
# laid out as QEMU 10.0 writes them (qemu-mkstream: one VFIO device with
# mtty's 60 bytes, 24 in the pre-copy iteration and 36 in the complete
# phase, or a simulated device's saved state), and the golden streams real
# QEMU 10.0.2 wrote on the kernel tier (tests/vectors/qemu/). Listing,
# --json, --verify on good, cut and corrupted streams, --extract, and
# --from-qemu into vfio-mig-load on the simulator, with multifd channels.

load helpers

QVECTORS="$VMT_SRCDIR/tests/vectors/qemu"
IDSTR=0000:00:01.0/vfio

setup() {
	vmt_require_tool migstream-cat
	vmt_require_tool qemu-mkstream
	cd "$VMT_TMP"
}

# offset of the Nth (from 1) listed section of TYPE and IDSTR in FILE
section_offset() {
	migstream-cat --json "$1" | jq -r --arg t "$2" --arg id "$3" \
		'select(.type == "qemu_section" and .section_type == $t and .idstr == $id) | .offset' | sed -n "${4:-1}p"
}

# cuts_fail FILE OFFSET...: FILE cut at each OFFSET (from 8 on) fails
# --verify with exit 4 and one line naming the byte and the section. A
# plain loop: bats's run costs more than the tool.
cuts_fail() {
	local file=$1 at rc err re='^migstream-cat: error: cut\.mig: byte [0-9]+(, section [0-9]+ \([A-Z]+[^)]*\))?: '
	shift
	for at; do
		[ "$at" -ge 8 ] || continue
		head -c "$at" "$file" >cut.mig
		rc=0
		migstream-cat --verify cut.mig 2>err || rc=$?
		err=$(cat err)
		[ "$rc" = 4 ] && [ "$(wc -l <err)" = 1 ] && [[ $err =~ $re ]] ||
			{ echo "cut at $at: exit $rc: $err"; return 1; }
	done
}

@test "qemu: a QEMU stream is recognised by its magic and listed: every section, then the summary (golden)" {
	qemu-mkstream -m >q.mig
	vmt_run 0 migstream-cat q.mig
	printf '%s\n' "$output" >listing.txt
	vmt_check_golden migstream-cat-qemu.txt listing.txt
	[ -z "$stderr" ]
}

@test "qemu: the listing from a pipe is the file's (the vmdesc from the buffered tail)" {
	qemu-mkstream -m >q.mig
	migstream-cat q.mig | sed 's/q\.mig/FILE/' >file.txt
	migstream-cat <q.mig | sed 's/<stdin>/FILE/' >pipe.txt
	diff -u file.txt pipe.txt
}

@test "qemu: the summary counts RAM pages and the device's bytes by phase, marks and config state" {
	qemu-mkstream -m -r 5 >q.mig
	vmt_run 0 migstream-cat q.mig
	grep -qx '  ram pages       5 normal, 2 zero (page size 4096)' <<<"$output"
	grep -qx '  ram bytes       20480' <<<"$output"
	grep -qx "  vfio device     $IDSTR (instance 0, section 9)" <<<"$output"
	grep -qx '    pre-copy      24 bytes' <<<"$output"
	grep -qx '    complete      36 bytes' <<<"$output"
	grep -qx '    init marks    1 (DEV_INIT_DATA_SENT)' <<<"$output"
	grep -qE '^    config state  [0-9]+ bytes, PCI 4348:3253 subsystem 434b:3412 class 070002 rev 01$' <<<"$output"
}

@test "qemu: --json: a line per listed section, the device, the summary (golden)" {
	command -v jq >/dev/null || skip "jq not installed"
	qemu-mkstream -m >q.mig
	vmt_run 0 migstream-cat --json q.mig
	printf '%s\n' "$output" >listing.json
	vmt_check_golden migstream-cat-qemu.json listing.json
	jq -e -c 'type == "object" and .schema == "migstream-cat/1"' listing.json >/dev/null
	# as many sections as the text listing has rows
	[ "$(jq -r 'select(.type == "qemu_section") | .index' listing.json | wc -l)" = \
		"$(migstream-cat q.mig | sed -n '2,/^$/p' | grep -c .)" ]
	[ "$(jq -r 'select(.type == "qemu_vfio_device") | "\(.idstr) \(.precopy_bytes) \(.complete_bytes) \(.init_data_sent) \(.pci_vendor) \(.pci_device)"' listing.json)" = \
		"$IDSTR 24 36 1 17224 12883" ]
	[ "$(jq -r 'select(.type == "qemu_summary") | "\(.machine) \(.ram_normal_pages) \(.ram_zero_pages) \(.vfio_devices)"' listing.json)" = \
		"pc-q35-10.0 3 2 1" ]
}

@test "qemu: --verify: a good stream, from a file and from a pipe: exit 0, nothing said" {
	qemu-mkstream -m >q.mig
	vmt_run 0 migstream-cat --verify q.mig
	[ -z "$output" ] && [ -z "$stderr" ]
	vmt_run 0 sh -c 'migstream-cat --verify <q.mig'
	[ -z "$output" ] && [ -z "$stderr" ]
}

@test "qemu: --verify: cut at each section's edges and middle, at every byte of the device's data sections: exit 4, one line naming the byte and the section" {
	command -v jq >/dev/null || skip "jq not installed"
	qemu-mkstream -r 1 -m >q.mig
	local cuts
	cuts=$(migstream-cat --json q.mig | jq -r 'select(.type == "qemu_section") |
		if .kind == "vfio" and (.section_type == "PART" or .section_type == "END") then range(.offset; .offset + .bytes)
		else .offset, .offset + 1, .offset + (.bytes / 2 | floor), .offset + .bytes - 1 end' | sort -nu)
	[ "$(wc -l <<<"$cuts")" -gt 100 ]
	# shellcheck disable=SC2086 # one offset a word
	cuts_fail q.mig $cuts
	# from a pipe too, where no vmdesc can be read from the end
	head -c $(($(vmt_size q.mig) - 10)) q.mig >cut.mig
	vmt_run 4 sh -c 'migstream-cat --verify <cut.mig'
	vmt_one_line_error migstream-cat '^migstream-cat: error: <stdin>: byte [0-9]+'
}

@test "qemu: --verify: an unknown VFIO tag, a device data size past the section: exit 4 at its byte and section" {
	command -v jq >/dev/null || skip "jq not installed"
	qemu-mkstream -m >q.mig
	local part
	part=$(section_offset q.mig PART "$IDSTR")
	# the DEV_DATA_STATE tag's last byte (after the type and section id)
	cp q.mig tag.mig
	vmt_flip_byte tag.mig $((part + 5 + 7))
	vmt_run_error 4 "^migstream-cat: error: tag\\.mig: byte $((part + 5)), section [0-9]+ \\(PART 9 \"$IDSTR\"\\)" \
		migstream-cat --verify tag.mig
	# the block's size: its high byte
	cp q.mig size.mig
	vmt_flip_byte size.mig $((part + 5 + 8))
	vmt_run_error 4 "^migstream-cat: error: size\\.mig: byte [0-9]+, section [0-9]+ \\(PART 9 \"$IDSTR\"\\)" \
		migstream-cat --verify size.mig
	# the listing says the same, after the sections that passed
	vmt_run 4 migstream-cat tag.mig
	grep -q 'START .*0000:00:01.0/vfio' <<<"$output"
	vmt_one_line_error migstream-cat "byte $((part + 5))"
}

@test "qemu: --json: a bad stream ends with the error line" {
	command -v jq >/dev/null || skip "jq not installed"
	qemu-mkstream -m >q.mig
	head -c 12500 q.mig >cut.mig
	vmt_run 4 migstream-cat --json cut.mig
	[ "$(tail -1 <<<"$output" | jq -r '"\(.type) \(.ok) \(.error.errno) \(.error.exit_code) \(.file)"')" = "error false EBADMSG 4 cut.mig" ]
}

@test "qemu: --extract: the device's 60 bytes (24 pre-copy + 36 complete), by idstr or section id, file or pipe" {
	vmt_random_file state 60
	qemu-mkstream -s state -p 24 -m >q.mig
	vmt_run 0 sh -c "migstream-cat --extract=$IDSTR q.mig >out"
	cmp state out
	migstream-cat --extract=9 q.mig | cmp state -
	migstream-cat --extract=$IDSTR <q.mig | cmp state -
	# the phases: the first 24 bytes came in pre-copy
	qemu-mkstream -s state -p 60 >pre.mig
	[ "$(migstream-cat --json pre.mig | jq -r 'select(.type == "qemu_vfio_device") | "\(.precopy_bytes) \(.complete_bytes)"')" = "60 0" ]
}

@test "qemu: --extract of a device that is not there, or of a section that is no VFIO device: exit 4, one line" {
	qemu-mkstream >q.mig
	vmt_run_error 4 "^migstream-cat: error: q\\.mig: no VFIO device '0000:00:02\\.0/vfio'" migstream-cat --extract=0000:00:02.0/vfio q.mig
	[ -z "$output" ]
	vmt_run_error 4 '^migstream-cat: error: q\.mig: no VFIO section with id 2' migstream-cat --extract=2 q.mig
}

@test "qemu: --from-qemu: one DEVICE named by its idstr, pre-copy split at DEV_INIT_DATA_SENT, the rest STOP_COPY" {
	vmt_random_file state 60
	qemu-mkstream -s state -p 24 -m >q.mig
	vmt_run 0 sh -c 'migstream-cat --from-qemu q.mig >q.vms'
	migstream-cat --verify q.vms
	migstream-cat q.vms >listing.txt
	grep -qE "^ +[0-9]+ +1 DEVICE +0 .* name=$IDSTR " listing.txt
	grep -qE ' DATA +0 PRECOPY_INITIAL .* offset=0 bytes=24$' listing.txt
	grep -qE ' INIT_DATA_SENT +0 .* generation=1 offset=24 initial=24$' listing.txt
	grep -qE ' DATA +0 STOP_COPY .* offset=24 bytes=36$' listing.txt
	migstream-cat --extract=$IDSTR q.vms | cmp state -
	# from standard input, as QEMU's exec: feeds it
	migstream-cat --from-qemu <q.mig | migstream-cat --extract=0 | cmp state -
}

@test "qemu: --from-qemu: the PCI identity when the config state came before any data" {
	qemu-mkstream -s /dev/null >q.mig
	migstream-cat --from-qemu q.mig | migstream-cat >listing.txt
	grep -qE " DEVICE .* name=$IDSTR .* pci=4348:3253 subsys=434b:3412 class=0x070002 rev=0x01$" listing.txt
	# with data first, QEMU's order, it has none
	qemu-mkstream >q.mig
	migstream-cat --from-qemu q.mig | migstream-cat >listing.txt
	! grep -q 'pci=' listing.txt
}

@test "qemu: --from-qemu | vfio-mig-load: a simulated device takes exactly --extract's bytes" {
	vmt_require_tool vfio-mig-save
	vmt_require_tool vfio-mig-load
	local SIM="$VMT_SRCDIR/tests/sim/vfiosim-run"
	[ -x "$SIM" ] && [ -e "${VMT_SIM_LIB:-}" ] || skip "simulator not built"
	# what a device saved (a pre-copy section, then its stop-copy one), as QEMU would send it
	"$SIM" --state-dir sim --device vfio0,size=8K,precopy-initial=1K,seed=7 -- vfio-mig-save -q -d vfio0 -o saved.vms
	migstream-cat --extract=0 saved.vms >state
	[ "$(vmt_size state)" = 9216 ]
	qemu-mkstream -s state -p 1024 -m >q.mig
	migstream-cat --extract=$IDSTR q.mig | cmp state -
	"$SIM" --state-dir sim --device vfio1,expect-seed=7 -- \
		sh -c 'migstream-cat --from-qemu <q.mig | vfio-mig-load -q -d vfio1'
	[ "$(sed -n 's/^load_verified=//p' sim/vfio1.state)" = ok ]
	[ "$(sed -n 's/^loaded_bytes=//p' sim/vfio1.state)" = 9216 ]
	[ "$(sed -n 's/^load_digest=//p' sim/vfio1.state)" = "$(sed -n 's/^save_digest=//p' sim/vfio0.state)" ]
	[ "$(sed -n 's/^last_state=//p' sim/vfio1.state)" = RUNNING ]
}

@test "qemu: --from-qemu of a cut stream: exit 4, one line; the load fails and leaves the target unloaded" {
	local SIM="$VMT_SRCDIR/tests/sim/vfiosim-run"
	[ -x "$SIM" ] && [ -e "${VMT_SIM_LIB:-}" ] || skip "simulator not built"
	vmt_require_tool vfio-mig-load
	"$SIM" --state-dir sim --device vfio0,size=8K,precopy-initial=1K,seed=7 -- vfio-mig-save -q -d vfio0 -o saved.vms
	migstream-cat --extract=0 saved.vms >state
	qemu-mkstream -s state -p 1024 >q.mig
	head -c $(($(vmt_size q.mig) - 600)) q.mig >cut.mig
	vmt_run 4 sh -c 'migstream-cat --from-qemu cut.mig >cut.vms'
	vmt_one_line_error migstream-cat '^migstream-cat: error: cut\.mig: byte [0-9]+, section [0-9]+'
	run "$SIM" --state-dir sim --device vfio1,expect-seed=7 -- vfio-mig-load -q -d vfio1 -i cut.vms
	[ "$status" -ne 0 ]
	[ "$(sed -n 's/^load_verified=//p' sim/vfio1.state)" != ok ]
}

@test "qemu: --from-qemu with multifd channels: the complete phase from the channels, in index order" {
	vmt_random_file state 100
	qemu-mkstream -s state -p 24 -m -M mf >q.mig
	# the main channel alone holds the pre-copy part only
	[ "$(migstream-cat --extract=$IDSTR q.mig | wc -c)" = 24 ]
	vmt_run 0 sh -c 'migstream-cat --from-qemu q.mig mf0 mf1 >q.vms'
	migstream-cat --extract=0 q.vms | cmp state -
	# the channels in any order, the main channel anywhere
	migstream-cat --from-qemu mf1 q.mig mf0 | migstream-cat --extract=0 | cmp state -
	# the main channel from standard input
	migstream-cat --from-qemu - mf0 mf1 <q.mig | migstream-cat --extract=0 | cmp state -
	migstream-cat q.vms | grep -c ' DATA .* STOP_COPY ' | grep -qx 5
}

@test "qemu: the listing, --verify and --extract take a main channel and its multifd channels as one migration" {
	vmt_random_file state 100
	qemu-mkstream -s state -p 24 -M mf >q.mig
	vmt_run 0 migstream-cat --extract=$IDSTR mf1 q.mig mf0
	migstream-cat --extract=$IDSTR q.mig mf0 mf1 | cmp state -
	migstream-cat --extract=9 q.mig mf0 mf1 | cmp state -
	vmt_run 0 migstream-cat --verify q.mig mf0 mf1
	[ -z "$output" ] && [ -z "$stderr" ]
	vmt_run 0 migstream-cat q.mig mf0 mf1
	grep -qE '^  multifd channel mf0 \(id 0\): [0-9]+ bytes, 0 RAM packets \(0 sync\), 0 pages, 0 zero, [0-9]+ device packets' <<<"$output"
	grep -qE "^  multifd device  $IDSTR \\(instance 0\\): 76 bytes in [0-9]+ buffers, config state [0-9]+ bytes, PCI 4348:3253 " <<<"$output"
	# a channel missing: the device's buffers do not add up
	vmt_run 4 migstream-cat --verify q.mig mf0
	vmt_one_line_error migstream-cat 'never came|ended before its config state'
	# standard input is a stream of its own: the channels are refused there
	vmt_run 4 sh -c 'migstream-cat --verify - mf0 mf1 <q.mig'
}

@test "qemu: --from-qemu with a multifd channel missing or twice: exit 4, one line naming it" {
	vmt_random_file state 100
	qemu-mkstream -s state -p 24 -M mf >q.mig
	vmt_run 4 sh -c 'migstream-cat --from-qemu q.mig mf0 >q.vms'
	vmt_one_line_error migstream-cat 'channel mf0, byte [0-9]+.*buffer 1 .*never came'
	vmt_run 4 sh -c 'migstream-cat --from-qemu q.mig mf0 mf0 >q.vms'
	vmt_one_line_error migstream-cat 'mf0'
	vmt_run 4 sh -c 'migstream-cat --from-qemu mf0 mf1 >q.vms'
	vmt_one_line_error migstream-cat '^migstream-cat: error: mf0: no QEMU main channel'
	vmt_run 4 sh -c 'cp q.mig q2.mig; migstream-cat --from-qemu q.mig q2.mig >q.vms'
	vmt_one_line_error migstream-cat '^migstream-cat: error: q2\.mig: a second QEMU main channel'
	printf 'junk....' >junk
	vmt_run 4 sh -c 'migstream-cat --from-qemu q.mig junk >q.vms'
	vmt_one_line_error migstream-cat '^migstream-cat: error: junk: neither a QEMU migration stream nor a QEMU multifd channel'
}

@test "qemu: a multifd channel alone, and modes that take migstreams only, are refused with the way to go" {
	qemu-mkstream -M mf >q.mig
	vmt_run_error 4 '^migstream-cat: error: mf0: is a QEMU multifd channel: give it after its main channel to --from-qemu' \
		migstream-cat mf0
	vmt_run 2 sh -c 'migstream-cat --passthrough q.mig >/dev/null'
	vmt_one_line_error migstream-cat '^migstream-cat: error: q\.mig: is a QEMU migration stream: this mode takes migstreams'
	vmt_run_error 2 '^migstream-cat: error: q\.mig: is a QEMU migration stream: --dirty and --output are for migstreams' \
		migstream-cat --dirty q.mig
}

@test "qemu: migstreams are still read from a pipe (the first bytes handed back)" {
	vmt_require_tool migstream-cat-mkstream
	migstream-cat-mkstream >full.vms
	migstream-cat full.vms | sed 's/full\.vms/FILE/' >file.txt
	migstream-cat <full.vms | sed 's/<stdin>/FILE/' >pipe.txt
	diff -u file.txt pipe.txt
	migstream-cat --passthrough <full.vms 2>/dev/null | cmp full.vms -
	# shorter than the head: still "not a migstream"
	printf 'QEV' >short
	vmt_run 4 sh -c 'migstream-cat <short'
	vmt_one_line_error migstream-cat 'not a migstream'
}

# The golden streams real QEMU 10.0.2 wrote on the kernel tier (an mtty with
# a distinctive state; tests/vectors/qemu/README gives their command lines
# and query-migrate's figures).

qvectors() {
	[ -r "$QVECTORS/qemu10-mtty-file.mig" ] || skip "no QEMU vectors in $QVECTORS"
}

@test "qemu vectors: every golden QEMU stream is listed (golden listing) and verified, from a file and a pipe" {
	qvectors
	local v out
	for v in "$QVECTORS"/*.mig "$QVECTORS"/qemu10-mtty-multifd.0; do
		out=$(basename "$v")
		migstream-cat "$v" | sed "s|$QVECTORS/||" >"$out.txt"
		vmt_check_golden "qemu-vector-$out.txt" "$out.txt"
		grep -qE "^ +[0-9]+ +[0-9]+ FULL +[0-9]+ $IDSTR " "$out.txt"
		migstream-cat --verify "$v"
		migstream-cat --verify <"$v"
	done
}

@test "qemu vectors: mtty's 60 bytes as query-migrate counted them: 24 in pre-copy, 36 in the complete phase, PCI 4348:3253" {
	qvectors
	local v
	for v in file exec switchover-ack; do
		v=$QVECTORS/qemu10-mtty-$v.mig
		[ "$(migstream-cat --extract=$IDSTR "$v" | wc -c)" = 60 ]
		vmt_run 0 migstream-cat "$v"
		grep -qx '    pre-copy      24 bytes' <<<"$output"
		grep -qx '    complete      36 bytes' <<<"$output"
		grep -qE '^    config state  4116 bytes, PCI 4348:3253 ' <<<"$output"
	done
	# the file: capture's RAM as query-migrate said it: 51 normal pages, 4175 duplicate
	vmt_run 0 migstream-cat "$QVECTORS/qemu10-mtty-file.mig"
	grep -qx '  ram pages       51 normal, 4175 zero (page size 4096)' <<<"$output"
	grep -qx '  stream bytes    328117' <<<"$output"
}

@test "qemu vectors: switchover-ack's DEV_INIT_DATA_SENT is listed and becomes INIT_DATA_SENT after the 24 initial bytes" {
	qvectors
	local v=$QVECTORS/qemu10-mtty-switchover-ack.mig
	vmt_run 0 migstream-cat "$v"
	grep -qE ' PART +[0-9]+ 0000:00:01\.0/vfio .* pre-copy 24 bytes DEV_INIT_DATA_SENT$' <<<"$output"
	grep -qx '    init marks    1 (DEV_INIT_DATA_SENT)' <<<"$output"
	migstream-cat --from-qemu <"$v" | migstream-cat >listing.txt
	grep -qE ' INIT_DATA_SENT +0 .* generation=1 offset=24 initial=24$' listing.txt
	# without switchover-ack, no mark
	migstream-cat --from-qemu "$QVECTORS/qemu10-mtty-file.mig" | migstream-cat >listing.txt
	! grep -q INIT_DATA_SENT listing.txt
}

@test "qemu vectors: --from-qemu carries the device's bytes; multifd's three captures in any order give the same 60" {
	qvectors
	migstream-cat --extract=$IDSTR "$QVECTORS/qemu10-mtty-file.mig" >file.state
	migstream-cat --from-qemu "$QVECTORS/qemu10-mtty-file.mig" | migstream-cat --extract=0 | cmp file.state -
	# the main channel of the multifd migration holds the pre-copy part only
	[ "$(migstream-cat --extract=$IDSTR "$QVECTORS/qemu10-mtty-multifd.0" | wc -c)" = 24 ]
	migstream-cat --from-qemu "$QVECTORS"/qemu10-mtty-multifd.{0,1,2} >mf.vms
	migstream-cat --verify mf.vms
	migstream-cat --extract=0 mf.vms | cmp file.state -
	migstream-cat --from-qemu "$QVECTORS"/qemu10-mtty-multifd.{2,0,1} | migstream-cat --extract=0 | cmp file.state -
	# a channel missing: the config state (the last buffer) never comes
	vmt_run 4 sh -c "migstream-cat --from-qemu $QVECTORS/qemu10-mtty-multifd.0 $QVECTORS/qemu10-mtty-multifd.1 >mf.vms"
	vmt_one_line_error migstream-cat 'every channel ended before its config state'
}

@test "qemu vectors: the multifd migration's three captures listed, verified and extracted as one" {
	qvectors
	local mf=("$QVECTORS"/qemu10-mtty-multifd.{0,1,2})
	migstream-cat --verify "${mf[@]}"
	migstream-cat --extract=$IDSTR "$QVECTORS/qemu10-mtty-file.mig" >file.state
	migstream-cat --extract=$IDSTR "${mf[@]}" | cmp file.state -
	vmt_run 0 migstream-cat "${mf[@]}"
	[ "$(grep -c '^  multifd channel ' <<<"$output")" = 2 ]
	grep -qE "^  multifd device  $IDSTR \\(instance 0\\): 36 bytes in 2 buffers, config state 4116 bytes, PCI 4348:3253 " <<<"$output"
}

@test "qemu vectors: cut at every section edge, and END_OF_STATE flipped: exit 4, one line with the byte and the section" {
	command -v jq >/dev/null || skip "jq not installed"
	qvectors
	local v=$QVECTORS/qemu10-mtty-file.mig
	# shellcheck disable=SC2046 # one offset a word
	cuts_fail "$v" $(migstream-cat --json "$v" | jq -r 'select(.type == "qemu_section") | .offset, .offset + 1' | sort -nu)
	# the README's END_OF_STATE after the complete phase's data (247473): its last byte
	cp "$v" bad.mig
	[ "$(od -An -tx1 -j 247473 -N8 bad.mig | tr -d ' ')" = ffffffffef100001 ]
	vmt_flip_byte bad.mig $((247473 + 7))
	vmt_run 4 migstream-cat --verify bad.mig
	vmt_one_line_error migstream-cat "^migstream-cat: error: bad\\.mig: byte 247473, section [0-9]+ \\(END [0-9]+ \"$IDSTR\"\\)"
}
