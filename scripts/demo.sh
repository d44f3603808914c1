#!/bin/sh
# demo.sh MAMORI - the main job on bundled data: simulate ten days of an AWS
# estate with attacks in it, scan it into SQLite, show the findings.
set -e
M=$1
OUT=${DEMO_OUT:-demo-out}
rm -rf "$OUT"
echo "==> mamori sim --out $OUT --days 10 --seed 1"
"$M" sim --out "$OUT" --days 10 --seed 1
echo "==> mamori scan --db $OUT/mamori.db --options-file $OUT/scan.args $OUT/AWSLogs"
"$M" scan --db "$OUT/mamori.db" --options-file "$OUT/scan.args" "$OUT/AWSLogs" --format json >/dev/null
echo "==> mamori findings list --db $OUT/mamori.db"
"$M" findings list --db "$OUT/mamori.db" --format table
echo
echo "==> mamori sim verify --truth $OUT/truth.json --db $OUT/mamori.db"
"$M" sim verify --truth "$OUT/truth.json" --db "$OUT/mamori.db" | tail -n 1
echo
echo "Next: mamori findings show ID --db $OUT/mamori.db --format table"
echo "      (the full GuardDuty JSON: --format json)"
