#!/bin/sh
# geo.sh MAMORI - IP ownership end to end: `mamori geo build` from the
# hand-made ranges in tests/data/geo, `geo lookup`, and a scan whose C2
# findings (an IPv4 and an IPv6 remote) get remoteIpDetails.organization
# and .country with --geo FILE or the data folder's geo/geo.mmgeo, and
# neither object (never an empty one) with --no-geo or without data, the
# scan saying once what is missing. Needs no npm data. Ends
# "geo: N passed, N failed".
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/suite.sh"
D="$ROOT/tests/data/geo"

# --- geo build / lookup -------------------------------------------------
"$M" geo build --asn "$D/asn.csv" --country "$D/country.csv" --aws "$D/aws.txt" -o "$T/geo.mmgeo" \
	>"$T/build.out" 2>&1; rc=$?
expect build_exit "exit $rc: $(cat "$T/build.out")" test $rc -eq 0
expect build_says_kinds "$(cat "$T/build.out")" has "$T/build.out" "(asn country aws)"
"$M" geo lookup --geo "$T/geo.mmgeo" 8.8.8.8 2600:1f18::1 10.0.0.1 >"$T/lookup.out" 2>&1
expect lookup_v4 "$(cat "$T/lookup.out")" has "$T/lookup.out" \
	'^{"ip":"8.8.8.8","asn":"15169","asnOrg":"Google LLC","countryCode":"US","countryName":"United States","insideAws":false}$'
expect lookup_v6_aws "$(cat "$T/lookup.out")" has "$T/lookup.out" \
	'^{"ip":"2600:1f18::1","asn":"16509","asnOrg":"Amazon.com, Inc.","countryCode":"US","countryName":"United States","insideAws":true}$'
expect lookup_unknown "$(cat "$T/lookup.out")" has "$T/lookup.out" '^{"ip":"10.0.0.1","insideAws":false}$'
"$M" geo build --asn "$D/asn.csv" >/dev/null 2>&1; rc=$?
expect build_needs_output "exit $rc" test $rc -eq 2
printf '1.0.0.0,1.0.0.255,AU\n1.0.1.0,1.0.0.255,AU\n' >"$T/bad.csv"
"$M" geo build --country "$T/bad.csv" -o "$T/bad.mmgeo" >/dev/null 2>"$T/bad.err"; rc=$?
expect build_bad_line_exit_1 "exit $rc" test $rc -eq 1
expect build_bad_line_located "$(cat "$T/bad.err")" has "$T/bad.err" "bad.csv:2: malformed line"
expect build_bad_writes_nothing "bad.mmgeo exists" test ! -e "$T/bad.mmgeo"

# --- scan: findings enriched, or no objects -----------------------------
mkdir -p "$T/in"
echo "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status
2 123456789012 eni-0e0e0e0e0e0e00001 10.0.1.10 8.8.8.8 49152 443 6 12 1800 1714557600 1714557660 ACCEPT OK
2 123456789012 eni-0e0e0e0e0e0e00002 2001:db8:1::10 2600:1f18::1 49153 443 6 12 1800 1714557600 1714557660 ACCEPT OK" \
	>"$T/in/flow.log"
printf '8.8.8.8\n2600:1f18::1\n' >"$T/c2.txt"
scan() { # DB OUT ERR ARGS...
	db=$1 out=$2 err=$3; shift 3
	"$M" scan --db "$T/$db" --no-progress --format json --no-default-lists \
		--threat-list "c2=$T/c2.txt" "$@" "$T/in" >"$T/$out" 2>"$T/$err"
}
scan a.db a.json a.err --geo "$T/geo.mmgeo"; rc=$?
expect scan_geo_exit "exit $rc: $(cat "$T/a.err")" test $rc -eq 0
expect scan_geo_two_findings "$(wc -l <"$T/a.json") lines" test "$(wc -l <"$T/a.json")" -eq 2
expect scan_geo_v4 "$(cat "$T/a.json")" has "$T/a.json" \
	'"remoteIpDetails":{"ipAddressV4":"8.8.8.8","organization":{"asn":"15169","asnOrg":"Google LLC","isp":"Google LLC","org":"Google LLC"},"country":{"countryCode":"US","countryName":"United States"}}'
expect scan_geo_v6 "$(cat "$T/a.json")" has "$T/a.json" \
	'"remoteIpDetails":{"ipAddressV6":"2600:1f18::1","organization":{"asn":"16509","asnOrg":"Amazon.com, Inc.","isp":"Amazon.com, Inc.","org":"Amazon.com, Inc."},"country":{"countryCode":"US","countryName":"United States"}}'
expect scan_geo_quiet "$(cat "$T/a.err")" sh -c "! grep -q 'no IP ownership data' '$T/a.err'"
"$M" findings list --db "$T/a.db" --format json >"$T/a.list" 2>&1
expect findings_list_enriched "$(head -c 300 "$T/a.list")" has "$T/a.list" '"asnOrg":"Google LLC"'

scan b.db b.json b.err --no-geo; rc=$?
expect scan_nogeo_exit "exit $rc: $(cat "$T/b.err")" test $rc -eq 0
expect scan_nogeo_bare_v4 "$(cat "$T/b.json")" has "$T/b.json" '"remoteIpDetails":{"ipAddressV4":"8.8.8.8"}'
expect scan_nogeo_bare_v6 "$(cat "$T/b.json")" has "$T/b.json" '"remoteIpDetails":{"ipAddressV6":"2600:1f18::1"}'
expect scan_nogeo_no_objects "$(cat "$T/b.json")" sh -c \
	"! grep -Eq '\"(organization|country|city|geoLocation)\"' '$T/b.json'"

# no data anywhere: same output, and the scan says so once
mkdir -p "$T/nodata"
MAMORI_DATA="$T/nodata" scan c.db c.json c.err; rc=$?
expect scan_nodata_exit "exit $rc: $(cat "$T/c.err")" test $rc -eq 0
expect scan_nodata_bare "$(cat "$T/c.json")" has "$T/c.json" '"remoteIpDetails":{"ipAddressV4":"8.8.8.8"}'
n=$(grep -c 'no IP ownership data' "$T/c.err")
expect scan_nodata_says_once "said $n times: $(cat "$T/c.err")" test "$n" -eq 1

# the data folder's geo/geo.mmgeo is the default
mkdir -p "$T/data/geo"
cp "$T/geo.mmgeo" "$T/data/geo/geo.mmgeo"
MAMORI_DATA="$T/data" scan d.db d.json d.err; rc=$?
expect scan_default_exit "exit $rc: $(cat "$T/d.err")" test $rc -eq 0
expect scan_default_enriched "$(cat "$T/d.json")" has "$T/d.json" '"asn":"15169"'
MAMORI_DATA="$T/data" scan e.db e.json e.err --no-geo
expect scan_nogeo_beats_default "$(cat "$T/e.json")" sh -c "! grep -q organization '$T/e.json'"

# a broken default: warned about, the scan goes on without it
head -c 100 "$T/geo.mmgeo" >"$T/data/geo/geo.mmgeo"
MAMORI_DATA="$T/data" scan f.db f.json f.err; rc=$?
expect scan_broken_default_runs "exit $rc: $(cat "$T/f.err")" test $rc -eq 0
expect scan_broken_default_warns "$(cat "$T/f.err")" has "$T/f.err" "geo.mmgeo: geo file header does not match its length"
expect scan_broken_default_bare "$(cat "$T/f.json")" has "$T/f.json" '"remoteIpDetails":{"ipAddressV4":"8.8.8.8"}'
# a broken --geo FILE: the scan refuses, naming it
scan g.db g.json g.err --geo "$T/data/geo/geo.mmgeo"; rc=$?
expect scan_broken_geo_fails "exit $rc" test $rc -ne 0
expect scan_broken_geo_says "$(cat "$T/g.err")" has "$T/g.err" "geo.mmgeo"

# --geoip: MaxMind DB files (hand-made by tests/data/geo/mkmmdb.py), asked first
if "$M" geo lookup --geoip "$D/test-asn.mmdb" 8.8.8.8 >"$T/mm.out" 2>&1; then
	expect lookup_mmdb "$(cat "$T/mm.out")" has "$T/mm.out" '"asn":"15169","asnOrg":"GOOGLE (mmdb)"'
	scan h.db h.json h.err --geo "$T/geo.mmgeo" --geoip "$D/test-isp.mmdb" --geoip "$D/test-country.mmdb"; rc=$?
	expect scan_geoip_exit "exit $rc: $(cat "$T/h.err")" test $rc -eq 0
	# 8.8.8.8: not in the ISP .mmdb, so the ASN comes from the file; the country from the .mmdb
	expect scan_geoip_fills_in "$(cat "$T/h.json")" has "$T/h.json" \
		'"ipAddressV4":"8.8.8.8","organization":{"asn":"15169","asnOrg":"Google LLC","isp":"Google LLC","org":"Google LLC"},"country":{"countryCode":"US","countryName":"United States"}}'
	printf '8.8.4.4\n' >"$T/c2.txt"
	scan i.db i.json i.err --no-geo --geoip "$D/test-isp.mmdb"
	expect scan_geoip_nogeo_wins "$(cat "$T/i.json")" sh -c "! grep -q organization '$T/i.json'"
	sed 's/8\.8\.8\.8/8.8.4.4/' "$T/in/flow.log" >"$T/in/flow2.log" && rm "$T/in/flow.log"
	MAMORI_DATA="$T/nodata" scan j.db j.json j.err --geoip "$D/test-isp.mmdb"; rc=$?
	expect scan_geoip_isp_org "exit $rc: $(cat "$T/j.json" "$T/j.err")" has "$T/j.json" \
		'"organization":{"asn":"15169","asnOrg":"Google LLC","isp":"Google Fiber","org":"Google Cloud"}}'
	scan k.db k.json k.err --geoip "$D/asn.csv"; rc=$?
	expect scan_geoip_bad_fails "exit $rc" test $rc -ne 0
	expect scan_geoip_bad_says "$(cat "$T/k.err")" has "$T/k.err" "asn.csv"
else
	expect lookup_mmdb_unsupported_says_why "$(cat "$T/mm.out")" has "$T/mm.out" "built without libmaxminddb"
	skipped scan_geoip "built without libmaxminddb"
fi

"$M" scan --help >"$T/help" 2>&1
expect scan_help_mentions_geo "no --geo in scan --help" has "$T/help" "--geo FILE"

echo "geo: $pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
