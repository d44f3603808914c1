#!/bin/sh
# run.sh MAMORI - end-to-end tests: the repository's fixtures (tests/data)
# and, when present, the real AWS samples in ../shared/data; the golden
# case folders (tests/golden/cases/*: logs in, findings out); bad input,
# rescans, stdin, formats, the CLI; the simulator's golden estate; and the
# test harness itself. Ends "golden: N passed, N failed, N skipped".
# MM_GOLDEN_UPDATE=1 rewrites each case's expected.jsonl from what the
# scan found (review the diff before committing it).
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/suite.sh"
BUILD=$(dirname "$M")
SHARED=${MM_SHARED_DATA:-$ROOT/../shared/data}
DATA=$ROOT/tests/data
nfind() { "$M" findings list --db "$1" --format json | wc -l | tr -d ' '; }

# --- the test harness itself -------------------------------------------------
# mmtest: past its capacity the run fails; a test needing ../shared/data
# skips where it is absent and runs where it is present
S=$BUILD/tests/mmtest-selftest
if [ -x "$S" ]; then
	MM_SHARED_DATA=$T/absent "$S" >"$T/st1.out" 2>&1; rc=$?
	expect harness_mmtest_capacity "exit $rc, want 1 and 'capacity' named: $(tail -1 "$T/st1.out")" \
		sh -c "[ $rc -eq 1 ] && grep -q 'past the runner.s capacity of 2' '$T/st1.out' && tail -1 '$T/st1.out' | grep -q '1 passed, 1 failed, 1 skipped'"
	expect harness_mmtest_skip_absent "want 'skip needs_shared_data'" has "$T/st1.out" "skip needs_shared_data: ../shared/data absent"
	MM_SHARED_DATA=$T "$S" >"$T/st2.out" 2>&1
	expect harness_mmtest_runs_present "with the folder present the test must run (and fail on purpose)" \
		sh -c "grep -q 'FAIL needs_shared_data' '$T/st2.out' && tail -1 '$T/st2.out' | grep -q '1 passed, 2 failed, 0 skipped'"
else
	bad harness_mmtest "$S not built (make test builds it)"
fi
# run-tests.sh: sums passed/failed/skipped, fails on a failure, a non-zero
# exit or a missing summary line
mkdir -p "$T/rt"
printf '#!/bin/sh\necho "a: 2 passed, 0 failed, 3 skipped"\n' >"$T/rt/a"
printf '#!/bin/sh\necho "b: 1 passed, 0 failed"\n' >"$T/rt/b"
printf '#!/bin/sh\necho "c: 1 passed, 0 failed"\nexit 1\n' >"$T/rt/c"
printf '#!/bin/sh\necho crashed\n' >"$T/rt/d"
chmod +x "$T/rt/a" "$T/rt/b" "$T/rt/c" "$T/rt/d"
"$ROOT/scripts/run-tests.sh" rt "$T/rt/a" "$T/rt/b" >"$T/rt1.out" 2>&1; rc=$?
expect harness_run_tests_sums "exit $rc: $(tail -1 "$T/rt1.out")" \
	sh -c "[ $rc -eq 0 ] && tail -1 '$T/rt1.out' | grep -qx 'rt: 3 passed, 0 failed, 3 skipped'"
"$ROOT/scripts/run-tests.sh" rt "$T/rt/a" "$T/rt/c" >/dev/null 2>&1; rc=$?
expect harness_run_tests_exit_status "a non-zero exit after a clean summary must fail (exit $rc)" test $rc -ne 0
"$ROOT/scripts/run-tests.sh" rt "$T/rt/a" "$T/rt/d" >"$T/rt3.out" 2>&1; rc=$?
expect harness_run_tests_no_summary "a run without a summary line must count as a failure (exit $rc)" \
	sh -c "[ $rc -ne 0 ] && tail -1 '$T/rt3.out' | grep -q 'rt: 2 passed, 1 failed, 3 skipped'"

# --- every fixture parses, nothing malformed -------------------------------
# tests/data: written from AWS's documented formats, always present
"$M" scan --db "$T/fx.db" --strict --no-default-lists --format json \
	--inventory "$DATA/inventory/describe-basic.json" "$DATA/logs" >"$T/fx.out" 2>"$T/fx.err"
rc=$?
expect fixtures_exit "exit $rc, want 0 (--strict: no malformed records): $(grep -v '^mamori:' "$T/fx.err" | head -3)" test $rc -eq 0
expect fixtures_counts "summary: $(grep scanned "$T/fx.err")" \
	has "$T/fx.err" "scanned 16 files, 56 records (flow 32, dns 9, cloudtrail 15) in"
expect fixtures_skips "the digest is recognised and skipped, nothing unknown" \
	has "$T/fx.err" "skipped 0 already scanned, 0 unknown format, 1 digest, 0 empty, 0 unreadable"
expect fixtures_no_findings "no lists, no findings: $(head -c 300 "$T/fx.out")" test ! -s "$T/fx.out"
# one parser at a time, forced: each family's files are read by its parser
for src in flow:vpcflow:32 dns:route53:9 cloudtrail:cloudtrail:15; do
	s=${src%%:*}; d=${src#*:}; d=${d%%:*}; want=${src##*:}
	"$M" scan --db "$T/fx-$s.db" --strict --no-default-lists --source "$s" "$DATA/logs/$d" >/dev/null 2>"$T/fx-$s.err"; rc=$?
	expect "fixtures_source_$s" "exit $rc; want $want $s records: $(grep scanned "$T/fx-$s.err")" \
		sh -c "[ $rc -eq 0 ] && grep -q ' $want records' '$T/fx-$s.err'"
done

# ../shared/data/aws-samples: real AWS log lines, when this checkout has them
if [ -d "$SHARED/aws-samples" ]; then
	"$M" scan --db "$T/s.db" --strict --no-default-lists --format json "$SHARED/aws-samples" >"$T/s.out" 2>"$T/s.err"
	rc=$?
	expect samples_exit "exit $rc, want 0 (--strict: no malformed records)" test $rc -eq 0
	expect samples_counts "summary: $(grep scanned "$T/s.err")" \
		has "$T/s.err" "scanned 27 files, 90 records (flow 33, dns 34, cloudtrail 23) in"
	expect samples_skips "the GuardDuty findings file is not a log; the digest is skipped" \
		has "$T/s.err" "1 unknown format, 1 digest"
	expect samples_no_findings "no lists, no findings" test ! -s "$T/s.out"
else
	for n in samples_exit samples_counts samples_skips samples_no_findings; do
		skipped "$n" "../shared/data absent"
	done
fi

# --- golden cases: tests/golden/cases/NAME/{input/,args,expected.jsonl} -----
# (format: tests/golden/cases/README.md). One check per case.
run_case() {
	c=$1; name=${c##*/}; n=case_$name
	db=$T/case-$name.db; err=$T/case-$name.err; got=$T/case-$name.jsonl
	if [ ! -d "$c/input" ]; then bad "$n" "no input/ folder"; return; fi
	# args: one scan argument a line, run from the case folder
	rc=$(cd "$c" && {
		set --
		if [ -f args ]; then
			while IFS= read -r a || [ -n "$a" ]; do
				case $a in '' | '#'*) continue ;; esac
				set -- "$@" "$a"
			done <args
		fi
		"$M" scan --db "$db" --format json --no-progress "$@" input >/dev/null 2>"$err"
		echo $?
	})
	want=0; [ -f "$c/exit" ] && want=$(tr -d ' \n' <"$c/exit")
	if [ "$rc" != "$want" ]; then
		bad "$n" "scan exit $rc, want $want"; sed 's/^/    /' "$err" | tail -5; return
	fi
	if [ -f "$c/stderr" ]; then
		while IFS= read -r line || [ -n "$line" ]; do
			[ -z "$line" ] && continue
			if ! grep -qF -- "$line" "$err"; then
				bad "$n" "scan stderr lacks '$line'"; sed 's/^/    /' "$err" | tail -5; return
			fi
		done <"$c/stderr"
	fi
	if ! "$M" findings list --db "$db" --format json >"$T/case-$name.json" 2>>"$err"; then
		bad "$n" "findings list failed: $(tail -1 "$err")"; return
	fi
	if ! python3 "$HERE/lib/normalise.py" <"$T/case-$name.json" >"$got"; then
		bad "$n" "could not normalise the findings"; return
	fi
	# a case that expects nothing could pass by accident: every case keeps
	# a positive control beside its look-alikes
	if [ ! -s "$got" ] && [ "${MM_GOLDEN_UPDATE:-0}" = 1 ]; then
		bad "$n" "no findings: a case needs at least one (a positive control)"; return
	fi
	if [ "${MM_GOLDEN_UPDATE:-0}" = 1 ]; then
		if cmp -s "$got" "$c/expected.jsonl"; then ok "$n"; else
			cp "$got" "$c/expected.jsonl"; ok "$n (expected.jsonl rewritten)"
		fi
		return
	fi
	if [ ! -s "$c/expected.jsonl" ]; then
		bad "$n" "expected.jsonl missing or empty (every case expects at least one finding; MM_GOLDEN_UPDATE=1 writes it)"; return
	fi
	if diff -u "$c/expected.jsonl" "$got" >"$T/case-$name.diff"; then ok "$n"; else
		bad "$n" "findings differ from expected.jsonl (- expected, + got):"
		tail -n +3 "$T/case-$name.diff" | sed 's/^/    /'
	fi
}
if command -v python3 >/dev/null 2>&1; then
	ncases=0
	for c in "$HERE"/cases/*/; do
		[ -d "$c" ] || continue
		run_case "${c%/}"; ncases=$((ncases+1))
	done
	expect cases_present "no case folders under tests/golden/cases" test $ncases -gt 0
else
	bad cases "python3 not found: the case runner normalises findings with it (make deps installs it)"
fi

# --- bad input around the located errors -----------------------------------
L="--no-default-lists --threat-list custom=$HERE/cases/flow-bad-records/custom.txt"
B=$HERE/cases/flow-bad-records/input
# truncated .gz: the records before the damage count
i=0; { head -1 "$B/flow_bad.log"; while [ $i -lt 2000 ]; do
	echo "2 123456789012 eni-0trunc0000000001 10.1.2.3 198.51.100.23 4$((i % 9000 + 1000)) 22 6 10 840 1714557600 1714557660 ACCEPT OK"
	i=$((i+1)); done; } | gzip -c >"$T/full.log.gz"
sz=$(wc -c <"$T/full.log.gz"); head -c $((sz - 200)) "$T/full.log.gz" >"$T/trunc.log.gz"
"$M" scan --db "$T/t.db" $L "$T/trunc.log.gz" >/dev/null 2>"$T/t.err"; rc=$?
expect truncated_gz_reported "want 'truncated' message" has "$T/t.err" "truncated"
cnt=$("$M" findings list --db "$T/t.db" --format json | grep -o '"count":[0-9]*' | head -1 | cut -d: -f2)
expect truncated_gz_keeps_records "count=$cnt, want 1000..1999" sh -c "[ '${cnt:-0}' -ge 1000 ] && [ '${cnt:-0}' -lt 2000 ]"

# --- rescans do not count twice; appended lines are read once ------------
cp "$B/flow_bad.log" "$T/grow.log"
"$M" scan --db "$T/g.db" $L "$T/grow.log" >/dev/null 2>"$T/g1.err"
expect first_scan_reports_bad_lines "control for append_no_old_errors: want grow.log:3:" has "$T/g1.err" "grow.log:3: "
"$M" scan --db "$T/g.db" $L "$T/grow.log" >/dev/null 2>"$T/g2.err"
expect rescan_skips "second scan should skip the file" has "$T/g2.err" "skipped 1 already scanned"
"$M" findings list --db "$T/g.db" --format json >"$T/g.json"
expect rescan_same_count "count changed on rescan" has "$T/g.json" '"count":2'
( cd "$T" && "$M" scan --db "$T/g.db" $L grow.log >/dev/null 2>"$T/g2b.err" )
expect rescan_by_other_name "the same file named relatively must be skipped too" has "$T/g2b.err" "skipped 1 already scanned"
echo "2 123456789012 eni-0bad00000000000a1 10.1.2.3 198.51.100.23 41009 22 6 10 840 1714557900 1714557960 ACCEPT OK" >>"$T/grow.log"
"$M" scan --db "$T/g.db" $L "$T/grow.log" >/dev/null 2>"$T/g3.err"
"$M" findings list --db "$T/g.db" --format json >"$T/g.json"
expect append_reads_new_lines_once "want count 3 after one appended line" has "$T/g.json" '"count":3'
expect append_no_old_errors "old bad lines re-reported" sh -c "! grep -q 'grow.log:3:' '$T/g3.err'"
expect append_read_one_record "want 1 record read from the appended line: $(grep scanned "$T/g3.err")" \
	has "$T/g3.err" "scanned 1 files, 1 records"

# --- a log rotated by rename while its writer still appends: read once -----
rot() { # ENI N START-INDEX
	i=$3; while [ $i -lt $(($3 + $2)) ]; do
		echo "2 123456789012 $1 10.1.2.3 198.51.100.23 $((41000 + i)) 22 6 10 840 $((1714557600 + 60 * i)) $((1714557660 + 60 * i)) ACCEPT OK"
		i=$((i + 1)); done
}
mkdir -p "$T/rot"
{ head -1 "$B/flow_bad.log"; rot eni-0rot0000000000a1 100 0; } >"$T/rot/app.log"
"$M" scan --db "$T/r.db" $L "$T/rot" >/dev/null 2>&1
rot eni-0rot0000000000a1 5 100 >>"$T/rot/app.log"
mv "$T/rot/app.log" "$T/rot/app.log.1"
{ head -1 "$B/flow_bad.log"; rot eni-0rot0000000000a2 3 0; } >"$T/rot/app.log"
"$M" scan --db "$T/r.db" $L "$T/rot" >/dev/null 2>"$T/r2.err"
"$M" findings list --db "$T/r.db" --format json >"$T/r.json"
expect rotated_grown_read_once "want 105 for the rotated log (100 + 5 appended after the last scan), 3 for the new one: $(grep -o '"count":[0-9]*' "$T/r.json" | tr '\n' ' ')" \
	test "$(grep -o '"count":[0-9]*' "$T/r.json" | sort | tr '\n' ' ')" = '"count":105 "count":3 '
expect rotated_grown_reads_only_new "want 8 records read (5 + 3): $(grep scanned "$T/r2.err")" \
	hasE "$T/r2.err" "files, 8 records"

# --- stdin, mixed folders, --source ----------------------------------------
"$M" scan --db "$T/i.db" $L - <"$B/flow_bad.log" >/dev/null 2>&1
expect stdin_scan "no finding from stdin" test "$(nfind "$T/i.db")" -eq 1
mkdir -p "$T/mixed"; cp "$B/flow_bad.log" "$T/mixed/"; echo "hello, world" >"$T/mixed/readme.txt"
"$M" scan --db "$T/m.db" $L "$T/mixed" >/dev/null 2>"$T/m.err"; rc=$?
expect mixed_folder_scans "exit $rc; unknown file must be a warning" \
	sh -c "[ $rc -eq 0 ] && grep -q 'readme.txt: not a known log format' '$T/m.err' && grep -q '1 unknown format' '$T/m.err'"
# --source dns on a flow log: not read as DNS (its lines are no JSON), so
# the file is reported unknown and nothing is found; --source flow on the
# same file (the control) finds what auto-detection finds
"$M" scan --db "$T/x.db" $L --source dns "$B/flow_bad.log" >/dev/null 2>"$T/x.err"; rc=$?
expect source_forced_other "exit $rc, want 0, the file reported unknown and no record or finding: $(grep -v '^mamori: findings' "$T/x.err" | head -2)" \
	sh -c "[ $rc -eq 0 ] && grep -q 'flow_bad.log: not a known log format' '$T/x.err' && grep -q '0 records' '$T/x.err' && [ \$(\"$M\" findings list --db '$T/x.db' --format json | wc -l) -eq 0 ]"
"$M" scan --db "$T/x2.db" $L --source flow "$B/flow_bad.log" >/dev/null 2>"$T/x2.err"; rc=$?
expect source_forced_same "exit $rc, want 0, 2 flow records and one finding: $(grep scanned "$T/x2.err")" \
	sh -c "[ $rc -eq 0 ] && grep -q '2 records (flow 2' '$T/x2.err' && [ \$(\"$M\" findings list --db '$T/x2.db' --format json | wc -l) -eq 1 ]"

# --- a big plain file is read in parts by both cores, line numbers exact ---
{ head -1 "$B/flow_bad.log"
  yes "2 123456789012 eni-0big000000000000a1 10.1.2.3 93.184.216.34 41000 443 6 10 840 1714557600 1714557660 ACCEPT OK" | head -n 499998
  echo "2 123456789012 eni-0big000000000000a1 10.1.2.3 garbage 41000 22 6 10 840 1714557600 1714557660 ACCEPT OK"
  yes "2 123456789012 eni-0big000000000000a1 10.1.2.3 198.51.100.23 41000 22 6 10 840 1714557600 1714557660 ACCEPT OK" | head -n 250000
} >"$T/big.log"
"$M" scan --db "$T/big.db" $L --threads 2 --format json "$T/big.log" >"$T/big.json" 2>"$T/big.err"
expect split_line_numbers "want big.log:500000: for the bad record" has "$T/big.err" "big.log:500000: "
expect split_counts "want 750000 records and one finding of count 250000" \
	sh -c "grep -q '750.0k records' '$T/big.err' && grep -q '\"count\":250000' '$T/big.json' && grep -q '\"line\":500001' '$T/big.json'"
"$M" scan --db "$T/big.db" $L --threads 2 --format json "$T/big.log" >/dev/null 2>"$T/big2.err"
expect split_file_remembered "a rescan of a split file must skip it" has "$T/big2.err" "skipped 1 already scanned"
rm -f "$T/big.log"

# (middlebox interfaces, NAT gateways: tests/golden/cases/nat-*)

# --- output formats and --fail-on -------------------------------------------
"$M" scan --db "$T/o.db" $L --format guardduty "$B/flow_bad.log" >"$T/o.json" 2>/dev/null; rc=$?
expect format_guardduty "want {\"findings\":[...]} with one finding, exit 0 (got $rc)" \
	sh -c "[ $rc -eq 0 ] && head -c 13 '$T/o.json' | grep -q '{\"findings\":\[' && tail -c 3 '$T/o.json' | grep -q ']}' && [ \$(grep -o '\"schemaVersion\"' '$T/o.json' | wc -l) -eq 1 ]"
"$M" scan --db "$T/r.db" $L --region eu-north-1 --format json "$B/flow_bad.log" >"$T/r.json" 2>/dev/null
expect region_default "want region eu-north-1 in the finding and its ARN" \
	sh -c "grep -q '\"region\":\"eu-north-1\"' '$T/r.json' && grep -q 'arn:aws:guardduty:eu-north-1:123456789012:detector/' '$T/r.json'"
"$M" scan --db "$T/o2.db" $L --fail-on medium --format json "$B/flow_bad.log" >/dev/null 2>&1; rc=$?
expect fail_on_medium "exit $rc, want 4 (a Medium finding)" test $rc -eq 4
"$M" scan --db "$T/o3.db" $L --fail-on high --format json "$B/flow_bad.log" >/dev/null 2>&1; rc=$?
expect fail_on_high "exit $rc, want 0 (no High finding)" test $rc -eq 0
# what a scan prints is what it touched: the first scan prints the finding
# (the control), a rescan that skips the file prints nothing
"$M" scan --db "$T/p.db" $L --format json "$B/flow_bad.log" >"$T/p1.json" 2>/dev/null; rc=$?
expect scan_prints_touched "exit $rc, want 0 and one finding printed" \
	sh -c "[ $rc -eq 0 ] && [ \$(wc -l <'$T/p1.json') -eq 1 ] && grep -q '\"count\":2' '$T/p1.json'"
"$M" scan --db "$T/p.db" $L --format json "$B/flow_bad.log" >"$T/p2.json" 2>"$T/p2.err"; rc=$?
expect rescan_prints_nothing "exit $rc, want 0, the file skipped, nothing printed: $(head -c 200 "$T/p2.json")" \
	sh -c "[ $rc -eq 0 ] && grep -q 'skipped 1 already scanned' '$T/p2.err' && [ ! -s '$T/p2.json' ]"

# --- CLI ---------------------------------------------------------------------
for c in scan findings sim; do
	"$M" $c --help >"$T/help.out" 2>&1; rc=$?
	expect "help_$c" "exit $rc, want 0 and a usage text" sh -c "[ $rc -eq 0 ] && grep -q '^usage: mamori $c' '$T/help.out'"
done
"$M" scan --bogus >/dev/null 2>&1; rc=$?
expect usage_exit "exit $rc, want 2" test $rc -eq 2
"$M" scan --db "$T/n.db" /nonexistent/path >/dev/null 2>"$T/n.err"; rc=$?
expect missing_input "exit $rc, want 1 with the path named" sh -c "[ $rc -eq 1 ] && grep -q /nonexistent/path '$T/n.err'"
"$M" findings list --db "$T/none.db" >/dev/null 2>&1; rc=$?
expect findings_missing_db "exit $rc, want 1" test $rc -eq 1
id=$("$M" findings list --db "$T/p.db" --format json | grep -o '"id":"[0-9a-f]*"' | head -1 | cut -d'"' -f4)
"$M" findings show "$id" --db "$T/p.db" --format json >"$T/show.json" 2>&1
expect findings_show "show $id" has "$T/show.json" "\"schemaVersion\":\"2.0\""

# --- the simulated estate: every injected attack found, nothing else -------
# (two days of every attack set; tests/golden/sim_network.sh runs ten days,
# where the baseline behaviours show, at two seeds and two scales)
if "$M" sim --out "$T/sim" --days 2 --seed 7 >"$T/sim.out" 2>&1; then
	ok sim_runs
	"$M" sim --out "$T/sim2" --days 2 --seed 7 >/dev/null 2>&1
	expect sim_deterministic "same seed gave different bytes" diff -r "$T/sim" "$T/sim2"
	"$M" scan --db "$T/sim.db" --options-file "$T/sim/scan.args" "$T/sim/AWSLogs" >/dev/null 2>"$T/sim.err"; rc=$?
	expect sim_scan "exit $rc: $(tail -3 "$T/sim.err")" test $rc -eq 0
	"$M" sim verify --truth "$T/sim/truth.json" --db "$T/sim.db" >"$T/verify.out" 2>&1; rc=$?
	cat "$T/verify.out" | grep -v '^ok' | sed 's/^/    /'
	expect sim_golden "verify: $(tail -1 "$T/verify.out")" test $rc -eq 0
	"$M" scan --db "$T/sim.db" --options-file "$T/sim/scan.args" "$T/sim/AWSLogs" >/dev/null 2>&1
	"$M" sim verify --truth "$T/sim/truth.json" --db "$T/sim.db" >/dev/null 2>&1; rc=$?
	expect sim_rescan_idempotent "verify after rescan failed" test $rc -eq 0
	# same findings (ids, counts, times, evidence) whatever the thread count
	"$M" scan --db "$T/sim1.db" --threads 1 --options-file "$T/sim/scan.args" "$T/sim/AWSLogs" >/dev/null 2>&1
	"$M" findings list --db "$T/sim1.db" --format json | sed 's/"createdAt":"[^"]*","updatedAt":"[^"]*"//g' | sort >"$T/one.jsonl"
	"$M" scan --db "$T/sim4.db" --threads 4 --options-file "$T/sim/scan.args" "$T/sim/AWSLogs" >/dev/null 2>&1
	"$M" findings list --db "$T/sim4.db" --format json | sed 's/"createdAt":"[^"]*","updatedAt":"[^"]*"//g' | sort >"$T/four.jsonl"
	expect sim_thread_count_invariant "1 and 4 threads gave different findings" \
		sh -c "[ -s '$T/one.jsonl' ] && cmp -s '$T/one.jsonl' '$T/four.jsonl'"
	# and the same stored baselines: a principal's CloudTrail state is
	# byte-identical (items by key, days ascending, no flag that depends
	# on which thread saw a record first)
	st() { sqlite3 "$1" "select entity, hex(state) from detector_state where detector='ctbase' order by entity"; }
	st "$T/sim1.db" >"$T/cb1.txt"; st "$T/sim4.db" >"$T/cb4.txt"
	expect sim_thread_count_same_ctbase_state "1 and 4 threads stored different ctbase state" \
		sh -c "[ -s '$T/cb1.txt' ] && cmp -s '$T/cb1.txt' '$T/cb4.txt'"
	# the bundled mining and Tor lists on as well: still nothing on look-alikes
	grep -v -- --no-default-lists "$T/sim/scan.args" >"$T/sim/scan-defaults.args"
	"$M" scan --db "$T/simd.db" --options-file "$T/sim/scan-defaults.args" "$T/sim/AWSLogs" >/dev/null 2>&1
	"$M" sim verify --truth "$T/sim/truth.json" --db "$T/simd.db" >"$T/verify2.out" 2>&1; rc=$?
	expect sim_golden_with_bundled_lists "verify: $(grep -v '^ok' "$T/verify2.out" | head -3)" test $rc -eq 0
	# a bigger estate with another seed and start date generalises the same way
	"$M" sim --out "$T/sim3" --days 1 --scale 3 --seed 11 --start 2025-06-30 >/dev/null 2>&1
	"$M" scan --db "$T/sim3.db" --threads 2 --options-file "$T/sim3/scan.args" "$T/sim3/AWSLogs" >/dev/null 2>&1
	"$M" sim verify --truth "$T/sim3/truth.json" --db "$T/sim3.db" >"$T/verify3.out" 2>&1; rc=$?
	expect sim_golden_scale3_seed11 "verify: $(grep -v '^ok' "$T/verify3.out" | head -3)" test $rc -eq 0
else
	bad sim_runs "$(tail -3 "$T/sim.out")"
fi

echo "golden: $pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
