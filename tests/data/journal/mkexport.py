#!/usr/bin/env python3
"""mkexport.py SPEC - write the journal export format (journalctl -o export,
systemd-journal-remote's input) for tests/golden/journal.sh on stdout.

SPEC lines: TIME|IDENTIFIER|FACILITY|PID|MESSAGE (TIME: seconds after
2026-12-05T22:40:00Z). A MESSAGE starting "b64:" is base64 bytes and is
written as a binary field (the export format's length-prefixed form),
as journald does for a message that is not text. '#' lines are comments."""
import base64, struct, sys

BASE = 1796510400  # 2026-12-05T22:40:00Z
BOOT = "0123456789abcdef0123456789abcdef"
out = sys.stdout.buffer
for line in open(sys.argv[1], encoding="utf-8"):
    line = line.rstrip("\n")
    if not line or line.startswith("#"):
        continue
    t, ident, fac, pid, msg = line.split("|", 4)
    us = (BASE + int(t)) * 1000000
    fields = [("__REALTIME_TIMESTAMP", str(us)), ("__MONOTONIC_TIMESTAMP", str(us - BASE * 1000000 + 1000000)),
              ("_BOOT_ID", BOOT), ("_HOSTNAME", "ip-10-0-1-23"), ("PRIORITY", "6"),
              ("SYSLOG_FACILITY", fac), ("SYSLOG_IDENTIFIER", ident), ("_PID", pid), ("_COMM", ident[:15])]
    for k, v in fields:
        out.write(f"{k}={v}\n".encode())
    if msg.startswith("b64:"):
        raw = base64.b64decode(msg[4:])
        out.write(b"MESSAGE\n" + struct.pack("<Q", len(raw)) + raw + b"\n")
    else:
        out.write(f"MESSAGE={msg}\n".encode())
    out.write(b"\n")
