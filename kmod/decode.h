/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * minikvm: decoding of the x86 instructions a guest uses to touch MMIO.
 *
 * When a guest access hits guest-physical memory that no memslot backs,
 * the hardware tells us the address but not what the instruction wanted
 * to do with it. A guest kernel's readl()/writel() and friends compile to
 * a handful of MOV forms; firmware and drivers also use the string
 * instructions (REP STOSW to a text-mode screen, REP MOVSB to a frame
 * buffer) and read-modify-write ones (OR [reg], bit). The decoder says
 * what the instruction does, how many bytes it touches, which register
 * or immediate takes part, and how long it is so RIP can step over it.
 * It knows only instructions with a memory operand: the ones that can
 * meet MMIO.
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

#include "alu.h"

/* Architectural maximum length of one instruction (SDM Vol.2 2.3.11). */
#define MKVM_INSN_MAX_LEN	15

/*
 * What the instruction does with its memory operand. ALU_MEM: memory op=
 * register or immediate, or a unary op on memory: read, compute, write
 * back (CMP and TEST only read). ALU_REG: register op= memory: read,
 * compute into the register (CMP: only the flags).
 */
enum mkvm_insn_op {
	MKVM_OP_LOAD,		/* MOV: memory -> register */
	MKVM_OP_STORE,		/* MOV: register -> memory */
	MKVM_OP_STORE_IMM,	/* MOV: immediate -> memory */
	MKVM_OP_ALU_MEM,	/* [mem] = [mem] op reg/imm */
	MKVM_OP_ALU_REG,	/* reg = reg op [mem] */
	MKVM_OP_XCHG,		/* memory <-> register: read, then write */
	MKVM_OP_MOVS,		/* [seg:rSI] -> [ES:rDI] */
	MKVM_OP_STOS,		/* rAX -> [ES:rDI] */
	MKVM_OP_LODS,		/* [seg:rSI] -> rAX */
};

/*
 * Segment registers, numbered as the instruction encoding numbers them
 * (the sreg field, SDM Vol.2 Appendix B.1.4); enum mkvm_seg agrees.
 */
#define MKVM_INSN_SEG_ES	0
#define MKVM_INSN_SEG_CS	1
#define MKVM_INSN_SEG_SS	2
#define MKVM_INSN_SEG_DS	3
#define MKVM_INSN_SEG_FS	4
#define MKVM_INSN_SEG_GS	5

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
 * @alu:	ALU_MEM, ALU_REG: enum mkvm_alu_op
 * @has_imm:	ALU_MEM: the second operand is @imm, not register @reg
 *		(unary operations have neither: @reg is 0 and unused)
 * @imm:	STORE_IMM, ALU_MEM with @has_imm: the immediate,
 *		sign-extended to @size (and no wider)
 *
 * String instructions (MOVS, STOS, LODS) address memory through rSI and
 * rDI, which the emulator must read and advance itself, so for them only:
 * @rep:	an F3 (REP) or F2 prefix: repeat rCX times
 * @addr_size:	2, 4 or 8: the width of rSI, rDI and rCX (SDM Vol.1 3.6)
 * @seg:	the source's segment, MKVM_INSN_SEG_*: DS unless overridden;
 *		the destination is always ES
 * @reg is 0 (rAX) for them: the source of STOS, the destination of LODS.
 */
struct mkvm_insn {
	u8 len;
	u8 op;
	u8 size;
	u8 reg;
	u8 reg_size;
	u8 ext;
	bool high8;
	u8 alu;
	bool has_imm;
	bool rep;
	u8 addr_size;
	u8 seg;
	u64 imm;
};

/**
 * mkvm_decode_mmio() - decode one instruction that accesses memory.
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

/**
 * mkvm_insn_reg_value() - the register operand, as wide as the instruction
 * sees it: the low @insn->reg_size bytes of @reg, or bits 15:8 for AH..BH.
 */
u64 mkvm_insn_reg_value(const struct mkvm_insn *insn, u64 reg);

/**
 * mkvm_insn_reg_write() - the full 64-bit register after writing @val to
 * the register operand of @insn (@old: its value before), following the
 * x86 rules for partial-register writes (SDM Vol.1 3.4.1.1).
 */
u64 mkvm_insn_reg_write(const struct mkvm_insn *insn, u64 old, u64 val);

#endif /* MINIKVM_DECODE_H */
