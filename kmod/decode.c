// SPDX-License-Identifier: GPL-2.0-only
/*
 * minikvm: a decoder for the x86 MOV forms that guests use on MMIO.
 *
 * An x86 instruction is laid out as (SDM Vol.2 2.1, Figure 2-1):
 *
 *   [legacy prefixes] [REX] opcode [ModRM] [SIB] [displacement] [immediate]
 *        0..4          0/1  1..3     0/1    0/1     0,1,2,4        0,1,2,4
 *
 * and is at most 15 bytes long. We walk it left to right: prefixes set
 * the operand and address size, the opcode (looked up in a table) says
 * which operands follow, and ModRM/SIB tell how many displacement bytes
 * come after them. We never compute the effective address: the hardware
 * already reported the guest-physical address that faulted. All we need
 * is the direction, the size, the register and the total length.
 */
#ifdef __KERNEL__
#include <linux/errno.h>
#endif

#include "decode.h"

/* ------------------------------------------------------------------ */
/* Reading the byte stream                                             */
/* ------------------------------------------------------------------ */

struct decoder {
	const u8 *code;
	int limit;		/* min(avail, 15): bytes we may consume */
	int pos;		/* next byte to read */
};

/* Read @n (1, 2, 4 or 8) little-endian bytes, or fail past the limit. */
static int fetch(struct decoder *d, int n, u64 *val)
{
	u64 v = 0;
	int i;

	if (n > d->limit - d->pos)
		return -EINVAL;
	for (i = 0; i < n; i++)
		v |= (u64)d->code[d->pos + i] << (8 * i);
	d->pos += n;
	*val = v;
	return 0;
}

static int fetch_u8(struct decoder *d, u8 *byte)
{
	u64 v;
	int ret = fetch(d, 1, &v);

	*byte = v;
	return ret;
}

/* ------------------------------------------------------------------ */
/* Prefixes (SDM Vol.2 2.1.1, 2.2.1)                                   */
/* ------------------------------------------------------------------ */

struct prefixes {
	bool opsize;		/* 66: the other operand size */
	bool addrsize;		/* 67: the other address size */
	u8 rex;			/* 0, or the REX byte 40..4F */
};

/*
 * REX is 0100WRXB (SDM Vol.2 2.2.1, Table 2-4). X and B extend the index
 * and base registers of the address, which we never compute (see the
 * top of the file), so only W and R matter here.
 */
#define REX_R(rex)	(((rex) >> 2) & 1)	/* extends ModRM.reg */
#define REX_W(rex)	(((rex) >> 3) & 1)	/* 64-bit operand size */

/*
 * Consume prefixes and return the first opcode byte.
 *
 * Legacy prefixes may come in any order and repeat. A REX prefix exists
 * only in 64-bit mode (elsewhere 40..4F are INC/DEC) and counts only if
 * it is the last byte before the opcode: SDM Vol.2 2.2.1 says a REX
 * followed by a legacy prefix is ignored, so a later legacy prefix clears
 * what an earlier REX set.
 */
static int decode_prefixes(struct decoder *d, int mode, struct prefixes *p,
			   u8 *opcode)
{
	u8 b;
	int ret;

	for (;;) {
		ret = fetch_u8(d, &b);
		if (ret)
			return ret;
		switch (b) {
		case 0x66:
			p->opsize = true;
			break;
		case 0x67:
			p->addrsize = true;
			break;
		case 0x26: case 0x2e: case 0x36:	/* ES, CS, SS */
		case 0x3e: case 0x64: case 0x65:	/* DS, FS, GS */
			/*
			 * The segment only matters for the linear address,
			 * which the hardware has already translated.
			 */
			break;
		case 0xf2: case 0xf3:
			/* REPNE/REP have no meaning for MOV: ignored. */
			break;
		case 0xf0:
			/*
			 * LOCK MOV raises #UD before any memory access, so
			 * it never reaches an MMIO exit; accept and ignore.
			 */
			break;
		default:
			if (mode == 64 && (b & 0xf0) == 0x40) {
				p->rex = b;
				continue;
			}
			*opcode = b;
			return 0;
		}
		p->rex = 0;	/* a legacy prefix after REX voids it */
	}
}

/* ------------------------------------------------------------------ */
/* Opcodes                                                             */
/* ------------------------------------------------------------------ */

/* What an opcode's operands look like. */
#define F_MODRM		0x01	/* a ModRM byte (and maybe SIB, disp) */
#define F_MOFFS		0x02	/* an address-sized absolute offset */
#define F_IMM		0x04	/* an immediate of the access size */
#define F_MEM8		0x08	/* memory operand is 8-bit */
#define F_MEM16		0x10	/* memory operand is 16-bit */
#define F_REG8		0x20	/* register operand is 8-bit */
#define F_ZX		0x40	/* MOVZX */
#define F_SX		0x80	/* MOVSX */

struct opcode_info {
	bool known;
	u8 op;			/* enum mkvm_insn_op */
	u8 flags;		/* F_* */
};

#define OPC(o, f)	{ .known = true, .op = (o), .flags = (f) }

/* One-byte opcode map (SDM Vol.2 Table A-2), MOV only. */
static const struct opcode_info one_byte[256] = {
	/* MOV r/m8, r8 and MOV r/m, r */
	[0x88] = OPC(MKVM_OP_STORE, F_MODRM | F_MEM8 | F_REG8),
	[0x89] = OPC(MKVM_OP_STORE, F_MODRM),
	/* MOV r8, r/m8 and MOV r, r/m */
	[0x8a] = OPC(MKVM_OP_LOAD, F_MODRM | F_MEM8 | F_REG8),
	[0x8b] = OPC(MKVM_OP_LOAD, F_MODRM),
	/* MOV AL/rAX, moffs and MOV moffs, AL/rAX */
	[0xa0] = OPC(MKVM_OP_LOAD, F_MOFFS | F_MEM8 | F_REG8),
	[0xa1] = OPC(MKVM_OP_LOAD, F_MOFFS),
	[0xa2] = OPC(MKVM_OP_STORE, F_MOFFS | F_MEM8 | F_REG8),
	[0xa3] = OPC(MKVM_OP_STORE, F_MOFFS),
	/* MOV r/m8, imm8 (C6 /0) and MOV r/m, imm (C7 /0) */
	[0xc6] = OPC(MKVM_OP_STORE_IMM, F_MODRM | F_IMM | F_MEM8 | F_REG8),
	[0xc7] = OPC(MKVM_OP_STORE_IMM, F_MODRM | F_IMM),
};

/* Two-byte opcode map, after 0F (SDM Vol.2 Table A-3). */
static const struct opcode_info two_byte[256] = {
	[0xb6] = OPC(MKVM_OP_LOAD, F_MODRM | F_MEM8 | F_ZX),	/* MOVZX */
	[0xb7] = OPC(MKVM_OP_LOAD, F_MODRM | F_MEM16 | F_ZX),
	[0xbe] = OPC(MKVM_OP_LOAD, F_MODRM | F_MEM8 | F_SX),	/* MOVSX */
	[0xbf] = OPC(MKVM_OP_LOAD, F_MODRM | F_MEM16 | F_SX),
};

#undef OPC

static const struct opcode_info *lookup_opcode(struct decoder *d, u8 b)
{
	if (b != 0x0f)
		return &one_byte[b];
	if (fetch_u8(d, &b))
		return NULL;
	return &two_byte[b];
}

/*
 * Operand size (SDM Vol.2 2.2.1.2 and Vol.1 3.6): the mode's default,
 * the other one with 66, and 64 bits with REX.W, which wins over 66.
 */
static int operand_size(int mode, const struct prefixes *p)
{
	if (REX_W(p->rex))
		return 8;
	if (mode == 16)
		return p->opsize ? 4 : 2;
	return p->opsize ? 2 : 4;
}

/*
 * Address size (SDM Vol.1 3.6, Table 3-4): 67 toggles 16 <-> 32 in the
 * 16/32-bit modes and selects 32 instead of 64 in 64-bit mode.
 */
static int address_size(int mode, const struct prefixes *p)
{
	if (mode == 64)
		return p->addrsize ? 4 : 8;
	if (mode == 16)
		return p->addrsize ? 4 : 2;
	return p->addrsize ? 2 : 4;
}

/* ------------------------------------------------------------------ */
/* ModRM and SIB (SDM Vol.2 2.1.5, Tables 2-1, 2-2, 2-3)               */
/* ------------------------------------------------------------------ */

#define MODRM_MOD(m)	((m) >> 6)
#define MODRM_REG(m)	(((m) >> 3) & 7)
#define MODRM_RM(m)	((m) & 7)
#define SIB_BASE(s)	((s) & 7)

/*
 * Displacement size of a 16-bit address (Table 2-1): [BX+SI] ... [BX]
 * with no displacement, disp8 or disp16; mod 00 rm 110 is not [BP] but
 * a bare disp16. There is no SIB byte in 16-bit addressing.
 */
static int disp_size16(u8 modrm)
{
	switch (MODRM_MOD(modrm)) {
	case 0:
		return MODRM_RM(modrm) == 6 ? 2 : 0;
	case 1:
		return 1;
	default:
		return 2;
	}
}

/*
 * Displacement size of a 32/64-bit address (Tables 2-2 and 2-3).
 * rm 100 means a SIB byte follows. mod 00 rm 101 is a bare disp32, which
 * in 64-bit mode is RIP-relative (SDM Vol.2 2.2.1.6); a SIB with base
 * 101 and mod 00 likewise has no base register and a disp32. These
 * special cases use the 3 ModRM/SIB bits only: REX.B does not change
 * them (SDM Vol.2 Table 2-5), so r12 and r13 need the longer encodings.
 */
static int disp_size32(struct decoder *d, u8 modrm)
{
	u8 sib = 0;

	if (MODRM_RM(modrm) == 4 && fetch_u8(d, &sib))
		return -EINVAL;
	switch (MODRM_MOD(modrm)) {
	case 0:
		if (MODRM_RM(modrm) == 5)
			return 4;
		if (MODRM_RM(modrm) == 4 && SIB_BASE(sib) == 5)
			return 4;
		return 0;
	case 1:
		return 1;
	default:
		return 4;
	}
}

/* Consume the memory operand after ModRM: SIB and displacement. */
static int skip_memory_operand(struct decoder *d, u8 modrm, int addr_size)
{
	int disp;
	u64 unused;

	/* mod 11: a register, not memory, so nothing an MMIO exit can be. */
	if (MODRM_MOD(modrm) == 3)
		return -EINVAL;
	if (addr_size == 2)
		disp = disp_size16(modrm);
	else
		disp = disp_size32(d, modrm);
	if (disp < 0)
		return disp;
	return disp ? fetch(d, disp, &unused) : 0;
}

/* ------------------------------------------------------------------ */
/* Putting it together                                                 */
/* ------------------------------------------------------------------ */

/*
 * The register operand. Without any REX prefix, 8-bit register numbers
 * 4..7 are AH, CH, DH, BH: bits 15:8 of registers 0..3. With a REX
 * prefix (even a bare 40) they are SPL, BPL, SIL, DIL instead
 * (SDM Vol.2 2.2.1.2, Table 3-1 in Vol.2 3.1.1.1).
 */
static void set_register(struct mkvm_insn *insn, int reg,
			 const struct prefixes *p)
{
	if (insn->reg_size == 1 && !p->rex && reg >= 4 && reg < 8) {
		insn->reg = reg - 4;
		insn->high8 = true;
	} else {
		insn->reg = reg;
	}
}

/*
 * An immediate has the access size, except that a 64-bit MOV takes an
 * imm32 and sign-extends it (SDM Vol.2 MOV: "C7 /0 id").
 */
static int decode_imm(struct decoder *d, struct mkvm_insn *insn)
{
	u64 imm;
	int ret;

	ret = fetch(d, insn->size == 8 ? 4 : insn->size, &imm);
	if (ret)
		return ret;
	if (insn->size == 8 && (imm & 0x80000000ULL))
		imm |= 0xffffffff00000000ULL;
	insn->imm = imm;
	return 0;
}

static int decode_operands(struct decoder *d, const struct opcode_info *oi,
			   const struct prefixes *p, int mode,
			   struct mkvm_insn *insn)
{
	int addr_size = address_size(mode, p);
	u64 moffs;
	u8 modrm;
	int ret;

	if (oi->flags & F_MOFFS) {
		/* The offset is as wide as an address; the register is rAX. */
		set_register(insn, 0, p);
		return fetch(d, addr_size, &moffs);
	}

	ret = fetch_u8(d, &modrm);
	if (ret)
		return ret;
	if (oi->op == MKVM_OP_STORE_IMM) {
		if (MODRM_REG(modrm) != 0)	/* only C6 /0 and C7 /0 */
			return -EINVAL;
	} else {
		set_register(insn, MODRM_REG(modrm) | (REX_R(p->rex) << 3), p);
	}
	ret = skip_memory_operand(d, modrm, addr_size);
	if (ret)
		return ret;
	return (oi->flags & F_IMM) ? decode_imm(d, insn) : 0;
}

int mkvm_decode_mmio(const u8 *code, int avail, int mode,
		     struct mkvm_insn *insn)
{
	struct decoder d = { .code = code, .pos = 0 };
	const struct opcode_info *oi;
	struct prefixes p = { 0 };
	int opsize, ret;
	u8 opcode;

	if (mode != 16 && mode != 32 && mode != 64)
		return -EINVAL;
	d.limit = avail < MKVM_INSN_MAX_LEN ? avail : MKVM_INSN_MAX_LEN;

	*insn = (struct mkvm_insn){ 0 };
	ret = decode_prefixes(&d, mode, &p, &opcode);
	if (ret)
		return ret;
	oi = lookup_opcode(&d, opcode);
	if (!oi || !oi->known)
		return -EINVAL;

	opsize = operand_size(mode, &p);
	insn->op = oi->op;
	insn->size = (oi->flags & F_MEM8) ? 1 :
		     (oi->flags & F_MEM16) ? 2 : opsize;
	insn->reg_size = (oi->flags & F_REG8) ? 1 : opsize;
	insn->ext = (oi->flags & F_ZX) ? MKVM_EXT_ZERO :
		    (oi->flags & F_SX) ? MKVM_EXT_SIGN : MKVM_EXT_NONE;

	ret = decode_operands(&d, oi, &p, mode, insn);
	if (ret)
		return ret;
	insn->len = d.pos;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Applying the result                                                 */
/* ------------------------------------------------------------------ */

static u64 size_mask(int size)
{
	return size >= 8 ? ~0ULL : (1ULL << (8 * size)) - 1;
}

static u64 sign_extend(u64 val, int size)
{
	u64 mask = size_mask(size);

	val &= mask;
	if (size < 8 && (val & (1ULL << (8 * size - 1))))
		val |= ~mask;
	return val;
}

/*
 * Writing a register of @size bytes (SDM Vol.1 3.4.1.1): 8- and 16-bit
 * writes leave the other bits alone (AH is bits 15:8), a 32-bit write
 * zeroes bits 63:32, a 64-bit write replaces everything.
 */
static u64 merge_register(const struct mkvm_insn *insn, u64 old, u64 val)
{
	switch (insn->reg_size) {
	case 1:
		if (insn->high8)
			return (old & ~0xff00ULL) | ((val & 0xff) << 8);
		return (old & ~0xffULL) | (val & 0xff);
	case 2:
		return (old & ~0xffffULL) | (val & 0xffff);
	case 4:
		return val & 0xffffffffULL;
	default:
		return val;
	}
}

u64 mkvm_insn_load_value(const struct mkvm_insn *insn, u64 old_reg, u64 data)
{
	u64 val = data & size_mask(insn->size);

	/* MOVSX fills the bits above @size with the sign; others with 0. */
	if (insn->ext == MKVM_EXT_SIGN)
		val = sign_extend(val, insn->size);
	return merge_register(insn, old_reg, val);
}

u64 mkvm_insn_store_value(const struct mkvm_insn *insn, u64 reg)
{
	if (insn->op == MKVM_OP_STORE_IMM)
		return insn->imm & size_mask(insn->size);
	if (insn->high8)
		return (reg >> 8) & 0xff;
	return reg & size_mask(insn->size);
}
