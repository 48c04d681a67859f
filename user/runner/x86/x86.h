/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * x86.h: where the VMM puts things in guest physical memory, and the bits of
 * the x86 architecture it needs to set up a CPU mode.
 *
 *   0x000500  GDT (null, null, 64-bit code 0x10, data 0x18, 32-bit code 0x20)
 *   0x001000  raw real-mode image (default --entry)
 *   0x007000  boot_params, the Linux "zero page"
 *   0x009000  page tables: PML4, PDPT, 4 page directories mapping 0-4 GiB
 *             with 2 MiB pages (identity)
 *   0x020000  kernel command line
 *   0x09fc00  top of conventional memory (640 KiB - 1 KiB, the EBDA)
 *   0x0f0000  the MP table (mptable.c), where a BIOS would keep it
 *   0x100000  Linux protected-mode kernel; raw prot/long image (default)
 *
 * Above RAM, with the in-kernel irqchip (decoded by KVM, not by this VMM):
 *   0xfec00000  the IOAPIC          0xfee00000  the local APICs
 */
#ifndef RUNNER_X86_H
#define RUNNER_X86_H

#include <stddef.h>
#include <stdint.h>

#define GDT_ADDR		0x0500
#define REAL_IMAGE_ADDR		0x1000
#define BOOT_PARAMS_ADDR	0x7000
#define PML4_ADDR		0x9000
#define PDPT_ADDR		0xa000
#define PD_ADDR			0xb000	/* 4 pages */
#define CMDLINE_ADDR		0x20000
#define CMDLINE_MAX		0x10000
#define EBDA_ADDR		0x9fc00
#define BIOS_ADDR		0xf0000
#define HIGH_ADDR		0x100000
#define MPTABLE_ADDR		0xf0000
#define IOAPIC_ADDR		0xfec00000u
#define LAPIC_ADDR		0xfee00000u

/* GDT selectors, as the Linux boot protocol wants them (__BOOT_CS/__BOOT_DS). */
#define SEL_CODE64	0x10
#define SEL_DATA	0x18
#define SEL_CODE32	0x20

#define CR0_PE		(1u << 0)
#define CR0_ET		(1u << 4)
#define CR0_NE		(1u << 5)
#define CR0_PG		(1u << 31)
#define CR4_PAE		(1u << 5)
#define EFER_LME	(1u << 8)
#define EFER_LMA	(1u << 10)

/* Page table entry bits (SDM Vol.3 4.5, APM Vol.2 5.3). */
#define PTE_P		(1ull << 0)
#define PTE_RW		(1ull << 1)
#define PTE_PS		(1ull << 7)

/* mptable.c: the MP spec 1.4 table that tells the guest about its CPUs. */
size_t mptable__size(int nr_cpus);
void mptable__write(uint8_t *buf, uint32_t gpa, int nr_cpus,
		    uint32_t cpu_signature, uint32_t cpu_features);

#endif /* RUNNER_X86_H */
