// SPDX-License-Identifier: GPL-2.0-only
/*
 * minikvm: the machine-check architecture of a vCPU (KVM_CAP_MCE).
 *
 * A real CPU reports hardware errors (a bad memory cell, a bus error)
 * through banks of MSRs and, for errors it cannot correct, the #MC
 * exception (SDM Vol.3 chapter 15, APM Vol.2 9.3). A guest sees all of
 * it as data: the hypervisor only keeps the registers, and the VMM may
 * inject an error of its own making (KVM_X86_SET_MCE), e.g. when the host
 * found a poisoned page that backs guest memory.
 *
 * QEMU relies on this whenever the guest's CPUID shows MCE and MCA (its
 * default CPU models do): it sizes the banks with KVM_X86_SETUP_MCE and
 * then saves and restores every bank MSR with the rest of the vCPU.
 *
 * The registers (15.3):
 *   MCG_CAP      read-only: bank count (7:0), MCG_CTL_P (8), MCG_SER_P (24)
 *   MCG_STATUS   RIPV, EIPV, MCIP: the state of the current #MC
 *   MCG_CTL      with MCG_CTL_P: 0 or all ones, reporting on or off
 *   MCi_CTL, MCi_STATUS, MCi_ADDR, MCi_MISC   four MSRs per bank,
 *                from 0x400 on (0x400 + 4 * i + n)
 */
#include <linux/uaccess.h>
#include <asm/mce.h>
#include <asm/msr-index.h>

#include "minikvm.h"

/* What a VMM may ask for: MCG_CTL present, software error recovery. */
#define MKVM_MCE_CAP_SUPPORTED	(MCG_CTL_P | MCG_SER_P)

/* Of MCG_CAP, the bits KVM_X86_SETUP_MCE takes: the above, bank count,
 * and the extended-register count (23:16), which we keep but ignore. */
#define MKVM_MCG_CAP_SETTABLE	(MKVM_MCE_CAP_SUPPORTED | 0xff | 0xff0000)

#define MKVM_MC_VECTOR		18

/* A vCPU starts as KVM's do: all banks, no MCG_CTL, until SETUP_MCE. */
void mkvm_mce_reset(struct mkvm_vcpu *vcpu)
{
	memset(&vcpu->mce, 0, sizeof(vcpu->mce));
	vcpu->mce.mcg_cap = MKVM_MAX_MCE_BANKS;
}

/* An AMD (or Hygon) guest with HWCR.McStatusWrEn may write MCi_STATUS. */
static bool mkvm_mce_status_writable(struct mkvm_vcpu *vcpu)
{
	const struct kvm_cpuid_entry2 *e = mkvm_find_cpuid(vcpu, 0, 0);

	/* "Auth"enticAMD, "Hygo"nGenuine */
	if (!e || (e->ebx != 0x68747541 && e->ebx != 0x6f677948))
		return false;
	return vcpu->msr_hwcr & MKVM_HWCR_MCSTATUSWREN;
}

/* The bank MSRs @index may name: from 0x400, four per bank. */
static u64 *mkvm_mce_bank_msr(struct mkvm_vcpu *vcpu, u32 index)
{
	u32 nr = (vcpu->mce.mcg_cap & 0xff) * 4;

	if (index < MSR_IA32_MC0_CTL || index - MSR_IA32_MC0_CTL >= nr)
		return NULL;
	return &vcpu->mce.banks[index - MSR_IA32_MC0_CTL];
}

/**
 * mkvm_mce_get_msr() - read a machine-check MSR.
 * Return: 0, or -ENOENT if @index is none of them (or a bank we lack).
 */
int mkvm_mce_get_msr(struct mkvm_vcpu *vcpu, u32 index, u64 *data, bool host)
{
	u64 *bank;

	switch (index) {
	case MSR_IA32_P5_MC_ADDR:	/* the Pentium's: read as 0, as KVM */
	case MSR_IA32_P5_MC_TYPE:
		*data = 0;
		return 0;
	case MSR_IA32_MCG_CAP:
		*data = vcpu->mce.mcg_cap;
		return 0;
	case MSR_IA32_MCG_STATUS:
		*data = vcpu->mce.mcg_status;
		return 0;
	case MSR_IA32_MCG_CTL:
		if (!(vcpu->mce.mcg_cap & MCG_CTL_P) && !host)
			return -ENOENT;
		*data = vcpu->mce.mcg_ctl;
		return 0;
	}
	bank = mkvm_mce_bank_msr(vcpu, index);
	if (!bank)
		return -ENOENT;
	*data = *bank;
	return 0;
}

/**
 * mkvm_mce_set_msr() - write a machine-check MSR.
 * Return: 0, -EINVAL for a value the CPU refuses (#GP for the guest),
 * -ENOENT if @index is none of them.
 */
int mkvm_mce_set_msr(struct mkvm_vcpu *vcpu, u32 index, u64 data, bool host)
{
	u32 n = index - MSR_IA32_MC0_CTL;
	u64 *bank;

	switch (index) {
	case MSR_IA32_MCG_CAP:
		return -EINVAL;		/* read-only (15.3.1.1) */
	case MSR_IA32_MCG_STATUS:
		vcpu->mce.mcg_status = data;
		return 0;
	case MSR_IA32_MCG_CTL:
		/* Only with MCG_CTL_P; a VMM may still clear it (KVM). */
		if (!(vcpu->mce.mcg_cap & MCG_CTL_P) && (data || !host))
			return -EINVAL;
		if (data != 0 && data != ~0ULL)
			return -EINVAL;
		vcpu->mce.mcg_ctl = data;
		return 0;
	}
	bank = mkvm_mce_bank_msr(vcpu, index);
	if (!bank)
		return -ENOENT;
	/*
	 * MCi_CTL: 0 or all ones (15.3.2.1). Linux clears bit 10 of bank 4
	 * on AMD K8 (a GART erratum), other kernels bit 0: allowed, as by
	 * KVM, so that such a guest does not die of a #GP here.
	 */
	if (n % 4 == 0 && data && (data | BIT_ULL(10) | 1) != ~0ULL)
		return -EINVAL;
	/*
	 * MCi_STATUS: software may only clear it (15.3.2.2), except on AMD
	 * with HWCR.McStatusWrEn, for an AMD guest (KVM can_set_mci_status()).
	 */
	if (n % 4 == 1 && data && !host && !mkvm_mce_status_writable(vcpu))
		return -EINVAL;
	*bank = data;
	return 0;
}

/* KVM_X86_SETUP_MCE: how many banks, and which MCG_CAP features. */
static int mkvm_mce_setup(struct mkvm_vcpu *vcpu, u64 __user *argp)
{
	u64 cap;
	int i, banks;

	if (copy_from_user(&cap, argp, sizeof(cap)))
		return -EFAULT;
	banks = cap & 0xff;
	if (!banks || banks > MKVM_MAX_MCE_BANKS)
		return -EINVAL;
	if (cap & ~MKVM_MCG_CAP_SETTABLE)
		return -EINVAL;
	vcpu->mce.mcg_cap = cap & mkvm_ops->mcg_cap_mask;
	if (cap & MCG_CTL_P)
		vcpu->mce.mcg_ctl = ~0ULL;
	for (i = 0; i < banks; i++)
		vcpu->mce.banks[4 * i] = ~0ULL;	/* every error reported */
	return 0;
}

/*
 * KVM_X86_SET_MCE: the VMM reports an error in bank mce->bank, as the
 * hardware would (15.9, 15.10). A corrected error is only logged in the
 * bank. An uncorrected one, if reporting is on, raises #MC; during
 * another #MC (MCG_STATUS.MCIP) or with CR4.MCE clear the processor
 * shuts down instead (15.10.1).
 */
static int mkvm_mce_inject(struct mkvm_vcpu *vcpu, void __user *argp)
{
	struct kvm_x86_mce m;
	u64 *bank;
	int nr = vcpu->mce.mcg_cap & 0xff;

	if (copy_from_user(&m, argp, sizeof(m)))
		return -EFAULT;
	if (m.bank >= nr || !(m.status & MCI_STATUS_VAL))
		return -EINVAL;
	bank = &vcpu->mce.banks[4 * m.bank];	/* CTL, STATUS, ADDR, MISC */

	/*
	 * UCNA, uncorrected but no action required (SDM 15.6): no PCC, S or
	 * AR and MCG_STATUS 0. Logged like a corrected error, no #MC.
	 */
	if ((m.status & MCI_STATUS_UC) && !m.mcg_status &&
	    !(m.status & (MCI_STATUS_PCC | MCI_STATUS_S | MCI_STATUS_AR))) {
		bank[1] = m.status;
		bank[2] = m.addr;
		bank[3] = m.misc;
		vcpu->mce.mcg_status = 0;
		return 0;
	}

	if (!(m.status & MCI_STATUS_UC)) {
		if (bank[1] & MCI_STATUS_VAL) {
			if (bank[1] & MCI_STATUS_UC) {
				/* Keep the worse error: just flag the loss. */
				bank[1] |= MCI_STATUS_OVER;
				return 0;
			}
			m.status |= MCI_STATUS_OVER;
		}
		bank[1] = m.status;
		bank[2] = m.addr;
		bank[3] = m.misc;
		return 0;
	}
	/* Uncorrected, but reporting switched off globally or for the bank. */
	if ((vcpu->mce.mcg_cap & MCG_CTL_P) && vcpu->mce.mcg_ctl != ~0ULL)
		return 0;
	if (bank[0] != ~0ULL)
		return 0;
	if ((vcpu->mce.mcg_status & MCG_STATUS_MCIP) ||
	    !(mkvm_ops->get_cr(vcpu, 4) & X86_CR4_MCE)) {
		set_bit(MKVM_REQ_SHUTDOWN, &vcpu->requests);
		return 0;
	}
	if (bank[1] & MCI_STATUS_VAL)
		m.status |= MCI_STATUS_OVER;
	bank[1] = m.status;
	bank[2] = m.addr;
	bank[3] = m.misc;
	vcpu->mce.mcg_status = m.mcg_status;
	/*
	 * An interrupt whose delivery an exit cut short waits in the event
	 * slot; the #MC goes first, the interrupt back to the queue.
	 */
	if (vcpu->event.pending && vcpu->event.is_irq) {
		if (vcpu->queued_irq >= 0)
			return -EBUSY;
		vcpu->queued_irq = vcpu->event.vector;
		vcpu->event.pending = false;
	}
	mkvm_queue_exception(vcpu, MKVM_MC_VECTOR, false, 0);
	return 0;
}

/* The vCPU ioctls of KVM_CAP_MCE. */
long mkvm_mce_ioctl(struct mkvm_vcpu *vcpu, unsigned int ioctl,
		    void __user *argp)
{
	if (ioctl == KVM_X86_SETUP_MCE)
		return mkvm_mce_setup(vcpu, argp);
	return mkvm_mce_inject(vcpu, argp);
}

/* KVM_X86_GET_MCE_CAP_SUPPORTED on /dev/kvm. */
int mkvm_mce_get_supported(u64 __user *argp)
{
	u64 cap = MKVM_MCE_CAP_SUPPORTED;

	return copy_to_user(argp, &cap, sizeof(cap)) ? -EFAULT : 0;
}
