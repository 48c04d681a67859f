// SPDX-License-Identifier: GPL-2.0-only
/*
 * mce_test: the machine-check architecture of a vCPU (KVM_CAP_MCE).
 *
 * A CPU reports hardware errors in banks of MSRs and, for an error it cannot
 * correct, with the #MC exception (SDM Vol.3 chapter 15, APM Vol.2 chapter 9):
 *
 *   MCG_CAP (0x179)     read-only: bank count (7:0), MCG_CTL_P (8), MCG_SER_P (24)
 *   MCG_STATUS (0x17a)  RIPV, EIPV, MCIP: the state of the #MC in progress
 *   MCG_CTL (0x17b)     with MCG_CTL_P: 0 or all ones, reporting off or on
 *   MCi_CTL, MCi_STATUS, MCi_ADDR, MCi_MISC    0x400 + 4 * i + 0..3
 *
 * KVM keeps these registers for the guest and lets the VMM report an error of
 * its own making (api.rst: KVM_X86_SETUP_MCE, KVM_X86_SET_MCE; x86.c
 * set_msr_mce(), get_msr_mce(), kvm_vcpu_ioctl_x86_setup_mce(),
 * kvm_vcpu_ioctl_x86_set_mce()). What the tests check, all from KVM 6.1:
 *
 * - KVM_CAP_MCE is the number of banks a vCPU may have (KVM_MAX_MCE_BANKS, 32);
 *   KVM_X86_GET_MCE_CAP_SUPPORTED the MCG_CAP features a VMM may ask for.
 * - A new vCPU has MCG_CAP = 32 banks and every register 0; KVM_X86_SETUP_MCE
 *   sets MCG_CAP and turns reporting on (MCG_CTL and each MCi_CTL all ones).
 * - The guest gets #GP for what the processor refuses: any write of MCG_CAP,
 *   MCG_CTL without MCG_CTL_P or other than 0 / all ones, MCi_CTL other than 0
 *   or all ones (bit 10 and bit 0 may be clear: old Linux and UnixWare do
 *   that), a nonzero MCi_STATUS (on AMD only HWCR.McStatusWrEn allows it),
 *   banks beyond the count. The VMM may write MCi_STATUS and a zero MCG_CTL.
 * - KVM_X86_SET_MCE: a corrected error is logged in the bank (OVER if the bank
 *   held one); an uncorrected one raises #MC in the guest, or shuts it down
 *   if #MC is already in progress (MCIP) or CR4.MCE is clear (SDM Vol.3 15.10);
 *   it is dropped when MCG_CTL or the bank's MCi_CTL turned reporting off. An
 *   uncorrected error that needs no action (UCNA: none of PCC, S, AR, and
 *   MCG_STATUS 0) is logged like a corrected one.
 *
 * The guest is a loop driven by the host, as in msr_test: at each SYNC the host
 * loads an operation (RBX: 0 = RDMSR, 1 = WRMSR, 2 = stop; ECX: index; EDX:EAX:
 * value) and the guest reports (arg0: vector taken, 0 if none; arg1: EDX:EAX
 * afterwards). A #GP handler skips the faulting RDMSR/WRMSR. The #MC handler
 * counts the #MC, records MCG_STATUS and the four MSRs of the bank the host
 * named in a log in the data page, clears MCG_STATUS if the host asked for it
 * (the end of the #MC: software clears MCIP) and returns.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "kselftest_harness.h"
#include "vm.h"
#include "x86.h"
#include "msr_op.h"

/* Machine-check MSRs and bits (SDM Vol.3 15.3, Vol.4 table 2-2). */
#define MSR_IA32_P5_MC_ADDR	0x0
#define MSR_IA32_P5_MC_TYPE	0x1
#define MSR_IA32_MCG_CAP	0x179
#define MSR_IA32_MCG_STATUS	0x17a
#define MSR_IA32_MCG_CTL	0x17b
#define MSR_IA32_MCx_CTL(i)	(0x400 + 4 * (i))
#define MSR_IA32_MCx_STATUS(i)	(0x401 + 4 * (i))
#define MSR_IA32_MCx_ADDR(i)	(0x402 + 4 * (i))
#define MSR_IA32_MCx_MISC(i)	(0x403 + 4 * (i))
#define MSR_K7_HWCR		0xc0010015	/* APM Vol.2 A.2 */

#define MCG_CTL_P		(1ULL << 8)
#define MCG_EXT_P		(1ULL << 9)
#define MCG_CMCI_P		(1ULL << 10)
#define MCG_SER_P		(1ULL << 24)
#define MCG_STATUS_RIPV		(1ULL << 0)
#define MCG_STATUS_EIPV		(1ULL << 1)
#define MCG_STATUS_MCIP		(1ULL << 2)
#define MCI_STATUS_VAL		(1ULL << 63)
#define MCI_STATUS_OVER		(1ULL << 62)
#define MCI_STATUS_UC		(1ULL << 61)
#define MCI_STATUS_EN		(1ULL << 60)
#define MCI_STATUS_MISCV	(1ULL << 59)
#define MCI_STATUS_ADDRV	(1ULL << 58)
#define MCI_STATUS_PCC		(1ULL << 57)
#define MCI_STATUS_S		(1ULL << 56)
#define MCI_STATUS_AR		(1ULL << 55)
#define HWCR_MCSTATUSWREN	(1ULL << 18)	/* AMD: software may write MCi_STATUS */

#define KVM_MAX_MCE_BANKS	32	/* KVM_CAP_MCE in KVM 6.1 */
#define NR_BANKS		10
#define MCE_CAP			(MCG_CTL_P | MCG_SER_P | NR_BANKS)

/*
 * An uncorrected error that software must act on (SRAR: S and AR set), e.g. a
 * poisoned page the guest was reading; RIPV and EIPV in MCG_STATUS.
 */
#define UC_STATUS	(MCI_STATUS_VAL | MCI_STATUS_UC | MCI_STATUS_EN | \
			 MCI_STATUS_MISCV | MCI_STATUS_ADDRV | MCI_STATUS_S | \
			 MCI_STATUS_AR | 0x134)
#define UC_MCG_STATUS	(MCG_STATUS_MCIP | MCG_STATUS_RIPV | MCG_STATUS_EIPV)
#define CE_STATUS	(MCI_STATUS_VAL | MCI_STATUS_EN | MCI_STATUS_ADDRV | 0x9f)

/* What the #MC handler writes, at GUEST_DATA_GPA (offsets for the assembly). */
#define LOG_STATUS_MSR	0
#define LOG_COUNT	8
#define LOG_MCG_STATUS	16
#define LOG_STATUS	24
#define LOG_ADDR	32
#define LOG_MISC	40
#define LOG_RIP		48
#define LOG_CLEAR_MCIP	56
#define LOG(off)	GSTR(GUEST_DATA_GPA) " + " GSTR(off)

struct mc_log {
	uint64_t status_msr;	/* host: MCi_STATUS of the bank to record */
	uint64_t count;		/* #MCs taken */
	uint64_t mcg_status;
	uint64_t status;
	uint64_t addr;
	uint64_t misc;
	uint64_t rip;		/* where the #MC interrupted the guest */
	uint64_t clear_mcip;	/* host: the handler writes MCG_STATUS = 0 */
};

_Static_assert(offsetof(struct mc_log, status_msr) == LOG_STATUS_MSR, "mc_log");
_Static_assert(offsetof(struct mc_log, count) == LOG_COUNT, "mc_log");
_Static_assert(offsetof(struct mc_log, mcg_status) == LOG_MCG_STATUS, "mc_log");
_Static_assert(offsetof(struct mc_log, status) == LOG_STATUS, "mc_log");
_Static_assert(offsetof(struct mc_log, addr) == LOG_ADDR, "mc_log");
_Static_assert(offsetof(struct mc_log, misc) == LOG_MISC, "mc_log");
_Static_assert(offsetof(struct mc_log, rip) == LOG_RIP, "mc_log");
_Static_assert(offsetof(struct mc_log, clear_mcip) == LOG_CLEAR_MCIP, "mc_log");

/* EDX:EAX -> RAX. */
#define EDX_EAX_TO_RAX	"shl $32, %rdx\n\t" "mov %eax, %eax\n\t" "or %rdx, %rax\n\t"

GUEST_ASM(mce_guest, 64,
	"mov %cr4, %rax\n\t"
	"or $" GSTR(X86_CR4_MCE) ", %rax\n\t"
	"mov %rax, %cr4\n"
	"1:\n\t"
	GUEST_SYNC				/* the host loads RBX, RCX, RAX, RDX */
	"xor %r15d, %r15d\n\t"
	"cmp $1, %ebx\n\t"
	"je 2f\n\t"
	"ja 4f\n\t"
	"rdmsr\n\t"
	"jmp 3f\n"
	"2: wrmsr\n"
	"3:\n\t"
	EDX_EAX_TO_RAX
	"mov %rax, %rsi\n\t"
	"mov %r15, %rdi\n\t"
	GUEST_SYNC
	"jmp 1b\n"
	"4:\n\t"
	GUEST_DONE
	/* #GP: note the vector, drop the error code, skip RDMSR/WRMSR (2 bytes). */
	"mce_gp_handler:\n\t"
	"mov $" GSTR(GP_VECTOR) ", %r15d\n\t"
	"add $8, %rsp\n\t"
	"addq $2, (%rsp)\n\t"
	"iretq\n\t"
	/* #MC (no error code): log, maybe end the #MC, return. */
	"mce_mc_handler:\n\t"
	"push %rax\n\t"
	"push %rcx\n\t"
	"push %rdx\n\t"
	"incq " LOG(LOG_COUNT) "\n\t"
	"mov 24(%rsp), %rax\n\t"
	"mov %rax, " LOG(LOG_RIP) "\n\t"
	"mov $" GSTR(MSR_IA32_MCG_STATUS) ", %ecx\n\t"
	"rdmsr\n\t"
	EDX_EAX_TO_RAX
	"mov %rax, " LOG(LOG_MCG_STATUS) "\n\t"
	"mov " LOG(LOG_STATUS_MSR) ", %ecx\n\t"
	"rdmsr\n\t"
	EDX_EAX_TO_RAX
	"mov %rax, " LOG(LOG_STATUS) "\n\t"
	"inc %ecx\n\t"
	"rdmsr\n\t"
	EDX_EAX_TO_RAX
	"mov %rax, " LOG(LOG_ADDR) "\n\t"
	"inc %ecx\n\t"
	"rdmsr\n\t"
	EDX_EAX_TO_RAX
	"mov %rax, " LOG(LOG_MISC) "\n\t"
	"cmpq $0, " LOG(LOG_CLEAR_MCIP) "\n\t"
	"je 5f\n\t"
	"mov $" GSTR(MSR_IA32_MCG_STATUS) ", %ecx\n\t"
	"xor %eax, %eax\n\t"
	"xor %edx, %edx\n\t"
	"wrmsr\n"
	"5:\n\t"
	"pop %rdx\n\t"
	"pop %rcx\n\t"
	"pop %rax\n\t"
	"iretq\n\t");
extern const uint8_t mce_gp_handler[], mce_mc_handler[];

struct mce_op {
	const char *what;
	int op;
	uint32_t index;
	uint64_t value;		/* WRMSR: what to write; RDMSR: what must be read */
	int vector;		/* the exception expected (0: none) */
};

/*
 * MCG_CAP as the guest reads it after KVM_X86_SETUP_MCE(@cap). On AMD, bits
 * 63:9 of MCG_CAP are reserved (APM Vol.2, MCG_CAP): kvm_amd keeps bits 8:0 only
 * (svm.c svm_setup_mce()), so MCG_SER_P and the extended-register count are
 * accepted but not shown. kvm_intel keeps them all.
 */
static uint64_t mcg_cap_seen(uint64_t cap)
{
	return host_virt() == HOST_VIRT_SVM ? cap & 0x1ff : cap;
}

static int __vcpu_setup_mce(struct vcpu *vcpu, uint64_t mcg_cap)
{
	return ioctl(vcpu->fd, KVM_X86_SETUP_MCE, &mcg_cap);
}

static int __vcpu_set_mce(struct vcpu *vcpu, uint8_t bank, uint64_t status,
			  uint64_t addr, uint64_t misc, uint64_t mcg_status)
{
	struct kvm_x86_mce m = {
		.status = status, .addr = addr, .misc = misc,
		.mcg_status = mcg_status, .bank = bank,
	};

	return ioctl(vcpu->fd, KVM_X86_SET_MCE, &m);
}

/* A long-mode guest with KVM's CPUID, both handlers and, if @mcg_cap, its banks. */
static struct vcpu *mce_vcpu(struct __test_metadata *_metadata, uint64_t mcg_cap)
{
	struct vcpu *vcpu = vm_create_guest(MODE_LONG64, GUEST_CODE(mce_guest));
	struct kvm_cpuid2 *cpuid = kvm_get_supported_cpuid();

	vcpu_set_cpuid(vcpu, cpuid);
	free(cpuid);
	vm_set_idt_gate(vcpu->vm, MODE_LONG64, GP_VECTOR,
			guest_code_gpa(vcpu->vm, mce_gp_handler));
	vm_set_idt_gate(vcpu->vm, MODE_LONG64, MC_VECTOR,
			guest_code_gpa(vcpu->vm, mce_mc_handler));
	if (mcg_cap)
		EXPECT_EQ(0, __vcpu_setup_mce(vcpu, mcg_cap)) TH_LOG("%s", strerror(errno));
	return vcpu;
}

static struct mc_log *mc_log(struct vcpu *vcpu)
{
	return gpa_to_hva(vcpu->vm, GUEST_DATA_GPA);
}

/* The guest reads MSR @index: returns the value, fails on an exception. */
static uint64_t guest_rdmsr(struct __test_metadata *_metadata, struct vcpu *vcpu,
			    uint32_t index)
{
	struct ucall uc;

	do_op(_metadata, vcpu, OP_RDMSR, index, 0, &uc);
	EXPECT_EQ(0, uc.args[0]) TH_LOG("RDMSR %#x: exception", index);
	return uc.args[1];
}

static void run_ops(struct __test_metadata *_metadata, struct vcpu *vcpu,
		    const struct mce_op *ops, unsigned int n)
{
	struct ucall uc;
	unsigned int i;

	for (i = 0; i < n; i++) {
		const struct mce_op *o = &ops[i];

		do_op(_metadata, vcpu, o->op, o->index, o->value, &uc);
		EXPECT_EQ(o->vector, uc.args[0]) TH_LOG("%s", o->what);
		if (o->op == OP_RDMSR && !o->vector)
			EXPECT_EQ(o->value, uc.args[1]) TH_LOG("%s: value", o->what);
	}
}

static void stop(struct __test_metadata *_metadata, struct vcpu *vcpu)
{
	struct ucall uc;

	do_op(_metadata, vcpu, OP_STOP, 0, 0, &uc);
	vm_free(vcpu->vm);
}

TEST(capabilities)
{
	uint64_t supported = 0;
	int kvm;

	TEST_REQUIRE_CAP(KVM_CAP_MCE);
	EXPECT_EQ(KVM_MAX_MCE_BANKS, kvm_check_cap(KVM_CAP_MCE));
	kvm = kvm_open();
	ASSERT_EQ(0, ioctl(kvm, KVM_X86_GET_MCE_CAP_SUPPORTED, &supported))
		TH_LOG("%s", strerror(errno));
	TH_LOG("supported MCG_CAP bits %#llx", (unsigned long long)supported);
	EXPECT_EQ(MCG_CTL_P | MCG_SER_P, supported & (MCG_CTL_P | MCG_SER_P));
	/* kvm_amd adds nothing; kvm_intel adds LMCE and CMCI (vmx.c hardware_setup()). */
	if (host_virt() == HOST_VIRT_SVM)
		EXPECT_EQ(MCG_CTL_P | MCG_SER_P, supported);
	errno = 0;
	EXPECT_EQ(-1, ioctl(kvm, KVM_X86_GET_MCE_CAP_SUPPORTED, (void *)0x10));
	EXPECT_EQ(EFAULT, errno);
	close(kvm);
}

/*
 * Before KVM_X86_SETUP_MCE: MCG_CAP says 32 banks and nothing else
 * (kvm_arch_vcpu_create()), every bank register is 0. The VMM may read MCG_CTL
 * even without MCG_CTL_P; bank 32 does not exist.
 */
TEST(reset_state)
{
	struct vcpu *vcpu;
	struct vm *vm;
	uint64_t v;
	int i;

	TEST_REQUIRE_CAP(KVM_CAP_MCE);
	vm = vm_create();
	vcpu = vcpu_add(vm, 0);
	EXPECT_EQ(KVM_MAX_MCE_BANKS, vcpu_get_msr(vcpu, MSR_IA32_MCG_CAP));
	EXPECT_EQ(0, vcpu_get_msr(vcpu, MSR_IA32_MCG_STATUS));
	EXPECT_EQ(0, vcpu_get_msr(vcpu, MSR_IA32_MCG_CTL));
	for (i = 0; i < 4 * KVM_MAX_MCE_BANKS; i++)
		EXPECT_EQ(0, vcpu_get_msr(vcpu, MSR_IA32_MCx_CTL(0) + i))
			TH_LOG("MSR %#x", MSR_IA32_MCx_CTL(0) + i);
	EXPECT_EQ(0, __vcpu_get_msr(vcpu, MSR_IA32_MCx_CTL(KVM_MAX_MCE_BANKS), &v));
	vm_free(vm);
}

TEST(setup_mce)
{
	struct vcpu *vcpu;
	struct vm *vm;
	uint64_t v;
	int i;

	TEST_REQUIRE_CAP(KVM_CAP_MCE);
	vm = vm_create();
	vcpu = vcpu_add(vm, 0);

	errno = 0;
	EXPECT_EQ(-1, __vcpu_setup_mce(vcpu, MCG_CTL_P));		/* no bank */
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(-1, __vcpu_setup_mce(vcpu, KVM_MAX_MCE_BANKS + 1));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(-1, __vcpu_setup_mce(vcpu, MCG_EXT_P | NR_BANKS));	/* not offered */
	EXPECT_EQ(EINVAL, errno);
	if (host_virt() == HOST_VIRT_SVM) {
		errno = 0;
		EXPECT_EQ(-1, __vcpu_setup_mce(vcpu, MCG_CMCI_P | NR_BANKS));
		EXPECT_EQ(EINVAL, errno);
	}
	errno = 0;
	EXPECT_EQ(-1, ioctl(vcpu->fd, KVM_X86_SETUP_MCE, (void *)0x10));
	EXPECT_EQ(EFAULT, errno);
	/* A refused setup changed nothing. */
	EXPECT_EQ(KVM_MAX_MCE_BANKS, vcpu_get_msr(vcpu, MSR_IA32_MCG_CAP));

	/* The extended-register count (23:16) is taken as it is. */
	ASSERT_EQ(0, __vcpu_setup_mce(vcpu, MCE_CAP | 0x10000)) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(mcg_cap_seen(MCE_CAP | 0x10000), vcpu_get_msr(vcpu, MSR_IA32_MCG_CAP));
	ASSERT_EQ(0, __vcpu_setup_mce(vcpu, MCE_CAP));
	EXPECT_EQ(mcg_cap_seen(MCE_CAP), vcpu_get_msr(vcpu, MSR_IA32_MCG_CAP));
	EXPECT_EQ(~0ULL, vcpu_get_msr(vcpu, MSR_IA32_MCG_CTL));
	for (i = 0; i < NR_BANKS; i++) {
		EXPECT_EQ(~0ULL, vcpu_get_msr(vcpu, MSR_IA32_MCx_CTL(i))) TH_LOG("bank %d", i);
		EXPECT_EQ(0, vcpu_get_msr(vcpu, MSR_IA32_MCx_STATUS(i))) TH_LOG("bank %d", i);
	}
	/* The banks beyond the count are gone. */
	EXPECT_EQ(0, __vcpu_get_msr(vcpu, MSR_IA32_MCx_CTL(NR_BANKS), &v));
	EXPECT_EQ(0, __vcpu_get_msr(vcpu, MSR_IA32_MCx_MISC(KVM_MAX_MCE_BANKS - 1), &v));
	vm_free(vm);
}

/* KVM_GET_MSRS/KVM_SET_MSRS: the VMM's view, with its few extra rights. */
TEST(host_msr_access)
{
	struct vcpu *vcpu;
	struct vm *vm;
	uint64_t v;

	TEST_REQUIRE_CAP(KVM_CAP_MCE);
	vm = vm_create();
	vcpu = vcpu_add(vm, 0);
	ASSERT_EQ(0, __vcpu_setup_mce(vcpu, MCE_CAP));

	EXPECT_EQ(0, __vcpu_set_msr(vcpu, MSR_IA32_MCG_CAP, MCE_CAP));	/* read-only */
	EXPECT_EQ(1, __vcpu_set_msr(vcpu, MSR_IA32_MCG_STATUS, MCG_STATUS_RIPV));
	EXPECT_EQ(MCG_STATUS_RIPV, vcpu_get_msr(vcpu, MSR_IA32_MCG_STATUS));

	EXPECT_EQ(1, __vcpu_set_msr(vcpu, MSR_IA32_MCG_CTL, 0));
	EXPECT_EQ(0, vcpu_get_msr(vcpu, MSR_IA32_MCG_CTL));
	EXPECT_EQ(0, __vcpu_set_msr(vcpu, MSR_IA32_MCG_CTL, 1));
	EXPECT_EQ(1, __vcpu_set_msr(vcpu, MSR_IA32_MCG_CTL, ~0ULL));

	EXPECT_EQ(1, __vcpu_set_msr(vcpu, MSR_IA32_MCx_CTL(3), 0));
	EXPECT_EQ(1, __vcpu_set_msr(vcpu, MSR_IA32_MCx_CTL(3), ~(1ULL << 10)));
	EXPECT_EQ(1, __vcpu_set_msr(vcpu, MSR_IA32_MCx_CTL(3), ~1ULL));
	EXPECT_EQ(~1ULL, vcpu_get_msr(vcpu, MSR_IA32_MCx_CTL(3)));
	EXPECT_EQ(0, __vcpu_set_msr(vcpu, MSR_IA32_MCx_CTL(3), 0xff));
	EXPECT_EQ(~1ULL, vcpu_get_msr(vcpu, MSR_IA32_MCx_CTL(3)));

	/* A VMM restoring a vCPU writes MCi_STATUS as it was. */
	EXPECT_EQ(1, __vcpu_set_msr(vcpu, MSR_IA32_MCx_STATUS(3), CE_STATUS));
	EXPECT_EQ(CE_STATUS, vcpu_get_msr(vcpu, MSR_IA32_MCx_STATUS(3)));
	EXPECT_EQ(1, __vcpu_set_msr(vcpu, MSR_IA32_MCx_ADDR(3), 0x123456000ULL));
	EXPECT_EQ(0x123456000ULL, vcpu_get_msr(vcpu, MSR_IA32_MCx_ADDR(3)));
	EXPECT_EQ(1, __vcpu_set_msr(vcpu, MSR_IA32_MCx_MISC(3), 0x86));
	EXPECT_EQ(0x86, vcpu_get_msr(vcpu, MSR_IA32_MCx_MISC(3)));
	EXPECT_EQ(0, __vcpu_set_msr(vcpu, MSR_IA32_MCx_STATUS(NR_BANKS), 0));

	/* Without MCG_CTL_P the VMM may still read MCG_CTL and write 0 to it. */
	ASSERT_EQ(0, __vcpu_setup_mce(vcpu, MCG_SER_P | NR_BANKS));
	EXPECT_EQ(1, __vcpu_get_msr(vcpu, MSR_IA32_MCG_CTL, &v));
	EXPECT_EQ(1, __vcpu_set_msr(vcpu, MSR_IA32_MCG_CTL, 0));
	EXPECT_EQ(0, __vcpu_set_msr(vcpu, MSR_IA32_MCG_CTL, ~0ULL));
	vm_free(vm);
}

/* Saved and restored by a VMM: both are in KVM_GET_MSR_INDEX_LIST. */
TEST(msr_index_list)
{
	static const uint32_t wanted[] = { MSR_IA32_MCG_STATUS, MSR_IA32_MCG_CTL };
	struct kvm_msr_list probe = { .nmsrs = 0 }, *list;
	unsigned int i, j;
	int kvm;

	TEST_REQUIRE_CAP(KVM_CAP_MCE);
	kvm = kvm_open();
	errno = 0;
	ASSERT_EQ(-1, ioctl(kvm, KVM_GET_MSR_INDEX_LIST, &probe));
	ASSERT_EQ(E2BIG, errno);
	list = calloc(1, sizeof(*list) + probe.nmsrs * sizeof(list->indices[0]));
	ASSERT_NE(NULL, list);
	list->nmsrs = probe.nmsrs;
	ASSERT_EQ(0, ioctl(kvm, KVM_GET_MSR_INDEX_LIST, list));
	for (i = 0; i < ARRAY_SIZE(wanted); i++) {
		for (j = 0; j < list->nmsrs; j++)
			if (list->indices[j] == wanted[i])
				break;
		EXPECT_LT(j, list->nmsrs) TH_LOG("MSR %#x not listed", wanted[i]);
	}
	free(list);
	close(kvm);
}

static const struct mce_op guest_ops[] = {
	{ "wrmsr mcg_cap", OP_WRMSR, MSR_IA32_MCG_CAP, MCE_CAP, GP_VECTOR },
	{ "rdmsr mcg_ctl", OP_RDMSR, MSR_IA32_MCG_CTL, ~0ULL, 0 },
	{ "wrmsr mcg_ctl 1", OP_WRMSR, MSR_IA32_MCG_CTL, 1, GP_VECTOR },
	{ "wrmsr mcg_ctl 0", OP_WRMSR, MSR_IA32_MCG_CTL, 0, 0 },
	{ "rdmsr mcg_ctl 0", OP_RDMSR, MSR_IA32_MCG_CTL, 0, 0 },
	{ "wrmsr mcg_ctl ~0", OP_WRMSR, MSR_IA32_MCG_CTL, ~0ULL, 0 },
	{ "wrmsr mcg_status", OP_WRMSR, MSR_IA32_MCG_STATUS,
	  MCG_STATUS_RIPV | MCG_STATUS_EIPV, 0 },
	{ "rdmsr mcg_status", OP_RDMSR, MSR_IA32_MCG_STATUS,
	  MCG_STATUS_RIPV | MCG_STATUS_EIPV, 0 },
	{ "wrmsr mcg_status 0", OP_WRMSR, MSR_IA32_MCG_STATUS, 0, 0 },
	{ "rdmsr mc9_ctl", OP_RDMSR, MSR_IA32_MCx_CTL(NR_BANKS - 1), ~0ULL, 0 },
	{ "rdmsr mc10_ctl", OP_RDMSR, MSR_IA32_MCx_CTL(NR_BANKS), 0, GP_VECTOR },
	{ "wrmsr mc10_ctl", OP_WRMSR, MSR_IA32_MCx_CTL(NR_BANKS), ~0ULL, GP_VECTOR },
	{ "rdmsr mc10_status", OP_RDMSR, MSR_IA32_MCx_STATUS(NR_BANKS), 0, GP_VECTOR },
	{ "wrmsr mc2_ctl 0x1234", OP_WRMSR, MSR_IA32_MCx_CTL(2), 0x1234, GP_VECTOR },
	{ "wrmsr mc2_ctl ~bit10", OP_WRMSR, MSR_IA32_MCx_CTL(2), ~(1ULL << 10), 0 },
	{ "rdmsr mc2_ctl ~bit10", OP_RDMSR, MSR_IA32_MCx_CTL(2), ~(1ULL << 10), 0 },
	{ "wrmsr mc2_ctl ~bit0", OP_WRMSR, MSR_IA32_MCx_CTL(2), ~1ULL, 0 },
	{ "wrmsr mc2_ctl 0", OP_WRMSR, MSR_IA32_MCx_CTL(2), 0, 0 },
	{ "rdmsr mc2_ctl 0", OP_RDMSR, MSR_IA32_MCx_CTL(2), 0, 0 },
	{ "wrmsr mc2_status nonzero", OP_WRMSR, MSR_IA32_MCx_STATUS(2), CE_STATUS,
	  GP_VECTOR },
	{ "wrmsr mc2_status 0", OP_WRMSR, MSR_IA32_MCx_STATUS(2), 0, 0 },
	{ "wrmsr mc2_addr", OP_WRMSR, MSR_IA32_MCx_ADDR(2), 0x12345000, 0 },
	{ "rdmsr mc2_addr", OP_RDMSR, MSR_IA32_MCx_ADDR(2), 0x12345000, 0 },
	{ "wrmsr mc2_misc", OP_WRMSR, MSR_IA32_MCx_MISC(2), 0x86, 0 },
	{ "rdmsr mc2_misc", OP_RDMSR, MSR_IA32_MCx_MISC(2), 0x86, 0 },
	/* The Pentium's machine-check registers read as 0 (get_msr_mce()). */
	{ "rdmsr p5_mc_addr", OP_RDMSR, MSR_IA32_P5_MC_ADDR, 0, 0 },
	{ "rdmsr p5_mc_type", OP_RDMSR, MSR_IA32_P5_MC_TYPE, 0, 0 },
};

TEST(guest_msr_access)
{
	struct vcpu *vcpu;

	TEST_REQUIRE_CAP(KVM_CAP_MCE);
	vcpu = mce_vcpu(_metadata, MCE_CAP);
	EXPECT_EQ(mcg_cap_seen(MCE_CAP), guest_rdmsr(_metadata, vcpu, MSR_IA32_MCG_CAP));
	run_ops(_metadata, vcpu, guest_ops, ARRAY_SIZE(guest_ops));
	stop(_metadata, vcpu);
}

static const struct mce_op no_ctl_p_ops[] = {
	{ "rdmsr mcg_ctl", OP_RDMSR, MSR_IA32_MCG_CTL, 0, GP_VECTOR },
	{ "wrmsr mcg_ctl 0", OP_WRMSR, MSR_IA32_MCG_CTL, 0, GP_VECTOR },
	{ "wrmsr mcg_ctl ~0", OP_WRMSR, MSR_IA32_MCG_CTL, ~0ULL, GP_VECTOR },
	{ "rdmsr mc0_ctl", OP_RDMSR, MSR_IA32_MCx_CTL(0), ~0ULL, 0 },
};

/* Without MCG_CTL_P the guest has no MCG_CTL at all. */
TEST(guest_no_mcg_ctl)
{
	struct vcpu *vcpu;

	TEST_REQUIRE_CAP(KVM_CAP_MCE);
	vcpu = mce_vcpu(_metadata, MCG_SER_P | NR_BANKS);
	run_ops(_metadata, vcpu, no_ctl_p_ops, ARRAY_SIZE(no_ctl_p_ops));
	stop(_metadata, vcpu);
}

static const struct mce_op mcstatuswren_ops[] = {
	{ "wrmsr hwcr mcstatuswren", OP_WRMSR, MSR_K7_HWCR, HWCR_MCSTATUSWREN, 0 },
	{ "rdmsr hwcr", OP_RDMSR, MSR_K7_HWCR, HWCR_MCSTATUSWREN, 0 },
	{ "wrmsr mc2_status", OP_WRMSR, MSR_IA32_MCx_STATUS(2), CE_STATUS, 0 },
	{ "rdmsr mc2_status", OP_RDMSR, MSR_IA32_MCx_STATUS(2), CE_STATUS, 0 },
	{ "wrmsr hwcr other bits", OP_WRMSR, MSR_K7_HWCR, 1ULL << 17, GP_VECTOR },
};

/*
 * AMD processors let software write MCi_STATUS when HWCR.McStatusWrEn (bit 18)
 * is set, e.g. to test its handler; KVM follows it for a guest whose CPUID
 * vendor is AMD's or Hygon's (x86.c can_set_mci_status()). Of HWCR
 * KVM takes only that bit (and ignores bits 3, 6 and 8); any other is #GP.
 * (Writing 0 leaves the bit as it was in KVM 6.1: not checked here.)
 */
TEST(guest_mcstatuswren)
{
	struct kvm_cpuid2 *cpuid;
	struct vcpu *vcpu;
	uint32_t i, ebx = 0;

	TEST_REQUIRE_CAP(KVM_CAP_MCE);
	cpuid = kvm_get_supported_cpuid();
	for (i = 0; i < cpuid->nent; i++)
		if (cpuid->entries[i].function == 0)
			ebx = cpuid->entries[i].ebx;
	free(cpuid);
	if (ebx != 0x68747541 && ebx != 0x6f677948)	/* "Auth", "Hygo" */
		SKIP(return, "the CPUID vendor is not AMD's");
	vcpu = mce_vcpu(_metadata, MCE_CAP);
	run_ops(_metadata, vcpu, mcstatuswren_ops, ARRAY_SIZE(mcstatuswren_ops));
	stop(_metadata, vcpu);
}

/*
 * An uncorrected error: #MC in the guest, which finds it in MCG_STATUS and the
 * bank. A corrected error in a bank that holds an uncorrected one only sets OVER
 * (the worse error stays); another uncorrected one replaces it, with OVER.
 */
TEST(uncorrected_error_raises_mc)
{
	struct vcpu *vcpu;
	struct mc_log *log;

	TEST_REQUIRE_CAP(KVM_CAP_MCE);
	vcpu = mce_vcpu(_metadata, MCE_CAP);
	log = mc_log(vcpu);
	EXPECT_EQ(0, guest_rdmsr(_metadata, vcpu, MSR_IA32_MCG_STATUS));	/* CR4.MCE on */

	log->status_msr = MSR_IA32_MCx_STATUS(3);
	log->clear_mcip = 1;
	ASSERT_EQ(0, __vcpu_set_mce(vcpu, 3, UC_STATUS, 0x7f3000, 0x8c, UC_MCG_STATUS))
		TH_LOG("%s", strerror(errno));
	/* The VMM sees the error before the guest runs again. */
	EXPECT_EQ(UC_STATUS, vcpu_get_msr(vcpu, MSR_IA32_MCx_STATUS(3)));
	EXPECT_EQ(UC_MCG_STATUS, vcpu_get_msr(vcpu, MSR_IA32_MCG_STATUS));

	EXPECT_EQ(0, guest_rdmsr(_metadata, vcpu, MSR_IA32_MCG_STATUS));	/* cleared */
	EXPECT_EQ(1, log->count);
	EXPECT_EQ(UC_MCG_STATUS, log->mcg_status);
	EXPECT_EQ(UC_STATUS, log->status);
	EXPECT_EQ(0x7f3000, log->addr);
	EXPECT_EQ(0x8c, log->misc);
	EXPECT_GE(log->rip, GUEST_CODE_GPA);
	EXPECT_LT(log->rip, GUEST_CODE_GPA + (mce_guest_end - mce_guest_start));

	/* Corrected after uncorrected: the bank keeps the uncorrected one. */
	ASSERT_EQ(0, __vcpu_set_mce(vcpu, 3, CE_STATUS, 0x1000, 0x1, 0));
	EXPECT_EQ(UC_STATUS | MCI_STATUS_OVER,
		  guest_rdmsr(_metadata, vcpu, MSR_IA32_MCx_STATUS(3)));
	EXPECT_EQ(0x7f3000, vcpu_get_msr(vcpu, MSR_IA32_MCx_ADDR(3)));
	EXPECT_EQ(1, log->count);

	/* Uncorrected again, MCIP clear: a second #MC, the bank overflowed. */
	ASSERT_EQ(0, __vcpu_set_mce(vcpu, 3, UC_STATUS, 0x8000, 0x2, UC_MCG_STATUS));
	EXPECT_EQ(0, guest_rdmsr(_metadata, vcpu, MSR_IA32_MCG_STATUS));
	EXPECT_EQ(2, log->count);
	EXPECT_EQ(UC_STATUS | MCI_STATUS_OVER, log->status);
	EXPECT_EQ(0x8000, log->addr);
	stop(_metadata, vcpu);
}

/* Corrected errors only fill the bank; a second one sets OVER. */
TEST(corrected_error_is_logged)
{
	struct vcpu *vcpu;
	struct mc_log *log;

	TEST_REQUIRE_CAP(KVM_CAP_MCE);
	vcpu = mce_vcpu(_metadata, MCE_CAP);
	log = mc_log(vcpu);
	EXPECT_EQ(0, guest_rdmsr(_metadata, vcpu, MSR_IA32_MCG_STATUS));

	ASSERT_EQ(0, __vcpu_set_mce(vcpu, 1, CE_STATUS, 0x5000, 0x11, 0));
	EXPECT_EQ(CE_STATUS, guest_rdmsr(_metadata, vcpu, MSR_IA32_MCx_STATUS(1)));
	EXPECT_EQ(0x5000, guest_rdmsr(_metadata, vcpu, MSR_IA32_MCx_ADDR(1)));
	EXPECT_EQ(0x11, guest_rdmsr(_metadata, vcpu, MSR_IA32_MCx_MISC(1)));

	ASSERT_EQ(0, __vcpu_set_mce(vcpu, 1, CE_STATUS | 1, 0x6000, 0x22, 0));
	EXPECT_EQ(CE_STATUS | 1 | MCI_STATUS_OVER,
		  guest_rdmsr(_metadata, vcpu, MSR_IA32_MCx_STATUS(1)));
	EXPECT_EQ(0x6000, guest_rdmsr(_metadata, vcpu, MSR_IA32_MCx_ADDR(1)));
	EXPECT_EQ(0, guest_rdmsr(_metadata, vcpu, MSR_IA32_MCG_STATUS));
	EXPECT_EQ(0, log->count);
	stop(_metadata, vcpu);
}

/*
 * UCNA, "uncorrected no action" (SDM Vol.3 15.6): VAL and UC, none of PCC, S, AR,
 * and MCG_STATUS 0. Nothing for the guest to recover right now: KVM logs it in
 * the bank without #MC (is_ucna(), kvm_vcpu_x86_set_ucna()), whatever CR4.MCE
 * and MCG_CTL say.
 */
TEST(ucna_is_logged_not_raised)
{
	const uint64_t ucna = MCI_STATUS_VAL | MCI_STATUS_UC | MCI_STATUS_EN |
			      MCI_STATUS_ADDRV | 0x17a;
	struct vcpu *vcpu;
	struct mc_log *log;

	TEST_REQUIRE_CAP(KVM_CAP_MCE);
	vcpu = mce_vcpu(_metadata, MCE_CAP);
	log = mc_log(vcpu);
	EXPECT_EQ(0, guest_rdmsr(_metadata, vcpu, MSR_IA32_MCG_STATUS));

	ASSERT_EQ(0, __vcpu_set_mce(vcpu, 4, ucna, 0x9000, 0, 0));
	EXPECT_EQ(ucna, guest_rdmsr(_metadata, vcpu, MSR_IA32_MCx_STATUS(4)));
	EXPECT_EQ(0x9000, guest_rdmsr(_metadata, vcpu, MSR_IA32_MCx_ADDR(4)));
	EXPECT_EQ(0, log->count);
	stop(_metadata, vcpu);
}

/* MCG_CTL = 0 drops uncorrected errors everywhere, MCi_CTL = 0 in one bank. */
TEST(reporting_disabled)
{
	struct vcpu *vcpu;
	struct mc_log *log;

	TEST_REQUIRE_CAP(KVM_CAP_MCE);
	vcpu = mce_vcpu(_metadata, MCE_CAP);
	log = mc_log(vcpu);
	log->clear_mcip = 1;
	log->status_msr = MSR_IA32_MCx_STATUS(5);
	EXPECT_EQ(0, guest_rdmsr(_metadata, vcpu, MSR_IA32_MCG_STATUS));

	vcpu_set_msr(vcpu, MSR_IA32_MCG_CTL, 0);
	ASSERT_EQ(0, __vcpu_set_mce(vcpu, 2, UC_STATUS, 0x1000, 0, UC_MCG_STATUS));
	EXPECT_EQ(0, guest_rdmsr(_metadata, vcpu, MSR_IA32_MCx_STATUS(2)));
	EXPECT_EQ(0, guest_rdmsr(_metadata, vcpu, MSR_IA32_MCG_STATUS));
	EXPECT_EQ(0, log->count);

	vcpu_set_msr(vcpu, MSR_IA32_MCG_CTL, ~0ULL);
	vcpu_set_msr(vcpu, MSR_IA32_MCx_CTL(2), 0);
	ASSERT_EQ(0, __vcpu_set_mce(vcpu, 2, UC_STATUS, 0x1000, 0, UC_MCG_STATUS));
	EXPECT_EQ(0, guest_rdmsr(_metadata, vcpu, MSR_IA32_MCx_STATUS(2)));
	EXPECT_EQ(0, log->count);

	/* Bank 5 still reports. */
	ASSERT_EQ(0, __vcpu_set_mce(vcpu, 5, UC_STATUS, 0x2000, 0, UC_MCG_STATUS));
	EXPECT_EQ(0, guest_rdmsr(_metadata, vcpu, MSR_IA32_MCG_STATUS));
	EXPECT_EQ(1, log->count);
	EXPECT_EQ(UC_STATUS, log->status);
	stop(_metadata, vcpu);
}

/* A second #MC while the first is in progress (MCIP): the processor shuts down. */
TEST(mc_during_mc_shuts_down)
{
	struct vcpu *vcpu;
	struct mc_log *log;
	char buf[256];

	TEST_REQUIRE_CAP(KVM_CAP_MCE);
	vcpu = mce_vcpu(_metadata, MCE_CAP);
	log = mc_log(vcpu);
	log->status_msr = MSR_IA32_MCx_STATUS(0);
	EXPECT_EQ(0, guest_rdmsr(_metadata, vcpu, MSR_IA32_MCG_STATUS));

	ASSERT_EQ(0, __vcpu_set_mce(vcpu, 0, UC_STATUS, 0x3000, 0, UC_MCG_STATUS));
	EXPECT_EQ(UC_MCG_STATUS, guest_rdmsr(_metadata, vcpu, MSR_IA32_MCG_STATUS));
	EXPECT_EQ(1, log->count);

	ASSERT_EQ(0, __vcpu_set_mce(vcpu, 1, UC_STATUS, 0x4000, 0, UC_MCG_STATUS));
	vcpu_run(vcpu);
	EXPECT_EQ(KVM_EXIT_SHUTDOWN, vcpu->run->exit_reason)
		TH_LOG("%s", vcpu_describe_exit(vcpu, buf, sizeof(buf)));
	EXPECT_EQ(1, log->count);
	vm_free(vcpu->vm);
}

/* CR4.MCE clear: an uncorrected error shuts the processor down (SDM Vol.3 15.10). */
TEST(no_cr4_mce_shuts_down)
{
	struct kvm_sregs sregs;
	struct vcpu *vcpu;
	struct mc_log *log;
	char buf[256];

	TEST_REQUIRE_CAP(KVM_CAP_MCE);
	vcpu = mce_vcpu(_metadata, MCE_CAP);
	log = mc_log(vcpu);
	EXPECT_EQ(0, guest_rdmsr(_metadata, vcpu, MSR_IA32_MCG_STATUS));
	vcpu_get_sregs(vcpu, &sregs);
	ASSERT_NE(0, sregs.cr4 & X86_CR4_MCE);		/* the guest set it */
	sregs.cr4 &= ~X86_CR4_MCE;
	vcpu_set_sregs(vcpu, &sregs);

	ASSERT_EQ(0, __vcpu_set_mce(vcpu, 0, UC_STATUS, 0x3000, 0, UC_MCG_STATUS));
	vcpu_run(vcpu);
	EXPECT_EQ(KVM_EXIT_SHUTDOWN, vcpu->run->exit_reason)
		TH_LOG("%s", vcpu_describe_exit(vcpu, buf, sizeof(buf)));
	EXPECT_EQ(0, log->count);
	vm_free(vcpu->vm);
}

TEST(set_mce_errors)
{
	struct vcpu *vcpu;
	struct vm *vm;

	TEST_REQUIRE_CAP(KVM_CAP_MCE);
	vm = vm_create();
	vcpu = vcpu_add(vm, 0);
	ASSERT_EQ(0, __vcpu_setup_mce(vcpu, MCE_CAP));
	errno = 0;
	EXPECT_EQ(-1, __vcpu_set_mce(vcpu, NR_BANKS, CE_STATUS, 0, 0, 0));	/* no such bank */
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(-1, __vcpu_set_mce(vcpu, 0, CE_STATUS & ~MCI_STATUS_VAL, 0, 0, 0));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(-1, ioctl(vcpu->fd, KVM_X86_SET_MCE, (void *)0x10));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(0, vcpu_get_msr(vcpu, MSR_IA32_MCx_STATUS(0)));
	vm_free(vm);
}

TEST_HARNESS_MAIN
