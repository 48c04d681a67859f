#!/usr/bin/env bash
# pack-kvm-stat.sh ROOT: put Linux's kvm_stat and the least Python that runs it into
# the rig's root filesystem ROOT (scripts/rig.sh --tools, or --test kvmstat).
#
#   ROOT/usr/bin/kvm_stat   tools/kvm/kvm_stat/kvm_stat of Debian's linux-source-6.1,
#                           unchanged (#!/usr/bin/env python3)
#   ROOT/usr/bin/python3.11 Debian's, with python3 and env (busybox) next to it;
#                           the shared libraries are copied by the caller's
#                           pack_dynamic (its ldd list), the files of the
#                           extension modules are in LIBS below
#   ROOT/usr/lib/python3.11 only the standard library modules kvm_stat imports
#
# The module list is what `python3.11 -v kvm_stat ...` loaded on this host in every
# mode the test uses (-1, -l, -L -c, -d, -t, -i, -p, -f help, --help), run in a
# chroot with a fake /proc/mounts and /sys/kernel/debug/kvm: the modules os, site,
# codecs, io, abc, stat and posixpath are frozen into the binary and need no file,
# but os.py must be there: Python finds its library by it. Each module comes with
# the .pyc Debian compiled for it (cp -p keeps the mtime the .pyc checks), so
# nothing is compiled in the rig. The curses display (kvm_stat without -1/-l/-L)
# would need terminfo files too; the tests run kvm_stat headless.
#
# Prints the files it lists, one per line, for the caller's pack_dynamic.
set -euo pipefail

root=${1:?usage: pack-kvm-stat.sh ROOT}
py=/usr/lib/python3.11
tarball=${KSRC_TARBALL:-/usr/src/linux-source-6.1.tar.xz}
script=build/tools/kvm_stat

modules=(
	__future__ _compression _weakrefset argparse bz2 contextlib copyreg datetime
	enum fnmatch functools gettext keyword locale lzma operator os reprlib
	selectors shutil signal struct subprocess threading types warnings
	collections/__init__ collections/abc ctypes/__init__ ctypes/_endian
	curses/__init__ encodings/__init__ encodings/aliases encodings/utf_8
	re/__init__ re/_casefix re/_compiler re/_constants re/_parser
)
# Extension modules (the rest of what it loads is built into Debian's python3.11).
libs=(_ctypes _curses resource _bz2 _lzma)

# The script, once, from the kernel source tarball (--occurrence stops reading there).
if [ ! -s "$script" ]; then
	[ -f "$tarball" ] || { echo "pack-kvm-stat: $tarball missing (make deps)" >&2; exit 1; }
	mkdir -p "${script%/*}"
	tar -xJf "$tarball" -O --occurrence=1 linux-source-6.1/tools/kvm/kvm_stat/kvm_stat \
		> "$script.tmp"
	mv "$script.tmp" "$script"
fi
mkdir -p "$root/usr/bin"
install -m 755 "$script" "$root/usr/bin/kvm_stat"
ln -sf python3.11 "$root/usr/bin/python3"
ln -sf /bin/busybox "$root/usr/bin/env"

for m in "${modules[@]}"; do
	src=$py/$m.py
	[ -f "$src" ] || { echo "pack-kvm-stat: $src missing (python3.11)" >&2; exit 1; }
	dir=${m%/*}
	[ "$dir" = "$m" ] && dir="" || dir=/$dir
	base=${m##*/}
	mkdir -p "$root$py$dir/__pycache__"
	cp -p "$src" "$root$src"
	pyc=$py$dir/__pycache__/$base.cpython-311.pyc
	[ ! -f "$pyc" ] || cp -p "$pyc" "$root$pyc"
done

echo /usr/bin/python3.11
for l in "${libs[@]}"; do
	echo "$py/lib-dynload/$l.cpython-311-x86_64-linux-gnu.so"
done
