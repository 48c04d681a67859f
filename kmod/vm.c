// SPDX-License-Identifier: GPL-2.0-only
/*
 * minikvm: the VM file descriptor.
 *
 * KVM_CREATE_VM on /dev/kvm returns a new fd backed by one struct mkvm.
 * Its ioctls build the machine: guest memory (KVM_SET_USER_MEMORY_REGION,
 * memslot.c) and vCPUs (KVM_CREATE_VCPU, vcpu.c). The VM lives as long as
 * its fd or any of its vCPU fds is open: each holds a reference.
 */
#define pr_fmt(fmt) "minikvm: " fmt

#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "minikvm.h"

static void mkvm_destroy_vm(struct mkvm *vm)
{
	struct mm_struct *mm = vm->mm;
	int i;

	/* Off debugfs' list first: its files read the vCPUs' counters. */
	mkvm_debugfs_vm_destroy(vm);
	/*
	 * Every vCPU fd is closed (each held a reference), so no vCPU can
	 * run. Stop what may still raise interrupts on its own (irqfds, the
	 * PIT) and the interrupt controllers, then free the vCPUs and what
	 * they used.
	 */
	mkvm_irqchip_destroy(vm);
	/* No more invalidations: they kick vCPUs, which go next. */
	mkvm_mmu_notifier_unregister(vm);
	for (i = 0; i < vm->nr_vcpus; i++)
		mkvm_vcpu_destroy(vm->vcpus[i]);
	mkvm_ops->vm_destroy(vm);
	mkvm_tdp_destroy(vm);
	mkvm_free_memslots(vm);
	mkvm_free_msr_filter(vm);
	cleanup_srcu_struct(&vm->srcu);
	kfree(vm);
	mmdrop(mm);
	mkvm_hardware_put();
}

void mkvm_put_vm(struct mkvm *vm)
{
	if (refcount_dec_and_test(&vm->users))
		mkvm_destroy_vm(vm);
}

static int mkvm_vm_release(struct inode *inode, struct file *filp)
{
	mkvm_put_vm(filp->private_data);
	return 0;
}

/**
 * mkvm_kick_all() - make every vCPU of @vm act on request @req.
 *
 * Sets the request bit on every vCPU, then interrupts the CPUs where a
 * vCPU is in guest mode right now. The IPI forces a VM exit (physical
 * interrupts always exit, see the vendors' intercepts) and wait=1 means
 * that when this returns, every such vCPU has left guest mode; it will
 * see the request before it enters again (vcpu.c checks requests with
 * interrupts disabled, after setting mode = MKVM_IN_GUEST).
 */
static void mkvm_kick_ack(void *unused)
{
}

void mkvm_kick_all(struct mkvm *vm, int req)
{
	cpumask_var_t cpus;
	bool have_mask;
	int i, cpu, me;

	/*
	 * Without memory for the mask (possible when cpumasks are allocated,
	 * CONFIG_CPUMASK_OFFSTACK), interrupt every other CPU instead: more
	 * IPIs than needed, but no vCPU may miss the request. No sleeping
	 * allocation: the MMU notifier kicks where it must not sleep (tdp.c).
	 */
	have_mask = zalloc_cpumask_var(&cpus, GFP_NOWAIT | __GFP_NOWARN);
	me = get_cpu();
	for (i = 0; i < READ_ONCE(vm->nr_vcpus); i++) {
		struct mkvm_vcpu *vcpu = vm->vcpus[i];

		set_bit(req, &vcpu->requests);
		smp_mb__after_atomic();
		cpu = READ_ONCE(vcpu->cpu);
		if (have_mask && READ_ONCE(vcpu->mode) == MKVM_IN_GUEST &&
		    cpu != me && cpu >= 0)
			cpumask_set_cpu(cpu, cpus);
	}
	if (have_mask)
		smp_call_function_many(cpus, mkvm_kick_ack, NULL, 1);
	else
		smp_call_function(mkvm_kick_ack, NULL, 1);
	put_cpu();
	/* Callers hold vm->lock or nothing (tdp.c): the counter is tdp.lock's. */
	if (req == MKVM_REQ_TLB_FLUSH) {
		spin_lock(&vm->tdp.lock);
		vm->stat.remote_tlb_flush++;
		spin_unlock(&vm->tdp.lock);
	}
	if (have_mask)
		free_cpumask_var(cpus);
}

/*
 * KVM_SET_BOOT_CPU_ID: which vCPU id is the BSP, the one that runs at
 * reset while the others wait for INIT/SIPI. Only before any vCPU exists.
 */
static int mkvm_set_boot_cpu_id(struct mkvm *vm, unsigned long id)
{
	int r = 0;

	mutex_lock(&vm->lock);
	if (vm->nr_vcpus)
		r = -EBUSY;
	else if (id >= MKVM_MAX_VCPUS)
		r = -EINVAL;
	else
		vm->bsp_vcpu_id = id;
	mutex_unlock(&vm->lock);
	return r;
}

/*
 * KVM_GET_NR_MMU_PAGES: what the VMM set, else KVM's default quota: 2% of
 * the guest's pages, at least 64.
 */
static long mkvm_get_nr_mmu_pages(struct mkvm *vm)
{
	struct mkvm_memslots *slots;
	unsigned long pages = 0;
	int i, idx;

	if (READ_ONCE(vm->nr_mmu_pages))
		return READ_ONCE(vm->nr_mmu_pages);
	idx = srcu_read_lock(&vm->srcu);
	slots = srcu_dereference(vm->memslots[0], &vm->srcu);
	for (i = 0; i < slots->nr; i++)
		pages += slots->slot[i].npages;
	srcu_read_unlock(&vm->srcu, idx);
	return max(64UL, pages * 20 / 1000);
}

/* KVM_ENABLE_CAP on the VM: the capabilities a VMM may switch on. */
static int mkvm_vm_enable_cap(struct mkvm *vm, const struct kvm_enable_cap *cap)
{
	if (cap->flags)
		return -EINVAL;
	switch (cap->cap) {
	/* Which refused guest MSR accesses exit to the VMM (msr_user.c). */
	case KVM_CAP_X86_USER_SPACE_MSR:
		return mkvm_enable_user_space_msr(vm, cap->args[0]);
	case KVM_CAP_SPLIT_IRQCHIP:
		return mkvm_enable_split_irqchip(vm, cap->args[0]);
	default:
		return mkvm_features_vm_enable_cap(vm, cap);
	}
}

static long mkvm_vm_ioctl(struct file *filp, unsigned int ioctl,
			  unsigned long arg)
{
	struct mkvm *vm = filp->private_data;
	void __user *argp = (void __user *)arg;

	/* A VM belongs to the process that made it (and its threads). */
	if (vm->mm != current->mm)
		return -EIO;

	switch (ioctl) {
	case KVM_CREATE_VCPU:
		return mkvm_create_vcpu(vm, arg);
	case KVM_SET_USER_MEMORY_REGION: {
		struct kvm_userspace_memory_region mr;

		if (copy_from_user(&mr, argp, sizeof(mr)))
			return -EFAULT;
		return mkvm_set_memory_region(vm, &mr);
	}
	case KVM_GET_DIRTY_LOG: {
		struct kvm_dirty_log log;

		if (copy_from_user(&log, argp, sizeof(log)))
			return -EFAULT;
		return mkvm_get_dirty_log(vm, &log);
	}
	case KVM_SET_TSS_ADDR:
		/*
		 * KVM needs three pages here for real mode on old VMX
		 * without unrestricted guest. We never use them, but keep
		 * KVM's check that they fit below 4 GiB.
		 */
		if (arg > 0xffffffffUL - 3 * PAGE_SIZE + 1)
			return -EINVAL;
		vm->tss_addr = arg;
		return 0;
	case KVM_SET_IDENTITY_MAP_ADDR: {
		u64 addr;

		if (copy_from_user(&addr, argp, sizeof(addr)))
			return -EFAULT;
		return 0;
	}
	/* The in-kernel interrupt controllers (kmod/irqchip/). */
	case KVM_CREATE_IRQCHIP:
		return mkvm_create_irqchip(vm);
	case KVM_GET_IRQCHIP:
	case KVM_SET_IRQCHIP:
		return mkvm_irqchip_ioctl(vm, ioctl, argp);
	case KVM_IRQ_LINE:
	case KVM_IRQ_LINE_STATUS:
	case KVM_SIGNAL_MSI:
	case KVM_SET_GSI_ROUTING:
		return mkvm_irq_ioctl(vm, ioctl, argp);
	case KVM_CREATE_PIT:
	case KVM_CREATE_PIT2:
	case KVM_GET_PIT:
	case KVM_SET_PIT:
	case KVM_GET_PIT2:
	case KVM_SET_PIT2:
	case KVM_REINJECT_CONTROL:
		return mkvm_pit_ioctl(vm, ioctl, argp);
	case KVM_IRQFD: {
		struct kvm_irqfd args;

		if (copy_from_user(&args, argp, sizeof(args)))
			return -EFAULT;
		return mkvm_irqfd(vm, &args);
	}
	case KVM_REGISTER_COALESCED_MMIO:
	case KVM_UNREGISTER_COALESCED_MMIO:
		return mkvm_coalesced_ioctl(vm, ioctl, argp);
	case KVM_IOEVENTFD: {
		struct kvm_ioeventfd args;

		if (copy_from_user(&args, argp, sizeof(args)))
			return -EFAULT;
		return mkvm_ioeventfd(vm, &args);
	}
	case KVM_SET_BOOT_CPU_ID:
		return mkvm_set_boot_cpu_id(vm, arg);
	case KVM_SET_NR_MMU_PAGES:
		/* KVM's KVM_MIN_ALLOC_MMU_PAGES. */
		if (arg < 64)
			return -EINVAL;
		WRITE_ONCE(vm->nr_mmu_pages, arg);
		return 0;
	case KVM_GET_NR_MMU_PAGES:
		return mkvm_get_nr_mmu_pages(vm);
	case KVM_ENABLE_CAP: {
		struct kvm_enable_cap cap;

		if (copy_from_user(&cap, argp, sizeof(cap)))
			return -EFAULT;
		return mkvm_vm_enable_cap(vm, &cap);
	}
	case KVM_GET_CLOCK:
		return mkvm_get_clock(vm, argp);
	case KVM_SET_CLOCK:
		return mkvm_set_clock(vm, argp);
	case KVM_CHECK_EXTENSION:
		return mkvm_check_extension(arg);
	case KVM_GET_STATS_FD:
		return mkvm_get_stats_fd(vm, NULL);
	case KVM_X86_SET_MSR_FILTER:
		return mkvm_set_msr_filter(vm, argp);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations mkvm_vm_fops = {
	.owner		= THIS_MODULE,
	.release	= mkvm_vm_release,
	.unlocked_ioctl	= mkvm_vm_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

/**
 * mkvm_create_vm() - KVM_CREATE_VM.
 * @type: machine type; only 0 (the default x86 VM) exists here
 *
 * Return: the new VM fd, or a negative errno.
 */
int mkvm_create_vm(unsigned long type)
{
	struct mkvm_memslots *slots, *smm_slots;
	struct file *file;
	struct mkvm *vm;
	int r, fd;

	if (type)
		return -EINVAL;

	r = mkvm_hardware_get();
	if (r)
		return r;

	r = -ENOMEM;
	vm = kzalloc(sizeof(*vm), GFP_KERNEL_ACCOUNT);
	if (!vm)
		goto err_hardware_put;
	/* Address space 0, and 1 (SMM; memslot.c): both empty. */
	slots = kzalloc(sizeof(*slots), GFP_KERNEL_ACCOUNT);
	smm_slots = kzalloc(sizeof(*smm_slots), GFP_KERNEL_ACCOUNT);
	if (!slots || !smm_slots) {
		kfree(slots);
		kfree(smm_slots);
		goto err_free_vm;
	}
	RCU_INIT_POINTER(vm->memslots[0], slots);
	RCU_INIT_POINTER(vm->memslots[MKVM_SMM_AS], smm_slots);
	mutex_init(&vm->lock);
	refcount_set(&vm->users, 1);
	INIT_LIST_HEAD(&vm->debugfs_node);
	mkvm_eventfd_init(vm);
	mkvm_kvmclock_init_vm(vm);
	mkvm_features_vm_init(vm);
	r = mkvm_coalesced_init(vm);
	if (r)
		goto err_free_slots;
	r = init_srcu_struct(&vm->srcu);
	if (r)
		goto err_free_ring;
	r = mkvm_tdp_init(vm);
	if (r)
		goto err_cleanup_srcu;
	r = mkvm_ops->vm_init(vm);
	if (r)
		goto err_tdp_destroy;

	/* Keep the mm_struct (not the address space) for the GUP checks. */
	vm->mm = current->mm;
	mmgrab(vm->mm);
	/* ...and follow the changes of its page tables (tdp.c). */
	r = mkvm_mmu_notifier_register(vm);
	if (r)
		goto err_mmdrop;

	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		r = fd;
		goto err_unregister;
	}
	file = anon_inode_getfile("kvm-vm", &mkvm_vm_fops, vm, O_RDWR);
	if (IS_ERR(file)) {
		r = PTR_ERR(file);
		goto err_put_fd;
	}
	/*
	 * From here the file owns the VM: fput() destroys it. The debugfs
	 * directory is named after the fd, so it comes before fd_install(),
	 * which makes the fd usable (and closable) by other threads.
	 */
	r = mkvm_debugfs_vm_create(vm, fd);
	if (r) {
		put_unused_fd(fd);
		fput(file);
		return r;
	}
	fd_install(fd, file);
	return fd;

err_put_fd:
	put_unused_fd(fd);
err_unregister:
	mkvm_mmu_notifier_unregister(vm);
err_mmdrop:
	mmdrop(vm->mm);
	mkvm_ops->vm_destroy(vm);
err_tdp_destroy:
	mkvm_tdp_destroy(vm);
err_cleanup_srcu:
	cleanup_srcu_struct(&vm->srcu);
err_free_ring:
	mkvm_coalesced_free(vm);
err_free_slots:
	kfree(slots);
	kfree(smm_slots);
err_free_vm:
	kfree(vm);
err_hardware_put:
	mkvm_hardware_put();
	return r;
}
