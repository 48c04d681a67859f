/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * SVM backend: private state shared by svm.c and npt.c. The core never
 * includes this file (STYLE.md 2); it reaches it through vm->vendor and
 * vcpu->vendor.
 */
#ifndef MINIKVM_SVM_SVM_H
#define MINIKVM_SVM_SVM_H

#include "minikvm.h"
#include "vmcb.h"

/* What CPUID 8000_000Ah says this CPU can do (APM Vol.3 E.4.9). */
struct svm_caps {
	u32 nr_asids;		/* EBX: ASIDs 0 (host) .. nr_asids - 1 */
	bool nrips;		/* EDX bit 3: VMCB next_rip is filled in */
	bool flush_by_asid;	/* EDX bit 6: TLB_CONTROL 3 and 7 work */
	bool decode_assists;	/* EDX bit 7: instruction bytes, MOV CR/DR GPR */
};
extern struct svm_caps svm_caps;

/**
 * struct svm_vm - per-VM SVM state (vm->vendor).
 * @asid:	address space ID tagging this VM's TLB entries (15.16)
 * @pml5:	one-entry top level over each of the core's NPT roots (one
 *		per address space, tdp.c), 5-level hosts only
 * @pml5_pa:	their physical addresses
 */
struct svm_vm {
	u32 asid;
	bool asid_shared;	/* borrowed, not owned: see svm_vm_init() */
	u64 *pml5[MKVM_NR_AS];
	phys_addr_t pml5_pa[MKVM_NR_AS];
};

/**
 * struct vcpu_svm - per-vCPU SVM state (vcpu->vendor).
 * @vmcb:	the VMCB page (vmcb.h)
 * @vmcb_pa:	its physical address, what VMRUN/VMLOAD/VMSAVE take in RAX
 * @uid:	never reused, unlike a pointer: tells whether the last vCPU
 *		that ran on a CPU was this one (see svm_prepare_tlb())
 * @flush_tlb:	flush this VM's ASID at the next VMRUN
 * @db:		guest DR0-DR3, loaded into the CPU around VMRUN when needed
 * @dr7:	guest DR7 (the VMCB's is mkvm_hw_dr7() of it), see svm_handle_dr()
 * @tsc_aux:	guest MSR_TSC_AUX, loaded around VMRUN for RDTSCP/RDPID
 * @pkru:	guest PKRU, loaded around VMRUN on hosts that use PKU
 */
struct vcpu_svm {
	struct vmcb *vmcb;
	phys_addr_t vmcb_pa;
	u64 uid;
	bool flush_tlb;
	unsigned long db[4];
	unsigned long dr7;
	u64 tsc_aux;
	u32 pkru;
	/*
	 * While the VMM owns #DB (guest debugging: single step, hardware
	 * breakpoints) the guest runs with a clean DR6 so each exit shows
	 * only its own bits (debug_dr6); its own DR6 waits in guest_dr6.
	 */
	u64 guest_dr6;
	u64 debug_dr6;
	/* vcpu->event (an interrupt) went in as V_IRQ at this VMRUN. */
	bool virq_posted;
	/*
	 * NMI blocking, which the VMCB does not keep (events.c): an NMI
	 * handler runs; its IRET exited at iret_rip but has not run yet;
	 * the guest steps one instruction towards an NMI window, and
	 * whether RFLAGS.TF was the guest's own then.
	 */
	bool nmi_masked;
	bool awaiting_iret;
	bool nmi_singlestep;
	bool singlestep_guest_tf;
	u64 iret_rip;
};

static inline struct vcpu_svm *to_svm(struct mkvm_vcpu *vcpu)
{
	return vcpu->vendor;
}

/* npt.c */
u64 svm_tdp_pte(phys_addr_t pa, bool leaf, bool write, bool exec);
bool svm_tdp_present(u64 pte);
phys_addr_t svm_npt_root(struct mkvm *vm, phys_addr_t root);
void svm_set_tdp_root(struct mkvm_vcpu *vcpu, phys_addr_t root);

/* events.c: NMIs, interrupt shadow, debug registers */
bool svm_get_nmi_mask(struct mkvm_vcpu *vcpu);
void svm_set_nmi_mask(struct mkvm_vcpu *vcpu, bool masked);
bool svm_nmi_allowed(struct mkvm_vcpu *vcpu);
void svm_enable_nmi_window(struct mkvm_vcpu *vcpu);
void svm_inject_nmi(struct mkvm_vcpu *vcpu, struct vmcb *vmcb);
void svm_nmi_before_entry(struct mkvm_vcpu *vcpu, struct vmcb *vmcb);
void svm_nmi_after_exit(struct mkvm_vcpu *vcpu, struct vmcb *vmcb);
int svm_handle_iret(struct mkvm_vcpu *vcpu);
bool svm_nmi_step_done(struct mkvm_vcpu *vcpu);
u32 svm_get_interrupt_shadow(struct mkvm_vcpu *vcpu);
void svm_set_interrupt_shadow(struct mkvm_vcpu *vcpu, u32 shadow);
void svm_get_debugregs(struct mkvm_vcpu *vcpu, struct kvm_debugregs *d);
void svm_set_debugregs(struct mkvm_vcpu *vcpu, const struct kvm_debugregs *d);

/* vmenter.S: the world switch. */
void __svm_vcpu_run(unsigned long *regs, u64 vmcb_pa, u64 host_save_pa);

#endif /* MINIKVM_SVM_SVM_H */
