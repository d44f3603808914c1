#!/bin/sh
# agent_auto.sh MAMORI - automatic response in `mamori agent`: the config's
# respond: section applied (mm_respond_auto) to each finding a cycle
# creates. A real process (an ELF compiled here, copied to
# <tmp>/.gitlab/kthreaddw) holds a connection to a listener on 127.0.0.4
# that is in a test mining list, so each cycle on a fresh database makes
# a CryptoCurrency:Runtime/BitcoinTool.B finding naming it.
# Negative: no respond: section, a disabled one, and a rule for another
# type do nothing (no audit line, the process lives). Positive: a kill
# rule in dry-run mode is audited and recorded (the process lives); the
# same finding seen again (updated, not new) is not responded to twice;
# block takes the finding's remote address (dry run) and lock-user its
# process's user (root: refused, as no rule may lock uid 0); in act mode
# the process is killed (audit and table agree); a quarantine rule moves
# the running binary into the quarantine folder.
# Ends "agent_auto: N passed, N failed, N skipped".
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/suite.sh"
SUITE=agent_auto
. "$HERE/lib/hostsuite.sh"
host_need cc python3
host_need_detectors
POOL=127.0.0.4
pool_listen "$POOL"
echo "$POOL" >"$T/mining.txt"
mkdir -p "$T/src" "$T/.gitlab" "$T/root/etc"
printf 'root:x:0:0:root:/root:/bin/bash\n' >"$T/root/etc/passwd"
# connects, then waits: the finding needs the connection, not CPU
build_miner "$T/src/k" pause || { bad build "cc failed"; echo "agent_auto: $pass passed, $fail failed, $skip skipped"; exit 1; }
EXE="$T/.gitlab/kthreaddw"
cp "$T/src/k" "$EXE"
"$EXE" "$POOL" "$PORT" &
P=$!
PIDS="$PIDS $P"
i=0; while [ $i -lt 50 ] && ! ls -l /proc/$P/fd 2>/dev/null | grep -q socket; do sleep 0.1; i=$((i + 1)); done
sleep 0.2

AUD="$T/audit.log"
QD="$T/quarantine"
# conf NAME BODY: a config file
conf() { printf '%s\n' "$2" >"$T/$1.yaml"; }
conf none 'hostproc: {}'
conf off 'respond:
  enabled: false
  mode: act
  rules:
    - {type: "CryptoCurrency:Runtime/BitcoinTool.B", action: kill}'
conf other 'respond:
  enabled: true
  mode: act
  rules:
    - {type: "Execution:Runtime/ReverseShell", action: kill}
    - {type: "Impact:*", action: quarantine}'
conf dry 'respond:
  enabled: true
  rules:
    - {type: "CryptoCurrency:Runtime/BitcoinTool.B", action: kill}'
conf act 'respond:
  enabled: true
  mode: act
  rules:
    - {type: "CryptoCurrency:Runtime/BitcoinTool.B", action: kill}'
conf blk 'respond:
  enabled: true
  rules:
    - {type: "CryptoCurrency:Runtime/BitcoinTool.B", action: block, for: 1h}
    - {type: "CryptoCurrency:Runtime/BitcoinTool.B", action: lock-user}'
conf quar 'respond:
  enabled: true
  mode: act
  rules:
    - {type: "CryptoCurrency:Runtime/*", action: quarantine}'
for c in none off other dry act blk quar; do
	"$M" config check "$T/$c.yaml" >"$T/check.out" 2>&1; rc=$?
	expect "config_$c" "$(cat "$T/check.out")" test $rc -eq 0
done
# cycle DB CONFIG: one agent cycle
cycle() {
	timeout 60 "$M" agent --once --db "$T/$1.db" --root "$T/root" --no-logs --no-fim \
		--sample-ms 50 --host web-9 --threat-list "mining=$T/mining.txt" --config "$T/$2.yaml" \
		--audit-log "$AUD" --quarantine-dir "$QD" --format json >"$T/$1.$2.out" 2>"$T/$1.$2.err"
}
btc() { grep -c 'CryptoCurrency:Runtime/BitcoinTool.B' "$T/$1.out"; }
lines() { if [ -f "$AUD" ]; then wc -l <"$AUD"; else echo 0; fi; }

# --- negative: nothing configured, disabled, another type ------------------------------
for c in none off other; do
	cycle n-$c $c; rc=$?
	expect "${c}_exit_0" "exit $rc: $(tail -2 "$T/n-$c.$c.err")" test $rc -eq 0
	expect "${c}_has_finding" "the BitcoinTool.B finding is there to respond to" test "$(btc n-$c.$c)" -ge 1
	expect "${c}_no_action" "$(cat "$AUD" 2>/dev/null | head -c 400)" test "$(lines)" -eq 0
	expect "${c}_alive" "process $P died" kill -0 $P
done

# --- dry run: audited and recorded, the process lives --------------------------------------
cycle d dry; rc=$?
expect dry_exit_0 "exit $rc: $(tail -2 "$T/d.dry.err")" test $rc -eq 0
expect dry_alive "process $P died on a dry run" kill -0 $P
expect dry_audited "$(cat "$AUD" 2>/dev/null)" test "$(lines)" -eq 1
expect dry_audit_line "$(cat "$AUD")" sh -c "grep '\"action\":\"kill\"' '$AUD' | grep '\"target\":\"$P\"' | grep '\"result\":\"dry-run\"' | grep -q 'auto: finding [0-9a-f]* (CryptoCurrency:Runtime/BitcoinTool.B)'"
expect dry_says "$(tail -3 "$T/d.dry.err")" has "$T/d.dry.err" "would kill pid $P"
"$M" agent respond list --db "$T/d.db" --audit-log "$AUD" >"$T/list" 2>&1
expect dry_in_table "$(cat "$T/list")" sh -c "grep kill '$T/list' | grep -q '$P'"
# the same finding again (updated, not new): not responded to twice, even in act mode
cycle d act; rc=$?
expect again_exit_0 "exit $rc" test $rc -eq 0
expect again_not_new "$(cat "$AUD")" test "$(lines)" -eq 1
expect again_alive "process $P died" kill -0 $P

# --- the other targets a finding names: its remote address (block, dry run) and its
# user (lock-user: root, never locked by a rule - refused and recorded) -------------------
cycle b blk; rc=$?
expect blk_exit_0 "exit $rc: $(tail -2 "$T/b.blk.err")" test $rc -eq 0
expect blk_block_dry "$(tail -3 "$AUD")" sh -c "grep '\"action\":\"block\"' '$AUD' | grep '\"target\":\"$POOL\"' | grep -q '\"result\":\"dry-run\"'"
if [ "$(id -u)" = 0 ]; then
	expect blk_lock_root_refused "$(tail -3 "$AUD")" sh -c "grep '\"action\":\"lock-user\"' '$AUD' | grep '\"target\":\"root\"' | grep -q '\"result\":\"refused\"'"
else
	expect blk_lock_user_dry "$(tail -3 "$AUD")" sh -c "grep '\"action\":\"lock-user\"' '$AUD' | grep -q '\"target\":\"$(id -un)\"'"
fi
expect blk_alive "process $P died" kill -0 $P

# --- act: the process is killed -------------------------------------------------------------
cycle a act; rc=$?
expect act_exit_0 "exit $rc: $(tail -2 "$T/a.act.err")" test $rc -eq 0
i=0; while [ $i -lt 50 ] && kill -0 $P 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
wait $P 2>/dev/null
expect act_killed "process $P lives: $(tail -3 "$T/a.act.err")" sh -c "! kill -0 $P 2>/dev/null"
expect act_audited "$(tail -1 "$AUD")" sh -c "tail -1 '$AUD' | grep '\"action\":\"kill\"' | grep '\"target\":\"$P\"' | grep -q '\"result\":\"done\"'"
"$M" agent respond list --db "$T/a.db" --audit-log "$AUD" --format json >"$T/list.json" 2>&1
expect act_in_table "$(cat "$T/list.json")" sh -c "grep '\"result\":\"done\"' '$T/list.json' | grep -q '\"target\":\"$P\"'"

# --- a quarantine rule: the running binary is moved --------------------------------------
case $T in
/tmp/*)
	SHA=$(sha256sum "$EXE" | cut -d' ' -f1)
	"$EXE" "$POOL" "$PORT" &
	P2=$!
	PIDS="$PIDS $P2"
	i=0; while [ $i -lt 50 ] && ! ls -l /proc/$P2/fd 2>/dev/null | grep -q socket; do sleep 0.1; i=$((i + 1)); done
	sleep 0.2
	cycle q quar; rc=$?
	expect quar_exit_0 "exit $rc: $(tail -2 "$T/q.quar.err")" test $rc -eq 0
	expect quar_moved "$(tail -3 "$T/q.quar.err")" test ! -e "$EXE"
	QF=$(ls "$QD" 2>/dev/null | grep '^r-' | head -1)
	expect quar_stored "$(ls -l "$QD" 2>&1)" sh -c "[ -n '$QF' ] && [ \"\$(stat -c %a '$QD/$QF')\" = 0 ]"
	expect quar_hash "manifest" has "$QD/manifest.jsonl" "$SHA"
	expect quar_process_lives "quarantine moves, it does not kill" kill -0 $P2
	kill $P2 2>/dev/null; wait $P2 2>/dev/null
	;;
*)
	skipped quarantine "the test folder $T is not under /tmp (the default allowed roots)"
	;;
esac

echo "agent_auto: $pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
