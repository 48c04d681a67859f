// SPDX-License-Identifier: GPL-2.0-only
/*
 * mmio_test: guest accesses to guest physical addresses without RAM behind them.
 *
 * A load or store to a GPA that no memslot covers cannot be completed by the
 * hardware: the two-dimensional page walk (EPT/NPT) finds nothing and exits. KVM then
 * decodes the instruction and hands the access to userspace as KVM_EXIT_MMIO with
 * run->mmio = { phys_addr, data[8], len, is_write } (api.rst, "KVM_EXIT_MMIO"). For
 * a store the data is filled in; for a load the host writes data[] and the next
 * KVM_RUN completes the instruction with it.
 *
 * The cases are the MOV forms kernels use for MMIO (readb/w/l/q and writeb/w/l/q,
 * MOVZX from the compiler, stores of immediates) plus a few decoder corner cases
 * (displacements, AH, R9). Each is a one-instruction guest in long mode with
 * RBX = the MMIO address; the guest reports RAX afterwards.
 *
 * A memslot with KVM_MEM_READONLY is ROM: loads are served from memory without any
 * exit, stores exit as MMIO writes and leave the memory alone.
 */
#include <string.h>

#include "kselftest_harness.h"
#include "vm.h"
#include "x86.h"

#define MMIO_GPA	0xc0000000ULL	/* no memslot here; mapped by the guest's tables */
#define RO_GPA		0x40000000ULL	/* the read-only slot */
#define RAX_BEFORE	0x1122334455667788ULL
#define R9_BEFORE	0xa5a5a5a55a5a5a5aULL

/* One MMIO instruction, then report RAX in arg3 (RCX) and RBX in arg2 (RDX). */
#define MMIO_GUEST(name, insn)							\
	GUEST_ASM(name, 64, insn "\n\t"						\
		  "mov %rax, %rcx\n\t"						\
		  "mov %rbx, %rdx\n\t"						\
		  GUEST_SYNC							\
		  GUEST_DONE)

MMIO_GUEST(load8, "mov (%rbx), %al");
MMIO_GUEST(load16, "mov (%rbx), %ax");
MMIO_GUEST(load32, "mov (%rbx), %eax");
MMIO_GUEST(load64, "mov (%rbx), %rax");
MMIO_GUEST(load32_disp, "mov 0x40(%rbx), %eax");
MMIO_GUEST(movzbl, "movzbl (%rbx), %eax");
MMIO_GUEST(movzwl, "movzwl (%rbx), %eax");
MMIO_GUEST(movsbl, "movsbl (%rbx), %eax");
MMIO_GUEST(store8, "mov %al, (%rbx)");
MMIO_GUEST(store8_ah, "mov %ah, 3(%rbx)");
MMIO_GUEST(store16, "mov %ax, (%rbx)");
MMIO_GUEST(store32, "mov %eax, (%rbx)");
MMIO_GUEST(store64, "mov %rax, (%rbx)");
MMIO_GUEST(store64_r9, "mov %r9, 0x1008(%rbx)");
MMIO_GUEST(store8_imm, "movb $0x5a, 1(%rbx)");
MMIO_GUEST(store16_imm, "movw $0xbeef, 2(%rbx)");
MMIO_GUEST(store32_imm, "movl $0x12345678, 8(%rbx)");
MMIO_GUEST(store64_imm, "movq $-2, (%rbx)");

FIXTURE(mmio) {
	struct vcpu *vcpu;
};

FIXTURE_VARIANT(mmio) {
	struct guest_code code;
	uint64_t offset;	/* phys_addr - MMIO_GPA */
	uint32_t len;
	uint8_t is_write;
	uint64_t data;		/* store: expected data; load: what the host returns */
	uint64_t rax_after;
};

#define LOAD(name, off, l, value, after)					\
	FIXTURE_VARIANT_ADD(mmio, name) {					\
		.code = GUEST_CODE_INIT(name), .offset = off, .len = l,		\
		.is_write = 0, .data = value, .rax_after = after,		\
	}

#define STORE(name, off, l, value)						\
	FIXTURE_VARIANT_ADD(mmio, name) {					\
		.code = GUEST_CODE_INIT(name), .offset = off, .len = l,		\
		.is_write = 1, .data = value, .rax_after = RAX_BEFORE,		\
	}

/*
 * Loads into AL/AX keep the rest of RAX; 32-bit destinations zero-extend (SDM Vol.1
 * 3.4.1.1); MOVZX zero-extends and MOVSX sign-extends the loaded value.
 */
LOAD(load8, 0, 1, 0xab, 0x11223344556677abULL);
LOAD(load16, 0, 2, 0xcdef, 0x112233445566cdefULL);
LOAD(load32, 0, 4, 0x89abcdef, 0x89abcdefULL);
LOAD(load64, 0, 8, 0x0123456789abcdefULL, 0x0123456789abcdefULL);
LOAD(load32_disp, 0x40, 4, 0x600dcafe, 0x600dcafeULL);
LOAD(movzbl, 0, 1, 0xf0, 0xf0);
LOAD(movzwl, 0, 2, 0x8001, 0x8001);
LOAD(movsbl, 0, 1, 0x80, 0xffffff80ULL);
STORE(store8, 0, 1, 0x88);
STORE(store8_ah, 3, 1, 0x77);
STORE(store16, 0, 2, 0x7788);
STORE(store32, 0, 4, 0x55667788);
STORE(store64, 0, 8, RAX_BEFORE);
STORE(store64_r9, 0x1008, 8, R9_BEFORE);
STORE(store8_imm, 1, 1, 0x5a);
STORE(store16_imm, 2, 2, 0xbeef);
STORE(store32_imm, 8, 4, 0x12345678);
STORE(store64_imm, 0, 8, 0xfffffffffffffffeULL);	/* imm32 sign-extended */

FIXTURE_SETUP(mmio)
{
	struct kvm_regs regs;

	self->vcpu = NULL;
	TEST_REQUIRE_KVM();
	self->vcpu = vm_create_guest(MODE_LONG64, variant->code);
	vcpu_get_regs(self->vcpu, &regs);
	regs.rax = RAX_BEFORE;
	regs.rbx = MMIO_GPA;
	regs.r9 = R9_BEFORE;
	vcpu_set_regs(self->vcpu, &regs);
}

FIXTURE_TEARDOWN(mmio)
{
	if (self->vcpu)
		vm_free(self->vcpu->vm);
}

TEST_F(mmio, access)
{
	struct vcpu *vcpu = self->vcpu;
	struct kvm_run *run;
	struct ucall uc;
	uint64_t data = 0;

	if (!vcpu)		/* skipped in FIXTURE_SETUP */
		return;
	run = vcpu->run;

	vcpu_expect_exit(vcpu, KVM_EXIT_MMIO);
	EXPECT_EQ(MMIO_GPA + variant->offset, run->mmio.phys_addr);
	EXPECT_EQ(variant->len, run->mmio.len);
	EXPECT_EQ(variant->is_write, run->mmio.is_write);
	if (variant->is_write) {
		memcpy(&data, run->mmio.data, variant->len);
		EXPECT_EQ(variant->data, data);
	} else {
		memcpy(run->mmio.data, &variant->data, variant->len);
	}

	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	EXPECT_EQ(variant->rax_after, uc.args[3]);
	EXPECT_EQ(MMIO_GPA, uc.args[2]);		/* RBX unchanged */
	ASSERT_EQ(UCALL_DONE, vcpu_run_ucall(vcpu, &uc));
}

/* The same in 32-bit protected mode without paging: linear = physical. */
GUEST_ASM(prot32_mmio, 32,
	"mov (%ebx), %eax\n\t"
	"add $1, %eax\n\t"
	"mov %eax, 4(%ebx)\n\t"
	"mov %eax, %edi\n\t"
	GUEST_SYNC
	GUEST_DONE);

TEST(prot32_load_store)
{
	struct kvm_regs regs;
	struct vcpu *vcpu;
	struct kvm_run *run;
	struct ucall uc;
	uint32_t data;

	TEST_REQUIRE_KVM();
	vcpu = vm_create_guest(MODE_PROT32, GUEST_CODE(prot32_mmio));
	run = vcpu->run;
	vcpu_get_regs(vcpu, &regs);
	regs.rbx = MMIO_GPA;
	vcpu_set_regs(vcpu, &regs);

	vcpu_expect_exit(vcpu, KVM_EXIT_MMIO);
	EXPECT_EQ(MMIO_GPA, run->mmio.phys_addr);
	EXPECT_EQ(4, run->mmio.len);
	EXPECT_EQ(0, run->mmio.is_write);
	data = 0x7ffffffe;
	memcpy(run->mmio.data, &data, 4);

	vcpu_expect_exit(vcpu, KVM_EXIT_MMIO);
	EXPECT_EQ(MMIO_GPA + 4, run->mmio.phys_addr);
	EXPECT_EQ(4, run->mmio.len);
	EXPECT_EQ(1, run->mmio.is_write);
	memcpy(&data, run->mmio.data, 4);
	EXPECT_EQ(0x7fffffff, data);

	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	EXPECT_EQ(0x7fffffff, uc.args[0]);
	vm_free(vcpu->vm);
}

/* Several MMIO exits in a row, interleaved with normal memory: a small device loop. */
GUEST_ASM(mmio_loop, 64,
	"xor %edi, %edi\n\t"
	"mov $5, %ecx\n\t"
	"1: mov (%rbx), %eax\n\t"		/* read the "status register" */
	"add %eax, %edi\n\t"
	"mov %edi, 4(%rbx)\n\t"			/* write the running sum */
	"mov %edi, " GSTR(GUEST_DATA_GPA) "\n\t"
	"loop 1b\n\t"
	"mov " GSTR(GUEST_DATA_GPA) ", %esi\n\t"
	GUEST_SYNC
	GUEST_DONE);

TEST(loop)
{
	struct kvm_regs regs;
	struct vcpu *vcpu;
	struct kvm_run *run;
	struct ucall uc;
	uint32_t sum = 0, data;
	int i;

	TEST_REQUIRE_KVM();
	vcpu = vm_create_guest(MODE_LONG64, GUEST_CODE(mmio_loop));
	run = vcpu->run;
	vcpu_get_regs(vcpu, &regs);
	regs.rbx = MMIO_GPA;
	vcpu_set_regs(vcpu, &regs);

	for (i = 1; i <= 5; i++) {
		vcpu_expect_exit(vcpu, KVM_EXIT_MMIO);
		ASSERT_EQ(0, run->mmio.is_write);
		ASSERT_EQ(MMIO_GPA, run->mmio.phys_addr);
		data = i * 10;
		memcpy(run->mmio.data, &data, 4);
		sum += i * 10;

		vcpu_expect_exit(vcpu, KVM_EXIT_MMIO);
		ASSERT_EQ(1, run->mmio.is_write);
		ASSERT_EQ(MMIO_GPA + 4, run->mmio.phys_addr);
		memcpy(&data, run->mmio.data, 4);
		ASSERT_EQ(sum, data);
	}
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	EXPECT_EQ(150, uc.args[0]);
	EXPECT_EQ(150, uc.args[1]);
	vm_free(vcpu->vm);
}

/*
 * Read-only memory: load (no exit), store (MMIO exit, memory unchanged), load again.
 * Reports the first load in arg0 and the second in arg1.
 */
GUEST_ASM(rom_guest, 64,
	"mov (%rbx), %rdi\n\t"
	"movl $0xfeedface, 8(%rbx)\n\t"
	"mov 8(%rbx), %rsi\n\t"
	GUEST_SYNC
	GUEST_DONE);

TEST(readonly_slot)
{
	struct vcpu *vcpu;
	struct kvm_run *run;
	struct kvm_regs regs;
	struct ucall uc;
	uint64_t *rom;
	uint32_t data;

	TEST_REQUIRE_CAP(KVM_CAP_READONLY_MEM);
	vcpu = vm_create_guest(MODE_LONG64, GUEST_CODE(rom_guest));
	run = vcpu->run;
	rom = vm_add_memory(vcpu->vm, 1, RO_GPA, 2 * PAGE_SIZE, KVM_MEM_READONLY);
	rom[0] = 0x0123456789abcdefULL;
	rom[1] = 0x1111111122222222ULL;
	vcpu_get_regs(vcpu, &regs);
	regs.rbx = RO_GPA;
	vcpu_set_regs(vcpu, &regs);

	vcpu_expect_exit(vcpu, KVM_EXIT_MMIO);
	EXPECT_EQ(RO_GPA + 8, run->mmio.phys_addr);
	EXPECT_EQ(4, run->mmio.len);
	EXPECT_EQ(1, run->mmio.is_write);
	memcpy(&data, run->mmio.data, 4);
	EXPECT_EQ(0xfeedface, data);

	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	EXPECT_EQ(0x0123456789abcdefULL, uc.args[0]);
	EXPECT_EQ(0x1111111122222222ULL, uc.args[1]);
	EXPECT_EQ(0x1111111122222222ULL, rom[1]);
	vm_free(vcpu->vm);
}

/* KVM_MEM_READONLY is refused where the capability is absent. */
TEST(readonly_flag_without_cap)
{
	struct vm *vm;
	void *mem;

	TEST_REQUIRE_KVM();
	if (kvm_check_cap(KVM_CAP_READONLY_MEM) > 0)
		SKIP(return, "KVM_CAP_READONLY_MEM supported");
	vm = vm_create();
	mem = vm_add_memory(vm, 0, 0, PAGE_SIZE, 0);
	EXPECT_EQ(-1, __vm_set_memslot(vm, 1, KVM_MEM_READONLY, RO_GPA, PAGE_SIZE, mem));
	EXPECT_EQ(EINVAL, errno);
	vm_free(vm);
}

TEST_HARNESS_MAIN
