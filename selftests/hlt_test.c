// SPDX-License-Identifier: GPL-2.0-only
/*
 * hlt_test: HLT without an in-kernel interrupt controller.
 *
 * HLT stops the processor until an interrupt arrives. With no in-kernel local APIC
 * (no KVM_CREATE_IRQCHIP) the interrupts come from userspace, so KVM cannot wait
 * for them itself: it completes the HLT and returns to userspace with
 * KVM_EXIT_HLT (api.rst). "Completes" means RIP already points past the HLT, so the
 * next KVM_RUN continues after it; that holds whether RFLAGS.IF is set or not.
 */
#include "kselftest_harness.h"
#include "vm.h"
#include "x86.h"

/* HLT with interrupts off, a ucall, STI; HLT with interrupts on, DONE. */
GUEST_ASM(hlt_long, 64,
	"hlt\n"
	"hlt_long_after1:\n\t"
	"mov $1, %edi\n\t"
	GUEST_SYNC
	"sti\n\t"
	"hlt\n"
	"hlt_long_after2:\n\t"
	"pushf\n\t"
	"pop %rdi\n\t"
	GUEST_SYNC
	GUEST_DONE);
extern const uint8_t hlt_long_after1[], hlt_long_after2[];

GUEST_ASM(hlt_real, 16,
	"nop\n\t"
	"hlt\n"
	"hlt_real_after:\n\t"
	GUEST_DONE);
extern const uint8_t hlt_real_after[];

static uint64_t vcpu_rip(struct vcpu *vcpu)
{
	struct kvm_regs regs;

	vcpu_get_regs(vcpu, &regs);
	return regs.rip;
}

TEST(long_mode)
{
	struct vcpu *vcpu;
	struct ucall uc;

	TEST_REQUIRE_KVM();
	vcpu = vm_create_guest(MODE_LONG64, GUEST_CODE(hlt_long));

	vcpu_expect_exit(vcpu, KVM_EXIT_HLT);
	EXPECT_EQ(guest_code_gpa(vcpu->vm, hlt_long_after1), vcpu_rip(vcpu));
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	EXPECT_EQ(1, uc.args[0]);

	/* Interrupts enabled make no difference without an in-kernel APIC. */
	vcpu_expect_exit(vcpu, KVM_EXIT_HLT);
	EXPECT_EQ(guest_code_gpa(vcpu->vm, hlt_long_after2), vcpu_rip(vcpu));
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	EXPECT_EQ(X86_RFLAGS_IF, uc.args[0] & X86_RFLAGS_IF);
	ASSERT_EQ(UCALL_DONE, vcpu_run_ucall(vcpu, &uc));

	/* After DONE the guest sits in "hlt; jmp .-1": every KVM_RUN is one more HLT. */
	vcpu_expect_exit(vcpu, KVM_EXIT_HLT);
	vcpu_expect_exit(vcpu, KVM_EXIT_HLT);
	vm_free(vcpu->vm);
}

/* In real mode RIP is the offset in CS (whose base is GUEST_CODE_GPA). */
TEST(real_mode)
{
	struct kvm_sregs sregs;
	struct vcpu *vcpu;
	struct ucall uc;

	TEST_REQUIRE_KVM();
	vcpu = vm_create_guest(MODE_REAL, GUEST_CODE(hlt_real));

	vcpu_expect_exit(vcpu, KVM_EXIT_HLT);
	vcpu_get_sregs(vcpu, &sregs);
	EXPECT_EQ(GUEST_CODE_GPA, sregs.cs.base);
	EXPECT_EQ(guest_code_gpa(vcpu->vm, hlt_real_after) - GUEST_CODE_GPA,
		  vcpu_rip(vcpu));
	ASSERT_EQ(UCALL_DONE, vcpu_run_ucall(vcpu, &uc));
	vm_free(vcpu->vm);
}

/* Userspace may move RIP while the vCPU is out on a HLT exit: it resumes there. */
TEST(set_rip_after_hlt)
{
	struct kvm_regs regs;
	struct vcpu *vcpu;
	struct ucall uc;

	TEST_REQUIRE_KVM();
	vcpu = vm_create_guest(MODE_LONG64, GUEST_CODE(hlt_long));
	vcpu_expect_exit(vcpu, KVM_EXIT_HLT);
	vcpu_get_regs(vcpu, &regs);
	regs.rip = guest_code_gpa(vcpu->vm, hlt_long_after2);
	regs.rflags |= X86_RFLAGS_IF;
	vcpu_set_regs(vcpu, &regs);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	EXPECT_EQ(X86_RFLAGS_IF, uc.args[0] & X86_RFLAGS_IF);
	vm_free(vcpu->vm);
}

TEST_HARNESS_MAIN
