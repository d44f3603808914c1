#!/usr/bin/env python3
"""normalise.py - `mamori findings list --format json` (one finding a line)
on stdin -> the golden form on stdout: one line per finding with only the
fields that must not drift (type, resource id, severity, count,
eventFirstSeen, eventLastSeen, resourceRole), keys in that order, lines
sorted. Ids, ARNs, createdAt/updatedAt, evidence paths and texts are left
out: they change with the machine, the clock or the wording.

The resource id is the access key (else principal) of an AccessKey
resource; the actor's principal id of an AttackSequence; "s3:BUCKET/KEY" for an S3Bucket one; for an Instance, the instance id, else the first interface's
id, else its private address. Exits 1 on a line that is not a finding."""
import json
import sys


def resource_id(res, svc):
    if res.get("resourceType") == "AttackSequence":
        seq = (svc.get("detection") or {}).get("sequence") or {}
        actors = seq.get("actors") or [{}]
        return (actors[0].get("user") or {}).get("uid") or ""
    if res.get("resourceType") == "AccessKey":
        ak = res.get("accessKeyDetails") or {}
        return ak.get("accessKeyId") or ak.get("principalId") or ""
    if res.get("resourceType") == "S3Bucket":
        # the bucket(s), then the caller's key: "s3:bucket/AKIA..."
        ak = res.get("accessKeyDetails") or {}
        names = ",".join(b.get("name", "") for b in res.get("s3BucketDetails") or [])
        return "s3:%s/%s" % (names, ak.get("accessKeyId") or ak.get("principalId") or "")
    inst = res.get("instanceDetails") or {}
    if inst.get("instanceId"):
        return inst["instanceId"]
    for ni in inst.get("networkInterfaces") or []:
        rid = ni.get("networkInterfaceId") or ni.get("privateIpAddress")
        if rid:
            return rid
    if "runtimeDetails" in svc:
        # a host agent's finding on a host with no instance id: its name
        return "host:" + ((svc.get("additionalInfo") or {}).get("hostName") or "")
    return ""


def main():
    out = []
    for n, line in enumerate(sys.stdin, 1):
        if not line.strip():
            continue
        try:
            f = json.loads(line)
            svc = f["service"]
            row = {
                "type": f["type"],
                "resource": resource_id(f["resource"], svc),
                "severity": f["severity"],
                "count": svc["count"],
                "eventFirstSeen": svc["eventFirstSeen"],
                "eventLastSeen": svc["eventLastSeen"],
                "resourceRole": svc.get("resourceRole", ""),
            }
        except (ValueError, KeyError, TypeError) as e:
            sys.stderr.write("normalise: line %d is not a finding: %s\n" % (n, e))
            return 1
        out.append(json.dumps(row, separators=(",", ":")))
    for line in sorted(out):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
