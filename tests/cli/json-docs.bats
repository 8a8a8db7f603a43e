#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Every tool's --json output, with a non-ASCII name in it where the tool
# takes one: each document or line is valid JSON (python3 -m json.tool),
# starts with "schema": "TOOL/N", and every key in it is documented in the
# tool's man page, in its JSON OUTPUT section.

load helpers

setup() {
	command -v jq >/dev/null || skip "jq not installed"
	command -v python3 >/dev/null || skip "python3 not installed"
	SIM="$VMT_SRCDIR/tests/sim/vfiosim-run"
	[ -x "$SIM" ] && [ -e "${VMT_SIM_LIB:-}" ] || skip "simulator not built"
	cd "$VMT_TMP"
}

sim() {
	"$SIM" --state-dir "$VMT_TMP/sim" "$@"
}

# The JSON OUTPUT section of a man page, as plain words.
json_section() {
	awk '/^\.SH JSON OUTPUT/ { on = 1; next } /^\.SH/ { on = 0 } on' "$VMT_SRCDIR/man/$1.1"
}

# check_json TOOL SCHEMA FILE: FILE holds JSON lines of TOOL.
check_json() {
	local tool=$1 schema=$2 file=$3 section missing=() key
	[ -s "$file" ] || { echo "$tool: no JSON output"; return 1; }
	section=$(json_section "$tool")
	[ -n "$section" ] || { echo "$tool(1) has no JSON OUTPUT section"; return 1; }
	python3 -m json.tool --json-lines "$file" >/dev/null || { echo "$tool: not JSON lines"; return 1; }
	if jq -r 'keys_unsorted[0] + "=" + .schema' "$file" | grep -vx "schema=$schema"; then
		echo "$tool: a line without a leading \"schema\": \"$schema\""
		return 1
	fi
	while IFS= read -r key; do
		grep -qw -- "$key" <<<"$section" || missing+=("$key")
	done < <(jq -r '[paths | map(select(type == "string")) | last // empty] | unique[]' "$file" | sort -u)
	if ((${#missing[@]})); then
		echo "$tool: JSON keys not in the man page's JSON OUTPUT: ${missing[*]}"
		return 1
	fi
}

@test "json: vfio-mig-save, success and failure, names in UTF-8" {
	vmt_require_tool vfio-mig-save
	sim --device vfio0,size=64K -- vfio-mig-save --json -d vfio0 -o café.vms 2>save.json
	ln -s /dev/full plein-café
	! sim --device vfio0,size=64K -- vfio-mig-save --json -d vfio0 -o plein-café 2>>save.json
	check_json vfio-mig-save vfio-mig-save/1 save.json
	grep -q '"output": "café.vms"' save.json
	grep -q '"file": "plein-café"' save.json
}

@test "json: vfio-mig-load, success and failure, names in UTF-8" {
	vmt_require_tool vfio-mig-save
	vmt_require_tool vfio-mig-load
	sim --device vfio0,size=64K,seed=3 -- vfio-mig-save -q -d vfio0 -o flux-é.vms
	sim --device vfio1,size=64K,seed=3 -- vfio-mig-load --json -i flux-é.vms vfio1 2>load.json
	! sim --device vfio1 -- vfio-mig-load --json -i flux-é.vms /dev/vfio/devices/vfio9 2>>load.json
	printf 'junk' >junk-é.vms
	! sim --device vfio1 -- vfio-mig-load --json -i junk-é.vms vfio1 2>>load.json
	check_json vfio-mig-load vfio-mig-load/1 load.json
	grep -q '"target": "/dev/vfio/devices/vfio9"' load.json
	grep -q '"file": "junk-é.vms"' load.json
}

@test "json: vfio-mig-load's numbers are named by their unit: sizes _bytes, rates _bytes_per_s, durations _s" {
	vmt_require_tool vfio-mig-save
	vmt_require_tool vfio-mig-load
	sim --device vfio0,size=64K,seed=3 -- vfio-mig-save -q -d vfio0 -o s.vms
	sim --device vfio1,size=64K,seed=3 -- vfio-mig-load --json -i s.vms vfio1 2>load.json
	printf 'junk' >junk.vms
	! sim --device vfio1 -- vfio-mig-load --json -i junk.vms vfio1 2>>load.json
	# every number not so named is one of these counts, indexes or positions
	local others
	others=$(jq -r '[paths(type == "number") | map(select(type == "string")) | last] | unique[]' load.json |
		grep -Ev '_bytes$|_bytes_per_s$|_s$' |
		grep -Evx 'channels|chunks|exit_code|index|offset|record|records|switchover_acks' | sort -u)
	[ -z "$others" ] || { echo "numbers not named by their unit: $others"; return 1; }
	# and the names keep their units: the sizes are integers
	jq -e '[paths(type == "number") as $p | select($p[-1] | type == "string" and endswith("_bytes"))
		| getpath($p) | . == floor] | all' load.json >/dev/null
}

@test "json: migstream-cat listing, --dirty and summaries, file name in UTF-8" {
	vmt_require_tool migstream-cat
	migstream-cat-mkstream >flux-é.vms
	migstream-cat --json flux-é.vms >cat.json
	migstream-cat --json --dirty flux-é.vms >>cat.json
	# every other record type's keys: a reply stream, INIT_DATA_SENT, CHANNEL
	migstream-cat-mkstream -R ack,failed >réponse.vms
	migstream-cat --json réponse.vms "$VMT_SRCDIR/tests/vectors/init-data-sent.vms" \
		"$VMT_SRCDIR/tests/vectors/channel-0.vms" >>cat.json
	# a stream cut short: the lines of the records that passed, then the error line
	head -c 300 flux-é.vms >cut-é.vms
	run migstream-cat --json cut-é.vms
	[ "$status" -eq 4 ]
	printf '%s\n' "$output" | grep '^{' >>cat.json
	check_json migstream-cat migstream-cat/1 cat.json
	grep -q '"file": "flux-é.vms"' cat.json
	[ "$(jq -r 'select(.type == "LOAD_RESULT" or .type == "SWITCHOVER_ACK" or .type == "INIT_DATA_SENT" or .type == "CHANNEL") | .type' cat.json | sort | tr '\n' ,)" = \
		CHANNEL,INIT_DATA_SENT,LOAD_RESULT,SWITCHOVER_ACK, ]
	[ "$(tail -1 cat.json | jq -r '"\(.type) \(.ok) \(.error.errno) \(.error.exit_code) \(.file)"')" = "error false EBADMSG 4 cut-é.vms" ]
}

@test "json: migstream-cat on QEMU streams: sections, devices, summary, the error line, names in UTF-8" {
	vmt_require_tool migstream-cat
	vmt_require_tool qemu-mkstream
	# a command, subsections: not in the test layout; the keys of every row kind that is
	qemu-mkstream -m >flux-é.mig
	migstream-cat --json flux-é.mig >qemu.json
	qemu-mkstream -s /dev/null -i 'périph-é/vfio' >qemu-vide.mig
	migstream-cat --json qemu-vide.mig >>qemu.json
	# a main channel with its multifd channels
	qemu-mkstream -M canal-é >qemu-principal.mig
	migstream-cat --json qemu-principal.mig canal-é0 canal-é1 >>qemu.json
	head -c 12500 flux-é.mig >coupé.mig
	run migstream-cat --json coupé.mig
	[ "$status" -eq 4 ]
	printf '%s\n' "$output" | grep '^{' >>qemu.json
	check_json migstream-cat migstream-cat/1 qemu.json
	grep -q '"file": "flux-é.mig"' qemu.json
	grep -q '"idstr": "périph-é/vfio"' qemu.json
	grep -q '"channel": "canal-é0"' qemu.json
	[ "$(jq -r '.type' qemu.json | sort -u | tr '\n' ,)" = error,qemu_multifd_channel,qemu_multifd_device,qemu_section,qemu_summary,qemu_vfio_device, ]
	[ "$(tail -1 qemu.json | jq -r '"\(.type) \(.ok) \(.error.errno) \(.error.exit_code) \(.file)"')" = "error false EBADMSG 4 coupé.mig" ]
}

@test "json: vfio-precopy-info device, samples, estimate and the error line" {
	vmt_require_tool vfio-precopy-info
	sim --device vfio0,size=96K,precopy-initial=48K -- \
		vfio-precopy-info --json --drain --watch 10ms --count 3 --bandwidth 1M -d vfio0 >info.json
	! sim --device vfio0,precopy-initial=1M,read-eio-after=4096 -- \
		vfio-precopy-info --json --drain -o flux-é.vms -d vfio0 >>info.json
	! sim --device vfio0 -- vfio-precopy-info --json -d /dev/vfio/devices/vfio9 >>info.json
	check_json vfio-precopy-info vfio-precopy-info/1 info.json
	[ "$(jq -s 'map(.type) | unique | join(",")' -r info.json)" = device,error,estimate,sample ]
	grep -q '"device": "/dev/vfio/devices/vfio9"' info.json
}

@test "json: iommufd-dirty --stats lines and the error line" {
	vmt_require_tool iommufd-dirty
	sim --iommu 'dirty=0x100000:0x3000' -- \
		iommufd-dirty -d /dev/vfio/devices/vfio0 --map 0x100000:64K --count 2 -i 1ms --stats --json >dirty.json
	! iommufd-dirty -d /dev/vfio/devices/vfio9 --map 0x100000:64K --once --stats --json >>dirty.json
	check_json iommufd-dirty iommufd-dirty/1 dirty.json
	grep -q '"ok": false' dirty.json
	grep -q '"device": "/dev/vfio/devices/vfio9"' dirty.json
}

@test "json: uffd-probe report (with -q) and --list-profiles" {
	vmt_require_tool uffd-probe
	[ "$(id -u)" = 0 ] && [ -e /dev/userfaultfd ] || skip "needs root and /dev/userfaultfd"
	uffd-probe -q --json --functional --faults 20 >uffd.json
	check_json uffd-probe uffd-probe/2 uffd.json
	uffd-probe --list-profiles --json >profiles.json
	check_json uffd-probe uffd-probe-profiles/2 profiles.json
}

@test "json: vfio-mig-ls, every column, driver and mdev type in UTF-8" {
	vmt_require_tool vfio-mig-ls
	sim --device vfio0,driver=pilote-é --device vfio1,flags=none \
		--device 'vfio2,mdev=6f1c1e4a-4a1f-4d0e-9a57-000000000001,mdev-type=mtty-é' -- \
		vfio-mig-ls -J -o name,type,cdev,group,driver,id,mdev-type,open,migration,state,stop-copy,dma-log,dirty >ls.json
	check_json vfio-mig-ls vfio-mig-ls/2 ls.json
	grep -q '"driver": "pilote-é"' ls.json
	grep -q '"mdev_type": "mtty-é"' ls.json
}

@test "json: vfio-mig-check, a failing check, and refusals naming the device in UTF-8" {
	vmt_require_tool vfio-mig-check
	local like=flags=stop-copy+p2p+pre-copy,precopy-initial=48,size=48,precopy-eof=zero,close-reset=no
	! sim --device "vfio0,$like,break=precopy-argsz" --device "vfio1,$like" -- \
		vfio-mig-check --kernel "$("$SIM" --linux-version)" --yes -d /dev/vfio/devices/vfio0 -d /dev/vfio/devices/vfio1 -g precopy -g fsm -J >check.json
	! sim --device vfio0 -- vfio-mig-check --yes -d /dev/vfio/devices/vfio9 -J >>check.json
	! sim --device vfio0 -- vfio-mig-check -d vfio0 -J >>check.json
	check_json vfio-mig-check vfio-mig-check/1 check.json
	[ "$(jq -s -c 'map(.ok)' check.json)" = '[false,false,false]' ]
	[ "$(jq -s -c 'map(.error.errno)' check.json)" = '[null,"ENOENT","EPERM"]' ]
	[ "$(jq -s '.[0].failed' check.json)" = 1 ]
	grep -q '"device": "/dev/vfio/devices/vfio9"' check.json
}
