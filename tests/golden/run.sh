#!/bin/sh
# run.sh MAMORI - end-to-end tests: real AWS samples, bad input, rescans,
# stdin, and the simulator's golden estate (logs in, findings out, checked
# against the simulator's truth file). Ends "golden: N passed, N failed".
M=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
SHARED=${MM_SHARED_DATA:-$ROOT/../shared/data}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export MAMORI_DATA="$ROOT/data"
unset MAMORI_DB
pass=0; fail=0
ok() { echo "ok   $1"; pass=$((pass+1)); }
bad() { echo "FAIL $1: $2"; fail=$((fail+1)); }
# expect NAME CONDITION-DESCRIPTION COMMAND...: pass when COMMAND succeeds
expect() { n=$1; d=$2; shift 2; if "$@"; then ok "$n"; else bad "$n" "$d"; fi; }
has() { grep -q -- "$2" "$1"; }
nfind() { "$M" findings list --db "$1" --format json | wc -l | tr -d ' '; }

# --- every AWS sample parses, nothing malformed ---------------------------
"$M" scan --db "$T/s.db" --strict --no-default-lists --format json "$SHARED/aws-samples" >"$T/s.out" 2>"$T/s.err"
rc=$?
expect samples_exit "exit $rc, want 0 (--strict: no malformed records)" test $rc -eq 0
expect samples_counts "summary: $(grep scanned "$T/s.err")" \
	has "$T/s.err" "scanned 27 files, 90 records (flow 33, dns 34, cloudtrail 23) in"
expect samples_skips "the GuardDuty findings file is not a log; the digest is skipped" \
	has "$T/s.err" "1 unknown format, 1 digest"
expect samples_no_findings "no lists, no findings" test "$(wc -l <"$T/s.out" | tr -d ' ')" -eq 0

# --- bad input: located errors, counted, good records around them kept ---
L="--no-default-lists --threat-list custom=$HERE/lists/custom.txt"
B=$HERE/badinput
"$M" scan --db "$T/f.db" $L --strict "$B/flow_bad.log" >/dev/null 2>"$T/f.err"; rc=$?
expect flow_bad_exit "exit $rc, want 3" test $rc -eq 3
expect flow_bad_line3 "no flow_bad.log:3: error" has "$T/f.err" "flow_bad.log:3: "
expect flow_bad_line4 "no flow_bad.log:4: error" has "$T/f.err" "flow_bad.log:4: "
expect flow_bad_line5 "no flow_bad.log:5: error" has "$T/f.err" "flow_bad.log:5: "
expect flow_bad_counted "summary lacks 3 malformed" has "$T/f.err" "3 malformed records"
"$M" findings list --db "$T/f.db" --format json >"$T/f.json"
expect flow_bad_good_kept "want one finding with count 2" has "$T/f.json" '"count":2'

"$M" scan --db "$T/d.db" $L --strict "$B/dns_bad.log" >/dev/null 2>"$T/d.err"; rc=$?
expect dns_bad_exit "exit $rc, want 3" test $rc -eq 3
expect dns_bad_lines "want dns_bad.log:2: and :3:" sh -c "grep -q 'dns_bad.log:2: ' '$T/d.err' && grep -q 'dns_bad.log:3: ' '$T/d.err'"
"$M" findings list --db "$T/d.db" --format json >"$T/d.json"
expect dns_bad_good_kept "want MaliciousDomainRequest.Custom count 2" \
	sh -c "grep -q 'Impact:EC2/MaliciousDomainRequest.Custom' '$T/d.json' && grep -q '\"count\":2' '$T/d.json'"

"$M" scan --db "$T/c.db" $L --strict "$B/ct_bad.json" >/dev/null 2>"$T/c.err"; rc=$?
expect ct_bad_exit "exit $rc, want 3" test $rc -eq 3
expect ct_bad_line "want ct_bad.json:3:" has "$T/c.err" "ct_bad.json:3: "
"$M" findings list --db "$T/c.db" --format json >"$T/c.json"
expect ct_bad_good_kept "want MaliciousIPCaller.Custom on AKIABADBADBADBAD0001 count 2" \
	sh -c "grep -q 'UnauthorizedAccess:IAMUser/MaliciousIPCaller.Custom' '$T/c.json' && grep -q '\"count\":2' '$T/c.json' && grep -q AKIABADBADBADBAD0001 '$T/c.json'"

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
"$M" scan --db "$T/g.db" $L "$T/grow.log" >/dev/null 2>&1
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

# --- stdin, mixed folders, --source ----------------------------------------
"$M" scan --db "$T/i.db" $L - <"$B/flow_bad.log" >/dev/null 2>&1
expect stdin_scan "no finding from stdin" test "$(nfind "$T/i.db")" -eq 1
mkdir -p "$T/mixed"; cp "$B/flow_bad.log" "$T/mixed/"; echo "hello, world" >"$T/mixed/readme.txt"
"$M" scan --db "$T/m.db" $L "$T/mixed" >/dev/null 2>"$T/m.err"; rc=$?
expect mixed_folder_scans "exit $rc; unknown file must be a warning" \
	sh -c "[ $rc -eq 0 ] && grep -q 'readme.txt: not a known log format' '$T/m.err' && grep -q '1 unknown format' '$T/m.err'"
"$M" scan --db "$T/x.db" $L --source dns "$B/flow_bad.log" >/dev/null 2>&1; rc=$?
expect source_forced "forcing dns on a flow file must give malformed records, exit $rc" test $rc -eq 0

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

# --- middlebox interfaces: a NAT gateway's ENI carries an instance's traffic --
N=$HERE/nat
"$M" scan --db "$T/nat.db" $L --inventory "$N/inventory.json" "$N/nat-flows.log" >/dev/null 2>"$T/nat.err"
"$M" findings list --db "$T/nat.db" --format json >"$T/nat.json"
expect nat_attributed_to_instance "want one finding on i-0aaaaaaaaaaaaaaa1 (the instance behind the NAT)" \
	sh -c "[ \$(wc -l <'$T/nat.json') -eq 1 ] && grep -q '\"instanceId\":\"i-0aaaaaaaaaaaaaaa1\"' '$T/nat.json' && grep -q '\"count\":2' '$T/nat.json'"
expect nat_own_leg_not_reported "the NAT's own translated leg must be reported as unattributed" \
	has "$T/nat.err" "1 findings on interfaces or addresses of no known instance"
"$M" scan --db "$T/nat2.db" $L --inventory "$N/inventory.json" --report-unknown-enis "$N/nat-flows.log" >/dev/null 2>&1
expect nat_report_unknown_enis "want 2 findings with --report-unknown-enis" test "$(nfind "$T/nat2.db")" -eq 2

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
"$M" scan --db "$T/o.db" $L --format json "$B/flow_bad.log" >"$T/o2.json" 2>/dev/null
expect rescan_prints_nothing "a rescan touched findings" test ! -s "$T/o2.json"

# --- CLI ---------------------------------------------------------------------
for c in scan findings sim; do
	"$M" $c --help >/dev/null 2>&1; rc=$?
	expect "help_$c" "exit $rc" test $rc -eq 0
done
"$M" scan --bogus >/dev/null 2>&1; rc=$?
expect usage_exit "exit $rc, want 2" test $rc -eq 2
"$M" scan --db "$T/n.db" /nonexistent/path >/dev/null 2>"$T/n.err"; rc=$?
expect missing_input "exit $rc, want 1 with the path named" sh -c "[ $rc -eq 1 ] && grep -q /nonexistent/path '$T/n.err'"
"$M" findings list --db "$T/none.db" >/dev/null 2>&1; rc=$?
expect findings_missing_db "exit $rc, want 1" test $rc -eq 1
id=$("$M" findings list --db "$T/f.db" --format json | grep -o '"id":"[0-9a-f]*"' | head -1 | cut -d'"' -f4)
"$M" findings show "$id" --db "$T/f.db" --format json >"$T/show.json" 2>&1
expect findings_show "show $id" has "$T/show.json" "\"schemaVersion\":\"2.0\""

# --- the simulated estate: every injected attack found, nothing else -------
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
	"$M" findings list --db "$T/sim1.db" --format json | sed 's/"createdAt":"[^"]*","updatedAt":"[^"]*"//' | sort >"$T/one.jsonl"
	"$M" scan --db "$T/sim4.db" --threads 4 --options-file "$T/sim/scan.args" "$T/sim/AWSLogs" >/dev/null 2>&1
	"$M" findings list --db "$T/sim4.db" --format json | sed 's/"createdAt":"[^"]*","updatedAt":"[^"]*"//' | sort >"$T/four.jsonl"
	expect sim_thread_count_invariant "1 and 4 threads gave different findings" \
		sh -c "[ -s '$T/one.jsonl' ] && cmp -s '$T/one.jsonl' '$T/four.jsonl'"
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

echo "golden: $pass passed, $fail failed"
[ $fail -eq 0 ]
