/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * x86.h: architectural constants the selftests need to build guest state by hand.
 *
 * Everything here is defined by the processor manuals, not by KVM: control register
 * bits, EFER, paging entries, segment descriptor types and a few MSR indices. The
 * section numbers cite the Intel SDM (Vol.3) and the AMD APM (Vol.2).
 */
#ifndef SELFTESTS_X86_H
#define SELFTESTS_X86_H

#include <stdint.h>

/* CR0 (SDM 2.5, APM 3.1.1). */
#define X86_CR0_PE	(1UL << 0)	/* protection enable */
#define X86_CR0_MP	(1UL << 1)
#define X86_CR0_ET	(1UL << 4)	/* extension type: hardwired to 1 on modern CPUs */
#define X86_CR0_NE	(1UL << 5)	/* native x87 error reporting */
#define X86_CR0_WP	(1UL << 16)	/* supervisor writes honour read-only pages */
#define X86_CR0_NW	(1UL << 29)	/* not write-through */
#define X86_CR0_CD	(1UL << 30)	/* cache disable */
#define X86_CR0_PG	(1UL << 31)	/* paging */

/* CR4 (SDM 2.5, APM 3.1.3). */
#define X86_CR4_PSE	(1UL << 4)	/* 4 MiB pages in 32-bit paging */
#define X86_CR4_PAE	(1UL << 5)	/* physical address extension: required by long mode */
#define X86_CR4_MCE	(1UL << 6)	/* machine-check enable: #MC instead of shutdown */
#define X86_CR4_OSFXSR	(1UL << 9)

/* EFER, MSR 0xc0000080 (SDM 2.2.1, APM 3.1.7). */
#define MSR_EFER	0xc0000080
#define EFER_SCE	(1UL << 0)	/* SYSCALL enable */
#define EFER_LME	(1UL << 8)	/* long mode enable (what software asks for) */
#define EFER_LMA	(1UL << 10)	/* long mode active (LME && CR0.PG, set by the CPU) */
#define EFER_NXE	(1UL << 11)

/* RFLAGS (SDM 2.3): bit 1 is reserved and always reads as 1. */
#define X86_RFLAGS_FIXED	(1UL << 1)
#define X86_RFLAGS_IF		(1UL << 9)
#define X86_RFLAGS_DF		(1UL << 10)

/* Paging entries (SDM 4.3 for 32-bit paging, SDM 4.5 for 4-level paging). */
#define PTE_P		(1ULL << 0)	/* present */
#define PTE_RW		(1ULL << 1)	/* writable */
#define PTE_US		(1ULL << 2)	/* user */
#define PTE_PS		(1ULL << 7)	/* in a PDE/PDPTE: maps a large page */

/*
 * Segment descriptor types (SDM 3.4.5.1 and 3.5, APM 4.7/4.8). For code and data
 * segments (S=1) the low bit is "accessed"; for system segments (S=0) the type is
 * the whole 4-bit field.
 */
#define SEG_TYPE_DATA_RW	0x2	/* read/write data */
#define SEG_TYPE_DATA_RWA	0x3	/* ... accessed */
#define SEG_TYPE_CODE_XR	0xa	/* execute/read code */
#define SEG_TYPE_CODE_XRA	0xb	/* ... accessed */
#define SEG_TYPE_LDT		0x2
#define SEG_TYPE_TSS16_BUSY	0x3
#define SEG_TYPE_TSS_AVAIL	0x9	/* 32-bit TSS (64-bit TSS in long mode) */
#define SEG_TYPE_TSS_BUSY	0xb
#define SEG_TYPE_INT_GATE	0xe	/* 32-bit interrupt gate (64-bit in long mode) */

/* Exception vectors (SDM 6.3.1). */
#define DE_VECTOR	0
#define UD_VECTOR	6
#define DF_VECTOR	8
#define GP_VECTOR	13
#define PF_VECTOR	14
#define MC_VECTOR	18

/* MSRs used by the tests (SDM Vol.4, APM Vol.2 appendix A). */
#define MSR_IA32_SMBASE		0x9e	/* host-only: SMM state-save base */
#define MSR_IA32_SYSENTER_CS	0x174
#define MSR_IA32_SYSENTER_ESP	0x175
#define MSR_IA32_SYSENTER_EIP	0x176
#define MSR_STAR		0xc0000081
#define MSR_LSTAR		0xc0000082
#define MSR_KERNEL_GS_BASE	0xc0000102

/* Run CPUID on the host (the machine /dev/kvm runs on). */
static inline void host_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t *eax,
			      uint32_t *ebx, uint32_t *ecx, uint32_t *edx)
{
	asm volatile("cpuid"
		     : "=a"(*eax), "=b"(*ebx), "=c"(*ecx), "=d"(*edx)
		     : "a"(leaf), "c"(subleaf));
}

#endif /* SELFTESTS_X86_H */
