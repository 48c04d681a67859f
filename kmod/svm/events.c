// SPDX-License-Identifier: GPL-2.0-only
/*
 * minikvm SVM: NMIs, the interrupt shadow and the debug registers as
 * KVM_GET/SET_VCPU_EVENTS and KVM_GET/SET_DEBUGREGS see them (the core's
 * half is kmod/events.c).
 *
 * An NMI goes in through EVENTINJ with type NMI (APM Vol.2 15.20). A CPU
 * blocks further NMIs from the delivery of one until the next IRET
 * (APM Vol.2 8.2.2); without the vNMI extension the VMCB keeps no trace
 * of that block for an injected NMI, so minikvm keeps it itself:
 *
 *   inject NMI          nmi_masked = true, intercept IRET (15.9)
 *   IRET exits          (before it executes) stop intercepting it, note
 *                       its RIP: awaiting_iret
 *   a later exit        RIP moved: the IRET ran, NMIs are unblocked
 *
 * An NMI that waits for that moment (the NMI window) must not wait for
 * whatever exit comes next: the guest single-steps (RFLAGS.TF, with #DB
 * intercepted) over the IRET - or over an STI/MOV SS shadow, or over the
 * delivery of another event - and the #DB exit ends the wait.
 */
#include "svm.h"
#include "vmcb.h"

#include <asm/debugreg.h>
#include <asm/processor-flags.h>

/* ------------------------------------------------------------------ */
/* NMI blocking                                                        */
/* ------------------------------------------------------------------ */

static void svm_set_iret_intercept(struct vcpu_svm *svm, bool on)
{
	u32 *misc1 = &svm->vmcb->control.intercepts[VMCB_ICPT_MISC1];

	if (on)
		*misc1 |= INTERCEPT_IRET;
	else
		*misc1 &= ~INTERCEPT_IRET;
}

bool svm_get_nmi_mask(struct mkvm_vcpu *vcpu)
{
	return to_svm(vcpu)->nmi_masked;
}

void svm_set_nmi_mask(struct mkvm_vcpu *vcpu, bool masked)
{
	struct vcpu_svm *svm = to_svm(vcpu);

	svm->nmi_masked = masked;
	svm->awaiting_iret = false;
	svm_set_iret_intercept(svm, masked);
}

/* NMIs are held back by a running handler and by an interrupt shadow. */
bool svm_nmi_allowed(struct mkvm_vcpu *vcpu)
{
	struct vcpu_svm *svm = to_svm(vcpu);

	return !svm->nmi_masked &&
	       !(svm->vmcb->control.int_state & VMCB_INTERRUPT_SHADOW);
}

/*
 * Exit as soon as an NMI could go in. If the NMI going in at this VMRUN,
 * or one whose handler has not reached its IRET, holds it back, the IRET
 * intercept will exit. Otherwise (IRET seen but not yet executed, a
 * shadow, another event in the way) step one instruction.
 */
void svm_enable_nmi_window(struct mkvm_vcpu *vcpu)
{
	struct vcpu_svm *svm = to_svm(vcpu);

	if (vcpu->event.pending && vcpu->event.is_nmi)
		return;
	if (svm->nmi_masked && !svm->awaiting_iret)
		return;
	if (svm->nmi_singlestep)
		return;
	svm->nmi_singlestep = true;
	svm->singlestep_guest_tf = vcpu->rflags & X86_EFLAGS_TF;
}

/* svm_inject_event(): an NMI at this VMRUN (APM Vol.2 15.20). */
void svm_inject_nmi(struct mkvm_vcpu *vcpu, struct vmcb *vmcb)
{
	struct vcpu_svm *svm = to_svm(vcpu);

	vmcb->control.event_inj = SVM_EVTINJ_VALID | SVM_EVTINJ_TYPE_NMI |
				  vcpu->event.vector;
	vcpu->event.pending = false;
	svm_set_nmi_mask(vcpu, true);
	/* The NMI goes in now: no more stepping towards its window. */
	if (svm->nmi_singlestep) {
		svm->nmi_singlestep = false;
		if (!svm->singlestep_guest_tf)
			vmcb->save.rflags &= ~X86_EFLAGS_TF;
	}
}

/* Before VMRUN, after svm_load_vmcb() copied RFLAGS: step if asked. */
void svm_nmi_before_entry(struct mkvm_vcpu *vcpu, struct vmcb *vmcb)
{
	if (to_svm(vcpu)->nmi_singlestep)
		vmcb->save.rflags |= X86_EFLAGS_TF;
}

/*
 * After #VMEXIT: if the IRET we saw has run (RIP moved), NMIs are
 * unblocked. The TF we set is not the guest's: userspace never sees it.
 */
void svm_nmi_after_exit(struct mkvm_vcpu *vcpu, struct vmcb *vmcb)
{
	struct vcpu_svm *svm = to_svm(vcpu);

	if (svm->awaiting_iret && vcpu->rip != svm->iret_rip) {
		svm->awaiting_iret = false;
		svm->nmi_masked = false;
	}
	if (svm->nmi_singlestep && !svm->singlestep_guest_tf)
		vcpu->rflags &= ~X86_EFLAGS_TF;
}

/* SVM_EXIT_IRET: the NMI handler is about to return (see the top). */
int svm_handle_iret(struct mkvm_vcpu *vcpu)
{
	struct vcpu_svm *svm = to_svm(vcpu);

	svm_set_iret_intercept(svm, false);
	svm->awaiting_iret = true;
	svm->iret_rip = vcpu->rip;
	return 1;
}

/*
 * A #DB exit: is it the single step of svm_enable_nmi_window()? Then it
 * is minikvm's, not the guest's (unless the guest was stepping too):
 * clear DR6.BS it left and return true so it is not delivered.
 */
bool svm_nmi_step_done(struct mkvm_vcpu *vcpu)
{
	struct vcpu_svm *svm = to_svm(vcpu);
	struct vmcb *vmcb = svm->vmcb;

	if (!svm->nmi_singlestep || !(vmcb->save.dr6 & DR_STEP))
		return false;
	svm->nmi_singlestep = false;
	if (svm->singlestep_guest_tf)
		return false;
	vmcb->save.dr6 &= ~DR_STEP;
	return true;
}

/* ------------------------------------------------------------------ */
/* Interrupt shadow and debug registers                                */
/* ------------------------------------------------------------------ */

/* The VMCB has one shadow bit for both causes; KVM reports both. */
u32 svm_get_interrupt_shadow(struct mkvm_vcpu *vcpu)
{
	if (to_svm(vcpu)->vmcb->control.int_state & VMCB_INTERRUPT_SHADOW)
		return KVM_X86_SHADOW_INT_MOV_SS | KVM_X86_SHADOW_INT_STI;
	return 0;
}

void svm_set_interrupt_shadow(struct mkvm_vcpu *vcpu, u32 shadow)
{
	struct vmcb_control *c = &to_svm(vcpu)->vmcb->control;

	if (shadow)
		c->int_state |= VMCB_INTERRUPT_SHADOW;
	else
		c->int_state &= ~VMCB_INTERRUPT_SHADOW;
}

/*
 * DR0-3 and DR7 are the software copies svm_handle_dr() serves to the
 * guest's MOV DR; DR6 is the VMCB's
 * (the CPU sets its bits in the guest). A new DR7 reaches the VMCB at the
 * next VMRUN (svm_load_debug()).
 */
void svm_get_debugregs(struct mkvm_vcpu *vcpu, struct kvm_debugregs *d)
{
	struct vcpu_svm *svm = to_svm(vcpu);

	memcpy(d->db, svm->db, sizeof(d->db));
	d->dr6 = svm->vmcb->save.dr6;
	d->dr7 = svm->dr7;
}

void svm_set_debugregs(struct mkvm_vcpu *vcpu, const struct kvm_debugregs *d)
{
	struct vcpu_svm *svm = to_svm(vcpu);

	memcpy(svm->db, d->db, sizeof(svm->db));
	svm->vmcb->save.dr6 = d->dr6;
	svm->dr7 = d->dr7;
}
