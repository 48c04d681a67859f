// SPDX-License-Identifier: GPL-2.0-only
/*
 * minikvm: NMIs, the events a vCPU carries between two instructions, and
 * its debug registers, as userspace sees them.
 *
 * What a CPU holds besides its registers (SDM Vol.3 6.7, 6.8.3, 26.6;
 * APM Vol.2 8.2.2, 15.20) is part of "the whole vCPU state" a VMM must
 * save and restore to migrate a guest:
 *
 *   exception   being delivered, e.g. the exit cut its delivery short
 *   interrupt   being delivered, likewise (EXITINTINFO, IDT-vectoring)
 *   NMI         being delivered; pending (raised, not yet taken); and
 *               masked: a handler runs and NMIs wait for its IRET
 *   shadow      the instruction after STI or MOV SS takes no interrupt
 *
 * The core keeps one slot for "the event the next entry delivers"
 * (vcpu->event: exception, interrupt or NMI) and the count of NMIs still
 * to come (vcpu->nmi_pending). Masking and the shadow live in the
 * vendor's state (VMCB / VMCS), reached through the vendor ops.
 *
 * NMIs arrive from KVM_NMI or from an NMI message to the in-kernel LAPIC
 * (an IPI, an LVT entry, an MSI with delivery mode NMI: lapic.c), from
 * any thread: they count in the atomic vcpu->nmi_queued and kick. The
 * vCPU's own thread folds them into nmi_pending before each entry
 * (mkvm_prepare_nmi()) and injects one when the guest would take it;
 * else the vendor makes the guest exit when it would (the NMI window).
 */
#include <linux/uaccess.h>

#include "minikvm.h"

#define MKVM_NMI_VECTOR	2

/* The flags of struct kvm_vcpu_events that KVM accepts at all. */
#define MKVM_VCPUEVENT_KNOWN	(KVM_VCPUEVENT_VALID_NMI_PENDING |	\
				 KVM_VCPUEVENT_VALID_SIPI_VECTOR |	\
				 KVM_VCPUEVENT_VALID_SHADOW |		\
				 KVM_VCPUEVENT_VALID_SMM |		\
				 KVM_VCPUEVENT_VALID_PAYLOAD |		\
				 KVM_VCPUEVENT_VALID_TRIPLE_FAULT)

/* ------------------------------------------------------------------ */
/* NMIs                                                                */
/* ------------------------------------------------------------------ */

static bool mkvm_nmi_injected(struct mkvm_vcpu *vcpu)
{
	return vcpu->event.pending && vcpu->event.is_nmi;
}

/**
 * mkvm_vcpu_queue_nmi() - raise an NMI on @vcpu (KVM_NMI, LAPIC).
 *
 * Any thread, any context: one atomic increment and a kick.
 */
void mkvm_vcpu_queue_nmi(struct mkvm_vcpu *vcpu)
{
	atomic_inc(&vcpu->nmi_queued);
	mkvm_vcpu_kick(vcpu);
}

static void mkvm_process_nmi(struct mkvm_vcpu *vcpu);

/*
 * Does a halted vCPU have an NMI to take (vcpu.c's wait loop, its own
 * thread)? Not one that a running NMI handler blocks: a CPU in HLT inside
 * its NMI handler stays halted until that handler's IRET could run.
 */
bool mkvm_nmi_waiting(struct mkvm_vcpu *vcpu)
{
	if (atomic_read(&vcpu->nmi_queued))
		mkvm_process_nmi(vcpu);
	return vcpu->nmi_pending && !mkvm_ops->get_nmi_mask(vcpu);
}

/*
 * Fold the NMIs raised since the last look into nmi_pending. The NMI
 * input is an edge latch (SDM Vol.3 6.7.1): while one NMI is handled,
 * one more is remembered and the rest are lost. So two may be pending
 * when none is being handled (one goes in, one waits), one otherwise.
 */
static void mkvm_process_nmi(struct mkvm_vcpu *vcpu)
{
	unsigned int limit = 2, n;

	n = atomic_xchg(&vcpu->nmi_queued, 0);
	if (mkvm_nmi_injected(vcpu) || mkvm_ops->get_nmi_mask(vcpu))
		limit = 1;
	vcpu->nmi_pending = min_t(unsigned int, vcpu->nmi_pending + n, limit);
}

/**
 * mkvm_prepare_nmi() - before an entry (interrupts off): inject an NMI.
 *
 * An NMI comes before an external interrupt (SDM Vol.3 6.9, priority 4
 * against 5), so the core calls this first. The slot may already hold an
 * event (an exception, one whose delivery the last exit cut short): that
 * one goes first and the NMI waits for the window.
 */
void mkvm_prepare_nmi(struct mkvm_vcpu *vcpu)
{
	if (atomic_read(&vcpu->nmi_queued))
		mkvm_process_nmi(vcpu);
	if (!vcpu->nmi_pending)
		return;
	if (!vcpu->event.pending && mkvm_ops->nmi_allowed(vcpu)) {
		vcpu->event = (struct mkvm_pending_event){
			.pending = true, .is_nmi = true,
			.vector = MKVM_NMI_VECTOR };
		vcpu->nmi_pending--;
	}
	if (vcpu->nmi_pending)
		mkvm_ops->enable_nmi_window(vcpu);
}

/* INIT (vcpu.c): no NMI survives it, as in KVM. */
void mkvm_events_reset(struct mkvm_vcpu *vcpu)
{
	atomic_set(&vcpu->nmi_queued, 0);
	vcpu->nmi_pending = 0;
	mkvm_ops->set_nmi_mask(vcpu, false);
	mkvm_ops->set_interrupt_shadow(vcpu, 0);
}

/* ------------------------------------------------------------------ */
/* KVM_GET/SET_VCPU_EVENTS                                             */
/* ------------------------------------------------------------------ */

/*
 * KVM's ABI, without KVM_CAP_EXCEPTION_PAYLOAD: an exception the next
 * entry delivers is reported as "injected" (KVM conflates pending and
 * injected then). An interrupt given with KVM_INTERRUPT and a userspace
 * irqchip is "injected" too: KVM queues it as such at once.
 */
void mkvm_get_vcpu_events(struct mkvm_vcpu *vcpu, struct kvm_vcpu_events *ev)
{
	const struct mkvm_pending_event *e = &vcpu->event;

	memset(ev, 0, sizeof(*ev));
	mkvm_process_nmi(vcpu);
	if (e->pending && !e->is_irq && !e->is_nmi) {
		ev->exception.injected = 1;
		ev->exception.nr = e->vector;
		ev->exception.has_error_code = e->has_error;
		ev->exception.error_code = e->error;
	}
	if (e->pending && e->is_irq) {
		ev->interrupt.injected = 1;
		ev->interrupt.nr = e->vector;
	} else if (!vcpu->apic && vcpu->queued_irq >= 0) {
		ev->interrupt.injected = 1;
		ev->interrupt.nr = vcpu->queued_irq;
	}
	ev->interrupt.shadow = mkvm_ops->get_interrupt_shadow(vcpu);
	ev->nmi.injected = mkvm_nmi_injected(vcpu);
	ev->nmi.pending = vcpu->nmi_pending != 0;
	ev->nmi.masked = mkvm_ops->get_nmi_mask(vcpu);
	/* sipi_vector: never reported, as KVM. SMM: smm.c. */
	mkvm_smm_get_events(vcpu, ev);
	if (vcpu->apic)
		ev->smi.latched_init = test_bit(MKVM_APIC_INIT,
						&vcpu->apic->pending_events);
	ev->flags = KVM_VCPUEVENT_VALID_NMI_PENDING |
		    KVM_VCPUEVENT_VALID_SHADOW | KVM_VCPUEVENT_VALID_SMM;
}

/* The checks KVM makes, in its order, before touching anything. */
static int mkvm_vcpu_events_valid(struct mkvm_vcpu *vcpu,
				  const struct kvm_vcpu_events *ev)
{
	if (ev->flags & ~MKVM_VCPUEVENT_KNOWN)
		return -EINVAL;
	/*
	 * Exception payloads and triple-fault events need capabilities
	 * minikvm does not offer (KVM_CAP_EXCEPTION_PAYLOAD,
	 * KVM_CAP_X86_TRIPLE_FAULT_EVENT); KVM refuses them without.
	 */
	if (ev->flags & (KVM_VCPUEVENT_VALID_PAYLOAD |
			 KVM_VCPUEVENT_VALID_TRIPLE_FAULT))
		return -EINVAL;
	/* No exception has a vector above 31; an NMI is not an exception. */
	if (ev->exception.injected &&
	    (ev->exception.nr > 31 || ev->exception.nr == MKVM_NMI_VECTOR))
		return -EINVAL;
	if ((ev->flags & KVM_VCPUEVENT_VALID_SMM) &&
	    mkvm_smm_check_events(vcpu, ev))
		return -EINVAL;
	return 0;
}

/*
 * Put the interrupt of KVM_SET_VCPU_EVENTS back: into the slot if the
 * exception left it free, else where KVM_INTERRUPT would have put it.
 */
static void mkvm_set_event_irq(struct mkvm_vcpu *vcpu, u8 vector)
{
	if (!vcpu->event.pending) {
		vcpu->event = (struct mkvm_pending_event){
			.pending = true, .is_irq = true, .vector = vector };
		return;
	}
	if (vcpu->vm->irqchip_mode != MKVM_IRQCHIP_KERNEL)
		vcpu->queued_irq = vector;
}

int mkvm_set_vcpu_events(struct mkvm_vcpu *vcpu, struct kvm_vcpu_events *ev)
{
	int r = mkvm_vcpu_events_valid(vcpu, ev);

	if (r)
		return r;
	mkvm_process_nmi(vcpu);

	/* The slot is replaced as a whole; then each kind goes back in. */
	vcpu->event.pending = false;
	if (!vcpu->apic)
		vcpu->queued_irq = -1;
	if (ev->exception.injected)
		vcpu->event = (struct mkvm_pending_event){
			.pending = true, .vector = ev->exception.nr,
			.has_error = ev->exception.has_error_code,
			.error = ev->exception.error_code };
	/*
	 * A software interrupt (INT n, interrupt.soft) is not queued: its
	 * delivery needs the length of the instruction that raised it (the
	 * return address, APM Vol.2 15.20 NextRIP; SDM Vol.3 26.6.1.3), which
	 * the ABI does not carry, and RIP still points at that instruction
	 * (KVM never reports one either). The guest executes it again and the
	 * interrupt comes from there: what KVM on SVM does too, which checks
	 * that the instruction at RIP is an INT n of that vector and drops the
	 * event otherwise.
	 */
	if (ev->interrupt.injected && !ev->interrupt.soft)
		mkvm_set_event_irq(vcpu, ev->interrupt.nr);
	if (ev->flags & KVM_VCPUEVENT_VALID_SHADOW)
		mkvm_ops->set_interrupt_shadow(vcpu, ev->interrupt.shadow);

	if (ev->flags & KVM_VCPUEVENT_VALID_NMI_PENDING)
		vcpu->nmi_pending = min_t(u8, ev->nmi.pending, 2);
	if (ev->nmi.injected) {
		/* The slot is taken: the NMI waits its turn instead. */
		if (vcpu->event.pending)
			vcpu->nmi_pending = min_t(u8, vcpu->nmi_pending + 1, 2);
		else
			vcpu->event = (struct mkvm_pending_event){
				.pending = true, .is_nmi = true,
				.vector = MKVM_NMI_VECTOR };
	}
	mkvm_ops->set_nmi_mask(vcpu, ev->nmi.masked);

	if ((ev->flags & KVM_VCPUEVENT_VALID_SIPI_VECTOR) && vcpu->apic)
		WRITE_ONCE(vcpu->apic->sipi_vector, ev->sipi_vector);
	if (ev->flags & KVM_VCPUEVENT_VALID_SMM)
		mkvm_smm_set_events(vcpu, ev);
	if ((ev->flags & KVM_VCPUEVENT_VALID_SMM) && vcpu->apic) {
		if (ev->smi.latched_init)
			set_bit(MKVM_APIC_INIT, &vcpu->apic->pending_events);
		else
			clear_bit(MKVM_APIC_INIT, &vcpu->apic->pending_events);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* KVM_GET/SET_DEBUGREGS                                               */
/* ------------------------------------------------------------------ */

/*
 * DR6 and DR7 are 64-bit registers whose upper halves are reserved and
 * must be 0 (SDM Vol.3 17.2.3, 17.2.4; MOV to them would #GP): KVM
 * refuses them so. Everything else goes in as given, as in KVM.
 */
static int mkvm_set_debugregs(struct mkvm_vcpu *vcpu,
			      const struct kvm_debugregs *d)
{
	if (d->flags)
		return -EINVAL;
	if (upper_32_bits(d->dr6) || upper_32_bits(d->dr7))
		return -EINVAL;
	mkvm_ops->set_debugregs(vcpu, d);
	return 0;
}

/* ------------------------------------------------------------------ */
/* The ioctls                                                          */
/* ------------------------------------------------------------------ */

/**
 * mkvm_events_ioctl() - KVM_NMI, KVM_GET/SET_VCPU_EVENTS,
 * KVM_GET/SET_DEBUGREGS on a vCPU fd (with its mutex held).
 */
long mkvm_events_ioctl(struct mkvm_vcpu *vcpu, unsigned int ioctl,
		       void __user *argp)
{
	union {
		struct kvm_vcpu_events ev;
		struct kvm_debugregs dr;
	} u;

	switch (ioctl) {
	case KVM_NMI:
		mkvm_vcpu_queue_nmi(vcpu);
		return 0;
	case KVM_GET_VCPU_EVENTS:
		mkvm_get_vcpu_events(vcpu, &u.ev);
		return copy_to_user(argp, &u.ev, sizeof(u.ev)) ? -EFAULT : 0;
	case KVM_SET_VCPU_EVENTS:
		if (copy_from_user(&u.ev, argp, sizeof(u.ev)))
			return -EFAULT;
		return mkvm_set_vcpu_events(vcpu, &u.ev);
	case KVM_GET_DEBUGREGS:
		memset(&u.dr, 0, sizeof(u.dr));
		mkvm_ops->get_debugregs(vcpu, &u.dr);
		return copy_to_user(argp, &u.dr, sizeof(u.dr)) ? -EFAULT : 0;
	case KVM_SET_DEBUGREGS:
		if (copy_from_user(&u.dr, argp, sizeof(u.dr)))
			return -EFAULT;
		return mkvm_set_debugregs(vcpu, &u.dr);
	default:
		return -ENOTTY;
	}
}
