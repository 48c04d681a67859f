// SPDX-License-Identifier: GPL-2.0-only
/*
 * minikvm: a decoder for the x86 instructions that guests use on MMIO.
 *
 * An x86 instruction is laid out as (SDM Vol.2 2.1, Figure 2-1):
 *
 *   [legacy prefixes] [REX] opcode [ModRM] [SIB] [displacement] [immediate]
 *        0..4          0/1  1..3     0/1    0/1     0,1,2,4        0,1,2,4
 *
 * and is at most 15 bytes long. We walk it left to right: prefixes set
 * the operand and address size, the opcode (looked up in a table) says
 * which operands follow, and ModRM/SIB tell how many displacement bytes
 * come after them. We never compute a ModRM effective address: the
 * hardware already reported the guest-physical address that faulted. All
 * we need is the operation, the size, the register or immediate and the
 * total length. String instructions are the exception the emulator deals
 * with: their addresses come from rSI and rDI, so for them we note the
 * address size, the source segment and the REP prefix.
 *
 * What is known (SDM Vol.2 Table; an opcode's page for
 * the details):
 *
 *   MOV      88 89 8A 8B  A0-A3  C6/0 C7/0  0F B6 B7 BE BF (MOVZX/MOVSX)
 *   ALU      00-03 ADD  08-0B OR  10-13 ADC  18-1B SBB
 *            20-23 AND  28-2B SUB  30-33 XOR  38-3B CMP
 *            80 81 83 /0-/7 (the same eight with an immediate)
 *   TEST     84 85, F6/0 F7/0     NOT F6/2 F7/2    NEG F6/3 F7/3
 *   INC/DEC  FE/0 FE/1 FF/0 FF/1  XCHG 86 87
 *   strings  A4 A5 MOVS  AA AB STOS  AC AD LODS (with REP)
 */
#ifdef __KERNEL__
#include <linux/errno.h>
#endif

#include "alu.h"
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
	bool rep;		/* F3 or F2 */
	u8 seg;			/* MKVM_INSN_SEG_*, or NO_SEG */
	u8 rex;			/* 0, or the REX byte 40..4F */
};

#define NO_SEG	0xff

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
		case 0x26: case 0x2e: case 0x36: case 0x3e:
			/*
			 * ES, CS, SS, DS: 26 2E 36 3E are 001sg110, with the
			 * sreg number in bits 4:3. A segment matters only
			 * for a string source's linear address; the hardware
			 * has translated every other one already. When
			 * several are given the last one counts (SDM Vol.2
			 * 2.1.1 leaves it unpredictable; KVM does the same).
			 * 64-bit mode ignores these four (SDM Vol.2 2.1.1).
			 */
			if (mode != 64)
				p->seg = (b >> 3) & 3;
			break;
		case 0x64: case 0x65:			/* FS, GS */
			p->seg = MKVM_INSN_SEG_FS + (b & 1);
			break;
		case 0xf2: case 0xf3:
			/*
			 * REP (F3) and REPNE (F2) repeat a string
			 * instruction; for MOVS/STOS/LODS, which test no
			 * flag, both mean "rCX times" (what CPUs do, and
			 * KVM). Elsewhere they are ignored here.
			 */
			p->rep = true;
			break;
		case 0xf0:
			/*
			 * LOCK: fine on the read-modify-write forms; the
			 * device sees a read then a write either way. On
			 * MOV it raises #UD before any memory access, so
			 * never reaches an MMIO exit.
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
#define F_MODRM		0x001	/* a ModRM byte (and maybe SIB, disp) */
#define F_MOFFS		0x002	/* an address-sized absolute offset */
#define F_IMM		0x004	/* an immediate of the access size */
#define F_IMM8		0x008	/* an imm8, sign-extended to the access size */
#define F_MEM8		0x010	/* memory operand is 8-bit */
#define F_MEM16		0x020	/* memory operand is 16-bit */
#define F_REG8		0x040	/* register operand is 8-bit */
#define F_ZX		0x080	/* MOVZX */
#define F_SX		0x100	/* MOVSX */
#define F_STRING	0x200	/* MOVS/STOS/LODS: no ModRM, rSI/rDI */

/*
 * Opcodes whose ModRM.reg field is not a register but picks the
 * operation (SDM Vol.2 Table A-6, "Opcode Extensions for One- and
 * Two-byte Opcodes by Group Number").
 */
enum {
	GRP_NONE,
	GRP_1,		/* 80 81 83: ADD OR ADC SBB AND SUB XOR CMP, imm */
	GRP_3,		/* F6 F7: TEST imm, NOT, NEG (MUL, DIV: not here) */
	GRP_4_5,	/* FE FF: INC, DEC (CALL/JMP/PUSH: not here) */
	GRP_11,		/* C6 C7: MOV imm */
	NR_GROUPS
};

struct opcode_info {
	bool known;
	u8 op;			/* enum mkvm_insn_op */
	u8 alu;			/* enum mkvm_alu_op, for the ALU forms */
	u8 group;		/* GRP_*: ModRM.reg picks op and alu */
	u16 flags;		/* F_* */
};

#define OPC(o, f)	{ .known = true, .op = (o), .flags = (f) }
#define ALU(o, a, f)	{ .known = true, .op = (o), .alu = (a), .flags = (f) }
#define GRP(g, f)	{ .known = true, .group = (g), .flags = F_MODRM | (f) }

/*
 * The ALU block of the one-byte map: for each of the eight operations,
 * opcode 8*alu + 0..3 is "Eb,Gb", "Ev,Gv" (memory is the destination)
 * and "Gb,Eb", "Gv,Ev" (the register is). +4 and +5 take AL/rAX and an
 * immediate: no memory operand, so not ours.
 */
#define ALU_BLOCK(a)							\
	[8 * (a) + 0] = ALU(MKVM_OP_ALU_MEM, (a), F_MODRM | F_MEM8 | F_REG8), \
	[8 * (a) + 1] = ALU(MKVM_OP_ALU_MEM, (a), F_MODRM),		\
	[8 * (a) + 2] = ALU(MKVM_OP_ALU_REG, (a), F_MODRM | F_MEM8 | F_REG8), \
	[8 * (a) + 3] = ALU(MKVM_OP_ALU_REG, (a), F_MODRM)

/* One-byte opcode map (SDM Vol.2 Table A-2): the forms listed on top. */
static const struct opcode_info one_byte[256] = {
	ALU_BLOCK(MKVM_ALU_ADD),
	ALU_BLOCK(MKVM_ALU_OR),
	ALU_BLOCK(MKVM_ALU_ADC),
	ALU_BLOCK(MKVM_ALU_SBB),
	ALU_BLOCK(MKVM_ALU_AND),
	ALU_BLOCK(MKVM_ALU_SUB),
	ALU_BLOCK(MKVM_ALU_XOR),
	ALU_BLOCK(MKVM_ALU_CMP),
	/* Group 1: r/m8, imm8 (80); r/m, imm16/32 (81); r/m, imm8 (83) */
	[0x80] = GRP(GRP_1, F_MEM8 | F_REG8 | F_IMM),
	[0x81] = GRP(GRP_1, F_IMM),
	[0x83] = GRP(GRP_1, F_IMM8),
	/* TEST r/m, r: an AND for the flags only */
	[0x84] = ALU(MKVM_OP_ALU_MEM, MKVM_ALU_TEST, F_MODRM | F_MEM8 | F_REG8),
	[0x85] = ALU(MKVM_OP_ALU_MEM, MKVM_ALU_TEST, F_MODRM),
	/* XCHG r/m, r */
	[0x86] = OPC(MKVM_OP_XCHG, F_MODRM | F_MEM8 | F_REG8),
	[0x87] = OPC(MKVM_OP_XCHG, F_MODRM),
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
	/* MOVS, STOS, LODS: byte (even opcode) and word/dword/qword (odd) */
	[0xa4] = OPC(MKVM_OP_MOVS, F_STRING | F_MEM8 | F_REG8),
	[0xa5] = OPC(MKVM_OP_MOVS, F_STRING),
	[0xaa] = OPC(MKVM_OP_STOS, F_STRING | F_MEM8 | F_REG8),
	[0xab] = OPC(MKVM_OP_STOS, F_STRING),
	[0xac] = OPC(MKVM_OP_LODS, F_STRING | F_MEM8 | F_REG8),
	[0xad] = OPC(MKVM_OP_LODS, F_STRING),
	/* Group 11: MOV r/m8, imm8 (C6 /0) and MOV r/m, imm (C7 /0) */
	[0xc6] = GRP(GRP_11, F_MEM8 | F_REG8),
	[0xc7] = GRP(GRP_11, 0),
	/* Group 3 (F6, F7) and groups 4 and 5 (FE, FF) */
	[0xf6] = GRP(GRP_3, F_MEM8 | F_REG8),
	[0xf7] = GRP(GRP_3, 0),
	[0xfe] = GRP(GRP_4_5, F_MEM8 | F_REG8),
	[0xff] = GRP(GRP_4_5, 0),
};

/* Two-byte opcode map, after 0F (SDM Vol.2 Table A-3). */
static const struct opcode_info two_byte[256] = {
	[0xb6] = OPC(MKVM_OP_LOAD, F_MODRM | F_MEM8 | F_ZX),	/* MOVZX */
	[0xb7] = OPC(MKVM_OP_LOAD, F_MODRM | F_MEM16 | F_ZX),
	[0xbe] = OPC(MKVM_OP_LOAD, F_MODRM | F_MEM8 | F_SX),	/* MOVSX */
	[0xbf] = OPC(MKVM_OP_LOAD, F_MODRM | F_MEM16 | F_SX),
};

/*
 * The groups, indexed by ModRM.reg. An entry's flags add to the
 * opcode's: group 3's TEST has an immediate its siblings lack.
 */
static const struct opcode_info groups[NR_GROUPS][8] = {
	[GRP_1] = {
		ALU(MKVM_OP_ALU_MEM, MKVM_ALU_ADD, 0),
		ALU(MKVM_OP_ALU_MEM, MKVM_ALU_OR, 0),
		ALU(MKVM_OP_ALU_MEM, MKVM_ALU_ADC, 0),
		ALU(MKVM_OP_ALU_MEM, MKVM_ALU_SBB, 0),
		ALU(MKVM_OP_ALU_MEM, MKVM_ALU_AND, 0),
		ALU(MKVM_OP_ALU_MEM, MKVM_ALU_SUB, 0),
		ALU(MKVM_OP_ALU_MEM, MKVM_ALU_XOR, 0),
		ALU(MKVM_OP_ALU_MEM, MKVM_ALU_CMP, 0),
	},
	[GRP_3] = {
		[0] = ALU(MKVM_OP_ALU_MEM, MKVM_ALU_TEST, F_IMM),
		/* /1: an undocumented twin of /0 that CPUs run as TEST */
		[1] = ALU(MKVM_OP_ALU_MEM, MKVM_ALU_TEST, F_IMM),
		[2] = ALU(MKVM_OP_ALU_MEM, MKVM_ALU_NOT, 0),
		[3] = ALU(MKVM_OP_ALU_MEM, MKVM_ALU_NEG, 0),
	},
	[GRP_4_5] = {
		[0] = ALU(MKVM_OP_ALU_MEM, MKVM_ALU_INC, 0),
		[1] = ALU(MKVM_OP_ALU_MEM, MKVM_ALU_DEC, 0),
	},
	[GRP_11] = {
		[0] = OPC(MKVM_OP_STORE_IMM, F_IMM),
	},
};

#undef OPC
#undef ALU
#undef GRP
#undef ALU_BLOCK

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
 * An immediate has the access size, except that a 64-bit operation takes
 * an imm32 and sign-extends it (SDM Vol.2 MOV: "C7 /0 id"; ADD: "REX.W +
 * 81 /0 id"), and the 83 group and friends take an imm8 and sign-extend
 * it to the access size ("83 /0 ib": ADD r/m16, imm8).
 */
static int decode_imm(struct decoder *d, struct mkvm_insn *insn, bool imm8)
{
	int n = imm8 ? 1 : insn->size == 8 ? 4 : insn->size;
	u64 imm;
	int ret;

	ret = fetch(d, n, &imm);
	if (ret)
		return ret;
	insn->imm = sign_extend(imm, n) & size_mask(insn->size);
	return 0;
}

/*
 * MOVS, STOS, LODS: nothing follows the opcode. The emulator computes
 * the addresses from rSI and rDI (SDM Vol.2 "MOVS/MOVSB/...": "DS:(E)SI
 * ... ES:(E)DI", with a segment override allowed on the source only).
 */
static void decode_string(const struct prefixes *p, int mode,
			  struct mkvm_insn *insn)
{
	insn->rep = p->rep;
	insn->addr_size = address_size(mode, p);
	insn->seg = p->seg == NO_SEG ? MKVM_INSN_SEG_DS : p->seg;
	set_register(insn, 0, p);	/* rAX: STOS source, LODS destination */
}

/*
 * A group opcode: ModRM.reg names the operation, and there is no
 * register operand. Return the opcode's flags and the entry's together.
 */
static int decode_group(const struct opcode_info *oi, u8 modrm,
			struct mkvm_insn *insn, unsigned int *flags)
{
	const struct opcode_info *g = &groups[oi->group][MODRM_REG(modrm)];

	if (!g->known)
		return -EINVAL;
	insn->op = g->op;
	insn->alu = g->alu;
	*flags = oi->flags | g->flags;
	return 0;
}

static int decode_operands(struct decoder *d, const struct opcode_info *oi,
			   const struct prefixes *p, int mode,
			   struct mkvm_insn *insn)
{
	int addr_size = address_size(mode, p);
	unsigned int flags = oi->flags;
	u64 moffs;
	u8 modrm;
	int ret;

	if (flags & F_STRING) {
		decode_string(p, mode, insn);
		return 0;
	}
	if (flags & F_MOFFS) {
		/* The offset is as wide as an address; the register is rAX. */
		set_register(insn, 0, p);
		return fetch(d, addr_size, &moffs);
	}

	ret = fetch_u8(d, &modrm);
	if (ret)
		return ret;
	if (oi->group)
		ret = decode_group(oi, modrm, insn, &flags);
	else
		set_register(insn, MODRM_REG(modrm) | (REX_R(p->rex) << 3), p);
	if (ret)
		return ret;
	ret = skip_memory_operand(d, modrm, addr_size);
	if (ret)
		return ret;
	if (!(flags & (F_IMM | F_IMM8)))
		return 0;
	insn->has_imm = insn->op == MKVM_OP_ALU_MEM;
	return decode_imm(d, insn, flags & F_IMM8);
}

int mkvm_decode_mmio(const u8 *code, int avail, int mode,
		     struct mkvm_insn *insn)
{
	struct decoder d = { .code = code, .pos = 0 };
	const struct opcode_info *oi;
	struct prefixes p = { .seg = NO_SEG };
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
	insn->alu = oi->alu;
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

/*
 * Writing a register of @size bytes (SDM Vol.1 3.4.1.1): 8- and 16-bit
 * writes leave the other bits alone (AH is bits 15:8), a 32-bit write
 * zeroes bits 63:32, a 64-bit write replaces everything.
 */
u64 mkvm_insn_reg_write(const struct mkvm_insn *insn, u64 old, u64 val)
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

u64 mkvm_insn_reg_value(const struct mkvm_insn *insn, u64 reg)
{
	if (insn->high8)
		return (reg >> 8) & 0xff;
	return reg & size_mask(insn->reg_size);
}

u64 mkvm_insn_load_value(const struct mkvm_insn *insn, u64 old_reg, u64 data)
{
	u64 val = data & size_mask(insn->size);

	/* MOVSX fills the bits above @size with the sign; others with 0. */
	if (insn->ext == MKVM_EXT_SIGN)
		val = sign_extend(val, insn->size);
	return mkvm_insn_reg_write(insn, old_reg, val);
}

u64 mkvm_insn_store_value(const struct mkvm_insn *insn, u64 reg)
{
	if (insn->op == MKVM_OP_STORE_IMM)
		return insn->imm & size_mask(insn->size);
	return mkvm_insn_reg_value(insn, reg) & size_mask(insn->size);
}
