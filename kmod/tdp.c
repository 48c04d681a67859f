// SPDX-License-Identifier: GPL-2.0-only
/*
 * minikvm: two-dimensional paging (TDP), the core half of NPT and EPT.
 *
 * With NPT (AMD) or EPT (Intel) the CPU translates every guest-physical
 * address through a second page table that we own. It starts empty: the
 * first time the guest touches a page, the hardware exits (#NPF, EPT
 * violation), we find the memslot, look up the host page behind it and map
 * it here. Both tables are levels of 512 8-byte entries, with the address
 * in bits 51:12 (APM Vol.2 15.25.5, SDM Vol.3 29.3.2); only the permission
 * bits differ, so the vendor supplies mkvm_ops->tdp_pte() and this file
 * does the walk. The core builds 4 levels (48 bits of guest-physical
 * space); where the hardware insists on walking 5 (NPT follows the host's
 * paging mode, so a host with CR4.LA57 needs it) the vendor puts one more
 * page on top (svm/npt.c).
 *
 * Guest memory is ordinary memory of the VMM process: no page is pinned.
 * The table is a cache of the VMM's page tables, kept true by an MMU
 * notifier on the VM creator's mm, as KVM does (virt/kvm/kvm_main.c):
 *
 *  - Fault (mkvm_tdp_fault_in(), vCPU thread, may sleep): read
 *    tdp.mmu_seq, then get_user_pages_fast() one page with a normal
 *    reference (FOLL_WRITE only for a guest write; the fault may swap the
 *    page in, break COW, split KSM sharing); then, under tdp.lock, install
 *    the leaf only if no invalidation is running (tdp.mmu_in_progress == 0)
 *    and none ended since we read the sequence (tdp.mmu_seq unchanged).
 *    Otherwise map nothing and re-enter the guest: it faults again. Then
 *    a writable mapping dirties the page (set_page_dirty_lock()), and the
 *    reference is dropped. The leaf holds no reference.
 *  - invalidate_range_start (whoever changes the VMM's page tables:
 *    munmap, MADV_DONTNEED, reclaim and swap-out, KSM, THP, migration,
 *    writeback's page_mkclean): under tdp.lock, mmu_in_progress++ and
 *    clear the leaves of every slot page in the hva range; after the lock,
 *    kick every vCPU out of guest mode with a TLB flush request and wait
 *    (mkvm_kick_all()): when we return, no CPU can reach the old page.
 *  - invalidate_range_end: under tdp.lock, mmu_seq++, then
 *    mmu_in_progress--.
 *  - clear_young / clear_flush_young / test_young (reclaim's page aging):
 *    a present leaf counts as "accessed"; aging clears it, with the same
 *    kick, so that the guest's next access faults and is seen.
 *  - release (the mm goes away): clear every leaf, flush.
 *
 * Why the sequence works: a fault whose GUP saw the old page either takes
 * tdp.lock before the invalidation does (then its leaf exists and is
 * cleared by it) or after (then it sees mmu_in_progress, or mmu_seq moved,
 * and maps nothing).
 *
 * Locks, outermost first. vm->lock (mutex: slot changes, zap of the whole
 * tree) -> the mm's locks (held by whoever calls the notifier) ->
 * tdp.lock (spinlock: the tree, mmu_seq, mmu_in_progress, the counters
 * pages_4k and remote_tlb_flush). Nothing sleeps under tdp.lock and GUP
 * never runs under it. The notifier takes no mutex: it may be called where
 * sleeping is not allowed (the OOM reaper).
 *
 * Address spaces (memslot.c): a VM has one tree per space, the normal one
 * and the one a vCPU in System Management Mode runs on (smm.c switches
 * the vCPU's root). They share the lock, the sequence and the counters;
 * an invalidation clears the leaves of both, a zap empties both.
 *
 * Leaves are cleared, never freed, by an invalidation: tables stay until
 * mkvm_tdp_zap_all() (slot deleted or moved) or the VM goes, so a table
 * page is never freed while a walk could still reach it.
 */
#define pr_fmt(fmt) "minikvm: " fmt

#include <linux/io.h>
#include <linux/mm.h>
#include <linux/mmu_notifier.h>
#include <linux/swap.h>

#include "minikvm.h"

#define TDP_LEVELS	4
#define TDP_ENTRIES	512
#define TDP_ADDR_MASK	GENMASK_ULL(51, 12)
#define TDP_GPA_BITS	48

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
	struct mkvm_tdp *tdp = &vm->tdp;
	int as;

	spin_lock_init(&tdp->lock);
	for (as = 0; as < MKVM_NR_AS; as++) {
		tdp->root[as] = (u64 *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
		tdp->spare[as] = (u64 *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	}
	for (as = 0; as < MKVM_NR_AS; as++)
		if (!tdp->root[as] || !tdp->spare[as])
			goto err_free_pages;
	for (as = 0; as < MKVM_NR_AS; as++)
		tdp->root_pa[as] = __pa(tdp->root[as]);
	return 0;

err_free_pages:
	for (as = 0; as < MKVM_NR_AS; as++) {
		free_page((unsigned long)tdp->root[as]);
		free_page((unsigned long)tdp->spare[as]);
		tdp->root[as] = tdp->spare[as] = NULL;
	}
	return -ENOMEM;
}

/*
 * Free a detached subtree: @table is a table at @level whose entries no
 * vCPU can reach any more. Leaves hold no page reference: nothing to give
 * back but the tables themselves.
 */
static void tdp_free_table(u64 *table, int level)
{
	int i;

	for (i = 0; level > 1 && i < TDP_ENTRIES; i++)
		if (mkvm_ops->tdp_present(table[i]))
			tdp_free_table(tdp_next(table[i]), level - 1);
	free_page((unsigned long)table);
}

/**
 * mkvm_tdp_zap_all() - drop every guest-physical mapping of @vm.
 *
 * The roots' entries move to private copies under the lock (from then on,
 * new faults build fresh trees), every vCPU is kicked out of guest mode
 * and told to flush its TLB; only then, when no CPU can still use an old
 * translation, the old trees are freed. The copies are the VM's spare
 * pages, one per root, allocated with the roots: a zap cannot fail, and no
 * subtree is ever freed while a walk could still reach it. Called with
 * vm->lock held (one zap at a time: the spares are the lock's). May sleep.
 */
void mkvm_tdp_zap_all(struct mkvm *vm)
{
	struct mkvm_tdp *tdp = &vm->tdp;
	int as, i;

	lockdep_assert_held(&vm->lock);
	spin_lock(&tdp->lock);
	for (as = 0; as < MKVM_NR_AS; as++) {
		memcpy(tdp->spare[as], tdp->root[as], PAGE_SIZE);
		memset(tdp->root[as], 0, PAGE_SIZE);
	}
	tdp->nr_tables = 0;
	WRITE_ONCE(vm->stat.pages_4k, 0);
	/*
	 * Until our kick below, a vCPU may still use a translation from the
	 * old trees, which no invalidation can see any more: one that comes
	 * now must kick too before its pages are freed.
	 */
	tdp->flush_pending = true;
	spin_unlock(&tdp->lock);

	mkvm_kick_all(vm, MKVM_REQ_TLB_FLUSH);
	spin_lock(&tdp->lock);
	tdp->flush_pending = false;
	spin_unlock(&tdp->lock);

	/* Every entry is cleared again: the spares are zeroed for the next zap. */
	for (as = 0; as < MKVM_NR_AS; as++) {
		u64 *old = tdp->spare[as];

		for (i = 0; i < TDP_ENTRIES; i++) {
			if (mkvm_ops->tdp_present(old[i])) {
				tdp_free_table(tdp_next(old[i]), TDP_LEVELS - 1);
				old[i] = 0;
			}
		}
	}
}

/*
 * Take write access away from the pages of @mask (bit i: frame gfn + i),
 * for dirty logging. The caller kicks the vCPUs with a TLB flush before it
 * relies on the result.
 */
void mkvm_tdp_write_protect(struct mkvm *vm, int as, u64 gfn,
			    unsigned long mask)
{
	struct mkvm_tdp *tdp = &vm->tdp;
	int bit, level;

	spin_lock(&tdp->lock);
	for_each_set_bit(bit, &mask, BITS_PER_LONG) {
		u64 gpa = (gfn + bit) << PAGE_SHIFT;
		u64 *table = tdp->root[as];

		for (level = TDP_LEVELS; level > 1; level--) {
			u64 pte = table[tdp_index(gpa, level)];

			if (!mkvm_ops->tdp_present(pte))
				break;
			table = tdp_next(pte);
		}
		if (level == 1 && mkvm_ops->tdp_present(table[tdp_index(gpa, 1)])) {
			u64 pte = table[tdp_index(gpa, 1)];

			table[tdp_index(gpa, 1)] =
				mkvm_ops->tdp_pte(pte & TDP_ADDR_MASK, true, false, true);
		}
	}
	spin_unlock(&tdp->lock);
}

void mkvm_tdp_destroy(struct mkvm *vm)
{
	int as;

	/* No vCPU exists any more, so nobody to kick: free directly. */
	for (as = 0; as < MKVM_NR_AS; as++) {
		if (vm->tdp.root[as])
			tdp_free_table(vm->tdp.root[as], TDP_LEVELS);
		free_page((unsigned long)vm->tdp.spare[as]);
		vm->tdp.root[as] = vm->tdp.spare[as] = NULL;
	}
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
 * Clear the leaves for guest frames [@start, @end) under @table, a table at
 * @level whose first entry maps frame @base; only count them if !@clear.
 * Tables stay (see the top of the file). Returns the number of leaves
 * found. Caller holds tdp.lock.
 */
static unsigned long tdp_zap_leaves(u64 *table, int level, u64 base,
				    u64 start, u64 end, bool clear)
{
	u64 span = 1ULL << (9 * (level - 1));	/* frames one entry maps */
	unsigned long n = 0;
	int i;

	for (i = 0; i < TDP_ENTRIES; i++) {
		u64 gfn = base + i * span;

		if (gfn >= end)
			break;
		if (gfn + span <= start || !mkvm_ops->tdp_present(table[i]))
			continue;
		if (level > 1) {
			n += tdp_zap_leaves(tdp_next(table[i]), level - 1, gfn,
					    start, end, clear);
		} else {
			if (clear)
				WRITE_ONCE(table[i], 0);
			n++;
		}
	}
	return n;
}

/*
 * Install a leaf for @gpa -> @page, unless an invalidation ran or began
 * since the fault read @mmu_seq: then -EAGAIN, nothing is mapped and the
 * guest faults again. The walk allocates missing tables from the vCPU
 * cache, so nothing sleeps under the spinlock.
 */
static int tdp_map(struct mkvm_vcpu *vcpu, struct mkvm_memslot *slot,
		   u64 gpa, struct page *page, bool write,
		   unsigned long mmu_seq)
{
	u64 pte;
	struct mkvm_tdp *tdp = &vcpu->vm->tdp;
	u64 *table = tdp->root[mkvm_vcpu_as(vcpu)];
	int level, idx;

	spin_lock(&tdp->lock);
	if (tdp->mmu_in_progress || tdp->mmu_seq != mmu_seq) {
		spin_unlock(&tdp->lock);
		return -EAGAIN;
	}
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
	/*
	 * Mapped already: by another vCPU, or readonly (a read came first,
	 * or dirty logging took write access away). No invalidation came
	 * between, so it is the same page: a write gets write access, a read
	 * leaves the entry as it is.
	 */
	if (!mkvm_ops->tdp_present(pte)) {
		WRITE_ONCE(table[idx], mkvm_ops->tdp_pte(page_to_phys(page),
							 true, write, true));
		WRITE_ONCE(vcpu->vm->stat.pages_4k, vcpu->vm->stat.pages_4k + 1);
	} else if (write && !mkvm_ops->tdp_writable(pte)) {
		WRITE_ONCE(table[idx], mkvm_ops->tdp_pte(pte & TDP_ADDR_MASK,
							 true, true, true));
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
	return 0;
}

/**
 * mkvm_tdp_fault_in() - map the RAM page behind guest-physical @gpa.
 * @vcpu: the faulting vCPU (its thread runs in the VMM's mm)
 * @slot: the memslot holding @gpa
 * @gpa: faulting guest-physical address
 * @write_access: the guest was writing (never to a KVM_MEM_READONLY slot:
 *	emulate.c sends those to MMIO)
 *
 * Looks the page up in the VMM's mapping with an ordinary reference, for
 * writing only when the guest writes (a read maps the page readonly and
 * leaves a KSM, zero or page-cache page shared), maps it unless an
 * invalidation got in the way, and lets the reference go (see the top of
 * the file). A page mapped writable is marked dirty here, as KVM does when
 * it releases a page it mapped writable: the host must write it back
 * before it may drop it, and a KVM_MEM_READONLY slot never gets there.
 * Return: 1 to re-enter the guest (also when it must fault again), or
 * -EFAULT when the VMM's mapping is missing or refuses the access (KVM_RUN
 * fails with EFAULT, as in KVM), -ENOMEM.
 */
int mkvm_tdp_fault_in(struct mkvm_vcpu *vcpu, struct mkvm_memslot *slot,
		      u64 gpa, bool write_access)
{
	bool write = write_access && !(slot->flags & KVM_MEM_READONLY);
	u64 rel = (gpa >> PAGE_SHIFT) - slot->base_gfn;
	unsigned long hva = slot->hva + rel * PAGE_SIZE;
	struct mkvm_tdp *tdp = &vcpu->vm->tdp;
	unsigned long mmu_seq;
	struct page *page;
	int r;

	if (gpa >> TDP_GPA_BITS)
		return -EFAULT;
	r = tdp_topup_cache(vcpu);
	if (r)
		return r;
	/*
	 * The sequence before the page (pairs with the smp_wmb() in
	 * mkvm_mmu_invalidate_range_end()): an invalidation that ends after
	 * this read and before our tdp_map() is seen there.
	 */
	mmu_seq = READ_ONCE(tdp->mmu_seq);
	smp_rmb();
	if (get_user_pages_fast(hva, 1, write ? FOLL_WRITE : 0, &page) != 1)
		return -EFAULT;
	r = tdp_map(vcpu, slot, gpa, page, write, mmu_seq);
	/* Not for the zero page (a read of untouched anonymous memory). */
	if (!r && !PageReserved(page)) {
		if (write)
			set_page_dirty_lock(page);
		mark_page_accessed(page);
	}
	if (!r)
		vcpu->stat.tdp_faults++;
	put_page(page);
	return 1;
}

static struct mkvm *mn_to_vm(struct mmu_notifier *mn)
{
	return container_of(mn, struct mkvm, mmu_notifier);
}

/*
 * Account for @n leaves just cleared, under tdp.lock. Returns whether the
 * vCPUs must be kicked and flushed (after the lock) before the caller may
 * return: some leaf was cleared, or a whole-tree zap is between its swap and
 * its own kick (mkvm_tdp_zap_all()).
 */
static bool tdp_zapped(struct mkvm *vm, unsigned long n)
{
	lockdep_assert_held(&vm->tdp.lock);
	WRITE_ONCE(vm->stat.pages_4k, vm->stat.pages_4k - n);
	return n || vm->tdp.flush_pending;
}

/*
 * Clear (or only count, !@clear) the leaves of every slot page whose VMM
 * address is in [@start, @end), in the tree of address space @as. Caller
 * holds tdp.lock and vm->srcu.
 */
static unsigned long tdp_zap_hva_range_as(struct mkvm *vm, int as,
					  unsigned long start,
					  unsigned long end, bool clear)
{
	struct mkvm_memslots *slots = srcu_dereference(vm->memslots[as],
							&vm->srcu);
	unsigned long n = 0;
	int i;

	for (i = 0; i < slots->nr; i++) {
		struct mkvm_memslot *s = &slots->slot[i];
		unsigned long lo = max(start, (unsigned long)s->hva);
		unsigned long hi = min(end, (unsigned long)(s->hva +
				       (s->npages << PAGE_SHIFT)));

		if (lo >= hi)
			continue;
		n += tdp_zap_leaves(vm->tdp.root[as], TDP_LEVELS, 0,
				    s->base_gfn + ((lo - s->hva) >> PAGE_SHIFT),
				    s->base_gfn + ((hi - s->hva + PAGE_SIZE - 1) >>
						   PAGE_SHIFT), clear);
	}
	return n;
}

/* The same in every address space: a page may be mapped in both. */
static unsigned long tdp_zap_hva_range(struct mkvm *vm, unsigned long start,
				       unsigned long end, bool clear)
{
	unsigned long n = 0;
	int as;

	for (as = 0; as < MKVM_NR_AS; as++)
		n += tdp_zap_hva_range_as(vm, as, start, end, clear);
	return n;
}

/*
 * The VMM's page tables are about to change in [range->start, range->end):
 * forget every guest page mapped from there (see the top of the file).
 * Never sleeps, never fails: also called where blocking is not allowed.
 */
static int mkvm_mmu_invalidate_range_start(struct mmu_notifier *mn,
					   const struct mmu_notifier_range *range)
{
	struct mkvm *vm = mn_to_vm(mn);
	bool flush;
	int idx;

	idx = srcu_read_lock(&vm->srcu);
	spin_lock(&vm->tdp.lock);
	vm->tdp.mmu_in_progress++;
	flush = tdp_zapped(vm, tdp_zap_hva_range(vm, range->start, range->end,
						 true));
	spin_unlock(&vm->tdp.lock);
	srcu_read_unlock(&vm->srcu, idx);
	/* When we return, no CPU can reach the old pages any more. */
	if (flush)
		mkvm_kick_all(vm, MKVM_REQ_TLB_FLUSH);
	return 0;
}

static void mkvm_mmu_invalidate_range_end(struct mmu_notifier *mn,
					  const struct mmu_notifier_range *range)
{
	struct mkvm *vm = mn_to_vm(mn);

	spin_lock(&vm->tdp.lock);
	vm->tdp.mmu_seq++;
	/* The new sequence is visible before the count drops (see fault_in). */
	smp_wmb();
	vm->tdp.mmu_in_progress--;
	spin_unlock(&vm->tdp.lock);
}

/*
 * The mm is being torn down (or the VM unregisters): no page of it may stay
 * mapped. No thread of the mm is left to fault them back.
 */
static void mkvm_mmu_release(struct mmu_notifier *mn, struct mm_struct *mm)
{
	struct mkvm *vm = mn_to_vm(mn);
	unsigned long n = 0;
	bool flush;
	int as;

	spin_lock(&vm->tdp.lock);
	for (as = 0; as < MKVM_NR_AS; as++)
		n += tdp_zap_leaves(vm->tdp.root[as], TDP_LEVELS, 0, 0,
				    1ULL << (TDP_GPA_BITS - PAGE_SHIFT), true);
	flush = tdp_zapped(vm, n);
	spin_unlock(&vm->tdp.lock);
	if (flush)
		mkvm_kick_all(vm, MKVM_REQ_TLB_FLUSH);
}

/*
 * Page aging: reclaim asks whether the guest used the pages of a range
 * lately (folio_referenced(), for the host's LRU). Neither table gives us
 * an accessed bit to read (we preset NPT's A bit, EPT's A/D flags are off),
 * so a present leaf means "used since the last aging", and aging clears
 * it: the guest's next access faults it back in, and that fault is the
 * access the next aging sees. KVM does the same for entries without A/D
 * bits (access tracking), keeping the frame in the entry; we drop it.
 * Clearing needs the flush as an invalidation does: the page may be freed
 * later by an invalidation that finds nothing left to clear.
 */
static int mkvm_mmu_clear_young(struct mmu_notifier *mn, struct mm_struct *mm,
				unsigned long start, unsigned long end)
{
	struct mkvm *vm = mn_to_vm(mn);
	unsigned long n;
	bool flush;
	int idx;

	idx = srcu_read_lock(&vm->srcu);
	spin_lock(&vm->tdp.lock);
	n = tdp_zap_hva_range(vm, start, end, true);
	flush = tdp_zapped(vm, n);
	spin_unlock(&vm->tdp.lock);
	srcu_read_unlock(&vm->srcu, idx);
	if (flush)
		mkvm_kick_all(vm, MKVM_REQ_TLB_FLUSH);
	return n != 0;
}

static int mkvm_mmu_test_young(struct mmu_notifier *mn, struct mm_struct *mm,
			       unsigned long address)
{
	struct mkvm *vm = mn_to_vm(mn);
	unsigned long n;
	int idx;

	idx = srcu_read_lock(&vm->srcu);
	spin_lock(&vm->tdp.lock);
	n = tdp_zap_hva_range(vm, address, address + 1, false);
	spin_unlock(&vm->tdp.lock);
	srcu_read_unlock(&vm->srcu, idx);
	return n != 0;
}

static const struct mmu_notifier_ops mkvm_mmu_notifier_ops = {
	.invalidate_range_start	= mkvm_mmu_invalidate_range_start,
	.invalidate_range_end	= mkvm_mmu_invalidate_range_end,
	.clear_flush_young	= mkvm_mmu_clear_young,
	.clear_young		= mkvm_mmu_clear_young,
	.test_young		= mkvm_mmu_test_young,
	.release		= mkvm_mmu_release,
};

/* At KVM_CREATE_VM, in the creator's thread: follow its mm. */
int mkvm_mmu_notifier_register(struct mkvm *vm)
{
	vm->mmu_notifier.ops = &mkvm_mmu_notifier_ops;
	return mmu_notifier_register(&vm->mmu_notifier, current->mm);
}

/*
 * When the VM goes, before its vCPUs: calls release() if the mm still
 * lives, and waits for notifier calls still running.
 */
void mkvm_mmu_notifier_unregister(struct mkvm *vm)
{
	mmu_notifier_unregister(&vm->mmu_notifier, vm->mm);
}
