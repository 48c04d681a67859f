// SPDX-License-Identifier: GPL-2.0-only
/*
 * minikvm VMX: NMIs, the interrupt shadow and the debug registers as
 * KVM_GET/SET_VCPU_EVENTS and KVM_GET/SET_DEBUGREGS see them (the core's
 * half is kmod/events.c).
 *
 * With "virtual NMIs" (pin-based control, SDM Vol.3 25.6.1) the processor
 * tracks NMI blocking for NMIs the VMM injects: delivering one through
 * the VM-entry interruption-information field (type NMI, 27.6.1.2) sets
 * "blocking by NMI" in the guest interruptibility state (25.4.2), and
 * the guest's IRET clears it (26.3). "NMI-window exiting" (26.7.6) then
 * exits as soon as no such blocking, and no MOV SS blocking, is left:
 * the moment a pending NMI may go in.
 */
#include "vmx.h"

/* Exit qualification / interruption information bit 12 (28.2.2, 28.2.3). */
#define VMX_NMI_UNBLOCKED_BY_IRET	BIT(12)

/* The guest interruptibility state, from any context (VMCS made current). */
static u32 vmx_interruptibility(struct vcpu_vmx *vmx)
{
	u32 v;

	vmx_vmcs_get(vmx);
	v = vmcs_read(VMCS_GUEST_INTERRUPTIBILITY);
	vmx_vmcs_put(vmx);
	return v;
}

static void vmx_change_interruptibility(struct vcpu_vmx *vmx, u32 clear,
					u32 set)
{
	u32 v;

	vmx_vmcs_get(vmx);
	v = vmcs_read(VMCS_GUEST_INTERRUPTIBILITY);
	vmcs_write(VMCS_GUEST_INTERRUPTIBILITY, (v & ~clear) | set);
	vmx_vmcs_put(vmx);
}

/* ------------------------------------------------------------------ */
/* NMIs                                                                */
/* ------------------------------------------------------------------ */

/*
 * "Blocking by NMI" (virtual-NMI blocking, SDM Vol.3 24.4.2) is read from
 * the VMCS only while NMIs may be blocked, i.e. after an NMI went in; once
 * the core unblocked them (KVM_SET_VCPU_EVENTS, RSM: smm.c) they are known
 * unblocked until the next NMI, as in KVM (nmi_known_unmasked). Needed in
 * the VMX rig: after an RSM that minikvm emulated (no IRET ran), Bochs 2.7
 * kept reporting the blocking in the VMCS of every later exit, even of a
 * new VM's vCPU (selftests/smi_test.c, "nmi.masked" after RSM), while the
 * core had cleared it. kvm_intel's cache hides it within the VM too; its
 * new VMs still read the bit (smi_test there: "smm_inside_nmi (1)"), and
 * a guest IRET clears it (smi_test's IRET_TO_SELF). A new vCPU starts
 * with NMIs known unblocked (vmx_reset_guest()).
 */
bool vmx_get_nmi_mask(struct mkvm_vcpu *vcpu)
{
	struct vcpu_vmx *vmx = to_vmx(vcpu);
	bool masked;

	if (vmx->nmi_known_unmasked)
		return false;
	masked = vmx_interruptibility(vmx) & INTERRUPTIBILITY_NMI;
	vmx->nmi_known_unmasked = !masked;
	return masked;
}

void vmx_set_nmi_mask(struct mkvm_vcpu *vcpu, bool masked)
{
	to_vmx(vcpu)->nmi_known_unmasked = !masked;
	vmx_change_interruptibility(to_vmx(vcpu), INTERRUPTIBILITY_NMI,
				    masked ? INTERRUPTIBILITY_NMI : 0);
}

/*
 * An NMI goes in if no NMI handler runs and no STI/MOV SS shadow holds
 * it back (injecting one under MOV SS blocking fails the entry, 26.3.1.5;
 * some processors refuse STI blocking too).
 */
bool vmx_nmi_allowed(struct mkvm_vcpu *vcpu)
{
	return !(vmx_interruptibility(to_vmx(vcpu)) &
		 (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS)) &&
	       !vmx_get_nmi_mask(vcpu);
}

void vmx_enable_nmi_window(struct mkvm_vcpu *vcpu)
{
	struct vcpu_vmx *vmx = to_vmx(vcpu);

	vmx_vmcs_get(vmx);
	vmx_set_proc_bits(vmx, PROC_NMI_WINDOW_EXITING, true);
	vmx_vmcs_put(vmx);
}

/* Reason 8: no more NMI blocking; the run loop injects the NMI. */
int vmx_handle_nmi_window(struct mkvm_vcpu *vcpu)
{
	vmx_set_proc_bits(to_vmx(vcpu), PROC_NMI_WINDOW_EXITING, false);
	return 1;
}

/*
 * vmx_inject_event(), VMCS current: the NMI in vcpu->event goes in at
 * this entry, unless a shadow holds it back (then wait for the window).
 * Blocking by NMI must be clear to inject one (26.3.1.5); when it is set
 * here the NMI is one whose delivery an exit cut short, whose handler
 * never ran.
 */
void vmx_inject_nmi(struct mkvm_vcpu *vcpu)
{
	struct vcpu_vmx *vmx = to_vmx(vcpu);
	u32 intr = vmcs_read(VMCS_GUEST_INTERRUPTIBILITY);

	if (intr & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS)) {
		vmx_set_proc_bits(vmx, PROC_NMI_WINDOW_EXITING, true);
		return;
	}
	if (intr & INTERRUPTIBILITY_NMI)
		vmcs_write(VMCS_GUEST_INTERRUPTIBILITY,
			   intr & ~INTERRUPTIBILITY_NMI);
	/* Its delivery blocks NMIs: read the VMCS again from now on. */
	vmx->nmi_known_unmasked = false;
	vmcs_write(VMCS_ENTRY_INTR_INFO, VMX_INTR_INFO_VALID |
		   (VMX_INTR_TYPE_NMI << VMX_INTR_INFO_TYPE_SHIFT) |
		   vcpu->event.vector);
	vcpu->event.pending = false;
}

/*
 * After an exit, VMCS current: an IRET that unblocked NMIs and then
 * faulted (an exception exit, an EPT violation) did not complete, and
 * the guest runs it again: block NMIs again, as the SDM asks (28.2.2,
 * 28.2.3). Not when the exit interrupted an event delivery (bit 12
 * then means nothing).
 */
void vmx_recover_nmi_blocking(struct mkvm_vcpu *vcpu)
{
	struct vcpu_vmx *vmx = to_vmx(vcpu);
	u32 reason = vmx->exit_reason & VMX_EXIT_REASON_BASIC;
	bool unblocked;

	if (vmx->nmi_known_unmasked)
		return;
	if (vmcs_read(VMCS_IDT_VECTORING_INFO) & VMX_INTR_INFO_VALID)
		return;
	if (reason == VMX_EXIT_EXCEPTION_NMI)
		unblocked = (vmx->exit_intr_info & VMX_INTR_INFO_VALID) &&
			    (vmx->exit_intr_info & VMX_NMI_UNBLOCKED_BY_IRET);
	else if (reason == VMX_EXIT_EPT_VIOLATION)
		unblocked = vmx->exit_qual & VMX_NMI_UNBLOCKED_BY_IRET;
	else
		return;
	if (unblocked)
		vmcs_set_bits(VMCS_GUEST_INTERRUPTIBILITY,
			      INTERRUPTIBILITY_NMI);
}

/* ------------------------------------------------------------------ */
/* Interrupt shadow and debug registers                                */
/* ------------------------------------------------------------------ */

u32 vmx_get_interrupt_shadow(struct mkvm_vcpu *vcpu)
{
	u32 v = vmx_interruptibility(to_vmx(vcpu)), r = 0;

	if (v & INTERRUPTIBILITY_STI)
		r |= KVM_X86_SHADOW_INT_STI;
	if (v & INTERRUPTIBILITY_MOV_SS)
		r |= KVM_X86_SHADOW_INT_MOV_SS;
	return r;
}

/* The two blocking bits may not both be set (26.3.1.5): MOV SS wins, as KVM. */
void vmx_set_interrupt_shadow(struct mkvm_vcpu *vcpu, u32 shadow)
{
	u32 set = 0;

	if (shadow & KVM_X86_SHADOW_INT_MOV_SS)
		set = INTERRUPTIBILITY_MOV_SS;
	else if (shadow & KVM_X86_SHADOW_INT_STI)
		set = INTERRUPTIBILITY_STI;
	vmx_change_interruptibility(to_vmx(vcpu), INTERRUPTIBILITY_STI |
				    INTERRUPTIBILITY_MOV_SS, set);
}

/*
 * The software copies vmx_handle_dr() serves to the guest (exit.c); DR6
 * is read back after each exit while the guest's breakpoints are live
 * (vmx.c: vmx_save_guest_dr6()). A new DR7 goes into the VMCS.
 */
void vmx_get_debugregs(struct mkvm_vcpu *vcpu, struct kvm_debugregs *d)
{
	struct vcpu_vmx *vmx = to_vmx(vcpu);

	memcpy(d->db, vmx->dr, sizeof(d->db));
	d->dr6 = vmx->dr6;
	d->dr7 = vmx->dr7;
}

void vmx_set_debugregs(struct mkvm_vcpu *vcpu, const struct kvm_debugregs *d)
{
	struct vcpu_vmx *vmx = to_vmx(vcpu);

	memcpy(vmx->dr, d->db, sizeof(vmx->dr));
	vmx->dr6 = d->dr6;
	vmx->dr7 = d->dr7;
	vmx_vmcs_get(vmx);
	vmx_write_dr7(vcpu);
	vmx_vmcs_put(vmx);
}
