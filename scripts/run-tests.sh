#!/bin/sh
# run-tests.sh BUILD [TESTBIN...] [-- MAMORI]
# Runs each unit-test binary, then, after "--", every end-to-end suite
# tests/golden/*.sh with the mamori binary as its $1 (a new suite file is
# picked up without a Makefile edit). Each ends with a summary line
# "NAME: N passed, N failed[, N skipped]"; a run without one counts as a
# failure, and so does a non-zero exit. Prints the sums as the closing line
# "BUILD: N passed, N failed, N skipped".
# Helpers that suites source belong in tests/golden/lib/, not in a top-level
# tests/golden/*.sh (that would be run as a suite).
cd "$(dirname "$0")/.." || exit 1
build=$1; shift
total_pass=0; total_fail=0; total_skip=0; bad=0
# tally FILE: add the last line's counts to the totals
tally() {
	line=$(tail -n 1 "$1" | grep -Eo '[0-9]+ passed, [0-9]+ failed(, [0-9]+ skipped)?' | tail -n 1)
	if [ -z "$line" ]; then
		echo "  (no summary line: counted as 1 failure)"
		total_fail=$((total_fail + 1)); bad=1; return
	fi
	p=${line%% passed*}; f=${line#*passed, }; f=${f%% failed*}
	case $line in
	*skipped) s=${line#*failed, }; s=${s%% skipped*} ;;
	*) s=0 ;;
	esac
	total_pass=$((total_pass + p)); total_fail=$((total_fail + f)); total_skip=$((total_skip + s))
}
# run NAME CMD...: run one binary or suite, show its output, tally it
run() {
	name=$1; shift
	"$@" >"$out" 2>&1; rc=$?
	cat "$out"
	tally "$out"
	[ $rc -ne 0 ] && { bad=1; echo "  ($name exited $rc)"; }
}
out=$(mktemp); trap 'rm -f "$out"' EXIT
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
	run "$1" "$1"
	shift
done
if [ "$1" = "--" ]; then
	shift
	mamori=$1
	for suite in tests/golden/*.sh; do
		[ -f "$suite" ] || continue
		if [ -x "$suite" ]; then run "$suite" "$suite" "$mamori"; else run "$suite" sh "$suite" "$mamori"; fi
	done
fi
echo "$build: $total_pass passed, $total_fail failed, $total_skip skipped"
[ $bad -eq 0 ] && [ $total_fail -eq 0 ]
