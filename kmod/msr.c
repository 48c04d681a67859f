// SPDX-License-Identifier: GPL-2.0-only
/*
 * minikvm: model-specific registers.
 *
 * Every RDMSR/WRMSR of the guest exits (the vendors intercept them all),
 * and the VMM reads and writes the same registers with KVM_GET/SET_MSRS
 * (to save, restore or set up a vCPU). Both paths meet in mkvm_get_msr()
 * and mkvm_set_msr(): the MSRs the VMCB or VMCS holds are the vendor's
 * (mkvm_ops->get_msr/set_msr), a few live in struct mkvm_vcpu, and any
 * other index is refused, which the guest sees as #GP as on real hardware.
 */
#define pr_fmt(fmt) "minikvm: " fmt

#include <linux/slab.h>
#include <linux/uaccess.h>
#include <asm/apicdef.h>
#include <asm/msr-index.h>
#include <asm/kvm_para.h>
#include <asm/tsc.h>

#include "minikvm.h"
#include "trace.h"

/* EFER bits a guest may set: SCE, LME, LMA, NXE (APM Vol.2 3.1.7). */
#define MKVM_EFER_VALID	(BIT_ULL(0) | MKVM_EFER_LME | MKVM_EFER_LMA | \
			 BIT_ULL(11))

/* The MSRs KVM_GET_MSR_INDEX_LIST reports: all of these can be saved. */
static const u32 mkvm_msr_list[] = {
	MSR_EFER, MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_SYSCALL_MASK,
	MSR_KERNEL_GS_BASE, MSR_FS_BASE, MSR_GS_BASE,
	MSR_IA32_SYSENTER_CS, MSR_IA32_SYSENTER_ESP, MSR_IA32_SYSENTER_EIP,
	MSR_IA32_TSC, MSR_IA32_CR_PAT, MSR_IA32_APICBASE,
	MSR_IA32_MISC_ENABLE,
	MSR_KVM_WALL_CLOCK, MSR_KVM_SYSTEM_TIME,
	MSR_KVM_WALL_CLOCK_NEW, MSR_KVM_SYSTEM_TIME_NEW,
	MSR_IA32_MCG_STATUS, MSR_IA32_MCG_CTL, MSR_K7_HWCR,
	MSR_IA32_TSC_DEADLINE,
	MSR_IA32_TSC_ADJUST, MSR_IA32_UCODE_REV,
	MSR_PLATFORM_INFO, MSR_MISC_FEATURES_ENABLES,
	MSR_IA32_SMBASE,
};

/* ------------------------------------------------------------------ */
/* MTRRs (SDM Vol.3 11.11)                                             */
/* ------------------------------------------------------------------ */

/*
 * Memory type range registers tell the CPU how to cache each range of
 * physical memory. With NPT/EPT the guest's MTRRs do not reach the
 * hardware (the host decides the memory type of guest RAM), so, as KVM
 * does for RAM, we only keep them: a guest (and a VMM restoring one)
 * reads back what it wrote. What the CPU would refuse, we refuse too.
 *
 * MTRRcap (11.11.1): VCNT = 8 variable ranges, FIX (bit 8) fixed ranges,
 * WC (bit 10) write-combining; SMRR and the rest absent. Read-only.
 */
#define MKVM_MTRRCAP	(BIT_ULL(10) | BIT_ULL(8) | MKVM_NR_VAR_MTRR)

/* The fixed-range MSRs in the order of mkvm_mtrr.fixed[] (Table 11-9). */
static const u32 mkvm_fixed_mtrr[MKVM_NR_FIXED_MTRR] = {
	MSR_MTRRfix64K_00000, MSR_MTRRfix16K_80000, MSR_MTRRfix16K_A0000,
	MSR_MTRRfix4K_C0000, MSR_MTRRfix4K_C8000, MSR_MTRRfix4K_D0000,
	MSR_MTRRfix4K_D8000, MSR_MTRRfix4K_E0000, MSR_MTRRfix4K_E8000,
	MSR_MTRRfix4K_F0000, MSR_MTRRfix4K_F8000,
};

/* UC, WC, WT, WP, WB: the types an MTRR may hold (Table 11-8). */
static bool mkvm_mtrr_type_valid(u8 type)
{
	return type < 8 && (BIT(type) & 0x73);
}

/*
 * Where MTRR @index lives in @m, or NULL if @index is not an MTRR we
 * keep. Variable ranges are MSRs 0x200 + 2n (base) and 0x201 + 2n (mask).
 */
static u64 *mkvm_mtrr_slot(struct mkvm_mtrr *m, u32 index)
{
	int i;

	if (index == MSR_MTRRdefType)
		return &m->deftype;
	if (index >= 0x200 && index < 0x200 + 2 * MKVM_NR_VAR_MTRR)
		return &m->var[index - 0x200];
	for (i = 0; i < MKVM_NR_FIXED_MTRR; i++)
		if (mkvm_fixed_mtrr[i] == index)
			return &m->fixed[i];
	return NULL;
}

/* Reserved bits and types a write of MTRR @index must not set (11.11.2). */
static bool mkvm_mtrr_valid(struct mkvm_vcpu *vcpu, u32 index, u64 data)
{
	u64 above_maxphy = ~0ULL << mkvm_guest_maxphyaddr(vcpu);
	int i;

	if (index == MSR_MTRRdefType)	/* type 7:0, FE 10, E 11 */
		return !(data & ~0xcffULL) && mkvm_mtrr_type_valid(data);
	if (index >= 0x200 && index < 0x200 + 2 * MKVM_NR_VAR_MTRR) {
		if (index & 1)		/* PhysMask: valid bit 11 */
			return !(data & (above_maxphy | 0x7ff));
		return !(data & (above_maxphy | 0xf00)) &&	/* PhysBase */
		       mkvm_mtrr_type_valid(data);
	}
	for (i = 0; i < 8; i++)		/* fixed: one type per byte */
		if (!mkvm_mtrr_type_valid(data >> (i * 8)))
			return false;
	return true;
}


/* Each PAT entry must be a defined memory type (SDM Vol.3 11.12.2). */
static bool mkvm_pat_valid(u64 pat)
{
	int i;

	for (i = 0; i < 8; i++) {
		u8 type = pat >> (i * 8);

		if (type > 7 || type == 2 || type == 3)
			return false;
	}
	return true;
}

/* ------------------------------------------------------------------ */
/* The TSC and IA32_TSC_ADJUST (SDM Vol.3 17.17)                       */
/* ------------------------------------------------------------------ */

/*
 * The guest's TSC is the host's plus vcpu->msr_tsc_offset, which the
 * vendor programs into the VMCB/VMCS. IA32_TSC_ADJUST (17.17.3) counts
 * what the guest itself added to its TSC: a guest WRMSR to the TSC moves
 * both by the same amount, a guest WRMSR to TSC_ADJUST moves the TSC by
 * the change. The VMM's writes are different, as in KVM: KVM_SET_MSRS of
 * the TSC sets the offset and leaves TSC_ADJUST alone (the guest did not
 * do it), and of TSC_ADJUST restores the register and leaves the TSC.
 */
static void mkvm_tsc_adjust_offset(struct mkvm_vcpu *vcpu, s64 delta)
{
	vcpu->msr_tsc_offset += delta;
	mkvm_tsc_written(vcpu);	/* kvmclock, catch-up (features.c) */
}

static void mkvm_set_tsc(struct mkvm_vcpu *vcpu, u64 data, bool host)
{
	s64 delta = data - (rdtsc() + vcpu->msr_tsc_offset);

	mkvm_tsc_adjust_offset(vcpu, delta);
	if (!host)
		vcpu->msr_tsc_adjust += delta;
}

/*
 * Without CPUID.(EAX=7,ECX=0):EBX.TSC_ADJUST[bit 1] in the guest's model
 * a write is dropped, as KVM does (it never faults); reads always work.
 */
static void mkvm_set_tsc_adjust(struct mkvm_vcpu *vcpu, u64 data, bool host)
{
	const struct kvm_cpuid_entry2 *e = mkvm_find_cpuid(vcpu, 7, 0);

	if (!e || !(e->ebx & BIT(1)))
		return;
	if (!host)
		mkvm_tsc_adjust_offset(vcpu, data - vcpu->msr_tsc_adjust);
	vcpu->msr_tsc_adjust = data;
}

/**
 * mkvm_apic_base_valid() - may IA32_APIC_BASE hold @value? (SDM Vol.3
 * 10.4.4, 10.12.1): bits 0-7 and 9 and those above MAXPHYADDR are
 * reserved, and so is EXTD (x2APIC enable, bit 10) without x2APIC in
 * the guest's CPUID; EXTD without EN (bit 11) is the invalid mode. For a
 * vCPU without the in-kernel LAPIC, which checks the same (lapic.c).
 */
bool mkvm_apic_base_valid(struct mkvm_vcpu *vcpu, u64 value)
{
	const struct kvm_cpuid_entry2 *e = mkvm_find_cpuid(vcpu, 1, 0);
	u64 rsvd = (~0ULL << mkvm_guest_maxphyaddr(vcpu)) | 0x2ff;

	if (!e || !(e->ecx & BIT(21)))
		rsvd |= X2APIC_ENABLE;
	if (value & rsvd)
		return false;
	return !((value & X2APIC_ENABLE) && !(value & MSR_IA32_APICBASE_ENABLE));
}

/**
 * mkvm_get_msr() - read guest MSR @index.
 * @host: the VMM reads it (KVM_GET_MSRS), not the guest
 * Return: 0, or -ENOENT for an MSR we do not implement.
 */
int mkvm_get_msr(struct mkvm_vcpu *vcpu, u32 index, u64 *data, bool host)
{
	int r;

	switch (index) {
	case MSR_EFER:
		*data = vcpu->efer;
		return 0;
	/* Power management knobs: kept, with no effect, as KVM does. */
	case MSR_IA32_POWER_CTL:
		*data = vcpu->msr_power_ctl;
		return 0;
	case MSR_IA32_TSC:
		*data = rdtsc() + vcpu->msr_tsc_offset;
		return 0;
	case MSR_IA32_CR_PAT:
		*data = vcpu->msr_pat;
		return 0;
	case MSR_IA32_APICBASE:
		*data = vcpu->apic ? vcpu->apic->base : vcpu->msr_apic_base;
		return 0;
	case MSR_IA32_TSC_ADJUST:
		*data = vcpu->msr_tsc_adjust;
		return 0;
	case MSR_IA32_MISC_ENABLE:
		*data = vcpu->msr_misc_enable;
		return 0;
	/*
	 * SMBASE (smm.c): the VMM's to save and restore. The guest reaches
	 * it only through the SMM save area, as on real CPUs (#GP here).
	 */
	case MSR_IA32_SMBASE:
		if (!mkvm_ops->has_smm)
			return -ENOENT;
		if (!host)
			return -EINVAL;
		*data = vcpu->smbase;
		return 0;
	case MSR_MTRRcap:
		*data = MKVM_MTRRCAP;
		return 0;
	case MSR_K7_HWCR:
		*data = vcpu->msr_hwcr;
		return 0;
	case MSR_KVM_WALL_CLOCK:
	case MSR_KVM_WALL_CLOCK_NEW:
		if (!mkvm_pv_msr_allowed(vcpu, index))
			return -EPERM;
		*data = READ_ONCE(vcpu->vm->kvmclock_wall_clock);
		return 0;
	case MSR_KVM_SYSTEM_TIME:
	case MSR_KVM_SYSTEM_TIME_NEW:
		if (!mkvm_pv_msr_allowed(vcpu, index))
			return -EPERM;
		*data = vcpu->msr_kvm_system_time;
		return 0;
	default:
		r = mkvm_feature_get_msr(vcpu, index, data, host);
		if (r != -ENOENT)
			return r;
		if (mkvm_mtrr_slot(&vcpu->mtrr, index)) {
			*data = *mkvm_mtrr_slot(&vcpu->mtrr, index);
			return 0;
		}
		r = mkvm_mce_get_msr(vcpu, index, data, host);
		if (r != -ENOENT)
			return r;
		r = mkvm_lapic_get_msr(vcpu, index, data);
		if (r != -ENOENT)
			return r;
		return mkvm_ops->get_msr(vcpu, index, data);
	}
}

/**
 * mkvm_set_msr() - write guest MSR @index.
 * @host: the VMM writes it (KVM_SET_MSRS), not the guest: checks that only
 *	  guard the guest's own transitions are skipped, so saved state can be
 *	  restored in any order. EFER.LMA is kept even then: it is the CPU's,
 *	  set from LME and CR0.PG, and KVM_SET_SREGS, which checks the three
 *	  together, is the only way for the VMM to change it.
 * Return: 0, -EINVAL for a value the CPU would refuse, -ENOENT.
 */
int mkvm_set_msr(struct mkvm_vcpu *vcpu, u32 index, u64 data, bool host)
{
	int r;

	switch (index) {
	case MSR_EFER:
		if (data & ~MKVM_EFER_VALID)
			return -EINVAL;
		if (!host) {
			/* LME is fixed while paging is on (SDM Vol.3 9.8.5). */
			if ((mkvm_ops->get_cr(vcpu, 0) & MKVM_CR0_PG) &&
			    ((data ^ vcpu->efer) & MKVM_EFER_LME))
				return -EINVAL;
		}
		/*
		 * LMA is the CPU's to set (SDM Vol.3 9.8.5, APM Vol.2 14.6.2):
		 * a write keeps it, the VMM's too. "Long mode active with
		 * paging off" is a state no CPU has.
		 */
		data = (data & ~MKVM_EFER_LMA) | (vcpu->efer & MKVM_EFER_LMA);
		vcpu->efer = data;
		mkvm_ops->set_efer(vcpu, data);
		return 0;
	case MSR_IA32_POWER_CTL:
		vcpu->msr_power_ctl = data;
		return 0;
	case MSR_IA32_TSC:
		mkvm_set_tsc(vcpu, data, host);
		return 0;
	case MSR_IA32_TSC_ADJUST:
		mkvm_set_tsc_adjust(vcpu, data, host);
		return 0;
	case MSR_IA32_CR_PAT:
		if (!mkvm_pat_valid(data))
			return -EINVAL;
		vcpu->msr_pat = data;
		/* The vendor may hold it in hardware too (VMCB g_pat, VMCS). */
		r = mkvm_ops->set_msr(vcpu, index, data);
		return r == -ENOENT ? 0 : r;
	case MSR_IA32_APICBASE:
		if (vcpu->apic)
			return mkvm_lapic_set_base(vcpu, data, host);
		if (!mkvm_apic_base_valid(vcpu, data))
			return -EINVAL;
		vcpu->msr_apic_base = data;
		return 0;
	case MSR_IA32_MISC_ENABLE:
		return mkvm_set_misc_enable(vcpu, data, host);
	case MSR_IA32_SMBASE:
		/* Any 32 bits, as KVM (which keeps even 64). */
		if (!mkvm_ops->has_smm)
			return -ENOENT;
		if (!host || upper_32_bits(data))
			return -EINVAL;
		vcpu->smbase = data;
		return 0;
	case MSR_K7_HWCR:
		/* Flush filter, IGNNE, TLB cache: ignored; McStatusWrEn kept. */
		data &= ~(BIT_ULL(3) | BIT_ULL(6) | BIT_ULL(8));
		if (data & ~MKVM_HWCR_MCSTATUSWREN)
			return -EINVAL;
		vcpu->msr_hwcr = data;
		return 0;
	case MSR_KVM_WALL_CLOCK:
	case MSR_KVM_WALL_CLOCK_NEW:
		if (!mkvm_pv_msr_allowed(vcpu, index))
			return -EPERM;
		return mkvm_kvmclock_set_wall_clock(vcpu, data, host);
	case MSR_KVM_SYSTEM_TIME:
	case MSR_KVM_SYSTEM_TIME_NEW:
		if (!mkvm_pv_msr_allowed(vcpu, index))
			return -EPERM;
		return mkvm_kvmclock_set_system_time(vcpu, data, host);
	default:
		r = mkvm_feature_set_msr(vcpu, index, data, host);
		if (r != -ENOENT)
			return r;
		if (mkvm_mtrr_slot(&vcpu->mtrr, index)) {
			if (!mkvm_mtrr_valid(vcpu, index, data))
				return -EINVAL;
			*mkvm_mtrr_slot(&vcpu->mtrr, index) = data;
			return 0;
		}
		r = mkvm_mce_set_msr(vcpu, index, data, host);
		if (r != -ENOENT)
			return r;
		r = mkvm_lapic_set_msr(vcpu, index, data);
		if (r != -ENOENT)
			return r;
		return mkvm_ops->set_msr(vcpu, index, data);
	}
}

/*
 * A guest RDMSR/WRMSR: the filter first (msr_user.c), then the MSR. What
 * either refuses is #GP, or an exit to the VMM if it asked for that
 * (mkvm_msr_refused()).
 */
int mkvm_emulate_rdmsr(struct mkvm_vcpu *vcpu)
{
	u32 index = vcpu->regs[MKVM_RCX];
	u64 data;
	int r;

	vcpu->stat.msr_exits++;
	if (!mkvm_msr_allowed(vcpu, index, KVM_MSR_FILTER_READ)) {
		trace_kvm_msr(0, index, 0, true);
		return mkvm_msr_refused(vcpu, index, 0, true,
					KVM_MSR_EXIT_REASON_FILTER);
	}
	r = mkvm_get_msr(vcpu, index, &data, false);
	if (r) {
		trace_kvm_msr(0, index, 0, true);
		return mkvm_msr_refused(vcpu, index, 0, true,
					mkvm_msr_exit_reason(r));
	}
	trace_kvm_msr(0, vcpu->regs[MKVM_RCX], data, false);
	vcpu->regs[MKVM_RAX] = (u32)data;
	vcpu->regs[MKVM_RDX] = data >> 32;
	mkvm_skip_insn(vcpu);
	return 1;
}

int mkvm_emulate_wrmsr(struct mkvm_vcpu *vcpu)
{
	u64 data = (u32)vcpu->regs[MKVM_RAX] |
		   ((u64)(u32)vcpu->regs[MKVM_RDX] << 32);
	u32 index = vcpu->regs[MKVM_RCX];
	int r;

	vcpu->stat.msr_exits++;
	if (!mkvm_msr_allowed(vcpu, index, KVM_MSR_FILTER_WRITE)) {
		trace_kvm_msr(1, index, data, true);
		return mkvm_msr_refused(vcpu, index, data, false,
					KVM_MSR_EXIT_REASON_FILTER);
	}
	r = mkvm_set_msr(vcpu, index, data, false);
	if (r) {
		trace_kvm_msr(1, index, data, true);
		return mkvm_msr_refused(vcpu, index, data, false,
					mkvm_msr_exit_reason(r));
	}
	trace_kvm_msr(1, vcpu->regs[MKVM_RCX], data, false);
	mkvm_skip_insn(vcpu);
	return 1;
}

/**
 * mkvm_copy_msr_list() - answer a KVM_GET_MSR_INDEX_LIST-style call with
 * the @n indexes of @list.
 *
 * Return: 0; or -E2BIG with nmsrs set to the number needed, as KVM.
 */
int mkvm_copy_msr_list(struct kvm_msr_list __user *ul, const u32 *list,
		       u32 n)
{
	struct kvm_msr_list l;

	if (copy_from_user(&l, ul, sizeof(l)))
		return -EFAULT;
	if (put_user(n, &ul->nmsrs))
		return -EFAULT;
	if (l.nmsrs < n)
		return -E2BIG;
	if (copy_to_user(ul->indices, list, n * sizeof(*list)))
		return -EFAULT;
	return 0;
}

/* KVM_GET_MSR_INDEX_LIST on /dev/kvm: the MSRs KVM_GET/SET_MSRS know. */
int mkvm_get_msr_index_list(struct kvm_msr_list __user *ul)
{
	/* MSR_IA32_SMBASE, the last, only where SMM works (smm.c). */
	return mkvm_copy_msr_list(ul, mkvm_msr_list, ARRAY_SIZE(mkvm_msr_list) -
				  !mkvm_ops->has_smm);
}

#define MKVM_MAX_MSR_ENTRIES	256

/**
 * mkvm_msrs_ioctl() - KVM_GET_MSRS / KVM_SET_MSRS on a vCPU fd.
 *
 * Return: the number of MSRs read or written; it stops at the first one
 * that fails, as KVM does. -E2BIG for too many entries.
 */
int mkvm_msrs_ioctl(struct mkvm_vcpu *vcpu, struct kvm_msrs __user *um,
		    bool set)
{
	struct kvm_msr_entry *e;
	struct kvm_msrs m;
	size_t size;
	int i, r, idx;

	if (copy_from_user(&m, um, sizeof(m)))
		return -EFAULT;
	if (m.nmsrs >= MKVM_MAX_MSR_ENTRIES)
		return -E2BIG;
	size = m.nmsrs * sizeof(*e);
	e = memdup_user(um->entries, size);
	if (IS_ERR(e))
		return PTR_ERR(e);

	/* The slots: a kvmclock MSR write fills guest memory (kvmclock.c). */
	idx = srcu_read_lock(&vcpu->vm->srcu);
	for (i = 0; i < m.nmsrs; i++) {
		if (set ? mkvm_set_msr(vcpu, e[i].index, e[i].data, true) :
			  mkvm_get_msr(vcpu, e[i].index, &e[i].data, true))
			break;
	}
	srcu_read_unlock(&vcpu->vm->srcu, idx);
	r = i;
	if (!set && copy_to_user(um->entries, e, size))
		r = -EFAULT;
	kfree(e);
	return r;
}
