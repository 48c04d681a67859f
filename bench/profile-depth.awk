#!/usr/bin/awk -f
# profile-depth.awk: instructions per function on an exit path, from the depth-limited
# function_graph passes of bench/minikvm-bench ("BENCH-TRACE begin pio-dK" sections,
# K = 3..9, each 3 OUT round trips, under QEMU -icount: 1 ns = 1 instruction).
#
#   awk -f bench/profile-depth.awk build/logs/bench-svm-minikvm.log
#
# In pass K a function called at depth K is a leaf of the trace: its duration is its
# true inclusive cost plus the cost of tracing one leaf (LEAF, measured on trivial
# functions: ~680 here). Subtracting the inclusive costs of its children (pass K+1)
# gives its own ("self") instructions. Calls below the depth limit are not traced but
# still pass through the tracer's entry hook, which returns at once: OVH (~245
# instructions, fitted on functions that only call one trivial child) per call. Both
# are taken out: inclusive - OVH x descendants, self - OVH x direct children.
# Printed per round trip, as a call tree under the ioctl syscall:
# "calls inclusive self  function". Expect +-10 instructions per call of error.
BEGIN { if (LEAF == "") LEAF = 680; if (OVH == "") OVH = 245; ROUNDS = 3 }
{ sub(/\r$/, "") }
/^BENCH-TRACE begin pio-d/ { k = substr($3, 6) + 0; on = 1; depth = 0; next }
/^BENCH-TRACE end / { on = 0; next }
!on || !sub(/^T\| /, "") { next }
{
	sub(/^ *[0-9]+\) */, "")
	bar = index($0, "|")
	dur = substr($0, 1, bar - 1); body = substr($0, bar + 1)
	match(body, /^ */); d = RLENGTH / 2
	name = body; sub(/^ */, "", name); sub(/\(.*/, "", name); sub(/ \[.*\]/, "", name)
	if (body ~ /\{ *$/) { path[d] = name; next }
	if (body ~ /^ *\}/) next
	if (d != k) next
	gsub(/[^0-9.]/, "", dur)
	p = ""
	for (i = 1; i < d; i++) p = p "/" path[i]
	if (p !~ /__x64_sys_ioctl/) next
	key = p "/" name
	incl[key] += dur * 1000 - LEAF
	calls[key]++
	seen[key] = 1
}
# descendants(KEY): calls made below KEY, all levels (per ROUNDS round trips).
function descendants(key,    c, n, pre) {
	n = 0
	for (c in seen) {
		pre = substr(c, 1, length(key) + 1)
		if (pre == key "/") n += calls[c]
	}
	return n
}
END {
	for (key in seen) {
		child = 0; nchild = 0
		for (c in seen) {
			pre = substr(c, 1, length(key) + 1)
			rest = substr(c, length(key) + 2)
			if (pre == key "/" && rest !~ /\//) { child += incl[c]; nchild += calls[c] }
		}
		n = split(key, parts, "/")
		indent = ""
		for (i = 3; i < n; i++) indent = indent "  "
		printf "%s\t%5.1f %7.0f %7.0f  %s%s\n", key, calls[key] / ROUNDS,
		       (incl[key] - OVH * descendants(key)) / ROUNDS,
		       (incl[key] - child - OVH * nchild) / ROUNDS, indent, parts[n]
	}
}
