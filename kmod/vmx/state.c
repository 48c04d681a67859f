// SPDX-License-Identifier: GPL-2.0-only
/*
 * Guest register state held in the VMCS: segments, descriptor tables,
 * control registers, EFER and the MSRs the processor switches.
 *
 * Three kinds of caller reach these functions: the core on KVM_GET/SET_
 * SREGS and MSR ioctls, the core's emulator, and exit.c when the guest
 * writes a control register. Every VMCS access here is bracketed by
 * vmx_vmcs_get/put so it works whichever CPU the caller is on; guest
 * memory is only read outside those brackets (it may sleep).
 */
#define pr_fmt(fmt) "minikvm: " fmt

#include <linux/srcu.h>
#include <asm/msr-index.h>
#include <asm/processor-flags.h>
#include <asm/processor.h>

#include "vmx.h"

/* ------------------------------------------------------------------ */
/* Segments (SDM 25.4.1)                                               */
/* ------------------------------------------------------------------ */

/*
 * The VMCS numbers segment fields ES CS SS DS FS GS LDTR TR; the core's
 * enum mkvm_seg has TR before LDTR (x86 encoding has no number for them).
 */
static unsigned int vmx_seg_index(int seg)
{
	switch (seg) {
	case MKVM_TR:
		return 7;
	case MKVM_LDTR:
		return 6;
	default:
		return seg;
	}
}

#define SEG_FIELD(first, idx)	((first) + 2 * (idx))

/* VMCS access rights (Table 25-2) -> KVM's unpacked struct kvm_segment. */
static void vmx_ar_to_segment(u32 ar, struct kvm_segment *s)
{
	s->type = ar & VMX_AR_TYPE_MASK;
	s->s = !!(ar & VMX_AR_S);
	s->dpl = (ar >> VMX_AR_DPL_SHIFT) & 3;
	s->avl = !!(ar & VMX_AR_AVL);
	s->l = !!(ar & VMX_AR_L);
	s->db = !!(ar & VMX_AR_DB);
	s->g = !!(ar & VMX_AR_G);
	s->unusable = !!(ar & VMX_AR_UNUSABLE);
	/*
	 * A usable segment is always present (27.3.1.2 checks P=1), so
	 * "present" and "usable" say the same thing; reporting them that
	 * way also tolerates VMMs that only save one of the two.
	 */
	s->present = !s->unusable;
}

static u32 vmx_segment_to_ar(const struct kvm_segment *s, int seg)
{
	u32 type = s->type & VMX_AR_TYPE_MASK;

	if (s->unusable || !s->present)
		return VMX_AR_UNUSABLE;
	/*
	 * Set the "accessed" type bit: VM entry demands it of every usable
	 * code/data segment (27.3.1.2) and the processor sets it on any
	 * real load, but some VMMs hand over reset state without it. For a
	 * TSS bit 0 is always 1 anyway (busy is bit 1: an available TSS in
	 * TR still fails the entry, as on KVM); LDT type 2 must stay 2.
	 */
	if (seg != MKVM_LDTR)
		type |= VMX_AR_TYPE_ACCESSED;
	return type | (s->s ? VMX_AR_S : 0) | ((s->dpl & 3) << VMX_AR_DPL_SHIFT) |
	       VMX_AR_P | (s->avl ? VMX_AR_AVL : 0) | (s->l ? VMX_AR_L : 0) |
	       (s->db ? VMX_AR_DB : 0) | (s->g ? VMX_AR_G : 0);
}

void vmx_get_segment(struct mkvm_vcpu *vcpu, struct kvm_segment *s, int seg)
{
	struct vcpu_vmx *vmx = to_vmx(vcpu);
	unsigned int i;

	memset(s, 0, sizeof(*s));
	if (seg < 0 || seg >= MKVM_NR_SEGS)
		return;
	i = vmx_seg_index(seg);
	vmx_vmcs_get(vmx);
	s->base = vmcs_read(SEG_FIELD(VMCS_GUEST_ES_BASE, i));
	s->limit = vmcs_read(SEG_FIELD(VMCS_GUEST_ES_LIMIT, i));
	s->selector = vmcs_read(SEG_FIELD(VMCS_GUEST_ES_SELECTOR, i));
	vmx_ar_to_segment(vmcs_read(SEG_FIELD(VMCS_GUEST_ES_AR, i)), s);
	vmx_vmcs_put(vmx);
}

void vmx_set_segment(struct mkvm_vcpu *vcpu, const struct kvm_segment *s,
		     int seg)
{
	struct vcpu_vmx *vmx = to_vmx(vcpu);
	unsigned int i;

	if (seg < 0 || seg >= MKVM_NR_SEGS)
		return;
	i = vmx_seg_index(seg);
	vmx_vmcs_get(vmx);
	vmcs_write(SEG_FIELD(VMCS_GUEST_ES_BASE, i), s->base);
	vmcs_write(SEG_FIELD(VMCS_GUEST_ES_LIMIT, i), s->limit);
	vmcs_write(SEG_FIELD(VMCS_GUEST_ES_SELECTOR, i), s->selector);
	vmcs_write(SEG_FIELD(VMCS_GUEST_ES_AR, i), vmx_segment_to_ar(s, seg));
	vmx_vmcs_put(vmx);
}

void vmx_get_dtable(struct mkvm_vcpu *vcpu, struct kvm_dtable *dt, bool idt)
{
	struct vcpu_vmx *vmx = to_vmx(vcpu);

	memset(dt, 0, sizeof(*dt));
	vmx_vmcs_get(vmx);
	dt->base = vmcs_read(idt ? VMCS_GUEST_IDTR_BASE : VMCS_GUEST_GDTR_BASE);
	dt->limit = vmcs_read(idt ? VMCS_GUEST_IDTR_LIMIT :
			      VMCS_GUEST_GDTR_LIMIT);
	vmx_vmcs_put(vmx);
}

void vmx_set_dtable(struct mkvm_vcpu *vcpu, const struct kvm_dtable *dt,
		    bool idt)
{
	struct vcpu_vmx *vmx = to_vmx(vcpu);

	vmx_vmcs_get(vmx);
	vmcs_write(idt ? VMCS_GUEST_IDTR_BASE : VMCS_GUEST_GDTR_BASE, dt->base);
	vmcs_write(idt ? VMCS_GUEST_IDTR_LIMIT : VMCS_GUEST_GDTR_LIMIT,
		   dt->limit);
	vmx_vmcs_put(vmx);
}

int vmx_get_cpl(struct mkvm_vcpu *vcpu)
{
	struct vcpu_vmx *vmx = to_vmx(vcpu);
	u32 ar;

	/* CPL is SS.DPL (27.3.1.2 keeps them equal; 0 in real mode). */
	vmx_vmcs_get(vmx);
	ar = vmcs_read(VMCS_GUEST_SS_AR);
	vmx_vmcs_put(vmx);
	return (ar >> VMX_AR_DPL_SHIFT) & 3;
}

bool vmx_is_64bit_mode(struct mkvm_vcpu *vcpu)
{
	struct vcpu_vmx *vmx = to_vmx(vcpu);
	u32 ar;

	if (!(vcpu->efer & EFER_LMA))
		return false;
	vmx_vmcs_get(vmx);
	ar = vmcs_read(VMCS_GUEST_CS_AR);
	vmx_vmcs_put(vmx);
	return ar & VMX_AR_L;
}

/* ------------------------------------------------------------------ */
/* EFER and the switch to long mode (SDM 27.3.1.1, 25.8.1)             */
/* ------------------------------------------------------------------ */

/*
 * EFER.LMA says "long mode is active"; in the VMCS it has a twin, the
 * "IA-32e mode guest" entry control, and the two must agree. The
 * processor sets LMA itself when paging is turned on with LME=1, but
 * minikvm intercepts that write (CR0.PG is host-owned), so it must do
 * the same here.
 */
void vmx_set_efer(struct mkvm_vcpu *vcpu, u64 efer)
{
	struct vcpu_vmx *vmx = to_vmx(vcpu);
	u32 entry = vmx->entry & ~ENTRY_IA32E_MODE_GUEST;

	if (efer & EFER_LMA)
		entry |= ENTRY_IA32E_MODE_GUEST;
	vcpu->efer = efer;
	vmx_vmcs_get(vmx);
	vmcs_write(VMCS_GUEST_IA32_EFER, efer);
	if (entry != vmx->entry) {
		vmx->entry = entry;
		vmcs_write(VMCS_ENTRY_CONTROLS, entry);
	}
	vmx_vmcs_put(vmx);
}

static void vmx_enter_long_mode(struct mkvm_vcpu *vcpu)
{
	struct vcpu_vmx *vmx = to_vmx(vcpu);
	u32 ar;

	/* In IA-32e mode TR must hold a 64-bit busy TSS (27.3.1.2). */
	vmx_vmcs_get(vmx);
	ar = vmcs_read(VMCS_GUEST_TR_AR);
	if ((ar & VMX_AR_TYPE_MASK) != VMX_AR_TYPE_BUSY_TSS64)
		vmcs_write(VMCS_GUEST_TR_AR,
			   (ar & ~VMX_AR_TYPE_MASK) | VMX_AR_TYPE_BUSY_TSS64);
	vmx_vmcs_put(vmx);
	vmx_set_efer(vcpu, vcpu->efer | EFER_LMA);
}

static void vmx_leave_long_mode(struct mkvm_vcpu *vcpu)
{
	vmx_set_efer(vcpu, vcpu->efer & ~EFER_LMA);
}

/* ------------------------------------------------------------------ */
/* Control registers (SDM 25.6.6, 26.3)                                */
/* ------------------------------------------------------------------ */

/*
 * The CR0 the processor runs the guest with, for the CR0 the guest
 * believes it has (the read shadow): the VMX-fixed bits (A.7) set,
 * except PE and PG which "unrestricted guest" lets the guest clear; so
 * NE is always 1 underneath. CD and NW are kept clear: guest memory is
 * host memory and stays cached whatever the guest thinks.
 */
u64 vmx_cr0_hw(u64 cr0)
{
	u64 fixed0 = vmx_cfg.cr0_fixed0 & ~(u64)(X86_CR0_PE | X86_CR0_PG);

	return ((cr0 & ~(u64)(X86_CR0_CD | X86_CR0_NW)) | fixed0) &
	       vmx_cfg.cr0_fixed1;
}

/* Likewise for CR4 (A.8): VMXE stays set; unknown bits never reach it. */
static u64 vmx_cr4_hw(u64 cr4)
{
	return (cr4 & vmx_cfg.cr4_guest_ok) | vmx_cfg.cr4_fixed0;
}

static void vmx_write_cr0(struct mkvm_vcpu *vcpu, u64 cr0)
{
	struct vcpu_vmx *vmx = to_vmx(vcpu);
	u64 old = vmx->cr0;

	vmx->cr0 = cr0;
	vmx_vmcs_get(vmx);
	vmcs_write(VMCS_CR0_READ_SHADOW, cr0);
	vmcs_write(VMCS_GUEST_CR0, vmx_cr0_hw(cr0));
	vmx_vmcs_put(vmx);

	/*
	 * Paging on with LME=1 activates long mode (SDM Vol.3A
	 * "Initializing IA-32e Mode").
	 */
	if (vcpu->efer & EFER_LME) {
		if (!(old & X86_CR0_PG) && (cr0 & X86_CR0_PG))
			vmx_enter_long_mode(vcpu);
		else if ((old & X86_CR0_PG) && !(cr0 & X86_CR0_PG))
			vmx_leave_long_mode(vcpu);
	}
	/* Real hardware flushes the TLB on these changes; do it for it. */
	if ((old ^ cr0) & (X86_CR0_PG | X86_CR0_PE | X86_CR0_WP))
		vmx->need_invvpid = true;
}

static void vmx_write_cr4(struct mkvm_vcpu *vcpu, u64 cr4)
{
	struct vcpu_vmx *vmx = to_vmx(vcpu);
	u64 old = vmx->cr4;

	vmx->cr4 = cr4;
	vmx_vmcs_get(vmx);
	vmcs_write(VMCS_CR4_READ_SHADOW, cr4);
	vmcs_write(VMCS_GUEST_CR4, vmx_cr4_hw(cr4));
	vmx_vmcs_put(vmx);
	if ((old ^ cr4) & (X86_CR4_PGE | X86_CR4_PAE | X86_CR4_PSE |
			   X86_CR4_PCIDE | X86_CR4_SMEP | X86_CR4_SMAP))
		vmx->need_invvpid = true;
}

static u64 vmx_read_cr3(struct mkvm_vcpu *vcpu)
{
	struct vcpu_vmx *vmx = to_vmx(vcpu);
	u64 cr3;

	vmx_vmcs_get(vmx);
	cr3 = vmcs_read(VMCS_GUEST_CR3);
	vmx_vmcs_put(vmx);
	return cr3;
}

static void vmx_write_cr3(struct mkvm_vcpu *vcpu, u64 cr3)
{
	struct vcpu_vmx *vmx = to_vmx(vcpu);

	vmx_vmcs_get(vmx);
	vmcs_write(VMCS_GUEST_CR3, cr3);
	vmx_vmcs_put(vmx);
	vmx->need_invvpid = true;
}

/*
 * PAE paging outside long mode walks from four PDPTEs that the processor
 * loads at MOV to CR3 and keeps in registers. With EPT, VM entry loads
 * them from the VMCS (27.3.2.4) and VM exit saves them there; when
 * minikvm itself turns PAE paging on, it must fetch them from guest
 * memory like the processor would (SDM Vol.3A "PDPTE Registers").
 */
static bool vmx_pae_paging(struct mkvm_vcpu *vcpu, u64 cr0, u64 cr4)
{
	return (cr0 & X86_CR0_PG) && (cr4 & X86_CR4_PAE) &&
	       !(vcpu->efer & EFER_LME);
}

/* Read the PDPTEs at @cr3; false if unreadable or a reserved bit is set. */
static bool vmx_fetch_pdptrs(struct mkvm_vcpu *vcpu, u64 cr3, u64 *pdpte)
{
	u64 rsvd = GENMASK_ULL(63, boot_cpu_data.x86_phys_bits) |
		   GENMASK_ULL(8, 5) | GENMASK_ULL(2, 1);
	int i, idx, ret;

	idx = srcu_read_lock(&vcpu->vm->srcu);
	ret = mkvm_read_guest(vcpu, cr3 & GENMASK_ULL(31, 5), pdpte,
			      4 * sizeof(u64));
	srcu_read_unlock(&vcpu->vm->srcu, idx);
	if (ret) {
		memset(pdpte, 0, 4 * sizeof(u64));
		return false;
	}
	for (i = 0; i < 4; i++)
		if ((pdpte[i] & BIT_ULL(0)) && (pdpte[i] & rsvd))	/* P=1 */
			return false;
	return true;
}

static void vmx_write_pdptrs(struct mkvm_vcpu *vcpu, const u64 *pdpte)
{
	struct vcpu_vmx *vmx = to_vmx(vcpu);
	int i;

	vmx_vmcs_get(vmx);
	for (i = 0; i < 4; i++)
		vmcs_write(VMCS_GUEST_PDPTE0 + 2 * i, pdpte[i]);
	vmx_vmcs_put(vmx);
}

/* After an ioctl changed CR0/CR3/CR4: refresh the PDPTEs if PAE paging. */
static void vmx_refresh_pdptrs(struct mkvm_vcpu *vcpu)
{
	struct vcpu_vmx *vmx = to_vmx(vcpu);
	u64 pdpte[4];

	if (!vmx_pae_paging(vcpu, vmx->cr0, vmx->cr4))
		return;
	vmx_fetch_pdptrs(vcpu, vmx_read_cr3(vcpu), pdpte);
	vmx_write_pdptrs(vcpu, pdpte);
}

/* KVM_GET_SREGS and the core's emulator. */
u64 vmx_get_cr(struct mkvm_vcpu *vcpu, int cr)
{
	struct vcpu_vmx *vmx = to_vmx(vcpu);
	u64 hw;

	switch (cr) {
	case 0:
		/* TS is the guest's own bit: the processor has the truth. */
		vmx_vmcs_get(vmx);
		hw = vmcs_read(VMCS_GUEST_CR0);
		vmx_vmcs_put(vmx);
		return (vmx->cr0 & ~(u64)X86_CR0_TS) | (hw & X86_CR0_TS);
	case 2:
		return vcpu->cr2;
	case 3:
		return vmx_read_cr3(vcpu);
	case 4:
		return vmx->cr4;
	case 8:
		return vmx->cr8;
	default:
		return 0;
	}
}

/* KVM_SET_SREGS: take the values as given (the core validates them). */
void vmx_set_cr(struct mkvm_vcpu *vcpu, int cr, u64 val)
{
	struct vcpu_vmx *vmx = to_vmx(vcpu);

	switch (cr) {
	case 0:
		vmx_write_cr0(vcpu, val);
		break;
	case 2:
		vcpu->cr2 = val;
		return;
	case 3:
		vmx_write_cr3(vcpu, val);
		break;
	case 4:
		vmx_write_cr4(vcpu, val);
		break;
	case 8:
		vmx->cr8 = val & 0xf;
		return;
	default:
		return;
	}
	vmx_refresh_pdptrs(vcpu);
}

/*
 * The guest's MOV to CR0 / LMSW / CLTS (exit.c). Checks what the
 * processor would check before changing CR0 (SDM Vol.2 "MOV--Move
 * to/from Control Registers"); -EINVAL means "inject #GP(0)".
 */
#define VMX_CR0_KNOWN_BITS						\
	(X86_CR0_PE | X86_CR0_MP | X86_CR0_EM | X86_CR0_TS |		\
	 X86_CR0_ET | X86_CR0_NE | X86_CR0_WP | X86_CR0_AM |		\
	 X86_CR0_NW | X86_CR0_CD | X86_CR0_PG)

int vmx_guest_set_cr0(struct mkvm_vcpu *vcpu, u64 val)
{
	struct vcpu_vmx *vmx = to_vmx(vcpu);
	u64 old = vmx_get_cr(vcpu, 0);
	u64 pdpte[4];
	bool pae;

	if (val >> 32)
		return -EINVAL;
	/* Other reserved bits are ignored; ET is hardwired to 1. */
	val = (val & VMX_CR0_KNOWN_BITS) | X86_CR0_ET;
	if ((val & X86_CR0_PG) && !(val & X86_CR0_PE))
		return -EINVAL;
	if ((val & X86_CR0_NW) && !(val & X86_CR0_CD))
		return -EINVAL;
	if (!(old & X86_CR0_PG) && (val & X86_CR0_PG) &&
	    (vcpu->efer & EFER_LME)) {
		/* Long mode needs PAE, and must start from 32-bit code. */
		if (!(vmx->cr4 & X86_CR4_PAE))
			return -EINVAL;
		vmx_vmcs_get(vmx);
		if (vmcs_read(VMCS_GUEST_CS_AR) & VMX_AR_L) {
			vmx_vmcs_put(vmx);
			return -EINVAL;
		}
		vmx_vmcs_put(vmx);
	}
	if ((old & X86_CR0_PG) && !(val & X86_CR0_PG) &&
	    (vmx_is_64bit_mode(vcpu) || (vmx->cr4 & X86_CR4_PCIDE)))
		return -EINVAL;

	pae = vmx_pae_paging(vcpu, val, vmx->cr4) &&
	      ((old ^ val) & (X86_CR0_PG | X86_CR0_CD | X86_CR0_NW));
	if (pae && !vmx_fetch_pdptrs(vcpu, vmx_read_cr3(vcpu), pdpte))
		return -EINVAL;

	vmx_write_cr0(vcpu, val);
	if (pae)
		vmx_write_pdptrs(vcpu, pdpte);
	return 0;
}

/* The guest's MOV to CR4. */
int vmx_guest_set_cr4(struct mkvm_vcpu *vcpu, u64 val)
{
	struct vcpu_vmx *vmx = to_vmx(vcpu);
	bool lma = vcpu->efer & EFER_LMA;
	u64 old = vmx->cr4;
	u64 pdpte[4];
	bool pae;

	if (val & ~vmx_cfg.cr4_guest_ok)
		return -EINVAL;
	/* Long mode cannot drop PAE; PCIDE needs long mode and PCID 0. */
	if (lma && !(val & X86_CR4_PAE))
		return -EINVAL;
	if ((val & X86_CR4_PCIDE) && !(old & X86_CR4_PCIDE) &&
	    (!lma || (vmx_read_cr3(vcpu) & 0xfff)))
		return -EINVAL;

	pae = vmx_pae_paging(vcpu, vmx->cr0, val) &&
	      ((old ^ val) & (X86_CR4_PAE | X86_CR4_PGE | X86_CR4_PSE |
			      X86_CR4_SMEP));
	if (pae && !vmx_fetch_pdptrs(vcpu, vmx_read_cr3(vcpu), pdpte))
		return -EINVAL;

	vmx_write_cr4(vcpu, val);
	if (pae)
		vmx_write_pdptrs(vcpu, pdpte);
	return 0;
}

/* The guest's MOV to CR3: exits only if the CPU forces CR3-load exiting. */
int vmx_guest_set_cr3(struct mkvm_vcpu *vcpu, u64 val)
{
	struct vcpu_vmx *vmx = to_vmx(vcpu);
	u64 pdpte[4];

	if (vcpu->efer & EFER_LMA) {
		/* Bit 63 with PCIDE means "don't flush"; it is not stored. */
		if (vmx->cr4 & X86_CR4_PCIDE)
			val &= ~BIT_ULL(63);
		if (val & GENMASK_ULL(63, boot_cpu_data.x86_phys_bits))
			return -EINVAL;
	}
	if (vmx_pae_paging(vcpu, vmx->cr0, vmx->cr4)) {
		if (!vmx_fetch_pdptrs(vcpu, val, pdpte))
			return -EINVAL;
		vmx_write_pdptrs(vcpu, pdpte);
	}
	vmx_write_cr3(vcpu, val);
	return 0;
}

/* ------------------------------------------------------------------ */
/* MSRs held in the VMCS or switched through the MSR areas             */
/* ------------------------------------------------------------------ */

/* Canonical: bits 63..N-1 all equal, N the linear-address width. */
static bool vmx_canonical(u64 addr)
{
	int shift = 64 - boot_cpu_data.x86_virt_bits;

	return (u64)((s64)(addr << shift) >> shift) == addr;
}

/* Valid PAT: every byte a memory type (0, 1, 4, 5, 6, 7). */
static bool vmx_valid_pat(u64 pat)
{
	int i;

	for (i = 0; i < 8; i++) {
		u8 type = pat >> (8 * i);

		if (type == 2 || type == 3 || type > 7)
			return false;
	}
	return true;
}

static int vmx_switched_msr_slot(u32 index)
{
	switch (index) {
	case MSR_KERNEL_GS_BASE:
		return VMX_MSR_KERNEL_GS_BASE;
	case MSR_STAR:
		return VMX_MSR_STAR;
	case MSR_LSTAR:
		return VMX_MSR_LSTAR;
	case MSR_CSTAR:
		return VMX_MSR_CSTAR;
	case MSR_SYSCALL_MASK:
		return VMX_MSR_SFMASK;
	default:
		return -1;
	}
}

/* The VMCS field holding an MSR, or 0. */
static unsigned long vmx_msr_field(u32 index)
{
	switch (index) {
	case MSR_IA32_SYSENTER_CS:
		return VMCS_GUEST_SYSENTER_CS;
	case MSR_IA32_SYSENTER_ESP:
		return VMCS_GUEST_SYSENTER_ESP;
	case MSR_IA32_SYSENTER_EIP:
		return VMCS_GUEST_SYSENTER_EIP;
	case MSR_FS_BASE:
		return VMCS_GUEST_FS_BASE;
	case MSR_GS_BASE:
		return VMCS_GUEST_GS_BASE;
	default:
		return 0;
	}
}

int vmx_get_msr(struct mkvm_vcpu *vcpu, u32 index, u64 *data)
{
	struct vcpu_vmx *vmx = to_vmx(vcpu);
	unsigned long field = vmx_msr_field(index);
	int slot = vmx_switched_msr_slot(index);

	if (field) {
		vmx_vmcs_get(vmx);
		*data = vmcs_read(field);
		vmx_vmcs_put(vmx);
		return 0;
	}
	if (slot >= 0) {
		/* KERNEL_GS_BASE is stored back here on every exit. */
		*data = vmx->msr_guest[slot].value;
		return 0;
	}
	if (index == MSR_IA32_CR_PAT) {
		*data = vcpu->msr_pat;
		return 0;
	}
	return -ENOENT;
}

/*
 * Values the processor would refuse with #GP on WRMSR must not reach the
 * VMCS or the MSR-load area: VM entry would fail instead (27.3.1, 27.4).
 */
int vmx_set_msr(struct mkvm_vcpu *vcpu, u32 index, u64 data)
{
	struct vcpu_vmx *vmx = to_vmx(vcpu);
	unsigned long field = vmx_msr_field(index);
	int slot = vmx_switched_msr_slot(index);

	switch (index) {
	case MSR_IA32_SYSENTER_ESP:
	case MSR_IA32_SYSENTER_EIP:
	case MSR_FS_BASE:
	case MSR_GS_BASE:
	case MSR_KERNEL_GS_BASE:
	case MSR_LSTAR:
	case MSR_CSTAR:
		if (!vmx_canonical(data))
			return -EINVAL;
		break;
	case MSR_IA32_SYSENTER_CS:
	case MSR_SYSCALL_MASK:
		if (data >> 32)
			return -EINVAL;
		break;
	case MSR_IA32_CR_PAT:
		if (!vmx_valid_pat(data))
			return -EINVAL;
		vcpu->msr_pat = data;	/* run() writes GUEST_IA32_PAT */
		return 0;
	}

	if (field) {
		vmx_vmcs_get(vmx);
		vmcs_write(field, data);
		vmx_vmcs_put(vmx);
		return 0;
	}
	if (slot >= 0) {
		vmx->msr_guest[slot].value = data;
		return 0;
	}
	return -ENOENT;
}

/* ------------------------------------------------------------------ */
/* Reset                                                               */
/* ------------------------------------------------------------------ */

static void vmx_write_seg(int seg, u16 sel, u64 base, u32 limit, u32 ar)
{
	unsigned int i = vmx_seg_index(seg);

	vmcs_write(SEG_FIELD(VMCS_GUEST_ES_SELECTOR, i), sel);
	vmcs_write(SEG_FIELD(VMCS_GUEST_ES_BASE, i), base);
	vmcs_write(SEG_FIELD(VMCS_GUEST_ES_LIMIT, i), limit);
	vmcs_write(SEG_FIELD(VMCS_GUEST_ES_AR, i), ar);
}

/*
 * Guest state after RESET (SDM Vol.3A "Processor State After Reset"),
 * as KVM reports it for a fresh vCPU: real mode, CS:IP = F000:FFF0 with
 * CS base FFFF0000 so the first fetch is at FFFFFFF0, every segment a
 * 64 KiB read/write data segment, CR0 = 60000010 (CD, NW, ET). Called
 * with the VMCS current (vcpu_create).
 */
/* 0x93: present read/write data, accessed; 0x9b: execute/read code */
#define VMX_AR_DATA_RW	(VMX_AR_P | VMX_AR_S | 0x3)
#define VMX_AR_CODE_RX	(VMX_AR_P | VMX_AR_S | 0xb)

void vmx_reset_guest(struct mkvm_vcpu *vcpu)
{
	struct vcpu_vmx *vmx = to_vmx(vcpu);
	int seg;

	for (seg = MKVM_ES; seg <= MKVM_GS; seg++)
		vmx_write_seg(seg, 0, 0, 0xffff, VMX_AR_DATA_RW);
	vmx_write_seg(MKVM_CS, 0xf000, 0xffff0000, 0xffff, VMX_AR_CODE_RX);
	vmx_write_seg(MKVM_TR, 0, 0, 0xffff, VMX_AR_P | VMX_AR_TYPE_BUSY_TSS64);
	vmx_write_seg(MKVM_LDTR, 0, 0, 0xffff, VMX_AR_P | VMX_AR_TYPE_LDT);
	vmcs_write(VMCS_GUEST_GDTR_BASE, 0);
	vmcs_write(VMCS_GUEST_GDTR_LIMIT, 0xffff);
	vmcs_write(VMCS_GUEST_IDTR_BASE, 0);
	vmcs_write(VMCS_GUEST_IDTR_LIMIT, 0xffff);

	vmx->cr0 = 0;
	vmx->cr4 = 0;
	vcpu->efer = 0;
	vmx_write_cr0(vcpu, X86_CR0_CD | X86_CR0_NW | X86_CR0_ET);
	vmx_write_cr4(vcpu, 0);
	vmcs_write(VMCS_GUEST_CR3, 0);
	vmx_set_efer(vcpu, 0);
	vmx->cr8 = 0;

	/* Debug registers: copies in software (exit.c), DR7 in the VMCS. */
	memset(vmx->dr, 0, sizeof(vmx->dr));
	vmx->dr6 = VMX_DR6_RESET;
	vmx->dr7 = VMX_DR7_RESET;
	vmx_write_dr7(vcpu);
	vmcs_write(VMCS_GUEST_IA32_DEBUGCTL, 0);
	vmcs_write(VMCS_GUEST_PENDING_DBG_EXCEPTIONS, 0);

	vmcs_write(VMCS_GUEST_SYSENTER_CS, 0);
	vmcs_write(VMCS_GUEST_SYSENTER_ESP, 0);
	vmcs_write(VMCS_GUEST_SYSENTER_EIP, 0);
	vmx->pat = vcpu->msr_pat;	/* the core's reset value */
	vmcs_write(VMCS_GUEST_IA32_PAT, vmx->pat);
	for (seg = 0; seg < 4; seg++)
		vmcs_write(VMCS_GUEST_PDPTE0 + 2 * seg, 0);

	vmcs_write(VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_ACTIVE);
	vmcs_write(VMCS_GUEST_INTERRUPTIBILITY, 0);
	to_vmx(vcpu)->nmi_known_unmasked = true;
	vmcs_write(VMCS_ENTRY_INTR_INFO, 0);
	/* No shadow VMCS: the link pointer must be all ones (27.3.1.5). */
	vmcs_write(VMCS_LINK_POINTER, ~0ull);

	/*
	 * RIP, RFLAGS and the GPRs are the core's (vcpu.c reset them);
	 * vmx_load_guest() writes RSP and RFLAGS when they differ from these.
	 */
	vmx->exit_rip = vcpu->rip;
	vmx->vmcs_rsp = vcpu->regs[MKVM_RSP];
	vmcs_write(VMCS_GUEST_RSP, vmx->vmcs_rsp);
	vmx->vmcs_rflags = vcpu->rflags | MKVM_RFLAGS_FIXED;
	vmcs_write(VMCS_GUEST_RFLAGS, vmx->vmcs_rflags);
}
