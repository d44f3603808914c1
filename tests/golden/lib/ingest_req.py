#!/usr/bin/env python3
"""ingest_req.py URL QUERY BODYFILE [SECRET]: POST BODYFILE's bytes to
URL/mamori/v1/ingest?QUERY signed by botocore's SigV4 signer (the AWS
CLI's own; service "guardduty") with the key in AWS_ACCESS_KEY_ID /
AWS_SECRET_ACCESS_KEY (or SECRET instead of the secret). Prints
"STATUS BODY" on one line. Used by tests/golden/ship.sh to send what
mamori's own client never would (bad names, gaps)."""
import os
import sys
import urllib.error
import urllib.request

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

url, query, bodyfile = sys.argv[1], sys.argv[2], sys.argv[3]
secret = sys.argv[4] if len(sys.argv) > 4 else os.environ["AWS_SECRET_ACCESS_KEY"]
body = open(bodyfile, "rb").read()
full = url.rstrip("/") + "/mamori/v1/ingest?" + query
req = AWSRequest(method="POST", url=full, data=body,
                 headers={"Content-Type": "application/octet-stream"})
SigV4Auth(Credentials(os.environ["AWS_ACCESS_KEY_ID"], secret), "guardduty",
          "us-east-1").add_auth(req)
r = urllib.request.Request(full, data=body, method="POST", headers=dict(req.headers.items()))
try:
    with urllib.request.urlopen(r, timeout=20) as resp:
        print(resp.status, resp.read().decode())
except urllib.error.HTTPError as e:
    print(e.code, e.read().decode(), "retry-after=%s" % e.headers.get("Retry-After"))
