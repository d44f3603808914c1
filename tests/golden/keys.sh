#!/bin/sh
# keys.sh MAMORI - `mamori keys create|list|delete` end to end, and the
# proof that requests signed the way the AWS CLI signs them verify: create
# prints exactly the two export lines (and nothing is stored in clear: not
# in the database, not in list's output), the master key file is 0600, a
# wrong or malformed master key is refused with a clear message, usage
# errors exit 2, missing things exit 1. Then, when python3 has botocore
# (Debian's awscli brings it), requests signed by botocore's SigV4Auth for
# guardduty verify with mamori's verifier (the test driver
# tests/sigv4-verify beside the binary), and tampered, expired, unknown-key
# and wrong-service ones fail with AWS's error types; when `aws` is on PATH,
# the real CLI's own requests (list-detectors, list-findings, get-findings,
# archive-findings), captured by a local listener, verify too.
# Ends "keys: N passed, N failed, N skipped".
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/suite.sh"
V=$(dirname "$M")/tests/sigv4-verify
DB="$T/k.db"
unset MAMORI_MASTER_KEY

# --- create ----------------------------------------------------------------------
"$M" keys create alice --db "$DB" >"$T/alice.env" 2>"$T/alice.err"; rc=$?
expect create_exit "exit $rc: $(cat "$T/alice.err")" test $rc -eq 0
expect create_two_lines "$(cat "$T/alice.env")" sh -c "[ \$(wc -l <'$T/alice.env') -eq 2 ]"
expect create_id_line "$(head -1 "$T/alice.env")" hasE "$T/alice.env" '^AWS_ACCESS_KEY_ID=AKIA[A-Z2-7]{16}$'
expect create_secret_line "$(tail -1 "$T/alice.env")" hasE "$T/alice.env" '^AWS_SECRET_ACCESS_KEY=[A-Za-z0-9+/]{40}$'
ID=$(sed -n 's/^AWS_ACCESS_KEY_ID=//p' "$T/alice.env")
SECRET=$(sed -n 's/^AWS_SECRET_ACCESS_KEY=//p' "$T/alice.env")
expect create_evals "eval of the output gives the key" \
	sh -c "eval \"\$(cat '$T/alice.env')\"; [ \"\$AWS_ACCESS_KEY_ID\" = '$ID' ]"
expect master_key_0600 "$(ls -l "$DB.key" 2>&1)" sh -c "[ \"\$(stat -c %a '$DB.key')\" = 600 ]"
expect database_0600 "$(ls -l "$DB" 2>&1)" sh -c "[ \"\$(stat -c %a '$DB')\" = 600 ]"
expect secret_not_in_database "the secret is in the database file" \
	sh -c "! grep -qF -- '$SECRET' '$DB' && ! grep -qF -- '$SECRET' '$DB-wal' 2>/dev/null"
"$M" keys create bob --db "$DB" >"$T/bob.env" 2>&1
"$M" keys create alice --db "$DB" >"$T/dup.out" 2>"$T/dup.err"; rc=$?
expect create_duplicate_exit_1 "exit $rc" test $rc -eq 1
expect create_duplicate_says "$(cat "$T/dup.err")" has "$T/dup.err" "already exists"
expect create_duplicate_no_stdout "$(cat "$T/dup.out")" test ! -s "$T/dup.out"
"$M" keys create 'bad name' --db "$DB" >/dev/null 2>"$T/badname.err"; rc=$?
expect create_bad_name_exit_1 "exit $rc: $(cat "$T/badname.err")" test $rc -eq 1

# --- list / delete -----------------------------------------------------------------
"$M" keys list --db "$DB" >"$T/list.out" 2>&1; rc=$?
expect list_exit "exit $rc" test $rc -eq 0
expect list_header "$(head -1 "$T/list.out")" hasE "$T/list.out" '^ID +NAME +CREATED +LAST USED +STATUS$'
expect list_alice "$(cat "$T/list.out")" hasE "$T/list.out" "^$ID +alice +[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z +never +active$"
expect list_no_secret "a secret in list's output" sh -c "! grep -qF -- '$SECRET' '$T/list.out'"
"$M" keys list --db "$DB" --format json >"$T/list.json" 2>&1
expect list_json "$(cat "$T/list.json")" has "$T/list.json" "^{\"id\":\"$ID\",\"name\":\"alice\",\"created\":\"[^\"]*\",\"lastUsed\":null,\"active\":true,\"readOnly\":false}$"
expect list_json_two "$(wc -l <"$T/list.json")" test "$(wc -l <"$T/list.json")" -eq 2
"$M" keys list --db "$T/none.db" >/dev/null 2>"$T/none.err"; rc=$?
expect list_missing_db_exit_1 "exit $rc" test $rc -eq 1
expect list_missing_db_says "$(cat "$T/none.err")" has "$T/none.err" "no database at .*mamori keys create"
expect list_missing_db_not_created "none.db exists" test ! -e "$T/none.db"

# --- usage -------------------------------------------------------------------------
for a in "keys" "keys create" "keys create a b" "keys list extra" "keys list --format xml" \
	"keys delete" "keys frobnicate" "keys create --bogus x"; do
	# shellcheck disable=SC2086
	"$M" $a --db "$DB" >/dev/null 2>&1; rc=$?
	expect "usage_$(echo "$a" | tr ' -' '__')" "'mamori $a': exit $rc, want 2" test $rc -eq 2
done
for s in create list delete; do
	"$M" keys $s --help >"$T/help.out" 2>&1; rc=$?
	expect "help_$s" "exit $rc: $(head -1 "$T/help.out")" sh -c "[ $rc -eq 0 ] && grep -q '^usage: mamori keys $s' '$T/help.out'"
done
"$M" --help >"$T/main.help" 2>&1
expect main_help_lists_keys "$(cat "$T/main.help")" has "$T/main.help" "keys create|list|delete"

# --- master keys ---------------------------------------------------------------------
MAMORI_MASTER_KEY=00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff \
	"$M" keys create carol --db "$DB" >"$T/wrong.out" 2>"$T/wrong.err"; rc=$?
expect wrong_master_create_exit_1 "exit $rc" test $rc -eq 1
expect wrong_master_says "$(cat "$T/wrong.err")" has "$T/wrong.err" "does not decrypt the keys stored"
expect wrong_master_no_stdout "$(cat "$T/wrong.out")" test ! -s "$T/wrong.out"
MAMORI_MASTER_KEY=00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff \
	"$M" keys list --db "$DB" >"$T/wl.out" 2>"$T/wl.err"; rc=$?
expect wrong_master_list_warns "exit $rc: $(cat "$T/wl.err")" sh -c "[ $rc -eq 0 ] && grep -q 'warning: the master key' '$T/wl.err'"
MAMORI_MASTER_KEY=xyz "$M" keys list --db "$DB" >/dev/null 2>"$T/bad.err"; rc=$?
expect malformed_master_exit_1 "exit $rc: $(cat "$T/bad.err")" sh -c "[ $rc -eq 1 ] && grep -q '64 hex' '$T/bad.err'"
chmod 644 "$DB.key"
"$M" keys list --db "$DB" >/dev/null 2>"$T/mode.err"; rc=$?
expect loose_key_file_refused "exit $rc: $(cat "$T/mode.err")" sh -c "[ $rc -eq 1 ] && grep -q 'chmod 600' '$T/mode.err'"
chmod 600 "$DB.key"
# the same key as hex in the environment opens them
MAMORI_MASTER_KEY=$(cat "$DB.key") "$M" keys list --db "$DB" >/dev/null 2>"$T/env.err"; rc=$?
expect env_master_same_key "exit $rc: $(cat "$T/env.err")" sh -c "[ $rc -eq 0 ] && [ ! -s '$T/env.err' ]"

# --- botocore's signer against mamori's verifier -----------------------------------
if [ ! -x "$V" ]; then
	bad sigv4_driver "$V not built (make test builds it)"
elif ! python3 -c 'import botocore' 2>/dev/null; then
	skipped botocore_signed "python3 has no botocore (install awscli)"
else
	cat >"$T/sign.py" <<'EOF'
# sign.py AKID SECRET OUTDIR SERVICE: write raw HTTP requests signed by
# botocore's SigV4Auth, as a client would send them
import json, os, sys
from urllib.parse import urlsplit
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

akid, secret, out, service = sys.argv[1:5]
det = "12abc34d567e8fa901bc2d34e56789f0"
cases = [
    ("post_json", "POST", f"http://127.0.0.1:8443/detector/{det}/findings",
     b'{"findingCriteria":{"criterion":{"severity":{"gte":4}}},"maxResults":50}',
     {"Content-Type": "application/json"}),
    ("get_query", "GET", "http://127.0.0.1:8443/detector?maxResults=5&nextToken=a%2Fb%2Bc%3D%3D", b"", {}),
    ("path_encoded", "GET", f"http://localhost/detector/{det}/filter/my%20filter%2Bx", b"", {}),
    ("delete", "DELETE", f"http://127.0.0.1:8443/detector/{det}/ipset/abc", b"", {}),
    ("utf8_body", "POST", f"http://[::1]:9000/detector/{det}/filter",
     json.dumps({"name": "f", "description": "h\u00e9llo   spaced"}).encode(),
     {"Content-Type": "application/json", "X-Custom": "  a   b  "}),
]
for name, method, url, body, headers in cases:
    req = AWSRequest(method=method, url=url, data=body, headers=headers)
    SigV4Auth(Credentials(akid, secret), service, "eu-west-1").add_auth(req)
    p = req.prepare()
    u = urlsplit(p.url)
    target = u.path + ("?" + u.query if u.query else "")
    lines = [f"{method} {target} HTTP/1.1", f"Host: {u.netloc}"]
    for k, v in p.headers.items():
        lines.append(f"{k}: {v.decode() if isinstance(v, bytes) else v}")
    b = p.body or b""
    if isinstance(b, str):
        b = b.encode()
    if b and "Content-Length" not in p.headers:
        lines.append(f"Content-Length: {len(b)}")
    with open(os.path.join(out, name + ".http"), "wb") as f:
        f.write(("\r\n".join(lines) + "\r\n\r\n").encode() + b)
EOF
	mkdir -p "$T/req" "$T/unknown" "$T/s3"
	python3 "$T/sign.py" "$ID" "$SECRET" "$T/req" guardduty 2>"$T/sign.err"
	python3 "$T/sign.py" AKIAAAAAAAAAAAAAAAAA "$SECRET" "$T/unknown" guardduty 2>>"$T/sign.err"
	python3 "$T/sign.py" "$ID" "$SECRET" "$T/s3" s3 2>>"$T/sign.err"
	for c in post_json get_query path_encoded delete utf8_body; do
		"$V" --db "$DB" "$T/req/$c.http" >"$T/v.out" 2>&1
		expect "botocore_$c" "$(cat "$T/v.out" "$T/sign.err")" has "$T/v.out" "^ok $ID$"
	done
	sed 's/"gte":4/"gte":1/' "$T/req/post_json.http" >"$T/tampered.http"
	"$V" --db "$DB" "$T/tampered.http" >"$T/v.out" 2>&1; rc=$?
	expect botocore_tampered_body "exit $rc: $(cat "$T/v.out")" sh -c "[ $rc -eq 1 ] && grep -q '^fail InvalidSignatureException: The request signature we calculated does not match' '$T/v.out'"
	sed 's/^X-Custom: .*/X-Custom: a b c\r/' "$T/req/utf8_body.http" >"$T/tampered2.http"
	"$V" --db "$DB" "$T/tampered2.http" >"$T/v.out" 2>&1
	expect botocore_tampered_header "$(cat "$T/v.out")" has "$T/v.out" "^fail InvalidSignatureException"
	"$V" --db "$DB" "$T/unknown/get_query.http" >"$T/v.out" 2>&1
	expect botocore_unknown_key "$(cat "$T/v.out")" has "$T/v.out" "^fail UnrecognizedClientException: The security token included in the request is invalid.$"
	"$V" --db "$DB" "$T/s3/get_query.http" >"$T/v.out" 2>&1
	expect botocore_wrong_service "$(cat "$T/v.out")" has "$T/v.out" "^fail InvalidSignatureException: Credential should be scoped to correct service: 'guardduty'"
	later=$(( $(date +%s) * 1000 + 20 * 60 * 1000 ))
	"$V" --db "$DB" --now-ms "$later" "$T/req/get_query.http" >"$T/v.out" 2>&1
	expect botocore_expired "$(cat "$T/v.out")" has "$T/v.out" "^fail InvalidSignatureException: Signature expired: "
	sed '/^Authorization:/d' "$T/req/get_query.http" >"$T/unsigned.http"
	"$V" --db "$DB" "$T/unsigned.http" >"$T/v.out" 2>&1
	expect botocore_unsigned "$(cat "$T/v.out")" has "$T/v.out" "^fail MissingAuthenticationTokenException"
	"$M" keys delete bob --db "$DB" >/dev/null 2>&1
	"$M" keys delete "$ID" --db "$DB" >"$T/del.out" 2>&1; rc=$?
	expect delete_by_id "exit $rc: $(cat "$T/del.out")" test $rc -eq 0
	"$V" --db "$DB" "$T/req/get_query.http" >"$T/v.out" 2>&1
	expect botocore_deleted_key "$(cat "$T/v.out")" has "$T/v.out" "^fail UnrecognizedClientException"
	"$M" keys delete alice --db "$DB" >/dev/null 2>"$T/del.err"; rc=$?
	expect delete_unknown_exit_1 "exit $rc: $(cat "$T/del.err")" sh -c "[ $rc -eq 1 ] && grep -q \"no key with id or name 'alice'\" '$T/del.err'"
fi

# --- the real AWS CLI's requests -------------------------------------------------------
if [ ! -x "$V" ] || ! command -v aws >/dev/null 2>&1 || ! command -v python3 >/dev/null 2>&1; then
	skipped aws_cli_signed "no aws CLI on PATH (Debian package awscli) or no python3"
else
	"$M" keys create cli --db "$DB" >"$T/cli.env" 2>/dev/null
	CID=$(sed -n 's/^AWS_ACCESS_KEY_ID=//p' "$T/cli.env")
	cat >"$T/capture.py" <<'EOF'
# capture.py OUTDIR: run `aws guardduty` commands against a local listener
# that keeps each raw request and answers an empty result
import json, os, socket, subprocess, sys, threading

out = sys.argv[1]
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(8)
port = srv.getsockname()[1]

def serve():
    n = 0
    while True:
        try:
            c, _ = srv.accept()
        except OSError:
            return
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = c.recv(65536)
            if not chunk:
                break
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            k, _, v = line.partition(b":")
            if k.strip().lower() == b"content-length":
                length = int(v.strip())
        while len(body) < length:
            chunk = c.recv(65536)
            if not chunk:
                break
            body += chunk
        n += 1
        with open(os.path.join(out, "req-%d.http" % n), "wb") as f:
            f.write(head + b"\r\n\r\n" + body)
        path = head.split(b" ")[1].split(b"?")[0]
        if path.endswith(b"/findings/get"):
            resp = {"findings": []}
        elif path.endswith(b"/findings"):
            resp = {"findingIds": []}
        elif path == b"/detector":
            resp = {"detectorIds": []}
        else:
            resp = {}
        r = json.dumps(resp).encode()
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                  + str(len(r)).encode() + b"\r\nConnection: close\r\n\r\n" + r)
        c.close()

threading.Thread(target=serve, daemon=True).start()
det = "12abc34d567e8fa901bc2d34e56789f0"
env = dict(os.environ, AWS_DEFAULT_REGION="us-east-1", AWS_CONFIG_FILE=os.devnull,
           AWS_SHARED_CREDENTIALS_FILE=os.devnull, AWS_EC2_METADATA_DISABLED="true",
           AWS_PAGER="", AWS_MAX_ATTEMPTS="1", AWS_RETRY_MODE="standard")
cmds = [
    ["list-detectors", "--max-results", "5"],
    ["list-findings", "--detector-id", det, "--finding-criteria",
     '{"Criterion":{"severity":{"Gte":4}}}'],
    ["get-findings", "--detector-id", det, "--finding-ids", "0123456789abcdef0123456789abcdef"],
    ["archive-findings", "--detector-id", det, "--finding-ids", "0123456789abcdef0123456789abcdef"],
]
rc = 0
for cmd in cmds:
    p = subprocess.run(["aws", "guardduty"] + cmd + ["--endpoint-url", "http://127.0.0.1:%d" % port,
                       "--output", "json"], env=env, capture_output=True, timeout=120)
    if p.returncode:
        sys.stderr.write("aws %s: exit %d: %s\n" % (cmd[0], p.returncode, p.stderr.decode()[-500:]))
        rc = 1
srv.close()
sys.exit(rc)
EOF
	mkdir -p "$T/cap"
	AWS_ACCESS_KEY_ID=$CID AWS_SECRET_ACCESS_KEY=$(sed -n 's/^AWS_SECRET_ACCESS_KEY=//p' "$T/cli.env") \
		python3 "$T/capture.py" "$T/cap" >"$T/cap.out" 2>&1; rc=$?
	expect aws_cli_ran "exit $rc: $(tail -5 "$T/cap.out")" test $rc -eq 0
	count=0 # not n: expect uses it
	for f in "$T"/cap/req-*.http; do
		[ -f "$f" ] || continue
		count=$((count + 1))
		"$V" --db "$DB" "$f" >"$T/v.out" 2>&1
		expect "aws_cli_request_$count" "$(head -1 "$f"): $(cat "$T/v.out")" has "$T/v.out" "^ok $CID$"
	done
	expect aws_cli_four_requests "$count captured" test $count -eq 4
	"$M" keys list --db "$DB" >"$T/used.out" 2>&1
	expect list_last_used "$(cat "$T/used.out")" hasE "$T/used.out" "^$CID +cli +[0-9T:Z-]+ +[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z +active$"
fi

echo "keys: $pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
