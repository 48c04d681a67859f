#!/usr/bin/env bash
# mkinitrd.sh OUT.gz: the initramfs of the nested ("L2") Linux guest that
# selftests/l2boot_test.c boots with minikvm-run inside the test rig.
#
# busybox-static and an /init that proves the guest ran: it prints a marker,
# computes something (the sum 1..1000 in shell arithmetic, 500500), and reboots
# with `reboot -f` (no ACPI in minikvm-run's machine: Linux resets through the
# 8042 keyboard controller, and minikvm-run exits 0).
#
# With more than one CPU (minikvm-run --cpus N) it then shows that the guest has them
# and uses them: "L2-CPUS online=0-3 count=4", one shell per CPU pinned with
# taskset computing the same sum at the same time, each reporting the CPU it ran on
# ("L2-ONCPU cpu=K ran_on=K sum=500500", field 39 of /proc/self/stat), and each
# CPU's busy and idle ticks from /proc/stat ("L2-CPUTIME cpuK busy=B idle=I").
#
# With l2mode=counter on the kernel command line the /init, after the marker, counts
# forever instead, one short line "L2-COUNT N" a second, and never reboots: a guest
# whose state moves, for selftests/migrate_test.c (a migrated guest must go on from
# where the source stopped, without booting again) and libvirt_test.c.
set -euo pipefail

out=${1:?usage: mkinitrd.sh OUT.gz}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

mkdir -p "$dir"/{bin,proc,sys,dev}
cp /bin/busybox "$dir/bin/busybox"
ln -s busybox "$dir/bin/sh"
cat > "$dir/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
echo "L2: init running, kernel $(/bin/busybox uname -r), $(/bin/busybox grep -c ^processor /proc/cpuinfo) cpu"
i=0 s=0
while [ $i -le 1000 ]; do s=$((s + i)); i=$((i + 1)); done
echo "L2-MARKER sum=$s"
ncpu=$(/bin/busybox grep -c ^processor /proc/cpuinfo)
if [ "$ncpu" -gt 1 ]; then
	/bin/busybox mount -t sysfs sysfs /sys
	# Background jobs of a non-interactive shell read /dev/null.
	/bin/busybox mount -t devtmpfs dev /dev
	echo "L2-CPUS online=$(/bin/busybox cat /sys/devices/system/cpu/online) count=$ncpu"
	/bin/busybox dmesg | /bin/busybox grep -E 'smp: Brought up|smpboot: Total' |
		/bin/busybox sed 's/^/L2 dmesg: /'
	k=0
	while [ $k -lt "$ncpu" ]; do
		/bin/busybox taskset -c $k /bin/sh -c '
			i=0 s=0
			while [ $i -le 1000 ]; do s=$((s + i)); i=$((i + 1)); done
			on=$(/bin/busybox awk "{ print \$39 }" /proc/self/stat)
			echo "L2-ONCPU cpu=$1 ran_on=$on sum=$s"' sh $k &
		k=$((k + 1))
	done
	wait
	/bin/busybox awk '/^cpu[0-9]/ { print "L2-CPUTIME " $1 " busy=" $2 + $3 + $4 " idle=" $5 }' /proc/stat
fi
if /bin/busybox grep -q 'l2mode=counter' /proc/cmdline; then
	n=0
	while :; do
		echo "L2-COUNT $n"
		n=$((n + 1))
		/bin/busybox sleep 1
	done
fi
# How the kernel found the machine's clocks and devices (quiet hides it).
/bin/busybox dmesg | /bin/busybox grep -iE 'tsc|clocksource|calibrat|8253|8259|serial|i8042' |
	/bin/busybox sed 's/^/L2 dmesg: /'
# Debugging aid: l2sym=ADDR,ADDR... on the command line (with nokaslr) names the
# kernel function at each address, e.g. those of minikvm-run's stack dump.
for a in $(/bin/busybox sed -n 's/.*l2sym=\([0-9a-f,]*\).*/\1/p' /proc/cmdline | /bin/busybox tr , ' '); do
	/bin/busybox awk -v a="$a" '$2 ~ /^[tT]$/ && $1 <= a && $1 >= b { s = $3; b = $1 } END { print "L2 sym: " a " " s " (" b ")" }' /proc/kallsyms
done
echo "L2: uptime $(/bin/busybox cut -d' ' -f1 /proc/uptime) s, rebooting"
/bin/busybox reboot -f
INIT
chmod 755 "$dir/init"
(cd "$dir" && find . | cpio -o -H newc --quiet) | gzip -9 > "$out"
