#!/usr/bin/env bash
# deps.sh: install the Debian packages the build and the test rigs need, if any is missing.
#
# Nothing is downloaded when everything is already there, so `make check` can call this
# every time. The guest kernels are NOT installed here: scripts/fetch-kernel.sh downloads
# and unpacks them into build/ (installing a linux-image package would rebuild an
# initramfs for the host, which takes minutes and is of no use to us).
set -euo pipefail

# The 6.12 headers the project builds against too (Debian 12 ships several 6.12 point
# releases; this one is the version the rigs were verified with).
KVER_612_PKG=${KVER_612_PKG:-linux-headers-6.12.111+deb12-amd64}

packages=(
	build-essential         # gcc, make, libc6-dev (static libc for the selftests)
	linux-libc-dev          # <linux/kvm.h> for the selftests and user/ programs
	linux-headers-amd64     # Debian 12's default kernel (6.1) headers: the module's main target
	linux-source-6.1        # only for tools/testing/selftests/kselftest*.h
	kmod                    # depmod, modprobe --show-depends, modinfo on an unpacked kernel
	xz-utils                # the 6.12 kernel ships its modules as .ko.xz
	rsync cpio              # module build copies, initramfs
	busybox-static          # the guest's userland: /init runs under busybox sh
	qemu-system-x86         # SVM rig: QEMU TCG with -cpu max emulates AMD SVM + NPT;
	                        # inside it, the same QEMU is a KVM client (rig.sh --qemu)
	libvirt-clients         # virsh, virt-host-validate for libvirt_test (rig.sh --qemu)
	strace                  # qemu_test's census of QEMU's ioctls (rig.sh --qemu)
	libvirt-daemon-driver-qemu  # virt-qemu-run and libvirt's QEMU driver module
	bochs bochsbios vgabios # VMX rig: Bochs emulates Intel VMX + EPT
	bochs-term              # its text display, the one that runs without X (under script)
	isolinux syslinux-common xorriso  # Bochs has no -kernel option: it boots an ISO
	gnuplot-nox bc          # make bench: the bar chart, ratios
	clang llvm bpftool      # user/stat (minikvm-stat): BPF compiler, skeleton generator
	libbpf-dev libelf-dev zlib1g-dev  # ... and the static libbpf.a, libelf.a, libz.a it links
	linux-perf bpftrace     # perf kvm stat and bpftrace in the rigs (rig.sh --tools:
	                        # selftests/perf_test.c, bpftrace_test.c)
	python3.11              # kvm_stat's interpreter in the rigs (scripts/pack-kvm-stat.sh;
	                        # the script itself comes from linux-source-6.1)
	flex bison libssl-dev   # the debug rig's kernel, built from linux-source-6.1
	                        # (scripts/debug-kernel.sh; bc and libelf-dev are above)
)

missing=()
for p in "${packages[@]}"; do
	# "ii " = installed and configured; anything else (absent, half-configured) needs apt.
	status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
	[ "$status" = "ii " ] || missing+=("$p")
done

# Any installed 6.12 headers will do (scripts/kver.sh picks the newest).
if ! scripts/kver.sh 6.12 >/dev/null 2>&1; then
	missing+=("$KVER_612_PKG")
fi

if [ ${#missing[@]} -eq 0 ]; then
	echo "deps: all packages present"
	exit 0
fi

echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# The 6.12 headers package depends on the matching linux-image; INITRD=No tells its
# postinst hook not to spend minutes generating an initramfs for the host.
export INITRD=No
apt=(apt-get -y -q -o DPkg::Lock::Timeout=900)
"${apt[@]}" update
"${apt[@]}" install --no-install-recommends "${missing[@]}"
