// SPDX-License-Identifier: GPL-2.0-only
/*
 * Host-side tests of kmod/alu.c, the C ALU of the MMIO emulator.
 *
 * 1. A table of cases worked out by hand from the SDM (Vol.1 3.4.3.1 and
 *    the Vol.2 pages of ADD, SUB, NEG, INC...): the textbook carries and
 *    overflows.
 * 2. "What the CPU would compute": the same operation run by the host
 *    CPU's own instruction (inline asm, RFLAGS set with POPF before and
 *    read with PUSHF after), for every operation and operand size, on
 *    every pair of edge values (0, 1, all ones, around the sign bit, around
 *    bit 4 for AF) with CF in and out, and then on many random pairs. Result
 *    and the flags the SDM defines must be equal, and the flags an
 *    operation does not write must come out as they went in.
 *
 * One TAP line per operation and size (the number of values tried in it),
 * with the first disagreement spelled out.
 */
#include <stdio.h>
#include <string.h>

#include "alu.h"
#include "tap.h"

/* ---------------------------------------------------------------- table */

#define CF	MKVM_FLAG_CF
#define PF	MKVM_FLAG_PF
#define AF	MKVM_FLAG_AF
#define ZF	MKVM_FLAG_ZF
#define SF	MKVM_FLAG_SF
#define OF	MKVM_FLAG_OF

struct alu_case {
	const char *name;
	int op, size;
	u64 dst, src, flags_in;
	u64 want, want_flags;	/* want_flags: the arithmetic flags after */
};

static const struct alu_case table[] = {
	{ "add al: 0x7f + 1 overflows into the sign", MKVM_ALU_ADD, 1,
	  0x7f, 1, 0, 0x80, SF | OF | AF },
	{ "add al: 0xff + 1 carries out, result 0", MKVM_ALU_ADD, 1,
	  0xff, 1, 0, 0, CF | ZF | PF | AF },
	{ "add ax: 0x8000 + 0x8000: carry and overflow", MKVM_ALU_ADD, 2,
	  0x8000, 0x8000, 0, 0, CF | ZF | PF | OF },
	{ "add rax: all ones + all ones", MKVM_ALU_ADD, 8,
	  ~0ULL, ~0ULL, 0, ~1ULL, CF | SF | AF },
	{ "adc eax: 0xffffffff + 0 + CF", MKVM_ALU_ADC, 4,
	  0xffffffff, 0, CF, 0, CF | ZF | PF | AF },
	{ "sub al: 0 - 1 borrows", MKVM_ALU_SUB, 1,
	  0, 1, 0, 0xff, CF | SF | PF | AF },
	{ "sub al: 0x80 - 1 overflows out of the sign", MKVM_ALU_SUB, 1,
	  0x80, 1, 0, 0x7f, OF | AF },
	{ "sbb eax: 5 - 5 - CF", MKVM_ALU_SBB, 4,
	  5, 5, CF, 0xffffffff, CF | SF | PF | AF },
	{ "cmp rax: equal gives ZF, result not stored", MKVM_ALU_CMP, 8,
	  0x1234, 0x1234, CF | OF, 0, ZF | PF },
	{ "and: clears CF and OF", MKVM_ALU_AND, 4,
	  0xf0f0f0f0, 0x0ff00ff0, CF | OF, 0x00f000f0, PF },
	{ "or ax: sign of the result", MKVM_ALU_OR, 2,
	  0x8000, 0x0001, 0, 0x8001, SF },
	{ "xor: x ^ x is 0", MKVM_ALU_XOR, 8,
	  0xdeadbeefULL, 0xdeadbeefULL, CF, 0, ZF | PF },
	{ "test: 0x100 & 0xff is 0", MKVM_ALU_TEST, 4,
	  0x100, 0xff, 0, 0, ZF | PF },
	{ "not: every bit, no flag touched", MKVM_ALU_NOT, 2,
	  0x00ff, 0, CF | ZF | OF, 0xff00, CF | ZF | OF },
	{ "neg al: -0x80 is 0x80 with OF", MKVM_ALU_NEG, 1,
	  0x80, 0, 0, 0x80, CF | SF | OF },
	{ "neg: -0 is 0 without CF", MKVM_ALU_NEG, 4,
	  0, 0, CF, 0, ZF | PF },
	{ "inc al: 0xff + 1 keeps CF (here clear)", MKVM_ALU_INC, 1,
	  0xff, 0, 0, 0, ZF | PF | AF },
	{ "inc al: 0xff + 1 keeps CF (here set)", MKVM_ALU_INC, 1,
	  0xff, 0, CF, 0, CF | ZF | PF | AF },
	{ "dec eax: 0x80000000 - 1 overflows", MKVM_ALU_DEC, 4,
	  0x80000000, 0, CF, 0x7fffffff, CF | OF | AF | PF },
	{ "add: only the low byte counts for PF", MKVM_ALU_ADD, 2,
	  0x0100, 0x0003, 0, 0x0103, PF },
};

static void run_table(void)
{
	size_t i;

	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		const struct alu_case *c = &table[i];
		u64 flags = c->flags_in | 0x2;	/* bit 1 always reads 1 */
		u64 r = mkvm_alu(c->op, c->size, c->dst, c->src, &flags);
		bool ok = (flags & MKVM_FLAGS_ARITH) == c->want_flags &&
			  (flags & ~MKVM_FLAGS_ARITH) == 0x2 &&
			  (!mkvm_alu_writes(c->op) || r == c->want);

		if (!tap_ok(ok, "table: %s", c->name))
			tap_diag("got %#llx flags %#llx, want %#llx flags %#llx",
				 (unsigned long long)r,
				 (unsigned long long)flags,
				 (unsigned long long)c->want,
				 (unsigned long long)c->want_flags);
	}
}

/* ---------------------------------------------------------------- host CPU */

/*
 * Run "insn src, dst" (AT&T order) on the host with RFLAGS = *f before,
 * and leave RFLAGS after in *f. The 128-byte step over the red zone keeps
 * PUSH from clobbering what the compiler may keep below RSP; LEA leaves
 * the flags alone.
 */
#define PRE	"lea -128(%%rsp), %%rsp\n\tpush %[f]\n\tpopfq\n\t"
#define POST	"\n\tpushfq\n\tpop %[f]\n\tlea 128(%%rsp), %%rsp"

#define HOST2(insn, sz, mod)						\
	asm volatile(PRE insn sz " %" mod "[s], %" mod "[d]" POST	\
		     : [d] "+r"(d), [f] "+r"(f) : [s] "r"(s) : "cc")
#define HOST1(insn, sz, mod)						\
	asm volatile(PRE insn sz " %" mod "[d]" POST			\
		     : [d] "+r"(d), [f] "+r"(f) : : "cc")

#define HOST_FN(name, insn, HOST)					\
static u64 host_##name(int size, u64 dst, u64 src, u64 *flags)		\
{									\
	u64 d = dst, s = src, f = *flags;				\
									\
	(void)s;							\
	switch (size) {							\
	case 1:								\
		HOST(insn, "b", "b");					\
		break;							\
	case 2:								\
		HOST(insn, "w", "w");					\
		break;							\
	case 4:								\
		HOST(insn, "l", "k");					\
		break;							\
	default:							\
		HOST(insn, "q", "q");					\
		break;							\
	}								\
	*flags = f;							\
	return d;							\
}

HOST_FN(add, "add", HOST2)
HOST_FN(or, "or", HOST2)
HOST_FN(adc, "adc", HOST2)
HOST_FN(sbb, "sbb", HOST2)
HOST_FN(and, "and", HOST2)
HOST_FN(sub, "sub", HOST2)
HOST_FN(xor, "xor", HOST2)
HOST_FN(cmp, "cmp", HOST2)
HOST_FN(test, "test", HOST2)
HOST_FN(not, "not", HOST1)
HOST_FN(neg, "neg", HOST1)
HOST_FN(inc, "inc", HOST1)
HOST_FN(dec, "dec", HOST1)

typedef u64 (*host_fn)(int size, u64 dst, u64 src, u64 *flags);

static const struct {
	const char *name;
	host_fn host;
} ops[MKVM_ALU_NR_OPS] = {
	[MKVM_ALU_ADD] = { "add", host_add },
	[MKVM_ALU_OR] = { "or", host_or },
	[MKVM_ALU_ADC] = { "adc", host_adc },
	[MKVM_ALU_SBB] = { "sbb", host_sbb },
	[MKVM_ALU_AND] = { "and", host_and },
	[MKVM_ALU_SUB] = { "sub", host_sub },
	[MKVM_ALU_XOR] = { "xor", host_xor },
	[MKVM_ALU_CMP] = { "cmp", host_cmp },
	[MKVM_ALU_TEST] = { "test", host_test },
	[MKVM_ALU_NOT] = { "not", host_not },
	[MKVM_ALU_NEG] = { "neg", host_neg },
	[MKVM_ALU_INC] = { "inc", host_inc },
	[MKVM_ALU_DEC] = { "dec", host_dec },
};

static u64 mask_of(int size)
{
	return size == 8 ? ~0ULL : (1ULL << (8 * size)) - 1;
}

/* The comparison of one operation on one pair; false with a diagnostic. */
struct tally {
	unsigned long tried;
	bool failed;
	char first[200];
};

static void compare(int op, int size, u64 dst, u64 src, u64 flags_in,
		    struct tally *t)
{
	u64 mask = mask_of(size);
	u64 defined = mkvm_alu_defined_flags(op);
	/*
	 * Flags the op must leave alone: the status flags it does not write.
	 * AF after a logic op is written but undefined: it is in neither set.
	 */
	u64 undefined_af = (defined & MKVM_FLAG_ZF) && !(defined & MKVM_FLAG_AF) ?
			   MKVM_FLAG_AF : 0;
	u64 kept = MKVM_FLAGS_ARITH & ~defined & ~undefined_af;
	u64 hf = flags_in, cf = flags_in;
	u64 hr = ops[op].host(size, dst, src, &hf) & mask;
	u64 cr = mkvm_alu(op, size, dst, src, &cf);
	u64 check = defined | kept;
	bool ok = (hf & check) == (cf & check) &&
		  (!mkvm_alu_writes(op) || hr == cr);

	t->tried++;
	if (ok || t->failed)
		return;
	t->failed = true;
	snprintf(t->first, sizeof(t->first),
		 "dst %#llx src %#llx flags %#llx: cpu %#llx flags %#llx, alu %#llx flags %#llx",
		 (unsigned long long)dst, (unsigned long long)src,
		 (unsigned long long)flags_in, (unsigned long long)hr,
		 (unsigned long long)(hf & check), (unsigned long long)cr,
		 (unsigned long long)(cf & check));
}

/* The values where flags change: zero, one, the sign boundary, all ones. */
static int edge_values(int size, u64 *v)
{
	u64 mask = mask_of(size), sign = 1ULL << (8 * size - 1);
	int n = 0;

	v[n++] = 0;
	v[n++] = 1;
	v[n++] = 2;
	v[n++] = 0x0f;			/* AF: a carry out of bit 3 */
	v[n++] = 0x10;
	v[n++] = sign - 1;		/* largest positive */
	v[n++] = sign;			/* most negative */
	v[n++] = sign + 1;
	v[n++] = mask - 1;
	v[n++] = mask;			/* all ones, -1 */
	v[n++] = 0x5555555555555555ULL & mask;
	v[n++] = 0xaaaaaaaaaaaaaaaaULL & mask;
	return n;
}

/* xorshift64: a fixed, reproducible sequence. */
static u64 rng_state = 0x9e3779b97f4a7c15ULL;

static u64 rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Input RFLAGS: bit 1, and the status flags at random (never TF, DF, AC). */
static u64 random_flags(void)
{
	return 0x2 | (rng() & MKVM_FLAGS_ARITH);
}

#define RANDOM_PAIRS	20000

static void run_host(int op, int size)
{
	struct tally t = { 0 };
	u64 v[16];
	int n = edge_values(size, v), i, j, k;

	for (i = 0; i < n; i++)
		for (j = 0; j < n; j++)
			for (k = 0; k < 2; k++)
				compare(op, size, v[i], v[j],
					0x2 | (k ? MKVM_FLAGS_ARITH : 0), &t);
	for (i = 0; i < RANDOM_PAIRS; i++) {
		u64 a = rng(), b = rng();

		/* Small values too, where carries into bit 4 are common. */
		if (i & 1)
			b &= 0x1f;
		compare(op, size, a, b, random_flags(), &t);
	}
	if (!tap_ok(!t.failed, "cpu: %s%s on %lu value pairs", ops[op].name,
		    size == 1 ? "b" : size == 2 ? "w" : size == 4 ? "l" : "q",
		    t.tried))
		tap_diag("%s", t.first);
}

int main(void)
{
	static const int sizes[] = { 1, 2, 4, 8 };
	int op, s;

	run_table();
	for (op = 0; op < MKVM_ALU_NR_OPS; op++)
		for (s = 0; s < 4; s++)
			run_host(op, sizes[s]);
	return tap_done();
}
