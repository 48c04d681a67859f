// SPDX-License-Identifier: GPL-2.0-only
/*
 * minikvm: a software walk of the guest's page tables.
 *
 * x86 has four ways to turn a linear address into a physical one
 * (SDM Vol.3 4.1.1, Table 4-1), picked by CR0.PG, CR4.PAE, EFER.LMA and
 * CR4.LA57. All of them are the same idea: split the address into
 * indexes, one per level; each index selects an entry in a table whose
 * address the previous entry (or CR3) gave; the last entry gives the page
 * frame and the rest of the address is the offset into the page. They
 * differ only in numbers, which struct paging_mode below holds:
 *
 *   mode         levels  entry  index bits  large pages       SDM Vol.3
 *   32-bit          2     4 B     10        4 MiB (CR4.PSE)   4.3
 *   PAE             3     8 B     9 (2 top) 2 MiB             4.4
 *   4-level         4     8 B     9         1 GiB, 2 MiB      4.5
 *   5-level         5     8 B     9         1 GiB, 2 MiB      4.5
 *
 * On the way down the walk collects the permission bits of every level
 * (R/W, U/S and, with EFER.NXE, XD): an access is allowed only if every
 * level allows it (SDM Vol.3 4.6).
 *
 * Simplifications, each documented where it matters:
 *  - Accessed and dirty bits are not set. The core walks to read
 *    instruction bytes or to find a string I/O buffer, and the guest's
 *    own access, when it retires or restarts, is what the CPU accounts
 *    for; writing guest page tables from the host would also race with
 *    the guest's other vCPUs, which would need atomic updates.
 *  - Reserved bits are not checked, so a guest that sets them gets a
 *    translation where hardware would raise #PF with RSVD set.
 *  - SMAP and protection keys are not modelled; SMEP is.
 *  - PAE PDPTEs are read from memory at each walk, while the CPU loads
 *    them into registers when CR3 is written (SDM Vol.3 4.4.1).
 */
#ifdef __KERNEL__
#include <linux/bits.h>
#include <linux/errno.h>
#endif

#include "gpt.h"

/* Control register bits (SDM Vol.3 2.5, 2.2.1). */
#define CR0_WP		BIT_ULL(16)
#define CR0_PG		BIT_ULL(31)
#define CR4_PSE		BIT_ULL(4)
#define CR4_PAE		BIT_ULL(5)
#define CR4_LA57	BIT_ULL(12)
#define CR4_SMEP	BIT_ULL(20)
#define EFER_LMA	BIT_ULL(10)
#define EFER_NXE	BIT_ULL(11)

/* Paging-structure entry bits (SDM Vol.3 4.3, 4.4.2, 4.5). */
#define PTE_P		BIT_ULL(0)	/* present */
#define PTE_RW		BIT_ULL(1)	/* writable */
#define PTE_US		BIT_ULL(2)	/* user-accessible */
#define PTE_PS		BIT_ULL(7)	/* page size: maps a large page */
#define PTE_XD		BIT_ULL(63)	/* execute-disable, if EFER.NXE */

/* Bits 51:12 of an 8-byte entry: the next table or the page frame. */
#define PTE_ADDR_MASK	0x000ffffffffff000ULL

#define PAGE_SHIFT_4K	12

struct paging_mode {
	int levels;		/* tables walked; the leaf table is level 1 */
	int pte_size;		/* 4 or 8 bytes */
	int index_bits;		/* bits of address per level */
	u64 root_mask;		/* CR3 bits that locate the top table */
	u64 addr_mask;		/* entry bits that locate the next one */
	unsigned int large;	/* BIT(level) where PS=1 maps a page */
	bool top_is_pdpte;	/* PAE: top level has no R/W, U/S, XD */
};

static const struct paging_mode mode_32bit = {
	/* SDM Vol.3 4.3: CR3 bits 31:12; 4 MiB pages need CR4.PSE. */
	.levels = 2, .pte_size = 4, .index_bits = 10,
	.root_mask = 0xfffff000ULL, .addr_mask = 0xfffff000ULL,
	.large = 1u << 2,
};

static const struct paging_mode mode_pae = {
	/*
	 * SDM Vol.3 4.4.1: CR3 bits 31:5 locate four 8-byte PDPTEs, indexed
	 * by linear address bits 31:30. Their R/W, U/S and XD positions are
	 * reserved: they do not restrict access.
	 */
	.levels = 3, .pte_size = 8, .index_bits = 9,
	.root_mask = 0xffffffe0ULL, .addr_mask = PTE_ADDR_MASK,
	.large = 1u << 2, .top_is_pdpte = true,
};

static const struct paging_mode mode_4level = {
	/* SDM Vol.3 4.5: PML4 at CR3 bits 51:12 (11:0 are PCID or flags). */
	.levels = 4, .pte_size = 8, .index_bits = 9,
	.root_mask = PTE_ADDR_MASK, .addr_mask = PTE_ADDR_MASK,
	.large = (1u << 2) | (1u << 3),
};

static const struct paging_mode mode_5level = {
	/* SDM Vol.3 4.5: a PML5 above the PML4, when CR4.LA57 = 1. */
	.levels = 5, .pte_size = 8, .index_bits = 9,
	.root_mask = PTE_ADDR_MASK, .addr_mask = PTE_ADDR_MASK,
	.large = (1u << 2) | (1u << 3),
};

/* What the walk found, and the permissions of the path down to it. */
struct walk_state {
	bool present;		/* every level had P = 1 */
	bool writable;		/* R/W = 1 at every level */
	bool user;		/* U/S = 1 at every level */
	bool nx;		/* XD = 1 at some level (with EFER.NXE) */
	u64 gpa;
};

/* Which of the four paging modes is on (SDM Vol.3 4.1.1, Table 4-1). */
static const struct paging_mode *select_mode(const struct mkvm_walk *w)
{
	if (w->efer & EFER_LMA)
		return (w->cr4 & CR4_LA57) ? &mode_5level : &mode_4level;
	if (w->cr4 & CR4_PAE)
		return &mode_pae;
	return &mode_32bit;
}

/*
 * A linear address is canonical when the bits above the top index
 * (bit 47, or bit 56 with 5 levels) are copies of it (SDM Vol.1 3.3.7.1).
 * Using one that is not raises #GP, not #PF.
 */
static bool is_canonical(u64 gva, int levels)
{
	int top = PAGE_SHIFT_4K + 9 * levels - 1;	/* 47 or 56 */
	u64 upper = gva >> top;

	return upper == 0 || upper == (~0ULL >> top);
}

/* Read one entry; a 4-byte entry is zero-extended. */
static int read_pte(const struct mkvm_walk *w, u64 addr, int size, u64 *pte)
{
	u32 pte32;
	int ret;

	if (size == 4)
		ret = w->read_gpa(w->opaque, addr, &pte32, 4);
	else
		ret = w->read_gpa(w->opaque, addr, pte, 8);
	if (ret)
		return ret == -EFAULT ? -EIO : ret;
	if (size == 4)
		*pte = pte32;
	return 0;
}

/* Fold one entry's permission bits into the path's (SDM Vol.3 4.6). */
static void collect_perms(const struct mkvm_walk *w,
			  const struct paging_mode *pm, u64 pte,
			  struct walk_state *ws)
{
	ws->writable &= !!(pte & PTE_RW);
	ws->user &= !!(pte & PTE_US);
	/* XD exists only in 8-byte entries, and only with EFER.NXE. */
	if (pm->pte_size == 8 && (w->efer & EFER_NXE))
		ws->nx |= !!(pte & PTE_XD);
}

/*
 * The frame a leaf maps: the address bits above the page size (for a
 * large page, the low ones are flags such as PAT). The odd one out is the
 * 32-bit 4 MiB PDE, which holds bits 31:22 in place and, with PSE-36,
 * bits 39:32 in its bits 20:13 (SDM Vol.3 4.3, Table 4-4).
 */
static u64 leaf_frame(const struct paging_mode *pm, u64 pte, int shift)
{
	if (pm->pte_size == 4 && shift > PAGE_SHIFT_4K)
		return (pte & 0xffc00000ULL) | (((pte >> 13) & 0xff) << 32);
	return pte & pm->addr_mask & ~((1ULL << shift) - 1);
}

static bool is_leaf(const struct mkvm_walk *w, const struct paging_mode *pm,
		    int level, u64 pte)
{
	if (level == 1)
		return true;	/* bit 7 of a PTE is PAT, not PS */
	if (!(pm->large & (1u << level)) || !(pte & PTE_PS))
		return false;
	/* In 32-bit paging PS is honoured only with CR4.PSE. */
	return pm->pte_size == 8 || (w->cr4 & CR4_PSE);
}

/* Walk from CR3 down to the leaf, or to the first non-present entry. */
static int walk(const struct mkvm_walk *w, const struct paging_mode *pm,
		u64 gva, struct walk_state *ws)
{
	u64 table = w->cr3 & pm->root_mask;
	u64 index_mask = (1ULL << pm->index_bits) - 1;
	int level, shift, ret;
	u64 pte;

	for (level = pm->levels; level >= 1; level--) {
		shift = PAGE_SHIFT_4K + pm->index_bits * (level - 1);
		ret = read_pte(w, table + ((gva >> shift) & index_mask) *
				  pm->pte_size, pm->pte_size, &pte);
		if (ret)
			return ret;
		if (!(pte & PTE_P)) {
			ws->present = false;
			return 0;
		}
		if (!(pm->top_is_pdpte && level == pm->levels))
			collect_perms(w, pm, pte, ws);
		if (is_leaf(w, pm, level, pte)) {
			ws->gpa = leaf_frame(pm, pte, shift) |
				  (gva & ((1ULL << shift) - 1));
			return 0;
		}
		table = pte & pm->addr_mask;
	}
	return 0;	/* not reached: level 1 is always a leaf */
}

/* Would this access fault on a present translation? (SDM Vol.3 4.6.1) */
static bool access_denied(const struct mkvm_walk *w, unsigned int access,
			  const struct walk_state *ws)
{
	bool write = access & MKVM_WALK_WRITE;
	bool fetch = access & MKVM_WALK_FETCH;

	if (access & MKVM_WALK_USER) {
		/* User mode: every level must say U/S=1, and R/W=1 to write. */
		if (!ws->user || (write && !ws->writable))
			return true;
	} else {
		/* Supervisor writes obey R/W only with CR0.WP = 1. */
		if (write && !ws->writable && (w->cr0 & CR0_WP))
			return true;
		/* SMEP: no supervisor fetch from a user page. */
		if (fetch && ws->user && (w->cr4 & CR4_SMEP))
			return true;
	}
	return fetch && ws->nx;
}

/*
 * The #PF error code (SDM Vol.3 4.7). I/D is reported only when fetches
 * can fault for a reason of their own: XD (PAE or 4/5-level paging with
 * EFER.NXE) or SMEP.
 */
static u32 pf_error_code(const struct mkvm_walk *w,
			 const struct paging_mode *pm, unsigned int access,
			 bool present)
{
	u32 err = 0;

	if (present)
		err |= MKVM_PFERR_PRESENT;
	if (access & MKVM_WALK_WRITE)
		err |= MKVM_PFERR_WRITE;
	if (access & MKVM_WALK_USER)
		err |= MKVM_PFERR_USER;
	if ((access & MKVM_WALK_FETCH) &&
	    ((pm->pte_size == 8 && (w->efer & EFER_NXE)) ||
	     (w->cr4 & CR4_SMEP)))
		err |= MKVM_PFERR_FETCH;
	return err;
}

int mkvm_walk_gva(const struct mkvm_walk *w, u64 gva, unsigned int access,
		  u64 *gpa, u32 *pf_error)
{
	struct walk_state ws = {
		.present = true, .writable = true, .user = true, .nx = false,
	};
	const struct paging_mode *pm;
	int ret;

	/*
	 * Paging off (SDM Vol.3 4.1.1): linear is physical. Without long
	 * mode (which requires paging) linear addresses are 32 bits wide.
	 */
	if (!(w->cr0 & CR0_PG)) {
		*gpa = gva & 0xffffffffULL;
		return 0;
	}

	pm = select_mode(w);
	if (pm->levels >= 4) {
		if (!is_canonical(gva, pm->levels))
			return -EINVAL;
	} else {
		gva &= 0xffffffffULL;
	}

	ret = walk(w, pm, gva, &ws);
	if (ret)
		return ret;
	if (!ws.present || access_denied(w, access, &ws)) {
		if (pf_error)
			*pf_error = pf_error_code(w, pm, access, ws.present);
		return -EFAULT;
	}
	*gpa = ws.gpa;
	return 0;
}
