// SPDX-License-Identifier: GPL-2.0-only
/*
 * minikvm: the VM's in-kernel irqchip as a whole.
 *
 * KVM_CREATE_IRQCHIP builds the interrupt hardware of a PC inside the
 * kernel: two 8259A PICs (pic.c), an IOAPIC (ioapic.c), the routing table
 * from GSIs to their pins (route.c), and from then on a local APIC with
 * each vCPU (lapic.c). This file creates and tears them down, answers
 * KVM_GET/SET_IRQCHIP, and is where the run loop asks "is there an
 * interrupt for this vCPU?" (see the overview in irqchip.h).
 */
#include <linux/slab.h>
#include <linux/smp.h>
#include <linux/uaccess.h>
/* Linux 6.6+: smp_send_reschedule() traces through this tracepoint. */
#include <trace/events/ipi.h>

#include "minikvm.h"

/**
 * mkvm_create_irqchip() - KVM_CREATE_IRQCHIP.
 *
 * Must come before the first KVM_CREATE_VCPU (EINVAL after, as in KVM),
 * since every vCPU gets its LAPIC when it is created; only once (EEXIST).
 */
int mkvm_create_irqchip(struct mkvm *vm)
{
	int r;

	mutex_lock(&vm->lock);
	r = -EEXIST;
	if (vm->irqchip_mode != MKVM_IRQCHIP_NONE)
		goto out;
	r = -EINVAL;
	if (vm->nr_vcpus)
		goto out;
	r = mkvm_pic_create(vm);
	if (r)
		goto out;
	r = mkvm_ioapic_create(vm);
	if (r)
		goto err_pic;
	r = mkvm_setup_default_irq_routing(vm);
	if (r)
		goto err_ioapic;
	WRITE_ONCE(vm->irqchip_mode, MKVM_IRQCHIP_KERNEL);
	mutex_unlock(&vm->lock);
	return 0;

err_ioapic:
	mkvm_ioapic_destroy(vm);
err_pic:
	mkvm_pic_destroy(vm);
out:
	mutex_unlock(&vm->lock);
	return r;
}

/**
 * mkvm_enable_split_irqchip() - KVM_ENABLE_CAP(KVM_CAP_SPLIT_IRQCHIP).
 * @nr_ioapic_pins: GSIs the VMM's IOAPIC will use (args[0]), at most 48
 *
 * Only the LAPICs live in the kernel; the VMM keeps the PIC and the
 * IOAPIC, sends the IOAPIC's interrupts as MSIs (KVM_SIGNAL_MSI, MSI
 * routes) and the PIC's with KVM_INTERRUPT, and hears of level-triggered
 * EOIs through KVM_EXIT_IOAPIC_EOI. Before any vCPU, once (EEXIST).
 */
int mkvm_enable_split_irqchip(struct mkvm *vm, u64 nr_ioapic_pins)
{
	int r = -EINVAL;

	if (nr_ioapic_pins > 2 * MKVM_IOAPIC_PINS)
		return r;
	mutex_lock(&vm->lock);
	r = -EEXIST;
	if (vm->irqchip_mode == MKVM_IRQCHIP_NONE && !vm->nr_vcpus) {
		WRITE_ONCE(vm->irqchip_mode, MKVM_IRQCHIP_SPLIT);
		r = 0;
	}
	mutex_unlock(&vm->lock);
	return r;
}

/*
 * KVM_GET_IRQCHIP / KVM_SET_IRQCHIP: the state of one chip, for a VMM
 * that saves, restores or migrates the machine. chip_id 0 and 1 are the
 * master and slave PIC, 2 the IOAPIC (struct kvm_irqchip).
 */
long mkvm_irqchip_ioctl(struct mkvm *vm, unsigned int ioctl,
			void __user *argp)
{
	struct kvm_irqchip *chip;
	bool set = ioctl == KVM_SET_IRQCHIP;
	long r = 0;

	chip = memdup_user(argp, sizeof(*chip));
	if (IS_ERR(chip))
		return PTR_ERR(chip);
	if (READ_ONCE(vm->irqchip_mode) != MKVM_IRQCHIP_KERNEL) {
		r = -ENXIO;
		goto out;
	}
	switch (chip->chip_id) {
	case KVM_IRQCHIP_PIC_MASTER:
	case KVM_IRQCHIP_PIC_SLAVE:
		if (set)
			mkvm_pic_set_state(vm, chip->chip_id, &chip->chip.pic);
		else
			mkvm_pic_get_state(vm, chip->chip_id, &chip->chip.pic);
		break;
	case KVM_IRQCHIP_IOAPIC:
		if (set)
			r = mkvm_ioapic_set_state(vm, &chip->chip.ioapic);
		else
			mkvm_ioapic_get_state(vm, &chip->chip.ioapic);
		break;
	default:
		r = -EINVAL;
	}
	if (!r && !set && copy_to_user(argp, chip, sizeof(*chip)))
		r = -EFAULT;
out:
	kfree(chip);
	return r;
}

/*
 * VM teardown, before the vCPUs are freed: first what may still raise
 * interrupts on its own (irqfds, the PIT's timer), then the chips.
 */
void mkvm_irqchip_destroy(struct mkvm *vm)
{
	mkvm_eventfd_release(vm);
	mutex_lock(&vm->lock);
	mkvm_pit_destroy(vm);
	mkvm_ioapic_destroy(vm);
	mkvm_pic_destroy(vm);
	mutex_unlock(&vm->lock);
	mkvm_free_irq_routing(vm);
	mkvm_io_bus_free_all(vm);
	mkvm_coalesced_free(vm);
}

/* ------------------------------------------------------------------ */
/* The vCPU side                                                       */
/* ------------------------------------------------------------------ */

/*
 * Does the PIC have an interrupt for this vCPU (through its LVT0)? With a
 * split irqchip the PIC is the VMM's, and its interrupt is the vector
 * KVM_INTERRUPT queued.
 */
static bool mkvm_pic_for(struct mkvm_vcpu *vcpu)
{
	if (!mkvm_lapic_accepts_pic(vcpu))
		return false;
	if (vcpu->vm->irqchip_mode == MKVM_IRQCHIP_SPLIT)
		return vcpu->queued_irq >= 0;
	return vcpu->vm->pic && mkvm_pic_has_interrupt(vcpu->vm);
}

/*
 * An interrupt for @vcpu, as the CPU's INTR logic sees it: the PIC's
 * (ExtINT) first, as KVM does, then the LAPIC's highest IRR above PPR.
 */
int mkvm_irqchip_pending_vector(struct mkvm_vcpu *vcpu)
{
	if (!vcpu->apic)
		return -1;
	if (mkvm_pic_for(vcpu))
		return 0;	/* the PIC tells the vector only at INTA */
	return mkvm_lapic_pending_vector(vcpu);
}

/* The interrupt-acknowledge cycle: the vector, taken from its source. */
int mkvm_irqchip_ack(struct mkvm_vcpu *vcpu)
{
	int vector;

	if (mkvm_pic_for(vcpu)) {
		if (vcpu->vm->irqchip_mode == MKVM_IRQCHIP_KERNEL)
			return mkvm_pic_read_irq(vcpu->vm);
		vector = vcpu->queued_irq;
		vcpu->queued_irq = -1;
		return vector;
	}
	vector = mkvm_lapic_pending_vector(vcpu);
	if (vector >= 0)
		mkvm_lapic_ack(vcpu, vector);
	return vector;
}

/**
 * mkvm_vcpu_kick() - make @vcpu look at its interrupts soon.
 *
 * The caller has just set something the vCPU must see (an IRR bit, a
 * pending INIT). A vCPU asleep in HLT is woken. A vCPU in guest mode on
 * another CPU gets an IPI: any physical interrupt makes it exit, and the
 * run loop looks again before the next entry. A vCPU anywhere else will
 * look anyway: it sets mode = MKVM_IN_GUEST before it looks (vcpu.c), and
 * the barrier below pairs with that. Any context, also hard IRQ.
 */
void mkvm_vcpu_kick(struct mkvm_vcpu *vcpu)
{
	int cpu, me;

	smp_mb();
	if (wq_has_sleeper(&vcpu->wq))
		wake_up_interruptible(&vcpu->wq);
	me = get_cpu();
	cpu = READ_ONCE(vcpu->cpu);
	if (cpu != me && cpu >= 0 && cpu_online(cpu) &&
	    READ_ONCE(vcpu->mode) == MKVM_IN_GUEST)
		smp_send_reschedule(cpu);
	put_cpu();
}
