/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * guest.h: what the host side of a test and its guest code agree on.
 *
 * 1. The guest physical memory layout the library builds (GDT, IDT, TSS, page
 *    tables, stack, a data page, the code).
 * 2. How guest code is written: assembly between two labels, assembled together
 *    with the test program and copied into guest memory by the library.
 * 3. The "ucall": how the guest talks to the host, one OUT instruction.
 *
 * Guest code is assembled as part of the test binary but runs at another address,
 * GUEST_CODE_GPA, so it must be position independent: relative jumps and calls only,
 * RIP-relative data in 64-bit code, and absolute guest addresses only as plain
 * numbers (the layout below). GUEST_LABEL_GPA() computes the guest address of a label
 * inside the blob when an absolute one is needed (e.g. a far jump target).
 */
#ifndef SELFTESTS_GUEST_H
#define SELFTESTS_GUEST_H

#include <stdint.h>

#define __GSTR(x)	#x
#define GSTR(x)		__GSTR(x)

/*
 * Guest physical memory: memslot 0 covers GPA 0 .. GUEST_MEM_SIZE. Guest virtual
 * addresses equal guest physical ones (identity paging, flat segments).
 *
 *   0x00000  real-mode IVT, unused
 *   0x01000  GDT (selectors below)
 *   0x02000  IDT: 256 gates, 8 bytes each in 32-bit modes, 16 in long mode
 *   0x03000  TSS (only its descriptor matters: TR must hold a busy TSS to enter)
 *   0x04000  PML4, 0x05000 PDPT, 0x06000-0x09fff four PDs, 0x0a000 PT (long mode)
 *   0x0b000  PD, 0x0c000 PT (32-bit paging)
 *   0x0d000  stack, 8 KiB, growing down from 0x0f000
 *   0x0f000  data page, free for the test (zeroed)
 *   0x10000  guest code, up to 64 KiB
 *   0x20000  free for the test up to GUEST_MEM_SIZE
 *
 * The page tables map the low 4 GiB one to one: the first 2 MiB (long mode) or 4 MiB
 * (32-bit paging) with 4 KiB pages through a page table, the rest with large pages.
 * Addresses without a memslot behind them are MMIO (they exit to userspace).
 */
#define GUEST_MEM_SIZE		0x200000ULL
#define GUEST_GDT_GPA		0x1000
#define GUEST_IDT_GPA		0x2000
#define GUEST_TSS_GPA		0x3000
#define GUEST_PML4_GPA		0x4000
#define GUEST_PDPT_GPA		0x5000
#define GUEST_PD64_GPA		0x6000
#define GUEST_PT64_GPA		0xa000
#define GUEST_PD32_GPA		0xb000
#define GUEST_PT32_GPA		0xc000
#define GUEST_STACK_TOP		0xf000
#define GUEST_DATA_GPA		0xf000
#define GUEST_CODE_GPA		0x10000
#define GUEST_CODE_MAX		0x10000
#define GUEST_FREE_GPA		0x20000

/* GDT selectors. The TSS descriptor is 16 bytes (it spans two slots in long mode). */
#define SEL_CODE32	0x08	/* flat 32-bit code */
#define SEL_DATA	0x10	/* flat data, used for DS/ES/FS/GS/SS in every mode */
#define SEL_CODE64	0x18	/* 64-bit code (L=1) */
#define SEL_TSS		0x20
#define SEL_CODE16	0x30	/* 16-bit code, base 0, limit 64 KiB */
#define GDT_ENTRIES	7

/* The guest modes the library can start a vCPU in. */
enum guest_mode {
	MODE_REAL,	/* CR0.PE=0: 16-bit, CS base = GUEST_CODE_GPA */
	MODE_PROT32,	/* CR0.PE=1, no paging, flat 32-bit segments */
	MODE_PAGED32,	/* CR0.PE|PG, 2-level 32-bit paging (CR4.PSE for 4 MiB pages) */
	MODE_LONG64,	/* EFER.LME|LMA, CR0.PE|PG, CR4.PAE, 4-level paging, L=1 CS */
	NR_GUEST_MODES,
};

/*
 * GUEST_ASM(name, bits, body): define a blob of guest code.
 *
 * @bits is 16, 32 or 64 (the .codeNN directive the body is assembled with); @body is
 * a string of AT&T assembly. The blob lands in the test's read-only data between the
 * symbols name_start and name_end; GUEST_CODE(name) describes it for the library,
 * which copies it to GUEST_CODE_GPA. Other labels in the body (e.g. an exception
 * handler) can be declared in C as `extern const uint8_t label[]` and turned into
 * guest addresses with guest_code_gpa().
 */
#define GUEST_ASM(name, bits, body)						\
	extern const uint8_t name##_start[], name##_end[];			\
	asm(".pushsection .rodata.guest." #name ", \"a\"\n\t"			\
	    ".balign 16\n"							\
	    #name "_start:\n\t"							\
	    ".code" #bits "\n\t"						\
	    body "\n\t"								\
	    ".code64\n"								\
	    #name "_end:\n\t"							\
	    ".popsection")

struct guest_code {
	const uint8_t *start;
	const uint8_t *end;
};

#define GUEST_CODE(name)	((struct guest_code){ name##_start, name##_end })
/* The same as an initializer, for tables of cases. */
#define GUEST_CODE_INIT(name)	{ name##_start, name##_end }

/* The guest address of @label, a label inside the blob @name (usable in asm). */
#define GUEST_LABEL_GPA(name, label) \
	"(" #label " - " #name "_start + " GSTR(GUEST_CODE_GPA) ")"

/*
 * The ucall. The guest puts a command in EAX and up to four arguments in RDI, RSI,
 * RDX, RCX (the first four argument registers of the SysV ABI; in 16/32-bit code the
 * low halves) and executes `out %eax, $UCALL_PORT`. That exits to the host with
 * KVM_EXIT_IO; the host recognises port and size, reads the arguments with
 * KVM_GET_REGS and, after handling it, resumes the guest after the OUT.
 *
 * The port must not be 0x7e: KVM has a quirk for it (RIP is advanced before the exit).
 */
#define UCALL_PORT	0xe7

#define UCALL_NONE	0	/* the last exit was not a ucall */
#define UCALL_SYNC	1	/* "look at my arguments, then let me go on" */
#define UCALL_DONE	2	/* the guest finished */
#define UCALL_FAIL	3	/* the guest detected a failure; arg0 says which */
#define UCALL_EXCEPTION	4	/* an unexpected exception: vector, error code, RIP */

/* Assembly fragments for guest code; they clobber EAX only. */
#define GUEST_UCALL(cmd)	"mov $" GSTR(cmd) ", %eax\n\t"			\
				"out %eax, $" GSTR(UCALL_PORT) "\n\t"
#define GUEST_SYNC		GUEST_UCALL(UCALL_SYNC)
#define GUEST_FAIL		GUEST_UCALL(UCALL_FAIL)
/* Report DONE, then halt forever (HLT exits are harmless if the host runs again). */
#define GUEST_DONE		GUEST_UCALL(UCALL_DONE) "hlt\n\tjmp .-1\n\t"

#endif /* SELFTESTS_GUEST_H */
