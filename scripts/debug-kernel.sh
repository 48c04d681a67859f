#!/usr/bin/env bash
# debug-kernel.sh: the debug kernel of the debug rig (rig.sh --kver debug).
#
# Debian's linux-source-6.1, configured from tinyconfig plus
# scripts/debug-kernel/debug.config (KASAN, lockdep, DEBUG_ATOMIC_SLEEP,
# kmemleak, DEBUG_LIST, DEBUG_PREEMPT, hung-task and soft-lockup detectors), built
# once and cached outside the clone, keyed by its inputs (the source package's
# version, the fragment and BUILD_REV, which changes with the build steps below):
#
#   ~/.cache/minikvm/debug-kernel-KEY/src      the unpacked source
#   ~/.cache/minikvm/debug-kernel-KEY/out      the build tree (the module builds against it)
#   ~/.cache/minikvm/debug-kernel-KEY/kernel   vmlinuz and lib/modules/VERSION/, the layout
#                                              of build/kernel/VERSION (fetch-kernel.sh)
#
#   debug-kernel.sh build     build it unless cached; print the cache directory
#   debug-kernel.sh version   print its kernel release (fails if not built)
#   debug-kernel.sh dir       print the cache directory (built or not)
#
# A build from scratch took 2012 s here (2 cores, at low priority while rigs ran);
# see the log in the cache directory.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
frag=$here/debug-kernel/debug.config
tarball=/usr/src/linux-source-6.1.tar.xz
cache=${XDG_CACHE_HOME:-$HOME/.cache}/minikvm

BUILD_REV=1
srcver=$(dpkg-query -W -f '${Version}' linux-source-6.1 2>/dev/null || echo none)
key=$( { echo "$srcver $BUILD_REV"; cat "$frag"; } | sha256sum | cut -c1-16)
dir=$cache/debug-kernel-$key

release() {
	cat "$dir/kernel/release" 2>/dev/null
}

build() {
	mkdir -p "$cache"
	exec 9> "$dir.lock"
	flock 9
	if [ -f "$dir/.done" ]; then
		echo "$dir"
		return 0
	fi
	[ -f "$tarball" ] || { echo "debug-kernel: no $tarball (make deps)" >&2; exit 1; }
	local start=$SECONDS log=$dir/build.log
	# An interrupted build resumes: the unpacked source and the build tree stay,
	# and Kbuild rebuilds only what is missing or out of date.
	if [ ! -f "$dir/.unpacked" ]; then
		rm -rf "$dir"
		mkdir -p "$dir"
		echo "debug-kernel: unpacking $tarball into $dir/src" >&2
		tar -xf "$tarball" -C "$dir"
		mv "$dir/linux-source-6.1" "$dir/src"
		touch "$dir/.unpacked"
	fi
	rm -rf "$dir/kernel"
	mkdir -p "$dir/kernel"
	local mk=(make -C "$dir/src" O="$dir/out" ARCH=x86_64 -j"$(nproc)")
	"${mk[@]}" -s tinyconfig > "$log" 2>&1
	"$dir/src/scripts/kconfig/merge_config.sh" -m -O "$dir/out" "$dir/out/.config" "$frag" >> "$log" 2>&1
	"${mk[@]}" -s olddefconfig >> "$log" 2>&1
	# Every line of the fragment must have survived the dependency resolution.
	local line k want got bad=0
	while read -r line; do
		[[ $line =~ ^(CONFIG_[A-Z0-9_]+)=(.*)$ ]] || continue
		k=${BASH_REMATCH[1]} want=${BASH_REMATCH[2]}
		got=$(sed -n "s/^$k=//p" "$dir/out/.config")
		[ "$want" = n ] && [ -z "$got" ] && continue
		if [ "$got" != "$want" ]; then
			echo "debug-kernel: $k=$want did not stick (got '${got:-unset}')" >&2
			bad=1
		fi
	done < "$frag"
	[ $bad = 0 ] || exit 1
	echo "debug-kernel: building (log: $log)" >&2
	if ! nice -n 10 "${mk[@]}" -s bzImage modules >> "$log" 2>&1; then
		tail -n 30 "$log" >&2
		exit 1
	fi
	local ver
	ver=$("${mk[@]}" -s kernelrelease)
	cp "$dir/out/arch/x86/boot/bzImage" "$dir/kernel/vmlinuz"
	"${mk[@]}" -s INSTALL_MOD_PATH="$dir/kernel" modules_install >> "$log" 2>&1
	echo "$ver" > "$dir/kernel/release"
	echo "debug-kernel: $ver built in $((SECONDS - start)) s" | tee -a "$log" >&2
	touch "$dir/.done"
	echo "$dir"
}

case ${1:-} in
build)   build ;;
version) [ -f "$dir/.done" ] || { echo "debug-kernel.sh: not built (debug-kernel.sh build)" >&2; exit 1; }
	 release ;;
dir)     echo "$dir" ;;
*)       echo "usage: debug-kernel.sh build|version|dir" >&2; exit 2 ;;
esac
