// SPDX-License-Identifier: GPL-2.0-only
/*
 * Host-side tests of kmod/decode.c: real encodings (checked against a
 * disassembler) -> the expected struct mkvm_insn, then the register
 * arithmetic of mkvm_insn_load_value() and mkvm_insn_store_value().
 */
#include <string.h>

#include "decode.h"
#include "tap.h"

#define LD	MKVM_OP_LOAD
#define ST	MKVM_OP_STORE
#define STI	MKVM_OP_STORE_IMM
#define ZX	MKVM_EXT_ZERO
#define SX	MKVM_EXT_SIGN

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
	{ "add [rax],eax (not a MOV)", 64, BYTES(0x01, 0x00), .ret = -EINVAL },
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
	{ "bad mode", 8, BYTES(0x8b, 0x03), .ret = -EINVAL },
};

static bool insn_equal(const struct mkvm_insn *a, const struct mkvm_insn *b)
{
	return a->len == b->len && a->op == b->op && a->size == b->size &&
	       a->reg == b->reg && a->reg_size == b->reg_size &&
	       a->ext == b->ext && a->high8 == b->high8 && a->imm == b->imm;
}

static void print_insn(const char *what, const struct mkvm_insn *i)
{
	tap_diag("%s: len %u op %u size %u reg %u reg_size %u ext %u high8 %d imm %#llx",
		 what, i->len, i->op, i->size, i->reg, i->reg_size, i->ext,
		 i->high8, (unsigned long long)i->imm);
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
	return tap_done();
}
