# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# What every vfio-migtools completion shares; each tool's script sources it
# from its own directory. Needs bash-completion (_init_completion, _filedir,
# __ltrim_colon_completions). A tool's function starts with
#
#     local cur prev words cword split
#     _init_completion -s -n =: || return
#
# so PCI addresses (0000:3b:00.1) and IDX=DEV values are one word in $cur,
# and --opt=value comes split into prev=--opt, cur=value.
#
# Device names are read from sysfs under $VMT_SYSFS_ROOT (default /sys),
# so the tests can point the completion at the simulator's fake tree.

# Only once, whichever tool's script comes first.
if ! declare -F _vmt_devices >/dev/null; then

# Every name a VFIO device answers to, one a line: the cdev (vfioN and
# /dev/vfio/devices/vfioN), the PCI address in full and short (bus:dev.fn,
# domain 0) form, the mdev UUID. A PCI function counts when it has a cdev or
# a VFIO driver (vfio-pci or a variant), which covers the devices reached
# only through their group (--group). With --names-only: addresses and
# UUIDs only, what --group takes.
_vmt_devices()
{
	local sys=${VMT_SYSFS_ROOT:-/sys} d name driver
	if [[ ${1-} != --names-only ]]; then
		for d in "$sys"/class/vfio-dev/vfio*; do
			[[ -e $d ]] || continue
			name=${d##*/}
			printf '%s\n' "$name" "/dev/vfio/devices/$name"
		done
	fi
	for d in "$sys"/bus/pci/devices/*; do
		[[ -e $d ]] || continue
		driver=$(readlink "$d/driver" 2>/dev/null)
		[[ -d $d/vfio-dev || ${driver##*/} == *vfio* ]] || continue
		name=${d##*/}
		printf '%s\n' "$name"
		[[ $name == 0000:* ]] && printf '%s\n' "${name#0000:}"
	done
	for d in "$sys"/bus/mdev/devices/*; do
		[[ -e $d ]] && printf '%s\n' "${d##*/}"
	done
}

# Readline replaces only the text after the last word-break character: take
# what comes before it (up to a ':' or '=' of $1) off every reply.
_vmt_ltrim_completions()
{
	local cur=$1 i
	if [[ $cur == *:* ]]; then
		__ltrim_colon_completions "$cur"
	elif [[ $cur == *=* && $COMP_WORDBREAKS == *=* ]]; then
		for i in "${!COMPREPLY[@]}"; do
			COMPREPLY[i]=${COMPREPLY[i]#"${cur%=*}="}
		done
	fi
}

# Replies from a word list for $cur (of the caller); $2: a prefix every reply
# keeps (e.g. "0=" of --map 0=DEV).
_vmt_complete_words()
{
	local prefix=${2-}
	mapfile -t COMPREPLY < <(compgen -P "$prefix" -W "$1" -- "${cur#"$prefix"}")
	_vmt_ltrim_completions "$cur"
}

# One more item of a comma-separated list (--require a,b; -o col,col); a
# leading '+' (vfio-mig-ls -o +LIST: after the default columns) stays.
_vmt_complete_list()
{
	local prefix=""
	if [[ $cur == *,* ]]; then
		prefix=${cur%,*},
	elif [[ $cur == +* ]]; then
		prefix=+
	fi
	_vmt_complete_words "$1" "$prefix"
}

# A device for -d/--device (or the positional DEVICE). With --group on the
# line, only what --group takes.
_vmt_complete_devices()
{
	_vmt_complete_devices_after ""
}

# The same after a prefix every reply keeps ("0=" of --map 0=DEV).
_vmt_complete_devices_after()
{
	local only=""
	# shellcheck disable=SC2154 # words: the caller's, from _init_completion
	[[ " ${words[*]} " == *" --group "* ]] && only=--names-only
	_vmt_complete_words "$(_vmt_devices $only)" "$1"
}

# Options of the tool; one that ends in '=' wants its value right after it.
_vmt_complete_options()
{
	_vmt_complete_words "$1"
	[[ ${COMPREPLY[0]-} == *= ]] && compopt -o nospace
}

# A file after a fixed part: IOVA:SIZE:FILE completes FILE ($1: "IOVA:SIZE:").
_vmt_complete_file_after()
{
	local head=$1 i
	local cur=${cur#"$head"}
	_filedir
	# Without ':' among the word breaks, readline replaces the whole word.
	if [[ $COMP_WORDBREAKS != *:* ]]; then
		for i in "${!COMPREPLY[@]}"; do
			COMPREPLY[i]=$head${COMPREPLY[i]}
		done
	fi
}

fi
