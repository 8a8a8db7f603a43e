# SPDX-License-Identifier: GPL-2.0-or-later
#
# Common helpers for tests/cli/*.bats (load with `load helpers`).
#
# The harness (tests/Makemodule.am) exports PATH with the build dir first,
# VMT_BUILDDIR, VMT_SRCDIR and VMT_SIM_LIB; running a .bats file by hand
# from a build dir works too (the defaults below guess them).
#
#   vmt_run STATUS CMD...           run CMD, fail unless it exits STATUS;
#                                   $output is stdout, $stderr is stderr
#   vmt_run_error STATUS REGEX CMD...
#                                   same, and stderr must be exactly one line
#                                   "<prog>: error: ..." (or a usage error
#                                   and its "Try" line) matching REGEX
#   vmt_one_line_error PROG REGEX   check $stderr of the last vmt_run
#   vmt_require_tool NAME           skip the test when NAME was not built
#   vmt_random_file FILE SIZE       SIZE random bytes (SIZE: 4096, 3M, ...)
#   vmt_text_file FILE SIZE         SIZE compressible, deterministic bytes
#   vmt_make_stream FILE SIZE [migstream-cat --wrap options...]
#                                   a valid one-device stream of SIZE random
#                                   device bytes; the raw bytes in FILE.raw
#   vmt_flip_byte FILE OFFSET       invert one byte in place
#   vmt_size FILE                   its size in bytes
#   vmt_normalise                   filter: times and host names -> fixed text
#   vmt_check_golden NAME FILE      compare FILE with tests/cli/golden/NAME
#                                   (VMT_UPDATE_GOLDEN=1 rewrites the golden)
#
# Every test gets a private scratch directory, $VMT_TMP (removed by bats).

bats_require_minimum_version 1.5.0

: "${VMT_BUILDDIR:=$(pwd)}"
: "${VMT_SRCDIR:=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}"
export VMT_BUILDDIR VMT_SRCDIR
case ":$PATH:" in
*":$VMT_BUILDDIR:"*) ;;
*) export PATH="$VMT_BUILDDIR:$PATH" ;;
esac

VMT_TMP="$BATS_TEST_TMPDIR"

vmt_run() {
	local want=$1
	shift
	run --separate-stderr "$@"
	if [ "$status" -ne "$want" ]; then
		echo "command: $*" >&2
		echo "exit status $status, expected $want" >&2
		echo "--- stderr:" >&2
		printf '%s\n' "$stderr" >&2
		echo "--- stdout (first 20 lines):" >&2
		printf '%s\n' "$output" | head -20 >&2
		return 1
	fi
}

vmt_one_line_error() {
	local prog=$1 regex=$2 nlines
	nlines=$(printf '%s\n' "$stderr" | grep -c .)
	if printf '%s\n' "$stderr" | grep -q "^Try '$prog --help' for more information\.\$"; then
		# a usage error: the reason, then the "Try" line
		nlines=$((nlines - 1))
	fi
	if [ "$nlines" -ne 1 ]; then
		echo "expected a one-line error, stderr has $nlines lines:" >&2
		printf '%s\n' "$stderr" >&2
		return 1
	fi
	if ! printf '%s\n' "$stderr" | head -1 | grep -Eq "^$prog: "; then
		echo "error does not start with '$prog: ': $stderr" >&2
		return 1
	fi
	if ! printf '%s\n' "$stderr" | head -1 | grep -Eq -- "$regex"; then
		echo "error does not match /$regex/: $stderr" >&2
		return 1
	fi
}

vmt_run_error() {
	local want=$1 regex=$2
	shift 2
	vmt_run "$want" "$@"
	vmt_one_line_error "$(basename "$1")" "$regex"
}

# Skips the rest of a test that bounds peak RSS: under ASan (configure
# --enable-asan) the allocator is ASan's, with its quarantine and redzones,
# not the glibc malloc whose memory the formula describes.
vmt_skip_rss_under_asan() {
	[ "${VMT_ASAN-}" != yes ] || skip "peak RSS is ASan's allocator's here, not glibc's (the work was checked)"
}

vmt_require_tool() {
	[ -x "$VMT_BUILDDIR/$1" ] || skip "$1 not built"
}

# vmt_sim_setup TOOL...: the set-up of a device tool's tests on the
# simulator: each TOOL built, SIM the simulator's runner, STATE its state
# directory (tests/sim/README).
vmt_sim_setup() {
	local tool
	for tool; do
		vmt_require_tool "$tool"
	done
	SIM="$VMT_SRCDIR/tests/sim/vfiosim-run"
	STATE="$VMT_TMP/sim"
}

# cat_setup: the set-up of migstream-cat's tests: the tool and
# migstream-cat-mkstream built, and in $VMT_TMP (the working directory)
# full.vms, a stream with every record type.
cat_setup() {
	vmt_require_tool migstream-cat
	vmt_require_tool migstream-cat-mkstream
	cd "$VMT_TMP"
	migstream-cat-mkstream >full.vms
}

vmt_random_file() {
	head -c "$2" /dev/urandom >"$1"
}

vmt_text_file() {
	local size
	size=$(numfmt --from=iec "$2")
	yes 'the quick brown fox jumps over the lazy migstream' | head -c "$size" >"$1"
}

vmt_make_stream() {
	local file=$1 size=$2
	shift 2
	vmt_random_file "$file.raw" "$size"
	migstream-cat --wrap "$@" "$file.raw" >"$file"
}

vmt_size() {
	stat -c %s "$1"
}

vmt_flip_byte() {
	local file=$1 offset=$2 byte
	byte=$(od -An -tu1 -j "$offset" -N1 "$file" | tr -d ' ')
	printf "$(printf '\\%03o' $((byte ^ 0xff)))" |
		dd of="$file" bs=1 seek="$offset" conv=notrunc status=none
}

vmt_normalise() {
	sed -E \
		-e 's/time=[0-9TZ:.-]+/time=TIME/g' \
		-e 's/host=[^ "]*/host=HOST/g' \
		-e 's/version=[^ "]*/version=VERSION/g'
}

vmt_check_golden() {
	local name=$1 file=$2 golden="$VMT_SRCDIR/tests/cli/golden/$1"
	if [ "${VMT_UPDATE_GOLDEN:-0}" = 1 ]; then
		cp "$file" "$golden"
		return 0
	fi
	diff -u "$golden" "$file"
}

# vmt_reader_gone CMD...: run CMD with stdout a pipe whose reader has
# already gone (what `CMD | head -1` becomes once head has exited), so the
# first write meets EPIPE every time, not only when the race goes that way.
# "${VMT_READER_GONE[@]}" CMD... is the same as a command, for wrappers
# such as vfiosim-run.
VMT_READER_GONE=(perl -e 'pipe(my $r, my $w) or die "pipe: $!"; close($r);
	open(STDOUT, ">&", $w) or die "dup: $!"; close($w); exec(@ARGV) or die "exec: $!"')
vmt_reader_gone() {
	"${VMT_READER_GONE[@]}" "$@"
}
