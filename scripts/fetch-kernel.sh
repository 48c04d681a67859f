#!/usr/bin/env bash
# fetch-kernel.sh VERSION [DEST]: unpack Debian's linux-image-VERSION into DEST
# (default build/kernel/VERSION): DEST/vmlinuz and DEST/lib/modules/VERSION/.
#
# The package is downloaded (`apt-get download`) and unpacked with dpkg-deb, never
# installed: the guest kernel is a file we hand to the emulator, not the host's kernel.
set -euo pipefail

ver=${1:?usage: fetch-kernel.sh VERSION [DEST]}
dest=${2:-build/kernel/$ver}

# Runs side by side may ask for the same kernel: one unpacks, the others wait.
mkdir -p "$(dirname "$dest")"
exec 9> "$dest.lock"
flock 9
if [ -f "$dest/.done" ]; then
	exit 0
fi

# The debug kernel is not a Debian package: scripts/debug-kernel.sh built it, with
# the same layout, in its cache.
if [[ $ver == *-minikvm-debug ]]; then
	rm -rf "$dest"
	ln -s "$("$(dirname "$0")"/debug-kernel.sh dir)/kernel" "$dest"
	depmod -b "$dest" "$ver"
	touch "$dest/.done"
	exit 0
fi

rm -rf "$dest"
mkdir -p "$dest/dl"
pkg=linux-image-$ver
echo "fetch-kernel: downloading $pkg"
# apt-get download writes to the current directory. If the package lists are missing
# or stale (a fresh machine), refresh them once and retry.
if ! (cd "$dest/dl" && apt-get download -q "$pkg" 2>/dev/null); then
	apt-get update -q
	(cd "$dest/dl" && apt-get download -q "$pkg")
fi

echo "fetch-kernel: unpacking into $dest"
dpkg-deb -x "$dest"/dl/"$pkg"_*.deb "$dest/root"
mv "$dest/root/boot/vmlinuz-$ver" "$dest/vmlinuz"
mv "$dest/root/lib" "$dest/lib"
rm -rf "$dest/root" "$dest/dl"

# The package ships no modules.dep (its postinst runs depmod): build it, so that
# `modprobe -d DEST -S VERSION --show-depends kvm_amd` can list the load order.
depmod -b "$dest" "$ver"
touch "$dest/.done"
