// SPDX-License-Identifier: GPL-2.0-only
/*
 * guestdbg.c: KVM_SET_GUEST_DEBUG, the VMM debugging its guest (what a
 * gdbstub in the VMM is built on).
 *
 * The VMM asks for any of (api.rst, "KVM_SET_GUEST_DEBUG"):
 *   SINGLESTEP  one instruction at a time: RFLAGS.TF is set behind the
 *               guest's back, and the trap (#DB, DR6.BS) exits with
 *               KVM_EXIT_DEBUG instead of reaching the guest;
 *   USE_SW_BP   INT3 exits (#BP intercepted) instead of reaching the guest;
 *   USE_HW_BP   the guest runs with the VMM's DR0-3 and DR7 in place of its
 *               own, and their #DB exits;
 *   INJECT_DB/BP  queue a #DB/#BP for the guest now;
 *   BLOCKIRQ    no interrupts go in while debugging (stepping into the
 *               timer handler at every step is of no use to anybody).
 *
 * Here is the vendor-neutral half: the ioctl, the TF bookkeeping, filling
 * kvm_run->debug, and the single-step trap of an instruction the kernel
 * emulated (the hardware never ran it, so it raised nothing). The vendors
 * intercept #DB/#BP and switch the debug registers (update_guest_debug in
 * struct mkvm_x86_ops) and hand their #DB/#BP exits to mkvm_handle_db() and
 * mkvm_debug_exit().
 */
#include <linux/percpu.h>
#include <linux/uaccess.h>
#include <asm/debugreg.h>
#include <asm/processor.h>

#include "minikvm.h"

/* DR6 bits that read as 1 (SDM Vol.3 17.2.3), BD and BS in DR6. */
#define MKVM_DR6_FIXED	0xffff0ff0ULL
#define MKVM_DR6_B0_3	0xfULL
#define MKVM_DR6_BD	BIT_ULL(13)
#define MKVM_DR6_BS	BIT_ULL(14)

/*
 * RFLAGS as the VMM sees it: without the TF that single-stepping put
 * there (as KVM; a TF of the guest's own is hidden too while stepping).
 */
unsigned long mkvm_get_rflags(struct mkvm_vcpu *vcpu)
{
	unsigned long rflags = vcpu->rflags;

	if (vcpu->guest_debug & KVM_GUESTDBG_SINGLESTEP)
		rflags &= ~MKVM_RFLAGS_TF;
	return rflags;
}

/*
 * And RFLAGS from the VMM: TF goes back in if the vCPU is still where
 * stepping began. A VMM that moves RIP elsewhere re-arms stepping with
 * KVM_SET_GUEST_DEBUG, as on KVM.
 */
void mkvm_set_rflags(struct mkvm_vcpu *vcpu, unsigned long rflags)
{
	if ((vcpu->guest_debug & KVM_GUESTDBG_SINGLESTEP) &&
	    mkvm_rip_linear(vcpu) == vcpu->singlestep_rip)
		rflags |= MKVM_RFLAGS_TF;
	vcpu->rflags = rflags;
}

/* The DR7 the guest runs with: the VMM's while it uses HW breakpoints. */
static u64 mkvm_effective_dr7(struct mkvm_vcpu *vcpu)
{
	struct kvm_debugregs d;

	if (vcpu->guest_debug & KVM_GUESTDBG_USE_HW_BP)
		return vcpu->debug_dr7;
	mkvm_ops->get_debugregs(vcpu, &d);
	return d.dr7;
}

/*
 * A debug exception for the guest itself: the DR6 bits it reports
 * replace the breakpoint bits B0-B3 of the guest's DR6 (SDM Vol.3
 * 17.2.3), and delivery clears DR7.GD (17.2.4).
 */
static void mkvm_queue_guest_db(struct mkvm_vcpu *vcpu, u64 dr6_bits)
{
	struct kvm_debugregs d;

	mkvm_ops->get_debugregs(vcpu, &d);
	d.dr6 = (d.dr6 & ~MKVM_DR6_B0_3) | dr6_bits | MKVM_DR6_FIXED;
	d.dr7 &= ~MKVM_DR7_GD;
	mkvm_ops->set_debugregs(vcpu, &d);
	mkvm_queue_exception(vcpu, MKVM_DB_VECTOR, false, 0);
}

/**
 * mkvm_debug_exit() - report a debug event to the VMM.
 * @vector: 1 (#DB) or 3 (#BP)
 * @dr6, @dr7: the DR6 the event produced and the DR7 in force (#DB)
 *
 * pc is the linear address of RIP: for #BP the INT3 itself (the intercept
 * comes before the instruction), for #DB the next instruction (a trap) or
 * the faulting one (an instruction breakpoint). Return: 0, for userspace.
 */
int mkvm_debug_exit(struct mkvm_vcpu *vcpu, u8 vector, u64 dr6, u64 dr7)
{
	struct kvm_run *run = vcpu->run;

	run->exit_reason = KVM_EXIT_DEBUG;
	run->debug.arch.exception = vector;
	run->debug.arch.pad = 0;
	run->debug.arch.pc = mkvm_rip_linear(vcpu);
	run->debug.arch.dr6 = dr6;
	run->debug.arch.dr7 = dr7;
	return 0;
}

/**
 * mkvm_handle_db() - a #DB the vendor intercepted, with the DR6 it produced.
 *
 * While the VMM single-steps or uses hardware breakpoints, every #DB is
 * its own (as in KVM); otherwise it belongs to the guest.
 */
int mkvm_handle_db(struct mkvm_vcpu *vcpu, u64 dr6, u64 dr7)
{
	if (mkvm_debug_owns_db(vcpu))
		return mkvm_debug_exit(vcpu, MKVM_DB_VECTOR, dr6, dr7);
	mkvm_queue_guest_db(vcpu, dr6 & ~MKVM_DR6_FIXED);
	return 1;
}

/**
 * mkvm_step_emulated() - the kernel completed an instruction with TF set.
 *
 * The hardware did not execute it, so it raised no single-step trap: raise
 * it here (SDM Vol.3 17.3.1.4), for the VMM if it single-steps, else for
 * the guest, whose own TF it was. Return: 0 (KVM_EXIT_DEBUG) or 1.
 */
int mkvm_step_emulated(struct mkvm_vcpu *vcpu)
{
	if (vcpu->guest_debug & KVM_GUESTDBG_SINGLESTEP)
		return mkvm_debug_exit(vcpu, MKVM_DB_VECTOR,
				       MKVM_DR6_FIXED | MKVM_DR6_BS,
				       mkvm_effective_dr7(vcpu));
	mkvm_queue_guest_db(vcpu, MKVM_DR6_BS);
	return 1;
}

/**
 * mkvm_dr_general_detect() - MOV DR under DR7.GD (SDM Vol.3 17.2.4).
 * @ret: the exit handler's result when this returns true
 *
 * The vendors intercept every MOV DR, so the hardware's general-detect
 * check, which comes first, is done here: with GD set in the DR7 in
 * force the MOV does not happen and a #DB with DR6.BD does, for the VMM
 * if GD is its (USE_HW_BP) or for the guest.
 */
bool mkvm_dr_general_detect(struct mkvm_vcpu *vcpu, int *ret)
{
	u64 dr7 = mkvm_effective_dr7(vcpu);

	if (!(dr7 & MKVM_DR7_GD))
		return false;
	if (vcpu->guest_debug & KVM_GUESTDBG_USE_HW_BP) {
		*ret = mkvm_debug_exit(vcpu, MKVM_DB_VECTOR,
				       MKVM_DR6_FIXED | MKVM_DR6_BD, dr7);
	} else {
		mkvm_queue_guest_db(vcpu, MKVM_DR6_BD);
		*ret = 1;
	}
	return true;
}

/**
 * mkvm_load_debug_addrs() - DR0-3 for the entry about to happen.
 * @guest_db: the guest's own DR0-3
 *
 * Neither VMRUN nor VM entry switches DR0-3 (APM Vol.2 15.5.1, SDM Vol.3
 * 27.3.2.1; DR7 comes from the VMCB / VMCS, see mkvm_hw_dr7()). The
 * vendors call this with interrupts off right before the world switch,
 * and only when the DR7 the guest runs with enables a breakpoint (or, on
 * SVM, when the guest reads and writes them itself): the VMM's addresses
 * with KVM_GUESTDBG_USE_HW_BP, else the guest's own. Any other time the
 * host's stay in place, harmless under a DR7 with every breakpoint off.
 *
 * The host's DR7 goes to 0 first, so that none of the host's enabled
 * breakpoints matches these addresses in between; the exit leaves DR7
 * with every breakpoint off (APM Vol.2 15.6, SDM Vol.3 28.5.1), and the
 * vendors then put the host's registers back (hw_breakpoint_restore())
 * if it has breakpoints of its own.
 */
void mkvm_load_debug_addrs(struct mkvm_vcpu *vcpu,
			   const unsigned long *guest_db)
{
	const unsigned long *db = guest_db;

	if (vcpu->guest_debug & KVM_GUESTDBG_USE_HW_BP)
		db = vcpu->debug_db;
	if (hw_breakpoint_active())
		set_debugreg(0, 7);
	set_debugreg(db[0], 0);
	set_debugreg(db[1], 1);
	set_debugreg(db[2], 2);
	set_debugreg(db[3], 3);
}

/**
 * mkvm_set_guest_debug() - KVM_SET_GUEST_DEBUG on a vCPU fd.
 *
 * Flags outside the x86 set are refused (EINVAL), as is a DR7 with its
 * reserved upper half set, which would make the next entry fail. INJECT_DB
 * and INJECT_BP queue the exception now and are not remembered; EBUSY if
 * an event is already on its way in. Without ENABLE everything is off.
 */
long mkvm_set_guest_debug(struct mkvm_vcpu *vcpu,
			  struct kvm_guest_debug __user *argp)
{
	struct kvm_guest_debug dbg;
	unsigned long rflags;
	u32 control;
	int i;

	if (copy_from_user(&dbg, argp, sizeof(dbg)))
		return -EFAULT;
	control = dbg.control;
	if (control & ~MKVM_GUESTDBG_VALID)
		return -EINVAL;
	if ((control & KVM_GUESTDBG_USE_HW_BP) &&
	    upper_32_bits(dbg.arch.debugreg[7]))
		return -EINVAL;
	if (control & (KVM_GUESTDBG_INJECT_DB | KVM_GUESTDBG_INJECT_BP)) {
		if (vcpu->event.pending)
			return -EBUSY;
		/*
		 * #BP goes in as an exception whose frame holds RIP as it
		 * is (KVM pushes the address after the instruction at RIP).
		 */
		mkvm_queue_exception(vcpu,
				     (control & KVM_GUESTDBG_INJECT_DB) ?
				     MKVM_DB_VECTOR : MKVM_BP_VECTOR, false, 0);
	}

	/* RFLAGS without the TF of the old setting, then with the new. */
	rflags = mkvm_get_rflags(vcpu);
	control &= ~(KVM_GUESTDBG_INJECT_DB | KVM_GUESTDBG_INJECT_BP);
	vcpu->guest_debug = (control & KVM_GUESTDBG_ENABLE) ? control : 0;
	for (i = 0; i < 4; i++)
		vcpu->debug_db[i] =
			(vcpu->guest_debug & KVM_GUESTDBG_USE_HW_BP) ?
			dbg.arch.debugreg[i] : 0;
	vcpu->debug_dr7 = (vcpu->guest_debug & KVM_GUESTDBG_USE_HW_BP) ?
			  dbg.arch.debugreg[7] : 0;
	if (vcpu->guest_debug & KVM_GUESTDBG_SINGLESTEP)
		vcpu->singlestep_rip = mkvm_rip_linear(vcpu);
	mkvm_set_rflags(vcpu, rflags);
	mkvm_ops->update_guest_debug(vcpu);
	return 0;
}
