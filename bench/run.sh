#!/usr/bin/env bash
# bench/run.sh: run bench/minikvm-bench in the test rigs, minikvm.ko and the real kvm
# modules side by side, and report: a table on stdout, a CSV and a PNG bar chart.
#
#   bench/run.sh --module minikvm.ko [--vendor svm|vmx|both] [--kver 6.1] [--out DIR]
#                [--sequential] [--report-only]
#
# `make bench` calls it (after building the module, minikvm-run and the benchmark).
# Per vendor it boots two rigs in parallel (--sequential: one after the other, for a
# machine whose cores are busy with other work), both with the same guest kernel:
#   bench-<vendor>-minikvm   minikvm.ko
#   bench-<vendor>-kvm       kvm + kvm_amd / kvm_intel of the guest kernel (--ref)
# Each rig also packs the real QEMU 7.2 (scripts/rig.sh does so for "bench"), which
# the benchmark times as a client of the module: a nested Linux boot, and in the SVM
# rig a live migration (QEMU's own figures).
# SVM: QEMU TCG with -icount shift=0 (guest ns = instructions). VMX: Bochs with
# clock: sync=none (virtual ns; 5 virtual ns = 1 instruction at ips=200M).
# Both clocks follow the instruction count, so every figure but the wall times
# repeats to within a few units between runs.
#
# Output, for each rig R (svm or vmx) and today's date D:
#   DIR/D-R.csv   rig,key,metric,unit,minikvm,kvm,ratio,target,verdict
#   DIR/D-R.png   minikvm / kvm.ko per metric (gnuplot, log scale)
#   DIR/D-svm-pio-profile-{minikvm,kvm}.txt  instructions per function of the
#                 OUT round trip (bench/profile-depth.awk), SVM only
#   build/bench/bench-R-{minikvm,kvm}.{out,trace-pio,trace-cpuid}  raw output, ftrace
# DIR defaults to bench/results (committed: the latest figures the README shows).
# --report-only rebuilds the CSV/PNG/table from the logs of the last runs.
#
# BENCH_RIG=FILE runs another copy of scripts/rig.sh (from the top of the tree).
#
#   bench/run.sh --trace-cost --module minikvm.ko --module-notrace NOTRACE.ko
# (`make bench-trace`) measures what the tracepoints cost: three SVM -icount runs,
# one after the other, of the per-exit figures only (minikvm_bench=quick):
#   bench-trace-notrace  minikvm.ko built with MKVM_NO_TRACE=1 (no tracepoints)
#   bench-trace-off      the normal build, events disabled
#   bench-trace-on       the normal build, every kvm:* event enabled (for information)
# and prints a table of guest instructions; nothing is written to bench/results.
#
# Not part of `make check` and never a pass/fail test: the targets are reported,
# not enforced. The run fails only if a rig run does (a KVM call misbehaved).
set -euo pipefail

vendors=(svm vmx) kver=6.1 module="" out=bench/results report_only=0
trace_cost=0 module_notrace="" sequential=0
while [ $# -gt 0 ]; do
	case $1 in
	--vendor)  [ "$2" = both ] && vendors=(svm vmx) || vendors=("$2"); shift ;;
	--kver)    kver=$2; shift ;;
	--module)  module=$2; shift ;;
	--out)     out=$2; shift ;;
	--report-only) report_only=1 ;;
	--sequential) sequential=1 ;;
	--trace-cost) trace_cost=1 ;;
	--module-notrace) module_notrace=$2; shift ;;
	*) echo "bench/run.sh: unknown option $1 (see the comment at the top)" >&2; exit 2 ;;
	esac
	shift
done

work=build/bench
mkdir -p "$work" "$out"
date=$(date +%Y-%m-%d)

# ---------------------------------------------------------------- trace cost

if [ "$trace_cost" = 1 ]; then
	[ -f "$module" ] && [ -f "$module_notrace" ] ||
		{ echo "bench/run.sh: --trace-cost needs --module and --module-notrace" >&2; exit 2; }
	keys=(pio_round_trip mmio_round_trip hlt_exit cpuid_in_kernel invd_floor
	      ioctl_floor page_first_touch)
	for run in notrace:"$module_notrace":quick off:"$module":quick \
		   on:"$module":quick,events; do
		IFS=: read -r what ko opts <<<"$run"
		echo "== bench: trace cost, $what (minikvm_bench=$opts)" >&2
		APPEND="minikvm_bench=$opts" bash "${BENCH_RIG:-scripts/rig.sh}" \
			--vendor svm --kver "$kver" --icount --test bench --module "$ko" \
			--name "bench-trace-$what" --test-timeout 600 \
			> "$work/bench-trace-$what.out" 2>&1 ||
			{ echo "bench/run.sh: run $what failed; see $work/bench-trace-$what.out" >&2; exit 1; }
	done
	value() {
		tr -d '\r' < "build/logs/$1.log" |
			awk -v k="$2" '$1 == "BENCH" && $2 == k { v = $3 } END { print v }'
	}
	echo
	echo "SVM rig, QEMU TCG -icount (guest instructions), $(date +%Y-%m-%d)"
	grep -h "BENCH-INFO kvm events" build/logs/bench-trace-on.log | tr -d '\r' || true
	printf '%-18s %10s %10s %8s %10s %8s\n' metric notrace off off-nt on on-off
	for k in "${keys[@]}"; do
		a=$(value bench-trace-notrace "$k") b=$(value bench-trace-off "$k")
		c=$(value bench-trace-on "$k")
		printf '%-18s %10s %10s %8s %10s %8s\n' "$k" "$a" "$b" \
			"$(echo "$b - $a" | bc)" "$c" "$(echo "$c - $b" | bc)"
	done
	exit 0
fi

# ---------------------------------------------------------------- runs

# run_one VENDOR FLAVOUR: one rig run; rig.sh's output and the run's host wall time
# (the only wall-clock figure) end up in $work, the serial log in build/logs/.
run_one() {
	local vendor=$1 flavour=$2 name=bench-$1-$2 args=() t0 rc=0
	args=(--vendor "$vendor" --kver "$kver" --test bench --name "$name"
	      --test-timeout 3000 --timeout 3600)
	[ "$vendor" = svm ] && args+=(--icount)
	if [ "$flavour" = kvm ]; then args+=(--ref); else args+=(--module "$module"); fi
	t0=$(date +%s.%N)
	# Under Bochs kvm_intel gets stuck in the 4-vCPU nested boot (scripts/check.sh
	# says why): its run leaves that boot out (minikvm-bench.c, l2_boots()), and
	# the row has a minikvm figure only.
	local append=${APPEND:-}
	[ "$vendor" = vmx ] && [ "$flavour" = kvm ] &&
		append="${append:+$append }minikvm_bench=nol2smp4"
	APPEND=$append bash "${BENCH_RIG:-scripts/rig.sh}" "${args[@]}" > "$work/$name.out" 2>&1 || rc=$?
	echo "wall_run $(echo "$(date +%s.%N) - $t0" | bc)" > "$work/$name.wall"
	return "$rc"
}

if [ "$report_only" = 0 ]; then
	[ -n "$module" ] && [ -f "$module" ] ||
		{ echo "bench/run.sh: --module minikvm.ko (built for the guest kernel) is needed" >&2; exit 2; }
	for v in "${vendors[@]}"; do
		if [ "$sequential" = 1 ]; then
			for f in minikvm kvm; do
				echo "== bench: $v rig, $f (VMX under Bochs: minutes)" >&2
				run_one "$v" "$f" ||
					echo "bench/run.sh: the $v $f rig run failed; see $work/bench-$v-$f.out" >&2
			done
			continue
		fi
		echo "== bench: $v rig, minikvm and kvm in parallel (VMX under Bochs: minutes)" >&2
		pids=()
		for f in minikvm kvm; do
			run_one "$v" "$f" & pids+=($!)
		done
		for p in "${pids[@]}"; do
			wait "$p" || echo "bench/run.sh: a $v rig run failed; see $work/bench-$v-*.out" >&2
		done
	done
fi

# ---------------------------------------------------------------- report

# value NAME KEY: the figure KEY of run NAME ("" if absent).
value() {
	local log=build/logs/$1.log
	[ -e "$log" ] || return 0
	tr -d '\r' < "$log" | awk -v k="$2" '$1 == "BENCH" && $2 == k { v = $3 } END { if (v != "") print v }'
}

# Split the ftrace sections out of a log, for bench/profile.awk and Documentation/bench.rst.
traces() {
	local name=$1 log=build/logs/$1.log what
	[ -e "$log" ] || return 0
	for what in pio cpuid vm; do
		tr -d '\r' < "$log" | awk -v w="$what" '
			$0 == "BENCH-TRACE begin " w { on = 1; next }
			$0 == "BENCH-TRACE end " w   { on = 0 }
			on && sub(/^T\| /, "")' > "$work/$name.trace-$what"
	done
}

# info NAME KEY: the rest of the run's last "BENCH-INFO KEY ..." line ("" if absent).
info() {
	local log=build/logs/$1.log
	[ -e "$log" ] || return 0
	tr -d '\r' < "$log" | awk -v k="$2" '$1 == "BENCH-INFO" && $2 == k {
		v = $0; sub(/^BENCH-INFO [^ ]+ /, "", v) } END { print v }'
}

# irqchip NAME: where QEMU kept the interrupt controllers in run NAME. From the QOM
# types the benchmark read ("kvm-apic" = in the kernel), else by QEMU's rule: in
# the kernel if the module has KVM_CAP_IRQCHIP.
irqchip() {
	local q c
	q=$(info "$1" qemu_irqchip) c=$(info "$1" kvm_cap_irqchip)
	case $q in
	*"lapic kvm-"*) echo kernel ;;
	*"lapic ?"*|"") case $c in
		"") echo "?" ;;
		0)  echo userspace ;;
		*)  echo kernel ;;
		esac ;;
	*)  echo userspace ;;
	esac
}

# metric key, label, unit class, target ratio, "opt" = left out when neither run has
# it. Classes: t = guest time (ns: instr or vns), T = the same in millions (ns:
# Minstr or vms), g = guest ms (Minstr or vms), m = memory, n = count, w = wall.
# Labels must not contain commas (the CSV is split on them).
metrics_svm=(
	"pio_round_trip|PIO round trip (OUT -> userspace -> KVM_RUN)|t|0.5"
	"mmio_round_trip|MMIO round trip (store to unbacked GPA)|t|"
	"hlt_exit|HLT exit to userspace and back|t|"
	"cpuid_in_kernel|CPUID handled in the kernel|t|0.25"
	"invd_floor|floor: INVD handled in the kernel (skip only)|t|"
	"ioctl_floor|floor: an ioctl that does nothing (CHECK_EXTENSION)|t|"
	"page_first_touch|first touch of a guest page (NPT/EPT fault-in)|t|"
	"apic_timer_oneshot|LAPIC timer: one-shot TMICT=1 armed + interrupt taken + EOI|t|1"
	"apic_timer_deadline|LAPIC timer: TSC deadline in the past (WRMSR) + interrupt + EOI|t|1"
	"apic_self_ipi|self-IPI: ICR write + interrupt taken + EOI|t|1"
	"apic_eoi|EOI write alone (xAPIC MMIO; nothing in service)|t|1"
	"apic_ipi_round_trip|IPI to a vCPU halted on another thread + its reply (one rig CPU)|t|1"
	"vm_cold_create_run|CREATE_VM + vCPU + first KVM_RUN (first VM; idle waits count)|t|"
	"vm_cold_destroy|VM destroy (last VM; idle waits count)|t|"
	"vm_warm_create_run|CREATE_VM + vCPU + first KVM_RUN (2nd VM; idle waits count)|t|"
	"vm_warm_destroy|VM destroy (another VM remains; idle waits count)|t|"
	"max_vms|VMs that can exist at once (probe stops at 100)|n|"
	"mem_per_vm|kernel memory per VM (pages allocated)|m|"
	"mem_per_vcpu|kernel memory per vCPU (pages allocated)|m|0.25"
	"slab_per_vm|slab per VM|m|"
	"slab_per_vcpu|slab per vCPU|m|0.25"
	"l2_boot_user_to_marker|L2 Linux boot to marker: minikvm-run --irqchip=user with noapic nolapic (1 vCPU)|T|1|opt"
	"l2_boot_kpic_to_marker|L2 Linux boot to marker: --irqchip=kernel with noapic nolapic (1 vCPU)|T|1|opt"
	"l2_boot_to_marker|L2 Linux boot to marker: minikvm-run --irqchip=kernel (1 vCPU with LAPIC+IOAPIC)|T|1"
	"l2_boot_smp4_to_marker|L2 Linux boot to marker: minikvm-run --irqchip=kernel --cpus 4|T|1|opt"
	"qemu_boot_to_marker|QEMU 7.2 L2 boot to marker|T|1"
	"migrate_total_time|QEMU live migration: total time (QEMU's figure)|g|1|opt"
	"migrate_downtime|QEMU live migration: downtime (QEMU's figure)|g|1|opt"
	"wall_run|wall time of the rig run (noisy)|w|"
)
metrics_vmx=("${metrics_svm[@]}")
metrics_vmx[3]="cpuid_in_kernel|CPUID handled in the kernel|t|0.5"

for v in "${vendors[@]}"; do
	m=bench-$v-minikvm k=bench-$v-kvm
	traces "$m"; traces "$k"
	[ "$v" = svm ] && tunit=instr || tunit=vns
	ref=kvm_amd; [ "$v" = vmx ] && ref=kvm_intel
	csv=$out/$date-$v.csv
	echo "rig,key,metric,unit,minikvm,kvm,ratio,target,verdict" > "$csv"
	declare -n metrics=metrics_$v
	for row in "${metrics[@]}"; do
		IFS='|' read -r key label class target opt <<<"$row"
		# QEMU's default command line (-accel kvm) keeps the interrupt controllers
		# in the kernel only if the module offers KVM_CAP_IRQCHIP: say where.
		[ "$key" = qemu_boot_to_marker ] &&
			label="$label (irqchip: minikvm $(irqchip "$m") / $ref $(irqchip "$k"))"
		if [ "$class" = w ]; then
			a=$(awk '{ printf "%.0f", $2 }' "$work/$m.wall" 2>/dev/null || true)
			b=$(awk '{ printf "%.0f", $2 }' "$work/$k.wall" 2>/dev/null || true)
			unit=s
		else
			a=$(value "$m" "$key"); b=$(value "$k" "$key")
			[ "$opt" = opt ] && [ -z "$a" ] && [ -z "$b" ] && continue
			case $class in
			t) unit=$tunit ;;
			m) unit=KiB ;;
			n) unit=VMs ;;
			esac
			# Nested boots, QEMU's migration: millions of instructions / virtual ms.
			if [ "$class" = T ] || [ "$class" = g ]; then
				[ "$v" = svm ] && unit=Minstr || unit=vms
			fi
			if [ "$class" = T ]; then
				[ -n "$a" ] && a=$(echo "scale=0; $a / 1000000" | bc)
				[ -n "$b" ] && b=$(echo "scale=0; $b / 1000000" | bc)
			fi
		fi
		ratio="" verdict=""
		if [ -n "$a" ] && [ -n "$b" ] && [ "$b" != 0 ]; then
			ratio=$(echo "scale=3; $a / $b" | bc | sed 's/^\./0./; s/^-\./-0./')
			if [ -n "$target" ]; then
				if [ "$(echo "$ratio <= $target" | bc)" = 1 ]; then verdict=met; else verdict=above; fi
			fi
		fi
		echo "$v,$key,\"$label\",$unit,${a:-},${b:-},$ratio,${target:+<=$target},$verdict" >> "$csv"
	done
	unset -n metrics

	# The exit-path profile (SVM: -icount makes the depth-limited traces exact
	# enough to subtract; see bench/profile-depth.awk and Documentation/bench.rst).
	if [ "$v" = svm ]; then
		for f in minikvm kvm; do
			log=build/logs/bench-svm-$f.log prof=$out/$date-svm-pio-profile-$f.txt
			[ -e "$log" ] && grep -q '^BENCH-TRACE begin pio-d' "$log" || continue
			{ echo "# awk -f bench/profile-depth.awk $log | sort | cut -f2"
			  echo "# per OUT round trip, QEMU -icount (instructions): calls inclusive self function"
			  awk -f bench/profile-depth.awk "$log" | sort | cut -f2; } > "$prof"
		done
	fi

	# The table on stdout.
	echo
	echo "$v rig ($( [ "$v" = svm ] && echo "QEMU TCG -icount: instr = guest instructions" ||
		echo "Bochs sync=none: vns = virtual ns, 5 per instruction")), $date"
	awk -F, -v ref="$ref" '
		function unq(s) { gsub(/"/, "", s); return s }
		NR == 1 { printf "%-78s %-6s %10s %10s %7s  %s\n", "metric", "unit", "minikvm", ref, "ratio", "target"; next }
		{ t = $8 == "" ? "" : $8 " " $9
		  printf "%-78s %-6s %10s %10s %7s  %s\n", unq($3), $4, $5 == "" ? "-" : $5, $6 == "" ? "-" : $6, $7 == "" ? "-" : $7, t }' "$csv"

	# The chart: minikvm / kvm.ko per metric, log scale, the 1.0 line = parity.
	if command -v gnuplot > /dev/null; then
		awk -F, -v OFS='\t' 'NR > 1 && $7 != "" && $7 > 0 { print NR - 1, $7, $2 }' \
			"$csv" > "$work/$v.dat"
		gnuplot <<-GP
			set terminal pngcairo size 1100,650 font "sans,9" noenhanced
			set output "$out/$date-$v.png"
			set title "minikvm / $ref per metric (bench/run.sh keys), $v rig, $date: below 1 = minikvm cheaper or smaller"
			set style fill solid 0.8
			set boxwidth 0.7
			set logscale y
			set yrange [0.001:100]
			set datafile separator "\t"
			set ylabel "ratio minikvm / $ref"
			set grid ytics
			set xtics rotate by 35 right
			set bmargin 12
			set arrow from graph 0, first 1 to graph 1, first 1 nohead lw 2 lc rgb "black"
			plot "$work/$v.dat" using 1:2:xtic(3) with boxes lc rgb "#3a7bd5" notitle, \
			     "" using 1:2:(sprintf("%.2f", \$2)) with labels offset 0,0.8 notitle
		GP
		echo "chart: $out/$date-$v.png, table: $csv"
	else
		echo "chart: gnuplot not installed (make deps installs gnuplot-nox); table: $csv"
	fi
done
