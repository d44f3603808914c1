#!/bin/sh
# console.sh MAMORI - the web console of `mamori serve` end to end in a
# real headless browser: Debian's chromium driven by playwright-core
# (npm, installed into tests/golden/console/node_modules on first run, no
# browser download). A user from `mamori users add`, flow log lines with
# a threat-list hit appended to a followed folder, then in the browser:
# wrong password refused, sign in, the finding in the table, filters by
# type, severity and free text, the chart, the finding's detail (type,
# resource, remote IP, evidence file:line, playbook), archive (gone from
# the default view, shown as archived), "suppress findings like this"
# creating an ARCHIVE rule seen on the rules page, the threat lists page
# (a threat intel set added from a file, deactivated, deleted),
# requests without the CSRF header or from another origin refused (403),
# sign-out; the System page showing the dead letter of a sink pointed at
# a closed local port (and its Retry), the health badge; roles: `users
# add --role`, `users set-role`, `users list` with roles, a viewer sees no
# archive button and is refused (403), an analyst archives but cannot
# change threat lists; the console's JSON (console/roles.py: /system's
# shape, 403s by role); then under TLS the cookie is Secure and an http
# Origin is refused. Screenshots of each step go to $MAMORI_ARTEFACTS, else to
# artefacts/console beside the binary under test (kept after the run).
# Ends "console: N passed, N failed, N skipped".
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/suite.sh"

finish() { echo "console: $pass passed, $fail failed, $skip skipped"; [ $fail -eq 0 ]; exit $?; }
CHROMIUM=${MAMORI_CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$CHROMIUM" ]; then
	bad chromium "no chromium at $CHROMIUM: install Debian's package (scripts/deps.sh does: apt-get install chromium)"
	finish
fi
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
	bad node_npm "node and npm are needed to drive the browser (scripts/deps.sh installs Debian's npm)"
	finish
fi
PW="$HERE/console/node_modules/playwright-core"
if [ ! -f "$PW/package.json" ]; then
	echo "console: installing playwright-core (tests/golden/console/package.json) with npm"
	(cd "$HERE/console" && timeout 300 npm install --no-save --no-audit --no-fund --loglevel=error) >"$T/npm.log" 2>&1
	if [ ! -f "$PW/package.json" ]; then
		bad playwright_core "npm could not install playwright-core into tests/golden/console: $(tail -c 600 "$T/npm.log")"
		finish
	fi
fi

ART=${MAMORI_ARTEFACTS:-$(dirname "$M")/artefacts/console}
rm -rf "$ART"; mkdir -p "$ART"
echo "console: screenshots in $ART"

DB="$T/m.db"
mkdir -p "$T/logs"
printf '# custom list\n203.0.113.0/28\n' >"$T/custom.txt"
PASSWORD='correct horse battery'
printf '%s\n' "$PASSWORD" | "$M" users add alice --db "$DB" --password-stdin 2>"$T/users.err"; rc=$?
expect users_add "exit $rc: $(cat "$T/users.err")" test $rc -eq 0
printf '%s\n' "$PASSWORD" | "$M" users add alice --db "$DB" --password-stdin 2>"$T/users.err"; rc=$?
expect users_add_taken_refused "exit $rc: $(cat "$T/users.err")" test $rc -eq 1
printf 'short\n' | "$M" users add bob --db "$DB" --password-stdin 2>"$T/users.err"; rc=$?
expect users_add_short_password_refused "exit $rc" test $rc -eq 1
"$M" users list --db "$DB" --format json >"$T/users.json" 2>&1
expect users_list "$(cat "$T/users.json")" has "$T/users.json" '"name":"alice"'
expect users_first_is_admin "$(cat "$T/users.json")" has "$T/users.json" '"role":"admin"'
printf '%s\n' "$PASSWORD" | "$M" users add vera --role viewer --db "$DB" --password-stdin 2>"$T/users.err"; rc=$?
expect users_add_viewer "exit $rc: $(cat "$T/users.err")" test $rc -eq 0
printf '%s\n' "$PASSWORD" | "$M" users add anna --db "$DB" --password-stdin 2>"$T/users.err"; rc=$?
expect users_add_default_analyst "exit $rc: $(cat "$T/users.err")" test $rc -eq 0
printf '%s\n' "$PASSWORD" | "$M" users add bob --role root --db "$DB" --password-stdin 2>"$T/users.err"; rc=$?
expect users_add_bad_role_usage "exit $rc: $(cat "$T/users.err")" test $rc -eq 2
"$M" users list --db "$DB" >"$T/users.txt" 2>&1
expect users_list_roles "$(cat "$T/users.txt")" sh -c "grep -q '^NAME  *ROLE' '$T/users.txt' && grep -q '^anna  *analyst ' '$T/users.txt' && grep -q '^vera  *viewer ' '$T/users.txt' && grep -q '^alice  *admin ' '$T/users.txt'"
printf '%s\n' "$PASSWORD" | "$M" users add tmp --db "$DB" --password-stdin 2>/dev/null
"$M" users set-role tmp viewer --db "$DB" 2>"$T/users.err"; rc=$?
"$M" users list --db "$DB" --format json >"$T/users.json" 2>&1
expect users_set_role "exit $rc: $(cat "$T/users.err")" test $rc -eq 0
expect users_set_role_applied "$(grep tmp "$T/users.json")" sh -c "grep '\"name\":\"tmp\"' '$T/users.json' | grep -q '\"role\":\"viewer\"'"
"$M" users set-role tmp boss --db "$DB" 2>"$T/users.err"; rc=$?
expect users_set_role_bad_role "exit $rc: $(cat "$T/users.err")" test $rc -eq 2
"$M" users set-role nobody admin --db "$DB" 2>"$T/users.err"; rc=$?
expect users_set_role_unknown_user "exit $rc: $(cat "$T/users.err")" test $rc -eq 1
"$M" users delete tmp --db "$DB" 2>/dev/null
python3 "$HERE/console/pwprompt.py" "$M" "$T/tty.db" >"$T/tty.out" 2>&1
expect users_add_tty_twice_no_echo "$(cat "$T/tty.out")" grep -qx 'same 0 False' "$T/tty.out"
expect users_add_tty_mismatch_refused "$(cat "$T/tty.out")" grep -qx 'differ 1 True' "$T/tty.out"
expect users_db_no_clear_password "the password is in the database file" \
	sh -c "! grep -q '$PASSWORD' '$DB'"

# a sink at a port nobody listens on: every delivery fails at once; after
# two attempts it is a dead letter the System page shows
CLOSED=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
printf 'serve:\n  retry_base_ms: 100\n  sinks:\n    - {name: closed, type: webhook, url: "http://127.0.0.1:%s/hook", max_attempts: 2}\n' \
	"$CLOSED" >"$T/cfg.yaml"
rm -f "$T/ready"
"$M" serve --db "$DB" --listen 127.0.0.1:0 --follow "$T/logs" --poll-ms 200 --config "$T/cfg.yaml" \
	--no-default-lists --threat-list "custom=$T/custom.txt" --ready-file "$T/ready" \
	2>>"$T/serve.err" &
PID=$!
trap 'kill $PID 2>/dev/null; chmod -R u+rwx "$T" 2>/dev/null; rm -rf "$T"' EXIT
n=0
while [ ! -s "$T/ready" ] && [ $n -lt 100 ] && kill -0 $PID 2>/dev/null; do sleep 0.1; n=$((n + 1)); done
URL=$(cut -d' ' -f1 "$T/ready" 2>/dev/null)
expect serve_ready "no ready file; stderr: $(tail -c 400 "$T/serve.err")" test -n "$URL"
[ -n "$URL" ] || finish

# a threat-list hit: accepted inbound SSH from a listed address
T0=1714557600
echo 'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status' >"$T/logs/a.log"
for i in 0 1 2; do
	s=$((T0 + 60 * i))
	echo "2 123456789012 eni-0ac0ac0ac0ac00011 203.0.113.7 10.0.2.10 $((40000 + i)) 22 6 10 840 $s $((s + 60)) ACCEPT OK"
done >>"$T/logs/a.log"

printf '198.51.100.99\n' >"$T/extra.txt"
timeout 240 node "$HERE/console/console.js" "$URL" alice "$PASSWORD" "$ART" "$T/extra.txt" vera anna >"$T/browser.out" 2>"$T/browser.err"
rc=$?
cat "$T/browser.out"
pass=$((pass + $(grep -c '^ok ' "$T/browser.out")))
fail=$((fail + $(grep -c '^FAIL ' "$T/browser.out")))
expect browser_driver_exit "exit $rc: $(tail -c 800 "$T/browser.err")" test $rc -eq 0
# every check in the driver reported (a driver that died half way is a failure)
WANT=$(grep -c "await check('" "$HERE/console/console.js")
GOT=$(grep -c '^ok \|^FAIL ' "$T/browser.out")
expect browser_ran_every_check "$GOT checks reported, want $WANT" test "$GOT" -eq "$WANT"
expect screenshots_kept "no screenshots in $ART" sh -c "ls '$ART'/*.png >/dev/null 2>&1"
# the console's JSON by role, without a browser
timeout 120 python3 "$HERE/console/roles.py" "$URL" "$PASSWORD" alice anna vera >"$T/roles.out" 2>&1
rc=$?
cat "$T/roles.out"
pass=$((pass + $(grep -c '^ok ' "$T/roles.out")))
fail=$((fail + $(grep -c '^FAIL ' "$T/roles.out")))
WANT=$(grep -c '^ *report("' "$HERE/console/roles.py")
GOT=$(grep -c '^ok \|^FAIL ' "$T/roles.out")
expect roles_driver_ran "exit $rc, $GOT of at least $WANT checks" test $rc -eq 0 -a "$GOT" -ge "$WANT"
kill $PID 2>/dev/null; wait $PID 2>/dev/null

# --- under TLS the session cookie is also Secure ---------------------------
if command -v openssl >/dev/null 2>&1 && command -v curl >/dev/null 2>&1; then
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
		-keyout "$T/key.pem" -out "$T/cert.pem" >/dev/null 2>&1
	rm -f "$T/ready"
	"$M" serve --db "$DB" --listen 127.0.0.1:0 --follow "$T/logs" --poll-ms 200 --no-default-lists \
		--tls-cert "$T/cert.pem" --tls-key "$T/key.pem" --ready-file "$T/ready" 2>>"$T/serve.err" &
	PID=$!
	n=0
	while [ ! -s "$T/ready" ] && [ $n -lt 100 ] && kill -0 $PID 2>/dev/null; do sleep 0.1; n=$((n + 1)); done
	URL=$(cut -d' ' -f1 "$T/ready" 2>/dev/null)
	printf '{"user":"alice","password":"%s"}' "$PASSWORD" >"$T/signin.json"
	curl -sk --max-time 20 -D "$T/tls.hdr" -o "$T/tls.body" -X POST --data-binary @"$T/signin.json" \
		"$URL/console/api/signin"
	expect tls_signin "$(cat "$T/tls.hdr" "$T/tls.body" 2>/dev/null | head -c 400)" \
		sh -c "case '$URL' in https://*) grep -q '^HTTP/[0-9.]* 200' '$T/tls.hdr';; *) false;; esac"
	expect tls_cookie_secure "$(grep -i '^set-cookie' "$T/tls.hdr")" \
		grep -qi '^set-cookie: mamori_session=[0-9a-f]\{64\}; HttpOnly; SameSite=Strict; Path=/; Max-Age=43200; Secure' "$T/tls.hdr"
	curl -sk --max-time 20 -o /dev/null -w '%{http_code}' -H 'Origin: http://'"${URL#https://}" \
		-X POST --data-binary @"$T/signin.json" "$URL/console/api/signin" >"$T/tls.code"
	expect tls_http_origin_403 "status $(cat "$T/tls.code")" test "$(cat "$T/tls.code")" = 403
	kill $PID 2>/dev/null; wait $PID 2>/dev/null
else
	skipped tls_cookie_secure "openssl or curl missing"
fi
finish
