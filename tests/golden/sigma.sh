#!/bin/sh
# sigma.sh MAMORI - `mamori rules check|test` end to end: the repository's
# own rules (tests/data/sigma/rules) load, the broken and unsupported
# examples (tests/data/sigma/bad) are each named with file:line and why,
# the exit status follows the worst verdict, `rules test` prints exactly
# the matching events' file:line from JSON Lines and from a
# {"Records":[...]} file; and, when ../shared/data is present, every
# SigmaHQ CloudTrail rule there loads and a sample fires on the
# repository's events. Ends "sigma: N passed, N failed, N skipped".
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/suite.sh"
SHARED=${MM_SHARED_DATA:-$ROOT/../shared/data}
D=$ROOT/tests/data/sigma
EV="$D/events/events.jsonl"
REC="$D/events/records.json"
cd "$ROOT" || exit 1

# --- check ---------------------------------------------------------------------
"$M" rules check tests/data/sigma/rules >"$T/ok.out" 2>"$T/ok.err"; rc=$?
expect check_own_rules_exit "exit $rc, want 0: $(cat "$T/ok.out" "$T/ok.err")" test $rc -eq 0
expect check_own_rules_all_ok "$(cat "$T/ok.err")" has "$T/ok.err" "^rules: 5 files, 5 rules: 5 ok, 0 unsupported, 0 broken$"
expect check_own_rules_lines "want one 'ok FILE: TITLE' line per rule" \
	sh -c "[ \$(grep -c '^ok tests/data/sigma/rules/.*\.yml: ' '$T/ok.out') -eq 5 ]"

"$M" rules check tests/data/sigma/bad >"$T/bad.out" 2>"$T/bad.err"; rc=$?
expect check_broken_exit_3 "exit $rc, want 3 (a broken rule)" test $rc -eq 3
printf '%s\n' \
	"broken tests/data/sigma/bad/broken_condition.yml:8: condition names 'filter', which is not a selection" \
	"broken tests/data/sigma/bad/broken_correlation_ref.yml:6: correlation names 'console_login_failed', which no loaded rule has as its name or id" \
	"broken tests/data/sigma/bad/broken_modifier.yml:7: unknown modifier 'containz'" \
	"broken tests/data/sigma/bad/broken_yaml.yml:8: YAML: did not find expected key" \
	"unsupported tests/data/sigma/bad/unsupported_correlation.yml:4: correlation type value_avg (Sigma 2.1 metrics): not implemented" \
	"unsupported tests/data/sigma/bad/unsupported_utf16.yml:7: modifier 'wide' is not implemented" \
	"unsupported tests/data/sigma/bad/unsupported_windows.yml:3: logsource product=windows service=- category=process_creation: mamori reads no such events (it reads product aws, service cloudtrail, and product linux)" \
	>"$T/bad.want"
expect check_reasons_exact "got:
$(cat "$T/bad.out")" cmp -s "$T/bad.out" "$T/bad.want"
expect check_summary "$(cat "$T/bad.err")" has "$T/bad.err" "^rules: 7 files, 7 rules: 0 ok, 3 unsupported, 4 broken$"

"$M" rules check tests/data/sigma/bad/unsupported_correlation.yml tests/data/sigma/bad/unsupported_windows.yml \
	>"$T/uns.out" 2>&1; rc=$?
expect check_unsupported_exit_0 "exit $rc, want 0 (unsupported is not an error)" test $rc -eq 0
"$M" rules check -q tests/data/sigma >"$T/q.out" 2>/dev/null
expect check_quiet_hides_ok "$(head -3 "$T/q.out")" sh -c "! grep -q '^ok ' '$T/q.out' && [ \$(wc -l <'$T/q.out') -eq 7 ]"
"$M" rules check "$T/nothing" >/dev/null 2>"$T/none.err"; rc=$?
expect check_missing_dir "exit $rc, want 1: $(cat "$T/none.err")" sh -c "[ $rc -eq 1 ] && grep -q nothing '$T/none.err'"
mkdir "$T/empty"
"$M" rules check "$T/empty" >/dev/null 2>"$T/empty.err"; rc=$?
expect check_no_rules "exit $rc, want 1: $(cat "$T/empty.err")" sh -c "[ $rc -eq 1 ] && grep -q 'no rule files' '$T/empty.err'"
# a symlinked folder inside is not followed: a link back up cannot loop
mkdir -p "$T/loop/a" && cp tests/data/sigma/rules/cloudtrail_stopped.yml "$T/loop/a/" && ln -s .. "$T/loop/a/up"
"$M" rules check "$T/loop" >"$T/loop.out" 2>"$T/loop.err"; rc=$?
expect check_symlink_loop "exit $rc: $(cat "$T/loop.err")" sh -c "[ $rc -eq 0 ] && grep -q '^rules: 1 files, 1 rules: 1 ok' '$T/loop.err'"
"$M" rules check >/dev/null 2>&1; rc=$?
expect check_usage "exit $rc, want 2" test $rc -eq 2
"$M" rules --help >"$T/help" 2>&1; rc=$?
expect help "exit $rc" sh -c "[ $rc -eq 0 ] && grep -q 'rules test' '$T/help' && grep -q 'exit status' '$T/help'"

# --- test: each own rule on the events: exactly the intended lines ---------------
# rules_test NAME RULE WANT: stdout of `rules test RULE events.jsonl records.json`,
# without the attribution each line ends with (checked on its own below)
noattr() { sed 's/ ([^(]*, by [^)]*)$//'; }
rules_test() {
	n=$1; r=$2; want=$3
	"$M" rules test -q "tests/data/sigma/rules/$r" tests/data/sigma/events/events.jsonl \
		tests/data/sigma/events/records.json >"$T/$n.raw" 2>"$T/$n.err"; rc=$?
	noattr <"$T/$n.raw" >"$T/$n.out"
	printf '%s' "$want" >"$T/$n.want"
	[ -n "$want" ] && echo >>"$T/$n.want"
	if [ $rc -eq 0 ] && cmp -s "$T/$n.out" "$T/$n.want"; then ok "$n"; else
		bad "$n" "exit $rc; got:
$(cat "$T/$n.out" "$T/$n.err")
want:
$want"
	fi
}
E=tests/data/sigma/events/events.jsonl
rules_test test_stop_logging cloudtrail_stopped.yml "$E:1: StopLogging 2024-05-01T10:01:00Z
tests/data/sigma/events/records.json:31: StopLogging 2024-05-01T10:01:00Z"
rules_test test_login_without_mfa console_login_without_mfa.yml "$E:3: ConsoleLogin 2024-05-01T10:03:00Z"
rules_test test_fieldref_self own_login_profile_changed.yml "$E:5: UpdateLoginProfile 2024-05-01T10:05:00Z"
rules_test test_base64offset userdata_downloads_script.yml "$E:7: RunInstances 2024-05-01T10:07:00Z"
rules_test test_cidr_re_all pentest_cli_user_creation.yml "$E:9: CreateUser 2024-05-01T10:09:00Z"

"$M" rules test tests/data/sigma/rules/cloudtrail_stopped.yml "$E" >"$T/sum.out" 2>"$T/sum.err"
expect test_names_rule_and_author "DRL: a match names the rule's author: $(cat "$T/sum.out")" \
	has "$T/sum.out" "^$E:1: StopLogging 2024-05-01T10:01:00Z (CloudTrail Logging Stopped Or Trail Deleted, by mamori)$"
expect test_summary "$(cat "$T/sum.err")" has "$T/sum.err" "^rules test: CloudTrail Logging Stopped Or Trail Deleted: 11 events, 1 matched, 0 malformed$"
printf '{"eventName":"StopLogging","eventSource":"cloudtrail.amazonaws.com"}\nnot json\n\n{"eventName":"StopLogging","eventSource":"cloudtrail.amazonaws.com","userIdentity":{"type":"Root"},"eventTime":"2024-05-01T00:00:00Z"}\n' >"$T/mixed.jsonl"
"$M" rules test tests/data/sigma/rules/cloudtrail_stopped.yml "$T/mixed.jsonl" >"$T/mixed.out" 2>"$T/mixed.err"; rc=$?
expect test_malformed_located "exit $rc; $(cat "$T/mixed.out" "$T/mixed.err")" \
	sh -c "[ $rc -eq 0 ] && grep -q 'mixed.jsonl:2: not a JSON object' '$T/mixed.err' && grep -q 'mixed.jsonl:4: StopLogging' '$T/mixed.out'"
# the shapes scan reads: an EventBridge event a line (with a non-CloudTrail
# one skipped) and a pretty lookup-events page (the event a JSON string)
EVT='{"eventVersion":"1.09","userIdentity":{"type":"IAMUser","principalId":"AIDAX","arn":"arn:aws:iam::111122223333:user/x","accountId":"111122223333","accessKeyId":"AKIAX"},"eventTime":"2024-05-01T10:01:00Z","eventSource":"cloudtrail.amazonaws.com","eventName":"StopLogging","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.7","userAgent":"aws-cli/2","requestParameters":{"name":"t"},"responseElements":null,"eventID":"e1","readOnly":false,"eventType":"AwsApiCall","recipientAccountId":"111122223333"}'
{
	echo '{"version":"0","id":"2","detail-type":"EC2 Instance State-change Notification","source":"aws.ec2","account":"111122223333","time":"2024-05-01T10:00:00Z","region":"us-east-1","resources":[],"detail":{"state":"running"}}'
	printf '{"version":"0","id":"1","detail-type":"AWS API Call via CloudTrail","source":"aws.cloudtrail","account":"111122223333","time":"2024-05-01T10:01:00Z","region":"us-east-1","resources":[],"detail":%s}\n' "$EVT"
} >"$T/eb.jsonl"
ESC=$(printf '%s' "$EVT" | sed 's/"/\\"/g')
printf '{\n    "Events": [\n        {\n            "EventId": "e1",\n            "EventName": "StopLogging",\n            "CloudTrailEvent": "%s"\n        }\n    ]\n}\n' "$ESC" >"$T/lookup.json"
"$M" rules test tests/data/sigma/rules/cloudtrail_stopped.yml "$T/eb.jsonl" "$T/lookup.json" >"$T/wrap.out" 2>"$T/wrap.err"; rc=$?
expect test_wrapped_shapes "exit $rc; $(cat "$T/wrap.out" "$T/wrap.err")" \
	sh -c "[ $rc -eq 0 ] && grep -q 'eb.jsonl:2: StopLogging' '$T/wrap.out' && grep -q 'lookup.json:6: StopLogging' '$T/wrap.out' && grep -q ': 2 events, 2 matched, 0 malformed' '$T/wrap.err'"
"$M" rules test tests/data/sigma/bad/broken_condition.yml "$E" >/dev/null 2>"$T/tb.err"; rc=$?
expect test_broken_rule_exit_3 "exit $rc: $(cat "$T/tb.err")" sh -c "[ $rc -eq 3 ] && grep -q 'broken_condition.yml:8' '$T/tb.err'"
"$M" rules test tests/data/sigma/bad/unsupported_windows.yml "$E" >/dev/null 2>"$T/tu.err"; rc=$?
expect test_unsupported_rule_exit_1 "exit $rc: $(cat "$T/tu.err")" sh -c "[ $rc -eq 1 ] && grep -q 'unsupported' '$T/tu.err'"
"$M" rules test tests/data/sigma/rules/cloudtrail_stopped.yml "$T/absent.jsonl" >/dev/null 2>"$T/ta.err"; rc=$?
expect test_missing_events_exit_1 "exit $rc" test $rc -eq 1
"$M" rules test tests/data/sigma/rules/cloudtrail_stopped.yml >/dev/null 2>&1; rc=$?
expect test_usage "exit $rc, want 2" test $rc -eq 2

# --- scan --rules -----------------------------------------------------------------
gnorm() { "$M" findings list --db "$1" --format json | python3 "$HERE/lib/normalise.py"; }
"$M" scan --db "$T/sb.db" --no-default-lists --no-geo --format none --rules tests/data/sigma/rules \
	--rules tests/data/sigma/bad "$E" >"$T/sb.out" 2>"$T/sb.err"; rc=$?
expect scan_broken_rule_exit_2 "exit $rc: $(cat "$T/sb.err")" sh -c "[ $rc -eq 2 ] && \
	grep -qF 'mamori scan: broken Sigma rule: tests/data/sigma/bad/broken_condition.yml:8: condition names' '$T/sb.err' && \
	[ ! -f '$T/sb.db' ] || [ \$(\"$M\" findings list --db '$T/sb.db' --format json | wc -l) -eq 0 ]"
mkdir -p "$T/uns" && cp tests/data/sigma/rules/*.yml tests/data/sigma/bad/unsupported_*.yml "$T/uns/"
"$M" scan --db "$T/su.db" --no-default-lists --no-geo --format none --rules "$T/uns" "$E" >"$T/su.out" 2>"$T/su.err"; rc=$?
expect scan_unsupported_warned_once "exit $rc: $(cat "$T/su.err")" sh -c "[ $rc -eq 0 ] && \
	[ \$(grep -c 'warning: Sigma rule not run: .*unsupported_windows.yml:3: logsource' '$T/su.err') -eq 1 ] && \
	[ \$(grep -c 'warning: Sigma rule not run' '$T/su.err') -eq 3 ] && \
	grep -q 'Sigma rules: 5 run (0 correlations), 3 not run' '$T/su.err'"
expect scan_rules_findings "$(gnorm "$T/su.db")" sh -c "[ \$(\"$M\" findings list --db '$T/su.db' --format json | grep -c '\"type\":\"[A-Za-z]*:IAMUser/SigmaRule\"') -eq 5 ]"
"$M" scan --db "$T/sm.db" --no-default-lists --no-geo --rules "$T/missing" "$E" >/dev/null 2>"$T/sm.err"; rc=$?
expect scan_rules_missing_path "exit $rc: $(cat "$T/sm.err")" sh -c "[ $rc -eq 2 ] && grep -q 'missing' '$T/sm.err'"
# the DRL sample: each bundled SigmaHQ rule fires on its odd line only
for r in tests/data/sigma/drl/*.yml; do
	"$M" rules test -q "$r" tests/data/sigma/drl/events.jsonl 2>&1 | sed 's/ (.*//' >>"$T/drl.out"
done
expect drl_sample_each_rule_its_line "$(cat "$T/drl.out")" sh -c "[ \$(wc -l <'$T/drl.out') -eq 8 ] && \
	[ \"\$(sed 's/.*events.jsonl:\([0-9]*\):.*/\1/' '$T/drl.out' | sort -n | tr '\n' ' ')\" = '1 3 5 7 9 11 13 15 ' ]"
# correlations: two scans (day 1, then day 2) = one scan; 1 thread = 2; a flush per file
C=tests/golden/cases/sigma-correlations-vs-lookalikes
SA="--no-default-lists --no-geo --format none --rules $C/rules"
"$M" scan --db "$T/c1.db" $SA "$C/input" 2>/dev/null
"$M" scan --db "$T/c2.db" $SA "$C/input/day1" 2>/dev/null
"$M" scan --db "$T/c2.db" $SA "$C/input/day2" 2>/dev/null
"$M" scan --db "$T/c3.db" $SA --threads 1 --flush-every 1 "$C/input/day2" "$C/input/day1" 2>/dev/null
gnorm "$T/c1.db" >"$T/c1.n"; gnorm "$T/c2.db" >"$T/c2.n"; gnorm "$T/c3.db" >"$T/c3.n"
expect correlation_two_scans_equal_one "$(diff "$T/c1.n" "$T/c2.n")" sh -c "[ -s '$T/c1.n' ] && cmp -s '$T/c1.n' '$T/c2.n'"
expect correlation_flush_threads_order "$(diff "$T/c1.n" "$T/c3.n")" cmp -s "$T/c1.n" "$T/c3.n"

# a rule finding shows the matched call's details as long as a finding holds
# them (a 200-character user agent), not cut short by the per-rule table a
# worker keeps them in, with one thread or two
LUA=aws-sdk-java/2.21.46$(printf '_%0179d' 0)
printf '%s\n' "$EVT" | sed "s|\"aws-cli/2\"|\"$LUA\"|" >"$T/lua.jsonl"
for t in 1 2; do
	"$M" scan --db "$T/lua$t.db" --no-default-lists --no-geo --format none --threads $t \
		--rules tests/data/sigma/rules/cloudtrail_stopped.yml "$T/lua.jsonl" 2>/dev/null
	"$M" findings list --db "$T/lua$t.db" --format json >"$T/lua$t.json"
done
expect scan_rule_finding_keeps_long_user_agent "$(grep SigmaRule "$T/lua2.json" | grep -o '"userAgent":"[^"]*"')" sh -c \
	"[ ${#LUA} -eq 200 ] && grep SigmaRule '$T/lua1.json' | grep -qF '\"userAgent\":\"$LUA\"' && \
	grep SigmaRule '$T/lua2.json' | grep -qF '\"userAgent\":\"$LUA\"'"

# --- the shared SigmaHQ CloudTrail rules ----------------------------------------
# --- Linux rules (host events): the repository's sample all load ------------------
"$M" rules check tests/data/sigma/linux >"$T/lxo.out" 2>"$T/lxo.err"; rc=$?
expect check_linux_rules_ok "exit $rc: $(cat "$T/lxo.out" "$T/lxo.err")" sh -c "[ $rc -eq 0 ] && \
	grep -q '^rules: 7 files, 7 rules: 7 ok, 0 unsupported, 0 broken\$' '$T/lxo.err'"
# rules test on host events: syslog lines (RFC 3339 stamps) and host-event JSON lines
LX=tests/data/sigma/linux
: >"$T/lxt.out"
for r in lnx_cron_crontab_file_modification lnx_shell_susp_rev_shells proc_creation_lnx_crontab_removal \
	net_connection_lnx_susp_malware_callback_port file_event_lnx_persistence_sudoers_files lnx_sshd_susp_ssh; do
	"$M" rules test -q "$LX/$r.yml" "$LX/events/auth.log" "$LX/events/web1.hostevents.jsonl" 2>&1 | sed 's/ (.*//' >>"$T/lxt.out"
done
printf '%s\n' \
	"$LX/events/auth.log:1: crontab 2026-12-05T22:48:54Z web1" \
	"$LX/events/auth.log:4: sudo 2026-12-05T22:51:00Z web1" \
	"$LX/events/auth.log:5: sudo 2026-12-05T22:51:30Z web1" \
	"$LX/events/web1.hostevents.jsonl:1: proc 2026-12-05T22:53:00Z web1" \
	"$LX/events/web1.hostevents.jsonl:3: sock 2026-12-05T22:53:02Z web1" \
	"$LX/events/web1.hostevents.jsonl:5: file 2026-12-05T22:53:04Z web1" >"$T/lxt.want"
expect test_linux_rules_host_events "got:
$(cat "$T/lxt.out")" cmp -s "$T/lxt.out" "$T/lxt.want"
"$M" rules test "$LX/proc_creation_lnx_crontab_removal.yml" "$LX/events/web1.hostevents.jsonl" 2>"$T/lxt.err" >/dev/null
expect test_linux_summary "$(cat "$T/lxt.err")" has "$T/lxt.err" "6 events, 1 matched, 0 malformed$"
# a scan with the Linux rules: Runtime findings on the host, the process from the event
"$M" scan --db "$T/lx.db" --no-default-lists --no-geo --format json --rules "$LX" \
	"$LX/events/auth.log" "$LX/events/web1.hostevents.jsonl" >"$T/lxs.json" 2>"$T/lxs.err"; rc=$?
expect scan_linux_rules_run "exit $rc: $(cat "$T/lxs.err")" sh -c "[ $rc -eq 0 ] && grep -q 'Sigma rules: 7 run (0 correlations), 0 not run' '$T/lxs.err'"
expect scan_linux_runtime_finding "$(grep -o '"type":"[^"]*SigmaRule"' "$T/lxs.json" | sort | uniq -c)" sh -c \
	"[ \$(grep -o '\"type\":\"[A-Za-z]*:Runtime/SigmaRule\"' '$T/lxs.json' | wc -l) -eq 6 ] && \
	grep -q '\"executablePath\":\"/tmp/.gitlab/kthreaddw\"' '$T/lxs.json' && \
	grep -q '\"commandLineExample\":\"/usr/bin/crontab -r -u git\"' '$T/lxs.json' && \
	! grep -q 'IAMUser/SigmaRule' '$T/lxs.json'"

# --- Linux keyword rules on generic log lines (programs mamori has no parser for)
LL=tests/data/sigma/linux-lines
"$M" rules check "$LL" >"$T/ll.out" 2>"$T/ll.err"; rc=$?
expect check_line_rules_ok "exit $rc: $(cat "$T/ll.out" "$T/ll.err")" sh -c "[ $rc -eq 0 ] && \
	grep -q '^rules: 3 files, 3 rules: 3 ok, 0 unsupported, 0 broken\$' '$T/ll.err'"
: >"$T/llt.out"
for r in lnx_syslog_susp_named lnx_vsftpd_susp_error_messages lnx_buffer_overflows; do
	"$M" rules test -q "$LL/$r.yml" "$LL/events/syslog" "$LL/events/web1.hostevents.jsonl" 2>&1 | sed 's/ (.*//' >>"$T/llt.out"
done
# positives: named's AXFR denial, vsftpd's error (a syslog line and an agent
# spool "line" record), a stack smash from any program; negatives: a named
# query naming AXFR, the vsftpd words from nginx, a vsftpd login, a spool
# line with other words, "stack usage", an sshd login failure
printf '%s\n' \
	"$LL/events/syslog:1: line 2026-12-05T22:48:54Z web1" \
	"$LL/events/syslog:3: line 2026-12-05T22:49:10Z web1" \
	"$LL/events/web1.hostevents.jsonl:1: line 2026-12-05T22:50:00Z web1" \
	"$LL/events/syslog:6: line 2026-12-05T22:49:30Z web1" >"$T/llt.want"
expect test_line_rules_keywords "got:
$(cat "$T/llt.out")" cmp -s "$T/llt.out" "$T/llt.want"
"$M" scan --db "$T/ll.db" --no-default-lists --no-geo --format json --rules "$LL" \
	"$LL/events/syslog" "$LL/events/web1.hostevents.jsonl" >"$T/lls.json" 2>"$T/lls.err"; rc=$?
# (the vsftpd finding shows the process of its latest record, 22:50:01:
# pid 2202, whichever flush merged it)
expect scan_line_rules_findings "exit $rc: $(cat "$T/lls.err"; grep -o '"name":"[a-z]*","executablePath"' "$T/lls.json")" sh -c "[ $rc -eq 0 ] && \
	grep -q '10 host events, 0 lines skipped' '$T/lls.err' && \
	[ \$(grep -c 'Runtime/SigmaRule' '$T/lls.json') -eq 3 ] && \
	grep -q '\"name\":\"vsftpd\",\"executablePath\":\"\",\"pid\":2202' '$T/lls.json' && \
	grep -q '\"name\":\"named\"' '$T/lls.json' && grep -q '\"name\":\"backup\"' '$T/lls.json' && \
	! grep -q '\"name\":\"nginx\"' '$T/lls.json'"

AWS=$SHARED/sigma/rules/cloud/aws
if [ -d "$AWS" ]; then
	"$M" rules check "$AWS" >"$T/aws.out" 2>"$T/aws.err"; rc=$?
	naws=$(find "$AWS" -name '*.yml' | wc -l | tr -d ' ')
	expect shared_aws_all_load "exit $rc; $(cat "$T/aws.err"); $(grep -v '^ok' "$T/aws.out" | head -5)" \
		sh -c "[ $rc -eq 0 ] && grep -q '^rules: $naws files, $naws rules: $naws ok, 0 unsupported, 0 broken\$' '$T/aws.err'"
	# a sample on the repository's events: the matches and only them
	S=$AWS/cloudtrail
	"$M" rules test -q "$S/aws_cloudtrail_disable_logging.yml" "$E" 2>&1 | noattr >"$T/s1.out"
	expect shared_disable_logging "$(cat "$T/s1.out")" sh -c "[ \"\$(cat '$T/s1.out')\" = '$E:1: StopLogging 2024-05-01T10:01:00Z' ]"
	"$M" rules test -q "$S/aws_cloudtrail_console_login_success_without_mfa.yml" "$E" 2>&1 | noattr >"$T/s2.out"
	expect shared_login_without_mfa "$(cat "$T/s2.out")" sh -c "[ \"\$(cat '$T/s2.out')\" = '$E:3: ConsoleLogin 2024-05-01T10:03:00Z' ]"
	"$M" rules test -q "$S/aws_cloudtrail_imds_malicious_usage.yml" "$E" >"$T/s3.out" 2>&1
	expect shared_imds_no_match "$(cat "$T/s3.out")" test ! -s "$T/s3.out"
	"$M" scan --db "$T/sh.db" --no-default-lists --no-geo --format none --rules "$AWS" "$E" >/dev/null 2>"$T/sh.err"; rc=$?
	expect shared_aws_scan_all_run "exit $rc: $(cat "$T/sh.err")" sh -c "[ $rc -eq 0 ] && \
		grep -q 'Sigma rules: $naws run (0 correlations), 0 not run' '$T/sh.err' && ! grep -q warning '$T/sh.err'"
	# Linux rules on host events: 153 load (vsftpd, clamav and guacamole read
	# their programs' generic log lines); auditd (53) and 4 PCRE-only regexes
	# are named with why
	"$M" rules check -q "$SHARED/sigma/rules/linux" >"$T/lx.out" 2>"$T/lx.err"; rc=$?
	expect shared_linux_counts "exit $rc; $(cat "$T/lx.err")" sh -c "[ $rc -eq 0 ] && \
		grep -q '^rules: 210 files, 210 rules: 153 ok, 57 unsupported, 0 broken\$' '$T/lx.err'"
	expect shared_linux_unsupported_why "$(head -3 "$T/lx.out")" sh -c "[ \$(grep -c 'service=auditd: mamori does not read the audit log' '$T/lx.out') -eq 53 ] && \
		[ \$(grep -c 'regex' '$T/lx.out') -eq 4 ] && ! grep -q 'service=vsftpd' '$T/lx.out'"
	# the whole shared set (Linux, network too): nothing is broken, all reported
	"$M" rules check -q "$SHARED/sigma/rules" >"$T/all.out" 2>"$T/all.err"; rc=$?
	expect shared_all_reported "exit $rc; $(cat "$T/all.err")" \
		sh -c "[ $rc -eq 0 ] && [ \$(wc -l <'$T/all.out') -eq \$(grep -Eo '[0-9]+ unsupported' '$T/all.err' | cut -d' ' -f1) ]"
else
	skipped shared_aws_rules "$AWS absent"
fi

echo "sigma: $pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
