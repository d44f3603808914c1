# flows_ports.awk - the awk comparison: distinct destination ports per source.
#   mawk -f flows_ports.awk FLOWFILE...
# Prints "srcaddr count" per source and a summary line to stderr.
FNR == 1 && $1 == "version" { next }
$14 != "OK" { next }
!(($4 " " $7) in seen) { seen[$4 " " $7] = 1; n[$4]++ }
END {
	for (s in n) { print s, n[s]; ports += n[s]; srcs++ }
	printf "records=%d matches=%d\n", ports, srcs > "/dev/stderr"
}
