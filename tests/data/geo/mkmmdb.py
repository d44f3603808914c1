#!/usr/bin/env python3
"""mkmmdb.py - write the tiny MaxMind DB (.mmdb) files the geo tests read
(test-asn.mmdb, test-country.mmdb, test-isp.mmdb in this folder), from the
tables below, following the MaxMind DB format 2.0 specification: a binary
search tree of 24-bit records over IPv6 (IPv4 under ::/96), a data section,
and the metadata map. Made by hand so the tests need no third-party
database; run it again after changing the tables.

usage: tests/data/geo/mkmmdb.py
"""
import ipaddress
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def ctrl(typ, size):
    out = bytearray()
    if typ > 7:
        first, ext = 0, bytes([typ - 7])
    else:
        first, ext = typ << 5, b""
    if size < 29:
        out.append(first | size)
        out += ext
    elif size < 285:
        out.append(first | 29)
        out += ext
        out.append(size - 29)
    else:
        out.append(first | 30)
        out += ext
        out += struct.pack(">H", size - 285)
    return bytes(out)


def uint(v, typ, maxlen):
    b = v.to_bytes(maxlen, "big").lstrip(b"\0")
    return ctrl(typ, len(b)) + b


def enc(v):
    if isinstance(v, str):
        b = v.encode()
        return ctrl(2, len(b)) + b
    if isinstance(v, dict):
        return ctrl(7, len(v)) + b"".join(enc(k) + enc(x) for k, x in v.items())
    if isinstance(v, list):
        return ctrl(11, len(v)) + b"".join(enc(x) for x in v)
    if isinstance(v, tuple):  # (kind, value) for sized integers
        kind, x = v
        return {"u16": lambda: uint(x, 5, 2), "u32": lambda: uint(x, 6, 4),
                "u64": lambda: uint(x, 9, 8)}[kind]()
    raise TypeError(v)


def write(name, dbtype, nets):
    nodes = [[None, None]]  # records: None = empty, ("n", i) node, ("d", off) data
    data = bytearray()
    for cidr, value in nets:
        net = ipaddress.ip_network(cidr)
        plen = net.prefixlen
        bits = int(net.network_address)
        if net.version == 4:
            plen += 96
        off = len(data)
        data += enc(value)
        node = 0
        for i in range(plen):
            bit = (bits >> (127 - i)) & 1
            if i == plen - 1:
                assert nodes[node][bit] is None, cidr
                nodes[node][bit] = ("d", off)
            else:
                rec = nodes[node][bit]
                if rec is None:
                    nodes.append([None, None])
                    rec = nodes[node][bit] = ("n", len(nodes) - 1)
                assert rec[0] == "n", cidr
                node = rec[1]
    n = len(nodes)

    def val(rec):
        if rec is None:
            return n
        return rec[1] if rec[0] == "n" else n + 16 + rec[1]

    tree = b"".join(val(l).to_bytes(3, "big") + val(r).to_bytes(3, "big") for l, r in nodes)
    meta = {
        "node_count": ("u32", n),
        "record_size": ("u16", 24),
        "ip_version": ("u16", 6),
        "database_type": dbtype,
        "languages": ["en"],
        "binary_format_major_version": ("u16", 2),
        "binary_format_minor_version": ("u16", 0),
        "build_epoch": ("u64", 1764892800),
        "description": {"en": "mamori test data, made by hand (tests/data/geo/mkmmdb.py)"},
    }
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(tree + b"\0" * 16 + bytes(data) + b"\xab\xcd\xefMaxMind.com" + enc(meta))


def asn(n, org):
    return {"autonomous_system_number": ("u32", n), "autonomous_system_organization": org}


def country(cc, name):
    return {"country": {"iso_code": cc, "names": {"en": name}}}


write("test-asn.mmdb", "GeoLite2-ASN", [
    ("8.8.8.0/24", asn(15169, "GOOGLE (mmdb)")),
    ("9.9.9.0/24", asn(19281, "QUAD9-AS-1")),
    ("2001:4860::/32", asn(15169, "GOOGLE (mmdb)")),
])
write("test-country.mmdb", "GeoLite2-Country", [
    ("8.8.8.0/24", country("US", "United States")),
    ("1.0.0.0/24", country("JP", "Japan")),
    ("2001:4860::/32", country("US", "United States")),
])
write("test-isp.mmdb", "GeoIP2-ISP", [
    ("8.8.4.0/24", dict(asn(15169, "Google LLC"), isp="Google Fiber", organization="Google Cloud")),
])
