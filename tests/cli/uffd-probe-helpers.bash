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

need_setpriv() {
	[ "$(id -u)" = 0 ] || skip "needs root to drop privileges"
	command -v setpriv >/dev/null || skip "setpriv (util-linux) not installed"
	# The binary must be reachable by nobody.
	as_nobody test -x "$(command -v uffd-probe)" ||
		skip "uffd-probe not executable by nobody (build directory permissions)"
}

sysctl_unprivileged() {
	cat /proc/sys/vm/unprivileged_userfaultfd 2>/dev/null || echo unknown
}

hugepages_total() {
	awk '/^HugePages_Total:/ { print $2 }' /proc/meminfo
}
