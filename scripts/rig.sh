#!/usr/bin/env bash
# rig.sh: boot an emulated machine with virtualization extensions, load the module,
# run the selftests in it and judge the serial output.
#
#   --vendor svm|vmx   svm: QEMU TCG -cpu max (AMD SVM + NPT)   [default svm]
#                      vmx: Bochs, Haswell model (Intel VMX + EPT)
#   --ref              load the real kvm + kvm_amd/kvm_intel instead of minikvm.ko
#   --module FILE      minikvm.ko to load (built for the guest kernel; not with --ref)
#   --kver 6.1|6.12    guest kernel series (Debian 12 packages)         [default 6.1]
#   --test NAME        run only /tests/NAME (repeatable; "smoke" = "smoke_test")
#   --shell            end in a shell on the console instead of powering off (svm only)
#   --icount           QEMU -icount shift=0,sleep=off: guest time counts instructions
#   --demo             show what the module reports instead of running the tests
#   --name NAME        name of the run [default <vendor>-<minikvm|kvm>-<kver>]
#   --timeout SECS     wall-clock limit of the whole run [svm 300, vmx 900; svm 900
#                      with QEMU clients]
#   --test-timeout SECS  guest seconds one test binary may run  [120; 600 with clients]
#   --l2               pack the nested Linux guest for l2boot_test even when all tests run
#   --upstream SPEC    also run Linux's own KVM selftests (scripts/upstream-selftests.sh
#                      builds and caches them), after ours: SPEC "check" = the tests
#                      selftests/upstream/expected.txt names for this vendor, "all", or
#                      a,b,c; each result is judged against expected.txt
#   --upstream-timeout SECS  guest seconds one of those may run  [180]
#   --upstream-silence SECS  wall seconds without serial output while one of those
#                      runs (the guest prints every 20 s) after which the machine
#                      counts as hung and is stopped  [svm 180, vmx 480]
#   --no-selftests     run none of our selftests (with --upstream: only those)
#   --env "VAR=VALUE ..."  environment of the tests in the rig (e.g. QEMU_TEST_CASES=
#                      default_machine: qemu_test runs only that case, as the VMX
#                      rig does in make check)
#   --qemu             pack real KVM clients, QEMU and libvirt, with everything they load
#                      (see pack_qemu below), and the nested guest /l2/*: for
#                      qemu_test, migrate_test (QEMU) and libvirt_test (QEMU + libvirt),
#                      which skip without them. Asking for one of those tests with
#                      --test packs what it needs without --qemu; so does "bench"
#                      (QEMU only: bench/minikvm-bench times QEMU's boot and migration).
#   --tools            pack the tracing tools users run on KVM, Debian's perf (linux-perf)
#                      and bpftrace, with their libraries, and Linux's kvm_stat with a
#                      minimal Python (see pack_tools below), for perf_test,
#                      bpftrace_test and kvmstat_test, which skip without them. Asking
#                      for one of those with --test packs its tool without --tools.
# Environment: APPEND="..." more kernel command line (e.g. APPEND=loglevel=7 shows
# every kernel message on the console); SMP=N vCPUs of the QEMU machine [2, 1 with
# --qemu];
# QEMU_ARGS="..." more QEMU options (e.g. "-d int -D /tmp/int.log" logs every
# interrupt and exception the emulated CPU delivers, L1's and L2's);
# BOCHS_CPUS=N CPUs of the Bochs machine [1] (2 boots, but lifecycle_test alone then
# took over 9 minutes).
#
# Files: build/rig/NAME/ (initramfs, ISO, counts), build/logs/NAME.log (serial output).
# The last line printed is "NAME: N passed, N failed, N skipped"; the exit status is 0
# only if nothing failed.
set -euo pipefail

vendor=svm ref=0 module="" kver=6.1 tests=() shell=0 icount=0 demo=0 name="" timeout="" l2=0
clients=none tools="" test_timeout="" upstream="" upstream_timeout=180 upstream_silence="" selftests=1
while [ $# -gt 0 ]; do
	case $1 in
	--vendor)  vendor=$2; shift ;;
	--ref)     ref=1 ;;
	--module)  module=$2; shift ;;
	--kver)    kver=$2; shift ;;
	--test)    t=$2; [[ $t == *_test ]] || t=${t}_test; tests+=("$t"); shift ;;
	--shell)   shell=1 ;;
	--icount)  icount=1 ;;
	--demo)    demo=1 ;;
	--name)    name=$2; shift ;;
	--timeout) timeout=$2; shift ;;
	--test-timeout) test_timeout=$2; shift ;;
	--l2)      l2=1 ;;
	--env)     test_env=$2; shift ;;
	--qemu)    clients=all ;;
	--tools)   tools="perf bpftrace kvm_stat" ;;
	--upstream) upstream=$2; shift ;;
	--upstream-timeout) upstream_timeout=$2; shift ;;
	--upstream-silence) upstream_silence=$2; shift ;;
	--no-selftests) selftests=0 ;;
	*) echo "rig.sh: unknown option $1 (see the comment at the top of $0)" >&2; exit 2 ;;
	esac
	shift
done

# Real clients: --qemu packs QEMU and libvirt; asking for their tests by name packs
# what those need (libvirt's libraries alone are about 13 MB of the gzipped initramfs).
for t in "${tests[@]}"; do
	case $t in
	qemu_test|migrate_test|bench_test) [ "$clients" = all ] || clients=qemu ;;
	libvirt_test) clients=all ;;
	perf_test) [[ " $tools " == *" perf "* ]] || tools+=" perf" ;;
	bpftrace_test) [[ " $tools " == *" bpftrace "* ]] || tools+=" bpftrace" ;;
	kvmstat_test) [[ " $tools " == *" kvm_stat "* ]] || tools+=" kvm_stat" ;;
	esac
done

# The client tests boot several nested guests each: qemu_test took 92 s of guest
# time, libvirt_test and migrate_test about 45 s each, on kvm_amd in the SVM rig.
if [ "$clients" != none ]; then
	: "${test_timeout:=600}"
	[ "$vendor" != svm ] || : "${timeout:=900}"
fi
# l2boot_test boots the nested Linux four times (user, kernel irqchip, 4 vCPUs,
# 4 vCPUs and SIGTERM): about 60 s of guest time in the SVM rig, minutes under Bochs;
# as make check gives it (scripts/check.sh).
[[ " ${tests[*]} " != *" l2boot_test "* ]] || : "${test_timeout:=900}"
# bpftrace compiles each program with LLVM: about 15 s of guest time per
# one-liner in the SVM rig, more under Bochs.
[ -z "$tools" ] || : "${test_timeout:=600}"
: "${test_timeout:=120}"
case $vendor in
# Full runs took about 1 min (svm) and 4 min (vmx) here, on a busy machine. A guest that hangs
# costs the whole limit, so the limits are a few times that, not more.
svm) : "${timeout:=300}" "${upstream_silence:=180}" ;;
vmx) : "${timeout:=900}" "${upstream_silence:=480}" ;;
*) echo "rig.sh: --vendor must be svm or vmx" >&2; exit 2 ;;
esac
if [ "$shell" = 1 ] && [ "$vendor" != svm ]; then
	echo "rig.sh: --shell needs the svm rig (Bochs runs without a usable console)" >&2
	exit 2
fi

ver=$(scripts/kver.sh "$kver")
[ "$ref" = 1 ] && flavour=kvm || flavour=minikvm
: "${name:=$vendor-$flavour-$kver}"
dir=build/rig/$name
log=build/logs/$name.log
kdir=build/kernel/$ver
mkdir -p build/rig build/logs

# Two runs of the same name would share (and wipe) one directory and one log: the
# second one waits for the first. Runs of different names go side by side.
exec 9> "build/rig/$name.lock"
if ! flock -n 9; then
	echo "rig.sh: another run named $name is in progress; waiting for it" >&2
	flock 9
fi
rm -rf "$dir"
mkdir -p "$dir"

scripts/fetch-kernel.sh "$ver"

# ---------------------------------------------------------------- initramfs
# root/                       the guest's whole filesystem
#   init                      scripts/guest-init.sh
#   bin/busybox, bin/sh       the userland (applets installed by init)
#   etc/rig.conf              this run's settings
#   lib/modules/*.ko          the modules, load.list = insmod order
#   tests/*_test              static selftest binaries
root=$dir/root
mkdir -p "$root"/{bin,etc,lib/modules,tests,proc,sys,dev,tmp}
cp /bin/busybox "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
cp scripts/guest-init.sh "$root/init"
chmod 755 "$root/init"

# Copy module $1 (a .ko or .ko.xz) into the initramfs as a plain .ko: busybox insmod
# cannot decompress.
add_module() {
	local src=$1 base
	base=$(basename "$src" .xz)
	case $src in
	*.xz) xz -dc "$src" > "$root/lib/modules/$base" ;;
	*)    cp "$src" "$root/lib/modules/$base" ;;
	esac
	echo "$base" >> "$root/lib/modules/load.list"
}

if [ "$ref" = 1 ]; then
	[ "$vendor" = svm ] && rig_module=kvm_amd || rig_module=kvm_intel
	# modprobe prints "insmod FILE" per module, dependencies first (irqbypass, kvm,
	# ccp for kvm_amd, ...), from the modules.dep fetch-kernel.sh generated.
	for ko in $(modprobe -d "$kdir" -S "$ver" --show-depends "$rig_module" |
	            awk '$1 == "insmod" { print $2 }'); do
		add_module "$ko"
	done
else
	rig_module=minikvm
	[ -n "$module" ] || { echo "rig.sh: --module FILE (minikvm.ko) is needed without --ref" >&2; exit 2; }
	[ -f "$module" ] || { echo "rig.sh: $module does not exist: did the module build?" >&2; exit 2; }
	# A module only loads into the kernel it was built for: say so early and clearly.
	vermagic=$(modinfo -F vermagic "$module")
	[ "${vermagic%% *}" = "$ver" ] ||
		{ echo "rig.sh: $module is built for ${vermagic%% *}, the guest runs $ver" >&2; exit 2; }
	add_module "$module"
fi

# Without their debug info (the copies in build/ keep it): a smaller initramfs
# unpacks faster, which counts under Bochs.
for t in build/selftests/*_test; do
	[ "$selftests" = 1 ] || break
	# The real clients' tests only where the clients are packed: elsewhere
	# they could only skip.
	case ${t##*/} in
	qemu_test|migrate_test|libvirt_test) [ "$clients" != none ] || continue ;;
	perf_test) [[ " $tools " == *" perf "* ]] || continue ;;
	bpftrace_test) [[ " $tools " == *" bpftrace "* ]] || continue ;;
	kvmstat_test) [[ " $tools " == *" kvm_stat "* ]] || continue ;;
	esac
	[ -e "$t" ] && strip -o "$root/tests/${t##*/}" "$t"
done
# selftests/rofile_test.c: a readonly slot backed by a file of a read-only
# filesystem. An ISO 9660 image whose pattern.bin has 16 pages, every byte of
# page i equal to i + 1, and the guest kernel's loop, cdrom and isofs modules in
# lib/modules/extra (the test loads them; /init does not).
if [ "$selftests" = 1 ] && [ -e build/selftests/rofile_test ] &&
   { [ ${#tests[@]} = 0 ] || [[ " ${tests[*]} " == *" rofile_test "* ]]; }; then
	mkdir -p "$root/lib/modules/extra" "$root/data" "$dir/ro-src"
	for m in loop cdrom isofs; do
		ko=$(find "$kdir/lib/modules/$ver/kernel" -name "$m.ko" -o -name "$m.ko.xz" | head -1)
		case $ko in
		"") ;;	# built in
		*.xz) xz -dc "$ko" > "$root/lib/modules/extra/$m.ko" ;;
		*) cp "$ko" "$root/lib/modules/extra/$m.ko" ;;
		esac
	done
	: > "$dir/ro-src/pattern.bin"
	for i in $(seq 1 16); do
		head -c 4096 /dev/zero | tr '\0' "\\$(printf %03o "$i")" >> "$dir/ro-src/pattern.bin"
	done
	xorriso -as mkisofs -o "$root/data/ro.iso" "$dir/ro-src" > "$dir/ro-iso.out" 2>&1 ||
		{ cat "$dir/ro-iso.out"; exit 1; }
fi
# selftests/guestmem_test.c: MADV_PAGEOUT needs swap. The guest kernel's zram
# module and what it needs (zsmalloc on 6.1, the LZ4 compressors on 6.12) in
# lib/modules/extra (the test loads them in this order and swaps on /dev/zram0;
# /init does not).
if [ "$selftests" = 1 ] && [ -e build/selftests/guestmem_test ] &&
   { [ ${#tests[@]} = 0 ] || [[ " ${tests[*]} " == *" guestmem_test "* ]]; }; then
	mkdir -p "$root/lib/modules/extra"
	for m in zsmalloc lz4_compress lz4hc_compress zram; do
		ko=$(find "$kdir/lib/modules/$ver/kernel" -name "$m.ko" -o -name "$m.ko.xz" | head -1)
		case $ko in
		"") ;;	# built in
		*.xz) xz -dc "$ko" > "$root/lib/modules/extra/$m.ko" ;;
		*) cp "$ko" "$root/lib/modules/extra/$m.ko" ;;
		esac
	done
fi
[ -x build/user/kvm-info ] && cp build/user/kvm-info "$root/bin/"
# minikvm-stat (user/stat/), for selftests/trace_test.c and the rig shell.
[ -x build/user/minikvm-stat ] && cp build/user/minikvm-stat "$root/bin/"
# minikvm-run (user/runner/), and for selftests/l2boot_test.c, when asked for by
# name (it boots a nested Linux: minutes under TCG), the guest it boots: this same
# kernel as /l2/vmlinuz and a busybox initramfs from user/runner/l2/mkinitrd.sh.
# The QEMU clients (below) boot the same guest.
[ -x build/user/minikvm-run ] && cp build/user/minikvm-run "$root/bin/"
want_l2=0
if [[ -x build/user/minikvm-run && ( $l2 = 1 || " ${tests[*]} " == *" l2boot_test "* ||
                                     " ${tests[*]} " == *" bench_test "* ) ]] ||
   [ "$clients" != none ]; then
	want_l2=1
fi
if [ "$want_l2" = 1 ]; then
	mkdir -p "$root/l2"
	cp "$kdir/vmlinuz" "$root/l2/vmlinuz"
	user/runner/l2/mkinitrd.sh "$root/l2/initrd.gz"
fi
# pack_dynamic FILE...: dynamically linked programs as Debian installed them, at the
# same paths, with every shared library ldd lists and the dynamic loader. One copy of
# each library, in /usr/lib/x86_64-linux-gnu, with /lib/x86_64-linux-gnu a link to it
# (merged /usr, as on the host): a library found under two names would load twice.
pack_dynamic() {
	local f lib
	mkdir -p "$root/usr/lib/x86_64-linux-gnu" "$root/lib64"
	[ -e "$root/lib/x86_64-linux-gnu" ] || ln -s ../usr/lib/x86_64-linux-gnu "$root/lib/x86_64-linux-gnu"
	for f in "$@"; do
		[ -e "$f" ] || { echo "rig.sh: $f missing (make deps)" >&2; exit 1; }
		mkdir -p "$root${f%/*}"
		cp -L "$f" "$root$f"
	done
	if ldd "$@" | grep 'not found'; then
		echo "rig.sh: a library of $* is missing on this host" >&2
		exit 1
	fi
	# "libX.so => /lib/x86_64-linux-gnu/libX.so (0x...)", and the loader's own line.
	for lib in $(ldd "$@" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }
	                             $1 ~ /^\/.*ld-linux/ { print $1 }' | sort -u); do
		[ -e "$root$lib" ] || cp -L "$lib" "$root$lib"
	done
}

# pack_qemu qemu|all: QEMU (and with "all" libvirt), with pack_dynamic.
pack_qemu() {
	local files=(/usr/bin/qemu-system-x86_64
		     # -accel kvm:tcg falls back on it; libvirt probes TCG as well as KVM
		     /usr/lib/x86_64-linux-gnu/qemu/accel-tcg-x86_64.so
		     # qemu_test's census of the ioctls QEMU issues
		     /usr/bin/strace)
	local f
	if [ "$1" = all ]; then
		files+=(/usr/bin/virsh /usr/bin/virt-qemu-run /usr/bin/virt-host-validate
			/usr/lib/x86_64-linux-gnu/libvirt/connection-driver/libvirt_driver_qemu.so)
	fi
	pack_dynamic "${files[@]}"
	# QEMU finds its firmware relative to its binary (qemu-system-x86_64 -L help):
	# ../share/qemu, ../share/seabios, ../lib/ipxe/qemu. Firmware of other
	# architectures stays out (about 7 MB); the option ROM of the default NIC
	# (e1000) comes from ipxe-qemu.
	mkdir -p "$root/usr/share/qemu" "$root/usr/share/seabios" "$root/usr/lib/ipxe/qemu"
	cp -rL /usr/share/seabios/. "$root/usr/share/seabios/"
	for f in /usr/share/qemu/*; do
		case ${f##*/} in
		QEMU,*|*.dtb|hppa-*|openbios-*|opensbi-*|palcode-*|s390-*|skiboot.lid|slof.bin|\
		vof.bin|npcm7xx_*|trace-events-all) ;;
		*) cp -rL "$f" "$root/usr/share/qemu/" ;;
		esac
	done
	cp -L /usr/lib/ipxe/qemu/efi-e1000.rom "$root/usr/lib/ipxe/qemu/"
	[ "$1" = all ] || return 0
	# libvirt: the CPU models it compares the host CPU with, and the users it parses
	# before reading any configuration (its compiled-in default is libvirt-qemu).
	mkdir -p "$root/usr/share/libvirt"
	cp -rL /usr/share/libvirt/cpu_map "$root/usr/share/libvirt/"
	cat > "$root/etc/passwd" <<PASSWD
root:x:0:0:root:/root:/bin/sh
libvirt-qemu:x:64055:64055:Libvirt Qemu:/var/lib/libvirt:/bin/false
PASSWD
	cat > "$root/etc/group" <<GROUP
root:x:0:
kvm:x:64056:libvirt-qemu
libvirt-qemu:x:64055:
GROUP
}
[ "$clients" = none ] || pack_qemu "$clients"

# pack_tools: the tracing tools of Documentation/tracing.rst, as Debian builds them,
# for selftests/perf_test.c and bpftrace_test.c. perf (linux-perf 6.1, the rig
# kernel's series) with its libraries is about 24 MB; bpftrace with LLVM, clang and
# the rest about 200 MB (77 MB of the gzipped initramfs), so each comes only when
# its test is asked for, or with --tools. kvm_stat (selftests/kvmstat_test.c) is a
# Python script: scripts/pack-kvm-stat.sh packs it with python3.11 and the
# standard library modules it imports (39 .py files with their .pyc, 5 extension
# modules), 16 MB with the libraries (about 6 MB gzipped).
pack_tools() {
	local t files
	for t in $tools; do
		case $t in
		perf) pack_dynamic /usr/bin/perf ;;
		bpftrace) pack_dynamic /usr/bin/bpftrace ;;
		kvm_stat)
			files=$(scripts/pack-kvm-stat.sh "$root")
			# shellcheck disable=SC2086  # one file per line, no blanks
			pack_dynamic $files ;;
		esac
	done
}
[ -z "$tools" ] || pack_tools

# The "virtio" boot of selftests/l2boot_test.c (minikvm-run --disk, --disk-ro, --rng):
# a second L2 initramfs that carries the L2 kernel's virtio and ext4 modules, an ext4
# image made here with mkfs.ext4 -d holding /known.bin (256 KiB of random bytes),
# that file's sha256, and debugfs (e2fsprogs) for L1 to read back what L2 wrote.
# Without mkfs.ext4 or debugfs on this host the test skips that boot.
# The guest's helper module (user/runner/l2/kmod/l2_virtio_mmio.c) is built for $ver;
# if that fails (no headers), the boot skips too, with the build's output in l2kmod.out.
l2kmod_ok() {
	rm -rf "$dir/l2kmod"
	mkdir -p "$dir/l2kmod"
	cp user/runner/l2/kmod/Kbuild user/runner/l2/kmod/l2_virtio_mmio.c "$dir/l2kmod/"
	make -s -C "/usr/src/linux-headers-$ver" M="$PWD/$dir/l2kmod" modules > "$dir/l2kmod.out" 2>&1
}
if [ "$want_l2" = 1 ] && [ -x /usr/sbin/mkfs.ext4 ] && [ -x /usr/sbin/debugfs ] && l2kmod_ok; then
	user/runner/l2/mkinitrd.sh "$root/l2/initrd-virtio.gz" "$kdir/lib/modules/$ver" \
		"$dir/l2kmod/l2_virtio_mmio.ko"
	rm -rf "$dir/disk-src" "$dir/disk.img"
	mkdir -p "$dir/disk-src"
	head -c 262144 /dev/urandom > "$dir/disk-src/known.bin"
	sha256sum "$dir/disk-src/known.bin" | cut -d' ' -f1 > "$root/l2/known.sha256"
	mkfs.ext4 -q -F -d "$dir/disk-src" "$dir/disk.img" 8M
	cp "$dir/disk.img" "$root/l2/disk.img"
	pack_dynamic /usr/sbin/debugfs
fi

# bench/minikvm-bench (make bench) only when asked for as "bench": never a test.
if [[ " ${tests[*]} " == *" bench_test "* ]] && [ -x build/bench/minikvm-bench ]; then
	cp build/bench/minikvm-bench "$root/tests/bench_test"
fi

# Linux's own KVM selftests, stripped too (about 1 MB each, static), in /upstream.
upstream_tests=()
if [ -n "$upstream" ]; then
	upstream_bin=$(scripts/upstream-selftests.sh dir)
	mapfile -t upstream_tests < <(scripts/upstream-selftests.sh list "$vendor" "$upstream")
	mkdir -p "$root/upstream"
	for t in "${upstream_tests[@]}"; do
		# A name that is not there is reported by the guest as a failure.
		[ -e "$upstream_bin/$t" ] && strip -o "$root/upstream/$t" "$upstream_bin/$t"
	done
fi

cat > "$root/etc/rig.conf" <<CONF
RIG_NAME='$name'
RIG_MODULE='$rig_module'
RIG_TESTS='${tests[*]}'
RIG_TIMEOUT='$test_timeout'
RIG_SHELL='$shell'
RIG_ENV='${test_env:-}'
RIG_DEMO='$demo'
RIG_SELFTESTS='$selftests'
RIG_UPSTREAM='${upstream_tests[*]}'
RIG_UPSTREAM_TIMEOUT='$upstream_timeout'
RIG_UPSTREAM_RETRY='$(scripts/upstream-selftests.sh retries | tr '\n' ' ')'
CONF

(cd "$root" && find . | cpio -o -H newc --quiet) | gzip -1 > "$dir/initrd.gz"

# 115200 baud: Bochs times its UART by the baud rate, and at the default 9600 a test's
# output (written through a 4 KB tty buffer) took seconds of guest time to drain, and
# the tail of it was lost when /init powered off.
cmdline="console=ttyS0,115200 quiet panic=-1 oops=panic panic_on_warn=0 ${APPEND:-}"

# ---------------------------------------------------------------- run
echo "== $name: $rig_module on $ver, $vendor rig, tests: $([ "$selftests" = 1 ] && echo "${tests[*]:-all}" || echo none)${upstream:+, upstream: ${#upstream_tests[@]} ($upstream)}, timeout ${timeout}s"
start=$SECONDS

if [ "$vendor" = svm ]; then
	smp=${SMP:-2}
	# One vCPU for the QEMU clients. With 2, their nested guests hung on kvm_amd in 4
	# of 16 boots here (none in 31 with one): the L2 kernel spinning with IF = 0 in
	# native_queued_spin_lock_slowpath on a per-CPU lock. Most likely the rig's own
	# bug of Documentation/testing.rst ("an interrupt delivered twice"): with the
	# in-kernel LAPIC, kvm_amd injects interrupts by EVENTINJ without forcing an
	# exit, and QEMU 7.2's TCG delivers such a vector again, ignoring IF, when its
	# round-robin loop kicks the vCPU in between; with one vCPU it does not kick.
	[ "$clients" != none ] && smp=${SMP:-1}
	# -icount runs every vCPU on one host thread; with 2 vCPUs the guest never reached
	# /init here, so icount runs (benchmarks) use one vCPU.
	[ "$icount" = 1 ] && smp=1
	# thread=single: all vCPUs take turns on one host thread. With one thread per vCPU
	# (QEMU's default), the guest kernel's live code patching (int3 + text_poke, e.g.
	# the preempt-notifier static key that every KVM VM creation flips) raced with the
	# other vCPU: "Oops: int3" in __schedule in 2 of 3 runs of 6.12 with real kvm_amd.
	qemu=(qemu-system-x86_64 -no-reboot -m 2G -smp "$smp" -cpu max -accel tcg,thread=single
	      -kernel "$kdir/vmlinuz" -initrd "$dir/initrd.gz" -append "$cmdline")
	[ "$icount" = 1 ] && qemu+=(-icount shift=0,sleep=off)
	# shellcheck disable=SC2206  # a word list on purpose, e.g. "-d int -D /tmp/int.log"
	[ -n "${QEMU_ARGS:-}" ] && qemu+=(${QEMU_ARGS})
	if [ "$shell" = 1 ]; then
		# Interactive: the serial console is this terminal (Ctrl-A X quits QEMU).
		"${qemu[@]}" -nographic 2>&1 | tee "$log"
		exit 0
	fi
	: > "$log"
	# timeout runs QEMU in a process group of its own; the parser may end it early.
	timeout -k 5 "$timeout" "${qemu[@]}" -display none -monitor none \
		-serial "file:$log" < /dev/null > "$dir/emulator.out" 2>&1 &
else
	# Bochs has no -kernel: boot an ISO made with isolinux.
	iso=$dir/iso
	mkdir -p "$iso/isolinux"
	cp /usr/lib/ISOLINUX/isolinux.bin /usr/lib/syslinux/modules/bios/ldlinux.c32 "$iso/isolinux/"
	cp "$kdir/vmlinuz" "$dir/initrd.gz" "$iso/"
	printf 'DEFAULT rig\nLABEL rig\n  KERNEL /vmlinuz\n  APPEND initrd=/initrd.gz %s\n' \
		"$cmdline" > "$iso/isolinux/isolinux.cfg"
	xorriso -as mkisofs -o "$dir/boot.iso" -b isolinux/isolinux.bin \
		-c isolinux/boot.cat -no-emul-boot -boot-load-size 4 -boot-info-table "$iso" \
		> "$dir/xorriso.out" 2>&1 || { cat "$dir/xorriso.out"; exit 1; }

	# The serial console. Bochs' "file" mode writes through a stdio buffer: the log
	# arrived in 4 KB lumps, and the last lump was lost when a hung run was killed.
	# So com1 gets a pseudo-terminal of its own ("term" mode), whose other end
	# script(1) copies into serial.log as it comes (-f). sleep keeps the terminal open.
	(cd "$dir" && exec script -qfc "tty > com1.tty; exec sleep $((timeout + 60))" serial.log \
		< /dev/null > /dev/null 2>&1) &
	com1_holder=$!
	trap 'kill "$com1_holder" 2>/dev/null || true' EXIT
	for _ in $(seq 50); do
		[ -s "$dir/com1.tty" ] && break
		sleep 0.1
	done
	[ -s "$dir/com1.tty" ] || { echo "rig.sh: no pseudo-terminal for com1" >&2; exit 1; }
	ln -sf "$PWD/$dir/serial.log" "$log"

	# Debian's Bochs: cpu model with VMX + EPT + unrestricted guest; the guest clock
	# follows the instruction count (clock: sync=none), so runs are repeatable.
	cat > "$dir/bochsrc" <<BOCHSRC
megs: 1024
cpu: model=corei7_haswell_4770, count=${BOCHS_CPUS:-1}, ips=200000000
romimage: file=/usr/share/bochs/BIOS-bochs-latest
vgaromimage: file=/usr/share/vgabios/vgabios.bin
ata0-master: type=cdrom, path=boot.iso, status=inserted
boot: cdrom
com1: enabled=1, mode=term, dev=$(cat "$dir/com1.tty")
display_library: term
clock: sync=none
log: bochs.log
speaker: enabled=0
sound: waveoutdrv=dummy, waveindrv=dummy, midioutdrv=dummy
BOCHSRC
	# Debian's Bochs has its debugger built in and stops at a prompt: continue, then quit.
	printf '%b' "${BOCHS_DBG_RC:-c\nquit\n}" > "$dir/dbg.rc"
	# The "term" display needs a terminal: script(1) gives it a pseudo-terminal, which
	# needs a size (0x0 crashes the display) and a terminal type.
	(cd "$dir" && exec timeout -k 5 "$timeout" script -qfc \
		"stty cols 80 rows 25; TERM=vt100 exec bochs -q -f bochsrc -rc dbg.rc" /dev/null \
		< /dev/null > emulator.out 2>&1) &
fi
emu=$!

# A machine hung by one of Linux's selftests: the guest prints a line every 20 s
# while one runs (guest-init.sh, run_upstream), so a serial log that stays still for
# $upstream_silence s of wall time in the middle of one means that the guest's own
# timer is gone too (seen in Bochs: set_memory_region_test on kvm_intel). Stop the
# emulator then, instead of at the wall-clock limit, and write down which test it was.
upstream_watchdog() {
	local last
	while sleep 10 && kill -0 "$emu" 2>/dev/null; do
		last=$(tr -d '\r' < "$log" | grep -E '^(RIG: upstream |UPSTREAM: |RIG: dmesg)' | tail -n 1)
		[[ $last == "RIG: upstream "* ]] || continue
		if [ $(($(date +%s) - $(stat -L -c %Y "$log"))) -ge "$upstream_silence" ]; then
			echo "UPSTREAM: ${last#RIG: upstream } hang - $upstream_silence" > "$dir/upstream.hang"
			echo "== $name: no serial output for $upstream_silence s during ${last#RIG: upstream }: stopping the machine (--upstream-silence)"
			kill -TERM -- "-$emu" 2>/dev/null || true
			return
		fi
	done
}
watchdog=""
if [ -n "$upstream" ]; then
	upstream_watchdog &
	watchdog=$!
fi

# Follow the serial log until the emulator is gone (the parser stops it after the end
# marker or a panic; timeout stops it at the wall-clock limit).
rc=0
scripts/parse-serial.sh "$name" "$dir/counts" "$emu" \
	< <(tail -n +1 -F --pid="$emu" "$log" 2>/dev/null) || rc=$?
emu_rc=0
wait "$emu" 2>/dev/null || emu_rc=$?
[ -z "$watchdog" ] || kill "$watchdog" 2>/dev/null || true
# timeout(1) exits with 124 when the limit struck.
[ "$emu_rc" = 124 ] &&
	echo "== $name: stopped at the wall-clock limit of $timeout s (--timeout, TIMEOUT=)"
# Linux's selftests: each result against expected.txt, added to the counts; one line
# per test in $dir/upstream.results for the table (scripts/upstream-selftests.sh table).
if [ -n "$upstream" ]; then
	urc=0
	cat "$log" "$dir/upstream.hang" > "$dir/upstream.serial" 2>/dev/null || true
	scripts/upstream-selftests.sh judge "$name" "$vendor" "$flavour" "$dir/upstream.serial" \
		"$dir/upstream.results" "$dir/upstream.counts" "$upstream" || urc=$?
	read -r p f s < "$dir/counts"
	read -r up uf us < "$dir/upstream.counts"
	echo "$((p + up)) $((f + uf)) $((s + us))" > "$dir/counts"
	echo "$name: $((p + up)) passed, $((f + uf)) failed, $((s + us)) skipped (with the upstream selftests)"
	[ "$urc" = 0 ] || rc=1
fi
echo "== $name: $((SECONDS - start)) s wall, serial log in $log"
exit "$rc"
