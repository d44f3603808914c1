#!/usr/bin/env python3
"""dns_cases.py - writes the input/ and args of the golden cases dns-exfil-vs-cdn-hashes,
dns-dga-burst-vs-browsing, dns-rebind-vs-imds-names and dns-reputation-lists-vs-lookalikes
(Route 53 Resolver query log lines, deterministic). Rerun it after changing a case here, then
regenerate expected.jsonl (tests/golden/cases/README.md) and read it."""
import json, hashlib, os, sys
CASES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cases")
ACC="123456789012"; VPC="vpc-0a1b2c3d4e5f60001"
def rec(ts, name, inst, ip, rcode="NOERROR", answers=None, qtype="A"):
    return json.dumps({"version":"1.100000","account_id":ACC,"region":"us-east-1","vpc_id":VPC,
        "query_timestamp":ts,"query_name":name,"query_type":qtype,"query_class":"IN","rcode":rcode,
        "answers":answers or [],"srcaddr":ip,"srcport":"5353","transport":"UDP",
        "srcids":{"instance":inst}}, separators=(",",":"))
def ts(h, m, s=0): return "2024-05-01T%02d:%02d:%02dZ" % (h, m, s)
def hx(i, salt, n):
    return hashlib.sha256(("%s%d" % (salt, i)).encode()).hexdigest()[:n]
def write(case, lines, args, readme):
    d = CASES + "/" + case
    os.makedirs(d + "/input", exist_ok=True)
    open(d + "/input/resolver.log", "w").write("\n".join(lines) + "\n")
    open(d + "/args", "w").write("".join("# " + l + "\n" for l in readme) + "\n".join(args) + "\n")

# 1. exfiltration vs CDN hashed names
L = []
A, B = "i-0e0e0e0e0e0e00031", "i-0e0e0e0e0e0e00032"
for i in range(60):   # 60 distinct 40-hex labels in 10 minutes: a tunnel
    L.append(rec(ts(10, i // 6, (i % 6) * 10), "%s.%s.t.exfil-example.net." % (hx(i, "x", 40), hx(i, "y", 12)), A, "10.0.4.31"))
for i in range(80):   # CloudFront distribution names: quiet base
    L.append(rec(ts(10, i // 8, i % 8), "%s.%s.cloudfront.net." % (hx(i, "cf", 32), hx(i, "cg", 16)), B, "10.0.4.32"))
for i in range(20):   # a CDN with long hashed names, low volume
    L.append(rec(ts(10, 30 + i), "%s.assets.examplecdn-host.com." % hx(i, "cdn", 40), B, "10.0.4.32"))
for i in range(60):   # reverse lookups, long names: arpa is quiet
    L.append(rec(ts(11, i), "%s.ip6.arpa." % ".".join(hx(i, "ptr", 32)), B, "10.0.4.32", qtype="PTR"))
for i in range(60):   # 60 long names but one repeated label (a health check): one distinct
    L.append(rec(ts(12, i), "%s.status.examplecdn-host.com." % hx(0, "hc", 40), B, "10.0.4.32"))
for i in range(49):   # 49 distinct in one hour + 49 the next: never 50 in one hour
    L.append(rec(ts(13, i), "%s.up.sync-example.org." % hx(i, "s1", 48), B, "10.0.4.32"))
    L.append(rec(ts(14, i), "%s.up.sync-example.org." % hx(i, "s2", 48), B, "10.0.4.32"))
write("dns-exfil-vs-cdn-hashes", L, ["--no-default-lists"], [
 "Trojan:EC2/DNSDataExfiltration. Positive: i-...31 asks 60 distinct 40+12 hex-character",
 "subdomains of exfil-example.net within ten minutes (a DNS tunnel).",
 "Look-alikes on i-...32 that must not fire: 80 hashed CloudFront names (quiet base), 20",
 "long hashed names of one CDN host in an hour (below 50), 60 ip6.arpa PTR lookups, 60",
 "queries of one long name (one distinct), 49 + 49 distinct names split over two hours."])

# 2. DGA burst vs browsing burst
dga = "kxtvppwhcftgs lwfnkgqhiyyvb xgqfvfjmsxdck rlmhtbtgkvfhyix bnvkxpfmmvhjdmqfhb wgfqxiqtpedjejh pjdokqalrmnvkdqy gtdwllcgxtkbvb lhvqpqsibqml qlpcvbwtvdyhwg izzrvijdtgiwpcqtfv jgcrkuzzxsq nqxlhgmkjtuvoppr xuxmxgqgbsixjvnt qxwnpuqbwzyxvsnb".split()
tlds = ["com", "net", "org", "biz", "info", "ru"]
real = "google.com youtube.com facebook.com wikipedia.org amazon.com github.com githubusercontent.com stackoverflow.com cloudflare.com microsoft.com office.com slack.com zoom.us salesforce.com atlassian.net docker.io npmjs.org pypi.org ubuntu.com debian.org nytimes.com bbc.co.uk reddit.com twitter.com linkedin.com netflix.com spotify.com apple.com icloud.com dropbox.com".split()
L = []
C, D = "i-0e0e0e0e0e0e00041", "i-0e0e0e0e0e0e00042"
for i, d in enumerate(dga):   # 15 DGA domains, 12 NXDOMAIN, in 15 minutes
    L.append(rec(ts(9, i), "%s.%s." % (d, tlds[i % len(tlds)]), C, "10.0.5.41", rcode="NXDOMAIN" if i < 12 else "NOERROR"))
for i, d in enumerate(real):  # a browsing burst: 30 real domains (and www.) in 5 minutes
    L.append(rec(ts(9, i // 6, i * 2 % 60), "www.%s." % d, D, "10.0.5.42", answers=[{"Rdata": "93.184.216.34", "Type": "A", "Class": "IN"}]))
    L.append(rec(ts(9, i // 6, i * 2 % 60 + 1), "%s." % d, D, "10.0.5.42"))
for i, d in enumerate(dga[:12]):  # random-looking names that resolve: not NXDOMAIN
    L.append(rec(ts(10, i), "%s.%s." % (d, tlds[i % len(tlds)]), D, "10.0.5.42"))
for i in range(12):  # typo'd real names, NXDOMAIN: do not look generated
    L.append(rec(ts(11, i), "%s-staging.%s." % (real[i].split(".")[0], "internal-example.com"), D, "10.0.5.42", rcode="NXDOMAIN"))
for i, d in enumerate(dga[:9]):  # 9 generated NXDOMAIN in an hour: below 10
    L.append(rec(ts(12, i), "%s.%s." % (d, "xyz"), D, "10.0.5.42", rcode="NXDOMAIN"))
write("dns-dga-burst-vs-browsing", L, ["--no-default-lists"], [
 "Trojan:EC2/DGADomainRequest.B. Positive: i-...41 asks 15 generated-looking domains",
 "(Cryptolocker, Ramnit, Locky, Tinba... shapes) in 15 minutes, 12 of them NXDOMAIN.",
 "Look-alikes on i-...42 that must not fire: a browsing burst of 30 real domains, 12",
 "generated-looking names that resolve (most not NXDOMAIN), 12 NXDOMAIN typos of real",
 "names under one base, 9 generated NXDOMAIN names in an hour (below 10)."])

# 3. metadata rebind vs the real metadata names
E, F = "i-0e0e0e0e0e0e00051", "i-0e0e0e0e0e0e00052"
imds = [{"Rdata": "169.254.169.254", "Type": "A", "Class": "IN"}]
L = [
 rec(ts(8, 0), "169.254.169.254.nip.example.com.", E, "10.0.6.51", answers=imds),
 rec(ts(8, 5), "rbnd.attacker-example.net.", E, "10.0.6.51", answers=[{"Rdata": "rbnd2.attacker-example.net.", "Type": "CNAME", "Class": "IN"}] + imds),
 rec(ts(8, 0), "instance-data.ec2.internal.", F, "10.0.6.52", answers=imds),
 rec(ts(8, 1), "instance-data.", F, "10.0.6.52", answers=imds),
 rec(ts(8, 2), "instance-data.us-west-2.compute.internal.", F, "10.0.6.52", answers=imds),
 rec(ts(8, 3), "dns.example.com.", F, "10.0.6.52", answers=[{"Rdata": "169.254.169.253", "Type": "A", "Class": "IN"}]),
 rec(ts(8, 4), "txt.example.com.", F, "10.0.6.52", qtype="TXT", answers=[{"Rdata": "\"169.254.169.254\"", "Type": "TXT", "Class": "IN"}]),
 rec(ts(8, 6), "ptr.example.com.", F, "10.0.6.52", answers=[{"Rdata": "169.254.169.2540", "Type": "A", "Class": "IN"}]),
]
write("dns-rebind-vs-imds-names", L, ["--no-default-lists"], [
 "UnauthorizedAccess:EC2/MetadataDNSRebind. Positive: i-...51 resolves two outside names",
 "to 169.254.169.254 (one through a CNAME), count 2.",
 "Look-alikes on i-...52 that must not fire: AWS's own metadata names (instance-data,",
 "instance-data.ec2.internal, ...compute.internal), 169.254.169.253 (the VPC resolver), a",
 "TXT record holding the text, an address that only starts with it."])

# 4. reputation lists
cats = [("abused", "dyn-example.net"), ("bitcoin", "coin-example.org"), ("malicious", "bad-example.com"),
        ("suspicious", "odd-example.info"), ("driveby", "ek-example.biz"), ("phishing", "phish-example.co.uk"), ("dga", "qxwnpuqbwzyxvsnb.com")]
d = CASES + "/dns-reputation-lists-vs-lookalikes"
os.makedirs(d, exist_ok=True)
L = []; args = ["--no-default-lists"]
G, H = "i-0e0e0e0e0e0e00061", "i-0e0e0e0e0e0e00062"
for i, (c, dom) in enumerate(cats):
    open("%s/%s.txt" % (d, c), "w").write("# %s test list\n%s\n" % (c, dom))
    args += ["--threat-list", "%s=%s.txt" % (c, c)]
    L.append(rec(ts(7, i), "host%d.%s." % (i, dom), G, "10.0.7.61"))
    L.append(rec(ts(7, 30 + i), "not%s." % dom, H, "10.0.7.62"))       # same suffix string, not a label
    L.append(rec(ts(7, 40 + i), "%s.example.org." % dom, H, "10.0.7.62"))  # listed name as a prefix
write("dns-reputation-lists-vs-lookalikes", L, args, [
 "The domain-reputation categories, one list each: abused, bitcoin, malicious, suspicious,",
 "driveby, phishing, dga. Positive: i-...61 asks a subdomain of each listed name (one finding",
 "per type). Look-alikes on i-...62 that must not fire: the listed name with a prefix glued",
 "on (not a label boundary) and the listed name as the left part of another domain."])
