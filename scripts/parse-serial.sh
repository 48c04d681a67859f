#!/usr/bin/env bash
# parse-serial.sh NAME COUNTS_FILE [EMULATOR_PGID]: read a rig's serial console output on
# stdin (written by scripts/guest-init.sh), print it as it comes, and judge the run.
#
# Counted:
#   ok N ...                 passed          ok N ... # SKIP ...   skipped
#   not ok N ...             failed
#   a test binary that ends (or never ends) with fewer results than its "1..N" plan:
#                            each missing result failed
#   a test binary that exits non-zero without a "not ok": one failure
#   no "RIG: end" marker (the kernel crashed or the run timed out): one failure
#   kernel log lines with Oops|BUG:|WARNING:|general protection|Call Trace|RIP: (and the
#   debug kernel's hung-task and RCU stall reports): one failure
#
# At the end it prints "NAME: N passed, N failed, N skipped", writes "N N N" to
# COUNTS_FILE, and exits 1 if anything failed. With EMULATOR_PGID it also stops the
# emulator (that process group) once the guest is done or has panicked.
set -euo pipefail

name=${1:?usage: parse-serial.sh NAME COUNTS_FILE [EMULATOR_PGID]}
counts=${2:?usage: parse-serial.sh NAME COUNTS_FILE [EMULATOR_PGID]}
pgid=${3:-}

passed=0 failed=0 skipped=0
bad_kernel_lines=0
saw_end=0
in_dmesg=0
cur=""          # test binary now running ("" = none)
plan=-1         # its "1..N" (-1 = not printed yet)
started=0       # when it started ($SECONDS)
results=0       # results it printed so far
cur_failed=0    # of which "not ok"

# ("Oops" capitalised: the command line echoed in the log contains "oops=panic".)
# The debug kernel's checkers print these too (KASAN, DEBUG_ATOMIC_SLEEP and the
# soft-lockup detector "BUG:", lockdep "WARNING:"); the hung-task detector and RCU:
bad_re='Oops|BUG:|WARNING:|general protection|Call Trace|RIP: |INFO: task .* blocked|detected stalls'
# A kernel message on the console: "[   12.345678] text" (printk with timestamps).
kmsg_re='^\[ *[0-9]+\.[0-9]+\] '

# Stop the emulator after SECS seconds (the guest has nothing more to say).
stop_emulator() {
	[ -n "$pgid" ] || return 0
	(sleep "$1"; kill -TERM -- "-$pgid" 2>/dev/null || true) &
}

fail() {  # fail COUNT MESSAGE
	failed=$((failed + $1))
	echo "not ok - $name: $2"
}

# The current test binary is over (exit status $1, or "" if it never finished).
finish_binary() {
	local rc=$1 missing=0
	[ -n "$cur" ] || return 0
	if [ "$plan" -ge 0 ] && [ "$results" -lt "$plan" ]; then
		missing=$((plan - results))
		fail "$missing" "$cur: $missing of $plan results missing"
	elif [ "$plan" -lt 0 ] && [ "$results" -eq 0 ]; then
		fail 1 "$cur: printed no TAP plan and no results"
	elif [ -z "$rc" ]; then
		fail 1 "$cur: did not finish"
	fi
	# 0 = pass, 4 = KSFT_SKIP. Any other exit without a reported failure still fails.
	if [ -n "$rc" ] && [ "$rc" != 0 ] && [ "$rc" != 4 ] && [ "$cur_failed" -eq 0 ] &&
	   [ "$missing" -eq 0 ]; then
		fail 1 "$cur: exited with status $rc"
	fi
	cur=""
}

while IFS= read -r line || [ -n "$line" ]; do
	line=${line%$'\r'}

	# Kernel log: the dump at the end, and any kernel message printed on the console.
	if [ "$in_dmesg" = 1 ] || [[ $line =~ $kmsg_re ]]; then
		if [ "$line" = "RIG: dmesg end" ]; then
			in_dmesg=0
			echo "$line"
		elif [[ $line =~ $bad_re ]]; then
			bad_kernel_lines=$((bad_kernel_lines + 1))
			echo "!! $line"
		elif [ "$in_dmesg" = 0 ] || [ -n "${RIG_VERBOSE:-}" ]; then
			echo "$line"
		fi
		# A panic reboots the machine (and Bochs would boot it again): stop here.
		[[ $line == *"end Kernel panic"* ]] && stop_emulator 1
		continue
	fi

	case $line in
	"RIG: run "*)
		echo "$line"
		finish_binary ""
		cur=${line#RIG: run }
		plan=-1 results=0 cur_failed=0 started=$SECONDS
		;;
	"RIG: exit "*)
		# "RIG: exit NAME STATUS [(N s guest time)]": add the wall-clock time.
		echo "$line, $((SECONDS - started)) s wall"
		read -r _ _ _ rc _ <<<"$line"
		finish_binary "$rc"
		;;
	"RIG: upstream "*)
		# One of Linux's KVM selftests (rig.sh --upstream): no TAP of ours, judged
		# afterwards by scripts/upstream-selftests.sh; only its wall-clock time here.
		echo "$line"
		started=$SECONDS
		;;
	"UPSTREAM: "*)
		echo "$line, $((SECONDS - started)) s wall"
		;;
	"RIG: dmesg begin")
		echo "$line"
		in_dmesg=1
		;;
	"RIG: end "*)
		echo "$line"
		saw_end=1
		stop_emulator 5
		;;
	*)
		echo "$line"
		;;
	esac

	[ -n "$cur" ] || continue
	if [[ $line =~ ^1\.\.([0-9]+) ]]; then
		plan=${BASH_REMATCH[1]}
	elif [[ $line =~ ^not\ ok\ [0-9]+ ]]; then
		results=$((results + 1)) cur_failed=$((cur_failed + 1)) failed=$((failed + 1))
	elif [[ $line =~ ^ok\ [0-9]+ ]]; then
		results=$((results + 1))
		if [[ $line =~ \#\ *[Ss][Kk][Ii][Pp] ]]; then
			skipped=$((skipped + 1))
		else
			passed=$((passed + 1))
		fi
	fi
done

finish_binary ""
[ "$saw_end" = 1 ] || fail 1 "no end marker: the guest crashed, hung or timed out"
[ "$bad_kernel_lines" = 0 ] ||
	fail 1 "$bad_kernel_lines kernel log lines match /$bad_re/ (marked !! above)"

echo "$passed $failed $skipped" > "$counts"
echo "$name: $passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
