#!/usr/bin/env python3
"""notify_recv.py - local receivers for tests/golden/notify.sh, on 127.0.0.1.

  notify_recv.py http PORTFILE DIR [PORT]
      An HTTP listener (http.server). A POST's body is written to
      DIR/<first path segment>-<n>.json when answered 200; every attempt
      is a line "path status" in DIR/attempts.log. Paths starting with
      /fail2 answer 500 twice, then 200; /dead always answers 500.
  notify_recv.py smtp PORTFILE DIR [PORT]
      An SMTP sink (smtpd, Python's standard library): each message is
      written to DIR/mail-<n>.eml with its envelope in DIR/mail-<n>.rcpt.

The port it listens on (PORT, or a free one) is written to PORTFILE once
it accepts connections.
"""
import os
import sys
import threading
import warnings

warnings.filterwarnings("ignore", category=DeprecationWarning)

MODE, PORTFILE, DIR = sys.argv[1], sys.argv[2], sys.argv[3]
PORT = int(sys.argv[4]) if len(sys.argv) > 4 else 0
os.makedirs(DIR, exist_ok=True)
lock = threading.Lock()


def ready(port):
    tmp = PORTFILE + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.rename(tmp, PORTFILE)


def serve_http():
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    hits = {}

    class H(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_POST(self):
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(min(n, 8 << 20))
            seg = self.path.strip("/").split("/")[0] or "root"
            with lock:
                hits[seg] = hits.get(seg, 0) + 1
                k = hits[seg]
                if seg == "dead" or (seg.startswith("fail2") and k <= 2):
                    status = 500
                else:
                    status = 200
                with open(os.path.join(DIR, "attempts.log"), "a") as f:
                    f.write("%s %d\n" % (self.path, status))
                if status == 200:
                    ok = len([x for x in os.listdir(DIR) if x.startswith(seg + "-")]) + 1
                    with open(os.path.join(DIR, "%s-%d.json" % (seg, ok)), "wb") as f:
                        f.write(body)
                    with open(os.path.join(DIR, "%s-%d.hdr" % (seg, ok)), "w") as f:
                        f.write(self.headers.get("Content-Type") or "")
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

    ThreadingHTTPServer.allow_reuse_address = True
    srv = ThreadingHTTPServer(("127.0.0.1", PORT), H)
    ready(srv.server_address[1])
    srv.serve_forever()


def serve_smtp():
    import asyncore
    import smtpd

    class S(smtpd.SMTPServer):
        n = 0

        def process_message(self, peer, mailfrom, rcpttos, data, **kw):
            S.n += 1
            base = os.path.join(DIR, "mail-%d" % S.n)
            with open(base + ".tmp", "wb") as f:
                f.write(data if isinstance(data, bytes) else data.encode())
            with open(base + ".rcpt", "w") as f:
                f.write("%s -> %s\n" % (mailfrom, " ".join(rcpttos)))
            os.rename(base + ".tmp", base + ".eml")
            return None

    srv = S(("127.0.0.1", PORT), None, decode_data=False)
    ready(srv.socket.getsockname()[1])
    asyncore.loop(timeout=0.5)


if MODE == "http":
    serve_http()
else:
    serve_smtp()
