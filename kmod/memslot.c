// SPDX-License-Identifier: GPL-2.0-only
/*
 * minikvm: guest memory slots (KVM_SET_USER_MEMORY_REGION).
 *
 * Guest RAM is ordinary memory of the VMM process: it mmap()s a buffer and
 * tells us "guest-physical range [gpa, gpa+size) is this userspace
 * address". We remember that in a slot and map nothing yet: a page is
 * looked up and mapped into the NPT/EPT only when the guest first touches
 * it, and never pinned: the MMU notifier takes the mapping away again
 * when the VMM's page tables change (tdp.c, mkvm_tdp_fault_in()).
 *
 * Readers (vCPUs handling a fault) see the slot set under SRCU without any
 * lock. A change builds a new copy, publishes it, waits for the readers of
 * the old copy (synchronize_srcu), and only then drops mappings that the
 * change made stale.
 *
 * There are two sets, one per address space (KVM_CAP_MULTI_ADDRESS_SPACE):
 * bits 31:16 of a slot id name the space, 15:0 the slot in it. Space 1 is
 * what a vCPU in System Management Mode sees (smm.c): a VMM such as QEMU
 * puts all of RAM there again plus SMRAM, which space 0 hides. Each space
 * has its own TDP root (tdp.c); a slot id is unique within its space.
 */
#define pr_fmt(fmt) "minikvm: " fmt

#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "minikvm.h"

/* Pages in one slot at most, as KVM_MEM_MAX_NR_PAGES. */
#define MKVM_MEM_MAX_NR_PAGES	((1ULL << 31) - 1)

/* The KVM_MEM_* flags we implement. */
#define MKVM_MEM_FLAGS	(KVM_MEM_READONLY | KVM_MEM_LOG_DIRTY_PAGES)

/* Bytes of a dirty bitmap: one bit a page, in whole 64-bit words (KVM ABI). */
static size_t mkvm_dirty_bytes(u64 npages)
{
	return ALIGN(npages, 64) / 8;
}

static struct mkvm_memslots *mkvm_slots_locked(struct mkvm *vm, int as)
{
	return rcu_dereference_protected(vm->memslots[as],
					 lockdep_is_held(&vm->lock));
}

static struct mkvm_memslot *mkvm_slot_by_id(struct mkvm_memslots *slots,
					    u16 id)
{
	int i;

	for (i = 0; i < slots->nr; i++)
		if (slots->slot[i].id == id)
			return &slots->slot[i];
	return NULL;
}

static bool mkvm_slot_overlaps(struct mkvm_memslots *slots, u16 id,
			       u64 base_gfn, u64 npages)
{
	int i;

	for (i = 0; i < slots->nr; i++) {
		struct mkvm_memslot *s = &slots->slot[i];

		if (s->id == id)
			continue;
		if (base_gfn < s->base_gfn + s->npages &&
		    s->base_gfn < base_gfn + npages)
			return true;
	}
	return false;
}

/* The same checks, in the same order, as KVM's, so callers get its errno. */
static int mkvm_check_region(const struct kvm_userspace_memory_region *mr)
{
	if (mr->flags & ~MKVM_MEM_FLAGS)
		return -EINVAL;
	if (mr->memory_size & (PAGE_SIZE - 1))
		return -EINVAL;
	if (mr->guest_phys_addr & (PAGE_SIZE - 1))
		return -EINVAL;
	if ((mr->userspace_addr & (PAGE_SIZE - 1)) ||
	    !access_ok((void __user *)(unsigned long)mr->userspace_addr,
		       mr->memory_size))
		return -EINVAL;
	/* Bits 31:16: the address space (0, or 1 for SMM); 15:0: the slot. */
	if ((mr->slot >> 16) >= (mkvm_ops->has_smm ? MKVM_NR_AS : 1) ||
	    (u16)mr->slot >= MKVM_MAX_MEMSLOTS)
		return -EINVAL;
	if (mr->guest_phys_addr + mr->memory_size < mr->guest_phys_addr)
		return -EINVAL;
	/*
	 * KVM's bound on a slot (KVM_MEM_MAX_NR_PAGES): 2^31 - 1 pages, so
	 * that a page index fits an int and a dirty bitmap stays a sane
	 * allocation (256 MiB at most) instead of a kernel warning.
	 */
	if ((mr->memory_size >> PAGE_SHIFT) > MKVM_MEM_MAX_NR_PAGES)
		return -EINVAL;
	return 0;
}

/**
 * mkvm_set_memory_region() - create, move, change or delete a slot.
 * @vm: the VM
 * @mr: what userspace asked for
 *
 * Return: 0, -EINVAL for a malformed or impossible request, -EEXIST when
 * the new range overlaps another slot, -ENOMEM.
 */
int mkvm_set_memory_region(struct mkvm *vm,
			   const struct kvm_userspace_memory_region *mr)
{
	struct mkvm_memslots *old_slots, *new_slots;
	struct mkvm_memslot *old, *s;
	u64 base_gfn = mr->guest_phys_addr >> PAGE_SHIFT;
	u64 npages = mr->memory_size >> PAGE_SHIFT;
	unsigned long *stale_bitmap = NULL, *bitmap = NULL;
	bool log = mr->flags & KVM_MEM_LOG_DIRTY_PAGES;
	u16 id = (u16)mr->slot;
	int as = mr->slot >> 16;
	bool zap = false;
	int r;

	r = mkvm_check_region(mr);
	if (r)
		return r;

	mutex_lock(&vm->lock);
	old_slots = mkvm_slots_locked(vm, as);
	old = mkvm_slot_by_id(old_slots, id);

	r = -EINVAL;
	if (!npages) {
		/* Delete: the slot must exist. */
		if (!old)
			goto out_unlock;
		zap = true;
	} else if (old) {
		/* Change: only the address and the flags may change. */
		if (mr->userspace_addr != old->hva || npages != old->npages ||
		    ((mr->flags ^ old->flags) & KVM_MEM_READONLY))
			goto out_unlock;
		if (base_gfn == old->base_gfn && mr->flags == old->flags) {
			r = 0;
			goto out_unlock;
		}
		zap = base_gfn != old->base_gfn;
	}
	/*
	 * Dirty logging switched on: start with an empty bitmap and no
	 * mapping, so that every page faults (readonly first) again.
	 */
	if (npages && log && (!old || !old->dirty_bitmap)) {
		r = -ENOMEM;
		bitmap = kvzalloc(mkvm_dirty_bytes(npages), GFP_KERNEL_ACCOUNT);
		if (!bitmap)
			goto out_unlock;
		zap |= !!old;
	}
	if (npages && (!old || base_gfn != old->base_gfn) &&
	    mkvm_slot_overlaps(old_slots, id, base_gfn, npages)) {
		r = -EEXIST;
		goto out_free_bitmap;
	}

	r = -ENOMEM;
	new_slots = kmemdup(old_slots, sizeof(*old_slots), GFP_KERNEL_ACCOUNT);
	if (!new_slots)
		goto out_free_bitmap;

	s = mkvm_slot_by_id(new_slots, id);
	if (old && (!npages || !log))
		stale_bitmap = old->dirty_bitmap;
	if (!npages) {
		/* Keep the array dense: move the last slot into the hole. */
		*s = new_slots->slot[--new_slots->nr];
	} else {
		if (!s)
			s = &new_slots->slot[new_slots->nr++];
		s->id = id;
		s->base_gfn = base_gfn;
		s->npages = npages;
		s->hva = mr->userspace_addr;
		s->flags = mr->flags;
		if (bitmap)
			s->dirty_bitmap = bitmap;
		else if (!log)
			s->dirty_bitmap = NULL;
	}

	rcu_assign_pointer(vm->memslots[as], new_slots);
	/* KVM's page-table quota, once sized from memory, stays (emulate.c). */
	if (new_slots->nr)
		WRITE_ONCE(vm->had_memory, true);
	/*
	 * From here on, no fault can find the old slot set... (expedited:
	 * the plain wait may sleep for jiffies, and a VMM sets up its slots
	 * one ioctl after another)
	 */
	synchronize_srcu_expedited(&vm->srcu);
	/*
	 * ...so mappings made from it can go: drop them all, and make every
	 * vCPU flush its TLB before it runs again.
	 */
	if (zap)
		mkvm_tdp_zap_all(vm);
	kvfree(stale_bitmap);
	kfree(old_slots);
	mutex_unlock(&vm->lock);
	return 0;

out_free_bitmap:
	kvfree(bitmap);
out_unlock:
	mutex_unlock(&vm->lock);
	return r;
}

void mkvm_free_memslots(struct mkvm *vm)
{
	int as, i;

	for (as = 0; as < MKVM_NR_AS; as++) {
		struct mkvm_memslots *slots =
			rcu_dereference_protected(vm->memslots[as], true);

		if (!slots)
			continue;
		for (i = 0; i < slots->nr; i++)
			kvfree(slots->slot[i].dirty_bitmap);
		kfree(slots);
	}
}

/**
 * mkvm_get_dirty_log() - KVM_GET_DIRTY_LOG: which pages of a slot the
 * guest wrote since the last call.
 *
 * Each word of the bitmap is taken and cleared at once (xchg), its pages
 * lose write access again, and every vCPU flushes its TLB before we
 * return: a write after that faults and sets its bit for the next call.
 * Return: 0, -ENOENT (no such slot, or no dirty logging), -EFAULT.
 */
int mkvm_get_dirty_log(struct mkvm *vm, struct kvm_dirty_log *log)
{
	struct mkvm_memslot *s;
	unsigned long *snap;
	size_t bytes, i;
	int as = log->slot >> 16;
	int r = -ENOENT;

	if (as >= MKVM_NR_AS || (u16)log->slot >= MKVM_MAX_MEMSLOTS)
		return -EINVAL;
	mutex_lock(&vm->lock);
	s = mkvm_slot_by_id(mkvm_slots_locked(vm, as), (u16)log->slot);
	if (!s || !s->dirty_bitmap)
		goto out_unlock;
	bytes = mkvm_dirty_bytes(s->npages);
	r = -ENOMEM;
	/* Charged to the caller's memory cgroup, as the slot's bitmap is. */
	snap = kvzalloc(bytes, GFP_KERNEL_ACCOUNT);
	if (!snap)
		goto out_unlock;
	for (i = 0; i < bytes / sizeof(long); i++) {
		snap[i] = xchg(&s->dirty_bitmap[i], 0);
		if (snap[i])
			mkvm_tdp_write_protect(vm, as, s->base_gfn +
					       i * BITS_PER_LONG, snap[i]);
	}
	mkvm_kick_all(vm, MKVM_REQ_TLB_FLUSH);
	r = copy_to_user(log->dirty_bitmap, snap, bytes) ? -EFAULT : 0;
	kvfree(snap);
out_unlock:
	mutex_unlock(&vm->lock);
	return r;
}

/**
 * mkvm_gfn_to_slot() - the slot of address space @as holding guest frame
 * @gfn, or NULL.
 *
 * Caller holds vm->srcu (vCPU exit handling always does).
 */
struct mkvm_memslot *mkvm_gfn_to_slot(struct mkvm *vm, int as, u64 gfn)
{
	struct mkvm_memslots *slots = srcu_dereference(vm->memslots[as],
							&vm->srcu);
	int i;

	for (i = 0; i < slots->nr; i++) {
		struct mkvm_memslot *s = &slots->slot[i];

		if (gfn - s->base_gfn < s->npages)
			return s;
	}
	return NULL;
}

/* The same, in the address space @vcpu sees now (SMM or not). */
struct mkvm_memslot *mkvm_vcpu_gfn_to_slot(struct mkvm_vcpu *vcpu, u64 gfn)
{
	return mkvm_gfn_to_slot(vcpu->vm, mkvm_vcpu_as(vcpu), gfn);
}

/*
 * Copy to or from guest-physical memory through the VMM's own mapping of
 * it. Runs in the vCPU thread, so current->mm is the VM's mm and the
 * userspace address is directly usable (it may fault and sleep: fine here).
 */
static int mkvm_access_guest(struct mkvm_vcpu *vcpu, int as, u64 gpa,
			     void *buf, int len, bool write)
{
	while (len > 0) {
		struct mkvm_memslot *s = mkvm_gfn_to_slot(vcpu->vm, as,
							  gpa >> PAGE_SHIFT);
		int off = offset_in_page(gpa);
		int n = min_t(int, len, PAGE_SIZE - off);
		void __user *hva;

		if (!s || (write && (s->flags & KVM_MEM_READONLY)))
			return -EFAULT;
		hva = (void __user *)(unsigned long)(s->hva +
			((gpa >> PAGE_SHIFT) - s->base_gfn) * PAGE_SIZE + off);
		if (write ? copy_to_user(hva, buf, n) : copy_from_user(buf, hva, n))
			return -EFAULT;
		/*
		 * A write by the kernel on the guest's behalf (the emulator)
		 * dirties the page as a guest write would: dirty logging
		 * must see it, or a migration misses it.
		 */
		if (write && s->dirty_bitmap)
			set_bit((gpa >> PAGE_SHIFT) - s->base_gfn,
				s->dirty_bitmap);
		gpa += n;
		buf += n;
		len -= n;
	}
	return 0;
}

/* In the address space the vCPU sees now (SMRAM while in SMM). */
int mkvm_read_guest(struct mkvm_vcpu *vcpu, u64 gpa, void *buf, int len)
{
	return mkvm_access_guest(vcpu, mkvm_vcpu_as(vcpu), gpa, buf, len,
				 false);
}

int mkvm_write_guest(struct mkvm_vcpu *vcpu, u64 gpa, const void *buf,
		     int len)
{
	return mkvm_access_guest(vcpu, mkvm_vcpu_as(vcpu), gpa, (void *)buf,
				 len, true);
}

/*
 * Always in address space 0: for structures the guest registered outside
 * SMM and the host keeps up to date at any time (kvmclock, the wall
 * clock, the VAPIC page), which an SMI must not redirect into SMRAM.
 */
int mkvm_read_guest_as0(struct mkvm_vcpu *vcpu, u64 gpa, void *buf, int len)
{
	return mkvm_access_guest(vcpu, 0, gpa, buf, len, false);
}

int mkvm_write_guest_as0(struct mkvm_vcpu *vcpu, u64 gpa, const void *buf,
			 int len)
{
	return mkvm_access_guest(vcpu, 0, gpa, (void *)buf, len, true);
}
