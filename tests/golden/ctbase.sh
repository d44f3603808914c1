#!/bin/sh
# ctbase.sh MAMORI - principal baselines persist across scans: for every
# ctbase case, scanning the first half of its files (by name: by day) and
# then the rest into the same database gives the same findings as one
# scan over all of them (the detector's state is saved at the first
# scan's end and continued by the second), and the first half alone,
# before any baseline or attack, finds nothing. Ends "ctbase: N passed,
# N failed".
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
	for c in "$HERE"/cases/ctbase-*/; do
		c=${c%/}; name=${c##*/}
		mkdir -p "$T/$name/a" "$T/$name/b"
		n=$(ls "$c/input" | wc -l); k=0
		for f in $(ls "$c/input" | sort); do
			k=$((k + 1))
			if [ $((k * 2)) -le "$n" ]; then cp "$c/input/$f" "$T/$name/a/"; else cp "$c/input/$f" "$T/$name/b/"; fi
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
		expect "${name}_first_half_quiet" "findings before the attack: $(head -2 "$T/$name-mid.jsonl")" \
			test ! -s "$T/$name-mid.jsonl"
		expect "${name}_nonempty" "no findings: $(tail -3 "$T/err")" test -s "$T/$name-one.jsonl"
		expect "${name}_two_scans_equal_one" \
			"$(diff "$T/$name-one.jsonl" "$T/$name-two.jsonl" | head -5)" \
			cmp -s "$T/$name-one.jsonl" "$T/$name-two.jsonl"
	done
else
	skipped ctbase "python3 not found"
fi
echo "ctbase: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
