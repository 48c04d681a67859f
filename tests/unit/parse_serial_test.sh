#!/usr/bin/env bash
# Host-side tests of scripts/parse-serial.sh, the judge of every rig run: feed it
# made-up serial logs and check the counts it reports and its exit status.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0 failed=0

# check NAME EXPECTED_COUNTS EXPECTED_STATUS < serial-log
check() {
	local name=$1 want=$2 want_rc=$3 got rc=0
	n=$((n + 1))
	"$top/scripts/parse-serial.sh" t "$tmp/counts" > "$tmp/out" 2>&1 || rc=$?
	got=$(cat "$tmp/counts" 2>/dev/null || echo none)
	if [ "$got" = "$want" ] && [ "$rc" = "$want_rc" ]; then
		echo "ok $n - $name"
	else
		echo "not ok $n - $name"
		echo "#   counts '$got' (want '$want'), status $rc (want $want_rc); output:"
		sed 's/^/#     /' "$tmp/out"
		failed=$((failed + 1))
	fi
}

# A good run: kselftest output (CRLF line ends as on a serial line), a skip in both
# forms the harness prints, the rig's markers, a clean dmesg.
check "clean run" "3 0 2" 0 <<'LOG'
[    0.075634] [Firmware Bug]: TSC_DEADLINE disabled due to Errata
RIG: begin t
RIG: run a_test
TAP version 13
1..4
#  RUN           global.x ...
ok 1 global.x
ok 2 global.y # SKIP not here
ok 3 # SKIP no /dev/kvm
ok 4 global.z
RIG: exit a_test 0 (0.4 s guest time)
RIG: run module_cycle
1..1
ok 1 module_unload
RIG: exit module_cycle 0
RIG: dmesg begin
[    2.1] minikvm: loaded
RIG: dmesg end
RIG: end t
LOG

check "not ok counts and fails" "1 1 0" 1 <<'LOG'
RIG: run a_test
1..2
ok 1 global.x
not ok 2 global.y
RIG: exit a_test 1
RIG: end t
LOG

check "CRLF line ends" "1 0 0" 0 < <(printf 'RIG: run a_test\r\n1..1\r\nok 1 x\r\nRIG: exit a_test 0\r\nRIG: end t\r\n')

check "missing results of a binary that exited" "1 2 0" 1 <<'LOG'
RIG: run a_test
1..3
ok 1 global.x
RIG: exit a_test 139
RIG: end t
LOG

check "crash: 2 results missing, no end marker, a BUG line" "1 4 0" 1 <<'LOG'
RIG: run a_test
1..3
ok 1 global.x
[   12.000000] BUG: kernel NULL pointer dereference, address: 0000000000000000
LOG

check "non-zero exit without a failure" "1 1 0" 1 <<'LOG'
RIG: run a_test
1..1
ok 1 global.x
RIG: exit a_test 2
RIG: end t
LOG

check "KSFT_SKIP exit status is not a failure" "0 0 1" 0 <<'LOG'
RIG: run a_test
1..1
ok 1 # SKIP nothing to do
RIG: exit a_test 4
RIG: end t
LOG

check "WARNING in dmesg fails the run" "1 1 0" 1 <<'LOG'
RIG: run a_test
1..1
ok 1 global.x
RIG: exit a_test 0
RIG: dmesg begin
[    3.2] WARNING: CPU: 0 PID: 1 at kmod/main.c:10 f+0x1/0x2 [minikvm]
[    3.3] Call Trace:
RIG: dmesg end
RIG: end t
LOG

check "oops=panic on the command line is not an oops" "1 0 0" 0 <<'LOG'
RIG: run a_test
1..1
ok 1 global.x
RIG: exit a_test 0
RIG: dmesg begin
[    0.0] Kernel command line: console=ttyS0 quiet panic=-1 oops=panic
RIG: dmesg end
RIG: end t
LOG

check "test output that looks like a kernel error is not one" "1 0 0" 0 <<'LOG'
RIG: run a_test
1..1
# guest RIP: 0x1000 (no kernel timestamp: test output)
ok 1 global.x
RIG: exit a_test 0
RIG: end t
LOG

echo "$((n - failed)) passed, $failed failed"
[ "$failed" = 0 ]
