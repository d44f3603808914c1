#!/bin/sh
# journal.sh MAMORI - `mamori agent --journal-dir` over REAL journal files
# (agent/journal.c): systemd-journal-remote builds them from the export
# format (tests/data/journal/*.spec through mkexport.py; one MESSAGE is
# not UTF-8 and travels as a binary field). A brute force, its success
# and a cron wget|bash are found; look-alikes from other programs are not
# collected; a second run adds nothing; a new journal file is read alone;
# a kill -9 between the spool rename and the cursor save
# (MAMORI_TEST_JOURNAL_KILL, test-only) reads every entry exactly once; a
# vacuumed cursor resumes by time; --journal-since on a first run.
# Skipped when systemd-journal-remote or libsystemd is absent.
# Ends "journal: N passed, N failed".
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/suite.sh"
D=$ROOT/tests/data/journal
REMOTE=""
for p in /lib/systemd/systemd-journal-remote /usr/lib/systemd/systemd-journal-remote; do
	[ -x "$p" ] && REMOTE=$p && break
done
finish() { echo "journal: $pass passed, $fail failed${skip:+, $skip skipped}"; [ "$fail" -eq 0 ]; }
if [ -z "$REMOTE" ]; then
	skipped journal "systemd-journal-remote is not installed (Debian: systemd-journal-remote)"
	finish; exit
fi
if "$M" agent --once --db "$T/probe.db" --journal-dir "$T" --no-logs --no-fim --sample-ms 10 \
	--format none 2>&1 | grep -q "without libsystemd"; then
	skipped journal "this mamori was built without libsystemd (Debian: libsystemd-dev)"
	finish; exit
fi
J=$T/journal; mkdir -p "$J"
mkj() { python3 "$D/mkexport.py" "$D/$1.spec" | "$REMOTE" -o "$J/$1.journal" - 2>/dev/null; }
DB=$T/a.db
run() { "$M" agent --once --db "$DB" --journal-dir "$J" --no-logs --no-fim --sample-ms 10 \
	--keep-spool --format none "$@"; }
# type, the offending address, count of the journal's finding types
types() { "$M" findings list --db "$1" --format json | python3 -c '
import json, sys
for l in sys.stdin:
    f = json.loads(l)
    if "Runtime/SSH" in f["type"] or "AfterBrute" in f["type"] or "Runtime/SuspiciousCommand" in f["type"] \
       or "198.51.100.1\"" in l:
        print(f["type"], f["service"]["count"])' | sort; }
spooled() { sed -n 's/.*journal: \([0-9]*\) entries spooled.*/\1/p' "$1"; }

# --- the first file ----------------------------------------------------------------
mkj a
run 2>"$T/1.err"; rc=$?
types "$DB" >"$T/1.t"
expect first_rc "exit $rc: $(cat "$T/1.err")" test $rc -eq 0
expect first_spooled "want 27 entries (24 failures, the login, 2 cron): $(cat "$T/1.err")" \
	test "$(spooled "$T/1.err")" = 27
expect brute "want SSHBruteForce of 24: $(cat "$T/1.t")" \
	has "$T/1.t" "UnauthorizedAccess:Runtime/SSHBruteForce 24"
expect after_brute "want the login after it: $(cat "$T/1.t")" \
	has "$T/1.t" "InitialAccess:Runtime/SuccessfulLoginAfterBruteForce 1"
expect cron_wget "want Execution from the CRON line: $(cat "$T/1.t")" \
	has "$T/1.t" "Execution:Runtime/SuspiciousCommand 1"
expect lookalike "another program's 'Failed password' lines must not be collected" \
	sh -c "! cat '$T/a.db.agent/'*.journal.jsonl | grep -q 198.51.100.1"
expect noise_filtered "systemd's entry must not be collected" \
	sh -c "! cat '$T/a.db.agent/'*.journal.jsonl | grep -q 'Started Session'"
expect binary_message "the MESSAGE that is not UTF-8 must be spooled as bytes" \
	sh -c "cat '$T/a.db.agent/'*.journal.jsonl | grep -q '\"MESSAGE\":\[70,97,105'"
expect journalctl_shape "spool lines carry __CURSOR, __REALTIME_TIMESTAMP, SYSLOG_FACILITY" \
	sh -c "head -1 \$(ls '$T/a.db.agent/'*.journal.jsonl | head -1) | grep -q '^{\"__CURSOR\":\"s=.*\"__REALTIME_TIMESTAMP\":\"[0-9]*\".*\"SYSLOG_FACILITY\":\"10\"'"

# --- nothing new: nothing read ------------------------------------------------------
run 2>"$T/2.err"
types "$DB" >"$T/2.t"
expect again_nothing "want 0 entries: $(cat "$T/2.err")" test "$(spooled "$T/2.err")" = 0
expect again_same "counts changed: $(diff "$T/1.t" "$T/2.t")" cmp -s "$T/1.t" "$T/2.t"

# --- a new journal file: only it is read --------------------------------------------
mkj b
run 2>"$T/3.err"
types "$DB" >"$T/3.t"
expect new_file_only "want 4 entries: $(cat "$T/3.err")" test "$(spooled "$T/3.err")" = 4
expect new_counted "want a second Execution finding, each of count 1: $(cat "$T/3.t")" \
	test "$(grep -c '^Execution:Runtime/SuspiciousCommand 1$' "$T/3.t")" = 2

# --- kill -9 between the spool rename and the cursor save ----------------------------
mkj c
cp "$T/a.db.agent/journal.cursor" "$T/cursor.before"
MAMORI_TEST_JOURNAL_KILL=1 run -q 2>/dev/null; rc=$?
expect killed "want exit 137 (SIGKILL), got $rc" test $rc -eq 137
expect killed_cursor_old "the cursor moved before the kill" \
	cmp -s "$T/cursor.before" "$T/a.db.agent/journal.cursor"
run 2>"$T/4.err"
types "$DB" >"$T/4.t"
expect resume_from_spool "want 0 entries re-read: $(cat "$T/4.err")" \
	test "$(spooled "$T/4.err")" = 0
expect resume_counted "want 3 Execution findings of count 1 (the killed cycle's spool read once): $(cat "$T/4.t")" \
	test "$(grep -c '^Execution:Runtime/SuspiciousCommand 1$' "$T/4.t")" = 3
run -q 2>/dev/null
types "$DB" >"$T/5.t"
expect resume_stable "counts changed: $(diff "$T/4.t" "$T/5.t")" cmp -s "$T/4.t" "$T/5.t"
cat "$T/a.db.agent/"*.journal.jsonl | python3 -c '
import json, sys
c = [json.loads(l)["__CURSOR"] for l in sys.stdin]
print(len(c), len(set(c)))' >"$T/cur.n"
expect exactly_once "want 34 spooled entries, each once: $(cat "$T/cur.n")" \
	test "$(cat "$T/cur.n")" = "34 34"

# --- the journal vacuumed: the cursor is gone, resume by time -----------------------
rm -f "$J"/*.journal
mkj d
run 2>"$T/6.err"
expect vacuumed_said "want one warning: $(cat "$T/6.err")" \
	test "$(grep -c 'no longer in the journal' "$T/6.err")" = 1
expect vacuumed_after "want the 2 entries after the cursor's time: $(cat "$T/6.err")" \
	test "$(spooled "$T/6.err")" = 2

# --- first run: --journal-since; the system journal's tail is the default ------------
rm -f "$J"/*.journal
mkj a
DB=$T/b.db
run --journal-since 2026-12-05T22:41:30Z 2>"$T/7.err"
expect since "want 3 entries (the login, 2 cron) after 22:41:30: $(cat "$T/7.err")" \
	test "$(spooled "$T/7.err")" = 3
"$M" agent --once --db "$T/c.db" --journal-dir "$J" --journal-since yesterday --no-logs \
	--no-fim --format none -q 2>"$T/8.err"; rc=$?
expect since_bad "want exit 2 and a reason: $rc $(cat "$T/8.err")" \
	sh -c "[ $rc -eq 2 ] && grep -q 'journal-since' '$T/8.err'"
"$M" agent --once --db "$T/c.db" --journal --server http://127.0.0.1:9 --no-fim -q \
	2>"$T/9.err"; rc=$?
expect server_refused "--journal with --server: want exit 2: $rc $(cat "$T/9.err")" sh -c "[ $rc -eq 2 ] && grep -q 'journal' '$T/9.err'"
"$M" agent --once --db "$T/d.db" --journal-dir "$J" --no-journal --no-logs --no-fim --sample-ms 10 \
	--format none 2>"$T/10.err"
expect no_journal "--no-journal: want no journal line: $(cat "$T/10.err")" \
	sh -c "! grep -q 'journal:' '$T/10.err' && ! ls '$T/d.db.agent/' | grep -q journal"

# --- the daemon: a journal file that appears while it runs is read ------------------
rm -f "$J"/*.journal
mkj a
"$M" agent --db "$T/e.db" --journal-dir "$J" --no-logs --no-fim --sample-ms 10 --interval 1 \
	--keep-spool -q 2>/dev/null &
PID=$!
lines() { cat "$T/e.db.agent/"*.journal.jsonl 2>/dev/null | wc -l; }
i=0; while [ "$(lines)" -lt 27 ] && [ $i -lt 100 ]; do sleep 0.2; i=$((i+1)); done
mkj b
i=0; while [ "$(lines)" -lt 31 ] && [ $i -lt 100 ]; do sleep 0.2; i=$((i+1)); done
sleep 1.5
kill $PID; wait $PID
expect daemon_new_file "want 27 + 4 entries spooled once by the daemon, got $(lines)" \
	test "$(lines)" -eq 31

# --- the default: off with --root or --log; on for this machine's journal when it
# has one and no auth.log/secure (the case of a Debian 12 host without rsyslog) ------
: >"$T/some.log"
"$M" agent --once --db "$T/f.db" --log "$T/some.log" --no-fim --sample-ms 10 --format none \
	2>"$T/11.err"
expect default_off_log "--log given: want no journal: $(cat "$T/11.err")" \
	sh -c "! grep -q 'journal:' '$T/11.err'"
mkdir -p "$T/root"
"$M" agent --once --db "$T/g.db" --root "$T/root" --no-fim --sample-ms 10 --format none \
	2>"$T/12.err"
expect default_off_root "--root given: want no journal: $(cat "$T/12.err")" \
	sh -c "! grep -q 'journal:' '$T/12.err'"
if { [ -d /var/log/journal ] || [ -d /run/log/journal ]; } && [ ! -e /var/log/secure ] &&
	[ ! -e /var/log/auth.log ]; then
	"$M" agent --once --db "$T/h.db" --no-fim --sample-ms 10 --format none 2>"$T/13.err"
	expect default_on "a journal and no auth.log/secure: want the journal read: $(cat "$T/13.err")" \
		sh -c "grep -q 'journal: [0-9]* entries spooled' '$T/13.err' && [ -s '$T/h.db.agent/journal.cursor' ]"
else
	skipped default_on "this machine has /var/log/secure or auth.log, or no journal folder"
fi
finish
