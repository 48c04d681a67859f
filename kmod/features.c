// SPDX-License-Identifier: GPL-2.0-only
/*
 * minikvm: small features a VMM can query or switch, and their MSRs.
 *
 *  - KVM_ENABLE_CAP on the VM: KVM_CAP_MAX_VCPU_ID (the vCPU id limit),
 *    KVM_CAP_MSR_PLATFORM_INFO (may the guest read MSR_PLATFORM_INFO),
 *    KVM_CAP_DISABLE_QUIRKS2 (turn off KVM's historical behaviours that
 *    minikvm has too); KVM_ENABLE_CAP on a vCPU.
 *  - MSR_PLATFORM_INFO and MSR_MISC_FEATURES_ENABLES: CPUID faulting.
 *  - MSR_IA32_UCODE_REV, the one "feature MSR" (KVM_GET_MSR_FEATURE_INDEX_LIST,
 *    KVM_GET_MSRS on /dev/kvm): what a VMM may tell the guest.
 *  - MSR_IA32_MISC_ENABLE's MWAIT bit, and MONITOR/MWAIT themselves.
 *  - KVM_GET/SET_TSC_KHZ, and the TSC catch-up a rate above the host's
 *    needs.
 *
 * Each follows KVM's ABI (Documentation/virt/kvm/api.rst in Linux).
 */
#define pr_fmt(fmt) "minikvm: " fmt

#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <asm/msr.h>
#include <asm/msr-index.h>
#include <asm/tsc.h>

#include "minikvm.h"

/* ------------------------------------------------------------------ */
/* Set-up of a VM and a vCPU                                           */
/* ------------------------------------------------------------------ */

void mkvm_features_vm_init(struct mkvm *vm)
{
	vm->platform_info_readable = true;	/* KVM's default */
	/* Each vCPU's TSC starts at 0 now, all of them in step (msr.c). */
	vm->initial_tsc_offset = -rdtsc();
}

void mkvm_features_vcpu_init(struct mkvm_vcpu *vcpu)
{
	vcpu->msr_tsc_offset = vcpu->vm->initial_tsc_offset;
	vcpu->tsc_khz = tsc_khz;	/* KVM_GET/SET_TSC_KHZ */
	/* minikvm can fault CPUID (below): say so, as KVM does. */
	vcpu->msr_platform_info = MSR_PLATFORM_INFO_CPUID_FAULT;
	/* KVM's value for this vendor until the VMM sets one. */
	vcpu->microcode_version = mkvm_ops->reset_microcode_version;
}

/* ------------------------------------------------------------------ */
/* KVM_ENABLE_CAP                                                      */
/* ------------------------------------------------------------------ */

/*
 * KVM_CAP_MAX_VCPU_ID: ids of later vCPUs stay below @max. It can be
 * fixed once: setting the value it already has is fine, any other fails,
 * and the first KVM_CREATE_VCPU fixes it at the default (KVM's rules).
 */
static int mkvm_enable_max_vcpu_id(struct mkvm *vm, u64 max)
{
	int r = -EINVAL;

	if (max > MKVM_MAX_VCPUS)
		return -EINVAL;
	mutex_lock(&vm->lock);
	if (vm->max_vcpu_ids == max || !vm->max_vcpu_ids) {
		vm->max_vcpu_ids = max;
		r = 0;
	}
	mutex_unlock(&vm->lock);
	return r;
}

/**
 * mkvm_vcpu_id_allowed() - may KVM_CREATE_VCPU use @id? Under vm->lock.
 *
 * The first vCPU fixes the limit at its default if the VMM did not.
 */
bool mkvm_vcpu_id_allowed(struct mkvm *vm, unsigned long id)
{
	lockdep_assert_held(&vm->lock);
	if (!vm->max_vcpu_ids)
		vm->max_vcpu_ids = MKVM_MAX_VCPUS;
	return id < vm->max_vcpu_ids;
}

/*
 * KVM_CAP_DISABLE_QUIRKS2: the quirks minikvm has, i.e. the ones it can
 * turn off (KVM_CHECK_EXTENSION reports this mask):
 *  MISC_ENABLE_NO_MWAIT   MISC_ENABLE.MWAIT (bit 18) does not change
 *                         CPUID.1:ECX.MONITOR; without the quirk it does.
 *  FIX_HYPERCALL_INSN     the other vendor's hypercall instruction is
 *                         rewritten into this CPU's (pv.c); without the
 *                         quirk it is #UD, as on the CPU.
 *  MWAIT_NEVER_UD_FAULTS  MONITOR/MWAIT are NOPs even when CPUID does not
 *                         offer them; without the quirk they are #UD then.
 */
#define MKVM_VALID_QUIRKS (KVM_X86_QUIRK_MISC_ENABLE_NO_MWAIT | \
			   KVM_X86_QUIRK_FIX_HYPERCALL_INSN | \
			   KVM_X86_QUIRK_MWAIT_NEVER_UD_FAULTS)

u64 mkvm_valid_quirks(void)
{
	return MKVM_VALID_QUIRKS;
}

bool mkvm_has_quirk(struct mkvm *vm, u64 quirk)
{
	return !(READ_ONCE(vm->disabled_quirks) & quirk);
}

/* KVM_ENABLE_CAP on the VM, for the capabilities of this file. */
int mkvm_features_vm_enable_cap(struct mkvm *vm,
				const struct kvm_enable_cap *cap)
{
	switch (cap->cap) {
	case KVM_CAP_MAX_VCPU_ID:
		return mkvm_enable_max_vcpu_id(vm, cap->args[0]);
	case KVM_CAP_MSR_PLATFORM_INFO:
		WRITE_ONCE(vm->platform_info_readable, !!cap->args[0]);
		return 0;
	case KVM_CAP_DISABLE_QUIRKS2:
		/* The whole set is replaced, as in KVM. */
		if (cap->args[0] & ~MKVM_VALID_QUIRKS)
			return -EINVAL;
		WRITE_ONCE(vm->disabled_quirks, cap->args[0]);
		return 0;
	default:
		return -EINVAL;
	}
}

/* KVM_ENABLE_CAP on a vCPU fd. */
int mkvm_vcpu_enable_cap(struct mkvm_vcpu *vcpu,
			 struct kvm_enable_cap __user *argp)
{
	struct kvm_enable_cap cap;

	if (copy_from_user(&cap, argp, sizeof(cap)))
		return -EFAULT;
	if (cap.flags)
		return -EINVAL;
	switch (cap.cap) {
	case KVM_CAP_ENFORCE_PV_FEATURE_CPUID:
		vcpu->pv_enforce = !!cap.args[0];
		return 0;
	default:
		return -EINVAL;
	}
}

/* ------------------------------------------------------------------ */
/* The TSC: its rate (KVM_GET/SET_TSC_KHZ, catch-up), its offset      */
/* ------------------------------------------------------------------ */

/*
 * KVM_GET_TSC_KHZ on a vCPU: the rate of the guest's TSC, the one
 * KVM_SET_TSC_KHZ accepted last; at first the host's, as the host kernel
 * measured it, or 0 if it could not, as KVM answers then. A refused
 * KVM_SET_TSC_KHZ leaves it as it was (KVM stores the refused rate
 * before it decides, and answers that).
 */
long mkvm_get_tsc_khz(struct mkvm_vcpu *vcpu)
{
	return vcpu->tsc_khz;
}

/* How far a requested rate may be from the host's: KVM's default, 250 ppm. */
#define MKVM_TSC_TOLERANCE_PPM	250

static u32 mkvm_adjust_khz(u32 khz, s32 ppm)
{
	return div_u64((u64)khz * (1000000 + ppm), 1000000);
}

/*
 * Ticks of a TSC of @khz in a span of host time: ns * mult >> shift,
 * with the largest shift up to 32 that keeps mult in 32 bits (ticks per
 * ns is khz / 10^6, below 2^13 for any u32 khz). A multiply and a shift,
 * which cannot fault however long the span: a division
 * (mul_u64_u32_div()) would raise #DE once the quotient passed 64 bits.
 */
static void mkvm_tsc_catchup_scale(struct mkvm_vcpu *vcpu, u32 khz)
{
	u8 shift = 32;

	while (div_u64((u64)khz << shift, NSEC_PER_MSEC) > U32_MAX)
		shift--;
	vcpu->tsc_catchup_mult = div_u64((u64)khz << shift, NSEC_PER_MSEC);
	vcpu->tsc_catchup_shift = shift;
}

/* Catch up from here: the guest's TSC now, and the host's clock. */
static void mkvm_tsc_catchup_base(struct mkvm_vcpu *vcpu)
{
	preempt_disable();	/* both readings close together */
	vcpu->tsc_catchup_ns = ktime_get_boottime_ns();
	vcpu->tsc_catchup_tsc = rdtsc() + vcpu->msr_tsc_offset;
	preempt_enable();
}

/*
 * KVM_SET_TSC_KHZ on a vCPU; 0 means the host's rate. minikvm does not
 * scale the guest's TSC in hardware (the multiplier of AMD's TSC ratio
 * MSR, APM Vol.2 "TSC Ratio MSR (C000_0104h)", or Intel's TSC
 * multiplier, SDM Vol.3 25.6.5, is not used: KVM_CAP_TSC_CONTROL stays
 * 0), so it does what KVM does without them:
 *
 *  - within 250 ppm of the host's rate: taken as it is, the guest's TSC
 *    runs at the host's;
 *  - faster: taken, and kept in step in software ("catch-up"): the TSC
 *    still ticks at the host's rate while the guest runs, and before each
 *    entry mkvm_tsc_catchup() moves it forward to where the rate set
 *    would have taken it since the rate or the TSC was last set;
 *  - slower: -EINVAL, the TSC cannot be held back (the guest may read it
 *    at any time without an exit). So is any rate when the host kernel
 *    could not measure its own TSC.
 */
int mkvm_set_tsc_khz(struct mkvm_vcpu *vcpu, unsigned long arg)
{
	u32 khz = arg ? (u32)arg : tsc_khz;

	if (!tsc_khz ||
	    khz < mkvm_adjust_khz(tsc_khz, -MKVM_TSC_TOLERANCE_PPM))
		return -EINVAL;
	vcpu->tsc_khz = khz;
	vcpu->tsc_catchup =
		khz > mkvm_adjust_khz(tsc_khz, MKVM_TSC_TOLERANCE_PPM);
	if (vcpu->tsc_catchup) {
		mkvm_tsc_catchup_scale(vcpu, khz);
		mkvm_tsc_catchup_base(vcpu);
	}
	return 0;
}

/**
 * mkvm_tsc_written() - the guest's TSC was set: a new msr_tsc_offset.
 *
 * By the guest (WRMSR to IA32_TSC or IA32_TSC_ADJUST) or by the VMM
 * (KVM_SET_MSRS, KVM_VCPU_TSC_OFFSET): kvmclock's TSC timestamp must be
 * taken again, and a catch-up continues from the new value instead of
 * pulling the TSC back to its old course. (KVM starts afresh too for the
 * VMM's writes, not for the guest's.)
 */
void mkvm_tsc_written(struct mkvm_vcpu *vcpu)
{
	set_bit(MKVM_REQ_CLOCK_UPDATE, &vcpu->requests);
	if (vcpu->tsc_catchup)
		mkvm_tsc_catchup_base(vcpu);
}

/**
 * mkvm_tsc_catchup() - before an entry, with a TSC rate above the host's:
 * move the guest's TSC forward to where that rate would have taken it.
 *
 * Run loop (vcpu.c), only while vcpu->tsc_catchup. Never backwards: a
 * guest TSC ahead of the course (the guest or the VMM set it ahead and
 * time has not caught up with it) stays. A move asks for a new kvmclock
 * structure, written just after this and before the entry: the guest's
 * kvmclock stays continuous (kvmclock.c).
 */
void mkvm_tsc_catchup(struct mkvm_vcpu *vcpu)
{
	u64 ns, tsc, target;

	preempt_disable();
	ns = ktime_get_boottime_ns();
	tsc = rdtsc() + vcpu->msr_tsc_offset;
	preempt_enable();
	target = vcpu->tsc_catchup_tsc +
		 mul_u64_u32_shr(ns - vcpu->tsc_catchup_ns,
				 vcpu->tsc_catchup_mult,
				 vcpu->tsc_catchup_shift);
	if ((s64)(target - tsc) <= 0)
		return;
	vcpu->msr_tsc_offset += target - tsc;
	set_bit(MKVM_REQ_CLOCK_UPDATE, &vcpu->requests);
}

/*
 * The vCPU's device attributes (KVM_HAS/GET/SET_DEVICE_ATTR on its fd,
 * KVM_CAP_VCPU_ATTRIBUTES). x86 has one group, KVM_VCPU_TSC_CTRL, with
 * one attribute, KVM_VCPU_TSC_OFFSET: the u64 at attr.addr is the
 * offset from the host's TSC to the guest's (guest = host + offset),
 * the value the VMCB/VMCS is programmed with. Anything else is ENXIO, as
 * in KVM. Setting it leaves IA32_TSC_ADJUST alone (the guest did not
 * write its TSC), as KVM_SET_MSRS of the TSC does.
 */
long mkvm_vcpu_device_attr(struct mkvm_vcpu *vcpu, unsigned int ioctl,
			   struct kvm_device_attr __user *argp)
{
	struct kvm_device_attr attr;
	u64 __user *uaddr;
	u64 offset;

	if (copy_from_user(&attr, argp, sizeof(attr)))
		return -EFAULT;
	if (attr.group != KVM_VCPU_TSC_CTRL || attr.attr != KVM_VCPU_TSC_OFFSET)
		return -ENXIO;
	uaddr = u64_to_user_ptr(attr.addr);
	switch (ioctl) {
	case KVM_HAS_DEVICE_ATTR:
		return 0;
	case KVM_GET_DEVICE_ATTR:
		return put_user(vcpu->msr_tsc_offset, uaddr) ? -EFAULT : 0;
	default:	/* KVM_SET_DEVICE_ATTR */
		if (get_user(offset, uaddr))
			return -EFAULT;
		vcpu->msr_tsc_offset = offset;
		mkvm_tsc_written(vcpu);
		return 0;
	}
}

/* ------------------------------------------------------------------ */
/* CPUID faulting, microcode revision                                  */
/* ------------------------------------------------------------------ */

/*
 * CPUID faulting (Intel's "Virtualization Technology FlexMigration"
 * application note; Linux's arch_prctl(ARCH_SET_CPUID)): with bit 0 of
 * MSR_MISC_FEATURES_ENABLES set, CPUID at CPL > 0 raises #GP(0), so a
 * kernel can trap and emulate it for its processes. MSR_PLATFORM_INFO
 * bit 31 says the CPU can; minikvm can on both vendors, since CPUID
 * always exits.
 */
bool mkvm_cpuid_faults(struct mkvm_vcpu *vcpu)
{
	return (vcpu->msr_misc_features & MSR_MISC_FEATURES_ENABLES_CPUID_FAULT) &&
	       mkvm_ops->get_cpl(vcpu) > 0;
}

/**
 * mkvm_feature_get_msr() - the MSRs of this file (msr.c asks first).
 * Return: 0, -EPERM (the guest may not), -ENOENT (not ours).
 */
int mkvm_feature_get_msr(struct mkvm_vcpu *vcpu, u32 index, u64 *data,
			 bool host)
{
	switch (index) {
	case MSR_PLATFORM_INFO:
		/* KVM_CAP_MSR_PLATFORM_INFO off: the guest's RDMSR is #GP. */
		if (!host && !READ_ONCE(vcpu->vm->platform_info_readable))
			return -EPERM;
		*data = vcpu->msr_platform_info;
		return 0;
	case MSR_MISC_FEATURES_ENABLES:
		*data = vcpu->msr_misc_features;
		return 0;
	case MSR_IA32_UCODE_REV:
		*data = vcpu->microcode_version;
		return 0;
	default:
		return -ENOENT;
	}
}

/**
 * mkvm_feature_set_msr() - write one of the MSRs of this file.
 * Return: 0, -EPERM, -EINVAL (a value the CPU would refuse), -ENOENT.
 */
int mkvm_feature_set_msr(struct mkvm_vcpu *vcpu, u32 index, u64 data,
			 bool host)
{
	switch (index) {
	case MSR_PLATFORM_INFO:
		/*
		 * Read-only for the guest. The VMM describes the CPU with it,
		 * but may not take CPUID faulting away while it is on.
		 */
		if (!host)
			return -EPERM;
		if (!(data & MSR_PLATFORM_INFO_CPUID_FAULT) &&
		    (vcpu->msr_misc_features &
		     MSR_MISC_FEATURES_ENABLES_CPUID_FAULT))
			return -EINVAL;
		vcpu->msr_platform_info = data;
		return 0;
	case MSR_MISC_FEATURES_ENABLES:
		/* Only CPUID faulting, and only if PLATFORM_INFO offers it. */
		if (data & ~MSR_MISC_FEATURES_ENABLES_CPUID_FAULT)
			return -EINVAL;
		if (data && !(vcpu->msr_platform_info &
			      MSR_PLATFORM_INFO_CPUID_FAULT))
			return -EINVAL;
		vcpu->msr_misc_features = data;
		return 0;
	case MSR_IA32_UCODE_REV:
		/* A guest's write (the microcode loader's) changes nothing. */
		if (host)
			vcpu->microcode_version = data;
		return 0;
	default:
		return -ENOENT;
	}
}

/* ------------------------------------------------------------------ */
/* Feature MSRs: KVM_GET_MSR_FEATURE_INDEX_LIST, KVM_GET_MSRS on /dev/kvm */
/* ------------------------------------------------------------------ */

/*
 * Feature MSRs describe the host's CPU to a VMM choosing a guest model.
 * minikvm lists only those whose value it then honours as a vCPU MSR:
 * MSR_IA32_UCODE_REV (the host's microcode revision; the VMM may give it
 * to the guest with KVM_SET_MSRS). No ARCH_CAPABILITIES, DECFG or VMX
 * capability MSRs: minikvm does not offer them to guests.
 */
static const u32 mkvm_feature_msrs[] = {
	MSR_IA32_UCODE_REV,
};

int mkvm_get_msr_feature_index_list(struct kvm_msr_list __user *ul)
{
	return mkvm_copy_msr_list(ul, mkvm_feature_msrs,
				  ARRAY_SIZE(mkvm_feature_msrs));
}

static int mkvm_get_feature_msr(u32 index, u64 *data)
{
	switch (index) {
	case MSR_IA32_UCODE_REV:
		/* A CPU (or emulator) without the MSR: revision 0. */
		if (rdmsrl_safe(MSR_IA32_UCODE_REV, data))
			*data = 0;
		return 0;
	default:
		return -ENOENT;
	}
}

#define MKVM_MAX_FEATURE_MSRS	256	/* per call, as KVM_GET_MSRS on a vCPU */

/*
 * KVM_GET_MSRS on /dev/kvm: the values of feature MSRs. Returns how many
 * were read; it stops at the first index that is not a feature MSR.
 */
int mkvm_get_feature_msrs(struct kvm_msrs __user *um)
{
	struct kvm_msr_entry *e;
	struct kvm_msrs m;
	size_t size;
	int i, r;

	if (copy_from_user(&m, um, sizeof(m)))
		return -EFAULT;
	if (m.nmsrs >= MKVM_MAX_FEATURE_MSRS)
		return -E2BIG;
	size = m.nmsrs * sizeof(*e);
	e = memdup_user(um->entries, size);
	if (IS_ERR(e))
		return PTR_ERR(e);
	for (i = 0; i < m.nmsrs; i++)
		if (mkvm_get_feature_msr(e[i].index, &e[i].data))
			break;
	r = i;
	if (copy_to_user(um->entries, e, size))
		r = -EFAULT;
	kfree(e);
	return r;
}

/* ------------------------------------------------------------------ */
/* MONITOR/MWAIT and MISC_ENABLE.MWAIT                                 */
/* ------------------------------------------------------------------ */

#define MKVM_CPUID1_ECX_SSE3	BIT(0)
#define MKVM_CPUID1_ECX_MWAIT	BIT(3)

/*
 * Bits of a CPUID table that follow vCPU state, as KVM keeps them: with
 * the MISC_ENABLE_NO_MWAIT quirk off, CPUID.1:ECX.MONITOR reads as
 * MISC_ENABLE bit 18 (ENABLE MONITOR FSM, SDM Vol.4 Table 2-2). Applied
 * to every table set (so that a VMM setting the same table again after
 * KVM_RUN compares equal) and when the MSR changes.
 */
void mkvm_cpuid_mwait_update(struct mkvm_vcpu *vcpu,
			       struct kvm_cpuid_entry2 *e, int n)
{
	int i;

	if (mkvm_has_quirk(vcpu->vm, KVM_X86_QUIRK_MISC_ENABLE_NO_MWAIT))
		return;
	for (i = 0; i < n; i++) {
		if (e[i].function != 1)
			continue;
		if (vcpu->msr_misc_enable & MSR_IA32_MISC_ENABLE_MWAIT)
			e[i].ecx |= MKVM_CPUID1_ECX_MWAIT;
		else
			e[i].ecx &= ~MKVM_CPUID1_ECX_MWAIT;
	}
}

/*
 * MSR_IA32_MISC_ENABLE. Bit 18 may only change on a CPU with SSE3 when
 * it changes CPUID (no quirk); KVM's rule. The other bits are kept.
 */
int mkvm_set_misc_enable(struct mkvm_vcpu *vcpu, u64 data, bool host)
{
	const struct kvm_cpuid_entry2 *e = mkvm_find_cpuid(vcpu, 1, 0);
	bool mwait_changes = (vcpu->msr_misc_enable ^ data) &
			     MSR_IA32_MISC_ENABLE_MWAIT;

	if (mwait_changes &&
	    !mkvm_has_quirk(vcpu->vm, KVM_X86_QUIRK_MISC_ENABLE_NO_MWAIT)) {
		if (!e || !(e->ecx & MKVM_CPUID1_ECX_SSE3))
			return -EINVAL;
		vcpu->msr_misc_enable = data;
		mkvm_cpuid_mwait_update(vcpu, vcpu->cpuid, vcpu->nr_cpuid);
		return 0;
	}
	vcpu->msr_misc_enable = data;
	return 0;
}

/**
 * mkvm_emulate_monitor_mwait() - a MONITOR or MWAIT exit (both vendors
 * intercept them: a guest must not put a host CPU to sleep).
 *
 * As KVM: a NOP, which is a correct MWAIT (it may return at any time,
 * SDM Vol.2 MWAIT) though it makes the guest spin. With the quirk
 * MWAIT_NEVER_UD_FAULTS off and CPUID.1:ECX.MONITOR clear, #UD as on a
 * CPU without them. The vendor has set vcpu->exit_insn_len.
 */
int mkvm_emulate_monitor_mwait(struct mkvm_vcpu *vcpu)
{
	const struct kvm_cpuid_entry2 *e = mkvm_find_cpuid(vcpu, 1, 0);

	if (!mkvm_has_quirk(vcpu->vm, KVM_X86_QUIRK_MWAIT_NEVER_UD_FAULTS) &&
	    !(e && (e->ecx & MKVM_CPUID1_ECX_MWAIT))) {
		mkvm_queue_exception(vcpu, MKVM_UD_VECTOR, false, 0);
		return 1;
	}
	mkvm_skip_insn(vcpu);
	return 1;
}
