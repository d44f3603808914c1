#!/usr/bin/env python3
"""roles.py URL PASSWORD ADMIN ANALYST VIEWER - the console's JSON API by
role, without a browser (python3's urllib only): GET /console/api/system
(its shape and the dead letter of the sink at a closed port), and which
operations each role is refused with 403 and a clear message. Prints
"ok NAME" / "FAIL NAME: why" lines for tests/golden/console.sh."""
import json
import sys
import time
import urllib.error
import urllib.request

URL, PW, ADMIN, ANALYST, VIEWER = sys.argv[1:6]
N = 0


def report(name, good, why=""):
    global N
    N += 1
    print(("ok   %s" % name) if good else ("FAIL %s: %s" % (name, str(why)[:400])), flush=True)


class Session:
    def __init__(self, user):
        self.cookie = ""
        st, j = self.call("POST", "/console/api/signin", {"user": user, "password": PW})
        if st != 200:
            raise RuntimeError("sign-in of %s: %s %s" % (user, st, j))
        self.csrf, self.det, self.role = j["csrf"], j["detectorId"], j.get("role")

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        rq = urllib.request.Request(URL + path, data=data, method=method)
        rq.add_header("Content-Type", "application/json")
        if self.cookie:
            rq.add_header("Cookie", self.cookie)
        if method != "GET" and getattr(self, "csrf", None):
            rq.add_header("X-CSRF-Token", self.csrf)
        try:
            with urllib.request.urlopen(rq, timeout=20) as r:
                st, raw, hdrs = r.status, r.read(), r.headers
        except urllib.error.HTTPError as e:
            st, raw, hdrs = e.code, e.read(), e.headers
        c = hdrs.get("Set-Cookie")
        if c:
            self.cookie = c.split(";")[0]
        try:
            return st, json.loads(raw or b"{}")
        except ValueError:
            return st, {"raw": raw[:200]}

    def gd(self, method, op, body=None):
        return self.call(method, "/console/api/gd/detector/" + self.det + op, body)


def main():
    a, n, v = Session(ADMIN), Session(ANALYST), Session(VIEWER)
    report("signin_roles", (a.role, n.role, v.role) == ("admin", "analyst", "viewer"),
           (a.role, n.role, v.role))
    st, j = v.call("GET", "/console/api/session")
    report("session_has_role", st == 200 and j.get("role") == "viewer", j)

    # the System JSON: wait for the dead letter (a closed port fails at once)
    end = time.time() + 30
    while True:
        st, j = v.call("GET", "/console/api/system")
        dl = (j.get("notify") or {}).get("deadLetters") or []
        if dl or time.time() > end:
            break
        time.sleep(0.3)
    keys = ["uptimeSeconds", "events", "parseErrors", "lagSeconds", "spool", "notify", "status"]
    report("system_json_shape", st == 200 and all(k in j for k in keys) and
           set(j["events"]) == {"flow", "dns", "cloudtrail", "host"} and
           {"queueBytes", "udpDropped", "tcpStalls"} <= set(j["spool"]) and
           {"queued", "failedAttempts", "deadLetterCount", "sinks"} <= set(j["notify"]), j)
    d = dl[0] if dl else {}
    report("system_json_dead_letter",
           d.get("sink") == "closed" and d.get("lastError") and d.get("attempts", 0) >= 1 and
           d.get("sinkConfigured") is True and d.get("findingId"), dl)
    report("system_json_degraded", j.get("status") == "degraded", j.get("status"))
    report("system_json_counts", j["events"]["flow"] >= 3 and j["notify"]["deadLetterCount"] >= 1,
           (j["events"], j["notify"].get("deadLetterCount")))
    # without a session: 401
    raw = urllib.request.Request(URL + "/console/api/system")
    try:
        urllib.request.urlopen(raw, timeout=10)
        code = 200
    except urllib.error.HTTPError as e:
        code = e.code
    report("system_needs_session", code == 401, code)

    fid = d.get("findingId", "x")
    # viewer: reads yes, writes 403 with the role in the message
    st, j = v.gd("POST", "/findings/get", {"findingIds": [fid]})
    report("viewer_reads_findings", st == 200 and len(j.get("findings", [])) == 1, (st, j))
    for name, op, body in [
        ("viewer_archive_403", "/findings/archive", {"findingIds": [fid]}),
        ("viewer_feedback_403", "/findings/feedback", {"findingIds": [fid], "feedback": "USEFUL"}),
        ("viewer_filter_403", "/filter", {"name": "viewer-rule", "action": "ARCHIVE",
                                          "findingCriteria": {"criterion": {"type": {"eq": ["x"]}}}}),
    ]:
        st, j = v.gd("POST", op, body)
        report(name, st == 403 and "forbidden" in j.get("message", "") and
               "you are viewer" in j.get("message", ""), (st, j))
    st, j = v.call("POST", "/console/api/deadletters/retry", {"id": d.get("id", 0)})
    report("viewer_retry_403", st == 403 and "analyst" in j.get("message", ""), (st, j))
    # analyst: triage yes, lists and sets no
    st, j = n.gd("POST", "/findings/feedback", {"findingIds": [fid], "feedback": "USEFUL"})
    report("analyst_feedback_200", st == 200, (st, j))
    st, j = n.gd("POST", "/threatintelset", {"name": "x", "format": "TXT", "location": "/nonexistent",
                                             "activate": True})
    report("analyst_threatintelset_403", st == 403 and "admin" in j.get("message", ""), (st, j))
    st, j = n.call("POST", "/console/api/deadletters/retry", {"id": d.get("id", 0)})
    report("analyst_retry_200", st == 200 and j.get("status") == "pending", (st, j))
    st, j = n.call("POST", "/console/api/deadletters/retry", {"id": 999999})
    report("retry_unknown_404", st == 404, (st, j))
    # admin: sets pass the role check (the API answers on the merits)
    st, j = a.gd("GET", "/threatintelset")
    report("admin_reads_sets", st == 200, (st, j))


try:
    main()
except Exception as e:  # a driver that died half way is a failure
    report("driver", False, repr(e))
    sys.exit(1)
