#!/usr/bin/env bash
# Host-side tests of `scripts/upstream-selftests.sh judge` and `lint`, the judge of
# Linux's KVM selftests in the rigs: made-up serial logs and expectation files in,
# counts, exit status and the reasons in the results file checked.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0 failed=0
export UPSTREAM_EXPECTED=$tmp/expected.txt

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
	n=$((n + 1)); failed=$((failed + 1))
	echo "not ok $n - $1"
	sed 's/^/#     /' "$tmp/out"
}

# check NAME MODULE SPEC EXPECTED_COUNTS EXPECTED_STATUS < serial-log
check() {
	local name=$1 module=$2 spec=$3 want=$4 want_rc=$5 got rc=0
	cat > "$tmp/log"
	"$top/scripts/upstream-selftests.sh" judge t svm "$module" "$tmp/log" \
		"$tmp/results" "$tmp/counts" "$spec" > "$tmp/out" 2>&1 || rc=$?
	got=$(cat "$tmp/counts" 2>/dev/null || echo none)
	if [ "$got" = "$want" ] && [ "$rc" = "$want_rc" ]; then
		ok "$name"
	else
		echo "#   counts '$got' (want '$want'), status $rc (want $want_rc)" >> "$tmp/out"
		not_ok "$name"
	fi
}

cat > "$UPSTREAM_EXPECTED" <<'EXP'
# comment
a_test  svm minikvm pass
a_test  svm kvm     pass
b_test  svm minikvm fail   no irqchip    # a comment after the reason
b_test  svm kvm     pass
c_test  svm minikvm skip   no capability
c_test  svm kvm     skip   no capability either
v_test  vmx minikvm fail   only in the other rig
v_test  vmx kvm     pass
EXP

# Serial line ends (CRLF) as Bochs writes them; the test output tail of a failure.
check "every result as expected" minikvm check "1 0 2" 0 <<'LOG'
RIG: upstream a_test
UPSTREAM: a_test pass 0 1.5
RIG: upstream b_test
# b_test| ==== Test Assertion Failure ====
# b_test|   lib/kvm_util.c:1446: !ret
# b_test|   pid=141 tid=141 errno=25 - Inappropriate ioctl for device
# b_test|      1	0x0000000000401234: ?? ??:0
# b_test| sh: addr2line: not found
# b_test|   KVM_CREATE_IRQCHIP failed, rc: -1 errno: 25 (Inappropriate ioctl for device)
# b_test| Testing guest mode: PA-bits:ANY, VA-bits:48,  4K pages
UPSTREAM: b_test fail 254 0.1
RIG: upstream c_test
# c_test| 1..0 # SKIP - Requirement not met: kvm_has_cap(KVM_CAP_X)
UPSTREAM: c_test skip 4 0.0
LOG
if grep -qx 'b_test fail 254 0.1 lib/kvm_util.c:1446: !ret -- KVM_CREATE_IRQCHIP failed, rc: -1 errno: 25 (Inappropriate ioctl for device)' "$tmp/results" &&
   grep -qx 'c_test skip 4 0.0 Requirement not met: kvm_has_cap(KVM_CAP_X)' "$tmp/results"; then
	ok "the reasons: the assertion and its message; the skip line"
else
	cp "$tmp/results" "$tmp/out"; not_ok "the reasons: the assertion and its message; the skip line"
fi

check "a new pass is a failure until expected.txt says so" minikvm check "1 1 1" 1 <<'LOG'
UPSTREAM: a_test pass 0 1.5
UPSTREAM: b_test pass 0 2.0
UPSTREAM: c_test skip 4 0.0
LOG
if grep -q 'write it into selftests/upstream/expected.txt (b_test svm minikvm pass)' "$tmp/out"; then
	ok "a new pass says which line to write"
else
	not_ok "a new pass says which line to write"
fi

check "a test without a result (the rig ended) fails" kvm check "1 1 1" 1 <<'LOG'
UPSTREAM: a_test pass 0 1.5
UPSTREAM: c_test skip 4 0.0
LOG

check "a timeout is not a fail" minikvm check "1 1 1" 1 <<'LOG'
UPSTREAM: a_test pass 0 1.5
UPSTREAM: b_test timeout 143 180.0
UPSTREAM: c_test skip 4 0.0
LOG

check "tests without an expectation are reported, not judged" kvm "a_test,z_test" "1 0 1" 0 <<'LOG'
UPSTREAM: a_test pass 0 1.5
UPSTREAM: z_test fail 1 0.3
LOG

check "a second run after a retry is the one judged" minikvm check "1 0 2" 0 <<'LOG'
UPSTREAM: a_test pass 0 1.5
RIG: upstream b_test
# b_test| ==== Test Assertion Failure ====
# b_test|   x.c:217: false
UPSTREAM-FIRST: b_test fail 254 3.2
RIG: upstream b_test
# b_test| ==== Test Assertion Failure ====
# b_test|   lib/kvm_util.c:1446: !ret
UPSTREAM: b_test fail 254 0.1
UPSTREAM: c_test skip 4 0.0
LOG
if grep -qx 'b_test fail 254 0.1 lib/kvm_util.c:1446: !ret (second run; the first: fail 254)' "$tmp/results"; then
	ok "a retried failure gives the second run's reason and names the first"
else
	cp "$tmp/results" "$tmp/out"; not_ok "a retried failure gives the second run's reason and names the first"
fi
check "a pass on the second run counts as a pass, named so" kvm check "2 0 1" 0 <<'LOG'
RIG: upstream a_test
# a_test| ==== Test Assertion Failure ====
# a_test|   x.c:217: false
UPSTREAM-FIRST: a_test fail 254 3.2
RIG: upstream a_test
UPSTREAM: a_test pass 0 3.1
UPSTREAM: b_test pass 0 2.0
UPSTREAM: c_test skip 4 0.0
LOG
if grep -qx 'ok 1 upstream.a_test (second run; the first: fail 254)' "$tmp/out"; then
	ok "its TAP line names the first run"
else
	not_ok "its TAP line names the first run"
fi
check "a first run alone (the rig ended) fails" kvm check "1 1 1" 1 <<'LOG'
UPSTREAM-FIRST: a_test fail 254 3.2
UPSTREAM: b_test pass 0 2.0
UPSTREAM: c_test skip 4 0.0
LOG

# lint: the differential rule, both modules listed, a reason for every non-pass.
lint_case() {
	local name=$1 want_rc=$2 rc=0
	cat > "$UPSTREAM_EXPECTED"
	"$top/scripts/upstream-selftests.sh" lint > "$tmp/out" 2>&1 || rc=$?
	if [ "$rc" = "$want_rc" ]; then ok "lint: $name"; else not_ok "lint: $name (status $rc)"; fi
}
lint_case "a pass on minikvm only is refused" 1 <<'EXP'
a_test svm minikvm pass
a_test svm kvm     fail  kvm fails it
EXP
lint_case "a test listed for one module only is refused" 1 <<'EXP'
a_test svm minikvm fail  no irqchip
EXP
lint_case "a fail without a reason is refused" 1 <<'EXP'
a_test svm minikvm fail
a_test svm kvm     pass
EXP
lint_case "a well-formed file passes" 0 <<'EXP'
a_test svm minikvm fail  no irqchip
a_test svm kvm     pass
retry a_test  its deadline is wall time
EXP
if [ "$("$top/scripts/upstream-selftests.sh" retries)" = a_test ]; then
	ok "retries lists the retry lines"
else
	echo "retries: $("$top/scripts/upstream-selftests.sh" retries)" > "$tmp/out"; not_ok "retries lists the retry lines"
fi
lint_case "a retry without a reason is refused" 1 <<'EXP'
a_test svm minikvm pass
a_test svm kvm     pass
retry a_test
EXP
check "a malformed expected.txt fails the judge" minikvm check "0 1 0" 1 <<'LOG'
UPSTREAM: a_test pass 0 1.5
LOG

echo "1..$n"
[ "$failed" = 0 ]
