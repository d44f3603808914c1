#!/bin/sh
# notify.sh MAMORI - `mamori serve`'s notifications against real local
# receivers on 127.0.0.1 (tests/golden/lib/notify_recv.py: python3's
# http.server for the webhook and Slack shapes, an smtpd sink for email):
# the webhook gets GuardDuty's EventBridge event, Slack a Block Kit
# message, the email arrives; a sink above the finding's severity gets
# nothing; a finding archived by an ARCHIVE filter (created with the AWS
# CLI) is not notified; 500, 500, 200 is delivered on the third attempt;
# always 500 ends in a dead letter shown in /metrics; kill -9 with a
# receiver down, restart with it up: delivered exactly once. SIGHUP with a
# changed serve: section: a removed sink's queue becomes dead letters
# ("sink removed"), a kept sink goes on, an added one gets the next finding;
# a changed listen address is logged as needing a restart.
# Ends "notify: N passed, N failed".
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/suite.sh"
[ -n "$NOTIFY_TIMING" ] && ok() { echo "ok   $1 $(date +%s)"; pass=$((pass+1)); }

if ! command -v aws >/dev/null 2>&1; then
	bad awscli "the aws command (Debian package awscli) is missing: run scripts/deps.sh"
	echo "notify: $pass passed, $fail failed, $skip skipped"
	exit 1
fi
export HOME="$T/home" AWS_CONFIG_FILE="$T/none" AWS_SHARED_CREDENTIALS_FILE="$T/none"
export AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true AWS_PAGER=""
mkdir -p "$HOME" "$T/logs" "$T/hook" "$T/chat" "$T/mail"
DB="$T/m.db"
RECV="$HERE/lib/notify_recv.py"
PID= HP= CP= SP=
trap 'kill $PID $HP $CP $SP 2>/dev/null; chmod -R u+rwx "$T" 2>/dev/null; rm -rf "$T"' EXIT

# until FILE exists (10 s at most)
wait_file() { _w=0; while [ ! -s "$1" ] && [ $_w -lt 300 ]; do sleep 0.1; _w=$((_w + 1)); done; [ -s "$1" ]; }
# receiver MODE NAME [PORT]: start one, its pid in ${NAME}_pid, port in $T/NAME.port
receiver() {
	rm -f "$T/$2.port"
	python3 "$RECV" "$1" "$T/$2.port" "$T/$2" $3 2>>"$T/recv.err" &
	eval "${2}_pid=$!"
	wait_file "$T/$2.port"
}
receiver http hook; HP=$hook_pid; HPORT=$(cat "$T/hook.port")
receiver http chat; CP=$chat_pid; CPORT=$(cat "$T/chat.port")
receiver smtp mail; SP=$mail_pid; SPORT=$(cat "$T/mail.port")
expect receivers_up "$(cat "$T/recv.err")" test -n "$HPORT" -a -n "$CPORT" -a -n "$SPORT"

printf '# custom list\n203.0.113.0/28\n198.51.100.66\n' >"$T/custom.txt"
cat >"$T/cfg.yaml" <<EOF
serve:
  console_url: http://console.example:8600/
  retry_base_ms: 200
  sinks:
    - {name: hook, type: webhook, url: "http://127.0.0.1:$HPORT/hook"}
    - {name: high-only, type: webhook, url: "http://127.0.0.1:$HPORT/high", min_severity: high}
    - {name: retry, type: webhook, url: "http://127.0.0.1:$HPORT/fail2", max_attempts: 5}
    - {name: dead, type: webhook, url: "http://127.0.0.1:$HPORT/dead", max_attempts: 2}
    - {name: other-types, type: webhook, url: "http://127.0.0.1:$HPORT/types", types: ["Backdoor:*"]}
    - {name: chat, type: slack, url: "http://127.0.0.1:$CPORT/slack", frequency: ONE_HOUR}
    - name: mail
      type: email
      url: smtp://127.0.0.1:$SPORT
      from: mamori@example.com
      to: [soc@example.com, oncall@example.com]
EOF
"$M" config show --config "$T/cfg.yaml" >"$T/show.yaml" 2>&1
expect config_show_serve "$(tail -5 "$T/show.yaml")" has "$T/show.yaml" 'name: "high-only"'

"$M" keys create ci --db "$DB" >"$T/key.env" 2>"$T/key.err"
set -a; . "$T/key.env"; set +a
HDR='version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status'
T0=1714557600
flow() { # ENI REMOTE N [MINUTE]: N accepted inbound records from REMOTE, one a minute
	i=0
	while [ $i -lt "$3" ]; do
		s=$((T0 + 60 * (i + ${4:-0})))
		echo "2 123456789012 $1 $2 10.0.2.10 $((40000 + i)) 22 6 10 840 $s $((s + 60)) ACCEPT OK"
		i=$((i + 1))
	done >>"$T/logs/a.log"
}
start() {
	rm -f "$T/ready"
	"$M" serve --db "$DB" --listen 127.0.0.1:0 --follow "$T/logs" --poll-ms 200 \
		--config "$T/cfg.yaml" --no-default-lists --threat-list "custom=$T/custom.txt" \
		--ready-file "$T/ready" 2>>"$T/serve.err" &
	PID=$!
	_w=0
	while [ ! -s "$T/ready" ] && [ $_w -lt 100 ] && kill -0 $PID 2>/dev/null; do sleep 0.1; _w=$((_w + 1)); done
	URL=$(cut -d' ' -f1 "$T/ready" 2>/dev/null)
	DET=$(cut -d' ' -f2 "$T/ready" 2>/dev/null)
}
metrics() { python3 -c 'import sys,urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1] + "/metrics", timeout=10).read().decode())' "$URL" 2>/dev/null; }
# until COMMAND succeeds, 30 s of wall clock at most (a loaded machine
# makes each try slow: the bound is time, not tries)
wait_for() {
	_end=$(($(date +%s) + 30))
	while :; do
		"$@" && return 0
		[ "$(date +%s)" -ge $_end ] && return 1
		sleep 0.2
	done
}
metric_is() { metrics >"$T/metrics.txt"; grep -Eq -- "$1" "$T/metrics.txt"; }
wait_metric() { wait_for metric_is "$1"; }
# wait_grep DIR GLOB TEXT: until a file in DIR matching GLOB holds TEXT
grep_in() { grep -lF -- "$3" "$1"/$2 >/dev/null 2>&1; }
wait_grep() { wait_for grep_in "$@"; }
gd() { timeout 60 aws guardduty --endpoint-url "$URL" --output json "$@"; }

echo "$HDR" >"$T/logs/a.log"
start
expect serve_ready "no ready file; stderr: $(tail -c 400 "$T/serve.err")" test -n "$DET"

# --- one finding: webhook, Slack, email ------------------------------------
flow eni-0ac0ac0ac0ac00011 203.0.113.7 3
expect webhook_delivered "$(tail -c 400 "$T/serve.err")" wait_grep "$T/hook" 'hook-*.json' eni-0ac0ac0ac0ac00011
B=$(grep -lF eni-0ac0ac0ac0ac00011 "$T/hook"/hook-*.json 2>/dev/null | head -1)
expect webhook_envelope "$(head -c 400 "$B")" python3 -c '
import json, re, sys
e = json.load(open(sys.argv[1]))
assert list(e)[:8] == ["version", "id", "detail-type", "source", "account", "time", "region", "resources"], list(e)
assert e["version"] == "0" and e["detail-type"] == "GuardDuty Finding" and e["source"] == "aws.guardduty"
assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", e["id"])
assert e["account"] == "123456789012" and e["resources"] == [] and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", e["time"])
d = e["detail"]
assert d["type"] == "UnauthorizedAccess:EC2/MaliciousIPCaller.Custom" and d["schemaVersion"] == "2.0"
assert d["service"]["count"] == 3 and d["region"] == e["region"]
' "$B"
expect webhook_json_content_type "$(cat "${B%.json}.hdr" 2>/dev/null)" has "${B%.json}.hdr" application/json
expect slack_delivered "$(tail -c 400 "$T/serve.err")" wait_grep "$T/chat" 'slack-*.json' eni-0ac0ac0ac0ac00011
S=$(ls "$T/chat"/slack-*.json 2>/dev/null | head -1)
expect slack_blocks "$(head -c 600 "$S")" python3 -c '
import json, sys
m = json.load(open(sys.argv[1]))
b = m["blocks"]
assert b[0]["type"] == "header" and "Medium" in b[0]["text"]["text"], b[0]
fields = " ".join(f["text"] for blk in b if blk["type"] == "section" for f in blk.get("fields", []))
assert "UnauthorizedAccess:EC2/MaliciousIPCaller.Custom" in fields and "eni-0ac0ac0ac0ac00011" in fields, fields
assert "123456789012 / " in fields and "*Count*\n3" in fields, fields
btn = [e for blk in b if blk["type"] == "actions" for e in blk["elements"]][0]
assert btn["url"].startswith("http://console.example:8600/#/finding/"), btn
assert m["text"].startswith("[mamori] Medium UnauthorizedAccess:EC2/MaliciousIPCaller.Custom on ")
' "$S"
expect email_delivered "$(tail -c 400 "$T/serve.err")" wait_file "$T/mail/mail-1.eml"
expect email_content "$(head -c 600 "$T/mail/mail-1.eml")" python3 -c '
import email, json, sys
m = email.message_from_bytes(open(sys.argv[1], "rb").read())
assert m["Subject"] == "[mamori] Medium UnauthorizedAccess:EC2/MaliciousIPCaller.Custom on eni-0ac0ac0ac0ac00011", m["Subject"]
assert m["From"] == "mamori@example.com" and "soc@example.com" in m["To"]
body = m.get_payload(decode=True).decode()
assert "Count:       3" in body and "/#/finding/" in body
j = json.loads(body.split("The finding (GuardDuty JSON):")[1].strip())
assert j["type"] == "UnauthorizedAccess:EC2/MaliciousIPCaller.Custom"
' "$T/mail/mail-1.eml"
expect email_envelope "$(cat "$T/mail/mail-1.rcpt")" has "$T/mail/mail-1.rcpt" "mamori@example.com -> soc@example.com oncall@example.com"

# --- retries, dead letters ---------------------------------------------------
expect retry_third_attempt "$(cat "$T/hook/attempts.log")" wait_metric '^mamori_notify_sent_total\{sink="retry"\} 1$'
expect retry_500_500_200 "$(grep fail2 "$T/hook/attempts.log")" \
	test "$(grep fail2 "$T/hook/attempts.log" | cut -d' ' -f2 | tr '\n' ' ')" = "500 500 200 "
expect retry_failures_counted "$(grep retry "$T/metrics.txt")" hasE "$T/metrics.txt" '^mamori_notify_failures_total\{sink="retry"\} 2$'
expect dead_letter_metric "$(grep dead "$T/metrics.txt")" wait_metric '^mamori_notify_dead_letters\{sink="dead"\} 1$'
expect dead_two_attempts "$(grep dead "$T/hook/attempts.log")" test "$(grep -c ' 500$' "$T/hook/attempts.log")" -eq 4
sqlite3 "$DB" "SELECT status, attempts, last_error FROM notify_outbox WHERE sink = 'dead'" >"$T/dead.txt" 2>&1
expect dead_letter_row "$(cat "$T/dead.txt")" has "$T/dead.txt" "dead|2|HTTP status 500"
# severity and type filters: the Medium finding is below high-only and not Backdoor:*
expect high_only_nothing "$(ls "$T/hook")" sh -c "! ls '$T/hook'/high-* >/dev/null 2>&1 && ! grep -q '^/high' '$T/hook/attempts.log'"
expect types_filter_nothing "$(ls "$T/hook")" sh -c "! grep -q '^/types' '$T/hook/attempts.log'"
expect metrics_zero_for_filtered "$(grep high-only "$T/metrics.txt")" hasE "$T/metrics.txt" '^mamori_notify_sent_total\{sink="high-only"\} 0$'

# --- an update within the period is held back --------------------------------
flow eni-0ac0ac0ac0ac00011 203.0.113.7 2 10
count_is() { [ "$(sqlite3 "$DB" "SELECT count FROM findings WHERE json LIKE '%$1%' AND type LIKE '%Custom'" 2>/dev/null)" = "$2" ]; }
expect update_stored "$(tail -c 300 "$T/serve.err")" wait_for count_is eni-0ac0ac0ac0ac00011 5
# a new finding after it: once that one is at the webhook, the update's flush was processed
flow eni-0ac0ac0ac0ac00019 203.0.113.8 1
expect second_new_delivered "" wait_grep "$T/hook" 'hook-*.json' eni-0ac0ac0ac0ac00019
expect update_held_back "want one hook body for ...11: $(grep -lF eni-0ac0ac0ac0ac00011 "$T/hook"/hook-*.json)" \
	test "$(grep -lF eni-0ac0ac0ac0ac00011 "$T/hook"/hook-*.json | wc -l)" -eq 1

# --- a suppression rule: archived on arrival, never notified ----------------
gd create-filter --detector-id "$DET" --name scanner --action ARCHIVE --rank 1 \
	--finding-criteria '{"Criterion":{"service.action.networkConnectionAction.remoteIpDetails.ipAddressV4":{"Eq":["198.51.100.66"]}}}' \
	>"$T/cf.json" 2>"$T/aws.err"
expect create_filter "$(cat "$T/aws.err")" has "$T/cf.json" "scanner"
{ flow eni-0ac0ac0ac0ac00012 198.51.100.66 2; flow eni-0ac0ac0ac0ac00013 203.0.113.9 2; }
expect unsuppressed_delivered "" wait_grep "$T/hook" 'hook-*.json' eni-0ac0ac0ac0ac00013
expect mail_for_unsuppressed "" wait_grep "$T/mail" 'mail-*.eml' eni-0ac0ac0ac0ac00013
expect suppressed_not_notified "a sink got the archived finding" \
	sh -c "! grep -rlF eni-0ac0ac0ac0ac00012 '$T/hook' '$T/chat' '$T/mail' >/dev/null"
gd list-findings --detector-id "$DET" --finding-criteria '{"Criterion":{"service.archived":{"Eq":["true"]}}}' >"$T/arch.json" 2>"$T/aws.err"
expect suppressed_is_stored_archived "$(cat "$T/arch.json")" \
	test "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["FindingIds"]))' "$T/arch.json")" -ge 1

# --- kill -9 with a receiver down, restart with it up: exactly once ---------
kill $CP; wait $CP 2>/dev/null
flow eni-0ac0ac0ac0ac00016 203.0.113.7 1
expect pending_while_down "$(grep chat "$T/metrics.txt")" wait_metric '^mamori_notify_failures_total\{sink="chat"\} [1-9]'
expect hook_sent_before_kill "" wait_metric '^mamori_notify_sent_total\{sink="hook"\} 4$'
kill -9 $PID; wait $PID 2>/dev/null
sqlite3 "$DB" "SELECT count(*) FROM notify_outbox WHERE sink = 'chat' AND status = 'pending'" >"$T/pend.txt" 2>&1
expect pending_in_outbox "$(cat "$T/pend.txt")" test "$(cat "$T/pend.txt")" -ge 1
receiver http chat "$CPORT"; CP=$chat_pid
start
expect restart_ready "$(tail -c 300 "$T/serve.err")" test -n "$DET"
expect delivered_after_restart "$(tail -c 400 "$T/serve.err")" wait_grep "$T/chat" 'slack-*.json' eni-0ac0ac0ac0ac00016
expect queue_drained "$(grep queue "$T/metrics.txt")" wait_metric '^mamori_notify_queue_depth\{sink="chat"\} 0$'
expect delivered_exactly_once "$(grep -lF eni-0ac0ac0ac0ac00016 "$T/chat"/slack-*.json)" \
	test "$(grep -lF eni-0ac0ac0ac0ac00016 "$T/chat"/slack-*.json | wc -l)" -eq 1
expect hook_not_resent "$(grep -lF eni-0ac0ac0ac0ac00016 "$T/hook"/hook-*.json)" \
	test "$(grep -lF eni-0ac0ac0ac0ac00016 "$T/hook"/hook-*.json | wc -l)" -eq 1

# --- SIGHUP reloads the serve: section's sinks -------------------------------
# chat's receiver down: its notification of ...21 stays queued; then a
# reload drops chat (that row becomes a dead letter "sink removed"), keeps
# hook and adds hookb, which gets the next finding
kill $CP; wait $CP 2>/dev/null
flow eni-0ac0ac0ac0ac00021 203.0.113.7 1
expect hup_chat_pending "$(grep chat "$T/metrics.txt")" wait_metric '^mamori_notify_queue_depth\{sink="chat"\} [1-9]'
expect hup_hook_before "" wait_grep "$T/hook" 'hook-*.json' eni-0ac0ac0ac0ac00021
cat >"$T/cfg.yaml" <<EOF
serve:
  retry_base_ms: 200
  sinks:
    - {name: hook, type: webhook, url: "http://127.0.0.1:$HPORT/hook"}
    - {name: hookb, type: webhook, url: "http://127.0.0.1:$HPORT/hookb"}
EOF
kill -HUP "$PID"
expect hup_sinks_reloaded "$(tail -c 600 "$T/serve.err")" wait_for grep -q 'reloaded notification sinks (2)' "$T/serve.err"
dead_removed() { [ "$(sqlite3 "$DB" "SELECT status || '|' || last_error FROM notify_outbox WHERE sink = 'chat' AND finding_id IN (SELECT id FROM findings WHERE json LIKE '%eni-0ac0ac0ac0ac00021%')" 2>/dev/null)" = "dead|sink removed" ]; }
expect hup_removed_sink_dead_letter "$(sqlite3 "$DB" "SELECT sink, status, last_error FROM notify_outbox WHERE status <> 'sent'" 2>&1)" wait_for dead_removed
flow eni-0ac0ac0ac0ac00022 203.0.113.7 1
expect hup_new_sink_receives "$(tail -c 400 "$T/serve.err")" wait_grep "$T/hook" 'hookb-*.json' eni-0ac0ac0ac0ac00022
expect hup_kept_sink_continues "" wait_grep "$T/hook" 'hook-*.json' eni-0ac0ac0ac0ac00022
# (>= 1: an added sink is also given the findings of the last flush before the reload)
expect hup_metrics_new_sink "$(metrics | grep hookb)" wait_metric '^mamori_notify_sent_total\{sink="hookb"\} [1-9]'
expect hup_metrics_removed_sink_gone "$(grep chat "$T/metrics.txt")" sh -c "! grep -q 'sink=\"chat\"' '$T/metrics.txt'"
expect hup_still_serving "" metric_is '^mamori_reloads_total\{result="ok"\} [1-9]'
kill "$PID"; wait "$PID" 2>/dev/null

# --- a changed listen address needs a restart: logged, still serving --------
cat >"$T/cfg.yaml" <<EOF
serve:
  listen: 127.0.0.1:0
EOF
rm -f "$T/ready"
"$M" serve --db "$DB" --follow "$T/logs" --poll-ms 200 --config "$T/cfg.yaml" --no-default-lists \
	--ready-file "$T/ready" 2>"$T/serve2.err" &
PID=$!
wait_file "$T/ready"
URL=$(cut -d' ' -f1 "$T/ready" 2>/dev/null)
printf 'serve:\n  listen: 127.0.0.1:1\n' >"$T/cfg.yaml"
kill -HUP "$PID"
expect hup_listen_needs_restart "$(tail -c 400 "$T/serve2.err")" wait_for grep -q 'listen changed: restart to apply' "$T/serve2.err"
expect hup_listen_still_serving "" wait_for metric_is '^mamori_reloads_total\{result="ok"\} 1$'
kill "$PID"; wait "$PID" 2>/dev/null

echo "notify: $pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
