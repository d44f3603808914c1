#!/bin/sh
# run-tests.sh BUILD TESTBIN... [-- CMD ARGS...]
# Runs each unit-test binary, then an optional extra suite command; each
# ends with "N passed, M failed". Prints the sums as the closing line.
build=$1; shift
total_pass=0; total_fail=0; bad=0
tally() {
	line=$(tail -n 1 "$1" | grep -Eo '[0-9]+ passed, [0-9]+ failed' | tail -n 1)
	if [ -z "$line" ]; then
		echo "  (no summary line: counted as 1 failure)"
		total_fail=$((total_fail + 1)); bad=1; return
	fi
	p=${line%% passed*}; f=${line#*passed, }; f=${f%% failed*}
	total_pass=$((total_pass + p)); total_fail=$((total_fail + f))
}
out=$(mktemp); trap 'rm -f "$out"' EXIT
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
	( cd "$(dirname "$0")/.." && "$1" ) >"$out" 2>&1; rc=$?
	cat "$out"
	tally "$out"
	[ $rc -ne 0 ] && bad=1
	shift
done
if [ "$1" = "--" ]; then
	shift
	"$@" >"$out" 2>&1; rc=$?
	cat "$out"; tally "$out"; [ $rc -ne 0 ] && bad=1
fi
echo "$build: $total_pass passed, $total_fail failed"
[ $bad -eq 0 ] && [ $total_fail -eq 0 ]
