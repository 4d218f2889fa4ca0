#!/bin/sh
# Guest test: the KFD topology's caches and io links in sysfs, in the
# KFD's formats (kfd_topology.c), from OP_QUERY_TOPOLOGY's records.
top=/sys/class/kfd/kfd/topology/nodes
# One awk over every file: counts match the directories, keys come in the
# KFD's order, sibling maps are whole bytes, links name existing nodes.
for n in "$top"/*; do
	echo "== node $(basename "$n") $(cat "$n/gpu_id") $(ls "$n/caches" | wc -l) $(ls "$n/io_links" | wc -l)"
	grep -E '^(caches_count|io_links_count) ' "$n/properties"
	for c in "$n"/caches/*/properties; do
		[ -f "$c" ] && { echo "== cache $c"; cat "$c"; }
	done
	for l in "$n"/io_links/*/properties; do
		[ -f "$l" ] && { echo "== link $l"; cat "$l"; }
	done
done | awk -v nodes="$(ls "$top" | tr '\n' ' ')" '
function bad(m) { print "topology: " m ": FAIL"; fail = 1 }
function endrec() {
	if (kind == "cache" && keys != ckeys) bad(name ": keys " keys)
	if (kind == "link" && keys != lkeys) bad(name ": keys " keys)
	kind = ""; keys = ""
}
BEGIN {
	ckeys = "processor_id_low level size cache_line_size cache_lines_per_tag association latency type sibling_map "
	lkeys = "type version_major version_minor node_from node_to weight min_latency max_latency min_bandwidth max_bandwidth recommended_transfer_size recommended_sdma_engine_id_mask flags "
	split(nodes, nl, " "); for (i in nl) exists[nl[i]] = 1
}
/^== node / { endrec(); node = $3; gpu = $4; dc[node] = $5; dl[node] = $6; gpus[node] = gpu; next }
/^== cache / { endrec(); kind = "cache"; name = $3; nc[node]++; next }
/^== link / { endrec(); kind = "link"; name = $3; nlk[node]++; next }
kind == "" && $1 == "caches_count" { cc[node] = $2; next }
kind == "" && $1 == "io_links_count" { lc[node] = $2; next }
kind != "" {
	keys = keys $1 " "
	if (kind == "cache" && $1 == "sibling_map" && (split($2, b, ",") % 8)) bad(name ": sibling bits")
	if (kind == "cache" && $1 == "level") { if ($2 < 1 || $2 > 3) bad(name ": level"); if ($2 == 2) l2[node] = 1 }
	if (kind == "link" && $1 == "node_from" && $2 != node) bad(name ": node_from " $2)
	if (kind == "link" && $1 == "node_to" && !($2 in exists)) bad(name ": node_to " $2)
}
END {
	endrec()
	for (n in gpus) {
		if (cc[n] != dc[n] || cc[n] != nc[n] + 0) bad("node " n ": caches_count " cc[n] ", " dc[n] " directories")
		if (lc[n] != dl[n] || lc[n] != nlk[n] + 0) bad("node " n ": io_links_count " lc[n] ", " dl[n] " directories")
		if (gpus[n] != 0 && !cc[n]) bad("GPU node " n " has no caches (ROCr asserts on that)")
		if (gpus[n] != 0 && !l2[n]) bad("GPU node " n " has no L2 cache")
		if (gpus[n] != 0 && !lc[n]) bad("GPU node " n " has no io link")
		print "topology: node " n ": gpu_id " gpus[n] ", " cc[n] " caches, " lc[n] " io links"
	}
	if (!fail) print "topology: ok"
	exit fail
}'
rc=$?
echo "topology: node 1 io link 0: $(tr '\n' ' ' < "$top/1/io_links/0/properties")"
exit $rc
