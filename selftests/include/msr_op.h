/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * msr_op.h: the host side of the "one operation at a time" protocol that
 * msr_test and mce_test share, and op_guest.h (model_test, pv_test) extends
 * with more operations. Their guest loops on a ucall ("what next?"), takes the
 * operation from RBX (enum msr_guest_op), the MSR (or other argument) from RCX
 * and a value from EDX:EAX, runs RDMSR or WRMSR (or stops), and reports the
 * result in a second ucall. Include after kselftest_harness.h.
 */
#ifndef SELFTESTS_MSR_OP_H
#define SELFTESTS_MSR_OP_H

#include "vm.h"

enum msr_guest_op { OP_RDMSR, OP_WRMSR, OP_STOP };

/* Let the guest execute one operation; its report is in @uc. */
static inline void do_op(struct __test_metadata *_metadata, struct vcpu *vcpu,
			 int op, uint32_t index, uint64_t value, struct ucall *uc)
{
	struct kvm_regs regs;

	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, uc));	/* "what next?" */
	vcpu_get_regs(vcpu, &regs);
	regs.rbx = op;
	regs.rcx = index;
	regs.rax = (uint32_t)value;
	regs.rdx = value >> 32;
	vcpu_set_regs(vcpu, &regs);
	if (op == OP_STOP) {
		ASSERT_EQ(UCALL_DONE, vcpu_run_ucall(vcpu, uc));
		return;
	}
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, uc));	/* the result */
}

#endif
