#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
#
# migstream-cat: every mode and option on valid streams. Error paths are in
# migstream-cat-errors.bats.

load helpers

setup() {
	cat_setup
}

@test "--help prints usage on stdout and exits 0" {
	vmt_run 0 migstream-cat --help
	[[ "$output" == Usage:* ]]
	[[ "$output" == *--extract=DEV* ]]
	[[ "$output" == *--passthrough* ]]
	[ -z "$stderr" ]
}

@test "--version" {
	vmt_run 0 migstream-cat -V
	[[ "$output" =~ ^migstream-cat\ \(vfio-migtools\)\ [0-9]+\.[0-9]+\.[0-9]+$ ]]
}

@test "listing of every record type matches the golden file" {
	vmt_run 0 migstream-cat full.vms
	printf '%s\n' "$output" | vmt_normalise >listing.txt
	vmt_check_golden migstream-cat-full.txt listing.txt
}

@test "--json matches the golden file and every line is a JSON object" {
	command -v jq >/dev/null || skip "jq not installed"
	vmt_run 0 migstream-cat --json full.vms
	printf '%s\n' "$output" | vmt_normalise >listing.json
	vmt_check_golden migstream-cat-full.json listing.json
	jq -e -c 'type == "object" and .schema == "migstream-cat/1"' listing.json >/dev/null
	while read -r l; do printf '%s\n' "$l" | python3 -m json.tool >/dev/null; done <listing.json
	# one object per record, then the summary
	[ "$(grep -c '"seq": ' listing.json)" -eq 22 ]
	[ "$(tail -1 listing.json | jq -r .type)" = summary ]
	[ "$(tail -1 listing.json | jq .dirty_pages)" -eq 2143 ]
	[ "$(tail -1 listing.json | jq .devices)" -eq 2 ]
	[ "$(jq -s 'map(select(.type == "device_summary"))[0].total_bytes' listing.json)" -eq 35000 ]
	[ "$(jq -s 'map(select(.type == "device_summary"))[1].stop_copy_bytes' listing.json)" -eq 3000 ]
}

@test "--json and the listing carry the same columns" {
	command -v jq >/dev/null || skip "jq not installed"
	vmt_run 0 migstream-cat --json full.vms
	# the columns, then (with info) the record's own fields
	keys=$(printf '%s\n' "$output" | head -1 | jq -r 'keys_unsorted[:13] | join(",")')
	[ "$keys" = schema,file,offset,seq,type,device,phase,chunk,raw_len,stored_len,compression,check,info ]
	keys=$(printf '%s\n' "$output" | head -1 | jq -r 'keys_unsorted[13:] | join(",")')
	[ "$keys" = producer,producer_version,host,time,time_ns ]
	vmt_run 0 migstream-cat full.vms
	[[ "${lines[0]}" =~ ^\ +OFFSET\ +SEQ\ TYPE\ +DEV\ PHASE\ +CHUNK\ +RAW\ +STORED\ COMP\ CHECK\ INFO$ ]]
}

@test "-o picks columns for the listing and --json" {
	vmt_run 0 migstream-cat -q -o seq,type,raw_len full.vms
	[ "${lines[0]}" = "    SEQ TYPE               RAW" ]
	[ "${lines[1]}" = "      0 STREAM_HEADER       41" ]
	[ "${#lines[@]}" -eq 23 ]
	vmt_run 0 migstream-cat --json -o TYPE,device full.vms
	[ "${lines[1]}" = '{ "schema": "migstream-cat/1", "file": "full.vms", "type": "DEVICE", "device": 0 }' ]
}

@test "--dirty lists page ranges of DIRTY_BITMAP records (golden)" {
	vmt_run 0 migstream-cat --dirty full.vms
	printf '%s\n' "$output" | vmt_normalise >dirty.txt
	vmt_check_golden migstream-cat-dirty.txt dirty.txt
	# RUNS record: 16-18, 100, 4000-4095 from iova 0x100000
	grep -qx '  dirty 0x0000000000110000-0x0000000000112fff 3 pages' dirty.txt
	grep -qx '  dirty 0x00000000010a0000-0x00000000010fffff 96 pages' dirty.txt
}

@test "--pages is --dirty; --json ranges add up to the dirty counts" {
	command -v jq >/dev/null || skip "jq not installed"
	vmt_run 0 migstream-cat --pages --json full.vms
	printf '%s\n' "$output" >dirty.json
	sum=$(jq -s '[.[] | select(.type == "dirty_range") | .pages] | add' dirty.json)
	[ "$sum" -eq 2143 ]
	[ "$(jq -s '[.[] | select(.type == "DIRTY_BITMAP")] | length' dirty.json)" -eq 2 ]
}

@test "-q leaves out the summary" {
	vmt_run 0 migstream-cat -q full.vms
	[ "${#lines[@]}" -eq 23 ]
	[[ "$output" != *summary* ]]
}

@test "summary: bytes per device and phase, records, dirty pages, precopy samples" {
	vmt_run 0 migstream-cat full.vms
	[[ "$output" == *"records:        22 (0 compressed, 1 skipped)"* ]]
	[[ "$output" == *"PRECOPY_INITIAL 10000"* ]]
	[[ "$output" == *"PRECOPY_DIRTY   5000"* ]]
	[[ "$output" == *"total           35000 (34.2 KiB) in 10 chunks"* ]]
	[[ "$output" == *"precopy info:   2 samples"* ]]
	[[ "$output" == *"dirty bitmaps:  2 records, 2143 dirty of 8192 pages"* ]]
}

@test "several files are listed one after another, each its own stream" {
	cp full.vms second.vms
	vmt_run 0 migstream-cat full.vms second.vms
	[ "${lines[0]}" = "full.vms:" ]
	[ "$(printf '%s\n' "$output" | grep -c '^summary of ')" -eq 2 ]
	printf '%s\n' "$output" | grep -qx 'second.vms:'
}

@test "standard input: no file, or -" {
	vmt_run 0 migstream-cat -q full.vms
	expected=$output
	run --separate-stderr bash -c 'migstream-cat -q < full.vms'
	[ "$status" -eq 0 ]
	[ "$output" = "$expected" ]
	run --separate-stderr bash -c 'cat full.vms | migstream-cat -q -'
	[ "$status" -eq 0 ]
	[ "$output" = "$expected" ]
	run --separate-stderr bash -c 'migstream-cat --json < full.vms | head -1'
	[[ "$output" == '{ "schema": "migstream-cat/1", "file": "<stdin>", '* ]]
}

@test "--verify: no output, exit 0; -v says ok" {
	vmt_run 0 migstream-cat --verify full.vms
	[ -z "$output" ]
	[ -z "$stderr" ]
	vmt_run 0 migstream-cat --verify -v full.vms
	[[ "$stderr" == *"full.vms: ok"* ]]
}

@test "--wrap then --extract gives back the same bytes (several sizes)" {
	for size in 0 1 4095 4096 4097 1M 3000001; do
		vmt_random_file raw "$size"
		migstream-cat --wrap raw >s.vms
		migstream-cat --verify s.vms
		migstream-cat --extract=0 s.vms >back
		cmp raw back
	done
}

@test "--wrap --chunk-size sets the DATA record size" {
	vmt_random_file raw 10000
	migstream-cat --wrap --chunk-size=4K raw >s.vms
	vmt_run 0 migstream-cat -q -o type,chunk,raw_len s.vms
	[ "$(printf '%s\n' "$output" | grep -c DATA)" -eq 3 ]
	printf '%s\n' "$output" | grep -q 'DATA                2     1832'
	migstream-cat --extract=0 s.vms | cmp - raw
}

@test "--wrap from standard input in a pipeline" {
	vmt_random_file raw 2M
	cat raw | migstream-cat --wrap | migstream-cat --extract=0 | cmp - raw
}

@test "--wrap descriptor options land in the DEVICE and DATA records" {
	vmt_random_file raw 100
	migstream-cat --wrap --name=0000:3b:00.1 --driver=mlx5_vfio_pci --mig-flags=0x5 \
		--phase=precopy-initial raw >s.vms
	vmt_run 0 migstream-cat -q s.vms
	[[ "$output" == *"name=0000:3b:00.1 driver=mlx5_vfio_pci mig_flags=0x5 stop_copy_size=100"* ]]
	[[ "$output" == *"DATA            0 PRECOPY_INITIAL"* ]]
	cat raw | migstream-cat --wrap --phase=stop-copy >p.vms
	vmt_run 0 migstream-cat -q p.vms
	[[ "$output" == *"name=<stdin> driver= mig_flags=0x1 stop_copy_size=unknown"* ]]
}

@test "-z compresses --wrap output and round trips" {
	vmt_text_file raw 3M
	migstream-cat --wrap -z raw >z.vms
	migstream-cat --wrap -z19 raw >z19.vms
	migstream-cat --wrap --compress=1 raw >z1.vms
	migstream-cat --extract=0 z1.vms | cmp - raw
	migstream-cat --wrap raw >plain.vms
	[ "$(vmt_size z.vms)" -lt $(( $(vmt_size plain.vms) / 10 )) ]
	vmt_run 0 migstream-cat -q -o type,compression z.vms
	[[ "$output" == *"DATA          zstd"* ]]
	migstream-cat --extract=0 z.vms | cmp - raw
	migstream-cat --extract=0 z19.vms | cmp - raw
}

@test "--recompress round trip keeps every record and the device bytes" {
	migstream-cat-mkstream -c >c.vms
	migstream-cat --recompress=5 c.vms >z.vms
	migstream-cat --recompress=none z.vms >back.vms
	[ "$(vmt_size z.vms)" -lt "$(vmt_size c.vms)" ]
	migstream-cat --verify z.vms
	# same records, same payloads: only the stored form may differ
	# (STREAM_END counts stored bytes: the one record that must change)
	migstream-cat -q -o seq,type,device,phase,chunk,raw_len,info c.vms | grep -v STREAM_END >a.txt
	migstream-cat -q -o seq,type,device,phase,chunk,raw_len,info z.vms | grep -v STREAM_END >b.txt
	diff a.txt b.txt
	cmp c.vms back.vms
	for dev in 0 1; do
		migstream-cat --extract=$dev c.vms >a.raw
		migstream-cat --extract=$dev z.vms >b.raw
		cmp a.raw b.raw
	done
	vmt_run 0 migstream-cat -q z.vms
	[[ "$output" == *"producer=mkstream version=1.0 host=testhost"* ]]
}

@test "--passthrough copies the stream byte for byte and lists on stderr" {
	vmt_run 0 migstream-cat --passthrough full.vms
	migstream-cat --passthrough full.vms 2>list.txt >copy.vms
	cmp full.vms copy.vms
	grep -q '^summary of full.vms:' list.txt
	grep -q 'STREAM_END' list.txt
	migstream-cat -q --passthrough full.vms 2>quiet.txt >copy2.vms
	cmp full.vms copy2.vms
	[ ! -s quiet.txt ]
}

@test "--passthrough as a monitor inside a pipeline" {
	vmt_random_file raw 5M
	migstream-cat --wrap -z1 raw | migstream-cat --passthrough --json 2>mon.json |
		migstream-cat --extract=0 >back
	cmp raw back
	grep -q '"type": "summary"' mon.json
}

@test "--extract picks one device of several, and concatenates inputs" {
	migstream-cat --extract=1 full.vms >d1
	[ "$(vmt_size d1)" -eq 3000 ]
	migstream-cat --extract=0 full.vms >d0
	[ "$(vmt_size d0)" -eq 35000 ]
	migstream-cat --extract=0 full.vms full.vms >d00
	cat d0 d0 | cmp - d00
	# compressed streams give the same bytes
	migstream-cat-mkstream -z 3 >z.vms
	migstream-cat --extract=0 z.vms | cmp - d0
}

@test "binary output is refused on a terminal unless --force" {
	vmt_random_file raw 100
	migstream-cat --wrap raw >s.vms
	VMT_FORCE_TTY=1 vmt_run_error 2 'refusing to write binary data to a terminal' \
		migstream-cat --extract=0 s.vms
	[ -z "$output" ]
	VMT_FORCE_TTY=1 vmt_run_error 2 'terminal' migstream-cat --wrap raw
	VMT_FORCE_TTY=1 vmt_run_error 2 'terminal' migstream-cat --recompress=1 s.vms
	VMT_FORCE_TTY=1 vmt_run_error 2 'terminal' migstream-cat --passthrough s.vms
	VMT_FORCE_TTY=1 migstream-cat -f --extract=0 s.vms | cmp - raw
	VMT_FORCE_TTY=1 migstream-cat --force --passthrough s.vms 2>/dev/null | cmp - s.vms
	# a listing is text: fine on a terminal
	VMT_FORCE_TTY=1 vmt_run 0 migstream-cat -q s.vms
}

@test "--progress draws on stderr only, never in the data" {
	vmt_random_file raw 1M
	migstream-cat --wrap --progress raw >s.vms 2>/dev/null
	migstream-cat --extract=0 --progress s.vms 2>/dev/null | cmp - raw
	vmt_run 0 migstream-cat --verify --progress s.vms
	[ -z "$output" ]
}

@test "-v and -vv trace what is read on stderr, not stdout" {
	vmt_run 0 migstream-cat full.vms
	expected=$output
	[ -z "$stderr" ]
	vmt_run 0 migstream-cat -v full.vms
	[ "$output" = "$expected" ]
	[[ "$stderr" == *"debug: full.vms: 22 records, 39972 bytes, ok"* ]]
	[[ "$stderr" != *"record 4"* ]]
	vmt_run 0 migstream-cat -vv full.vms
	[ "$output" = "$expected" ]
	[[ "$stderr" == *"debug: full.vms: record 4 (DATA) at byte 383, 4120 bytes"* ]]
}

@test "every option in --help is in the man page and the bash completion" {
	vmt_run 0 migstream-cat --help
	opts=$(printf '%s\n' "$output" | grep -oE -- '--[a-z][a-z-]+' | sort -u)
	[ -n "$opts" ]
	for opt in $opts; do
		grep -q -- "${opt//-/\\\\-}" "$VMT_SRCDIR/man/migstream-cat.1" ||
			{ echo "$opt not in man/migstream-cat.1" >&2; return 1; }
		grep -q -- "$opt" "$VMT_SRCDIR/completion/migstream-cat" ||
			{ echo "$opt not in completion/migstream-cat" >&2; return 1; }
	done
}

@test "--json gives a DEVICE record's fields keys of their own, next to info" {
	command -v jq >/dev/null || skip "jq not installed"
	vmt_run 0 migstream-cat --json full.vms
	printf '%s\n' "$output" | jq -c 'select(.type == "DEVICE")' >devices.json
	[ "$(jq -s length devices.json)" -eq 2 ]
	# device 0: PCI ids, every flag named
	[ "$(jq -s -r '.[0] | "\(.name) \(.driver) \(.migration_flags) \(.migration_flags_names | join("|")) \(.stop_copy_bytes) \(.mdev_type)"' devices.json)" = \
		"0000:00:04.0 vfio-pci 5 STOP_COPY|PRE_COPY 20000 " ]
	[ "$(jq -s -r '.[0] | [.pci_vendor, .pci_device, .pci_subsys_vendor, .pci_subsys_device, .pci_class, .pci_revision] | join(",")' devices.json)" = \
		"$((0x1af4)),$((0x1041)),$((0x1af4)),$((0x1100)),$((0x020000)),1" ]
	# device 1: an mdev without PCI ids, its size unknown: null, not a string to parse
	[ "$(jq -s -c '.[1] | [.name, .mdev_type, .stop_copy_bytes, .pci_vendor, .pci_class]' devices.json)" = \
		'["83b8f4f2-509f-382f-3c1e-e6bfe0fa1001","mtty-2",null,null,null]' ]
	# info stays (schema migstream-cat/1 has it), with the same facts
	[ "$(jq -s -r '.[0].info' devices.json)" = \
		"name=0000:00:04.0 driver=vfio-pci mig_flags=0x5 stop_copy_size=20000 pci=1af4:1041 subsys=1af4:1100 class=0x020000 rev=0x01" ]
	# the fields come with the info column, not without it
	vmt_run 0 migstream-cat --json -o type,device full.vms
	[ "$(printf '%s\n' "$output" | jq -c 'select(.type == "DEVICE") | keys_unsorted' | sort -u)" = \
		'["schema","file","type","device"]' ]
}

@test "--extract=NAME: the device whose DEVICE record has that name; unknown or ambiguous names are one-line errors" {
	migstream-cat --extract=1 full.vms >by-index
	migstream-cat --extract=83b8f4f2-509f-382f-3c1e-e6bfe0fa1001 full.vms | cmp - by-index
	migstream-cat --extract=0 full.vms >by-index
	migstream-cat --extract=0000:00:04.0 full.vms | cmp - by-index
	vmt_run_error 4 "full\\.vms: no device named '0000:00:05\\.0' in the stream$" \
		migstream-cat --extract=0000:00:05.0 full.vms
	[ -z "$output" ]
	# the name from the command line is shown escaped: the error stays one line
	vmt_run_error 4 "no device named 'x\\\\x0ay' in the stream$" migstream-cat --extract=$'x\ny' full.vms
	# two devices of one name: the index must say which
	migstream-cat-mkstream -n 0000:00:04.0 >twins.vms
	vmt_run_error 4 "twins\\.vms: device name '0000:00:04\\.0' is ambiguous: devices 0 and 1 have it \\(give the index\\)$" \
		migstream-cat --extract=0000:00:04.0 twins.vms
	[ -z "$output" ]
	migstream-cat --extract=1 twins.vms | cmp - <(migstream-cat --extract=1 full.vms)
	# a number is always an index
	vmt_run_error 2 "invalid --extract argument: '4294967296'" migstream-cat --extract=4294967296 full.vms
}

@test "reply streams: listed and verified, each reply record described, the loader's message escaped" {
	migstream-cat-mkstream -R ack,result >ok.vms
	migstream-cat-mkstream -R failed >failed.vms
	vmt_run 0 migstream-cat --verify ok.vms failed.vms
	vmt_run 0 migstream-cat ok.vms
	[[ "$output" == *" SWITCHOVER_ACK   0 "*"generation=1 bytes=10000 time="* ]]
	[[ "$output" == *" LOAD_RESULT     - "*"exit_code=0 time="*" target=0:RUNNING:LOADED|IN_STATE"* ]]
	[[ "$output" == *"  reply stream:   1 switchover acks, load result: exit 0 (loaded)"* ]]
	vmt_run 0 migstream-cat failed.vms
	[[ "$output" == *"target=0:RUNNING:RESET message=vfio1: rejected \\x1b[2J"* ]]
	[[ "$output" != *$'\e'* ]]
	command -v jq >/dev/null || return 0
	vmt_run 0 migstream-cat --json failed.vms
	[ "$(printf '%s\n' "$output" | jq -c 'select(.type == "LOAD_RESULT") | [.exit_code, .targets, .message]')" = \
		'[4,[{"device":0,"state":"RUNNING","flags":4,"flags_names":["RESET"]}],"vfio1: rejected \u001b[2J"]' ]
	[ "$(printf '%s\n' "$output" | tail -1 | jq -c '[.kind, .switchover_acks, .load_exit_code]')" = '["reply",0,4]' ]
	vmt_run 0 migstream-cat --json full.vms
	[ "$(printf '%s\n' "$output" | tail -1 | jq -r .kind)" = forward ]
}

@test "reply streams: a record out of place is exit 4 and one line naming it" {
	local list want n=0
	while IFS='|' read -r list want; do
		migstream-cat-mkstream -R "$list" >r.vms
		vmt_run_error 4 "r\\.vms: $want" migstream-cat --verify r.vms </dev/null
		n=$((n + 1))
	done <<-'EOF'
	ack|record 2 \(STREAM_END\) at byte 153: the reply stream ends without a LOAD_RESULT$
	result,ack|record 2 \(SWITCHOVER_ACK\) at byte 155: a record after LOAD_RESULT \(it must be the last before STREAM_END\)$
	result,future|record 2 \(UNKNOWN\) at byte 155: a record after LOAD_RESULT
	ack,device,result|record 2 \(DEVICE\) at byte 153: DEVICE in a reply stream
	badflags|record 1 \(LOAD_RESULT\) at byte 89: bad LOAD_RESULT payload \(34 bytes\)$
	device,result|record 2 \(LOAD_RESULT\) at byte 172: LOAD_RESULT in a forward stream
	EOF
	[ "$n" -eq 6 ]
	# an unknown ancillary record before the first reply record is skipped
	migstream-cat-mkstream -R future,ack,result >r.vms
	vmt_run 0 migstream-cat --verify r.vms
	# a reply record inside a forward stream: refused, and --passthrough stops before it
	migstream-cat-mkstream -a >f.vms
	vmt_run_error 4 "f\\.vms: record 4 \\(SWITCHOVER_ACK\\) at byte 383: SWITCHOVER_ACK in a forward stream" \
		migstream-cat --verify f.vms
	migstream-cat -q --passthrough f.vms >copy || true
	head -c 383 f.vms | cmp - copy
	# --json: the error is the last line
	run migstream-cat --json f.vms
	[ "$status" -eq 4 ]
	[[ "${lines[-1]}" == *'"type": "error"'*'SWITCHOVER_ACK in a forward stream'* ]]
}
