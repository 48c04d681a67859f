// SPDX-License-Identifier: GPL-2.0-only
/*
 * minikvm: module entry, /dev/kvm and the system ioctls.
 *
 * This is where a KVM client starts: open("/dev/kvm"), ask the API version
 * (always 12), ask which capabilities exist, then KVM_CREATE_VM for a VM fd.
 * At load time we pick the hardware backend: AMD SVM or Intel VMX,
 * whichever probe says yes. The extension itself (EFER.SVME or VMXON) is
 * turned on only while at least one VM exists (vm.c: mkvm_hardware_get()).
 */
#define pr_fmt(fmt) "minikvm: " fmt

#include <linux/cpu.h>
#include <linux/cpuhotplug.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/percpu.h>
#include <linux/reboot.h>
#include <asm/cpufeature.h>
#include <asm/reboot.h>

#include "minikvm.h"

const struct mkvm_x86_ops *mkvm_ops;

/* Set once the machine reboots: no vCPU may enter a guest after that. */
bool mkvm_rebooting;

/* ------------------------------------------------------------------ */
/* Turning the extension on and off on every CPU                       */
/* ------------------------------------------------------------------ */

/*
 * How many VMs exist. While it is non-zero, SVM/VMX is on on every online
 * CPU; a CPU that comes online meanwhile turns it on in mkvm_cpu_online().
 */
static DEFINE_MUTEX(mkvm_hw_lock);
static int mkvm_hw_users;
static DEFINE_PER_CPU(bool, mkvm_cpu_on);
static atomic_t mkvm_hw_failed;
static enum cpuhp_state mkvm_cpuhp_state;

static void mkvm_cpu_enable(void *unused)
{
	if (this_cpu_read(mkvm_cpu_on))
		return;
	if (mkvm_ops->cpu_enable()) {
		atomic_inc(&mkvm_hw_failed);
		return;
	}
	this_cpu_write(mkvm_cpu_on, true);
}

static void mkvm_cpu_disable(void *unused)
{
	if (!this_cpu_read(mkvm_cpu_on))
		return;
	mkvm_ops->cpu_disable();
	this_cpu_write(mkvm_cpu_on, false);
}

/*
 * An emergency restart or a crash dump (kdump) stops the machine without
 * the reboot notifier below, and a CPU still in VMX operation ignores
 * INIT (SDM Vol.3 24.8), one with GIF = 0 too (APM Vol.2 15.17): the
 * next kernel or the firmware would never get the other CPUs back. So
 * the kernel calls one registered callback on every CPU, from NMI
 * context, to leave. It is ours while the extension is on.
 */
static void mkvm_emergency_disable(void)
{
	WRITE_ONCE(mkvm_rebooting, true);
	mkvm_cpu_disable(NULL);
}

/**
 * mkvm_hardware_get() - make sure the extension is on everywhere.
 *
 * Called when a VM is created. The first VM turns SVM/VMX on on all
 * CPUs; if one CPU refuses (another hypervisor holds it), undo and fail.
 * Return: 0 or -EBUSY.
 */
int mkvm_hardware_get(void)
{
	int r = 0;

	cpus_read_lock();
	mutex_lock(&mkvm_hw_lock);
	if (mkvm_hw_users++ == 0) {
		atomic_set(&mkvm_hw_failed, 0);
		on_each_cpu(mkvm_cpu_enable, NULL, 1);
		if (atomic_read(&mkvm_hw_failed)) {
			on_each_cpu(mkvm_cpu_disable, NULL, 1);
			mkvm_hw_users = 0;
			r = -EBUSY;
		} else {
			cpu_emergency_register_virt_callback(mkvm_emergency_disable);
		}
	}
	mutex_unlock(&mkvm_hw_lock);
	cpus_read_unlock();
	return r;
}

/* Called when a VM is destroyed: the last one turns the extension off. */
void mkvm_hardware_put(void)
{
	cpus_read_lock();
	mutex_lock(&mkvm_hw_lock);
	if (--mkvm_hw_users == 0) {
		cpu_emergency_unregister_virt_callback(mkvm_emergency_disable);
		on_each_cpu(mkvm_cpu_disable, NULL, 1);
	}
	mutex_unlock(&mkvm_hw_lock);
	cpus_read_unlock();
}

static int mkvm_cpu_online(unsigned int cpu)
{
	int r = 0;

	mutex_lock(&mkvm_hw_lock);
	if (mkvm_hw_users) {
		atomic_set(&mkvm_hw_failed, 0);
		smp_call_function_single(cpu, mkvm_cpu_enable, NULL, 1);
		if (atomic_read(&mkvm_hw_failed))
			r = -EBUSY;
	}
	mutex_unlock(&mkvm_hw_lock);
	return r;
}

static int mkvm_cpu_offline(unsigned int cpu)
{
	mutex_lock(&mkvm_hw_lock);
	if (mkvm_hw_users)
		smp_call_function_single(cpu, mkvm_cpu_disable, NULL, 1);
	mutex_unlock(&mkvm_hw_lock);
	return 0;
}

/*
 * A reboot (or kexec) must not find a CPU still in SVM/VMX operation, but
 * a VMM may still be running a vCPU. Raise the flag first: the IPI that
 * turns the extension off on a CPU is taken only with interrupts on, and
 * a vCPU looks at the flag with interrupts off right before it enters
 * (vcpu.c), so it either sees the flag or is out of the guest already.
 */
static int mkvm_reboot(struct notifier_block *nb, unsigned long code, void *p)
{
	WRITE_ONCE(mkvm_rebooting, true);
	on_each_cpu(mkvm_cpu_disable, NULL, 1);
	return NOTIFY_OK;
}

static struct notifier_block mkvm_reboot_nb = {
	.notifier_call = mkvm_reboot,
};

/* ------------------------------------------------------------------ */
/* System ioctls                                                       */
/* ------------------------------------------------------------------ */

/**
 * mkvm_check_extension() - answer KVM_CHECK_EXTENSION.
 * @ext: a KVM_CAP_* number
 *
 * Honest list: a capability appears here only once it works. 0 means
 * "not supported" for anything else, as KVM answers.
 */
long mkvm_check_extension(long ext)
{
	switch (ext) {
	case KVM_CAP_USER_MEMORY:
	case KVM_CAP_SET_TSS_ADDR:
	case KVM_CAP_DESTROY_MEMORY_REGION_WORKS:
	case KVM_CAP_JOIN_MEMORY_REGIONS_WORKS:
	case KVM_CAP_READONLY_MEM:
	case KVM_CAP_IMMEDIATE_EXIT:
	case KVM_CAP_EXT_CPUID:
	case KVM_CAP_HLT:
	case KVM_CAP_CHECK_EXTENSION_VM:
	case KVM_CAP_BINARY_STATS_FD:
	/*
	 * KVM_GET/SET_MP_STATE work; without an in-kernel APIC the only
	 * state is RUNNABLE, as in KVM (vcpu.c: mkvm_mp_state()).
	 */
	case KVM_CAP_MP_STATE:
	/* KVM_IOEVENTFD, with length 0 = a write of any length (eventfd.c). */
	case KVM_CAP_IOEVENTFD:
	case KVM_CAP_IOEVENTFD_NO_LENGTH:
	case KVM_CAP_IOEVENTFD_ANY_LENGTH:
	/*
	 * The in-kernel irqchip (kmod/irqchip/): KVM_CREATE_IRQCHIP with its
	 * PICs, IOAPIC and LAPICs, their state ioctls, the LAPIC timer's
	 * TSC-deadline mode, and the choice of the boot vCPU.
	 */
	case KVM_CAP_IRQCHIP:
	case KVM_CAP_SPLIT_IRQCHIP:
	case KVM_CAP_TSC_DEADLINE_TIMER:
	case KVM_CAP_SET_BOOT_CPU_ID:
	/* KVM_IRQ_LINE_STATUS, KVM_SIGNAL_MSI (route.c). */
	case KVM_CAP_IRQ_INJECT_STATUS:
	case KVM_CAP_SIGNAL_MSI:
	/* The PIT and its state ioctls (pit.c). */
	case KVM_CAP_PIT:
	case KVM_CAP_PIT2:
	case KVM_CAP_PIT_STATE2:
	case KVM_CAP_REINJECT_CONTROL:
	/* irqfd, with resamplers for level-triggered GSIs (eventfd.c). */
	case KVM_CAP_IRQFD:
	case KVM_CAP_IRQFD_RESAMPLE:
	/* KVM_SET/GET_NR_MMU_PAGES (vm.c). */
	case KVM_CAP_MMU_SHADOW_CACHE_CONTROL:
	/*
	 * features.c and pv.c: MSR_PLATFORM_INFO for the guest (a VM
	 * capability), the feature MSRs on /dev/kvm, PV features limited
	 * to the guest's CPUID (a vCPU capability).
	 */
	case KVM_CAP_MSR_PLATFORM_INFO:
	case KVM_CAP_GET_MSR_FEATURES:
	case KVM_CAP_ENFORCE_PV_FEATURE_CPUID:
	/*
	 * KVM_GET/SET_TSC_KHZ on a vCPU (features.c). KVM_CAP_TSC_CONTROL
	 * stays 0: no hardware scaling; a faster rate is caught up in
	 * software, a slower one refused.
	 */
	case KVM_CAP_GET_TSC_KHZ:
	/*
	 * KVM_NMI, KVM_GET/SET_VCPU_EVENTS, KVM_GET/SET_DEBUGREGS (events.c).
	 * The interrupt shadow (KVM_VCPUEVENT_VALID_SHADOW) works too, but
	 * KVM_CAP_INTR_SHADOW stays 0: KVM documents it and never reports it.
	 */
	case KVM_CAP_USER_NMI:
	case KVM_CAP_VCPU_EVENTS:
	case KVM_CAP_DEBUGREGS:
		return 1;
	/*
	 * System Management Mode (smm.c): KVM_SMI, the smi block of the
	 * vCPU events, MSR_IA32_SMBASE, and memslots in address space 1,
	 * the SMM view of memory. QEMU turns SMM on in its machine when it
	 * sees KVM_CAP_X86_SMM (SeaBIOS then relocates SMBASE at boot).
	 */
	case KVM_CAP_X86_SMM:
		return mkvm_ops->has_smm;
	case KVM_CAP_MULTI_ADDRESS_SPACE:
		return mkvm_ops->has_smm ? MKVM_NR_AS : 1;
	/*
	 * KVM_SET_GUEST_DEBUG (guestdbg.c): the flags it takes, and the
	 * four hardware breakpoints of x86 (KVM on x86 leaves the latter
	 * at 0; it is arm64's capability there).
	 */
	case KVM_CAP_SET_GUEST_DEBUG:
		return 1;
	case KVM_CAP_SET_GUEST_DEBUG2:
		return MKVM_GUESTDBG_VALID;
	case KVM_CAP_GUEST_DEBUG_HW_BPS:
		return 4;
	/* KVM_VCPU_TSC_CTRL/KVM_VCPU_TSC_OFFSET on a vCPU fd (features.c). */
	case KVM_CAP_VCPU_ATTRIBUTES:
		return 1;
	/* The quirks minikvm has and can turn off (features.c). */
	case KVM_CAP_DISABLE_QUIRKS2:
		return mkvm_valid_quirks();
	/*
	 * KVM_SET_GSI_ROUTING exists and validates its argument, but answers
	 * EINVAL while the VM has no in-kernel irqchip, exactly as KVM does
	 * for such a VM (vm.c). QEMU refuses to start without this
	 * capability even when it keeps the interrupt controllers itself
	 * (kernel-irqchip=off, or its fallback when KVM_CAP_IRQCHIP is 0).
	 */
	case KVM_CAP_IRQ_ROUTING:
		return MKVM_MAX_IRQ_ROUTES;
	/* The recommended number is the host's CPU count, as on KVM. */
	case KVM_CAP_NR_VCPUS:
		return min_t(int, num_online_cpus(), MKVM_MAX_VCPUS);
	case KVM_CAP_MAX_VCPUS:
	case KVM_CAP_MAX_VCPU_ID:
		return MKVM_MAX_VCPUS;
	/* KVM_GET/SET_CLOCK (kvmclock.c), with the flags they know. */
	case KVM_CAP_ADJUST_CLOCK:
		return KVM_CLOCK_TSC_STABLE | KVM_CLOCK_REALTIME |
		       KVM_CLOCK_HOST_TSC;
	case KVM_CAP_MCE:		/* banks per vCPU (mce.c) */
		return MKVM_MAX_MCE_BANKS;
	case KVM_CAP_NR_MEMSLOTS:
		return MKVM_MAX_MEMSLOTS;
	/*
	 * Refused guest MSR accesses to the VMM, and the MSR filter
	 * (msr_user.c).
	 */
	case KVM_CAP_X86_USER_SPACE_MSR:
	case KVM_CAP_X86_MSR_FILTER:
		return 1;
	/* The kvm_run->s register sets KVM_RUN syncs (vcpu.c). */
	case KVM_CAP_SYNC_REGS:
		return MKVM_SYNC_REGS_VALID;
	/*
	 * The FPU state as an XSAVE image, and XCR0 (xsave.c). As in KVM,
	 * KVM_GET/SET_XSAVE work on any host (x87 and SSE at least); XCRs
	 * exist only where the host has XSAVE.
	 */
	case KVM_CAP_XSAVE:
		return 1;
	case KVM_CAP_XCRS:
		return boot_cpu_has(X86_FEATURE_XSAVE);
	case KVM_CAP_XSAVE2:
		return mkvm_xsave2_size();
	/*
	 * Coalesced MMIO: the answer is the page of the vCPU mmap that holds
	 * the ring; coalesced PIO shares it (irqchip/coalesced.c).
	 */
	case KVM_CAP_COALESCED_MMIO:
		return KVM_COALESCED_MMIO_PAGE_OFFSET;
	case KVM_CAP_COALESCED_PIO:
		return 1;
	default:
		return 0;
	}
}

static long mkvm_dev_ioctl(struct file *filp, unsigned int ioctl,
			   unsigned long arg)
{
	switch (ioctl) {
	case KVM_GET_API_VERSION:
		if (arg)
			return -EINVAL;
		return KVM_API_VERSION;
	case KVM_CHECK_EXTENSION:
		return mkvm_check_extension(arg);
	case KVM_CREATE_VM:
		return mkvm_create_vm(arg);
	case KVM_GET_VCPU_MMAP_SIZE:
		if (arg)
			return -EINVAL;
		return MKVM_RUN_MMAP_SIZE;
	case KVM_GET_SUPPORTED_CPUID:
		return mkvm_get_supported_cpuid((void __user *)arg);
	case KVM_GET_MSR_INDEX_LIST:
		return mkvm_get_msr_index_list((void __user *)arg);
	case KVM_GET_MSR_FEATURE_INDEX_LIST:
		return mkvm_get_msr_feature_index_list((void __user *)arg);
	case KVM_GET_MSRS:
		return mkvm_get_feature_msrs((void __user *)arg);
	case KVM_X86_GET_MCE_CAP_SUPPORTED:
		return mkvm_mce_get_supported((void __user *)arg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations mkvm_dev_fops = {
	.owner		= THIS_MODULE,
	.unlocked_ioctl	= mkvm_dev_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

/* /dev/kvm is the misc device with minor 232, the number KVM uses. */
static struct miscdevice mkvm_dev = {
	.minor	= KVM_MINOR,
	.name	= "kvm",
	.fops	= &mkvm_dev_fops,
	.mode	= 0666,
};

/* ------------------------------------------------------------------ */
/* Module load and unload                                              */
/* ------------------------------------------------------------------ */

static const struct mkvm_x86_ops *const mkvm_backends[] = {
	&svm_ops,
	&vmx_ops,
};

/* Pick the first backend whose probe says the CPU has its extension. */
static int mkvm_pick_backend(void)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(mkvm_backends); i++) {
		if (mkvm_backends[i]->probe() == 0) {
			mkvm_ops = mkvm_backends[i];
			return 0;
		}
	}
	pr_err("no usable virtualization extension (need AMD SVM with NPT or Intel VMX with EPT and unrestricted guest)\n");
	return -ENODEV;
}

static int __init mkvm_init(void)
{
	int r;

	r = mkvm_pick_backend();
	if (r)
		return r;
	mkvm_xsave_init();

	r = mkvm_ops->global_init();
	if (r)
		return r;

	r = cpuhp_setup_state_nocalls(CPUHP_AP_ONLINE_DYN, "minikvm:online",
				      mkvm_cpu_online, mkvm_cpu_offline);
	if (r < 0)
		goto err_vendor_exit;
	mkvm_cpuhp_state = r;

	register_reboot_notifier(&mkvm_reboot_nb);
	preempt_notifier_inc();

	/* Before /dev/kvm: every VM finds the directory there or absent. */
	mkvm_debugfs_init();
	r = misc_register(&mkvm_dev);
	if (r) {
		mkvm_debugfs_exit();
		if (r == -EBUSY)
			pr_err("/dev/kvm (misc 10:%d) is taken: unload kvm.ko first\n",
			       KVM_MINOR);
		else
			pr_err("cannot register /dev/kvm: %d\n", r);
		goto err_unregister;
	}

	pr_info("loaded, using %s\n", mkvm_ops->name);
	return 0;

err_unregister:
	preempt_notifier_dec();
	unregister_reboot_notifier(&mkvm_reboot_nb);
	cpuhp_remove_state_nocalls(mkvm_cpuhp_state);
err_vendor_exit:
	mkvm_ops->global_exit();
	return r;
}

static void __exit mkvm_exit(void)
{
	/* No fd can be open here: each holds a reference on the module. */
	misc_deregister(&mkvm_dev);
	mkvm_debugfs_exit();
	preempt_notifier_dec();
	unregister_reboot_notifier(&mkvm_reboot_nb);
	cpuhp_remove_state_nocalls(mkvm_cpuhp_state);
	mkvm_ops->global_exit();
	pr_info("unloaded\n");
}

module_init(mkvm_init);
module_exit(mkvm_exit);

MODULE_DESCRIPTION("minikvm: a small teaching implementation of the KVM API");
MODULE_LICENSE("GPL");
MODULE_ALIAS_MISCDEV(KVM_MINOR);
MODULE_ALIAS("devname:kvm");
