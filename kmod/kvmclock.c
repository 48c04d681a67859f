// SPDX-License-Identifier: GPL-2.0-only
/*
 * minikvm: kvmclock, the paravirtual clock of KVM guests.
 *
 * A guest needs to know what time it is and how fast its TSC ticks.
 * Calibrating the TSC against the PIT or the HPET is slow, and inside a
 * VM it is unreliable (the vCPU may be descheduled in the middle of the
 * measurement). So KVM tells the guest directly: the guest writes the
 * guest-physical address of a small structure to an MSR, and the host
 * keeps that structure filled with a (TSC, nanoseconds) pair and the
 * TSC's rate (Documentation/virt/kvm/x86/msr.rst in Linux). The guest
 * then computes, without any exit,
 *
 *     now = system_time + ((rdtsc() - tsc_timestamp) << shift) * mul >> 32
 *
 * (with a right shift when shift is negative). The MSRs:
 *
 *   MSR_KVM_SYSTEM_TIME(_NEW)  GPA of this vCPU's pvclock_vcpu_time_info,
 *                              bit 0 = enable
 *   MSR_KVM_WALL_CLOCK(_NEW)   GPA of a pvclock_wall_clock, written once:
 *                              the wall-clock time at which kvmclock was 0
 *
 * The clock of a VM starts at 0 when the VM is created and counts
 * nanoseconds of the host's CLOCK_BOOTTIME from there: kvmclock =
 * boottime + vm->kvmclock_offset. A VMM reads and sets it with
 * KVM_GET_CLOCK / KVM_SET_CLOCK, which is how a migrated guest's clock
 * continues where it stopped instead of jumping.
 *
 * When is the structure written? Whenever its pair would no longer be
 * right: when the guest enables it, when the VMM sets the clock or the
 * guest's TSC (a new TSC offset, as also each forward move of a TSC kept
 * at a rate above the host's: features.c), and at the first entry. A
 * request bit (MKVM_REQ_CLOCK_UPDATE) says so, and the vCPU's own thread
 * writes the structure before it enters the guest, while that guest
 * cannot be reading it; also when the vCPU thread moves to another host
 * CPU, whose TSC may be off from the last one's. Between those moments
 * the pair stays valid as long as the host's TSC runs at one rate. (KVM
 * also follows TSC frequency changes of old CPUs, and keeps one "master
 * clock" for all vCPUs when the host's TSCs agree; we do neither, and so
 * never set PVCLOCK_TSC_STABLE_BIT: the guest then keeps its readings
 * monotonic across its vCPUs itself.)
 */
#include <linux/math64.h>
#include <linux/ktime.h>
#include <linux/uaccess.h>
#include <asm/kvm_para.h>
#include <asm/pvclock-abi.h>
#include <asm/tsc.h>

#include "minikvm.h"

/*
 * Can the host back a kvmclock? Its TSC must have a known rate. TSCs
 * that disagree between CPUs are fine (each vCPU takes a fresh reading
 * when it moves: see above), as they are for KVM; the test rigs' emulated
 * CPUs are such a host ("Marking TSC unstable due to TSCs unsynchronized").
 */
bool mkvm_kvmclock_usable(void)
{
	return tsc_khz != 0;
}

/* The VM's clock now, in nanoseconds since it was created (or set). */
static u64 mkvm_kvmclock_now(struct mkvm *vm)
{
	return ktime_get_boottime_ns() + READ_ONCE(vm->kvmclock_offset);
}

void mkvm_kvmclock_init_vm(struct mkvm *vm)
{
	vm->kvmclock_offset = -ktime_get_boottime_ns();
}

/*
 * The (mul, shift) of the formula above for a TSC of @khz: shift so that
 * the ratio ns-per-tick lands in [0.5, 1) after scaling by 2^shift, then
 * mul is that ratio as a 32-bit binary fraction.
 */
static void mkvm_kvmclock_scale(u32 khz, u32 *mul, s8 *shift)
{
	u64 ns = NSEC_PER_MSEC;	/* per millisecond: ns / ticks = ratio */
	u64 ticks = khz;
	int s = 0;

	while (ns >= ticks) {		/* ratio >= 1: halve it */
		ticks <<= 1;
		s++;
	}
	while (ns < ticks / 2) {	/* ratio < 0.5: double it */
		ns <<= 1;
		s--;
	}
	*mul = div64_u64(ns << 32, ticks);
	*shift = s;
}

/* Write the vCPU's pvclock structure: version odd, fields, version even. */
static void mkvm_kvmclock_write(struct mkvm_vcpu *vcpu)
{
	struct pvclock_vcpu_time_info pv = { 0 };
	u64 gpa = vcpu->msr_kvm_system_time & ~1ULL;
	u32 version = vcpu->kvmclock_version + 1;	/* odd: in progress */

	/*
	 * The host's rate, also when KVM_SET_TSC_KHZ set a faster one: the
	 * TSC ticks at the host's rate while the guest runs, which is when
	 * the guest uses this formula. The catch-up moves it forward only
	 * between two runs, and each move asks for a new (TSC, ns) pair
	 * before the entry. With the faster rate here the guest's clock
	 * would run slow while the guest runs and jump at each entry.
	 */
	mkvm_kvmclock_scale(tsc_khz, &pv.tsc_to_system_mul, &pv.tsc_shift);
	preempt_disable();	/* both readings on one CPU, close together */
	pv.tsc_timestamp = rdtsc() + vcpu->msr_tsc_offset;
	pv.system_time = mkvm_kvmclock_now(vcpu->vm);
	preempt_enable();

	if (mkvm_write_guest_as0(vcpu, gpa, &version, sizeof(version)))
		return;		/* not RAM: the guest gets no clock */
	smp_wmb();
	pv.version = version;
	mkvm_write_guest_as0(vcpu, gpa, &pv, sizeof(pv));
	smp_wmb();
	pv.version = ++version;	/* even: done */
	mkvm_write_guest_as0(vcpu, gpa, &pv.version, sizeof(pv.version));
	vcpu->kvmclock_version = version;
}

/* Before an entry: write the structure if something asked for it. */
void mkvm_kvmclock_update(struct mkvm_vcpu *vcpu)
{
	if (!mkvm_test_clear_request(vcpu, MKVM_REQ_CLOCK_UPDATE))
		return;
	if ((vcpu->msr_kvm_system_time & 1) && mkvm_kvmclock_usable())
		mkvm_kvmclock_write(vcpu);
}

/*
 * MSR_KVM_SYSTEM_TIME: remember where the structure is; it is written
 * before the next entry. A guest may only turn it on where the host can
 * keep it (the VMM may restore any value).
 */
int mkvm_kvmclock_set_system_time(struct mkvm_vcpu *vcpu, u64 data, bool host)
{
	if (!host && !mkvm_kvmclock_usable() && (data & 1))
		return -EINVAL;
	vcpu->msr_kvm_system_time = data;
	set_bit(MKVM_REQ_CLOCK_UPDATE, &vcpu->requests);
	return 0;
}

/*
 * MSR_KVM_WALL_CLOCK: write, at the address given, the wall-clock time
 * at which kvmclock read 0. The guest adds kvmclock to it for the date.
 */
int mkvm_kvmclock_set_wall_clock(struct mkvm_vcpu *vcpu, u64 data, bool host)
{
	struct pvclock_wall_clock wc = { 0 };
	u64 boot_ns;
	u32 rem;

	if (!host && !mkvm_kvmclock_usable())
		return -EINVAL;
	/* One for the VM, as in KVM: any vCPU reads the last address. */
	WRITE_ONCE(vcpu->vm->kvmclock_wall_clock, data);
	/* The VMM's write fills the structure too (KVM); 0 is no address. */
	if (!data || !mkvm_kvmclock_usable())
		return 0;
	boot_ns = ktime_get_real_ns() - mkvm_kvmclock_now(vcpu->vm);
	wc.sec = div_u64_rem(boot_ns, NSEC_PER_SEC, &rem);
	wc.nsec = rem;
	wc.version = 2;		/* even: complete, written in one go */
	mkvm_write_guest_as0(vcpu, data, &wc, sizeof(wc));
	return 0;
}

/* Every vCPU rewrites its structure before it runs again. */
static void mkvm_kvmclock_update_all(struct mkvm *vm)
{
	int i, n = READ_ONCE(vm->nr_vcpus);

	smp_rmb();	/* the pointers were published before the count */
	for (i = 0; i < n; i++)
		set_bit(MKVM_REQ_CLOCK_UPDATE, &vm->vcpus[i]->requests);
}

/* KVM_GET_CLOCK: the VM's clock, with the wall clock and TSC beside it. */
int mkvm_get_clock(struct mkvm *vm, struct kvm_clock_data __user *argp)
{
	struct kvm_clock_data d = { 0 };

	preempt_disable();
	d.host_tsc = rdtsc();
	d.realtime = ktime_get_real_ns();
	d.clock = mkvm_kvmclock_now(vm);
	preempt_enable();
	/*
	 * Not KVM_CLOCK_TSC_STABLE: KVM says so only while it runs its
	 * master clock, exactly when the guests' structures carry
	 * PVCLOCK_TSC_STABLE_BIT, which ours never do.
	 */
	d.flags = KVM_CLOCK_REALTIME | KVM_CLOCK_HOST_TSC;
	return copy_to_user(argp, &d, sizeof(d)) ? -EFAULT : 0;
}

/*
 * KVM_SET_CLOCK: make the VM's clock read d.clock now. With
 * KVM_CLOCK_REALTIME, d.clock was the clock at wall time d.realtime (on
 * the migration source, say): the time that has passed since is added.
 */
int mkvm_set_clock(struct mkvm *vm, struct kvm_clock_data __user *argp)
{
	struct kvm_clock_data d;
	u64 now_real, now_boot;

	if (copy_from_user(&d, argp, sizeof(d)))
		return -EFAULT;
	if (d.flags & ~(KVM_CLOCK_TSC_STABLE | KVM_CLOCK_REALTIME |
			KVM_CLOCK_HOST_TSC))
		return -EINVAL;
	preempt_disable();
	now_real = ktime_get_real_ns();
	now_boot = ktime_get_boottime_ns();
	preempt_enable();
	if ((d.flags & KVM_CLOCK_REALTIME) && now_real > d.realtime)
		d.clock += now_real - d.realtime;
	WRITE_ONCE(vm->kvmclock_offset, d.clock - now_boot);
	mkvm_kvmclock_update_all(vm);
	return 0;
}
