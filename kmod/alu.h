/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * minikvm: the integer ALU of the MMIO emulator, in portable C.
 *
 * When a guest runs "or dword [mmio], 0x80" the CPU cannot finish it: the
 * memory operand is a device, so the instruction exits and we play the
 * CPU's part. We read the old value from the device (userspace), compute
 * here what the CPU would have computed -- the result and the six
 * arithmetic status flags CF PF AF ZF SF OF of RFLAGS -- and write the
 * result back to the device.
 *
 * Pure logic, no kernel dependencies: built into the module and, the same
 * source, into the host-side unit tests (tests/unit/alu_test.c), which
 * compare every operation and size with the host CPU's own instructions.
 */
#ifndef MINIKVM_ALU_H
#define MINIKVM_ALU_H

#ifdef __KERNEL__
#include <linux/bits.h>
#include <linux/types.h>
#else
#include "kcompat.h"
#endif

/*
 * The operations. The first eight are in the order of the 3-bit field
 * that selects them in both encodings that carry one: opcode bits 5:3 of
 * 00-3F ("ADD Eb,Gb" = 00, "OR Eb,Gb" = 08, ...) and ModRM.reg of the
 * group-1 opcodes 80/81/83 (SDM Vol.2 Table A-2, Table A-6).
 */
enum mkvm_alu_op {
	MKVM_ALU_ADD,
	MKVM_ALU_OR,
	MKVM_ALU_ADC,
	MKVM_ALU_SBB,
	MKVM_ALU_AND,
	MKVM_ALU_SUB,
	MKVM_ALU_XOR,
	MKVM_ALU_CMP,
	MKVM_ALU_TEST,		/* AND that only sets flags */
	MKVM_ALU_NOT,		/* unary; no flags at all */
	MKVM_ALU_NEG,		/* unary: 0 - dst */
	MKVM_ALU_INC,		/* unary: dst + 1, CF unchanged */
	MKVM_ALU_DEC,		/* unary: dst - 1, CF unchanged */
	MKVM_ALU_NR_OPS
};

/* The status flags of RFLAGS (SDM Vol.1 3.4.3.1, Figure 3-8). */
#define MKVM_FLAG_CF	BIT_ULL(0)	/* carry out of / borrow into the top bit */
#define MKVM_FLAG_PF	BIT_ULL(2)	/* low byte of the result has even parity */
#define MKVM_FLAG_AF	BIT_ULL(4)	/* carry out of / borrow into bit 3 */
#define MKVM_FLAG_ZF	BIT_ULL(6)	/* result is zero */
#define MKVM_FLAG_SF	BIT_ULL(7)	/* top bit of the result */
#define MKVM_FLAG_DF	BIT_ULL(10)	/* string direction: 1 = down (not ALU) */
#define MKVM_FLAG_OF	BIT_ULL(11)	/* signed overflow */
#define MKVM_FLAGS_ARITH (MKVM_FLAG_CF | MKVM_FLAG_PF | MKVM_FLAG_AF | \
			  MKVM_FLAG_ZF | MKVM_FLAG_SF | MKVM_FLAG_OF)

/**
 * mkvm_alu() - compute one ALU operation as the CPU would.
 * @op:		enum mkvm_alu_op
 * @size:	operand size in bytes: 1, 2, 4 or 8
 * @dst:	the first (destination) operand; only the low @size bytes count
 * @src:	the second operand, already sign-extended to @size if it was
 *		an immediate; ignored by the unary operations
 * @rflags:	in: the guest's RFLAGS (ADC/SBB read CF); out: the same with
 *		the flags the operation writes replaced, the others kept
 *
 * Flags the SDM calls undefined after an operation (AF after AND, OR,
 * XOR and TEST) are written as 0, which is what the CPUs we compared
 * with do.
 *
 * Return: the result, in the low @size bytes (the rest zero). For CMP and
 * TEST, which keep only the flags, it is what the subtraction or the AND
 * gave; mkvm_alu_writes() says not to store it.
 */
u64 mkvm_alu(int op, int size, u64 dst, u64 src, u64 *rflags);

/**
 * mkvm_alu_writes() - does @op store its result (false: CMP, TEST)?
 */
bool mkvm_alu_writes(int op);

/**
 * mkvm_alu_defined_flags() - the flags @op leaves in a defined state.
 *
 * Everything in MKVM_FLAGS_ARITH that @op writes and the SDM defines:
 * what a test may compare with the hardware.
 */
u64 mkvm_alu_defined_flags(int op);

#endif /* MINIKVM_ALU_H */
