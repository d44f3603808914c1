#!/usr/bin/env python3
"""serve-latency.py MAMORI [N] [POLL_MS...] - how long a record appended to a
followed log takes to become a stored finding in `mamori serve`.

For each poll interval: start `mamori serve` on 127.0.0.1:0 following a fresh
folder, then N times (one at a time): append one flow record from a listed
address on a new interface (so each makes a new finding), and time from the
write's return to the finding's row being readable in the database (a
separate SQLite reader polling every 2 ms, as the API would read it). Prints
p50, p90, p99 and max per poll interval, as a Markdown table row each.

The daemon wakes on inotify events for the followed folders (then waits 20 ms
for the writer's burst), so the poll interval is only the safety net; the
latency is that settle time plus read, detect and commit. Each append comes
after a random pause in [0, poll interval], out of step with the loop."""
import os, random, sqlite3, subprocess, sys, tempfile, time

def pct(xs, p):
    xs = sorted(xs)
    k = min(len(xs) - 1, max(0, int(round(p / 100.0 * (len(xs) - 1)))))
    return xs[k]

def run(mamori, n, poll_ms):
    d = tempfile.mkdtemp(prefix="mamori-lat-")
    logs = os.path.join(d, "logs"); os.mkdir(logs)
    db = os.path.join(d, "m.db"); ready = os.path.join(d, "ready")
    with open(os.path.join(d, "custom.txt"), "w") as f:
        f.write("203.0.113.0/24\n")
    log = os.path.join(logs, "flow.log")
    with open(log, "w") as f:
        f.write("version account-id interface-id srcaddr dstaddr srcport dstport protocol "
                "packets bytes start end action log-status\n")
    err = open(os.path.join(d, "serve.err"), "w")
    p = subprocess.Popen([mamori, "serve", "--db", db, "--listen", "127.0.0.1:0", "--follow", logs,
                          "--poll-ms", str(poll_ms), "--no-default-lists", "--no-geo",
                          "--threat-list", "custom=" + os.path.join(d, "custom.txt"),
                          "--ready-file", ready], stderr=err)
    try:
        t0 = time.time()
        while not os.path.exists(ready) or not os.path.getsize(ready):
            if time.time() - t0 > 30 or p.poll() is not None:
                raise SystemExit("serve did not start; see " + err.name)
            time.sleep(0.01)
        con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=30)
        lat = []
        rnd = random.Random(1)
        for i in range(n):
            # not in step with the daemon's loop: a writer appends whenever
            time.sleep(rnd.uniform(0, poll_ms / 1000.0))
            eni = "eni-0lat%013d" % i
            ts = 1714557600 + 60 * i
            line = ("2 123456789012 %s 203.0.113.%d 10.0.2.10 40000 22 6 10 840 %d %d ACCEPT OK\n"
                    % (eni, i % 250 + 1, ts, ts + 60))
            with open(log, "a") as f:
                f.write(line)
            w = time.time()
            while True:
                r = con.execute("SELECT 1 FROM findings WHERE resource = ? LIMIT 1", (eni,)).fetchone()
                if r:
                    lat.append(time.time() - w)
                    break
                if time.time() - w > 60:
                    raise SystemExit("no finding for %s within 60 s" % eni)
                time.sleep(0.002)
        return lat
    finally:
        p.terminate()
        p.wait(timeout=30)

def main():
    mamori = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 50
    polls = [int(x) for x in sys.argv[3:]] or [1000, 200]
    print("| poll interval | records | p50 s | p90 s | p99 s | max s |")
    print("|---|---:|---:|---:|---:|---:|")
    for poll in polls:
        lat = run(mamori, n, poll)
        print("| %d ms | %d | %.3f | %.3f | %.3f | %.3f |" % (poll, n, pct(lat, 50), pct(lat, 90),
                                                            pct(lat, 99), max(lat)))
        sys.stdout.flush()

main()
