// SPDX-License-Identifier: GPL-2.0-only
/*
 * io_test: port I/O exits (KVM_EXIT_IO).
 *
 * A guest IN or OUT that no in-kernel device claims exits to userspace with
 * run->io = { direction, size, port, count, data_offset }: the data of the access
 * is in the kvm_run mapping at data_offset, count elements of size bytes. For OUT
 * the host reads it there; for IN the host writes it there and the next KVM_RUN
 * completes the instruction, so the guest finds the value in AL/AX/EAX (api.rst,
 * "KVM_EXIT_IO").
 *
 * Each guest here is one I/O instruction followed by a ucall; the host sets up the
 * operands (RAX, RDX, RSI, RDI, RCX, RFLAGS.DF) with KVM_SET_REGS, so one tiny guest
 * per instruction form covers many cases. After the instruction the guest reports
 * RDI, RSI, RCX (in RDX) and RAX (in RCX).
 *
 * String I/O (INS/OUTS, with or without REP) may take several exits: real KVM emulates
 * REP OUTS one element per exit and batches REP INS up to the end of the page the
 * destination is in. Neither is architectural, so the string tests check what any
 * correct implementation gives: every exit has the right port, size and direction,
 * count >= 1, the elements arrive in order, and RSI/RDI/RCX end where the
 * instruction leaves them.
 */
#include <string.h>

#include "kselftest_harness.h"
#include "vm.h"
#include "x86.h"

/* One I/O instruction, then report: arg0 RDI, arg1 RSI, arg2 RCX, arg3 RAX. */
#define IO_GUEST(name, insn)							\
	GUEST_ASM(name, 64, insn "\n\t"						\
		  "mov %rcx, %rdx\n\t"						\
		  "mov %rax, %rcx\n\t"						\
		  GUEST_SYNC							\
		  GUEST_DONE)

IO_GUEST(out8_imm, "out %al, $0x10");
IO_GUEST(out16_imm, "out %ax, $0x12");
IO_GUEST(out32_imm, "out %eax, $0x14");
IO_GUEST(out8_dx, "out %al, %dx");
IO_GUEST(out16_dx, "out %ax, %dx");
IO_GUEST(out32_dx, "out %eax, %dx");
IO_GUEST(in8_imm, "in $0x60, %al");
IO_GUEST(in16_imm, "in $0x62, %ax");
IO_GUEST(in32_imm, "in $0x64, %eax");
IO_GUEST(in8_dx, "in %dx, %al");
IO_GUEST(in16_dx, "in %dx, %ax");
IO_GUEST(in32_dx, "in %dx, %eax");
IO_GUEST(outsb, "outsb");
IO_GUEST(rep_outsb, "rep outsb");
IO_GUEST(rep_outsw, "rep outsw");
IO_GUEST(rep_outsl, "rep outsl");
IO_GUEST(insb, "insb");
IO_GUEST(rep_insb, "rep insb");
IO_GUEST(rep_insw, "rep insw");
IO_GUEST(rep_insl, "rep insl");

/* What the guest's RAX holds before the instruction (IN must keep the upper bits). */
#define RAX_BEFORE	0x1122334455667788ULL

static struct vcpu *io_guest(struct guest_code code, uint64_t rax, uint64_t rdx,
			     uint64_t rsi, uint64_t rdi, uint64_t rcx, bool df)
{
	struct vcpu *vcpu = vm_create_guest(MODE_LONG64, code);
	struct kvm_regs regs;

	vcpu_get_regs(vcpu, &regs);
	regs.rax = rax;
	regs.rdx = rdx;
	regs.rsi = rsi;
	regs.rdi = rdi;
	regs.rcx = rcx;
	if (df)
		regs.rflags |= X86_RFLAGS_DF;
	vcpu_set_regs(vcpu, &regs);
	return vcpu;
}

/* ---------------------------------------------------------------- IN/OUT */

FIXTURE(inout) {
	struct vcpu *vcpu;
};

FIXTURE_VARIANT(inout) {
	struct guest_code code;
	uint8_t direction;	/* KVM_EXIT_IO_IN or KVM_EXIT_IO_OUT */
	uint8_t size;
	uint16_t port;
	uint64_t rax;		/* RAX before the instruction */
	uint32_t data;		/* OUT: expected data; IN: what the host supplies */
	uint64_t rax_after;	/* RAX after the instruction */
};

#define OUT_CASE(name, sz, p, value)						\
	FIXTURE_VARIANT_ADD(inout, name) {					\
		.code = GUEST_CODE_INIT(name), .direction = KVM_EXIT_IO_OUT,	\
		.size = sz, .port = p, .rax = value, .data = (uint32_t)value,	\
		.rax_after = value,						\
	}

/*
 * IN writes only the destination: AL and AX leave the rest of RAX alone, a 32-bit
 * destination zero-extends into RAX, like every 32-bit register write in 64-bit mode
 * (SDM Vol.1 3.4.1.1).
 */
#define IN_CASE(name, sz, p, value, after)					\
	FIXTURE_VARIANT_ADD(inout, name) {					\
		.code = GUEST_CODE_INIT(name), .direction = KVM_EXIT_IO_IN,	\
		.size = sz, .port = p, .rax = RAX_BEFORE, .data = value,	\
		.rax_after = after,						\
	}

/* For the DX forms the port comes from the variant (the host loads it into DX). */
OUT_CASE(out8_imm, 1, 0x10, 0x5a);
OUT_CASE(out16_imm, 2, 0x12, 0x1234);
OUT_CASE(out32_imm, 4, 0x14, 0xdeadbeef);
OUT_CASE(out8_dx, 1, 0xffff, 0xa5);
OUT_CASE(out16_dx, 2, 0x3f8, 0xbeef);
OUT_CASE(out32_dx, 4, 0xfffc, 0x89abcdef);
IN_CASE(in8_imm, 1, 0x60, 0xab, 0x11223344556677abULL);
IN_CASE(in16_imm, 2, 0x62, 0xcdef, 0x112233445566cdefULL);
IN_CASE(in32_imm, 4, 0x64, 0xcafef00d, 0xcafef00dULL);
IN_CASE(in8_dx, 1, 0xffff, 0x42, 0x1122334455667742ULL);
IN_CASE(in16_dx, 2, 0x1f0, 0x55aa, 0x11223344556655aaULL);
IN_CASE(in32_dx, 4, 0xcfc, 0x80001234, 0x80001234ULL);

FIXTURE_SETUP(inout)
{
	self->vcpu = NULL;
	TEST_REQUIRE_KVM();
	self->vcpu = io_guest(variant->code, variant->rax, variant->port, 0, 0, 0, false);
}

FIXTURE_TEARDOWN(inout)
{
	if (self->vcpu)
		vm_free(self->vcpu->vm);
}

TEST_F(inout, exit)
{
	struct vcpu *vcpu = self->vcpu;
	struct kvm_run *run;
	struct ucall uc;

	if (!vcpu)		/* skipped in FIXTURE_SETUP */
		return;
	run = vcpu->run;

	vcpu_expect_exit(vcpu, KVM_EXIT_IO);
	EXPECT_EQ(variant->direction, run->io.direction);
	EXPECT_EQ(variant->size, run->io.size);
	EXPECT_EQ(variant->port, run->io.port);
	EXPECT_EQ(1, run->io.count);
	/* The data lies inside the kvm_run mapping, past struct kvm_run itself. */
	ASSERT_GE(run->io.data_offset, sizeof(struct kvm_run));
	ASSERT_LE(run->io.data_offset + run->io.size, vcpu->vm->run_size);

	if (variant->direction == KVM_EXIT_IO_OUT) {
		uint32_t data = 0;

		memcpy(&data, vcpu_io_data(vcpu), variant->size);
		EXPECT_EQ(variant->data, data);
	} else {
		memcpy(vcpu_io_data(vcpu), &variant->data, variant->size);
	}

	/* The next KVM_RUN completes the instruction and the guest goes on. */
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	EXPECT_EQ(variant->rax_after, uc.args[3]);
	ASSERT_EQ(UCALL_DONE, vcpu_run_ucall(vcpu, &uc));
}

/* ---------------------------------------------------------------- string I/O */

/*
 * Run a string instruction of @size-byte elements on @port to completion. OUT: the
 * data of every exit is appended to @buf. IN: every exit is served the next bytes
 * of @buf. Returns the number of bytes transferred and leaves the ucall in @uc.
 */
static size_t run_string_io(struct __test_metadata *_metadata, struct vcpu *vcpu,
			    uint8_t direction, uint8_t size, uint16_t port,
			    uint8_t *buf, size_t buf_len, struct ucall *uc)
{
	struct kvm_run *run = vcpu->run;
	size_t done = 0, n;
	int exits = 0;

	for (;;) {
		vcpu_run(vcpu);
		if (vcpu_get_ucall(vcpu, uc) != UCALL_NONE)
			break;
		ASSERT_EQ(KVM_EXIT_IO, run->exit_reason);
		ASSERT_EQ(direction, run->io.direction);
		ASSERT_EQ(size, run->io.size);
		ASSERT_EQ(port, run->io.port);
		ASSERT_GE(run->io.count, 1);
		n = (size_t)run->io.count * size;
		ASSERT_LE(done + n, buf_len);
		ASSERT_LE(run->io.data_offset + n, vcpu->vm->run_size);
		if (direction == KVM_EXIT_IO_OUT)
			memcpy(buf + done, vcpu_io_data(vcpu), n);
		else
			memcpy(vcpu_io_data(vcpu), buf + done, n);
		done += n;
		exits++;
	}
	TH_LOG("%zu bytes in %d exits", done, exits);
	ASSERT_EQ(UCALL_SYNC, uc->cmd);
	return done;
}

static const char message[] = "Hello from the guest, 0123456789!";

/* REP OUTSB: the bytes at RSI arrive in order; RSI advances, RCX counts down to 0. */
TEST(rep_outsb)
{
	size_t len = sizeof(message) - 1;
	uint8_t got[64] = { 0 };
	struct vcpu *vcpu;
	struct ucall uc;

	TEST_REQUIRE_KVM();
	vcpu = io_guest(GUEST_CODE(rep_outsb), 0, 0x3f8, GUEST_DATA_GPA, 0, len, false);
	memcpy(gpa_to_hva(vcpu->vm, GUEST_DATA_GPA), message, len);

	ASSERT_EQ(len, run_string_io(_metadata, vcpu, KVM_EXIT_IO_OUT, 1, 0x3f8,
				     got, sizeof(got), &uc));
	EXPECT_EQ(0, memcmp(got, message, len));
	EXPECT_EQ(GUEST_DATA_GPA + len, uc.args[1]);	/* RSI */
	EXPECT_EQ(0, uc.args[2]);			/* RCX */
	vm_free(vcpu->vm);
}

/* REP OUTSW and OUTSL: elements of 2 and 4 bytes, port from DX (0xffff included). */
TEST(rep_outsw_outsl)
{
	static const struct { struct guest_code code; uint8_t size; uint16_t port; } c[] = {
		{ GUEST_CODE_INIT(rep_outsw), 2, 0xffff },
		{ GUEST_CODE_INIT(rep_outsl), 4, 0x1234 },
	};
	unsigned int i;

	TEST_REQUIRE_KVM();
	for (i = 0; i < ARRAY_SIZE(c); i++) {
		uint8_t got[64] = { 0 };
		struct vcpu *vcpu;
		struct ucall uc;

		vcpu = io_guest(c[i].code, 0, c[i].port, GUEST_DATA_GPA, 0, 8 / c[i].size,
				false);
		memcpy(gpa_to_hva(vcpu->vm, GUEST_DATA_GPA), message, 8);
		ASSERT_EQ(8, run_string_io(_metadata, vcpu, KVM_EXIT_IO_OUT, c[i].size,
					   c[i].port, got, sizeof(got), &uc));
		EXPECT_EQ(0, memcmp(got, message, 8));
		EXPECT_EQ(GUEST_DATA_GPA + 8, uc.args[1]);
		EXPECT_EQ(0, uc.args[2]);
		vm_free(vcpu->vm);
	}
}

/* OUTSB without REP: one byte, count 1, RCX untouched. */
TEST(outsb_single)
{
	struct vcpu *vcpu;
	struct ucall uc;

	TEST_REQUIRE_KVM();
	vcpu = io_guest(GUEST_CODE(outsb), 0, 0x80, GUEST_DATA_GPA + 3, 0, 77, false);
	memcpy(gpa_to_hva(vcpu->vm, GUEST_DATA_GPA), message, 8);

	vcpu_expect_exit(vcpu, KVM_EXIT_IO);
	EXPECT_EQ(KVM_EXIT_IO_OUT, vcpu->run->io.direction);
	EXPECT_EQ(1, vcpu->run->io.count);
	EXPECT_EQ(0x80, vcpu->run->io.port);
	EXPECT_EQ(message[3], *(uint8_t *)vcpu_io_data(vcpu));
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	EXPECT_EQ(GUEST_DATA_GPA + 4, uc.args[1]);
	EXPECT_EQ(77, uc.args[2]);
	vm_free(vcpu->vm);
}

/* REP OUTSB with RFLAGS.DF=1: RSI walks down, so the bytes come out reversed. */
TEST(rep_outsb_backwards)
{
	uint8_t got[16] = { 0 };
	struct vcpu *vcpu;
	struct ucall uc;
	int i;

	TEST_REQUIRE_KVM();
	vcpu = io_guest(GUEST_CODE(rep_outsb), 0, 0x3f8, GUEST_DATA_GPA + 7, 0, 8, true);
	memcpy(gpa_to_hva(vcpu->vm, GUEST_DATA_GPA), message, 8);

	ASSERT_EQ(8, run_string_io(_metadata, vcpu, KVM_EXIT_IO_OUT, 1, 0x3f8,
				   got, sizeof(got), &uc));
	for (i = 0; i < 8; i++)
		EXPECT_EQ(message[7 - i], got[i]);
	EXPECT_EQ(GUEST_DATA_GPA - 1, uc.args[1]);
	EXPECT_EQ(0, uc.args[2]);
	vm_free(vcpu->vm);
}

/* REP INSB/INSW/INSL: what the host supplies lands in guest memory at RDI, in order. */
TEST(rep_ins)
{
	static const struct { struct guest_code code; uint8_t size; uint16_t port; } c[] = {
		{ GUEST_CODE_INIT(rep_insb), 1, 0x60 },
		{ GUEST_CODE_INIT(rep_insw), 2, 0xffff },
		{ GUEST_CODE_INIT(rep_insl), 4, 0xcfc },
	};
	unsigned int i, j;

	TEST_REQUIRE_KVM();
	for (i = 0; i < ARRAY_SIZE(c); i++) {
		uint8_t data[48];
		struct vcpu *vcpu;
		struct ucall uc;
		uint8_t *mem;

		for (j = 0; j < sizeof(data); j++)
			data[j] = 3 * j + 1 + i;
		vcpu = io_guest(c[i].code, 0, c[i].port, 0, GUEST_FREE_GPA,
				sizeof(data) / c[i].size, false);
		mem = gpa_to_hva(vcpu->vm, GUEST_FREE_GPA);
		ASSERT_EQ(sizeof(data),
			  run_string_io(_metadata, vcpu, KVM_EXIT_IO_IN, c[i].size,
					c[i].port, data, sizeof(data), &uc));
		EXPECT_EQ(0, memcmp(mem, data, sizeof(data)));
		EXPECT_EQ(0, mem[sizeof(data)]);		/* nothing past the end */
		EXPECT_EQ(GUEST_FREE_GPA + sizeof(data), uc.args[0]);	/* RDI */
		EXPECT_EQ(0, uc.args[2]);				/* RCX */
		vm_free(vcpu->vm);
	}
}

/*
 * REP INSB across a page boundary: the destination spans two guest pages (KVM
 * splits the batch there). All bytes must still arrive, in order.
 */
TEST(rep_insb_page_crossing)
{
	uint64_t dst = GUEST_FREE_GPA + PAGE_SIZE - 5;
	uint8_t data[20];
	struct vcpu *vcpu;
	struct ucall uc;
	unsigned int j;

	TEST_REQUIRE_KVM();
	for (j = 0; j < sizeof(data); j++)
		data[j] = 0xc0 + j;
	vcpu = io_guest(GUEST_CODE(rep_insb), 0, 0x71, 0, dst, sizeof(data), false);
	ASSERT_EQ(sizeof(data), run_string_io(_metadata, vcpu, KVM_EXIT_IO_IN, 1, 0x71,
					      data, sizeof(data), &uc));
	EXPECT_EQ(0, memcmp(gpa_to_hva(vcpu->vm, dst), data, sizeof(data)));
	EXPECT_EQ(dst + sizeof(data), uc.args[0]);
	vm_free(vcpu->vm);
}

/* INSB without REP: exactly one byte, RCX untouched. */
TEST(insb_single)
{
	struct vcpu *vcpu;
	struct ucall uc;
	uint8_t *mem;

	TEST_REQUIRE_KVM();
	vcpu = io_guest(GUEST_CODE(insb), 0, 0x61, 0, GUEST_FREE_GPA, 5, false);
	mem = gpa_to_hva(vcpu->vm, GUEST_FREE_GPA);
	vcpu_expect_exit(vcpu, KVM_EXIT_IO);
	EXPECT_EQ(KVM_EXIT_IO_IN, vcpu->run->io.direction);
	EXPECT_EQ(1, vcpu->run->io.count);
	*(uint8_t *)vcpu_io_data(vcpu) = 0x9c;
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	EXPECT_EQ(0x9c, mem[0]);
	EXPECT_EQ(0, mem[1]);
	EXPECT_EQ(GUEST_FREE_GPA + 1, uc.args[0]);
	EXPECT_EQ(5, uc.args[2]);
	vm_free(vcpu->vm);
}

/* REP with RCX = 0 does nothing at all: no exit, straight to the ucall. */
TEST(rep_count_zero)
{
	struct vcpu *vcpu;
	struct ucall uc;

	TEST_REQUIRE_KVM();
	vcpu = io_guest(GUEST_CODE(rep_insb), 0, 0x60, 0, GUEST_FREE_GPA, 0, false);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	EXPECT_EQ(GUEST_FREE_GPA, uc.args[0]);
	vm_free(vcpu->vm);

	vcpu = io_guest(GUEST_CODE(rep_outsb), 0, 0x60, GUEST_DATA_GPA, 0, 0, false);
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	EXPECT_EQ(GUEST_DATA_GPA, uc.args[1]);
	vm_free(vcpu->vm);
}

/*
 * The VMM changes RCX during a REP INSB exit (KVM_SET_REGS), as Linux's
 * userspace_io_test does. The data of the exit is consumed one element per count:
 * a lowered RCX takes fewer elements (the rest of the exit's data is dropped). A
 * raised one makes the instruction store more elements than the exit carried; what
 * those hold is not ABI (kvm_amd, seen in the SVM rig, stores stale bytes of its
 * read-ahead buffer without another exit; minikvm exits again for them), so only
 * the first exit's bytes are compared. Either way the instruction ends with
 * RCX = 0 and RDI past exactly the elements it stored, and nothing beyond them is
 * written.
 */
static void rep_insb_rcx_changed(struct __test_metadata *_metadata, uint64_t rcx_before,
				 uint64_t rcx_new)
{
	uint8_t data[64], *mem;
	struct kvm_regs regs;
	struct vcpu *vcpu;
	struct ucall uc;
	size_t done = 0, n;
	unsigned int j;
	int exits = 0;

	for (j = 0; j < sizeof(data); j++)
		data[j] = 0x40 + j;
	vcpu = io_guest(GUEST_CODE(rep_insb), 0, 0x80, 0, GUEST_FREE_GPA, rcx_before, false);
	mem = gpa_to_hva(vcpu->vm, GUEST_FREE_GPA);
	for (;;) {
		vcpu_run(vcpu);
		if (vcpu_get_ucall(vcpu, &uc) != UCALL_NONE)
			break;
		ASSERT_EQ(KVM_EXIT_IO, vcpu->run->exit_reason);
		ASSERT_EQ(KVM_EXIT_IO_IN, vcpu->run->io.direction);
		ASSERT_GE(vcpu->run->io.count, 1);
		n = vcpu->run->io.count;
		ASSERT_LE(done + n, sizeof(data));
		if (!exits) {
			/* The whole count fits one exit. */
			EXPECT_EQ(rcx_before, n);
			vcpu_get_regs(vcpu, &regs);
			EXPECT_EQ(rcx_before, regs.rcx);
			regs.rcx = rcx_new;
			vcpu_set_regs(vcpu, &regs);
		}
		memcpy(vcpu_io_data(vcpu), data + done, n);
		done += n;
		ASSERT_LE(++exits, 8);
	}
	ASSERT_EQ(UCALL_SYNC, uc.cmd);
	EXPECT_EQ(GUEST_FREE_GPA + rcx_new, uc.args[0]);	/* RDI */
	EXPECT_EQ(0, uc.args[2]);				/* RCX */
	EXPECT_EQ(0, memcmp(mem, data, rcx_new < rcx_before ? rcx_new : rcx_before));
	EXPECT_EQ(0, mem[rcx_new]);			/* nothing past the end */
	vm_free(vcpu->vm);
}

TEST(rep_insb_rcx_lowered)
{
	TEST_REQUIRE_KVM();
	rep_insb_rcx_changed(_metadata, 2, 1);
	rep_insb_rcx_changed(_metadata, 9, 4);
}

TEST(rep_insb_rcx_raised)
{
	TEST_REQUIRE_KVM();
	rep_insb_rcx_changed(_metadata, 3, 12);
}

TEST_HARNESS_MAIN
