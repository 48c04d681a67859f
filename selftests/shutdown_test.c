// SPDX-License-Identifier: GPL-2.0-only
/*
 * shutdown_test: a triple fault ends in KVM_EXIT_SHUTDOWN.
 *
 * When delivering an exception faults, the CPU raises #DF; when delivering #DF
 * faults too, it gives up: a triple fault, which puts the processor in the shutdown
 * state (SDM Vol.3 6.15 "Interrupt 8", APM Vol.2 8.2.9). The hardware reports it
 * to the hypervisor (VMX exit reason 2 "triple fault", SVM #VMEXIT_SHUTDOWN), and
 * KVM reports KVM_EXIT_SHUTDOWN to userspace: on a PC, the machine would reset.
 *
 * The guests make every exception undeliverable: an IDT with limit 0 (each vector
 * is beyond the limit: #GP, then #DF, then shutdown), or an IDT whose gates are all
 * not present (#NP instead of #GP, same ending).
 */
#include "kselftest_harness.h"
#include "vm.h"
#include "x86.h"

/* LIDT of the zeroed data page: base 0, limit 0. Then #UD. */
GUEST_ASM(zero_idt_ud2_long, 64,
	"lidt " GSTR(GUEST_DATA_GPA) "\n\t"
	"ud2\n\t"
	GUEST_DONE);

GUEST_ASM(zero_idt_int3_real, 16,
	"lidt " GSTR(GUEST_DATA_GPA) "\n\t"
	"int3\n\t"
	GUEST_DONE);

/* The library's IDT with no gate set: every gate is "not present". */
GUEST_ASM(empty_idt_div0_prot32, 32,
	"xor %ecx, %ecx\n\t"
	"div %ecx\n\t"
	GUEST_DONE);

/* A page fault: nothing maps 8 GiB (the tables cover 4 GiB), and no handler. */
GUEST_ASM(unmapped_pf_long, 64,
	"movabs $0x200000000, %rax\n\t"
	"mov (%rax), %eax\n\t"
	GUEST_DONE);

static void expect_shutdown(struct __test_metadata *_metadata, enum guest_mode mode,
			    struct guest_code code)
{
	struct vcpu *vcpu = vm_create_guest(mode, code);
	char buf[256];

	vcpu_run(vcpu);
	EXPECT_EQ(KVM_EXIT_SHUTDOWN, vcpu->run->exit_reason)
		TH_LOG("%s", vcpu_describe_exit(vcpu, buf, sizeof(buf)));
	vm_free(vcpu->vm);
}

TEST(zero_limit_idt_long_mode)
{
	TEST_REQUIRE_KVM();
	expect_shutdown(_metadata, MODE_LONG64, GUEST_CODE(zero_idt_ud2_long));
}

TEST(zero_limit_idt_real_mode)
{
	TEST_REQUIRE_KVM();
	expect_shutdown(_metadata, MODE_REAL, GUEST_CODE(zero_idt_int3_real));
}

TEST(not_present_gates_prot32)
{
	TEST_REQUIRE_KVM();
	expect_shutdown(_metadata, MODE_PROT32, GUEST_CODE(empty_idt_div0_prot32));
}

TEST(page_fault_no_handler_long_mode)
{
	TEST_REQUIRE_KVM();
	expect_shutdown(_metadata, MODE_LONG64, GUEST_CODE(unmapped_pf_long));
}

TEST_HARNESS_MAIN
