#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Bash completion of every tool, driven the way bash drives it
# (tests/cli/complete-line: COMP_WORDS cut at COMP_WORDBREAKS, COMP_CWORD,
# COMP_LINE, COMP_POINT, with bash-completion loaded), on the simulator's
# fake sysfs (VMT_SYSFS_ROOT) plus a device only its group reaches; and
# shellcheck over the scripts.

load helpers

UUID=5a1e0000-0000-4000-8000-000000000001

setup() {
	[ -r /usr/share/bash-completion/bash_completion ] || skip "bash-completion not installed"
	export VMT_SYSFS_ROOT="$VMT_TMP/sys"
	"$VMT_SRCDIR/tests/sim/vfiosim-run" --state-dir "$VMT_TMP/sim" --sysfs "$VMT_SYSFS_ROOT" \
		--device vfio0 --device vfio1 --device "vfio2,mdev=$UUID" -- true
	# 0000:02:00.0: vfio-pci, no cdev (group only); 0000:03:00.0: not VFIO's
	local pci="$VMT_SYSFS_ROOT/bus/pci"
	mkdir -p "$pci/devices/0000:02:00.0" "$pci/devices/0000:03:00.0" "$pci/drivers/e1000e"
	ln -s ../../../../bus/pci/drivers/vfio-pci "$pci/devices/0000:02:00.0/driver"
	ln -s ../../../../bus/pci/drivers/e1000e "$pci/devices/0000:03:00.0/driver"
	cd "$VMT_TMP"
}

# comp LINE: the lines readline would make of LINE ("line: ..." only)
comp() {
	run --separate-stderr "$VMT_SRCDIR/tests/cli/complete-line" "$1"
	[ "$status" -eq 0 ] || { echo "complete-line failed: $stderr"; return 1; }
	[ -z "$stderr" ] || { echo "stderr: $stderr"; return 1; }
	lines_=$(printf '%s\n' "$output" | sed -n 's/^line: //p')
	replies=$(printf '%s\n' "$output" | sed -n 's/^reply: //p')
}

# expect LINE RESULT...: completing LINE gives exactly these lines
expect() {
	local line=$1
	shift
	comp "$line"
	local want
	want=$(printf '%s\n' "$@")
	if [ "$lines_" != "$want" ]; then
		printf 'completing "%s"\n--- got:\n%s\n--- want:\n%s\n' "$line" "$lines_" "$want"
		return 1
	fi
}

@test "a PCI address with ':' completes in place (vfio-mig-load -d 0000:01:0)" {
	expect "vfio-mig-load -d 0000:01:0" \
		"vfio-mig-load -d 0000:01:00.0" "vfio-mig-load -d 0000:01:00.1"
	expect "vfio-mig-save -d 0000:01:00." \
		"vfio-mig-save -d 0000:01:00.0" "vfio-mig-save -d 0000:01:00.1"
	expect "vfio-precopy-info --device=0000:01:00.1" "vfio-precopy-info --device=0000:01:00.1"
}

@test "the short PCI form, cdevs by name and path, mdev UUIDs" {
	expect "vfio-mig-save -d 01:00." "vfio-mig-save -d 01:00.0" "vfio-mig-save -d 01:00.1"
	expect "iommufd-dirty -d vfio" "iommufd-dirty -d vfio0" "iommufd-dirty -d vfio1" \
		"iommufd-dirty -d vfio2"
	expect "vfio-precopy-info -d /dev/vfio/devices/vfio1" \
		"vfio-precopy-info -d /dev/vfio/devices/vfio1"
	expect "vfio-mig-ls 5a" "vfio-mig-ls $UUID"
	# a positional device, as -d
	expect "vfio-mig-save 0000:01:00.1" "vfio-mig-save 0000:01:00.1"
}

@test "devices only their group reaches are offered; other PCI devices are not" {
	expect "vfio-mig-save -d 0000:02" "vfio-mig-save -d 0000:02:00.0"
	expect "vfio-mig-load -d 02:" "vfio-mig-load -d 02:00.0"
	comp "vfio-mig-save -d 0000:03"
	[ -z "$lines_" ]
	# with --group only what it takes: addresses and UUIDs, no cdevs
	comp "vfio-mig-save --group -d vf"
	[ -z "$lines_" ]
	expect "vfio-precopy-info --group -d 0000:02:0" "vfio-precopy-info --group -d 0000:02:00.0"
}

@test "values after '=': --map 0=DEV, --then=, --require=, --output=" {
	expect "vfio-mig-load --map 0=0000:01:00." \
		"vfio-mig-load --map 0=0000:01:00.0" "vfio-mig-load --map 0=0000:01:00.1"
	expect "vfio-mig-load --map 1=vfio2" "vfio-mig-load --map 1=vfio2"
	expect "vfio-mig-load --map=1=01:00.1" "vfio-mig-load --map=1=01:00.1"
	expect "vfio-mig-load --then=st" "vfio-mig-load --then=stop"
	expect "vfio-mig-save --then=r" "vfio-mig-save --then=running"
	expect "vfio-mig-save --on-error r" "vfio-mig-save --on-error running"
	expect "uffd-probe --require=lazy" "uffd-probe --require=lazy-restore"
	expect "uffd-probe --require=postcopy,wp" "uffd-probe --require=postcopy,wp-async"
	expect "uffd-probe -m hu" "uffd-probe -m hugetlb"
	expect "migstream-cat --recompress=no" "migstream-cat --recompress=none"
	expect "migstream-cat --output=offset,ty" "migstream-cat --output=offset,type"
	expect "vfio-mig-ls -o NAME,STOP" "vfio-mig-ls -o NAME,STOP-COPY"
	expect "vfio-mig-ls --output=+MI" "vfio-mig-ls --output=+MIGRATION"
	expect "iommufd-dirty --backend=dev" "iommufd-dirty --backend=device"
}

@test "iommufd-dirty -m IOVA:SIZE:FILE completes the file (and memfd)" {
	mkdir -p guest-dir
	: >guest.mem
	expect "iommufd-dirty -m 0x100000000:1G:gu" \
		"iommufd-dirty -m 0x100000000:1G:guest-dir" "iommufd-dirty -m 0x100000000:1G:guest.mem"
	[[ "$output" == *"compopt: -o filenames"* ]]
	expect "iommufd-dirty -m 0:1G:mem" "iommufd-dirty -m 0:1G:memfd"
	comp "iommufd-dirty -m 0x1000"
	[ -z "$lines_" ]
}

@test "files: a directory is one reply marked as a file name, a name with a space stays whole" {
	mkdir -p subdir
	: >"my state.vms"
	for line in "vfio-mig-save -o sub" "vfio-precopy-info -o sub" "vfio-mig-load -i sub" \
		"migstream-cat sub" "iommufd-dirty -o sub" "uffd-probe --tmpfs-dir sub"; do
		comp "$line"
		[ "$replies" = subdir ] || { echo "$line: $replies"; false; }
		[[ "$output" == *"compopt: -o filenames"* ]] || { echo "$line: not filenames"; false; }
	done
	comp "vfio-mig-save --summary-file my"
	[ "$replies" = "my state.vms" ]
	comp "migstream-cat my"
	[ "$replies" = "my state.vms" ]
}

# Long options a tool's --help lists
help_options() {
	"$1" --help | grep -oE -- '--[a-z][a-z0-9-]+' | sort -u
}

@test "every tool completes every long option its --help lists" {
	for tool in vfio-mig-save vfio-mig-load vfio-precopy-info iommufd-dirty uffd-probe \
		migstream-cat vfio-mig-ls vfio-mig-check; do
		vmt_require_tool "$tool"
		comp "$tool --"
		local offered
		offered=$(printf '%s\n' "$replies" | sed 's/=$//' | sort -u)
		local missing
		missing=$(comm -23 <(help_options "$tool") <(printf '%s\n' "$offered"))
		[ -z "$missing" ] || { echo "$tool: not offered: $missing"; false; }
	done
}

@test "vfio-mig-check: devices of every form, --group from --list, --junit files" {
	vmt_require_tool vfio-mig-check
	expect "vfio-mig-check -d 0000:01:0" \
		"vfio-mig-check -d 0000:01:00.0" "vfio-mig-check -d 0000:01:00.1"
	expect "vfio-mig-check --device=vfio" "vfio-mig-check --device=vfio0" \
		"vfio-mig-check --device=vfio1" "vfio-mig-check --device=vfio2"
	expect "vfio-mig-check -d vfio0 -d 5a" "vfio-mig-check -d vfio0 -d $UUID"
	expect "vfio-mig-check -d vfio0 -g roun" "vfio-mig-check -d vfio0 -g roundtrip"
	touch report.xml
	expect "vfio-mig-check --junit rep" "vfio-mig-check --junit report.xml"
	comp "vfio-mig-check --y"
	[ "$replies" = "--yes" ]
}

@test "an option that wants '=' gets no space after it" {
	comp "migstream-cat --extr"
	[ "$replies" = "--extract=" ]
	[[ "$output" == *"compopt: -o nospace"* ]]
}

@test "shellcheck: the completion scripts, the test driver and tests/net/make-certs" {
	command -v shellcheck >/dev/null || skip "shellcheck not installed"
	cd "$VMT_SRCDIR"
	run shellcheck -x completion/vfio-migtools.bash completion/vfio-mig-save \
		completion/vfio-mig-load completion/vfio-precopy-info completion/iommufd-dirty \
		completion/uffd-probe completion/migstream-cat completion/vfio-mig-ls \
		completion/vfio-mig-check tests/cli/complete-line tests/net/make-certs
	[ "$status" -eq 0 ] || { echo "$output"; false; }
}
