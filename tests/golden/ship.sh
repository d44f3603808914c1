#!/bin/sh
# ship.sh MAMORI - `mamori agent ship` into a real `mamori serve` on
# 127.0.0.1: a key from `mamori keys create`; VPC flow lines from an
# address on a custom threat list, shipped from the "agent" side, become
# a finding the API returns; kill -9 of the server mid-way while lines
# keep being appended, ship (server away: nothing lost), restart, ship
# again: the server's spool holds every line exactly once and the
# finding counts every record once; a stale state resends and the server
# acknowledges without writing twice; wrongly signed requests get 403;
# path-traversal host/source names and offset gaps are refused; a host
# shipped with --account-id/--host-region gets its findings named so.
# Ends "ship: N passed, N failed".
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/suite.sh"

if ! command -v curl >/dev/null 2>&1 || ! python3 -c 'import botocore' 2>/dev/null; then
	bad tools "curl and python3-botocore (awscli) are needed: run scripts/deps.sh"
	echo "ship: $pass passed, $fail failed, $skip skipped"
	exit 1
fi
export HOME="$T/home" AWS_CONFIG_FILE="$T/none" AWS_SHARED_CREDENTIALS_FILE="$T/none"
export AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true AWS_PAGER=""
mkdir -p "$HOME" "$T/logs" "$T/agent"
DB="$T/m.db"
SPOOL="$DB.spool/agent"
printf '# custom list\n203.0.113.0/28\n' >"$T/custom.txt"
HDR='version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status'
T0=1714557600
ENI=eni-0ac0ac0ac0ac00051
# lines N FROM: N accepted inbound records from 203.0.113.7, ports FROM..
lines() {
	i=0
	while [ $i -lt "$1" ]; do
		p=$(($2 + i))
		echo "2 123456789012 $ENI 203.0.113.7 10.0.2.10 $p 22 6 10 840 $((T0 + 60 * p)) $((T0 + 60 * p + 60)) ACCEPT OK"
		i=$((i + 1))
	done >>"$T/agent/vpcflow.log"
}

"$M" keys create agent-web --db "$DB" >"$T/key.env" 2>"$T/key.err"
expect key_created "$(cat "$T/key.err")" has "$T/key.env" "AWS_SECRET_ACCESS_KEY="

PID=
FOLLOW="--follow $T/logs"
start() {
	rm -f "$T/ready"
	"$M" serve --db "$DB" --listen 127.0.0.1:0 $FOLLOW --poll-ms 200 \
		--no-default-lists --threat-list "custom=$T/custom.txt" --ready-file "$T/ready" \
		2>>"$T/serve.err" &
	PID=$!
	n=0
	while [ ! -s "$T/ready" ] && [ $n -lt 100 ] && kill -0 $PID 2>/dev/null; do sleep 0.1; n=$((n + 1)); done
	URL=$(cut -d' ' -f1 "$T/ready" 2>/dev/null)
}
trap 'kill -9 $PID 2>/dev/null; chmod -R u+rwx "$T" 2>/dev/null; rm -rf "$T"' EXIT
ship() { timeout 60 "$M" agent ship --server "$URL" --key-file "$T/key.env" --host web-1 \
	--state "$T/ship.state" "$@"; }
# count: the finding's record count in the store (0 when none yet)
count() {
	"$M" findings list --db "$DB" --format json 2>/dev/null | grep "$ENI" |
		grep -Eo '"count":[0-9]+' | head -1 | cut -d: -f2
}
wait_count() { # N: until the finding counts N records (20 s at most)
	w=0
	while [ $w -lt 100 ]; do
		[ "$(count)" = "$1" ] && return 0
		sleep 0.2; w=$((w + 1))
	done
	return 1
}
spooled() { cat "$SPOOL"/web-1/*.vpcflow.log 2>/dev/null; }
metric() { curl -s "$URL/metrics" | grep "^$1" | awk '{print $2}' | head -1; }

start
expect serve_ready "no ready file: $(tail -c 300 "$T/serve.err")" test -n "$URL"

# --- ship a file: the finding appears through the API ----------------------
echo "$HDR" >"$T/agent/vpcflow.log"
lines 3 0
ship "$T/agent/vpcflow.log" 2>"$T/ship1.err"; rc=$?
expect ship_once_exit0 "exit $rc: $(cat "$T/ship1.err")" test $rc -eq 0
expect spool_has_file "spool: $(ls -R "$DB.spool" 2>&1 | head -5)" \
	test -f "$SPOOL/web-1/00000000000000000000.vpcflow.log"
expect finding_from_shipped "count '$(count)': $(tail -c 300 "$T/serve.err")" wait_count 3
if command -v aws >/dev/null 2>&1; then
	set -a; . "$T/key.env"; set +a
	DET=$(cut -d' ' -f2 "$T/ready")
	timeout 60 aws guardduty --endpoint-url "$URL" --output json list-findings --detector-id "$DET" \
		--finding-criteria '{"Criterion":{"type":{"Eq":["UnauthorizedAccess:EC2/MaliciousIPCaller.Custom"]}}}' \
		>"$T/ids.json" 2>"$T/aws.err"
	expect api_lists_finding "$(cat "$T/aws.err") $(cat "$T/ids.json")" \
		test "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["FindingIds"]))' "$T/ids.json")" = 1
	unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
else
	skipped api_lists_finding "no aws command"
fi
expect metrics_bytes_by_host "$(curl -s "$URL/metrics" | grep ingest)" \
	test "$(metric 'mamori_ingest_bytes_total{host="web-1"}')" = "$(wc -c <"$T/agent/vpcflow.log" | tr -d ' ')"
expect metrics_lines_by_host "$(curl -s "$URL/metrics" | grep ingest_lines)" \
	test "$(metric 'mamori_ingest_lines_total{host="web-1"}')" = 4
ship "$T/agent/vpcflow.log" 2>"$T/ship2.err"; rc=$?
expect ship_nothing_new "exit $rc: $(cat "$T/ship2.err")" test $rc -eq 0
cp "$T/ship.state" "$T/ship.state.old"

# --- kill -9 mid-way, keep appending, ship while away, restart, ship --------
kill -9 $PID; wait $PID 2>/dev/null
lines 2 3
ship --max-wait 2 "$T/agent/vpcflow.log" 2>"$T/away.err"; rc=$?
expect ship_server_away_exit1 "exit $rc: $(cat "$T/away.err")" test $rc -eq 1
expect ship_server_away_state_kept "state changed while the server was away" \
	cmp -s "$T/ship.state" "$T/ship.state.old"
lines 1 5
FOLLOW=   # agents' uploads are a source of their own: no --follow needed
start
expect serve_restarted "no ready file: $(tail -c 300 "$T/serve.err")" test -n "$URL"
ship "$T/agent/vpcflow.log" 2>"$T/ship3.err"; rc=$?
expect ship_after_restart "exit $rc: $(cat "$T/ship3.err")" test $rc -eq 0
expect finding_counts_once "count '$(count)', want 6: $(tail -c 300 "$T/serve.err")" wait_count 6
spooled >"$T/spooled"
expect spool_every_line_once "spool differs from the file: $(diff "$T/agent/vpcflow.log" "$T/spooled" | head -5)" \
	cmp -s "$T/agent/vpcflow.log" "$T/spooled"

# --- a stale state resends: acknowledged, not written twice ---------------
cp "$T/ship.state.old" "$T/ship.state"
ship "$T/agent/vpcflow.log" 2>"$T/resend.err"; rc=$?
expect resend_exit0 "exit $rc: $(cat "$T/resend.err")" test $rc -eq 0
spooled >"$T/spooled"
expect resend_not_written_twice "$(wc -l <"$T/spooled") lines spooled" \
	cmp -s "$T/agent/vpcflow.log" "$T/spooled"
expect resend_counted_duplicate "$(curl -s "$URL/metrics" | grep duplicate)" \
	test "$(metric mamori_ingest_duplicate_bytes_total)" -gt 0
sleep 1
expect resend_no_double_count "count '$(count)', want 6" test "$(count)" = 6

# --- state lost: the server's 409 re-aligns, nothing twice ------------------
rm -f "$T/ship.state"
lines 1 6
ship "$T/agent/vpcflow.log" 2>"$T/lost.err"; rc=$?
spooled >"$T/spooled"
expect state_lost_realigns "exit $rc: $(cat "$T/lost.err"); $(diff "$T/agent/vpcflow.log" "$T/spooled" | head -3)" \
	cmp -s "$T/agent/vpcflow.log" "$T/spooled"
expect state_lost_count "count '$(count)', want 7" wait_count 7

# --- rotation: the rest of the old file, then the new one -------------------
lines 1 7
mv "$T/agent/vpcflow.log" "$T/agent/vpcflow.log.1"
lines 1 8
"$M" agent ship --server "$URL" --key-file "$T/key.env" --host web-1 --state "$T/ship.state" \
	--follow --poll-ms 100 "$T/agent/vpcflow.log" 2>"$T/rot.err" &
SP=$!
n=0; while [ $n -lt 100 ] && [ "$(count)" != 9 ]; do sleep 0.2; n=$((n + 1)); done
lines 1 9
expect rotation_follow "count '$(count)', want 10: $(tail -c 300 "$T/rot.err")" wait_count 10
kill $SP; wait $SP 2>/dev/null
cat "$T/agent/vpcflow.log.1" "$T/agent/vpcflow.log" >"$T/all"
spooled >"$T/spooled"
expect rotation_every_line_once "$(diff "$T/all" "$T/spooled" | head -3)" cmp -s "$T/all" "$T/spooled"

# --- a host's account and region: named in its findings on the server --------
INST=i-0a1b2c3d4e5f60718
cp "$ROOT/tests/data/host/secure" "$T/agent/secure"
timeout 60 "$M" agent ship --server "$URL" --key-file "$T/key.env" --host $INST \
	--account-id 210987654321 --host-region eu-west-3 --state "$T/place.state" \
	"$T/agent/secure" 2>"$T/place.err"; rc=$?
expect place_ship_exit0 "exit $rc: $(cat "$T/place.err")" test $rc -eq 0
expect place_file_written "$(cat "$SPOOL/$INST/.mamori-place" 2>&1)" \
	has "$SPOOL/$INST/.mamori-place" '{"accountId":"210987654321","region":"eu-west-3"}'
brute() { "$M" findings list --db "$DB" --format json 2>/dev/null | grep SSHBruteForce | grep "$INST"; }
n=0; while [ $n -lt 100 ] && [ -z "$(brute)" ]; do sleep 0.2; n=$((n + 1)); done
expect place_in_finding "finding: $(brute | head -c 300); $(tail -c 300 "$T/serve.err")" \
	sh -c "'$M' findings list --db '$DB' --format json | grep SSHBruteForce | grep '$INST' | grep '\"accountId\":\"210987654321\"' | grep -q '\"region\":\"eu-west-3\"'"
timeout 60 "$M" agent ship --server "$URL" --key-file "$T/key.env" --host web-1 \
	--account-id 1234 --state "$T/bad.state" "$T/agent/secure" 2>"$T/badacct.err"; rc=$?
expect place_bad_account_usage "exit $rc: $(cat "$T/badacct.err")" \
	sh -c "[ $rc -eq 2 ] && grep -q '12-digit' '$T/badacct.err'"

# --- refused requests ---------------------------------------------------------
code=$(curl -s -o "$T/unsigned.json" -w '%{http_code}' -X POST --data-binary @/dev/null \
	"$URL/mamori/v1/ingest?host=web-1&source=x.log&offset=0")
expect unsigned_403 "HTTP $code $(cat "$T/unsigned.json")" test "$code" = 403
sed 's/^AWS_SECRET_ACCESS_KEY=.*/AWS_SECRET_ACCESS_KEY=wrongwrongwrongwrongwrongwrongwrongwrong0/' "$T/key.env" >"$T/bad.env"
echo "$HDR" >"$T/agent/other.log"
timeout 60 "$M" agent ship --server "$URL" --key-file "$T/bad.env" --host web-1 --state "$T/bad.state" \
	--max-wait 1 "$T/agent/other.log" 2>"$T/badsig.err"; rc=$?
expect wrong_signature_403 "exit $rc: $(cat "$T/badsig.err")" \
	sh -c "[ $rc -eq 1 ] && grep -q 'HTTP 403' '$T/badsig.err'"
expect wrong_signature_nothing_written "$(ls "$SPOOL/web-1")" test ! -e "$SPOOL/web-1/00000000000000000000.other.log"
expect metrics_denied "$(curl -s "$URL/metrics" | grep rejected)" \
	test "$(metric 'mamori_ingest_rejected_total{reason="denied"}')" -ge 2
set -a; . "$T/key.env"; set +a
printf 'a line\n' >"$T/body"
# starts TEXT PREFIX: TEXT begins with PREFIX
starts() { case $1 in "$2"*) return 0 ;; esac; return 1; }
req() { python3 "$HERE/lib/ingest_req.py" "$URL" "$1" "$T/body" 2>&1; }
out=$(req 'host=..&source=x.log&offset=0')
expect traversal_host_400 "$out" starts "$out" "400 "
out=$(req 'host=..%2F..%2Ftmp&source=x.log&offset=0')
expect traversal_host_slash_400 "$out" starts "$out" "400 "
out=$(req 'host=web-1&source=..%2F..%2F..%2Fescaped.log&offset=0')
expect traversal_source_400 "$out" starts "$out" "400 "
expect traversal_nothing_written "found a file outside the spool" \
	sh -c "! ls '$DB.spool' '$T' 2>/dev/null | grep -q escaped"
out=$(req 'host=web-1&source=x.log.gz&offset=0')
expect compressed_name_400 "$out" starts "$out" "400 "
out=$(req 'account=12345&host=web-1&source=x.log&offset=0')
expect bad_account_400 "$out" starts "$out" "400 "
out=$(req 'host=web-1&offset=0&region=EU%2FWest&source=x.log')
expect bad_region_400 "$out" starts "$out" "400 "
out=$(req "host=web-1&source=gap.log&offset=100")
contains() { case $1 in *"$2"*) return 0 ;; esac; return 1; }
expect gap_409_with_offset "$out" contains "$out" '"__type":"OffsetMismatchException","offset":0}' 
out=$(req "host=web-1&source=gap.log&offset=0")
expect gap_then_write "$out" starts "$out" '200 {"offset":7,"written":7}' 
out=$(req "host=web-1&source=gap.log&offset=0")
expect retry_idempotent "$out" starts "$out" '200 {"offset":7,"written":0}' 
printf 'no newline' >"$T/body"
out=$(req "host=web-1&source=gap.log&offset=7")
expect partial_line_400 "$out" starts "$out" "400 "
expect gap_file_bytes "$(cat "$SPOOL/web-1/00000000000000000000.gap.log")" \
	test "$(cat "$SPOOL/web-1/00000000000000000000.gap.log")" = "a line"
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY

kill $PID; wait $PID 2>/dev/null
echo "ship: $pass passed, $fail failed, $skip skipped"
