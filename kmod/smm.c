// SPDX-License-Identifier: GPL-2.0-only
/*
 * minikvm: System Management Mode (SMM) of the guest.
 *
 * SMM is the x86's firmware mode (Intel SDM Vol.3 ch.32 "System Management
 * Mode"; AMD APM Vol.2 ch.10 "System-Management Mode"). A System
 * Management Interrupt (SMI) makes the CPU
 *
 *   1. write its state to the state-save area at SMBASE + 0xFE00 .. 0xFFFF,
 *   2. switch to the SMM view of memory, where SMRAM is visible,
 *   3. start the SMI handler in a flat real-address-like mode at
 *      CS = SMBASE >> 4, CS.base = SMBASE, RIP = 0x8000 (SDM 32.5.1,
 *      Table 32-4; APM 10.3.2 Table 10-3), with NMIs blocked;
 *
 * and RSM, the handler's last instruction, reads the (possibly edited)
 * state back, SMBASE included, and returns to where the SMI struck
 * (SDM 32.5.3, APM 10.4). Firmware (SeaBIOS, OVMF) uses it; QEMU turns it
 * on as soon as the kernel reports KVM_CAP_X86_SMM.
 *
 * The real CPU never enters SMM for the guest: the vCPU's SMM is a flag
 * (vcpu->in_smm) and state the core writes and reads, as in KVM.
 *
 *   SMI source        KVM_SMI ioctl, an LAPIC message with delivery mode
 *                     SMI (an IPI, lapic.c), KVM_SET_VCPU_EVENTS smi.pending
 *   entry             before a guest entry (run loop, mkvm_smm_prepare()):
 *                     this file writes the save area and loads the SMM state
 *   memory            address space 1 (memslot.c) with its own TDP root
 *                     (tdp.c): the vCPU switches root on entry and on RSM
 *   RSM               SVM: intercepted (svm.c); VMX: RSM outside real SMM
 *                     is #UD, and the #UD intercept sends it here (pv.c)
 *
 * The state-save area has one of two layouts, chosen as KVM chooses: the
 * AMD64 one (APM Vol.2 10.2.3, Table 10-2; revision 0x00020064) for a guest
 * whose CPUID has long mode, else the 32-bit one (SDM Vol.3 32.4.1, Table
 * 32-1; revision 0x00020000). The handler finds which in the revision
 * field, as SeaBIOS does.
 *
 * Not modelled: SMI while an event is being delivered waits for the next
 * exit (KVM forces an immediate one); I/O instruction restart, auto-HALT
 * restart, the SMM-transfer monitor; nested virtualization (none here).
 */
#define pr_fmt(fmt) "minikvm: " fmt

#include <linux/build_bug.h>

#include "minikvm.h"

#define MKVM_SMBASE_RESET	0x30000		/* SDM 32.11, APM 10.2.4 */
#define MKVM_SMM_HANDLER	0x8000		/* RIP on entry, from SMBASE */
#define MKVM_SMM_SAVE		0xfe00		/* the save area, from SMBASE */
#define MKVM_SMM_REVISION	0x00020064	/* AMD64 layout, SMBASE relocation */
#define MKVM_SMM_REVISION32	0x00020000	/* 32-bit layout, SMBASE relocation */
#define MKVM_DR7_FIXED		0x400		/* DR7 bit 10 reads as 1 */
#define MKVM_CR0_TS		BIT_ULL(3)
#define MKVM_CR0_EM		BIT_ULL(2)

/* One segment in the save area (APM Table 10-2): 16 bytes. */
struct mkvm_smm_seg {
	u16 selector;
	u16 attrib;	/* descriptor bits 55:40, the limit's 19:16 zero */
	u32 limit;
	u64 base;
} __packed;

/*
 * The AMD64 state-save area, SMBASE + 0xFE00 to SMBASE + 0xFFFF (APM Vol.2
 * Table 10-2). Fields the APM lists that minikvm does not use (I/O restart,
 * SVM state, the host's PAT...) are left zero and read back as reserved.
 */
struct mkvm_smram64 {
	struct mkvm_smm_seg es, cs, ss, ds, fs, gs;	/* FE00h */
	struct mkvm_smm_seg gdtr;			/* FE60h: limit, base */
	struct mkvm_smm_seg ldtr;			/* FE70h */
	struct mkvm_smm_seg idtr;			/* FE80h: limit, base */
	struct mkvm_smm_seg tr;				/* FE90h */
	u8 rsvd1[0xd0 - 0xa0];		/* FEA0h: I/O restart, auto-halt */
	u64 efer;			/* FED0h */
	u8 rsvd2[0xfc - 0xd8];		/* FED8h: SVM state */
	u32 revision;			/* FEFCh */
	u32 smbase;			/* FF00h */
	u8 rsvd3[0x148 - 0x104];	/* FF04h: PAT, host state */
	u64 cr4;			/* FF48h */
	u64 cr3;			/* FF50h */
	u64 cr0;			/* FF58h */
	u64 dr7;			/* FF60h */
	u64 dr6;			/* FF68h */
	u64 rflags;			/* FF70h */
	u64 rip;			/* FF78h */
	u64 gprs[MKVM_NR_GPRS];		/* FF80h: R15 first ... RAX at FFF8h */
} __packed;

static_assert(sizeof(struct mkvm_smram64) == 512);
static_assert(offsetof(struct mkvm_smram64, tr) == 0x90);
static_assert(offsetof(struct mkvm_smram64, efer) == 0xd0);
static_assert(offsetof(struct mkvm_smram64, revision) == 0xfc);
static_assert(offsetof(struct mkvm_smram64, smbase) == 0x100);
static_assert(offsetof(struct mkvm_smram64, cr4) == 0x148);
static_assert(offsetof(struct mkvm_smram64, gprs) == 0x180);

/* One segment in the 32-bit save area: 12 bytes. */
struct mkvm_smm_seg32 {
	u32 flags;	/* the attribute word of mkvm_smm_seg, shifted left by 8 */
	u32 limit;
	u32 base;
} __packed;

/*
 * The 32-bit state-save area, SMBASE + 0xFE00 to SMBASE + 0xFFFF. SDM
 * Table 32-1 names the registers, selectors, SMBASE and the revision;
 * where it says "reserved" (the descriptor caches, GDTR, IDTR, CR4) the
 * offsets are those KVM and QEMU use, so that SMRAM written by one can
 * be read back by the other after a migration.
 */
struct mkvm_smram32 {
	u8 rsvd1[0xf8];			/* FE00h */
	u32 smbase;			/* FEF8h */
	u32 revision;			/* FEFCh */
	u8 rsvd2[0x114 - 0x100];	/* FF00h: I/O restart, auto-halt */
	u32 cr4;			/* FF14h */
	u8 rsvd3[0x12c - 0x118];	/* FF18h */
	struct mkvm_smm_seg32 ds, fs, gs;	/* FF2Ch */
	u8 rsvd4[0x154 - 0x150];	/* FF50h */
	u32 idtr_limit;			/* FF54h */
	u32 idtr_base;			/* FF58h */
	struct mkvm_smm_seg32 tr;	/* FF5Ch */
	u8 rsvd5[0x170 - 0x168];	/* FF68h */
	u32 gdtr_limit;			/* FF70h */
	u32 gdtr_base;			/* FF74h */
	struct mkvm_smm_seg32 ldtr;	/* FF78h */
	struct mkvm_smm_seg32 es, cs, ss;	/* FF84h */
	u32 sel[6];			/* FFA8h: ES, CS, SS, DS, FS, GS */
	u32 ldtr_sel;			/* FFC0h */
	u32 tr_sel;			/* FFC4h */
	u32 dr7;			/* FFC8h */
	u32 dr6;			/* FFCCh */
	u32 gprs[8];			/* FFD0h: EAX, ECX, ... EDI at FFECh */
	u32 eip;			/* FFF0h */
	u32 eflags;			/* FFF4h */
	u32 cr3;			/* FFF8h */
	u32 cr0;			/* FFFCh */
} __packed;

static_assert(sizeof(struct mkvm_smram32) == 512);
static_assert(offsetof(struct mkvm_smram32, cr4) == 0x114);
static_assert(offsetof(struct mkvm_smram32, ds) == 0x12c);
static_assert(offsetof(struct mkvm_smram32, tr) == 0x15c);
static_assert(offsetof(struct mkvm_smram32, es) == 0x184);
static_assert(offsetof(struct mkvm_smram32, sel) == 0x1a8);
static_assert(offsetof(struct mkvm_smram32, gprs) == 0x1d0);

/* Either layout: what the SMI writes and RSM reads. */
union mkvm_smram {
	struct mkvm_smram64 s64;
	struct mkvm_smram32 s32;
};

/* gprs[] holds R15 first: register number n lives at gprs[15 - n]. */
static inline u64 *smram_gpr(struct mkvm_smram64 *sm, int n)
{
	return &sm->gprs[MKVM_NR_GPRS - 1 - n];
}

/* ------------------------------------------------------------------ */
/* Segments in the save area                                           */
/* ------------------------------------------------------------------ */

/*
 * The attribute word is bits 55:40 of the segment descriptor (SDM Vol.3
 * 3.4.5): type, S, DPL, P in 7:0, the limit's bits 19:16 in 11:8 (kept
 * zero: the limit has its own field), AVL, L, D/B, G in 15:12. That is
 * KVM's packing too, which matters: SMRAM migrates with guest memory, and
 * the RSM on the other side must read what this side wrote.
 */
static u16 smram_attrib(const struct kvm_segment *s)
{
	return (s->type & 0xf) | (s->s << 4) | ((s->dpl & 3) << 5) |
	       (s->present << 7) | (s->avl << 12) | (s->l << 13) |
	       (s->db << 14) | (s->g << 15);
}

static void smram_set_attrib(struct kvm_segment *s, u16 a)
{
	s->type = a & 0xf;
	s->s = (a >> 4) & 1;
	s->dpl = (a >> 5) & 3;
	s->present = (a >> 7) & 1;
	s->avl = (a >> 12) & 1;
	s->l = (a >> 13) & 1;
	s->db = (a >> 14) & 1;
	s->g = (a >> 15) & 1;
	s->unusable = !s->present;
}

static void smram_put_seg(struct mkvm_smm_seg *d, const struct kvm_segment *s)
{
	d->selector = s->selector;
	d->attrib = smram_attrib(s);
	d->limit = s->limit;
	d->base = s->base;
}

static void smram_get_seg(struct kvm_segment *s, const struct mkvm_smm_seg *d)
{
	memset(s, 0, sizeof(*s));
	s->selector = d->selector;
	smram_set_attrib(s, d->attrib);
	s->limit = d->limit;
	s->base = d->base;
}

/* The 32-bit layout keeps the selector elsewhere (@sel). */
static void smram_put_seg32(struct mkvm_smm_seg32 *d, u32 *sel,
			    const struct kvm_segment *s)
{
	*sel = s->selector;
	d->flags = (u32)smram_attrib(s) << 8;
	d->limit = s->limit;
	d->base = s->base;
}

static void smram_get_seg32(struct kvm_segment *s,
			    const struct mkvm_smm_seg32 *d, u32 sel)
{
	memset(s, 0, sizeof(*s));
	s->selector = sel;
	smram_set_attrib(s, d->flags >> 8);
	s->limit = d->limit;
	s->base = d->base;
}

/* Which layout: the AMD64 one when the guest's CPUID has long mode. */
static bool mkvm_smm_layout64(struct mkvm_vcpu *vcpu)
{
	const struct kvm_cpuid_entry2 *e = mkvm_find_cpuid(vcpu, 0x80000001, 0);

	return e && (e->edx & BIT(29));		/* CPUID.80000001H:EDX.LM */
}

/* ------------------------------------------------------------------ */
/* Entering and leaving                                                */
/* ------------------------------------------------------------------ */

/*
 * The vCPU changes its view of memory: the other TDP root (the hardware
 * walks nCR3 / the EPT pointer), and a TLB flush before the next entry,
 * since both roots share the VM's ASID / VPID tags.
 */
static void mkvm_smm_changed(struct mkvm_vcpu *vcpu, bool entering)
{
	vcpu->in_smm = entering;
	if (!entering)
		vcpu->smm_inside_nmi = false;
	mkvm_ops->set_tdp_root(vcpu, mkvm_tdp_root_pa(vcpu));
	set_bit(MKVM_REQ_TLB_FLUSH, &vcpu->requests);
}

/* Step 1 of an SMI: the state the guest had, in the AMD64 layout. */
static void mkvm_smm_save_state(struct mkvm_vcpu *vcpu,
				struct mkvm_smram64 *sm)
{
	struct kvm_sregs s;
	struct kvm_debugregs dr;
	int i;

	memset(sm, 0, sizeof(*sm));
	mkvm_get_sregs(vcpu, &s);
	memset(&dr, 0, sizeof(dr));
	mkvm_ops->get_debugregs(vcpu, &dr);

	for (i = 0; i < MKVM_NR_GPRS; i++)
		*smram_gpr(sm, i) = vcpu->regs[i];
	sm->rip = vcpu->rip;
	sm->rflags = mkvm_get_rflags(vcpu);
	sm->dr6 = dr.dr6;
	sm->dr7 = dr.dr7;
	sm->cr0 = s.cr0;
	sm->cr3 = s.cr3;
	sm->cr4 = s.cr4;
	sm->smbase = vcpu->smbase;
	sm->revision = MKVM_SMM_REVISION;
	sm->efer = s.efer;
	smram_put_seg(&sm->es, &s.es);
	smram_put_seg(&sm->cs, &s.cs);
	smram_put_seg(&sm->ss, &s.ss);
	smram_put_seg(&sm->ds, &s.ds);
	smram_put_seg(&sm->fs, &s.fs);
	smram_put_seg(&sm->gs, &s.gs);
	smram_put_seg(&sm->tr, &s.tr);
	smram_put_seg(&sm->ldtr, &s.ldt);
	sm->gdtr.limit = s.gdt.limit;
	sm->gdtr.base = s.gdt.base;
	sm->idtr.limit = s.idt.limit;
	sm->idtr.base = s.idt.base;
}

/* Step 1 for a guest without long mode: the 32-bit layout (SDM 32.4.1). */
static void mkvm_smm_save_state32(struct mkvm_vcpu *vcpu,
				  struct mkvm_smram32 *sm)
{
	struct kvm_sregs s;
	struct kvm_debugregs dr;
	int i;

	memset(sm, 0, sizeof(*sm));
	mkvm_get_sregs(vcpu, &s);
	memset(&dr, 0, sizeof(dr));
	mkvm_ops->get_debugregs(vcpu, &dr);

	for (i = 0; i < 8; i++)
		sm->gprs[i] = vcpu->regs[i];
	sm->eip = vcpu->rip;
	sm->eflags = mkvm_get_rflags(vcpu);
	sm->dr6 = dr.dr6;
	sm->dr7 = dr.dr7;
	sm->cr0 = s.cr0;
	sm->cr3 = s.cr3;
	sm->cr4 = s.cr4;
	sm->smbase = vcpu->smbase;
	sm->revision = MKVM_SMM_REVISION32;
	smram_put_seg32(&sm->es, &sm->sel[0], &s.es);
	smram_put_seg32(&sm->cs, &sm->sel[1], &s.cs);
	smram_put_seg32(&sm->ss, &sm->sel[2], &s.ss);
	smram_put_seg32(&sm->ds, &sm->sel[3], &s.ds);
	smram_put_seg32(&sm->fs, &sm->sel[4], &s.fs);
	smram_put_seg32(&sm->gs, &sm->sel[5], &s.gs);
	smram_put_seg32(&sm->tr, &sm->tr_sel, &s.tr);
	smram_put_seg32(&sm->ldtr, &sm->ldtr_sel, &s.ldt);
	sm->gdtr_limit = s.gdt.limit;
	sm->gdtr_base = s.gdt.base;
	sm->idtr_limit = s.idt.limit;
	sm->idtr_base = s.idt.base;
}

/*
 * Step 3: the state the SMI handler starts in (SDM 32.5.1 Table 32-4,
 * APM 10.3.2 Table 10-3): paging and protection off, CR4 = 0, EFER = 0,
 * flat 4-GiB data segments, CS based at SMBASE, RIP 0x8000, RFLAGS with
 * only its fixed bit, DR7 reset; the IDT limit 0 (what KVM and real
 * processors do, though neither manual says so). CR3 and the GDT stay.
 */
static void mkvm_smm_load_entry_state(struct mkvm_vcpu *vcpu)
{
	struct kvm_segment cs = {
		.selector = (vcpu->smbase >> 4) & 0xffff,
		.base = vcpu->smbase, .limit = 0xffffffff,
		.type = 3, .s = 1, .present = 1, .g = 1,
	};
	struct kvm_segment ds = cs;
	struct kvm_dtable idt = {};
	struct kvm_debugregs dr;
	int seg;

	ds.selector = 0;
	ds.base = 0;
	vcpu->efer = 0;
	mkvm_ops->set_efer(vcpu, 0);
	mkvm_ops->set_cr(vcpu, 0, mkvm_ops->get_cr(vcpu, 0) &
			 ~(MKVM_CR0_PE | MKVM_CR0_EM | MKVM_CR0_TS | MKVM_CR0_PG));
	mkvm_ops->set_cr(vcpu, 4, 0);
	mkvm_ops->set_dtable(vcpu, &idt, true);
	for (seg = MKVM_ES; seg <= MKVM_GS; seg++)
		mkvm_ops->set_segment(vcpu, seg == MKVM_CS ? &cs : &ds, seg);
	memset(&dr, 0, sizeof(dr));
	mkvm_ops->get_debugregs(vcpu, &dr);
	dr.dr7 = MKVM_DR7_FIXED;
	mkvm_ops->set_debugregs(vcpu, &dr);
	mkvm_set_rflags(vcpu, MKVM_RFLAGS_FIXED);
	vcpu->rip = MKVM_SMM_HANDLER;
	mkvm_cpuid_update_runtime(vcpu);	/* CPUID.1:ECX.OSXSAVE follows CR4 */
}

/*
 * Take the SMI: save, switch to SMRAM's view, start the handler. NMIs are
 * blocked in SMM until RSM (SDM 32.8); if they already were (an NMI
 * handler was running), RSM must leave them so: smm_inside_nmi.
 */
static void mkvm_enter_smm(struct mkvm_vcpu *vcpu)
{
	union mkvm_smram sm;

	if (mkvm_smm_layout64(vcpu))
		mkvm_smm_save_state(vcpu, &sm.s64);
	else
		mkvm_smm_save_state32(vcpu, &sm.s32);
	mkvm_smm_changed(vcpu, true);
	/*
	 * The save area is written in the SMM view, where SMRAM is. Nothing
	 * mapped there: the write is lost, as on KVM (the handler will not
	 * run either: its fetch finds no memory).
	 */
	mkvm_write_guest(vcpu, vcpu->smbase + MKVM_SMM_SAVE, &sm, sizeof(sm));
	if (mkvm_ops->get_nmi_mask(vcpu))
		vcpu->smm_inside_nmi = true;
	else
		mkvm_ops->set_nmi_mask(vcpu, true);
	mkvm_smm_load_entry_state(vcpu);
	/*
	 * No STI/MOV SS shadow at the handler's first instruction: with IF=0
	 * a VMX entry would fail on it (SDM 26.3.1.5).
	 */
	mkvm_ops->set_interrupt_shadow(vcpu, 0);
}

/**
 * mkvm_smi() - raise an SMI on @vcpu (KVM_SMI, an LAPIC message).
 *
 * Any thread: a request bit and a kick; the vCPU takes it before its next
 * entry (mkvm_smm_prepare()).
 */
void mkvm_smi(struct mkvm_vcpu *vcpu)
{
	if (!mkvm_ops->has_smm)
		return;
	set_bit(MKVM_REQ_SMI, &vcpu->requests);
	mkvm_vcpu_kick(vcpu);
}

/**
 * mkvm_smm_prepare() - in the run loop, before an entry (may sleep: it
 * writes guest memory): accept a requested SMI and enter SMM if the vCPU
 * can take it now. Not inside SMM (SMIs are latched until RSM, SDM 32.5),
 * and not while an event is being delivered: that one completes first,
 * and the SMI is taken at a later exit.
 */
void mkvm_smm_prepare(struct mkvm_vcpu *vcpu)
{
	if (mkvm_test_clear_request(vcpu, MKVM_REQ_SMI))
		vcpu->smi_pending = true;
	if (!vcpu->smi_pending || vcpu->in_smm || vcpu->event.pending)
		return;
	vcpu->smi_pending = false;
	/* An SMI wakes a halted CPU; RSM returns after its HLT (SDM 32.10). */
	if (vcpu->mp_state == KVM_MP_STATE_HALTED)
		vcpu->mp_state = KVM_MP_STATE_RUNNABLE;
	mkvm_enter_smm(vcpu);
}

/* ------------------------------------------------------------------ */
/* RSM                                                                 */
/* ------------------------------------------------------------------ */

/* RFLAGS bits that exist (SDM Vol.1 3.4.3): 21:0 less 15, 5, 3, 1. */
#define MKVM_RFLAGS_DEFINED	(GENMASK_ULL(21, 0) & ~(BIT_ULL(15) | \
				 BIT_ULL(5) | BIT_ULL(3) | BIT_ULL(1)))
/* EFER bits a guest may have (msr.c): SCE, LME, NXE; LMA recomputed. */
#define MKVM_SMM_EFER_VALID	(BIT_ULL(0) | MKVM_EFER_LME | BIT_ULL(11))

/*
 * Load the state RSM found. Everything goes through the checks of
 * KVM_SET_SREGS (vcpu.c, mkvm_rsm_set_sregs()) first; EFER.LMA follows from LME and CR0.PG as
 * the CPU computes it. Return: 0, or -EINVAL when the save area holds a
 * state no CPU could be in: RSM then shuts the processor down (SDM 32.5.3;
 * APM 10.4 "the processor enters the shutdown state").
 */
static int mkvm_smm_load_state(struct mkvm_vcpu *vcpu,
			       struct mkvm_smram64 *sm)
{
	struct kvm_sregs s;
	struct kvm_debugregs dr;
	int i;

	if ((sm->efer & ~(MKVM_SMM_EFER_VALID | MKVM_EFER_LMA)) ||
	    upper_32_bits(sm->dr6) || upper_32_bits(sm->dr7))
		return -EINVAL;
	mkvm_get_sregs(vcpu, &s);
	memset(s.interrupt_bitmap, 0, sizeof(s.interrupt_bitmap));
	s.cr0 = sm->cr0;
	s.cr3 = sm->cr3;
	s.cr4 = sm->cr4;
	s.efer = sm->efer & MKVM_SMM_EFER_VALID;
	if ((s.efer & MKVM_EFER_LME) && (s.cr0 & MKVM_CR0_PG))
		s.efer |= MKVM_EFER_LMA;
	smram_get_seg(&s.es, &sm->es);
	smram_get_seg(&s.cs, &sm->cs);
	smram_get_seg(&s.ss, &sm->ss);
	smram_get_seg(&s.ds, &sm->ds);
	smram_get_seg(&s.fs, &sm->fs);
	smram_get_seg(&s.gs, &sm->gs);
	smram_get_seg(&s.tr, &sm->tr);
	smram_get_seg(&s.ldt, &sm->ldtr);
	s.gdt.limit = sm->gdtr.limit;
	s.gdt.base = sm->gdtr.base;
	s.idt.limit = sm->idtr.limit;
	s.idt.base = sm->idtr.base;
	if (mkvm_rsm_set_sregs(vcpu, &s))
		return -EINVAL;

	memset(&dr, 0, sizeof(dr));
	mkvm_ops->get_debugregs(vcpu, &dr);
	dr.dr6 = sm->dr6;
	dr.dr7 = sm->dr7;
	mkvm_ops->set_debugregs(vcpu, &dr);
	for (i = 0; i < MKVM_NR_GPRS; i++)
		vcpu->regs[i] = *smram_gpr(sm, i);
	vcpu->rip = sm->rip;
	mkvm_set_rflags(vcpu, (sm->rflags & MKVM_RFLAGS_DEFINED) |
			      MKVM_RFLAGS_FIXED);
	/* The handler may have moved SMBASE for the next SMI (SDM 32.11). */
	vcpu->smbase = sm->smbase;
	mkvm_cpuid_update_runtime(vcpu);
	return 0;
}

/* The same for the 32-bit layout. EFER is not in it and stays as it is. */
static int mkvm_smm_load_state32(struct mkvm_vcpu *vcpu,
				 struct mkvm_smram32 *sm)
{
	struct kvm_sregs s;
	struct kvm_debugregs dr;
	int i;

	mkvm_get_sregs(vcpu, &s);
	memset(s.interrupt_bitmap, 0, sizeof(s.interrupt_bitmap));
	s.cr0 = sm->cr0;
	s.cr3 = sm->cr3;
	s.cr4 = sm->cr4;
	smram_get_seg32(&s.es, &sm->es, sm->sel[0]);
	smram_get_seg32(&s.cs, &sm->cs, sm->sel[1]);
	smram_get_seg32(&s.ss, &sm->ss, sm->sel[2]);
	smram_get_seg32(&s.ds, &sm->ds, sm->sel[3]);
	smram_get_seg32(&s.fs, &sm->fs, sm->sel[4]);
	smram_get_seg32(&s.gs, &sm->gs, sm->sel[5]);
	smram_get_seg32(&s.tr, &sm->tr, sm->tr_sel);
	smram_get_seg32(&s.ldt, &sm->ldtr, sm->ldtr_sel);
	s.gdt.limit = sm->gdtr_limit;
	s.gdt.base = sm->gdtr_base;
	s.idt.limit = sm->idtr_limit;
	s.idt.base = sm->idtr_base;
	if (mkvm_rsm_set_sregs(vcpu, &s))
		return -EINVAL;

	memset(&dr, 0, sizeof(dr));
	mkvm_ops->get_debugregs(vcpu, &dr);
	dr.dr6 = sm->dr6;
	dr.dr7 = sm->dr7;
	mkvm_ops->set_debugregs(vcpu, &dr);
	for (i = 0; i < 8; i++)
		vcpu->regs[i] = sm->gprs[i];
	vcpu->rip = sm->eip;
	mkvm_set_rflags(vcpu, (sm->eflags & MKVM_RFLAGS_DEFINED) |
			      MKVM_RFLAGS_FIXED);
	vcpu->smbase = sm->smbase;
	mkvm_cpuid_update_runtime(vcpu);
	return 0;
}

/**
 * mkvm_emulate_rsm() - the guest executed RSM (SVM: RSM intercept; VMX:
 * its #UD). Outside SMM RSM is an invalid opcode (#UD) on every CPU.
 *
 * The state is read back from SMRAM, in the SMM view, before the vCPU
 * leaves that view; NMIs are unblocked unless an NMI handler was running
 * when the SMI came.
 * Return: 1 to re-enter, 0 with KVM_EXIT_SHUTDOWN when the state cannot be
 * loaded (or SMRAM cannot be read: nothing would be left to return to).
 */
int mkvm_emulate_rsm(struct mkvm_vcpu *vcpu)
{
	bool layout64 = mkvm_smm_layout64(vcpu);
	union mkvm_smram sm;
	int r;

	if (!vcpu->in_smm) {
		mkvm_queue_exception(vcpu, MKVM_UD_VECTOR, false, 0);
		return 1;
	}
	if (mkvm_read_guest(vcpu, vcpu->smbase + MKVM_SMM_SAVE, &sm,
			    sizeof(sm)))
		return mkvm_exit_shutdown(vcpu);
	if (!vcpu->smm_inside_nmi)
		mkvm_ops->set_nmi_mask(vcpu, false);
	mkvm_smm_changed(vcpu, false);
	r = layout64 ? mkvm_smm_load_state(vcpu, &sm.s64) :
		       mkvm_smm_load_state32(vcpu, &sm.s32);
	if (r)
		return mkvm_exit_shutdown(vcpu);
	/* "sti; rsm": the shadow ends with the RSM, not after it. */
	mkvm_ops->set_interrupt_shadow(vcpu, 0);
	return 1;
}

/* ------------------------------------------------------------------ */
/* Reset and KVM_GET/SET_VCPU_EVENTS                                   */
/* ------------------------------------------------------------------ */

/**
 * mkvm_smm_reset() - a new vCPU, or INIT. INIT keeps SMBASE (SDM 32.11:
 * only RESET sets it back) and is latched while in SMM, so it never finds
 * the vCPU there; it drops a pending SMI, as KVM does.
 */
void mkvm_smm_reset(struct mkvm_vcpu *vcpu, bool init_event)
{
	if (!init_event)
		vcpu->smbase = MKVM_SMBASE_RESET;
	vcpu->smi_pending = false;
}

/* The smi block of KVM_GET_VCPU_EVENTS (caller has zeroed it). */
void mkvm_smm_get_events(struct mkvm_vcpu *vcpu, struct kvm_vcpu_events *ev)
{
	/* A requested SMI counts as pending: the VMM must not lose it. */
	if (mkvm_test_clear_request(vcpu, MKVM_REQ_SMI))
		vcpu->smi_pending = true;
	ev->smi.smm = vcpu->in_smm;
	ev->smi.pending = vcpu->smi_pending;
	ev->smi.smm_inside_nmi = vcpu->smm_inside_nmi;
}

/* Checks of the smi block, before KVM_SET_VCPU_EVENTS changes anything. */
int mkvm_smm_check_events(struct mkvm_vcpu *vcpu,
			  const struct kvm_vcpu_events *ev)
{
	if ((ev->smi.smm || ev->smi.pending) && !mkvm_ops->has_smm)
		return -EINVAL;
	/* KVM: INITs are latched while in SMM; not in INIT_RECEIVED. */
	if ((ev->smi.smm || ev->smi.pending) &&
	    vcpu->mp_state == KVM_MP_STATE_INIT_RECEIVED)
		return -EINVAL;
	return 0;
}

/*
 * The smi block of KVM_SET_VCPU_EVENTS: in or out of SMM without any state
 * change but the view of memory (the VMM restores the registers the SMM
 * handler had with KVM_SET_SREGS/REGS), a pending SMI, the NMI note.
 */
void mkvm_smm_set_events(struct mkvm_vcpu *vcpu,
			 const struct kvm_vcpu_events *ev)
{
	if (vcpu->in_smm != !!ev->smi.smm)
		mkvm_smm_changed(vcpu, ev->smi.smm);
	clear_bit(MKVM_REQ_SMI, &vcpu->requests);
	vcpu->smi_pending = ev->smi.pending;
	if (ev->smi.smm)
		vcpu->smm_inside_nmi = ev->smi.smm_inside_nmi;
}
