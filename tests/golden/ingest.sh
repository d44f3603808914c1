#!/bin/sh
# ingest.sh MAMORI - end-to-end tests of the ingest layer through the real
# binary: damaged .gz files are located errors, threat-list entries that
# would match everything are refused, links and loops in scanned folders,
# damaged first lines, deep CloudTrail records, and hostile file names
# that must not break the terminal or the JSON output. Inputs are made
# here or come from tests/golden/ingest/. Ends "ingest: N passed, N failed".
HERE=$(cd "$(dirname "$0")" && pwd)
I=$HERE/ingest
. "$HERE/lib/suite.sh"
# the process must end on its own (a hang guard, not a timing check)
run() { timeout 300 "$@"; }
L="--no-default-lists --threat-list custom=$I/custom.txt"

# --- a .gz corrupted in the middle: located error, counted, --strict fails --
python3 - "$T/corrupt.log.gz" "$T/cut.log.gz" <<'EOF'
import gzip, sys
hdr = b'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n'
rec = b'2 123456789012 eni-0ing00000000000a1 10.1.2.3 198.51.100.%d %d 22 6 10 840 %d %d ACCEPT OK\n'
data = hdr + b''.join(rec % (i % 200 + 1, 30000 + i, 1714557600 + 60 * i, 1714557660 + 60 * i)
                      for i in range(3000))
good = gzip.compress(data, 6)
# corrupt in the middle: a second gzip member whose deflate data starts
# with an invalid block type, records after it (inflate fails at once, so
# no garbage lines come out before the error)
second = bytearray(gzip.compress(data, 6))
second[10] = 0x07   # BFINAL=1, BTYPE=11 (reserved)
open(sys.argv[1], 'wb').write(good + second)
open(sys.argv[2], 'wb').write(good[:len(good) // 2])
EOF
run "$M" scan --db "$T/c.db" $L --strict --format json "$T/corrupt.log.gz" >"$T/c.json" 2>"$T/c.err"; rc=$?
expect corrupt_gz_exit "exit $rc, want 3 (--strict)" test $rc -eq 3
expect corrupt_gz_located "want 'corrupt.log.gz: offset N: corrupt gzip data': $(head -c 300 "$T/c.err")" \
	hasE "$T/c.err" "corrupt\.log\.gz: offset [0-9]+: corrupt gzip data"
expect corrupt_gz_counted "summary lacks a malformed count" hasE "$T/c.err" "[1-9][0-9]* malformed"
expect corrupt_gz_records_before_kept "want the 3000 records before the damage: $(grep scanned "$T/c.err")" \
	has "$T/c.err" "flow 3000"
run "$M" scan --db "$T/t.db" $L --strict "$T/cut.log.gz" >/dev/null 2>"$T/t.err"; rc=$?
expect cut_gz_exit "exit $rc, want 3 (--strict)" test $rc -eq 3
expect cut_gz_located "want 'cut.log.gz: offset N: gzip stream ends early'" \
	hasE "$T/t.err" "cut\.log\.gz: offset [0-9]+: gzip stream ends early"
run "$M" scan --db "$T/ok.db" $L --strict "$I/flows.log" >/dev/null 2>&1; rc=$?
expect clean_file_exit "exit $rc, want 0 for the undamaged file" test $rc -eq 0

# --- threat-list entries that would match everything are refused ------------
run "$M" scan --db "$T/l.db" --no-default-lists --threat-list "custom=$I/broad.txt" \
	--format json "$I/flows.log" >"$T/l.json" 2>"$T/l.err"; rc=$?
expect broad_v4_warned "want 'broad.txt:2: entry '0.0.0.0/0' would match everything; skipped'" \
	has "$T/l.err" "broad.txt:2: entry '0.0.0.0/0' would match everything; skipped"
expect broad_v6_warned "want ::/0 refused" has "$T/l.err" "entry '::/0' would match everything"
expect broad_tld_warned "want 'com' refused" has "$T/l.err" "entry 'com' would match everything"
expect broad_no_findings "exit $rc; the refused entries must not match every flow" \
	sh -c "[ $rc -eq 0 ] && [ \$(wc -l <'$T/l.json') -eq 0 ]"
# a noisy list does not use up the record errors of the logs
python3 -c "
for i in range(80): print('bad..name%d' % i)" >"$T/noisy.txt"
run "$M" scan --db "$T/n.db" --no-default-lists --threat-list "custom=$T/noisy.txt" \
	"$I/flow_damaged.log" >/dev/null 2>"$T/n.err"
expect list_budget_separate "the log's own record error must still be printed" \
	has "$T/n.err" "flow_damaged.log:1: "

# --- folders: link loops end, links out of the roots are not followed -------
mkdir -p "$T/tree/sub" "$T/outside"
cp "$I/flows.log" "$T/tree/sub/a.log"
cp "$I/flows.log" "$T/outside/secret.log"
ln -s .. "$T/tree/sub/up"
ln -s "$T/tree" "$T/tree/self"
ln -s loop2 "$T/tree/loop1"; ln -s loop1 "$T/tree/loop2"
ln -s ../sub/a.log "$T/tree/sub/alias.log"
ln -s "$T/outside/secret.log" "$T/tree/leak.log"
run "$M" scan --db "$T/w.db" $L "$T/tree" >/dev/null 2>"$T/w.err"; rc=$?
expect link_loop_ends "exit $rc, want 0" test $rc -eq 0
expect link_file_once "want one file scanned: $(grep scanned "$T/w.err")" has "$T/w.err" "scanned 1 file"
expect link_outside_warned "want a warning for leak.log" has "$T/w.err" "leak.log: link to .*outside the paths given; skipped"
# a file outside the roots, of no known format, behind a link: never read, so its first line is
# never echoed in the "not a known log format" warning (positive control: the same file inside)
printf 'TOP SECRET first line\n' >"$T/outside/secret.txt"
mkdir -p "$T/tree2"; ln -s "$T/outside/secret.txt" "$T/tree2/leak.txt"
run "$M" scan --db "$T/w2.db" $L "$T/tree2" >/dev/null 2>"$T/w2.err"
expect link_outside_not_echoed "the outside file's first line reached stderr" sh -c "! grep -q 'TOP SECRET' '$T/w2.err'"
cp "$T/outside/secret.txt" "$T/tree2/inside.txt"
run "$M" scan --db "$T/w3.db" $L "$T/tree2" >/dev/null 2>"$T/w3.err"
expect unknown_inside_is_named "a file of no known format inside the roots is named with its start" has "$T/w3.err" "inside.txt: not a known log format (starts \"TOP SECRET"

# --- a damaged first line does not hide the flow records after it -----------
run "$M" scan --db "$T/d.db" $L "$I/flow_damaged.log" >/dev/null 2>"$T/d.err"; rc=$?
expect damaged_first_line_recognised "want the flow records counted: $(grep scanned "$T/d.err")" \
	sh -c "grep -q 'flow 3' '$T/d.err' && ! grep -q 'not a known log format' '$T/d.err'"

# --- CloudTrail: a record nested too deep is one error, the rest counts ------
python3 - "$T/deep.json" <<'EOF'
import json, sys
def rec(name, params):
    return {"eventVersion": "1.08", "eventTime": "2024-05-01T10:00:00Z",
            "eventSource": "ec2.amazonaws.com", "eventName": name,
            "awsRegion": "us-east-1", "sourceIPAddress": "10.1.2.3",
            "userIdentity": {"type": "IAMUser", "accountId": "123456789012"},
            "requestParameters": params}
deep = None
for _ in range(200):
    deep = {"a": deep}
doc = {"Records": [rec("A", None), rec("Deep", deep), rec("C", None)]}
open(sys.argv[1], "w").write(json.dumps(doc, indent=1))
EOF
run "$M" scan --db "$T/ct.db" $L --strict "$T/deep.json" >/dev/null 2>"$T/ct.err"; rc=$?
expect ct_deep_exit "exit $rc, want 3 (one malformed record)" test $rc -eq 3
expect ct_deep_located "want 'deep.json:N: ... nested too deeply'" hasE "$T/ct.err" "deep\.json:[0-9]+: .*nested too deeply"
expect ct_deep_rest_counts "want the two other records: $(grep scanned "$T/ct.err")" has "$T/ct.err" "cloudtrail 2)"

# --- CloudTrail in other wrappers: a cut .gz, CRLF, a rescan, --source ------
python3 - "$T" <<'EOF'
import gzip, json, sys
t = sys.argv[1]
def ev(i, ip):
    return {"eventVersion": "1.09", "userIdentity": {"type": "IAMUser", "principalId": "AIDAW%d" % i,
            "arn": "arn:aws:iam::123456789012:user/u%d" % i, "accountId": "123456789012",
            "accessKeyId": "AKIAWRAP0000000000%02d" % i}, "eventTime": "2024-05-01T10:%02d:00Z" % i,
            "eventSource": "iam.amazonaws.com", "eventName": "CreateUser", "awsRegion": "us-east-1",
            "sourceIPAddress": ip, "eventID": "w%d" % i}
page = {"Events": [{"EventId": "w%d" % i, "CloudTrailEvent": json.dumps(ev(i, "198.51.100.23"))}
                   for i in range(40)], "NextToken": "t"}
z = gzip.compress((json.dumps(page, indent=4) + "\n").encode(), 6, mtime=0)
open(t + "/lookup-cut.json.gz", "wb").write(z[:len(z) * 2 // 3])
arr = json.dumps([ev(i, "198.51.100.23") for i in range(3)], indent=2).replace("\n", "\r\n")
open(t + "/crlf-array.json", "w", newline="").write(arr)
open(t + "/oneevent.json", "w").write(json.dumps({"a": 1, "b": ev(9, "198.51.100.23")}, indent=2))
open(t + "/other.json", "w").write(json.dumps({"a": 1, "b": [1, 2]}, indent=2))
EOF
run "$M" scan --db "$T/w1.db" $L --strict "$T/lookup-cut.json.gz" >/dev/null 2>"$T/w1.err"; rc=$?
expect ctwrap_cut_gz_exit "exit $rc, want 3" test $rc -eq 3
expect ctwrap_cut_gz_located "want 'lookup-cut.json.gz: offset N: gzip stream ends early'" \
	hasE "$T/w1.err" "lookup-cut\.json\.gz: offset [0-9]+: gzip stream ends early"
expect ctwrap_cut_gz_records_before "want the whole records before the cut: $(grep scanned "$T/w1.err")" \
	hasE "$T/w1.err" "cloudtrail [1-3][0-9]\)"
run "$M" scan --db "$T/w2.db" $L --strict --format json "$T/crlf-array.json" >"$T/w2.json" 2>"$T/w2.err"; rc=$?
expect ctwrap_crlf_array "exit $rc, want 0 and 3 records: $(grep scanned "$T/w2.err")" \
	sh -c "[ $rc -eq 0 ] && grep -q 'cloudtrail 3)' '$T/w2.err'"
expect ctwrap_crlf_evidence_line "want the finding's evidence at line 2, offset 5 (the first record's '{' after '[', CRLF and two spaces)" \
	hasE "$T/w2.json" '"file":"crlf-array.json","line":2,"offset":5'
run "$M" scan --db "$T/w2.db" $L --strict "$T/crlf-array.json" >/dev/null 2>"$T/w3.err"
expect ctwrap_rescan_counts_nothing "a second scan must skip the file: $(grep scanned "$T/w3.err")" \
	has "$T/w3.err" "1 already scanned"
run "$M" scan --db "$T/w4.db" $L "$T/other.json" >/dev/null 2>"$T/w4.err"
expect ctwrap_unknown_shape_one_warning "want one 'not a known log format' warning: $(head -2 "$T/w4.err")" \
	has "$T/w4.err" "other.json: not a known log format"
run "$M" scan --db "$T/w5.db" $L "$T/oneevent.json" >/dev/null 2>"$T/w5.err"
expect ctwrap_forced_unknown_shape_located "want 'oneevent.json:1: missing eventTime': $(head -2 "$T/w5.err")" \
	has "$T/w5.err" "oneevent.json:1: missing eventTime"

# --- hostile file names: the terminal and the JSON output stay intact -------
mkdir -p "$T/names"
python3 - "$I/flows.log" "$T/names" <<'EOF'
import os, sys
src = open(sys.argv[1], 'rb').read()
d = os.fsencode(sys.argv[2])
open(d + b'/bad-\xff\xfe-name.log', 'wb').write(src)
open(d + b'/esc-\x1b[31m-name.log', 'wb').write(b'not a log\n')
EOF
run "$M" scan --db "$T/u.db" $L --format json "$T/names" >"$T/u.json" 2>"$T/u.err"; rc=$?
expect hostile_names_exit "exit $rc, want 0" test $rc -eq 0
expect hostile_names_findings "want findings from the non-UTF-8 file" test -s "$T/u.json"
expect hostile_names_valid_json "a line of --format json output is not valid JSON (the writer must escape with mm_json_escape)" \
	python3 -c "
import json, sys
for raw in open(sys.argv[1], 'rb'):
    json.loads(raw.decode('utf-8'))" "$T/u.json"
expect hostile_names_no_raw_escape "stderr carries a raw ESC byte" \
	python3 -c "import sys; sys.exit(b'\x1b' in open(sys.argv[1], 'rb').read())" "$T/u.err"
expect hostile_names_escaped "want the ESC shown as \\x1b" has "$T/u.err" 'esc-\\x1b\[31m-name.log'

# --- the command line wins over --options-file; the file's words are counted -
mkdir -p "$T/opt"
printf '%s\n' "--region" "eu-west-1" "--no-default-lists" "--threat-list" "custom=list.txt" >"$T/opt/scan.args"
echo "100.200.3.3" >"$T/opt/list.txt"
printf '%s\n' "2 123456789012 eni-0opt000000000001 10.0.0.5 100.200.3.3 40001 443 6 10 840 1714557600 1714557660 ACCEPT OK" >"$T/opt/flow.log"
run "$M" scan --db "$T/opt1.db" --options-file "$T/opt/scan.args" --region us-west-2 "$T/opt/flow.log" >/dev/null 2>&1
run "$M" findings list --db "$T/opt1.db" --format json >"$T/opt1.json"
expect options_file_command_line_wins "region: $(grep -o '"region":"[^"]*"' "$T/opt1.json" | head -1)" has "$T/opt1.json" '"region":"us-west-2"'
run "$M" scan --db "$T/opt2.db" --options-file "$T/opt/scan.args" "$T/opt/flow.log" >/dev/null 2>&1
run "$M" findings list --db "$T/opt2.db" --format json >"$T/opt2.json"
expect options_file_applies "the file's --region was not used" has "$T/opt2.json" '"region":"eu-west-1"'
i=0; while [ $i -lt 300 ]; do echo "--no-progress"; i=$((i+1)); done >"$T/opt/many.args"
run "$M" scan --db "$T/opt3.db" --options-file "$T/opt/many.args" "$T/opt/flow.log" >/dev/null 2>"$T/opt3.err"; rc=$?
expect options_file_word_limit "exit $rc, want 2 with a message: $(head -1 "$T/opt3.err")" \
	sh -c "[ $rc -eq 2 ] && grep -q 'many.args' '$T/opt3.err'"

# --- an input that cannot be read whole: a warning, the rest scans; --strict fails
mkdir -p "$T/deep/ok"
cp "$T/opt/flow.log" "$T/deep/ok/flow.log"
d="$T/deep"; i=0; while [ $i -lt 34 ]; do d="$d/d"; i=$((i+1)); done; mkdir -p "$d"
cp "$T/opt/flow.log" "$d/lost.log"
run "$M" scan --db "$T/deep.db" $L "$T/deep" >/dev/null 2>"$T/deep.err"; rc=$?
expect unreadable_folder_warns_rest_scans "exit $rc: $(tail -2 "$T/deep.err")" \
	sh -c "[ $rc -eq 0 ] && grep -q 'deeper than' '$T/deep.err' && grep -q 'scanned 1 files' '$T/deep.err'"
run "$M" scan --db "$T/deep2.db" $L --strict "$T/deep" >/dev/null 2>&1; rc=$?
expect unreadable_folder_strict_fails "exit $rc, want 3" test $rc -eq 3

echo "ingest: $pass passed, $fail failed"
[ $fail -eq 0 ]
