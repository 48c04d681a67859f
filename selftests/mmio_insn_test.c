// SPDX-License-Identifier: GPL-2.0-only
/*
 * mmio_insn_test: string and read-modify-write instructions on MMIO.
 *
 * mmio_test covers the MOV forms. Real guests do more to devices: a VGA BIOS in
 * real mode writes text to the screen at 0xb8000 with REP STOSW and REP MOVSB, a
 * driver sets a bit with OR [reg], imm, tests one with TEST, swaps with XCHG. The
 * hypervisor must carry each such instruction out, turning every access to the
 * device into one KVM_EXIT_MMIO (api.rst, "KVM_EXIT_MMIO"):
 *
 *   - string instructions (MOVS, STOS, LODS, with or without REP): one exit per
 *     element that touches the device, of the element's size; RAM on the other
 *     side of a MOVS is read or written without an exit; rSI, rDI, rCX step as the
 *     CPU steps them (down with RFLAGS.DF);
 *   - OR/AND/ADD/NEG/INC/NOT... with a memory destination: a read exit, then a
 *     write exit with the result; CMP/TEST and "reg op= [mmio]": a read exit only;
 *     XCHG: a read exit, then a write exit of the register's old value;
 *   - RIP: at the instruction while a read exit waits for its data (KVM_GET_REGS
 *     shows it there); past it once the instruction is done, which a write exit
 *     already is; a REP instruction with elements left stays at itself.
 *
 * Each case is one instruction in a guest of its own (real mode, 32-bit protected
 * mode with and without paging, 64-bit mode), with a small device model here in
 * userspace (a 4 KiB window of bytes that reads and writes go to). The test
 * checks the exits in order (direction, address, length, written data, where RIP
 * stands), then the registers, RFLAGS, the device's and the RAM's contents.
 *
 * kvm.ko and minikvm make the same exits, in the same order, with the same data.
 * Neither batches the MMIO elements of a REP string instruction: kvm.ko goes on to
 * the next element in the kernel after a read exit, and re-enters the guest (which
 * runs the instruction again) after a write exit; minikvm re-enters the guest
 * after both; userspace sees one exit per element either way. (Batching belongs to
 * port I/O, where run->io.count says how many; KVM_EXIT_MMIO has no count.)
 *
 * One difference, allowed here (AT_DONE): at the write exit of a REP
 * instruction's last element, minikvm has moved RIP past the instruction, as a CPU
 * does once rCX reaches 0 (SDM Vol.2 "REP": the loop ends with the iteration that
 * makes the count 0). kvm.ko's emulator tests rCX = 0 only before an iteration
 * (x86_emulate_insn(); string_insn_completed() looks at ZF alone), so it leaves RIP
 * at the instruction with rCX = 0, and the guest runs it once more as a no-op.
 * Either way the guest goes on after the instruction with the same registers.
 */
#include <string.h>

#include "kselftest_harness.h"
#include "vm.h"
#include "x86.h"

/*
 * Memory: RAM from 0 to 640 KiB and from 768 KiB to GUEST_MEM_SIZE, a hole in
 * between as on a PC. The device sits in the hole at 0xb8000 (the colour text
 * screen) for the real-mode guests, and at 3 GiB, mapped by the long-mode page
 * tables, for the 64-bit ones.
 */
#define HOLE_START	0xa0000ULL
#define HOLE_END	0xc0000ULL
#define TEXT_GPA	0xb8000ULL
#define DEV64_GPA	0xc0000000ULL
#define DEV_SIZE	0x1000
#define RAM_BUF		GUEST_DATA_GPA	/* the RAM side of MOVS */
#define RO_GPA		0x40000000ULL	/* a read-only slot (ROM) */

#define CF	(1ULL << 0)
#define PF	(1ULL << 2)
#define AF	(1ULL << 4)
#define ZF	(1ULL << 6)
#define SF	(1ULL << 7)
#define DF	X86_RFLAGS_DF
#define OF	(1ULL << 11)
#define ARITH	(CF | PF | AF | ZF | SF | OF)

/*
 * One guest per case: an optional prologue (real mode: segment registers), the
 * instruction between the labels name_insn and name_next, then RAX is copied to
 * RBP (the ucall needs EAX) and the guest reports SYNC.
 */
#define INSN_GUEST(name, bits, prologue, insn)					\
	GUEST_ASM(name, bits, prologue "\n"					\
		  #name "_insn:\n\t" insn "\n"					\
		  #name "_next:\n\t"						\
		  "mov %eax, %ebp\n\t"						\
		  GUEST_SYNC							\
		  GUEST_DONE);							\
	extern const uint8_t name##_insn[], name##_next[]

#define ES_TEXT		"push $0xb800\n\tpop %es"	/* ES:0 = 0xb8000 */
#define FS_TEXT		"push $0xb800\n\tpop %fs"

/* Real mode: 16-bit code, the device through a segment at 0xb800. */
INSN_GUEST(r_rep_stosw, 16, ES_TEXT, "rep stosw");
INSN_GUEST(r_rep_movsb_out, 16, ES_TEXT, "rep movsb");
INSN_GUEST(r_rep_movsb_in, 16, FS_TEXT, "rep movsb %fs:(%si), %es:(%di)");
INSN_GUEST(r_lodsw_es, 16, ES_TEXT, "lodsw %es:(%si), %ax");
INSN_GUEST(r_orw, 16, ES_TEXT, "orw $0x8000, %es:0x30");
INSN_GUEST(r_andb, 16, ES_TEXT, "andb $0xfe, %es:(%di)");
INSN_GUEST(r_testw, 16, ES_TEXT, "testw $0x100, %es:(%bx)");
INSN_GUEST(r_xchg, 16, ES_TEXT, "xchg %ax, %es:(%bx)");
INSN_GUEST(r_rep_stosw_zero, 16, ES_TEXT, "rep stosw");

/* 32-bit protected mode, without and with paging (4 MiB pages up there). */
INSN_GUEST(p_rep_stosl, 32, "", "rep stosl");
INSN_GUEST(g_rep_movsw_out, 32, "", "rep movsw");

/* 64-bit mode: flat, the device at DEV64_GPA. */
INSN_GUEST(l_rep_stosw, 64, "", "rep stosw");
INSN_GUEST(l_rep_stosb_down, 64, "", "rep stosb");
INSN_GUEST(l_rep_movsb_out, 64, "", "rep movsb");
INSN_GUEST(l_rep_movsb_in, 64, "", "rep movsb");
INSN_GUEST(l_rep_movsq_both, 64, "", "rep movsq");
INSN_GUEST(l_movsl_down, 64, "", "movsl");
INSN_GUEST(l_lodsl, 64, "", "lodsl");
INSN_GUEST(l_rep_lodsb, 64, "", "rep lodsb");
INSN_GUEST(l_rep_stosb_a32, 64, "", "addr32 rep stosb");
INSN_GUEST(l_orl, 64, "", "orl $0x80, (%rbx)");
INSN_GUEST(l_andb, 64, "", "andb %al, 1(%rbx)");
INSN_GUEST(l_testl, 64, "", "testl $0x100, (%rbx)");
INSN_GUEST(l_xchg, 64, "", "xchg %edx, (%rbx)");
INSN_GUEST(l_add_reg, 64, "", "add (%rbx), %eax");
INSN_GUEST(l_cmpq, 64, "", "cmpq $0, (%rbx)");
INSN_GUEST(l_lock_incl, 64, "", "lock incl (%rbx)");
INSN_GUEST(l_negw, 64, "", "negw (%rbx)");
INSN_GUEST(l_notb, 64, "", "notb (%rbx)");
INSN_GUEST(l_adcl, 64, "", "adcl $1, (%rbx)");
INSN_GUEST(l_sub_ah, 64, "", "sub %ah, 2(%rbx)");

/* Bytes at an offset: in the device window, or in RAM at RAM_BUF. */
struct span {
	uint32_t off;
	uint8_t len;
	uint8_t bytes[16];
};

/*
 * RIP at an exit: still at the instruction, or past it. AT_DONE is the write exit
 * of a REP instruction's last element, where the two modules differ (see the top
 * of the file): RIP past the instruction, or at it with rCX = 0.
 */
#define AT_INSN	0
#define AT_NEXT	1
#define AT_DONE	2

struct exit_want {
	uint8_t is_write;
	uint32_t off;		/* phys_addr - the device's base */
	uint8_t len;
	uint64_t data;		/* written data; reads get the device's bytes */
	uint8_t at;
};

#define R(o, l, a)	{ .is_write = 0, .off = (o), .len = (l), .at = (a) }
#define W(o, l, d, a)	{ .is_write = 1, .off = (o), .len = (l), .data = (d), .at = (a) }

struct regs6 {
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rflags;
};

FIXTURE(insn) {
	struct vcpu *vcpu;
	uint8_t dev[DEV_SIZE];
};

FIXTURE_VARIANT(insn) {
	enum guest_mode mode;
	struct guest_code code;
	const uint8_t *insn, *next;	/* the labels around the instruction */
	uint64_t dev_gpa;
	struct regs6 in, out;		/* before and after the instruction */
	uint64_t flags_ignore;		/* flags the SDM leaves undefined */
	struct span dev_in, dev_out, ram_in, ram_out;
	int nr_exits;
	struct exit_want exits[8];
};

/*
 * In RBX, RSI and RDI, addresses of the device are written as DEV(offset) and
 * become dev_gpa + offset (real mode: the offset itself, ES/FS point at the
 * device). Other values, and the other registers, are taken as they are.
 */
#define DEVBIT		(1ULL << 62)
#define DEV(o)		(DEVBIT | (o))

static uint64_t resolve(const FIXTURE_VARIANT(insn) *v, uint64_t val)
{
	if (!(val & DEVBIT))
		return val;
	val &= ~DEVBIT;
	return v->mode == MODE_REAL ? val : v->dev_gpa + val;
}

#define CASE(n, m, base)							\
	FIXTURE_VARIANT_ADD(insn, n) {						\
		.mode = (m), .code = GUEST_CODE_INIT(n),			\
		.insn = n##_insn, .next = n##_next, .dev_gpa = (base),
#define REAL(n)	CASE(n, MODE_REAL, TEXT_GPA)
#define PROT(n)	CASE(n, MODE_PROT32, TEXT_GPA)
#define PAGED(n) CASE(n, MODE_PAGED32, DEV64_GPA)
#define LONG(n)	CASE(n, MODE_LONG64, DEV64_GPA)
#define END	}

/* ---------------------------------------------------------------- real mode */

/* The VGA BIOS's way to clear a line: three attribute/character words. */
REAL(r_rep_stosw)
	.in  = { .rax = 0x0741, .rcx = 3, .rdi = DEV(0x10) },
	.out = { .rax = 0x0741, .rcx = 0, .rdi = DEV(0x16) },
	.dev_out = { 0x10, 6, { 0x41, 0x07, 0x41, 0x07, 0x41, 0x07 } },
	.nr_exits = 3,
	.exits = { W(0x10, 2, 0x0741, AT_INSN), W(0x12, 2, 0x0741, AT_INSN),
		   W(0x14, 2, 0x0741, AT_DONE) },
END;

/* RAM (DS:SI) to the screen (ES:DI): the RAM side makes no exit. */
REAL(r_rep_movsb_out)
	.in  = { .rcx = 3, .rsi = RAM_BUF, .rdi = DEV(0x20) },
	.out = { .rcx = 0, .rsi = RAM_BUF + 3, .rdi = DEV(0x23) },
	.ram_in = { 0, 3, "Hi!" },
	.dev_out = { 0x20, 3, "Hi!" },
	.nr_exits = 3,
	.exits = { W(0x20, 1, 'H', AT_INSN), W(0x21, 1, 'i', AT_INSN),
		   W(0x22, 1, '!', AT_DONE) },
END;

/* The screen (FS:SI, a segment override) to RAM (ES:DI, ES = 0): reads only. */
REAL(r_rep_movsb_in)
	.in  = { .rcx = 4, .rsi = DEV(0x40), .rdi = RAM_BUF },
	.out = { .rcx = 0, .rsi = DEV(0x44), .rdi = RAM_BUF + 4 },
	.dev_in = { 0x40, 4, "abcd" },
	.ram_out = { 0, 4, "abcd" },
	.nr_exits = 4,
	.exits = { R(0x40, 1, AT_INSN), R(0x41, 1, AT_INSN), R(0x42, 1, AT_INSN),
		   R(0x43, 1, AT_INSN) },
END;

/* LODSW with an ES override: AX takes the word, the rest of EAX stays. */
REAL(r_lodsw_es)
	.in  = { .rax = 0x11112222, .rsi = DEV(0x50) },
	.out = { .rax = 0x1111beef, .rsi = DEV(0x52) },
	.dev_in = { 0x50, 2, { 0xef, 0xbe } },
	.nr_exits = 1,
	.exits = { R(0x50, 2, AT_INSN) },
END;

/* OR word [es:0x30], 0x8000: read, then write; SF from the result. */
REAL(r_orw)
	.in  = { .rflags = CF | OF | ZF },
	.out = { .rflags = SF },
	.flags_ignore = AF,		/* undefined after OR (SDM Vol.2 OR) */
	.dev_in = { 0x30, 2, { 0x01, 0x00 } },
	.dev_out = { 0x30, 2, { 0x01, 0x80 } },
	.nr_exits = 2,
	.exits = { R(0x30, 2, AT_INSN), W(0x30, 2, 0x8001, AT_NEXT) },
END;

REAL(r_andb)
	.in  = { .rdi = DEV(0x31) },
	.out = { .rdi = DEV(0x31), .rflags = ZF | PF },
	.flags_ignore = AF,
	.dev_in = { 0x31, 1, { 0x01 } },
	.dev_out = { 0x31, 1, { 0x00 } },
	.nr_exits = 2,
	.exits = { R(0x31, 1, AT_INSN), W(0x31, 1, 0x00, AT_NEXT) },
END;

/* TEST reads, sets flags, writes nothing. */
REAL(r_testw)
	.in  = { .rbx = DEV(0x32), .rflags = CF },
	.out = { .rbx = DEV(0x32), .rflags = ZF | PF },
	.flags_ignore = AF,
	.dev_in = { 0x32, 2, { 0xff, 0xfe } },
	.dev_out = { 0x32, 2, { 0xff, 0xfe } },
	.nr_exits = 1,
	.exits = { R(0x32, 2, AT_INSN) },
END;

REAL(r_xchg)
	.in  = { .rax = 0xaaaa1234, .rbx = DEV(0x34) },
	.out = { .rax = 0xaaaa5678, .rbx = DEV(0x34) },
	.dev_in = { 0x34, 2, { 0x78, 0x56 } },
	.dev_out = { 0x34, 2, { 0x34, 0x12 } },
	.nr_exits = 2,
	.exits = { R(0x34, 2, AT_INSN), W(0x34, 2, 0x1234, AT_NEXT) },
END;

/* REP with CX = 0: nothing is accessed, so there is nothing to exit for. */
REAL(r_rep_stosw_zero)
	.in  = { .rax = 0x0741, .rcx = 0, .rdi = DEV(0x10) },
	.out = { .rax = 0x0741, .rcx = 0, .rdi = DEV(0x10) },
	.nr_exits = 0,
END;

/* ---------------------------------------------------------------- 32-bit modes */

PROT(p_rep_stosl)
	.in  = { .rax = 0xdeadbeef, .rcx = 2, .rdi = DEV(0x10) },
	.out = { .rax = 0xdeadbeef, .rcx = 0, .rdi = DEV(0x18) },
	.dev_out = { 0x10, 8, { 0xef, 0xbe, 0xad, 0xde, 0xef, 0xbe, 0xad, 0xde } },
	.nr_exits = 2,
	.exits = { W(0x10, 4, 0xdeadbeef, AT_INSN), W(0x14, 4, 0xdeadbeef, AT_DONE) },
END;

/* The destination found through the guest's 32-bit page tables. */
PAGED(g_rep_movsw_out)
	.in  = { .rcx = 2, .rsi = RAM_BUF, .rdi = DEV(0x20) },
	.out = { .rcx = 0, .rsi = RAM_BUF + 4, .rdi = DEV(0x24) },
	.ram_in = { 0, 4, { 0x11, 0x22, 0x33, 0x44 } },
	.dev_out = { 0x20, 4, { 0x11, 0x22, 0x33, 0x44 } },
	.nr_exits = 2,
	.exits = { W(0x20, 2, 0x2211, AT_INSN), W(0x22, 2, 0x4433, AT_DONE) },
END;

/* ---------------------------------------------------------------- 64-bit mode */

LONG(l_rep_stosw)
	.in  = { .rax = 0xbeef, .rcx = 4, .rdi = DEV(0) },
	.out = { .rax = 0xbeef, .rcx = 0, .rdi = DEV(8) },
	.dev_out = { 0, 8, { 0xef, 0xbe, 0xef, 0xbe, 0xef, 0xbe, 0xef, 0xbe } },
	.nr_exits = 4,
	.exits = { W(0, 2, 0xbeef, AT_INSN), W(2, 2, 0xbeef, AT_INSN),
		   W(4, 2, 0xbeef, AT_INSN), W(6, 2, 0xbeef, AT_DONE) },
END;

/* RFLAGS.DF = 1: downwards. */
LONG(l_rep_stosb_down)
	.in  = { .rax = 0x5a, .rcx = 3, .rdi = DEV(0x13), .rflags = DF },
	.out = { .rax = 0x5a, .rcx = 0, .rdi = DEV(0x10), .rflags = DF },
	.dev_out = { 0x10, 4, { 0x00, 0x5a, 0x5a, 0x5a } },
	.nr_exits = 3,
	.exits = { W(0x13, 1, 0x5a, AT_INSN), W(0x12, 1, 0x5a, AT_INSN),
		   W(0x11, 1, 0x5a, AT_DONE) },
END;

LONG(l_rep_movsb_out)
	.in  = { .rcx = 5, .rsi = RAM_BUF, .rdi = DEV(0x20) },
	.out = { .rcx = 0, .rsi = RAM_BUF + 5, .rdi = DEV(0x25) },
	.ram_in = { 0, 5, "hello" },
	.dev_out = { 0x20, 5, "hello" },
	.nr_exits = 5,
	.exits = { W(0x20, 1, 'h', AT_INSN), W(0x21, 1, 'e', AT_INSN),
		   W(0x22, 1, 'l', AT_INSN), W(0x23, 1, 'l', AT_INSN),
		   W(0x24, 1, 'o', AT_DONE) },
END;

LONG(l_rep_movsb_in)
	.in  = { .rcx = 5, .rsi = DEV(0x40), .rdi = RAM_BUF },
	.out = { .rcx = 0, .rsi = DEV(0x45), .rdi = RAM_BUF + 5 },
	.dev_in = { 0x40, 5, "world" },
	.ram_out = { 0, 5, "world" },
	.nr_exits = 5,
	.exits = { R(0x40, 1, AT_INSN), R(0x41, 1, AT_INSN), R(0x42, 1, AT_INSN),
		   R(0x43, 1, AT_INSN), R(0x44, 1, AT_INSN) },
END;

/* Device to device: each element is a read exit, then a write exit. */
LONG(l_rep_movsq_both)
	.in  = { .rcx = 2, .rsi = DEV(0x80), .rdi = DEV(0xa0) },
	.out = { .rcx = 0, .rsi = DEV(0x90), .rdi = DEV(0xb0) },
	.dev_in = { 0x80, 16, { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 } },
	.dev_out = { 0xa0, 16, { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 } },
	.nr_exits = 4,
	.exits = { R(0x80, 8, AT_INSN), W(0xa0, 8, 0x0807060504030201ULL, AT_INSN),
		   R(0x88, 8, AT_INSN), W(0xa8, 8, 0x100f0e0d0c0b0a09ULL, AT_DONE) },
END;

/* One MOVSD without REP, backwards: both pointers step down by 4. */
LONG(l_movsl_down)
	.in  = { .rcx = 7, .rsi = RAM_BUF + 8, .rdi = DEV(0x60), .rflags = DF },
	.out = { .rcx = 7, .rsi = RAM_BUF + 4, .rdi = DEV(0x5c), .rflags = DF },
	.ram_in = { 8, 4, { 0x78, 0x56, 0x34, 0x12 } },
	.dev_out = { 0x60, 4, { 0x78, 0x56, 0x34, 0x12 } },
	.nr_exits = 1,
	.exits = { W(0x60, 4, 0x12345678, AT_NEXT) },
END;

/* LODSD: a 32-bit load zero-extends into RAX. */
LONG(l_lodsl)
	.in  = { .rax = 0xffffffffffffffffULL, .rsi = DEV(0x50) },
	.out = { .rax = 0x89abcdef, .rsi = DEV(0x54) },
	.dev_in = { 0x50, 4, { 0xef, 0xcd, 0xab, 0x89 } },
	.nr_exits = 1,
	.exits = { R(0x50, 4, AT_INSN) },
END;

/* REP LODSB is legal, if useless: AL ends with the last byte. */
LONG(l_rep_lodsb)
	.in  = { .rax = 0x1100, .rcx = 2, .rsi = DEV(0x60) },
	.out = { .rax = 0x11bb, .rcx = 0, .rsi = DEV(0x62) },
	.dev_in = { 0x60, 2, { 0xaa, 0xbb } },
	.nr_exits = 2,
	.exits = { R(0x60, 1, AT_INSN), R(0x61, 1, AT_INSN) },
END;

/* 67 prefix: EDI and ECX, not RDI and RCX. */
LONG(l_rep_stosb_a32)
	.in  = { .rax = 0x33, .rcx = 2, .rdi = DEV(0x70) },
	.out = { .rax = 0x33, .rcx = 0, .rdi = DEV(0x72) },
	.dev_out = { 0x70, 2, { 0x33, 0x33 } },
	.nr_exits = 2,
	.exits = { W(0x70, 1, 0x33, AT_INSN), W(0x71, 1, 0x33, AT_DONE) },
END;

/* A driver setting a bit: read, write back with the bit. */
LONG(l_orl)
	.in  = { .rbx = DEV(0x100), .rflags = CF | OF },
	.out = { .rbx = DEV(0x100), .rflags = PF },
	.flags_ignore = AF,
	.dev_in = { 0x100, 4, { 0x01, 0x00, 0x00, 0x00 } },
	.dev_out = { 0x100, 4, { 0x81, 0x00, 0x00, 0x00 } },
	.nr_exits = 2,
	.exits = { R(0x100, 4, AT_INSN), W(0x100, 4, 0x81, AT_NEXT) },
END;

LONG(l_andb)
	.in  = { .rax = 0x0f, .rbx = DEV(0x100) },
	.out = { .rax = 0x0f, .rbx = DEV(0x100), .rflags = ZF | PF },
	.flags_ignore = AF,
	.dev_in = { 0x101, 1, { 0xf0 } },
	.dev_out = { 0x101, 1, { 0x00 } },
	.nr_exits = 2,
	.exits = { R(0x101, 1, AT_INSN), W(0x101, 1, 0x00, AT_NEXT) },
END;

LONG(l_testl)
	.in  = { .rbx = DEV(0x100) },
	.out = { .rbx = DEV(0x100), .rflags = ZF | PF },
	.flags_ignore = AF,
	.dev_in = { 0x100, 4, { 0xff, 0xfe, 0xff, 0xff } },
	.dev_out = { 0x100, 4, { 0xff, 0xfe, 0xff, 0xff } },
	.nr_exits = 1,
	.exits = { R(0x100, 4, AT_INSN) },
END;

/* XCHG with a 32-bit register: it is zero-extended like any 32-bit write. */
LONG(l_xchg)
	.in  = { .rbx = DEV(0x100), .rdx = 0xffffffffdeadbeefULL },
	.out = { .rbx = DEV(0x100), .rdx = 0x12345678 },
	.dev_in = { 0x100, 4, { 0x78, 0x56, 0x34, 0x12 } },
	.dev_out = { 0x100, 4, { 0xef, 0xbe, 0xad, 0xde } },
	.nr_exits = 2,
	.exits = { R(0x100, 4, AT_INSN), W(0x100, 4, 0xdeadbeef, AT_NEXT) },
END;

/* reg += [mmio]: one read; EAX wraps to 0 with CF, ZF, AF. */
LONG(l_add_reg)
	.in  = { .rax = 0x55555555ffffffffULL, .rbx = DEV(0x100) },
	.out = { .rax = 0, .rbx = DEV(0x100), .rflags = CF | ZF | PF | AF },
	.dev_in = { 0x100, 4, { 0x01, 0x00, 0x00, 0x00 } },
	.nr_exits = 1,
	.exits = { R(0x100, 4, AT_INSN) },
END;

/* CMP with 0: flags of the value itself, no write. */
LONG(l_cmpq)
	.in  = { .rbx = DEV(0x100), .rflags = CF | ZF },
	.out = { .rbx = DEV(0x100), .rflags = SF | PF },
	.dev_in = { 0x100, 8, { 0, 0, 0, 0, 0, 0, 0, 0x80 } },
	.nr_exits = 1,
	.exits = { R(0x100, 8, AT_INSN) },
END;

/* INC overflows into the sign and keeps CF. */
LONG(l_lock_incl)
	.in  = { .rbx = DEV(0x100), .rflags = CF },
	.out = { .rbx = DEV(0x100), .rflags = CF | OF | SF | AF | PF },
	.dev_in = { 0x100, 4, { 0xff, 0xff, 0xff, 0x7f } },
	.nr_exits = 2,
	.exits = { R(0x100, 4, AT_INSN), W(0x100, 4, 0x80000000, AT_NEXT) },
END;

LONG(l_negw)
	.in  = { .rbx = DEV(0x100) },
	.out = { .rbx = DEV(0x100), .rflags = CF | SF | PF | AF },
	.dev_in = { 0x100, 2, { 0x01, 0x00 } },
	.nr_exits = 2,
	.exits = { R(0x100, 2, AT_INSN), W(0x100, 2, 0xffff, AT_NEXT) },
END;

/* NOT changes no flag. */
LONG(l_notb)
	.in  = { .rbx = DEV(0x100), .rflags = CF | ZF },
	.out = { .rbx = DEV(0x100), .rflags = CF | ZF },
	.dev_in = { 0x100, 1, { 0x0f } },
	.nr_exits = 2,
	.exits = { R(0x100, 1, AT_INSN), W(0x100, 1, 0xf0, AT_NEXT) },
END;

/* ADC takes CF in: 0xfffffffe + 1 + 1 carries out. */
LONG(l_adcl)
	.in  = { .rbx = DEV(0x100), .rflags = CF },
	.out = { .rbx = DEV(0x100), .rflags = CF | ZF | PF | AF },
	.dev_in = { 0x100, 4, { 0xfe, 0xff, 0xff, 0xff } },
	.nr_exits = 2,
	.exits = { R(0x100, 4, AT_INSN), W(0x100, 4, 0, AT_NEXT) },
END;

/* SUB of AH (bits 15:8 of RAX) from a byte: 0x10 - 0x20 borrows. */
LONG(l_sub_ah)
	.in  = { .rax = 0x2000, .rbx = DEV(0x100) },
	.out = { .rax = 0x2000, .rbx = DEV(0x100), .rflags = CF | SF | PF },
	.dev_in = { 0x102, 1, { 0x10 } },
	.nr_exits = 2,
	.exits = { R(0x102, 1, AT_INSN), W(0x102, 1, 0xf0, AT_NEXT) },
END;

/* ---------------------------------------------------------------- the run */

/* RAM everywhere except the hole, tables, code, vCPU 0 in @mode. */
static struct vcpu *create_guest(enum guest_mode mode, struct guest_code code)
{
	struct vm *vm = vm_create();
	struct vcpu *vcpu;

	vm_add_memory(vm, 0, 0, HOLE_START, 0);
	vm_add_memory(vm, 1, HOLE_END, GUEST_MEM_SIZE - HOLE_END, 0);
	vm_init_tables(vm);
	vm_load_code(vm, code);
	vcpu = vcpu_add(vm, 0);
	vcpu_init_mode(vcpu, mode, GUEST_CODE_GPA);
	return vcpu;
}

/* RIP of a label in the code: real mode counts from CS base = GUEST_CODE_GPA. */
static uint64_t label_rip(const FIXTURE_VARIANT(insn) *v, const uint8_t *label)
{
	uint64_t off = label - v->code.start;

	return v->mode == MODE_REAL ? off : GUEST_CODE_GPA + off;
}

FIXTURE_SETUP(insn)
{
	struct kvm_regs regs;

	self->vcpu = NULL;
	TEST_REQUIRE_KVM();
	self->vcpu = create_guest(variant->mode, variant->code);
	memset(self->dev, 0, sizeof(self->dev));
	memcpy(self->dev + variant->dev_in.off, variant->dev_in.bytes, variant->dev_in.len);
	memcpy(gpa_to_hva(self->vcpu->vm, RAM_BUF + variant->ram_in.off),
	       variant->ram_in.bytes, variant->ram_in.len);

	vcpu_get_regs(self->vcpu, &regs);
	regs.rax = variant->in.rax;
	regs.rbx = resolve(variant, variant->in.rbx);
	regs.rcx = variant->in.rcx;
	regs.rdx = variant->in.rdx;
	regs.rsi = resolve(variant, variant->in.rsi);
	regs.rdi = resolve(variant, variant->in.rdi);
	regs.rflags = X86_RFLAGS_FIXED | variant->in.rflags;
	vcpu_set_regs(self->vcpu, &regs);
}

FIXTURE_TEARDOWN(insn)
{
	if (self->vcpu)
		vm_free(self->vcpu->vm);
}

/*
 * The device: check one MMIO exit against @want and serve it from self->dev. A
 * failure names the exit's number, what came and what was expected.
 */
static void check_exit(struct __test_metadata *_metadata, FIXTURE_DATA(insn) *self,
		       const FIXTURE_VARIANT(insn) *variant, int i)
{
	const struct exit_want *want = &variant->exits[i];
	struct kvm_run *run = self->vcpu->run;
	uint64_t off = run->mmio.phys_addr - variant->dev_gpa, data = 0;
	struct kvm_regs regs;
	char desc[256];

	/* On a failure, say which exit it was and what it looked like. */
	vcpu_describe_exit(self->vcpu, desc, sizeof(desc));
#define CHECK(assertion) assertion TH_LOG("exit %d: %s", i, desc)
	CHECK(ASSERT_EQ(want->is_write, run->mmio.is_write));
	CHECK(ASSERT_EQ(variant->dev_gpa + want->off, run->mmio.phys_addr));
	CHECK(ASSERT_EQ(want->len, run->mmio.len));
	CHECK(ASSERT_LE(off + run->mmio.len, DEV_SIZE));

	vcpu_get_regs(self->vcpu, &regs);
	if (want->at == AT_DONE && regs.rip == label_rip(variant, variant->insn)) {
		CHECK(EXPECT_EQ(0, regs.rcx));		/* kvm.ko */
	} else {
		CHECK(EXPECT_EQ(label_rip(variant, want->at == AT_INSN ?
					 variant->insn : variant->next),
				regs.rip));
	}

	if (run->mmio.is_write) {
		memcpy(&data, run->mmio.data, run->mmio.len);
		CHECK(EXPECT_EQ(want->data, data));
#undef CHECK
		memcpy(self->dev + off, run->mmio.data, run->mmio.len);
	} else {
		memcpy(run->mmio.data, self->dev + off, run->mmio.len);
	}
}

static void expect_span(struct __test_metadata *_metadata, const char *what,
			const uint8_t *mem, const struct span *want)
{
	int i;

	for (i = 0; i < want->len; i++) {
		if (mem[want->off + i] == want->bytes[i])
			continue;
		TH_LOG("%s byte %#x: %#x, expected %#x", what, want->off + i,
		       mem[want->off + i], want->bytes[i]);
		EXPECT_EQ(want->bytes[i], mem[want->off + i]);
		return;
	}
}

TEST_F(insn, run)
{
	struct vcpu *vcpu = self->vcpu;
	uint64_t mask = DF | (ARITH & ~variant->flags_ignore);
	struct kvm_regs regs;
	struct ucall uc;
	int i;

	if (!vcpu)		/* skipped in FIXTURE_SETUP */
		return;

	for (i = 0; i < variant->nr_exits; i++) {
		vcpu_expect_exit(vcpu, KVM_EXIT_MMIO);
		check_exit(_metadata, self, variant, i);
	}
	/* No further exit: the next one is the guest's report. */
	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));

	vcpu_get_regs(vcpu, &regs);
	EXPECT_EQ(variant->out.rax, regs.rbp);		/* RAX, saved */
	EXPECT_EQ(resolve(variant, variant->out.rbx), regs.rbx);
	EXPECT_EQ(variant->out.rcx, regs.rcx);
	EXPECT_EQ(variant->out.rdx, regs.rdx);
	EXPECT_EQ(resolve(variant, variant->out.rsi), regs.rsi);
	EXPECT_EQ(resolve(variant, variant->out.rdi), regs.rdi);
	EXPECT_EQ(variant->out.rflags & mask, regs.rflags & mask);
	expect_span(_metadata, "device", self->dev, &variant->dev_out);
	expect_span(_metadata, "RAM", gpa_to_hva(vcpu->vm, RAM_BUF), &variant->ram_out);
	ASSERT_EQ(UCALL_DONE, vcpu_run_ucall(vcpu, &uc));
}

/*
 * Read-modify-write of ROM (a KVM_MEM_READONLY slot): the CPU reads the old value
 * from memory without trouble, only its write faults. So the hypervisor reads the
 * slot itself and userspace sees just the write exit; the ROM is not changed.
 */
GUEST_ASM(rom_or, 64,
	"orl $0x80, (%rbx)\n\t"
	"mov (%rbx), %esi\n\t"
	GUEST_SYNC
	GUEST_DONE);

TEST(rom_read_modify_write)
{
	struct kvm_regs regs;
	struct vcpu *vcpu;
	struct kvm_run *run;
	struct ucall uc;
	uint32_t *rom, data;

	TEST_REQUIRE_CAP(KVM_CAP_READONLY_MEM);
	vcpu = vm_create_guest(MODE_LONG64, GUEST_CODE(rom_or));
	run = vcpu->run;
	rom = vm_add_memory(vcpu->vm, 2, RO_GPA, PAGE_SIZE, KVM_MEM_READONLY);
	rom[0] = 0x12345601;
	vcpu_get_regs(vcpu, &regs);
	regs.rbx = RO_GPA;
	vcpu_set_regs(vcpu, &regs);

	vcpu_expect_exit(vcpu, KVM_EXIT_MMIO);
	EXPECT_EQ(RO_GPA, run->mmio.phys_addr);
	EXPECT_EQ(4, run->mmio.len);
	EXPECT_EQ(1, run->mmio.is_write);
	memcpy(&data, run->mmio.data, 4);
	EXPECT_EQ(0x12345681, data);

	ASSERT_EQ(UCALL_SYNC, vcpu_run_ucall(vcpu, &uc));
	EXPECT_EQ(0x12345601, uc.args[1]);		/* the ROM as it was */
	EXPECT_EQ(0x12345601, rom[0]);
	vm_free(vcpu->vm);
}

/*
 * An instruction on MMIO that neither module emulates (here the x87 load FLD,
 * D9 /0) must not vanish: KVM_EXIT_INTERNAL_ERROR, suberror
 * KVM_INTERNAL_ERROR_EMULATION. minikvm also hands over the instruction's bytes
 * (KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES); kvm.ko 6.1 does too when
 * it has them.
 */
GUEST_ASM(mmio_fld, 64,
	"flds (%rbx)\n\t"
	GUEST_SYNC
	GUEST_DONE);

TEST(unknown_instruction)
{
	struct kvm_regs regs;
	struct vcpu *vcpu;
	struct kvm_run *run;

	TEST_REQUIRE_KVM();
	vcpu = create_guest(MODE_LONG64, GUEST_CODE(mmio_fld));
	run = vcpu->run;
	vcpu_get_regs(vcpu, &regs);
	regs.rbx = DEV64_GPA;
	vcpu_set_regs(vcpu, &regs);

	vcpu_run(vcpu);
	ASSERT_EQ(KVM_EXIT_INTERNAL_ERROR, run->exit_reason);
	EXPECT_EQ(KVM_INTERNAL_ERROR_EMULATION, run->emulation_failure.suberror);
	if (run->emulation_failure.ndata >= 3 &&
	    (run->emulation_failure.flags &
	     KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES)) {
		ASSERT_LE(2, run->emulation_failure.insn_size);
		EXPECT_EQ(0xd9, run->emulation_failure.insn_bytes[0]);
		EXPECT_EQ(0x03, run->emulation_failure.insn_bytes[1]);
	} else {
		EXPECT_FALSE(kvm_is_minikvm());
	}
	vm_free(vcpu->vm);
}

TEST_HARNESS_MAIN
