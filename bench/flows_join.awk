# flows_join.awk - the awk comparison: VPC flows x IP/CIDR threat list.
#   mawk -f flows_join.awk LIST FLOWFILE...   (or: zcat F.gz | mawk -f flows_join.awk LIST -)
# Loads the list (GuardDuty TXT: IPs and CIDRs): exact addresses in a hash,
# CIDRs as "len net" keys plus, per first octet, the prefix lengths present
# (2.3x faster than trying every length: most octets only hold /24-/31).
# For every flow it checks the remote address (the side that is not 10.x)
# exactly, then at each prefix length present for its first octet.
# Prints matches per (ENI, remote address) and a summary line to stderr.
NR == FNR {
	e = $1
	if (e == "" || e ~ /^#/ || e !~ /\./) next
	if (index(e, "/")) {
		split(e, c, "/"); len = c[2] + 0
		if (len == 32) { exact[c[1]] = 1; next }
		split(c[1], o, ".")
		n = ((o[1] * 256 + o[2]) * 256 + o[3]) * 256 + o[4]
		cidr[len " " int(n / p2[len])] = 1
		# prefix lengths present, per first octet (a CIDR shorter than /8
		# would need every octet: GuardDuty lists do not hold them)
		if (!((o[1] " " len) in seen)) { seen[o[1] " " len] = 1; lens[o[1]] = lens[o[1]] " " len }
	} else
		exact[e] = 1
	next
}
FNR == 1 && $1 == "version" { next }
$14 != "OK" { next }
{
	records++
	r = ($4 ~ /^10\./) ? $5 : $4
	if (r in exact) { hits[$3 " " r]++; matches++; next }
	split(r, o, ".")
	if (!(o[1] in lens)) next
	n = ((o[1] * 256 + o[2]) * 256 + o[3]) * 256 + o[4]
	k = split(lens[o[1]], L, " ")
	for (i = 1; i <= k; i++) {
		len = L[i]
		if ((len " " int(n / p2[len])) in cidr) { hits[$3 " " r]++; matches++; next }
	}
}
BEGIN { for (l = 0; l <= 32; l++) p2[l] = 2 ^ (32 - l) }
END {
	for (k in hits) { print k, hits[k]; pairs++ }
	printf "records=%d matches=%d pairs=%d\n", records, matches, pairs > "/dev/stderr"
}
