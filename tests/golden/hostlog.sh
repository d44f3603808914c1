#!/bin/sh
# hostlog.sh MAMORI - host logs collected elsewhere (parse/syslog.h,
# detect/hostauth.c, detect/hostcmd.c) end to end over the fixtures in
# tests/data/host: a RHEL secure and cron file with year-less stamps
# (resolved against the file's mtime, also across New Year), a Debian
# auth.log with RFC 3339 stamps, a journald JSON export; every line
# counted (other programs' as generic lines), a bad line located; attribution by folder, by --host, by
# ip-a-b-c-d through the inventory; the same findings with 1 and 4 threads;
# UnusualLogin's networks by ASN with the test geo file, else by /24;
# brute force split over two scans or two agent --once runs as one scan;
# a folder's place file (account, region) kept across scans.
# Ends "hostlog: N passed, N failed".
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/suite.sh"
D=$ROOT/tests/data/host
types() { "$M" findings list --db "$1" --format json | python3 -c '
import json, sys
for l in sys.stdin:
    f = json.loads(l)
    r = f["resource"].get("instanceDetails", {}).get("instanceId", "")
    print(f["type"], r, f["service"]["count"], f["service"]["eventFirstSeen"][:10])' | sort; }

# year-less stamps: the files were last written on Dec 6 2026
mkdir -p "$T/h1"
cp "$D/secure" "$D/cron" "$T/h1/"
touch -d "2026-12-06 00:00:00" "$T/h1/secure" "$T/h1/cron"
"$M" scan --db "$T/a.db" --no-default-lists --no-progress --threads 1 "$T/h1" >/dev/null 2>"$T/a.err"
types "$T/a.db" >"$T/a.t"
expect yearless_brute "want SSHBruteForce dated 2026-12-05: $(cat "$T/a.t")" \
	has "$T/a.t" "UnauthorizedAccess:Runtime/SSHBruteForce  20 2026-12-05"
expect yearless_after "want the login after it: $(cat "$T/a.t")" \
	has "$T/a.t" "InitialAccess:Runtime/SuccessfulLoginAfterBruteForce  1 2026-12-05"
expect cron_wget_bash "want Execution from the cron line: $(cat "$T/a.t")" \
	has "$T/a.t" "Execution:Runtime/SuspiciousCommand  1 2026-12-05"
expect history_clearing "want DefenseEvasion (sudo history -c): $(cat "$T/a.t")" \
	has "$T/a.t" "DefenseEvasion:Runtime/SuspiciousCommand  1 2026-12-05"
expect persistence "want Persistence (crontab REPLACE, useradd, wheel): $(cat "$T/a.t")" \
	sh -c "[ \$(grep -c 'Persistence:Runtime/SuspiciousCommand' '$T/a.t') -eq 3 ]"
expect no_curl_o "curl -o without a pipe, apt-get, logrotate must not fire: $(cat "$T/a.t")" \
	sh -c "[ \$(grep -c Execution '$T/a.t') -eq 1 ]"

# the same files written on Jan 2 2027: Dec lines are still 2026
touch -d "2027-01-02 00:00:00" "$T/h1/secure" "$T/h1/cron"
"$M" scan --db "$T/b.db" --no-default-lists --no-progress "$T/h1" >/dev/null 2>&1
types "$T/b.db" >"$T/b.t"
expect new_year "a file spanning New Year keeps December in the old year: $(cat "$T/b.t")" \
	sh -c "grep -q 'SSHBruteForce  20 2026-12-05' '$T/b.t' && ! grep -q 2027 '$T/b.t'"

# 4 threads, the same findings
"$M" scan --db "$T/c.db" --no-default-lists --no-progress --threads 4 "$T/h1" >/dev/null 2>&1
touch -d "2026-12-06 00:00:00" "$T/h1/secure" "$T/h1/cron"
"$M" scan --db "$T/c1.db" --no-default-lists --no-progress --threads 4 "$T/h1" >/dev/null 2>&1
types "$T/c1.db" >"$T/c1.t"
expect threads_same "1 and 4 threads differ: $(diff "$T/a.t" "$T/c1.t")" cmp -s "$T/a.t" "$T/c1.t"

# attribution: a folder named after the instance, --host, the inventory
mkdir -p "$T/h2/i-0a1b2c3d4e5f60718"
cp "$D/secure" "$T/h2/i-0a1b2c3d4e5f60718/"
"$M" scan --db "$T/d.db" --no-default-lists --no-progress "$T/h2" >/dev/null 2>&1
expect attr_folder "findings on the folder's instance: $(types "$T/d.db")" \
	sh -c "'$M' findings list --db '$T/d.db' --format json | grep -q '\"instanceId\":\"i-0a1b2c3d4e5f60718\"'"
"$M" scan --db "$T/e.db" --no-default-lists --no-progress --host i-0feedfeedfeedfeed "$T/h2" >/dev/null 2>&1
expect attr_host_overrides "--host wins over the folder" \
	sh -c "'$M' findings list --db '$T/e.db' --format json | grep -q '\"instanceId\":\"i-0feedfeedfeedfeed\"' && ! '$M' findings list --db '$T/e.db' --format json | grep -q '\"instanceId\":\"i-0a1b2c3d4e5f60718'"
mkdir -p "$T/h3"
sed 's/ip-10-0-1-23/ip-10-0-0-157/' "$D/secure" >"$T/h3/secure"
"$M" scan --db "$T/f.db" --no-default-lists --no-progress --inventory "$ROOT/tests/data/inventory/describe-basic.json" "$T/h3" >/dev/null 2>&1
expect attr_inventory "ip-10-0-0-157 -> 10.0.0.157 -> i-1234567890abcdef0" \
	sh -c "'$M' findings list --db '$T/f.db' --format json | grep -q '\"instanceId\":\"i-1234567890abcdef0\"'"

# journald JSON and RFC 3339 lines; a bad line is located, the rest kept
mkdir -p "$T/h4"
cp "$D/journal.json" "$D/auth.log" "$T/h4/"
echo "this is not a syslog line" >>"$T/h4/auth.log"
"$M" scan --db "$T/g.db" --no-default-lists --no-progress "$T/h4" >/dev/null 2>"$T/g.err"
types "$T/g.db" >"$T/g.t"
expect bad_line_located "want auth.log:12 named: $(cat "$T/g.err")" has "$T/g.err" "auth.log:12: not a syslog line"
expect bad_line_counted "want 1 malformed: $(cat "$T/g.err")" has "$T/g.err" "1 malformed records"
expect journal_cron "journald's CROND wget|bash line: $(cat "$T/g.t")" has "$T/g.t" "Execution:Runtime/SuspiciousCommand"
expect journal_auditd "journald's sudo systemctl stop auditd: $(cat "$T/g.t")" has "$T/g.t" "DefenseEvasion:Runtime/SuspiciousCommand"
expect debian_benign "alice's two typos, apt-get, sessionclean: nothing else: $(cat "$T/g.t")" \
	sh -c "[ \$(wc -l <'$T/g.t') -eq 2 ]"
"$M" scan --db "$T/h.db" --no-default-lists --no-progress --source hostlog "$T/h4" >/dev/null 2>"$T/h.err"
types "$T/h.db" >"$T/h.t"
expect source_hostlog "--source hostlog reads both: $(diff "$T/g.t" "$T/h.t")" cmp -s "$T/g.t" "$T/h.t"
expect summary_host_events "want the host events line: $(cat "$T/g.err")" has "$T/g.err" "host events,"
# every syslog/journald line is a host event (the other programs' as generic
# "line" events, for Sigma keywords): 11 + 5, none skipped, no new finding
expect summary_every_line_counted "want 16 host events, 0 skipped: $(cat "$T/g.err")" \
	has "$T/g.err" "16 host events, 0 lines skipped"

# UnusualLogin's profile is kept in the store: days 1-5 then 6-10 in two
# scans give what one scan of all ten days gives
U=$HERE/cases/hostlog-unusual-login-vs-daily-admin/input/i-0badc0ffee0000001/auth.log
mkdir -p "$T/u1/i-0badc0ffee0000001" "$T/u2/i-0badc0ffee0000001" "$T/u3/i-0badc0ffee0000001"
grep -E '^2026-11-0[1-5]' "$U" >"$T/u1/i-0badc0ffee0000001/auth.log"
grep -vE '^2026-11-0[1-5]' "$U" >"$T/u2/i-0badc0ffee0000001/auth.log"
cp "$U" "$T/u3/i-0badc0ffee0000001/auth.log"
"$M" scan --db "$T/u12.db" --no-default-lists --no-progress "$T/u1" >/dev/null 2>&1
"$M" scan --db "$T/u12.db" --no-default-lists --no-progress "$T/u2" >/dev/null 2>&1
"$M" scan --db "$T/u3.db" --no-default-lists --no-progress --threads 3 "$T/u3" >/dev/null 2>&1
types "$T/u12.db" >"$T/u12.t"; types "$T/u3.db" >"$T/u3.t"
expect unusual_state_persisted "two scans differ from one: $(diff "$T/u12.t" "$T/u3.t")" \
	sh -c "cmp -s '$T/u12.t' '$T/u3.t' && [ \$(wc -l <'$T/u3.t') -eq 2 ]"

# a database of an older build: its profile rows are version 2, one row
# per host (no kind byte). Rewritten so, the second scan still continues
# the profile (the pipeline hands load the versions it still takes): the
# same findings as one scan; relearning would lose the day-6+ logins.
"$M" scan --db "$T/uv2.db" --no-default-lists --no-progress "$T/u1" >/dev/null 2>&1
python3 - "$T/uv2.db" <<'PY'
import sqlite3, struct, sys
db = sqlite3.connect(sys.argv[1])
rows = db.execute("SELECT entity, version, state FROM detector_state WHERE detector='hostauth'").fetchall()
old = []
for ent, ver, b in rows:
    assert ent.startswith("#pack-") and ver == 3 and b[:5] == b"MMPK\x01", (ent, ver)
    at = 5
    while at < len(b):
        en = struct.unpack_from("<H", b, at)[0]; name = b[at + 2:at + 2 + en].decode()
        bn = struct.unpack_from("<I", b, at + 2 + en)[0]; blob = b[at + 6 + en:at + 6 + en + bn]
        at += 6 + en + bn
        if blob[0] == 1:
            old.append((name, blob[1:]))
assert len(old) == 1, old
db.execute("DELETE FROM detector_state WHERE detector='hostauth'")
for name, blob in old:
    db.execute("INSERT INTO detector_state VALUES('hostauth', ?, 2, ?, 0)", (name, blob))
db.commit()
PY
"$M" scan --db "$T/uv2.db" --no-default-lists --no-progress "$T/u2" >/dev/null 2>"$T/uv2.err"
types "$T/uv2.db" >"$T/uv2.t"
expect unusual_version2_profile_loads "$(cat "$T/uv2.err"; diff "$T/uv2.t" "$T/u3.t")" \
	sh -c "cmp -s '$T/uv2.t' '$T/u3.t' && ! grep -q discarded '$T/uv2.err'"

# brute force and the login in two files, a flush after each (serve's
# way): the state kept between flushes still pairs them, whatever order
# (UnusualLogin is left out: across flushes its learning period starts at
# the first login that arrived, as any baseline's does)
B=$HERE/cases/hostlog-brute-then-login-vs-typos/input/i-0a1b2c3d4e5f60718/var/log/secure
mkdir -p "$T/b1/i-0a1b2c3d4e5f60718"
grep -v 'Accepted password for git' "$B" >"$T/b1/i-0a1b2c3d4e5f60718/a-secure"
grep 'Accepted password for git' "$B" >"$T/b1/i-0a1b2c3d4e5f60718/b-secure"
for order in 1 2; do
	"$M" scan --db "$T/bf$order.db" --no-default-lists --no-progress --threads 1 --flush-every 1 "$T/b1" >/dev/null 2>&1
	types "$T/bf$order.db" | grep -v UnusualLogin >"$T/bf$order.t"
	[ $order = 1 ] && mv "$T/b1/i-0a1b2c3d4e5f60718/a-secure" "$T/b1/i-0a1b2c3d4e5f60718/c-secure"
done
expect flush_each_file_pairs "want brute force + login after it, both orders: $(cat "$T/bf1.t" "$T/bf2.t")" \
	sh -c "cmp -s '$T/bf1.t' '$T/bf2.t' && grep -q 'SSHBruteForce i-0a1b2c3d4e5f60718 40' '$T/bf1.t' && grep -q 'SuccessfulLoginAfterBruteForce i-0a1b2c3d4e5f60718 1' '$T/bf1.t'"

# UnusualLogin by ASN (tests/data/host/asn: alice learns from AS16509 -
# 3.0.1.x and 3.0.2.x -, bob from 203.0.113.0/24, which no AS in the test
# data announces). With the test geo file: alice from 3.100.7.8 (another
# /24 of the same AS) is usual, from 8.8.8.8 (AS15169) not; bob falls back
# to his /24 (203.0.113.77 usual, 192.0.2.10 not). Without geo data every
# new /24 is unusual (alice's 3.100.7.0/24 too).
"$M" geo build --asn "$ROOT/tests/data/geo/asn.csv" -o "$T/asn.mmgeo" >/dev/null 2>&1
nets() { "$M" findings list --db "$1" --format json | python3 -c '
import json, sys
for l in sys.stdin:
    f = json.loads(l)
    a = f["service"].get("additionalInfo", {})
    print(f["type"].split("/")[-1], a.get("user"), a.get("network"))' | sort; }
"$M" scan --db "$T/asn.db" --no-default-lists --no-progress --geo "$T/asn.mmgeo" "$D/asn/auth.log" >/dev/null 2>&1
nets "$T/asn.db" >"$T/asn.t"
printf 'UnusualLogin alice AS15169\nUnusualLogin bob 192.0.2.0/24\n' >"$T/asn.want"
expect unusual_by_asn "got: $(cat "$T/asn.t")" cmp -s "$T/asn.t" "$T/asn.want"
"$M" scan --db "$T/noasn.db" --no-default-lists --no-progress --no-geo "$D/asn/auth.log" >/dev/null 2>&1
nets "$T/noasn.db" >"$T/noasn.t"
printf 'UnusualLogin alice 3.100.7.0/24\nUnusualLogin alice 8.8.8.0/24\nUnusualLogin bob 192.0.2.0/24\n' >"$T/noasn.want"
expect unusual_by_prefix_without_geo "got: $(cat "$T/noasn.t")" cmp -s "$T/noasn.t" "$T/noasn.want"
# the learned ASNs are kept in the store: days 1-4 then 5-6 in two scans
mkdir -p "$T/as1" "$T/as2"
grep -E '^2026-11-0[1-4]' "$D/asn/auth.log" >"$T/as1/auth.log"
grep -vE '^2026-11-0[1-4]' "$D/asn/auth.log" >"$T/as2/auth.log"
"$M" scan --db "$T/as12.db" --no-default-lists --no-progress --geo "$T/asn.mmgeo" "$T/as1" >/dev/null 2>&1
"$M" scan --db "$T/as12.db" --no-default-lists --no-progress --geo "$T/asn.mmgeo" "$T/as2" >/dev/null 2>&1
nets "$T/as12.db" >"$T/as12.t"
expect unusual_asn_state_persisted "got: $(cat "$T/as12.t")" cmp -s "$T/as12.t" "$T/asn.want"

# hostauth's attempt table is saved with the detector state
# (tests/data/host/split/auth.log: 203.0.113.50 tries 30 times 10:00-10:29
# then logs in, 198.51.100.77 tries 25 times at 03:00 and logs in at
# 16:00, 192.0.2.99 tries 12 times at 08:00 and 12 at 10:30 - never 20 in
# an hour - then logs in). The log cut at 10:12 (12 of the 30 attempts
# before, 18 after; 198.51.100.77's login after) and scanned in two runs
# gives what one scan of the whole gives: counts, times, details, the
# evidence's times; 192.0.2.99's two bursts add up in neither.
hauth() { "$M" findings list --db "$1" --format json | python3 -c '
import json, sys
for l in sys.stdin:
    f = json.loads(l)
    if f["type"].split("/")[-1] not in ("SSHBruteForce", "SuccessfulLoginAfterBruteForce", "UnusualLogin"):
        continue
    s = f["service"]
    a = {k: v for k, v in s.get("additionalInfo", {}).items() if k not in ("evidence", "value")}
    ev = [e["time"] for e in s.get("additionalInfo", {}).get("evidence", [])]
    print(f["type"], f["resource"].get("instanceDetails", {}).get("instanceId", ""), s["count"],
          s["eventFirstSeen"], s["eventLastSeen"], json.dumps(a, sort_keys=True), " ".join(ev))' | sort; }
S=$D/split/auth.log
I=i-0feed5a117000a001
mkdir -p "$T/sw/$I" "$T/s1/$I" "$T/s2/$I"
cut=$(grep -n 'T10:12:05' "$S" | cut -d: -f1)
head -n $((cut - 1)) "$S" >"$T/s1/$I/auth.log"
tail -n +"$cut" "$S" >"$T/s2/$I/auth.log"
cp "$S" "$T/sw/$I/auth.log"
"$M" scan --db "$T/sw.db" --no-default-lists --no-progress --no-geo "$T/sw" >/dev/null 2>&1
"$M" scan --db "$T/s12.db" --no-default-lists --no-progress --no-geo "$T/s1" >/dev/null 2>&1
"$M" scan --db "$T/s12.db" --no-default-lists --no-progress --no-geo "$T/s2" >/dev/null 2>&1
hauth "$T/sw.db" >"$T/sw.t"; hauth "$T/s12.db" >"$T/s12.t"
expect brute_split_whole "want the brute forces and logins: $(cut -c1-120 "$T/sw.t")" \
	sh -c "grep -q 'SSHBruteForce $I 30 2026-12-03T10:00:05.000Z 2026-12-03T10:29:05.000Z' '$T/sw.t' &&
	grep -q 'SSHBruteForce $I 25 2026-12-03T03:00:02' '$T/sw.t' &&
	grep -q 'SuccessfulLoginAfterBruteForce $I 1 2026-12-03T10:40:01' '$T/sw.t' &&
	grep -q 'SuccessfulLoginAfterBruteForce $I 1 2026-12-03T16:00:09' '$T/sw.t' && [ \$(wc -l <'$T/sw.t') -eq 4 ]"
expect brute_split_two_scans_as_one "two scans differ from one: $(diff "$T/s12.t" "$T/sw.t" | cut -c1-200)" \
	cmp -s "$T/s12.t" "$T/sw.t"
# negative: 192.0.2.99's bursts are more than window_s apart, one per run
expect brute_split_old_attempts_do_not_add "$(grep -c '' "$T/s12.t") findings" \
	sh -c "! grep -q 'oracle' '$T/s12.t' && ! grep -q '192.0.2.99' '$T/s12.t'"
# the same files again: file progress reads nothing twice, so the saved
# attempts are not counted again
"$M" scan --db "$T/s12.db" --no-default-lists --no-progress --no-geo "$T/s1" "$T/s2" >/dev/null 2>&1
"$M" scan --db "$T/sw.db" --no-default-lists --no-progress --no-geo "$T/sw" >/dev/null 2>&1
hauth "$T/s12.db" >"$T/s12b.t"; hauth "$T/sw.db" >"$T/swb.t"
expect brute_rerun_counts_nothing_twice "$(diff "$T/s12b.t" "$T/sw.t" | cut -c1-200)" \
	sh -c "cmp -s '$T/s12b.t' '$T/sw.t' && cmp -s '$T/swb.t' '$T/sw.t'"
# a place file names the host's account and region (engine/place.h); the
# second half scanned from a folder without one names them too (the place
# is kept in the store), and the findings are the same as without places
# (one each: a finding's id includes its account); a broken place file is
# named, and its folder's findings are still made
acct() { "$M" findings list --db "$1" --format json | python3 -c '
import json, sys
for l in sys.stdin:
    f = json.loads(l)
    print(f["type"].split("/")[-1], f.get("accountId", "-"), f.get("region", "-"))' | sort; }
mkdir -p "$T/p1/$I" "$T/p2/$I" "$T/p3/$I"
cp "$T/s1/$I/auth.log" "$T/p1/$I/"
cp "$T/s2/$I/auth.log" "$T/p2/$I/"
echo '{"accountId":"210987654321","region":"eu-west-3"}' >"$T/p1/$I/.mamori-place"
"$M" scan --db "$T/p12.db" --no-default-lists --no-progress --no-geo "$T/p1" >/dev/null 2>&1
"$M" scan --db "$T/p12.db" --no-default-lists --no-progress --no-geo "$T/p2" >/dev/null 2>&1
acct "$T/p12.db" >"$T/p12.a"
expect place_names_account "$(cat "$T/p12.a")" \
	sh -c "[ \$(grep -c ' 210987654321 eu-west-3' '$T/p12.a') -eq 4 ] && [ \$(wc -l <'$T/p12.a') -eq 4 ]"
hauth "$T/p12.db" >"$T/p12.t"
expect place_same_findings "$(diff "$T/p12.t" "$T/sw.t" | cut -c1-200)" cmp -s "$T/p12.t" "$T/sw.t"
cp "$T/s1/$I/auth.log" "$T/p3/$I/"
echo 'accountId=210987654321' >"$T/p3/$I/.mamori-place"
"$M" scan --db "$T/p3.db" --no-default-lists --no-progress --no-geo "$T/p3" >/dev/null 2>"$T/p3.err"; rc=$?
expect place_broken_named "exit $rc: $(cat "$T/p3.err")" \
	sh -c "[ $rc -eq 0 ] && grep -q '$I/.mamori-place: not a JSON object' '$T/p3.err'"
expect place_broken_findings_kept "$(acct "$T/p3.db")" \
	sh -c "'$M' findings list --db '$T/p3.db' --format json | grep -q SSHBruteForce"
# the agent from cron: --once, the log growing between two runs, then a
# third run with nothing new (the live /proc it also reads is filtered out)
mkdir -p "$T/agr"
head -n $((cut - 1)) "$S" >"$T/ag.log"
agent_once() { "$M" agent --once --db "$T/ag.db" --root "$T/agr" --log "$T/ag.log" --sample-ms 100 \
	--no-default-lists --no-geo --format none -q >/dev/null 2>&1; }
agent_once
tail -n +"$cut" "$S" >>"$T/ag.log"
agent_once
agent_once
# (its findings name no instance: compared without that field)
hauth "$T/ag.db" | sed 's/^\([^ ]*\) [^ ]* /\1 /' >"$T/ag.t"
sed 's/^\([^ ]*\) [^ ]* /\1 /' "$T/sw.t" >"$T/agw.t"
expect brute_split_agent_once_twice "$(diff "$T/ag.t" "$T/agw.t" | cut -c1-200)" cmp -s "$T/ag.t" "$T/agw.t"

echo "hostlog: $pass passed, $fail failed"
[ $fail -eq 0 ]
