/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * State private to the Intel VMX backend, shared by vmx.c (lifecycle and
 * the entry path), state.c (guest registers), exit.c (exit handlers) and
 * ept.c. The core never includes this file (STYLE.md 2).
 */
#ifndef MKVM_VMX_VMX_H
#define MKVM_VMX_VMX_H

/* What vmx_vmenter() returns (vmenter.S includes this part). */
#define VMX_ENTER_EXIT		0	/* VM exit, or VM-entry failure exit */
#define VMX_ENTER_FAIL_INVALID	1	/* VMfailInvalid (or VMX off: a fault) */
#define VMX_ENTER_FAIL_VALID	2	/* VMfailValid */

#ifndef __ASSEMBLY__

#include <linux/list.h>
#include <linux/printk.h>
#include <asm/asm.h>
#include <asm/desc_defs.h>

#include "minikvm.h"
#include "vmcs.h"

/*
 * What this CPU's VMX supports and what minikvm will use, computed once by
 * the probe from the capability MSRs (SDM appendix A).
 */
struct vmx_config {
	u32 revision_id;	/* goes in every VMXON region and VMCS */
	bool inout_info;	/* INS/OUTS exits report instruction info */
	u32 pin;		/* control values every vCPU starts from */
	u32 proc;
	u32 proc2;
	u32 exit;
	u32 entry;
	u32 proc_may;		/* primary controls that may be 1 */
	u64 cr0_fixed0, cr0_fixed1;	/* A.7: bits that must be 1 / may be 1 */
	u64 cr4_fixed0, cr4_fixed1;	/* A.8 */
	u64 cr4_guest_ok;	/* CR4 bits a guest may set */
	u64 ept_vpid_cap;	/* A.10 */
	int invept_type;	/* single- or all-context */
	int invvpid_type;	/* 0 if VPIDs are not used */
	u32 preempt_quantum;	/* VMX-preemption timer units in 1 ms; 0: none */
};
extern struct vmx_config vmx_cfg;

/*
 * Guest MSRs the guest can change without an exit, or that only matter
 * in the guest: they are switched by the processor on every entry and
 * exit through the MSR-load/store areas (SDM 25.7.2, 25.8.2). Entry 0,
 * IA32_KERNEL_GS_BASE, is also stored on exit, because SWAPGS changes it
 * without an exit; the others only change through WRMSR, which exits.
 */
enum vmx_switched_msr {
	VMX_MSR_KERNEL_GS_BASE,
	VMX_MSR_STAR,
	VMX_MSR_LSTAR,
	VMX_MSR_CSTAR,
	VMX_MSR_SFMASK,
	VMX_NR_SWITCHED_MSRS
};

/* How the last entry attempt ended, besides a normal VM exit. */
enum vmx_fail {
	VMX_ENTERED,		/* a VM exit happened: see exit_reason */
	VMX_FAIL_INVALID,	/* VMfailInvalid: no current VMCS */
	VMX_FAIL_VALID,		/* VMfailValid: see fail_code */
};

/**
 * struct vcpu_vmx - one vCPU's VMX state, at mkvm_vcpu->vendor.
 * @vcpu:	the core vCPU
 * @vmcs:	the VMCS region (one page)
 * @loaded_cpu:	CPU on which the VMCS is active, -1 if clear everywhere
 * @loaded_link: entry in that CPU's list of active VMCSs
 * @launched:	launch state: VMRESUME rather than VMLAUNCH
 * @vpid:	virtual-processor identifier tagging the guest's TLB entries
 * @msr_guest:	VM-entry MSR-load area (guest values), also the exit store
 * @msr_host:	VM-exit MSR-load area (host values)
 * @pin, @proc, @proc2, @entry: current control values (some bits toggle)
 * @cr0, @cr4:	the guest's view of CR0/CR4 (the read shadows)
 * @cr8:	the guest's TPR, kept in software (CR8 accesses exit)
 * @dr:		guest DR0-3, DR6, DR7, kept in software (MOV DR exits)
 * @hw_dr7:	the DR7 in the VMCS (vmx_write_dr7())
 * @eptp:	EPT pointer last written to the VMCS
 * @need_invept: flush EPT-derived translations before the next entry
 * @need_invvpid: flush the guest's linear translations (VPID)
 * @exit_reason, @exit_qual, @exit_intr_info: the last exit
 * @exit_rip:	guest RIP at the last exit, to spot emulated instructions
 * @vmcs_rsp, @vmcs_rflags: guest RSP and RFLAGS as the VMCS holds them
 * @host:	the thread's selectors and bases that VM exits clobber
 * @host_saved:	@host holds them and the CPU may not: restore at vcpu_put
 * @fail, @fail_code: how the last entry attempt failed, if it did
 */
/*
 * Host state a VM exit clobbers and does not restore (SDM Vol.3 28.5):
 * the user-visible selectors and bases of the vCPU thread.
 */
struct vmx_host_regs {
	u16 ds, es, fs, gs;
	u16 ldt;			/* LDTR selector (0: no LDT) */
	unsigned long fs_base;
	unsigned long kernel_gs_base;	/* the thread's user GS base */
};

struct vcpu_vmx {
	struct mkvm_vcpu *vcpu;
	struct vmcs_hdr *vmcs;
	int loaded_cpu;
	struct list_head loaded_link;
	bool launched;
	/*
	 * NMIs are known not to be blocked (vmx/events.c): set when the core
	 * unblocks them, cleared when an NMI goes in. Meanwhile the VMCS's
	 * "blocking by NMI" bit is not read, as KVM's nmi_known_unmasked.
	 */
	bool nmi_known_unmasked;
	u16 vpid;

	struct vmx_msr_entry *msr_guest;
	struct vmx_msr_entry *msr_host;

	u32 pin, proc, proc2, entry;

	u64 cr0, cr4;
	u8 cr8;
	unsigned long dr[4], dr6, dr7;
	unsigned long hw_dr7;

	u64 eptp;
	bool need_invept;
	bool need_invvpid;

	/* Values last written to the VMCS, to skip redundant VMWRITEs. */
	u64 tsc_offset;
	u64 pat;
	unsigned long host_cr3, host_cr4, host_fs_base;
	struct desc_ptr host_gdt;	/* GDTR of loaded_cpu; exits set limit 0xffff */
	u64 host_debugctl;		/* the thread's, cleared by exits */
	struct vmx_host_regs host;
	bool host_saved;

	u32 exit_reason;
	unsigned long exit_qual;
	u32 exit_intr_info;
	unsigned long exit_rip;
	unsigned long vmcs_rsp, vmcs_rflags;
	enum vmx_fail fail;
	u32 fail_code;
};

/* Debug registers after RESET (SDM Vol.3A "Debug Registers"). */
/*
 * vmx_insn(INSN, inputs...): run one VMX instruction, true if it succeeded.
 * It fails with CF or ZF set (VMfailInvalid / VMfailValid, SDM Vol.3
 * 31.2), or by faulting (#UD once VMX is off, e.g. after the emergency
 * VMXOFF at reboot): the exception-table entry then resumes after it with
 * the result still "failed". The inputs are asm operands named in INSN.
 */
#define vmx_insn(insn, ...)						\
({									\
	u8 __failed = 1;						\
									\
	asm volatile("1: " insn "\n\t"					\
		     "setna %[failed]\n"				\
		     "2:\n\t"						\
		     _ASM_EXTABLE(1b, 2b)				\
		     : [failed] "+q" (__failed)				\
		     : __VA_ARGS__					\
		     : "cc", "memory");					\
	!__failed;							\
})

#define VMX_DR6_RESET	0xffff0ff0ul
#define VMX_DR7_RESET	0x400ul

static inline struct vcpu_vmx *to_vmx(struct mkvm_vcpu *vcpu)
{
	return vcpu->vendor;
}

/* ------------------------------------------------------------------ */
/* VMREAD / VMWRITE                                                    */
/* ------------------------------------------------------------------ */

/*
 * VM instructions report failure in RFLAGS (SDM 31.2): CF=1 is
 * VMfailInvalid (no current VMCS), ZF=1 is VMfailValid (the reason is in
 * the VM-instruction error field). "setna" catches both. If VMX is off
 * the instruction raises #UD instead; the exception-table entry resumes
 * at 2: with @failed still 1, so a stray access never oopses the host.
 */
static __always_inline bool __vmx_vmread(unsigned long field,
					 unsigned long *value)
{
	unsigned long v = 0;
	u8 failed = 1;

	asm volatile("1: vmread %[field], %[v]\n\t"
		     "setna %[failed]\n"
		     "2:\n\t"
		     _ASM_EXTABLE(1b, 2b)
		     : [v] "+r" (v), [failed] "+q" (failed)
		     : [field] "r" (field)
		     : "cc");
	*value = v;
	return !failed;
}

static __always_inline bool __vmx_vmwrite(unsigned long field,
					  unsigned long value)
{
	u8 failed = 1;

	asm volatile("1: vmwrite %[value], %[field]\n\t"
		     "setna %[failed]\n"
		     "2:\n\t"
		     _ASM_EXTABLE(1b, 2b)
		     : [failed] "+q" (failed)
		     : [field] "r" (field), [value] "rm" (value)
		     : "cc");
	return !failed;
}

void vmx_vmread_error(unsigned long field);
void vmx_vmwrite_error(unsigned long field, unsigned long value);

/* Read a field of the current VMCS; 0 (and a log line) if that fails. */
static inline unsigned long vmcs_read(unsigned long field)
{
	unsigned long v;

	if (unlikely(!__vmx_vmread(field, &v))) {
		vmx_vmread_error(field);
		return 0;
	}
	return v;
}

static inline void vmcs_write(unsigned long field, unsigned long value)
{
	if (unlikely(!__vmx_vmwrite(field, value)))
		vmx_vmwrite_error(field, value);
}

/* Set or clear @bits of a field; no VMWRITE when they already are. */
static inline void vmcs_set_bits(unsigned long field, unsigned long bits)
{
	unsigned long v = vmcs_read(field);

	if ((v & bits) != bits)
		vmcs_write(field, v | bits);
}

static inline void vmcs_clear_bits(unsigned long field, unsigned long bits)
{
	unsigned long v = vmcs_read(field);

	if (v & bits)
		vmcs_write(field, v & ~bits);
}

/* ------------------------------------------------------------------ */
/* Shared between the files of the backend                             */
/* ------------------------------------------------------------------ */

/* vmx.c: make the VMCS current on this CPU for a while (ioctl paths). */
void vmx_vmcs_get(struct vcpu_vmx *vmx);
void vmx_vmcs_put(struct vcpu_vmx *vmx);
void vmx_set_proc_bits(struct vcpu_vmx *vmx, u32 bits, bool on);
void vmx_write_dr7(struct mkvm_vcpu *vcpu);
const char *vmx_insn_error_name(u32 err);

/* vmenter.S: the world switch; returns VMX_ENTER_*. */
asmlinkage int vmx_vmenter(unsigned long *regs, unsigned int launched);
void vmx_vmexit(void);	/* HOST_RIP: not a function, never call it */

/* state.c */
/* events.c: NMIs, interrupt shadow, debug registers */
bool vmx_get_nmi_mask(struct mkvm_vcpu *vcpu);
void vmx_set_nmi_mask(struct mkvm_vcpu *vcpu, bool masked);
bool vmx_nmi_allowed(struct mkvm_vcpu *vcpu);
void vmx_enable_nmi_window(struct mkvm_vcpu *vcpu);
int vmx_handle_nmi_window(struct mkvm_vcpu *vcpu);
void vmx_inject_nmi(struct mkvm_vcpu *vcpu);
void vmx_recover_nmi_blocking(struct mkvm_vcpu *vcpu);
u32 vmx_get_interrupt_shadow(struct mkvm_vcpu *vcpu);
void vmx_set_interrupt_shadow(struct mkvm_vcpu *vcpu, u32 shadow);
void vmx_get_debugregs(struct mkvm_vcpu *vcpu, struct kvm_debugregs *d);
void vmx_set_debugregs(struct mkvm_vcpu *vcpu, const struct kvm_debugregs *d);

void vmx_reset_guest(struct mkvm_vcpu *vcpu);
bool vmx_is_64bit_mode(struct mkvm_vcpu *vcpu);
u64 vmx_cr0_hw(u64 cr0);
int vmx_guest_set_cr0(struct mkvm_vcpu *vcpu, u64 val);
int vmx_guest_set_cr3(struct mkvm_vcpu *vcpu, u64 val);
int vmx_guest_set_cr4(struct mkvm_vcpu *vcpu, u64 val);
void vmx_get_segment(struct mkvm_vcpu *vcpu, struct kvm_segment *s, int seg);
void vmx_set_segment(struct mkvm_vcpu *vcpu, const struct kvm_segment *s,
		     int seg);
void vmx_get_dtable(struct mkvm_vcpu *vcpu, struct kvm_dtable *dt, bool idt);
void vmx_set_dtable(struct mkvm_vcpu *vcpu, const struct kvm_dtable *dt,
		    bool idt);
u64 vmx_get_cr(struct mkvm_vcpu *vcpu, int cr);
void vmx_set_cr(struct mkvm_vcpu *vcpu, int cr, u64 val);
void vmx_set_efer(struct mkvm_vcpu *vcpu, u64 efer);
int vmx_get_cpl(struct mkvm_vcpu *vcpu);
int vmx_get_msr(struct mkvm_vcpu *vcpu, u32 index, u64 *data);
int vmx_set_msr(struct mkvm_vcpu *vcpu, u32 index, u64 data);

/* exit.c */
int vmx_handle_exit(struct mkvm_vcpu *vcpu);

/* ept.c */
u64 vmx_tdp_pte(phys_addr_t pa, bool leaf, bool write, bool exec);
bool vmx_tdp_present(u64 pte);
bool vmx_tdp_writable(u64 pte);
void vmx_set_tdp_root(struct mkvm_vcpu *vcpu, phys_addr_t root);
void vmx_sync_eptp(struct mkvm_vcpu *vcpu);
void vmx_flush_tlb(struct mkvm_vcpu *vcpu);
void vmx_sync_tlb(struct vcpu_vmx *vmx);

#endif /* __ASSEMBLY__ */
#endif /* MKVM_VMX_VMX_H */
