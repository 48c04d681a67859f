// SPDX-License-Identifier: GPL-2.0-only
/*
 * minikvm: MSR accesses the VMM handles, and the MSR filter.
 *
 * Two VM-wide settings decide what happens to a guest RDMSR or WRMSR
 * beyond what msr.c implements (api.rst, KVM_CAP_X86_USER_SPACE_MSR and
 * KVM_X86_SET_MSR_FILTER):
 *
 *  - the filter: up to 16 ranges of MSR indexes, each with a bitmap (1 =
 *    allowed) for reads, writes or both, and a default for indexes no
 *    range covers. A refused access never reaches msr.c;
 *  - the exit mask: an access that would give the guest #GP (the MSR is
 *    unknown, the value invalid, or the filter refused it) goes to the
 *    VMM instead, as KVM_EXIT_X86_RDMSR/WRMSR, when the VMM asked for
 *    that reason. Its answer (data, or error = #GP) is applied at the
 *    next KVM_RUN, and only then does RIP move past the instruction.
 *
 * The filter is looked up on the exit path: it is an immutable object
 * published with rcu_assign_pointer() and read under the VM's SRCU lock,
 * which the exit handlers hold; a new filter replaces the old one whole,
 * and the old one is freed after synchronize_srcu(). So the lookup neither
 * allocates nor sleeps, and a vCPU sees either filter, never a mixture.
 */
#define pr_fmt(fmt) "minikvm: " fmt

#include <linux/bitops.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "minikvm.h"

/* One range of KVM_X86_SET_MSR_FILTER, bitmap copied into the kernel. */
struct mkvm_msr_range {
	u32 flags;		/* KVM_MSR_FILTER_READ and/or _WRITE */
	u32 base;
	u32 nmsrs;
	unsigned long *bitmap;	/* bit i: MSR base + i allowed */
};

struct mkvm_msr_filter {
	bool default_allow;
	int nr;
	struct mkvm_msr_range range[KVM_MSR_FILTER_MAX_RANGES];
};

/* The x2APIC MSRs (SDM Vol.3 10.12.1.2): never filtered, as api.rst says. */
#define MKVM_X2APIC_MSR_FIRST	0x800
#define MKVM_X2APIC_MSR_LAST	0x8ff

/**
 * mkvm_msr_allowed() - does the filter let the guest access MSR @index?
 * @type: KVM_MSR_FILTER_READ or KVM_MSR_FILTER_WRITE
 *
 * The first range that covers @index for @type decides; without one, the
 * filter's default. No filter: everything is allowed. Called from exit
 * handlers, under the VM's SRCU read lock.
 */
bool mkvm_msr_allowed(struct mkvm_vcpu *vcpu, u32 index, u32 type)
{
	struct mkvm_msr_filter *f;
	int i;

	if (index >= MKVM_X2APIC_MSR_FIRST && index <= MKVM_X2APIC_MSR_LAST)
		return true;
	f = srcu_dereference(vcpu->vm->msr_filter, &vcpu->vm->srcu);
	if (!f)
		return true;
	for (i = 0; i < f->nr; i++) {
		const struct mkvm_msr_range *r = &f->range[i];

		if ((r->flags & type) && index >= r->base &&
		    (u64)index < (u64)r->base + r->nmsrs)
			return test_bit(index - r->base, r->bitmap);
	}
	return f->default_allow;
}

/*
 * Why msr.c refused an access, in the VMM's terms: it does not know the
 * MSR (-ENOENT) or not the value (anything else).
 */
u32 mkvm_msr_exit_reason(int err)
{
	return err == -ENOENT ? KVM_MSR_EXIT_REASON_UNKNOWN :
				KVM_MSR_EXIT_REASON_INVAL;
}

/**
 * mkvm_msr_refused() - the guest's RDMSR/WRMSR of @index failed.
 * @data: the value of a WRMSR
 * @read: RDMSR rather than WRMSR
 * @reason: KVM_MSR_EXIT_REASON_* (FILTER, UNKNOWN or INVAL)
 *
 * If the VMM asked for @reason (KVM_ENABLE_CAP), fill kvm_run->msr and
 * leave the instruction pending for mkvm_complete_user_msr(); else #GP,
 * what the CPU does with an MSR it lacks (SDM Vol.2 "RDMSR").
 * Return: 0 to exit to the VMM, 1 to re-enter the guest.
 */
int mkvm_msr_refused(struct mkvm_vcpu *vcpu, u32 index, u64 data, bool read,
		     u32 reason)
{
	struct kvm_run *run = vcpu->run;
	struct mkvm_io_pending *p = &vcpu->pio;

	if (!(READ_ONCE(vcpu->vm->user_space_msr_mask) & reason)) {
		mkvm_queue_exception(vcpu, MKVM_GP_VECTOR, true, 0);
		return 1;
	}
	run->exit_reason = read ? KVM_EXIT_X86_RDMSR : KVM_EXIT_X86_WRMSR;
	run->msr.error = 0;
	memset(run->msr.pad, 0, sizeof(run->msr.pad));
	run->msr.reason = reason;
	run->msr.index = index;
	run->msr.data = read ? 0 : data;

	p->kind = MKVM_PENDING_MSR;
	p->rip = vcpu->rip;
	p->msr_read = read;
	p->msr_next_rip = vcpu->rip + vcpu->exit_insn_len;
	return 0;
}

/**
 * mkvm_complete_user_msr() - the VMM answered a KVM_EXIT_X86_RDMSR/WRMSR.
 *
 * error != 0: the access failed, #GP and RIP stays at the instruction
 * (a fault). Else a read puts run->msr.data in EDX:EAX, and RIP moves on.
 * Called from KVM_RUN (mkvm_complete_userspace_io()), RIP unchanged.
 */
int mkvm_complete_user_msr(struct mkvm_vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	u64 data = READ_ONCE(run->msr.data);

	if (READ_ONCE(run->msr.error)) {
		mkvm_queue_exception(vcpu, MKVM_GP_VECTOR, true, 0);
		return 1;
	}
	if (vcpu->pio.msr_read) {
		vcpu->regs[MKVM_RAX] = (u32)data;
		vcpu->regs[MKVM_RDX] = data >> 32;
	}
	vcpu->rip = vcpu->pio.msr_next_rip;
	return 1;
}

/* KVM_ENABLE_CAP(KVM_CAP_X86_USER_SPACE_MSR): args[0] = reasons to exit. */
int mkvm_enable_user_space_msr(struct mkvm *vm, u64 mask)
{
	if (mask & ~(u64)(KVM_MSR_EXIT_REASON_INVAL |
			  KVM_MSR_EXIT_REASON_UNKNOWN |
			  KVM_MSR_EXIT_REASON_FILTER))
		return -EINVAL;
	WRITE_ONCE(vm->user_space_msr_mask, mask);
	return 0;
}

static void mkvm_msr_filter_free(struct mkvm_msr_filter *f)
{
	int i;

	if (!f)
		return;
	for (i = 0; i < f->nr; i++)
		kfree(f->range[i].bitmap);
	kfree(f);
}

/*
 * One range of the VMM's filter into @f. A range of no MSRs is skipped;
 * otherwise it must name reads and/or writes (and nothing else), and its
 * bitmap must fit KVM's limit, KVM_MSR_FILTER_MAX_BITMAP_SIZE bytes.
 */
static int mkvm_msr_filter_add(struct mkvm_msr_filter *f,
			       const struct kvm_msr_filter_range *ur)
{
	u32 valid = KVM_MSR_FILTER_READ | KVM_MSR_FILTER_WRITE;
	struct mkvm_msr_range *r = &f->range[f->nr];
	u64 size;

	if (!ur->nmsrs)
		return 0;
	if (!ur->flags || (ur->flags & ~valid))
		return -EINVAL;
	size = DIV_ROUND_UP((u64)ur->nmsrs, BITS_PER_LONG) * sizeof(long);
	if (size > KVM_MSR_FILTER_MAX_BITMAP_SIZE)
		return -EINVAL;
	r->bitmap = memdup_user((const void __user *)ur->bitmap, size);
	if (IS_ERR(r->bitmap)) {
		int err = PTR_ERR(r->bitmap);

		r->bitmap = NULL;
		return err;
	}
	r->flags = ur->flags;
	r->base = ur->base;
	r->nmsrs = ur->nmsrs;
	f->nr++;
	return 0;
}

/**
 * mkvm_set_msr_filter() - KVM_X86_SET_MSR_FILTER on a VM fd.
 *
 * Builds the new filter completely, then publishes it; the old one is
 * freed once no exit handler can be looking at it. No ranges and
 * KVM_MSR_FILTER_DEFAULT_ALLOW: no filtering; no ranges and DEFAULT_DENY
 * is -EINVAL, as in KVM.
 */
int mkvm_set_msr_filter(struct mkvm *vm, const void __user *argp)
{
	struct mkvm_msr_filter *f, *old;
	struct kvm_msr_filter uf;
	bool empty = true;
	int i, r;

	if (copy_from_user(&uf, argp, sizeof(uf)))
		return -EFAULT;
	if (uf.flags & ~KVM_MSR_FILTER_DEFAULT_DENY)
		return -EINVAL;
	for (i = 0; i < KVM_MSR_FILTER_MAX_RANGES; i++)
		empty &= !uf.ranges[i].nmsrs;
	if (empty && (uf.flags & KVM_MSR_FILTER_DEFAULT_DENY))
		return -EINVAL;

	f = kzalloc(sizeof(*f), GFP_KERNEL_ACCOUNT);
	if (!f)
		return -ENOMEM;
	f->default_allow = !(uf.flags & KVM_MSR_FILTER_DEFAULT_DENY);
	for (i = 0; i < KVM_MSR_FILTER_MAX_RANGES; i++) {
		r = mkvm_msr_filter_add(f, &uf.ranges[i]);
		if (r) {
			mkvm_msr_filter_free(f);
			return r;
		}
	}

	mutex_lock(&vm->lock);
	old = rcu_dereference_protected(vm->msr_filter,
					lockdep_is_held(&vm->lock));
	rcu_assign_pointer(vm->msr_filter, f);
	mutex_unlock(&vm->lock);
	synchronize_srcu(&vm->srcu);
	mkvm_msr_filter_free(old);
	return 0;
}

/* VM teardown: no vCPU runs any more. */
void mkvm_free_msr_filter(struct mkvm *vm)
{
	mkvm_msr_filter_free(rcu_dereference_protected(vm->msr_filter, 1));
	RCU_INIT_POINTER(vm->msr_filter, NULL);
}
