#!/bin/sh
# netbase.sh MAMORI - baselines persist across scans: for every netbase
# case, scanning its first five days and then the rest into the same
# database gives the same findings as one scan over all of them (the
# detector's state is saved at the first scan's end and continued by the
# second). Ends "netbase: N passed, N failed".
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/suite.sh"

scan_into() { # DB CASE_DIR INPUT_DIR
	(db=$1; in=$3; cd "$2" && {
		set --
		while IFS= read -r a || [ -n "$a" ]; do
			case $a in '' | '#'*) continue ;; esac
			set -- "$@" "$a"
		done <args
		"$M" scan --db "$db" --format json --no-progress "$@" "$in" >/dev/null 2>>"$T/err"
	})
}

if command -v python3 >/dev/null 2>&1; then
	for c in "$HERE"/cases/netbase-*/; do
		c=${c%/}; name=${c##*/}
		mkdir -p "$T/$name/a" "$T/$name/b"
		for f in "$c"/input/*; do
			case ${f##*/} in
			*day0[0-4]*) cp "$f" "$T/$name/a/" ;;
			*) cp "$f" "$T/$name/b/" ;;
			esac
		done
		scan_into "$T/$name-one.db" "$c" "$c/input"
		scan_into "$T/$name-two.db" "$c" "$T/$name/a"
		"$M" findings list --db "$T/$name-two.db" --format json >"$T/$name-mid.json" 2>>"$T/err"
		scan_into "$T/$name-two.db" "$c" "$T/$name/b"
		for k in one two; do
			"$M" findings list --db "$T/$name-$k.db" --format json 2>>"$T/err" |
				python3 "$HERE/lib/normalise.py" >"$T/$name-$k.jsonl"
		done
		python3 "$HERE/lib/normalise.py" <"$T/$name-mid.json" >"$T/$name-mid.jsonl"
		expect "${name}_first_half_quiet" "findings before any baseline: $(head -2 "$T/$name-mid.jsonl")" \
			test ! -s "$T/$name-mid.jsonl"
		expect "${name}_nonempty" "no findings: $(tail -3 "$T/err")" test -s "$T/$name-one.jsonl"
		expect "${name}_two_scans_equal_one" \
			"$(diff "$T/$name-one.jsonl" "$T/$name-two.jsonl" | head -5)" \
			cmp -s "$T/$name-one.jsonl" "$T/$name-two.jsonl"
	done
else
	skipped netbase "python3 not found"
fi
echo "netbase: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
