#!/bin/sh
# check.sh - every test: the normal build's unit + golden suites, the same
# again as a fresh clone sees them (no ../shared/data: tests that need it
# skip, the repository's own fixtures still cover every parser), the same
# under ASan+UBSan, then each fuzz target for FUZZ_SECONDS. A stage fails
# on any failure in its summary line, on a missing summary line, and on
# make's own non-zero exit (a build error, a suite that crashed after its
# summary). Ends with "check: N passed, N failed, N skipped".
cd "$(dirname "$0")/.." || exit 1
secs=${FUZZ_SECONDS:-15}
total_p=0; total_f=0; total_s=0; rc=0
log=$(mktemp); st_file=$(mktemp)
trap 'rm -f "$log" "$st_file"' EXIT
# stage CMD...: run CMD, show its output, add its last summary to the totals
stage() {
	# the pipe to tee would hide CMD's status: keep it in a file
	{ "$@" 2>&1; echo $? >"$st_file"; } | tee "$log"
	st=$(cat "$st_file")
	sum=$(tail -n 1 "$log" | grep -Eo '[0-9]+ passed, [0-9]+ failed(, [0-9]+ skipped)?' | tail -n 1)
	if [ -z "$sum" ]; then
		echo "check: '$*' ended without a summary line (exit $st): counted as 1 failure"
		total_f=$((total_f+1)); rc=1; return
	fi
	p=${sum%% passed*}; f=${sum#*passed, }; f=${f%% failed*}
	case $sum in
	*skipped) s=${sum#*failed, }; s=${s%% skipped*} ;;
	*) s=0 ;;
	esac
	total_p=$((total_p+p)); total_f=$((total_f+f)); total_s=$((total_s+s))
	[ "$f" -ne 0 ] && rc=1
	if [ "$st" -ne 0 ]; then
		rc=1
		# a failing exit that its summary does not show still counts
		if [ "$f" -eq 0 ]; then
			echo "check: '$*' exited $st after a summary with no failure: counted as 1 failure"
			total_f=$((total_f+1))
		fi
	fi
}
stage make --no-print-directory test
stage env MM_SHARED_DATA=/nonexistent/shared/data make --no-print-directory test
stage make --no-print-directory SAN=1 test
stage make --no-print-directory fuzz FUZZ_SECONDS=$secs
echo "check: $total_p passed, $total_f failed, $total_s skipped"
[ $rc -eq 0 ] && [ $total_f -eq 0 ]
