// SPDX-License-Identifier: GPL-2.0-only
/*
 * cr8_test: the guest's task priority (CR8) with the local APIC in userspace.
 *
 * CR8 is the 64-bit mode window on the local APIC's TPR: interrupts whose
 * priority class (vector >> 4) is not above it stay pending (SDM Vol.3 10.8.6.1).
 * When the VMM emulates the APIC (no KVM_CREATE_IRQCHIP), the TPR belongs to the
 * VMM, and kvm_run carries it both ways (api.rst, "cr8"):
 *
 * - KVM_RUN first sets the guest's CR8 from kvm_run->cr8 (x86.c
 *   kvm_arch_vcpu_ioctl_run(): kvm_set_cr8()), whatever KVM_SET_SREGS said
 *   before; a value with bits above 3 set fails with EINVAL;
 * - every return from KVM_RUN, even that failure, writes the guest's CR8 back to
 *   kvm_run->cr8 (post_kvm_run_save());
 * - a guest that lowers its TPR may unmask an interrupt the VMM holds back, so
 *   KVM returns to the VMM right after such a write with KVM_EXIT_SET_TPR (SVM:
 *   cr8_write_interception(), VMX: handle_cr()); raising it needs no exit.
 *   MOV to CR8 with a reserved bit set (bits 63:4) is #GP(0).
 *
 * The guest reads CR8 with MOV from CR8 and reports it in arg0.
 */
#include <errno.h>
#include <string.h>

#include "kselftest_harness.h"
#include "vm.h"
#include "x86.h"

GUEST_ASM(cr8_guest, 64,
	"mov %cr8, %rdi\n\t"
	GUEST_SYNC				/* what KVM_RUN put in */
	"mov $9, %eax\n\t"
	"mov %rax, %cr8\n\t"			/* raise: no exit */
	"mov %cr8, %rdi\n\t"
	GUEST_SYNC
	"mov %cr8, %rdi\n\t"
	GUEST_SYNC
	"mov $2, %eax\n\t"
	"mov %rax, %cr8\n\t"			/* lower: KVM_EXIT_SET_TPR */
	"mov %cr8, %rdi\n\t"
	GUEST_SYNC
	GUEST_DONE);

/* A reserved bit: #GP, CR8 unchanged. The handler skips the 4-byte MOV. */
GUEST_ASM(cr8_gp_guest, 64,
	"xor %r15d, %r15d\n\t"
	"mov $0x12, %eax\n\t"
	"mov %rax, %cr8\n\t"
	"mov %r15, %rdi\n\t"
	"mov %cr8, %rsi\n\t"
	GUEST_SYNC
	GUEST_DONE
	"cr8_gp_handler:\n\t"
	"mov $" GSTR(GP_VECTOR) ", %r15d\n\t"
	"add $8, %rsp\n\t"
	"addq $4, (%rsp)\n\t"
	"iretq\n\t");
extern const uint8_t cr8_gp_handler[];

static uint64_t sregs_cr8(struct vcpu *vcpu)
{
	struct kvm_sregs sregs;

	vcpu_get_sregs(vcpu, &sregs);
	return sregs.cr8;
}

/* kvm_run->cr8 goes in at KVM_RUN and comes back out at each exit. */
TEST(cr8_in_and_out)
{
	struct kvm_sregs sregs;
	struct vcpu *vcpu;
	struct ucall uc;

	TEST_REQUIRE_KVM();
	vcpu = vm_create_guest(MODE_LONG64, GUEST_CODE(cr8_guest));
	EXPECT_EQ(0, sregs_cr8(vcpu));			/* at reset */

	vcpu->run->cr8 = 5;
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	EXPECT_EQ(5, uc.args[0]);
	EXPECT_EQ(5, vcpu->run->cr8);
	EXPECT_EQ(5, sregs_cr8(vcpu));

	/* The guest raises it to 9 without an exit; the next exit shows 9. */
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	EXPECT_EQ(9, uc.args[0]);
	EXPECT_EQ(9, vcpu->run->cr8);
	EXPECT_EQ(9, sregs_cr8(vcpu));

	/* KVM_SET_SREGS sets CR8, but the next KVM_RUN takes kvm_run->cr8. */
	vcpu_get_sregs(vcpu, &sregs);
	sregs.cr8 = 3;
	vcpu_set_sregs(vcpu, &sregs);
	EXPECT_EQ(3, sregs_cr8(vcpu));
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	EXPECT_EQ(9, uc.args[0]);
	vm_free(vcpu->vm);
}

/* Lowering the TPR hands control to the VMM: its APIC may now deliver. */
TEST(lowering_exits_set_tpr)
{
	struct vcpu *vcpu;
	struct ucall uc;
	char buf[256];

	TEST_REQUIRE_KVM();
	vcpu = vm_create_guest(MODE_LONG64, GUEST_CODE(cr8_guest));
	vcpu->run->cr8 = 5;
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	ASSERT_EQ(9, uc.args[0]);

	vcpu_run(vcpu);
	ASSERT_EQ(KVM_EXIT_SET_TPR, vcpu->run->exit_reason)
		TH_LOG("%s", vcpu_describe_exit(vcpu, buf, sizeof(buf)));
	EXPECT_EQ(2, vcpu->run->cr8);
	/* The write is complete: the guest goes on after it. */
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	EXPECT_EQ(2, uc.args[0]);
	EXPECT_EQ(2, vcpu->run->cr8);
	ASSERT_EQ(UCALL_DONE, vcpu_run_ucall(vcpu, &uc));
	vm_free(vcpu->vm);
}

/* CR8 has four bits: KVM_RUN refuses more, and reports the CR8 it kept. */
TEST(bad_kvm_run_cr8)
{
	static const uint64_t bad[] = { 16, 0xff, 1ULL << 32, ~0ULL };
	struct vcpu *vcpu;
	struct ucall uc;
	unsigned int i;

	TEST_REQUIRE_KVM();
	vcpu = vm_create_guest(MODE_LONG64, GUEST_CODE(cr8_guest));
	vcpu->run->cr8 = 7;
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	ASSERT_EQ(7, uc.args[0]);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		vcpu->run->cr8 = bad[i];
		errno = 0;
		EXPECT_EQ(-1, __vcpu_run(vcpu)) TH_LOG("cr8 %#llx", (unsigned long long)bad[i]);
		EXPECT_EQ(EINVAL, errno) TH_LOG("cr8 %#llx: %s", (unsigned long long)bad[i],
						strerror(errno));
		EXPECT_EQ(7, vcpu->run->cr8);
		EXPECT_EQ(7, sregs_cr8(vcpu));
	}
	/* Nothing ran: the guest is still at its first report, and goes on. */
	vcpu->run->cr8 = 8;
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	EXPECT_EQ(9, uc.args[0]);
	vm_free(vcpu->vm);
}

TEST(reserved_bits_gp)
{
	struct vcpu *vcpu;
	struct ucall uc;

	TEST_REQUIRE_KVM();
	vcpu = vm_create_guest(MODE_LONG64, GUEST_CODE(cr8_gp_guest));
	vm_set_idt_gate(vcpu->vm, MODE_LONG64, GP_VECTOR,
			guest_code_gpa(vcpu->vm, cr8_gp_handler));
	vcpu->run->cr8 = 15;			/* the highest TPR */
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	EXPECT_EQ(GP_VECTOR, uc.args[0]);
	EXPECT_EQ(15, uc.args[1]);
	EXPECT_EQ(15, vcpu->run->cr8);
	ASSERT_EQ(UCALL_DONE, vcpu_run_ucall(vcpu, &uc));
	vm_free(vcpu->vm);
}

TEST_HARNESS_MAIN
