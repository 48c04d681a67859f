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
 * MTRRs (SDM Vol.3 11.11): KVM keeps the guest's memory type range registers and
 * checks each write as the processor would (mtrr.c kvm_mtrr_valid()): a memory type
 * must be UC, WC, WT, WP or WB (0, 1, 4, 5, 6), reserved bits must be clear, and the
 * physical-address bits of a variable range stop at the guest's MAXPHYADDR, the one
 * its CPUID 0x80000008 reports (36 without that leaf). MTRRcap is read-only and
 * says: 8 variable ranges, fixed ranges, write-combining (0x508).
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
#include "msr_op.h"

#define UNKNOWN_MSR	0xdeadbeef	/* no architectural or KVM MSR has this index */

/* MTRRs (SDM Vol.4 table 2-2). */
#define MSR_MTRRcap		0xfe
#define MSR_MTRRdefType		0x2ff
#define MSR_MTRRphysBase(n)	(0x200 + 2 * (n))
#define MSR_MTRRphysMask(n)	(0x201 + 2 * (n))
#define MTRRCAP_KVM		0x508	/* WC, FIX, VCNT = 8 (mtrr.c kvm_mtrr_get_msr()) */
#define MTRR_DEF_E		(1ULL << 11)
#define MTRR_DEF_FE		(1ULL << 10)
#define MTRR_WB			6
#define MTRR_MASK_VALID		(1ULL << 11)

static const uint32_t fixed_mtrrs[] = {
	0x250, 0x258, 0x259, 0x268, 0x269, 0x26a, 0x26b, 0x26c, 0x26d, 0x26e, 0x26f,
};

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

/* MAXPHYADDR of a CPUID table: 0x80000008 EAX[7:0], 36 without the leaf. */
static int cpuid_maxphyaddr(const struct kvm_cpuid2 *cpuid)
{
	uint32_t i, max_ext = 0;

	for (i = 0; i < cpuid->nent; i++)
		if (cpuid->entries[i].function == 0x80000000)
			max_ext = cpuid->entries[i].eax;
	for (i = 0; i < cpuid->nent && max_ext >= 0x80000008; i++)
		if (cpuid->entries[i].function == 0x80000008)
			return cpuid->entries[i].eax & 0xff;
	return 36;
}

static int guest_maxphyaddr(void)
{
	struct kvm_cpuid2 *cpuid = kvm_get_supported_cpuid();
	int maxphy = cpuid_maxphyaddr(cpuid);

	free(cpuid);
	return maxphy;
}

#define MAX_MTRR_OPS	64

/* A valid fixed-range value for MSR number @i: types 6 5 4 1 0 6 5 x. */
static uint64_t fixed_value(unsigned int i)
{
	static const uint8_t types[] = { 0, 1, 4, 5, 6 };

	return 0x0605040100060500ULL | types[i % ARRAY_SIZE(types)];
}

/* The MTRR cases, for a guest whose MAXPHYADDR is @maxphy. */
static unsigned int mtrr_ops(struct msr_op *o, int maxphy)
{
	const uint64_t top = 1ULL << (maxphy - 1);	/* highest address bit */
	const uint64_t mask = ((1ULL << maxphy) - 1) & ~0xfffffffULL; /* 256 MiB */
	unsigned int n = 0, i;

#define OP(w, op, idx, val, vec)	(o[n++] = (struct msr_op){ w, op, idx, val, vec })
	OP("rdmsr mtrrcap", OP_RDMSR, MSR_MTRRcap, MTRRCAP_KVM, 0);
	OP("wrmsr mtrrcap", OP_WRMSR, MSR_MTRRcap, MTRRCAP_KVM, GP_VECTOR);
	OP("rdmsr deftype at reset", OP_RDMSR, MSR_MTRRdefType, 0, 0);
	OP("wrmsr deftype e fe wb", OP_WRMSR, MSR_MTRRdefType,
	   MTRR_DEF_E | MTRR_DEF_FE | MTRR_WB, 0);
	OP("rdmsr deftype", OP_RDMSR, MSR_MTRRdefType, MTRR_DEF_E | MTRR_DEF_FE | MTRR_WB, 0);
	OP("wrmsr deftype type 2", OP_WRMSR, MSR_MTRRdefType, MTRR_DEF_E | 2, GP_VECTOR);
	OP("wrmsr deftype type 7", OP_WRMSR, MSR_MTRRdefType, MTRR_DEF_E | 7, GP_VECTOR);
	OP("wrmsr deftype bit 8", OP_WRMSR, MSR_MTRRdefType, MTRR_DEF_E | 0x100, GP_VECTOR);
	OP("wrmsr deftype bit 12", OP_WRMSR, MSR_MTRRdefType, 0x1000 | MTRR_WB, GP_VECTOR);
	OP("rdmsr deftype unchanged", OP_RDMSR, MSR_MTRRdefType,
	   MTRR_DEF_E | MTRR_DEF_FE | MTRR_WB, 0);
	for (i = 0; i < ARRAY_SIZE(fixed_mtrrs); i++) {
		/* One type per byte: UC WC WT WP WB, a different mix in each. */
		OP("wrmsr fixed", OP_WRMSR, fixed_mtrrs[i], fixed_value(i), 0);
		OP("rdmsr fixed", OP_RDMSR, fixed_mtrrs[i], fixed_value(i), 0);
	}
	OP("wrmsr fixed type 2", OP_WRMSR, fixed_mtrrs[0], 0x0606060206060606ULL, GP_VECTOR);
	OP("wrmsr fixed type 7", OP_WRMSR, fixed_mtrrs[3], 0x0706060606060606ULL, GP_VECTOR);
	OP("wrmsr fixed type 0x80", OP_WRMSR, fixed_mtrrs[10], 0x80, GP_VECTOR);
	OP("rdmsr fixed unchanged", OP_RDMSR, fixed_mtrrs[0], fixed_value(0), 0);

	OP("wrmsr base0", OP_WRMSR, MSR_MTRRphysBase(0), 0x80000000 | MTRR_WB, 0);
	OP("rdmsr base0", OP_RDMSR, MSR_MTRRphysBase(0), 0x80000000 | MTRR_WB, 0);
	OP("wrmsr base0 type 3", OP_WRMSR, MSR_MTRRphysBase(0), 0x80000003, GP_VECTOR);
	OP("wrmsr base0 bit 8", OP_WRMSR, MSR_MTRRphysBase(0), 0x80000100 | MTRR_WB,
	   GP_VECTOR);
	OP("wrmsr base0 bit 11", OP_WRMSR, MSR_MTRRphysBase(0), 0x80000800 | MTRR_WB,
	   GP_VECTOR);
	OP("wrmsr base0 top bit", OP_WRMSR, MSR_MTRRphysBase(0), top | MTRR_WB, 0);
	OP("rdmsr base0 top bit", OP_RDMSR, MSR_MTRRphysBase(0), top | MTRR_WB, 0);
	OP("wrmsr base0 above maxphyaddr", OP_WRMSR, MSR_MTRRphysBase(0),
	   (top << 1) | MTRR_WB, GP_VECTOR);
	OP("wrmsr mask0", OP_WRMSR, MSR_MTRRphysMask(0), mask | MTRR_MASK_VALID, 0);
	OP("rdmsr mask0", OP_RDMSR, MSR_MTRRphysMask(0), mask | MTRR_MASK_VALID, 0);
	OP("wrmsr mask0 bit 10", OP_WRMSR, MSR_MTRRphysMask(0),
	   mask | MTRR_MASK_VALID | 0x400, GP_VECTOR);
	OP("wrmsr mask0 above maxphyaddr", OP_WRMSR, MSR_MTRRphysMask(0),
	   (top << 1) | mask | MTRR_MASK_VALID, GP_VECTOR);
	OP("rdmsr mask0 unchanged", OP_RDMSR, MSR_MTRRphysMask(0), mask | MTRR_MASK_VALID, 0);
	OP("wrmsr base7", OP_WRMSR, MSR_MTRRphysBase(7), 0x1000000, 0);
	OP("wrmsr mask7", OP_WRMSR, MSR_MTRRphysMask(7), mask, 0);
	OP("rdmsr base7", OP_RDMSR, MSR_MTRRphysBase(7), 0x1000000, 0);
	/* Eight pairs only. */
	OP("rdmsr base8", OP_RDMSR, MSR_MTRRphysBase(8), 0, GP_VECTOR);
	OP("wrmsr base8", OP_WRMSR, MSR_MTRRphysBase(8), MTRR_WB, GP_VECTOR);
	OP("wrmsr mask8", OP_WRMSR, MSR_MTRRphysMask(8), 0, GP_VECTOR);
#undef OP
	return n;
}

TEST(guest_mtrr)
{
	struct msr_op o[MAX_MTRR_OPS];
	struct vcpu *vcpu;
	struct ucall uc;
	unsigned int i, n;

	TEST_REQUIRE_KVM();
	n = mtrr_ops(o, guest_maxphyaddr());
	ASSERT_LE(n, MAX_MTRR_OPS);
	vcpu = msr_vcpu();
	for (i = 0; i < n; i++) {
		do_op(_metadata, vcpu, o[i].op, o[i].index, o[i].value, &uc);
		EXPECT_EQ(o[i].vector, uc.args[0])
			TH_LOG("%s %#x=%#llx", o[i].what, o[i].index,
			       (unsigned long long)o[i].value);
		if (o[i].op == OP_RDMSR && !o[i].vector)
			EXPECT_EQ(o[i].value, uc.args[1]) TH_LOG("%s: value", o[i].what);
	}
	/* What the guest left, the VMM reads (and saves, on a migration). */
	EXPECT_EQ(MTRR_DEF_E | MTRR_DEF_FE | MTRR_WB, vcpu_get_msr(vcpu, MSR_MTRRdefType));
	EXPECT_EQ(fixed_value(10), vcpu_get_msr(vcpu, fixed_mtrrs[10]));
	do_op(_metadata, vcpu, OP_STOP, 0, 0, &uc);
	vm_free(vcpu->vm);
}

/* KVM_SET_MSRS checks MTRR values as WRMSR does: the VMM restores, never invents. */
TEST(host_mtrr)
{
	struct vcpu *vcpu;
	struct vm *vm;
	unsigned int i;
	uint64_t v;

	TEST_REQUIRE_KVM();
	vm = vm_create();
	vcpu = vcpu_add(vm, 0);
	EXPECT_EQ(MTRRCAP_KVM, vcpu_get_msr(vcpu, MSR_MTRRcap));
	EXPECT_EQ(0, __vcpu_set_msr(vcpu, MSR_MTRRcap, MTRRCAP_KVM));
	EXPECT_EQ(0, vcpu_get_msr(vcpu, MSR_MTRRdefType));
	for (i = 0; i < ARRAY_SIZE(fixed_mtrrs); i++)
		EXPECT_EQ(0, vcpu_get_msr(vcpu, fixed_mtrrs[i]));
	for (i = 0; i < 16; i++)
		EXPECT_EQ(0, vcpu_get_msr(vcpu, MSR_MTRRphysBase(0) + i));

	EXPECT_EQ(1, __vcpu_set_msr(vcpu, MSR_MTRRdefType, MTRR_DEF_E | MTRR_WB));
	EXPECT_EQ(0, __vcpu_set_msr(vcpu, MSR_MTRRdefType, MTRR_DEF_E | 3));
	EXPECT_EQ(MTRR_DEF_E | MTRR_WB, vcpu_get_msr(vcpu, MSR_MTRRdefType));
	EXPECT_EQ(1, __vcpu_set_msr(vcpu, fixed_mtrrs[5], 0x0101010101010101ULL));
	EXPECT_EQ(0, __vcpu_set_msr(vcpu, fixed_mtrrs[5], 0x0303030303030303ULL));
	EXPECT_EQ(0x0101010101010101ULL, vcpu_get_msr(vcpu, fixed_mtrrs[5]));
	EXPECT_EQ(1, __vcpu_set_msr(vcpu, MSR_MTRRphysBase(3), 0xc0000000));	/* UC */
	EXPECT_EQ(1, __vcpu_set_msr(vcpu, MSR_MTRRphysMask(3), 0xc0000000 | MTRR_MASK_VALID));
	EXPECT_EQ(0, __vcpu_set_msr(vcpu, MSR_MTRRphysMask(3), 0xc0000001));
	EXPECT_EQ(0xc0000000 | MTRR_MASK_VALID, vcpu_get_msr(vcpu, MSR_MTRRphysMask(3)));
	EXPECT_EQ(0, __vcpu_get_msr(vcpu, MSR_MTRRphysBase(8), &v));
	vm_free(vm);
}

/*
 * The reserved bits of a variable range follow the guest's MAXPHYADDR, not the
 * host's: a guest told it has 36 address bits cannot set bit 36 of a PhysMask.
 */
TEST(mtrr_guest_maxphyaddr)
{
	struct kvm_cpuid2 *cpuid;
	struct vcpu *vcpu;
	struct vm *vm;
	uint32_t i;
	int maxphy;

	TEST_REQUIRE_KVM();
	cpuid = kvm_get_supported_cpuid();
	maxphy = cpuid_maxphyaddr(cpuid);
	if (maxphy <= 36) {
		free(cpuid);
		SKIP(return, "KVM's MAXPHYADDR is %d", maxphy);
	}
	for (i = 0; i < cpuid->nent; i++)
		if (cpuid->entries[i].function == 0x80000008)
			cpuid->entries[i].eax = (cpuid->entries[i].eax & ~0xffu) | 36;
	ASSERT_EQ(36, cpuid_maxphyaddr(cpuid));
	vm = vm_create();
	vcpu = vcpu_add(vm, 0);
	vcpu_set_cpuid(vcpu, cpuid);
	free(cpuid);
	EXPECT_EQ(1, __vcpu_set_msr(vcpu, MSR_MTRRphysMask(0),
				    0xff0000000ULL | MTRR_MASK_VALID));	/* bits 35:28 */
	EXPECT_EQ(0, __vcpu_set_msr(vcpu, MSR_MTRRphysMask(0),
				    0x1ff0000000ULL | MTRR_MASK_VALID));	/* bit 36 */
	EXPECT_EQ(0, __vcpu_set_msr(vcpu, MSR_MTRRphysBase(0), (1ULL << 36) | MTRR_WB));
	EXPECT_EQ(0xff0000000ULL | MTRR_MASK_VALID, vcpu_get_msr(vcpu, MSR_MTRRphysMask(0)));
	vm_free(vm);
}

TEST_HARNESS_MAIN
