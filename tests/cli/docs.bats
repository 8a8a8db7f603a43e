#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Every long option a tool's --help lists is in its man page and its bash
# completion, and every man page documents the five exit codes: a new option
# is not done until the three say the same thing.

load helpers

tools=(migstream-cat vfio-mig-save vfio-mig-load vfio-precopy-info iommufd-dirty uffd-probe vfio-mig-ls vfio-mig-check)

# Long options of a tool, from its --help.
help_options() {
	"$1" --help | grep -oE -- '--[a-z][a-z0-9-]+' | sort -u
}

check_tool() {
	local tool=$1 man="$VMT_SRCDIR/man/$1.1" comp="$VMT_SRCDIR/completion/$1" missing=()
	vmt_require_tool "$tool"
	[ -f "$man" ] || { echo "no man page $man"; return 1; }
	[ -f "$comp" ] || { echo "no completion $comp"; return 1; }
	while read -r opt; do
		# roff writes \-\-option, inner dashes escaped or not
		grep -qE -- "\\\\-\\\\-$(printf '%s' "${opt#--}" | sed 's/-/(\\\\)?-/g')" "$man" ||
			missing+=("man:$opt")
		grep -qE -- "(^|[^a-z-])$opt([^a-z-]|\$)" "$comp" || missing+=("completion:$opt")
	done < <(help_options "$tool")
	if ((${#missing[@]})); then
		echo "$tool: not documented: ${missing[*]}"
		return 1
	fi
	# EXIT STATUS lists 0..4
	for code in 0 1 2 3 4; do
		sed -n '/^\.SH EXIT STATUS/,/^\.SH /p' "$man" | grep -qE "^(\.B |\.IP |\.TP.*)?$code\b|^\.B $code\$" ||
			{ echo "$tool: exit code $code missing from EXIT STATUS"; return 1; }
	done
}

@test "docs: migstream-cat options in man page and completion" { check_tool migstream-cat; }
@test "docs: vfio-mig-save options in man page and completion" { check_tool vfio-mig-save; }
@test "docs: vfio-mig-load options in man page and completion" { check_tool vfio-mig-load; }
@test "docs: vfio-precopy-info options in man page and completion" { check_tool vfio-precopy-info; }
@test "docs: iommufd-dirty options in man page and completion" { check_tool iommufd-dirty; }
@test "docs: uffd-probe options in man page and completion" { check_tool uffd-probe; }
@test "docs: vfio-mig-ls options in man page and completion" { check_tool vfio-mig-ls; }

@test "docs: every switchover reason vfio-mig-save reports is in its man page" {
	# issue 11 item 13: the values of the summary's "switchover" field
	local reasons missing=()
	reasons=$(sed -n '/^const char \*save_switch_reason_name/,/^}/p' \
		"$VMT_SRCDIR/tools/vfio-mig-save/save.c" | grep -oE 'return "[a-z-]+"' | cut -d'"' -f2)
	[ "$(printf '%s\n' "$reasons" | wc -l)" -eq 7 ]
	for r in $reasons; do
		sed -n '/switchover$/,/^\.PP/p' "$VMT_SRCDIR/man/vfio-mig-save.1" |
			grep -qE "^\.B $(printf '%s' "$r" | sed 's/-/\\\\?-/g')\$" || missing+=("$r")
	done
	((${#missing[@]} == 0)) || { echo "not in vfio-mig-save(1): ${missing[*]}"; return 1; }
}
@test "docs: vfio-mig-check options in man page and completion" { check_tool vfio-mig-check; }
