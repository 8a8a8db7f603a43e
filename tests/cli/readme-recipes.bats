#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Every command README shows, run as written (issue 22, item 17).
#
# The recipes come out of README itself, so the two cannot drift: every
# paragraph indented by four spaces is one recipe (a paragraph of tool error
# lines is output shown, not a command). A recipe with "# on HOST:" lines is
# one script per host; the hosts' scripts run at once, in README's order
# (the destination first), each with `bash SCRIPT`, non-interactive as from
# a script or cron, as a job in the background of a terminal ($W/terminal
# stands for it: every part's standard input unless the test gives one).
# ssh is a stub on PATH that does what ssh and sshd do, as far as a recipe
# can tell (its comment says what); everything a recipe started must have
# ended soon after its scripts did. Everything runs on the simulator
# with one set of devices named as README names them:
#
#   vfio0  0000:3b:00.1  source (DMA logging too)   vfio2  0000:af:00.1  its target
#   vfio1  0000:3b:00.2  source                     vfio3  0000:af:00.2  its target
#   vfio4  0000:3b:00.0  iommufd-dirty --stats      vfio5  0000:3b:00.3  busy (a VMM holds it)
#
# Each script runs with pipefail and an ERR trap (through BASH_ENV, only in
# the recipe's own scripts), so a command that fails anywhere in a recipe is
# seen, not only the last one. Each test then checks what its recipe promises:
# exit status, the devices' states and digests in the simulator's state
# files, the files written.
#
# Not run here, each for the reason given in recipe_not_run below; the test
# "every README recipe" fails when README gains a recipe this file neither
# runs nor lists.

load helpers

SIM_RUN="$VMT_SRCDIR/tests/sim/vfiosim-run"

setup() {
	[ -x "$SIM_RUN" ] || skip "simulator not there ($SIM_RUN)"
	[ -e "${VMT_SIM_LIB:-}" ] || skip "simulator library not built (${VMT_SIM_LIB:-unset})"
	RECIPES="$VMT_TMP/recipes"
	recipes_extract "$VMT_SRCDIR/README" "$RECIPES"
	# ssh [-n] HOST COMMAND...: what ssh and sshd do with it, here. The
	# command runs with sh -c in $HOME; ssh reads all of its standard
	# input for the command, whether that reads it or not (-n: none), and
	# ends when the command did, with its status; it closes every
	# descriptor it inherited beyond stderr; reading the terminal from a
	# background job stops it (SIGTTIN), as the kernel does. A command
	# with $SSH_REFUSE in it is refused, as by an sshd that is not there.
	mkdir -p "$VMT_TMP/bin"
	cat >"$VMT_TMP/bin/ssh" <<-'EOF'
		#!/bin/bash
		no_stdin=
		while [ "${1#-}" != "$1" ]; do
			[ "$1" != -n ] || no_stdin=1
			shift
		done
		host=$1
		shift
		for fd in /proc/$$/fd/*; do
			fd=${fd##*/}
			[ "$fd" -le 2 ] || [ "$fd" = 255 ] || eval "exec $fd>&-"
		done 2>/dev/null
		if [ -n "${SSH_REFUSE:-}" ] && [[ $* == *"$SSH_REFUSE"* ]]; then
			echo "ssh: connect to host $host port 22: Connection refused" >&2
			exit 255
		fi
		cd "$HOME" || exit 255
		[ -z "$no_stdin" ] || exec sh -c "$*" </dev/null
		[ ! /proc/$$/fd/0 -ef "${RECIPE_TERMINAL:-/nonexistent}" ] || kill -TTIN $$
		exec {feed}< <(exec cat)
		sh -c "$*" <&$feed {feed}<&-
		status=$?
		kill $! 2>/dev/null
		exit $status
	EOF
	chmod +x "$VMT_TMP/bin/ssh"
	# nc HOST PORT: the connection's bytes, kept in $HOME/nc-HOST-PORT
	cat >"$VMT_TMP/bin/nc" <<-'EOF'
		#!/bin/sh
		exec cat >"$HOME/nc-$1-$2"
	EOF
	chmod +x "$VMT_TMP/bin/nc"
	# read by every non-interactive bash; acts only in a recipe's scripts
	cat >"$VMT_TMP/recipe-env" <<-'EOF'
		case $0 in */recipes/*/[0-9]-*.sh) ;; *) return 0 ;; esac
		set -o pipefail
		trap 'echo "${0##*/}:$LINENO: exit $?" >>"$RECIPE_FAILED"' ERR
	EOF
}

# recipes_extract README DIR: DIR/N/ for the Nth recipe: "key" (its first
# command line), "text" (the recipe), and one script per host,
# "I-HOST.sh" ("I-here.sh" when it names none), comments kept.
recipes_extract() {
	mkdir -p "$2"
	awk -v out="$2" '
	function part(host) {
		if (file != "")
			close(file)
		parts++
		file = dir "/" parts "-" host ".sh"
	}
	function flush(  i, line, pending, npending, key) {
		if (n > 0 && !output_only) {
			recipes++
			dir = out "/" recipes
			system("mkdir -p \"" dir "\"")
			parts = 0; file = ""; npending = 0; key = ""
			for (i = 1; i <= n; i++) {
				line = lines[i]
				print line > (dir "/text")
				if (line ~ /^# on [a-z]+:$/) {
					sub(/^# on /, "", line); sub(/:$/, "", line)
					part(line)
					npending = 0
					continue
				}
				if (line ~ /^#/ && file == "") {
					pending[++npending] = line
					continue
				}
				if (file == "")
					part("here")
				for (; npending > 0; npending--)
					print pending[npending] > file
				print line > file
				if (key == "" && line !~ /^#/)
					key = line
			}
			close(file)
			close(dir "/text")
			print key > (dir "/key")
			close(dir "/key")
		}
		n = 0
	}
	/^$/ { flush(); next }
	n == 0 && !/^    [^ ]/ { n = -1 }
	n < 0 { next }
	{
		line = substr($0, 5)
		if (n == 0)
			output_only = 1
		if (line !~ /^[a-z-]+: error: /)
			output_only = 0
		lines[++n] = line
	}
	END { flush() }
	' "$1"
}

# The recipes whose key is KEY (the first command line, as README has it).
recipes_with() {
	grep -lxF -- "$1" "$RECIPES"/*/key | xargs -r -n1 dirname
}

DEVICES=(
	--device vfio0,bdf=0000:3b:00.1,seed=11,dma-logging=yes
	--device vfio1,bdf=0000:3b:00.2,seed=12
	--device vfio2,bdf=0000:af:00.1,expect-seed=11
	--device vfio3,bdf=0000:af:00.2,expect-seed=12
	--device vfio4,bdf=0000:3b:00.0
	--device vfio5,bdf=0000:3b:00.3,busy=yes
)

# recipe_run [OPTIONS] KEY: run README's recipe KEY (every one with that
# key) in a fresh directory ($W, also $HOME and $TMPDIR's parent) under the
# simulator with DEVICES; $W/N-HOST.{out,err,status} of each part, and
# $W/failed lists every command that failed. Options:
#   --interrupt SECONDS  SIGINT after SECONDS, as a user's Ctrl-C
#   --input FILE         copy FILE into $W first (what the recipe starts from)
#   --in-srcdir          run in the source tree (the recipe says so), no
#                        simulator around it (it starts its own)
#   --iommu SPEC         the simulated IOMMU's settings (tests/sim/README)
#   --stdin FILE         the recipe's standard input (what QEMU's exec: gives)
#   --hosts              the host names src and dst are 127.0.0.1 (/etc/hosts
#                        bound over in a mount namespace: see with_hosts)
#   --again              in the $W and simulator of the run before, as a
#                        user runs a recipe a second time
recipe_run() {
	local interrupt= inputs=() cwd= stdin= again= wrap=("$SIM_RUN" --state-dir "$VMT_TMP/sim" "${DEVICES[@]}")
	while [ "${1:0:2}" = -- ]; do
		case $1 in
		--again) again=1; shift ;;
		--stdin) stdin=$2; shift 2 ;;
		--hosts) wrap=(with_hosts "${wrap[@]}"); shift ;;
		--interrupt) interrupt=$2; shift 2 ;;
		--iommu) wrap+=(--iommu "$2"); shift 2 ;;
		--input) inputs+=("$2"); shift 2 ;;
		--in-srcdir) cwd=$VMT_SRCDIR; wrap=(); shift ;;
		esac
	done
	local key=$1 dirs dir
	[ "${#wrap[@]}" = 0 ] || wrap+=(--)
	dirs=$(recipes_with "$key")
	[ -n "$dirs" ] || { echo "README has no recipe starting: $key" >&2; return 1; }
	W="$VMT_TMP/work"
	[ -n "$again" ] || rm -rf "$W" "$VMT_TMP/sim"
	mkdir -p "$W/tmp" "$VMT_TMP/sim"
	: >"$W/failed"
	: >"$W/terminal"
	[ "${#inputs[@]}" = 0 ] || cp -R "${inputs[@]}" "$W/"
	for dir in $dirs; do
		cp "$dir"/[0-9]-*.sh "$W/"
		(cd "${cwd:-$W}" && HOME="$W" TMPDIR="$W/tmp" PATH="$VMT_TMP/bin:$PATH" \
			BASH_ENV="$VMT_TMP/recipe-env" RECIPE_FAILED="$W/failed" \
			RECIPE_STDIN="${stdin:-$W/terminal}" RECIPE_TERMINAL="$W/terminal" \
			"${wrap[@]}" bash -c "$(declare -f recipe_parts); recipe_parts '$dir' '$W' '$interrupt'")
	done
	recipe_leftovers
	# shellcheck disable=SC2046,SC2086 # one directory a line, no spaces
	RECIPE_TEXT=$(cat $(printf '%s/text ' $dirs))
}

# with_hosts COMMAND...: COMMAND where src and dst resolve to 127.0.0.1, as
# two hosts of README's recipes would reach each other: a private mount
# namespace with its own /etc/hosts. require_hosts skips where no mount
# namespace can be made (a chroot, no user namespaces).
with_hosts() {
	local ns=(unshare --mount) hosts="$VMT_TMP/hosts"
	[ "$(id -u)" -eq 0 ] || ns=(unshare --map-root-user --mount)
	printf '127.0.0.1 localhost\n127.0.0.1 src dst\n::1 localhost ip6-localhost\n' >"$hosts"
	"${ns[@]}" sh -c 'mount --bind "$0" /etc/hosts && exec "$@"' "$hosts" "$@"
}

require_hosts() {
	with_hosts getent hosts dst >/dev/null 2>&1 ||
		skip "cannot give dst an address in a mount namespace of its own"
}

# recipe_parts DIR [INTERRUPT]: each host's script, all at once, the first
# ones in the background (a destination waits for its source).
recipe_parts() {
	local dir=$1 out=$2 interrupt=$3 parts part base pids=() i=0
	[ -z "${RECIPE_STDIN:-}" ] || exec <"$RECIPE_STDIN"
	parts=("$dir"/[0-9]-*.sh)
	for part in "${parts[@]}"; do
		i=$((i + 1))
		base=${part##*/}
		base=$out/${base%.sh}
		if [ -n "$interrupt" ]; then
			set -- timeout -s INT --preserve-status "$interrupt"
		else
			set -- timeout 120
		fi
		if [ "$i" -lt "${#parts[@]}" ]; then
			{ "$@" bash "$part" >"$base.out" 2>"$base.err"; echo $? >"$base.status"; } &
			pids+=($!)
			sleep 0.5
		else
			"$@" bash "$part" >"$base.out" 2>"$base.err"
			echo $? >"$base.status"
		fi
	done
	for i in "${pids[@]}"; do
		wait "$i"
	done
}

# What the recipe started and its scripts left running (a process
# substitution bash did not wait for, an ssh stopped or waiting for ever)
# goes on the failed list and is killed, once it had 5 s to end.
recipe_leftovers() {
	local i p left cmd
	for i in $(seq 50); do
		left=$(grep -lsxF "RECIPE_FAILED=$W/failed" --null-data /proc/[0-9]*/environ |
			sed -n 's|^/proc/\([0-9]*\)/environ$|\1|p' | grep -vx "$$") || true
		[ -n "$left" ] || return 0
		sleep 0.1
	done
	for p in $left; do
		cmd=$(tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline") && [ -n "$cmd" ] || continue
		echo "left running: $cmd" >>"$W/failed"
		kill -KILL "$p" 2>/dev/null || true
	done
}

# Every part exited 0 and no command failed; else show what happened.
recipe_ok() {
	local f ok=0
	for f in "$W"/*.status; do
		[ "$(cat "$f")" = 0 ] || ok=1
	done
	[ -s "$W/failed" ] && ok=1
	if [ "$ok" != 0 ]; then
		recipe_show
		return 1
	fi
}

recipe_show() {
	local f
	echo "--- recipe:"
	printf '%s\n' "$RECIPE_TEXT"
	echo "--- failed commands:"
	cat "$W/failed"
	for f in "$W"/*.status; do
		echo "--- ${f##*/}: $(cat "$f")"
		echo "--- stderr:"
		cat "${f%.status}.err"
		echo "--- stdout (first 20 lines):"
		head -20 "${f%.status}.out"
	done
}

# all output of the recipe's parts
recipe_stdout() { cat "$W"/*.out; }
recipe_stderr() { cat "$W"/*.err; }

st() { # DEV KEY: a key of the simulated device's state file
	sed -n "s/^$2=//p" "$VMT_TMP/sim/$1.state"
}

# SRC DST: DST holds exactly what SRC saved (verified, digests equal), the
# source was left as a save leaves it (STOP), the target as a load (RUNNING).
migrated() {
	local src=$1 dst=$2 want_dst=${3:-RUNNING}
	[ "$(st "$src" save_complete)" = 1 ] || { echo "$src: not saved"; false; }
	[ "$(st "$dst" load_verified)" = ok ] || { echo "$dst: load_verified $(st "$dst" load_verified)"; false; }
	[ "$(st "$src" save_digest)" = "$(st "$dst" load_digest)" ]
	[ "$(st "$src" last_state)" = STOP ] || { echo "$src: left $(st "$src" last_state)"; false; }
	[ "$(st "$dst" last_state)" = "$want_dst" ] || { echo "$dst: left $(st "$dst" last_state)"; false; }
}

untouched() { # DEV: never moved out of RUNNING
	local arcs
	arcs=$(st "$1" arcs)
	[ -z "$arcs" ] || { echo "$1: arcs $arcs"; false; }
}

# What is not run here, and why. A key here must still be a README recipe.
recipe_not_run() {
	cat <<-'EOF'
		apt-get install build-essential autoconf automake libtool pkg-config \
		CI runs it: tests/setup-debian installs these packages (checked below) and its in-source tier runs the build line as README has it
		iommufd-dirty --iommufd-fd 5 --hwpt 7 -r 0x1000000:64K --once --no-clear -f | migstream-cat --dirty
		needs a VMM's iommufd and HWPT 7 inherited through exec, which the simulator does not carry over exec (tests/sim/README, Processes)
		int main(int argc, const char **argv)
		C, not a command: the main() every tool has (Writing a new tool), as tools/iommufd-dirty/main.c has it
	EOF
}

@test "every README recipe is run by this file or listed as not run, with the reason" {
	local keys key missing=
	keys=$(cat "$RECIPES"/*/key | sort -u)
	[ "$(wc -l <<<"$keys")" -ge 20 ] || { echo "only these recipes found:"; echo "$keys"; false; }
	while IFS= read -r key; do
		grep -F -- "'$key'" "$BATS_TEST_FILENAME" | grep -qE '^	*(recipe_run|vmm_recipe) ' && continue
		recipe_not_run | sed -n 'p;n' | grep -qxF -- "$key" && continue
		missing+="$key"$'\n'
	done <<<"$keys"
	[ -z "$missing" ] || { echo "README recipes not run here:"; printf '%s' "$missing"; false; }
	# and every "not run" entry is still a README recipe
	while IFS= read -r key; do
		grep -qxF -- "$key" <<<"$keys" || { echo "not in README: $key"; false; }
	done < <(recipe_not_run | sed -n 'p;n')
}

@test "README's build packages are the ones tests/setup-debian installs" {
	local pkgs p
	pkgs=$(sed -n '/^    apt-get install/,/^    autoreconf/p' "$VMT_SRCDIR/README" |
		sed -e '/autoreconf/d' -e 's/apt-get install//' -e 's/\\//' | tr -s ' \n' '\n\n' | grep .)
	[ "$(wc -l <<<"$pkgs")" -ge 10 ]
	for p in $pkgs; do
		grep -qE "(\(|[[:space:]])$p([[:space:]]|\)|$)" "$VMT_SRCDIR/tests/setup-debian" ||
			{ echo "README's $p is not in tests/setup-debian's package list"; false; }
	done
}

@test "recipe: push a device to another host (save | ssh dst load)" {
	recipe_run 'vfio-mig-save -d 0000:3b:00.1 | ssh dst vfio-mig-load -d 0000:af:00.1'
	recipe_ok
	migrated vfio0 vfio2
	[ "$(wc -l < <(recipes_with 'vfio-mig-save -d 0000:3b:00.1 | ssh dst vfio-mig-load -d 0000:af:00.1'))" = 2 ]
}

@test "recipe: pull a device from another host (ssh src save | load)" {
	recipe_run 'ssh -n src vfio-mig-save -d 0000:3b:00.1 | vfio-mig-load -d 0000:af:00.1'
	recipe_ok
	migrated vfio0 vfio2
}

@test "recipe: with a return path through a FIFO and ssh's stdout: the save is confirmed" {
	recipe_run 'rm -f rp && mkfifo rp'
	recipe_ok
	migrated vfio0 vfio2
	# the target's word came back: acked, so the stream marks the initial data
	[ "$(st vfio0 last_state)" = STOP ]
}

@test "recipe: two devices, compressed, watched on the way, JSON summaries" {
	recipe_run 'vfio-mig-save -z -d 0000:3b:00.1 -d 0000:3b:00.2 --json 2>save.json |'
	recipe_ok
	migrated vfio0 vfio2
	migrated vfio1 vfio3
	[ "$(jq -r .ok "$W/save.json")" = true ]
	[ "$(jq -r .ok "$W/load.json")" = true ]
	grep -q DEVICE_END "$W/listing.txt" || { cat "$W/listing.txt"; false; }
}

CHANNELS='mkdir -p ~/mig && rm -f ~/mig/c[0-3] && mkfifo ~/mig/c0 ~/mig/c1 ~/mig/c2 ~/mig/c3'
CHANNELS_RP='mkdir -p ~/mig && rm -f ~/mig/c[0-3] ~/mig/rp'

@test "recipe: four ssh channels host to host, run from scripts, ends" {
	recipe_run 'mkdir -p ~/mig && rm -f ~/mig/c[0-3] && mkfifo ~/mig/c0 ~/mig/c1 ~/mig/c2 ~/mig/c3'
	recipe_ok
	[ -e "$W/1-dst.status" ] && [ -e "$W/2-src.status" ]
	migrated vfio0 vfio2
	migrated vfio1 vfio3
}

@test "recipe: four ssh channels and the return path: the target's answer decides" {
	recipe_run 'mkdir -p ~/mig && rm -f ~/mig/c[0-3] ~/mig/rp'
	recipe_ok
	migrated vfio0 vfio2
	migrated vfio1 vfio3
	grep -q -- '--return-fd' "$W/2-src.sh"
	grep -q 'the destination loaded 2 devices' "$W/2-src.err" || { recipe_show; false; }
}

@test "recipe: the FIFO recipes (one channel and four, with and without the return path) run a second time in the same place" {
	local key
	for key in 'rm -f rp && mkfifo rp' "$CHANNELS" "$CHANNELS_RP"; do
		recipe_run "$key"
		recipe_ok
		recipe_run --again "$key"
		recipe_ok
		migrated vfio0 vfio2
		[ "$key" = 'rm -f rp && mkfifo rp' ] || migrated vfio1 vfio3
	done
}

# An ssh refused: its channel never opens. The load gives up on it 30 s
# after the first channel opened (it waited for ever, and held the other
# channels' writers); the save, told nothing, puts its devices back.
@test "recipe: four ssh channels and the return path, one ssh refused: both ends fail within 30 s, every device RUNNING" {
	export SSH_REFUSE='~/mig/c2'
	recipe_run "$CHANNELS_RP"
	[ "$(cat "$W/1-dst.status")" = 1 ] || { recipe_show; false; }
	[ "$(cat "$W/2-src.status")" = 1 ] || { recipe_show; false; }
	grep -qx "vfio-mig-load: error: $W/mig/c2: no writer opened it within 30 s of the set's first channel" \
		"$W/1-dst.err" || { recipe_show; false; }
	! grep -q '^left running' "$W/failed" || { recipe_show; false; }
	local d
	for d in vfio0 vfio1 vfio2 vfio3; do
		[ "$(st $d last_state)" = RUNNING ] || { echo "$d left $(st $d last_state)"; false; }
	done
	[ "$(st vfio2 load_verified)" != ok ]
}

@test "recipe: two devices over one channel" {
	recipe_run 'vfio-mig-save -d 0000:3b:00.1 -d 0000:3b:00.2 |'
	recipe_ok
	migrated vfio0 vfio2
	migrated vfio1 vfio3
}

@test "recipe: channels as files, verified, merged, split again" {
	recipe_run 'vfio-mig-save -d vfio0 -d vfio1 -o c0.vms -o c1.vms -o c2.vms'
	recipe_ok
	local f
	for f in c0 c1 c2 whole part0 part1 part2; do
		migstream-cat --verify "$W/$f.vms" >/dev/null 2>&1 || { echo "$f.vms does not verify"; false; }
	done
	grep -q 'channel 1 of 3' "$W"/1-here.* || { recipe_show; false; }
	# the merged stream is the devices' state
	(cd "$W" && "$SIM_RUN" --state-dir "$VMT_TMP/sim" "${DEVICES[@]}" -- \
		vfio-mig-load -q --map 0=vfio2 --map 1=vfio3 -i whole.vms)
	[ "$(st vfio2 load_verified)" = ok ]
	[ "$(st vfio0 save_digest)" = "$(st vfio2 load_digest)" ]
}

@test "recipe: vfio-mig-ls: the table, the busy devices by jq, raw columns" {
	recipe_run 'vfio-mig-ls                                  # a table, as lsblk draws it'
	recipe_ok
	local out
	out=$(recipe_stdout)
	grep -qE '^NAME +CDEV' <<<"$out" || { echo "$out"; false; }
	grep -qx '"0000:3b:00.3"' <<<"$out" || { echo "$out"; false; }
	grep -qE '^0000:3b:00\.1 +[A-Z_|]+' <<<"$out" || { echo "$out"; false; }
	untouched vfio0
}

@test "recipe: vfio-precopy-info: one look, the device back in RUNNING" {
	recipe_run 'vfio-precopy-info -d 0000:3b:00.1'
	recipe_ok
	[ "$(st vfio0 last_state)" = RUNNING ]
}

@test "recipe: vfio-precopy-info: ten samples, draining, with an estimate" {
	recipe_run 'vfio-precopy-info -d 0000:3b:00.1 --watch 1s --count 10 --drain --bandwidth 1126M'
	recipe_ok
	[ "$(st vfio0 last_state)" = RUNNING ]
	[ "$(st vfio0 precopy_bytes)" -gt 0 ]
}

@test "recipe: vfio-precopy-info: the samples as a stream, for migstream-cat" {
	recipe_run 'vfio-precopy-info -d vfio3 -w 200ms -c 50 --stream > info.vms'
	recipe_ok
	migstream-cat --verify "$W/info.vms"
	[ "$(st vfio3 last_state)" = RUNNING ]
}

@test "recipe: pre-flight: --describe | ssh dst --dry-run, the target untouched" {
	recipe_run 'vfio-mig-save --describe -d 0000:3b:00.1 | ssh dst vfio-mig-load --dry-run -d 0000:af:00.1'
	recipe_ok
	untouched vfio0
	untouched vfio2
}

# vmm_recipe KEY: the recipe run by a VMM that holds 0000:3b:00.1,
# 0000:3b:00.2, 0000:af:00.1 and 0000:af:00.2 open and bound on fds 7-10
# (vfio-fd-exec, one per device) and has written its switchover byte on
# fd 3. The simulator's state files are copied to $W/held before the VMM
# closes the devices (each process has its own simulated kernel, so the
# VMM's close would write its own, older view).
vmm_recipe() {
	local dir fdexec="$VMT_BUILDDIR/tests/kernel/vfio-fd-exec"
	[ -x "$fdexec" ] || skip "vfio-fd-exec not built"
	dir=$(recipes_with "$1")
	[ -n "$dir" ] || { echo "README has no recipe starting: $1" >&2; return 1; }
	W="$VMT_TMP/work"
	mkdir -p "$W/held"
	: >"$W/failed"
	cat >"$VMT_TMP/vmm" <<-'EOF'
		#!/bin/bash
		# vmm FD DEV [FD DEV]... -- CMD...: CMD with each DEV held open on FD
		if [ "$1" = -- ]; then shift; exec "$@"; fi
		fd=$1 dev=$2
		shift 2
		exec "$VMM_FDEXEC" "$dev" -- bash -c 'eval "exec $1<&\$VMT_DEVICE_FD"; shift; exec "$@"' vmm "$fd" "$0" "$@"
	EOF
	chmod +x "$VMT_TMP/vmm"
	(cd "$W" && HOME="$W" PATH="$VMT_TMP/bin:$PATH" VMM_FDEXEC="$fdexec" \
		BASH_ENV="$VMT_TMP/recipe-env" RECIPE_FAILED="$W/failed" \
		"$SIM_RUN" --state-dir "$VMT_TMP/sim" "${DEVICES[@]}" -- \
		"$VMT_TMP/vmm" 7 0000:3b:00.1 8 0000:3b:00.2 9 0000:af:00.1 10 0000:af:00.2 -- \
		bash -c 'timeout 120 bash "$1" >1-here.out 2>1-here.err 3< <(echo x)
			echo $? >1-here.status
			cp "$2"/*.state held/' vmm "$dir/1-here.sh" "$VMT_TMP/sim")
	RECIPE_TEXT=$(cat "$dir/text")
}

held() { # DEV KEY: a key of DEV's state file as the VMM held it
	sed -n "s/^$2=//p" "$W/held/$1.state"
}

@test "recipe: a VMM's own device fds, switchover on its byte, the targets left stopped" {
	vmm_recipe 'vfio-mig-save -d fd:7 -d fd:8 --control-fd 3 -o state.vms'
	recipe_ok
	grep -q 'switchover by control-fd' "$W/1-here.err" || { recipe_show; false; }
	local src dst
	for src in vfio0 vfio1; do
		dst=vfio$((${src#vfio} + 2))
		[ "$(held $src save_complete)" = 1 ]
		[ "$(held $src state)" = STOP ] || { echo "$src $(held $src state)"; false; }
		[ "$(held $dst load_verified)" = ok ] || { echo "$dst $(held $dst load_verified)"; false; }
		[ "$(held $dst state)" = STOP ] || { echo "$dst $(held $dst state)"; false; }
		[ "$(held $src save_digest)" = "$(held $dst load_digest)" ]
	done
}

@test "recipe: vfio-mig-check: list, two devices to JUnit, one group to jq (items 14, 15)" {
	recipe_run 'vfio-mig-check --list'
	recipe_ok
	grep -q '<testsuite' "$W/mig.xml"
	run grep -E 'failures="[1-9]' "$W/mig.xml"
	[ "$status" = 1 ] || { echo "$output"; false; }
	# jq printed no failed check
	run grep '"ok": *false' "$W/1-here.out"
	[ "$status" = 1 ] || { echo "$output"; false; }
	# every device was checked and put back where it was; the counters
	# of the simulator start anew at each first open, so the tool's own
	# end-of-run lines say it
	grep -qE '<testcase ' "$W/mig.xml"
	local d
	for d in 0000:3b:00.1 0000:3b:00.2 vfio3; do
		grep -qx "vfio-mig-check: $d: RUNNING" "$W/1-here.err" || { cat "$W/1-here.err"; false; }
	done
	for d in vfio0 vfio1 vfio3; do
		[ "$(st $d last_state)" = RUNNING ] || { echo "$d left $(st $d last_state)"; false; }
	done
}

@test "recipe: iommufd-dirty standalone for 10 s, then migstream-cat --dirty" {
	recipe_run --iommu dirty-per-read=4 'iommufd-dirty -d /dev/vfio/devices/vfio0 --map 0x100000000:1G --duration 10s > dirty.vms'
	recipe_ok
	migstream-cat --verify "$W/dirty.vms" >/dev/null
	grep -qE '^ *dirty +0x0*1[0-9a-f]{8}-' "$W/1-here.out" || { cat "$W/1-here.out"; false; }
}

@test "recipe: iommufd-dirty --stats --json, stopped by Ctrl-C" {
	recipe_run --interrupt 2 --iommu dirty-per-read=4 'iommufd-dirty -d 0000:3b:00.0 --map 0x100000000:16G:memfd --stats --json -i 500ms'
	recipe_ok
	local lines
	lines=$(grep -c '^{' "$W/1-here.out")
	[ "$lines" -ge 2 ] || { cat "$W/1-here.out"; false; }
	jq -e . "$W/1-here.out" >/dev/null
	[ "$(st vfio4 open)" = 0 ]
}

# Fails until item 18 (IOVAs with size suffixes: -r 4G:14G) is merged.
@test "recipe: iommufd-dirty -b device with a size-suffixed range (item 18)" {
	recipe_run 'iommufd-dirty -b device -d 0000:3b:00.1 -r 0:2G -r 4G:14G --count 10 -o dirty.vms'
	recipe_ok
	migstream-cat --verify "$W/dirty.vms" >/dev/null
	[ "$(st vfio0 dma_logging)" = 0 ]
}

@test "recipe: uffd-probe: tables, JSON, profiles, fault latency" {
	recipe_run 'uffd-probe                                   # readable tables'
	local out err
	out=$(recipe_stdout)
	err=$(recipe_stderr)
	# a profile this host cannot meet is exit 3 with its reasons, as README
	# says; any other failure is a failure
	! grep -v ': exit 3$' "$W/failed" || { recipe_show; false; }
	if grep -q ': exit 3$' "$W/failed"; then
		[ -n "$err" ] || { recipe_show; false; }
	fi
	[ "$(cat "$W/1-here.status")" = 0 ] || { recipe_show; false; }
	# "post-copy OK" exactly when this host has what the profile requires
	if uffd-probe -q --require postcopy --memory hugetlb; then
		grep -qx 'post-copy OK' <<<"$out" || { recipe_show; false; }
	else
		[ "$?" = 3 ]
		run grep -x 'post-copy OK' <<<"$out"
		[ "$status" = 1 ]
	fi
	grep -qE '^(OPEN|open)' <<<"$out" || { recipe_show; false; }
	grep -qE '^[[:space:]]*\{' <<<"$out" || { recipe_show; false; }
	grep -qE 'zeropage +anon +ok' <<<"$out" || { recipe_show; false; }
}

@test "recipe: migstream-cat: list, JSON, verify and load, extract, wrap, recompress, dirty" {
	# what README's recipe starts from: vm1.vms saved from 0000:3b:00.1, dirty.vms
	mkdir -p "$VMT_TMP/in"
	cd "$VMT_TMP/in"
	"$SIM_RUN" --state-dir "$VMT_TMP/sim-in" "${DEVICES[@]}" -- vfio-mig-save -q -d 0000:3b:00.1 -o vm1.vms
	local saved
	saved=$(sed -n 's/^saved_bytes=//p' "$VMT_TMP/sim-in/vfio0.state")
	"$SIM_RUN" --state-dir "$VMT_TMP/sim-in" "${DEVICES[@]}" --iommu dirty-per-read=4 -- \
		iommufd-dirty -d vfio0 --map 0x100000000:1M --count 2 -i 10ms -o dirty.vms
	local in=(--input "$VMT_TMP/in/vm1.vms" --input "$VMT_TMP/in/dirty.vms")
	recipe_run "${in[@]}" 'migstream-cat vm1.vms                        # one line per record, then a summary'
	recipe_ok
	grep -q '"type": *"device_summary"' "$W/1-here.out" || { recipe_show; false; }
	[ "$(st vfio0 load_verified)" = ok ]
	# exactly what the device produced
	[ "$(vmt_size "$W/dev0.state")" = "$saved" ]
	migstream-cat --verify "$W/dev0.vms" >/dev/null
	migstream-cat --verify "$W/vm1.z.vms" >/dev/null
	grep -qE '^ *dirty +0x' "$W/1-here.out"
}

# What README's QEMU recipes start from: QEMU's stream of a device whose
# bytes are what 0000:3b:00.1 (vfio0, seed 11) saved, laid out as QEMU 10.0
# lays it out ($VMT_TMP/in/qemu.mig), and the same with its complete phase on
# two multifd channels ($VMT_TMP/in-mf/: qemu.mig, mf0.bin, mf1.bin).
qemu_inputs() {
	local tool
	for tool in qemu-mkstream vfio-mig-save vfio-mig-load migstream-cat; do
		vmt_require_tool "$tool"
	done
	mkdir -p "$VMT_TMP/in" "$VMT_TMP/in-mf"
	(cd "$VMT_TMP/in" &&
		"$SIM_RUN" --state-dir "$VMT_TMP/sim-in" "${DEVICES[@]}" -- vfio-mig-save -q -d 0000:3b:00.1 -o vm1.vms &&
		migstream-cat --extract=0 vm1.vms >dev.state &&
		qemu-mkstream -s dev.state -p 65536 -m >qemu.mig &&
		cd "$VMT_TMP/in-mf" && qemu-mkstream -s ../in/dev.state -p 65536 -M mf >qemu.mig &&
		mv mf0 mf0.bin && mv mf1 mf1.bin)
}

# 0000:af:00.1 (vfio2) holds exactly what 0000:3b:00.1 saved, and runs.
qemu_replayed() {
	[ "$(st vfio2 load_verified)" = ok ] || { echo "vfio2: load_verified $(st vfio2 load_verified)"; false; }
	[ "$(st vfio2 load_digest)" = "$(sed -n 's/^save_digest=//p' "$VMT_TMP/sim-in/vfio0.state")" ]
	[ "$(st vfio2 last_state)" = RUNNING ] || { echo "vfio2: left $(st vfio2 last_state)"; false; }
}

@test "recipe: a QEMU migration captured with exec:tee on its way to the destination" {
	qemu_inputs
	recipe_run --stdin "$VMT_TMP/in/qemu.mig" 'tee qemu.mig | nc dst 4444'
	recipe_ok
	cmp "$VMT_TMP/in/qemu.mig" "$W/qemu.mig"
	cmp "$VMT_TMP/in/qemu.mig" "$W/nc-dst-4444"
}

@test "recipe: a QEMU capture listed, verified, its device's bytes taken out and replayed into a spare device" {
	qemu_inputs
	recipe_run --input "$VMT_TMP/in/qemu.mig" 'migstream-cat qemu.mig                       # every section, then a summary'
	recipe_ok
	local out
	out=$(recipe_stdout)
	grep -qE '^ +[0-9]+ +[0-9]+ PART +9 0000:00:01\.0/vfio ' <<<"$out" || { recipe_show; false; }
	grep -qx '    init marks    1 (DEV_INIT_DATA_SENT)' <<<"$out" || { recipe_show; false; }
	cmp "$VMT_TMP/in/dev.state" "$W/dev.state"
	qemu_replayed
	# -v: the load said what it did
	grep -q 'vfio-mig-load' "$W/1-here.err" || { recipe_show; false; }
}

@test "recipe: a QEMU migration replayed live into a spare device through exec:, a copy kept" {
	qemu_inputs
	recipe_run --stdin "$VMT_TMP/in/qemu.mig" 'tee qemu.mig | migstream-cat --from-qemu | vfio-mig-load -v -d 0000:af:00.1'
	recipe_ok
	cmp "$VMT_TMP/in/qemu.mig" "$W/qemu.mig"
	qemu_replayed
}

@test "recipe: a multifd QEMU migration's captures replayed into a spare device" {
	qemu_inputs
	local f in=()
	for f in qemu.mig mf0.bin mf1.bin; do
		in+=(--input "$VMT_TMP/in-mf/$f")
	done
	recipe_run "${in[@]}" 'migstream-cat --from-qemu qemu.mig mf0.bin mf1.bin | vfio-mig-load -v -d 0000:af:00.1'
	recipe_ok
	qemu_replayed
}

@test "recipe: the simulator from the source tree: save | load, load_verified ok" {
	recipe_run --in-srcdir 'sim=$(mktemp -d)'
	recipe_ok
	[ "$(tail -1 "$W/1-here.out")" = ok ]
	# the state went where mktemp put it
	[ "$(sed -n 's/^load_verified=//p' "$W"/tmp/*/vfio1.state)" = ok ]
}

# The network recipes (README, Host to host over the network).

# psk_ok FILE: one line IDENTITY:HEXKEY of 32 bytes, readable by its owner only
psk_ok() {
	grep -qxE 'src:[0-9a-f]{64}' "$1" || { cat "$1"; false; }
	[ "$(stat -c %a "$1")" = 600 ]
}

@test "recipe: a pre-shared key in QEMU's keys.psk format, readable by its owner only" {
	recipe_run '(umask 077 && echo "src:$(od -An -tx1 -N32 /dev/urandom | tr -dc 0-9a-f)" >keys.psk)'
	recipe_ok
	psk_ok "$W/keys.psk"
}

@test "recipe: four TLS channels with a pre-shared key, host to host, destination first" {
	vmt_require_tool vfio-mig-load
	require_hosts
	recipe_run '(umask 077 && echo "src:$(od -An -tx1 -N32 /dev/urandom | tr -dc 0-9a-f)" >keys.psk)'
	cp "$W/keys.psk" "$VMT_TMP/keys.psk"
	recipe_run --hosts --input "$VMT_TMP/keys.psk" 'vfio-mig-load --listen tcp::4444 --tls-psk keys.psk -d 0000:af:00.1 -d 0000:af:00.2'
	recipe_ok
	migrated vfio0 vfio2
	migrated vfio1 vfio3
}

@test "recipe: a CA and the two certificates with certtool, laid out as QEMU reads them" {
	command -v certtool >/dev/null || skip "certtool not installed (gnutls-bin)"
	recipe_run 'mkdir -p pki/server pki/client && cd pki'
	recipe_ok
	local f
	for f in server/ca-cert.pem server/server-cert.pem server/server-key.pem \
		client/ca-cert.pem client/client-cert.pem client/client-key.pem; do
		[ -s "$W/pki/$f" ] || { echo "no pki/$f"; false; }
	done
	certtool --verify --load-ca-certificate "$W/pki/ca-cert.pem" --infile "$W/pki/server/server-cert.pem" >/dev/null
	certtool --verify --load-ca-certificate "$W/pki/ca-cert.pem" --infile "$W/pki/client/client-cert.pem" >/dev/null
}

@test "recipe: one TLS channel with certificates, source first, the server's name checked" {
	vmt_require_tool vfio-mig-load
	command -v certtool >/dev/null || skip "certtool not installed (gnutls-bin)"
	require_hosts
	recipe_run 'mkdir -p pki/server pki/client && cd pki'
	rm -rf "$VMT_TMP/pki" && cp -R "$W/pki" "$VMT_TMP/pki"
	recipe_run --hosts --input "$VMT_TMP/pki" 'vfio-mig-save -o tcp:dst:4444 --tls-creds ~/pki/client -d 0000:3b:00.1'
	recipe_ok
	migrated vfio0 vfio2
}

@test "recipe: a unix socket on one host, two channels, the load waited for" {
	vmt_require_tool vfio-mig-load
	recipe_run 'vfio-mig-load --listen unix:"$HOME/mig.sock" -d 0000:af:00.1 & load=$!'
	recipe_ok
	migrated vfio0 vfio2
}

# real_ssh: ssh on PATH is OpenSSH's, to an sshd of this test's own on
# 127.0.0.1 (a key of its own, BatchMode): the commands run by sshd get
# the recipe's environment (the simulator's, $HOME) through a file the
# client side writes. Skips where there is no sshd or no root (CI).
real_ssh() {
	local sshd=/usr/sbin/sshd d="$VMT_TMP/sshd" port i
	[ -x "$sshd" ] && command -v ssh-keygen >/dev/null || skip "no OpenSSH server here"
	[ "$(id -u)" = 0 ] || skip "sshd here needs root"
	mkdir -p "$d" /run/sshd
	ssh-keygen -q -t ed25519 -N '' -f "$d/host"
	ssh-keygen -q -t ed25519 -N '' -f "$d/user"
	cp "$d/user.pub" "$d/authorized_keys"
	cat >"$d/remote" <<-EOF
		#!/bin/sh
		. "$d/env"
		cd "\$HOME" || exit 255
		exec sh -c "\$SSH_ORIGINAL_COMMAND"
	EOF
	chmod +x "$d/remote"
	port=$((20000 + RANDOM % 20000))
	printf '%s\n' "ListenAddress 127.0.0.1" "Port $port" "HostKey $d/host" \
		"AuthorizedKeysFile $d/authorized_keys" "PasswordAuthentication no" \
		"KbdInteractiveAuthentication no" "PermitRootLogin prohibit-password" \
		"StrictModes no" "UsePAM no" "PidFile $d/pid" "ForceCommand $d/remote" >"$d/config"
	"$sshd" -f "$d/config" -E "$d/log" || skip "sshd did not start ($(cat "$d/log"))"
	printf '%s\n' "Host *" "HostName 127.0.0.1" "Port $port" "User root" \
		"IdentityFile $d/user" "BatchMode yes" "StrictHostKeyChecking no" \
		"UserKnownHostsFile /dev/null" "LogLevel ERROR" >"$d/client"
	mkdir -p "$VMT_TMP/real-bin"
	cat >"$VMT_TMP/real-bin/ssh" <<-EOF
		#!/bin/sh
		export -p | grep -E '^export (HOME|PATH|LD_PRELOAD|VFIOSIM_[A-Z_]*|BASH_ENV|RECIPE_[A-Z_]*)=' >"$d/env"
		exec "$(command -v ssh)" -F "$d/client" "\$@"
	EOF
	chmod +x "$VMT_TMP/real-bin/ssh"
	for i in $(seq 50); do
		"$(command -v ssh)" -F "$d/client" -n dst true 2>/dev/null && break
		sleep 0.1
	done
	cp "$VMT_TMP/real-bin/ssh" "$VMT_TMP/bin/ssh"
}

teardown() {
	[ ! -s "$VMT_TMP/sshd/pid" ] || kill "$(cat "$VMT_TMP/sshd/pid")" 2>/dev/null || true
}

@test "recipe: four ssh channels and the return path, over OpenSSH to 127.0.0.1 (where sshd is)" {
	real_ssh
	recipe_run "$CHANNELS_RP"
	recipe_ok
	migrated vfio0 vfio2
	migrated vfio1 vfio3
	grep -q 'the destination loaded 2 devices' "$W/2-src.err" || { recipe_show; false; }
}

@test "recipe: both sides' flight recorders, and where the downtime went, in text and SVG" {
	vmt_require_tool vfio-mig-load
	recipe_run 'vfio-mig-save -d 0000:3b:00.1 --events save.events |'
	recipe_ok
	migrated vfio0 vfio2
	jq -e -s 'map(select(.kind == "exit")) | length == 1' "$W/save.events" >/dev/null
	jq -e -s 'map(select(.kind == "arc" and .to == "RUNNING")) | length >= 1' "$W/load.events" >/dev/null
	grep -q downtime "$W/1-here.out" || { recipe_show; false; }
	grep -q '<svg' "$W/downtime.svg"
}
