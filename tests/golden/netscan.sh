#!/bin/sh
# netscan.sh MAMORI - the probe/scan detector end to end over two days of
# hand-built flow logs in the S3 layout (hourly files): the same findings
# from one scan, from day-by-day runs (either order: state persisted in
# the store), with 4 threads, and with a flush after every file; and the
# expected types on the expected interfaces. Ends "netscan: N passed, N failed".
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/suite.sh"
L="$T/AWSLogs/123456789012/vpcflowlogs/us-east-1"
python3 - "$L" <<'PY' || { bad generate "python3 failed"; echo "netscan: $pass passed, $fail failed"; exit 1; }
import os, sys
root = sys.argv[1]
HDR = 'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n'
D1 = 1714521600  # 2024-05-01T00:00:00Z
files = {}
def rec(t, eni, src, dst, sp, dp, pk, action='ACCEPT'):
    day = (t - D1) // 86400
    hour = (t % 86400) // 3600
    key = (day, hour)
    files.setdefault(key, []).append(
        f'2 123456789012 {eni} {src} {dst} {sp} {dp} 6 {pk} {pk * 60} {t} {t + 5} {action} OK\n')
A, B, C, E = 'eni-0a0a0a0a0a0a0a0a1', 'eni-0b0b0b0b0b0b0b0b2', 'eni-0c0c0c0c0c0c0c0c3', 'eni-0e0e0e0e0e0e0e0e4'
for day in (0, 1):
    t0 = D1 + day * 86400
    # A: port 22 probed by 2 hosts on day 1 (no finding), by 3 on day 2
    for i in range(2 + day):
        rec(t0 + 3600 * (5 + 3 * i), A, f'192.0.2.{10 + i + 10 * day}', '10.0.1.10', 40000 + i, 22, 1)
    # A also serves 443 to 20 clients with real sessions and 3 scanners
    for i in range(20):
        rec(t0 + 3600 * (i % 24) + i, A, f'203.0.113.{i + 1}', '10.0.1.10', 50000 + i, 443, 30)
    for i in range(3):
        rec(t0 + 7200 + i, A, f'192.0.2.{40 + i}', '10.0.1.10', 40000 + i, 443, 1)
    # B: a SYN scan of 80 ports of one host each day (another host on day 2)
    for p in range(1, 81):
        rec(t0 + 36000 + p, B, '10.0.1.20', f'198.51.100.{50 + day}', 61000, p, 1)
    # C: a worm's sweep of 445 on day 1; a monitoring probe every 5 minutes
    if day == 0:
        for i in range(150):
            rec(t0 + 50000 + i, C, '10.0.1.30', f'198.18.{i // 100}.{i % 100 + 1}', 50000 + i, 445, 2)
    for k in range(0, 288, 12):
        for h in range(20):
            rec(t0 + 300 * k + h, C, '10.0.1.30', f'198.19.0.{h + 1}', 40000 + h, 9100, 3)
    # E: Elasticsearch probed by 3 hosts, late on day 1 only; RDP probed
    # on both days by other hosts (one finding: the latest day's details)
    if day == 0:
        for i in range(3):
            rec(t0 + 86000 + i, E, f'192.0.2.{60 + i}', '10.0.1.40', 40000 + i, 9200, 1)
    for i in range(3 + day):
        rec(t0 + 40000 + i, E, f'198.51.100.{100 + 10 * day + i}', '10.0.1.40', 40000 + i, 3389, 1)
for (day, hour), lines in sorted(files.items()):
    d = os.path.join(root, '2024', '05', f'{day + 1:02d}')
    os.makedirs(d, exist_ok=True)
    name = f'123456789012_vpcflowlogs_us-east-1_fl-0f0f0f0f0f0f0f0f0_202405{day + 1:02d}T{hour:02d}00Z_a1b2c3d4.log'
    with open(os.path.join(d, name), 'w') as f:
        f.write(HDR)
        f.writelines(sorted(lines, key=lambda l: int(l.split()[10])))
PY
A0="--no-default-lists --no-progress"
"$M" scan --db "$T/ref.db" --threads 1 $A0 "$T/AWSLogs" >/dev/null 2>"$T/ref.err"
norm "$T/ref.db" >"$T/ref.jsonl"
types() { grep -o '"type":"[^"]*"' "$T/ref.jsonl" | sort | uniq -c | tr -s ' ' | tr '\n' ';'; }
expect expected_types "got: $(types)" sh -c "[ \"\$(grep -c 'Recon:EC2/PortProbeUnprotectedPort' '$T/ref.jsonl')\" = 3 ] &&
	[ \"\$(grep -c 'Recon:EC2/Portscan' '$T/ref.jsonl')\" = 1 ] && [ \"\$(grep -c 'Impact:EC2/PortSweep' '$T/ref.jsonl')\" = 1 ] &&
	[ \"\$(wc -l <'$T/ref.jsonl')\" = 5 ]"
expect portscan_counts_both_days "want count 2" sh -c "grep 'Recon:EC2/Portscan' '$T/ref.jsonl' | grep -q '\"count\":2'"
expect rdp_probe_both_days "want count 2, day 2's 4 sources listed" sh -c "grep '\"port\":3389' '$T/ref.jsonl' | grep '\"count\":2' | grep -q '198.51.100.113'"
expect probe_on_day2_only "the day-2 probe of 22 (3 hosts) on eni-...1, the 9200 probe on eni-...4" sh -c \
	"grep 'PortProbe' '$T/ref.jsonl' | grep -q 'eni-0a0a0a0a0a0a0a0a1' && grep 'PortProbe' '$T/ref.jsonl' | grep -q 'eni-0e0e0e0e0e0e0e0e4'"
"$M" scan --db "$T/t4.db" --threads 4 $A0 "$T/AWSLogs" >/dev/null 2>&1
same threads_1_vs_4 "$T/ref.db" "$T/t4.db"
"$M" scan --db "$T/f1.db" --threads 2 --flush-every 1 $A0 "$T/AWSLogs" >/dev/null 2>&1
same flush_every_file "$T/ref.db" "$T/f1.db"
"$M" scan --db "$T/d.db" $A0 "$L/2024/05/01" >/dev/null 2>&1
"$M" scan --db "$T/d.db" $A0 "$L/2024/05/02" >/dev/null 2>&1
same two_runs_equal_one "$T/ref.db" "$T/d.db"
"$M" scan --db "$T/r.db" $A0 "$L/2024/05/02" >/dev/null 2>&1
"$M" scan --db "$T/r.db" $A0 "$L/2024/05/01" >/dev/null 2>&1
same two_runs_newest_first "$T/ref.db" "$T/r.db"
"$M" scan --db "$T/off.db" $A0 --config /dev/stdin "$T/AWSLogs" >/dev/null 2>&1 <<'Y'
netscan: {enabled: false}
Y
expect disabled_finds_nothing "netscan disabled must find nothing here" sh -c "[ \"\$('$M' findings list --db '$T/off.db' --format json | wc -l)\" = 0 ]"
# Past max_entries (1000 via --config): 6 files, 2400 sweep windows of 2
# hosts, so each of 2 workers alone holds more keys than the bound. The
# kept keys are the smallest by hash (bottom-k): --threads 1 and 2 and the
# files read in reverse must give the same findings, and some sweeps but
# not all are reported.
B="$T/bound/AWSLogs/123456789012/vpcflowlogs/us-east-1/2024/05/01"
mkdir -p "$B"
python3 - "$B" <<'PY'
import os, sys
HDR = 'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n'
t0 = 1714521600
for f in range(6):
    with open(os.path.join(sys.argv[1], f'123456789012_vpcflowlogs_us-east-1_fl-0b0b0b0b0b0b0b0b0_20240501T{f:02d}00Z_a1b2c3d4.log'), 'w') as o:
        o.write(HDR)
        for k in range(400):
            port = 1 + f * 400 + k
            for h in (1, 2):
                t = t0 + 3600 * f + (k % 500)
                o.write(f'2 123456789012 eni-0d0d0d0d0d0d0d0d{f} 10.0.2.{f + 1} 198.18.7.{h} {45000 + h} {port} 6 1 60 {t} {t + 5} REJECT OK\n')
PY
BC='netscan: {max_entries: 1000, sweep_min_hosts: 2}'
echo "$BC" | "$M" scan --db "$T/b1.db" --threads 1 $A0 --config /dev/stdin "$T/bound" >/dev/null 2>&1
echo "$BC" | "$M" scan --db "$T/b2.db" --threads 2 $A0 --config /dev/stdin "$T/bound" >/dev/null 2>&1
echo "$BC" | "$M" scan --db "$T/b3.db" --threads 2 $A0 --config /dev/stdin $(ls -r "$B"/*.log) >/dev/null 2>&1
same bound_threads_1_vs_2 "$T/b1.db" "$T/b2.db"
same bound_files_reversed "$T/b1.db" "$T/b3.db"
bsum() { "$M" findings list --db "$1" --format json | grep PortSweep | grep -o '"count":[0-9]*' | cut -d: -f2 | awk '{s+=$1} END {print s+0}'; }
n=$(bsum "$T/b1.db")
expect bound_is_hit "sweeps reported: $n of 2400" sh -c "[ $n -gt 100 ] && [ $n -lt 2400 ]"
echo "netscan: $pass passed, $fail failed"
[ $fail -eq 0 ]
