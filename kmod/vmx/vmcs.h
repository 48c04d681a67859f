/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Intel VMX hardware layouts: VMCS field encodings, control bits, exit
 * reasons, exit-qualification formats and VM-instruction error numbers.
 *
 * Only layouts live here; the logic that uses them is in vmx.c, state.c,
 * exit.c and ept.c (STYLE.md 7).
 *
 * References are to the Intel SDM Vol.3C in its current numbering (2023
 * and later editions): chapter 25 is the VMCS, 26 VMX non-root operation,
 * 27 VM entries, 28 VM exits, 29 EPT, 31 the VMX instruction reference,
 * appendix A the capability MSRs, B the field encodings, C the exit
 * reasons. Editions before 2023 number chapters 24..30 one lower.
 *
 * This header is also included by vmenter.S, so everything outside the
 * __ASSEMBLY__ guard must be a plain #define.
 */
#ifndef MKVM_VMX_VMCS_H
#define MKVM_VMX_VMCS_H

/* ------------------------------------------------------------------ */
/* VMCS field encodings (SDM appendix B; format in 25.11.2)  */
/* ------------------------------------------------------------------ */

/*
 * A field encoding is a 32-bit number built from four parts:
 *   bit 0      access type: 0 = full, 1 = high 32 bits of a 64-bit field
 *   bits 9:1   index
 *   bits 11:10 type: 0 control, 1 VM-exit information (read-only),
 *              2 guest state, 3 host state
 *   bits 14:13 width: 0 16-bit, 1 64-bit, 2 32-bit, 3 natural width
 * VMCS_ENC() builds one; the static_asserts at the end of this file check
 * that the table below agrees with it.
 */
#define VMCS_W16	0
#define VMCS_W64	1
#define VMCS_W32	2
#define VMCS_WNAT	3
#define VMCS_T_CTRL	0
#define VMCS_T_RO	1
#define VMCS_T_GUEST	2
#define VMCS_T_HOST	3
#define VMCS_ENC(width, type, index) \
	(((width) << 13) | ((type) << 10) | ((index) << 1))
#define VMCS_ENC_WIDTH(enc)	(((enc) >> 13) & 3)
#define VMCS_ENC_TYPE(enc)	(((enc) >> 10) & 3)

/* 16-bit control fields (B.1.1) */
#define VMCS_VPID			0x00000000
/* 16-bit guest-state fields (B.1.2): selectors, ES CS SS DS FS GS LDTR TR */
#define VMCS_GUEST_ES_SELECTOR		0x00000800
#define VMCS_GUEST_CS_SELECTOR		0x00000802
#define VMCS_GUEST_SS_SELECTOR		0x00000804
#define VMCS_GUEST_DS_SELECTOR		0x00000806
#define VMCS_GUEST_FS_SELECTOR		0x00000808
#define VMCS_GUEST_GS_SELECTOR		0x0000080a
#define VMCS_GUEST_LDTR_SELECTOR	0x0000080c
#define VMCS_GUEST_TR_SELECTOR		0x0000080e
/* 16-bit host-state fields (B.1.3) */
#define VMCS_HOST_ES_SELECTOR		0x00000c00
#define VMCS_HOST_CS_SELECTOR		0x00000c02
#define VMCS_HOST_SS_SELECTOR		0x00000c04
#define VMCS_HOST_DS_SELECTOR		0x00000c06
#define VMCS_HOST_FS_SELECTOR		0x00000c08
#define VMCS_HOST_GS_SELECTOR		0x00000c0a
#define VMCS_HOST_TR_SELECTOR		0x00000c0c

/* 64-bit control fields (B.2.1) */
#define VMCS_IO_BITMAP_A		0x00002000
#define VMCS_IO_BITMAP_B		0x00002002
#define VMCS_MSR_BITMAP			0x00002004
#define VMCS_EXIT_MSR_STORE_ADDR	0x00002006
#define VMCS_EXIT_MSR_LOAD_ADDR		0x00002008
#define VMCS_ENTRY_MSR_LOAD_ADDR	0x0000200a
#define VMCS_TSC_OFFSET			0x00002010
#define VMCS_EPT_POINTER		0x0000201a
/* 64-bit read-only data field (B.2.2) */
#define VMCS_GUEST_PHYSICAL_ADDRESS	0x00002400
/* 64-bit guest-state fields (B.2.3) */
#define VMCS_LINK_POINTER		0x00002800
#define VMCS_GUEST_IA32_DEBUGCTL	0x00002802
#define VMCS_GUEST_IA32_PAT		0x00002804
#define VMCS_GUEST_IA32_EFER		0x00002806
#define VMCS_GUEST_PDPTE0		0x0000280a
#define VMCS_GUEST_PDPTE1		0x0000280c
#define VMCS_GUEST_PDPTE2		0x0000280e
#define VMCS_GUEST_PDPTE3		0x00002810
/* 64-bit host-state fields (B.2.4) */
#define VMCS_HOST_IA32_PAT		0x00002c00
#define VMCS_HOST_IA32_EFER		0x00002c02

/* 32-bit control fields (B.3.1) */
#define VMCS_PIN_CONTROLS		0x00004000
#define VMCS_PROC_CONTROLS		0x00004002
#define VMCS_EXCEPTION_BITMAP		0x00004004
#define VMCS_PF_ERROR_CODE_MASK		0x00004006
#define VMCS_PF_ERROR_CODE_MATCH	0x00004008
#define VMCS_CR3_TARGET_COUNT		0x0000400a
#define VMCS_EXIT_CONTROLS		0x0000400c
#define VMCS_EXIT_MSR_STORE_COUNT	0x0000400e
#define VMCS_EXIT_MSR_LOAD_COUNT	0x00004010
#define VMCS_ENTRY_CONTROLS		0x00004012
#define VMCS_ENTRY_MSR_LOAD_COUNT	0x00004014
#define VMCS_ENTRY_INTR_INFO		0x00004016
#define VMCS_ENTRY_EXCEPTION_ERROR_CODE	0x00004018
#define VMCS_ENTRY_INSTRUCTION_LEN	0x0000401a
#define VMCS_PROC_CONTROLS2		0x0000401e
/* 32-bit read-only data fields (B.3.2) */
#define VMCS_INSTRUCTION_ERROR		0x00004400
#define VMCS_EXIT_REASON		0x00004402
#define VMCS_EXIT_INTR_INFO		0x00004404
#define VMCS_EXIT_INTR_ERROR_CODE	0x00004406
#define VMCS_IDT_VECTORING_INFO		0x00004408
#define VMCS_IDT_VECTORING_ERROR_CODE	0x0000440a
#define VMCS_EXIT_INSTRUCTION_LEN	0x0000440c
#define VMCS_EXIT_INSTRUCTION_INFO	0x0000440e
/* 32-bit guest-state fields (B.3.3): limits, then access rights */
#define VMCS_GUEST_ES_LIMIT		0x00004800
#define VMCS_GUEST_CS_LIMIT		0x00004802
#define VMCS_GUEST_SS_LIMIT		0x00004804
#define VMCS_GUEST_DS_LIMIT		0x00004806
#define VMCS_GUEST_FS_LIMIT		0x00004808
#define VMCS_GUEST_GS_LIMIT		0x0000480a
#define VMCS_GUEST_LDTR_LIMIT		0x0000480c
#define VMCS_GUEST_TR_LIMIT		0x0000480e
#define VMCS_GUEST_GDTR_LIMIT		0x00004810
#define VMCS_GUEST_IDTR_LIMIT		0x00004812
#define VMCS_GUEST_ES_AR		0x00004814
#define VMCS_GUEST_CS_AR		0x00004816
#define VMCS_GUEST_SS_AR		0x00004818
#define VMCS_GUEST_DS_AR		0x0000481a
#define VMCS_GUEST_FS_AR		0x0000481c
#define VMCS_GUEST_GS_AR		0x0000481e
#define VMCS_GUEST_LDTR_AR		0x00004820
#define VMCS_GUEST_TR_AR		0x00004822
#define VMCS_GUEST_INTERRUPTIBILITY	0x00004824
#define VMCS_GUEST_ACTIVITY_STATE	0x00004826
#define VMCS_GUEST_SYSENTER_CS		0x0000482a
#define VMCS_GUEST_PREEMPTION_TIMER	0x0000482e
/* 32-bit host-state field (B.3.4) */
#define VMCS_HOST_SYSENTER_CS		0x00004c00

/* 32-bit control fields for PAUSE-loop exiting (B.2.1, 25.6.13) */
#define VMCS_PLE_GAP			0x00004020
#define VMCS_PLE_WINDOW			0x00004022

/* Natural-width control fields (B.4.1) */
#define VMCS_CR0_GUEST_HOST_MASK	0x00006000
#define VMCS_CR4_GUEST_HOST_MASK	0x00006002
#define VMCS_CR0_READ_SHADOW		0x00006004
#define VMCS_CR4_READ_SHADOW		0x00006006
/* Natural-width read-only data field (B.4.2) */
#define VMCS_EXIT_QUALIFICATION		0x00006400
/* Natural-width guest-state fields (B.4.3): bases in ES..TR order */
#define VMCS_GUEST_CR0			0x00006800
#define VMCS_GUEST_CR3			0x00006802
#define VMCS_GUEST_CR4			0x00006804
#define VMCS_GUEST_ES_BASE		0x00006806
#define VMCS_GUEST_CS_BASE		0x00006808
#define VMCS_GUEST_SS_BASE		0x0000680a
#define VMCS_GUEST_DS_BASE		0x0000680c
#define VMCS_GUEST_FS_BASE		0x0000680e
#define VMCS_GUEST_GS_BASE		0x00006810
#define VMCS_GUEST_LDTR_BASE		0x00006812
#define VMCS_GUEST_TR_BASE		0x00006814
#define VMCS_GUEST_GDTR_BASE		0x00006816
#define VMCS_GUEST_IDTR_BASE		0x00006818
#define VMCS_GUEST_DR7			0x0000681a
#define VMCS_GUEST_RSP			0x0000681c
#define VMCS_GUEST_RIP			0x0000681e
#define VMCS_GUEST_RFLAGS		0x00006820
#define VMCS_GUEST_PENDING_DBG_EXCEPTIONS 0x00006822
#define VMCS_GUEST_SYSENTER_ESP		0x00006824
#define VMCS_GUEST_SYSENTER_EIP		0x00006826
/* Natural-width host-state fields (B.4.4) */
#define VMCS_HOST_CR0			0x00006c00
#define VMCS_HOST_CR3			0x00006c02
#define VMCS_HOST_CR4			0x00006c04
#define VMCS_HOST_FS_BASE		0x00006c06
#define VMCS_HOST_GS_BASE		0x00006c08
#define VMCS_HOST_TR_BASE		0x00006c0a
#define VMCS_HOST_GDTR_BASE		0x00006c0c
#define VMCS_HOST_IDTR_BASE		0x00006c0e
#define VMCS_HOST_SYSENTER_ESP		0x00006c10
#define VMCS_HOST_SYSENTER_EIP		0x00006c12
#define VMCS_HOST_RSP			0x00006c14
#define VMCS_HOST_RIP			0x00006c16

/* ------------------------------------------------------------------ */
/* VM-execution controls (25.6)                                        */
/* ------------------------------------------------------------------ */

/* Pin-based controls (25.6.1 Table 25-5) */
#define PIN_EXTINT_EXITING		(1u << 0)	/* external interrupts exit */
#define PIN_NMI_EXITING			(1u << 3)	/* NMIs exit */
#define PIN_VIRTUAL_NMIS		(1u << 5)
#define PIN_PREEMPTION_TIMER		(1u << 6)	/* 25.5.1 */

/* Primary processor-based controls (25.6.2 Table 25-6) */
#define PROC_INTR_WINDOW_EXITING	(1u << 2)
#define PROC_USE_TSC_OFFSETTING		(1u << 3)
#define PROC_HLT_EXITING		(1u << 7)
#define PROC_INVLPG_EXITING		(1u << 9)
#define PROC_MWAIT_EXITING		(1u << 10)
#define PROC_RDPMC_EXITING		(1u << 11)
#define PROC_RDTSC_EXITING		(1u << 12)
#define PROC_CR3_LOAD_EXITING		(1u << 15)
#define PROC_CR3_STORE_EXITING		(1u << 16)
#define PROC_CR8_LOAD_EXITING		(1u << 19)
#define PROC_CR8_STORE_EXITING		(1u << 20)
#define PROC_USE_TPR_SHADOW		(1u << 21)
#define PROC_NMI_WINDOW_EXITING		(1u << 22)
#define PROC_MOV_DR_EXITING		(1u << 23)
#define PROC_UNCOND_IO_EXITING		(1u << 24)
#define PROC_USE_IO_BITMAPS		(1u << 25)
#define PROC_MONITOR_TRAP_FLAG		(1u << 27)
#define PROC_USE_MSR_BITMAPS		(1u << 28)
#define PROC_MONITOR_EXITING		(1u << 29)
#define PROC_PAUSE_EXITING		(1u << 30)
#define PROC_SECONDARY_CONTROLS		(1u << 31)

/* Secondary processor-based controls (25.6.2 Table 25-7) */
#define PROC2_VIRTUALIZE_APIC		(1u << 0)
#define PROC2_ENABLE_EPT		(1u << 1)
#define PROC2_DESC_TABLE_EXITING	(1u << 2)
#define PROC2_ENABLE_RDTSCP		(1u << 3)
#define PROC2_ENABLE_VPID		(1u << 5)
#define PROC2_WBINVD_EXITING		(1u << 6)
#define PROC2_PAUSE_LOOP_EXITING	(1u << 10)	/* 25.6.13 */
#define PROC2_UNRESTRICTED_GUEST	(1u << 7)
#define PROC2_ENABLE_INVPCID		(1u << 12)
#define PROC2_ENABLE_XSAVES		(1u << 20)

/* VM-exit controls (25.7.1) */
#define EXIT_SAVE_DEBUG_CONTROLS	(1u << 2)
#define EXIT_HOST_ADDR_SPACE_SIZE	(1u << 9)	/* host runs in 64-bit mode */
#define EXIT_ACK_INTR_ON_EXIT		(1u << 15)
#define EXIT_SAVE_IA32_PAT		(1u << 18)
#define EXIT_LOAD_IA32_PAT		(1u << 19)
#define EXIT_SAVE_IA32_EFER		(1u << 20)
#define EXIT_LOAD_IA32_EFER		(1u << 21)

/* VM-entry controls (25.8.1) */
#define ENTRY_LOAD_DEBUG_CONTROLS	(1u << 2)
#define ENTRY_IA32E_MODE_GUEST		(1u << 9)	/* guest is in long mode */
#define ENTRY_LOAD_IA32_PAT		(1u << 14)
#define ENTRY_LOAD_IA32_EFER		(1u << 15)

/* ------------------------------------------------------------------ */
/* Event information (25.8.3, 25.9.2, 25.9.3)              */
/* ------------------------------------------------------------------ */

/*
 * One format serves the VM-entry interruption-information field (what to
 * inject), the VM-exit interruption information (what caused an exception
 * exit) and the IDT-vectoring information (what was being delivered when
 * the exit happened).
 */
#define VMX_INTR_INFO_VECTOR_MASK		0xffu		/* bits 7:0 */
#define VMX_INTR_INFO_TYPE_SHIFT		8		/* bits 10:8 */
#define VMX_INTR_INFO_TYPE_MASK		(7u << VMX_INTR_INFO_TYPE_SHIFT)
#define VMX_INTR_INFO_DELIVER_CODE		(1u << 11)	/* push an error code */
#define VMX_INTR_INFO_NMI_UNBLOCK_IRET	(1u << 12)	/* exit info only */
#define VMX_INTR_INFO_VALID			(1u << 31)

#define VMX_INTR_TYPE_EXT_INTR		0	/* external interrupt */
#define VMX_INTR_TYPE_NMI			2
#define VMX_INTR_TYPE_HW_EXCEPTION		3
#define VMX_INTR_TYPE_SOFT_INTR		4	/* INT n */
#define VMX_INTR_TYPE_PRIV_SW_EXCEPTION	5	/* INT1 (ICEBP) */
#define VMX_INTR_TYPE_SOFT_EXCEPTION	6	/* INT3, INTO */

/* Guest interruptibility state (25.4.2 Table 25-3) */
#define INTERRUPTIBILITY_STI		(1u << 0)	/* blocking by STI */
#define INTERRUPTIBILITY_MOV_SS		(1u << 1)	/* blocking by MOV SS */
#define INTERRUPTIBILITY_NMI		(1u << 3)

/* Guest activity state (25.4.2) */
#define ACTIVITY_ACTIVE			0

/* ------------------------------------------------------------------ */
/* Segment access rights (25.4.1 Table 25-2)                           */
/* ------------------------------------------------------------------ */

/*
 * The VMCS keeps a segment's attributes in the layout of bits 8..23 of
 * the high dword of a descriptor (type, S, DPL, P, AVL, L, D/B, G), with
 * bits 11:8 reserved, plus bit 16 "unusable" that has no counterpart in a
 * descriptor: a null selector loaded into DS, say, makes DS unusable.
 */
#define VMX_AR_TYPE_MASK			0xfu		/* bits 3:0 */
#define VMX_AR_TYPE_ACCESSED		(1u << 0)
#define VMX_AR_S				(1u << 4)	/* code/data, not system */
#define VMX_AR_DPL_SHIFT			5		/* bits 6:5 */
#define VMX_AR_P				(1u << 7)
#define VMX_AR_AVL				(1u << 12)
#define VMX_AR_L				(1u << 13)	/* 64-bit code segment */
#define VMX_AR_DB				(1u << 14)
#define VMX_AR_G				(1u << 15)
#define VMX_AR_UNUSABLE			(1u << 16)

/* System-segment types found in TR and LDTR (SDM Vol.3A 3.5 Table 3-2) */
#define VMX_AR_TYPE_LDT			2
#define VMX_AR_TYPE_BUSY_TSS16		3
#define VMX_AR_TYPE_BUSY_TSS64		11	/* also the 32-bit busy TSS */

/* ------------------------------------------------------------------ */
/* Exit reasons (25.9.1, appendix C)                       */
/* ------------------------------------------------------------------ */

#define VMX_EXIT_REASON_BASIC		0xffffu		/* bits 15:0 */
#define VMX_EXIT_REASON_FAILED_ENTRY	(1u << 31)	/* VM-entry failure */

#define VMX_EXIT_EXCEPTION_NMI	0
#define VMX_EXIT_EXTERNAL_INTR	1
#define VMX_EXIT_TRIPLE_FAULT	2
#define VMX_EXIT_INIT_SIGNAL		3
#define VMX_EXIT_SIPI		4
#define VMX_EXIT_INTR_WINDOW		7
#define VMX_EXIT_NMI_WINDOW		8
#define VMX_EXIT_TASK_SWITCH		9
#define VMX_EXIT_CPUID		10
#define VMX_EXIT_GETSEC		11
#define VMX_EXIT_HLT			12
#define VMX_EXIT_INVD		13
#define VMX_EXIT_INVLPG		14
#define VMX_EXIT_RDPMC		15
#define VMX_EXIT_RDTSC		16
#define VMX_EXIT_RSM			17
#define VMX_EXIT_VMCALL		18
#define VMX_EXIT_VMCLEAR		19
#define VMX_EXIT_VMLAUNCH		20
#define VMX_EXIT_VMPTRLD		21
#define VMX_EXIT_VMPTRST		22
#define VMX_EXIT_VMREAD		23
#define VMX_EXIT_VMRESUME		24
#define VMX_EXIT_VMWRITE		25
#define VMX_EXIT_VMXOFF		26
#define VMX_EXIT_VMXON		27
#define VMX_EXIT_CR_ACCESS		28
#define VMX_EXIT_DR_ACCESS		29
#define VMX_EXIT_IO_INSTRUCTION	30
#define VMX_EXIT_RDMSR		31
#define VMX_EXIT_WRMSR		32
#define VMX_EXIT_INVALID_STATE	33	/* entry failure: guest state */
#define VMX_EXIT_MSR_LOAD_FAIL	34	/* entry failure: MSR loading */
#define VMX_EXIT_MWAIT		36
#define VMX_EXIT_MONITOR_TRAP	37
#define VMX_EXIT_MONITOR		39
#define VMX_EXIT_PAUSE		40
#define VMX_EXIT_MCE_DURING_ENTRY	41	/* entry failure: machine check */
#define VMX_EXIT_TPR_BELOW_THRESHOLD	43
#define VMX_EXIT_APIC_ACCESS		44
#define VMX_EXIT_GDTR_IDTR		46
#define VMX_EXIT_LDTR_TR		47
#define VMX_EXIT_EPT_VIOLATION	48
#define VMX_EXIT_EPT_MISCONFIG	49
#define VMX_EXIT_INVEPT		50
#define VMX_EXIT_RDTSCP		51
#define VMX_EXIT_PREEMPTION_TIMER	52
#define VMX_EXIT_INVVPID		53
#define VMX_EXIT_WBINVD		54
#define VMX_EXIT_XSETBV		55
#define VMX_EXIT_RDRAND		57
#define VMX_EXIT_INVPCID		58
#define VMX_EXIT_VMFUNC		59
#define VMX_EXIT_RDSEED		61
#define VMX_EXIT_XSAVES		63
#define VMX_EXIT_XRSTORS		64
#define VMX_EXIT_MAX			75	/* table size; newer ones land on "unexpected" */

/* ------------------------------------------------------------------ */
/* Exit qualifications (28.2.1)                                        */
/* ------------------------------------------------------------------ */

/* Control-register accesses (Table 28-3) */
#define QUAL_CR_NUM(q)			((q) & 0xf)		/* bits 3:0 */
#define QUAL_CR_ACCESS(q)		(((q) >> 4) & 3)	/* bits 5:4 */
#define QUAL_CR_ACCESS_MOV_TO		0
#define QUAL_CR_ACCESS_MOV_FROM		1
#define QUAL_CR_ACCESS_CLTS		2
#define QUAL_CR_ACCESS_LMSW		3
#define QUAL_CR_GPR(q)			(((q) >> 8) & 0xf)	/* bits 11:8 */
#define QUAL_CR_LMSW_DATA(q)		(((q) >> 16) & 0xffff)	/* bits 31:16 */

/* MOV DR (Table 28-4) */
#define QUAL_DR_NUM(q)			((q) & 7)		/* bits 2:0 */
#define QUAL_DR_FROM			(1u << 4)		/* MOV from DR */
#define QUAL_DR_GPR(q)			(((q) >> 8) & 0xf)	/* bits 11:8 */

/* I/O instructions (Table 28-5) */
#define QUAL_IO_SIZE(q)			(((q) & 7) + 1)		/* 0,1,3 -> 1,2,4 */
#define QUAL_IO_IN			(1u << 3)
#define QUAL_IO_STRING			(1u << 4)
#define QUAL_IO_REP			(1u << 5)
#define QUAL_IO_IMMEDIATE		(1u << 6)		/* port in imm8, not DX */
#define QUAL_IO_PORT(q)			(((q) >> 16) & 0xffff)	/* bits 31:16 */

/* EPT violations (Table 28-7) */
#define QUAL_EPT_READ			(1u << 0)	/* the access was a read */
#define QUAL_EPT_WRITE			(1u << 1)	/* ... a write */
#define QUAL_EPT_FETCH			(1u << 2)	/* ... an instruction fetch */
#define QUAL_EPT_READABLE		(1u << 3)	/* the translation allowed read */
#define QUAL_EPT_WRITABLE		(1u << 4)	/* ... write */
#define QUAL_EPT_EXECUTABLE		(1u << 5)	/* ... execute */
#define QUAL_EPT_GLA_VALID		(1u << 7)
#define QUAL_EPT_NMI_UNBLOCK_IRET	(1u << 12)

/*
 * VM-exit instruction information for INS/OUTS (28.2.5 Table 28-8). Only
 * valid if IA32_VMX_BASIC bit 54 is set; the segment is undefined for INS,
 * which always writes through ES.
 */
#define INSN_INFO_ADDR_SIZE(i)		(((i) >> 7) & 7)	/* 0 16, 1 32, 2 64 bit */
#define INSN_INFO_SEG(i)		(((i) >> 15) & 7)	/* ES CS SS DS FS GS */

/* ------------------------------------------------------------------ */
/* VM-instruction error numbers (31.4 Table 31-1)                      */
/* ------------------------------------------------------------------ */

#define VMXERR_VMCALL_IN_ROOT		1
#define VMXERR_VMCLEAR_BAD_ADDR		2
#define VMXERR_VMCLEAR_VMXON_PTR	3
#define VMXERR_VMLAUNCH_NOT_CLEAR	4
#define VMXERR_VMRESUME_NOT_LAUNCHED	5
#define VMXERR_VMRESUME_AFTER_VMXOFF	6
#define VMXERR_ENTRY_BAD_CONTROLS	7
#define VMXERR_ENTRY_BAD_HOST_STATE	8
#define VMXERR_VMPTRLD_BAD_ADDR		9
#define VMXERR_VMPTRLD_VMXON_PTR	10
#define VMXERR_VMPTRLD_BAD_REVISION	11
#define VMXERR_UNSUPPORTED_FIELD	12
#define VMXERR_VMWRITE_READ_ONLY	13
#define VMXERR_VMXON_IN_ROOT		15
#define VMXERR_ENTRY_EVENTS_BLOCKED_MOVSS 26
#define VMXERR_BAD_INVEPT_INVVPID	28

/* ------------------------------------------------------------------ */
/* Capability MSR bits (appendix A)                                    */
/* ------------------------------------------------------------------ */

/* IA32_VMX_BASIC (A.1) */
#define VMX_BASIC_REVISION(b)		((u32)(b) & 0x7fffffff)	/* bits 30:0 */
#define VMX_BASIC_REGION_SIZE(b)	(((b) >> 32) & 0x1fff)	/* bits 44:32 */
#define VMX_BASIC_32BIT_ADDR		(1ull << 48)
#define VMX_BASIC_MEMTYPE(b)		(((b) >> 50) & 0xf)	/* bits 53:50 */
#define VMX_BASIC_INOUT_INFO		(1ull << 54)	/* INS/OUTS insn info */
#define VMX_BASIC_TRUE_MSRS		(1ull << 55)	/* IA32_VMX_TRUE_* exist */

/* IA32_VMX_EPT_VPID_CAP (A.10) */
#define VMX_EPT_WALK_4			(1ull << 6)	/* 4-level walk supported */
#define VMX_EPT_MT_WB			(1ull << 14)	/* WB EPT structures */
#define VMX_EPT_INVEPT			(1ull << 20)
#define VMX_EPT_INVEPT_SINGLE		(1ull << 25)
#define VMX_EPT_INVEPT_ALL		(1ull << 26)
#define VMX_VPID_INVVPID		(1ull << 32)
#define VMX_VPID_INVVPID_SINGLE		(1ull << 41)
#define VMX_VPID_INVVPID_ALL		(1ull << 42)

/* INVEPT / INVVPID types (31.3 "INVEPT", "INVVPID") */
#define INVEPT_SINGLE_CONTEXT		1
#define INVEPT_ALL_CONTEXT		2
#define INVVPID_SINGLE_CONTEXT		1
#define INVVPID_ALL_CONTEXT		2

/* Memory types: the PAT encodings (SDM Vol.3A "Memory Cache Control") */
#define VMX_MEMTYPE_UC			0
#define VMX_MEMTYPE_WB			6

#ifndef __ASSEMBLY__

#include <linux/build_bug.h>
#include <linux/stddef.h>
#include <linux/types.h>

/*
 * The VMCS region (25.2): a 4-byte revision identifier (bit 31 says
 * "shadow VMCS"), a 4-byte abort indicator, then data whose layout only
 * the processor knows. The VMXON region (25.11.5) starts the same way.
 */
struct vmcs_hdr {
	u32 revision_id;
	u32 abort;
};
static_assert(sizeof(struct vmcs_hdr) == 8);
static_assert(offsetof(struct vmcs_hdr, abort) == 4);

/*
 * One entry of a VM-exit MSR-store, VM-exit MSR-load or VM-entry MSR-load
 * area (25.7.2): 16 bytes, the area 16-byte aligned.
 */
struct vmx_msr_entry {
	u32 index;
	u32 reserved;
	u64 value;
} __aligned(16);
static_assert(sizeof(struct vmx_msr_entry) == 16);
static_assert(offsetof(struct vmx_msr_entry, value) == 8);

/* INVEPT descriptor (31.3 "INVEPT"): the EPTP, then 64 reserved bits. */
struct vmx_invept_desc {
	u64 eptp;
	u64 reserved;
};
static_assert(sizeof(struct vmx_invept_desc) == 16);

/* INVVPID descriptor (31.3 "INVVPID"): VPID in bits 15:0, linear address. */
struct vmx_invvpid_desc {
	u64 vpid;
	u64 gla;
};
static_assert(sizeof(struct vmx_invvpid_desc) == 16);

/* The encodings above agree with their width and type (25.11.2). */
static_assert(VMCS_ENC(VMCS_W16, VMCS_T_GUEST, 1) == VMCS_GUEST_CS_SELECTOR);
static_assert(VMCS_ENC(VMCS_W16, VMCS_T_HOST, 6) == VMCS_HOST_TR_SELECTOR);
static_assert(VMCS_ENC(VMCS_W64, VMCS_T_CTRL, 13) == VMCS_EPT_POINTER);
static_assert(VMCS_ENC(VMCS_W64, VMCS_T_RO, 0) == VMCS_GUEST_PHYSICAL_ADDRESS);
static_assert(VMCS_ENC(VMCS_W64, VMCS_T_GUEST, 3) == VMCS_GUEST_IA32_EFER);
static_assert(VMCS_ENC(VMCS_W64, VMCS_T_HOST, 1) == VMCS_HOST_IA32_EFER);
static_assert(VMCS_ENC(VMCS_W32, VMCS_T_CTRL, 15) == VMCS_PROC_CONTROLS2);
static_assert(VMCS_ENC(VMCS_W32, VMCS_T_RO, 1) == VMCS_EXIT_REASON);
static_assert(VMCS_ENC(VMCS_W32, VMCS_T_GUEST, 17) == VMCS_GUEST_TR_AR);
static_assert(VMCS_ENC(VMCS_WNAT, VMCS_T_CTRL, 3) == VMCS_CR4_READ_SHADOW);
static_assert(VMCS_ENC(VMCS_WNAT, VMCS_T_RO, 0) == VMCS_EXIT_QUALIFICATION);
static_assert(VMCS_ENC(VMCS_WNAT, VMCS_T_GUEST, 15) == VMCS_GUEST_RIP);
static_assert(VMCS_ENC(VMCS_WNAT, VMCS_T_HOST, 10) == VMCS_HOST_RSP);
static_assert(VMCS_ENC(VMCS_WNAT, VMCS_T_HOST, 11) == VMCS_HOST_RIP);
/* Per-segment fields step by one index in ES CS SS DS FS GS LDTR TR order. */
static_assert(VMCS_GUEST_TR_SELECTOR - VMCS_GUEST_ES_SELECTOR == 7 * 2);
static_assert(VMCS_GUEST_TR_LIMIT - VMCS_GUEST_ES_LIMIT == 7 * 2);
static_assert(VMCS_GUEST_TR_AR - VMCS_GUEST_ES_AR == 7 * 2);
static_assert(VMCS_GUEST_TR_BASE - VMCS_GUEST_ES_BASE == 7 * 2);

#endif /* __ASSEMBLY__ */
#endif /* MKVM_VMX_VMCS_H */
