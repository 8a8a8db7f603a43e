#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The progress line (lib/common/progress) on a real terminal: script(1) gives the
# tools a pseudo-terminal as stderr, as a user's shell does, and the
# typescript is what the terminal was sent.

load helpers

setup() {
	command -v script >/dev/null || skip "script (util-linux) is not installed"
	vmt_sim_setup vfio-mig-save vfio-mig-load
}

# on_a_terminal COLUMNS COMMAND: COMMAND (a shell command line) with stdin,
# stdout and stderr on one new pseudo-terminal COLUMNS wide; $output is what
# the terminal got.
on_a_terminal() {
	run script -qec "stty cols $1 rows 24; $2" /dev/null
	echo "$output" | cat -v
	[ "$status" -eq 0 ]
}

# The drawn lines ("\r" LINE "\e[K"), one a line, without the escape.
drawn_lines() {
	printf '%s' "$output" | tr '\r' '\n' | sed -n 's/\x1b\[K$//p' | grep .
}

# save_to_load: a pipeline on one terminal that lasts about 1.3 s (2M of
# pre-copy and 6M of stop-copy read at 6M/s), as a command line.
save_to_load() {
	echo "'$SIM' --state-dir '$STATE' --device vfio0,size=6M,precopy-initial=2M,read-rate=6M \
		--device vfio1 -- sh -c 'vfio-mig-save --progress -d /dev/vfio/devices/vfio0 |
		vfio-mig-load --progress -d /dev/vfio/devices/vfio1'"
}

@test "save | load on one terminal: one tool draws at a time, the other waits for its turn" {
	# issue 22 item 24: both drew every 200 ms over each other's line
	on_a_terminal 80 "$(save_to_load)"
	drawn_lines | sed 's/: .*//' | uniq -c
	[ "$(drawn_lines | sed 's/: .*//' | uniq | wc -l)" -le 2 ]
	[[ $output == *"vfio-mig-save: saved 1 device"* ]]
	[[ $output == *"vfio-mig-load: loaded 1 device"* ]]
	[ "$("$SIM" --state-dir "$STATE" --query vfio1 load_verified)" = ok ]
}

@test "the line fits the terminal: parts left out whole, the bytes and the rate first" {
	# issue 22 item 24: at 80 columns the pre-copy line was cut to "ETA 0"
	local size='[0-9.]+ ([KMGTPE]i)?B' line
	local whole="$size( of $size)?( \([0-9]+%\))?, $size/s(, ETA [0-9]+:[0-9]{2}(:[0-9]{2})?)?\$"
	on_a_terminal 60 "'$SIM' --state-dir '$STATE' \
		--device vfio0,size=6M,precopy-initial=2M,read-rate=6M -- \
		vfio-mig-save --progress -d /dev/vfio/devices/vfio0 -o '$VMT_TMP/s.vms'"
	drawn_lines | grep -q '%), .*/s, ETA '
	while IFS= read -r line; do
		echo "${#line}: $line"
		[ "${#line}" -le 59 ]
		# never a part cut short: the line ends with the rate or the time left
		[[ $line =~ $whole ]]
	done < <(drawn_lines)
}
