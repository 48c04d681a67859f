/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * minikvm: decoding of the x86 instructions a guest uses to touch MMIO.
 *
 * When a guest access hits guest-physical memory that no memslot backs,
 * the hardware tells us the address but not what the instruction wanted
 * to do with it. A guest kernel's readl()/writel() and friends compile to
 * a handful of MOV forms, so a small decoder is enough: it says whether
 * the instruction loads or stores, how many bytes, which register, and
 * how long it is so RIP can step over it.
 *
 * Pure logic, no kernel dependencies: it is built into the module and,
 * unchanged, into the host-side unit tests (tests/unit/).
 */
#ifndef MINIKVM_DECODE_H
#define MINIKVM_DECODE_H

#ifdef __KERNEL__
#include <linux/types.h>
#else
#include "kcompat.h"
#endif

/* Architectural maximum length of one instruction (SDM Vol.2 2.3.11). */
#define MKVM_INSN_MAX_LEN	15

enum mkvm_insn_op {
	MKVM_OP_LOAD,		/* memory -> register */
	MKVM_OP_STORE,		/* register -> memory */
	MKVM_OP_STORE_IMM,	/* immediate -> memory */
};

/* How a LOAD narrower than its destination register is widened. */
#define MKVM_EXT_NONE	0	/* plain MOV: size == reg_size */
#define MKVM_EXT_ZERO	1	/* MOVZX */
#define MKVM_EXT_SIGN	2	/* MOVSX */

/**
 * struct mkvm_insn - one decoded MMIO instruction.
 * @len:	total length in bytes, prefixes included
 * @op:		enum mkvm_insn_op
 * @size:	memory access size: 1, 2, 4 or 8
 * @reg:	GPR number (0 = rAX ... 15 = r15): LOAD destination or
 *		STORE source; with @high8 it is 0..3 for AH, CH, DH, BH
 * @reg_size:	width of the register operand; wider than @size only for
 *		MOVZX/MOVSX
 * @ext:	MKVM_EXT_*
 * @high8:	@reg names bits 15:8 of rAX/rCX/rDX/rBX (AH, CH, DH, BH)
 * @imm:	STORE_IMM value, already sign-extended to @size
 */
struct mkvm_insn {
	u8 len;
	u8 op;
	u8 size;
	u8 reg;
	u8 reg_size;
	u8 ext;
	bool high8;
	u64 imm;
};

/**
 * mkvm_decode_mmio() - decode one MOV-family instruction that accesses memory.
 * @code:	instruction bytes, starting at the first prefix
 * @avail:	number of valid bytes in @code
 * @mode:	16, 32 or 64: the default operand/address size given by
 *		CS.D and CS.L (64 means 64-bit mode, not compatibility mode)
 * @insn:	filled on success
 *
 * Return: 0, or -EINVAL if the instruction is not one this decoder knows,
 * is a register-only form, is longer than 15 bytes or than @avail.
 */
int mkvm_decode_mmio(const u8 *code, int avail, int mode,
		     struct mkvm_insn *insn);

/**
 * mkvm_insn_load_value() - the register value after a decoded LOAD.
 * @insn:	a decoded LOAD
 * @old_reg:	the full 64-bit destination register before the load
 * @data:	the bytes read from memory (low @insn->size bytes used)
 *
 * Return: the new full 64-bit value of register @insn->reg, following the
 * x86 rules for partial-register writes.
 */
u64 mkvm_insn_load_value(const struct mkvm_insn *insn, u64 old_reg, u64 data);

/**
 * mkvm_insn_store_value() - the data a decoded STORE writes to memory.
 * @insn:	a decoded STORE or STORE_IMM
 * @reg:	the full 64-bit source register (unused for STORE_IMM)
 *
 * Return: the value to store, in the low @insn->size bytes.
 */
u64 mkvm_insn_store_value(const struct mkvm_insn *insn, u64 reg);

#endif /* MINIKVM_DECODE_H */
