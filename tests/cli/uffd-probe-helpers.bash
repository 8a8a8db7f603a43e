# SPDX-License-Identifier: GPL-2.0-or-later
#
# Helpers for the uffd-probe bats files.

# The whole run's JSON in $output must parse; prints a jq query's result.
uffd_json() {
	jq -r "$1" <<<"$output"
}

need_jq() {
	command -v jq >/dev/null || skip "jq not installed"
}

need_root_uffd() {
	[ "$(id -u)" = 0 ] || skip "needs root"
	[ -e /dev/userfaultfd ] || [ -e /proc/sys/vm/unprivileged_userfaultfd ] ||
		skip "kernel without userfaultfd"
}

# Runs a command as nobody with no capabilities, keeping the environment.
as_nobody() {
	setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all -- "$@"
}

# nobody must reach uffd-probe.  A build tree under a home of mode 0700 (root's
# on a fresh Debian) is out of its reach: then it runs from a copy in a
# directory of its own, first on PATH (removed by nobody_bin_cleanup).
need_setpriv() {
	local probe
	[ "$(id -u)" = 0 ] || skip "needs root to drop privileges"
	command -v setpriv >/dev/null || skip "setpriv (util-linux) not installed"
	probe=$(command -v uffd-probe)
	as_nobody test -x "$probe" && return 0
	NOBODY_BIN=$(mktemp -d "${TMPDIR:-/tmp}/vmt-nobody.XXXXXX")
	chmod 0755 "$NOBODY_BIN"
	cp "$probe" "$NOBODY_BIN/uffd-probe"
	chmod 0755 "$NOBODY_BIN/uffd-probe"
	PATH=$NOBODY_BIN:$PATH
	as_nobody test -x "$NOBODY_BIN/uffd-probe" ||
		skip "nobody cannot execute uffd-probe, not even from $NOBODY_BIN"
}

nobody_bin_cleanup() {
	[ -z "${NOBODY_BIN:-}" ] || rm -rf "$NOBODY_BIN"
}

sysctl_unprivileged() {
	cat /proc/sys/vm/unprivileged_userfaultfd 2>/dev/null || echo unknown
}

hugepages_total() {
	awk '/^HugePages_Total:/ { print $2 }' /proc/meminfo
}
