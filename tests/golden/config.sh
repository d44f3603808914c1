#!/bin/sh
# config.sh MAMORI - the config file through the binary: `config show`
# prints every registered detector as YAML that loads back, `config
# check` and `scan --config` refuse a bad file with exit 2 and a located
# message (before touching the database), and disabling a detector
# (threat intel, with a custom list) removes its finding, whether the
# file comes from --config, an options file or $MAMORI_CONFIG. Needs
# nothing outside the repository. Ends "config: N passed, N failed".
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/suite.sh"
unset MAMORI_CONFIG

# --- config show: every detector, loads back, a fixed point ---------------
"$M" config show >"$T/show.yaml" 2>"$T/show.err"; rc=$?
expect show_exit "exit $rc: $(cat "$T/show.err")" test $rc -eq 0
expect show_threatintel "no threatintel section" has "$T/show.yaml" "^threatintel:"
expect show_rootcred "no rootcred section" has "$T/show.yaml" "^rootcred:"
n_det=$(grep -c '^[a-z][a-z0-9_-]*:$' "$T/show.yaml")
n_en=$(grep -c '^  enabled: true$' "$T/show.yaml")
expect show_enabled_per_detector "$n_det sections, $n_en 'enabled: true'" test "$n_det" -ge 2 -a "$n_det" -eq "$n_en"
expect show_defaults_unchanged "a default is marked changed" sh -c "! grep -q '# changed' '$T/show.yaml'"
"$M" config check "$T/show.yaml" >"$T/chk.out" 2>&1; rc=$?
expect show_loads_back "exit $rc: $(cat "$T/chk.out")" test $rc -eq 0
expect check_says_ok "want 'show.yaml: ok': $(cat "$T/chk.out")" has "$T/chk.out" "show.yaml: ok"
"$M" config show --config "$T/show.yaml" | grep -v '^#' >"$T/show2.yaml"
grep -v '^#' "$T/show.yaml" >"$T/show1.yaml"
expect show_fixed_point "show of show differs" cmp -s "$T/show1.yaml" "$T/show2.yaml"
if python3 -c 'import yaml' 2>/dev/null; then
	expect show_is_yaml "python's yaml cannot read it" python3 -c \
		'import sys, yaml; d = yaml.safe_load(open(sys.argv[1])); assert d["threatintel"]["enabled"] is True' \
		"$T/show.yaml"
else
	skipped show_is_yaml "python3 yaml module not installed"
fi
printf 'threatintel:\n  enabled: off\n' >"$T/off.yaml"
"$M" config show --config "$T/off.yaml" >"$T/off-show.yaml"
expect show_marks_changed "want 'enabled: false    # changed (default true)'" \
	has "$T/off-show.yaml" "^  enabled: false    # changed (default true)$"
"$M" config check "$T/off-show.yaml" >/dev/null 2>&1
expect changed_show_loads_back "exit $?" test $? -eq 0

# --- bad files: exit 2, file:line:column: reason -------------------------
printf 'threatintel:\n  enabled: false\nrootcred:\n  enable: true\n' >"$T/bad.yaml"
"$M" config check "$T/bad.yaml" >"$T/bad.out" 2>"$T/bad.err"; rc=$?
expect check_bad_exit_2 "exit $rc" test $rc -eq 2
expect check_bad_located "want bad.yaml:4:3 unknown setting: $(cat "$T/bad.err")" \
	has "$T/bad.err" "bad.yaml:4:3: unknown setting 'enable' in section 'rootcred'; did you mean 'enabled'?"
printf 'threatintel:\n  enabled: true\n bad\n' >"$T/syntax.yaml"
"$M" config check "$T/syntax.yaml" >/dev/null 2>"$T/syntax.err"; rc=$?
expect check_syntax_exit_2 "exit $rc" test $rc -eq 2
expect check_syntax_located "$(cat "$T/syntax.err")" has "$T/syntax.err" "syntax.yaml:3:2: YAML syntax error"
printf 'threatintl: {enabled: false}\n' >"$T/sect.yaml"
"$M" config check "$T/sect.yaml" >/dev/null 2>"$T/sect.err"
expect unknown_section_lists_known "$(cat "$T/sect.err")" \
	has "$T/sect.err" "sect.yaml:1:1: unknown section 'threatintl'; did you mean 'threatintel'? (known: threatintel, rootcred"
"$M" config check "$T/missing.yaml" >/dev/null 2>"$T/miss.err"; rc=$?
expect check_missing_exit_2 "exit $rc: $(cat "$T/miss.err")" test $rc -eq 2
"$M" config check >/dev/null 2>&1; rc=$?
expect check_nothing_exit_2 "exit $rc" test $rc -eq 2
"$M" config frob >/dev/null 2>&1; rc=$?
expect config_unknown_command_exit_2 "exit $rc" test $rc -eq 2

# --- scan --config ----------------------------------------------------------
mkdir -p "$T/in"
printf '203.0.113.0/28\n' >"$T/custom.txt"
cat >"$T/in/vpcflow.log" <<'LOG'
version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status
2 123456789012 eni-0cf0cf0cf0cf00011 203.0.113.7 10.0.2.10 50500 22 6 20 4249 1714557600 1714557660 ACCEPT OK
2 123456789012 eni-0cf0cf0cf0cf00011 10.0.2.10 203.0.113.7 22 50500 6 18 5120 1714557600 1714557660 ACCEPT OK
LOG
S="--no-default-lists --threat-list custom=$T/custom.txt --format json --no-progress"
"$M" scan --db "$T/on.db" $S "$T/in" >"$T/on.json" 2>"$T/on.err"; rc=$?
expect scan_default_finds "exit $rc, $(wc -l <"$T/on.json") findings: $(tail -2 "$T/on.err")" \
	has "$T/on.json" "MaliciousIPCaller.Custom"
"$M" scan --db "$T/off.db" --config "$T/off.yaml" $S "$T/in" >"$T/off.json" 2>"$T/off.err"; rc=$?
expect scan_disabled_exit_0 "exit $rc: $(tail -2 "$T/off.err")" test $rc -eq 0
expect scan_disabled_finds_nothing "$(cat "$T/off.json")" sh -c "! grep -q MaliciousIPCaller '$T/off.json'"
expect scan_disabled_read_records "$(grep scanned "$T/off.err")" has "$T/off.err" "flow 2"
printf 'threatintel:\n  enabled: true\n' >"$T/on.yaml"
"$M" scan --db "$T/on2.db" --config "$T/on.yaml" $S "$T/in" >"$T/on2.json" 2>/dev/null
expect scan_enabled_true_finds "no finding" has "$T/on2.json" "MaliciousIPCaller.Custom"
# a bad config stops the scan before the database is created
"$M" scan --db "$T/bad.db" --config "$T/bad.yaml" $S "$T/in" >/dev/null 2>"$T/scanbad.err"; rc=$?
expect scan_bad_config_exit_2 "exit $rc" test $rc -eq 2
expect scan_bad_config_located "$(cat "$T/scanbad.err")" \
	has "$T/scanbad.err" "mamori scan: .*bad.yaml:4:3: unknown setting 'enable'"
expect scan_bad_config_no_db "the database was created" test ! -e "$T/bad.db"
# from an options file: --config relative to the options file's folder
mkdir -p "$T/opts"
cp "$T/off.yaml" "$T/opts/mamori.yaml"
printf -- '--config\nmamori.yaml\n' >"$T/opts/scan.args"
"$M" scan --db "$T/of.db" --options-file "$T/opts/scan.args" $S "$T/in" >"$T/of.json" 2>"$T/of.err"; rc=$?
expect options_file_config "exit $rc, $(cat "$T/of.json" "$T/of.err" | head -c 300)" \
	sh -c "[ $rc -eq 0 ] && ! grep -q MaliciousIPCaller '$T/of.json'"
# $MAMORI_CONFIG is the default; --config wins over it
MAMORI_CONFIG="$T/off.yaml" "$M" scan --db "$T/env.db" $S "$T/in" >"$T/env.json" 2>/dev/null
expect env_config_used "$(head -c 300 "$T/env.json")" sh -c "! grep -q MaliciousIPCaller '$T/env.json'"
MAMORI_CONFIG="$T/off.yaml" "$M" scan --db "$T/env2.db" --config "$T/on.yaml" $S "$T/in" >"$T/env2.json" 2>/dev/null
expect flag_beats_env "no finding with --config on.yaml" has "$T/env2.json" "MaliciousIPCaller.Custom"
MAMORI_CONFIG="$T/bad.yaml" "$M" config show >/dev/null 2>&1; rc=$?
expect env_bad_config_exit_2 "exit $rc" test $rc -eq 2
"$M" scan --help >"$T/help" 2>&1
expect scan_help_mentions_config "no --config in scan --help" has "$T/help" "--config FILE"

echo "config: $pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
