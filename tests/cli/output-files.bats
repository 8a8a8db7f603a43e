#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Output files (lib/common/outfile) in vfio-mig-save and iommufd-dirty: a stream
# takes the output's name only when it is complete; nothing the tool did not
# create is truncated, replaced or removed (an existing file, a symlink, a
# FIFO, standard output); a summary file that is the stream is refused; a
# summary file that cannot be written fails the run and leaves no earlier
# run's summary under its name (lib/common/summary-file).

load helpers
load save-helpers

setup() {
	save_setup
}

# The temporaries a run left beside NAME (there should be none).
leftovers() {
	ls -A | grep -E "^\.$1\.[0-9a-f]{16}$" || true
}

# Starts a pre-copy save of vfio0 to $1 that waits for a byte on the FIFO ctl
# before switching over; returns once its temporary exists. finish_held_save
# lets it finish; its exit status lands in first.rc.
start_held_save() {
	mkfifo ctl
	sim --device vfio0,size=64K -- \
		sh -c "vfio-mig-save -q -d vfio0 --control-fd 3 -o '$1' 3<ctl; echo \$? >first.rc" &
	exec 4>ctl
	for _ in $(seq 100); do
		[ -n "$(leftovers "$1")" ] && return 0
		sleep 0.1
	done
	echo "the held save never created its temporary" >&2
	return 1
}

finish_held_save() {
	echo x >&4
	exec 4>&-
	wait
}

@test "save: a failure leaves an existing -o file as it was, and no temporary" {
	vmt_make_stream keep.vms 4096
	cp keep.vms orig
	vmt_run 1 sim --device vfio0 -- vfio-mig-save -d vfio9 -o keep.vms
	cmp keep.vms orig
	# a failure in the middle of the device data, too
	vmt_run 1 sim --device vfio0,size=4M,read-eio-after=1M -- vfio-mig-save --no-precopy -d vfio0 -o keep.vms
	cmp keep.vms orig
	[ -z "$(leftovers keep.vms)" ]
	vmt_run 1 sim --device vfio0,size=4M,read-eio-after=1M -- vfio-mig-save --no-precopy -d vfio0 -o new.vms
	[ ! -e new.vms ]
	[ -z "$(leftovers new.vms)" ]
}

@test "save: the stream has its final name only once complete" {
	start_held_save s.vms
	[ ! -e s.vms ]
	finish_held_save
	[ "$(cat first.rc)" = 0 ]
	vmt_run 0 migstream-cat --verify s.vms
	[ -z "$(leftovers s.vms)" ]
}

@test "save: replacing a file keeps its mode" {
	vmt_make_stream s.vms 4096
	cp s.vms orig
	chmod 0640 s.vms
	vmt_run 0 sim --device vfio0 -- vfio-mig-save -q --no-precopy -d vfio0 -o s.vms
	[ "$(stat -c %a s.vms)" = 640 ]
	vmt_run 0 migstream-cat --verify s.vms
	! cmp -s s.vms orig
}

@test "save: -o SYMLINK writes the link's target and keeps the link" {
	vmt_make_stream target.vms 4096
	cp target.vms orig
	ln -s target.vms link.vms
	vmt_run 1 sim --device vfio0 -- vfio-mig-save -d vfio9 -o link.vms
	[ -L link.vms ]
	cmp target.vms orig
	vmt_run 0 sim --device vfio0 -- vfio-mig-save -q --no-precopy -d vfio0 -o link.vms
	[ -L link.vms ]
	[ "$(readlink link.vms)" = target.vms ]
	! cmp -s target.vms orig
	vmt_run 0 migstream-cat --verify target.vms
	# a link to a file not there yet creates that file
	ln -s later.vms dangling.vms
	rm -rf "$SIM"
	vmt_run 0 sim --device vfio0 -- vfio-mig-save -q --no-precopy -d vfio0 -o dangling.vms
	[ -L dangling.vms ]
	vmt_run 0 migstream-cat --verify later.vms
}

@test "save: -o /dev/stdout and a FIFO are written in place, never truncated or removed" {
	vmt_make_stream keep.vms 4096
	cp keep.vms orig
	# stdout opened on keep.vms without truncation: a failed save must not
	# truncate it, nor remove the name it was reached by. A private link to
	# /proc/self/fd/1 stands for /dev/stdout, so that a regression cannot
	# remove the system's /dev/stdout.
	ln -s /proc/self/fd/1 stdout-link
	vmt_run 1 sim --device vfio0 -- sh -c 'vfio-mig-save -d vfio9 -o stdout-link 1<>keep.vms'
	cmp keep.vms orig
	[ -L stdout-link ]
	vmt_run 0 sim --device vfio0 -- sh -c 'vfio-mig-save -q --no-precopy -d vfio0 -o stdout-link 1<>keep.vms'
	[ -L stdout-link ]
	vmt_run 0 migstream-cat --verify keep.vms
	mkfifo pipe
	cat pipe >/dev/null &
	vmt_run 1 sim --device vfio0 -- vfio-mig-save -d vfio9 -o pipe
	wait
	[ -p pipe ]
	cat pipe >got &
	vmt_run 0 sim --device vfio0 -- vfio-mig-save -q --no-precopy -d vfio0 -o pipe
	wait
	[ -p pipe ]
	vmt_run 0 migstream-cat --verify got
}

@test "save: a second save to the same -o cannot take the first one's stream" {
	start_held_save s.vms
	# the same device: busy, fails; it removes only its own temporary
	vmt_run 1 sim --device vfio0 -- vfio-mig-save -q -d vfio0 -o s.vms
	finish_held_save
	[ "$(cat first.rc)" = 0 ]
	vmt_run 0 migstream-cat --verify s.vms
	[ "$(simstate vfio0 save_complete)" = 1 ]
}

@test "save: a file put at the -o name during the save is not overwritten; the stream is kept" {
	start_held_save s.vms
	vmt_make_stream other.vms 4096
	cp other.vms s.vms
	finish_held_save
	[ "$(cat first.rc)" = 1 ]
	cmp s.vms other.vms
	kept=$(leftovers s.vms)
	[ -n "$kept" ]
	vmt_run 0 migstream-cat --verify "$kept"
}

@test "save: --summary-file naming the stream is a usage error, before any device is touched" {
	vmt_make_stream s.vms 4096
	cp s.vms orig
	ln -s s.vms link.vms
	for summary in s.vms ./s.vms link.vms "$PWD/s.vms"; do
		vmt_run 2 sim --device vfio0 -- vfio-mig-save -d vfio0 -o s.vms --summary-file "$summary"
		vmt_one_line_error vfio-mig-save "--summary-file .* is the stream's output"
	done
	# not yet there: the same name is the same file
	vmt_run 2 sim --device vfio0 -- vfio-mig-save -d vfio0 -o new.vms --summary-file ./new.vms
	[ ! -e new.vms ]
	# the stream on stdout, the summary to /dev/stdout: the same file
	vmt_run 2 sim --device vfio0 -- sh -c 'vfio-mig-save -d vfio0 --summary-file /dev/stdout >out.vms'
	vmt_run 2 sim --device vfio0 -- sh -c 'vfio-mig-save -d vfio0 -o s.vms --summary-file /dev/stdout 1<>s.vms'
	cmp s.vms orig
	[ "$(simstate vfio0 transitions)" -eq 0 ]
}

@test "save: --summary-file replaces its file only when written whole" {
	vmt_run 0 sim --device vfio0 -- vfio-mig-save -q --no-precopy -d vfio0 -o s.vms --summary-file sum.json
	jq -e .ok sum.json
	[ -z "$(leftovers sum.json)" ]
}

# in_full_disk SCRIPT: runs the bash SCRIPT with $FULL a directory on a tmpfs
# of its own, mounted in a private mount namespace (as root, or in a user
# namespace), and fill_disk a command that leaves no room on it (again
# after something was removed). The tmpfs is gone after SCRIPT: SCRIPT
# writes what is to be checked outside it. Call require_full_disk first,
# outside `run`: a skip inside `run` would only end run's subshell.
full_disk_ns() {
	if [ "$(id -u)" -eq 0 ]; then
		unshare --mount "$@"
	else
		unshare --map-root-user --mount "$@"
	fi
}

# Skips where no tmpfs can be mounted in a mount namespace of its own: in a
# chroot, unshare cannot make a root that is no mount point private.
require_full_disk() {
	mkdir -p full
	full_disk_ns mount -t tmpfs -o size=64k none full 2>/dev/null ||
		skip "cannot mount a tmpfs in a mount namespace of its own"
}

in_full_disk() {
	export FULL="$VMT_TMP/full" VFIOSIM_RUN VMT_SIM_LIB SIM
	export -f sim
	full_disk_ns bash -c 'mount -t tmpfs -o size=64k none "$FULL" || exit 99
		fill_disk() { cat /dev/zero >>"$FULL/fill" 2>/dev/null || [ "$(df --output=avail "$FULL" | tail -1)" -eq 0 ]; }
		'"$1"
}

@test "summary file on a full disk: the save and the load fail (exit 1); an earlier run's summary is removed, other files stay" {
	vmt_require_tool vfio-mig-load
	require_full_disk
	vmt_run 0 sim --device vfio0,size=64K -- vfio-mig-save -q --no-precopy --then running -d vfio0 -o s.vms
	run in_full_disk '
		set -e
		# an earlier run of each tool left its summary; a file of the user is there too
		sim --device vfio1 -- vfio-mig-load -q -i s.vms --summary-file "$FULL/load.json" vfio1
		sim --device vfio0,size=64K -- vfio-mig-save -q --no-precopy --then running -d vfio0 \
			-o s2.vms --summary-file "$FULL/save.json"
		echo "not a summary" >"$FULL/notes.json"
		ls -A "$FULL" >before
		fill_disk
		set +e
		sim --device vfio1 -- vfio-mig-load -i s.vms --summary-file "$FULL/load.json" vfio1 2>load.err
		echo $? >load.rc
		fill_disk
		sim --device vfio0,size=64K -- vfio-mig-save -q --no-precopy --then running -d vfio0 \
			-o s3.vms --summary-file "$FULL/save.json" 2>save.err
		echo $? >save.rc
		fill_disk
		sim --device vfio1 -- vfio-mig-load -q --json -i s.vms --summary-file "$FULL/notes.json" vfio1 2>notes.json
		echo $? >notes.rc
		cat "$FULL/notes.json" >notes.after
		ls -A "$FULL" >after'
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(cat before)" = "$(printf '%s\n' load.json notes.json save.json)" ]
	[ "$(cat after)" = "$(printf '%s\n' fill notes.json)" ]
	[ "$(cat load.rc)" = 1 ]
	stderr=$(cat load.err)
	vmt_one_line_error vfio-mig-load "^vfio-mig-load: error: every device loaded, but $VMT_TMP/full/load.json: cannot write the summary: No space left on device; the summary an earlier run left there was removed; device vfio1 now RUNNING\$"
	[ "$(cat save.rc)" = 1 ]
	stderr=$(cat save.err)
	vmt_one_line_error vfio-mig-save "^vfio-mig-save: error: stream complete, but $VMT_TMP/full/save.json: cannot write the summary: No space left on device; the summary an earlier run left there was removed; device vfio0 now RUNNING\$"
	# the stream was written (on another disk) and is whole
	vmt_run 0 migstream-cat --verify s3.vms
	# a file the tool did not write stays; the JSON on stderr says why the run failed
	[ "$(cat notes.rc)" = 1 ]
	[ "$(cat notes.after)" = "not a summary" ]
	[ "$(jq -r .ok notes.json)" = false ]
	[ "$(jq -r .error.exit_code notes.json)" = 1 ]
	[ "$(jq -r .error.errno notes.json)" = ENOSPC ]
	[ "$(jq -r .error.file notes.json)" = "$VMT_TMP/full/notes.json" ]
	[ "$(jq -r '.devices[0].final_state' notes.json)" = RUNNING ]
}

@test "summary file that cannot be written (/dev/full): exit 1 after a good save or load, a warning after a failed one" {
	vmt_require_tool vfio-mig-load
	ln -s /dev/full sum.json
	vmt_run 1 sim --device vfio0,size=64K -- vfio-mig-save -q --no-precopy --then running -d vfio0 -o s.vms \
		--summary-file sum.json
	vmt_one_line_error vfio-mig-save "stream complete, but sum.json: cannot write the summary: No space left on device; device vfio0 now RUNNING\$"
	vmt_run 0 migstream-cat --verify s.vms
	vmt_run 1 sim --device vfio1 -- vfio-mig-load -i s.vms --summary-file sum.json vfio1
	vmt_one_line_error vfio-mig-load "every device loaded, but sum.json: cannot write the summary: No space left on device; device vfio1 now RUNNING\$"
	[ "$(simstate vfio1 state)" = RUNNING ]
	[ -L sum.json ]
	# a failed run keeps its own exit status; the summary's failure is a warning after its error
	vmt_run 1 sim --device vfio0 -- vfio-mig-save -d vfio9 -o x.vms --summary-file sum.json
	[ "$(printf '%s\n' "$stderr" | tail -1)" = "vfio-mig-save: warning: sum.json: cannot write the summary: No space left on device" ]
	[[ "$(printf '%s\n' "$stderr" | head -1)" == "vfio-mig-save: error: "*vfio9* ]]
}

@test "save: repeated -o are channels: 65 is a usage error with nothing created, 64 are kept by popt without a use after free" {
	local args=()
	for i in $(seq 1 65); do
		args+=(-o "f$i.vms")
	done
	# more channels than a set may have (MIGSTREAM_MAX_CHANNELS): refused before any output exists
	vmt_run 2 sim --device vfio0 -- vfio-mig-save -q --no-precopy "${args[@]}" -d vfio0
	[[ $stderr == *"too many outputs"* ]]
	[ -z "$(ls -A | grep -E '^\.?f[0-9]+\.vms' || true)" ]
	[ "$(simstate vfio0 state)" = RUNNING ]
	command -v valgrind >/dev/null || skip "valgrind not installed"
	unset 'args[129]' 'args[128]'
	vmt_run 1 valgrind -q --error-exitcode=99 vfio-mig-save "${args[@]}" -d /dev/vfio/devices/vfio9
	[[ "$stderr" != *"Invalid read"* ]]
	[ -z "$(ls -A | grep -E '^\.?f[0-9]+\.vms' || true)" ]
}

@test "iommufd-dirty: a failed run leaves an existing -o file as it was" {
	vmt_require_tool iommufd-dirty
	vmt_make_stream keep.vms 4096
	cp keep.vms orig
	vmt_run 1 iommufd-dirty -d /dev/vfio/devices/vfio9 --map 0x1000:4K --once -o keep.vms
	cmp keep.vms orig
	[ -z "$(leftovers keep.vms)" ]
	vmt_run 1 iommufd-dirty -d /dev/vfio/devices/vfio9 --map 0x1000:4K --once -o new.vms
	[ ! -e new.vms ]
	[ -z "$(leftovers new.vms)" ]
}
