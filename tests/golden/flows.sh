#!/bin/sh
# flows.sh MAMORI - `mamori flows` end to end over the hand-written logs in
# tests/data/flows (README there: every record and why it is there). Each
# target and filter asserts on the exact rows; summaries on their exact
# groups; --finding on a database `scan` wrote; pruning by S3 key changes
# what is read, never what is found; bad arguments exit 2 with a message
# saying what to do. Needs nothing outside the repository.
# Ends "flows: N passed, N failed".
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/suite.sh"
D=$ROOT/tests/data/flows
L=$D/logs
A=eni-0f10000000000000a
B=eni-0f10000000000000b

# rows NAME WANT ARGS...: the table's rows reduced to
# "start eni dir source destination proto bytes action", compared exactly
rows() {
	n=$1; want=$2; shift 2
	"$M" flows --format table -q "$@" >"$T/$n.out" 2>"$T/$n.err"; rc=$?
	awk '/^No flows\.$/ {print; next} !/^START/ {print $1, $2, $3, $4, $5, $6, $8, $9}' "$T/$n.out" >"$T/$n.got"
	printf '%s\n' "$want" >"$T/$n.want"
	if [ $rc -eq 0 ] && cmp -s "$T/$n.got" "$T/$n.want"; then ok "$n"; else
		bad "$n" "exit $rc; got:
$(cat "$T/$n.got")
want:
$want
$(cat "$T/$n.err")"
	fi
}
# usage NAME WANT-IN-MESSAGE ARGS...: exit 2, the message says what to do
usage() {
	n=$1; msg=$2; shift 2
	"$M" flows "$@" >"$T/$n.out" 2>"$T/$n.err"; rc=$?
	expect "$n" "exit $rc (want 2), stderr: $(cat "$T/$n.err")" \
		sh -c "[ $rc -eq 2 ] && grep -q -- '$msg' '$T/$n.err' && [ ! -s '$T/$n.out' ]"
}

A_ALL="2024-03-04T09:55:00Z $A out 10.0.1.10:40001 203.0.113.50:443 tcp 5000 ACCEPT
2024-03-04T09:55:00Z $A in 203.0.113.50:443 10.0.1.10:40001 tcp 90000 ACCEPT
2024-03-04T09:56:00Z $A out 10.0.1.10:40002 198.51.100.7:3333 tcp 2000 ACCEPT
2024-03-04T09:56:00Z $A in 198.51.100.7:3333 10.0.1.10:40002 tcp 1500 ACCEPT
2024-03-04T09:57:00Z $A in 192.0.2.99:51000 10.0.1.10:22 tcp 60 REJECT
2024-03-04T09:57:00Z $A out 10.0.1.10:53111 10.0.0.2:53 udp 70 ACCEPT
2024-03-04T09:58:00Z $A in 192.0.2.99 10.0.1.10 icmp 84 ACCEPT
2024-03-04T09:59:00Z $A ? - - - 0 NODATA
2024-03-04T22:50:00Z $A out 10.0.1.10:40010 203.0.113.60:25 tcp 700 ACCEPT
2024-03-04T22:51:00Z $A ? [2001:db8::10]:40011 [2001:db8:ff::1]:443 tcp 300 ACCEPT
2024-03-04T23:58:00Z $A out 10.0.1.10:40020 198.51.100.7:3333 tcp 4000 ACCEPT
2024-03-05T00:50:00Z $A in 203.0.113.50:443 10.0.1.10:40021 tcp 8000 ACCEPT"

# --- targets ----------------------------------------------------------------
# the inventory knows 10.0.1.10 is the instance: the private-to-private DNS
# record gets its direction from it
rows instance_via_inventory "$A_ALL" --instance i-0f10000000000000a --inventory "$D/inventory.json" "$L"
# no inventory: that record's side cannot be told (both private)
rows eni_without_inventory "$(printf '%s\n' "$A_ALL" | sed 's/out 10.0.1.10:53111/? 10.0.1.10:53111/')" --eni $A "$L"
# instance B is in no inventory: CloudTrail RunInstances in the input names its ENI
rows instance_via_runinstances "2024-03-04T09:58:00Z $B out 10.0.1.20:41000 198.51.100.7:3333 tcp 3000 ACCEPT
2024-03-04T09:58:00Z $B in 198.51.100.7:3333 10.0.1.20:41000 tcp 2500 ACCEPT" --instance i-0f10000000000000b "$L"
# instance D is known only by the instance-id field of v3 records
rows instance_via_instance_id "2024-03-04T12:00:00Z eni-0f10000000000000d out 10.0.1.40:46000 203.0.113.50:443 tcp 600 ACCEPT
2024-03-04T12:00:00Z eni-0f10000000000000d in 203.0.113.50:443 10.0.1.40:46000 tcp 7000 ACCEPT" --instance i-0f10000000000000d "$L"
"$M" flows --instance i-0f10000000000000d "$L" >/dev/null 2>"$T/d.err"
expect instance_unknown_warned "$(cat "$T/d.err")" has "$T/d.err" "i-0f10000000000000d is in no inventory"
rows two_enis "2024-03-04T09:55:00Z eni-0f10000000000000c out 10.0.1.30:45000 203.0.113.50:443 tcp 400 ACCEPT
2024-03-04T09:58:00Z $B out 10.0.1.20:41000 198.51.100.7:3333 tcp 3000 ACCEPT
2024-03-04T09:58:00Z $B in 198.51.100.7:3333 10.0.1.20:41000 tcp 2500 ACCEPT" --eni eni-0f10000000000000c --eni $B "$L"
"$M" flows -q --format table "$L" >"$T/all.out" 2>&1
expect no_target_every_record "want 17 rows: $(wc -l <"$T/all.out")" test "$(grep -c '^2024' "$T/all.out")" -eq 17

# --- filters ----------------------------------------------------------------
INV="--inventory $D/inventory.json"
rows since_until "2024-03-04T22:50:00Z $A out 10.0.1.10:40010 203.0.113.60:25 tcp 700 ACCEPT
2024-03-04T22:51:00Z $A ? [2001:db8::10]:40011 [2001:db8:ff::1]:443 tcp 300 ACCEPT
2024-03-04T23:58:00Z $A out 10.0.1.10:40020 198.51.100.7:3333 tcp 4000 ACCEPT" \
	--eni $A --since 2024-03-04T22:00:00Z --until 2024-03-05T00:00:00Z "$L"
# a record crossing --since counts when it ends after it; one that ended before does not
rows since_overlap "2024-03-04T23:58:00Z $A out 10.0.1.10:40020 198.51.100.7:3333 tcp 4000 ACCEPT
2024-03-05T00:50:00Z $A in 203.0.113.50:443 10.0.1.10:40021 tcp 8000 ACCEPT" --eni $A --since 2024-03-05T00:02:00Z "$L"
rows since_date_only "2024-03-04T23:58:00Z $A out 10.0.1.10:40020 198.51.100.7:3333 tcp 4000 ACCEPT
2024-03-05T00:50:00Z $A in 203.0.113.50:443 10.0.1.10:40021 tcp 8000 ACCEPT" --eni $A --since 2024-03-05 "$L"
rows remote_cidr "2024-03-04T09:56:00Z $A out 10.0.1.10:40002 198.51.100.7:3333 tcp 2000 ACCEPT
2024-03-04T09:56:00Z $A in 198.51.100.7:3333 10.0.1.10:40002 tcp 1500 ACCEPT
2024-03-04T09:58:00Z $B out 10.0.1.20:41000 198.51.100.7:3333 tcp 3000 ACCEPT
2024-03-04T09:58:00Z $B in 198.51.100.7:3333 10.0.1.20:41000 tcp 2500 ACCEPT
2024-03-04T23:58:00Z $A out 10.0.1.10:40020 198.51.100.7:3333 tcp 4000 ACCEPT" --remote 198.51.100.0/24 "$L"
rows remote_v6 "2024-03-04T22:51:00Z $A ? [2001:db8::10]:40011 [2001:db8:ff::1]:443 tcp 300 ACCEPT" --remote 2001:db8:ff::/48 "$L"
# the interface's own address is never "remote" once the inventory says whose it is
rows remote_is_local_with_inventory "No flows." --remote 10.0.1.10 $INV "$L"
rows remote_undecided_side "2024-03-04T09:57:00Z $A ? 10.0.1.10:53111 10.0.0.2:53 udp 70 ACCEPT" --remote 10.0.1.10 "$L"
rows port_either_side "2024-03-04T09:57:00Z $A in 192.0.2.99:51000 10.0.1.10:22 tcp 60 REJECT" --port 22 "$L"
rows local_port "2024-03-04T09:57:00Z $A in 192.0.2.99:51000 10.0.1.10:22 tcp 60 REJECT" --local-port 22 "$L"
rows remote_port_not_local "No flows." --remote-port 22 "$L"
rows remote_port "2024-03-04T09:55:00Z $A out 10.0.1.10:40001 203.0.113.50:443 tcp 5000 ACCEPT
2024-03-04T09:55:00Z $A in 203.0.113.50:443 10.0.1.10:40001 tcp 90000 ACCEPT
2024-03-04T22:51:00Z $A ? [2001:db8::10]:40011 [2001:db8:ff::1]:443 tcp 300 ACCEPT
2024-03-05T00:50:00Z $A in 203.0.113.50:443 10.0.1.10:40021 tcp 8000 ACCEPT" --eni $A --remote-port 443 "$L"
rows proto_udp "2024-03-04T09:57:00Z $A ? 10.0.1.10:53111 10.0.0.2:53 udp 70 ACCEPT" --proto udp "$L"
rows proto_number "2024-03-04T09:57:00Z $A ? 10.0.1.10:53111 10.0.0.2:53 udp 70 ACCEPT" --proto 17 "$L"
rows proto_icmp "2024-03-04T09:58:00Z $A in 192.0.2.99 10.0.1.10 icmp 84 ACCEPT" --proto icmp "$L"
rows action_reject "2024-03-04T09:57:00Z $A in 192.0.2.99:51000 10.0.1.10:22 tcp 60 REJECT" --action reject "$L"
rows filters_combine "2024-03-04T23:58:00Z $A out 10.0.1.10:40020 198.51.100.7:3333 tcp 4000 ACCEPT" \
	--instance i-0f10000000000000a $INV --remote 198.51.100.7 --remote-port 3333 --proto tcp \
	--action accept --since 2024-03-04T12:00:00Z "$L"
rows limit_keeps_earliest "2024-03-04T09:55:00Z $A out 10.0.1.10:40001 203.0.113.50:443 tcp 5000 ACCEPT
2024-03-04T09:55:00Z $A in 203.0.113.50:443 10.0.1.10:40001 tcp 90000 ACCEPT" --eni $A --limit 2 "$L"
"$M" flows --eni $A --limit 2 --format table "$L" >/dev/null 2>"$T/lim.err"
expect limit_says_so "$(cat "$T/lim.err")" has "$T/lim.err" "showing the 2 earliest; --limit N"

# --- pruning by S3 key: fewer files read, the same rows ---------------------
"$M" flows --eni $A --since 2024-03-04T22:00:00Z --until 2024-03-05T00:00:00Z --format json "$L" >"$T/p.json" 2>"$T/p.err"
"$M" flows --eni $A --since 2024-03-04T22:00:00Z --until 2024-03-05T00:00:00Z --no-prune --format json "$L" >"$T/np.json" 2>"$T/np.err"
expect prune_same_rows "pruned and unpruned differ" cmp -s "$T/p.json" "$T/np.json"
expect prune_skips_by_key "$(cat "$T/p.err")" has "$T/p.err" "in 3 files read (3 skipped by S3 key, 0 not flow logs)"
expect no_prune_reads_all "$(cat "$T/np.err")" has "$T/np.err" "in 4 files read (2 skipped by S3 key, 0 not flow logs)"
"$M" flows --remote 198.51.100.7 --format json --threads 1 "$L" >"$T/t1.json" 2>/dev/null
"$M" flows --remote 198.51.100.7 --format json --threads 4 "$L" >"$T/t4.json" 2>/dev/null
expect threads_same_output "1 vs 4 threads differ" cmp -s "$T/t1.json" "$T/t4.json"
expect no_progress_when_piped "a progress line on a pipe: $(head -c 200 "$T/np.err")" \
	sh -c "! grep -q 'files, .* records' '$T/np.err'"
if command -v script >/dev/null 2>&1; then
	script -qc "'$M' flows --eni $A --summary bytes '$L'" /dev/null >"$T/tty.out" 2>&1 </dev/null
	expect progress_on_a_terminal "$(head -c 300 "$T/tty.out")" has "$T/tty.out" "flows: 6/6 files, 0.00M records"
else
	skipped progress_on_a_terminal "script(1) not installed"
fi
expect malformed_located "$(cat "$T/p.err")" has "$T/np.err" "_20240304T1005Z_0a1b2c3d.log:11: bad srcport 'notaport'"

# --- JSON rows: every field, and where the record is -------------------------
"$M" flows --proto udp --format json -q "$L" >"$T/j.json"
expect json_row "$(cat "$T/j.json")" has "$T/j.json" \
	'^{"start":"2024-03-04T09:57:00Z","end":"2024-03-04T09:58:00Z","account":"123456789012","eni":"eni-0f10000000000000a","direction":"unknown","srcaddr":"10.0.1.10","dstaddr":"10.0.0.2","srcport":53111,"dstport":53,"protocol":17,"packets":1,"bytes":70,"action":"ACCEPT","logStatus":"OK","file":"AWSLogs/123456789012/vpcflowlogs/us-east-1/2024/03/04/123456789012_vpcflowlogs_us-east-1_fl-0f1000000000000aa_20240304T1005Z_0a1b2c3d.log","line":7}$'
"$M" flows --proto udp -q "$L" >"$T/jd.json"
expect json_when_piped "a pipe gets JSON Lines" cmp -s "$T/j.json" "$T/jd.json"

# --- summaries ---------------------------------------------------------------
# sums groups SUMMARY-ARGS...: "key flows bytes out in accept reject" per group
sums() {
	n=$1; want=$2; shift 2
	"$M" flows --format table -q "$@" >"$T/$n.out" 2>"$T/$n.err"; rc=$?
	printf '%s\n' "$want" >"$T/$n.want"
	awk -v k="$KEYCOLS" 'NR > 1 {s = $1; for (i = 2; i <= k; i++) s = s " " $i;
		print s, $(k+1), $(k+3), $(k+4), $(k+5), $(k+6), $(k+7)}' "$T/$n.out" >"$T/$n.got"
	if [ $rc -eq 0 ] && cmp -s "$T/$n.got" "$T/$n.want"; then ok "$n"; else
		bad "$n" "exit $rc; got:
$(cat "$T/$n.got")
want:
$want"
	fi
}
KEYCOLS=1 sums talkers_top3 "203.0.113.50 3 103000 5000 98000 3 0
198.51.100.7 3 7500 6000 1500 3 0
203.0.113.60 1 700 700 0 1 0" --summary talkers --top 3 --eni $A $INV "$L"
KEYCOLS=1 sums talkers_all "203.0.113.50 3 103000 5000 98000 3 0
198.51.100.7 3 7500 6000 1500 3 0
203.0.113.60 1 700 700 0 1 0
2001:db8:ff::1 1 300 0 0 1 0
192.0.2.99 2 144 0 144 1 1
10.0.0.2 1 70 70 0 1 0" --summary talkers --top 0 --eni $A $INV "$L"
KEYCOLS=3 sums ports "out tcp 443 4 103300 5000 98000 4 0
out tcp 3333 3 7500 6000 1500 3 0
out tcp 25 1 700 700 0 1 0
in icmp 0 1 84 0 84 1 0
out udp 53 1 70 70 0 1 0
in tcp 22 1 60 0 60 0 1" --summary ports --eni $A $INV "$L"
KEYCOLS=1 sums bytes_per_hour "2024-03-04T09:00:00Z 8 98714 7070 91644 6 1
2024-03-04T22:00:00Z 2 1000 700 0 2 0
2024-03-04T23:00:00Z 1 4000 4000 0 1 0
2024-03-05T00:00:00Z 1 8000 0 8000 1 0" --summary bytes --eni $A $INV "$L"
"$M" flows --summary talkers --top 1 --eni $B --format json -q "$L" >"$T/sj.json"
expect summary_json "$(cat "$T/sj.json")" has "$T/sj.json" \
	'^{"remote":"198.51.100.7","flows":2,"packets":55,"bytes":5500,"bytesOut":3000,"bytesIn":2500,"accepts":2,"rejects":0,"first":"2024-03-04T09:58:00Z","last":"2024-03-04T09:59:00Z"}$'

# --- a finding: scan stores it, flows reads its resource and window ---------
printf '198.51.100.7\n' >"$T/custom.txt"
"$M" scan --db "$T/f.db" --no-default-lists --inventory "$D/inventory.json" \
	--threat-list "custom=$T/custom.txt" --format none -q "$L"
"$M" findings list --db "$T/f.db" --format json >"$T/f.json"
FB=$(grep '"i-0f10000000000000b"' "$T/f.json" | sed 's/.*"id":"\([0-9a-f]*\)".*/\1/' | head -1)
FA=$(grep '"instanceId":"i-0f10000000000000a"' "$T/f.json" | sed 's/.*"id":"\([0-9a-f]*\)".*/\1/' | head -1)
expect finding_ids "scan stored no findings on A and B" test -n "$FA" -a -n "$FB"
rows finding_rows "2024-03-04T09:58:00Z $B out 10.0.1.20:41000 198.51.100.7:3333 tcp 3000 ACCEPT
2024-03-04T09:58:00Z $B in 198.51.100.7:3333 10.0.1.20:41000 tcp 2500 ACCEPT" --db "$T/f.db" --finding "$(echo "$FB" | cut -c1-8)" "$L"
# A's finding spans 09:56..00:03: with --around 0 the 00:50 record is out,
# and the 09:55 ones are in (their last packet was at 09:56:00)
rows finding_window_around0 "$(printf '%s\n' "$A_ALL" | sed '/^2024-03-05T00:50/d')" \
	--db "$T/f.db" --finding "$FA" --around 0 "$L"
KEYCOLS=1 sums finding_talkers "203.0.113.50 3 103000 5000 98000 3 0" --db "$T/f.db" --finding "$FA" --summary talkers --top 1 "$L"
"$M" flows --db "$T/f.db" --finding "$FA" "$L" >/dev/null 2>"$T/fw.err"
expect finding_says_window "$(cat "$T/fw.err")" has "$T/fw.err" \
	"finding $FA: UnauthorizedAccess:EC2/MaliciousIPCaller.Custom on i-0f10000000000000a, flows from 2024-03-04T08:56:00.000Z to 2024-03-05T01:03:00.001Z"
# the instances scan learned are in the database: B's interface without its CloudTrail
rows instance_via_stored_inventory "2024-03-04T09:58:00Z $B out 10.0.1.20:41000 198.51.100.7:3333 tcp 3000 ACCEPT
2024-03-04T09:58:00Z $B in 198.51.100.7:3333 10.0.1.20:41000 tcp 2500 ACCEPT" \
	--db "$T/f.db" --instance i-0f10000000000000b "$L/AWSLogs/123456789012/vpcflowlogs"
usage finding_unknown "no finding .ffffffffffff. in" --db "$T/f.db" --finding ffffffffffff "$L"
"$M" flows --db "$T/nodb.db" --finding abcdef "$L" >/dev/null 2>"$T/nodb.err"; rc=$?
expect finding_no_db "exit $rc: $(cat "$T/nodb.err")" sh -c "[ $rc -eq 1 ] && grep -q 'run .mamori scan. first' '$T/nodb.err'"

# --- bad arguments: exit 2, what to do ---------------------------------------
usage bad_proto "--proto takes tcp, udp, icmp" --proto xyz "$L"
usage bad_action "--action takes accept or reject" --action maybe "$L"
usage bad_summary "--summary takes talkers, ports or bytes" --summary peers "$L"
usage bad_remote "--remote takes an address or a CIDR" --remote 300.1.1.1 "$L"
usage bad_port "take 0-65535" --port 70000 "$L"
usage bad_since "--since takes a date" --since yesterday "$L"
usage bad_window "--until must be later than --since" --since 2024-03-05 --until 2024-03-04 "$L"
usage bad_instance "--instance takes an instance id" --instance web-1 "$L"
usage bad_format "--format takes table or json" --format csv "$L"
usage bad_around "--around takes a duration" --finding x --around soon "$L"
usage no_input "no input; give the log files or folders" --eni $A
usage unknown_option "unknown option .--frobnicate." --frobnicate "$L"
usage missing_value "--port needs a value" "$L" --port
"$M" flows --eni $A "$T/missing" >/dev/null 2>"$T/miss.err"; rc=$?
expect missing_path_exit_1 "exit $rc: $(cat "$T/miss.err")" test $rc -eq 1
"$M" flows --help >"$T/help" 2>&1; rc=$?
expect help_exit_0 "exit $rc" test $rc -eq 0
expect help_exit_codes "--help documents the exit status" has "$T/help" "exit status: 0 ok"
"$M" --help >"$T/mhelp" 2>&1
expect main_help_lists_flows "mamori --help" has "$T/mhelp" "flows PATH"

echo "flows: $pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
