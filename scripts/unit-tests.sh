#!/usr/bin/env bash
# unit-tests.sh [COUNTS_FILE]: run the host-side unit tests in tests/unit/:
#   - `make -C tests/unit check` (C tests of the module's pure-logic files), if there
#     is a tests/unit/Makefile;
#   - every tests/unit/*_test.sh (tests of the rig's own scripts).
# Each prints TAP lines ("ok N - ...", "not ok N - ..."); they are counted here, and
# the failed ones shown (full output in build/logs/unit-NAME.log). A test
# program that fails to build or exits non-zero without a "not ok" counts as one failure.
# Prints "unit: N passed, N failed, N skipped" and writes "N N N" to COUNTS_FILE.
set -euo pipefail

counts=${1:-build/unit.counts}
mkdir -p "$(dirname "$counts")" build/logs
passed=0 failed=0 skipped=0

# run_one NAME COMMAND...: run it, count its TAP lines.
run_one() {
	local name=$1 out rc=0 p f s
	shift
	out=build/logs/unit-$name.log
	"$@" > "$out" 2>&1 || rc=$?
	grep -E '^not ok [0-9]+' "$out" | sed "s/^/$name: /" || true
	p=$(grep -cE '^ok [0-9]+' "$out" || true)
	s=$(grep -E '^ok [0-9]+' "$out" | grep -c '# *SKIP' || true)
	f=$(grep -cE '^not ok [0-9]+' "$out" || true)
	p=$((p - s))
	if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
		echo "not ok - $name: exit status $rc without a failed test; see $out"
		tail -n 20 "$out" | sed 's/^/#   /'
		f=1
	fi
	echo "$name: $p passed, $f failed, $s skipped (log: $out)"
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
}

if [ -f tests/unit/Makefile ]; then
	run_one c-tests make -C tests/unit check
fi
for t in tests/unit/*_test.sh; do
	[ -e "$t" ] || continue
	run_one "$(basename "$t" .sh)" "$t"
done

echo "$passed $failed $skipped" > "$counts"
echo "unit: $passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
