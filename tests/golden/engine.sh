#!/bin/sh
# engine.sh MAMORI - the engine's promises, end to end through the binary:
# the same findings whatever the thread count, file split, flush cadence,
# spill size, run split or day order; nothing lost or counted twice on a
# rerun, an overlapping run, a moved tree, a damaged .gz or a line still
# being written; the registry's second detector (RootCredentialUsage).
# Needs nothing outside the repository. Ends "engine: N passed, N failed".
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/suite.sh"

"$M" sim --out "$T/sim" --days 3 --seed 5 >/dev/null 2>&1 || { bad sim "mamori sim failed"; echo "engine: $pass passed, $((fail)) failed"; exit 1; }
A="--options-file $T/sim/scan.args"
L="$T/sim/AWSLogs"
"$M" scan --db "$T/ref.db" --threads 1 $A "$L" >/dev/null 2>"$T/ref.err"
expect reference_scan "$(tail -2 "$T/ref.err")" test -s "$T/ref.db"
n=$("$M" findings list --db "$T/ref.db" --format json | wc -l)
expect reference_has_findings "want > 5 findings, got $n" test "$n" -gt 5

# --- equal results: threads, flush cadence, spills, file splits ----------
"$M" scan --db "$T/t4.db" --threads 4 $A "$L" >/dev/null 2>&1
same threads_1_vs_4 "$T/ref.db" "$T/t4.db"
"$M" scan --db "$T/f1.db" --threads 2 --flush-every 1 $A "$L" >/dev/null 2>&1
same flush_every_file "$T/ref.db" "$T/f1.db"
"$M" scan --db "$T/f7.db" --threads 3 --flush-every 7 $A "$L" >/dev/null 2>&1
same flush_every_7_files "$T/ref.db" "$T/f7.db"
"$M" scan --db "$T/sp.db" --threads 2 --max-findings 2 -v $A "$L" >/dev/null 2>"$T/sp.err"
same spills_are_exact "$T/ref.db" "$T/sp.db"
expect spills_happened "no spill reported by -v" grep -q "spill" "$T/sp.err"
# a spilled finding is written when it spills: its times are that moment's,
# and seeing it again in the same run does not make it "updated"
expect spills_keep_times "a spilled finding has a 1970 createdAt/updatedAt" \
	sh -c "! '$M' findings list --db '$T/sp.db' --format json | grep -q '\"\(created\|updated\)At\":\"1970'"
expect spills_not_updated "$(grep 'findings:' "$T/sp.err")" grep -q 'findings: [0-9]* new, 0 updated' "$T/sp.err"
# one big plain file, cut into parts for the threads or read whole
cat $(find "$L" -path '*vpcflowlogs*' -name '*.log.gz' | sort) | gzip -dc | grep -v '^version\|^account-id' >"$T/body"
{ echo "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"; cat "$T/body" "$T/body" "$T/body"; } >"$T/big.log"
MM_SPLIT_MIN_BYTES=4096 "$M" scan --db "$T/split.db" --threads 4 $A "$T/big.log" >/dev/null 2>&1
"$M" scan --db "$T/whole.db" --threads 1 $A "$T/big.log" >/dev/null 2>&1
same file_split_invariant "$T/whole.db" "$T/split.db"

# --- runs: day by day, out of order, rerun, moved tree -------------------
days=$(cd "$L" && find . -path '*/20??/??/??' -type d | sed 's|.*/\(20../../..\)$|\1|' | sort -u)
first=$(echo "$days" | head -1); last=$(echo "$days" | tail -1)
mkdir -p "$T/byday"
for d in $(echo "$days" | sort -r); do   # newest day first: flows before their RunInstances
	"$M" scan --db "$T/ooo.db" --threads 2 $A $(find "$L" -type d -path "*/$d") >/dev/null 2>&1
done
same days_out_of_order "$T/ref.db" "$T/ooo.db"
"$M" scan --db "$T/ooo.db" $A "$L" >/dev/null 2>&1
same rerun_counts_nothing "$T/ref.db" "$T/ooo.db"
mkdir -p "$T/moved" && cp -r "$T/sim/AWSLogs" "$T/moved/AWSLogs"
cp "$T/ref.db" "$T/mv.db"
"$M" scan --db "$T/mv.db" $A "$T/moved/AWSLogs" >/dev/null 2>"$T/mv.err"
same moved_tree_not_counted_twice "$T/ref.db" "$T/mv.db"

# a copy of a delivery next to it, in the same run: its records are the same records
mkdir -p "$T/one/d" "$T/two/d"
# a delivery that holds evidence of a finding (named by its S3 key in the evidence)
k=$("$M" findings list --db "$T/ref.db" --format json | grep -o '"file":"AWSLogs/[^"]*vpcflowlogs[^"]*"' | head -1 | cut -d'"' -f4)
f="$T/sim/$k"
cp "$f" "$T/one/d/a.log.gz"; cp "$f" "$T/two/d/a.log.gz"; cp "$f" "$T/two/d/b-copy.log.gz"
"$M" scan --db "$T/dup1.db" $A "$T/one/d" >/dev/null 2>&1
"$M" scan --db "$T/dup2.db" $A "$T/two/d" >/dev/null 2>"$T/dup2.err"
same copy_in_same_run_counted_once "$T/dup1.db" "$T/dup2.db"
expect copy_in_same_run_reported "the summary does not say a file was known by content" \
	grep -q "known by content" "$T/dup2.err"

# --- two runs at once on one database ---------------------------------
# the first run reads stdin from a fifo kept open here, so it holds the
# database until this script closes its end
mkfifo "$T/fifo"
"$M" scan --db "$T/lock.db" $A - <"$T/fifo" >/dev/null 2>&1 &
holder=$!
exec 3>"$T/fifo"
i=0; while [ $i -lt 200 ] && ! [ -s "$T/lock.db.lock" ]; do sleep 0.05; i=$((i+1)); done
"$M" scan --db "$T/lock.db" $A "$L" >/dev/null 2>"$T/lock.err"; rc=$?
expect overlapping_run_refused "exit $rc, want 5: $(cat "$T/lock.err")" test $rc -eq 5
expect overlapping_run_says_why "no clear message" grep -q "in use by another mamori" "$T/lock.err"
exec 3>&-; wait $holder 2>/dev/null
"$M" scan --db "$T/lock.db" --wait 30 $A "$L" >/dev/null 2>&1; rc=$?
expect lock_released "exit $rc after the first run ended" test $rc -eq 0
same overlap_then_alone_counts_once "$T/ref.db" "$T/lock.db"

# --- a line still being written ------------------------------------------
R="--no-default-lists --threat-list custom=$HERE/engine/custom.txt"
H="version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"
F="2 123456789012 eni-0aaaabbbbcccc0001 10.0.0.5 100.200.3.3 40001 443 6 10 840 1714557600 1714557660 ACCEPT OK"
printf '%s\n%s\n%s' "$H" "$F" "2 123456789012 eni-0aaaabbbbcccc0001 10.0.0.5 100.200.3.3 40002 4" >"$T/grow.log"
"$M" scan --db "$T/grow.db" $R --strict "$T/grow.log" >/dev/null 2>"$T/grow.err"; rc=$?
expect partial_line_not_an_error "exit $rc, want 0 (held back, not malformed)" test $rc -eq 0
printf '43 6 10 840 1714557700 1714557760 ACCEPT OK\n' >>"$T/grow.log"
"$M" scan --db "$T/grow.db" $R --strict "$T/grow.log" >/dev/null 2>&1; rc=$?
c=$("$M" findings list --db "$T/grow.db" --format json | grep -o '"count":[0-9]*')
expect partial_line_read_whole_later "exit $rc, $c, want count 2" test "$c" = '"count":2'

# --- a .gz damaged in the middle ------------------------------------------
{ echo "$H"; i=0; while [ $i -lt 3000 ]; do echo "2 123456789012 eni-0aaaabbbbcccc0002 10.0.0.6 100.200.3.3 4$((i % 9000 + 1000)) 443 6 10 840 1714557600 1714557660 ACCEPT OK"; i=$((i+1)); done; } | gzip -1 -c >"$T/dmg.log.gz"
sz=$(wc -c <"$T/dmg.log.gz")
python3 -c "import sys;b=bytearray(open(sys.argv[1],'rb').read());m=len(b)//2;b[m:m+64]=bytes(64);open(sys.argv[1],'wb').write(b)" "$T/dmg.log.gz"
"$M" scan --db "$T/dmg.db" $R --strict "$T/dmg.log.gz" >/dev/null 2>"$T/dmg.err"; rc=$?
expect corrupt_gz_strict "exit $rc, want 3" test $rc -eq 3
expect corrupt_gz_located "no located error: $(head -2 "$T/dmg.err")" grep -q "dmg.log.gz:" "$T/dmg.err"
c1=$("$M" findings list --db "$T/dmg.db" --format json | grep -o '"count":[0-9]*')
"$M" scan --db "$T/dmg.db" $R --strict "$T/dmg.log.gz" >/dev/null 2>"$T/dmg2.err"; rc=$?
c2=$("$M" findings list --db "$T/dmg.db" --format json | grep -o '"count":[0-9]*')
expect corrupt_gz_not_done "second run exit $rc, want 3 again (not remembered as done)" test $rc -eq 3
expect corrupt_gz_good_records_once "$c1 then $c2" sh -c "[ -n '$c1' ] && [ '$c1' = '$c2' ]"

# --- a flood of distinct ENIs: bounded by spilling, nothing dropped -------
awk -v h="$H" 'BEGIN { print h; for (i = 0; i < 30000; i++)
	printf "2 123456789012 eni-%017x 10.%d.%d.%d 100.200.3.3 %d 443 6 10 840 1714557600 1714557660 ACCEPT OK\n",
		i, int(i / 65536) % 256, int(i / 256) % 256, i % 256, 32768 + i % 20000 }' >"$T/flood.log"
"$M" scan --db "$T/flood1.db" $R --threads 1 --max-findings 1000 "$T/flood.log" >/dev/null 2>"$T/flood1.err"
"$M" scan --db "$T/flood4.db" $R --threads 4 --max-findings 1000 "$T/flood.log" >/dev/null 2>"$T/flood4.err"
n1=$("$M" findings list --db "$T/flood1.db" --format json | wc -l)
expect flood_all_stored "$n1 of 30000 findings stored: $(tail -2 "$T/flood1.err")" test "$n1" -eq 30000
expect flood_nothing_dropped "a drop was reported" sh -c "! grep -q dropped '$T/flood1.err' '$T/flood4.err'"
same flood_1_vs_4_threads "$T/flood1.db" "$T/flood4.db"
expect flood_all_new "$(grep 'findings:' "$T/flood4.err")" grep -q 'findings: 30000 new, 0 updated' "$T/flood4.err"

# --- RootCredentialUsage: the registry's second detector --------------------
"$M" scan --db "$T/root.db" --no-default-lists "$HERE/engine/root" >/dev/null 2>&1
"$M" findings list --db "$T/root.db" --format json >"$T/root.json"
expect root_found "no RootCredentialUsage" grep -q '"type":"Policy:IAMUser/RootCredentialUsage"' "$T/root.json"
expect root_one_finding "want 1 finding: $(wc -l <"$T/root.json")" test "$(wc -l <"$T/root.json")" -eq 1
expect root_counts_api_calls "want count 3 (ConsoleLogin and AWS-invoked calls do not count)" grep -q '"count":3' "$T/root.json"
expect root_not_on_iam_user "an IAM user's call fired" sh -c "! grep -q AKIAUSERUSERUSER0001 '$T/root.json'"

echo "engine: $pass passed, $fail failed"
[ $fail -eq 0 ]
