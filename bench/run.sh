#!/usr/bin/env bash
# run.sh - mamori's benchmark harness: speed and peak memory of `mamori scan`
# against the floor (cat, wc -l, gzip -dc) and the tools users would otherwise
# reach for (mawk, DuckDB, simdjson, jq), on three jobs: VPC flows x threat
# list, CloudTrail, Route 53 Resolver DNS. Writes bench/RESULTS.md.
#
#   bench/run.sh [MAMORI_BINARY] [--quick]      (make bench = bench/run.sh build/mamori)
#   ONLY='*/mamori*' bench/run.sh ...            re-measure only matching JOB/ID rows
#
# --quick uses 1/10 of every input. Generated data lives in bench/work/ (git-
# ignored, ~7.5 GB at full size) and is reused when present. Each measurement is
# the median of RUNS (3) runs under GNU time (wall clock, %M peak RSS: the
# largest process of the command); a command whose first run takes longer
# than LONG seconds (60) is run once, to keep a full run under ~25 minutes.
# Both cores are available to every tool; nothing else is pinned or tuned.
set -euo pipefail

SELF=$(readlink -f "$0")
cd "$(dirname "$SELF")/.."
MAMORI=build/mamori
QUICK=0
for a in "$@"; do
	case $a in
	--quick) QUICK=1 ;;
	-h | --help)
		sed -n '2,15p' "$SELF"
		exit 0
		;;
	-*)
		echo "run.sh: unknown option $a" >&2
		exit 2
		;;
	*) MAMORI=$a ;;
	esac
done
RUNS=${RUNS:-3}
LONG=${LONG:-60}
W=bench/work
if [ $QUICK = 1 ]; then SCALE=10; else SCALE=1; fi
D=$W/data-s$SCALE
BIN=$W/bin
RES=$W/results-s$SCALE.tsv
OUT=bench/RESULTS.md
[ $QUICK = 1 ] && OUT=$W/RESULTS-quick.md
mkdir -p "$W" "$BIN"
T_START=$(date +%s)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# ---- tools ---------------------------------------------------------------
need() { command -v "$1" >/dev/null 2>&1 || { echo "run.sh: $1 not found ($2)" >&2; exit 1; }; }
need mawk "apt-get install mawk"
need jq "apt-get install jq"
need node "install Node.js >= 18"
[ -x /usr/bin/time ] || { echo "run.sh: GNU time not found (apt-get install time)" >&2; exit 1; }

if [ ! -x $BIN/gen ] || [ bench/gen.c -nt $BIN/gen ]; then
	log "building gen"
	cc -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -o $BIN/gen bench/gen.c
fi
if [ ! -x $BIN/simdjson_ct ] || [ bench/simdjson_ct.cpp -nt $BIN/simdjson_ct ]; then
	log "building simdjson_ct"
	g++ -O3 -std=c++17 -o $BIN/simdjson_ct bench/simdjson_ct.cpp -lsimdjson -lz -pthread
fi
if [ ! -d bench/node_modules/@duckdb/node-api ]; then
	log "installing @duckdb/node-api (npm ci)"
	(cd bench && npm ci --no-audit --no-fund) >&2
fi

# ---- data ----------------------------------------------------------------
if [ ! -f $D/manifest.tsv ]; then
	log "generating data (scale 1/$SCALE) into $D"
	rm -rf $D.tmp
	$BIN/gen $D.tmp --scale $SCALE
	# manifest paths name the temporary directory; fix them before the move
	sed -i "s|$D.tmp/|$D/|" $D.tmp/manifest.tsv
	mv $D.tmp $D
fi
# the same CloudTrail volume with callers as real accounts have them (gen.c
# --ct-typical): an extra, informational job; targets are judged on $D's
DT=$W/data-cttypical-s$SCALE
if [ ! -f $DT/manifest.tsv ]; then
	log "generating typical-caller CloudTrail (scale 1/$SCALE) into $DT"
	rm -rf $DT.tmp
	$BIN/gen $DT.tmp --scale $SCALE --ct-typical
	sed -i "s|$DT.tmp/|$DT/|" $DT.tmp/manifest.tsv
	mv $DT.tmp $DT
fi
if [ ! -f $D/gz.done ]; then
	log "making .gz copies (gzip -6, 2 processes)"
	for k in flows ct dns; do mkdir -p $D/$k-gz; done
	(cd $D && ls flows/* ct/* dns/*) | xargs -P2 -I{} sh -c 'f={}; gzip -6 -c "'$D'/$f" > "'$D'/${f%%/*}-gz/${f#*/}.gz"'
	touch $D/gz.done
fi

# manifest: kind path records bytes
recs() { awk -F'\t' -v k=$1 '$1==k {s+=$3} END {print s+0}' $D/manifest.tsv; }
bytes() { awk -F'\t' -v k=$1 '$1==k {s+=$4} END {print s+0}' $D/manifest.tsv; }
FLOW_RECS=$(recs flows)
FLOW_BYTES=$(bytes flows)
CT_RECS=$(recs ct)
CT_BYTES=$(bytes ct)
DNS_RECS=$(recs dns)
DNS_BYTES=$(bytes dns)
FLOWS="$D/flows/*.log"
FLOWS_GZ="$D/flows-gz/*.log.gz"
# a quarter of the flows (5 of 20 files) for the RSS-flatness run
FLOWS_Q=$(awk -F'\t' '$1=="flows" && n++ < 5 {print $2}' $D/manifest.tsv | tr '\n' ' ')
FLOWQ_RECS=$(awk -F'\t' '$1=="flows" && n++ < 5 {s+=$3} END {print s}' $D/manifest.tsv)
FLOWQ_BYTES=$(awk -F'\t' '$1=="flows" && n++ < 5 {s+=$4} END {print s}' $D/manifest.tsv)
CTS="$D/ct/*.json"
CTS_GZ="$D/ct-gz/*.json.gz"
DNSS="$D/dns/*.log"
DNSS_GZ="$D/dns-gz/*.log.gz"
# jq slices: first CloudTrail files up to >= 20k records (or all in --quick);
# the first 20k DNS lines
CT_SLICE=$(awk -F'\t' '$1=="ct" && s < 20000 {s+=$3; print $2}' $D/manifest.tsv | tr '\n' ' ')
CT_SLICE_RECS=$(awk -F'\t' '$1=="ct" && s < 20000 {s+=$3} END {print s}' $D/manifest.tsv)
CT_SLICE_BYTES=$(cat $CT_SLICE | wc -c)
head -n 20000 $(ls $D/dns/*.log | head -1) >$W/dns-slice-s$SCALE.log
DNS_SLICE=$W/dns-slice-s$SCALE.log
DNS_SLICE_BYTES=$(wc -c <$DNS_SLICE)
SJ=$BIN/simdjson_ct
DUCK="node bench/duckdb.mjs"

# ---- mamori ----------------------------------------------------------------
HAVE_MAMORI=0
MAMORI_NOTE=""
DB=$W/bench.db
if [ -x "$MAMORI" ]; then
	if help=$("$MAMORI" scan --help 2>&1) && grep -q -- '--threat-list' <<<"$help" &&
		grep -q -- '--no-default-lists' <<<"$help"; then
		HAVE_MAMORI=1
	else
		MAMORI_NOTE="\`$MAMORI scan --help\` did not list --threat-list/--no-default-lists"
	fi
else
	MAMORI_NOTE="no mamori binary at \`$MAMORI\`"
fi
# the database is recreated every run, so every run does the same work
SIGMA=${SIGMA:-../shared/data/sigma/rules/cloud/aws}
mscan() { echo "rm -f $DB $DB-wal $DB-shm; exec $MAMORI scan --db $DB --no-default-lists --threat-list custom=$1 --format json ${*:2} >/dev/null"; }

# ---- measurement -----------------------------------------------------------
# ONLY=PATTERN (a bash glob over JOB/ID, e.g. ONLY='*/mamori*') re-measures
# just those rows, keeping the others from the previous run's results.
ONLY=${ONLY:-}
[ -z "$ONLY" ] || [ ! -f $RES ] && : >$RES
# measure JOB ID TOOL TASK INPUT RECORDS BYTES SCALE CMD
#   SCALE multiplies the measured time (slices); CMD runs under bash -c.
measure() {
	local job=$1 id=$2 tool=$3 task=$4 input=$5 recs=$6 nbytes=$7 scale=$8 cmd=$9
	local ts=() rss=() i e m rc check="" status=ok
	if [ -n "$ONLY" ] && [[ "$job/$id" != $ONLY ]]; then return 0; fi
	log "$job/$id: ${cmd:0:150}"
	for ((i = 1; i <= RUNS; i++)); do
		rc=0
		/usr/bin/time -f '%e %M' -o $W/time.out bash -c "$cmd" >$W/out.txt 2>$W/err.txt || rc=$?
		if [ $rc != 0 ]; then
			status="failed (exit $rc): $(tail -c 200 $W/err.txt | tr '\n\t|' '   ')"
			log "  FAILED rc=$rc: $(tail -3 $W/err.txt)"
			break
		fi
		read -r e m < <(tail -1 $W/time.out)
		ts+=("$e")
		rss+=("$m")
		log "  run $i: ${e}s ${m}KB"
		awk -v e="$e" -v l="$LONG" 'BEGIN {exit !(e > l)}' && break
	done
	check=$(cat $W/out.txt $W/err.txt | grep -m1 -o 'records=[^ ]* matches=[^ ]*' || true)
	[ -z "$check" ] && check=$(head -c 60 $W/out.txt | tr '\n\t|' '   ' | sed 's/^ *//; s/ *$//')
	[ -z "$check" ] && check=$(tail -1 $W/err.txt | head -c 100 | tr '\t|' '  ')
	[ -z "$check" ] && check="-"
	local n=${#ts[@]} med="" peak=""
	if [ "$n" -gt 0 ]; then
		med=$(printf '%s\n' "${ts[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
		peak=$(printf '%s\n' "${rss[@]}" | sort -g | tail -1)
	fi
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$job" "$id" "$tool" "$task" "$input" \
		"$recs" "$nbytes" "$scale" "$med" "$n" "$peak" "${check:-$status}" >$W/row.tsv
	# replace the row of the same JOB/ID in place (ONLY=...), else append
	awk -F'\t' -v row="$(cat $W/row.tsv)" -v k="$job/$id" \
		'($1 "/" $2) == k {print row; done = 1; next} {print} END {if (!done) print row}' $RES >$RES.new
	mv $RES.new $RES
}

# warm the page cache once so no tool pays for the first read
cat $FLOWS $FLOWS_GZ $CTS $CTS_GZ $DNSS $DNSS_GZ >/dev/null

# ---- job 1: VPC flows x threat list ----------------------------------------
J=flows
measure $J cat floor "cat" plain $FLOW_RECS $FLOW_BYTES 1 "cat $FLOWS >/dev/null"
measure $J wc floor "wc -l" plain $FLOW_RECS $FLOW_BYTES 1 "wc -l $FLOWS | tail -1"
measure $J zcat floor "gzip -dc" gz $FLOW_RECS $FLOW_BYTES 1 "gzip -dc $FLOWS_GZ >/dev/null"
if [ $HAVE_MAMORI = 1 ]; then
	measure $J mamori mamori "scan, every detector" plain $FLOW_RECS $FLOW_BYTES 1 "$(mscan $D/threats.txt $FLOWS)"
	measure $J mamori-gz mamori "scan, every detector" gz $FLOW_RECS $FLOW_BYTES 1 "$(mscan $D/threats.txt $FLOWS_GZ)"
	measure $J mamori-q mamori "scan, 1/4 of the input" plain $FLOWQ_RECS $FLOWQ_BYTES 1 "$(mscan $D/threats.txt $FLOWS_Q)"
	# the threat-list detectors alone (the behaviour detectors off): what
	# the threat-list scan's targets (RSS < 100 MB) were set for
	measure $J mamori-tl mamori "scan, threat-list detectors only" plain $FLOW_RECS $FLOW_BYTES 1 \
		"$(mscan $D/threats.txt --config bench/threatlist-only.yaml $FLOWS)"
fi
# interfaces with records (log-status OK) in the quarter and in the whole
# (report.awk: peak RSS per tracked ENI). Counted once per input.
if [ ! -s $W/enis-s$SCALE.txt ] || [ $D/manifest.tsv -nt $W/enis-s$SCALE.txt ]; then
	{
		mawk '$14 == "OK" && !($3 in e) {e[$3]; n++} END {print n + 0}' $FLOWS_Q
		mawk '$14 == "OK" && !($3 in e) {e[$3]; n++} END {print n + 0}' $FLOWS
	} >$W/enis-s$SCALE.txt
fi
ENIS_Q=$(sed -n 1p $W/enis-s$SCALE.txt)
ENIS_F=$(sed -n 2p $W/enis-s$SCALE.txt)
measure $J duck-join duckdb "threat-list join" plain $FLOW_RECS $FLOW_BYTES 1 "$DUCK flows-join $D/threats.txt $FLOWS"
measure $J duck-join-gz duckdb "threat-list join" gz $FLOW_RECS $FLOW_BYTES 1 "$DUCK flows-join $D/threats.txt $FLOWS_GZ"
measure $J duck-ports duckdb "distinct ports / source" plain $FLOW_RECS $FLOW_BYTES 1 "$DUCK flows-ports $FLOWS"
# mawk's join runs ~25-50 us a line: at full size it is measured on the
# quarter (5 files) and scaled x4, once, to keep the run under 25 minutes
if [ $QUICK = 1 ]; then
	measure $J awk-join mawk "threat-list join" plain $FLOW_RECS $FLOW_BYTES 1 "mawk -f bench/flows_join.awk $D/threats.txt $FLOWS >/dev/null"
else
	measure $J awk-join mawk "threat-list join (1/4 slice, x4)" plain $FLOWQ_RECS $FLOWQ_BYTES 4 "mawk -f bench/flows_join.awk $D/threats.txt $FLOWS_Q >/dev/null"
fi
measure $J awk-ports mawk "distinct ports / source" plain $FLOW_RECS $FLOW_BYTES 1 "mawk -f bench/flows_ports.awk $FLOWS >/dev/null"

# ---- job 2: CloudTrail -------------------------------------------------------
J=cloudtrail
measure $J cat floor "cat" plain $CT_RECS $CT_BYTES 1 "cat $CTS >/dev/null"
measure $J wc floor "wc -l" plain $CT_RECS $CT_BYTES 1 "wc -l $CTS | tail -1"
measure $J zcat floor "gzip -dc" gz $CT_RECS $CT_BYTES 1 "gzip -dc $CTS_GZ >/dev/null"
if [ $HAVE_MAMORI = 1 ]; then
	measure $J mamori mamori "scan, every detector" plain $CT_RECS $CT_BYTES 1 "$(mscan $D/threats.txt $CTS)"
	measure $J mamori-gz mamori "scan, every detector" gz $CT_RECS $CT_BYTES 1 "$(mscan $D/threats.txt $CTS_GZ)"
	# the same with the community's Sigma rules for CloudTrail (the shared
	# data set's SigmaHQ copy, when it is beside the repository)
	if [ -d "$SIGMA" ]; then
		NSIGMA=$(find "$SIGMA" -name '*.yml' | wc -l)
		measure $J mamori-sigma mamori "scan, every detector + $NSIGMA Sigma rules" plain $CT_RECS $CT_BYTES 1 \
			"$(mscan $D/threats.txt --rules $SIGMA $CTS)"
	fi
fi
measure $J sj simdjson "4 fields, 1 thread" plain $CT_RECS $CT_BYTES 1 "$SJ ct $CTS"
measure $J sj2 simdjson "4 fields, 2 threads" plain $CT_RECS $CT_BYTES 1 "$SJ ct -j 2 $CTS"
measure $J sj2-gz simdjson "4 fields, 2 threads" gz $CT_RECS $CT_BYTES 1 "$SJ ct -j 2 $CTS_GZ"
measure $J duck duckdb "3 fields + IP-list join" plain $CT_RECS $CT_BYTES 1 "$DUCK ct $D/threats.txt $CTS"
measure $J duck-gz duckdb "3 fields + IP-list join" gz $CT_RECS $CT_BYTES 1 "$DUCK ct $D/threats.txt $CTS_GZ"
SC=$(awk -v a=$CT_BYTES -v b=$CT_SLICE_BYTES 'BEGIN {printf "%.4f", a / b}')
measure $J jq jq "4 fields ($CT_SLICE_RECS-record slice, x$SC)" plain $CT_SLICE_RECS $CT_SLICE_BYTES $SC \
	"jq -r '.Records[] | [.eventName, .eventTime, .sourceIPAddress, .userIdentity.accessKeyId] | @tsv' $CT_SLICE >/dev/null"

# ---- job 2b: CloudTrail, typical callers (informational) ---------------------
J=ct-typical
CTT="$DT/ct/*.json"
CTT_RECS=$(awk -F'\t' '$1=="ct" {s+=$3} END {print s+0}' $DT/manifest.tsv)
CTT_BYTES=$(awk -F'\t' '$1=="ct" {s+=$4} END {print s+0}' $DT/manifest.tsv)
cat $CTT >/dev/null
measure $J cat floor "cat" plain $CTT_RECS $CTT_BYTES 1 "cat $CTT >/dev/null"
if [ $HAVE_MAMORI = 1 ]; then
	measure $J mamori mamori "scan, every detector" plain $CTT_RECS $CTT_BYTES 1 "$(mscan $DT/threats.txt $CTT)"
	if [ -d "$SIGMA" ]; then
		measure $J mamori-sigma mamori "scan, every detector + $NSIGMA Sigma rules" plain $CTT_RECS $CTT_BYTES 1 \
			"$(mscan $DT/threats.txt --rules $SIGMA $CTT)"
	fi
fi
measure $J sj simdjson "4 fields, 1 thread" plain $CTT_RECS $CTT_BYTES 1 "$SJ ct $CTT"

# ---- job 3: Route 53 Resolver DNS -----------------------------------------------
J=dns
measure $J cat floor "cat" plain $DNS_RECS $DNS_BYTES 1 "cat $DNSS >/dev/null"
measure $J wc floor "wc -l" plain $DNS_RECS $DNS_BYTES 1 "wc -l $DNSS | tail -1"
measure $J zcat floor "gzip -dc" gz $DNS_RECS $DNS_BYTES 1 "gzip -dc $DNSS_GZ >/dev/null"
if [ $HAVE_MAMORI = 1 ]; then
	measure $J mamori mamori "scan, every detector" plain $DNS_RECS $DNS_BYTES 1 "$(mscan $D/domains.txt $DNSS)"
	measure $J mamori-gz mamori "scan, every detector" gz $DNS_RECS $DNS_BYTES 1 "$(mscan $D/domains.txt $DNSS_GZ)"
fi
measure $J sj simdjson "2 fields + domain match, 1 thread" plain $DNS_RECS $DNS_BYTES 1 "$SJ dns $D/domains.txt $DNSS"
measure $J sj2 simdjson "2 fields + domain match, 2 threads" plain $DNS_RECS $DNS_BYTES 1 "$SJ dns -j 2 $D/domains.txt $DNSS"
measure $J sj2-gz simdjson "2 fields + domain match, 2 threads" gz $DNS_RECS $DNS_BYTES 1 "$SJ dns -j 2 $D/domains.txt $DNSS_GZ"
measure $J duck duckdb "domain match (exact + parents)" plain $DNS_RECS $DNS_BYTES 1 "$DUCK dns $D/domains.txt $DNSS"
measure $J duck-gz duckdb "domain match (exact + parents)" gz $DNS_RECS $DNS_BYTES 1 "$DUCK dns $D/domains.txt $DNSS_GZ"
SC=$(awk -v a=$DNS_BYTES -v b=$DNS_SLICE_BYTES 'BEGIN {printf "%.4f", a / b}')
measure $J jq jq "2 fields (20000-line slice, x$SC)" plain 20000 $DNS_SLICE_BYTES $SC \
	"jq -r '[.query_name, .srcaddr] | @tsv' $DNS_SLICE >/dev/null"

# ---- job 4: a flood of distinct ENIs ------------------------------------------
# 1M flow records, each from its own ENI to one listed address: 1M findings.
# Memory must stay bounded by spilling full finding tables into the open
# transaction, never by dropping findings: the answer column is the scan's
# own count of findings stored.
J=flood
FL=$D/flood
if [ ! -f $FL/flood.log ]; then
	log "generating the ENI flood (1M records)"
	mkdir -p $FL
	echo "100.200.3.3" >$FL/list.txt
	awk 'BEGIN { print "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"
		for (i = 0; i < 1000000; i++)
			printf "2 123456789012 eni-%017x 10.%d.%d.%d 100.200.3.3 %d 443 6 10 840 1714557600 1714557660 ACCEPT OK\n",
				i, int(i / 65536) % 256, int(i / 256) % 256, i % 256, 32768 + i % 20000 }' >$FL/flood.log
fi
FLOOD_BYTES=$(wc -c <$FL/flood.log)
measure $J wc floor "wc -l" plain 1000000 $FLOOD_BYTES 1 "wc -l $FL/flood.log"
if [ $HAVE_MAMORI = 1 ]; then
	measure $J mamori mamori "scan, 1M findings stored, 2 threads" plain 1000000 $FLOOD_BYTES 1 \
		"rm -f $DB $DB-wal $DB-shm; exec $MAMORI scan --db $DB --no-default-lists --threat-list custom=$FL/list.txt --format none $FL/flood.log"
	measure $J mamori-1t mamori "scan, 1M findings stored, 1 thread" plain 1000000 $FLOOD_BYTES 1 \
		"rm -f $DB $DB-wal $DB-shm; exec $MAMORI scan --db $DB --threads 1 --no-default-lists --threat-list custom=$FL/list.txt --format none $FL/flood.log"
fi

# ---- job 5: a simulated estate as days of input grow -------------------------
# `mamori sim` at scale 10 (~120 instances), every detector on (the
# baselines, probes, brute force, DoS, DNS), 3 then 10 days: time and peak
# RSS per day of input, and the persisted detector state per tracked ENI
# (from the store). RSS must stay flat as days grow: state is bounded per
# entity, findings spill.
J=estate
if [ $HAVE_MAMORI = 1 ]; then
	for days in 3 10; do
		E=$D/estate-d$days
		if [ ! -f $E/truth.json ] || [ "$MAMORI" -nt $E/truth.json ]; then
			log "generating the simulated estate ($days days, scale 10)"
			rm -rf $E
			"$MAMORI" sim --out $E --days $days --scale 10 --seed 1 >/dev/null
		fi
		EREC=$(cat $E/AWSLogs/*/vpcflowlogs/*/*/*/*/* 2>/dev/null | gzip -dcf | wc -l)
		EBYT=$(cat $E/AWSLogs/*/vpcflowlogs/*/*/*/*/* 2>/dev/null | gzip -dcf | wc -c)
		measure $J mamori-d$days mamori "scan sim estate, $days days, every detector" gz $EREC $EBYT 1 \
			"rm -f $DB $DB-wal $DB-shm; exec $MAMORI scan --db $DB --options-file $E/scan.args --format none $E/AWSLogs"
		if [ -z "$ONLY" ] || [[ "$J/mamori-d$days" == $ONLY ]]; then
			sqlite3 $DB "select '$days', count(distinct entity), coalesce(sum(length(state)),0) from detector_state where detector <> 'finding'" \
				>>$W/estate-state-s$SCALE.tsv.new 2>/dev/null || true
		fi
	done
	[ -f $W/estate-state-s$SCALE.tsv.new ] && mv $W/estate-state-s$SCALE.tsv.new $W/estate-state-s$SCALE.tsv
fi

# ---- job 6: the hunt (mamori flows) over a day of a large estate -------------
# `mamori sim --scale 100 --days 1` (~1,200 instances, 2M flow records, 33 MB
# of gzip): one ENI's rows and top talkers over the day, one instance's hour
# (files outside it skipped by their S3 key), and the scan of the same files
# for scale. Target (issue 6): a day of the estate answers in about a second.
J=hunt
if [ $HAVE_MAMORI = 1 ] && "$MAMORI" flows --help >/dev/null 2>&1; then
	H=$D/hunt-s100
	if [ ! -f $H/truth.json ] || [ "$MAMORI" -nt $H/truth.json ]; then
		log "generating the hunt estate (1 day, scale 100)"
		rm -rf $H
		"$MAMORI" sim --out $H --days 1 --scale 100 --seed 1 >/dev/null
	fi
	HREC=$(cat $H/AWSLogs/*/vpcflowlogs/*/*/*/*/* | gzip -dc | wc -l)
	HBYT=$(cat $H/AWSLogs/*/vpcflowlogs/*/*/*/*/* | gzip -dc | wc -c)
	# the first interface and instance of the inventory (awk reads to the
	# end: `head` would close the pipe and pipefail end the run)
	HENI=$(grep -o '"NetworkInterfaceId": *"eni-[0-9a-f]*"' $H/inventory.json | awk 'NR == 1 { sub(/.*"eni-/, "eni-"); sub(/"$/, ""); print }')
	HINST=$(grep -o '"InstanceId": *"i-[0-9a-f]*"' $H/inventory.json | awk 'NR == 1 { sub(/.*"i-/, "i-"); sub(/"$/, ""); print }')
	measure $J flows-eni mamori "flows --eni $HENI: every row of a day" gz $HREC $HBYT 1 \
		"exec $MAMORI flows --eni $HENI --limit 0 --format json $H/AWSLogs >/dev/null"
	measure $J flows-talkers mamori "flows --eni --summary talkers, a day" gz $HREC $HBYT 1 \
		"exec $MAMORI flows --eni $HENI --summary talkers --format json $H/AWSLogs >/dev/null"
	measure $J flows-hour mamori "flows --instance, one hour (other files skipped by key)" gz $HREC $HBYT 1 \
		"exec $MAMORI flows --instance $HINST --inventory $H/inventory.json --since 2024-03-04T10:00:00Z --until 2024-03-04T11:00:00Z --format json $H/AWSLogs >/dev/null"
	measure $J scan mamori "scan of the same files, every detector" gz $HREC $HBYT 1 \
		"rm -f $DB $DB-wal $DB-shm; exec $MAMORI scan --db $DB --options-file $H/scan.args --format none $H/AWSLogs"
fi

# ---- report ------------------------------------------------------------------
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
ELAPSED=$(($(date +%s) - T_START))
ver() { "$@" 2>&1 | head -1 | tr -d '\r' || true; }
{
	echo "# mamori benchmark results"
	echo
	if [ -n "$ONLY" ]; then
		echo "Report rewritten by \`ONLY='$ONLY' bench/run.sh\` on $(date -u +%Y-%m-%dT%H:%MZ): rows matching the"
		echo "pattern were re-measured then, the others come from the previous full run (its date, duration"
		echo "and load average are in bench/work/run-info-s$SCALE.txt and repeated here)."
		[ -f $W/run-info-s$SCALE.txt ] && cat $W/run-info-s$SCALE.txt
		echo
	else
		echo "Generated by \`bench/run.sh$([ $QUICK = 1 ] && echo ' --quick')\` on $(date -u +%Y-%m-%dT%H:%MZ) in ${ELAPSED}s" \
			"(load average at start $LOAD_START, at end $LOAD_END)." | tee $W/run-info-s$SCALE.txt
	fi
	echo "See bench/README.md for what each job does. Times are the median of up to $RUNS runs (wall clock,"
	echo "both cores available); a command whose first run took over ${LONG}s ran once. Throughput is of the"
	echo "*uncompressed* bytes and records, also for .gz input. Peak RSS is GNU time's %M (largest process)."
	echo "Rows marked xN were measured on a slice and scaled by N (bytes)."
	echo
	echo "## Machine"
	echo
	echo "| | |"
	echo "|---|---|"
	echo "| CPU | $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores available |"
	echo "| memory | $(free -h | awk '/^Mem:/ {print $2}') |"
	echo "| kernel | $(uname -sr) |"
	echo "| OS | $(. /etc/os-release && echo "$PRETTY_NAME") |"
	echo "| load average (1/5/15 min) | start: $LOAD_START; end: $LOAD_END (other work on the machine slows every row) |"
	echo "| mamori | $([ $HAVE_MAMORI = 1 ] && ver "$MAMORI" --version || echo "not measured: $MAMORI_NOTE") |"
	echo "| DuckDB | $(cd bench && node -e "import('@duckdb/node-api').then(async m=>{const i=await m.DuckDBInstance.create(':memory:');const c=await i.connect();console.log((await c.runAndReadAll('select version()')).getRows()[0][0])})") via @duckdb/node-api $(node -p "require('./bench/node_modules/@duckdb/node-api/package.json').version"), node $(node --version) |"
	echo "| simdjson | $(dpkg-query -W -f '${Version}' libsimdjson-dev 2>/dev/null) (Debian libsimdjson-dev), $(ver g++ --version) -O3 |"
	echo "| mawk | $(ver mawk -W version) |"
	echo "| jq | $(ver jq --version) |"
	echo "| gzip / coreutils | $(ver gzip --version) / $(ver cat --version) |"
	echo
	echo "## Inputs (scale 1/$SCALE, generated by bench/gen.c, seed fixed)"
	echo
	echo "| job | files | records | bytes | .gz bytes |"
	echo "|---|---|---|---|---|"
	for k in flows ct dns; do
		echo "| $k | $(awk -F'\t' -v k=$k '$1==k' $D/manifest.tsv | wc -l) | $(recs $k) | $(bytes $k) | $(cat $D/$k-gz/* | wc -c) |"
	done
	echo "| threats.txt | 1 | $(wc -l <$D/threats.txt) IPs and CIDRs | $(wc -c <$D/threats.txt) | |"
	echo "| domains.txt | 1 | $(wc -l <$D/domains.txt) domains | $(wc -c <$D/domains.txt) | |"
	echo
	awk -F'\t' -v have=$HAVE_MAMORI -v note="$MAMORI_NOTE" -v enis_q="$ENIS_Q" -v enis_f="$ENIS_F" \
		-f bench/report.awk $RES
	if [ -f $W/estate-state-s$SCALE.tsv ]; then
		echo "Persisted detector state of the estate runs (store's detector_state, findings excluded):"
		echo
		echo "| days | entities | bytes | bytes per entity |"
		echo "|---|---|---|---|"
		awk -F'|' '{printf "| %s | %s | %s | %.0f |\n", $1, $2, $3, $2 ? $3 / $2 : 0}' $W/estate-state-s$SCALE.tsv
		echo
	fi
} >$OUT
log "wrote $OUT (${ELAPSED}s)"
