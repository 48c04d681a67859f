// SPDX-License-Identifier: GPL-2.0-only
/*
 * Nested page tables (NPT): AMD's two-dimensional paging.
 *
 * With NP_ENABLE set in the VMCB, every guest-physical address the guest
 * produces - after its own page tables, which it manages freely - is
 * translated once more through a table rooted at nCR3 (APM Vol.2 15.25.3
 * "Nested Paging Facility"). The core (tdp.c) builds and walks that table;
 * this file only says what one entry looks like.
 *
 * The answer is short: nested tables are ordinary x86-64 long-mode page
 * tables, in the format the host itself uses (APM Vol.2 15.25.5 "Nested
 * Table Walk"; Vol.2 5.3 "Long-Mode Page Translation"):
 *
 *   bit 0  P    present
 *   bit 1  R/W  writable
 *   bit 2  U/S  user - and NPT checks every guest access as a user access
 *               (15.25.5), so U must be 1 at every level or nothing works
 *   bit 5  A    accessed, bit 6 D dirty: set them ourselves so the walker
 *               never has to write them back
 *   bit 63 NX   no execute (honoured because the host runs with EFER.NXE)
 *
 * Contrast with Intel's EPT (vmx/ept.c), whose entries have separate R/W/X
 * bits and a memory type field of their own.
 *
 * One subtlety: the nested walk uses the host's paging mode at VMRUN
 * (15.25.3). A host running with 5-level paging (CR4.LA57) therefore walks
 * a 5-level nested table; svm.c gives the core's 4-level table a one-entry
 * top level in that case (svm_npt_root()).
 */
#include "minikvm.h"
#include "svm.h"

#define NPT_P	BIT_ULL(0)
#define NPT_RW	BIT_ULL(1)
#define NPT_US	BIT_ULL(2)
#define NPT_A	BIT_ULL(5)
#define NPT_D	BIT_ULL(6)
#define NPT_NX	BIT_ULL(63)
/* Bits 51:12: the physical address of the next table or of the page. */
#define NPT_ADDR_MASK	GENMASK_ULL(51, 12)

/*
 * svm_tdp_pte - make a nested page table entry.
 * @pa:		host-physical address of the next-level table or the page
 * @leaf:	a 4 KiB page mapping rather than a pointer to a table
 * @write:	guest may write through this entry
 * @exec:	guest may fetch instructions through this entry
 *
 * Non-leaf entries grant everything: the leaf decides. The memory-type
 * bits (PWT, PCD, PAT) stay 0, i.e. PAT entry 0, write-back in the host's
 * PAT; the guest's own PAT (VMCB G_PAT) then combines with it (15.25.8).
 */
u64 svm_tdp_pte(phys_addr_t pa, bool leaf, bool write, bool exec)
{
	u64 pte = (pa & NPT_ADDR_MASK) | NPT_P | NPT_US | NPT_A;

	if (!leaf)
		return pte | NPT_RW;
	if (write)
		pte |= NPT_RW | NPT_D;
	if (!exec)
		pte |= NPT_NX;
	return pte;
}

bool svm_tdp_present(u64 pte)
{
	return pte & NPT_P;
}

/*
 * The root the hardware walks for a core table rooted at @root.
 *
 * 4-level host: the core's table itself. 5-level host: a per-VM page
 * (one per address space) whose entry 0 points at the core's table, covering guest-physical
 * addresses below 2^48 - all the memory a guest can have here.
 */
phys_addr_t svm_npt_root(struct mkvm *vm, phys_addr_t root)
{
	struct svm_vm *svm_vm = vm->vendor;
	int as;

	/* One top page per address space, filled once (svm_vm_init()). */
	for (as = 0; svm_vm->pml5[0] && as < MKVM_NR_AS; as++)
		if (root == vm->tdp.root_pa[as])
			return svm_vm->pml5_pa[as];
	return root;
}

/*
 * The core tells us a (new) root for the VMCB's nCR3 (offset 0B0h), which
 * the CPU reads at every VMRUN; svm_vcpu_reset() sets the first one.
 */
void svm_set_tdp_root(struct mkvm_vcpu *vcpu, phys_addr_t root)
{
	struct vcpu_svm *svm = to_svm(vcpu);

	svm->vmcb->control.nested_cr3 = svm_npt_root(vcpu->vm, root);
}
