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
#
# l2mode=memcount counts the same way, with a memory check on each line
# ("L2-COUNT N mem=ok"): 4 MiB of random data, 256 KiB of it rewritten each
# second, for live migration (l2boot_test.c, variant "migrate").
#
# With l2mode=virtio the /init, after the marker, tries minikvm-run's virtio devices
# (--disk, --disk-ro, --rng, --virtio-console; selftests/l2boot_test.c, variant
# "virtio"): it loads the virtio, virtio-blk, virtio-rng, virtio_console and ext4
# modules (Debian builds them as modules;
# busybox insmod takes no dependencies and reads no /proc/cmdline, so /init passes
# virtio_mmio its device= parameters itself), mounts /dev/vda, prints the sha256 of
# /known.bin, writes /written.txt with the l2nonce= of the command line, checks
# that /dev/vdb is read-only, reads 32 bytes of /dev/hwrng ("L2-VIRTIO ..." lines),
# says hello on /dev/hvc0 and prints the line it reads back from it ("L2-HVC ...").
# The modules come from MODDIR (lib/modules/<version> of the L2 kernel), the second
# argument; without it the virtio mode reports "L2-VIRTIO no modules".
set -euo pipefail

out=${1:?usage: mkinitrd.sh OUT.gz [MODDIR [HELPER.ko]]}
moddir=${2:-}
helper=${3:-}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

mkdir -p "$dir"/{bin,proc,sys,dev,mnt,lib/modules}
cp /bin/busybox "$dir/bin/busybox"
ln -s busybox "$dir/bin/sh"
# In load order: each after what it needs (modinfo -F depends), crc32c for
# ext4's and jbd2's checksums (their softdep).
l2_modules="virtio_ring virtio virtio_mmio virtio_blk virtio-rng virtio_console crc16 mbcache crc32c_generic jbd2 ext4"
if [ -n "$moddir" ]; then
	for m in $l2_modules; do
		ko=$(find "$moddir/kernel" -name "$m.ko" -o -name "$m.ko.xz" | head -1)
		case $ko in
		"") echo "mkinitrd.sh: $m not in $moddir (built in?)" >&2 ;;
		*.xz) xz -dc "$ko" > "$dir/lib/modules/$m.ko" ;;
		*) cp "$ko" "$dir/lib/modules/$m.ko" ;;
		esac
	done
	# Debian's kernel lacks CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES: l2/kmod/l2_virtio_mmio.c
	# declares the devices of the command line instead, after virtio_mmio.
	if [ -n "$helper" ]; then
		cp "$helper" "$dir/lib/modules/l2_virtio_mmio.ko"
		l2_modules=${l2_modules/virtio_mmio/virtio_mmio l2_virtio_mmio}
	fi
	echo "$l2_modules" > "$dir/lib/modules/order"
fi
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
if /bin/busybox grep -q 'l2mode=virtio' /proc/cmdline; then
	bb=/bin/busybox
	nonce=$($bb sed -n 's/.*l2nonce=\([0-9a-z]*\).*/\1/p' /proc/cmdline)
	$bb grep -q ' /dev ' /proc/mounts || $bb mount -t devtmpfs dev /dev
	$bb grep -q ' /sys ' /proc/mounts || $bb mount -t sysfs sysfs /sys
	if [ -s /lib/modules/order ]; then
		for m in $($bb cat /lib/modules/order); do
			args=
			# virtio_mmio.device=A virtio_mmio.device=B -> device=A,B
			[ "$m" != l2_virtio_mmio ] ||
				args=device=$($bb tr ' ' '\n' < /proc/cmdline |
					$bb sed -n 's/^virtio_mmio\.device=//p' | $bb paste -sd, -)
			[ ! -e /lib/modules/$m.ko ] || $bb insmod /lib/modules/$m.ko $args ||
				echo "L2-VIRTIO insmod $m failed"
		done
	else
		echo "L2-VIRTIO no modules"
	fi
	# What the drivers said (quiet keeps it off the console).
	$bb dmesg | $bb grep -iE 'virtio|vd[a-z]|ext4|hwrng|random:' | $bb sed 's/^/L2-VIRTIO dmesg: /'
	echo "L2-VIRTIO platform devices: $($bb ls /sys/bus/platform/devices | $bb tr '\n' ' ')"
	n=0
	while [ ! -b /dev/vda ] && [ $n -lt 50 ]; do $bb usleep 100000; n=$((n + 1)); done
	echo "L2-VIRTIO disks: $($bb ls /sys/block | $bb grep vd | $bb tr '\n' ' ')"
	if $bb mount -t ext4 /dev/vda /mnt; then
		echo "L2-VIRTIO sha256=$($bb sha256sum /mnt/known.bin | $bb cut -d' ' -f1)"
		echo "written by L2 through virtio-blk nonce=$nonce sum=$s" > /mnt/written.txt
		$bb sync
		$bb umount /mnt && echo "L2-VIRTIO wrote nonce=$nonce"
	fi
	echo "L2-VIRTIO vdb ro=$($bb cat /sys/block/vdb/ro 2>/dev/null)"
	$bb dd if=/dev/zero of=/dev/vdb bs=512 count=1 2>/dev/null ||
		echo "L2-VIRTIO vdb write refused"
	echo "L2-VIRTIO hwrng=$($bb cat /sys/devices/virtual/misc/hw_random/rng_current 2>/dev/null)" \
	     "bytes=$($bb head -c 32 /dev/hwrng 2>/dev/null | $bb wc -c)"
	# virtio-console: hello on /dev/hvc0 (minikvm-run's stdout), one line back
	# from it (minikvm-run's stdin, where l2boot_test answers "ping-NONCE").
	n=0
	while [ ! -c /dev/hvc0 ] && [ $n -lt 50 ]; do $bb usleep 100000; n=$((n + 1)); done
	if [ -c /dev/hvc0 ]; then
		# One open for the whole exchange: input that arrives while the tty
		# of a closed open is being torn down is lost with it.
		exec 3<>/dev/hvc0
		$bb stty -echo <&3 2>/dev/null
		# Both consoles end up on minikvm-run's stdout: let ttyS0 finish its
		# line first (stty sets the mode with TCSADRAIN: it waits for that).
		$bb stty -F /dev/ttyS0 icrnl 2>/dev/null || $bb sleep 2
		echo "L2-HVC hello nonce=$nonce" >&3
		line=
		read -t 60 line <&3 || line=
		echo "L2-HVC got=$(echo "$line" | $bb tr -d '\r')"
		exec 3<&-
	else
		echo "L2-HVC no /dev/hvc0"
	fi
fi
if /bin/busybox grep -q 'l2mode=memcount' /proc/cmdline; then
	# 4 MiB of random data in RAM (the initramfs is tmpfs), its md5 kept in a
	# shell variable; each second: is the data still what was written? Then
	# rewrite 256 KiB of it and note the new sum. A live migration that lost
	# a page the guest wrote shows as "mem=BAD".
	bb=/bin/busybox
	$bb dd if=/dev/urandom of=/m bs=4096 count=1024 2>/dev/null
	sum=$($bb md5sum < /m)
	n=0
	while :; do
		now=$($bb md5sum < /m)
		[ "$now" = "$sum" ] && ok=ok || ok=BAD
		echo "L2-COUNT $n mem=$ok"
		$bb dd if=/dev/urandom of=/m bs=4096 count=64 seek=$((n * 64 % 1024)) \
			conv=notrunc 2>/dev/null
		sum=$($bb md5sum < /m)
		n=$((n + 1))
		$bb sleep 1
	done
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
