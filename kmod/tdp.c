// SPDX-License-Identifier: GPL-2.0-only
/*
 * minikvm: two-dimensional paging (TDP), the core half of NPT and EPT.
 *
 * With NPT (AMD) or EPT (Intel) the CPU translates every guest-physical
 * address through a second page table that we own. It starts empty: the
 * first time the guest touches a page, the hardware exits (#NPF, EPT
 * violation), we find the memslot, pin the host page behind it and map it
 * here. Both tables are levels of 512 8-byte entries, with the address
 * in bits 51:12 (APM Vol.2 15.25.5, SDM Vol.3 29.3.2); only the permission
 * bits differ, so the vendor supplies mkvm_ops->tdp_pte() and this file
 * does the walk. The core builds 4 levels (48 bits of guest-physical
 * space); where the hardware insists on walking 5 (NPT follows the host's
 * paging mode, so a host with CR4.LA57 needs it) the vendor puts one more
 * page on top (svm/npt.c).
 *
 * Every leaf entry holds one pinned page. The table is therefore also the
 * record of what is pinned: zapping it unpins (mkvm_tdp_zap_all()). A leaf
 * also remembers whether its page was pinned for writing (TDP_PIN_WRITE):
 * only such a page may be marked dirty when it is given back.
 */
#define pr_fmt(fmt) "minikvm: " fmt

#include <linux/io.h>
#include <linux/mm.h>

#include "minikvm.h"

#define TDP_LEVELS	4
#define TDP_ENTRIES	512
#define TDP_ADDR_MASK	GENMASK_ULL(51, 12)
#define TDP_GPA_BITS	48
/*
 * A bit the hardware ignores in a leaf of both tables: NPT entries are
 * long-mode PTEs, bits 58:52 available to software (APM Vol.2 5.4.1); EPT
 * leaves ignore bits 57:52 (SDM Vol.3 29.3.2, table "Format of an EPT
 * Page-Table Entry"). Set when the page was pinned with FOLL_WRITE.
 */
#define TDP_PIN_WRITE	BIT_ULL(52)

static inline int tdp_index(u64 gpa, int level)
{
	return (gpa >> (PAGE_SHIFT + 9 * (level - 1))) & (TDP_ENTRIES - 1);
}

static inline u64 *tdp_next(u64 pte)
{
	return __va(pte & TDP_ADDR_MASK);
}

int mkvm_tdp_init(struct mkvm *vm)
{
	spin_lock_init(&vm->tdp.lock);
	vm->tdp.root = (u64 *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	vm->tdp.spare = (u64 *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	if (!vm->tdp.root || !vm->tdp.spare) {
		free_page((unsigned long)vm->tdp.root);
		free_page((unsigned long)vm->tdp.spare);
		vm->tdp.root = vm->tdp.spare = NULL;
		return -ENOMEM;
	}
	vm->tdp.root_pa = __pa(vm->tdp.root);
	return 0;
}

/*
 * Free a detached subtree: @table is a table at @level whose entries no
 * vCPU can reach any more. Leaves (level 1) give their pinned page back.
 */
static void tdp_free_table(u64 *table, int level)
{
	int i;

	for (i = 0; i < TDP_ENTRIES; i++) {
		u64 pte = table[i];
		struct page *page;

		if (!mkvm_ops->tdp_present(pte))
			continue;
		if (level > 1) {
			tdp_free_table(tdp_next(pte), level - 1);
			continue;
		}
		page = pfn_to_page((pte & TDP_ADDR_MASK) >> PAGE_SHIFT);
		/*
		 * A page pinned for writing goes back dirty (dirty logging may
		 * have taken write access away after the guest wrote it). One
		 * of a KVM_MEM_READONLY slot was pinned readonly and may be a
		 * page-cache page of a read-only file: marking it dirty would
		 * call into a filesystem that never expects it (isofs and
		 * squashfs have no dirty_folio, ext4 warns).
		 */
		unpin_user_pages_dirty_lock(&page, 1, pte & TDP_PIN_WRITE);
	}
	free_page((unsigned long)table);
}

/**
 * mkvm_tdp_zap_all() - drop every guest-physical mapping of @vm.
 *
 * The root's entries move to a private copy under the lock (from then on,
 * new faults build a fresh tree), every vCPU is kicked out of guest mode
 * and told to flush its TLB; only then, when no CPU can still use an old
 * translation, the old tree is freed and its pages unpinned. The copy is
 * the VM's spare page, allocated with the root: a zap cannot fail, and no
 * subtree is ever freed while a walk could still reach it. Called with
 * vm->lock held (one zap at a time: the spare is the lock's). May sleep.
 */
void mkvm_tdp_zap_all(struct mkvm *vm)
{
	u64 *old = vm->tdp.spare;
	int i;

	lockdep_assert_held(&vm->lock);
	spin_lock(&vm->tdp.lock);
	memcpy(old, vm->tdp.root, PAGE_SIZE);
	memset(vm->tdp.root, 0, PAGE_SIZE);
	vm->tdp.nr_tables = 0;
	WRITE_ONCE(vm->stat.pages_4k, 0);
	spin_unlock(&vm->tdp.lock);

	mkvm_kick_all(vm, MKVM_REQ_TLB_FLUSH);

	/* Every entry is cleared again: the spare is zeroed for the next zap. */
	for (i = 0; i < TDP_ENTRIES; i++) {
		if (mkvm_ops->tdp_present(old[i])) {
			tdp_free_table(tdp_next(old[i]), TDP_LEVELS - 1);
			old[i] = 0;
		}
	}
}

/*
 * Take write access away from the pages of @mask (bit i: frame gfn + i),
 * for dirty logging. The caller kicks the vCPUs with a TLB flush before it
 * relies on the result.
 */
void mkvm_tdp_write_protect(struct mkvm *vm, u64 gfn, unsigned long mask)
{
	struct mkvm_tdp *tdp = &vm->tdp;
	int bit, level;

	spin_lock(&tdp->lock);
	for_each_set_bit(bit, &mask, BITS_PER_LONG) {
		u64 gpa = (gfn + bit) << PAGE_SHIFT;
		u64 *table = tdp->root;

		for (level = TDP_LEVELS; level > 1; level--) {
			u64 pte = table[tdp_index(gpa, level)];

			if (!mkvm_ops->tdp_present(pte))
				break;
			table = tdp_next(pte);
		}
		if (level == 1 && mkvm_ops->tdp_present(table[tdp_index(gpa, 1)])) {
			u64 pte = table[tdp_index(gpa, 1)];

			table[tdp_index(gpa, 1)] = (pte & TDP_PIN_WRITE) |
				mkvm_ops->tdp_pte(pte & TDP_ADDR_MASK, true, false, true);
		}
	}
	spin_unlock(&tdp->lock);
}

void mkvm_tdp_destroy(struct mkvm *vm)
{
	if (!vm->tdp.root)
		return;
	/* No vCPU exists any more, so nobody to kick: free directly. */
	tdp_free_table(vm->tdp.root, TDP_LEVELS);
	free_page((unsigned long)vm->tdp.spare);
	vm->tdp.root = vm->tdp.spare = NULL;
}

/* Fill the vCPU's cache of zeroed pages; a fault may use one per level. */
static int tdp_topup_cache(struct mkvm_vcpu *vcpu)
{
	while (vcpu->nr_tdp_cache < MKVM_TDP_CACHE_PAGES) {
		void *p = (void *)get_zeroed_page(GFP_KERNEL_ACCOUNT);

		if (!p)
			return -ENOMEM;
		vcpu->tdp_cache[vcpu->nr_tdp_cache++] = p;
	}
	return 0;
}

void mkvm_tdp_free_cache(struct mkvm_vcpu *vcpu)
{
	while (vcpu->nr_tdp_cache)
		free_page((unsigned long)vcpu->tdp_cache[--vcpu->nr_tdp_cache]);
}

/*
 * Install a leaf for @gpa -> @page. The walk allocates missing tables from
 * the vCPU cache, so nothing sleeps under the spinlock. Returns -EEXIST if
 * another vCPU mapped the page first (the caller unpins its copy).
 */
static int tdp_map(struct mkvm_vcpu *vcpu, struct mkvm_memslot *slot,
		   u64 gpa, struct page *page, bool write, bool pinned_write)
{
	u64 pte;
	struct mkvm_tdp *tdp = &vcpu->vm->tdp;
	u64 *table = tdp->root;
	int level, idx, r = 0;

	spin_lock(&tdp->lock);
	for (level = TDP_LEVELS; level > 1; level--) {
		idx = tdp_index(gpa, level);
		if (!mkvm_ops->tdp_present(table[idx])) {
			void *next = vcpu->tdp_cache[--vcpu->nr_tdp_cache];

			table[idx] = mkvm_ops->tdp_pte(__pa(next), false, true,
						       true);
			tdp->nr_tables++;
		}
		table = tdp_next(table[idx]);
	}
	idx = tdp_index(gpa, 1);
	pte = table[idx];
	if (mkvm_ops->tdp_present(pte)) {
		/*
		 * Mapped already. A write to a page that dirty logging keeps
		 * readonly gets write access now; it keeps its own pin.
		 */
		if (write && !mkvm_ops->tdp_writable(pte))
			table[idx] = (pte & TDP_PIN_WRITE) |
				mkvm_ops->tdp_pte(pte & TDP_ADDR_MASK, true, true, true);
		r = -EEXIST;
	} else {
		table[idx] = mkvm_ops->tdp_pte(page_to_phys(page), true, write,
					       true) |
			     (pinned_write ? TDP_PIN_WRITE : 0);
		WRITE_ONCE(vcpu->vm->stat.pages_4k, vcpu->vm->stat.pages_4k + 1);
	}
	/*
	 * The page's dirty bit goes up under the same lock as the writable
	 * entry, never before it: KVM_GET_DIRTY_LOG clears bits first and
	 * then write-protects under this lock, so either it sees the bit
	 * (and takes write access away again), or the bit stays set for
	 * its next call. Set earlier, the bit could be taken and the entry
	 * installed afterwards, and the guest's writes through it would go
	 * unreported: a live migration would copy a stale page.
	 */
	if (write && slot->dirty_bitmap)
		set_bit((gpa >> PAGE_SHIFT) - slot->base_gfn, slot->dirty_bitmap);
	spin_unlock(&tdp->lock);
	return r;
}

/**
 * mkvm_tdp_fault_in() - map the RAM page behind guest-physical @gpa.
 * @vcpu: the faulting vCPU (its thread runs in the VMM's mm)
 * @slot: the memslot holding @gpa
 * @gpa: faulting guest-physical address
 * @write: the guest was writing
 *
 * Pins the page of the VMM's mapping (writable unless the slot is
 * readonly) with the kernel's long-term GUP, then maps it. In a slot with
 * dirty logging, a read maps the page readonly so that the first write
 * faults again, and a write sets the page's bit in the dirty bitmap.
 * Return: 1 to re-enter the guest, or -EFAULT when the VMM's mapping is
 * missing (KVM_RUN fails with EFAULT, as in KVM), -ENOMEM.
 */
int mkvm_tdp_fault_in(struct mkvm_vcpu *vcpu, struct mkvm_memslot *slot,
		      u64 gpa, bool write_access)
{
	bool write = !(slot->flags & KVM_MEM_READONLY);
	u64 rel = (gpa >> PAGE_SHIFT) - slot->base_gfn;
	bool map_write = write;
	unsigned long hva = slot->hva + rel * PAGE_SIZE;
	struct page *page;
	long n;
	int r;

	if (gpa >> TDP_GPA_BITS)
		return -EFAULT;
	r = tdp_topup_cache(vcpu);
	if (r)
		return r;
	/*
	 * Long-term pin: the page stays in the NPT/EPT until the slot or the
	 * VM goes, so it must not sit in a movable/CMA block. (The _fast
	 * variant is the one that accepts FOLL_LONGTERM on every kernel we
	 * build for; the _unlocked one WARNs on 6.1.)
	 */
	n = pin_user_pages_fast(hva, 1, FOLL_LONGTERM | (write ? FOLL_WRITE : 0),
				&page);
	if (n != 1)
		return -EFAULT;
	if (slot->dirty_bitmap)
		map_write = write && write_access;
	r = tdp_map(vcpu, slot, gpa, page, map_write, write);
	if (r == -EEXIST) {
		unpin_user_page(page);
		r = 0;
	}
	vcpu->stat.tdp_faults++;
	return r ? r : 1;
}
