#!/usr/bin/env bash
# upstream-selftests.sh: Linux's own KVM selftests (tools/testing/selftests/kvm of
# Debian's linux-source-6.1, unmodified) against minikvm and the real kvm modules.
#
#   build                  build the static test binaries once and cache them outside
#                          the clone (below); prints one summary line
#   dir                    print the directory of the cached binaries (builds first)
#   list VENDOR SPEC       the test names SPEC stands for, one a line:
#                            all       every binary that built
#                            check     the tests selftests/upstream/expected.txt names
#                                      for VENDOR (make check's subset)
#                            a,b,c     these
#   judge NAME VENDOR MODULE LOG RESULTS COUNTS [SPEC]
#                          read the "UPSTREAM: " lines of a rig's serial LOG (written by
#                          scripts/guest-init.sh), write one line per test to RESULTS,
#                          compare each result with expected.txt for VENDOR and MODULE
#                          (minikvm | kvm) and print TAP; tests expected but without a
#                          result fail; writes "P F S" to COUNTS
#   table VENDOR MINIKVM_RESULTS KVM_RESULTS
#                          the per-test table minikvm vs kvm (markdown) on stdout
#   lint                   check expected.txt itself (also done by judge)
#   retries                the tests expected.txt allows a second run (its "retry"
#                          lines), one a line
#   run VENDOR SPEC MODULE_KO [RIG_ARGS...]
#                          make upstream: SPEC in the VENDOR rig on minikvm (MODULE_KO),
#                          then on the real kvm module, one after the other; the table
#                          in build/upstream/VENDOR.md (and on stdout)
#
# Cache: ${MINIKVM_CACHE:-${XDG_CACHE_HOME:-~/.cache}/minikvm}/upstream-kvm-selftests/KEY,
# KEY = the tarball's name, the start of its sha256 and this recipe's version: a fresh
# clone on the same machine (CI) finds the binaries of an earlier run, and a new
# linux-source package builds anew. Building takes about 1.5 min on one core here.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
tarball=${KSRC_TARBALL:-/usr/src/linux-source-6.1.tar.xz}
expected=${UPSTREAM_EXPECTED:-$top/selftests/upstream/expected.txt}
# Bump when the recipe below changes what gets built.
recipe=1

cache_dir() {
	local base=${MINIKVM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/minikvm} sum
	[ -f "$tarball" ] || { echo "upstream-selftests: $tarball missing (make deps)" >&2; exit 1; }
	sum=$(sha256sum "$tarball" | cut -c1-16)
	echo "$base/upstream-kvm-selftests/$(basename "$tarball" .tar.xz)-$sum-r$recipe"
}

# build: unpack what the selftests need, install the UAPI headers, make -k. The
# directory appears complete or not at all (built under a temporary name, renamed);
# runs side by side wait for one another on a lock, as fetch-kernel.sh does.
cmd_build() {
	local cache tmp src top_dir kvm n missing=() t
	cache=$(cache_dir)
	mkdir -p "$(dirname "$cache")"
	exec 8> "$cache.lock"
	flock 8
	if [ ! -f "$cache/.done" ]; then
		echo "upstream-selftests: building into $cache (log: $cache/build.log)"
		rm -rf "$cache" "$cache.tmp"
		tmp=$cache.tmp
		mkdir -p "$tmp/bin"
		# Debian's tarball holds one directory named like itself.
		top_dir=$(basename "$tarball" .tar.xz)
		tar -xJf "$tarball" -C "$tmp" --wildcards "$top_dir/tools/*" "$top_dir/include/*" \
			"$top_dir/arch/x86/*" "$top_dir/scripts/*" "$top_dir/usr/*" "$top_dir/Makefile"
		src=$tmp/$top_dir
		kvm=$src/tools/testing/selftests/kvm
		{
			make -C "$src" headers_install INSTALL_HDR_PATH="$tmp/hdr" ARCH=x86
			# -k: two tests of this release do not link (dirty_log_test and
			# steal_time in 6.1.192); the others build.
			make -C "$kvm" -k ARCH=x86 LDFLAGS=-static \
				KHDR_INCLUDES="-isystem $tmp/hdr/include" || true
		} > "$tmp/build.log" 2>&1
		# The programs of the x86_64 lists of the Makefile, flat in bin/ (their
		# names are unique); those that did not build in missing.txt.
		for t in $(awk '/^TEST_GEN_PROGS(_EXTENDED)?_x86_64 \+?= / { print $3 }' "$kvm/Makefile"); do
			if [ -x "$kvm/$t" ]; then
				cp "$kvm/$t" "$tmp/bin/"
			else
				missing+=("${t##*/}")
			fi
		done
		printf '%s\n' "${missing[@]}" > "$tmp/missing.txt"
		rm -rf "$src" "$tmp/hdr"
		n=$(find "$tmp/bin" -type f | wc -l)
		[ "$n" -gt 0 ] || { echo "upstream-selftests: nothing built; see $tmp/build.log" >&2; exit 1; }
		touch "$tmp/.done"
		mv "$tmp" "$cache"
	fi
	n=$(find "$cache/bin" -type f | wc -l)
	echo "upstream-selftests: $n binaries in $cache/bin; did not build: $(tr '\n' ' ' < "$cache/missing.txt")"
}

cmd_dir() {
	cmd_build > /dev/null
	echo "$(cache_dir)/bin"
}

# The expectation lines: TEST VENDOR MODULE RESULT [REASON...], comments, blanks
# and retry lines out.
expectations() {
	sed -e 's/#.*//' -e '/^[[:space:]]*$/d' -e '/^retry[[:space:]]/d' "$expected"
}

# retries: the tests of the "retry TEST REASON" lines. Such a test that does not
# pass runs once more in the same machine (guest-init.sh, run_upstream); the second
# run's result is the one judged, and judge names the first in its TAP line. Only
# for tests whose own deadline a busy emulator can miss, on either module, with the
# reason on the line.
cmd_retries() {
	sed -e 's/#.*//' "$expected" | awk '$1 == "retry" { print $2 }'
}

cmd_list() {
	local vendor=$1 spec=$2
	case $spec in
	all)   ls "$(cmd_dir)" ;;
	check) expectations | awk -v v="$vendor" '$2 == v { print $1 }' | sort -u ;;
	*)     tr ',' '\n' <<<"$spec" | sed '/^$/d' ;;
	esac
}

# lint: every line well formed, every test of a vendor listed for both modules, every
# non-pass with a reason, and the differential rule: a test that passes on minikvm
# passes on the real kvm module in the same rig.
cmd_lint() {
	sed -e 's/#.*//' "$expected" | awk '$1 == "retry" && NF < 3 { print "expected.txt: " $0 ": a retry needs a reason"; e++ } END { exit e > 0 }' || return 1
	expectations | awk '
		function bad(msg) { print "expected.txt: " msg; errors++ }
		{
			key = $1 " " $2
			if ($2 != "svm" && $2 != "vmx") bad($0 ": vendor must be svm or vmx")
			if ($3 != "minikvm" && $3 != "kvm") bad($0 ": module must be minikvm or kvm")
			if ($4 !~ /^(pass|skip|fail|timeout|hang)$/) bad($0 ": result must be pass, skip, fail, timeout or hang")
			if ($4 != "pass" && NF < 5) bad($0 ": a " $4 " needs a reason")
			if ((key, $3) in res) bad($0 ": listed twice")
			res[key, $3] = $4
			keys[key] = 1
		}
		END {
			for (k in keys) {
				if (!((k, "minikvm") in res) || !((k, "kvm") in res))
					bad(k ": needs a line for minikvm and one for kvm")
				else if (res[k, "minikvm"] == "pass" && res[k, "kvm"] != "pass")
					bad(k ": passes on minikvm but not on kvm (the real module is the oracle)")
			}
			exit errors > 0
		}'
}

# judge: see the top. The guest prints, per test,
#   UPSTREAM: NAME RESULT RC SECS        RESULT pass|skip|fail|timeout, SECS guest time
# after "# NAME| ..." lines, the end of the output of a test that did not pass; and
# rig.sh adds "UPSTREAM: NAME hang - SECS" for one that hung the machine.
cmd_judge() {
	local name=$1 vendor=$2 module=$3 log=$4 results=$5 counts=$6 spec=${7:-}
	local n=0 p=0 f=0 s=0 t got want reason line seen=""
	cmd_lint || { echo "not ok - $name: selftests/upstream/expected.txt is malformed"; echo "0 1 0" > "$counts"; return 1; }
	: > "$results"
	# The tests asked for, in order; then their results and the reasons.
	local wanted
	wanted=$(if [ -n "$spec" ]; then cmd_list "$vendor" "$spec"; fi)
	# why(): one line on why a test did not pass, from the end of its output: the
	# skip message; or, after the selftest library's "==== Test Assertion Failure
	# ====", the asserting line and the message that follows the backtrace (which
	# the rig cannot symbolize: no addr2line there). The test's own stdout comes
	# after its stderr (buffered in a file): not that.
	tr -d '\r' < "$log" | awk -v out="$results" '
		/^# [^ ]+\| / {
			t = substr($2, 1, length($2) - 1)
			tail[t] = tail[t] "\n" substr($0, length($2) + 4)
			next
		}
		/^UPSTREAM-FIRST: / {
			first[$2] = $3 " " $4
			next
		}
		/^UPSTREAM: / {
			reason = why($2, $3)
			if ($2 in first) reason = reason (reason != "" ? " " : "") "(second run; the first: " first[$2] ")"
			# 128 + N: how the shell reports a process killed by signal N
			# (254 is how the selftest library exits on a failed assertion).
			if ($3 == "fail" && $4 > 128 && $4 < 160) reason = reason " (killed by signal " $4 - 128 ")"
			printf "%s %s %s %s %s\n", $2, $3, $4, $5, reason > out
		}
		function why(t, r,    lines, k, n, a, msg) {
			if (r == "pass") return ""
			if (r == "timeout") return "killed at the per-test limit"
			if (r == "hang") return "hung the machine: no serial output for " $5 " s (wall)"
			n = split(tail[t], lines, "\n")
			for (k = 1; k <= n; k++) {
				if (lines[k] ~ /Test Assertion Failure/) { a = lines[++k]; msg = ""; continue }
				if (a != "" && msg == "" &&
				    lines[k] !~ /^ *[0-9]+\t0x|^ *pid=[0-9]+ tid=|addr2line|^ *$/) msg = lines[k]
			}
			if (a != "") {
				gsub(/^ +| +$/, "", a); gsub(/^ +| +$/, "", msg)
				return a (msg != "" && msg != a ? " -- " msg : "")
			}
			for (k = n; k >= 1; k--)
				if (lines[k] !~ /^ *$/) {
					msg = lines[k]
					gsub(/^ +| +$/, "", msg)
					sub(/^1\.\.0 # SKIP - /, "", msg)
					return msg
				}
			return "(no output)"
		}'
	for t in $(echo "$wanted"; awk '{ print $1 }' "$results"); do
		# each test once, in the order asked for
		[[ " $seen " == *" $t "* ]] && continue
		seen+=" $t"
		n=$((n + 1))
		line=$(awk -v t="$t" '$1 == t' "$results" | tail -n 1)
		got=${line#* }; got=${got%% *}
		[ -n "$line" ] || got=none
		read -r want reason < <(expectations | awk -v t="$t" -v v="$vendor" -v m="$module" \
			'$1 == t && $2 == v && $3 == m { $1 = $2 = $3 = ""; sub(/^ +/, ""); print; f = 1 }
			 END { if (!f) print "unknown" }')
		if [ "$got" = "$want" ]; then
			if [ "$got" = pass ]; then
				# a note only after a retry: "(second run; the first: fail 254)"
				reason=$(cut -s -d' ' -f5- <<<"$line")
				echo "ok $n upstream.$t${reason:+ $reason}"; p=$((p + 1))
			else
				echo "ok $n upstream.$t # SKIP $got as expected: $reason"; s=$((s + 1))
			fi
		elif [ "$want" = unknown ]; then
			reason=$(cut -d' ' -f5- <<<"${line:-x x x x no result: the rig ended first}")
			echo "ok $n upstream.$t # SKIP $got, not in expected.txt${reason:+: $reason}"
			s=$((s + 1))
		else
			reason=$(cut -d' ' -f5- <<<"${line:-x x x x (no result: the rig ended first)}")
			echo "not ok $n upstream.$t # expected $want, got $got${reason:+: $reason}"
			[ "$got" != pass ] || echo "# a new pass: write it into selftests/upstream/expected.txt ($t $vendor $module pass)"
			f=$((f + 1))
		fi
	done
	echo "$p $f $s" > "$counts"
	echo "$name: upstream selftests: $p passed, $f failed, $s skipped"
	[ "$f" = 0 ]
}

# table: | test | minikvm | kvm_amd | why not |, from two RESULTS files of judge.
cmd_table() {
	local vendor=$1 mk=$2 ref=$3 refname
	[ "$vendor" = svm ] && refname=kvm_amd || refname=kvm_intel
	awk -v refname="$refname" '
		FNR == 1 { file++ }
		{
			if (!($1 in seen)) { seen[$1] = 1; order[++n] = $1 }
			res[file, $1] = $2 " (" $4 " s)"
			r = ""; for (k = 5; k <= NF; k++) r = r (k > 5 ? " " : "") $k
			gsub(/\|/, "\\|", r)
			if (r != "") why[file, $1] = r
			if ($2 == "pass") pass[file]++
		}
		END {
			printf "| test | minikvm | %s | minikvm: why not | %s: why not |\n", refname, refname
			print "|---|---|---|---|---|"
			for (i = 1; i <= n; i++) {
				t = order[i]
				printf "| %s | %s | %s | %s | %s |\n", t,
				       ((1, t) in res) ? res[1, t] : "-", ((2, t) in res) ? res[2, t] : "-",
				       why[1, t], why[2, t]
			}
			printf "| **passed** | **%d** | **%d** | | |\n", pass[1], pass[2]
		}' "$mk" "$ref"
}

# run: one rig per module, one after the other. A test that hangs the machine ends
# its boot (rig.sh --upstream-silence); the tests after it run in a new one.
cmd_run() {
	local vendor=$1 spec=$2 ko=$3 rc=0 out=build/upstream/$1.md module name list hung i which
	shift 3
	cd "$top"
	mkdir -p build/upstream
	for module in minikvm kvm; do
		list=$(cmd_list "$vendor" "$spec")
		: > "build/upstream/$vendor-$module.results"
		i=1
		while [ -n "$list" ]; do
			name=upstream-$vendor-$module
			[ "$i" = 1 ] || name+=-$i
			[ "$module" = kvm ] && which=(--ref) || which=(--module "$ko")
			scripts/rig.sh --name "$name" --vendor "$vendor" "${which[@]}" --no-selftests \
				--upstream "$(paste -sd, <<<"$list")" "$@" || rc=1
			cat "build/rig/$name/upstream.results" >> "build/upstream/$vendor-$module.results"
			hung=$(awk '$2 == "hang" { print $1 }' "build/rig/$name/upstream.results")
			[ -n "$hung" ] || break
			list=$(sed -n "/^$hung\$/,\$p" <<<"$list" | tail -n +2)
			i=$((i + 1))
		done
	done
	{
		echo "Linux 6.1's KVM selftests ($(basename "$tarball"), unmodified) in the $vendor rig,"
		echo "$(date -u +%F), minikvm at $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- kmod 2>/dev/null || echo ' + changes')."
		echo "Result (guest seconds); why not: the end of the test's output (build/logs/upstream-$vendor-*.log)."
		echo
		cmd_table "$vendor" "build/upstream/$vendor-minikvm.results" "build/upstream/$vendor-kvm.results"
	} > "$out"
	echo
	cat "$out"
	echo
	echo "upstream: table in $out"
	return "$rc"
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case $cmd in
build) cmd_build ;;
dir)   cmd_dir ;;
list)  cmd_list "$@" ;;
judge) cmd_judge "$@" ;;
table) cmd_table "$@" ;;
lint)  cmd_lint ;;
retries) cmd_retries ;;
run)   cmd_run "$@" ;;
*)     sed -n '2,/^set -e/p' "$0" | sed '$d' >&2; exit 2 ;;
esac
