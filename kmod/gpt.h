/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * minikvm: walking the guest's own page tables (guest-virtual ->
 * guest-physical), in software.
 *
 * The hardware walks the guest's tables for every guest access, but when
 * the core emulates an instruction it must do the same by hand: to fetch
 * the instruction bytes at CS:RIP, or to find the buffer of an INS/OUTS.
 *
 * Pure logic, no kernel dependencies: it reads guest memory only through
 * the callback in struct mkvm_walk, so the unit tests (tests/unit/) can
 * hand it page tables built in an ordinary buffer.
 */
#ifndef MINIKVM_GPT_H
#define MINIKVM_GPT_H

#ifdef __KERNEL__
#include <linux/types.h>
#else
#include "kcompat.h"
#endif

/**
 * struct mkvm_walk - the guest state a walk depends on.
 * @cr0:	guest CR0 (PG, WP)
 * @cr3:	guest CR3 (the root table)
 * @cr4:	guest CR4 (PSE, PAE, LA57, SMEP)
 * @efer:	guest EFER (LMA, NXE)
 * @read_gpa:	read @len (4 or 8) bytes of guest-physical memory at @gpa
 *		into @buf; 0 or -errno (best not -EFAULT, see below)
 * @opaque:	passed to @read_gpa
 */
struct mkvm_walk {
	u64 cr0, cr3, cr4, efer;
	int (*read_gpa)(void *opaque, u64 gpa, void *buf, int len);
	void *opaque;
};

/* Access flags: what the emulated instruction is doing. */
#define MKVM_WALK_WRITE		0x1	/* a write (else a read) */
#define MKVM_WALK_USER		0x2	/* at CPL 3 (else supervisor) */
#define MKVM_WALK_FETCH		0x4	/* an instruction fetch */

/* #PF error code bits (SDM Vol.3 4.7, Figure 4-12). */
#define MKVM_PFERR_PRESENT	0x01	/* 0: not present, 1: protection */
#define MKVM_PFERR_WRITE	0x02
#define MKVM_PFERR_USER		0x04
#define MKVM_PFERR_RSVD		0x08
#define MKVM_PFERR_FETCH	0x10

/**
 * mkvm_walk_gva() - translate a guest-virtual (linear) address.
 * @w:		guest control registers and a memory reader
 * @gva:	the linear address (segment base already added)
 * @access:	MKVM_WALK_* flags
 * @gpa:	the guest-physical address, on success
 * @pf_error:	the #PF error code, when -EFAULT is returned (may be NULL)
 *
 * Accessed and dirty bits are not set (see gpt.c).
 *
 * Return: 0; -EFAULT if the guest would take a page fault (inject #PF
 * with CR2 = @gva and *@pf_error); -EINVAL for a non-canonical address
 * (the guest would take #GP, not #PF); or an error from read_gpa, where
 * -EFAULT is turned into -EIO so that -EFAULT always means "#PF".
 */
int mkvm_walk_gva(const struct mkvm_walk *w, u64 gva, unsigned int access,
		  u64 *gpa, u32 *pf_error);

#endif /* MINIKVM_GPT_H */
