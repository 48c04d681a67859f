#!/usr/bin/awk -f
# profile.awk: per-function totals of a function_graph trace (funcgraph-tail on), as
# bench/minikvm-bench prints them (bench/run.sh splits them out of the serial log).
#
#   awk -f bench/profile.awk build/bench/bench-svm-minikvm.trace-pio | sort -t'|' -k3 -nr | head
#
# Prints "function|calls|inclusive ns|self ns" per function. Under QEMU -icount a ns
# is one instruction; the figures include the tracer's own cost (several hundred
# instructions per traced call), so compare call counts first, times second.
function ns(s) { gsub(/[^0-9.]/, "", s); return s * 1000 }
{
	sub(/^ *[0-9]+\) */, "")		# CPU column
	split($0, part, "|")
	dur = part[1]; body = part[2]
	if (dur ~ /us/) d = ns(dur); else d = -1
	if (body ~ /\{ *$/) {			# entry of a function with children
		name = body; sub(/\(.*/, "", name); gsub(/ /, "", name)
		stack[++sp] = name; child[sp] = 0
	} else if (body ~ /^ *\}/) {		# its exit: "} /* name */"
		if (sp < 1) next
		name = stack[sp]
		calls[name]++; incl[name] += d; self[name] += d - child[sp]
		sp--
		if (sp > 0) child[sp] += d
	} else if (body ~ /\);/) {		# a leaf: "name();"
		name = body; sub(/\(.*/, "", name); gsub(/ /, "", name)
		calls[name]++; incl[name] += d; self[name] += d
		if (sp > 0) child[sp] += d
	}
}
END {
	for (f in calls)
		printf "%s|%d|%.0f|%.0f\n", f, calls[f], incl[f], self[f]
}
