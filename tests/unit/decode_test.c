// SPDX-License-Identifier: GPL-2.0-only
/*
 * Host-side tests of kmod/decode.c: real encodings (checked against a
 * disassembler: objdump -D -b binary -mi386:x86-64, -mi386, -mi386
 * -Mi8086) -> the expected struct mkvm_insn, then the register
 * arithmetic of mkvm_insn_load_value() and mkvm_insn_store_value().
 */
#include <string.h>

#include "decode.h"
#include "tap.h"

#define LD	MKVM_OP_LOAD
#define ST	MKVM_OP_STORE
#define STI	MKVM_OP_STORE_IMM
#define AM	MKVM_OP_ALU_MEM
#define AR	MKVM_OP_ALU_REG
#define XCHG	MKVM_OP_XCHG
#define MOVS	MKVM_OP_MOVS
#define STOS	MKVM_OP_STOS
#define LODS	MKVM_OP_LODS
#define ZX	MKVM_EXT_ZERO
#define SX	MKVM_EXT_SIGN
#define DS	MKVM_INSN_SEG_DS

#define BYTES(...) \
	.code = { __VA_ARGS__ }, .ncode = sizeof((u8[]){ __VA_ARGS__ })

/* A displacement or offset of 8 / 4 bytes, for brevity. */
#define X8	0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11
#define X4	0x78, 0x56, 0x34, 0x12

struct decode_case {
	const char *name;	/* Intel syntax, as a disassembler shows it */
	int mode;
	u8 code[20];
	int ncode;
	int avail;		/* bytes offered; 0 means all of code[] */
	int ret;
	struct mkvm_insn want;	/* checked only when ret == 0 */
};

static const struct decode_case cases[] = {
	/* ---- 64-bit mode: the forms a 64-bit guest kernel emits ---- */
	{ "mov eax,[rbx]", 64, BYTES(0x8b, 0x03),
	  .want = { .len = 2, .op = LD, .size = 4, .reg = 0, .reg_size = 4 } },
	{ "mov [rdi+0x100],eax", 64, BYTES(0x89, 0x87, 0x00, 0x01, 0x00, 0x00),
	  .want = { .len = 6, .op = ST, .size = 4, .reg = 0, .reg_size = 4 } },
	{ "mov rax,[rip+0x12345678]", 64, BYTES(0x48, 0x8b, 0x05, X4),
	  .want = { .len = 7, .op = LD, .size = 8, .reg = 0, .reg_size = 8 } },
	{ "mov dword [rax],0x12345678", 64, BYTES(0xc7, 0x00, X4),
	  .want = { .len = 6, .op = STI, .size = 4, .reg_size = 4,
		    .imm = 0x12345678 } },
	{ "mov qword [rax],-16", 64,
	  BYTES(0x48, 0xc7, 0x00, 0xf0, 0xff, 0xff, 0xff),
	  .want = { .len = 7, .op = STI, .size = 8, .reg_size = 8,
		    .imm = 0xfffffffffffffff0ULL } },
	{ "mov word [rax],0x8234", 64, BYTES(0x66, 0xc7, 0x00, 0x34, 0x82),
	  .want = { .len = 5, .op = STI, .size = 2, .reg_size = 2,
		    .imm = 0x8234 } },
	{ "mov byte [rax],0xff", 64, BYTES(0xc6, 0x00, 0xff),
	  .want = { .len = 3, .op = STI, .size = 1, .reg_size = 1,
		    .imm = 0xff } },
	{ "mov [rax],dx", 64, BYTES(0x66, 0x89, 0x10),
	  .want = { .len = 3, .op = ST, .size = 2, .reg = 2, .reg_size = 2 } },
	{ "mov [rsi],ah", 64, BYTES(0x88, 0x26),
	  .want = { .len = 2, .op = ST, .size = 1, .reg = 0, .reg_size = 1,
		    .high8 = true } },
	{ "mov [rsi],spl (bare REX)", 64, BYTES(0x40, 0x88, 0x26),
	  .want = { .len = 3, .op = ST, .size = 1, .reg = 4, .reg_size = 1 } },
	{ "mov bh,[rdi+4]", 64, BYTES(0x8a, 0x7f, 0x04),
	  .want = { .len = 3, .op = LD, .size = 1, .reg = 3, .reg_size = 1,
		    .high8 = true } },
	{ "mov al,[rdi]", 64, BYTES(0x8a, 0x07),
	  .want = { .len = 2, .op = LD, .size = 1, .reg = 0, .reg_size = 1 } },
	{ "mov r9b,[rdi]", 64, BYTES(0x44, 0x8a, 0x0f),
	  .want = { .len = 3, .op = LD, .size = 1, .reg = 9, .reg_size = 1 } },
	{ "movzx eax,byte [rcx]", 64, BYTES(0x0f, 0xb6, 0x01),
	  .want = { .len = 3, .op = LD, .size = 1, .reg = 0, .reg_size = 4,
		    .ext = ZX } },
	{ "movzx edx,word [rsi+2]", 64, BYTES(0x0f, 0xb7, 0x56, 0x02),
	  .want = { .len = 4, .op = LD, .size = 2, .reg = 2, .reg_size = 4,
		    .ext = ZX } },
	{ "movsx eax,word [rdx+2]", 64, BYTES(0x0f, 0xbf, 0x42, 0x02),
	  .want = { .len = 4, .op = LD, .size = 2, .reg = 0, .reg_size = 4,
		    .ext = SX } },
	{ "movsx rax,byte [rdi]", 64, BYTES(0x48, 0x0f, 0xbe, 0x07),
	  .want = { .len = 4, .op = LD, .size = 1, .reg = 0, .reg_size = 8,
		    .ext = SX } },
	{ "movzx ax,byte [rdi]", 64, BYTES(0x66, 0x0f, 0xb6, 0x07),
	  .want = { .len = 4, .op = LD, .size = 1, .reg = 0, .reg_size = 2,
		    .ext = ZX } },
	{ "mov ecx,[r13+8] (REX.B)", 64, BYTES(0x41, 0x8b, 0x4d, 0x08),
	  .want = { .len = 4, .op = LD, .size = 4, .reg = 1, .reg_size = 4 } },
	{ "mov [rax],r8d (REX.R)", 64, BYTES(0x44, 0x89, 0x00),
	  .want = { .len = 3, .op = ST, .size = 4, .reg = 8, .reg_size = 4 } },
	{ "mov r15,[rsi] (REX.WR)", 64, BYTES(0x4c, 0x8b, 0x3e),
	  .want = { .len = 3, .op = LD, .size = 8, .reg = 15, .reg_size = 8 } },
	{ "mov eax,[rsp] (SIB)", 64, BYTES(0x8b, 0x04, 0x24),
	  .want = { .len = 3, .op = LD, .size = 4, .reg_size = 4 } },
	{ "mov eax,[rsp+8] (SIB disp8)", 64, BYTES(0x8b, 0x44, 0x24, 0x08),
	  .want = { .len = 4, .op = LD, .size = 4, .reg_size = 4 } },
	{ "mov eax,[rsp+0x100] (SIB disp32)", 64,
	  BYTES(0x8b, 0x84, 0x24, 0x00, 0x01, 0x00, 0x00),
	  .want = { .len = 7, .op = LD, .size = 4, .reg_size = 4 } },
	{ "mov eax,[0x12345678] (SIB no base)", 64,
	  BYTES(0x8b, 0x04, 0x25, X4),
	  .want = { .len = 7, .op = LD, .size = 4, .reg_size = 4 } },
	{ "mov eax,[rbx+rcx*4+0x10]", 64, BYTES(0x8b, 0x44, 0x8b, 0x10),
	  .want = { .len = 4, .op = LD, .size = 4, .reg_size = 4 } },
	{ "mov eax,[r12] (REX.B rm=100 still SIB)", 64,
	  BYTES(0x41, 0x8b, 0x04, 0x24),
	  .want = { .len = 4, .op = LD, .size = 4, .reg_size = 4 } },
	{ "mov eax,[r13+0] (REX.B base=101 mod=01)", 64,
	  BYTES(0x41, 0x8b, 0x45, 0x00),
	  .want = { .len = 4, .op = LD, .size = 4, .reg_size = 4 } },
	{ "mov eax,[rip+0x12345678] (REX.B: still RIP-rel)", 64,
	  BYTES(0x41, 0x8b, 0x05, X4),
	  .want = { .len = 7, .op = LD, .size = 4, .reg_size = 4 } },
	{ "mov eax,[ebx] (67)", 64, BYTES(0x67, 0x8b, 0x03),
	  .want = { .len = 3, .op = LD, .size = 4, .reg_size = 4 } },
	{ "mov eax,[eip+0x12345678] (67)", 64, BYTES(0x67, 0x8b, 0x05, X4),
	  .want = { .len = 7, .op = LD, .size = 4, .reg_size = 4 } },
	{ "mov eax,[moffs64]", 64, BYTES(0xa1, X8),
	  .want = { .len = 9, .op = LD, .size = 4, .reg = 0, .reg_size = 4 } },
	{ "mov rax,[moffs64]", 64, BYTES(0x48, 0xa1, X8),
	  .want = { .len = 10, .op = LD, .size = 8, .reg = 0, .reg_size = 8 } },
	{ "mov al,[moffs64]", 64, BYTES(0xa0, X8),
	  .want = { .len = 9, .op = LD, .size = 1, .reg = 0, .reg_size = 1 } },
	{ "mov [moffs64],ax", 64, BYTES(0x66, 0xa3, X8),
	  .want = { .len = 10, .op = ST, .size = 2, .reg = 0, .reg_size = 2 } },
	{ "mov [moffs64],al", 64, BYTES(0xa2, X8),
	  .want = { .len = 9, .op = ST, .size = 1, .reg = 0, .reg_size = 1 } },
	{ "mov eax,[moffs32] (67)", 64, BYTES(0x67, 0xa1, X4),
	  .want = { .len = 6, .op = LD, .size = 4, .reg = 0, .reg_size = 4 } },
	{ "mov rax,[moffs64] (REX.B ignored: still rax)", 64,
	  BYTES(0x49, 0xa1, X8),
	  .want = { .len = 10, .op = LD, .size = 8, .reg = 0, .reg_size = 8 } },
	{ "mov eax,fs:[rbx]", 64, BYTES(0x64, 0x8b, 0x03),
	  .want = { .len = 3, .op = LD, .size = 4, .reg_size = 4 } },
	{ "rep mov eax,ds:[rbx] (F3 3E ignored)", 64,
	  BYTES(0xf3, 0x3e, 0x8b, 0x03),
	  .want = { .len = 4, .op = LD, .size = 4, .reg_size = 4 } },
	{ "lock mov [rbx],eax (LOCK ignored)", 64, BYTES(0xf0, 0x89, 0x03),
	  .want = { .len = 3, .op = ST, .size = 4, .reg_size = 4 } },
	{ "mov rax,[rbx] (66 then REX.W: W wins)", 64,
	  BYTES(0x66, 0x48, 0x8b, 0x03),
	  .want = { .len = 4, .op = LD, .size = 8, .reg_size = 8 } },
	{ "mov ax,[rbx] (REX.W then 66: REX voided)", 64,
	  BYTES(0x48, 0x66, 0x8b, 0x03),
	  .want = { .len = 4, .op = LD, .size = 2, .reg_size = 2 } },
	{ "mov [rsi],ah (REX then 3E: REX voided)", 64,
	  BYTES(0x40, 0x3e, 0x88, 0x26),
	  .want = { .len = 4, .op = ST, .size = 1, .reg = 0, .reg_size = 1,
		    .high8 = true } },
	{ "15 bytes: 8x ds + mov eax,[rsp+0x100]", 64,
	  BYTES(0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e,
		0x8b, 0x84, 0x24, 0x00, 0x01, 0x00, 0x00),
	  .want = { .len = 15, .op = LD, .size = 4, .reg_size = 4 } },
	{ "trailing bytes are not consumed", 64, BYTES(0x8b, 0x03, 0x90, 0x90),
	  .want = { .len = 2, .op = LD, .size = 4, .reg_size = 4 } },

	/* ---- 64-bit mode: arithmetic with a memory operand ---- */
	{ "add [rax],eax", 64, BYTES(0x01, 0x00),
	  .want = { .len = 2, .op = AM, .alu = MKVM_ALU_ADD, .size = 4,
		    .reg = 0, .reg_size = 4 } },
	{ "add [rbx],cl", 64, BYTES(0x00, 0x0b),
	  .want = { .len = 2, .op = AM, .alu = MKVM_ALU_ADD, .size = 1,
		    .reg = 1, .reg_size = 1 } },
	{ "or ah,[rbx]", 64, BYTES(0x0a, 0x23),
	  .want = { .len = 2, .op = AR, .alu = MKVM_ALU_OR, .size = 1,
		    .reg = 0, .reg_size = 1, .high8 = true } },
	{ "adc r9,[rsi]", 64, BYTES(0x4c, 0x13, 0x0e),
	  .want = { .len = 3, .op = AR, .alu = MKVM_ALU_ADC, .size = 8,
		    .reg = 9, .reg_size = 8 } },
	{ "sbb [rdi],dx", 64, BYTES(0x66, 0x19, 0x17),
	  .want = { .len = 3, .op = AM, .alu = MKVM_ALU_SBB, .size = 2,
		    .reg = 2, .reg_size = 2 } },
	{ "and [rbx+4],esi", 64, BYTES(0x21, 0x73, 0x04),
	  .want = { .len = 3, .op = AM, .alu = MKVM_ALU_AND, .size = 4,
		    .reg = 6, .reg_size = 4 } },
	{ "sub eax,[rbx]", 64, BYTES(0x2b, 0x03),
	  .want = { .len = 2, .op = AR, .alu = MKVM_ALU_SUB, .size = 4,
		    .reg = 0, .reg_size = 4 } },
	{ "xor [rbx],bl", 64, BYTES(0x30, 0x1b),
	  .want = { .len = 2, .op = AM, .alu = MKVM_ALU_XOR, .size = 1,
		    .reg = 3, .reg_size = 1 } },
	{ "cmp [rbx],ecx", 64, BYTES(0x39, 0x0b),
	  .want = { .len = 2, .op = AM, .alu = MKVM_ALU_CMP, .size = 4,
		    .reg = 1, .reg_size = 4 } },
	{ "cmp edx,[rbx]", 64, BYTES(0x3b, 0x13),
	  .want = { .len = 2, .op = AR, .alu = MKVM_ALU_CMP, .size = 4,
		    .reg = 2, .reg_size = 4 } },
	{ "or dword [rbx],0x80 (81 /1 id)", 64,
	  BYTES(0x81, 0x0b, 0x80, 0x00, 0x00, 0x00),
	  .want = { .len = 6, .op = AM, .alu = MKVM_ALU_OR, .size = 4,
		    .reg_size = 4, .has_imm = true, .imm = 0x80 } },
	{ "or byte [rbx],0x80 (80 /1 ib)", 64, BYTES(0x80, 0x0b, 0x80),
	  .want = { .len = 3, .op = AM, .alu = MKVM_ALU_OR, .size = 1,
		    .reg_size = 1, .has_imm = true, .imm = 0x80 } },
	{ "and dword [rbx],-2 (83 /4 ib)", 64, BYTES(0x83, 0x23, 0xfe),
	  .want = { .len = 3, .op = AM, .alu = MKVM_ALU_AND, .size = 4,
		    .reg_size = 4, .has_imm = true, .imm = 0xfffffffe } },
	{ "and qword [rbx],-2 (REX.W 83 /4 ib)", 64,
	  BYTES(0x48, 0x83, 0x23, 0xfe),
	  .want = { .len = 4, .op = AM, .alu = MKVM_ALU_AND, .size = 8,
		    .reg_size = 8, .has_imm = true,
		    .imm = 0xfffffffffffffffeULL } },
	{ "add word [rbx],-1 (66 83 /0 ib)", 64,
	  BYTES(0x66, 0x83, 0x03, 0xff),
	  .want = { .len = 4, .op = AM, .alu = MKVM_ALU_ADD, .size = 2,
		    .reg_size = 2, .has_imm = true, .imm = 0xffff } },
	{ "cmp qword [rbx],0x7fffffff", 64,
	  BYTES(0x48, 0x81, 0x3b, 0xff, 0xff, 0xff, 0x7f),
	  .want = { .len = 7, .op = AM, .alu = MKVM_ALU_CMP, .size = 8,
		    .reg_size = 8, .has_imm = true, .imm = 0x7fffffff } },
	{ "sub qword [rbx],-0x80000000 (imm32 sign-extended)", 64,
	  BYTES(0x48, 0x81, 0x2b, 0x00, 0x00, 0x00, 0x80),
	  .want = { .len = 7, .op = AM, .alu = MKVM_ALU_SUB, .size = 8,
		    .reg_size = 8, .has_imm = true,
		    .imm = 0xffffffff80000000ULL } },
	{ "lock or dword [rbx+8],1", 64,
	  BYTES(0xf0, 0x83, 0x4b, 0x08, 0x01),
	  .want = { .len = 5, .op = AM, .alu = MKVM_ALU_OR, .size = 4,
		    .reg_size = 4, .has_imm = true, .imm = 1 } },
	{ "test [rbx],eax", 64, BYTES(0x85, 0x03),
	  .want = { .len = 2, .op = AM, .alu = MKVM_ALU_TEST, .size = 4,
		    .reg = 0, .reg_size = 4 } },
	{ "test byte [rbx],0x40", 64, BYTES(0xf6, 0x03, 0x40),
	  .want = { .len = 3, .op = AM, .alu = MKVM_ALU_TEST, .size = 1,
		    .reg_size = 1, .has_imm = true, .imm = 0x40 } },
	{ "test byte [rbx],0 (F6 /1 twin)", 64, BYTES(0xf6, 0x0b, 0x00),
	  .want = { .len = 3, .op = AM, .alu = MKVM_ALU_TEST, .size = 1,
		    .reg_size = 1, .has_imm = true, .imm = 0 } },
	{ "test dword [rbx],0x100", 64,
	  BYTES(0xf7, 0x03, 0x00, 0x01, 0x00, 0x00),
	  .want = { .len = 6, .op = AM, .alu = MKVM_ALU_TEST, .size = 4,
		    .reg_size = 4, .has_imm = true, .imm = 0x100 } },
	{ "test word [rbx],0x8000", 64, BYTES(0x66, 0xf7, 0x03, 0x00, 0x80),
	  .want = { .len = 5, .op = AM, .alu = MKVM_ALU_TEST, .size = 2,
		    .reg_size = 2, .has_imm = true, .imm = 0x8000 } },
	{ "not dword [rbx]", 64, BYTES(0xf7, 0x13),
	  .want = { .len = 2, .op = AM, .alu = MKVM_ALU_NOT, .size = 4,
		    .reg_size = 4 } },
	{ "neg byte [rbx]", 64, BYTES(0xf6, 0x1b),
	  .want = { .len = 2, .op = AM, .alu = MKVM_ALU_NEG, .size = 1,
		    .reg_size = 1 } },
	{ "inc dword [rbx]", 64, BYTES(0xff, 0x03),
	  .want = { .len = 2, .op = AM, .alu = MKVM_ALU_INC, .size = 4,
		    .reg_size = 4 } },
	{ "dec word [rbx]", 64, BYTES(0x66, 0xff, 0x0b),
	  .want = { .len = 3, .op = AM, .alu = MKVM_ALU_DEC, .size = 2,
		    .reg_size = 2 } },
	{ "inc byte [rbx]", 64, BYTES(0xfe, 0x03),
	  .want = { .len = 2, .op = AM, .alu = MKVM_ALU_INC, .size = 1,
		    .reg_size = 1 } },
	{ "lock dec qword [rbx]", 64, BYTES(0xf0, 0x48, 0xff, 0x0b),
	  .want = { .len = 4, .op = AM, .alu = MKVM_ALU_DEC, .size = 8,
		    .reg_size = 8 } },
	{ "xchg [rbx],edx", 64, BYTES(0x87, 0x13),
	  .want = { .len = 2, .op = XCHG, .size = 4, .reg = 2,
		    .reg_size = 4 } },
	{ "xchg [rbx],ah", 64, BYTES(0x86, 0x23),
	  .want = { .len = 2, .op = XCHG, .size = 1, .reg = 0,
		    .reg_size = 1, .high8 = true } },
	{ "xchg [rbx],r10", 64, BYTES(0x4c, 0x87, 0x13),
	  .want = { .len = 3, .op = XCHG, .size = 8, .reg = 10,
		    .reg_size = 8 } },

	/* ---- 64-bit mode: string instructions ---- */
	{ "movsb", 64, BYTES(0xa4),
	  .want = { .len = 1, .op = MOVS, .size = 1, .reg_size = 1,
		    .addr_size = 8, .seg = DS } },
	{ "rep movsb", 64, BYTES(0xf3, 0xa4),
	  .want = { .len = 2, .op = MOVS, .size = 1, .reg_size = 1,
		    .rep = true, .addr_size = 8, .seg = DS } },
	{ "rep movsq", 64, BYTES(0xf3, 0x48, 0xa5),
	  .want = { .len = 3, .op = MOVS, .size = 8, .reg_size = 8,
		    .rep = true, .addr_size = 8, .seg = DS } },
	{ "rep movsw", 64, BYTES(0x66, 0xf3, 0xa5),
	  .want = { .len = 3, .op = MOVS, .size = 2, .reg_size = 2,
		    .rep = true, .addr_size = 8, .seg = DS } },
	{ "rep movsd [esi],[edi] (67)", 64, BYTES(0x67, 0xf3, 0xa5),
	  .want = { .len = 3, .op = MOVS, .size = 4, .reg_size = 4,
		    .rep = true, .addr_size = 4, .seg = DS } },
	{ "movsb fs:[rsi]", 64, BYTES(0x64, 0xa4),
	  .want = { .len = 2, .op = MOVS, .size = 1, .reg_size = 1,
		    .addr_size = 8, .seg = MKVM_INSN_SEG_FS } },
	{ "lodsw gs:[rsi]", 64, BYTES(0x65, 0x66, 0xad),
	  .want = { .len = 3, .op = LODS, .size = 2, .reg_size = 2,
		    .addr_size = 8, .seg = MKVM_INSN_SEG_GS } },
	{ "movsd (26: ES override ignored in 64-bit mode)", 64,
	  BYTES(0x26, 0xa5),
	  .want = { .len = 2, .op = MOVS, .size = 4, .reg_size = 4,
		    .addr_size = 8, .seg = DS } },
	{ "repnz movsb (F2 repeats too)", 64, BYTES(0xf2, 0xa4),
	  .want = { .len = 2, .op = MOVS, .size = 1, .reg_size = 1,
		    .rep = true, .addr_size = 8, .seg = DS } },
	{ "movsb (REX.B changes nothing)", 64, BYTES(0x41, 0xa4),
	  .want = { .len = 2, .op = MOVS, .size = 1, .reg_size = 1,
		    .addr_size = 8, .seg = DS } },
	{ "rep stosb", 64, BYTES(0xf3, 0xaa),
	  .want = { .len = 2, .op = STOS, .size = 1, .reg_size = 1,
		    .rep = true, .addr_size = 8, .seg = DS } },
	{ "rep stosw (F3 66)", 64, BYTES(0xf3, 0x66, 0xab),
	  .want = { .len = 3, .op = STOS, .size = 2, .reg_size = 2,
		    .rep = true, .addr_size = 8, .seg = DS } },
	{ "stosq", 64, BYTES(0x48, 0xab),
	  .want = { .len = 2, .op = STOS, .size = 8, .reg_size = 8,
		    .addr_size = 8, .seg = DS } },
	{ "lodsb", 64, BYTES(0xac),
	  .want = { .len = 1, .op = LODS, .size = 1, .reg_size = 1,
		    .addr_size = 8, .seg = DS } },
	{ "lodsd", 64, BYTES(0xad),
	  .want = { .len = 1, .op = LODS, .size = 4, .reg_size = 4,
		    .addr_size = 8, .seg = DS } },
	{ "lodsq", 64, BYTES(0x48, 0xad),
	  .want = { .len = 2, .op = LODS, .size = 8, .reg_size = 8,
		    .addr_size = 8, .seg = DS } },

	/* ---- 64-bit mode: what must be refused ---- */
	{ "mov eax,ebx (register form)", 64, BYTES(0x8b, 0xc3),
	  .ret = -EINVAL },
	{ "mov [rax],eax truncated: opcode only", 64, BYTES(0x89),
	  .ret = -EINVAL },
	{ "mov [rdi+0x100],eax truncated disp32", 64,
	  BYTES(0x89, 0x87, 0x00, 0x01, 0x00, 0x00), .avail = 5,
	  .ret = -EINVAL },
	{ "mov eax,[rsp] truncated SIB", 64, BYTES(0x8b, 0x04, 0x24),
	  .avail = 2, .ret = -EINVAL },
	{ "mov dword [rax],imm32 truncated imm", 64, BYTES(0xc7, 0x00, X4),
	  .avail = 5, .ret = -EINVAL },
	{ "mov rax,[moffs64] truncated moffs", 64, BYTES(0x48, 0xa1, X8),
	  .avail = 9, .ret = -EINVAL },
	{ "prefixes only", 64, BYTES(0x66, 0x67, 0x48), .ret = -EINVAL },
	{ "nothing at all", 64, BYTES(0x8b), .avail = -1, .ret = -EINVAL },
	{ "16 bytes: 9x ds + mov eax,[rsp+0x100]", 64,
	  BYTES(0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e,
		0x8b, 0x84, 0x24, 0x00, 0x01, 0x00, 0x00),
	  .ret = -EINVAL },
	{ "mov dword [rax],imm (C7 /1 is not MOV)", 64,
	  BYTES(0xc7, 0x08, X4), .ret = -EINVAL },
	{ "xabort 0 (C6 F8)", 64, BYTES(0xc6, 0xf8, 0x00), .ret = -EINVAL },
	{ "mov byte [rax],al as C6 /0 register form", 64,
	  BYTES(0xc6, 0xc0, 0x00), .ret = -EINVAL },
	{ "add eax,1 (05: no memory operand)", 64, BYTES(0x05, X4),
	  .ret = -EINVAL },
	{ "add eax,ebx (register form)", 64, BYTES(0x01, 0xd8), .ret = -EINVAL },
	{ "mul dword [rbx] (F7 /4)", 64, BYTES(0xf7, 0x23), .ret = -EINVAL },
	{ "call [rbx] (FF /2)", 64, BYTES(0xff, 0x13), .ret = -EINVAL },
	{ "push qword [rbx] (FF /6)", 64, BYTES(0xff, 0x33), .ret = -EINVAL },
	{ "FE /2 (undefined)", 64, BYTES(0xfe, 0x13), .ret = -EINVAL },
	{ "82 /0 (invalid in 64-bit mode)", 64, BYTES(0x82, 0x03, 0x01),
	  .ret = -EINVAL },
	{ "or dword [rbx],imm32 truncated imm", 64,
	  BYTES(0x81, 0x0b, 0x80, 0x00, 0x00), .ret = -EINVAL },
	{ "and dword [rbx],imm8 truncated imm", 64, BYTES(0x83, 0x23),
	  .ret = -EINVAL },
	{ "syscall (0F 05)", 64, BYTES(0x0f, 0x05), .ret = -EINVAL },
	{ "escape 0F truncated", 64, BYTES(0x0f), .ret = -EINVAL },
	{ "movzx eax,cl (register form)", 64, BYTES(0x0f, 0xb6, 0xc1),
	  .ret = -EINVAL },

	/* ---- 32-bit mode ---- */
	{ "mov eax,[ebx]", 32, BYTES(0x8b, 0x03),
	  .want = { .len = 2, .op = LD, .size = 4, .reg_size = 4 } },
	{ "mov ax,[ebx]", 32, BYTES(0x66, 0x8b, 0x03),
	  .want = { .len = 3, .op = LD, .size = 2, .reg_size = 2 } },
	{ "mov eax,[0x12345678] (absolute, not RIP-rel)", 32,
	  BYTES(0x8b, 0x05, X4),
	  .want = { .len = 6, .op = LD, .size = 4, .reg_size = 4 } },
	{ "mov eax,[moffs32]", 32, BYTES(0xa1, X4),
	  .want = { .len = 5, .op = LD, .size = 4, .reg_size = 4 } },
	{ "mov eax,[moffs16] (67)", 32, BYTES(0x67, 0xa1, 0x34, 0x12),
	  .want = { .len = 4, .op = LD, .size = 4, .reg_size = 4 } },
	{ "mov eax,[bx] (67: 16-bit addressing)", 32, BYTES(0x67, 0x8b, 0x07),
	  .want = { .len = 3, .op = LD, .size = 4, .reg_size = 4 } },
	{ "mov eax,[0x1234] (67 mod00 rm110: disp16)", 32,
	  BYTES(0x67, 0x8b, 0x06, 0x34, 0x12),
	  .want = { .len = 5, .op = LD, .size = 4, .reg_size = 4 } },
	{ "mov eax,[bp+2] (67 disp8)", 32, BYTES(0x67, 0x8b, 0x46, 0x02),
	  .want = { .len = 4, .op = LD, .size = 4, .reg_size = 4 } },
	{ "mov eax,[bx+si+0x1234] (67 disp16)", 32,
	  BYTES(0x67, 0x8b, 0x80, 0x34, 0x12),
	  .want = { .len = 5, .op = LD, .size = 4, .reg_size = 4 } },
	{ "mov [si],al (67: rm 100 is [SI], no SIB)", 32,
	  BYTES(0x67, 0x88, 0x04),
	  .want = { .len = 3, .op = ST, .size = 1, .reg_size = 1 } },
	{ "dec eax; mov eax,[ebx]: no REX outside 64-bit", 32,
	  BYTES(0x48, 0x8b, 0x03), .ret = -EINVAL },
	{ "rep stosd", 32, BYTES(0xf3, 0xab),
	  .want = { .len = 2, .op = STOS, .size = 4, .reg_size = 4,
		    .rep = true, .addr_size = 4, .seg = DS } },
	{ "rep movsb [si],[di] (67)", 32, BYTES(0x67, 0xf3, 0xa4),
	  .want = { .len = 3, .op = MOVS, .size = 1, .reg_size = 1,
		    .rep = true, .addr_size = 2, .seg = DS } },
	{ "rep movsb fs:[esi]", 32, BYTES(0x64, 0xf3, 0xa4),
	  .want = { .len = 3, .op = MOVS, .size = 1, .reg_size = 1,
		    .rep = true, .addr_size = 4, .seg = MKVM_INSN_SEG_FS } },
	{ "inc dword [ebx]", 32, BYTES(0xff, 0x03),
	  .want = { .len = 2, .op = AM, .alu = MKVM_ALU_INC, .size = 4,
		    .reg_size = 4 } },

	/* ---- 16-bit mode ---- */
	{ "mov ax,[bx]", 16, BYTES(0x8b, 0x07),
	  .want = { .len = 2, .op = LD, .size = 2, .reg_size = 2 } },
	{ "mov ax,[0x1234]", 16, BYTES(0x8b, 0x06, 0x34, 0x12),
	  .want = { .len = 4, .op = LD, .size = 2, .reg_size = 2 } },
	{ "mov eax,[bx] (66)", 16, BYTES(0x66, 0x8b, 0x07),
	  .want = { .len = 3, .op = LD, .size = 4, .reg_size = 4 } },
	{ "mov ax,[moffs16]", 16, BYTES(0xa1, 0x34, 0x12),
	  .want = { .len = 3, .op = LD, .size = 2, .reg_size = 2 } },
	{ "mov ax,[moffs32] (67)", 16, BYTES(0x67, 0xa1, X4),
	  .want = { .len = 6, .op = LD, .size = 2, .reg_size = 2 } },
	{ "mov ax,[ebx] (67: 32-bit addressing)", 16, BYTES(0x67, 0x8b, 0x03),
	  .want = { .len = 3, .op = LD, .size = 2, .reg_size = 2 } },
	{ "mov ax,[esp] (67: SIB)", 16, BYTES(0x67, 0x8b, 0x04, 0x24),
	  .want = { .len = 4, .op = LD, .size = 2, .reg_size = 2 } },
	{ "mov eax,[0x1000] (66 67: disp32)", 16,
	  BYTES(0x67, 0x66, 0x8b, 0x05, 0x00, 0x10, 0x00, 0x00),
	  .want = { .len = 8, .op = LD, .size = 4, .reg_size = 4 } },
	{ "mov word [0x1234],0xabcd", 16,
	  BYTES(0xc7, 0x06, 0x34, 0x12, 0xcd, 0xab),
	  .want = { .len = 6, .op = STI, .size = 2, .reg_size = 2,
		    .imm = 0xabcd } },
	{ "mov dword [bx],0x12345678 (66)", 16,
	  BYTES(0x66, 0xc7, 0x07, X4),
	  .want = { .len = 7, .op = STI, .size = 4, .reg_size = 4,
		    .imm = 0x12345678 } },
	{ "mov [bx],ah", 16, BYTES(0x88, 0x27),
	  .want = { .len = 2, .op = ST, .size = 1, .reg = 0, .reg_size = 1,
		    .high8 = true } },
	{ "movzx ax,byte [bx+di]", 16, BYTES(0x0f, 0xb6, 0x01),
	  .want = { .len = 3, .op = LD, .size = 1, .reg = 0, .reg_size = 2,
		    .ext = ZX } },
	{ "mov ax,[bx] truncated disp16", 16, BYTES(0x8b, 0x87, 0x34),
	  .ret = -EINVAL },
	{ "rep stosw", 16, BYTES(0xf3, 0xab),
	  .want = { .len = 2, .op = STOS, .size = 2, .reg_size = 2,
		    .rep = true, .addr_size = 2, .seg = DS } },
	{ "rep movsb", 16, BYTES(0xf3, 0xa4),
	  .want = { .len = 2, .op = MOVS, .size = 1, .reg_size = 1,
		    .rep = true, .addr_size = 2, .seg = DS } },
	{ "rep movsd (66)", 16, BYTES(0x66, 0xf3, 0xa5),
	  .want = { .len = 3, .op = MOVS, .size = 4, .reg_size = 4,
		    .rep = true, .addr_size = 2, .seg = DS } },
	{ "rep stosb [edi] (67)", 16, BYTES(0x67, 0xf3, 0xaa),
	  .want = { .len = 3, .op = STOS, .size = 1, .reg_size = 1,
		    .rep = true, .addr_size = 4, .seg = DS } },
	{ "lodsb es:[si]", 16, BYTES(0x26, 0xac),
	  .want = { .len = 2, .op = LODS, .size = 1, .reg_size = 1,
		    .addr_size = 2, .seg = MKVM_INSN_SEG_ES } },
	{ "movsw cs:[si]", 16, BYTES(0x2e, 0xa5),
	  .want = { .len = 2, .op = MOVS, .size = 2, .reg_size = 2,
		    .addr_size = 2, .seg = MKVM_INSN_SEG_CS } },
	{ "movsw ss:[si]", 16, BYTES(0x36, 0xa5),
	  .want = { .len = 2, .op = MOVS, .size = 2, .reg_size = 2,
		    .addr_size = 2, .seg = MKVM_INSN_SEG_SS } },
	{ "rep movsb es:[si] (F3 26)", 16, BYTES(0xf3, 0x26, 0xa4),
	  .want = { .len = 3, .op = MOVS, .size = 1, .reg_size = 1,
		    .rep = true, .addr_size = 2, .seg = MKVM_INSN_SEG_ES } },
	{ "or word [0x30],0x8000", 16,
	  BYTES(0x81, 0x0e, 0x30, 0x00, 0x00, 0x80),
	  .want = { .len = 6, .op = AM, .alu = MKVM_ALU_OR, .size = 2,
		    .reg_size = 2, .has_imm = true, .imm = 0x8000 } },
	{ "and byte [di],0xfe", 16, BYTES(0x80, 0x25, 0xfe),
	  .want = { .len = 3, .op = AM, .alu = MKVM_ALU_AND, .size = 1,
		    .reg_size = 1, .has_imm = true, .imm = 0xfe } },
	{ "test word [bx],1", 16, BYTES(0xf7, 0x07, 0x01, 0x00),
	  .want = { .len = 4, .op = AM, .alu = MKVM_ALU_TEST, .size = 2,
		    .reg_size = 2, .has_imm = true, .imm = 1 } },
	{ "xchg [bx],ax", 16, BYTES(0x87, 0x07),
	  .want = { .len = 2, .op = XCHG, .size = 2, .reg = 0,
		    .reg_size = 2 } },
	{ "bad mode", 8, BYTES(0x8b, 0x03), .ret = -EINVAL },
};

static bool insn_equal(const struct mkvm_insn *a, const struct mkvm_insn *b)
{
	return a->len == b->len && a->op == b->op && a->size == b->size &&
	       a->reg == b->reg && a->reg_size == b->reg_size &&
	       a->ext == b->ext && a->high8 == b->high8 && a->imm == b->imm &&
	       a->alu == b->alu && a->has_imm == b->has_imm &&
	       a->rep == b->rep && a->addr_size == b->addr_size &&
	       a->seg == b->seg;
}

static void print_insn(const char *what, const struct mkvm_insn *i)
{
	tap_diag("%s: len %u op %u size %u reg %u reg_size %u ext %u high8 %d imm %#llx",
		 what, i->len, i->op, i->size, i->reg, i->reg_size, i->ext,
		 i->high8, (unsigned long long)i->imm);
	tap_diag("%s: alu %u has_imm %d rep %d addr_size %u seg %u", what,
		 i->alu, i->has_imm, i->rep, i->addr_size, i->seg);
}

static void run_decode_case(const struct decode_case *c)
{
	int avail = c->avail ? (c->avail < 0 ? 0 : c->avail) : c->ncode;
	struct mkvm_insn got;
	int ret;

	memset(&got, 0xa5, sizeof(got));
	ret = mkvm_decode_mmio(c->code, avail, c->mode, &got);
	if (ret != c->ret) {
		tap_ok(false, "%d-bit: %s", c->mode, c->name);
		tap_diag("returned %d, want %d", ret, c->ret);
		return;
	}
	if (ret) {
		tap_ok(true, "%d-bit: %s (refused)", c->mode, c->name);
		return;
	}
	if (!tap_ok(insn_equal(&got, &c->want), "%d-bit: %s", c->mode,
		    c->name)) {
		print_insn("got ", &got);
		print_insn("want", &c->want);
	}
}

/*
 * Register arithmetic: decode a real instruction, then apply a value.
 * For loads @old is the destination register and @data the memory value;
 * for stores @old is the source register.
 */
struct value_case {
	const char *name;
	int mode;
	u8 code[16];
	int ncode;
	u64 old;
	u64 data;
	u64 want;
};

#define OLD	0x1122334455667788ULL

static const struct value_case value_cases[] = {
	{ "mov eax,[rbx] zero-extends to 64", 64, BYTES(0x8b, 0x03),
	  OLD, 0xdeadbeefcafef00dULL, 0xcafef00dULL },
	{ "mov rax,[rbx] replaces all", 64, BYTES(0x48, 0x8b, 0x03),
	  OLD, 0xdeadbeefcafef00dULL, 0xdeadbeefcafef00dULL },
	{ "mov ax,[rbx] merges 15:0", 64, BYTES(0x66, 0x8b, 0x03),
	  OLD, 0xffffffffffffaaaaULL, 0x112233445566aaaaULL },
	{ "mov al,[rdi] merges 7:0", 64, BYTES(0x8a, 0x07),
	  OLD, 0x1234abULL, 0x11223344556677abULL },
	{ "mov bh,[rdi+4] merges 15:8", 64, BYTES(0x8a, 0x7f, 0x04),
	  OLD, 0xabULL, 0x112233445566ab88ULL },
	{ "mov sil,[rdi] merges 7:0 (REX)", 64, BYTES(0x40, 0x8a, 0x37),
	  OLD, 0xabULL, 0x11223344556677abULL },
	{ "movzx eax,byte [rcx] of 0x80", 64, BYTES(0x0f, 0xb6, 0x01),
	  OLD, 0xff80ULL, 0x80ULL },
	{ "movsx eax,byte [rcx] of 0x80", 64, BYTES(0x0f, 0xbe, 0x01),
	  OLD, 0x80ULL, 0xffffff80ULL },
	{ "movsx rax,byte [rdi] of 0x80", 64, BYTES(0x48, 0x0f, 0xbe, 0x07),
	  OLD, 0x80ULL, 0xffffffffffffff80ULL },
	{ "movsx rax,byte [rdi] of 0x7f", 64, BYTES(0x48, 0x0f, 0xbe, 0x07),
	  OLD, 0xff7fULL, 0x7fULL },
	{ "movsx eax,word [rdx+2] of 0x8000", 64,
	  BYTES(0x0f, 0xbf, 0x42, 0x02), OLD, 0x8000ULL, 0xffff8000ULL },
	{ "movzx ax,byte [rdi] merges 15:0", 64, BYTES(0x66, 0x0f, 0xb6, 0x07),
	  OLD, 0xffULL, 0x11223344556600ffULL },
	{ "movsx ax,byte [rdi] merges 15:0", 64, BYTES(0x66, 0x0f, 0xbe, 0x07),
	  OLD, 0x80ULL, 0x112233445566ff80ULL },
	{ "mov ax,[bx] (16-bit mode) merges 15:0", 16, BYTES(0x8b, 0x07),
	  OLD, 0xbeefULL, 0x112233445566beefULL },
};

/* Stores: @old is the source register; @data unused. */
static const struct value_case store_cases[] = {
	{ "mov [rdi+0x100],eax stores 31:0", 64,
	  BYTES(0x89, 0x87, 0x00, 0x01, 0x00, 0x00), OLD, 0, 0x55667788ULL },
	{ "mov [rax],dx stores 15:0", 64, BYTES(0x66, 0x89, 0x10),
	  OLD, 0, 0x7788ULL },
	{ "mov [rsi],ah stores 15:8", 64, BYTES(0x88, 0x26), OLD, 0, 0x77ULL },
	{ "mov [rsi],spl stores 7:0", 64, BYTES(0x40, 0x88, 0x26),
	  OLD, 0, 0x88ULL },
	{ "mov [rax],r8 stores 63:0", 64, BYTES(0x4c, 0x89, 0x00),
	  OLD, 0, OLD },
	{ "mov qword [rax],-16 stores imm", 64,
	  BYTES(0x48, 0xc7, 0x00, 0xf0, 0xff, 0xff, 0xff),
	  OLD, 0, 0xfffffffffffffff0ULL },
	{ "mov byte [rax],0xff stores imm", 64, BYTES(0xc6, 0x00, 0xff),
	  OLD, 0, 0xffULL },
};

/*
 * The register operand of the newer forms: @old is the register, @data
 * what is written into it (for reads of it, @data is unused).
 */
static const struct value_case regwrite_cases[] = {
	{ "lodsb merges 7:0", 64, BYTES(0xac), OLD, 0xab, 0x11223344556677abULL },
	{ "lodsd zero-extends", 64, BYTES(0xad), OLD, 0x89abcdefULL,
	  0x89abcdefULL },
	{ "lodsw (16-bit mode) merges 15:0", 16, BYTES(0xad), OLD, 0xbeef,
	  0x112233445566beefULL },
	{ "or ah,[rbx] result goes to 15:8", 64, BYTES(0x0a, 0x23), OLD, 0xab,
	  0x112233445566ab88ULL },
	{ "xchg [rbx],edx: 32-bit write zero-extends", 64, BYTES(0x87, 0x13),
	  OLD, 0xfeedfaceULL, 0xfeedfaceULL },
};

static const struct value_case regvalue_cases[] = {
	{ "xchg [rbx],ah reads 15:8", 64, BYTES(0x86, 0x23), OLD, 0, 0x77 },
	{ "and [rbx+4],esi reads 31:0", 64, BYTES(0x21, 0x73, 0x04), OLD, 0,
	  0x55667788ULL },
	{ "stosw reads 15:0", 64, BYTES(0x66, 0xab), OLD, 0, 0x7788 },
	{ "stosq reads 63:0", 64, BYTES(0x48, 0xab), OLD, 0, OLD },
	{ "stosb reads AL, not AH", 64, BYTES(0xaa), OLD, 0, 0x88 },
};

static void run_reg_case(const struct value_case *c, bool write)
{
	struct mkvm_insn insn;
	u64 got;

	if (mkvm_decode_mmio(c->code, c->ncode, c->mode, &insn)) {
		tap_ok(false, "register: %s", c->name);
		tap_diag("does not decode");
		return;
	}
	if (write)
		got = mkvm_insn_load_value(&insn, c->old, c->data);
	else
		got = mkvm_insn_reg_value(&insn, c->old);
	if (!tap_ok(got == c->want, "register: %s", c->name))
		tap_diag("got %#llx, want %#llx", (unsigned long long)got,
			 (unsigned long long)c->want);
}

static void run_value_case(const struct value_case *c, bool load)
{
	struct mkvm_insn insn;
	u64 got;

	if (mkvm_decode_mmio(c->code, c->ncode, c->mode, &insn)) {
		tap_ok(false, "%s: %s", load ? "load" : "store", c->name);
		tap_diag("does not decode");
		return;
	}
	if (load)
		got = mkvm_insn_load_value(&insn, c->old, c->data);
	else
		got = mkvm_insn_store_value(&insn, c->old);
	if (!tap_ok(got == c->want, "%s: %s", load ? "load" : "store",
		    c->name))
		tap_diag("got %#llx, want %#llx", (unsigned long long)got,
			 (unsigned long long)c->want);
}

int main(void)
{
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_decode_case(&cases[i]);
	for (i = 0; i < sizeof(value_cases) / sizeof(value_cases[0]); i++)
		run_value_case(&value_cases[i], true);
	for (i = 0; i < sizeof(store_cases) / sizeof(store_cases[0]); i++)
		run_value_case(&store_cases[i], false);
	for (i = 0; i < sizeof(regwrite_cases) / sizeof(regwrite_cases[0]); i++)
		run_reg_case(&regwrite_cases[i], true);
	for (i = 0; i < sizeof(regvalue_cases) / sizeof(regvalue_cases[0]); i++)
		run_reg_case(&regvalue_cases[i], false);
	return tap_done();
}
