// SPDX-License-Identifier: GPL-2.0-only
/*
 * cpuid_test: CPUID in the guest is answered by KVM from the table userspace set.
 *
 * CPUID always causes a VM exit (VMX: unconditionally, SDM Vol.3 26.1.2; SVM: KVM
 * sets the CPUID intercept), and KVM answers it in the kernel, without an exit to
 * userspace, from the entries given with KVM_SET_CPUID2 (x86/cpuid.c kvm_cpuid()).
 * A guest that ran on hardware's CPUID directly would see the host, and the VMM
 * could not migrate it or hide features.
 *
 * - Without KVM_SET_CPUID2 the table is empty, and real KVM returns all zeros for
 *   every leaf (no entry, no "out of range" fallback since there is no leaf 0).
 * - With the table from KVM_GET_SUPPORTED_CPUID the guest sees those values: a
 *   vendor, max leaf >= 1, a nonzero family. KVM does not add the "hypervisor" bit
 *   (leaf 1 ECX[31]) to what it supports: a VMM sets it (or not) itself.
 * - An arbitrary table comes back exactly, vendor string included. Two bits of leaf
 *   1 are not taken from the table but follow the vCPU state (cpuid.c
 *   kvm_update_cpuid_runtime()): EDX[9] "APIC" = IA32_APIC_BASE enabled (it is at
 *   reset) and ECX[27] "OSXSAVE" = CR4.OSXSAVE (clear here); the custom table
 *   already holds those values.
 *
 * Every CPUID must complete in the kernel: vcpu_run_ucall() fails the test on any
 * exit that is not a ucall.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "kselftest_harness.h"
#include "vm.h"
#include "x86.h"

/* For each leaf: CPUID, then report EAX, EBX, EDX, ECX in arg0..arg3. */
#define CPUID_LEAF(leaf)							\
	"mov $" #leaf ", %eax\n\t"						\
	"xor %ecx, %ecx\n\t"							\
	"cpuid\n\t"								\
	"mov %eax, %edi\n\t"							\
	"mov %ebx, %esi\n\t"							\
	GUEST_SYNC

GUEST_ASM(cpuid_guest, 64,
	CPUID_LEAF(0)
	CPUID_LEAF(1)
	CPUID_LEAF(0x80000000)
	CPUID_LEAF(0x80000001)
	GUEST_DONE);

static const uint32_t leaves[] = { 0, 1, 0x80000000, 0x80000001 };

struct regs4 {
	uint32_t eax, ebx, ecx, edx;
};

/* Run the guest and collect what it saw for each of leaves[]. */
static void run_cpuid(struct __test_metadata *_metadata, struct vcpu *vcpu,
		      struct regs4 *out)
{
	struct ucall uc;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(leaves); i++) {
		ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
		out[i].eax = uc.args[0];
		out[i].ebx = uc.args[1];
		out[i].edx = uc.args[2];
		out[i].ecx = uc.args[3];
		TH_LOG("leaf %#x: %08x %08x %08x %08x", leaves[i], out[i].eax,
		       out[i].ebx, out[i].ecx, out[i].edx);
	}
	ASSERT_EQ(UCALL_DONE, vcpu_run_ucall(vcpu, &uc));
}

static struct kvm_cpuid_entry2 *find_entry(struct kvm_cpuid2 *cpuid, uint32_t leaf)
{
	uint32_t i;

	for (i = 0; i < cpuid->nent; i++)
		if (cpuid->entries[i].function == leaf && cpuid->entries[i].index == 0)
			return &cpuid->entries[i];
	return NULL;
}

TEST(no_set_cpuid)
{
	struct regs4 r[ARRAY_SIZE(leaves)];
	struct vcpu *vcpu;
	unsigned int i;

	TEST_REQUIRE_KVM();
	vcpu = vm_create_guest(MODE_LONG64, GUEST_CODE(cpuid_guest));
	run_cpuid(_metadata, vcpu, r);
	for (i = 0; i < ARRAY_SIZE(leaves); i++) {
		EXPECT_EQ(0, r[i].eax);
		EXPECT_EQ(0, r[i].ebx);
		EXPECT_EQ(0, r[i].ecx);
		EXPECT_EQ(0, r[i].edx);
	}
	vm_free(vcpu->vm);
}

/* Leaf 1 EAX: family in bits 11:8, extended family in 27:20 when family is 0xf. */
static uint32_t cpuid_family(uint32_t eax)
{
	uint32_t family = (eax >> 8) & 0xf;

	return family == 0xf ? family + ((eax >> 20) & 0xff) : family;
}

TEST(supported_cpuid)
{
	struct regs4 r[ARRAY_SIZE(leaves)];
	struct kvm_cpuid_entry2 *e;
	struct kvm_cpuid2 *cpuid;
	struct vcpu *vcpu;

	TEST_REQUIRE_KVM();
	cpuid = kvm_get_supported_cpuid();
	e = find_entry(cpuid, 1);
	ASSERT_NE(NULL, e);
	EXPECT_EQ(0, e->ecx & (1u << 31)) TH_LOG("KVM offers the hypervisor bit");

	vcpu = vm_create_guest(MODE_LONG64, GUEST_CODE(cpuid_guest));
	vcpu_set_cpuid(vcpu, cpuid);
	run_cpuid(_metadata, vcpu, r);

	e = find_entry(cpuid, 0);
	ASSERT_NE(NULL, e);
	EXPECT_GE(r[0].eax, 1);				/* max basic leaf */
	EXPECT_EQ(e->eax, r[0].eax);
	EXPECT_EQ(e->ebx, r[0].ebx);			/* vendor string */
	EXPECT_EQ(e->edx, r[0].edx);
	EXPECT_EQ(e->ecx, r[0].ecx);
	EXPECT_NE(0, cpuid_family(r[1].eax));
	EXPECT_EQ(find_entry(cpuid, 1)->eax, r[1].eax);
	EXPECT_EQ(0, r[1].ecx & (1u << 31));		/* no hypervisor bit */
	EXPECT_GE(r[2].eax, 0x80000001);
	EXPECT_NE(0, r[3].edx & (1u << 29));		/* long mode: we run in it */

	free(cpuid);
	vm_free(vcpu->vm);
}

/* The hypervisor bit is whatever userspace puts in the table. */
TEST(hypervisor_bit_from_userspace)
{
	struct regs4 r[ARRAY_SIZE(leaves)];
	struct kvm_cpuid2 *cpuid;
	struct vcpu *vcpu;

	TEST_REQUIRE_KVM();
	cpuid = kvm_get_supported_cpuid();
	ASSERT_NE(NULL, find_entry(cpuid, 1));
	find_entry(cpuid, 1)->ecx |= 1u << 31;

	vcpu = vm_create_guest(MODE_LONG64, GUEST_CODE(cpuid_guest));
	vcpu_set_cpuid(vcpu, cpuid);
	run_cpuid(_metadata, vcpu, r);
	EXPECT_NE(0, r[1].ecx & (1u << 31));
	free(cpuid);
	vm_free(vcpu->vm);
}

/* A made-up CPU: the guest sees exactly this table. */
static const struct kvm_cpuid_entry2 custom[] = {
	/* "MiniKVMTest!" in EBX, EDX, ECX order, like "GenuineIntel". */
	{ .function = 0, .eax = 1, .ebx = 0x696e694d, .edx = 0x544d564b, .ecx = 0x21747365 },
	/* Family 6, model 0x2a, stepping 7; EDX: FPU, TSC, MSR, PAE, APIC, CX8. */
	{ .function = 1, .eax = 0x000206a7, .ebx = 0x00010800,
	  .ecx = 1u << 31, .edx = (1u << 0) | (1u << 4) | (1u << 5) | (1u << 6) |
				  (1u << 8) | (1u << 9) },
	{ .function = 0x80000000, .eax = 0x80000001 },
	/* LM, NX, SYSCALL. */
	{ .function = 0x80000001, .edx = (1u << 29) | (1u << 20) | (1u << 11) },
};

TEST(custom_table)
{
	struct {
		struct kvm_cpuid2 hdr;
		struct kvm_cpuid_entry2 e[ARRAY_SIZE(custom)];
	} cpuid = { .hdr.nent = ARRAY_SIZE(custom) };
	struct regs4 r[ARRAY_SIZE(leaves)];
	struct vcpu *vcpu;
	unsigned int i;

	TEST_REQUIRE_KVM();
	memcpy(cpuid.e, custom, sizeof(custom));
	vcpu = vm_create_guest(MODE_LONG64, GUEST_CODE(cpuid_guest));
	vcpu_set_cpuid(vcpu, &cpuid.hdr);
	run_cpuid(_metadata, vcpu, r);

	for (i = 0; i < ARRAY_SIZE(leaves); i++) {
		EXPECT_EQ(custom[i].eax, r[i].eax) TH_LOG("leaf %#x", leaves[i]);
		EXPECT_EQ(custom[i].ebx, r[i].ebx) TH_LOG("leaf %#x", leaves[i]);
		EXPECT_EQ(custom[i].ecx, r[i].ecx) TH_LOG("leaf %#x", leaves[i]);
		EXPECT_EQ(custom[i].edx, r[i].edx) TH_LOG("leaf %#x", leaves[i]);
	}
	vm_free(vcpu->vm);
}

/*
 * KVM_GET_CPUID2 returns the table that was set; an array smaller than the table is
 * E2BIG. (api.rst says nent is updated to the table size; KVM 6.1 computes that but
 * copies the header back only on success, where it does not update it: userspace
 * cannot rely on nent either way, so it is not checked here.)
 */
TEST(get_cpuid2)
{
	struct {
		struct kvm_cpuid2 hdr;
		struct kvm_cpuid_entry2 e[8];
	} set = { .hdr.nent = ARRAY_SIZE(custom) }, get;
	struct vcpu *vcpu;
	unsigned int i;

	TEST_REQUIRE_KVM();
	memcpy(set.e, custom, sizeof(custom));
	vcpu = vm_create_guest(MODE_LONG64, GUEST_CODE(cpuid_guest));
	vcpu_set_cpuid(vcpu, &set.hdr);

	memset(&get, 0, sizeof(get));
	get.hdr.nent = ARRAY_SIZE(custom) - 1;
	errno = 0;
	EXPECT_EQ(-1, ioctl(vcpu->fd, KVM_GET_CPUID2, &get));
	EXPECT_EQ(E2BIG, errno);

	get.hdr.nent = ARRAY_SIZE(get.e);
	ASSERT_EQ(0, ioctl(vcpu->fd, KVM_GET_CPUID2, &get));
	TH_LOG("nent after KVM_GET_CPUID2: %u", get.hdr.nent);
	for (i = 0; i < ARRAY_SIZE(custom); i++) {
		EXPECT_EQ(custom[i].function, get.e[i].function);
		EXPECT_EQ(custom[i].eax, get.e[i].eax);
		EXPECT_EQ(custom[i].ebx, get.e[i].ebx);
		EXPECT_EQ(custom[i].ecx, get.e[i].ecx);
		EXPECT_EQ(custom[i].edx, get.e[i].edx);
	}
	vm_free(vcpu->vm);
}

TEST_HARNESS_MAIN
