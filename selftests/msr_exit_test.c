// SPDX-License-Identifier: GPL-2.0-only
/*
 * msr_exit_test: guest MSR accesses handled by the VMM, and the MSR filter.
 *
 * KVM_CAP_X86_USER_SPACE_MSR (a VM capability, KVM_ENABLE_CAP with args[0] a mask
 * of KVM_MSR_EXIT_REASON_*): a guest RDMSR/WRMSR that would give the guest #GP
 * exits instead, as KVM_EXIT_X86_RDMSR / KVM_EXIT_X86_WRMSR with run->msr =
 * { reason, index, data }, when its reason is in the mask:
 *
 *   UNKNOWN  the kernel does not implement the MSR
 *   INVAL    it does, but refuses the value
 *   FILTER   KVM_X86_SET_MSR_FILTER denies the access
 *
 * The VMM answers in run->msr before the next KVM_RUN: data for a read (EDX:EAX),
 * or error = 1, which makes the instruction raise #GP. Until then RIP stays at the
 * instruction.
 *
 * KVM_X86_SET_MSR_FILTER (a VM ioctl, KVM_CAP_X86_MSR_FILTER): up to 16 ranges,
 * each with a bitmap (1 = allow) for reads, writes or both, and a default for
 * indexes no range covers. The x2APIC MSRs 0x800-0x8ff are never filtered; the
 * VMM's own KVM_GET/SET_MSRS never are.
 *
 * The guest is a loop: ucall SYNC (the host loads RCX = index, EDX:EAX = value,
 * R14 = 1 for WRMSR, 0 for RDMSR), then the access, then a SYNC reporting the
 * vector of any exception in arg0 (0 or 13, #GP) and EAX/EDX in arg1/arg2.
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include "kselftest_harness.h"
#include "vm.h"
#include "x86.h"

#define MSR_PAT			0x277
#define MSR_FS_BASE		0xc0000100
#define MSR_GS_BASE		0xc0000101
#define MSR_X2APIC_ID		0x802
#define MSR_MADE_UP		0x474f4f00	/* no CPU has it */
#define PAT_RESET		0x0007040600070406ULL
#define PAT_UC_EVERYWHERE	0ULL
#define PAT_BAD			0x0202020202020202ULL	/* type 2 is reserved */

GUEST_ASM(msr_guest, 64,
	"1:\n\t"
	GUEST_SYNC
	"xor %r15d, %r15d\n\t"
	"test %r14, %r14\n\t"
	"jnz 2f\n\t"
	"rdmsr\n\t"
	"jmp 3f\n\t"
	"2: wrmsr\n\t"
	"3: mov %r15, %rdi\n\t"
	"mov %rax, %rsi\n\t"
	GUEST_SYNC
	"jmp 1b\n\t"
	/* #GP: note it, skip the 2-byte RDMSR/WRMSR. */
	"msr_gp_handler:\n\t"
	"mov $" GSTR(GP_VECTOR) ", %r15d\n\t"
	"add $8, %rsp\n\t"
	"addq $2, (%rsp)\n\t"
	"iretq\n\t");
extern const uint8_t msr_gp_handler[];

static struct vcpu *msr_vcpu(void)
{
	struct vcpu *vcpu = vm_create_guest(MODE_LONG64, GUEST_CODE(msr_guest));

	vm_set_idt_gate(vcpu->vm, MODE_LONG64, GP_VECTOR,
			guest_code_gpa(vcpu->vm, msr_gp_handler));
	return vcpu;
}

static int enable_user_msr(struct vcpu *vcpu, uint64_t mask)
{
	struct kvm_enable_cap cap = {
		.cap = KVM_CAP_X86_USER_SPACE_MSR, .args[0] = mask,
	};

	return ioctl(vcpu->vm->fd, KVM_ENABLE_CAP, &cap);
}

/*
 * Start one access: run to the guest's first SYNC, load the operands, run. The
 * caller looks at the exit: the second SYNC (done in the kernel) or an MSR exit.
 */
static void msr_start(struct __test_metadata *_metadata, struct vcpu *vcpu,
		      bool write, uint32_t index, uint64_t value)
{
	struct kvm_regs regs;
	struct ucall uc;

	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	vcpu_get_regs(vcpu, &regs);
	regs.rcx = index;
	regs.rax = (uint32_t)value;
	regs.rdx = value >> 32;
	regs.r14 = write;
	vcpu_set_regs(vcpu, &regs);
	vcpu_run(vcpu);
}

/* The end of an access: the vector it raised (0: none) and EDX:EAX. */
static int msr_result(struct __test_metadata *_metadata, struct vcpu *vcpu,
		      uint64_t *value)
{
	struct ucall uc;

	EXPECT_EQ(UCALL_SYNC, vcpu_get_ucall(vcpu, &uc));
	if (value)
		*value = (uint32_t)uc.args[1] | (uc.args[2] << 32);
	return uc.args[0];
}

/* The exit an access must have made. */
static void expect_msr_exit(struct __test_metadata *_metadata, struct vcpu *vcpu,
			    uint32_t exit_reason, uint32_t reason, uint32_t index)
{
	char buf[256];

	ASSERT_EQ(exit_reason, vcpu->run->exit_reason)
		TH_LOG("%s", vcpu_describe_exit(vcpu, buf, sizeof(buf)));
	EXPECT_EQ(reason, vcpu->run->msr.reason);
	EXPECT_EQ(index, vcpu->run->msr.index);
	EXPECT_EQ(0, vcpu->run->msr.error);
}

FIXTURE(msr) {
	struct vcpu *vcpu;
};

FIXTURE_SETUP(msr)
{
	self->vcpu = NULL;
	TEST_REQUIRE_CAP(KVM_CAP_X86_USER_SPACE_MSR);
	TEST_REQUIRE_CAP(KVM_CAP_X86_MSR_FILTER);
	self->vcpu = msr_vcpu();
}

FIXTURE_TEARDOWN(msr)
{
	if (self->vcpu)
		vm_free(self->vcpu->vm);
}

/* The mask holds the three reasons and nothing else. */
TEST_F(msr, enable_cap)
{
	if (!self->vcpu)
		return;
	EXPECT_EQ(-1, enable_user_msr(self->vcpu, 1ULL << 3));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, enable_user_msr(self->vcpu, 1ULL << 63));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, enable_user_msr(self->vcpu, KVM_MSR_EXIT_REASON_INVAL |
				     KVM_MSR_EXIT_REASON_UNKNOWN |
				     KVM_MSR_EXIT_REASON_FILTER));
	EXPECT_EQ(0, enable_user_msr(self->vcpu, 0));
}

/* Without the capability an unknown MSR is #GP, and there is no exit. */
TEST_F(msr, unknown_gp)
{
	if (!self->vcpu)
		return;
	msr_start(_metadata, self->vcpu, false, MSR_MADE_UP, 0);
	EXPECT_EQ(GP_VECTOR, msr_result(_metadata, self->vcpu, NULL));
	msr_start(_metadata, self->vcpu, true, MSR_MADE_UP, 1);
	EXPECT_EQ(GP_VECTOR, msr_result(_metadata, self->vcpu, NULL));
}

/*
 * UNKNOWN: the read exits with RIP still at RDMSR; the VMM's data lands in EDX:EAX
 * and the guest goes on. The write exits with its value; error = 1 is #GP.
 */
TEST_F(msr, unknown_exit)
{
	struct vcpu *vcpu = self->vcpu;
	struct kvm_regs regs;
	uint64_t value;

	if (!vcpu)
		return;
	ASSERT_EQ(0, enable_user_msr(vcpu, KVM_MSR_EXIT_REASON_UNKNOWN));
	msr_start(_metadata, vcpu, false, MSR_MADE_UP, 0);
	expect_msr_exit(_metadata, vcpu, KVM_EXIT_X86_RDMSR, KVM_MSR_EXIT_REASON_UNKNOWN,
			MSR_MADE_UP);
	vcpu_get_regs(vcpu, &regs);
	EXPECT_EQ(0x0f, *(uint8_t *)gpa_to_hva(vcpu->vm, regs.rip));
	EXPECT_EQ(0x32, *(uint8_t *)gpa_to_hva(vcpu->vm, regs.rip + 1));	/* RDMSR */
	vcpu->run->msr.data = 0x1122334455667788ULL;
	vcpu_run(vcpu);
	EXPECT_EQ(0, msr_result(_metadata, vcpu, &value));
	EXPECT_EQ(0x1122334455667788ULL, value);

	msr_start(_metadata, vcpu, true, MSR_MADE_UP, 0xabcdef0012345678ULL);
	expect_msr_exit(_metadata, vcpu, KVM_EXIT_X86_WRMSR, KVM_MSR_EXIT_REASON_UNKNOWN,
			MSR_MADE_UP);
	EXPECT_EQ(0xabcdef0012345678ULL, vcpu->run->msr.data);
	vcpu->run->msr.error = 1;
	vcpu_run(vcpu);
	EXPECT_EQ(GP_VECTOR, msr_result(_metadata, vcpu, NULL));

	/* A read the VMM fails: #GP, EDX:EAX untouched. */
	msr_start(_metadata, vcpu, false, MSR_MADE_UP, 0x0000000500000006ULL);
	expect_msr_exit(_metadata, vcpu, KVM_EXIT_X86_RDMSR, KVM_MSR_EXIT_REASON_UNKNOWN,
			MSR_MADE_UP);
	vcpu->run->msr.error = 1;
	vcpu->run->msr.data = 0x99;
	vcpu_run(vcpu);
	EXPECT_EQ(GP_VECTOR, msr_result(_metadata, vcpu, &value));
	EXPECT_EQ(0x0000000500000006ULL, value);
}

/*
 * INVAL: a value the kernel refuses (PAT with a reserved memory type). Only when
 * asked for: with UNKNOWN alone it stays #GP.
 */
TEST_F(msr, inval_exit)
{
	struct vcpu *vcpu = self->vcpu;

	if (!vcpu)
		return;
	ASSERT_EQ(0, enable_user_msr(vcpu, KVM_MSR_EXIT_REASON_UNKNOWN));
	msr_start(_metadata, vcpu, true, MSR_PAT, PAT_BAD);
	EXPECT_EQ(GP_VECTOR, msr_result(_metadata, vcpu, NULL));

	ASSERT_EQ(0, enable_user_msr(vcpu, KVM_MSR_EXIT_REASON_INVAL));
	msr_start(_metadata, vcpu, true, MSR_PAT, PAT_BAD);
	expect_msr_exit(_metadata, vcpu, KVM_EXIT_X86_WRMSR, KVM_MSR_EXIT_REASON_INVAL,
			MSR_PAT);
	EXPECT_EQ(PAT_BAD, vcpu->run->msr.data);
	vcpu_run(vcpu);			/* the VMM accepts it: no #GP */
	EXPECT_EQ(0, msr_result(_metadata, vcpu, NULL));
	EXPECT_EQ(PAT_RESET, vcpu_get_msr(vcpu, MSR_PAT));	/* not written */
}

static struct kvm_msr_filter one_range(uint32_t flags, uint32_t range_flags,
				       uint32_t base, uint32_t nmsrs, void *bitmap)
{
	struct kvm_msr_filter f = { .flags = flags };

	f.ranges[0] = (struct kvm_msr_filter_range){
		.flags = range_flags, .base = base, .nmsrs = nmsrs, .bitmap = bitmap,
	};
	return f;
}

/* What KVM_X86_SET_MSR_FILTER refuses. */
TEST_F(msr, filter_invalid)
{
	uint8_t big[KVM_MSR_FILTER_MAX_BITMAP_SIZE + 8] = { 0 };
	struct kvm_msr_filter f;
	int fd;

	if (!self->vcpu)
		return;
	fd = self->vcpu->vm->fd;
	f = one_range(1U << 1, KVM_MSR_FILTER_READ, 0, 8, big);	/* flags */
	EXPECT_EQ(-1, ioctl(fd, KVM_X86_SET_MSR_FILTER, &f));
	EXPECT_EQ(EINVAL, errno);
	f = one_range(KVM_MSR_FILTER_DEFAULT_DENY, 0, 0, 0, NULL);	/* deny nothing */
	EXPECT_EQ(-1, ioctl(fd, KVM_X86_SET_MSR_FILTER, &f));
	EXPECT_EQ(EINVAL, errno);
	f = one_range(0, 0, 0, 8, big);					/* no R/W */
	EXPECT_EQ(-1, ioctl(fd, KVM_X86_SET_MSR_FILTER, &f));
	EXPECT_EQ(EINVAL, errno);
	f = one_range(0, 1U << 2, 0, 8, big);				/* range flags */
	EXPECT_EQ(-1, ioctl(fd, KVM_X86_SET_MSR_FILTER, &f));
	EXPECT_EQ(EINVAL, errno);
	f = one_range(0, KVM_MSR_FILTER_READ, 0,
		      KVM_MSR_FILTER_MAX_BITMAP_SIZE * 8 + 64, big);	/* too big */
	EXPECT_EQ(-1, ioctl(fd, KVM_X86_SET_MSR_FILTER, &f));
	EXPECT_EQ(EINVAL, errno);
	f = one_range(0, KVM_MSR_FILTER_READ, 0, 0xffffffff, big);	/* huge */
	EXPECT_EQ(-1, ioctl(fd, KVM_X86_SET_MSR_FILTER, &f));
	EXPECT_EQ(EINVAL, errno);
	f = one_range(0, KVM_MSR_FILTER_READ, 0, 8, (void *)8);	/* bitmap */
	EXPECT_EQ(-1, ioctl(fd, KVM_X86_SET_MSR_FILTER, &f));
	EXPECT_EQ(EFAULT, errno);

	/* Accepted: the largest bitmap; no ranges with DEFAULT_ALLOW (no filter). */
	f = one_range(0, KVM_MSR_FILTER_READ, 0, KVM_MSR_FILTER_MAX_BITMAP_SIZE * 8, big);
	EXPECT_EQ(0, ioctl(fd, KVM_X86_SET_MSR_FILTER, &f));
	f = one_range(KVM_MSR_FILTER_DEFAULT_ALLOW, 0, 0, 0, NULL);
	EXPECT_EQ(0, ioctl(fd, KVM_X86_SET_MSR_FILTER, &f));
}

/*
 * A read range denying PAT: the guest's read exits (FILTER), its write does not
 * (the range filters reads only), and the VMM's KVM_GET_MSRS is not filtered.
 * Without FILTER in the exit mask, the denied read is #GP.
 */
TEST_F(msr, filter_read_range)
{
	struct vcpu *vcpu = self->vcpu;
	uint64_t deny = 0, value;
	struct kvm_msr_filter f;

	if (!vcpu)
		return;
	f = one_range(KVM_MSR_FILTER_DEFAULT_ALLOW, KVM_MSR_FILTER_READ, MSR_PAT, 1, &deny);
	ASSERT_EQ(0, ioctl(vcpu->vm->fd, KVM_X86_SET_MSR_FILTER, &f));

	msr_start(_metadata, vcpu, false, MSR_PAT, 0);
	EXPECT_EQ(GP_VECTOR, msr_result(_metadata, vcpu, NULL));

	ASSERT_EQ(0, enable_user_msr(vcpu, KVM_MSR_EXIT_REASON_FILTER));
	msr_start(_metadata, vcpu, true, MSR_PAT, PAT_UC_EVERYWHERE);
	EXPECT_EQ(0, msr_result(_metadata, vcpu, NULL));
	EXPECT_EQ(PAT_UC_EVERYWHERE, vcpu_get_msr(vcpu, MSR_PAT));

	msr_start(_metadata, vcpu, false, MSR_PAT, 0);
	expect_msr_exit(_metadata, vcpu, KVM_EXIT_X86_RDMSR, KVM_MSR_EXIT_REASON_FILTER,
			MSR_PAT);
	vcpu->run->msr.data = 0x777;
	vcpu_run(vcpu);
	EXPECT_EQ(0, msr_result(_metadata, vcpu, &value));
	EXPECT_EQ(0x777, value);

	/* The filter replaced by none: the kernel answers again. */
	f = one_range(KVM_MSR_FILTER_DEFAULT_ALLOW, 0, 0, 0, NULL);
	ASSERT_EQ(0, ioctl(vcpu->vm->fd, KVM_X86_SET_MSR_FILTER, &f));
	msr_start(_metadata, vcpu, false, MSR_PAT, 0);
	EXPECT_EQ(0, msr_result(_metadata, vcpu, &value));
	EXPECT_EQ(PAT_UC_EVERYWHERE, value);
}

/*
 * DEFAULT_DENY with a bitmap over FS_BASE..GS_BASE for reads and writes that
 * allows FS_BASE only: FS_BASE works in the kernel; GS_BASE and an MSR outside
 * every range exit with FILTER; an x2APIC MSR is not filtered (the kernel
 * refuses it, the x2APIC being off: #GP, not an exit).
 */
TEST_F(msr, filter_default_deny)
{
	struct vcpu *vcpu = self->vcpu;
	uint8_t bits = 0x1;	/* bit 0: FS_BASE allowed, bit 1: GS_BASE denied */
	struct kvm_msr_filter f;
	uint64_t value;

	if (!vcpu)
		return;
	f = one_range(KVM_MSR_FILTER_DEFAULT_DENY,
		      KVM_MSR_FILTER_READ | KVM_MSR_FILTER_WRITE, MSR_FS_BASE, 2, &bits);
	ASSERT_EQ(0, ioctl(vcpu->vm->fd, KVM_X86_SET_MSR_FILTER, &f));
	ASSERT_EQ(0, enable_user_msr(vcpu, KVM_MSR_EXIT_REASON_FILTER));

	msr_start(_metadata, vcpu, true, MSR_FS_BASE, 0x12345000);
	EXPECT_EQ(0, msr_result(_metadata, vcpu, NULL));
	msr_start(_metadata, vcpu, false, MSR_FS_BASE, 0);
	EXPECT_EQ(0, msr_result(_metadata, vcpu, &value));
	EXPECT_EQ(0x12345000, value);

	msr_start(_metadata, vcpu, true, MSR_GS_BASE, 0x6000);
	expect_msr_exit(_metadata, vcpu, KVM_EXIT_X86_WRMSR, KVM_MSR_EXIT_REASON_FILTER,
			MSR_GS_BASE);
	EXPECT_EQ(0x6000, vcpu->run->msr.data);
	vcpu_run(vcpu);
	EXPECT_EQ(0, msr_result(_metadata, vcpu, NULL));
	EXPECT_NE(0x6000, vcpu_get_msr(vcpu, MSR_GS_BASE));	/* the VMM dropped it */

	msr_start(_metadata, vcpu, false, MSR_PAT, 0);
	expect_msr_exit(_metadata, vcpu, KVM_EXIT_X86_RDMSR, KVM_MSR_EXIT_REASON_FILTER,
			MSR_PAT);
	vcpu->run->msr.error = 1;
	vcpu_run(vcpu);
	EXPECT_EQ(GP_VECTOR, msr_result(_metadata, vcpu, NULL));

	msr_start(_metadata, vcpu, false, MSR_X2APIC_ID, 0);
	EXPECT_EQ(GP_VECTOR, msr_result(_metadata, vcpu, NULL));
}

TEST_HARNESS_MAIN
