/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The Virtual Machine Control Block (VMCB): one 4 KiB page per vCPU that
 * the VMRUN instruction reads the guest state from and #VMEXIT writes it
 * back to (AMD APM Vol.2 15.5 "VMRUN Instruction", Appendix B "Layout of
 * VMCB").
 *
 * It has two halves:
 *   0x000-0x3ff  control area: what to intercept, which ASID, what event to
 *                inject, and - after #VMEXIT - why the guest stopped.
 *   0x400-...    state save area: the guest's segments, control registers,
 *                RIP/RSP/RAX and a few MSRs.
 *
 * This file is only the hardware layout and the bit definitions, each
 * citing the table or section of the APM it comes from (STYLE.md 7). The
 * logic that fills it in is in svm.c.
 */
#ifndef MINIKVM_SVM_VMCB_H
#define MINIKVM_SVM_VMCB_H

#include <linux/build_bug.h>
#include <linux/stddef.h>
#include <linux/types.h>

/* ------------------------------------------------------------------ */
/* Control area (APM Vol.2 Appendix B, Table B-1)                      */
/* ------------------------------------------------------------------ */

/*
 * Intercept vectors. The control area starts with five 32-bit words of
 * intercept bits; the first four carry meaning for us.
 */
enum vmcb_intercept_word {
	VMCB_ICPT_CR,		/* 000h: 15:0 CRn reads, 31:16 CRn writes */
	VMCB_ICPT_DR,		/* 004h: 15:0 DRn reads, 31:16 DRn writes */
	VMCB_ICPT_EXC,		/* 008h: bit n = exception vector n */
	VMCB_ICPT_MISC1,	/* 00Ch: the INTERCEPT_* bits below */
	VMCB_ICPT_MISC2,	/* 010h: the INTERCEPT2_* bits below */
	VMCB_ICPT_MISC3,	/* 014h: INVLPGB, INVPCID, ... (unused) */
	VMCB_NR_ICPT_WORDS,
};

/* Word 3, offset 00Ch (Table B-1). */
#define INTERCEPT_INTR		BIT(0)	/* physical maskable interrupt */
#define INTERCEPT_NMI		BIT(1)
#define INTERCEPT_SMI		BIT(2)
#define INTERCEPT_INIT		BIT(3)
#define INTERCEPT_VINTR		BIT(4)	/* virtual interrupt window */
#define INTERCEPT_CR0_SEL	BIT(5)	/* CR0 writes other than TS/MP */
#define INTERCEPT_IDTR_READ	BIT(6)
#define INTERCEPT_GDTR_READ	BIT(7)
#define INTERCEPT_LDTR_READ	BIT(8)
#define INTERCEPT_TR_READ	BIT(9)
#define INTERCEPT_IDTR_WRITE	BIT(10)
#define INTERCEPT_GDTR_WRITE	BIT(11)
#define INTERCEPT_LDTR_WRITE	BIT(12)
#define INTERCEPT_TR_WRITE	BIT(13)
#define INTERCEPT_RDTSC		BIT(14)
#define INTERCEPT_RDPMC		BIT(15)
#define INTERCEPT_PUSHF		BIT(16)
#define INTERCEPT_POPF		BIT(17)
#define INTERCEPT_CPUID		BIT(18)
#define INTERCEPT_RSM		BIT(19)
#define INTERCEPT_IRET		BIT(20)
#define INTERCEPT_INTN		BIT(21)	/* software interrupt INT n */
#define INTERCEPT_INVD		BIT(22)
#define INTERCEPT_PAUSE		BIT(23)
#define INTERCEPT_HLT		BIT(24)
#define INTERCEPT_INVLPG	BIT(25)
#define INTERCEPT_INVLPGA	BIT(26)
#define INTERCEPT_IOIO_PROT	BIT(27)	/* consult the IOPM (15.10.1) */
#define INTERCEPT_MSR_PROT	BIT(28)	/* consult the MSRPM (15.11) */
#define INTERCEPT_TASK_SWITCH	BIT(29)
#define INTERCEPT_FERR_FREEZE	BIT(30)
#define INTERCEPT_SHUTDOWN	BIT(31)	/* triple fault etc. (15.12) */

/* Word 4, offset 010h (Table B-1). */
#define INTERCEPT2_VMRUN	BIT(0)	/* must be set, or VMRUN fails (15.5.1) */
#define INTERCEPT2_VMMCALL	BIT(1)
#define INTERCEPT2_VMLOAD	BIT(2)
#define INTERCEPT2_VMSAVE	BIT(3)
#define INTERCEPT2_STGI		BIT(4)
#define INTERCEPT2_CLGI		BIT(5)
#define INTERCEPT2_SKINIT	BIT(6)
#define INTERCEPT2_RDTSCP	BIT(7)
#define INTERCEPT2_ICEBP	BIT(8)
#define INTERCEPT2_WBINVD	BIT(9)	/* WBINVD and WBNOINVD */
#define INTERCEPT2_MONITOR	BIT(10)	/* MONITOR and MONITORX */
#define INTERCEPT2_MWAIT	BIT(11)	/* MWAIT and MWAITX, unconditionally */
#define INTERCEPT2_MWAIT_ARMED	BIT(12)
#define INTERCEPT2_XSETBV	BIT(13)
#define INTERCEPT2_RDPRU	BIT(14)
#define INTERCEPT2_EFER_WRITE	BIT(15)	/* trap after the write completes */

/* TLB_CONTROL, byte at offset 05Ch (APM Vol.2 15.16.1, Table 15-9). */
#define TLB_CONTROL_DO_NOTHING		0
#define TLB_CONTROL_FLUSH_ALL		1	/* every ASID, host included */
#define TLB_CONTROL_FLUSH_ASID		3	/* this guest's ASID only */
#define TLB_CONTROL_FLUSH_ASID_LOCAL	7	/* ... except global pages */

/* VINTR control word at offset 060h (APM Vol.2 15.21.1, Table B-1). */
#define V_TPR_MASK		0x0fU		/* virtual CR8 (TPR) */
#define V_IRQ			BIT(8)	/* a virtual interrupt is pending */
#define V_INTR_PRIO_SHIFT	16	/* 19:16 its priority, vs V_TPR */
#define V_INTR_PRIO_MASK	(0xfU << V_INTR_PRIO_SHIFT)
#define V_IGN_TPR		BIT(20)	/* ... or ignore V_TPR */
#define V_INTR_MASKING		BIT(24)

/* Interrupt shadow word at offset 068h (APM Vol.2 15.21.5). */
#define VMCB_INTERRUPT_SHADOW	BIT(0)	/* guest is in an STI/MOV SS shadow */

/* Nested-paging control at offset 090h (APM Vol.2 15.25.3). */
#define NESTED_CTL_NP_ENABLE	BIT(0)

/*
 * EVENTINJ at offset 0A8h, and EXITINTINFO at 088h which has the same
 * format (APM Vol.2 15.20 "Event Injection", Figure 15-4; 15.7.2):
 *   7:0   VECTOR
 *   10:8  TYPE   0 = external interrupt, 2 = NMI, 3 = exception (fault or
 *                trap), 4 = software interrupt (INTn)
 *   11    EV     push the error code in bits 63:32
 *   31    V      the field is valid
 *   63:32 ERRORCODE
 */
#define SVM_EVTINJ_VEC_MASK	0xffULL
#define SVM_EVTINJ_TYPE_SHIFT	8
#define SVM_EVTINJ_TYPE_MASK	(7ULL << SVM_EVTINJ_TYPE_SHIFT)
#define SVM_EVTINJ_TYPE_INTR	(0ULL << SVM_EVTINJ_TYPE_SHIFT)
#define SVM_EVTINJ_TYPE_NMI	(2ULL << SVM_EVTINJ_TYPE_SHIFT)
#define SVM_EVTINJ_TYPE_EXCEPT	(3ULL << SVM_EVTINJ_TYPE_SHIFT)
#define SVM_EVTINJ_TYPE_SOFT	(4ULL << SVM_EVTINJ_TYPE_SHIFT)
#define SVM_EVTINJ_EV		BIT_ULL(11)
#define SVM_EVTINJ_VALID	BIT_ULL(31)
#define SVM_EVTINJ_ERR_SHIFT	32

/*
 * EXITINFO1 of an IOIO intercept (APM Vol.2 15.10.2, Figure 15-2).
 * EXITINFO2 holds the RIP of the instruction after the IN/OUT.
 */
#define SVM_IOIO_TYPE_IN	BIT_ULL(0)	/* 1 = IN/INS, 0 = OUT/OUTS */
#define SVM_IOIO_STR		BIT_ULL(2)	/* INS/OUTS */
#define SVM_IOIO_REP		BIT_ULL(3)	/* REP prefix */
#define SVM_IOIO_SZ8		BIT_ULL(4)	/* operand size, one-hot */
#define SVM_IOIO_SZ16		BIT_ULL(5)
#define SVM_IOIO_SZ32		BIT_ULL(6)
#define SVM_IOIO_A16		BIT_ULL(7)	/* address size, one-hot */
#define SVM_IOIO_A32		BIT_ULL(8)
#define SVM_IOIO_A64		BIT_ULL(9)
#define SVM_IOIO_SEG_SHIFT	10		/* 12:10 segment (decode assists) */
#define SVM_IOIO_SEG_MASK	(7ULL << SVM_IOIO_SEG_SHIFT)
#define SVM_IOIO_PORT_SHIFT	16		/* 31:16 port number */

/*
 * EXITINFO1 of a nested page fault: a #PF-style error code (APM Vol.2
 * 15.25.6). EXITINFO2 holds the guest-physical address.
 */
#define SVM_NPF_P		BIT_ULL(0)	/* a translation was present */
#define SVM_NPF_RW		BIT_ULL(1)	/* the access was a write */
#define SVM_NPF_US		BIT_ULL(2)	/* always 1: NPT walks are "user" */
#define SVM_NPF_RSV		BIT_ULL(3)	/* a reserved bit was set */
#define SVM_NPF_ID		BIT_ULL(4)	/* instruction fetch */
#define SVM_NPF_FINAL		BIT_ULL(32)	/* translating the final GPA */
#define SVM_NPF_TABLE		BIT_ULL(33)	/* translating a guest PT page */

/*
 * EXITINFO1 of a MOV CRn/DRn intercept with decode assists (APM Vol.2
 * 15.33.1): bit 63 says bits 3:0 name the general-purpose register.
 */
#define SVM_EXITINFO_MOV_VALID	BIT_ULL(63)
#define SVM_EXITINFO_MOV_GPR	0xfULL

/* VMCB clean bits at offset 0C0h: we keep them all 0 (APM Vol.2 15.15). */

/*
 * One segment register as the VMCB stores it (APM Vol.2 15.5.1, Table
 * B-2): the hidden descriptor cache, with the 12 attribute bits of the
 * descriptor (bits 47:40 and 55:52) packed into one 16-bit word.
 */
struct vmcb_seg {
	u16 selector;
	u16 attrib;
	u32 limit;		/* expanded to bytes, G already applied */
	u64 base;
} __packed;

/* The packed attribute word (APM Vol.2 15.5.1 "Segment State in the VMCB"). */
#define SVM_SEG_TYPE_MASK	0x00f	/* descriptor bits 43:40 */
#define SVM_SEG_S		BIT(4)	/* 44: code/data, not system */
#define SVM_SEG_DPL_SHIFT	5	/* 46:45 */
#define SVM_SEG_DPL_MASK	(3 << SVM_SEG_DPL_SHIFT)
#define SVM_SEG_P		BIT(7)	/* 47: present */
#define SVM_SEG_AVL		BIT(8)	/* 52 */
#define SVM_SEG_L		BIT(9)	/* 53: 64-bit code segment */
#define SVM_SEG_DB		BIT(10)	/* 54: default operand size */
#define SVM_SEG_G		BIT(11)	/* 55: granularity */

/* Segment types used at reset (APM Vol.2 4.7.2, 4.7.4, Table 4-5/4-6). */
#define SEG_TYPE_DATA_RW	0x2
#define SEG_TYPE_CODE_RX	0xa
#define SEG_TYPE_LDT		0x2
#define SEG_TYPE_BUSY_TSS16	0x3

/*
 * The control area, 1 KiB (APM Vol.2 Appendix B, Table B-1). Fields we
 * never use are left as named reserved space so that the offsets below
 * can be checked against the table.
 */
struct vmcb_control {
	u32 intercepts[VMCB_NR_ICPT_WORDS];	/* 000h */
	u8 reserved_1[0x03c - 0x018];
	u16 pause_filter_thresh;		/* 03Ch */
	u16 pause_filter_count;			/* 03Eh */
	u64 iopm_base_pa;			/* 040h */
	u64 msrpm_base_pa;			/* 048h */
	u64 tsc_offset;				/* 050h */
	u32 asid;				/* 058h */
	u8 tlb_control;				/* 05Ch */
	u8 reserved_2[3];
	u32 int_ctl;				/* 060h: V_TPR, V_IRQ, ... */
	u32 int_vector;				/* 064h */
	u32 int_state;				/* 068h: interrupt shadow */
	u8 reserved_3[4];
	u64 exit_code;				/* 070h: SVM_EXIT_* */
	u64 exit_info_1;			/* 078h */
	u64 exit_info_2;			/* 080h */
	u64 exit_int_info;			/* 088h: EVENTINJ format */
	u64 nested_ctl;				/* 090h: NP_ENABLE */
	u64 avic_vapic_bar;			/* 098h */
	u64 ghcb_gpa;				/* 0A0h */
	u64 event_inj;				/* 0A8h */
	u64 nested_cr3;				/* 0B0h: nCR3 */
	u64 virt_ext;				/* 0B8h: LBR virtualization */
	u32 clean;				/* 0C0h: VMCB clean bits */
	u32 reserved_5;
	u64 next_rip;				/* 0C8h: nRIP (NRIPS) */
	u8 insn_len;				/* 0D0h: bytes fetched */
	u8 insn_bytes[15];			/* 0D1h (decode assists) */
	u8 reserved_6[0x400 - 0x0e0];		/* AVIC, SEV: unused */
} __packed;

/* ------------------------------------------------------------------ */
/* State save area (APM Vol.2 Appendix B, Table B-2)                   */
/* ------------------------------------------------------------------ */

/* Offsets are from the start of the save area, i.e. VMCB offset - 400h. */
struct vmcb_save {
	struct vmcb_seg es;			/* 000h */
	struct vmcb_seg cs;			/* 010h */
	struct vmcb_seg ss;			/* 020h */
	struct vmcb_seg ds;			/* 030h */
	struct vmcb_seg fs;			/* 040h */
	struct vmcb_seg gs;			/* 050h */
	struct vmcb_seg gdtr;			/* 060h: limit, base only */
	struct vmcb_seg ldtr;			/* 070h */
	struct vmcb_seg idtr;			/* 080h: limit, base only */
	struct vmcb_seg tr;			/* 090h */
	u8 reserved_1[0x0cb - 0x0a0];
	u8 cpl;					/* 0CBh */
	u8 reserved_2[4];
	u64 efer;				/* 0D0h */
	u8 reserved_3[0x148 - 0x0d8];
	u64 cr4;				/* 148h */
	u64 cr3;				/* 150h */
	u64 cr0;				/* 158h */
	u64 dr7;				/* 160h */
	u64 dr6;				/* 168h */
	u64 rflags;				/* 170h */
	u64 rip;				/* 178h */
	u8 reserved_4[0x1d8 - 0x180];
	u64 rsp;				/* 1D8h */
	u64 s_cet;				/* 1E0h */
	u64 ssp;				/* 1E8h */
	u64 isst_addr;				/* 1F0h */
	u64 rax;				/* 1F8h */
	u64 star;				/* 200h: VMLOAD/VMSAVE ... */
	u64 lstar;				/* 208h */
	u64 cstar;				/* 210h */
	u64 sfmask;				/* 218h */
	u64 kernel_gs_base;			/* 220h */
	u64 sysenter_cs;			/* 228h */
	u64 sysenter_esp;			/* 230h */
	u64 sysenter_eip;			/* 238h: ... down to here */
	u64 cr2;				/* 240h */
	u8 reserved_5[0x268 - 0x248];
	u64 g_pat;				/* 268h: guest PAT with NPT */
	u64 dbgctl;				/* 270h */
	u64 br_from;				/* 278h */
	u64 br_to;				/* 280h */
	u64 last_excp_from;			/* 288h */
	u64 last_excp_to;			/* 290h */
	u8 reserved_6[0x2e0 - 0x298];
	u64 spec_ctrl;				/* 2E0h (V_SPEC_CTRL only) */
} __packed;

/* The whole block: one page, page-aligned (APM Vol.2 15.5). */
struct vmcb {
	struct vmcb_control control;
	struct vmcb_save save;
	u8 reserved[4096 - 0x400 - sizeof(struct vmcb_save)];
} __packed;

/* Layout checks against Tables B-1 and B-2. */
static_assert(sizeof(struct vmcb_seg) == 16);
static_assert(sizeof(struct vmcb_control) == 0x400);
static_assert(offsetof(struct vmcb_control, pause_filter_thresh) == 0x03c);
static_assert(offsetof(struct vmcb_control, iopm_base_pa) == 0x040);
static_assert(offsetof(struct vmcb_control, msrpm_base_pa) == 0x048);
static_assert(offsetof(struct vmcb_control, tsc_offset) == 0x050);
static_assert(offsetof(struct vmcb_control, asid) == 0x058);
static_assert(offsetof(struct vmcb_control, tlb_control) == 0x05c);
static_assert(offsetof(struct vmcb_control, int_ctl) == 0x060);
static_assert(offsetof(struct vmcb_control, int_state) == 0x068);
static_assert(offsetof(struct vmcb_control, exit_code) == 0x070);
static_assert(offsetof(struct vmcb_control, exit_info_1) == 0x078);
static_assert(offsetof(struct vmcb_control, exit_info_2) == 0x080);
static_assert(offsetof(struct vmcb_control, exit_int_info) == 0x088);
static_assert(offsetof(struct vmcb_control, nested_ctl) == 0x090);
static_assert(offsetof(struct vmcb_control, event_inj) == 0x0a8);
static_assert(offsetof(struct vmcb_control, nested_cr3) == 0x0b0);
static_assert(offsetof(struct vmcb_control, clean) == 0x0c0);
static_assert(offsetof(struct vmcb_control, next_rip) == 0x0c8);
static_assert(offsetof(struct vmcb_control, insn_len) == 0x0d0);
static_assert(offsetof(struct vmcb_control, insn_bytes) == 0x0d1);
static_assert(offsetof(struct vmcb_save, tr) == 0x090);
static_assert(offsetof(struct vmcb_save, cpl) == 0x0cb);
static_assert(offsetof(struct vmcb_save, efer) == 0x0d0);
static_assert(offsetof(struct vmcb_save, cr4) == 0x148);
static_assert(offsetof(struct vmcb_save, rip) == 0x178);
static_assert(offsetof(struct vmcb_save, rsp) == 0x1d8);
static_assert(offsetof(struct vmcb_save, rax) == 0x1f8);
static_assert(offsetof(struct vmcb_save, star) == 0x200);
static_assert(offsetof(struct vmcb_save, sysenter_eip) == 0x238);
static_assert(offsetof(struct vmcb_save, cr2) == 0x240);
static_assert(offsetof(struct vmcb_save, g_pat) == 0x268);
static_assert(offsetof(struct vmcb_save, spec_ctrl) == 0x2e0);
static_assert(offsetof(struct vmcb, save) == 0x400);
static_assert(sizeof(struct vmcb) == 4096);

/* ------------------------------------------------------------------ */
/* Exit codes (APM Vol.2 Appendix C, Table C-1)                        */
/* ------------------------------------------------------------------ */

#define SVM_EXIT_READ_CR0	0x000	/* + n: read of CRn */
#define SVM_EXIT_WRITE_CR0	0x010	/* + n: write of CRn */
#define SVM_EXIT_READ_DR0	0x020	/* + n: read of DRn */
#define SVM_EXIT_READ_DR7	0x027
#define SVM_EXIT_WRITE_DR0	0x030	/* + n: write of DRn */
#define SVM_EXIT_WRITE_DR7	0x037
#define SVM_EXIT_EXCP_BASE	0x040	/* + vector: exception intercepts */
#define SVM_EXIT_DB		(SVM_EXIT_EXCP_BASE + 1)
#define SVM_EXIT_BP		(SVM_EXIT_EXCP_BASE + 3)
#define SVM_EXIT_UD		(SVM_EXIT_EXCP_BASE + 6)
#define SVM_EXIT_AC		(SVM_EXIT_EXCP_BASE + 17)
#define SVM_EXIT_MC		(SVM_EXIT_EXCP_BASE + 18)
#define SVM_EXIT_INTR		0x060
#define SVM_EXIT_NMI		0x061
#define SVM_EXIT_SMI		0x062
#define SVM_EXIT_INIT		0x063
#define SVM_EXIT_VINTR		0x064
#define SVM_EXIT_CR0_SEL_WRITE	0x065
#define SVM_EXIT_RDTSC		0x06e
#define SVM_EXIT_RDPMC		0x06f
#define SVM_EXIT_PUSHF		0x070
#define SVM_EXIT_POPF		0x071
#define SVM_EXIT_CPUID		0x072
#define SVM_EXIT_RSM		0x073
#define SVM_EXIT_IRET		0x074
#define SVM_EXIT_SWINT		0x075
#define SVM_EXIT_INVD		0x076
#define SVM_EXIT_PAUSE		0x077
#define SVM_EXIT_HLT		0x078
#define SVM_EXIT_INVLPG		0x079
#define SVM_EXIT_INVLPGA	0x07a
#define SVM_EXIT_IOIO		0x07b
#define SVM_EXIT_MSR		0x07c
#define SVM_EXIT_TASK_SWITCH	0x07d
#define SVM_EXIT_FERR_FREEZE	0x07e
#define SVM_EXIT_SHUTDOWN	0x07f
#define SVM_EXIT_VMRUN		0x080
#define SVM_EXIT_VMMCALL	0x081
#define SVM_EXIT_VMLOAD		0x082
#define SVM_EXIT_VMSAVE		0x083
#define SVM_EXIT_STGI		0x084
#define SVM_EXIT_CLGI		0x085
#define SVM_EXIT_SKINIT		0x086
#define SVM_EXIT_RDTSCP		0x087
#define SVM_EXIT_ICEBP		0x088
#define SVM_EXIT_WBINVD		0x089
#define SVM_EXIT_MONITOR	0x08a
#define SVM_EXIT_MWAIT		0x08b
#define SVM_EXIT_MWAIT_COND	0x08c
#define SVM_EXIT_XSETBV		0x08d
#define SVM_EXIT_RDPRU		0x08e
#define SVM_EXIT_EFER_WRITE_TRAP 0x08f
#define SVM_EXIT_NPF		0x400	/* nested page fault (15.25.6) */
#define SVM_EXIT_ERR		(~0ULL)	/* -1: VMRUN found invalid state */

#endif /* MINIKVM_SVM_VMCB_H */
