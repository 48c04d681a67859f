// SPDX-License-Identifier: GPL-2.0-only
/*
 * msr_test: RDMSR and WRMSR in the guest.
 *
 * MSR accesses the hypervisor does not let through to hardware exit to KVM, which
 * emulates them (x86.c kvm_get_msr_common()/kvm_set_msr_common() and the vendor
 * code). An MSR KVM does not know, or a value the architecture forbids (a reserved
 * EFER bit, a non-canonical LSTAR), gets a #GP(0) injected into the guest, exactly as
 * a real CPU would do (SDM Vol.4 "RDMSR/WRMSR": #GP(0) if ECX specifies a reserved or
 * unimplemented MSR). Real KVM does so unless its "ignore_msrs" parameter is set (it
 * is not by default) or userspace asked for MSR exits (KVM_CAP_X86_USER_SPACE_MSR,
 * not used here).
 *
 * EFER writes are checked against the guest's CPUID too (x86.c __kvm_valid_efer():
 * LME/LMA need CPUID "LM", NXE needs "NX"...), so the vCPU gets the CPUID KVM
 * supports, as any VMM would give it, before running.
 *
 * Not tested: a non-canonical LSTAR. KVM checks it where it emulates the WRMSR, but
 * both vendors let the guest access LSTAR, STAR, KERNEL_GS_BASE and the SYSENTER
 * MSRs directly (MSR bitmap / MSR permission map): then it is the CPU's check, and
 * the emulated CPUs of the rigs differ from silicon there (QEMU TCG accepts any
 * value). Likewise SYSENTER_ESP/EIP are 32-bit on AMD (KVM keeps the upper half only
 * for a guest with an Intel vendor string), so only 32-bit values are used.
 *
 * The guest is a loop driven by the host: at each SYNC the host puts an operation in
 * the registers (RBX: 0 = RDMSR, 1 = WRMSR, 2 = stop; ECX: index; EDX:EAX: value),
 * the guest executes it and reports (arg0: vector of the exception taken, 0 if none;
 * arg1: EDX:EAX afterwards; arg2: the error code). A #GP handler in the guest's IDT
 * records the vector and error code and skips the 2-byte instruction.
 */
#include <stdlib.h>
#include <sys/ioctl.h>

#include "kselftest_harness.h"
#include "vm.h"
#include "x86.h"

#define UNKNOWN_MSR	0xdeadbeef	/* no architectural or KVM MSR has this index */

GUEST_ASM(msr_guest, 64,
	"1:\n\t"
	GUEST_SYNC				/* the host loads RBX, RCX, RAX, RDX */
	"xor %r15d, %r15d\n\t"
	"xor %r14d, %r14d\n\t"
	"cmp $1, %ebx\n\t"
	"je 2f\n\t"
	"ja 4f\n\t"
	"rdmsr\n\t"
	"jmp 3f\n"
	"2: wrmsr\n"
	"3: shl $32, %rdx\n\t"
	"mov %eax, %eax\n\t"
	"or %rax, %rdx\n\t"
	"mov %rdx, %rsi\n\t"
	"mov %r15, %rdi\n\t"
	"mov %r14, %rdx\n\t"
	GUEST_SYNC
	"jmp 1b\n"
	"4:\n\t"
	GUEST_DONE
	/* #GP: vector in R15, error code in R14, skip RDMSR/WRMSR (0f 32 / 0f 30). */
	"msr_gp_handler:\n\t"
	"mov $13, %r15d\n\t"
	"pop %r14\n\t"
	"addq $2, (%rsp)\n\t"
	"iretq\n\t");
extern const uint8_t msr_gp_handler[];

enum { OP_RDMSR, OP_WRMSR, OP_STOP };

struct msr_op {
	const char *what;
	int op;
	uint32_t index;
	uint64_t value;		/* WRMSR: what to write; RDMSR: what must be read */
	int vector;		/* the exception expected (0: none) */
};

static const struct msr_op ops[] = {
	{ "rdmsr unknown", OP_RDMSR, UNKNOWN_MSR, 0, GP_VECTOR },
	{ "wrmsr unknown", OP_WRMSR, UNKNOWN_MSR, 1, GP_VECTOR },
	{ "wrmsr sysenter_cs", OP_WRMSR, MSR_IA32_SYSENTER_CS, 0x1234, 0 },
	{ "rdmsr sysenter_cs", OP_RDMSR, MSR_IA32_SYSENTER_CS, 0x1234, 0 },
	{ "wrmsr star", OP_WRMSR, MSR_STAR, 0x0023001000000000ULL, 0 },
	{ "rdmsr star", OP_RDMSR, MSR_STAR, 0x0023001000000000ULL, 0 },
	{ "wrmsr lstar", OP_WRMSR, MSR_LSTAR, 0xffffffff81000000ULL, 0 },
	{ "rdmsr lstar", OP_RDMSR, MSR_LSTAR, 0xffffffff81000000ULL, 0 },
	{ "wrmsr kernel_gs_base", OP_WRMSR, MSR_KERNEL_GS_BASE, 0x7fff12345000ULL, 0 },
	{ "rdmsr kernel_gs_base", OP_RDMSR, MSR_KERNEL_GS_BASE, 0x7fff12345000ULL, 0 },
	{ "rdmsr efer", OP_RDMSR, MSR_EFER, EFER_LME | EFER_LMA, 0 },
	{ "wrmsr efer reserved bit", OP_WRMSR, MSR_EFER, EFER_LME | EFER_LMA | 2,
	  GP_VECTOR },
	{ "wrmsr efer sce", OP_WRMSR, MSR_EFER, EFER_LME | EFER_LMA | EFER_SCE, 0 },
	{ "rdmsr efer sce", OP_RDMSR, MSR_EFER, EFER_LME | EFER_LMA | EFER_SCE, 0 },
};

static struct vcpu *msr_vcpu(void)
{
	struct vcpu *vcpu = vm_create_guest(MODE_LONG64, GUEST_CODE(msr_guest));
	struct kvm_cpuid2 *cpuid = kvm_get_supported_cpuid();

	vcpu_set_cpuid(vcpu, cpuid);
	free(cpuid);
	vm_set_idt_gate(vcpu->vm, MODE_LONG64, GP_VECTOR,
			guest_code_gpa(vcpu->vm, msr_gp_handler));
	return vcpu;
}

/* Let the guest execute one operation; returns the report in @uc. */
static void do_op(struct __test_metadata *_metadata, struct vcpu *vcpu, int op,
		  uint32_t index, uint64_t value, struct ucall *uc)
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

TEST(guest_rdmsr_wrmsr)
{
	struct vcpu *vcpu;
	struct ucall uc;
	unsigned int i;

	TEST_REQUIRE_KVM();
	vcpu = msr_vcpu();
	for (i = 0; i < ARRAY_SIZE(ops); i++) {
		const struct msr_op *o = &ops[i];

		do_op(_metadata, vcpu, o->op, o->index, o->value, &uc);
		EXPECT_EQ(o->vector, uc.args[0]) TH_LOG("%s", o->what);
		if (o->vector)
			EXPECT_EQ(0, uc.args[2]) TH_LOG("%s: error code", o->what);
		if (o->op == OP_RDMSR && !o->vector)
			EXPECT_EQ(o->value, uc.args[1]) TH_LOG("%s: value", o->what);
	}
	do_op(_metadata, vcpu, OP_STOP, 0, 0, &uc);
	vm_free(vcpu->vm);
}

/* What the guest writes, KVM_GET_MSRS reads; what KVM_SET_MSRS writes, the guest reads. */
TEST(host_and_guest_agree)
{
	struct vcpu *vcpu;
	struct ucall uc;

	TEST_REQUIRE_KVM();
	vcpu = msr_vcpu();
	do_op(_metadata, vcpu, OP_WRMSR, MSR_IA32_SYSENTER_CS, 0x10, &uc);
	ASSERT_EQ(0, uc.args[0]);
	EXPECT_EQ(0x10, vcpu_get_msr(vcpu, MSR_IA32_SYSENTER_CS));
	do_op(_metadata, vcpu, OP_WRMSR, MSR_STAR, 0x0013000800000000ULL, &uc);
	EXPECT_EQ(0x0013000800000000ULL, vcpu_get_msr(vcpu, MSR_STAR));

	vcpu_set_msr(vcpu, MSR_KERNEL_GS_BASE, 0xffff880012345678ULL);
	do_op(_metadata, vcpu, OP_RDMSR, MSR_KERNEL_GS_BASE, 0, &uc);
	EXPECT_EQ(0, uc.args[0]);
	EXPECT_EQ(0xffff880012345678ULL, uc.args[1]);
	vcpu_set_msr(vcpu, MSR_IA32_SYSENTER_ESP, 0x12345678);
	do_op(_metadata, vcpu, OP_RDMSR, MSR_IA32_SYSENTER_ESP, 0, &uc);
	EXPECT_EQ(0, uc.args[0]);
	EXPECT_EQ(0x12345678, uc.args[1]);
	vm_free(vcpu->vm);
}

/*
 * KVM_GET_MSRS/KVM_SET_MSRS process entries in order and stop at the first MSR they
 * cannot handle; the return value is the number done, so an unknown MSR gives 0,
 * not -1.
 */
TEST(host_unknown_msr)
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e[2];
	} msrs = {
		.hdr.nmsrs = 2,
		.e = { { .index = MSR_IA32_SYSENTER_CS, .data = 8 },
		       { .index = UNKNOWN_MSR, .data = 1 } },
	};
	struct vm *vm;
	struct vcpu *vcpu;

	TEST_REQUIRE_KVM();
	vm = vm_create();
	vcpu = vcpu_add(vm, 0);
	EXPECT_EQ(1, ioctl(vcpu->fd, KVM_SET_MSRS, &msrs));
	EXPECT_EQ(1, ioctl(vcpu->fd, KVM_GET_MSRS, &msrs));
	EXPECT_EQ(8, msrs.e[0].data);

	msrs.hdr.nmsrs = 1;
	msrs.e[0].index = UNKNOWN_MSR;
	EXPECT_EQ(0, ioctl(vcpu->fd, KVM_GET_MSRS, &msrs));
	EXPECT_EQ(0, ioctl(vcpu->fd, KVM_SET_MSRS, &msrs));
	vm_free(vm);
}

TEST_HARNESS_MAIN
