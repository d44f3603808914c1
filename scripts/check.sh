#!/bin/sh
# check.sh - every test: the normal build's unit + golden suites, the same
# under ASan+UBSan, then each fuzz target for FUZZ_SECONDS. Ends with the
# total "N passed, N failed".
cd "$(dirname "$0")/.." || exit 1
secs=${FUZZ_SECONDS:-20}
total_p=0; total_f=0; rc=0
stage() {
	log=$(mktemp)
	"$@" 2>&1 | tee "$log"
	st=$(tail -n 1 "$log" | grep -Eo '[0-9]+ passed, [0-9]+ failed' | tail -1)
	if [ -z "$st" ]; then total_f=$((total_f+1)); rc=1; else
		p=${st%% passed*}; f=${st#*passed, }; f=${f%% failed*}
		total_p=$((total_p+p)); total_f=$((total_f+f)); [ "$f" -ne 0 ] && rc=1
	fi
	rm -f "$log"
}
stage make --no-print-directory test
stage make --no-print-directory SAN=1 test
stage make --no-print-directory fuzz FUZZ_SECONDS=$secs
echo "check: $total_p passed, $total_f failed"
[ $rc -eq 0 ] && [ $total_f -eq 0 ]
