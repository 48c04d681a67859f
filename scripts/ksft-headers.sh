#!/usr/bin/env bash
# ksft-headers.sh [DEST]: extract the kernel selftest harness headers
# (kselftest_harness.h, kselftest.h) from Debian's linux-source-6.1 tarball into
# DEST (default build/ksft). The selftests include them exactly like the kernel's own
# KVM selftests do; we do not keep copies of kernel sources in this repository.
set -euo pipefail

dest=${1:-build/ksft}
tarball=${KSRC_TARBALL:-/usr/src/linux-source-6.1.tar.xz}
top=linux-source-6.1/tools/testing/selftests

if [ -f "$dest/kselftest_harness.h" ] && [ -f "$dest/kselftest.h" ]; then
	exit 0
fi
[ -f "$tarball" ] || { echo "ksft-headers: $tarball missing (make deps)" >&2; exit 1; }

echo "ksft-headers: extracting from $tarball"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The harness includes only libc headers and kselftest.h. --occurrence stops reading
# the (large) archive once both members were found.
tar -xJf "$tarball" -C "$tmp" --occurrence=1 \
	"$top/kselftest_harness.h" "$top/kselftest.h"
mkdir -p "$dest"
cp "$tmp/$top/kselftest_harness.h" "$tmp/$top/kselftest.h" "$dest/"
