#!/usr/bin/env bash
# kver.sh SERIES: print the full version of the newest installed Debian kernel
# headers of one series, e.g. "6.1" -> "6.1.0-56-amd64", "6.12" -> "6.12.111+deb12-amd64";
# "debug" -> the release of the debug rig's kernel, e.g. "6.1.158-minikvm-debug".
#
# The module is built against /usr/src/linux-headers-<version> and the rig boots the
# linux-image of that same <version>: a module only loads into the kernel it was built for.
set -euo pipefail

series=${1:?usage: kver.sh SERIES (e.g. 6.1 or 6.12, or debug)}

# "debug": the debug kernel built from linux-source-6.1 (scripts/debug-kernel.sh).
if [ "$series" = debug ]; then
	exec "$(dirname "$0")/debug-kernel.sh" version
fi

# "6.1." matches 6.1.0-56 but not 6.12.x; only the generic amd64 flavour (not cloud, rt).
ver=$(ls -d /usr/src/linux-headers-"$series".*-amd64 2>/dev/null |
	sed 's|^/usr/src/linux-headers-||' |
	grep -v -E -- '-(cloud|rt)-amd64$' |
	sort -V | tail -n 1 || true)

if [ -z "$ver" ]; then
	echo "kver.sh: no linux-headers-$series.*-amd64 in /usr/src (try: make deps)" >&2
	exit 1
fi
echo "$ver"
