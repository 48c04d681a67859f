#!/bin/sh
# /init of the test rigs' initramfs (runs under busybox sh inside the emulated machine).
#
# It loads the module under test (minikvm.ko, or with REF the real kvm + kvm_amd /
# kvm_intel), runs the selftests, checks that the module unloads and loads again,
# dumps the kernel log and powers the machine off. Everything goes to the serial
# console, where scripts/parse-serial.sh on the host reads it. The "RIG: " lines are
# markers for that parser; test results are kselftest TAP ("ok N ...", "not ok N ...").
#
# Settings come from /etc/rig.conf (written by scripts/rig.sh):
#   RIG_NAME       name of this run, echoed in the markers
#   RIG_MODULE     the module that registers /dev/kvm: minikvm, kvm_amd or kvm_intel
#   RIG_TESTS      test binaries in /tests to run ("" = every /tests/*_test)
#   RIG_SELFTESTS=0  run none of /tests (rig.sh --no-selftests)
#   RIG_UPSTREAM   Linux's KVM selftests in /upstream to run after them (rig.sh --upstream)
#   RIG_UPSTREAM_TIMEOUT  seconds one of those may run before it is killed
#   RIG_UPSTREAM_RETRY    those of them that run a second time after a failure
#   RIG_TIMEOUT    seconds one test binary may run before it is killed
#   RIG_SHELL=1    open a shell on the console instead of powering off
#   RIG_DEMO=1     show what the module reports instead of running the tests
#   RIG_ENV        VAR=VALUE words exported to the tests (rig.sh --env)
# and /lib/modules/load.list lists the .ko files to insmod, in dependency order.

/bin/busybox --install -s /bin
export PATH=/bin

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tracefs tracefs /sys/kernel/tracing
mount -t debugfs debugfs /sys/kernel/debug
mkdir -p /tmp
# Loopback, for clients that talk TCP to themselves (QEMU's migration in migrate_test).
ip link set lo up

. /etc/rig.conf
# shellcheck disable=SC2086  # VAR=VALUE words on purpose
[ -n "${RIG_ENV:-}" ] && export $RIG_ENV

echo "RIG: begin $RIG_NAME (kernel $(uname -r), $(grep -c ^processor /proc/cpuinfo) cpus, up $(cut -d' ' -f1 /proc/uptime) s)"
# The log dumped at the end starts here: boot messages are not the module's doing.
dmesg -c > /tmp/boot.dmesg
# A kernel with kmemleak (the debug rig, rig.sh --kver debug): forget what the boot
# left unreferenced, so that the scan at the end shows only what the tests leaked.
kmemleak=/sys/kernel/debug/kmemleak
if [ -e $kmemleak ]; then
	echo scan > $kmemleak
	echo clear > $kmemleak
fi

# TAP output of one of the rig's own checks: tap N ok|fail name [diagnostic]
tap() {
	if [ "$2" = ok ]; then
		echo "ok $1 $3"
	else
		echo "not ok $1 $3"
		[ -n "$4" ] && echo "# $4"
	fi
}

# insmod every module of load.list; the last one registers /dev/kvm.
load_modules() {
	for ko in $(cat /lib/modules/load.list); do
		insmod "/lib/modules/$ko" || return 1
	done
}

# make demo's last act: the nested guest as a libvirt domain (virsh, QEMU, KVM).
demo_libvirt() {
	cat > /tmp/demo-l2.xml <<XML
<domain type='kvm'>
  <name>l2</name>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64'>hvm</type>
    <kernel>/l2/vmlinuz</kernel>
    <initrd>/l2/initrd.gz</initrd>
    <cmdline>console=ttyS0 panic=-1 quiet</cmdline>
  </os>
  <features><acpi/><apic/></features>
  <on_reboot>destroy</on_reboot>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <serial type='file'><source path='/tmp/demo-console.log'/></serial>
  </devices>
</domain>
XML
	# The embedded driver's configuration: run QEMU as root, and write its
	# output to files itself instead of through the virtlogd daemon.
	mkdir -p /tmp/lv/etc
	printf 'user = "root"\ngroup = "root"\nstdio_handler = "file"\n' > /tmp/lv/etc/qemu.conf
	echo "--- virsh -c 'qemu:///embed?root=/tmp/lv': define, start, wait, dominfo"
	# One virsh process: the embedded driver lives as long as it does. "event"
	# waits for the domain to stop (the guest's reboot destroys it).
	timeout "$RIG_TIMEOUT" /usr/bin/virsh -c 'qemu:///embed?root=/tmp/lv' \
		"define /tmp/demo-l2.xml; start l2; dominfo l2; \
		 event l2 --event lifecycle --timeout 300; dominfo l2; undefine l2" \
		< /dev/null 2>&1 | grep -E "defined|started|^Name|^State|event 'lifecycle'|undefined|error"
	echo "--- the domain's console (/tmp/demo-console.log)"
	grep -E "^L2: |L2-MARKER|kvm-clock" /tmp/demo-console.log
}

# Linux's own KVM selftests (rig.sh --upstream), /upstream/NAME, one after the other,
# each with its output in a file and at most RIG_UPSTREAM_TIMEOUT seconds. Per test:
#   RIG: upstream NAME
#   # NAME| ...                    the last lines of its output, unless it passed
#   UPSTREAM: NAME RESULT STATUS SECS
# (a test of RIG_UPSTREAM_RETRY that did not pass prints "UPSTREAM-FIRST: ..." for
# its first run and then these three lines again for its second)
# RESULT: pass (exit status 0), skip (4, KSFT_SKIP), timeout (killed at the limit),
# fail (anything else); SECS: guest time. No TAP here: scripts/upstream-selftests.sh
# judge reads these lines on the host and compares them with the expectations.
# While a test runs, "# upstream NAME: running" every 20 s says the machine is alive:
# rig.sh stops a machine that stays silent (one test hung the rig's kernel whole,
# timer included, where no limit in here can end it).
run_upstream() {
	local t start rc secs result beat run
	for t in $RIG_UPSTREAM; do
		for run in 1 2; do
			echo "RIG: upstream $t"
			start=$(cut -d' ' -f1 /proc/uptime)
			(while sleep 20; do echo "# upstream $t: running"; done) &
			beat=$!
			timeout "$RIG_UPSTREAM_TIMEOUT" "/upstream/$t" > /tmp/upstream.out 2>&1 < /dev/null
			rc=$?
			kill "$beat"
			secs=$(awk -v s="$start" '{ printf "%.1f", $1 - s }' /proc/uptime)
			case $rc in
			0)   result=pass ;;
			4)   result=skip ;;
			143) result=timeout ;;  # busybox timeout's SIGTERM: 128 + 15
			*)   result=fail ;;
			esac
			[ -x "/upstream/$t" ] || echo "no such test in /upstream" > /tmp/upstream.out
			[ "$result" = pass ] || tail -n 12 /tmp/upstream.out | sed "s/^/# $t| /"
			# A test of RIG_UPSTREAM_RETRY that failed or timed out runs once more
			# (expected.txt says why for each); the second result is the one judged.
			if [ "$run" = 1 ] && { [ "$result" = fail ] || [ "$result" = timeout ]; } &&
			   [[ " $RIG_UPSTREAM_RETRY " == *" $t "* ]]; then
				echo "UPSTREAM-FIRST: $t $result $rc $secs"
				continue
			fi
			echo "UPSTREAM: $t $result $rc $secs"
			break
		done
	done
}

# Load, and check that /dev/kvm appeared.
echo "RIG: run module_load"
echo "1..1"
if load_modules && [ -c /dev/kvm ]; then
	tap 1 ok module_load
else
	tap 1 fail module_load "insmod failed or no /dev/kvm; lsmod: $(lsmod | tr '\n' ' ')"
fi
echo "RIG: exit module_load 0"

if [ "$RIG_DEMO" = 1 ]; then
	echo "RIG: demo"
	echo "--- kernel log of the module"
	dmesg | grep -E 'minikvm|kvm' || true
	echo "--- /dev/kvm"
	ls -l /dev/kvm
	echo "--- /bin/kvm-info"
	/bin/kvm-info
	if [ -x /bin/minikvm-run ] && [ -e /l2/vmlinuz ]; then
		# The main act: this same Linux kernel boots as a guest of the module,
		# in minikvm-run (user/runner/), to its init, which says hello and reboots.
		echo "--- minikvm-run --kernel /l2/vmlinuz --initrd /l2/initrd.gz"
		timeout "$RIG_TIMEOUT" /bin/minikvm-run --kernel /l2/vmlinuz \
			--initrd /l2/initrd.gz --memory 256 \
			--append "console=ttyS0 noapic nolapic tsc=reliable panic=-1 quiet" \
			< /dev/null
		echo "--- minikvm-run exited with status $?"
	fi
	if [ -x /usr/bin/virsh ] && [ -e /l2/vmlinuz ]; then
		# The seeds' stack: libvirt drives QEMU, QEMU drives the module. virsh
		# embeds libvirt's QEMU driver (no libvirtd); the domain is type='kvm',
		# so QEMU opens /dev/kvm; the guest's console goes to a file.
		demo_libvirt
	fi
	echo "---"
else
	[ -n "$RIG_TESTS" ] || RIG_TESTS=$(cd /tests && ls *_test 2>/dev/null)
	[ "${RIG_SELFTESTS:-1}" = 1 ] || RIG_TESTS=""
	for t in $RIG_TESTS; do
		echo "RIG: run $t"
		if [ -x "/tests/$t" ]; then
			start=$(cut -d' ' -f1 /proc/uptime)
			timeout "$RIG_TIMEOUT" "/tests/$t" 2>&1
			rc=$?
			# busybox timeout ends the test with SIGTERM: exit status 128 + 15.
			[ "$rc" = 143 ] && echo "# $t: killed after $RIG_TIMEOUT s (guest time)"
			secs=$(awk -v s="$start" '{ printf "%.1f", $1 - s }' /proc/uptime)
			echo "RIG: exit $t $rc ($secs s guest time)"
		else
			echo "1..1"
			echo "not ok 1 $t # no such test in /tests"
			echo "RIG: exit $t 1"
		fi
	done
	run_upstream
fi

# Unload and load again: /dev/kvm must go away and come back, and nothing may be left
# behind (a leak or a dangling registration shows up as a failed insmod or in dmesg).
echo "RIG: run module_cycle"
echo "1..3"
if rmmod "$RIG_MODULE" && [ ! -e /dev/kvm ]; then
	tap 1 ok module_unload
else
	tap 1 fail module_unload "rmmod $RIG_MODULE failed or /dev/kvm still there"
fi
if insmod "/lib/modules/$(tail -n 1 /lib/modules/load.list)" && [ -c /dev/kvm ]; then
	tap 2 ok module_reload
else
	tap 2 fail module_reload "insmod failed or no /dev/kvm"
fi
if rmmod "$RIG_MODULE" && [ ! -e /dev/kvm ]; then
	tap 3 ok module_unload_again
else
	tap 3 fail module_unload_again "rmmod $RIG_MODULE failed or /dev/kvm still there"
fi
echo "RIG: exit module_cycle 0"

# kmemleak reports an object once nothing has pointed at it for a while (5 s) and two
# scans agree; after the tests and two module unloads, the list must be empty.
if [ -e $kmemleak ]; then
	echo "RIG: run kmemleak"
	echo "1..1"
	sleep 6
	scan_ok=1
	echo scan > $kmemleak || scan_ok=0
	sleep 6
	echo scan > $kmemleak || scan_ok=0
	leaks=$(grep -c '^unreferenced object' $kmemleak || true)
	if [ $scan_ok = 0 ]; then
		# A refused scan: kmemleak turned itself off (it says why in the log).
		tap 1 fail kmemleak_clean "kmemleak refused to scan: $(grep -i kmemleak /tmp/boot.dmesg | tail -n 3)"
	elif [ "$leaks" = 0 ]; then
		tap 1 ok kmemleak_clean
	else
		tap 1 fail kmemleak_clean "$leaks unreferenced objects"
		sed 's/^/# /' $kmemleak | head -n 200
	fi
	echo "RIG: exit kmemleak 0"
fi

echo "RIG: dmesg begin"
dmesg
echo "RIG: dmesg end"

if [ "$RIG_SHELL" = 1 ]; then
	insmod "/lib/modules/$(tail -n 1 /lib/modules/load.list)"
	echo "RIG: shell ($RIG_MODULE loaded, tests in /tests; exit the shell to power off)"
	setsid cttyhack sh -l
fi

echo "RIG: end $RIG_NAME"
# The last bytes on the serial line are lost if the machine goes off right away.
sleep 2
poweroff -f
