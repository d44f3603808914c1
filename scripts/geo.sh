#!/bin/sh
# geo.sh MAMORI - `make geo`: fetch the ip-location-db packages (IP -> ASN
# and organisation; IP -> country, both CC-BY-4.0) with npm and build
# data/geo/geo.mmgeo, the file scans map for remoteIpDetails organization
# and country, with AWS's ranges (data/geo/aws-ranges.txt) inside.
# Scans and tests work without it. Fails clearly without npm or the
# registry. See docs/internals/geo.md.
set -e
M=$1
cd "$(dirname "$0")/.."
PKGS="@ip-location-db/asn@^2 @ip-location-db/dbip-country@^2"
OUT=data/geo/geo.mmgeo
if ! command -v npm >/dev/null 2>&1; then
	echo "mamori: error: npm not found; install it (Debian: apt-get install npm) and run make geo again" >&2
	exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "mamori: fetching $PKGS with npm (about 33 MB)"
if ! (cd "$tmp" && npm pack $PKGS >packed.txt 2>npm.err); then
	echo "mamori: error: npm could not fetch $PKGS:" >&2
	tail -5 "$tmp/npm.err" >&2
	echo "mamori: check the network or the npm registry setting (npm config get registry); scans work without this data" >&2
	exit 1
fi
asn=$tmp/asn cc=$tmp/country
mkdir -p "$asn" "$cc"
for t in $(cat "$tmp/packed.txt"); do
	case $t in
	ip-location-db-asn-*) d=$asn ;;
	ip-location-db-dbip-country-*) d=$cc ;;
	*) echo "mamori: error: npm packed an unexpected file: $t" >&2; exit 1 ;;
	esac
	tar -xzf "$tmp/$t" -C "$d" --strip-components=1
done
"$M" geo build --asn "$asn/asn-ipv4.csv" --asn "$asn/asn-ipv6.csv" \
	--country "$cc/dbip-country-ipv4.csv" --country "$cc/dbip-country-ipv6.csv" \
	--aws data/geo/aws-ranges.txt -o "$OUT"
# what the file was built from, and the attribution its licences ask for
{
	echo "$OUT was built by scripts/geo.sh on $(date -u +%Y-%m-%dT%H:%M:%SZ) from:"
	for t in $(cat "$tmp/packed.txt"); do echo "  npm $(basename "$t" .tgz)"; done
	echo "  data/geo/aws-ranges.txt ($(sed -n 1p data/geo/aws-ranges.txt | sed 's/^# //; s/,$//'))"
	echo
	echo "IP to ASN: RouteViews (routeviews.org), the RIRs' statistics via NRO (nro.net) and the"
	echo "DB-IP IP to ASN Lite database (db-ip.com), merged by ip-location-db; IP to country: DB-IP"
	echo "IP to Country Lite (db-ip.com). All CC-BY-4.0: https://creativecommons.org/licenses/by/4.0/"
	echo "IP Geolocation by DB-IP: https://db-ip.com"
} >"$OUT.txt"
echo "mamori: wrote $OUT ($(wc -c <"$OUT") bytes); scans use it by default"
