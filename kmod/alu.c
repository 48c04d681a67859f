// SPDX-License-Identifier: GPL-2.0-only
/*
 * minikvm: the integer ALU of the MMIO emulator (see alu.h for why).
 *
 * How the six status flags come out of an operation (SDM Vol.1 3.4.3.1
 * and Appendix A, "EFLAGS Cross-Reference"; each instruction's page in
 * Vol.2 lists the flags it affects):
 *
 *   ZF  the result is 0                  \  the same for every
 *   SF  the top bit of the result         } operation here except
 *   PF  the low BYTE of the result has    /  NOT, which sets no flag
 *       an even number of 1 bits
 *   CF  unsigned overflow: a carry out of the top bit (ADD, ADC, INC is
 *       the exception: it keeps CF) or a borrow into it (SUB, SBB, CMP,
 *       NEG; DEC keeps CF); 0 after AND, OR, XOR, TEST
 *   OF  signed overflow: the result's sign is impossible for the signs of
 *       the operands; 0 after AND, OR, XOR, TEST
 *   AF  the same carry/borrow as CF, but out of bit 3 (for BCD
 *       arithmetic); undefined after AND, OR, XOR, TEST
 *
 * We compute carries and borrows without a wider type, so that 64-bit
 * operands need nothing special. Adding bit by bit, bit i carries out if
 * both inputs are 1, or if one is and the carry in made the sum bit 0:
 *
 *   carry_out = (a & b) | ((a | b) & ~r)     (evaluated for all bits at once)
 *
 * and for a - b, bit i borrows if a is 0 and b is 1, or if they are equal
 * and the borrow in made the difference bit 1:
 *
 *   borrow_out = (~a & b) | ((~a | b) & r)
 *
 * The top bit of these words is CF; bit 3 is AF, which is also simply
 * bit 4 of a ^ b ^ r (the carry or borrow that arrived at bit 4).
 */
#include "alu.h"

static u64 size_mask(int size)
{
	return size >= 8 ? ~0ULL : (1ULL << (8 * size)) - 1;
}

static u64 sign_bit(int size)
{
	return 1ULL << (8 * size - 1);
}

/* PF: even parity of bits 7:0 only, whatever the operand size. */
static bool parity_even(u64 v)
{
	v &= 0xff;
	v ^= v >> 4;
	v ^= v >> 2;
	v ^= v >> 1;
	return !(v & 1);
}

/* ZF, SF and PF of a result of @size bytes. */
static u64 result_flags(u64 r, int size)
{
	u64 f = 0;

	if (!(r & size_mask(size)))
		f |= MKVM_FLAG_ZF;
	if (r & sign_bit(size))
		f |= MKVM_FLAG_SF;
	if (parity_even(r))
		f |= MKVM_FLAG_PF;
	return f;
}

/* r = a + b + carry_in, and its flags. */
static u64 add_flags(u64 a, u64 b, u64 r, int size)
{
	u64 carry = (a & b) | ((a | b) & ~r);
	u64 f = result_flags(r, size);

	if (carry & sign_bit(size))
		f |= MKVM_FLAG_CF;
	if ((a ^ b ^ r) & 0x10)
		f |= MKVM_FLAG_AF;
	/* Two operands of the same sign gave a result of the other sign. */
	if ((a ^ r) & (b ^ r) & sign_bit(size))
		f |= MKVM_FLAG_OF;
	return f;
}

/* r = a - b - borrow_in, and its flags. */
static u64 sub_flags(u64 a, u64 b, u64 r, int size)
{
	u64 borrow = (~a & b) | ((~a | b) & r);
	u64 f = result_flags(r, size);

	if (borrow & sign_bit(size))
		f |= MKVM_FLAG_CF;
	if ((a ^ b ^ r) & 0x10)
		f |= MKVM_FLAG_AF;
	/* Operands of different signs, and the result took b's sign. */
	if ((a ^ b) & (a ^ r) & sign_bit(size))
		f |= MKVM_FLAG_OF;
	return f;
}

/* The flags each operation writes (the others it leaves alone). */
static u64 written_flags(int op)
{
	switch (op) {
	case MKVM_ALU_NOT:
		return 0;
	case MKVM_ALU_INC:
	case MKVM_ALU_DEC:
		return MKVM_FLAGS_ARITH & ~MKVM_FLAG_CF;
	default:
		return MKVM_FLAGS_ARITH;
	}
}

u64 mkvm_alu_defined_flags(int op)
{
	switch (op) {
	case MKVM_ALU_AND:
	case MKVM_ALU_OR:
	case MKVM_ALU_XOR:
	case MKVM_ALU_TEST:
		return MKVM_FLAGS_ARITH & ~MKVM_FLAG_AF;
	default:
		return written_flags(op);
	}
}

bool mkvm_alu_writes(int op)
{
	return op != MKVM_ALU_CMP && op != MKVM_ALU_TEST;
}

u64 mkvm_alu(int op, int size, u64 dst, u64 src, u64 *rflags)
{
	u64 mask = size_mask(size);
	u64 cf = (*rflags & MKVM_FLAG_CF) ? 1 : 0;
	u64 a = dst & mask, b = src & mask;
	u64 r, f;

	switch (op) {
	case MKVM_ALU_ADD:
	case MKVM_ALU_ADC:
		r = a + b + (op == MKVM_ALU_ADC ? cf : 0);
		f = add_flags(a, b, r, size);
		break;
	case MKVM_ALU_SUB:
	case MKVM_ALU_SBB:
	case MKVM_ALU_CMP:
		r = a - b - (op == MKVM_ALU_SBB ? cf : 0);
		f = sub_flags(a, b, r, size);
		break;
	case MKVM_ALU_AND:
	case MKVM_ALU_TEST:
		r = a & b;
		f = result_flags(r, size);	/* CF = OF = 0, AF as 0 */
		break;
	case MKVM_ALU_OR:
		r = a | b;
		f = result_flags(r, size);
		break;
	case MKVM_ALU_XOR:
		r = a ^ b;
		f = result_flags(r, size);
		break;
	case MKVM_ALU_NOT:
		r = ~a;
		f = 0;
		break;
	case MKVM_ALU_NEG:
		/* 0 - a: CF = (a != 0), OF only for the most negative a. */
		r = 0 - a;
		f = sub_flags(0, a, r, size);
		break;
	case MKVM_ALU_INC:
		r = a + 1;
		f = add_flags(a, 1, r, size);
		break;
	case MKVM_ALU_DEC:
		r = a - 1;
		f = sub_flags(a, 1, r, size);
		break;
	default:
		return dst;
	}
	*rflags = (*rflags & ~written_flags(op)) | (f & written_flags(op));
	return r & mask;
}
