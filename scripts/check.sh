#!/usr/bin/env bash
# check.sh: everything `make check` runs, in order, each piece counted:
#   1. host-side unit tests (tests/unit/)
#   2. the module built against the 6.1 and the 6.12 headers, and the selftests and
#      user programs: each build is one check, failed if it fails or prints a warning
#   3. the rigs: SVM (QEMU) and VMX (Bochs), each with minikvm.ko and with the real
#      kvm modules (REF: the oracle the selftests are written against), on 6.1,
#      with the nested Linux boot; SVM also on 6.12
#   3b. the tracing tools in the SVM rig, perf, bpftrace and kvm_stat, on both modules
#   4. the real KVM clients in the rigs: QEMU, libvirt and live migration (SVM),
#      QEMU's default boot (VMX), on minikvm.ko and on the real kvm modules
#   5. Linux's own KVM selftests (6.1, unmodified; built once, cached outside the
#      clone): the subset selftests/upstream/expected.txt names, in the 6.1 rigs of
#      3 after our selftests, on both modules, each result judged against that file
#   6. the debug rig: all our selftests (and the fuzzer's short run) on minikvm in
#      the SVM rig under a kernel built with KASAN, lockdep, DEBUG_ATOMIC_SLEEP,
#      kmemleak, DEBUG_LIST and DEBUG_PREEMPT (scripts/debug-kernel.sh: built once,
#      cached outside the clone; on a fresh machine it builds in the background
#      while 1-4 run)
# The last line is "N passed, N failed, N skipped" (the sum of every piece), after
# the table of pieces and the "not ok" lines of all of them; the exit status is
# non-zero if anything failed.
set -euo pipefail

mkdir -p build/logs
total_p=0 total_f=0 total_s=0
table=()
failures=()   # the "not ok" lines of every piece, repeated before the total

# failed_lines NAME FILE: keep the first 3 "not ok" lines of a piece's output for
# the end, and how many more there were.
failed_lines() {
	local l n=0
	while IFS= read -r l; do
		n=$((n + 1))
		[ "$n" -le 3 ] && failures+=("$1: $l")
	done < <(tr -d '\r' < "$2" | grep -E '^not ok' || true)
	[ "$n" -le 3 ] || failures+=("$1: ... and $((n - 3)) more not ok lines")
}

# add NAME P F S SECONDS: count one piece.
add() {
	total_p=$((total_p + $2)) total_f=$((total_f + $3)) total_s=$((total_s + $4))
	table+=("$(printf '%-22s %4d passed %4d failed %4d skipped %5ss' "$1" "$2" "$3" "$4" "$5")")
}

# account NAME COUNTS_FILE SECONDS: count a piece that wrote "P F S" to COUNTS_FILE;
# one that died before writing it counts as one failure.
account() {
	local p f s
	if [ -s "$2" ]; then
		read -r p f s < "$2"
	else
		echo "not ok - $1: ended before reporting results"
		failures+=("$1: not ok - ended before reporting results")
		p=0 f=1 s=0
	fi
	add "$1" "$p" "$f" "$s" "$3"
}

# counted NAME COUNTS_FILE COMMAND...: run a piece that writes its counts, and count it.
counted() {
	local name=$1 counts=$2 start=$SECONDS
	shift 2
	rm -f "$counts"
	echo
	echo "=== $name"
	# A piece's own bare "N passed, N failed, N skipped" line gets its name in front:
	# the unprefixed form is reserved for the grand total at the very end.
	"$@" 2>&1 | sed -u -E "s/^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$/$name: &/" |
		tee "build/logs/check-$name.out" || true
	account "$name" "$counts" $((SECONDS - start))
	failed_lines "$name" "build/logs/check-$name.out"
}

# build NAME COMMAND...: one check; fails on a non-zero exit or any compiler warning.
build() {
	local name=$1 log=build/logs/$1.log start=$SECONDS rc=0
	shift
	echo
	echo "=== $name: $*"
	"$@" > "$log" 2>&1 || rc=$?
	if [ "$rc" = 0 ] && ! grep -q -E 'warning:|error:' "$log"; then
		echo "ok - $name"
		add "$name" 1 0 0 $((SECONDS - start))
	else
		grep -E 'warning:|error:' "$log" | head -n 20 || true
		tail -n 5 "$log"
		echo "not ok - $name: exit status $rc, $(grep -c -E 'warning:|error:' "$log" || true) warning/error lines (log: $log)"
		failures+=("$name: not ok - exit status $rc (log: $log)")
		add "$name" 0 1 0 $((SECONDS - start))
	fi
}

v61=$(scripts/kver.sh 6.1)
v612=$(scripts/kver.sh 6.12)
# Fetch the guest kernels now: two rigs running side by side must not both unpack one.
scripts/fetch-kernel.sh "$v61"
scripts/fetch-kernel.sh "$v612"

# The debug rig's kernel: a build from scratch takes one core for a long while, so
# it starts now, at low priority, and the debug rig runs last (see there).
scripts/debug-kernel.sh build > build/logs/debug-kernel.log 2>&1 &
debug_kernel_pid=$!

counted unit build/unit.counts scripts/unit-tests.sh build/unit.counts
counted doc-check build/doc-check.counts scripts/doc-check.sh build/doc-check.counts

build build-6.1 make module KDIR="/usr/src/linux-headers-$v61"
build build-6.12 make module-copy KVER=6.12
build build-selftests make selftests user
build build-upstream scripts/upstream-selftests.sh build

# rig NAME ARGS...: one rig run (scripts/rig.sh), counted from its serial output.
rig() {
	local name=$1
	shift
	counted "$name" "build/rig/$name/counts" scripts/rig.sh --name "$name" "$@"
}

# rig_pair NAME1 "ARGS1" NAME2 "ARGS2": two runs side by side (each emulator uses one
# host CPU: Bochs is single-threaded), shown one after the other when both are done.
rig_pair() {
	local start=$SECONDS n
	rm -f "build/rig/$1/counts" "build/rig/$3/counts"
	# shellcheck disable=SC2086  # ARGS are word lists on purpose
	scripts/rig.sh --name "$1" $2 > "build/logs/check-$1.out" 2>&1 &
	local pid1=$!
	# shellcheck disable=SC2086
	scripts/rig.sh --name "$3" $4 > "build/logs/check-$3.out" 2>&1 &
	# These two only: the debug kernel's build runs in the background too.
	wait "$pid1" $! || true
	for n in "$1" "$3"; do
		echo
		echo "=== $n (run side by side)"
		cat "build/logs/check-$n.out"
		account "$n" "build/rig/$n/counts" $((SECONDS - start))
		failed_lines "$n" "build/logs/check-$n.out"
	done
}

# The 6.1 rigs also boot the nested Linux guest (selftests/l2boot_test.c, `--l2`):
# minikvm-run boots the rig's own kernel inside the rig, to a busybox init that
# prints a marker and reboots. It took 11 s (SVM) and 75 s (VMX) of wall time in a
# fresh clone here; a hung boot costs up to the test limit, hence the longer ones.
# Since the in-kernel irqchip it boots four times (--irqchip=user, =kernel,
# --cpus 4, --cpus 4 stopped by SIGTERM): 60 s of guest time in the SVM rig.
# The 6.12 rigs run the other tests only.
#
# The 6.1 rigs also run the subset of Linux's own KVM selftests that
# selftests/upstream/expected.txt names for their vendor (`--upstream check`), in
# rigs that boot anyway, after our tests. Here, on 2026-12-02, they took 109 s of
# wall time on kvm_amd (25 tests) and 95 s on kvm_intel (24). The VMX rigs run
# their column too: rig.sh --vendor vmx --module minikvm.ko --no-selftests
# --upstream check on 2026-12-03 printed "vmx-up-mk2: upstream selftests: 21
# passed, 0 failed, 3 skipped" (222 s of wall time for the whole rig run).
# `make upstream` runs all 66.
# The minikvm SVM rig also boots it with virtio devices (variant "virtio": --cpus 2
# --disk --disk-ro --rng --virtio-console, an ext4 image that rig.sh makes;
# Documentation/tour.rst stop 10): 25 s of wall time for a rig run of that boot
# alone here (2026-12-03, "virtio-svm-mk: 6 passed, 0 failed, 4 skipped"), and
# with the monitor (variant "monitor": stop, cont, quit over --monitor), and
# "snapshot" (snapshot-save, a new minikvm-run with --restore, snapshot-load:
# "snap-svm-mk: 6 passed, 0 failed, 6 skipped" for that boot alone, and the same
# on kvm_amd, "snap-svm-kvm", 2026-12-03), and "migrate" (live migration to a
# second minikvm-run: "mig-a: 6 passed, 0 failed, 7 skipped", 39 s wall; three
# in a row with APPEND=L2BOOT_RUNS=3, "mig-b: 7 passed, 0 failed"; on kvm_amd it
# failed both times, the 2-vCPU in-kernel-irqchip trouble below). On kvm_amd (--ref) the same run
# passed once ("virtio-svm-kvm: 6 passed, 0 failed, 4 skipped", 13.7 s guest time);
# one run is too few against the in-kernel-irqchip stalls seen there (below), so
# the kvm_amd rig leaves it out through L2BOOT_VARIANTS, as do the VMX rigs, where
# a boot costs minutes under Bochs.
l2=(--l2 --test-timeout 900)
up=(--upstream check)
rig svm-minikvm-6.1  --vendor svm --kver 6.1  --module minikvm.ko "${l2[@]}" "${up[@]}" --timeout 900
# On kvm_amd (in this rig's emulated SVM) the nested Linux with the in-kernel
# irqchip stops making progress in some boots (2026-12-02: the 1-vCPU boot stuck
# at one RIP with IF=0 for 150 s in one run, the 1- and 4-vCPU boots in another;
# a "stack guard page was hit" panic in 2 of 14 in a third), never on minikvm
# in those runs: the kvm_amd rig boots it with --irqchip=user only. (Since
# minikvm-run takes KVM's PIT too, the same: L2BOOT_RUNS=4 of kernel,smp4 on
# kvm_amd, 2026-12-02: the 4th 1-vCPU boot stuck at one RIP with IF=0; of the
# 4-vCPU boots the 3rd printed "stack guard page was hit", the 4th got stuck.
# minikvm booted all 12 of kernel,smp4,sigterm x4 in the same rig.)
rig svm-kvm-6.1      --vendor svm --kver 6.1  --ref "${l2[@]}" "${up[@]}" --timeout 900 \
	--env L2BOOT_VARIANTS=user
# Every minikvm rig of all the selftests also runs the fuzzer's ioctl part
# (selftests/fuzz_test.c: 40 s of fuzzing in the SVM rigs, about 60 s with its
# warm-up, memory and replay checks; 15 s in the VMX rig, see its main()): the
# 6.12 rigs get more than the default 300 s for it (full 6.1 runs ended at 50-120 s
# of guest time before it).
rig svm-minikvm-6.12 --vendor svm --kver 6.12 --module "build/k-$v612/minikvm.ko" --timeout 480
rig svm-kvm-6.12     --vendor svm --kver 6.12 --ref --timeout 480
# Under Bochs the minikvm VMX rig boots the nested Linux three times
# (--irqchip=user, =kernel, and =kernel --cpus 4); the 4-vCPU boot alone took
# 145 s of wall time (2026-12-02, rig.sh --vendor vmx --test l2boot --env
# L2BOOT_VARIANTS=smp4: "RIG: exit l2boot_test 0 (34.8 s guest time), 145 s wall");
# the whole minikvm rig as below, 585 s ("302 passed, 0 failed, 3 skipped"; the
# three boots "98.4 s guest time), 386 s wall", the machine shared).
# Before minikvm armed the VMX-preemption timer on entries with IF=0
# (kmod/vmx/vmx.c:vmx_setup_preemption_timer), that boot printed nothing for 8
# minutes in a trial run: Bochs blocks the host's interrupts while a guest
# entered with IF=0 keeps IF=0, and an AP spinning so in calibrate_delay_direct()
# starved the rig's one CPU. kvm_intel arms no such timer and gets stuck in the
# same way (the same command with --ref, 2026-12-02: no serial output for 10
# minutes after the nested kernel's "Poking KASLR"; Bochs, stopped by hand, said
# "CPU is in long mode (active, vmx guest)" with IF clear); so the kvm_intel
# rig boots it with --irqchip=user only, as the kvm_amd one (above); its 1-vCPU
# in-kernel-irqchip boot under Bochs has not been tried. The SIGTERM case (4
# vCPUs again) stays out of both VMX rigs for time.
# The virtio boot (with hvc0) runs in the minikvm VMX rig too: 307 s of wall time
# for a rig run of it alone (2026-12-03, rig.sh --vendor vmx --test l2boot --env
# L2BOOT_VARIANTS=virtio: "hvc-vmx-mk: 6 passed, 0 failed, 4 skipped").
# And the live migration boot ("migrate": a second minikvm-run with --incoming;
# 2026-12-03, rig.sh --vendor vmx --test l2boot --env L2BOOT_VARIANTS=migrate:
# "mig-vmx: 6 passed, 0 failed, 7 skipped", 256 s wall, and "mig-vmx2", 246 s).
vmx_l2=(--env L2BOOT_VARIANTS=user,kernel,smp4,virtio,migrate)
rig_pair vmx-minikvm-6.1 "--vendor vmx --kver 6.1 --module minikvm.ko ${l2[*]} ${up[*]} ${vmx_l2[*]} --timeout 2400" \
         vmx-kvm-6.1     "--vendor vmx --kver 6.1 --ref ${l2[*]} ${up[*]} --env L2BOOT_VARIANTS=user --timeout 2400"

# The tracing tools users run on KVM (rig.sh --tools): Debian's perf (perf kvm
# stat record/report/live, selftests/perf_test.c), bpftrace (the one-liners of
# Documentation/tracing.rst, selftests/bpftrace_test.c) and Linux's kvm_stat
# (debugfs and tracepoints, selftests/kvmstat_test.c) count the exits of a known
# guest exactly, on minikvm and on kvm_amd. Rigs of their own: bpftrace brings
# about 200 MB of libraries (LLVM, clang) into the initramfs. About 50-80 s of
# wall time each here (2026-12-02); one kvm_amd run on a machine busy with other
# emulators hit the 300 s default limit, hence 600.
tools=(--tools --test perf --test bpftrace --test kvmstat --timeout 600)
rig svm-minikvm-tools --vendor svm --kver 6.1 --module minikvm.ko "${tools[@]}"
rig svm-kvm-tools     --vendor svm --kver 6.1 --ref "${tools[@]}"

# The real clients of the KVM API (rig.sh --qemu): QEMU 7.2 boots the nested
# Linux with seven command lines (qemu_test), libvirt 9.0 runs it as a domain
# (libvirt_test), and QEMU migrates it live between two processes
# (migrate_test); on minikvm and on kvm_amd, one rig each. The VMX
# rig boots QEMU's default command line only: under Bochs one boot takes
# minutes of wall time. The SVM client runs go one after the other: each runs
# QEMU inside QEMU, and when this machine's two cores were shared with more
# work, the rig's kernel reported a soft lockup of a starved emulated CPU.
#
# qemu_test's ioctl census (QEMU under strace) was left out for a while: on
# minikvm the rig's kernel reported "BUG: soft lockup - CPU#0 stuck for 45s"
# during it in 2 of 3 runs. Most likely the host timer interrupt the emulated
# SVM can lose (Documentation/testing.rst, "A third example": a woken stuck rig
# printed the same report); with the re-poll
# of kmod/svm/svm.c three census boots in a row passed, no report ("census-a:
# 7 passed, 0 failed, 21 skipped", 141 s), so it is back.
cases=default_machine,nodefaults,cpu_host,smp4,userspace_irqchip
cases+=,cpu_host_userspace_irqchip,cpu_host_userspace_irqchip_no_asyncpf_int
cases+=,ioctl_census
clients=(--test qemu --test libvirt --test migrate --timeout 1200
	 --env "QEMU_TEST_CASES=$cases")
rig svm-minikvm-clients --vendor svm --kver 6.1 --module minikvm.ko "${clients[@]}"
rig svm-kvm-clients     --vendor svm --kver 6.1 --ref "${clients[@]}"
vmx_qemu=(--test qemu --env QEMU_TEST_CASES=default_machine --timeout 1500)
rig_pair vmx-minikvm-qemu "--vendor vmx --kver 6.1 --module minikvm.ko ${vmx_qemu[*]}" \
         vmx-kvm-qemu     "--vendor vmx --kver 6.1 --ref ${vmx_qemu[*]}"

# The debug rig (scripts/debug-kernel.sh, rig.sh --kver debug): our selftests with
# minikvm under KASAN, lockdep and kmemleak; the fuzzer's short run is one of them.
# The rig fails on any report of those checkers, and on a kmemleak scan that is not
# empty after the tests (scripts/guest-init.sh). The nested Linux boot and the
# upstream selftests stay out (time).
start=$SECONDS
echo
echo "=== build-debug-kernel (waiting for the background build)"
wait "$debug_kernel_pid" || true
if scripts/debug-kernel.sh version > /dev/null 2>&1; then
	tail -n 1 build/logs/debug-kernel.log
	echo "ok - build-debug-kernel"
	add build-debug-kernel 1 0 0 $((SECONDS - start))
	vdbg=$(scripts/kver.sh debug)
	build build-debug make module-copy KVER=debug
	# ioapic_test's storm guard (10,000 interrupt deliveries) took from under 30 s
	# to over 100 s on this kernel (2026-12-03); the other rigs run it.
	rig svm-minikvm-debug --vendor svm --kver debug --module "build/k-$vdbg/minikvm.ko" \
		--timeout 1800 --env IOAPIC_STORM_SKIP=1
else
	tail -n 20 build/logs/debug-kernel.log
	echo "not ok - build-debug-kernel (log: build/logs/debug-kernel.log)"
	failures+=("build-debug-kernel: not ok (log: build/logs/debug-kernel.log)")
	add build-debug-kernel 0 1 0 $((SECONDS - start))
fi

echo
echo "=== summary"
printf '%s\n' "${table[@]}"
# What failed, by name, where a reader of the last lines alone sees it (3 lines a
# piece, cut at 200 characters; the whole lines are in the pieces' output above).
if [ "${#failures[@]}" -gt 0 ]; then
	echo "=== failed"
	printf '%s\n' "${failures[@]}" | cut -c1-200
fi
echo "$total_p passed, $total_f failed, $total_s skipped"
[ "$total_f" = 0 ]
