#!/bin/sh
# listfmt.sh MAMORI - threat intel sets and IP sets in GuardDuty's list
# formats through `mamori serve`, driven by the real AWS CLI over
# 127.0.0.1: a STIX set from a path, an OTX CSV set from an http:// URL
# (python3's http.server on 127.0.0.1), FireEye and AlienVault sets, a
# Proofpoint IP set (trusted); the threat sets go ACTIVE, flow records
# from an address of each become findings that name the set
# (ThreatListName), the trusted address makes none; TXT content declared
# STIX ends in status ERROR with the reason.
# Ends "listfmt: N passed, N failed, N skipped".
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/suite.sh"

if ! command -v aws >/dev/null 2>&1; then
	bad awscli "the aws command (Debian package awscli) is missing: run scripts/deps.sh"
	echo "listfmt: $pass passed, $fail failed, $skip skipped"
	exit 1
fi
# the CLI reads nothing of the user's: no config, no credentials files,
# no instance metadata, no pager
export HOME="$T/home" AWS_CONFIG_FILE="$T/none" AWS_SHARED_CREDENTIALS_FILE="$T/none"
export AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true AWS_PAGER=""
mkdir -p "$HOME" "$T/logs" "$T/www"
DB="$T/m.db"
DATA="$ROOT/tests/data/lists"
HDR='version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status'
flow_line() { # ENI REMOTE START: one accepted inbound record
	echo "2 123456789012 $1 $2 10.0.2.10 40000 22 6 10 840 $3 $(($3 + 60)) ACCEPT OK"
}
PID=""; WPID=""
trap 'kill $PID $WPID 2>/dev/null; chmod -R u+rwx "$T" 2>/dev/null; rm -rf "$T"' EXIT

"$M" keys create ci --db "$DB" >"$T/key.env" 2>"$T/key.err"
expect keys_create "$(cat "$T/key.err")" test -s "$T/key.env"
set -a; . "$T/key.env"; set +a

echo "$HDR" >"$T/logs/a.log"
"$M" serve --db "$DB" --listen 127.0.0.1:0 --follow "$T/logs" --poll-ms 200 --no-default-lists \
	--ready-file "$T/ready" 2>>"$T/serve.err" &
PID=$!
n=0
while [ ! -s "$T/ready" ] && [ $n -lt 100 ] && kill -0 $PID 2>/dev/null; do sleep 0.1; n=$((n + 1)); done
URL=$(cut -d' ' -f1 "$T/ready" 2>/dev/null)
DET=$(cut -d' ' -f2 "$T/ready" 2>/dev/null)
expect serve_ready "no ready file; stderr: $(tail -c 400 "$T/serve.err")" test -n "$DET"

# the OTX export served over HTTP by python3 on 127.0.0.1 (a free port)
cp "$DATA/pulse.otx.csv" "$T/www/"
python3 -u -m http.server 0 --bind 127.0.0.1 --directory "$T/www" >"$T/www.out" 2>"$T/www.err" &
WPID=$!
n=0
while ! grep -q 'port [0-9]' "$T/www.out" 2>/dev/null && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
WPORT=$(sed -n 's/.* port \([0-9]*\).*/\1/p' "$T/www.out" | head -1)
expect http_server "no port from python3 -m http.server: $(cat "$T/www.out" "$T/www.err")" test -n "$WPORT"

gd() { timeout 60 aws guardduty --endpoint-url "$URL" --output json "$@"; }
field() { # FILE PYEXPR on the parsed JSON as j
	python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print($2)" "$1"
}
# wait_ids CRITERIA N: until list-findings with CRITERIA returns >= N ids (20 s at most)
wait_ids() {
	w=0
	while [ $w -lt 100 ]; do
		gd list-findings --detector-id "$DET" --finding-criteria "$1" >"$T/ids.json" 2>"$T/aws.err"
		if [ "$(field "$T/ids.json" 'len(j["FindingIds"])' 2>/dev/null || echo 0)" -ge "$2" ]; then
			return 0
		fi
		sleep 0.2; w=$((w + 1))
	done
	return 1
}
eni() { echo "{\"Criterion\":{\"resource.instanceDetails.networkInterfaces.networkInterfaceId\":{\"Eq\":[\"$1\"]}}}"; }

# --- a STIX set from a local path --------------------------------------------
gd create-threat-intel-set --detector-id "$DET" --name partner-stix --format STIX \
	--location "$DATA/threats.stix.xml" --activate >"$T/stix.json" 2>"$T/aws.err"
SID=$(field "$T/stix.json" 'j["ThreatIntelSetId"]' 2>/dev/null)
expect stix_created "$(cat "$T/aws.err")" test -n "$SID"
gd get-threat-intel-set --detector-id "$DET" --threat-intel-set-id "$SID" >"$T/gstix.json" 2>"$T/aws.err"
expect stix_active "$(cat "$T/aws.err") $(cat "$T/gstix.json")" \
	test "$(field "$T/gstix.json" 'j["Status"], j["Format"], j["Name"]')" = "ACTIVE STIX partner-stix"

# --- an OTX CSV set from an http:// URL -----------------------------------------
gd create-threat-intel-set --detector-id "$DET" --name otx-pulse --format OTX_CSV \
	--location "http://127.0.0.1:$WPORT/pulse.otx.csv" --activate >"$T/otx.json" 2>"$T/aws.err"
OID=$(field "$T/otx.json" 'j["ThreatIntelSetId"]' 2>/dev/null)
expect otx_created "$(cat "$T/aws.err")" test -n "$OID"
gd get-threat-intel-set --detector-id "$DET" --threat-intel-set-id "$OID" >"$T/gotx.json" 2>"$T/aws.err"
expect otx_active "$(cat "$T/aws.err") $(cat "$T/gotx.json")" \
	test "$(field "$T/gotx.json" 'j["Status"], j["Format"]')" = "ACTIVE OTX_CSV"

# --- FireEye iSIGHT (path) and AlienVault (file://) sets --------------------------
gd create-threat-intel-set --detector-id "$DET" --name isight --format FIRE_EYE \
	--location "$DATA/isight.fireeye.csv" --activate >"$T/fe.json" 2>"$T/aws.err"
FID=$(field "$T/fe.json" 'j["ThreatIntelSetId"]' 2>/dev/null)
gd get-threat-intel-set --detector-id "$DET" --threat-intel-set-id "$FID" >"$T/gfe.json" 2>"$T/aws.err"
expect fireeye_active "$(cat "$T/aws.err") $(cat "$T/gfe.json")" \
	test "$(field "$T/gfe.json" 'j["Status"], j["Format"]')" = "ACTIVE FIRE_EYE"
gd create-threat-intel-set --detector-id "$DET" --name av-reputation --format ALIEN_VAULT \
	--location "file://$DATA/reputation.alienvault.txt" --activate >"$T/av.json" 2>"$T/aws.err"
AID=$(field "$T/av.json" 'j["ThreatIntelSetId"]' 2>/dev/null)
gd get-threat-intel-set --detector-id "$DET" --threat-intel-set-id "$AID" >"$T/gav.json" 2>"$T/aws.err"
expect alienvault_active "$(cat "$T/aws.err") $(cat "$T/gav.json")" \
	test "$(field "$T/gav.json" 'j["Status"], j["Format"]')" = "ACTIVE ALIEN_VAULT"

# --- a trusted IP set in Proofpoint's format: 198.51.100.2 is also on the STIX set
printf 'ip, category, score, first_seen, last_seen, ports (|)\r\n198.51.100.2, 1, 100, 2024-01-01, 2024-05-01,\r\n' >"$T/trusted.csv"
gd create-ip-set --detector-id "$DET" --name office-proofpoint --format PROOF_POINT \
	--location "file://$T/trusted.csv" --activate >"$T/ips.json" 2>"$T/aws.err"
IID=$(field "$T/ips.json" 'j["IpSetId"]' 2>/dev/null)
gd get-ip-set --detector-id "$DET" --ip-set-id "$IID" >"$T/gips.json" 2>"$T/aws.err"
expect proofpoint_ip_set_active "$(cat "$T/aws.err") $(cat "$T/gips.json")" \
	test "$(field "$T/gips.json" 'j["Status"]')" = ACTIVE

# --- TXT content declared STIX: ERROR, and the reason says why -----------------
printf '# ops blocklist\n198.51.100.250\n' >"$T/plain.txt"
gd create-threat-intel-set --detector-id "$DET" --name wrong-format --format STIX \
	--location "$T/plain.txt" --activate >"$T/wrong.json" 2>"$T/aws.err"
WID=$(field "$T/wrong.json" 'j["ThreatIntelSetId"]' 2>/dev/null)
expect wrong_format_created "$(cat "$T/aws.err")" test -n "$WID"
# --debug shows the response body, mamoriError (not in GuardDuty's model) included
gd get-threat-intel-set --detector-id "$DET" --threat-intel-set-id "$WID" --debug \
	>"$T/gwrong.json" 2>"$T/gwrong.debug"
expect wrong_format_error_status "$(cat "$T/gwrong.json")" test "$(field "$T/gwrong.json" 'j["Status"]')" = ERROR
expect wrong_format_reason "want the reason in the response: $(grep -o 'mamoriError[^}]*' "$T/gwrong.debug" | head -1)" \
	has "$T/gwrong.debug" "not XML: no element found in the STIX document; check that the list.*format is STIX"

# --- flows from an address of each set -----------------------------------------
T0=1714557600
{
	flow_line eni-0aa0aa0aa0aa00001 192.0.2.200 $T0	# STIX: the 192.0.2.0..255 range
	flow_line eni-0aa0aa0aa0aa00002 203.0.113.201 $T0	# OTX: the host of a URL
	flow_line eni-0aa0aa0aa0aa00003 198.51.100.2 $T0	# STIX, but trusted
	flow_line eni-0aa0aa0aa0aa00004 198.51.100.250 $T0	# only on the set in ERROR
	flow_line eni-0aa0aa0aa0aa00006 198.51.100.51 $T0	# FireEye: the ip column
	flow_line eni-0aa0aa0aa0aa00007 198.51.100.41 $T0	# AlienVault
	flow_line eni-0aa0aa0aa0aa00005 198.51.100.23 $T0	# OTX: an IPv4 row
} >>"$T/logs/a.log"
expect stix_hit "$(tail -c 300 "$T/serve.err")" wait_ids "$(eni eni-0aa0aa0aa0aa00001)" 1
gd get-findings --detector-id "$DET" --finding-ids "$(field "$T/ids.json" 'j["FindingIds"][0]')" >"$T/f1.json"
expect stix_hit_named "$(head -c 600 "$T/f1.json")" has "$T/f1.json" '"ThreatListName": "partner-stix"'
expect otx_hit "$(tail -c 300 "$T/serve.err")" wait_ids "$(eni eni-0aa0aa0aa0aa00002)" 1
gd get-findings --detector-id "$DET" --finding-ids "$(field "$T/ids.json" 'j["FindingIds"][0]')" >"$T/f2.json"
expect otx_hit_named "$(head -c 600 "$T/f2.json")" has "$T/f2.json" '"ThreatListName": "otx-pulse"'
for e in 6:isight 7:av-reputation; do
	wait_ids "$(eni eni-0aa0aa0aa0aa0000${e%%:*})" 1
	gd get-findings --detector-id "$DET" --finding-ids "$(field "$T/ids.json" 'j["FindingIds"][0]' 2>/dev/null)" >"$T/f.json" 2>"$T/aws.err"
	expect "${e#*:}_hit_named" "$(cat "$T/aws.err") $(head -c 600 "$T/f.json")" has "$T/f.json" "\"ThreatListName\": \"${e#*:}\""
done
expect otx_row_hit "$(tail -c 300 "$T/serve.err")" wait_ids "$(eni eni-0aa0aa0aa0aa00005)" 1
# the records were appended in one write: once .05 is in, so is the rest
gd list-findings --detector-id "$DET" --finding-criteria "$(eni eni-0aa0aa0aa0aa00003)" >"$T/tr.json"
expect trusted_no_finding "$(cat "$T/tr.json")" test "$(field "$T/tr.json" 'len(j["FindingIds"])')" = 0
gd list-findings --detector-id "$DET" --finding-criteria "$(eni eni-0aa0aa0aa0aa00004)" >"$T/er.json"
expect error_set_not_loaded "$(cat "$T/er.json")" test "$(field "$T/er.json" 'len(j["FindingIds"])')" = 0

kill $PID $WPID 2>/dev/null; wait $PID 2>/dev/null
PID=""; WPID=""
echo "listfmt: $pass passed, $fail failed, $skip skipped"
