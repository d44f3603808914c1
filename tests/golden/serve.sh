#!/bin/sh
# serve.sh MAMORI - `mamori serve` end to end, driven by the real AWS CLI
# (Debian's awscli) over 127.0.0.1: a key from `mamori keys create`, log
# lines appended to a followed folder become findings that list-findings
# and get-findings return; unsigned and wrongly signed requests get 403;
# archive/unarchive, statistics, feedback; a filter with action ARCHIVE
# (a suppression rule) archives matching new findings as they arrive;
# kill -9 then restart loses nothing and counts nothing twice.
# Ends "serve: N passed, N failed".
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/suite.sh"

if ! command -v aws >/dev/null 2>&1; then
	bad awscli "the aws command (Debian package awscli) is missing: run scripts/deps.sh"
	# --- stdin: lines piped into the daemon ---------------------------------------
{ echo "$HDR"; flow_line eni-0ac0ac0ac0ac00031 203.0.113.11 $T0; } >"$T/stdin.log"
"$M" serve --db "$T/s.db" --listen 127.0.0.1:0 --stdin --poll-ms 200 --no-default-lists \
	--threat-list "custom=$T/custom.txt" <"$T/stdin.log" 2>"$T/stdin.err" &
SPID=$!
n=0; while [ $n -lt 100 ] && [ "$("$M" findings list --db "$T/s.db" --format json 2>/dev/null | grep -c eni-0ac0ac0ac0ac00031)" -lt 1 ]; do sleep 0.2; n=$((n + 1)); done
expect stdin_source "$(tail -c 300 "$T/stdin.err")" \
	test "$("$M" findings list --db "$T/s.db" --format json | grep -c eni-0ac0ac0ac0ac00031)" -eq 1
kill $SPID; wait $SPID 2>/dev/null

echo "serve: $pass passed, $fail failed, $skip skipped"
	exit 1
fi
# the CLI reads nothing of the user's: no config, no credentials files,
# no instance metadata, no pager
export HOME="$T/home" AWS_CONFIG_FILE="$T/none" AWS_SHARED_CREDENTIALS_FILE="$T/none"
export AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true AWS_PAGER=""
mkdir -p "$HOME" "$T/logs"
DB="$T/m.db"
printf '# custom list\n203.0.113.0/28\n198.51.100.66\n' >"$T/custom.txt"
HDR='version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status'
# flow NAME ENI REMOTE N START: N accepted inbound records from REMOTE, one a minute
flow_line() { # ENI REMOTE START: one accepted inbound record
	echo "2 123456789012 $1 $2 10.0.2.10 40000 22 6 10 840 $3 $(($3 + 60)) ACCEPT OK"
}
flow() {
	i=0
	while [ $i -lt "$4" ]; do
		s=$(($5 + 60 * i))
		echo "2 123456789012 $2 $3 10.0.2.10 $((40000 + i)) 22 6 10 840 $s $((s + 60)) ACCEPT OK"
		i=$((i + 1))
	done >>"$T/logs/$1"
}

"$M" keys create ci --db "$DB" >"$T/key.env" 2>"$T/key.err"; rc=$?
expect keys_create "exit $rc: $(cat "$T/key.err")" test $rc -eq 0
expect keys_create_two_lines "want AWS_ACCESS_KEY_ID=/AWS_SECRET_ACCESS_KEY= lines: $(cat "$T/key.env")" \
	test "$(grep -c '^AWS_ACCESS_KEY_ID=AKIA[A-Z2-7]\{16\}$\|^AWS_SECRET_ACCESS_KEY=.\{40\}$' "$T/key.env")" -eq 2
set -a; . "$T/key.env"; set +a

start() {
	rm -f "$T/ready"
	"$M" serve --db "$DB" --listen 127.0.0.1:0 --follow "$T/logs" --poll-ms 200 $CONFIG \
		--no-default-lists --threat-list "custom=$T/custom.txt" --ready-file "$T/ready" \
		2>>"$T/serve.err" &
	PID=$!
	n=0
	while [ ! -s "$T/ready" ] && [ $n -lt 100 ] && kill -0 $PID 2>/dev/null; do sleep 0.1; n=$((n + 1)); done
	URL=$(cut -d' ' -f1 "$T/ready" 2>/dev/null)
	DET=$(cut -d' ' -f2 "$T/ready" 2>/dev/null)
}
stop() { kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; }
trap 'kill $PID 2>/dev/null; chmod -R u+rwx "$T" 2>/dev/null; rm -rf "$T"' EXIT
gd() { timeout 60 aws guardduty --endpoint-url "$URL" --output json "$@"; }
# wait_ids CRITERIA N: until list-findings with CRITERIA returns >= N ids (20 s at most)
wait_ids() {
	w=0
	while [ $w -lt 100 ]; do
		gd list-findings --detector-id "$DET" --finding-criteria "$1" >"$T/ids.json" 2>"$T/aws.err"
		if [ "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["FindingIds"]))' "$T/ids.json" 2>/dev/null || echo 0)" -ge "$2" ]; then
			return 0
		fi
		sleep 0.2; w=$((w + 1))
	done
	return 1
}
field() { # FILE PYEXPR on the parsed JSON as j
	python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print($2)" "$1"
}

echo "$HDR" >"$T/logs/a.log"
start
expect serve_ready "no ready file; stderr: $(tail -c 400 "$T/serve.err")" test -n "$DET"
expect serve_detector_id "detector id '$DET' is not 32 hex" \
	sh -c "echo '$DET' | grep -Eq '^[0-9a-f]{32}$'"

gd list-detectors >"$T/det.json" 2>"$T/aws.err"
expect list_detectors "$(cat "$T/aws.err")" sh -c "grep -q '$DET' '$T/det.json'"

# --- unsigned and wrongly signed requests -----------------------------------
gd list-findings --detector-id "$DET" --no-sign-request >"$T/o" 2>"$T/unsigned.err"; rc=$?
expect unsigned_refused "exit $rc: $(cat "$T/unsigned.err")" test $rc -ne 0
expect unsigned_403_shape "want MissingAuthenticationToken: $(cat "$T/unsigned.err")" \
	has "$T/unsigned.err" "MissingAuthenticationToken"
AWS_SECRET_ACCESS_KEY=wrongwrongwrongwrongwrongwrongwrongwrong0 \
	gd list-findings --detector-id "$DET" >"$T/o" 2>"$T/wrong.err"; rc=$?
expect wrong_secret_refused "exit $rc: $(cat "$T/wrong.err")" has "$T/wrong.err" "InvalidSignature"
AWS_ACCESS_KEY_ID=AKIAAAAAAAAAAAAAAAAA gd list-findings --detector-id "$DET" >"$T/o" 2>"$T/unk.err"
expect unknown_key_refused "$(cat "$T/unk.err")" has "$T/unk.err" "UnrecognizedClient"
gd list-findings --detector-id 0123456789abcdef0123456789abcdef >"$T/o" 2>"$T/baddet.err"
expect other_detector_400 "$(cat "$T/baddet.err")" has "$T/baddet.err" "BadRequestException"

# --- a record appended to a followed file becomes a finding ----------------
T0=1714557600
flow a.log eni-0ac0ac0ac0ac00011 203.0.113.7 3 $T0
expect appended_found "no finding within 20 s: $(cat "$T/aws.err") $(tail -c 300 "$T/serve.err")" \
	wait_ids '{"Criterion":{"type":{"Eq":["UnauthorizedAccess:EC2/MaliciousIPCaller.Custom"]}}}' 1
ID=$(field "$T/ids.json" 'j["FindingIds"][0]')
gd get-findings --detector-id "$DET" --finding-ids "$ID" >"$T/get.json" 2>"$T/aws.err"
expect get_findings_shape "$(cat "$T/aws.err") $(head -c 300 "$T/get.json")" \
	test "$(field "$T/get.json" 'j["Findings"][0]["SchemaVersion"], j["Findings"][0]["Type"], j["Findings"][0]["Service"]["Count"]')" = \
	"2.0 UnauthorizedAccess:EC2/MaliciousIPCaller.Custom 3"
gd list-findings --detector-id "$DET" --finding-criteria '{"Criterion":{"severity":{"Gte":9}}}' >"$T/hi.json"
expect criteria_excludes "severity >= 9 should list none: $(cat "$T/hi.json")" \
	test "$(field "$T/hi.json" 'len(j["FindingIds"])')" = 0

# --- archive, unarchive, statistics, feedback ------------------------------
gd archive-findings --detector-id "$DET" --finding-ids "$ID" 2>"$T/aws.err"
expect archive "$(cat "$T/aws.err")" wait_ids '{"Criterion":{"service.archived":{"Eq":["true"]}}}' 1
gd get-findings --detector-id "$DET" --finding-ids "$ID" >"$T/get.json"
expect archived_in_json "$(head -c 300 "$T/get.json")" test "$(field "$T/get.json" 'j["Findings"][0]["Service"]["Archived"]')" = True
"$M" findings list --db "$DB" --format json >"$T/list.json" 2>&1
expect archived_hidden_from_cli_list "findings list shows an archived finding" sh -c "! grep -q '$ID' '$T/list.json'"
gd unarchive-findings --detector-id "$DET" --finding-ids "$ID" 2>"$T/aws.err"
gd get-findings --detector-id "$DET" --finding-ids "$ID" >"$T/get.json"
expect unarchive "$(cat "$T/aws.err")" test "$(field "$T/get.json" 'j["Findings"][0]["Service"]["Archived"]')" = False
gd get-findings-statistics --detector-id "$DET" --finding-statistic-types COUNT_BY_SEVERITY >"$T/st.json" 2>"$T/aws.err"
expect statistics "$(cat "$T/aws.err") $(cat "$T/st.json")" \
	test "$(field "$T/st.json" 'sum(j["FindingStatistics"]["CountBySeverity"].values())')" -ge 1
gd update-findings-feedback --detector-id "$DET" --finding-ids "$ID" --feedback USEFUL --comments "seen" 2>"$T/aws.err"; rc=$?
expect feedback "exit $rc: $(cat "$T/aws.err")" test $rc -eq 0

# --- a read-only key: reads yes, writes 403 AccessDeniedException ------------
"$M" keys create reader --read-only --db "$DB" >"$T/ro.env" 2>"$T/key.err"; rc=$?
expect keys_create_read_only "exit $rc: $(cat "$T/key.err")" test $rc -eq 0
"$M" keys list --db "$DB" --format json >"$T/keys.json" 2>&1
expect keys_list_read_only "$(cat "$T/keys.json")" sh -c "grep '\"name\":\"reader\"' '$T/keys.json' | grep -q '\"readOnly\":true' && grep '\"name\":\"ci\"' '$T/keys.json' | grep -q '\"readOnly\":false'"
ro() { (set -a; . "$T/ro.env"; set +a; gd "$@"); }
ro get-findings --detector-id "$DET" --finding-ids "$ID" >"$T/ro-get.json" 2>"$T/aws.err"; rc=$?
expect read_only_key_reads "exit $rc: $(cat "$T/aws.err")" test $rc -eq 0 -a "$(field "$T/ro-get.json" 'len(j["Findings"])')" = 1
ro list-findings --detector-id "$DET" >/dev/null 2>"$T/aws.err"; rc=$?
expect read_only_key_lists "exit $rc: $(cat "$T/aws.err")" test $rc -eq 0
ro archive-findings --detector-id "$DET" --finding-ids "$ID" >/dev/null 2>"$T/aws.err"; rc=$?
expect read_only_key_archive_denied "exit $rc: $(cat "$T/aws.err")" \
	sh -c "[ $rc -ne 0 ] && grep -q 'AccessDeniedException' '$T/aws.err' && grep -q 'read-only' '$T/aws.err'"
ro create-filter --detector-id "$DET" --name ro-rule --action ARCHIVE \
	--finding-criteria '{"Criterion":{"type":{"Eq":["x"]}}}' >/dev/null 2>"$T/aws.err"; rc=$?
expect read_only_key_filter_denied "exit $rc: $(cat "$T/aws.err")" \
	sh -c "[ $rc -ne 0 ] && grep -q 'AccessDeniedException' '$T/aws.err'"
gd get-findings --detector-id "$DET" --finding-ids "$ID" >"$T/get.json"
expect read_only_key_changed_nothing "$(head -c 300 "$T/get.json")" test "$(field "$T/get.json" 'j["Findings"][0]["Service"]["Archived"]')" = False

# --- a suppression rule archives matching new findings on arrival ----------
gd create-filter --detector-id "$DET" --name scanner-range --action ARCHIVE --rank 1 \
	--finding-criteria '{"Criterion":{"service.action.networkConnectionAction.remoteIpDetails.ipAddressV4":{"Eq":["198.51.100.66"]}}}' \
	>"$T/cf.json" 2>"$T/aws.err"
expect create_filter "$(cat "$T/aws.err")" has "$T/cf.json" "scanner-range"
gd list-filters --detector-id "$DET" >"$T/lf.json"
expect list_filters "$(cat "$T/lf.json")" has "$T/lf.json" "scanner-range"
gd get-filter --detector-id "$DET" --filter-name scanner-range >"$T/gf.json" 2>"$T/aws.err"
expect get_filter "$(cat "$T/aws.err") $(cat "$T/gf.json")" test "$(field "$T/gf.json" 'j["Action"]')" = ARCHIVE
gd create-filter --detector-id "$DET" --name scanner-range --action ARCHIVE \
	--finding-criteria '{"Criterion":{}}' >/dev/null 2>"$T/dup.err"
expect create_filter_twice_400 "$(cat "$T/dup.err")" has "$T/dup.err" "BadRequestException"
flow a.log eni-0ac0ac0ac0ac00012 198.51.100.66 2 $T0
flow a.log eni-0ac0ac0ac0ac00013 203.0.113.9 2 $T0
expect suppressed_stored_archived "$(tail -c 300 "$T/serve.err")" \
	wait_ids '{"Criterion":{"service.archived":{"Eq":["true"]},"resource.instanceDetails.networkInterfaces.networkInterfaceId":{"Eq":["eni-0ac0ac0ac0ac00012"]}}}' 1
wait_ids '{"Criterion":{"service.archived":{"Eq":["false"]}}}' 2
expect unsuppressed_not_archived "want the .13 finding active and the .12 one not: $(cat "$T/ids.json")" \
	test "$(field "$T/ids.json" 'len(j["FindingIds"])')" = 2
# many at once: a flush of 64 findings or more goes through the pipelined
# writer (rendering and the store's criteria columns on its own thread);
# the rule archives those too, and the columns are the archived JSON's
i=0
while [ $i -lt 70 ]; do
	flow_line "eni-0ac0ac0ac0ac1$(printf '%04d' $i)" 198.51.100.66 $T0
	i=$((i + 1))
done >"$T/batch.log"
cat "$T/batch.log" >>"$T/logs/a.log"	# one write: one flush
expect suppressed_batch_archived "$(tail -c 300 "$T/serve.err")" \
	wait_ids '{"Criterion":{"service.archived":{"Eq":["true"]}}}' 71
n=$(jcols_differ "$DB")
a=$(sqlite3 "$DB" "SELECT count(*) FROM findings WHERE archived = 1 AND json_extract(json, '\$.service.archived') = 1" 2>&1)
expect suppressed_batch_columns_match_json "$n rows differ; $a archived in the JSON" sh -c "[ '$n' = 0 ] && [ '$a' -ge 71 ]"
gd delete-filter --detector-id "$DET" --filter-name scanner-range 2>"$T/aws.err"; rc=$?
expect delete_filter "exit $rc: $(cat "$T/aws.err")" test $rc -eq 0

# --- threat intel sets and IP sets through the API --------------------------
printf '# ops blocklist\n192.0.2.77\n' >"$T/tis.txt"
printf '203.0.113.10\n' >"$T/trusted.txt"
gd create-threat-intel-set --detector-id "$DET" --name ops-blocklist --format TXT \
	--location "$T/tis.txt" --activate >"$T/tis.json" 2>"$T/aws.err"
TID=$(field "$T/tis.json" 'j["ThreatIntelSetId"]' 2>/dev/null)
expect create_threat_intel_set "$(cat "$T/aws.err")" test -n "$TID"
gd get-threat-intel-set --detector-id "$DET" --threat-intel-set-id "$TID" >"$T/gtis.json" 2>"$T/aws.err"
expect threat_intel_set_active "$(cat "$T/aws.err") $(cat "$T/gtis.json")" \
	test "$(field "$T/gtis.json" 'j["Status"], j["Format"], j["Name"]')" = "ACTIVE TXT ops-blocklist"
gd list-threat-intel-sets --detector-id "$DET" >"$T/ltis.json"
expect list_threat_intel_sets "$(cat "$T/ltis.json")" has "$T/ltis.json" "$TID"
gd create-ip-set --detector-id "$DET" --name office --format TXT --location "file://$T/trusted.txt" \
	--activate >"$T/ips.json" 2>"$T/aws.err"
expect create_ip_set "$(cat "$T/aws.err")" has "$T/ips.json" "IpSetId"
gd create-threat-intel-set --detector-id "$DET" --name from-s3 --format TXT \
	--location s3://bucket/list.txt --activate >"$T/s3.json" 2>"$T/aws.err"
S3ID=$(field "$T/s3.json" 'j["ThreatIntelSetId"]' 2>/dev/null)
gd get-threat-intel-set --detector-id "$DET" --threat-intel-set-id "$S3ID" >"$T/gs3.json" 2>/dev/null
expect unreadable_location_error_status "$(cat "$T/gs3.json")" test "$(field "$T/gs3.json" 'j["Status"]')" = ERROR
# the trusted address (also on the custom list) and the set's address, in one write
{ flow_line eni-0ac0ac0ac0ac00015 203.0.113.10 $T0; flow_line eni-0ac0ac0ac0ac00014 192.0.2.77 $T0; } >>"$T/logs/a.log"
expect threat_set_hit "$(tail -c 300 "$T/serve.err")" \
	wait_ids '{"Criterion":{"resource.instanceDetails.networkInterfaces.networkInterfaceId":{"Eq":["eni-0ac0ac0ac0ac00014"]}}}' 1
gd get-findings --detector-id "$DET" --finding-ids "$(field "$T/ids.json" 'j["FindingIds"][0]')" >"$T/get.json"
expect threat_set_named "$(head -c 400 "$T/get.json")" has "$T/get.json" '"ThreatListName": "ops-blocklist"'
gd list-findings --detector-id "$DET" --finding-criteria \
	'{"Criterion":{"resource.instanceDetails.networkInterfaces.networkInterfaceId":{"Eq":["eni-0ac0ac0ac0ac00015"]}}}' >"$T/tr.json"
expect ip_set_trusted "the trusted address made a finding: $(cat "$T/tr.json")" \
	test "$(field "$T/tr.json" 'len(j["FindingIds"])')" = 0
gd delete-threat-intel-set --detector-id "$DET" --threat-intel-set-id "$S3ID" 2>"$T/aws.err"; rc=$?
expect delete_threat_intel_set "exit $rc: $(cat "$T/aws.err")" test $rc -eq 0

# --- sample findings ---------------------------------------------------------
gd create-sample-findings --detector-id "$DET" --finding-types 'Backdoor:EC2/C&CActivity.B' \
	'Policy:IAMUser/RootCredentialUsage' 2>"$T/aws.err"; rc=$?
expect create_sample_findings "exit $rc: $(cat "$T/aws.err")" test $rc -eq 0
expect samples_listed "$(cat "$T/ids.json")" wait_ids '{"Criterion":{"service.additionalInfo.sample":{"Eq":["true"]}}}' 2
gd get-findings --detector-id "$DET" --finding-ids $(field "$T/ids.json" '" ".join(j["FindingIds"])') >"$T/samp.json"
expect samples_typed "$(head -c 300 "$T/samp.json")" \
	test "$(field "$T/samp.json" '" ".join(sorted(f["Type"] for f in j["Findings"]))')" = "Backdoor:EC2/C&CActivity.B Policy:IAMUser/RootCredentialUsage"
gd create-sample-findings --detector-id "$DET" --finding-types 'Nope:EC2/NoSuchType' >/dev/null 2>"$T/st.err"
expect sample_unknown_type_400 "$(cat "$T/st.err")" has "$T/st.err" "BadRequestException"

# --- pagination and sorting: the CLI follows nextToken page by page -----------
gd list-findings --detector-id "$DET" >"$T/all.json"
gd list-findings --detector-id "$DET" --page-size 1 >"$T/paged.json" 2>"$T/aws.err"
expect paginated_same_ids "$(cat "$T/aws.err") $(cat "$T/paged.json")" \
	test "$(field "$T/paged.json" 'sorted(j["FindingIds"])')" = "$(field "$T/all.json" 'sorted(j["FindingIds"])')"
gd list-findings --detector-id "$DET" --sort-criteria AttributeName=severity,OrderBy=ASC >"$T/asc.json"
gd get-findings --detector-id "$DET" --finding-ids $(field "$T/asc.json" '" ".join(j["FindingIds"][:50])') >"$T/ascf.json"
expect sorted_by_severity "$(field "$T/ascf.json" '[f["Severity"] for f in j["Findings"]]')" \
	field "$T/ascf.json" 'exit(0 if [f["Severity"] for f in j["Findings"]] == sorted(f["Severity"] for f in j["Findings"]) and len(j["Findings"]) > 2 else 1)'

# --- keyset pages sorted by severity; statistics groupBy; clientToken ---------
gd list-findings --detector-id "$DET" --sort-criteria AttributeName=severity,OrderBy=DESC >"$T/desc.json"
gd list-findings --detector-id "$DET" --sort-criteria AttributeName=severity,OrderBy=DESC --page-size 1 \
	>"$T/descp.json" 2>"$T/aws.err"
expect keyset_pages_same_order "$(cat "$T/aws.err") $(cat "$T/descp.json")" \
	test "$(field "$T/descp.json" 'j["FindingIds"]')" = "$(field "$T/desc.json" 'j["FindingIds"]')"
gd get-findings-statistics --detector-id "$DET" --group-by FINDING_TYPE --order-by DESC --max-results 5 \
	>"$T/gbt.json" 2>"$T/aws.err"
expect stats_group_by_type "$(cat "$T/aws.err") $(cat "$T/gbt.json")" \
	field "$T/gbt.json" 'exit(0 if j["FindingStatistics"]["GroupedByFindingType"] and all(g["TotalFindings"] >= 1 and ":" in g["FindingType"] and g["LastGeneratedAt"] > 1.5e9 for g in j["FindingStatistics"]["GroupedByFindingType"]) else 1)'
gd get-findings-statistics --detector-id "$DET" --group-by SEVERITY >"$T/gbs.json" 2>"$T/aws.err"
expect stats_group_by_severity_total "$(cat "$T/aws.err") $(cat "$T/gbs.json")" \
	test "$(field "$T/gbs.json" 'sum(g["TotalFindings"] for g in j["FindingStatistics"]["GroupedBySeverity"])')" = \
	"$(field "$T/all.json" 'len(j["FindingIds"])')"
gd get-findings-statistics --detector-id "$DET" --group-by RESOURCE --finding-criteria '{"Criterion":{"severity":{"Gte":1}}}' \
	>"$T/gbr.json" 2>"$T/aws.err"
expect stats_group_by_resource "$(cat "$T/aws.err") $(cat "$T/gbr.json")" \
	field "$T/gbr.json" 'exit(0 if all(g["ResourceId"] and g["ResourceType"] for g in j["FindingStatistics"]["GroupedByResource"]) else 1)'
gd get-findings-statistics --detector-id "$DET" --group-by DATE >"$T/gbd.json" 2>"$T/aws.err"
expect stats_group_by_date "$(cat "$T/aws.err") $(cat "$T/gbd.json")" \
	field "$T/gbd.json" 'exit(0 if j["FindingStatistics"]["GroupedByDate"][0]["Date"] % 86400 == 0 else 1)'
gd get-findings-statistics --detector-id "$DET" --group-by ACCOUNT >"$T/gba.json" 2>"$T/aws.err"
expect stats_group_by_account "$(cat "$T/aws.err") $(cat "$T/gba.json")" \
	test "$(field "$T/gba.json" 'j["FindingStatistics"]["GroupedByAccount"][0]["AccountId"]')" = 123456789012
gd create-filter --detector-id "$DET" --name idem-one --action NOOP --client-token tok-abc \
	--finding-criteria '{"Criterion":{"severity":{"Gte":8}}}' >"$T/i1.json" 2>"$T/aws.err"
gd create-filter --detector-id "$DET" --name idem-one --action NOOP --client-token tok-abc \
	--finding-criteria '{"Criterion":{"severity":{"Gte":8}}}' >"$T/i2.json" 2>>"$T/aws.err"
expect client_token_same_answer "$(cat "$T/aws.err") $(cat "$T/i1.json" "$T/i2.json")" \
	sh -c "cmp -s '$T/i1.json' '$T/i2.json' && grep -q idem-one '$T/i2.json'"
gd create-filter --detector-id "$DET" --name idem-two --action NOOP --client-token tok-abc \
	--finding-criteria '{"Criterion":{}}' >/dev/null 2>"$T/i3.err"
expect client_token_other_request_400 "$(cat "$T/i3.err")" has "$T/i3.err" "BadRequestException"
gd list-filters --detector-id "$DET" >"$T/lf2.json"
expect client_token_made_one "$(cat "$T/lf2.json")" test "$(grep -c idem- "$T/lf2.json")" -eq 1
printf '10.9.9.9\n' >"$T/ips.txt"
gd create-ip-set --detector-id "$DET" --name idem-set --format TXT --location "$T/ips.txt" --activate \
	--client-token ip-tok >"$T/ip1.json" 2>"$T/aws.err"
gd create-ip-set --detector-id "$DET" --name idem-set --format TXT --location "$T/ips.txt" --activate \
	--client-token ip-tok >"$T/ip2.json" 2>>"$T/aws.err"
expect client_token_ip_set "$(cat "$T/aws.err") $(cat "$T/ip1.json" "$T/ip2.json")" \
	sh -c "cmp -s '$T/ip1.json' '$T/ip2.json' && grep -q IpSetId '$T/ip1.json'"
gd delete-ip-set --detector-id "$DET" --ip-set-id "$(field "$T/ip1.json" 'j["IpSetId"]')" 2>/dev/null

# --- metrics ---------------------------------------------------------------
python3 -c 'import sys,urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1] + "/metrics", timeout=10).read().decode())' "$URL" >"$T/metrics.txt" 2>&1
expect metrics_records "$(head -5 "$T/metrics.txt")" hasE "$T/metrics.txt" '^mamori_records_total\{source="flow"\} 79$'
expect metrics_api "$(grep api "$T/metrics.txt")" hasE "$T/metrics.txt" '^mamori_api_requests_total\{outcome="denied"\} [3-9]'

# --- kill -9, more lines while down, restart: nothing lost or counted twice --
kill -9 $PID; wait $PID 2>/dev/null
flow a.log eni-0ac0ac0ac0ac00011 203.0.113.7 2 $((T0 + 600))
: >"$T/cfg.yaml"
CONFIG="--config $T/cfg.yaml --log-format json --syslog-udp 127.0.0.1:0 --syslog-tcp 127.0.0.1:0"
start
expect restart_ready "$(tail -c 300 "$T/serve.err")" test -n "$DET"
gd create-filter --detector-id "$DET" --name idem-one --action NOOP --client-token tok-abc \
	--finding-criteria '{"Criterion":{"severity":{"Gte":8}}}' >"$T/i4.json" 2>"$T/aws.err"
expect client_token_survives_restart "$(cat "$T/aws.err") $(cat "$T/i4.json")" cmp -s "$T/i1.json" "$T/i4.json"
n=0
while [ $n -lt 100 ]; do
	gd get-findings --detector-id "$DET" --finding-ids "$ID" >"$T/get.json" 2>/dev/null
	[ "$(field "$T/get.json" 'j["Findings"][0]["Service"]["Count"]' 2>/dev/null)" = 5 ] && break
	sleep 0.2; n=$((n + 1))
done
expect restart_counts_once "want count 5 (3 + 2 after the restart): $(field "$T/get.json" 'j["Findings"][0]["Service"]["Count"]' 2>&1)" \
	test "$(field "$T/get.json" 'j["Findings"][0]["Service"]["Count"]')" = 5
# --- syslog over UDP (RFC 3164) and TCP (RFC 5424, octet-counted and newline frames) --
UDP=$(cut -d' ' -f3 "$T/ready"); TCP=$(cut -d' ' -f4 "$T/ready")
python3 - "$UDP" "$TCP" "$HDR" <<'PY'
import socket, sys
u, t, hdr = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
rec = "2 123456789012 eni-0ac0ac0ac0ac000%d 203.0.113.%d 10.0.2.10 50500 22 6 20 4249 1714557600 1714557660 ACCEPT OK"
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for m in (hdr, rec % (21, 3)):
    s.sendto(("<14>Dec  5 16:00:00 ip-10-0-2-10 vpcflow[12]: " + m).encode(), ("127.0.0.1", u))
c = socket.create_connection(("127.0.0.1", t), timeout=10)
for m in (hdr, rec % (22, 4)):
    b = ("<14>1 2026-12-05T16:00:00Z host flowtcp - - - " + m).encode()
    c.sendall(str(len(b)).encode() + b" " + b)
for m in (hdr, rec % (23, 5)):
    c.sendall(("<14>Dec  5 16:00:00 host flowlines: " + m + "\n").encode())
c.close()
PY
expect syslog_udp_tcp_found "$(ls "$DB.spool" 2>&1) $(tail -c 300 "$T/serve.err")" \
	wait_ids '{"Criterion":{"resource.instanceDetails.networkInterfaces.networkInterfaceId":{"Eq":["eni-0ac0ac0ac0ac00021","eni-0ac0ac0ac0ac00022","eni-0ac0ac0ac0ac00023"]}}}' 3
expect spool_one_file_per_tag "$(ls "$DB.spool")" test "$(ls "$DB.spool" | tr '\n' ' ')" = "flowlines.log flowtcp.log vpcflow.log "
python3 -c 'import sys,urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1] + "/metrics", timeout=10).read().decode())' "$URL" >"$T/metrics2.txt" 2>&1
expect metrics_stream "$(grep stream "$T/metrics2.txt")" hasE "$T/metrics2.txt" '^mamori_stream_messages_total 6$'

# SIGHUP with a broken config: logged, the daemon keeps running as it was
echo "netbase: {no_such_setting: 1}" >"$T/cfg.yaml"
kill -HUP $PID
n=0; while [ $n -lt 50 ] && ! grep -q "still running with the previous configuration" "$T/serve.err"; do sleep 0.2; n=$((n + 1)); done
expect sighup_bad_config_kept "$(tail -c 400 "$T/serve.err")" has "$T/serve.err" "still running with the previous configuration"
gd list-detectors >/dev/null 2>"$T/aws.err"; rc=$?
expect alive_after_bad_reload "exit $rc: $(cat "$T/aws.err")" test $rc -eq 0
: >"$T/cfg.yaml"
kill -HUP $PID
n=0; while [ $n -lt 50 ] && ! grep -q "serve: reloaded" "$T/serve.err"; do sleep 0.2; n=$((n + 1)); done
expect sighup_reloads "$(tail -c 400 "$T/serve.err")" has "$T/serve.err" "serve: reloaded"
# a second daemon (or scan) on the same database is refused while one runs
"$M" scan --db "$DB" --no-default-lists "$T/logs" >/dev/null 2>"$T/busy.err"; rc=$?
expect second_writer_refused "exit $rc, want 5: $(cat "$T/busy.err")" test $rc -eq 5
stop
expect stopped_cleanly "$(tail -c 300 "$T/serve.err")" has "$T/serve.err" "serve: stopping"
expect json_logs "want the restarted daemon's messages as JSON lines: $(tail -2 "$T/serve.err")" \
	python3 -c 'import json,sys; j=json.loads(open(sys.argv[1]).read().splitlines()[-1]); sys.exit(not (j["level"]=="info" and j["msg"]=="serve: stopping" and j["time"].endswith("Z")))' "$T/serve.err"

# --- stdin: lines piped into the daemon ---------------------------------------
{ echo "$HDR"; flow_line eni-0ac0ac0ac0ac00031 203.0.113.11 $T0; } >"$T/stdin.log"
"$M" serve --db "$T/s.db" --listen 127.0.0.1:0 --stdin --poll-ms 200 --no-default-lists \
	--threat-list "custom=$T/custom.txt" <"$T/stdin.log" 2>"$T/stdin.err" &
SPID=$!
n=0; while [ $n -lt 100 ] && [ "$("$M" findings list --db "$T/s.db" --format json 2>/dev/null | grep -c eni-0ac0ac0ac0ac00031)" -lt 1 ]; do sleep 0.2; n=$((n + 1)); done
expect stdin_source "$(tail -c 300 "$T/stdin.err")" \
	test "$("$M" findings list --db "$T/s.db" --format json | grep -c eni-0ac0ac0ac0ac00031)" -eq 1
kill $SPID; wait $SPID 2>/dev/null

echo "serve: $pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
