// SPDX-License-Identifier: GPL-2.0-only
/*
 * modes_test: a vCPU in each x86 operating mode, and the architectural reset state.
 *
 * For real, protected (no paging), 32-bit paged and long mode the library writes the
 * tables and sets the registers (KVM_SET_SREGS/KVM_SET_REGS); a small guest program
 * then computes something with the stack, memory and a subroutine call, reads its
 * control registers and reports through the ucall port. In the paged modes the host
 * adds one non-identity mapping (virtual 2 GiB -> physical 0) so the guest can prove
 * that paging really is on: without it that access would leave the slot as MMIO.
 *
 * reset_state: what KVM_GET_SREGS/KVM_GET_REGS return on a fresh vCPU, checked
 * field by field against real KVM. Most of it is the processor's reset state (SDM
 * Vol.3 10.1.1, APM Vol.2 14.1.3); some attribute bits are KVM's choice per vendor
 * and differ between kvm_intel and kvm_amd (see reset_state below).
 */
#include <string.h>

#include "kselftest_harness.h"
#include "vm.h"
#include "x86.h"

/* Virtual address of the alias the paged tests add: 2 GiB maps physical 0. */
#define ALIAS_VA	0x80000000UL

/*
 * Real mode: sum 1..100 in a subroutine, store it with DS = 0, copy it through ES to
 * segment 0x2000 (linear GUEST_FREE_GPA: base = selector * 16) and report what
 * reads back from there, plus CR0 (PE must be clear).
 */
GUEST_ASM(guest_real, 16,
	"call 1f\n\t"
	"mov %eax, " GSTR(GUEST_DATA_GPA) "\n\t"
	"mov $" GSTR(GUEST_FREE_GPA >> 4) ", %bx\n\t"
	"mov %bx, %es\n\t"
	"mov " GSTR(GUEST_DATA_GPA) ", %eax\n\t"
	"mov %eax, %es:0\n\t"
	"mov " GSTR(GUEST_DATA_GPA) ", %edx\n\t"	/* DS:0xf000 still there */
	"xor %edi, %edi\n\t"
	"mov %es:0, %edi\n\t"
	"mov %cr0, %esi\n\t"
	GUEST_SYNC
	GUEST_DONE
	"1: xor %eax, %eax\n\t"
	"mov $100, %ecx\n\t"
	"2: add %ecx, %eax\n\t"
	"loop 2b\n\t"
	"ret\n\t");

/* Protected mode, no paging: 10! through a subroutine, stored above 64 KiB. */
GUEST_ASM(guest_prot32, 32,
	"call 1f\n\t"
	"mov %eax, " GSTR(GUEST_FREE_GPA) "\n\t"
	"mov " GSTR(GUEST_FREE_GPA) ", %edi\n\t"
	"mov %cr0, %esi\n\t"
	"mov %cr4, %edx\n\t"
	"xor %ecx, %ecx\n\t"
	GUEST_SYNC
	GUEST_DONE
	"1: mov $1, %eax\n\t"
	"mov $10, %ecx\n\t"
	"2: imul %ecx, %eax\n\t"
	"loop 2b\n\t"
	"ret\n\t");

/* 32-bit paging: the same, plus a read through the alias mapping. */
GUEST_ASM(guest_paged32, 32,
	"call 1f\n\t"
	"mov %eax, " GSTR(GUEST_FREE_GPA) "\n\t"
	"mov " GSTR(GUEST_FREE_GPA) ", %edi\n\t"
	"mov %cr0, %esi\n\t"
	"mov %cr4, %edx\n\t"
	"mov " GSTR(ALIAS_VA + GUEST_FREE_GPA) ", %ecx\n\t"
	GUEST_SYNC
	GUEST_DONE
	"1: mov $1, %eax\n\t"
	"mov $10, %ecx\n\t"
	"2: imul %ecx, %eax\n\t"
	"loop 2b\n\t"
	"ret\n\t");

/*
 * Long mode: a value that needs 64 bits, EFER read with RDMSR (LMA must be set) and
 * a read through the alias. The alias address is loaded into a register: as a
 * 32-bit displacement it would be sign-extended to 0xffffffff8xxxxxxx.
 */
GUEST_ASM(guest_long64, 64,
	"call 1f\n\t"
	"mov %rax, " GSTR(GUEST_FREE_GPA) "\n\t"
	"mov " GSTR(GUEST_FREE_GPA) ", %rdi\n\t"
	"mov %cr0, %rsi\n\t"
	"mov $" GSTR(MSR_EFER) ", %ecx\n\t"
	"rdmsr\n\t"
	"shl $32, %rdx\n\t"
	"or %rax, %rdx\n\t"
	"mov $" GSTR(ALIAS_VA + GUEST_FREE_GPA) ", %ebx\n\t"
	"mov (%rbx), %rcx\n\t"
	GUEST_SYNC
	GUEST_DONE
	"1: movabs $0x123456789, %rax\n\t"
	"shl $4, %rax\n\t"
	"inc %rax\n\t"
	"ret\n\t");

/* The alias: a 4 MiB page in the 32-bit PD, a 2 MiB page in the third 1 GiB PD. */
static void add_alias(struct vm *vm)
{
	((uint32_t *)gpa_to_hva(vm, GUEST_PD32_GPA))[ALIAS_VA >> 22] =
		PTE_P | PTE_RW | PTE_PS;
	((uint64_t *)gpa_to_hva(vm, GUEST_PD64_GPA))[ALIAS_VA >> 21] =
		PTE_P | PTE_RW | PTE_PS;
}

/* Run a guest to its one SYNC; check the computed value and what mode it was in. */
static void run_mode(struct __test_metadata *_metadata, enum guest_mode mode,
		     struct guest_code code, struct ucall *uc)
{
	struct vcpu *vcpu = vm_create_guest(mode, code);
	struct vm *vm = vcpu->vm;

	add_alias(vm);

	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, uc));
	ASSERT_EQ(UCALL_DONE, vcpu_run_ucall(vcpu, &(struct ucall){ 0 }));
	TH_LOG("%s: value %#llx cr0 %#llx arg2 %#llx arg3 %#llx", guest_mode_name(mode),
	       (unsigned long long)uc->args[0], (unsigned long long)uc->args[1],
	       (unsigned long long)uc->args[2], (unsigned long long)uc->args[3]);
	vm_free(vm);
}

TEST(real_mode)
{
	struct ucall uc;

	TEST_REQUIRE_KVM();
	run_mode(_metadata, MODE_REAL, GUEST_CODE(guest_real), &uc);
	EXPECT_EQ(5050, uc.args[0]);
	EXPECT_EQ(5050, uc.args[2]);
	EXPECT_EQ(0, uc.args[1] & X86_CR0_PE);
}

TEST(protected_mode)
{
	struct ucall uc;

	TEST_REQUIRE_KVM();
	run_mode(_metadata, MODE_PROT32, GUEST_CODE(guest_prot32), &uc);
	EXPECT_EQ(3628800, uc.args[0]);
	EXPECT_EQ(X86_CR0_PE, uc.args[1] & (X86_CR0_PE | X86_CR0_PG));
}

TEST(paged32_mode)
{
	struct ucall uc;

	TEST_REQUIRE_KVM();
	run_mode(_metadata, MODE_PAGED32, GUEST_CODE(guest_paged32), &uc);
	EXPECT_EQ(3628800, uc.args[0]);
	EXPECT_EQ(X86_CR0_PE | X86_CR0_PG, uc.args[1] & (X86_CR0_PE | X86_CR0_PG));
	EXPECT_EQ(X86_CR4_PSE, uc.args[2] & (X86_CR4_PSE | X86_CR4_PAE));
	EXPECT_EQ(3628800, uc.args[3]);		/* read through the alias */
}

TEST(long_mode)
{
	struct ucall uc;

	TEST_REQUIRE_KVM();
	run_mode(_metadata, MODE_LONG64, GUEST_CODE(guest_long64), &uc);
	EXPECT_EQ(0x1234567891ULL, uc.args[0]);
	EXPECT_EQ(X86_CR0_PE | X86_CR0_PG, uc.args[1] & (X86_CR0_PE | X86_CR0_PG));
	EXPECT_EQ(EFER_LME | EFER_LMA, uc.args[2] & (EFER_LME | EFER_LMA));
	EXPECT_EQ(0x1234567891ULL, uc.args[3]);
}

/* After the run, KVM_GET_SREGS reports the mode the guest was running in. */
TEST(long_mode_sregs_after_run)
{
	struct kvm_sregs sregs;
	struct vcpu *vcpu;

	TEST_REQUIRE_KVM();
	vcpu = vm_create_guest(MODE_LONG64, GUEST_CODE(guest_long64));
	add_alias(vcpu->vm);
	vcpu_run_until_done(vcpu);
	vcpu_get_sregs(vcpu, &sregs);
	EXPECT_EQ(EFER_LME | EFER_LMA, sregs.efer & (EFER_LME | EFER_LMA));
	EXPECT_EQ(GUEST_PML4_GPA, sregs.cr3);
	EXPECT_EQ(1, sregs.cs.l);
	EXPECT_EQ(0, sregs.cs.db);
	EXPECT_EQ(SEL_CODE64, sregs.cs.selector);
	EXPECT_EQ(SEL_TSS, sregs.tr.selector);
	EXPECT_EQ(GUEST_GDT_GPA, sregs.gdt.base);
	vm_free(vcpu->vm);
}

static void expect_seg(struct __test_metadata *_metadata, const char *name,
		       const struct kvm_segment *s, uint16_t selector, uint64_t base,
		       uint32_t limit, uint8_t type, uint8_t is_code_data)
{
	TH_LOG("%s: sel %#x base %#llx limit %#x type %u s %u dpl %u p %u db %u l %u "
	       "g %u avl %u unusable %u", name, s->selector, (unsigned long long)s->base, s->limit, s->type, s->s,
	       s->dpl, s->present, s->db, s->l, s->g, s->avl, s->unusable);
	EXPECT_EQ(selector, s->selector);
	EXPECT_EQ(base, s->base);
	EXPECT_EQ(limit, s->limit);
	EXPECT_EQ(type, s->type);
	EXPECT_EQ(is_code_data, s->s);
	EXPECT_EQ(1, s->present);
	EXPECT_EQ(0, s->dpl);
	EXPECT_EQ(0, s->db);
	EXPECT_EQ(0, s->l);
	EXPECT_EQ(0, s->g);
	EXPECT_EQ(0, s->unusable);
}

/*
 * A fresh vCPU is at the reset vector: CS.base 0xffff0000 + IP 0xfff0 = 0xfffffff0,
 * CR0 = CD|NW|ET (0x60000010), RFLAGS = 2, RDX = processor signature. KVM reports
 * 0x600 in RDX until userspace sets a CPUID with a leaf 1 (x86.c kvm_vcpu_reset()).
 *
 * Where the vendors differ: the reset attributes are written by kvm_intel
 * (vmx_vcpu_reset(): access rights 0x93, CS 0x9b, TR 0x8b) and by kvm_amd
 * (init_vmcb(): code and data segments without the accessed bit, TR a busy 16-bit TSS;
 * svm_get_segment() then sets "accessed" on DS/ES/FS/GS and the busy bit on TR, but
 * not on CS or SS). So, as userspace sees it through KVM_GET_SREGS:
 *
 *                 kvm_intel   kvm_amd
 *   CS type       0xb         0xa
 *   SS type       0x3         0x2
 *   TR type       0xb         0x3
 */
TEST(reset_state)
{
	bool svm = host_virt() == HOST_VIRT_SVM;
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	struct vcpu *vcpu;
	struct vm *vm;
	unsigned int i;

	TEST_REQUIRE_KVM();
	vm = vm_create();
	vcpu = vcpu_add(vm, 0);
	vcpu_get_regs(vcpu, &regs);
	vcpu_get_sregs(vcpu, &sregs);

	EXPECT_EQ(0xfff0, regs.rip);
	EXPECT_EQ(X86_RFLAGS_FIXED, regs.rflags);
	EXPECT_EQ(0x600, regs.rdx);
	EXPECT_EQ(0, regs.rax | regs.rbx | regs.rcx | regs.rsi | regs.rdi |
		     regs.rsp | regs.rbp | regs.r8 | regs.r9 | regs.r10 | regs.r11 |
		     regs.r12 | regs.r13 | regs.r14 | regs.r15);

	expect_seg(_metadata, "cs", &sregs.cs, 0xf000, 0xffff0000, 0xffff,
		   svm ? SEG_TYPE_CODE_XR : SEG_TYPE_CODE_XRA, 1);
	expect_seg(_metadata, "ds", &sregs.ds, 0, 0, 0xffff, SEG_TYPE_DATA_RWA, 1);
	expect_seg(_metadata, "es", &sregs.es, 0, 0, 0xffff, SEG_TYPE_DATA_RWA, 1);
	expect_seg(_metadata, "fs", &sregs.fs, 0, 0, 0xffff, SEG_TYPE_DATA_RWA, 1);
	expect_seg(_metadata, "gs", &sregs.gs, 0, 0, 0xffff, SEG_TYPE_DATA_RWA, 1);
	expect_seg(_metadata, "ss", &sregs.ss, 0, 0, 0xffff,
		   svm ? SEG_TYPE_DATA_RW : SEG_TYPE_DATA_RWA, 1);
	expect_seg(_metadata, "tr", &sregs.tr, 0, 0, 0xffff,
		   svm ? SEG_TYPE_TSS16_BUSY : SEG_TYPE_TSS_BUSY, 0);
	expect_seg(_metadata, "ldt", &sregs.ldt, 0, 0, 0xffff, SEG_TYPE_LDT, 0);

	EXPECT_EQ(0, sregs.gdt.base);
	EXPECT_EQ(0xffff, sregs.gdt.limit);
	EXPECT_EQ(0, sregs.idt.base);
	EXPECT_EQ(0xffff, sregs.idt.limit);
	EXPECT_EQ(X86_CR0_CD | X86_CR0_NW | X86_CR0_ET, sregs.cr0);
	EXPECT_EQ(0, sregs.cr2);
	EXPECT_EQ(0, sregs.cr3);
	EXPECT_EQ(0, sregs.cr4);
	EXPECT_EQ(0, sregs.cr8);
	EXPECT_EQ(0, sregs.efer);
	/*
	 * IA32_APIC_BASE at reset: base 0xfee00000, bit 11 "enabled", bit 8 "BSP"
	 * (vCPU 0 is the bootstrap processor). KVM reports this even without an
	 * in-kernel local APIC.
	 */
	EXPECT_EQ(0xfee00900, sregs.apic_base);
	for (i = 0; i < ARRAY_SIZE(sregs.interrupt_bitmap); i++)
		EXPECT_EQ(0, sregs.interrupt_bitmap[i]);

	vm_free(vm);
}

/* The reset state is per vCPU: a second vCPU starts at the reset vector too. */
TEST(reset_state_second_vcpu)
{
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct vm *vm;

	TEST_REQUIRE_KVM();
	vm = vm_create();
	vcpu_add(vm, 0);
	vcpu_get_regs(vcpu_add(vm, 1), &regs);
	vcpu_get_sregs(vm->vcpus[1], &sregs);
	EXPECT_EQ(0xfff0, regs.rip);
	EXPECT_EQ(0xffff0000, sregs.cs.base);
	EXPECT_EQ(X86_CR0_CD | X86_CR0_NW | X86_CR0_ET, sregs.cr0);
	EXPECT_EQ(0xfee00800, sregs.apic_base);		/* enabled, not the BSP */
	vm_free(vm);
}

TEST_HARNESS_MAIN
