#!/usr/bin/env python3
"""serve-api.py NEW_MAMORI [OLD_MAMORI] [N] - how long `mamori serve` takes to
answer ListFindings and GetFindingsStatistics on a store of N findings
(default 200000), with the criteria pushed down to the schema 3 indexes (NEW)
and, when OLD_MAMORI is given (a build from before schema 3), with every
finding read and matched per call.

The findings are made by bench/serve-api-gen.c (built here against
build/libmamori.a; GuardDuty JSON rendered by mamori from sample findings, a
fixed seed), once with and once without the new indexes (the put rate of
each is printed: the indexes' cost on ingest). For OLD the same file is taken
back to schema 2 (the j_ columns and indexes dropped). Each server is started
on 127.0.0.1:0 following an empty folder; every request is SigV4-signed with
botocore (as the AWS CLI signs) and sent over one kept-alive connection; each
is timed 5 times and the median printed, as a Markdown table. Also timed: the
in-place upgrade of the schema 2 file (NEW's start until ready).
Do not run it while something else loads the machine."""
import http.client, json, os, shutil, sqlite3, statistics, subprocess, sys, tempfile, time
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
LDLIBS = os.environ.get("LDLIBS", "-lsqlite3 -lyaml -lz -lcrypto -lpthread -lm -lmicrohttpd "
                        "-lcurl -lisal -lmaxminddb").split()

def build_gen(d):
    exe = os.path.join(d, "gen")
    subprocess.check_call(["cc", "-std=c11", "-D_GNU_SOURCE", "-O2", "-I" + os.path.join(ROOT, "src"),
                           os.path.join(HERE, "serve-api-gen.c"),
                           os.path.join(ROOT, "build", "libmamori.a")] + LDLIBS + ["-o", exe])
    return exe

def to_schema2(db):
    c = sqlite3.connect(db)
    for col in ("severity", "updated", "created", "account", "region", "instance", "akid"):
        c.execute("DROP INDEX IF EXISTS findings_j_%s" % col)
        c.execute("ALTER TABLE findings DROP COLUMN j_%s" % col)
    c.execute("PRAGMA user_version=2")
    c.commit()
    c.close()

class Server:
    def __init__(self, mamori, db, d, name):
        self.d = os.path.join(d, name)
        os.mkdir(self.d)
        os.mkdir(os.path.join(self.d, "logs"))
        out = subprocess.check_output([mamori, "keys", "create", "bench-" + name, "--db", db]).decode()
        env = dict(l.split("=", 1) for l in out.split() if "=" in l)
        self.creds = Credentials(env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"])
        ready = os.path.join(self.d, "ready")
        t0 = time.time()
        self.p = subprocess.Popen([mamori, "serve", "--db", db, "--listen", "127.0.0.1:0",
                                   "--follow", os.path.join(self.d, "logs"), "--no-default-lists",
                                   "--no-geo", "--ready-file", ready],
                                  stderr=open(os.path.join(self.d, "err"), "w"))
        while not (os.path.exists(ready) and os.path.getsize(ready)):
            if self.p.poll() is not None:
                raise SystemExit("serve failed: " + open(os.path.join(self.d, "err")).read())
            time.sleep(0.05)
        self.start_s = time.time() - t0
        self.url, self.det = open(ready).read().split()[:2]
        host = self.url.split("//")[1]
        self.conn = http.client.HTTPConnection(host.split(":")[0], int(host.split(":")[1]),
                                               timeout=600)

    def call(self, path, body):
        url = self.url + "/detector/" + self.det + path
        data = json.dumps(body)
        req = AWSRequest(method="POST", url=url, data=data,
                         headers={"Content-Type": "application/json"})
        SigV4Auth(self.creds, "guardduty", "us-east-1").add_auth(req)
        t0 = time.perf_counter()
        self.conn.request("POST", "/detector/" + self.det + path, body=data,
                          headers=dict(req.headers.items()))
        r = self.conn.getresponse()
        out = r.read()
        dt = time.perf_counter() - t0
        if r.status != 200:
            raise SystemExit("%s %s: %d %s" % (path, data, r.status, out[:300]))
        return dt, json.loads(out)

    def stop(self):
        self.p.terminate()
        self.p.wait()

def timed(srv, path, body, reps=5):
    ts, ans = [], None
    for _ in range(reps):
        dt, ans = srv.call(path, body)
        ts.append(dt)
    return statistics.median(ts), ans

def main():
    new = sys.argv[1]
    old = sys.argv[2] if len(sys.argv) > 2 and sys.argv[2] != "-" else None
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 200000
    d = tempfile.mkdtemp(prefix="mamori-apibench-")
    try:
        gen = build_gen(d)
        db3 = os.path.join(d, "new.db")
        print("puts without the schema 3 indexes:",
              subprocess.check_output([gen, os.path.join(d, "noidx.db"), str(n), "noidx"]).decode().strip())
        print("puts with the schema 3 indexes:   ",
              subprocess.check_output([gen, db3, str(n)]).decode().strip())
        os.unlink(os.path.join(d, "noidx.db"))
        c = sqlite3.connect(db3)
        inst = c.execute("SELECT j_instance FROM findings WHERE j_instance IS NOT NULL LIMIT 1").fetchone()[0]
        ftype = c.execute("SELECT type FROM findings LIMIT 1").fetchone()[0]
        c.close()
        db2 = os.path.join(d, "old.db")
        shutil.copy(db3, db2)
        to_schema2(db2)
        queries = [
            ("ListFindings, first page, no criteria", "/findings", {"maxResults": 50}),
            ("ListFindings, instanceId eq (selective)", "/findings",
             {"findingCriteria": {"criterion": {"resource.instanceDetails.instanceId": {"eq": [inst]}}}}),
            ("ListFindings, type eq + archived false", "/findings",
             {"findingCriteria": {"criterion": {"type": {"eq": [ftype]}, "service.archived": {"eq": ["false"]}}}}),
            ("ListFindings, sorted by severity DESC, first page", "/findings",
             {"sortCriteria": {"attributeName": "severity", "orderBy": "DESC"}, "maxResults": 50}),
            ("ListFindings, updatedAt gte (last 24 h of 90 days)", "/findings",
             {"findingCriteria": {"criterion": {"updatedAt": {"gte": 1757000000000 + 89 * 86400000}}}}),
            ("GetFindingsStatistics, countBySeverity, no criteria", "/findings/statistics",
             {"findingStatisticTypes": ["COUNT_BY_SEVERITY"]}),
            ("GetFindingsStatistics, countBySeverity, archived false", "/findings/statistics",
             {"findingStatisticTypes": ["COUNT_BY_SEVERITY"],
              "findingCriteria": {"criterion": {"service.archived": {"eq": ["false"]}}}}),
            ("GetFindingsStatistics, groupBy FINDING_TYPE", "/findings/statistics",
             {"groupBy": "FINDING_TYPE", "maxResults": 25}),
        ]
        rows = {}
        if old:
            s = Server(old, db2, d, "old")
            for name, path, body in queries:
                if "groupBy" in body:
                    rows.setdefault(name, {})["old"] = None
                    continue
                dt, ans = timed(s, path, body, 3)
                rows.setdefault(name, {})["old"] = (dt, ans)
            s.stop()
            # the in-place upgrade: NEW opening the schema 2 file
            s = Server(new, db2, d, "upgrade")
            print("upgrade of the schema 2 file to 3 (start to ready): %.1f s" % s.start_s)
            s.stop()
        s = Server(new, db3, d, "new")
        # one page further: the token of the sorted first page
        for name, path, body in queries:
            dt, ans = timed(s, path, body)
            rows.setdefault(name, {})["new"] = (dt, ans)
        dt0, first = s.call("/findings", queries[3][2])
        page2 = dict(queries[3][2], nextToken=first["nextToken"])
        dt, _ = timed(s, "/findings", page2)
        rows["ListFindings, sorted by severity DESC, page 2"] = {"new": (dt, None)}
        s.stop()
        print("\n%d findings\n" % n)
        print("| request | before (full scan) | after (indexes) | same answer |")
        print("|---|---|---|---|")
        for name, r in rows.items():
            o, nw = r.get("old"), r.get("new")
            same = "-"
            if o and nw and o[1] is not None and nw[1] is not None:
                a, b = o[1], nw[1]
                if "sorted" in name:
                    same = "ties by id differ" if a["findingIds"] != b["findingIds"] else "yes"
                elif "findingIds" in a:
                    same = "yes" if a["findingIds"] == b["findingIds"] else "no"
                else:
                    same = "yes" if json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True) else "no"
            print("| %s | %s | %s | %s |" % (name, "%.0f ms" % (o[0] * 1000) if o else "n/a",
                                            "%.1f ms" % (nw[0] * 1000) if nw else "n/a", same))
    finally:
        shutil.rmtree(d, ignore_errors=True)

if __name__ == "__main__":
    main()
