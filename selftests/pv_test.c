// SPDX-License-Identifier: GPL-2.0-only
/*
 * pv_test: hypercalls, the PV features a guest may use, and the quirks KVM lets a
 * VMM turn off.
 *
 *   hypercalls            this CPU's hypercall instruction (VMMCALL on AMD, VMCALL
 *                         on Intel): KVM_HC_VAPIC_POLL_IRQ and KVM_HC_SCHED_YIELD
 *                         return 0, an unknown number -KVM_ENOSYS (1000); outside
 *                         64-bit mode... not tested: the guest is 64-bit
 *                         (Documentation/virt/kvm/x86/hypercalls.rst)
 *   enforce_pv_cpuid      with KVM_CAP_ENFORCE_PV_FEATURE_CPUID on a vCPU, the
 *                         kvmclock MSRs #GP and SCHED_YIELD is -KVM_ENOSYS unless
 *                         CPUID 0x40000001 EAX offers them (x86.c guest_pv_has())
 *   fix_hypercall_insn    the other vendor's instruction raises #UD on this CPU;
 *                         KVM rewrites it into this CPU's in guest memory and the
 *                         guest goes on, unless KVM_X86_QUIRK_FIX_HYPERCALL_INSN is
 *                         disabled: then #UD, and the bytes stay
 *   monitor_mwait         MONITOR/MWAIT are NOPs (KVM_X86_QUIRK_MWAIT_NEVER_UD_FAULTS)
 *                         or, with the quirk off and no MONITOR in CPUID, #UD; with
 *                         KVM_X86_QUIRK_MISC_ENABLE_NO_MWAIT off, MISC_ENABLE bit 18
 *                         is CPUID.1:ECX.MONITOR
 *   quirks_cap            KVM_CAP_DISABLE_QUIRKS2 lists these three, refuses others
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "kselftest_harness.h"
#include "vm.h"
#include "x86.h"
#include "op_guest.h"

#define KVM_ENOSYS		1000
#define KVM_HC_VAPIC_POLL_IRQ	1
#define KVM_HC_SCHED_YIELD	11
#define KVM_FEATURE_CLOCKSOURCE2	3
#define KVM_FEATURE_PV_SCHED_YIELD	13
#define MSR_KVM_SYSTEM_TIME_NEW	0x4b564d01
#define MSR_KVM_WALL_CLOCK_NEW	0x4b564d00
#define MSR_IA32_MISC_ENABLE	0x1a0
#define MISC_ENABLE_MWAIT	(1ULL << 18)
#define CPUID1_ECX_MWAIT	(1U << 3)

/* KVM_X86_QUIRK_* (arch/x86/include/uapi/asm/kvm.h). */
#define QUIRK_MISC_ENABLE_NO_MWAIT	(1 << 4)
#define QUIRK_FIX_HYPERCALL_INSN	(1 << 5)
#define QUIRK_MWAIT_NEVER_UD_FAULTS	(1 << 6)

/* This CPU's hypercall and the other vendor's. */
static int native_hypercall(void)
{
	return host_virt() == HOST_VIRT_SVM ? OP_VMMCALL : OP_VMCALL;
}

static int other_hypercall(void)
{
	return host_virt() == HOST_VIRT_SVM ? OP_VMCALL : OP_VMMCALL;
}

static int disable_quirks(struct vm *vm, uint64_t quirks)
{
	struct kvm_enable_cap c = { .cap = KVM_CAP_DISABLE_QUIRKS2, .args = { quirks } };

	return ioctl(vm->fd, KVM_ENABLE_CAP, &c) ? -errno : 0;
}

static int enforce_pv(struct vcpu *vcpu)
{
	struct kvm_enable_cap c = { .cap = KVM_CAP_ENFORCE_PV_FEATURE_CPUID,
				    .args = { 1 } };

	return ioctl(vcpu->fd, KVM_ENABLE_CAP, &c) ? -errno : 0;
}

TEST(hypercalls)
{
	static const struct {
		uint64_t nr;
		uint64_t ret;
	} calls[] = {
		{ KVM_HC_VAPIC_POLL_IRQ, 0 },
		{ KVM_HC_SCHED_YIELD, 0 },
		{ 0x1234, -KVM_ENOSYS },
		{ 0, -KVM_ENOSYS },
	};
	struct kvm_cpuid2 *c = kvm_get_supported_cpuid();
	struct vcpu *vcpu;
	struct ucall uc;
	unsigned int i;

	TEST_REQUIRE_KVM();
	vcpu = op_vcpu();
	vcpu_set_cpuid(vcpu, c);
	for (i = 0; i < ARRAY_SIZE(calls); i++) {
		do_op(_metadata, vcpu, native_hypercall(), 0, calls[i].nr, &uc);
		EXPECT_EQ(0, uc.args[0]) TH_LOG("hypercall %lu", (unsigned long)calls[i].nr);
		EXPECT_EQ(calls[i].ret, uc.args[1])
			TH_LOG("hypercall %lu", (unsigned long)calls[i].nr);
	}
	do_op(_metadata, vcpu, OP_STOP, 0, 0, &uc);
	free(c);
	vm_free(vcpu->vm);
}

/* Each case: 0x40000001 EAX of the guest (-1: no such leaf) and what it may use. */
TEST(enforce_pv_cpuid)
{
	static const struct {
		int64_t features;
		bool clock2, yield;
	} cases[] = {
		{ -1, false, false },
		{ 0, false, false },
		{ 1 << KVM_FEATURE_CLOCKSOURCE2, true, false },
		{ 1 << KVM_FEATURE_PV_SCHED_YIELD, false, true },
	};
	unsigned int i;

	TEST_REQUIRE_CAP(KVM_CAP_ENFORCE_PV_FEATURE_CPUID);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct kvm_cpuid2 *c = cpuid_without(cases[i].features < 0 ? 0x40000001 : 0);
		struct vcpu *vcpu = op_vcpu();
		struct ucall uc;

		if (cases[i].features >= 0)
			cpuid_entry(c, 0x40000001)->eax = cases[i].features;
		vcpu_set_cpuid(vcpu, c);
		ASSERT_EQ(0, enforce_pv(vcpu));
		do_op(_metadata, vcpu, OP_RDMSR, MSR_KVM_WALL_CLOCK_NEW, 0, &uc);
		EXPECT_EQ(cases[i].clock2 ? 0 : GP_VECTOR, uc.args[0]) TH_LOG("case %u", i);
		do_op(_metadata, vcpu, OP_WRMSR, MSR_KVM_SYSTEM_TIME_NEW, 0, &uc);
		EXPECT_EQ(cases[i].clock2 ? 0 : GP_VECTOR, uc.args[0]) TH_LOG("case %u", i);
		do_op(_metadata, vcpu, native_hypercall(), 0, KVM_HC_SCHED_YIELD, &uc);
		EXPECT_EQ(cases[i].yield ? 0 : -KVM_ENOSYS, uc.args[1]) TH_LOG("case %u", i);
		/* A feature-less call is not affected. */
		do_op(_metadata, vcpu, native_hypercall(), 0, KVM_HC_VAPIC_POLL_IRQ, &uc);
		EXPECT_EQ(0, uc.args[1]) TH_LOG("case %u", i);
		do_op(_metadata, vcpu, OP_STOP, 0, 0, &uc);
		free(c);
		vm_free(vcpu->vm);
	}
}

/* The three bytes at the other vendor's hypercall in the guest's code. */
static uint8_t *other_insn(struct vcpu *vcpu)
{
	const uint8_t *label = other_hypercall() == OP_VMCALL ? op_guest_vmcall :
								op_guest_vmmcall;

	return gpa_to_hva(vcpu->vm, guest_code_gpa(vcpu->vm, label));
}

TEST(fix_hypercall_insn)
{
	static const uint8_t vmcall[3] = { 0x0f, 0x01, 0xc1 }, vmmcall[3] = { 0x0f, 0x01, 0xd9 };
	const uint8_t *native = native_hypercall() == OP_VMCALL ? vmcall : vmmcall;
	const uint8_t *other = native == vmcall ? vmmcall : vmcall;
	int quirk_off;

	TEST_REQUIRE_KVM();
	if (host_virt() == HOST_VIRT_NONE)
		SKIP(return, "unknown vendor");
	for (quirk_off = 0; quirk_off < 2; quirk_off++) {
		struct vcpu *vcpu = op_vcpu();
		struct ucall uc;

		if (quirk_off)
			ASSERT_EQ(0, disable_quirks(vcpu->vm, QUIRK_FIX_HYPERCALL_INSN));
		do_op(_metadata, vcpu, other_hypercall(), 0, KVM_HC_VAPIC_POLL_IRQ, &uc);
		if (quirk_off) {
			EXPECT_EQ(UD_VECTOR, uc.args[0]);
			EXPECT_EQ(0, memcmp(other_insn(vcpu), other, 3));
		} else {
			EXPECT_EQ(0, uc.args[0]);
			EXPECT_EQ(0, uc.args[1]) TH_LOG("the hypercall ran");
			EXPECT_EQ(0, memcmp(other_insn(vcpu), native, 3)) TH_LOG("rewritten");
		}
		do_op(_metadata, vcpu, OP_STOP, 0, 0, &uc);
		vm_free(vcpu->vm);
	}
}

/* MONITOR then MWAIT; both must give @vector. */
static void expect_monitor_mwait(struct __test_metadata *_metadata, struct vcpu *vcpu,
			  uint64_t vector, const char *what)
{
	struct ucall uc;

	do_op(_metadata, vcpu, OP_MONITOR, GUEST_DATA_GPA, 0, &uc);
	EXPECT_EQ(vector, uc.args[0]) TH_LOG("MONITOR, %s", what);
	do_op(_metadata, vcpu, OP_MWAIT, 0, 0, &uc);
	EXPECT_EQ(vector, uc.args[0]) TH_LOG("MWAIT, %s", what);
}

TEST(monitor_mwait)
{
	struct kvm_cpuid2 *c = kvm_get_supported_cpuid();
	struct vcpu *vcpu;
	struct ucall uc;

	TEST_REQUIRE_CAP(KVM_CAP_DISABLE_QUIRKS2);
	vcpu = op_vcpu();
	cpuid_entry(c, 1)->ecx &= ~CPUID1_ECX_MWAIT;
	vcpu_set_cpuid(vcpu, c);

	expect_monitor_mwait(_metadata, vcpu, 0, "quirks on");
	ASSERT_EQ(0, disable_quirks(vcpu->vm, QUIRK_MWAIT_NEVER_UD_FAULTS));
	expect_monitor_mwait(_metadata, vcpu, UD_VECTOR, "no MONITOR in CPUID, quirk off");

	/* MISC_ENABLE.MWAIT now switches CPUID.1:ECX.MONITOR. */
	ASSERT_EQ(0, disable_quirks(vcpu->vm, QUIRK_MWAIT_NEVER_UD_FAULTS |
				    QUIRK_MISC_ENABLE_NO_MWAIT));
	vcpu_set_msr(vcpu, MSR_IA32_MISC_ENABLE,
		     vcpu_get_msr(vcpu, MSR_IA32_MISC_ENABLE) | MISC_ENABLE_MWAIT);
	do_op(_metadata, vcpu, OP_CPUID, 0, 1, &uc);
	EXPECT_NE(0, uc.args[1] & CPUID1_ECX_MWAIT) TH_LOG("MONITOR in CPUID");
	expect_monitor_mwait(_metadata, vcpu, 0, "MISC_ENABLE.MWAIT set");
	vcpu_set_msr(vcpu, MSR_IA32_MISC_ENABLE,
		     vcpu_get_msr(vcpu, MSR_IA32_MISC_ENABLE) & ~MISC_ENABLE_MWAIT);
	do_op(_metadata, vcpu, OP_CPUID, 0, 1, &uc);
	EXPECT_EQ(0, uc.args[1] & CPUID1_ECX_MWAIT) TH_LOG("no MONITOR in CPUID");
	expect_monitor_mwait(_metadata, vcpu, UD_VECTOR, "MISC_ENABLE.MWAIT clear");

	/* Setting the (unchanged) CPUID again is fine, after KVM_RUN too. */
	EXPECT_EQ(0, ioctl(vcpu->fd, KVM_SET_CPUID2, c));
	do_op(_metadata, vcpu, OP_STOP, 0, 0, &uc);
	free(c);
	vm_free(vcpu->vm);
}

/* Without SSE3 in CPUID, MISC_ENABLE.MWAIT cannot change (quirk off). */
TEST(misc_enable_mwait_needs_sse3)
{
	struct kvm_cpuid2 *c = kvm_get_supported_cpuid();
	struct vcpu *vcpu;

	TEST_REQUIRE_CAP(KVM_CAP_DISABLE_QUIRKS2);
	vcpu = vcpu_add(vm_create(), 0);
	cpuid_entry(c, 1)->ecx &= ~1U;
	vcpu_set_cpuid(vcpu, c);
	ASSERT_EQ(0, disable_quirks(vcpu->vm, QUIRK_MISC_ENABLE_NO_MWAIT));
	EXPECT_EQ(0, __vcpu_set_msr(vcpu, MSR_IA32_MISC_ENABLE,
				    vcpu_get_msr(vcpu, MSR_IA32_MISC_ENABLE) ^
				    MISC_ENABLE_MWAIT));
	vm_free(vcpu->vm);
	/*
	 * With the quirk on (a new VM: KVM 6.1 lets a VM turn quirks back on,
	 * later kernels keep them off once disabled), the bit is just stored.
	 */
	vcpu = vcpu_add(vm_create(), 0);
	vcpu_set_cpuid(vcpu, c);
	EXPECT_EQ(1, __vcpu_set_msr(vcpu, MSR_IA32_MISC_ENABLE,
				    vcpu_get_msr(vcpu, MSR_IA32_MISC_ENABLE) ^
				    MISC_ENABLE_MWAIT)) TH_LOG("quirk on: just stored");
	free(c);
	vm_free(vcpu->vm);
}

TEST(quirks_cap)
{
	const int ours = QUIRK_MISC_ENABLE_NO_MWAIT | QUIRK_FIX_HYPERCALL_INSN |
			 QUIRK_MWAIT_NEVER_UD_FAULTS;
	int mask = kvm_check_cap(KVM_CAP_DISABLE_QUIRKS2);
	struct vm *vm;

	TEST_REQUIRE_CAP(KVM_CAP_DISABLE_QUIRKS2);
	EXPECT_EQ(ours, mask & ours);
	vm = vm_create();
	EXPECT_EQ(-EINVAL, disable_quirks(vm, 1ULL << 31));
	EXPECT_EQ(0, disable_quirks(vm, mask));
	vm_free(vm);
}

TEST_HARNESS_MAIN
