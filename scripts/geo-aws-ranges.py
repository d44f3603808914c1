#!/usr/bin/env python3
"""geo-aws-ranges.py - turn AWS's published ip-ranges.json into
data/geo/aws-ranges.txt: every IPv4 and IPv6 prefix of every service,
collapsed into the fewest CIDRs (one a line), which `mamori geo build --aws`
reads. mamori only asks "inside AWS or not", so service and region are
dropped; the header records which snapshot the list came from.

usage: scripts/geo-aws-ranges.py ip-ranges.json > data/geo/aws-ranges.txt
"""
import ipaddress
import json
import sys


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__.strip().splitlines()[-1])
    with open(sys.argv[1]) as f:
        d = json.load(f)
    v4 = ipaddress.collapse_addresses(ipaddress.ip_network(p["ip_prefix"]) for p in d["prefixes"])
    v6 = ipaddress.collapse_addresses(
        ipaddress.ip_network(p["ipv6_prefix"]) for p in d["ipv6_prefixes"])
    out = sys.stdout
    out.write("# AWS IP address ranges (ip-ranges.json syncToken %s, createDate %s),\n"
              % (d["syncToken"], d["createDate"]))
    out.write("# all services and regions, collapsed: scripts/geo-aws-ranges.py\n")
    for n in list(v4) + list(v6):
        out.write("%s\n" % n)


if __name__ == "__main__":
    main()
