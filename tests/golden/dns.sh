#!/bin/sh
# dns.sh MAMORI - the DNS behaviour detector (dnsbehav) end to end, over
# the dns-* golden cases' resolver logs cut into two files (odd and even
# lines): one scan of both, two scans (the second file first), 4 threads
# with a flush after every file, and the uncut file with one thread all
# give the same findings (ids, counts, times, domains, counts in
# additionalInfo, evidence times); a threshold raised in the config file
# turns the exfiltration finding off, and `dnsbehav: {enabled: false}`
# all of them. Needs nothing outside the repository. Ends "dns: N passed,
# N failed".
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/suite.sh"
unset MAMORI_CONFIG
C=$HERE/cases
L="--no-progress --no-default-lists"

cat "$C/dns-exfil-vs-cdn-hashes/input/resolver.log" "$C/dns-dga-burst-vs-browsing/input/resolver.log" \
	"$C/dns-rebind-vs-imds-names/input/resolver.log" >"$T/all.log"
mkdir -p "$T/a" "$T/b"
awk 'NR % 2 == 1' "$T/all.log" >"$T/a/part1.log"
awk 'NR % 2 == 0' "$T/all.log" >"$T/b/part2.log"

# the findings, reduced to what must not depend on how the input was cut
# (evidence files and lines do)
summary() {
	"$M" findings list --db "$1" --format json | python3 -c '
import json, sys
for l in sys.stdin:
    f = json.loads(l); s = f["service"]
    print(f["id"], f["type"], s["count"], s["eventFirstSeen"], s["eventLastSeen"],
          s["action"]["dnsRequestAction"]["domain"], s["additionalInfo"].get("value"),
          [e["time"] for e in s["additionalInfo"].get("evidence", [])])' | sort
}

if command -v python3 >/dev/null 2>&1; then
	"$M" scan $L --db "$T/one.db" "$T/a" "$T/b" >/dev/null 2>&1
	"$M" scan $L --db "$T/two.db" "$T/b" >/dev/null 2>&1
	"$M" scan $L --db "$T/two.db" "$T/a" >/dev/null 2>&1
	"$M" scan $L --db "$T/four.db" --threads 4 --flush-every 1 "$T/a" "$T/b" >/dev/null 2>&1
	"$M" scan $L --db "$T/whole.db" --threads 1 "$T/all.log" >/dev/null 2>&1
	summary "$T/one.db" >"$T/one.txt"
	summary "$T/two.db" >"$T/two.txt"
	summary "$T/four.db" >"$T/four.txt"
	summary "$T/whole.db" >"$T/whole.txt"
	expect dns_three_types "want the exfiltration, DGA and rebind findings: $(cut -d' ' -f2 "$T/one.txt" | tr '\n' ' ')" \
		sh -c "[ \$(wc -l <'$T/one.txt') -eq 3 ] && grep -q DNSDataExfiltration '$T/one.txt' && grep -q DGADomainRequest.B '$T/one.txt' && grep -q MetadataDNSRebind '$T/one.txt'"
	expect dns_two_scans_equal_one "$(diff "$T/one.txt" "$T/two.txt" | head -4)" cmp -s "$T/one.txt" "$T/two.txt"
	expect dns_threads_flushes_equal_one "$(diff "$T/one.txt" "$T/four.txt" | head -4)" cmp -s "$T/one.txt" "$T/four.txt"
	expect dns_cut_equals_whole "$(diff "$T/one.txt" "$T/whole.txt" | head -4)" cmp -s "$T/one.txt" "$T/whole.txt"
else
	bad dns_python "python3 not found (make deps installs it)"
fi

printf 'dnsbehav:\n  exfil_min_queries: 61\n' >"$T/hi.yaml"
"$M" scan $L --config "$T/hi.yaml" --db "$T/hi.db" "$T/all.log" >/dev/null 2>&1
"$M" findings list --db "$T/hi.db" --format json >"$T/hi.json"
expect dns_config_threshold "60 names < 61: no exfiltration, the rest stays" \
	sh -c "! grep -q DNSDataExfiltration '$T/hi.json' && grep -q DGADomainRequest.B '$T/hi.json'"
printf 'dnsbehav:\n  enabled: false\n' >"$T/off.yaml"
"$M" scan $L --config "$T/off.yaml" --db "$T/off.db" "$T/all.log" >/dev/null 2>&1
"$M" findings list --db "$T/off.db" --format json >"$T/off.json"
expect dns_disabled "findings with dnsbehav disabled: $(head -c 200 "$T/off.json")" test ! -s "$T/off.json"

echo "dns: $pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
