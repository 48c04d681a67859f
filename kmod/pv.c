// SPDX-License-Identifier: GPL-2.0-only
/*
 * minikvm: the paravirtual interface: hypercalls and which PV features
 * a guest may use.
 *
 * A guest that knows it runs on KVM (CPUID 0x40000000 says "KVMKVMKVM",
 * cpuid.c) asks 0x40000001 EAX which PV features exist, and calls the
 * hypervisor with VMCALL (Intel) or VMMCALL (AMD): RAX = number, RBX,
 * RCX, RDX, RSI = arguments, result in RAX (Documentation/virt/kvm/
 * x86/hypercalls.rst in Linux). minikvm implements few:
 *   KVM_HC_VAPIC_POLL_IRQ   0: nothing to do, interrupts are looked at
 *                           before every entry anyway
 *   KVM_HC_SCHED_YIELD      0: give the host CPU away (the caller waits
 *                           for a vCPU that is not running)
 *   anything else           -KVM_ENOSYS
 * and, at CPL > 0, -KVM_EPERM, as KVM.
 *
 * KVM_CAP_ENFORCE_PV_FEATURE_CPUID: without it, a guest may use every PV
 * feature minikvm has whatever its CPUID says (KVM's default); with it,
 * only those in the CPUID the VMM set. The PV MSRs of the others #GP and
 * their hypercalls return -KVM_ENOSYS.
 */
#define pr_fmt(fmt) "minikvm: " fmt

#include <linux/kvm_para.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <asm/kvm_para.h>
#include <asm/msr-index.h>

#include "minikvm.h"

/*
 * 0x40000001 EAX of the guest's CPUID: the KVM leaves start at the
 * first 0x40000x00 leaf that carries the signature (a VMM may put
 * Hyper-V's leaves first, then KVM's at 0x40000100).
 */
static u32 mkvm_guest_pv_features(struct mkvm_vcpu *vcpu)
{
	static const char sig[12] = "KVMKVMKVM\0\0\0";
	const struct kvm_cpuid_entry2 *e;
	u32 base;

	for (base = KVM_CPUID_SIGNATURE; base < 0x40010000; base += 0x100) {
		e = mkvm_find_cpuid(vcpu, base, 0);
		if (!e)
			continue;
		if (memcmp(&e->ebx, sig, 4) || memcmp(&e->ecx, sig + 4, 4) ||
		    memcmp(&e->edx, sig + 8, 4))
			continue;
		if (e->eax < (base | KVM_CPUID_FEATURES))
			return 0;
		e = mkvm_find_cpuid(vcpu, base | KVM_CPUID_FEATURES, 0);
		return e ? e->eax : 0;
	}
	return 0;
}

/* May the guest use PV feature @bit (KVM_FEATURE_*)? */
static bool mkvm_pv_has(struct mkvm_vcpu *vcpu, int bit)
{
	return !vcpu->pv_enforce || (mkvm_guest_pv_features(vcpu) & BIT(bit));
}

/* The kvmclock MSRs need their feature bit when enforcement is on. */
bool mkvm_pv_msr_allowed(struct mkvm_vcpu *vcpu, u32 index)
{
	switch (index) {
	case MSR_KVM_WALL_CLOCK:
	case MSR_KVM_SYSTEM_TIME:
		return mkvm_pv_has(vcpu, KVM_FEATURE_CLOCKSOURCE);
	case MSR_KVM_WALL_CLOCK_NEW:
	case MSR_KVM_SYSTEM_TIME_NEW:
		return mkvm_pv_has(vcpu, KVM_FEATURE_CLOCKSOURCE2);
	default:
		return true;
	}
}

/* In 64-bit mode (EFER.LMA and CS.L) a hypercall uses whole registers. */
static bool mkvm_hypercall_64bit(struct mkvm_vcpu *vcpu)
{
	struct kvm_segment cs;

	if (!(vcpu->efer & MKVM_EFER_LMA))
		return false;
	mkvm_ops->get_segment(vcpu, &cs, MKVM_CS);
	return cs.l;
}

static long mkvm_do_hypercall(struct mkvm_vcpu *vcpu, unsigned long nr)
{
	if (mkvm_ops->get_cpl(vcpu) != 0)
		return -KVM_EPERM;
	switch (nr) {
	case KVM_HC_VAPIC_POLL_IRQ:
		return 0;
	case KVM_HC_SCHED_YIELD:
		if (!mkvm_pv_has(vcpu, KVM_FEATURE_PV_SCHED_YIELD))
			return -KVM_ENOSYS;
		yield();
		return 0;
	default:
		return -KVM_ENOSYS;
	}
}

/**
 * mkvm_emulate_hypercall() - a VMCALL (VMX) or VMMCALL (SVM) exit.
 *
 * The vendor has set vcpu->exit_insn_len. Outside 64-bit mode the number
 * and the result are 32 bits wide.
 */
int mkvm_emulate_hypercall(struct mkvm_vcpu *vcpu)
{
	bool op64 = mkvm_hypercall_64bit(vcpu);
	unsigned long nr = vcpu->regs[MKVM_RAX];
	long ret;

	if (!op64)
		nr = (u32)nr;
	ret = mkvm_do_hypercall(vcpu, nr);
	vcpu->regs[MKVM_RAX] = op64 ? (unsigned long)ret : (u32)ret;
	mkvm_skip_insn(vcpu);
	return 1;
}

/*
 * The guest's linear address of RIP. Outside 64-bit mode the CS base
 * counts and the address wraps at 4 GiB.
 */
u64 mkvm_rip_linear(struct mkvm_vcpu *vcpu)
{
	struct kvm_segment cs;

	mkvm_ops->get_segment(vcpu, &cs, MKVM_CS);
	if ((vcpu->efer & MKVM_EFER_LMA) && cs.l)
		return vcpu->rip;
	return (u32)(cs.base + vcpu->rip);
}

/*
 * Is the instruction at @lin RSM (0F AA), after any legacy prefixes (and a
 * REX prefix in 64-bit code) (SDM Vol.2 2.1.1, 2.2.1)? The prefixes change
 * nothing for RSM; LOCK would make it #UD, so it is not skipped. Read
 * within the page, at most 15 bytes (the longest instruction).
 */
static bool mkvm_insn_is_rsm(struct mkvm_vcpu *vcpu, u64 lin)
{
	int n = min_t(int, 15, PAGE_SIZE - offset_in_page(lin)), i;
	struct kvm_segment cs;
	bool rex_ok;
	u8 insn[15];
	u64 gpa;

	mkvm_ops->get_segment(vcpu, &cs, MKVM_CS);
	rex_ok = (vcpu->efer & MKVM_EFER_LMA) && cs.l;	/* 64-bit code */
	if (mkvm_gva_to_gpa(vcpu, lin, false, &gpa) ||
	    mkvm_read_guest(vcpu, gpa, insn, n))
		return false;
	for (i = 0; i < n - 1; i++) {
		switch (insn[i]) {
		case 0x26: case 0x2e: case 0x36: case 0x3e:	/* segment */
		case 0x64: case 0x65: case 0x66: case 0x67:	/* FS GS sizes */
		case 0xf2: case 0xf3:				/* REPNE REP */
			continue;
		}
		if ((insn[i] & 0xf0) == 0x40 && rex_ok)
			continue;
		return insn[i] == 0x0f && insn[i + 1] == 0xaa;
	}
	return false;
}

/**
 * mkvm_handle_ud() - the guest raised #UD (intercepted on both vendors).
 *
 * A guest kernel built for one vendor's hypercall instruction that runs
 * on the other's CPU raises #UD on it (VMCALL on AMD, VMMCALL on Intel),
 * for instance after live migration. With the FIX_HYPERCALL_INSN quirk
 * (on by default, as in KVM) the instruction is rewritten in guest memory
 * into this CPU's, and the guest re-executes it. Any other #UD, or with
 * the quirk off, goes to the guest as it came. RSM in the guest's SMM
 * also arrives here on VMX (smm.c).
 */
int mkvm_handle_ud(struct mkvm_vcpu *vcpu)
{
	const u8 *native = mkvm_ops->hypercall_insn;
	const u8 *other = mkvm_ops->other_hypercall_insn;
	u64 lin = mkvm_rip_linear(vcpu), gpa;
	u8 insn[3];

	/*
	 * RSM (0F AA) in the guest's SMM: the real CPU is not in SMM, so
	 * RSM raised #UD (VMX non-root; SVM intercepts RSM itself). The
	 * core carries it out (smm.c).
	 */
	if (vcpu->in_smm && mkvm_insn_is_rsm(vcpu, lin))
		return mkvm_emulate_rsm(vcpu);

	if (!mkvm_has_quirk(vcpu->vm, KVM_X86_QUIRK_FIX_HYPERCALL_INSN))
		goto inject;
	/* Both the read and the write stay within one page. */
	if (offset_in_page(lin) > PAGE_SIZE - sizeof(insn))
		goto inject;
	/*
	 * Translated as the fetch was; the write goes to guest memory as
	 * the hypervisor's, whatever the guest's page protections say.
	 */
	if (mkvm_gva_to_gpa(vcpu, lin, false, &gpa) ||
	    mkvm_read_guest(vcpu, gpa, insn, sizeof(insn)) ||
	    memcmp(insn, other, sizeof(insn)))
		goto inject;
	if (mkvm_write_guest(vcpu, gpa, native, sizeof(insn)))
		goto inject;
	return 1;	/* RIP unchanged: the guest runs the new instruction */
inject:
	mkvm_queue_exception(vcpu, MKVM_UD_VECTOR, false, 0);
	return 1;
}
