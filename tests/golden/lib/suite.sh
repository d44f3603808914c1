# suite.sh - sourced by every tests/golden/*.sh suite after it set HERE:
# the binary under test ($1 made absolute) as M, the repository root,
# a temporary folder T removed at exit, the bundled data, no MAMORI_DB,
# and the pass/fail helpers each suite's closing "N passed, N failed"
# line counts.
M=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
ROOT=$(cd "$HERE/../.." && pwd)
T=$(mktemp -d)
# chmod first: a test may leave a folder it made unreadable
trap 'chmod -R u+rwx "$T" 2>/dev/null; rm -rf "$T"' EXIT
export MAMORI_DATA="$ROOT/data"
unset MAMORI_DB
pass=0; fail=0; skip=0
ok() { echo "ok   $1"; pass=$((pass+1)); }
bad() { echo "FAIL $1: $2"; fail=$((fail+1)); }
skipped() { echo "skip $1: $2"; skip=$((skip+1)); }
# expect NAME WHY COMMAND...: pass when COMMAND succeeds
expect() { n=$1; d=$2; shift 2; if "$@"; then ok "$n"; else bad "$n" "$d"; fi; }
has() { grep -q -- "$2" "$1"; }
hasE() { grep -Eq -- "$2" "$1"; }
# rows of database $1 whose criteria columns (schema 4, filled from each
# finding's JSON as it is written) differ from what SQLite's json_extract
# reads in that JSON, types included
jcols_differ() {
	sqlite3 "$1" "SELECT count(*) FROM findings WHERE j_severity IS NOT json_extract(json, '\$.severity')
 OR typeof(j_severity) IS NOT typeof(json_extract(json, '\$.severity'))
 OR j_updated IS NOT json_extract(json, '\$.updatedAt') OR j_created IS NOT json_extract(json, '\$.createdAt')
 OR j_account IS NOT json_extract(json, '\$.accountId') OR j_region IS NOT json_extract(json, '\$.region')
 OR j_instance IS NOT json_extract(json, '\$.resource.instanceDetails.instanceId')
 OR j_akid IS NOT json_extract(json, '\$.resource.accessKeyDetails.accessKeyId')" 2>&1
}
# the stored findings of database $1 without the wall-clock fields, one a
# line, sorted
norm() { "$M" findings list --db "$1" --format json | sed 's/"createdAt":"[^"]*","updatedAt":"[^"]*"//g' | sort; }
same() { # NAME DB-A DB-B: pass when both hold findings and the same ones
	norm "$2" >"$T/a.jsonl"; norm "$3" >"$T/b.jsonl"
	if [ -s "$T/a.jsonl" ] && cmp -s "$T/a.jsonl" "$T/b.jsonl"; then ok "$1"; else
		bad "$1" "$(wc -l <"$T/a.jsonl") vs $(wc -l <"$T/b.jsonl") findings; first difference:"
		diff "$T/a.jsonl" "$T/b.jsonl" | head -4 | cut -c1-300 | sed 's/^/    /'; fi
}
